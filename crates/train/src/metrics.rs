//! What a run reports: one record per iteration (`metrics.jsonl`), SVG plots refreshed each
//! iteration, and `status.json`.

use crate::buffer::write_atomic;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One arena match of the new network against one opponent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    pub opponent: String,
    /// Mean score per round of the new network and of the opponent, over the same deals.
    pub new_score: f64,
    pub opponent_score: f64,
    /// Mean of (new - opponent) per deal, and the half-width of its 95% interval.
    pub diff: f64,
    pub diff_ci95: f64,
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
    pub buffer: usize,
    pub steps: u64,
    pub lr: f64,
    pub policy_loss: Option<f32>,
    pub value_loss: Option<f32>,
    /// The tricks head's loss, when the network has one.
    #[serde(default)]
    pub tricks_loss: Option<f32>,
    #[serde(default)]
    pub arena: Vec<MatchResult>,
    #[serde(default)]
    pub promoted: bool,
}

/// Appends `record` to `metrics.jsonl`.
pub fn append(path: &Path, record: &IterationRecord) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(
        f,
        "{}",
        serde_json::to_string(record).expect("records serialise")
    )
}

/// Reads `metrics.jsonl`, keeping the records of iterations before `until` (so a resumed run
/// does not repeat the iterations it replays). Unreadable lines are skipped.
pub fn read(path: &Path, until: u64) -> Vec<IterationRecord> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<IterationRecord>(l).ok())
        .filter(|r| r.iteration < until)
        .collect()
}

/// Rewrites `metrics.jsonl` with exactly these records (atomically).
pub fn rewrite(path: &Path, records: &[IterationRecord]) -> std::io::Result<()> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("records serialise"));
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
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
    let tricks: Vec<(f64, f64)> = records
        .iter()
        .filter_map(|r| Some((r.iteration as f64, r.tricks_loss? as f64)))
        .collect();
    let mut series = vec![
        ("policy", losses.iter().map(|&(i, p, _)| (i, p)).collect()),
        ("value", losses.iter().map(|&(i, _, v)| (i, v)).collect()),
    ];
    if !tricks.is_empty() {
        series.push(("tricks", tricks));
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

fn plot_lines(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Result<(), String> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = ((y1 - y0) * 0.1).max(0.05);
    let tmp = path.with_extension("svg.tmp");
    {
        let root = SVGBackend::new(&tmp, (800, 480)).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| format!("plot {}: {e}", path.display());
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1.max(x0 + 1.0), (y0 - pad)..(y1 + pad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc(y_label)
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("plot {}: {e}", path.display()))
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
