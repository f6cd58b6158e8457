//! `train actor --nats URL`: self-play for a learner somewhere else.
//!
//! The actor takes the run's config from the learner (key-value bucket), claims a new actor
//! number, and loops: read the current generation, fetch its weights if they are new, play a
//! batch of rounds with the existing self-play (`crate::selfplay`, through the inference
//! server), and publish the batch's examples tagged with the generation and the config's
//! hash. Batch `b` of actor `a` is seeded from the run's seed, `a` and `b`
//! ([`super::batch_stream`]); its message ids are `a-b-part`, so a batch republished after
//! a lost ack is stored once. A killed actor loses only the batch it was playing.
//!
//! Actors hold back when the stream already holds more than about two iterations of
//! examples the learner has not committed, so examples stay within a generation or two of
//! the learner's network; the learner drops any older than its `--max-lag`.

use super::broker::{Broker, retry};
use super::{Generation, RunInfo, batch_stream, config_hash, encode_examples, headers, keys};
use crate::config::TrainConfig;
use crate::example::EXAMPLE_BYTES;
use crate::stages::Outcome;
use crate::stages::selfplay::SelfPlayStage;
use async_nats::HeaderMap;
use burn::tensor::backend::AutodiffBackend;
use indicatif::ProgressBar;
use model::net::BlobNet;
use model::runner::NetRunner;
use model::server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The actor's settings.
#[derive(Clone, Debug)]
pub struct ActorOptions {
    pub url: String,
    pub name: String,
    /// Self-play threads (0: two per core).
    pub threads: usize,
    /// Stop after publishing this many batches (measurements).
    pub batches: Option<u64>,
    /// The config this actor was told to play (`--config`): refused unless it is the run's.
    pub expect: Option<TrainConfig>,
}

/// What an actor did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActorSummary {
    pub actor: u64,
    pub batches: u64,
    pub examples: u64,
    pub units: u64,
    pub seconds: f64,
}

