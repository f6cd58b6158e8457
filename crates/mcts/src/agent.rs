//! Simple callers: a blocking search, and the network-free baseline agent.

use crate::evaluator::{Evaluation, Evaluator, RolloutEvaluator};
use crate::params::SearchParams;
use crate::result::SearchResult;
use crate::search::{Search, SearchError, Step};
use game::Observation;

/// Runs a search to the end, sending each batch of requests to `evaluator`.
pub fn search_blocking<E: Evaluator + ?Sized>(
    obs: &Observation,
    params: &SearchParams,
    evaluator: &mut E,
    seed: u64,
) -> Result<SearchResult, SearchError> {
    Ok(run_to_end(Search::new(obs, params, seed)?, evaluator))
}

/// Drives an already built search to the end.
pub fn run_to_end<E: Evaluator + ?Sized>(mut search: Search, evaluator: &mut E) -> SearchResult {
    let mut answers: Vec<Evaluation> = Vec::new();
    loop {
        match search.step(&answers) {
            Step::Done(result) => return result,
            Step::NeedEval(requests) => evaluator.evaluate(requests, &mut answers),
        }
    }
}

/// Classic determinized MCTS without a network: the same search driven by random rollouts,
/// with a budget in simulations per decision.
#[derive(Clone, Debug)]
pub struct RolloutAgent {
    params: SearchParams,
    evaluator: RolloutEvaluator,
    seed: u64,
    decisions: u64,
    name: String,
    last: Option<game::Analysis>,
}

impl RolloutAgent {
    /// A budget of `simulations` per decision, spread over `worlds(simulations)` worlds.
    pub fn new(simulations: usize, seed: u64) -> RolloutAgent {
        let worlds = Self::worlds_for(simulations);
        let per_world = simulations.div_ceil(worlds).max(1);
        let mut params = SearchParams::new(worlds, per_world).with_batch(1);
        // A rollout plays the whole world: its values already see every hand.
        params.searcher_values = false;
        RolloutAgent {
            params,
            evaluator: RolloutEvaluator::new(seed),
            seed,
            decisions: 0,
            name: format!("rollout:{simulations}"),
            last: None,
        }
    }

    /// Worlds for a budget: about sqrt(budget / 4), between 1 and 16, so small budgets still
    /// search each world a little and large ones see many deals.
    pub fn worlds_for(simulations: usize) -> usize {
        (((simulations as f64) / 4.0).sqrt().round() as usize).clamp(1, 16)
    }

    pub fn params(&self) -> &SearchParams {
        &self.params
    }

    /// Searches the decision of `obs`'s seat and returns the most visited action, or why
    /// `obs` is no decision of its seat.
    pub fn try_act(&mut self, obs: &Observation) -> Result<usize, SearchError> {
        self.decisions += 1;
        let seed = game::seeds::decision(self.seed, self.decisions);
        let result = search_blocking(obs, &self.params, &mut self.evaluator, seed)?;
        self.last = Some(result.analysis(obs.public.players()));
        Ok(result.best_action())
    }
}

/// The `game::Player` of a network-free search agent with `try_act`, `name` and `last`
/// fields: one body for `RolloutAgent` and `IsmctsAgent`.
macro_rules! player_of_search_agent {
    ($agent:ty) => {
        impl game::Player for $agent {
            fn act(&mut self, obs: &game::Observation) -> usize {
                // Only fails when asked out of turn, which the contract of `act` rules out.
                self.try_act(obs)
                    .unwrap_or_else(|e| panic!("{} asked to act where it cannot: {e}", self.name))
            }

            fn name(&self) -> &str {
                &self.name
            }

            fn analysis(&self) -> Option<game::Analysis> {
                self.last.clone()
            }
        }
    };
}
pub(crate) use player_of_search_agent;

player_of_search_agent!(RolloutAgent);
