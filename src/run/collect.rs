//! A run collected in memory instead of written to files: the same rows
//! as `spot.csv` and `options.csv`, as typed columns ([`crate::io::columns`]),
//! with the manifest `run.json` would hold. The Python module builds its
//! DataFrames from these without going through text.

use super::job::{GeneratorVisitor, SimulationJob};
use crate::error::Result;
use crate::io::columns::{date_ns, spot_table, ChainColumns, Table};
use crate::run::manifest::RunManifest;
use crate::sim::PathGenerator;

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
        let dates: Vec<i64> = (0..=job.grid.steps())
            .map(|k| date_ns(job.calendar.date_at(job.grid.time(k))))
            .collect();
        let layout = job.options.as_ref().map(|(spec, _)| spec.layout());
        let mut spot = Table::default();
        let mut options = layout.map(|l| ChainColumns::new(l).into_table());
        let mut done = 0u64;
        job.drive(
            generator,
            |chunk, chains| {
                let s = spot_table(chunk, &dates, asset_names.as_deref());
                let o = layout.map(|l| {
                    let mut c = ChainColumns::new(l);
                    for (path, k, rows) in chains {
                        c.push(*path, *k, dates[*k], rows);
                    }
                    c.into_table()
                });
                (chunk.paths() as u64, s, o)
            },
            |(n, s, o)| {
                spot.append(s);
                if let (Some(all), Some(o)) = (options.as_mut(), o) {
                    all.append(o);
                }
                done += n;
                (self.progress)(done);
                Ok(())
            },
        )?;
        Ok((spot, options))
    }
}
