//! What the workspace's settings derive from the imported rows: each order's local time in the
//! shop's time zone (`orders.local_at`), its value in the reporting currency with the rate used
//! (`orders.value`, `orders.value_rate`; NULL when no rate is known), and the summaries built on
//! them. scudo_meta records the zone, the currency and the exchange-rate generation they were
//! computed for; when a setting changes they are recomputed once, in one transaction.

use anyhow::{Context, Result};
use chrono_tz::Tz;
use duckdb::{Connection, params};

use super::Store;
use super::calendar;
use super::value::ts;

/// The reporting settings of a workspace: its currency (an ISO code, or `AUTO` for the currency
/// most orders are in) and its time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Reporting {
    pub currency: String,
    pub timezone: Tz,
    /// The zone is "auto": an import computes its dates in the zone the stated offsets of the
    /// orders point to (see [`zone_for_import`]), and `scudo ingest` then writes that zone down.
    pub guess_zone: bool,
}

impl Default for Reporting {
    fn default() -> Self {
        Reporting { currency: "AUTO".to_string(), timezone: Tz::UTC, guess_zone: false }
    }
}

impl Reporting {
    pub fn new(currency: &str, timezone: Tz) -> Reporting {
        Reporting { currency: currency.trim().to_uppercase(), timezone, guess_zone: false }
    }

    /// The same settings with the zone still to be guessed ("auto"; `timezone` is UTC meanwhile).
    pub fn guessing_zone(self) -> Reporting {
        Reporting { guess_zone: true, ..self }
    }
}

/// The rows derived values are computed for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    /// Every order.
    All,
    /// The orders an import wrote.
    Import(i64),
}

impl Scope {
    fn import(self) -> Option<i64> {
        match self {
            Scope::All => None,
            Scope::Import(id) => Some(id),
        }
    }
}

fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare("SELECT value FROM scudo_meta WHERE key = ?")?;
    let mut rows = stmt.query([key])?;
    Ok(match rows.next()? {
        Some(r) => Some(r.get(0)?),
        None => None,
    })
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute("INSERT OR REPLACE INTO scudo_meta VALUES (?, ?)", params![key, value])?;
    Ok(())
}

/// The currency values are computed in: the configured one, or the one most orders are in —
/// counted from the orders when `exact` (while writing), else read from order_currencies, which
/// every write rebuilds last (one row per currency: free on every command).
fn resolve_currency(conn: &Connection, configured: &str, exact: bool) -> Result<String> {
    if configured != "AUTO" {
        return Ok(configured.to_string());
    }
    let sql = if exact {
        "SELECT currency FROM orders WHERE currency IS NOT NULL GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1"
    } else {
        "SELECT currency FROM order_currencies WHERE currency IS NOT NULL ORDER BY orders DESC, currency LIMIT 1"
    };
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    Ok(match rows.next()? {
        Some(r) => r.get(0)?,
        None => "USD".to_string(),
    })
}

/// The exchange rates' generation: bumped by every `scudo rates import`.
fn rates_generation(conn: &Connection) -> Result<String> {
    Ok(meta(conn, "rates_generation")?.unwrap_or_else(|| "0".to_string()))
}

pub(super) fn bump_rates(conn: &Connection) -> Result<()> {
    let n: i64 = rates_generation(conn)?.parse().unwrap_or(0);
    set_meta(conn, "rates_generation", &(n + 1).to_string())
}

/// What the derived values were computed for, against what `r` asks for now.
struct Freshness {
    /// The time zone changed: every local time (and so every rate's day) is out of date.
    zone: bool,
    /// The reporting currency or the exchange rates changed: every value is out of date.
    values: bool,
    currency: String,
    rates: String,
}

/// Compares scudo_meta with `r`; `exact` resolves "auto" from the orders (while writing).
fn freshness(conn: &Connection, r: &Reporting, exact: bool) -> Result<Freshness> {
    let zone = meta(conn, "timezone")?.as_deref() != Some(r.timezone.name());
    let currency = resolve_currency(conn, &r.currency, exact)?;
    let rates = rates_generation(conn)?;
    let values = meta(conn, "values_currency")?.as_deref() != Some(currency.as_str())
        || meta(conn, "values_rates")?.as_deref() != Some(rates.as_str());
    Ok(Freshness { zone, values, currency, rates })
}

/// Whether the derived values are out of date for `r` (a setting changed since they were made).
pub(super) fn stale(conn: &Connection, r: &Reporting) -> Result<bool> {
    let f = freshness(conn, r, false)?;
    Ok(f.zone || f.values)
}

