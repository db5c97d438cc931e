//! Charts of a forecast backtest: fans from rolling origins over the
//! realised price, the one-day PIT histogram, and returns against the VaR.

use super::{finite_range, legend, plot_err, svg, REAL, REF, SIZE, SYNTH};
use crate::error::{Error, Result};
use plotters::prelude::*;

/// One fan: quantiles of the forecast price, day by day, from an origin.
pub struct Fan {
    /// The x position (history index) of the origin's close.
    pub origin: usize,
    /// Per day ahead (`origin + 1`, …), the 5, 25, 50, 75 and 95 %
    /// quantiles of the price.
    pub quantiles: Vec<[f64; 5]>,
}

/// Forecast fans from several origins with the realised price over them;
/// `label(x)` names the date at x.
pub fn fan(
    title: &str,
    realised: &[(usize, f64)],
    fans: &[Fan],
    label: &dyn Fn(usize) -> String,
) -> Result<String> {
    let (x0, x1) = match (realised.first(), realised.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (a.0 as f64, b.0 as f64),
        _ => {
            return Err(Error::Internal(
                "a fan chart needs a realised path of at least 2 days".into(),
            ))
        }
    };
    let (lo, hi) = finite_range(
        realised.iter().map(|p| p.1).chain(
            fans.iter()
                .flat_map(|f| f.quantiles.iter().flat_map(|q| [q[0], q[4]])),
        ),
    );
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .x_label_formatter(&|x| label(x.round().max(0.0) as usize))
            .y_desc("price")
            .draw()
            .map_err(plot_err)?;
        for (i, f) in fans.iter().enumerate() {
            let at = |k: usize| (f.origin + 1 + k) as f64;
            let start = realised
                .iter()
                .find(|p| p.0 == f.origin)
                .map_or(f64::NAN, |p| p.1);
            for (a, b, alpha, name) in [(0, 4, 0.15, "5-95 %"), (1, 3, 0.3, "25-75 %")] {
                let mut poly: Vec<(f64, f64)> = vec![(f.origin as f64, start)];
                poly.extend(f.quantiles.iter().enumerate().map(|(k, q)| (at(k), q[b])));
                poly.extend(
                    f.quantiles
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(k, q)| (at(k), q[a])),
                );
                let series = chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        SYNTH.mix(alpha).filled(),
                    )))
                    .map_err(plot_err)?;
                if i == 0 {
                    series.label(name).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 20, y + 5)], SYNTH.mix(alpha).filled())
                    });
                }
            }
            let median = std::iter::once((f.origin as f64, start))
                .chain(f.quantiles.iter().enumerate().map(|(k, q)| (at(k), q[2])));
            let series = chart
                .draw_series(LineSeries::new(median, SYNTH.stroke_width(1)))
                .map_err(plot_err)?;
            if i == 0 {
                series
                    .label("median")
                    .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], SYNTH));
            }
        }
        chart
            .draw_series(LineSeries::new(
                realised.iter().map(|p| (p.0 as f64, p.1)),
                REAL.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label("realised")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REAL.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::LowerLeft)
    })
}

/// Histogram of PITs on 20 bins with the uniform density and its 95 %
/// band for this many values (binomial, normal approximation).
pub fn pit_histogram(title: &str, pit: &[f64]) -> Result<String> {
    const BINS: usize = 20;
    let n = pit.len().max(1) as f64;
    let mut counts = [0usize; BINS];
    for u in pit {
        if u.is_finite() {
            counts[((u * BINS as f64) as usize).min(BINS - 1)] += 1;
        }
    }
    let dens: Vec<f64> = counts.iter().map(|c| *c as f64 * BINS as f64 / n).collect();
    let p = 1.0 / BINS as f64;
    let half = 1.96 * (p * (1.0 - p) / n).sqrt() * BINS as f64;
    let top = dens.iter().copied().fold(1.0 + half, f64::max) * 1.1;
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("PIT of the realised return")
            .y_desc("density")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(dens.iter().enumerate().map(|(i, d)| {
                let a = i as f64 / BINS as f64;
                Rectangle::new([(a, 0.0), (a + p, *d)], SYNTH.mix(0.5).filled())
            }))
            .map_err(plot_err)?
            .label("forecasts")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], SYNTH.mix(0.5).filled())
            });
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, 1.0 - half), (1.0, 1.0 + half)],
                REF.mix(0.15).filled(),
            )))
            .map_err(plot_err)?
            .label("uniform, 95 % band per bin")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], REF.mix(0.15).filled()));
        chart
            .draw_series(LineSeries::new(
                [(0.0, 1.0), (1.0, 1.0)],
                REF.stroke_width(2),
            ))
            .map_err(plot_err)?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// The realised daily returns (dots; exceedances of the lowest level
/// marked) against the VaR lines, one per level, over the test days.
pub fn exceedances(
    title: &str,
    returns: &[f64],
    var: &[Vec<f64>],
    levels: &[f64],
) -> Result<String> {
    let n = returns.len();
    let (lo, hi) = finite_range(
        returns
            .iter()
            .copied()
            .chain(var.iter().flat_map(|v| v.iter().copied())),
    );
    let (lo, hi) = (100.0 * lo, 100.0 * hi);
    svg((1000, 500), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..n.max(2) as f64, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("test day")
            .y_desc("daily log return (%)")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(
                returns
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Circle::new((i as f64, 100.0 * r), 1, REAL.mix(0.5).filled())),
            )
            .map_err(plot_err)?
            .label("return")
            .legend(|(x, y)| Circle::new((x + 10, y), 2, REAL.filled()));
        let colours = [REF, SYNTH];
        for (j, (v, level)) in var.iter().zip(levels).enumerate() {
            let c = colours[j % colours.len()];
            chart
                .draw_series(LineSeries::new(
                    v.iter().enumerate().map(|(i, q)| (i as f64, 100.0 * q)),
                    c.stroke_width(1),
                ))
                .map_err(plot_err)?
                .label(format!("{} % VaR", 100.0 * level))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], c.stroke_width(2)));
            let hits = returns
                .iter()
                .zip(v)
                .enumerate()
                .filter(|(_, (r, q))| r < q)
                .map(|(i, (r, _))| (i as f64, 100.0 * r));
            chart
                .draw_series(hits.map(|p| Cross::new(p, 4, c.stroke_width(2))))
                .map_err(plot_err)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerLeft)
    })
}
