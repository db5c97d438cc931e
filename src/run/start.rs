//! Runs that start from a real date (`simulate --history FILE --from DATE`):
//! every model starts in the state the real history implies at the close of
//! DATE, using no data after it.
//!
//! * **deep**: its features run through the history's returns up to DATE
//!   (from the neutral start, as in training; at least
//!   [`crate::deep::WARMUP`] returns, the warm-up training leaves out).
//! * **GJR-GARCH**: the conditional variance of the next day filtered
//!   through the returns up to DATE with the run's parameters.
//! * **Heston**: `v0` = (VIX on DATE / 100)² with `--vix FILE` (the
//!   market's own 30-day variance, risk-neutral); otherwise the GJR-GARCH-t
//!   variance filtered through the history with parameters fitted by
//!   maximum likelihood on the returns up to DATE, × 252 (Heston's variance
//!   is latent: the GARCH filter is the tool's estimate of it from returns
//!   alone, as in the backtest).
//! * **GBM**: σ = the realised volatility of the last [`TRAILING_DAYS`]
//!   returns up to DATE, unless `--sigma` is given.
//!
//! * **market model** (a `panel.json`): `--history` is the stocks' wide
//!   file and `--history-index` the index's on the same dates (as `train
//!   --data --index` reads them); every net's features run through its own
//!   series up to DATE ([`crate::deep::panel::PanelModel::started_from`]),
//!   and every asset starts at its close.
//!
//! Step 0 is DATE, with the real close as spot unless `--s0` rescales it.

use super::models::ModelSpec;
use crate::deep::FeatureState;
use crate::error::{Error, Location, Result};
use crate::market::{SpotHistory, TRADING_DAYS_PER_YEAR};
use crate::sim::{filtered_variances, GarchEstimate, GbmParams, HestonParams};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Returns in GBM's trailing realised volatility (three months).
pub const TRAILING_DAYS: usize = 63;

/// Where a run started from, as `run.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryStart {
    /// The history file.
    pub file: PathBuf,
    /// Its price column (a market model: its stocks' columns, by commas).
    pub column: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// The date of step 0.
    pub date: NaiveDate,
    /// The real close on that date (a market model: the index's).
    pub close: f64,
    /// Returns of the history up to the date (none later is read).
    pub returns_used: usize,
    /// The starting state, in words (what was set and from what).
    pub state: String,
    /// A market model: the index's history file (`--history-index`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_file: Option<PathBuf>,
    /// SHA-256 of the index file's bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_sha256: Option<String>,
    /// The VIX on the date, when `--vix` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vix: Option<f64>,
    /// With `--vix`: the model's at-the-money (forward) implied vol at
    /// step 0 for 21 trading days (the VIX's 30 calendar days), in percent
    /// like the VIX, to read beside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_iv30: Option<f64>,
}

/// Trading days of the VIX's 30 calendar days.
const VIX_DAYS: f64 = 21.0;

/// Heston's at-the-money-forward implied vol for [`VIX_DAYS`] from `p`'s
/// state, in percent (the rate and dividend of a risk-neutral drift, else 0).
fn heston_iv30(p: &HestonParams) -> Result<f64> {
    use crate::market::{MarketState, OptionSpec, OptionType};
    use crate::pricing::{implied_vol, HestonPricer};
    let (rate, dividend) = match p.drift() {
        crate::sim::Drift::RiskNeutral { rate, dividend } => (rate, dividend),
        crate::sim::Drift::RealWorld { .. } => (0.0, 0.0),
    };
    let t = VIX_DAYS / TRADING_DAYS_PER_YEAR;
    let state = MarketState::new(p.s0(), rate, dividend)?;
    let forward = p.s0() * ((rate - dividend) * t).exp();
    let pricer = HestonPricer::new(p.kappa(), p.theta(), p.xi(), p.rho())?;
    let (call, _) = pricer.slice(p.v0(), t).calls_and_puts(&[forward], &state)?[0];
    let spec = OptionSpec::new(OptionType::Call, forward, t)?;
    implied_vol(call, &spec, &state)
        .map(|v| 100.0 * v)
        .map_err(|e| Error::Internal(format!("the 30-day implied vol at step 0: {e}")))
}

/// The inputs of a start from history.
#[derive(Debug, Clone, Copy)]
pub struct StartRequest<'a> {
    /// The history file.
    pub history: &'a Path,
    /// Its price column (`None`: `adj_close`, else `close`).
    pub column: Option<&'a str>,
    /// The date of step 0.
    pub from: NaiveDate,
    /// A VIX history (date, close) for Heston's `v0`.
    pub vix: Option<&'a Path>,
    /// A market model: the index's history on the dates of `history` (the
    /// stocks' wide file).
    pub index: Option<&'a Path>,
    /// Whether `--s0` was given (else the close is the spot).
    pub s0_given: bool,
    /// Whether `--sigma` was given (GBM keeps it).
    pub sigma_given: bool,
    /// Whether `--v0` was given (a conflict: the history sets it).
    pub v0_given: bool,
}

