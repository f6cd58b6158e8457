//! Search speed with the zero-cost evaluator, and world sampling speed.
//! Run: `cargo bench -p mcts --bench search`. Figures are recorded in docs/performance.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use game::{Observation, Round, RoundConfig, TRUMP_ROTATION, rng_from_seed};
use mcts::worlds::{WorldSampler, sample_world};
use mcts::{SearchParams, UniformEvaluator, search_blocking};
use rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

/// Decision points of random 4-player 5-card rounds with at least two legal actions.
fn positions(n: usize) -> Vec<Observation> {
    positions_of(4, 5, n)
}

/// Decision points of random `players` x `cards` rounds with at least two legal actions.
fn positions_of(players: u64, cards: u64, n: usize) -> Vec<Observation> {
    let mut rng = rng_from_seed(7);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let cfg = RoundConfig::new(
            players,
            cards,
            TRUMP_ROTATION[out.len() % 5],
            out.len() as u64 % players,
        )
        .unwrap();
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
    // The exact sampler's dynamic programme only runs when some seat has shown a void: the
    // per-world cost of drawing from a prepared sampler there, as a search draws its worlds.
    for (players, cards) in [(4, 5), (4, 13)] {
        let samplers: Vec<WorldSampler> = positions_of(players, cards, 1024)
            .iter()
            .filter(|o| (0..o.public.players()).any(|s| s != o.seat() && o.public.voids(s) != 0))
            .take(256)
            .map(WorldSampler::new)
            .collect();
        let mut i = 0;
        group.bench_function(format!("sampler_sample_{players}p{cards}c_voids"), |b| {
            b.iter(|| {
                i = (i + 1) % samplers.len();
                black_box(samplers[i].sample(&mut rng))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, search_speed, world_sampling);
criterion_main!(benches);
