//! Renderers for the analytics commands: generic results, KPI comparisons, segment comparisons
//! and the cohort matrix.

use serde_json::{Value, json};

use super::{json as j, table};
use crate::cli::Format;
use crate::queries::QueryContext;
use crate::queries::scores::LatestRun;
use crate::store::{Cell, ResultSet};

/// Any result: a table, `{"schema_version", "as_of", "currency", "rows"}`, or CSV.
pub fn results(rs: &ResultSet, ctx: &QueryContext, format: Format) -> String {
    match format {
        Format::Table => {
            if rs.rows.is_empty() {
                "(none)\n".to_string()
            } else {
                table::render(rs)
            }
        }
        Format::Csv => super::csv::render(rs),
        Format::Json => j::to_string(&envelope(ctx, json!({"rows": j::rows(rs)}))),
    }
}

/// `scudo churn` / `scudo clv`: the ranked scores and the run they come from (`score_run`); with
/// no rows, why: nothing scored yet, or (CLV) the run used the rule-based estimate.
pub fn scores(rs: &ResultSet, run: Option<&LatestRun>, clv: bool, ctx: &QueryContext, format: Format) -> String {
    match format {
        Format::Json => {
            j::to_string(&envelope(ctx, json!({"score_run": super::scores::run_json(run), "rows": j::rows(rs)})))
        }
        Format::Table if rs.rows.is_empty() => match run {
            None => format!("no scores on or before {} yet: run `scudo score`\n", ctx.as_of),
            Some(r) => match super::scores::clv_not_claimed(r).filter(|_| clv) {
                Some(why) => format!("{why}\n"),
                None => "(none)\n".to_string(),
            },
        },
        _ => results(rs, ctx, format),
    }
}

/// The common head of every analytics JSON document, merged with `body`.
pub fn envelope(ctx: &QueryContext, body: Value) -> Value {
    let mut v = json!({"schema_version": 1, "as_of": ctx.as_of.to_string(), "currency": ctx.currency});
    if let (Value::Object(head), Value::Object(rest)) = (&mut v, body) {
        head.extend(rest);
    }
    v
}

/// `a − b` for numbers of the same kind (decimals stay exact).
pub fn difference(a: &Cell, b: &Cell) -> Cell {
    match (a, b) {
        (Cell::Int(x), Cell::Int(y)) => Cell::Int(x - y),
        (Cell::Decimal { value: x, scale: s }, Cell::Decimal { value: y, scale: t }) if s == t => {
            Cell::Decimal { value: x - y, scale: *s }
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => Cell::Float(((x - y) * 100.0).round() / 100.0),
            _ => Cell::Null,
        },
    }
}

fn change_pct(cur: &Cell, prev: &Cell) -> Cell {
    match (cur.as_f64(), prev.as_f64()) {
        (Some(c), Some(p)) if p != 0.0 => Cell::Float(((c - p) / p * 1000.0).round() / 10.0),
        _ => Cell::Null,
    }
}

const KPI_METRICS: &[&str] = &[
    "customers",
    "active",
    "new",
    "at_risk",
    "dormant",
    "revenue",
    "orders",
    "average_order_value",
    "repeat_purchase_rate",
];

