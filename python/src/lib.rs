//! `synthmarket._synthmarket`: the Python face of the library, a thin layer
//! that converts arguments, releases the GIL while Rust works, and hands
//! results over as numpy arrays that Rust filled (no text, no Python lists,
//! one copy of the data). The Python package (`python/synthmarket/`) wraps
//! these functions with docstrings, broadcasting and pandas DataFrames.
//!
//! Errors: the library's input errors become `synthmarket.SynthmarketError`
//! (a `ValueError`) with the CLI's message; internal or I/O failures become
//! `synthmarket.SynthmarketIOError` (an `OSError`).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use synthmarket::io::columns::{Column, Table};
use synthmarket::market::{MarketState, OptionSpec, OptionType};
use synthmarket::pricing::batch::{BsBatch, Calls, GreeksOut, Param};
use synthmarket::pricing::implied_vol::{IvBatch, IvError};
use synthmarket::pricing::HestonPricer;

create_exception!(
    _synthmarket,
    SynthmarketError,
    PyValueError,
    "Bad input: a parameter, a file, a line or a field (the CLI exits with code 2)."
);
create_exception!(
    _synthmarket,
    SynthmarketIOError,
    PyOSError,
    "An I/O or internal failure (the CLI exits with code 1)."
);

/// The Python exception class of a library error: input errors (the CLI's
/// exit code 2) are `SynthmarketError`, the rest `SynthmarketIOError`.
fn exception(err: &synthmarket::Error, msg: String) -> PyErr {
    if err.exit_code() == 2 {
        SynthmarketError::new_err(msg)
    } else {
        SynthmarketIOError::new_err(msg)
    }
}

/// The library's error as the matching Python exception, with the CLI's
/// message.
fn to_py(err: synthmarket::Error) -> PyErr {
    exception(&err, err.report())
}

/// The thread pool of `n` threads, built once per count and kept: building
/// one costs tens of microseconds, more than a short vectorised call.
fn pool(n: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = pools.get(&n) {
        return Ok(p.clone());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| SynthmarketIOError::new_err(format!("thread pool: {e}")))?,
    );
    pools.insert(n, p.clone());
    Ok(p)
}

/// Runs `f` on a pool of `threads` threads (all cores when `None`); the
/// results never depend on the count.
fn on_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        None => Ok(f()),
        Some(0) => Err(SynthmarketError::new_err(
            "invalid parameter `threads` = 0: at least 1 (or None for all cores)",
        )),
        Some(n) => Ok(pool(n)?.install(f)),
    }
}

/// Borrows `a` as a [`Param`] of an `n`-element call: a scalar (an array
/// of length 1) or one value per element.
fn arg<'a>(name: &str, a: &'a PyReadonlyArray1<'_, f64>, n: usize) -> PyResult<Param<'a>> {
    let s = a
        .as_slice()
        .map_err(|_| SynthmarketError::new_err(format!("`{name}` must be contiguous")))?;
    match s.len() {
        1 => Ok(Param::Scalar(s[0])),
        len if len == n => Ok(Param::Each(s)),
        len => Err(SynthmarketError::new_err(format!(
            "invalid parameter `{name}`: {len} values where the others broadcast to {n}"
        ))),
    }
}

/// The options of a vectorised pricing call: spot, strike, maturity, rate
/// and dividend (each a scalar or one per element) and the call flags.
struct Contracts<'a> {
    args: [Param<'a>; 5],
    call: Calls<'a>,
}

