//! The rules of Blob (`shared/RULES.md`): cards, single rounds and full games, what each seat
//! may know, the 256-float encoding and the 52-wide action space, transcript replay, and
//! simple bots.
//!
//! The API follows OpenSpiel's shape: a state ([`Round`]) with legal actions, `apply`, an
//! information state ([`Observation`] and its [`encode`]ing) and returns ([`Round::scores`]).

pub mod action;
pub mod bots;
pub mod card;
pub mod cardset;
pub mod encoding;
pub mod full_game;
pub mod observation;
pub mod replay;
pub mod round;
pub mod seeds;
pub mod setup;
pub mod symmetry;

pub use action::{Action, ActionSet, NUM_ACTIONS};
pub use bots::{Analysis, HeuristicBot, Player, RandomBot, action_of, play_round};
pub use card::{Card, CardParseError, Suit};
pub use cardset::CardSet;
pub use encoding::{ENCODING_LEN, encode, encode_into, legal_mask};
pub use full_game::{Game, GameContext, NextRoundError};
pub use observation::{AccountError, Observation};
pub use round::{IllegalAction, Phase, PublicRound, Round, winning_position};
pub use setup::{
    GameConfig, MAX_CARDS, MAX_PLAYERS, MIN_PLAYERS, RoundConfig, SetupError, TRUMP_ROTATION,
};

/// The random number generator used everywhere a seed must reproduce a run: fixed algorithm
/// (xoshiro256++), so results do not change with the `rand` version.
pub type GameRng = rand_xoshiro::Xoshiro256PlusPlus;

/// A [`GameRng`] from a 64-bit seed.
pub fn rng_from_seed(seed: u64) -> GameRng {
    use rand::SeedableRng;
    GameRng::seed_from_u64(seed)
}
