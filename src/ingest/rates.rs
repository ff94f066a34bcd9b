//! Exchange-rate files: the European Central Bank's historical reference rates (`Date,USD,JPY,…`,
//! one row per business day, `1 EUR = x CUR`, `N/A` where there is none), and a plain
//! `date,currency,rate[,base]` CSV meaning `1 currency = rate base`.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;

use super::record::Reject;
use super::table::{Delimiter, Row, Table, TableOptions, TextEncoding};
use crate::error::user;

/// One rate: 1 `currency` = `rate` `base` on `day`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub day: NaiveDate,
    pub currency: String,
    pub base: String,
    pub rate: f64,
}

/// Which layout a rates file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatesFormat {
    Ecb,
    Plain,
}

impl RatesFormat {
    pub fn name(self) -> &'static str {
        match self {
            RatesFormat::Ecb => "ecb",
            RatesFormat::Plain => "plain",
        }
    }
}

/// What a rates file held.
#[derive(Debug, Clone)]
pub struct RatesFile {
    pub format: RatesFormat,
    pub rates: Vec<Rate>,
    pub rejects: Vec<Reject>,
}

fn is_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn parse_day(raw: &str) -> Option<NaiveDate> {
    let t = raw.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

/// A positive, finite rate; `None` for the ECB's `N/A` and empty cells.
fn parse_rate(raw: &str) -> Result<Option<f64>, String> {
    let t = raw.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("n/a") || t == "-" {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
        _ => Err(format!("`{t}` is not a positive rate")),
    }
}

fn reject(row: &Row, column: &str, reason: impl Into<String>) -> Reject {
    Reject { line: row.line, column: Some(column.to_string()), reason: reason.into(), raw: row.to_csv() }
}

/// Reads a rates file. `default_base` is the base of a plain file without a `base` column.
pub fn read(path: &Path, default_base: &str) -> Result<RatesFile> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        return Err(user(format!(
            "{}: a ZIP archive; unzip it first (the ECB's eurofxref-hist.zip holds eurofxref-hist.csv, which is \
             what scudo reads)",
            path.display()
        )));
    }
    let mut table = Table::open(
        path,
        TableOptions { encoding: TextEncoding::Auto, delimiter: Delimiter::Detect, has_header: true },
    )?;
    let names: Vec<String> = table.header.names.iter().map(|n| n.trim().to_string()).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let (date, currency, rate) = (
        lower.iter().position(|n| n == "date"),
        lower.iter().position(|n| n == "currency"),
        lower.iter().position(|n| n == "rate"),
    );
    let mut out = RatesFile { format: RatesFormat::Plain, rates: Vec::new(), rejects: Vec::new() };
    match (date, currency, rate) {
        (Some(d), Some(c), Some(r)) => {
            let base_col = lower.iter().position(|n| n == "base");
            while let Some(row) = table.next_full_row()? {
                let Some(day) = parse_day(row.get(Some(d))) else {
                    out.rejects.push(reject(&row, &names[d], "not a date (YYYY-MM-DD)"));
                    continue;
                };
                let cur = row.get(Some(c)).trim().to_uppercase();
                if !is_code(&cur) {
                    out.rejects.push(reject(&row, &names[c], format!("`{cur}` is not a currency code")));
                    continue;
                }
                let base = base_col.map(|b| row.get(Some(b)).trim().to_uppercase()).filter(|b| !b.is_empty());
                let base = base.unwrap_or_else(|| default_base.to_string());
                if !is_code(&base) || base == cur {
                    out.rejects.push(reject(&row, "base", format!("`{base}` is not a base currency for {cur}")));
                    continue;
                }
                match parse_rate(row.get(Some(r))) {
                    Ok(Some(v)) => out.rates.push(Rate { day, currency: cur, base, rate: v }),
                    Ok(None) => out.rejects.push(reject(&row, &names[r], "no rate")),
                    Err(e) => out.rejects.push(reject(&row, &names[r], e)),
                }
            }
        }
        _ if lower.first().is_some_and(|n| n == "date")
            && names.iter().skip(1).filter(|n| !n.is_empty()).all(|n| is_code(n))
            && names.len() > 1 =>
        {
            out.format = RatesFormat::Ecb;
            while let Some(row) = table.next_full_row()? {
                let Some(day) = parse_day(row.get(Some(0))) else {
                    out.rejects.push(reject(&row, "Date", "not a date (YYYY-MM-DD)"));
                    continue;
                };
                for (i, code) in names.iter().enumerate().skip(1) {
                    if code.is_empty() {
                        continue;
                    }
                    match parse_rate(row.get(Some(i))) {
                        // 1 EUR = v CUR, stored as 1 CUR = 1/v EUR.
                        Ok(Some(v)) => {
                            out.rates.push(Rate { day, currency: code.clone(), base: "EUR".to_string(), rate: 1.0 / v })
                        }
                        Ok(None) => {}
                        Err(e) => out.rejects.push(reject(&row, code, e)),
                    }
                }
            }
        }
        _ => {
            return Err(user(format!(
                "{}: not an exchange-rate file scudo knows. It reads the ECB's historical reference rates \
                 (header `Date,USD,JPY,…`) or a CSV with the columns `date,currency,rate` (1 currency = rate \
                 base; an optional `base` column, else --base). The header here is: {}",
                path.display(),
                names.join(",")
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the file holds, reading it gives rates, rejects or an error: never a panic,
        /// and never a rate that is not positive and finite.
        #[test]
        fn random_rate_files_never_panic(
            header in prop_oneof![Just("Date,USD,GBP,".to_string()), Just("date,currency,rate,base".to_string()), "[ -~]{0,30}"],
            cells in proptest::collection::vec("[-0-9.eN/A a-zA-Z]{0,12}", 0..40),
        ) {
            let width = header.split(',').count().max(1);
            let mut text = format!("{header}\n");
            for row in cells.chunks(width) {
                let mut r: Vec<String> = row.iter().map(|c| c.replace(',', "")).collect();
                r.resize(width, String::new());
                text.push_str(&r.join(","));
                text.push('\n');
            }
            let f = file(&text);
            if let Ok(read) = read(f.path(), "USD") {
                for r in &read.rates {
                    prop_assert!(r.rate.is_finite() && r.rate > 0.0);
                    prop_assert!(r.currency.len() == 3 && r.base.len() == 3);
                }
            }
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn reads_the_ecb_layout() {
        let f = file("Date,USD,JPY,CYP,\n2024-06-07,1.0897,170.17,N/A,\n2024-06-06,1.0888,oops,N/A,\n");
        let r = read(f.path(), "USD").unwrap();
        assert_eq!(r.format, RatesFormat::Ecb);
        assert_eq!(r.rates.len(), 3);
        let usd = &r.rates[0];
        assert_eq!((usd.currency.as_str(), usd.base.as_str()), ("USD", "EUR"));
        assert!((usd.rate - 1.0 / 1.0897).abs() < 1e-12);
        assert_eq!(r.rejects.len(), 1);
        assert_eq!(r.rejects[0].column.as_deref(), Some("JPY"));
        assert_eq!(r.rejects[0].line, 3);
    }

    #[test]
    fn reads_the_plain_layout() {
        let f = file("date,currency,rate\n2024-06-07,gbp,1.27\n2024-13-01,GBP,1.2\n2024-06-08,GBP,-3\n");
        let r = read(f.path(), "USD").unwrap();
        assert_eq!(r.format, RatesFormat::Plain);
        assert_eq!(
            r.rates,
            vec![Rate {
                day: NaiveDate::from_ymd_opt(2024, 6, 7).unwrap(),
                currency: "GBP".into(),
                base: "USD".into(),
                rate: 1.27
            }]
        );
        assert_eq!(r.rejects.iter().map(|x| x.line).collect::<Vec<_>>(), vec![3, 4]);
        let bad = file("when,what\n1,2\n");
        let e = read(bad.path(), "USD").unwrap_err().to_string();
        assert!(e.contains("date,currency,rate"), "{e}");
    }
}
