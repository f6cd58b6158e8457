//! Elo ratings from pairwise results: a Bradley-Terry model fitted by maximum a posteriori.
//!
//! Model: agent `i` scores against `j` with probability `1 / (1 + 10^(-(R_i - R_j) / 400))`
//! (a draw counts half a win for each side). The ratings maximise the likelihood of all the
//! recorded results plus a weak Gaussian prior, every rating drawn from N(1500, 400²): without
//! it an agent that never lost would have an infinite rating. The prior also anchors the scale:
//! the likelihood's gradient sums to zero over the agents, so at the optimum the ratings
//! average exactly 1500.

use std::f64::consts::LN_10;

/// The mean of the fitted ratings.
pub const ELO_MEAN: f64 = 1500.0;
/// Standard deviation of the prior, in Elo points. Weak: 1,000 results between two agents
/// move their gap by less than 0.1%.
pub const PRIOR_SD_ELO: f64 = 400.0;
/// Elo points per natural-log unit of the odds.
const ELO_PER_NAT: f64 = 400.0 / LN_10;

/// The result of one comparison, from the first agent's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Win,
    Draw,
    Loss,
}

impl Outcome {
    /// Points for the first agent: 1, 1/2 or 0.
    pub fn points(self) -> f64 {
        match self {
            Outcome::Win => 1.0,
            Outcome::Draw => 0.5,
            Outcome::Loss => 0.0,
        }
    }

    /// Compares two scores (higher is better).
    pub fn of<T: PartialOrd>(mine: T, theirs: T) -> Outcome {
        if mine > theirs {
            Outcome::Win
        } else if mine < theirs {
            Outcome::Loss
        } else {
            Outcome::Draw
        }
    }
}

/// Results between `n` agents: for each ordered pair, the games played and the points taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairwise {
    n: usize,
    games: Vec<f64>,
    points: Vec<f64>,
}

impl Pairwise {
    pub fn new(agents: usize) -> Pairwise {
        Pairwise {
            n: agents,
            games: vec![0.0; agents * agents],
            points: vec![0.0; agents * agents],
        }
    }

    pub fn agents(&self) -> usize {
        self.n
    }

    /// Records one comparison of `i` against `j` (`outcome` from `i`'s side).
    ///
    /// Panics if `i == j` or either is not an agent (a caller's bug, not bad input).
    pub fn record(&mut self, i: usize, j: usize, outcome: Outcome) {
        assert!(
            i != j && i < self.n && j < self.n,
            "no pair ({i}, {j}) among {} agents",
            self.n
        );
        let p = outcome.points();
        self.games[i * self.n + j] += 1.0;
        self.games[j * self.n + i] += 1.0;
        self.points[i * self.n + j] += p;
        self.points[j * self.n + i] += 1.0 - p;
    }

    /// Comparisons between `i` and `j`.
    pub fn games(&self, i: usize, j: usize) -> f64 {
        self.games[i * self.n + j]
    }

    /// Points `i` took from `j`.
    pub fn points(&self, i: usize, j: usize) -> f64 {
        self.points[i * self.n + j]
    }
}

/// Expected points of a player rated `a` against one rated `b`.
pub fn expected_score(a: f64, b: f64) -> f64 {
    1.0 / (1.0 + 10f64.powf((b - a) / 400.0))
}

/// The maximum a posteriori Elo ratings of the agents of `results` (mean exactly
/// [`ELO_MEAN`]), with a Gaussian prior of standard deviation [`PRIOR_SD_ELO`].
pub fn fit_elo(results: &Pairwise) -> Vec<f64> {
    fit_elo_with_prior(results, PRIOR_SD_ELO)
}

/// [`fit_elo`] with another prior width (`prior_sd_elo` > 0; smaller pulls harder to 1500).
pub fn fit_elo_with_prior(results: &Pairwise, prior_sd_elo: f64) -> Vec<f64> {
    assert!(prior_sd_elo > 0.0, "the prior needs a positive width");
    let precision = (ELO_PER_NAT / prior_sd_elo).powi(2);
    let theta = newton(results, precision);
    // The optimum has mean 0 exactly; remove rounding drift so the anchor holds to the digit.
    let mean = theta.iter().sum::<f64>() / theta.len().max(1) as f64;
    theta
        .iter()
        .map(|t| ELO_MEAN + (t - mean) * ELO_PER_NAT)
        .collect()
}

/// ln(1 + e^x), finite for any finite x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Log posterior of strengths `theta` (natural-log odds units), up to a constant.
fn log_posterior(r: &Pairwise, precision: f64, theta: &[f64]) -> f64 {
    let n = r.n;
    let mut sum = 0.0;
    for i in 0..n {
        for j in 0..n {
            let w = r.points(i, j);
            if i != j && w > 0.0 {
                // ln sigmoid(d) = -softplus(-d).
                sum -= w * softplus(theta[j] - theta[i]);
            }
        }
        sum -= 0.5 * precision * theta[i] * theta[i];
    }
    sum
}

