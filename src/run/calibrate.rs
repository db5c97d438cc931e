//! Calibration jobs (`synthmarket calibrate`): the Heston fit to an option
//! file's implied-vol surface, and the `simulate --config` TOML texts of
//! the GBM, GJR-GARCH-t and Heston fits.
//!
//! Both faces (the CLI, the Python module) call [`calibrate_heston_file`]
//! (the GBM and GARCH fits are [`GbmEstimate::fit`] and
//! [`GarchEstimate::fit`]); printing the parameters and writing the config
//! are theirs.

use crate::error::{Error, Result};
use crate::io::option_csv::OptionTable;
use crate::market::{MarketState, OptionSpec, OptionType, SpotHistory};
use crate::pricing::calibrate::SurfacePoint;
use crate::pricing::calibrate::{calibrate_heston, initial_guess, HestonBounds, HestonFit};
use crate::pricing::implied_vol;
use crate::sim::{GarchEstimate, GbmEstimate};
use std::path::{Path, PathBuf};

/// A Heston fit to the surface of an option file ([`calibrate_heston_file`]).
#[derive(Debug, Clone)]
pub struct HestonSurfaceFit {
    /// The fit: v0, κ, θ, ξ, ρ, its errors in vol points, the number of
    /// quotes and surface evaluations, why the optimiser stopped.
    pub fit: HestonFit,
    /// Spot, rate and dividend of the file's first quote (the config's
    /// `s0`, `rate` and `dividend`).
    pub first_quote: MarketState,
    /// The option file as given (`-`: standard input).
    pub source: PathBuf,
    /// Wall-clock seconds of the calibration (reading the file and the
    /// implied vols of prices not included).
    pub seconds: f64,
}

impl HestonSurfaceFit {
    /// The config for `synthmarket simulate --config`: the fitted
    /// parameters, with `s0`, `rate` and `dividend` of the first quote.
    pub fn config_toml(&self) -> String {
        let fit = &self.fit;
        let [v0, kappa, theta, xi, rho] = fit.params;
        let first = self.first_quote;
        format!(
            "# Heston fitted by synthmarket {version} to {file} ({n} quotes):\n\
             # RMSE {rmse:.6} vol points, largest error {max:.6} vol points.\n\
             # s0, rate and dividend are those of the first quote.\n\
             model = \"heston\"\n\
             s0 = {s0:?}\n\
             rate = {rate:?}\n\
             dividend = {dividend:?}\n\
             v0 = {v0:?}\n\
             kappa = {kappa:?}\n\
             theta = {theta:?}\n\
             xi = {xi:?}\n\
             rho = {rho:?}\n",
            version = env!("CARGO_PKG_VERSION"),
            file = self.source.display(),
            n = fit.quotes,
            rmse = fit.rmse_vol_points,
            max = fit.max_error_vol_points,
            s0 = first.spot(),
            rate = first.rate(),
            dividend = first.dividend(),
        )
    }
}

/// The quotes of an option table as surface points. Columns (any order;
/// others ignored): `spot`, `strike`, `maturity`, `rate`, `dividend` per
/// quote, and either `implied_vol` (0.2 = 20 %) or `option_type` and
/// `price` (converted to its implied vol). Errors name the row and field;
/// implied vols must lie in (0, 10) and maturities be positive.
pub fn surface_points(table: &OptionTable) -> Result<Vec<SurfacePoint>> {
    let [s, k, t, r, q] = table.columns(["spot", "strike", "maturity", "rate", "dividend"])?;
    enum Quoted {
        Vol(usize),
        Price(usize, usize),
    }
    let quoted = match table.column("implied_vol") {
        Ok(c) => Quoted::Vol(c),
        Err(_) => Quoted::Price(table.column("option_type")?, table.column("price")?),
    };
    let mut points = Vec::with_capacity(table.len());
    for row in 0..table.len() {
        let num = |c: usize, name: &str| table.number(row, c, name);
        let wrap = |e| table.row_error(row, e);
        let state = MarketState::new(num(s, "spot")?, num(r, "rate")?, num(q, "dividend")?)
            .map_err(wrap)?;
        let (kind, vol) = match quoted {
            Quoted::Vol(c) => (OptionType::Call, num(c, "implied_vol")?),
            Quoted::Price(ct, cp) => {
                let kind = table.option_type(row, ct)?;
                let spec =
                    OptionSpec::new(kind, num(k, "strike")?, num(t, "maturity")?).map_err(wrap)?;
                let vol = implied_vol(num(cp, "price")?, &spec, &state).map_err(|e| {
                    table.row_error(row, Error::parameter("price", "", e.to_string()))
                })?;
                (kind, vol)
            }
        };
        if !(vol > 0.0 && vol < 10.0) {
            return Err(table.row_error(
                row,
                Error::parameter("implied_vol", vol, "must lie in (0, 10)"),
            ));
        }
        let spec = OptionSpec::new(kind, num(k, "strike")?, num(t, "maturity")?).map_err(wrap)?;
        if spec.maturity() == 0.0 {
            return Err(table.row_error(row, Error::parameter("maturity", 0, "must be positive")));
        }
        points.push(SurfacePoint { spec, state, vol });
    }
    Ok(points)
}

