//! A network with a search, as a player: for the arena and for evaluation during training.
//! No noise, temperature 0: it plays the most visited move. Agents run on any backend: the
//! arena command's on the CPU, the training gate's on the training device.

use crate::agents::NetAgentFactory;
use crate::training_range::{TrainingRange, selfplay_mode, warn_once};
use burn::tensor::backend::Backend;
use game::Observation;
use game::Player;
use mcts::{CachedEvaluator, EvalCache, Preset, SearchParams, search_blocking};
use model::backend::Cpu;
use model::checkpoint;
use model::evaluator::DirectEvaluator;
use model::net::BlobNet;
use model::runner::NetRunner;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct NetAgent<B: Backend = Cpu> {
    name: String,
    /// The network learnt from single rounds only: inside a game it plays each round for
    /// that round's score, seeing the round as a single round (a game's context would be
    /// input it never saw).
    rounds_only: bool,
    /// The set-ups its run's self-play dealt, when its checkpoint says: a table outside them
    /// gets a warning (once per process).
    range: Option<TrainingRange>,
    /// The table size (players, cards) last checked against `range`.
    checked: Option<(usize, usize)>,
    evaluator: CachedEvaluator<DirectEvaluator<NetRunner<B>>>,
    params: SearchParams,
    seed: u64,
    decisions: u64,
    last: Option<game::Analysis>,
}

impl<B: Backend> NetAgent<B> {
    /// An agent whose network answers go through `cache` (it must be this network's: see
    /// `mcts::cache`).
    pub fn new(
        name: impl Into<String>,
        net: BlobNet<B>,
        device: B::Device,
        params: SearchParams,
        seed: u64,
        cache: Arc<EvalCache>,
    ) -> NetAgent<B> {
        NetAgent {
            name: name.into(),
            rounds_only: false,
            range: None,
            checked: None,
            evaluator: CachedEvaluator::new(
                DirectEvaluator::new(NetRunner::new(net, device)),
                cache,
            ),
            params,
            seed,
            decisions: 0,
            last: None,
        }
    }

    /// Plays every round of a game as a single round (see `rounds_only`).
    pub fn rounds_only(mut self, on: bool) -> NetAgent<B> {
        self.rounds_only = on;
        self
    }

    /// Warns when a table lies outside the set-ups the network learnt from.
    pub fn training_range(mut self, range: Option<TrainingRange>) -> NetAgent<B> {
        self.range = range;
        self
    }

    /// Warns (once per process) when a table lies outside the training range; checked once
    /// per table size this agent sees.
    fn check_range(&mut self, players: usize, cards: usize) {
        if let Some(range) = &self.range
            && self.checked != Some((players, cards))
        {
            self.checked = Some((players, cards));
            warn_once(range, &self.name, players, cards);
        }
    }
}

impl<B: Backend> Player for NetAgent<B> {
    fn seated(&mut self, players: usize, cards: usize) {
        self.check_range(players, cards);
    }

    fn act(&mut self, obs: &Observation) -> usize {
        self.decisions += 1;
        self.check_range(obs.public.players(), obs.public.cards());
        let seed = game::seeds::decision(self.seed, self.decisions);
        let mut obs = *obs;
        if self.rounds_only {
            obs.game = None;
        }
        match search_blocking(&obs, &self.params, &mut self.evaluator, seed) {
            Ok(result) => {
                self.last = Some(result.analysis(obs.public.players()));
                result.best_action()
            }
            // Only reachable for a seat not to act, which the arena never asks.
            Err(_) => obs.legal_actions().nth(0).unwrap_or(0),
        }
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn analysis(&self) -> Option<game::Analysis> {
        self.last.clone()
    }
}

/// Builds network agents for `net:CHECKPOINT[:PRESET]` specs, loading each checkpoint once;
/// or, made with [`NetFactory::in_memory`], from networks it was given, under names.
pub struct NetFactory<B: Backend = Cpu> {
    device: B::Device,
    /// Each network by path (or name).
    loaded: Mutex<HashMap<PathBuf, Loaded<B>>>,
    /// Whether a path it does not hold is read from disk.
    reads_files: bool,
    cache: CacheUse,
}

struct Loaded<B: Backend> {
    net: BlobNet<B>,
    /// Learnt from single rounds only.
    rounds_only: bool,
    /// What its self-play dealt, if its checkpoint says (networks in memory: not checked).
    range: Option<TrainingRange>,
    /// The cache every agent of this network shares ([`CacheUse::PerNetwork`]), made with
    /// the first such agent.
    cache: Option<Arc<EvalCache>>,
}

/// How the agents a factory builds cache their network's answers (`mcts::cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Each agent its own cache of so many entries: what an agent plays depends only on its
    /// own requests, so an arena's results do not depend on its threads. The arena's choice.
    PerAgent(usize),
    /// One cache of so many entries per network, shared by every agent built from it and
    /// kept between them: an engine's decisions in one game share it.
    PerNetwork(usize),
}

