//! The fast pricer of the deep model's chains: risk-neutral terminal laws
//! keyed, per maturity, on a forecast of the at-the-money vol to that
//! maturity.
//!
//! The deep model's state is ten feature averages, not one variance: two
//! states with the same one-day variance can have one-month at-the-money
//! vols from 0.26 to 0.40 (measured by nested Monte Carlo when this was
//! designed), so a table keyed on the one-day variance alone, like the
//! GJR-GARCH one ([`crate::sim::law_table`]), misses by up to 8 vol points. Here
//! each maturity knot `T` has its own key: the forecast risk-neutral
//! at-the-money vol to `T`, `σ̂_T = exp(ŷ_T/2)` with `ŷ_T = β_T·x + g_T(x)`:
//! `β_T·x` a least-squares regression of `ln σ²_ATM(T)` (the implied
//! variance of the state's nested at-the-money call) on the state's
//! regressors `x` (a constant, the network's ten clamped inputs, ln of the
//! one-day variance and ln of the model's mean-field variance forecast to
//! `T`, the network run forward with each draw replaced by its moments),
//! and `g_T` a small network fitted to its residuals ([`super::key_net`]),
//! both fitted across the table's states by nested Monte Carlo.
//!
//! Why the at-the-money vol and not `ln E^Q[mean variance over T]` (this
//! table's key before): the mean variance includes the paths on which a
//! crisis goes on, and how much of it shows at the money depends on the
//! state's vol of vol. With the mean-variance key, replacing the forecast
//! by the true mean variance (40,000 nested paths) did not make the
//! at-the-money price right: at a 30 %-vol state it moved the error from
//! +0.9 to −1.3 vol points. Keying on the at-the-money vol itself makes
//! the level a single forecast's job. The linear regression's residual at
//! 42 held-out states × 20,000 nested paths is 0.05–0.07 in ln variance
//! (RMS over 21 to 378 days), mostly at the stressed end of the regime; the
//! network on its residuals brings it to 0.03–0.05 (figures in
//! [`super::key_net`]).
//!
//! Fit ([`TermTable::fit`]): [`STATES`] = 3,024 states of the model's own stationary regime
//! (144 at each of 21 quantiles of the one-day variance), each started as a
//! risk-neutral generator with `paths_per_state` nested paths to 378 days
//! ([`DEFAULT_PATHS_PER_STATE`] = 2,500; the designs below were compared
//! at 1,250, see "Nested paths per state" for the change). Each state's
//! at-the-money target is its paths' payoff less a delta hedge along them,
//! a control variate (`hedged_atm_call`); the figures below, up to "What
//! does move it", are of the tables before it (plain targets; "the shipped
//! table" there is the one shipped at the time).
//! For each maturity knot the states are sorted by `ŷ_T` and cut into 21
//! groups of 144. A group's *shape* is the law of its pooled log ratios
//! `ln(S_T/F_T)`, each state's divided by its own forecast `σ̂_T√T` (so
//! pooling states of different width does not fatten the tails), in 256
//! blocks as in the GARCH table; its key is the group's mean forecast vol.
//!
//! Shapes within a group still differ with the state (its leverage and
//! mean-reversion history, not only its forecast level): on the shipped
//! model the upper quantiles of the standardised law vary within a group by
//! about 0.04–0.05 forecast standard deviations beyond sampling noise, a
//! vol point or two on a 1 sd call in a stressed state. So each knot also
//! carries a *shape correction*: a least-squares regression of every
//! state's standardised quantiles at [`SHAPE_PROBS`] (0.1 % to 99.9 %) on
//! its regressors, and a 12-32-32-15 tanh network
//! ([`super::key_net::TanhNet`]) on the regression's residuals, each
//! quantile's residual divided by its RMS so that all weigh alike (L2
//! penalty 1e-3, 2,000 full-batch Adam steps; at and above the median the
//! residuals are first smoothed by a Gaussian process, see "Smoothed upper
//! quantiles" below, below it they are the raw sample quantiles'). A
//! state's shape is its group's shape moved, block by
//! block, by its predicted quantiles less a reference (interpolated in
//! cumulative probability, held flat below 0.1 %; beyond 99.9 % the
//! blocks' excess over that quantile is scaled, see "The extreme upper
//! tail" below), its blocks reordered if the move crossed any. At the
//! median and above the reference is half the group's mean prediction and
//! half the pooled shape's own quantiles (`REFERENCE_BLEND`), at 99.9 %
//! 0.3 and 0.7 (`REFERENCE_BLEND_TOP`); below the median it is the mean
//! prediction alone (`REFERENCE_BLEND_LOWER`, why further down).
//! Measured against the mean prediction alone (this
//! table's reference before): the pooled shape of 144 states is a mixture,
//! and a mixture's extreme quantiles lie beyond the average of its
//! members', so a stressed state's far tails came out too long (the +2 sd
//! calls of the probe's three most stressed states 0.4–1.4 vol points too
//! high, confirmed with 400,000 nested paths). Moving each state *onto* its
//! quantiles instead (the pooled shape's own as the reference) fixes that
//! when the quantiles are right: with each probed state's own nested
//! quantiles (40,000 paths) put in, the probe's ±2 sd errors fell to max
//! 0.66 / RMS 0.15 vol points. With the regression's predicted quantiles
//! it moves each state by its prediction's error: the probe's ±2 sd max
//! fell from 1.48 to 1.08, but along ten paths the share of options within
//! 1 vol point fell from 96.6 % to 94.1 %. The half-and-half blend keeps
//! most of both (figures below; a weight of 0.3 or 0.7 gave probe maxima
//! 1.06 / 0.87 and shares 96.9 % / 95.9 %).
//!
//! Why not below the median: with the blend everywhere, every −2 sd put of
//! the probes came out low (at 12 other fresh states by up to 1.3 vol
//! points in stressed states; along ten paths mean −0.33, RMS 0.67). The
//! likely cause: the predicted quantiles are fitted to each state's raw
//! sample quantiles of 1,250 paths (the count then), and the 0.1 % one of
//! so few draws sits inside the true one, most in the long lower tail (a
//! half-sample estimate put it near the true 0.18 % quantile), so moving a
//! state *onto* its predictions shortens its lower tail. Measured from the
//! mean prediction, that common bias cancels and the tail is the pooled
//! shape's, drawn from 180,000 paths. Adding the half-sample estimate of
//! the bias back to the pooled quantiles instead moved the 8 states' −2 sd
//! puts by only +0.1 vol points (and raised the ±2 sd max to 1.09), so the
//! weight was chosen by measurement. In the short upper tail the mixture's
//! overshoot dominates, so the blend stays there. Weights below the median
//! (from the same nested sample; ±2 sd max / RMS in vol points at the 8
//! states, at 12 other states with seed 99, at 16 with seed 7, then along
//! ten paths the −2 sd puts' RMS / mean error):
//!
//! | weight below the median | 8 states | 12 states | 16 states | ten paths, −2 sd puts |
//! |---|---|---|---|---|
//! | 0.5 (as above the median) | 0.96 / 0.21 | 1.24 / 0.30 | 2.07 / 0.30 | 0.67 / −0.33 |
//! | 0.25 | 0.94 / 0.19 | 1.07 / 0.28 | | 0.60 / −0.17 |
//! | 0.1 | 0.93 / 0.19 | 0.97 / 0.27 | | |
//! | 0 (shipped) | 0.92 / 0.18 | 0.90 / 0.27 | 1.62 / 0.28 | 0.57 / −0.01 |
//!
//! The at-the-money figures do not move (they follow the key).
//!
//! The regression, measured when
//! it was designed (then with quantiles from 1 % to 99 % only), on
//! held-out states of the fit, at 21 days: the RMS error of the 95 %
//! quantile fell from 0.084 to 0.054 standard deviations and of the 99 %
//! from 0.117 to 0.077 (sampling noise of 1,250 paths included). The
//! quantiles beyond 1 % and 99 % were added with the at-the-money key: a
//! 2 sd call sits near the 99.5 % quantile of a stressed state's law, where
//! a shift held flat from the 99 % one left the table's upper tail too fat.
//! Each state's extreme quantiles are noisy (the 99.9 % one of 1,250 paths
//! is near the largest draw); the regression pools the noise of 3,024
//! states (672 when this was written), and where the reference is the
//! mean prediction the correction uses differences of predictions, so
//! their common bias cancels (the pooled half of the blend above the
//! median does not have that protection).
//!
//! Why the network on the quantiles' residuals: with the blended reference
//! the correction's errors are the predictions' own, and the largest were
//! in the tails of stressed states, where the quantiles are not linear in
//! the regressors. Designed in numpy on the held-out set (42 fresh states ×
//! 20,000 nested paths) with the same network fitted to 3,000 states ×
//! 1,800 paths, the RMS errors of the predicted standardised quantiles fell
//! by about half: at 21 days the 1 % quantile's from 0.224 to 0.101, the
//! 99 % quantile's from 0.059 to 0.025 and the 99.9 % quantile's from
//! 0.095 to 0.060 standard deviations (at 63 days 0.247 → 0.108, 0.046 →
//! 0.021, 0.076 → 0.055), as well as or better than a Gaussian process per
//! quantile. On the shipped fit, in sample (so with the targets' sampling
//! noise of 1,250 paths), the residual RMS at 21 days fell from 0.335 to
//! 0.287 (1 %), 0.070 to 0.055 (99 %) and 0.128 to 0.112 (99.9 %). The
//! fit took 1,414 s on 2 cores with 1,250 paths per state, against 1,352 s
//! before the network; the shipped one, with 2,500, took 2,299 s (about
//! 0.7 GB of memory: the measured peak of 1.26 GB held a 0.61 GB
//! experiment buffer besides).
//!
//! The at-the-money key and the wider correction together, fitted with
//! 1,250 nested paths per state (the shipped table's 2,500 are compared
//! below), probed at the
//! same 8 fresh states × 40,000 nested paths with strikes in units of the
//! nested at-the-money vol (see [`probe`]), with the learned key (format
//! 3) fitted on Gaussian-process-smoothed targets of 3,024 states
//! ([`super::denoise`]), the shape correction's network and reference
//! (blended above the median, the mean prediction below), and each slice
//! rescaled to its forecast (below): at the money max 0.22 / RMS 0.09 vol
//! points, across ±2 sd max 0.92 / RMS 0.18; with the blend on both sides
//! of the median 0.23 / 0.09 and 0.96 / 0.21; with
//! the regression alone as the correction 0.26 / 0.09 and 0.96 / 0.32; with
//! the regression alone and the mean prediction as the reference 0.26 /
//! 0.09 and 1.48 / 0.38; the same key
//! fitted on the raw targets of 672 states 0.95 / 0.33 and 1.47 / 0.42;
//! with the
//! learned key not rescaled 0.84 / 0.36 and 1.52 / 0.46; with the linear
//! key alone (format 2) 0.77 / 0.34 and 1.64 / 0.44; the mean-variance key
//! before it 0.80 / 0.31 and 2.70 / 0.57. The 8 states are the ones the
//! designs were compared at, so they flatter the last one: at 12 other
//! fresh states (`fit-pricing --probe-only --seed 99 --probe-states 12`)
//! the 1,250-path table reads 0.51 / 0.23 and 0.90 / 0.27 (0.51 / 0.23 and
//! 0.86 / 0.24 against 160,000 nested paths, so the at-the-money 0.51 is
//! the forecast's own error, not the reference's noise; with the blend on
//! both sides of the median 1.24 / 0.30; with the regression alone as the
//! correction 0.54 / 0.23 and 1.90 / 0.54, and 2.07 / 0.58 with the
//! mean-prediction reference too). At 16 more (`--seed 7 --probe-states
//! 16`) it reads 0.79 / 0.20 and 1.62 / 0.28 (with the blend on both
//! sides 2.07 / 0.30), against 160,000 nested paths 0.83 / 0.21 and 1.34 /
//! 0.27: one
//! stressed state's at-the-money forecast is 0.8 vol points high at 21
//! days, and the most stressed state's −2 sd put at 21 days and +2 sd
//! calls at 63 and 126 days are 1.2–1.3 low, so issue 6's bar is not met
//! at every state.
//! Eight states say little about a forecast whose errors sit in a few
//! stressed ones, so the tables were also compared along ten of the
//! model's own paths against the exact mode ([`super::nested`]; 130
//! chains, 2,101 options within 0.3 sd of the money, 12,806 within ±2 sd):
//!
//! | key (1,250 nested paths per fit state) | at the money: RMS / max / within 0.5 | ±2 sd: RMS / max / within 1 |
//! |---|---|---|
//! | learned on smoothed targets, 3,024 states, quantile network, mean-prediction reference below the median | 0.27 / 1.89 / 94.3 % | 0.34 / 7.24 / 98.6 % |
//! | the same, blended reference on both sides | 0.26 / 1.85 / 94.2 % | 0.35 / 6.64 / 98.3 % |
//! | the same, regression alone in the correction | 0.27 / 2.13 / 94.4 % | 0.44 / 5.84 / 96.6 % |
//! | the same, regression alone, mean-prediction reference | 0.27 / 2.04 / 94.2 % | 0.45 / 6.57 / 96.6 % |
//! | learned, rescaled, 672 states | 0.35 / 2.35 / 86 % | 0.52 / 5.40 / 95.0 % |
//! | learned, not rescaled | 0.40 / 2.28 / 81 % | 0.54 / 5.00 / 94.0 % |
//! | linear (format 2) | 0.53 / 4.53 / 80 % | 0.64 / 9.33 / 92.6 % |
//! | mean variance (format 1) | 0.52 / 3.86 / 82 % | 0.64 / 9.44 / 92.5 % |
//!
//! (vol points). The blended reference moved the −2 sd puts most: their
//! RMS error fell from 0.82 to 0.75 and their mean error from +0.31 to
//! −0.05; the quantile network brought their RMS to 0.67 (mean −0.33) and
//! every other band's to 0.24–0.38; the mean-prediction reference below
//! the median to 0.57 (mean −0.01), the other bands 0.24–0.37. At the
//! money by the chain's vol, the
//! 1,250-path table's RMS is 0.13 below 15 % (every error within 0.5), 0.21
//! at 15–25 %, 0.27 at 25–40 % and 0.68 above 40 % (0.18 / 0.30 / 0.42 /
//! 0.65 for the 672-state table, 1.59 above 40 % for the mean-variance
//! key). The remaining misses are crisis states and the far puts: the
//! largest, 1.89 at the money and 7.2 on a −1.6 sd put, are both at a 120
//! %-vol state (path 8, day 147), beyond the fit's most stressed group.
//!
//! Nested paths per state: 2,500 since this table, 1,250 before. The
//! remaining at-the-money misses were the key's (at the 16 states of seed
//! 7 a stressed state's whole smile sat 0.8 vol points high), and the key
//! learns from each state's at-the-money target, whose Monte-Carlo noise
//! the smoothing removes only on average. Doubling the paths halves that
//! noise's variance. Same seed and code, 1,250 against 2,500 paths, probed
//! against 160,000 nested paths (`--probe-paths 160000`; nested
//! at-the-money standard error about 0.08), max / RMS in vol points:
//!
//! | sample | ATM, 1,250 | ATM, 2,500 | ±2 sd, 1,250 | ±2 sd, 2,500 |
//! |---|---|---|---|---|
//! | the card's 8 states | 0.39 / 0.11 | 0.31 / 0.11 | 1.42 / 0.22 | 1.51 / 0.24 |
//! | 12 states, seed 99 | 0.51 / 0.23 | 0.46 / 0.20 | 0.86 / 0.24 | 1.00 / 0.22 |
//! | 16 states, seed 7 | 0.83 / 0.21 | 0.31 / 0.12 | 1.34 / 0.27 | 1.39 / 0.24 |
//!
//! (These figures, and the ten-path ones below, are before the extreme
//! upper tail was scaled; see further down.) With 2,500 the at-the-money
//! bar is met at every probed state. The ±2 sd maxima are the +2 sd calls
//! of the most stressed state of each sample (1-day vol 0.36–0.37), with
//! errors of either sign (+1.5 at 63 days at the card's states, −1.4 at
//! seed 7), so the wing bar is not met there at either count; the wing RMS
//! fell at the two fresh samples. The card's own probe (40,000 nested
//! paths, where the far calls' nested noise is about half a vol point)
//! reads 0.28 / 0.12 and 1.01 / 0.22, against 0.22 / 0.09 and 0.92 / 0.18
//! with 1,250 paths: at that probe size the 1,250-path figures were partly
//! the nested noise's luck. Along the ten paths against the exact mode (the
//! comparison rerun with a rewritten script, moneyness `ln(K/F)/(σ_ATM√T)`
//! with `σ_ATM` the nested chain's at-the-money vol interpolated in log
//! strike: 2,101 options within 0.3 sd and 12,873 within ±2 sd, where the
//! figures above counted 12,806): at the money RMS 0.25, max 1.64, 95.6 %
//! within 0.5 (1,250 paths: 0.26 / 1.89 / 94.5 %); within ±2 sd RMS 0.29,
//! max 2.72, 98.8 % within 1 (0.30 / 3.80 / 98.9 %). The deep regression
//! test's four states read ATM max 0.16 and wings max 0.92 (0.45 and 1.09).
//! The fit's nested part doubles: about 38 minutes on 2 cores in all
//! instead of 24.
//!
//! With 2,500 paths the predicted quantiles are less noisy, so the blend
//! above the median was measured again (same nested sample): a weight of
//! 0.7 on the pooled quantiles gave ±2 sd max / RMS 1.32 / 0.21, 0.78 /
//! 0.21 and 1.68 / 0.25 at the three samples above (160,000 nested paths),
//! and along the ten paths 0.28 / 2.71 / 98.9 %. It lowers the +2 sd calls
//! of every stressed state: those of the card's and seed 99's most
//! stressed states were too high, but seed 7's were already too low (−1.7
//! at 63 days with 0.7, −1.4 with 0.5). The errors there are the
//! predictions' own, of either sign, so 0.5 was kept (at 99.9 % it is
//! now 0.7, with smoothed predictions: see "Smoothed upper quantiles").
//!
//! The extreme upper tail. In a stressed state the law's upper tail is
//! short: the +2 sd call of the card's most stressed state (1-day vol 0.36,
//! 63 days) has a nested vol of 18.8 % against 31.8 % at the money, so it
//! pays on about 0.03 % of the paths, beyond the last quantile of the
//! correction (99.9 %). The blocks there (the top five, 0.125 % of the law)
//! are the group's pooled tail, and a pooled tail is a mixture's: its
//! extreme blocks come from the members with the longest tails, so a flat
//! shift beyond 99.9 % gives every member the mixture's reach. So the
//! blocks beyond 99.9 % keep the moved 99.9 % quantile as their anchor and
//! their excess over the shape's own 99.9 % quantile is multiplied by the
//! state's predicted 99 %–99.9 % spacing over the reference's
//! (`UPPER_WIDTH_FROM`; bounded to 0.5–2, `UPPER_WIDTH_BOUNDS`). The ratio
//! is below 1 for most states (0.73–1.16 along ten of the model's paths,
//! 0.78–1.17 at the probes' 36 states): the pooled spacing is the wider, as
//! the mixture argument says. It changes only pricing, not the fit. Against
//! 160,000 nested paths, ±2 sd max / RMS in vol points, without → with it:
//! the card's 8 states 1.51 / 0.24 → 1.14 / 0.19 (the +2 sd call above:
//! +1.5 → +1.1); seed 99's 12 states 1.00 / 0.22 → 1.07 / 0.22; seed 7's 16
//! states 1.39 / 0.24 → 1.34 / 0.23; the card's own probe (40,000 nested
//! paths) 1.01 / 0.22 → 0.72 / 0.18. At the money nothing moves. Along the
//! ten paths within ±2 sd the RMS moves from 0.286 to 0.284 and the share
//! within 1 vol point from 98.83 % to 98.87 % (the +2 sd calls' mean error
//! from +0.07 to +0.05); the max (2.72, a −2 sd put) stays. Measuring the
//! spacing from 99.5 % instead of 99 % gave the same probe figures to 0.1
//! vol point. The same scaling of the lower tail below 0.1 % (by the 0.1
//! %–1 % spacing) was tried and not kept: no probed option moved by 0.1,
//! and the ten-path max rose to 2.74.
//!
//! Smoothed upper quantiles. With the tail scaling alone the wing bar was
//! still missed at the most stressed probed states (1-day vol 0.36–0.37),
//! with errors of either sign: at seed 7 a smile flatter than predicted
//! from +1 sd up (−1.0 at +1 sd and −1.3 at +2 sd at 63 days), an error in
//! the predicted 84 %–99.5 % quantiles themselves, and +2 sd calls too
//! high at the card's states (+1.1 at 63 days) and seed 99's (+1.07 at 126
//! days). A dump of the card's state against 160,000 nested paths at 63
//! days showed why the latter: its predicted 99 % and 99.9 % quantiles
//! were the nested ones to 0.01 sd (1.635 / 1.949 against 1.624 / 1.943),
//! but the reference's pooled half put the moved 99.9 % quantile at 2.02
//! sd, and the nested law's tail beyond it is thin (no path beyond 2.5 sd,
//! 0.003 % beyond 2.25), so the table's +2 sd call cost twice the nested
//! one. Two changes together, both measured on the shipped fit's nested
//! sample:
//! * at and above the median (`SMOOTH_FROM`), each quantile's regression
//!   residuals are smoothed by Gaussian-process regression
//!   ([`super::denoise`], as for the key) before the quantile network
//!   learns them, so the network learns what the states share rather than
//!   each state's sampling noise (the process learns a noise sd of 0.017
//!   at the median to 0.079 at 99.9 % at 63 days, against signal sds of
//!   0.044 and 0.099). Below the median the raw residuals stay: smoothing
//!   them too (with network L2 1e-5) put one −2 sd put at seed 99 1.0 vol
//!   point low;
//! * with predictions that good, the 99.9 % quantile's reference leans
//!   further to the pooled shape's own quantile (`REFERENCE_BLEND_TOP`,
//!   0.7; the other quantiles above the median keep 0.5), moving each state
//!   closer *onto* its predicted extreme quantile.
//!
//! Against 160,000 nested paths, ±2 sd max / RMS in vol points at the card's
//! 8 states, seed 99's 12 and seed 7's 16 (ATM unchanged at 0.31 / 0.46 /
//! 0.31 max):
//!
//! | variant | card, 8 | seed 99, 12 | seed 7, 16 |
//! |---|---|---|---|
//! | before (tail scaling only) | 1.14 / 0.19 | 1.07 / 0.22 | 1.34 / 0.23 |
//! | smoothing above the median, top blend 0.5 | 1.23 / 0.19 | 0.85 / 0.22 | 0.69 / 0.21 |
//! | the same, top blend 0.6 | 1.06 / 0.18 | 0.74 / 0.22 | 0.79 / 0.20 |
//! | **the same, top blend 0.7 (shipped)** | **0.89 / 0.17** | **0.63 / 0.22** | **0.89 / 0.20** |
//! | the same, top blend 0.75 | 0.80 / 0.16 | 0.64 / 0.23 | 0.94 / 0.21 |
//! | the same, top blend 1 | 0.61 / 0.18 | 0.97 / 0.27 | 1.21 / 0.23 |
//! | the same, network L2 1e-5 (not 1e-3), top blend 0.7 | 0.85 / 0.16 | 0.97 / 0.23 | 1.23 / 0.24 |
//! | smoothing every quantile (L2 1e-5), top blend 0.75 | 0.73 / 0.15 | 0.98 / 0.24 | 0.92 / 0.22 |
//! | no smoothing, top blend 0.75 | 0.70 / 0.15 | 0.82 / 0.23 | 1.66 / 0.24 |
//!
//! The top blend was chosen on these samples, so they flatter it; without
//! the smoothing it fails at seed 7 (1.66), and with it every weight from
//! 0.6 to 0.75 meets the bar at all 36 states. Five fresh samples probed
//! after the choice (16 states each, seeds 13, 17, 19, 23 and 29) do not
//! all: ATM max 0.76 / 0.47 / 0.72 / 0.53 / 0.44 and ±2 sd max 1.75 / 0.66
//! / 0.98 / 1.72 / 1.15 (the table before the smoothing: ±2 sd 1.44 / 0.87
//! / 1.49 / 1.48 / 1.39); 74 of the 80 states meet both bars. The misses
//! are in the samples' four most stressed states (1-day vols 0.27–0.38),
//! inside the fit's range (its 0.97 and 0.985 levels span 1-day vols
//! 0.36–0.46): the key's at-the-money forecast (−0.6 to +0.7), states whose
//! smile is flat for their vol (+2 sd calls at 63–126 days 1.3–1.8 low),
//! and the most stressed states' far options with errors of either sign
//! (+1.8 on a −2 sd put at 21 days at seed 13, +1.1 before: the network
//! learns all quantiles together, so smoothing the upper targets moved a
//! lower prediction). Separate networks for the two sides were tried and
//! not kept: a network fitted to every quantile's raw residuals for the
//! quantiles below the median (the previous table's network, so measured by
//! pricing with it there) and this one's from the median up read ±2 sd 0.86
//! / 0.16, 0.68 / 0.22 and 0.94 / 0.20 at the three samples above and 1.56
//! / 0.74 / 1.01 / 1.71 / 1.11 at the fresh ones: that put goes back to
//! +1.2, the other samples move up and down by as much. In the synthetic
//! test of the fit (`the_shape_correction_recovers_known_quantiles`) the
//! separate network's 1 % and 5 % quantiles were also a little worse (RMS
//! 0.221 / 0.125 against 0.217 / 0.118).
//!
//! Where the misses are: 13 of the 80
//! fresh states have a feature outside the network's training box (the
//! regressors hold it clamped, as the network does), and the four of them
//! with a 1-day vol above 0.25 all miss (seed 13's two, seed 23's two); of
//! the other 67 states two miss (seed 19's and seed 29's most stressed). So
//! unclamped features as regressors were tried (the same nested sample,
//! only the regressors changed) and not kept: ±2 sd 0.88 / 0.95 / 0.83 at
//! the three samples above and 2.18 / 0.68 / 0.96 / 3.65 / 1.16 at the
//! fresh ones, at the money up to 1.24 (seed 23): the regression and
//! networks extrapolate in the far values, which few fit states reach (541
//! of the 3,024 have a feature at a bound, 108 of the 720 at the five
//! most stressed levels).
//!
//! A bounded measure of how far out a state lies
//! (`tanh` of its features' summed excess over the bounds, as a 14th
//! regressor of the key, the regression and both networks; same nested
//! sample) was not kept either: at the four out-of-box stressed states'
//! 60 options the RMS error went from 0.69 to 0.71 vol points (max 1.80
//! to 2.20), at the other 76 states' from 0.20 to 0.21, and the at-the-money
//! maxima rose (fresh 1.10 / 0.58 / 0.80 / 0.97 / 0.41, the three tuning
//! samples 0.42 / 0.36 / 0.82; ±2 sd 1.71 / 1.04 / 0.98 / 2.23 / 1.21 and
//! 0.93 / 0.93 / 1.36).
//!
//! Four times the nested paths at the five most
//! stressed levels (10,000 at the 720 states of levels 0.9 to 0.995, the
//! same seeds, so each state's first 2,500 paths are the shipped fit's; in a
//! group that mixes levels those states then weigh 4 times in the pooled
//! shape), to cut the at-the-money targets' noise where it is largest, was
//! not shipped: fresh ATM max 0.59 / 0.43 / 0.82 / 0.54 / 0.37 and ±2 sd
//! 1.25 / 0.73 / 0.93 / 1.50 / 1.23 (RMS 0.27 / 0.19 / 0.23 / 0.24 / 0.21;
//! 75 of the 80 states meet both bars), but at the three tuning samples ATM
//! 0.36 / 0.52 / 0.53 and ±2 sd 1.03 / 0.90 / 0.78, so the bars fail where
//! they held; the nested part of such a fit costs 1.7 times the shipped
//! one's. With each state weighing alike in the pooled shapes (the shapes
//! pooled from every state's first 2,500 paths, the 10,000 used for its
//! key and quantile targets only) the figures hardly moved: fresh ATM 0.59
//! / 0.43 / 0.82 / 0.54 / 0.37, ±2 sd 1.24 / 0.69 / 0.96 / 1.49 / 1.23,
//! tuning ATM 0.36 / 0.52 / 0.53, ±2 sd 1.02 / 0.93 / 0.79.
//!
//! A second set of five fresh samples (seeds 31, 37, 41, 43 and 47, drawn
//! after all of the above, 160,000 nested paths) confirms the first: the
//! shipped table reads ATM max 0.64 / 0.97 / 0.53 / 0.42 / 1.00 and ±2 sd
//! max 1.55 at seed 37 and 1.77 at seed 47 (0.82 / 0.73 / 0.64 at the
//! other three); 75 of its 80 states meet both bars (the per-state-weighted
//! 4× variant: also 75, with seed 47's ATM max 1.44). Of all 160 fresh
//! states 149 meet both on rounded figures; 33 have a feature outside the
//! network's box, and 8 of those miss, against 3 of the 127 inside it (all
//! three at the 99.5 % variance level). By unrounded errors 147 meet both,
//! 9 of the 33 and 4 of the 127 miss. Two out-of-box misses are calm
//! states: at seed 31 a 6 %-vol state whose one-month smile is 0.2–0.8
//! low, and at seed 37 a 17 %-vol state whose 63-day smile is 0.8–1.6 high
//! while its 21- and 126-day ones are within 0.3 (each knot's key is
//! fitted on its own).
//!
//! Since the misses follow the box, each out-of-box feature's own signed
//! excess was tried too (`tanh` of the excess over the bound, above
//! positive and below negative, for the four longest averages: four more
//! regressors of the key, the regression and both networks; the same
//! nested sample) and not kept: fresh ATM max 2.29 / 0.55 / 0.69 / 2.25 /
//! 0.40 and ±2 sd 3.32 / 0.84 / 1.08 / 2.44 / 1.08 at the first set, the
//! tuning samples 0.57 / 1.31 / 0.32 and 0.87 / 2.17 / 1.66; of the 160
//! fresh states the out-of-box ones pass at 24 of 33 (shipped 25) and the
//! others at 122 of 127 (124). Like the summed measure, the excess is
//! large where few fit states are, and the fits extrapolate in it.
//!
//! Also not kept (prototypes applied to the shipped table, not rebuilds):
//! moving each knot's key towards the mean of its neighbours' (weight 0.3:
//! first fresh set ATM max 0.73 / 0.50 / 0.77 / 0.67 / 0.40, ±2 sd 1.83 /
//! 0.76 / 1.02 / 1.86 / 1.21; 76 of the second set's 80 states; 0.5
//! worse); re-weighting the references of the most stressed groups (the
//! upper seven or four; pooled-shape weight 0, 0.5 or 1 from the median
//! up, 0 or 0.5 below, 0 to 1 at 99.9 %; tuning samples and first fresh
//! set): the same four states miss at the money (the key's misses) and
//! 5 to 8 in the wings, the maxima trading between samples; and, in numpy
//! on the fit's nested sample,
//! a local law (the pooled standardised samples of the 50 fit states
//! nearest in the regressors, scaled to the state's nested at-the-money
//! vol): ±2 sd errors up to 5 vol points, so the shapes are not a smooth
//! enough function of the regressors to pool by distance, and the global
//! regressions above do better.
//!
//! The references' own error: a second 160,000-path reference at seed 13's
//! 16 states (another nested seed) differs from the first by +0.02 to
//! +0.18 vol points at the money and up to +0.51 on the most stressed
//! states' −2 sd puts, all of one sign, as a probe's states share their
//! nested draws (common random numbers), so a reference's error is common
//! to its sample. One reference's standard error is then about the
//! difference over √2, up to 0.13 at the money and 0.36 in the wings at
//! the most stressed states: small against most misses above, but not
//! nothing against the bars.
//! (Those were the plain references, the payoffs' mean; the stored ones
//! are now control-variate estimates, see "Control-variate references"
//! below.)
//!
//! What limits the key: its data, not its learner. A numpy prototype of
//! the key (the same least-squares forecast, the same Gaussian process as
//! [`super::denoise`], scikit-learn's, hyperparameters from 500 states,
//! and its posterior mean evaluated directly at the probed states instead
//! of a network fitted to it) was compared with the 160 fresh states'
//! 160,000-path at-the-money vols at 21, 63 and 126 days. On the shipped
//! fit's nested sample it misses 0.5 vol points at 9 states (RMS 0.174 vol
//! points; the shipped table, read from the cards to 0.1: 9 states, RMS
//! 0.19), and at nearly the same states as the table: a numpy network on
//! the posterior means misses at 10, an average of five such networks from
//! different seeds at 11, the process given each feature's excess over the
//! box as 8 more inputs at 10, the unclamped features at 9. Fitted on less
//! of the same sample, the misses grow fast: the first or the second 1,250
//! of each state's paths (targets recomputed from them) 19 and 31 states
//! (RMS 0.24 and 0.32), every other state (1,512 × 2,500) 20 and 25 (0.22
//! and 0.30), 1,512 states × 1,250 paths 33 (0.34). Halving the data
//! either way doubles to triples the misses.
//!
//! But more data does not take the remaining misses away. A fit from
//! scratch with twice the paths (`--paths 5000`, the same seed and code;
//! 1 h 37 min on 2 cores, peak memory 1.41 GB) against the same
//! references: the first fresh set ATM max 0.67 / 0.42 / 0.99 / 0.61 /
//! 0.44 and ±2 sd 1.83 / 0.76 / 1.18 / 1.54 / 1.36, the second 0.62 / 0.55
//! / 0.35 / 0.38 / 1.18 and 0.78 / 1.36 / 0.61 / 0.52 / 2.69; 150 of the
//! 160 states meet both bars (shipped 149), 6 miss at the money (8), and
//! they are the same states as the shipped table's (seed 13's two most
//! stressed, seed 19's, seed 23's 0.27-vol one, the calm out-of-box states
//! of seeds 31 and 37, seed 47's 0.26-vol one, now at 1.2 at the money and
//! 2.7 on a +2 sd call), plus one more of seed 37's. The tuning samples got
//! worse: ATM 0.17 / 0.43 / 0.52 and ±2 sd 1.10 / 0.89 / 0.74, so the card's
//! states and seed 7's now miss. Not kept: below 2,500 paths the key's
//! errors are its targets' noise, above it they are systematic at a few
//! states (most outside the network's training box or at the fit's last
//! variance level), the same for every learner tried above.
//!
//! Nor do more states of the same design. A second nested sample of 3,024
//! states × 2,500 paths (`--seed 100000`) with the same numpy key: alone it
//! misses at 10 fresh states (RMS 0.244; the tuning samples' worst 1.23),
//! pooled with the shipped sample (6,048 states) at 7 (RMS 0.160, against
//! 9 and 0.174). Above 30 % one-day vol (28 fresh states) the keys fitted
//! on the two draws differ by 0.48 vol points RMS, the shipped draw's error
//! is 0.27, the second's 0.51, the pooled one's 0.28; below 15 % (85
//! states) they differ by 0.07. So at stressed states the key's error is
//! mostly which states were drawn (the same states miss under each draw, by
//! amounts the draw sets), and the shipped draw is one of the better ones
//! there. The stressed knots' states come from 64 ten-year paths
//! ([`crate::sim::law_table::knots`]), so from the stress episodes those paths
//! happen to hold. Drawing them from 1,024 paths instead (the same rank
//! window per knot, every 16th state of it, so each knot's variance spread
//! is unchanged while its states come from 16 times the episodes; a fit
//! from scratch with the defaults otherwise, 41 min alone on 2 cores, peak
//! 829 MB; branch `knots-1024`) does not help: against the same
//! 160,000-path references, counting unrounded errors, 144 of the 160
//! fresh states meet both bars against the then shipped table's 147 (7
//! at-the-money misses against 9, 14 in the wings against 10), seed 7's
//! tuning sample now misses (ATM 0.59, ±2 sd 1.50), and the mean of the
//! two tables' vols also passes 147. A different draw moves which stressed
//! states miss, not how many.
//!
//! The key alone, with more states and fewer paths each (a numpy study on
//! dumps of the nested targets; each candidate scored at the 196 probed
//! states against the stored 160,000-path references, see
//! [`probe_against`]): 30,240 states × 250 nested paths, the same nested
//! cost as the shipped 3,024 × 2,500, fitted in vol units (the implied vol
//! of a state's mean at-the-money payoff, nearly unbiased where ln
//! variance of so few paths is not) by gradient boosting or a 64-64
//! network on a linear fit's residuals: 47 and 57 of the 160 fresh states
//! miss 0.5 vol points at the money (RMS 0.36 / 0.40), against 9 (RMS
//! 0.19) for the shipped key; pooled with the shipped fit's states
//! (weighted by their paths) 51. A Gaussian process on the shipped fit's
//! own targets, evaluated directly: 6 (RMS 0.17), but a tuning state now
//! misses and seed 47's worst reads 1.39 (1.00). The key's error at these
//! states sits near 0.17–0.19 vol points RMS whichever learner reads the
//! shipped fit's information, and the misses are its tail.
//!
//! What does move it: less noise in each state's target, not more states.
//! A state's at-the-money call from its 2,500 nested paths carries a
//! standard error of about 0.037 in ln implied variance (2 % of the vol;
//! the Gaussian-process smoothing's fitted noise agrees). A delta-hedge
//! control variate, the payoff less `Σ_k N(d₁(X_k, T − t_k, σ̂))·(X_{k+1} −
//! X_k)` along each nested path of `X = S/F` (a martingale under the
//! pricing measure, so the sum has mean zero; `σ̂` the state's plain
//! at-the-money vol, a constant), divides the payoff's standard deviation
//! by 4.5–11 (at 16 states of seed 13, 20,000 paths, 21–126 days; most in
//! the stressed states), as much as 20–120 times the paths. Offline, on the
//! previous fit's own 3,024 states and nested paths at 21, 63 and 126 days,
//! the Gaussian process's fitted noise fell from 0.0015 to 0.0001 in ln
//! variance, and a Gaussian-process key missed 0.5 vol points at the money
//! at 3 of the 160 first fresh states against the plain key's 9.
//!
//! So [`TermTable::fit`] now estimates every state's at-the-money target
//! that way at all 20 knots (it simulates every day to 378 for the hedge;
//! the shapes still come from the plain ratios). The shipped table was
//! refitted from scratch with the defaults (seed 2024, 3,024 × 2,500; 52
//! min on 2 cores shared with other work). Against the stored 160,000-path
//! references, unrounded, passing both bars (previous table in brackets):
//! the 36 tuning states 34 (36), the 160 first fresh states 150 (147;
//! at-the-money misses 4 (9), wing misses 10 (10)), and eight new samples
//! drawn to choose between the two (seeds 53–83, 128 states) 124 (121;
//! at-the-money misses 1 (5), wing misses 3 (2)). The at-the-money RMS is
//! lower in 18 of the 21 samples (equal in one; at the new ones 0.09–0.20
//! vol points, before 0.12–0.24), across ±2 sd in 17. What it costs: the
//! tuning samples' most stressed states (1-day vol 0.37) now miss in the
//! wings at 126 days (−1.03 on seed 99's −2 sd put, −1.27 on seed 7's +2
//! sd call, the latter mostly a level error of −0.46 at the money), and
//! seed 47's worst state got worse (1.43 at the money, 2.28 across ±2 sd,
//! against 1.00 and 1.77). The wings' quantiles have no such control.
//! Prices at fixed strikes do: the same hedge, each strike's own plain
//! implied vol setting its deltas, divides the out-of-the-money payoffs'
//! standard deviation by 3.0–4.5 at −2 sd, 4.1–6.3 at −1 sd, 2.1–6.1 at
//! +1 sd and 1.1–3.4 at +2 sd (seed 13's 16 probe states, 20,000 paths,
//! 21–126 days; with the at-the-money vol's deltas the +2 sd calls get
//! noisier, ratios 0.2–1.7). A shape correction fitted to hedged prices
//! at standardised strikes rather than to sample quantiles would use it;
//! not built.
//!
//! Along the README's ten paths against the exact mode the control-variate
//! table reads at the money RMS 0.22 / max 1.47 / 96.57 % within 0.5 and
//! within ±2 sd RMS 0.257 / max 2.79 / 99.31 % within 1.
//!
//! Control-variate references. [`nested_reference`] (the probe's nested
//! part, and the stored 160,000-path references of the tests) prices each
//! probed option by the same hedge (`hedged_call`, deltas at the option's
//! own plain vol) and returns each vol's standard error: at 160,000 paths
//! medians of 0.007–0.018 vol points at the money and 0.02–0.10 at ±2 sd
//! by variance band, at most 0.47 (a stressed state's +2 sd call at 63
//! days). Recomputed on the same nested draws, the 21 stored samples
//! show the plain references' error (hedged less plain, RMS by variance
//! band): 0.04–0.08 vol points at the money, 0.09–0.21 on −2 sd puts,
//! 0.06–0.23 on +2 sd calls, up to 0.94. Against them the shipped table
//! passes both bars at 34 of the 36 tuning states, 150 of the first 160
//! fresh ones and 126 of the second 128 (at-the-money misses 2 and 2,
//! wing misses 10 and 1; against the plain references 34 / 150 / 124),
//! the previous table at 36, 148 and 122. The card's probe (40,000 paths)
//! reads 0.21 / 0.07 and 0.33 / 0.10 (against the plain prices 0.21 / 0.09
//! and 0.56 / 0.13). The remaining misses stand well clear of the
//! references' noise (the at-the-money ones 24 or more standard errors
//! from them; 7 of the 11 fresh wing misses more than 2 beyond the bar);
//! every one but one is in a state of 1-day variance 0.064 or more. A
//! second fit with another seed (2025: other states, nested draws and
//! network starts) passes 272 of the 288 fresh states alone, and averaged
//! with the shipped table (the vols' mean) 277: at those stressed states
//! the ±2 sd RMS is 0.371, 0.362 and 0.333 vol points, where independent
//! errors would average to 0.26, so about two thirds of the wing error's
//! variance there is common to both fits (correlation 0.65): the design's
//! (regressors, groups, network form), not the fit's sampling noise, which
//! variance-reduced shape targets could remove only a part of (twice the
//! nested paths, in the README's table, left the same states missing).
//!
//! The exact mode's own error ([`exact_mode_vols`]: the plain,
//! martingale-corrected nested estimate that `simulate --chain-pricing
//! nested` prices chains by, at the same states and strikes, on draws
//! independent of the references'): at the 324 stored states, states
//! meeting both bars against the references, fresh (of 288) / tuning (of
//! 36), and the stationary-weighted share of misses (the probe's states
//! spread evenly over variance levels, so stressed ones are
//! over-represented): the table 276 / 34, 2.4 %; the exact mode at its
//! default 10,000 paths per chain 232 / 28 and 250 / 28 (two draws), 12.7
//! % and 6.9 %; at 20,000 paths 276 / 33, 2.3 %. RMS errors from calm to
//! stressed states (1-day variance below 0.016 to 0.064 and above): the
//! table 0.07–0.25 vol points at the money and 0.12–0.37 across ±2 sd, the
//! exact mode 0.12–0.31 and 0.22–0.53 at 10,000 paths, 0.10–0.21 and
//! 0.16–0.38 at 20,000. So the table is as accurate as the exact mode at
//! 20,000 paths per chain (about 1.4 s per chain on 2 cores, the table
//! about half a millisecond), and its remaining misses are of the size of
//! that mode's own Monte-Carlo error. [`probe`] measures the exact mode at
//! its default size beside the table and the model card reports both.
//!
//! The previous table along the ten paths against the
//! exact mode: at the money RMS 0.25 / max 1.48 / 95.53 % within 0.5
//! (before 0.25 / 1.64 / 95.57 %), within ±2 sd RMS 0.284 / max 2.23 /
//! 98.87 % within 1 (0.284 / 2.72 / 98.87 %); the card's own probe (40,000
//! nested paths) reads ±2 sd 0.54 / 0.15 (0.72 / 0.18). The smoothing costs
//! 8 process fits per knot, about 90 s per knot on one core, some 20
//! minutes more per fit on 2 cores: the shipped table was rebuilt from the
//! previous fit's nested sample (the same seed, so the same paths) in 2,235
//! s, an hour or so for a fit from scratch. Also measured: 576 more fit
//! states (144 more at each of the four most stressed variance levels, from
//! a second stationary run; before the tail scaling): ±2 sd 1.49 / 0.23,
//! 0.8 / 0.23, 1.5 / 0.25, no better in all.
//!
//! Rescaling: mixing two groups' shapes and renormalising them to mean 1
//! moves a slice's own at-the-money vol off its forecast (by up to 0.3 vol
//! points in the probe's stressed states), so each slice is priced once,
//! its at-the-money vol read, and its scale multiplied by forecast / own
//! (the at-the-money call is nearly linear in the scale) before it is
//! priced again. It costs one more pass over the slice's blocks: the
//! 1,000-path daily-chain market took 106.6 s on 2 cores against 104.0 s
//! without it.
//!
//! Tried with the learned key and not kept:
//! * regression control variates for the fit's at-the-money targets (the
//!   payoff regressed on functions of the path's standardised draws whose
//!   means are known: their weighted sum `L`, `L² − 1`, `L³ − E L³`, the
//!   weighted squares and the martingale `Σ a_t e_t`): the targets' sd
//!   did not fall (0.052 → 0.048 at best, 24 seeds at three states), as
//!   the payoff's noise comes mostly from the path's realised vol, not
//!   from `|L|`;
//! * an average of five networks from different seeds, and a network
//!   trained on 4,304 states × 1,800 paths instead of the fit's 672 ×
//!   1,250 (a numpy prototype of the same network): held-out RMS within
//!   0.002 of the single network's;
//! * an L2 penalty of 1e-2 instead of 1e-3: the network stays at zero.
//!
//! Tried with the linear at-the-money key and not kept (measured at 16
//! fresh states, the probe's 8 and the regression test's seed, × 40,000
//! nested paths):
//! * interactions of every regressor with ln of the one-day variance (25
//!   regressors): the held-out RMS residual of `ŷ` fell from 0.05–0.07 to
//!   0.04–0.06, but at a 30 %-vol state the at-the-money error rose from
//!   1.0 to 2.4 vol points (the extra terms extrapolate badly at the
//!   stressed end, where the fit has fewest states);
//! * strikes in units of the nested sample's standard deviation of
//!   `ln(S_T/F_T)` instead of its at-the-money vol, as the probe's grid:
//!   the crash tail inflates that standard deviation, so +2 sd calls sit
//!   beyond every nested path in 8 of 48 state-maturities and among the
//!   last few in 4 more, where no vol is resolved.
//!
//! Tried with the mean-variance key and not kept (each fitted and probed at
//! 8 fresh states × 40,000 nested paths, strikes then in units of the
//! table's own forecast; figures are maxima in vol points, at the money /
//! across ±2 sd, against 0.80 / 4.47 for that design):
//! * moving each state's shape *onto* its predicted quantiles instead of by
//!   a difference of predictions: 1.71 / 3.36 — each state's median moves
//!   by its prediction's error;
//! * doing so only above the 90 % or 97.5 % quantile: 0.77 / 4.02, with the
//!   +1 sd calls worse (1.1 against 0.8), as renormalising a thinner upper
//!   tail to mean 1 moves the whole law;
//! * a kernel ridge correction of the variance forecast (Gaussian kernel,
//!   length 3 standardised units, ridge 0.01, on the linear fit's
//!   residuals; held-out residual sd of ln variance 0.07 → 0.04): 0.67 /
//!   5.12 at the probe's states but 1.09 / 4.01 at the regression test's
//!   (against 1.07 / 2.95), and deep chains 28 % slower;
//! * a 22nd group of 32 states at the 99.95 % variance quantile, the
//!   crisis end of the regime: 0.75 / 4.13 at the probe's states (wing RMS
//!   0.68 against 0.62), and along ten of the model's own paths against the
//!   exact mode ([`super::nested`]) the at-the-money RMS in states above
//!   40 % vol fell from 1.59 to 0.76 vol points, but the −2 sd puts' RMS
//!   rose from 1.00 to 1.29 and the share of options within the issue's bar
//!   fell (at the money 81.6 % → 80.2 %, across ±2 sd 92.5 % → 90.3 %).
//!
//! Prices: a chain at maturity `t` mixes the shapes of the two maturity
//! knots around `t`, each at the two keys around the state's own forecast
//! for that knot (weights linear in vol and in days), every shape scaled by
//! the state's forecast standard deviation to `t` and renormalised to mean
//! 1 ([`Slice`]). Each slice is therefore an expectation under one mean-1
//! law: no butterfly, vertical-spread or parity violation. The weights
//! differ between maturities (each has its own key), so calendar order is
//! imposed when a chain is priced: the call function of each expiry is the
//! running maximum, in forward moneyness, of its own and those of the
//! shorter expiries ([`TermTable::chain_calls`]); a maximum of call
//! functions of mean-1 laws is one too.
//!
//! The table is fitted once per model and variance premium and stored beside
//! the model (`pricing.safetensors` with `pricing.json`, written by
//! `synthmarket fit-pricing`); its accuracy against nested Monte Carlo at
//! fresh states is measured by [`probe`] and stated in the model card.

