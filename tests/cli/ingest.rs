//! Importing exports: quirks, identity across sources, idempotency, upserts, rejects and errors.

use crate::harness::{Scudo, fixture, scalar_i64, scalar_text};

fn ingest(s: &Scudo, ws: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["--workspace", ws.to_str().unwrap(), "ingest", "--format", "json", "-q"];
    full.extend_from_slice(args);
    s.ran(&full).json()
}

fn f(name: &str) -> String {
    fixture(name).display().to_string()
}

#[test]
fn shopify_orders_quirks_are_handled() {
    let (s, ws) = Scudo::workspace();
    let r = ingest(&s, &ws, &[&f("shopify_orders_quirks.csv")]);
    let file = &r["files"][0];
    assert_eq!(file["kind"], "shopify-orders");
    assert_eq!(file["rows_read"], 10);
    assert_eq!(file["orders"]["inserted"], 5);
    assert_eq!(
        file["customers"]["inserted"], 4,
        "Ana's two orders (email in two cases) are one customer; the guest is another"
    );
    assert_eq!(file["rows_rejected"], 3);

    let db = Scudo::db(&ws);
    let o = |id: &str, col: &str| {
        scalar_text(&db, &format!("SELECT {col}::VARCHAR FROM orders WHERE source_order_id = '{id}'"))
    };
    assert_eq!(o("5900000000001", "total"), "133.00");
    assert_eq!(o("5900000000001", "ordered_at"), "2024-07-04 13:15:00", "stored in UTC");
    assert_eq!(o("5900000000001", "utc_offset_minutes"), "-240");
    assert_eq!(o("5900000000001", "tax_included"), "false");
    assert_eq!(o("5900000000001", "status"), "completed");
    assert_eq!(o("5900000000002", "status"), "cancelled", "Cancelled at wins over a paid financial status");
    assert_eq!(o("5900000000002", "ordered_at"), "2024-11-20 17:00:00", "winter offset -0500");
    assert_eq!(o("5900000000003", "status"), "partially_refunded");
    assert_eq!(o("5900000000003", "net_total"), "60.00");
    assert_eq!(o("5900000000003", "discount_codes"), "WINTER, VIP");
    assert_eq!(o("5900000000004", "currency"), "BDT");
    assert_eq!(o("5900000000004", "status"), "pending");
    assert_eq!(o("5900000000005", "tax_included"), "true");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM order_items WHERE order_id = 'shopify:5900000000001'"), 3);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM order_items WHERE is_tip"), 1);
    assert_eq!(scalar_text(&db, "SELECT line_total::VARCHAR FROM order_items WHERE sku = 'CAN-L'"), "80.00");

    let ana = scalar_text(&db, "SELECT customer_id FROM orders WHERE source_order_id = '5900000000001'");
    assert_eq!(scalar_text(&db, &format!("SELECT name FROM customers WHERE customer_id = '{ana}'")), "Ana Lima");
    assert_eq!(scalar_text(&db, &format!("SELECT phone FROM customers WHERE customer_id = '{ana}'")), "(978) 555-0100");
    assert_eq!(scalar_text(&db, "SELECT customer_id FROM orders WHERE source_order_id = '5900000000002'"), ana);
    assert_eq!(
        scalar_text(&db, &format!("SELECT created_at::VARCHAR FROM customers WHERE customer_id = '{ana}'")),
        "2024-07-04 13:15:00"
    );
    let guest = scalar_text(&db, "SELECT customer_id FROM orders WHERE source_order_id = '5900000000004'");
    assert_ne!(guest, ana);
    assert_eq!(
        scalar_text(&db, &format!("SELECT source_key FROM customer_sources WHERE customer_id = '{guest}'")),
        "guest:5900000000004"
    );

    let rejects = std::fs::read_to_string(ws.join("rejects/shopify_orders_quirks.rejects.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(rejects.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!((&rows[0][1], &rows[0][2]), ("10", "Created at"));
    assert!(rows[0][3].contains("31/02/2024"), "{}", &rows[0][3]);
    assert_eq!(&rows[1][1], "11");
    assert_eq!((&rows[2][1], &rows[2][2]), ("12", "Lineitem quantity"));
    assert!(rows[2][3].contains("negative quantity"));
    assert_eq!(scalar_i64(&db, "SELECT rows_rejected FROM import_log"), 3);
}

#[test]
fn reimport_changes_nothing_and_a_newer_export_upserts() {
    let (s, ws) = Scudo::workspace();
    ingest(&s, &ws, &[&f("shopify_orders_quirks.csv")]);
    let again = ingest(&s, &ws, &[&f("shopify_orders_quirks.csv")]);
    assert_eq!(again["files"][0]["outcome"], "unchanged");
    assert_eq!(again["files"][0]["orders"]["inserted"], 0);
    assert_eq!(again["files"][0]["orders"]["unchanged"], 5);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 1);
    drop(db);

    let later = ingest(&s, &ws, &[&f("shopify_orders_later.csv")]);
    let o = &later["files"][0]["orders"];
    assert_eq!((o["inserted"].as_i64(), o["updated"].as_i64(), o["unchanged"].as_i64()), (Some(1), Some(1), Some(4)));
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders"), 6, "no order is doubled");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM (SELECT order_id FROM orders GROUP BY 1 HAVING count(*) > 1)"), 0);
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE source_order_id = '5900000000003'"), "refunded");
    assert_eq!(
        scalar_text(&db, "SELECT net_total::VARCHAR FROM orders WHERE source_order_id = '5900000000003'"),
        "0.00"
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM order_items WHERE order_id = 'shopify:5900000000003'"), 1);
}

