//! Targeted tests of the encoding layout (`game::encoding::offset`): each block holds the fact
//! it documents, seats are relative to the observer, and the legal mask matches the
//! observation.
//!
//! Scales come from the layout's comments: the hand size over 17 (the largest hand), bids and
//! tricks over the round's hand size C, round index over 34, score differences over 200.

mod common;

use common::*;
use game::encoding::offset::*;
use game::*;

const CARD_BOUND: f32 = 17.0;

/// The block `[start, start + len)` of `x`.
fn block(x: &[f32; ENCODING_LEN], start: usize, len: usize) -> &[f32] {
    &x[start..start + len]
}

/// The index of the single 1.0 in a block of zeros and one 1.0; `None` if the block is all
/// zeros; panics on anything else.
fn one_hot(x: &[f32; ENCODING_LEN], start: usize, len: usize) -> Option<usize> {
    let b = block(x, start, len);
    assert!(b.iter().all(|&v| v == 0.0 || v == 1.0), "not 0/1: {b:?}");
    let ones: Vec<usize> = (0..len).filter(|&i| b[i] == 1.0).collect();
    assert!(ones.len() <= 1, "several ones: {b:?}");
    ones.first().copied()
}

/// The cards whose bit is set in a 52-wide block.
fn card_block(x: &[f32; ENCODING_LEN], start: usize) -> CardSet {
    let b = block(x, start, 52);
    assert!(b.iter().all(|&v| v == 0.0 || v == 1.0));
    Card::all().filter(|c| b[c.index()] == 1.0).collect()
}

fn enc(r: &Round, seat: usize) -> [f32; ENCODING_LEN] {
    encode(&r.observation(seat))
}

/// The relative slot of `seat` for `observer`: k seats to the observer's left.
fn rel(seat: usize, observer: usize, p: usize) -> usize {
    (seat + p - observer) % p
}

#[test]
fn the_blocks_tile_the_encoding() {
    let starts = [
        (HAND, 52),
        (PLAYED, 52),
        (TRICK, 52),
        (LED_SUIT, 4),
        (VOIDS, 28),
        (OWN_NEED, 4),
        (BIDS, 8),
        (HAS_BID, 8),
        (NEEDED, 8),
        (TRUMP, 5),
        (PLAYERS, 1),
        (CARDS, 1),
        (TO_ACT, 8),
        (DEALER, 8),
        (TRICK_WINNER, 8),
        (ROUND_INDEX, 1),
        (ROUNDS_LEFT, 1),
        (SCORE_DIFF, 7),
    ];
    let mut at = 0;
    for (start, len) in starts {
        assert_eq!(start, at);
        at += len;
    }
    assert_eq!(at, END);
    assert_eq!(END, ENCODING_LEN);
}

#[test]
fn hand_block_is_the_observers_own_hand() {
    let mut rng = rng_from_seed(1);
    for p in 3..=8u64 {
        let cfg = RoundConfig::new(p, 52 / p, S, 0).unwrap();
        let mut r = Round::deal(cfg, &mut rng);
        while !r.is_over() {
            for seat in 0..p as usize {
                let x = enc(&r, seat);
                assert_eq!(card_block(&x, HAND), r.hand(seat));
            }
            let a = random_action(&r, &mut rng);
            r.apply_index(a).unwrap();
        }
        assert!(card_block(&enc(&r, 0), HAND).is_empty());
    }
}

#[test]
fn dealer_slot_is_relative_to_the_observer() {
    for p in 3..=8usize {
        for dealer in 0..p {
            let cfg = RoundConfig::new(p as u64, 1, None, dealer as u64).unwrap();
            let r = Round::deal(cfg, &mut rng_from_seed(7));
            let mut slots = Vec::new();
            for observer in 0..p {
                let slot = one_hot(&enc(&r, observer), DEALER, 8).unwrap();
                assert_eq!(slot, rel(dealer, observer, p));
                slots.push(slot);
            }
            // The dealer sees itself in slot 0; every observer sees the dealer elsewhere.
            assert_eq!(slots[dealer], 0);
            slots.sort();
            slots.dedup();
            assert_eq!(slots.len(), p, "same fact, a different slot per observer");
        }
    }
}

