//! Guarding a run's output directory before anything is written (issue
//! 41): another run's files, an output too large for the disk or above
//! 50 GB without `--yes`, counts that overflow.

use super::job::SimulationJob;
use super::models::ModelSpec;
use super::params::OutputFormat;
use crate::error::{Error, Location, Result};
use crate::io::chain_csv::Layout;
use std::path::{Path, PathBuf};

/// Above this estimated size (50 GB) `simulate` writes only with `--yes`.
pub const CONFIRM_BYTES: u64 = 50_000_000_000;

/// The size rule: an output of about `bytes` goes to a filesystem (at
/// `probe`) with `free` bytes free (None: unknown, not checked). Larger
/// than the free space: refused, `--yes` or not; larger than
/// [`CONFIRM_BYTES`]: refused without `yes`. The rule is the same
/// interactive or not (no prompt: a batch job must not hang on one).
fn size_verdict(bytes: u64, free: Option<u64>, probe: &Path, yes: bool) -> Result<()> {
    let gb = |b: u64| b as f64 / 1e9;
    if let Some(free) = free.filter(|f| bytes > *f) {
        return Err(Error::parameter(
            "paths/steps",
            format!("about {:.1} GB", gb(bytes)),
            format!(
                "the output would not fit: {} has {:.1} GB free; write fewer paths or steps, --format parquet (about 4× smaller), --shard K/N across machines, or another --out",
                probe.display(),
                gb(free)
            ),
        ));
    }
    if bytes > CONFIRM_BYTES && !yes {
        return Err(Error::parameter(
            "paths/steps",
            format!("about {:.1} GB", gb(bytes)),
            format!(
                "the output is larger than {:.0} GB: pass --yes to write it (yes=True in Python), or write less",
                gb(CONFIRM_BYTES)
            ),
        ));
    }
    Ok(())
}

impl SimulationJob {
    /// Refuses an output directory that holds a different run: its
    /// `run.json` records another command line (other parameters, seed,
    /// format or shard), unless [`Self::overwrite`] is set. The same
    /// command may always rerun into its own directory.
    pub fn check_out_dir(&self, out_dir: &Path) -> Result<()> {
        let run_json = out_dir.join("run.json");
        if self.overwrite || !run_json.exists() {
            return Ok(());
        }
        let text = std::fs::read_to_string(&run_json).map_err(|source| Error::Read {
            path: run_json.clone(),
            source,
        })?;
        let theirs = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("command").and_then(|c| c.as_str()).map(str::to_owned));
        let ours = self.command_line();
        match theirs {
            Some(theirs) if theirs == ours => Ok(()),
            theirs => Err(Error::input(
                Location::file(&run_json).field("command"),
                format!(
                    "{} already holds a different run ({}); write to another directory, delete it, or pass --overwrite (overwrite=True in Python)",
                    out_dir.display(),
                    theirs.map_or("an unreadable run.json".to_string(), |c| format!("`{c}`"))
                ),
            )),
        }
    }

    /// Assets per path of this job's model.
    fn assets(&self) -> usize {
        match &self.model {
            ModelSpec::Gbm { assets, .. } => assets.len(),
            ModelSpec::Panel { model, .. } => model.assets().len(),
            ModelSpec::Heston { .. } | ModelSpec::Garch { .. } | ModelSpec::Deep { .. } => 1,
        }
    }

    /// The rows of `spot` and `options` this job writes, or an error when a
    /// count overflows 64 bits.
    pub fn row_counts(&self) -> Result<(u64, u64)> {
        let (_, paths) = self.path_range();
        let overflow = || {
            Error::parameter(
                "paths/steps",
                format!("{paths} × {}", self.grid.steps()),
                "the number of rows overflows a 64-bit count: no filesystem holds this run",
            )
        };
        let steps = (self.grid.steps() as u64)
            .checked_add(1)
            .ok_or_else(overflow)?;
        let spot = paths
            .checked_mul(steps)
            .and_then(|r| r.checked_mul(self.assets() as u64))
            .ok_or_else(overflow)?;
        let options = match &self.options {
            None => 0,
            Some((spec, _)) => {
                let chains = (self.grid.steps() / spec.every()) as u64 + 1;
                let rows_per_chain = match spec.layout() {
                    Layout::Long => spec.options_per_chain(),
                    Layout::Wide => spec.options_per_chain() / 2,
                } as u64;
                paths
                    .checked_mul(chains)
                    .and_then(|r| r.checked_mul(rows_per_chain))
                    .ok_or_else(overflow)?
            }
        };
        Ok((spot, options))
    }

    /// The estimated size of this job's output in bytes: rows times the
    /// measured bytes per row of each file (CSV: about 60 per spot row, 175
    /// per long option row, 200 per wide row; Parquet about a quarter).
    pub fn estimated_bytes(&self) -> Result<u64> {
        let (spot, options) = self.row_counts()?;
        let option_row = match &self.options {
            Some((spec, _)) if spec.layout() == Layout::Wide => 200,
            _ => 175,
        };
        let (a, b) = match self.format {
            OutputFormat::Csv => (60u64, option_row),
            OutputFormat::Parquet => (15u64, option_row / 4),
        };
        spot.checked_mul(a)
            .zip(options.checked_mul(b))
            .and_then(|(x, y)| x.checked_add(y))
            .ok_or_else(|| {
                Error::parameter(
                    "paths/steps",
                    format!("{spot} spot rows"),
                    "the output size overflows 64 bits: no filesystem holds this run",
                )
            })
    }

    /// Refuses a run that would not fit in the free space of `out_dir`'s
    /// filesystem, or that is larger than [`CONFIRM_BYTES`] without
    /// [`Self::yes`], before anything is written.
    pub fn check_size(&self, out_dir: &Path) -> Result<()> {
        let bytes = self.estimated_bytes()?;
        // The nearest existing ancestor holds the filesystem the run goes to.
        let mut probe = out_dir.to_path_buf();
        if probe.as_os_str().is_empty() {
            probe = PathBuf::from(".");
        }
        while !probe.exists() {
            match probe.parent() {
                Some(p) if !p.as_os_str().is_empty() => probe = p.to_path_buf(),
                _ => {
                    probe = PathBuf::from(".");
                    break;
                }
            }
        }
        size_verdict(bytes, fs2::available_space(&probe).ok(), &probe, self.yes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size rule: beyond the free space refused even with --yes (the
    /// message states the estimate and the free space); beyond 50 GB
    /// refused without --yes; unknown free space checks only the 50 GB
    /// rule.
    #[test]
    fn size_rule() {
        let p = Path::new("/data");
        let e = size_verdict(60_000_000_000, Some(10_000_000_000), p, true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let m = e.to_string();
        assert!(
            m.contains("60.0 GB") && m.contains("10.0 GB free") && m.contains("/data"),
            "{m}"
        );
        let e = size_verdict(60_000_000_000, Some(1_000_000_000_000), p, false).unwrap_err();
        assert!(e.to_string().contains("--yes"), "{e}");
        assert!(size_verdict(60_000_000_000, Some(1_000_000_000_000), p, true).is_ok());
        assert!(size_verdict(60_000_000_000, None, p, false).is_err());
        assert!(size_verdict(1_000_000, Some(2_000_000), p, false).is_ok());
    }
}
