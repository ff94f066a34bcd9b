//! Who is who during an import: every source key, email and phone customer_sources knows, and
//! the customer each belongs to, plus the merges this import finds (load/loader.rs resolves records
//! against them).
//!
//! A small file into a large workspace must not pay for reading every identity (at a million
//! customers that was most of a one-day import): the import looks up only the identities of each
//! batch of records before it is staged ([`Identities::prefetch`]), and loads all of them once
//! the lookups have cost half of what loading everything would ([`LOAD_MICROS_PER_ROW`]): never
//! more than 1.5 times the cheaper of the two, whatever the file's size. Either way the maps answer every
//! lookup of the batch as a full load would: rows are read in the table's order and the first
//! row for an email or phone wins.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use duckdb::{Connection, params};

use crate::ingest::record::{Identity, Record};

/// What reading one customer_sources row into the maps costs, about (7 µs measured at 2M rows on
/// the 2-core bench machine): the lookups may spend half of it per row before the import loads
/// every row instead (a large file touches most customers, and one scan beats many).
const LOAD_MICROS_PER_ROW: u64 = 7;

/// Everything known about who is who, as far as this import needs it.
pub(super) struct Identities {
    pub by_key: HashMap<String, String>,
    pub by_email: HashMap<String, String>,
    pub by_phone: HashMap<String, String>,
    pub next_number: i64,
    /// Customers found to be another one during this import (merged id → the id it joined).
    pub merged: HashMap<String, String>,
    /// The customers merged away, in the order they were found, with why (the customer each
    /// joined is `root` of it once the file is read).
    pub merges: Vec<(String, String)>,
    /// Every row of customer_sources is in the maps.
    complete: bool,
    /// The keys (`k`), emails (`e`) and phones (`p`) looked up already.
    asked: HashSet<(char, String)>,
    /// Time spent on lookups so far, and what they may spend before loading everything.
    spent: std::time::Duration,
    budget: std::time::Duration,
}

pub(super) fn source_key(source: &str, key: &str) -> String {
    format!("{source}\u{1f}{key}")
}

/// The keys a record registers in customer_sources: `id:`, `email:` and `phone:` for what it
/// states, else `guest:ORDER` for a guest order; none for a customer record naming nobody.
pub(super) fn source_keys(identity: &Identity, guest_of: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    if let Some(id) = &identity.source_customer_id {
        keys.push(format!("id:{id}"));
    }
    if let Some(e) = &identity.email {
        keys.push(format!("email:{e}"));
    }
    if let Some(p) = &identity.phone {
        keys.push(format!("phone:{p}"));
    }
    if keys.is_empty()
        && let Some(order) = guest_of
    {
        keys.push(format!("guest:{order}"));
    }
    keys
}

impl Identities {
    /// Empty maps and the next free customer number; lookups fill the maps.
    pub fn new(conn: &Connection) -> Result<Identities> {
        let max: Option<i64> = conn.query_row(
            "SELECT max(TRY_CAST(substr(customer_id, 6) AS BIGINT)) FROM customers WHERE customer_id LIKE 'cust-%'",
            [],
            |r| r.get(0),
        )?;
        let rows: i64 = conn.query_row("SELECT count(*) FROM customer_sources", [], |r| r.get(0))?;
        Ok(Identities {
            by_key: HashMap::new(),
            by_email: HashMap::new(),
            by_phone: HashMap::new(),
            next_number: max.unwrap_or(0) + 1,
            merged: HashMap::new(),
            merges: Vec::new(),
            complete: false,
            asked: HashSet::new(),
            spent: std::time::Duration::ZERO,
            budget: std::time::Duration::from_micros(rows.max(0) as u64 * LOAD_MICROS_PER_ROW / 2),
        })
    }

