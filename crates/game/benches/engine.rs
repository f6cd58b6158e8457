//! Engine speed, single-threaded: random rounds, encodings, and legal_actions + apply.
//! Run with `cargo bench -p game --bench engine`; figures are in docs/performance.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use game::{GameRng, Observation, Round, RoundConfig, Suit, encode_into, rng_from_seed};
use rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

/// The peer's benchmark shape: 4 players, 5 cards (spades trump, seat 0 dealing).
fn config() -> RoundConfig {
    RoundConfig::new(4, 5, Some(Suit::Spades), 0).expect("a valid set-up")
}

/// One uniformly random legal action of the seat to act, applied.
#[inline]
fn random_step(r: &mut Round, rng: &mut GameRng) {
    let legal = r.legal_actions();
    let k = legal
        .nth(rng.random_range(0..legal.len()))
        .expect("a legal action");
    r.apply_index(k).expect("a legal action applies");
}

/// Deal + bid + play to the end, all uniformly at random.
fn random_rounds(c: &mut Criterion) {
    let mut g = c.benchmark_group("random_round_4p5c");
    g.throughput(Throughput::Elements(1));
    let mut rng = rng_from_seed(1);
    g.bench_function("deal_and_play", |b| {
        b.iter(|| {
            let mut r = Round::deal(config(), &mut rng);
            while !r.is_over() {
                random_step(&mut r, &mut rng);
            }
            black_box(r.scores())
        })
    });
    g.finish();
}

/// Observations of the seat to act at every decision of random 4-player, 5-card rounds.
fn sample_observations(n: usize) -> Vec<Observation> {
    let mut rng = rng_from_seed(2);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut r = Round::deal(config(), &mut rng);
        while !r.is_over() && out.len() < n {
            out.push(r.observation(r.to_act()));
            random_step(&mut r, &mut rng);
        }
    }
    out
}

fn encodings(c: &mut Criterion) {
    let obs = sample_observations(4096);
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(obs.len() as u64));
    let mut x = [0.0f32; game::ENCODING_LEN];
    g.bench_function("encode_into_4p5c", |b| {
        b.iter(|| {
            for o in &obs {
                encode_into(black_box(o), &mut x);
                black_box(&x);
            }
        })
    });
    g.finish();
}

/// legal_actions + apply_index per action, always taking the lowest legal action (no random
/// numbers, so this is the engine alone); each iteration replays the same pre-dealt rounds.
fn legal_and_apply(c: &mut Criterion) {
    let mut rng = rng_from_seed(3);
    let deals: Vec<Round> = (0..256).map(|_| Round::deal(config(), &mut rng)).collect();
    let actions_per_round = 4 + 4 * 5;
    let mut g = c.benchmark_group("legal_and_apply");
    g.throughput(Throughput::Elements(
        (deals.len() * actions_per_round) as u64,
    ));
    g.bench_function("lowest_action_4p5c", |b| {
        b.iter(|| {
            for deal in &deals {
                let mut r = *black_box(deal);
                while !r.is_over() {
                    let k = r.legal_actions().bits().trailing_zeros() as usize;
                    r.apply_index(k).expect("a legal action applies");
                }
                black_box(r.scores());
            }
        })
    });
    g.finish();
}

fn short() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = engine;
    config = short();
    targets = random_rounds, encodings, legal_and_apply
}
criterion_main!(engine);
