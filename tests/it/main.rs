//! Integration tests. Monte-Carlo tests use fixed seeds and state their
//! tolerance in standard errors; closed forms and reference values cite
//! their source.

mod abuse;
mod arbitrage;
mod architecture;
mod backtest;
mod black;
mod bsm_reference;
mod calibrate_heston;
mod chains;
mod cli;
mod common;
mod deep;
mod facts;
mod fuzz;
mod garch;
mod gbm;
mod hedge;
mod heston;
mod heston_pricing;
mod heston_reference;
mod history;
mod implied_vol;
mod market;
mod market_options;
mod market_start;
mod panel;
mod panel_facts;
mod reproducibility;
mod risk_neutral;
mod same_bytes;
mod scale;
mod scorecard;
mod variance_core;
