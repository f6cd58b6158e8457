//! Search invariants: legality, visit accounting, resumption, information-set invariance.

mod common;

use common::{HashEvaluator, blocking_and_joint, random_position, rng};
use game::{Card, CardSet, MAX_PLAYERS, Observation, Round, RoundConfig};
use mcts::{
    Evaluator, RandomEvaluator, RolloutEvaluator, Search, SearchError, SearchParams, Step,
    UniformEvaluator, search_blocking,
};
use rand::RngExt;

fn evaluators(seed: u64) -> Vec<(&'static str, Box<dyn Evaluator>)> {
    vec![
        ("uniform", Box::new(UniformEvaluator)),
        ("random", Box::new(RandomEvaluator::new(seed))),
        ("rollout", Box::new(RolloutEvaluator::new(seed))),
    ]
}

#[test]
fn never_illegal_and_visits_equal_simulations() {
    let mut r = rng(11);
    for case in 0..60u64 {
        let players = 3 + case % 6;
        let cards = 1 + r.random_range(0..(52 / players).min(8));
        let round = random_position(players, cards, &mut r);
        let seat = round.to_act();
        let obs = round.observation(seat);
        let legal = round.legal_actions();
        let batch = [1, 4, 16][case as usize % 3];
        let params =
            SearchParams::new(1 + case as usize % 3, 10 + case as usize % 17).with_batch(batch);
        for (name, mut ev) in evaluators(case) {
            let res = search_blocking(&obs, &params, ev.as_mut(), case).unwrap();
            assert!(
                legal.contains(res.best_action()),
                "{name}: illegal best action"
            );
            for (a, &v) in res.visits.iter().enumerate() {
                assert!(
                    v == 0 || legal.contains(a),
                    "{name}: visits on illegal action {a}"
                );
            }
            let total: u32 = res.visits.iter().sum();
            if legal.len() == 1 {
                assert!(!res.searched);
                assert_eq!(total, 1);
            } else {
                assert!(res.searched);
                assert_eq!(
                    res.simulations as usize,
                    params.total_simulations(),
                    "{name}"
                );
                assert_eq!(
                    total, res.simulations,
                    "{name}: visits {total} vs simulations"
                );
            }
        }
    }
}

#[test]
fn single_legal_action_is_played_without_search() {
    // Seat 1 holds one heart and must follow the heart led.
    let cfg = RoundConfig::new(3, 2, None, 2).unwrap();
    let hands: Vec<Vec<Card>> = [["2H", "3S"], ["4H", "5S"], ["6C", "7C"]]
        .iter()
        .map(|h| h.iter().map(|c| c.parse().unwrap()).collect())
        .collect();
    let mut round = Round::with_hands(cfg, &hands).unwrap();
    for b in [0, 0, 0] {
        round.apply_bid(b).unwrap();
    }
    round
        .apply_index("2H".parse::<Card>().unwrap().index())
        .unwrap();
    let obs = round.observation(1);
    let mut search = Search::new(&obs, &SearchParams::MEDIUM, 1).unwrap();
    match search.step(&[]) {
        Step::Done(res) => {
            assert!(!res.searched);
            assert_eq!(res.best_action(), "4H".parse::<Card>().unwrap().index());
            assert_eq!(res.evaluations, 0);
        }
        Step::NeedEval(_) => panic!("a forced move asked for evaluations"),
    }
}

#[test]
fn refuses_to_search_for_a_seat_not_to_act() {
    let mut r = rng(3);
    let round = random_position(4, 5, &mut r);
    let other = (round.to_act() + 1) % 4;
    let err = Search::new(&round.observation(other), &SearchParams::LIGHT, 0).err();
    assert!(matches!(err, Some(SearchError::NotToAct { .. })));
    let mut bad = SearchParams::LIGHT;
    bad.simulations = 0;
    let err = Search::new(&round.observation(round.to_act()), &bad, 0).err();
    assert!(matches!(err, Some(SearchError::Params(_))));
}

/// Redeals the cards `seat` cannot see: same own hand, same played cards by the same seats,
/// other hidden cards shuffled among the other seats (and the undealt rest).
fn redeal_hidden(round: &Round, seat: usize, seed: u64) -> Round {
    let obs = round.observation(seat);
    mcts::worlds::sample_world(&obs, &mut rng(seed))
}

#[test]
fn information_set_invariance() {
    let mut r = rng(5);
    for case in 0..30u64 {
        let players = 3 + case % 6;
        let round = random_position(players, 1 + case % 6, &mut r);
        let seat = round.to_act();
        let other = redeal_hidden(&round, seat, case);
        assert_eq!(other.hand(seat), round.hand(seat));
        let (o1, o2) = (round.observation(seat), other.observation(seat));
        assert_eq!(o1, o2);
        let params = SearchParams::LIGHT.with_batch(4);
        let a = search_blocking(&o1, &params, &mut HashEvaluator, case).unwrap();
        let b = search_blocking(&o2, &params, &mut HashEvaluator, case).unwrap();
        assert_eq!(a, b, "case {case}: hidden cards changed the search");
        let a = search_blocking(&o1, &params, &mut RolloutEvaluator::new(case), case).unwrap();
        let b = search_blocking(&o2, &params, &mut RolloutEvaluator::new(case), case).unwrap();
        assert_eq!(a, b, "case {case}: hidden cards changed the rollout search");
    }
}