const POLL: Duration = Duration::from_millis(200);
/// The longest an actor holds back on one generation.
const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// Runs an actor until the run is done, `stop` is set, or `opts.batches` are published.
pub fn act<B: AutodiffBackend>(
    opts: &ActorOptions,
    device: B::Device,
    stop: &AtomicBool,
) -> anyhow::Result<ActorSummary> {
    let t0 = Instant::now();
    let broker = Broker::connect(&opts.url, &opts.name)?;
    let mut said = false;
    let (mut info, mut cfg) = loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(ActorSummary::default());
        }
        if broker.exists()
            && let Some(info) = retry("read the run", stop, || broker.run_info())?.flatten()
        {
            let cfg = run_config(&info)?;
            break (info, cfg);
        }
        if !said {
            println!(
                "actor: waiting for a learner to start run {:?} on {}",
                broker.names.name, opts.url
            );
            said = true;
        }
        std::thread::sleep(POLL);
    };
    if let Some(mine) = &opts.expect
        && config_hash(mine) != info.config_hash
    {
        anyhow::bail!(
            "this actor's --config does not match run {:?}'s (config hash {} here, {} there): an actor plays the learner's config; leave out --config",
            broker.names.name,
            config_hash(mine),
            info.config_hash
        );
    }
    let actor = broker.claim_actor()?;
    let threads = if opts.threads > 0 {
        opts.threads
    } else {
        cfg.thread_count()
    };
    println!(
        "actor {actor}: run {:?} | config {} | {} threads | batches of {}",
        broker.names.name, info.config_hash, threads, info.batch
    );
    let mut summary = ActorSummary {
        actor,
        ..Default::default()
    };
    let mut playing: Option<(u64, ServerSlot<B>)> = None;
    let mut batch = 0u64;
    let mut held_since: Option<(u64, Instant)> = None;
    let mut load_failures = 0;
    loop {
        if stop.load(Ordering::SeqCst) || opts.batches.is_some_and(|n| summary.batches >= n) {
            break;
        }
        let Some(read) = retry("read the generation", stop, || broker.generation())? else {
            break; // stopped
        };
        let Some(generation) = read else {
            std::thread::sleep(POLL);
            continue;
        };
        if generation.config_hash != info.config_hash {
            // The learner was restarted with another config: play the new one.
            let Some(new) = retry("read the run", stop, || broker.run_info())?.flatten() else {
                continue;
            };
            if new.config_hash != generation.config_hash {
                std::thread::sleep(POLL);
                continue;
            }
            println!(
                "actor {actor}: the run's config changed ({} -> {}): updating",
                info.config_hash, new.config_hash
            );
            cfg = run_config(&new)?;
            info = new;
            playing = None;
        }
        if generation.done {
            println!("actor {actor}: the run is finished");
            break;
        }
        let ahead = retry("read the stream", stop, || {
            backlog(&broker, &generation, &cfg)
        })?
        .unwrap_or(true);
        // Waits for the learner, but never for ever on one generation: a miscount (an
        // actor killed between its publish and its count) cannot stall the run.
        let held = match &held_since {
            Some((g, t)) if *g == generation.generation => t.elapsed() < HOLD_LIMIT,
            _ => true,
        };
        if ahead && held {
            if held_since
                .as_ref()
                .is_none_or(|(g, _)| *g != generation.generation)
            {
                held_since = Some((generation.generation, Instant::now()));
            }
            std::thread::sleep(POLL);
            continue;
        }
        held_since = None;
        if playing.as_ref().map(|(g, _)| *g) != Some(generation.generation) {
            match load::<B>(&broker, &cfg, generation.generation, &device) {
                Ok(net) => match &mut playing {
                    Some((g, slot)) => {
                        slot.server
                            .swap(NetRunner::new(net, device.clone()))
                            .map_err(|e| anyhow::anyhow!("the inference server: {e}"))?;
                        *g = generation.generation;
                    }
                    None => {
                        playing = Some((generation.generation, ServerSlot::new(&cfg, net, &device)))
                    }
                },
                Err(e) => {
                    // A newer generation may have replaced it meanwhile: read again, for at
                    // most two minutes.
                    load_failures += 1;
                    if load_failures >= 600 {
                        return Err(e.context(format!(
                            "actor {actor}: no weights of the current generation could be read in two minutes"
                        )));
                    }
                    eprintln!("actor {actor}: {e:#}; reading the generation again");
                    std::thread::sleep(POLL);
                    continue;
                }
            }
        }
        load_failures = 0;
        let (g, slot) = playing.as_ref().expect("loaded above");
        // The single-machine run's self-play stage: its evaluation cache (one per batch, as
        // one per iteration there) and its stop handling.
        let started = Instant::now();
        let server_stats = || slot.server.stats();
        let stage = SelfPlayStage {
            config: cfg.selfplay_config(),
            per_iteration: info.batch,
            threads,
            cache_entries: cfg.cache.entries,
            client: slot.client.clone(),
            server_stats: &server_stats,
        };
        let Outcome::Done(played) =
            stage.play(batch_stream(actor, batch), &ProgressBar::hidden(), stop)?
        else {
            break; // an unfinished batch is dropped
        };
        let examples = played.examples;
        publish(
            &broker, &info, actor, batch, *g, &examples, info.batch, stop,
        )?;
        // Counted after the publish: a crash in between undercounts, which only lets actors
        // run a little further ahead.
        retry("count the published rounds", stop, || {
            broker.add(keys::PUBLISHED, info.batch)
        })?;
        println!(
            "actor {actor}: batch {batch} (generation {g}): {} examples in {:.1}s, cache hits {:.1}%",
            examples.len(),
            started.elapsed().as_secs_f64(),
            100.0 * played.cache.hit_rate()
        );
        summary.batches += 1;
        summary.examples += examples.len() as u64;
        summary.units += info.batch;
        batch += 1;
    }
    summary.seconds = t0.elapsed().as_secs_f64();
    if let Some((_, slot)) = playing {
        drop(slot.client);
        slot.server.join();
    }
    println!(
        "actor {actor}: {} batches, {} examples in {:.1}s ({:.0} examples/s)",
        summary.batches,
        summary.examples,
        summary.seconds,
        summary.examples as f64 / summary.seconds.max(1e-9)
    );
    Ok(summary)
}

