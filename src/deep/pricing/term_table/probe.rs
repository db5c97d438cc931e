//! The table's accuracy against nested Monte Carlo at fresh states
//! ([`probe`]): the probe's states and strikes, the control-variate
//! references ([`nested_reference`]), the exact mode's own error at the
//! same options ([`exact_mode_vols`]), and the comparison
//! ([`probe_against`]).

use super::estimate::{atm_log_variance, hedged_call};
use super::{generator, ExactModeError, ProbeSummary, TermTable};
use crate::deep::pricing::nested::{EmpiricalLaw, DEFAULT_NESTED_PATHS};
use crate::deep::{DeepGenerator, MixtureNet};
use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec, OptionType, TRADING_DAYS_PER_YEAR};
use crate::pricing::{implied_vol, BlackScholes};
use crate::sim::risk_neutral::{terminal_ratios, RiskNeutral};
use crate::sim::PathGenerator;
use serde::Serialize;

/// States drawn per variance quantile for the [`probe`] to pick from: the
/// fit's group size before it grew to [`GROUP`], so the probe's states (and
/// the figures in the model card and tests) stay the ones measured before.
///
/// [`GROUP`]: super::GROUP
const PROBE_PER_LEVEL: usize = 32;

/// One probed option: state, maturity (days), moneyness in forecast
/// standard deviations, table and nested implied vols.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbePoint {
    /// Index of the state.
    pub state: usize,
    /// Its one-day real-world variance.
    pub variance: f64,
    /// Maturity in trading days.
    pub days: u32,
    /// ln(K/F) in units of the nested sample's at-the-money vol times √T.
    pub sd: f64,
    /// Table implied vol.
    pub table: f64,
    /// Nested Monte-Carlo implied vol.
    pub nested: f64,
    /// Its standard error (in vol; 0 where `nested` is).
    pub se: f64,
}

/// Standard-deviation moneyness of the probe's strikes.
pub const PROBE_SD: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// The seed of the probe's states and nested paths for a fit's `seed`
/// (`fit-pricing --seed`): another stream than the fit's own states.
pub const fn probe_seed(seed: u64) -> u64 {
    seed ^ 0x9e37_79b9
}

/// A nested Monte-Carlo implied vol at one probed option: the reference
/// [`probe_against`] compares a table with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceVol {
    /// Index of the state among the probe's picks (in the order [`probe`] draws them).
    pub state: usize,
    /// Maturity in trading days.
    pub days: u32,
    /// Moneyness: one of [`PROBE_SD`].
    pub sd: f64,
    /// Nested Monte-Carlo implied vol of the out-of-the-money option, from
    /// the delta-hedge control-variate estimate of its price (0 where no
    /// vol fits it: a far option whose estimate is not above its bound).
    pub nested: f64,
    /// The standard error of `nested` (in vol, like `nested`; 0 with it).
    pub se: f64,
}

/// The probe's states for `seed`: `states` states of `net`'s stationary
/// regime spread over the variance quantiles 0.02–0.97 (one from each of
/// `states` evenly spread knot levels), each as a risk-neutral generator
/// under `measure` started there.
fn probe_states(
    net: &MixtureNet,
    measure: &RiskNeutral,
    states: usize,
    seed: u64,
) -> Result<Vec<DeepGenerator>> {
    let knots = generator(net)?.surrogate_knots(measure, seed, PROBE_PER_LEVEL);
    Ok((0..states)
        .map(|i| {
            let at = (i * (knots.len() - 1)) / (states - 1).max(1);
            knots[at.clamp(2, knots.len() - 3)].generators[i % PROBE_PER_LEVEL].clone()
        })
        .collect())
}

/// The probe's strikes at maturity `t` (years) for a state whose nested
/// at-the-money vol is `atm`: `ln(K/F) = z·σ_ATM·√T` for z in [`PROBE_SD`].
fn probe_strikes(atm: f64, t: f64) -> Vec<f64> {
    PROBE_SD.iter().map(|&z| probe_strike(atm, t, z)).collect()
}

/// One of [`probe_strikes`]: `ln(K/F) = z·σ_ATM·√T`.
fn probe_strike(atm: f64, t: f64, z: f64) -> f64 {
    (z * (atm * t.sqrt())).exp()
}

/// Implied vol of the out-of-the-money option at forward moneyness `k`
/// (puts below the forward, by parity: F = 1, no discounting) from the
/// forward call price `call`; NaN where no vol fits.
fn otm_implied_vol(call: f64, k: f64, t: f64) -> Result<f64> {
    let (ty, otm) = if k < 1.0 {
        (OptionType::Put, 1.0 - k)
    } else {
        (OptionType::Call, 0.0)
    };
    let spec = OptionSpec::new(ty, k, t)?;
    let market = MarketState::new(1.0, 0.0, 0.0)?;
    Ok(implied_vol(call - otm, &spec, &market).unwrap_or(f64::NAN))
}

