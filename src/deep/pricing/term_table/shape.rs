//! The shape correction of the table's laws: the quantiles at which each
//! state's standardised law is forecast ([`SHAPE_PROBS`]), the network on
//! the linear forecasts' residuals ([`QuantileNet`]), the references a
//! state's predictions are measured from, and the extreme upper tail
//! ([`UpperTail`]). The correction is fitted with the table
//! (`fit.rs`) and applied when a chain is priced (`price.rs`). The
//! measurements behind its weights are in the book's design notes ("The
//! deep pricing table: design notes and experiments").

use crate::deep::pricing::key_net::{params, TanhNet, Training};
use crate::deep::pricing::regressors::REGRESSORS;
use crate::sim::law_table::bracket;

/// The quantile networks' training: 2,000 full-batch steps, L2 1e-3 (below
/// the median they fit raw sample quantiles, so the penalty is the key
/// network's on raw targets, not its 1e-5 on smoothed ones; 1e-5 was
/// measured worse, see the design notes).
const QUANTILE_TRAINING: Training = Training {
    epochs: 2000,
    l2: 1e-3,
};

/// Probabilities at which each state's standardised quantiles are regressed
/// on its regressors, for the shape correction (see the module docs).
pub const SHAPE_PROBS: [f64; NQ] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999,
];

/// Quantiles in the shape correction.
pub(super) const NQ: usize = 15;

/// Weight of the pooled shape's own quantiles in the reference a state's
/// predicted quantiles are measured from, at the median and above (the
/// rest is the group's mean prediction; see the design notes).
pub(super) const REFERENCE_BLEND: f64 = 0.5;

/// The same weight below the median, where the reference is the group's
/// mean prediction alone: the predicted lower tail is short (see the
/// design notes).
pub(super) const REFERENCE_BLEND_LOWER: f64 = 0.0;

/// The same weight at the last quantile (99.9 %), where the smoothed
/// prediction is trusted further (see the design notes, "Smoothed upper
/// quantiles").
pub(super) const REFERENCE_BLEND_TOP: f64 = 0.7;

/// Where a shape's extreme upper tail starts: blocks `from..` lie beyond
/// the last of [`SHAPE_PROBS`] (99.9 %), and `anchor[idx]` is shape `idx`'s
/// own quantile there. The correction scales those blocks' excess over the
/// anchor by the state's predicted tail width over the reference's
/// ([`TermTable::corrected`]).
///
/// [`TermTable::corrected`]: super::TermTable::corrected
#[derive(Debug, Clone, PartialEq)]
pub(super) struct UpperTail {
    pub(super) from: usize,
    pub(super) anchor: Vec<f64>,
}

impl UpperTail {
    pub(super) fn new(p: &[f64], x: &[Vec<f64>]) -> Self {
        let top = SHAPE_PROBS[NQ - 1];
        UpperTail {
            from: block_middles(p).partition_point(|&mid| mid <= top),
            anchor: x.iter().map(|y| law_quantiles(p, y)[NQ - 1]).collect(),
        }
    }
}

/// The quantile (index in [`SHAPE_PROBS`], 99 %) from which a state's
/// predicted width of the upper tail is measured: the extreme blocks'
/// excess over the 99.9 % quantile is scaled by the state's predicted
/// 99 %–99.9 % spacing over its reference's (see the module docs).
pub(super) const UPPER_WIDTH_FROM: usize = 12;
const _: () = assert!(SHAPE_PROBS[UPPER_WIDTH_FROM] == 0.99);

/// Bounds of that scaling: a prediction's error can at most halve or
/// double the extreme tail (along ten of the shipped model's paths the
/// ratios lie within 0.73–1.16).
pub(super) const UPPER_WIDTH_BOUNDS: (f64, f64) = (0.5, 2.0);

/// See [`TermTable`]'s `shape` field.
///
/// [`TermTable`]: super::TermTable
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ShapeCorrection {
    pub(super) coef: Vec<[[f64; REGRESSORS]; NQ]>,
    /// Per maturity knot, the network on the regression's residuals
    /// (stored as the tensor `shape_nets`; tables fitted before it have
    /// none, and their references were measured without it).
    pub(super) nets: Option<Vec<QuantileNet>>,
    /// Per (knot, group); stored as the tensor `shape_means` (its name when
    /// the reference was the mean prediction alone).
    pub(super) reference: Vec<[f64; NQ]>,
}

/// One knot's correction of the linear quantile predictions: a
/// [`TanhNet`] with one output per quantile of [`SHAPE_PROBS`], fitted to
/// the regression's residuals each divided by its RMS (`unit`), so that
/// every quantile weighs alike in the loss (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct QuantileNet {
    pub(super) unit: [f64; NQ],
    pub(super) net: TanhNet<NQ>,
}

