//! Heston calibration to an implied-volatility surface.
//!
//! Minimises the sum of squared implied-volatility errors (model minus
//! market) by Levenberg–Marquardt (the `levenberg-marquardt` crate, a port
//! of MINPACK's `lmder`). Bounds are imposed by a smooth change of variables
//! `p = lo + (hi − lo)(1 + tanh z)/2`, the optimiser working on unbounded `z`;
//! the Jacobian is taken by forward differences in `z`. Model prices of one
//! maturity (and market) share one characteristic-function slice.

use super::{implied_vol, HestonModel, HestonSlice};
use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{storage::Owned, DVector, Dyn, OMatrix, OVector, U5};
use serde::Serialize;

/// One market quote: an option, its market and its implied volatility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurfacePoint {
    /// The option (calls and puts give the same implied vol).
    pub spec: OptionSpec,
    /// Spot, rate and dividend for its maturity.
    pub state: MarketState,
    /// Market implied volatility.
    pub vol: f64,
}

/// Parameter bounds, in the order v0, κ, θ, ξ, ρ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HestonBounds {
    /// Lower bounds.
    pub lower: [f64; 5],
    /// Upper bounds.
    pub upper: [f64; 5],
}

impl Default for HestonBounds {
    fn default() -> Self {
        HestonBounds {
            lower: [1e-4, 0.01, 1e-4, 0.01, -0.999],
            upper: [2.0, 20.0, 2.0, 5.0, 0.999],
        }
    }
}

/// The result of a calibration.
#[derive(Debug, Clone, Serialize)]
pub struct HestonFit {
    /// v0, κ, θ, ξ, ρ.
    pub params: [f64; 5],
    /// Root-mean-square implied-vol error, in vol points (1 = 1 %).
    pub rmse_vol_points: f64,
    /// Largest absolute implied-vol error, in vol points.
    pub max_error_vol_points: f64,
    /// Number of quotes.
    pub quotes: usize,
    /// Residual evaluations of the whole surface.
    pub evaluations: usize,
    /// Why the optimiser stopped.
    pub termination: String,
}

impl HestonFit {
    /// The fitted model.
    pub fn model(&self) -> Result<HestonModel> {
        let [v0, kappa, theta, xi, rho] = self.params;
        HestonModel::new(v0, kappa, theta, xi, rho)
    }
}

/// Implied-vol error assigned to a quote whose model price has no implied
/// volatility (it sits on a no-arbitrage bound): one volatility unit.
const NO_IV_PENALTY: f64 = 1.0;

struct Problem<'a> {
    points: &'a [SurfacePoint],
    /// Per point, its known initial variance (a joint fit of several
    /// states, [`calibrate_heston_states`]); `None`: v0 is a parameter.
    fixed_v0: Option<Vec<f64>>,
    /// Points grouped by (maturity, market, fixed v0): indices into `points`.
    groups: Vec<Vec<usize>>,
    bounds: HestonBounds,
    z: OVector<f64, U5>,
    evaluations: std::cell::Cell<usize>,
}

impl Problem<'_> {
    fn to_params(&self, z: &OVector<f64, U5>) -> [f64; 5] {
        std::array::from_fn(|i| {
            let (lo, hi) = (self.bounds.lower[i], self.bounds.upper[i]);
            lo + (hi - lo) * 0.5 * (1.0 + z[i].tanh())
        })
    }

    fn residuals_at(&self, z: &OVector<f64, U5>) -> DVector<f64> {
        self.evaluations.set(self.evaluations.get() + 1);
        let [v0, kappa, theta, xi, rho] = self.to_params(z);
        let mut r = DVector::zeros(self.points.len());
        for group in &self.groups {
            let first = &self.points[group[0]];
            let v0 = self.fixed_v0.as_ref().map_or(v0, |v| v[group[0]]);
            let Ok(model) = HestonModel::new(v0, kappa, theta, xi, rho) else {
                r.fill(NO_IV_PENALTY);
                return r;
            };
            let slice: HestonSlice = model.slice(first.spec.maturity());
            let specs: Vec<OptionSpec> = group.iter().map(|&i| self.points[i].spec).collect();
            for (&i, price) in group.iter().zip(slice.prices(&specs, &first.state)) {
                let p = &self.points[i];
                r[i] = implied_vol(price, &p.spec, &p.state).map_or(NO_IV_PENALTY, |v| v - p.vol);
            }
        }
        r
    }
}

impl LeastSquaresProblem<f64, Dyn, U5> for Problem<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, U5>;
    type ParameterStorage = Owned<f64, U5>;

    fn set_params(&mut self, z: &OVector<f64, U5>) {
        self.z = *z;
    }

    fn params(&self) -> OVector<f64, U5> {
        self.z
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        Some(self.residuals_at(&self.z))
    }

    fn jacobian(&self) -> Option<OMatrix<f64, Dyn, U5>> {
        let base = self.residuals_at(&self.z);
        let mut jac = OMatrix::<f64, Dyn, U5>::zeros(self.points.len());
        // A fixed v0 leaves its column zero: the pivoted QR of MINPACK's
        // step takes a rank-deficient Jacobian, and z[0] never moves.
        let free = if self.fixed_v0.is_some() { 1 } else { 0 };
        for j in free..5 {
            let h = 1e-6 * (1.0 + self.z[j].abs());
            let mut z = self.z;
            z[j] += h;
            let col = (self.residuals_at(&z) - &base) / h;
            jac.set_column(j, &col);
        }
        Some(jac)
    }
}

