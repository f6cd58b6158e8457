//! Cards, suits and ranks, with the text form of RULES.md (`TS` = ten of spades).

use std::fmt;
use std::str::FromStr;

/// A suit, in the order of RULES.md: spades, hearts, clubs, diamonds (index 0..3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Suit {
    Spades = 0,
    Hearts = 1,
    Clubs = 2,
    Diamonds = 3,
}

impl Suit {
    pub const ALL: [Suit; 4] = [Suit::Spades, Suit::Hearts, Suit::Clubs, Suit::Diamonds];

    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The suit with index `i` (0..4). Panics on a larger index: callers pass `i & 3` or a
    /// value derived from a card.
    #[inline]
    pub const fn from_index(i: usize) -> Suit {
        Suit::ALL[i]
    }

    pub const fn letter(self) -> char {
        ['S', 'H', 'C', 'D'][self as usize]
    }

    pub const fn name(self) -> &'static str {
        ["spades", "hearts", "clubs", "diamonds"][self as usize]
    }

    pub fn from_letter(c: char) -> Option<Suit> {
        match c {
            'S' => Some(Suit::Spades),
            'H' => Some(Suit::Hearts),
            'C' => Some(Suit::Clubs),
            'D' => Some(Suit::Diamonds),
            _ => None,
        }
    }
}

impl fmt::Display for Suit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

const RANK_LETTERS: [char; 13] = [
    '2', '3', '4', '5', '6', '7', '8', '9', 'T', 'J', 'Q', 'K', 'A',
];

/// One of the 52 cards: index = suit * 13 + rank (`2S` = 0, `AS` = 12, `AD` = 51).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Card(u8);

impl Card {
    pub const COUNT: usize = 52;

    /// The card with this index, or `None` if the index is not below 52.
    #[inline]
    pub const fn new(index: u8) -> Option<Card> {
        if index < 52 { Some(Card(index)) } else { None }
    }

    /// The card of this suit and rank (rank 0 = two .. 12 = ace). `rank` must be below 13.
    #[inline]
    pub const fn of(suit: Suit, rank: u8) -> Card {
        debug_assert!(rank < 13);
        Card(suit as u8 * 13 + rank)
    }

    /// Builds a card from an index known to be below 52 (internal fast path).
    #[inline]
    pub(crate) const fn from_index_unchecked(index: u8) -> Card {
        debug_assert!(index < 52);
        Card(index)
    }

    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    #[inline]
    pub const fn suit(self) -> Suit {
        Suit::from_index(self.0 as usize / 13)
    }

    /// Rank index: 0 = two .. 12 = ace.
    #[inline]
    pub const fn rank(self) -> u8 {
        self.0 % 13
    }

    /// Every card, in index order.
    pub fn all() -> impl Iterator<Item = Card> {
        (0..52u8).map(Card)
    }
}

impl fmt::Display for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            RANK_LETTERS[self.rank() as usize],
            self.suit().letter()
        )
    }
}

/// Why a string is not a card.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardParseError {
    #[error("{0:?} is not a card: a card is two characters, rank then suit, like \"TS\" or \"AD\"")]
    Length(String),
    #[error("{text:?} is not a card: unknown rank {rank:?} (ranks are 2-9, T, J, Q, K, A)")]
    Rank { text: String, rank: char },
    #[error("{text:?} is not a card: unknown suit {suit:?} (suits are S, H, C, D)")]
    Suit { text: String, suit: char },
}

impl FromStr for Card {
    type Err = CardParseError;

    fn from_str(s: &str) -> Result<Card, CardParseError> {
        let mut chars = s.chars();
        let (Some(r), Some(su), None) = (chars.next(), chars.next(), chars.next()) else {
            return Err(CardParseError::Length(s.to_string()));
        };
        let rank =
            RANK_LETTERS
                .iter()
                .position(|&c| c == r)
                .ok_or_else(|| CardParseError::Rank {
                    text: s.to_string(),
                    rank: r,
                })?;
        let suit = Suit::from_letter(su).ok_or_else(|| CardParseError::Suit {
            text: s.to_string(),
            suit: su,
        })?;
        Ok(Card::of(suit, rank as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_follow_rules() {
        assert_eq!("2S".parse::<Card>().unwrap().index(), 0);
        assert_eq!("AS".parse::<Card>().unwrap().index(), 12);
        assert_eq!("2H".parse::<Card>().unwrap().index(), 13);
        assert_eq!("AD".parse::<Card>().unwrap().index(), 51);
        assert_eq!("TS".parse::<Card>().unwrap().suit(), Suit::Spades);
    }

    #[test]
    fn text_round_trips_for_every_card() {
        for c in Card::all() {
            assert_eq!(c.to_string().parse::<Card>().unwrap(), c);
        }
    }

    #[test]
    fn bad_text_is_refused_with_reason() {
        assert!(matches!(
            "10C".parse::<Card>(),
            Err(CardParseError::Length(_))
        ));
        assert!(matches!(
            "1C".parse::<Card>(),
            Err(CardParseError::Rank { .. })
        ));
        assert!(matches!(
            "TX".parse::<Card>(),
            Err(CardParseError::Suit { .. })
        ));
        assert!(matches!(
            "ts".parse::<Card>(),
            Err(CardParseError::Rank { .. })
        ));
        assert!("".parse::<Card>().is_err());
        assert!("é".parse::<Card>().is_err());
        assert_eq!(Card::new(52), None);
    }
}
