//! The calibration's pictures, as SVG text (plotters' SVG backend; text
//! is left to the viewer's fonts):
//! - `calibration.svg`: the implied move against the realized |gap| of
//!   every event with a VRP, coloured by tier, with the line where they are
//!   equal and each tier's binned means;
//! - `pnl.svg`: per tier, the distributions of the short straddle's bound
//!   and of the strangle's and condor's exit sides (5th-95th percentile
//!   whiskers, quartile box, median, mean as a dot, worst as a cross);
//! - `hit_rate_by_vrp.svg`: the hit rate by VRP bucket with its 95%
//!   bootstrap band, and the design's tier thresholds.
//!
//! Every picture carries the dataset's credit.

use std::path::Path;

use plotters::prelude::*;

use super::ATTRIBUTION;
use super::judge::{Exit, Judgement};
use super::report::CalibrationReport;
use super::stats::{VRP_BUCKETS, quantile};
use crate::analysis::vrp::{Tier, TierThresholds};

const TIERS: [Tier; 4] = [Tier::Excellent, Tier::Good, Tier::Marginal, Tier::Skip];

fn color(tier: Tier) -> RGBColor {
    match tier {
        Tier::Excellent => RGBColor(0, 114, 178),
        Tier::Good => RGBColor(0, 158, 115),
        Tier::Marginal => RGBColor(230, 159, 0),
        Tier::Skip => RGBColor(204, 121, 167),
    }
}

/// Why the plots could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters failed to draw (its errors are described by their `Debug`).
    #[error("drawing failed: {0}")]
    Drawing(String),
    /// The `--plots` directory could not be created.
    #[error("--plots {dir}: cannot create it: {error}")]
    CreateDir {
        /// The directory, as given.
        dir: String,
        /// Why.
        error: std::io::Error,
    },
    /// A picture could not be written.
    #[error("{path}: cannot write it: {error}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

fn plot_error<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Drawing(format!("{e:?}"))
}

fn credit() -> String {
    format!("Implied moves: {ATTRIBUTION}")
}

