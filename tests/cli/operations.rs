//! `scudo backup`, `restore`, `doctor` and score-history retention (issue 16), on real workspaces.

use std::path::Path;

use crate::harness::{Scudo, demo, scalar_i64};

fn out(s: &Scudo, ws: &Path, args: &[&str]) -> String {
    let r = s.run_in(ws, args);
    assert!(r.code == 0 || r.code == 1, "scudo {args:?}: {}", r.stderr);
    r.stdout
}

/// The check run's results without their timings.
fn checks(s: &Scudo, ws: &Path) -> Vec<(String, String, String)> {
    let r = s.run_in(ws, &["check", "--format", "json"]);
    let doc = r.json();
    doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| (c["name"].to_string(), c["status"].to_string(), c["failing"].to_string()))
        .collect()
}

#[test]
fn backup_and_restore_round_trip_to_the_same_dashboard_and_checks() {
    let (s, ws) = demo();
    s.run_in(&ws, &["score"]);
    s.run_in(&ws, &["customer", "Lisa Thompson", "note", "prefers email"]);
    let checks_before = checks(&s, &ws);
    let before = out(&s, &ws, &["dashboard", "--format", "json"]);
    let backup = s.path().join("backups/monday");
    let r = s.run_in(&ws, &["backup", backup.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "scudo-backup");
    assert_eq!(manifest["tables"]["customers"], 10);
    assert_eq!(manifest["tables"]["orders"], 57);
    assert_eq!(manifest["tables"]["customer_notes"], 1);
    assert!(manifest["files"].as_array().unwrap().iter().any(|f| f["path"] == "scudo.toml"));

    let into = s.path().join("restored");
    let r = s.run(&["restore", backup.to_str().unwrap(), "--into", into.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["verified"], true);
    // The same dashboard, but for the age of the check run, which moves with the clock.
    let timeless = |text: &str| {
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        v["checks"]["hours_ago"] = serde_json::Value::Null;
        v
    };
    assert_eq!(
        timeless(&out(&s, &into, &["dashboard", "--format", "json"])),
        timeless(&before),
        "the dashboard is the same"
    );
    assert_eq!(
        out(&s, &into, &["check", "history", "--format", "json"]),
        out(&s, &ws, &["check", "history", "--format", "json"]),
        "the check history came along"
    );
    assert_eq!(checks(&s, &into), checks_before, "the checks find the same");
    let db = Scudo::db(&into);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customer_notes"), 1);
    // Sequences carry on where they were: the next import gets a new id, not a used one.
    let used = scalar_i64(&db, "SELECT max(import_id) FROM import_log");
    drop(db);
    let extra = s.path().join("one.csv");
    std::fs::write(
        &extra,
        "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address Address1,\
         Default Address Address2,Default Address City,Default Address Province Code,Default Address Country Code,\
         Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,\
         Tags,Accepts WhatsApp Marketing\n\
         '7405010000998,Nora,Blake,nora.blake@example.com,no,,,,Portland,OR,US,,,,no,0.00,0,,no,,no\n",
    )
    .unwrap();
    let r = s.run_in(&into, &["ingest", extra.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let db = Scudo::db(&into);
    assert!(scalar_i64(&db, "SELECT max(import_id) FROM import_log") > used);
}

#[test]
fn restore_refuses_foreign_or_damaged_folders_and_changes_nothing() {
    let (s, ws) = demo();
    let backup = s.path().join("b");
    s.ok(&["-w", ws.to_str().unwrap(), "backup", backup.to_str().unwrap()]);
    // A backup never overwrites.
    let r = s.run(&["-w", ws.to_str().unwrap(), "backup", backup.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("never overwrites"), "{}", r.stderr);

    let foreign = s.path().join("holiday-photos");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("a.jpg"), b"not a backup").unwrap();
    let into = s.path().join("new");
    let r = s.run(&["restore", foreign.to_str().unwrap(), "--into", into.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a scudo backup"), "{}", r.stderr);
    assert!(!into.exists(), "nothing created");

    // One byte of the database changed: the checksum says so.
    let damaged = s.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    for f in ["manifest.json", "scudo.duckdb", "scudo.toml"] {
        std::fs::copy(backup.join(f), damaged.join(f)).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("scudo.duckdb")).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0xff;
    std::fs::write(damaged.join("scudo.duckdb"), &bytes).unwrap();
    let r = s.run(&["restore", damaged.to_str().unwrap(), "--into", into.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("damaged") && r.stderr.contains("scudo.duckdb"), "{}", r.stderr);
    assert!(!into.exists());

    // A manifest whose row counts do not match the database.
    let lying = s.path().join("lying");
    std::fs::create_dir_all(&lying).unwrap();
    for f in ["scudo.duckdb", "scudo.toml"] {
        std::fs::copy(backup.join(f), lying.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(backup.join("manifest.json")).unwrap();
    std::fs::write(lying.join("manifest.json"), text.replace("\"customers\": 10", "\"customers\": 11")).unwrap();
    let r = s.run(&["restore", lying.to_str().unwrap(), "--into", into.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("table customers has 10 rows, the manifest says 11"), "{}", r.stderr);

    // Over an existing workspace only with --force, which keeps the old database beside.
    let r = s.run_in(&ws, &["restore", backup.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    s.ok(&["-w", ws.to_str().unwrap(), "restore", backup.to_str().unwrap(), "--force"]);
    let kept = std::fs::read_dir(&ws)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("scudo.duckdb.before-restore-"));
    assert!(kept, "the replaced database is kept");
}

#[test]
fn doctor_reports_problems_with_what_to_do_and_fix_thins_score_history() {
    let (s, ws) = demo();
    let r = s.run_in(&ws, &["doctor", "--format", "json"]);
    assert_eq!(r.code, 1, "problems found: {}", r.stdout);
    let d = r.json();
    assert_eq!(d["facts"]["rows"]["customers"], 10);
    assert!(d["facts"]["free_disk_bytes"].as_u64().unwrap() > 0);
    let problems = d["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["todo"].as_str().unwrap().contains("scudo score")), "{problems:?}");

    // Twelve daily runs across a year: with daily 7 days / weekly 60 days, older ones thin out.
    let settings = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    std::fs::write(
        ws.join("scudo.toml"),
        settings
            .replace("score_daily_days = 35", "score_daily_days = 7")
            .replace("score_weekly_days = 400", "score_weekly_days = 60"),
    )
    .unwrap();
    let text = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    assert!(text.contains("score_daily_days = 7"), "settings written");
    for day in [
        "2024-01-10",
        "2024-01-11",
        "2024-03-01",
        "2024-03-02",
        "2024-08-01",
        "2024-08-03",
        "2024-09-28",
        "2024-09-29",
        "2024-09-30",
    ] {
        s.ok(&["-w", ws.to_str().unwrap(), "-q", "score", "--as-of", day]);
    }
    let db = Scudo::db(&ws);
    // Kept: 09-30, 09-29, 09-28 (daily); 08-03 (its week, 08-01 shares it); March and January one each (monthly).
    let kept: Vec<String> = {
        let mut st = db.prepare("SELECT CAST(as_of AS VARCHAR) FROM score_runs ORDER BY as_of").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    assert_eq!(kept, ["2024-01-11", "2024-03-02", "2024-08-03", "2024-09-28", "2024-09-29", "2024-09-30"]);
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM customer_scores WHERE run_id NOT IN (SELECT run_id FROM score_runs)"),
        0
    );
    drop(db);
    let r = s.run_in(&ws, &["doctor", "--fix", "--format", "json"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_eq!(r.json()["fixed"]["score_runs_removed"], 0, "score already applied the rule");
}

#[test]
fn a_newer_customers_export_without_a_tag_removes_it_from_the_segment() {
    let (s, ws) = demo();
    let members = |s: &Scudo| -> u64 {
        let r = s.run_in(&ws, &["segments", "show", "HOME_DECOR", "--format", "json"]);
        r.json()["rows"].as_array().map_or(0, |a| a.len() as u64)
    };
    assert_eq!(members(&s), 2, "Mike Johnson and one other customer carry HOME_DECOR");
    let demo_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/shopify_customers.csv");
    let text = std::fs::read_to_string(&demo_file).unwrap();
    let newer: String = text
        .lines()
        .map(|l| if l.starts_with("'7405010000107,") { l.replace(", HOME_DECOR", "") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(newer.trim(), text.trim(), "the fixture row changed");
    let file = s.path().join("customers_export_newer.csv");
    std::fs::write(&file, newer + "\n").unwrap();
    s.ok(&["-w", ws.to_str().unwrap(), "ingest", file.to_str().unwrap()]);
    assert_eq!(members(&s), 1, "the tag left Mike Johnson, and the segment");
    let db = Scudo::db(&ws);
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM customers WHERE customer_id = 'cust-000007' AND list_contains(tags, 'HOME_DECOR')"
        ),
        0
    );
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM customers WHERE customer_id = 'cust-000007' AND list_contains(tags, 'LOYAL_REGULAR')"
        ),
        1,
        "the tags still listed stay"
    );
}

#[test]
fn hubspot_times_are_read_in_the_portal_time_zone() {
    let (s, ws) = Scudo::workspace();
    let file = crate::harness::fixture("hubspot_contacts.csv");
    // Default: naive times are UTC.
    s.ran(&["-w", ws.to_str().unwrap(), "ingest", file.to_str().unwrap()]);
    let created = |ws: &Path| {
        crate::harness::scalar_text(
            &Scudo::db(ws),
            "SELECT CAST(created_at AS VARCHAR) FROM customers WHERE email = 'ana.lima@example.com'",
        )
    };
    assert_eq!(created(&ws), "2023-05-01 09:30:00");
    // A portal in New York: 09:30 on 1 May (EDT, UTC−4) is 13:30 UTC.
    let (s2, ws2) = Scudo::workspace();
    let settings = std::fs::read_to_string(ws2.join("scudo.toml")).unwrap();
    assert!(settings.contains("[sources]\n"), "the template documents [sources]");
    std::fs::write(ws2.join("scudo.toml"), settings.replacen("timezone = \"\"", "timezone = \"America/New_York\"", 1))
        .unwrap();
    s2.ran(&["-w", ws2.to_str().unwrap(), "ingest", file.to_str().unwrap()]);
    assert_eq!(created(&ws2), "2023-05-01 13:30:00");
    // A zone that does not exist is refused with the setting's name.
    std::fs::write(ws2.join("scudo.toml"), settings.replacen("timezone = \"\"", "timezone = \"Mars/Olympus\"", 1))
        .unwrap();
    let r = s2.run(&["-w", ws2.to_str().unwrap(), "ingest", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("[sources] timezone"), "{}", r.stderr);
}
