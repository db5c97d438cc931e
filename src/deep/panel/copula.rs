//! The Student-t copula that joins the assets' innovations (Demarta &
//! McNeil, "The t copula and related copulas", Int. Stat. Review 73, 2005).
//!
//! Each asset's deep model leaves an innovation `ε_t = z_t/σ_t − μ_t` with a
//! known law (its Student-t mixture). Its probability integral transform
//! `u = F(ε)` is uniform if the model is right; `s = t_ν⁻¹(u)` turns the
//! uniforms of all assets into t scores, and the copula says the score
//! vectors are multivariate t with ν degrees of freedom and correlation R.
//!
//! Why a t copula and not a Gaussian one: the shared χ² mixing variable of
//! the multivariate t makes large innovations arrive together (tail
//! dependence `2 t_{ν+1}(−√((ν+1)(1−ρ)/(1+ρ)))`, Demarta & McNeil eq. 3): on
//! a crash day every stock's and the index's innovation is large, so every
//! volatility state rises at once and correlations rise with volatility, as
//! in the real panel. A Gaussian copula has no tail dependence.
//!
//! Estimation is the usual two-step pseudo-likelihood (Genest, Ghoudi &
//! Rivest 1995 with the margins of the fitted models, "inference functions
//! for margins"): for each ν of a grid, R is the Pearson correlation of the
//! scores (the moment estimator of the t scale matrix's correlation), and
//! the ν of the largest copula log-likelihood is kept. Written here rather
//! than taken from a crate: no maintained Rust crate fits copulas.

use crate::error::{Error, Result};
use crate::forecast::OneDayLaw;
use nalgebra::{DMatrix, DVector};

/// Degrees of freedom tried for the copula.
pub const NU_GRID: [f64; 12] = [
    3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 50.0, 100.0,
];

/// A fitted t copula.
#[derive(Debug, Clone, PartialEq)]
pub struct TCopula {
    nu: f64,
    /// Correlation, row-major d×d.
    corr: Vec<f64>,
    /// Lower Cholesky factor of `corr`, row-major d×d.
    chol: Vec<f64>,
    d: usize,
}

/// A copula fit: the copula and the log-likelihood of each ν tried.
#[derive(Debug, Clone)]
pub struct CopulaFit {
    /// The copula of the largest log-likelihood.
    pub copula: TCopula,
    /// (ν, copula log-likelihood summed over days) per ν of [`NU_GRID`].
    pub profile: Vec<(f64, f64)>,
}

/// The unit-scale Student-t law with ν degrees of freedom.
fn unit_t(nu: f64) -> OneDayLaw {
    OneDayLaw::StudentT {
        mean: 0.0,
        sd: (nu / (nu - 2.0)).sqrt(),
        nu,
    }
}

/// `t_ν⁻¹(u)` from the lower and upper tail probabilities `(F, 1 − F)`,
/// each used on its own side so that neither tail loses precision.
fn t_score(t: &OneDayLaw, lower: f64, upper: f64) -> f64 {
    if lower <= upper {
        t.quantile(lower.max(1e-300))
    } else {
        -t.quantile(upper.max(1e-300))
    }
}

fn lgamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Log-density of the univariate unit-scale t at s.
fn ln_t(s: f64, nu: f64) -> f64 {
    lgamma(0.5 * (nu + 1.0))
        - lgamma(0.5 * nu)
        - 0.5 * (nu * std::f64::consts::PI).ln()
        - 0.5 * (nu + 1.0) * (s * s / nu).ln_1p()
}

