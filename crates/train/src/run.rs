//! The training loop: open the run, then for each iteration self-play, learn, gate (every
//! `arena.every`) and commit a checkpoint (`crate::stages`). Where the new examples come from
//! is a parameter ([`ExampleSource`]): self-play in this process, or a broker's stream that
//! actors on other machines feed (`crate::distributed`). Synchronous, and repeatable from
//! the seed: every random stream is derived from the seed and the iteration
//! (`game::seeds`), so a resumed run replays exactly what an uninterrupted one would.

use crate::config::TrainConfig;
use crate::metrics::{self, IterationRecord, Status};
use crate::selfplay::Mode;
use crate::stages::gate::{Verdict, gate};
use crate::stages::learn::learn;
use crate::stages::selfplay::{Played, SelfPlayStage};
use crate::stages::{Outcome, checkpoint, open};
use crate::state::RunState;
use burn::tensor::backend::AutodiffBackend;
use game::seeds::{self, phases};
use indicatif::{ProgressBar, ProgressStyle};
use model::net::BlobNet;
use model::runner::NetRunner;
use model::server::{self, Client, ServerHandle};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

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
/// safe point (Ctrl-C, SIGTERM): the iteration under way is dropped, the last committed
/// generation stays, and `--resume` continues from it.
pub fn run<B: AutodiffBackend>(
    cfg: &TrainConfig,
    device: B::Device,
    opts: &RunOptions,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<RunSummary> {
    run_with::<B, _>(cfg, device.clone(), opts, stop, |run| {
        if run.state.stream.is_some() {
            anyhow::bail!(
                "{} was trained from a broker's stream: resume it with `train learner --nats URL --resume`",
                cfg.out.display()
            );
        }
        Ok(LocalSelfPlay::<B>::new(cfg, run, device))
    })
}

/// Where each iteration's new examples come from: self-play in this process (the default
/// run, [`LocalSelfPlay`]) or a broker's stream (`crate::distributed`). The rest of the loop
/// (learn, gate, checkpoint) is the same for both.
pub trait ExampleSource<B: AutodiffBackend> {
    /// Iteration `iteration`'s new examples; a stop request ends it within a second or two.
    fn examples(
        &mut self,
        iteration: u64,
        bar: &ProgressBar,
        stop: &AtomicBool,
    ) -> anyhow::Result<Outcome<Played>>;
    /// The learner's new network, not yet committed.
    fn trained(&mut self, _net: &BlobNet<B::InnerBackend>) -> anyhow::Result<()> {
        Ok(())
    }
    /// Just before a generation is committed: what the source resumes from goes into it.
    fn before_commit(&mut self, _state: &mut RunState) {}
    /// After a generation is committed.
    fn committed(&mut self, _run: &open::OpenRun<B>, _cfg: &TrainConfig) -> anyhow::Result<()> {
        Ok(())
    }
    /// The loop is over (`done`: every iteration finished).
    fn finish(self, _done: bool) -> anyhow::Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }
}

/// Self-play in this process, through the inference server (the single-machine run).
pub struct LocalSelfPlay<B: AutodiffBackend> {
    server: ServerHandle<NetRunner<B::InnerBackend>>,
    client: Client,
    device: B::Device,
    config: crate::selfplay::SelfPlayConfig,
    per_iteration: u64,
    threads: usize,
    cache_entries: usize,
}

impl<B: AutodiffBackend> LocalSelfPlay<B> {
    pub fn new(cfg: &TrainConfig, run: &open::OpenRun<B>, device: B::Device) -> Self {
        let (server, client) = server::spawn(
            NetRunner::new(run.learner.inference_net(), device.clone()),
            cfg.server_config(),
        );
        LocalSelfPlay {
            server,
            client,
            device,
            config: cfg.selfplay_config(),
            per_iteration: cfg.selfplay.per_iteration,
            threads: cfg.thread_count(),
            cache_entries: cfg.cache.entries,
        }
    }
}

impl<B: AutodiffBackend> ExampleSource<B> for LocalSelfPlay<B> {
    fn examples(
        &mut self,
        iteration: u64,
        bar: &ProgressBar,
        stop: &AtomicBool,
    ) -> anyhow::Result<Outcome<Played>> {
        let server = &self.server;
        let server_stats = || server.stats();
        let play = SelfPlayStage {
            config: self.config.clone(),
            per_iteration: self.per_iteration,
            threads: self.threads,
            cache_entries: self.cache_entries,
            client: self.client.clone(),
            server_stats: &server_stats,
        };
        play.play(iteration, bar, stop)
    }

    fn trained(&mut self, net: &BlobNet<B::InnerBackend>) -> anyhow::Result<()> {
        self.server
            .swap(NetRunner::new(net.clone(), self.device.clone()))?;
        Ok(())
    }

    fn finish(self, _done: bool) -> anyhow::Result<()> {
        drop(self.client);
        self.server.join();
        Ok(())
    }
}

