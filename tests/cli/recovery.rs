//! Imports that never trap a user (issue 18): a file imported the wrong way can be imported again
//! the right way, a directory with an unusable file imports the rest and says so, and a second
//! command or a Ctrl-C gets the right advice.

use crate::harness::{Scudo, fixture, scalar_i64};

fn f(name: &str) -> String {
    fixture(name).display().to_string()
}

#[test]
fn a_file_whose_every_row_was_rejected_is_not_recorded_and_imports_the_right_way_later() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    // Read as the wrong kind: every row is rejected.
    let wrong = s.fails(&["-w", w, "ingest", &f("shopify_orders_quirks.csv"), "--source", "stripe-payments"], 2);
    assert!(wrong.stderr.contains("every row was rejected"), "{}", wrong.stderr);
    assert!(wrong.stderr.contains("line 2"), "names the first rejected line: {}", wrong.stderr);
    assert!(wrong.stderr.contains("--source"), "says what to do: {}", wrong.stderr);
    assert!(wrong.stdout.is_empty(), "no summary claims an import: {}", wrong.stdout);
    assert!(ws.join("rejects/shopify_orders_quirks.rejects.csv").exists(), "the rejected rows are kept to look at");
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 0, "nothing recorded as imported");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders"), 0);
    drop(db);

    // The right command imports it.
    let right = s.run(&["-w", w, "ingest", &f("shopify_orders_quirks.csv"), "--format", "json"]);
    assert_eq!(right.json()["files"][0]["outcome"], "imported", "{}", right.stderr);
    assert_eq!(right.json()["files"][0]["orders"]["inserted"], 5);
}

#[test]
fn other_settings_make_a_new_import_and_force_imports_again() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    let json = |args: &[&str]| {
        let mut full = vec!["-w", w, "ingest", "--format", "json"];
        full.extend_from_slice(args);
        s.run(&full).json()
    };
    let data = f("generic_eu.csv");
    let mapping = s.path().join("eu.toml");
    std::fs::copy(fixture("generic_eu.toml"), &mapping).unwrap();
    let m = mapping.to_str().unwrap();
    let first = json(&[&data, "--mapping", m]);
    assert_eq!(first["files"][0]["outcome"], "imported");
    assert_eq!(json(&[&data, "--mapping", m])["files"][0]["outcome"], "unchanged");

    // A corrected mapping is another way of reading the file: a new import, not "unchanged".
    let text = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(&mapping, format!("{text}\n# corrected\n")).unwrap();
    assert_eq!(json(&[&data, "--mapping", m])["files"][0]["outcome"], "imported");
    // Another encoding too.
    assert_eq!(json(&[&data, "--mapping", m, "--encoding", "utf8"])["files"][0]["outcome"], "imported");
    // --force imports the same file with the same settings again.
    assert_eq!(json(&[&data, "--mapping", m])["files"][0]["outcome"], "unchanged");
    let forced = json(&[&data, "--mapping", m, "--force"]);
    assert_eq!(forced["files"][0]["outcome"], "imported");
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 4);
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM (SELECT order_id FROM orders GROUP BY 1 HAVING count(*) > 1)"),
        0,
        "importing again never doubles an order"
    );
}

