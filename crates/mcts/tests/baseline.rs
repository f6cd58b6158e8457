//! The network-free baseline: the same search driven by rollouts beats random play.

mod common;

use common::rng;
use game::bots::{Player, RandomBot};
use game::{Observation, Round, RoundConfig, TRUMP_ROTATION};
use mcts::RolloutAgent;
use rand::RngExt;

/// A network-free search as a bot; every action it picks is checked legal.
struct Searcher<F: FnMut(&Observation) -> usize>(F);

impl<F: FnMut(&Observation) -> usize> Player for Searcher<F> {
    fn act(&mut self, obs: &Observation) -> usize {
        let a = (self.0)(obs);
        assert!(obs.legal_actions().contains(a), "illegal action {a}");
        a
    }

    fn name(&self) -> &str {
        "searcher"
    }
}

/// Seat 0 plays the search made for each deal, the other three randomly, 60 deals of 4 x 4
/// with the dealer rotating: the search's mean score per round and the randoms'.
fn against_random_play<F: FnMut(&Observation) -> usize>(
    seed: u64,
    mut search_for_deal: impl FnMut(u64) -> F,
) -> (f64, f64) {
    let mut r = rng(seed);
    let (mut mine, mut theirs, mut n) = (0.0, 0.0, 0.0);
    for deal in 0..60u64 {
        let cfg = RoundConfig::new(4, 4, TRUMP_ROTATION[r.random_range(0..5)], deal % 4).unwrap();
        let mut round = Round::deal(cfg, &mut r);
        let mut search = Searcher(search_for_deal(deal));
        let mut randoms: Vec<RandomBot> = (0..3).map(|i| RandomBot::new(deal * 3 + i)).collect();
        let [a, b, c] = &mut randoms[..] else {
            unreachable!()
        };
        let scores = game::bots::play_round(&mut round, &mut [&mut search, a, b, c]);
        mine += scores[0] as f64;
        theirs += (scores[1] + scores[2] + scores[3]) as f64 / 3.0;
        n += 1.0;
    }
    (mine / n, theirs / n)
}

#[test]
fn rollout_search_beats_random_play() {
    let (mine, theirs) = against_random_play(12, |deal| {
        let mut agent = RolloutAgent::new(60, deal);
        move |obs: &Observation| agent.try_act(obs).unwrap()
    });
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
    let (mine, theirs) = against_random_play(14, |deal| {
        let mut agent = mcts::IsmctsAgent::new(60, deal);
        move |obs: &Observation| agent.try_act(obs).unwrap()
    });
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
