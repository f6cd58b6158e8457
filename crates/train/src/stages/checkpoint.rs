//! Checkpoint stage: commit one generation (every file, checksummed, in one swap), then
//! publish the output folder's copies from it.

use crate::buffer::ReplayBuffer;
use crate::config::TrainConfig;
use crate::learner::Learner;
use crate::metrics::{self, IterationRecord};
use crate::state::{self, BEST, BUFFER, METRICS, OPTIMIZER, RunState, WEIGHTS};
use burn::tensor::backend::AutodiffBackend;
use model::checkpoint::{self, Metadata};
use std::path::Path;

use crate::training_range::{DEAL, SELFPLAY_MODE};

/// What a checkpoint of this run says about itself: its iteration, whether its network learnt
/// from single rounds or whole games (`net_agent` plays a game round by round with a network
/// that never saw a game's context), and the set-ups its self-play dealt (so that play outside
/// them can be flagged: `crate::training_range`).
pub fn metadata(iteration: u64, cfg: &TrainConfig) -> Metadata {
    Metadata {
        iteration,
        extra: serde_json::json!({ SELFPLAY_MODE: cfg.selfplay.mode, DEAL: cfg.deal }),
    }
}

/// Commits generation `st.completed`: the learner's weights and optimizer, the buffer, the
/// best network (`best`, checkpoint bytes) and every metrics record so far.
pub fn commit<B: AutodiffBackend>(
    out: &Path,
    cfg: &TrainConfig,
    st: &RunState,
    learner: &Learner<B>,
    buffer: &ReplayBuffer,
    best: &[u8],
    records: &[IterationRecord],
) -> anyhow::Result<()> {
    let weights = checkpoint::to_bytes(&learner.inference_net(), &metadata(st.completed, cfg))?;
    let optimizer = learner.optimizer_bytes().map_err(anyhow::Error::msg)?;
    let buffer = buffer.to_bytes();
    let metrics = metrics::to_jsonl(records);
    state::save(
        out,
        st,
        &[
            (WEIGHTS, &weights),
            (OPTIMIZER, &optimizer),
            (BUFFER, &buffer),
            (BEST, best),
            (METRICS, metrics.as_bytes()),
        ],
    )
}

/// Publishes the committed generation's `best.ckpt` and `metrics.jsonl` to the output folder
/// (atomically) and redraws the plots.
pub fn publish(out: &Path, best: &[u8], records: &[IterationRecord]) -> anyhow::Result<()> {
    model::files::write_atomic_io(&out.join(BEST), best)?;
    metrics::rewrite(&out.join(METRICS), records)?;
    if let Err(e) = metrics::plot(out, records) {
        eprintln!("warning: {e}");
    }
    Ok(())
}
