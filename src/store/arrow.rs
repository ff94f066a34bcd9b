//! Query results as Arrow record batches, for columnar files (`scudo export parquet`): the
//! batches DuckDB produces, streamed, never gathered into rows; and the models' inputs as typed
//! columns ([`Columns`]).

use anyhow::{Context, Result};
use duckdb::arrow::array::{ArrayRef, AsArray};
use duckdb::arrow::compute::cast;
use duckdb::arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use duckdb::arrow::record_batch::RecordBatch;

use super::{Param, Store, bind, sql_error, statement, timing};

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

/// A query's result as typed columns, read through Arrow rather than one value at a time (a
/// million rows of `models/summary.sql` or `models/features.sql` cost seconds as cells).
pub struct Columns {
    names: Vec<String>,
    batches: Vec<RecordBatch>,
}

impl Columns {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn column(&self, name: &str, to: &DataType, origin: &str) -> Result<Vec<ArrayRef>> {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| crate::error::user(format!("{origin} must return a `{name}` column")))?;
        self.batches
            .iter()
            .map(|b| cast(b.column(i), to).with_context(|| format!("{origin}: column `{name}` is not a {to}")))
            .collect()
    }

    /// Column `name` as numbers (NULL as `None`).
    pub fn floats(&self, name: &str, origin: &str) -> Result<Vec<Option<f64>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.column(name, &DataType::Float64, origin)? {
            out.extend(a.as_primitive::<Float64Type>().iter());
        }
        Ok(out)
    }

    /// Column `name` as whole numbers (NULL as `None`).
    pub fn ints(&self, name: &str, origin: &str) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.column(name, &DataType::Int64, origin)? {
            out.extend(a.as_primitive::<Int64Type>().iter());
        }
        Ok(out)
    }

    /// Column `name` as text (NULL as the empty string).
    pub fn texts(&self, name: &str, origin: &str) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.column(name, &DataType::Utf8, origin)? {
            out.extend(a.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()));
        }
        Ok(out)
    }
}

impl Store {
    /// Runs one statement with its named parameters bound (as [`Store::query`] does) and keeps the
    /// result as Arrow batches.
    pub fn query_columns(&self, sql: &str, params: &[(&str, Param)], origin: &str) -> Result<Columns> {
        let started = std::time::Instant::now();
        let mut stmt = self.conn.prepare(statement(sql).0).map_err(|e| sql_error(origin, sql, &e))?;
        bind(&mut stmt, params, origin)?;
        stmt.raw_execute().map_err(|e| sql_error(origin, sql, &e))?;
        let names = stmt.column_names();
        let mut batches = Vec::new();
        while let Some(array) = stmt.step().map_err(|e| sql_error(origin, sql, &e))? {
            batches.push(RecordBatch::from(&array));
        }
        let columns = Columns { names, batches };
        timing(origin, started, Some(columns.len()));
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed columns hold what the cells would: numbers of any numeric type, NULLs, text, over
    /// several batches, with the named parameters bound.
    #[test]
    fn columns_read_typed_values_across_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&dir.path().join("t.duckdb")).unwrap();
        let sql = "-- a header comment\nSELECT 'c' || i AS customer_id, i::BIGINT AS n, \
                   CASE WHEN i % 3 = 0 THEN NULL ELSE i / $div END AS x, (i * 0.25)::DECIMAL(18,2) AS d \
                   FROM range(5000) t(i) ORDER BY i";
        let cols = store.query_columns(sql, &[("div", Param::Float(2.0))], "test").unwrap();
        assert_eq!(cols.len(), 5000);
        let ids = cols.texts("customer_id", "test").unwrap();
        let (n, x, d) =
            (cols.ints("n", "test").unwrap(), cols.floats("x", "test").unwrap(), cols.floats("d", "test").unwrap());
        assert_eq!((ids[4999].as_str(), n[4999], d[4999]), ("c4999", Some(4999), Some(1249.75)));
        assert_eq!((x[3], x[4]), (None, Some(2.0)));
        assert_eq!(n.iter().flatten().sum::<i64>(), 4999 * 5000 / 2);
        let missing = cols.floats("m", "models.summary").unwrap_err().to_string();
        assert!(missing.contains("models.summary must return a `m` column"), "{missing}");
    }
}
