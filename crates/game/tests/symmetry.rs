//! Renaming the suits other than trump maps a position to an equivalent one: the encoding
//! and the legal actions of the renamed position are the renamed encoding and actions.

use game::symmetry::SuitPermutation;
use game::{Card, Phase, Round, RoundConfig, Suit, TRUMP_ROTATION, encode, rng_from_seed};
use rand::RngExt;

/// Plays `round` with random legal actions and, step by step, the same actions renamed by
/// `perm` in a renamed copy; checks at every step, for every seat, that the renamed copy's
/// encoding and legal actions are the renamed originals.
fn check_round(players: u64, cards: u64, trump: Option<Suit>, seed: u64) {
    let mut rng = rng_from_seed(seed);
    let dealer = rng.random_range(0..players);
    let cfg = RoundConfig::new(players, cards, trump, dealer).unwrap();
    let mut round = Round::deal(cfg, &mut rng);
    let perm = SuitPermutation::random(trump, &mut rng);
    let renamed_hands: Vec<Vec<Card>> = (0..players as usize)
        .map(|s| {
            round
                .hand(s)
                .iter()
                .map(|c| Card::new(perm.card(c.index()) as u8).unwrap())
                .collect()
        })
        .collect();
    let mut renamed = Round::with_hands(cfg, &renamed_hands).unwrap();
    loop {
        for seat in 0..players as usize {
            let mut x = encode(&round.observation(seat));
            perm.apply_to_encoding(&mut x);
            assert_eq!(x, encode(&renamed.observation(seat)), "seat {seat}");
        }
        if round.is_over() {
            break;
        }
        let legal = round.legal_actions();
        let a = legal.nth(rng.random_range(0..legal.len())).unwrap();
        let renamed_a = if round.phase() == Phase::Playing {
            assert_eq!(
                perm.apply_to_card_bits(legal.bits()),
                renamed.legal_actions().bits()
            );
            perm.card(a)
        } else {
            assert_eq!(legal, renamed.legal_actions());
            a
        };
        round.apply_index(a).unwrap();
        renamed.apply_index(renamed_a).unwrap();
    }
    assert_eq!(round.scores(), renamed.scores());
}

#[test]
fn renamed_positions_encode_as_renamed_encodings() {
    for seed in 0..60 {
        let trump = TRUMP_ROTATION[seed as usize % 5];
        let players = 3 + seed % 6;
        let cards = 1 + seed % (52 / players).min(9);
        check_round(players, cards, trump, seed);
    }
}

#[test]
fn permutations_keep_the_trump_and_cover_the_other_suits() {
    let mut rng = rng_from_seed(3);
    let mut images = std::collections::HashSet::new();
    for _ in 0..500 {
        let p = SuitPermutation::random(Some(Suit::Clubs), &mut rng);
        assert_eq!(p.suit(Suit::Clubs), Suit::Clubs);
        images.insert(p);
    }
    assert_eq!(images.len(), 6, "3! renamings of the other suits");
    let mut all = std::collections::HashSet::new();
    for _ in 0..2000 {
        all.insert(SuitPermutation::random(None, &mut rng));
    }
    assert_eq!(all.len(), 24, "4! renamings without trump");
    assert!(SuitPermutation::new([1, 0, 2, 3], Some(Suit::Spades)).is_none());
    assert!(SuitPermutation::new([1, 1, 2, 3], None).is_none());
    assert!(SuitPermutation::new([0, 1, 3, 2], Some(Suit::Hearts)).is_some());
}
