//! What a run reports: one record per iteration (`metrics.jsonl`), SVG plots refreshed each
//! iteration, and `status.json`.

use model::files::write_atomic_io as write_atomic;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One arena match of the new network against one opponent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    pub opponent: String,
    /// Mean score per round of the new network and of the opponent, over the same deals.
    pub new_score: f64,
    pub opponent_score: f64,
    /// Mean of (new - opponent) per deal, and the half-width of its 95% interval (infinite
    /// when it cannot be computed; JSON has no infinity, so it is written as null and read
    /// back as infinite).
    pub diff: f64,
    #[serde(deserialize_with = "null_as_infinite")]
    pub diff_ci95: f64,
    /// Deals of the match, each at every ordering of the agents (0 in records written before
    /// it was kept).
    #[serde(default)]
    pub deals: usize,
}

fn null_as_infinite<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

/// One iteration of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IterationRecord {
    pub iteration: u64,
    pub seconds: f64,
    pub selfplay_seconds: f64,
    pub train_seconds: f64,
    pub arena_seconds: f64,
    pub rounds: u64,
    pub games: u64,
    pub examples: u64,
    pub rounds_per_minute: f64,
    pub examples_per_minute: f64,
    pub evaluations_per_second: f64,
    pub mean_server_batch: f64,
    /// Self-play's network requests answered by the evaluation cache (0 with it off).
    #[serde(default)]
    pub cache_hit_rate: f64,
    pub buffer: usize,
    pub steps: u64,
    pub lr: f64,
    pub policy_loss: Option<f32>,
    pub value_loss: Option<f32>,
    /// The tricks head's loss, when the network has one.
    #[serde(default)]
    pub tricks_loss: Option<f32>,
    /// The owners head's loss, when the network has one.
    #[serde(default)]
    pub owners_loss: Option<f32>,
    #[serde(default)]
    pub arena: Vec<MatchResult>,
    #[serde(default)]
    pub promoted: bool,
}

/// The records as `metrics.jsonl` text: one JSON line per iteration.
pub fn to_jsonl(records: &[IterationRecord]) -> String {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("records serialise"));
        text.push('\n');
    }
    text
}

/// Reads `metrics.jsonl` text; a line that is not a record is an error naming `origin` and
/// the line, never silently dropped.
pub fn from_jsonl(text: &str, origin: &str) -> anyhow::Result<Vec<IterationRecord>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                anyhow::anyhow!("{origin} line {} is not a metrics record: {e}", i + 1)
            })
        })
        .collect()
}

/// Publishes the records to `path` (atomically).
pub fn rewrite(path: &Path, records: &[IterationRecord]) -> std::io::Result<()> {
    write_atomic(path, to_jsonl(records).as_bytes())
}

/// Draws `losses.svg` and `strength.svg` in `dir` from the records so far.
pub fn plot(dir: &Path, records: &[IterationRecord]) -> Result<(), String> {
    let losses: Vec<(f64, f64, f64)> = records
        .iter()
        .filter_map(|r| {
            Some((
                r.iteration as f64,
                r.policy_loss? as f64,
                r.value_loss? as f64,
            ))
        })
        .collect();
    let mut series = vec![
        ("policy", losses.iter().map(|&(i, p, _)| (i, p)).collect()),
        ("value", losses.iter().map(|&(i, _, v)| (i, v)).collect()),
    ];
    // The auxiliary heads' losses, drawn when the network has the head.
    let loss_points = |loss: fn(&IterationRecord) -> Option<f32>| -> Vec<(f64, f64)> {
        records
            .iter()
            .filter_map(|r| Some((r.iteration as f64, loss(r)? as f64)))
            .collect()
    };
    for (name, points) in [
        ("tricks", loss_points(|r| r.tricks_loss)),
        ("owners", loss_points(|r| r.owners_loss)),
    ] {
        if !points.is_empty() {
            series.push((name, points));
        }
    }
    plot_lines(&dir.join("losses.svg"), "Training losses", "loss", &series)?;
    let mut opponents: Vec<String> = Vec::new();
    for r in records {
        for m in &r.arena {
            if !opponents.contains(&m.opponent) {
                opponents.push(m.opponent.clone());
            }
        }
    }
    let series: Vec<(&str, Vec<(f64, f64)>)> = opponents
        .iter()
        .map(|o| {
            let points = records
                .iter()
                .flat_map(|r| {
                    r.arena
                        .iter()
                        .filter(|m| &m.opponent == o)
                        .map(|m| (r.iteration as f64, m.diff))
                })
                .collect();
            (o.as_str(), points)
        })
        .collect();
    plot_lines(
        &dir.join("strength.svg"),
        "Arena: new network's mean score minus opponent's, per round",
        "score difference",
        &series,
    )
}

/// One of the run's charts, against the iteration.
fn plot_lines(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Result<(), String> {
    let chart = plot::Chart {
        title,
        x_label: "iteration",
        y_label,
        y_from_zero: false,
    };
    let series: Vec<plot::Series> = series
        .iter()
        .map(|(name, points)| plot::Series {
            name,
            points: points.clone(),
        })
        .collect();
    let svg = plot::line_chart(&path.display().to_string(), &chart, &series)?;
    write_atomic(path, svg.as_bytes()).map_err(|e| e.to_string())
}

/// The run's state for a person or a script to read: written atomically.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    pub iteration: u64,
    pub iterations: u64,
    pub phase: String,
    pub best_iteration: u64,
    pub elapsed_seconds: f64,
    pub last: Option<IterationRecord>,
}

pub fn write_status(path: &Path, status: &Status) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(status).expect("status serialises");
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(iteration: u64, ci: f64) -> IterationRecord {
        IterationRecord {
            iteration,
            seconds: 1.0,
            selfplay_seconds: 0.5,
            train_seconds: 0.25,
            arena_seconds: 0.25,
            rounds: 10,
            games: 0,
            examples: 100,
            rounds_per_minute: 600.0,
            examples_per_minute: 6000.0,
            evaluations_per_second: 1000.0,
            mean_server_batch: 32.0,
            cache_hit_rate: 0.25,
            buffer: 100,
            steps: 3,
            lr: 0.001,
            policy_loss: Some(1.0),
            value_loss: Some(0.5),
            tricks_loss: None,
            owners_loss: None,
            arena: vec![MatchResult {
                opponent: "best".into(),
                new_score: 5.0,
                opponent_score: 4.0,
                diff: 1.0,
                diff_ci95: ci,
                deals: 100,
            }],
            promoted: false,
        }
    }

    #[test]
    fn an_infinite_interval_survives_the_round_trip() {
        let records = vec![record(0, 0.5), record(1, f64::INFINITY)];
        let text = to_jsonl(&records);
        assert!(text.contains("null"), "{text}");
        assert_eq!(from_jsonl(&text, "m").unwrap(), records);
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let text = format!("{}\nnot json\n", to_jsonl(&[record(0, 0.5)]).trim());
        let err = from_jsonl(&text, "metrics.jsonl").unwrap_err().to_string();
        assert!(err.contains("metrics.jsonl line 2"), "{err}");
    }
}
