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
    /// The mover's mean value of each root action over its visits (0 where unvisited).
    pub q: [f32; NUM_ACTIONS],
    /// The evaluator's prior of each root action, before any root noise.
    pub priors: [f32; NUM_ACTIONS],
    /// Deepest leaf reached and the sum of leaf depths (mean = sum / simulations).
    pub max_depth: u32,
    pub depth_sum: u64,
}

impl SearchResult {
    /// The search's policy (visit shares of the actions it visited) and root values for a
    /// table of `players`: what an engine reports beside its move.
    pub fn analysis(&self, players: usize) -> game::Analysis {
        let total: u32 = self.visits.iter().sum();
        game::Analysis {
            policy: (0..NUM_ACTIONS)
                .filter(|&a| self.visits[a] > 0)
                .map(|a| (a, self.visits[a] as f32 / total.max(1) as f32))
                .collect(),
            values: self.root_values[..players].to_vec(),
            simulations: self.simulations as u64,
        }
    }

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
            q: [0.0; NUM_ACTIONS],
            priors: visits.map(|v| v as f32),
            max_depth: 0,
            depth_sum: 0,
        }
    }

    /// The policy improved by the search's values (Gumbel MuZero's completed-Q target,
    /// Danihelka et al. 2022): `softmax(log prior + sigma(q))` over the actions with a prior,
    /// where unvisited actions take the mover's root value in place of a Q, values are mapped
    /// from -1..1 to 0..1, and `sigma(q) = (c_visit + max visits) * c_scale * q`. Unlike visit
    /// counts it keeps improving on the prior at small budgets.
    pub fn improved_policy(&self, mover: usize, c_visit: f32, c_scale: f32) -> [f32; NUM_ACTIONS] {
        if !self.searched {
            return self.policy();
        }
        let max_visits = *self.visits.iter().max().unwrap_or(&0) as f32;
        let sigma = (c_visit + max_visits) * c_scale;
        let fallback = self.root_values[mover];
        let mut logits = [f32::NEG_INFINITY; NUM_ACTIONS];
        let mut best = f32::NEG_INFINITY;
        for (a, logit) in logits.iter_mut().enumerate() {
            if self.priors[a] > 0.0 {
                let q = if self.visits[a] > 0 {
                    self.q[a]
                } else {
                    fallback
                };
                *logit = self.priors[a].ln() + sigma * (q + 1.0) / 2.0;
                best = best.max(*logit);
            }
        }
        let mut p = [0.0; NUM_ACTIONS];
        if best.is_finite() {
            let mut sum = 0.0;
            for a in 0..NUM_ACTIONS {
                if logits[a].is_finite() {
                    p[a] = (logits[a] - best).exp();
                    sum += p[a];
                }
            }
            p.iter_mut().for_each(|x| *x /= sum);
        }
        p
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

#[cfg(test)]
mod tests {
    use super::*;

    fn result(priors: &[(usize, f32)], visits: &[(usize, u32, f32)], root: f32) -> SearchResult {
        let mut r = SearchResult {
            visits: [0; NUM_ACTIONS],
            searched: true,
            simulations: visits.iter().map(|v| v.1).sum(),
            evaluations: 0,
            root_values: [0.0; MAX_PLAYERS],
            q: [0.0; NUM_ACTIONS],
            priors: [0.0; NUM_ACTIONS],
            max_depth: 1,
            depth_sum: 0,
        };
        r.root_values[2] = root;
        for &(a, p) in priors {
            r.priors[a] = p;
        }
        for &(a, n, q) in visits {
            r.visits[a] = n;
            r.q[a] = q;
        }
        r
    }

    #[test]
    fn improved_policy_moves_the_prior_towards_better_values() {
        // Equal values everywhere: the prior comes back.
        let flat = result(
            &[(3, 0.5), (7, 0.3), (9, 0.2)],
            &[(3, 5, 0.1), (7, 5, 0.1)],
            0.1,
        );
        let p = flat.improved_policy(2, 50.0, 0.1);
        for (a, want) in [(3, 0.5), (7, 0.3), (9, 0.2)] {
            assert!((p[a] - want).abs() < 1e-5, "{a}: {} vs {want}", p[a]);
        }
        // The action with the better value gains, the worse one loses, mass only on actions
        // with a prior.
        let r = result(
            &[(3, 0.5), (7, 0.3), (9, 0.2)],
            &[(3, 8, -0.2), (7, 2, 0.6)],
            0.0,
        );
        let p = r.improved_policy(2, 50.0, 0.1);
        assert!(p[7] > 0.3 && p[3] < 0.5, "{:?}", (p[3], p[7], p[9]));
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(
            p.iter()
                .enumerate()
                .all(|(a, &x)| x == 0.0 || [3, 7, 9].contains(&a))
        );
        // Stronger scaling, sharper preference.
        let sharp = r.improved_policy(2, 50.0, 1.0);
        assert!(sharp[7] > p[7]);
    }

    #[test]
    fn a_forced_move_keeps_its_single_action() {
        let f = SearchResult::forced(4);
        let p = f.improved_policy(0, 50.0, 0.1);
        assert_eq!(p[4], 1.0);
        assert_eq!(p.iter().sum::<f32>(), 1.0);
    }
}