/// Nested Monte-Carlo references at the probe's states (`paths` per state,
/// see [`probe`]), and the root mean square of their at-the-money vols'
/// standard errors (vol points).
///
/// Each option's price is the delta-hedge control-variate estimate
/// (`hedged_call`) from the state's nested paths, the deltas at the
/// option's own plain implied vol (the plain sample's, or the at-the-money
/// one where no path finished beyond the strike): unbiased like the plain
/// mean of the payoffs, with a standard error 1.1–11 times smaller (least
/// on +2 sd calls at 21 days in stressed states, most at the money; design
/// notes). The strikes are placed at ±1, ±2 standard deviations of the
/// hedged at-the-money vol.
pub fn nested_reference(
    net: &MixtureNet,
    variance_premium: f64,
    states: usize,
    paths: u64,
    days: &[u32],
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(Vec<ReferenceVol>, f64)> {
    refuse_zero_days(days.iter().copied())?;
    let measure = RiskNeutral::new(0.0, 0.0, variance_premium)?;
    let market = MarketState::new(1.0, 0.0, 0.0)?;
    let last = days.iter().copied().max().unwrap_or(0) as usize;
    let every_day: Vec<usize> = (1..=last).collect();
    let mut out = Vec::new();
    let mut se2 = Vec::new();
    for (i, g) in probe_states(net, &measure, states, seed)?
        .iter()
        .enumerate()
    {
        // One nested seed for every probed state (common random numbers):
        // the references' errors are correlated across the sample, which the
        // model card says. Every day's ratio, for the hedge.
        let sample = terminal_ratios(g, seed ^ 0x5eed, paths, &every_day)?;
        for &d in days {
            let (t, steps) = (f64::from(d) / TRADING_DAYS_PER_YEAR, d as usize);
            let law = EmpiricalLaw::new(sample.iter().map(|r| r[steps - 1]).collect());
            let plain_atm = (atm_log_variance(law.call(1.0), t)? / 2.0).exp();
            let atm_call = hedged_call(&sample, steps, 1.0, plain_atm).0;
            let atm = (atm_log_variance(atm_call, t)? / 2.0).exp();
            for (&k, z) in probe_strikes(atm, t).iter().zip(PROBE_SD) {
                let plain = otm_implied_vol(law.call(k), k, t)?;
                let hedge_vol = if plain.is_finite() && plain > 0.0 {
                    plain
                } else {
                    plain_atm
                };
                let (call, se) = hedged_call(&sample, steps, k, hedge_vol);
                // 0 where no vol fits (a far option whose estimate is not
                // above its bound); the price's standard error in vol by the
                // option's vega.
                let (nested, se) = match otm_implied_vol(call, k, t)? {
                    v if v.is_finite() && v > 0.0 => {
                        let spec = OptionSpec::new(OptionType::Call, k, t)?;
                        let vega = BlackScholes::new(v)?.greeks(&spec, &market).vega;
                        (v, se / vega)
                    }
                    _ => (0.0, 0.0),
                };
                if z == 0.0 && nested > 0.0 {
                    se2.push(se * se);
                }
                out.push(ReferenceVol {
                    state: i,
                    days: d,
                    sd: z,
                    nested,
                    se,
                });
            }
        }
        progress(i + 1);
    }
    let atm_se = 100.0 * (se2.iter().sum::<f64>() / se2.len().max(1) as f64).sqrt();
    Ok((out, atm_se))
}

/// The nested probes' maturities must be at least a trading day (a
/// 0-day option has no path to hedge along).
fn refuse_zero_days(mut days: impl Iterator<Item = u32>) -> Result<()> {
    if days.any(|d| d == 0) {
        return Err(Error::parameter(
            "days",
            0,
            "maturities of at least one trading day",
        ));
    }
    Ok(())
}

/// The at-the-money vol that places the probe's strikes of `state` at
/// `days` in `reference`, through ln σ² as [`nested_reference`] has it, so
/// the strikes are the reference's to the last bit.
fn reference_atm(reference: &[ReferenceVol], state: usize, days: u32) -> Result<f64> {
    let atm = reference
        .iter()
        .find(|a| a.state == state && a.days == days && a.sd == 0.0)
        .ok_or_else(|| {
            Error::Internal(format!(
                "probe reference without the at-the-money vol of state {state} at {days} days"
            ))
        })?
        .nested;
    Ok(((atm * atm).max(1e-12).ln() / 2.0).exp())
}

/// The exact mode's implied vols at the options of `reference` (nested
/// references at the probe's `states` states for `seed`, as for
/// [`probe_against`]), in the same order: each state priced the way
/// `simulate --chain-pricing nested` prices a chain, the plain mean of the
/// payoffs of `paths` nested paths under the empirical martingale
/// correction ([`super::nested`]; calendar order is not imposed, the
/// maturities are priced one by one), from draws independent of the
/// reference's. It measures how far the exact mode itself is from the
/// precise references at a given sample size, beside the table's error.
/// 0 where no vol fits (no nested path finished beyond the strike).
///
/// [`super::nested`]: crate::deep::pricing::nested
pub fn exact_mode_vols(
    net: &MixtureNet,
    variance_premium: f64,
    states: usize,
    paths: u64,
    seed: u64,
    reference: &[ReferenceVol],
) -> Result<Vec<f64>> {
    refuse_zero_days(reference.iter().map(|r| r.days))?;
    let measure = RiskNeutral::new(0.0, 0.0, variance_premium)?;
    let picks = probe_states(net, &measure, states, seed)?;
    let mut days: Vec<usize> = reference.iter().map(|r| r.days as usize).collect();
    days.sort_unstable();
    days.dedup();
    let mut out = Vec::with_capacity(reference.len());
    // The state whose laws were simulated last (a reference lists a state's
    // options together).
    let mut laws: Option<(usize, Vec<EmpiricalLaw>)> = None;
    for r in reference {
        let state_laws = match laws.take() {
            Some((state, l)) if state == r.state => l,
            _ => {
                let g = picks.get(r.state).ok_or_else(|| {
                    Error::Internal(format!("probe reference state {} of {states}", r.state))
                })?;
                // Another stream than the reference's (`seed ^ 0x5eed`),
                // common to the probed states as the reference's is.
                let terminal = terminal_ratios(g, seed ^ 0xe8ac7, paths, &days)?;
                (0..days.len())
                    .map(|m| EmpiricalLaw::new(terminal.iter().map(|x| x[m]).collect()))
                    .collect()
            }
        };
        let atm = reference_atm(reference, r.state, r.days)?;
        let t = f64::from(r.days) / TRADING_DAYS_PER_YEAR;
        let k = probe_strike(atm, t, r.sd);
        let law = &state_laws[days.binary_search(&(r.days as usize)).unwrap_or(0)];
        let v = otm_implied_vol(law.call(k), k, t)?;
        out.push(if v.is_finite() && v > 0.0 { v } else { 0.0 });
        laws = Some((r.state, state_laws));
    }
    Ok(out)
}

/// A probed slice priced by a table: (state, days), the state's variance,
/// and the strikes and forward calls at every moneyness of [`PROBE_SD`].
struct PricedSlice {
    key: (usize, u32),
    variance: f64,
    strikes: Vec<f64>,
    calls: Vec<f64>,
}

/// `table`'s implied vols at the options of `reference`, nested references
/// computed at the probe's `states` states for `seed` ([`nested_reference`]
/// with the same `states` and `seed`, or the same values read back from a
/// file): the strikes are placed in units of each state's reference
/// at-the-money vol, which `reference` must hold for every (state,
/// maturity) it lists.
pub fn probe_against(
    table: &TermTable,
    states: usize,
    seed: u64,
    reference: &[ReferenceVol],
) -> Result<Vec<ProbePoint>> {
    let measure = RiskNeutral::new(0.0, 0.0, table.variance_premium())?;
    let picks = probe_states(&table.net, &measure, states, seed)?;
    let (mut s, mut v) = ([0.0], [0.0]);
    let mut raw = [0.0; crate::deep::STATE_LEN];
    let mut points = Vec::with_capacity(reference.len());
    // The slice last priced (a reference lists a slice's options together,
    // so each slice is priced once).
    let mut last: Option<PricedSlice> = None;
    for r in reference {
        let t = f64::from(r.days) / TRADING_DAYS_PER_YEAR;
        let slice = match last.take() {
            Some(slice) if slice.key == (r.state, r.days) => slice,
            _ => {
                let g = picks.get(r.state).ok_or_else(|| {
                    Error::Internal(format!("probe reference state {} of {states}", r.state))
                })?;
                let atm = reference_atm(reference, r.state, r.days)?;
                let st = g.initial_state();
                g.observe(&st, &mut s, &mut v);
                g.observe_state(&st, &mut raw);
                let variance = v[0] / table.variance_premium();
                let ks = probe_strikes(atm, t);
                let calls = table
                    .chain_calls(&raw, variance, &[(t, ks.clone())])?
                    .remove(0);
                PricedSlice {
                    key: (r.state, r.days),
                    variance,
                    strikes: ks,
                    calls,
                }
            }
        };
        let z = PROBE_SD
            .iter()
            .position(|z| *z == r.sd)
            .ok_or_else(|| Error::Internal(format!("probe moneyness {} sd", r.sd)))?;
        points.push(ProbePoint {
            state: r.state,
            variance: slice.variance,
            days: r.days,
            sd: r.sd,
            table: otm_implied_vol(slice.calls[z], slice.strikes[z], t)?,
            nested: r.nested,
            se: r.se,
        });
        last = Some(slice);
    }
    Ok(points)
}

/// Compares `table` with nested Monte Carlo (`paths` per state) at `states`
/// states drawn from the table's model's stationary regime with `seed`
/// (spread over the variance quantiles 0.02–0.97), at `days` maturities and
/// strikes at [`PROBE_SD`] standard deviations of moneyness, `ln(K/F) =
/// z·σ_ATM·√T` with `σ_ATM` the nested sample's own at-the-money vol (so the
/// grid does not depend on the table; the usual standardised moneyness of
/// a smile). Calls `progress` per state. The summary also holds the exact
/// mode's own error at its default size against the same references
/// ([`exact_mode_vols`]), for scale.
pub fn probe(
    table: &TermTable,
    states: usize,
    paths: u64,
    days: &[u32],
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(ProbeSummary, Vec<ProbePoint>)> {
    let (reference, atm_se) = nested_reference(
        &table.net,
        table.variance_premium(),
        states,
        paths,
        days,
        seed,
        progress,
    )?;
    let points = probe_against(table, states, seed, &reference)?;
    let exact_paths = DEFAULT_NESTED_PATHS;
    let exact = exact_mode_vols(
        &table.net,
        table.variance_premium(),
        states,
        exact_paths,
        seed,
        &reference,
    )?;
    // A nested vol of 0 means no nested path finished beyond the strike: the
    // option is not resolved by the sample, and its vol is not compared.
    let resolved = |p: &ProbePoint| p.nested > 0.0;
    let unresolved = points.iter().filter(|p| !resolved(p)).count();
    // Max and RMS of |vol − nested| over the resolved options `f` keeps,
    // `vol` the table's or, with `of_exact`, the exact mode's.
    let err_of = |f: &dyn Fn(&ProbePoint) -> bool, of_exact: bool| {
        let e: Vec<f64> = points
            .iter()
            .zip(&exact)
            .filter(|(p, x)| f(p) && resolved(p) && (!of_exact || **x > 0.0))
            .map(|(p, x)| 100.0 * ((if of_exact { *x } else { p.table }) - p.nested).abs())
            .collect();
        let max = e.iter().copied().fold(0.0, f64::max);
        let rms = (e.iter().map(|x| x * x).sum::<f64>() / e.len().max(1) as f64).sqrt();
        // A NaN anywhere fails the comparison loudly.
        if e.iter().any(|x| !x.is_finite()) {
            (f64::NAN, f64::NAN)
        } else {
            (max, rms)
        }
    };
    let (atm_max, atm_rms) = err_of(&|p| p.sd == 0.0, false);
    let (wing_max, wing_rms) = err_of(&|_| true, false);
    let ((x_atm_max, x_atm_rms), (x_wing_max, x_wing_rms)) =
        (err_of(&|p| p.sd == 0.0, true), err_of(&|_| true, true));
    Ok((
        ProbeSummary {
            states,
            paths,
            days: days.to_vec(),
            atm_max,
            atm_rms,
            wing_max,
            wing_rms,
            atm_se,
            unresolved,
            exact: Some(ExactModeError {
                paths: exact_paths,
                atm_max: x_atm_max,
                atm_rms: x_atm_rms,
                wing_max: x_wing_max,
                wing_rms: x_wing_rms,
            }),
        },
        points,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 0-day maturity has no path to hedge along: both nested probes
    /// refuse it with an error naming the field, before simulating.
    #[test]
    fn nested_probes_refuse_zero_day_maturities() {
        let net = MixtureNet::shipped().unwrap();
        let err = nested_reference(&net, 1.38, 2, 1_000, &[21, 0], 1, &|_| {}).unwrap_err();
        assert!(
            err.to_string().contains("at least one trading day"),
            "{err}"
        );
        let r = ReferenceVol {
            state: 0,
            days: 0,
            sd: 0.0,
            nested: 0.2,
            se: 0.0,
        };
        let err = exact_mode_vols(&net, 1.38, 2, 1_000, 1, &[r]).unwrap_err();
        assert!(
            err.to_string().contains("at least one trading day"),
            "{err}"
        );
    }
}