use super::denoise;
use super::key_net::{params, KeyNet, TanhNet, Training, KEY_TRAINING, PARAMS as KEY_PARAMS};
use super::nested::EmpiricalLaw;
use crate::deep::{DeepGenerator, FeatureState, MixtureNet, N_FEATURES};
use crate::error::{Error, Result};
use crate::market::{MarketState, OptionSpec, OptionType, TimeGrid, TRADING_DAYS_PER_YEAR};
use crate::pricing::{implied_vol, BlackScholes};
use crate::sim::law_table::{block_averages, bracket, DAY_KNOTS, KNOT_LEVELS};
use crate::sim::risk_neutral::{terminal_ratios, RiskNeutral};
use crate::sim::PathGenerator;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Stream of the key networks' initial weights (`path_rng(seed ^ this,
/// knot)`), apart from the fit's nested paths.
const KEY_NET_STREAM: u64 = 0x4B45_594E;

/// Stream of the quantile networks' initial weights (`path_rng(seed ^
/// this, knot)`).
const QUANTILE_NET_STREAM: u64 = 0x5155_414E;

/// The quantile networks' training: 2,000 full-batch steps, L2 1e-3 (below
/// the median they fit raw sample quantiles, so the penalty is the key
/// network's on raw targets, not its 1e-5 on smoothed ones; 1e-5 was
/// measured worse, see the module docs).
const QUANTILE_TRAINING: Training = Training {
    epochs: 2000,
    l2: 1e-3,
};

