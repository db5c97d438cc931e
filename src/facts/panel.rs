//! Cross-sectional stylized facts of a panel of stocks and their index
//! (L. Laloux, P. Cizeau, J.-P. Bouchaud & M. Potters, "Noise dressing of
//! financial correlation matrices", PRL 83, 1999; F. Longin & B. Solnik,
//! "Extreme correlation of international equity markets", J. Finance 56,
//! 2001).
//!
//! All statistics are on daily log returns and use the definitions of the
//! single-series battery in [`crate::facts`]: population moments (divided by
//! n), Pearson correlations, excess kurtosis `m4/m2² − 3`, and the
//! autocorrelation [`crate::facts::acf`] of the demeaned series
//! `Σ x_t x_{t+k} / Σ x_t²`.
//!
//! On the S&P 500 panel shipped in `data/` (20 stocks and the index,
//! 1990–2018, issue 37) the facts are: mean pairwise correlation 0.287, top
//! eigenvalue share 0.334, 3 eigenvalues above the Marchenko–Pastur edge,
//! correlation 0.447 on the most volatile 10 % of days against 0.175 on the
//! calmer half, median excess kurtosis 11.0, median |r| autocorrelation
//! 0.230 (lag 1) and 0.108 (lag 50), betas 0.61–1.56, index excess
//! kurtosis 8.8.

use super::{acf, excess_kurtosis, MIN_RETURNS};
use crate::error::{Error, Result};
use crate::stats::{mean_var, median, pearson};
use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;

/// Length (days, the current one included) of the trailing window of the
/// index volatility that splits the days into regimes.
const VOL_WINDOW: usize = 21;

/// Fraction of the days (those with a full trailing window) counted as the
/// high-volatility regime.
const HIGH_VOL_FRACTION: f64 = 0.10;

/// Fraction of the days counted as the calm regime.
const CALM_FRACTION: f64 = 0.50;

/// Cross-sectional facts of a panel of daily log returns and its index.
///
/// Correlations are Pearson correlations of daily log returns (unitless);
/// moments are population moments (divided by the number of days).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelFacts {
    /// Mean of the N(N−1)/2 off-diagonal pairwise Pearson correlations of
    /// the stocks over all days.
    pub mean_correlation: f64,
    /// Largest eigenvalue of the stocks' N×N correlation matrix divided by N
    /// (the trace): the share of the standardized variance carried by the
    /// market mode, in [1/N, 1].
    pub top_eigen_share: f64,
    /// Number of eigenvalues of the correlation matrix strictly above the
    /// Marchenko–Pastur upper edge `(1 + √(N/T))²` of a correlation matrix
    /// of N independent series of T days.
    pub eigen_above_mp: usize,
    /// Mean pairwise correlation of the stocks on the ⌈n/10⌉ days with the
    /// highest trailing 21-day index volatility (see [`panel_facts`]; n is
    /// the number of days with a full window).
    pub corr_high_vol: f64,
    /// Mean pairwise correlation on the ⌈n/2⌉ days with the lowest trailing
    /// 21-day index volatility (the calmer half).
    pub corr_calm: f64,
    /// `corr_high_vol / corr_calm`.
    pub corr_ratio: f64,
    /// Median over the stocks of the excess kurtosis `m4/m2² − 3`.
    pub median_excess_kurtosis: f64,
    /// Median over the stocks of the autocorrelation of |r| at lag 1 day
    /// ([`crate::facts::acf`]).
    pub median_acf_abs_1: f64,
    /// Median over the stocks of the autocorrelation of |r| at lag 50 days.
    pub median_acf_abs_50: f64,
    /// Per stock (in input order), the OLS slope of its return on the index
    /// return, `cov(r_i, r_m) / var(r_m)` (unitless).
    pub betas: Vec<f64>,
    /// Excess kurtosis `m4/m2² − 3` of the index returns.
    pub index_excess_kurtosis: f64,
}

