//! Self-play on many machines through a NATS JetStream server (docs/distributed.md).
//!
//! Games are independent, so actors only need the newest weights and a durable place to put
//! examples, and the learner only needs a stream of examples it cannot lose: a message
//! broker with persistence is exactly that, so we use one (NATS with JetStream: one server
//! binary) instead of a home-made server.
//!
//! - [`learner`]: `train learner --nats URL` is the normal training loop (`crate::run`) with
//!   the self-play stage replaced by "take the next examples from the stream". It publishes
//!   the run's config (key-value bucket) and each committed generation's weights (object
//!   store), and commits its stream position with every generation.
//! - [`actor`]: `train actor --nats URL` fetches the config and the newest weights, plays
//!   self-play in batches and publishes each finished batch, tagged with the generation and
//!   the config's hash.
//! - [`broker`]: the only async code of the crate (a small tokio runtime behind blocking
//!   calls); the rest of the crate stays synchronous.
//!
//! This module holds what both sides agree on: the names, the run's description and the
//! batch messages' format.

pub mod actor;
pub mod broker;
pub mod learner;

use crate::config::TrainConfig;
use crate::example::{EXAMPLE_BYTES, Example};
use serde::{Deserialize, Serialize};

/// The message format's version: a message of another version is refused.
pub const PROTOCOL: u32 = 1;
/// The default `--name`: one run per name on a server.
pub const DEFAULT_NAME: &str = "blob";
/// Default oldest accepted example: this many generations behind the learner's.
pub const DEFAULT_MAX_LAG: u64 = 3;

/// The headers of a batch message.
pub mod headers {
    pub const PROTOCOL: &str = "Blob-Protocol";
    pub const CONFIG: &str = "Blob-Config";
    pub const GENERATION: &str = "Blob-Generation";
    pub const ACTOR: &str = "Blob-Actor";
    pub const BATCH: &str = "Blob-Batch";
    pub const PART: &str = "Blob-Part";
    /// Rounds (or games) finished in the batch (on its last part only).
    pub const UNITS: &str = "Blob-Units";
}

/// The server-side names of one run (`--name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    pub name: String,
    /// The examples stream and its subject.
    pub stream: String,
    pub subject: String,
    /// Key-value bucket: the run's description, the current generation, the actor counter.
    pub kv: String,
    /// Object store: one weights file per recent generation.
    pub weights: String,
}

/// Key-value keys.
pub mod keys {
    pub const RUN: &str = "run";
    pub const GENERATION: &str = "generation";
    pub const ACTORS: &str = "actors";
    /// Rounds (or games) ever published by the run's actors (a counter).
    pub const PUBLISHED: &str = "published";
}

impl Names {
    /// The names of run `name` (letters, digits, `-` and `_`: what stream and bucket names
    /// allow).
    pub fn new(name: &str) -> anyhow::Result<Names> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            anyhow::bail!(
                "--name {name:?}: use 1 to 64 letters, digits, '-' or '_' (it names the run's stream and buckets on the server)"
            );
        }
        Ok(Names {
            name: name.to_string(),
            stream: format!("{name}_examples"),
            subject: format!("{name}.examples"),
            kv: format!("{name}_run"),
            weights: format!("{name}_weights"),
        })
    }

    /// The object holding generation `g`'s weights.
    pub fn weights_object(g: u64) -> String {
        format!("generation-{g}.ckpt")
    }
}

/// The run as the learner publishes it (key [`keys::RUN`]): actors play with this config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub protocol: u32,
    /// The learner's effective config, as TOML.
    pub config: String,
    /// [`config_hash`] of it: every batch carries it.
    pub config_hash: String,
    /// Rounds (or games) per published batch.
    pub batch: u64,
    /// Generations an example may lag behind the learner's before it is dropped.
    pub max_lag: u64,
}

/// The newest committed generation (key [`keys::GENERATION`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub generation: u64,
    pub config_hash: String,
    /// The learner's committed stream position: messages from here on are not yet in a
    /// committed generation (actors hold back when too many are waiting).
    pub next_seq: u64,
    /// The committed count of units consumed, on the scale of the `published` counter.
    #[serde(default)]
    pub units: u64,
    /// The run has finished every iteration: actors exit.
    pub done: bool,
}

