//! `train learner --nats URL`: the training loop of `crate::run` with its examples taken from
//! the broker's stream instead of local self-play.
//!
//! Exactly once: the stream position (`RunState::stream`, the next sequence to consume) is
//! committed with each generation, in the same atomic swap as the replay buffer that holds
//! those examples. A restarted learner recreates its durable consumer at the committed
//! position and skips any message below it, so every message is counted in exactly one
//! committed generation, whatever moment the learner died at. Messages are acknowledged
//! (all up to the last one of the iteration) only after the commit; the acks let the server
//! track the consumer, but the committed position is what a restart trusts.
//!
//! Each message is classified once, by its sequence, the same way on every replay:
//! accepted (into the buffer), stale (its generation lags the learner's current one by more
//! than `max_lag`), or refused (another config's hash, another protocol, a generation the
//! learner has not published, or a damaged payload).

use super::broker::{Broker, Consumer, Received, retry};
use super::{Generation, RunInfo, config_hash, decode_examples, headers, keys};
use crate::config::TrainConfig;
use crate::example::Example;
use crate::run::{ExampleSource, RunOptions, RunSummary, run_with};
use crate::selfplay::SelfPlayStats;
use crate::stages::Outcome;
use crate::stages::checkpoint::metadata;
use crate::stages::open::OpenRun;
use crate::stages::selfplay::Played;
use crate::state::{RunState, StreamState};
use burn::tensor::backend::AutodiffBackend;
use indicatif::ProgressBar;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The learner's broker settings.
#[derive(Clone, Debug)]
pub struct LearnerOptions {
    pub url: String,
    pub name: String,
    /// Rounds (or games) per actor batch.
    pub batch: u64,
    /// The oldest generation accepted: this many behind the learner's current one.
    pub max_lag: u64,
}

