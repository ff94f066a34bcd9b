//! The score history: one run per `scudo score`, every customer's scores under it.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use duckdb::types::Value;

use super::value::{date, float, opt_money, text};
use super::{Param, Store, bind, sql_error, timing};
use crate::ingest::values::Money;

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
        let tx = self.conn.transaction()?;
        let run_id: i64 = tx.query_row("SELECT nextval('score_run_seq')", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO score_runs (run_id, as_of, created_at, customers, models, parameters, data_version)
             VALUES (?, CAST(? AS DATE), now()::TIMESTAMP, 0, ?, ?, (SELECT max(version) FROM data_version))",
            duckdb::params![run_id, as_of.to_string(), models, parameters],
        )?;
        // The models' rows go to a temp table first; then one INSERT joins them to the snapshot
        // query (stage, segments, RFM). (Inserting the snapshot and then updating a million rows
        // with the models' columns took 74 s at a million customers.)
        tx.execute_batch(
            "DROP TABLE IF EXISTS temp._model_scores;
             CREATE TEMP TABLE _model_scores (customer_id VARCHAR, churn_probability DOUBLE, churn_band VARCHAR,
                churn_method VARCHAR, churn_reasons VARCHAR, p_alive DOUBLE, expected_purchases DOUBLE,
                next_order_date DATE, clv DECIMAL(18,2), clv_trend VARCHAR);",
        )?;
        {
            use super::stage::{Kind, Stage};
            let mut stage = Stage::new(
                tx.appender_to_catalog_and_db("_model_scores", "temp", "main")?,
                &[
                    Kind::Text,
                    Kind::Double,
                    Kind::Text,
                    Kind::Text,
                    Kind::Text,
                    Kind::Double,
                    Kind::Double,
                    Kind::Date,
                    Kind::Money,
                    Kind::Text,
                ],
            );
            for r in rows {
                stage.append(vec![
                    Value::Text(r.customer_id.clone()),
                    float(r.churn_probability),
                    text(&r.churn_band),
                    text(&r.churn_method),
                    text(&r.churn_reasons),
                    float(r.p_alive),
                    float(r.expected_purchases),
                    r.next_order_date.map_or(Value::Null, date),
                    opt_money(r.clv_cents.map(Money::from_cents)),
                    text(&r.clv_trend),
                ])?;
            }
            stage.flush()?;
        }
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
             LEFT JOIN temp._model_scores m ON m.customer_id = s.customer_id"
        );
        let mut all: Vec<(&str, Param)> = params.to_vec();
        all.push(("run_id", Param::Int(run_id)));
        {
            let mut stmt = tx.prepare(super::statement(&sql).0).map_err(|e| sql_error(origin, &sql, &e))?;
            bind(&mut stmt, &all, origin)?;
            stmt.raw_execute().map_err(|e| sql_error(origin, &sql, &e))?;
        }
        timing("inserting the scores", started, None);
        tx.execute_batch("DROP TABLE temp._model_scores;")?;
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