impl TCopula {
    /// A copula with ν degrees of freedom and correlation `corr` (d×d,
    /// row-major): ν > 2, a symmetric matrix with unit diagonal, entries in
    /// [−1, 1], positive definite. Errors name `what` (the model file).
    pub fn new(nu: f64, corr: Vec<f64>, d: usize, what: &str) -> Result<Self> {
        let bad = |reason: String| Error::parameter("copula", what, reason);
        if !(nu.is_finite() && nu > 2.0) {
            return Err(bad(format!("degrees of freedom {nu}: need a finite ν > 2")));
        }
        if corr.len() != d * d || d == 0 {
            return Err(bad(format!(
                "correlation has {} entries; {d} assets need {}",
                corr.len(),
                d * d
            )));
        }
        for i in 0..d {
            for j in 0..d {
                let c = corr[i * d + j];
                if !c.is_finite() || c.abs() > 1.0 + 1e-12 {
                    return Err(bad(format!("correlation ({i}, {j}) is {c}")));
                }
                if (c - corr[j * d + i]).abs() > 1e-12 {
                    return Err(bad(format!("correlation is not symmetric at ({i}, {j})")));
                }
            }
            if (corr[i * d + i] - 1.0).abs() > 1e-12 {
                return Err(bad(format!("correlation diagonal ({i}, {i}) is not 1")));
            }
        }
        let m = DMatrix::from_row_slice(d, d, &corr);
        let l = m
            .cholesky()
            .ok_or_else(|| bad("the correlation matrix is not positive definite".into()))?
            .l();
        let chol = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .map(|(i, j)| l[(i, j)])
            .collect();
        Ok(TCopula { nu, corr, chol, d })
    }

    /// Degrees of freedom.
    pub fn nu(&self) -> f64 {
        self.nu
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Correlation, row-major.
    pub fn correlation(&self) -> &[f64] {
        &self.corr
    }

    /// Correlation rows (for JSON).
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.corr.chunks(self.d).map(<[f64]>::to_vec).collect()
    }

    /// Correlates independent standard normals in place: `g ← L g`.
    #[inline]
    pub fn correlate(&self, g: &mut [f64], out: &mut [f64]) {
        let d = self.d;
        for i in 0..d {
            let row = &self.chol[i * d..i * d + i + 1];
            out[i] = row.iter().zip(&g[..=i]).map(|(a, b)| a * b).sum();
        }
    }

    /// Fits the copula to the innovations' tail probabilities:
    /// `tails[i][t] = (F_i(ε_it), 1 − F_i(ε_it))` for asset i on day t (every
    /// asset the same number of days, at least 2·d). With `uncorrelated =
    /// Some(k)`, asset k's row and column of R are held at 0: its scores
    /// are uncorrelated with the others' (still dependent through the
    /// shared χ² variable). A principal block of a positive definite matrix
    /// is positive definite, so the constraint keeps R valid.
    pub fn fit(tails: &[Vec<(f64, f64)>], uncorrelated: Option<usize>) -> Result<CopulaFit> {
        let d = tails.len();
        let n = tails.first().map_or(0, Vec::len);
        if d < 2 || n < 2 * d || tails.iter().any(|x| x.len() != n) {
            return Err(Error::Internal(format!(
                "copula fit: {d} assets of {n} days (need 2 or more assets, equal lengths, at least {} days)",
                2 * d
            )));
        }
        let mut best: Option<(f64, TCopula)> = None;
        let mut profile = Vec::with_capacity(NU_GRID.len());
        for &nu in &NU_GRID {
            let t = unit_t(nu);
            let scores: Vec<Vec<f64>> = tails
                .iter()
                .map(|x| x.iter().map(|&(lo, up)| t_score(&t, lo, up)).collect())
                .collect();
            let mut corr = pearson_matrix(&scores);
            if let Some(k) = uncorrelated.filter(|k| *k < d) {
                for i in (0..d).filter(|i| *i != k) {
                    corr[i * d + k] = 0.0;
                    corr[k * d + i] = 0.0;
                }
            }
            let copula = TCopula::new(nu, corr, d, "fitted")?;
            let ll = copula.log_likelihood(&scores);
            profile.push((nu, ll));
            if best.as_ref().is_none_or(|(b, _)| ll > *b) {
                best = Some((ll, copula));
            }
        }
        let (_, copula) = best.ok_or_else(|| Error::Internal("empty ν grid".into()))?;
        Ok(CopulaFit { copula, profile })
    }

