//! Scores shown with the run they come from (issue 17, item 6): its date and method (model or
//! rule-based) everywhere scores appear, a warning when it is stale, the reason when no CLV was
//! forecast, and rule-based figures that follow docs/models.md.

use std::path::PathBuf;

use crate::data_end::{json, old_shop};
use crate::harness::Scudo;

fn demo() -> (Scudo, PathBuf) {
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let ws = s.path().join("demo");
    (s, ws)
}

/// The rule-based figure the docs promise (docs/models.md): the chance the customer has stopped,
/// rounded to 5%, within 5–95%, from the days and usual gap the 360 itself shows.
fn rule_estimate(customer: &serde_json::Value) -> f64 {
    let days = customer["days_since_last_order"].as_f64().unwrap();
    let gap = customer["typical_gap_days"].as_f64().unwrap();
    // docs/models.md: P(stopped | silence) = p / (p + (1 − p)·e^(−days/gap)), p = 0.1, to 5%.
    let stopped = 0.1 / (0.1 + 0.9 * (-days / gap).exp());
    ((stopped * 20.0).round() / 20.0).clamp(0.05, 0.95)
}

#[test]
fn rule_based_scores_follow_the_documented_formula_and_say_so() {
    let (s, ws) = demo();
    let (run, _) = json(&s, &ws, &["score"]);
    assert!(run["models"]["fallback"].is_string(), "the demo is too small for the models: {run}");
    assert_eq!(run["models"]["min_repeat_buyers"], 30);
    let repeat = run["models"]["repeat_buyers"].as_i64().unwrap();

    for (name, days, gap, p, band) in [
        ("Lisa Thompson", 65, 48, 0.3, "medium"),
        ("Mike Johnson", 57, 47, 0.25, "medium"),
        ("Robert Wilson", 90, 147, 0.15, "low"),
    ] {
        let (c, err) = json(&s, &ws, &["customer", name]);
        let c360 = &c["customer"];
        assert_eq!(
            (c360["days_since_last_order"].as_i64(), c360["typical_gap_days"].as_i64()),
            (Some(days), Some(gap))
        );
        assert_eq!(c360["churn_probability"].as_f64(), Some(rule_estimate(c360)), "{name}: {c360}");
        assert_eq!(c360["churn_probability"].as_f64(), Some(p), "{name}");
        assert_eq!(c360["churn_band"], band, "{name}");
        assert_eq!(c360["score_method"], "rule-based");
        assert_eq!(c360["scored_as_of"], "2024-10-01");
        assert_eq!(c360["score_age_days"], 0);
        assert_eq!(c["score_run"]["stale"], false);
        assert!(!err.contains("warning"), "{err}");
        let table = s.run_in(&ws, &["customer", name]).stdout;
        assert!(
            table.contains("churn risk and CLV from scoring run #1 of 2024-10-01 (rule-based estimate)"),
            "{table}"
        );
        assert!(table.contains(&format!("churn risk {:.0}% ({band}, rule-based", p * 100.0)), "{table}");
        assert!(
            table.contains(&format!(
                "CLV not forecast: the latest scoring run (2024-10-01) used the rule-based estimate: too few repeat \
                 buyers ({repeat} < 30) to forecast CLV"
            )),
            "{table}"
        );
        // The trend needs no model: the plan's 360 reads "CLV Trend: Declining" for Mike.
        let trend = c360["clv_trend"].as_str().unwrap_or_default();
        assert_eq!(table.contains(&format!("CLV trend {trend} (")), !trend.is_empty(), "{table}");
    }
    let mike = s.run_in(&ws, &["customer", "Mike Johnson"]).stdout;
    assert!(mike.contains("  CLV trend declining ("), "{mike}");
    let csv = s.run_in(&ws, &["customer", "Lisa Thompson", "--format", "csv"]).stdout;
    // The long section,item,field,value layout: the profile's score fields are rows.
    assert!(csv.lines().any(|l| l.starts_with("customer,") && l.contains(",scored_as_of,2024-10-01")), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("customer,") && l.ends_with(",score_method,rule-based")), "{csv}");

    // `clv` right after `score`: the run exists, it claimed no CLV.
    let clv = s.run_in(&ws, &["clv"]);
    assert_eq!(
        clv.stdout,
        format!(
            "the latest scoring run (2024-10-01) used the rule-based estimate: too few repeat buyers ({repeat} < 30) \
             to forecast CLV\n"
        )
    );
    let (clv, _) = json(&s, &ws, &["clv"]);
    assert!(clv["rows"].as_array().unwrap().is_empty());
    assert_eq!(clv["score_run"]["score_method"], "rule-based");
    assert!(clv["score_run"]["clv_note"].as_str().unwrap().contains("too few repeat buyers"), "{clv}");

    let (churn, _) = json(&s, &ws, &["churn"]);
    for r in churn["rows"].as_array().unwrap() {
        assert_eq!(r["scored_as_of"], "2024-10-01");
        assert_eq!(r["score_method"], "rule-based");
    }
    let table = s.run_in(&ws, &["churn"]).stdout;
    assert!(table.contains("score_method") && table.contains("2024-10-01"), "{table}");
}

