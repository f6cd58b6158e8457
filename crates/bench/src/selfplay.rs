//! `bench selfplay`: real self-play (train::selfplay::run, real searches) with a real network
//! behind the batching inference server, exactly as training wires them (crates/train/src/run.rs).

use crate::cpu::{cpu_percent, process_cpu_time};
use crate::net::NetSpec;
use crate::table;
use anyhow::{Context, Result, bail};
use burn::tensor::backend::Backend;
use mcts::{CachedEvaluator, EvalCache};
use model::backend::DeviceKind;
use model::evaluator::ServerEvaluator;
use model::runner::NetRunner;
use model::server::{self, ServerConfig};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};
use train::config::TrainConfig;
use train::selfplay::{self, DealConfig, Mode, SelfPlayConfig};

/// The peer's CSV columns, in its order; ours follow (see [`SelfplayRow`]).
pub const PEER_COLUMNS: [&str; 12] = [
    "num_workers",
    "mcts_config",
    "num_determinizations",
    "simulations_per_det",
    "total_sims_per_move",
    "num_rounds",
    "elapsed_time_sec",
    "rounds_per_minute",
    "seconds_per_round",
    "num_examples",
    "examples_per_minute",
    "cpu_percent",
];

/// One configuration to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfplayCase {
    pub threads: usize,
    /// light, medium, heavy or WxS.
    pub preset: String,
    pub mode: Mode,
    /// Rounds (rounds mode) or games (games mode) timed.
    pub count: u64,
    pub players: usize,
    /// Cards per hand in rounds mode.
    pub cards: usize,
    /// Starting hand size in games mode.
    pub start_cards: usize,
    pub net: NetSpec,
    pub device: DeviceKind,
    pub parallel_batch_size: usize,
    pub max_batch: usize,
    pub batch_timeout_ms: f64,
    /// Inference server worker threads.
    pub server_workers: usize,
    /// Evaluation cache entries (0: none), one cache shared by the threads, as in training.
    pub cache_entries: usize,
    /// Batch sizes the server pads to (`ServerConfig::pad_sizes`).
    pub pad_sizes: Vec<usize>,
    /// The peer's unit: 4 players, 5 cards, spades, seat 0 dealing, every decision searched
    /// but a seat's last card (20 a round), whatever `players` and `cards` say.
    pub peer_unit: bool,
    /// Units played before timing (the network's first batches and the allocator warm up).
    pub warmup: u64,
    pub in_flight: usize,
    pub seed: u64,
    /// Run the network through Burn even on the CPU, where the server would run its
    /// plain-`f32` copy (`model::plain`): to compare the two.
    pub burn_forward: bool,
}

/// One CSV row: the peer's columns first, in its order, then ours. Field order is column order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SelfplayRow {
    pub num_workers: usize,
    pub mcts_config: String,
    pub num_determinizations: usize,
    pub simulations_per_det: usize,
    pub total_sims_per_move: usize,
    pub num_rounds: u64,
    pub elapsed_time_sec: f64,
    pub rounds_per_minute: f64,
    pub seconds_per_round: f64,
    pub num_examples: u64,
    pub examples_per_minute: f64,
    pub cpu_percent: f64,
    /// WxS form of the preset.
    pub preset: String,
    pub parallel_batch_size: usize,
    pub max_batch: usize,
    pub batch_timeout_ms: f64,
    pub device: String,
    pub net: String,
    pub mode: String,
    pub games_per_minute: f64,
    /// Rows the server evaluated per second.
    pub evaluations_per_sec: f64,
    /// Server rows per forward pass.
    pub mean_batch: f64,
    pub simulations_per_sec: f64,
    pub mean_depth: f64,
    pub hours_for_5m_rounds: f64,
    /// Searched decisions per round and per minute (the peer's unit: 20 a round).
    pub searched_per_round: f64,
    pub searched_per_minute: f64,
    /// Whether the row is in the peer's unit (`--peer-unit`).
    pub peer_unit: bool,
    pub server_workers: usize,
    pub cache_entries: usize,
    /// Network requests answered by the evaluation cache.
    pub cache_hit_rate: f64,
    /// Padding rows over all rows the network ran (`--pad-sizes`).
    pub padded_share: f64,
    /// The forward pass the server ran: `plain` (`model::plain`) or `burn`.
    pub forward: String,
}

