//! Privacy requests (issue 16): everything scudo holds about one person, and erasing it.
//!
//! Erasure deletes the person's rows from every table in one transaction and keeps, in
//! `erased_identities`, only salted SHA-256 hashes of their identifiers (each source's key, the
//! normalised email and phone), which the loader checks so that an old export imported again
//! does not bring them back (`suppressed` in the import summary).

use std::collections::HashSet;

use anyhow::{Context, Result};
use duckdb::Connection;
use sha2::{Digest, Sha256};

use super::{Param, ResultSet, Store};

/// The sections of a privacy export: (name, SQL with `$c` the customer id). Each lists rows of one
/// table that concern the person; `docs/privacy.md` describes them.
pub const EXPORT_SECTIONS: &[(&str, &str)] = &[
    ("profile", "SELECT * FROM customers WHERE customer_id = $c"),
    ("summary", "SELECT * FROM customer_summary WHERE customer_id = $c"),
    ("source_records", "SELECT * FROM customer_sources WHERE customer_id = $c ORDER BY source, source_key"),
    ("merges", "SELECT * FROM customer_merges WHERE into_id = $c OR merged_id = $c ORDER BY import_id"),
    ("orders", "SELECT * FROM orders WHERE customer_id = $c ORDER BY ordered_at, order_id"),
    (
        "order_items",
        "SELECT i.* FROM order_items i WHERE i.order_id IN (SELECT order_id FROM orders WHERE customer_id = $c)
         ORDER BY i.order_id, i.line_no",
    ),
    (
        "order_versions",
        "SELECT * FROM order_versions WHERE customer_id = $c
            OR order_id IN (SELECT order_id FROM orders WHERE customer_id = $c) ORDER BY order_id, kind",
    ),
    ("subscriptions", "SELECT * FROM subscriptions WHERE customer_id = $c ORDER BY started_at, subscription_id"),
    (
        "scores",
        "SELECT r.as_of, s.* FROM customer_scores s JOIN score_runs r USING (run_id) WHERE s.customer_id = $c
         ORDER BY r.as_of, s.run_id",
    ),
    (
        "segments",
        "SELECT s.segment_id, s.name, s.kind FROM segment_members m JOIN segments s USING (segment_id)
         WHERE m.customer_id = $c ORDER BY s.segment_id",
    ),
    ("notes", "SELECT * FROM customer_notes WHERE customer_id = $c ORDER BY created_at, note_id"),
    ("tags", "SELECT * FROM customer_tags WHERE customer_id = $c ORDER BY tag"),
    (
        "messages",
        "SELECT key, kind, recipient, sender, subject, message_id, status, attempts, created_at, sent_at
         FROM outbox WHERE lower(recipient) IN (SELECT lower(email) FROM customers WHERE customer_id = $c
             UNION SELECT lower(email) FROM customer_sources WHERE customer_id = $c)
         ORDER BY created_at, key",
    ),
];

/// The deletions of an erasure, in order (children before parents): (what, SQL with `$c`).
/// `_erase_orders` and `_erase_emails` are temp tables filled first.
const ERASE: &[(&str, &str)] = &[
    ("order_items", "DELETE FROM order_items WHERE order_id IN (SELECT order_id FROM _erase_orders)"),
    (
        "order_versions",
        "DELETE FROM order_versions WHERE customer_id = $c OR order_id IN (SELECT order_id FROM _erase_orders)",
    ),
    ("orders", "DELETE FROM orders WHERE customer_id = $c"),
    ("subscriptions", "DELETE FROM subscriptions WHERE customer_id = $c"),
    ("customer_scores", "DELETE FROM customer_scores WHERE customer_id = $c"),
    ("segment_members", "DELETE FROM segment_members WHERE customer_id = $c"),
    ("customer_notes", "DELETE FROM customer_notes WHERE customer_id = $c"),
    ("customer_tags", "DELETE FROM customer_tags WHERE customer_id = $c"),
    ("customer_stated_tags", "DELETE FROM customer_stated_tags WHERE customer_id = $c"),
    ("outbox_automation", "DELETE FROM outbox_automation WHERE customer_id = $c"),
    ("outbox", "DELETE FROM outbox WHERE lower(recipient) IN (SELECT email FROM _erase_emails)"),
    // The erased-identities table keeps them out of every later import, and so out of campaigns.
    ("suppressions", "DELETE FROM suppressions WHERE email IN (SELECT email FROM _erase_emails)"),
    ("customer_merges", "DELETE FROM customer_merges WHERE into_id = $c OR merged_id = $c"),
    ("check_failures", "DELETE FROM check_failures WHERE list_has_any(cells, (SELECT list(v) FROM _erase_values))"),
    ("customer_search", "DELETE FROM customer_search WHERE customer_id = $c"),
    ("customer_summary", "DELETE FROM customer_summary WHERE customer_id = $c"),
    ("customer_sources", "DELETE FROM customer_sources WHERE customer_id = $c"),
    ("customers", "DELETE FROM customers WHERE customer_id = $c"),
];