/// The run's config as the learner published it.
fn run_config(info: &RunInfo) -> anyhow::Result<TrainConfig> {
    if info.protocol != super::PROTOCOL {
        anyhow::bail!(
            "the learner speaks protocol {}, this actor {}: use the same version of train on both",
            info.protocol,
            super::PROTOCOL
        );
    }
    let cfg = TrainConfig::from_toml(&info.config)
        .map_err(|e| anyhow::anyhow!("the run's published config does not parse: {e}"))?;
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("the run's published config is invalid: {e}"))?;
    if config_hash(&cfg) != info.config_hash {
        anyhow::bail!("the run's published config does not match its hash");
    }
    Ok(cfg)
}

/// Whether the stream already holds about two iterations of examples the learner has not
/// committed (then the actor waits for the next generation).
fn backlog(broker: &Broker, generation: &Generation, cfg: &TrainConfig) -> anyhow::Result<bool> {
    let waiting = broker
        .counter(keys::PUBLISHED)?
        .saturating_sub(generation.units);
    Ok(waiting >= 2 * cfg.selfplay.per_iteration)
}

fn load<B: AutodiffBackend>(
    broker: &Broker,
    cfg: &TrainConfig,
    generation: u64,
    device: &B::Device,
) -> anyhow::Result<BlobNet<B::InnerBackend>> {
    let bytes = broker.get_weights(generation)?;
    let net_cfg = cfg.net_config().map_err(anyhow::Error::msg)?;
    let (net, meta) = model::checkpoint::from_bytes::<B::InnerBackend>(&bytes, &net_cfg, device)?;
    if meta.iteration != generation {
        anyhow::bail!(
            "the weights of generation {generation} say they are generation {}",
            meta.iteration
        );
    }
    Ok(net)
}

/// The inference server playing one generation.
struct ServerSlot<B: AutodiffBackend> {
    server: server::ServerHandle<NetRunner<B::InnerBackend>>,
    client: server::Client,
}

impl<B: AutodiffBackend> ServerSlot<B> {
    fn new(cfg: &TrainConfig, net: BlobNet<B::InnerBackend>, device: &B::Device) -> Self {
        let (server, client) =
            server::spawn(NetRunner::new(net, device.clone()), cfg.server_config());
        ServerSlot { server, client }
    }
}

/// Publishes a batch in as many messages as the server's payload limit needs, each retried
/// until stored (a server restart) or a stop request.
#[allow(clippy::too_many_arguments)]
fn publish(
    broker: &Broker,
    info: &RunInfo,
    actor: u64,
    batch: u64,
    generation: u64,
    examples: &[crate::example::Example],
    units: u64,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    // Room for the headers.
    let per_message = ((broker.max_payload().saturating_sub(4096)) / EXAMPLE_BYTES).max(1);
    let parts: Vec<&[crate::example::Example]> = if examples.is_empty() {
        vec![&[]]
    } else {
        examples.chunks(per_message).collect()
    };
    let last = parts.len() - 1;
    for (part, chunk) in parts.into_iter().enumerate() {
        let mut h = HeaderMap::new();
        h.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("{actor}-{batch}-{part}").as_str(),
        );
        h.insert(headers::PROTOCOL, super::PROTOCOL.to_string().as_str());
        h.insert(headers::CONFIG, info.config_hash.as_str());
        h.insert(headers::GENERATION, generation.to_string().as_str());
        h.insert(headers::ACTOR, actor.to_string().as_str());
        h.insert(headers::BATCH, batch.to_string().as_str());
        h.insert(headers::PART, part.to_string().as_str());
        let u = if part == last { units } else { 0 };
        h.insert(headers::UNITS, u.to_string().as_str());
        let payload = encode_examples(chunk);
        let stored = retry(
            &format!("actor {actor}: publish batch {batch}"),
            stop,
            || broker.publish(h.clone(), payload.clone()),
        )?;
        if stored.is_none() {
            return Ok(()); // stopped: the batch is dropped
        }
    }
    Ok(())
}