/// SHA-256 of some bytes, hex.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sets `spec`'s starting state from the history at the close of
/// `req.from`, and says what it did.
pub fn condition(spec: ModelSpec, req: StartRequest<'_>) -> Result<(ModelSpec, HistoryStart)> {
    // Read once: the bytes parsed are the bytes hashed for run.json.
    if let Some(file) = req
        .vix
        .filter(|_| !matches!(spec, ModelSpec::Heston { .. }))
    {
        return Err(Error::parameter(
            "vix",
            file.display(),
            "only Heston starts from the VIX (its v0); the other models read their state from the price history",
        ));
    }
    let bytes = read(req.history)?;
    if let ModelSpec::Panel { model_path, model } = spec {
        return condition_panel(model_path, *model, req, &bytes);
    }
    if let Some(index) = req.index {
        return Err(Error::parameter(
            "history-index",
            index.display(),
            "only a market model (--model deep --model-path DIR with a panel.json) reads an index history",
        ));
    }
    let full = SpotHistory::from_reader(bytes.as_slice(), req.history, req.column)?;
    let i = full.index_of(req.from, "from")?;
    let past = full.until(req.from, "from")?;
    let r = past.log_returns();
    let close = full.prices()[i];
    let need = |days: usize, what: &str| need_returns(&req, r.len(), full.dates()[0], days, what);
    let vix = match req.vix {
        None => None,
        Some(file) => {
            let h = SpotHistory::from_csv(file, None)?;
            let j = h.index_of(req.from, "from")?;
            Some(h.prices()[j])
        }
    };
    let s0 = |given: f64| if req.s0_given { given } else { close };
    let mut model_iv30 = None;
    let (spec, state) = match spec {
        ModelSpec::Gbm {
            mut assets,
            correlation,
        } => {
            if assets.len() > 1 {
                return Err(Error::parameter(
                    "history",
                    req.history.display(),
                    "a multi-asset GBM run cannot start from one price history",
                ));
            }
            let p = assets[0].params;
            let sigma = if req.sigma_given {
                p.sigma()
            } else {
                need(TRAILING_DAYS, "GBM's trailing realised volatility")?;
                let tail = &r[r.len() - TRAILING_DAYS..];
                let (_, var) = crate::stats::mean_var(tail);
                (var * TRADING_DAYS_PER_YEAR * TRAILING_DAYS as f64 / (TRAILING_DAYS - 1) as f64)
                    .sqrt()
            };
            assets[0].params = GbmParams::new(s0(p.s0()), p.drift(), sigma)?;
            let state = if req.sigma_given {
                format!("sigma {sigma} as given")
            } else {
                format!("sigma {sigma:.6}: realised volatility of the last {TRAILING_DAYS} returns")
            };
            (
                ModelSpec::Gbm {
                    assets,
                    correlation,
                },
                state,
            )
        }
        ModelSpec::Garch { params, s0: s, v0 } => {
            if v0.is_some() {
                return Err(conflict("v0"));
            }
            need(1, "the GARCH filter")?;
            let s2 = *filtered_variances(&params, &r)
                .last()
                .ok_or_else(|| Error::Internal("empty filter".into()))?;
            let v = s2 * TRADING_DAYS_PER_YEAR;
            (
                ModelSpec::Garch {
                    params,
                    s0: s0(s),
                    v0: Some(v),
                },
                format!(
                    "v0 {v:.6} (annualised): the run's GJR-GARCH-t variance filtered through {} returns",
                    r.len()
                ),
            )
        }
        ModelSpec::Heston { params, scheme } => {
            if req.v0_given {
                return Err(conflict("v0"));
            }
            let (v, mut state) = match vix {
                Some(x) => {
                    let v = (x / 100.0) * (x / 100.0);
                    (v, format!("v0 {v:.6} = (VIX {x} / 100)² on {}", req.from))
                }
                None => {
                    need(
                        super::backtest::MIN_TRAIN_DAYS,
                        "the GJR-GARCH-t fit that filters Heston's variance",
                    )?;
                    let fit = GarchEstimate::fit_returns(&r)?;
                    let v = fit.last_variance * TRADING_DAYS_PER_YEAR;
                    (
                        v,
                        format!(
                            "v0 {v:.6}: GJR-GARCH-t (fitted on the {} returns up to the date) filtered variance × 252",
                            r.len()
                        ),
                    )
                }
            };
            let p = HestonParams::new(
                s0(params.s0()),
                params.drift(),
                v,
                params.kappa(),
                params.theta(),
                params.xi(),
                params.rho(),
            )?;
            if let Some(x) = vix {
                model_iv30 = Some(heston_iv30(&p)?);
                state = format!(
                    "{state}; the model's 30-day at-the-money implied vol at step 0 {:.2} beside the VIX {x}",
                    model_iv30.unwrap_or(f64::NAN)
                );
            }
            (ModelSpec::Heston { params: p, scheme }, state)
        }
        ModelSpec::Deep {
            model_path,
            net,
            s0: s,
        } => {
            need(crate::deep::WARMUP, "the deep model's feature warm-up")?;
            let scale = net.config().scale;
            let z: Vec<f64> = r.iter().map(|x| x / scale).collect();
            let net = Box::new(net.with_initial_state(&FeatureState::after(&z)));
            (
                ModelSpec::Deep {
                    model_path,
                    net,
                    s0: s0(s),
                },
                format!("features run through {} returns", r.len()),
            )
        }
        ModelSpec::Panel { .. } => {
            return Err(Error::Internal("market models started above".into()))
        }
    };
    Ok((
        spec,
        HistoryStart {
            file: req.history.to_path_buf(),
            column: past.column().to_string(),
            sha256: sha256(&bytes),
            date: req.from,
            close,
            returns_used: r.len(),
            state,
            index_file: None,
            index_sha256: None,
            vix,
            model_iv30,
        },
    ))
}

