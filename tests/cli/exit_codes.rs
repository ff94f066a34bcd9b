//! The exit-code contract (README "Exit codes", `scudo --help`): 0 ok · 1 ran, and a condition
//! holds (alerts listed, rows rejected, files skipped) · 2 error, nothing changed · 130 interrupted
//! (tested in recovery.rs with a real Ctrl-C).

use crate::harness::{Scudo, fixture};

const RULE: &str = "1 ran fine, and a condition holds (alerts listed, rows rejected, files not imported)";

#[test]
fn the_rule_is_in_the_help_and_the_readme() {
    let s = Scudo::new();
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = words(&s.ok(&["--help"]).stdout);
    assert!(help.contains(RULE), "{help}");
    assert!(help.contains("130 interrupted"), "{help}");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(words(&readme).contains(RULE), "README states the same rule");
    // The rule for several files, in `ingest --help` and the README.
    let dir_rule = "every usable file is imported, each in its own transaction, and each is reported";
    assert!(words(&s.ok(&["ingest", "--help"]).stdout).contains(dir_rule));
    assert!(words(&readme).to_lowercase().contains(dir_rule), "README states the directory rule");
}

#[test]
fn alerts_exit_1_when_there_are_alerts_and_0_when_there_are_none() {
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let ws = s.path().join("demo");
    let r = s.run_in(&ws, &["alerts", "--format", "json"]);
    assert_eq!(r.code, 1, "the demo has alerts: {}", r.stderr);
    assert!(!r.json()["rows"].as_array().unwrap().is_empty());
    // The dashboard reports alerts but is not a check: 0.
    assert_eq!(s.run_in(&ws, &["dashboard"]).code, 0);
    // Before any order, nobody needs attention: 0.
    let (s2, empty) = Scudo::workspace();
    let none = s2.run(&["-w", empty.to_str().unwrap(), "alerts"]);
    assert_eq!(none.code, 0, "{}", none.stderr);
}

#[test]
fn ingest_exits_0_clean_1_with_rejects_and_2_on_error() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    assert_eq!(s.run(&["-w", w, "ingest", fixture("stripe_payments.csv").to_str().unwrap()]).code, 1, "a row rejected");
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let clean = s.path().join("clean.csv");
    std::fs::write(&clean, "Record ID,First Name,Email\n7,Ann,ann@example.com\n").unwrap();
    assert_eq!(s.run(&["-w", w, "ingest", clean.to_str().unwrap()]).code, 0);
    assert_eq!(s.run(&["-w", w, "ingest", clean.to_str().unwrap()]).code, 0, "unchanged is fine");
    let dry = s.run(&["-w", w, "ingest", fixture("stripe_payments.csv").to_str().unwrap(), "--dry-run"]);
    assert_eq!(dry.code, 1, "a dry run with rejects says so too");
    assert_eq!(s.run(&["-w", w, "ingest", fixture("unknown_header.csv").to_str().unwrap()]).code, 2);
    assert_eq!(s.run(&["-w", w, "ingest", "--no-such-flag"]).code, 2, "usage errors are 2");
}
