//! `synthmarket fit-pricing --model MARKET`: fits a market model's chain
//! laws ([`synthmarket::deep::panel::pricing`]) and stores them beside it,
//! with a section of its model card.

use std::path::Path;
use synthmarket::deep::panel::pricing::{FIT_NESTED_PATHS, FIT_QUANTILES};
use synthmarket::deep::panel::{MarketPricing, PanelModel};
use synthmarket::error::Result;

pub fn run(dir: &Path, lambda: f64, quiet: bool) -> Result<()> {
    let model = PanelModel::load(dir)?;
    let started = std::time::Instant::now();
    let bar = super::fit_pricing::bar_for(
        quiet,
        FIT_QUANTILES.len() as u64,
        "nested surfaces of the index",
        "states",
    );
    let pricing = MarketPricing::fit(&model, lambda, &|done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    pricing.save(dir)?;
    write_card_section(dir, &pricing, seconds)?;
    let c = pricing.config();
    tracing::info!(
        "wrote {} in {seconds:.0} s: κ {:.3}, index θ {:.4} ξ {:.3} ρ {:.3}; fit RMS {:.2} vol points over {} states",
        dir.join("pricing.json").display(),
        c.kappa,
        c.assets.last().map_or(f64::NAN, |a| a.theta),
        c.assets.last().map_or(f64::NAN, |a| a.xi),
        c.assets.last().map_or(f64::NAN, |a| a.rho),
        c.rmse_vol_points,
        c.states.len()
    );
    Ok(())
}

/// Replaces (or appends) the card's "Option pricing" section.
fn write_card_section(dir: &Path, pricing: &MarketPricing, seconds: f64) -> Result<()> {
    let (path, head) = super::fit_pricing::card_head(dir);
    let c = pricing.config();
    let index = c.assets.last();
    let mut s = format!(
        "{head}\n\n## Option pricing\n\n\
Chains of every asset (`simulate --model deep --model-path DIR --options`) are \
Heston chains, one law in standardised variance shared by all assets (see \
the book's market chapter). The law was fitted by `synthmarket fit-pricing` \
in {seconds:.0} s on this machine: the index net restarted under the pricing \
measure (variance premium λ = {}) at {} quantiles of its stationary variance, \
{FIT_NESTED_PATHS} nested paths each, surfaces at {:?} trading days and {:?} \
standard deviations of log-moneyness, one Heston law (κ = {:.3}; for the \
index θ = {:.4}, ξ = {:.3}, ρ = {:.3}) fitted to all of them with each \
state's v0 = λ × its variance. Fit error: RMS {:.2}, max {:.2} vol points.\n\n\
| quantile of the index's variance | variance | RMS error (vol points) |\n|---|---|---|\n",
        c.variance_premium,
        c.states.len(),
        c.days,
        c.moneyness,
        c.kappa,
        index.map_or(f64::NAN, |a| a.theta),
        index.map_or(f64::NAN, |a| a.xi),
        index.map_or(f64::NAN, |a| a.rho),
        c.rmse_vol_points,
        c.max_error_vol_points,
    );
    for st in &c.states {
        s.push_str(&format!(
            "| {:.2} | {:.5} | {:.2} |\n",
            st.quantile, st.variance, st.rmse_vol_points
        ));
    }
    s.push_str(
        "\nEach asset: θ scaled by its long-run variance over the index's, ξ by \
the square root of that ratio, ρ by its correlation with the index:\n\n\
| asset | long-run variance | correlation with the index | θ | ξ | ρ |\n|---|---|---|---|---|---|\n",
    );
    for a in &c.assets {
        s.push_str(&format!(
            "| {} | {:.4} | {:.3} | {:.4} | {:.3} | {:.3} |\n",
            a.name, a.long_run_variance, a.systematic, a.theta, a.xi, a.rho
        ));
    }
    synthmarket::io::write_atomic(&path, s.as_bytes())
}