/// An error naming `--from` when the `have` returns of the history before
/// it (which starts on `first`) are fewer than the `days` that `what`
/// needs.
fn need_returns(
    req: &StartRequest<'_>,
    have: usize,
    first: NaiveDate,
    days: usize,
    what: &str,
) -> Result<()> {
    if have < days {
        return Err(Error::input(
            Location::file(req.history).field("from"),
            format!(
                "{} leaves {have} returns before it (the history starts on {first}): {what} needs at least {days}",
                req.from
            ),
        ));
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A market model started at the close of `req.from`: the stocks' wide
/// history (`bytes`, of `req.history`) and the index's (`req.index`).
fn condition_panel(
    model_path: String,
    model: crate::deep::panel::PanelModel,
    req: StartRequest<'_>,
    bytes: &[u8],
) -> Result<(ModelSpec, HistoryStart)> {
    if let Some(c) = req.column {
        return Err(Error::parameter(
            "column",
            c,
            "a market model reads every stock's column of the wide --history file: drop --column",
        ));
    }
    let index_path = req.index.ok_or_else(|| {
        Error::parameter(
            "history-index",
            "(missing)",
            format!("the market model {model_path} starts from its stocks' wide history (--history) and its index's on the same dates: add --history-index FILE (the files `train --data --index` reads)"),
        )
    })?;
    let panel = crate::market::PanelHistory::from_bytes(bytes, req.history)?;
    let index_bytes = read(index_path)?;
    let index = SpotHistory::from_reader(index_bytes.as_slice(), index_path, None)?;
    panel.check_same_dates(&index)?;
    let names = panel.names();
    let stocks = model.assets().len() - 1;
    let columns = model.assets()[..stocks]
        .iter()
        .map(|a| {
            names.iter().position(|n| n == a).ok_or_else(|| {
                Error::input(
                    Location::file(req.history).line(1),
                    format!(
                        "the market model {model_path} has the stock `{a}`, which is not a column of this file (its stocks: {})",
                        model.assets()[..stocks].join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let i = index.index_of(req.from, "from")?;
    need_returns(
        &req,
        i,
        index.dates()[0],
        crate::deep::WARMUP,
        "the market model's feature warm-up",
    )?;
    let until = |h: &SpotHistory| {
        let mut r = h.log_returns();
        r.truncate(i);
        r
    };
    let r: Vec<Vec<f64>> = columns.iter().map(|&c| until(panel.asset(c))).collect();
    let rm = until(&index);
    let closes: Vec<f64> = columns
        .iter()
        .map(|&c| panel.asset(c).prices()[i])
        .chain([index.prices()[i]])
        .collect();
    let started = model.started_from(&r, &rm, &closes)?;
    let state = format!(
        "every net's features run through its series' {i} returns up to the date (each stock's residual to the index, the index's own); each asset at its close (the model's s0)"
    );
    Ok((
        ModelSpec::Panel {
            model_path,
            model: Box::new(started),
        },
        HistoryStart {
            file: req.history.to_path_buf(),
            column: model.assets()[..stocks].join(","),
            sha256: sha256(bytes),
            date: req.from,
            close: index.prices()[i],
            returns_used: i,
            state,
            index_file: Some(index_path.to_path_buf()),
            index_sha256: Some(sha256(&index_bytes)),
            vix: None,
            model_iv30: None,
        },
    ))
}

fn conflict(flag: &str) -> Error {
    Error::parameter(
        flag,
        "given",
        format!("--from sets the starting state from the history: drop --{flag}"),
    )
}
