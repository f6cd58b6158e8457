//! The arena's figures: per agent mean score per round with a 95% confidence interval,
//! bids made, pairwise results and Elo ratings.

use super::{ArenaConfig, Format, TableResult};
use crate::ratings::{Outcome, Pairwise, fit_elo};
use serde::Serialize;
use std::fmt::Write as _;

/// One agent's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgentStats {
    /// The spec, with `#2`, `#3`... on repeats of the same spec.
    pub name: String,
    /// Mean points per round: the mean over deals of the agent's mean in each deal.
    pub mean_score: f64,
    /// Half-width of the 95% confidence interval of `mean_score` (1.96 standard errors over
    /// the per-deal means); `None` with a single deal.
    pub ci95: Option<f64>,
    /// Share of its rounds whose bid it made.
    pub bid_made_rate: f64,
    /// Elo rating from the pairwise results; the agents average 1500.
    pub rating: f64,
    /// Rounds it played (over all seats and tables).
    pub rounds_played: u64,
    /// Comparisons with the other agents at its tables (per pair of seats).
    pub pair_wins: u64,
    pub pair_draws: u64,
    pub pair_losses: u64,
    /// Games mode: games played (one per seat held) and won (top total, ties included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub games_played: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub games_won: Option<u64>,
}

/// What an arena run found. `rounds` and `agents` come first in the JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArenaReport {
    /// Distinct rounds dealt (each played at every table of its deal): deals in rounds mode,
    /// the games' rounds in games mode.
    pub rounds: usize,
    pub agents: Vec<AgentStats>,
    /// `rounds` or `games`.
    pub mode: String,
    /// Games mode: distinct games (each played at every table of its deal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub games: Option<usize>,
    /// Tables played in all: deals (or games) times `tables_per_deal`.
    pub tables: usize,
    /// Tables (seatings) each deal is played at: N! for N <= 4 agents (every ordering), N
    /// beyond (one random ordering, rotated).
    pub tables_per_deal: usize,
    pub seed: u64,
    /// Whether every ordering of the agents was seated (else a random one per deal, rotated).
    #[serde(skip)]
    pub all_orderings: bool,
    /// Per agent, its mean score per round in each deal (or game), in deal order: what
    /// paired comparisons are computed from.
    #[serde(skip)]
    pub deal_means: Vec<Vec<f64>>,
}

/// Report names: the specs, numbered from the second copy on so each name is unique.
fn names(cfg: &ArenaConfig) -> Vec<String> {
    let specs = &cfg.agents;
    (0..specs.len())
        .map(
            |i| match specs[..i].iter().filter(|s| **s == specs[i]).count() {
                0 => specs[i].to_string(),
                earlier => format!("{}#{}", specs[i], earlier + 1),
            },
        )
        .collect()
}

/// Mean and 95% half-width (normal approximation) of `xs`; no half-width under 2 values.
pub fn mean_ci95(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, Some(1.96 * (var / n).sqrt()))
}

