//! The run's resumable state on disk. `checkpoint/` holds one generation, all from the same
//! finished iteration: the latest network, the optimizer, the replay buffer, the best network
//! so far, every iteration's metrics line, and `state.json`, which names the generation (the
//! iterations finished) and carries each other file's length and checksum.
//!
//! A new generation is written whole into `checkpoint.tmp/`, then swapped in with two
//! renames (`checkpoint/` -> `checkpoint.old/`, `checkpoint.tmp/` -> `checkpoint/`). A crash
//! at any point leaves either the new or the previous complete generation, which `locate`
//! finds: nothing already written is lost or half-written. `best.ckpt` and `metrics.jsonl` in
//! the output folder are copies published from the committed generation (and published again
//! on resume), so they can never run ahead of it.

use model::files::{checksum, write_atomic_io};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const WEIGHTS: &str = "weights.ckpt";
pub const OPTIMIZER: &str = "optimizer.bin";
pub const BUFFER: &str = "buffer.bin";
pub const BEST: &str = "best.ckpt";
pub const METRICS: &str = "metrics.jsonl";
pub const STATE: &str = "state.json";

/// What the loop needs besides the files of the generation to continue exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Iterations finished (the generation); the next one to run has this index.
    pub completed: u64,
    /// The iteration whose network is the best so far (0 = the initial network).
    pub best_iteration: u64,
    pub learner_steps: u64,
    pub elapsed_seconds: f64,
    /// The config the run was started with, as TOML (a resume must be compatible with it).
    pub config: String,
    /// Each other file of the generation: its length and checksum (empty in checkpoints
    /// written before checksums, which are then read unchecked).
    #[serde(default)]
    pub files: BTreeMap<String, FileSum>,
    /// A learner fed from a broker (`train learner`): where in the stream this generation
    /// stands. Absent for single-machine runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamState>,
}

/// A learner's position in the broker's example stream, committed with each generation: a
/// restart consumes from `next_seq` again, so every message is counted in exactly one
/// committed generation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamState {
    /// The first stream sequence this run consumes (the stream's end when the run began).
    pub first_seq: u64,
    /// The next stream sequence to consume: every message before it is in this generation.
    pub next_seq: u64,
    /// Messages consumed (each one a batch, or part of one, from an actor).
    pub messages: u64,
    /// Examples put in the replay buffer.
    pub accepted: u64,
    /// Examples dropped because their generation was too old (`--max-lag`).
    pub stale: u64,
    /// Examples refused: another run's config, a future generation, or a damaged message.
    pub refused: u64,
    /// Rounds (or games) in the messages consumed, plus `units_base`: what actors compare
    /// with the units they published (the `published` key) to hold back when far ahead.
    #[serde(default)]
    pub units: u64,
}

/// A file's length and FNV-1a 64 checksum (as hex: JSON numbers lose bits above 2^53).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub fnv1a64: String,
}

impl FileSum {
    pub fn of(bytes: &[u8]) -> FileSum {
        FileSum {
            bytes: bytes.len() as u64,
            fnv1a64: format!("{:016x}", checksum(bytes)),
        }
    }
}

/// The folder of the latest complete generation, if any.
pub fn locate(out: &Path) -> Option<PathBuf> {
    ["checkpoint", "checkpoint.old"]
        .into_iter()
        .map(|n| out.join(n))
        .find(|d| d.join(STATE).is_file())
}

/// Commits a generation: writes `files` (name, bytes) and then `state.json` with their sums
/// into the staging folder, then swaps it in.
pub fn save(out: &Path, state: &RunState, files: &[(&str, &[u8])]) -> anyhow::Result<()> {
    let staging = out.join("checkpoint.tmp");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let mut state = state.clone();
    state.files.clear();
    for (name, bytes) in files {
        write_atomic_io(&staging.join(name), bytes)?;
        state.files.insert(name.to_string(), FileSum::of(bytes));
    }
    let text = serde_json::to_string_pretty(&state)?;
    write_atomic_io(&staging.join(STATE), text.as_bytes())?;
    let current = out.join("checkpoint");
    let old = out.join("checkpoint.old");
    if current.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(&current, &old)?;
    }
    std::fs::rename(&staging, &current)?;
    model::files::sync_dir(Some(out));
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

