//! SVG plots: rounds/min against threads and against parallel_batch_size, one line per preset.

use crate::report::{Row, presets};
use anyhow::{Result, anyhow};
use std::path::Path;

/// Writes the plots into `dir`; returns their file names.
pub fn all(dir: &Path, rows: &[Row]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (file, x_name, x_of) in [
        (
            "rounds_per_min_vs_threads.svg",
            "threads",
            (|r: &Row| r.threads as f64) as fn(&Row) -> f64,
        ),
        (
            "rounds_per_min_vs_parallel_batch.svg",
            "parallel_batch_size",
            |r: &Row| r.parallel_batch_size as f64,
        ),
    ] {
        line_plot(&dir.join(file), x_name, rows, x_of)?;
        names.push(file.to_string());
    }
    Ok(names)
}

/// For each preset and x: the best rounds/min among rows with that x.
fn series(rows: &[Row], x_of: fn(&Row) -> f64) -> Vec<(String, Vec<(f64, f64)>)> {
    presets(rows)
        .into_iter()
        .map(|p| {
            let mut pts: Vec<(f64, f64)> = Vec::new();
            for r in rows.iter().filter(|r| r.mcts_config == p) {
                let x = x_of(r);
                match pts.iter_mut().find(|(px, _)| *px == x) {
                    Some(pt) => pt.1 = pt.1.max(r.rounds_per_minute),
                    None => pts.push((x, r.rounds_per_minute)),
                }
            }
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (p, pts)
        })
        .collect()
}

fn line_plot(path: &Path, x_name: &str, rows: &[Row], x_of: fn(&Row) -> f64) -> Result<()> {
    let data = series(rows, x_of);
    let series: Vec<plot::Series> = data
        .iter()
        .map(|(name, points)| plot::Series {
            name,
            points: points.clone(),
        })
        .collect();
    let title = format!("rounds/min against {x_name}");
    let chart = plot::Chart {
        title: &title,
        x_label: x_name,
        y_label: "rounds/min",
        y_from_zero: true,
    };
    let svg =
        plot::line_chart(&path.display().to_string(), &chart, &series).map_err(|e| anyhow!(e))?;
    // A report of the sweep, drawn again by every sweep: a plain write.
    std::fs::write(path, svg).map_err(|e| anyhow!("{}: {e}", path.display()))
}
