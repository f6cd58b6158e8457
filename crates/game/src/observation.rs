//! What one seat can know: its own hand plus everything public, and nothing else.

use crate::action::{Action, ActionSet};
use crate::card::{Card, Suit};
use crate::cardset::CardSet;
use crate::full_game::GameContext;
use crate::round::{IllegalAction, Phase, PublicRound, Round};
use crate::setup::RoundConfig;

/// Why a seat's account of a round (its hand as dealt and every public action so far) cannot
/// be true: the rule it breaks, or what the seat itself can see is false.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("seat {seat} is not at a table of {players}")]
    NoSuchSeat { seat: usize, players: usize },
    #[error("the hand holds {given} cards; the round deals {dealt} to each seat")]
    HandSize { given: usize, dealt: usize },
    #[error("action {index}: {source}")]
    Illegal { index: usize, source: IllegalAction },
    #[error("action {index}: {card} was already played")]
    PlayedTwice { index: usize, card: Card },
    #[error("action {index}: seat {player} plays {card}, which is in this seat's own hand")]
    OwnCard {
        index: usize,
        player: usize,
        card: Card,
    },
    #[error(
        "action {index}: seat {player} plays {card}, but it showed earlier that it holds no {} (void contradicted)",
        suit.name()
    )]
    VoidContradicted {
        index: usize,
        player: usize,
        card: Card,
        suit: Suit,
    },
}

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

    /// What `seat` knows after `actions` (every public action of a single round so far, in
    /// order) given its hand `dealt` at the start: the seat's own account, with every check it
    /// can make. Bids follow the bidding rules; the seat's own cards must be in its hand and
    /// follow suit; another seat's card must not be in this seat's hand, nor in a suit that
    /// seat showed it lacks; no card is played twice. Nothing here needs another seat's cards,
    /// so nothing here can be told them.
    pub fn from_public_actions(
        config: RoundConfig,
        seat: usize,
        dealt: CardSet,
        actions: &[Action],
    ) -> Result<Observation, AccountError> {
        if seat >= config.players() {
            return Err(AccountError::NoSuchSeat {
                seat,
                players: config.players(),
            });
        }
        if dealt.len() as usize != config.cards() {
            return Err(AccountError::HandSize {
                given: dealt.len() as usize,
                dealt: config.cards(),
            });
        }
        let mut public = PublicRound::new(config);
        let mut hand = dealt;
        for (index, &action) in actions.iter().enumerate() {
            let illegal = |source| AccountError::Illegal { index, source };
            let player = public.to_act();
            let card = match action {
                Action::Bid(b) => {
                    public.apply_bid(b as u64).map_err(illegal)?;
                    continue;
                }
                Action::Play(card) => card,
            };
            match public.phase() {
                Phase::Over => return Err(illegal(IllegalAction::RoundOver)),
                Phase::Bidding => {
                    return Err(illegal(IllegalAction::CardDuringBidding {
                        seat: player,
                        card,
                    }));
                }
                Phase::Playing => {}
            }
            if public.played().contains(card) {
                return Err(AccountError::PlayedTwice { index, card });
            }
            if player == seat {
                if !hand.contains(card) {
                    return Err(illegal(IllegalAction::NotInHand {
                        seat,
                        card,
                        why: "it is not in the hand this seat was dealt",
                    }));
                }
                public.check_follows_suit(hand, card).map_err(illegal)?;
                hand.remove(card);
            } else {
                if dealt.contains(card) {
                    return Err(AccountError::OwnCard {
                        index,
                        player,
                        card,
                    });
                }
                if public.voids(player) & (1 << card.suit().index()) != 0 {
                    return Err(AccountError::VoidContradicted {
                        index,
                        player,
                        card,
                        suit: card.suit(),
                    });
                }
            }
            public.record_play(card);
        }
        Ok(Observation {
            seat: seat as u8,
            hand,
            public,
            game: None,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bots::{Player, RandomBot, action_of};
    use crate::rng_from_seed;
    use crate::setup::TRUMP_ROTATION;

    /// Every seat's own account, rebuilt from its dealt hand and the public actions, equals
    /// the observation the full round gives it, at every point of many random rounds.
    #[test]
    fn a_seats_account_equals_its_observation() {
        let mut rng = rng_from_seed(5);
        let mut bot = RandomBot::new(9);
        let mut checked = 0;
        for p in 3..=8u64 {
            for c in 1..=(52 / p).min(7) {
                let cfg = RoundConfig::new(p, c, TRUMP_ROTATION[(c % 5) as usize], c % p).unwrap();
                let mut round = Round::deal(cfg, &mut rng);
                let dealt: Vec<CardSet> = (0..p as usize).map(|s| round.hand(s)).collect();
                let mut actions = Vec::new();
                loop {
                    for (s, &hand) in dealt.iter().enumerate() {
                        let own = Observation::from_public_actions(cfg, s, hand, &actions);
                        assert_eq!(own, Ok(round.observation(s)));
                        checked += 1;
                    }
                    if round.is_over() {
                        break;
                    }
                    let obs = round.observation(round.to_act());
                    let action = action_of(&obs, bot.act(&obs));
                    round.apply(action).unwrap();
                    actions.push(action);
                }
            }
        }
        assert!(checked > 2_000, "{checked}");
    }

    #[test]
    fn what_the_seat_can_check_is_refused_with_the_reason() {
        // 3 players, 2 cards, hearts trump, seat 2 deals: seat 0 bids and leads first.
        let cfg = RoundConfig::new(3, 2, Some(Suit::Hearts), 2).unwrap();
        let card = |s: &str| s.parse::<Card>().unwrap();
        let hand: CardSet = [card("AS"), card("2C")].into_iter().collect();
        let account = |actions: &[Action]| Observation::from_public_actions(cfg, 0, hand, actions);
        let bids = [Action::Bid(1), Action::Bid(0), Action::Bid(0)];
        assert!(account(&bids).is_ok());
        // The dealer may not make the bids sum to the cards.
        let err = account(&[Action::Bid(1), Action::Bid(0), Action::Bid(1)]).unwrap_err();
        assert!(
            matches!(err, AccountError::Illegal { index: 2, .. }),
            "{err}"
        );
        // A bid above the cards.
        assert!(matches!(
            account(&[Action::Bid(3)]).unwrap_err(),
            AccountError::Illegal { index: 0, .. }
        ));
        let play = |c: &str| Action::Play(card(c));
        let with = |more: &[Action]| {
            let mut a = bids.to_vec();
            a.extend_from_slice(more);
            account(&a)
        };
        // This seat's own card it was not dealt; another seat's card in this seat's hand.
        let err = with(&[play("KD")]).unwrap_err().to_string();
        assert!(err.contains("not in the hand"), "{err}");
        let err = with(&[play("2C"), play("AS")]).unwrap_err();
        assert!(
            matches!(err, AccountError::OwnCard { player: 1, .. }),
            "{err}"
        );
        // Seat 1 shows a club void (3D on the 2C lead), seat 2 wins with 4C and leads 5C, this
        // seat has no club left (AS), and seat 1 then plays a club: contradicted.
        let err = with(&[
            play("2C"),
            play("3D"),
            play("4C"),
            play("5C"),
            play("AS"),
            play("6C"),
        ])
        .unwrap_err();
        assert!(
            matches!(
                err,
                AccountError::VoidContradicted {
                    index: 8,
                    player: 1,
                    ..
                }
            ),
            "{err}"
        );
        // A card played twice, and an action after the round is over.
        let err = with(&[play("2C"), play("2C")]).unwrap_err();
        assert!(
            matches!(err, AccountError::PlayedTwice { index: 4, .. }),
            "{err}"
        );
        // Wrong hand size and a seat not at the table.
        assert!(matches!(
            Observation::from_public_actions(cfg, 0, CardSet::EMPTY, &[]),
            Err(AccountError::HandSize { given: 0, dealt: 2 })
        ));
        assert!(matches!(
            Observation::from_public_actions(cfg, 3, hand, &[]),
            Err(AccountError::NoSuchSeat { .. })
        ));
    }
}