#[test]
fn one_customer_across_shopify_stripe_and_hubspot() {
    let (s, ws) = Scudo::workspace();
    ingest(&s, &ws, &[&f("shopify_orders_quirks.csv")]);
    let stripe = ingest(&s, &ws, &[&f("stripe_payments.csv")]);
    let file = &stripe["files"][0];
    assert_eq!(file["kind"], "stripe-payments");
    assert_eq!(file["orders"]["inserted"], 4);
    assert_eq!(file["rows_rejected"], 1);
    assert_eq!(file["customers"]["inserted"], 1, "only Fay is new");
    let hub = ingest(&s, &ws, &[&f("hubspot_contacts.csv")]);
    assert_eq!(hub["files"][0]["kind"], "hubspot-contacts");
    assert_eq!(hub["files"][0]["customers"]["inserted"], 2);
    assert_eq!(hub["files"][0]["customers"]["updated"], 1);

    let db = Scudo::db(&ws);
    let ana = scalar_text(&db, "SELECT customer_id FROM customers WHERE email = 'ana.lima@example.com'");
    assert_eq!(
        scalar_i64(&db, &format!("SELECT count(DISTINCT source) FROM customer_sources WHERE customer_id = '{ana}'")),
        3
    );
    assert_eq!(
        scalar_text(&db, &format!("SELECT created_at::VARCHAR FROM customers WHERE customer_id = '{ana}'")),
        "2023-05-01 09:30:00"
    );
    assert_eq!(scalar_text(&db, &format!("SELECT lifecycle FROM customers WHERE customer_id = '{ana}'")), "Customer");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers WHERE email = 'ana.lima@example.com'"), 1);
    // Stripe money: failed attempts are not revenue, refunds are netted, an invoice payment is keyed by its invoice.
    assert_eq!(
        scalar_text(
            &db,
            "SELECT sum(net_total)::VARCHAR FROM orders WHERE source = 'stripe' AND status IN ('completed', 'partially_refunded', 'refunded')"
        ),
        "70.00"
    );
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE order_id = 'stripe:in_9'"), "partially_refunded");
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE order_id = 'stripe:ch_3'"), "failed");
    assert_eq!(
        scalar_text(&db, "SELECT name FROM customers WHERE phone = ' +30 694 308 2996' OR phone = '+30 694 308 2996'"),
        "Γιώργος Παπαδόπουλος"
    );
}