/// The KPI row of `kpi.summary` as metric / current / previous / change / change %.
pub fn kpis(rs: &ResultSet, ctx: &QueryContext, format: Format) -> String {
    let Some(row) = rs.rows.first() else { return String::new() };
    let get = |c: &str| rs.col(c).map(|i| row[i].clone()).unwrap_or(Cell::Null);
    let mut long = ResultSet {
        columns: ["metric", "current", "previous", "change", "change_pct"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for m in KPI_METRICS.iter().filter(|m| rs.col(m).is_some()) {
        let (cur, prev) = (get(m), get(&format!("{m}_previous")));
        long.rows.push(vec![
            Cell::Text((*m).into()),
            cur.clone(),
            prev.clone(),
            difference(&cur, &prev),
            change_pct(&cur, &prev),
        ]);
    }
    let period = format!(
        "{} – {} against {} – {}",
        get("period_start").to_text(),
        get("period_end").to_text(),
        get("previous_start").to_text(),
        get("previous_end").to_text()
    );
    match format {
        Format::Table => format!("KPIs {period} · {}\n\n{}", ctx.currency, table::render(&long)),
        Format::Csv => super::csv::render(&long),
        Format::Json => {
            let mut metrics = serde_json::Map::new();
            for r in &long.rows {
                metrics.insert(
                    r[0].to_text(),
                    json!({"current": r[1].to_json(), "previous": r[2].to_json(), "change": r[3].to_json(), "change_pct": r[4].to_json()}),
                );
            }
            j::to_string(&envelope(
                ctx,
                json!({
                    "period": {"start": get("period_start").to_text(), "end": get("period_end").to_text()},
                    "previous_period": {"start": get("previous_start").to_text(), "end": get("previous_end").to_text()},
                    "kpis": metrics,
                }),
            ))
        }
    }
}

/// Two rows of `segments.performance` side by side; difference = b − a.
pub fn compare(rs: &ResultSet, a: &[Cell], b: &[Cell], ctx: &QueryContext, format: Format) -> String {
    let name = |r: &[Cell]| rs.col("segment").map(|i| r[i].to_text()).unwrap_or_default();
    let (na, nb) = (name(a), name(b));
    let mut long =
        ResultSet { columns: vec!["metric".into(), na.clone(), nb.clone(), "difference".into()], rows: Vec::new() };
    for m in ["customers", "revenue", "average_order_value", "orders_per_customer", "at_risk_pct"] {
        if let Some(i) = rs.col(m) {
            long.rows.push(vec![Cell::Text(m.into()), a[i].clone(), b[i].clone(), difference(&b[i], &a[i])]);
        }
    }
    match format {
        Format::Table => format!("{na} against {nb} · as of {}\n\n{}", ctx.as_of, table::render(&long)),
        Format::Csv => super::csv::render(&long),
        Format::Json => {
            let rows: Vec<Value> = long
                .rows
                .iter()
                .map(|r| json!({"metric": r[0].to_text(), "a": r[1].to_json(), "b": r[2].to_json(), "difference": r[3].to_json()}))
                .collect();
            j::to_string(&envelope(ctx, json!({"a": na, "b": nb, "metrics": rows})))
        }
    }
}

/// `cohorts.monthly` as two matrices (retention %, cumulative revenue per customer) for people;
/// JSON and CSV keep the long rows.
pub fn cohorts(rs: &ResultSet, ctx: &QueryContext, format: Format) -> String {
    if format != Format::Table {
        return results(rs, ctx, format);
    }
    if rs.rows.is_empty() {
        return "(no purchases yet)\n".to_string();
    }
    // A workspace's own cohorts query without these columns is shown as plain rows.
    let cols = ["cohort", "cohort_size", "months_since_first", "retention_pct", "cumulative_revenue_per_customer"]
        .map(|n| rs.col(n));
    let [Some(c_cohort), Some(c_size), Some(c_k), Some(c_ret), Some(c_rev)] = cols else {
        return results(rs, ctx, format);
    };
    // A terminal shows the first year; the JSON and CSV have every month, and the table says so.
    let all_k = rs.rows.iter().filter_map(|r| r[c_k].as_i64()).max().unwrap_or(0);
    let max_k = all_k.min(12);
    let mut cohorts: Vec<(String, String)> = Vec::new();
    for r in &rs.rows {
        let key = (r[c_cohort].to_text(), r[c_size].to_text());
        if cohorts.last() != Some(&key) {
            cohorts.push(key);
        }
    }
    let matrix = |value: usize, money: bool| {
        let mut header = vec!["cohort".to_string(), "customers".to_string()];
        header.extend((0..=max_k).map(|k| format!("M{k}")));
        let rows: Vec<Vec<String>> = cohorts
            .iter()
            .map(|(c, size)| {
                let mut line = vec![c.clone(), size.clone()];
                for k in 0..=max_k {
                    let cell = rs.rows.iter().find(|r| &r[c_cohort].to_text() == c && r[c_k].as_i64() == Some(k));
                    line.push(cell.map_or(String::new(), |r| {
                        let v = r[value].as_f64().unwrap_or(0.0);
                        if money { super::money_short(v, &ctx.currency) } else { format!("{v:.0}%") }
                    }));
                }
                line
            })
            .collect();
        let mut numeric = vec![false, true];
        numeric.extend((0..=max_k).map(|_| true));
        table::render_text(&header, &rows, &numeric)
    };
    let cut = if all_k > max_k {
        format!(
            "\n(months M{} to M{all_k} are not shown here: `--format csv` or `--format json` has every month)\n",
            max_k + 1
        )
    } else {
        String::new()
    };
    format!(
        "Retention: % of each cohort buying in month M after their first purchase · as of {}\n\n{}\nCumulative revenue per customer\n\n{}{cut}",
        ctx.as_of,
        matrix(c_ret, false),
        matrix(c_rev, true)
    )
}
