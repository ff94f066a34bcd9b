//! Aligned plain-text tables for people, through comfy-table: it measures each cell's display
//! width (CJK and emoji take two columns, combining marks none) and, on a terminal, wraps the
//! widest columns to fit it. Piped output is never wrapped.

use comfy_table::{CellAlignment, ContentArrangement, ContentLineStyle, LineStyle, Table, TableStyle};

use crate::store::{Cell, ResultSet};

/// No borders: a rule under the header, a space between columns (plus the padding of the next).
const STYLE: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction(' '))
    .header_separator(LineStyle::none().fill('─').junction(' '))
    .content_lines(ContentLineStyle::none().junction(' '));

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
    let mut table = Table::new();
    table
        .load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| clean(h)));
    for r in rows {
        table.add_row(r.iter().take(header.len()).map(|c| clean(c)));
    }
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((u16::from(i > 0), 0));
        if numeric.get(i).copied().unwrap_or(false) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out: String = table.lines().map(|l| format!("{}\n", l.trim_end())).collect();
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// Newlines and control characters from data never reach the terminal.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_display_width() {
        let header = vec!["name".to_string(), "revenue".to_string()];
        let rows = vec![
            vec!["Lisa Thompson".to_string(), "1,950".to_string()],
            vec!["山田太郎".to_string(), "8,500".to_string()],
            vec!["José\u{301} 🎉".to_string(), "12".to_string()],
        ];
        let text = render_text(&header, &rows, &[false, true]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "name           revenue");
        assert!(lines[1].starts_with("─────────────"), "{text}");
        // Every revenue ends in the same display column: 山田太郎 is 8 columns wide, the
        // accent combines, the emoji takes two.
        let width = |s: &str| unicode_width(s);
        assert_eq!(width(lines[2]), width(lines[3]), "{text}");
        assert_eq!(width(lines[2]), width(lines[4]), "{text}");
        assert!(lines[3].ends_with(" 8,500") && lines[4].ends_with("    12"), "{text}");
    }

    /// Display width the way a terminal counts it, for the test only.
    fn unicode_width(s: &str) -> usize {
        s.chars()
            .map(|c| match c as u32 {
                0x300..=0x36f => 0,
                0x1100..=0x115f | 0x2e80..=0xa4cf | 0xac00..=0xd7a3 | 0xf900..=0xfaff | 0xff00..=0xff60 => 2,
                0x1f300..=0x1faff => 2,
                _ => 1,
            })
            .sum()
    }

    #[test]
    fn control_characters_are_blanked() {
        let text = render_text(&["a".to_string()], &[vec!["x\ny\x1b".to_string()]], &[false]);
        assert_eq!(text.lines().nth(2), Some("x y"));
    }
}
