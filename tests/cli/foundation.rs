//! The foundation: the demo's numbers, workspaces, the store's migrations and error paths.

use crate::harness::{Scudo, scalar_i64, scalar_text};

fn stage<'a>(d: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    d["health"].as_array().unwrap().iter().find(|s| s["stage"] == name).unwrap_or_else(|| panic!("no stage {name}"))
}

#[test]
fn demo_dashboard_reproduces_the_plan() {
    let s = Scudo::new();
    let d = s.ok(&["demo", "demo", "--format", "json", "-q"]).json();
    assert_eq!(d["schema_version"], 2);
    assert_eq!(d["as_of"], "2024-10-01");
    assert_eq!(d["currency"], "USD");
    let k = &d["kpis"];
    assert_eq!(k["customers"], 10);
    assert_eq!(k["active"], 7);
    assert_eq!(k["at_risk"], 2);
    assert_eq!(k["orders"], 57);
    assert_eq!(k["revenue"].to_string(), "28050.00");

    assert_eq!(stage(&d, "VIP")["customers"], 1);
    assert_eq!(stage(&d, "VIP")["revenue"].to_string(), "8500.00");
    assert_eq!(stage(&d, "Active")["customers"], 3);
    assert_eq!(stage(&d, "Active")["average_revenue"].to_string(), "3133.33");
    assert_eq!(stage(&d, "At-Risk")["customers"], 2);
    assert_eq!(stage(&d, "At-Risk")["average_revenue"].to_string(), "1575.00");
    let staged: i64 = d["health"].as_array().unwrap().iter().map(|s| s["customers"].as_i64().unwrap()).sum();
    assert_eq!(staged, 10, "every customer is in exactly one stage");

    let alerts = d["alerts"].as_array().unwrap();
    let names: Vec<&str> = alerts.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Lisa Thompson", "Mike Johnson", "Robert Wilson"]);
    assert_eq!(d["alerts_total"], 3);
    assert_eq!(alerts[0]["stage"], "At-Risk");
    assert_eq!(alerts[2]["stage"], "Dormant");
    assert_eq!(alerts[2]["reason"], "inactive 90 days");
    assert!(
        alerts[1]["reason"].as_str().unwrap().starts_with("at risk: no order for 57 days"),
        "{}",
        alerts[1]["reason"]
    );

    let segments = d["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 13);
    assert_eq!(segments[0]["segment"], "VIP_HIGH_VALUE");
    assert_eq!(segments[0]["revenue"].to_string(), "8500.00");
    assert_eq!(segments[1]["segment"], "BUSINESS_PROF");
    assert_eq!(segments[1]["revenue"].to_string(), "4800.00");
    let revenues: Vec<f64> = segments.iter().map(|s| s["revenue"].to_string().parse().unwrap()).collect();
    assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "segments are sorted by revenue: {revenues:?}");
}

#[test]
fn demo_profiled_customer_matches_the_plan() {
    // Checked straight in the database, independently of scudo's queries.
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let db = Scudo::db(&s.path().join("demo"));
    let mike = scalar_text(&db, "SELECT customer_id FROM customers WHERE name = 'Mike Johnson'");
    let q = |sql: &str| sql.replace("$C", &format!("'{mike}'"));
    assert_eq!(scalar_i64(&db, &q("SELECT count(*) FROM orders WHERE customer_id = $C")), 12);
    assert_eq!(scalar_text(&db, &q("SELECT sum(net_total)::VARCHAR FROM orders WHERE customer_id = $C")), "1200.00");
    assert_eq!(
        scalar_text(&db, &q("SELECT strftime(created_at, '%Y-%m') FROM customers WHERE customer_id = $C")),
        "2023-03"
    );
    assert_eq!(scalar_text(&db, &q("SELECT mode(channel) FROM orders WHERE customer_id = $C")), "web");
    assert_eq!(
        scalar_text(
            &db,
            &q("SELECT mode(i.category) FROM order_items i JOIN orders o USING (order_id) WHERE o.customer_id = $C")
        ),
        "Home"
    );
    let discounted = scalar_i64(&db, &q("SELECT count(*) FROM orders WHERE customer_id = $C AND discount_total > 0"));
    assert!(discounted * 2 > 12, "Mike orders with a discount more often than not ({discounted} of 12)");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM segments"), 13);
}

