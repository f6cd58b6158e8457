//! The run's configuration: one TOML file (every key documented in `configs/default.toml`,
//! which is also the source of the defaults), plus command-line overrides. Invalid values
//! are refused with a clear error before any work starts.

use crate::agents::AgentSpec;
use crate::learner::LearnerConfig;
use crate::selfplay::{DealConfig, Mode, PolicyTarget, SelfPlayConfig};
use mcts::{Fpu, Preset, SearchParams, TemperatureSchedule};
use model::backend::DeviceKind;
use model::config::NetConfig;
use model::server::ServerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The documented defaults (the small CPU run).
pub const DEFAULT_TOML: &str = include_str!("../../../configs/default.toml");
/// The most inference server workers a config may ask for (each holds a copy of the network).
pub const MAX_SERVER_WORKERS: usize = 64;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub seed: u64,
    pub iterations: u64,
    #[serde(with = "as_text")]
    pub device: DeviceKind,
    /// Self-play threads; 0 means all cores.
    pub threads: usize,
    pub out: PathBuf,
    pub selfplay: SelfPlaySection,
    pub deal: DealConfig,
    pub net: NetSection,
    pub learner: LearnerConfig,
    pub buffer: BufferSection,
    pub server: ServerSection,
    /// Absent from configs saved before the cache existed: they read as the default.
    #[serde(default)]
    pub cache: CacheSection,
    pub arena: ArenaSection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfPlaySection {
    pub mode: Mode,
    /// Rounds (in rounds mode) or games (in games mode) per iteration.
    pub per_iteration: u64,
    pub in_flight: usize,
    #[serde(with = "as_text")]
    pub preset: Preset,
    pub parallel_batch_size: usize,
    pub c_puct: f32,
    pub fpu_reduction: f32,
    pub dirichlet_alpha: f32,
    pub dirichlet_epsilon: f32,
    pub temperature: f32,
    pub temperature_moves: usize,
    pub policy_target: PolicyTarget,
    pub full_search_share: f32,
    #[serde(with = "as_text")]
    pub fast_preset: Preset,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSection {
    /// `compact`, `small`, `peer`, `tiny`, or `custom` (then width/blocks/hidden below are used).
    pub preset: String,
    #[serde(default)]
    pub width: Option<usize>,
    #[serde(default)]
    pub blocks: Option<usize>,
    #[serde(default)]
    pub hidden: Option<usize>,
    pub tricks_head: bool,
    pub values_from_tricks: bool,
    /// The owners head (who holds each unseen card): a training target only.
    #[serde(default)]
    pub owners_head: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufferSection {
    pub capacity: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub max_batch: usize,
    pub batch_timeout_ms: f64,
    /// Worker threads of the inference server, each with its own copy of the network.
    pub workers: usize,
    /// Batch sizes the server pads to, ascending (empty: none; for a GPU).
    #[serde(default)]
    pub pad_sizes: Vec<usize>,
}

/// The evaluation cache (`mcts::cache`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    /// Evaluations kept; 0 turns the cache off.
    pub entries: usize,
}

/// `[cache] entries` in configs/default.toml (a test checks they agree).
pub const DEFAULT_CACHE_ENTRIES: usize = 262_144;
/// The most cache entries a config may ask for (an entry takes about 300 bytes).
pub const MAX_CACHE_ENTRIES: usize = 10_000_000;

/// The one bound on a cache's size, wherever it is set (`[cache] entries`, `train engine
/// --cache-entries`, the benchmarks); the caller names the setting.
pub fn check_cache_entries(entries: usize) -> Result<(), String> {
    if entries > MAX_CACHE_ENTRIES {
        return Err(format!(
            "must be at most {MAX_CACHE_ENTRIES}, not {entries}"
        ));
    }
    Ok(())
}

impl Default for CacheSection {
    fn default() -> Self {
        CacheSection {
            entries: DEFAULT_CACHE_ENTRIES,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArenaSection {
    /// Play the arena every this many iterations (and after the last); 0 = never.
    pub every: u64,
    pub rounds: usize,
    /// Deals of the arena after the last iteration, which decides what `best.ckpt` ends as:
    /// more deals, a narrower interval, the same promotion rule.
    pub final_rounds: usize,
    pub players: usize,
    pub cards: usize,
    /// Search preset of the network agents in the arena.
    #[serde(with = "as_text")]
    pub preset: Preset,
    /// Fixed opponents the new network meets besides the best network so far.
    #[serde(with = "list_as_text")]
    pub opponents: Vec<AgentSpec>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        toml::from_str(DEFAULT_TOML).expect("configs/default.toml parses (a test checks it)")
    }
}

impl TrainConfig {
    /// Reads a TOML file; keys it leaves out keep their defaults.
    pub fn from_file(path: &Path) -> Result<TrainConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("config {}: {e}", path.display()))
    }

    /// Parses TOML over the defaults (a partial file only changes what it names).
    pub fn from_toml(text: &str) -> Result<TrainConfig, String> {
        let mut base: toml::Table = toml::from_str(DEFAULT_TOML).map_err(|e| e.to_string())?;
        let over: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        merge(&mut base, over);
        toml::Value::Table(base)
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config serialises")
    }

    /// Checks every value and every combination, naming the first bad one. Every number is
    /// bounded: a value that could only hang, exhaust memory or overflow is refused here,
    /// before any work starts.
    pub fn validate(&self) -> Result<(), String> {
        within("iterations", self.iterations, 1, 1_000_000)?;
        within("threads", self.threads as u64, 0, 1024)?;
        within(
            "selfplay.per_iteration",
            self.selfplay.per_iteration,
            1,
            10_000_000,
        )?;
        within(
            "selfplay.in_flight",
            self.selfplay.in_flight as u64,
            1,
            4096,
        )?;
        within(
            "selfplay.temperature_moves",
            self.selfplay.temperature_moves as u64,
            0,
            1_000,
        )?;
        if !(self.selfplay.temperature.is_finite() && self.selfplay.temperature >= 0.0) {
            return Err(format!(
                "selfplay.temperature must be >= 0, not {}",
                self.selfplay.temperature
            ));
        }
        self.search_params()
            .validate()
            .map_err(|e| format!("selfplay: {e}"))?;
        if !(self.selfplay.full_search_share > 0.0 && self.selfplay.full_search_share <= 1.0) {
            return Err(format!(
                "selfplay.full_search_share must lie in (0, 1], not {}",
                self.selfplay.full_search_share
            ));
        }
        self.deal.validate()?;
        self.net_config()?;
        self.learner.validate()?;
        if self.buffer.capacity < self.learner.batch_size {
            return Err(format!(
                "buffer.capacity ({}) must hold at least one batch ({})",
                self.buffer.capacity, self.learner.batch_size
            ));
        }
        within("server.max_batch", self.server.max_batch as u64, 1, 65_536)?;
        within(
            "buffer.capacity",
            self.buffer.capacity as u64,
            1,
            crate::buffer::MAX_CAPACITY as u64,
        )?;
        if self.learner.min_buffer > self.buffer.capacity {
            return Err(format!(
                "learner.min_buffer ({}) is more than buffer.capacity ({}): the run would never train",
                self.learner.min_buffer, self.buffer.capacity
            ));
        }
        if !(1..=MAX_SERVER_WORKERS).contains(&self.server.workers) {
            return Err(format!(
                "server.workers must be 1 to {MAX_SERVER_WORKERS}, not {}",
                self.server.workers
            ));
        }
        if !(self.server.batch_timeout_ms.is_finite()
            && (0.0..=10_000.0).contains(&self.server.batch_timeout_ms))
        {
            return Err(format!(
                "server.batch_timeout_ms must be 0 to 10000, not {}",
                self.server.batch_timeout_ms
            ));
        }
        model::server::check_pad_sizes(&self.server.pad_sizes, self.server.max_batch)
            .map_err(|e| format!("server.pad_sizes {e} (server.max_batch)"))?;
        check_cache_entries(self.cache.entries).map_err(|e| format!("cache.entries {e}"))?;
        let a = &self.arena;
        if a.every > 0 {
            // Two deals at least: the promotion rule needs an interval.
            within("arena.rounds", a.rounds as u64, 2, 1_000_000)?;
            within("arena.final_rounds", a.final_rounds as u64, 2, 1_000_000)?;
            if !(3..=8).contains(&a.players) || a.cards == 0 || a.cards * a.players > 52 {
                return Err(format!(
                    "arena.players {} x arena.cards {}: need 3..=8 players and at most 52 cards",
                    a.players, a.cards
                ));
            }
        }
        Ok(())
    }

    pub fn search_params(&self) -> SearchParams {
        let s = &self.selfplay;
        self.params_of(s.preset)
            .with_noise(s.dirichlet_alpha, s.dirichlet_epsilon)
    }

    /// The fast search of playout cap randomisation: `fast_preset` with the other knobs of
    /// `search_params`, without root noise.
    pub fn fast_search_params(&self) -> SearchParams {
        let s = &self.selfplay;
        self.params_of(s.fast_preset)
            .with_noise(s.dirichlet_alpha, 0.0)
    }

    /// A self-play preset with the section's knobs.
    fn params_of(&self, preset: Preset) -> SearchParams {
        let s = &self.selfplay;
        let mut p = preset.params().with_batch(s.parallel_batch_size);
        p.c_puct = s.c_puct;
        p.fpu = Fpu::Reduction(s.fpu_reduction);
        p
    }

    /// The inference server's settings (`[server]`).
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            max_batch: self.server.max_batch,
            batch_timeout: std::time::Duration::from_secs_f64(
                self.server.batch_timeout_ms / 1000.0,
            ),
            workers: self.server.workers,
            pad_sizes: self.server.pad_sizes.clone(),
        }
    }

    /// A warning when the training arena's table lies outside what self-play deals: the
    /// gate would then judge the network where it has not learnt (docs/training.md, "Off
    /// the training range").
    pub fn arena_range_warning(&self) -> Option<String> {
        if self.arena.every == 0 {
            return None;
        }
        let range = crate::training_range::TrainingRange {
            mode: self.selfplay.mode,
            deal: self.deal.clone(),
        };
        let (p, c) = (self.arena.players, self.arena.cards);
        (!range.covers(p, c)).then(|| {
            format!(
                "warning: the arena's table ([arena] players = {p}, cards = {c}) lies outside \
                 what self-play deals ({}): the networks are compared where they have not \
                 learnt",
                range.describe()
            )
        })
    }

    pub fn selfplay_config(&self) -> SelfPlayConfig {
        SelfPlayConfig {
            mode: self.selfplay.mode,
            deal: self.deal.clone(),
            search: self.search_params(),
            temperature: TemperatureSchedule {
                initial: self.selfplay.temperature,
                moves: self.selfplay.temperature_moves,
                after: 0.0,
            },
            policy_target: self.selfplay.policy_target,
            full_search_share: self.selfplay.full_search_share,
            fast_search: self.fast_search_params(),
            in_flight: self.selfplay.in_flight,
            seed: self.seed,
            fixed_setup: None,
            search_forced: false,
        }
    }

    pub fn net_config(&self) -> Result<NetConfig, String> {
        let n = &self.net;
        let config = if n.preset == "custom" {
            match (n.width, n.blocks, n.hidden) {
                (Some(w), Some(b), Some(h)) => NetConfig::mlp(w, b, h),
                _ => {
                    return Err(
                        "net.preset = \"custom\" needs net.width, net.blocks and net.hidden".into(),
                    );
                }
            }
        } else {
            NetConfig::preset(&n.preset).map_err(|e| format!("net.preset: {e}"))?
        };
        let config = config
            .with_trick_head(n.tricks_head)
            .with_values_from_tricks(n.values_from_tricks)
            .with_owner_head(n.owners_head);
        config.validate().map_err(|e| format!("net: {e}"))?;
        Ok(config)
    }

    /// Self-play threads to use (0 = all cores).
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            // Two per core: each waits on the network for much of its time.
            2 * std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// A value kept in the TOML as its text (`FromStr` / `Display`): parsed once, when the file
