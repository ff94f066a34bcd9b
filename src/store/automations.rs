//! Automations in the store: the run history, the suppression list, and what links an outbox
//! message to its automation, customer and period (for exactly-once keys and frequency caps).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use duckdb::params;
use duckdb::types::{TimeUnit, Value};

use super::outbox::NewMessage;
use super::{ResultSet, Store};

fn ts(t: DateTime<Utc>) -> Value {
    Value::Timestamp(TimeUnit::Microsecond, t.timestamp_micros())
}

/// A run about to start.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub automation: &'a str,
    pub action: &'a str,
    pub trigger: &'a str,
    /// RFC 3339 in the automation's zone.
    pub period: String,
    pub period_at: DateTime<Utc>,
    pub as_of: NaiveDate,
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct RunEnd {
    pub status: String,
    pub audience: Option<u64>,
    pub recorded: u64,
    pub sent: u64,
    pub skipped: u64,
    pub failed: u64,
    pub detail: serde_json::Value,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// A run that started and never finished (the process died).
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub run_id: i64,
    pub automation: String,
    pub period: String,
    pub period_at: DateTime<Utc>,
    pub as_of: NaiveDate,
}

/// Which automation, customer and period an outbox message belongs to.
#[derive(Debug, Clone)]
pub struct Link {
    pub automation: String,
    pub customer_id: Option<String>,
    pub period: String,
    pub period_at: DateTime<Utc>,
    pub run_id: i64,
}

impl Store {
    /// Records that a run starts; returns its id.
    pub fn automation_run_start(&self, r: &NewRun<'_>) -> Result<i64> {
        let id: i64 = self.conn.query_row("SELECT nextval('automation_run_seq')", [], |row| row.get(0))?;
        self.conn
            .execute(
                "INSERT INTO automation_runs (run_id, automation, action, trigger, period, period_at, as_of, status, started_at)
                 VALUES (?, ?, ?, ?, ?, ?, CAST(? AS DATE), 'running', ?)",
                params![id, r.automation, r.action, r.trigger, r.period, ts(r.period_at), r.as_of.to_string(), ts(Utc::now())],
            )
            .context("cannot record the automation run")?;
        Ok(id)
    }

    /// Records how run `id` ended.
    pub fn automation_run_finish(&self, id: i64, e: &RunEnd) -> Result<()> {
        self.conn.execute(
            "UPDATE automation_runs SET status = ?, audience = ?, recorded = ?, sent = ?, skipped = ?, failed = ?,
                detail = ?, error = ?, finished_at = ?, duration_ms = ? WHERE run_id = ?",
            params![
                e.status,
                e.audience.map(|n| n as i64),
                e.recorded as i64,
                e.sent as i64,
                e.skipped as i64,
                e.failed as i64,
                e.detail.to_string(),
                e.error,
                ts(Utc::now()),
                e.duration_ms as i64,
                id
            ],
        )?;
        Ok(())
    }

