//! Pricing a chain from the table ([`TermTable::chain_calls`]): a state's
//! forecasts and predicted quantiles at the maturity knots, each maturity's
//! [`Slice`] (the corrected shapes around its forecasts, scaled and
//! mixed), calendar order across a chain, and the table as the deep
//! model's [`crate::pricing::ChainPricer`].

use super::estimate::atm_log_variance;
use super::shape::{ShapeCorrection, NQ, UPPER_WIDTH_BOUNDS, UPPER_WIDTH_FROM};
use super::TermTable;
use crate::deep::pricing::nested::calendar_ordered;
use crate::deep::pricing::regressors::{dot, regressors};
use crate::error::Result;
use crate::market::{MarketState, TRADING_DAYS_PER_YEAR};
use crate::sim::law_table::bracket;

/// A state's forecasts `ŷ` (ln of the at-the-money implied variance) and
/// predicted shape quantiles at the maturity knots.
struct KnotState {
    forecasts: Vec<f64>,
    /// The shape correction's predicted standardised quantiles (empty
    /// without one).
    quantiles: Vec<[f64; NQ]>,
}

impl TermTable {
    /// A state's regressors and forecasts at maturity knots `0..=last`.
    fn state_at_knots(&self, raw: &[f64], variance: f64, last: usize) -> Result<KnotState> {
        let steps: Vec<usize> = self.info.days[..=last]
            .iter()
            .map(|&d| d as usize)
            .collect();
        let x = regressors(&self.net, raw, variance, &steps)?;
        let quantiles = match &self.shape {
            None => Vec::new(),
            Some(c) => x
                .iter()
                .enumerate()
                .map(|(m, x)| {
                    let net = c.nets.as_ref().map(|n| n[m].eval(x));
                    std::array::from_fn(|j| {
                        dot(&c.coef[m][j], x) + net.as_ref().map_or(0.0, |g| g[j])
                    })
                })
                .collect(),
        };
        Ok(KnotState {
            forecasts: x
                .iter()
                .zip(self.coef.iter().zip(&self.key_nets))
                .map(|(x, (beta, g))| dot(beta, x) + g.eval(x)[0])
                .collect(),
            quantiles,
        })
    }

    /// The last maturity knot a maturity `t` (years) needs.
    fn last_knot(&self, t: f64) -> usize {
        bracket(&self.info.days, t * TRADING_DAYS_PER_YEAR).0 + 1
    }

    /// The law of `S_T/F_T` for maturity `t` (years, at most
    /// [`Self::max_maturity`]) in `state` (its forecasts through the knot
    /// after `t` at least): the mixture of the (at most four) shapes around
    /// the state's forecasts at the two maturity knots around `t`, each
    /// scaled by the forecast at-the-money standard deviation `σ̂(t)√t`
    /// (ln σ̂² linear in days between knots) and renormalised to mean 1.
    /// `cache` holds the shapes already corrected for `state` (by table
    /// index): a chain's expiries share knots (an expiry between two knots
    /// uses both, so a knot serves the expiries on either side of it), and
    /// a knot's groups depend only on the state, so each shape is corrected
    /// once per chain.
    fn slice(&self, state: &KnotState, t: f64, cache: &mut ShapeCache) -> Slice {
        let f = &state.forecasts;
        let (j, wj) = bracket(&self.info.days, t * TRADING_DAYS_PER_YEAR);
        let n_groups = self.keys[0].len();
        let scale = ((1.0 - wj) * f[j] + wj * f[j + 1])
            .mul_add(0.5, 0.5 * t.max(0.0).ln())
            .exp();
        // (table index, knot, weight) of each shape the slice mixes.
        let mut picks: Vec<(usize, usize, f64)> = Vec::with_capacity(4);
        for (m, wm) in [(j, 1.0 - wj), (j + 1, wj)] {
            let (g, wg) = bracket(&self.keys[m], (f[m] / 2.0).exp());
            for (idx, w) in [
                (m * n_groups + g, wm * (1.0 - wg)),
                (m * n_groups + g + 1, wm * wg),
            ] {
                if w > 0.0 {
                    picks.push((idx, m, w));
                }
            }
        }
        // Each corrected shape's place in the cache (appended to only, so
        // the places stay valid while the shapes borrow from it).
        let mut places = Vec::with_capacity(picks.len());
        if let Some(c) = &self.shape {
            for &(idx, m, _) in &picks {
                let place = match cache.iter().position(|e| e.0 == idx) {
                    Some(place) => place,
                    None => {
                        let (y, p) = self.corrected(c, idx, &state.quantiles[m]);
                        cache.push((idx, y, p));
                        cache.len() - 1
                    }
                };
                places.push(place);
            }
        }
        let shapes: Vec<WeightedShape> = picks
            .iter()
            .enumerate()
            .map(|(i, &(idx, _, w))| match places.get(i) {
                Some(&place) => (&cache[place].1[..], &cache[place].2[..], w),
                None => (&self.x[idx][..], &self.p[..], w),
            })
            .collect();
        let at = |a: f64| Slice {
            laws: shapes
                .iter()
                .map(|(y, p, w)| ScaledLaw::new(y, p, a, *w))
                .collect(),
        };
        let first = at(scale);
        // Mixing shapes and renormalising them moves the slice's own
        // at-the-money vol off the forecast; one rescaling step (the
        // at-the-money call is nearly linear in the scale) puts it back.
        // (`atm_log_variance` floors the variance, so its vol is positive.)
        match atm_log_variance(first.call(1.0), t) {
            Ok(lv) if t > 0.0 => at(scale * scale / ((lv / 2.0).exp() * t.sqrt())),
            _ => first,
        }
    }