impl Default for NetFactory<Cpu> {
    fn default() -> Self {
        NetFactory::new(Default::default())
    }
}

impl<B: Backend> NetFactory<B> {
    /// Loads checkpoints from disk onto `device` as specs name them.
    pub fn new(device: B::Device) -> NetFactory<B> {
        NetFactory {
            device,
            loaded: Mutex::new(HashMap::new()),
            reads_files: true,
            cache: CacheUse::PerAgent(crate::config::DEFAULT_CACHE_ENTRIES),
        }
    }

    /// How the agents it builds cache their network's answers.
    pub fn with_cache(mut self, cache: CacheUse) -> NetFactory<B> {
        self.cache = cache;
        self
    }

    /// Serves only `nets` (name, network, learnt from rounds only), never a file: the
    /// training gate plays the networks it holds, whatever lies in the output folder.
    pub fn in_memory(
        device: B::Device,
        nets: impl IntoIterator<Item = (String, BlobNet<B>, bool)>,
    ) -> NetFactory<B> {
        let loaded = nets
            .into_iter()
            .map(|(name, net, rounds_only)| {
                let entry = Loaded {
                    net,
                    rounds_only,
                    range: None,
                    cache: None,
                };
                (PathBuf::from(name), entry)
            })
            .collect();
        NetFactory {
            device,
            loaded: Mutex::new(loaded),
            reads_files: false,
            cache: CacheUse::PerAgent(crate::config::DEFAULT_CACHE_ENTRIES),
        }
    }
}

impl<B: Backend> NetAgentFactory for NetFactory<B> {
    fn build(&self, path: &Path, preset: Preset, seed: u64) -> anyhow::Result<Box<dyn Player>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if !loaded.contains_key(path) {
            if !self.reads_files {
                anyhow::bail!("no network named {} in memory", path.display())
            }
            let (net, meta) = checkpoint::load_any::<B>(path, &self.device)?;
            let rounds_only = selfplay_mode(&meta) == Some(crate::selfplay::Mode::Rounds);
            let entry = Loaded {
                net,
                rounds_only,
                range: TrainingRange::from_metadata(&meta),
                cache: None,
            };
            loaded.insert(path.to_path_buf(), entry);
        }
        let entry = loaded.get_mut(path).expect("inserted above");
        let (net, rounds_only, range) = (entry.net.clone(), entry.rounds_only, entry.range.clone());
        let cache = match self.cache {
            CacheUse::PerAgent(n) => Arc::new(EvalCache::new(n)),
            CacheUse::PerNetwork(n) => entry
                .cache
                .get_or_insert_with(|| Arc::new(EvalCache::new(n)))
                .clone(),
        };
        // Bigger leaf batches than self-play: one network call serves more leaves.
        let params = preset.params().with_batch(8);
        Ok(Box::new(
            NetAgent::new(
                format!("net:{}", path.display()),
                net,
                self.device.clone(),
                params,
                seed,
                cache,
            )
            .rounds_only(rounds_only)
            .training_range(range),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selfplay::{DealConfig, Mode};
    use model::backend::{Cpu, CpuDevice};
    use model::config::NetConfig;

    #[test]
    fn being_seated_checks_the_training_range_before_any_decision() {
        let device = CpuDevice::default();
        let net = BlobNet::<Cpu>::new(&NetConfig::tiny(), &device).unwrap();
        let range = TrainingRange {
            mode: Mode::Rounds,
            deal: DealConfig::default(),
        };
        let mut agent = NetAgent::new(
            "net:test",
            net,
            device,
            SearchParams::new(1, 4),
            0,
            Arc::new(EvalCache::new(16)),
        )
        .training_range(Some(range));
        assert_eq!(agent.checked, None);
        agent.seated(8, 2);
        assert_eq!(
            agent.checked,
            Some((8, 2)),
            "checked on being seated, not at a move"
        );
        assert_eq!(agent.decisions, 0);
    }
}
