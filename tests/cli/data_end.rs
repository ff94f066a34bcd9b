//! Models and scores on data that ends in the past (issue 17, item 5): the models calibrate to
//! where the data ends, and dates far past it are warned about and recorded.

use std::path::{Path, PathBuf};

use crate::harness::{Scudo, fixture, scalar_text};

pub fn json(s: &Scudo, ws: &Path, args: &[&str]) -> (serde_json::Value, String) {
    let mut full = args.to_vec();
    full.extend(["--format", "json"]);
    let r = s.run_in(ws, &full);
    assert_eq!(r.code, 0, "scudo {args:?}: {}", r.stderr);
    (r.json(), r.stderr)
}

/// tests/fixtures/old_shop.txt (make_old_shop.py): 80 customers in the CDNOW layout, the last
/// purchase on 2001-06-30, years before any day these tests run.
pub fn old_shop() -> (Scudo, PathBuf) {
    let (s, ws) = Scudo::workspace();
    let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mappings/cdnow.toml");
    s.ok(&[
        "-w",
        ws.to_str().unwrap(),
        "ingest",
        "-q",
        fixture("old_shop.txt").to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    (s, ws)
}

#[test]
fn models_on_old_data_calibrate_to_the_last_purchase() {
    let (s, ws) = old_shop();
    // No --as-of and no pinned date: "today" is decades after the data.
    let (fit, err) = json(&s, &ws, &["models", "fit", "--model", "bgnbd"]);
    assert_eq!(fit["until"], "2001-06-30", "defaults to the last purchase, not today: {fit}");
    assert_eq!(fit["last_purchase"], "2001-06-30");
    assert!(!err.contains("warning"), "{err}");
    let (explicit, _) = json(&s, &ws, &["models", "fit", "--model", "bgnbd", "--until", "2001-06-30"]);
    for k in ["r", "alpha", "a", "b", "log_likelihood"] {
        assert_eq!(fit["models"]["bgnbd"][k], explicit["models"]["bgnbd"][k], "{k}");
    }

    let (_, err) = json(&s, &ws, &["models", "fit", "--model", "bgnbd", "--until", "2026-01-01"]);
    assert!(
        err.contains("warning: --until 2026-01-01 is 8,951 days after the last purchase in the data (2001-06-30)")
            && err.contains("leave --until out to fit to 2001-06-30"),
        "{err}"
    );
    let (_, err) = json(&s, &ws, &["models", "fit", "--model", "bgnbd", "--until", "2001-09-28"]);
    assert!(!err.contains("warning"), "90 days after the data is not far past it: {err}");

    let (bt, err) = json(&s, &ws, &["models", "backtest", "--split", "2000-12-31"]);
    assert_eq!(bt["until"], "2001-06-30", "{bt}");
    assert!(!err.contains("warning"), "{err}");
    let error = bt["total_error_pct"].as_f64().unwrap();
    assert!(error.abs() < 50.0, "a half-year holdout, not a 25-year one: {error:+.1}%");
    let (_, err) = json(&s, &ws, &["models", "backtest", "--split", "2000-12-31", "--until", "2026-01-01"]);
    assert!(err.contains("leave --until out to test up to 2001-06-30"), "{err}");
}

#[test]
fn scoring_far_past_the_data_is_warned_about_and_recorded() {
    let (s, ws) = old_shop();
    let (run, err) = json(&s, &ws, &["score", "--as-of", "2026-01-01"]);
    assert!(
        err.contains(
            "warning: scoring as of 2026-01-01 is 8,951 days after the last purchase in the data (2001-06-30)"
        ) && err.contains("`scudo score --as-of 2001-06-30`"),
        "{err}"
    );
    assert_eq!(run["models"]["last_purchase"], "2001-06-30");
    assert_eq!(run["models"]["days_after_last_purchase"], 8951);
    let db = Scudo::db(&ws);
    let stored = scalar_text(&db, "SELECT parameters FROM score_runs WHERE as_of = DATE '2026-01-01'");
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["last_purchase"], "2001-06-30", "the run records it: {stored}");
    assert_eq!(stored["days_after_last_purchase"], 8951);
    drop(db);
    let (_, err) = json(&s, &ws, &["score", "--as-of", "2001-06-30"]);
    assert!(!err.contains("warning"), "{err}");
}
