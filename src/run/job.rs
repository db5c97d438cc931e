//! Runs a resolved [`SimulationJob`] into a directory: `spot.csv` and
//! `run.json`.

use super::chains::ChainModel;
use super::models::ModelSpec;
use super::params::{DateArg, ModelKind, OutputFormat, Shard, SimulateParams};
use crate::deep::pricing::term_table::FitProgress;
use crate::error::{Error, Result};
use crate::io::chain_csv::{self, Layout};
use crate::io::columns::{date_ns, ChainColumns, SpotColumns};
use crate::io::parquet::ParquetFile;
use crate::io::spot_csv::SpotCsvFormat;
use crate::io::{write_atomic, AtomicFile};
use crate::market::PathChunk;
use crate::market::{parse_iso_date, TRADING_DAYS_PER_YEAR};
use crate::market::{BusinessCalendar, TimeGrid};
use crate::pricing::{ChainSpec, PricedChain};
use crate::run::manifest::{FileEntry, OptionsEntry, RunManifest, ShardEntry};
use crate::sim::{CorrelatedGbm, Drift, Driver, Garch, Gbm, Heston, HestonScheme, PathGenerator};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// Everything needed to run a simulation, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationJob {
    /// The model and its parameters.
    pub model: ModelSpec,
    /// Time grid.
    pub grid: TimeGrid,
    /// Number of paths of the whole run.
    pub paths: u64,
    /// The part of the run this job writes (all of it when `None`).
    pub shard: Option<Shard>,
    /// Format of the files written by [`Self::write_to_dir`].
    pub format: OutputFormat,
    /// Whether [`Self::write_to_dir`] may replace a different run's files.
    pub overwrite: bool,
    /// Whether [`Self::write_to_dir`] may write more than
    /// [`crate::run::CONFIRM_BYTES`] (the `--yes` flag).
    pub yes: bool,
    /// Seed.
    pub seed: u64,
    /// Calendar for the `date` column.
    pub calendar: BusinessCalendar,
    /// Option chains to write beside the paths, and how to price them.
    pub options: Option<(ChainSpec, ChainModel)>,
    /// The real history and date the run starts from, when it does.
    pub history_start: Option<super::start::HistoryStart>,
}

impl SimulateParams {
    /// Applies defaults and validates everything, producing a runnable job.
    pub fn resolve(&self) -> Result<SimulationJob> {
        self.resolve_with(&|_| {})
    }

