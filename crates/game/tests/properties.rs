//! Property tests over random rounds and random full games, every player count 3..=8.
//!
//! Each case deals from a seed and plays uniformly random legal actions, checking invariants at
//! every step: legality agrees with `apply`, cards move only from a hand to the table, voids are
//! true, hand sizes are right, observations depend only on what the observer can see, and every
//! encoded value lies in [-1, 1]. Case counts keep the file to a few seconds in debug builds.

mod common;

use common::*;
use game::*;
use proptest::prelude::*;
use rand::RngExt;

/// A random round set-up valid for its player count: (P, C, trump, dealer, seed).
fn round_setup() -> impl Strategy<Value = (RoundConfig, u64)> {
    (3u64..=8)
        .prop_flat_map(|p| (Just(p), 1..=52 / p, 0usize..5, 0..p, any::<u64>()))
        .prop_map(|(p, c, trump, dealer, seed)| {
            let cfg = RoundConfig::new(p, c, TRUMP_ROTATION[trump], dealer).unwrap();
            (cfg, seed)
        })
}

/// A random game set-up valid for its player count: (P, S, seed).
fn game_setup() -> impl Strategy<Value = (GameConfig, u64)> {
    (3u64..=8)
        .prop_flat_map(|p| (Just(p), 1..=52 / p, any::<u64>()))
        .prop_map(|(p, s, seed)| (GameConfig::new(p, s).unwrap(), seed))
}

fn phase_rank(phase: Phase) -> u8 {
    match phase {
        Phase::Bidding => 0,
        Phase::Playing => 1,
        Phase::Over => 2,
    }
}

/// The winner's position in a trick, written from RULES.md [trick-winner] independently of
/// the engine: the highest trump if any was played, else the highest card of the suit led.
fn reference_winner(cards: &[Card], trump: Option<Suit>) -> usize {
    let led = cards[0].suit();
    let winning_suit = match trump {
        Some(t) if cards.iter().any(|c| c.suit() == t) => t,
        _ => led,
    };
    (0..cards.len())
        .filter(|&i| cards[i].suit() == winning_suit)
        .max_by_key(|&i| cards[i].rank())
        .unwrap()
}

/// Checks one state: legality against `apply`, observations' legal actions, hand sizes, card
/// bookkeeping, and encoding bounds for every seat (with `game` as context).
fn check_state(r: &Round, game: Option<GameContext>) -> Result<(), TestCaseError> {
    let pb = r.public();
    let p = pb.players();
    let legal = r.legal_actions();
    prop_assert_eq!(
        legal.is_empty(),
        r.is_over(),
        "legal actions empty iff over"
    );

    // Legal indices are exactly those `apply_index` accepts; a refusal changes nothing.
    for i in 0..64 {
        let mut x = *r;
        let ok = x.apply_index(i).is_ok();
        prop_assert_eq!(ok, legal.contains(i), "index {} in {:?}", i, r.phase());
        if !ok {
            prop_assert_eq!(&x, r);
        }
    }
    // The same through `apply`: every bid a u8 can carry while bidding (bids in range and a
    // few beyond it otherwise), and every card.
    let bids: Vec<u8> = if r.phase() == Phase::Bidding {
        (0..=255).collect()
    } else {
        (0..=MAX_CARDS as u8 + 1).chain([255]).collect()
    };
    for b in bids {
        let mut x = *r;
        let ok = x.apply(Action::Bid(b)).is_ok();
        prop_assert_eq!(
            ok,
            r.phase() == Phase::Bidding && legal.contains(b as usize)
        );
    }
    for c in Card::all() {
        let mut x = *r;
        let ok = x.apply(Action::Play(c)).is_ok();
        prop_assert_eq!(ok, r.phase() == Phase::Playing && legal.contains(c.index()));
        if !ok {
            prop_assert_eq!(&x, r);
        }
    }
    for b in [52, 53, 256, 1 << 32, u64::MAX] {
        let mut x = *r;
        prop_assert!(x.apply_bid(b).is_err());
        prop_assert_eq!(&x, r);
    }
    if r.phase() == Phase::Playing {
        prop_assert_eq!(legal.bits(), r.legal_cards().bits());
        prop_assert_eq!(
            r.legal_cards().difference(r.hand(r.to_act())),
            CardSet::EMPTY
        );
    }

    // Each seat's observation offers the same legal actions to the seat to act, none to others.
    for seat in 0..p {
        let obs = Observation::of_round(r, seat, game);
        let expected = if seat == r.to_act() {
            legal
        } else {
            ActionSet::EMPTY
        };
        prop_assert_eq!(obs.legal_actions(), expected, "seat {}", seat);
        prop_assert_eq!(obs.hand, r.hand(seat));
        // What the seat has not seen: neither its hand nor the table, but every other hand.
        let unseen = obs.unseen();
        prop_assert!(
            unseen
                .intersection(r.hand(seat).union(pb.played()))
                .is_empty()
        );
        for other in (0..p).filter(|&o| o != seat) {
            prop_assert_eq!(r.hand(other).difference(unseen), CardSet::EMPTY);
        }
        let x = encode(&obs);
        for (i, v) in x.iter().enumerate() {
            prop_assert!(
                v.is_finite() && (-1.0..=1.0).contains(v),
                "encoding[{}] = {} for seat {}",
                i,
                v,
                seat
            );
        }
    }

    // The current trick: who leads, the suit led, and who is winning so far.
    let (leader, trick) = pb.current_trick();
    if r.phase() == Phase::Playing {
        prop_assert_eq!(r.to_act(), (leader + trick.len()) % p);
    }
    prop_assert_eq!(pb.led_suit(), trick.first().map(|c| c.suit()));
    let so_far = (!trick.is_empty()).then(|| {
        let pos = reference_winner(trick, pb.trump());
        (pos, (leader + pos) % p)
    });
    prop_assert_eq!(pb.trick_winner_so_far(), so_far);

    // Hand sizes, and every card in at most one place.
    let mut seen = pb.played();
    prop_assert_eq!(pb.played().len() as usize, pb.plays().len());
    prop_assert_eq!(pb.plays().iter().copied().collect::<CardSet>(), pb.played());
    for seat in 0..p {
        prop_assert_eq!(
            pb.hand_size(seat),
            r.hand(seat).len() as usize,
            "seat {}",
            seat
        );
        prop_assert!(seen.intersection(r.hand(seat)).is_empty());
        seen = seen.union(r.hand(seat));
    }
    for seat in p..MAX_PLAYERS {
        prop_assert!(r.hand(seat).is_empty());
    }
    Ok(())
}