/// What identifies self-play data: the seed and every key that changes how examples are
/// made (self-play, deals, network). Learner-local keys (output folder, threads, learner,
/// arena, iterations) are left out, so a resume that changes them keeps the actors' data.
pub fn config_hash(cfg: &TrainConfig) -> String {
    #[derive(Serialize)]
    struct Identity<'a> {
        seed: u64,
        selfplay: &'a crate::config::SelfPlaySection,
        deal: &'a crate::selfplay::DealConfig,
        net: &'a crate::config::NetSection,
    }
    let text = toml::to_string(&Identity {
        seed: cfg.seed,
        selfplay: &cfg.selfplay,
        deal: &cfg.deal,
        net: &cfg.net,
    })
    .expect("the config serialises");
    format!("{:016x}", model::files::checksum(text.as_bytes()))
}

/// A batch message's payload: the examples, back to back.
pub fn encode_examples(examples: &[Example]) -> Vec<u8> {
    let mut out = Vec::with_capacity(examples.len() * EXAMPLE_BYTES);
    for e in examples {
        e.write_to(&mut out);
    }
    out
}

/// The examples of a payload, or why it is not one.
pub fn decode_examples(bytes: &[u8]) -> Result<Vec<Example>, String> {
    if !bytes.len().is_multiple_of(EXAMPLE_BYTES) {
        return Err(format!(
            "{} bytes is not a whole number of {EXAMPLE_BYTES}-byte examples",
            bytes.len()
        ));
    }
    bytes
        .chunks_exact(EXAMPLE_BYTES)
        .enumerate()
        .map(|(i, b)| Example::read_from(b).ok_or_else(|| format!("example {i} is damaged")))
        .collect()
}

/// The seed stream of actor `actor`'s batch `batch`: stands in for the iteration of
/// `selfplay::run`, so every unit of every batch of every actor has its own stream, derived
/// from the run's seed.
pub fn batch_stream(actor: u64, batch: u64) -> u64 {
    /// Keeps actor streams away from the single-machine run's iteration numbers.
    const ACTOR_STREAMS: u64 = 0xA5_0000;
    game::seeds::derive(ACTOR_STREAMS, &[actor, batch])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(Names::new("blob-1_x").is_ok());
        for bad in ["", "a.b", "a b", "a*", &"x".repeat(65)] {
            let err = Names::new(bad).unwrap_err().to_string();
            assert!(err.contains("--name"), "{err}");
        }
    }

    #[test]
    fn the_hash_ignores_learner_local_keys_only() {
        let a = TrainConfig::default();
        let mut b = a.clone();
        b.iterations += 3;
        b.threads = 7;
        b.arena.rounds = 11;
        b.learner.lr = 0.5;
        b.out = "elsewhere".into();
        assert_eq!(config_hash(&a), config_hash(&b));
        b.selfplay.preset = "1x8".parse().unwrap();
        assert_ne!(config_hash(&a), config_hash(&b));
        let mut c = a.clone();
        c.seed += 1;
        assert_ne!(config_hash(&a), config_hash(&c));
    }

    #[test]
    fn payloads_round_trip_and_damage_is_named() {
        let e = Example::new(
            &[0.25; game::ENCODING_LEN],
            u64::MAX,
            [1.0 / 52.0; game::NUM_ACTIONS],
            [0.5; game::MAX_PLAYERS],
        );
        let bytes = encode_examples(&[e.clone(), e.clone()]);
        assert_eq!(decode_examples(&bytes).unwrap(), vec![e.clone(), e]);
        let err = decode_examples(&bytes[1..]).unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        assert!(decode_examples(&[]).unwrap().is_empty());
    }

    #[test]
    fn batch_streams_differ() {
        assert_ne!(batch_stream(0, 1), batch_stream(1, 0));
        assert_ne!(batch_stream(0, 0), batch_stream(0, 1));
    }
}
