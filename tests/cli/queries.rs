//! SQL files as the extension point: list, show, run (read-only, parameters bound), new.

use crate::harness::{Scudo, demo};

#[test]
fn a_users_sql_file_is_listed_and_runs() {
    let (s, ws) = demo();
    std::fs::create_dir_all(ws.join("queries/kpi")).unwrap();
    std::fs::write(
        ws.join("queries/kpi/big_spenders.sql"),
        "-- description: Customers above a spend threshold\n-- params: min_revenue INTEGER\n\
         SELECT name, revenue FROM customer_facts($as_of, $currency) WHERE revenue >= $min_revenue ORDER BY revenue DESC;\n",
    )
    .unwrap();
    let list = s.run_in(&ws, &["query", "list", "--format", "json"]).json();
    let mine = list["rows"].as_array().unwrap().iter().find(|r| r["id"] == "kpi.big_spenders").expect("listed");
    assert_eq!(mine["description"], "Customers above a spend threshold");
    assert!(mine["origin"].as_str().unwrap().ends_with("big_spenders.sql"));

    let r = s.run_in(&ws, &["query", "run", "kpi.big_spenders", "--param", "min_revenue=4000", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<String> =
        r.json()["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Sarah Chen", "David Park"]);

    let bad = s.run_in(&ws, &["query", "run", "kpi.big_spenders", "--param", "min_revenue=lots"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("not a whole number"), "{}", bad.stderr);
}

#[test]
fn parameters_are_bound_not_spliced() {
    let (s, ws) = demo();
    let evil = "x'; DROP TABLE orders; --";
    let r = s.run_in(
        &ws,
        &["query", "run", "--sql", "SELECT $who AS who", "--param", &format!("who={evil}"), "--format", "csv"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    assert_eq!(&rd.records().next().unwrap().unwrap()[0], evil);
    let db = Scudo::db(&ws);
    assert_eq!(crate::harness::scalar_i64(&db, "SELECT count(*) FROM orders"), 57);
}

#[test]
fn ad_hoc_sql_is_read_only_and_sandboxed() {
    let (s, ws) = demo();
    for sql in ["DELETE FROM orders", "CREATE TABLE t AS SELECT 1", "COPY orders TO 'leak.csv'"] {
        let r = s.run_in(&ws, &["query", "run", "--sql", sql]);
        assert_eq!(r.code, 2, "{sql} was not refused");
        assert!(r.stderr.contains("read-only"), "{sql}: {}", r.stderr);
    }
    assert!(!ws.join("leak.csv").exists());
    let db = Scudo::db(&ws);
    assert_eq!(crate::harness::scalar_i64(&db, "SELECT count(*) FROM orders"), 57);
}

#[test]
fn a_failing_query_names_its_file_and_line() {
    let (s, ws) = demo();
    std::fs::create_dir_all(ws.join("queries")).unwrap();
    std::fs::write(
        ws.join("queries/broken.sql"),
        "-- description: broken\nSELECT\n  nonsense_column\nFROM customers;\n",
    )
    .unwrap();
    let r = s.run_in(&ws, &["query", "run", "broken"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("broken.sql:3"), "{}", r.stderr);
    assert!(r.stderr.contains("nonsense_column"), "{}", r.stderr);
}

#[test]
fn overriding_the_stage_rules_changes_the_dashboard() {
    let (s, ws) = demo();
    let stock = s.run_in(&ws, &["query", "show", "health.stages"]).stdout;
    assert!(stock.contains("CREATE OR REPLACE TEMP MACRO customer_stages"));
    // A stricter VIP rule in the workspace's own copy of the file.
    let sql = stock
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n")
        .replace("f.revenue >= vip_min_revenue", "f.revenue >= vip_min_revenue * 2");
    std::fs::create_dir_all(ws.join("queries/health")).unwrap();
    std::fs::write(ws.join("queries/health/stages.sql"), sql).unwrap();
    let d = s.run_in(&ws, &["dashboard", "--format", "json"]).json();
    let vip = d["health"].as_array().unwrap().iter().find(|h| h["stage"] == "VIP").unwrap();
    assert_eq!(vip["customers"], 0);
}

#[test]
fn query_new_writes_a_template_that_runs() {
    let (s, ws) = demo();
    s.run_in(&ws, &["query", "new", "kpi.top"]);
    assert!(ws.join("queries/kpi/top.sql").exists());
    let r = s.run_in(&ws, &["query", "run", "kpi.top", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["rows"][0]["name"], "Sarah Chen");
    assert_eq!(s.run_in(&ws, &["query", "new", "kpi.top"]).code, 2, "never overwrites");
    assert_eq!(s.run_in(&ws, &["query", "new", "../escape"]).code, 2);
}

#[test]
fn an_override_missing_expected_columns_is_an_error_not_a_crash() {
    let (s, ws) = demo();
    std::fs::create_dir_all(ws.join("queries/segments")).unwrap();
    std::fs::write(ws.join("queries/segments/performance.sql"), "-- description: mine\nSELECT 1 AS something_else;\n")
        .unwrap();
    let r = s.run_in(&ws, &["segments", "show", "VIP_HIGH_VALUE"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("must return a `segment_id` column"), "{}", r.stderr);
    std::fs::create_dir_all(ws.join("queries/cohorts")).unwrap();
    std::fs::write(ws.join("queries/cohorts/monthly.sql"), "-- description: mine\nSELECT 'x' AS cohort;\n").unwrap();
    let c = s.run_in(&ws, &["cohorts"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert!(c.stdout.contains("cohort"));
}

#[test]
fn query_new_for_a_builtin_id_starts_from_the_builtin_and_never_overwrites() {
    let (s, ws) = demo();
    let before = s.run_in(&ws, &["dashboard", "--format", "json"]).json();
    let r = s.run_in(&ws, &["query", "new", "health.stages"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("built-in"), "a note says where the file came from: {}", r.stderr);
    let copy = std::fs::read_to_string(ws.join("queries/health/stages.sql")).unwrap();
    assert!(copy.contains("CREATE OR REPLACE TEMP MACRO customer_stages"), "{copy}");
    // The workspace still works, with the same numbers.
    let after = s.run_in(&ws, &["dashboard", "--format", "json"]);
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert_eq!(after.json()["health"], before["health"]);

    // An edited file is never overwritten without --force.
    std::fs::write(ws.join("queries/health/stages.sql"), format!("{copy}\n-- mine\n")).unwrap();
    let again = s.run_in(&ws, &["query", "new", "health.stages"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert!(std::fs::read_to_string(ws.join("queries/health/stages.sql")).unwrap().contains("-- mine"));
    let forced = s.run_in(&ws, &["query", "new", "health.stages", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(std::fs::read_to_string(ws.join("queries/health/stages.sql")).unwrap(), copy);
}
