//! Helpers shared by the integration tests: cards from text, scripted rounds, random play,
//! and a check that a refused action leaves the round as it was.
#![allow(dead_code)] // each test crate uses a different subset

use game::{Action, Card, CardSet, IllegalAction, MAX_PLAYERS, Round, RoundConfig, Suit};
use rand::{Rng, RngExt};

/// A card from its text form (`"TS"`).
pub fn card(text: &str) -> Card {
    text.parse()
        .unwrap_or_else(|e| panic!("bad card in test: {e}"))
}

/// Cards from space-separated text (`"AS 2H KD"`).
pub fn cards(text: &str) -> Vec<Card> {
    text.split_whitespace().map(card).collect()
}

/// A card set from space-separated text.
pub fn set(text: &str) -> CardSet {
    cards(text).into_iter().collect()
}

pub const S: Option<Suit> = Some(Suit::Spades);
pub const H: Option<Suit> = Some(Suit::Hearts);
pub const C: Option<Suit> = Some(Suit::Clubs);
pub const D: Option<Suit> = Some(Suit::Diamonds);
pub const NO_TRUMP: Option<Suit> = None;

/// A round with the given hands (seat 0 first); the hand size is that of the first hand.
pub fn round_with(trump: Option<Suit>, dealer: usize, hands: &[&str]) -> Round {
    let hands: Vec<Vec<Card>> = hands.iter().map(|h| cards(h)).collect();
    let config = RoundConfig::new(
        hands.len() as u64,
        hands[0].len() as u64,
        trump,
        dealer as u64,
    )
    .expect("valid test set-up");
    Round::with_hands(config, &hands).expect("valid test deal")
}

/// Makes the bids in bidding order (left of the dealer first, dealer last).
pub fn bid_all(round: &mut Round, bids: &[u64]) {
    for &b in bids {
        let seat = round.to_act();
        round
            .apply_bid(b)
            .unwrap_or_else(|e| panic!("seat {seat} bid {b}: {e}"));
    }
}

/// Plays the named cards in order, each by the seat to act.
pub fn play_all(round: &mut Round, plays: &str) {
    for c in cards(plays) {
        let seat = round.to_act();
        round
            .apply(Action::Play(c))
            .unwrap_or_else(|e| panic!("seat {seat} play {c}: {e}"));
    }
}

/// Applies `action` to `round`, asserts it is refused and that the round is unchanged, and
/// returns the error.
pub fn refuse(round: &mut Round, action: Action) -> IllegalAction {
    let before = *round;
    let err = round
        .apply(action)
        .expect_err(&format!("{action} should be refused"));
    assert_eq!(*round, before, "a refused {action} changed the round");
    err
}

/// A uniformly random legal action index of the seat to act.
pub fn random_action<R: Rng + ?Sized>(round: &Round, rng: &mut R) -> usize {
    let legal = round.legal_actions();
    assert!(!legal.is_empty(), "no legal action in {:?}", round.phase());
    legal.nth(rng.random_range(0..legal.len())).unwrap()
}

/// Plays random legal actions to the end of the round.
pub fn finish_randomly<R: Rng + ?Sized>(round: &mut Round, rng: &mut R) {
    while !round.is_over() {
        let a = random_action(round, rng);
        round.apply_index(a).unwrap();
    }
}

/// The bit of a suit in a voids mask.
pub fn suit_bit(suit: Suit) -> u8 {
    1 << suit.index()
}

/// The cards dealt to nobody in a round whose hands are `hands` and whose played cards are
/// `played`.
pub fn undealt(hands: &[CardSet; MAX_PLAYERS], played: CardSet) -> CardSet {
    hands
        .iter()
        .fold(CardSet::FULL.difference(played), |acc, h| {
            acc.difference(*h)
        })
}

/// Reassigns the cards `observer` cannot see (the other seats' hands and the undealt cards) at
/// random, keeping every hand size and never giving a seat a suit it has shown void in. The
/// observer's hand and everything public stay as they are.
pub fn shuffle_hidden<R: Rng + ?Sized>(
    round: &Round,
    observer: usize,
    rng: &mut R,
) -> [CardSet; MAX_PLAYERS] {
    let pb = round.public();
    let p = pb.players();
    // (owner, card); owner None = undealt.
    let mut slots: Vec<(Option<usize>, Card)> = (0..p)
        .filter(|&s| s != observer)
        .flat_map(|s| round.hand(s).iter().map(move |c| (Some(s), c)))
        .chain(
            undealt(round.hands(), pb.played())
                .iter()
                .map(|c| (None, c)),
        )
        .collect();
    let may_hold =
        |owner: Option<usize>, c: Card| owner.is_none_or(|s| pb.voids(s) & suit_bit(c.suit()) == 0);
    if slots.len() >= 2 {
        for _ in 0..4 * slots.len() {
            let i = rng.random_range(0..slots.len());
            let j = rng.random_range(0..slots.len());
            let ((oi, ci), (oj, cj)) = (slots[i], slots[j]);
            if oi != oj && may_hold(oi, cj) && may_hold(oj, ci) {
                slots[i].1 = cj;
                slots[j].1 = ci;
            }
        }
    }
    let mut hands = [CardSet::EMPTY; MAX_PLAYERS];
    hands[observer] = round.hand(observer);
    for (owner, c) in slots {
        if let Some(s) = owner {
            hands[s].insert(c);
        }
    }
    hands
}
