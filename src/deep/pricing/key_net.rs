//! The deep pricing table's learned corrections: small networks that
//! correct linear forecasts from the table's regressors
//! ([`super::term_table`]). The at-the-money key's (one output, described
//! here) corrects the forecast of a state's at-the-money implied variance;
//! the shape correction's (one output per quantile, [`TanhNet`] with `O =
//! 15`) corrects the forecast of its standardised quantiles
//! ([`super::term_table`]; figures in the book, "The deep pricing table:
//! design notes and experiments").
//!
//! Per maturity knot, `ŷ = β·x + g(x)`: `β·x` is the least-squares forecast
//! of `ln σ²_ATM` on the table's regressors, and `g` a 12-32-32-1 tanh
//! network of the same regressors (standardised) fitted to its residuals.
//! The map from the model's state to its at-the-money vol is not linear in
//! the feature averages (how a stressed state's vol of vol shows at the
//! money depends on which half-lives carry the stress), and a flexible
//! regression must not extrapolate wildly either: tanh units saturate, so
//! `g` is bounded however far a state lies from the fit's.
//!
//! Measured on the shipped table (672 states × 1,250 nested paths, seed
//! 2024) at the held-out states used to design the at-the-money key (42
//! fresh states from the 1 % to the 99.5 % variance quantile, × 20,000
//! nested paths): the RMS error of `ŷ` in ln variance at 21 / 63 / 126 /
//! 252 / 378 days fell from 0.063 / 0.057 / 0.051 / 0.067 / 0.074 (linear
//! alone) to 0.037 / 0.031 / 0.031 / 0.043 / 0.053, and its largest
//! at-the-money error from 3.2 / 3.3 / 2.1 / 3.6 / 4.5 to 2.8 / 1.6 / 1.3 /
//! 3.2 / 4.7 vol points (those at the 99–99.5 % states, 45–65 % vol). A
//! numpy prototype of the same network fitted on 4,304 states × 1,800
//! paths did no better (0.035 / 0.027 / 0.024 at 21 / 63 / 126 days): the
//! fit's 672 states carried what this network could learn from raw
//! targets. Smoothing the targets first does help ([`super::denoise`]): the
//! shipped networks are fitted to the Gaussian-process posterior means of
//! 3,024 states, with an L2 penalty of 1e-5 (1e-3 was needed on the raw
//! targets), and the forecast's held-out errors fall by about 40 % (figures
//! there).
//!
//! Written out rather than trained in candle (which trains the generator):
//! the network has 1,505 weights and trains on a few thousand rows, full
//! batch; plain f64 loops do it in seconds per knot (about 5 s for 672
//! rows), single-threaded and so bit-identical whatever
//! the thread count, with no tensor round trips.

use super::regressors::REGRESSORS;
use crate::rng::PathRng;
use rand_distr::{Distribution, StandardNormal};

/// Inputs: the regressors less the constant.
pub(super) const INPUTS: usize = REGRESSORS - 1;
/// Width of each hidden layer.
const HIDDEN: usize = 32;
/// Adam's step size.
const LEARNING_RATE: f64 = 3e-3;

/// How a network is trained: full-batch Adam steps, and the L2 penalty on
/// the weights (not the biases) per unit of mean squared error.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// L2 penalty on the weights per unit of mean squared error.
    pub l2: f64,
}

/// The at-the-money key's training: 3,000 steps, L2 1e-5 (its targets are
/// smoothed first; 1e-3 was needed on raw targets).
pub const KEY_TRAINING: Training = Training {
    epochs: 3000,
    l2: 1e-5,
};

/// Stored values of a network with `outputs` outputs: input means and
/// scales, then the layers.
pub const fn params(outputs: usize) -> usize {
    2 * INPUTS + INPUTS * HIDDEN + HIDDEN + HIDDEN * HIDDEN + HIDDEN + HIDDEN * outputs + outputs
}

/// Stored values of a key network (one output).
pub const PARAMS: usize = params(1);

/// A 12-32-32-`O` tanh network of the standardised regressors (see the
/// module docs); `O = 1` is the at-the-money key's, and the shape
/// correction's quantile networks have one output per quantile
/// ([`super::term_table`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TanhNet<const O: usize> {
    mean: [f64; INPUTS],
    scale: [f64; INPUTS],
    /// Row-major `[input][hidden]`.
    w1: Vec<f64>,
    b1: Vec<f64>,
    /// Row-major `[hidden][hidden]`.
    w2: Vec<f64>,
    b2: Vec<f64>,
    /// Row-major `[hidden][output]`.
    w3: Vec<f64>,
    b3: Vec<f64>,
}

