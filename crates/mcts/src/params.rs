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

/// How the hidden cards are searched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SearchKind {
    /// A tree per sampled world, searched as if its cards were known (PIMC).
    #[default]
    Determinized,
    /// One tree over the searcher's information set, a fresh world every simulation
    /// (`crate::info_set`).
    InfoSet,
}

/// A search's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchParams {
    pub kind: SearchKind,
    /// Worlds (determinizations) sampled per decision. An information-set search samples a
    /// world per simulation and runs `worlds x simulations` simulations in one tree.
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
    /// Weight of one random playout from the leaf's world in each leaf's values (AlphaGo's
    /// mixing): `(1 - w) * evaluation + w * playout`. 0 uses the evaluator alone.
    pub rollout_mix: f32,
    /// Root Dirichlet noise: concentration and weight (epsilon 0 = no noise).
    pub dirichlet_alpha: f32,
    pub dirichlet_epsilon: f32,
    /// Search a decision with a single legal action too, spending the full budget below it
    /// (the peer's unit counted such decisions as searched); off, it is answered at once.
    pub search_single_action: bool,
}

impl SearchParams {
    /// A preset with `worlds` x `simulations` and the default knobs.
    pub const fn new(worlds: usize, simulations: usize) -> SearchParams {
        SearchParams {
            kind: SearchKind::Determinized,
            worlds,
            simulations,
            c_puct: 1.5,
            fpu: Fpu::Reduction(0.2),
            parallel_batch_size: 8,
            in_flight_ratio: 1.0,
            virtual_loss: 1.0,
            searcher_values: true,
            rollout_mix: 0.0,
            dirichlet_alpha: 0.5,
            dirichlet_epsilon: 0.0,
            search_single_action: false,
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
        if !(0.0..=1.0).contains(&self.rollout_mix) {
            return bad(
                "rollout_mix",
                format!("must lie in 0..=1, not {}", self.rollout_mix),
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

/// A preset name: `light`, `medium`, `heavy`, `WxS` (a determinized search of W worlds x S
/// simulations per world), or `isN` (an information-set search of N simulations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub kind: SearchKind,
    pub worlds: usize,
    pub simulations: usize,
}

/// Most simulations a preset may ask for per decision: far beyond any useful budget, low
/// enough that a typo cannot make one decision run for hours or exhaust memory.
pub const MAX_PRESET_SIMULATIONS: usize = 1_000_000;

impl Preset {
    pub fn params(self) -> SearchParams {
        let mut p = SearchParams::new(self.worlds, self.simulations);
        p.kind = self.kind;
        p
    }
}

impl FromStr for Preset {
    type Err = ParamsError;
    fn from_str(s: &str) -> Result<Preset, ParamsError> {
        let bad = || ParamsError {
            name: "preset",
            why: format!(
                "{s:?} is unknown: use light, medium, heavy, WxS like 3x30 or isN like is40 \
                 (counts at least 1, at most {MAX_PRESET_SIMULATIONS} simulations in all)"
            ),
        };
        let (kind, worlds, simulations) = match s {
            "light" => (SearchKind::Determinized, 2, 20),
            "medium" => (SearchKind::Determinized, 3, 30),
            "heavy" => (SearchKind::Determinized, 5, 50),
            _ => match s.strip_prefix("is") {
                Some(n) => (
                    SearchKind::InfoSet,
                    1,
                    n.parse::<usize>().map_err(|_| bad())?,
                ),
                None => {
                    let (w, n) = s.split_once('x').ok_or_else(bad)?;
                    let w = w.parse::<usize>().map_err(|_| bad())?;
                    let n = n.parse::<usize>().map_err(|_| bad())?;
                    (SearchKind::Determinized, w, n)
                }
            },
        };
        if worlds == 0
            || simulations == 0
            || worlds.saturating_mul(simulations) > MAX_PRESET_SIMULATIONS
        {
            return Err(bad());
        }
        Ok(Preset {
            kind,
            worlds,
            simulations,
        })
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SearchKind::Determinized => write!(f, "{}x{}", self.worlds, self.simulations),
            SearchKind::InfoSet => write!(f, "is{}", self.worlds * self.simulations),
        }
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
                kind: SearchKind::Determinized,
                worlds: 3,
                simulations: 30
            }
        );
        let is = "is40".parse::<Preset>().unwrap();
        assert_eq!(is.kind, SearchKind::InfoSet);
        assert_eq!(is.params().total_simulations(), 40);
        assert_eq!(is.to_string(), "is40");
        assert_eq!("2x20".parse::<Preset>().unwrap().to_string(), "2x20");
        for bad in ["is0", "is", "isx", "2000x2000", "1x", "x1", "1x2x3"] {
            assert!(bad.parse::<Preset>().is_err(), "{bad}");
        }
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
