//! Self-play: value targets equal the scores, examples hold only the mover's information,
//! results are repeatable for a seed and a thread count.

use game::{ENCODING_LEN, encoding::offset};
use mcts::value::{score_value, standing_values};
use mcts::{RolloutEvaluator, SearchParams, TemperatureSchedule, UniformEvaluator};
use std::sync::atomic::{AtomicBool, AtomicU64};
use train::example::{NO_OWNER, NO_TRICKS, UNDEALT};
use train::selfplay::{DealConfig, Mode, SelfPlayConfig, run};

fn config(mode: Mode) -> SelfPlayConfig {
    SelfPlayConfig {
        mode,
        deal: DealConfig {
            players: vec![3, 4, 5],
            cards_min: 1,
            cards_max: 4,
            start_cards_min: 1,
            start_cards_max: 3,
        },
        search: SearchParams::new(2, 12).with_batch(4).with_noise(0.5, 0.25),
        temperature: TemperatureSchedule {
            initial: 1.0,
            moves: 2,
            after: 0.0,
        },
        policy_target: train::selfplay::PolicyTarget::Visits,
        full_search_share: 1.0,
        fast_search: SearchParams::new(1, 4),
        in_flight: 5,
        seed: 42,
        fixed_setup: None,
        search_forced: false,
    }
}

