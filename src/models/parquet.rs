//! The models' statistics read from Parquet, as examples/spark/job.py writes them next to its
//! query results: `models.grouped` (x, t_x, T, customers) for the purchase models,
//! `models.summary` (x, m per customer) for Gamma-Gamma, and `models.customers` (the statistics
//! with the churn features) streamed through the scoring formulas. Read with the Rust `parquet`
//! crate, batch by batch and only the columns asked for: no DuckDB, no workspace.

use std::fs::File;
use std::path::{Path, PathBuf};

use ::parquet::arrow::ProjectionMask;
use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use anyhow::{Context, Result};
use duckdb::arrow::array::{Array, ArrayRef, AsArray};
use duckdb::arrow::compute::cast;
use duckdb::arrow::datatypes::{DataType, Float64Type, Int64Type};

use super::churn::Features;
use super::{Grouped, Summary};
use crate::error::user;

/// What a column is read as (Spark's integers, longs and doubles are cast to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Float,
    Int,
    Text,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Float => DataType::Float64,
            Kind::Int => DataType::Int64,
            Kind::Text => DataType::Utf8,
        }
    }
}

/// One batch of rows: the asked-for columns, in the order asked, cast to their [`Kind`].
pub struct Batch {
    columns: Vec<ArrayRef>,
    pub rows: usize,
}

impl Batch {
    pub fn float(&self, column: usize, row: usize) -> Option<f64> {
        let a = self.columns[column].as_primitive::<Float64Type>();
        a.is_valid(row).then(|| a.value(row))
    }

    pub fn int(&self, column: usize, row: usize) -> Option<i64> {
        let a = self.columns[column].as_primitive::<Int64Type>();
        a.is_valid(row).then(|| a.value(row))
    }

    pub fn text(&self, column: usize, row: usize) -> Option<&str> {
        let a = self.columns[column].as_string::<i32>();
        a.is_valid(row).then(|| a.value(row))
    }
}

/// The Parquet files of a result folder, in name order: Spark's `part-*.parquet` (its `_SUCCESS`
/// and `.crc` files are not data), or one file given directly.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        user(format!("cannot read {}: {e}; run examples/spark/job.py first (docs/scale-out.md)", dir.display()))
    })?;
    let mut files = Vec::new();
    for e in entries {
        let path = e.with_context(|| format!("cannot read {}", dir.display()))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if path.is_file() && name.ends_with(".parquet") && !name.starts_with(['_', '.']) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(user(format!("{} holds no .parquet file", dir.display())));
    }
    Ok(files)
}

/// Calls `each` with every batch of `dir`'s rows, reading only `columns`; returns the rows read.
pub fn for_each_batch(dir: &Path, columns: &[(&str, Kind)], mut each: impl FnMut(&Batch) -> Result<()>) -> Result<u64> {
    let mut rows = 0u64;
    for path in files(dir)? {
        let shown = path.display().to_string();
        let file = File::open(&path).with_context(|| format!("cannot open {shown}"))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| user(format!("{shown}: not a Parquet file this build reads: {e}")))?;
        let schema = builder.schema().clone();
        let mut indices = Vec::new();
        for (name, _) in columns {
            let i = schema.index_of(name).map_err(|_| {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                user(format!("{shown}: no column `{name}` (it has {})", have.join(", ")))
            })?;
            indices.push(i);
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
        let reader =
            builder.with_projection(mask).with_batch_size(65_536).build().map_err(|e| user(format!("{shown}: {e}")))?;
        for batch in reader {
            let batch = batch.map_err(|e| user(format!("{shown}: {e}")))?;
            let mut cols = Vec::with_capacity(columns.len());
            for (name, kind) in columns {
                let col = batch.column_by_name(name).expect("projected above");
                cols.push(cast(col, &kind.data_type()).map_err(|e| {
                    user(format!("{shown}: column `{name}` ({}) cannot be read as {kind:?}: {e}", col.data_type()))
                })?);
            }
            let b = Batch { columns: cols, rows: batch.num_rows() };
            each(&b)?;
            rows += b.rows as u64;
        }
    }
    Ok(rows)
}

