//! Training a market model: betas, one deep net per residual and one for
//! the index, then the copula of their innovations.

use super::copula::{CopulaFit, TCopula};
use super::{law_of, net_dir, CopulaConfig, PanelConfig, PanelModel, INDEX_NAME, PANEL_FORMAT};
use crate::deep::features::FeatureState;
use crate::deep::model::{MixtureNet, Scratch};
use crate::deep::{train, TrainOptions, TrainReport, WARMUP};
use crate::error::{Error, Result};
use crate::market::{PanelHistory, SpotHistory};
use serde::Serialize;

/// What training a market model measured.
#[derive(Debug, Clone, Serialize)]
pub struct PanelTrainReport {
    /// Asset names (stocks, then `index`).
    pub assets: Vec<String>,
    /// Each stock's beta.
    pub betas: Vec<f64>,
    /// Each net's training report (assets' order).
    pub nets: Vec<TrainReport>,
    /// Returns used for the betas and the copula (the training and
    /// validation parts; the test part is never seen).
    pub fit_returns: usize,
    /// Copula degrees of freedom chosen.
    pub copula_nu: f64,
    /// (ν, log-likelihood) of the copula per ν tried.
    pub copula_profile: Vec<(f64, f64)>,
    /// Log-likelihood of the independence copula is 0; this is the chosen
    /// copula's per day (nats).
    pub copula_ll_per_day: f64,
    /// Each stock's exponent γ of the market scale of its residual (k
    /// times [`Self::base_gamma`], at most [`MAX_GAMMA`]).
    pub market_gamma: Vec<f64>,
    /// Each stock's regression estimate of γ (before the multiplier).
    pub base_gamma: Vec<f64>,
    /// (k, median synthetic correlation ratio) of each calibration step.
    pub gamma_calibration: Vec<(f64, f64)>,
    /// The real correlation ratio on the training and validation days (the
    /// calibration's target).
    pub real_corr_ratio: f64,
    /// The jump days found in each stock's residual (training and
    /// validation days), from which [`PanelConfig::jumps`] was fitted.
    pub jump_days: Vec<super::jumps::JumpDays>,
    /// The index nets trained (one per seed) and how each scored on its
    /// free-running paths; the chosen one is marked.
    pub index_candidates: Vec<super::index::IndexCandidate>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// What [`train_panel`] reports while it works.
#[derive(Debug, Clone, Copy)]
pub enum PanelProgress<'a> {
    /// Net `i` of `of` (named `name`) starts training.
    Net {
        /// Position.
        i: usize,
        /// Number of nets.
        of: usize,
        /// Asset name.
        name: &'a str,
    },
    /// Epoch of the current net.
    Epoch {
        /// Epoch.
        epoch: usize,
        /// Training NLL.
        train_nll: f64,
        /// Validation NLL.
        validation_nll: f64,
    },
    /// Fitting the copula.
    Copula,
    /// A calibration step of the exponents' multiplier k starts.
    Calibrating {
        /// The multiplier tried.
        k: f64,
    },
}

/// The form of a market's index net, which may differ from the residual
/// nets' (those take [`TrainOptions::variance_core`] and
/// [`TrainOptions::feature_squash`]).
///
/// Why a form of its own: the index drives every stock (through β r_m and
/// the market scale), so its free-running extremes become every stock's.
/// On the 1990–2018 panel a core and squashed features on the index alone
/// brought its largest days near history's and the stocks' widest days
/// down severalfold, while the same on every residual net moved the
/// correlations off (the book's market chapter, "The index net's form").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndexForm {
    /// Put the index net's ln σ on a variance core.
    pub variance_core: bool,
    /// Scales of the index net's feature squash, or none.
    pub feature_squash: Option<[f64; 2]>,
}

/// OLS slope of `y` on `x`.
fn ols_beta(y: &[f64], x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
    }
    sxy / sxx
}