/// Stored values per [`QuantileNet`]: its units, then the network.
pub(super) const QUANTILE_NET_PARAMS: usize = NQ + params(NQ);

impl QuantileNet {
    /// Fits the network to the residuals `residual` at regressors `x`.
    pub(super) fn fit(
        x: &[[f64; REGRESSORS]],
        residual: &[[f64; NQ]],
        rng: &mut crate::rng::PathRng,
    ) -> Self {
        let n = residual.len().max(1) as f64;
        let unit: [f64; NQ] = std::array::from_fn(|j| {
            (residual.iter().map(|r| r[j] * r[j]).sum::<f64>() / n)
                .sqrt()
                .max(1e-9)
        });
        let scaled: Vec<[f64; NQ]> = residual
            .iter()
            .map(|r| std::array::from_fn(|j| r[j] / unit[j]))
            .collect();
        QuantileNet {
            unit,
            net: TanhNet::fit(x, &scaled, QUANTILE_TRAINING, rng),
        }
    }

    /// The correction of the linear predictions at regressors `x`.
    pub(super) fn eval(&self, x: &[f64; REGRESSORS]) -> [f64; NQ] {
        let out = self.net.eval(x);
        std::array::from_fn(|j| out[j] * self.unit[j])
    }

    pub(super) fn to_params(&self) -> Vec<f64> {
        let mut v = self.unit.to_vec();
        v.extend(self.net.to_params());
        v
    }

    /// `None` unless `v` holds [`QUANTILE_NET_PARAMS`] finite values with
    /// positive units and a network ([`TanhNet::from_stored`]).
    pub(super) fn from_stored(v: &[f64]) -> Option<Self> {
        if v.len() != QUANTILE_NET_PARAMS || v[..NQ].iter().any(|u| !(*u > 0.0 && u.is_finite())) {
            return None;
        }
        Some(QuantileNet {
            unit: v[..NQ].try_into().ok()?,
            net: TanhNet::from_stored(&v[NQ..])?,
        })
    }
}

/// The quantiles at [`SHAPE_PROBS`] of a law of ascending block values `y`
/// with probabilities `p`, each block's value placed at its middle
/// cumulative probability and linear between them (as the correction
/// interpolates its shifts, [`shift_weights`]).
pub(super) fn law_quantiles(p: &[f64], y: &[f64]) -> [f64; NQ] {
    let mids = block_middles(p);
    SHAPE_PROBS.map(|q| {
        let (k, w) = bracket(&mids, q);
        (1.0 - w) * y[k] + w * y[k + 1]
    })
}

/// Per block of `p`, [`bracket`] of its middle cumulative probability in
/// [`SHAPE_PROBS`].
pub(super) fn shift_weights(p: &[f64]) -> Vec<(usize, f64)> {
    block_middles(p)
        .into_iter()
        .map(|mid| bracket(&SHAPE_PROBS, mid))
        .collect()
}

/// The middle cumulative probability of each block of `p`.
pub(super) fn block_middles(p: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    p.iter()
        .map(|w| {
            let mid = acc + 0.5 * w;
            acc += w;
            mid
        })
        .collect()
}

/// The weight of the pooled shape's own quantile in the reference of
/// quantile `j` ([`REFERENCE_BLEND_LOWER`] below the median,
/// [`REFERENCE_BLEND_TOP`] at the last, [`REFERENCE_BLEND`] between).
pub(super) fn reference_blend(j: usize) -> f64 {
    if SHAPE_PROBS[j] < 0.5 {
        REFERENCE_BLEND_LOWER
    } else if j == NQ - 1 {
        REFERENCE_BLEND_TOP
    } else {
        REFERENCE_BLEND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A law of four equal blocks at 1, 2, 3, 4 has its block values at
    /// cumulative probabilities 1/8, 3/8, 5/8, 7/8: its median is 2.5, its
    /// 25 % quantile 1.5 (linear between 1/8 and 3/8), and quantiles
    /// beyond the outer middles are the outer values (as the correction
    /// holds its shifts flat there).
    #[test]
    fn law_quantiles_interpolate_between_block_middles() {
        let q = law_quantiles(&[0.25; 4], &[1.0, 2.0, 3.0, 4.0]);
        let at = |prob: f64| q[SHAPE_PROBS.iter().position(|&p| p == prob).unwrap()];
        assert!((at(0.5) - 2.5).abs() < 1e-12);
        assert!((at(0.25) - 1.5).abs() < 1e-12);
        assert!((at(0.75) - 3.5).abs() < 1e-12);
        assert_eq!(at(0.001), 1.0);
        assert_eq!(at(0.999), 4.0);
    }
}