impl<'a> Contracts<'a> {
    /// Borrows the arrays of an `n`-element call.
    fn new(
        n: usize,
        [spot, strike, maturity, rate, dividend]: [&'a PyReadonlyArray1<'_, f64>; 5],
        call: &'a PyReadonlyArray1<'_, bool>,
    ) -> PyResult<Self> {
        let flags = call
            .as_slice()
            .map_err(|_| SynthmarketError::new_err("`call` must be contiguous"))?;
        Ok(Contracts {
            args: [
                arg("spot", spot, n)?,
                arg("strike", strike, n)?,
                arg("maturity", maturity, n)?,
                arg("rate", rate, n)?,
                arg("dividend", dividend, n)?,
            ],
            call: match flags.len() {
                1 => Calls::Scalar(flags[0]),
                len if len == n => Calls::Each(flags),
                len => {
                    return Err(SynthmarketError::new_err(format!(
                        "invalid parameter `call`: {len} values where the others broadcast to {n}"
                    )))
                }
            },
        })
    }

    /// The Black–Scholes–Merton batch of these options at volatility `vol`.
    fn batch(&self, vol: Param<'a>) -> BsBatch<'a> {
        let [spot, strike, maturity, rate, dividend] = self.args;
        BsBatch {
            spot,
            strike,
            maturity,
            vol,
            rate,
            dividend,
            call: self.call,
        }
    }

    /// The option and market of element `i`, or the library's error naming
    /// the bad field.
    #[inline(always)]
    fn at(&self, i: usize) -> synthmarket::Result<(OptionSpec, MarketState)> {
        let (spec, state, _) = self.batch(Param::Scalar(0.0)).at(i)?;
        Ok((spec, state))
    }
}

/// Elements per parallel task: large enough that scheduling costs nothing.
const TASK: usize = 16_384;

/// The element error as the Python exception of its kind, its message
/// prefixed with `element i:`.
fn element_error(i: usize, e: synthmarket::Error) -> PyErr {
    exception(&e, format!("element {i}: {}", e.report()))
}

/// Fills `out` (one slot per element) with `f(i)` on the current pool, in
/// tasks of [`TASK`] elements. The first error (lowest element) wins and
/// becomes the Python exception of its kind, its message prefixed with
/// `element i:`.
fn fill<T: Send>(
    out: &mut [T],
    f: impl Fn(usize) -> synthmarket::Result<T> + Sync,
) -> PyResult<()> {
    let first = out
        .par_chunks_mut(TASK)
        .enumerate()
        .filter_map(|(c, chunk)| {
            for (j, slot) in chunk.iter_mut().enumerate() {
                let i = c * TASK + j;
                match f(i) {
                    Ok(v) => *slot = v,
                    Err(e) => return Some((i, e)),
                }
            }
            None
        })
        .min_by_key(|(i, _)| *i);
    match first {
        Some((i, e)) => Err(element_error(i, e)),
        None => Ok(()),
    }
}

/// The lowest-element error of parallel tasks (each stopping at its first
/// invalid element) as the Python exception.
fn first_error(
    errors: impl ParallelIterator<Item = Result<(), (usize, synthmarket::Error)>>,
) -> PyResult<()> {
    match errors.filter_map(|r| r.err()).min_by_key(|(i, _)| *i) {
        Some((i, e)) => Err(element_error(i, e)),
        None => Ok(()),
    }
}

/// Black–Scholes–Merton prices of `n` options (arguments of length 1 or n).
#[pyfunction]
#[pyo3(signature = (n, spot, strike, maturity, vol, rate, dividend, call, threads=None))]
#[allow(clippy::too_many_arguments)]
fn bs_price<'py>(
    py: Python<'py>,
    n: usize,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    maturity: PyReadonlyArray1<'py, f64>,
    vol: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend: PyReadonlyArray1<'py, f64>,
    call: PyReadonlyArray1<'py, bool>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let contracts = Contracts::new(n, [&spot, &strike, &maturity, &rate, &dividend], &call)?;
    let batch = contracts.batch(arg("vol", &vol, n)?);
    let mut out = vec![0.0; n];
    py.detach(|| {
        on_threads(threads, || {
            first_error(
                out.par_chunks_mut(TASK)
                    .enumerate()
                    .map(|(c, chunk)| batch.price_into(c * TASK, chunk)),
            )
        })
    })??;
    Ok(out.into_pyarray(py))
}

