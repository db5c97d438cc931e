//! The market model as a [`PathGenerator`]: the index and every stock's
//! residual advance their own deep recursions, their innovations joined by
//! the t copula.

use super::copula::ScoreMap;
use super::PanelModel;
use crate::deep::features::FeatureState;
use crate::deep::model::Scratch;
use crate::error::Result;
use crate::market::{TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::rng::PathRng;
use crate::sim::PathGenerator;
use rand::Rng;
use rand_distr::{ChiSquared, StandardNormal};

/// Generates daily paths of every stock and the index from a
/// [`PanelModel`]. Assets are in the model's order: the stocks, then the
/// index.
#[derive(Debug, Clone)]
pub struct PanelGenerator {
    model: PanelModel,
    maps: Vec<ScoreMap>,
    /// Variance of each net's innovation law (of ε).
    law_var: Vec<f64>,
    /// Daily variance each stock's jumps add (`λ E[J²]`; 0 without jumps).
    jump_var: Vec<f64>,
    chi: ChiSquared<f64>,
    start: Vec<FeatureState>,
    start_cond: Vec<(f64, f64)>,
}

/// Per-path state.
#[derive(Debug, Clone)]
pub struct PanelState {
    /// Log of spot over s0, per asset (the index last).
    log_ratio: Vec<f64>,
    /// Recursion of each net (residuals, then the index).
    features: Vec<FeatureState>,
    /// (μ, σ) of the next day, per net.
    cond: Vec<(f64, f64)>,
    scratch: Scratch,
    g: Vec<f64>,
    x: Vec<f64>,
}

impl PanelGenerator {
    /// A generator of `model` from its start (its end-of-training state,
    /// each asset at its last training price, unless
    /// [`PanelModel::started_from`] set another); the grid must be daily.
    pub fn new(model: PanelModel, grid: &TimeGrid) -> Result<Self> {
        crate::sim::require_daily(crate::deep::DEEP_NAME, grid.dt())?;
        let nu = model.copula.nu();
        let maps = model
            .nets
            .iter()
            .map(|n| ScoreMap::new(nu, &super::law_of(n)))
            .collect::<Result<Vec<_>>>()?;
        let law_var = model
            .nets
            .iter()
            .map(|n| n.innovation_law().variance())
            .collect();
        let jump_var = (0..model.nets.len() - 1)
            .map(|j| model.config.jumps.as_ref().map_or(0.0, |l| l.variance(j)))
            .collect();
        let chi = ChiSquared::new(nu).map_err(|e| {
            crate::error::Error::Internal(format!("copula degrees of freedom: {e}"))
        })?;
        let start: Vec<FeatureState> = model
            .nets
            .iter()
            .map(|n| {
                FeatureState::from_slice(&n.config().initial_state).ok_or_else(|| {
                    crate::error::Error::Internal("initial state checked at load".into())
                })
            })
            .collect::<Result<_>>()?;
        let mut scratch = Scratch::default();
        let start_cond = model
            .nets
            .iter()
            .zip(&start)
            .enumerate()
            .map(|(j, (n, s))| {
                let (mu, sigma) = n.conditional_with(s, &mut scratch);
                let [lo, hi] = model.config.sigma_range[j];
                (mu, sigma.clamp(lo, hi))
            })
            .collect();
        Ok(PanelGenerator {
            model,
            maps,
            law_var,
            jump_var,
            chi,
            start,
            start_cond,
        })
    }

    /// The model.
    pub fn model(&self) -> &PanelModel {
        &self.model
    }

    /// Net `j`'s (μ, σ) given its state, σ held in its training range.
    #[inline]
    fn conditional(&self, j: usize, state: &FeatureState, scratch: &mut Scratch) -> (f64, f64) {
        let (mu, sigma) = self.model.nets[j].conditional_with(state, scratch);
        let [lo, hi] = self.model.config.sigma_range[j];
        (mu, sigma.clamp(lo, hi))
    }

    /// Draws net `j`'s standardised return from its copula score, advances
    /// its recursion and returns the day's log return of the net's series.
    #[inline]
    fn advance(&self, s: &mut PanelState, j: usize, mix: f64) -> f64 {
        let net = &self.model.nets[j];
        let eps = self.maps[j].eps(s.x[j] / mix);
        let (mu, sigma) = s.cond[j];
        // The clip of the single-asset model (deep/generator.rs): ±40
        // training scale units, so a runaway state never overflows.
        let z = (sigma * (mu + eps)).clamp(-40.0, 40.0);
        s.features[j].update(z);
        s.cond[j] = self.conditional(j, &s.features[j], &mut s.scratch);
        z * net.config().scale * self.model.config.output_scale[j]
    }

    /// The market scale of the residuals' volatility, `(v_m/v̄)^{γ/2}`
    /// in log: `½ (ln v_m − ln v̄)`.
    fn market_log_scale(&self, s: &PanelState) -> f64 {
        let m = self.model.nets.len() - 1;
        // The index net's own variance (before its output factor), as in
        // training.
        let c = self.model.config.output_scale[m];
        0.5 * ((self.net_variance(s, m) / (c * c)).ln() - self.model.config.market_ln_var)
    }

    /// Daily variance of each net's next standardised-then-scaled return
    /// (σ² var ε · scale²).
    fn net_variance(&self, s: &PanelState, j: usize) -> f64 {
        let scale = self.model.nets[j].config().scale * self.model.config.output_scale[j];
        let sigma = s.cond[j].1;
        sigma * sigma * self.law_var[j] * scale * scale
    }
}

impl PathGenerator for PanelGenerator {
    type State = PanelState;

    fn assets(&self) -> usize {
        self.model.nets.len()
    }

    fn initial_state(&self) -> PanelState {
        let d = self.model.nets.len();
        PanelState {
            log_ratio: vec![0.0; d],
            features: self.start.clone(),
            cond: self.start_cond.clone(),
            scratch: Scratch::default(),
            g: vec![0.0; d],
            x: vec![0.0; d],
        }
    }

    /// Spot of each asset, and its conditional variance of the next day,
    /// annualised: `β² v_m + v_e + 2βρ√(v_m v_e)` for a stock (`v_e` its
    /// residual's continuous variance plus its jumps' `λ E[J²]`, ρ the copula
    /// correlation of its residual with the index, an approximation of the
    /// innovations' correlation), `v_m` for the index.
    fn observe(&self, s: &PanelState, spot: &mut [f64], variance: &mut [f64]) {
        let d = self.model.nets.len();
        let m = d - 1;
        let vm = self.net_variance(s, m);
        let lg = self.market_log_scale(s);
        let corr = self.model.copula.correlation();
        for j in 0..d {
            spot[j] = self.model.start_spots()[j] * s.log_ratio[j].exp();
            let v = if j == m {
                vm
            } else {
                let b = self.model.config.betas[j];
                let g = (2.0 * self.model.config.market_gamma[j] * lg).exp();
                let ve = g * self.net_variance(s, j) + self.jump_var[j];
                b * b * vm + ve + 2.0 * b * corr[j * d + m] * (vm * ve).sqrt()
            };
            variance[j] = v.max(0.0) * TRADING_DAYS_PER_YEAR;
        }
    }

    fn step(&self, s: &mut PanelState, rng: &mut PathRng) {
        let d = self.model.nets.len();
        let m = d - 1;
        for v in s.g.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        let w: f64 = rng.sample(self.chi);
        let mix = (w / self.model.copula.nu()).sqrt();
        self.model.copula.correlate(&mut s.g, &mut s.x);
        // The market scale of the day is the index's state before it
        // moves; then the index, on which each stock's return loads.
        let lg = self.market_log_scale(s);
        let rm = self.advance(s, m, mix);
        s.log_ratio[m] += rm;
        for j in 0..m {
            let g = (self.model.config.market_gamma[j] * lg).exp();
            let mut re = g * self.advance(s, j, mix);
            if let Some(jumps) = &self.model.config.jumps {
                re += jumps.draw(j, rng);
            }
            s.log_ratio[j] += self.model.config.betas[j] * rm + re;
        }
    }
}