/// The cross-sectional facts of the daily log returns `stocks[i]` of N ≥ 2
/// stocks and the daily log returns `index` of their index over the same T
/// days (T ≥ [`MIN_RETURNS`] = 100; every stock has exactly T returns).
///
/// Regimes: the trailing 21-day index volatility of day t (0-based) is the
/// sample standard deviation (divisor 20) of `index[t−20..=t]`, the day's
/// own return included; it is defined for t ≥ 20 only, so the first 20
/// days belong to neither regime. Of the n = T − 20 days that have it,
/// sorted by that volatility (ties: the earlier day counts as calmer), the
/// ⌈n/10⌉ highest form the high-volatility regime and the ⌈n/2⌉ lowest the
/// calm one; on each regime's days the correlations are recomputed (means
/// and variances of that subset) and averaged over the pairs. A pair with
/// a constant stock within a regime has no correlation, and the regime's
/// mean is then NaN.
///
/// # Errors
///
/// [`Error::Parameter`] when there are fewer than 2 stocks, fewer than 100
/// days, a stock whose length differs from the index's, a non-finite
/// return, or a stock or an index that is constant over the T days (or
/// whose variance underflows to 0 or overflows).
pub fn panel_facts(stocks: &[Vec<f64>], index: &[f64]) -> Result<PanelFacts> {
    validate(stocks, index)?;
    let n_stocks = stocks.len();
    let days = index.len();
    let cols: Vec<&[f64]> = stocks.iter().map(Vec::as_slice).collect();

    let corr = correlation_matrix(&cols)?;
    let mean_correlation = mean_off_diagonal(&corr);

    let eig = SymmetricEigen::try_new(corr, f64::EPSILON, 10_000).ok_or_else(|| {
        Error::Internal("the eigenvalues of the correlation matrix did not converge".into())
    })?;
    let top = eig
        .eigenvalues
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let edge = (1.0 + (n_stocks as f64 / days as f64).sqrt()).powi(2);
    let eigen_above_mp = eig.eigenvalues.iter().filter(|&&l| l > edge).count();

    let (high_days, calm_days) = regimes(index);
    let corr_on = |sel: &[usize]| -> f64 {
        let sub: Vec<Vec<f64>> = cols
            .iter()
            .map(|c| sel.iter().map(|&t| c[t]).collect())
            .collect();
        let mut sum = 0.0;
        for i in 0..n_stocks {
            for j in i + 1..n_stocks {
                sum += pearson(&sub[i], &sub[j]);
            }
        }
        sum / (n_stocks * (n_stocks - 1) / 2) as f64
    };
    let corr_high_vol = corr_on(&high_days);
    let corr_calm = corr_on(&calm_days);

    let (mean_m, var_m) = mean_var(index);
    let betas = cols
        .iter()
        .map(|c| {
            let (mean_c, _) = mean_var(c);
            let cov = c
                .iter()
                .zip(index)
                .map(|(x, y)| (x - mean_c) * (y - mean_m))
                .sum::<f64>()
                / days as f64;
            cov / var_m
        })
        .collect();

    let mut kurt = Vec::with_capacity(n_stocks);
    let mut acf1 = Vec::with_capacity(n_stocks);
    let mut acf50 = Vec::with_capacity(n_stocks);
    for c in &cols {
        kurt.push(excess_kurtosis(c));
        let abs: Vec<f64> = c.iter().map(|v| v.abs()).collect();
        let rho = acf(&abs, 50);
        acf1.push(rho.first().copied().unwrap_or(f64::NAN));
        acf50.push(rho.get(49).copied().unwrap_or(f64::NAN));
    }

    Ok(PanelFacts {
        mean_correlation,
        top_eigen_share: top / n_stocks as f64,
        eigen_above_mp,
        corr_high_vol,
        corr_calm,
        corr_ratio: corr_high_vol / corr_calm,
        median_excess_kurtosis: median(kurt),
        median_acf_abs_1: median(acf1),
        median_acf_abs_50: median(acf50),
        betas,
        index_excess_kurtosis: excess_kurtosis(index),
    })
}

/// What the panel charts draw: the stocks' correlation matrix (row-major),
/// its eigenvalues (descending), and per decile of the trailing 21-day
/// index volatility (annualised, √252 × the daily sample sd) the decile's
/// median volatility and the mean pairwise correlation on its days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelShape {
    /// Correlation matrix, row-major N×N.
    pub correlation: Vec<f64>,
    /// Eigenvalues, largest first.
    pub eigenvalues: Vec<f64>,
    /// The Marchenko–Pastur upper edge `(1 + √(N/T))²`.
    pub mp_edge: f64,
    /// (median annualised index volatility, mean pairwise correlation) per
    /// volatility decile, calmest first.
    pub corr_by_vol: Vec<(f64, f64)>,
}

