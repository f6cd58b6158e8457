//! The `bench` command line: see docs/benchmarks.md.

use anyhow::{Context, Result};
use bench::net::NetSpec;
use bench::selfplay::{SelfplayCase, SelfplayRow};
use bench::{engine, inference, selfplay, training};
use clap::{Args, Parser, Subcommand};
use model::backend::DeviceKind;
use std::path::PathBuf;
use train::selfplay::Mode;

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Benchmarks of self-play, inference, training and the engine"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Real self-play through the inference server, over the cartesian product of the lists.
    Selfplay(Box<SelfplayArgs>),
    /// The network alone: positions/s per batch size.
    Inference(InferenceArgs),
    /// Learner steps/s on the CPU (Autodiff<Flex>) from a synthetic buffer.
    Train(TrainArgs),
    /// Rules and zero-cost-evaluator search speed, one thread.
    Engine(EngineArgs),
}

#[derive(Args)]
struct SelfplayArgs {
    /// Self-play threads (comma list).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Search presets: light, medium, heavy or WxS (comma list).
    #[arg(long, value_delimiter = ',', default_value = "medium")]
    preset: Vec<String>,
    /// Rounds timed (rounds mode: 4 players, 5 cards unless --players / --cards say otherwise).
    #[arg(long, default_value_t = 20, conflicts_with = "games")]
    rounds: u64,
    /// Full games timed instead of rounds.
    #[arg(long)]
    games: Option<u64>,
    #[arg(long, default_value_t = 4)]
    players: usize,
    /// Cards per hand in rounds mode.
    #[arg(long, default_value_t = 5)]
    cards: usize,
    /// Starting hand size in games mode.
    #[arg(long, default_value_t = 5)]
    start_cards: usize,
    /// compact, small, peer, tiny, or a checkpoint path.
    #[arg(long, default_value = "small")]
    net: String,
    /// cpu or cuda (cuda needs a binary built with --features cuda).
    #[arg(long, default_value = "cpu")]
    device: String,
    #[arg(long, value_delimiter = ',', default_value = "8")]
    parallel_batch_size: Vec<usize>,
    #[arg(long, value_delimiter = ',', default_value = "512")]
    max_batch: Vec<usize>,
    #[arg(long, value_delimiter = ',', default_value = "1")]
    batch_timeout_ms: Vec<f64>,
    /// Inference server worker threads, each with its own copy of the network (comma list).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    server_workers: Vec<usize>,
    /// Evaluation cache entries (comma list; 0 = no cache). Default: the training run's.
    #[arg(long, value_delimiter = ',')]
    cache_entries: Option<Vec<usize>>,
    /// Batch sizes the server pads to (comma list, ascending; for a GPU). Default: none.
    #[arg(long, value_delimiter = ',')]
    pad_sizes: Vec<usize>,
    /// Time in the peer's unit: 4 players, 5 cards, spades, seat 0 dealing, every decision
    /// searched but a seat's last card (20 a round).
    #[arg(long)]
    peer_unit: bool,
    /// Rounds (or games) played before timing each configuration.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Rounds (or games) each thread keeps in flight.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run the network through Burn even on the CPU (where the server runs its plain-f32
    /// copy by default), to compare the two.
    #[arg(long)]
    burn_forward: bool,
    /// Also write the rows to this CSV file.
    #[arg(long)]
    output: Option<PathBuf>,
    /// End with one JSON line holding every row.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InferenceArgs {
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128,512,1024")]
    batch: Vec<usize>,
    /// compact, small, peer, tiny or checkpoint paths (comma list).
    #[arg(long, value_delimiter = ',', default_value = "small,peer")]
    net: Vec<String>,
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Seconds timed per measurement.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Run the network through Burn even on the CPU (where the plain-f32 copy runs by
    /// default), to compare the two.
    #[arg(long)]
    burn_forward: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct TrainArgs {
    #[arg(long, value_delimiter = ',', default_value = "64,256,1024")]
    batch: Vec<usize>,
    #[arg(long, value_delimiter = ',', default_value = "small")]
    net: Vec<String>,
    /// Seconds timed per measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Train through Burn's autodiff even on the CPU (where the learner runs its plain-f32
    /// step by default), to compare the two.
    #[arg(long)]
    burn_learner: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EngineArgs {
    /// Seconds timed per measurement.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    #[arg(long)]
    json: bool,
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Selfplay(a) => selfplay_cmd(*a),
        Cmd::Inference(a) => inference_cmd(a),
        Cmd::Train(a) => train_cmd(a),
        Cmd::Engine(a) => engine_cmd(a),
    }
}

fn device(s: &str) -> Result<DeviceKind> {
    let kind: DeviceKind = s.parse().map_err(|e| anyhow::anyhow!("--device: {e}"))?;
    kind.check()
        .map_err(|e| anyhow::anyhow!("--device {kind}: {e}"))?;
    Ok(kind)
}

/// Every pair of the two lists, the first varying slowest.
fn product<'a, A, B>(a: &'a [A], b: &'a [B]) -> impl Iterator<Item = (&'a A, &'a B)> {
    a.iter().flat_map(move |x| b.iter().map(move |y| (x, y)))
}

fn json_line(key: &str, rows: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::json!({ key: rows }));
    Ok(())
}