/// Regressors of the variance forecast: a constant, the network's ten
/// clamped features, ln of the one-day variance and ln of the mean-field
/// forecast to the maturity knot
/// ([`crate::deep::MixtureNet::mean_field_variance`]).
pub const REGRESSORS: usize = N_FEATURES + 3;

/// States per group (one law per group and maturity knot).
const GROUP: usize = 144;

/// States drawn per variance quantile for the [`probe`] to pick from: the
/// fit's group size before it grew to [`GROUP`], so the probe's states (and
/// the figures in the model card and tests) stay the ones measured before.
const PROBE_PER_LEVEL: usize = 32;

/// Probabilities at which each state's standardised quantiles are regressed
/// on its regressors, for the shape correction (see the module docs).
pub const SHAPE_PROBS: [f64; NQ] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999,
];

/// Quantiles in the shape correction.
const NQ: usize = 15;

/// Weight of the pooled shape's own quantiles in the reference a state's
/// predicted quantiles are measured from, at the median and above (the
/// rest is the group's mean prediction; see the module docs).
const REFERENCE_BLEND: f64 = 0.5;

/// The same weight below the median, where the reference is the group's
/// mean prediction alone: the predicted lower tail is short (see the
/// module docs).
const REFERENCE_BLEND_LOWER: f64 = 0.0;

