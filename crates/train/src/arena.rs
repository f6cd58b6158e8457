//! The arena: agents play the same deals from every seat (duplicate format), and the report
//! gives mean scores with confidence intervals, bids made and Elo ratings (`docs/arena.md`).
//!
//! - A *deal* (rounds mode: one dealt round; games mode: one game, i.e. its dealing seed) is
//!   played once per *rotation*; with N agents there are N rotations, and in rotation r seat s
//!   holds agent (s + r) mod N ([`seating`]). So every agent plays every seat's hand of every
//!   deal exactly once, whatever N and the player count P.
//! - Deal u and every seat's agent draw their randomness from seeds derived from (seed, u,
//!   rotation, seat), and results are combined in deal order, so a report depends on the
//!   seed only, never on the thread count.

mod cli;
mod report;

pub use cli::{ArenaArgs, arena_main, arena_main_with};
pub use report::{AgentStats, ArenaReport};

use crate::agents::{Agent, AgentSpec, NetAgentFactory};
use anyhow::{Context, Result, bail, ensure};
use game::{Game, GameConfig, GameRng, Observation, Round, RoundConfig, TRUMP_ROTATION};
use rand::{RngExt, SeedableRng};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Player counts drawn from when `players` is not fixed (as self-play's defaults).
pub const DEFAULT_PLAYERS: RangeInclusive<usize> = 3..=6;
/// Hand sizes drawn from in rounds mode when `cards` is not fixed (capped at 52 / P).
pub const DEFAULT_CARDS: RangeInclusive<usize> = 1..=8;
/// Starting hand sizes drawn from in games mode when `start_cards` is not fixed.
pub const DEFAULT_START_CARDS: RangeInclusive<usize> = 2..=5;

/// Most deals (or games) in one run: every table's result is kept until the end.
pub const MAX_UNITS: usize = 1_000_000;

/// What is played.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// `deals` single rounds. Unset players and cards are drawn per deal; trump rotates
    /// S H C D none with the deal index, and the dealer moves on every 5 deals.
    Rounds {
        deals: usize,
        players: Option<usize>,
        cards: Option<usize>,
    },
    /// `games` full games (schedule, trump and dealer rotation of the rules).
    Games {
        games: usize,
        players: Option<usize>,
        start_cards: Option<usize>,
    },
}

impl Format {
    /// Deals (rounds mode) or games (games mode).
    pub fn units(&self) -> usize {
        match *self {
            Format::Rounds { deals, .. } => deals,
            Format::Games { games, .. } => games,
        }
    }
}

/// Everything an arena run needs, besides the network factory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArenaConfig {
    pub agents: Vec<AgentSpec>,
    pub format: Format,
    pub seed: u64,
    /// Worker threads (at least 1); the report does not depend on it.
    pub threads: usize,
}

impl ArenaConfig {
    /// Refuses settings that cannot run, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        let n = self.agents.len();
        ensure!(
            n >= 2,
            "the arena needs at least 2 agents to compare, got {n}{}",
            if n == 1 {
                format!(" ({})", self.agents[0])
            } else {
                String::new()
            }
        );
        ensure!(self.threads >= 1, "--threads must be at least 1");
        let (what, units, players, cards, cards_flag) = match self.format {
            Format::Rounds {
                deals,
                players,
                cards,
            } => ("--rounds", deals, players, cards, "--cards"),
            Format::Games {
                games,
                players,
                start_cards,
            } => ("--games", games, players, start_cards, "--start-cards"),
        };
        ensure!(units >= 1, "{what} must be at least 1");
        ensure!(
            units <= MAX_UNITS,
            "{what} {units} is more than this arena keeps in memory ({MAX_UNITS})"
        );
        if let Some(p) = players {
            ensure!(
                (3..=8).contains(&p),
                "--players {p} is outside 3..=8 (the rules allow 3 to 8 players)"
            );
        }
        if let Some(c) = cards {
            ensure!(c >= 1, "{cards_flag} must be at least 1");
            match players {
                Some(p) => ensure!(
                    c.saturating_mul(p) <= 52,
                    "{cards_flag} {c} with --players {p} needs {} cards: at most {} each fit in 52",
                    c.saturating_mul(p),
                    52 / p
                ),
                None => ensure!(
                    c.saturating_mul(*DEFAULT_PLAYERS.start()) <= 52,
                    "{cards_flag} {c} fits no player count: at most {} cards each with {} players",
                    52 / DEFAULT_PLAYERS.start(),
                    DEFAULT_PLAYERS.start()
                ),
            }
        }
        Ok(())
    }

    /// Rotations (tables) per deal: one per agent.
    pub fn rotations(&self) -> usize {
        self.agents.len()
    }
}

