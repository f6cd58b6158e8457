//! The `arena` command: its arguments and entry point (the binary dispatches to it).

use super::{ArenaConfig, Format, run_arena};
use crate::agents::{AgentSpec, NetAgentFactory};
use anyhow::{Result, bail, ensure};
use std::time::Instant;

/// Deals played when neither --rounds nor --games is given.
pub const DEFAULT_ROUNDS: usize = 400;

/// Pits agents against each other on the same deals from every seat.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct ArenaArgs {
    /// Comma-separated agents (at least 2): random, heuristic, rollout:SIMS, ismcts:SIMS,
    /// net:CHECKPOINT[:PRESET] (preset light, medium, heavy, WxS or isN; default light),
    /// cmd:PROGRAM ARGS (a program speaking the engine protocol, docs/engine.md).
    #[arg(long, value_delimiter = ',')]
    pub agents: Vec<AgentSpec>,
    /// Deals to play (single rounds), each at every ordering of the agents (N! tables; with 5
    /// or more agents, N rotations of a random ordering) [default: 400].
    #[arg(long, conflicts_with = "games")]
    pub rounds: Option<usize>,
    /// Play this many full games instead of single rounds.
    #[arg(long)]
    pub games: Option<usize>,
    /// Players per table, 3..=8 [default: drawn per deal from configs/default.toml's [deal]].
    #[arg(long)]
    pub players: Option<usize>,
    /// Cards per hand in rounds mode [default: drawn per deal from [deal]].
    #[arg(long)]
    pub cards: Option<usize>,
    /// Starting hand size in games mode [default: drawn per game from [deal]].
    #[arg(long)]
    pub start_cards: Option<usize>,
    /// Seed of every deal and every agent's random choices.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads [default: the available cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also print the report as JSON, on the last line of standard output.
    #[arg(long)]
    pub json: bool,
}

impl ArenaArgs {
    /// The checked run settings.
    pub fn to_config(&self) -> Result<ArenaConfig> {
        let format = match (self.rounds, self.games) {
            (Some(_), Some(_)) => bail!("--rounds and --games exclude each other: pick one"),
            (None, Some(games)) => {
                ensure!(
                    self.cards.is_none(),
                    "--cards sets the hand of single rounds; with --games use --start-cards"
                );
                Format::Games {
                    games,
                    players: self.players,
                    start_cards: self.start_cards,
                }
            }
            (rounds, None) => {
                ensure!(
                    self.start_cards.is_none(),
                    "--start-cards sets the first hand of full games: use it with --games \
                     (or --cards for single rounds)"
                );
                Format::Rounds {
                    deals: rounds.unwrap_or(DEFAULT_ROUNDS),
                    players: self.players,
                    cards: self.cards,
                }
            }
        };
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let cfg = ArenaConfig {
            agents: self.agents.clone(),
            format,
            seed: self.seed,
            threads,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Runs the `arena` command without a network backend (`net:` agents are refused).
pub fn arena_main(args: ArenaArgs) -> Result<()> {
    arena_main_with(args, None)
}

/// Runs the `arena` command; `net` builds `net:` agents. Prints the table, then with --json
/// the report as the last line of standard output. Progress goes to standard error.
pub fn arena_main_with(args: ArenaArgs, net: Option<&dyn NetAgentFactory>) -> Result<()> {
    let cfg = args.to_config()?;
    let names: Vec<String> = cfg.agents.iter().map(|a| a.to_string()).collect();
    eprintln!(
        "arena: {} on {} {}, {} tables each, {} threads, seed {}",
        names.join(" vs "),
        cfg.format.units(),
        match cfg.format {
            Format::Rounds { .. } => "deals",
            Format::Games { .. } => "games",
        },
        cfg.tables_per_deal(),
        cfg.threads,
        cfg.seed
    );
    let start = Instant::now();
    let report = run_arena(&cfg, net)?;
    eprintln!("arena: done in {:.1} s", start.elapsed().as_secs_f64());
    report.print_table();
    if args.json {
        println!("{}", report.to_json());
    }
    Ok(())
}
