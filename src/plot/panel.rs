//! Charts of a panel validation (issue 37): the correlation matrices side
//! by side, the eigenvalue spectrum, and correlation against the index's
//! volatility.

use super::{finite_range, legend, plot_err, svg, REAL, REF, SYNTH};
use crate::error::{Error, Result};
use crate::facts::PanelShape;
use plotters::prelude::*;

/// Colour of a correlation in [−1, 1]: blue below 0, white at 0, red above.
fn heat(c: f64) -> RGBColor {
    let t = c.clamp(-1.0, 1.0);
    let fade = |full: u8, t: f64| (255.0 - (255.0 - f64::from(full)) * t) as u8;
    if t >= 0.0 {
        RGBColor(fade(SYNTH.0, t), fade(SYNTH.1, t), fade(SYNTH.2, t))
    } else {
        RGBColor(fade(REF.0, -t), fade(REF.1, -t), fade(REF.2, -t))
    }
}

/// The real correlation matrix and a synthetic panel's (element-wise median
/// over the panels), side by side; `names` label the rows.
pub fn correlation_matrices(real: &[f64], synthetic: &[f64], names: &[String]) -> Result<String> {
    let n = names.len();
    if n < 2 || real.len() != n * n || synthetic.len() != n * n {
        return Err(Error::Internal(format!(
            "correlation heatmaps: {n} names for {} and {} entries",
            real.len(),
            synthetic.len()
        )));
    }
    svg((1100, 560), |root| {
        let halves = root.split_evenly((1, 2));
        for (area, (m, title)) in halves.iter().zip([
            (real, "real"),
            (synthetic, "synthetic (median over panels)"),
        ]) {
            let mut chart = ChartBuilder::on(area)
                .caption(format!("Correlation, {title}"), ("sans-serif", 20))
                .margin(10)
                .x_label_area_size(50)
                .y_label_area_size(50)
                .build_cartesian_2d(0..n, 0..n)
                .map_err(plot_err)?;
            let label = |i: &usize| names.get(*i).cloned().unwrap_or_default();
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(n)
                .y_labels(n)
                .x_label_formatter(&label)
                .y_label_formatter(&label)
                .x_label_style(("sans-serif", 10))
                .y_label_style(("sans-serif", 10))
                .draw()
                .map_err(plot_err)?;
            chart
                .draw_series((0..n).flat_map(|i| {
                    (0..n).map(move |j| {
                        Rectangle::new(
                            [(j, n - 1 - i), (j + 1, n - i)],
                            heat(m[i * n + j]).filled(),
                        )
                    })
                }))
                .map_err(plot_err)?;
        }
        Ok(())
    })
}

/// Eigenvalues of the correlation matrix, largest first: the real panel's
/// and the synthetic panels' median with their 5–95 % range, and the
/// Marchenko–Pastur edge of the real panel (log scale).
pub fn eigen_spectrum(real: &PanelShape, synthetic: &[PanelShape]) -> Result<String> {
    let n = real.eigenvalues.len();
    let q = |k: usize, p: f64| {
        let mut v: Vec<f64> = synthetic
            .iter()
            .filter_map(|s| s.eigenvalues.get(k).copied())
            .collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            f64::NAN
        } else {
            v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
        }
    };
    let lo = real
        .eigenvalues
        .iter()
        .copied()
        .chain((0..n).map(|k| q(k, 0.05)))
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    let hi = real
        .eigenvalues
        .iter()
        .copied()
        .chain((0..n).map(|k| q(k, 0.95)))
        .filter(|v| v.is_finite())
        .fold(real.mp_edge, f64::max);
    svg(super::SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Eigenvalues of the correlation matrix", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5..n as f64 + 0.5, (lo * 0.8..hi * 1.2).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("rank")
            .y_desc("eigenvalue")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series((0..n).map(|k| {
                let x = (k + 1) as f64;
                PathElement::new(
                    vec![(x, q(k, 0.05).max(lo)), (x, q(k, 0.95).max(lo))],
                    SYNTH.mix(0.5).stroke_width(6),
                )
            }))
            .map_err(plot_err)?
            .label("synthetic 5-95 %")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], SYNTH.mix(0.5).stroke_width(6))
            });
        chart
            .draw_series(
                (0..n).map(|k| Circle::new(((k + 1) as f64, q(k, 0.5).max(lo)), 4, SYNTH.filled())),
            )
            .map_err(plot_err)?
            .label("synthetic median")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, SYNTH.filled()));
        chart
            .draw_series(
                real.eigenvalues
                    .iter()
                    .enumerate()
                    .map(|(k, v)| Cross::new(((k + 1) as f64, v.max(lo)), 6, REAL.stroke_width(2))),
            )
            .map_err(plot_err)?
            .label("real")
            .legend(|(x, y)| Cross::new((x + 10, y), 6, REAL.stroke_width(2)));
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.5, real.mp_edge), (n as f64 + 0.5, real.mp_edge)],
                REF.stroke_width(1),
            )))
            .map_err(plot_err)?
            .label("Marchenko-Pastur edge")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], REF));
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// Mean pairwise correlation per decile of the trailing 21-day index
/// volatility: the real panel and each synthetic panel.
pub fn correlation_vs_vol(real: &PanelShape, synthetic: &[PanelShape]) -> Result<String> {
    let all = real
        .corr_by_vol
        .iter()
        .chain(synthetic.iter().flat_map(|s| &s.corr_by_vol));
    let (x_lo, x_hi) = finite_range(all.clone().map(|p| p.0));
    let (y_lo, y_hi) = finite_range(all.map(|p| p.1));
    svg(super::SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Correlation against the index's volatility (deciles of its 21-day vol)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_lo.max(0.0)..x_hi, y_lo..y_hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("index volatility, annualised")
            .y_desc("mean pairwise correlation")
            .draw()
            .map_err(plot_err)?;
        for (i, s) in synthetic.iter().enumerate() {
            let series = chart
                .draw_series(LineSeries::new(
                    s.corr_by_vol.iter().copied(),
                    SYNTH.mix(0.35),
                ))
                .map_err(plot_err)?;
            if i == 0 {
                series
                    .label("synthetic panels")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], SYNTH.mix(0.35)));
            }
        }
        chart
            .draw_series(LineSeries::new(
                real.corr_by_vol.iter().copied(),
                REAL.stroke_width(3),
            ))
            .map_err(plot_err)?
            .label("real")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], REAL.stroke_width(3)));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}