/// The same weight at the last quantile (99.9 %), where the smoothed
/// prediction is trusted further (see the module docs, "Smoothed upper
/// quantiles").
const REFERENCE_BLEND_TOP: f64 = 0.7;

/// The quantiles whose regression residuals are smoothed by a Gaussian
/// process ([`denoise::smooth`]) before the quantile network learns them:
/// the median and above (see the module docs, "Smoothed upper quantiles").
const SMOOTH_FROM: f64 = 0.5;

/// States in a fit: `GROUP` (144) at each of the variance quantiles
/// [`KNOT_LEVELS`].
pub const STATES: usize = KNOT_LEVELS.len() * GROUP;

/// Nested paths per state of a fit, unless asked otherwise
/// (`fit-pricing --paths`, and a table fitted on the fly by `simulate`).
/// 2,500 rather than the 1,250 of earlier tables: it halves the variance
/// of the noise in the at-the-money targets the key learns from, and the
/// at-the-money bar is then met at every probed sample (module docs), for
/// a fit of about 38 minutes on 2 cores instead of 24.
pub const DEFAULT_PATHS_PER_STATE: u64 = 2500;

/// Seed of a fit, unless asked otherwise.
pub const DEFAULT_SEED: u64 = 2024;

/// A generator of `net` for nested pricing (daily; its start is replaced by
/// each state's).
fn generator(net: &MixtureNet) -> Result<DeepGenerator> {
    DeepGenerator::new(
        net.clone(),
        None,
        &TimeGrid::new(1, 1.0 / TRADING_DAYS_PER_YEAR)?,
    )
}

/// The `format` of tables this build writes and reads: 3 keys on the
/// at-the-money vol forecast by a regression and a network on its residuals
/// ([`super::key_net`]). Format 2 keyed on the regression alone, and format
/// 1 (no `format` field in `pricing.json`) on the mean variance; their
/// groups were cut by other forecasts, so such tables are refused with a
/// request to refit.
pub const TABLE_FORMAT: u32 = 3;

fn format_1() -> u32 {
    1
}

/// How a table was fitted (`pricing.json`), and what its probe measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermTableInfo {
    /// [`TABLE_FORMAT`] of the table.
    #[serde(default = "format_1")]
    pub format: u32,
    /// λ of the pricing measure.
    pub variance_premium: f64,
    /// Nested paths per state.
    pub paths_per_state: u64,
    /// States in the fit.
    pub states: usize,
    /// Seed of the fit.
    pub seed: u64,
    /// Maturity knots (trading days).
    pub days: Vec<u32>,
    /// Accuracy against nested Monte Carlo at fresh states, if measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSummary>,
}

/// The deep model's pricing table (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct TermTable {
    info: TermTableInfo,
    /// The model (its mean-field forecasts are regressors).
    net: MixtureNet,
    /// Per maturity knot, the regression coefficients.
    coef: Vec<[f64; REGRESSORS]>,
    /// Per maturity knot, the network correcting the regression
    /// ([`super::key_net`]).
    key_nets: Vec<KeyNet>,
    /// Per maturity knot, the ascending keys (forecast vols) of its groups.
    keys: Vec<Vec<f64>>,
    /// Block probabilities (the same for every law).
    p: Vec<f64>,
    /// Shape of (maturity j, group g) at `j·groups + g`: ascending values
    /// of `ln(S_T/F_T) / (σ̂√T)` under `p`.
    x: Vec<Vec<f64>>,
    /// The shape correction, if the table has one: per maturity knot, the
    /// regression of a state's standardised quantiles at [`SHAPE_PROBS`] on
    /// its regressors, and per (knot, group) the reference a state's
    /// predictions are measured from: the blend ([`REFERENCE_BLEND`],
    /// [`REFERENCE_BLEND_LOWER`] below the median, [`REFERENCE_BLEND_TOP`]
    /// at 99.9 %) of the mean prediction
    /// over the group's states and the group's pooled shape's own
    /// quantiles.
    shape: Option<ShapeCorrection>,
    /// Per block of `p`, where its middle (in cumulative probability) lies
    /// among [`SHAPE_PROBS`] (`bracket`'s index and weight): the same for
    /// every shape, so found once, not on every chain.
    shift_at: Vec<(usize, f64)>,
    /// The extreme upper tail ([`UpperTail`]): the first block beyond the
    /// last of [`SHAPE_PROBS`], and each shape's own quantile there.
    upper: UpperTail,
}

/// Where a shape's extreme upper tail starts: blocks `from..` lie beyond
/// the last of [`SHAPE_PROBS`] (99.9 %), and `anchor[idx]` is shape `idx`'s
/// own quantile there. The correction scales those blocks' excess over the
/// anchor by the state's predicted tail width over the reference's
/// ([`TermTable::corrected`]).
#[derive(Debug, Clone, PartialEq)]
struct UpperTail {
    from: usize,
    anchor: Vec<f64>,
}

impl UpperTail {
    fn new(p: &[f64], x: &[Vec<f64>]) -> Self {
        let top = SHAPE_PROBS[NQ - 1];
        UpperTail {
            from: block_middles(p).partition_point(|&mid| mid <= top),
            anchor: x.iter().map(|y| law_quantiles(p, y)[NQ - 1]).collect(),
        }
    }
}

/// The quantile (index in [`SHAPE_PROBS`], 99 %) from which a state's
/// predicted width of the upper tail is measured: the extreme blocks'
/// excess over the 99.9 % quantile is scaled by the state's predicted
/// 99 %–99.9 % spacing over its reference's (see the module docs).
const UPPER_WIDTH_FROM: usize = 12;
const _: () = assert!(SHAPE_PROBS[UPPER_WIDTH_FROM] == 0.99);

/// Bounds of that scaling: a prediction's error can at most halve or
/// double the extreme tail (along ten of the shipped model's paths the
/// ratios lie within 0.73–1.16).
const UPPER_WIDTH_BOUNDS: (f64, f64) = (0.5, 2.0);

/// A state's forecasts `ŷ` (ln of the at-the-money implied variance) and
/// predicted shape quantiles at the maturity knots.
struct KnotState {
    forecasts: Vec<f64>,
    /// The shape correction's predicted standardised quantiles (empty
    /// without one).
    quantiles: Vec<[f64; NQ]>,
}

/// See [`TermTable`]'s `shape` field.
#[derive(Debug, Clone, PartialEq)]
struct ShapeCorrection {
    coef: Vec<[[f64; REGRESSORS]; NQ]>,
    /// Per maturity knot, the network on the regression's residuals
    /// (stored as the tensor `shape_nets`; tables fitted before it have
    /// none, and their references were measured without it).
    nets: Option<Vec<QuantileNet>>,
    /// Per (knot, group); stored as the tensor `shape_means` (its name when
    /// the reference was the mean prediction alone).
    reference: Vec<[f64; NQ]>,
}

/// One knot's correction of the linear quantile predictions: a
/// [`TanhNet`] with one output per quantile of [`SHAPE_PROBS`], fitted to
/// the regression's residuals each divided by its RMS (`unit`), so that
/// every quantile weighs alike in the loss (see the module docs).
#[derive(Debug, Clone, PartialEq)]
struct QuantileNet {
    unit: [f64; NQ],
    net: TanhNet<NQ>,
}

/// Stored values per [`QuantileNet`]: its units, then the network.
const QUANTILE_NET_PARAMS: usize = NQ + params(NQ);

impl QuantileNet {
    /// Fits the network to the residuals `residual` at regressors `x`.
    fn fit(x: &[[f64; REGRESSORS]], residual: &[[f64; NQ]], rng: &mut crate::rng::PathRng) -> Self {
        let n = residual.len().max(1) as f64;
        let unit: [f64; NQ] = std::array::from_fn(|j| {
            (residual.iter().map(|r| r[j] * r[j]).sum::<f64>() / n)
                .sqrt()
                .max(1e-9)
        });
        let scaled: Vec<[f64; NQ]> = residual
            .iter()
            .map(|r| std::array::from_fn(|j| r[j] / unit[j]))
            .collect();
        QuantileNet {
            unit,
            net: TanhNet::fit(x, &scaled, QUANTILE_TRAINING, rng),
        }
    }

    /// The correction of the linear predictions at regressors `x`.
    fn eval(&self, x: &[f64; REGRESSORS]) -> [f64; NQ] {
        let out = self.net.eval(x);
        std::array::from_fn(|j| out[j] * self.unit[j])
    }

    fn to_params(&self) -> Vec<f64> {
        let mut v = self.unit.to_vec();
        v.extend(self.net.to_params());
        v
    }

    /// `None` unless `v` holds [`QUANTILE_NET_PARAMS`] finite values with
    /// positive units and a network ([`TanhNet::from_stored`]).
    fn from_stored(v: &[f64]) -> Option<Self> {
        if v.len() != QUANTILE_NET_PARAMS || v[..NQ].iter().any(|u| !(*u > 0.0 && u.is_finite())) {
            return None;
        }
        Some(QuantileNet {
            unit: v[..NQ].try_into().ok()?,
            net: TanhNet::from_stored(&v[NQ..])?,
        })
    }
}

/// How far [`TermTable::fit`] has got: first the nested sample (states
/// simulated, of [`STATES`]), then the maturity knots' fits (knots done, of
/// [`DAY_KNOTS`]; the longer part, each knot's smoothing and networks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitProgress {
    /// Nested states simulated.
    States(usize),
    /// Maturity knots fitted.
    Knots(usize),
}

/// What [`TermTable::fit`] learns per maturity knot before cutting groups.
struct KnotFit {
    /// The at-the-money forecast's regression and network.
    beta: [f64; REGRESSORS],
    key_net: KeyNet,
    /// Each state's forecast `ŷ`.
    forecasts: Vec<f64>,
    shape: ShapeFit,
}

