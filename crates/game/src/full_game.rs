//! A full game: the schedule of rounds, trump and dealer rotation, totals and winners.

use crate::action::Action;
use crate::card::Card;
use crate::observation::Observation;
use crate::round::{IllegalAction, Round};
use crate::setup::{GameConfig, MAX_PLAYERS, SetupError};
use rand::Rng;

/// Where a round stands in its game: what the observation and encoding need of the game.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GameContext {
    /// 0-based index of the current round.
    pub round_index: u8,
    pub num_rounds: u8,
    /// Totals of the rounds finished before this one, per seat.
    pub totals: [u16; MAX_PLAYERS],
}

/// A full game in progress. The current round is played with [`Game::apply`]; once it is over
/// its scores are added, and the next one is dealt with [`Game::deal_next`] or
/// [`Game::deal_next_with_hands`].
#[derive(Clone, Debug)]
pub struct Game {
    config: GameConfig,
    round_index: usize,
    round: Round,
    totals: [u16; MAX_PLAYERS],
    round_scores: Vec<[u8; MAX_PLAYERS]>,
}

/// Why the next round cannot be dealt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NextRoundError {
    #[error("round {0} is still being played")]
    RoundInProgress(usize),
    #[error("the game is over: all {0} rounds were played")]
    GameOver(usize),
    #[error(transparent)]
    Setup(#[from] SetupError),
}

impl Game {
    /// A new game whose first round is dealt from `rng`.
    pub fn new<R: Rng + ?Sized>(config: GameConfig, rng: &mut R) -> Game {
        let rc = config
            .round_config(0)
            .expect("a game has at least one round");
        Game::starting_with(config, Round::deal(rc, rng))
    }

    /// A new game whose first round has the given hands.
    pub fn with_first_hands(config: GameConfig, hands: &[Vec<Card>]) -> Result<Game, SetupError> {
        let rc = config
            .round_config(0)
            .expect("a game has at least one round");
        Ok(Game::starting_with(config, Round::with_hands(rc, hands)?))
    }

    fn starting_with(config: GameConfig, round: Round) -> Game {
        Game {
            config,
            round_index: 0,
            round,
            totals: [0; MAX_PLAYERS],
            round_scores: Vec::with_capacity(config.num_rounds()),
        }
    }

    pub fn config(&self) -> &GameConfig {
        &self.config
    }

    /// The round being played (or the last one, once the game is over).
    pub fn round(&self) -> &Round {
        &self.round
    }

    pub fn round_index(&self) -> usize {
        self.round_index
    }

    /// Totals of the finished rounds.
    pub fn totals(&self) -> &[u16] {
        &self.totals[..self.config.players()]
    }

    /// Scores of each finished round.
    pub fn round_scores(&self) -> &[[u8; MAX_PLAYERS]] {
        &self.round_scores
    }

    /// True once the last round of the schedule is over.
    pub fn is_over(&self) -> bool {
        self.round_scores.len() == self.config.num_rounds()
    }

    /// Seats with the highest total (only meaningful once the game is over).
    pub fn winners(&self) -> Vec<usize> {
        let best = self.totals().iter().copied().max().unwrap_or(0);
        (0..self.config.players())
            .filter(|&s| self.totals[s] == best)
            .collect()
    }

    /// The game context of the current round, for observations.
    pub fn context(&self) -> GameContext {
        GameContext {
            round_index: self.round_index as u8,
            num_rounds: self.config.num_rounds() as u8,
            totals: self.totals_before_current(),
        }
    }

    fn totals_before_current(&self) -> [u16; MAX_PLAYERS] {
        // Once the current round is scored its points are in `totals`; the context of a round
        // holds only the rounds before it.
        if self.round_scores.len() > self.round_index {
            let last = self.round_scores[self.round_index];
            std::array::from_fn(|s| self.totals[s] - last[s] as u16)
        } else {
            self.totals
        }
    }

    /// What `seat` can know now, game context included.
    pub fn observation(&self, seat: usize) -> Observation {
        Observation::of_round(&self.round, seat, Some(self.context()))
    }

    /// Applies an action to the current round; when it ends the round, its scores are added.
    pub fn apply(&mut self, action: Action) -> Result<(), IllegalAction> {
        self.round.apply(action)?;
        self.score_if_over();
        Ok(())
    }

    /// Applies a bid given as any integer (out-of-range values are refused, not truncated), as
    /// [`Round::apply_bid`] does; transcripts may hold bids that do not fit an [`Action`].
    pub fn apply_bid(&mut self, bid: u64) -> Result<(), IllegalAction> {
        self.round.apply_bid(bid)?;
        self.score_if_over();
        Ok(())
    }

    /// Applies the action with index `index` (bid k or card k by phase).
    pub fn apply_index(&mut self, index: usize) -> Result<(), IllegalAction> {
        self.round.apply_index(index)?;
        self.score_if_over();
        Ok(())
    }

    fn score_if_over(&mut self) {
        if let Some(scores) = self.round.scores() {
            for (t, s) in self.totals.iter_mut().zip(scores) {
                *t += s as u16;
            }
            self.round_scores.push(scores);
        }
    }

    fn next_config(&self) -> Result<crate::setup::RoundConfig, NextRoundError> {
        if !self.round.is_over() {
            return Err(NextRoundError::RoundInProgress(self.round_index));
        }
        self.config
            .round_config(self.round_index + 1)
            .ok_or(NextRoundError::GameOver(self.config.num_rounds()))
    }

    /// Deals the next round from `rng`.
    pub fn deal_next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Result<(), NextRoundError> {
        let rc = self.next_config()?;
        self.round = Round::deal(rc, rng);
        self.round_index += 1;
        Ok(())
    }

    /// Starts the next round with the given hands.
    pub fn deal_next_with_hands(&mut self, hands: &[Vec<Card>]) -> Result<(), NextRoundError> {
        let rc = self.next_config()?;
        self.round = Round::with_hands(rc, hands)?;
        self.round_index += 1;
        Ok(())
    }
}
