//! A model-free static-arbitrage certifier for option chains.
//!
//! A chain is every option of one (path, date); a slice is one expiry of a
//! chain. For each slice the put–call parity relation `C − P = D·(F − K)`
//! must be affine in the strike: a robust fit over the strikes that have
//! both a call and a put (median of neighbouring slopes, median intercept)
//! infers the discount factor `D` and the forward `F`, and its residuals are
//! parity violations. With `D` and `F`, the
//! checks are (Carr & Madan, "A note on sufficient conditions for no
//! arbitrage", Finance Res. Lett. 2, 2005; Gatheral & Jacquier, "Arbitrage-
//! free SVI volatility surfaces", Quant. Finance 14, 2014, for calendar):
//!
//! * bounds: `max(D(F − K), 0) ≤ C ≤ D·F`, `max(D(K − F), 0) ≤ P ≤ D·K`;
//! * monotonicity: calls non-increasing and puts non-decreasing in strike,
//!   with call spreads `(C(K₁) − C(K₂))/(K₂ − K₁) ≤ D`;
//! * convexity: every butterfly of neighbouring strikes is worth ≥ 0;
//! * calendar: total implied variance `σ²T` is non-decreasing in maturity at
//!   fixed forward moneyness `ln(K/F)` (interpolated linearly in the shorter
//!   slice; only where both slices cover that moneyness).
//!
//! Every check allows a stated tolerance: `ε = tol_price·max(K)` for prices
//! (default 1e-9 relative) and, for total variance, `tol_variance` plus what
//! the price tolerance allows, `2σT·ε/vega` (where a vega is given): far out
//! of the money, where an option is worth 1e-10, its implied volatility is
//! not determined to better than that.

use crate::market::OptionType;
use crate::stats::median;
use serde::Serialize;

/// One option quote of a chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    /// Index of the quote's expiry in its chain (see [`ChainQuotes`]).
    pub expiry: u32,
    /// Years to expiry.
    pub maturity: f64,
    /// Strike.
    pub strike: f64,
    /// Call or put.
    pub option_type: OptionType,
    /// Price.
    pub price: f64,
    /// Implied volatility, NaN if unknown.
    pub implied_vol: f64,
    /// Vega (per 1.00 of vol), NaN if unknown: turns the price tolerance
    /// into a total-variance tolerance for the calendar check.
    pub vega: f64,
}

/// The quotes of one chain as a file gives them, expiries labelled by their
/// text (an ISO date): the reader pushes each quote with its label, then
/// [`ChainQuotes::check`] certifies the chain. Shared by `check-arbitrage`
/// and `validate`.
#[derive(Debug, Clone, Default)]
pub struct ChainQuotes {
    quotes: Vec<Quote>,
    expiries: Vec<String>,
}

impl ChainQuotes {
    /// Adds a quote of expiry `label` (its `expiry` field is set here).
    pub fn push(&mut self, label: &str, quote: Quote) {
        let expiry = match self.expiries.iter().position(|e| e == label) {
            Some(i) => i,
            None => {
                self.expiries.push(label.to_string());
                self.expiries.len() - 1
            }
        } as u32;
        self.quotes.push(Quote { expiry, ..quote });
    }

    /// Number of quotes.
    pub fn len(&self) -> usize {
        self.quotes.len()
    }

    /// Whether the chain has no quote.
    pub fn is_empty(&self) -> bool {
        self.quotes.is_empty()
    }

    /// The label of expiry index `i` (as in a [`Violation`]).
    pub fn label(&self, i: u32) -> &str {
        &self.expiries[i as usize]
    }

    /// The chain's violations ([`check_chain`]).
    pub fn check(&self, tol: Tolerance) -> Vec<Violation> {
        check_chain(&self.quotes, tol)
    }

    /// Empties the chain for the next one.
    pub fn clear(&mut self) {
        self.quotes.clear();
        self.expiries.clear();
    }
}

