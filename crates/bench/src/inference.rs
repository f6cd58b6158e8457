//! `bench inference`: the network alone, NetRunner forward passes (no server), per batch size.

use crate::net::NetSpec;
use crate::table;
use anyhow::{Result, bail};
use burn::tensor::backend::Backend;
use game::{ENCODING_LEN, NUM_ACTIONS};
use model::runner::NetRunner;
use model::server::BatchModel;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InferenceRow {
    pub net: String,
    pub device: String,
    pub batch: usize,
    pub positions_per_sec: f64,
    pub ms_per_batch: f64,
    /// `plain` (`model::plain`) or `burn`.
    pub forward: String,
}

/// Times forward passes of `batch` rows for at least `seconds` (and at least 3 passes) after
/// 2 untimed ones; through Burn even on the CPU when `burn_forward`.
pub fn run<B: Backend>(
    spec: &NetSpec,
    batch: usize,
    seconds: f64,
    burn_forward: bool,
    device: B::Device,
    device_name: &str,
) -> Result<InferenceRow> {
    if batch == 0 {
        bail!("--batch sizes must be at least 1");
    }
    let net = spec.build::<B>(&device)?;
    let mut runner = NetRunner::with_burn_forward(net, device, burn_forward);
    // Inputs in the encoding's range; every action legal (the mask costs the same either way).
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let inputs: Vec<f32> = (0..batch * ENCODING_LEN)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let masks = vec![1.0f32; batch * NUM_ACTIONS];
    let (mut policy, mut values) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        runner.forward(&inputs, &masks, batch, &mut policy, &mut values);
    }
    let budget = Duration::from_secs_f64(seconds.max(0.0));
    let t0 = Instant::now();
    let mut passes = 0u64;
    while passes < 3 || t0.elapsed() < budget {
        runner.forward(&inputs, &masks, batch, &mut policy, &mut values);
        passes += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok(InferenceRow {
        net: spec.name(),
        device: device_name.to_string(),
        batch,
        positions_per_sec: (passes as usize * batch) as f64 / secs,
        ms_per_batch: secs * 1000.0 / passes as f64,
        forward: runner.forward_name().to_string(),
    })
}

pub fn render(rows: &[InferenceRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.net.clone(),
                r.device.clone(),
                r.batch.to_string(),
                table::num(r.positions_per_sec),
                table::num(r.ms_per_batch),
                r.forward.clone(),
            ]
        })
        .collect();
    table::render(
        &[
            "net",
            "device",
            "batch",
            "positions/s",
            "ms/batch",
            "forward",
        ],
        &body,
    )
}
