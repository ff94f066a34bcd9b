//! The dashboard: KPI cards, lifecycle health, alerts and segments, each from its SQL file.

use anyhow::Result;

use super::{Catalog, QueryContext};
use crate::store::{ResultSet, Store, stored};

/// Version of the `--format json` shape of the dashboard (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub context: QueryContext,
    /// One row: customers, active, at_risk, revenue, orders.
    pub kpis: ResultSet,
    /// One row per stage.
    pub health: ResultSet,
    /// The ten alerts most worth acting on (dashboard.alerts).
    pub alerts: ResultSet,
    /// How many customers need attention in all (At-Risk and Dormant): `scudo alerts` lists them.
    pub alerts_total: u64,
    pub segments: ResultSet,
    /// Purchases left out of every figure for want of an exchange rate.
    pub unconverted: Option<super::Unconverted>,
    /// The latest data check run (dashboard.checks): no row when checks never ran.
    pub checks: ResultSet,
    /// Subscription revenue of the as-of month (subscriptions.mrr, one row per currency): no row
    /// without subscriptions.
    pub mrr: ResultSet,
}

/// Runs the dashboard's queries, or reads the results a writer kept for this date, these
/// settings and these query files (`recompute`: always run them).
pub fn build(store: &Store, catalog: &Catalog, ctx: QueryContext, recompute: bool) -> Result<Dashboard> {
    let kept = if recompute { None } else { store.cached_dashboard(&cache_key(catalog, &ctx))? };
    let (kpis, health, alerts, alerts_total, segments) = match kept.as_deref().and_then(|p| unpack(p).ok()) {
        Some(parts) => parts,
        None => compute(store, catalog, &ctx)?,
    };
    Ok(Dashboard {
        kpis,
        health,
        alerts,
        alerts_total,
        segments,
        checks: catalog.run(store, "dashboard.checks", &ctx)?,
        mrr: mrr(store, catalog, &ctx)?,
        unconverted: None,
        context: ctx,
    })
}

/// Computes the dashboard's results for `ctx` and keeps them for the commands that follow:
/// called by the commands that write (ingest, score) and by `scudo serve`.
pub fn keep(store: &mut Store, catalog: &Catalog, ctx: &QueryContext) -> Result<()> {
    let key = cache_key(catalog, ctx);
    if store.cached_dashboard(&key)?.is_some() {
        return Ok(());
    }
    let (kpis, health, alerts, alerts_total, segments) = compute(store, catalog, ctx)?;
    let payload = serde_json::json!({
        "kpis": stored::to_json(&kpis),
        "health": stored::to_json(&health),
        "alerts": stored::to_json(&alerts),
        "alerts_total": alerts_total,
        "segments": stored::to_json(&segments),
    });
    store.keep_dashboard(&key, ctx.as_of, &payload.to_string())
}

type Parts = (ResultSet, ResultSet, ResultSet, u64, ResultSet);

fn unpack(payload: &str) -> Result<Parts> {
    let v: serde_json::Value = serde_json::from_str(payload)?;
    Ok((
        stored::from_json(&v["kpis"])?,
        stored::from_json(&v["health"])?,
        stored::from_json(&v["alerts"])?,
        v["alerts_total"].as_u64().unwrap_or(0),
        stored::from_json(&v["segments"])?,
    ))
}

/// The cards, stages, alerts and segments from their SQL files.
fn compute(store: &Store, catalog: &Catalog, ctx: &QueryContext) -> Result<Parts> {
    let health = catalog.run(store, "health.distribution", ctx)?;
    let alerts_total = match (health.col("stage"), health.col("customers")) {
        (Some(s), Some(c)) => health
            .rows
            .iter()
            .filter(|r| matches!(r[s].to_text().as_str(), "At-Risk" | "Dormant"))
            .filter_map(|r| r[c].as_f64())
            .sum::<f64>() as u64,
        _ => 0,
    };
    Ok((
        catalog.run(store, "dashboard.kpis", ctx)?,
        health,
        catalog.run(store, "dashboard.alerts", ctx)?,
        alerts_total,
        catalog.run(store, "segments.summary", ctx)?,
    ))
}

/// Subscription revenue of the as-of month; nothing to compute without subscriptions.
fn mrr(store: &Store, catalog: &Catalog, ctx: &QueryContext) -> Result<ResultSet> {
    if !store.has_subscriptions()? {
        return Ok(ResultSet::default());
    }
    catalog.run_with(store, "subscriptions.mrr", ctx, &[("months", crate::store::Param::Int(1))])
}

/// What the kept results depend on besides the data: the date, the reporting currency, the
/// health settings and every query file (a workspace's own override included).
fn cache_key(catalog: &Catalog, ctx: &QueryContext) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("dashboard v1\n{}\n{}\n{:?}\n", ctx.as_of, ctx.currency, ctx.health));
    for f in &catalog.files {
        h.update(f.id.as_bytes());
        h.update([0]);
        h.update(f.sql.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
