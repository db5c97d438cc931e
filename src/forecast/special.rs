//! Special functions of the forecast tests: the standard normal quantile,
//! the chi-squared survival function, and two numerical tools (a
//! safeguarded Newton root finder and tanh-sinh quadrature) that the
//! predictive laws share.

/// Standard normal quantile Φ⁻¹(p), accurate to about 1e-16 relative over
/// (0, 1) including the deep tails (p down to the smallest positive double,
/// and 1 − p down to 2⁻⁵³).
///
/// Wichura's algorithm AS 241 (PPND16: "The percentage points of the normal
/// distribution", Appl. Statist. 37, 1988): rational approximations in
/// `p − ½` near the centre and in `r = √(−ln min(p, 1 − p))` in the tails.
/// Written here rather than taken from `statrs` because the crate's normal
/// functions go through its erf, which is only about 1e-8 relative in the
/// tails (see [`crate::pricing::norm_cdf`]).
///
/// Returns −∞ at 0, +∞ at 1 and NaN outside [0, 1] or for NaN.
pub fn norm_ppf(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * horner(r, &AS241_A) / horner(r, &AS241_B);
    }
    // 1 − p is exact for p ≥ ½ (Sterbenz), so the upper tail loses nothing.
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let val = if r <= 5.0 {
        let r = r - 1.6;
        horner(r, &AS241_C) / horner(r, &AS241_D)
    } else {
        let r = r - 5.0;
        horner(r, &AS241_E) / horner(r, &AS241_F)
    };
    if q < 0.0 {
        -val
    } else {
        val
    }
}

/// Σ c_i r^i, coefficients from the constant term up (Horner's rule).
fn horner(r: f64, c: &[f64]) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * r + ci)
}

// The coefficients of AS 241 (PPND16), constant term first.
const AS241_A: [f64; 8] = [
    3.387_132_872_796_366_5,
    133.141_667_891_784_38,
    1_971.590_950_306_551_3,
    13_731.693_765_509_46,
    45_921.953_931_549_87,
    67_265.770_927_008_7,
    33_430.575_583_588_13,
    2_509.080_928_730_122_7,
];
const AS241_B: [f64; 8] = [
    1.0,
    42.313_330_701_600_91,
    687.187_007_492_057_9,
    5_394.196_021_424_751,
    21_213.794_301_586_597,
    39_307.895_800_092_71,
    28_729.085_735_721_943,
    5_226.495_278_852_546,
];
const AS241_C: [f64; 8] = [
    1.423_437_110_749_683_5,
    4.630_337_846_156_545,
    5.769_497_221_460_691,
    3.647_848_324_763_204_5,
    1.270_458_252_452_368_4,
    0.241_780_725_177_450_6,
    0.022_723_844_989_269_184,
    7.745_450_142_783_414e-4,
];
const AS241_D: [f64; 8] = [
    1.0,
    2.053_191_626_637_759,
    1.676_384_830_183_803_8,
    0.689_767_334_985_1,
    0.148_103_976_427_480_08,
    0.015_198_666_563_616_457,
    5.475_938_084_995_345e-4,
    1.050_750_071_644_416_8e-9,
];
const AS241_E: [f64; 8] = [
    6.657_904_643_501_103,
    5.463_784_911_164_114,
    1.784_826_539_917_291_3,
    0.296_560_571_828_504_9,
    0.026_532_189_526_576_124,
    0.001_242_660_947_388_078_4,
    2.711_555_568_743_487_6e-5,
    2.010_334_399_292_288_1e-7,
];
const AS241_F: [f64; 8] = [
    1.0,
    0.599_832_206_555_887_9,
    0.136_929_880_922_735_8,
    0.014_875_361_290_850_615,
    7.868_691_311_456_133e-4,
    1.846_318_317_510_054_8e-5,
    1.421_511_758_316_446e-7,
    2.044_263_103_389_939_7e-15,
];

