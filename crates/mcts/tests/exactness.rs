//! The search against an exact solver on small perfect-information rounds, and batched
//! against unbatched search.

mod common;

use common::{random_position, rng};
use game::{MAX_PLAYERS, Round, RoundConfig, TRUMP_ROTATION};
use mcts::value::terminal_values;
use mcts::{RolloutEvaluator, Search, SearchKind, SearchParams, run_to_end};
use rand::RngExt;

const TIE: f32 = 1e-5;

/// Exact per-seat values by backward induction (each mover maximises its own value). Ties
/// between a mover's best actions are broken for (`favour` = true) or against the root seat,
/// so a position is only called clear when both ways agree.
fn solve(r: &Round, root_seat: usize, favour: bool) -> [f32; MAX_PLAYERS] {
    if let Some(v) = terminal_values(r.public()) {
        return v;
    }
    let m = r.to_act();
    let mut best: Option<[f32; MAX_PLAYERS]> = None;
    for a in r.legal_actions().iter() {
        let mut child = *r;
        child.apply_index(a).unwrap();
        let v = solve(&child, root_seat, favour);
        let better = match best {
            None => true,
            Some(b) if v[m] > b[m] + TIE => true,
            Some(b) if (v[m] - b[m]).abs() <= TIE => {
                if favour {
                    v[root_seat] > b[root_seat]
                } else {
                    v[root_seat] < b[root_seat]
                }
            }
            _ => false,
        };
        if better {
            best = Some(v);
        }
    }
    best.expect("a round in progress has legal actions")
}

/// The solver's best action at the root and its margin over the next best, if both
/// tie-breaking rules agree on it.
fn clear_best(r: &Round) -> Option<(usize, f32)> {
    let m = r.to_act();
    let mut picks = Vec::new();
    for favour in [true, false] {
        let mut vals: Vec<(usize, f32)> = r
            .legal_actions()
            .iter()
            .map(|a| {
                let mut c = *r;
                c.apply_index(a).unwrap();
                (a, solve(&c, m, favour)[m])
            })
            .collect();
        vals.sort_by(|x, y| y.1.total_cmp(&x.1));
        if vals.len() < 2 {
            return None;
        }
        picks.push((vals[0].0, vals[0].1 - vals[1].1));
    }
    (picks[0].0 == picks[1].0).then(|| (picks[0].0, picks[0].1.min(picks[1].1)))
}

/// A perfect-information search: every world is the true deal.
fn search_true_world(r: &Round, params: &SearchParams, seed: u64) -> mcts::SearchResult {
    let obs = r.observation(r.to_act());
    let worlds = vec![*r; params.worlds];
    let search = Search::with_worlds(&obs, params, &worlds, seed).unwrap();
    run_to_end(search, &mut RolloutEvaluator::new(seed))
}

/// Both kinds of search: the determinized one and the information-set one.
const KINDS: [SearchKind; 2] = [SearchKind::Determinized, SearchKind::InfoSet];

fn of_kind(mut params: SearchParams, kind: SearchKind) -> SearchParams {
    params.kind = kind;
    params
}

/// Small rounds: bidding with one card each, or play with two cards each.
fn small_position(r: &mut game::GameRng) -> Round {
    let players = r.random_range(3..=4u64);
    if r.random_bool(0.5) {
        let cfg = RoundConfig::new(
            players,
            1,
            TRUMP_ROTATION[r.random_range(0..5)],
            r.random_range(0..players),
        )
        .unwrap();
        let mut round = Round::deal(cfg, r);
        for _ in 0..r.random_range(0..players) {
            let legal = round.legal_actions();
            round
                .apply_index(legal.nth(r.random_range(0..legal.len())).unwrap())
                .unwrap();
        }
        round
    } else {
        loop {
            let round = random_position(players, 2, r);
            if round.phase() == game::Phase::Playing {
                return round;
            }
        }
    }
}

