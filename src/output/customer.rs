//! The Customer 360 for people, and as JSON (docs/json.md).

use serde_json::json;

use super::{analytics::envelope, json as j, money_short, scores, table};
use crate::cli::Format;
use crate::queries::QueryContext;
use crate::queries::scores::{LatestRun, STALE_AFTER_DAYS};
use crate::store::{Cell, ResultSet};

pub fn render(
    profile: &ResultSet,
    actions: &ResultSet,
    orders: &ResultSet,
    run: Option<&LatestRun>,
    ctx: &QueryContext,
    format: Format,
) -> String {
    match format {
        Format::Json => j::to_string(&envelope(
            ctx,
            json!({"customer": j::first_row(profile), "actions": j::rows(actions), "orders": j::rows(orders),
                   "score_run": scores::run_json(run)}),
        )),
        Format::Csv => csv(profile, actions, orders),
        Format::Table => text(profile, actions, orders, run, ctx),
    }
}

/// One long table, as the dashboard's CSV: `section,item,field,value` for the profile (item: the
/// customer id), each next best action (item: its rank) and each order (item: its number).
fn csv(profile: &ResultSet, actions: &ResultSet, orders: &ResultSet) -> String {
    use super::csv::Item;
    super::csv::long(
        "field",
        &[
            ("customer", profile, Item::ColumnOrRank("customer_id")),
            ("actions", actions, Item::Rank),
            ("orders", orders, Item::ColumnOrRank("order_number")),
        ],
    )
}

