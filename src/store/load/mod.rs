//! Importing one file: canonical records are resolved to customers, staged through appenders and
//! merged into the model in a single transaction, so a failure leaves the database as it was.
//!
//! Identity rules (docs/data-model.md): a record's customer is the one already known by the same
//! source id in the same source, else by the same normalised email, else by the same normalised
//! phone, else a new customer. Orders without any identity are guests, one customer per order.
//!
//! The work is split by job: [`loader`] is the sink that resolves records to customers and stages
//! them, [`merge`] turns the staged rows into the model, and [`log`] reads and writes `import_log`.

mod loader;
mod log;
mod merge;

use anyhow::{Context, Result};
use chrono::{NaiveDateTime, Utc};

use super::Store;
use crate::ingest::record::{ChannelSink, Record, Reject, Sink};
use loader::Loader;

/// Batches of records (of 512) staged together: the parser runs ahead of the loader, so a group
/// is ready as soon as the loader asks, and a file of up to 32,768 records is one group.
const LOOKUP_GROUP: usize = 64;

/// What is being imported.
#[derive(Debug, Clone)]
pub struct ImportMeta {
    pub file_path: String,
    pub file_name: String,
    pub sha256: String,
    pub kind: String,
    pub source: String,
    /// How the file was read (kind asked for, mapping, encoding, sheet): the same bytes read
    /// another way are a new import.
    pub settings: String,
    pub dry_run: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportCounts {
    pub import_id: Option<i64>,
    pub rows_read: u64,
    pub customers_inserted: u64,
    pub customers_updated: u64,
    pub customers_unchanged: u64,
    pub orders_inserted: u64,
    pub orders_updated: u64,
    pub orders_unchanged: u64,
    pub products_upserted: u64,
    pub subscriptions_inserted: u64,
    pub subscriptions_updated: u64,
    pub subscriptions_unchanged: u64,
    pub rows_rejected: u64,
    /// Records left out because they belong to a person erased on request (`scudo privacy erase`).
    pub rows_suppressed: u64,
    /// Customers merged into a known one: records with a new source id that joined a customer by
    /// the same email or phone, and customers found to be one (a source id and an email met).
    pub customers_merged: u64,
    /// Every row was rejected: nothing was written and the file is not recorded as imported.
    pub nothing_usable: bool,
}

/// An earlier import of the same bytes.
#[derive(Debug, Clone)]
pub struct PreviousImport {
    pub import_id: i64,
    pub file_name: String,
    pub finished_at: NaiveDateTime,
    pub counts: ImportCounts,
}

impl Store {
    /// Imports one file in one transaction: `parse` sends its records to the sink it is given.
    /// Rejected rows are returned (the caller writes them); with `dry_run` everything is rolled back,
    /// and so it is when `stop` is set (Ctrl-C) before the commit.
    pub fn import(
        &mut self,
        meta: &ImportMeta,
        rejects_path: Option<&str>,
        stop: &std::sync::atomic::AtomicBool,
        parse: impl FnOnce(&mut dyn Sink) -> Result<u64> + Send,
    ) -> Result<(ImportCounts, Vec<Reject>)> {
        let started = Utc::now().naive_utc();
        let started_at = std::time::Instant::now();
        let reporting = self.reporting.clone();
        let conn = self.conn_mut();
        let tx = conn.transaction()?;
        tx.execute_batch(loader::DROP_STAGING)?;
        tx.execute_batch(loader::STAGING)?;
        tx.execute_batch(super::subscriptions::STAGING)?;
        let import_id: i64 = tx.query_row("SELECT nextval('import_id_seq')", [], |r| r.get(0))?;
        let mut loader = Loader::new(&tx, &meta.source)?;
        // Parse on a second thread while this one stages: the two halves of the work overlap.
        let rows_read = std::thread::scope(|scope| -> Result<u64> {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Record>>(64);
            let parser = scope.spawn(move || -> Result<u64> {
                let mut sink = ChannelSink::new(sender);
                let n = parse(&mut sink)?;
                sink.finish()?;
                Ok(n)
            });
            // The loader looks up the identities of a group of batches at once (one scan of
            // customer_sources per group), so a day's file into a large workspace is one lookup.
            let mut loaded = Ok(());
            let mut group = Vec::with_capacity(LOOKUP_GROUP);
            for batch in &receiver {
                group.push(batch);
                if group.len() == LOOKUP_GROUP
                    && let Err(e) = loader.take(&tx, std::mem::take(&mut group))
                {
                    loaded = Err(e);
                    break;
                }
            }
            if loaded.is_ok() && !group.is_empty() {
                loaded = loader.take(&tx, group);
            }
            drop(receiver);
            let parsed = parser.join().map_err(|_| anyhow::anyhow!("reading the file failed unexpectedly"))?;
            loaded?;
            parsed
        })?;
        let staged = loader.finish()?;
        super::timing("import: reading and staging the file", started_at, Some(rows_read as usize));
        let loader::Staged { rejects, usable, merged, rows_suppressed, merges, repeated_orders } = staged;
        let mut counts = ImportCounts {
            import_id: Some(import_id),
            rows_read,
            rows_rejected: rejects.len() as u64,
            rows_suppressed,
            customers_merged: merged,
            ..Default::default()
        };
        if usable == 0 && !rejects.is_empty() {
            // A wrong --source or mapping: recording it would make the right command later
            // report the file as unchanged.
            tx.rollback()?;
            counts.import_id = None;
            counts.nothing_usable = true;
            return Ok((counts, rejects));
        }
        let job = merge::Job { import_id, kind: &meta.kind, repeated_orders, merges: &merges, reporting: &reporting };
        let computed_in = merge::merge(&tx, &job, &mut counts)?;
        super::subscriptions::merge(&tx, import_id, &mut counts)?;
        tx.execute_batch(loader::DROP_STAGING)?;
        tx.execute_batch(super::subscriptions::DROP_STAGING)?;
        let finished = Utc::now().naive_utc();
        log::record(&tx, meta, rejects_path, import_id, started, finished, &counts)?;
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            tx.rollback()?;
            anyhow::bail!("interrupted");
        }
        if meta.dry_run {
            tx.rollback()?;
            counts.import_id = None;
        } else {
            super::timing("import: ready to commit", started_at, None);
            tx.commit().context("cannot commit the import; the database is unchanged")?;
            super::timing("import: committed", started_at, None);
            // The next file computes in the zone this one guessed, instead of recomputing it all.
            self.reporting.timezone = computed_in.timezone;
        }
        Ok((counts, rejects))
    }
}
