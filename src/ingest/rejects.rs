//! The rejects file: every unusable row with its file, line, column and reason, so it can be
//! fixed and imported again.

use std::path::Path;

use anyhow::{Context, Result};

use super::record::Reject;

/// Writes the rejects of each file as CSV to `path` (creating its directory).
pub fn write(path: &Path, files: &[(String, Vec<Reject>)]) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["file", "line", "column", "reason", "row"])?;
    for (file, rejects) in files {
        for r in rejects {
            w.write_record([file, &r.line.to_string(), r.column.as_deref().unwrap_or(""), &r.reason, &guard(&r.raw)])?;
        }
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Spreadsheets execute cells starting with = + - @ (and tab/CR); prefix such cells with `'`.
pub fn guard(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}