#[test]
fn requests_hold_the_movers_own_observation() {
    // Every request's encoding is the observation of its seat in its world: the mover's, or
    // the searcher's own (asked for the searcher's value where another seat moves). A world
    // keeps the searcher's hand and nothing in a request shows it more than it may know.
    let mut r = rng(8);
    for case in 0..20u64 {
        let round = random_position(4, 5, &mut r);
        let seat = round.to_act();
        let obs = round.observation(seat);
        for searcher_values in [true, false] {
            let mut params = SearchParams::MEDIUM.with_batch(8);
            params.searcher_values = searcher_values;
            let mut search = Search::new(&obs, &params, case).unwrap();
            let mut answers = Vec::new();
            let mut ev = UniformEvaluator;
            while let Step::NeedEval(reqs) = search.step(&answers) {
                let mut movers_elsewhere = 0;
                let mut searcher_views = 0;
                for req in reqs {
                    let mover = req.world.to_act();
                    let s = req.seat as usize;
                    let own = req.world.observation(s);
                    assert_eq!(req.encoding, game::encode(&own));
                    assert_eq!(req.legal, own.legal_actions());
                    assert_eq!(req.world.hand(seat).difference(obs.hand), CardSet::EMPTY);
                    if s == mover {
                        movers_elsewhere += (mover != seat) as usize;
                    } else {
                        assert_eq!(
                            s, seat,
                            "a request for a seat that is neither mover nor searcher"
                        );
                        searcher_views += 1;
                    }
                }
                let expected = if searcher_values { movers_elsewhere } else { 0 };
                assert_eq!(searcher_views, expected);
                ev.evaluate(reqs, &mut answers);
            }
        }
    }
}

#[test]
fn many_searches_on_one_thread_match_blocking_searches() {
    let mut r = rng(21);
    let positions: Vec<Observation> = (0..12)
        .map(|i| {
            let round = random_position(3 + i % 6, 4, &mut r);
            round.observation(round.to_act())
        })
        .collect();
    let (blocking, joint, calls) =
        blocking_and_joint(&positions, &SearchParams::MEDIUM.with_batch(8));
    assert_eq!(joint, blocking);
    assert!(
        calls < 40,
        "batching across searches should need few evaluator calls, took {calls}"
    );
}

#[test]
fn root_noise_changes_the_search_but_not_its_accounting() {
    let mut r = rng(31);
    let mut changed = 0;
    for case in 0..10u64 {
        let round = random_position(4, 6, &mut r);
        let obs = round.observation(round.to_act());
        if obs.legal_actions().len() < 3 {
            continue;
        }
        let plain = SearchParams::MEDIUM;
        let noisy = plain.with_noise(0.3, 0.25);
        let a = search_blocking(&obs, &plain, &mut HashEvaluator, case).unwrap();
        let b = search_blocking(&obs, &noisy, &mut HashEvaluator, case).unwrap();
        assert_eq!(a.simulations, b.simulations);
        assert_eq!(b.visits.iter().sum::<u32>(), b.simulations);
        changed += (a.visits != b.visits) as usize;
        let again = search_blocking(&obs, &noisy, &mut HashEvaluator, case).unwrap();
        assert_eq!(b, again, "noise must come from the seed");
    }
    assert!(changed > 0, "noise never changed a search");
}

#[test]
fn root_values_are_per_seat_and_bounded() {
    let mut r = rng(41);
    for case in 0..20u64 {
        let round = random_position(5, 3, &mut r);
        let obs = round.observation(round.to_act());
        let res = search_blocking(
            &obs,
            &SearchParams::LIGHT,
            &mut RolloutEvaluator::new(case),
            case,
        )
        .unwrap();
        if !res.searched {
            continue;
        }
        for s in 0..MAX_PLAYERS {
            assert!((-1.0..=1.0).contains(&res.root_values[s]));
            if s >= 5 {
                assert_eq!(res.root_values[s], 0.0);
            }
        }
    }
}

#[test]
fn temperature_sampling_follows_visits() {
    let mut visits = [0; 52];
    visits[3] = 30;
    visits[7] = 10;
    let res = mcts::SearchResult {
        visits,
        searched: true,
        simulations: 40,
        evaluations: 40,
        root_values: [0.0; MAX_PLAYERS],
        q: [0.0; 52],
        priors: [0.0; 52],
        max_depth: 1,
        depth_sum: 40,
    };
    let mut r = rng(9);
    assert_eq!(res.best_action(), 3);
    assert_eq!(res.sample_action(0.0, &mut r), 3);
    let picks: Vec<usize> = (0..2000).map(|_| res.sample_action(1.0, &mut r)).collect();
    assert!(picks.iter().all(|&a| a == 3 || a == 7));
    let sevens = picks.iter().filter(|&&a| a == 7).count();
    assert!(
        (400..600).contains(&sevens),
        "temperature 1 should pick 7 about 25%: {sevens}"
    );
    let cold: usize = (0..2000)
        .filter(|_| res.sample_action(0.25, &mut r) == 7)
        .count();
    assert!(
        cold < 60,
        "temperature 0.25 should almost always pick 3: {cold} sevens"
    );
}
