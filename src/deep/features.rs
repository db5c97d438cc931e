//! The conditioning features: fixed recursions of past standardised returns
//! `z = r / scale`, shared by training (a feature row per day) and generation
//! (one state per path), so both see bit-identical inputs.

/// Half-lives (days) of the exponentially weighted averages.
pub const HALF_LIVES: [f64; H] = [1.0, 4.0, 16.0, 64.0, 256.0];

const H: usize = 5;

/// Features per day: for each half-life, ln of the average z² and the
/// normalised average z.
pub const N_FEATURES: usize = 2 * H;

/// Values in the recursion state (see [`FeatureState::to_vec`]).
pub const STATE_LEN: usize = 3 * H;

/// Values in the recursion state of models written before the averages of
/// the negative days' squares existed: [`FeatureState::from_slice`] reads
/// them too.
pub const LEGACY_STATE_LEN: usize = 2 * H;

/// Regressors of the variance core ([`FeatureState::core_regressors`]).
pub const CORE_LEN: usize = 1 + 2 * H;

/// Squashes a feature vector smoothly into a box: each `ln` average of z²
/// becomes `a·tanh(f/a)` and each normalised signed average `b·tanh(f/b)`,
/// with `[a, b] = scales`. Near the centre of the data the features are
/// unchanged; in the sparse corners (weeks of one-signed days, long runs of
/// huge squares) the network sees them compressed, so that its response
/// there is an interpolation of what it learnt nearer the centre rather
/// than a steep fit to a handful of days. Measured on the S&P 500 (the
/// book's "Squashed features" section), it damps the feedback of the
/// network's free-running volatility on itself. A smooth map of the
/// inputs, applied alike in training and generation: the returns' law is
/// not cut anywhere.
#[inline]
pub fn squash(f: &mut [f64; N_FEATURES], scales: [f64; 2]) {
    let [a, b] = scales;
    for j in 0..H {
        f[2 * j] = a * (f[2 * j] / a).tanh();
        f[2 * j + 1] = b * (f[2 * j + 1] / b).tanh();
    }
}

/// The recursion state after some day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureState {
    sq: [f64; H],
    signed: [f64; H],
    /// Averages of z² on the days with z < 0 (0 on the others): the
    /// leverage half of a GJR-GARCH variance, read only by the variance
    /// core.
    neg: [f64; H],
}

impl Default for FeatureState {
    /// A calm, neutral start: unit variance at every scale, no trend.
    fn default() -> Self {
        FeatureState {
            sq: [1.0; H],
            signed: [0.0; H],
            neg: [0.5; H],
        }
    }
}

/// Per half-life h: `λ = 2^{-1/h}` and the sd of an EWMA of unit white
/// noise, √((1−λ)/(1+λ)); computed once, not on every update of every path.
static DECAYS: std::sync::LazyLock<[(f64, f64); H]> = std::sync::LazyLock::new(|| {
    HALF_LIVES.map(|h| {
        let l = (-std::f64::consts::LN_2 / h).exp();
        (l, ((1.0 - l) / (1.0 + l)).sqrt())
    })
});

impl FeatureState {
    /// Folds in the standardised return `z` of the next day.
    #[inline]
    pub fn update(&mut self, z: f64) {
        for (j, (l, _)) in DECAYS.iter().enumerate() {
            let l = *l;
            self.sq[j] = l * self.sq[j] + (1.0 - l) * z * z;
            self.signed[j] = l * self.signed[j] + (1.0 - l) * z;
            self.neg[j] = l * self.neg[j] + if z < 0.0 { (1.0 - l) * z * z } else { 0.0 };
        }
    }

    /// Folds in the expectation of the next day instead of a draw: `E[z]`
    /// into the signed averages, `E[z²]` into the squared ones and half of
    /// it into those of the negative days (exact for a law symmetric about
    /// 0; the mean-field path of
    /// [`crate::deep::MixtureNet::mean_field_variance`]).
    #[inline]
    pub fn update_moments(&mut self, m1: f64, m2: f64) {
        for (j, (l, _)) in DECAYS.iter().enumerate() {
            let l = *l;
            self.sq[j] = l * self.sq[j] + (1.0 - l) * m2;
            self.signed[j] = l * self.signed[j] + (1.0 - l) * m1;
            self.neg[j] = l * self.neg[j] + (1.0 - l) * 0.5 * m2;
        }
    }

    /// The feature vector (O(1) values for the network).
    #[inline]
    pub fn features(&self, out: &mut [f64; N_FEATURES]) {
        for (j, (_, sd)) in DECAYS.iter().enumerate() {
            out[2 * j] = (self.sq[j] + 1e-4).ln();
            out[2 * j + 1] = self.signed[j] / sd;
        }
    }

    /// [`Self::features`], then [`squash`]ed when `scales` are given: the
    /// vector a network trained with those scales reads (before its box).
    #[inline]
    pub fn squashed_features(&self, out: &mut [f64; N_FEATURES], scales: Option<[f64; 2]>) {
        self.features(out);
        if let Some(scales) = scales {
            squash(out, scales);
        }
    }

    /// The regressors of the variance core ([`CORE_LEN`] values): 1, the
    /// averages of z² at every half-life, and those of the negative days'
    /// z². A core variance is their combination with non-negative weights:
    /// an ARCH(∞) variance whose kernel is a mix of the five exponentials,
    /// with a leverage half as in GJR-GARCH (which is the one-exponential
    /// case). It is linear in the last squared shock, where the network's
    /// inputs see it through a logarithm.
    #[inline]
    pub fn core_regressors(&self) -> [f64; CORE_LEN] {
        let mut out = [0.0; CORE_LEN];
        out[0] = 1.0;
        out[1..=H].copy_from_slice(&self.sq);
        out[1 + H..].copy_from_slice(&self.neg);
        out
    }