    /// The copula log-likelihood of score vectors (`scores[i][t]`, already
    /// `t_ν⁻¹(u)`): Σ_t ln f_ν,R(s_t) − Σ_t Σ_i ln f_ν(s_it).
    pub fn log_likelihood(&self, scores: &[Vec<f64>]) -> f64 {
        let (d, nu) = (self.d, self.nu);
        let df = d as f64;
        let m = DMatrix::from_row_slice(d, d, &self.corr);
        let Some(ch) = m.cholesky() else {
            return f64::NEG_INFINITY;
        };
        let ln_det: f64 = 2.0 * ch.l().diagonal().iter().map(|x| x.ln()).sum::<f64>();
        let c = lgamma(0.5 * (nu + df))
            - lgamma(0.5 * nu)
            - 0.5 * df * (nu * std::f64::consts::PI).ln()
            - 0.5 * ln_det;
        let n = scores[0].len();
        let mut total = 0.0;
        let mut v = DVector::zeros(d);
        for t in 0..n {
            let mut margins = 0.0;
            for (i, series) in scores.iter().enumerate() {
                v[i] = series[t];
                margins += ln_t(v[i], nu);
            }
            let q = ch.solve(&v).dot(&v);
            total += c - 0.5 * (nu + df) * (q / nu).ln_1p() - margins;
        }
        total
    }
}

/// Pearson correlation matrix (row-major) of the series.
fn pearson_matrix(x: &[Vec<f64>]) -> Vec<f64> {
    let d = x.len();
    let n = x[0].len() as f64;
    let centred: Vec<Vec<f64>> = x
        .iter()
        .map(|s| {
            let m = s.iter().sum::<f64>() / n;
            s.iter().map(|v| v - m).collect()
        })
        .collect();
    let sd: Vec<f64> = centred
        .iter()
        .map(|s| s.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        c[i * d + i] = 1.0;
        for j in 0..i {
            let r = centred[i]
                .iter()
                .zip(&centred[j])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / (sd[i] * sd[j]);
            c[i * d + j] = r;
            c[j * d + i] = r;
        }
    }
    c
}

/// The map from a copula t score to an asset's innovation, `ε = F⁻¹(t_ν(s))`,
/// tabulated once per asset on a grid uniform in `asinh s` and read by
/// linear interpolation (a mixture quantile is a Newton solve: too slow for
/// every asset of every path and day). Beyond the grid, which ends where
/// `t_ν` leaves 1e-12 in each tail, the end values hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMap {
    y_max: f64,
    inv_step: f64,
    eps: Vec<f64>,
}

/// Grid points of a [`ScoreMap`].
const MAP_POINTS: usize = 4097;

