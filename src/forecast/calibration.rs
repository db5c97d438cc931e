//! Tests of probability integral transforms: the Kolmogorov–Smirnov test
//! of u = F(y) against Uniform(0, 1) with its exact p-value, and
//! Berkowitz's (2001) likelihood-ratio test of z = Φ⁻¹(u) against iid
//! N(0, 1).

use super::TestResult;
use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// Largest Marsaglia–Tsang–Wang matrix (2⌊nd⌋ + 1 rows) computed exactly
/// (about 0.25 s); n ≤ 26,000 never needs more (see [`ks_uniform`]).
const MTW_MAX_ORDER: usize = 601;

/// Below this one-sided probability, P(D_n ≥ d) is computed as
/// 2·P(D_n⁺ ≥ d) (relative error about P(D_n⁺ ≥ d)³ < 1e-9).
const ONE_SIDED_SWITCH: f64 = 1e-3;

/// Two-sided one-sample Kolmogorov–Smirnov test of u against
/// Uniform(0, 1): the statistic `D_n = max_i max(i/n − u_(i), u_(i) − (i−1)/n)`
/// and its exact p-value P(D_n ≥ d).
///
/// The p-value, by region:
/// * where the one-sided probability `p⁺ = P(D_n⁺ ≥ d)` is below 1e-3 (or
///   d ≥ ½, where it is exact): `2p⁺`, with p⁺ from the exact finite-n
///   formula of Birnbaum & Tingey (1951),
///   `p⁺ = d Σ_{j=0}^{⌊n(1−d)⌋} C(n, j)(1 − d − j/n)^{n−j}(d + j/n)^{j−1}`
///   (a sum of positive terms, accurate however small). Doubling overstates
///   P(D_n ≥ d) by P(D_n⁺ ≥ d, D_n⁻ ≥ d) ≈ 2(p⁺)⁴, a relative 1e-9 at the
///   switch. This is the region where 1 − P(D_n < d) would lose precision;
/// * elsewhere: `1 − P(D_n < d)` with P(D_n < d) by the matrix method of
///   Marsaglia, Tsang & Wang (2003, "Evaluating Kolmogorov's distribution",
///   J. Stat. Softw. 8(18)), exact to about 1e-13, while the matrix has at
///   most 601 rows: always for n ≤ 26,000, since the switch bounds n·d² by
///   ln(1000)/2 ≈ 3.45 (Massart's P(D_n⁺ ≥ d) ≤ e^{−2nd²});
/// * beyond (very large n, moderate p): the Kolmogorov limit with
///   Stephens' (1970) correction, `λ = d(√n + 0.12 + 0.11/√n)`,
///   `p = 2Σ(−1)^{j−1}e^{−2j²λ²}`, good to about 1e-4 relative there.
///
/// This agrees with `scipy.stats.kstest(u, 'uniform')` (method `'auto'`,
/// exact for n ≤ 10,000), which uses the same one-sided doubling in the
/// tail. Errors on an empty sample, a non-finite value, or a value
/// outside [0, 1].
pub fn ks_uniform(u: &[f64]) -> Result<TestResult> {
    if u.is_empty() {
        return Err(Error::parameter(
            "pit",
            "0 values",
            "the KS test needs at least one value",
        ));
    }
    if let Some((i, x)) = u
        .iter()
        .enumerate()
        .find(|(_, x)| !(x.is_finite() && (0.0..=1.0).contains(*x)))
    {
        return Err(Error::parameter(
            "pit",
            format!("value {i} = {x}"),
            "a PIT must lie in [0, 1]",
        ));
    }
    let mut s = u.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let d = s
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let i = i as f64;
            ((i + 1.0) / n - x).max(x - i / n)
        })
        .fold(0.0, f64::max);
    Ok(TestResult {
        statistic: d,
        p_value: kolmogorov_sf(s.len(), d),
    })
}