/// Price and greeks of `n` options: a tuple of seven arrays (price, delta,
/// gamma, vega, theta, rho, dividend_rho), each filled in place by the
/// workers.
#[pyfunction]
#[pyo3(signature = (n, spot, strike, maturity, vol, rate, dividend, call, threads=None))]
#[allow(clippy::too_many_arguments)]
fn bs_greeks<'py>(
    py: Python<'py>,
    n: usize,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    maturity: PyReadonlyArray1<'py, f64>,
    vol: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend: PyReadonlyArray1<'py, f64>,
    call: PyReadonlyArray1<'py, bool>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyTuple>> {
    let contracts = Contracts::new(n, [&spot, &strike, &maturity, &rate, &dividend], &call)?;
    let batch = contracts.batch(arg("vol", &vol, n)?);
    let mut outs: [Vec<f64>; 7] = std::array::from_fn(|_| vec![0.0; n]);
    py.detach(|| {
        on_threads(threads, || {
            // Task c's chunk of each of the seven outputs.
            let mut chunks = outs.each_mut().map(|v| v.chunks_mut(TASK));
            let mut tasks: Vec<GreeksOut> = Vec::with_capacity(n.div_ceil(TASK));
            while let [Some(a), Some(b), Some(c), Some(d), Some(e), Some(f), Some(g)] =
                chunks.each_mut().map(|c| c.next())
            {
                tasks.push([a, b, c, d, e, f, g].into());
            }
            first_error(
                tasks
                    .into_par_iter()
                    .enumerate()
                    .map(|(c, out)| batch.greeks_into(c * TASK, out)),
            )
        })
    })??;
    PyTuple::new(py, outs.map(|v| v.into_pyarray(py)))
}

/// Implied Black–Scholes–Merton volatilities of `n` prices. Prices outside
/// the no-arbitrage bounds give NaN, or raise when `strict`.
#[pyfunction]
#[pyo3(signature = (n, price, spot, strike, maturity, rate, dividend, call, strict, threads=None))]
#[allow(clippy::too_many_arguments)]
fn implied_vol<'py>(
    py: Python<'py>,
    n: usize,
    price: PyReadonlyArray1<'py, f64>,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    maturity: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend: PyReadonlyArray1<'py, f64>,
    call: PyReadonlyArray1<'py, bool>,
    strict: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let contracts = Contracts::new(n, [&spot, &strike, &maturity, &rate, &dividend], &call)?;
    let batch = IvBatch {
        price: arg("price", &price, n)?,
        options: contracts.batch(Param::Scalar(0.0)),
    };
    let mut out = vec![0.0; n];
    let on_error = |_: usize, price: f64, e: IvError| {
        if strict {
            Err(synthmarket::Error::parameter("price", price, e.to_string()))
        } else {
            Ok(f64::NAN)
        }
    };
    py.detach(|| {
        on_threads(threads, || {
            first_error(
                out.par_chunks_mut(TASK)
                    .enumerate()
                    .map(|(c, chunk)| batch.implied_vols_into(c * TASK, chunk, on_error)),
            )
        })
    })??;
    Ok(out.into_pyarray(py))
}

/// Heston prices (COS) of `n` options sharing one model.
#[pyfunction]
#[pyo3(signature = (n, spot, strike, maturity, rate, dividend, call, v0, kappa, theta, xi, rho))]
#[allow(clippy::too_many_arguments)]
fn heston_price<'py>(
    py: Python<'py>,
    n: usize,
    spot: PyReadonlyArray1<'py, f64>,
    strike: PyReadonlyArray1<'py, f64>,
    maturity: PyReadonlyArray1<'py, f64>,
    rate: PyReadonlyArray1<'py, f64>,
    dividend: PyReadonlyArray1<'py, f64>,
    call: PyReadonlyArray1<'py, bool>,
    v0: f64,
    kappa: f64,
    theta: f64,
    xi: f64,
    rho: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let contracts = Contracts::new(n, [&spot, &strike, &maturity, &rate, &dividend], &call)?;
    let model = HestonPricer::new(kappa, theta, xi, rho).map_err(to_py)?;
    let mut out = vec![0.0; n];
    py.detach(|| {
        fill(&mut out, |i| {
            let (spec, state) = contracts.at(i)?;
            let (c, p) = model
                .slice(v0, spec.maturity())
                .calls_and_puts(&[spec.strike()], &state)?[0];
            Ok(match spec.option_type() {
                OptionType::Call => c,
                OptionType::Put => p,
            })
        })
    })?;
    Ok(out.into_pyarray(py))
}

