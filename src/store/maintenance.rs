//! Keeping a workspace healthy: consistent snapshots (backup and restore), row counts, orphans,
//! score-history retention and checkpoints (docs/operations.md).

use std::path::Path;

use anyhow::{Context, Result};

use super::{Param, Store};

/// Rows that point at something that is not there: (what, SQL counting them, what to do).
pub const ORPHANS: &[(&str, &str, &str)] = &[
    (
        "orders without a customer",
        "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)",
        "import the customers' export again (`scudo ingest --force FILE`), or report it: imports never write these",
    ),
    (
        "line items without an order",
        "SELECT count(*) FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = i.order_id)",
        "`scudo doctor --fix` removes them",
    ),
    (
        "source records without a customer",
        "SELECT count(*) FROM customer_sources s WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = s.customer_id)",
        "`scudo doctor --fix` removes them",
    ),
    (
        "segment memberships without a customer",
        "SELECT count(*) FROM segment_members m WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = m.customer_id)",
        "`scudo doctor --fix` removes them",
    ),
    (
        "scores without a scoring run",
        "SELECT count(*) FROM customer_scores s WHERE NOT EXISTS (SELECT 1 FROM score_runs r WHERE r.run_id = s.run_id)",
        "`scudo doctor --fix` removes them",
    ),
];

/// Orphans `doctor --fix` removes (the ones whose advice says so).
const FIX_ORPHANS: &[&str] = &[
    "DELETE FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = i.order_id)",
    "DELETE FROM customer_sources s WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = s.customer_id)",
    "DELETE FROM segment_members m WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = m.customer_id)",
    "DELETE FROM customer_scores s WHERE NOT EXISTS (SELECT 1 FROM score_runs r WHERE r.run_id = s.run_id)",
];

/// How long score history is kept at full detail (`[retention]` in scudo.toml).
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Every day's latest run is kept this many days back from the latest run's as-of date.
    pub daily_days: i64,
    /// Then each week's latest run, up to this many days back; then each month's.
    pub weekly_days: i64,
}

/// Runs kept by the retention rule: the latest run of each day, then of each week, then of each month.
const RETENTION_KEEP: &str = "
    WITH latest AS (SELECT max(as_of) AS m FROM score_runs),
    aged AS (SELECT run_id, as_of, date_diff('day', as_of, m) AS age FROM score_runs, latest),
    bucketed AS (
        SELECT run_id, CASE
            WHEN age <= $daily THEN 'd' || CAST(as_of AS VARCHAR)
            WHEN age <= $weekly THEN 'w' || CAST(date_trunc('week', as_of) AS VARCHAR)
            ELSE 'm' || CAST(date_trunc('month', as_of) AS VARCHAR) END AS bucket
        FROM aged)
    SELECT max(run_id) AS run_id FROM bucketed GROUP BY bucket";

impl Store {
    /// Copies the whole database, consistently (one transaction), into a new DuckDB file `to`
    /// (`COPY FROM DATABASE`: tables, sequences at their values, indexes, no extension needed).
    pub fn snapshot_to(&self, to: &Path) -> Result<()> {
        if to.exists() {
            anyhow::bail!("{} exists already", to.display());
        }
        let me: String = self.conn.query_row("SELECT current_database()", [], |r| r.get(0))?;
        // ATTACH takes no parameters: the path is quoted as a SQL string, the name as an identifier.
        let file = to.display().to_string().replace('\'', "''");
        let me = me.replace('"', "\"\"");
        self.conn
            .execute_batch(&format!(
                "ATTACH '{file}' AS _scudo_snapshot{options}; COPY FROM DATABASE \"{me}\" TO _scudo_snapshot; DETACH _scudo_snapshot;",
                // An encrypted workspace's copy is encrypted with the same key.
                options = super::crypto::attach_options(self.key.as_ref())
            ))
            .map_err(|e| anyhow::anyhow!(self.redact(&e.to_string())))
            .with_context(|| format!("cannot copy the database to {}", to.display()))?;
        Ok(())
    }