/// Checks one step `before -> after` by action `index`.
fn check_step(before: &Round, after: &Round, index: usize) -> Result<(), TestCaseError> {
    let (b, a) = (before.public(), after.public());
    let p = b.players();
    let seat = before.to_act();
    prop_assert!(phase_rank(a.phase()) >= phase_rank(b.phase()));
    prop_assert!(phase_rank(a.phase()) - phase_rank(b.phase()) <= 1);
    for s in 0..p {
        // Voids are never forgotten.
        prop_assert_eq!(a.voids(s) & b.voids(s), b.voids(s));
    }
    match before.phase() {
        Phase::Bidding => {
            prop_assert_eq!(a.bid(seat), Some(index));
            prop_assert_eq!(after.hands(), before.hands());
            prop_assert_eq!(a.played(), CardSet::EMPTY);
        }
        Phase::Playing => {
            let card = Card::new(index as u8).unwrap();
            // The card comes from the seat's hand, goes on the table, and nowhere else.
            prop_assert!(before.hand(seat).contains(card));
            prop_assert!(!b.played().contains(card));
            for s in 0..p {
                let mut expected = before.hand(s);
                if s == seat {
                    expected.remove(card);
                }
                prop_assert_eq!(after.hand(s), expected);
            }
            let mut played = b.played();
            played.insert(card);
            prop_assert_eq!(a.played(), played);
            prop_assert_eq!(&a.plays()[..b.plays().len()], b.plays());
            prop_assert_eq!(a.plays().last(), Some(&card));
            prop_assert_eq!(a.player_of_play(a.plays().len() - 1), seat);

            // [follow-suit] and voids: a seat never plays a suit it has shown void in; a new
            // void is exactly the led suit when not followed, and the seat really held none.
            prop_assert_eq!(b.voids(seat) & suit_bit(card.suit()), 0);
            let new_voids = a.voids(seat) & !b.voids(seat);
            match b.led_suit() {
                Some(led) if led != card.suit() => {
                    prop_assert!(!before.hand(seat).has_suit(led));
                    prop_assert_ne!(a.voids(seat) & suit_bit(led), 0);
                    prop_assert_eq!(new_voids & !suit_bit(led), 0);
                }
                Some(led) => {
                    prop_assert!(before.legal_cards() == before.hand(seat).of_suit(led));
                    prop_assert_eq!(new_voids, 0);
                }
                None => prop_assert_eq!(new_voids, 0),
            }
            for s in (0..p).filter(|&s| s != seat) {
                prop_assert_eq!(a.voids(s), b.voids(s));
            }
        }
        Phase::Over => prop_assert!(false, "an action was accepted after the round"),
    }
    Ok(())
}

