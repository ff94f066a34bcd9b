//! The import log: what each committed import read and did, and the earlier import of the same
//! bytes (so the same file is not imported twice).

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::types::Value;
use duckdb::{Connection, params};

use super::{ImportCounts, ImportMeta, PreviousImport};
use crate::store::Store;
use crate::store::value::ts;

impl Store {
    /// The committed import of a file with these exact bytes read with these `settings`, if any.
    /// Imports recorded before settings were kept were made with `default_settings`.
    pub fn previous_import(
        &self,
        sha256: &str,
        settings: &str,
        default_settings: &str,
    ) -> Result<Option<PreviousImport>> {
        let mut stmt = self.conn.prepare(
            "SELECT import_id, file_name, finished_at, rows_read, customers_inserted, customers_updated,
                    customers_unchanged, orders_inserted, orders_updated, orders_unchanged, rows_rejected,
                    COALESCE(products_upserted, 0), COALESCE(rows_suppressed, 0),
                    COALESCE(subscriptions_inserted, 0), COALESCE(subscriptions_updated, 0),
                    COALESCE(subscriptions_unchanged, 0)
             FROM import_log WHERE sha256 = ? AND COALESCE(settings, ?) = ?
             ORDER BY import_id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query([sha256, default_settings, settings])?;
        let Some(r) = rows.next()? else { return Ok(None) };
        let n = |i: usize| -> Result<u64> { Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0)) };
        let micros = match r.get::<_, Value>(2)? {
            Value::Timestamp(unit, v) => unit.to_micros(v),
            _ => 0,
        };
        Ok(Some(PreviousImport {
            import_id: r.get(0)?,
            file_name: r.get(1)?,
            finished_at: chrono::DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc()).unwrap_or_default(),
            counts: ImportCounts {
                import_id: Some(r.get(0)?),
                rows_read: n(3)?,
                customers_inserted: n(4)?,
                customers_updated: n(5)?,
                customers_unchanged: n(6)?,
                orders_inserted: n(7)?,
                orders_updated: n(8)?,
                orders_unchanged: n(9)?,
                rows_rejected: n(10)?,
                products_upserted: n(11)?,
                rows_suppressed: n(12)?,
                subscriptions_inserted: n(13)?,
                subscriptions_updated: n(14)?,
                subscriptions_unchanged: n(15)?,
                ..ImportCounts::default()
            },
        }))
    }
}

/// Records a finished import in `import_log`.
pub(super) fn record(
    conn: &Connection,
    meta: &ImportMeta,
    rejects_path: Option<&str>,
    import_id: i64,
    started: NaiveDateTime,
    finished: NaiveDateTime,
    counts: &ImportCounts,
) -> Result<()> {
    conn.execute(
        "INSERT INTO import_log (import_id, file_path, file_name, sha256, kind, source, started_at, finished_at,
            rows_read, customers_inserted, customers_updated, customers_unchanged, orders_inserted,
            orders_updated, orders_unchanged, rows_rejected, rejects_path, products_upserted, settings, rows_suppressed,
            subscriptions_inserted, subscriptions_updated, subscriptions_unchanged)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            import_id,
            meta.file_path,
            meta.file_name,
            meta.sha256,
            meta.kind,
            meta.source,
            ts(started),
            ts(finished),
            counts.rows_read as i64,
            counts.customers_inserted as i64,
            counts.customers_updated as i64,
            counts.customers_unchanged as i64,
            counts.orders_inserted as i64,
            counts.orders_updated as i64,
            counts.orders_unchanged as i64,
            counts.rows_rejected as i64,
            rejects_path,
            counts.products_upserted as i64,
            meta.settings,
            counts.rows_suppressed as i64,
            counts.subscriptions_inserted as i64,
            counts.subscriptions_updated as i64,
            counts.subscriptions_unchanged as i64,
        ],
    )?;
    Ok(())
}
