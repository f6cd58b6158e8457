//! What a search returns, and how a move is chosen from it.

use game::{MAX_PLAYERS, NUM_ACTIONS};
use rand::{Rng, RngExt};

/// The outcome of one decision's search.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchResult {
    /// Root visits per action, summed over worlds (the search policy before normalising).
    pub visits: [u32; NUM_ACTIONS],
    /// False when the position had a single legal action and was played without search.
    pub searched: bool,
    /// Simulations run (equals the sum of `visits` for a fresh search).
    pub simulations: u32,
    /// Evaluator requests made (roots included).
    pub evaluations: u32,
    /// Mean value per absolute seat at the roots, over worlds.
    pub root_values: [f32; MAX_PLAYERS],
    /// Deepest leaf reached and the sum of leaf depths (mean = sum / simulations).
    pub max_depth: u32,
    pub depth_sum: u64,
}

impl SearchResult {
    /// A decision with one legal action: no search, all weight on it.
    pub(crate) fn forced(action: usize) -> SearchResult {
        let mut visits = [0; NUM_ACTIONS];
        visits[action] = 1;
        SearchResult {
            visits,
            searched: false,
            simulations: 0,
            evaluations: 0,
            root_values: [0.0; MAX_PLAYERS],
            max_depth: 0,
            depth_sum: 0,
        }
    }

    /// Visit counts normalised to a distribution over actions.
    pub fn policy(&self) -> [f32; NUM_ACTIONS] {
        let total: u32 = self.visits.iter().sum();
        let mut p = [0.0; NUM_ACTIONS];
        if total > 0 {
            for (p, &v) in p.iter_mut().zip(&self.visits) {
                *p = v as f32 / total as f32;
            }
        }
        p
    }

    /// The most visited action (the lowest index among equals).
    pub fn best_action(&self) -> usize {
        let mut best = 0;
        for (a, &v) in self.visits.iter().enumerate() {
            if v > self.visits[best] {
                best = a;
            }
        }
        best
    }

    pub fn mean_depth(&self) -> f64 {
        if self.simulations == 0 {
            0.0
        } else {
            self.depth_sum as f64 / self.simulations as f64
        }
    }

    /// Picks an action from visits^(1/temperature); temperature 0 is the most visited action.
    pub fn sample_action<R: Rng + ?Sized>(&self, temperature: f32, rng: &mut R) -> usize {
        if temperature <= 0.0 {
            return self.best_action();
        }
        let max = *self.visits.iter().max().unwrap_or(&0) as f64;
        if max == 0.0 {
            return self.best_action();
        }
        let inv_t = 1.0 / temperature as f64;
        let weights: Vec<f64> = self
            .visits
            .iter()
            .map(|&v| (v as f64 / max).powf(inv_t))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut pick = rng.random_range(0.0..total);
        for (a, w) in weights.iter().enumerate() {
            if pick < *w {
                return a;
            }
            pick -= w;
        }
        self.best_action()
    }
}

/// Move temperature by decision number within a round: `initial` for the first `moves`
/// decisions of each seat, then `after` (0 = play the most visited move).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TemperatureSchedule {
    pub initial: f32,
    pub moves: usize,
    pub after: f32,
}

impl TemperatureSchedule {
    pub const GREEDY: TemperatureSchedule = TemperatureSchedule {
        initial: 0.0,
        moves: 0,
        after: 0.0,
    };

    pub fn at(&self, decision: usize) -> f32 {
        if decision < self.moves {
            self.initial
        } else {
            self.after
        }
    }
}
