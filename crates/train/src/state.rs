//! The run's resumable state on disk: `checkpoint/` holds the latest network, optimizer,
//! replay buffer and `state.json`, all from the same finished iteration.
//!
//! A new checkpoint is written whole into `checkpoint.tmp/`, then swapped in with two
//! renames (`checkpoint/` -> `checkpoint.old/`, `checkpoint.tmp/` -> `checkpoint/`). A crash
//! at any point leaves either the new or the previous complete checkpoint, which `locate`
//! finds: nothing already written is lost or half-written.

use crate::buffer::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const WEIGHTS: &str = "weights.ckpt";
pub const OPTIMIZER: &str = "optimizer.bin";
pub const BUFFER: &str = "buffer.bin";
pub const STATE: &str = "state.json";

/// What the loop needs besides the weights, optimizer and buffer to continue exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Iterations finished; the next one to run has this index.
    pub completed: u64,
    /// The iteration whose network is the best so far (0 = the initial network).
    pub best_iteration: u64,
    pub learner_steps: u64,
    pub elapsed_seconds: f64,
    /// The config the run was started with, as TOML (a resume must match it).
    pub config: String,
}

fn dir(out: &Path, name: &str) -> PathBuf {
    out.join(name)
}

/// The folder of the latest complete checkpoint, if any.
pub fn locate(out: &Path) -> Option<PathBuf> {
    ["checkpoint", "checkpoint.old"]
        .into_iter()
        .map(|n| dir(out, n))
        .find(|d| d.join(STATE).is_file())
}

/// Writes a checkpoint: `write_files` fills the staging folder; then the swap.
pub fn save(
    out: &Path,
    state: &RunState,
    write_files: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let staging = dir(out, "checkpoint.tmp");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    write_files(&staging)?;
    let text = serde_json::to_string_pretty(state)?;
    write_atomic(&staging.join(STATE), text.as_bytes())?;
    let current = dir(out, "checkpoint");
    let old = dir(out, "checkpoint.old");
    if current.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(&current, &old)?;
    }
    std::fs::rename(&staging, &current)?;
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
        }
    }

    #[test]
    fn a_failed_save_keeps_the_previous_checkpoint() {
        let out = std::env::temp_dir().join(format!("blob-state-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        assert!(locate(&out).is_none());
        save(&out, &state(1), |d| Ok(std::fs::write(d.join("x"), b"1")?)).unwrap();
        let err = save(&out, &state(2), |_| anyhow::bail!("disk full"));
        assert!(err.is_err());
        let found = locate(&out).unwrap();
        assert_eq!(load_state(&found).unwrap().completed, 1);
        assert_eq!(std::fs::read(found.join("x")).unwrap(), b"1");
        save(&out, &state(3), |_| Ok(())).unwrap();
        assert_eq!(load_state(&locate(&out).unwrap()).unwrap().completed, 3);
        assert!(!out.join("checkpoint.old").exists());
        // A crash between the two renames leaves only the old folder: it is found.
        std::fs::rename(out.join("checkpoint"), out.join("checkpoint.old")).unwrap();
        assert_eq!(load_state(&locate(&out).unwrap()).unwrap().completed, 3);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