#[test]
fn stale_scores_say_how_old_they_are() {
    let (s, ws) = demo();
    json(&s, &ws, &["score", "--as-of", "2024-06-30"]);
    // The demo's date is 2024-10-01: the only run is 93 days old.
    let r = s.run_in(&ws, &["customer", "Lisa Thompson"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "warning: the churn risk and CLV shown are from scoring run #1 of 2024-06-30, 93 days before 2024-10-01: \
             run `scudo score` for current scores"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains(
            "churn risk and CLV from scoring run #1 of 2024-06-30 (rule-based estimate): 93 days before 2024-10-01"
        ),
        "{}",
        r.stdout
    );
    let (c, _) = json(&s, &ws, &["customer", "Lisa Thompson"]);
    assert_eq!(c["customer"]["score_age_days"], 93);
    assert_eq!(c["score_run"]["stale"], true);
    for cmd in ["churn", "clv"] {
        let r = s.run_in(&ws, &[cmd]);
        assert!(r.stderr.contains("scoring run #1 of 2024-06-30, 93 days before 2024-10-01"), "{cmd}: {}", r.stderr);
    }
    // A month is not stale yet.
    let r = s.run_in(&ws, &["customer", "Lisa Thompson", "--as-of", "2024-07-30"]);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

#[test]
fn scores_decades_old_are_dated_and_warned_about() {
    let (s, ws) = old_shop();
    json(&s, &ws, &["score", "--as-of", "2001-06-30"]);
    let (c, err) = json(&s, &ws, &["customer", "cust-000001", "--as-of", "2025-12-31"]);
    assert_eq!(c["customer"]["scored_as_of"], "2001-06-30");
    assert_eq!(c["customer"]["score_age_days"], 8950);
    assert_eq!(c["customer"]["score_method"], "model");
    assert_eq!(c["score_run"]["stale"], true);
    assert!(err.contains("from scoring run #1 of 2001-06-30, 8,950 days before 2025-12-31"), "{err}");
    let r = s.run_in(&ws, &["customer", "cust-000001", "--as-of", "2025-12-31"]);
    assert!(
        r.stdout.contains("churn risk and CLV from scoring run #1 of 2001-06-30 (fitted models): 8,950 days"),
        "{}",
        r.stdout
    );
}

/// The score history has no key (migration 20): one run per `scudo score`, each customer once in
/// it. A snapshot query that lists a customer twice is refused and nothing is stored.
#[test]
fn each_run_stores_each_customer_once_and_a_repeating_snapshot_is_refused() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    s.ok(&["-w", w, "score", "-q"]);
    s.ok(&["-w", w, "score", "-q", "--as-of", "2025-06-30"]);
    let count = |sql: &str| crate::harness::scalar_i64(&Scudo::db(&ws), sql);
    let customers = count("SELECT count(*) FROM customers");
    let runs = count("SELECT count(*) FROM score_runs");
    assert!(runs >= 2 && customers > 0, "{runs} runs, {customers} customers");
    assert_eq!(count("SELECT count(*) FROM customer_scores"), runs * customers);
    assert_eq!(count("SELECT count(DISTINCT (run_id, customer_id)) FROM customer_scores"), runs * customers);

    // The shipped snapshot with its first customer repeated.
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/scores/snapshot.sql")).unwrap();
    let at = shipped.find("\nSELECT").unwrap();
    let (header, body) = shipped.split_at(at + 1);
    let body = body.trim().trim_end_matches(';');
    std::fs::create_dir_all(ws.join("queries/scores")).unwrap();
    std::fs::write(
        ws.join("queries/scores/snapshot.sql"),
        format!(
            "{header}WITH s AS ({body})\nSELECT * FROM s UNION ALL (SELECT * FROM s ORDER BY customer_id LIMIT 1)\n"
        ),
    )
    .unwrap();
    let r = s.fails(&["-w", w, "score", "-q", "--as-of", "2025-03-31"], 2);
    assert!(r.stderr.contains("more than once") && r.stderr.contains("Nothing was stored"), "{}", r.stderr);
    assert_eq!(count("SELECT count(*) FROM score_runs"), runs);
    assert_eq!(count("SELECT count(*) FROM customer_scores"), runs * customers);
}