pub fn load_state(checkpoint: &Path) -> anyhow::Result<RunState> {
    let path = checkpoint.join(STATE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))
}

/// Reads one file of the generation, checking it against the sum in `state.json`. `None`
/// when the file is absent and `state.json` does not list it (an older checkpoint).
pub fn read_file(
    checkpoint: &Path,
    state: &RunState,
    name: &str,
) -> anyhow::Result<Option<Vec<u8>>> {
    let path = checkpoint.join(name);
    let sum = state.files.get(name);
    if sum.is_none() && !path.exists() {
        return Ok(None);
    }
    let bytes =
        std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if let Some(sum) = sum
        && FileSum::of(&bytes) != *sum
    {
        anyhow::bail!(
            "{} is damaged: {} bytes with checksum {}, where state.json recorded {} bytes with {}",
            path.display(),
            bytes.len(),
            FileSum::of(&bytes).fnv1a64,
            sum.bytes,
            sum.fnv1a64
        );
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(completed: u64) -> RunState {
        RunState {
            completed,
            best_iteration: 0,
            learner_steps: 0,
            elapsed_seconds: 0.0,
            config: String::new(),
            files: BTreeMap::new(),
            stream: None,
        }
    }

    fn fresh(name: &str) -> PathBuf {
        let out = std::env::temp_dir().join(format!("blob-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        out
    }

    #[test]
    fn a_failed_save_keeps_the_previous_checkpoint() {
        let out = fresh("failed");
        assert!(locate(&out).is_none());
        save(&out, &state(1), &[("x", b"1")]).unwrap();
        // A file name that cannot be written fails the save half-way.
        let err = save(&out, &state(2), &[("x", b"2"), ("no/such/dir", b"")]);
        assert!(err.is_err());
        let found = locate(&out).unwrap();
        let st = load_state(&found).unwrap();
        assert_eq!(st.completed, 1);
        assert_eq!(read_file(&found, &st, "x").unwrap().unwrap(), b"1");
        save(&out, &state(3), &[]).unwrap();
        assert_eq!(load_state(&locate(&out).unwrap()).unwrap().completed, 3);
        assert!(!out.join("checkpoint.old").exists());
        // A crash between the two renames leaves only the old folder: it is found.
        std::fs::rename(out.join("checkpoint"), out.join("checkpoint.old")).unwrap();
        assert_eq!(load_state(&locate(&out).unwrap()).unwrap().completed, 3);
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn every_file_is_checked_against_its_sum() {
        let out = fresh("sums");
        save(&out, &state(1), &[("a.bin", b"hello"), ("b.bin", b"world")]).unwrap();
        let dir = locate(&out).unwrap();
        let st = load_state(&dir).unwrap();
        assert_eq!(st.files.len(), 2);
        assert_eq!(read_file(&dir, &st, "a.bin").unwrap().unwrap(), b"hello");
        // One flipped byte, same length: caught, and the file is named.
        std::fs::write(dir.join("b.bin"), b"worle").unwrap();
        let err = read_file(&dir, &st, "b.bin").unwrap_err().to_string();
        assert!(err.contains("b.bin") && err.contains("damaged"), "{err}");
        // A listed file that is missing is an error; an unlisted absent one is just absent.
        std::fs::remove_file(dir.join("a.bin")).unwrap();
        assert!(read_file(&dir, &st, "a.bin").is_err());
        assert!(read_file(&dir, &st, "c.bin").unwrap().is_none());
        std::fs::remove_dir_all(&out).unwrap();
    }
}
