//! Discriminative score: how well a classifier tells real windows of returns
//! from synthetic ones (the "discriminative score" of Yoon, Jarrett & van der
//! Schaar, "Time-series generative adversarial networks", NeurIPS 2019, with a
//! transparent classifier in place of their post-hoc GRU).
//!
//! Each non-overlapping window of `L` daily returns becomes 12 features that
//! carry the stylized facts a window can show: log volatility, mean,
//! skewness, excess kurtosis, the largest gain and loss and the largest
//! |return| in units of the window's own volatility, the lag-1
//! autocorrelations of r and |r|, corr(r_t, |r_{t+1}|), the log ratio of the
//! second half's to the first half's volatility, and the window's total
//! return. A ridge-penalised logistic regression (Newton–Raphson, exact and
//! deterministic) is trained and scored by blocked k-fold cross-validation
//! on balanced classes (as many synthetic windows as real ones, spread evenly
//! over the panel; folds are contiguous blocks of time and of paths, because
//! neighbouring windows share a volatility regime). The score is the held-out
//! accuracy: 0.5 means indistinguishable; `√(0.25/n)` over the n windows
//! scored is its standard error for independent windows (a lower bound, as
//! windows of one series are dependent).
//!
//! Written here rather than taken from a crate: linfa-logistic pulls in a
//! second linear-algebra stack (ndarray) for what is a 13×13 Newton step on
//! nalgebra, already a dependency.

use crate::error::{Error, Result};
use crate::stats::{central_moments, pearson};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Number of features per window.
pub const FEATURES: usize = 12;

/// Settings of the discriminative score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscriminatorConfig {
    /// Window length L (days).
    pub window: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// Ridge penalty on the standardised coefficients.
    pub ridge: f64,
}

impl Default for DiscriminatorConfig {
    fn default() -> Self {
        DiscriminatorConfig {
            window: 20,
            folds: 5,
            ridge: 1e-2,
        }
    }
}

/// Result of the discriminative score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscriminativeScore {
    /// Window length (days).
    pub window: usize,
    /// Real windows (= synthetic windows used).
    pub windows_per_class: usize,
    /// Held-out accuracy over all folds (0.5 = indistinguishable).
    pub accuracy: f64,
    /// Standard error of the accuracy, √(0.25/n).
    pub standard_error: f64,
}

/// The features of one window (see the module docs).
pub fn features(w: &[f64]) -> [f64; FEATURES] {
    let n = w.len();
    let (mean, m2, m3, m4) = central_moments(w);
    let sd = m2.sqrt().max(1e-12);
    let abs: Vec<f64> = w.iter().map(|x| x.abs()).collect();
    // A correlation with a constant series is undefined: count it as 0.
    let corr = |a: &[f64], b: &[f64]| {
        let r = pearson(a, b);
        if r.is_finite() {
            r
        } else {
            0.0
        }
    };
    let lag1 = |x: &[f64]| corr(&x[..n - 1], &x[1..]);
    let half = |x: &[f64]| (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).max(1e-24);
    let (a, b) = w.split_at(n / 2);
    let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = w.iter().copied().fold(f64::INFINITY, f64::min);
    [
        sd.ln(),
        mean,
        m3 / (sd * sd * sd),
        m4 / (m2 * m2).max(1e-48) - 3.0,
        (max - mean) / sd,
        (min - mean) / sd,
        abs.iter().copied().fold(0.0, f64::max) / sd,
        lag1(w),
        lag1(&abs),
        corr(&w[..n - 1], &abs[1..]),
        0.5 * (half(b) / half(a)).ln(),
        w.iter().sum(),
    ]
}

/// Ridge logistic regression on standardised features; returns the
/// coefficients (intercept first) and the standardisation.
struct Logistic {
    beta: DVector<f64>,
    mean: [f64; FEATURES],
    sd: [f64; FEATURES],
}