/// A statistic that must be a finite number, not negative: anything else is an error naming the
/// folder, the row and the column, not a silently wrong fit.
fn statistic(dir: &Path, b: &Batch, column: (usize, &str), row: usize, at: u64) -> Result<f64> {
    match b.float(column.0, row) {
        Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
        other => Err(user(format!(
            "{}: row {}: `{}` is {}, not a number of 0 or more",
            dir.display(),
            at + row as u64 + 1,
            column.1,
            other.map(|v| v.to_string()).unwrap_or_else(|| "empty".into())
        ))),
    }
}

/// `models.grouped`: (x, t_x, T, customers) rows as the purchase models' groups.
pub fn grouped(dir: &Path) -> Result<Grouped> {
    let mut rows = Vec::new();
    let mut at = 0u64;
    let cols = [("x", Kind::Float), ("t_x", Kind::Float), ("T", Kind::Float), ("customers", Kind::Float)];
    for_each_batch(dir, &cols, |b| {
        for i in 0..b.rows {
            let v = |c: usize| statistic(dir, b, (c, cols[c].0), i, at);
            rows.push((v(0)?, v(1)?, v(2)?, v(3)?));
        }
        at += b.rows as u64;
        Ok(())
    })?;
    Ok(Grouped::from_counts(rows))
}

/// `models.summary`: the repeat buyers' (x, m), what Gamma-Gamma is fitted on
/// ([`super::spend_data`]). Its likelihood is not separable in m, so it reads one pair per repeat
/// buyer (16 bytes each), not groups.
pub fn spend(dir: &Path) -> Result<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut at = 0u64;
    for_each_batch(dir, &[("x", Kind::Float), ("m", Kind::Float)], |b| {
        for i in 0..b.rows {
            let x = statistic(dir, b, (0, "x"), i, at)?;
            if let Some(m) = b.float(1, i).filter(|m| *m > 0.0 && x > 0.0) {
                out.push((x, m));
            }
        }
        at += b.rows as u64;
        Ok(())
    })?;
    Ok(out)
}

/// The columns of `models.customers`: models.summary's, then models.features'.
const CUSTOMER_COLUMNS: &[(&str, Kind)] = &[
    ("customer_id", Kind::Text),
    ("x", Kind::Float),
    ("t_x", Kind::Float),
    ("T", Kind::Float),
    ("m", Kind::Float),
    ("orders", Kind::Int),
    ("days_since_last_order", Kind::Int),
    ("typical_gap_days", Kind::Int),
    ("frequency_ratio", Kind::Float),
    ("spend_ratio", Kind::Float),
    ("spend_rate_ratio", Kind::Float),
    ("discount_share", Kind::Float),
];

/// One customer of `models.customers`: id, statistics, churn features.
pub type Customer = (String, Summary, Features);

/// Streams `models.customers` a batch at a time to `each`; returns the customers read.
pub fn customers(dir: &Path, mut each: impl FnMut(Vec<Customer>) -> Result<()>) -> Result<u64> {
    let mut at = 0u64;
    for_each_batch(dir, CUSTOMER_COLUMNS, |b| {
        let mut batch = Vec::with_capacity(b.rows);
        for i in 0..b.rows {
            let v = |c: usize| statistic(dir, b, (c, CUSTOMER_COLUMNS[c].0), i, at);
            let Some(id) = b.text(0, i) else {
                return Err(user(format!("{}: row {}: no customer_id", dir.display(), at + i as u64 + 1)));
            };
            let s = Summary { x: v(1)?, t_x: v(2)?, t: v(3)?, m: b.float(4, i).filter(|m| *m > 0.0) };
            let f = Features {
                orders: b.int(5, i).unwrap_or(0),
                days_since_last: b.int(6, i),
                typical_gap_days: b.int(7, i),
                frequency_ratio: b.float(8, i),
                spend_ratio: b.float(9, i),
                spend_rate_ratio: b.float(10, i),
                discount_share: b.float(11, i),
            };
            batch.push((id.to_string(), s, f));
        }
        at += b.rows as u64;
        each(batch)
    })
}