    /// Makes the maps hold what customer_sources says of every identity in `batch` (records of
    /// `source`), before the batch is staged.
    pub fn prefetch(&mut self, conn: &Connection, source: &str, batch: &[Record]) -> Result<()> {
        if self.complete {
            return Ok(());
        }
        if self.spent > self.budget {
            return self.load_all(conn);
        }
        let started = std::time::Instant::now();
        let mut wanted: Vec<(char, String)> = Vec::new();
        for r in batch {
            let (identity, guest_of): (&Identity, Option<&str>) = match r {
                Record::Customer(c) => (&c.identity, None),
                Record::Order(o) => (&o.customer.identity, Some(&o.source_order_id)),
                Record::Subscription(s) => (&s.customer.identity, None),
                Record::Product(_) | Record::Reject(_) => continue,
            };
            wanted.extend(source_keys(identity, guest_of).into_iter().map(|k| ('k', k)));
            wanted.extend(identity.email.iter().map(|e| ('e', e.clone())));
            wanted.extend(identity.phone.iter().map(|p| ('p', p.clone())));
        }
        wanted.retain(|w| self.asked.insert(w.clone()));
        if wanted.is_empty() {
            return Ok(());
        }
        conn.execute_batch("CREATE OR REPLACE TEMP TABLE _ids_wanted (kind VARCHAR, value VARCHAR);")?;
        {
            let mut app = conn.appender_to_catalog_and_db("_ids_wanted", "temp", "main")?;
            for (kind, value) in &wanted {
                app.append_row(params![kind.to_string(), value])?;
            }
            app.flush()?;
        }
        let mut stmt = conn.prepare(
            "SELECT s.source, s.source_key, s.customer_id, s.email, s.phone,
                    s.email IN (SELECT value FROM _ids_wanted WHERE kind = 'e'),
                    s.phone IN (SELECT value FROM _ids_wanted WHERE kind = 'p')
             FROM customer_sources s
             WHERE (s.source = ? AND s.source_key IN (SELECT value FROM _ids_wanted WHERE kind = 'k'))
                OR s.email IN (SELECT value FROM _ids_wanted WHERE kind = 'e')
                OR s.phone IN (SELECT value FROM _ids_wanted WHERE kind = 'p')
             ORDER BY s.rowid",
        )?;
        self.read(stmt.query(params![source]).context("looking up who is who")?)?;
        conn.execute_batch("DROP TABLE _ids_wanted;")?;
        self.spent += started.elapsed();
        Ok(())
    }

    /// Reads every row of customer_sources into the maps. What this import registered already
    /// is not in the table, and what the table holds for an identity the import looked up is in
    /// the maps already, so nothing read here contradicts an entry.
    fn load_all(&mut self, conn: &Connection) -> Result<()> {
        let mut stmt =
            conn.prepare("SELECT source, source_key, customer_id, email, phone, true, true FROM customer_sources")?;
        self.read(stmt.query([])?)?;
        self.complete = true;
        Ok(())
    }

    /// Adds rows of (source, source_key, customer_id, email, phone, email asked, phone asked) in
    /// table order: every key, and the first customer of each email and phone asked for (for
    /// those, every row is read, so the first one read is the table's first).
    fn read(&mut self, mut rows: duckdb::Rows<'_>) -> Result<()> {
        while let Some(r) = rows.next()? {
            let (source, key, cid): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let (email, phone): (Option<String>, Option<String>) = (r.get(3)?, r.get(4)?);
            if r.get::<_, Option<bool>>(5)? == Some(true)
                && let Some(e) = email
            {
                self.by_email.entry(e).or_insert_with(|| cid.clone());
            }
            if r.get::<_, Option<bool>>(6)? == Some(true)
                && let Some(p) = phone
            {
                self.by_phone.entry(p).or_insert_with(|| cid.clone());
            }
            self.by_key.entry(source_key(&source, &key)).or_insert(cid);
        }
        Ok(())
    }

    /// The customer `cid` is now (itself, or the one it was merged into).
    pub fn root(&self, cid: &str) -> String {
        let mut c = cid;
        while let Some(next) = self.merged.get(c) {
            c = next;
        }
        c.to_string()
    }

    /// Makes `a` and `b` one customer: the older id (the smaller number) stays.
    pub fn unite(&mut self, a: &str, b: &str, why: String) -> String {
        let (a, b) = (self.root(a), self.root(b));
        if a == b {
            return a;
        }
        let older = |x: &String, y: &String| (x.len(), x) < (y.len(), y);
        let (keep, gone) = if older(&a, &b) { (a, b) } else { (b, a) };
        self.merged.insert(gone.clone(), keep.clone());
        self.merges.push((gone, why));
        keep
    }
}