/// The chi-squared survival function P(χ²ₖ > x), accurate to about
/// 1e-15·(1 + x) relative however small (it is never 1 − cdf in the upper
/// tail; e.g. p ≈ 1e-216 at k = 3, x = 1000).
///
/// The regularised upper incomplete gamma function Q(k/2, x/2) at integer
/// and half-integer order has finite sums of positive terms (Abramowitz &
/// Stegun 26.4.4 for odd k, 26.4.5 for even k): with y = x/2,
/// `Q = e^{−y} Σ_{r<k/2} y^r/r!` for even k and
/// `Q = erfc(√y) + e^{−y} Σ_{r=1}^{(k−1)/2} y^{r−½}/Γ(r + ½)` for odd k,
/// each term taken in logs (no overflow or premature underflow) and erfc
/// from libm. O(k) work. Returns 1 for x ≤ 0, 0 for x = +∞, and NaN for
/// k = 0 or NaN x.
pub fn chi2_sf(x: f64, k: u32) -> f64 {
    if k == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    let y = 0.5 * x;
    let ln_y = y.ln();
    // Terms in logs: r·ln y − ln Γ(r + 1) for even k, (r − ½)·ln y −
    // ln Γ(r + ½) for odd k, each with e^{−y}.
    let terms: Vec<f64> = if k.is_multiple_of(2) {
        (0..k / 2)
            .map(|r| {
                let r = f64::from(r);
                -y + r * ln_y - libm::lgamma(r + 1.0)
            })
            .collect()
    } else {
        (1..=(k - 1) / 2)
            .map(|r| {
                let r = f64::from(r);
                -y + (r - 0.5) * ln_y - libm::lgamma(r + 0.5)
            })
            .collect()
    };
    let sum = match terms.iter().copied().fold(f64::NEG_INFINITY, f64::max) {
        m if m == f64::NEG_INFINITY => 0.0,
        m => m.exp() * terms.iter().map(|t| (t - m).exp()).sum::<f64>(),
    };
    if k.is_multiple_of(2) {
        sum
    } else {
        libm::erfc(y.sqrt()) + sum
    }
}

/// The root of an increasing function `g` inside the bracket
/// `lo < root < hi` (`g(lo) ≤ 0 ≤ g(hi)`), by Newton steps from `x0`
/// safeguarded by bisection (Numerical Recipes' `rtsafe`).
///
/// `g` returns its value and derivative. A Newton step is taken when it
/// stays strictly inside the bracket and at least halves the step before
/// the last; otherwise the bracket is bisected (geometrically when both ends
/// have one sign and span more than a factor of four, so brackets such as
/// [−10¹⁰⁰, −1] shrink quickly). Non-finite values of `g` count by their
/// sign (−∞ is left of the root). Stops when a step, or the bracket, is
/// below `rtol·|x| + atol`.
pub(crate) fn safeguarded_newton(
    mut g: impl FnMut(f64) -> (f64, f64),
    mut lo: f64,
    mut hi: f64,
    x0: f64,
    rtol: f64,
    atol: f64,
) -> f64 {
    let mut x = if x0 > lo && x0 < hi {
        x0
    } else {
        bisect(lo, hi)
    };
    let mut step_before = hi - lo;
    let mut step = step_before;
    for _ in 0..300 {
        let (v, d) = g(x);
        if v == 0.0 {
            return x;
        }
        if v < 0.0 {
            lo = x;
        } else if v > 0.0 {
            hi = x;
        } else {
            // NaN: give up on Newton and bisect.
            hi = x;
        }
        let newton = x - v / d;
        let use_newton = v.is_finite()
            && d.is_finite()
            && d > 0.0
            && newton > lo
            && newton < hi
            && (newton - x).abs() <= 0.5 * step_before.abs();
        let next = if use_newton { newton } else { bisect(lo, hi) };
        step_before = step;
        step = next - x;
        x = next;
        let tol = rtol * x.abs() + atol;
        if step.abs() <= tol || hi - lo <= tol {
            return x;
        }
    }
    x
}

/// The midpoint of a bracket: geometric when both ends have one sign and
/// differ by more than a factor of four, arithmetic otherwise.
fn bisect(lo: f64, hi: f64) -> f64 {
    // (√a·√b rather than √(ab), which overflows for ends beyond 1e154.)
    if lo > 0.0 && hi > 4.0 * lo {
        lo.sqrt() * hi.sqrt()
    } else if hi < 0.0 && lo < 4.0 * hi {
        -((-lo).sqrt() * (-hi).sqrt())
    } else {
        0.5 * (lo + hi)
    }
}