/// is read, so a bad one is refused there with its key named (`in \`selfplay.preset\``).
mod as_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// [`as_text`] for a list.
mod list_as_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        for v in values {
            seq.serialize_element(&v.to_string())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| s.parse().map_err(D::Error::custom))
            .collect()
    }
}

/// `key`'s value must lie in `lo..=hi`.
fn within(key: &str, value: u64, lo: u64, hi: u64) -> Result<(), String> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(format!("{key} must be {lo} to {hi}, not {value}"))
    }
}

/// The settings a resumed run may change: they steer the arena, the machine's threads and the
/// output folder's name, never what the network learns from.
pub const RESUMABLE_KEYS: &[&str] = &[
    "iterations",
    "threads",
    "out",
    "arena.opponents",
    "arena.rounds",
    "arena.final_rounds",
    "server.workers",
    "server.max_batch",
    "server.batch_timeout_ms",
    "server.pad_sizes",
    "cache.entries",
];

impl TrainConfig {
    /// Whether a run saved with `saved` may continue with `self`: every key that differs must
    /// be one of [`RESUMABLE_KEYS`]; otherwise the error names each that may not change.
    pub fn check_resumable(&self, saved: &TrainConfig) -> Result<(), String> {
        let old = flatten(&toml::Value::try_from(saved).map_err(|e| e.to_string())?);
        let new = flatten(&toml::Value::try_from(self).map_err(|e| e.to_string())?);
        let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let refused: Vec<String> = keys
            .into_iter()
            .filter(|k| old.get(*k) != new.get(*k) && !RESUMABLE_KEYS.contains(&k.as_str()))
            .map(|k| {
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "unset".into());
                format!("{k} (was {}, now {})", show(old.get(k)), show(new.get(k)))
            })
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "these settings differ from the run's and would change what it learns: {}; only {} may change on --resume",
                refused.join(", "),
                RESUMABLE_KEYS.join(", ")
            ))
        }
    }
}