/// The agent (index into the agent list) at each of `players` seats in `rotation`:
/// seat s holds agent (s + rotation) mod `agents`.
///
/// Over rotations 0..agents each seat holds every agent exactly once, so every agent plays
/// every hand of a deal once. With fewer agents than seats an agent holds several seats of a
/// table (as independent players); with more, each table seats P agents in cyclic order.
pub fn seating(agents: usize, players: usize, rotation: usize) -> Vec<usize> {
    (0..players).map(|s| (s + rotation) % agents).collect()
}

/// One table: a deal played by one seating.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TableResult {
    /// Agent index per seat.
    pub seating: Vec<usize>,
    /// Per seat: points over the table's rounds (the game total in games mode).
    pub totals: Vec<u32>,
    /// Per seat: rounds whose bid was made.
    pub made: Vec<u32>,
    /// Rounds each seat played (1 in rounds mode).
    pub rounds: u32,
    /// Per seat: had the top total of a game (games mode only; ties all win).
    pub won: Option<Vec<bool>>,
}

/// How a deal starts: a dealt round, or a game with the seed of its dealing generator.
enum Deal {
    Round(Round),
    Game { config: GameConfig, rng: GameRng },
}

impl Deal {
    fn players(&self) -> usize {
        match self {
            Deal::Round(r) => r.public().players(),
            Deal::Game { config, .. } => config.players(),
        }
    }
}

/// A well-mixed seed from a base seed and a path of indices (splitmix64 steps).
fn derive_seed(seed: u64, path: &[u64]) -> u64 {
    let mut x = seed;
    for &p in path {
        x = (x ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
    }
    x
}

// Tags keep the seed streams of deals and agents apart.
const DEAL_STREAM: u64 = 1;
const AGENT_STREAM: u64 = 2;

/// Draws from `range` capped at `max` (the range is validated to reach below `max`).
fn draw_capped(range: RangeInclusive<usize>, max: usize, rng: &mut GameRng) -> usize {
    let hi = (*range.end()).min(max);
    let lo = (*range.start()).min(hi);
    rng.random_range(lo..=hi)
}

/// Players for a unit: fixed, or drawn among the defaults that fit `cards` per hand.
fn draw_players(fixed: Option<usize>, cards: Option<usize>, rng: &mut GameRng) -> usize {
    fixed.unwrap_or_else(|| {
        let cap = cards.map_or(8, |c| 52 / c);
        draw_capped(DEFAULT_PLAYERS, cap, rng)
    })
}

fn deal_for(format: &Format, seed: u64, unit: usize) -> Deal {
    let mut rng = GameRng::seed_from_u64(derive_seed(seed, &[DEAL_STREAM, unit as u64]));
    match *format {
        Format::Rounds { players, cards, .. } => {
            let p = draw_players(players, cards, &mut rng);
            let c = cards.unwrap_or_else(|| draw_capped(DEFAULT_CARDS, 52 / p, &mut rng));
            // Rotating trump, and a dealer moving every 5 deals, meet every pair (trump,
            // dealer) evenly, which a draw would only do on average.
            let trump = TRUMP_ROTATION[unit % 5];
            let dealer = (unit / 5) % p;
            let cfg = RoundConfig::new(p as u64, c as u64, trump, dealer as u64)
                .expect("validated set-up");
            Deal::Round(Round::deal(cfg, &mut rng))
        }
        Format::Games {
            players,
            start_cards,
            ..
        } => {
            let p = draw_players(players, start_cards, &mut rng);
            let s =
                start_cards.unwrap_or_else(|| draw_capped(DEFAULT_START_CARDS, 52 / p, &mut rng));
            let config = GameConfig::new(p as u64, s as u64).expect("validated set-up");
            Deal::Game { config, rng }
        }
    }
}

/// Asks the agent of `seat` and checks its answer.
fn choose(agents: &mut [Box<dyn Agent>], obs: &Observation) -> Result<usize> {
    let seat = obs.seat();
    let a = agents[seat].act(obs);
    if !obs.legal_actions().contains(a) {
        bail!(
            "agent {} at seat {seat} chose action {a}, which is not legal here",
            agents[seat].name()
        );
    }
    Ok(a)
}

fn play_table(
    deal: &Deal,
    seating: &[usize],
    agents: &mut [Box<dyn Agent>],
) -> Result<TableResult> {
    let p = seating.len();
    match deal {
        Deal::Round(round) => {
            let mut round = *round;
            while !round.is_over() {
                let a = choose(agents, &round.observation(round.to_act()))?;
                round.apply_index(a)?;
            }
            let scores = round.scores().expect("the round is over");
            Ok(TableResult {
                seating: seating.to_vec(),
                totals: (0..p).map(|s| scores[s] as u32).collect(),
                made: (0..p).map(|s| (scores[s] > 0) as u32).collect(),
                rounds: 1,
                won: None,
            })
        }
        Deal::Game { config, rng } => {
            // The same dealing generator for every rotation: the same hands, round by round.
            let mut rng = rng.clone();
            let mut game = Game::new(*config, &mut rng);
            loop {
                while !game.round().is_over() {
                    let a = choose(agents, &game.observation(game.round().to_act()))?;
                    game.apply_index(a)?;
                }
                if game.is_over() {
                    break;
                }
                game.deal_next(&mut rng)?;
            }
            let winners = game.winners();
            let made = (0..p)
                .map(|s| game.round_scores().iter().filter(|r| r[s] > 0).count() as u32)
                .collect();
            Ok(TableResult {
                seating: seating.to_vec(),
                totals: game.totals().iter().map(|&t| t as u32).collect(),
                made,
                rounds: config.num_rounds() as u32,
                won: Some((0..p).map(|s| winners.contains(&s)).collect()),
            })
        }
    }
}

/// Plays deal `unit` in every rotation.
fn play_unit(
    cfg: &ArenaConfig,
    unit: usize,
    net: Option<&dyn NetAgentFactory>,
) -> Result<Vec<TableResult>> {
    let deal = deal_for(&cfg.format, cfg.seed, unit);
    let n = cfg.agents.len();
    (0..cfg.rotations())
        .map(|r| {
            let seats = seating(n, deal.players(), r);
            let mut agents = seats
                .iter()
                .enumerate()
                .map(|(s, &a)| {
                    let path = [AGENT_STREAM, unit as u64, r as u64, s as u64];
                    cfg.agents[a].build(derive_seed(cfg.seed, &path), net)
                })
                .collect::<Result<Vec<_>>>()?;
            play_table(&deal, &seats, &mut agents)
                .with_context(|| format!("deal {unit}, rotation {r}"))
        })
        .collect()
}

/// Plays every deal, on `cfg.threads` threads, and returns the tables in deal order.
fn play_all(cfg: &ArenaConfig, net: Option<&dyn NetAgentFactory>) -> Result<Vec<Vec<TableResult>>> {
    let units = cfg.format.units();
    let threads = cfg.threads.clamp(1, units.max(1));
    if threads == 1 {
        return (0..units).map(|u| play_unit(cfg, u, net)).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut slots: Vec<Option<Result<Vec<TableResult>>>> = (0..units).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    // Deals are handed out one at a time, so slow deals do not idle threads.
                    while !failed.load(Ordering::Relaxed) {
                        let u = next.fetch_add(1, Ordering::Relaxed);
                        if u >= units {
                            break;
                        }
                        let result = play_unit(cfg, u, net);
                        failed.fetch_or(result.is_err(), Ordering::Relaxed);
                        done.push((u, result));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            let done = w
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (u, result) in done {
                slots[u] = Some(result);
            }
        }
    });
    // Deal order; after a failure some deals were never played, and the first error wins.
    let mut out = Vec::with_capacity(units);
    for slot in slots {
        match slot {
            Some(result) => out.push(result?),
            None => bail!("the arena stopped early"),
        }
    }
    Ok(out)
}

