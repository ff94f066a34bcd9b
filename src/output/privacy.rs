//! `scudo privacy`: the export document (JSON, and a ZIP of CSVs) and the erasure summary.

use std::io::Write;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::cli::Format;
use crate::store::ResultSet;
use crate::store::privacy::Erasure;

/// Version of the `scudo privacy` JSON shapes (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// One JSON document: every section's rows, the activity-log entries, and how many of each.
pub fn export_json(customer_id: &str, sections: &[(&str, ResultSet)], audit: &[Value]) -> String {
    let mut out = Map::new();
    let mut counts = Map::new();
    for (name, rs) in sections {
        counts.insert((*name).into(), rs.rows.len().into());
        out.insert((*name).into(), super::json::rows(rs));
    }
    counts.insert("audit".into(), audit.len().into());
    out.insert("audit".into(), Value::Array(audit.to_vec()));
    super::json::to_string(&json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "customer_id": customer_id,
        "exported_at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "counts": counts,
        "records": out,
    }))
}

/// A ZIP with `export.json` and one CSV per section (cells guarded against formulas).
pub fn export_zip(document: &str, sections: &[(&str, ResultSet)], audit: &[Value]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("export.json", opts)?;
    zip.write_all(document.as_bytes())?;
    for (name, rs) in sections {
        zip.start_file(format!("{name}.csv"), opts)?;
        zip.write_all(super::csv::render(rs).as_bytes())?;
    }
    let audit_rows = ResultSet {
        columns: ["at", "actor", "action", "target", "detail"].map(String::from).to_vec(),
        rows: audit
            .iter()
            .map(|e| {
                ["at", "actor", "action", "target", "detail"]
                    .iter()
                    .map(|k| crate::store::Cell::Text(e[*k].as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .collect(),
    };
    zip.start_file("audit.csv", opts)?;
    zip.write_all(super::csv::render(&audit_rows).as_bytes())?;
    Ok(zip.finish().context("cannot write the ZIP")?.into_inner())
}

/// A line per table with the rows erased (or that would be), in `format`.
pub fn erasure(e: &Erasure, done: bool, format: Format) -> String {
    let rs = ResultSet {
        columns: vec!["table".into(), if done { "rows_erased".into() } else { "rows_to_erase".into() }],
        rows: e
            .tables
            .iter()
            .map(|(t, n)| vec![crate::store::Cell::Text(t.clone()), crate::store::Cell::Int(i128::from(*n))])
            .collect(),
    };
    match format {
        Format::Table => super::table::render(&rs),
        Format::Csv => super::csv::render(&rs),
        Format::Json => super::json::to_string(&json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "customer_id": e.customer_id,
            "erased": done,
            "erasure_id": e.erasure_id,
            "rows": e.rows(),
            "tables": e.tables.iter().map(|(t, n)| (t.clone(), Value::from(*n))).collect::<Map<_, _>>(),
            "suppressed_identifiers": e.suppressed_identifiers,
        })),
    }
}
