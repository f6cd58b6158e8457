//! A set of cards as a 64-bit mask (bit i = card index i).

use crate::card::{Card, Suit};
use std::fmt;

/// A set of cards. Bit `i` is the card with index `i`; bits 52..64 are always clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CardSet(u64);

const SUIT_MASK: u64 = (1 << 13) - 1;

impl CardSet {
    pub const EMPTY: CardSet = CardSet(0);
    pub const FULL: CardSet = CardSet((1 << 52) - 1);

    /// The set with exactly these bits; bits at 52 and above are dropped.
    #[inline]
    pub const fn from_bits(bits: u64) -> CardSet {
        CardSet(bits & ((1 << 52) - 1))
    }

    #[inline]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// All 13 cards of one suit.
    #[inline]
    pub const fn suit(suit: Suit) -> CardSet {
        CardSet(SUIT_MASK << (13 * suit as u32))
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
    pub const fn contains(self, card: Card) -> bool {
        self.0 >> card.index() & 1 == 1
    }

    #[inline]
    pub fn insert(&mut self, card: Card) {
        self.0 |= 1 << card.index();
    }

    #[inline]
    pub fn remove(&mut self, card: Card) {
        self.0 &= !(1 << card.index());
    }

    #[inline]
    pub const fn union(self, other: CardSet) -> CardSet {
        CardSet(self.0 | other.0)
    }

    #[inline]
    pub const fn intersection(self, other: CardSet) -> CardSet {
        CardSet(self.0 & other.0)
    }

    #[inline]
    pub const fn difference(self, other: CardSet) -> CardSet {
        CardSet(self.0 & !other.0)
    }

    /// The cards of this set in one suit.
    #[inline]
    pub const fn of_suit(self, suit: Suit) -> CardSet {
        CardSet(self.0 & (SUIT_MASK << (13 * suit as u32)))
    }

    #[inline]
    pub const fn has_suit(self, suit: Suit) -> bool {
        !self.of_suit(suit).is_empty()
    }

    /// The lowest card, if any.
    #[inline]
    pub fn lowest(self) -> Option<Card> {
        (self.0 != 0).then(|| Card::from_index_unchecked(self.0.trailing_zeros() as u8))
    }

    /// The highest card (by index, so within one suit the highest rank), if any.
    #[inline]
    pub fn highest(self) -> Option<Card> {
        (self.0 != 0).then(|| Card::from_index_unchecked(63 - self.0.leading_zeros() as u8))
    }

    /// The `n`-th card in index order (0-based), if the set has more than `n` cards.
    #[inline]
    pub fn nth(self, n: u32) -> Option<Card> {
        let mut bits = self.0;
        for _ in 0..n {
            bits &= bits.wrapping_sub(1);
        }
        (bits != 0).then(|| Card::from_index_unchecked(bits.trailing_zeros() as u8))
    }

    pub fn iter(self) -> CardSetIter {
        CardSetIter(self.0)
    }
}

impl FromIterator<Card> for CardSet {
    fn from_iter<I: IntoIterator<Item = Card>>(iter: I) -> CardSet {
        let mut s = CardSet::EMPTY;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

impl IntoIterator for CardSet {
    type Item = Card;
    type IntoIter = CardSetIter;
    fn into_iter(self) -> CardSetIter {
        self.iter()
    }
}

/// Iterates a set's cards in index order.
pub struct CardSetIter(u64);

impl Iterator for CardSetIter {
    type Item = Card;
    #[inline]
    fn next(&mut self) -> Option<Card> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(Card::from_index_unchecked(i as u8))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for CardSetIter {}

impl fmt::Debug for CardSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a: CardSet = ["AS", "2H", "KD"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(a.len(), 3);
        assert!(a.has_suit(Suit::Hearts));
        assert!(!a.has_suit(Suit::Clubs));
        assert_eq!(a.of_suit(Suit::Diamonds).len(), 1);
        assert_eq!(a.lowest().unwrap().to_string(), "AS");
        assert_eq!(a.highest().unwrap().to_string(), "KD");
        assert_eq!(a.nth(1).unwrap().to_string(), "2H");
        assert_eq!(a.nth(3), None);
        assert_eq!(format!("{a:?}"), "{AS 2H KD}");
        assert_eq!(CardSet::FULL.len(), 52);
        for s in Suit::ALL {
            assert_eq!(CardSet::suit(s).len(), 13);
            assert!(CardSet::suit(s).iter().all(|c| c.suit() == s));
        }
    }
}
