//! The delta-hedging harness: sell one option at its market price and hedge
//! it with the underlying, using the market's own deltas, until expiry.
//!
//! The seller's books on one path (a self-financing hedge; Hull, "Options,
//! Futures and Other Derivatives", ch. 19, the stop-and-rebalance table):
//!
//! * at step 0: receive the premium `P₀`, buy `Δ₀` shares, pay the cost;
//! * between steps: cash accrues at the rate, `c ← c·e^{r·dt}`, and the
//!   shares held pay the dividend yield, `c += Δ·S·(e^{q·dt} − 1)`;
//! * at each rebalancing step before expiry: trade to the day's delta and
//!   pay `cost × |traded shares| × S`;
//! * at expiry: sell the shares (paying the cost) and pay the payoff.
//!
//! The P&L is the cash left at expiry. Under Black–Scholes dynamics with the
//! model's deltas it is a pure discretisation error with mean ≈ 0 and a
//! standard deviation falling like `1/√(number of rebalances)` (Bertsimas,
//! Kogan & Lo, "When is time continuous?", J. Financial Economics 55, 2000);
//! when the option was sold at an implied volatility above the one realised,
//! the seller earns about `½∫Γ S² (σ²_implied − σ²_realised) dt`.

use crate::error::{Error, Result};
use crate::market::OptionType;
use serde::Serialize;

/// The hedged contract and how it is hedged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HedgeSpec {
    /// Call or put (one option sold).
    pub option_type: OptionType,
    /// Strike.
    pub strike: f64,
    /// Rebalance every this many steps (1 = every step).
    pub every: usize,
    /// Transaction cost as a fraction of the traded notional.
    pub cost: f64,
    /// Continuous rate per year (cash account).
    pub rate: f64,
    /// Continuous dividend yield per year (paid on shares held).
    pub dividend: f64,
}

impl HedgeSpec {
    /// Checks the numbers: positive strike, `every ≥ 1`, cost in `[0, 0.1]`,
    /// finite rate and dividend.
    pub fn new(
        option_type: OptionType,
        strike: f64,
        every: usize,
        cost: f64,
        rate: f64,
        dividend: f64,
    ) -> Result<Self> {
        if !(strike.is_finite() && strike > 0.0) {
            return Err(Error::parameter("strike", strike, "must be positive"));
        }
        if every == 0 {
            return Err(Error::parameter("rebalance", 0, "must be at least 1 step"));
        }
        if !(0.0..=0.1).contains(&cost) {
            return Err(Error::parameter(
                "cost",
                cost,
                "a fraction of the traded notional in [0, 0.1] (--cost-bps 0 to 1000)",
            ));
        }
        for (name, x) in [("rate", rate), ("dividend", dividend)] {
            if !x.is_finite() {
                return Err(Error::parameter(name, x, "must be finite"));
            }
        }
        Ok(HedgeSpec {
            option_type,
            strike,
            every,
            cost,
            rate,
            dividend,
        })
    }
}

/// What one path offers the hedger: the step length, and for each step from
/// the sale to expiry (inclusive) the spot and the option's market price and
/// delta where the step has a quote.
#[derive(Debug, Clone, PartialEq)]
pub struct HedgePath {
    /// Years per step.
    pub dt: f64,
    /// Spot at each step.
    pub spot: Vec<f64>,
    /// (price, delta, implied vol) of the option at each step, if quoted.
    pub quote: Vec<Option<(f64, f64, f64)>>,
}

/// The hedge of one path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HedgeOutcome {
    /// Seller's P&L at expiry (currency, per option).
    pub pnl: f64,
    /// Premium received at the sale.
    pub premium: f64,
    /// Implied vol at the sale.
    pub implied_vol: f64,
    /// Realised vol of daily log returns from sale to expiry (annualised).
    pub realised_vol: f64,
    /// Rebalancing trades made (the first purchase included).
    pub trades: usize,
    /// Transaction costs paid.
    pub costs: f64,
}

impl HedgeSpec {
    fn payoff(&self, s: f64) -> f64 {
        match self.option_type {
            OptionType::Call => (s - self.strike).max(0.0),
            OptionType::Put => (self.strike - s).max(0.0),
        }
    }

    /// Runs the hedge along one path. The sale step and every rebalancing
    /// step must carry a quote; the last step is expiry.
    pub fn run(&self, path: &HedgePath) -> Result<HedgeOutcome> {
        let n = path.spot.len();
        if n < 2 || path.quote.len() != n {
            return Err(Error::Internal(
                "a hedge needs at least the sale and the expiry step".into(),
            ));
        }
        let (premium, mut delta, implied_vol) = path.quote[0]
            .ok_or_else(|| Error::Internal("the option has no quote on the sale date".into()))?;
        let mut costs = self.cost * delta.abs() * path.spot[0];
        let mut cash = premium - delta * path.spot[0] - costs;
        let mut trades = 1;
        let mut sum_r2 = 0.0;
        let dt = path.dt;
        // Per step: the cash account's growth and the dividend per unit of
        // stock value.
        let (growth, dividend) = ((self.rate * dt).exp(), (self.dividend * dt).exp_m1());
        for k in 1..n {
            let s = path.spot[k];
            cash *= growth;
            cash += delta * path.spot[k - 1] * dividend;
            sum_r2 += (s / path.spot[k - 1]).ln().powi(2);
            if k == n - 1 {
                let c = self.cost * delta.abs() * s;
                costs += c;
                cash += delta * s - c - self.payoff(s);
            } else if k % self.every == 0 {
                let (_, new, _) = path.quote[k].ok_or_else(|| {
                    Error::Internal(format!("the option has no quote at step {k}"))
                })?;
                let c = self.cost * (new - delta).abs() * s;
                costs += c;
                cash -= (new - delta) * s + c;
                delta = new;
                trades += 1;
            }
        }
        Ok(HedgeOutcome {
            pnl: cash,
            premium,
            implied_vol,
            realised_vol: (sum_r2 / ((n - 1) as f64 * dt)).sqrt(),
            trades,
            costs,
        })
    }
}

