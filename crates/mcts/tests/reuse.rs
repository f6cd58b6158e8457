//! Subtree reuse between two decisions of one seat.

mod common;

use common::{HashEvaluator, rng};
use game::{Round, RoundConfig, Suit};
use mcts::reuse::actions_between;
use mcts::worlds::is_consistent;
use mcts::{Search, SearchParams, reuse, run_to_end};
use rand::RngExt;

/// Plays random actions until `seat` is to act again (or the round ends).
fn advance_to_next_turn(round: &mut Round, seat: usize, r: &mut game::GameRng) -> Vec<usize> {
    let mut taken = Vec::new();
    loop {
        let legal = round.legal_actions();
        let a = legal.nth(r.random_range(0..legal.len())).unwrap();
        round.apply_index(a).unwrap();
        taken.push(a);
        if round.is_over() || round.to_act() == seat {
            return taken;
        }
    }
}

#[test]
fn reused_search_keeps_sound_worlds_and_tops_up() {
    // Bids rule out no deal, so every world survives the bidding and the subtree below the
    // other seats' bids is kept when the first search reached it.
    let params = SearchParams::new(4, 200);
    let mut kept_some = false;
    for seed in 0..20u64 {
        let mut r = rng(seed);
        let cfg = RoundConfig::new(3, 2, Some(Suit::Hearts), 2).unwrap();
        let mut round = Round::deal(cfg, &mut r);
        let seat = round.to_act();
        let first = Search::new(&round.observation(seat), &params, seed).unwrap();
        let mut first = first;
        // Run the first search to the end by hand so the trees stay in `first`.
        let mut answers = Vec::new();
        while let mcts::Step::NeedEval(reqs) = first.step(&answers) {
            mcts::Evaluator::evaluate(&mut HashEvaluator, reqs, &mut answers);
        }
        let taken = advance_to_next_turn(&mut round, seat, &mut r);
        let obs = round.observation(seat);
        if round.is_over() || obs.legal_actions().len() < 2 {
            continue;
        }
        assert_eq!(actions_between(first.observation(), &obs), Some(taken));
        let mut second = reuse(first, &obs, &params, seed).unwrap();
        let worlds: Vec<Round> = second.worlds().copied().collect();
        assert_eq!(worlds.len(), params.worlds);
        assert!(worlds.iter().all(|w| is_consistent(w, &obs)));
        kept_some |= second.world_visits().iter().any(|&v| v > 0);
        let res = {
            let mut answers = Vec::new();
            loop {
                match second.step(&answers) {
                    mcts::Step::Done(res) => break res,
                    mcts::Step::NeedEval(reqs) => {
                        mcts::Evaluator::evaluate(&mut HashEvaluator, reqs, &mut answers)
                    }
                }
            }
        };
        let total: u32 = res.visits.iter().sum();
        assert_eq!(total, res.simulations);
        assert!(res.simulations as usize >= params.total_simulations());
        assert!(obs.legal_actions().contains(res.best_action()));
    }
    assert!(kept_some, "no subtree was ever kept");
}

#[test]
fn reuse_without_continuation_is_a_fresh_search() {
    let params = SearchParams::LIGHT;
    let mut r = rng(3);
    let cfg = RoundConfig::new(4, 5, None, 0).unwrap();
    let a = Round::deal(cfg, &mut r);
    let b = Round::deal(cfg, &mut r);
    let seat = a.to_act();
    let mut first = Search::new(&a.observation(seat), &params, 1).unwrap();
    let _ = first.step(&[]);
    let obs_b = b.observation(seat);
    assert_eq!(actions_between(first.observation(), &obs_b), None);
    let reused = run_to_end(
        reuse(first, &obs_b, &params, 9).unwrap(),
        &mut HashEvaluator,
    );
    let fresh = run_to_end(Search::new(&obs_b, &params, 9).unwrap(), &mut HashEvaluator);
    assert_eq!(reused, fresh);
}