#[test]
fn bids_and_has_bid_are_relative() {
    // P = 5, C = 4, dealer 1: seats bid in the order 2, 3, 4, 0, 1.
    let cfg = RoundConfig::new(5, 4, H, 1).unwrap();
    let mut r = Round::deal(cfg, &mut rng_from_seed(3));
    for observer in 0..5 {
        let x = enc(&r, observer);
        assert!(block(&x, BIDS, 8).iter().all(|&v| v == 0.0));
        assert!(block(&x, HAS_BID, 8).iter().all(|&v| v == 0.0));
    }
    bid_all(&mut r, &[3, 0, 2]); // seats 2, 3, 4
    for observer in 0..5 {
        let x = enc(&r, observer);
        for (seat, bid) in [(2, 3.0), (3, 0.0), (4, 2.0)] {
            let k = rel(seat, observer, 5);
            assert_eq!(x[HAS_BID + k], 1.0);
            assert_eq!(x[BIDS + k], bid / 4.0);
            assert_eq!(x[NEEDED + k], bid / 4.0, "no trick won yet");
        }
        for seat in [0, 1] {
            let k = rel(seat, observer, 5);
            assert_eq!(x[HAS_BID + k], 0.0, "seat {seat} has not bid");
            assert_eq!(x[BIDS + k], 0.0);
            assert_eq!(x[NEEDED + k], 0.0);
        }
        // Own need: only once the observer has bid.
        let own = one_hot(&x, OWN_NEED, 4);
        match observer {
            2 => assert_eq!(own, Some(3), "bid 3, won 0: needs two or more"),
            3 => assert_eq!(own, Some(1), "bid 0, won 0: must lose every trick"),
            4 => assert_eq!(own, Some(3), "bid 2, won 0"),
            _ => assert_eq!(own, None, "seat {observer} has not bid"),
        }
        assert!(!encoding::is_play_phase(&x), "still bidding");
    }
    bid_all(&mut r, &[4, 1]);
    let x = enc(&r, 0);
    assert!(encoding::is_play_phase(&x), "playing");
    assert_eq!(
        block(&x, HAS_BID, 8),
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    );
}

#[test]
fn to_act_is_relative_and_the_phase_follows_from_it() {
    let mut rng = rng_from_seed(21);
    for p in 3..=8u64 {
        let cfg = RoundConfig::new(p, 3, D, p / 2).unwrap();
        let mut r = Round::deal(cfg, &mut rng);
        while !r.is_over() {
            let to_act = r.to_act();
            for observer in 0..p as usize {
                let x = enc(&r, observer);
                assert_eq!(
                    one_hot(&x, TO_ACT, 8),
                    Some(rel(to_act, observer, p as usize))
                );
                assert_eq!(
                    encoding::is_play_phase(&x),
                    r.phase() == Phase::Playing,
                    "observer {observer}"
                );
            }
            let a = random_action(&r, &mut rng);
            r.apply_index(a).unwrap();
        }
        assert_eq!(
            one_hot(&enc(&r, 0), TO_ACT, 8),
            None,
            "nobody acts after the end"
        );
    }
}

#[test]
fn trump_is_one_hot_with_a_slot_for_none() {
    let expected = [(S, 0), (H, 1), (C, 2), (D, 3), (NO_TRUMP, 4)];
    for (trump, slot) in expected {
        let cfg = RoundConfig::new(4, 3, trump, 0).unwrap();
        let r = Round::deal(cfg, &mut rng_from_seed(5));
        for observer in 0..4 {
            assert_eq!(one_hot(&enc(&r, observer), TRUMP, 5), Some(slot));
        }
    }
}

#[test]
fn players_and_cards_are_scaled() {
    for p in 3..=8usize {
        for c in [1, 52 / p] {
            let cfg = RoundConfig::new(p as u64, c as u64, S, 0).unwrap();
            let r = Round::deal(cfg, &mut rng_from_seed(5));
            let x = enc(&r, p - 1);
            assert_eq!(x[PLAYERS], p as f32 / 8.0);
            assert_eq!(x[CARDS], c as f32 / CARD_BOUND);
            assert_eq!(encoding::players_of(&x), p);
            assert_eq!(encoding::cards_of(&x), c);
        }
    }
}

/// P = 4, C = 2, trump hearts, dealer 3: seat 0 leads. Seat 2 is void in spades.
fn four_seat_round() -> Round {
    let mut r = round_with(H, 3, &["5S 9D", "KS 2D", "3H 7C", "QS 4C"]);
    bid_all(&mut r, &[1, 0, 1, 1]);
    r
}