/// The P&L distribution across paths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PnlSummary {
    /// Paths.
    pub paths: usize,
    /// Mean P&L.
    pub mean: f64,
    /// Standard error of the mean.
    pub std_error: f64,
    /// Standard deviation.
    pub std: f64,
    /// (level, quantile) at 1, 5, 25, 50, 75, 95, 99 %.
    pub quantiles: Vec<(f64, f64)>,
    /// Expected shortfall at 95 %: minus the mean of the worst 5 % of P&Ls
    /// (a loss is positive).
    pub expected_shortfall_95: f64,
    /// Mean premium received.
    pub mean_premium: f64,
    /// Mean transaction costs.
    pub mean_costs: f64,
}

impl PnlSummary {
    /// Summarises outcomes (at least two).
    pub fn of(outcomes: &[HedgeOutcome]) -> Result<Self> {
        let n = outcomes.len();
        if n < 2 {
            return Err(Error::parameter(
                "paths",
                n,
                "a P&L distribution needs at least 2 paths",
            ));
        }
        let mut pnl: Vec<f64> = outcomes.iter().map(|o| o.pnl).collect();
        let nf = n as f64;
        let mean = pnl.iter().sum::<f64>() / nf;
        let std = (pnl.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
        pnl.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            // Linear interpolation between order statistics (type 7).
            let h = q * (nf - 1.0);
            let (lo, w) = (h.floor() as usize, h - h.floor());
            pnl[lo] + w * (pnl[(lo + 1).min(n - 1)] - pnl[lo])
        };
        let tail = ((0.05 * nf).ceil() as usize).max(1);
        Ok(PnlSummary {
            paths: n,
            mean,
            std_error: std / nf.sqrt(),
            std,
            quantiles: [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
                .iter()
                .map(|&q| (q, quantile(q)))
                .collect(),
            expected_shortfall_95: -pnl[..tail].iter().sum::<f64>() / tail as f64,
            mean_premium: outcomes.iter().map(|o| o.premium).sum::<f64>() / nf,
            mean_costs: outcomes.iter().map(|o| o.costs).sum::<f64>() / nf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hedge with no moves: selling a call at its intrinsic value with
    /// delta 1 on a flat path at zero rates leaves exactly nothing.
    #[test]
    fn flat_path_deep_in_the_money_call_breaks_even() {
        let spec = HedgeSpec::new(OptionType::Call, 80.0, 1, 0.0, 0.0, 0.0).unwrap();
        let path = HedgePath {
            dt: 1.0 / 252.0,
            spot: vec![100.0; 3],
            quote: vec![Some((20.0, 1.0, 0.2)); 3],
        };
        let o = spec.run(&path).unwrap();
        assert!(o.pnl.abs() < 1e-12, "{o:?}");
        assert_eq!(o.trades, 2);
        assert_eq!(o.realised_vol, 0.0);
    }

    /// Costs: buying 0.5 shares at 100 and selling them at expiry at 100
    /// with 10 bp per trade costs 2 × 0.001 × 50.
    #[test]
    fn costs_are_charged_on_the_traded_notional() {
        let spec = HedgeSpec::new(OptionType::Call, 100.0, 5, 0.001, 0.0, 0.0).unwrap();
        let path = HedgePath {
            dt: 0.01,
            spot: vec![100.0, 100.0],
            quote: vec![Some((4.0, 0.5, 0.2)), None],
        };
        let o = spec.run(&path).unwrap();
        assert!((o.costs - 0.1).abs() < 1e-12);
        assert!((o.pnl - (4.0 - 0.1)).abs() < 1e-12);
    }

    #[test]
    fn summary_quantiles_and_shortfall() {
        let outcomes: Vec<HedgeOutcome> = (1..=100)
            .map(|i| HedgeOutcome {
                pnl: f64::from(i),
                premium: 1.0,
                implied_vol: 0.2,
                realised_vol: 0.2,
                trades: 1,
                costs: 0.0,
            })
            .collect();
        let s = PnlSummary::of(&outcomes).unwrap();
        assert_eq!(s.mean, 50.5);
        assert_eq!(s.quantiles[3], (0.5, 50.5));
        // Worst 5 of 1..=100: mean 3, shortfall −3.
        assert_eq!(s.expected_shortfall_95, -3.0);
    }
}
