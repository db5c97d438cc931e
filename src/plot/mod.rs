//! Charts of the scorecard, drawn with plotters into SVG strings.
//!
//! SVG needs no font files: plotters' SVG backend writes text as `<text>`
//! elements and lets the viewer pick the font, so the charts render the same
//! on a machine without any fonts installed.

use crate::error::{Error, Result};
use crate::facts::scorecard::Scorecard;
use plotters::coord::Shift;
use plotters::prelude::*;

pub mod forecast;
pub mod panel;

/// Colour of the real series.
const REAL: RGBColor = RGBColor(20, 20, 20);
/// Colour of the synthetic series.
const SYNTH: RGBColor = RGBColor(214, 39, 40);
/// Colour of reference curves (normal law, bands).
const REF: RGBColor = RGBColor(31, 119, 180);

const SIZE: (u32, u32) = (800, 500);

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("drawing a chart: {e}"))
}

/// Renders `draw` into an SVG string.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(out)
}

fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() && hi > lo {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    } else if lo.is_finite() {
        (lo - 1.0, lo + 1.0)
    } else {
        (0.0, 1.0)
    }
}

/// The legend box, at `position`.
fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_err)
}

/// Points of one sample as circles of `size` pixels, labelled in the legend.
fn scatter<'a, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    size: u32,
    style: impl Into<ShapeStyle> + Copy + 'static,
    label: &str,
) -> Result<()> {
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, size, style)))
        .map_err(plot_err)?
        .label(label)
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, style));
    Ok(())
}

/// Inverse of the standard normal CDF: Acklam's rational approximation
/// (relative error 1.15e-9) refined by one Halley step on `erfc` (libm),
/// which brings it to near machine precision.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // Halley refinement: e = Φ(x) − p with Φ(x) = erfc(−x/√2)/2.
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Histogram densities of `x` on `bins` equal bins of `[lo, hi]`.
fn density(x: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64)> {
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in x {
        if *v >= lo && *v < hi {
            counts[(((v - lo) / w) as usize).min(bins - 1)] += 1;
        }
    }
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| (lo + (i as f64 + 0.5) * w, *c as f64 / (x.len() as f64 * w)))
        .collect()
}

/// Daily-return histogram, real and synthetic, against the normal law with
/// the real mean and variance, on a log density scale.
pub fn return_histogram(real: &[f64], synthetic: &[f64]) -> Result<String> {
    let (m, v) = crate::stats::mean_var(real);
    let sd = v.sqrt();
    let (lo, hi) = (m - 10.0 * sd, m + 10.0 * sd);
    let bins = 100;
    let dr = density(real, lo, hi, bins);
    let ds = density(synthetic, lo, hi, bins);
    let floor = 0.5 / (real.len().max(synthetic.len()) as f64 * (hi - lo) / bins as f64);
    let top = dr.iter().chain(&ds).map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let normal: Vec<(f64, f64)> = (0..=400)
        .map(|i| lo + (hi - lo) * i as f64 / 400.0)
        .map(|x| {
            let z = (x - m) / sd;
            (
                x,
                (-0.5 * z * z).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt()),
            )
        })
        .filter(|p| p.1 >= floor)
        .collect();
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Daily log returns: density (log scale)", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, (floor..top).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("daily log return")
            .y_desc("density")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(normal, REF.stroke_width(2)))
            .map_err(plot_err)?
            .label("normal (real mean, sd)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REF));
        scatter(&mut chart, &dr, 3, REAL.filled(), "real")?;
        scatter(&mut chart, &ds, 3, SYNTH, "synthetic (pooled)")?;
        legend(&mut chart, SeriesLabelPosition::MiddleRight)
    })
}

/// Quantiles of standardised returns against normal quantiles.
fn qq_points(x: &[f64], points: usize) -> Vec<(f64, f64)> {
    let (m, v) = crate::stats::mean_var(x);
    let mut s: Vec<f64> = x.iter().map(|r| (r - m) / v.sqrt()).collect();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    (0..points)
        .map(|i| {
            // Plotting positions concentrated in the tails.
            let u = (i as f64 + 0.5) / points as f64;
            let p = 0.5 + 0.5 * (2.0 * u - 1.0).signum() * (2.0 * u - 1.0).abs().powf(0.25);
            let p = p.clamp(0.5 / n as f64, 1.0 - 0.5 / n as f64);
            let idx = ((p * n as f64 - 0.5).round() as usize).min(n - 1);
            (normal_quantile((idx as f64 + 0.5) / n as f64), s[idx])
        })
        .collect()
}