/// The [`PanelShape`] of a panel (same inputs and checks as
/// [`panel_facts`]).
pub fn panel_shape(stocks: &[Vec<f64>], index: &[f64]) -> Result<PanelShape> {
    validate(stocks, index)?;
    let n = stocks.len();
    let cols: Vec<&[f64]> = stocks.iter().map(Vec::as_slice).collect();
    let corr = correlation_matrix(&cols)?;
    let eig = SymmetricEigen::try_new(corr.clone(), f64::EPSILON, 10_000).ok_or_else(|| {
        Error::Internal("the eigenvalues of the correlation matrix did not converge".into())
    })?;
    let mut eigenvalues: Vec<f64> = eig.eigenvalues.iter().copied().collect();
    eigenvalues.sort_by(|a, b| b.total_cmp(a));
    let w = VOL_WINDOW;
    let mut vol: Vec<(f64, usize)> = (w - 1..index.len())
        .map(|t| {
            let (_, v) = mean_var(&index[t + 1 - w..=t]);
            ((v * w as f64 / (w - 1) as f64 * 252.0).sqrt(), t)
        })
        .collect();
    vol.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let bins = 10;
    let corr_by_vol = (0..bins)
        .map(|b| {
            let part = &vol[b * vol.len() / bins..(b + 1) * vol.len() / bins];
            let days: Vec<usize> = part.iter().map(|p| p.1).collect();
            let sub: Vec<Vec<f64>> = cols
                .iter()
                .map(|c| days.iter().map(|&t| c[t]).collect())
                .collect();
            let mut sum = 0.0;
            for i in 0..n {
                for j in i + 1..n {
                    sum += pearson(&sub[i], &sub[j]);
                }
            }
            (part[part.len() / 2].0, sum / (n * (n - 1) / 2) as f64)
        })
        .collect();
    Ok(PanelShape {
        correlation: corr.transpose().iter().copied().collect(),
        eigenvalues,
        mp_edge: (1.0 + (n as f64 / index.len() as f64).sqrt()).powi(2),
        corr_by_vol,
    })
}

/// Spearman rank correlation of two equally long samples: the Pearson
/// correlation of their ranks, tied values sharing the average of the ranks
/// they span. In [−1, 1]; NaN when the lengths differ, there are fewer than
/// two values, a value is not finite, or either sample is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.len() < 2 || a.iter().chain(b).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    pearson(&ranks(a), &ranks(b))
}

/// 1-based ranks, ties averaged.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut r = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean:
        let avg = (start + 1 + end) as f64 / 2.0;
        for &k in &order[start..end] {
            r[k] = avg;
        }
        start = end;
    }
    r
}

fn validate(stocks: &[Vec<f64>], index: &[f64]) -> Result<()> {
    if stocks.len() < 2 {
        return Err(Error::parameter(
            "stocks",
            stocks.len(),
            "the panel facts need at least 2 stocks",
        ));
    }
    let days = index.len();
    if days < MIN_RETURNS {
        return Err(Error::parameter(
            "index",
            format!("{days} returns"),
            format!("the panel facts need at least {MIN_RETURNS} days"),
        ));
    }
    // A constant series, or one whose variance underflows or overflows, has
    // no correlation.
    let degenerate = |x: &[f64]| {
        let (_, v) = mean_var(x);
        x.iter().all(|v| *v == x[0]) || !(v > 0.0 && v.is_finite())
    };
    if let Some(t) = index.iter().position(|v| !v.is_finite()) {
        return Err(Error::parameter(
            "index",
            format!("day {t}: {}", index[t]),
            "returns must be finite",
        ));
    }
    if degenerate(index) {
        return Err(Error::parameter(
            "index",
            "constant returns",
            "the betas need an index with a positive, finite variance",
        ));
    }
    for (i, s) in stocks.iter().enumerate() {
        if s.len() != days {
            return Err(Error::parameter(
                "stocks",
                format!("stock {i} has {} returns", s.len()),
                format!("every stock needs as many returns as the index ({days})"),
            ));
        }
        if let Some(t) = s.iter().position(|v| !v.is_finite()) {
            return Err(Error::parameter(
                "stocks",
                format!("stock {i}, day {t}: {}", s[t]),
                "returns must be finite",
            ));
        }
        if degenerate(s) {
            return Err(Error::parameter(
                "stocks",
                format!("stock {i}: constant returns"),
                "correlations need a positive, finite variance",
            ));
        }
    }
    Ok(())
}

