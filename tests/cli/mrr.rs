//! `scudo mrr` on Stripe's subscriptions export (issue 16): the movements of a hand-computed
//! example, the identity that ties them together, re-import, rejects and the JSON shape.

use std::path::Path;

use crate::harness::{Scudo, fixture, scalar_i64};

fn ingest(s: &Scudo, ws: &Path, file: &Path) -> serde_json::Value {
    s.ran(&["--workspace", ws.to_str().unwrap(), "ingest", "--format", "json", "-q", file.to_str().unwrap()]).json()
}

fn mrr_json(s: &Scudo, ws: &Path, months: &str) -> serde_json::Value {
    s.ok(&["--workspace", ws.to_str().unwrap(), "mrr", "--months", months, "--as-of", "2024-04-30", "--format", "json"])
        .json()
}

fn money(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// tests/fixtures/stripe_subscriptions.csv, worked out by hand (USD, workspace in UTC):
///
/// | customer | subscriptions (monthly MRR)                                  | Dec    | Jan    | Feb    | Mar   | Apr |
/// |----------|--------------------------------------------------------------|--------|--------|--------|-------|-----|
/// | A        | A1 50/month since Nov; A2 2 seats × 20 since 5 Mar = 40      | 50     | 50     | 50     | 90    | 90  |
/// | B        | yearly 1200 since 15 Jan: 1200 / 12 = 100                    | 0      | 100    | 100    | 100   | 100 |
/// | C        | 3 × 30 = 90 since Oct, ended 10 Feb; again 1 × 30 on 2 Apr   | 90     | 90     | 0      | 0     | 30  |
/// | D        | 25/month, trial 20 Jan – 20 Feb                              | 0      | 0      | 25     | 25    | 25  |
/// | E        | 60/month; weekly 10 (10 × 52 / 12 = 43.33) ended 15 Mar      | 103.33 | 103.33 | 103.33 | 60    | 60  |
/// | F        | trialing until 15 May (after the as-of date)                 | 0      | 0      | 0      | 0     | 0   |
/// | G        | incomplete_expired: never billed                             | 0      | 0      | 0      | 0     | 0   |
/// | total    |                                                              | 243.33 | 343.33 | 278.33 | 275   | 305 |
///
/// Movements: Jan new 100 (B); Feb new 25 (D), churned 90 (C); Mar expansion 40 (A), contraction
/// 43.33 (E); Apr reactivation 30 (C: had MRR before).
/// Logo churn: Feb 1 of 4 = 25.0 %, other months 0.0 %.
/// NRR: Jan 243.33/243.33 = 100.0; Feb (343.33 − 90)/343.33 = 73.8; Mar (278.33 + 40 − 43.33)/278.33
/// = 98.8; Apr 275/275 = 100.0.
#[test]
fn movements_match_the_hand_computed_example() {
    let (s, ws) = Scudo::workspace();
    let r = ingest(&s, &ws, &fixture("stripe_subscriptions.csv"));
    let file = &r["files"][0];
    assert_eq!(file["kind"], "stripe-subscriptions");
    assert_eq!(file["subscriptions"]["inserted"], 10);
    assert_eq!(file["customers"]["inserted"], 7);
    assert_eq!(file["rows_rejected"], 0);

    let doc = mrr_json(&s, &ws, "4");
    let rows = doc["rows"].as_array().unwrap();
    let months: Vec<&str> = rows.iter().map(|r| r["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]);
    // (start, new, reactivation, expansion, contraction, churned, end)
    let expected = [
        (243.33, 100.0, 0.0, 0.0, 0.0, 0.0, 343.33),
        (343.33, 25.0, 0.0, 0.0, 0.0, 90.0, 278.33),
        (278.33, 0.0, 0.0, 40.0, 43.33, 0.0, 275.0),
        (275.0, 0.0, 30.0, 0.0, 0.0, 0.0, 305.0),
    ];
    for (row, want) in rows.iter().zip(expected) {
        let got = (
            money(&row["start_mrr"]),
            money(&row["new_mrr"]),
            money(&row["reactivation_mrr"]),
            money(&row["expansion_mrr"]),
            money(&row["contraction_mrr"]),
            money(&row["churned_mrr"]),
            money(&row["end_mrr"]),
        );
        assert_eq!(got, want, "{}", row["month"]);
        assert_eq!(row["currency"], "USD");
    }
    // (customers at the start, at the end, new, reactivated, churned)
    let counts: Vec<(i64, i64, i64, i64, i64)> = rows
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                n("customers_start"),
                n("customers_end"),
                n("new_customers"),
                n("reactivated_customers"),
                n("churned_customers"),
            )
        })
        .collect();
    assert_eq!(counts, [(3, 4, 1, 0, 0), (4, 4, 1, 0, 1), (4, 4, 0, 0, 0), (4, 5, 0, 1, 0)]);
    let pct = |k: &str| -> Vec<f64> { rows.iter().map(|r| money(&r[k])).collect() };
    assert_eq!(pct("logo_churn_pct"), [0.0, 25.0, 0.0, 0.0]);
    assert_eq!(pct("nrr_pct"), [100.0, 73.8, 98.8, 100.0]);
}

