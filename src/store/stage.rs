//! Staging rows through Arrow batches: values are gathered column by column in Rust and handed to
//! DuckDB a batch at a time, instead of one FFI call per value.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use duckdb::Appender;
use duckdb::arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::types::Value;

/// The type of one staged column.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    BigInt,
    Int,
    SmallInt,
    /// DECIMAL(18,2)
    Money,
    Timestamp,
    Bool,
}

enum Col {
    Text(StringBuilder),
    BigInt(Int64Builder),
    Int(Int32Builder),
    SmallInt(Int16Builder),
    Money(Decimal128Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
}

/// Rows gathered for one staging table.
pub struct Stage<'c> {
    appender: Appender<'c>,
    kinds: Vec<Kind>,
    schema: SchemaRef,
    cols: Vec<Col>,
    rows: usize,
}

const BATCH_ROWS: usize = 16 * 1024;

impl<'c> Stage<'c> {
    pub fn new(appender: Appender<'c>, kinds: &[Kind]) -> Stage<'c> {
        let fields: Vec<Field> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let t = match k {
                    Kind::Text => DataType::Utf8,
                    Kind::BigInt => DataType::Int64,
                    Kind::Int => DataType::Int32,
                    Kind::SmallInt => DataType::Int16,
                    Kind::Money => DataType::Decimal128(18, 2),
                    Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
                    Kind::Bool => DataType::Boolean,
                };
                Field::new(format!("c{i}"), t, true)
            })
            .collect();
        let mut stage =
            Stage { appender, kinds: kinds.to_vec(), schema: Arc::new(Schema::new(fields)), cols: Vec::new(), rows: 0 };
        stage.cols = stage.fresh();
        stage
    }

    fn fresh(&self) -> Vec<Col> {
        self.kinds
            .iter()
            .map(|k| match k {
                Kind::Text => Col::Text(StringBuilder::new()),
                Kind::BigInt => Col::BigInt(Int64Builder::new()),
                Kind::Int => Col::Int(Int32Builder::new()),
                Kind::SmallInt => Col::SmallInt(Int16Builder::new()),
                Kind::Money => {
                    Col::Money(Decimal128Builder::new().with_precision_and_scale(18, 2).expect("valid decimal"))
                }
                Kind::Timestamp => Col::Timestamp(TimestampMicrosecondBuilder::new()),
                Kind::Bool => Col::Bool(BooleanBuilder::new()),
            })
            .collect()
    }

    /// Adds one row; the values must match the kinds (or be NULL).
    pub fn append(&mut self, values: Vec<Value>) -> Result<()> {
        for (col, v) in self.cols.iter_mut().zip(values) {
            match (col, v) {
                (Col::Text(b), Value::Null) => b.append_null(),
                (Col::BigInt(b), Value::Null) => b.append_null(),
                (Col::Int(b), Value::Null) => b.append_null(),
                (Col::SmallInt(b), Value::Null) => b.append_null(),
                (Col::Money(b), Value::Null) => b.append_null(),
                (Col::Timestamp(b), Value::Null) => b.append_null(),
                (Col::Bool(b), Value::Null) => b.append_null(),
                (Col::Text(b), Value::Text(s)) => b.append_value(s),
                (Col::BigInt(b), Value::BigInt(n)) => b.append_value(n),
                (Col::Int(b), Value::Int(n)) => b.append_value(n),
                (Col::SmallInt(b), Value::SmallInt(n)) => b.append_value(n),
                (Col::Money(b), Value::Decimal(d)) => b.append_value(d.value()),
                (Col::Timestamp(b), Value::Timestamp(unit, n)) => b.append_value(unit.to_micros(n)),
                (Col::Bool(b), Value::Boolean(x)) => b.append_value(x),
                (_, v) => return Err(anyhow!("staging: value {v:?} does not fit its column")),
            }
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the gathered rows to DuckDB.
    pub fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let fresh = self.fresh();
        let cols = std::mem::replace(&mut self.cols, fresh);
        let arrays: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Text(mut b) => Arc::new(b.finish()),
                    Col::BigInt(mut b) => Arc::new(b.finish()),
                    Col::Int(mut b) => Arc::new(b.finish()),
                    Col::SmallInt(mut b) => Arc::new(b.finish()),
                    Col::Money(mut b) => Arc::new(b.finish()),
                    Col::Timestamp(mut b) => Arc::new(b.finish()),
                    Col::Bool(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        self.appender.append_record_batch(batch)?;
        self.appender.flush()?;
        self.rows = 0;
        Ok(())
    }
}
