//! One test (or a few) per rule of `shared/RULES.md`, named after the bracketed rule names.
//! Deals are scripted so that every expected result follows from the rules alone.

mod common;

use common::*;
use game::*;

// ---------------------------------------------------------------------------------------------
// Bidding
// ---------------------------------------------------------------------------------------------

#[test]
fn bidding_starts_left_of_dealer_and_dealer_bids_last() {
    let mut rng = rng_from_seed(11);
    for p in 3..=8usize {
        for dealer in 0..p {
            let cfg = RoundConfig::new(p as u64, 2, H, dealer as u64).unwrap();
            let mut r = Round::deal(cfg, &mut rng);
            let mut order = Vec::new();
            while r.phase() == Phase::Bidding {
                order.push(r.to_act());
                let bid = r.legal_actions().nth(0).unwrap();
                r.apply_index(bid).unwrap();
            }
            let expected: Vec<usize> = (1..=p).map(|k| (dealer + k) % p).collect();
            assert_eq!(order, expected, "P={p} dealer={dealer}");
            assert_eq!(*order.last().unwrap(), dealer);
            assert_eq!(r.phase(), Phase::Playing);
        }
    }
}

#[test]
fn bid_range_is_zero_to_cards() {
    let mut rng = rng_from_seed(12);
    for c in 1..=13u64 {
        let cfg = RoundConfig::new(4, c, S, 0).unwrap();
        let r = Round::deal(cfg, &mut rng);
        // Seat 1 bids first and is not the dealer: every bid 0..=C is open to it.
        let expected: Vec<usize> = (0..=c as usize).collect();
        assert_eq!(r.legal_actions().iter().collect::<Vec<_>>(), expected);
        for b in 0..=c {
            let mut x = r;
            assert_eq!(x.apply_bid(b), Ok(()));
            assert_eq!(x.public().bid(1), Some(b as usize));
        }
        for b in [c + 1, c + 2, 52, 255, 256, u64::MAX] {
            let mut x = r;
            let err = x.apply_bid(b).unwrap_err();
            assert_eq!(
                err,
                IllegalAction::BidOutOfRange {
                    seat: 1,
                    bid: b,
                    max: c as usize
                }
            );
            assert_eq!(x, r, "a refused bid changed the round");
        }
        let mut x = r;
        assert!(matches!(
            refuse(&mut x, Action::Bid(c as u8 + 1)),
            IllegalAction::BidOutOfRange { .. }
        ));
    }
}

/// The dealer's legal bids after the others bid `others` (in bidding order).
fn dealer_legal_bids(cards: u64, others: &[u64]) -> Vec<usize> {
    let p = others.len() + 1;
    let cfg = RoundConfig::new(p as u64, cards, C, (p - 1) as u64).unwrap();
    let mut r = Round::deal(cfg, &mut rng_from_seed(cards));
    bid_all(&mut r, others);
    assert_eq!(r.to_act(), p - 1, "the dealer bids last");
    let legal: Vec<usize> = r.legal_actions().iter().collect();
    // Exactly the legal bids are accepted; the refused ones name the rule.
    for b in 0..=cards as usize {
        let mut x = r;
        match x.apply_bid(b as u64) {
            Ok(()) => assert!(legal.contains(&b)),
            Err(e) => {
                assert!(!legal.contains(&b));
                assert_eq!(
                    e,
                    IllegalAction::DealerConstraint {
                        seat: p - 1,
                        bid: b,
                        cards: cards as usize
                    }
                );
                assert!(e.to_string().contains("[dealer-constraint]"), "{e}");
                assert_eq!(x, r);
            }
        }
    }
    legal
}

#[test]
fn dealer_constraint_forbids_the_bid_that_makes_the_sum_equal_cards() {
    // Four players, five cards: the others bid 1 + 2 + 0 = 3, so the dealer may not bid 2.
    assert_eq!(dealer_legal_bids(5, &[1, 2, 0]), [0, 1, 3, 4, 5]);
    // Every combination of the others' bids for P = 3, C = 3.
    for a in 0..=3u64 {
        for b in 0..=3u64 {
            let legal = dealer_legal_bids(3, &[a, b]);
            let forbidden = 3i64 - (a + b) as i64;
            let expected: Vec<usize> = (0..=3usize).filter(|&x| x as i64 != forbidden).collect();
            assert_eq!(legal, expected, "others bid {a} and {b}");
            // Whatever the dealer bids, the sum of the bids is never C.
            assert!(legal.iter().all(|&d| a + b + d as u64 != 3));
        }
    }
}

