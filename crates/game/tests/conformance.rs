//! The conformance cases of `shared/conformance` (copied to `tests/data/conformance`): every
//! replay result must agree with the case's `expect`, through the library and the binary.

mod replay_common;

use game::replay::replay_line;
use replay_common::{GAMES, ROUNDS, check, key_order, lines, path_of};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// Replays every line of a file through the library; reports every mismatching case.
fn conforms(file: &str) {
    let cases = lines(file);
    assert!(!cases.is_empty(), "no conformance cases");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|line| check(line, &replay_line(line).to_value()).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn rounds_conform() {
    conforms(ROUNDS);
}

#[test]
fn games_conform() {
    conforms(GAMES);
}

/// Checks the binary's output for `file`: one line per case, in order, keys `id, ok, ...`.
fn check_output(file: &str, stdout: &[u8]) {
    let text = std::str::from_utf8(stdout).expect("output is UTF-8");
    let cases = lines(file);
    let out: Vec<&str> = text.lines().collect();
    assert_eq!(out.len(), cases.len(), "one result line per input line");
    let mut failures = Vec::new();
    for (case, line) in cases.iter().zip(&out) {
        let keys = key_order(line);
        if keys.len() < 2 || keys[0] != "id" || keys[1] != "ok" {
            failures.push(format!("keys not in order id, ok, ...: {line}"));
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(result) => failures.extend(check(case, &result).err()),
            Err(e) => failures.push(format!("output line is not JSON ({e}): {line}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn binary_replays_a_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_blob-replay"))
        .arg(path_of("games.jsonl"))
        .output()
        .expect("run blob-replay");
    assert!(out.status.success(), "exit status {:?}", out.status);
    check_output(GAMES, &out.stdout);
}

#[test]
fn binary_replays_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blob-replay"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run blob-replay");
    // Write from a thread: the child may fill its stdout pipe before reading all its input.
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(ROUNDS.as_bytes()));
    let out = child.wait_with_output().expect("wait for blob-replay");
    writer.join().expect("writer thread").expect("write stdin");
    assert!(out.status.success(), "exit status {:?}", out.status);
    check_output(ROUNDS, &out.stdout);
}
