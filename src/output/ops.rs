//! `scudo backup`, `scudo restore` and `scudo doctor`: their summaries as tables, JSON or CSV.

use std::path::Path;

use serde_json::{Value, json};

use crate::cli::Format;
use crate::store::{Cell, ResultSet};

/// Version of these JSON shapes (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// A problem `scudo doctor` found, and what to do about it.
#[derive(Debug, Clone)]
pub struct Problem {
    /// error, warn or info
    pub severity: String,
    pub what: String,
    pub todo: String,
}

/// What `scudo doctor` saw (and fixed).
#[derive(Debug, Clone)]
pub struct Doctor {
    pub facts: Value,
    pub problems: Vec<Problem>,
    pub fixed: Option<Value>,
    /// Seconds `--rebuild` took to recompute every derived table.
    pub rebuilt: Option<f64>,
}

/// `1.4 GB`, `820 MB`, `12 KB`.
pub fn bytes(n: u64) -> String {
    let units = [("TB", 1u64 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    for (u, size) in units {
        if n >= size {
            return format!("{:.1} {u}", n as f64 / size as f64);
        }
    }
    format!("{n} B")
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn pairs(rows: Vec<(String, String)>) -> ResultSet {
    ResultSet {
        columns: vec!["item".into(), "value".into()],
        rows: rows.into_iter().map(|(k, v)| vec![text(k), text(v)]).collect(),
    }
}

fn tables_line(m: &Value) -> String {
    let t = &m["tables"];
    let n = |k: &str| t[k].as_u64().unwrap_or(0);
    format!("{} customers, {} orders, {} tables", n("customers"), n("orders"), t.as_object().map_or(0, |o| o.len()))
}

pub fn backup(manifest: &Value, dir: &Path, total: u64, seconds: f64, format: Format) -> String {
    match format {
        Format::Json => super::json::to_string(&json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "backup": dir.display().to_string(),
            "bytes": total,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "manifest": manifest,
        })),
        _ => {
            let rs = pairs(vec![
                ("backup".into(), dir.display().to_string()),
                ("contents".into(), tables_line(manifest)),
                ("files".into(), manifest["files"].as_array().map_or(0, Vec::len).to_string()),
                ("size".into(), bytes(total)),
                ("seconds".into(), format!("{seconds:.1}")),
            ]);
            if format == Format::Csv { super::csv::render(&rs) } else { super::table::render(&rs) }
        }
    }
}

pub fn restore(manifest: &Value, into: &Path, aside: Option<&Path>, seconds: f64, format: Format) -> String {
    match format {
        Format::Json => super::json::to_string(&json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "restored_into": into.display().to_string(),
            "backup_created_at": manifest["created_at"],
            "verified": true,
            "tables": manifest["tables"],
            "previous_database": aside.map(|p| p.display().to_string()),
            "seconds": (seconds * 1000.0).round() / 1000.0,
        })),
        _ => {
            let mut rows = vec![
                ("restored into".into(), into.display().to_string()),
                ("backup of".into(), manifest["created_at"].as_str().unwrap_or_default().to_string()),
                ("verified".into(), format!("every checksum and row count ({})", tables_line(manifest))),
                ("seconds".into(), format!("{seconds:.1}")),
            ];
            if let Some(p) = aside {
                rows.push(("previous database".into(), format!("kept as {}", p.display())));
            }
            let rs = pairs(rows);
            if format == Format::Csv { super::csv::render(&rs) } else { super::table::render(&rs) }
        }
    }
}

pub fn doctor(d: &Doctor, format: Format) -> String {
    let problems = ResultSet {
        columns: vec!["severity".into(), "problem".into(), "what to do".into()],
        rows: d.problems.iter().map(|p| vec![text(&p.severity), text(&p.what), text(&p.todo)]).collect(),
    };
    match format {
        Format::Json => super::json::to_string(&json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "facts": d.facts,
            "problems": d.problems.iter().map(|p| json!({"severity": p.severity, "problem": p.what, "todo": p.todo})).collect::<Vec<_>>(),
            "fixed": d.fixed,
            "rebuilt_seconds": d.rebuilt,
        })),
        Format::Csv => super::csv::render(&problems),
        Format::Table => {
            let f = &d.facts;
            let age = |v: &Value| match v.as_f64() {
                None => "never".to_string(),
                Some(h) if h < 48.0 => format!("{h:.1} hours ago"),
                Some(h) => format!("{:.0} days ago", h / 24.0),
            };
            let mut rows = vec![
                ("workspace".to_string(), f["workspace"].as_str().unwrap_or_default().to_string()),
                (
                    "schema version".into(),
                    format!("{} (this scudo writes {})", f["schema_version"], f["schema_current"]),
                ),
                (
                    "database".into(),
                    format!(
                        "{} (+ {} journal)",
                        bytes(f["database_bytes"].as_u64().unwrap_or(0)),
                        bytes(f["journal_bytes"].as_u64().unwrap_or(0))
                    ),
                ),
                (
                    "encryption".into(),
                    if f["encrypted"] == true {
                        "on (AES-GCM, key from SCUDO_ENCRYPTION_KEY)".into()
                    } else {
                        "off (`scudo init --encrypt` for a new workspace)".into()
                    },
                ),
                ("free disk".into(), f["free_disk_bytes"].as_u64().map_or("unknown".into(), bytes)),
                ("last import".into(), age(&f["last_import_hours_ago"])),
                ("last scoring".into(), age(&f["last_scoring_hours_ago"])),
                ("latest checks".into(), f["latest_check_status"].as_str().unwrap_or("never run").to_string()),
            ];
            if let Some(o) = f["rows"].as_object() {
                for (k, v) in o {
                    rows.push((format!("rows: {k}"), super::group_thousands(v.as_u64().unwrap_or(0))));
                }
            }
            let mut out = super::table::render(&pairs(rows));
            if let Some(fx) = &d.fixed {
                out.push_str(&format!(
                    "\nfixed: {} scoring runs ({} scores) thinned by [retention], {} orphaned rows removed, checkpointed\n",
                    fx["score_runs_removed"], fx["scores_removed"], fx["orphans_removed"]
                ));
            }
            if let Some(secs) = d.rebuilt {
                out.push_str(&format!(
                    "\nrebuilt: local times, values, tag segments, the search index and the summaries, from customers and orders ({secs:.1} s)\n"
                ));
            }
            if d.problems.is_empty() {
                out.push_str("\nno problems found\n");
            } else {
                out.push('\n');
                out.push_str(&super::table::render(&problems));
            }
            out
        }
    }
}