/// The shape correction at one knot ([`fit_shape_correction`]): the
/// regression and network, and each fit state's predicted quantiles by
/// both.
struct ShapeFit {
    beta: [[f64; REGRESSORS]; NQ],
    net: QuantileNet,
    predicted: Vec<[f64; NQ]>,
}

/// ln of the squared implied vol of `call`, the at-the-money call
/// `E[(S_T/F_T − 1)^+]` of a mean-1 law at maturity `t` (years): the key
/// and scale of the table.
fn atm_log_variance(call: f64, t: f64) -> Result<f64> {
    let spec = OptionSpec::new(OptionType::Call, 1.0, t)?;
    let market = MarketState::new(1.0, 0.0, 0.0)?;
    let vol = implied_vol(call, &spec, &market)
        .map_err(|e| Error::Internal(format!("at-the-money vol of a nested sample: {e}")))?;
    Ok((vol * vol).max(1e-12).ln())
}

/// The at-the-money forward call to `days` trading days estimated from
/// nested paths of `X = S/F` with a delta-hedge control variate
/// ([`hedged_call`] at strike 1).
fn hedged_atm_call(paths: &[Vec<f64>], days: usize, vol: f64) -> f64 {
    hedged_call(paths, days, 1.0, vol).0
}

/// The forward call struck at `k` to `days` trading days estimated from
/// nested paths of `X = S/F` (`paths[p][k]`: path `p`'s ratio after day
/// `k + 1`, at least `days` of them) with a delta-hedge control variate:
/// the mean of `(X_T − k)⁺ − Σ_j N(d₁(X_j/k, T − t_j, vol))·(X_{j+1} − X_j)`,
/// and its standard error (the per-path values' sd over √n). `X` is a
/// martingale under the pricing measure, so the hedge's gains have mean
/// zero and the estimate is unbiased whatever `vol`; they cancel most of
/// the payoff's noise (at the money the standard deviation falls 4.5–11
/// times on the shipped model, at ±2 sd 1.1–4.5 times with each strike's
/// own vol for the deltas; see the module docs). A put's hedged estimate is
/// this less `1 − k` (parity holds path by path, as `X_0 = 1`). Delta
/// hedging as a control variate: Clewlow and Carverhill, "On the
/// simulation of contingent claims", Journal of Derivatives 2(2), 1994.
/// Per-path values are computed in parallel and summed in path order
/// (bit-identical whatever the thread count).
fn hedged_call(paths: &[Vec<f64>], days: usize, k: f64, vol: f64) -> (f64, f64) {
    // The remaining sd `vol·√(T − t_j)` before each day, the same on every
    // path, so found once here rather than per path and day.
    let remaining: Vec<f64> = (0..days)
        .map(|j| vol * ((days - j) as f64 / TRADING_DAYS_PER_YEAR).sqrt())
        .collect();
    let hedged: Vec<f64> = paths
        .par_iter()
        .map(|x| {
            let (mut at, mut gains) = (1.0f64, 0.0);
            // d₁ by hand rather than `BlackScholes::greeks` (all five
            // greeks per call): this loop runs 2,500 paths × up to 378
            // days × 20 knots per fit state.
            for (&next, &sd) in x[..days].iter().zip(&remaining) {
                let d1 = (at / k).ln() / sd + 0.5 * sd;
                gains += crate::pricing::norm_cdf(d1) * (next - at);
                at = next;
            }
            (at - k).max(0.0) - gains
        })
        .collect();
    let n = paths.len() as f64;
    let mean = hedged.iter().sum::<f64>() / n;
    let var = hedged.iter().map(|h| (h - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// The `q` quantile of ascending `z`, linear between order statistics.
fn sample_quantile(z: &[f64], q: f64) -> f64 {
    let at = q * (z.len() - 1) as f64;
    let (i, w) = (at.floor() as usize, at.fract());
    match z.get(i + 1) {
        Some(next) => z[i] + w * (next - z[i]),
        None => z[z.len() - 1],
    }
}

/// The quantiles at [`SHAPE_PROBS`] of a law of ascending block values `y`
/// with probabilities `p`, each block's value placed at its middle
/// cumulative probability and linear between them (as the correction
/// interpolates its shifts, [`shift_weights`]).
fn law_quantiles(p: &[f64], y: &[f64]) -> [f64; NQ] {
    let mids = block_middles(p);
    SHAPE_PROBS.map(|q| {
        let (k, w) = bracket(&mids, q);
        (1.0 - w) * y[k] + w * y[k + 1]
    })
}

/// Per block of `p`, [`bracket`] of its middle cumulative probability in
/// [`SHAPE_PROBS`].
fn shift_weights(p: &[f64]) -> Vec<(usize, f64)> {
    block_middles(p)
        .into_iter()
        .map(|mid| bracket(&SHAPE_PROBS, mid))
        .collect()
}

/// The middle cumulative probability of each block of `p`.
fn block_middles(p: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    p.iter()
        .map(|w| {
            let mid = acc + 0.5 * w;
            acc += w;
            mid
        })
        .collect()
}

/// `y` smoothed by [`denoise::smooth`] at the rows of `x`, its learnt noise
/// and signal sds logged (debug) under `label` (formatted only when debug
/// logging is on): for the key's targets and the upper quantiles' alike.
fn smoothed(
    x: &[[f64; REGRESSORS]],
    y: &[f64],
    label: std::fmt::Arguments<'_>,
) -> Result<Vec<f64>> {
    let (smoothed, hyper) = denoise::smooth(x, y)?;
    tracing::debug!(
        "{label}: residual noise sd {:.3}, signal sd {:.3}",
        hyper.noise.sqrt(),
        hyper.signal.sqrt()
    );
    Ok(smoothed)
}

/// The weight of the pooled shape's own quantile in the reference of
/// quantile `j` ([`REFERENCE_BLEND_LOWER`] below the median,
/// [`REFERENCE_BLEND_TOP`] at the last, [`REFERENCE_BLEND`] between).
fn reference_blend(j: usize) -> f64 {
    if SHAPE_PROBS[j] < 0.5 {
        REFERENCE_BLEND_LOWER
    } else if j == NQ - 1 {
        REFERENCE_BLEND_TOP
    } else {
        REFERENCE_BLEND
    }
}

/// The shape correction at knot `m` (`d` trading days): each state's
/// standardised quantiles (its log ratios `ratios[state][m]` over its
/// forecast `σ̂√T`, from `forecasts`) regressed on its regressors `xm`, a
/// [`QuantileNet`] on the regression's residuals, and each state's
/// predicted quantiles by both.
fn fit_shape_correction(
    xm: &[[f64; REGRESSORS]],
    forecasts: &[f64],
    ratios: &[Vec<Vec<f32>>],
    m: usize,
    d: u32,
    seed: u64,
) -> Result<ShapeFit> {
    let root_t = (f64::from(d) / TRADING_DAYS_PER_YEAR).sqrt();
    let quantiles: Vec<[f64; NQ]> = forecasts
        .iter()
        .zip(ratios)
        .map(|(f, r)| {
            let unit = (f / 2.0).exp() * root_t;
            let mut z: Vec<f64> = r[m].iter().map(|r| f64::from(*r).ln() / unit).collect();
            z.sort_by(f64::total_cmp);
            SHAPE_PROBS.map(|q| sample_quantile(&z, q))
        })
        .collect();
    let mut beta = [[0.0; REGRESSORS]; NQ];
    for (j, b) in beta.iter_mut().enumerate() {
        let zj: Vec<f64> = quantiles.iter().map(|q| q[j]).collect();
        *b = least_squares(xm, &zj)?;
    }
    let linear = |x: &[f64; REGRESSORS]| -> [f64; NQ] { std::array::from_fn(|j| dot(&beta[j], x)) };
    let residual: Vec<[f64; NQ]> = xm
        .iter()
        .zip(&quantiles)
        .map(|(x, q)| {
            let l = linear(x);
            std::array::from_fn(|j| q[j] - l[j])
        })
        .collect();
    // The upper quantiles' residuals are smoothed first: the network then
    // learns what the states share, not each state's sampling noise.
    let mut targets = residual.clone();
    for j in (0..NQ).filter(|&j| SHAPE_PROBS[j] >= SMOOTH_FROM) {
        let column: Vec<f64> = residual.iter().map(|r| r[j]).collect();
        let label = format_args!("{d} days, {} quantile", SHAPE_PROBS[j]);
        for (t, v) in targets.iter_mut().zip(smoothed(xm, &column, label)?) {
            t[j] = v;
        }
    }
    let mut rng = crate::rng::path_rng(seed ^ QUANTILE_NET_STREAM, m as u64);
    let net = QuantileNet::fit(xm, &targets, &mut rng);
    let predicted: Vec<[f64; NQ]> = xm
        .iter()
        .map(|x| {
            let (l, g) = (linear(x), net.eval(x));
            std::array::from_fn(|j| l[j] + g[j])
        })
        .collect();
    if tracing::enabled!(tracing::Level::DEBUG) {
        let rms = |error: &dyn Fn(usize) -> f64| {
            ((0..quantiles.len()).map(|i| error(i).powi(2)).sum::<f64>()
                / quantiles.len().max(1) as f64)
                .sqrt()
        };
        for k in [0, 2, NQ - 3, NQ - 1] {
            tracing::debug!(
                "{d} days, {} quantile: residual RMS {:.3} linear, {:.3} with the network",
                SHAPE_PROBS[k],
                rms(&|i| residual[i][k]),
                rms(&|i| quantiles[i][k] - predicted[i][k]),
            );
        }
    }
    Ok(ShapeFit {
        beta,
        net,
        predicted,
    })
}

impl Serialize for TermTable {
    /// run.json's record: how the table was fitted.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.info.serialize(s)
    }
}

impl TermTable {
    /// Fits the table for `net` under the pricing measure with variance
    /// premium `variance_premium` (the rate and dividend only move the
    /// forward), with `paths_per_state` nested paths from each of the
    /// [`STATES`] states. `progress` is called as the nested states and
    /// then the maturity knots' fits are done ([`FitProgress`]).
    pub fn fit(
        net: &MixtureNet,
        variance_premium: f64,
        paths_per_state: u64,
        seed: u64,
        progress: &(dyn Fn(FitProgress) + Sync),
    ) -> Result<Self> {
        // At least 2 samples in the smallest block (2 %/256) of 32 states'
        // pooled paths: set when groups held 32 states and kept since, so
        // with groups of `GROUP` it is conservative.
        if paths_per_state < 820 {
            return Err(Error::parameter(
                "paths",
                paths_per_state,
                "at least 820 nested paths per state (2 samples in the smallest tail block)",
            ));
        }
        let measure = RiskNeutral::new(0.0, 0.0, variance_premium)?;
        let groups = generator(net)?.surrogate_knots(&measure, seed, GROUP);
        let gens: Vec<&DeepGenerator> = groups.iter().flat_map(|k| &k.generators).collect();
        let net = net.clone();
        let days = DAY_KNOTS.to_vec();
        let day_steps: Vec<usize> = days.iter().map(|&d| d as usize).collect();
        let lambda = variance_premium;
        let (mut s, mut v) = ([0.0], [0.0]);
        let mut raw = [0.0; crate::deep::STATE_LEN];
        // Per state: regressors, ln E[mean variance] per knot, and the
        // corrected ratios per knot (f32: 3,024 states × 2,500 paths × 20
        // knots would be 1.2 GB in f64 and is 600 MB in f32, whose 7 digits
        // are far below the Monte-Carlo error of a block mean).
        let all_days: Vec<usize> = (1..=day_steps.last().copied().unwrap_or(1)).collect();
        let mut xs = Vec::with_capacity(gens.len());
        let mut ys: Vec<Vec<f64>> = Vec::with_capacity(gens.len());
        let mut ratios: Vec<Vec<Vec<f32>>> = Vec::with_capacity(gens.len());
        for (i, g) in gens.iter().enumerate() {
            let state = g.initial_state();
            g.observe(&state, &mut s, &mut v);
            g.observe_state(&state, &mut raw);
            xs.push(regressors(&net, &raw, v[0] / lambda, &day_steps)?);
            // Every day's ratio, for the key's control variate.
            let sample =
                terminal_ratios(*g, seed.wrapping_add(i as u64), paths_per_state, &all_days)?;
            let n = sample.len() as f64;
            let corrected: Vec<Vec<f32>> = day_steps
                .iter()
                .map(|&d| {
                    let mean = sample.iter().map(|r| r[d - 1]).sum::<f64>() / n;
                    sample.iter().map(|r| (r[d - 1] / mean) as f32).collect()
                })
                .collect();
            ys.push(
                corrected
                    .iter()
                    .zip(&day_steps)
                    .map(|(r, &d)| {
                        let t = d as f64 / TRADING_DAYS_PER_YEAR;
                        let plain = r
                            .iter()
                            .map(|x| (f64::from(*x) - 1.0).max(0.0))
                            .sum::<f64>()
                            / r.len() as f64;
                        // The plain estimate's vol sets the control's
                        // deltas (any constant keeps it unbiased).
                        let vol = (atm_log_variance(plain, t)? / 2.0).exp();
                        atm_log_variance(hedged_atm_call(&sample, d, vol), t)
                    })
                    .collect::<Result<_>>()?,
            );
            ratios.push(corrected);
            progress(FitProgress::States(i + 1));
        }
        tracing::debug!(
            "nested sample done ({} states); fitting the {} maturity knots",
            gens.len(),
            days.len()
        );
        progress(FitProgress::Knots(0));
        let knots_done = AtomicUsize::new(0);
        let n_groups = gens.len() / GROUP;
        // Per knot, the states' regressors and targets.
        let per_knot: Vec<(Vec<[f64; REGRESSORS]>, Vec<f64>)> = (0..days.len())
            .map(|m| {
                (
                    xs.iter().map(|x| x[m]).collect(),
                    ys.iter().map(|y| y[m]).collect(),
                )
            })
            .collect();
        // Per knot, the linear forecast and the network on its residuals,
        // then the shape correction's regression and network (knots in
        // parallel; each network trains on one thread, so the fit does not
        // depend on the thread count).
        let fits: Vec<KnotFit> = per_knot
            .par_iter()
            .zip(&days)
            .enumerate()
            .map(|(m, ((xm, y), &d))| {
                let beta = least_squares(xm, y)?;
                let residual: Vec<f64> = xm.iter().zip(y).map(|(x, y)| y - dot(&beta, x)).collect();
                let smoothed: Vec<[f64; 1]> = smoothed(xm, &residual, format_args!("knot {m}"))?
                    .into_iter()
                    .map(|r| [r])
                    .collect();
                let mut rng = crate::rng::path_rng(seed ^ KEY_NET_STREAM, m as u64);
                let key_net = KeyNet::fit(xm, &smoothed, KEY_TRAINING, &mut rng);
                let forecasts: Vec<f64> = xm
                    .iter()
                    .map(|x| dot(&beta, x) + key_net.eval(x)[0])
                    .collect();
                let resid = (forecasts
                    .iter()
                    .zip(y)
                    .map(|(f, y)| (y - f).powi(2))
                    .sum::<f64>()
                    / y.len() as f64)
                    .sqrt();
                tracing::debug!(
                    "at-the-money forecast at {d} days: residual sd {resid:.3} in ln implied variance"
                );
                let shape = fit_shape_correction(xm, &forecasts, &ratios, m, d, seed)?;
                progress(FitProgress::Knots(knots_done.fetch_add(1, Ordering::Relaxed) + 1));
                Ok(KnotFit {
                    beta,
                    key_net,
                    forecasts,
                    shape,
                })
            })
            .collect::<Result<_>>()?;
        let mut coef = Vec::with_capacity(days.len());
        let mut key_nets = Vec::with_capacity(days.len());
        let mut keys = Vec::with_capacity(days.len());
        let mut x = Vec::with_capacity(days.len() * n_groups);
        let mut p = Vec::new();
        let mut shape_coef = Vec::with_capacity(days.len());
        let mut shape_nets = Vec::with_capacity(days.len());
        let mut shape_reference = Vec::with_capacity(days.len() * n_groups);
        for (m, (&d, fit)) in days.iter().zip(fits).enumerate() {
            let mut order: Vec<(f64, usize)> = fit
                .forecasts
                .iter()
                .enumerate()
                .map(|(i, f)| (*f, i))
                .collect();
            order.sort_by(|a, b| a.0.total_cmp(&b.0));
            let root_t = (f64::from(d) / TRADING_DAYS_PER_YEAR).sqrt();
            let mut key = Vec::with_capacity(n_groups);
            for g in 0..n_groups {
                let members = &order[g * GROUP..(g + 1) * GROUP];
                key.push((members.iter().map(|(f, _)| f).sum::<f64>() / GROUP as f64 / 2.0).exp());
                let mean_prediction: [f64; NQ] = std::array::from_fn(|j| {
                    members
                        .iter()
                        .map(|&(_, i)| fit.shape.predicted[i][j])
                        .sum::<f64>()
                        / GROUP as f64
                });

                // Each state's log ratios in units of its own forecast
                // standard deviation σ̂√T: the pooled law is the group's
                // shape, not a mixture of its members' different widths.
                let mut pool: Vec<f64> = members
                    .iter()
                    .flat_map(|&(f, i)| {
                        let unit = (f / 2.0).exp() * root_t;
                        ratios[i][m].iter().map(move |r| f64::from(*r).ln() / unit)
                    })
                    .collect();
                let (w, means) = block_averages(&mut pool);
                // The correction moves a state's shape by its predicted
                // quantiles less this reference: a blend of the mean
                // prediction over the group's states and the pooled shape's
                // own quantiles (see the module docs for why the weights).
                let pooled = law_quantiles(&w, &means);
                shape_reference.push(std::array::from_fn(|j| {
                    let blend = reference_blend(j);
                    blend * pooled[j] + (1.0 - blend) * mean_prediction[j]
                }));
                p = w;
                x.push(means);
            }
            if key.windows(2).any(|k| k[0] >= k[1]) {
                return Err(Error::Internal(format!(
                    "pricing table keys must increase at {d} days: {key:?}"
                )));
            }
            coef.push(fit.beta);
            key_nets.push(fit.key_net);
            keys.push(key);
            shape_coef.push(fit.shape.beta);
            shape_nets.push(fit.shape.net);
        }
        Ok(TermTable {
            info: TermTableInfo {
                format: TABLE_FORMAT,
                variance_premium: lambda,
                paths_per_state,
                states: gens.len(),
                seed,
                days,
                probe: None,
            },
            net,
            coef,
            key_nets,
            keys,
            shift_at: shift_weights(&p),
            upper: UpperTail::new(&p, &x),
            p,
            x,
            shape: Some(ShapeCorrection {
                coef: shape_coef,
                nets: Some(shape_nets),
                reference: shape_reference,
            }),
        })
    }

    /// How the table was fitted.
    pub fn info(&self) -> &TermTableInfo {
        &self.info
    }

    /// λ of the pricing measure the laws are under.
    pub fn variance_premium(&self) -> f64 {
        self.info.variance_premium
    }

    /// Records the probe's summary (stored in `pricing.json`).
    pub fn set_probe(&mut self, probe: ProbeSummary) {
        self.info.probe = Some(probe);
    }

    /// Longest maturity the table prices, in years.
    pub fn max_maturity(&self) -> f64 {
        f64::from(*self.info.days.last().unwrap_or(&0)) / TRADING_DAYS_PER_YEAR
    }

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

    /// Writes `pricing.safetensors` and `pricing.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        use candle_core::{Device, Tensor};
        let cpu = &Device::Cpu;
        let (nm, ng, nb) = (self.keys.len(), self.keys[0].len(), self.p.len());
        let t = |v: Vec<f64>, shape: &[usize]| {
            Tensor::from_vec(v, shape, cpu)
                .map_err(|e| Error::Internal(format!("table tensor: {e}")))
        };
        let mut tensors = std::collections::HashMap::from([
            (
                "coef".to_string(),
                t(
                    self.coef.iter().flatten().copied().collect(),
                    &[nm, REGRESSORS],
                )?,
            ),
            (
                "key_nets".to_string(),
                t(
                    self.key_nets.iter().flat_map(KeyNet::to_params).collect(),
                    &[nm, KEY_PARAMS],
                )?,
            ),
            ("keys".to_string(), t(self.keys.concat(), &[nm, ng])?),
            ("p".to_string(), t(self.p.clone(), &[nb])?),
            ("x".to_string(), t(self.x.concat(), &[nm, ng, nb])?),
        ]);
        if let Some(c) = &self.shape {
            let nq = SHAPE_PROBS.len();
            tensors.insert(
                "shape_coef".to_string(),
                t(
                    c.coef.iter().flatten().flatten().copied().collect(),
                    &[nm, nq, REGRESSORS],
                )?,
            );
            if let Some(nets) = &c.nets {
                tensors.insert(
                    "shape_nets".to_string(),
                    t(
                        nets.iter().flat_map(QuantileNet::to_params).collect(),
                        &[nm, QUANTILE_NET_PARAMS],
                    )?,
                );
            }
            tensors.insert(
                "shape_means".to_string(),
                t(
                    c.reference.iter().flatten().copied().collect(),
                    &[nm, ng, nq],
                )?,
            );
        }
        crate::io::write_safetensors(dir.join("pricing.safetensors"), &tensors)?;
        let mut json = serde_json::to_vec_pretty(&self.info)
            .map_err(|e| Error::Internal(format!("serialising pricing.json: {e}")))?;
        json.push(b'\n');
        crate::io::write_atomic(dir.join("pricing.json"), &json)
    }

    /// Reads a table written by [`Self::save`] (`name` names the source in
    /// errors). Every law is renormalised to mean 1 and checked.
    /// `net` is the model the table was fitted for.
    pub fn from_bytes(json: &[u8], tensors: &[u8], name: &str, net: MixtureNet) -> Result<Self> {
        let bad = |why: String| Error::parameter("pricing table", name, why);
        let info: TermTableInfo =
            serde_json::from_slice(json).map_err(|e| bad(format!("pricing.json: {e}")))?;
        if info.format != TABLE_FORMAT {
            return Err(bad(format!(
                "pricing.json is format {}, written by an older synthmarket (this one reads format {TABLE_FORMAT}, keyed on a learned at-the-money vol forecast); refit it with `synthmarket fit-pricing`",
                info.format
            )));
        }
        let map = candle_core::safetensors::load_buffer(tensors, &candle_core::Device::Cpu)
            .map_err(|e| bad(format!("pricing.safetensors: {e}")))?;
        let get = |k: &str| -> Result<(Vec<usize>, Vec<f64>)> {
            let t = map
                .get(k)
                .ok_or_else(|| bad(format!("pricing.safetensors has no tensor `{k}`")))?;
            let v = t
                .flatten_all()
                .and_then(|t| t.to_vec1::<f64>())
                .map_err(|e| bad(format!("tensor `{k}`: {e}")))?;
            Ok((t.dims().to_vec(), v))
        };
        let (cs, coef) = get("coef")?;
        let (ks, keys) = get("keys")?;
        let (_, p) = get("p")?;
        let (xs, x) = get("x")?;
        let (kd, kn) = get("key_nets")?;
        let (nm, ng, nb) = (info.days.len(), ks.get(1).copied().unwrap_or(0), p.len());
        let key_nets: Option<Vec<KeyNet>> =
            kn.chunks(KEY_PARAMS).map(KeyNet::from_stored).collect();
        if cs != [nm, REGRESSORS]
            || kd != [nm, KEY_PARAMS]
            || key_nets.is_none()
            || ks != [nm, ng]
            || xs != [nm, ng, nb]
            || ng < 2
            || [&coef, &keys, &p, &x]
                .iter()
                .any(|v| v.iter().any(|x| !x.is_finite()))
            || p.iter().any(|p| *p < 0.0)
            || keys.chunks(ng).any(|k| k.windows(2).any(|w| w[0] >= w[1]))
            || info.days.windows(2).any(|d| d[0] >= d[1])
        {
            return Err(bad(
                "shapes or values do not form a table (refit it with `synthmarket fit-pricing`)"
                    .into(),
            ));
        }
        // The shape correction (a table without its tensors prices with the
        // groups' shapes alone).
        let nq = SHAPE_PROBS.len();
        let shape = match (
            map.contains_key("shape_coef"),
            map.contains_key("shape_means"),
        ) {
            (false, false) => None,
            _ => {
                let (cd, c) = get("shape_coef")?;
                let (md, m) = get("shape_means")?;
                if cd != [nm, nq, REGRESSORS]
                    || md != [nm, ng, nq]
                    || c.iter().chain(&m).any(|v| !v.is_finite())
                {
                    return Err(bad(
                        "the shape correction's tensors do not fit the table (refit it with `synthmarket fit-pricing`)"
                            .into(),
                    ));
                }
                let nets = match map.contains_key("shape_nets") {
                    false => None,
                    true => {
                        let (nd, n) = get("shape_nets")?;
                        let nets: Option<Vec<QuantileNet>> = n
                            .chunks(QUANTILE_NET_PARAMS)
                            .map(QuantileNet::from_stored)
                            .collect();
                        match nets {
                            Some(nets) if nd == [nm, QUANTILE_NET_PARAMS] => Some(nets),
                            _ => {
                                return Err(bad(
                                    "the shape correction's networks do not fit the table (refit it with `synthmarket fit-pricing`)"
                                        .into(),
                                ))
                            }
                        }
                    }
                };
                Some(ShapeCorrection {
                    nets,
                    coef: c
                        .chunks(nq * REGRESSORS)
                        .map(|k| {
                            std::array::from_fn(|j| {
                                k[j * REGRESSORS..(j + 1) * REGRESSORS]
                                    .try_into()
                                    .expect("chunks of REGRESSORS")
                            })
                        })
                        .collect(),
                    reference: m
                        .chunks(nq)
                        .map(|k| k.try_into().expect("chunks of SHAPE_PROBS"))
                        .collect(),
                })
            }
        };
        // Kept as stored (not renormalised), so saving a loaded table
        // writes the same bytes.
        let total: f64 = p.iter().sum();
        if (total - 1.0).abs() > 1e-9 || p.iter().any(|q| *q <= 0.0) {
            return Err(bad(format!(
                "the block probabilities must be positive and sum to 1 (sum {total})"
            )));
        }
        let x: Vec<Vec<f64>> = x.chunks(nb).map(<[f64]>::to_vec).collect();
        if x.iter().any(|l| l.windows(2).any(|w| w[0] > w[1])) {
            return Err(bad("a law's values are not ascending".into()));
        }
        Ok(TermTable {
            info,
            net,
            coef: coef
                .chunks(REGRESSORS)
                .map(|c| c.try_into().expect("chunks of REGRESSORS"))
                .collect(),
            key_nets: key_nets.unwrap_or_default(),
            keys: keys.chunks(ng).map(<[f64]>::to_vec).collect(),
            shift_at: shift_weights(&p),
            upper: UpperTail::new(&p, &x),
            p,
            x,
            shape,
        })
    }

    /// Reads `pricing.json` and `pricing.safetensors` from `dir`; `None`
    /// when the model has no table.
    pub fn load(dir: &Path, net: &MixtureNet) -> Result<Option<Self>> {
        let (j, t) = (dir.join("pricing.json"), dir.join("pricing.safetensors"));
        if !j.exists() && !t.exists() {
            return Ok(None);
        }
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| Error::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        Self::from_bytes(
            &read(&j)?,
            &read(&t)?,
            &dir.display().to_string(),
            net.clone(),
        )
        .map(Some)
    }
}

/// Undiscounted forward calls of a chain in calendar order: for
/// `slices[e] = (maturity, strikes in units of its forward)`, each expiry's
/// call function is the running maximum of its own, `call(e, k)`, and
/// those of every expiry of no longer maturity. A maximum of call
/// functions of mean-1 laws is one too, so each slice stays arbitrage-free
/// and no calendar spread is negative (used by this table and by the
/// nested mode, [`super::nested`]).
pub(super) fn calendar_ordered<T: PartialOrd>(
    slices: &[(T, Vec<f64>)],
    call: impl Fn(usize, f64) -> f64,
) -> Vec<Vec<f64>> {
    slices
        .iter()
        .map(|(t, ks)| {
            ks.iter()
                .map(|&k| {
                    slices
                        .iter()
                        .enumerate()
                        .filter(|(_, (u, _))| u <= t)
                        .map(|(e, _)| call(e, k))
                        .fold(0.0, f64::max)
                })
                .collect()
        })
        .collect()
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

/// The regressors of a state at each maturity of `days`: 1, the ten
/// network inputs (clamped as the network clamps them) and ln of the
/// one-day variance, the same for every maturity, then ln of the mean-field
/// forecast to that maturity. The state is parsed and its features computed
/// once.
fn regressors(
    net: &MixtureNet,
    raw: &[f64],
    variance: f64,
    days: &[usize],
) -> Result<Vec<[f64; REGRESSORS]>> {
    let state = FeatureState::from_slice(raw).ok_or_else(|| {
        Error::Internal(format!(
            "deep pricing needs the model's {} state values, got {raw:?}",
            crate::deep::STATE_LEN
        ))
    })?;
    let mut f = [0.0; N_FEATURES];
    state.features(&mut f);
    let mut base = [0.0; REGRESSORS];
    base[0] = 1.0;
    for (i, (v, [lo, hi])) in f.iter().zip(&net.config().feature_bounds).enumerate() {
        base[i + 1] = v.clamp(*lo, *hi);
    }
    base[N_FEATURES + 1] = variance.max(1e-12).ln();
    Ok(net
        .mean_field_variance(&state, days)
        .into_iter()
        .map(|mf| {
            let mut x = base;
            x[N_FEATURES + 2] = mf.max(1e-300).ln();
            x
        })
        .collect())
}

fn dot(a: &[f64; REGRESSORS], b: &[f64; REGRESSORS]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Least squares by SVD (the feature averages are strongly collinear; the
/// pseudo-inverse keeps the fit stable).
fn least_squares(x: &[[f64; REGRESSORS]], y: &[f64]) -> Result<[f64; REGRESSORS]> {
    let a = nalgebra::DMatrix::from_fn(x.len(), REGRESSORS, |i, j| x[i][j]);
    let b = nalgebra::DVector::from_column_slice(y);
    let beta = a
        .svd(true, true)
        .solve(&b, 1e-10)
        .map_err(|e| Error::Internal(format!("variance forecast regression: {e}")))?;
    let mut out = [0.0; REGRESSORS];
    out.copy_from_slice(beta.as_slice());
    Ok(out)
}

/// The table's accuracy against nested Monte Carlo at fresh states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeSummary {
    /// States probed (from a stationary run with another seed).
    pub states: usize,
    /// Nested paths per state.
    pub paths: u64,
    /// Maturities probed (trading days).
    pub days: Vec<u32>,
    /// Largest |table − nested| implied-vol error at the money (vol points,
    /// i.e. percent).
    pub atm_max: f64,
    /// RMS at-the-money error (vol points).
    pub atm_rms: f64,
    /// Largest error across ±2 standard deviations of moneyness (in units
    /// of the nested at-the-money vol).
    pub wing_max: f64,
    /// RMS error across ±2 standard deviations.
    pub wing_rms: f64,
    /// Standard error of a nested at-the-money vol (vol points), the noise
    /// floor of the comparison.
    pub atm_se: f64,
    /// Options left out because no nested path finished beyond the strike
    /// (far upside calls of stressed states): their vol is not resolved.
    #[serde(default)]
    pub unresolved: usize,
    /// The exact mode's own error against the same references at the same
    /// options, at its default sample size (absent from probes stored
    /// before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<ExactModeError>,
}

/// How far the exact mode (`simulate --chain-pricing nested`) is from the
/// probe's references ([`exact_mode_vols`]), in vol points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactModeError {
    /// Nested paths per chain.
    pub paths: u64,
    /// Largest at-the-money error.
    pub atm_max: f64,
    /// RMS at-the-money error.
    pub atm_rms: f64,
    /// Largest error across ±2 standard deviations.
    pub wing_max: f64,
    /// RMS error across ±2 standard deviations.
    pub wing_rms: f64,
}

/// One probed option: state, maturity (days), moneyness in forecast
/// standard deviations, table and nested implied vols.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbePoint {
    /// Index of the state.
    pub state: usize,
    /// Its one-day real-world variance.
    pub variance: f64,
    /// Maturity in trading days.
    pub days: u32,
    /// ln(K/F) in units of the nested sample's at-the-money vol times √T.
    pub sd: f64,
    /// Table implied vol.
    pub table: f64,
    /// Nested Monte-Carlo implied vol.
    pub nested: f64,
    /// Its standard error (in vol; 0 where `nested` is).
    pub se: f64,
}

/// Standard-deviation moneyness of the probe's strikes.
pub const PROBE_SD: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// The seed of the probe's states and nested paths for a fit's `seed`
/// (`fit-pricing --seed`): another stream than the fit's own states.
pub const fn probe_seed(seed: u64) -> u64 {
    seed ^ 0x9e37_79b9
}

/// A nested Monte-Carlo implied vol at one probed option: the reference
/// [`probe_against`] compares a table with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceVol {
    /// Index of the state among the probe's picks (in the order [`probe`] draws them).
    pub state: usize,
    /// Maturity in trading days.
    pub days: u32,
    /// Moneyness: one of [`PROBE_SD`].
    pub sd: f64,
    /// Nested Monte-Carlo implied vol of the out-of-the-money option, from
    /// the delta-hedge control-variate estimate of its price (0 where no
    /// vol fits it: a far option whose estimate is not above its bound).
    pub nested: f64,
    /// The standard error of `nested` (in vol, like `nested`; 0 with it).
    pub se: f64,
}

