//! `scudo mrr`: the monthly movements of recurring revenue as a table, JSON or CSV.

use serde_json::json;

use super::analytics::{envelope, results};
use super::{json as j, table};
use crate::cli::Format;
use crate::queries::QueryContext;
use crate::store::ResultSet;

/// The columns the table shows (JSON and CSV have every column of the query).
const SHOWN: &[(&str, &str)] = &[
    ("label", "month"),
    ("start_mrr", "start"),
    ("new_mrr", "+new"),
    ("reactivation_mrr", "+reactivation"),
    ("expansion_mrr", "+expansion"),
    ("contraction_mrr", "−contraction"),
    ("churned_mrr", "−churned"),
    ("end_mrr", "end"),
    ("customers_end", "customers"),
    ("logo_churn_pct", "logo churn %"),
    ("nrr_pct", "NRR %"),
];

pub fn render(rs: &ResultSet, ctx: &QueryContext, format: Format) -> String {
    match format {
        Format::Json => j::to_string(&envelope(ctx, json!({"rows": j::rows(rs)}))),
        Format::Csv => results(rs, ctx, format),
        Format::Table if rs.rows.is_empty() => {
            "(no subscriptions yet: import Stripe's subscriptions export with `scudo ingest`)\n".to_string()
        }
        Format::Table => {
            let cols: Option<Vec<usize>> = SHOWN.iter().map(|(c, _)| rs.col(c)).collect();
            // A workspace's own mrr query without these columns is shown as plain rows.
            let (Some(cols), Some(cur)) = (cols, rs.col("currency")) else { return results(rs, ctx, format) };
            let currencies: std::collections::BTreeSet<String> = rs.rows.iter().map(|r| r[cur].to_text()).collect();
            let several = currencies.len() > 1;
            let mut header: Vec<String> = SHOWN.iter().map(|(_, h)| h.to_string()).collect();
            let mut numeric: Vec<bool> = SHOWN.iter().map(|(c, _)| *c != "label").collect();
            if several {
                header.insert(1, "currency".into());
                numeric.insert(1, false);
            }
            let rows: Vec<Vec<String>> = rs
                .rows
                .iter()
                .map(|r| {
                    let mut line: Vec<String> = cols
                        .iter()
                        .zip(SHOWN)
                        .map(|(&i, (name, _))| match r[i].as_f64() {
                            Some(v) if name.ends_with("_pct") => format!("{v:.1}"),
                            _ => r[i].to_text(),
                        })
                        .collect();
                    if several {
                        line.insert(1, r[cur].to_text());
                    }
                    line
                })
                .collect();
            let mut out = table::render_text(&header, &rows, &numeric);
            if !several && let Some(c) = currencies.iter().next().filter(|c| !c.is_empty()) {
                out.push_str(&format!("amounts in {c} per month; --format json or csv for every column\n"));
            }
            out
        }
    }
}
