//! The same analytics on Spark: `scudo export parquet`, `scudo sql --dialect spark --all` and
//! examples/spark/job.py on real Spark (pyspark 4.3.0 in local mode, from tests/tools/python-env,
//! bound to 127.0.0.1), every query's rows compared with DuckDB's (`scudo query run`) — money to
//! the cent, ratios to 1e-9. Needs Java 17 (.ci/run installs it); without it the test fails and
//! says so, it never passes by skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::Scudo;

/// The queries the issue's "done when" names: dashboard, health, segments, alerts, cohorts, RFM
/// (in the scoring snapshot) and the model summary. Each must run on Spark and match.
const REQUIRED: &[&str] = &[
    "dashboard.kpis",
    "dashboard.alerts",
    "kpi.summary",
    "health.distribution",
    "segments.performance",
    "segments.summary",
    "alerts.all",
    "alerts.attention",
    "cohorts.monthly",
    "scores.snapshot",
    "models.summary",
];

/// A fixed clock for the queries that read `$now`, so that both engines see the same one.
const NOW: &str = "2026-01-15 12:00:00";

fn java_present() {
    let ok = Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "Java 17 is needed for Spark (apt-get install openjdk-17-jre-headless; .ci/run installs it)");
}

/// One Parquet field as the JSON `scudo query run --format json` writes for the same value.
fn field_json(f: &parquet::record::Field) -> serde_json::Value {
    use parquet::record::Field as F;
    use serde_json::Value as J;
    let num = |x: f64| serde_json::Number::from_f64(x).map(J::Number).unwrap_or(J::Null);
    match f {
        F::Null => J::Null,
        F::Bool(b) => J::Bool(*b),
        F::Byte(n) => J::from(*n),
        F::Short(n) => J::from(*n),
        F::Int(n) => J::from(*n),
        F::Long(n) => J::from(*n),
        F::UByte(n) => J::from(*n),
        F::UShort(n) => J::from(*n),
        F::UInt(n) => J::from(*n),
        F::ULong(n) => J::from(*n),
        F::Float(x) => num(f64::from(*x)),
        F::Double(x) => num(*x),
        F::Decimal(_) => num(f.to_string().parse().expect("a decimal")),
        F::Str(s) => J::String(s.clone()),
        F::Date(d) => J::String(
            (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(i64::from(*d))).to_string(),
        ),
        F::TimestampMicros(us) => J::String(
            chrono::DateTime::from_timestamp_micros(*us).unwrap().naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
        F::TimestampMillis(ms) => J::String(
            chrono::DateTime::from_timestamp_millis(*ms).unwrap().naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
        F::ListInternal(l) => J::Array(l.elements().iter().map(field_json).collect()),
        other => J::String(other.to_string()),
    }
}

/// Every row of a Spark result folder (part-*.parquet), as JSON objects.
fn spark_rows(dir: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for f in files {
        let reader = SerializedFileReader::new(std::fs::File::open(&f).unwrap()).unwrap();
        for row in reader.get_row_iter(None).unwrap() {
            let row = row.unwrap();
            rows.push(row.get_column_iter().map(|(k, v)| (k.clone(), field_json(v))).collect());
        }
    }
    rows
}

/// Equal, numbers to 1e-9 of their size (money, kept to the cent by both engines, is then exact).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        _ => a == b,
    }
}

/// A row's sort key: numbers to 6 places, so that both engines' rows sort alike.
fn key(row: &serde_json::Map<String, serde_json::Value>, columns: &[String]) -> String {
    fn k(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Number(n) => format!("{:.6}", n.as_f64().unwrap()),
            serde_json::Value::Array(a) => a.iter().map(k).collect::<Vec<_>>().join(","),
            other => other.to_string(),
        }
    }
    columns.iter().map(|c| k(&row[c])).collect::<Vec<_>>().join("|")
}

/// One workspace's export and translated queries, for the job.
struct Prepared {
    ws: PathBuf,
    as_of: String,
    tag: &'static str,
    export: PathBuf,
    results: PathBuf,
    manifest: serde_json::Value,
    queries: serde_json::Value,
}

