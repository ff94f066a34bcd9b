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
