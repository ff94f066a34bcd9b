//! Subscriptions in an import: staged with the rest of the file's records, then merged by their
//! source id. A subscriptions export states each subscription's current state, so a newer export
//! replaces the row: re-importing the same rows changes nothing, and a subscription is never
//! stored twice.

use anyhow::{Context, Result};
use duckdb::types::Value;
use duckdb::{Appender, Connection, appender_params_from_iter, params};

use super::load::ImportCounts;
use super::value::{money, text, ts};
use crate::ingest::record::SubscriptionRecord;

/// The subscription columns, in table order after the id (the staged table has `seq` too).
const FIELDS: &str = "source, source_subscription_id, customer_id, status, plan, product, currency, unit_amount,
    quantity, billing_interval, interval_count, created_at, started_at, trial_start, trial_end,
    current_period_start, current_period_end, canceled_at, ended_at, cancel_at_period_end,
    cancellation_reason, coupon";

pub(super) const STAGING: &str = "
DROP TABLE IF EXISTS _stg_subscriptions; DROP TABLE IF EXISTS _m_subscriptions;
CREATE TEMP TABLE _stg_subscriptions (subscription_id VARCHAR, seq BIGINT, source VARCHAR,
    source_subscription_id VARCHAR, customer_id VARCHAR, status VARCHAR, plan VARCHAR, product VARCHAR,
    currency VARCHAR, unit_amount DECIMAL(18,2), quantity BIGINT, billing_interval VARCHAR,
    interval_count INTEGER, created_at TIMESTAMP, started_at TIMESTAMP, trial_start TIMESTAMP,
    trial_end TIMESTAMP, current_period_start TIMESTAMP, current_period_end TIMESTAMP,
    canceled_at TIMESTAMP, ended_at TIMESTAMP, cancel_at_period_end BOOLEAN,
    cancellation_reason VARCHAR, coupon VARCHAR);
";

pub(super) const DROP_STAGING: &str = "DROP TABLE IF EXISTS _stg_subscriptions; DROP TABLE IF EXISTS _m_subscriptions;";

fn opt_ts(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, ts)
}

/// Stages one subscription of customer `cid`.
pub(super) fn append(app: &mut Appender<'_>, seq: i64, source: &str, cid: &str, s: &SubscriptionRecord) -> Result<()> {
    app.append_row(appender_params_from_iter([
        Value::Text(format!("{source}:{}", s.source_subscription_id)),
        Value::BigInt(seq),
        Value::Text(source.to_string()),
        Value::Text(s.source_subscription_id.clone()),
        Value::Text(cid.to_string()),
        Value::Text(s.status.clone()),
        text(&s.plan),
        text(&s.product),
        text(&s.currency),
        money(s.unit_amount),
        Value::BigInt(s.quantity),
        Value::Text(s.interval.as_str().to_string()),
        Value::Int(i32::try_from(s.interval_count).unwrap_or(1)),
        opt_ts(s.created_at),
        ts(s.started_at),
        opt_ts(s.trial_start),
        opt_ts(s.trial_end),
        opt_ts(s.current_period_start),
        opt_ts(s.current_period_end),
        opt_ts(s.canceled_at),
        opt_ts(s.ended_at),
        s.cancel_at_period_end.map_or(Value::Null, Value::Boolean),
        text(&s.cancellation_reason),
        text(&s.coupon),
    ]))?;
    Ok(())
}

/// Merges the staged subscriptions (the last row of each id in the file wins): new ones are
/// inserted, changed ones replaced, the rest counted as unchanged.
pub(super) fn merge(conn: &Connection, import_id: i64, counts: &mut ImportCounts) -> Result<()> {
    let compared: Vec<String> =
        FIELDS.split(',').map(str::trim).map(|f| format!("s.{f} IS DISTINCT FROM t.{f}")).collect();
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE _m_subscriptions AS
         SELECT s.*, t.subscription_id IS NULL AS is_new,
                t.subscription_id IS NOT NULL AND ({changed}) AS is_changed
         FROM (SELECT * FROM _stg_subscriptions
               QUALIFY row_number() OVER (PARTITION BY subscription_id ORDER BY seq DESC) = 1) s
         LEFT JOIN subscriptions t ON t.subscription_id = s.subscription_id;",
        changed = compared.join(" OR ")
    ))
    .context("comparing subscriptions")?;
    let n = |sql: &str| -> Result<u64> {
        let v: i64 = conn.query_row(sql, [], |r| r.get(0))?;
        Ok(u64::try_from(v).unwrap_or(0))
    };
    counts.subscriptions_inserted = n("SELECT count(*) FROM _m_subscriptions WHERE is_new")?;
    counts.subscriptions_updated = n("SELECT count(*) FROM _m_subscriptions WHERE is_changed")?;
    counts.subscriptions_unchanged = n("SELECT count(*) FROM _m_subscriptions WHERE NOT is_new AND NOT is_changed")?;
    conn.execute_batch(
        "DELETE FROM subscriptions WHERE subscription_id IN (SELECT subscription_id FROM _m_subscriptions WHERE is_changed);",
    )
    .context("replacing changed subscriptions")?;
    conn.execute(
        &format!(
            "INSERT INTO subscriptions (subscription_id, {FIELDS}, import_id)
             SELECT subscription_id, {FIELDS}, ? FROM _m_subscriptions WHERE is_new OR is_changed"
        ),
        params![import_id],
    )
    .context("writing subscriptions")?;
    Ok(())
}

impl super::Store {
    /// Whether any subscription was imported (the dashboard shows MRR only then).
    pub fn has_subscriptions(&self) -> Result<bool> {
        let rs = self.query("SELECT EXISTS (SELECT 1 FROM subscriptions) AS any", &[], "subscriptions")?;
        Ok(matches!(rs.rows.first().and_then(|r| r.first()), Some(crate::store::Cell::Bool(true))))
    }
}
