//! Search speed with the zero-cost evaluator, and world sampling speed.
//! Run: `cargo bench -p mcts --bench search`. Figures are recorded in docs/performance.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use game::{Observation, Round, RoundConfig, TRUMP_ROTATION, rng_from_seed};
use mcts::worlds::sample_world;
use mcts::{SearchParams, UniformEvaluator, search_blocking};
use rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

/// Decision points of random 4-player 5-card rounds with at least two legal actions.
fn positions(n: usize) -> Vec<Observation> {
    let mut rng = rng_from_seed(7);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let cfg =
            RoundConfig::new(4, 5, TRUMP_ROTATION[out.len() % 5], out.len() as u64 % 4).unwrap();
        let mut round = Round::deal(cfg, &mut rng);
        while !round.is_over() {
            let legal = round.legal_actions();
            if legal.len() > 1 {
                out.push(round.observation(round.to_act()));
            }
            round
                .apply_index(legal.nth(rng.random_range(0..legal.len())).unwrap())
                .unwrap();
        }
    }
    out.truncate(n);
    out
}

fn search_speed(c: &mut Criterion) {
    let obs = positions(256);
    let mut group = c.benchmark_group("search");
    group.measurement_time(Duration::from_secs(5));
    for batch in [1, 8] {
        let params = SearchParams::MEDIUM.with_batch(batch);
        group.throughput(Throughput::Elements(params.total_simulations() as u64));
        let mut i = 0;
        group.bench_function(format!("medium_4p5c_zero_eval_batch{batch}"), |b| {
            b.iter(|| {
                i = (i + 1) % obs.len();
                black_box(
                    search_blocking(&obs[i], &params, &mut UniformEvaluator, i as u64).unwrap(),
                )
            })
        });
    }
    group.finish();
}

fn world_sampling(c: &mut Criterion) {
    let obs = positions(256);
    let mut rng = rng_from_seed(3);
    let mut group = c.benchmark_group("worlds");
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("sample_world_4p5c", |b| {
        b.iter(|| {
            i = (i + 1) % obs.len();
            black_box(sample_world(&obs[i], &mut rng))
        })
    });
    group.finish();
}

criterion_group!(benches, search_speed, world_sampling);
criterion_main!(benches);