#[test]
fn salesforce_report_footer_is_not_data() {
    let (s, ws) = Scudo::workspace();
    let r = ingest(&s, &ws, &[&f("salesforce_opportunities.csv")]);
    let file = &r["files"][0];
    assert_eq!(file["kind"], "salesforce-report");
    assert_eq!(file["rows_read"], 3);
    assert_eq!(file["rows_rejected"], 0);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT sum(total)::VARCHAR FROM orders WHERE status = 'completed'"), "1500.50");
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE order_number = 'Globex pilot'"), "cancelled");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers"), 2);
    assert_eq!(
        scalar_text(&db, "SELECT ordered_at::DATE::VARCHAR FROM orders WHERE order_number = 'Acme renewal'"),
        "2024-03-14"
    );
}

#[test]
fn generic_csv_with_a_mapping_file() {
    let (s, ws) = Scudo::workspace();
    let r = ingest(&s, &ws, &[&f("generic_eu.csv"), "--mapping", &f("generic_eu.toml")]);
    let file = &r["files"][0];
    assert_eq!(file["kind"], "csv");
    assert_eq!(file["orders"]["inserted"], 2);
    assert_eq!(file["rows_rejected"], 1);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT total::VARCHAR FROM orders WHERE source_order_id = 'B-1'"), "1234.50");
    assert_eq!(scalar_text(&db, "SELECT currency FROM orders WHERE source_order_id = 'B-2'"), "EUR");
    assert_eq!(scalar_text(&db, "SELECT source FROM orders WHERE source_order_id = 'B-2'"), "webshop");
    assert_eq!(
        scalar_text(&db, "SELECT email FROM customers WHERE email LIKE 'j%'"),
        "jörg@example.de",
        "Windows-1252 decoded"
    );
}

#[test]
fn encodings_and_compression() {
    let (s, ws) = Scudo::workspace();
    let r = ingest(&s, &ws, &[&f("shopify_customers_utf16.csv")]);
    assert_eq!(r["files"][0]["kind"], "shopify-customers");
    assert_eq!(r["files"][0]["customers"]["inserted"], 1);
    assert_eq!(r["files"][0]["rows_rejected"], 1);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT name || ' / ' || city FROM customers"), "Zoë Ångström / Malmö");
    assert_eq!(scalar_text(&db, "SELECT array_to_string(tags, '|') FROM customers"), "Newsletter|VIP");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM segments"), 2);
    drop(db);
    let gz = ingest(&s, &ws, &[&f("shopify_customers_bom.csv.gz")]);
    assert_eq!(gz["files"][0]["customers"]["unchanged"], 1, "the same customer, read from gzip with a BOM");
}

#[test]
fn whole_file_problems_exit_2_and_write_nothing() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    for (file, words) in [
        ("empty.csv", vec!["empty"]),
        ("binary.csv", vec!["not a text file"]),
        ("unknown_header.csv", vec!["cannot tell what export this is", "colour, size, weight", "--source"]),
        ("ragged.csv", vec!["line 3", "ragged"]),
    ] {
        let r = s.fails(&["--workspace", w, "ingest", &f(file)], 2);
        for word in words {
            assert!(r.stderr.contains(word), "{file}: `{word}` not in {}", r.stderr);
        }
        assert!(r.stderr.contains(file), "the error names the file: {}", r.stderr);
    }
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers"), 0);
}

