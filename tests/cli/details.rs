//! The smaller things a user notices (issue 18, item 9).

use crate::harness::{Scudo, demo, scalar_text};

#[test]
fn one_order_is_one_order() {
    let (s, ws) = Scudo::workspace();
    let data = s.path().join("one.csv");
    std::fs::write(&data, "Record ID,First Name,Email\n7,Ann,ann@example.com\n").unwrap();
    let w = ws.to_str().unwrap();
    s.ok(&["-w", w, "ingest", data.to_str().unwrap(), "-q"]);
    let orders = s.path().join("orders.txt");
    std::fs::write(&orders, "ann@example.com 2024-03-01 25.00\n").unwrap();
    let mapping = s.path().join("m.toml");
    std::fs::write(
        &mapping,
        "kind = \"orders\"\ndelimiter = \"whitespace\"\nheader = false\n[columns]\nemail = 1\ndate = 2\namount = 3\n",
    )
    .unwrap();
    let r = s.ok(&["-w", w, "ingest", orders.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert!(!r.stdout.contains("1 orders"), "{}", r.stdout);
    let c = s.ok(&["-w", w, "customer", "ann@example.com", "--as-of", "2024-04-01"]);
    assert!(c.stdout.contains("1 order ·"), "{}", c.stdout);
    assert!(c.stdout.contains("of 1 order ("), "{}", c.stdout);
    assert!(!c.stdout.contains("1 orders"), "{}", c.stdout);
    // An order without an order id in its file gets a readable number, not its internal key.
    let j = s.ok(&["-w", w, "customer", "ann@example.com", "--as-of", "2024-04-01", "--format", "json"]).json();
    assert_eq!(j["orders"][0]["order_number"], "2024-03-01 #1");
}

#[test]
fn generate_as_csv_is_csv() {
    let s = Scudo::new();
    let r = s.ok(&["generate", "--customers", "50", "--out", "shop", "--format", "csv", "-q"]);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[0], "out");
    assert!(header.contains(&"customers".to_string()));
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], "50");
}

