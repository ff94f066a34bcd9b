//! The deterministic narrative: the same facts, phrased by scudo itself. It is the default when no
//! model is configured and the fallback when a model's numbers do not check, so every use has one
//! and no command needs a network.

use std::fmt::Write;

use super::facts::{Attention, Facts, Kpi, Row, Use};
use crate::output::{group_thousands, money_short};

/// The narrative of `f`.
pub fn write(f: &Facts) -> String {
    let mut out = String::new();
    match f.use_ {
        Use::Shop => {
            changes(f, &mut out);
            attention(f, &mut out, "Who needs attention");
            segments(f, &mut out);
            actions(f, &mut out);
        }
        Use::AtRisk => attention(f, &mut out, "Customers at risk"),
        Use::Actions => {
            attention(f, &mut out, "Who needs attention");
            actions(f, &mut out);
        }
        Use::Segments => segments(f, &mut out),
        Use::Customer => customer(f, &mut out),
        Use::Answer => answer(f, &mut out),
    }
    out
}

fn money(f: &Facts, x: f64) -> String {
    money_short(x, &f.currency)
}

fn s<'a>(r: &'a Row, k: &str) -> &'a str {
    r.get(k).and_then(|v| v.as_str()).unwrap_or("")
}

fn n(r: &Row, k: &str) -> Option<f64> {
    r.get(k).and_then(|v| v.as_f64())
}

fn whole(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let g = group_thousands(x.abs() as u64);
        if x < 0.0 { format!("-{g}") } else { g }
    } else {
        format!("{x:.2}")
    }
}

fn kpi_value(f: &Facts, k: &Kpi, x: f64) -> String {
    if k.money {
        money(f, x)
    } else if k.name == "repeat_purchase_rate" {
        format!("{x}%")
    } else {
        whole(x)
    }
}

fn changes(f: &Facts, out: &mut String) {
    let (Some(p), false) = (&f.period, f.kpis.is_empty()) else { return };
    let _ = writeln!(
        out,
        "What changed ({} to {}, against {} to {})",
        s(p, "period_start"),
        s(p, "period_end"),
        s(p, "previous_start"),
        s(p, "previous_end")
    );
    for k in f
        .kpis
        .iter()
        .filter(|k| matches!(k.name.as_str(), "revenue" | "orders" | "average_order_value" | "new" | "at_risk"))
    {
        let (Some(c), Some(pr)) = (k.current, k.previous) else { continue };
        let label = match k.name.as_str() {
            "average_order_value" => "average order",
            "new" => "new customers",
            "at_risk" => "customers at risk",
            other => other,
        };
        let how = match (k.change_pct, c.partial_cmp(&pr)) {
            (_, Some(std::cmp::Ordering::Equal)) => "unchanged; ".to_string(),
            (Some(pct), Some(o)) => format!("{} {}%; ", if o.is_gt() { "up" } else { "down" }, pct.abs()),
            _ => String::new(),
        };
        let _ =
            writeln!(out, "  - {}: {} ({}{} the period before)", label, kpi_value(f, k, c), how, kpi_value(f, k, pr));
    }
    out.push('\n');
}

fn reason_line(f: &Facts, a: &Attention) -> String {
    let mut line = format!("{} ({}): {}", a.customer.name, a.stage, a.reason);
    if let Some(r) = a.revenue {
        let _ = write!(line, "; {} spent in all", money(f, r));
    }
    if let Some(p) = a.churn_risk_pct {
        let _ =
            write!(line, "; churn risk {}%{}", p, a.churn_band.as_ref().map(|b| format!(" ({b})")).unwrap_or_default());
    }
    line
}

fn attention(f: &Facts, out: &mut String, title: &str) {
    if f.attention.is_empty() {
        let _ = writeln!(out, "{title}\n  Nobody: no customer is at risk or inactive on {}.\n", f.as_of);
        return;
    }
    let _ = writeln!(out, "{title}");
    for a in &f.attention {
        let _ = writeln!(out, "  - {}", reason_line(f, a));
    }
    out.push('\n');
}

fn actions(f: &Facts, out: &mut String) {
    let with: Vec<&Attention> = f.attention.iter().filter(|a| !a.actions.is_empty()).collect();
    if with.is_empty() {
        return;
    }
    let _ = writeln!(out, "What to do");
    for a in with {
        for act in &a.actions {
            let when = n(act, "within_days").map(|d| format!(" within {} days", whole(d))).unwrap_or_default();
            let _ = writeln!(out, "  - {}: {}{} ({})", a.customer.name, s(act, "action"), when, s(act, "reason"));
        }
    }
    out.push('\n');
}

