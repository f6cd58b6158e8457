//! The training loop: self-play, train, evaluate, checkpoint; synchronous, and repeatable
//! from the seed for a given thread count (every random stream is derived from the seed and
//! the iteration, so a resumed run replays exactly what an uninterrupted one would).

use crate::buffer::ReplayBuffer;
use crate::config::TrainConfig;
use crate::evaluate::{ArenaOutcome, evaluate_network};
use crate::learner::{Learner, Losses};
use crate::metrics::{self, IterationRecord, Status};
use crate::selfplay;
use crate::state::{self, BUFFER, OPTIMIZER, RunState, WEIGHTS};
use anyhow::{Context, bail};
use burn::tensor::backend::{AutodiffBackend, Backend};
use game::rng_from_seed;
use game::seeds::{self, phases};
use indicatif::{ProgressBar, ProgressStyle};
use model::checkpoint::{self, Metadata};
use model::evaluator::ServerEvaluator;
use model::net::BlobNet;
use model::runner::NetRunner;
use model::server::{self, ServerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How the loop talks to the person running it.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub resume: bool,
    /// No progress bars (tests, logs).
    pub quiet: bool,
    /// Stop (resumably) after finishing this many iterations in this session.
    pub stop_after: Option<u64>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    pub completed: u64,
    pub interrupted: bool,
    pub best_iteration: u64,
    pub records: Vec<IterationRecord>,
}