/// Fits Heston (v0, κ, θ, ξ, ρ) to the implied-vol surface of the option
/// file `path` (`-`: standard input; columns as [`surface_points`] reads
/// them) by Levenberg-Marquardt from [`initial_guess`] within
/// [`HestonBounds::default`]. Nothing goes to stdout.
pub fn calibrate_heston_file(path: &Path) -> Result<HestonSurfaceFit> {
    let table = OptionTable::read(path)?;
    let points = surface_points(&table)?;
    let started = std::time::Instant::now();
    let fit = calibrate_heston(&points, initial_guess(&points), HestonBounds::default())?;
    let seconds = started.elapsed().as_secs_f64();
    let first_quote = points
        .first()
        .map(|p| p.state)
        .ok_or_else(|| Error::parameter("input", path.display(), "holds no quotes"))?;
    Ok(HestonSurfaceFit {
        fit,
        first_quote,
        source: path.to_path_buf(),
        seconds,
    })
}

/// `FIRST to LAST` dates of a history.
fn span(history: &SpotHistory) -> String {
    let dates = history.dates();
    match (dates.first(), dates.last()) {
        (Some(first), Some(last)) => format!("{first} to {last}"),
        _ => String::new(),
    }
}

/// The config for `synthmarket simulate --config` of a GBM fitted to
/// `history` ([`GbmEstimate::fit`]): `s0` the last price, `mu`, `sigma` and
/// `dt` = 1 / periods per year, with the standard errors in its comments.
pub fn gbm_config_toml(fit: &GbmEstimate, history: &SpotHistory) -> String {
    format!(
        "# GBM fitted by synthmarket {version} (maximum likelihood) to\n\
         # {file}, column `{col}`, {span}: {n} log returns, {ppy} per year.\n\
         # mu    = {mu:.6} ± {mu_se:.6} (1 s.e.)\n\
         # sigma = {sigma:.6} ± {sigma_se:.6} (1 s.e.)\n\
         # s0 is the last price of the history.\n\
         model = \"gbm\"\n\
         s0 = {s0:?}\n\
         mu = {mu:?}\n\
         sigma = {sigma:?}\n\
         dt = {dt:?}\n",
        version = env!("CARGO_PKG_VERSION"),
        file = history.source().display(),
        col = history.column(),
        span = span(history),
        n = fit.returns,
        ppy = fit.periods_per_year,
        mu = fit.mu,
        mu_se = fit.mu_se,
        sigma = fit.sigma,
        sigma_se = fit.sigma_se,
        s0 = fit.last_price,
        dt = 1.0 / fit.periods_per_year,
    )
}

/// The config for `synthmarket simulate --model garch --config` of a
/// GJR-GARCH(1,1)-t fitted to `history` ([`GarchEstimate::fit`]): daily
/// parameters, `s0` the last price and `v0` the annualised conditional
/// variance for the day after the sample.
pub fn garch_config_toml(fit: &GarchEstimate, history: &SpotHistory) -> String {
    let p = fit.params;
    format!(
        "# GJR-GARCH(1,1)-t fitted by synthmarket {version} (maximum likelihood) to\n\
         # {file}, column `{col}`, {span}: {n} daily log returns.\n\
         # Daily units; s0 is the last price, v0 the annualised conditional\n\
         # variance for the day after the sample.\n\
         model = \"garch\"\n\
         s0 = {s0:?}\n\
         v0 = {v0:?}\n\
         mean = {mu:?}\n\
         omega = {omega:?}\n\
         alpha = {alpha:?}\n\
         gamma = {gamma:?}\n\
         beta = {beta:?}\n\
         nu = {nu:?}\n",
        version = env!("CARGO_PKG_VERSION"),
        file = history.source().display(),
        col = history.column(),
        span = span(history),
        n = fit.returns,
        s0 = fit.last_price,
        v0 = crate::market::TRADING_DAYS_PER_YEAR * fit.last_variance,
        mu = p.mu,
        omega = p.omega,
        alpha = p.alpha,
        gamma = p.gamma,
        beta = p.beta,
        nu = p.nu,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dax_surface_fits_and_its_config_names_the_first_quote() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dax_2002-07-05.csv");
        let surface = calibrate_heston_file(&path).unwrap();
        assert_eq!(surface.fit.quotes, 104);
        assert_eq!(surface.first_quote.spot(), 4468.17);
        let toml = surface.config_toml();
        assert!(toml.starts_with("# Heston fitted by synthmarket"), "{toml}");
        assert!(
            toml.contains("\nmodel = \"heston\"\ns0 = 4468.17\n"),
            "{toml}"
        );
        assert!(toml.contains(&format!("({} quotes)", 104)), "{toml}");
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let err = calibrate_heston_file(Path::new("/nonexistent/surface.csv")).unwrap_err();
        assert!(matches!(err, Error::Read { .. }), "{err}");
    }
}