/// Export `ws` and translate every query.
fn prepare(s: &Scudo, ws: &Path, as_of: &str, tag: &'static str) -> Prepared {
    let w = ws.to_str().unwrap();
    let export = s.path().join(format!("{tag}-parquet"));
    let sql = export.join("sql");
    let results = s.path().join(format!("{tag}-results"));
    s.ok(&["-w", w, "export", "parquet", export.to_str().unwrap(), "-q"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("manifest.json")).unwrap()).unwrap();
    assert!(
        export.join("orders").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("month="))
    );
    s.ok(&[
        "-w",
        w,
        "sql",
        "--dialect",
        "spark",
        "--all",
        "--out",
        sql.to_str().unwrap(),
        "--as-of",
        as_of,
        "--param",
        &format!("now={NOW}"),
        "-q",
    ]);
    let queries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sql.join("queries.json")).unwrap()).unwrap();
    // Fuzzy search is DuckDB-only, and listed with its reason rather than dropped.
    let fuzzy = queries["skipped"].as_array().unwrap().iter().find(|q| q["id"] == "customers.search_more");
    assert!(fuzzy.is_some_and(|q| q["reason"].as_str().unwrap().contains("Jaro-Winkler")), "{}", queries["skipped"]);
    Prepared { ws: ws.to_path_buf(), as_of: as_of.to_string(), tag, export, results, manifest, queries }
}

/// Runs examples/spark/job.py once (one Spark session) over every prepared export.
fn run_job(runs: &[&Prepared]) {
    let job = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/spark/job.py");
    let mut cmd = Command::new(crate::smtp::python());
    cmd.arg(&job).env("SPARK_LOCAL_IP", "127.0.0.1");
    for p in runs {
        cmd.args(["--parquet", p.export.to_str().unwrap(), "--out", p.results.to_str().unwrap()]);
    }
    let out = cmd.output().expect("the Spark job starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports: Vec<String> =
        runs.iter().map(|p| std::fs::read_to_string(p.results.join("results.json")).unwrap_or_default()).collect();
    assert!(out.status.success(), "the Spark job failed:\n{}\n{}", reports.join("\n"), stderr);
    // Where the time went, for the CI log (.ci/run's budget for this test is 4 minutes).
    for r in &reports {
        let r: serde_json::Value = serde_json::from_str(r).unwrap();
        let queries: f64 = r["queries"].as_array().unwrap().iter().filter_map(|q| q["seconds"].as_f64()).sum();
        eprintln!(
            "spark: session {} s, tables {} s, {} queries {queries:.1} s, total {} s",
            r["session_seconds"],
            r["register_seconds"],
            r["queries"].as_array().unwrap().len(),
            r["total_seconds"]
        );
    }
}

/// Every query's Spark rows against DuckDB's; returns the ids compared.
fn compare(s: &Scudo, p: &Prepared) -> Vec<String> {
    let (w, as_of, tag, results, manifest, queries) =
        (p.ws.to_str().unwrap(), p.as_of.as_str(), p.tag, &p.results, &p.manifest, &p.queries);
    let skipped: Vec<&str> = queries["skipped"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("results.json")).unwrap()).unwrap();
    // Spark read every table with the manifest's row count.
    for t in manifest["tables"].as_array().unwrap() {
        assert_eq!(report["tables"][t["name"].as_str().unwrap()], t["rows"], "{}", t["name"]);
    }

    let mut compared = Vec::new();
    for q in queries["queries"].as_array().unwrap() {
        let id = q["id"].as_str().unwrap();
        let mut args = vec!["-w".to_string(), w.to_string(), "query".into(), "run".into(), id.into()];
        args.extend(["--as-of".into(), as_of.into()]);
        for (k, v) in q["params"].as_object().unwrap() {
            args.push("--param".into());
            args.push(format!("{k}={}", v.as_str().unwrap()));
        }
        args.extend(["--format".into(), "json".into()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let duck = s.ok(&refs).json();
        let columns: Vec<String> =
            duck["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        let mut duck_rows: Vec<serde_json::Map<String, serde_json::Value>> =
            duck["rows"].as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect();
        let mut spark = spark_rows(&results.join(id));
        assert_eq!(
            spark.len(),
            duck_rows.len(),
            "{tag} {id}: Spark gave {} rows, DuckDB {}",
            spark.len(),
            duck_rows.len()
        );
        if let Some(first) = spark.first() {
            let names: Vec<&String> = first.keys().collect();
            assert_eq!(names, columns.iter().collect::<Vec<_>>(), "{tag} {id}: columns");
        }
        spark.sort_by_cached_key(|r| key(r, &columns));
        duck_rows.sort_by_cached_key(|r| key(r, &columns));
        for (i, (a, b)) in spark.iter().zip(&duck_rows).enumerate() {
            for c in &columns {
                assert!(
                    same(&a[c], &b[c]),
                    "{tag} {id} row {i} column {c}: Spark {} DuckDB {}\n{a:?}\n{b:?}",
                    a[c],
                    b[c]
                );
            }
        }
        compared.push(id.to_string());
    }
    for id in REQUIRED {
        assert!(compared.iter().any(|c| c == id), "{tag}: {id} was not run on Spark (skipped: {skipped:?})");
    }
    compared
}

#[test]
fn every_translated_query_gives_duckdbs_rows_on_spark() {
    java_present();
    let s = Scudo::new();
    // The demo, and a generated shop with two currencies' worth of history and scores.
    s.ok(&["demo", "demo", "-q"]);
    let demo = s.path().join("demo");
    s.ok(&["-w", demo.to_str().unwrap(), "score", "--as-of", "2024-10-01", "-q"]);
    let demo = prepare(&s, &demo, "2024-10-01", "demo");

    s.ok(&["generate", "--customers", "2000", "--seed", "19", "--out", "gen", "-q"]);
    s.ok(&["init", "shop", "-q"]);
    let shop = s.path().join("shop");
    s.ran(&["-w", shop.to_str().unwrap(), "ingest", "-q", s.path().join("gen").to_str().unwrap()]);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path().join("gen/truth.json")).unwrap()).unwrap();
    let end = truth["end"].as_str().map(str::to_string).unwrap_or_else(|| "2024-12-31".into());
    let scored = s.ok(&["-w", shop.to_str().unwrap(), "score", "--as-of", &end, "--format", "json"]).json();
    let shop = prepare(&s, &shop, &end, "generated");
    // One Spark session for both shops (starting one takes most of a minute).
    run_job(&[&demo, &shop]);
    let on_demo = compare(&s, &demo);
    let on_shop = compare(&s, &shop);
    assert_eq!(on_demo, on_shop, "the same queries run on both shops");
    model_path_at_scale(&s, &shop, &scored);
}

/// Relative difference within `tolerance`.
fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * a.abs().max(b.abs())
}

