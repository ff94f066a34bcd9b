//! Scoring every customer: churn probability with reasons, expected purchases, next order and CLV
//! from BG/NBD and Gamma-Gamma fitted on the whole history up to the scoring date; a labelled
//! rule-based estimate when there are too few repeat buyers to fit.
//!
//! The fit ([`fit`]) reads grouped statistics and the repeat buyers' spend, and the formulas
//! ([`Scorer`]) one customer at a time: the same code scores a workspace ([`score`]) and the
//! statistics a Spark job wrote as Parquet (`scudo score --from-parquet`, src/models/parquet.rs).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;
use chrono::{Duration, NaiveDate};

use super::bgnbd::BgNbd;
use super::churn::{self, Features};
use super::gamma_gamma::GammaGamma;
use super::{Grouped, Summary, Unit, spend_data, summaries};
use crate::config::ModelSettings;
use crate::queries::{Catalog, QueryContext};
use crate::store::Store;
use crate::store::scores::ModelRow;

/// What the fit found, for the run's record and the summary.
#[derive(Debug, Clone)]
pub struct FitReport {
    pub bgnbd: Option<(BgNbd, f64)>,
    pub gamma_gamma: Option<(GammaGamma, f64)>,
    pub customers: usize,
    pub repeat_buyers: usize,
    pub seconds: f64,
    /// Why the models were not used, when they were not.
    pub fallback: Option<String>,
}

const DAYS_PER_MONTH: f64 = 30.436_875;

/// Each buyer's churn features, sorted by customer id (as features.sql returns them): looked up
/// by binary search. (A hash map of a million ids took 0.5–1.1 s to build, more than the query.)
struct ByCustomer(Vec<(String, Features)>);

impl ByCustomer {
    fn new(mut rows: Vec<(String, Features)>) -> ByCustomer {
        if !rows.is_sorted_by(|a, b| a.0 <= b.0) {
            rows.sort_by(|a, b| a.0.cmp(&b.0));
        }
        ByCustomer(rows)
    }

    fn get(&self, id: &str) -> Option<&Features> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(id)).ok().map(|i| &self.0[i].1)
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

fn features(store: &Store, catalog: &Catalog, ctx: &QueryContext) -> Result<ByCustomer> {
    let cols = catalog.columns_with(store, "models.features", ctx, &[])?;
    let origin = "models.features";
    let (ids, orders, days, gap) = (
        cols.texts("customer_id", origin)?,
        cols.ints("orders", origin)?,
        cols.ints("days_since_last_order", origin)?,
        cols.ints("typical_gap_days", origin)?,
    );
    let (fr, sr, rate, disc) = (
        cols.floats("frequency_ratio", origin)?,
        cols.floats("spend_ratio", origin)?,
        cols.floats("spend_rate_ratio", origin)?,
        cols.floats("discount_share", origin)?,
    );
    let rows = ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let f = Features {
                orders: orders[i].unwrap_or(0),
                days_since_last: days[i],
                typical_gap_days: gap[i],
                frequency_ratio: fr[i],
                spend_ratio: sr[i],
                discount_share: disc[i],
                spend_rate_ratio: rate[i],
            };
            (id, f)
        })
        .collect();
    Ok(ByCustomer::new(rows))
}

fn trend(ratio: Option<f64>) -> &'static str {
    match ratio {
        None => "too early to tell",
        Some(r) if r > 1.2 => "rising",
        Some(r) if r < 0.8 => "declining",
        Some(_) => "stable",
    }
}