    /// The shape `idx` moved by the state's `predicted` quantiles at its
    /// knot less the group's reference ([`REFERENCE_BLEND`],
    /// [`REFERENCE_BLEND_LOWER`], [`REFERENCE_BLEND_TOP`]), interpolated in
    /// cumulative probability between [`SHAPE_PROBS`] and held flat below
    /// the first; beyond the last (99.9 %) the blocks' excess over the
    /// shape's own 99.9 % quantile is scaled by the state's predicted 99
    /// %–99.9 % spacing over the reference's ([`UpperTail`]). Returned as
    /// (ascending values, their probabilities).
    ///
    /// [`REFERENCE_BLEND`]: super::shape::REFERENCE_BLEND
    /// [`REFERENCE_BLEND_LOWER`]: super::shape::REFERENCE_BLEND_LOWER
    /// [`REFERENCE_BLEND_TOP`]: super::shape::REFERENCE_BLEND_TOP
    /// [`SHAPE_PROBS`]: super::SHAPE_PROBS
    /// [`UpperTail`]: super::shape::UpperTail
    fn corrected(
        &self,
        c: &ShapeCorrection,
        idx: usize,
        predicted: &[f64; NQ],
    ) -> (Vec<f64>, Vec<f64>) {
        let reference = &c.reference[idx];
        let shift: [f64; NQ] = std::array::from_fn(|j| predicted[j] - reference[j]);
        let top = NQ - 1;
        let width = (predicted[top] - predicted[UPPER_WIDTH_FROM])
            / (reference[top] - reference[UPPER_WIDTH_FROM]);
        // A reference without width (or a non-finite prediction) leaves
        // the tail as shifted; a negative ratio is held at the lower bound.
        let width = if width.is_finite() {
            width.clamp(UPPER_WIDTH_BOUNDS.0, UPPER_WIDTH_BOUNDS.1)
        } else {
            1.0
        };
        let anchor = self.upper.anchor[idx];
        let mut pts: Vec<(f64, f64)> = self.x[idx]
            .iter()
            .zip(&self.p)
            .zip(&self.shift_at)
            .enumerate()
            .map(|(b, ((y, p), &(k, w)))| {
                let moved = if b >= self.upper.from {
                    anchor + shift[top] + (y - anchor) * width
                } else {
                    y + (1.0 - w) * shift[k] + w * shift[k + 1]
                };
                (moved, *p)
            })
            .collect();
        // A law is a set of atoms: reorder them if the shift crossed any.
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts.into_iter().unzip()
    }

    /// Undiscounted call prices per unit forward for a whole chain in one
    /// state: `slices[e] = (maturity in years, strikes in units of that
    /// maturity's forward)`. Each expiry's call function is the running
    /// maximum of its own and those of every shorter expiry of the chain
    /// (calendar order, see the module docs).
    pub fn chain_calls(
        &self,
        raw: &[f64],
        variance: f64,
        slices: &[(f64, Vec<f64>)],
    ) -> Result<Vec<Vec<f64>>> {
        let last = slices
            .iter()
            .map(|(t, _)| self.last_knot(*t))
            .max()
            .unwrap_or(1);
        let state = self.state_at_knots(raw, variance, last)?;
        let mut cache = ShapeCache::new();
        let laws: Vec<Slice> = slices
            .iter()
            .map(|(t, _)| self.slice(&state, *t, &mut cache))
            .collect();
        Ok(calendar_ordered(slices, |e, k| laws[e].call(k)))
    }
}

/// A shape of a slice: its ascending values and their probabilities (the
/// stored ones, or a corrected copy in the chain's [`ShapeCache`]) and its
/// weight in the slice.
type WeightedShape<'a> = (&'a [f64], &'a [f64], f64);

/// Shapes corrected for one state: (table index, ascending values, their
/// probabilities), see [`TermTable::slice`].
type ShapeCache = Vec<(usize, Vec<f64>, Vec<f64>)>;

/// One maturity's law of `S_T/F_T` in one state: a mixture of scaled
/// shapes, each of mean 1.
#[derive(Debug, Clone)]
pub struct Slice {
    laws: Vec<ScaledLaw>,
}