impl SelfplayCase {
    /// The self-play settings, or a message naming the bad option: the training run's plan
    /// (`configs/default.toml`, every search knob, noise and temperature included) with this
    /// case's preset, batching, set-up and seed, so the benchmark times what training runs.
    pub fn selfplay_config(&self) -> Result<SelfPlayConfig> {
        let mut plan = TrainConfig::default();
        plan.selfplay.preset = self
            .preset
            .parse()
            .map_err(|e| anyhow::anyhow!("--preset {:?}: {e}", self.preset))?;
        plan.selfplay.mode = self.mode;
        plan.selfplay.parallel_batch_size = self.parallel_batch_size;
        plan.selfplay.in_flight = self.in_flight;
        plan.selfplay.full_search_share = 1.0;
        plan.seed = self.seed;
        plan.deal = DealConfig {
            players: vec![self.players],
            cards_min: self.cards,
            cards_max: self.cards,
            start_cards_min: self.start_cards,
            start_cards_max: self.start_cards,
        };
        if self.peer_unit {
            if self.mode != Mode::Rounds {
                bail!("--peer-unit times single rounds, not --games");
            }
            plan.deal.players = vec![4];
            plan.deal.cards_min = 5;
            plan.deal.cards_max = 5;
        }
        plan.deal
            .validate()
            .map_err(|e| anyhow::anyhow!("--players / --cards / --start-cards: {e}"))?;
        plan.search_params()
            .validate()
            .map_err(|e| anyhow::anyhow!("--parallel-batch-size / --preset: {e}"))?;
        let mut cfg = plan.selfplay_config();
        if self.peer_unit {
            cfg.fixed_setup = Some(
                game::RoundConfig::new(4, 5, Some(game::Suit::Spades), 0)
                    .expect("the peer's set-up"),
            );
            cfg.search_forced = true;
            cfg.search.search_single_action = true;
            cfg.fast_search.search_single_action = true;
        }
        Ok(cfg)
    }

    /// Checks every option; returns the self-play settings.
    pub fn validate(&self) -> Result<SelfPlayConfig> {
        if self.threads == 0 {
            bail!("--threads must be at least 1");
        }
        if self.count == 0 {
            bail!("--rounds / --games must be at least 1");
        }
        if self.in_flight == 0 {
            bail!("--in-flight must be at least 1");
        }
        if self.max_batch == 0 {
            bail!("--max-batch must be at least 1");
        }
        if self.server_workers == 0 {
            bail!("--server-workers must be at least 1");
        }
        train::config::check_cache_entries(self.cache_entries)
            .map_err(|e| anyhow::anyhow!("--cache-entries {e}"))?;
        model::server::check_pad_sizes(&self.pad_sizes, self.max_batch)
            .map_err(|e| anyhow::anyhow!("--pad-sizes {e} (--max-batch)"))?;
        if !(self.batch_timeout_ms.is_finite() && self.batch_timeout_ms >= 0.0) {
            bail!(
                "--batch-timeout-ms must be a number >= 0, not {}",
                self.batch_timeout_ms
            );
        }
        self.device
            .check()
            .map_err(|e| anyhow::anyhow!("--device {}: {e}", self.device))?;
        self.selfplay_config()
    }
}

/// Measures one configuration.
pub fn run_case(case: &SelfplayCase) -> Result<SelfplayRow> {
    let cfg = case.validate()?;
    case.device
        .run(Measure { case, cfg: &cfg })
        .map_err(|e| anyhow::anyhow!("--device {}: {e}", case.device))?
}

