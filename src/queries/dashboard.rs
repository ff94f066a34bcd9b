//! The dashboard: KPI cards, lifecycle health, alerts and segments, each from its SQL file.

use anyhow::Result;

use super::{Catalog, QueryContext};
use crate::store::{ResultSet, Store};

/// Version of the `--format json` shape of the dashboard (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub context: QueryContext,
    /// One row: customers, active, at_risk, revenue, orders.
    pub kpis: ResultSet,
    /// One row per stage.
    pub health: ResultSet,
    pub alerts: ResultSet,
    pub segments: ResultSet,
}

/// Runs the dashboard's queries.
pub fn build(store: &Store, catalog: &Catalog, ctx: QueryContext) -> Result<Dashboard> {
    Ok(Dashboard {
        kpis: catalog.run(store, "dashboard.kpis", &ctx)?,
        health: catalog.run(store, "health.distribution", &ctx)?,
        alerts: catalog.run(store, "alerts.attention", &ctx)?,
        segments: catalog.run(store, "segments.summary", &ctx)?,
        context: ctx,
    })
}
