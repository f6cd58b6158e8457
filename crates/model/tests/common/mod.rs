//! Helpers shared by the model tests: random rows, direct forward passes, scratch dirs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use burn::tensor::{Tensor, TensorData};
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use model::backend::{Cpu, CpuDevice};
use model::{BlobNet, NetConfig};
use rand::RngExt;

pub type B = Cpu;

pub fn device() -> CpuDevice {
    CpuDevice::default()
}

pub fn net(config: &NetConfig) -> BlobNet<B> {
    BlobNet::new(config, &device()).unwrap()
}

/// `n` rows: inputs in [-1, 1], masks with each action legal with probability 0.3 and at
/// least one legal action.
pub fn random_rows(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = game::rng_from_seed(seed);
    let inputs = (0..n * ENCODING_LEN)
        .map(|_| rng.random_range(-1.0f32..=1.0))
        .collect();
    let mut masks = vec![0.0f32; n * NUM_ACTIONS];
    for row in masks.chunks_mut(NUM_ACTIONS) {
        for m in row.iter_mut() {
            *m = if rng.random_bool(0.3) { 1.0 } else { 0.0 };
        }
        row[rng.random_range(0..NUM_ACTIONS)] = 1.0;
    }
    (inputs, masks)
}

/// A direct forward pass: (logits, log_policy, values) as flat vectors.
pub fn forward(net: &BlobNet<B>, inputs: &[f32], masks: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = inputs.len() / ENCODING_LEN;
    let d = device();
    let x = Tensor::<B, 2>::from_data(TensorData::new(inputs.to_vec(), [n, ENCODING_LEN]), &d);
    let m = Tensor::<B, 2>::from_data(TensorData::new(masks.to_vec(), [n, NUM_ACTIONS]), &d);
    let out = net.forward(x, m);
    assert_eq!(out.logits.dims(), [n, NUM_ACTIONS]);
    assert_eq!(out.log_policy.dims(), [n, NUM_ACTIONS]);
    assert_eq!(out.values.dims(), [n, MAX_PLAYERS]);
    let flat = |t: Tensor<B, 2>| t.into_data().to_vec::<f32>().unwrap();
    (flat(out.logits), flat(out.log_policy), flat(out.values))
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A fresh, empty directory under the system temp dir; removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("model-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
