//! Numbers an owner can trust: orders two exports describe merged the same whatever the import
//! order, money in several currencies, the shop's own calendar, At-Risk as "overdue", cohorts.
//! Expected figures are worked out by hand from the fixtures (see each test).

use std::path::Path;

use crate::harness::{SHOPIFY_ORDERS_HEADER, Scudo, demo, fixture, scalar_i64, scalar_text, shopify_order};

fn json_in(s: &Scudo, ws: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["--workspace", ws.to_str().unwrap()];
    full.extend(args);
    full.extend(["--format", "json"]);
    // 1: ran, and a condition holds (alerts listed).
    let r = s.ran(&full);
    r.json()
}

fn ingest(s: &Scudo, ws: &Path, files: &[&str]) {
    for f in files {
        s.ok(&["--workspace", ws.to_str().unwrap(), "ingest", "-q", fixture(f).to_str().unwrap()]);
    }
}

fn permutations(items: &[&'static str]) -> Vec<Vec<&'static str>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

/// The dashboard with customer ids replaced by names, so that workspaces built in different
/// orders (where ids are handed out differently) compare equal when they mean the same.
fn dashboard_by_name(s: &Scudo, ws: &Path, as_of: &str) -> serde_json::Value {
    let mut d = json_in(s, ws, &["dashboard", "--as-of", as_of]);
    if let Some(alerts) = d["alerts"].as_array_mut() {
        for a in alerts {
            a["customer_id"] = serde_json::Value::Null;
        }
    }
    d
}

/// A Stripe payment and its invoice share an order id. Payments know refunds (in_2 refunded in
/// full, in_3 by 195 of 300), invoices know subtotals, discounts and numbers. By hand: revenue
/// 180 + 0 + 105 + 50 (ch_4) + 75 (in_4) = 410 USD; customers alex (cus_A and cus_D share the
/// email), sam, kim, lee = 4; purchases in_1, in_2, in_3, ch_4, in_4 = 5.
#[test]
fn stripe_payments_and_invoices_merge_the_same_in_every_order() {
    let files = ["stripe_pay_refunds.csv", "stripe_inv_refunds.csv", "stripe_cust_refunds.csv"];
    let mut first: Option<serde_json::Value> = None;
    for order in permutations(&files) {
        let (s, ws) = Scudo::workspace();
        ingest(&s, &ws, &order);
        let d = dashboard_by_name(&s, &ws, "2024-12-31");
        assert_eq!(d["kpis"]["revenue"].as_f64(), Some(410.0), "{order:?}: {}", d["kpis"]);
        assert_eq!(d["kpis"]["customers"], 4, "{order:?}");
        assert_eq!(d["kpis"]["orders"], 5, "{order:?}");
        let db = Scudo::db(&ws);
        let row = |id: &str| {
            scalar_text(
                &db,
                &format!(
                    "SELECT concat_ws('|', status, total, refunded_total, net_total, subtotal, discount_total, order_number, \
                     strftime(ordered_at, '%Y-%m-%d %H:%M')) FROM orders WHERE order_id = 'stripe:{id}'"
                ),
            )
        };
        let paid_and_invoiced =
            order.iter().position(|f| f.contains("pay")) < Some(3) && order.iter().any(|f| f.contains("inv"));
        assert!(paid_and_invoiced);
        assert_eq!(row("in_2"), "refunded|170.00|170.00|0.00|170.00|0.00|INV-0002|2023-08-25 15:53", "{order:?}");
        assert_eq!(
            row("in_3"),
            "partially_refunded|300.00|195.00|105.00|310.00|10.00|INV-0003|2023-08-20 10:00",
            "{order:?}"
        );
        assert_eq!(row("in_1"), "completed|180.00|0.00|180.00|160.00|0.00|INV-0001|2023-08-28 20:18", "{order:?}");
        assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers"), 4, "{order:?}");
        assert_eq!(
            scalar_i64(
                &db,
                "SELECT count(DISTINCT customer_id) FROM orders WHERE order_id IN ('stripe:in_1', 'stripe:ch_4', 'stripe:in_4')"
            ),
            1,
            "{order:?}: alex's orders belong to one customer"
        );
        match &first {
            None => first = Some(d),
            Some(f) => assert_eq!(&d, f, "{order:?} gives another dashboard"),
        }
    }
}

/// Importing the payments again after the invoices (a newer export of the same payments) keeps
/// the invoices' fields, and re-importing the invoices keeps the refunds.
#[test]
fn a_newer_export_of_one_kind_keeps_what_the_other_kind_said() {
    let (s, ws) = Scudo::workspace();
    ingest(&s, &ws, &["stripe_pay_refunds.csv", "stripe_inv_refunds.csv"]);
    // The same invoices again, byte for byte different (a re-export): refunds must survive.
    let copy = s.path().join("invoices_again.csv");
    let text = std::fs::read_to_string(fixture("stripe_inv_refunds.csv")).unwrap();
    std::fs::write(&copy, format!("{text}\n")).unwrap();
    s.ok(&["--workspace", ws.to_str().unwrap(), "ingest", "-q", copy.to_str().unwrap()]);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT sum(net_total)::VARCHAR FROM orders"), "410.00");
    assert_eq!(scalar_text(&db, "SELECT status FROM orders WHERE order_id = 'stripe:in_2'"), "refunded");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM order_versions WHERE order_id = 'stripe:in_3'"), 2);
}

/// USD shop (3 of 5 orders) with one GBP and one INR order. Without rates those two are left out
/// of money and counts alike: revenue 200, 3 orders, AOV 66.67 (not 200 / 5 = 40). With the ECB's
/// rates of 2024-06-07 (1 EUR = 1.0897 USD = 0.85 GBP = 90.80 INR): 80 GBP = 80 × 1.0897 / 0.85 =
/// 102.56 USD and 12,499 INR = 12,499 × 1.0897 / 90.80 = 150.00 USD.
#[test]
fn every_money_figure_is_in_one_currency_and_says_what_it_leaves_out() {
    let (s, ws) = Scudo::workspace();
    ingest(&s, &ws, &["shopify_orders_currencies.csv"]);
    let w = ws.to_str().unwrap();
    let r = s.run(&["--workspace", w, "kpis", "--as-of", "2024-06-30", "--period-days", "30", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let k = r.json();
    assert_eq!(k["kpis"]["revenue"]["current"].as_f64(), Some(200.0), "{k}");
    assert_eq!(k["kpis"]["orders"]["current"], 3, "{k}");
    assert_eq!(k["kpis"]["average_order_value"]["current"].as_f64(), Some(66.67), "{k}");
    assert!(
        r.stderr.contains("2 orders in GBP and INR are not included") && r.stderr.contains("scudo rates import"),
        "{}",
        r.stderr
    );
    let d = json_in(&s, &ws, &["dashboard", "--as-of", "2024-06-30"]);
    assert_eq!(d["unconverted"]["orders"], 2, "{d}");
    // Raj's only order is in INR: no rate, so no purchase and no $0 revenue next to "1 orders".
    let raj = json_in(&s, &ws, &["customer", "raj@example.com", "--as-of", "2024-06-30"]);
    assert_eq!(raj["customer"]["orders"], 0, "{raj}");
    let text = s.ok(&["--workspace", w, "customer", "raj@example.com", "--as-of", "2024-06-30"]).stdout;
    assert!(text.contains("1 purchase in INR not included"), "{text}");
    assert!(!text.contains("1 orders") && !text.contains("no purchases yet"), "{text}");

    let imported = json_in(&s, &ws, &["rates", "import", fixture("ecb_rates.csv").to_str().unwrap()]);
    assert_eq!(imported["format"], "ecb");
    assert_eq!(imported["unvalued_orders_after"], 0, "{imported}");
    let r = s.run(&["--workspace", w, "kpis", "--as-of", "2024-06-30", "--period-days", "30", "--format", "json"]);
    let k = r.json();
    assert!(!r.stderr.contains("not included"), "{}", r.stderr);
    assert_eq!(k["kpis"]["revenue"]["current"].as_f64(), Some(452.56), "{k}");
    assert_eq!(k["kpis"]["orders"]["current"], 5, "{k}");
    let db = Scudo::db(&ws);
    assert_eq!(scalar_text(&db, "SELECT value::VARCHAR FROM orders WHERE order_number = '#1003'"), "102.56");
    assert_eq!(scalar_text(&db, "SELECT value::VARCHAR FROM orders WHERE order_number = '#1004'"), "150.00");
    let rate = scalar_text(&db, "SELECT round(value_rate, 6)::VARCHAR FROM orders WHERE order_number = '#1003'");
    assert_eq!(rate, "1.282", "the rate is kept beside the amount");
    drop(db);
    // The VIP threshold is in the reporting currency: 12,499 INR is 150 USD, nobody's VIP.
    let raj = json_in(&s, &ws, &["customer", "raj@example.com", "--as-of", "2024-06-30"]);
    assert_eq!(raj["customer"]["revenue"].as_f64(), Some(150.0), "{raj}");
    assert_ne!(raj["customer"]["stage"], "VIP", "{raj}");
    let list = json_in(&s, &ws, &["rates", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
}

/// Stripe's own converted amounts are preferred: a THB-settled account reporting in THB counts
/// the charge at what Stripe settled (534.80 THB), with no rate imported.
#[test]
fn stripe_converted_amounts_value_orders_in_the_settlement_currency() {
    let (s, ws) = Scudo::workspace();
    let settings = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&settings).unwrap().replace("currency = \"auto\"", "currency = \"THB\"");
    std::fs::write(&settings, text).unwrap();
    let file = s.path().join("thb.csv");
    std::fs::write(
        &file,
        "id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,Converted Amount Refunded,Converted Currency,Status,Customer ID,Customer Email\n\
         ch_1,2024-06-07 02:38:54,15.00,0.00,usd,true,534.80,0.00,thb,Paid,cus_1,a@example.com\n",
    )
    .unwrap();
    s.ok(&["--workspace", ws.to_str().unwrap(), "ingest", "-q", file.to_str().unwrap()]);
    let d = json_in(&s, &ws, &["dashboard", "--as-of", "2024-12-31"]);
    assert_eq!(d["currency"], "THB");
    assert_eq!(d["kpis"]["revenue"].as_f64(), Some(534.8), "{d}");
}

#[test]
fn unknown_currency_codes_in_settings_are_refused() {
    let (s, ws) = Scudo::workspace();
    let settings = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&settings).unwrap().replace("currency = \"auto\"", "currency = \"USX\"");
    std::fs::write(&settings, text).unwrap();
    let r = s.run(&["--workspace", ws.to_str().unwrap(), "dashboard"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("USX") && r.stderr.contains("ISO 4217") && r.stderr.contains("USD"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

/// #1002 was placed on 2024-06-04 at 21:30 New York time (01:30 UTC on the 5th); #1005 on
/// 30 June at 21:00 (1 July UTC). The first import proposes America/New_York from the offsets.
#[test]
fn dates_are_the_shops_own_calendar() {
    let (s, ws) = Scudo::workspace();
    let r = s.ok(&[
        "--workspace",
        ws.to_str().unwrap(),
        "ingest",
        fixture("shopify_orders_currencies.csv").to_str().unwrap(),
    ]);
    assert!(r.stderr.contains("America/New_York"), "{}", r.stderr);
    let settings = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    assert!(settings.contains("timezone = \"America/New_York\""), "{settings}");
    let k = json_in(&s, &ws, &["kpis", "--as-of", "2024-06-04", "--period-days", "1"]);
    assert_eq!(k["kpis"]["orders"]["current"], 1, "#1002 belongs to 4 June: {k}");
    assert_eq!(k["kpis"]["revenue"]["current"].as_f64(), Some(60.0), "{k}");
    let cohorts = json_in(&s, &ws, &["cohorts", "--as-of", "2024-07-31"]);
    let rows = cohorts["rows"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["cohort"] == "2024-06"), "Cho's first order is a June one: {cohorts}");
    // Timestamps stay in UTC; the local time is beside them.
    let db = Scudo::db(&ws);
    assert_eq!(
        scalar_text(
            &db,
            "SELECT strftime(ordered_at, '%Y-%m-%d %H:%M') || ' ' || strftime(local_at, '%Y-%m-%d %H:%M') FROM orders WHERE order_number = '#1002'"
        ),
        "2024-06-05 01:30 2024-06-04 21:30"
    );
    drop(db);
    // The setting rules: in UTC, #1002 falls on the 5th.
    let text = std::fs::read_to_string(ws.join("scudo.toml")).unwrap().replace("America/New_York", "UTC");
    std::fs::write(ws.join("scudo.toml"), text).unwrap();
    let k = json_in(&s, &ws, &["kpis", "--as-of", "2024-06-04", "--period-days", "1"]);
    assert_eq!(k["kpis"]["orders"]["current"], 0, "{k}");
    let r = s.run(&[
        "--workspace",
        ws.to_str().unwrap(),
        "kpis",
        "--format",
        "json",
        "--as-of",
        "2024-06-05",
        "--period-days",
        "1",
    ]);
    assert_eq!(r.json()["kpis"]["orders"]["current"], 1);
    let bad = std::fs::read_to_string(ws.join("scudo.toml")).unwrap().replace("\"UTC\"", "\"Mars/Olympus\"");
    std::fs::write(ws.join("scudo.toml"), bad).unwrap();
    let r = s.run(&["--workspace", ws.to_str().unwrap(), "dashboard"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Mars/Olympus") && r.stderr.contains("IANA"), "{}", r.stderr);
}

/// While the zone is "auto", an orders file computes its dates in the zone the offsets seen so far
/// point to; a later file of the same import that points to another zone moves every date, the
/// earlier file's too. The first file's three winter days at −05:00 and a June day at −04:00 fit
/// New York best; the second file's three summer days at −05:00 make Bogotá (−05:00 all year)
/// fit six of seven days against New York's four. #4, stated 23:30 −04:00 (03:30 UTC on the
/// 11th), is then 22:30 on the 10th.
#[test]
fn a_later_file_pointing_to_another_zone_moves_every_date() {
    let (s, ws) = Scudo::workspace();
    let file = |name: &str, rows: &[(u32, &str)]| {
        let path = s.path().join(name);
        let body: String = rows.iter().map(|(n, at)| shopify_order(*n, "ana@example.com", "10.00", at)).collect();
        std::fs::write(&path, format!("{SHOPIFY_ORDERS_HEADER}{body}")).unwrap();
        path
    };
    let winter = file(
        "a_winter.csv",
        &[
            (1, "2024-01-10 23:30:00 -0500"),
            (2, "2024-02-10 23:30:00 -0500"),
            (3, "2024-03-01 23:30:00 -0500"),
            (4, "2024-06-10 23:30:00 -0400"),
        ],
    );
    let summer = file(
        "b_summer.csv",
        &[(5, "2024-07-10 23:30:00 -0500"), (6, "2024-08-10 23:30:00 -0500"), (7, "2024-09-10 23:30:00 -0500")],
    );
    let local = |ws: &Path, number: &str| {
        let db = Scudo::db(ws);
        scalar_text(
            &db,
            &format!("SELECT strftime(local_at, '%Y-%m-%d %H:%M') FROM orders WHERE order_number = '{number}'"),
        )
    };
    // The first file alone: New York, and #4 at the time it states; the dates were computed
    // there by the import, not again once the zone was written down.
    let (s1, alone) = Scudo::workspace();
    let r = s1.ok(&["--workspace", alone.to_str().unwrap(), "--timings", "ingest", winter.to_str().unwrap()]);
    assert!(r.stderr.contains("\"America/New_York\""), "{}", r.stderr);
    let after_commit = r.stderr.rsplit("import: committed").next().unwrap_or_default();
    assert!(!after_commit.contains("deriving local times"), "{}", r.stderr);
    assert_eq!(local(&alone, "#4"), "2024-06-10 23:30");
    // Both files in one import: Bogotá, and #4 moved with the rest.
    let r = s.ok(&["--workspace", ws.to_str().unwrap(), "ingest", winter.to_str().unwrap(), summer.to_str().unwrap()]);
    assert!(r.stderr.contains("\"America/Bogota\""), "{}", r.stderr);
    let settings = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    assert!(settings.contains("timezone = \"America/Bogota\""), "{settings}");
    assert_eq!(local(&ws, "#4"), "2024-06-10 22:30");
    assert_eq!(local(&ws, "#5"), "2024-07-10 23:30");
}

/// At-Risk means overdue by the customer's own rhythm. On the demo as of 2024-06-01 the flat
/// 45-day rule flagged three customers who were all inside their usual gap; on 2024-10-01 the
/// plan's outcome holds: Lisa Thompson and Mike Johnson At-Risk, Robert Wilson inactive.
#[test]
fn at_risk_means_overdue_for_the_next_order() {
    let (s, ws) = demo();
    let early = json_in(&s, &ws, &["alerts", "--as-of", "2024-06-01", "--limit", "0"]);
    for a in early["rows"].as_array().unwrap().iter().filter(|a| a["kind"] == "at_risk") {
        let reason = a["reason"].as_str().unwrap();
        let nums: Vec<i64> =
            reason.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).map(|w| w.parse().unwrap()).collect();
        if nums.len() >= 2 {
            assert!(nums[0] as f64 >= 1.2 * nums[1] as f64, "At-Risk inside the usual gap: {reason}");
        }
    }
    let d = json_in(&s, &ws, &["dashboard"]);
    let mut at_risk: Vec<String> = d["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["stage"] == "At-Risk")
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    at_risk.sort();
    assert_eq!(at_risk, vec!["Lisa Thompson", "Mike Johnson"], "{d}");
    let robert = d["alerts"].as_array().unwrap().iter().find(|a| a["name"] == "Robert Wilson").expect("Robert listed");
    assert_eq!(robert["stage"], "Dormant");
    for a in d["alerts"].as_array().unwrap().iter().filter(|a| a["stage"] == "At-Risk") {
        let (days, gap) = (a["days_since_last_order"].as_f64().unwrap(), a["typical_gap_days"].as_f64());
        if let Some(gap) = gap {
            assert!(days >= 1.2 * gap, "{a}");
        }
    }
}

/// Months without purchases carry the cumulative revenue and show 0% retention; the table says
/// when it does not show every month.
#[test]
fn cohorts_carry_revenue_through_quiet_months_and_say_what_they_cut() {
    let (s, ws) = demo();
    let rows = json_in(&s, &ws, &["cohorts"]);
    let rows = rows["rows"].as_array().unwrap();
    let mut last: std::collections::HashMap<String, (i64, f64)> = Default::default();
    for r in rows {
        let cohort = r["cohort"].as_str().unwrap().to_string();
        let k = r["months_since_first"].as_i64().unwrap();
        let cum = r["cumulative_revenue_per_customer"].as_f64().expect("never blank");
        if let Some((pk, pc)) = last.get(&cohort) {
            assert_eq!(k, pk + 1, "every month is listed: {cohort}");
            assert!(cum >= *pc, "cumulative revenue never falls: {cohort} M{k}");
        } else {
            assert_eq!(k, 0);
        }
        last.insert(cohort, (k, cum));
    }
    let max_k = rows.iter().filter_map(|r| r["months_since_first"].as_i64()).max().unwrap();
    let table = s.ok(&["--workspace", ws.to_str().unwrap(), "cohorts"]).stdout;
    if max_k > 12 {
        assert!(table.contains(&format!("M13 to M{max_k} are not shown")), "{table}");
    } else {
        assert!(!table.contains("not shown"), "{table}");
    }
    assert!(max_k > 12, "the demo spans more than a year of cohorts");
}

/// A rates file with no usable row, or of no known layout, changes nothing and says why.
#[test]
fn a_bad_rates_file_is_refused_and_changes_nothing() {
    let (s, ws) = Scudo::workspace();
    ingest(&s, &ws, &["shopify_orders_currencies.csv"]);
    let w = ws.to_str().unwrap();
    let bad = s.path().join("rates.csv");
    std::fs::write(&bad, "date,currency,rate\n2024-13-01,GBP,1.2\n2024-06-07,GBP,-1\n").unwrap();
    let r = s.run(&["--workspace", w, "rates", "import", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no usable rate") && r.stderr.contains("nothing was changed"), "{}", r.stderr);
    let unknown = s.path().join("what.csv");
    std::fs::write(&unknown, "when,what\n1,2\n").unwrap();
    let r = s.run(&["--workspace", w, "rates", "import", unknown.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("date,currency,rate") && r.stderr.contains("when,what"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM exchange_rates"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders WHERE value IS NULL"), 2, "still unvalued");
}