/// Pearson correlation matrix of equally long columns (population moments;
/// columns standardized once). Errors if a value is not finite, which the
/// validation of the input should rule out.
fn correlation_matrix(cols: &[&[f64]]) -> Result<DMatrix<f64>> {
    let z: Vec<Vec<f64>> = cols
        .iter()
        .map(|c| {
            let (m, v) = mean_var(c);
            let sd = v.sqrt();
            c.iter().map(|x| (x - m) / sd).collect()
        })
        .collect();
    let n = cols.len();
    let days = cols.first().map_or(0, |c| c.len()) as f64;
    let mut c = DMatrix::<f64>::identity(n, n);
    for i in 0..n {
        for j in i + 1..n {
            let r = z[i].iter().zip(&z[j]).map(|(a, b)| a * b).sum::<f64>() / days;
            c[(i, j)] = r;
            c[(j, i)] = r;
        }
    }
    if c.iter().any(|v| !v.is_finite()) {
        return Err(Error::Internal(
            "the correlation matrix of validated returns is not finite".into(),
        ));
    }
    Ok(c)
}

fn mean_off_diagonal(c: &DMatrix<f64>) -> f64 {
    let n = c.nrows();
    let mut sum = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            sum += c[(i, j)];
        }
    }
    sum / (n * (n - 1) / 2) as f64
}