#[test]
fn a_directory_with_an_unusable_file_imports_every_usable_file_and_reports_each() {
    let (s, ws) = Scudo::workspace();
    let dir = s.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    // Sorted: a_payments.csv, b_notes.txt, c_orders.csv — the unusable file sits in the middle.
    std::fs::copy(fixture("stripe_payments.csv"), dir.join("a_payments.csv")).unwrap();
    std::fs::write(dir.join("b_notes.txt"), "remember to export the invoices too\n").unwrap();
    std::fs::copy(fixture("shopify_orders_quirks.csv"), dir.join("c_orders.csv")).unwrap();
    let w = ws.to_str().unwrap();
    let r = s.run(&["-w", w, "ingest", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 1, "some files imported, one not: exit 1\n{}", r.stderr);
    let files = r.json()["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 3, "every file is reported");
    assert_eq!(files[0]["outcome"], "imported");
    assert_eq!(files[1]["outcome"], "failed");
    assert!(files[1]["error"].as_str().unwrap().contains("cannot tell what export this is"), "{}", files[1]);
    assert_eq!(files[2]["outcome"], "imported", "the file after the unusable one is imported too");
    assert!(r.stderr.contains("b_notes.txt"), "{}", r.stderr);
    assert!(r.stderr.contains("1 of 3 files could not be imported"), "{}", r.stderr);
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 2);
    drop(db);

    // Fixed (the note moved away), the same command finishes the job: exit 0, nothing doubled.
    std::fs::remove_file(dir.join("b_notes.txt")).unwrap();
    let again = s.run(&["-w", w, "ingest", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.json()["files"].as_array().unwrap().iter().all(|f| f["outcome"] == "unchanged"));

    // Nothing usable at all: exit 2, and the message says nothing was changed.
    let bad = s.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("a.txt"), "just words\n").unwrap();
    std::fs::write(bad.join("b.txt"), "more words\n").unwrap();
    let none = s.fails(&["-w", w, "ingest", bad.to_str().unwrap()], 2);
    assert!(none.stderr.contains("2 of 2 files could not be imported"), "{}", none.stderr);
}

/// A workspace and a generated shop big enough that importing it takes a few seconds.
fn big_shop() -> (Scudo, std::path::PathBuf, std::path::PathBuf) {
    let (s, ws) = Scudo::workspace();
    let out = s.path().join("shop");
    s.ok(&["generate", "--customers", "10000", "--out", out.to_str().unwrap(), "-q"]);
    (s, ws, out.join("shopify_orders.csv"))
}

/// Runs `probe` until it stops succeeding while `child` runs; returns its last run.
fn while_running(
    child: &mut std::process::Child,
    probe: impl Fn() -> crate::harness::Run,
) -> Option<crate::harness::Run> {
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        let r = probe();
        if r.code != 0 {
            return Some(r);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

#[test]
fn a_busy_workspace_waits_then_names_the_scudo_holding_it() {
    let (s, ws, orders) = big_shop();
    let w = ws.to_str().unwrap();
    let mut writer = s.command_in(s.path(), &["-w", w, "ingest", orders.to_str().unwrap(), "-q"]).spawn().unwrap();
    let pid = writer.id();
    let refused = while_running(&mut writer, || s.run(&["-w", w, "--wait", "0", "kpis"]))
        .expect("the import held the workspace long enough to be seen");
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains(&format!("PID {pid}")), "names the process: {}", refused.stderr);
    assert!(refused.stderr.contains("another scudo"), "{}", refused.stderr);
    assert!(refused.stderr.contains("ingest"), "says what it is doing: {}", refused.stderr);
    assert!(refused.stderr.contains("--wait"), "says what to do: {}", refused.stderr);
    assert!(!refused.stderr.contains("-readonly") && !refused.stderr.contains("scudo serve"), "{}", refused.stderr);
    // With time to wait, the next command simply runs once the import is done.
    let waited = s.run(&["-w", w, "--wait", "300", "kpis", "--format", "json"]);
    let status = writer.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(waited.code, 0, "{}", waited.stderr);
    assert!(waited.json()["kpis"].is_object() || waited.json().is_object());
}

#[test]
fn ctrl_c_during_an_import_rolls_it_back_and_says_so() {
    let (s, ws, orders) = big_shop();
    let w = ws.to_str().unwrap();
    let mut child = s
        .command_in(s.path(), &["-w", w, "ingest", orders.to_str().unwrap(), "-q"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the import holds the database, then press Ctrl-C.
    while_running(&mut child, || s.run(&["-w", w, "--wait", "0", "kpis"])).expect("the import was caught under way");
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr
            .contains(&format!("interrupted: the import of {} was rolled back; nothing was changed", orders.display())),
        "{stderr}"
    );
    let db = Scudo::db(&ws);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM import_log"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders"), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM customers"), 0);
}

#[test]
fn a_workspace_you_cannot_write_says_so_and_keeps_its_data() {
    let (s, ws) = Scudo::workspace();
    let w = ws.to_str().unwrap();
    s.ran(&["-w", w, "ingest", &f("shopify_orders_quirks.csv"), "-q"]);
    let before = std::fs::read(ws.join("scudo.duckdb")).unwrap();
    let set_mode = |p: &std::path::Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // Another user's workspace: readable, not writable. (Root may write anything, so as root the
    // command runs as `nobody`.)
    set_mode(s.path(), 0o755);
    set_mode(&ws, 0o755);
    set_mode(&ws.join("scudo.duckdb"), 0o644);
    let is_root = std::process::Command::new("id").arg("-u").output().unwrap().stdout.starts_with(b"0\n");
    let args = ["-w", w, "ingest", &f("stripe_payments.csv")];
    let out = if is_root {
        let mut c = s.command_in(s.path(), &[]);
        let program = c.get_program().to_owned();
        c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(program).args(args).current_dir(s.path());
        c.env("NO_COLOR", "1").output().unwrap()
    } else {
        set_mode(&ws, 0o555);
        set_mode(&ws.join("scudo.duckdb"), 0o444);
        s.command_in(s.path(), &args).output().unwrap()
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not writable"), "{stderr}");
    assert!(!stderr.contains("damaged") && !stderr.contains("scudo init"), "no advice that would lose data: {stderr}");
    set_mode(&ws, 0o755);
    assert_eq!(std::fs::read(ws.join("scudo.duckdb")).unwrap(), before);
}

#[test]
fn environment_variables_are_checked_and_blamed_by_name() {
    let (s, ws) = Scudo::workspace();
    let run_with = |var: &str, value: &str| {
        let out = s.command_in(&ws, &["kpis"]).env(var, value).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run_with("SCUDO_HEALTH_ACTIVE_DAYS", "60");
    assert_eq!(code, Some(2));
    assert!(err.contains("SCUDO_HEALTH_ACTIVE_DAYS") && err.contains("SCUDO_HEALTH_AT_RISK_DAYS"), "{err}");
    let (code, err) = run_with("SCUDO_HEALTH_AT_RISK_DAYS", "soon");
    assert_eq!(code, Some(2));
    assert!(err.contains("SCUDO_HEALTH_AT_RISK_DAYS=soon"), "{err}");
    let (code, err) = run_with("SCUDO_HEALTH_AT_RISK_DAYS", "500");
    assert_eq!(code, Some(2));
    assert!(err.contains("SCUDO_HEALTH_AT_RISK_DAYS=500") && err.contains("at_risk_days"), "{err}");
    let (code, err) = run_with("SCUDO_WORKSPACE_MEMORY_LIMIT", "lots");
    assert_eq!(code, Some(2));
    assert!(err.contains("SCUDO_WORKSPACE_MEMORY_LIMIT=lots"), "{err}");

    // The example in scudo.toml's header is a real variable.
    let settings = std::fs::read_to_string(ws.join("scudo.toml")).unwrap();
    let example = settings.split("e.g. ").nth(1).and_then(|r| r.split(')').next()).unwrap();
    let (var, value) = example.split_once('=').unwrap();
    let (code, err) = run_with(var, value);
    assert_eq!(code, Some(0), "{example}: {err}");
}
