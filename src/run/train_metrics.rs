//! What `synthmarket train` measured ([`TrainMetrics`], `metrics.json`):
//! the training report, held-out NLLs, and each model's scorecards on the
//! test period, with the tables, checks and summary made from them.

use crate::deep::select::Candidate;
use crate::deep::TrainReport;
use crate::facts::extremes::PathExtremes;
use crate::facts::scorecard::Scorecard;
use crate::facts::spread::Spread;
use crate::io::table_number as num;
use serde::Serialize;
use std::fmt::Write as _;

/// One model's scores on the test period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelScorecard {
    /// `deep`, `GJR-GARCH-t`, `GBM` or `Heston`.
    pub model: String,
    /// How the model was fitted and started.
    pub description: String,
    /// Its scorecard against the test period.
    pub card: Scorecard,
    /// The noise-aware scorecard: where each statistic of the test period
    /// falls among the model's paths of the same length.
    pub spread: Spread,
}

/// What `metrics.json` holds: the training report, the held-out NLL beside
/// GJR-GARCH-t's, and the test-period scorecards of the deep model and the
/// baselines.
#[derive(Debug, Clone, Serialize)]
pub struct TrainMetrics {
    /// What training measured (losses per epoch, splits, NLLs, seconds).
    pub report: TrainReport,
    /// NLL per day of the deep model on the test period.
    pub test_nll_deep: f64,
    /// NLL per day of GJR-GARCH-t (fitted on the training and validation
    /// days) on the test period.
    pub test_nll_garch: f64,
    /// The days the baselines were fitted on (`FROM to TO (N returns)`).
    pub garch_fit_on: String,
    /// The test period (`FROM to TO (N returns)`).
    pub test_period: String,
    /// Scorecards in the order deep, GJR-GARCH-t, GBM, Heston.
    pub scorecards: Vec<ModelScorecard>,
    /// The training candidates (one per seed) and which was kept.
    pub candidates: Vec<Candidate>,
    /// Long free-running paths of the kept net against the whole history
    /// (none when the history is too short for the fact battery).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_paths: Option<LongPaths>,
}

/// Paths as long as the whole history, generated freely from the state at
/// its end: their extremes against history's bars
/// ([`crate::facts::extremes`]) and the whole history placed among them
/// (the noise-aware scorecard), which the test period alone, a few years
/// from a real start, cannot show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongPaths {
    /// Seed of the paths.
    pub seed: u64,
    /// The model's scale (its training volatility, daily): the unit of the
    /// generator's overflow guard.
    pub scale: f64,
    /// Per-path extremes.
    pub extremes: PathExtremes,
    /// The whole history among the paths.
    pub spread: Spread,
}

impl LongPaths {
    /// Paths generated for the study.
    pub const PATHS: u64 = 200;

    /// The model card's section (Markdown).
    pub fn card_section(&self) -> String {
        let e = &self.extremes;
        let mut s = format!(
            "{} paths of {} days each (as long as the whole history), generated freely from the state at its end (seed {}). The tail of a day is the learnt Student-t mixture scaled by the volatility state the network gives it; no return is clipped or truncated, and the volatility state is not bounded except by the network's own inputs. History's bars for a broad equity index (the DJIA 1885–2023 and the S&P 500 1950–2018 over every 20-year window; sources in `synthmarket::facts::extremes`); a single stock's days run larger, so for a stock the scorecard after this table, which places its own history among the paths, is the test:\n\n| bar | measured | holds |\n|---|---|---|\n",
            e.paths, e.days, self.seed
        );
        for (bar, measured, holds) in e.against_history() {
            let _ = writeln!(
                s,
                "| {bar} | {measured} | {} |",
                if holds { "yes" } else { "**no**" }
            );
        }
        let _ = writeln!(
            s,
            "\nThe largest day, {:.1} % in log return, is {:.1} training standard deviations ({:.4} a day); the generator's overflow guard is at 40.",
            100.0 * e.largest_move,
            e.largest_move / self.scale,
            self.scale
        );
        let _ = writeln!(
            s,
            "\nThe whole history among these paths (the noise-aware scorecard: a statistic matches at p ≥ 0.05): {} of {} statistics matched, mean |z| {:.2}.\n",
            self.spread.matched,
            self.spread.rows.len(),
            self.spread.mean_abs_z
        );
        s.push_str(&self.spread.rows_markdown());
        s
    }
}