#[test]
fn rollout_search_finds_the_exact_best_move() {
    let mut r = rng(2024);
    let mut checked = 0;
    for case in 0..400u64 {
        let round = small_position(&mut r);
        let Some((best, margin)) = clear_best(&round) else {
            continue;
        };
        if margin < 0.1 {
            continue;
        }
        for kind in KINDS {
            // With the true deal as the only world, both searches are perfect-information
            // MCTS and must find the solver's move.
            let params = of_kind(SearchParams::new(1, 2000).with_batch(1), kind);
            let res = search_true_world(&round, &params, case);
            assert_eq!(
                res.best_action(),
                best,
                "{kind:?}, case {case}: search picked {} but the solver's best is {best} (margin {margin}); visits {:?}\n{round:?}",
                res.best_action(),
                &res.visits
            );
        }
        checked += 1;
        if checked == 40 {
            break;
        }
    }
    assert!(
        checked >= 30,
        "too few clear positions were checked: {checked}"
    );
}

#[test]
fn batched_search_agrees_with_unbatched_search() {
    let mut r = rng(77);
    let mut clear = 0;
    for case in 0..600u64 {
        let round = loop {
            let p = random_position(4, 4, &mut r);
            // Three or four tricks to go: deep enough for depth > 1, small enough that 30
            // rollouts per world can tell the moves apart.
            if p.legal_actions().len() >= 2 && p.phase() == game::Phase::Playing {
                break p;
            }
        };
        let Some((best, margin)) = clear_best(&round) else {
            continue;
        };
        let medium = |kind, batch| of_kind(SearchParams::MEDIUM.with_batch(batch), kind);
        let unbatched = KINDS.map(|kind| search_true_world(&round, &medium(kind, 1), case));
        let share = |res: &mcts::SearchResult| res.visits[best] as f32 / res.simulations as f32;
        if margin < 0.3
            || unbatched
                .iter()
                .any(|u| u.best_action() != best || share(u) < 0.6)
        {
            continue;
        }
        clear += 1;
        for (kind, batch) in KINDS.into_iter().flat_map(|k| [8, 30, 64].map(|b| (k, b))) {
            let res = search_true_world(&round, &medium(kind, batch), case);
            let legal: Vec<u32> = round
                .legal_actions()
                .iter()
                .map(|a| res.visits[a])
                .collect();
            assert!(
                legal.iter().any(|&v| v != legal[0]),
                "{kind:?}, case {case}, batch {batch}: uniform root visits {legal:?}"
            );
            assert!(
                res.max_depth > 1,
                "{kind:?}, case {case}, batch {batch}: depth {}",
                res.max_depth
            );
            assert_eq!(
                res.simulations as usize,
                SearchParams::MEDIUM.total_simulations()
            );
            assert_eq!(
                res.best_action(),
                best,
                "{kind:?}, case {case}, batch {batch}: visits {legal:?}, solver margin {margin}"
            );
        }
        if clear == 25 {
            break;
        }
    }
    assert!(clear >= 15, "too few clear positions: {clear}");
}

#[test]
fn batched_information_set_search_goes_deep_and_is_not_uniform() {
    // The peer's batched search evaluated only the root when the batch was at least the
    // simulations per world, and its policy came out uniform. Ours must not.
    let mut r = rng(99);
    let mut nonuniform = [0; 8];
    let cases = 30;
    for case in 0..cases {
        let round = loop {
            let p = random_position(4, 5, &mut r);
            if p.legal_actions().len() >= 3 && p.public().tricks_done() < 2 {
                break p;
            }
        };
        let obs = round.observation(round.to_act());
        for (i, (kind, batch)) in KINDS
            .into_iter()
            .flat_map(|k| [1, 8, 30, 64].map(|b| (k, b)))
            .enumerate()
        {
            let params = of_kind(SearchParams::MEDIUM.with_batch(batch), kind);
            let res = run_to_end(
                Search::new(&obs, &params, case).unwrap(),
                &mut RolloutEvaluator::new(case),
            );
            assert!(
                res.max_depth > 1,
                "{kind:?}, batch {batch}: depth {}",
                res.max_depth
            );
            assert_eq!(res.simulations, 90);
            let legal: Vec<u32> = round
                .legal_actions()
                .iter()
                .map(|a| res.visits[a])
                .collect();
            nonuniform[i] += legal.iter().any(|&v| v != legal[0]) as usize;
        }
    }
    for (i, n) in nonuniform.iter().enumerate() {
        assert!(
            *n as u64 >= cases * 9 / 10,
            "kind and batch #{i}: only {n} of {cases} searches had non-uniform visits"
        );
    }
}