fn text(p: &ResultSet, actions: &ResultSet, orders: &ResultSet, run: Option<&LatestRun>, ctx: &QueryContext) -> String {
    let row = &p.rows[0];
    let get = |c: &str| p.col(c).map(|i| row[i].clone()).unwrap_or(Cell::Null);
    let t = |c: &str| get(c).to_text();
    let num = |c: &str| get(c).as_f64().unwrap_or(0.0);
    let cur = &ctx.currency;
    let mut out = String::new();
    let name = if t("name").is_empty() { "(no name)".to_string() } else { t("name") };
    out.push_str(&format!("{name} · {} · {}\n", t("customer_id"), t("stage")));
    let place: Vec<String> = ["city", "region", "country"].iter().map(|c| t(c)).filter(|s| !s.is_empty()).collect();
    let mut facts = Vec::new();
    for (label, value) in [("email", t("email")), ("phone", t("phone")), ("company", t("company"))] {
        if !value.is_empty() {
            facts.push(format!("{label} {value}"));
        }
    }
    if !place.is_empty() {
        facts.push(place.join(", "));
    }
    if let Cell::Timestamp(since) = get("customer_since") {
        facts.push(format!("customer since {}", since.format("%B %Y")));
    }
    facts.push(format!("sources: {}", t("sources")));
    out.push_str(&format!("  {}\n", facts.join(" · ")));
    if !t("tags").is_empty() {
        out.push_str(&format!("  tags: {}\n", t("tags")));
    }

    out.push_str("\nPurchase history\n");
    let orders_n = num("orders") as i64;
    // Purchases in a currency with no known rate are in no figure here: say which.
    let unvalued: Vec<String> = match (orders.col("status"), orders.col("value"), orders.col("currency")) {
        (Some(st), Some(v), Some(c)) => orders
            .rows
            .iter()
            .filter(|r| {
                matches!(r[st].to_text().as_str(), "completed" | "partially_refunded" | "refunded")
                    && matches!(r[v], Cell::Null)
            })
            .map(|r| r[c].to_text())
            .collect(),
        _ => Vec::new(),
    };
    if !unvalued.is_empty() {
        let mut currencies = unvalued.clone();
        currencies.sort();
        currencies.dedup();
        out.push_str(&format!(
            "  {} {} in {} not included: no exchange rate into {cur} for {} day (`scudo rates import FILE`)\n",
            unvalued.len(),
            if unvalued.len() == 1 { "purchase" } else { "purchases" },
            currencies.join(", "),
            if unvalued.len() == 1 { "its" } else { "their" },
        ));
    }
    if orders_n == 0 {
        if unvalued.is_empty() {
            out.push_str("  no purchases yet\n");
        }
    } else {
        let day = |c: &str| match get(c) {
            Cell::Timestamp(ts) => ts.date().to_string(),
            other => other.to_text(),
        };
        let mut line = format!(
            "  {orders_n} {} · {} total · {} average · first {} · last {} ({} days ago)",
            if orders_n == 1 { "order" } else { "orders" },
            money_short(num("revenue"), cur),
            money_short(num("average_order_value"), cur),
            day("first_order_at"),
            day("last_order_at"),
            t("days_since_last_order")
        );
        if !t("typical_gap_days").is_empty() {
            line.push_str(&format!(" · usually every {} days", t("typical_gap_days")));
        }
        out.push_str(&line);
        out.push('\n');

        out.push_str("\nBehaviour\n");
        let mut b = Vec::new();
        if !t("preferred_channel").is_empty() {
            b.push(format!("prefers {} ({}% of orders)", t("preferred_channel"), t("preferred_channel_pct")));
        }
        if !t("top_category").is_empty() {
            b.push(format!("top category {} ({}% of spend)", t("top_category"), t("top_category_pct")));
        }
        b.push(format!(
            "discount on {} of {orders_n} {} ({}%)",
            t("discounted_orders"),
            if orders_n == 1 { "order" } else { "orders" },
            t("discount_pct")
        ));
        out.push_str(&format!("  {}\n", b.join(" · ")));
    }

    out.push_str("\nScores\n");
    if !t("rfm").is_empty() {
        out.push_str(&format!(
            "  RFM {} {} (recency {}, frequency {}, monetary {}; 5 is best)\n",
            t("rfm"),
            t("rfm_group"),
            t("recency_score"),
            t("frequency_score"),
            t("monetary_score")
        ));
    }
    if !t("scored_as_of").is_empty() && get("churn_probability").as_f64().is_some() {
        let mut from = format!(
            "  churn risk and CLV from {}",
            scores::describe(num("score_run_id") as i64, &t("scored_as_of"), &t("score_method"))
        );
        match get("score_age_days").as_i64() {
            Some(age) if age > STALE_AFTER_DAYS => from.push_str(&format!(
                ": {} days before {}, run `scudo score` for current scores",
                super::group_thousands(age.unsigned_abs()),
                ctx.as_of
            )),
            _ => {}
        }
        out.push_str(&from);
        out.push('\n');
    }
    match get("churn_probability").as_f64() {
        Some(p) => {
            out.push_str(&format!("  churn risk {:.0}% ({}, {})", p * 100.0, t("churn_band"), t("churn_method")));
            if !t("churn_reasons").is_empty() {
                out.push_str(&format!(": {}", t("churn_reasons")));
            }
            out.push('\n');
        }
        None if !t("scored_as_of").is_empty() => out.push_str(&format!(
            "  churn risk and CLV: none, no purchase by the scoring run of {}\n",
            t("scored_as_of")
        )),
        None => out.push_str("  churn risk and CLV: not scored yet (`scudo score` stores them)\n"),
    }
    if let Some(clv) = get("clv").as_f64() {
        out.push_str(&format!("  CLV {} ({})\n", money_short(clv, cur), t("clv_trend")));
    } else if t("score_method") == "rule-based" {
        let why = run.and_then(scores::clv_not_claimed).unwrap_or_else(|| {
            format!("the scoring run ({}) used the rule-based estimate, which forecasts no CLV", t("scored_as_of"))
        });
        out.push_str(&format!("  CLV not forecast: {why}\n"));
        if !t("clv_trend").is_empty() {
            // The trend is the customer's own spend rate, recent half against earlier: no model needed.
            out.push_str(&format!(
                "  CLV trend {} (spend per day, recent half of their history against the earlier)\n",
                t("clv_trend")
            ));
        }
    }

    out.push_str("\nNext best actions\n");
    if actions.rows.is_empty() {
        out.push_str("  none\n");
    }
    for (n, r) in actions.rows.iter().enumerate() {
        let a = |c: &str| actions.col(c).map(|i| r[i].to_text()).unwrap_or_default();
        let when =
            if a("within_days").is_empty() { String::new() } else { format!(" — within {} days", a("within_days")) };
        out.push_str(&format!("  {}. {}{when}\n     {}\n", n + 1, a("action"), a("reason")));
    }

    if !orders.rows.is_empty() {
        let recent = ResultSet { columns: orders.columns.clone(), rows: orders.rows.iter().take(5).cloned().collect() };
        out.push_str(&format!("\nRecent orders ({} of {})\n", recent.rows.len(), orders.rows.len()));
        out.push_str(&table::render(&recent).lines().map(|l| format!("  {l}\n")).collect::<String>());
    }
    out
}
