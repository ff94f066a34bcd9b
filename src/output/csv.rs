//! CSV for spreadsheets: a header row, exact values, and cells that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@`) prefixed with `'`.

use crate::ingest::rejects::guard;
use crate::store::{Cell, ResultSet};

/// `rs` as CSV text.
pub fn render(rs: &ResultSet) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(&rs.columns);
    for r in &rs.rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| match c {
                // Negative numbers are numbers, not formulas.
                Cell::Int(_) | Cell::Float(_) | Cell::Decimal { .. } => c.to_text(),
                _ => guard(&c.to_text()),
            })
            .collect();
        let _ = w.write_record(&cells);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
