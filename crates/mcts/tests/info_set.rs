//! The information-set search (`SearchKind::InfoSet`): legality and visit accounting, hidden
//! cards never matter, every request is one seat's own view, one thread driving many searches
//! matches blocking searches, and with rollouts it plays well above random.

mod common;

use common::{HashEvaluator, blocking_and_joint, random_position, rng};
use game::bots::{Player, RandomBot};
use game::{Observation, Round, RoundConfig, TRUMP_ROTATION, encode};
use mcts::{
    Evaluator, RandomEvaluator, RolloutEvaluator, Search, SearchKind, SearchParams, Step,
    UniformEvaluator, search_blocking,
};
use rand::RngExt;

fn info_set(simulations: usize, batch: usize) -> SearchParams {
    let mut p = SearchParams::new(1, simulations).with_batch(batch);
    p.kind = SearchKind::InfoSet;
    p
}

#[test]
fn never_illegal_and_visits_equal_simulations() {
    let mut r = rng(13);
    for case in 0..60u64 {
        let players = 3 + case % 6;
        let cards = 1 + r.random_range(0..(52 / players).min(8));
        let round = random_position(players, cards, &mut r);
        let obs = round.observation(round.to_act());
        let legal = round.legal_actions();
        let params = info_set(10 + case as usize % 40, [1, 4, 16][case as usize % 3]);
        let evaluators: [(&str, Box<dyn Evaluator>); 3] = [
            ("uniform", Box::new(UniformEvaluator)),
            ("random", Box::new(RandomEvaluator::new(case))),
            ("rollout", Box::new(RolloutEvaluator::new(case))),
        ];
        for (name, mut ev) in evaluators {
            let res = search_blocking(&obs, &params, ev.as_mut(), case).unwrap();
            assert!(legal.contains(res.best_action()), "{name}: illegal move");
            let total: u32 = res.visits.iter().sum();
            for (a, &v) in res.visits.iter().enumerate() {
                assert!(v == 0 || legal.contains(a), "{name}: visits on illegal {a}");
            }
            if legal.len() == 1 {
                assert!(!res.searched);
            } else {
                assert_eq!(
                    res.simulations as usize,
                    params.total_simulations(),
                    "{name}"
                );
                assert_eq!(total, res.simulations, "{name}");
            }
        }
    }
}

#[test]
fn hidden_cards_do_not_change_the_search() {
    let mut r = rng(15);
    for case in 0..30u64 {
        let round = random_position(3 + case % 6, 1 + case % 6, &mut r);
        let seat = round.to_act();
        let obs = round.observation(seat);
        let other = mcts::worlds::sample_world(&obs, &mut rng(case));
        assert_eq!(other.observation(seat), obs);
        let params = info_set(40, 4);
        let a = search_blocking(&obs, &params, &mut HashEvaluator, case).unwrap();
        let b =
            search_blocking(&other.observation(seat), &params, &mut HashEvaluator, case).unwrap();
        assert_eq!(a, b, "case {case}");
    }
}

#[test]
fn requests_hold_only_a_seats_own_view_and_the_searchers_once_per_node() {
    let mut r = rng(17);
    for case in 0..20u64 {
        let round = random_position(4, 5, &mut r);
        let seat = round.to_act();
        let obs = round.observation(seat);
        let mut search = Search::new(&obs, &info_set(120, 8), case).unwrap();
        let mut answers = Vec::new();
        let mut searcher_views = std::collections::HashSet::new();
        while let Step::NeedEval(reqs) = search.step(&answers) {
            for req in reqs {
                let s = req.seat as usize;
                let own: Observation = req.world.observation(s);
                assert_eq!(req.encoding, encode(&own));
                assert_eq!(req.legal, own.legal_actions());
                // Every world keeps the searcher's hand (less what it played in the tree).
                assert!(req.world.hand(seat).difference(obs.hand).is_empty());
                let mover = req.world.to_act();
                assert!(
                    s == mover || s == seat,
                    "a view of a seat that neither moves nor searches"
                );
                if s == seat && mover != seat {
                    // The searcher's own view of a node is the same in every world: it is
                    // asked once.
                    assert!(
                        searcher_views.insert(own),
                        "case {case}: the searcher's view of a node was asked twice"
                    );
                }
            }
            HashEvaluator.evaluate(reqs, &mut answers);
        }
    }
}

#[test]
fn many_searches_on_one_thread_match_blocking_searches() {
    let mut r = rng(23);
    let positions: Vec<Observation> = (0..10)
        .map(|i| {
            let round = random_position(3 + i % 6, 4, &mut r);
            round.observation(round.to_act())
        })
        .collect();
    let (blocking, joint, _) = blocking_and_joint(&positions, &info_set(60, 8));
    assert_eq!(joint, blocking);
}

struct Searcher(SearchParams, RolloutEvaluator, u64);

impl Player for Searcher {
    fn act(&mut self, obs: &Observation) -> usize {
        self.2 += 1;
        search_blocking(obs, &self.0, &mut self.1, self.2)
            .unwrap()
            .best_action()
    }

    fn name(&self) -> &str {
        "searcher"
    }
}

#[test]
fn with_rollouts_it_beats_random_play() {
    let mut r = rng(19);
    let (mut mine, mut theirs) = (0.0, 0.0);
    let deals = 150u64;
    for deal in 0..deals {
        let cfg = RoundConfig::new(4, 4, TRUMP_ROTATION[r.random_range(0..5)], deal % 4).unwrap();
        let mut round: Round = Round::deal(cfg, &mut r);
        let mut params = info_set(60, 1);
        // Rollouts see the whole world: no separate view of the searcher.
        params.searcher_values = false;
        let mut search = Searcher(params, RolloutEvaluator::new(deal), deal << 20);
        let mut randoms: Vec<RandomBot> = (0..3).map(|i| RandomBot::new(deal * 3 + i)).collect();
        let [a, b, c] = &mut randoms[..] else {
            unreachable!()
        };
        let scores = game::bots::play_round(&mut round, &mut [&mut search, a, b, c]);
        mine += scores[0] as f64 / deals as f64;
        theirs += (scores[1] + scores[2] + scores[3]) as f64 / 3.0 / deals as f64;
    }
    assert!(
        mine > theirs + 3.0,
        "information-set search {mine:.2} vs random {theirs:.2}"
    );
}
