//! Query results as Arrow record batches, for columnar files (`scudo export parquet`): the
//! batches DuckDB produces, streamed, never gathered into rows.

use anyhow::{Context, Result};
use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;

use super::Store;

impl Store {
    /// Runs `sql` with positional `args` (`?`) bound and hands each batch to `each`; returns the
    /// result's schema (also when there are no rows).
    pub fn arrow_each(
        &self,
        sql: &str,
        args: &[&str],
        origin: &str,
        mut each: impl FnMut(&SchemaRef, RecordBatch) -> Result<()>,
    ) -> Result<SchemaRef> {
        let mut stmt = self.conn.prepare(sql).with_context(|| format!("{origin}: cannot prepare"))?;
        let params: Vec<&dyn duckdb::ToSql> = args.iter().map(|a| a as &dyn duckdb::ToSql).collect();
        let batches = stmt.query_arrow(params.as_slice()).with_context(|| format!("{origin}: cannot read"))?;
        let schema = batches.get_schema();
        for batch in batches {
            each(&schema, batch)?;
        }
        Ok(schema)
    }
}
