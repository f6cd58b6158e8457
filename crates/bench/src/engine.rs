//! `bench engine`: rules speed and search speed with the zero-cost evaluator, one thread.

use crate::table;
use game::{GameRng, Observation, Round, RoundConfig, TRUMP_ROTATION, encode_into, rng_from_seed};
use mcts::{SearchParams, UniformEvaluator, search_blocking};
use rand::RngExt;
use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineRow {
    pub name: String,
    pub per_sec: f64,
    pub unit: String,
}

fn config(i: usize) -> RoundConfig {
    RoundConfig::new(4, 5, TRUMP_ROTATION[i % 5], i as u64 % 4).expect("a valid set-up")
}

fn random_step(r: &mut Round, rng: &mut GameRng) {
    let legal = r.legal_actions();
    let k = legal
        .nth(rng.random_range(0..legal.len()))
        .expect("a legal action");
    r.apply_index(k).expect("a legal action applies");
}

/// Runs `f` (which returns how many units it did) until `budget` has passed.
fn timed(budget: Duration, mut f: impl FnMut() -> u64) -> f64 {
    let t0 = Instant::now();
    let mut n = 0;
    while n == 0 || t0.elapsed() < budget {
        n += f();
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

/// Decision points of random 4-player 5-card rounds with at least two legal actions.
fn positions(n: usize, rng: &mut GameRng) -> Vec<Observation> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut r = Round::deal(config(out.len()), rng);
        while !r.is_over() {
            if r.legal_actions().len() > 1 {
                out.push(r.observation(r.to_act()));
            }
            random_step(&mut r, rng);
        }
    }
    out.truncate(n);
    out
}

/// Each measurement runs for about `seconds`.
pub fn run(seconds: f64) -> Vec<EngineRow> {
    let budget = Duration::from_secs_f64(seconds.max(0.01));
    let mut rng = rng_from_seed(1);
    let mut rows = Vec::new();
    let mut i = 0;
    let rounds = timed(budget, || {
        let mut r = Round::deal(config(i), &mut rng);
        i += 1;
        while !r.is_over() {
            random_step(&mut r, &mut rng);
        }
        black_box(r.scores());
        1
    });
    rows.push(row("random_rounds_4p5c", rounds, "rounds/s"));

    let obs = positions(1024, &mut rng);
    let mut x = [0.0f32; game::ENCODING_LEN];
    let enc = timed(budget, || {
        for o in &obs {
            encode_into(black_box(o), &mut x);
            black_box(&x);
        }
        obs.len() as u64
    });
    rows.push(row("encode_4p5c", enc, "encodings/s"));

    let params = SearchParams::MEDIUM;
    let mut k = 0usize;
    let sims = timed(budget, || {
        k += 1;
        let o = &obs[k % obs.len()];
        let res = search_blocking(o, &params, &mut UniformEvaluator, k as u64)
            .expect("the observed seat is to act");
        res.simulations as u64
    });
    rows.push(row("search_medium_uniform_eval", sims, "simulations/s"));
    rows.push(row(
        "search_medium_uniform_eval",
        sims / params.total_simulations() as f64,
        "searches/s",
    ));
    rows
}

fn row(name: &str, per_sec: f64, unit: &str) -> EngineRow {
    EngineRow {
        name: name.to_string(),
        per_sec,
        unit: unit.to_string(),
    }
}

pub fn render(rows: &[EngineRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.name.clone(), table::num(r.per_sec), r.unit.clone()])
        .collect();
    table::render(&["what", "per second", "unit"], &body)
}