/// Brings the derived values up to date for `r` inside the caller's transaction: everything when
/// a setting changed, else the orders of `scope`. Rebuilds the summaries when `summarise`.
pub(super) fn settle(conn: &Connection, r: &Reporting, scope: Scope, summarise: bool) -> Result<bool> {
    let started = std::time::Instant::now();
    super::views::data_changed(conn)?;
    let f = freshness(conn, r, true)?;
    if f.zone {
        write_zone(conn, r.timezone)?;
    }
    local_times(conn, if f.zone { Scope::All } else { scope })?;
    super::timing("deriving local times", started, None);
    let everything = f.zone || f.values;
    values(conn, &f.currency, if everything { Scope::All } else { scope })?;
    set_meta(conn, "values_currency", &f.currency)?;
    set_meta(conn, "values_rates", &f.rates)?;
    super::timing("deriving values in the reporting currency", started, None);
    if summarise || everything {
        super::upkeep::summary(conn, super::upkeep::Scope::All)?;
        super::timing("refreshing the customer summary", started, None);
    }
    Ok(everything)
}

/// The settings an import computes its orders' dates and values in: `r`, or while the zone is
/// "auto" the zone the stated offsets of the orders in the database (this import's included)
/// point to. Without it a first import would compute every local time and value in UTC, and
/// again once `scudo ingest` had guessed the zone after the files (15 s at 1M orders).
pub(super) fn zone_for_import(conn: &Connection, r: &Reporting) -> Result<Reporting> {
    if !r.guess_zone {
        return Ok(r.clone());
    }
    Ok(match calendar::guess(&stated_offsets(conn)?) {
        Some((tz, _)) => Reporting { timezone: tz, ..r.clone() },
        None => r.clone(),
    })
}

/// UTC instants with the offset the export stated beside them (one per day and offset, at most
/// a few thousand): what the shop's time zone is guessed from.
fn stated_offsets(conn: &Connection) -> Result<Vec<(chrono::NaiveDateTime, i32)>> {
    let mut stmt = conn.prepare(
        "SELECT CAST(min(ordered_at) AS VARCHAR), utc_offset_minutes FROM orders
         WHERE utc_offset_minutes IS NOT NULL
         GROUP BY CAST(ordered_at AS DATE), utc_offset_minutes
         ORDER BY 1 LIMIT 5000",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let at: String = r.get(0)?;
        let minutes: i32 = r.get(1)?;
        let parsed = chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M:%S"));
        if let Ok(t) = parsed {
            out.push((t, minutes));
        }
    }
    Ok(out)
}

fn write_zone(conn: &Connection, tz: Tz) -> Result<()> {
    conn.execute_batch("DELETE FROM tz_offsets")?;
    let all = calendar::transitions(tz);
    let mut app = conn.appender("tz_offsets")?;
    for (from, minutes) in &all {
        if let Some(t) = from {
            app.append_row(params![ts(*t), minutes])?;
        }
    }
    app.flush()?;
    drop(app);
    let first = all.first().map_or(0, |(_, m)| *m);
    conn.execute("INSERT INTO tz_offsets VALUES ('-infinity'::TIMESTAMP, ?)", params![first])?;
    set_meta(conn, "timezone", tz.name())
}

const LOCAL_TIMES: &str = "
UPDATE orders SET local_at = v.local_at
FROM (
    SELECT o.order_id, o.ordered_at + to_minutes(z.offset_minutes) AS local_at
    FROM orders o ASOF JOIN tz_offsets z ON o.ordered_at >= z.utc_from
    WHERE CAST($1 AS BIGINT) IS NULL OR o.import_id = CAST($1 AS BIGINT)
) v
WHERE orders.order_id = v.order_id AND orders.local_at IS DISTINCT FROM v.local_at
  -- The scope again, on the table updated: without it every order's id is read for the join.
  AND (CAST($1 AS BIGINT) IS NULL OR orders.import_id = CAST($1 AS BIGINT))";

fn local_times(conn: &Connection, scope: Scope) -> Result<()> {
    conn.execute(LOCAL_TIMES, params![scope.import()]).context("deriving the orders' local times")?;
    Ok(())
}

