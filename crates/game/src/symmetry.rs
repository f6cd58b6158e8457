//! The one symmetry of the rules: suits other than trump are interchangeable.
//!
//! No rule names a suit except through the trump (RULES.md: follow the suit led, trump beats
//! the rest), so renaming the non-trump suits maps every position to an equally good one
//! with the same values and the renamed best moves. Training uses this to see each example
//! under a random renaming (up to 6 views with a trump, 24 without), at no self-play cost.

use crate::action::NUM_ACTIONS;
use crate::card::Suit;
use crate::encoding::{ENCODING_LEN, offset};
use crate::setup::MAX_PLAYERS;
use rand::{Rng, RngExt};

/// A renaming of the suits that keeps the trump suit (if any) in place: `image[s]` is the
/// suit that suit `s` becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SuitPermutation {
    image: [u8; 4],
}

impl SuitPermutation {
    pub const IDENTITY: SuitPermutation = SuitPermutation {
        image: [0, 1, 2, 3],
    };

    /// `image[s]` is where suit `s` goes; `None` unless it is a permutation fixing `trump`.
    pub fn new(image: [u8; 4], trump: Option<Suit>) -> Option<SuitPermutation> {
        let mut seen = [false; 4];
        for &i in &image {
            if i > 3 || std::mem::replace(&mut seen[i as usize], true) {
                return None;
            }
        }
        if let Some(t) = trump
            && image[t.index()] as usize != t.index()
        {
            return None;
        }
        Some(SuitPermutation { image })
    }

    /// A uniformly random permutation of the suits other than `trump`.
    pub fn random<R: Rng + ?Sized>(trump: Option<Suit>, rng: &mut R) -> SuitPermutation {
        let free: Vec<u8> = (0..4u8)
            .filter(|&s| Some(s as usize) != trump.map(|t| t.index()))
            .collect();
        let mut shuffled = free.clone();
        for i in (1..shuffled.len()).rev() {
            let j = rng.random_range(0..=i);
            shuffled.swap(i, j);
        }
        let mut image = [0, 1, 2, 3];
        for (&from, &to) in free.iter().zip(&shuffled) {
            image[from as usize] = to;
        }
        SuitPermutation { image }
    }

    pub fn suit(&self, s: Suit) -> Suit {
        Suit::from_index(self.image[s.index()] as usize)
    }

    /// The image of the card with index `card` (suit * 13 + rank).
    #[inline]
    pub fn card(&self, card: usize) -> usize {
        self.image[card / 13] as usize * 13 + card % 13
    }

    /// Renames the suits in a 52-wide block indexed by card.
    fn cards_block(&self, block: &mut [f32]) {
        let old: [f32; 52] = block[..52].try_into().expect("a 52-wide block");
        for (c, v) in old.into_iter().enumerate() {
            block[self.card(c)] = v;
        }
    }

    /// Renames the suits in a 4-wide block indexed by suit.
    fn suits_block(&self, block: &mut [f32]) {
        let old: [f32; 4] = block[..4].try_into().expect("a 4-wide block");
        for (s, v) in old.into_iter().enumerate() {
            block[self.image[s] as usize] = v;
        }
    }

    /// Renames the suits in an encoding (`crate::encoding`): hand, played and trick cards,
    /// the suit led and every seat's voids. The trump block needs nothing: the trump stays.
    pub fn apply_to_encoding(&self, x: &mut [f32; ENCODING_LEN]) {
        use offset::*;
        for start in [HAND, PLAYED, TRICK] {
            self.cards_block(&mut x[start..start + 52]);
        }
        self.suits_block(&mut x[LED_SUIT..LED_SUIT + 4]);
        for seat in 0..MAX_PLAYERS - 1 {
            let at = VOIDS + 4 * seat;
            self.suits_block(&mut x[at..at + 4]);
        }
    }

    /// Renames the card actions of a 52-wide vector over actions (a policy or a mask). Only
    /// for positions in the play phase: during bidding, index k is bid k, not a card.
    pub fn apply_to_card_actions(&self, v: &mut [f32; NUM_ACTIONS]) {
        self.cards_block(v);
    }

    /// [`SuitPermutation::apply_to_card_actions`] for a set of actions as bits.
    pub fn apply_to_card_bits(&self, bits: u64) -> u64 {
        let mut out = 0;
        for c in 0..NUM_ACTIONS {
            if bits >> c & 1 == 1 {
                out |= 1 << self.card(c);
            }
        }
        out
    }
}