impl Logistic {
    fn fit(x: &[[f64; FEATURES]], y: &[f64], ridge: f64) -> Logistic {
        let n = x.len() as f64;
        let mut mean = [0.0; FEATURES];
        let mut sd = [0.0; FEATURES];
        for j in 0..FEATURES {
            mean[j] = x.iter().map(|r| r[j]).sum::<f64>() / n;
            sd[j] = (x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n)
                .sqrt()
                .max(1e-12);
        }
        let p = FEATURES + 1;
        let design = DMatrix::from_fn(x.len(), p, |i, j| {
            if j == 0 {
                1.0
            } else {
                (x[i][j - 1] - mean[j - 1]) / sd[j - 1]
            }
        });
        let mut beta = DVector::zeros(p);
        for _ in 0..50 {
            let eta = &design * &beta;
            let mut grad = DVector::zeros(p);
            let mut hess = DMatrix::zeros(p, p);
            for i in 0..x.len() {
                let mu = 1.0 / (1.0 + (-eta[i]).exp());
                let row = design.row(i);
                grad += row.transpose() * (y[i] - mu);
                hess += row.transpose() * row * (mu * (1.0 - mu));
            }
            for j in 1..p {
                grad[j] -= ridge * n * beta[j];
                hess[(j, j)] += ridge * n;
            }
            let Some(chol) = hess.cholesky() else { break };
            let step = chol.solve(&grad);
            beta += &step;
            if step.amax() < 1e-10 {
                break;
            }
        }
        Logistic { beta, mean, sd }
    }

    fn predict(&self, f: &[f64; FEATURES]) -> bool {
        let eta = self.beta[0]
            + f.iter()
                .zip(self.mean.iter().zip(&self.sd))
                .zip(self.beta.iter().skip(1))
                .map(|((x, (m, sd)), b)| b * (x - m) / sd)
                .sum::<f64>();
        eta > 0.0
    }
}

/// The discriminative score of synthetic paths against real returns.
pub fn score(
    real: &[f64],
    synthetic: &[Vec<f64>],
    cfg: &DiscriminatorConfig,
) -> Result<DiscriminativeScore> {
    let l = cfg.window;
    if l < 4 {
        return Err(Error::parameter("window", l, "must be at least 4 days"));
    }
    if cfg.folds < 2 {
        return Err(Error::parameter("folds", cfg.folds, "must be at least 2"));
    }
    let real_w: Vec<[f64; FEATURES]> = real.chunks_exact(l).map(features).collect();
    let syn_w: Vec<&[f64]> = synthetic.iter().flat_map(|s| s.chunks_exact(l)).collect();
    let k = real_w.len().min(syn_w.len());
    if k < 5 * cfg.folds {
        return Err(Error::parameter(
            "windows",
            k,
            format!(
                "the discriminative score needs at least {} real and synthetic windows of {l} returns",
                5 * cfg.folds
            ),
        ));
    }
    // Windows of one series share its volatility regime, so folds are
    // contiguous blocks (of time for the real series, of paths for the
    // synthetic panel): random folds would let the classifier recognise a
    // regime it saw in training, and report differences where there are none.
    // The k real windows are the first k in time; the k synthetic windows are
    // spread evenly over the panel.
    let real_f = &real_w[..k];
    let syn_f: Vec<[f64; FEATURES]> = (0..k)
        .map(|i| features(syn_w[i * syn_w.len() / k]))
        .collect();
    let mut correct = 0usize;
    for fold in 0..cfg.folds {
        let (mut x, mut y, mut test) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..k {
            let pair = [(real_f[i], 1.0), (syn_f[i], 0.0)];
            if i * cfg.folds / k == fold {
                test.extend(pair);
            } else {
                for (f, label) in pair {
                    x.push(f);
                    y.push(label);
                }
            }
        }
        let model = Logistic::fit(&x, &y, cfg.ridge);
        correct += test
            .iter()
            .filter(|(f, label)| model.predict(f) == (*label == 1.0))
            .count();
    }
    let n = 2 * k;
    Ok(DiscriminativeScore {
        window: l,
        windows_per_class: k,
        accuracy: correct as f64 / n as f64,
        standard_error: (0.25 / n as f64).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_a_known_window() {
        let w = [0.01, -0.01, 0.01, -0.01];
        let f = features(&w);
        assert!((f[0] - 0.01f64.ln()).abs() < 1e-12); // sd 0.01
        assert_eq!(f[1], 0.0); // mean
        assert!((f[3] - (1.0 - 3.0)).abs() < 1e-12); // two-point law: kurtosis 1
        assert!((f[7] + 1.0).abs() < 1e-12); // alternating: lag-1 acf −1
        assert_eq!(f[8], 0.0); // |r| constant
        assert!(f[10].abs() < 1e-12); // equal halves
    }
}
