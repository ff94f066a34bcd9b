//! What interactive commands read instead of recomputing: the data version and the dashboard
//! cache (migration 20, docs/data-model.md "data_version and dashboard_cache").
//!
//! Every change to customers, orders or what is derived from them calls [`data_changed`] in its
//! own transaction: the version goes up and the cached dashboards go. A scoring run calls
//! [`scores_changed`] (the dashboard's alerts show the latest run's churn) and records the version
//! it scored, so a Customer 360 on the run's date may read RFM from the run.

use anyhow::{Context, Result};
use duckdb::Connection;

use super::{Param, Store};

/// Customers, orders or derived values changed in this transaction.
pub(super) fn data_changed(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "UPDATE data_version SET version = version + 1, changed_at = now()::TIMESTAMP;
         DELETE FROM dashboard_cache;",
    )
    .context("noting the change for the maintained views")?;
    Ok(())
}

/// A scoring run was stored (or runs were removed) in this transaction.
pub(super) fn scores_changed(conn: &Connection) -> Result<()> {
    conn.execute_batch("DELETE FROM dashboard_cache;").context("noting the change for the maintained views")?;
    Ok(())
}

impl Store {
    /// The dashboard stored under `key` (a date, the settings and the query files), if nothing
    /// has changed since it was computed.
    pub fn cached_dashboard(&self, key: &str) -> Result<Option<String>> {
        let rs = self.query(
            "SELECT payload FROM dashboard_cache WHERE key = $key",
            &[("key", Param::Text(key.to_string()))],
            "the dashboard cache",
        )?;
        Ok(rs.rows.first().and_then(|r| r.first()).map(|c| c.to_text()))
    }

    /// Stores a dashboard under `key`, replacing what was there.
    pub fn keep_dashboard(&mut self, key: &str, as_of: chrono::NaiveDate, payload: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM dashboard_cache WHERE key = ?", [key])?;
        tx.execute(
            "INSERT INTO dashboard_cache VALUES (?, CAST(? AS DATE), now()::TIMESTAMP, ?)",
            duckdb::params![key, as_of.to_string(), payload],
        )?;
        tx.commit().context("cannot store the dashboard cache")?;
        Ok(())
    }
}