/// Kinds of violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Price outside its no-arbitrage bounds.
    Bounds,
    /// C − P not affine in K (or an implied discount factor ≤ 0).
    Parity,
    /// Calls increasing or puts decreasing in strike, or a call spread steeper than D.
    Monotonicity,
    /// A negative butterfly.
    Convexity,
    /// Total implied variance decreasing in maturity at fixed moneyness.
    Calendar,
}

/// One violation: where, which strikes, and by how much.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Kind.
    pub kind: Kind,
    /// Expiry (index into the chain's expiry labels, resolved by the caller).
    pub expiry: u32,
    /// A second expiry (calendar checks).
    pub other_expiry: Option<u32>,
    /// Strikes involved.
    pub strikes: Vec<f64>,
    /// Option type involved, if one.
    pub option_type: Option<OptionType>,
    /// Size of the violation, in price (or total-variance) units.
    pub size: f64,
}

/// Tolerances of the certifier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    /// Price tolerance as a fraction of the largest strike of the slice.
    pub price: f64,
    /// Total-variance tolerance.
    pub variance: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            price: 1e-9,
            variance: 1e-9,
        }
    }
}

/// Checks one chain (all quotes of one path and date).
pub fn check_chain(quotes: &[Quote], tol: Tolerance) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut expiries: Vec<(u32, f64)> = quotes.iter().map(|q| (q.expiry, q.maturity)).collect();
    expiries.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    expiries.dedup_by_key(|e| e.0);
    // Per expiry: the total-variance smile by log forward moneyness, with
    // each point's tolerance: (k, w, tolerance, strike).
    type Smile = Vec<(f64, f64, f64, f64)>;
    let mut smiles: Vec<(u32, f64, Smile)> = Vec::new();
    for &(expiry, t) in &expiries {
        let slice: Vec<&Quote> = quotes.iter().filter(|q| q.expiry == expiry).collect();
        let eps = tol.price * slice.iter().map(|q| q.strike).fold(1.0, f64::max);
        let fwd = check_slice(expiry, &slice, tol, &mut out);
        if let Some(f) = fwd {
            let mut smile: Smile = slice
                .iter()
                .filter(|q| q.option_type == OptionType::Call && q.implied_vol.is_finite())
                .map(|q| {
                    let from_price = if q.vega > 0.0 {
                        2.0 * q.implied_vol * t * eps / q.vega
                    } else if q.vega.is_nan() {
                        0.0
                    } else {
                        f64::INFINITY // zero vega: the price says nothing about σ
                    };
                    (
                        (q.strike / f).ln(),
                        q.implied_vol * q.implied_vol * t,
                        tol.variance + from_price,
                        q.strike,
                    )
                })
                .collect();
            smile.sort_by(|a, b| a.0.total_cmp(&b.0));
            smiles.push((expiry, t, smile));
        }
    }
    for pair in smiles.windows(2) {
        let ((e1, t1, s1), (e2, t2, s2)) = (&pair[0], &pair[1]);
        if t2 <= t1 || s1.len() < 2 {
            continue;
        }
        for &(k, w2, tol2, strike) in s2 {
            if let Some((w1, tol1)) = interpolate(s1, k) {
                if w2 < w1 - tol1 - tol2 {
                    out.push(Violation {
                        kind: Kind::Calendar,
                        expiry: *e2,
                        other_expiry: Some(*e1),
                        strikes: vec![strike],
                        option_type: Some(OptionType::Call),
                        size: w1 - w2,
                    });
                }
            }
        }
    }
    out
}

/// Total variance and its tolerance at `k`, linear between neighbours;
/// `None` outside the smile.
fn interpolate(smile: &[(f64, f64, f64, f64)], k: f64) -> Option<(f64, f64)> {
    let i = smile.iter().position(|p| p.0 >= k)?;
    if i == 0 {
        return (smile[0].0 == k).then_some((smile[0].1, smile[0].2));
    }
    let ((x0, y0, t0, _), (x1, y1, t1, _)) = (smile[i - 1], smile[i]);
    let a = (k - x0) / (x1 - x0);
    Some((y0 + (y1 - y0) * a, t0.max(t1)))
}

