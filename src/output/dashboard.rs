//! The dashboard for the terminal, as JSON (docs/json.md) and as long-format CSV.

use serde_json::json;

use super::{json as j, money_short, table};
use crate::queries::dashboard::{Dashboard, JSON_SCHEMA_VERSION};
use crate::store::{Cell, ResultSet};

fn num(rs: &ResultSet, row: &[Cell], col: &str) -> f64 {
    rs.col(col).and_then(|i| row[i].as_f64()).unwrap_or(0.0)
}

fn txt(rs: &ResultSet, row: &[Cell], col: &str) -> String {
    rs.col(col).map(|i| row[i].to_text()).unwrap_or_default()
}

/// "30% medium" from the latest scoring run; "not scored" before any `scudo score`.
fn churn_risk(rs: &ResultSet, row: &[Cell]) -> String {
    match rs.col("churn_probability").and_then(|i| row[i].as_f64()) {
        Some(p) => format!("{:.0}% {}", p * 100.0, txt(rs, row, "churn_band")),
        None => "not scored".to_string(),
    }
}

/// The dashboard as text for a terminal.
pub fn text(d: &Dashboard) -> String {
    let cur = &d.context.currency;
    let mut out = format!("scudo · customer dashboard · as of {} · {cur}\n\n", d.context.as_of);
    if let Some(k) = d.kpis.rows.first() {
        let n = |c: &str| super::group_thousands(num(&d.kpis, k, c) as u64);
        out.push_str(&format!(
            "  Customers {}   Active {}   At-Risk {}   Revenue {}   Orders {}\n\n",
            n("customers"),
            n("active"),
            n("at_risk"),
            money_short(num(&d.kpis, k, "revenue"), cur),
            n("orders")
        ));
    }
    // Subscription revenue, when there are subscriptions: `scudo mrr` has the months and movements.
    for r in d.mrr.rows.iter().filter(|r| num(&d.mrr, r, "end_mrr") > 0.0 || num(&d.mrr, r, "start_mrr") > 0.0) {
        let c = txt(&d.mrr, r, "currency");
        let amount = |col: &str| money_short(num(&d.mrr, r, col), &c);
        out.push_str(&format!(
            "  MRR {} ({} this month, {} subscribers) · `scudo mrr` for the movements\n\n",
            amount("end_mrr"),
            {
                let net = num(&d.mrr, r, "net_new_mrr");
                format!("{}{}", if net >= 0.0 { "+" } else { "" }, amount("net_new_mrr"))
            },
            super::group_thousands(num(&d.mrr, r, "customers_end") as u64),
        ));
    }
    out.push_str("Lifecycle health\n");
    let total: f64 = d.health.rows.iter().map(|r| num(&d.health, r, "customers")).sum::<f64>().max(1.0);
    let rows: Vec<Vec<String>> = d
        .health
        .rows
        .iter()
        .map(|r| {
            let n = num(&d.health, r, "customers");
            let bar = "█".repeat(((n / total) * 20.0).round() as usize);
            vec![
                txt(&d.health, r, "stage"),
                super::group_thousands(n as u64),
                format!("{bar:<20}"),
                money_short(num(&d.health, r, "revenue"), cur),
                format!("avg {}", money_short(num(&d.health, r, "average_revenue"), cur)),
            ]
        })
        .collect();
    out.push_str(&indent(&table::render_text(
        &["stage", "customers", "", "revenue", "per customer"].map(String::from),
        &rows,
        &[false, true, false, true, true],
    )));
    if d.alerts_total > d.alerts.rows.len() as u64 {
        out.push_str(&format!(
            "\nAlerts ({}, the {} most valuable below; `scudo alerts --limit 0` lists all)\n",
            super::group_thousands(d.alerts_total),
            d.alerts.rows.len()
        ));
    } else {
        out.push_str(&format!("\nAlerts ({})\n", d.alerts.rows.len()));
    }
    if d.alerts.rows.is_empty() {
        out.push_str("  nobody needs attention\n");
    } else {
        let rows: Vec<Vec<String>> = d
            .alerts
            .rows
            .iter()
            .map(|r| {
                let name = txt(&d.alerts, r, "name");
                let who = if name.is_empty() { txt(&d.alerts, r, "customer_id") } else { name };
                vec![
                    who,
                    txt(&d.alerts, r, "customer_id"),
                    txt(&d.alerts, r, "stage"),
                    churn_risk(&d.alerts, r),
                    txt(&d.alerts, r, "reason"),
                    money_short(num(&d.alerts, r, "revenue"), cur),
                ]
            })
            .collect();
        out.push_str(&indent(&table::render_text(
            &["customer", "id", "stage", "churn risk", "reason", "revenue"].map(String::from),
            &rows,
            &[false, false, false, true, false, true],
        )));
    }
    out.push_str(&format!("\nSegments by revenue ({})\n", d.segments.rows.len()));
    if d.segments.rows.is_empty() {
        out.push_str("  no segments yet: import customers with tags\n");
    } else {
        let rows: Vec<Vec<String>> = d
            .segments
            .rows
            .iter()
            .map(|r| {
                vec![
                    txt(&d.segments, r, "segment"),
                    super::group_thousands(num(&d.segments, r, "customers") as u64),
                    money_short(num(&d.segments, r, "revenue"), cur),
                ]
            })
            .collect();
        out.push_str(&indent(&table::render_text(
            &["segment", "customers", "revenue"].map(String::from),
            &rows,
            &[false, true, true],
        )));
    }
    out.push('\n');
    out.push_str(&checks_line(&d.checks));
    out
}

