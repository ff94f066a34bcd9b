//! The generator, and the analytics on a generated shop of 100,000 customers. The large run is
//! ignored by a plain `cargo test` (about a minute) and run by `.ci/run`.

use crate::harness::{Scudo, scalar_i64, scalar_text};

#[test]
fn generator_is_deterministic_and_its_truth_matches_the_import() {
    let s = Scudo::new();
    let truth = s.ok(&["generate", "--customers", "300", "--seed", "7", "--out", "a", "--format", "json", "-q"]).json();
    s.ok(&["generate", "--customers", "300", "--seed", "7", "--out", "b", "-q"]);
    for f in ["shopify_orders.csv", "shopify_customers.csv", "stripe_payments.csv", "truth.json"] {
        assert_eq!(
            std::fs::read(s.path().join("a").join(f)).unwrap(),
            std::fs::read(s.path().join("b").join(f)).unwrap(),
            "{f} differs"
        );
    }
    s.ok(&["generate", "--customers", "300", "--seed", "8", "--out", "c", "-q"]);
    assert_ne!(
        std::fs::read(s.path().join("a/shopify_orders.csv")).unwrap(),
        std::fs::read(s.path().join("c/shopify_orders.csv")).unwrap()
    );

    s.ok(&["init", "ws", "-q"]);
    let ws = s.path().join("ws");
    s.ran(&["-w", ws.to_str().unwrap(), "ingest", "-q", s.path().join("a").to_str().unwrap()]);
    let db = Scudo::db(&ws);
    check_against_truth(&db, &truth);
}

/// The imported database against truth.json: counts and money, computed independently.
fn check_against_truth(db: &duckdb::Connection, truth: &serde_json::Value) {
    let n = |k: &str| truth[k].as_i64().unwrap();
    assert_eq!(scalar_i64(db, "SELECT count(*) FROM customers"), n("customers"));
    assert_eq!(
        scalar_i64(db, "SELECT count(*) FROM orders WHERE source = 'shopify' AND status <> 'cancelled'"),
        n("shopify_purchases")
    );
    assert_eq!(scalar_i64(db, "SELECT count(*) FROM orders WHERE status = 'cancelled'"), n("cancelled_orders"));
    assert_eq!(
        scalar_i64(db, "SELECT count(*) FROM orders WHERE status IN ('completed', 'partially_refunded')"),
        n("purchases")
    );
    assert_eq!(
        scalar_i64(
            db,
            "SELECT count(DISTINCT customer_id) FROM orders WHERE status IN ('completed', 'partially_refunded')"
        ),
        n("buyers")
    );
    assert_eq!(scalar_i64(db, "SELECT count(*) FROM orders WHERE source = 'stripe'"), n("stripe_payments"));
    let cents = |sql: &str| scalar_text(db, &format!("SELECT ({sql} * 100)::BIGINT::VARCHAR")).parse::<i64>().unwrap();
    assert_eq!(
        cents("(SELECT sum(total) FROM orders WHERE source = 'shopify' AND status <> 'cancelled')"),
        n("gross_cents")
    );
    assert_eq!(cents("(SELECT sum(refunded_total) FROM orders WHERE source = 'shopify')"), n("refunded_cents"));
    assert_eq!(
        cents("(SELECT sum(total) FROM orders WHERE source = 'stripe' AND status = 'completed')"),
        n("stripe_paid_cents")
    );
    // Stripe payers are the same people as in Shopify: no customer was created by Stripe.
    assert_eq!(
        scalar_i64(
            db,
            "SELECT count(*) FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM customer_sources WHERE source = 'shopify')"
        ),
        0
    );
}

