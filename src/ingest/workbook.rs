//! Excel workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods): one worksheet read as rows of text cells,
//! so a workbook goes through the same detection, mapping and rejects as a CSV file.

use std::path::Path;

use anyhow::Result;
use calamine::{Data, Reader};

use crate::error::user;

/// Extensions that are workbooks.
const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// True when `path` names a workbook (by its extension).
pub fn is_workbook(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The cells of worksheet `sheet` (default: the first), row by row with their line (row)
/// numbers; blank rows are left out.
pub fn read_sheet(path: &Path, sheet: Option<&str>) -> Result<Vec<(u64, Vec<String>)>> {
    let name = path.display();
    let mut book = calamine::open_workbook_auto(path).map_err(|e| {
        user(format!("{name}: cannot read it as an Excel workbook: {e}; save it again as .xlsx or as CSV"))
    })?;
    let names = book.sheet_names();
    let range = match sheet {
        Some(wanted) => {
            let Some(found) = names.iter().find(|n| n.eq_ignore_ascii_case(wanted)).cloned() else {
                return Err(user(format!(
                    "{name} has no worksheet `{wanted}`; its worksheets are: {}",
                    names.join(", ")
                )));
            };
            book.worksheet_range(&found)
        }
        None => match book.worksheet_range_at(0) {
            Some(r) => r,
            None => return Err(user(format!("{name} has no worksheets"))),
        },
    }
    .map_err(|e| user(format!("{name}: cannot read the worksheet: {e}")))?;
    let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
    let mut rows = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let texts: Vec<String> = cells.iter().map(text).collect();
        if texts.iter().all(|t| t.trim().is_empty()) {
            continue;
        }
        rows.push((first_row + i as u64 + 1, texts));
    }
    if rows.is_empty() {
        let which = sheet.map_or_else(|| names.first().cloned().unwrap_or_default(), str::to_string);
        return Err(user(format!(
            "{name}: worksheet `{which}` is empty: there is no header and no data{}",
            if names.len() > 1 { format!(" (pick another with --sheet: {})", names.join(", ")) } else { String::new() }
        )));
    }
    Ok(rows)
}

/// A cell as the text a CSV export of it would hold: whole numbers without `.0`, dates as
/// `YYYY-MM-DD` (with the time when there is one).
fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_datetime() => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
