//! The network-free baseline: the same search driven by rollouts beats random play.

mod common;

use common::rng;
use game::bots::{Bot, RandomBot};
use game::{Action, Observation, Round, RoundConfig, TRUMP_ROTATION};
use mcts::RolloutAgent;
use rand::RngExt;

struct Baseline(RolloutAgent);

impl Bot for Baseline {
    fn act(&mut self, obs: &Observation) -> Action {
        let a = self.0.choose(obs).unwrap();
        match obs.public.phase() {
            game::Phase::Bidding => Action::Bid(a as u8),
            _ => Action::Play(game::Card::new(a as u8).unwrap()),
        }
    }
}

#[test]
fn rollout_search_beats_random_play() {
    // Seat 0 searches with 60 rollouts per decision; the other three play randomly. Seats
    // rotate through the dealer position.
    let mut r = rng(12);
    let (mut mine, mut theirs, mut n) = (0.0, 0.0, 0.0);
    for deal in 0..60u64 {
        let cfg = RoundConfig::new(4, 4, TRUMP_ROTATION[r.random_range(0..5)], deal % 4).unwrap();
        let mut round = Round::deal(cfg, &mut r);
        let mut search = Baseline(RolloutAgent::new(60, deal));
        let mut randoms: Vec<RandomBot> = (0..3).map(|i| RandomBot::new(deal * 3 + i)).collect();
        let [a, b, c] = &mut randoms[..] else {
            unreachable!()
        };
        let scores = game::bots::play_round(&mut round, &mut [&mut search, a, b, c]);
        mine += scores[0] as f64;
        theirs += (scores[1] + scores[2] + scores[3]) as f64 / 3.0;
        n += 1.0;
    }
    let (mine, theirs) = (mine / n, theirs / n);
    assert!(
        mine > theirs + 3.0,
        "baseline {mine:.2} per round vs random {theirs:.2}"
    );
}

#[test]
fn budget_is_spread_over_worlds() {
    assert_eq!(RolloutAgent::worlds_for(1), 1);
    assert_eq!(RolloutAgent::worlds_for(100), 5);
    assert_eq!(RolloutAgent::worlds_for(100_000), 16);
    let a = RolloutAgent::new(100, 0);
    assert!(a.params().total_simulations() >= 100);
    assert!(a.params().total_simulations() < 105);
}

#[test]
fn ismcts_plays_legal_moves_and_beats_random_play() {
    use mcts::IsmctsAgent;
    struct Ismcts(IsmctsAgent);
    impl Bot for Ismcts {
        fn act(&mut self, obs: &Observation) -> Action {
            let a = self.0.choose(obs).unwrap();
            assert!(obs.legal_actions().contains(a), "illegal action {a}");
            match obs.public.phase() {
                game::Phase::Bidding => Action::Bid(a as u8),
                _ => Action::Play(game::Card::new(a as u8).unwrap()),
            }
        }
    }
    let mut r = rng(14);
    let (mut mine, mut theirs, mut n) = (0.0, 0.0, 0.0);
    for deal in 0..60u64 {
        let cfg = RoundConfig::new(4, 4, TRUMP_ROTATION[r.random_range(0..5)], deal % 4).unwrap();
        let mut round = Round::deal(cfg, &mut r);
        let mut search = Ismcts(IsmctsAgent::new(60, deal));
        let mut randoms: Vec<RandomBot> = (0..3).map(|i| RandomBot::new(deal * 3 + i)).collect();
        let [a, b, c] = &mut randoms[..] else {
            unreachable!()
        };
        let scores = game::bots::play_round(&mut round, &mut [&mut search, a, b, c]);
        mine += scores[0] as f64;
        theirs += (scores[1] + scores[2] + scores[3]) as f64 / 3.0;
        n += 1.0;
    }
    let (mine, theirs) = (mine / n, theirs / n);
    assert!(
        mine > theirs + 3.0,
        "ismcts {mine:.2} per round vs random {theirs:.2}"
    );
}

#[test]
fn ismcts_is_repeatable_and_blind_to_hidden_cards() {
    use mcts::{IsmctsParams, ismcts_search};
    let mut r = rng(15);
    for case in 0..20u64 {
        let round = common::random_position(4, 5, &mut r);
        let seat = round.to_act();
        let obs = round.observation(seat);
        let other = mcts::worlds::sample_world(&obs, &mut rng(case));
        let params = IsmctsParams::new(100);
        let a = ismcts_search(&obs, &params, case).unwrap();
        let b = ismcts_search(&other.observation(seat), &params, case).unwrap();
        assert_eq!(a, b, "case {case}: hidden cards changed the search");
        if a.searched {
            assert_eq!(a.visits.iter().sum::<u32>(), 100);
        }
    }
}
