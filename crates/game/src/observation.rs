//! What one seat can know: its own hand plus everything public, and nothing else.

use crate::action::ActionSet;
use crate::cardset::CardSet;
use crate::full_game::GameContext;
use crate::round::{PublicRound, Round};

/// All one seat can know at a point of a round (and, in a game, of the game).
///
/// Built from the full state by copying only public fields and the seat's own hand, so two
/// states that differ only in cards the seat cannot see give equal observations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Observation {
    /// The observing seat.
    pub seat: u8,
    /// The seat's own hand.
    pub hand: CardSet,
    /// Bids, every card played and by whom, voids shown, tricks won, trump, dealer.
    pub public: PublicRound,
    /// Scores so far and the place in the schedule, in a full game.
    pub game: Option<GameContext>,
}

impl Observation {
    /// What `seat` knows of `round` (with the game context, if the round is part of a game).
    pub fn of_round(round: &Round, seat: usize, game: Option<GameContext>) -> Observation {
        Observation {
            seat: seat as u8,
            hand: round.hand(seat),
            public: *round.public(),
            game,
        }
    }

    #[inline]
    pub fn seat(&self) -> usize {
        self.seat as usize
    }

    /// The seat's legal actions (empty unless it is the seat to act).
    pub fn legal_actions(&self) -> ActionSet {
        if self.public.to_act() == self.seat() {
            self.public.legal_actions_with(self.hand)
        } else {
            ActionSet::EMPTY
        }
    }

    /// Cards neither in this seat's hand nor played: where the other hands come from.
    pub fn unseen(&self) -> CardSet {
        CardSet::FULL
            .difference(self.hand)
            .difference(self.public.played())
    }
}

impl Round {
    /// What `seat` knows of this round, outside any game.
    pub fn observation(&self, seat: usize) -> Observation {
        Observation::of_round(self, seat, None)
    }
}