/// The rate of each (currency, local day) the orders in scope need, into the reporting currency:
/// a direct rate, else the inverse of one, else a cross rate through a common base (the ECB's
/// euro); the latest on or before the day, and at most 31 days older than it.
const RATES_NEEDED: &str = "
CREATE OR REPLACE TEMP TABLE _fx AS
WITH need AS (
    SELECT DISTINCT currency, CAST(local_at AS DATE) AS day
    FROM orders
    WHERE currency IS NOT NULL AND currency <> $1 AND converted_currency IS DISTINCT FROM $1
      AND (CAST($2 AS BIGINT) IS NULL OR import_id = CAST($2 AS BIGINT))
),
direct AS (
    SELECT n.currency, n.day, r.rate, r.day AS rate_day, 1 AS path
    FROM need n ASOF JOIN exchange_rates r ON r.currency = n.currency AND r.base = $1 AND n.day >= r.day
),
inverse AS (
    SELECT n.currency, n.day, 1.0 / r.rate AS rate, r.day AS rate_day, 2 AS path
    FROM need n ASOF JOIN exchange_rates r ON r.base = n.currency AND r.currency = $1 AND n.day >= r.day
),
via AS (
    SELECT n.currency, n.day, b.base
    FROM need n, (SELECT DISTINCT base FROM exchange_rates) b
    WHERE b.base <> n.currency AND b.base <> $1
),
from_side AS (
    SELECT v.currency, v.day, v.base, a.rate, a.day AS rate_day
    FROM via v ASOF JOIN exchange_rates a ON a.currency = v.currency AND a.base = v.base AND v.day >= a.day
),
crossed AS (
    SELECT f.currency, f.day, f.rate / c.rate AS rate, least(f.rate_day, c.day) AS rate_day, 3 AS path
    FROM from_side f ASOF JOIN exchange_rates c ON c.currency = $1 AND c.base = f.base AND f.day >= c.day
),
candidates AS (
    SELECT * FROM direct UNION ALL SELECT * FROM inverse UNION ALL SELECT * FROM crossed
)
SELECT currency, day, arg_min(rate, path * 100000 + date_diff('day', rate_day, day)) AS rate
FROM candidates
WHERE rate > 0 AND date_diff('day', rate_day, day) <= 31
GROUP BY currency, day";

const VALUES: &str = "
UPDATE orders SET value = v.value, value_rate = v.rate
FROM (
    SELECT o.order_id,
        CASE WHEN COALESCE(o.currency, $1) = $1 THEN 1.0
             WHEN o.converted_currency = $1 THEN CAST(o.converted_total AS DOUBLE) / NULLIF(CAST(o.total AS DOUBLE), 0)
             ELSE f.rate END AS rate,
        CAST(CASE WHEN COALESCE(o.currency, $1) = $1 THEN o.net_total
             WHEN o.converted_currency = $1 THEN o.converted_total - COALESCE(o.converted_refunded, 0)
             ELSE round(CAST(o.net_total AS DOUBLE) * f.rate, 2) END AS DECIMAL(18,2)) AS value
    FROM orders o LEFT JOIN _fx f ON f.currency = o.currency AND f.day = CAST(o.local_at AS DATE)
    WHERE CAST($2 AS BIGINT) IS NULL OR o.import_id = CAST($2 AS BIGINT)
) v
WHERE orders.order_id = v.order_id
  AND (orders.value IS DISTINCT FROM v.value OR orders.value_rate IS DISTINCT FROM v.rate)
  AND (CAST($2 AS BIGINT) IS NULL OR orders.import_id = CAST($2 AS BIGINT))";

fn values(conn: &Connection, currency: &str, scope: Scope) -> Result<()> {
    conn.execute(RATES_NEEDED, params![currency, scope.import()]).context("finding exchange rates")?;
    conn.execute(VALUES, params![currency, scope.import()]).context("valuing orders in the reporting currency")?;
    conn.execute_batch("DROP TABLE IF EXISTS _fx")?;
    Ok(())
}

impl Store {
    /// The reporting currency and time zone every command computes in (set once the workspace's
    /// settings are known; the default is the most common currency and UTC).
    pub fn set_reporting(&mut self, r: Reporting) {
        self.reporting = r;
    }

    pub fn reporting(&self) -> &Reporting {
        &self.reporting
    }

    /// Whether a setting changed since the derived values were computed.
    pub fn is_stale(&self) -> Result<bool> {
        stale(&self.conn, &self.reporting)
    }

    /// Recomputes the derived values when a setting changed; returns whether it did.
    pub fn settle(&mut self) -> Result<bool> {
        if !self.is_stale()? {
            return Ok(false);
        }
        let r = self.reporting.clone();
        let tx = self.conn.transaction()?;
        settle(&tx, &r, Scope::All, true)?;
        tx.commit().context("cannot commit the recomputed values; the database is unchanged")?;
        Ok(true)
    }

    /// UTC instants with the offset the export stated beside them: what the shop's time zone is
    /// guessed from.
    pub fn stated_offsets(&self) -> Result<Vec<(chrono::NaiveDateTime, i32)>> {
        stated_offsets(&self.conn)
    }

    /// How many orders have no value in the reporting currency (no exchange rate known).
    pub fn unvalued_orders(&self) -> Result<u64> {
        let n: Option<i64> =
            self.conn.query_row("SELECT sum(unvalued)::BIGINT FROM order_currencies", [], |r| r.get(0))?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// The currency values are computed in (after [`Store::settle`]).
    pub fn values_currency(&self) -> Result<String> {
        Ok(meta(&self.conn, "values_currency")?.unwrap_or_else(|| "USD".to_string()))
    }
}