/// `Data checks: pass (9 passed) · 2 hours ago`, or how to run them.
pub fn checks_line(rs: &ResultSet) -> String {
    let Some(r) = rs.rows.first() else {
        return "Data checks: none run yet (`scudo check`)\n".to_string();
    };
    let n = |c: &str| num(rs, r, c) as u64;
    let mut parts = vec![format!("{} passed", n("passed"))];
    for (col, one, many) in [("warned", "warning", "warnings"), ("failed", "error", "errors")] {
        if n(col) > 0 {
            parts.push(super::count(n(col), one, many));
        }
    }
    if n("broken") > 0 {
        parts.push(format!("{} could not run", n("broken")));
    }
    format!(
        "Data checks: {} ({}) · {} (`scudo check history`)\n",
        txt(rs, r, "status"),
        parts.join(", "),
        ago(num(rs, r, "hours_ago"))
    )
}

/// `12 minutes ago`, `5 hours ago`, `3 days ago`.
fn ago(hours: f64) -> String {
    let minutes = (hours * 60.0).round().max(0.0) as u64;
    if minutes == 0 {
        "just now".to_string()
    } else if minutes < 60 {
        format!("{} ago", super::count(minutes, "minute", "minutes"))
    } else if hours < 48.0 {
        format!("{} ago", super::count(hours.round() as u64, "hour", "hours"))
    } else {
        format!("{} ago", super::count((hours / 24.0).round() as u64, "day", "days"))
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// The documented JSON shape.
pub fn json(d: &Dashboard) -> String {
    j::to_string(&json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "as_of": d.context.as_of.to_string(),
        "currency": d.context.currency,
        "kpis": j::first_row(&d.kpis),
        "health": j::rows(&d.health),
        "alerts": j::rows(&d.alerts),
        "alerts_total": d.alerts_total,
        "segments": j::rows(&d.segments),
        "checks": j::first_row(&d.checks),
        "mrr": j::rows(&d.mrr),
        "unconverted": d.unconverted.as_ref().map(|u| json!({
            "orders": u.orders,
            "currencies": u.currencies,
            "note": u.note(&d.context.currency),
        })),
    }))
}

/// Long format: one line per (section, item, metric, value).
pub fn csv(d: &Dashboard) -> String {
    use super::csv::Item;
    super::csv::long(
        "metric",
        &[
            ("kpis", &d.kpis, Item::Blank),
            ("health", &d.health, Item::Column("stage")),
            ("alerts", &d.alerts, Item::Column("customer_id")),
            ("segments", &d.segments, Item::Column("segment_id")),
            ("checks", &d.checks, Item::Blank),
            ("mrr", &d.mrr, Item::Column("currency")),
        ],
    )
}
