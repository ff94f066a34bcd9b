//! `scudo check`: the results as a table, JSON (docs/json.md) or CSV, and the check list.

use crate::checks::{Outcome, Run, Spec, Status};
use crate::cli::Format;
use crate::store::{Cell, ResultSet};

/// Version of the `--format json` shape of `scudo check` (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Failing rows shown per check under the table.
const SHOWN_ROWS: usize = 5;

/// The run as `format`.
pub fn render(run: &Run, format: Format) -> String {
    match format {
        Format::Table => table(run),
        Format::Csv => super::csv::render(&results(run)),
        Format::Json => super::json::to_string(&json(run)),
    }
}

/// One row per check: name, status, failing rows, the threshold crossed (or the ones that
/// apply), time.
fn results(run: &Run) -> ResultSet {
    ResultSet {
        columns: ["check", "status", "failing", "threshold", "ms"].map(String::from).to_vec(),
        rows: run
            .outcomes
            .iter()
            .map(|o| {
                vec![
                    Cell::Text(o.spec.name.clone()),
                    Cell::Text(o.status.as_str().to_string()),
                    o.failing.map_or(Cell::Null, |n| Cell::Int(n.into())),
                    Cell::Text(o.crossed.clone().unwrap_or_else(|| thresholds(&o.spec))),
                    Cell::Int(o.duration.as_millis() as i128),
                ]
            })
            .collect(),
    }
}

/// `error_if > 0` for an error-level check, `warn_if > 0` for a warning-level one (both when
/// they differ).
pub fn thresholds(spec: &Spec) -> String {
    match spec.severity {
        crate::checks::Severity::Warn => format!("warn_if {}", spec.warn_if),
        crate::checks::Severity::Error if spec.warn_if == spec.error_if => format!("error_if {}", spec.error_if),
        crate::checks::Severity::Error => format!("warn_if {}, error_if {}", spec.warn_if, spec.error_if),
    }
}

fn table(run: &Run) -> String {
    let mut out = super::table::render(&results(run));
    for o in run.outcomes.iter().filter(|o| !matches!(o.status, Status::Pass | Status::Skipped)) {
        out.push('\n');
        out.push_str(&detail(o));
    }
    out
}

/// What a failing or broken check found, for people: why, and its first rows.
fn detail(o: &Outcome) -> String {
    let mut out = match (o.status, o.failing) {
        (Status::Broken, _) => format!("{} could not run: {}\n", o.spec.name, o.message.as_deref().unwrap_or("")),
        (_, Some(n)) => format!(
            "{} — {} ({}, {}):\n  {}\n",
            o.spec.name,
            super::count(n, "failing row", "failing rows"),
            o.status.as_str(),
            o.crossed.as_deref().unwrap_or(""),
            o.spec.description
        ),
        _ => String::new(),
    };
    if !o.rows.rows.is_empty() {
        let shown =
            ResultSet { columns: o.rows.columns.clone(), rows: o.rows.rows.iter().take(SHOWN_ROWS).cloned().collect() };
        for line in super::table::render(&shown).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        let n = o.failing.unwrap_or(0) as usize;
        if n > SHOWN_ROWS {
            out.push_str(&format!(
                "  … and {} more (`scudo check --store-failures` keeps them for `scudo check show {}`)\n",
                n - SHOWN_ROWS,
                o.spec.name
            ));
        }
    }
    out
}

fn json(run: &Run) -> serde_json::Value {
    let [passed, warned, failed, broken, skipped] = run.counts();
    serde_json::json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "run_id": run.run_id,
        "started_at": run.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        "as_of": run.as_of.to_string(),
        "status": run.status().as_str(),
        "exit_code": run.exit() as u8,
        "fail_on": run.fail_on.as_str(),
        "duration_ms": run.duration.as_millis() as u64,
        "summary": {"checks": run.outcomes.len(), "passed": passed, "warned": warned, "failed": failed,
                    "broken": broken, "skipped": skipped},
        "checks": run.outcomes.iter().map(outcome_json).collect::<Vec<_>>(),
    })
}

fn outcome_json(o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "name": o.spec.name,
        "status": o.status.as_str(),
        "severity": o.spec.severity.as_str(),
        "description": o.spec.description,
        "owner": o.spec.owner,
        "location": o.spec.location,
        "warn_if": o.spec.warn_if.to_string(),
        "error_if": o.spec.error_if.to_string(),
        "denominator": o.spec.denominator.as_ref().map(|t| serde_json::json!({"table": t, "rows": o.denominator})),
        "failing": o.failing,
        "crossed": o.crossed,
        "message": o.message,
        "duration_ms": o.duration.as_millis() as u64,
        "columns": o.rows.columns,
        "rows": super::json::rows(&o.rows),
    })
}

/// `scudo check list`.
pub fn list(specs: &[Spec], format: Format) -> String {
    let rs = ResultSet {
        columns: ["check", "severity", "thresholds", "owner", "enabled", "description", "origin", "problem"]
            .map(String::from)
            .to_vec(),
        rows: specs
            .iter()
            .map(|s| {
                let text = |v: Option<&str>| v.map_or(Cell::Null, |t| Cell::Text(t.to_string()));
                vec![
                    Cell::Text(s.name.clone()),
                    Cell::Text(s.severity.as_str().into()),
                    Cell::Text(thresholds(s)),
                    text(s.owner.as_deref()),
                    Cell::Bool(s.enabled),
                    Cell::Text(s.description.clone()),
                    Cell::Text(s.location.clone()),
                    text(s.problem.as_deref()),
                ]
            })
            .collect(),
    };
    match format {
        Format::Table => super::table::render(&rs),
        Format::Csv => super::csv::render(&rs),
        Format::Json => super::json::to_string(&serde_json::json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "checks": super::json::rows(&rs),
        })),
    }
}

/// A result set as `format` (check history, stored failing rows), with `what` naming it in JSON.
pub fn rows(rs: &ResultSet, format: Format, what: serde_json::Value) -> String {
    match format {
        Format::Table => super::table::render(rs),
        Format::Csv => super::csv::render(rs),
        Format::Json => {
            let mut doc = serde_json::json!({"schema_version": JSON_SCHEMA_VERSION});
            if let (Some(d), serde_json::Value::Object(w)) = (doc.as_object_mut(), what) {
                d.extend(w);
                d.insert("columns".into(), serde_json::json!(rs.columns));
                d.insert("rows".into(), super::json::rows(rs));
            }
            super::json::to_string(&doc)
        }
    }
}
