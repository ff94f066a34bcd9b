//! `scudo rates`: what an import of exchange rates did, and the rates known.

use serde_json::json;

use super::{csv, json as j, table};
use crate::cli::Format;
use crate::store::rates::{Coverage, RatesCounts};
use crate::store::{Cell, ResultSet};

/// The outcome of `scudo rates import`.
pub fn imported(file: &str, format_name: &str, c: &RatesCounts, rejected: usize, format: Format) -> String {
    match format {
        Format::Json => j::to_string(&json!({
            "file": file,
            "format": format_name,
            "rates": c.rates,
            "new": c.new,
            "rejected": rejected,
            "unvalued_orders_before": c.unvalued_before,
            "unvalued_orders_after": c.unvalued_after,
        })),
        Format::Csv | Format::Table => {
            let rs = ResultSet {
                columns: ["file", "format", "rates", "new", "rejected", "unvalued_before", "unvalued_after"]
                    .map(String::from)
                    .to_vec(),
                rows: vec![vec![
                    Cell::Text(file.to_string()),
                    Cell::Text(format_name.to_string()),
                    Cell::Int(i128::from(c.rates)),
                    Cell::Int(i128::from(c.new)),
                    Cell::Int(rejected as i128),
                    Cell::Int(i128::from(c.unvalued_before)),
                    Cell::Int(i128::from(c.unvalued_after)),
                ]],
            };
            if format == Format::Csv {
                return csv::render(&rs);
            }
            let mut out = format!(
                "{file}: {} rates ({} new) from the {} file",
                super::group_thousands(c.rates),
                super::group_thousands(c.new),
                if format_name == "ecb" { "ECB reference-rate" } else { "plain" }
            );
            if rejected > 0 {
                out.push_str(&format!(", {rejected} rejected"));
            }
            out.push_str(&format!(
                "\norders without a value in the reporting currency: {} before, {} now\n",
                super::group_thousands(c.unvalued_before),
                super::group_thousands(c.unvalued_after)
            ));
            out
        }
    }
}

/// The rates known per currency pair.
pub fn coverage(rows: &[Coverage], format: Format) -> String {
    let rs = ResultSet {
        columns: ["currency", "base", "first_day", "last_day", "days"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.currency.clone()),
                    Cell::Text(c.base.clone()),
                    Cell::Date(c.first_day),
                    Cell::Date(c.last_day),
                    Cell::Int(i128::from(c.days)),
                ]
            })
            .collect(),
    };
    match format {
        Format::Json => j::to_string(&j::rows(&rs)),
        Format::Csv => csv::render(&rs),
        Format::Table if rows.is_empty() => {
            "no exchange rates yet: `scudo rates import FILE` (the ECB's eurofxref-hist.csv, or date,currency,rate)\n"
                .to_string()
        }
        Format::Table => table::render(&rs),
    }
}
