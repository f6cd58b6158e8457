//! The arena: agents play the same deals from every seat (duplicate format), and the report
//! gives mean scores with confidence intervals, bids made and Elo ratings (`docs/arena.md`).
//!
//! - A *deal* (rounds mode: one dealt round; games mode: one game, i.e. its dealing seed) is
//!   played at several *tables*, one seating of the agents each ([`seatings`]): every ordering
//!   of the agents (N! tables for N <= 4 agents), so the design treats all agents alike, or
//!   beyond [`MAX_EXHAUSTIVE_TABLES`] the N rotations of one random ordering. Either way every
//!   agent plays every seat's hand of every deal equally often, whatever N and the player
//!   count P.
//! - Deal u, its seatings and every seat's agent draw their randomness from seeds derived
//!   from (seed, u, table, seat), and results are combined in deal order, so a report depends
//!   on the seed only, never on the thread count.

mod cli;
mod report;

pub use cli::{ArenaArgs, arena_main, arena_main_with};
pub use report::{AgentStats, ArenaReport, mean_ci95};

use crate::agents::{AgentSpec, NetAgentFactory};
use crate::config::TrainConfig;
use crate::selfplay::DealConfig;
use anyhow::{Context, Result, bail, ensure};
use game::Player;
use game::seeds;
use game::{Game, GameConfig, GameRng, Observation, Round, RoundConfig, TRUMP_ROTATION};
use rand::{RngExt, SeedableRng};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set-ups the arena draws where `--players`, `--cards` or `--start-cards` leave them open:
/// the training run's `[deal]` (configs/default.toml, the one source of defaults).
fn default_deal() -> &'static DealConfig {
    static DEAL: LazyLock<DealConfig> = LazyLock::new(|| TrainConfig::default().deal);
    &DEAL
}

/// The fewest players a drawn set-up can have.
fn fewest_players() -> usize {
    default_deal().players.iter().copied().min().unwrap_or(3)
}

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
                    c.saturating_mul(fewest_players()) <= 52,
                    "{cards_flag} {c} fits no player count: at most {} cards each with {} players",
                    52 / fewest_players(),
                    fewest_players()
                ),
            }
        }
        Ok(())
    }

    /// Whether every ordering of the agents is seated ([`plays_all_orderings`]); like the
    /// table count, the same for every player count the rules allow.
    pub fn plays_all_orderings(&self) -> bool {
        plays_all_orderings(self.agents.len(), self.fixed_or_any_players())
    }

    /// The fixed player count, or any the rules allow: the designs depend on it only for
    /// P < 3 (see [`tables_per_deal`]).
    fn fixed_or_any_players(&self) -> usize {
        let players = match self.format {
            Format::Rounds { players, .. } | Format::Games { players, .. } => players,
        };
        players.unwrap_or_else(fewest_players)
    }

    /// Tables per deal (see [`tables_per_deal`]). The count is the same for every player
    /// count the rules allow, so a drawn player count does not change it.
    pub fn tables_per_deal(&self) -> usize {
        tables_per_deal(self.agents.len(), self.fixed_or_any_players())
    }
}

/// Most tables per deal for which every ordering of the agents is played (N! tables for N
/// agents: 2, 6, 24 for 2, 3, 4 agents). Above it, one random ordering per deal is played in
/// its N cyclic rotations instead ([`seatings`]).
pub const MAX_EXHAUSTIVE_TABLES: usize = 24;

/// Distinct tables when every ordering of `agents` agents is seated at `players` seats:
/// N! / (N - min(N, P))!.
fn all_orderings_tables(agents: usize, players: usize) -> usize {
    let n = agents;
    (n - n.min(players) + 1..=n).product()
}

/// Whether every ordering of the agents is played (else a random ordering, rotated).
pub fn plays_all_orderings(agents: usize, players: usize) -> bool {
    all_orderings_tables(agents, players) <= MAX_EXHAUSTIVE_TABLES
}

/// Tables each deal is played at: every distinct table of the exhaustive design, or N
/// rotations of a random ordering.
pub fn tables_per_deal(agents: usize, players: usize) -> usize {
    if plays_all_orderings(agents, players) {
        all_orderings_tables(agents, players)
    } else {
        agents
    }
}

