//! Worlds: full deals consistent with everything one seat knows.
//!
//! The searching seat knows its own hand, every card played, every void shown (the current
//! trick included) and how many cards each seat still holds. A world gives every other seat a
//! hand drawn from the unseen cards (those neither held nor played; the undealt rest of the
//! deck is unseen too) that respects those facts. The true hidden hands are never read: the
//! sampler only gets an [`Observation`].
//!
//! Method: the unseen cards are taken in random order and each goes to a holder (another seat,
//! or the undealt pile) with probability proportional to the room that holder has left, as a
//! shuffled deal would, but only among holders that may take its suit and whose choice keeps
//! the rest of the deal feasible. Feasibility is exact (Gale/Hall's condition over the 16 sets
//! of suits), so sampling never fails and never backtracks more than one holder at a time.
//! Without voids this is exactly a uniform deal; with voids it is close to uniform.

use game::{Card, CardSet, MAX_PLAYERS, Observation, Round, Suit};
use rand::{Rng, RngExt};

/// Up to 8 seats plus the undealt pile.
const MAX_HOLDERS: usize = MAX_PLAYERS + 1;

/// The constraints of one deal: who needs how many cards, of which suits.
#[derive(Clone, Copy, Debug)]
struct Holders {
    /// Seat of holder h (`usize::MAX` for the undealt pile).
    seat: [usize; MAX_HOLDERS],
    /// Cards holder h must still receive.
    room: [u32; MAX_HOLDERS],
    /// Bit s set: holder h may receive suit s.
    accepts: [u8; MAX_HOLDERS],
    len: usize,
}

impl Holders {
    fn of(obs: &Observation, unseen: CardSet) -> Holders {
        let pb = &obs.public;
        let mut h = Holders {
            seat: [usize::MAX; MAX_HOLDERS],
            room: [0; MAX_HOLDERS],
            accepts: [0; MAX_HOLDERS],
            len: 0,
        };
        let mut needed = 0;
        for seat in (0..pb.players()).filter(|&s| s != obs.seat()) {
            let n = pb.hand_size(seat) as u32;
            needed += n;
            h.seat[h.len] = seat;
            h.room[h.len] = n;
            h.accepts[h.len] = !pb.voids(seat) & 0xF;
            h.len += 1;
        }
        // The undealt pile takes whatever is left, of any suit.
        h.room[h.len] = unseen.len() - needed;
        h.accepts[h.len] = 0xF;
        h.len += 1;
        h
    }

    /// Whether `left[s]` cards of each suit s can still be placed (Hall's condition: every set
    /// of suits needs no more cards than the holders accepting one of them have room for).
    fn feasible(&self, left: &[u32; 4]) -> bool {
        for subset in 1u8..16 {
            let demand: u32 = (0..4)
                .filter(|s| subset >> s & 1 == 1)
                .map(|s| left[s])
                .sum();
            let supply: u32 = (0..self.len)
                .filter(|&i| self.accepts[i] & subset != 0)
                .map(|i| self.room[i])
                .sum();
            if demand > supply {
                return false;
            }
        }
        true
    }
}

/// Samples one world consistent with `obs`: the observer's hand is its own, the other seats'
/// hands are drawn from the unseen cards as described in the module notes.
pub fn sample_world<R: Rng + ?Sized>(obs: &Observation, rng: &mut R) -> Round {
    let unseen = obs.unseen();
    let mut holders = Holders::of(obs, unseen);
    let mut left = [0u32; 4];
    for s in Suit::ALL {
        left[s.index()] = unseen.of_suit(s).len();
    }
    debug_assert!(holders.feasible(&left), "the observation admits no deal");

    let mut order = [Card::default(); 52];
    let n = unseen.len() as usize;
    for (slot, c) in order.iter_mut().zip(unseen) {
        *slot = c;
    }
    let mut hands = [CardSet::EMPTY; MAX_PLAYERS];
    hands[obs.seat()] = obs.hand;
    for i in 0..n {
        // Fisher-Yates step: a random card from those not yet placed.
        let j = rng.random_range(i..n);
        order.swap(i, j);
        let card = order[i];
        let suit = card.suit().index();
        left[suit] -= 1;
        let h = choose_holder(&mut holders, suit, &left, rng);
        if holders.seat[h] != usize::MAX {
            hands[holders.seat[h]].insert(card);
        }
    }
    Round::from_parts(obs.public, hands)
}

/// Picks the holder of one card of `suit`: weighted by room, among holders that accept the
/// suit and leave the remaining cards (`left`) placeable. Takes one unit of its room.
fn choose_holder<R: Rng + ?Sized>(
    h: &mut Holders,
    suit: usize,
    left: &[u32; 4],
    rng: &mut R,
) -> usize {
    let mut allowed = [false; MAX_HOLDERS];
    let mut total = 0;
    for (i, ok) in allowed.iter_mut().enumerate().take(h.len) {
        if h.room[i] > 0 && h.accepts[i] >> suit & 1 == 1 {
            *ok = true;
            total += h.room[i];
        }
    }
    loop {
        debug_assert!(
            total > 0,
            "no holder can take the card: feasibility was broken"
        );
        let mut pick = rng.random_range(0..total);
        let mut chosen = 0;
        for (i, _) in allowed
            .iter()
            .enumerate()
            .take(h.len)
            .filter(|(_, ok)| **ok)
        {
            if pick < h.room[i] {
                chosen = i;
                break;
            }
            pick -= h.room[i];
        }
        h.room[chosen] -= 1;
        if h.feasible(left) {
            return chosen;
        }
        // This holder would strand cards of another suit: exclude it and draw again.
        h.room[chosen] += 1;
        allowed[chosen] = false;
        total -= h.room[chosen];
    }
}

/// Whether `world` is consistent with what `obs`'s seat knows: same public state, the seat's
/// own hand, every other hand of the right size, made of unseen cards and free of shown voids.
pub fn is_consistent(world: &Round, obs: &Observation) -> bool {
    let pb = &obs.public;
    if world.public() != pb || world.hand(obs.seat()) != obs.hand {
        return false;
    }
    let unseen = obs.unseen();
    let mut seen = CardSet::EMPTY;
    for seat in 0..pb.players() {
        let hand = world.hand(seat);
        if hand.len() as usize != pb.hand_size(seat) || !hand.intersection(seen).is_empty() {
            return false;
        }
        seen = seen.union(hand);
        if seat != obs.seat() {
            let voids = pb.voids(seat);
            let breaks_void = Suit::ALL
                .iter()
                .any(|&s| voids >> s.index() & 1 == 1 && hand.has_suit(s));
            if breaks_void || hand.difference(unseen) != CardSet::EMPTY {
                return false;
            }
        }
    }
    (pb.players()..MAX_PLAYERS).all(|s| world.hand(s).is_empty())
}