#[test]
#[ignore = "generates and imports 100,000 customers (about a minute); run by .ci/run"]
fn scale_every_query_on_100k_generated_customers() {
    let s = Scudo::new();
    let truth =
        s.ok(&["generate", "--customers", "100000", "--seed", "1", "--out", "shop", "--format", "json", "-q"]).json();
    s.ok(&["init", "ws", "-q"]);
    let ws = s.path().join("ws");
    let w = ws.to_str().unwrap();
    s.ran(&["-w", w, "ingest", "-q", s.path().join("shop").to_str().unwrap()]);
    {
        let db = Scudo::db(&ws);
        check_against_truth(&db, &truth);
    }
    let as_of = truth["end"].as_str().unwrap();
    let run = |args: &[&str]| {
        let mut full = vec!["-w", w];
        full.extend_from_slice(args);
        full.extend(["--as-of", as_of, "--format", "json"]);
        s.ran(&full).json()
    };
    let d = run(&["dashboard"]);
    assert_eq!(d["kpis"]["customers"], truth["customers"]);
    let staged: i64 = d["health"].as_array().unwrap().iter().map(|h| h["customers"].as_i64().unwrap()).sum();
    assert_eq!(staged, truth["customers"].as_i64().unwrap());
    let prospects = d["health"].as_array().unwrap().iter().find(|h| h["stage"] == "Prospect").unwrap()["customers"]
        .as_i64()
        .unwrap();
    assert_eq!(prospects, truth["customers"].as_i64().unwrap() - truth["buyers"].as_i64().unwrap());
    let k = run(&["kpis"]);
    assert_eq!(k["kpis"]["customers"]["current"], truth["customers"]);
    let seg = run(&["segments"]);
    let newsletter = seg["rows"].as_array().unwrap().iter().find(|r| r["segment"] == "NEWSLETTER").unwrap();
    let share = newsletter["customers"].as_f64().unwrap() / truth["customers"].as_f64().unwrap();
    assert!((share - 0.40).abs() < 0.01, "NEWSLETTER holds 40% of customers, got {share}");
    run(&["segments", "show", "WHOLESALE"]);
    run(&["segments", "compare", "NEWSLETTER", "WHOLESALE"]);
    // By default the 25 largest of each kind, each row saying how many there are in all.
    let alerts = run(&["alerts"]);
    let rows = alerts["rows"].as_array().unwrap();
    let at_risk: Vec<&serde_json::Value> = rows.iter().filter(|r| r["kind"] == "at_risk").collect();
    assert_eq!(at_risk.len(), 25);
    let all_at_risk = at_risk[0]["of_kind"].as_u64().unwrap();
    assert!(all_at_risk > 1000, "{all_at_risk}");
    let revenues: Vec<f64> = at_risk.iter().map(|r| r["revenue"].to_string().parse().unwrap()).collect();
    assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "largest first");
    let every = run(&["alerts", "--limit", "0"]);
    let listed = every["rows"].as_array().unwrap().iter().filter(|r| r["kind"] == "at_risk").count() as u64;
    assert_eq!(listed, all_at_risk);
    let cohorts = run(&["cohorts"]);
    let sizes: i64 = cohorts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["months_since_first"] == 0)
        .map(|r| r["cohort_size"].as_i64().unwrap())
        .sum();
    assert_eq!(sizes, truth["buyers"].as_i64().unwrap());
    let found = s.ok(&["-w", w, "customers", "search", "customer4242@example.com", "--format", "json"]).json();
    assert_eq!(found["rows"][0]["score"], 100.0);
    let id = found["rows"][0]["customer_id"].as_str().unwrap().to_string();
    let c = run(&["customer", &id]);
    assert_eq!(c["customer"]["email"], "customer4242@example.com");
    let scored = run(&["score"]);
    assert_eq!(scored["customers"], truth["customers"]);
    // The models recover the generator's parameters from the imported exports.
    let fit = s.ok(&["-w", w, "models", "fit", "--until", as_of, "--unit", "week", "--format", "json"]).json();
    let p = &truth["params"];
    let near = |model: &str, key: &str, tol: f64| {
        let got = fit["models"][model][key].as_f64().unwrap();
        let want = p[if key == "gamma" { "gamma" } else { key }].as_f64().unwrap();
        assert!((got - want).abs() <= tol * want, "{model} {key}: fitted {got}, true {want}");
    };
    for key in ["r", "alpha", "a", "b"] {
        near("bgnbd", key, 0.08);
    }
    let gg = &fit["models"]["gamma-gamma"];
    let mean = |p: f64, q: f64, g: f64| p * g / (q - 1.0);
    let fitted_mean = mean(gg["p"].as_f64().unwrap(), gg["q"].as_f64().unwrap(), gg["gamma"].as_f64().unwrap());
    let true_mean = mean(p["p"].as_f64().unwrap(), p["q"].as_f64().unwrap(), p["gamma"].as_f64().unwrap());
    assert!((fitted_mean - true_mean).abs() <= 0.03 * true_mean, "mean spend {fitted_mean} vs {true_mean}");
    let churn = run(&["churn", "-n", "5"]);
    assert_eq!(churn["rows"][0]["churn_method"], "BG/NBD");
    let clv = run(&["clv", "-n", "5"]);
    assert!(clv["rows"][0]["clv"].as_f64().unwrap() > 0.0);
    // Every built-in report template, as HTML and as an email (checked, not sent).
    let customer = format!("customer_id={id}");
    for (name, params) in crate::report::TEMPLATES {
        let params: Vec<&str> = params
            .iter()
            .map(|p| match *p {
                "segment=VIP_HIGH_VALUE" => "segment=WHOLESALE",
                "customer_id=cust-000007" => customer.as_str(),
                other => other,
            })
            .collect();
        let mut args = vec!["-w", w, "report", name, "--as-of", as_of];
        args.extend_from_slice(&params);
        let html = s.ok(&args).stdout;
        assert!(html.starts_with("<!DOCTYPE html>") && html.len() > 2000, "{name}");
        let mut mail = vec!["-w", w, "digest", name, "--to", "owner@example.com", "--dry-run", "--as-of", as_of];
        mail.extend_from_slice(&params);
        let r = s.ok(&mail);
        assert!(r.stderr.contains("built and checked"), "{name}: {}", r.stderr);
    }
    let list = s.ok(&["-w", w, "query", "list", "--format", "json"]).json();
    for q in list["rows"].as_array().unwrap().iter().filter(|q| q["kind"] == "query") {
        let id = q["id"].as_str().unwrap();
        let params = q["params"].as_str().unwrap();
        let mut args = vec![
            "-w".to_string(),
            w.to_string(),
            "query".into(),
            "run".into(),
            id.into(),
            "--as-of".into(),
            as_of.into(),
            "--format".into(),
            "csv".into(),
        ];
        for (name, value) in [
            ("segment", "NEWSLETTER"),
            ("stage", "At-Risk"),
            ("q", "smith"),
            ("limit", "10"),
            ("customer_id", id_param(&c)),
            ("period_days", "30"),
            ("start_date", "2025-12-01"),
            ("end_date", "2025-12-31"),
            ("split", "2025-06-30"),
            ("until", "2025-12-31"),
            ("unit_days", "7"),
            ("weeks", "12"),
            ("months", "12"),
            ("rfm_group", ""),
            ("churn_band", ""),
            ("offset", "0"),
        ] {
            if params.split(", ").any(|p| p.split(' ').next() == Some(name)) {
                args.extend(["--param".into(), format!("{name}={value}")]);
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = s.run(&args);
        assert_eq!(r.code, 0, "{id}: {}", r.stderr);
    }
}

fn id_param(c: &serde_json::Value) -> &str {
    c["customer"]["customer_id"].as_str().unwrap()
}

#[test]
fn generate_refuses_bad_arguments() {
    let s = Scudo::new();
    let share = s.fails(&["generate", "--customers", "10", "--stripe-share", "2", "--out", "x"], 2);
    assert!(share.stderr.contains("--stripe-share 2 must be between 0 and 1"), "{}", share.stderr);
    assert!(!s.path().join("x").exists(), "nothing written");
    s.fails(&["generate", "--customers", "0", "--out", "x"], 2);
    s.fails(&["generate", "--customers", "10", "--end", "not-a-date", "--out", "x"], 2);
}
