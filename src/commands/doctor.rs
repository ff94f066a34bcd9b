//! `scudo doctor [--fix]`: what state the workspace is in, each problem with what to do, and
//! with `--fix` the repairs that are safe to make unasked (docs/operations.md).

use anyhow::Result;
use serde_json::json;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::config::Workspace;
use crate::error::Exit;
use crate::output;
use crate::output::ops::{Doctor, Problem};
use crate::store::Store;

/// Free bytes on the file system holding `path` (statvfs), if it can be read.
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable statvfs for the call.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| (s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

fn scalar(store: &Store, sql: &str) -> Result<crate::store::Cell> {
    let rs = store.query(sql, &[], "doctor")?;
    Ok(rs.rows.first().and_then(|r| r.first().cloned()).unwrap_or(crate::store::Cell::Null))
}

fn examine(ws: &Workspace, store: &Store) -> Result<Doctor> {
    let db = ws.database_path();
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let wal = std::fs::metadata(format!("{}.wal", db.display())).map(|m| m.len()).unwrap_or(0);
    let free = free_bytes(db.parent().unwrap_or(std::path::Path::new(".")));
    let hours = |sql: &str| -> Result<Option<f64>> {
        Ok(scalar(store, &format!("SELECT date_diff('second', ({sql}), now()::TIMESTAMP) / 3600.0"))?.as_f64())
    };
    let import_age = hours("SELECT max(finished_at) FROM import_log")?;
    let score_age = hours("SELECT max(created_at) FROM score_runs")?;
    let scored_since_import = scalar(
        store,
        "SELECT COALESCE((SELECT max(created_at) FROM score_runs) >= (SELECT max(finished_at) FROM import_log), false)",
    )?;
    let check = store.query(
        "SELECT status, CAST(started_at AS VARCHAR) FROM check_runs ORDER BY run_id DESC LIMIT 1",
        &[],
        "doctor",
    )?;
    let check_status = check.rows.first().map(|r| r[0].to_text());
    let failed_messages = scalar(store, "SELECT count(*) FROM outbox WHERE status = 'failed'")?.as_i64().unwrap_or(0);
    let mut rows = serde_json::Map::new();
    let counts = store.row_counts()?;
    for t in [
        "customers",
        "orders",
        "order_items",
        "customer_sources",
        "score_runs",
        "customer_scores",
        "check_runs",
        "outbox",
        "erased_identities",
    ] {
        if let Some((_, n)) = counts.iter().find(|(name, _)| name == t) {
            rows.insert(t.into(), (*n).into());
        }
    }
    let orphans = store.orphans()?;
    let retention = ws.settings.retention.rule();
    let (due_runs, due_rows) = store.retention_due(retention)?;

    let mut problems = Vec::new();
    let mut add = |severity: &str, what: String, todo: String| {
        problems.push(Problem { severity: severity.into(), what, todo });
    };
    if let Some(free) = free
        && free < size.saturating_mul(2).max(1 << 30)
    {
        add(
            "error",
            format!("{} free on the disk, the database is {}", output::ops::bytes(free), output::ops::bytes(size)),
            "an import or a backup needs about the database's size again: free space, or move the workspace".into(),
        );
    }
    match import_age {
        None => add("warn", "nothing imported yet".into(), "import your exports: `scudo ingest FILES`".into()),
        Some(h) if h > ws.settings.freshness.error_after_hours => add(
            "warn",
            format!("the last import is {:.0} days old", h / 24.0),
            "import fresh exports (`scudo ingest`); [freshness] in scudo.toml sets how old is too old".into(),
        ),
        _ => {}
    }
    if import_age.is_some() && !matches!(scored_since_import, crate::store::Cell::Bool(true)) {
        add(
            "warn",
            match score_age {
                None => "customers were never scored".into(),
                Some(_) => "customers were not scored since the last import".into(),
            },
            "run `scudo score` (churn, CLV and the alerts about rising risk read the latest run)".into(),
        );
    }
    match check_status.as_deref() {
        None if import_age.is_some() => add("warn", "the data checks never ran".into(), "run `scudo check`".into()),
        Some("error") | Some("broken") => add(
            "error",
            format!("the latest data check run ended `{}`", check_status.as_deref().unwrap_or_default()),
            "run `scudo check` and read the failures (`scudo check show NAME`)".into(),
        ),
        _ => {}
    }
    for (what, n, todo) in &orphans {
        add("warn", format!("{n} {what}"), (*todo).to_string());
    }
    if due_runs > 0 {
        add(
            "info",
            format!("{due_runs} scoring runs ({due_rows} scores) are beyond [retention]"),
            "`scudo doctor --fix` (or the next `scudo score`) thins them out".into(),
        );
    }
    if wal > 256 << 20 {
        add(
            "info",
            format!("the journal (.wal) is {}", output::ops::bytes(wal)),
            "`scudo doctor --fix` writes it into the database (a checkpoint)".into(),
        );
    }
    if failed_messages > 0 {
        add(
            "warn",
            format!("{failed_messages} messages in the outbox failed to send"),
            "the next `scudo digest` retries them; see [smtp] in scudo.toml".into(),
        );
    }
    let facts = json!({
        "workspace": ws.root.display().to_string(),
        "schema_version": store.schema_version()?,
        "schema_current": crate::store::SCHEMA_VERSION,
        "database_bytes": size,
        "journal_bytes": wal,
        "encrypted": store.is_encrypted(),
        "free_disk_bytes": free,
        "last_import_hours_ago": import_age.map(|h| (h * 10.0).round() / 10.0),
        "last_scoring_hours_ago": score_age.map(|h| (h * 10.0).round() / 10.0),
        "latest_check_status": check_status,
        "rows": rows,
        "orphans": orphans.iter().map(|(w, n, _)| json!({"what": w, "rows": n})).collect::<Vec<_>>(),
        "retention_due": {"runs": due_runs, "scores": due_rows},
    });
    Ok(Doctor { facts, problems, fixed: None, rebuilt: None })
}

pub fn run(args: &DoctorArgs, g: &GlobalArgs) -> Result<Exit> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let mut fixed = None;
    if args.fix {
        let mut store = Store::open_settled(&ws.database_path(), &ws.settings.reporting()?)?;
        let (runs, scores) = store.apply_retention(ws.settings.retention.rule())?;
        let orphans = store.fix_orphans()?;
        store.checkpoint()?;
        if runs + orphans > 0 {
            crate::store::access::audit(
                &ws.database_path(),
                &crate::store::access::cli_actor(),
                "doctor_fix",
                "",
                &format!("{runs} scoring runs ({scores} scores) thinned, {orphans} orphaned rows removed"),
            )?;
        }
        fixed = Some(
            json!({"score_runs_removed": runs, "scores_removed": scores, "orphans_removed": orphans, "checkpoint": true}),
        );
    }
    let mut rebuilt = None;
    if args.rebuild {
        let started = std::time::Instant::now();
        let mut store = Store::open_settled(&ws.database_path(), &ws.settings.reporting()?)?;
        store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
        store.rebuild_derived()?;
        rebuilt = Some(started.elapsed().as_secs_f64());
    }
    let store = Store::open_read_only(&ws.database_path(), &ws.settings.reporting()?)?;
    let mut report = examine(&ws, &store)?;
    report.fixed = fixed;
    report.rebuilt = rebuilt;
    output::emit(&output::ops::doctor(&report, args.output.format))?;
    Ok(if report.problems.iter().any(|p| p.severity != "info") { Exit::Condition } else { Exit::Ok })
}