/// Checks a finished round: tricks, cards per seat, winners of each trick, scores.
fn check_finished(r: &Round, actors: &[usize]) -> Result<(), TestCaseError> {
    let pb = r.public();
    let (p, c) = (pb.players(), pb.cards());
    prop_assert!(r.is_over());
    prop_assert_eq!(actors.len(), p + p * c, "P bids and P*C plays");
    prop_assert_eq!((0..p).map(|s| pb.tricks_won(s)).sum::<usize>(), c);
    for seat in 0..p {
        prop_assert!(r.hand(seat).is_empty());
        prop_assert_eq!(actors[p..].iter().filter(|&&s| s == seat).count(), c);
        prop_assert_eq!(
            (0..p * c).filter(|&i| pb.player_of_play(i) == seat).count(),
            c
        );
    }
    prop_assert_eq!(
        &actors[p..],
        (0..p * c).map(|i| pb.player_of_play(i)).collect::<Vec<_>>()
    );

    // Each trick is won by the reference winner, who leads the next trick.
    let mut won = [0usize; MAX_PLAYERS];
    prop_assert_eq!(pb.trick(0).0, (pb.dealer() + 1) % p);
    for t in 0..c {
        let (leader, cards) = pb.trick(t);
        prop_assert_eq!(cards.len(), p);
        let winner = (leader + reference_winner(cards, pb.trump())) % p;
        won[winner] += 1;
        if t + 1 < c {
            prop_assert_eq!(pb.trick(t + 1).0, winner);
        }
    }
    let scores = r.scores().unwrap();
    for seat in 0..p {
        prop_assert_eq!(pb.tricks_won(seat), won[seat]);
        // [exact-bid]
        let bid = pb.bid(seat).unwrap();
        let expected = if bid == won[seat] { 10 + bid } else { 0 };
        prop_assert_eq!(scores[seat] as usize, expected, "seat {}", seat);
    }
    // The dealer constraint held: the bids do not sum to C.
    prop_assert_ne!(pb.bid_sum(), c);
    Ok(())
}

/// Plays `r` to the end with random legal actions, checking every state and step. Returns the
/// states (initial one first) and the action indices.
fn play_checked(
    mut r: Round,
    rng: &mut GameRng,
) -> Result<(Vec<Round>, Vec<usize>), TestCaseError> {
    let mut states = vec![r];
    let mut actions = Vec::new();
    let mut actors = Vec::new();
    check_state(&r, None)?;
    while !r.is_over() {
        let before = r;
        let a = random_action(&r, rng);
        actors.push(r.to_act());
        r.apply_index(a).unwrap();
        check_step(&before, &r, a)?;
        check_state(&r, None)?;
        states.push(r);
        actions.push(a);
    }
    check_finished(&r, &actors)?;
    Ok((states, actions))
}

/// The observer's observation and encoding must be equal in `a` and `b`.
fn same_view(a: &Round, b: &Round, observer: usize) -> Result<(), TestCaseError> {
    let (oa, ob) = (a.observation(observer), b.observation(observer));
    prop_assert_eq!(oa, ob);
    prop_assert_eq!(oa.legal_actions(), ob.legal_actions());
    prop_assert!(encode(&oa) == encode(&ob));
    prop_assert!(legal_mask(&oa) == legal_mask(&ob));
    Ok(())
}

