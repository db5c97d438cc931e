//! Runs a resolved [`SimulationJob`] into a directory: `spot.csv` and
//! `run.json`.

use super::{CorrelatedGbm, Driver, Gbm, Heston, PathGenerator};
use crate::config::{ModelSpec, SimulationJob};
use crate::error::{Error, Result};
use crate::io::manifest::{FileEntry, RunManifest};
use crate::io::spot_csv::SpotCsvFormat;
use crate::io::{write_atomic, AtomicFile};
use std::path::{Path, PathBuf};

/// What a finished run wrote.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Path of `spot.csv`.
    pub spot_csv: PathBuf,
    /// Path of `run.json`.
    pub run_json: PathBuf,
    /// The manifest written.
    pub manifest: RunManifest,
}

impl SimulationJob {
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
        std::fs::create_dir_all(out_dir).map_err(|source| Error::Write {
            path: out_dir.to_path_buf(),
            source,
        })?;
        let run_json = out_dir.join("run.json");
        match std::fs::remove_file(&run_json) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Write {
                    path: run_json,
                    source,
                })
            }
        }
        let spot_csv = out_dir.join("spot.csv");
        let rows = match &self.model {
            ModelSpec::Gbm {
                assets,
                correlation,
            } => match correlation {
                None => self.stream(
                    &Gbm::new(assets[0].params, &self.grid),
                    None,
                    &spot_csv,
                    progress,
                )?,
                Some(c) => {
                    let params: Vec<_> = assets.iter().map(|a| a.params).collect();
                    let gen = CorrelatedGbm::new(&params, c.clone(), &self.grid)?;
                    let names = assets.iter().map(|a| a.name.clone()).collect();
                    self.stream(&gen, Some(names), &spot_csv, progress)?
                }
            },
            ModelSpec::Heston { params, scheme } => self.stream(
                &Heston::new(*params, *scheme, &self.grid),
                None,
                &spot_csv,
                progress,
            )?,
        };
        let multi = matches!(&self.model, ModelSpec::Gbm { assets, .. } if assets.len() > 1);
        let columns: &[&str] = if multi {
            &["path", "step", "date", "asset", "spot", "variance"]
        } else {
            &["path", "step", "date", "spot", "variance"]
        };
        let manifest = RunManifest {
            synthmarket_version: env!("CARGO_PKG_VERSION"),
            seed: self.seed,
            rng: RunManifest::rng_name(),
            paths: self.paths,
            grid: self.grid,
            start: self.calendar.start().to_string(),
            calendar: RunManifest::CALENDAR,
            model: self.model.clone(),
            files: vec![FileEntry {
                name: "spot.csv".into(),
                rows,
                columns: columns.iter().map(|c| c.to_string()).collect(),
            }],
            command: self.command_line(),
        };
        let mut json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Internal(format!("serialising run.json: {e}")))?;
        json.push(b'\n');
        write_atomic(&run_json, &json)?;
        Ok(RunOutput {
            spot_csv,
            run_json,
            manifest,
        })
    }

    fn stream<G: PathGenerator>(
        &self,
        generator: &G,
        asset_names: Option<Vec<String>>,
        target: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<u64> {
        let format = SpotCsvFormat::new(&self.grid, &self.calendar, asset_names);
        let mut file = AtomicFile::create(target)?;
        file.write_all(format.header().as_bytes())?;
        let driver = Driver::new(self.seed, self.paths);
        let mut done = 0u64;
        driver.run(
            generator,
            self.grid.steps(),
            |chunk| (chunk.paths() as u64, format.format_chunk(chunk)),
            |(n, bytes)| {
                file.write_all(&bytes)?;
                done += n;
                progress(done);
                Ok(())
            },
        )?;
        file.commit()?;
        Ok(self.paths * (self.grid.steps() as u64 + 1) * generator.assets() as u64)
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
        let join = |xs: Vec<f64>| {
            xs.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let drift = |d: super::Drift| match d {
            super::Drift::RealWorld { mu } => format!(" --mu {mu}"),
            super::Drift::RiskNeutral { rate, dividend } => {
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
                    super::Drift::RealWorld { .. } => c.push_str(&format!(
                        " --mu {}",
                        join(assets.iter().map(|a| a.params.drift().rate()).collect())
                    )),
                    super::Drift::RiskNeutral { rate, .. } => c.push_str(&format!(
                        " --rate {rate} --dividend {}",
                        join(
                            assets
                                .iter()
                                .map(|a| match a.params.drift() {
                                    super::Drift::RiskNeutral { dividend, .. } => dividend,
                                    super::Drift::RealWorld { .. } => 0.0,
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
                        super::HestonScheme::Qe => "qe",
                        super::HestonScheme::Euler => "euler",
                    }
                ));
            }
        }
        c
    }
}