/// [`run`] with the examples from `source` (made once the run is open) instead of local
/// self-play.
pub fn run_with<B: AutodiffBackend, S: ExampleSource<B>>(
    cfg: &TrainConfig,
    device: B::Device,
    opts: &RunOptions,
    stop: Arc<AtomicBool>,
    source: impl FnOnce(&mut open::OpenRun<B>) -> anyhow::Result<S>,
) -> anyhow::Result<RunSummary> {
    cfg.validate().map_err(anyhow::Error::msg)?;
    let out = &cfg.out;
    let mut run = open::open::<B>(cfg, &device, opts.resume)?;
    let mut play = source(&mut run)?;
    let threads = cfg.thread_count();
    let started = Instant::now();
    let elapsed_before = run.state.elapsed_seconds;
    let first = run.state.completed;
    let status = |phase: &str, run: &open::OpenRun<B>| {
        let _ = metrics::write_status(
            &out.join("status.json"),
            &Status {
                iteration: run.state.completed,
                iterations: cfg.iterations,
                phase: phase.to_string(),
                best_iteration: run.state.best_iteration,
                elapsed_seconds: elapsed_before + started.elapsed().as_secs_f64(),
                last: run.records.last().cloned(),
            },
        );
    };
    let mut interrupted = false;
    while run.state.completed < cfg.iterations {
        if opts
            .stop_after
            .is_some_and(|n| run.state.completed - first >= n)
        {
            interrupted = true;
            break;
        }
        let it = run.state.completed;
        let t0 = Instant::now();
        let label = |what: &str| format!("iter {}/{} {what}", it + 1, cfg.iterations);

        status("self-play", &run);
        let sp_bar = bar(opts.quiet, cfg.selfplay.per_iteration, &label("self-play"));
        let Outcome::Done(mut played) = play.examples(it, &sp_bar, &stop)? else {
            interrupted = true;
            break;
        };
        let new_examples = played.examples.len();
        run.buffer.extend(std::mem::take(&mut played.examples));

        status("train", &run);
        let train_bar = bar(opts.quiet, 0, &label("train"));
        let Outcome::Done(learned) = learn(
            &mut run.learner,
            &run.buffer,
            new_examples,
            cfg,
            it,
            &train_bar,
            &stop,
        )?
        else {
            interrupted = true;
            break;
        };
        let candidate = run.learner.inference_net();
        play.trained(&candidate)?;

        let last = it + 1 == cfg.iterations;
        let due = cfg.arena.every > 0 && ((it + 1) % cfg.arena.every == 0 || last);
        let verdict = if due {
            status("arena", &run);
            // The last arena settles what best.ckpt ends as, so it gets more deals.
            let deals = if last {
                cfg.arena.final_rounds
            } else {
                cfg.arena.rounds
            };
            let gated = gate(
                cfg,
                deals,
                candidate.clone(),
                run.best.clone(),
                device.clone(),
                cfg.selfplay.mode == Mode::Rounds,
                seeds::phase(cfg.seed, it, phases::ARENA),
                threads,
                &stop,
            )?;
            let Outcome::Done(verdict) = gated else {
                interrupted = true;
                break;
            };
            verdict
        } else {
            Verdict::default()
        };
        if verdict.promote {
            run.best_bytes =
                model::checkpoint::to_bytes(&candidate, &checkpoint::metadata(it + 1, cfg))?;
            run.best = candidate;
            run.state.best_iteration = it + 1;
        }

        run.state.completed = it + 1;
        run.state.learner_steps = run.learner.steps();
        run.state.elapsed_seconds = elapsed_before + started.elapsed().as_secs_f64();
        let record = record(it, t0, &played, &learned, verdict, &run);
        println!("{}", summary_line(&record, cfg.iterations));
        run.records.push(record);
        play.before_commit(&mut run.state);
        run.commit(cfg)?;
        play.committed(&run, cfg)?;
        status("done", &run);
    }
    play.finish(!interrupted && run.state.completed >= cfg.iterations)?;
    Ok(RunSummary {
        completed: run.state.completed,
        interrupted,
        best_iteration: run.state.best_iteration,
        records: run.records,
    })
}

/// The metrics line of a finished iteration.
fn record<B: AutodiffBackend>(
    it: u64,
    t0: Instant,
    played: &crate::stages::selfplay::Played,
    learned: &crate::stages::learn::Learned,
    verdict: Verdict,
    run: &open::OpenRun<B>,
) -> IterationRecord {
    let per_minute = |x: u64| x as f64 * 60.0 / played.seconds.max(1e-9);
    let trained = learned.losses.steps > 0;
    IterationRecord {
        iteration: it,
        seconds: t0.elapsed().as_secs_f64(),
        selfplay_seconds: played.seconds,
        train_seconds: learned.seconds,
        arena_seconds: verdict.seconds,
        rounds: played.stats.rounds,
        games: played.stats.games,
        examples: played.stats.examples,
        rounds_per_minute: per_minute(played.stats.rounds),
        examples_per_minute: per_minute(played.stats.examples),
        evaluations_per_second: played.rows as f64 / played.seconds.max(1e-9),
        mean_server_batch: played.rows as f64 / played.batches.max(1) as f64,
        cache_hit_rate: played.cache.hit_rate(),
        buffer: run.buffer.len(),
        steps: learned.losses.steps,
        lr: learned.lr,
        policy_loss: trained.then_some(learned.losses.policy),
        value_loss: trained.then_some(learned.losses.value),
        tricks_loss: (trained && run.learner.net_config().has_trick_head())
            .then_some(learned.losses.tricks),
        owners_loss: (trained && run.learner.net_config().has_owner_head())
            .then_some(learned.losses.owners),
        arena: verdict.matches,
        promoted: verdict.promote,
    }
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

fn summary_line(r: &IterationRecord, iterations: u64) -> String {
    let mut s = format!(
        "iter {:>3}/{} | {:>6.0} rounds/min | {:>6} examples | {:>5} steps",
        r.iteration + 1,
        iterations,
        r.rounds_per_minute,
        r.examples,
        r.steps
    );
    if r.cache_hit_rate > 0.0 {
        s += &format!(" | cache hits {:.1}%", 100.0 * r.cache_hit_rate);
    }
    if let (Some(p), Some(v)) = (r.policy_loss, r.value_loss) {
        s += &format!(" | loss policy {p:.3} value {v:.3}");
    }
    if let Some(t) = r.tricks_loss {
        s += &format!(" tricks {t:.3}");
    }
    if let Some(o) = r.owners_loss {
        s += &format!(" owners {o:.3}");
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
