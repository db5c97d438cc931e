//! Denoising of the deep pricing table's at-the-money targets before the
//! key network learns them ([`super::key_net`]).
//!
//! Each fit state's target, `ln σ²_ATM` from 1,250 nested paths (the fit's
//! count when this was designed), carries about 0.05 of Monte-Carlo noise,
//! as much as the regression's residual it is meant to explain (with the
//! 2,500 paths of the shipped fit, the noise sd the process learns is
//! 0.031–0.043 across the maturity knots). A network fitted to the noisy
//! residuals needs an L2 penalty to stay smooth, and the penalty also
//! flattens the real structure at the stressed end of the regime. So the
//! residuals are first smoothed by Gaussian-process regression (Rasmussen &
//! Williams 2006, *Gaussian Processes for Machine Learning*, ch. 2 and 5):
//! a squared-exponential kernel with one length per standardised regressor
//! (automatic relevance determination) plus white noise, its
//! hyperparameters chosen by maximising the log marginal likelihood (eq.
//! 5.8, gradient eq. 5.9) on a subsample of the states, then the posterior
//! mean at every state (eq. 2.25). The noise variance it learns is the
//! targets' Monte-Carlo variance, so the posterior mean keeps what the
//! states share and drops what each state's own sample adds. The key
//! network is then fitted to these means with a negligible penalty. Pricing
//! never evaluates the process: its cost stays the network's.
//! The shape correction's quantile network learns from residuals smoothed
//! the same way at and above the median ([`super::term_table`]; "Smoothed
//! upper quantiles" in the book's design notes of the table), each
//! quantile with its own hyperparameters.
//!
//! Measured on a numpy prototype (scikit-learn's `GaussianProcessRegressor`,
//! hyperparameters from 600 states, posterior from 3,000 states × 1,800
//! nested paths) at the 42 held-out states × 20,000 nested paths of
//! [`super::key_net`]: the network fitted to the smoothed targets had RMS
//! errors of 0.024 / 0.020 / 0.018 in ln variance at 21 / 63 / 126 days
//! (largest at-the-money errors 1.7 / 0.7 / 0.8 vol points), against 0.037
//! / 0.031 / 0.031 (2.8 / 1.6 / 1.3) for the network fitted to the raw
//! targets of 672 states. With 672 states the process did no better than
//! the network: it needs the larger fit ([`super::term_table::STATES`]).
//!
//! Written out rather than taken from a crate: it is forty lines on
//! `nalgebra`'s Cholesky factorisation, with a fixed optimiser schedule so
//! the fit is deterministic and single-threaded per knot (the Rust
//! Gaussian-process crates fit hyperparameters with their own schedules
//! and do not expose the marginal likelihood's gradient per length).

use super::key_net::{standardisation, Adam, INPUTS};
use super::regressors::REGRESSORS;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// States (at most) on which the hyperparameters are chosen.
const HYPER_ROWS: usize = 500;
/// Adam steps on the log hyperparameters (ascending the likelihood).
const HYPER_STEPS: usize = 150;
/// Adam's step size (in log units).
const HYPER_RATE: f64 = 0.05;
/// Bounds of each length, in standard deviations of its regressor.
const LENGTH_BOUNDS: (f64, f64) = (0.1, 1000.0);

/// The chosen hyperparameters, as variances and lengths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyper {
    /// Signal variance.
    pub signal: f64,
    /// Length per standardised regressor.
    pub length: [f64; INPUTS],
    /// Noise variance.
    pub noise: f64,
}

/// The posterior mean of `y` at each row of `x` (see the module docs), and
/// the hyperparameters it used.
pub fn smooth(x: &[[f64; REGRESSORS]], y: &[f64]) -> Result<(Vec<f64>, Hyper)> {
    let n = x.len();
    if n < 2 || y.len() != n || y.iter().any(|v| !v.is_finite()) {
        return Err(Error::Internal(format!(
            "denoising needs 2 or more finite targets, one per state ({n} states, {} targets)",
            y.len()
        )));
    }
    let z = standardise(x);
    let var = y.iter().map(|v| v * v).sum::<f64>() / n as f64;
    let var = var.max(1e-12);
    // θ = ln signal, ln lengths, ln noise.
    let mut theta = [0.0; INPUTS + 2];
    theta[0] = var.ln();
    theta[1..=INPUTS].fill(3f64.ln());
    theta[INPUTS + 1] = (0.5 * var).ln();
    let stride = n.div_ceil(HYPER_ROWS);
    let zs: Vec<[f64; INPUTS]> = z.iter().step_by(stride).copied().collect();
    let ys: Vec<f64> = y.iter().step_by(stride).copied().collect();
    let mut adam = Adam::new(theta.len(), HYPER_RATE);
    for step in 1..=HYPER_STEPS {
        // Adam minimises: it is given the negative log likelihood's gradient.
        let g = gradient(&zs, &ys, &theta)?.map(|g| -g);
        adam.step([&mut theta], [&g], step);
        for l in &mut theta[1..=INPUTS] {
            *l = l.clamp(LENGTH_BOUNDS.0.ln(), LENGTH_BOUNDS.1.ln());
        }
        theta[INPUTS + 1] = theta[INPUTS + 1].max((1e-8 * var).ln());
    }
    let hyper = Hyper {
        signal: theta[0].exp(),
        length: std::array::from_fn(|d| theta[d + 1].exp()),
        noise: theta[INPUTS + 1].exp(),
    };
    let alpha = kernel(&z, &theta)
        .cholesky()
        .ok_or_else(|| Error::Internal("denoising: kernel matrix not positive definite".into()))?
        .solve(&DVector::from_column_slice(y));
    // Posterior mean at the training rows: K_f α = y − σ_n² α.
    Ok((
        y.iter()
            .zip(alpha.iter())
            .map(|(y, a)| y - hyper.noise * a)
            .collect(),
        hyper,
    ))
}