/// The model path at scale on the generated shop: `scudo models fit --from-parquet` on the job's
/// grouped statistics gives the workspace's parameters, and `scudo score --from-parquet` the
/// workspace's stored scores, customer by customer.
fn model_path_at_scale(s: &Scudo, p: &Prepared, scored: &serde_json::Value) {
    let (w, results) = (p.ws.to_str().unwrap(), p.results.to_str().unwrap());
    let groups = spark_rows(&p.results.join("models.grouped"));
    let counted: i64 = groups.iter().map(|g| g["customers"].as_i64().unwrap()).sum();
    assert_eq!(counted, scored["buyers_scored"].as_i64().unwrap(), "every buyer is in one group");
    assert!(groups.len() < counted as usize, "customers sharing (x, t_x, T) share a group");

    // The fits: from the grouped Parquet statistics, against `scudo models fit` on the workspace.
    let from_parquet = s.ok(&["models", "fit", "--from-parquet", results, "--format", "json"]).json();
    assert_eq!(from_parquet["until"], p.as_of.as_str());
    assert_eq!(from_parquet["groups"].as_u64().unwrap(), groups.len() as u64);
    let on_workspace = s.ok(&["-w", w, "models", "fit", "--until", &p.as_of, "--format", "json"]).json();
    for (model, params) in [
        ("bgnbd", &["r", "alpha", "a", "b"][..]),
        ("pareto-nbd", &["r", "alpha", "s", "beta"]),
        ("gamma-gamma", &["p", "q", "gamma"]),
    ] {
        for k in params.iter().chain(&["log_likelihood"]) {
            let (a, b) = (
                from_parquet["models"][model][k].as_f64().unwrap(),
                on_workspace["models"][model][k].as_f64().unwrap(),
            );
            assert!(close(a, b, 1e-6), "{model} {k}: from Parquet {a}, on the workspace {b}");
        }
        assert_eq!(from_parquet["models"][model]["customers"], on_workspace["models"][model]["customers"], "{model}");
    }

    // The scores: streamed from the job's statistics, against what `scudo score` stored.
    let out = s.path().join("scores-from-parquet");
    let r = s.ok(&["score", "--from-parquet", results, "--out", out.to_str().unwrap(), "--format", "json"]).json();
    for (model, k) in [
        ("bgnbd", "r"),
        ("bgnbd", "alpha"),
        ("bgnbd", "a"),
        ("bgnbd", "b"),
        ("gamma_gamma", "p"),
        ("gamma_gamma", "q"),
        ("gamma_gamma", "gamma"),
    ] {
        let (a, b) = (r["models"][model][k].as_f64().unwrap(), scored["models"][model][k].as_f64().unwrap());
        assert!(close(a, b, 1e-6), "{model} {k}: from Parquet {a}, scudo score {b}");
    }
    assert_eq!(r["models"]["fallback"], serde_json::Value::Null, "the models were fitted");
    let mine = spark_rows(&out.join("customer_scores"));
    assert_eq!(mine.len() as i64, scored["buyers_scored"].as_i64().unwrap());
    let stored: std::collections::HashMap<String, serde_json::Map<String, serde_json::Value>> =
        spark_rows(&p.export.join("customer_scores"))
            .into_iter()
            .filter(|r| !r["churn_method"].is_null())
            .map(|r| (r["customer_id"].as_str().unwrap().to_string(), r))
            .collect();
    assert_eq!(stored.len(), mine.len(), "the same buyers scored");
    let columns = [
        "churn_probability",
        "churn_band",
        "churn_method",
        "churn_reasons",
        "p_alive",
        "expected_purchases",
        "next_order_date",
        "clv",
        "clv_trend",
    ];
    let mut with_clv = 0;
    for row in &mine {
        let id = row["customer_id"].as_str().unwrap();
        let theirs = stored.get(id).unwrap_or_else(|| panic!("{id} was not scored by scudo score"));
        for c in columns {
            assert!(same(&row[c], &theirs[c]), "{id} {c}: from Parquet {}, stored {}", row[c], theirs[c]);
        }
        with_clv += usize::from(row["clv"].as_f64().is_some_and(|v| v > 0.0));
    }
    assert!(with_clv > mine.len() / 2, "CLV forecast for most buyers: {with_clv} of {}", mine.len());
}