    /// [`Self::resolve`], reporting to `fit_progress` the progress of a deep
    /// pricing table fitted on the way (when the model has none for the λ
    /// asked for: about an hour on 2 cores).
    pub fn resolve_with(
        &self,
        fit_progress: &(dyn Fn(FitProgress) + Sync),
    ) -> Result<SimulationJob> {
        let model = self.model.unwrap_or(ModelKind::Heston);
        let paths = self.paths.unwrap_or(1000);
        if paths == 0 {
            return Err(Error::parameter("paths", 0, "must be at least 1"));
        }
        let grid = TimeGrid::new(
            self.steps.unwrap_or(252),
            self.dt.unwrap_or(1.0 / TRADING_DAYS_PER_YEAR),
        )?;
        let from = match &self.from {
            Some(DateArg(s)) => {
                Some(parse_iso_date(s).map_err(|m| Error::parameter("from", s, m))?)
            }
            None => None,
        };
        let start = match (&self.start, from) {
            (Some(_), Some(_)) => {
                return Err(Error::parameter(
                    "start",
                    "given",
                    "--from sets the date of step 0: drop --start",
                ))
            }
            (Some(DateArg(s)), None) => {
                parse_iso_date(s).map_err(|m| Error::parameter("start", s, m))?
            }
            (None, Some(d)) => d,
            (None, None) => NaiveDate::from_ymd_opt(2025, 1, 2).expect("valid constant date"),
        };
        let spec = match model {
            ModelKind::Gbm => self.resolve_gbm()?,
            ModelKind::Heston => self.resolve_heston()?,
            ModelKind::Garch => self.resolve_garch()?,
            ModelKind::Deep => self.resolve_deep()?,
        };
        let (spec, history_start) = match (&self.history, from) {
            (Some(history), Some(from)) => {
                let (spec, h) = super::start::condition(
                    spec,
                    super::start::StartRequest {
                        history,
                        column: self.column.as_deref(),
                        from,
                        vix: self.vix.as_deref(),
                        index: self.history_index.as_deref(),
                        s0_given: self.s0.is_some(),
                        sigma_given: self.sigma.is_some(),
                        v0_given: self.v0.is_some(),
                    },
                )?;
                (spec, Some(h))
            }
            (None, None) => {
                if self.column.is_some() || self.vix.is_some() || self.history_index.is_some() {
                    return Err(Error::parameter(
                        if self.column.is_some() {
                            "column"
                        } else if self.vix.is_some() {
                            "vix"
                        } else {
                            "history-index"
                        },
                        "given",
                        "needs --history FILE and --from DATE (a run that starts from a real date)",
                    ));
                }
                (spec, None)
            }
            (Some(_), None) => {
                return Err(Error::parameter(
                    "from",
                    "(missing)",
                    "--history needs --from DATE: the date whose close is step 0",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::parameter(
                    "history",
                    "(missing)",
                    "--from needs --history FILE: the price history the run starts from",
                ))
            }
        };
        // After the history's checks, so a --from that is not a trading day
        // is named as such.
        let calendar = BusinessCalendar::new(start)?;
        // The daily models are checked here, before any output is written
        // (their generators are built only when the run streams).
        match &spec {
            ModelSpec::Garch { s0, .. } => {
                crate::sim::check_spot("s0", *s0)?;
                crate::sim::require_daily(crate::sim::GARCH_NAME, grid.dt())?;
            }
            ModelSpec::Deep { .. } | ModelSpec::Panel { .. } => {
                crate::sim::require_daily(crate::deep::DEEP_NAME, grid.dt())?;
            }
            ModelSpec::Gbm { .. } | ModelSpec::Heston { .. } => {}
        }
        if let Some(shard) = self.shard {
            if shard.paths(paths).1 == 0 {
                return Err(Error::parameter(
                    "shard",
                    shard,
                    format!("holds no path of a {paths}-path run: use at most {paths} shards"),
                ));
            }
        }
        let options = self.resolve_options(&spec, fit_progress)?;
        Ok(SimulationJob {
            model: spec,
            grid,
            paths,
            shard: self.shard,
            format: self.format.unwrap_or_default(),
            overwrite: self.overwrite,
            yes: self.yes,
            seed: self.seed.unwrap_or(42),
            calendar,
            options,
            history_start,
        })
    }
}

/// What a finished run wrote.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Path of `spot.csv` or `spot.parquet`.
    pub spot_file: PathBuf,
    /// Path of `run.json`.
    pub run_json: PathBuf,
    /// The manifest written.
    pub manifest: RunManifest,
}

impl SimulationJob {
    /// The paths this job simulates, as (first, number): all of them, or
    /// its shard's.
    pub fn path_range(&self) -> (u64, u64) {
        match self.shard {
            Some(shard) => shard.paths(self.paths),
            None => (0, self.paths),
        }
    }

    /// The date of every step, as nanoseconds since 1970-01-01 (the typed
    /// columns' dates).
    pub(super) fn dates_ns(&self) -> Vec<i64> {
        (0..=self.grid.steps())
            .map(|k| date_ns(self.calendar.date_at(self.grid.time(k))))
            .collect()
    }

