//! Every knob of the search in one struct, with the presets.

use std::fmt;
use std::str::FromStr;

/// Value given to a child not yet visited (first-play urgency).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fpu {
    /// A fixed value on the value scale, e.g. -1 (pessimistic) or 0.
    Absolute(f32),
    /// The parent's value for its mover minus this reduction times the square root of the
    /// prior mass already visited (lc0's rule).
    Reduction(f32),
}

/// A search's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchParams {
    /// Worlds (determinizations) sampled per decision.
    pub worlds: usize,
    /// Simulations per world. Each simulation adds one visit below the root.
    pub simulations: usize,
    /// Exploration constant of PUCT.
    pub c_puct: f32,
    pub fpu: Fpu,
    /// Leaves collected per tree before asking the evaluator (1 = unbatched).
    pub parallel_batch_size: usize,
    /// A tree never has more leaves in flight than this times its completed simulations
    /// (at least 1), so its batches grow with the evidence: 1, 1, 2, 4, ... up to
    /// `parallel_batch_size`. Without it a batch as large as the budget would be chosen from
    /// the priors alone and spread almost evenly by virtual loss.
    pub in_flight_ratio: f32,
    /// Virtual visits (each counted as a loss for the mover who chose the edge) put on the
    /// path of a leaf while its evaluation is pending.
    pub virtual_loss: f32,
    /// Also evaluate the searching seat's own observation at each leaf where another seat
    /// moves, and take the searcher's value from it. The mover's observation cannot see the
    /// searcher's hand, so its estimate of the searcher's value ignores it (one extra
    /// evaluation per such leaf; useless for rollouts, which see the whole world).
    pub searcher_values: bool,
    /// Root Dirichlet noise: concentration and weight (epsilon 0 = no noise).
    pub dirichlet_alpha: f32,
    pub dirichlet_epsilon: f32,
}

impl SearchParams {
    /// A preset with `worlds` x `simulations` and the default knobs.
    pub const fn new(worlds: usize, simulations: usize) -> SearchParams {
        SearchParams {
            worlds,
            simulations,
            c_puct: 1.5,
            fpu: Fpu::Reduction(0.2),
            parallel_batch_size: 8,
            in_flight_ratio: 1.0,
            virtual_loss: 1.0,
            searcher_values: true,
            dirichlet_alpha: 0.5,
            dirichlet_epsilon: 0.0,
        }
    }

    pub const LIGHT: SearchParams = SearchParams::new(2, 20);
    pub const MEDIUM: SearchParams = SearchParams::new(3, 30);
    pub const HEAVY: SearchParams = SearchParams::new(5, 50);

    /// Total simulations per decision.
    pub fn total_simulations(&self) -> usize {
        self.worlds * self.simulations
    }

    /// Same settings, with root noise for self-play.
    pub fn with_noise(mut self, alpha: f32, epsilon: f32) -> SearchParams {
        self.dirichlet_alpha = alpha;
        self.dirichlet_epsilon = epsilon;
        self
    }

    pub fn with_batch(mut self, parallel_batch_size: usize) -> SearchParams {
        self.parallel_batch_size = parallel_batch_size;
        self
    }

    /// Checks every knob, naming the first bad one.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let bad = |name: &'static str, why: String| Err(ParamsError { name, why });
        if self.worlds == 0 {
            return bad("worlds", "must be at least 1".into());
        }
        if self.simulations == 0 {
            return bad("simulations", "must be at least 1".into());
        }
        if self.parallel_batch_size == 0 {
            return bad("parallel_batch_size", "must be at least 1".into());
        }
        if !(self.c_puct.is_finite() && self.c_puct > 0.0) {
            return bad(
                "c_puct",
                format!("must be a positive number, not {}", self.c_puct),
            );
        }
        if !(self.in_flight_ratio.is_finite() && self.in_flight_ratio > 0.0) {
            return bad(
                "in_flight_ratio",
                format!("must be a positive number, not {}", self.in_flight_ratio),
            );
        }
        if !(self.virtual_loss.is_finite() && self.virtual_loss >= 0.0) {
            return bad(
                "virtual_loss",
                format!("must be >= 0, not {}", self.virtual_loss),
            );
        }
        if !(0.0..=1.0).contains(&self.dirichlet_epsilon) {
            return bad(
                "dirichlet_epsilon",
                format!("must lie in 0..=1, not {}", self.dirichlet_epsilon),
            );
        }
        if self.dirichlet_epsilon > 0.0
            && !(self.dirichlet_alpha.is_finite() && self.dirichlet_alpha > 0.0)
        {
            return bad(
                "dirichlet_alpha",
                format!("must be a positive number, not {}", self.dirichlet_alpha),
            );
        }
        match self.fpu {
            Fpu::Absolute(v) | Fpu::Reduction(v) if !v.is_finite() => {
                bad("fpu", format!("must be finite, not {v}"))
            }
            _ => Ok(()),
        }
    }
}

/// A search setting that cannot work.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("search parameter {name} {why}")]
pub struct ParamsError {
    pub name: &'static str,
    pub why: String,
}

/// A preset name: `light`, `medium`, `heavy`, or `WxS` (worlds x simulations per world).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub worlds: usize,
    pub simulations: usize,
}

impl Preset {
    pub fn params(self) -> SearchParams {
        SearchParams::new(self.worlds, self.simulations)
    }
}

impl FromStr for Preset {
    type Err = ParamsError;
    fn from_str(s: &str) -> Result<Preset, ParamsError> {
        let (worlds, simulations) = match s {
            "light" => (2, 20),
            "medium" => (3, 30),
            "heavy" => (5, 50),
            _ => {
                let parsed = s
                    .split_once('x')
                    .and_then(|(w, n)| Some((w.parse().ok()?, n.parse().ok()?)));
                match parsed {
                    Some((w, n)) if w > 0 && n > 0 => (w, n),
                    _ => {
                        return Err(ParamsError {
                            name: "preset",
                            why: format!(
                                "{s:?} is unknown: use light, medium, heavy or WxS like 3x30 (both at least 1)"
                            ),
                        });
                    }
                }
            }
        };
        Ok(Preset {
            worlds,
            simulations,
        })
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.worlds, self.simulations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse() {
        assert_eq!(
            "medium".parse::<Preset>().unwrap(),
            Preset {
                worlds: 3,
                simulations: 30
            }
        );
        assert_eq!(
            "4x25"
                .parse::<Preset>()
                .unwrap()
                .params()
                .total_simulations(),
            100
        );
        assert!("0x5".parse::<Preset>().is_err());
        assert!(
            "fast"
                .parse::<Preset>()
                .unwrap_err()
                .to_string()
                .contains("fast")
        );
    }

    #[test]
    fn validation_names_the_bad_knob() {
        assert!(SearchParams::MEDIUM.validate().is_ok());
        let mut p = SearchParams::MEDIUM;
        p.c_puct = f32::NAN;
        assert_eq!(p.validate().unwrap_err().name, "c_puct");
        let p = SearchParams::MEDIUM.with_batch(0);
        assert_eq!(p.validate().unwrap_err().name, "parallel_batch_size");
        let p = SearchParams::MEDIUM.with_noise(0.0, 0.25);
        assert_eq!(p.validate().unwrap_err().name, "dirichlet_alpha");
    }
}
