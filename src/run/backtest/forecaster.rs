//! Each model as a forecaster: fitted on the days up to the end of training,
//! then asked, for any later day, for its law of the next return given the
//! real history up to the day before, and for simulated paths that start in
//! the state that history implies.

use crate::deep::{DeepGenerator, FeatureState, MixtureNet};
use crate::error::{Error, Result};
use crate::forecast::{OneDayLaw, Sample};
use crate::market::{PathChunk, TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::sim::{
    filtered_variances, Drift, Driver, Garch, GarchParams, Gbm, GbmParams, Heston, HestonParams,
    HestonScheme, PathGenerator,
};

/// The law of one forecast: exact where the model's law is explicit,
/// otherwise simulated draws.
#[derive(Debug, Clone)]
pub enum Forecast {
    /// The model's own law, used exactly.
    Law(OneDayLaw),
    /// Draws simulated from the model's state.
    Sample(Sample),
}

impl Forecast {
    /// The `p`-quantile (the VaR at level `p` is this return).
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            Forecast::Law(l) => l.quantile(p),
            Forecast::Sample(s) => s.quantile(p),
        }
    }

    /// The probability integral transform of `y` and its normal score
    /// `Φ⁻¹(u)`. For a sample, `u` is the share of draws at or below `y`,
    /// held inside `[1/(2N), 1 − 1/(2N)]` for the normal score (a realised
    /// value beyond every draw has no finite score).
    pub fn pit(&self, y: f64) -> (f64, f64) {
        match self {
            Forecast::Law(l) => l.pit(y),
            Forecast::Sample(s) => {
                let u = s.cdf(y);
                let half = 0.5 / s.len() as f64;
                (u, crate::forecast::norm_ppf(u.clamp(half, 1.0 - half)))
            }
        }
    }

    /// The CRPS of `y` (in the units of `y`).
    pub fn crps(&self, y: f64) -> f64 {
        match self {
            Forecast::Law(l) => l.crps(y),
            Forecast::Sample(s) => s.crps(y),
        }
    }
}

/// What a forecaster holds: the fitted model and its state filtered through
/// the whole history (a state at day `t` depends only on returns before `t`).
#[derive(Debug, Clone)]
enum Kind {
    /// Constant mean and standard deviation of daily log returns.
    Gbm { mean: f64, sd: f64 },
    /// GJR-GARCH-t and its filtered daily variances (`s2[t]`: of day `t`).
    Garch { params: GarchParams, s2: Vec<f64> },
    /// Heston, its variance state read off the GJR-GARCH-t filter.
    Heston { params: HestonParams, s2: Vec<f64> },
    /// The deep model and its feature states (`states[t]`: after the
    /// returns before day `t`).
    Deep {
        net: Box<MixtureNet>,
        states: Vec<FeatureState>,
    },
}

/// A model fitted on the training days, forecasting from any later day.
#[derive(Debug, Clone)]
pub struct Forecaster {
    name: String,
    description: String,
    kind: Kind,
}

/// Draws of a simulated one-day law where the model's law is not explicit.
pub const ONE_DAY_DRAWS: u64 = 10_000;

impl Forecaster {
    /// GBM: the constant-volatility normal law with the mean and sample
    /// standard deviation (divided by n − 1) of the training returns.
    pub fn gbm(training: &[f64]) -> Result<Self> {
        let n = training.len();
        if n < 2 {
            return Err(Error::parameter(
                "train-to",
                n,
                "GBM needs at least 2 training returns",
            ));
        }
        let (mean, var) = crate::stats::mean_var(training);
        let sd = (var * n as f64 / (n - 1) as f64).sqrt();
        Ok(Forecaster {
            name: "GBM".into(),
            description: format!(
                "constant volatility: daily mean {:.3e}, sd {:.5} ({:.1} % a year) of the training returns",
                mean,
                sd,
                100.0 * sd * TRADING_DAYS_PER_YEAR.sqrt()
            ),
            kind: Kind::Gbm { mean, sd },
        })
    }

    /// GJR-GARCH-t with fixed parameters, its variance filtered through
    /// every return of `returns` (the recursion starts from the backcast of
    /// [`crate::sim::garch_log_likelihood`]; after a few hundred days the
    /// start is forgotten).
    pub fn garch(params: GarchParams, returns: &[f64], description: String) -> Self {
        Forecaster {
            name: "GJR-GARCH-t".into(),
            description,
            kind: Kind::Garch {
                params,
                s2: filtered_variances(&params, returns),
            },
        }
    }

    /// Heston with fixed parameters (its `v0` is replaced at each origin),
    /// its variance state on day `t` the GJR-GARCH-t filtered variance of
    /// day `t` under `garch`, annualised: Heston's variance is latent, and
    /// the GARCH filter is the tool's estimate of the same quantity from
    /// returns alone (the moments fit reads its κ and ρ from that filter too).
    pub fn heston(
        params: HestonParams,
        garch: &GarchParams,
        returns: &[f64],
        description: String,
    ) -> Self {
        Forecaster {
            name: "Heston".into(),
            description,
            kind: Kind::Heston {
                params,
                s2: filtered_variances(garch, returns),
            },
        }
    }

