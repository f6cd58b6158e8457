//! `cargo run -p train --release`: trains BlobNet by self-play (the default run is small and
//! runs on this CPU); `... -- arena --agents A,B,...` plays agents against each other.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use train::config::TrainConfig;
use train::net_agent::CacheUse;
use train::run::{RunOptions, run};

#[derive(Parser, Debug)]
#[command(
    name = "train",
    version,
    about = "Self-play training for Blob (and an arena)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A TOML config (keys it leaves out keep the defaults of configs/default.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print the effective configuration and exit.
    #[arg(long)]
    print_config: bool,
    /// Where the network runs: cpu or cuda.
    #[arg(long)]
    device: Option<String>,
    /// Self-play threads (0 = two per core).
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long)]
    iterations: Option<u64>,
    /// Search preset for self-play: light, medium, heavy or WxS.
    #[arg(long)]
    preset: Option<String>,
    /// Network preset: compact, small, peer or tiny.
    #[arg(long)]
    net: Option<String>,
    /// rounds or games.
    #[arg(long)]
    mode: Option<String>,
    /// Rounds (or games) of self-play per iteration.
    #[arg(long)]
    per_iteration: Option<u64>,
    /// Output folder.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    seed: Option<u64>,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    resume: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Play agents against each other (the same deals at every seating): random, heuristic,
    /// rollout:SIMS, ismcts:SIMS, net:CHECKPOINT[:PRESET], cmd:PROGRAM ARGS.
    Arena(train::arena::ArenaArgs),
    /// Answer JSON-lines requests on stdin with an agent's moves, one answer line each on
    /// stdout (docs/engine.md).
    Engine {
        /// Any arena spec: random, heuristic, rollout:SIMS, ismcts:SIMS,
        /// net:CHECKPOINT[:PRESET].
        #[arg(long)]
        agent: train::agents::AgentSpec,
        /// Seeds the agent's choices where a request gives no `seed`.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Evaluations a net: agent keeps between requests (0: none, so each answer depends
        /// on its request alone, to the last bit).
        #[arg(long, default_value_t = train::config::DEFAULT_CACHE_ENTRIES)]
        cache_entries: usize,
    },
    /// Play in the terminal against AI seats: a single round, or a full game with --game.
    Play {
        #[arg(long, default_value_t = 4)]
        players: usize,
        /// Cards per hand of the single round.
        #[arg(long, default_value_t = 5)]
        cards: usize,
        /// Play a full game (hands from --start-cards down to 1 and back) instead of one round.
        #[arg(long)]
        game: bool,
        #[arg(long, default_value_t = 5)]
        start_cards: usize,
        /// Your seat, 0 to players - 1 (the dealer is drawn; seats count clockwise).
        #[arg(long, default_value_t = 0)]
        seat: usize,
        /// The AI at every other seat: any arena spec.
        #[arg(long, default_value = "ismcts:200")]
        ai: train::agents::AgentSpec,
        /// Seeds the deal and the AI (a random one when not given).
        #[arg(long)]
        seed: Option<u64>,
    },
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Arena(args)) => {
            let nets = train::net_agent::NetFactory::default();
            return train::arena::arena_main_with(args, Some(&nets));
        }
        Some(Command::Engine {
            agent,
            seed,
            cache_entries,
        }) => {
            if cache_entries > train::config::MAX_CACHE_ENTRIES {
                anyhow::bail!(
                    "--cache-entries must be at most {}, not {cache_entries}",
                    train::config::MAX_CACHE_ENTRIES
                );
            }
            let nets = train::net_agent::NetFactory::default()
                .with_cache(CacheUse::PerNetwork(cache_entries));
            // A net: agent's checkpoint is read now, so a bad path fails before any request.
            agent.build(seed, Some(&nets))?;
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            return Ok(train::engine::serve(
                &agent,
                seed,
                Some(&nets),
                stdin,
                stdout,
            )?);
        }
        Some(Command::Play {
            players,
            cards,
            game,
            start_cards,
            seat,
            ai,
            seed,
        }) => {
            use std::io::IsTerminal;
            // One cache per network for the whole session: the AI seats' decisions share it.
            let nets = train::net_agent::NetFactory::default()
                .with_cache(CacheUse::PerNetwork(train::config::DEFAULT_CACHE_ENTRIES));
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            });
            let cfg = train::play::PlayConfig {
                players,
                cards: (!game).then_some(cards),
                start_cards,
                seat,
                ai,
                seed,
                colour: std::io::stdout().is_terminal(),
            };
            println!("seed {seed} (--seed {seed} deals this again)");
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            return train::play::play(&cfg, Some(&nets), stdin, stdout);
        }
        None => {}
    }
    let mut cfg = match &cli.config {
        Some(path) => TrainConfig::from_file(path).map_err(anyhow::Error::msg)?,
        None => TrainConfig::default(),
    };
    if let Some(d) = cli.device {
        cfg.device = d.parse().map_err(|e| anyhow::anyhow!("--device: {e}"))?;
    }
    if let Some(t) = cli.threads {
        cfg.threads = t;
    }
    if let Some(i) = cli.iterations {
        cfg.iterations = i;
    }
    if let Some(p) = cli.preset {
        cfg.selfplay.preset = p.parse().map_err(|e| anyhow::anyhow!("--preset: {e}"))?;
    }
    if let Some(n) = cli.net {
        cfg.net.preset = n;
    }
    if let Some(m) = cli.mode {
        cfg.selfplay.mode = m.parse().map_err(anyhow::Error::msg)?;
    }
    if let Some(n) = cli.per_iteration {
        cfg.selfplay.per_iteration = n;
    }
    if let Some(o) = cli.out {
        cfg.out = o;
    }
    if let Some(s) = cli.seed {
        cfg.seed = s;
    }
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    if cli.print_config {
        println!("# Effective configuration (every key is documented in configs/default.toml)");
        print!("{}", cfg.to_toml());
        return Ok(());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping now");
            std::process::exit(130);
        }
        eprintln!("\nstopping at the next safe point (the last checkpoint is kept; Ctrl-C again to quit now)");
    })
    .context("cannot install the Ctrl-C / SIGTERM handler")?;

    let opts = RunOptions {
        resume: cli.resume,
        quiet: cli.quiet,
        stop_after: None,
    };
    println!(
        "training: {} iterations of {} {} | search {} | net {} | device {} | {} threads | out {}",
        cfg.iterations,
        cfg.selfplay.per_iteration,
        match cfg.selfplay.mode {
            train::selfplay::Mode::Rounds => "rounds",
            train::selfplay::Mode::Games => "games",
        },
        cfg.selfplay.preset,
        cfg.net.preset,
        cfg.device,
        cfg.thread_count(),
        cfg.out.display()
    );
    let summary = cfg
        .device
        .run(Training {
            cfg: &cfg,
            opts: &opts,
            stop,
        })
        .map_err(anyhow::Error::msg)??;
    if summary.interrupted {
        println!(
            "stopped after {} finished iterations; continue with --resume (checkpoint in {})",
            summary.completed,
            cfg.out.display()
        );
    } else {
        println!(
            "done: {} iterations; best network from iteration {}; metrics, plots and checkpoints in {}",
            summary.completed,
            summary.best_iteration,
            cfg.out.display()
        );
    }
    Ok(())
}

/// The training run, on whichever backend the config's device picks.
struct Training<'a> {
    cfg: &'a TrainConfig,
    opts: &'a RunOptions,
    stop: Arc<AtomicBool>,
}

impl model::backend::OnBackend for Training<'_> {
    type Output = anyhow::Result<train::run::RunSummary>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        run::<B>(self.cfg, device, self.opts, self.stop)
    }
}
