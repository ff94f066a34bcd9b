//! Stage 6: rendering results. Human tables, JSON with a documented shape and CSV come from
//! separate renderers; only this module writes to stdout.

pub mod analytics;
pub mod automations;
pub mod checks;
pub mod csv;
pub mod customer;
pub mod dashboard;
pub mod export;
pub mod ingest;
pub mod insights;
pub mod json;
pub mod junit;
pub mod mrr;
pub mod ops;
pub mod parquet;
pub mod privacy;
pub mod rates;
pub mod scores;
pub mod table;

use std::io::{self, Write};

/// Writes `text` to stdout (a closed pipe surfaces as `BrokenPipe`, which is success).
pub fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `28050.00` → `$28,050`; other currencies as `28,050 EUR`. Whole units for cards and tables.
pub fn money_short(value: f64, currency: &str) -> String {
    let rounded = value.round() as i64;
    let digits = group_thousands(rounded.unsigned_abs());
    let sign = if rounded < 0 { "-" } else { "" };
    match currency {
        "USD" => format!("{sign}${digits}"),
        "GBP" => format!("{sign}£{digits}"),
        "EUR" => format!("{sign}€{digits}"),
        c => format!("{sign}{digits} {c}"),
    }
}

/// `1 order`, `2 orders`: `n` and the word that goes with it.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        assert_eq!(money_short(28050.0, "USD"), "$28,050");
        assert_eq!(money_short(3133.33, "USD"), "$3,133");
        assert_eq!(money_short(-5.0, "EUR"), "-€5");
        assert_eq!(money_short(1234567.0, "INR"), "1,234,567 INR");
    }
}