/// The innovations' tail probabilities `(F(ε_t), 1 − F(ε_t))` of `net` on
/// the daily log returns `r`, for days `from..to` (each conditioned on all
/// earlier days).
fn innovation_tails(net: &MixtureNet, r: &[f64], from: usize, to: usize) -> Vec<(f64, f64)> {
    let law = law_of(net);
    let scale = net.config().scale;
    let mut state = FeatureState::default();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(to - from);
    for (t, x) in r[..to].iter().enumerate() {
        let z = x / scale;
        if t >= from {
            let (mu, sigma) = net.conditional_with(&state, &mut scratch);
            let eps = z / sigma - mu;
            out.push((law.cdf(eps), law.sf(eps)));
        }
        state.update(z);
    }
    out
}

/// The index net's conditional daily variance of each day's return given
/// the days before it, `σ_t² var(ε) scale²` (return units²).
pub(crate) fn conditional_variances(net: &MixtureNet, r: &[f64]) -> Vec<f64> {
    let scale = net.config().scale;
    let law_var = net.innovation_law().variance() * scale * scale;
    let mut state = FeatureState::default();
    let mut scratch = Scratch::default();
    r.iter()
        .map(|x| {
            let sigma = net.conditional_with(&state, &mut scratch).1;
            state.update(x / scale);
            sigma * sigma * law_var
        })
        .collect()
}

/// The range [min, max] of the net's conditional scale σ_t over days
/// `from..to` of the returns `r`.
fn sigma_range(net: &MixtureNet, r: &[f64], from: usize, to: usize) -> [f64; 2] {
    let scale = net.config().scale;
    let mut state = FeatureState::default();
    let mut scratch = Scratch::default();
    let mut range = [f64::INFINITY, 0.0f64];
    for (t, x) in r[..to].iter().enumerate() {
        if t >= from {
            let sigma = net.conditional_with(&state, &mut scratch).1;
            range = [range[0].min(sigma), range[1].max(sigma)];
        }
        state.update(x / scale);
    }
    range
}

/// Trains the net of one asset (`at`: its position, the number of nets and
/// its name), reporting its start and every epoch to `progress`.
fn train_net(
    history: &SpotHistory,
    opts: &TrainOptions,
    at: (usize, usize, &str),
    progress: &mut impl FnMut(PanelProgress<'_>),
) -> Result<(MixtureNet, TrainReport)> {
    let (i, of, name) = at;
    progress(PanelProgress::Net { i, of, name });
    train(std::slice::from_ref(history), opts, |epoch, t, v| {
        progress(PanelProgress::Epoch {
            epoch,
            train_nll: t,
            validation_nll: v,
        })
    })
}

/// A stock's residual to the index, `e_t = r_t − β r_m,t`.
pub(super) fn residual(r: &[f64], rm: &[f64], beta: f64) -> Vec<f64> {
    r.iter().zip(rm).map(|(ri, x)| ri - beta * x).collect()
}

/// A residual over its market scale, `e_t (v_m,t / v̄)^{−γ/2}`, with
/// `ln_vm` the index net's `ln v_m,t` and `centre` = `ln v̄`: what a
/// residual net is trained on and runs through.
pub(super) fn market_scaled<'a>(
    e: &'a [f64],
    ln_vm: &'a [f64],
    gamma: f64,
    centre: f64,
) -> impl Iterator<Item = f64> + 'a {
    e.iter()
        .zip(ln_vm)
        .map(move |(x, l)| x * (-gamma * 0.5 * (l - centre)).exp())
}

/// Population standard deviation (divided by n).
fn sd(x: &[f64]) -> f64 {
    crate::stats::mean_var(x).1.sqrt()
}

