//! The noise-aware verdicts of the cross-sectional facts (issue 37 point
//! 3): where the real panel's value of each fact falls among the values of
//! synthetic panels of the same length, with the rank test of
//! [`crate::facts::spread`].

use super::panel::{spearman, PanelFacts};
use serde::Serialize;

/// One fact: the real value against the synthetic panels' values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelFactRow {
    /// The fact.
    pub name: String,
    /// Its real value.
    pub real: f64,
    /// Median, smallest and largest synthetic value.
    pub median: f64,
    /// Smallest synthetic value.
    pub min: f64,
    /// Largest synthetic value.
    pub max: f64,
    /// Two-sided rank p-value `2·min(#below + 1, #above + 1)/(N + 1)`
    /// (ties split evenly), capped at 1.
    pub p: f64,
    /// Whether the real value matches: p ≥ 0.05 **and** inside [min, max].
    /// With N synthetic panels the smallest p is 2/(N + 1), so for N < 39
    /// p ≥ 0.05 alone cannot fail; the range condition keeps the verdict
    /// a test (its level is 2/(N + 1): 9.5 % for 20 panels).
    pub matches: bool,
}

/// The row of `name` with the real value `real` and the synthetic values
/// `synthetic`.
pub fn fact_row(name: &str, real: f64, synthetic: &[f64]) -> PanelFactRow {
    let mut v: Vec<f64> = synthetic
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 || !real.is_finite() {
        return PanelFactRow {
            name: name.into(),
            real,
            median: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            p: f64::NAN,
            matches: false,
        };
    }
    let below = v.iter().filter(|x| **x < real).count() as f64;
    let ties = v.iter().filter(|x| **x == real).count() as f64;
    let above = n as f64 - below - ties;
    let (below, above) = (below + 0.5 * ties, above + 0.5 * ties);
    let p = (2.0 * (below + 1.0).min(above + 1.0) / (n as f64 + 1.0)).min(1.0);
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    };
    let (min, max) = (v[0], v[n - 1]);
    PanelFactRow {
        name: name.into(),
        real,
        median,
        min,
        max,
        p,
        matches: p >= super::spread::MATCH_LEVEL && real >= min && real <= max,
    }
}

/// Least Spearman rank correlation between the real betas and a synthetic
/// panel's (issue 37: the rank order of the betas preserved).
pub const BETA_SPEARMAN_MIN: f64 = 0.8;

/// The verdicts of issue 37's facts: mean pairwise correlation, top
/// eigenvalue share, eigenvalues above the Marchenko–Pastur edge,
/// correlation in the high-volatility decile and in the calm half and
/// their ratio, median excess kurtosis and |r| ACF at lags 1 and 50, the
/// index's excess kurtosis, and the betas' rank order (the real value is
/// 1, the synthetic values are each panel's Spearman correlation of its
/// betas with the real ones; it matches when their median is at least
/// [`BETA_SPEARMAN_MIN`]).
pub fn panel_fact_rows(real: &PanelFacts, synthetic: &[PanelFacts]) -> Vec<PanelFactRow> {
    type Get = fn(&PanelFacts) -> f64;
    let facts: [(&str, Get); 10] = [
        ("mean pairwise correlation", |f| f.mean_correlation),
        ("top eigenvalue share", |f| f.top_eigen_share),
        ("eigenvalues above Marchenko-Pastur", |f| {
            f.eigen_above_mp as f64
        }),
        ("correlation, high-vol decile", |f| f.corr_high_vol),
        ("correlation, calm half", |f| f.corr_calm),
        ("correlation ratio high/calm", |f| f.corr_ratio),
        ("median excess kurtosis", |f| f.median_excess_kurtosis),
        ("median |r| ACF lag 1", |f| f.median_acf_abs_1),
        ("median |r| ACF lag 50", |f| f.median_acf_abs_50),
        ("index excess kurtosis", |f| f.index_excess_kurtosis),
    ];
    let mut rows: Vec<PanelFactRow> = facts
        .iter()
        .map(|(name, get)| {
            let syn: Vec<f64> = synthetic.iter().map(get).collect();
            fact_row(name, get(real), &syn)
        })
        .collect();
    let rho: Vec<f64> = synthetic
        .iter()
        .map(|f| spearman(&f.betas, &real.betas))
        .collect();
    let mut beta = fact_row("beta rank order (Spearman)", 1.0, &rho);
    beta.matches = beta.median >= BETA_SPEARMAN_MIN;
    beta.p = f64::NAN;
    rows.push(beta);
    rows
}

/// Each asset's largest and smallest daily log return, real against the
/// synthetic panels': `real[a]` is asset a's real returns, `synthetic[p][a]`
/// panel p's; rows named "`NAME` largest day" and "`NAME` smallest day".
pub fn extreme_rows(
    names: &[String],
    real: &[Vec<f64>],
    synthetic: &[Vec<Vec<f64>>],
) -> Vec<PanelFactRow> {
    let max_of = |r: &[f64]| r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min_of = |r: &[f64]| r.iter().copied().fold(f64::INFINITY, f64::min);
    let mut rows = Vec::with_capacity(2 * names.len());
    for (a, name) in names.iter().enumerate() {
        let hi: Vec<f64> = synthetic.iter().map(|p| max_of(&p[a])).collect();
        let lo: Vec<f64> = synthetic.iter().map(|p| min_of(&p[a])).collect();
        rows.push(fact_row(
            &format!("{name} largest day"),
            max_of(&real[a]),
            &hi,
        ));
        rows.push(fact_row(
            &format!("{name} smallest day"),
            min_of(&real[a]),
            &lo,
        ));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rank p-value of a value among 1..=19: the median gets p = 1,
    /// the smallest 2·1.5/20 (a tie), a value below all 2/20, and a value
    /// below all does not match.
    #[test]
    fn rank_p_values() {
        let v: Vec<f64> = (1..=19).map(f64::from).collect();
        assert_eq!(fact_row("x", 10.0, &v).p, 1.0);
        assert!((fact_row("x", 1.0, &v).p - 0.15).abs() < 1e-12);
        let low = fact_row("x", 0.0, &v);
        assert!((low.p - 0.1).abs() < 1e-12);
        assert!(!low.matches, "outside the range");
        assert!(fact_row("x", 2.5, &v).matches);
        assert!(!fact_row("x", f64::NAN, &v).matches);
    }
}
