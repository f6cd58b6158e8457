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
            evaluator: DirectEvaluator::new(NetRunner::new(net, Default::default())),
            params,
            seed,
            decisions: 0,
        }
    }
}

impl Agent for NetAgent {
    fn act(&mut self, obs: &Observation) -> usize {
        self.decisions += 1;
        let seed = self.seed ^ self.decisions.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        match search_blocking(obs, &self.params, &mut self.evaluator, seed) {
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
    loaded: Mutex<HashMap<PathBuf, BlobNet<Cpu>>>,
}

impl NetAgentFactory for NetFactory {
    fn build(&self, path: &Path, preset: Preset, seed: u64) -> anyhow::Result<Box<dyn Agent>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let net = match loaded.get(path) {
            Some(net) => net.clone(),
            None => {
                let (net, _) = checkpoint::load_any::<Cpu>(path, &Default::default())?;
                loaded.insert(path.to_path_buf(), net.clone());
                net
            }
        };
        // Bigger leaf batches than self-play: one network call serves more leaves.
        let mut params = preset.params().with_batch(8);
        if let Some(w) = std::env::var("BLOB_ROLLOUT_MIX").ok().and_then(|v| v.parse().ok()) {
            params.rollout_mix = w;
        }
        if let Some(w) = std::env::var("BLOB_CPUCT").ok().and_then(|v| v.parse().ok()) {
            params.c_puct = w;
        }
        if let Some(w) = std::env::var("BLOB_FPU").ok().and_then(|v| v.parse().ok()) {
            params.fpu = mcts::Fpu::Reduction(w);
        }
        Ok(Box::new(NetAgent::new(
            format!("net:{}", path.display()),
            net,
            params,
            seed,
        )))
    }
}