/// Every leaf of a TOML value by its dotted key, as text.
fn flatten(v: &toml::Value) -> std::collections::BTreeMap<String, String> {
    fn walk(prefix: &str, v: &toml::Value, out: &mut std::collections::BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk("", v, &mut out);
    out
}

/// Overlays `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_validate() {
        let c = TrainConfig::default();
        c.validate().unwrap();
        assert_eq!(TrainConfig::from_toml(&c.to_toml()).unwrap(), c);
    }

    #[test]
    fn an_arena_outside_the_deal_range_is_flagged() {
        let mut c = TrainConfig::default();
        c.deal.players = vec![3, 4, 5];
        c.deal.cards_max = 6;
        assert_eq!(c.arena_range_warning(), None, "4 x 5 lies in 3-5 x 1-6");
        c.arena.players = 8;
        c.arena.cards = 6;
        let w = c.arena_range_warning().expect("8 players are not dealt");
        assert!(
            w.contains("players = 8") && w.contains("3-5 players"),
            "{w}"
        );
        c.arena.every = 0;
        assert_eq!(c.arena_range_warning(), None, "no arena, nothing to flag");
    }

    #[test]
    fn every_shipped_config_loads_and_validates() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let c = TrainConfig::from_toml(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                c.validate()
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        seen.sort();
        assert_eq!(seen, ["default.toml", "long.toml", "wide.toml"]);
    }

    #[test]
    fn resume_accepts_safe_changes_and_names_the_unsafe_ones() {
        let saved = TrainConfig::default();
        let mut now = saved.clone();
        now.iterations += 10;
        now.threads = 3;
        now.arena.opponents = vec![AgentSpec::Heuristic];
        now.arena.rounds = 50;
        now.server.workers = 1;
        now.check_resumable(&saved).unwrap();
        now.learner.lr = 0.5;
        now.selfplay.preset = "1x8".parse().unwrap();
        let err = now.check_resumable(&saved).unwrap_err();
        assert!(err.contains("learner.lr (was 0.002, now 0.5)"), "{err}");
        assert!(err.contains("selfplay.preset"), "{err}");
        assert!(!err.contains("arena.rounds ("), "{err}");
    }

    #[test]
    fn partial_files_override_only_what_they_name() {
        let c = TrainConfig::from_toml("iterations = 3\n[learner]\nbatch_size = 64\n").unwrap();
        assert_eq!(c.iterations, 3);
        assert_eq!(c.learner.batch_size, 64);
        assert_eq!(c.learner.lr, TrainConfig::default().learner.lr);
    }

    #[test]
    fn bad_values_are_named() {
        let err = TrainConfig::from_toml("iterations = 0")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.contains("iterations"), "{err}");
        let err = TrainConfig::from_toml("[selfplay]\npreset = \"huge\"").unwrap_err();
        assert!(
            err.contains("selfplay.preset") && err.contains("huge"),
            "{err}"
        );
        let err = TrainConfig::from_toml("[deal]\nplayers = [2]")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.contains("players"), "{err}");
        assert_eq!(
            TrainConfig::default().cache,
            CacheSection::default(),
            "the cache's default in code agrees with configs/default.toml"
        );
        let err = TrainConfig::from_toml("device = \"tpu\"").unwrap_err();
        assert!(err.contains("tpu") && err.contains("device"), "{err}");
        for (text, key) in [
            (
                "[server]\nbatch_timeout_ms = 1e12",
                "server.batch_timeout_ms",
            ),
            ("[server]\nmax_batch = 100000000", "server.max_batch"),
            ("[server]\npad_sizes = [64, 16]", "server.pad_sizes"),
            ("[server]\npad_sizes = [0, 16]", "server.pad_sizes"),
            ("[server]\npad_sizes = [16, 1024]", "server.pad_sizes"),
            ("[cache]\nentries = 100000000", "cache.entries"),
            (
                "[selfplay]\nper_iteration = 100000000000",
                "selfplay.per_iteration",
            ),
            (
                "[selfplay]\npreset = \"1000000000000000000x1\"",
                "selfplay.preset",
            ),
            ("[learner]\nsamples_per_new = 1e9", "samples_per_new"),
            ("[learner]\nmin_buffer = 300000", "learner.min_buffer"),
            (
                "[buffer]\ncapacity = 4611686018427387904",
                "buffer.capacity",
            ),
            ("[arena]\nrounds = 1", "arena.rounds"),
            ("[arena]\nfinal_rounds = 0", "arena.final_rounds"),
            ("[arena]\nopponents = [\"heuristc\"]", "arena.opponents"),
            (
                "[net]\npreset = \"custom\"\nwidth = 100000\nblocks = 2\nhidden = 8",
                "width",
            ),
        ] {
            // Refused when the file is read (a value that does not parse) or by `validate`.
            let err = match TrainConfig::from_toml(text) {
                Err(e) => e,
                Ok(c) => c.validate().expect_err(text),
            };
            assert!(err.contains(key), "{text}: {err}");
        }
        for workers in [0, 65] {
            let err = TrainConfig::from_toml(&format!("[server]\nworkers = {workers}"))
                .unwrap()
                .validate()
                .unwrap_err();
            assert!(err.contains("server.workers"), "{err}");
        }
        assert!(
            TrainConfig::from_toml("no_such_key = 1")
                .unwrap_err()
                .contains("no_such_key")
        );
        assert!(TrainConfig::from_toml("iterations = \"many\"").is_err());
    }
}
