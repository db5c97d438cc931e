//! A run collected in memory instead of written to files: the same rows
//! as `spot.csv` and `options.csv`, as typed columns ([`crate::io::columns`]),
//! with the manifest `run.json` would hold. The Python module builds its
//! DataFrames from these without going through text.

use super::job::{GeneratorVisitor, SimulationJob};
use crate::error::{Error, Result};
use crate::io::columns::{ChainColumns, SpotColumns, Table};
use crate::run::manifest::RunManifest;
use crate::sim::PathGenerator;
use std::sync::Mutex;

/// A simulated market in memory.
#[derive(Debug, Clone)]
pub struct MarketTables {
    /// The rows of `spot.csv`.
    pub spot: Table,
    /// The rows of `options.csv`, when the job asks for chains.
    pub options: Option<Table>,
    /// What `run.json` would hold for the same job.
    pub manifest: RunManifest,
}

impl SimulationJob {
    /// Simulates the job into memory; `progress` is called with the number
    /// of paths completed so far, in order. The values are those
    /// [`SimulationJob::write_to_dir`] writes, bit for bit.
    pub fn collect(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<MarketTables> {
        let (spot, options) = self.dispatch(Collect {
            job: self,
            progress,
        })?;
        let option_rows = options.as_ref().map_or(0, |t| t.rows() as u64);
        let manifest = self.manifest(spot.rows() as u64, option_rows);
        Ok(MarketTables {
            spot,
            options,
            manifest,
        })
    }
}

struct Collect<'a> {
    job: &'a SimulationJob,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl GeneratorVisitor for Collect<'_> {
    type Output = (Table, Option<Table>);

    fn visit<G: PathGenerator>(
        self,
        generator: &G,
        asset_names: Option<Vec<String>>,
    ) -> Result<(Table, Option<Table>)> {
        let job = self.job;
        let dates = job.dates_ns();
        let layout = job.options.as_ref().map(|(spec, _)| spec.layout());
        // The spot rows are written in place by the workers, each into its
        // chunk's part of the final columns (taken once, under a lock held
        // only for the take).
        let (first, paths) = job.path_range();
        let paths = usize::try_from(paths)
            .map_err(|_| Error::parameter("paths", job.paths, "too many to hold in memory"))?;
        let chunk_paths = job.chunk_paths();
        let mut spot = SpotColumns::new(
            paths,
            job.grid.steps(),
            generator.assets(),
            asset_names.clone(),
        )?;
        let parts: Vec<Mutex<Option<_>>> = spot
            .split(chunk_paths)
            .into_iter()
            .map(|p| Mutex::new(Some(p)))
            .collect();
        let chain_names = job.chain_asset_names(asset_names.as_deref());
        let mut options = layout.map(|l| ChainColumns::new(l, chain_names.clone()).into_table());
        let mut done = 0u64;
        job.drive(
            generator,
            |chunk, chains| {
                let part = parts
                    .get(((chunk.first_path() - first) / chunk_paths as u64) as usize)
                    .and_then(|m| m.lock().unwrap_or_else(|e| e.into_inner()).take());
                let Some(rows) = part else {
                    return Err(Error::Internal(format!(
                        "chunk at path {} has no rows or was driven twice",
                        chunk.first_path()
                    )));
                };
                rows.fill(chunk, &dates)?;
                let o =
                    layout.map(|l| ChainColumns::of_chains(l, chains, &dates, chain_names.clone()));
                Ok((chunk.paths() as u64, o))
            },
            |item| {
                let (n, o) = item?;
                if let (Some(all), Some(o)) = (options.as_mut(), o) {
                    all.append(o);
                }
                done += n;
                (self.progress)(done);
                Ok(())
            },
        )?;
        drop(parts);
        let spot = spot.into_table()?;
        Ok((spot, options))
    }
}