    /// Simulates the job into `out_dir` (created if needed). `progress` is
    /// called with the number of paths completed so far, in order.
    ///
    /// `run.json` is removed first and written last, so its presence marks a
    /// complete run; `spot.csv` is written under a temporary name and renamed
    /// when complete.
    pub fn write_to_dir(
        &self,
        out_dir: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<RunOutput> {
        self.check_out_dir(out_dir)?;
        self.check_size(out_dir)?;
        // A directory this run creates is removed if the run is stopped
        // before it writes anything that stays (see io::cleanup).
        let created = !out_dir.exists();
        std::fs::create_dir_all(out_dir).map_err(|source| Error::Write {
            path: out_dir.to_path_buf(),
            source,
        })?;
        let _created = crate::io::cleanup::DirGuard::new(out_dir, created);
        // One run per directory: a second run into it is refused while
        // this one holds the lock (released on return, or by the system
        // if the process dies).
        let _lock = crate::io::lock::DirLock::acquire(out_dir)?;
        let run_json = out_dir.join("run.json");
        // run.json marks a complete run: remove it first. Files of the
        // other format, or chains this run does not write, would not belong
        // to this run's paths: remove them too.
        let mut stale = vec![run_json.clone()];
        for format in [OutputFormat::Csv, OutputFormat::Parquet] {
            let ext = format.extension();
            if format != self.format {
                stale.push(out_dir.join(format!("spot.{ext}")));
            }
            if format != self.format || self.options.is_none() {
                stale.push(out_dir.join(format!("options.{ext}")));
            }
        }
        for path in stale {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Write { path, source }),
            }
        }
        let spot_file = out_dir.join(format!("spot.{}", self.format.extension()));
        let (rows, option_rows) = match self.format {
            OutputFormat::Csv => self.dispatch(CsvFiles {
                job: self,
                target: &spot_file,
                progress,
            })?,
            OutputFormat::Parquet => self.dispatch(ParquetFiles {
                job: self,
                target: &spot_file,
                progress,
            })?,
        };
        let manifest = self.manifest(rows, option_rows);
        let mut json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Internal(format!("serialising run.json: {e}")))?;
        json.push(b'\n');
        write_atomic(&run_json, &json)?;
        Ok(RunOutput {
            spot_file,
            run_json,
            manifest,
        })
    }

    /// The manifest of this job's output: `rows` spot rows and
    /// `option_rows` option rows.
    pub fn manifest(&self, rows: u64, option_rows: u64) -> RunManifest {
        let multi = matches!(&self.model, ModelSpec::Gbm { assets, .. } if assets.len() > 1)
            || matches!(&self.model, ModelSpec::Panel { .. });
        let columns: &[&str] = if multi {
            &["path", "step", "date", "asset", "spot", "variance"]
        } else {
            &["path", "step", "date", "spot", "variance"]
        };
        RunManifest {
            synthmarket_version: env!("CARGO_PKG_VERSION"),
            seed: self.seed,
            rng: RunManifest::rng_name(),
            paths: self.paths,
            shard: self.shard.map(|shard| {
                let (first_path, paths) = shard.paths(self.paths);
                ShardEntry {
                    index: shard.index,
                    count: shard.count,
                    first_path,
                    paths,
                }
            }),
            format: self.format,
            grid: self.grid,
            start: self.calendar.start().to_string(),
            calendar: RunManifest::CALENDAR,
            model: self.model.clone(),
            files: std::iter::once(FileEntry {
                name: format!("spot.{}", self.format.extension()),
                rows,
                columns: columns.iter().map(|c| c.to_string()).collect(),
            })
            .chain(self.options.as_ref().map(|(spec, model)| {
                FileEntry {
                    name: format!("options.{}", self.format.extension()),
                    rows: option_rows,
                    columns: spec
                        .layout()
                        .header(self.chain_assets(model) > 1)
                        .iter()
                        .map(|c| c.to_string())
                        .collect(),
                }
            }))
            .collect(),
            options: self.options.as_ref().map(|(spec, model)| OptionsEntry {
                chains: spec.clone(),
                model: model.clone(),
            }),
            command: self.command_line(),
            history_start: self.history_start.clone(),
        }
    }

    /// Builds the job's generator and hands it to `visitor` with the asset
    /// names of a multi-asset run.
    pub(super) fn dispatch<V: GeneratorVisitor>(&self, visitor: V) -> Result<V::Output> {
        match &self.model {
            ModelSpec::Gbm {
                assets,
                correlation,
            } => match correlation {
                None => visitor.visit(&Gbm::new(assets[0].params, &self.grid), None),
                Some(c) => {
                    let params: Vec<_> = assets.iter().map(|a| a.params).collect();
                    let gen = CorrelatedGbm::new(&params, c.clone(), &self.grid)?;
                    let names = assets.iter().map(|a| a.name.clone()).collect();
                    visitor.visit(&gen, Some(names))
                }
            },
            ModelSpec::Garch { params, s0, v0 } => {
                visitor.visit(&Garch::new(*params, *s0, *v0, &self.grid)?, None)
            }
            ModelSpec::Heston { params, scheme } => {
                visitor.visit(&Heston::new(*params, *scheme, &self.grid), None)
            }
            ModelSpec::Deep { net, s0, .. } => visitor.visit(
                &crate::deep::DeepGenerator::new((**net).clone(), Some(*s0), &self.grid)?,
                None,
            ),
            ModelSpec::Panel { model, .. } => visitor.visit(
                &crate::deep::panel::PanelGenerator::new((**model).clone(), &self.grid)?,
                Some(model.assets().to_vec()),
            ),
        }
    }

    /// Paths per chunk of the driver: with chains, as many as keep a chunk
    /// near `OPTIONS_PER_CHUNK` options (one path at least); without, the
    /// driver's default.
    pub(super) fn chunk_paths(&self) -> usize {
        const OPTIONS_PER_CHUNK: usize = 50_000;
        let n = match &self.options {
            // Nested chains cost about a second each: one path per chunk,
            // so the progress bar moves path by path (the nested sample of
            // each chain runs on all threads).
            Some((_, ChainModel::Nested { .. })) => 1,
            Some((spec, model)) => {
                let chains = (self.grid.steps() / spec.every() + 1) * self.chain_assets(model);
                OPTIONS_PER_CHUNK / (chains * spec.options_per_chain()).max(1)
            }
            None => Driver::DEFAULT_CHUNK_PATHS,
        };
        n.clamp(1, Driver::DEFAULT_CHUNK_PATHS)
    }

    /// The number of assets whose chains are priced: every asset of a
    /// market, the one asset otherwise.
    fn chain_assets(&self, model: &ChainModel) -> usize {
        match (model, &self.model) {
            (ChainModel::Market { .. }, ModelSpec::Panel { model, .. }) => model.assets().len(),
            _ => 1,
        }
    }

    /// Runs `generator` through the driver with this job's seed and paths,
    /// pricing each path's chains on the worker threads: `format` turns a
    /// chunk and its chains into a `T` on the workers,
    /// `consume` takes the `T`s in path order. Memory stays flat: a chunk
    /// holds [`Self::chunk_paths`] paths. Output does not depend on the
    /// chunk size.
    pub(super) fn drive<G: PathGenerator, T: Send>(
        &self,
        generator: &G,
        format: impl Fn(&PathChunk, &[PricedChain]) -> T + Sync,
        mut consume: impl FnMut(T) -> Result<()> + Send,
    ) -> Result<()> {
        let dates: Vec<NaiveDate> = (0..=self.grid.steps())
            .map(|k| self.calendar.date_at(self.grid.time(k)))
            .collect();
        // Each asset's chain specification (a market's listed strikes step
        // by each asset's own increment).
        let specs: Vec<ChainSpec> = match &self.options {
            Some((spec, model)) => (0..self.chain_assets(model))
                .map(|a| model.asset_spec(spec, a))
                .collect(),
            None => Vec::new(),
        };
        let (first, paths) = self.path_range();
        let driver = Driver::new(self.seed, paths)
            .first_path(first)
            .keep_state(self.options.is_some())
            .chunk_paths(self.chunk_paths());
        driver.run(
            generator,
            self.grid.steps(),
            |chunk| -> Result<T> {
                let mut chains = Vec::new();
                if let Some((spec, model)) = &self.options {
                    for p in 0..chunk.paths() {
                        for k in (0..=chunk.steps()).filter(|&k| spec.at_step(k)) {
                            let path = chunk.first_path() + p as u64;
                            for (asset, spec) in specs.iter().enumerate() {
                                let rows = model.price(
                                    spec,
                                    dates[k],
                                    asset,
                                    chunk.spot(p, k)[asset],
                                    chunk.variance(p, k)[asset],
                                    chunk.state(p, k),
                                    (path, k),
                                )?;
                                chains.push(PricedChain {
                                    path,
                                    step: k,
                                    asset,
                                    rows,
                                });
                            }
                        }
                    }
                }
                Ok(format(chunk, &chains))
            },
            |item| consume(item?),
        )
    }

    /// A `synthmarket simulate` command line that reproduces this job.
    pub fn command_line(&self) -> String {
        let mut c = format!(
            "synthmarket simulate --paths {} --steps {} --dt {} --seed {} --start {}",
            self.paths,
            self.grid.steps(),
            self.grid.dt(),
            self.seed,
            self.calendar.start()
        );
        if self.format != OutputFormat::Csv {
            c.push_str(&format!(" --format {}", self.format.extension()));
        }
        if let Some(shard) = self.shard {
            c.push_str(&format!(" --shard {shard}"));
        }
        let join = |xs: Vec<f64>| {
            xs.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let drift = |d: Drift| match d {
            Drift::RealWorld { mu } => format!(" --mu {mu}"),
            Drift::RiskNeutral { rate, dividend } => {
                format!(" --rate {rate} --dividend {dividend}")
            }
        };
        match &self.model {
            ModelSpec::Gbm {
                assets,
                correlation,
            } => {
                c.push_str(" --model gbm");
                c.push_str(&format!(
                    " --s0 {}",
                    join(assets.iter().map(|a| a.params.s0()).collect())
                ));
                c.push_str(&format!(
                    " --sigma {}",
                    join(assets.iter().map(|a| a.params.sigma()).collect())
                ));
                match assets[0].params.drift() {
                    Drift::RealWorld { .. } => c.push_str(&format!(
                        " --mu {}",
                        join(assets.iter().map(|a| a.params.drift().rate()).collect())
                    )),
                    Drift::RiskNeutral { rate, .. } => c.push_str(&format!(
                        " --rate {rate} --dividend {}",
                        join(
                            assets
                                .iter()
                                .map(|a| match a.params.drift() {
                                    Drift::RiskNeutral { dividend, .. } => dividend,
                                    Drift::RealWorld { .. } => 0.0,
                                })
                                .collect()
                        )
                    )),
                }
                if let Some(m) = correlation {
                    let names: Vec<_> = assets.iter().map(|a| a.name.as_str()).collect();
                    c.push_str(&format!(" --assets {}", names.join(",")));
                    let rows: Vec<_> = m.rows().into_iter().map(join).collect();
                    c.push_str(&format!(" --correlation \"{}\"", rows.join(";")));
                }
            }
            ModelSpec::Garch { params, s0, v0 } => {
                c.push_str(&format!(
                    " --model garch --s0 {s0} --mean {} --omega {} --alpha {} --gamma {} --beta {} --nu {}",
                    params.mu, params.omega, params.alpha, params.gamma, params.beta, params.nu
                ));
                if let Some(v) = v0 {
                    c.push_str(&format!(" --v0 {v}"));
                }
            }
            ModelSpec::Deep { model_path, s0, .. } => {
                c.push_str(&format!(" --model deep --s0 {s0}"));
                if !model_path.starts_with("shipped:") {
                    c.push_str(&format!(" --model-path {model_path}"));
                }
                // The deep state is the history's: name it (the other
                // models' starting state is in their explicit flags).
                if let Some(h) = &self.history_start {
                    c.push_str(&format!(
                        " --history {} --column {} --from {}",
                        h.file.display(),
                        h.column,
                        h.date
                    ));
                }
            }
            ModelSpec::Panel { model_path, .. } => {
                c.push_str(&format!(" --model deep --model-path {model_path}"));
                if let Some(h) = &self.history_start {
                    c.push_str(&format!(" --history {}", h.file.display()));
                    if let Some(index) = &h.index_file {
                        c.push_str(&format!(" --history-index {}", index.display()));
                    }
                    c.push_str(&format!(" --from {}", h.date));
                }
            }
            ModelSpec::Heston { params, scheme } => {
                c.push_str(&format!(
                    " --model heston --s0 {}{} --v0 {} --kappa {} --theta {} --xi {} --rho {} --scheme {}",
                    params.s0(),
                    drift(params.drift()),
                    params.v0(),
                    params.kappa(),
                    params.theta(),
                    params.xi(),
                    params.rho(),
                    match scheme {
                        HestonScheme::Qe => "qe",
                        HestonScheme::Euler => "euler",
                    }
                ));
            }
        }
        if let Some((spec, model)) = &self.options {
            c.push_str(" --options");
            match spec.grid() {
                crate::pricing::ChainGrid::Listed {
                    months,
                    strikes_per_side,
                    strike_step,
                } => {
                    c.push_str(&format!(
                        " --expiries listed --months {months} --strikes {strikes_per_side}"
                    ));
                    if let Some(step) = strike_step {
                        c.push_str(&format!(" --strike-step {step}"));
                    }
                }
                crate::pricing::ChainGrid::Tenors { days, moneyness } => {
                    let d: Vec<String> = days.iter().map(|x| x.to_string()).collect();
                    c.push_str(&format!(
                        " --expiries tenors --tenors {} --moneyness {}",
                        d.join(","),
                        join(moneyness.clone())
                    ));
                }
            }
            c.push_str(&format!(" --chain-every {}", spec.every()));
            if spec.layout() == Layout::Wide {
                c.push_str(" --chain-layout wide");
            }
            if let crate::run::ChainModel::Nested { pricer, .. } = model {
                c.push_str(&format!(
                    " --chain-pricing nested --nested-paths {}",
                    pricer.nested_paths
                ));
            }
            // The daily models' chains: the rate, dividend and λ they were
            // priced with (GBM and Heston lines carry their own drift).
            if let Some(lambda) = model.variance_premium() {
                let (rate, dividend) = model.rate_dividend();
                c.push_str(&format!(
                    " --rate {rate} --dividend {dividend} --variance-premium {lambda}"
                ));
            }
        }
        c
    }
}