#[test]
fn score_from_parquet_says_what_is_missing() {
    let s = Scudo::new();
    let empty = s.path().join("nothing");
    std::fs::create_dir_all(&empty).unwrap();
    let r = s.run(&["score", "--from-parquet", empty.to_str().unwrap(), "--out", "scores"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("results.json") && r.stderr.contains("job.py"), "{}", r.stderr);
    // A report whose statistics are not there: the folder is named.
    std::fs::write(
        empty.join("results.json"),
        r#"{"queries": [{"id": "models.summary", "params": {"until": "2024-10-01", "unit_days": "7"}, "rows": 1}]}"#,
    )
    .unwrap();
    let r = s.run(&["models", "fit", "--from-parquet", empty.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("models.grouped"), "{}", r.stderr);
    // --out is required, and the workspace's own date cannot be mixed in.
    let r = s.run(&["score", "--from-parquet", empty.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--out"), "{}", r.stderr);
}

#[test]
fn export_parquet_writes_every_row_partitions_orders_by_month_and_guards_the_folder() {
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let w = s.path().join("demo");
    let w = w.to_str().unwrap();
    let out = s.path().join("export");
    let r = s.ok(&["-w", w, "export", "parquet", out.to_str().unwrap()]);
    assert!(r.stderr.contains("manifest.json"), "{}", r.stderr);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["settings"]["currency"], "USD");
    assert_eq!(manifest["settings"]["health"]["lost_days"], 180);
    let tables = manifest["tables"].as_array().unwrap();
    let orders = tables.iter().find(|t| t["name"] == "orders").unwrap();
    assert_eq!(orders["rows"], 57, "the demo's 57 orders");
    assert!(orders["columns"].as_array().unwrap().iter().any(|c| c["name"] == "local_at" && c["type"] == "TIMESTAMP"));
    // Hive-style months, and every row in the files, counted independently of the manifest.
    let mut rows = 0;
    for month in std::fs::read_dir(out.join("orders")).unwrap() {
        let month = month.unwrap().path();
        let name = month.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.starts_with("month=20") && name.len() == "month=2024-09".len(), "{name}");
        let got = spark_rows(&month);
        // Each file holds only its month's orders.
        for r in &got {
            assert!(r["local_at"].as_str().unwrap().starts_with(&name[6..]), "{name}: {r:?}");
        }
        rows += got.len();
    }
    assert_eq!(rows, 57);
    let customers = spark_rows(&out.join("customers"));
    assert_eq!(customers.len(), 10);
    // Money keeps its cents.
    let summary = spark_rows(&out.join("customer_summary"));
    let revenue: f64 = summary.iter().map(|r| r["revenue"].as_f64().unwrap_or(0.0)).sum();
    assert!((revenue - 28050.0).abs() < 0.005, "{revenue}");
    // Secrets and messages are not exported, and the manifest says why.
    assert!(!out.join("api_tokens").exists() && !out.join("outbox").exists());
    assert!(manifest["left_out"].as_array().unwrap().iter().any(|t| t["table"] == "api_tokens"));

    // An export is replaced only with --force; a folder that is not an export never.
    let again = s.run(&["-w", w, "export", "parquet", out.to_str().unwrap()]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    s.ok(&["-w", w, "export", "parquet", out.to_str().unwrap(), "--force", "-q"]);
    let other = s.path().join("mine");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    let refused = s.run(&["-w", w, "export", "parquet", other.to_str().unwrap(), "--force"]);
    assert_ne!(refused.code, 0);
    assert_eq!(std::fs::read_to_string(other.join("notes.txt")).unwrap(), "keep me");
}

#[test]
fn sql_prints_one_query_for_spark_with_its_macros_inlined_and_parameters_bound() {
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let w = s.path().join("demo");
    let w = w.to_str().unwrap();
    let r = s.ok(&["-w", w, "sql", "--dialect", "spark", "health.distribution", "--as-of", "2024-10-01"]);
    let sql = r.stdout;
    assert!(sql.starts_with("-- health.distribution:"), "{sql}");
    assert!(sql.contains("'2024-10-01'") && sql.contains("AS DATE)"), "{sql}");
    assert!(!sql.contains('$') && !sql.to_lowercase().contains("customer_stages("), "{sql}");
    assert!(sql.contains("FROM customer_summary"), "the tables by their own names:\n{sql}");
    let r = s.ok(&[
        "-w",
        w,
        "sql",
        "--dialect",
        "spark",
        "models.summary",
        "--param",
        "until=2024-06-30",
        "--param",
        "unit_days=7",
    ]);
    assert!(r.stdout.contains("min_by(") && r.stdout.contains("CAST(7.0 AS DOUBLE)"), "{}", r.stdout);

    let missing = s.run(&["-w", w, "sql", "--dialect", "spark", "customers.orders"]);
    assert_ne!(missing.code, 0);
    assert!(missing.stderr.contains("--param customer_id"), "{}", missing.stderr);
    let fuzzy = s.run(&["-w", w, "sql", "--dialect", "spark", "customers.search_more", "--param", "q=lisa"]);
    assert_ne!(fuzzy.code, 0);
    assert!(fuzzy.stderr.contains("Jaro-Winkler"), "{}", fuzzy.stderr);
    let macro_file = s.run(&["-w", w, "sql", "--dialect", "spark", "health.stages"]);
    assert!(macro_file.stderr.contains("inlined"), "{}", macro_file.stderr);
}
