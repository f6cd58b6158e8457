//! What the run tests share: a tiny run's config and a way to compare weights.

#![allow(dead_code)] // each test file uses its part

use std::path::Path;

/// A tiny run: tiny network, tiny search, two iterations with an arena at the second (the
/// last, so of `final_rounds` deals).
pub const TINY_TOML: &str = r#"
iterations = 2
threads = 2
[selfplay]
per_iteration = 8
in_flight = 4
preset = "2x6"
parallel_batch_size = 2
[deal]
players = [3, 4]
cards_min = 1
cards_max = 3
[net]
preset = "tiny"
[learner]
batch_size = 16
min_buffer = 16
[buffer]
capacity = 500
[arena]
every = 2
rounds = 3
final_rounds = 4
players = 3
cards = 2
preset = "1x4"
opponents = ["random"]
"#;

/// The network's outputs on fixed inputs: equal outputs, equal weights for our purposes.
pub fn outputs(path: &Path) -> Vec<f32> {
    use burn::tensor::{Tensor, TensorData};
    use model::backend::Cpu;
    let device = Default::default();
    let (net, _) = model::checkpoint::load_any::<Cpu>(path, &device).unwrap();
    let n = 8;
    let inputs: Vec<f32> = (0..n * 256)
        .map(|i| ((i * 37 % 101) as f32 / 101.0) - 0.5)
        .collect();
    let x = Tensor::<Cpu, 2>::from_data(TensorData::new(inputs, [n, 256]), &device);
    let m = Tensor::<Cpu, 2>::from_data(TensorData::new(vec![1.0f32; n * 52], [n, 52]), &device);
    let out = net.forward(x, m);
    let mut v = out.log_policy.into_data().to_vec::<f32>().unwrap();
    v.extend(out.values.into_data().to_vec::<f32>().unwrap());
    v
}