impl SimulationJob {
    /// The asset names of the chains' `asset` column: a market's (those of
    /// `spot.csv`); `None` when the chains are one asset's.
    pub(super) fn chain_asset_names(&self, asset_names: Option<&[String]>) -> Option<Vec<String>> {
        match &self.options {
            Some((_, model)) if self.chain_assets(model) > 1 => asset_names.map(<[String]>::to_vec),
            _ => None,
        }
    }
}

/// Something done with a job's generator, whatever its type (the
/// generators are generic types, so a run is written once per use and
/// monomorphised per model).
pub(super) trait GeneratorVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with `generator`; `asset_names` for a multi-asset run.
    fn visit<G: PathGenerator>(
        self,
        generator: &G,
        asset_names: Option<Vec<String>>,
    ) -> Result<Self::Output>;
}

/// Streams `spot.csv` (and `options.csv` when chains are requested) into
/// files written atomically; returns the row counts of both.
struct CsvFiles<'a> {
    job: &'a SimulationJob,
    target: &'a Path,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl GeneratorVisitor for CsvFiles<'_> {
    type Output = (u64, u64);

    fn visit<G: PathGenerator>(
        self,
        generator: &G,
        asset_names: Option<Vec<String>>,
    ) -> Result<(u64, u64)> {
        let job = self.job;
        let format = SpotCsvFormat::new(&job.grid, &job.calendar, asset_names.clone());
        let mut file = AtomicFile::create(self.target)?;
        file.write_all(format.header().as_bytes())?;
        // A market's chains name their asset (spot.csv's names).
        let chain_names = job.chain_asset_names(asset_names.as_deref());
        let mut options_file = match &job.options {
            Some((spec, _)) => {
                let mut f = AtomicFile::create(self.target.with_file_name("options.csv"))?;
                let header = spec.layout().header(chain_names.is_some());
                f.write_all(header.join(",").as_bytes())?;
                f.write_all(b"\n")?;
                Some(f)
            }
            None => None,
        };
        let layout = job.options.as_ref().map(|(spec, _)| spec.layout());
        let (mut done, mut option_rows) = (0u64, 0u64);
        job.drive(
            generator,
            |chunk, chains| {
                let spot = format.format_chunk(chunk);
                let mut opts = Vec::new();
                let mut rows = 0u64;
                if let Some(layout) = layout {
                    for c in chains {
                        rows += chain_csv::write_rows(
                            layout,
                            c.path,
                            c.step,
                            format.date(c.step),
                            chain_names.as_ref().map(|n| n[c.asset].as_str()),
                            &c.rows,
                            &mut opts,
                        ) as u64;
                    }
                }
                (chunk.paths() as u64, spot, opts, rows)
            },
            |(n, bytes, opts, rows)| {
                file.write_all(&bytes)?;
                if let Some(f) = options_file.as_mut() {
                    f.write_all(&opts)?;
                }
                option_rows += rows;
                done += n;
                (self.progress)(done);
                Ok(())
            },
        )?;
        file.commit()?;
        if let Some(f) = options_file {
            f.commit()?;
        }
        Ok((
            job.path_range().1 * (job.grid.steps() as u64 + 1) * generator.assets() as u64,
            option_rows,
        ))
    }
}

