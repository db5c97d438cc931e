//! Forecast evaluation: the statistics that judge predictive laws against
//! realised values, for backtests of the models as forecasters.
//!
//! The module knows nothing of models. It works on predictive laws — a
//! parametric one-day law ([`OneDayLaw`]: normal, standardised Student-t,
//! Student-t mixture) or the draws of a simulation ([`Sample`]) — and on
//! what they are tested with: hit sequences, PITs, realised values.
//!
//! * **VaR backtests** on a hit sequence (a hit: the realised return fell
//!   below the VaR): [`kupiec`]'s proportion of failures (P. Kupiec,
//!   "Techniques for verifying the accuracy of risk measurement models",
//!   J. Derivatives 3, 1995), [`christoffersen_independence`] and
//!   [`conditional_coverage`] (P. Christoffersen, "Evaluating interval
//!   forecasts", Int. Econ. Rev. 39, 1998).
//! * **PIT tests**: [`ks_uniform`], the Kolmogorov–Smirnov test of
//!   u = F(y) against Uniform(0, 1) with the exact finite-n p-value
//!   (G. Marsaglia, W. W. Tsang & J. Wang, "Evaluating Kolmogorov's
//!   distribution", J. Stat. Softw. 8(18), 2003), and [`berkowitz`]'s
//!   likelihood-ratio test of z = Φ⁻¹(u) against iid N(0, 1) (J. Berkowitz,
//!   "Testing density forecasts, with applications to risk management",
//!   J. Bus. Econ. Stat. 19, 2001).
//! * **Scores**: the continuous ranked probability score
//!   ([`OneDayLaw::crps`], [`Sample::crps`]; T. Gneiting & A. E. Raftery,
//!   "Strictly proper scoring rules, prediction, and estimation", JASA 102,
//!   2007; the Student-t closed form as in A. Jordan, F. Krüger &
//!   S. Lerch, "Evaluating probabilistic forecasts with scoringRules",
//!   J. Stat. Softw. 90(12), 2019).
//!
//! Every test returns a [`TestResult`]: the statistic and its p-value
//! (χ² p-values by [`chi2_sf`], accurate however small). The special
//! functions are the crate's own, each accurate to about 1e-13 relative
//! or better in the far tails: the normal through [`crate::pricing::norm_cdf`]
//! (libm's erfc) and [`norm_ppf`] (Wichura's AS 241); the Student-t
//! through the continued fraction of the regularised incomplete beta
//! function; the χ² through the finite sums of its survival function at
//! integer degrees of freedom. (`statrs` 0.19 was measured and rejected:
//! its Student-t CDF returns 0 at ν = 300, t = −12, and its erf, through
//! which its normal goes, is only about 1e-8 relative in the tails.)
//!
//! The tests pin the numbers to scipy 1.17.1 (and mpmath where scipy is
//! the less accurate) and to an independent Python reference of the
//! backtest statistics, as each test says.

pub mod calibration;
pub mod coverage;
pub mod law;
pub mod sample;
pub mod special;
mod student;

pub use calibration::{berkowitz, berkowitz_fit, kolmogorov_sf, ks_uniform, BerkowitzFit};
pub use coverage::{christoffersen_independence, conditional_coverage, kupiec, transitions};
pub use law::OneDayLaw;
pub use sample::Sample;
pub use special::{chi2_sf, norm_ppf};

/// A likelihood-ratio (or other) test: its statistic and p-value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TestResult {
    /// The test statistic.
    pub statistic: f64,
    /// Its p-value.
    pub p_value: f64,
}

impl TestResult {
    /// NaN statistic and p-value: the result of a test on too little data.
    pub(crate) const NAN: TestResult = TestResult {
        statistic: f64::NAN,
        p_value: f64::NAN,
    };

    /// A statistic with its χ²(k) p-value (NaN for a NaN statistic).
    pub(crate) fn chi2(statistic: f64, k: u32) -> TestResult {
        TestResult {
            statistic,
            p_value: chi2_sf(statistic, k),
        }
    }
}
