//! Exchange rates: imported in one transaction, after which every order's value in the reporting
//! currency is recomputed (store/derived.rs).

use anyhow::{Context, Result};
use duckdb::params;

use super::Store;
use super::value::date;
use crate::ingest::rates::Rate;

/// What a rates import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatesCounts {
    /// Rates read from the file (after rejects).
    pub rates: u64,
    /// Of which new (day, currency, base) pairs; the others replaced a rate already known.
    pub new: u64,
    /// Purchases without a value in the reporting currency before and after.
    pub unvalued_before: u64,
    pub unvalued_after: u64,
}

/// One currency pair's rates as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub currency: String,
    pub base: String,
    pub first_day: chrono::NaiveDate,
    pub last_day: chrono::NaiveDate,
    pub days: u64,
}

impl Store {
    /// Stores `rates` (a later file's rate for the same day and pair replaces the earlier one)
    /// and revalues every order, in one transaction.
    pub fn import_rates(&mut self, rates: &[Rate], file_name: &str) -> Result<RatesCounts> {
        let unvalued_before = self.unvalued_orders()?;
        let reporting = self.reporting().clone();
        let tx = self.conn_mut().transaction()?;
        tx.execute_batch(
            "CREATE OR REPLACE TEMP TABLE _stg_rates (day DATE, currency VARCHAR, base VARCHAR, rate DOUBLE, seq BIGINT);",
        )?;
        {
            let mut app = tx.appender_to_catalog_and_db("_stg_rates", "temp", "main")?;
            for (i, r) in rates.iter().enumerate() {
                app.append_row(params![date(r.day), r.currency, r.base, r.rate, i as i64])?;
            }
            app.flush()?;
        }
        let new: i64 = tx.query_row(
            "SELECT count(*) FROM (SELECT DISTINCT day, currency, base FROM _stg_rates) s
             WHERE NOT EXISTS (SELECT 1 FROM exchange_rates r WHERE r.day = s.day AND r.currency = s.currency AND r.base = s.base)",
            [],
            |r| r.get(0),
        )?;
        tx.execute_batch(
            "DELETE FROM exchange_rates r USING _stg_rates s WHERE r.day = s.day AND r.currency = s.currency AND r.base = s.base;",
        )?;
        tx.execute(
            "INSERT INTO exchange_rates
             SELECT day, currency, base, rate, ? FROM _stg_rates
             QUALIFY row_number() OVER (PARTITION BY day, currency, base ORDER BY seq DESC) = 1",
            params![file_name],
        )
        .context("storing the exchange rates")?;
        tx.execute_batch("DROP TABLE _stg_rates;")?;
        super::derived::bump_rates(&tx)?;
        super::derived::settle(&tx, &reporting, super::derived::Scope::All, true)?;
        tx.commit().context("cannot commit the exchange rates; the database is unchanged")?;
        Ok(RatesCounts {
            rates: rates.len() as u64,
            new: u64::try_from(new).unwrap_or(0),
            unvalued_before,
            unvalued_after: self.unvalued_orders()?,
        })
    }

    /// The rates known, per currency pair.
    pub fn rate_coverage(&self) -> Result<Vec<Coverage>> {
        let mut stmt = self.conn.prepare(
            "SELECT currency, base, CAST(min(day) AS VARCHAR), CAST(max(day) AS VARCHAR), count(*)
             FROM exchange_rates GROUP BY currency, base ORDER BY currency, base",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Coverage {
                currency: r.get(0)?,
                base: r.get(1)?,
                first_day: r.get::<_, String>(2)?.parse().unwrap_or_default(),
                last_day: r.get::<_, String>(3)?.parse().unwrap_or_default(),
                days: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
            });
        }
        Ok(out)
    }
}