#[test]
fn near_misses_are_explained() {
    let (s, ws) = Scudo::workspace();
    let bad = ws.join("almost.csv");
    std::fs::write(
        &bad,
        "Name,Email,Financial Status,Total,Created at,Lineitem quantity\n#1,a@b.c,paid,1.00,2024-01-01,1\n",
    )
    .unwrap();
    let r = s.fails(&["--workspace", ws.to_str().unwrap(), "ingest", bad.to_str().unwrap()], 2);
    assert!(r.stderr.contains("close: shopify-orders (missing Lineitem name)"), "{}", r.stderr);
}

#[test]
fn dry_run_counts_but_writes_nothing() {
    let (s, ws) = Scudo::workspace();
    let r = ingest(&s, &ws, &["--dry-run", &f("shopify_orders_quirks.csv")]);
    assert_eq!(r["files"][0]["outcome"], "dry_run");
    assert_eq!(r["files"][0]["orders"]["inserted"], 5);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 0);
}

#[test]
fn directories_and_globs_expand() {
    let (s, ws) = Scudo::workspace();
    let dir = s.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["stripe_payments.csv", "hubspot_contacts.csv"] {
        std::fs::copy(fixture(name), dir.join(name)).unwrap();
    }
    let r = ingest(&s, &ws, &[dir.to_str().unwrap()]);
    assert_eq!(r["files"].as_array().unwrap().len(), 2);
    let pattern = format!("{}/*.csv", dir.display());
    let again = ingest(&s, &ws, &[&pattern]);
    assert!(again["files"].as_array().unwrap().iter().all(|f| f["outcome"] == "unchanged"));
    let none = s.fails(&["--workspace", ws.to_str().unwrap(), "ingest", &format!("{}/*.nothing", dir.display())], 2);
    assert!(none.stderr.contains("no such file matches"), "{}", none.stderr);
}

