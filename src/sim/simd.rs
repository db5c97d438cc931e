//! Arithmetic kernels shared by the scalar and the chunked (lockstep) code
//! paths of the generators.
//!
//! The generators advance a chunk of paths in lockstep and run their
//! deterministic arithmetic as plain loops over arrays, which the compiler
//! vectorises. IEEE-754 addition, multiplication, division and square root
//! give the same bits scalar or packed, and [`exp`] below is pure arithmetic,
//! so a path is bit-identical whichever way it was produced.

/// e^x, branch-free so that loops over it vectorise.
///
/// Written here rather than taken from a crate because glibc's `exp` (what
/// `f64::exp` calls) is an opaque scalar call that blocks vectorisation, and
/// the portable-SIMD exponential of the `wide` crate measured slower than
/// glibc on SSE2 (it handles NaN and overflow lanes with extra passes).
///
/// Method: Cody–Waite reduction `x = k·ln 2 + r`, `|r| ≤ ln 2 / 2`, with
/// `ln 2` split into a 32-bit head (so `k·ln2_hi` is exact for `|k| < 2^20`)
/// and a tail (the constants of fdlibm's `e_exp.c`); `e^r` by its Taylor
/// polynomial to degree 13 (Estrin's scheme), whose truncation error `|r|^14/14! < 5e-18` is far
/// below an ulp; `2^k` assembled in the exponent bits. Measured error against
/// glibc: ≤ 2 ulp over [−700, 700] (see the unit test). Inputs are clamped to
/// [−708, 709], beyond which e^x leaves the normal range; the generators'
/// per-step log-increments are many orders of magnitude smaller.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // 6.93147180369123816490e-01
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // 1.90821492927058770002e-10
                                                               // 1.5·2^52: adding it rounds to an integer held in the low mantissa bits.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 709.0);
    let kf = x * LOG2E + SHIFTER;
    let k = kf - SHIFTER;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Degree-13 Taylor polynomial by Estrin's scheme: dependency depth 4
    // instead of Horner's 13, so independent lanes pipeline.
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let q0 = 1.0 + r;
    let q1 = 0.5 + r * (1.0 / 6.0);
    let q2 = 1.0 / 24.0 + r * (1.0 / 120.0);
    let q3 = 1.0 / 720.0 + r * (1.0 / 5_040.0);
    let q4 = 1.0 / 40_320.0 + r * (1.0 / 362_880.0);
    let q5 = 1.0 / 3_628_800.0 + r * (1.0 / 39_916_800.0);
    let q6 = 1.0 / 479_001_600.0 + r * (1.0 / 6_227_020_800.0);
    let s0 = q0 + r2 * q1;
    let s1 = q2 + r2 * q3;
    let s2 = q4 + r2 * q5;
    let u0 = s0 + r4 * s1;
    let u1 = s2 + r4 * q6;
    let p = u0 + r8 * u1;
    // 2^k: k sits in the low bits of kf; move k + 1023 into the exponent field.
    let two_k = f64::from_bits(
        kf.to_bits()
            .wrapping_sub(SHIFTER.to_bits())
            .wrapping_add(1023)
            << 52,
    );
    p * two_k
}

#[cfg(test)]
mod tests {
    use super::exp;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_within_two_ulp_of_libm() {
        // Reference: glibc's exp (correctly rounded in practice, < 1 ulp).
        let mut worst = 0;
        let mut x = -700.0f64;
        while x <= 700.0 {
            worst = worst.max(ulps(exp(x), x.exp()));
            x += 0.012_345_678_9;
        }
        for x in [
            0.0,
            1e-300,
            -1e-300,
            1e-10,
            -1e-10,
            0.5,
            -0.5,
            1.0,
            0.346_573_59,
        ] {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        // Clamped outside [−708, 709]: tiny but positive, large but finite.
        assert_eq!(exp(-1000.0), exp(-708.0));
        assert!(exp(-1000.0) > 0.0 && exp(1000.0).is_finite());
    }
}
