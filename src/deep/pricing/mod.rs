//! The deep model's own option pricing: the risk-neutral term table that
//! prices its chains from a path's feature state ([`term_table`]), the small
//! networks and smoother its fit uses ([`key_net`], [`denoise`]), and the
//! exact mode of the daily models, nested Monte Carlo of the generator
//! restarted in each chain's state ([`nested`]).
//!
//! Both implement [`crate::pricing::ChainPricer`], the per-state pricer
//! trait of the generic chain builder.

pub mod denoise;
pub mod key_net;
pub mod nested;
mod regressors;
pub mod term_table;

pub use nested::NestedPricer;
pub use term_table::TermTable;
