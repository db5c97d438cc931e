//! Memorization audit: does a generator replay its training data?
//!
//! Method: the data-copying test of Meehan, Chaudhuri & Dasgupta, "A
//! non-parametric test to detect data-copying in generative models" (AISTATS
//! 2020). Every window of `L` consecutive daily returns is a point of ℝ^L.
//! For each synthetic window, the Euclidean distance to its nearest training
//! window is compared with the same distance for held-out real windows (real
//! data the generator never saw). A generator that copies sits closer to the
//! training set than unseen real data does; the Mann–Whitney statistic
//!
//! `Z_U = (U − m·n/2) / √(m·n·(m+n+1)/12)`, `U = #{(s, h): d_s > d_h}`
//!
//! over the m synthetic and n held-out distances is then strongly negative.
//! The audit also counts replays: synthetic windows whose nearest training
//! window lies within `1e-3 ×` the median held-out distance (exact copies have
//! distance 0; for a continuous generator such a coincidence in ℝ^20 has
//! probability far below 1e-20).
//!
//! The audit passes when `Z_U ≥ −3` and there is no replay. Windows are taken
//! without overlap (synthetic and held-out), so the statistic's independence
//! assumption holds; training windows are taken at every offset, so any block
//! of `L` training returns is found wherever it starts.

use crate::error::{Error, Result};
use crate::rng::aux_rng;
use crate::stats::median;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;

/// Settings of the audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemorizationConfig {
    /// Window length L (days).
    pub window: usize,
    /// At most this many synthetic windows are drawn (seeded sample).
    pub max_synthetic_windows: usize,
    /// Seed of the window sample.
    pub seed: u64,
}

impl Default for MemorizationConfig {
    fn default() -> Self {
        MemorizationConfig {
            window: 20,
            max_synthetic_windows: 2000,
            seed: 42,
        }
    }
}

/// Result of the audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemorizationAudit {
    /// Window length (days).
    pub window: usize,
    /// Training windows (every offset).
    pub training_windows: usize,
    /// Held-out real windows (non-overlapping).
    pub heldout_windows: usize,
    /// Synthetic windows audited (non-overlapping, sampled).
    pub synthetic_windows: usize,
    /// Median distance of a held-out window to its nearest training window.
    pub median_nn_heldout: f64,
    /// Median distance of a synthetic window to its nearest training window.
    pub median_nn_synthetic: f64,
    /// Share of synthetic windows nearer the training set than the 5 %
    /// quantile of held-out windows (≈ 0.05 or less without copying).
    pub share_below_heldout_q05: f64,
    /// Mann–Whitney Z statistic (negative: synthetic nearer than held-out).
    pub z_u: f64,
    /// Synthetic windows within `1e-3 ×` the median held-out distance of a
    /// training window (replays).
    pub replays: usize,
    /// `replays / synthetic_windows`.
    pub replay_share: f64,
    /// `z_u ≥ −3` and no replay.
    pub passed: bool,
}

/// Non-overlapping windows of each series, in order.
fn windows_of(series: &[Vec<f64>], l: usize) -> Vec<&[f64]> {
    series.iter().flat_map(|s| s.chunks_exact(l)).collect()
}

/// Distance from `w` to the nearest of `train` (all windows of length L
/// starting at every `stride`-th offset of the training series: 1 for one
/// series, the number of assets for a day-major panel).
fn nearest(w: &[f64], train: &[f64], l: usize, stride: usize) -> f64 {
    let mut best = f64::INFINITY;
    for start in (0..=train.len() - l).step_by(stride) {
        let cand = &train[start..start + l];
        let mut d = 0.0;
        for (a, b) in w.iter().zip(cand) {
            d += (a - b) * (a - b);
            if d >= best {
                break;
            }
        }
        if d < best {
            best = d;
        }
    }
    best.sqrt()
}