/// The high-volatility and calm days (indices into the returns), by the
/// trailing [`VOL_WINDOW`]-day sample standard deviation of the index.
fn regimes(index: &[f64]) -> (Vec<usize>, Vec<usize>) {
    let w = VOL_WINDOW;
    let mut vol: Vec<(f64, usize)> = (w - 1..index.len())
        .map(|t| {
            let (_, v) = mean_var(&index[t + 1 - w..=t]);
            ((v * w as f64 / (w - 1) as f64).sqrt(), t)
        })
        .collect();
    vol.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n = vol.len();
    let n_high = (HIGH_VOL_FRACTION * n as f64).ceil() as usize;
    let n_calm = (CALM_FRACTION * n as f64).ceil() as usize;
    let mut high: Vec<usize> = vol[n - n_high..].iter().map(|p| p.1).collect();
    let mut calm: Vec<usize> = vol[..n_calm].iter().map(|p| p.1).collect();
    high.sort_unstable();
    calm.sort_unstable();
    (high, calm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::aux_rng;
    use rand::Rng;
    use rand_distr::StandardNormal;

    fn normals(rng: &mut crate::rng::PathRng, n: usize, sd: f64) -> Vec<f64> {
        (0..n)
            .map(|_| sd * rng.sample::<f64, _>(StandardNormal))
            .collect()
    }

    /// r_i = b_i·m + e_i with m ~ N(0, σ_m²), e_i ~ N(0, s_i²) independent,
    /// and the index = m. Population: corr(i, j) = b_i b_j σ_m² /
    /// √((b_i²σ_m² + s_i²)(b_j²σ_m² + s_j²)), beta_i = b_i, excess kurtosis
    /// 0, |r| autocorrelation 0; the correlation matrix is a rank-one update
    /// of a diagonal with entries < 1, so only its top eigenvalue exceeds 1.
    #[test]
    fn one_factor_panel_matches_the_population_values() {
        let t = 5000;
        let sm = 0.01;
        let b = [0.5, 0.8, 1.0, 1.2, 1.5];
        let s = [0.01, 0.012, 0.008, 0.015, 0.01];
        let mut rng = aux_rng(37, 1);
        let m = normals(&mut rng, t, sm);
        let stocks: Vec<Vec<f64>> = b
            .iter()
            .zip(&s)
            .map(|(bi, si)| {
                let e = normals(&mut rng, t, *si);
                m.iter().zip(&e).map(|(mt, et)| bi * mt + et).collect()
            })
            .collect();
        let f = panel_facts(&stocks, &m).unwrap();

        let var = |i: usize| b[i] * b[i] * sm * sm + s[i] * s[i];
        let (mut sum, mut pairs, mut se) = (0.0, 0.0, 0.0_f64);
        for i in 0..b.len() {
            for j in i + 1..b.len() {
                let rho = b[i] * b[j] * sm * sm / (var(i) * var(j)).sqrt();
                sum += rho;
                pairs += 1.0;
                // Gaussian sample correlation: sd ≈ (1 − ρ²)/√T; the sd of a
                // mean of pairs is at most the largest pair's.
                se = se.max((1.0 - rho * rho) / (t as f64).sqrt());
            }
        }
        let rho_bar = sum / pairs;
        let z = (f.mean_correlation - rho_bar) / se;
        assert!(
            z.abs() < 4.0,
            "mean correlation {} vs {rho_bar}, z = {z}",
            f.mean_correlation
        );

        for (i, beta) in f.betas.iter().enumerate() {
            // OLS slope sd: s_i / (σ_m √T).
            let z = (beta - b[i]) / (s[i] / (sm * (t as f64).sqrt()));
            assert!(z.abs() < 4.0, "beta {i}: {beta} vs {}, z = {z}", b[i]);
        }
        assert_eq!(f.eigen_above_mp, 1);
        let se_kurt = (24.0 / t as f64).sqrt();
        assert!(f.median_excess_kurtosis.abs() < 4.0 * se_kurt, "{f:?}");
        assert!(f.index_excess_kurtosis.abs() < 4.0 * se_kurt, "{f:?}");
        let band = 1.0 / (t as f64).sqrt();
        assert!(f.median_acf_abs_1.abs() < 4.0 * band, "{f:?}");
        assert!(f.median_acf_abs_50.abs() < 4.0 * band, "{f:?}");
        assert_eq!(f.corr_ratio, f.corr_high_vol / f.corr_calm);
    }

    /// Equal loadings: the population correlation matrix is equicorrelated
    /// with ρ = b²σ_m²/(b²σ_m² + s²), top eigenvalue 1 + (N − 1)ρ. Its sample
    /// estimate has sd about √2·λ/√T (Anderson 1963, for a covariance
    /// matrix; smaller for a correlation matrix).
    #[test]
    fn equicorrelated_top_eigenvalue() {
        let (t, n, sm, s) = (5000, 8, 0.01, 0.01);
        let mut rng = aux_rng(37, 2);
        let m = normals(&mut rng, t, sm);
        let stocks: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                let e = normals(&mut rng, t, s);
                m.iter().zip(&e).map(|(a, b)| a + b).collect()
            })
            .collect();
        let f = panel_facts(&stocks, &m).unwrap();
        let rho = 0.5;
        let lambda = 1.0 + (n as f64 - 1.0) * rho;
        let se = 2f64.sqrt() * lambda / (t as f64).sqrt() / n as f64;
        let z = (f.top_eigen_share - lambda / n as f64) / se;
        assert!(
            z.abs() < 4.0,
            "top share {} vs {}, z = {z}",
            f.top_eigen_share,
            lambda / n as f64
        );
        assert_eq!(f.eigen_above_mp, 1);
    }

    /// Identical columns: every correlation is 1, the correlation matrix is
    /// the all-ones matrix with eigenvalues N, 0, …, 0.
    #[test]
    fn identical_columns_have_eigen_share_one() {
        let mut rng = aux_rng(37, 3);
        let x = normals(&mut rng, 500, 0.01);
        let idx: Vec<f64> = x.iter().map(|v| 0.5 * v).collect();
        let f = panel_facts(&vec![x.clone(); 4], &idx).unwrap();
        assert!((f.top_eigen_share - 1.0).abs() < 1e-12, "{f:?}");
        assert!((f.mean_correlation - 1.0).abs() < 1e-12);
        assert!((f.corr_high_vol - 1.0).abs() < 1e-12);
        assert!((f.corr_calm - 1.0).abs() < 1e-12);
        assert_eq!(f.eigen_above_mp, 1);
        for b in &f.betas {
            assert!((b - 2.0).abs() < 1e-12, "{b}");
        }
    }

    /// The index is deterministic, alternating ±σ within blocks (calm σ =
    /// 0.5 %, turbulent 3 %; blocks calm 1500, turbulent 1000, calm 1500,
    /// turbulent 1000 days), so the regimes are a fixed set of days: a
    /// full 21-day turbulent window has the largest volatility, a full
    /// calm one the smallest, and there are 1960 ≥ ⌈4980/10⌉ of the former
    /// and 2960 ≥ ⌈4980/2⌉ of the latter. Stocks r_i = c·f + e_i with an
    /// independent factor f, e ~ N(0, 1 %²), c = 0.5 on calm days and 2 on
    /// turbulent ones: correlation 0.2 calm, 0.8 turbulent.
    #[test]
    fn regimes_follow_the_trailing_index_volatility() {
        let blocks = [
            (1500, 0.005, 0.5),
            (1000, 0.03, 2.0),
            (1500, 0.005, 0.5),
            (1000, 0.03, 2.0),
        ];
        let mut index = Vec::new();
        let mut load = Vec::new();
        for (len, sd, c) in blocks {
            for k in 0..len {
                index.push(if k % 2 == 0 { sd } else { -sd });
                load.push(c);
            }
        }
        let t = index.len();
        let mut rng = aux_rng(37, 4);
        let f = normals(&mut rng, t, 0.01);
        let stocks: Vec<Vec<f64>> = (0..6)
            .map(|_| {
                let e = normals(&mut rng, t, 0.01);
                (0..t).map(|d| load[d] * f[d] + e[d]).collect()
            })
            .collect();
        let p = panel_facts(&stocks, &index).unwrap();
        let n = (t - 20) as f64;
        // sd of a mean of pair correlations ≤ (1 − ρ²)/√days.
        let se_high = (1.0 - 0.64) / (n / 10.0).ceil().sqrt();
        let se_calm = (1.0 - 0.04) / (n / 2.0).ceil().sqrt();
        let z_high = (p.corr_high_vol - 0.8) / se_high;
        let z_calm = (p.corr_calm - 0.2) / se_calm;
        assert!(
            z_high.abs() < 4.0,
            "high-vol corr {}, z = {z_high}",
            p.corr_high_vol
        );
        assert!(
            z_calm.abs() < 4.0,
            "calm corr {}, z = {z_calm}",
            p.corr_calm
        );
        assert!(p.corr_ratio > 3.0, "{p:?}");
    }

    #[test]
    fn regime_days_are_the_top_tenth_and_bottom_half() {
        // Volatility rising with t: the last days are the most volatile.
        let index: Vec<f64> = (0..220)
            .map(|t| (1.0 + t as f64) * if t % 2 == 0 { 1e-3 } else { -1e-3 })
            .collect();
        let (high, calm) = regimes(&index);
        assert_eq!(high, (200..220).collect::<Vec<_>>());
        assert_eq!(calm, (20..120).collect::<Vec<_>>());
    }

    #[test]
    fn spearman_of_a_monotone_transform_is_one() {
        let mut rng = aux_rng(37, 5);
        let x = normals(&mut rng, 300, 1.0);
        let y: Vec<f64> = x.iter().map(|v| v.powi(3) + v.exp()).collect();
        assert!((spearman(&x, &y) - 1.0).abs() < 1e-12);
        let neg: Vec<f64> = x.iter().map(|v| -v.exp()).collect();
        assert!((spearman(&x, &neg) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn spearman_averages_tied_ranks() {
        // Ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / √(4.5·5) = √0.9.
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[10.0, 20.0, 30.0, 40.0]);
        assert!((r - 0.9f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 3.0]), vec![3.0, 1.0, 3.0, 3.0]);
    }

    #[test]
    fn spearman_of_bad_input_is_nan() {
        assert!(spearman(&[1.0, 2.0], &[1.0]).is_nan());
        assert!(spearman(&[1.0], &[1.0]).is_nan());
        assert!(spearman(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
    }

    #[test]
    fn bad_panels_are_errors() {
        let mut rng = aux_rng(37, 6);
        let idx = normals(&mut rng, 200, 0.01);
        let a = normals(&mut rng, 200, 0.01);
        let bad = |stocks: Vec<Vec<f64>>, index: &[f64], what: &str| {
            let e = panel_facts(&stocks, index).unwrap_err();
            assert!(matches!(e, Error::Parameter { .. }), "{what}: {e}");
        };
        bad(vec![a.clone()], &idx, "one stock");
        bad(vec![], &idx, "no stocks");
        bad(vec![a.clone(), a[..199].to_vec()], &idx, "unequal lengths");
        bad(
            vec![a[..99].to_vec(), a[..99].to_vec()],
            &idx[..99],
            "99 days",
        );
        let mut nan = a.clone();
        nan[17] = f64::NAN;
        bad(vec![a.clone(), nan], &idx, "NaN");
        let mut inf = a.clone();
        inf[3] = f64::INFINITY;
        bad(vec![inf, a.clone()], &idx, "infinity");
        let mut idx_nan = idx.clone();
        idx_nan[0] = f64::NEG_INFINITY;
        bad(vec![a.clone(), a.clone()], &idx_nan, "index infinity");
        bad(vec![a.clone(), vec![0.0; 200]], &idx, "constant stock");
        bad(vec![a.clone(), a.clone()], &[0.001; 200], "constant index");
        let huge: Vec<f64> = a.iter().map(|v| v * 1e300).collect();
        bad(vec![huge.clone(), huge], &idx, "overflow");
        // 100 days is enough.
        assert!(panel_facts(&[a[..100].to_vec(), idx[..100].to_vec()], &idx[..100]).is_ok());
    }
}