/// start + new + reactivation + expansion − contraction − churned = end, every month, and each
/// month starts where the one before ended.
#[test]
fn the_movements_add_up_every_month() {
    let (s, ws) = Scudo::workspace();
    ingest(&s, &ws, &fixture("stripe_subscriptions.csv"));
    let doc = mrr_json(&s, &ws, "8");
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let cents = |v: &serde_json::Value| (money(v) * 100.0).round() as i64;
    for (i, r) in rows.iter().enumerate() {
        let sum =
            cents(&r["start_mrr"]) + cents(&r["new_mrr"]) + cents(&r["reactivation_mrr"]) + cents(&r["expansion_mrr"])
                - cents(&r["contraction_mrr"])
                - cents(&r["churned_mrr"]);
        assert_eq!(sum, cents(&r["end_mrr"]), "{}", r["month"]);
        assert_eq!(cents(&r["net_new_mrr"]), cents(&r["end_mrr"]) - cents(&r["start_mrr"]));
        if i > 0 {
            assert_eq!(cents(&r["start_mrr"]), cents(&rows[i - 1]["end_mrr"]), "{}", r["month"]);
        }
    }
    // The first of the eight months (Sep 2023) is before any subscription: nothing at all.
    assert_eq!(cents(&rows[0]["end_mrr"]), 0);
    assert!(rows[0]["nrr_pct"].is_null(), "no NRR without MRR at the start");
    // Oct: C starts (new 90); Nov: A starts (new 50); Dec: E starts (new 60 + 43.33).
    assert_eq!(
        (cents(&rows[1]["new_mrr"]), cents(&rows[2]["new_mrr"]), cents(&rows[3]["new_mrr"])),
        (9000, 5000, 10333)
    );
}

#[test]
fn reimport_changes_nothing_and_a_newer_export_updates_in_place() {
    let (s, ws) = Scudo::workspace();
    let file = fixture("stripe_subscriptions.csv");
    ingest(&s, &ws, &file);
    let before = mrr_json(&s, &ws, "4")["rows"].clone();
    // The same bytes: recognised and skipped.
    let again = ingest(&s, &ws, &file);
    assert_eq!(again["files"][0]["outcome"], "unchanged");
    // The same rows in a new file (--force re-reads them too): nothing new, nothing changed.
    let copy = s.path().join("subscriptions_copy.csv");
    std::fs::copy(&file, &copy).unwrap();
    let r = ingest(&s, &ws, &copy);
    assert_eq!(r["files"][0]["subscriptions"]["inserted"], 0);
    assert_eq!(r["files"][0]["subscriptions"]["updated"], 0);
    assert_eq!(r["files"][0]["subscriptions"]["unchanged"], 10);
    assert_eq!(r["files"][0]["customers"]["inserted"], 0);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM subscriptions"), 10);
    drop(db);
    assert_eq!(mrr_json(&s, &ws, "4")["rows"], before);
    // A later export where B moved to 2 seats: the row is replaced, not added.
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "sub_B1,cus_B,Bertha Co,bertha@example.com,Bertha Benz,price_pro_yearly,prod_app,1,",
        "sub_B1,cus_B,Bertha Co,bertha@example.com,Bertha Benz,price_pro_yearly,prod_app,2,",
    );
    let newer = s.path().join("subscriptions_newer.csv");
    std::fs::write(&newer, text).unwrap();
    let r = ingest(&s, &ws, &newer);
    assert_eq!(r["files"][0]["subscriptions"]["updated"], 1);
    assert_eq!(r["files"][0]["subscriptions"]["unchanged"], 9);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM subscriptions"), 10);
    assert_eq!(scalar_i64(&db, "SELECT quantity FROM subscriptions WHERE source_subscription_id = 'sub_B1'"), 2);
}

