use clap::Args;
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::io::option_csv::{fmt, OptionTable};
use synthmarket::pricing::implied_vol;

const AFTER_HELP: &str = "Input columns (any order; other columns pass through):
  option_type,spot,strike,maturity,rate,dividend,price
  (units as in `synthmarket price --help`; price in the units of spot)

Output: the input columns plus
  implied_vol   annualised Black-Scholes-Merton volatility, empty on error
  error         empty when fine, else why there is no implied vol (e.g. the
                price is outside the no-arbitrage bounds: a call must lie in
                [e^(-rT) max(F-K,0), S e^(-qT)), a put in [e^(-rT) max(K-F,0), K e^(-rT)))

A row whose price has no implied vol does not stop the others; a malformed
file (missing column, unparseable number) stops the command with exit code 2.";

/// `synthmarket iv`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct IvCmd {
    /// Option file (CSV with a header; `-` for standard input)
    #[arg(long)]
    input: PathBuf,
    /// Output file (`-` for standard output)
    #[arg(long, short)]
    out: PathBuf,
}

pub fn run(cmd: IvCmd) -> Result<()> {
    let table = OptionTable::read(&cmd.input)?;
    let contract = table.columns(OptionTable::CONTRACT_COLUMNS)?;
    let p = table.column("price")?;
    let mut extra = Vec::with_capacity(table.len());
    for row in 0..table.len() {
        let price = table.number(row, p, "price")?;
        let result = table
            .contract(row, &contract)?
            .map_err(|e| e.to_string())
            .and_then(|(spec, state)| implied_vol(price, &spec, &state).map_err(|e| e.to_string()));
        extra.push(match result {
            Ok(v) => vec![fmt(v), String::new()],
            Err(e) => vec![String::new(), e],
        });
    }
    table.write_with(&cmd.out, &["implied_vol", "error"], &extra)
}