/// QQ plot of standardised daily returns against the normal law.
pub fn qq(real: &[f64], synthetic: &[f64]) -> Result<String> {
    let qr = qq_points(real, 300);
    let qs = qq_points(synthetic, 300);
    let (lo, hi) = finite_range(qr.iter().chain(&qs).flat_map(|p| [p.0, p.1]));
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "QQ plot: standardised daily returns vs normal",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("normal quantile")
            .y_desc("sample quantile")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new([(lo, lo), (hi, hi)], REF.stroke_width(1)))
            .map_err(plot_err)?
            .label("normal")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REF));
        scatter(&mut chart, &qr, 2, REAL.filled(), "real")?;
        scatter(&mut chart, &qs, 2, SYNTH, "synthetic")?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// One profile panel: real and synthetic against lag, with ±band lines.
fn profile_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    xlabel: &str,
    real: &[f64],
    synthetic: &[f64],
    band: Option<(f64, f64)>,
) -> Result<()> {
    let n = real.len().max(synthetic.len()).max(1);
    let mut extra = vec![0.0];
    if let Some((b1, b2)) = band {
        extra.extend([b1, -b1, b2, -b2]);
    }
    let (lo, hi) = finite_range(real.iter().chain(synthetic).chain(&extra).copied());
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.5..n as f64 + 0.5, lo..hi)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .draw()
        .map_err(plot_err)?;
    let line = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, y)| ((i + 1) as f64, *y))
            .collect()
    };
    if let Some((b_real, b_syn)) = band {
        for (b, style, label) in [
            (b_real, REAL.mix(0.5), "real ±1.96/√n"),
            (b_syn, SYNTH.mix(0.5), "one path ±1.96/√n"),
        ] {
            for s in [b, -b] {
                chart
                    .draw_series(DashedLineSeries::new(
                        [(0.5, s), (n as f64 + 0.5, s)],
                        6,
                        4,
                        style.stroke_width(1),
                    ))
                    .map_err(plot_err)?;
            }
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                .map_err(plot_err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
    }
    chart
        .draw_series(LineSeries::new(line(real), REAL.stroke_width(2)))
        .map_err(plot_err)?
        .label("real")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REAL.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(line(synthetic), SYNTH.stroke_width(2)))
        .map_err(plot_err)?
        .label("synthetic (mean over paths)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], SYNTH.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::MiddleRight)
}

/// ACF of r (lags 1–20) and of |r| (lags 1–250) with white-noise bands.
pub fn acf(card: &Scorecard) -> Result<String> {
    svg((800, 800), |root| {
        let panels = root.split_evenly((2, 1));
        let bands = Some((card.real.band, card.synthetic.band));
        profile_panel(
            &panels[0],
            "ACF of daily returns r",
            "lag (days)",
            &card.real.acf_r,
            &card.synthetic.acf_r,
            bands,
        )?;
        profile_panel(
            &panels[1],
            "ACF of |r| (volatility clustering)",
            "lag (days)",
            &card.real.acf_abs,
            &card.synthetic.acf_abs,
            bands,
        )
    })
}

/// Leverage profile corr(r_t, |r_{t+k}|) with white-noise bands.
pub fn leverage(card: &Scorecard) -> Result<String> {
    svg(SIZE, |root| {
        profile_panel(
            root,
            "Leverage: corr(r_t, |r_t+k|)",
            "k (days)",
            &card.real.leverage_abs,
            &card.synthetic.leverage_abs,
            Some((card.real.band, card.synthetic.band)),
        )
    })
}

/// Excess kurtosis of h-day returns against h (aggregational Gaussianity).
pub fn kurtosis_horizons(card: &Scorecard) -> Result<String> {
    let real = &card.real.kurtosis_by_horizon;
    let syn = &card.synthetic.kurtosis_by_horizon;
    let hmax = real.iter().chain(syn).map(|p| p.0).max().unwrap_or(1) as f64;
    let (lo, hi) = finite_range(real.iter().chain(syn).map(|p| p.1).chain([0.0]));
    let pts = |v: &[(usize, f64)]| -> Vec<(f64, f64)> {
        v.iter()
            .filter(|p| p.1.is_finite())
            .map(|p| (p.0 as f64, p.1))
            .collect()
    };
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Aggregational Gaussianity: excess kurtosis of h-day returns",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0.8..hmax * 1.25).log_scale(), lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("horizon h (days, log scale)")
            .y_desc("excess kurtosis")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new([(0.8, 0.0), (hmax * 1.25, 0.0)], REF))
            .map_err(plot_err)?
            .label("normal")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REF));
        for (v, colour, label) in [(pts(real), REAL, "real"), (pts(syn), SYNTH, "synthetic")] {
            chart
                .draw_series(LineSeries::new(v.clone(), colour.stroke_width(2)))
                .map_err(plot_err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
            chart
                .draw_series(v.into_iter().map(|p| Circle::new(p, 4, colour.filled())))
                .map_err(plot_err)?;
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight)
    })
}

