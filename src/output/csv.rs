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

/// How a long table names the item of each row of a section.
pub enum Item<'a> {
    /// The value of this column (which is then not repeated as a field); blank without it.
    Column(&'a str),
    /// The value of this column, or the row's rank when the results have no such column.
    ColumnOrRank(&'a str),
    /// The row's rank in its section, from 1.
    Rank,
    /// Nothing: the section has one row.
    Blank,
}

/// Sections of results as one long table `section,item,<field>,value`: a row per cell, so that
/// sections with different columns fit one CSV.
pub fn long(field: &str, sections: &[(&str, &ResultSet, Item)]) -> String {
    let mut long =
        ResultSet { columns: vec!["section".into(), "item".into(), field.into(), "value".into()], rows: Vec::new() };
    for (section, rs, item) in sections {
        let key = match item {
            Item::Column(c) | Item::ColumnOrRank(c) => rs.col(c),
            Item::Rank | Item::Blank => None,
        };
        for (n, r) in rs.rows.iter().enumerate() {
            let name = match (item, key) {
                (_, Some(i)) => r[i].to_text(),
                (Item::Rank | Item::ColumnOrRank(_), None) => (n + 1).to_string(),
                _ => String::new(),
            };
            for (i, (c, cell)) in rs.columns.iter().zip(r).enumerate() {
                if Some(i) != key {
                    long.rows.push(vec![
                        Cell::Text((*section).into()),
                        Cell::Text(name.clone()),
                        Cell::Text(c.clone()),
                        cell.clone(),
                    ]);
                }
            }
        }
    }
    render(&long)
}
