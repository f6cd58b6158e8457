//! SVG line charts, the one plot writer of the project: the training run's `losses.svg` and
//! `strength.svg`, and `cargo xtask bench-sweep`'s speed plots.

use plotters::prelude::*;

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

/// Draws `series` as an SVG document (the caller writes it, atomically where it matters:
/// `model::files::write_atomic`). The error names `what`, the chart's file.
pub fn line_chart(what: &str, chart: &Chart, series: &[Series]) -> Result<String, String> {
    let err = |e: &dyn std::fmt::Display| format!("plot {what}: {e}");
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 480)).into_drawing_area();
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
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_holds_its_labels_and_lines() {
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
        let svg = line_chart("c.svg", &chart, &series).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for text in ["speed", "threads", "rounds/min", "medium", "<polyline"] {
            assert!(svg.contains(text), "{text} missing");
        }
        // An empty chart still draws.
        assert!(line_chart("e.svg", &chart, &[]).unwrap().contains("speed"));
    }
}
