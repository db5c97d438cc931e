//! Path generators and the driver that runs them.
//!
//! A generator implements one step of one path ([`PathGenerator`]); the
//! [`Driver`] does batching, parallelism and ordered streaming once for all of
//! them. Every generator reports the spot and the instantaneous annualised
//! variance that drove it, so option pricing can condition on that state.

mod driver;
mod garch;
mod gbm;
mod heston;
pub mod law_table;
pub mod risk_neutral;
mod simd;

pub use driver::Driver;
pub(crate) use garch::GARCH_NAME;
pub use garch::{
    filtered_variances, log_likelihood as garch_log_likelihood, Garch, GarchEstimate, GarchParams,
    GarchState,
};
pub(crate) use gbm::check_spot;
pub use gbm::{CorrelatedGbm, CorrelationMatrix, Drift, Gbm, GbmEstimate, GbmParams};
pub use heston::{Heston, HestonParams, HestonScheme};
pub use law_table::{Knot, SurrogateTable};
pub use risk_neutral::{nested_calls, RiskNeutral};

use crate::market::PathChunk;
use crate::rng::{path_rng, PathRng};

/// One model of spot dynamics, advanced one step at a time.
///
/// Implementations are immutable (all per-path mutable data lives in
/// [`PathGenerator::State`]) and draw every random number from the stream they
/// are handed, so a path depends only on the run seed and its index.
pub trait PathGenerator: Sync {
    /// Per-path working state (log-spot, variance, hidden state…).
    type State: Send;

    /// Number of assets per path.
    fn assets(&self) -> usize {
        1
    }

    /// The state at time 0.
    fn initial_state(&self) -> Self::State;

    /// Writes the current spot and instantaneous annualised variance of each
    /// asset into `spot` and `variance` (each of length [`Self::assets`]).
    fn observe(&self, state: &Self::State, spot: &mut [f64], variance: &mut [f64]);

    /// Values of the recursion state beyond the variance that option pricing
    /// needs ([`Self::observe_state`]); 0 (the default) for models whose
    /// variance is their whole pricing state.
    fn state_len(&self) -> usize {
        0
    }

    /// Writes the [`Self::state_len`] state values of `state` into `out`.
    fn observe_state(&self, _state: &Self::State, _out: &mut [f64]) {}

    /// Advances `state` by one grid step, drawing from `rng`.
    fn step(&self, state: &mut Self::State, rng: &mut PathRng);

    /// Simulates every path of `chunk` (global indices
    /// `chunk.first_path()..`) with streams derived from `seed`.
    ///
    /// The provided implementation advances all paths of the chunk in
    /// lockstep, one step at a time: the paths are independent, so the CPU
    /// overlaps their latency chains (a single Heston path is bound by the
    /// latency of its divisions and square roots).
    fn fill_chunk(&self, seed: u64, chunk: &mut PathChunk) {
        fill_chunk_lockstep(self, seed, chunk)
    }
}

/// Pre-drawn normals for the chunked generators: each path's stream fills a
/// block of steps in a tight loop (its state stays in registers), then the
/// block is consumed step by step across paths. Block lengths are tuned so
/// the buffer stays in L1/L2 (measured with `cargo bench`).
///
/// Fills `out[(j·PER + d)·n + p]` (`j < len`, `d < PER`) with `PER` standard
/// normals per step for each path `p` from its own stream, in the stream's
/// natural order (path `p` draws its values for step `j` before those of
/// step `j + 1`).
#[inline(always)]
/// The daily models (GJR-GARCH, the deep generator) step one trading day at
/// a time: `dt` must be 1/252. Called by their generators and, before any
/// output is written, by the run configuration.
pub(crate) fn require_daily(model: &str, dt: f64) -> crate::error::Result<()> {
    if (dt * crate::market::TRADING_DAYS_PER_YEAR - 1.0).abs() > 1e-9 {
        return Err(crate::error::Error::parameter(
            "dt",
            dt,
            format!("{model} is a daily model: dt must be 1/252"),
        ));
    }
    Ok(())
}

pub(crate) fn draw_normal_block<const PER: usize>(
    rngs: &mut [PathRng],
    len: usize,
    out: &mut [f64],
) {
    use rand::Rng;
    let n = rngs.len();
    let out = &mut out[..len * PER * n];
    for (p, rng) in rngs.iter_mut().enumerate() {
        for row in out.chunks_exact_mut(n) {
            row[p] = rng.sample(rand_distr::StandardNormal);
        }
    }
}

/// The provided [`PathGenerator::fill_chunk`]: all paths of the chunk in
/// lockstep through [`PathGenerator::step`].
pub fn fill_chunk_lockstep<G: PathGenerator + ?Sized>(g: &G, seed: u64, chunk: &mut PathChunk) {
    let n = chunk.paths();
    let first = chunk.first_path();
    let mut states: Vec<G::State> = (0..n).map(|_| g.initial_state()).collect();
    let mut rngs: Vec<PathRng> = (0..n).map(|p| path_rng(seed, first + p as u64)).collect();
    let with_state = chunk.state_len() > 0;
    for (p, state) in states.iter().enumerate() {
        let (s, v) = chunk.point_mut(p, 0);
        g.observe(state, s, v);
        if with_state {
            g.observe_state(state, chunk.state_mut(p, 0));
        }
    }
    for k in 1..=chunk.steps() {
        for (p, (state, rng)) in states.iter_mut().zip(rngs.iter_mut()).enumerate() {
            g.step(state, rng);
            let (s, v) = chunk.point_mut(p, k);
            g.observe(state, s, v);
            if with_state {
                g.observe_state(state, chunk.state_mut(p, k));
            }
        }
    }
}
