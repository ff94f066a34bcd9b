//! `scudo privacy export|erase` on the demo shop (issue 16): the export lists a person's records,
//! erasure removes them everywhere, and importing the same exports again leaves them out.

use std::path::Path;

use crate::harness::{Scudo, demo, scalar_i64};

fn dashboard(s: &Scudo, ws: &Path) -> serde_json::Value {
    let r = s.run_in(ws, &["dashboard", "--format", "json"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    r.json()
}

#[test]
fn export_lists_every_record_of_mike_johnson() {
    let (s, ws) = demo();
    s.run_in(&ws, &["customer", "Mike Johnson", "note", "asked about the bulk discount"]);
    let r = s.run_in(&ws, &["privacy", "export", "Mike Johnson"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["customer_id"], "cust-000007");
    let orders = doc["records"]["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 12, "Mike Johnson has 12 orders in the demo");
    assert!(orders.iter().all(|o| o["customer_id"] == "cust-000007"));
    assert_eq!(doc["counts"]["orders"], 12);
    assert_eq!(doc["records"]["profile"][0]["email"], "mike.johnson@example.com");
    assert_eq!(doc["records"]["notes"][0]["body"], "asked about the bulk discount");
    // The note was logged, and the log entry concerns him.
    assert!(doc["records"]["audit"].as_array().unwrap().iter().any(|e| e["action"] == "note_add"));
    // The ZIP holds the document and a CSV per section.
    let zip = s.path().join("mike.zip");
    let r = s.run_in(&ws, &["privacy", "export", "mike.johnson@example.com", "--zip", zip.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "with --zip alone nothing goes to stdout");
    let bytes = std::fs::read(&zip).unwrap();
    assert!(bytes.starts_with(b"PK"), "a ZIP file");
}

#[test]
fn erase_removes_him_everywhere_and_imports_leave_him_out() {
    let (s, ws) = demo();
    s.run_in(&ws, &["score"]);
    s.run_in(&ws, &["customer", "cust-000007", "tag", "add", "call-back"]);
    let before = dashboard(&s, &ws);
    assert_eq!(before["kpis"]["customers"], 10);
    let revenue_before = before["kpis"]["revenue"].as_f64().unwrap();

    // Without --yes: what would go, and nothing changes.
    let dry = s.run_in(&ws, &["privacy", "erase", "Mike Johnson", "--format", "json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let dry = dry.json();
    assert_eq!(dry["erased"], false);
    assert_eq!(dry["tables"]["orders"], 12);
    assert_eq!(dashboard(&s, &ws)["kpis"]["customers"], 10);

    let r = s.run_in(&ws, &["privacy", "erase", "Mike Johnson", "--yes", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["tables"]["orders"], 12);
    let after = dashboard(&s, &ws);
    assert_eq!(after["kpis"]["customers"], 9);
    assert_eq!(after["kpis"]["orders"], 45);
    assert!((revenue_before - after["kpis"]["revenue"].as_f64().unwrap() - 1200.0).abs() < 0.005, "his $1,200 is gone");

    let db = Scudo::db(&ws);
    for (table, col) in [
        ("customers", "customer_id"),
        ("orders", "customer_id"),
        ("customer_sources", "customer_id"),
        ("customer_scores", "customer_id"),
        ("customer_tags", "customer_id"),
        ("customer_search", "customer_id"),
        ("customer_summary", "customer_id"),
        ("segment_members", "customer_id"),
    ] {
        let n = scalar_i64(&db, &format!("SELECT count(*) FROM {table} WHERE {col} = 'cust-000007'"));
        assert_eq!(n, 0, "{table} still holds him");
    }
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers WHERE email ILIKE '%mike.johnson%'"), 0);
    assert!(scalar_i64(&db, "SELECT count(*) FROM erased_identities") >= 3);
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM erased_identities WHERE hash LIKE '%mike%' OR kind LIKE '%mike%'"),
        0
    );
    drop(db);
    // The erasure is in the activity log, without his name or email.
    let log = std::fs::read_to_string(ws.join("audit.jsonl")).unwrap();
    let line = log.lines().find(|l| l.contains("privacy_erase")).expect("erasure logged");
    assert!(!line.contains("Mike") && !line.contains("mike"), "{line}");

    // A compact backup rewrites the file: not a byte of his email is left in it.
    let compact = s.path().join("compact");
    let r = s.run_in(&ws, &["backup", compact.to_str().unwrap(), "--compact"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(compact.join("scudo.duckdb")).unwrap();
    let needle = b"mike.johnson@example.com";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the compact backup still holds his email");

    // The same exports again: he stays out, reported as suppressed, not as rejects.
    let demo_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");
    let r = s.run_in(&ws, &["ingest", demo_data.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = r.json()["files"].as_array().unwrap().clone();
    let suppressed: u64 = files.iter().map(|f| f["rows_suppressed"].as_u64().unwrap()).sum();
    let rejected: u64 = files.iter().map(|f| f["rows_rejected"].as_u64().unwrap()).sum();
    assert_eq!(suppressed, 13, "his customer row and his 12 orders: {files:?}");
    assert_eq!(rejected, 0);
    assert_eq!(dashboard(&s, &ws)["kpis"]["customers"], 9);
    let r = s.run_in(&ws, &["customers", "search", "mike.johnson@example.com", "--format", "json"]);
    assert_eq!(r.json()["rows"].as_array().map_or(0, Vec::len), 0, "{}", r.stdout);
}

#[test]
fn erase_refuses_unknown_and_ambiguous_people_and_changes_nothing() {
    let (s, ws) = demo();
    let r = s.run_in(&ws, &["privacy", "erase", "Nobody Atall", "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no customer is exactly"), "{}", r.stderr);
    // A first name alone is not a person.
    let r = s.run_in(&ws, &["privacy", "erase", "Mike", "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    // Two customers with the same name: refused, naming both.
    let twin = s.path().join("twin.csv");
    std::fs::write(
        &twin,
        "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address Address1,\
         Default Address Address2,Default Address City,Default Address Province Code,Default Address Country Code,\
         Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,\
         Tags,Accepts WhatsApp Marketing\n\
         '7405010000999,Mike,Johnson,mike.j.two@example.com,no,,,,Portland,OR,US,,,,no,0.00,0,,no,,no\n",
    )
    .unwrap();
    let r = s.run_in(&ws, &["ingest", twin.to_str().unwrap()]);
    assert!(r.code == 0, "{}", r.stderr);
    let r = s.run_in(&ws, &["privacy", "erase", "Mike Johnson", "--yes"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("several customers") && r.stderr.contains("cust-000007"), "{}", r.stderr);
    assert_eq!(dashboard(&s, &ws)["kpis"]["customers"], 11);
}