/// All orderings of 0..n, in lexicographic order.
fn orderings(n: usize) -> Vec<Vec<usize>> {
    let mut o: Vec<usize> = (0..n).collect();
    let mut out = vec![o.clone()];
    // Next permutation: the longest decreasing suffix is reversed after its head is swapped
    // with the smallest larger element of the suffix.
    while let Some(i) = (1..n).rev().find(|&i| o[i - 1] < o[i]) {
        let j = (i..n)
            .rev()
            .find(|&j| o[j] > o[i - 1])
            .expect("o[i] qualifies");
        o.swap(i - 1, j);
        o[i..].reverse();
        out.push(o.clone());
    }
    out
}

/// The table an ordering `o` of the agents gives at `players` seats: seat s holds
/// `o[s mod N]` (with fewer agents than seats they repeat in the same order, A B C A B...).
fn table_of(o: &[usize], players: usize) -> Vec<usize> {
    (0..players).map(|s| o[s % o.len()]).collect()
}

/// The tables of deal `unit`: per table, the agent (index into the agent list) at each of
/// `players` seats.
///
/// Who sits before and after whom matters in Blob (bidding order, the dealer's constraint,
/// playing just after a strong or weak neighbour), so a single cyclic order of the list would
/// favour some agents over equal ones. Hence:
/// - While it costs at most [`MAX_EXHAUSTIVE_TABLES`] tables, every ordering o of the agents
///   is played, seat s holding o[s mod N] (with more agents than seats, o[s] for s < P and
///   each distinct table once). The set of tables is the same under every relabelling of the
///   agents, so agents that play alike have exactly equal expected scores.
/// - Beyond that (5 or more agents), one ordering drawn uniformly from (seed, unit) is played
///   in its N cyclic rotations, seat s holding o[(s + r) mod N] at table r: symmetric over the
///   draw, i.e. on average over deals.
///
/// Either way every agent holds every seat equally often in each deal, so it plays every hand
/// of every deal equally often.
pub fn seatings(agents: usize, players: usize, seed: u64, unit: usize) -> Vec<Vec<usize>> {
    if plays_all_orderings(agents, players) {
        let mut tables: Vec<Vec<usize>> = Vec::new();
        for o in orderings(agents) {
            let t = table_of(&o[..agents.min(players)], players);
            if !tables.contains(&t) {
                tables.push(t);
            }
        }
        return tables;
    }
    let mut rng = GameRng::seed_from_u64(seeds::derive(seed, &[SEATING_STREAM, unit as u64]));
    let mut o: Vec<usize> = (0..agents).collect();
    // Fisher-Yates: every ordering equally likely.
    for i in (1..agents).rev() {
        o.swap(i, rng.random_range(0..=i));
    }
    (0..agents)
        .map(|r| (0..players).map(|s| o[(s + r) % agents]).collect())
        .collect()
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

// Tags keep the seed streams of deals and agents apart.
const DEAL_STREAM: u64 = 1;
const AGENT_STREAM: u64 = 2;
const SEATING_STREAM: u64 = 3;

/// Draws from `range` capped at `max` (the range is validated to reach below `max`).
/// Players for a unit: fixed, or drawn among the default player counts that fit `cards` per
/// hand (validation made sure one does).
fn draw_players(fixed: Option<usize>, cards: Option<usize>, rng: &mut GameRng) -> usize {
    fixed.unwrap_or_else(|| {
        let cap = cards.map_or(8, |c| 52 / c);
        let fit: Vec<usize> = default_deal()
            .players
            .iter()
            .copied()
            .filter(|&p| p <= cap)
            .collect();
        fit[rng.random_range(0..fit.len())]
    })
}

fn deal_for(format: &Format, seed: u64, unit: usize) -> Deal {
    let mut rng = GameRng::seed_from_u64(seeds::derive(seed, &[DEAL_STREAM, unit as u64]));
    match *format {
        Format::Rounds { players, cards, .. } => {
            let p = draw_players(players, cards, &mut rng);
            let d = default_deal();
            let c = cards
                .unwrap_or_else(|| DealConfig::draw_between(d.cards_min, d.cards_max, p, &mut rng));
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
            let d = default_deal();
            let s = start_cards.unwrap_or_else(|| {
                DealConfig::draw_between(d.start_cards_min, d.start_cards_max, p, &mut rng)
            });
            let config = GameConfig::new(p as u64, s as u64).expect("validated set-up");
            Deal::Game { config, rng }
        }
    }
}

/// Asks the agent of `seat` and checks its answer.
fn choose(agents: &mut [Box<dyn Player>], obs: &Observation) -> Result<usize> {
    let seat = obs.seat();
    let a = agents[seat].act(obs);
    if let Some(why) = agents[seat].failure() {
        bail!("agent {} at seat {seat} failed: {why}", agents[seat].name());
    }
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
    agents: &mut [Box<dyn Player>],
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
            // The same dealing generator at every table: the same hands, round by round.
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

/// Plays deal `unit` at each of its tables ([`seatings`]).
fn play_unit(
    cfg: &ArenaConfig,
    unit: usize,
    net: Option<&dyn NetAgentFactory>,
) -> Result<Vec<TableResult>> {
    let deal = deal_for(&cfg.format, cfg.seed, unit);
    seatings(cfg.agents.len(), deal.players(), cfg.seed, unit)
        .into_iter()
        .enumerate()
        .map(|(t, seats)| {
            let mut agents = seats
                .iter()
                .enumerate()
                .map(|(s, &a)| {
                    let path = [AGENT_STREAM, unit as u64, t as u64, s as u64];
                    cfg.agents[a].build(seeds::derive(cfg.seed, &path), net)
                })
                .collect::<Result<Vec<_>>>()?;
            play_table(&deal, &seats, &mut agents)
                .with_context(|| format!("deal {unit}, table {t}"))
        })
        .collect()
}

/// Plays every deal, on `cfg.threads` threads, and returns the tables in deal order; `None`
/// when `stop` was set first (each thread ends after its current deal).
fn play_all(
    cfg: &ArenaConfig,
    net: Option<&dyn NetAgentFactory>,
    stop: &AtomicBool,
) -> Result<Option<Vec<Vec<TableResult>>>> {
    let units = cfg.format.units();
    let threads = cfg.threads.clamp(1, units.max(1));
    if threads == 1 {
        let mut out = Vec::with_capacity(units);
        for u in 0..units {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            out.push(play_unit(cfg, u, net)?);
        }
        return Ok(Some(out));
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
                    while !failed.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
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
            None if stop.load(Ordering::Relaxed) => return Ok(None),
            None => bail!("the arena stopped early"),
        }
    }
    Ok(Some(out))
}

/// Runs the arena. Settings are checked, and every agent built once, before any deal is
/// played, so bad input fails at once.
pub fn run_arena(cfg: &ArenaConfig, net: Option<&dyn NetAgentFactory>) -> Result<ArenaReport> {
    let never = AtomicBool::new(false);
    Ok(run_arena_until(cfg, net, &never)?.expect("never stopped"))
}

/// [`run_arena`] that ends early, with `None`, once `stop` is set (within one deal).
pub fn run_arena_until(
    cfg: &ArenaConfig,
    net: Option<&dyn NetAgentFactory>,
    stop: &AtomicBool,
) -> Result<Option<ArenaReport>> {
    cfg.validate()?;
    for spec in &cfg.agents {
        spec.build(cfg.seed, net)?;
    }
    Ok(play_all(cfg, net, stop)?.map(|units| ArenaReport::from_tables(cfg, &units)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per agent and seat, how many of the tables hold that agent at that seat.
    fn seat_counts(tables: &[Vec<usize>], agents: usize, players: usize) -> Vec<Vec<usize>> {
        let mut count = vec![vec![0; players]; agents];
        for t in tables {
            assert_eq!(t.len(), players);
            for (s, &a) in t.iter().enumerate() {
                count[a][s] += 1;
            }
        }
        count
    }

    #[test]
    fn every_agent_holds_every_seat_equally_often_in_every_deal() {
        for agents in 2..=9 {
            for players in 3..=8 {
                for unit in 0..20 {
                    let tables = seatings(agents, players, 5, unit);
                    assert_eq!(tables.len(), tables_per_deal(agents, players));
                    // Tables / agents each: every agent plays every hand equally often.
                    let each = tables.len() / agents;
                    assert_eq!(each * agents, tables.len());
                    let count = seat_counts(&tables, agents, players);
                    assert!(
                        count.iter().flatten().all(|&c| c == each),
                        "{agents} agents x {players} seats, deal {unit}: {count:?}"
                    );
                }
            }
        }
    }

    /// `o` as a permutation: label a becomes o[a].
    fn relabel(tables: &[Vec<usize>], o: &[usize]) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = tables
            .iter()
            .map(|t| t.iter().map(|&a| o[a]).collect())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_tables_are_the_same_under_every_relabelling_of_up_to_4_agents() {
        for agents in 2..=4 {
            for players in 3..=8 {
                let tables = seatings(agents, players, 5, 0);
                let identity: Vec<usize> = (0..agents).collect();
                let sorted = relabel(&tables, &identity);
                for o in orderings(agents) {
                    assert_eq!(
                        relabel(&tables, &o),
                        sorted,
                        "{agents} agents x {players} seats, relabelled by {o:?}"
                    );
                }
                // Every ordering once: N! distinct tables, and no deal-to-deal variation.
                let mut distinct = sorted.clone();
                distinct.dedup();
                assert_eq!(distinct.len(), (1..=agents).product::<usize>());
                assert_eq!(seatings(agents, players, 9, 3), tables);
            }
        }
        // The documented examples.
        assert_eq!(seatings(2, 4, 0, 0), [[0, 1, 0, 1], [1, 0, 1, 0]]);
        assert_eq!(seatings(3, 4, 0, 0)[0], [0, 1, 2, 0]);
        assert_eq!(seatings(4, 3, 0, 0)[..2], [[0, 1, 2], [0, 1, 3]]);
    }

    #[test]
    fn tables_per_deal_is_n_factorial_up_to_the_limit_then_n() {
        assert_eq!(MAX_EXHAUSTIVE_TABLES, 24);
        for players in 3..=8 {
            let counts: Vec<usize> = (2..=9).map(|n| tables_per_deal(n, players)).collect();
            assert_eq!(counts, [2, 6, 24, 5, 6, 7, 8, 9], "{players} seats");
            assert!(plays_all_orderings(4, players) && !plays_all_orderings(5, players));
        }
        // More agents than seats: a table seen from several orderings is counted once.
        assert_eq!(all_orderings_tables(5, 2), 20);
        assert_eq!(orderings(4).len(), 24);
        assert_eq!(
            orderings(3),
            [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0]
            ]
        );
    }

    #[test]
    fn beyond_the_limit_a_uniform_ordering_per_deal_is_rotated() {
        let (agents, players, deals) = (5, 4, 12_000);
        let mut seen = std::collections::HashMap::new();
        for unit in 0..deals {
            let tables = seatings(agents, players, 11, unit);
            assert_eq!(tables, seatings(agents, players, 11, unit), "repeatable");
            // Table r is the ordering rotated by r: the first seat runs through it.
            let order: Vec<usize> = tables.iter().map(|t| t[0]).collect();
            for (r, t) in tables.iter().enumerate() {
                let want: Vec<usize> = (0..players).map(|s| order[(s + r) % agents]).collect();
                assert_eq!(*t, want);
            }
            *seen.entry(order).or_insert(0usize) += 1;
        }
        // Uniform over the 120 orderings: each expected 100 times, binomial sd about 10; the
        // largest deviation of 120 such counts stays well within 4.5 sd (probability < 1e-3).
        assert_eq!(seen.len(), 120);
        for (o, &c) in &seen {
            assert!((55..=145).contains(&c), "{o:?} drawn {c} times in {deals}");
        }
        assert_ne!(
            seatings(agents, players, 12, 0),
            seatings(agents, players, 11, 0)
        );
    }

    #[test]
    fn deals_are_the_same_at_every_table_and_vary_with_the_seed() {
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
