//! Aligned plain-text tables for people.

use crate::store::{Cell, ResultSet};

/// Renders `rs` as an aligned table with a header rule; numbers align right.
pub fn render(rs: &ResultSet) -> String {
    let header: Vec<String> = rs.columns.clone();
    let body: Vec<Vec<String>> = rs.rows.iter().map(|r| r.iter().map(Cell::to_text).collect()).collect();
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| {
            rs.rows.iter().any(|r| r[i].is_numeric()) && rs.rows.iter().all(|r| r[i].is_numeric() || r[i] == Cell::Null)
        })
        .collect();
    render_text(&header, &body, &numeric)
}

/// Renders rows of text; `numeric[i]` right-aligns column `i`.
pub fn render_text(header: &[String], rows: &[Vec<String>], numeric: &[bool]) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(width(&clean(c)));
            }
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let mut parts = Vec::with_capacity(cells.len());
        for (i, c) in cells.iter().enumerate() {
            let c = clean(c);
            let pad = widths[i].saturating_sub(width(&c));
            if numeric.get(i).copied().unwrap_or(false) {
                parts.push(format!("{}{c}", " ".repeat(pad)));
            } else {
                parts.push(format!("{c}{}", " ".repeat(pad)));
            }
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header, &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    out.push_str(&rule.join("  "));
    out.push('\n');
    for r in rows {
        line(r, &mut out);
    }
    out
}

/// Newlines and control characters from data never reach the terminal.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
