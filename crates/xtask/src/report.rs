//! report.md from the rows `bench selfplay --json` printed.

use anyhow::{Context, Result};
use serde_json::Value;

/// The columns the report and plots use, read from one JSON row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub mcts_config: String,
    pub threads: usize,
    pub parallel_batch_size: usize,
    pub max_batch: usize,
    pub batch_timeout_ms: f64,
    pub rounds_per_minute: f64,
    pub examples_per_minute: f64,
    pub evaluations_per_sec: f64,
    pub mean_batch: f64,
    pub simulations_per_sec: f64,
    pub cpu_percent: f64,
    pub hours_for_5m_rounds: f64,
}

pub fn rows(json: &Value) -> Result<Vec<Row>> {
    let list = json
        .get("selfplay")
        .and_then(Value::as_array)
        .context("no \"selfplay\" list in bench's JSON")?;
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let f = |k: &str| {
                r.get(k)
                    .and_then(Value::as_f64)
                    .with_context(|| format!("row {i}: no number {k:?}"))
            };
            Ok(Row {
                mcts_config: r
                    .get("mcts_config")
                    .and_then(Value::as_str)
                    .with_context(|| format!("row {i}: no mcts_config"))?
                    .to_string(),
                threads: f("num_workers")? as usize,
                parallel_batch_size: f("parallel_batch_size")? as usize,
                max_batch: f("max_batch")? as usize,
                batch_timeout_ms: f("batch_timeout_ms")?,
                rounds_per_minute: f("rounds_per_minute")?,
                examples_per_minute: f("examples_per_minute")?,
                evaluations_per_sec: f("evaluations_per_sec")?,
                mean_batch: f("mean_batch")?,
                simulations_per_sec: f("simulations_per_sec")?,
                cpu_percent: f("cpu_percent")?,
                hours_for_5m_rounds: f("hours_for_5m_rounds")?,
            })
        })
        .collect()
}

/// Presets in first-seen order.
pub fn presets(rows: &[Row]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if !out.contains(&r.mcts_config) {
            out.push(r.mcts_config.clone());
        }
    }
    out
}

pub fn markdown(rows: &[Row], plots: &[String], grid: &str) -> String {
    let mut s = String::from("# Self-play sweep\n\n");
    s.push_str(&format!("Grid: {grid}.\n\n"));
    s.push_str("Speed-up is rounds/min against the first row.\n\n");
    s.push_str("| preset | threads | parallel batch | max batch | timeout ms | rounds/min | examples/min | evals/s | mean batch | sims/s | cpu % | hours for 5M rounds | speed-up |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let base = rows.first().map(|r| r.rounds_per_minute).unwrap_or(0.0);
    for r in rows {
        let speedup = if base > 0.0 {
            r.rounds_per_minute / base
        } else {
            0.0
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.0} | {:.2}x |\n",
            r.mcts_config,
            r.threads,
            r.parallel_batch_size,
            r.max_batch,
            r.batch_timeout_ms,
            r.rounds_per_minute,
            r.examples_per_minute,
            r.evaluations_per_sec,
            r.mean_batch,
            r.simulations_per_sec,
            r.cpu_percent,
            r.hours_for_5m_rounds,
            speedup
        ));
    }
    s.push_str("\n## Best settings per preset (most rounds/min)\n\n");
    for p in presets(rows) {
        let best = rows
            .iter()
            .filter(|r| r.mcts_config == p)
            .max_by(|a, b| a.rounds_per_minute.total_cmp(&b.rounds_per_minute));
        if let Some(b) = best {
            s.push_str(&format!(
                "- {p}: {:.1} rounds/min with {} threads, parallel batch {}, max batch {}, timeout {} ms\n",
                b.rounds_per_minute, b.threads, b.parallel_batch_size, b.max_batch, b.batch_timeout_ms
            ));
        }
    }
    if !plots.is_empty() {
        s.push_str("\n## Plots\n\nEach point is the best rounds/min over the other settings.\n\n");
        for p in plots {
            s.push_str(&format!("![{p}]({p})\n"));
        }
    }
    s
}
