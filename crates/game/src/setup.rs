//! How a round or a game is set up, and the errors of a malformed set-up.

use crate::card::{Card, Suit};
use crate::cardset::CardSet;

pub const MIN_PLAYERS: usize = 3;
pub const MAX_PLAYERS: usize = 8;
/// The largest hand: 3 players x 17 cards = 51 <= 52.
pub const MAX_CARDS: usize = 17;
/// The trump of round r of a game is `TRUMP_ROTATION[r % 5]` [trump-rotation].
pub const TRUMP_ROTATION: [Option<Suit>; 5] = [
    Some(Suit::Spades),
    Some(Suit::Hearts),
    Some(Suit::Clubs),
    Some(Suit::Diamonds),
    None,
];

/// A malformed set-up: the round or game cannot start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("players must be 3..=8, not {0}")]
    Players(u64),
    #[error(
        "cards per hand must be at least 1 and cards x players at most 52, not {cards} x {players}"
    )]
    Cards { cards: u64, players: u64 },
    #[error(
        "start_cards must be at least 1 and start_cards x players at most 52, not {cards} x {players}"
    )]
    StartCards { cards: u64, players: u64 },
    #[error("dealer must be a seat 0..{players}, not {dealer}")]
    Dealer { dealer: u64, players: u8 },
    #[error("expected {expected} hands (one per player), got {got}")]
    HandCount { expected: usize, got: usize },
    #[error("hand of seat {seat} has {got} cards, expected {expected}")]
    HandSize {
        seat: usize,
        expected: usize,
        got: usize,
    },
    #[error("card {card} is dealt twice (seats {first} and {second})")]
    DuplicateCard {
        card: Card,
        first: usize,
        second: usize,
    },
}

/// What sets a round: players, cards per hand, trump (or none), dealer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoundConfig {
    players: u8,
    cards: u8,
    trump: Option<Suit>,
    dealer: u8,
}

impl RoundConfig {
    /// A checked round set-up: 3..=8 players, 1 <= cards, cards x players <= 52, dealer a seat.
    pub fn new(
        players: u64,
        cards: u64,
        trump: Option<Suit>,
        dealer: u64,
    ) -> Result<RoundConfig, SetupError> {
        if !(MIN_PLAYERS as u64..=MAX_PLAYERS as u64).contains(&players) {
            return Err(SetupError::Players(players));
        }
        if cards == 0 || cards.saturating_mul(players) > 52 {
            return Err(SetupError::Cards { cards, players });
        }
        if dealer >= players {
            return Err(SetupError::Dealer {
                dealer,
                players: players as u8,
            });
        }
        Ok(RoundConfig {
            players: players as u8,
            cards: cards as u8,
            trump,
            dealer: dealer as u8,
        })
    }

    #[inline]
    pub const fn players(&self) -> usize {
        self.players as usize
    }
    #[inline]
    pub const fn cards(&self) -> usize {
        self.cards as usize
    }
    #[inline]
    pub const fn trump(&self) -> Option<Suit> {
        self.trump
    }
    #[inline]
    pub const fn dealer(&self) -> usize {
        self.dealer as usize
    }

    /// Checks that `hands` is a valid deal for this round: one hand per player, each of
    /// exactly `cards` cards, no card dealt twice.
    pub fn check_hands(&self, hands: &[Vec<Card>]) -> Result<[CardSet; MAX_PLAYERS], SetupError> {
        if hands.len() != self.players() {
            return Err(SetupError::HandCount {
                expected: self.players(),
                got: hands.len(),
            });
        }
        let mut sets = [CardSet::EMPTY; MAX_PLAYERS];
        let mut owner = [usize::MAX; 52];
        for (seat, hand) in hands.iter().enumerate() {
            if hand.len() != self.cards() {
                return Err(SetupError::HandSize {
                    seat,
                    expected: self.cards(),
                    got: hand.len(),
                });
            }
            for &card in hand {
                if owner[card.index()] != usize::MAX {
                    return Err(SetupError::DuplicateCard {
                        card,
                        first: owner[card.index()],
                        second: seat,
                    });
                }
                owner[card.index()] = seat;
                sets[seat].insert(card);
            }
        }
        Ok(sets)
    }
}

