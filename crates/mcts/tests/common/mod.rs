//! Shared helpers of the search tests: random positions and a content-keyed evaluator.
#![allow(dead_code)]

use game::Observation;
use game::{GameRng, Round, RoundConfig, TRUMP_ROTATION, rng_from_seed};
use mcts::{
    EvalRequest, Evaluation, Evaluator, Search, SearchParams, SearchResult, Step, search_blocking,
};
use rand::RngExt;

/// A random round of `players` x `cards`, played randomly for a random number of actions,
/// stopped at a decision (never over).
pub fn random_position(players: u64, cards: u64, rng: &mut GameRng) -> Round {
    let trump = TRUMP_ROTATION[rng.random_range(0..5)];
    let dealer = rng.random_range(0..players);
    let cfg = RoundConfig::new(players, cards, trump, dealer).unwrap();
    let mut round = Round::deal(cfg, rng);
    let total = (players * cards + players) as usize;
    let steps = rng.random_range(0..total);
    for _ in 0..steps {
        let legal = round.legal_actions();
        let k = legal.nth(rng.random_range(0..legal.len())).unwrap();
        round.apply_index(k).unwrap();
        if round.is_over() {
            break;
        }
    }
    if round.is_over() {
        // Start again from a fresh deal at its first decision.
        return Round::deal(cfg, rng);
    }
    round
}

/// Plays uniformly random legal actions until the round ends.
pub fn play_out(mut round: Round, rng: &mut GameRng) -> Round {
    while !round.is_over() {
        let legal = round.legal_actions();
        let k = legal.nth(rng.random_range(0..legal.len())).unwrap();
        round.apply_index(k).unwrap();
    }
    round
}

pub fn rng(seed: u64) -> GameRng {
    rng_from_seed(seed)
}

/// Logits and values derived from the request's encoding only: the same position gets the same
/// answer whatever the batch it arrives in, so results do not depend on call order.
pub struct HashEvaluator;

impl Evaluator for HashEvaluator {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        out.clear();
        for r in requests {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for x in r.encoding {
                h = (h ^ x.to_bits() as u64).wrapping_mul(0x100_0000_01b3);
            }
            let mut e = Evaluation::NEUTRAL;
            for (i, l) in e.logits.iter_mut().enumerate() {
                let v = h.rotate_left(i as u32) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                *l = (v % 1000) as f32 / 250.0 - 2.0;
            }
            for (i, v) in e.values.iter_mut().enumerate() {
                *v = ((h >> (8 * i)) & 0xff) as f32 / 127.5 - 1.0;
            }
            out.push(e);
        }
    }
}

/// Each position searched on its own (`search_blocking`) and all of them driven together on
/// one thread, every round trip sending all open requests to `HashEvaluator` in one call:
/// (the blocking results, the joint results, the joint evaluator calls).
pub fn blocking_and_joint(
    positions: &[Observation],
    params: &SearchParams,
) -> (Vec<SearchResult>, Vec<SearchResult>, usize) {
    let blocking: Vec<_> = positions
        .iter()
        .enumerate()
        .map(|(i, o)| search_blocking(o, params, &mut HashEvaluator, i as u64).unwrap())
        .collect();
    let mut searches: Vec<Search> = positions
        .iter()
        .enumerate()
        .map(|(i, o)| Search::new(o, params, i as u64).unwrap())
        .collect();
    let mut answers: Vec<Vec<Evaluation>> = vec![Vec::new(); searches.len()];
    let mut results = vec![None; searches.len()];
    let mut calls = 0;
    while results.iter().any(Option::is_none) {
        let mut batch = Vec::new();
        let mut owners = Vec::new();
        for (i, s) in searches.iter_mut().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match s.step(&answers[i]) {
                Step::Done(res) => results[i] = Some(res),
                Step::NeedEval(reqs) => {
                    owners.push((i, reqs.len()));
                    batch.extend_from_slice(reqs);
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        calls += 1;
        let mut out = Vec::new();
        HashEvaluator.evaluate(&batch, &mut out);
        let mut at = 0;
        for (i, n) in owners {
            answers[i] = out[at..at + n].to_vec();
            at += n;
        }
    }
    let joint = results.into_iter().map(Option::unwrap).collect();
    (blocking, joint, calls)
}