impl ArenaReport {
    /// Builds the report from each deal's tables (in deal order).
    pub(crate) fn from_tables(cfg: &ArenaConfig, units: &[Vec<TableResult>]) -> ArenaReport {
        let n = cfg.agents.len();
        let mut deal_means: Vec<Vec<f64>> = vec![Vec::with_capacity(units.len()); n];
        let (mut rounds, mut made) = (vec![0u64; n], vec![0u64; n]);
        // Per agent: pairwise wins, draws, losses.
        let mut wdl = vec![[0u64; 3]; n];
        let (mut played, mut won) = (vec![0u64; n], vec![0u64; n]);
        let mut pairs = Pairwise::new(n);
        for tables in units {
            let (mut points, mut unit_rounds) = (vec![0u64; n], vec![0u64; n]);
            for t in tables {
                for (s, &a) in t.seating.iter().enumerate() {
                    points[a] += t.totals[s] as u64;
                    unit_rounds[a] += t.rounds as u64;
                    made[a] += t.made[s] as u64;
                    if let Some(w) = &t.won {
                        played[a] += 1;
                        won[a] += w[s] as u64;
                    }
                    // Every pair of seats held by different agents is one comparison.
                    for (u, &b) in t.seating.iter().enumerate().skip(s + 1) {
                        if a == b {
                            continue;
                        }
                        let outcome = Outcome::of(t.totals[s], t.totals[u]);
                        pairs.record(a, b, outcome);
                        let k = match outcome {
                            Outcome::Win => 0,
                            Outcome::Draw => 1,
                            Outcome::Loss => 2,
                        };
                        wdl[a][k] += 1;
                        wdl[b][2 - k] += 1;
                    }
                }
            }
            // The rounds of one deal share its cards, so they are not independent: the
            // confidence interval is computed over per-deal means, which are.
            for a in 0..n {
                if unit_rounds[a] > 0 {
                    deal_means[a].push(points[a] as f64 / unit_rounds[a] as f64);
                }
                rounds[a] += unit_rounds[a];
            }
        }
        let ratings = fit_elo(&pairs);
        let games_mode = matches!(cfg.format, Format::Games { .. });
        let agents = names(cfg)
            .into_iter()
            .enumerate()
            .map(|(a, name)| {
                let (mean_score, ci95) = mean_ci95(&deal_means[a]);
                AgentStats {
                    name,
                    mean_score,
                    ci95,
                    bid_made_rate: made[a] as f64 / rounds[a].max(1) as f64,
                    rating: ratings[a],
                    rounds_played: rounds[a],
                    pair_wins: wdl[a][0],
                    pair_draws: wdl[a][1],
                    pair_losses: wdl[a][2],
                    games_played: games_mode.then_some(played[a]),
                    games_won: games_mode.then_some(won[a]),
                }
            })
            .collect();
        let distinct_rounds = units
            .iter()
            .map(|t| t.first().map_or(0, |t| t.rounds as usize))
            .sum();
        ArenaReport {
            rounds: distinct_rounds,
            agents,
            mode: if games_mode { "games" } else { "rounds" }.into(),
            games: games_mode.then_some(units.len()),
            tables: units.iter().map(Vec::len).sum(),
            tables_per_deal: cfg.tables_per_deal(),
            seed: cfg.seed,
            all_orderings: cfg.plays_all_orderings(),
            deal_means,
        }
    }

    /// Agent `a`'s mean score per round minus agent `b`'s, paired by deal, with the
    /// half-width of its 95% interval (`None` with fewer than two deals).
    pub fn paired_difference(&self, a: usize, b: usize) -> (f64, Option<f64>) {
        let diffs: Vec<f64> = self.deal_means[a]
            .iter()
            .zip(&self.deal_means[b])
            .map(|(x, y)| x - y)
            .collect();
        mean_ci95(&diffs)
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the report is plain data")
    }

    /// A readable table, best rating first.
    pub fn table(&self) -> String {
        let mut order: Vec<&AgentStats> = self.agents.iter().collect();
        order.sort_by(|a, b| b.rating.total_cmp(&a.rating));
        let width = order.iter().map(|a| a.name.len()).max().unwrap_or(5).max(5);
        let games = self.games.is_some();
        let mut out = String::new();
        let what = match self.games {
            Some(g) => format!("{g} games ({} rounds)", self.rounds),
            None => format!("{} deals", self.rounds),
        };
        let design = if self.all_orderings {
            "every ordering of the agents"
        } else {
            "a random ordering of the agents, rotated"
        };
        let _ = writeln!(
            out,
            "{what} x {} tables ({design}) = {} tables, seed {}",
            self.tables_per_deal, self.tables, self.seed
        );
        let _ = write!(
            out,
            "{:<width$}  {:>16}  {:>9}  {:>7}  {:>20}",
            "agent", "score/round ±95%", "bids made", "rating", "pairs won-drawn-lost"
        );
        if games {
            let _ = write!(out, "  {:>11}", "games won");
        }
        out.push('\n');
        for a in order {
            let ci = a.ci95.map_or("-".to_string(), |c| format!("{c:.2}"));
            let score = format!("{:.2} ± {ci}", a.mean_score);
            let pairs = format!("{}-{}-{}", a.pair_wins, a.pair_draws, a.pair_losses);
            let _ = write!(
                out,
                "{:<width$}  {:>16}  {:>8.1}%  {:>7.0}  {:>20}",
                a.name,
                score,
                100.0 * a.bid_made_rate,
                a.rating,
                pairs
            );
            if let (Some(w), Some(p)) = (a.games_won, a.games_played) {
                let _ = write!(out, "  {:>11}", format!("{w}/{p}"));
            }
            out.push('\n');
        }
        // The first agent against each other one, paired by deal: the figure that decides
        // whether it is better (the intervals above overlap far more than this one does).
        if let Some(first) = self.agents.first() {
            for (b, other) in self.agents.iter().enumerate().skip(1) {
                let (diff, ci) = self.paired_difference(0, b);
                let ci = ci.map_or("-".to_string(), |c| format!("{c:.2}"));
                let _ = writeln!(
                    out,
                    "{} - {}: {diff:+.2} ± {ci} per round (paired by deal)",
                    first.name, other.name
                );
            }
        }
        out
    }