/// Calibrates Heston to `points` from the starting point `initial`
/// (v0, κ, θ, ξ, ρ), within `bounds`.
pub fn calibrate_heston(
    points: &[SurfacePoint],
    initial: [f64; 5],
    bounds: HestonBounds,
) -> Result<HestonFit> {
    if points.len() < 5 {
        return Err(Error::parameter(
            "surface",
            format!("{} quotes", points.len()),
            "at least 5 quotes are needed to fit 5 parameters",
        ));
    }
    fit(points, None, initial, bounds)
}

/// Calibrates one Heston variance law (κ, θ, ξ, ρ) to the surfaces of
/// several states of one market, each with its known initial variance:
/// `states[s] = (v0, quotes)`. The fit's `params[0]` is the first state's
/// v0. This is how a model whose variance state is observed is fitted: the
/// states pin v0, the surfaces across them pin how prices move with it.
pub fn calibrate_heston_states(
    states: &[(f64, Vec<SurfacePoint>)],
    initial: [f64; 4],
    bounds: HestonBounds,
) -> Result<HestonFit> {
    let (lo, hi) = (bounds.lower[0], bounds.upper[0]);
    let mut v0s = Vec::new();
    let mut points = Vec::new();
    for (v0, quotes) in states {
        if !(v0.is_finite() && *v0 > lo && *v0 < hi) {
            return Err(Error::parameter(
                "v0",
                v0,
                format!("a state's initial variance must lie strictly inside ({lo}, {hi})"),
            ));
        }
        v0s.extend(std::iter::repeat_n(*v0, quotes.len()));
        points.extend_from_slice(quotes);
    }
    if points.len() < 4 {
        return Err(Error::parameter(
            "surface",
            format!("{} quotes", points.len()),
            "at least 4 quotes are needed to fit 4 parameters",
        ));
    }
    let [kappa, theta, xi, rho] = initial;
    let first = v0s[0];
    fit(&points, Some(v0s), [first, kappa, theta, xi, rho], bounds)
}

/// The Levenberg–Marquardt fit of [`calibrate_heston`] and
/// [`calibrate_heston_states`].
fn fit(
    points: &[SurfacePoint],
    fixed_v0: Option<Vec<f64>>,
    initial: [f64; 5],
    bounds: HestonBounds,
) -> Result<HestonFit> {
    for i in 0..5 {
        let (lo, hi, x) = (bounds.lower[i], bounds.upper[i], initial[i]);
        if !(lo < hi && x > lo && x < hi) {
            return Err(Error::parameter(
                ["v0", "kappa", "theta", "xi", "rho"][i],
                x,
                format!("initial value must lie strictly inside its bounds ({lo}, {hi})"),
            ));
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let key = |i: usize| {
        let p = &points[i];
        [
            p.spec.maturity(),
            p.state.spot(),
            p.state.rate(),
            p.state.dividend(),
            fixed_v0.as_ref().map_or(0.0, |v| v[i]),
        ]
        .map(f64::to_bits)
    };
    for i in 0..points.len() {
        match groups.iter_mut().find(|g| key(g[0]) == key(i)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let z0 = OVector::<f64, U5>::from_fn(|i, _| {
        let (lo, hi) = (bounds.lower[i], bounds.upper[i]);
        (2.0 * (initial[i] - lo) / (hi - lo) - 1.0).atanh()
    });
    let problem = Problem {
        points,
        fixed_v0,
        groups,
        bounds,
        z: z0,
        evaluations: std::cell::Cell::new(0),
    };
    let (problem, report) = LevenbergMarquardt::new()
        .with_patience(200)
        .minimize(problem);
    let mut params = problem.to_params(&problem.z);
    if let Some(v) = &problem.fixed_v0 {
        params[0] = v[0];
    }
    let r = problem.residuals_at(&problem.z);
    let n = points.len() as f64;
    Ok(HestonFit {
        params,
        rmse_vol_points: 100.0 * (r.norm_squared() / n).sqrt(),
        max_error_vol_points: 100.0 * r.amax(),
        quotes: points.len(),
        evaluations: problem.evaluations.get(),
        termination: format!("{:?}", report.termination),
    })
}

/// A starting point from the surface itself: v0 from the shortest
/// at-the-money vol, θ from the longest, κ = 1.5, ξ = 0.5, ρ = −0.5.
pub fn initial_guess(points: &[SurfacePoint]) -> [f64; 5] {
    let atm = |p: &&SurfacePoint| {
        (p.spec.strike() / p.state.forward(p.spec.maturity()))
            .ln()
            .abs()
    };
    let by_t = |short: bool| {
        let t = points.iter().map(|p| p.spec.maturity()).fold(
            if short { f64::INFINITY } else { 0.0 },
            |a, b| if short { a.min(b) } else { a.max(b) },
        );
        points
            .iter()
            .filter(|p| p.spec.maturity() == t)
            .min_by(|a, b| atm(a).total_cmp(&atm(b)))
            .map_or(0.04, |p| p.vol * p.vol)
    };
    let clamp = |x: f64| x.clamp(1e-3, 1.0);
    [clamp(by_t(true)), 1.5, clamp(by_t(false)), 0.5, -0.5]
}
