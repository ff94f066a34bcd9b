//! Issue 10: `scudo check` — the built-in checks on the demo, each broken on purpose, workspace
//! checks, broken check files, JUnit validated by a real schema validator, the history, and the
//! dashboard showing the latest run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Scudo, demo, scalar_i64};

/// A Python with the test tools (tests/tools/python-env creates it once per machine).
fn python() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/python-env");
    let out = Command::new(&script).output().expect("tests/tools/python-env runs");
    assert!(out.status.success(), "python-env failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Validates `file` against Jenkins' junit-10.xsd with Python's xmlschema.
fn assert_valid_junit(file: &Path) {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/junit_schema.py");
    let out = Command::new(python()).arg(tool).arg(file).output().expect("the validator runs");
    assert!(
        out.status.success(),
        "{} is not valid JUnit: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

/// The check named `name` in `scudo check --format json` output.
fn check<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name}"))
}

/// Runs an SQL statement on the workspace database directly (breaking it on purpose).
fn break_with(ws: &Path, sql: &str) {
    Scudo::db(ws).execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[test]
fn the_demo_passes_every_check_and_its_junit_validates() {
    let (s, ws) = demo();
    let junit = s.path().join("checks.xml");
    let r = s.run_in(&ws, &["check", "--junit", junit.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for name in [
        "orders_unique_numbers",
        "orders_amounts",
        "orders_known_customers",
        "orders_in_future",
        "currency_convertible",
        "imports_fresh",
        "revenue_in_band",
        "scores_current",
        "customers_duplicate_emails",
    ] {
        let line = r.stdout.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} missing"));
        assert!(line.contains(" pass "), "{line}");
    }
    assert!(r.stderr.contains("9 checks: 9 passed"), "{}", r.stderr);
    assert_valid_junit(&junit);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 9);
    assert!(xml.contains(r#"tests="9" failures="0" errors="0""#), "{xml}");

    let doc = s.run_in(&ws, &["check", "-f", "json", "-q"]).json();
    assert_eq!(doc["status"], "pass");
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["summary"]["passed"], 9);
    assert_eq!(check(&doc, "currency_convertible")["denominator"]["rows"], 57);
}

#[test]
fn each_broken_thing_is_reported_with_its_severity_and_exit_code() {
    let (s, ws) = demo();
    // A negative total: error, exit 2, with the row shown.
    break_with(&ws, "UPDATE orders SET total = -5, net_total = -5 WHERE order_id = (SELECT min(order_id) FROM orders)");
    let r = s.run_in(&ws, &["check", "-f", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let doc = r.json();
    let amounts = check(&doc, "orders_amounts");
    assert_eq!(amounts["status"], "error");
    assert_eq!(amounts["failing"], 1);
    assert_eq!(amounts["crossed"], "error_if > 0");
    assert_eq!(amounts["rows"][0]["problem"], "negative total");
    assert_eq!(check(&doc, "orders_unique_numbers")["status"], "pass");
    assert_eq!(doc["summary"]["failed"], 1);

    // The same order number under two ids (one order exported twice), imported from a real
    // Shopify export: error.
    let dup = ws.join("dup.csv");
    std::fs::write(
        &dup,
        "Name,Id,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Subtotal,Total,Currency\n\
         #9001,111,a@example.com,paid,2024-09-01 10:00:00 -0400,1,Mug,30.00,30.00,30.00,USD\n\
         #9002,112,b@example.com,paid,2024-09-02 10:00:00 -0400,1,Mug,30.00,30.00,30.00,USD\n\
         #9001,113,a@example.com,paid,2024-09-01 10:00:00 -0400,1,Mug,30.00,30.00,30.00,USD\n",
    )
    .unwrap();
    s.ok(&["-w", ws.to_str().unwrap(), "ingest", "-q", dup.to_str().unwrap()]);
    let doc = s.run_in(&ws, &["check", "-f", "json", "-q"]).json();
    let dup = check(&doc, "orders_unique_numbers");
    assert_eq!(dup["status"], "error");
    assert_eq!(dup["failing"], 1);
    assert_eq!(dup["rows"][0]["orders"], 2);
    assert_eq!(dup["rows"][0]["order_ids"], serde_json::json!(["shopify:111", "shopify:113"]));
    // … and across two imports: a later export numbers another order #9002.
    let later = ws.join("later.csv");
    std::fs::write(
        &later,
        "Name,Id,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Subtotal,Total,Currency\n\
         #9002,114,c@example.com,paid,2024-09-03 10:00:00 -0400,1,Mug,30.00,30.00,30.00,USD\n",
    )
    .unwrap();
    s.ok(&["-w", ws.to_str().unwrap(), "ingest", "-q", later.to_str().unwrap()]);
    let doc = s.run_in(&ws, &["check", "-f", "json", "-q", "--select", "orders_unique_numbers"]).json();
    let dup = check(&doc, "orders_unique_numbers");
    assert_eq!(dup["failing"], 2, "{dup}");
    assert_eq!(dup["rows"][1]["order_ids"], serde_json::json!(["shopify:112", "shopify:114"]));

    // A stale import is a warning after 36 hours and an error after 72: exit 2 now.
    break_with(&ws, "UPDATE import_log SET finished_at = finished_at - INTERVAL 50 HOUR");
    let doc = s.run_in(&ws, &["check", "-f", "json", "-q", "--select", "imports_*"]).json();
    let fresh = check(&doc, "imports_fresh");
    assert_eq!(fresh["status"], "warn", "{fresh}");
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(fresh["rows"][0]["severity"], "warn");
    break_with(&ws, "UPDATE import_log SET finished_at = finished_at - INTERVAL 30 HOUR");
    let r = s.run_in(&ws, &["check", "-q", "--select", "imports_*"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains("imports_fresh") && r.stdout.contains("error"), "{}", r.stdout);
    // Per-source limits in scudo.toml: a weekly Shopify export is fine at 80 hours.
    let toml = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("{text}\n[freshness.sources]\nshopify = {{ warn_after_hours = 192, error_after_hours = 336 }}\n"),
    )
    .unwrap();
    s.ok(&["-w", ws.to_str().unwrap(), "check", "-q", "--select", "imports_fresh"]);
}

#[test]
fn a_workspace_check_adds_to_the_built_ins_and_warnings_exit_1_or_2_with_fail_on_warn() {
    let (s, ws) = demo();
    std::fs::create_dir_all(ws.join("queries/checks")).unwrap();
    std::fs::write(
        ws.join("queries/checks/unreachable_buyers.sql"),
        "-- description: Buyers we may not email\n-- severity: warn\n-- owner: sales\n\
         SELECT customer_id, name FROM customers WHERE accepts_marketing IS NOT TRUE \
         AND customer_id IN (SELECT customer_id FROM orders) ORDER BY 1\n",
    )
    .unwrap();
    let expected = scalar_i64(
        &Scudo::db(&ws),
        "SELECT count(*) FROM customers WHERE accepts_marketing IS NOT TRUE \
         AND customer_id IN (SELECT customer_id FROM orders)",
    );
    assert!(expected > 0, "the demo has buyers who did not opt in");
    let r = s.run_in(&ws, &["check"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("unreachable_buyers"), "{}", r.stdout);
    assert!(r.stderr.contains("10 checks: 9 passed, 1 warning"), "{}", r.stderr);
    assert!(r.stdout.contains("Buyers we may not email"), "the failing check is explained: {}", r.stdout);
    let doc = s.run_in(&ws, &["check", "-f", "json", "--fail-on", "warn"]).json();
    let mine = check(&doc, "unreachable_buyers");
    assert_eq!(mine["failing"].as_i64(), Some(expected));
    assert_eq!(mine["owner"], "sales");
    assert_eq!(doc["exit_code"], 2);
    s.fails(&["-w", ws.to_str().unwrap(), "check", "-q", "--fail-on", "warn"], 2);

    // In JUnit a warning passes, and says so; with --fail-on warn it is a failure.
    let junit = s.path().join("w.xml");
    s.run_in(&ws, &["check", "-q", "--junit", junit.to_str().unwrap()]);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<system-out>warning: unreachable_buyers"), "{xml}");
    assert!(xml.contains(r#"failures="0""#));
    s.run_in(&ws, &["check", "-q", "--fail-on", "warn", "--junit", junit.to_str().unwrap()]);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"<failure message="unreachable_buyers"#), "{xml}");
    assert_valid_junit(&junit);

    // Disabled in scudo.toml: skipped, and the run passes again.
    let toml = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("disabled = []", "disabled = [\"unreachable_buyers\"]")).unwrap();
    let r = s.run_in(&ws, &["check", "--junit", junit.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("1 skipped"), "{}", r.stderr);
    assert!(std::fs::read_to_string(&junit).unwrap().contains("<skipped message=\"disabled\"/>"));
    assert_valid_junit(&junit);
}

#[test]
fn broken_check_files_are_named_with_their_line_and_the_others_still_run() {
    let (s, ws) = demo();
    let dir = ws.join("queries/checks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad_sql.sql"), "-- description: typo\nSELECT customer_id\nFROM customerz\n").unwrap();
    std::fs::write(dir.join("bad_threshold.sql"), "-- description: t\n-- warn_if: lots\nSELECT 1 AS x\n").unwrap();
    std::fs::write(dir.join("writes.sql"), "-- description: w\n\nDELETE FROM orders\n").unwrap();
    std::fs::write(dir.join("sneaky.sql"), "-- description: s\nWITH x AS (SELECT 1) DELETE FROM orders\n").unwrap();
    let orders = scalar_i64(&Scudo::db(&ws), "SELECT count(*) FROM orders");
    let junit = s.path().join("b.xml");
    let r = s.run_in(&ws, &["check", "--junit", junit.to_str().unwrap(), "-f", "json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["summary"]["broken"], 4);
    assert_eq!(doc["summary"]["passed"], 9, "the built-ins still ran");
    let msg = |n: &str| check(&doc, n)["message"].as_str().unwrap().to_string();
    assert!(msg("bad_sql").contains("bad_sql.sql:3:"), "{}", msg("bad_sql"));
    assert!(msg("bad_sql").contains("customerz"), "{}", msg("bad_sql"));
    assert!(msg("bad_threshold").contains("bad_threshold.sql:2: warn_if: `lots` is not a threshold"));
    assert!(msg("writes").contains("writes.sql:3: a check must read, not change, data"));
    assert!(msg("sneaky").contains("read-only"), "{}", msg("sneaky"));
    assert_eq!(scalar_i64(&Scudo::db(&ws), "SELECT count(*) FROM orders"), orders, "nothing was deleted");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<error ").count(), 4);
    assert_valid_junit(&junit);
    let table = s.run_in(&ws, &["check"]);
    assert_eq!(table.code, 3);
    assert!(table.stdout.contains("writes could not run: "), "{}", table.stdout);
}

#[test]
fn failing_rows_are_kept_for_show_and_every_run_is_in_the_history() {
    let (s, ws) = demo();
    s.run_in(&ws, &["check", "-q"]);
    break_with(
        &ws,
        "UPDATE orders SET refunded_total = total + 1 WHERE order_id IN (SELECT order_id FROM orders ORDER BY 1 LIMIT 12)",
    );
    let r = s.run_in(&ws, &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("… and 7 more"), "five rows shown, the rest counted: {}", r.stdout);
    let none = s.run_in(&ws, &["check", "show", "orders_amounts"]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("--store-failures"), "{}", none.stderr);
    s.run_in(&ws, &["check", "--store-failures", "-q"]);
    let shown = s.run_in(&ws, &["check", "show", "orders_amounts", "-f", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let doc = shown.json();
    assert_eq!(doc["rows"].as_array().unwrap().len(), 12);
    assert_eq!(doc["rows"][0]["problem"], "refund larger than the order");
    assert_eq!(doc["check"], "orders_amounts");
    s.fails(&["-w", ws.to_str().unwrap(), "check", "show", "no_such_check"], 2);

    let history = s.run_in(&ws, &["check", "history", "-f", "json"]).json();
    let runs = history["rows"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["status"], "error");
    assert_eq!(runs[2]["status"], "pass");
    assert_eq!(runs[0]["not_passing"][0], "orders_amounts (error)");
}

#[test]
fn the_dashboard_shows_the_latest_check_run() {
    let (s, ws) = demo();
    let before = s.run_in(&ws, &["dashboard", "-f", "json"]).json();
    assert!(before["checks"].is_null());
    assert!(s.run_in(&ws, &["dashboard"]).stdout.contains("Data checks: none run yet"));
    break_with(&ws, "UPDATE orders SET total = -1, net_total = -1 WHERE order_id = (SELECT min(order_id) FROM orders)");
    s.run_in(&ws, &["check", "-q"]);
    let after = s.run_in(&ws, &["dashboard", "-f", "json"]).json();
    assert_eq!(after["checks"]["status"], "error");
    assert_eq!(after["checks"]["failed"], 1);
    assert_eq!(after["checks"]["passed"], 8);
    let text = s.run_in(&ws, &["dashboard"]).stdout;
    assert!(text.contains("Data checks: error (8 passed, 1 error) · just now"), "{text}");
}

#[test]
fn select_and_exclude_take_globs_and_a_select_matching_nothing_is_an_error() {
    let (s, ws) = demo();
    let doc = s.run_in(&ws, &["check", "-f", "json", "--select", "orders_*", "--exclude", "*future"]).json();
    let names: Vec<&str> = doc["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["orders_amounts", "orders_known_customers", "orders_unique_numbers"]);
    let r = s.fails(&["-w", ws.to_str().unwrap(), "check", "--select", "nope*"], 2);
    assert!(r.stderr.contains("matches no check") && r.stderr.contains("orders_amounts"), "{}", r.stderr);
}

#[test]
fn an_empty_workspace_fails_freshness_nothing_imported() {
    let (s, ws) = crate::harness::Scudo::workspace();
    let r = s.run_in(&ws, &["check", "-f", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let fresh = check(&r.json(), "imports_fresh").clone();
    assert_eq!(fresh["status"], "error");
    assert_eq!(fresh["rows"][0]["kind"], "any");
}

/// The shell lines of a CI file: GitHub's `run:` steps (each its own shell) or GitLab's
/// `before_script` + `script` (one shell) and `after_script` (another).
fn ci_shells(yaml: &str, github: bool) -> Vec<Vec<String>> {
    if github {
        return yaml
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("run: "))
            .map(|c| vec![c.to_string()])
            .collect();
    }
    let (mut main, mut after, mut section) = (Vec::new(), Vec::new(), "");
    for l in yaml.lines() {
        let t = l.trim_start();
        if !l.starts_with("    ") && t.ends_with(':') {
            section = t.trim_end_matches(':');
            continue;
        }
        let Some(cmd) = t.strip_prefix("- ") else { continue };
        match section {
            "before_script" | "script" => main.push(cmd.to_string()),
            "after_script" => after.push(cmd.to_string()),
            _ => {}
        }
    }
    vec![main, after]
}

#[test]
fn the_ci_examples_run_as_written() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_scudo")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for (file, github) in [("github-actions.yml", true), ("gitlab-ci.yml", false)] {
        let (_s, ws) = demo();
        std::fs::copy(examples.join("nightly-check.sh"), ws.join("nightly-check.sh")).unwrap();
        let yaml = std::fs::read_to_string(examples.join(file)).unwrap();
        let shells = ci_shells(&yaml, github);
        assert!(shells.iter().flatten().any(|c| c.contains("./nightly-check.sh exports checks.xml")), "{file}");
        assert!(yaml.contains("checks.xml"), "{file} reports the JUnit file it writes");
        let run = |lines: &[String]| {
            let mut bash = Command::new("bash");
            bash.args(["-e", "-c", &lines.join("\n")]).current_dir(&ws).env("PATH", &path).env("CI_PROJECT_DIR", &ws);
            for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCUDO_")) {
                bash.env_remove(k);
            }
            bash.output().unwrap()
        };
        for lines in &shells {
            let out = run(lines);
            assert!(
                out.status.success(),
                "{file}: {lines:?} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_valid_junit(&ws.join("checks.xml"));
        assert!(std::fs::read_to_string(ws.join("checks.xml")).unwrap().contains(r#"failures="0""#));

        // Broken data fails the job that imports and checks.
        break_with(
            &ws,
            "UPDATE orders SET total = -1, net_total = -1 WHERE order_id = (SELECT min(order_id) FROM orders)",
        );
        let step = shells.iter().find(|l| l.iter().any(|c| c.contains("nightly-check.sh"))).unwrap();
        let out = run(step);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            std::fs::read_to_string(ws.join("checks.xml")).unwrap().contains(r#"<failure message="orders_amounts"#)
        );
    }
}