/// Runs the learner: `crate::run::run_with` with the stream as the example source.
pub fn learn<B: AutodiffBackend>(
    cfg: &TrainConfig,
    device: B::Device,
    run_opts: &RunOptions,
    opts: &LearnerOptions,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<RunSummary> {
    if opts.batch == 0 || opts.batch > cfg.selfplay.per_iteration.max(1) {
        anyhow::bail!(
            "--batch {}: use 1 to selfplay.per_iteration ({})",
            opts.batch,
            cfg.selfplay.per_iteration
        );
    }
    if opts.max_lag > 1000 {
        anyhow::bail!("--max-lag {}: use 0 to 1000 generations", opts.max_lag);
    }
    let broker = Broker::connect(&opts.url, &opts.name)?;
    broker.create()?;
    run_with::<B, _>(cfg, device, run_opts, stop, |run| {
        StreamSource::open(broker, cfg, opts, run)
    })
}

/// The examples stream as the loop's example source.
pub struct StreamSource {
    broker: Broker,
    consumer: Consumer,
    /// Fetched but not yet taken (they belong to the next iteration).
    pending: VecDeque<Received>,
    position: StreamState,
    /// The last message taken, acknowledged after the next commit.
    to_ack: Option<Received>,
    hash: String,
    per_iteration: u64,
    max_lag: u64,
    /// Examples accepted in this session, by how many generations they lagged.
    lags: Vec<u64>,
    /// The last generation published.
    generation: u64,
    /// When the last iteration's examples were handed over (or the source opened): an
    /// iteration's rate is its rounds over the time since, the rate examples reach the
    /// learner. (The time spent waiting alone would be near zero when actors run ahead.)
    last_handover: Instant,
}

impl StreamSource {
    fn open<B: AutodiffBackend>(
        broker: Broker,
        cfg: &TrainConfig,
        opts: &LearnerOptions,
        run: &mut OpenRun<B>,
    ) -> anyhow::Result<StreamSource> {
        let hash = config_hash(cfg);
        let position = match &run.state.stream {
            Some(p) => p.clone(),
            None => {
                // A new run begins at the stream's end: nothing published before it (another
                // run's, or an earlier try's) is taken. Committed at once, so a restart
                // starts from the same place.
                let units = broker.counter(keys::PUBLISHED)?;
                let next = broker.last_seq()? + 1;
                let p = StreamState {
                    first_seq: next,
                    next_seq: next,
                    units,
                    ..Default::default()
                };
                run.state.stream = Some(p.clone());
                run.commit(cfg)?;
                p
            }
        };
        let consumer = broker.consumer(position.next_seq)?;
        broker.put_json(
            keys::RUN,
            &RunInfo {
                protocol: super::PROTOCOL,
                config: cfg.to_toml(),
                config_hash: hash.clone(),
                batch: opts.batch,
                max_lag: opts.max_lag,
            },
        )?;
        let mut source = StreamSource {
            broker,
            consumer,
            pending: VecDeque::new(),
            position,
            to_ack: None,
            hash,
            per_iteration: cfg.selfplay.per_iteration,
            max_lag: opts.max_lag,
            lags: vec![0; opts.max_lag as usize + 1],
            generation: run.state.completed,
            last_handover: Instant::now(),
        };
        // The committed generation's weights (again, if a crash came between a commit and
        // its publication).
        source.publish_generation(run, cfg, false)?;
        println!(
            "learner: run {:?} on {} | config {} | generation {} | stream from {}",
            source.broker.names.name,
            source.broker.url,
            source.hash,
            run.state.completed,
            source.position.next_seq
        );
        Ok(source)
    }

    fn publish_generation<B: AutodiffBackend>(
        &mut self,
        run: &OpenRun<B>,
        cfg: &TrainConfig,
        done: bool,
    ) -> anyhow::Result<()> {
        let g = run.state.completed;
        self.generation = g;
        let bytes = model::checkpoint::to_bytes(&run.learner.inference_net(), &metadata(g, cfg))?;
        self.broker.put_weights(g, &bytes)?;
        self.broker.put_json(
            keys::GENERATION,
            &Generation {
                generation: g,
                config_hash: self.hash.clone(),
                next_seq: self.position.next_seq,
                units: self.position.units,
                done,
            },
        )?;
        // Generations no example may come from any more.
        if let Some(old) = g.checked_sub(self.max_lag + 2) {
            self.broker.delete_weights(old);
        }
        Ok(())
    }

    /// The next message at or after the position, waiting up to half a second.
    fn next(&mut self) -> anyhow::Result<Option<Received>> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                if m.seq < self.position.next_seq {
                    continue; // taken before (a redelivery)
                }
                return Ok(Some(m));
            }
            match self
                .broker
                .fetch(&self.consumer, 64, Duration::from_millis(500))
            {
                Ok(got) if got.is_empty() => return Ok(None),
                Ok(got) => self.pending.extend(got),
                Err(e) => {
                    // A server restart: the client reconnects; start the consumer again
                    // from the position (messages taken since the commit are in `pending`
                    // or already counted, and are skipped by sequence).
                    eprintln!("warning: {e}; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                    self.pending.clear();
                    if let Ok(c) = self.broker.consumer(self.position.next_seq) {
                        self.consumer = c;
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Classifies one message (the same way on every replay) and takes its examples.
    fn take(
        &mut self,
        m: &Received,
        iteration: u64,
        into: &mut Vec<Example>,
    ) -> Result<u64, String> {
        let examples = decode_examples(&m.payload).map_err(|e| format!("damaged: {e}"))?;
        let n = examples.len() as u64;
        let refuse = |why: String| Err(format!("{why} ({n} examples)"));
        if m.number(headers::PROTOCOL) != Some(u64::from(super::PROTOCOL)) {
            return refuse(format!(
                "protocol {:?}, expected {}",
                m.text(headers::PROTOCOL),
                super::PROTOCOL
            ));
        }
        if m.text(headers::CONFIG) != Some(self.hash.as_str()) {
            return refuse(format!(
                "config {:?}, not this run's {}",
                m.text(headers::CONFIG),
                self.hash
            ));
        }
        let Some(g) = m.number(headers::GENERATION) else {
            return refuse("no generation".into());
        };
        if g > iteration {
            return refuse(format!(
                "generation {g}, never published (the learner is at {iteration})"
            ));
        }
        if iteration - g > self.max_lag {
            self.position.stale += n;
            return Ok(0);
        }
        self.position.accepted += n;
        self.lags[(iteration - g) as usize] += n;
        into.extend(examples);
        Ok(m.number(headers::UNITS).unwrap_or(0))
    }
}

impl<B: AutodiffBackend> ExampleSource<B> for StreamSource {
    fn examples(
        &mut self,
        iteration: u64,
        bar: &ProgressBar,
        stop: &AtomicBool,
    ) -> anyhow::Result<Outcome<Played>> {
        let mut examples = Vec::new();
        let mut units = 0;
        let mut stale = 0;
        let start = self.position.clone();
        let mut quiet_since = Instant::now();
        while units < self.per_iteration {
            if stop.load(Ordering::SeqCst) {
                return Ok(Outcome::Stopped);
            }
            let Some(m) = self.next()? else {
                if quiet_since.elapsed() > Duration::from_secs(30) {
                    eprintln!(
                        "learner: no examples for 30s: start actors with `train actor --nats {} --name {}`",
                        self.broker.url, self.broker.names.name
                    );
                    quiet_since = Instant::now();
                }
                continue;
            };
            quiet_since = Instant::now();
            self.position.next_seq = m.seq + 1;
            self.position.messages += 1;
            self.position.units += m.number(headers::UNITS).unwrap_or(0);
            let before = self.position.stale;
            match self.take(&m, iteration, &mut examples) {
                Ok(u) => units += u,
                Err(why) => {
                    eprintln!(
                        "learner: refused message {} from actor {:?}: {why}",
                        m.seq,
                        m.text(headers::ACTOR)
                    );
                    self.position.refused += decode_examples(&m.payload)
                        .map(|e| e.len() as u64)
                        .unwrap_or(0);
                }
            }
            stale += self.position.stale - before;
            self.to_ack = Some(m);
            bar.set_position(units);
        }
        bar.finish_and_clear();
        if stale > 0 {
            eprintln!(
                "learner: iteration {}: dropped {stale} examples older than {} generations",
                iteration + 1,
                self.max_lag
            );
        }
        let n = examples.len() as u64;
        debug_assert_eq!(self.position.accepted - start.accepted, n);
        let period = self.last_handover.elapsed().as_secs_f64();
        self.last_handover = Instant::now();
        Ok(Outcome::Done(Played {
            examples,
            stats: SelfPlayStats {
                rounds: units,
                examples: n,
                ..Default::default()
            },
            seconds: period,
            // The network's work (and its cache) is the actors', not counted here.
            rows: 0,
            batches: 0,
            cache: Default::default(),
        }))
    }

    fn before_commit(&mut self, state: &mut RunState) {
        state.stream = Some(self.position.clone());
    }

    fn committed(&mut self, run: &OpenRun<B>, cfg: &TrainConfig) -> anyhow::Result<()> {
        if let Some(m) = self.to_ack.take()
            && let Err(e) = self.broker.ack(&m)
        {
            // The committed position is what a restart trusts; a lost ack costs nothing.
            eprintln!("warning: {e}");
        }
        retry(
            "publish the new generation",
            &AtomicBool::new(false),
            || self.publish_generation(run, cfg, false),
        )?;
        Ok(())
    }

    fn finish(mut self, done: bool) -> anyhow::Result<()> {
        let lags: Vec<String> = self
            .lags
            .iter()
            .enumerate()
            .map(|(lag, n)| format!("{lag}: {n}"))
            .collect();
        println!(
            "learner: examples accepted in this session by generations behind the learner: {} | stream {:?}",
            lags.join(", "),
            self.position
        );
        if done {
            let g = Generation {
                generation: self.generation,
                config_hash: self.hash.clone(),
                next_seq: self.position.next_seq,
                units: self.position.units,
                done: true,
            };
            retry(
                "publish the end of the run",
                &AtomicBool::new(false),
                || self.broker.put_json(keys::GENERATION, &g),
            )?;
        }
        self.pending.clear();
        Ok(())
    }
}
