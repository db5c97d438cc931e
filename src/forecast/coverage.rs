//! Value-at-risk exceedance tests on a hit sequence (`true` = the realised
//! return fell below the VaR): Kupiec's (1995) proportion of failures,
//! Christoffersen's (1998) first-order Markov independence test, and their
//! sum, the conditional-coverage test.
//!
//! Log-likelihoods use the convention 0·ln 0 = 0 (scipy's `xlogy`), so a
//! sequence without hits, or of hits only, gives finite statistics.

use super::TestResult;

/// x·ln y with 0·ln y = 0 for every y (scipy.special.xlogy).
fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x * y.ln()
    }
}

/// Kupiec's (1995) proportion-of-failures test: the likelihood ratio of a
/// Bernoulli(α) hit rate against the observed rate x/n, χ²(1).
///
/// `LR_uc = −2[(n − x)ln(1 − α) + x ln α − (n − x)ln(1 − x/n) − x ln(x/n)]`.
/// An empty sequence, or α outside (0, 1), gives NaN statistic and
/// p-value. The statistic, which is ≥ 0 in exact arithmetic, is clipped at
/// 0 against rounding.
pub fn kupiec(hits: &[bool], alpha: f64) -> TestResult {
    let n = hits.len();
    if n == 0 || !(alpha > 0.0 && alpha < 1.0) {
        return TestResult::NAN;
    }
    let x = hits.iter().filter(|&&h| h).count() as f64;
    let n = n as f64;
    let rate = x / n;
    let ll0 = xlogy(n - x, 1.0 - alpha) + xlogy(x, alpha);
    let ll1 = xlogy(n - x, 1.0 - rate) + xlogy(x, rate);
    TestResult::chi2((-2.0 * (ll0 - ll1)).max(0.0), 1)
}

/// The transition counts of a hit sequence: `[n00, n01, n10, n11]`, where
/// `n_ij` counts days with state i followed by a day with state j
/// (1 = hit).
pub fn transitions(hits: &[bool]) -> [u64; 4] {
    let mut n = [0u64; 4];
    for w in hits.windows(2) {
        n[2 * usize::from(w[0]) + usize::from(w[1])] += 1;
    }
    n
}

/// Christoffersen's (1998) independence test: a first-order Markov chain
/// of hits (hit probabilities π01 after a quiet day and π11 after a hit)
/// against independence (one π), χ²(1), statistic clipped at ≥ 0.
///
/// An estimated probability whose denominator is 0 (no quiet day, or no
/// hit, before the last day) is taken as 0, as in the reference
/// computation. Fewer than two days give NaN statistic and p-value.
pub fn christoffersen_independence(hits: &[bool]) -> TestResult {
    if hits.len() < 2 {
        return TestResult::NAN;
    }
    let [n00, n01, n10, n11] = transitions(hits).map(|c| c as f64);
    let ratio = |a: f64, b: f64| if a + b > 0.0 { b / (a + b) } else { 0.0 };
    let pi01 = ratio(n00, n01);
    let pi11 = ratio(n10, n11);
    let pi = (n01 + n11) / (n00 + n01 + n10 + n11);
    let ll0 = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi);
    let ll1 = xlogy(n00, 1.0 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1.0 - pi11) + xlogy(n11, pi11);
    TestResult::chi2((-2.0 * (ll0 - ll1)).max(0.0), 1)
}

