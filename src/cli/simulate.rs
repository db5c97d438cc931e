use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::run::SimulateParams;

const AFTER_HELP: &str = "Output (DIR/spot.csv), one row per path and step:
  path      path index, 0-based (path i is the same whatever --paths is)
  step      step index; step 0 is the initial state
  date      ISO date on a Mon-Fri calendar from --start (step k = round(k*dt*252) business days)
  asset     asset name (multi-asset GBM only)
  spot      spot price
  variance  instantaneous annualised variance: sigma^2 for GBM, v_t for Heston,
            252 x the one-step conditional variance for GARCH and deep

With --options, DIR/options.csv holds one row per path, chain date, expiry,
strike and type: path,step,date,expiry,maturity,strike,option_type,price,
implied_vol,delta,gamma,vega,theta (maturity in years = business days/252;
greeks are Black-Scholes-Merton greeks at the implied vol, one implied vol
per strike, from the out-of-the-money option). With --chain-layout wide it
holds one row per strike instead, the call and put side by side:
path,step,date,expiry,maturity,strike,implied_vol,call,put,call_delta,
put_delta,gamma,vega (half the rows, about 40 % fewer bytes; hedge and
validate read both layouts). Chains are formatted a few paths at a time, so
memory stays flat: 1,000 paths x 252 days x 10 expiries x 21 strikes (10 GB,
wide) runs in about 160 MB.

DIR/run.json records the seed, the fully resolved parameters, the crate
version and an equivalent command line. spot.csv is written as
DIR/.spot.csv.partial and renamed when complete; run.json is written last.

Examples:
  synthmarket simulate --model heston --paths 1000 --out out
  synthmarket simulate --model deep --paths 1000 --steps 2520 --out deep10y
  synthmarket simulate --model deep --model-path models/mine --s0 2500 --out mine
  synthmarket simulate --model gbm --mu 0.07 --sigma 0.18 --paths 500 --steps 2520 --out gbm10y
  synthmarket simulate --model gbm --assets spx,ndx --s0 2500,6600 --sigma 0.18,0.23 \\
      --correlation \"1,0.9;0.9,1\" --out pair
  synthmarket simulate --config sp500-gbm.toml --seed 7 --out runs/7
  synthmarket simulate --model heston --paths 200 --options --months 3 --out chains
  synthmarket simulate --model deep --paths 1000 --options --months 10 --chain-layout wide --out big
  synthmarket simulate --model gbm --mu 0.07 --rate 0.03 --options --expiries tenors \\
      --tenors 30,91 --moneyness 0.9,1,1.1 --chain-every 5 --out rw";

/// `synthmarket simulate`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct SimulateCmd {
    /// Output directory (created if missing)
    #[arg(long, short)]
    out: PathBuf,
    /// TOML file whose keys mirror these flags (e.g. from `calibrate`); flags override it
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    params: SimulateParams,
}

pub fn run(cmd: SimulateCmd, quiet: bool) -> Result<()> {
    let params = match &cmd.config {
        Some(path) => cmd.params.over(SimulateParams::from_toml_file(path)?),
        None => cmd.params,
    };
    // Everything is validated before the output directory is touched.
    let fit_bar = super::fit_pricing::FitBar::new(quiet);
    let job = params.resolve_with(&|p| fit_bar.update(p));
    fit_bar.finish();
    let job = job?;
    if let Some((spec, synthmarket::run::ChainModel::Nested { pricer, .. })) = &job.options {
        // About 1.4 s per chain of six monthly expiries at 20,000 nested
        // paths on 2 cores (measured): warn before minutes become hours.
        let chains = job.path_range().1 * (job.grid.steps() / spec.every() + 1) as u64;
        if chains > 500 {
            tracing::warn!(
                "the nested mode prices {chains} chains with {} nested paths each, up to a second apiece on 2 cores: reduce --paths or raise --chain-every, or use the table (--chain-pricing table)",
                pricer.nested_paths
            );
        }
    }
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(job.path_range().1), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating [{bar:40}] {pos}/{len} paths, {per_sec}, eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let out = job.write_to_dir(&cmd.out, &|n| bar.set_position(n))?;
    bar.finish_and_clear();
    let rows = out.manifest.files[0].rows;
    tracing::info!(
        "wrote {} rows ({} paths × {} steps) to {} and {} in {:.1} s",
        rows,
        job.path_range().1,
        job.grid.steps(),
        out.spot_file.display(),
        out.run_json.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
