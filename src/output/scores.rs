//! Words about scores and the data behind them: which run the scores come from, when it is stale,
//! why no CLV was forecast, and when a date lies far past the data. Warnings go to stderr.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::group_thousands;
use crate::queries::scores::{DataEnd, LatestRun, STALE_AFTER_DAYS};

/// Prints a warning on stderr (also with `--quiet`: it is about the numbers, not progress).
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

fn days(n: i64) -> String {
    let s = group_thousands(n.unsigned_abs());
    if n == 1 { "1 day".to_string() } else { format!("{s} days") }
}

/// `model` → "fitted models", `rule-based` → "rule-based estimate".
pub fn method_words(method: &str) -> &'static str {
    if method == "rule-based" { "rule-based estimate" } else { "fitted models" }
}

/// "scoring run #2 of 2024-06-30 (rule-based estimate)".
pub fn describe(run_id: i64, scored_as_of: &str, method: &str) -> String {
    format!("scoring run #{run_id} of {scored_as_of} ({})", method_words(method))
}

/// When the scores shown on `as_of` come from a run more than [`STALE_AFTER_DAYS`] before it.
pub fn stale_warning(run_id: i64, scored_as_of: &str, age_days: i64, as_of: NaiveDate) -> Option<String> {
    (age_days > STALE_AFTER_DAYS).then(|| {
        format!(
            "the churn risk and CLV shown are from scoring run #{run_id} of {scored_as_of}, {} before {as_of}: \
             run `scudo score` for current scores",
            days(age_days)
        )
    })
}

/// Why a run forecast no CLV, when it did not.
pub fn clv_not_claimed(run: &LatestRun) -> Option<String> {
    if !run.is_rule_based() {
        return None;
    }
    let head = format!("the latest scoring run ({}) used the rule-based estimate", run.scored_as_of);
    Some(match (run.repeat_buyers, run.min_repeat_buyers, &run.fallback) {
        (Some(n), Some(min), _) if n < min => format!("{head}: too few repeat buyers ({n} < {min}) to forecast CLV"),
        (_, _, Some(why)) => format!("{head} ({why}), which forecasts no CLV"),
        _ => format!("{head}, which forecasts no CLV"),
    })
}

/// The run behind the scores, for JSON documents (`null` when nothing was scored yet).
pub fn run_json(run: Option<&LatestRun>) -> Value {
    run.map_or(Value::Null, |r| {
        json!({
            "run_id": r.run_id,
            "scored_as_of": r.scored_as_of.to_string(),
            "score_method": r.method,
            "score_age_days": r.age_days,
            "stale": r.is_stale(),
            "clv_note": clv_not_claimed(r),
        })
    })
}

/// `what` (`--until 2026-11-29`, `scoring as of 2026-11-29`) lies far past the data.
pub fn far_past_warning(what: &str, day: NaiveDate, end: &DataEnd, advice: &str) -> Option<String> {
    let (after, last) = (end.far_past(day)?, end.last_purchase?);
    Some(format!(
        "{what} is {} after the last purchase in the data ({last}); more than {} without a purchase reads as \
         every customer having left: {advice}",
        days(after),
        days(end.tolerance_days())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(method: &str, repeat: Option<i64>, min: Option<i64>) -> LatestRun {
        LatestRun {
            run_id: 2,
            scored_as_of: "2024-10-01".parse().unwrap(),
            method: method.into(),
            age_days: 31,
            fallback: Some("only 9 repeat buyers, fewer than the 30 a model needs".into()),
            repeat_buyers: repeat,
            min_repeat_buyers: min,
        }
    }

    #[test]
    fn says_why_no_clv() {
        assert_eq!(
            clv_not_claimed(&run("rule-based", Some(9), Some(30))).unwrap(),
            "the latest scoring run (2024-10-01) used the rule-based estimate: too few repeat buyers (9 < 30) to forecast CLV"
        );
        assert!(clv_not_claimed(&run("rule-based", Some(9), None)).unwrap().contains("(only 9 repeat buyers"));
        assert_eq!(clv_not_claimed(&run("model", Some(90), Some(30))), None);
        let d: NaiveDate = "2024-11-01".parse().unwrap();
        assert_eq!(stale_warning(2, "2024-10-01", 30, d), None);
        assert!(
            stale_warning(2, "2024-10-01", 10_392, d).unwrap().contains("run #2 of 2024-10-01, 10,392 days before")
        );
    }
}