#[test]
fn a_malformed_row_is_rejected_with_its_reason_and_the_rest_imported() {
    let (s, ws) = Scudo::workspace();
    let file = s.path().join("subscriptions.csv");
    std::fs::write(
        &file,
        "id,Customer ID,Customer Email,Plan,Quantity,Currency,Interval,Amount,Status,Created (UTC),Start Date (UTC),Ended At (UTC)\n\
         sub_1,cus_1,a@example.com,price_a,1,usd,month,10.00,active,2024-01-02 10:00,2024-01-02 10:00,\n\
         sub_2,cus_2,b@example.com,price_b,1,usd,fortnight,10.00,active,2024-01-02 10:00,2024-01-02 10:00,\n\
         sub_3,cus_3,c@example.com,price_c,1,usd,month,10.00,canceled,2024-01-02 10:00,2024-01-02 10:00,2024-13-01 00:00\n",
    )
    .unwrap();
    let r = ingest(&s, &ws, &file);
    assert_eq!(r["files"][0]["subscriptions"]["inserted"], 1);
    assert_eq!(r["files"][0]["rows_rejected"], 2);
    let rejects = std::fs::read_to_string(ws.join("rejects/subscriptions.rejects.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(rejects.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((&rows[0][1], &rows[0][2]), ("3", "Interval"));
    assert!(rows[0][3].contains("`fortnight`") && rows[0][3].contains("expected day, week, month or year"));
    assert_eq!((&rows[1][1], &rows[1][2]), ("4", "Ended At (UTC)"));
    assert!(rows[1][3].contains("2024-13-01"), "{}", &rows[1][3]);
}

#[test]
fn json_shape_table_and_empty_workspace() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    // Nothing imported yet: the table says what to do, the JSON has no rows.
    let r = s.ok(&["--workspace", w, "mrr"]);
    assert!(r.stdout.contains("no subscriptions yet"), "{}", r.stdout);
    assert_eq!(s.ok(&["--workspace", w, "mrr", "--format", "json"]).json()["rows"], serde_json::json!([]));

    ingest(&s, &ws, &fixture("stripe_subscriptions.csv"));
    let doc = mrr_json(&s, &ws, "2");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["as_of"], "2024-04-30");
    let keys: Vec<&str> = doc["rows"][0].as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "month",
        "label",
        "currency",
        "start_mrr",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "end_mrr",
        "net_new_mrr",
        "customers_start",
        "customers_end",
        "new_customers",
        "reactivated_customers",
        "churned_customers",
        "logo_churn_pct",
        "nrr_pct",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    let table = s.ok(&["--workspace", w, "mrr", "--months", "2", "--as-of", "2024-04-30"]).stdout;
    assert!(table.contains("Apr 2024") && table.contains("305.00"), "{table}");
    let csv = s.ok(&["--workspace", w, "mrr", "--months", "2", "--as-of", "2024-04-30", "--format", "csv"]).stdout;
    assert!(csv.starts_with("month,label,currency,start_mrr"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
    // The dashboard carries the as-of month.
    let d = s.ok(&["--workspace", w, "dashboard", "--as-of", "2024-04-30", "--format", "json"]).json();
    assert_eq!(money(&d["mrr"][0]["end_mrr"]), 305.0);
    let text = s.ok(&["--workspace", w, "dashboard", "--as-of", "2024-04-30"]).stdout;
    assert!(text.contains("MRR $305 (+$30 this month, 5 subscribers)"), "{text}");
}

#[test]
fn privacy_export_and_erase_cover_subscriptions() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    ingest(&s, &ws, &fixture("stripe_subscriptions.csv"));
    let doc = s.ok(&["--workspace", w, "privacy", "export", "ada@example.com"]).json();
    let subs = doc["records"]["subscriptions"].as_array().unwrap();
    let ids: Vec<&str> = subs.iter().map(|r| r["source_subscription_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["sub_A1", "sub_A2"]);
    s.ok(&["--workspace", w, "privacy", "erase", "ada@example.com", "--yes"]);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM subscriptions WHERE source_subscription_id LIKE 'sub_A%'"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM subscriptions"), 8);
    drop(db);
    // Importing the export again leaves her out.
    let copy = s.path().join("again.csv");
    std::fs::copy(fixture("stripe_subscriptions.csv"), &copy).unwrap();
    let r = ingest(&s, &ws, &copy);
    assert_eq!(r["files"][0]["rows_suppressed"], 2);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM subscriptions"), 8);
}

/// Months are the workspace's calendar: E1 starts 2023-12-01 00:30 UTC, which is 30 November,
/// 19:30 in New York. There, November gains A and E1 (50 + 60 = 110 new) and December only E2's
/// 43.33 (expansion: E already had MRR); in UTC both of E's arrive in December as new.
#[test]
fn months_are_the_workspace_time_zone() {
    let (s, ws) = Scudo::workspace();
    let toml = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("timezone = \"auto\""), "the default workspace zone");
    std::fs::write(&toml, text.replacen("timezone = \"auto\"", "timezone = \"America/New_York\"", 1)).unwrap();
    ingest(&s, &ws, &fixture("stripe_subscriptions.csv"));
    let doc = mrr_json(&s, &ws, "6");
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows[0]["month"], "2023-11-01");
    assert_eq!((money(&rows[0]["new_mrr"]), money(&rows[0]["end_mrr"])), (110.0, 200.0));
    assert_eq!((money(&rows[1]["new_mrr"]), money(&rows[1]["expansion_mrr"])), (0.0, 43.33));
    assert_eq!(money(&rows[1]["end_mrr"]), 243.33);
}
