//! The check history: each `scudo check` run with every check's result, and the failing rows a
//! run kept (`--store-failures`).

use anyhow::{Context, Result};
use chrono::{NaiveDate, NaiveDateTime};
use duckdb::params;

use super::{ResultSet, Store};

/// One run, as recorded.
#[derive(Debug, Clone)]
pub struct RunRecord<'a> {
    pub started_at: NaiveDateTime,
    pub as_of: NaiveDate,
    pub status: &'a str,
    /// passed, warned, failed, broken, skipped.
    pub counts: [u64; 5],
    pub duration_ms: u64,
    pub selection: Option<String>,
    pub results: Vec<ResultRecord<'a>>,
}

/// One check's result in a run.
#[derive(Debug, Clone)]
pub struct ResultRecord<'a> {
    pub name: &'a str,
    pub status: &'a str,
    pub severity: &'a str,
    pub failing: Option<u64>,
    pub denominator: Option<u64>,
    pub threshold: Option<String>,
    pub message: Option<String>,
    pub duration_ms: u64,
    /// The failing rows to keep (empty without --store-failures).
    pub rows: Option<&'a ResultSet>,
}

impl Store {
    /// Records a check run in one transaction and returns its id.
    pub fn record_check_run(&mut self, run: &RunRecord<'_>) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let run_id: i64 = tx.query_row("SELECT nextval('check_run_seq')", [], |r| r.get(0))?;
        let [passed, warned, failed, broken, skipped] = run.counts.map(|n| n as i64);
        tx.execute(
            "INSERT INTO check_runs (run_id, started_at, as_of, status, checks, passed, warned, failed, broken,
                skipped, duration_ms, selection)
             VALUES (?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                run_id,
                run.started_at.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                run.as_of.to_string(),
                run.status,
                run.results.len() as i64,
                passed,
                warned,
                failed,
                broken,
                skipped,
                run.duration_ms as i64,
                run.selection
            ],
        )?;
        {
            let mut result = tx.prepare(
                "INSERT INTO check_results (run_id, name, status, severity, failing, denominator, threshold, message,
                    duration_ms, columns, stored_rows)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, string_split(?, chr(31)), ?)",
            )?;
            let mut failure = tx.prepare("INSERT INTO check_failures VALUES (?, ?, ?, string_split(?, chr(31)))")?;
            for r in &run.results {
                let stored = r.rows.map_or(0, |rs| rs.rows.len());
                let columns = r.rows.map(|rs| joined(rs.columns.iter().cloned()));
                result.execute(params![
                    run_id,
                    r.name,
                    r.status,
                    r.severity,
                    r.failing.map(|n| n as i64),
                    r.denominator.map(|n| n as i64),
                    r.threshold,
                    r.message,
                    r.duration_ms as i64,
                    columns,
                    stored as i64
                ])?;
                if let Some(rs) = r.rows {
                    for (i, row) in rs.rows.iter().enumerate() {
                        let cells = joined(row.iter().map(super::Cell::to_text));
                        failure.execute(params![run_id, r.name, i as i64 + 1, cells])?;
                    }
                }
            }
        }
        tx.commit().context("cannot record the check run")?;
        Ok(run_id)
    }

    /// The failing rows run `run_id` (default: the latest run that kept some for `name`) kept
    /// for check `name`, with the run's id; `None` when no run kept any.
    pub fn check_failures(&self, name: &str, run_id: Option<i64>) -> Result<Option<(i64, ResultSet)>> {
        let found = self.conn.query_row(
            "SELECT run_id, CAST(columns AS VARCHAR[]) FROM check_results
             WHERE name = ? AND stored_rows > 0 AND (? IS NULL OR run_id = ?)
             ORDER BY run_id DESC LIMIT 1",
            params![name, run_id, run_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, duckdb::types::Value>(1)?)),
        );
        let (run, columns) = match found {
            Ok(x) => x,
            Err(duckdb::Error::QueryReturnedNoRows) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let columns: Vec<String> = match columns {
            duckdb::types::Value::List(items) => items
                .into_iter()
                .map(|v| match v {
                    duckdb::types::Value::Text(t) => t,
                    _ => String::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut stmt =
            self.conn.prepare("SELECT cells FROM check_failures WHERE run_id = ? AND name = ? ORDER BY row_no")?;
        let mut rows = stmt.query(params![run, name])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let cells = match row.get::<_, duckdb::types::Value>(0)? {
                duckdb::types::Value::List(items) => items.into_iter().map(super::Cell::from_value).collect(),
                _ => Vec::new(),
            };
            out.push(cells);
        }
        Ok(Some((run, ResultSet { columns, rows: out })))
    }
}

/// Texts joined by the unit separator, for `string_split(?, chr(31))` (the separator itself,
/// which no export uses, becomes a space).
fn joined(items: impl Iterator<Item = String>) -> String {
    items.map(|s| s.replace('\u{1f}', " ")).collect::<Vec<_>>().join("\u{1f}")
}