/// A fan of sample paths: 5–95 % and 25–75 % bands and the median of spot
/// across paths, with the first few paths drawn.
pub fn path_fan(spots: &[Vec<f64>], shown: usize) -> Result<String> {
    let steps = spots.iter().map(Vec::len).min().unwrap_or(0);
    if steps < 2 {
        return Err(Error::parameter(
            "steps",
            steps,
            "a fan needs at least 2 steps",
        ));
    }
    let quantile = |k: usize, q: f64| {
        let mut v: Vec<f64> = spots.iter().map(|s| s[k]).collect();
        v.sort_by(f64::total_cmp);
        v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
    };
    // At most ~1000 points per line keeps the SVG small for long paths.
    let stride = steps.div_ceil(1000);
    let ks: Vec<usize> = (0..steps).step_by(stride).chain([steps - 1]).collect();
    let band =
        |q: f64| -> Vec<(f64, f64)> { ks.iter().map(|&k| (k as f64, quantile(k, q))).collect() };
    let (q05, q25, q50, q75, q95) = (band(0.05), band(0.25), band(0.5), band(0.75), band(0.95));
    let (lo, hi) = finite_range(
        spots
            .iter()
            .take(shown)
            .flat_map(|s| s[..steps].iter().copied())
            .chain(q05.iter().chain(&q95).map(|p| p.1)),
    );
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Spot paths: {} paths, quantile bands", spots.len()),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..(steps - 1) as f64, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("step (trading days)")
            .y_desc("spot")
            .draw()
            .map_err(plot_err)?;
        let polygon = |a: &[(f64, f64)], b: &[(f64, f64)]| -> Vec<(f64, f64)> {
            a.iter().copied().chain(b.iter().rev().copied()).collect()
        };
        chart
            .draw_series(std::iter::once(Polygon::new(
                polygon(&q05, &q95),
                SYNTH.mix(0.15).filled(),
            )))
            .map_err(plot_err)?
            .label("5-95 %")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], SYNTH.mix(0.15).filled())
            });
        chart
            .draw_series(std::iter::once(Polygon::new(
                polygon(&q25, &q75),
                SYNTH.mix(0.3).filled(),
            )))
            .map_err(plot_err)?
            .label("25-75 %")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], SYNTH.mix(0.3).filled())
            });
        for s in spots.iter().take(shown) {
            chart
                .draw_series(LineSeries::new(
                    ks.iter().map(|&k| (k as f64, s[k])),
                    REAL.mix(0.35).stroke_width(1),
                ))
                .map_err(plot_err)?;
        }
        chart
            .draw_series(LineSeries::new(q50, SYNTH.stroke_width(2)))
            .map_err(plot_err)?
            .label("median")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], SYNTH.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// One chain date's smile for [`smiles`]: its label and (ln(K/F), implied
/// vol) points in strike order.
pub struct Smile {
    /// Legend text (the date and the path's state).
    pub label: String,
    /// (log forward moneyness, implied vol).
    pub points: Vec<(f64, f64)>,
}

