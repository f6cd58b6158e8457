//! Actions and the 52-wide action space: bid k is action k, a card is action card_index;
//! the phase tells them apart.

use crate::card::Card;
use std::fmt;

/// Width of the action space (and of the network's policy).
pub const NUM_ACTIONS: usize = 52;

/// One decision: a bid or a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Bid(u8),
    Play(Card),
}

impl Action {
    /// Index in the 52-wide action space.
    #[inline]
    pub const fn index(self) -> usize {
        match self {
            Action::Bid(b) => b as usize,
            Action::Play(c) => c.index(),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Bid(b) => write!(f, "bid {b}"),
            Action::Play(c) => write!(f, "play {c}"),
        }
    }
}

/// A set of action indices (0..52) as a bit mask: the legal actions of a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ActionSet(u64);

impl ActionSet {
    pub const EMPTY: ActionSet = ActionSet(0);

    #[inline]
    pub const fn from_bits(bits: u64) -> ActionSet {
        ActionSet(bits & ((1 << NUM_ACTIONS) - 1))
    }

    #[inline]
    pub const fn bits(self) -> u64 {
        self.0
    }

    #[inline]
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub const fn contains(self, index: usize) -> bool {
        index < NUM_ACTIONS && self.0 >> index & 1 == 1
    }

    /// The `n`-th action index in increasing order, if there are more than `n`.
    #[inline]
    pub fn nth(self, n: u32) -> Option<usize> {
        let mut bits = self.0;
        for _ in 0..n {
            bits &= bits.wrapping_sub(1);
        }
        (bits != 0).then(|| bits.trailing_zeros() as usize)
    }

    /// Action indices in increasing order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(i)
        })
    }

    /// The mask as 52 booleans (index = action).
    pub fn to_mask(self) -> [bool; NUM_ACTIONS] {
        std::array::from_fn(|i| self.contains(i))
    }
}