/// The probe's states for `seed`: `states` states of `net`'s stationary
/// regime spread over the variance quantiles 0.02–0.97 (one from each of
/// `states` evenly spread knot levels), each as a risk-neutral generator
/// under `measure` started there.
fn probe_states(
    net: &MixtureNet,
    measure: &RiskNeutral,
    states: usize,
    seed: u64,
) -> Result<Vec<DeepGenerator>> {
    let knots = generator(net)?.surrogate_knots(measure, seed, PROBE_PER_LEVEL);
    Ok((0..states)
        .map(|i| {
            let at = (i * (knots.len() - 1)) / (states - 1).max(1);
            knots[at.clamp(2, knots.len() - 3)].generators[i % PROBE_PER_LEVEL].clone()
        })
        .collect())
}

/// The probe's strikes at maturity `t` (years) for a state whose nested
/// at-the-money vol is `atm`: `ln(K/F) = z·σ_ATM·√T` for z in [`PROBE_SD`].
fn probe_strikes(atm: f64, t: f64) -> Vec<f64> {
    PROBE_SD.iter().map(|&z| probe_strike(atm, t, z)).collect()
}

/// One of [`probe_strikes`]: `ln(K/F) = z·σ_ATM·√T`.
fn probe_strike(atm: f64, t: f64, z: f64) -> f64 {
    (z * (atm * t.sqrt())).exp()
}