    /// The deep model, its features run through every return of `returns`
    /// from the neutral start (as training and its likelihood do).
    pub fn deep(net: MixtureNet, returns: &[f64], description: String) -> Self {
        let scale = net.config().scale;
        let mut states = Vec::with_capacity(returns.len() + 1);
        let mut s = FeatureState::default();
        states.push(s);
        for r in returns {
            s.update(r / scale);
            states.push(s);
        }
        Forecaster {
            name: "deep".into(),
            description,
            kind: Kind::Deep {
                net: Box::new(net),
                states,
            },
        }
    }

    /// The model's name in tables.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it was fitted, in words.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// How the one-day law is computed, in words.
    pub fn one_day_method(&self) -> String {
        match self.kind {
            Kind::Gbm { .. } => "exact (normal)".into(),
            Kind::Garch { .. } => "exact (standardised Student-t)".into(),
            Kind::Deep { .. } => "exact (the network's Student-t mixture)".into(),
            Kind::Heston { .. } => {
                format!("{ONE_DAY_DRAWS} simulated draws per day (Andersen QE, one step)")
            }
        }
    }

    /// The law of the return of day `t` given the returns before it.
    /// `seed` drives the draws where the law is simulated.
    pub fn one_day(&self, t: usize, seed: u64) -> Result<Forecast> {
        Ok(match &self.kind {
            Kind::Gbm { mean, sd } => Forecast::Law(OneDayLaw::Normal {
                mean: *mean,
                sd: *sd,
            }),
            Kind::Garch { params, s2 } => Forecast::Law(OneDayLaw::StudentT {
                mean: params.mu,
                sd: s2[t].sqrt(),
                nu: params.nu,
            }),
            Kind::Deep { net, states } => {
                let mix = net.mixture(&states[t]);
                let scale = net.config().scale;
                Forecast::Law(OneDayLaw::TMixture {
                    weight: mix.weight.to_vec(),
                    loc: mix.loc.iter().map(|l| l * scale).collect(),
                    scale: mix.scale.iter().map(|s| s * scale).collect(),
                    nu: mix.nu.to_vec(),
                })
            }
            Kind::Heston { .. } => {
                let paths = self.simulate(t, 1, ONE_DAY_DRAWS, seed)?;
                Forecast::Sample(Sample::new(
                    "Heston one-day draws",
                    paths.into_iter().map(|p| p[0]).collect(),
                )?)
            }
        })
    }

    /// `draws` simulated paths of `steps` days from the state before day
    /// `t`: for each path, the cumulative log return after 1, 2, … `steps`
    /// days. Paths are reproducible from `seed` alone.
    pub fn simulate(&self, t: usize, steps: usize, draws: u64, seed: u64) -> Result<Vec<Vec<f64>>> {
        let grid = TimeGrid::new(steps, 1.0 / TRADING_DAYS_PER_YEAR)?;
        match &self.kind {
            Kind::Gbm { mean, sd } => {
                let sigma = sd * TRADING_DAYS_PER_YEAR.sqrt();
                let mu = mean * TRADING_DAYS_PER_YEAR + 0.5 * sigma * sigma;
                let g = Gbm::new(GbmParams::new(1.0, Drift::RealWorld { mu }, sigma)?, &grid);
                cumulative(&g, steps, draws, seed)
            }
            Kind::Garch { params, s2 } => {
                let g = Garch::new(*params, 1.0, Some(s2[t] * TRADING_DAYS_PER_YEAR), &grid)?;
                cumulative(&g, steps, draws, seed)
            }
            Kind::Heston { params, s2 } => {
                let p = HestonParams::new(
                    1.0,
                    params.drift(),
                    s2[t] * TRADING_DAYS_PER_YEAR,
                    params.kappa(),
                    params.theta(),
                    params.xi(),
                    params.rho(),
                )?;
                cumulative(&Heston::new(p, HestonScheme::Qe, &grid), steps, draws, seed)
            }
            Kind::Deep { net, states } => {
                let g = DeepGenerator::new(net.with_initial_state(&states[t]), Some(1.0), &grid)?;
                cumulative(&g, steps, draws, seed)
            }
        }
    }
}

/// Cumulative log returns `ln(S_k/S_0)`, `k = 1..=steps`, of each path.
fn cumulative<G: PathGenerator>(
    g: &G,
    steps: usize,
    draws: u64,
    seed: u64,
) -> Result<Vec<Vec<f64>>> {
    Ok(Driver::new(seed, draws)
        .collect(g, steps, |c: &PathChunk| {
            (0..c.paths())
                .map(|p| {
                    let s0 = c.spot(p, 0)[0];
                    (1..=steps)
                        .map(|k| (c.spot(p, k)[0] / s0).ln())
                        .collect::<Vec<f64>>()
                })
                .collect::<Vec<_>>()
        })?
        .into_iter()
        .flatten()
        .collect())
}