#[test]
fn infer_proposes_a_mapping_that_imports() {
    let (s, ws) = Scudo::workspace();
    let data = s.path().join("sales.txt");
    std::fs::write(&data, " 00001 0001 19970101  2   29.33\n 00002 0002 19970102  1   11.77\n").unwrap();
    let proposed = s.ok(&["ingest", "--infer", data.to_str().unwrap()]).stdout;
    assert!(proposed.contains("delimiter = \"whitespace\""), "{proposed}");
    assert!(proposed.contains("date_format = \"%Y%m%d\""), "{proposed}");
    let mapping = s.path().join("sales.toml");
    std::fs::write(&mapping, &proposed).unwrap();
    let r = ingest(&s, &ws, &[data.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(r["files"][0]["orders"]["inserted"], 2);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT sum(total)::VARCHAR FROM orders"), "41.10");
}

#[test]
fn hubspot_deals_and_salesforce_contacts() {
    let (s, ws) = Scudo::workspace();
    let contacts = s.path().join("hubspot-crm-exports-all-contacts.csv");
    std::fs::write(&contacts, "\"Record ID\",\"First Name\",\"Email\"\n\"7\",\"Ann\",\"ann@example.com\"\n").unwrap();
    let deals = s.path().join("hubspot-crm-exports-all-deals.csv");
    std::fs::write(
        &deals,
        "\"Record ID\",\"Deal Name\",\"Deal Stage\",\"Close Date\",\"Amount\",\"Associated Contact IDs\"\n\
         \"91\",\"Annual plan\",\"Closed won\",\"2024-03-01 10:00\",\"1200.0\",\"7;8\"\n\
         \"92\",\"Upsell\",\"Closed lost\",\"2024-04-01 10:00\",\"300.0\",\"7\"\n\
         \"93\",\"Pilot\",\"Appointment scheduled\",\"\",\"50.0\",\"\"\n",
    )
    .unwrap();
    ingest(&s, &ws, &[contacts.to_str().unwrap()]);
    let r = ingest(&s, &ws, &[deals.to_str().unwrap()]);
    assert_eq!(r["files"][0]["kind"], "hubspot-deals");
    assert_eq!(r["files"][0]["orders"]["inserted"], 2);
    assert_eq!(r["files"][0]["rows_rejected"], 1, "a deal with no contact or company names nobody");
    let db = Scudo::db(&ws);
    let ann = scalar_text(&db, "SELECT customer_id FROM customers WHERE email = 'ann@example.com'");
    assert_eq!(
        scalar_text(&db, "SELECT customer_id FROM orders WHERE source_order_id = '91'"),
        ann,
        "deals join their contact"
    );
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE source_order_id = '91'"), "completed");
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE source_order_id = '92'"), "cancelled");
    drop(db);

    let report = s.path().join("report1700000000000.csv");
    std::fs::write(
        &report,
        "\"Contact Owner\",\"First Name\",\"Last Name\",\"Account Name\",\"Mailing City\",\"Email\",\"Created Date\"\n\
         \"Sam\",\"Ann\",\"Lee\",\"Lee Corp\",\"Austin\",\"ANN@example.com\",\"3/14/2023\"\n\
         \"Sam\",\"Bob\",\"Ray\",\"Ray LLC\",\"Dallas\",\"bob@example.com\",\"3/15/2023\"\n\
         \n\"Grand Totals (2 records)\"\n\n\"Confidential Information - Do Not Distribute\"\n\
         \"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.\"\n",
    )
    .unwrap();
    let r = ingest(&s, &ws, &[report.to_str().unwrap()]);
    assert_eq!(r["files"][0]["kind"], "salesforce-report");
    assert_eq!(r["files"][0]["rows_read"], 2);
    assert_eq!(r["files"][0]["customers"]["inserted"], 1, "Bob is new");
    assert_eq!(r["files"][0]["customers"]["updated"], 1, "Ann gains a last name, company and city");
    let db = Scudo::db(&ws);
    assert_eq!(
        scalar_text(&db, &format!("SELECT company || ', ' || city FROM customers WHERE customer_id = '{ann}'")),
        "Lee Corp, Austin"
    );
    assert_eq!(
        scalar_text(&db, &format!("SELECT created_at::DATE::VARCHAR FROM customers WHERE customer_id = '{ann}'")),
        "2023-03-14"
    );
}

#[test]
fn absurd_numbers_are_rejected_not_fatal() {
    let (s, ws) = Scudo::workspace();
    let file = s.path().join("payments.csv");
    std::fs::write(
        &file,
        "id,Created (UTC),Amount,Amount Refunded,Currency,Status\n\
         ch_1,2024-01-01 10:00,99999999999999.99,-99999999999999.99,usd,Paid\n\
         ch_2,2024-01-01 10:00,12.00,0.00,usd,Paid\n\
         ch_3,2024-01-01 10:00,1e9,0.00,usd,Paid\n\
         ch_4,2024-01-01 10:00,9999999999999999.99,0.00,usd,Paid\n",
    )
    .unwrap();
    let r = ingest(&s, &ws, &[file.to_str().unwrap()]);
    assert_eq!(r["files"][0]["orders"]["inserted"], 1);
    assert_eq!(r["files"][0]["rows_rejected"], 3);
    let rejects = std::fs::read_to_string(ws.join("rejects/payments.rejects.csv")).unwrap();
    for why in ["is negative", "`1e9` is not an amount", "too large for an amount"] {
        assert!(rejects.contains(why), "{why}: {rejects}");
    }
}

#[test]
fn the_last_copy_of_a_repeated_order_wins() {
    let (s, ws) = Scudo::workspace();
    let file = s.path().join("payments.csv");
    std::fs::write(
        &file,
        "id,Created (UTC),Amount,Amount Refunded,Currency,Status\n\
         ch_1,2024-01-01 10:00,5.00,0.00,usd,Paid\n\
         ch_2,2024-01-02 10:00,7.00,0.00,usd,Paid\n\
         ch_1,2024-01-01 10:00,5.00,5.00,usd,Refunded\n",
    )
    .unwrap();
    let r = ingest(&s, &ws, &[file.to_str().unwrap()]);
    assert_eq!(r["files"][0]["orders"]["inserted"], 2);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE source_order_id = 'ch_1'"), "refunded");
}

#[test]
fn a_bad_mapping_file_is_a_clear_error_and_writes_nothing() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let data = f("generic_eu.csv");
    for (mapping, words) in [
        (
            "kind = \"orders\"\n[columns]\ncustomer_id = 1\ndate = 2\nammount = 3\n",
            vec!["unknown field `ammount`", "amount"],
        ),
        ("kind = \"orders\"\n[columns]\ncustomer_id = 1\namount = 3\n", vec!["needs `date`"]),
        ("delimiter = \";;\"\n[columns]\ndate = 1\namount = 2\nemail = 3\n", vec!["one character or \"whitespace\""]),
        (
            "header = true\ndelimiter = \";\"\n[columns]\ndate = \"Nope\"\namount = \"Betrag\"\nemail = \"E-Mail\"\n",
            vec!["column `Nope`", "Kunde"],
        ),
        ("this is not toml", vec!["mapping"]),
    ] {
        let path = s.path().join("bad.toml");
        std::fs::write(&path, mapping).unwrap();
        let r = s.fails(&["--workspace", w, "ingest", &data, "--mapping", path.to_str().unwrap()], 2);
        for word in words {
            assert!(r.stderr.contains(word), "`{word}` not in {}", r.stderr);
        }
    }
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders"), 0);
}

#[test]
fn one_customer_on_many_orders_keeps_the_latest_details() {
    // An orders export repeats the customer on every order, with what the order said then: the
    // latest non-empty value of each field wins and the earliest date is kept. (An order's Tags
    // are the order's, not the customer's.)
    let (s, ws) = Scudo::workspace();
    let header = std::fs::read_to_string(fixture("shopify_orders_later.csv")).unwrap();
    let header = header.lines().next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let row = |values: &[(&str, &str)]| -> String {
        cols.iter()
            .map(|c| values.iter().find(|(k, _)| k == c).map(|(_, v)| v.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")
    };
    let order = |name: &str, at: &str, billing: &str, phone: &str, city: &str, tags: &str| {
        row(&[
            ("Name", name),
            ("Email", "rosa@example.com"),
            ("Financial Status", "paid"),
            ("Currency", "USD"),
            ("Subtotal", "10.00"),
            ("Total", "10.00"),
            ("Created at", at),
            ("Lineitem quantity", "1"),
            ("Lineitem name", "Soap"),
            ("Lineitem price", "10.00"),
            ("Billing Name", billing),
            ("Billing Phone", phone),
            ("Billing City", city),
            ("Tags", tags),
            ("Id", &name[1..]),
        ])
    };
    let csv = [
        header.to_string(),
        order("#1", "2024-01-05 10:00:00 +0000", "Rosa Diaz", "+1 555 0100", "Austin", "\"vip\""),
        order("#2", "2024-02-05 10:00:00 +0000", "Rosa Diaz", "+1 555 0100", "Austin", "\"vip\""),
        order("#3", "2024-03-05 10:00:00 +0000", "Rosa M. Diaz", "", "Dallas", "\"wholesale\""),
        order("#4", "2024-04-05 10:00:00 +0000", "Rosa M. Diaz", "", "Dallas", "\"wholesale\""),
    ]
    .join("\n");
    let file = s.path().join("orders_export.csv");
    std::fs::write(&file, csv + "\n").unwrap();
    let r = ingest(&s, &ws, &[file.to_str().unwrap()]);
    assert_eq!(r["files"][0]["orders"]["inserted"], 4, "{r}");
    assert_eq!(r["files"][0]["customers"]["inserted"], 1, "{r}");
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers"), 1);
    assert_eq!(scalar_text(&db, "SELECT name FROM customers"), "Rosa M. Diaz", "the latest name");
    assert_eq!(scalar_text(&db, "SELECT city FROM customers"), "Dallas");
    assert_eq!(scalar_text(&db, "SELECT phone FROM customers"), "+1 555 0100", "an empty phone keeps the earlier one");
    assert_eq!(scalar_text(&db, "SELECT created_at::DATE::VARCHAR FROM customers"), "2024-01-05");
    drop(db);
    // The search index follows the import: the customer is found by the latest name.
    let found =
        s.ok(&["--workspace", ws.to_str().unwrap(), "customers", "search", "rosa m", "--format", "json"]).json();
    assert_eq!(found["rows"][0]["name"], "Rosa M. Diaz", "{found}");
}

#[test]
fn infer_reads_german_and_french_headers_date_formats_and_the_decimal_comma() {
    let (s, ws) = Scudo::workspace();
    let de = s.path().join("bestellungen.csv");
    std::fs::write(
        &de,
        "Kundennummer;E-Mail;Bestelldatum;Betrag\nK1;jorg@example.de;03.12.2024;1.234,50\nK2;zoe@example.de;24.12.2024;99,90\n",
    )
    .unwrap();
    let proposed = s.ok(&["ingest", "--infer", de.to_str().unwrap()]).stdout;
    for line in [
        "customer_id = \"Kundennummer\"",
        "email = \"E-Mail\"",
        "date = \"Bestelldatum\"",
        "amount = \"Betrag\"",
        "date_format = \"%d.%m.%Y\"",
        "decimal_comma = true",
    ] {
        assert!(proposed.contains(line), "{line} in:\n{proposed}");
    }
    let sure = |field: &str| {
        proposed.lines().find(|l| l.starts_with(&format!("{field} ="))).unwrap_or_else(|| panic!("{field}")).to_string()
    };
    assert!(sure("email").contains("# sure"), "{proposed}");
    assert!(sure("amount").contains("# sure"), "{proposed}");
    assert!(sure("customer_id").contains("# likely"), "{proposed}");
    let mapping = s.path().join("de.toml");
    std::fs::write(&mapping, &proposed).unwrap();
    let r = ingest(&s, &ws, &[de.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(r["files"][0]["orders"]["inserted"], 2);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT sum(total)::VARCHAR FROM orders"), "1334.40");
    assert_eq!(scalar_text(&db, "SELECT max(ordered_at)::DATE::VARCHAR FROM orders"), "2024-12-24");

    // US dates (MM/DD/YYYY), and a warning when no day is above 12.
    let us = s.path().join("us.csv");
    std::fs::write(&us, "Email,Order Date,Total\na@example.com,06/17/1998,10.00\nb@example.com,12/30/1998,5.50\n")
        .unwrap();
    let proposed = s.ok(&["ingest", "--infer", us.to_str().unwrap()]).stdout;
    assert!(proposed.contains("date_format = \"%m/%d/%Y\""), "{proposed}");
    assert!(proposed.contains("decimal_comma = false"), "{proposed}");
    let ambiguous = s.path().join("ambiguous.csv");
    std::fs::write(&ambiguous, "Email,Order Date,Total\na@example.com,06/07/1998,10.00\n").unwrap();
    let proposed = s.ok(&["ingest", "--infer", ambiguous.to_str().unwrap()]).stdout;
    assert!(proposed.contains("%d/%m/%Y fits as well"), "{proposed}");

    // French headers, DD/MM/YYYY.
    let fr = s.path().join("commandes.csv");
    std::fs::write(&fr, "Courriel;Date de commande;Montant\nx@example.fr;17/06/1998;12,00\n").unwrap();
    let proposed = s.ok(&["ingest", "--infer", fr.to_str().unwrap()]).stdout;
    for line in
        ["email = \"Courriel\"", "date = \"Date de commande\"", "amount = \"Montant\"", "date_format = \"%d/%m/%Y\""]
    {
        assert!(proposed.contains(line), "{line} in:\n{proposed}");
    }
}