#[test]
fn a_merged_duplicate_is_reported_in_the_import_summary() {
    let (s, ws) = Scudo::workspace();
    let data = s.path().join("contacts.csv");
    // Two CRM records, one person: the second joins the first by email.
    std::fs::write(&data, "Record ID,First Name,Email\n7,Ann,ann@example.com\n8,Ann,ANN@example.com\n").unwrap();
    let w = ws.to_str().unwrap();
    let r = s.ok(&["-w", w, "ingest", data.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(r["files"][0]["customers"]["inserted"], 1);
    assert_eq!(r["files"][0]["customers"]["merged"], 1);
    let data2 = s.path().join("contacts2.csv");
    std::fs::write(&data2, "Record ID,First Name,Email\n9,Ann,ann@example.com\n").unwrap();
    let text = s.ok(&["-w", w, "ingest", data2.to_str().unwrap()]).stdout;
    assert!(text.contains("1 merged"), "{text}");
}

#[test]
fn churn_and_clv_take_n_0_for_all() {
    let (s, ws) = demo();
    s.ok(&["-w", ws.to_str().unwrap(), "score", "-q"]);
    let all = s.ok(&["-w", ws.to_str().unwrap(), "churn", "-n", "0", "--format", "json"]).json();
    let db = Scudo::db(&ws);
    let scored = scalar_text(
        &db,
        "SELECT count(*)::VARCHAR FROM customer_scores WHERE churn_probability IS NOT NULL AND run_id = (SELECT max(run_id) FROM score_runs)",
    );
    drop(db);
    assert_eq!(all["rows"].as_array().unwrap().len().to_string(), scored);
    assert!(all["rows"].as_array().unwrap().len() > 5);
    // The demo has too few repeat buyers for the CLV model: as many rows as CLVs stored.
    let clv = s.ok(&["-w", ws.to_str().unwrap(), "clv", "-n", "0", "--format", "json"]).json();
    let db = Scudo::db(&ws);
    let with_clv = scalar_text(
        &db,
        "SELECT count(*)::VARCHAR FROM customer_scores WHERE clv IS NOT NULL AND run_id = (SELECT max(run_id) FROM score_runs)",
    );
    assert_eq!(clv["rows"].as_array().unwrap().len().to_string(), with_clv);
}

#[test]
fn the_dashboard_says_how_to_list_every_alert() {
    let s = Scudo::new();
    s.ok(&["generate", "--customers", "2000", "--seed", "5", "--out", "shop", "-q"]);
    s.ok(&["init", "ws", "-q"]);
    let ws = s.path().join("ws");
    let w = ws.to_str().unwrap();
    s.ran(&["-w", w, "ingest", "-q", s.path().join("shop").to_str().unwrap()]);
    let d = s.ok(&["-w", w, "dashboard", "--as-of", "2025-12-31"]).stdout;
    assert!(d.contains("`scudo alerts --limit 0` lists all"), "{d}");
    let every = s.ran(&["-w", w, "alerts", "--limit", "0", "--as-of", "2025-12-31", "--format", "json"]).json();
    let total =
        every["rows"].as_array().unwrap().iter().filter(|r| r["kind"] == "at_risk" || r["kind"] == "inactive").count();
    assert!(d.contains(&format!("Alerts ({}", total)) || d.contains(&format!("Alerts ({},", total)), "{d}");
}

#[test]
fn customer_as_csv_keeps_actions_and_orders() {
    let (s, ws) = demo();
    let r = s.ok(&["-w", ws.to_str().unwrap(), "customer", "Lisa Thompson", "--format", "csv"]);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), ["section", "item", "field", "value"]);
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let items = |section: &str| {
        let mut v: Vec<String> = rows.iter().filter(|r| &r[0] == section).map(|r| r[1].to_string()).collect();
        v.dedup();
        v
    };
    assert!(rows.iter().any(|r| &r[0] == "customer" && &r[2] == "name" && &r[3] == "Lisa Thompson"));
    assert!(!items("actions").is_empty(), "Lisa has a next best action");
    assert!(rows.iter().any(|r| &r[0] == "actions" && &r[2] == "action"));
    assert_eq!(items("orders").len(), 6, "her six orders");
    assert!(rows.iter().any(|r| &r[0] == "orders" && &r[2] == "total"));
}

#[test]
fn query_run_reads_any_column_type() {
    let (s, ws) = demo();
    let r = s.run_in(&ws, &["query", "run", "--sql", "select * from duckdb_settings()", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = r.json()["rows"].as_array().unwrap().clone();
    assert!(rows.iter().any(|r| r["name"] == "threads"), "every setting is listed");
}

#[test]
fn the_json_docs_match_the_demo() {
    let (s, ws) = demo();
    // The documented dashboard is of the scored demo (its alerts carry churn risk).
    s.ok(&["-w", ws.to_str().unwrap(), "score", "-q"]);
    let d = s.ok(&["-w", ws.to_str().unwrap(), "dashboard", "--format", "json"]).json();
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md")).unwrap();
    let block = docs.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    let documented: serde_json::Value = serde_json::from_str(block).unwrap();
    let same = |doc: &serde_json::Value, real: &serde_json::Value, what: &str| {
        for (k, v) in doc.as_object().unwrap() {
            assert_eq!(&real[k].to_string(), &v.to_string(), "docs/json.md {what}.{k}");
        }
    };
    same(&documented["kpis"], &d["kpis"], "kpis");
    assert_eq!(documented["alerts_total"], d["alerts_total"]);
    let alert = &documented["alerts"][0];
    let real = d["alerts"].as_array().unwrap().iter().find(|a| a["customer_id"] == alert["customer_id"]).unwrap();
    same(alert, real, "alerts[0]");
    same(&documented["health"][0], &d["health"][0], "health[0]");
    same(&documented["segments"][0], &d["segments"][0], "segments[0]");
}