impl ScoreMap {
    /// The map of a copula with ν degrees of freedom onto the innovation
    /// law `law` (a Student-t mixture).
    pub fn new(nu: f64, law: &OneDayLaw) -> Result<Self> {
        let t = unit_t(nu);
        let reflected = match law {
            OneDayLaw::TMixture {
                weight,
                loc,
                scale,
                nu,
            } => OneDayLaw::TMixture {
                weight: weight.clone(),
                loc: loc.iter().map(|x| -x).collect(),
                scale: scale.clone(),
                nu: nu.clone(),
            },
            other => {
                return Err(Error::Internal(format!(
                    "score map onto {other:?}: a mixture is expected"
                )))
            }
        };
        let s_max = -t.quantile(1e-12);
        let y_max = s_max.asinh();
        let step = 2.0 * y_max / (MAP_POINTS - 1) as f64;
        let eps = (0..MAP_POINTS)
            .map(|k| {
                let s = (-y_max + k as f64 * step).sinh();
                // Each side through its own tail: F⁻¹(t_ν(s)) below the
                // median, −F̃⁻¹(t_ν(−s)) above it (F̃ the reflected law).
                if s <= 0.0 {
                    law.quantile(t.cdf(s))
                } else {
                    -reflected.quantile(t.cdf(-s))
                }
            })
            .collect::<Vec<f64>>();
        if eps.iter().any(|e| !e.is_finite()) || eps.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::Internal(
                "the copula's score map is not finite and increasing".into(),
            ));
        }
        Ok(ScoreMap {
            y_max,
            inv_step: 1.0 / step,
            eps,
        })
    }

    /// The innovation of score `s`.
    #[inline]
    pub fn eps(&self, s: f64) -> f64 {
        let x = (s.asinh() + self.y_max) * self.inv_step;
        if x.is_nan() {
            return 0.0;
        }
        if x <= 0.0 {
            return self.eps[0];
        }
        let last = self.eps.len() - 1;
        if x >= last as f64 {
            return self.eps[last];
        }
        let k = x as usize;
        let f = x - k as f64;
        self.eps[k] + f * (self.eps[k + 1] - self.eps[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::path_rng;
    use rand::Rng;
    use rand_distr::{ChiSquared, StandardNormal};

    /// Draws n score vectors from a t copula with ν and a 3×3 correlation.
    fn draw(nu: f64, corr: &[f64], n: usize) -> Vec<Vec<(f64, f64)>> {
        let c = TCopula::new(nu, corr.to_vec(), 3, "test").unwrap();
        let mut rng = path_rng(7, 0);
        let chi = ChiSquared::new(nu).unwrap();
        let t = unit_t(nu);
        let mut out = vec![Vec::new(); 3];
        let (mut g, mut x) = ([0.0; 3], [0.0; 3]);
        for _ in 0..n {
            for v in g.iter_mut() {
                *v = rng.sample(StandardNormal);
            }
            c.correlate(&mut g, &mut x);
            let w: f64 = rng.sample(chi);
            for i in 0..3 {
                let s = x[i] / (w / nu).sqrt();
                out[i].push((t.cdf(s), t.sf(s)));
            }
        }
        out
    }

    /// Data drawn from a t copula with ν = 5 give back ν = 5 (the grid
    /// point of the largest likelihood) and each correlation within 3
    /// standard errors. The sample correlation of elliptical data has
    /// asymptotic variance (1 + κ)(1 − ρ²)²/n with κ = 2/(ν − 4) for the
    /// multivariate t (Muirhead, "Aspects of Multivariate Statistical
    /// Theory", 1982, §5.1.4): for ν = 5 and n = 20,000 the standard error
    /// is √3 (1 − ρ²)/√n, at most 0.0122.
    #[test]
    fn fit_recovers_a_known_t_copula() {
        let corr = [1.0, 0.6, 0.3, 0.6, 1.0, 0.2, 0.3, 0.2, 1.0];
        let fit = TCopula::fit(&draw(5.0, &corr, 20_000), None).unwrap();
        assert_eq!(fit.copula.nu(), 5.0, "profile {:?}", fit.profile);
        for (got, want) in fit.copula.correlation().iter().zip(corr) {
            let se = 3f64.sqrt() * (1.0 - want * want) / 20_000f64.sqrt();
            assert!((got - want).abs() <= 3.0 * se, "{got} vs {want} (se {se})");
        }
    }

    /// Gaussian dependence (ν = ∞) is told from t dependence: the profile
    /// rises to the largest ν of the grid.
    #[test]
    fn gaussian_dependence_picks_the_largest_nu() {
        let corr = [1.0, 0.5, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 1.0];
        let fit = TCopula::fit(&draw(1e6, &corr, 20_000), None).unwrap();
        assert!(fit.copula.nu() >= 50.0, "profile {:?}", fit.profile);
    }

    #[test]
    fn impossible_copulas_are_refused() {
        assert!(TCopula::new(2.0, vec![1.0, 0.0, 0.0, 1.0], 2, "m").is_err());
        assert!(TCopula::new(5.0, vec![1.0, 0.5, 0.4, 1.0], 2, "m").is_err());
        let not_pd = vec![1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        let e = TCopula::new(5.0, not_pd, 3, "m").unwrap_err();
        assert!(e.to_string().contains("positive definite"), "{e}");
    }

    /// The map sends scores to the law's quantiles: at s = 0 the median, and
    /// t_ν(s) = F(ε) holds across the grid to 1e-5 of the smaller tail
    /// probability (the error of linear interpolation on the asinh grid).
    #[test]
    fn score_map_matches_the_quantiles() {
        let law = OneDayLaw::TMixture {
            weight: vec![0.7, 0.3],
            loc: vec![0.1, -0.2],
            scale: vec![0.8, 1.5],
            nu: vec![8.0, 5.0],
        };
        let map = ScoreMap::new(6.0, &law).unwrap();
        let t = unit_t(6.0);
        for s in [-30.0, -5.0, -1.0, -0.1, 0.0, 0.3, 2.0, 7.5, 40.0] {
            let e = map.eps(s);
            let (p, q) = (t.cdf(s), law.cdf(e));
            assert!((p - q).abs() < 1e-5 * p.min(1.0 - p), "s {s}: {p} vs {q}");
        }
    }
}