    /// Prints [`ArenaReport::table`] to standard output.
    pub fn print_table(&self) {
        print!("{}", self.table());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::AgentSpec;

    fn cfg(agents: &[AgentSpec]) -> ArenaConfig {
        ArenaConfig {
            agents: agents.to_vec(),
            format: Format::Rounds {
                deals: 2,
                players: Some(3),
                cards: Some(1),
            },
            seed: 0,
            threads: 1,
        }
    }

    fn table(seating: &[usize], totals: &[u32]) -> TableResult {
        TableResult {
            seating: seating.to_vec(),
            totals: totals.to_vec(),
            made: totals.iter().map(|&t| (t > 0) as u32).collect(),
            rounds: 1,
            won: None,
        }
    }

    #[test]
    fn repeated_specs_get_numbered_names() {
        let net = |path: &str| AgentSpec::Net {
            checkpoint: path.into(),
            preset: "light".parse().unwrap(),
        };
        let c = cfg(&[
            AgentSpec::Random,
            AgentSpec::Heuristic,
            AgentSpec::Random,
            net("a#b"),
            net("a#b"),
            AgentSpec::Random,
        ]);
        assert_eq!(
            names(&c),
            [
                "random",
                "heuristic",
                "random#2",
                "net:a#b:light",
                "net:a#b:light#2",
                "random#3"
            ]
        );
    }

    #[test]
    fn figures_follow_the_tables() {
        let c = cfg(&[AgentSpec::Random, AgentSpec::Heuristic]);
        // Deal 0: heuristic (1) holds 1 seat then 2; deal 1 likewise.
        let units = vec![
            vec![
                table(&[0, 1, 0], &[0, 11, 10]),
                table(&[1, 0, 1], &[10, 0, 0]),
            ],
            vec![
                table(&[0, 1, 0], &[0, 0, 0]),
                table(&[1, 0, 1], &[11, 10, 12]),
            ],
        ];
        let r = ArenaReport::from_tables(&c, &units);
        assert_eq!(r.rounds, 2);
        assert_eq!(r.tables, 4);
        let (random, heuristic) = (&r.agents[0], &r.agents[1]);
        // Random: deal 0 (0 + 10 + 0) / 3, deal 1 (0 + 0 + 10) / 3.
        assert!((random.mean_score - 10.0 / 3.0).abs() < 1e-12);
        assert_eq!(random.ci95, Some(0.0));
        assert!((heuristic.mean_score - (21.0 / 3.0 + 23.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(random.rounds_played, 6);
        assert!((random.bid_made_rate - 2.0 / 6.0).abs() < 1e-12);
        // Heuristic's comparisons: table 1 wins 11-0 and 11-10; table 2 wins 10-0 and
        // draws 0-0; table 3 draws twice; table 4 wins 11-10 and 12-10.
        assert_eq!(
            (
                heuristic.pair_wins,
                heuristic.pair_draws,
                heuristic.pair_losses
            ),
            (5, 3, 0)
        );
        assert_eq!(
            (random.pair_wins, random.pair_draws, random.pair_losses),
            (0, 3, 5)
        );
        assert!(heuristic.rating > random.rating);
        assert!((heuristic.rating + random.rating - 3000.0).abs() < 1e-9);
    }
}
