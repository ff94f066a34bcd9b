//! The score history: one run per `scudo score`, every customer's scores under it.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use duckdb::arrow::array::{ArrayRef, Date32Builder, Decimal128Builder, Float64Builder, StringBuilder};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::vtab::arrow::{ArrowBatchRegistration, ArrowVTab};

use super::value::{date_days, finite, money_units};
use super::{Param, Store, bind, sql_error, timing};
use crate::ingest::values::Money;

/// The table function that reads a registered Arrow batch (the models' rows of a run).
const MODEL_ROWS: &str = "scudo_model_rows";

fn register_model_rows(conn: &duckdb::Connection) -> Result<()> {
    match conn.register_table_function::<ArrowVTab>(MODEL_ROWS) {
        Ok(()) => Ok(()),
        // Registered by an earlier run of this connection.
        Err(e) if e.to_string().contains("already exists") => Ok(()),
        Err(e) => Err(e).context("cannot register the table function for the model scores"),
    }
}

/// The number that names a registered batch to the table function.
fn batch_token(registration: &ArrowBatchRegistration) -> Result<u64> {
    use duckdb::ToSql;
    use duckdb::types::{ToSqlOutput, Value};
    match registration.to_sql()? {
        ToSqlOutput::Owned(Value::UBigInt(token)) => Ok(token),
        other => Err(anyhow::anyhow!("unexpected token for the model scores: {other:?}")),
    }
}

/// The models' rows as one Arrow batch, in the staged columns' types: NaN and infinities NULL,
/// amounts and dates that do not fit NULL (as `store::value` writes them).
fn model_batch(rows: &[ModelRow]) -> Result<RecordBatch> {
    let n = rows.len();
    let mut customer_id = StringBuilder::with_capacity(n, n * 12);
    let mut churn_probability = Float64Builder::with_capacity(n);
    let mut churn_band = StringBuilder::new();
    let mut churn_method = StringBuilder::new();
    let mut churn_reasons = StringBuilder::new();
    let mut p_alive = Float64Builder::with_capacity(n);
    let mut expected_purchases = Float64Builder::with_capacity(n);
    let mut next_order_date = Date32Builder::with_capacity(n);
    let mut clv = Decimal128Builder::with_capacity(n).with_precision_and_scale(18, 2)?;
    let mut clv_trend = StringBuilder::new();
    for r in rows {
        customer_id.append_value(&r.customer_id);
        churn_probability.append_option(finite(r.churn_probability));
        churn_band.append_option(r.churn_band.as_deref());
        churn_method.append_option(r.churn_method.as_deref());
        churn_reasons.append_option(r.churn_reasons.as_deref());
        p_alive.append_option(finite(r.p_alive));
        expected_purchases.append_option(finite(r.expected_purchases));
        next_order_date.append_option(r.next_order_date.and_then(date_days));
        clv.append_option(r.clv_cents.and_then(|c| money_units(Money::from_cents(c))));
        clv_trend.append_option(r.clv_trend.as_deref());
    }
    let field = |name: &str, t: DataType| Field::new(name, t, true);
    let schema = Schema::new(vec![
        field("customer_id", DataType::Utf8),
        field("churn_probability", DataType::Float64),
        field("churn_band", DataType::Utf8),
        field("churn_method", DataType::Utf8),
        field("churn_reasons", DataType::Utf8),
        field("p_alive", DataType::Float64),
        field("expected_purchases", DataType::Float64),
        field("next_order_date", DataType::Date32),
        field("clv", DataType::Decimal128(18, 2)),
        field("clv_trend", DataType::Utf8),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(customer_id.finish()),
        Arc::new(churn_probability.finish()),
        Arc::new(churn_band.finish()),
        Arc::new(churn_method.finish()),
        Arc::new(churn_reasons.finish()),
        Arc::new(p_alive.finish()),
        Arc::new(expected_purchases.finish()),
        Arc::new(next_order_date.finish()),
        Arc::new(clv.finish()),
        Arc::new(clv_trend.finish()),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// What the models say about one customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelRow {
    pub customer_id: String,
    pub churn_probability: Option<f64>,
    pub churn_band: Option<String>,
    pub churn_method: Option<String>,
    pub churn_reasons: Option<String>,
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub next_order_date: Option<NaiveDate>,
    pub clv_cents: Option<i64>,
    pub clv_trend: Option<String>,
}

/// One scoring run to store.
pub struct ScoreRun<'a> {
    pub as_of: NaiveDate,
    /// The snapshot query (stage, segments, RFM) and where it came from.
    pub snapshot_sql: &'a str,
    pub origin: &'a str,
    pub params: &'a [(&'a str, Param)],
    /// Which models produced the scores, and their parameters as JSON.
    pub models: &'a str,
    pub parameters: &'a str,
}

