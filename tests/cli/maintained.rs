//! Maintained views (docs/data-model.md): the dashboard a writer keeps for the workspace's date
//! must equal the one its queries compute, after every kind of change; a Customer 360 on the date
//! of a scoring run that saw the current data reads RFM from the run, with the same scores.

use std::path::Path;

use serde_json::Value;

use crate::harness::Scudo;

/// The workspace's date pinned to the generated data's end, so stages, alerts and segments vary.
fn pin(ws: &Path, day: &str) {
    let toml = ws.join("scudo.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replacen("[workspace]\n", &format!("[workspace]\nas_of = \"{day}\"\n"), 1)).unwrap();
}

/// A workspace pinned to the end of a generated shop of `customers`; returns the shop's directory.
fn generated(s: &Scudo, ws: &Path, customers: &str, seed: &str) -> std::path::PathBuf {
    let shop = s.path().join("shop");
    s.ok(&["generate", "--customers", customers, "--seed", seed, "--out", shop.to_str().unwrap(), "-q"]);
    pin(ws, "2025-12-31");
    shop
}

/// The parts of the dashboard that are kept.
fn kept_parts(v: &Value) -> Value {
    serde_json::json!([v["kpis"], v["health"], v["alerts"], v["alerts_total"], v["segments"], v["as_of"]])
}

/// The dashboard as read (noting whether it came from the cache) and as recomputed: they must
/// be equal. Returns whether it was read from the cache.
fn check(s: &Scudo, ws: &Path, what: &str) -> bool {
    let w = ws.to_str().unwrap();
    let read = s.ok(&["-w", w, "--timings", "dashboard", "--format", "json"]);
    let recomputed = s.ok(&["-w", w, "--timings", "dashboard", "--recompute", "--format", "json"]);
    assert!(!recomputed.stderr.contains("dashboard cache"), "--recompute reads no cache:\n{}", recomputed.stderr);
    let (a, b) = (kept_parts(&read.json()), kept_parts(&recomputed.json()));
    assert!(a[0]["customers"].as_i64().unwrap() > 0, "{what}: {a}");
    assert_eq!(a, b, "{what}: the kept dashboard differs from the recomputed one");
    read.stderr.contains("the dashboard cache (1 rows)")
}

#[test]
fn the_kept_dashboard_equals_the_recomputed_one_after_every_kind_of_change() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let shop = generated(&s, &ws, "300", "5");
    for file in ["shopify_customers.csv", "shopify_orders.csv", "stripe_payments.csv"] {
        s.ok(&["-w", w, "ingest", "-q", shop.join(file).to_str().unwrap()]);
        assert!(check(&s, &ws, file), "an import keeps the dashboard for the workspace's date");
    }
    let before = s.ok(&["-w", w, "dashboard", "--format", "json"]).json();

    // A scoring run: the alerts now show churn from it.
    s.ok(&["-w", w, "score", "-q"]);
    assert!(check(&s, &ws, "after scoring"));
    let after = s.ok(&["-w", w, "dashboard", "--format", "json"]).json();
    assert!(after["alerts"][0]["churn_probability"].as_f64().is_some(), "{}", after["alerts"]);
    assert!(before["alerts"][0]["churn_probability"].is_null(), "{}", before["alerts"]);

    // Tags change the segments.
    let tags = s.path().join("tags.csv");
    std::fs::write(
        &tags,
        "Customer ID,First Name,Last Name,Email,Total Spent,Total Orders,Tags\n\
         '7000000000001,Amelia,Moore,customer1@example.com,0,0,\"vip, wholesale\"\n",
    )
    .unwrap();
    s.ok(&["-w", w, "ingest", "-q", tags.to_str().unwrap()]);
    assert!(check(&s, &ws, "after tags"));
    let tagged = s.ok(&["-w", w, "dashboard", "--format", "json"]).json();
    assert!(tagged["segments"].as_array().unwrap().iter().any(|g| g["segment_id"] == "tag:wholesale"), "{tagged}");

    // An erasure: nothing is kept until the next writer, and what is computed is right.
    s.ok(&["-w", w, "privacy", "erase", "customer1@example.com", "--yes"]);
    assert!(!check(&s, &ws, "after an erasure"), "an erasure drops the kept dashboard");
    let erased = s.ok(&["-w", w, "dashboard", "--format", "json"]).json();
    assert_eq!(erased["kpis"]["customers"].as_i64(), tagged["kpis"]["customers"].as_i64().map(|n| n - 1));

    // Other settings or another date are other dashboards: computed, not read.
    let toml = ws.join("scudo.toml");
    s.ok(&["-w", w, "score", "-q"]);
    assert!(check(&s, &ws, "scored again"));
    let text = std::fs::read_to_string(&toml).unwrap();
    let vip = text.lines().find(|l| l.starts_with("vip_min_revenue")).unwrap().to_string();
    std::fs::write(&toml, text.replace(&vip, "vip_min_revenue = 1")).unwrap();
    assert!(!check(&s, &ws, "another VIP threshold"), "a changed setting is not read from the cache");
    std::fs::write(&toml, text).unwrap();
    assert!(check(&s, &ws, "the setting back"));
    let other = s.ok(&["-w", w, "--timings", "dashboard", "--as-of", "2025-06-30", "--format", "json"]);
    assert!(other.stderr.contains("the dashboard cache (0 rows)"), "{}", other.stderr);
}

#[test]
fn a_360_on_the_date_of_a_current_run_reads_rfm_from_it() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let shop = generated(&s, &ws, "200", "6");
    s.ok(&["-w", w, "ingest", "-q", shop.to_str().unwrap()]);
    let rfm = |id: &str| {
        let r = s.ok(&["-w", w, "--timings", "customer", id, "--format", "json"]);
        let v = r.json();
        let p = &v["customer"];
        let scores =
            ["recency_score", "frequency_score", "monetary_score", "rfm", "rfm_group"].map(|k| p[k].to_string());
        (scores, r.stderr.contains("RFM from the scoring run"))
    };
    let ids: Vec<String> = (1..200).step_by(23).map(|i| format!("cust-{i:06}")).collect();
    let live: Vec<_> = ids.iter().map(|id| rfm(id)).collect();
    assert!(live.iter().all(|(_, from_run)| !from_run), "no run yet: RFM is counted");
    assert!(live.iter().any(|(r, _)| r[0] != "null"), "{live:?}");

    s.ok(&["-w", w, "score", "-q"]);
    for (id, (counted, _)) in ids.iter().zip(&live) {
        let (read, from_run) = rfm(id);
        assert!(from_run, "{id}: a current run for the date is read");
        assert_eq!(&read, counted, "{id}: the run's RFM equals the counted one");
    }
    // A run for another date, or data changed since: counted again.
    s.ok(&["-w", w, "ingest", "-q", shop.join("stripe_payments.csv").to_str().unwrap(), "--force"]);
    let (_, from_run) = rfm(&ids[0]);
    assert!(!from_run, "data changed after the run: RFM is counted");
}