#[test]
fn demo_is_reproducible_and_prints_a_dashboard() {
    let s = Scudo::new();
    let first = s.ok(&["demo", "demo", "-q"]).stdout;
    let second = s.ok(&["demo", "demo", "-q"]).stdout;
    assert_eq!(first, second, "a refreshed demo prints the same dashboard");
    assert!(first.contains("Customers 10   Active 7   At-Risk 2   Revenue $28,050   Orders 57"), "{first}");
    assert!(first.contains("VIP_HIGH_VALUE"));
    // The dashboard command in the demo workspace uses its pinned date.
    let inside = s.run_in(&s.path().join("demo"), &["dashboard"]);
    assert_eq!(inside.code, 0, "{}", inside.stderr);
    assert_eq!(inside.stdout, first);
}

#[test]
fn demo_refuses_to_overwrite_a_real_workspace() {
    let (s, _) = Scudo::workspace();
    let r = s.fails(&["demo", "ws"], 2);
    assert!(r.stderr.contains("not the demo's"), "{}", r.stderr);
}

#[test]
fn init_creates_a_complete_workspace() {
    let s = Scudo::new();
    s.ok(&["init", "shop"]);
    let ws = s.path().join("shop");
    for p in ["scudo.toml", "queries", "report-templates", "scudo.duckdb"] {
        assert!(ws.join(p).exists(), "{p} missing");
    }
    let toml = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    for key in [
        "database",
        "currency",
        "at_risk_days",
        "dormant_days",
        "lost_days",
        "new_days",
        "vip_min_revenue",
        "rejects_dir",
    ] {
        assert!(toml.contains(key), "scudo.toml lacks {key}");
    }
    // An empty shop has an empty, well-formed dashboard.
    let d = s.run_in(&ws, &["dashboard", "--format", "json", "--as-of", "2024-01-01"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    let d = d.json();
    assert_eq!(d["kpis"]["customers"], 0);
    assert_eq!(d["kpis"]["revenue"].to_string(), "0.00");
    assert_eq!(d["health"].as_array().unwrap().len(), 7);
    // Running init again keeps the user's settings.
    std::fs::write(ws.join("scudo.toml"), "[health]\nnew_days = 14\n").unwrap();
    s.ok(&["init", "shop", "-q"]);
    assert_eq!(std::fs::read_to_string(ws.join("scudo.toml")).unwrap(), "[health]\nnew_days = 14\n");
}

#[test]
fn workspace_is_found_like_git_finds_a_repository() {
    let (s, ws) = Scudo::workspace();
    let deep = ws.join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(s.run_in(&deep, &["dashboard", "--format", "json"]).code, 0);

    let outside = s.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let r = s.run_in(&outside, &["dashboard"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not inside a scudo workspace") && r.stderr.contains("scudo init"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "errors never go to stdout");

    let flag = s.run_in(&outside, &["--workspace", ws.to_str().unwrap(), "dashboard", "--format", "json"]);
    assert_eq!(flag.code, 0, "{}", flag.stderr);
    let env = s.command_in(&outside, &["dashboard", "--format", "json"]).env("SCUDO_WORKSPACE", &ws).output().unwrap();
    assert!(env.status.success());
    let wrong = s.run_in(&outside, &["--workspace", outside.to_str().unwrap(), "dashboard"]);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("is not a scudo workspace"), "{}", wrong.stderr);
}

#[test]
fn an_older_database_is_migrated() {
    let (s, ws) = Scudo::workspace();
    let db_path = ws.join("scudo.duckdb");
    std::fs::remove_file(&db_path).unwrap();
    {
        let conn = duckdb::Connection::open(&db_path).unwrap();
        conn.execute_batch(scudo::store::migration_sql(1).unwrap()).unwrap();
        conn.execute_batch("INSERT INTO scudo_meta VALUES ('schema_version', '1');").unwrap();
        conn.execute_batch(
            "INSERT INTO customers (customer_id, name) VALUES ('cust-000001', 'Ada');
             INSERT INTO orders (order_id, source, source_order_id, customer_id, ordered_at, total, refunded_total, net_total, status, import_id)
             VALUES ('csv:1', 'csv', '1', 'cust-000001', TIMESTAMP '2024-01-02 10:00:00', 10, 0, 10, 'completed', 1);",
        )
        .unwrap();
    }
    let d =
        s.ok(&["--workspace", ws.to_str().unwrap(), "dashboard", "--format", "json", "--as-of", "2024-01-10"]).json();
    assert_eq!(d["kpis"]["customers"], 1);
    assert_eq!(d["kpis"]["revenue"].to_string(), "10.00");
    let db = Scudo::db(&ws);
    assert_eq!(
        scalar_text(&db, "SELECT value FROM scudo_meta WHERE key = 'schema_version'"),
        scudo::store::SCHEMA_VERSION.to_string()
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'products'"), 1);
}

#[test]
fn a_newer_database_is_refused_and_left_alone() {
    let (s, ws) = Scudo::workspace();
    {
        let db = Scudo::db(&ws);
        db.execute_batch("UPDATE scudo_meta SET value = '99' WHERE key = 'schema_version'").unwrap();
    }
    let before = std::fs::read(ws.join("scudo.duckdb")).unwrap();
    let r = s.fails(&["--workspace", ws.to_str().unwrap(), "dashboard"], 2);
    assert!(r.stderr.contains("schema version 99") && r.stderr.contains("newer scudo"), "{}", r.stderr);
    assert_eq!(std::fs::read(ws.join("scudo.duckdb")).unwrap(), before);
}

#[test]
fn a_version_4_database_is_migrated_to_the_summary_and_lookup_indexes() {
    // Schema 5 added customer_summary, filled from the rows already there: a workspace imported by
    // an older scudo shows the same dashboard after the upgrade.
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let ws = s.path().join("demo");
    let before = s.run_in(&ws, &["dashboard", "--format", "json"]).json();
    {
        let db = Scudo::db(&ws);
        db.execute_batch(
            "DROP TABLE customer_summary; DROP TABLE order_currencies;
             DROP INDEX orders_by_customer; DROP INDEX order_items_by_order;
             DROP TABLE customer_search; DROP TABLE search_words;
             ALTER TABLE orders DROP COLUMN kinds; ALTER TABLE orders DROP COLUMN converted_currency;
             ALTER TABLE orders DROP COLUMN converted_total; ALTER TABLE orders DROP COLUMN converted_refunded;
             ALTER TABLE orders DROP COLUMN local_at; ALTER TABLE orders DROP COLUMN value;
             ALTER TABLE orders DROP COLUMN value_rate;
             DROP TABLE order_versions; DROP TABLE exchange_rates; DROP TABLE tz_offsets; DROP TABLE customer_merges;
             DELETE FROM scudo_meta WHERE key <> 'schema_version';
             UPDATE scudo_meta SET value = '4' WHERE key = 'schema_version';",
        )
        .unwrap();
    }
    let upgraded = s.run_in(&ws, &["dashboard", "--format", "json"]);
    let to = format!("to {}", scudo::store::SCHEMA_VERSION);
    assert!(upgraded.stderr.contains("upgrading") && upgraded.stderr.contains(&to), "{}", upgraded.stderr);
    let after = upgraded.json();
    assert_eq!(after, before);
    assert_eq!(after["kpis"]["revenue"].to_string(), "28050.00");
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customer_summary"), 10);
    assert_eq!(
        scalar_text(&db, "SELECT value FROM scudo_meta WHERE key = 'schema_version'"),
        scudo::store::SCHEMA_VERSION.to_string()
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customer_search WHERE term = 'mike' AND field = 'word'"), 1);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM duckdb_indexes() WHERE index_name LIKE '%_by_%'"), 2);
}

#[test]
fn an_unreadable_database_is_a_clear_error() {
    let (s, ws) = Scudo::workspace();
    std::fs::write(ws.join("scudo.duckdb"), b"this is not a database at all, just text").unwrap();
    let r = s.fails(&["--workspace", ws.to_str().unwrap(), "dashboard"], 2);
    assert!(r.stderr.starts_with("error: cannot open the database"), "{}", r.stderr);
    assert!(r.stderr.contains("scudo init"), "{}", r.stderr);
}

#[test]
fn help_version_and_completions_are_cheap_and_work() {
    let s = Scudo::new();
    let help = s.ok(&["--help"]).stdout;
    for word in ["demo", "dashboard", "ingest", "init", "Exit codes"] {
        assert!(help.contains(word), "--help lacks {word}");
    }
    assert!(s.ok(&["--version"]).stdout.starts_with("scudo "));
    assert!(s.ok(&["completions", "bash"]).stdout.contains("scudo"));
    let bad = s.fails(&["dashboard", "--format", "yaml"], 2);
    assert!(bad.stderr.contains("yaml"));
}

#[test]
fn dashboard_csv_guards_and_parses() {
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let r = s.run_in(&s.path().join("demo"), &["dashboard", "--format", "csv"]);
    assert_eq!(r.code, 0);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert!(rows.iter().any(|r| &r[0] == "kpis" && &r[2] == "customers" && &r[3] == "10"));
    assert!(
        rows.iter()
            .any(|r| &r[0] == "segments" && &r[1] == "tag:VIP_HIGH_VALUE" && &r[2] == "revenue" && &r[3] == "8500.00")
    );
}
