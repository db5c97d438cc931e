//! The deep pricing table's regressors ([`super::term_table`]): the
//! values of a state its forecasts are linear in, and the least squares
//! that fits them. Shared by the table's fit and pricing and by the
//! networks and the smoother that correct its linear forecasts
//! ([`super::key_net`], [`super::denoise`]).

use crate::deep::{FeatureState, MixtureNet, N_FEATURES};
use crate::error::{Error, Result};

/// Regressors of the variance forecast: a constant, the network's ten
/// clamped features, ln of the one-day variance and ln of the mean-field
/// forecast to the maturity knot
/// ([`crate::deep::MixtureNet::mean_field_variance`]).
pub const REGRESSORS: usize = N_FEATURES + 3;

/// The regressors of a state at each maturity of `days`: 1, the ten
/// network inputs (clamped as the network clamps them) and ln of the
/// one-day variance, the same for every maturity, then ln of the mean-field
/// forecast to that maturity. The state is parsed and its features computed
/// once.
pub(super) fn regressors(
    net: &MixtureNet,
    raw: &[f64],
    variance: f64,
    days: &[usize],
) -> Result<Vec<[f64; REGRESSORS]>> {
    let state = FeatureState::from_slice(raw).ok_or_else(|| {
        Error::Internal(format!(
            "deep pricing needs the model's {} state values, got {raw:?}",
            crate::deep::STATE_LEN
        ))
    })?;
    let mut base = [0.0; REGRESSORS];
    base[0] = 1.0;
    base[1..=N_FEATURES].copy_from_slice(&net.inputs(&state));
    base[N_FEATURES + 1] = variance.max(1e-12).ln();
    Ok(net
        .mean_field_variance(&state, days)
        .into_iter()
        .map(|mf| {
            let mut x = base;
            x[N_FEATURES + 2] = mf.max(1e-300).ln();
            x
        })
        .collect())
}

pub(super) fn dot(a: &[f64; REGRESSORS], b: &[f64; REGRESSORS]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Least squares by SVD (the feature averages are strongly collinear; the
/// pseudo-inverse keeps the fit stable).
pub(super) fn least_squares(x: &[[f64; REGRESSORS]], y: &[f64]) -> Result<[f64; REGRESSORS]> {
    let a = nalgebra::DMatrix::from_fn(x.len(), REGRESSORS, |i, j| x[i][j]);
    let b = nalgebra::DVector::from_column_slice(y);
    let beta = a
        .svd(true, true)
        .solve(&b, 1e-10)
        .map_err(|e| Error::Internal(format!("variance forecast regression: {e}")))?;
    let mut out = [0.0; REGRESSORS];
    out.copy_from_slice(beta.as_slice());
    Ok(out)
}