#[test]
fn current_trick_block_then_completed_block() {
    let mut r = four_seat_round();
    for observer in 0..4 {
        let x = enc(&r, observer);
        assert!(card_block(&x, PLAYED).is_empty());
        assert!(card_block(&x, TRICK).is_empty());
        assert_eq!(one_hot(&x, LED_SUIT, 4), None, "no card led yet");
        assert_eq!(one_hot(&x, TRICK_WINNER, 8), None);
    }
    play_all(&mut r, "5S KS");
    for observer in 0..4 {
        let x = enc(&r, observer);
        assert_eq!(card_block(&x, TRICK), set("5S KS"));
        assert!(card_block(&x, PLAYED).is_empty());
        assert_eq!(one_hot(&x, LED_SUIT, 4), Some(Suit::Spades.index()));
        // KS (seat 1) is winning so far.
        assert_eq!(one_hot(&x, TRICK_WINNER, 8), Some(rel(1, observer, 4)));
    }
    // Seat 2 trumps in; seat 3 follows with QS. The trump wins.
    play_all(&mut r, "3H");
    assert_eq!(
        one_hot(&enc(&r, 0), TRICK_WINNER, 8),
        Some(rel(2, 0, 4)),
        "the trump takes over"
    );
    play_all(&mut r, "QS");
    assert_eq!(r.to_act(), 2);
    for observer in 0..4 {
        let x = enc(&r, observer);
        assert_eq!(card_block(&x, PLAYED), set("5S KS 3H QS"));
        assert!(card_block(&x, TRICK).is_empty(), "between tricks");
        assert_eq!(one_hot(&x, LED_SUIT, 4), None);
        assert_eq!(one_hot(&x, TRICK_WINNER, 8), None);
        // Bids 1, 0, 1, 1 (C = 2); seat 2 has won one trick and needs none more.
        for (seat, bid) in [1.0f32, 0.0, 1.0, 1.0].into_iter().enumerate() {
            let won = if seat == 2 { 1.0 } else { 0.0 };
            assert_eq!(x[NEEDED + rel(seat, observer, 4)], (bid - won) / 2.0);
        }
        let own = one_hot(&x, OWN_NEED, 4);
        // Seat 1 bid 0 and seat 2 has its trick: both need none; seats 0 and 3 need one.
        let expected = if observer == 1 || observer == 2 { 1 } else { 2 };
        assert_eq!(own, Some(expected), "observer {observer}");
    }
    play_all(&mut r, "7C");
    let x = enc(&r, 3);
    assert_eq!(card_block(&x, TRICK), set("7C"));
    assert_eq!(card_block(&x, PLAYED), set("5S KS 3H QS"));
    assert_eq!(one_hot(&x, LED_SUIT, 4), Some(Suit::Clubs.index()));
    assert_eq!(one_hot(&x, TRICK_WINNER, 8), Some(rel(2, 3, 4)));
}

#[test]
fn voids_land_in_the_slot_of_the_seat_relative_to_the_observer() {
    let mut r = four_seat_round();
    play_all(&mut r, "5S KS 3H"); // seat 2 shows void in spades
    assert_eq!(r.public().voids(2), suit_bit(Suit::Spades));
    let mut slots = Vec::new();
    for observer in 0..4 {
        let x = enc(&r, observer);
        let ones: Vec<usize> = (0..28).filter(|&i| x[VOIDS + i] == 1.0).collect();
        if observer == 2 {
            // Its own void is plain from its hand: not encoded.
            assert!(ones.is_empty(), "own voids are not encoded");
            continue;
        }
        let expected = 4 * (rel(2, observer, 4) - 1) + Suit::Spades.index();
        assert_eq!(ones, [expected], "observer {observer}");
        slots.push(expected);
    }
    slots.dedup();
    assert_eq!(slots.len(), 3);
    // Following suit shows nothing.
    play_all(&mut r, "QS");
    let x = enc(&r, 0);
    assert_eq!(
        block(&x, VOIDS, 28).iter().filter(|&&v| v != 0.0).count(),
        1
    );
}

#[test]
fn round_observations_leave_the_game_slots_empty() {
    let mut rng = rng_from_seed(4);
    let cfg = RoundConfig::new(5, 3, D, 2).unwrap();
    let mut r = Round::deal(cfg, &mut rng);
    while !r.is_over() {
        for seat in 0..5 {
            let x = enc(&r, seat);
            assert!(x[ROUND_INDEX..END].iter().all(|&v| v == 0.0));
            assert!(!encoding::is_in_game(&x));
        }
        let a = random_action(&r, &mut rng);
        r.apply_index(a).unwrap();
    }
}

