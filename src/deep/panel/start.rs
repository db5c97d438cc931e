//! A market model started at the close of a real day (issue 44:
//! `simulate --history PANEL --index INDEX --from DATE`).
//!
//! Each net's recursion runs through the real series it was trained on, up
//! to the day and no further, from the neutral start, exactly as training
//! ran it through the whole history to give the model its end-of-training
//! state:
//!
//! * the index net through the index's log returns over its scale;
//! * each stock's residual net through the stock's residual
//!   `e_t = r_t − β r_m,t` with its jump days set to 0 (found by the rule
//!   training uses, [`super::jumps`], searched over the days up to the
//!   date), over its market scale `(v_m,t / v̄)^{γ/2}` (`v_m,t` the index
//!   net's one-day-ahead variance on the same returns) and its net's scale.
//!
//! Every asset then starts at its real close on the day. The model's
//! dynamics (nets, betas, exponents, copula, jumps) are unchanged, so its
//! fingerprint, and the pricing table fitted for it, still apply.

use super::jumps::dejumped;
use super::train::{conditional_variances, market_scaled, residual};
use super::PanelModel;
use crate::deep::features::FeatureState;
use crate::error::{Error, Result};

impl PanelModel {
    /// The same model started at the close of a real day: `stocks[i]` is
    /// stock `i`'s daily log returns up to that day (the model's stock
    /// order), `index` the index's on the same days, `closes` every asset's
    /// close on the day (the stocks, then the index). The caller checks
    /// that the history is long enough for the features
    /// ([`crate::deep::WARMUP`] returns); mismatched lengths or a close
    /// that is not a positive number are errors.
    pub fn started_from(&self, stocks: &[Vec<f64>], index: &[f64], closes: &[f64]) -> Result<Self> {
        let d = self.nets.len();
        let m = d - 1;
        if stocks.len() != m || closes.len() != d || stocks.iter().any(|r| r.len() != index.len()) {
            return Err(Error::Internal(format!(
                "a start of {} stocks, {} closes and {} index returns for a model of {m} stocks",
                stocks.len(),
                closes.len(),
                index.len()
            )));
        }
        if let Some((j, c)) = closes
            .iter()
            .enumerate()
            .find(|(_, c)| !(c.is_finite() && **c > 0.0))
        {
            return Err(Error::parameter(
                "from",
                c,
                format!(
                    "the close of {} is not a positive price",
                    self.config.assets[j]
                ),
            ));
        }
        let index_net = &self.nets[m];
        let ln_vm: Vec<f64> = conditional_variances(index_net, index)
            .iter()
            .map(|v| v.ln())
            .collect();
        let mut nets = Vec::with_capacity(d);
        for (j, r) in stocks.iter().enumerate() {
            let e = dejumped(&residual(r, index, self.config.betas[j]));
            let (gamma, scale) = (self.config.market_gamma[j], self.nets[j].config().scale);
            let z: Vec<f64> = market_scaled(&e, &ln_vm, gamma, self.config.market_ln_var)
                .map(|x| x / scale)
                .collect();
            nets.push(self.nets[j].with_initial_state(&FeatureState::after(&z)));
        }
        let scale_m = index_net.config().scale;
        let zm: Vec<f64> = index.iter().map(|x| x / scale_m).collect();
        nets.push(index_net.with_initial_state(&FeatureState::after(&zm)));
        Ok(PanelModel {
            config: self.config.clone(),
            nets,
            copula: self.copula.clone(),
            dir: self.dir.clone(),
            start_spots: Some(closes.to_vec()),
        })
    }
}