/// Each regressor (less the constant) less its mean, over its sd (the key
/// network's standardisation).
fn standardise(x: &[[f64; REGRESSORS]]) -> Vec<[f64; INPUTS]> {
    let (mean, sd) = standardisation(x);
    x.iter()
        .map(|r| std::array::from_fn(|d| (r[d + 1] - mean[d]) / sd[d]))
        .collect()
}

/// The kernel matrix at `θ`, noise on the diagonal included.
fn kernel(z: &[[f64; INPUTS]], theta: &[f64; INPUTS + 2]) -> DMatrix<f64> {
    let n = z.len();
    let signal = theta[0].exp();
    let inv_len: [f64; INPUTS] = std::array::from_fn(|d| (-theta[d + 1]).exp());
    let mut k = DMatrix::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let q: f64 = (0..INPUTS)
                .map(|d| ((z[i][d] - z[j][d]) * inv_len[d]).powi(2))
                .sum();
            let v = signal * (-0.5 * q).exp();
            k[(i, j)] = v;
            k[(j, i)] = v;
        }
    }
    let noise = theta[INPUTS + 1].exp();
    for i in 0..n {
        k[(i, i)] += noise;
    }
    k
}

/// The gradient of the log marginal likelihood in `θ`:
/// `½ tr((ααᵀ − K⁻¹) ∂K/∂θ)` with `α = K⁻¹y`.
fn gradient(
    z: &[[f64; INPUTS]],
    y: &[f64],
    theta: &[f64; INPUTS + 2],
) -> Result<[f64; INPUTS + 2]> {
    let n = z.len();
    let k = kernel(z, theta);
    let chol = k
        .clone()
        .cholesky()
        .ok_or_else(|| Error::Internal("denoising: kernel matrix not positive definite".into()))?;
    let alpha = chol.solve(&DVector::from_column_slice(y));
    let kinv = chol.inverse();
    let noise = theta[INPUTS + 1].exp();
    let inv_len: [f64; INPUTS] = std::array::from_fn(|d| (-theta[d + 1]).exp());
    let mut g = [0.0; INPUTS + 2];
    for i in 0..n {
        for j in 0..=i {
            let w = alpha[i] * alpha[j] - kinv[(i, j)];
            // Off-diagonal pairs count twice (W and ∂K are symmetric).
            let pair = if i == j { 0.5 } else { 1.0 };
            let kf = k[(i, j)] - if i == j { noise } else { 0.0 };
            g[0] += pair * w * kf;
            for d in 0..INPUTS {
                let u = (z[i][d] - z[j][d]) * inv_len[d];
                g[d + 1] += pair * w * kf * u * u;
            }
            if i == j {
                g[INPUTS + 1] += 0.5 * w * noise;
            }
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::path_rng;
    use rand_distr::{Distribution, StandardNormal};

    /// A smooth function of one regressor plus white noise of sd 0.1: the
    /// learned noise variance is the noise's (0.01) within 30 %, the
    /// irrelevant regressors get long lengths, and the posterior mean is
    /// closer to the function than the noisy targets are (its RMS error is
    /// under half the noise's sd).
    #[test]
    fn recovers_a_noisy_function() {
        let mut rng = path_rng(11, 0);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let rows: Vec<[f64; REGRESSORS]> = (0..400)
            .map(|_| {
                let mut r = [1.0; REGRESSORS];
                for v in &mut r[1..] {
                    *v = normal();
                }
                r
            })
            .collect();
        let f = |r: &[f64; REGRESSORS]| (1.5 * r[1]).sin();
        let y: Vec<f64> = rows.iter().map(|r| f(r) + 0.1 * normal()).collect();
        let (m, hyper) = smooth(&rows, &y).unwrap();
        assert!((hyper.noise / 0.01 - 1.0).abs() < 0.3, "{hyper:?}");
        assert!(hyper.length[0] < 2.0, "{hyper:?}");
        assert!(hyper.length[5] > 3.0 * hyper.length[0], "{hyper:?}");
        let rms = (rows
            .iter()
            .zip(&m)
            .map(|(r, m)| (m - f(r)).powi(2))
            .sum::<f64>()
            / 400.0)
            .sqrt();
        assert!(rms < 0.05, "posterior RMS error {rms}");
        assert!(smooth(&rows[..1], &y[..1]).is_err());
    }
}