impl TrainMetrics {
    /// The training candidates as a Markdown table: seed, validation NLL,
    /// its shortfall from the best in standard errors, the free-running
    /// volatility against the filtered one at each quantile, the distance,
    /// and which was kept.
    pub fn candidates_table(&self) -> String {
        let mut s = String::from("| seed | validation NLL | shortfall (se) |");
        let qs: Vec<f64> = self.candidates.first().map_or_else(Vec::new, |c| {
            c.volatility.quantiles.iter().map(|q| q.0).collect()
        });
        for q in &qs {
            let _ = write!(s, " vol q{} free / filtered |", q * 100.0);
        }
        let _ = writeln!(s, " distance | kept |");
        let _ = writeln!(s, "|---|---|---|{}---|---|", "---|".repeat(qs.len()));
        for c in &self.candidates {
            let _ = write!(
                s,
                "| {} | {:.4} | {:.2}{} |",
                c.seed,
                c.validation_nll,
                c.nll_gap_se,
                if c.admissible { "" } else { " (out)" }
            );
            for (_, filtered, free) in &c.volatility.quantiles {
                let _ = write!(s, " {:.1} % / {:.1} % |", 100.0 * free, 100.0 * filtered);
            }
            let _ = writeln!(
                s,
                " {:.3} | {} |",
                c.volatility.distance,
                if c.chosen { "**yes**" } else { "" }
            );
        }
        s
    }

    /// Each model's distance rows, computed once for the table and the
    /// checks.
    fn distance_rows(&self) -> Vec<Vec<(String, f64)>> {
        self.scorecards
            .iter()
            .map(|e| e.card.distance_rows())
            .collect()
    }