/// The at-the-money key's network.
pub type KeyNet = TanhNet<1>;

/// Activations of one row.
struct Pass<const O: usize> {
    z: [f64; INPUTS],
    h1: [f64; HIDDEN],
    h2: [f64; HIDDEN],
    out: [f64; O],
}

impl<const O: usize> TanhNet<O> {
    /// Fits the network to `target` (residuals of a linear forecast) at
    /// regressors `x`, minimising the squared error averaged over rows and
    /// outputs, from weights drawn with `rng`.
    pub fn fit(
        x: &[[f64; REGRESSORS]],
        target: &[[f64; O]],
        training: Training,
        rng: &mut PathRng,
    ) -> Self {
        let n = (x.len().max(1) * O) as f64;
        let (mean, scale) = standardisation(x);
        let mut normal = |sd: f64, len: usize| -> Vec<f64> {
            (0..len)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    sd * z
                })
                .collect()
        };
        let mut net = TanhNet {
            mean,
            scale,
            w1: normal(1.0 / (INPUTS as f64).sqrt(), INPUTS * HIDDEN),
            b1: vec![0.0; HIDDEN],
            w2: normal(1.0 / (HIDDEN as f64).sqrt(), HIDDEN * HIDDEN),
            b2: vec![0.0; HIDDEN],
            w3: normal(1e-3, HIDDEN * O),
            b3: vec![0.0; O],
        };
        let mut adam = Adam::new(params(O) - 2 * INPUTS, LEARNING_RATE);
        let mut grad = net.clone();
        for step in 1..=training.epochs {
            grad.zero();
            for (row, r) in x.iter().zip(target) {
                let pass = net.forward(row);
                let g: [f64; O] = std::array::from_fn(|k| 2.0 * (pass.out[k] - r[k]) / n);
                net.backward(&pass, &g, &mut grad);
            }
            for (g, w) in [
                (&mut grad.w1, &net.w1),
                (&mut grad.w2, &net.w2),
                (&mut grad.w3, &net.w3),
            ] {
                for (g, w) in g.iter_mut().zip(w) {
                    *g += training.l2 * w;
                }
            }
            adam.step(net.weights_mut(), grad.weights(), step);
        }
        net
    }

    /// The network's outputs at regressors `x`.
    pub fn eval(&self, x: &[f64; REGRESSORS]) -> [f64; O] {
        self.forward(x).out
    }

    fn forward(&self, x: &[f64; REGRESSORS]) -> Pass<O> {
        let z: [f64; INPUTS] = std::array::from_fn(|i| (x[i + 1] - self.mean[i]) / self.scale[i]);
        let mut h1 = [0.0; HIDDEN];
        h1.copy_from_slice(&self.b1);
        for (zi, w) in z.iter().zip(self.w1.chunks_exact(HIDDEN)) {
            for (h, w) in h1.iter_mut().zip(w) {
                *h += zi * w;
            }
        }
        h1.iter_mut().for_each(|h| *h = h.tanh());
        let mut h2 = [0.0; HIDDEN];
        h2.copy_from_slice(&self.b2);
        for (a, w) in h1.iter().zip(self.w2.chunks_exact(HIDDEN)) {
            for (h, w) in h2.iter_mut().zip(w) {
                *h += a * w;
            }
        }
        h2.iter_mut().for_each(|h| *h = h.tanh());
        let mut out = [0.0; O];
        out.copy_from_slice(&self.b3);
        for (a, w) in h2.iter().zip(self.w3.chunks_exact(O)) {
            for (o, w) in out.iter_mut().zip(w) {
                *o += a * w;
            }
        }
        Pass { z, h1, h2, out }
    }

    /// Adds `Σ_k d out_k/d weights · g_k` of one row to `grad`.
    fn backward(&self, p: &Pass<O>, g: &[f64; O], grad: &mut Self) {
        for (b, g) in grad.b3.iter_mut().zip(g) {
            *b += g;
        }
        let mut g2 = [0.0; HIDDEN];
        for (((g2, gw), w), h) in g2
            .iter_mut()
            .zip(grad.w3.chunks_exact_mut(O))
            .zip(self.w3.chunks_exact(O))
            .zip(&p.h2)
        {
            let mut acc = 0.0;
            for ((gw, w), g) in gw.iter_mut().zip(w).zip(g) {
                *gw += g * h;
                acc += g * w;
            }
            *g2 = acc * (1.0 - h * h);
        }
        let mut g1 = [0.0; HIDDEN];
        for (i, (w, gw)) in self
            .w2
            .chunks_exact(HIDDEN)
            .zip(grad.w2.chunks_exact_mut(HIDDEN))
            .enumerate()
        {
            let mut acc = 0.0;
            for ((gw, w), g2) in gw.iter_mut().zip(w).zip(&g2) {
                *gw += p.h1[i] * g2;
                acc += w * g2;
            }
            g1[i] = acc * (1.0 - p.h1[i] * p.h1[i]);
        }
        for (b, g) in grad.b2.iter_mut().zip(&g2) {
            *b += g;
        }
        for (zi, gw) in p.z.iter().zip(grad.w1.chunks_exact_mut(HIDDEN)) {
            for (gw, g) in gw.iter_mut().zip(&g1) {
                *gw += zi * g;
            }
        }
        for (b, g) in grad.b1.iter_mut().zip(&g1) {
            *b += g;
        }
    }

    /// The trained values (the layers, not the input standardisation), in
    /// storage order.
    fn weights(&self) -> [&[f64]; 6] {
        [&self.w1, &self.b1, &self.w2, &self.b2, &self.w3, &self.b3]
    }

    fn weights_mut(&mut self) -> [&mut [f64]; 6] {
        [
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.w3,
            &mut self.b3,
        ]
    }

    fn zero(&mut self) {
        for part in self.weights_mut() {
            part.fill(0.0);
        }
    }

    /// The network as [`params`]`(O)` values (for storage).
    pub fn to_params(&self) -> Vec<f64> {
        let mut v = Vec::with_capacity(params(O));
        v.extend_from_slice(&self.mean);
        v.extend_from_slice(&self.scale);
        for part in self.weights() {
            v.extend_from_slice(part);
        }
        v
    }

    /// The inverse of [`Self::to_params`] (`v` must hold [`params`]`(O)`
    /// values; stored ones go through [`Self::from_stored`]).
    pub(crate) fn from_params(v: &[f64]) -> Self {
        let mut at = 0;
        let mut take = |len: usize| {
            let part = v[at..at + len].to_vec();
            at += len;
            part
        };
        let mean = take(INPUTS).try_into().expect("INPUTS values");
        let scale = take(INPUTS).try_into().expect("INPUTS values");
        TanhNet {
            mean,
            scale,
            w1: take(INPUTS * HIDDEN),
            b1: take(HIDDEN),
            w2: take(HIDDEN * HIDDEN),
            b2: take(HIDDEN),
            w3: take(HIDDEN * O),
            b3: take(O),
        }
    }

    /// The network of stored values ([`Self::to_params`]'s layout); `None`
    /// unless `v` has [`params`]`(O)` finite values and positive scales.
    pub fn from_stored(v: &[f64]) -> Option<Self> {
        let ok = v.len() == params(O)
            && v.iter().all(|x| x.is_finite())
            && v[INPUTS..2 * INPUTS].iter().all(|s| *s > 0.0);
        ok.then(|| Self::from_params(v))
    }
}