fn selfplay_cmd(a: SelfplayArgs) -> Result<()> {
    let device = device(&a.device)?;
    let net = NetSpec::parse(&a.net)?;
    let (mode, count) = match a.games {
        Some(g) => (Mode::Games, g),
        None => (Mode::Rounds, a.rounds),
    };
    let cache_entries = a
        .cache_entries
        .clone()
        .unwrap_or_else(|| vec![train::config::DEFAULT_CACHE_ENTRIES]);
    let mut cases = Vec::new();
    for preset in &a.preset {
        for &threads in &a.threads {
            for &pbs in &a.parallel_batch_size {
                for &max_batch in &a.max_batch {
                    for &timeout in &a.batch_timeout_ms {
                        for (&server_workers, &cache_entries) in
                            product(&a.server_workers, &cache_entries)
                        {
                            cases.push(SelfplayCase {
                                threads,
                                preset: preset.clone(),
                                mode,
                                count,
                                players: a.players,
                                cards: a.cards,
                                start_cards: a.start_cards,
                                net: net.clone(),
                                device,
                                parallel_batch_size: pbs,
                                max_batch,
                                batch_timeout_ms: timeout,
                                server_workers,
                                cache_entries,
                                pad_sizes: a.pad_sizes.clone(),
                                peer_unit: a.peer_unit,
                                warmup: a.warmup,
                                in_flight: a.in_flight,
                                seed: a.seed,
                                burn_forward: a.burn_forward,
                            });
                        }
                    }
                }
            }
        }
    }
    // Bad input fails before anything runs, not after half a sweep.
    for case in &cases {
        case.validate()?;
    }
    let mut rows: Vec<SelfplayRow> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        eprintln!(
            "[{}/{}] {} threads, preset {}, parallel batch {}, max batch {}, timeout {} ms, \
             {} server workers, cache {}",
            i + 1,
            cases.len(),
            case.threads,
            case.preset,
            case.parallel_batch_size,
            case.max_batch,
            case.batch_timeout_ms,
            case.server_workers,
            case.cache_entries
        );
        rows.push(selfplay::run_case(case)?);
    }
    println!("{}", selfplay::render(&rows));
    if let Some(path) = &a.output {
        let f = std::fs::File::create(path)
            .with_context(|| format!("--output {}: cannot create the file", path.display()))?;
        selfplay::write_csv(&rows, f)?;
        println!("wrote {}", path.display());
    }
    if a.json {
        json_line("selfplay", &rows)?;
    }
    Ok(())
}

fn inference_cmd(a: InferenceArgs) -> Result<()> {
    let kind = device(&a.device)?;
    let nets = a
        .net
        .iter()
        .map(|n| NetSpec::parse(n))
        .collect::<Result<Vec<_>>>()?;
    let mut rows = Vec::new();
    for net in &nets {
        for &b in &a.batch {
            rows.push(
                kind.run(Inference {
                    net,
                    batch: b,
                    seconds: a.seconds,
                    device: kind,
                    burn_forward: a.burn_forward,
                })
                .map_err(|e| anyhow::anyhow!("--device {kind}: {e}"))??,
            );
        }
    }
    println!("{}", inference::render(&rows));
    if a.json {
        json_line("inference", &rows)?;
    }
    Ok(())
}

/// One `bench inference` row, on whichever backend the device picks.
struct Inference<'a> {
    net: &'a NetSpec,
    batch: usize,
    seconds: f64,
    device: DeviceKind,
    burn_forward: bool,
}

impl model::backend::OnBackend for Inference<'_> {
    type Output = Result<inference::InferenceRow>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        let name = self.device.to_string();
        inference::run::<B::InnerBackend>(
            self.net,
            self.batch,
            self.seconds,
            self.burn_forward,
            device,
            &name,
        )
    }
}

fn train_cmd(a: TrainArgs) -> Result<()> {
    let nets = a
        .net
        .iter()
        .map(|n| NetSpec::parse(n))
        .collect::<Result<Vec<_>>>()?;
    let mut rows = Vec::new();
    for net in &nets {
        for &b in &a.batch {
            rows.push(training::run(net, b, a.seconds, a.seed, a.burn_learner)?);
        }
    }
    println!("{}", training::render(&rows));
    if a.json {
        json_line("train", &rows)?;
    }
    Ok(())
}

fn engine_cmd(a: EngineArgs) -> Result<()> {
    let rows = engine::run(a.seconds);
    println!("{}", engine::render(&rows));
    if a.json {
        json_line("engine", &rows)?;
    }
    Ok(())
}