/// A table as a list of (name, kind, values, categories) for the Python
/// side to wrap in a DataFrame without copying: kind is "int", "float",
/// "date" (int64 nanoseconds) or "category" (uint32 codes into categories).
fn table_to_py<'py>(py: Python<'py>, table: Table) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (name, column) in table.columns {
        let item: Bound<'py, PyTuple> = match column {
            Column::Int(v) => (name, "int", v.into_pyarray(py), py.None()).into_pyobject(py)?,
            Column::Float(v) => (name, "float", v.into_pyarray(py), py.None()).into_pyobject(py)?,
            Column::Date(v) => (name, "date", v.into_pyarray(py), py.None()).into_pyobject(py)?,
            Column::Category { codes, names } => (
                name,
                "category",
                codes.into_pyarray(py),
                PyList::new(py, names)?,
            )
                .into_pyobject(py)?,
        };
        list.append(item)?;
    }
    Ok(list)
}

/// The job described by `params` (a JSON object whose keys are the
/// `simulate` flags / TOML keys).
fn job(params: &str) -> PyResult<synthmarket::run::SimulationJob> {
    let params: synthmarket::run::SimulateParams = serde_json::from_str(params)
        .map_err(|e| SynthmarketError::new_err(format!("invalid parameters: {e}")))?;
    params.resolve().map_err(to_py)
}

/// Simulates in memory: (spot columns, option columns or None, run.json
/// text).
#[pyfunction]
#[pyo3(signature = (params, threads=None))]
fn simulate<'py>(
    py: Python<'py>,
    params: &str,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyTuple>> {
    let job = job(params)?;
    let tables = py
        .detach(|| on_threads(threads, || job.collect(&|_| {})))?
        .map_err(to_py)?;
    let manifest = serde_json::to_string(&tables.manifest)
        .map_err(|e| SynthmarketIOError::new_err(format!("serialising run.json: {e}")))?;
    let spot = table_to_py(py, tables.spot)?;
    let options = match tables.options {
        Some(t) => table_to_py(py, t)?.into_any(),
        None => py.None().into_bound(py),
    };
    (spot, options, manifest).into_pyobject(py)
}

/// Simulates into a directory, exactly as `synthmarket simulate --out DIR`;
/// returns the run.json text.
#[pyfunction]
#[pyo3(signature = (params, out, threads=None))]
fn simulate_to_dir(
    py: Python<'_>,
    params: &str,
    out: PathBuf,
    threads: Option<usize>,
) -> PyResult<String> {
    let job = job(params)?;
    let output = py
        .detach(|| on_threads(threads, || job.write_to_dir(&out, &|_| {})))?
        .map_err(to_py)?;
    serde_json::to_string(&output.manifest)
        .map_err(|e| SynthmarketIOError::new_err(format!("serialising run.json: {e}")))
}