    /// The comparison table of the scorecards (Markdown; the best distance
    /// of each row in bold).
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = write!(s, "| score (0 = identical) |");
        for e in &self.scorecards {
            let _ = write!(s, " {} |", e.model);
        }
        let _ = writeln!(s, "\n|---|{}", "---|".repeat(self.scorecards.len()));
        let rows = self.distance_rows();
        let names = rows.first().map_or(&[][..], Vec::as_slice);
        for (i, (name, _)) in names.iter().enumerate() {
            let vals: Vec<f64> = rows
                .iter()
                .map(|model| model.get(i).map_or(f64::NAN, |r| r.1))
                .collect();
            let best = vals
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min);
            let _ = write!(s, "| {name} |");
            for v in vals {
                if v == best {
                    let _ = write!(s, " **{}** |", num(v));
                } else {
                    let _ = write!(s, " {} |", num(v));
                }
            }
            let _ = writeln!(s);
        }
        let _ = write!(s, "| discriminative accuracy (0.5 best) |");
        for e in &self.scorecards {
            let _ = write!(s, " {:.3} |", e.card.discriminative.accuracy);
        }
        let _ = write!(s, "\n| memorization audit (Z_U) |");
        for e in &self.scorecards {
            let a = &e.card.memorization;
            let _ = write!(
                s,
                " {} ({:.2}) |",
                if a.passed { "passed" } else { "FAILED" },
                a.z_u
            );
        }
        let _ = write!(
            s,
            "\n| facts present (of 7; real: {}) |",
            self.scorecards.first().map_or(0, |e| e
                .card
                .facts
                .iter()
                .filter(|f| f.real_present)
                .count())
        );
        for e in &self.scorecards {
            let _ = write!(
                s,
                " {} |",
                e.card.facts.iter().filter(|f| f.synthetic_present).count()
            );
        }
        let _ = writeln!(s);
        s
    }

    /// The acceptance checks of the deep model against the baselines on the
    /// test period: (statement, the scores where it does not hold; empty: it
    /// holds).
    pub fn checks(&self) -> Vec<(String, Vec<String>)> {
        let rows = self.distance_rows();
        let none = Vec::new();
        let deep = rows.first().unwrap_or(&none);
        let beats = |other: usize, only: &dyn Fn(&str) -> bool| -> Vec<String> {
            deep.iter()
                .zip(rows.get(other).unwrap_or(&none))
                .filter(|((name, _), _)| only(name))
                .filter(|((_, d), (_, o))| d.partial_cmp(o) != Some(std::cmp::Ordering::Less))
                .map(|((name, d), (_, o))| format!("{name} ({} vs {})", num(*d), num(*o)))
                .collect()
        };
        let all = |_: &str| true;
        let garch_scores = |n: &str| {
            n.starts_with("acf |r|") || n.starts_with("leverage |r|") || n.starts_with("Hill")
        };
        let Some(card) = self.scorecards.first().map(|e| &e.card) else {
            return Vec::new();
        };
        let missing: Vec<String> = card
            .facts
            .iter()
            .filter(|f| f.real_present && !f.synthetic_present)
            .map(|f| f.fact.clone())
            .collect();
        let audit = &card.memorization;
        let spread = |model: &str| {
            self.scorecards
                .iter()
                .find(|e| e.model == model)
                .map(|e| (e.spread.matched, e.spread.mean_abs_z))
        };
        let noise_aware: Vec<(String, Vec<String>)> = self
            .noise_aware_wins()
            .into_iter()
            .map(|(model, wins)| {
                let fails = if wins {
                    vec![]
                } else {
                    let (d, o) = (spread("deep"), spread(&model));
                    vec![format!(
                        "matched {} vs {}, mean |z| {:.2} vs {:.2}",
                        d.map_or(0, |x| x.0),
                        o.map_or(0, |x| x.0),
                        d.map_or(f64::NAN, |x| x.1),
                        o.map_or(f64::NAN, |x| x.1)
                    )]
                };
                (
                    format!("beats {model} under the noise-aware criterion (matches at least as many statistics, smaller mean |z|)"),
                    fails,
                )
            })
            .collect();
        let checks = [
            ("every stylized fact of the test period present".to_string(), missing),
            ("closer to real than GBM on every score".to_string(), beats(2, &all)),
            ("closer to real than Heston on every score".to_string(), beats(3, &all)),
            (
                "closer than GJR-GARCH-t on the |r|-ACF profile, the leverage profile and both tail indices".to_string(),
                beats(1, &garch_scores),
            ),
            (
                "memorization audit passed".to_string(),
                if audit.passed {
                    vec![]
                } else {
                    vec![format!("Z_U {:.2}, {} replays", audit.z_u, audit.replays)]
                },
            ),
        ];
        checks.into_iter().chain(noise_aware).collect()
    }

    /// The noise-aware table: per model, the statistics of the test period
    /// it matches (p ≥ 0.05 among its own paths of the test period's
    /// length), its mean |z| and the statistics it misses.
    pub fn spread_table(&self) -> String {
        let mut s = String::new();
        let n = self.scorecards.first().map_or(0, |e| e.spread.rows.len());
        let _ = writeln!(s, "| model | statistics matched (of {n}) | mean \\|z\\| | missed (p < 0.05) |\n|---|---|---|---|");
        for e in &self.scorecards {
            let missed: Vec<String> = e
                .spread
                .rows
                .iter()
                .filter(|r| !r.matches)
                .map(|r| r.statistic.replace('|', "\\|"))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {:.2} | {} |",
                e.model,
                e.spread.matched,
                e.spread.mean_abs_z,
                if missed.is_empty() {
                    "none".to_string()
                } else {
                    missed.join(", ")
                }
            );
        }
        s
    }

    /// The noise-aware verdicts of the deep model against GJR-GARCH-t and
    /// Heston ([`Spread::beats`]): (baseline, deep beats it).
    pub fn noise_aware_wins(&self) -> Vec<(String, bool)> {
        let Some(deep) = self.scorecards.first() else {
            return Vec::new();
        };
        self.scorecards
            .iter()
            .filter(|e| e.model == "GJR-GARCH-t" || e.model == "Heston")
            .map(|e| (e.model.clone(), deep.spread.beats(&e.spread)))
            .collect()
    }

    /// [`Self::checks`] as a Markdown task list.
    pub fn checks_text(&self) -> String {
        let mut s = String::new();
        for (what, fails) in self.checks() {
            let holds = fails.is_empty();
            let _ = write!(s, "- [{}] {what}", if holds { "x" } else { " " });
            if !holds {
                let _ = write!(s, ": not on {}", fails.join("; "));
            }
            let _ = writeln!(s);
        }
        s
    }

    /// What the summary and the model card say when the test period is too
    /// short for the scorecards.
    pub const TOO_SHORT: &'static str = "too short for the stylized-fact scorecards (they need 125 returns); only the NLLs above score this model";

    /// The summary `synthmarket train` prints: epochs, NLLs beside
    /// GJR-GARCH-t's, the comparison table and the checks.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let r = &self.report;
        let _ = writeln!(
            s,
            "trained {} epochs (best {}) in {:.1} s on {} observations",
            r.epochs_run, r.best_epoch, r.seconds, r.train_observations
        );
        let _ = writeln!(
            s,
            "NLL per day (daily log returns): train {:.4}, validation {:.4}, test {:.4}; GJR-GARCH-t test {:.4} ({})",
            r.nll.0,
            r.nll.1,
            self.test_nll_deep,
            self.test_nll_garch,
            if self.test_nll_deep < self.test_nll_garch { "deep is better" } else { "GJR-GARCH-t is better" }
        );
        if self.scorecards.is_empty() {
            let _ = writeln!(s, "test period {}: {}", self.test_period, Self::TOO_SHORT);
        } else {
            let _ = writeln!(s, "test period {}:\n{}", self.test_period, self.table());
            let _ = writeln!(
                s,
                "noise-aware scorecard (the test period among each model's paths):\n{}",
                self.spread_table()
            );
            let _ = writeln!(s, "checks:\n{}", self.checks_text());
        }
        if let Some(l) = &self.long_paths {
            let bars = l.extremes.against_history();
            let missed: Vec<&str> = bars.iter().filter(|b| !b.2).map(|b| b.0.as_str()).collect();
            let _ = writeln!(
                s,
                "long paths ({} × {} days, free from the end of the history): {} of {} of an index history's extreme bars hold{}; the whole history matches {} of {} statistics among them (mean |z| {:.2})",
                l.extremes.paths,
                l.extremes.days,
                bars.len() - missed.len(),
                bars.len(),
                if missed.is_empty() {
                    String::new()
                } else {
                    format!(" (not: {})", missed.join("; "))
                },
                l.spread.matched,
                l.spread.rows.len(),
                l.spread.mean_abs_z
            );
        }
        s
    }
}
