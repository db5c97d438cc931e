use crate::error::{Error, Result};
use serde::Serialize;

/// A uniform time grid `t_k = k·dt`, `k = 0..=steps`, in years.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeGrid {
    steps: usize,
    dt: f64,
}

impl TimeGrid {
    /// A grid of `steps` steps of `dt` years each (`steps ≥ 1`, `dt > 0`).
    pub fn new(steps: usize, dt: f64) -> Result<Self> {
        if steps == 0 {
            return Err(Error::parameter("steps", steps, "must be at least 1"));
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(Error::parameter(
                "dt",
                dt,
                "must be a positive, finite year fraction (1/252 is one trading day)",
            ));
        }
        Ok(TimeGrid { steps, dt })
    }

    /// Number of steps (the grid has `steps + 1` points).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Step length in years.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Time of point `k` in years.
    pub fn time(&self, k: usize) -> f64 {
        k as f64 * self.dt
    }

    /// Horizon `steps·dt` in years.
    pub fn horizon(&self) -> f64 {
        self.time(self.steps)
    }
}
