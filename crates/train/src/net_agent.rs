//! A network with a search, as a player: for the arena and for evaluation during training.
//! No noise, temperature 0: it plays the most visited move.

use burn::tensor::backend::Backend;
use game::Observation;
use mcts::{SearchParams, search_blocking};
use model::evaluator::DirectEvaluator;
use model::net::BlobNet;
use model::runner::NetRunner;
use model::server::BatchModel;

pub struct NetAgent<M: BatchModel> {
    name: String,
    evaluator: DirectEvaluator<M>,
    params: SearchParams,
    seed: u64,
    decisions: u64,
}

impl<B: Backend> NetAgent<NetRunner<B>>
where
    NetRunner<B>: BatchModel,
{
    pub fn new(
        name: impl Into<String>,
        net: BlobNet<B>,
        device: B::Device,
        params: SearchParams,
        seed: u64,
    ) -> Self {
        NetAgent {
            name: name.into(),
            evaluator: DirectEvaluator::new(NetRunner::new(net, device)),
            params,
            seed,
            decisions: 0,
        }
    }
}

impl<M: BatchModel> NetAgent<M> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The most visited action of a search from `obs` (which must be the seat to act).
    pub fn choose(&mut self, obs: &Observation) -> usize {
        self.decisions += 1;
        let seed = self.seed ^ self.decisions.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        match search_blocking(obs, &self.params, &mut self.evaluator, seed) {
            Ok(result) => result.best_action(),
            // Only reachable if asked for a seat not to act: fall back to a legal action.
            Err(_) => obs.legal_actions().nth(0).unwrap_or(0),
        }
    }
}
