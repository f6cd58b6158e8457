//! Forward throughput of BlobNet on the CPU, as the inference server runs it
//! (`NetRunner::forward`: `forward/*` the plain-f32 copy, `model::plain`; `forward-burn/*`
//! Burn's Flex backend, tensors built from row slices, results copied out), and the plain
//! f32 matmul rate of Flex as the arithmetic reference.
//!
//! `cargo bench -p model --bench inference`; criterion's `thrpt` is positions/s (or FLOP/s
//! for `matmul`). `BENCH_NETS=small,peer,256x3x512` picks the networks (`WxBxH` = width x
//! blocks x hidden, `-gelu` appended for GELU); `BENCH_BATCHES=1,128` the batch sizes.

use std::time::Duration;

use burn::tensor::{Distribution, Tensor};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use model::backend::{Cpu, CpuDevice};
use model::server::BatchModel;
use model::{BlobNet, NetConfig, NetRunner};
use rand::RngExt;

const BATCHES: [usize; 6] = [1, 8, 32, 128, 512, 1024];

fn parse_net(spec: &str) -> NetConfig {
    if let Ok(c) = NetConfig::preset(spec) {
        return c;
    }
    let (dims, gelu) = match spec.strip_suffix("-gelu") {
        Some(d) => (d, true),
        None => (spec, false),
    };
    let dims: Vec<usize> = dims.split('x').map(|d| d.parse().unwrap_or(0)).collect();
    let mut config = match dims[..] {
        [w, b, h] => NetConfig::mlp(w, b, h),
        _ => panic!("BENCH_NETS: `{spec}` is neither a preset nor WIDTHxBLOCKSxHIDDEN[-gelu]"),
    };
    if gelu {
        config.activation = model::Activation::Gelu;
    }
    config
}

fn list<T>(var: &str, default: Vec<T>, parse: impl Fn(&str) -> T) -> Vec<T> {
    match std::env::var(var) {
        Ok(s) if !s.trim().is_empty() => s.split(',').map(|x| parse(x.trim())).collect(),
        _ => default,
    }
}

fn forward(c: &mut Criterion) {
    let nets = list(
        "BENCH_NETS",
        vec!["small".to_string(), "peer".to_string()],
        str::to_string,
    );
    let batches = list("BENCH_BATCHES", BATCHES.to_vec(), |s| {
        s.parse()
            .expect("BENCH_BATCHES: a comma-separated list of batch sizes")
    });
    let device = CpuDevice::default();
    let mut rng = game::rng_from_seed(1);
    for name in nets {
        let config = parse_net(&name);
        let net = BlobNet::<Cpu>::new(&config, &device).expect("a valid bench config");
        // The server's path (the plain-f32 copy on the CPU) and Burn's forward pass.
        for (path, mut runner) in [
            ("forward", NetRunner::new(net.clone(), device)),
            ("forward-burn", NetRunner::burn_only(net, device)),
        ] {
            let mut group = c.benchmark_group(format!("{path}/{name}"));
            // Flat sampling and short windows keep the whole run to a few minutes, even for
            // the peer network at batch 1024 (about 0.1 s per pass).
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
            for &n in &batches {
                let inputs: Vec<f32> = (0..n * ENCODING_LEN)
                    .map(|_| rng.random_range(-1.0f32..=1.0))
                    .collect();
                let masks: Vec<f32> = (0..n * NUM_ACTIONS)
                    .map(|_| f32::from(rng.random_bool(0.5)))
                    .collect();
                let mut policy = Vec::with_capacity(n * NUM_ACTIONS);
                let mut values = Vec::with_capacity(n * MAX_PLAYERS);
                group.throughput(Throughput::Elements(n as u64));
                group.bench_function(BenchmarkId::from_parameter(n), |b| {
                    b.iter(|| {
                        runner.forward(&inputs, &masks, n, &mut policy, &mut values);
                        std::hint::black_box(&policy);
                    })
                });
            }
            group.finish();
        }
    }
}

fn matmul(c: &mut Criterion) {
    let device = CpuDevice::default();
    let mut group = c.benchmark_group("matmul");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [1024usize, 2048] {
        let a = Tensor::<Cpu, 2>::random([n, n], Distribution::Default, &device);
        let b = Tensor::<Cpu, 2>::random([n, n], Distribution::Default, &device);
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| a.clone().matmul(b.clone()).into_data())
        });
    }
    group.finish();
}

criterion_group!(benches, forward, matmul);
criterion_main!(benches);
