//! The summary of an import, per file.

use serde_json::json;

use super::{json as j, table};
use crate::store::load::ImportCounts;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Imported,
    /// The same bytes were imported before (import id).
    Unchanged(i64),
    /// Everything was checked and counted, then rolled back.
    DryRun,
    /// Not imported (the error); nothing of it was written.
    Failed(String),
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub file: String,
    pub kind: String,
    pub outcome: Outcome,
    pub counts: ImportCounts,
    pub rejects_path: Option<String>,
    pub seconds: f64,
}

impl FileReport {
    fn outcome_text(&self) -> String {
        match self.outcome {
            Outcome::Imported => "imported".to_string(),
            Outcome::Unchanged(id) => format!("unchanged (same as import #{id})"),
            Outcome::DryRun => "dry run (rolled back)".to_string(),
            Outcome::Failed(_) => "failed: not imported (see the error)".to_string(),
        }
    }
}

/// The summary table.
pub fn text(reports: &[FileReport]) -> String {
    // `suppressed` (rows of people erased on request) only when there are any.
    let suppressed = reports.iter().any(|r| r.counts.rows_suppressed > 0);
    // `subscriptions` only when a file had any.
    let subscriptions = reports.iter().any(|r| {
        let c = &r.counts;
        c.subscriptions_inserted + c.subscriptions_updated + c.subscriptions_unchanged > 0
    });
    let mut header = [
        "file",
        "kind",
        "rows",
        "customers +new/~upd/=same",
        "orders +new/~upd/=same",
        "rejected",
        "suppressed",
        "outcome",
    ]
    .map(String::from)
    .to_vec();
    let mut numeric = vec![false, false, true, false, false, false, true, false];
    if !suppressed {
        header.remove(6);
        numeric.remove(6);
    }
    if subscriptions {
        header.insert(5, "subscriptions +new/~upd/=same".to_string());
        numeric.insert(5, false);
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let c = &r.counts;
            vec![
                r.file.clone(),
                r.kind.clone(),
                c.rows_read.to_string(),
                if c.customers_merged > 0 {
                    format!(
                        "+{} ~{} ={} ({} merged)",
                        c.customers_inserted, c.customers_updated, c.customers_unchanged, c.customers_merged
                    )
                } else {
                    format!("+{} ~{} ={}", c.customers_inserted, c.customers_updated, c.customers_unchanged)
                },
                format!("+{} ~{} ={}", c.orders_inserted, c.orders_updated, c.orders_unchanged),
                match &r.rejects_path {
                    Some(p) if c.rows_rejected > 0 => format!("{} → {p}", c.rows_rejected),
                    _ => c.rows_rejected.to_string(),
                },
                c.rows_suppressed.to_string(),
                r.outcome_text(),
            ]
        })
        .zip(reports)
        .map(|(mut row, r): (Vec<String>, &FileReport)| {
            if !suppressed {
                row.remove(6);
            }
            if subscriptions {
                let c = &r.counts;
                row.insert(
                    5,
                    format!(
                        "+{} ~{} ={}",
                        c.subscriptions_inserted, c.subscriptions_updated, c.subscriptions_unchanged
                    ),
                );
            }
            row
        })
        .collect();
    table::render_text(&header, &rows, &numeric)
}

/// `{"schema_version": 1, "files": [...]}` (docs/json.md).
pub fn json(reports: &[FileReport]) -> String {
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let c = &r.counts;
            json!({
                "file": r.file,
                "kind": r.kind,
                "outcome": match r.outcome { Outcome::Imported => "imported", Outcome::Unchanged(_) => "unchanged", Outcome::DryRun => "dry_run", Outcome::Failed(_) => "failed" },
                "error": match &r.outcome { Outcome::Failed(e) => Some(e.as_str()), _ => None },
                "import_id": match r.outcome { Outcome::Unchanged(id) => Some(id), _ => c.import_id },
                "rows_read": c.rows_read,
                "customers": {"inserted": c.customers_inserted, "updated": c.customers_updated, "unchanged": c.customers_unchanged, "merged": c.customers_merged},
                "orders": {"inserted": c.orders_inserted, "updated": c.orders_updated, "unchanged": c.orders_unchanged},
                "products_upserted": c.products_upserted,
                "subscriptions": {"inserted": c.subscriptions_inserted, "updated": c.subscriptions_updated, "unchanged": c.subscriptions_unchanged},
                "rows_rejected": c.rows_rejected,
                "rows_suppressed": c.rows_suppressed,
                "rejects_file": r.rejects_path,
                "seconds": (r.seconds * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    j::to_string(&json!({"schema_version": 1, "files": files}))
}

/// One CSV row per file.
pub fn csv(reports: &[FileReport]) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "file",
        "kind",
        "outcome",
        "rows_read",
        "customers_inserted",
        "customers_updated",
        "customers_unchanged",
        "customers_merged",
        "orders_inserted",
        "orders_updated",
        "orders_unchanged",
        "rows_rejected",
        "rejects_file",
        "rows_suppressed",
        "subscriptions_inserted",
        "subscriptions_updated",
        "subscriptions_unchanged",
    ]);
    for r in reports {
        let c = &r.counts;
        let _ = w.write_record([
            crate::ingest::rejects::guard(&r.file),
            r.kind.clone(),
            r.outcome_text(),
            c.rows_read.to_string(),
            c.customers_inserted.to_string(),
            c.customers_updated.to_string(),
            c.customers_unchanged.to_string(),
            c.customers_merged.to_string(),
            c.orders_inserted.to_string(),
            c.orders_updated.to_string(),
            c.orders_unchanged.to_string(),
            c.rows_rejected.to_string(),
            r.rejects_path.clone().unwrap_or_default(),
            c.rows_suppressed.to_string(),
            c.subscriptions_inserted.to_string(),
            c.subscriptions_updated.to_string(),
            c.subscriptions_unchanged.to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