/// One measurement, on whichever backend the case's device picks.
struct Measure<'a> {
    case: &'a SelfplayCase,
    cfg: &'a SelfPlayConfig,
}

impl model::backend::OnBackend for Measure<'_> {
    type Output = Result<SelfplayRow>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        run_on::<B::InnerBackend>(self.case, self.cfg, device)
    }
}

fn run_on<B: Backend>(
    case: &SelfplayCase,
    cfg: &SelfPlayConfig,
    device: B::Device,
) -> Result<SelfplayRow> {
    let net = case.net.build::<B>(&device)?;
    let server_cfg = ServerConfig {
        max_batch: case.max_batch,
        batch_timeout: Duration::from_secs_f64(case.batch_timeout_ms / 1000.0),
        workers: case.server_workers,
        pad_sizes: case.pad_sizes.clone(),
    };
    let runner = NetRunner::with_burn_forward(net, device, case.burn_forward);
    let forward = runner.forward_name();
    let (handle, client) = server::spawn(runner, server_cfg);
    let progress = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    // One cache for the threads of one stretch of play, as a training iteration has.
    let play = |iteration: u64, count: u64, cache: &Arc<EvalCache>| {
        selfplay::run(
            cfg,
            iteration,
            count,
            case.threads,
            |_| CachedEvaluator::new(ServerEvaluator::new(client.clone()), cache.clone()),
            &progress,
            &stop,
        )
    };
    if case.warmup > 0 {
        // Another iteration number, so the timed units are not the warm-up's deals again.
        play(
            u64::MAX,
            case.warmup,
            &Arc::new(EvalCache::new(case.cache_entries)),
        )?;
    }
    let cache = Arc::new(EvalCache::new(case.cache_entries));
    let before = handle.stats();
    let cpu0 = process_cpu_time();
    let t0 = Instant::now();
    let (finished, stats) = play(0, case.count, &cache)?;
    let wall = t0.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu0);
    let after = handle.stats();
    drop(client);
    handle.join();
    if (finished.len() as u64) < case.count {
        bail!(
            "self-play finished {} of {} units",
            finished.len(),
            case.count
        );
    }
    let rows = after.rows - before.rows;
    let batches = after.batches - before.batches;
    if rows == 0 {
        bail!("the inference server evaluated nothing: the network or the server failed");
    }

    let secs = wall.as_secs_f64().max(1e-9);
    let per_min = |x: u64| x as f64 / secs * 60.0;
    let seconds_per_round = secs / stats.rounds.max(1) as f64;
    let p = cfg.search;
    Ok(SelfplayRow {
        num_workers: case.threads,
        mcts_config: case.preset.clone(),
        num_determinizations: p.worlds,
        simulations_per_det: p.simulations,
        total_sims_per_move: p.total_simulations(),
        num_rounds: stats.rounds,
        elapsed_time_sec: secs,
        rounds_per_minute: per_min(stats.rounds),
        seconds_per_round,
        num_examples: stats.examples,
        examples_per_minute: per_min(stats.examples),
        cpu_percent: cpu_percent(cpu, wall),
        preset: format!("{}x{}", p.worlds, p.simulations),
        parallel_batch_size: case.parallel_batch_size,
        max_batch: case.max_batch,
        batch_timeout_ms: case.batch_timeout_ms,
        device: case.device.to_string(),
        net: case.net.name(),
        mode: match case.mode {
            Mode::Rounds => "rounds",
            Mode::Games => "games",
        }
        .to_string(),
        games_per_minute: per_min(stats.games),
        evaluations_per_sec: rows as f64 / secs,
        mean_batch: rows as f64 / batches.max(1) as f64,
        simulations_per_sec: stats.simulations as f64 / secs,
        mean_depth: stats.mean_depth(),
        hours_for_5m_rounds: crate::PROJECTED_ROUNDS * seconds_per_round / 3600.0,
        searched_per_round: stats.searched as f64 / stats.rounds.max(1) as f64,
        searched_per_minute: per_min(stats.searched),
        peer_unit: case.peer_unit,
        server_workers: case.server_workers,
        cache_entries: case.cache_entries,
        cache_hit_rate: cache.stats().hit_rate(),
        padded_share: {
            let padded = after.padded_rows - before.padded_rows;
            padded as f64 / (rows + padded).max(1) as f64
        },
        forward: forward.to_string(),
    })
}

