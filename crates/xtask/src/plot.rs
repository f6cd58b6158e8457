//! SVG plots: rounds/min against threads and against parallel_batch_size, one line per preset.

use crate::report::{Row, presets};
use anyhow::{Result, anyhow};
use plotters::prelude::*;
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
    let xs = data.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let y1 = data
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.1))
        .fold(0.0f64, f64::max);
    let (x0, x1) = if x0 > x1 { (0.0, 1.0) } else { (x0, x1) };
    let err = |e: &dyn std::fmt::Display| anyhow!("plot {}: {e}", path.display());
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let pad = ((x1 - x0) * 0.05).max(0.5);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("rounds/min against {x_name}"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..(y1 * 1.1).max(1.0))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_name)
        .y_desc("rounds/min")
        .draw()
        .map_err(|e| err(&e))?;
    for (i, (name, pts)) in data.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
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
    Ok(())
}