/// A second deal that the observer cannot tell from `states[0]` up to step `k`: the observer's
/// hand and every card played before `k` stay with the same seats, and the cards hidden at
/// step `k` (other hands and undealt cards) are shuffled among the other seats and the
/// undealt pile, keeping hand sizes and voids.
fn indistinguishable_deal(states: &[Round], k: usize, observer: usize, rng: &mut GameRng) -> Round {
    let (start, at_k) = (&states[0], &states[k]);
    let hidden_now = shuffle_hidden(at_k, observer, rng);
    let hands: Vec<Vec<Card>> = (0..start.public().players())
        .map(|s| {
            let played_before_k = start.hand(s).difference(at_k.hand(s));
            played_before_k.union(hidden_now[s]).iter().collect()
        })
        .collect();
    Round::with_hands(*start.public().config(), &hands).expect("a valid redeal")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_rounds_keep_every_invariant((cfg, seed) in round_setup()) {
        let mut rng = rng_from_seed(seed);
        let r = Round::deal(cfg, &mut rng);
        play_checked(r, &mut rng)?;
    }

    #[test]
    fn dealt_hands_are_disjoint_and_full((cfg, seed) in round_setup()) {
        let r = Round::deal(cfg, &mut rng_from_seed(seed));
        let mut all = CardSet::EMPTY;
        for s in 0..cfg.players() {
            prop_assert_eq!(r.hand(s).len() as usize, cfg.cards());
            prop_assert!(all.intersection(r.hand(s)).is_empty());
            all = all.union(r.hand(s));
        }
        prop_assert_eq!(all.len() as usize, cfg.players() * cfg.cards());
        // The same seed deals the same round.
        prop_assert_eq!(Round::deal(cfg, &mut rng_from_seed(seed)), r);
    }

    #[test]
    fn trick_winner_matches_the_rules(
        trump in 0usize..5,
        picks in proptest::sample::subsequence((0..52u8).collect::<Vec<_>>(), 1..=8),
        order_seed in any::<u64>(),
    ) {
        // Any 1..8 distinct cards in random order.
        let mut cards: Vec<Card> = picks.iter().map(|&i| Card::new(i).unwrap()).collect();
        let mut rng = rng_from_seed(order_seed);
        for i in (1..cards.len()).rev() {
            cards.swap(i, rng.random_range(0..=i));
        }
        let trump = TRUMP_ROTATION[trump];
        prop_assert_eq!(winning_position(&cards, trump), Some(reference_winner(&cards, trump)));
    }

    #[test]
    fn observations_hide_what_the_observer_cannot_see(
        (cfg, seed) in round_setup(),
        observer_pick in any::<u64>(),
        cut in 0.0f64..=1.0,
    ) {
        let mut rng = rng_from_seed(seed);
        let (states, actions) = play_checked(Round::deal(cfg, &mut rng), &mut rng)?;
        let observer = (observer_pick % cfg.players() as u64) as usize;
        let k = ((actions.len() as f64) * cut) as usize;

        // Replay the same actions on a redeal the observer cannot tell apart.
        let mut b = indistinguishable_deal(&states, k, observer, &mut rng);
        prop_assert_eq!(b.hand(observer), states[0].hand(observer));
        same_view(&states[0], &b, observer)?;
        for (i, &a) in actions[..k].iter().enumerate() {
            prop_assert!(b.apply_index(a).is_ok(), "action {} of the replay is legal", i);
            same_view(&states[i + 1], &b, observer)?;
        }

        // Swap hidden cards directly in the state at every step.
        for state in &states {
            let hands = shuffle_hidden(state, observer, &mut rng);
            let b = Round::from_parts(*state.public(), hands);
            same_view(state, &b, observer)?;
            check_state(&b, None)?;
        }
    }
}