#[test]
fn round_value_targets_equal_the_scores() {
    let cfg = config(Mode::Rounds);
    let progress = AtomicU64::new(0);
    let (done, stats) = run(
        &cfg,
        0,
        24,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &progress,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(done.len(), 24);
    assert_eq!(progress.into_inner(), 24);
    assert_eq!(stats.rounds, 24);
    assert!(done.windows(2).all(|w| w[0].index < w[1].index));
    let mut examples = 0;
    for f in &done {
        assert_eq!(f.rounds.len(), 1);
        let r = &f.rounds[0];
        for (e, &(mover, _)) in f.examples.iter().zip(&f.origins) {
            examples += 1;
            // Relative slot k is the seat k places left of the mover.
            for k in 0..r.players {
                let seat = (mover + k) % r.players;
                assert_eq!(e.value[k], score_value(r.scores[seat], r.cards));
            }
            assert!(e.value[r.players..].iter().all(|&v| v == 0.0));
            let total: f32 = e.policy.iter().sum();
            if !e.has_policy() {
                // A bystander's view: value only.
                assert_eq!(total, 0.0);
                continue;
            }
            assert!((total - 1.0).abs() < 1e-4);
            for (a, &p) in e.policy.iter().enumerate() {
                assert!(
                    p == 0.0 || e.legal >> a & 1 == 1,
                    "policy on an illegal action"
                );
            }
            assert!(e.legal.count_ones() >= 2, "forced moves make no example");
        }
        // Scores follow the exact-bid rule.
        for s in 0..r.players {
            let made = r.bids[s] == r.tricks[s];
            assert_eq!(r.scores[s], if made { 10 + r.bids[s] as u8 } else { 0 });
        }
    }
    assert_eq!(examples as u64, stats.examples);
    // One decision example and one bystander (value-only) example per searched decision.
    assert_eq!(2 * stats.searched, stats.examples);
    let with_policy = done
        .iter()
        .flat_map(|f| &f.examples)
        .filter(|e| e.has_policy())
        .count();
    assert_eq!(with_policy as u64, stats.searched);
}

/// Sixteen rounds of the test config, searched with random rollouts on two threads.
fn sixteen_rounds() -> Vec<train::selfplay::Finished> {
    let (done, _) = run(
        &config(Mode::Rounds),
        0,
        16,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    done
}

#[test]
fn tricks_targets_are_the_tricks_each_seat_still_won() {
    // The tricks head learns, for each seat relative to the mover, the tricks it won from the
    // example's position to the end of the round: its final tricks less those already won
    // then (read back from the example's own encoding: bid - tricks still needed).
    let done = sixteen_rounds();
    let mut checked = 0;
    for f in &done {
        let r = &f.rounds[0];
        for (e, &(mover, _)) in f.examples.iter().zip(&f.origins) {
            let mut x = [0.0f32; ENCODING_LEN];
            e.encoding_f32(&mut x);
            let c = r.cards as f32;
            for k in 0..r.players {
                let seat = (mover + k) % r.players;
                let won_then = if x[offset::HAS_BID + k] == 1.0 {
                    ((x[offset::BIDS + k] - x[offset::NEEDED + k]) * c).round() as usize
                } else {
                    0
                };
                assert_eq!(e.tricks[k] as usize, r.tricks[seat] - won_then);
                checked += 1;
            }
            assert!(e.tricks[r.players..].iter().all(|&t| t == NO_TRICKS));
        }
    }
    assert!(checked > 100);
}

#[test]
fn owners_targets_cover_exactly_the_cards_the_mover_cannot_see() {
    // Every card the example's own encoding shows (its hand, the cards played) has no
    // target; every other card has one: nobody for the 52 - P x C undealt cards, else one of
    // the other seats, each holding as many as it has left to play.
    let done = sixteen_rounds();
    let mut checked = 0;
    for f in &done {
        let r = &f.rounds[0];
        let (p, c) = (r.players, r.cards);
        for e in &f.examples {
            let mut x = [0.0f32; ENCODING_LEN];
            e.encoding_f32(&mut x);
            let seen = |k: usize| {
                x[offset::HAND + k] == 1.0
                    || x[offset::PLAYED + k] == 1.0
                    || x[offset::TRICK + k] == 1.0
            };
            let mut per_class = [0usize; 8];
            for (k, &o) in e.owners.iter().enumerate() {
                if seen(k) {
                    assert_eq!(o, NO_OWNER, "card {k} is seen");
                } else {
                    assert!((o as usize) < p, "card {k}: class {o} at {p} players");
                    per_class[o as usize] += 1;
                }
            }
            assert_eq!(per_class[UNDEALT as usize], 52 - p * c);
            let held = (0..52).filter(|&k| x[offset::HAND + k] == 1.0).count();
            let played = (0..52).filter(|&k| seen(k)).count() - held;
            let others: usize = per_class[1..p].iter().sum();
            assert_eq!(others + held + played, p * c);
            assert!(per_class[1..p].iter().all(|&n| n <= c));
            checked += 1;
        }
    }
    assert!(checked > 100);
}

#[test]
fn examples_hold_only_the_movers_cards() {
    // The hand block of an example is the mover's own hand: it never overlaps the cards
    // played, and it holds exactly as many cards as the mover still has.
    let cfg = config(Mode::Rounds);
    let (done, _) = run(
        &cfg,
        3,
        20,
        1,
        |_| UniformEvaluator,
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    for f in &done {
        let r = &f.rounds[0];
        for e in &f.examples {
            let mut x = [0.0f32; ENCODING_LEN];
            e.encoding_f32(&mut x);
            let hand: Vec<usize> = (0..52).filter(|&c| x[offset::HAND + c] == 1.0).collect();
            let played = |c: usize| x[offset::PLAYED + c] == 1.0 || x[offset::TRICK + c] == 1.0;
            assert!(hand.iter().all(|&c| !played(c)));
            assert!(hand.len() <= r.cards);
            let in_play = game::encoding::is_play_phase(&x);
            if in_play {
                // Every legal card is one the mover holds.
                assert!((0..52).all(|a| e.legal >> a & 1 == 0 || hand.contains(&a)));
            }
        }
    }
}

#[test]
fn game_value_targets_blend_round_and_final_standing() {
    let cfg = config(Mode::Games);
    let (done, stats) = run(
        &cfg,
        0,
        4,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(stats.games, 4);
    for f in &done {
        let totals = f.totals.as_ref().expect("games mode has totals");
        let players = f.rounds[0].players;
        let mut t = [0u16; 8];
        t[..players].copy_from_slice(totals);
        let standing = standing_values(&t, players);
        let summed: Vec<u16> = (0..players)
            .map(|s| f.rounds.iter().map(|r| r.scores[s] as u16).sum())
            .collect();
        assert_eq!(&summed, totals);
        for (e, &(mover, round)) in f.examples.iter().zip(&f.origins) {
            let r = &f.rounds[round];
            for k in 0..players {
                let seat = (mover + k) % players;
                let want = 0.5 * score_value(r.scores[seat], r.cards) + 0.5 * standing[seat];
                assert!((e.value[k] - want).abs() < 1e-6);
            }
        }
        let mut x = [0.0f32; ENCODING_LEN];
        f.examples[0].encoding_f32(&mut x);
        assert!(game::encoding::is_in_game(&x));
    }
}

#[test]
fn self_play_is_repeatable_for_a_seed_and_thread_count() {
    let cfg = config(Mode::Rounds);
    let a = run(
        &cfg,
        1,
        16,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    let b = run(
        &cfg,
        1,
        16,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(a.1, b.1);
    for (x, y) in a.0.iter().zip(&b.0) {
        assert_eq!(x.examples, y.examples);
    }
    let mut other = cfg.clone();
    other.seed = 43;
    let c = run(
        &other,
        1,
        16,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_ne!(
        a.0.iter().map(|f| f.examples.len()).collect::<Vec<_>>(),
        c.0.iter().map(|f| f.examples.len()).collect::<Vec<_>>(),
        "another seed should play other rounds"
    );
}

/// An evaluator whose server died after `left` batches: answers neutrally, then says so.
struct Dying {
    left: usize,
    inner: RolloutEvaluator,
}

impl mcts::Evaluator for Dying {
    fn evaluate(&mut self, requests: &[mcts::EvalRequest], out: &mut Vec<mcts::Evaluation>) {
        self.left = self.left.saturating_sub(1);
        self.inner.evaluate(requests, out);
    }

    fn failure(&self) -> Option<String> {
        (self.left == 0).then(|| "the inference server has stopped".to_string())
    }
}

#[test]
fn a_dead_evaluator_stops_self_play_with_its_reason() {
    let cfg = config(Mode::Rounds);
    let err = run(
        &cfg,
        0,
        40,
        2,
        |t| Dying {
            left: 3 + t,
            inner: RolloutEvaluator::new(t as u64),
        },
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("inference server has stopped"), "{err}");
}

/// Panics at its `at`-th batch.
struct Panicking {
    at: usize,
    inner: RolloutEvaluator,
}

impl mcts::Evaluator for Panicking {
    fn evaluate(&mut self, requests: &[mcts::EvalRequest], out: &mut Vec<mcts::Evaluation>) {
        self.at -= 1;
        assert!(self.at > 0, "the evaluator broke");
        self.inner.evaluate(requests, out);
    }
}

#[test]
fn a_panicking_thread_is_an_error_not_a_hang() {
    let cfg = config(Mode::Rounds);
    // Only one of the two threads panics; the other must be stopped, not waited for.
    let err = run(
        &cfg,
        0,
        200,
        2,
        |t| Panicking {
            at: if t == 0 { 2 } else { usize::MAX },
            inner: RolloutEvaluator::new(t as u64),
        },
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("panicked") && err.contains("the evaluator broke"),
        "{err}"
    );
}

#[test]
fn the_peers_unit_searches_twenty_decisions_a_round() {
    // 4 players, 5 cards, spades, seat 0 dealing: every bid and every card but each seat's
    // last is searched, forced or not.
    let mut cfg = config(Mode::Rounds);
    cfg.fixed_setup = Some(game::RoundConfig::new(4, 5, Some(game::Suit::Spades), 0).unwrap());
    cfg.search_forced = true;
    cfg.search.search_single_action = true;
    cfg.fast_search.search_single_action = true;
    let (done, stats) = run(
        &cfg,
        0,
        12,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(stats.rounds, 12);
    assert_eq!(stats.searched, 12 * 20);
    assert_eq!(stats.forced, 12 * 4);
    assert!(done.iter().all(|f| f.rounds[0].players == 4));
    // Every searched decision ran its simulations, single legal actions included.
    assert_eq!(stats.simulations, stats.searched * 24);
    // Without the peer's unit, decisions with one legal action are not searched.
    let (_, plain) = run(
        &config(Mode::Rounds),
        0,
        12,
        2,
        |t| RolloutEvaluator::new(t as u64),
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(plain.forced > 0);
}