impl Store {
    /// Stores a scoring run in one transaction: every row of the snapshot query (run with its
    /// parameters bound) and the models' `rows`. Returns the run id and the customers scored.
    pub fn record_scores(&mut self, run: &ScoreRun<'_>, rows: &[ModelRow]) -> Result<(i64, u64)> {
        let ScoreRun { as_of, snapshot_sql, origin, params, models, parameters } = *run;
        let started = std::time::Instant::now();
        register_model_rows(&self.conn)?;
        let tx = self.conn.transaction()?;
        let run_id: i64 = tx.query_row("SELECT nextval('score_run_seq')", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO score_runs (run_id, as_of, created_at, customers, models, parameters, data_version)
             VALUES (?, CAST(? AS DATE), now()::TIMESTAMP, 0, ?, ?, (SELECT max(version) FROM data_version))",
            duckdb::params![run_id, as_of.to_string(), models, parameters],
        )?;
        // The models' rows are handed to DuckDB as one Arrow batch, read in place by a table
        // function, and one INSERT joins them to the snapshot query (stage, segments, RFM).
        // (Staging them in a temp table first took 2.1 s at a million customers, most of it
        // DuckDB writing the temp table; inserting the snapshot and then updating a million rows
        // with the models' columns took 74 s.)
        let registration = ArrowBatchRegistration::new(model_batch(rows)?);
        timing("staging the model scores", started, Some(rows.len()));
        let body = snapshot_sql.trim().trim_end_matches(';');
        let sql = format!(
            "INSERT INTO customer_scores (run_id, customer_id, stage, segments, recency_score, frequency_score,
                monetary_score, rfm, rfm_group, churn_probability, churn_band, churn_method, churn_reasons, p_alive,
                expected_purchases, next_order_date, clv, clv_trend)
             SELECT $run_id, s.customer_id, s.stage, s.segments, s.recency_score, s.frequency_score,
                s.monetary_score, s.rfm, s.rfm_group, m.churn_probability, m.churn_band, m.churn_method,
                m.churn_reasons, m.p_alive, m.expected_purchases, m.next_order_date, m.clv, m.clv_trend
             FROM (\n{body}\n) s
             LEFT JOIN {MODEL_ROWS}({token}::UBIGINT) m ON m.customer_id = s.customer_id",
            // The batch's token, a number this process made (not input); table functions take constants.
            token = batch_token(&registration)?
        );
        let mut all: Vec<(&str, Param)> = params.to_vec();
        all.push(("run_id", Param::Int(run_id)));
        {
            let mut stmt = tx.prepare(super::statement(&sql).0).map_err(|e| sql_error(origin, &sql, &e))?;
            bind(&mut stmt, &all, origin)?;
            stmt.raw_execute().map_err(|e| sql_error(origin, &sql, &e))?;
        }
        drop(registration);
        timing("inserting the scores", started, None);
        // The history has no key (migration 19): a snapshot query listing a customer twice is
        // refused here, before anything is committed.
        let (scored, distinct): (i64, i64) = tx.query_row(
            "SELECT count(*), count(DISTINCT customer_id) FROM customer_scores WHERE run_id = ?",
            [run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        timing("checking the run's customers are distinct", started, None);
        if scored != distinct {
            return Err(crate::error::user(format!(
                "{origin} returns some customers more than once ({} rows too many); each customer needs one row. \
                 Nothing was stored",
                scored - distinct
            )));
        }
        tx.execute("UPDATE score_runs SET customers = ? WHERE run_id = ?", duckdb::params![scored, run_id])?;
        super::views::scores_changed(&tx)?;
        tx.commit().context("cannot commit the scores; nothing was stored")?;
        timing("storing the scores", started, None);
        Ok((run_id, u64::try_from(scored).unwrap_or(0)))
    }
}