/// A path's implied-vol smiles at several dates (left) and its 30-day
/// at-the-money implied vol against its conditional vol (right): how the
/// chain moves with the path's state.
pub fn smiles(
    title: &str,
    smiles: &[Smile],
    iv30: &[(f64, f64)],
    conditional_vol: &[(f64, f64)],
) -> Result<String> {
    let (klo, khi) = finite_range(smiles.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (vlo, vhi) = finite_range(
        smiles
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(iv30.iter().chain(conditional_vol).map(|p| p.1)),
    );
    let (slo, shi) = finite_range(iv30.iter().chain(conditional_vol).map(|p| p.0));
    svg((1200, 500), |root| {
        let (left, right) = root.split_horizontally(600);
        let mut chart = ChartBuilder::on(&left)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(klo..khi, vlo..vhi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("log forward moneyness ln(K/F)")
            .y_desc("implied vol")
            .draw()
            .map_err(plot_err)?;
        let n = smiles.len().max(2) as f64;
        for (i, s) in smiles.iter().enumerate() {
            // From blue (first date) to red (last).
            let f = i as f64 / (n - 1.0);
            let colour = RGBColor(
                (31.0 + f * (214.0 - 31.0)) as u8,
                (119.0 + f * (39.0 - 119.0)) as u8,
                (180.0 + f * (40.0 - 180.0)) as u8,
            );
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(plot_err)?
                .label(s.label.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                .map_err(plot_err)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        let mut chart = ChartBuilder::on(&right)
            .caption(
                "30-day ATM implied vol and the path's vol",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(slo..shi, vlo..vhi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("step (trading days)")
            .y_desc("annualised vol")
            .draw()
            .map_err(plot_err)?;
        for (series, colour, label) in [
            (iv30, SYNTH, "IV30 (from the chains)"),
            (
                conditional_vol,
                REAL,
                "conditional vol √variance (spot.csv)",
            ),
        ] {
            chart
                .draw_series(LineSeries::new(
                    series.iter().copied().filter(|p| p.1.is_finite()),
                    colour.stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// The seller's hedged P&L across paths: a histogram (left) and each path's
/// P&L against its realised vol, with the implied vol of the sale marked
/// (right): paths realising less than the implied vol should earn.
pub fn hedge_pnl(pnl: &[f64], realised_vol: &[f64], implied_vol: f64) -> Result<String> {
    let (lo, hi) = finite_range(pnl.iter().copied());
    let bins = (pnl.len() as f64).sqrt().clamp(10.0, 60.0) as usize;
    let d = density(pnl, lo, hi, bins);
    let w = (hi - lo) / bins as f64;
    let top = d.iter().map(|p| p.1).fold(0.0, f64::max) * 1.1;
    let (vlo, vhi) = finite_range(realised_vol.iter().copied().chain([implied_vol]));
    svg((1200, 500), |root| {
        let (left, right) = root.split_horizontally(600);
        let mut chart = ChartBuilder::on(&left)
            .caption("Seller's hedged P&L", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top.max(1e-12))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("P&L at expiry (currency per option)")
            .y_desc("density")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(d.iter().map(|&(x, y)| {
                Rectangle::new(
                    [(x - w / 2.0, 0.0), (x + w / 2.0, y)],
                    SYNTH.mix(0.5).filled(),
                )
            }))
            .map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&right)
            .caption("P&L against realised vol", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(vlo..vhi, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("realised vol, sale to expiry (annualised)")
            .y_desc("P&L")
            .draw()
            .map_err(plot_err)?;
        let points: Vec<(f64, f64)> = realised_vol
            .iter()
            .copied()
            .zip(pnl.iter().copied())
            .collect();
        scatter(&mut chart, &points, 2, SYNTH.mix(0.6).filled(), "path")?;
        chart
            .draw_series(LineSeries::new(
                [(implied_vol, lo), (implied_vol, hi)],
                REF.stroke_width(2),
            ))
            .map_err(plot_err)?
            .label("implied vol at the sale")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], REF));
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// The noise-aware scorecard: for each statistic, the percentile of the real
/// value in the synthetic spread (dots), over the band where it matches
/// (two-sided p ≥ 0.05: percentiles 2.5–97.5 %).
pub fn spread(spread: &crate::facts::spread::Spread) -> Result<String> {
    let rows = &spread.rows;
    let n = rows.len();
    let height = 120 + 26 * n as u32;
    svg((900, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "Real value's percentile in the model's spread ({} series of {} days): {} of {} match",
                    spread.series,
                    spread.series_len,
                    spread.matched,
                    n
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(240)
            .build_cartesian_2d(0.0..100.0, -0.5..(n as f64 - 0.5))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("percentile of the real value among the synthetic series (%)")
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    rows[n - 1 - i as usize].statistic.clone()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series([Rectangle::new(
                [(2.5, -0.5), (97.5, n as f64 - 0.5)],
                REF.mix(0.12).filled(),
            )])
            .map_err(plot_err)?
            .label("matches (p ≥ 0.05)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], REF.mix(0.3).filled()));
        for (i, r) in rows.iter().enumerate() {
            if !r.percentile.is_finite() {
                continue;
            }
            let colour = if r.matches { REAL } else { SYNTH };
            let y = (n - 1 - i) as f64;
            chart
                .draw_series([Circle::new((100.0 * r.percentile, y), 5, colour.filled())])
                .map_err(plot_err)?;
        }
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())
            .map_err(plot_err)?
            .label("real value, not matched")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, SYNTH.filled()));
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

#[cfg(test)]
mod tests {
    use super::normal_quantile;

    /// Φ⁻¹ values from scipy.stats.norm.ppf (scipy 1.x).
    #[test]
    fn normal_quantile_matches_scipy() {
        for (p, x) in [
            (0.975, 1.959_963_984_540_054),
            (0.5, 0.0),
            (1e-10, -6.361_340_902_404_056),
            (0.01, -2.326_347_874_040_841),
            (0.8, 0.841_621_233_572_914_3),
        ] {
            let got = normal_quantile(p);
            assert!(
                (got - x).abs() <= 1e-13 * x.abs().max(1.0),
                "{p}: {got} vs {x}"
            );
        }
    }
}