/// Each regressor's (less the constant) mean and standard deviation over
/// the rows `x` (plus 1e-9, so a constant column does not divide by 0):
/// the standardisation of the network's inputs, and of
/// [`super::denoise`]'s.
pub(super) fn standardisation(x: &[[f64; REGRESSORS]]) -> ([f64; INPUTS], [f64; INPUTS]) {
    let n = x.len().max(1) as f64;
    let mut mean = [0.0; INPUTS];
    let mut scale = [0.0; INPUTS];
    for i in 0..INPUTS {
        mean[i] = x.iter().map(|r| r[i + 1]).sum::<f64>() / n;
        let var = x.iter().map(|r| (r[i + 1] - mean[i]).powi(2)).sum::<f64>() / n;
        scale[i] = var.sqrt() + 1e-9;
    }
    (mean, scale)
}

/// Adam (Kingma & Ba 2015, Algorithm 1, with their default β₁ = 0.9,
/// β₂ = 0.999, ε = 1e-8), minimising; used by the network and by
/// [`super::denoise`]'s hyperparameter search.
pub(super) struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    rate: f64,
}

impl Adam {
    /// For `n` parameters with step size `rate`.
    pub(super) fn new(n: usize, rate: f64) -> Self {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            rate,
        }
    }

    /// One step on `params` (in parts) with gradient `grad` (the same
    /// parts), at step `t` from 1.
    pub(super) fn step<const P: usize>(
        &mut self,
        params: [&mut [f64]; P],
        grad: [&[f64]; P],
        t: usize,
    ) {
        let (c1, c2) = (1.0 - 0.9f64.powi(t as i32), 1.0 - 0.999f64.powi(t as i32));
        for (((p, g), m), v) in params
            .into_iter()
            .flatten()
            .zip(grad.into_iter().flatten())
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = 0.9 * *m + 0.1 * g;
            *v = 0.999 * *v + 0.001 * g * g;
            *p -= self.rate * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of 12 independent standard normal regressors after the
    /// constant.
    fn rows(n: usize, seed: u64) -> Vec<[f64; REGRESSORS]> {
        let mut rng = crate::rng::path_rng(seed, 0);
        (0..n)
            .map(|_| {
                std::array::from_fn(|i| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    if i == 0 {
                        1.0
                    } else {
                        z
                    }
                })
            })
            .collect()
    }

    /// RMS over rows of `net`'s error in output `k`, and of the target.
    fn rms<const O: usize>(
        net: &TanhNet<O>,
        x: &[[f64; REGRESSORS]],
        target: &[[f64; O]],
        k: usize,
    ) -> (f64, f64) {
        let n = x.len() as f64;
        let err = x
            .iter()
            .zip(target)
            .map(|(r, t)| (net.eval(r)[k] - t[k]).powi(2))
            .sum::<f64>();
        let size = target.iter().map(|t| t[k] * t[k]).sum::<f64>();
        ((err / n).sqrt(), (size / n).sqrt())
    }

    /// The network learns a smooth non-linear residual that no linear
    /// forecast can (`0.1·tanh(2a)·b` of two independent standard normal
    /// inputs, uncorrelated with every input) to under 30 % of its RMS
    /// size (an untrained network leaves 100 %; this one 22 %), and its
    /// parameters round-trip exactly through storage.
    #[test]
    fn learns_a_nonlinear_residual_and_round_trips() {
        let x = rows(400, 5);
        let target: Vec<[f64; 1]> = x
            .iter()
            .map(|r| [0.1 * (2.0 * r[3]).tanh() * r[5]])
            .collect();
        let net = KeyNet::fit(&x, &target, KEY_TRAINING, &mut crate::rng::path_rng(6, 0));
        let (rms, size) = rms(&net, &x, &target, 0);
        assert!(rms < 0.3 * size, "rms {rms} against {size}");
        let back = KeyNet::from_stored(&net.to_params()).unwrap();
        assert_eq!(back, net);
        assert!(KeyNet::from_stored(&net.to_params()[1..]).is_none());
    }

    /// With three outputs the network learns three different non-linear
    /// residuals at once (`tanh(2a)·b`, `a·c` and `0.5·(b² − 1)`, each
    /// uncorrelated with every input), each to under 30 % of its RMS size
    /// at fresh rows of the same law, and round-trips through storage of
    /// [`params`]`(3)` values.
    #[test]
    fn learns_several_outputs_at_once() {
        let law = |r: &[f64; REGRESSORS]| -> [f64; 3] {
            [
                (2.0 * r[3]).tanh() * r[5],
                r[3] * r[7],
                0.5 * (r[5] * r[5] - 1.0),
            ]
        };
        let x = rows(600, 7);
        let target: Vec<[f64; 3]> = x.iter().map(law).collect();
        let training = Training {
            epochs: 2000,
            l2: 1e-3,
        };
        let net = TanhNet::<3>::fit(&x, &target, training, &mut crate::rng::path_rng(8, 0));
        let fresh = rows(400, 9);
        let fresh_target: Vec<[f64; 3]> = fresh.iter().map(law).collect();
        for k in 0..3 {
            let (rms, size) = rms(&net, &fresh, &fresh_target, k);
            assert!(rms < 0.3 * size, "output {k}: rms {rms} against {size}");
        }
        let stored = net.to_params();
        assert_eq!(stored.len(), params(3));
        assert_eq!(TanhNet::<3>::from_stored(&stored).unwrap(), net);
        assert!(TanhNet::<1>::from_stored(&stored).is_none());
    }
}