    /// Runs that started and never finished: their process died.
    pub fn automation_runs_unfinished(&self) -> Result<Vec<Unfinished>> {
        let mut stmt = self.conn.prepare(
            "SELECT run_id, automation, period, epoch_us(period_at), CAST(as_of AS VARCHAR) FROM automation_runs
             WHERE status = 'running' ORDER BY run_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (run_id, automation, period, us, as_of) = row?;
            out.push(Unfinished {
                run_id,
                automation,
                period,
                period_at: DateTime::from_timestamp_micros(us).unwrap_or_default(),
                as_of: as_of.parse().unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Marks a run whose process died as interrupted (its resumed run is recorded apart).
    pub fn automation_run_interrupted(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE automation_runs SET status = 'interrupted', finished_at = ?,
                error = 'the process stopped during the run; it was resumed at the next start' WHERE run_id = ?",
            params![ts(Utc::now()), id],
        )?;
        Ok(())
    }

    /// The period of the latest run of `automation` that was not a dry run, and when it started.
    pub fn automation_last_run(&self, automation: &str) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        let found = self.conn.query_row(
            "SELECT epoch_us(period_at), epoch_us(started_at) FROM automation_runs WHERE automation = ?
             ORDER BY period_at DESC, run_id DESC LIMIT 1",
            [automation],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        );
        match found {
            Ok((p, s)) => Ok(Some((
                DateTime::from_timestamp_micros(p).unwrap_or_default(),
                DateTime::from_timestamp_micros(s).unwrap_or_default(),
            ))),
            Err(duckdb::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The run history, newest first (`automation` alone when given; `limit` 0: all).
    pub fn automation_history(&self, automation: Option<&str>, limit: usize) -> Result<ResultSet> {
        let limit = if limit == 0 { i64::MAX } else { limit as i64 };
        self.query(
            "SELECT run_id, automation, action, trigger, period, CAST(as_of AS VARCHAR) AS as_of, status, audience, recorded,
                sent, skipped, failed, duration_ms, error, detail,
                strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started_at,
                strftime(finished_at, '%Y-%m-%dT%H:%M:%SZ') AS finished_at
             FROM automation_runs WHERE $name IS NULL OR automation = $name
             ORDER BY run_id DESC LIMIT $limit",
            &[
                ("name", automation.map_or(super::Param::Null, |a| super::Param::Text(a.to_string()))),
                ("limit", super::Param::Int(limit)),
            ],
            "automation history",
        )
    }

    /// The outbox state of each of `keys` that is recorded (pending, sending, sent, failed).
    pub fn outbox_states(&self, keys: &[String]) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT key, status FROM outbox WHERE key = ANY(?::VARCHAR[])")?;
        for chunk in keys.chunks(1000) {
            let list = Value::List(chunk.iter().map(|k| Value::Text(k.clone())).collect());
            let rows = stmt.query_map([list], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (k, s) = row?;
                out.insert(k, s);
            }
        }
        Ok(out)
    }

    /// Customers among `customers` who got (or are about to get) a campaign message whose period
    /// is less than `window` away from `period_at`; only `automation`'s when given.
    pub fn capped_customers(
        &self,
        customers: &[String],
        period_at: DateTime<Utc>,
        window: std::time::Duration,
        automation: Option<&str>,
    ) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        if window.is_zero() || customers.is_empty() {
            return Ok(out);
        }
        let us = window.as_micros() as i64;
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT a.customer_id FROM outbox_automation a JOIN outbox o USING (key)
             WHERE o.kind = 'campaign' AND o.status IN ('pending', 'sending', 'sent')
               AND a.customer_id = ANY(?::VARCHAR[])
               AND abs(epoch_us(a.period_at) - ?) < ?
               AND (? IS NULL OR a.automation = ?)",
        )?;
        for chunk in customers.chunks(1000) {
            let list = Value::List(chunk.iter().map(|k| Value::Text(k.clone())).collect());
            let rows = stmt
                .query_map(params![list, period_at.timestamp_micros(), us, automation, automation], |r| {
                    r.get::<_, String>(0)
                })?;
            for row in rows {
                out.insert(row?);
            }
        }
        Ok(out)
    }

    /// Records `messages` as pending, with their links, in one transaction; keys already in the
    /// outbox are left as they are. Returns how many were new. Rows go in through DuckDB's
    /// appender: a campaign to a few thousand customers is recorded in well under a second.
    pub fn outbox_record_linked(&mut self, messages: &[(NewMessage, Link)]) -> Result<u64> {
        let keys: Vec<String> = messages.iter().map(|(m, _)| m.key.clone()).collect();
        let tx = self.conn.transaction()?;
        let mut known = HashSet::new();
        {
            let mut stmt = tx.prepare("SELECT key FROM outbox WHERE key = ANY(?::VARCHAR[])")?;
            for chunk in keys.chunks(1000) {
                let list = Value::List(chunk.iter().map(|k| Value::Text(k.clone())).collect());
                for k in stmt.query_map([list], |r| r.get::<_, String>(0))? {
                    known.insert(k?);
                }
            }
        }
        let now = ts(Utc::now());
        let mut n = 0;
        {
            let mut outbox = tx.appender("outbox")?;
            let mut links = tx.appender("outbox_automation")?;
            for (m, l) in messages {
                if !known.insert(m.key.clone()) {
                    continue;
                }
                outbox.append_row(params![
                    m.key,
                    m.kind,
                    m.recipient,
                    m.sender,
                    m.subject,
                    Value::Blob(m.payload.clone()),
                    m.message_id,
                    "pending",
                    0i64,
                    Value::Null,
                    Value::Null,
                    now.clone(),
                    now.clone(),
                    Value::Null
                ])?;
                links.append_row(params![m.key, l.automation, l.customer_id, l.period, ts(l.period_at), l.run_id])?;
                n += 1;
            }
            outbox.flush()?;
            links.flush()?;
        }
        tx.commit().context("cannot record the messages in the outbox; nothing was sent")?;
        Ok(n)
    }

    /// Adds `email` to the suppression list; false when it was there already.
    pub fn suppress(&self, email: &str, reason: &str, source: &str) -> Result<bool> {
        let email = email.trim().to_lowercase();
        let n = self.conn.execute(
            "INSERT INTO suppressions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            params![email, reason, source, ts(Utc::now())],
        )?;
        Ok(n > 0)
    }

    /// Takes `email` off the suppression list; false when it was not on it.
    pub fn unsuppress(&self, email: &str) -> Result<bool> {
        let n = self.conn.execute("DELETE FROM suppressions WHERE email = ?", [email.trim().to_lowercase()])?;
        Ok(n > 0)
    }

    /// The suppressed addresses among `emails` (lower-cased), with the reason.
    pub fn suppressed(&self, emails: &[String]) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT email, reason FROM suppressions WHERE email = ANY(?::VARCHAR[])")?;
        for chunk in emails.chunks(1000) {
            let list = Value::List(chunk.iter().map(|k| Value::Text(k.to_lowercase())).collect());
            let rows = stmt.query_map([list], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (k, s) = row?;
                out.insert(k, s);
            }
        }
        Ok(out)
    }

    /// The suppression list, newest first.
    pub fn suppressions(&self) -> Result<ResultSet> {
        self.query(
            "SELECT email, reason, source, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at
             FROM suppressions ORDER BY created_at DESC, email",
            &[],
            "suppressions",
        )
    }

    /// The customers among `ids` whose source recorded no marketing consent (`accepts_marketing`
    /// false): marketing email never goes to them.
    pub fn without_consent(&self, ids: &[String]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        let mut stmt = self.conn.prepare(
            "SELECT customer_id FROM customers WHERE accepts_marketing = false AND customer_id = ANY(?::VARCHAR[])",
        )?;
        for chunk in ids.chunks(1000) {
            let list = Value::List(chunk.iter().map(|k| Value::Text(k.clone())).collect());
            for row in stmt.query_map([list], |r| r.get::<_, String>(0))? {
                out.insert(row?);
            }
        }
        Ok(out)
    }

    /// When the newest import was committed (UTC), if any.
    pub fn newest_import(&self) -> Result<Option<DateTime<Utc>>> {
        let us: Option<i64> =
            self.conn.query_row("SELECT epoch_us(max(finished_at)) FROM import_log", [], |r| r.get(0))?;
        Ok(us.and_then(DateTime::from_timestamp_micros))
    }

    /// The newest import's and scoring run's ids, for `after` triggers.
    pub fn change_marks(&self) -> Result<(i64, i64)> {
        let imports: i64 =
            self.conn.query_row("SELECT coalesce(max(import_id), 0) FROM import_log", [], |r| r.get(0))?;
        let scores: i64 = self.conn.query_row("SELECT coalesce(max(run_id), 0) FROM score_runs", [], |r| r.get(0))?;
        Ok((imports, scores))
    }
}