/// Streams `spot.parquet` (and `options.parquet` with chains): the chunks'
/// rows become typed columns on the worker threads and row groups on the
/// consumer; returns the row counts of both.
struct ParquetFiles<'a> {
    job: &'a SimulationJob,
    target: &'a Path,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl GeneratorVisitor for ParquetFiles<'_> {
    type Output = (u64, u64);

    fn visit<G: PathGenerator>(
        self,
        generator: &G,
        asset_names: Option<Vec<String>>,
    ) -> Result<(u64, u64)> {
        let job = self.job;
        let dates = job.dates_ns();
        let schema =
            SpotColumns::new(0, job.grid.steps(), generator.assets(), asset_names.clone())?;
        let mut file = ParquetFile::create(self.target, &schema.into_table()?)?;
        let layout = job.options.as_ref().map(|(spec, _)| spec.layout());
        let chain_names = job.chain_asset_names(asset_names.as_deref());
        let mut options_file = match layout {
            Some(l) => Some(ParquetFile::create(
                &self.target.with_file_name("options.parquet"),
                &ChainColumns::new(l, chain_names.clone()).into_table(),
            )?),
            None => None,
        };
        let (mut done, mut rows, mut option_rows) = (0u64, 0u64, 0u64);
        job.drive(
            generator,
            |chunk, chains| -> Result<_> {
                let spot = SpotColumns::of_chunk(chunk, &dates, asset_names.clone())?;
                let options =
                    layout.map(|l| ChainColumns::of_chains(l, chains, &dates, chain_names.clone()));
                Ok((chunk.paths() as u64, spot.into_table()?, options))
            },
            |item| {
                let (n, spot, options) = item?;
                rows += spot.rows() as u64;
                file.write(spot)?;
                if let (Some(f), Some(o)) = (options_file.as_mut(), options) {
                    option_rows += o.rows() as u64;
                    f.write(o)?;
                }
                done += n;
                (self.progress)(done);
                Ok(())
            },
        )?;
        file.commit()?;
        if let Some(f) = options_file {
            f.commit()?;
        }
        Ok((rows, option_rows))
    }
}