/// P(D_n ≥ d) for the two-sided KS statistic of n uniforms (see
/// [`ks_uniform`]).
pub fn kolmogorov_sf(n: usize, d: f64) -> f64 {
    if n == 0 || d.is_nan() {
        return f64::NAN;
    }
    let nf = n as f64;
    if d <= 0.5 / nf {
        // D_n ≥ 1/(2n) always.
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let p1 = smirnov_sf(n, d);
    if d >= 0.5 || p1 < ONE_SIDED_SWITCH {
        return (2.0 * p1).min(1.0);
    }
    let k = (nf * d).floor() as usize + 1;
    if 2 * k - 1 <= MTW_MAX_ORDER {
        (1.0 - mtw_cdf(n, d)).clamp(0.0, 1.0)
    } else {
        let lambda = d * (nf.sqrt() + 0.12 + 0.11 / nf.sqrt());
        let mut sum = 0.0;
        for j in 1..=100 {
            let j = f64::from(j);
            let term = (-2.0 * j * j * lambda * lambda).exp();
            sum += if j % 2.0 == 1.0 { term } else { -term };
            if term < 1e-17 {
                break;
            }
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// P(D_n⁺ ≥ d), 0 < d < 1, by the exact formula of Birnbaum & Tingey
/// (1951), summed in logs.
fn smirnov_sf(n: usize, d: f64) -> f64 {
    let nf = n as f64;
    let nd = nf * d;
    let ln_n_fact = libm::lgamma(nf + 1.0);
    let jmax = ((nf - nd).floor().max(0.0) as usize).min(n);
    let mut sum = 0.0;
    for j in 0..=jmax {
        let jf = j as f64;
        // 1 − d − j/n and d + j/n, without cancellation.
        let a = (nf - jf - nd) / nf;
        let b = (nd + jf) / nf;
        if a <= 0.0 {
            continue;
        }
        let ln_choose = ln_n_fact - libm::lgamma(jf + 1.0) - libm::lgamma(nf - jf + 1.0);
        sum += (ln_choose + (nf - jf) * a.ln() + (jf - 1.0) * b.ln()).exp();
    }
    (d * sum).min(1.0)
}

/// P(D_n < d) by Marsaglia, Tsang & Wang (2003): with k = ⌊nd⌋ + 1,
/// m = 2k − 1 and h = k − nd, the (k, k) entry of Hⁿ times n!/nⁿ, for the
/// m×m matrix H of their paper; the power is taken by repeated squaring
/// with the scale kept apart in a logarithm.
fn mtw_cdf(n: usize, d: f64) -> f64 {
    let nf = n as f64;
    let k = (nf * d).floor() as usize + 1;
    let m = 2 * k - 1;
    let h = k as f64 - nf * d;
    let mut hm = DMatrix::<f64>::from_fn(m, m, |i, j| if i + 1 >= j { 1.0 } else { 0.0 });
    for i in 0..m {
        hm[(i, 0)] -= h.powi(i as i32 + 1);
        hm[(m - 1, i)] -= h.powi((m - i) as i32);
    }
    if 2.0 * h - 1.0 > 0.0 {
        hm[(m - 1, 0)] += (2.0 * h - 1.0).powi(m as i32);
    }
    for i in 0..m {
        for j in 0..=(i + 1).min(m - 1) {
            // Divide by (i − j + 1)!.
            let mut f = 1.0;
            for g in 2..=(i + 1 - j) {
                f *= g as f64;
            }
            hm[(i, j)] /= f;
        }
    }
    let (q, ln_scale) = matrix_power(hm, n);
    let s = q[(k - 1, k - 1)];
    // n!/nⁿ in logs.
    let ln_factor = libm::lgamma(nf + 1.0) - nf * nf.ln();
    if s <= 0.0 {
        return 0.0;
    }
    (s.ln() + ln_scale + ln_factor).exp()
}

/// Aⁿ as (B, ln c) with Aⁿ = c·B, rescaling whenever entries grow past 1e100.
fn matrix_power(a: DMatrix<f64>, mut n: usize) -> (DMatrix<f64>, f64) {
    let mut result = DMatrix::<f64>::identity(a.nrows(), a.ncols());
    let mut ln_result = 0.0;
    let mut base = a;
    let mut ln_base = 0.0;
    let rescale = |m: &mut DMatrix<f64>, ln: &mut f64| {
        let big = m.amax();
        if big > 1e100 {
            *m /= big;
            *ln += big.ln();
        }
    };
    while n > 0 {
        if n & 1 == 1 {
            result = &result * &base;
            ln_result += ln_base;
            rescale(&mut result, &mut ln_result);
        }
        n >>= 1;
        if n > 0 {
            base = &base * &base;
            ln_base *= 2.0;
            rescale(&mut base, &mut ln_base);
        }
    }
    (result, ln_result)
}

/// The fitted alternative of Berkowitz's test with its result.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BerkowitzFit {
    /// The LR statistic and its χ²(3) p-value.
    pub test: TestResult,
    /// Estimated mean μ of the AR(1).
    pub mu: f64,
    /// Estimated innovation standard deviation σ.
    pub sigma: f64,
    /// Estimated autocorrelation ρ.
    pub rho: f64,
}

/// Berkowitz (2001) LR test: z = Φ⁻¹(PIT) against iid N(0, 1) versus a
/// Gaussian AR(1) `z_t − μ = ρ(z_{t−1} − μ) + σε_t` with free μ, σ² and
/// ρ, exact AR(1) likelihood (stationary first observation,
/// `z_1 ~ N(μ, σ²/(1 − ρ²))`), χ²(3). See [`berkowitz_fit`] for the
/// maximisation. Errors on fewer than 3 values or non-finite input.
pub fn berkowitz(z: &[f64]) -> Result<TestResult> {
    berkowitz_fit(z).map(|f| f.test)
}

/// Berkowitz's test with the fitted AR(1).
///
/// The likelihood is maximised exactly rather than by a general
/// optimiser: for fixed ρ the maximising μ is the GLS mean
/// `μ(ρ) = [(1 − ρ²)z_1 + (1 − ρ)Σ_{t≥2}(z_t − ρz_{t−1})] / [(1 − ρ²) + (n − 1)(1 − ρ)²]`
/// and σ² = S(ρ)/n with `S = (1 − ρ²)(z_1 − μ)² + Σ_{t≥2}((z_t − μ) − ρ(z_{t−1} − μ))²`,
/// leaving the profile log-likelihood
/// `ℓ(ρ) = −(n/2)(ln(2πS(ρ)/n) + 1) + ½ln(1 − ρ²)`, which is maximised
/// over ρ ∈ (−1, 1) on a grid of 400 points, then by bisection on the sign
/// of dℓ/dρ (exact, by the envelope theorem) to 1e-15 in ρ. This is the
/// maximum a general optimiser (the reference computation's BFGS and
/// Nelder–Mead in (μ, ln σ², atanh ρ)) approaches; the LR agrees with it
/// to about 1e-12. LR = max(2(ℓ₁ − ℓ₀), 0) with ℓ₀ = Σ ln φ(z_t). A
/// sequence an AR(1) fits perfectly (e.g. constant z) gets a huge LR and
/// a p-value of about 0 (exactly +∞ and 0 where S rounds to 0).
pub fn berkowitz_fit(z: &[f64]) -> Result<BerkowitzFit> {
    if z.len() < 3 {
        return Err(Error::parameter(
            "z",
            format!("{} values", z.len()),
            "the Berkowitz test needs at least 3 values",
        ));
    }
    if let Some((i, x)) = z.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(Error::parameter(
            "z",
            format!("value {i} = {x}"),
            "every transformed PIT must be finite",
        ));
    }
    let n = z.len() as f64;
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let profile = |rho: f64| -> f64 {
        let (_, s, _) = ar1_gls(z, rho);
        -0.5 * n * (ln_2pi + (s / n).ln() + 1.0) + 0.5 * (1.0 - rho * rho).ln()
    };
    // dℓ/dρ = −(n/2) S′/S − ρ/(1 − ρ²), S′ = ∂S/∂ρ at the optimal μ
    // (envelope theorem).
    let slope = |rho: f64| -> f64 {
        let (_, s, ds) = ar1_gls(z, rho);
        -0.5 * n * ds / s - rho / (1.0 - rho * rho)
    };
    // Grid over ρ ∈ (−1, 1), then the root of the slope between the best
    // point's neighbours by bisection (a function-value search would stop
    // at √ε ≈ 1e-8 in ρ on this flat a maximum); golden-section search on
    // the likelihood where the slope does not change sign there (a maximum
    // at the edge of the range, or S = 0).
    const GRID: usize = 400;
    let step = 2.0 / GRID as f64;
    let mut best = (f64::NEG_INFINITY, 0usize);
    for i in 1..GRID {
        let ll = profile(-1.0 + step * i as f64);
        if ll > best.0 {
            best = (ll, i);
        }
    }
    let centre = -1.0 + step * best.1 as f64;
    let (mut a, mut b) = (
        (centre - step).max(-1.0 + 1e-15),
        (centre + step).min(1.0 - 1e-15),
    );
    if slope(a) > 0.0 && slope(b) < 0.0 {
        for _ in 0..200 {
            let m = 0.5 * (a + b);
            if m <= a || m >= b {
                break;
            }
            if slope(m) > 0.0 {
                a = m;
            } else {
                b = m;
            }
        }
    } else {
        let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
        let mut c = b - inv_phi * (b - a);
        let mut e = a + inv_phi * (b - a);
        let (mut fc, mut fe) = (profile(c), profile(e));
        while b - a > 1e-12 {
            if fc >= fe {
                b = e;
                e = c;
                fe = fc;
                c = b - inv_phi * (b - a);
                fc = profile(c);
            } else {
                a = c;
                c = e;
                fc = fe;
                e = a + inv_phi * (b - a);
                fe = profile(e);
            }
        }
    }
    let rho = 0.5 * (a + b);
    let (mu, s, _) = ar1_gls(z, rho);
    let ll1 = profile(rho);
    let ll0 = -0.5 * (n * ln_2pi + z.iter().map(|x| x * x).sum::<f64>());
    let statistic = if s > 0.0 {
        (2.0 * (ll1 - ll0)).max(0.0)
    } else {
        f64::INFINITY
    };
    Ok(BerkowitzFit {
        test: TestResult::chi2(statistic, 3),
        mu,
        sigma: (s / n).sqrt(),
        rho,
    })
}

/// The GLS mean μ(ρ) of an AR(1), the residual sum S(ρ) at it, and
/// ∂S/∂ρ = −2ρ(z_1 − μ)² − 2Σ_{t≥2} e_t (z_{t−1} − μ) there.
fn ar1_gls(z: &[f64], rho: f64) -> (f64, f64, f64) {
    let n1 = (z.len() - 1) as f64;
    let one_m_r2 = 1.0 - rho * rho;
    let sum_a: f64 = z.windows(2).map(|w| w[1] - rho * w[0]).sum();
    let mu = (one_m_r2 * z[0] + (1.0 - rho) * sum_a) / (one_m_r2 + n1 * (1.0 - rho) * (1.0 - rho));
    let e0 = z[0] - mu;
    let (mut s, mut ds) = (one_m_r2 * e0 * e0, -2.0 * rho * e0 * e0);
    for w in z.windows(2) {
        let e = (w[1] - mu) - rho * (w[0] - mu);
        s += e * e;
        ds -= 2.0 * e * (w[0] - mu);
    }
    (mu, s, ds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::special::norm_ppf;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// u_i = ((i + ½)/n)^e, i = 0..n−1: a PIT sample bent away from uniform.
    fn bent(n: usize, e: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + 0.5) / n as f64).powf(e))
            .collect()
    }

    #[test]
    fn ks_matches_scipy_kstest() {
        // scipy 1.17.1: scipy.stats.kstest(u, 'uniform') (method 'auto': exact
        // for n ≤ 10,000 — Durbin/Marsaglia–Tsang–Wang or Pomeranz matrices,
        // Pelz–Good where those are slow, 2·smirnov(n, d) in the tail), with
        // u from `bent(n, e)`; (n, e, D_n, p).
        let cases = [
            (7, 1.3, 0.16633407150432278, 0.9718941524931723),
            (20, 3.0, 0.409890625, 0.0014922036789468685),
            (50, 1.1, 0.045046822951693655, 0.999845848292054),
            (1006, 1.05, 0.018444128135502613, 0.8770506706903863),
            (1006, 1.1, 0.03554639154558875, 0.15359837254537567),
            (1006, 1.2, 0.06747660226687757, 0.0001994432718876851),
            (1006, 1.25, 0.08241695889049777, 2.1582680203613343e-06),
            (5000, 1.02, 0.0073848604129367335, 0.9460656760942064),
            (10000, 1.015, 0.005527163838904836, 0.9183591622815629),
        ];
        for (n, e, d, p) in cases {
            let r = ks_uniform(&bent(n, e)).unwrap();
            assert!(
                rel(r.statistic, d) < 1e-14,
                "n={n} e={e}: D {} vs {d}",
                r.statistic
            );
            // Three significant figures asked; measured agreement is far closer.
            assert!(
                rel(r.p_value, p) < 1e-6,
                "n={n} e={e}: p {:e} vs {p:e}",
                r.p_value
            );
        }
    }

    #[test]
    fn ks_p_value_in_the_limits() {
        // scipy 1.17.1: u_i = frac((i + 1)·0.6180339887498949) (a Weyl sequence,
        // far more even than random): kstest gives p = 1.0.
        let weyl: Vec<f64> = (1..=1006)
            .map(|i| (f64::from(i) * 0.618_033_988_749_894_9).fract())
            .collect();
        let r = ks_uniform(&weyl).unwrap();
        assert!(rel(r.statistic, 0.0018335158989513656) < 1e-12, "{r:?}");
        assert!((r.p_value - 1.0).abs() < 1e-12, "{r:?}");
        // scipy 1.17.1: scipy.stats.kstwo.sf(d, n).
        assert!(rel(kolmogorov_sf(10, 0.07), 0.9999999619492741) < 1e-10);
        assert!(rel(kolmogorov_sf(10, 0.12), 0.9948566839762616) < 1e-10);
        assert_eq!(kolmogorov_sf(1006, 0.6), 0.0);
        assert_eq!(kolmogorov_sf(1006, 0.0001), 1.0);
        // n = 30,000 (exact matrix, 541 rows) and, beyond the exact matrix
        // (n·d = 400), the Kolmogorov limit with Stephens' correction, against
        // kstwo.sf (Pelz–Good for both).
        assert!(rel(kolmogorov_sf(30_000, 0.009), 0.01540744518025023) < 1e-5);
        assert!(rel(kolmogorov_sf(100_000, 0.004), 0.08130148920222469) < 1e-3);
    }

    #[test]
    fn ks_rejects_bad_input() {
        assert!(ks_uniform(&[]).is_err());
        let e = ks_uniform(&[0.2, 1.5]).unwrap_err().to_string();
        assert!(e.contains("value 1 = 1.5"), "{e}");
        assert!(ks_uniform(&[0.2, f64::NAN]).is_err());
    }

    /// MINSTD (Park & Miller: x ← 48271·x mod 2³¹ − 1) uniforms (x + ½)/m,
    /// exact integer arithmetic, so Python reproduces them bit for bit.
    fn minstd(n: usize, seed: u64) -> Vec<f64> {
        let m = 2_147_483_647u64;
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = 48_271 * x % m;
                (x as f64 + 0.5) / m as f64
            })
            .collect()
    }

    #[test]
    fn berkowitz_matches_the_reference_script() {
        // The reference script's berkowitz (BFGS and Nelder–Mead from OLS
        // starts, scipy 1.17.1, z = Φ⁻¹ by scipy.stats.norm.ppf), run on
        // z_t = Φ⁻¹(u_t) with u = minstd(1006, 12345) (A) and on the AR(1)
        // z_t = 0.1 + 0.3 z_{t−1} + 1.15 e_t, z_0 = 0.1/0.7 + 1.15 e_0,
        // e = Φ⁻¹(minstd(500, 777)) (B): LR and p-value. The estimates
        // are the root of the profile's slope by scipy.optimize.brentq
        // (xtol 1e-16; the script's optimisers stop within 6e-9 of it in ρ,
        // where the likelihood is flat to 1e-16).
        let a: Vec<f64> = minstd(1006, 12345).into_iter().map(norm_ppf).collect();
        let fa = berkowitz_fit(&a).unwrap();
        assert!(rel(fa.test.statistic, 0.7963677858365372) < 1e-6, "{fa:?}");
        assert!(rel(fa.test.p_value, 0.8503356125008447) < 1e-6, "{fa:?}");
        assert!((fa.rho - -0.022939363533234513).abs() < 1e-11, "{fa:?}");
        assert!((fa.mu - 0.013566823481788018).abs() < 1e-11, "{fa:?}");
        assert!((fa.sigma - 0.9933563789043309).abs() < 1e-11, "{fa:?}");

        let e: Vec<f64> = minstd(500, 777).into_iter().map(norm_ppf).collect();
        let mut b = vec![0.1 / 0.7 + 1.15 * e[0]];
        for t in 1..500 {
            b.push(0.1 + 0.3 * b[t - 1] + 1.15 * e[t]);
        }
        let fb = berkowitz_fit(&b).unwrap();
        assert!(rel(fb.test.statistic, 93.79766493849661) < 1e-6, "{fb:?}");
        assert!(rel(fb.test.p_value, 3.347265633974303e-20) < 1e-5, "{fb:?}");
        assert!((fb.rho - 0.24058253725909867).abs() < 1e-11, "{fb:?}");
        assert!((fb.mu - 0.17001350848062122).abs() < 1e-11, "{fb:?}");
        assert!((fb.sigma - 1.1944466421572022).abs() < 1e-11, "{fb:?}");
        assert_eq!(berkowitz(&b).unwrap(), fb.test);
    }

    #[test]
    fn berkowitz_edge_cases() {
        assert!(berkowitz(&[0.1, 0.2])
            .unwrap_err()
            .to_string()
            .contains("at least 3"));
        assert!(berkowitz(&[0.1, f64::INFINITY, 0.3]).is_err());
        // A constant sequence is an AR(1) with zero innovations: a huge LR.
        let r = berkowitz(&[0.4; 10]).unwrap();
        assert!(r.statistic > 500.0 && r.p_value < 1e-100, "{r:?}");
        // Three values are enough to fit.
        assert!(berkowitz(&[0.3, -1.2, 0.8]).unwrap().statistic.is_finite());
    }
}
