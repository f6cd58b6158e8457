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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::Example;
    use game::{MAX_PLAYERS, NUM_ACTIONS};
    use model::backend::CpuAutodiff;
    use model::config::NetConfig;
    use model::net::BlobNet;

    #[test]
    fn a_stop_request_ends_training_before_the_next_step() {
        let cfg = crate::config::TrainConfig::from_toml(
            "[learner]\nbatch_size = 8\nmin_buffer = 8\n[net]\npreset = \"tiny\"",
        )
        .unwrap();
        let device = Default::default();
        let net = BlobNet::<CpuAutodiff>::new(&NetConfig::tiny(), &device).unwrap();
        let mut learner = Learner::new(net, cfg.learner.clone(), device);
        let mut buffer = ReplayBuffer::new(100);
        buffer.extend((0..64).map(|i| {
            let mut policy = [0.0; NUM_ACTIONS];
            policy[i % 52] = 1.0;
            Example::new(
                &[0.5; game::ENCODING_LEN],
                u64::MAX,
                policy,
                [0.1; MAX_PLAYERS],
            )
        }));
        let bar = ProgressBar::hidden();
        // Asked to stop: no step is taken and the stage says so.
        let stop = AtomicBool::new(true);
        let out = learn(&mut learner, &buffer, 64, &cfg, 0, &bar, &stop).unwrap();
        assert!(matches!(out, Outcome::Stopped));
        assert_eq!(learner.steps(), 0);
        // Not asked: it trains the capped number of steps.
        let go = AtomicBool::new(false);
        let Outcome::Done(learned) = learn(&mut learner, &buffer, 64, &cfg, 0, &bar, &go).unwrap()
        else {
            panic!("not stopped, yet it stopped");
        };
        assert_eq!(learned.losses.steps, cfg.learner.steps_for(64, 64) as u64);
        assert!(learned.losses.steps > 0);
    }
}
