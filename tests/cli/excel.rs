//! Excel workbooks go through the same detection, mapping and rejects as CSV.

use crate::harness::{Scudo, fixture, scalar_i64, scalar_text};

#[test]
fn an_xlsx_export_is_detected_and_imported_with_its_dates_numbers_and_rejects() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let file = fixture("contacts.xlsx");
    let r = s.run(&["-w", w, "ingest", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 1, "one row rejected: exit 1\n{}", r.stderr);
    let f = &r.json()["files"][0];
    assert_eq!(f["kind"], "hubspot-contacts");
    assert_eq!(f["outcome"], "imported");
    assert_eq!(f["customers"]["inserted"], 3);
    assert_eq!(f["rows_rejected"], 1);
    let db = Scudo::db(&ws);
    assert_eq!(
        scalar_text(&db, "SELECT created_at::VARCHAR FROM customers WHERE email = 'ana.lima@example.com'"),
        "2023-05-01 09:30:00",
        "an Excel date cell is a date"
    );
    assert_eq!(scalar_text(&db, "SELECT phone FROM customers WHERE email = 'bo@example.se'"), "46701234567");
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM customer_sources WHERE source_key = 'id:2002'"),
        1,
        "2002, not 2002.0"
    );
    drop(db);
    let rejects = std::fs::read_to_string(ws.join("rejects/contacts.xlsx.rejects.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(rejects.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0][1], &rows[0][2]), ("6", "Create Date"), "the row number in the sheet and the column");
}

#[test]
fn sheet_picks_the_worksheet_and_a_wrong_name_lists_them() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let file = fixture("orders.xlsx");
    let first = s.fails(&["-w", w, "ingest", file.to_str().unwrap()], 2);
    assert!(first.stderr.contains("cannot tell what export this is"), "the first sheet is read: {}", first.stderr);
    let wrong = s.fails(&["-w", w, "ingest", file.to_str().unwrap(), "--sheet", "Payments"], 2);
    assert!(
        wrong.stderr.contains("no worksheet `Payments`") && wrong.stderr.contains("About, Orders"),
        "{}",
        wrong.stderr
    );
    let r = s.ok(&["-w", w, "ingest", file.to_str().unwrap(), "--sheet", "Orders", "--format", "json"]);
    let f = &r.json()["files"][0];
    assert_eq!(f["kind"], "stripe-payments");
    assert_eq!(f["orders"]["inserted"], 2);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT sum(total)::VARCHAR FROM orders"), "65.50");
}

#[test]
fn a_directory_import_takes_workbooks_and_infer_reads_them() {
    let (s, ws) = Scudo::workspace();
    let dir = s.path().join("crm");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("contacts.xlsx"), dir.join("contacts.xlsx")).unwrap();
    std::fs::write(dir.join("~$contacts.xlsx"), b"Excel's lock file").unwrap();
    let r = s.run(&["-w", ws.to_str().unwrap(), "ingest", dir.to_str().unwrap(), "--format", "json"]);
    let files = r.json()["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1, "Excel's ~$ lock file is not an export: {files:?}");
    assert_eq!(files[0]["kind"], "hubspot-contacts");
    let proposed = s.ok(&["ingest", "--infer", fixture("contacts.xlsx").to_str().unwrap()]).stdout;
    assert!(proposed.contains("email = \"Email\""), "{proposed}");
}

#[test]
fn a_workbook_goes_through_a_mapping_file_too() {
    let (s, ws) = Scudo::workspace();
    let mapping = s.path().join("payments.toml");
    std::fs::write(
        &mapping,
        "source = \"shop\"\nkind = \"orders\"\n[columns]\norder_id = \"id\"\ncustomer_id = \"Customer ID\"\n\
         email = \"Customer Email\"\ndate = \"Created date (UTC)\"\namount = \"Amount\"\ncurrency = \"Currency\"\n",
    )
    .unwrap();
    let file = fixture("orders.xlsx");
    let args = ["-w", ws.to_str().unwrap(), "ingest", file.to_str().unwrap(), "--sheet", "orders"];
    let r = s.ok(&[&args[..], &["--mapping", mapping.to_str().unwrap(), "--format", "json"]].concat()).json();
    assert_eq!(r["files"][0]["kind"], "csv");
    assert_eq!(r["files"][0]["orders"]["inserted"], 2);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT string_agg(total::VARCHAR, ' ' ORDER BY total) FROM orders"), "25.50 40.00");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders WHERE source = 'shop'"), 2);
}
