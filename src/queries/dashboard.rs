//! The dashboard: KPI cards, lifecycle health, alerts and segments, each from its SQL file.

use anyhow::Result;

use super::{Catalog, QueryContext};
use crate::store::{ResultSet, Store};

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

/// Runs the dashboard's queries.
pub fn build(store: &Store, catalog: &Catalog, ctx: QueryContext) -> Result<Dashboard> {
    let health = catalog.run(store, "health.distribution", &ctx)?;
    let alerts_total = match (health.col("stage"), health.col("customers")) {
        (Some(s), Some(c)) => health
            .rows
            .iter()
            .filter(|r| matches!(r[s].to_text().as_str(), "At-Risk" | "Dormant"))
            .filter_map(|r| r[c].as_f64())
            .sum::<f64>() as u64,
        _ => 0,
    };
    Ok(Dashboard {
        kpis: catalog.run(store, "dashboard.kpis", &ctx)?,
        health,
        alerts: catalog.run(store, "dashboard.alerts", &ctx)?,
        alerts_total,
        segments: catalog.run(store, "segments.summary", &ctx)?,
        checks: catalog.run(store, "dashboard.checks", &ctx)?,
        mrr: catalog.run_with(store, "subscriptions.mrr", &ctx, &[("months", crate::store::Param::Int(1))])?,
        unconverted: None,
        context: ctx,
    })
}