/// The scorecard of a synthetic market against a real history, written to
/// `report` as `synthmarket validate` does; returns (scorecard.json text,
/// description of the real data).
#[pyfunction]
#[pyo3(signature = (real, synthetic, report, column=None, vix=None))]
fn validate(
    py: Python<'_>,
    real: PathBuf,
    synthetic: PathBuf,
    report: PathBuf,
    column: Option<String>,
    vix: Option<PathBuf>,
) -> PyResult<(String, String)> {
    let mut opts = synthmarket::run::ValidateOptions::new(real, synthetic, report);
    opts.column = column;
    opts.vix = vix;
    let out = py
        .detach(|| synthmarket::run::write_report(&opts))
        .map_err(to_py)?;
    let card = serde_json::to_string(&out.scorecard)
        .map_err(|e| SynthmarketIOError::new_err(format!("serialising the scorecard: {e}")))?;
    Ok((card, out.real_description))
}

/// Maximum-likelihood GBM fit of a price history: a dict of estimates.
#[pyfunction]
#[pyo3(signature = (data, column=None, periods_per_year=252.0))]
fn calibrate_gbm<'py>(
    py: Python<'py>,
    data: PathBuf,
    column: Option<String>,
    periods_per_year: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let history =
        synthmarket::market::SpotHistory::from_csv(&data, column.as_deref()).map_err(to_py)?;
    let fit = py
        .detach(|| synthmarket::sim::GbmEstimate::fit(&history, periods_per_year))
        .map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("s0", fit.last_price)?;
    d.set_item("mu", fit.mu)?;
    d.set_item("sigma", fit.sigma)?;
    d.set_item("mu_se", fit.mu_se)?;
    d.set_item("sigma_se", fit.sigma_se)?;
    d.set_item("returns", fit.returns)?;
    d.set_item("dt", 1.0 / periods_per_year)?;
    Ok(d)
}

/// Maximum-likelihood GJR-GARCH(1,1)-t fit of a daily price history: a
/// dict of estimates in `simulate`'s units (daily; v0 annualised).
#[pyfunction]
#[pyo3(signature = (data, column=None))]
fn calibrate_garch<'py>(
    py: Python<'py>,
    data: PathBuf,
    column: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let history =
        synthmarket::market::SpotHistory::from_csv(&data, column.as_deref()).map_err(to_py)?;
    let fit = py
        .detach(|| synthmarket::sim::GarchEstimate::fit(&history))
        .map_err(to_py)?;
    let p = fit.params;
    let d = PyDict::new(py);
    d.set_item("s0", fit.last_price)?;
    d.set_item(
        "v0",
        synthmarket::market::TRADING_DAYS_PER_YEAR * fit.last_variance,
    )?;
    for (name, value) in [
        ("mean", p.mu),
        ("omega", p.omega),
        ("alpha", p.alpha),
        ("gamma", p.gamma),
        ("beta", p.beta),
        ("nu", p.nu),
    ] {
        d.set_item(name, value)?;
    }
    let se = PyDict::new(py);
    for (i, name) in ["mean", "omega", "alpha", "gamma", "beta", "nu"]
        .into_iter()
        .enumerate()
    {
        se.set_item(name, fit.se[i])?;
    }
    d.set_item("se", se)?;
    d.set_item("log_likelihood", fit.log_likelihood)?;
    d.set_item("returns", fit.returns)?;
    Ok(d)
}