/// Christoffersen's (1998) conditional-coverage test:
/// `LR_cc = LR_uc + LR_ind` ([`kupiec`] plus
/// [`christoffersen_independence`]), χ²(2). NaN where either is.
pub fn conditional_coverage(hits: &[bool], alpha: f64) -> TestResult {
    let uc = kupiec(hits, alpha);
    let ind = christoffersen_independence(hits);
    TestResult::chi2(uc.statistic + ind.statistic, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// 1,006 days with 12 hits, two of them on consecutive days (98, 99).
    fn hits() -> Vec<bool> {
        let mut h = vec![false; 1006];
        for i in [17, 98, 99, 230, 311, 402, 515, 600, 688, 777, 850, 990] {
            h[i] = true;
        }
        h
    }

    #[test]
    fn counts_transitions() {
        // 12 hits, one pair adjacent: 11 quiet→hit, 11 hit→quiet, 1 hit→hit.
        assert_eq!(transitions(&hits()), [982, 11, 11, 1]);
        assert_eq!(transitions(&[true]), [0, 0, 0, 0]);
    }

    #[test]
    fn tests_match_the_textbook_formulas() {
        // The textbook formulas (Kupiec 1995; Christoffersen 1998) evaluated in
        // Python 3.11 math with the p-values from scipy 1.17.1 chi2.sf:
        // LR_uc = −2[(n−x)ln(1−α) + x ln α − (n−x)ln(1−x/n) − x ln(x/n)],
        // LR_ind from n00 = 982, n01 = 11, n10 = 11, n11 = 1, LR_cc = sum, χ²(2).
        // The reference script's kupiec/christoffersen_ind give the same to 4e-14.
        let h = hits();
        let ind = christoffersen_independence(&h);
        assert!(rel(ind.statistic, 2.300074025333828) < 1e-10, "{ind:?}");
        assert!(rel(ind.p_value, 0.12936783322223375) < 1e-10, "{ind:?}");
        // α = 1 %: 12 hits against 10.06 expected.
        let uc = kupiec(&h, 0.01);
        assert!(rel(uc.statistic, 0.35592904137094195) < 1e-10, "{uc:?}");
        assert!(rel(uc.p_value, 0.5507758808672316) < 1e-10, "{uc:?}");
        let cc = conditional_coverage(&h, 0.01);
        assert!(rel(cc.statistic, 0.35592904137094195 + 2.300074025333828) < 1e-10);
        assert!(rel(cc.p_value, 0.26500633878134583) < 1e-10, "{cc:?}");
        // α = 5 %: 12 hits against 50.3 expected, p ≈ 4e-11.
        let uc = kupiec(&h, 0.05);
        assert!(rel(uc.statistic, 43.72042070864221) < 1e-10, "{uc:?}");
        assert!(rel(uc.p_value, 3.787985846201888e-11) < 1e-10, "{uc:?}");
        let cc = conditional_coverage(&h, 0.05);
        assert!(rel(cc.p_value, 1.015725934188135e-10) < 1e-10, "{cc:?}");
    }

    #[test]
    fn no_hits_and_all_hits_give_finite_statistics() {
        // scipy 1.17.1 with the reference script's kupiec/christoffersen_ind
        // (xlogy): 250 quiet days at α = 1 %: LR_uc = −500 ln 0.99.
        let none = vec![false; 250];
        let uc = kupiec(&none, 0.01);
        assert!(rel(uc.statistic, 5.025167926750726) < 1e-12, "{uc:?}");
        assert!(rel(uc.p_value, 0.02498150305344973) < 1e-12, "{uc:?}");
        assert_eq!(
            christoffersen_independence(&none),
            TestResult {
                statistic: 0.0,
                p_value: 1.0
            }
        );
        let cc = conditional_coverage(&none, 0.01);
        assert!(rel(cc.p_value, 0.08105851616218127) < 1e-12, "{cc:?}");
        // 250 hits: LR_uc = −500 ln 0.01, whose p-value underflows to 0.
        let all = vec![true; 250];
        let uc = kupiec(&all, 0.01);
        assert!(rel(uc.statistic, 2302.5850929940457) < 1e-12, "{uc:?}");
        assert_eq!(uc.p_value, 0.0);
        assert_eq!(
            christoffersen_independence(&all),
            TestResult {
                statistic: 0.0,
                p_value: 1.0
            }
        );
        assert!(conditional_coverage(&all, 0.01).statistic.is_finite());
    }

    #[test]
    fn too_little_data_gives_nan() {
        assert!(kupiec(&[], 0.01).statistic.is_nan());
        assert!(kupiec(&[true], 0.0).p_value.is_nan());
        assert!(kupiec(&[true], 1.0).p_value.is_nan());
        assert!(christoffersen_independence(&[true]).statistic.is_nan());
        assert!(conditional_coverage(&[false], 0.05).p_value.is_nan());
    }
}