/// Plays a random game to the end, checking every round as `play_checked` does plus the
/// game's own rules: [schedule], [trump-rotation], [dealer-rotation], totals and winners,
/// the context each observation carries, and information-set invariance with that context.
fn play_game_checked(cfg: GameConfig, seed: u64) -> Result<(), TestCaseError> {
    let (p, s) = (cfg.players(), cfg.start_cards());
    let mut rng = rng_from_seed(seed);
    let mut g = Game::new(cfg, &mut rng);
    let mut totals = [0u16; MAX_PLAYERS];
    let mut rounds = 0;
    loop {
        let r = g.round_index();
        prop_assert_eq!(r, rounds);
        // [schedule], [trump-rotation], [dealer-rotation]
        let rc = *g.round().public().config();
        let expected_cards = if r < s - 1 {
            s - r
        } else if r < s - 1 + p {
            1
        } else {
            r + 3 - s - p
        };
        prop_assert_eq!(rc.cards(), expected_cards, "round {}", r);
        prop_assert_eq!(rc.trump(), [S, H, C, D, None][r % 5]);
        prop_assert_eq!(rc.dealer(), r % p);
        prop_assert_eq!(
            g.context(),
            GameContext {
                round_index: r as u8,
                num_rounds: (2 * s - 2 + p) as u8,
                totals
            }
        );
        let mut actors = Vec::new();
        loop {
            let round = *g.round();
            let ctx = g.context();
            prop_assert_eq!(ctx.totals, totals, "context holds earlier rounds only");
            for seat in 0..p {
                prop_assert_eq!(
                    g.observation(seat),
                    Observation::of_round(&round, seat, Some(ctx))
                );
            }
            // Legality and encoding bounds (game context included) for every seat.
            check_state(&round, Some(ctx))?;
            // The seat to act cannot tell this state from one with its hidden cards moved.
            let observer = round.to_act();
            let moved =
                Round::from_parts(*round.public(), shuffle_hidden(&round, observer, &mut rng));
            prop_assert_eq!(
                Observation::of_round(&moved, observer, Some(ctx)),
                g.observation(observer)
            );
            if round.is_over() {
                break;
            }
            prop_assert_eq!(
                g.deal_next(&mut rng),
                Err(NextRoundError::RoundInProgress(r))
            );
            let a = random_action(&round, &mut rng);
            actors.push(round.to_act());
            // Alternate the two ways of acting.
            if a.is_multiple_of(2) {
                g.apply_index(a).unwrap();
            } else {
                g.apply(round.action_from_index(a).unwrap()).unwrap();
            }
            check_step(&round, g.round(), a)?;
        }
        check_finished(g.round(), &actors)?;
        let scores = g.round().scores().unwrap();
        for seat in 0..MAX_PLAYERS {
            totals[seat] += scores[seat] as u16;
        }
        prop_assert_eq!(g.round_scores().last(), Some(&scores));
        prop_assert_eq!(g.totals(), &totals[..p]);
        rounds += 1;
        if g.is_over() {
            break;
        }
        g.deal_next(&mut rng).unwrap();
    }
    prop_assert_eq!(rounds, 2 * s - 2 + p);
    prop_assert_eq!(g.round_scores().len(), rounds);
    prop_assert_eq!(g.deal_next(&mut rng), Err(NextRoundError::GameOver(rounds)));
    // Totals are the sums of the round scores; the winners are the seats with the most.
    for seat in 0..p {
        let sum: u16 = g.round_scores().iter().map(|sc| sc[seat] as u16).sum();
        prop_assert_eq!(g.totals()[seat], sum);
    }
    let best = *g.totals().iter().max().unwrap();
    let winners: Vec<usize> = (0..p).filter(|&s| g.totals()[s] == best).collect();
    prop_assert_eq!(g.winners(), winners);
    Ok(())
}

proptest! {
    // A game is up to 35 rounds: fewer cases (every player count also runs below).
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn random_games_keep_every_invariant((cfg, seed) in game_setup()) {
        play_game_checked(cfg, seed)?;
    }
}

/// One game for every player count, so that none is left to chance.
#[test]
fn a_game_for_every_player_count_keeps_every_invariant() {
    for p in 3..=8u64 {
        let cfg = GameConfig::new(p, (52 / p).min(4)).unwrap();
        play_game_checked(cfg, p).unwrap();
    }
}

/// The largest hands for every player count (all or nearly all of the deck dealt), every
/// dealer: the edges of the trick and leader bookkeeping.
#[test]
fn largest_rounds_keep_every_invariant() {
    for p in 3..=8u64 {
        for dealer in 0..p {
            let cfg =
                RoundConfig::new(p, 52 / p, TRUMP_ROTATION[dealer as usize % 5], dealer).unwrap();
            let mut rng = rng_from_seed(p * 10 + dealer);
            play_checked(Round::deal(cfg, &mut rng), &mut rng).unwrap();
        }
    }
}

/// The redeal of the invariance test really moves hidden cards (it is not the identity).
#[test]
fn indistinguishable_deals_usually_differ() {
    let mut changed = 0;
    let mut rng = rng_from_seed(99);
    for seed in 0..100u64 {
        let p = 3 + seed % 6;
        let cfg = RoundConfig::new(p, 1 + seed % (52 / p), None, seed % p).unwrap();
        let mut r = Round::deal(cfg, &mut rng_from_seed(seed));
        let mut states = vec![r];
        let half = p + p * cfg.cards() as u64 / 2;
        for _ in 0..half {
            let a = random_action(&r, &mut rng);
            r.apply_index(a).unwrap();
            states.push(r);
        }
        let observer = (seed % p) as usize;
        let b = indistinguishable_deal(&states, states.len() - 1, observer, &mut rng);
        if b.hands() != states[0].hands() {
            changed += 1;
        }
    }
    assert!(changed >= 80, "only {changed} of 100 redeals moved a card");
}