/// Mann–Whitney Z of "x greater than y" (ties count one half).
pub fn mann_whitney_z(x: &[f64], y: &[f64]) -> f64 {
    let (m, n) = (x.len() as f64, y.len() as f64);
    let mut ys = y.to_vec();
    ys.sort_by(f64::total_cmp);
    let mut u = 0.0;
    for &v in x {
        let below = ys.partition_point(|&t| t < v) as f64;
        let le = ys.partition_point(|&t| t <= v) as f64;
        u += below + 0.5 * (le - below);
    }
    (u - m * n / 2.0) / (m * n * (m + n + 1.0) / 12.0).sqrt()
}

/// Audits `synthetic` paths (daily log returns) against the real `training`
/// returns the generator learnt from and `heldout` real returns it never saw.
pub fn audit(
    training: &[f64],
    heldout: &[f64],
    synthetic: &[Vec<f64>],
    cfg: &MemorizationConfig,
) -> Result<MemorizationAudit> {
    audit_strided(training, heldout, synthetic, cfg, 1)
}

/// The audit of a whole cross-section (issue 37): a window is `L`
/// consecutive days of every asset, a point of ℝ^{L·d}. `training[a]`,
/// `heldout[a]` are asset a's real daily log returns and `synthetic[p][a]`
/// path p's; each asset is divided by its real training standard deviation
/// (so a volatile stock does not dominate the distance) and the days are
/// laid out day-major, `[r_1(t), …, r_d(t), r_1(t+1), …]`, so that windows
/// start on day boundaries.
pub fn audit_panel(
    training: &[Vec<f64>],
    heldout: &[Vec<f64>],
    synthetic: &[Vec<Vec<f64>>],
    cfg: &MemorizationConfig,
) -> Result<MemorizationAudit> {
    let d = training.len();
    if d == 0 || heldout.len() != d || synthetic.iter().any(|p| p.len() != d) {
        return Err(Error::parameter(
            "assets",
            d,
            "every panel of the audit needs the same assets",
        ));
    }
    let sd: Vec<f64> = training
        .iter()
        .map(|r| crate::stats::mean_var(r).1.sqrt().max(1e-12))
        .collect();
    let interleave = |series: &[Vec<f64>]| -> Vec<f64> {
        let t = series.iter().map(Vec::len).min().unwrap_or(0);
        (0..t)
            .flat_map(|k| series.iter().zip(&sd).map(move |(s, v)| s[k] / v))
            .collect()
    };
    let train = interleave(training);
    let held = interleave(heldout);
    let syn: Vec<Vec<f64>> = synthetic.iter().map(|p| interleave(p)).collect();
    let wide = MemorizationConfig {
        window: cfg.window * d,
        ..cfg.clone()
    };
    let mut a = audit_strided(&train, &held, &syn, &wide, d)?;
    a.window = cfg.window;
    Ok(a)
}