/// Checks one expiry; returns the parity-implied forward when it exists.
fn check_slice(
    expiry: u32,
    slice: &[&Quote],
    tol: Tolerance,
    out: &mut Vec<Violation>,
) -> Option<f64> {
    let kmax = slice.iter().map(|q| q.strike).fold(0.0, f64::max);
    let eps = tol.price * kmax.max(1.0);
    let mut push = |kind, strikes: Vec<f64>, ty: Option<OptionType>, size: f64| {
        out.push(Violation {
            kind,
            expiry,
            other_expiry: None,
            strikes,
            option_type: ty,
            size,
        })
    };
    let side = |ty: OptionType| {
        let mut v: Vec<(f64, f64)> = slice
            .iter()
            .filter(|q| q.option_type == ty)
            .map(|q| (q.strike, q.price))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let (calls, puts) = (side(OptionType::Call), side(OptionType::Put));
    for &(k, p) in calls.iter().chain(&puts) {
        if p < -eps {
            push(Kind::Bounds, vec![k], None, -p);
        }
    }
    // Parity: y = C − P = D·F − D·K over common strikes.
    let pairs: Vec<(f64, f64)> = calls
        .iter()
        .filter_map(|&(k, c)| puts.iter().find(|p| p.0 == k).map(|&(_, p)| (k, c - p)))
        .collect();
    let mut forward = None;
    let mut discount = None;
    if pairs.len() >= 2 {
        // Robust fit (median of neighbouring slopes, then median intercept):
        // one bad quote shows up as one residual instead of skewing D and F
        // for the whole slice, as least squares would.
        let d = median(
            pairs
                .windows(2)
                .map(|w| -(w[1].1 - w[0].1) / (w[1].0 - w[0].0))
                .collect(),
        );
        let df = median(pairs.iter().map(|&(k, y)| y + d * k).collect()); // = D·F
        if d <= 0.0 {
            push(Kind::Parity, pairs.iter().map(|p| p.0).collect(), None, -d);
        } else {
            for &(k, y) in &pairs {
                let r = y - (df - d * k);
                if r.abs() > eps {
                    push(Kind::Parity, vec![k], None, r.abs());
                }
            }
            forward = Some(df / d);
            discount = Some(d);
        }
    }
    if let (Some(f), Some(d)) = (forward, discount) {
        for &(k, c) in &calls {
            let (lo, hi) = ((d * (f - k)).max(0.0), d * f);
            if c < lo - eps || c > hi + eps {
                push(
                    Kind::Bounds,
                    vec![k],
                    Some(OptionType::Call),
                    (lo - c).max(c - hi),
                );
            }
        }
        for &(k, p) in &puts {
            let (lo, hi) = ((d * (k - f)).max(0.0), d * k);
            if p < lo - eps || p > hi + eps {
                push(
                    Kind::Bounds,
                    vec![k],
                    Some(OptionType::Put),
                    (lo - p).max(p - hi),
                );
            }
        }
    }
    for (ty, v) in [(OptionType::Call, &calls), (OptionType::Put, &puts)] {
        let sign = ty.sign();
        for w in v.windows(2) {
            let ((k1, p1), (k2, p2)) = (w[0], w[1]);
            // Calls fall, puts rise with the strike…
            let wrong = sign * (p2 - p1);
            if wrong > eps {
                push(Kind::Monotonicity, vec![k1, k2], Some(ty), wrong);
            }
            // …by at most D per unit of strike.
            if let Some(d) = discount {
                let steep = sign * (p1 - p2) - d * (k2 - k1);
                if steep > eps {
                    push(Kind::Monotonicity, vec![k1, k2], Some(ty), steep);
                }
            }
        }
        for w in v.windows(3) {
            let ((k1, p1), (k2, p2), (k3, p3)) = (w[0], w[1], w[2]);
            let lambda = (k3 - k2) / (k3 - k1);
            let butterfly = lambda * p1 + (1.0 - lambda) * p3 - p2;
            if butterfly < -eps {
                push(Kind::Convexity, vec![k1, k2, k3], Some(ty), -butterfly);
            }
        }
    }
    forward
}