/// Fits BG/NBD on `grouped` and Gamma-Gamma on `spend` (repeat buyers' (x, m)), or says why the
/// models are not used: fewer repeat buyers than `settings.min_repeat_buyers`, or no convergence.
pub fn fit(grouped: &Grouped, spend: &[(f64, f64)], settings: &ModelSettings) -> FitReport {
    let started = Instant::now();
    let repeat_buyers =
        grouped.by_x.iter().filter(|(x, _)| *x > 0.0).flat_map(|(_, v)| v.iter().map(|r| r.2)).sum::<f64>() as usize;
    let mut report = FitReport {
        bgnbd: None,
        gamma_gamma: None,
        customers: grouped.customers as usize,
        repeat_buyers,
        seconds: 0.0,
        fallback: None,
    };
    if (repeat_buyers as i64) < settings.min_repeat_buyers {
        report.fallback = Some(format!(
            "only {repeat_buyers} repeat buyers, fewer than the {} a model needs",
            settings.min_repeat_buyers
        ));
    } else {
        let (bg, ll) = BgNbd::fit(grouped);
        crate::store::timing("fitting BG/NBD", started, None);
        if ll.is_finite() {
            report.bgnbd = Some((bg, ll));
        } else {
            report.fallback = Some("the BG/NBD fit did not converge".to_string());
        }
        if spend.len() as i64 >= settings.min_repeat_buyers {
            let (gg, gll) = GammaGamma::fit(spend);
            if gll.is_finite() && gg.q > 1.0 {
                report.gamma_gamma = Some((gg, gll));
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    crate::store::timing("fitting BG/NBD and Gamma-Gamma", started, None);
    report
}

/// The numerators of expected purchases per (x, T), shared by the customers that have them.
pub type Numerators = HashMap<(u64, u64), Vec<f64>>;

/// Scores one customer at a time from the fitted models (or the rule-based estimate).
pub struct Scorer<'a> {
    fit: &'a FitReport,
    settings: &'a ModelSettings,
    unit: Unit,
    as_of: NaiveDate,
    horizon: f64,
    monthly_discount: f64,
    months: i64,
}

impl<'a> Scorer<'a> {
    pub fn new(fit: &'a FitReport, settings: &'a ModelSettings, unit: Unit, as_of: NaiveDate) -> Scorer<'a> {
        Scorer {
            fit,
            settings,
            unit,
            as_of,
            horizon: settings.churn_horizon_days as f64 / unit.days(),
            monthly_discount: (1.0 + settings.annual_discount_rate).powf(1.0 / 12.0) - 1.0,
            months: settings.clv_horizon_months.max(0),
        }
    }

    /// The fitted BG/NBD, when the models are used.
    fn bgnbd(&self) -> Option<&BgNbd> {
        match (&self.fit.bgnbd, &self.fit.fallback) {
            (Some((bg, _)), None) => Some(bg),
            _ => None,
        }
    }

    /// The numerators of expected purchases by the churn horizon and by each month of the CLV
    /// horizon for a customer with x repeat purchases and age T: the hypergeometric parts, which
    /// depend on (x, T) only. Empty when the models are not used.
    pub fn numerators(&self, x: f64, t: f64) -> Vec<f64> {
        let Some(bg) = self.bgnbd() else { return Vec::new() };
        std::iter::once(self.horizon)
            .chain((1..=self.months).map(|k| k as f64 * DAYS_PER_MONTH / self.unit.days()))
            .map(|h| if h > 0.0 { bg.expected_numerator(h, x, t) } else { 0.0 })
            .collect()
    }

    /// One customer's scores from their statistics `s` and churn features `f`; `cache` holds the
    /// expected-purchase numerators already computed (one per scoring thread).
    pub fn row(&self, id: &str, s: &Summary, f: &Features, cache: &mut Numerators) -> ModelRow {
        let nums = cache.entry((s.x.to_bits(), s.t.to_bits())).or_insert_with(|| self.numerators(s.x, s.t));
        self.row_with(id, s, f, nums)
    }

    /// [`Self::row`] with the customer's [`Self::numerators`] given.
    pub fn row_with(&self, id: &str, s: &Summary, f: &Features, nums: &[f64]) -> ModelRow {
        let reasons = churn::reasons(f).join("; ");
        let mut row = ModelRow {
            customer_id: id.to_string(),
            clv_trend: Some(trend(f.spend_rate_ratio).to_string()),
            churn_reasons: (!reasons.is_empty()).then_some(reasons),
            ..ModelRow::default()
        };
        let (horizon, months, unit) = (self.horizon, self.months, self.unit);
        match (&self.fit.bgnbd, &self.fit.fallback) {
            (Some((bg, _)), None) => {
                let p = bg.p_no_purchase(horizon, s.x, s.t_x, s.t);
                let alive = bg.p_alive(s.x, s.t_x, s.t);
                row.churn_probability = Some(p);
                row.churn_band = Some(churn::band(p).to_string());
                row.churn_method = Some("BG/NBD".to_string());
                row.p_alive = Some(alive);
                // Expected purchases by the churn horizon and by each month of the CLV horizon,
                // from the numerators shared by every customer with the same (x, T).
                let den = bg.expected_denominator(s.x, s.t_x, s.t);
                row.expected_purchases = Some((nums[0] / den).max(0.0));
                row.next_order_date = (alive >= 0.5)
                    .then(|| bg.expected_wait(s.x, s.t))
                    .flatten()
                    .map(|w| self.as_of + Duration::days((w * unit.days()).round() as i64));
                let spend = match &self.fit.gamma_gamma {
                    Some((gg, _)) => gg.expected_average(s.x, s.m),
                    None => s.m.unwrap_or(0.0),
                };
                let mut clv = 0.0;
                let mut before = 0.0;
                for k in 1..=months {
                    let upto = (nums[k as usize] / den).max(0.0);
                    clv += (upto - before) * spend / (1.0 + self.monthly_discount).powi(k as i32);
                    before = upto;
                }
                row.clv_cents = Some((clv * 100.0).round() as i64);
            }
            (_, why) => {
                let horizon_days = self.settings.churn_horizon_days;
                let p = churn::rule_based(f.days_since_last.unwrap_or(0), f.typical_gap_days, horizon_days);
                row.churn_probability = Some(p);
                row.churn_band = Some(churn::band(p).to_string());
                row.churn_method = Some(format!("rule-based ({})", why.clone().unwrap_or_default()));
            }
        }
        row
    }
}

/// Scores every buyer on `ctx.as_of`.
pub fn score(
    store: &Store,
    catalog: &Catalog,
    ctx: &QueryContext,
    settings: &ModelSettings,
) -> Result<(Vec<ModelRow>, FitReport)> {
    let unit = if settings.unit == "day" { Unit::Day } else { Unit::Week };
    let started = Instant::now();
    let data = summaries(store, catalog, ctx, ctx.as_of, unit)?;
    let plain: Vec<Summary> = data.iter().map(|(_, s)| *s).collect();
    let grouped = Grouped::new(&plain);
    crate::store::timing("grouping the summaries", started, Some(grouped.len()));
    let report = fit(&grouped, &spend_data(&plain), settings);
    let reading = Instant::now();
    let feats = features(store, catalog, ctx)?;
    crate::store::timing("the churn features by customer", reading, Some(feats.len()));
    let scoring = Instant::now();
    let scorer = Scorer::new(&report, settings, unit, ctx.as_of);
    // The numerators first, once per distinct (x, T) (thirteen hypergeometric series each, most
    // of the work), split between two threads; then the customers, independent, two halves in
    // order. (Each thread keeping its own cache computed most (x, T) twice.)
    let keys: Vec<(f64, f64)> = {
        let mut seen = std::collections::HashSet::new();
        data.iter().map(|(_, s)| (s.x, s.t)).filter(|(x, t)| seen.insert((x.to_bits(), t.to_bits()))).collect()
    };
    let numerators = |part: &[(f64, f64)]| -> Vec<((u64, u64), Vec<f64>)> {
        part.iter().map(|&(x, t)| ((x.to_bits(), t.to_bits()), scorer.numerators(x, t))).collect()
    };
    let none = Features::default();
    let shared: Numerators = if scorer.bgnbd().is_none() {
        Numerators::default()
    } else if keys.len() < 2_000 {
        numerators(&keys).into_iter().collect()
    } else {
        let (first, second) = keys.split_at(keys.len() / 2);
        std::thread::scope(|scope| -> Result<Numerators> {
            let other = scope.spawn(|| numerators(second));
            let mut all: Numerators = numerators(first).into_iter().collect();
            all.extend(other.join().map_err(|_| anyhow::anyhow!("scoring a customer failed unexpectedly"))?);
            Ok(all)
        })?
    };
    let score_all = |part: &[(String, Summary)]| -> Vec<ModelRow> {
        part.iter()
            .map(|(id, s)| {
                let nums = shared.get(&(s.x.to_bits(), s.t.to_bits())).map_or(&[][..], Vec::as_slice);
                scorer.row_with(id, s, feats.get(id).unwrap_or(&none), nums)
            })
            .collect()
    };
    let rows: Vec<ModelRow> = if data.len() < 20_000 {
        score_all(&data)
    } else {
        let (first, second) = data.split_at(data.len() / 2);
        std::thread::scope(|scope| -> Result<Vec<ModelRow>> {
            let other = scope.spawn(|| score_all(second));
            let mut rows: Vec<ModelRow> = score_all(first);
            rows.extend(other.join().map_err(|_| anyhow::anyhow!("scoring a customer failed unexpectedly"))?);
            Ok(rows)
        })?
    };
    crate::store::timing("scoring every customer", scoring, Some(rows.len()));
    Ok((rows, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_found_by_id_in_any_order() {
        let row = |id: &str, orders: i64| (id.to_string(), Features { orders, ..Default::default() });
        for rows in [
            vec![row("a", 1), row("b", 2), row("c10", 3), row("c9", 4)],
            vec![row("c9", 4), row("a", 1), row("c10", 3), row("b", 2)],
        ] {
            let by = ByCustomer::new(rows);
            assert_eq!(by.len(), 4);
            let found: Vec<i64> = ["a", "b", "c10", "c9"].iter().map(|id| by.get(id).unwrap().orders).collect();
            assert_eq!(found, vec![1, 2, 3, 4]);
            assert!(by.get("c").is_none() && by.get("").is_none() && by.get("d").is_none());
        }
    }
}