/// Implied vol of the out-of-the-money option at forward moneyness `k`
/// (puts below the forward, by parity: F = 1, no discounting) from the
/// forward call price `call`; NaN where no vol fits.
fn otm_implied_vol(call: f64, k: f64, t: f64) -> Result<f64> {
    let (ty, otm) = if k < 1.0 {
        (OptionType::Put, 1.0 - k)
    } else {
        (OptionType::Call, 0.0)
    };
    let spec = OptionSpec::new(ty, k, t)?;
    let market = MarketState::new(1.0, 0.0, 0.0)?;
    Ok(implied_vol(call - otm, &spec, &market).unwrap_or(f64::NAN))
}

/// Nested Monte-Carlo references at the probe's states (`paths` per state,
/// see [`probe`]), and the root mean square of their at-the-money vols'
/// standard errors (vol points).
///
/// Each option's price is the delta-hedge control-variate estimate
/// (`hedged_call`) from the state's nested paths, the deltas at the
/// option's own plain implied vol (the plain sample's, or the at-the-money
/// one where no path finished beyond the strike): unbiased like the plain
/// mean of the payoffs, with a standard error 1.1–11 times smaller (least
/// on +2 sd calls at 21 days in stressed states, most at the money; module
/// docs). The strikes are placed at ±1, ±2 standard deviations of the
/// hedged at-the-money vol.
pub fn nested_reference(
    net: &MixtureNet,
    variance_premium: f64,
    states: usize,
    paths: u64,
    days: &[u32],
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(Vec<ReferenceVol>, f64)> {
    refuse_zero_days(days.iter().copied())?;
    let measure = RiskNeutral::new(0.0, 0.0, variance_premium)?;
    let market = MarketState::new(1.0, 0.0, 0.0)?;
    let last = days.iter().copied().max().unwrap_or(0) as usize;
    let every_day: Vec<usize> = (1..=last).collect();
    let mut out = Vec::new();
    let mut se2 = Vec::new();
    for (i, g) in probe_states(net, &measure, states, seed)?
        .iter()
        .enumerate()
    {
        // One nested seed for every probed state (common random numbers):
        // the references' errors are correlated across the sample, which the
        // model card says. Every day's ratio, for the hedge.
        let sample = terminal_ratios(g, seed ^ 0x5eed, paths, &every_day)?;
        for &d in days {
            let (t, steps) = (f64::from(d) / TRADING_DAYS_PER_YEAR, d as usize);
            let law = EmpiricalLaw::new(sample.iter().map(|r| r[steps - 1]).collect());
            let plain_atm = (atm_log_variance(law.call(1.0), t)? / 2.0).exp();
            let atm_call = hedged_call(&sample, steps, 1.0, plain_atm).0;
            let atm = (atm_log_variance(atm_call, t)? / 2.0).exp();
            for (&k, z) in probe_strikes(atm, t).iter().zip(PROBE_SD) {
                let plain = otm_implied_vol(law.call(k), k, t)?;
                let hedge_vol = if plain.is_finite() && plain > 0.0 {
                    plain
                } else {
                    plain_atm
                };
                let (call, se) = hedged_call(&sample, steps, k, hedge_vol);
                // 0 where no vol fits (a far option whose estimate is not
                // above its bound); the price's standard error in vol by the
                // option's vega.
                let (nested, se) = match otm_implied_vol(call, k, t)? {
                    v if v.is_finite() && v > 0.0 => {
                        let spec = OptionSpec::new(OptionType::Call, k, t)?;
                        let vega = BlackScholes::new(v)?.greeks(&spec, &market).vega;
                        (v, se / vega)
                    }
                    _ => (0.0, 0.0),
                };
                if z == 0.0 && nested > 0.0 {
                    se2.push(se * se);
                }
                out.push(ReferenceVol {
                    state: i,
                    days: d,
                    sd: z,
                    nested,
                    se,
                });
            }
        }
        progress(i + 1);
    }
    let atm_se = 100.0 * (se2.iter().sum::<f64>() / se2.len().max(1) as f64).sqrt();
    Ok((out, atm_se))
}

/// The nested probes' maturities must be at least a trading day (a
/// 0-day option has no path to hedge along).
fn refuse_zero_days(mut days: impl Iterator<Item = u32>) -> Result<()> {
    if days.any(|d| d == 0) {
        return Err(Error::parameter(
            "days",
            0,
            "maturities of at least one trading day",
        ));
    }
    Ok(())
}

/// The at-the-money vol that places the probe's strikes of `state` at
/// `days` in `reference`, through ln σ² as [`nested_reference`] has it, so
/// the strikes are the reference's to the last bit.
fn reference_atm(reference: &[ReferenceVol], state: usize, days: u32) -> Result<f64> {
    let atm = reference
        .iter()
        .find(|a| a.state == state && a.days == days && a.sd == 0.0)
        .ok_or_else(|| {
            Error::Internal(format!(
                "probe reference without the at-the-money vol of state {state} at {days} days"
            ))
        })?
        .nested;
    Ok(((atm * atm).max(1e-12).ln() / 2.0).exp())
}

/// The exact mode's implied vols at the options of `reference` (nested
/// references at the probe's `states` states for `seed`, as for
/// [`probe_against`]), in the same order: each state priced the way
/// `simulate --chain-pricing nested` prices a chain, the plain mean of the
/// payoffs of `paths` nested paths under the empirical martingale
/// correction ([`super::nested`]; calendar order is not imposed, the
/// maturities are priced one by one), from draws independent of the
/// reference's. It measures how far the exact mode itself is from the
/// precise references at a given sample size, beside the table's error.
/// 0 where no vol fits (no nested path finished beyond the strike).
pub fn exact_mode_vols(
    net: &MixtureNet,
    variance_premium: f64,
    states: usize,
    paths: u64,
    seed: u64,
    reference: &[ReferenceVol],
) -> Result<Vec<f64>> {
    refuse_zero_days(reference.iter().map(|r| r.days))?;
    let measure = RiskNeutral::new(0.0, 0.0, variance_premium)?;
    let picks = probe_states(net, &measure, states, seed)?;
    let mut days: Vec<usize> = reference.iter().map(|r| r.days as usize).collect();
    days.sort_unstable();
    days.dedup();
    let mut out = Vec::with_capacity(reference.len());
    // The state whose laws were simulated last (a reference lists a state's
    // options together).
    let mut laws: Option<(usize, Vec<EmpiricalLaw>)> = None;
    for r in reference {
        let state_laws = match laws.take() {
            Some((state, l)) if state == r.state => l,
            _ => {
                let g = picks.get(r.state).ok_or_else(|| {
                    Error::Internal(format!("probe reference state {} of {states}", r.state))
                })?;
                // Another stream than the reference's (`seed ^ 0x5eed`),
                // common to the probed states as the reference's is.
                let terminal = terminal_ratios(g, seed ^ 0xe8ac7, paths, &days)?;
                (0..days.len())
                    .map(|m| EmpiricalLaw::new(terminal.iter().map(|x| x[m]).collect()))
                    .collect()
            }
        };
        let atm = reference_atm(reference, r.state, r.days)?;
        let t = f64::from(r.days) / TRADING_DAYS_PER_YEAR;
        let k = probe_strike(atm, t, r.sd);
        let law = &state_laws[days.binary_search(&(r.days as usize)).unwrap_or(0)];
        let v = otm_implied_vol(law.call(k), k, t)?;
        out.push(if v.is_finite() && v > 0.0 { v } else { 0.0 });
        laws = Some((r.state, state_laws));
    }
    Ok(out)
}

/// A probed slice priced by a table: (state, days), the state's variance,
/// and the strikes and forward calls at every moneyness of [`PROBE_SD`].
struct PricedSlice {
    key: (usize, u32),
    variance: f64,
    strikes: Vec<f64>,
    calls: Vec<f64>,
}

/// `table`'s implied vols at the options of `reference`, nested references
/// computed at the probe's `states` states for `seed` ([`nested_reference`]
/// with the same `states` and `seed`, or the same values read back from a
/// file): the strikes are placed in units of each state's reference
/// at-the-money vol, which `reference` must hold for every (state,
/// maturity) it lists.
pub fn probe_against(
    table: &TermTable,
    states: usize,
    seed: u64,
    reference: &[ReferenceVol],
) -> Result<Vec<ProbePoint>> {
    let measure = RiskNeutral::new(0.0, 0.0, table.variance_premium())?;
    let picks = probe_states(&table.net, &measure, states, seed)?;
    let (mut s, mut v) = ([0.0], [0.0]);
    let mut raw = [0.0; crate::deep::STATE_LEN];
    let mut points = Vec::with_capacity(reference.len());
    // The slice last priced (a reference lists a slice's options together,
    // so each slice is priced once).
    let mut last: Option<PricedSlice> = None;
    for r in reference {
        let t = f64::from(r.days) / TRADING_DAYS_PER_YEAR;
        let slice = match last.take() {
            Some(slice) if slice.key == (r.state, r.days) => slice,
            _ => {
                let g = picks.get(r.state).ok_or_else(|| {
                    Error::Internal(format!("probe reference state {} of {states}", r.state))
                })?;
                let atm = reference_atm(reference, r.state, r.days)?;
                let st = g.initial_state();
                g.observe(&st, &mut s, &mut v);
                g.observe_state(&st, &mut raw);
                let variance = v[0] / table.variance_premium();
                let ks = probe_strikes(atm, t);
                let calls = table
                    .chain_calls(&raw, variance, &[(t, ks.clone())])?
                    .remove(0);
                PricedSlice {
                    key: (r.state, r.days),
                    variance,
                    strikes: ks,
                    calls,
                }
            }
        };
        let z = PROBE_SD
            .iter()
            .position(|z| *z == r.sd)
            .ok_or_else(|| Error::Internal(format!("probe moneyness {} sd", r.sd)))?;
        points.push(ProbePoint {
            state: r.state,
            variance: slice.variance,
            days: r.days,
            sd: r.sd,
            table: otm_implied_vol(slice.calls[z], slice.strikes[z], t)?,
            nested: r.nested,
            se: r.se,
        });
        last = Some(slice);
    }
    Ok(points)
}

/// Compares `table` with nested Monte Carlo (`paths` per state) at `states`
/// states drawn from the table's model's stationary regime with `seed`
/// (spread over the variance quantiles 0.02–0.97), at `days` maturities and
/// strikes at [`PROBE_SD`] standard deviations of moneyness, `ln(K/F) =
/// z·σ_ATM·√T` with `σ_ATM` the nested sample's own at-the-money vol (so the
/// grid does not depend on the table; the usual standardised moneyness of
/// a smile). Calls `progress` per state. The summary also holds the exact
/// mode's own error at its default size against the same references
/// ([`exact_mode_vols`]), for scale.
pub fn probe(
    table: &TermTable,
    states: usize,
    paths: u64,
    days: &[u32],
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(ProbeSummary, Vec<ProbePoint>)> {
    let (reference, atm_se) = nested_reference(
        &table.net,
        table.variance_premium(),
        states,
        paths,
        days,
        seed,
        progress,
    )?;
    let points = probe_against(table, states, seed, &reference)?;
    let exact_paths = super::nested::DEFAULT_NESTED_PATHS;
    let exact = exact_mode_vols(
        &table.net,
        table.variance_premium(),
        states,
        exact_paths,
        seed,
        &reference,
    )?;
    // A nested vol of 0 means no nested path finished beyond the strike: the
    // option is not resolved by the sample, and its vol is not compared.
    let resolved = |p: &ProbePoint| p.nested > 0.0;
    let unresolved = points.iter().filter(|p| !resolved(p)).count();
    // Max and RMS of |vol − nested| over the resolved options `f` keeps,
    // `vol` the table's or, with `of_exact`, the exact mode's.
    let err_of = |f: &dyn Fn(&ProbePoint) -> bool, of_exact: bool| {
        let e: Vec<f64> = points
            .iter()
            .zip(&exact)
            .filter(|(p, x)| f(p) && resolved(p) && (!of_exact || **x > 0.0))
            .map(|(p, x)| 100.0 * ((if of_exact { *x } else { p.table }) - p.nested).abs())
            .collect();
        let max = e.iter().copied().fold(0.0, f64::max);
        let rms = (e.iter().map(|x| x * x).sum::<f64>() / e.len().max(1) as f64).sqrt();
        // A NaN anywhere fails the comparison loudly.
        if e.iter().any(|x| !x.is_finite()) {
            (f64::NAN, f64::NAN)
        } else {
            (max, rms)
        }
    };
    let (atm_max, atm_rms) = err_of(&|p| p.sd == 0.0, false);
    let (wing_max, wing_rms) = err_of(&|_| true, false);
    let ((x_atm_max, x_atm_rms), (x_wing_max, x_wing_rms)) =
        (err_of(&|p| p.sd == 0.0, true), err_of(&|_| true, true));
    Ok((
        ProbeSummary {
            states,
            paths,
            days: days.to_vec(),
            atm_max,
            atm_rms,
            wing_max,
            wing_rms,
            atm_se,
            unresolved,
            exact: Some(ExactModeError {
                paths: exact_paths,
                atm_max: x_atm_max,
                atm_rms: x_atm_rms,
                wing_max: x_wing_max,
                wing_rms: x_wing_rms,
            }),
        },
        points,
    ))
}

/// Deep-model chains from the table, keyed on the path's feature state;
/// puts by parity.
impl crate::pricing::ChainPricer for TermTable {
    fn chain_prices(
        &self,
        market: &MarketState,
        state: &crate::pricing::PathState<'_>,
        expiries: &[crate::pricing::Expiry],
    ) -> Result<Option<Vec<Vec<(f64, f64)>>>> {
        use crate::pricing::chain::{calls_and_puts, check_max_maturity, forward_strikes};
        let mut slices = Vec::with_capacity(expiries.len());
        for (_, maturity, strikes) in expiries {
            check_max_maturity(*maturity, self.max_maturity())?;
            slices.push((*maturity, forward_strikes(market, *maturity, strikes)));
        }
        let calls = self.chain_calls(state.features, state.variance, &slices)?;
        Ok(Some(
            expiries
                .iter()
                .zip(&calls)
                .map(|((_, maturity, strikes), c)| calls_and_puts(market, *maturity, strikes, c))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under geometric Brownian motion at 20 % vol the hedged estimates of
    /// forward calls to 63 days match Black–Scholes' closed form (`N(d₁) −
    /// k·N(d₂)` with `d₁,₂ = (−ln k ± σ²T/2)/(σ√T)`; at the money `2N(σ√T/2)
    /// − 1`) within 4 of their own standard errors, at the money and at
    /// strikes 0.85 and 1.15 (about ∓1.4 sd), with the hedge at the true vol
    /// and at a wrong one (30 %: still unbiased, less variance removed); the
    /// standard error returned is the per-path values' sd over √n, and that
    /// sd is far below the plain payoff's (measured: 13.7 times below at
    /// the money with the hedge at the true vol and 8.3 at the wrong one,
    /// 57.6 / 17.0 at 0.85 (the put side, hedged as a call), 7.0 / 2.3 at
    /// 1.15; asserted 3 at the money and 2 off it).
    /// A 0-day maturity has no path to hedge along: both nested probes
    /// refuse it with an error naming the field, before simulating.
    #[test]
    fn nested_probes_refuse_zero_day_maturities() {
        let net = MixtureNet::shipped().unwrap();
        let err = nested_reference(&net, 1.38, 2, 1_000, &[21, 0], 1, &|_| {}).unwrap_err();
        assert!(
            err.to_string().contains("at least one trading day"),
            "{err}"
        );
        let r = ReferenceVol {
            state: 0,
            days: 0,
            sd: 0.0,
            nested: 0.2,
            se: 0.0,
        };
        let err = exact_mode_vols(&net, 1.38, 2, 1_000, 1, &[r]).unwrap_err();
        assert!(
            err.to_string().contains("at least one trading day"),
            "{err}"
        );
    }

    #[test]
    fn the_hedged_call_is_unbiased_and_less_noisy() {
        use rand_distr::{Distribution, StandardNormal};
        let (vol, days, n) = (0.2, 63, 4_000);
        let dt = 1.0 / TRADING_DAYS_PER_YEAR;
        let paths: Vec<Vec<f64>> = (0..n)
            .map(|p| {
                let mut rng = crate::rng::path_rng(11, p);
                let mut x = 1.0f64;
                (0..days)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        x *= (vol * dt.sqrt() * z - 0.5 * vol * vol * dt).exp();
                        x
                    })
                    .collect()
            })
            .collect();
        let t = days as f64 * dt;
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let root = vol * t.sqrt();
        for (k, ratio) in [(1.0, 3.0), (0.85, 2.0), (1.15, 2.0)] {
            let (d1, d2) = (
                (-f64::ln(k) + 0.5 * root * root) / root,
                (-f64::ln(k) - 0.5 * root * root) / root,
            );
            let exact = crate::pricing::norm_cdf(d1) - k * crate::pricing::norm_cdf(d2);
            let plain: Vec<f64> = paths.iter().map(|x| (x[days - 1] - k).max(0.0)).collect();
            for hedge_vol in [vol, 0.3] {
                // Per-path hedged values: the estimator on one path at a time.
                let each: Vec<f64> = paths
                    .iter()
                    .map(|x| hedged_call(std::slice::from_ref(x), days, k, hedge_vol).0)
                    .collect();
                let (estimate, se) = hedged_call(&paths, days, k, hedge_vol);
                let expected_se = sd(&each) / (n as f64).sqrt();
                assert!(
                    (se / expected_se - 1.0).abs() < 1e-3,
                    "{se} vs {expected_se}"
                );
                assert!(
                    (estimate - exact).abs() < 4.0 * se,
                    "strike {k}, hedge vol {hedge_vol}: {estimate} vs {exact} (se {se})"
                );
                assert!(
                    sd(&each) < sd(&plain) / ratio,
                    "strike {k}: {} vs {}",
                    sd(&each),
                    sd(&plain)
                );
            }
        }
        assert_eq!(
            hedged_atm_call(&paths, days, vol),
            hedged_call(&paths, days, 1.0, vol).0
        );
    }

    /// A law of four equal blocks at 1, 2, 3, 4 has its block values at
    /// cumulative probabilities 1/8, 3/8, 5/8, 7/8: its median is 2.5, its
    /// 25 % quantile 1.5 (linear between 1/8 and 3/8), and quantiles
    /// beyond the outer middles are the outer values (as the correction
    /// holds its shifts flat there).
    #[test]
    fn law_quantiles_interpolate_between_block_middles() {
        let q = law_quantiles(&[0.25; 4], &[1.0, 2.0, 3.0, 4.0]);
        let at = |prob: f64| q[SHAPE_PROBS.iter().position(|&p| p == prob).unwrap()];
        assert!((at(0.5) - 2.5).abs() < 1e-12);
        assert!((at(0.25) - 1.5).abs() < 1e-12);
        assert!((at(0.75) - 3.5).abs() < 1e-12);
        assert_eq!(at(0.001), 1.0);
        assert_eq!(at(0.999), 4.0);
    }

    /// The correction of a shape: with the predictions equal to the
    /// reference it leaves every block where it was; with the reference
    /// lowered by 0.1 everywhere (a shift of +0.1) and the predicted 99 %
    /// to 99.9 % spacing 1.5 times the reference's, the blocks below 99.9 %
    /// move by the interpolated shift and those beyond it keep the moved
    /// 99.9 % quantile as their anchor, their excess over the shape's own
    /// 99.9 % quantile scaled by 1.5 (see the module docs).
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

    /// The shipped table saves and loads with its shape correction; a table
    /// without the `shape_*` tensors still loads and prices, without it;
    /// tables of the older keys (formats 1 and 2), a malformed correction
    /// and a key network with a value that is not finite are refused.
    #[test]
    fn tables_load_with_and_without_the_shape_correction() {
        let net = MixtureNet::shipped().unwrap();
        let full = crate::deep::shipped_pricing().unwrap();
        assert!(full.shape.as_ref().is_some_and(|c| c.nets.is_some()));
        let raw = net.config().initial_state.clone();
        let slices = vec![(21.0 / TRADING_DAYS_PER_YEAR, vec![0.9, 1.0, 1.1])];
        let calls = |t: &TermTable| t.chain_calls(&raw, 0.03, &slices).unwrap()[0].clone();
        let dir = tempfile::tempdir().unwrap();
        let reload = |t: &TermTable| {
            t.save(dir.path()).unwrap();
            TermTable::load(dir.path(), &net).unwrap().unwrap()
        };
        let back = reload(&full);
        assert!(back.shape.is_some());
        // A load/save round trip is exact: the same prices, the same bytes.
        assert_eq!(calls(&full), calls(&back));
        assert!(back == full);
        let plain = TermTable {
            shape: None,
            ..full.clone()
        };
        let old = reload(&plain);
        assert!(old.shape.is_none());
        let (c, p) = (calls(&full), calls(&old));
        assert!(p.windows(2).all(|w| w[0] > w[1]), "{p:?}");
        assert!(
            c.iter().zip(&p).any(|(a, b)| (a - b).abs() > 1e-6),
            "{c:?} vs {p:?}"
        );
        // A table fitted before the quantile networks (its correction
        // linear alone) loads without them and prices with the regression.
        let mut linear = full.clone();
        if let Some(s) = linear.shape.as_mut() {
            s.nets = None;
        }
        let linear_back = reload(&linear);
        assert!(linear_back.shape.as_ref().is_some_and(|c| c.nets.is_none()));
        let l = calls(&linear_back);
        assert!(l.windows(2).all(|w| w[0] > w[1]), "{l:?}");
        assert!(
            c.iter().zip(&l).any(|(a, b)| (a - b).abs() > 1e-6),
            "{c:?} vs {l:?}"
        );

        // Tables of the mean-variance key (format 1: no `format` field)
        // and of the linear at-the-money key (format 2) are refused, not
        // read with the wrong meaning.
        full.save(dir.path()).unwrap();
        let json = std::fs::read_to_string(dir.path().join("pricing.json")).unwrap();
        for (old, name) in [("", "format 1"), ("\"format\": 2,", "format 2")] {
            let old_format = json.replace("\"format\": 3,", old);
            assert_ne!(old_format, json);
            std::fs::write(dir.path().join("pricing.json"), old_format).unwrap();
            let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains("fit-pricing"), "{err}");
        }

        // A key network with a value that is not finite is refused.
        let mut bad = full.clone();
        bad.key_nets[4] = KeyNet::from_params(&{
            let mut v = bad.key_nets[4].to_params();
            v[100] = f64::NAN;
            v
        });
        bad.save(dir.path()).unwrap();
        let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
        assert!(err.contains("do not form a table"), "{err}");

        // A correction with a value that is not finite is refused.
        let mut bad = full.clone();
        if let Some(s) = bad.shape.as_mut() {
            s.coef[3][5][7] = f64::NAN;
        }
        bad.save(dir.path()).unwrap();
        let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
        assert!(err.contains("shape correction"), "{err}");

        // So is a quantile network with a value that is not finite.
        let mut bad = full.clone();
        if let Some(nets) = bad.shape.as_mut().and_then(|s| s.nets.as_mut()) {
            let mut v = nets[2].to_params();
            v[NQ + 50] = f64::NAN;
            nets[2] = QuantileNet {
                unit: nets[2].unit,
                net: TanhNet::from_params(&v[NQ..]),
            };
        }
        bad.save(dir.path()).unwrap();
        let err = TermTable::load(dir.path(), &net).unwrap_err().to_string();
        assert!(err.contains("networks do not fit"), "{err}");
    }

    /// The shape correction's fit recovers closed-form quantiles from small
    /// samples. 300 states whose standardised log ratios are normal with
    /// sd `σ = 1 + 0.25 sin(2 r₁)` (`r₁` one regressor, the other ten pure
    /// noise), 200 draws each, so each state's true `q` quantile is
    /// `σ Φ⁻¹(q)` (the standard normal's 95 % and 99 % points, 1.6448536270
    /// and 2.3263478740: Abramowitz & Stegun, ch. 26). The predicted 95 %
    /// and 99 % quantiles have under half the RMS error of the states' own
    /// sample quantiles and under 0.06 and 0.14 sds (measured 0.044 and
    /// 0.108, against 0.150 and 0.273 for the samples). With the network
    /// fitted to the raw residuals (no Gaussian-process smoothing) they
    /// read 0.124 and 0.225, and this test fails. Below the median the
    /// network learns the raw residuals, so the 1 % and 5 % quantiles gain
    /// less on the samples: under 0.9 of their error and under 0.23 and
    /// 0.13 (measured 0.217 and 0.118, against 0.257 and 0.146; a separate
    /// network for the lower quantiles, tried, read 0.221 and 0.125).
    #[test]
    fn the_shape_correction_recovers_known_quantiles() {
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = crate::rng::path_rng(5, 0);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let (n, draws, d) = (300, 200, 21);
        let t = f64::from(d) / TRADING_DAYS_PER_YEAR;
        let xm: Vec<[f64; REGRESSORS]> = (0..n)
            .map(|_| std::array::from_fn(|k| if k == 0 { 1.0 } else { normal() }))
            .collect();
        let sigma: Vec<f64> = xm.iter().map(|x| 1.0 + 0.25 * (2.0 * x[1]).sin()).collect();
        let ratios: Vec<Vec<Vec<f32>>> = sigma
            .iter()
            .map(|s| vec![(0..draws).map(|_| (s * normal()).exp() as f32).collect()])
            .collect();
        // A forecast of σ̂²·t = 1: the standardising unit is 1.
        let forecasts = vec![-t.ln(); n];
        let fit = fit_shape_correction(&xm, &forecasts, &ratios, 0, d, 7).unwrap();
        for (prob, z, gain, bar) in [
            (0.01, -2.326_347_874_0, 0.9, 0.23),
            (0.05, -1.644_853_627_0, 0.9, 0.13),
            (0.95, 1.644_853_627_0, 0.5, 0.06),
            (0.99, 2.326_347_874_0, 0.5, 0.14),
        ] {
            let j = SHAPE_PROBS.iter().position(|&p| p == prob).unwrap();
            let rms = |q: &dyn Fn(usize) -> f64| {
                ((0..n).map(|i| (q(i) - sigma[i] * z).powi(2)).sum::<f64>() / n as f64).sqrt()
            };
            let sample = rms(&|i| {
                let mut v: Vec<f64> = ratios[i][0].iter().map(|r| f64::from(*r).ln()).collect();
                v.sort_by(f64::total_cmp);
                sample_quantile(&v, prob)
            });
            let predicted = rms(&|i| fit.predicted[i][j]);
            assert!(
                predicted < gain * sample && predicted < bar,
                "{prob} quantile: predicted RMS error {predicted}, sample {sample}"
            );
        }
    }
}
