//! `bench train`: learner steps on the CPU from a synthetic replay buffer of valid examples
//! (real 4-player 5-card positions, uniform policies over the legal actions, random values),
//! so the cost is the learner's alone: the plain-`f32` step where it covers the network,
//! Burn's `Autodiff<Flex>` otherwise or with `--burn-learner`.

use crate::net::NetSpec;
use crate::table;
use anyhow::{Result, bail};
use game::{Round, RoundConfig, TRUMP_ROTATION, encode, rng_from_seed};
use model::backend::{CpuAutodiff, CpuDevice};
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::time::{Duration, Instant};
use train::buffer::ReplayBuffer;
use train::example::Example;
use train::learner::{Learner, LearnerConfig};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainRow {
    pub net: String,
    /// The training step: `plain` or `burn`.
    pub learner: String,
    pub batch: usize,
    pub steps: u64,
    pub steps_per_sec: f64,
    pub examples_per_sec: f64,
}

/// A buffer of `n` examples from random play.
pub fn synthetic_buffer(n: usize, seed: u64) -> ReplayBuffer {
    let mut rng = rng_from_seed(seed);
    let mut buf = ReplayBuffer::new(n);
    while buf.len() < n {
        let cfg = RoundConfig::new(4, 5, TRUMP_ROTATION[buf.len() % 5], buf.len() as u64 % 4)
            .expect("4 players, 5 cards is a valid set-up");
        let mut round = Round::deal(cfg, &mut rng);
        while !round.is_over() && buf.len() < n {
            let obs = round.observation(round.to_act());
            let legal = round.legal_actions();
            let mut policy = [0.0f32; game::NUM_ACTIONS];
            for a in legal.iter() {
                policy[a] = 1.0 / legal.len() as f32;
            }
            let mut value = [0.0f32; game::MAX_PLAYERS];
            for v in value.iter_mut().take(4) {
                *v = rng.random_range(-1.0..1.0);
            }
            buf.push(Example::new(&encode(&obs), legal.bits(), policy, value));
            let a = legal
                .nth(rng.random_range(0..legal.len()))
                .expect("a legal action");
            round.apply_index(a).expect("a legal action applies");
        }
    }
    buf
}

/// Times learner steps of `batch` examples for at least `seconds` (at least 2 steps) after
/// one untimed step; through Burn's autodiff even where the plain step covers the network
/// when `burn_learner`.
pub fn run(
    spec: &NetSpec,
    batch: usize,
    seconds: f64,
    seed: u64,
    burn_learner: bool,
) -> Result<TrainRow> {
    if batch == 0 {
        bail!("--batch sizes must be at least 1");
    }
    let device = CpuDevice::default();
    let net = spec.build::<CpuAutodiff>(&device)?;
    let config = LearnerConfig {
        batch_size: batch,
        ..LearnerConfig::default()
    };
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("--batch {batch}: {e}"))?;
    let mut learner = Learner::with_burn_learner(net, config, device, burn_learner);
    let learner_name = learner.learner_name().to_string();
    let buffer = synthetic_buffer((4 * batch).max(4096), seed);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let lr = 1e-3;
    let mut step = |rng: &mut rand::rngs::StdRng| -> Result<()> {
        let b = buffer.sample(batch, rng);
        learner
            .step(&b, lr)
            .map_err(|d| anyhow::anyhow!("training diverged: {d:?}"))?;
        Ok(())
    };
    step(&mut rng)?;
    let budget = Duration::from_secs_f64(seconds.max(0.0));
    let t0 = Instant::now();
    let mut steps = 0u64;
    while steps < 2 || t0.elapsed() < budget {
        step(&mut rng)?;
        steps += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok(TrainRow {
        net: spec.name(),
        learner: learner_name,
        batch,
        steps,
        steps_per_sec: steps as f64 / secs,
        examples_per_sec: (steps as usize * batch) as f64 / secs,
    })
}

pub fn render(rows: &[TrainRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.net.clone(),
                r.learner.clone(),
                r.batch.to_string(),
                r.steps.to_string(),
                table::num(r.steps_per_sec),
                table::num(r.examples_per_sec),
            ]
        })
        .collect();
    table::render(
        &["net", "learner", "batch", "steps", "steps/s", "examples/s"],
        &body,
    )
}