    /// The state after folding in every value of `z`, from the default.
    pub fn after(z: &[f64]) -> Self {
        let mut s = FeatureState::default();
        for &x in z {
            s.update(x);
        }
        s
    }

    /// The raw recursion values (for the model config): the averages of z²,
    /// those of z, then those of the negative days' z².
    pub fn to_vec(&self) -> Vec<f64> {
        self.sq
            .iter()
            .chain(&self.signed)
            .chain(&self.neg)
            .copied()
            .collect()
    }

    /// The values a model's config keeps: [`Self::to_vec`] for a model with
    /// a variance core, the first [`LEGACY_STATE_LEN`] (the averages of z²
    /// and of z) for one without, which never reads the others: a model
    /// trained with the core off has the config it had before the core
    /// existed, bit for bit.
    pub fn config_values(&self, core: bool) -> Vec<f64> {
        let mut v = self.to_vec();
        if !core {
            v.truncate(LEGACY_STATE_LEN);
        }
        v
    }

    /// Writes [`FeatureState::to_vec`]'s values into `out` (length
    /// [`STATE_LEN`]) without allocating.
    pub fn write_to(&self, out: &mut [f64]) {
        out[..H].copy_from_slice(&self.sq);
        out[H..2 * H].copy_from_slice(&self.signed);
        out[2 * H..STATE_LEN].copy_from_slice(&self.neg);
    }

    /// The inverse of [`FeatureState::to_vec`]; None if the length is wrong
    /// or a value is not finite or a variance is negative. A state of
    /// [`LEGACY_STATE_LEN`] values (a model written before the negative
    /// days' averages) gets half of each average of z² there: such a model
    /// has no variance core and never reads them.
    pub fn from_slice(v: &[f64]) -> Option<Self> {
        if !(v.len() == STATE_LEN || v.len() == LEGACY_STATE_LEN)
            || v.iter().any(|x| !x.is_finite())
            || v[..H].iter().any(|x| *x < 0.0)
            || v[2 * H..].iter().any(|x| *x < 0.0)
        {
            return None;
        }
        let mut s = FeatureState::default();
        s.sq.copy_from_slice(&v[..H]);
        s.signed.copy_from_slice(&v[H..2 * H]);
        if v.len() == STATE_LEN {
            s.neg.copy_from_slice(&v[2 * H..]);
        } else {
            s.neg = s.sq.map(|x| 0.5 * x);
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a long run of z = 1 (78 half-lives of the slowest average) every average of z² and z is 1 (so the
    /// normalised signed feature is 1/sd), exactly as the geometric series
    /// says.
    #[test]
    fn ewma_recursions_converge_to_the_constant() {
        let s = FeatureState::after(&[1.0; 20_000]);
        let mut f = [0.0; N_FEATURES];
        s.features(&mut f);
        for (j, h) in HALF_LIVES.iter().enumerate() {
            assert!((f[2 * j] - (1.0001f64).ln()).abs() < 1e-12);
            let l = 2f64.powf(-1.0 / h);
            assert!((f[2 * j + 1] - ((1.0 + l) / (1.0 - l)).sqrt()).abs() < 1e-9);
        }
        assert_eq!(FeatureState::from_slice(&s.to_vec()), Some(s));
    }

    /// The negative days' averages by hand: from the default (z² averages
    /// 1, negative days' 0.5), z = −2 then z = 1 at the 1-day half-life
    /// (λ = 0.5) give z² averages 2.5 then 1.75 and negative days' 2.25
    /// then 1.125; the core regressors are 1, the former, the latter. A
    /// state of a model written before them (10 values) reads with half
    /// of each z² average there.
    #[test]
    fn negative_day_averages_and_states_of_older_models() {
        let s = FeatureState::after(&[-2.0, 1.0]);
        let c = s.core_regressors();
        assert_eq!(c[0], 1.0);
        assert!((c[1] - 1.75).abs() < 1e-15 && (c[1 + H] - 1.125).abs() < 1e-15);
        let v = s.to_vec();
        assert_eq!(v.len(), STATE_LEN);
        assert_eq!(FeatureState::from_slice(&v), Some(s));
        let old = FeatureState::from_slice(&v[..LEGACY_STATE_LEN]).unwrap();
        assert_eq!(old.to_vec()[..LEGACY_STATE_LEN], v[..LEGACY_STATE_LEN]);
        assert_eq!(old.core_regressors()[1 + H], 0.5 * 1.75);
        let mut bad = v.clone();
        bad[2 * H] = -1.0;
        assert_eq!(FeatureState::from_slice(&bad), None);
        assert_eq!(FeatureState::from_slice(&v[..12]), None);
    }

    /// The squash is odd, increasing, bounded by its scales and the identity
    /// to first order: `a·tanh(f/a) = f − f³/(3a²) + …`.
    #[test]
    fn squash_is_bounded_odd_and_the_identity_near_zero() {
        let mut f = [0.0; N_FEATURES];
        for (j, v) in f.iter_mut().enumerate() {
            *v = (j as f64 - 4.5) * 3.0;
        }
        let before = f;
        squash(&mut f, [4.0, 1.5]);
        for (j, (&x, &y)) in before.iter().zip(&f).enumerate() {
            let c = if j % 2 == 0 { 4.0 } else { 1.5 };
            assert!(y.abs() < c && y.signum() == x.signum() && y.abs() <= x.abs());
        }
        let mut small = [1e-3; N_FEATURES];
        squash(&mut small, [4.0, 1.5]);
        assert!((small[0] - (1e-3 - 1e-9 / 48.0)).abs() < 1e-15);
        assert!((small[1] - (1e-3 - 1e-9 / 6.75)).abs() < 1e-15);
    }
}