/// Sells an option from a market directory's chain and delta-hedges it on
/// every path, as `synthmarket hedge` does (writing pnl.csv, summary.json,
/// report.md and pnl.svg to `out`, default MARKET/hedge); returns
/// (per-path outcomes as columns, the expiry); the summary is the
/// summary.json written there.
#[pyfunction]
#[pyo3(signature = (market, option="call", strike=None, moneyness=1.0, expiry="2", rebalance="daily", cost_bps=0.0, out=None, asset=None))]
#[allow(clippy::too_many_arguments)]
fn hedge<'py>(
    py: Python<'py>,
    market: PathBuf,
    option: &str,
    strike: Option<f64>,
    moneyness: f64,
    expiry: &str,
    rebalance: &str,
    cost_bps: f64,
    out: Option<PathBuf>,
    asset: Option<String>,
) -> PyResult<Bound<'py, PyTuple>> {
    let option = match option {
        "call" => OptionType::Call,
        "put" => OptionType::Put,
        other => {
            return Err(SynthmarketError::new_err(format!(
                "invalid parameter `option` = {other}: call or put"
            )))
        }
    };
    let mut opts = synthmarket::run::HedgeOptions::new(market);
    opts.option = option;
    opts.strike = strike;
    opts.moneyness = moneyness;
    opts.expiry = expiry.to_string();
    opts.rebalance = rebalance.to_string();
    opts.cost_bps = cost_bps;
    opts.out = out;
    opts.asset = asset;
    let report = py
        .detach(|| synthmarket::run::hedge(&opts, &|_, _| {}))
        .map_err(to_py)?;
    let o = &report.outcomes;
    let col =
        |f: fn(&synthmarket::hedge::HedgeOutcome) -> f64| Column::Float(o.iter().map(f).collect());
    let table = Table {
        columns: vec![
            ("path".into(), Column::Int((0..o.len() as i64).collect())),
            ("pnl".into(), col(|x| x.pnl)),
            ("premium".into(), col(|x| x.premium)),
            ("implied_vol".into(), col(|x| x.implied_vol)),
            ("realised_vol".into(), col(|x| x.realised_vol)),
            (
                "trades".into(),
                Column::Int(o.iter().map(|x| x.trades as i64).collect()),
            ),
            ("costs".into(), col(|x| x.costs)),
        ],
    };
    (table_to_py(py, table)?, report.expiry).into_pyobject(py)
}

/// Heston fitted to an implied-vol (or price) surface file, as
/// `synthmarket calibrate heston`: a dict of the parameters, the first
/// quote's spot, rate and dividend, and the fit's errors in vol points.
#[pyfunction]
fn calibrate_heston<'py>(py: Python<'py>, input: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let out = py
        .detach(|| synthmarket::run::calibrate_heston_file(&input))
        .map_err(to_py)?;
    let [v0, kappa, theta, xi, rho] = out.fit.params;
    let d = PyDict::new(py);
    d.set_item("s0", out.first_quote.spot())?;
    d.set_item("rate", out.first_quote.rate())?;
    d.set_item("dividend", out.first_quote.dividend())?;
    for (name, value) in [
        ("v0", v0),
        ("kappa", kappa),
        ("theta", theta),
        ("xi", xi),
        ("rho", rho),
    ] {
        d.set_item(name, value)?;
    }
    d.set_item("rmse_vol_points", out.fit.rmse_vol_points)?;
    d.set_item("max_error_vol_points", out.fit.max_error_vol_points)?;
    d.set_item("quotes", out.fit.quotes)?;
    Ok(d)
}

/// Trains the deep generator on price histories into the model directory
/// `out`, as `synthmarket train`; returns (metrics.json text, the printed
/// summary).
#[pyfunction]
#[pyo3(signature = (data, out, epochs=None, seed=None, hidden=None, eval_paths=None, column=None, init=None, candidates=None, feature_squash=None, variance_core=None))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    data: Vec<PathBuf>,
    out: PathBuf,
    epochs: Option<usize>,
    seed: Option<u64>,
    hidden: Option<Vec<usize>>,
    eval_paths: Option<u64>,
    column: Option<String>,
    init: Option<PathBuf>,
    candidates: Option<usize>,
    feature_squash: Option<String>,
    variance_core: Option<bool>,
) -> PyResult<(String, String)> {
    let mut opts = synthmarket::run::TrainOptions::new(data, out);
    opts.variance_core = variance_core;
    if let Some(s) = feature_squash {
        // The CLI's parser and its message (`--feature-squash A,B|off`).
        opts.feature_squash = synthmarket::run::TrainOptions::parse_feature_squash(&s)
            .map_err(|e| PyValueError::new_err(format!("feature_squash {s:?}: {e}")))?;
    }
    if let Some(c) = candidates {
        opts.candidates = c;
    }
    opts.column = column;
    opts.init = init;
    if let Some(e) = epochs {
        opts.epochs = e;
    }
    if let Some(s) = seed {
        opts.seed = s;
    }
    if let Some(h) = hidden {
        opts.hidden = h;
    }
    if let Some(p) = eval_paths {
        opts.eval_paths = p;
    }
    let output = py
        .detach(|| synthmarket::run::train(&opts, |_| {}))
        .map_err(to_py)?;
    let metrics = serde_json::to_string(&output.metrics)
        .map_err(|e| SynthmarketIOError::new_err(format!("serialising metrics: {e}")))?;
    Ok((metrics, output.summary))
}