fn segments(f: &Facts, out: &mut String) {
    if f.segments.is_empty() {
        return;
    }
    if let Some(seg) = &f.segment {
        let _ =
            writeln!(out, "Segment {seg}: {}", crate::output::count(f.segments.len() as u64, "customer", "customers"));
        for r in &f.segments {
            let _ = writeln!(
                out,
                "  - {} ({}): {} orders, {} revenue, last order {} days ago",
                s(r, "name"),
                s(r, "stage"),
                n(r, "orders").map(whole).unwrap_or_default(),
                money(f, n(r, "revenue").unwrap_or(0.0)),
                n(r, "days_since_last_order").map(whole).unwrap_or_else(|| "–".into())
            );
        }
        out.push('\n');
        return;
    }
    let _ = writeln!(out, "Segments by revenue");
    for r in f.segments.iter().take(5) {
        let risk =
            n(r, "at_risk_pct").filter(|p| *p > 0.0).map(|p| format!(", {p}% of them at risk")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  - {}: {}, {} revenue{}",
            s(r, "segment"),
            crate::output::count(n(r, "customers").unwrap_or(0.0) as u64, "customer", "customers"),
            money(f, n(r, "revenue").unwrap_or(0.0)),
            risk
        );
    }
    let risky: Vec<&str> =
        f.segments.iter().filter(|r| n(r, "at_risk_pct").is_some_and(|p| p >= 50.0)).map(|r| s(r, "segment")).collect();
    if !risky.is_empty() {
        let _ = writeln!(out, "  Half or more at risk: {}.", risky.join(", "));
    }
    out.push('\n');
}

fn customer(f: &Facts, out: &mut String) {
    let Some(c) = &f.customer else { return };
    let p = &c.profile;
    let _ = writeln!(out, "{} · {}", c.customer.name, s(p, "stage"));
    let _ = writeln!(
        out,
        "  - {} orders, {} in all ({} on average), first {}, last {} ({} days ago){}",
        n(p, "orders").map(whole).unwrap_or_default(),
        money(f, n(p, "revenue").unwrap_or(0.0)),
        money(f, n(p, "average_order_value").unwrap_or(0.0)),
        s(p, "first_order_at"),
        s(p, "last_order_at"),
        n(p, "days_since_last_order").map(whole).unwrap_or_default(),
        n(p, "typical_gap_days").map(|g| format!(", usually every {} days", whole(g))).unwrap_or_default()
    );
    if !s(p, "rfm").is_empty() {
        let _ = writeln!(out, "  - RFM {}", s(p, "rfm"));
    }
    if !s(p, "top_category").is_empty() {
        let _ = writeln!(
            out,
            "  - buys mostly {} ({}% of spend) on {}; a discount on {}% of orders",
            s(p, "top_category"),
            n(p, "top_category_pct").map(whole).unwrap_or_default(),
            s(p, "preferred_channel"),
            n(p, "discount_pct").map(whole).unwrap_or_default()
        );
    }
    match n(p, "churn_risk_pct") {
        Some(r) => {
            let _ = writeln!(out, "  - churn risk {}% ({}): {}", r, s(p, "churn_band"), s(p, "churn_reasons"));
        }
        None => {
            let _ = writeln!(out, "  - churn risk: not scored yet (`scudo score`)");
        }
    }
    if let Some(v) = n(p, "clv") {
        let _ = writeln!(
            out,
            "  - lifetime value ahead {}{}",
            money(f, v),
            match s(p, "clv_trend") {
                "" => String::new(),
                t => format!(", trend {t}"),
            }
        );
    }
    if !c.actions.is_empty() {
        let _ = writeln!(out, "Recommendations");
        for a in &c.actions {
            let when = n(a, "within_days").map(|d| format!(" within {} days", whole(d))).unwrap_or_default();
            let _ = writeln!(out, "  - {}{} ({})", s(a, "action"), when, s(a, "reason"));
        }
    }
    out.push('\n');
}

fn answer(f: &Facts, out: &mut String) {
    let Some(a) = &f.answer else { return };
    let _ = writeln!(out, "{} rows{}", a.rows.len(), if a.truncated { " (cut at the row limit)" } else { "" });
    for r in a.rows.iter().take(20) {
        let cells: Vec<String> = a
            .columns
            .iter()
            .map(|c| {
                format!("{c} {}", r.get(c).map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default())
            })
            .collect();
        let _ = writeln!(out, "  - {}", cells.join(", "));
    }
    out.push('\n');
}