    /// Copies the database file, consistently: this connection holds the write lock (no other
    /// process can change the file), checkpoints (every commit is in the file, the journal is
    /// empty), and copies the bytes while it issues nothing. About as fast as the disk; deleted
    /// rows' old bytes come along (see [`Store::snapshot_to`] for a rewritten copy).
    pub fn copy_file_to(&self, to: &Path) -> Result<()> {
        if to.exists() {
            anyhow::bail!("{} exists already", to.display());
        }
        self.checkpoint()?;
        std::fs::copy(&self.path, to).with_context(|| format!("cannot copy the database to {}", to.display()))?;
        Ok(())
    }

    /// Every table of the database (not temporary) with its row count, by name.
    pub fn row_counts(&self) -> Result<Vec<(String, u64)>> {
        let rs = self.query(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database()
             ORDER BY table_name",
            &[],
            "row counts",
        )?;
        let mut out = Vec::new();
        for r in &rs.rows {
            let name = r[0].to_text();
            if let Some(n) = self.table_rows(&name)? {
                out.push((name, n));
            }
        }
        Ok(out)
    }

    /// The orphans found: (what, how many, what to do), only those with rows.
    pub fn orphans(&self) -> Result<Vec<(&'static str, u64, &'static str)>> {
        let mut out = Vec::new();
        for (what, sql, todo) in ORPHANS {
            let n: i64 = self.conn.query_row(sql, [], |r| r.get(0))?;
            if n > 0 {
                out.push((*what, n as u64, *todo));
            }
        }
        Ok(out)
    }

    /// Removes the orphans `doctor` says `--fix` removes; returns how many rows went.
    pub fn fix_orphans(&mut self) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for sql in FIX_ORPHANS {
            n += tx.execute(sql, [])? as u64;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Score runs (and their customers' scores) the retention rule would drop: (runs, score rows).
    pub fn retention_due(&self, r: Retention) -> Result<(u64, u64)> {
        let p = [("daily", Param::Int(r.daily_days)), ("weekly", Param::Int(r.weekly_days.max(r.daily_days)))];
        let rs = self.query(
            &format!(
                "SELECT count(*) AS runs, COALESCE(sum((SELECT count(*) FROM customer_scores s WHERE s.run_id = r.run_id)), 0)::BIGINT AS rows
                 FROM score_runs r WHERE run_id NOT IN ({RETENTION_KEEP})"
            ),
            &p,
            "retention",
        )?;
        let row = &rs.rows[0];
        Ok((row[0].as_i64().unwrap_or(0) as u64, row[1].as_i64().unwrap_or(0) as u64))
    }

    /// Applies the retention rule in one transaction and checkpoints when anything went.
    pub fn apply_retention(&mut self, r: Retention) -> Result<(u64, u64)> {
        let due = self.retention_due(r)?;
        if due.0 == 0 {
            return Ok(due);
        }
        let keep = RETENTION_KEEP
            .replace("$daily", &r.daily_days.to_string())
            .replace("$weekly", &r.weekly_days.max(r.daily_days).to_string());
        let tx = self.conn.transaction()?;
        tx.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE _keep_runs AS {keep};
             DELETE FROM customer_scores WHERE run_id NOT IN (SELECT run_id FROM _keep_runs);
             DELETE FROM score_runs WHERE run_id NOT IN (SELECT run_id FROM _keep_runs);
             DROP TABLE _keep_runs;"
        ))?;
        super::views::scores_changed(&tx)?;
        tx.commit().context("cannot commit the score-history retention")?;
        self.checkpoint()?;
        Ok(due)
    }

    /// Writes the journal into the database file and lets DuckDB reuse the space freed by deletions.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.execute_batch("CHECKPOINT").context("checkpoint failed")?;
        Ok(())
    }
}