/// What sets a full game: players and the starting hand size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GameConfig {
    players: u8,
    start_cards: u8,
}

impl GameConfig {
    pub fn new(players: u64, start_cards: u64) -> Result<GameConfig, SetupError> {
        if !(MIN_PLAYERS as u64..=MAX_PLAYERS as u64).contains(&players) {
            return Err(SetupError::Players(players));
        }
        if start_cards == 0 || start_cards.saturating_mul(players) > 52 {
            return Err(SetupError::StartCards {
                cards: start_cards,
                players,
            });
        }
        Ok(GameConfig {
            players: players as u8,
            start_cards: start_cards as u8,
        })
    }

    #[inline]
    pub const fn players(&self) -> usize {
        self.players as usize
    }
    #[inline]
    pub const fn start_cards(&self) -> usize {
        self.start_cards as usize
    }

    /// Number of rounds: 2S - 2 + P [schedule].
    pub const fn num_rounds(&self) -> usize {
        2 * self.start_cards as usize - 2 + self.players as usize
    }

    /// Hand size of round `r` [schedule]: S, S-1, .., 2, then P rounds of 1, then 2, .., S.
    pub const fn cards_in_round(&self, r: usize) -> usize {
        let s = self.start_cards as usize;
        let p = self.players as usize;
        let down = s - 1; // rounds S..2
        if r < down {
            s - r
        } else if r < down + p {
            1
        } else {
            r - (down + p) + 2
        }
    }

    /// The set-up of round `r`, or `None` past the last round.
    pub fn round_config(&self, r: usize) -> Option<RoundConfig> {
        (r < self.num_rounds()).then(|| RoundConfig {
            players: self.players,
            cards: self.cards_in_round(r) as u8,
            trump: TRUMP_ROTATION[r % 5],
            dealer: (r % self.players()) as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_matches_rules_example() {
        let g = GameConfig::new(5, 7).unwrap();
        let sizes: Vec<usize> = (0..g.num_rounds()).map(|r| g.cards_in_round(r)).collect();
        assert_eq!(sizes, [7, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7]);
        let one = GameConfig::new(4, 1).unwrap();
        assert_eq!(one.num_rounds(), 4);
        assert!((0..4).all(|r| one.cards_in_round(r) == 1));
    }

    #[test]
    fn rotations_follow_rules() {
        let g = GameConfig::new(3, 4).unwrap();
        let r = g.round_config(7).unwrap();
        assert_eq!(r.trump(), Some(Suit::Clubs));
        assert_eq!(r.dealer(), 1);
        assert_eq!(g.round_config(4).unwrap().trump(), None);
        assert!(g.round_config(g.num_rounds()).is_none());
    }

    #[test]
    fn bad_setups_are_refused() {
        assert_eq!(RoundConfig::new(2, 1, None, 0), Err(SetupError::Players(2)));
        assert_eq!(RoundConfig::new(9, 1, None, 0), Err(SetupError::Players(9)));
        assert!(matches!(
            RoundConfig::new(4, 14, None, 0),
            Err(SetupError::Cards { .. })
        ));
        assert!(matches!(
            RoundConfig::new(4, 0, None, 0),
            Err(SetupError::Cards { .. })
        ));
        assert!(matches!(
            RoundConfig::new(4, u64::MAX, None, 0),
            Err(SetupError::Cards { .. })
        ));
        assert!(matches!(
            RoundConfig::new(4, 3, None, 4),
            Err(SetupError::Dealer { .. })
        ));
        assert!(RoundConfig::new(3, 17, None, 2).is_ok());
        assert!(matches!(
            GameConfig::new(4, 14),
            Err(SetupError::StartCards { .. })
        ));
    }
}
