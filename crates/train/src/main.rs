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
    #[command(flatten)]
    train: TrainFlags,
}

/// The training run's flags (the default command's, and the learner's).
#[derive(clap::Args, Debug, Clone)]
struct TrainFlags {
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

/// Where the broker is.
#[derive(clap::Args, Debug, Clone)]
struct BrokerFlags {
    /// The NATS server (with JetStream), e.g. nats://127.0.0.1:4222.
    #[arg(long)]
    nats: String,
    /// The run's name on the server (its stream and buckets); one run per name.
    #[arg(long, default_value = train::distributed::DEFAULT_NAME)]
    name: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The learner of a run on many machines: trains on the examples actors publish to a
    /// NATS JetStream server, and publishes each new generation (docs/distributed.md).
    /// Takes the training flags (--config, --out, --resume, ...).
    Learner {
        #[command(flatten)]
        broker: BrokerFlags,
        /// Rounds (or games) in each batch an actor publishes (default: selfplay.per_iteration,
        /// so an actor's self-play runs exactly as an in-process iteration's).
        #[arg(long)]
        batch: Option<u64>,
        /// Drop examples whose network is more than this many generations older than the
        /// learner's.
        #[arg(long, default_value_t = train::distributed::DEFAULT_MAX_LAG)]
        max_lag: u64,
        #[command(flatten)]
        train: TrainFlags,
    },
    /// An actor of a run on many machines: plays self-play with the learner's config and
    /// newest weights and publishes the examples (docs/distributed.md).
    Actor {
        #[command(flatten)]
        broker: BrokerFlags,
        /// Self-play threads (0 = two per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Where this actor's network runs: cpu or cuda.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Stop after publishing this many batches (measurements).
        #[arg(long)]
        batches: Option<u64>,
    },
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
            train::config::check_cache_entries(cache_entries)
                .map_err(|e| anyhow::anyhow!("--cache-entries {e}"))?;
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
        Some(Command::Learner {
            broker,
            batch,
            max_lag,
            train: flags,
        }) => {
            return train_main(&flags, cli.config.as_deref(), |cfg| {
                Some(train::distributed::learner::LearnerOptions {
                    url: broker.nats,
                    name: broker.name,
                    batch: batch.unwrap_or(cfg.selfplay.per_iteration),
                    max_lag,
                })
            });
        }
        Some(Command::Actor {
            broker,
            threads,
            device,
            batches,
        }) => {
            let device: model::backend::DeviceKind = device
                .parse()
                .map_err(|e| anyhow::anyhow!("--device: {e}"))?;
            let expect = match &cli.config {
                Some(path) => Some(TrainConfig::from_file(path).map_err(anyhow::Error::msg)?),
                None => None,
            };
            let stop = stop_flag()?;
            device
                .run(Acting {
                    opts: train::distributed::actor::ActorOptions {
                        url: broker.nats,
                        name: broker.name,
                        threads,
                        batches,
                        expect,
                    },
                    stop,
                })
                .map_err(anyhow::Error::msg)??;
            return Ok(());
        }
        None => {}
    }
    train_main(&cli.train, cli.config.as_deref(), |_| None)
}

/// Training: the single-machine run, or the learner of a distributed one when `learner` gives
/// its broker options for the effective config.
fn train_main(
    flags: &TrainFlags,
    config: Option<&std::path::Path>,
    learner: impl FnOnce(&TrainConfig) -> Option<train::distributed::learner::LearnerOptions>,
) -> anyhow::Result<()> {
    let cfg = effective_config(flags, config)?;
    if flags.print_config {
        println!("# Effective configuration (every key is documented in configs/default.toml)");
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    let stop = stop_flag()?;
    let opts = RunOptions {
        resume: flags.resume,
        quiet: flags.quiet,
        stop_after: None,
    };
    announce(&cfg);
    let learner = learner(&cfg);
    let summary = cfg
        .device
        .run(Training {
            cfg: &cfg,
            opts: &opts,
            stop,
            learner,
        })
        .map_err(anyhow::Error::msg)??;
    finished(&cfg, &summary);
    Ok(())
}

/// The stop flag, set by Ctrl-C and SIGTERM (a second Ctrl-C quits at once).
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
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
    Ok(stop)
}

/// The config file (or the defaults) with the command line's overrides, checked.
fn effective_config(
    flags: &TrainFlags,
    config: Option<&std::path::Path>,
) -> anyhow::Result<TrainConfig> {
    let cli = flags.clone();
    let mut cfg = match config {
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
    Ok(cfg)
}

fn announce(cfg: &TrainConfig) {
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
    if let Some(w) = cfg.arena_range_warning() {
        eprintln!("{w}");
    }
}

fn finished(cfg: &TrainConfig, summary: &train::run::RunSummary) {
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
}

/// The training run, on whichever backend the config's device picks.
struct Training<'a> {
    cfg: &'a TrainConfig,
    opts: &'a RunOptions,
    stop: Arc<AtomicBool>,
    /// A learner fed by actors through a broker instead of local self-play.
    learner: Option<train::distributed::learner::LearnerOptions>,
}

impl model::backend::OnBackend for Training<'_> {
    type Output = anyhow::Result<train::run::RunSummary>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        match &self.learner {
            None => run::<B>(self.cfg, device, self.opts, self.stop),
            Some(l) => {
                train::distributed::learner::learn::<B>(self.cfg, device, self.opts, l, self.stop)
            }
        }
    }
}

/// An actor, on whichever backend its device picks.
struct Acting {
    opts: train::distributed::actor::ActorOptions,
    stop: Arc<AtomicBool>,
}

impl model::backend::OnBackend for Acting {
    type Output = anyhow::Result<train::distributed::actor::ActorSummary>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        train::distributed::actor::act::<B>(&self.opts, device, &self.stop)
    }
}