/// Writes the rows as CSV (header included) to `out`.
pub fn write_csv<W: std::io::Write>(rows: &[SelfplayRow], out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    if rows.is_empty() {
        // serde writes the header with the first row; an empty run still gets one.
        w.write_record(header())?;
    }
    for r in rows {
        w.serialize(r)?;
    }
    w.flush().context("writing the CSV")?;
    Ok(())
}

/// The CSV header: the peer's columns, then ours.
pub fn header() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // A dummy row makes serde produce the header; only the first line is kept.
    let _ = w.serialize(dummy_row());
    let bytes = w.into_inner().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::to_string)
        .collect()
}

fn dummy_row() -> SelfplayRow {
    SelfplayRow {
        num_workers: 0,
        mcts_config: String::new(),
        num_determinizations: 0,
        simulations_per_det: 0,
        total_sims_per_move: 0,
        num_rounds: 0,
        elapsed_time_sec: 0.0,
        rounds_per_minute: 0.0,
        seconds_per_round: 0.0,
        num_examples: 0,
        examples_per_minute: 0.0,
        cpu_percent: 0.0,
        preset: String::new(),
        parallel_batch_size: 0,
        max_batch: 0,
        batch_timeout_ms: 0.0,
        device: String::new(),
        net: String::new(),
        mode: String::new(),
        games_per_minute: 0.0,
        evaluations_per_sec: 0.0,
        mean_batch: 0.0,
        simulations_per_sec: 0.0,
        mean_depth: 0.0,
        hours_for_5m_rounds: 0.0,
        searched_per_round: 0.0,
        searched_per_minute: 0.0,
        peer_unit: false,
        server_workers: 0,
        cache_entries: 0,
        cache_hit_rate: 0.0,
        padded_share: 0.0,
        forward: String::new(),
    }
}

/// The terminal table.
pub fn render(rows: &[SelfplayRow]) -> String {
    let header = [
        "threads",
        "preset",
        "pbatch",
        "max_batch",
        "timeout_ms",
        "net",
        "rounds/min",
        "games/min",
        "examples/min",
        "evals/s",
        "mean_batch",
        "sims/s",
        "depth",
        "cpu%",
        "s/round",
        "h/5M rounds",
        "searched/round",
        "searched/min",
        "workers",
        "cache",
        "hit%",
        "forward",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.num_workers.to_string(),
                format!("{} ({})", r.mcts_config, r.preset),
                r.parallel_batch_size.to_string(),
                r.max_batch.to_string(),
                table::num(r.batch_timeout_ms),
                r.net.clone(),
                table::num(r.rounds_per_minute),
                table::num(r.games_per_minute),
                table::num(r.examples_per_minute),
                table::num(r.evaluations_per_sec),
                table::num(r.mean_batch),
                table::num(r.simulations_per_sec),
                table::num(r.mean_depth),
                format!("{:.0}", r.cpu_percent),
                table::num(r.seconds_per_round),
                table::num(r.hours_for_5m_rounds),
                table::num(r.searched_per_round),
                table::num(r.searched_per_minute),
                r.server_workers.to_string(),
                r.cache_entries.to_string(),
                format!("{:.1}", 100.0 * r.cache_hit_rate),
                r.forward.clone(),
            ]
        })
        .collect();
    table::render(&header, &body)
}
