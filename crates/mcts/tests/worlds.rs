//! World sampling: always consistent with what the seat knows, even under tight voids, and
//! uniform when nothing constrains it.

mod common;

use common::{random_position, rng};
use game::{Card, Round, RoundConfig};
use mcts::worlds::{is_consistent, sample_world};
use proptest::prelude::*;
use rand::RngExt;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn sampled_worlds_are_consistent(seed in any::<u64>(), players in 3u64..=8) {
        let mut r = rng(seed);
        let cards = 1 + r.random_range(0..52 / players);
        let round = random_position(players, cards, &mut r);
        for seat in 0..players as usize {
            let obs = round.observation(seat);
            for _ in 0..5 {
                let w = sample_world(&obs, &mut r);
                prop_assert!(is_consistent(&w, &obs), "inconsistent world for seat {}", seat);
                prop_assert_eq!(w.observation(seat), obs);
            }
        }
    }

    /// Every card dealt (no undealt pile to absorb anything) and long play: many voids.
    #[test]
    fn tight_constraints_never_fail(seed in any::<u64>(), big in any::<bool>()) {
        let (players, cards) = if big { (4, 13) } else { (3, 17) };
        let mut r = rng(seed);
        let round = random_position(players, cards, &mut r);
        let obs = round.observation(round.to_act());
        for _ in 0..10 {
            prop_assert!(is_consistent(&sample_world(&obs, &mut r), &obs));
        }
    }
}

#[test]
fn forced_deal_is_found() {
    // Seat 0 leads hearts twice; seat 1 shows void in hearts, seat 2 in hearts too on trick 2
    // when it discards. After that the remaining hearts must sit in seat 3's hand or undealt.
    let cfg = RoundConfig::new(4, 3, None, 3).unwrap();
    let hands: Vec<Vec<Card>> = [
        ["AH", "KH", "2C"],
        ["2S", "3S", "4S"],
        ["5H", "6D", "7D"],
        ["8H", "9H", "TH"],
    ]
    .iter()
    .map(|h| h.iter().map(|c| c.parse().unwrap()).collect())
    .collect();
    let mut round = Round::with_hands(cfg, &hands).unwrap();
    for b in [1, 0, 0, 1] {
        round.apply_bid(b).unwrap();
    }
    for c in ["AH", "2S", "5H", "8H", "KH", "3S", "6D"] {
        round
            .apply_index(c.parse::<Card>().unwrap().index())
            .unwrap();
    }
    let obs = round.observation(3);
    assert_eq!(obs.public.voids(1), 0b0010);
    assert_eq!(obs.public.voids(2), 0b0010);
    let mut r = rng(4);
    for _ in 0..200 {
        let w = sample_world(&obs, &mut r);
        assert!(is_consistent(&w, &obs));
        assert!(!w.hand(1).has_suit(game::Suit::Hearts));
        assert!(!w.hand(2).has_suit(game::Suit::Hearts));
    }
}

#[test]
fn unconstrained_deals_are_uniform() {
    // At the first bid nothing is known but the own hand: every unseen card is in a given
    // other hand with probability C / unseen.
    let cfg = RoundConfig::new(4, 5, None, 0).unwrap();
    let round = Round::deal(cfg, &mut rng(1));
    let obs = round.observation(1);
    let unseen: Vec<Card> = obs.unseen().iter().collect();
    let n = 4700;
    let mut counts = vec![[0u32; 4]; 52];
    let mut r = rng(2);
    for _ in 0..n {
        let w = sample_world(&obs, &mut r);
        for (seat, hand) in w.hands().iter().enumerate().take(4) {
            for c in *hand {
                counts[c.index()][seat] += 1;
            }
        }
    }
    let p = 5.0 / unseen.len() as f64;
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    for c in &unseen {
        for seat in [0, 2, 3] {
            let got = counts[c.index()][seat] as f64;
            assert!(
                (got - n as f64 * p).abs() < 4.5 * sigma,
                "card {c} in seat {seat}: {got} times, expected {:.0}",
                n as f64 * p
            );
        }
        assert_eq!(counts[c.index()][1], 0, "the observer's hand is fixed");
    }
}