/// ∫₋₁¹ f by tanh-sinh (double-exponential) quadrature (Takahasi & Mori,
/// "Double exponential formulas for numerical integration", Publ. RIMS 9,
/// 1974), halving the step until two levels agree to `tol_abs`.
///
/// `f` receives the node `x` and its distance to the nearer end, `1 − |x|`,
/// computed without cancellation so that integrands with algebraic
/// end-point behaviour can be evaluated near ±1. The error of a converged
/// level is roughly the square of the last difference; nodes go out to
/// `|t| = 4` (`1 − |x|` ≈ 1e-37), where the weights are below 1e-35, so the
/// integrand must be bounded there or grow more slowly than the weights
/// fall.
pub(crate) fn tanh_sinh(mut f: impl FnMut(f64, f64) -> f64, tol_abs: f64) -> f64 {
    const T_MAX: f64 = 4.0;
    const MAX_LEVEL: u32 = 10;
    let half_pi = std::f64::consts::FRAC_PI_2;
    // Value at t of weight·f(x(t)) and its mirror at −t.
    let mut node = |t: f64| -> f64 {
        let u = half_pi * t.sinh();
        let cu = u.cosh();
        let w = half_pi * t.cosh() / (cu * cu);
        // 1 − tanh(u) = 2 / (e^{2u} + 1), exact in the tails.
        let delta = 2.0 / ((2.0 * u).exp() + 1.0);
        let x = u.tanh();
        if t == 0.0 {
            w * f(0.0, 1.0)
        } else {
            w * (f(x, delta) + f(-x, delta))
        }
    };
    let mut h = 1.0;
    let mut sum = node(0.0);
    let mut k = 1.0;
    while k * h <= T_MAX {
        sum += node(k * h);
        k += 1.0;
    }
    let mut estimate = h * sum;
    for level in 1..=MAX_LEVEL {
        h *= 0.5;
        // New nodes at odd multiples of h.
        let mut k = 1.0;
        while k * h <= T_MAX {
            sum += node(k * h);
            k += 2.0;
        }
        let next = h * sum;
        let diff = (next - estimate).abs();
        estimate = next;
        if level >= 3 && diff <= tol_abs {
            break;
        }
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn norm_ppf_matches_scipy() {
        // scipy 1.17.1: scipy.stats.norm.ppf(p) (Cephes ndtri), printed with repr().
        let cases = [
            (1e-320, -38.26912534303265),
            (1e-300, -37.0470962993612),
            (1e-100, -21.273453560965322),
            (1e-10, -6.361340902404056),
            (1e-5, -4.264890793922825),
            (0.001, -3.090232306167813),
            (0.025, -1.9599639845400545),
            (0.08, -1.4050715603096329),
            (0.1, -1.2815515655446004),
            (0.3, -0.5244005127080409),
            (0.42, -0.20189347914185088),
            (0.5, 0.0),
            (0.6, 0.2533471031357997),
            (0.9, 1.2815515655446004),
            (0.975, 1.959963984540054),
            (0.999, 3.090232306167813),
            (1.0 - 1e-10, 6.361340889697422),
        ];
        for (p, want) in cases {
            let got = norm_ppf(p);
            if want == 0.0 {
                assert_eq!(got, 0.0);
            } else {
                assert!(rel(got, want) < 1e-15, "p={p:e}: {got} vs {want}");
            }
        }
        assert_eq!(norm_ppf(0.0), f64::NEG_INFINITY);
        assert_eq!(norm_ppf(1.0), f64::INFINITY);
        assert!(norm_ppf(-0.1).is_nan() && norm_ppf(1.5).is_nan() && norm_ppf(f64::NAN).is_nan());
    }

    #[test]
    fn norm_ppf_inverts_the_normal_cdf() {
        // Round trip through crate::pricing::norm_cdf (libm's erfc, a few ulp)
        // over [−37, 0] (p ≈ 6e-300 to ½: below, p is subnormal and has fewer
        // digits; above, p near 1 carries only 1e-16 absolute).
        for i in 0..=1850 {
            let x = -37.0 + 0.02 * f64::from(i);
            let p = crate::pricing::norm_cdf(x);
            let back = norm_ppf(p);
            assert!(
                (back - x).abs() <= 2e-15 * x.abs().max(1.0),
                "x={x}: {back}"
            );
        }
    }

    #[test]
    fn chi2_sf_matches_scipy() {
        // scipy 1.17.1: scipy.stats.chi2.sf(x, k), printed with repr().
        let cases = [
            (1e-8, 1, 0.9999202115440526),
            (0.5, 1, 0.47950012218695337),
            (3.841458820694124, 1, 0.04999999999999989),
            (30.0, 1, 4.3204630578274955e-08),
            (230.0, 1, 5.961322057054362e-52),
            (0.5, 2, 0.7788007830714049),
            (1.0, 2, 0.6065306597126334),
            (13.815510557964274, 2, 0.0010000000000000002),
            (230.0, 2, 1.1379798735078632e-50),
            (0.1, 3, 0.9918374237318764),
            (2.5, 3, 0.4752910833430205),
            (7.814727903251178, 3, 0.05),
            (240.0, 3, 9.517135183222611e-52),
            (1000.0, 3, 1.7994208765314067e-216),
            (25.0, 10, 0.005345505487134069),
        ];
        for (x, k, want) in cases {
            let got = chi2_sf(x, k);
            assert!(rel(got, want) < 1e-13, "x={x} k={k}: {got:e} vs {want:e}");
        }
        assert_eq!(chi2_sf(0.0, 1), 1.0);
        assert_eq!(chi2_sf(-1.0, 3), 1.0);
        assert_eq!(chi2_sf(f64::INFINITY, 2), 0.0);
        assert!(chi2_sf(1.0, 0).is_nan() && chi2_sf(f64::NAN, 1).is_nan());
    }

    #[test]
    fn tanh_sinh_integrates_end_point_singularities() {
        // ∫₋₁¹ dx/√(1 − x²) = π (inverse square-root singularities at both ends).
        let v = tanh_sinh(|x, d| 1.0 / (d * (2.0 - d)).sqrt() * (x * 0.0 + 1.0), 1e-14);
        assert!(rel(v, std::f64::consts::PI) < 1e-12, "{v}");
        // ∫₋₁¹ (1 − x)^{−1/2} dx = 2√2 (a one-sided singularity; near x = 1
        // the distance d is 1 − x).
        let v = tanh_sinh(
            |x, d| {
                if x > 0.0 {
                    d.powf(-0.5)
                } else {
                    (1.0 - x).powf(-0.5)
                }
            },
            1e-14,
        );
        assert!(rel(v, 2.0 * 2f64.sqrt()) < 1e-12, "{v}");
        // A smooth one: ∫₋₁¹ eˣ dx = e − 1/e.
        let v = tanh_sinh(|x, _| x.exp(), 1e-15);
        assert!(rel(v, 1f64.exp() - (-1f64).exp()) < 1e-14, "{v}");
    }

    #[test]
    fn safeguarded_newton_finds_roots_from_bad_starts() {
        // x³ − 2 = 0 from outside the bracket and from a flat start.
        let g = |x: f64| (x * x * x - 2.0, 3.0 * x * x);
        for x0 in [-5.0, 0.0, 1e-9, 3.9] {
            let r = safeguarded_newton(g, 0.0, 4.0, x0, 1e-15, 0.0);
            assert!(rel(r, 2f64.cbrt()) < 1e-14, "{x0}: {r}");
        }
        // A wide one-signed bracket: ln(−x) − 50 = 0 in [−1e300, −1].
        let g = |x: f64| (50.0 - (-x).ln(), -1.0 / x);
        let r = safeguarded_newton(g, -1e300, -1.0, -2.0, 1e-15, 0.0);
        assert!(rel(r, -(50f64.exp())) < 1e-14, "{r}");
    }
}
