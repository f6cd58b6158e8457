//! A network with a search, as a player: for the arena and for evaluation during training.
//! No noise, temperature 0: it plays the most visited move. Network agents run on the CPU.

use crate::agents::{Agent, NetAgentFactory};
use game::Observation;
use mcts::{Preset, SearchParams, search_blocking};
use model::backend::Cpu;
use model::checkpoint;
use model::evaluator::DirectEvaluator;
use model::net::BlobNet;
use model::runner::NetRunner;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct NetAgent {
    name: String,
    /// The network learnt from single rounds only: inside a game it plays each round for
    /// that round's score, seeing the round as a single round (a game's context would be
    /// input it never saw).
    rounds_only: bool,
    evaluator: DirectEvaluator<NetRunner<Cpu>>,
    params: SearchParams,
    seed: u64,
    decisions: u64,
}

impl NetAgent {
    pub fn new(
        name: impl Into<String>,
        net: BlobNet<Cpu>,
        params: SearchParams,
        seed: u64,
    ) -> NetAgent {
        NetAgent {
            name: name.into(),
            rounds_only: false,
            evaluator: DirectEvaluator::new(NetRunner::new(net, Default::default())),
            params,
            seed,
            decisions: 0,
        }
    }

    /// Plays every round of a game as a single round (see `rounds_only`).
    pub fn rounds_only(mut self, on: bool) -> NetAgent {
        self.rounds_only = on;
        self
    }
}

impl Agent for NetAgent {
    fn act(&mut self, obs: &Observation) -> usize {
        self.decisions += 1;
        let seed = game::seeds::decision(self.seed, self.decisions);
        let mut obs = *obs;
        if self.rounds_only {
            obs.game = None;
        }
        match search_blocking(&obs, &self.params, &mut self.evaluator, seed) {
            Ok(result) => result.best_action(),
            // Only reachable for a seat not to act, which the arena never asks.
            Err(_) => obs.legal_actions().nth(0).unwrap_or(0),
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Builds network agents for `net:CHECKPOINT[:PRESET]` specs, loading each checkpoint once.
#[derive(Default)]
pub struct NetFactory {
    /// Each checkpoint's network, and whether it learnt from single rounds only.
    loaded: Mutex<HashMap<PathBuf, (BlobNet<Cpu>, bool)>>,
}

impl NetAgentFactory for NetFactory {
    fn build(&self, path: &Path, preset: Preset, seed: u64) -> anyhow::Result<Box<dyn Agent>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let (net, rounds_only) = match loaded.get(path) {
            Some(entry) => entry.clone(),
            None => {
                let (net, meta) = checkpoint::load_any::<Cpu>(path, &Default::default())?;
                let rounds_only = meta.extra.get(crate::run::SELFPLAY_MODE)
                    == Some(&serde_json::json!(crate::selfplay::Mode::Rounds));
                loaded.insert(path.to_path_buf(), (net.clone(), rounds_only));
                (net, rounds_only)
            }
        };
        // Bigger leaf batches than self-play: one network call serves more leaves.
        let params = preset.params().with_batch(8);
        Ok(Box::new(
            NetAgent::new(format!("net:{}", path.display()), net, params, seed)
                .rounds_only(rounds_only),
        ))
    }
}