#[derive(Debug, Clone)]
struct ScaledLaw {
    weight: f64,
    /// Ascending values `exp(a·y)/E[exp(a·y)]`.
    x: Vec<f64>,
    /// Suffix sums of p·x and of p.
    sx: Vec<f64>,
    sw: Vec<f64>,
}

impl ScaledLaw {
    fn new(y: &[f64], p: &[f64], a: f64, weight: f64) -> Self {
        let mut x: Vec<f64> = y.iter().map(|y| (a * y).exp()).collect();
        let mean: f64 = x.iter().zip(p).map(|(x, p)| x * p).sum();
        for v in &mut x {
            *v /= mean;
        }
        let n = x.len();
        let (mut sx, mut sw) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        for i in (0..n).rev() {
            sx[i] = sx[i + 1] + p[i] * x[i];
            sw[i] = sw[i + 1] + p[i];
        }
        ScaledLaw { weight, x, sx, sw }
    }
}

impl Slice {
    /// `E[(S_T/F − k)^+]`.
    pub fn call(&self, k: f64) -> f64 {
        self.laws
            .iter()
            .map(|l| {
                let first = l.x.partition_point(|x| *x <= k);
                l.weight * (l.sx[first] - k * l.sw[first])
            })
            .sum()
    }
}

/// Deep-model chains from the table, keyed on the path's feature state;
/// puts by parity.
impl crate::pricing::ChainPricer for TermTable {
    fn chain_prices(
        &self,
        market: &MarketState,
        state: &crate::pricing::PathState<'_>,
        expiries: &[crate::pricing::Expiry],
    ) -> Result<Option<crate::pricing::ChainPrices>> {
        use crate::pricing::chain::{
            chain_from_forward_calls, check_max_maturity, forward_strikes,
        };
        let mut slices = Vec::with_capacity(expiries.len());
        for (_, maturity, strikes) in expiries {
            check_max_maturity(*maturity, self.max_maturity())?;
            slices.push((*maturity, forward_strikes(market, *maturity, strikes)));
        }
        let calls = self.chain_calls(state.features, state.variance, &slices)?;
        Ok(Some(chain_from_forward_calls(market, expiries, &calls)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::shape::{block_middles, law_quantiles};
    use super::*;

    /// The correction of a shape: with the predictions equal to the
    /// reference it leaves every block where it was; with the reference
    /// lowered by 0.1 everywhere (a shift of +0.1) and the predicted 99 %
    /// to 99.9 % spacing 1.5 times the reference's, the blocks below 99.9 %
    /// move by the interpolated shift and those beyond it keep the moved
    /// 99.9 % quantile as their anchor, their excess over the shape's own
    /// 99.9 % quantile scaled by 1.5 (see `shape.rs`).
    #[test]
    fn the_extreme_upper_tail_scales_with_the_predicted_spacing() {
        let table = crate::deep::shipped_pricing().unwrap();
        let c = table.shape.as_ref().unwrap();
        let idx = 3 * table.keys[0].len() + 17;
        let reference = c.reference[idx];
        let same = table.corrected(c, idx, &reference);
        assert_eq!(same.0, table.x[idx]);
        assert_eq!(same.1, table.p);

        let top = NQ - 1;
        let spacing = reference[top] - reference[UPPER_WIDTH_FROM];
        assert!(spacing > 0.0);
        let mut predicted = reference.map(|r| r + 0.1);
        predicted[top] = predicted[UPPER_WIDTH_FROM] + 1.5 * spacing;
        let shift: [f64; NQ] = std::array::from_fn(|j| predicted[j] - reference[j]);
        let (y, p) = table.corrected(c, idx, &predicted);
        assert_eq!(p, table.p);
        let from = table.upper.from;
        // The first tail block is the one whose middle lies past 99.9 %.
        let mids = block_middles(&table.p);
        assert!(mids[from - 1] <= 0.999 && mids[from] > 0.999);
        let anchor = law_quantiles(&table.p, &table.x[idx])[top];
        assert_eq!(anchor, table.upper.anchor[idx]);
        for (b, (&moved, &x)) in y.iter().zip(&table.x[idx]).enumerate() {
            let want = if b < from {
                let (k, w) = table.shift_at[b];
                x + (1.0 - w) * shift[k] + w * shift[k + 1]
            } else {
                anchor + shift[top] + 1.5 * (x - anchor)
            };
            assert!((moved - want).abs() < 1e-12, "block {b}: {moved} vs {want}");
        }
        // A spacing ten times the reference's is held at twice it.
        predicted[top] = predicted[UPPER_WIDTH_FROM] + 10.0 * spacing;
        let (y, _) = table.corrected(c, idx, &predicted);
        let last = table.x[idx].len() - 1;
        let want = anchor + predicted[top] - reference[top] + 2.0 * (table.x[idx][last] - anchor);
        assert!((y[last] - want).abs() < 1e-12, "{} vs {want}", y[last]);
    }
}
