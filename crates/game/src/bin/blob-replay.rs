//! `blob-replay FILE`: replays a transcript (shared/TRANSCRIPTS.md) and writes one result line
//! per input line, in order, to stdout. `-` reads stdin.
//!
//! Illegal or malformed cases are results, not failures: the exit code is 0 once every line
//! was read. Only an unreadable input or an unwritable output gives exit code 1.

use clap::Parser;
use game::replay::{Replay, replay_line};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "blob-replay",
    about = "Replay Blob rounds and games from a JSON Lines transcript",
    long_about = "Replay Blob rounds and games from a JSON Lines transcript \
                  (shared/TRANSCRIPTS.md).\n\n\
                  Reads one JSON object per line (a round or a game) and writes one result \
                  object per line, in the same order, to stdout: {\"id\",\"ok\":true,...} for a \
                  case played to its end, {\"id\",\"ok\":false,\"error_at\",\"error\"} for an \
                  illegal action or a malformed set-up. The field \"expect\" is ignored.\n\n\
                  Exit code 0 once every line was processed (even if some cases are illegal); \
                  1 if the input cannot be read or the output cannot be written."
)]
struct Args {
    /// Transcript file to replay, or `-` for standard input.
    file: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let input: Box<dyn Read> = if args.file == "-" {
        Box::new(io::stdin().lock())
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("blob-replay: cannot open {}: {e}", args.file);
                return ExitCode::FAILURE;
            }
        }
    };
    match replay_all(BufReader::new(input), io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fault::Read(e)) => {
            eprintln!("blob-replay: cannot read {}: {e}", args.file);
            ExitCode::FAILURE
        }
        Err(Fault::Write(e)) => {
            eprintln!("blob-replay: cannot write the results: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An I/O error, on the side it happened.
enum Fault {
    Read(io::Error),
    Write(io::Error),
}

/// Replays every line of `input` into `output`. Lines are read as bytes so that a line that is
/// not UTF-8 is one failed result, not the end of the run.
fn replay_all(mut input: impl BufRead, output: impl Write) -> Result<(), Fault> {
    let mut out = BufWriter::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(Fault::Read)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let result = match std::str::from_utf8(text) {
            Ok(text) => replay_line(text),
            Err(e) => Replay::bad_line(format!("the line is not valid UTF-8: {e}")),
        };
        serde_json::to_writer(&mut out, &result).map_err(|e| Fault::Write(e.into()))?;
        out.write_all(b"\n").map_err(Fault::Write)?;
    }
    out.flush().map_err(Fault::Write)
}
