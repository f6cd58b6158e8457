//! SVG line charts, the one plot writer of the project: the training run's `losses.svg` and
//! `strength.svg`, and `cargo xtask bench-sweep`'s speed plots.

use plotters::prelude::*;
use std::path::Path;

/// One named line.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// What the chart says around its lines.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// The y axis starts at zero (speeds); otherwise it spans the data with a margin (losses,
    /// score differences).
    pub y_from_zero: bool,
}

/// Draws `series` into the SVG file `path`, written whole or not at all (a temporary file,
/// then a rename). The error names the file.
pub fn line_chart(path: &Path, chart: &Chart, series: &[Series]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("plot {}: {e}", path.display());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in series.iter().flat_map(|s| s.points.iter()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let x_pad = ((x1 - x0) * 0.02).max(0.5);
    let (y_lo, y_hi) = if chart.y_from_zero {
        (0.0, (y1 * 1.1).max(1.0))
    } else {
        let pad = ((y1 - y0) * 0.1).max(0.05);
        (y0 - pad, y1 + pad)
    };
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    {
        let root = SVGBackend::new(&tmp, (800, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut c = ChartBuilder::on(&root)
            .caption(chart.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d((x0 - x_pad)..(x1 + x_pad), y_lo..y_hi)
            .map_err(|e| err(&e))?;
        c.configure_mesh()
            .x_desc(chart.x_label)
            .y_desc(chart.y_label)
            .draw()
            .map_err(|e| err(&e))?;
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            c.draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
            c.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| err(&e))?;
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_written_whole_with_its_labels() {
        let dir = std::env::temp_dir().join(format!("blob-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.svg");
        let chart = Chart {
            title: "speed",
            x_label: "threads",
            y_label: "rounds/min",
            y_from_zero: true,
        };
        let series = [Series {
            name: "medium",
            points: vec![(1.0, 10.0), (2.0, 18.0)],
        }];
        line_chart(&path, &chart, &series).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["speed", "threads", "rounds/min", "medium"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(!dir.join("c.svg.tmp").exists());
        // An empty chart still draws; a folder that does not exist is an error naming the file.
        line_chart(&path, &chart, &[]).unwrap();
        let err = line_chart(&dir.join("no/such/x.svg"), &chart, &series).unwrap_err();
        assert!(err.contains("x.svg"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