fn audit_strided(
    training: &[f64],
    heldout: &[f64],
    synthetic: &[Vec<f64>],
    cfg: &MemorizationConfig,
    stride: usize,
) -> Result<MemorizationAudit> {
    let l = cfg.window;
    if l < 2 {
        return Err(Error::parameter("window", l, "must be at least 2 days"));
    }
    if training.len() < 5 * l {
        return Err(Error::parameter(
            "training returns",
            training.len(),
            format!("the audit needs at least 5 windows of {l} training returns"),
        ));
    }
    let held: Vec<&[f64]> = heldout.chunks_exact(l).collect();
    if held.len() < 10 {
        return Err(Error::parameter(
            "held-out returns",
            heldout.len(),
            format!("the audit needs at least 10 windows of {l} held-out returns"),
        ));
    }
    let mut syn = windows_of(synthetic, l);
    if syn.len() < 10 {
        return Err(Error::parameter(
            "synthetic returns",
            synthetic.iter().map(Vec::len).sum::<usize>(),
            format!("the audit needs at least 10 synthetic windows of {l} returns"),
        ));
    }
    if syn.len() > cfg.max_synthetic_windows {
        syn.shuffle(&mut aux_rng(cfg.seed, 0x4D45_4D4F));
        syn.truncate(cfg.max_synthetic_windows);
    }
    let d_held: Vec<f64> = held
        .par_iter()
        .map(|w| nearest(w, training, l, stride))
        .collect();
    let d_syn: Vec<f64> = syn
        .par_iter()
        .map(|w| nearest(w, training, l, stride))
        .collect();
    let median_nn_heldout = median(d_held.clone());
    let q05 = {
        let mut s = d_held.clone();
        s.sort_by(f64::total_cmp);
        s[((s.len() as f64 * 0.05).floor() as usize).min(s.len() - 1)]
    };
    let tol = 1e-3 * median_nn_heldout;
    let replays = d_syn.iter().filter(|&&d| d <= tol).count();
    let z_u = mann_whitney_z(&d_syn, &d_held);
    Ok(MemorizationAudit {
        window: l,
        training_windows: (training.len() - l) / stride + 1,
        heldout_windows: held.len(),
        synthetic_windows: d_syn.len(),
        median_nn_heldout,
        median_nn_synthetic: median(d_syn.clone()),
        share_below_heldout_q05: d_syn.iter().filter(|&&d| d < q05).count() as f64
            / d_syn.len() as f64,
        z_u,
        replays,
        replay_share: replays as f64 / d_syn.len() as f64,
        passed: z_u >= -3.0 && replays == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mann–Whitney U by hand: x = [3, 5], y = [1, 4]: pairs with x > y are
    /// (3,1), (5,1), (5,4) → U = 3; mean 2, sd √(4·5/12).
    #[test]
    fn mann_whitney_by_hand() {
        let z = mann_whitney_z(&[3.0, 5.0], &[1.0, 4.0]);
        assert!((z - 1.0 / (20.0f64 / 12.0).sqrt()).abs() < 1e-15);
        // Ties count one half: U = 0.5 → Z = (0.5 − 0.5)/… = 0.
        assert_eq!(mann_whitney_z(&[1.0], &[1.0]), 0.0);
    }

    #[test]
    fn nearest_finds_an_embedded_block() {
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = aux_rng(1, 2);
        let train: Vec<f64> = (0..100).map(|_| StandardNormal.sample(&mut rng)).collect();
        assert_eq!(nearest(&train[37..47], &train, 10, 1), 0.0);
        let off: Vec<f64> = train[37..47].iter().map(|x| x + 0.1).collect();
        assert!((nearest(&off, &train, 10, 1) - 0.1 * 10f64.sqrt()).abs() < 1e-12);
    }

    /// A panel that replays its training cross-section is caught (every
    /// window a replay, Z_U strongly negative); independent noise of the
    /// same scale passes.
    #[test]
    fn panel_audit_catches_a_replayed_cross_section() {
        use rand::Rng;
        let mut rng = crate::rng::path_rng(3, 0);
        let mut noise = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| 0.01 * rng.sample::<f64, _>(rand_distr::StandardNormal))
                .collect()
        };
        let training: Vec<Vec<f64>> = (0..3).map(|_| noise(1000)).collect();
        let heldout: Vec<Vec<f64>> = (0..3).map(|_| noise(400)).collect();
        let fresh: Vec<Vec<Vec<f64>>> = (0..2)
            .map(|_| (0..3).map(|_| noise(600)).collect())
            .collect();
        let copy: Vec<Vec<Vec<f64>>> = vec![training.iter().map(|r| r[..600].to_vec()).collect()];
        let cfg = MemorizationConfig {
            window: 10,
            ..MemorizationConfig::default()
        };
        let ok = audit_panel(&training, &heldout, &fresh, &cfg).unwrap();
        assert!(ok.passed, "{ok:?}");
        assert_eq!(ok.training_windows, 991);
        let bad = audit_panel(&training, &heldout, &copy, &cfg).unwrap();
        assert!(!bad.passed && bad.replays == 60, "{bad:?}");
    }
}
