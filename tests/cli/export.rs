//! `scudo export customers`: CRM import files with scores as properties, filtered, guarded, and
//! readable by scudo itself.

use crate::harness::{Scudo, demo, scalar_i64, scalar_text};

fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header = rd.headers().unwrap().iter().map(str::to_string).collect();
    let rows = rd.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn hubspot_export_has_hubspots_columns_and_imports_back_as_the_same_customers() {
    let (s, ws) = demo();
    let out = s.path().join("contacts.csv");
    let r = s.run_in(&ws, &["export", "customers", "--to", "hubspot", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "with --out, stdout stays empty");
    assert!(r.stderr.contains("wrote 10 customers"), "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let (header, data) = rows(&text);
    for c in
        ["Email", "First Name", "Last Name", "Phone Number", "Company Name", "City", "State/Region", "Country/Region"]
    {
        col(&header, c);
    }
    for c in ["scudo_stage", "scudo_segments", "scudo_rfm", "scudo_churn_band", "scudo_clv"] {
        col(&header, c);
    }
    assert_eq!(data.len(), 10);
    // Not scored yet: stage and RFM are computed on the as-of date; churn and CLV are empty.
    let lisa = data.iter().find(|r| r[col(&header, "First Name")] == "Lisa").unwrap();
    assert_eq!(lisa[col(&header, "scudo_stage")], "At-Risk");
    assert_eq!(lisa[col(&header, "scudo_rfm")].len(), 3);
    assert_eq!(lisa[col(&header, "scudo_clv")], "");

    // Into a fresh workspace: detected as HubSpot contacts, the same people come back.
    let (s2, fresh) = Scudo::workspace();
    let back = s2.run(&["-w", fresh.to_str().unwrap(), "ingest", out.to_str().unwrap(), "--format", "json"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(back.json()["files"][0]["kind"], "hubspot-contacts");
    let emails = |ws: &std::path::Path| -> Vec<(String, String)> {
        let db = Scudo::db(ws);
        let mut stmt = db.prepare("SELECT email, name FROM customers ORDER BY email").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(emails(&fresh), emails(&ws));
}

#[test]
fn scores_come_from_the_latest_run_and_filters_pick_customers() {
    let (s, ws) = demo();
    s.ok(&["-w", ws.to_str().unwrap(), "score", "-q"]);
    let db = Scudo::db(&ws);
    let at_risk = scalar_i64(
        &db,
        "SELECT count(*) FROM customer_scores WHERE stage = 'At-Risk' AND run_id = (SELECT max(run_id) FROM score_runs)",
    );
    drop(db);
    let r = s.run_in(&ws, &["export", "customers", "--stage", "at-risk"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (header, data) = rows(&r.stdout);
    assert_eq!(data.len() as i64, at_risk);
    assert!(data.iter().all(|r| r[col(&header, "stage")] == "At-Risk"));
    assert!(data.iter().all(|r| !r[col(&header, "churn_band")].is_empty()), "scored: churn band present");
    let db = Scudo::db(&ws);
    for r in &data {
        let stored = scalar_text(
            &db,
            &format!(
                "SELECT COALESCE(clv::VARCHAR, '') FROM customer_scores WHERE customer_id = '{}' AND run_id = (SELECT max(run_id) FROM score_runs)",
                r[col(&header, "customer_id")]
            ),
        );
        assert_eq!(r[col(&header, "clv")], stored, "CLV as the latest run stored it");
    }
    drop(db);

    let seg = s.run_in(&ws, &["export", "customers", "--segment", "vip_high_value", "--to", "salesforce"]);
    assert_eq!(seg.code, 0, "{}", seg.stderr);
    let (header, data) = rows(&seg.stdout);
    for c in ["First Name", "Last Name", "Email", "Phone", "Account Name", "Mailing City", "Scudo_Segments__c"] {
        col(&header, c);
    }
    assert!(!data.is_empty());
    assert!(data.iter().all(|r| r[col(&header, "Scudo_Segments__c")].split(';').any(|x| x == "VIP_HIGH_VALUE")));
    assert!(data.iter().all(|r| !r[col(&header, "Last Name")].is_empty()), "Salesforce requires a last name");

    let unknown = s.run_in(&ws, &["export", "customers", "--segment", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no segment `nope`") && unknown.stderr.contains("VIP_HIGH_VALUE"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn exported_cells_are_guarded_against_formulas() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let data = s.path().join("people.csv");
    std::fs::write(
        &data,
        "Record ID,First Name,Last Name,Email,Phone Number,Company Name\n\
         1,=cmd|' /C calc'!A0,Smith,eve@example.com,+44 7700 900123,@SUM(A1)\n",
    )
    .unwrap();
    s.ok(&["-w", w, "ingest", data.to_str().unwrap(), "-q"]);
    for to in ["csv", "hubspot", "salesforce"] {
        let r = s.run(&["-w", w, "export", "customers", "--to", to]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let (_, data) = rows(&r.stdout);
        for cell in &data[0] {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{to}: unguarded cell {cell:?}");
        }
        assert!(data[0].iter().any(|c| c == "'=cmd|' /C calc'!A0"), "{to}: {:?}", data[0]);
        assert!(data[0].iter().any(|c| c == "'@SUM(A1)"), "{to}: {:?}", data[0]);
    }
    // The guard is undone on the way back in: the phone and company are what they were.
    let out = s.path().join("back.csv");
    s.ok(&["-w", w, "export", "customers", "--to", "hubspot", "--out", out.to_str().unwrap(), "-q"]);
    let (s2, fresh) = Scudo::workspace();
    s2.ok(&["-w", fresh.to_str().unwrap(), "ingest", out.to_str().unwrap(), "-q"]);
    let db = Scudo::db(&fresh);
    assert_eq!(scalar_text(&db, "SELECT company FROM customers"), "@SUM(A1)");
    assert_eq!(scalar_text(&db, "SELECT phone FROM customers"), "+44 7700 900123");
}

#[test]
fn the_teams_notes_and_tags_travel_with_the_export_guarded() {
    let (s, ws) = demo();
    let w = ws.to_str().unwrap();
    s.ok(&["-w", w, "customer", "Lisa Thompson", "note", "prefers email; call after 5"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "note", "second line"]);
    s.ok(&["-w", w, "customer", "Mike Johnson", "note", "=HYPERLINK(\"http://x\")"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "tag", "add", "winback"]);
    s.ok(&["-w", w, "customer", "Lisa Thompson", "tag", "add", "called"]);
    for (to, tags, notes, id) in [
        ("csv", "tags", "notes", "customer_id"),
        ("hubspot", "scudo_tags", "scudo_notes", "scudo_customer_id"),
        ("salesforce", "Scudo_Tags__c", "Scudo_Notes__c", "Scudo_Customer_ID__c"),
    ] {
        let (header, data) = rows(&s.ok(&["-w", w, "export", "customers", "--to", to]).stdout);
        let lisa = data.iter().find(|r| r[col(&header, id)] == "cust-000006").unwrap();
        assert_eq!(lisa[col(&header, tags)], "called;winback", "{to}: sorted, the importers' separator");
        assert_eq!(lisa[col(&header, notes)], "prefers email; call after 5\nsecond line", "{to}: a line each");
        let mike = data.iter().find(|r| r[col(&header, id)] == "cust-000007").unwrap();
        assert_eq!(mike[col(&header, tags)], "", "{to}");
        assert_eq!(mike[col(&header, notes)], "'=HYPERLINK(\"http://x\")", "{to}: a note is no formula");
    }
}
