//! Parquet files from Arrow record batches (the Rust `parquet` crate of the same Arrow version as
//! DuckDB's driver: no C++ rebuild, docs/scale-out.md). Snappy-compressed, the codec every
//! engine reads.

use std::fs::File;
use std::path::Path;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::properties::WriterProperties;
use anyhow::{Context, Result};
use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;

/// One Parquet file being written; created at the first batch (or empty, at `finish`).
pub struct ParquetFile {
    path: std::path::PathBuf,
    writer: Option<ArrowWriter<File>>,
    rows: u64,
}

impl ParquetFile {
    pub fn new(path: &Path) -> ParquetFile {
        ParquetFile { path: path.to_path_buf(), writer: None, rows: 0 }
    }

    fn open(&mut self, schema: &SchemaRef) -> Result<&mut ArrowWriter<File>> {
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let file = File::create(&self.path).with_context(|| format!("cannot create {}", self.path.display()))?;
            let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
                .with_context(|| format!("cannot write {}", self.path.display()))?;
            self.writer = Some(writer);
        }
        Ok(self.writer.as_mut().expect("just set"))
    }

    pub fn write(&mut self, schema: &SchemaRef, batch: &RecordBatch) -> Result<()> {
        let path = self.path.display().to_string();
        self.open(schema)?.write(batch).with_context(|| format!("cannot write {path}"))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the file (an empty one with `schema` when no batch came); returns the rows written.
    pub fn finish(mut self, schema: &SchemaRef) -> Result<u64> {
        let path = self.path.display().to_string();
        self.open(schema)?;
        self.writer.take().expect("opened").close().with_context(|| format!("cannot finish {path}"))?;
        Ok(self.rows)
    }
}

/// The columns `customer_scores` stores from the models, in its names and types (`clv` as
/// DECIMAL(18,2)), for `scudo score --from-parquet`.
pub fn model_scores_schema() -> SchemaRef {
    use duckdb::arrow::datatypes::{DataType, Field, Schema};
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    std::sync::Arc::new(Schema::new(vec![
        f("customer_id", DataType::Utf8, false),
        f("churn_probability", DataType::Float64, true),
        f("churn_band", DataType::Utf8, true),
        f("churn_method", DataType::Utf8, true),
        f("churn_reasons", DataType::Utf8, true),
        f("p_alive", DataType::Float64, true),
        f("expected_purchases", DataType::Float64, true),
        f("next_order_date", DataType::Date32, true),
        f("clv", DataType::Decimal128(18, 2), true),
        f("clv_trend", DataType::Utf8, true),
    ]))
}

/// Model scores as one Arrow batch of [`model_scores_schema`].
pub fn model_scores_batch(schema: &SchemaRef, rows: &[crate::store::scores::ModelRow]) -> Result<RecordBatch> {
    use duckdb::arrow::array::{ArrayRef, Date32Array, Decimal128Array, Float64Array, StringArray};
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let text = |f: fn(&crate::store::scores::ModelRow) -> Option<&str>| -> ArrayRef {
        std::sync::Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let float = |f: fn(&crate::store::scores::ModelRow) -> Option<f64>| -> ArrayRef {
        std::sync::Arc::new(rows.iter().map(f).collect::<Float64Array>())
    };
    let columns: Vec<ArrayRef> = vec![
        text(|r| Some(r.customer_id.as_str())),
        float(|r| r.churn_probability),
        text(|r| r.churn_band.as_deref()),
        text(|r| r.churn_method.as_deref()),
        text(|r| r.churn_reasons.as_deref()),
        float(|r| r.p_alive),
        float(|r| r.expected_purchases),
        std::sync::Arc::new(
            rows.iter().map(|r| r.next_order_date.map(|d| (d - epoch).num_days() as i32)).collect::<Date32Array>(),
        ),
        std::sync::Arc::new(
            rows.iter()
                .map(|r| r.clv_cents.map(i128::from))
                .collect::<Decimal128Array>()
                .with_precision_and_scale(18, 2)
                .context("clv as DECIMAL(18,2)")?,
        ),
        text(|r| r.clv_trend.as_deref()),
    ];
    RecordBatch::try_new(schema.clone(), columns).context("the scores as an Arrow batch")
}