/// Runs the arena. Settings are checked, and every agent built once, before any deal is
/// played, so bad input fails at once.
pub fn run_arena(cfg: &ArenaConfig, net: Option<&dyn NetAgentFactory>) -> Result<ArenaReport> {
    cfg.validate()?;
    for spec in &cfg.agents {
        spec.build(cfg.seed, net)?;
    }
    let units = play_all(cfg, net)?;
    Ok(ArenaReport::from_tables(cfg, &units))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_plays_every_seat_once_per_deal() {
        for agents in 2..=9 {
            for players in 3..=8 {
                let mut count = vec![vec![0; players]; agents];
                for r in 0..agents {
                    for (s, a) in seating(agents, players, r).into_iter().enumerate() {
                        count[a][s] += 1;
                    }
                }
                assert!(
                    count.iter().flatten().all(|&c| c == 1),
                    "{agents} x {players}"
                );
            }
        }
    }

    #[test]
    fn deals_are_the_same_for_every_rotation_and_vary_with_the_seed() {
        let f = Format::Games {
            games: 2,
            players: Some(4),
            start_cards: Some(3),
        };
        let hands = |seed| match deal_for(&f, seed, 0) {
            Deal::Game { config, mut rng } => *Game::new(config, &mut rng).round().hands(),
            Deal::Round(_) => unreachable!(),
        };
        assert_eq!(hands(1), hands(1));
        assert_ne!(hands(1), hands(2));
    }

    #[test]
    fn drawn_set_ups_respect_the_deck() {
        let f = Format::Rounds {
            deals: 500,
            players: None,
            cards: Some(13),
        };
        for u in 0..200 {
            let Deal::Round(r) = deal_for(&f, 9, u) else {
                unreachable!()
            };
            assert!(r.public().players() <= 4);
            assert_eq!(r.public().cards(), 13);
        }
    }
}