/// Per stock, the median over [`super::index::TARGET_PATHS`] market paths of `steps` days
/// of the standard deviation of its simulated residual `r_i − β_i r_m`.
/// The residual's output factor multiplies it exactly (the recursions do
/// not see the factor), so one pass sets the factor.
fn residual_sds(model: &PanelModel, steps: usize, seed: u64) -> Result<Vec<f64>> {
    let d = model.nets.len();
    let betas = &model.config.betas;
    let per_path = on_market_paths(model, steps, seed ^ 0x9a3e1, |r| {
        (0..d - 1)
            .map(|j| {
                let e: Vec<f64> = r[j]
                    .iter()
                    .zip(&r[d - 1])
                    .map(|(x, y)| x - betas[j] * y)
                    .collect();
                sd(&e)
            })
            .collect::<Vec<f64>>()
    })?;
    Ok((0..d - 1)
        .map(|j| crate::stats::median(per_path.iter().map(|p| p[j]).collect()))
        .collect())
}

/// Largest exponent of the market scale: residual volatility rising faster
/// than the square of the market's is not seen in the data and would let
/// the residuals run away with the index.
pub const MAX_GAMMA: f64 = 1.5;

/// The exponent γ with which a residual's volatility follows the market's:
/// the OLS slope of `ln |e_t|` on `½ ln v_m,t` (days `from..to`, zero
/// residuals skipped), clamped to [0, [`MAX_GAMMA`]]. Under
/// `e_t = (v_m,t / v̄)^{γ/2} h_t ε_t` with `ln |ε_t|` independent of the
/// market state, that slope is γ plus the co-movement of the residual's
/// own clustering `h_t` with the market; both belong to the market scale.
fn market_gamma(e: &[f64], ln_vm: &[f64], centre: f64, from: usize, to: usize) -> f64 {
    let pts: Vec<(f64, f64)> = (from..to)
        .filter(|&t| e[t] != 0.0)
        .map(|t| (0.5 * (ln_vm[t] - centre), e[t].abs().ln()))
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in &pts {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    let g = sxy / sxx;
    if g.is_finite() {
        g.clamp(0.0, MAX_GAMMA)
    } else {
        0.0
    }
}

/// Trains a market model of `panel`'s stocks and `index` (observed on the
/// panel's dates) with the deep training options `opts` for every net
/// (its name is the model's), the index net in `index_form`. Each stock's
/// residual `e_i = r_i − β_i r_m` is a history of its own (`exp` of its
/// running sum), trained like any series; betas and the copula use the training and validation days, as
/// the nets do. The index net is the best of `candidates` nets trained from
/// seeds `opts.seed`, `opts.seed + 1`, … ([`super::index`]).
pub fn train_panel(
    panel: &PanelHistory,
    index: &SpotHistory,
    opts: &TrainOptions,
    index_form: IndexForm,
    candidates: usize,
    mut progress: impl FnMut(PanelProgress<'_>),
) -> Result<(PanelModel, PanelTrainReport)> {
    let started = std::time::Instant::now();
    panel.check_same_dates(index)?;
    if opts.init.is_some() {
        return Err(Error::parameter(
            "init",
            "(given)",
            "a market model trains every net from scratch; --init applies to one series",
        ));
    }
    let rm = index.log_returns();
    let n = rm.len();
    let fit_end = n - (n as f64 * opts.test_fraction).round() as usize;
    let names: Vec<String> = panel
        .names()
        .into_iter()
        .map(str::to_string)
        .chain([INDEX_NAME.to_string()])
        .collect();
    let stocks: Vec<Vec<f64>> = panel.assets().iter().map(|a| a.log_returns()).collect();
    let betas: Vec<f64> = stocks
        .iter()
        .map(|r| ols_beta(&r[..fit_end], &rm[..fit_end]))
        .collect();
    let m = names.len() - 1;
    let opts_for = |name: &str| TrainOptions {
        name: format!("{} {name}", opts.name),
        ..opts.clone()
    };
    // The index first: the residuals are scaled by its variance state. Its
    // net is the best of `candidates` seeds on its own free-running paths
    // (the index module says why and how).
    let chosen = super::index::choose_index(&rm[..fit_end], opts.seed, candidates, |seed, c| {
        let label = if candidates > 1 {
            format!(
                "{INDEX_NAME} (candidate {} of {candidates}, seed {seed})",
                c + 1
            )
        } else {
            INDEX_NAME.to_string()
        };
        train_net(
            index,
            &TrainOptions {
                seed,
                variance_core: index_form.variance_core,
                feature_squash: index_form.feature_squash,
                ..opts_for(INDEX_NAME)
            },
            (m, names.len(), &label),
            &mut progress,
        )
    })?;
    let (index_net, index_report, index_scale) = (chosen.net, chosen.report, chosen.output_scale);
    let vm = conditional_variances(&index_net, &rm);
    let ln_vm: Vec<f64> = vm.iter().map(|v| v.ln()).collect();
    let market_ln_var = ln_vm[WARMUP..fit_end].iter().sum::<f64>() / (fit_end - WARMUP) as f64;
    // Each residual's jump days (training and validation days only) and
    // the jump law; the nets, exponents and output factors then see the
    // residual without its jumps (a jump day's residual set to 0).
    let residuals: Vec<Vec<f64>> = stocks
        .iter()
        .zip(&betas)
        .map(|(r, b)| residual(r, &rm, *b))
        .collect();
    let (jumps, jump_days) = super::jumps::JumpLaw::fit(&residuals, fit_end);
    let dejumped: Vec<Vec<f64>> = residuals
        .into_iter()
        .zip(&jump_days)
        .map(|(mut e, found)| {
            for &t in &found.days {
                e[t] = 0.0;
            }
            e
        })
        .collect();
    let base_gammas: Vec<f64> = dejumped
        .iter()
        .map(|e| market_gamma(e, &ln_vm, market_ln_var, WARMUP, fit_end))
        .collect();
    let last_prices: Vec<f64> = panel
        .assets()
        .iter()
        .chain([index])
        .map(|h| *h.prices().last().unwrap_or(&1.0))
        .collect();
    let ctx = Market {
        panel,
        names: &names,
        residuals: &dejumped,
        jumps: jumps.as_ref(),
        betas: &betas,
        rm: &rm,
        ln_vm: &ln_vm,
        market_ln_var,
        fit_end,
        index_net: &index_net,
        index_scale,
        last_prices: &last_prices,
        opts,
    };
    // The common multiplier k of the exponents, by simulated moments: the
    // real panel's correlation ratio (high-vol decile over calm half) on
    // the training and validation days is matched by the median over
    // CALIBRATION_PATHS synthetic panels as long (bisection on k; the
    // ratio falls as k rises).
    let real_ratio = crate::facts::panel_facts(
        &stocks
            .iter()
            .map(|r| r[..fit_end].to_vec())
            .collect::<Vec<_>>(),
        &rm[..fit_end],
    )?
    .corr_ratio;
    let (mut lo, mut hi) = (K_RANGE[0], K_RANGE[1]);
    let mut tried = Vec::new();
    let mut best: Option<(f64, Fitted)> = None;
    for _ in 0..K_STEPS {
        let k = 0.5 * (lo + hi);
        progress(PanelProgress::Calibrating { k });
        let gammas: Vec<f64> = base_gammas
            .iter()
            .map(|g| (k * g).clamp(0.0, MAX_GAMMA))
            .collect();
        let fitted = ctx.fit(&gammas, &mut progress)?;
        let ratio = median_ratio(&fitted.model, fit_end, opts.seed)?;
        tried.push((k, ratio));
        if ratio > real_ratio {
            lo = k;
        } else {
            hi = k;
        }
        if best
            .as_ref()
            .is_none_or(|(r, _)| (ratio - real_ratio).abs() < (r - real_ratio).abs())
        {
            best = Some((ratio, fitted));
        }
    }
    let (_, fitted) = best.ok_or_else(|| Error::Internal("no calibration step".into()))?;
    let Fitted {
        model,
        reports: mut nets_reports,
        profile,
        gammas,
    } = fitted;
    nets_reports.push(index_report);
    let copula_nu = model.copula.nu();
    let ll = profile
        .iter()
        .find(|(nu, _)| *nu == copula_nu)
        .map_or(f64::NAN, |p| p.1);
    let report = PanelTrainReport {
        assets: names,
        betas,
        nets: nets_reports,
        fit_returns: fit_end,
        copula_nu,
        copula_profile: profile,
        market_gamma: gammas,
        base_gamma: base_gammas,
        gamma_calibration: tried,
        real_corr_ratio: real_ratio,
        copula_ll_per_day: ll / (fit_end - WARMUP) as f64,
        jump_days,
        index_candidates: chosen.candidates,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((model, report))
}

/// Range of the multiplier k of the exponents searched.
pub const K_RANGE: [f64; 2] = [0.0, 3.0];

/// Bisection steps on k (resolution 3/2⁶ ≈ 0.05).
pub const K_STEPS: usize = 6;

/// Synthetic panels per calibration step.
pub const CALIBRATION_PATHS: u64 = 16;

/// The median over [`CALIBRATION_PATHS`] synthetic panels of `steps` days
/// of the correlation ratio (high-vol decile over calm half).
fn median_ratio(model: &PanelModel, steps: usize, seed: u64) -> Result<f64> {
    let d = model.nets.len();
    let ratios = on_market_paths(model, steps, seed ^ 0xc0a7, |r| {
        crate::facts::panel_facts(&r[..d - 1], &r[d - 1]).map(|f| f.corr_ratio)
    })?
    .into_iter()
    .collect::<Result<Vec<f64>>>()?;
    Ok(crate::stats::median(ratios))
}

/// `f` of each of [`CALIBRATION_PATHS`] market paths of `steps` days
/// (its daily log returns per asset, `[asset][day]`), in path order.
fn on_market_paths<T>(
    model: &PanelModel,
    steps: usize,
    seed: u64,
    f: impl Fn(&[Vec<f64>]) -> T,
) -> Result<Vec<T>> {
    let grid = crate::market::TimeGrid::new(steps, 1.0 / crate::market::TRADING_DAYS_PER_YEAR)?;
    let gen = super::PanelGenerator::new(model.clone(), &grid)?;
    Ok(
        crate::sim::Driver::new(crate::rng::splitmix64(seed), CALIBRATION_PATHS)
            .log_returns(&gen, steps)?
            .iter()
            .map(|r| f(r))
            .collect(),
    )
}

/// What a market fit at given exponents produced.
struct Fitted {
    model: PanelModel,
    reports: Vec<TrainReport>,
    profile: Vec<(f64, f64)>,
    gammas: Vec<f64>,
}

/// The data and the index net shared by every fit of the residuals.
struct Market<'a> {
    panel: &'a PanelHistory,
    names: &'a [String],
    /// Each stock's residual `r_i − β_i r_m`, its jump days set to 0.
    residuals: &'a [Vec<f64>],
    jumps: Option<&'a super::jumps::JumpLaw>,
    betas: &'a [f64],
    rm: &'a [f64],
    ln_vm: &'a [f64],
    market_ln_var: f64,
    fit_end: usize,
    index_net: &'a MixtureNet,
    index_scale: f64,
    last_prices: &'a [f64],
    opts: &'a TrainOptions,
}

impl Market<'_> {
    /// Trains the residual nets with the exponents `gammas`, fits the
    /// copula, the σ ranges and the residuals' output factors.
    fn fit(&self, gammas: &[f64], progress: &mut impl FnMut(PanelProgress<'_>)) -> Result<Fitted> {
        let (names, m, fit_end) = (self.names, self.names.len() - 1, self.fit_end);
        let opts_for = |name: &str| TrainOptions {
            name: format!("{} {name}", self.opts.name),
            ..self.opts.clone()
        };
        let mut nets = Vec::with_capacity(names.len());
        let mut reports = Vec::with_capacity(names.len());
        let mut histories = Vec::with_capacity(names.len());
        for (i, (e, a)) in self.residuals.iter().zip(self.panel.assets()).enumerate() {
            let gamma = gammas[i];
            // The residual over its market scale, as a price history on the
            // panel's dates (its log returns are the scaled residuals), so it
            // trains like any series.
            let mut level = 0.0;
            let prices = std::iter::once(1.0)
                .chain(
                    market_scaled(e, self.ln_vm, gamma, self.market_ln_var).map(|x| {
                        level += x;
                        level.exp()
                    }),
                )
                .collect();
            let h = SpotHistory::new(self.panel.source(), self.panel.dates().to_vec(), prices)?
                .renamed(format!("{} residual to the index", a.column()));
            let (net, report) = train_net(
                &h,
                &opts_for(&names[i]),
                (i, names.len(), &names[i]),
                progress,
            )?;
            nets.push(net);
            reports.push(report);
            histories.push(h.log_returns());
        }
        nets.push(self.index_net.clone());
        histories.push(self.rm.to_vec());
        progress(PanelProgress::Copula);
        let tails: Vec<Vec<(f64, f64)>> = nets
            .iter()
            .zip(&histories)
            .map(|(net, r)| innovation_tails(net, r, WARMUP, fit_end))
            .collect();
        let sigma_range = nets
            .iter()
            .zip(&histories)
            .map(|(net, r)| sigma_range(net, r, WARMUP, fit_end))
            .collect();
        // The index's factor from its own paths; the residuals' from the
        // market's paths (their scale moves with the index's state), below.
        let mut output_scale = vec![1.0; names.len()];
        output_scale[m] = self.index_scale;
        let CopulaFit { copula, profile } = TCopula::fit(&tails, Some(m))?;
        let (panel, n) = (self.panel, self.rm.len());
        let data = vec![
            format!(
                "{} ({} stocks, {} to {})",
                panel.source().display(),
                panel.n_assets(),
                panel.dates()[0],
                panel.dates()[n]
            ),
            format!(
                "the index on the same dates ({} returns)",
                n
            ),
            format!(
                "betas, market exponents and copula on returns 1 to {fit_end} ({} to {}); the last {} returns are the test part",
                panel.dates()[1],
                panel.dates()[fit_end],
                n - fit_end
            ),
        ];
        let config = PanelConfig {
            format: PANEL_FORMAT,
            kind: "panel".into(),
            name: self.opts.name.clone(),
            assets: names.to_vec(),
            betas: self.betas.to_vec(),
            last_prices: self.last_prices.to_vec(),
            nets: names
                .iter()
                .enumerate()
                .map(|(i, n)| net_dir(i, n))
                .collect(),
            copula: CopulaConfig {
                nu: copula.nu(),
                correlation: copula.rows(),
            },
            data,
            seed: self.opts.seed,
            market_gamma: gammas.to_vec(),
            market_ln_var: self.market_ln_var,
            sigma_range,
            output_scale,
            jumps: None,
        };
        let mut model = PanelModel::from_parts(config, nets, None)?;
        // The continuous part is targeted on the residual without its jumps
        // (the model has none yet); the jumps are added after.
        let real_sd: Vec<f64> = self.residuals.iter().map(|e| sd(&e[..fit_end])).collect();
        let sim_sd = residual_sds(&model, fit_end, self.opts.seed)?;
        for (j, (real, sim)) in real_sd.iter().zip(&sim_sd).enumerate() {
            let c = real / sim;
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::Internal(format!("residual variance target {c}")));
            }
            model.config.output_scale[j] = c;
        }
        model.config.jumps = self.jumps.cloned();
        Ok(Fitted {
            model,
            reports,
            profile,
            gammas: gammas.to_vec(),
        })
    }
}
