//! Learn stage: the learner trains on the replay buffer under the samples-per-new cap.

use super::Outcome;
use crate::buffer::ReplayBuffer;
use crate::config::TrainConfig;
use crate::learner::{Learner, Losses};
use burn::tensor::backend::AutodiffBackend;
use game::rng_from_seed;
use game::seeds::{self, phases};
use indicatif::ProgressBar;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// One iteration's training.
pub struct Learned {
    pub losses: Losses,
    pub lr: f64,
    pub seconds: f64,
}

/// Trains after `new_examples` new examples at iteration `iteration`; a stop request ends it
/// before the next step. A diverged loss is an error (the last checkpoint stays).
pub fn learn<B: AutodiffBackend>(
    learner: &mut Learner<B>,
    buffer: &ReplayBuffer,
    new_examples: usize,
    cfg: &TrainConfig,
    iteration: u64,
    bar: &ProgressBar,
    stop: &AtomicBool,
) -> anyhow::Result<Outcome<Learned>> {
    let t0 = Instant::now();
    let steps = cfg.learner.steps_for(new_examples, buffer.len());
    let lr = cfg.learner.lr_at(iteration, cfg.iterations);
    bar.set_length(steps as u64);
    let mut rng = rng_from_seed(seeds::phase(cfg.seed, iteration, phases::TRAIN));
    let trained = learner.train(buffer, steps, lr, &mut rng, || {
        bar.inc(1);
        !stop.load(Ordering::SeqCst)
    });
    bar.finish_and_clear();
    Ok(match trained? {
        Some(losses) => Outcome::Done(Learned {
            losses,
            lr,
            seconds: t0.elapsed().as_secs_f64(),
        }),
        None => Outcome::Stopped,
    })
}