/// Newton's method with backtracking on the concave log posterior: quadratic convergence,
/// and the prior keeps the Hessian negative definite.
fn newton(r: &Pairwise, precision: f64) -> Vec<f64> {
    let n = r.n;
    let mut theta = vec![0.0; n];
    for _ in 0..200 {
        let mut grad = vec![0.0; n];
        // The negated Hessian, row-major.
        let mut h = vec![0.0; n * n];
        for i in 0..n {
            grad[i] -= precision * theta[i];
            h[i * n + i] += precision;
            for j in 0..n {
                let g = r.games(i, j);
                if i == j || g == 0.0 {
                    continue;
                }
                let p = sigmoid(theta[i] - theta[j]);
                grad[i] += r.points(i, j) - g * p;
                let c = g * p * (1.0 - p);
                h[i * n + i] += c;
                h[i * n + j] -= c;
            }
        }
        let step = solve_spd(&mut h, &grad, n);
        let before = log_posterior(r, precision, &theta);
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = theta.iter().zip(&step).map(|(x, d)| x + t * d).collect();
            if log_posterior(r, precision, &trial) >= before - 1e-12 || t < 1e-6 {
                theta = trial;
                break;
            }
            t *= 0.5;
        }
        if step.iter().all(|d| (t * d).abs() < 1e-12) {
            break;
        }
    }
    theta
}

/// Solves `a x = b` for a symmetric positive definite `a` (n x n, overwritten) by Cholesky.
fn solve_spd(a: &mut [f64], b: &[f64], n: usize) -> Vec<f64> {
    // Lower factor L in place: a = L L^T.
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        let d = d.max(f64::MIN_POSITIVE).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // L y = b, then L^T x = y.
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| a[i * n + k] * y[k]).sum();
        y[i] = (b[i] - s) / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[k * n + i] * x[k]).sum();
        x[i] = (y[i] - s) / a[i * n + i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_many(r: &mut Pairwise, i: usize, j: usize, outcome: Outcome, times: usize) {
        for _ in 0..times {
            r.record(i, j, outcome);
        }
    }

    #[test]
    fn three_to_one_is_about_191_elo() {
        let mut r = Pairwise::new(2);
        record_many(&mut r, 0, 1, Outcome::Win, 3000);
        record_many(&mut r, 0, 1, Outcome::Loss, 1000);
        let e = fit_elo(&r);
        // 400 log10(3) = 190.85; the prior shrinks it by well under a point at 4,000 results.
        let gap = e[0] - e[1];
        assert!((gap - 190.85).abs() < 0.5, "gap {gap}");
        assert!((expected_score(e[0], e[1]) - 0.75).abs() < 0.001);
    }

    #[test]
    fn symmetric_results_give_equal_ratings_at_the_anchor() {
        let mut r = Pairwise::new(3);
        for (i, j) in [(0, 1), (1, 2), (2, 0)] {
            record_many(&mut r, i, j, Outcome::Win, 10);
            record_many(&mut r, i, j, Outcome::Draw, 4);
            record_many(&mut r, i, j, Outcome::Loss, 10);
        }
        for e in fit_elo(&r) {
            assert!((e - ELO_MEAN).abs() < 1e-9, "{e}");
        }
    }

    #[test]
    fn draws_count_half() {
        // 2 wins + 2 draws of 4 = 75% of the points.
        let mut r = Pairwise::new(2);
        record_many(&mut r, 0, 1, Outcome::Win, 2000);
        record_many(&mut r, 0, 1, Outcome::Draw, 2000);
        let e = fit_elo(&r);
        assert!((e[0] - e[1] - 190.85).abs() < 0.5);
    }

    #[test]
    fn undefeated_stays_finite_and_mean_is_anchored() {
        let mut r = Pairwise::new(3);
        record_many(&mut r, 0, 1, Outcome::Win, 500);
        record_many(&mut r, 0, 2, Outcome::Win, 500);
        record_many(&mut r, 1, 2, Outcome::Win, 300);
        record_many(&mut r, 1, 2, Outcome::Loss, 200);
        let e = fit_elo(&r);
        assert!(e.iter().all(|x| x.is_finite()), "{e:?}");
        assert!(e[0] > e[1] && e[1] > e[2], "{e:?}");
        // Never lost, yet the prior holds it within a few prior widths.
        assert!(e[0] - e[2] < 4.0 * PRIOR_SD_ELO, "{e:?}");
        let mean = e.iter().sum::<f64>() / 3.0;
        assert!((mean - ELO_MEAN).abs() < 1e-9);
        // 60% between 1 and 2: about 70 Elo.
        assert!((e[1] - e[2] - 70.4).abs() < 5.0, "{e:?}");
    }

    #[test]
    fn a_tighter_prior_pulls_towards_the_mean() {
        let mut r = Pairwise::new(2);
        record_many(&mut r, 0, 1, Outcome::Win, 8);
        record_many(&mut r, 0, 1, Outcome::Loss, 2);
        let wide = fit_elo_with_prior(&r, 1e6);
        let tight = fit_elo_with_prior(&r, 50.0);
        // Without a prior, 80% is 400 log10(4) = 240.8.
        assert!((wide[0] - wide[1] - 240.8).abs() < 0.5, "{wide:?}");
        assert!(tight[0] - tight[1] < 100.0, "{tight:?}");
    }

    #[test]
    fn no_results_give_the_anchor() {
        assert_eq!(fit_elo(&Pairwise::new(2)), vec![ELO_MEAN, ELO_MEAN]);
        assert!(fit_elo(&Pairwise::new(0)).is_empty());
    }
}