/// Backtests models as forecasters, as `synthmarket backtest`: writes the
/// report directory and returns backtest.json's text.
#[pyfunction]
#[pyo3(signature = (data, train_to, report, models, column=None, every=None, horizons=None, draws=None, seed=None, model_path=None))]
#[allow(clippy::too_many_arguments)]
fn backtest(
    py: Python<'_>,
    data: PathBuf,
    train_to: String,
    report: PathBuf,
    models: Vec<String>,
    column: Option<String>,
    every: Option<usize>,
    horizons: Option<Vec<usize>>,
    draws: Option<u64>,
    seed: Option<u64>,
    model_path: Option<PathBuf>,
) -> PyResult<String> {
    use synthmarket::run::backtest::BacktestOptions;
    use synthmarket::run::ModelKind;
    let date = synthmarket::market::parse_iso_date(&train_to)
        .map_err(|m| to_py(synthmarket::Error::parameter("train_to", &train_to, m)))?;
    let mut opts = BacktestOptions::new(data, date, report);
    opts.models = Vec::new();
    for m in &models {
        let add: &[ModelKind] = match m.as_str() {
            "gbm" => &[ModelKind::Gbm],
            "heston" => &[ModelKind::Heston],
            "garch" => &[ModelKind::Garch],
            "deep" => &[ModelKind::Deep],
            "all" => &[
                ModelKind::Gbm,
                ModelKind::Heston,
                ModelKind::Garch,
                ModelKind::Deep,
            ],
            other => {
                return Err(to_py(synthmarket::Error::parameter(
                    "models",
                    other,
                    "each model is one of gbm, heston, garch, deep, all",
                )))
            }
        };
        for k in add {
            if !opts.models.contains(k) {
                opts.models.push(*k);
            }
        }
    }
    opts.column = column;
    opts.model_path = model_path;
    if let Some(e) = every {
        opts.every = e;
    }
    if let Some(h) = horizons {
        opts.horizons = h;
    }
    if let Some(d) = draws {
        opts.draws = d;
    }
    if let Some(s) = seed {
        opts.seed = s;
    }
    let out = py
        .detach(|| synthmarket::run::backtest::backtest(&opts, |_| {}))
        .map_err(to_py)?;
    serde_json::to_string(&out)
        .map_err(|e| SynthmarketIOError::new_err(format!("serialising the backtest: {e}")))
}

/// The compiled module.
#[pymodule]
fn _synthmarket(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", synthmarket::VERSION)?;
    m.add("SynthmarketError", m.py().get_type::<SynthmarketError>())?;
    m.add(
        "SynthmarketIOError",
        m.py().get_type::<SynthmarketIOError>(),
    )?;
    m.add_function(wrap_pyfunction!(bs_price, m)?)?;
    m.add_function(wrap_pyfunction!(bs_greeks, m)?)?;
    m.add_function(wrap_pyfunction!(implied_vol, m)?)?;
    m.add_function(wrap_pyfunction!(heston_price, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_to_dir, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(hedge, m)?)?;
    m.add_function(wrap_pyfunction!(calibrate_gbm, m)?)?;
    m.add_function(wrap_pyfunction!(calibrate_garch, m)?)?;
    m.add_function(wrap_pyfunction!(calibrate_heston, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    Ok(())
}