/// What an erasure removed (or, in a dry run, would remove): rows per table.
#[derive(Debug, Clone, Default)]
pub struct Erasure {
    pub customer_id: String,
    pub tables: Vec<(String, u64)>,
    /// Identifier hashes kept so that imports leave the person out.
    pub suppressed_identifiers: u64,
    pub erasure_id: Option<i64>,
}

impl Erasure {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

/// The hash kept for one identifier: hex SHA-256 of the workspace's salt, the kind and the value.
pub fn identity_hash(salt: &str, kind: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0x1f]);
    h.update(kind.as_bytes());
    h.update([0x1f]);
    h.update(value.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The salt and the hashes of every erased identifier, for the loader.
pub struct Suppressed {
    salt: String,
    hashes: HashSet<String>,
}

impl Suppressed {
    pub(super) fn load(conn: &Connection) -> Result<Suppressed> {
        let salt: String = conn
            .query_row("SELECT value FROM scudo_meta WHERE key = 'erasure_salt'", [], |r| r.get(0))
            .unwrap_or_default();
        let mut hashes = HashSet::new();
        let mut stmt = conn.prepare("SELECT hash FROM erased_identities")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            hashes.insert(r.get::<_, String>(0)?);
        }
        Ok(Suppressed { salt, hashes })
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// True when a record with this identity belongs to an erased person: its source id in this
    /// source, or its email, was erased; a phone only counts for a record with neither (people
    /// share phones).
    pub fn covers(&self, source: &str, identity: &crate::ingest::record::Identity) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        let has = |kind: &str, v: &str| self.hashes.contains(&identity_hash(&self.salt, kind, v));
        if let Some(id) = &identity.source_customer_id
            && has("source_key", &format!("{source}\u{1f}id:{id}"))
        {
            return true;
        }
        if let Some(e) = &identity.email
            && has("email", e)
        {
            return true;
        }
        if identity.source_customer_id.is_none()
            && identity.email.is_none()
            && let Some(p) = &identity.phone
        {
            return has("phone", p);
        }
        false
    }

    /// A guest order (no identity at all) of an erased guest.
    pub fn covers_guest(&self, source: &str, order_id: &str) -> bool {
        !self.hashes.is_empty()
            && self.hashes.contains(&identity_hash(
                &self.salt,
                "source_key",
                &format!("{source}\u{1f}guest:{order_id}"),
            ))
    }
}

impl Store {
    /// Every record about customer `c`, section by section ([`EXPORT_SECTIONS`]).
    pub fn privacy_records(&self, c: &str) -> Result<Vec<(&'static str, ResultSet)>> {
        let p = [("c", Param::Text(c.to_string()))];
        EXPORT_SECTIONS
            .iter()
            .map(|(name, sql)| Ok((*name, self.query(sql, &p, &format!("privacy export: {name}"))?)))
            .collect()
    }