#[test]
fn game_slots_hold_round_index_rounds_left_and_relative_score_differences() {
    for (p, s, seed) in [(3, 4, 1), (5, 2, 2), (8, 3, 3), (4, 1, 4)] {
        let cfg = GameConfig::new(p, s).unwrap();
        let (p, n) = (p as usize, cfg.num_rounds());
        let mut rng = rng_from_seed(seed);
        let mut g = Game::new(cfg, &mut rng);
        let mut totals = [0i32; MAX_PLAYERS];
        loop {
            let r = g.round_index();
            while !g.round().is_over() {
                for observer in 0..p {
                    let x = encode(&g.observation(observer));
                    assert!(encoding::is_in_game(&x));
                    assert_eq!(x[ROUND_INDEX], r as f32 / 34.0);
                    assert_eq!(x[ROUNDS_LEFT], (n - 1 - r) as f32 / 34.0);
                    for k in 1..8 {
                        let expected = if k < p {
                            let seat = (observer + k) % p;
                            ((totals[seat] - totals[observer]) as f32 / 200.0).clamp(-1.0, 1.0)
                        } else {
                            0.0
                        };
                        assert_eq!(x[SCORE_DIFF + k - 1], expected, "P={p} r={r} k={k}");
                    }
                    // The round part is the round's own observation.
                    let plain = enc(g.round(), observer);
                    assert_eq!(x[..ROUND_INDEX], plain[..ROUND_INDEX]);
                }
                let a = random_action(g.round(), &mut rng);
                g.apply_index(a).unwrap();
            }
            for (t, sc) in totals.iter_mut().zip(g.round().scores().unwrap()) {
                *t += sc as i32;
            }
            if g.is_over() {
                break;
            }
            g.deal_next(&mut rng).unwrap();
        }
        assert!(totals.iter().any(|&t| t > 0), "the test saw some score");
    }
}

#[test]
fn score_differences_saturate() {
    // A long game where one seat scores and the others do not quickly exceeds 200 points; the
    // slot must stay within [-1, 1]. Built directly from a context.
    let r = Round::deal(
        RoundConfig::new(3, 1, None, 0).unwrap(),
        &mut rng_from_seed(1),
    );
    let mut totals = [0u16; MAX_PLAYERS];
    totals[1] = 900;
    let ctx = GameContext {
        round_index: 30,
        num_rounds: 35,
        totals,
    };
    let x0 = encode(&Observation::of_round(&r, 0, Some(ctx)));
    assert_eq!(x0[SCORE_DIFF], 1.0, "seat 1 is far ahead of seat 0");
    assert_eq!(x0[SCORE_DIFF + 1], 0.0);
    let x1 = encode(&Observation::of_round(&r, 1, Some(ctx)));
    assert_eq!(x1[SCORE_DIFF], -1.0, "seat 2 is far behind seat 1");
    assert_eq!(x1[SCORE_DIFF + 1], -1.0);
    assert_eq!(x1[ROUNDS_LEFT], 4.0 / 34.0);
}

#[test]
fn legal_mask_is_the_observations_legal_actions() {
    let mut rng = rng_from_seed(8);
    for p in 3..=8u64 {
        let cfg = RoundConfig::new(p, 3, C, p - 1).unwrap();
        let mut r = Round::deal(cfg, &mut rng);
        loop {
            for seat in 0..p as usize {
                let obs = r.observation(seat);
                let mask = legal_mask(&obs);
                let legal = obs.legal_actions();
                for (i, &m) in mask.iter().enumerate() {
                    assert_eq!(m == 1.0, legal.contains(i));
                    assert!(m == 0.0 || m == 1.0);
                }
                if seat == r.to_act() {
                    assert_eq!(legal, r.legal_actions());
                    assert_eq!(mask.iter().filter(|&&m| m == 1.0).count() == 0, r.is_over());
                } else {
                    assert!(mask.iter().all(|&m| m == 0.0), "only the seat to act acts");
                }
            }
            if r.is_over() {
                break;
            }
            let a = random_action(&r, &mut rng);
            r.apply_index(a).unwrap();
        }
    }
}

#[test]
fn encode_into_overwrites_every_element() {
    let mut r = four_seat_round();
    play_all(&mut r, "5S KS");
    let obs = r.observation(2);
    let mut x = [0.5f32; ENCODING_LEN];
    encode_into(&obs, &mut x);
    assert_eq!(x, encode(&obs));
}