#[test]
fn dealer_constraint_dealer_is_free_when_others_overbid() {
    // Others bid 2 + 2 = 4 > C = 3: the forbidden value would be -1, so nothing is forbidden.
    assert_eq!(dealer_legal_bids(3, &[2, 2]), [0, 1, 2, 3]);
    assert_eq!(dealer_legal_bids(1, &[1, 1, 1, 1, 1, 1, 1]), [0, 1]);
}

#[test]
fn dealer_constraint_can_forbid_zero_and_can_forbid_cards() {
    // Others bid exactly C: the dealer may not bid 0.
    assert_eq!(dealer_legal_bids(4, &[3, 1, 0]), [1, 2, 3, 4]);
    // Others bid nothing: the dealer may not bid C.
    assert_eq!(dealer_legal_bids(4, &[0, 0, 0]), [0, 1, 2, 3]);
    // One card, others all 0: the dealer must bid 0.
    assert_eq!(dealer_legal_bids(1, &[0, 0]), [0]);
}

#[test]
fn dealer_constraint_binds_only_the_dealer() {
    // P = 4, C = 2, dealer 3: seat 1 (the second bidder) brings the sum to C and seat 2 keeps
    // it there; neither is the dealer, so both bids stand.
    let cfg = RoundConfig::new(4, 2, D, 3).unwrap();
    let mut r = Round::deal(cfg, &mut rng_from_seed(3));
    bid_all(&mut r, &[1, 1]);
    assert_eq!(r.to_act(), 2);
    assert_eq!(r.legal_actions().iter().collect::<Vec<_>>(), [0, 1, 2]);
    bid_all(&mut r, &[0]);
    assert_eq!(r.public().bid_sum(), 2);
    let mut x = r;
    let err = refuse(&mut x, Action::Bid(0));
    assert!(matches!(
        err,
        IllegalAction::DealerConstraint { seat: 3, .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Play
// ---------------------------------------------------------------------------------------------

#[test]
fn first_trick_is_led_left_of_dealer() {
    let mut rng = rng_from_seed(21);
    for p in 3..=8usize {
        for dealer in 0..p {
            let cfg = RoundConfig::new(p as u64, 3, None, dealer as u64).unwrap();
            let mut r = Round::deal(cfg, &mut rng);
            while r.phase() == Phase::Bidding {
                let a = random_action(&r, &mut rng);
                r.apply_index(a).unwrap();
            }
            assert_eq!(r.to_act(), (dealer + 1) % p, "P={p} dealer={dealer}");
            assert_eq!(r.public().current_trick(), ((dealer + 1) % p, &[][..]));
        }
    }
}

#[test]
fn play_goes_clockwise_within_a_trick() {
    let mut rng = rng_from_seed(22);
    for p in 3..=8usize {
        let cfg = RoundConfig::new(p as u64, 4, S, (p - 1) as u64).unwrap();
        let mut r = Round::deal(cfg, &mut rng);
        while !r.is_over() {
            if r.phase() == Phase::Playing {
                let (leader, so_far) = r.public().current_trick();
                assert_eq!(r.to_act(), (leader + so_far.len()) % p);
            }
            let a = random_action(&r, &mut rng);
            r.apply_index(a).unwrap();
        }
    }
}

/// A three-card round: seat 0 leads (dealer 2); everyone bids 0 (the dealer may: C = 3).
fn follow_suit_round() -> Round {
    let mut r = round_with(
        S,
        2,
        &[
            "AH 3S 3D", // seat 0: leads hearts; holds a trump
            "KH 2S 5C", // seat 1: holds a heart, so must follow hearts
            "4S 6C 7D", // seat 2: void in hearts, holds a trump
        ],
    );
    bid_all(&mut r, &[0, 0, 0]);
    r
}

#[test]
fn follow_suit_must_follow_when_able() {
    let mut r = follow_suit_round();
    play_all(&mut r, "AH");
    assert_eq!(r.to_act(), 1);
    assert_eq!(r.legal_cards(), set("KH"));
    for off_suit in ["2S", "5C"] {
        let err = refuse(&mut r, Action::Play(card(off_suit)));
        assert_eq!(
            err,
            IllegalAction::FollowSuit {
                seat: 1,
                card: card(off_suit),
                suit: Suit::Hearts
            }
        );
        assert!(err.to_string().contains("[follow-suit]"), "{err}");
    }
    play_all(&mut r, "KH");
    // Following suit shows no void.
    assert_eq!(r.public().voids(1), 0);
}

#[test]
fn follow_suit_void_player_may_discard_anything() {
    let mut r = follow_suit_round();
    play_all(&mut r, "AH KH");
    assert_eq!(r.to_act(), 2);
    assert_eq!(r.legal_cards(), set("4S 6C 7D"));
    for c in ["4S", "6C", "7D"] {
        let mut x = r;
        assert_eq!(x.apply(Action::Play(card(c))), Ok(()));
        assert_eq!(x.public().voids(2), suit_bit(Suit::Hearts));
    }
}

#[test]
fn follow_suit_no_obligation_to_trump() {
    let mut r = follow_suit_round();
    // Seat 2 holds the trump 4S but discards a club; the ace of hearts then wins.
    play_all(&mut r, "AH KH 6C");
    assert_eq!(r.public().tricks_won(0), 1);
    assert_eq!(r.to_act(), 0);
}

#[test]
fn follow_suit_trump_may_be_led_any_time() {
    // On the first trick, holding other suits, the leader may lead trump.
    let r = follow_suit_round();
    assert!(r.legal_cards().contains(card("3S")));
    assert_eq!(r.legal_cards(), set("AH 3S 3D"));
    // And later: seat 0 wins trick one and leads trump in trick two.
    let mut r = follow_suit_round();
    play_all(&mut r, "AH KH 6C");
    assert_eq!(r.legal_cards(), set("3S 3D"));
    play_all(&mut r, "3S");
    // A trump lead must be followed with trump.
    assert_eq!(r.legal_cards(), set("2S"));
    play_all(&mut r, "2S 4S");
    assert_eq!(r.public().tricks_won(2), 1, "4S is the highest trump");
}

/// The seat winning a one-card round where seat 0 leads and seat i plays `plays[i]`.
fn trick_winner(trump: Option<Suit>, plays: &[&str]) -> usize {
    let p = plays.len();
    let mut r = round_with(trump, p - 1, plays);
    bid_all(&mut r, &vec![0; p]);
    play_all(&mut r, &plays.join(" "));
    assert!(r.is_over());
    let winners: Vec<usize> = (0..p).filter(|&s| r.public().tricks_won(s) == 1).collect();
    assert_eq!(winners.len(), 1);
    // The engine's trick-winner function agrees with the played round.
    let played: Vec<Card> = plays.iter().map(|c| card(c)).collect();
    assert_eq!(winning_position(&played, trump), Some(winners[0]));
    winners[0]
}

#[test]
fn trick_winner_any_trump_beats_every_other_card() {
    assert_eq!(trick_winner(H, &["AS", "2H", "KS"]), 1);
    assert_eq!(trick_winner(D, &["AS", "KS", "QS", "2D"]), 3);
}

#[test]
fn trick_winner_highest_trump_wins() {
    assert_eq!(trick_winner(H, &["AS", "2H", "9H", "KS"]), 2);
    assert_eq!(trick_winner(H, &["5H", "AS", "6H"]), 2, "trump led");
    assert_eq!(trick_winner(C, &["3C", "AC", "KC", "2C", "AD"]), 1);
}

#[test]
fn trick_winner_without_trump_highest_of_led_suit_wins() {
    // Trump is hearts but nobody plays one: off-suit aces lose to the suit led.
    assert_eq!(trick_winner(H, &["5C", "AS", "9C", "AD"]), 2);
    assert_eq!(
        trick_winner(H, &["2C", "AS", "AD"]),
        0,
        "a lone two of the led suit wins"
    );
}

#[test]
fn trick_winner_no_trump_round_offsuit_ace_loses() {
    assert_eq!(trick_winner(NO_TRUMP, &["2S", "AH", "AD", "3S"]), 3);
    assert_eq!(trick_winner(NO_TRUMP, &["2S", "AH", "AD"]), 0);
    assert_eq!(trick_winner(NO_TRUMP, &["KD", "AC", "QD", "AS", "AH"]), 0);
}

#[test]
fn trick_winner_leads_the_next_trick() {
    // Dealer 0, so seat 1 leads the first trick.
    let mut r = round_with(NO_TRUMP, 0, &["KS 5H", "2S 3H", "AS 4H"]);
    bid_all(&mut r, &[0, 0, 0]);
    assert_eq!(r.to_act(), 1);
    play_all(&mut r, "2S AS KS");
    assert_eq!(r.public().tricks_won(2), 1);
    assert_eq!(r.to_act(), 2, "seat 2 won with AS and leads");
    let mut order = Vec::new();
    for c in ["4H", "5H", "3H"] {
        order.push(r.to_act());
        play_all(&mut r, c);
    }
    assert_eq!(order, [2, 0, 1]);
    assert_eq!(r.public().trick(1).0, 2);
    assert_eq!(r.public().tricks_won(0), 1, "5H wins the hearts trick");
    assert!(r.is_over());
}

// ---------------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------------

/// P = 3, C = 3, no trump, seat 0 leads and, holding the three top spades, wins every trick.
fn scored_round(bids: &[u64]) -> [u8; MAX_PLAYERS] {
    let mut r = round_with(NO_TRUMP, 2, &["AS KS QS", "2S 3S 4S", "5S 6S 7S"]);
    bid_all(&mut r, bids);
    assert_eq!(r.scores(), None, "no score before the round is over");
    while !r.is_over() {
        assert_eq!(r.scores(), None);
        let lowest = r.legal_cards().lowest().unwrap();
        r.apply(Action::Play(lowest)).unwrap();
    }
    assert_eq!(r.public().tricks_won(0), 3);
    r.scores().unwrap()
}

#[test]
fn exact_bid_scores_ten_plus_bid() {
    // Seat 0 bids 3 and wins 3; seat 1 bids 0 and wins 0; seat 2 bids 1 and wins 0.
    assert_eq!(scored_round(&[3, 0, 1])[..3], [13, 10, 0]);
}

#[test]
fn exact_bid_zero_and_win_none_scores_ten() {
    let s = scored_round(&[3, 0, 1]);
    assert_eq!(s[1], 10);
}

#[test]
fn exact_bid_miss_scores_zero() {
    // Seat 0 bids 2 and wins 3 (over); seat 2 bids 2 and wins 0 (under).
    assert_eq!(scored_round(&[2, 0, 2])[..3], [0, 10, 0]);
    // Nobody exact.
    assert_eq!(scored_round(&[1, 1, 0])[..3], [0, 0, 10]);
    assert_eq!(scored_round(&[1, 1, 2])[..3], [0, 0, 0]);
}

// ---------------------------------------------------------------------------------------------
// A full game
// ---------------------------------------------------------------------------------------------

/// The schedule of RULES.md written out: S, S-1, .., 2, then P ones, then 2, .., S.
fn schedule(p: usize, s: usize) -> Vec<usize> {
    (2..=s)
        .rev()
        .chain(std::iter::repeat_n(1, p))
        .chain(2..=s)
        .collect()
}

/// Plays a game with random legal actions; returns (cards, trump, dealer) of each round.
fn rounds_of_random_game(p: u64, s: u64, seed: u64) -> Vec<(usize, Option<Suit>, usize)> {
    let mut rng = rng_from_seed(seed);
    let mut g = Game::new(GameConfig::new(p, s).unwrap(), &mut rng);
    let mut seen = Vec::new();
    loop {
        let cfg = *g.round().public().config();
        assert_eq!(g.round_index(), seen.len());
        seen.push((cfg.cards(), cfg.trump(), cfg.dealer()));
        while !g.round().is_over() {
            let a = random_action(g.round(), &mut rng);
            g.apply_index(a).unwrap();
        }
        if g.is_over() {
            return seen;
        }
        g.deal_next(&mut rng).unwrap();
    }
}

#[test]
fn schedule_rules_example_p5_s7() {
    let cfg = GameConfig::new(5, 7).unwrap();
    let expected = [7, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7];
    assert_eq!(cfg.num_rounds(), 17);
    let sizes: Vec<usize> = (0..cfg.num_rounds())
        .map(|r| cfg.round_config(r).unwrap().cards())
        .collect();
    assert_eq!(sizes, expected);
    let played: Vec<usize> = rounds_of_random_game(5, 7, 1).iter().map(|r| r.0).collect();
    assert_eq!(played, expected);
}

#[test]
fn schedule_with_one_card_start_is_p_one_card_rounds() {
    for p in 3..=8u64 {
        let rounds = rounds_of_random_game(p, 1, p);
        assert_eq!(rounds.len(), p as usize);
        assert!(rounds.iter().all(|r| r.0 == 1));
    }
}

#[test]
fn schedule_for_every_configuration() {
    for p in 3..=8usize {
        for s in 1..=52 / p {
            let cfg = GameConfig::new(p as u64, s as u64).unwrap();
            assert_eq!(cfg.num_rounds(), 2 * s - 2 + p, "P={p} S={s}");
            let sizes: Vec<usize> = (0..cfg.num_rounds())
                .map(|r| cfg.round_config(r).unwrap().cards())
                .collect();
            assert_eq!(sizes, schedule(p, s), "P={p} S={s}");
            assert!(cfg.round_config(cfg.num_rounds()).is_none());
        }
    }
    // Played out, a long game follows the same schedule.
    let played: Vec<usize> = rounds_of_random_game(3, 17, 5)
        .iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(played, schedule(3, 17));
}

#[test]
fn trump_rotation() {
    let rotation = [S, H, C, D, NO_TRUMP];
    for (p, s) in [(3, 6), (4, 4), (7, 2)] {
        for (r, &(_, trump, _)) in rounds_of_random_game(p, s, 7).iter().enumerate() {
            assert_eq!(trump, rotation[r % 5], "P={p} S={s} round {r}");
        }
    }
}

#[test]
fn dealer_rotation() {
    for (p, s) in [(3, 6), (5, 3), (8, 6)] {
        let rounds = rounds_of_random_game(p, s, 9);
        assert_eq!(rounds[0].2, 0, "seat 0 deals round 0");
        for (r, &(_, _, dealer)) in rounds.iter().enumerate() {
            assert_eq!(dealer, r % p as usize, "P={p} S={s} round {r}");
        }
    }
}

/// One scripted one-card round of a 3-player game: each seat's card and the bids in bidding
/// order. Each seat plays its only card.
struct OneCardRound {
    hands: [&'static str; 3],
    bids: [u64; 3],
}

/// Plays a 3-player game with S = 1 (three one-card rounds, trumps S H C, dealers 0 1 2).
fn scripted_game(rounds: [OneCardRound; 3]) -> Game {
    let cfg = GameConfig::new(3, 1).unwrap();
    let hands = |r: &OneCardRound| r.hands.iter().map(|h| cards(h)).collect::<Vec<_>>();
    let mut g = Game::with_first_hands(cfg, &hands(&rounds[0])).unwrap();
    for (i, r) in rounds.iter().enumerate() {
        if i > 0 {
            g.deal_next_with_hands(&hands(r)).unwrap();
        }
        for &b in &r.bids {
            g.apply(Action::Bid(b as u8)).unwrap();
        }
        while !g.round().is_over() {
            let only = g.round().hand(g.round().to_act()).lowest().unwrap();
            g.apply(Action::Play(only)).unwrap();
        }
    }
    assert!(g.is_over());
    g
}

// In each script: round 0 has trump S and seat 1 leads; round 1 trump H, seat 2 leads; round 2
// trump C, seat 0 leads.

#[test]
fn game_totals_are_sums_and_single_winner() {
    let g = scripted_game([
        // Seat 0 trumps the hearts lead. Bids (seats 1, 2, 0): 1, 0, 1 -> seat 0 exact.
        OneCardRound {
            hands: ["AS", "2H", "3H"],
            bids: [1, 0, 1],
        },
        // Seat 1 trumps. Bids (seats 2, 0, 1): 0, 0, 0 -> seat 1 misses.
        OneCardRound {
            hands: ["2C", "AH", "3C"],
            bids: [0, 0, 0],
        },
        // Seat 2 trumps. Bids (seats 0, 1, 2): 1, 0, 1 -> seat 2 exact.
        OneCardRound {
            hands: ["2D", "3D", "AC"],
            bids: [1, 0, 1],
        },
    ]);
    let rounds: Vec<[u8; 3]> = g
        .round_scores()
        .iter()
        .map(|s| [s[0], s[1], s[2]])
        .collect();
    assert_eq!(rounds, [[11, 0, 10], [10, 0, 10], [0, 10, 11]]);
    assert_eq!(g.totals(), [21, 10, 31]);
    assert_eq!(g.winners(), [2]);
}

#[test]
fn game_tie_gives_several_winners() {
    // Everyone bids 0; each seat wins one trick: 20 points each, three winners.
    let g = scripted_game([
        OneCardRound {
            hands: ["AS", "2H", "3H"],
            bids: [0, 0, 0],
        },
        OneCardRound {
            hands: ["2C", "AH", "3C"],
            bids: [0, 0, 0],
        },
        OneCardRound {
            hands: ["2D", "3D", "AC"],
            bids: [0, 0, 0],
        },
    ]);
    assert_eq!(g.totals(), [20, 20, 20]);
    assert_eq!(g.winners(), [0, 1, 2]);

    // Seat 0 wins every trick: 0 points; the other two tie on 30.
    let g = scripted_game([
        OneCardRound {
            hands: ["AS", "2H", "3H"],
            bids: [0, 0, 0],
        },
        OneCardRound {
            hands: ["AH", "2C", "3C"],
            bids: [0, 0, 0],
        },
        OneCardRound {
            hands: ["AC", "2D", "3D"],
            bids: [0, 0, 0],
        },
    ]);
    assert_eq!(g.totals(), [0, 30, 30]);
    assert_eq!(g.winners(), [1, 2]);
}

// ---------------------------------------------------------------------------------------------
// Actions at the wrong time or with the wrong card
// ---------------------------------------------------------------------------------------------

#[test]
fn card_during_bidding_is_refused() {
    let mut r = follow_suit_round_before_bids();
    for c in ["AH", "4S", "AD"] {
        let err = refuse(&mut r, Action::Play(card(c)));
        assert_eq!(
            err,
            IllegalAction::CardDuringBidding {
                seat: 0,
                card: card(c)
            }
        );
    }
    // By index, bidding reads the index as a bid, so a card's index is a bid out of range.
    let before = r;
    assert!(matches!(
        r.apply_index(card("AH").index()),
        Err(IllegalAction::BidOutOfRange { .. })
    ));
    assert_eq!(r, before);
}

fn follow_suit_round_before_bids() -> Round {
    round_with(S, 2, &["AH 3S 3D", "KH 2S 5C", "4S 6C 7D"])
}

#[test]
fn bid_during_play_is_refused() {
    let mut r = follow_suit_round();
    assert_eq!(r.phase(), Phase::Playing);
    for b in [0, 1, 3] {
        let err = refuse(&mut r, Action::Bid(b));
        assert_eq!(
            err,
            IllegalAction::BidDuringPlay {
                seat: 0,
                bid: b as u64
            }
        );
    }
    let before = r;
    assert!(matches!(
        r.apply_bid(0),
        Err(IllegalAction::BidDuringPlay { .. })
    ));
    // An index past the 52 cards is no action at all during play.
    assert!(matches!(
        r.apply_index(52),
        Err(IllegalAction::NotAnAction { index: 52 })
    ));
    assert!(matches!(
        r.apply_index(usize::MAX),
        Err(IllegalAction::NotAnAction { .. })
    ));
    assert_eq!(r, before);
}

#[test]
fn card_not_in_hand_is_refused() {
    let mut r = follow_suit_round();
    play_all(&mut r, "AH");
    // Seat 1 to act.
    let mut reasons = Vec::new();
    for (c, what) in [
        ("6C", "another seat"),   // in seat 2's hand
        ("AH", "already played"), // seat 0 just played it
        ("AD", "never dealt"),
    ] {
        let err = refuse(&mut r, Action::Play(card(c)));
        let IllegalAction::NotInHand {
            seat,
            card: got,
            why,
        } = err.clone()
        else {
            panic!("{c}: expected NotInHand, got {err:?}");
        };
        assert_eq!((seat, got), (1, card(c)));
        assert!(why.contains(what), "{c}: {why}");
        assert!(err.to_string().contains(c), "{err}");
        reasons.push(why);
        // Also by index.
        let before = r;
        assert!(matches!(
            r.apply_index(card(c).index()),
            Err(IllegalAction::NotInHand { .. })
        ));
        assert_eq!(r, before);
    }
    reasons.dedup();
    assert_eq!(reasons.len(), 3);
    // Seat 0's own card played in an earlier trick, offered again when seat 0 leads.
    play_all(&mut r, "KH 6C");
    assert_eq!(r.to_act(), 0);
    assert!(matches!(
        refuse(&mut r, Action::Play(card("AH"))),
        IllegalAction::NotInHand { seat: 0, .. }
    ));
}

#[test]
fn any_action_after_the_round_is_over_is_refused() {
    let mut r = follow_suit_round();
    play_all(&mut r, "AH KH 6C 3S 2S 4S");
    // Seat 2 won the trump trick and leads the last one.
    play_all(&mut r, "7D 3D 5C");
    assert!(r.is_over());
    assert!(r.legal_actions().is_empty());
    assert!(r.legal_cards().is_empty());
    for action in [
        Action::Bid(0),
        Action::Bid(3),
        Action::Play(card("AH")),
        Action::Play(card("AD")),
    ] {
        assert_eq!(refuse(&mut r, action), IllegalAction::RoundOver);
    }
    let before = r;
    for i in [0, 1, 51, 52, 1000] {
        assert_eq!(r.apply_index(i), Err(IllegalAction::RoundOver));
    }
    assert_eq!(r.apply_bid(0), Err(IllegalAction::RoundOver));
    assert_eq!(r, before);
}

#[test]
fn game_refuses_actions_and_deals_at_the_wrong_time() {
    let mut rng = rng_from_seed(31);
    let cfg = GameConfig::new(4, 2).unwrap();
    let mut g = Game::new(cfg, &mut rng);
    assert_eq!(
        g.deal_next(&mut rng),
        Err(NextRoundError::RoundInProgress(0))
    );
    while !g.round().is_over() {
        let a = random_action(g.round(), &mut rng);
        g.apply_index(a).unwrap();
    }
    let totals = g.totals().to_vec();
    // The round is over but the next is not dealt: actions are refused and score nothing.
    assert_eq!(g.apply(Action::Bid(0)), Err(IllegalAction::RoundOver));
    assert_eq!(g.apply_index(0), Err(IllegalAction::RoundOver));
    assert_eq!(g.totals(), totals);
    assert_eq!(g.round_scores().len(), 1);
    // A malformed deal for the next round is refused and leaves the game in round 0.
    let bad: Vec<Vec<Card>> = vec![cards("AS"), cards("KS"), cards("QS")];
    assert!(matches!(
        g.deal_next_with_hands(&bad),
        Err(NextRoundError::Setup(SetupError::HandCount { .. }))
    ));
    assert_eq!(g.round_index(), 0);
    while !g.is_over() {
        g.deal_next(&mut rng).unwrap();
        while !g.round().is_over() {
            let a = random_action(g.round(), &mut rng);
            g.apply_index(a).unwrap();
        }
    }
    assert_eq!(
        g.deal_next(&mut rng),
        Err(NextRoundError::GameOver(cfg.num_rounds()))
    );
}

#[test]
fn malformed_deals_are_refused() {
    let cfg = RoundConfig::new(3, 2, S, 0).unwrap();
    let deal = |hands: &[&str]| {
        let hands: Vec<Vec<Card>> = hands.iter().map(|h| cards(h)).collect();
        Round::with_hands(cfg, &hands)
    };
    assert!(deal(&["AS KS", "QS JS", "TS 9S"]).is_ok());
    assert_eq!(
        deal(&["AS KS", "QS JS"]).unwrap_err(),
        SetupError::HandCount {
            expected: 3,
            got: 2
        }
    );
    assert_eq!(
        deal(&["AS KS", "QS", "TS 9S"]).unwrap_err(),
        SetupError::HandSize {
            seat: 1,
            expected: 2,
            got: 1
        }
    );
    assert_eq!(
        deal(&["AS KS", "QS JS", "TS AS"]).unwrap_err(),
        SetupError::DuplicateCard {
            card: card("AS"),
            first: 0,
            second: 2
        }
    );
    assert!(matches!(
        deal(&["AS AS", "QS JS", "TS 9S"]),
        Err(SetupError::DuplicateCard { .. })
    ));
}