    /// Erases customer `c` from every table in one transaction and keeps hashes of their
    /// identifiers; with `dry_run`, counts what would go and changes nothing.
    pub fn erase_customer(&mut self, c: &str, dry_run: bool) -> Result<Erasure> {
        let tx = self.conn.transaction()?;
        let p = duckdb::params![c];
        tx.execute_batch(
            "DROP TABLE IF EXISTS _erase_orders; DROP TABLE IF EXISTS _erase_emails; DROP TABLE IF EXISTS _erase_values;",
        )?;
        tx.execute("CREATE TEMP TABLE _erase_orders AS SELECT order_id FROM orders WHERE customer_id = ?", p)?;
        tx.execute(
            "CREATE TEMP TABLE _erase_emails AS SELECT DISTINCT lower(email) AS email FROM (
                SELECT email FROM customers WHERE customer_id = ? UNION ALL
                SELECT email FROM customer_sources WHERE customer_id = ?) WHERE email IS NOT NULL",
            duckdb::params![c, c],
        )?;
        // Values that identify the person in stored check failures (rows as text).
        tx.execute(
            "CREATE TEMP TABLE _erase_values AS SELECT DISTINCT v FROM (
                SELECT customer_id AS v FROM customers WHERE customer_id = $1 UNION ALL
                SELECT email FROM customers WHERE customer_id = $1 UNION ALL
                SELECT phone FROM customers WHERE customer_id = $1 UNION ALL
                SELECT name FROM customers WHERE customer_id = $1 UNION ALL
                SELECT order_id FROM _erase_orders) WHERE v IS NOT NULL AND v <> ''",
            p,
        )?;
        let salt: String =
            tx.query_row("SELECT value FROM scudo_meta WHERE key = 'erasure_salt'", [], |r| r.get(0)).context(
                "the workspace has no erasure salt (schema too old?); run any command to upgrade it, then erase again",
            )?;
        // The identifiers to suppress: every source key, every email and phone the person had.
        let mut ids: Vec<(String, String)> = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT 'source_key', source || chr(31) || source_key FROM customer_sources WHERE customer_id = $1
                 UNION SELECT 'email', lower(email) FROM customer_sources WHERE customer_id = $1 AND email IS NOT NULL
                 UNION SELECT 'phone', phone FROM customer_sources WHERE customer_id = $1 AND phone IS NOT NULL",
            )?;
            let mut rows = stmt.query(p)?;
            while let Some(r) = rows.next()? {
                ids.push((r.get(0)?, r.get(1)?));
            }
        }
        let mut erasure = Erasure { customer_id: c.to_string(), ..Default::default() };
        for (table, sql) in ERASE {
            let sql = sql.replace("$c", "?");
            let n = if dry_run {
                let counting = format!("SELECT count(*) FROM {}", sql.trim_start_matches("DELETE FROM "));
                let mut stmt = tx.prepare(&counting)?;
                let k = stmt.parameter_count();
                let args: Vec<&str> = vec![c; k];
                let n: i64 = stmt.query_row(duckdb::params_from_iter(args), |r| r.get(0))?;
                n as usize
            } else {
                let mut stmt = tx.prepare(&sql)?;
                let k = stmt.parameter_count();
                let args: Vec<&str> = vec![c; k];
                stmt.execute(duckdb::params_from_iter(args)).with_context(|| format!("erasing from {table}"))?
            };
            if n > 0 {
                erasure.tables.push((table.to_string(), n as u64));
            }
        }
        erasure.suppressed_identifiers = ids.len() as u64;
        tx.execute_batch(
            "DROP TABLE IF EXISTS _erase_orders; DROP TABLE IF EXISTS _erase_emails; DROP TABLE IF EXISTS _erase_values;",
        )?;
        if dry_run || erasure.tables.is_empty() {
            tx.rollback()?;
            return Ok(erasure);
        }
        let id: i64 =
            tx.query_row("SELECT COALESCE(max(erasure_id), 0) + 1 FROM privacy_erasures", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO privacy_erasures VALUES (?, now()::TIMESTAMP, ?)",
            duckdb::params![id, erasure.rows() as i64],
        )?;
        for (kind, value) in &ids {
            tx.execute(
                "INSERT OR IGNORE INTO erased_identities VALUES (?, ?, ?, now()::TIMESTAMP)",
                duckdb::params![identity_hash(&salt, kind, value), kind, id],
            )?;
        }
        // Tag segments, the search index and the summaries no longer count the person.
        super::upkeep::rebuild(&tx)?;
        tx.commit().context("cannot commit the erasure; nothing was changed")?;
        // Deleted rows leave the file at the next checkpoint.
        self.conn.execute_batch("CHECKPOINT").context("the erasure was committed, but the checkpoint failed")?;
        erasure.erasure_id = Some(id);
        Ok(erasure)
    }

    /// When the latest erasure happened (UTC), if any: imports of files read before it are read
    /// again, so that their summary says what is left out.
    pub fn last_erasure(&self) -> Result<Option<chrono::NaiveDateTime>> {
        // In microseconds: an import that finished in the same second as the erasure (but before
        // it) must still count as older, and the text of a timestamp stops at the second.
        let rs = self.query("SELECT epoch_us(max(erased_at)) AS at FROM privacy_erasures", &[], "privacy")?;
        Ok(rs
            .rows
            .first()
            .and_then(|r| r[0].as_i64())
            .and_then(chrono::DateTime::from_timestamp_micros)
            .map(|d| d.naive_utc()))
    }
}