/// Runs (or resumes) training as `cfg` says, on `device`. `stop` asks it to stop at the next
/// safe point (Ctrl-C): the last finished iteration's checkpoint stays, and `--resume`
/// continues from it.
pub fn run<B>(
    cfg: &TrainConfig,
    device: B::Device,
    opts: &RunOptions,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<RunSummary>
where
    B: AutodiffBackend,
    B::InnerBackend: Backend,
    NetRunner<B::InnerBackend>: server::BatchModel,
{
    cfg.validate().map_err(anyhow::Error::msg)?;
    let net_cfg = cfg.net_config().map_err(anyhow::Error::msg)?;
    let out = &cfg.out;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let config_text = cfg.to_toml();

    let (mut learner, mut buffer, mut st) = match (opts.resume, state::locate(out)) {
        (true, Some(dir)) => {
            let st = state::load_state(&dir)?;
            if !same_run(&st.config, cfg) {
                bail!(
                    "cannot resume {}: it was started with another configuration (see {}); run with the same settings or another --out",
                    out.display(),
                    dir.join(state::STATE).display()
                );
            }
            let (net, _) = checkpoint::load::<B>(&dir.join(WEIGHTS), &net_cfg, &device)?;
            let mut learner = Learner::new(net, cfg.learner.clone(), device.clone());
            let bytes = std::fs::read(dir.join(OPTIMIZER))
                .with_context(|| format!("cannot read {}", dir.join(OPTIMIZER).display()))?;
            learner
                .load_optimizer_bytes(bytes, st.learner_steps)
                .map_err(anyhow::Error::msg)?;
            let buffer = ReplayBuffer::load(&dir.join(BUFFER))?;
            (learner, buffer, st)
        }
        (true, None) => bail!(
            "nothing to resume in {}: no checkpoint found",
            out.display()
        ),
        (false, Some(_)) => bail!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            out.display()
        ),
        (false, None) => {
            B::seed(&device, seeds::phase(cfg.seed, 0, phases::INIT));
            let net = BlobNet::<B>::new(&net_cfg, &device)?;
            let st = RunState {
                completed: 0,
                best_iteration: 0,
                learner_steps: 0,
                elapsed_seconds: 0.0,
                config: config_text.clone(),
            };
            let learner = Learner::new(net, cfg.learner.clone(), device.clone());
            // The initial network is the first "best".
            checkpoint::save(
                &out.join("best.ckpt"),
                &learner.inference_net(),
                &metadata(0, cfg),
            )?;
            (learner, ReplayBuffer::new(cfg.buffer.capacity), st)
        }
    };

    let metrics_path = out.join("metrics.jsonl");
    let mut records = metrics::read(&metrics_path, st.completed);
    metrics::rewrite(&metrics_path, &records)?;

    let server_cfg = ServerConfig {
        max_batch: cfg.server.max_batch,
        batch_timeout: Duration::from_secs_f64(cfg.server.batch_timeout_ms / 1000.0),
        workers: cfg.server.workers,
    };
    let (handle, client) = server::spawn(
        NetRunner::new(learner.inference_net(), device_inner::<B>(&device)),
        server_cfg,
    );
    let sp_cfg = cfg.selfplay_config();
    let threads = cfg.thread_count();
    let started = Instant::now();
    let elapsed_before = st.elapsed_seconds;
    let mut interrupted = false;

    let first = st.completed;
    while st.completed < cfg.iterations {
        if opts.stop_after.is_some_and(|n| st.completed - first >= n) {
            interrupted = true;
            break;
        }
        let it = st.completed;
        let t0 = Instant::now();
        let status = |phase: &str, st: &RunState, records: &[IterationRecord]| {
            let _ = metrics::write_status(
                &out.join("status.json"),
                &Status {
                    iteration: st.completed,
                    iterations: cfg.iterations,
                    phase: phase.to_string(),
                    best_iteration: st.best_iteration,
                    elapsed_seconds: elapsed_before + started.elapsed().as_secs_f64(),
                    last: records.last().cloned(),
                },
            );
        };

        // Self-play.
        status("self-play", &st, &records);
        let progress = AtomicU64::new(0);
        let sp_bar = bar(
            opts.quiet,
            cfg.selfplay.per_iteration,
            &format!("iter {}/{} self-play", it + 1, cfg.iterations),
        );
        let stats_before = handle.stats();
        let (finished, sp_stats) = std::thread::scope(|scope| {
            let watcher =
                scope.spawn(|| watch(&sp_bar, &progress, cfg.selfplay.per_iteration, &stop));
            let result = selfplay::run(
                &sp_cfg,
                it,
                cfg.selfplay.per_iteration,
                threads,
                |_| ServerEvaluator::new(client.clone()),
                &progress,
                &stop,
            );
            let _ = watcher.join();
            result
        });
        sp_bar.finish_and_clear();
        if stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let selfplay_seconds = t0.elapsed().as_secs_f64();
        let server_stats = handle.stats();
        let new_examples: usize = finished.iter().map(|f| f.examples.len()).sum();
        for f in finished {
            buffer.extend(f.examples);
        }

        // Training.
        status("train", &st, &records);
        let t1 = Instant::now();
        let steps = cfg.learner.steps_for(new_examples, buffer.len());
        let lr = cfg.learner.lr_at(it, cfg.iterations);
        let train_bar = bar(
            opts.quiet,
            steps as u64,
            &format!("iter {}/{} train", it + 1, cfg.iterations),
        );
        let mut rng = rng_from_seed(seeds::phase(cfg.seed, it, phases::TRAIN));
        let losses: Losses = match learner.train(&buffer, steps, lr, &mut rng, || train_bar.inc(1))
        {
            Ok(l) => l,
            Err(diverged) => {
                train_bar.finish_and_clear();
                drop(client);
                handle.join();
                return Err(anyhow::Error::new(diverged));
            }
        };
        train_bar.finish_and_clear();
        let train_seconds = t1.elapsed().as_secs_f64();
        handle
            .swap(NetRunner::new(
                learner.inference_net(),
                device_inner::<B>(&device),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        // Arena.
        let t2 = Instant::now();
        let mut arena = ArenaOutcome::default();
        let due =
            cfg.arena.every > 0 && ((it + 1) % cfg.arena.every == 0 || it + 1 == cfg.iterations);
        if due && !stop.load(Ordering::SeqCst) {
            status("arena", &st, &records);
            let candidate = out.join("candidate.ckpt");
            checkpoint::save(&candidate, &learner.inference_net(), &metadata(it + 1, cfg))?;
            arena = evaluate_network(
                cfg,
                &candidate,
                &out.join("best.ckpt"),
                seeds::phase(cfg.seed, it, phases::ARENA),
                threads,
            )?;
            if arena.promote {
                std::fs::rename(&candidate, out.join("best.ckpt"))?;
                st.best_iteration = it + 1;
            }
        }
        let arena_seconds = t2.elapsed().as_secs_f64();

        // Checkpoint: weights, optimizer, buffer and state, all of this iteration.
        st.completed = it + 1;
        st.learner_steps = learner.steps();
        st.elapsed_seconds = elapsed_before + started.elapsed().as_secs_f64();
        let optimizer = learner.optimizer_bytes().map_err(anyhow::Error::msg)?;
        state::save(out, &st, |dir| {
            checkpoint::save(
                &dir.join(WEIGHTS),
                &learner.inference_net(),
                &metadata(st.completed, cfg),
            )?;
            crate::buffer::write_atomic(&dir.join(OPTIMIZER), &optimizer)?;
            buffer.save(&dir.join(BUFFER))?;
            Ok(())
        })?;

        let seconds = t0.elapsed().as_secs_f64();
        let rows = server_stats.rows - stats_before.rows;
        let batches = server_stats.batches - stats_before.batches;
        let record = IterationRecord {
            iteration: it,
            seconds,
            selfplay_seconds,
            train_seconds,
            arena_seconds,
            rounds: sp_stats.rounds,
            games: sp_stats.games,
            examples: sp_stats.examples,
            rounds_per_minute: sp_stats.rounds as f64 * 60.0 / selfplay_seconds.max(1e-9),
            examples_per_minute: sp_stats.examples as f64 * 60.0 / selfplay_seconds.max(1e-9),
            evaluations_per_second: rows as f64 / selfplay_seconds.max(1e-9),
            mean_server_batch: rows as f64 / batches.max(1) as f64,
            buffer: buffer.len(),
            steps: losses.steps,
            lr,
            policy_loss: (losses.steps > 0).then_some(losses.policy),
            value_loss: (losses.steps > 0).then_some(losses.value),
            tricks_loss: (losses.steps > 0 && net_cfg.has_trick_head()).then_some(losses.tricks),
            arena: arena.matches,
            promoted: arena.promote,
        };
        metrics::append(&metrics_path, &record)?;
        println!("{}", summary_line(&record, cfg.iterations));
        records.push(record);
        if let Err(e) = metrics::plot(out, &records) {
            eprintln!("warning: {e}");
        }
        status("done", &st, &records);
    }
    drop(client);
    handle.join();
    Ok(RunSummary {
        completed: st.completed,
        interrupted,
        best_iteration: st.best_iteration,
        records,
    })
}

/// What a checkpoint of this run says about itself: its iteration, and whether its network
/// learnt from single rounds or whole games (`net_agent` plays a game round by round with a
/// network that never saw a game's context).
fn metadata(iteration: u64, cfg: &TrainConfig) -> Metadata {
    Metadata {
        iteration,
        extra: serde_json::json!({ SELFPLAY_MODE: cfg.selfplay.mode }),
    }
}

/// The metadata key of the self-play mode a network learnt from.
pub const SELFPLAY_MODE: &str = "selfplay_mode";

/// The inference device of a training device (the same device without autodiff).
fn device_inner<B: AutodiffBackend>(device: &B::Device) -> burn::tensor::Device<B::InnerBackend> {
    device.clone()
}

fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    b.set_message(what.to_string());
    b
}

/// Mirrors the self-play counter into the bar until it is full or a stop is asked.
fn watch(bar: &ProgressBar, progress: &AtomicU64, total: u64, stop: &AtomicBool) {
    loop {
        let n = progress.load(Ordering::Relaxed);
        bar.set_position(n);
        if n >= total || stop.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn summary_line(r: &IterationRecord, iterations: u64) -> String {
    let mut s = format!(
        "iter {:>3}/{} | {:>6.0} rounds/min | {:>6} examples | {:>5} steps",
        r.iteration + 1,
        iterations,
        r.rounds_per_minute,
        r.examples,
        r.steps
    );
    if let (Some(p), Some(v)) = (r.policy_loss, r.value_loss) {
        s += &format!(" | loss policy {p:.3} value {v:.3}");
    }
    if let Some(t) = r.tricks_loss {
        s += &format!(" tricks {t:.3}");
    }
    for m in &r.arena {
        s += &format!(" | vs {} {:+.2}±{:.2}", m.opponent, m.diff, m.diff_ci95);
    }
    if r.promoted {
        s += " | promoted";
    }
    s += &format!(" | {:.0}s", r.seconds);
    s
}

/// Whether a resumed run continues the run saved with `saved` (TOML): everything but the
/// number of iterations (a run may be extended) must match.
fn same_run(saved: &str, cfg: &TrainConfig) -> bool {
    match TrainConfig::from_toml(saved) {
        Ok(mut old) => {
            old.iterations = cfg.iterations;
            &old == cfg
        }
        Err(_) => false,
    }
}