/// The calibration plot: implied move (x) against realized |gap| (y), in percent.
pub fn calibration_svg(judged: &[&Judgement], tiers: &TierThresholds) -> Result<String, PlotError> {
    const X_MAX: f64 = 30.0;
    const Y_MAX: f64 = 40.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (820, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (main, foot) = root.split_vertically(530);
        foot.draw(&Text::new(credit(), (10, 8), ("sans-serif", 12))).map_err(plot_error)?;
        let clipped = judged
            .iter()
            .filter_map(|j| Some((j.implied_move * 100.0, j.outcome.as_ref()?.gap_move.abs() * 100.0)))
            .filter(|(x, y)| *x > X_MAX || *y > Y_MAX)
            .count();
        let mut chart = ChartBuilder::on(&main)
            .caption(
                format!(
                    "Implied move vs realized |gap| by tier ({clipped} events beyond the axes not drawn)"
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..X_MAX, 0f64..Y_MAX)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("implied move at the last close before the report (%)")
            .y_desc("realized |gap| at the reaction open (%)")
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (X_MAX, X_MAX)], BLACK.stroke_width(1)))
            .map_err(plot_error)?
            .label("|gap| = implied move")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
        for tier in TIERS {
            let points: Vec<(f64, f64)> = judged
                .iter()
                .filter(|j| j.vrp.map(|v| tiers.tier(v)) == Some(tier))
                .filter_map(|j| Some((j.implied_move * 100.0, j.outcome.as_ref()?.gap_move.abs() * 100.0)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let c = color(tier);
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(|(x, y)| *x <= X_MAX && *y <= Y_MAX)
                        .map(|(x, y)| Circle::new((*x, *y), 2, c.mix(0.45).filled())),
                )
                .map_err(plot_error)?
                .label(format!("{} ({}; line: means of ~40 events)", tier.code(), points.len()))
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
            chart
                .draw_series(LineSeries::new(binned_means(&points), c.stroke_width(3)))
                .map_err(plot_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Means of (x, y) in bins of about 40 events by x (at least one bin).
fn binned_means(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bins = (sorted.len() / 40).max(1);
    let size = sorted.len().div_ceil(bins);
    sorted
        .chunks(size.max(1))
        .map(|chunk| {
            let n = chunk.len() as f64;
            (chunk.iter().map(|p| p.0).sum::<f64>() / n, chunk.iter().map(|p| p.1).sum::<f64>() / n)
        })
        .collect()
}

/// The P&L distributions per tier and structure, in points of spot.
pub fn pnl_svg(judged: &[&Judgement], tiers: &TierThresholds) -> Result<String, PlotError> {
    type Pick = fn(&Exit) -> f64;
    let structures: [(&str, Pick); 3] = [
        ("short straddle (upper bound)", |e| e.straddle),
        ("short strangle (exit side; + unknown credit)", |e| e.strangle_ex_credit),
        ("iron condor (exit side, estimate; + unknown credit)", |e| e.condor_ex_credit),
    ];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (main, foot) = root.split_vertically(490);
        foot.draw(&Text::new(
            format!(
                "{}. Whiskers 5th-95th percentile, box quartiles, bar median, dot mean, cross worst.",
                credit()
            ),
            (10, 8),
            ("sans-serif", 12),
        ))
        .map_err(plot_error)?;
        let panels = main.split_evenly((1, 3));
        for (panel, (title, pick)) in panels.iter().zip(structures) {
            let by_tier: Vec<(Tier, Vec<f64>)> = TIERS
                .iter()
                .map(|tier| {
                    let mut values: Vec<f64> = judged
                        .iter()
                        .filter(|j| j.vrp.map(|v| tiers.tier(v)) == Some(*tier))
                        .filter_map(|j| Some(pick(&j.outcome.as_ref()?.at_open) * 100.0))
                        .collect();
                    values.sort_by(f64::total_cmp);
                    (*tier, values)
                })
                .collect();
            let low =
                by_tier.iter().filter_map(|(_, v)| v.first()).copied().fold(0.0, f64::min).floor() - 3.0;
            let high = by_tier.iter().filter_map(|(_, v)| v.last()).copied().fold(0.0, f64::max).ceil() + 1.0;
            let mut chart = ChartBuilder::on(panel)
                .caption(title, ("sans-serif", 13))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(45)
                .build_cartesian_2d(0f64..4f64, low..high)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_desc("points of the reference close")
                .draw()
                .map_err(plot_error)?;
            chart
                .draw_series(TIERS.iter().enumerate().map(|(i, t)| {
                    Text::new(t.code(), (i as f64 + 0.2, low + (high - low) * 0.03), ("sans-serif", 12))
                }))
                .map_err(plot_error)?;
            chart
                .draw_series(LineSeries::new([(0.0, 0.0), (4.0, 0.0)], BLACK.mix(0.5)))
                .map_err(plot_error)?;
            for (i, (tier, values)) in by_tier.iter().enumerate() {
                if values.is_empty() {
                    continue;
                }
                let c = color(*tier);
                let x = i as f64 + 0.5;
                let q = |p: f64| quantile(values, p);
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                chart
                    .draw_series([
                        PathElement::new([(x, q(0.05)), (x, q(0.95))], c.stroke_width(1)).into_dyn(),
                        Rectangle::new([(x - 0.25, q(0.25)), (x + 0.25, q(0.75))], c.mix(0.35).filled())
                            .into_dyn(),
                        PathElement::new([(x - 0.25, q(0.5)), (x + 0.25, q(0.5))], c.stroke_width(2))
                            .into_dyn(),
                        Circle::new((x, mean), 4, BLACK.filled()).into_dyn(),
                        Cross::new((x, values[0]), 4, BLACK.stroke_width(1)).into_dyn(),
                    ])
                    .map_err(plot_error)?;
            }
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The hit rate by VRP bucket with its confidence band.
pub fn hit_rate_svg(report: &CalibrationReport) -> Result<String, PlotError> {
    let centre = |i: usize| match (VRP_BUCKETS.get(i), VRP_BUCKETS.get(i + 1)) {
        (Some(a), Some(b)) => (a + b) / 2.0,
        (Some(a), None) => a + 0.25,
        _ => 0.0,
    };
    let rows: Vec<(f64, f64, f64, f64, usize)> = report
        .vrp_buckets
        .iter()
        .filter_map(|g| {
            let i = (0..VRP_BUCKETS.len()).find(|i| super::stats::vrp_bucket_label(*i) == g.label)?;
            Some((
                centre(i),
                g.hit_rate.value * 100.0,
                g.hit_rate.low * 100.0,
                g.hit_rate.high * 100.0,
                g.events,
            ))
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (820, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (main, foot) = root.split_vertically(470);
        foot.draw(&Text::new(credit(), (10, 8), ("sans-serif", 12))).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&main)
            .caption(
                "Share of reports inside the implied move (|gap| < implied), by VRP, with 95% bootstrap band",
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..3.5f64, 0f64..100f64)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("VRP (implied move / mean |gap| of the past events); last bucket: 3.0 and above")
            .y_desc("inside the implied move (%)")
            .draw()
            .map_err(plot_error)?;
        let band: Vec<(f64, f64)> =
            rows.iter().map(|r| (r.0, r.3)).chain(rows.iter().rev().map(|r| (r.0, r.2))).collect();
        if !band.is_empty() {
            chart
                .draw_series([Polygon::new(band, RGBColor(0, 114, 178).mix(0.2).filled())])
                .map_err(plot_error)?;
        }
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.0, r.1)),
                RGBColor(0, 114, 178).stroke_width(2),
            ))
            .map_err(plot_error)?
            .label("hit rate")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RGBColor(0, 114, 178).stroke_width(2)));
        chart
            .draw_series(rows.iter().map(|r| Circle::new((r.0, r.1), 4, RGBColor(0, 114, 178).filled())))
            .map_err(plot_error)?;
        chart
            .draw_series(rows.iter().map(|r| {
                Text::new(format!("n={}", r.4), (r.0 - 0.08, (r.2 - 6.0).max(2.0)), ("sans-serif", 11))
            }))
            .map_err(plot_error)?;
        let t = &report.design_tiers;
        for (name, x) in [("marginal", t.marginal), ("good", t.good), ("excellent", t.excellent)] {
            if x.is_finite() && x < 3.5 {
                chart
                    .draw_series([
                        PathElement::new([(x, 0.0), (x, 100.0)], BLACK.mix(0.4)).into_dyn(),
                        Text::new(format!("{name} {x:.1}"), (x + 0.03, 97.0), ("sans-serif", 11)).into_dyn(),
                    ])
                    .map_err(plot_error)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Writes the three pictures into `dir` (created if missing); returns the files written.
///
/// # Errors
/// [`PlotError`] naming the file or directory that could not be written, or a drawing failure.
pub fn write_all(
    dir: &Path,
    judged: &[&Judgement],
    report: &CalibrationReport,
) -> Result<Vec<std::path::PathBuf>, PlotError> {
    std::fs::create_dir_all(dir)
        .map_err(|error| PlotError::CreateDir { dir: dir.display().to_string(), error })?;
    let tiers = &report.design_tiers;
    let files = [
        ("calibration.svg", calibration_svg(judged, tiers)?),
        ("pnl.svg", pnl_svg(judged, tiers)?),
        ("hit_rate_by_vrp.svg", hit_rate_svg(report)?),
    ];
    let mut written = Vec::new();
    for (name, svg) in files {
        let path = dir.join(name);
        std::fs::write(&path, svg)
            .map_err(|error| PlotError::Write { path: path.display().to_string(), error })?;
        written.push(path);
    }
    Ok(written)
}
