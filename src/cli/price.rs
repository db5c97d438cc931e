use clap::{Args, ValueEnum};
use std::path::PathBuf;
use synthmarket::error::Result;
use synthmarket::io::option_csv::{fmt, OptionTable};
use synthmarket::pricing::{implied_vol, BlackScholes, HestonModel};

const AFTER_HELP: &str = "Input columns (any order; other columns pass through):
  option_type   call or put (also c/p)
  spot          spot price
  strike        strike, same units as spot
  maturity      years to expiry (0.25 = three months)
  rate          continuously compounded risk-free rate per year
  dividend      continuous dividend yield per year
  volatility    (bs) annualised volatility, 0.2 = 20 %
  v0,kappa,theta,xi,rho   (heston) initial variance, mean reversion per year,
                long-run variance, volatility of variance, spot-variance correlation

Output: the input columns plus
  bs:      price,delta,gamma,vega,theta,rho   (vega per 1.00 of vol, theta per year, rho per 1.00 of rate)
  heston:  price,implied_vol                  (the Black-Scholes vol of the Heston price)

Example:
  printf 'option_type,spot,strike,maturity,rate,dividend,volatility\\ncall,100,105,0.5,0.03,0.01,0.2\\n' \\
    | synthmarket price --model bs --input - --out -";

/// Pricing model of `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PriceModel {
    /// Black–Scholes–Merton (prices and greeks)
    Bs,
    /// Heston by Fourier-cosine expansion (prices and implied vols)
    Heston,
}

/// `synthmarket price`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct PriceCmd {
    /// Pricing model
    #[arg(long, value_enum)]
    model: PriceModel,
    /// Option file (CSV with a header; `-` for standard input)
    #[arg(long)]
    input: PathBuf,
    /// Output file (`-` for standard output)
    #[arg(long, short)]
    out: PathBuf,
}

pub fn run(cmd: PriceCmd) -> Result<()> {
    let table = OptionTable::read(&cmd.input)?;
    let contract = table.columns(OptionTable::CONTRACT_COLUMNS)?;
    let mut extra = Vec::with_capacity(table.len());
    let headers: &[&str] = match cmd.model {
        PriceModel::Bs => &["price", "delta", "gamma", "vega", "theta", "rho"],
        PriceModel::Heston => &["price", "implied_vol"],
    };
    let cols = match cmd.model {
        PriceModel::Bs => vec![table.column("volatility")?],
        PriceModel::Heston => table
            .columns(["v0", "kappa", "theta", "xi", "rho"])?
            .to_vec(),
    };
    for row in 0..table.len() {
        let num = |c: usize, name: &str| table.number(row, c, name);
        let wrap = |e| table.row_error(row, e);
        let (spec, state) = table.contract(row, &contract)?.map_err(wrap)?;
        extra.push(match cmd.model {
            PriceModel::Bs => {
                let g = BlackScholes::new(num(cols[0], "volatility")?)
                    .map_err(wrap)?
                    .greeks(&spec, &state);
                [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho]
                    .map(fmt)
                    .to_vec()
            }
            PriceModel::Heston => {
                let names = ["v0", "kappa", "theta", "xi", "rho"];
                let mut p = [0.0; 5];
                for i in 0..5 {
                    p[i] = num(cols[i], names[i])?;
                }
                let model = HestonModel::new(p[0], p[1], p[2], p[3], p[4]).map_err(wrap)?;
                let price = model.price(&spec, &state);
                // An implied vol exists unless the price sits on a bound
                // (deep in or out of the money to machine precision).
                let iv = implied_vol(price, &spec, &state)
                    .map(fmt)
                    .unwrap_or_default();
                vec![fmt(price), iv]
            }
        });
    }
    table.write_with(&cmd.out, headers, &extra)
}
