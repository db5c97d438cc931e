//! The deep model as a [`PathGenerator`]: one network evaluation per path and
//! day, randomness from the path's own stream.

use super::features::FeatureState;
use super::model::{Mixture, MixtureNet, Scratch, K};
use crate::error::{Error, Result};
use crate::market::{TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::rng::PathRng;
use crate::sim::risk_neutral::DailyPricing;
use crate::sim::PathGenerator;
use rand::Rng;
use rand_distr::{Distribution, StudentT};

/// Generates daily paths from a trained [`MixtureNet`].
#[derive(Debug, Clone)]
pub struct DeepGenerator {
    net: MixtureNet,
    s0: f64,
    start: FeatureState,
    start_cond: (f64, f64),
    /// The innovation law's Student-t laws, built once (the law is shared by
    /// all days).
    t: [StudentT<f64>; K],
    /// The pricing measure, when paths are risk-neutral.
    q: Option<DailyPricing>,
}

/// Per-path state.
#[derive(Debug, Clone)]
pub struct DeepState {
    log_ratio: f64,
    features: FeatureState,
    /// (μ, σ) of the next day.
    cond: (f64, f64),
    next: Mixture<K>,
    scratch: Scratch,
}

impl DeepState {
    /// The recursion state (what nested pricing restarts from).
    pub fn features(&self) -> &FeatureState {
        &self.features
    }
}

/// The model's name in messages.
pub(crate) const DEEP_NAME: &str = "the deep model";

impl DeepGenerator {
    /// A generator starting at spot `s0` (default: the model's last training
    /// price) from the model's end-of-training state; the grid must be daily.
    pub fn new(net: MixtureNet, s0: Option<f64>, grid: &TimeGrid) -> Result<Self> {
        crate::sim::require_daily(DEEP_NAME, grid.dt())?;
        let s0 = s0.unwrap_or(net.config().last_price);
        crate::sim::check_spot("s0", s0)?;
        let start = FeatureState::from_slice(&net.config().initial_state)
            .ok_or_else(|| Error::Internal("model initial state checked at load".into()))?;
        let start_cond = net.conditional_with(&start, &mut Scratch::default());
        let law = net.innovation_law();
        let t = law
            .nu
            .iter()
            .map(|nu| StudentT::new(*nu))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Internal(format!("degrees of freedom of the model: {e}")))?
            .try_into()
            .map_err(|_| Error::Internal("component count".into()))?;
        Ok(DeepGenerator {
            net,
            s0,
            start,
            start_cond,
            t,
            q: None,
        })
    }

    /// The same model under the pricing measure `measure` (see
    /// [`crate::sim::risk_neutral`]): each day's return is the
    /// real-world innovation scaled by √λ with the martingale drift, and the
    /// recursion state is driven by the real-world standardised return of
    /// the same innovation. The variance state is then the risk-neutral one.
    pub fn risk_neutral(mut self, measure: &crate::sim::RiskNeutral) -> Self {
        self.q = Some(measure.daily(self.net.innovation_cumulants()));
        self
    }

    /// A generator like this one (same measure and spot) starting from the
    /// recursion state `state` (the state of a path, for nested pricing).
    pub fn from_state(&self, state: &FeatureState) -> Self {
        let mut g = self.clone();
        g.start = *state;
        g.start_cond = g.net.conditional_with(state, &mut Scratch::default());
        g
    }

    /// The network.
    pub fn net(&self) -> &MixtureNet {
        &self.net
    }

    /// Draws a standardised return from `mix`: the component by inversion
    /// of one uniform, then a Student-t variate (the mixture's ν are the
    /// innovation law's, whose samplers are `self.t`).
    fn draw(&self, mix: &Mixture<K>, rng: &mut PathRng) -> f64 {
        let u: f64 = rng.random();
        let mut k = K - 1;
        let mut acc = 0.0;
        for (i, w) in mix.weight.iter().enumerate() {
            acc += w;
            if u < acc {
                k = i;
                break;
            }
        }
        mix.loc[k] + mix.scale[k] * self.t[k].sample(rng)
    }

    /// The knots of the pricing table: for each variance quantile of the
    /// model's stationary regime, `per` states of that variance from its own
    /// paths, each as a risk-neutral generator started there.
    pub fn surrogate_knots(
        &self,
        measure: &crate::sim::RiskNeutral,
        seed: u64,
        per: usize,
    ) -> Vec<crate::sim::Knot<DeepGenerator>> {
        let real_world = DeepGenerator {
            q: None,
            ..self.clone()
        };
        let q = real_world.clone().risk_neutral(measure);
        crate::sim::law_table::knots(&real_world, seed, per, |_, s| q.from_state(&s.features))
    }
}

impl PathGenerator for DeepGenerator {
    type State = DeepState;

    fn initial_state(&self) -> DeepState {
        DeepState {
            log_ratio: 0.0,
            features: self.start,
            cond: self.start_cond,
            next: self.net.mixture_at(self.start_cond.0, self.start_cond.1),
            scratch: Scratch::default(),
        }
    }

    fn observe(&self, s: &DeepState, spot: &mut [f64], variance: &mut [f64]) {
        spot[0] = self.s0 * s.log_ratio.exp();
        let scale = self.net.config().scale;
        let lambda = self.q.map_or(1.0, |q| q.lambda);
        variance[0] = lambda * s.next.variance() * scale * scale * TRADING_DAYS_PER_YEAR;
    }

    /// The feature recursion (averages of z² then of z, see
    /// [`FeatureState::to_vec`]): what the option pricer conditions on.
    fn state_len(&self) -> usize {
        super::features::STATE_LEN
    }

    fn observe_state(&self, s: &DeepState, out: &mut [f64]) {
        s.features.write_to(out);
    }

    fn step(&self, s: &mut DeepState, rng: &mut PathRng) {
        // An overflow guard, not part of the law: z is held to ±40 training
        // scale units so that a path never overflows. The tail is the
        // mixture's Student-t draws times the volatility state, and a sound
        // net stays far inside the guard: the shipped model's largest day in
        // 200 × 5,030 (seed 9) is 22.5 %, 17.9 units. Only a net whose
        // volatility state runs away (σ_t of several times the scale times a
        // few-sd draw) reaches it; `train`'s free-running check and the
        // model card's long-path section measure exactly that.
        let z = self.draw(&s.next, rng).clamp(-40.0, 40.0);
        let scale = self.net.config().scale;
        s.log_ratio += match &self.q {
            None => z * scale,
            Some(q) => {
                let (mean, sigma) = s.cond;
                q.log_return(sigma * scale, z / sigma - mean)
            }
        };
        s.features.update(z);
        s.cond = self.net.conditional_with(&s.features, &mut s.scratch);
        s.next = self.net.mixture_at(s.cond.0, s.cond.1);
    }
}
