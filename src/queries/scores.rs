//! Where the purchase data ends and which scoring run the scores on a date come from
//! (`scores.data_end`, `scores.latest_run`): the models' default calibration end, and the facts
//! behind the "far past the data" and "stale scores" warnings (docs/models.md).

use anyhow::Result;
use chrono::NaiveDate;

use super::{Catalog, QueryContext};
use crate::store::{Cell, Store};

/// A date more than this many days after the last purchase is far past the data, unless the data
/// itself was once quiet for longer (then its longest quiet spell is the limit).
pub const FAR_PAST_DAYS: i64 = 90;

/// Scores from a run whose as-of date is more than this many days before the date they are shown
/// on are stale: a month of orders (and, at the 45-day At-Risk rule, stage changes) they missed.
pub const STALE_AFTER_DAYS: i64 = 30;

/// Where the purchase data ends on or before a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataEnd {
    /// The last day with a purchase; `None` without purchases.
    pub last_purchase: Option<NaiveDate>,
    /// The most days between two consecutive purchase days.
    pub longest_quiet_days: i64,
}

impl DataEnd {
    /// How many days after the last purchase a date may lie before it is far past the data.
    pub fn tolerance_days(&self) -> i64 {
        self.longest_quiet_days.max(FAR_PAST_DAYS)
    }

    /// Days from the last purchase to `day` (negative before it).
    pub fn days_after(&self, day: NaiveDate) -> Option<i64> {
        self.last_purchase.map(|last| (day - last).num_days())
    }

    /// Days from the last purchase to `day`, when that is far past the data.
    pub fn far_past(&self, day: NaiveDate) -> Option<i64> {
        self.days_after(day).filter(|d| *d > self.tolerance_days())
    }
}

/// Where the purchase data ends on or before `ctx.as_of`.
pub fn data_end(store: &Store, catalog: &Catalog, ctx: &QueryContext) -> Result<DataEnd> {
    let q = "scores.data_end";
    let rs = catalog.run(store, q, ctx)?;
    let (last, quiet) = (rs.require("last_purchase", q)?, rs.require("longest_quiet_days", q)?);
    Ok(match rs.rows.first() {
        None => DataEnd { last_purchase: None, longest_quiet_days: 0 },
        Some(r) => DataEnd { last_purchase: date(&r[last]), longest_quiet_days: r[quiet].as_i64().unwrap_or(0) },
    })
}

/// The latest scoring run on or before a date.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestRun {
    pub run_id: i64,
    pub scored_as_of: NaiveDate,
    /// `model` or `rule-based`.
    pub method: String,
    /// Days from the run's as-of date to the date asked about.
    pub age_days: i64,
    /// Why the models were not used, when they were not.
    pub fallback: Option<String>,
    pub repeat_buyers: Option<i64>,
    /// The threshold the run applied (runs before it was recorded: `None`).
    pub min_repeat_buyers: Option<i64>,
}

impl LatestRun {
    pub fn is_rule_based(&self) -> bool {
        self.method == "rule-based"
    }

    pub fn is_stale(&self) -> bool {
        self.age_days > STALE_AFTER_DAYS
    }
}

/// The latest scoring run on or before `ctx.as_of`, if any.
pub fn latest_run(store: &Store, catalog: &Catalog, ctx: &QueryContext) -> Result<Option<LatestRun>> {
    let q = "scores.latest_run";
    let rs = catalog.run(store, q, ctx)?;
    let (id, as_of, method, age, params) = (
        rs.require("run_id", q)?,
        rs.require("scored_as_of", q)?,
        rs.require("score_method", q)?,
        rs.require("score_age_days", q)?,
        rs.require("parameters", q)?,
    );
    let Some(r) = rs.rows.first() else { return Ok(None) };
    let Some(scored_as_of) = date(&r[as_of]) else { return Ok(None) };
    let p: serde_json::Value = serde_json::from_str(&r[params].to_text()).unwrap_or_default();
    Ok(Some(LatestRun {
        run_id: r[id].as_i64().unwrap_or(0),
        scored_as_of,
        method: r[method].to_text(),
        age_days: r[age].as_i64().unwrap_or(0),
        fallback: p["fallback"].as_str().map(String::from),
        repeat_buyers: p["repeat_buyers"].as_i64(),
        min_repeat_buyers: p["min_repeat_buyers"].as_i64(),
    }))
}

fn date(c: &Cell) -> Option<NaiveDate> {
    match c {
        Cell::Date(d) => Some(*d),
        Cell::Timestamp(t) => Some(t.date()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_past_is_beyond_90_days_or_the_longest_quiet_spell() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let end = DataEnd { last_purchase: Some(d("1998-06-30")), longest_quiet_days: 3 };
        assert_eq!(end.far_past(d("1998-09-28")), None, "90 days after");
        assert_eq!(end.far_past(d("1998-09-29")), Some(91));
        let seasonal = DataEnd { longest_quiet_days: 150, ..end };
        assert_eq!(seasonal.far_past(d("1998-10-30")), None, "the shop was once quiet for longer");
        assert_eq!(DataEnd { last_purchase: None, longest_quiet_days: 0 }.far_past(d("2026-01-01")), None);
    }
}
