//! The sink that stages one import's records: each record is resolved to its customer (the
//! identity rules in the parent module's docs) and appended to the temporary staging tables the
//! merge reads.

use std::collections::HashMap;

use anyhow::{Context, Result};
use duckdb::types::Value;
use duckdb::{Appender, Connection, appender_params_from_iter};

use crate::ingest::record::{
    CustomerRecord, Identity, OrderRecord, ProductRecord, Record, Reject, Sink, SubscriptionRecord, replay,
};
use crate::ingest::values::Money;
use crate::store::identities::{Identities, source_key, source_keys};
use crate::store::stage::{Kind, Stage};
use crate::store::value::{money, opt_money, text, ts};

/// Column kinds of `_stg_orders` and `_stg_items`, in table order.
const ORDER_STAGE: &[Kind] = &[
    Kind::Text,
    Kind::BigInt,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Timestamp,
    Kind::SmallInt,
    Kind::Text,
    Kind::Money,
    Kind::Money,
    Kind::Money,
    Kind::Money,
    Kind::Money,
    Kind::Money,
    Kind::Money,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Bool,
    Kind::Text,
    Kind::Money,
    Kind::Money,
];
const ITEM_STAGE: &[Kind] = &[
    Kind::Text,
    Kind::BigInt,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::BigInt,
    Kind::Money,
    Kind::Money,
    Kind::Money,
    Kind::Bool,
];

/// The column kinds of _stg_customers and _stg_sources, in order.
const CUSTOMER_STAGE: &[Kind] = &[
    Kind::Text,
    Kind::BigInt,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Timestamp,
    Kind::Bool,
    Kind::Text,
    Kind::Money,
    Kind::BigInt,
    Kind::Text,
];
const SOURCE_STAGE: &[Kind] = &[Kind::Text; 6];

pub(super) const STAGING: &str = "
CREATE TEMP TABLE _stg_customers (customer_id VARCHAR, seq BIGINT, email VARCHAR, phone VARCHAR,
    first_name VARCHAR, last_name VARCHAR, name VARCHAR, company VARCHAR, city VARCHAR, region VARCHAR,
    country VARCHAR, created_at TIMESTAMP, accepts_marketing BOOLEAN, tags VARCHAR,
    reported_total_spent DECIMAL(18,2), reported_orders_count BIGINT, lifecycle VARCHAR);
CREATE TEMP TABLE _stg_sources (source VARCHAR, source_key VARCHAR, customer_id VARCHAR,
    source_customer_id VARCHAR, email VARCHAR, phone VARCHAR);
CREATE TEMP TABLE _stg_orders (order_id VARCHAR, seq BIGINT, source VARCHAR, source_order_id VARCHAR,
    order_number VARCHAR, customer_id VARCHAR, ordered_at TIMESTAMP, utc_offset_minutes SMALLINT,
    currency VARCHAR, subtotal DECIMAL(18,2), discount_total DECIMAL(18,2), shipping_total DECIMAL(18,2),
    tax_total DECIMAL(18,2), total DECIMAL(18,2), refunded_total DECIMAL(18,2), net_total DECIMAL(18,2),
    status VARCHAR, financial_status VARCHAR, channel VARCHAR, payment_method VARCHAR,
    discount_codes VARCHAR, tax_included BOOLEAN, converted_currency VARCHAR, converted_total DECIMAL(18,2),
    converted_refunded DECIMAL(18,2));
CREATE TEMP TABLE _stg_items (order_id VARCHAR, seq BIGINT, line_no INTEGER, sku VARCHAR, name VARCHAR,
    vendor VARCHAR, category VARCHAR, quantity BIGINT, unit_price DECIMAL(18,2), discount DECIMAL(18,2),
    line_total DECIMAL(18,2), is_tip BOOLEAN);
CREATE TEMP TABLE _stg_products (sku VARCHAR, seq BIGINT, title VARCHAR, category VARCHAR, vendor VARCHAR);
";

pub(super) const DROP_STAGING: &str = "
DROP TABLE IF EXISTS _stg_customers; DROP TABLE IF EXISTS _stg_sources; DROP TABLE IF EXISTS _stg_orders;
DROP TABLE IF EXISTS _stg_items; DROP TABLE IF EXISTS _stg_products; DROP TABLE IF EXISTS _m_customers;
DROP TABLE IF EXISTS _m_orders; DROP TABLE IF EXISTS _m_items; DROP TABLE IF EXISTS _m_products;
DROP TABLE IF EXISTS _stg_merges; DROP TABLE IF EXISTS _multi; DROP TABLE IF EXISTS _merged;
DROP TABLE IF EXISTS _touched;
DROP TABLE IF EXISTS _m_staged; DROP TABLE IF EXISTS _m_known_ids; DROP TABLE IF EXISTS _m_known;
DROP TABLE IF EXISTS _m_first_versions; DROP TABLE IF EXISTS _m_items_merged;
";

/// The sink that stages records for one import.
pub(super) struct Loader<'c> {
    source: String,
    ids: Identities,
    customers: Stage<'c>,
    sources: Stage<'c>,
    orders: Stage<'c>,
    items: Stage<'c>,
    products: Appender<'c>,
    subscriptions: Appender<'c>,
    seq: i64,
    rejects: Vec<Reject>,
    /// A fingerprint of the last customer record staged per customer in this file: an order
    /// export repeats the customer on every order, and only records that differ from the previous
    /// one are staged (the merge then keeps the latest non-empty value per field, accumulates
    /// tags and takes the earliest creation date). Holding fingerprints rather than the records
    /// keeps a ten-million-order import about a gigabyte smaller.
    staged: HashMap<String, u64>,
    /// Fingerprints of the order ids staged, checked for repeats once the file is read: a repeat
    /// (or a fingerprint collision, which only costs time) sends the merge down the path that
    /// keeps each order's last occurrence. (8 bytes an order; a hash set took twice that.)
    order_ids: Vec<u64>,
    /// Customers, orders and products staged: none (and some rejects) means a wrong kind or mapping.
    usable: u64,
    merged: u64,
    /// Identifiers of people erased on request: their records are left out.
    suppressed: crate::store::privacy::Suppressed,
    rows_suppressed: u64,
}

fn hash_of(v: &impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// A 64-bit fingerprint of what a customer record says (identity aside: it resolved to the
/// customer already).
fn fingerprint(c: &CustomerRecord) -> u64 {
    hash_of(&(
        (&c.email, &c.phone, &c.first_name, &c.last_name, &c.name, &c.company),
        (&c.city, &c.region, &c.country, c.created_at, c.accepts_marketing, &c.tags),
        (c.reported_total_spent.map(|m| m.cents()), c.reported_orders_count, &c.lifecycle),
    ))
}

impl Loader<'_> {
    /// The customer a record belongs to (see the module docs); registers its identities.
    fn resolve(&mut self, identity: &Identity, guest_of: Option<&str>) -> Result<Option<String>> {
        let source = self.source.clone();
        let keys = source_keys(identity, guest_of);
        if keys.is_empty() {
            return Ok(None);
        }
        // The same source id and the same email each mean the same person: when a record's id and
        // email point at two customers, they are one and are merged (whatever the order the files
        // came in, the customers come out the same). A phone only finds a customer for a record
        // whose id and email do not, and never merges two (people share phones).
        let by_id = identity
            .source_customer_id
            .as_ref()
            .and_then(|id| self.ids.by_key.get(&source_key(&source, &format!("id:{id}"))))
            .map(|c| self.ids.root(c));
        let by_email = identity.email.as_ref().and_then(|e| self.ids.by_email.get(e)).map(|c| self.ids.root(c));
        let known = match (by_id, by_email) {
            (Some(a), Some(b)) if a != b => {
                let why = format!(
                    "{source} customer {} has the email {}",
                    identity.source_customer_id.as_deref().unwrap_or_default(),
                    identity.email.as_deref().unwrap_or_default()
                );
                Some(self.ids.unite(&a, &b, why))
            }
            (Some(a), _) => Some(a),
            (None, Some(b)) => Some(b),
            (None, None) => identity
                .phone
                .as_ref()
                .and_then(|p| self.ids.by_phone.get(p))
                .or_else(
                    || if identity.is_known() { None } else { self.ids.by_key.get(&source_key(&source, &keys[0])) },
                )
                .map(|c| self.ids.root(c)),
        };
        let cid = match known.clone() {
            Some(c) => c,
            None => {
                let c = format!("cust-{:06}", self.ids.next_number);
                self.ids.next_number += 1;
                c
            }
        };
        for key in keys {
            let full = source_key(&source, &key);
            if self.ids.by_key.contains_key(&full) {
                continue;
            }
            if known.is_some() && key.starts_with("id:") {
                self.merged += 1;
            }
            self.ids.by_key.insert(full, cid.clone());
            self.sources.append(vec![
                Value::Text(source.clone()),
                Value::Text(key),
                Value::Text(cid.clone()),
                text(&identity.source_customer_id),
                text(&identity.email),
                text(&identity.phone),
            ])?;
        }
        if let Some(e) = &identity.email {
            self.ids.by_email.entry(e.clone()).or_insert_with(|| cid.clone());
        }
        if let Some(p) = &identity.phone {
            self.ids.by_phone.entry(p.clone()).or_insert_with(|| cid.clone());
        }
        Ok(Some(cid))
    }

    fn stage_customer(&mut self, cid: &str, c: &CustomerRecord) -> Result<()> {
        let print = fingerprint(c);
        match self.staged.get_mut(cid) {
            Some(last) if *last == print => Ok(()),
            Some(last) => {
                *last = print;
                self.append_customer(cid, c)
            }
            None => {
                self.staged.insert(cid.to_string(), print);
                self.append_customer(cid, c)
            }
        }
    }

    fn append_customer(&mut self, cid: &str, c: &CustomerRecord) -> Result<()> {
        self.seq += 1;
        self.customers.append(vec![
            Value::Text(cid.to_string()),
            Value::BigInt(self.seq),
            text(&c.email),
            text(&c.phone),
            text(&c.first_name),
            text(&c.last_name),
            text(&c.name),
            text(&c.company),
            text(&c.city),
            text(&c.region),
            text(&c.country),
            c.created_at.map_or(Value::Null, ts),
            c.accepts_marketing.map_or(Value::Null, Value::Boolean),
            if c.tags.is_empty() { Value::Null } else { Value::Text(c.tags.join("\u{1f}")) },
            opt_money(c.reported_total_spent),
            c.reported_orders_count.map_or(Value::Null, Value::BigInt),
            text(&c.lifecycle),
        ])?;
        Ok(())
    }
}

impl Sink for Loader<'_> {
    fn customer(&mut self, rec: CustomerRecord) -> Result<()> {
        if self.suppressed.covers(&self.source, &rec.identity) {
            self.rows_suppressed += 1;
            return Ok(());
        }
        match self.resolve(&rec.identity, None)? {
            Some(cid) => {
                self.usable += 1;
                self.stage_customer(&cid, &rec)
            }
            None => {
                self.rejects.push(Reject {
                    line: 0,
                    column: None,
                    reason: "no source id, email or phone: nothing identifies this customer".into(),
                    raw: String::new(),
                });
                Ok(())
            }
        }
    }

    fn order(&mut self, o: OrderRecord) -> Result<()> {
        if let Err((column, reason)) = o.check() {
            self.rejects.push(Reject { line: o.line, column: Some(column.to_string()), reason, raw: String::new() });
            return Ok(());
        }
        if self.suppressed.covers(&self.source, &o.customer.identity)
            || (!o.customer.identity.is_known() && self.suppressed.covers_guest(&self.source, &o.source_order_id))
        {
            self.rows_suppressed += 1;
            return Ok(());
        }
        let Some(cid) = self.resolve(&o.customer.identity, Some(&o.source_order_id))? else {
            unreachable!("an order always resolves: guests are keyed by the order id")
        };
        self.stage_customer(&cid, &o.customer)?;
        self.usable += 1;
        let order_id = format!("{}:{}", self.source, o.source_order_id);
        self.order_ids.push(hash_of(&order_id));
        self.seq += 1;
        let seq = self.seq;
        let net = o.net_total().unwrap_or(Money::ZERO);
        self.orders.append(vec![
            Value::Text(order_id.clone()),
            Value::BigInt(seq),
            Value::Text(self.source.clone()),
            Value::Text(o.source_order_id.clone()),
            text(&o.order_number),
            Value::Text(cid),
            ts(o.ordered_at),
            o.utc_offset_minutes.map_or(Value::Null, Value::SmallInt),
            text(&o.currency),
            opt_money(o.subtotal),
            opt_money(o.discount_total),
            opt_money(o.shipping_total),
            opt_money(o.tax_total),
            money(o.total),
            money(o.refunded_total),
            money(net),
            Value::Text(o.status.as_str().to_string()),
            text(&o.financial_status),
            text(&o.channel),
            text(&o.payment_method),
            text(&o.discount_codes),
            o.tax_included.map_or(Value::Null, Value::Boolean),
            o.converted.as_ref().map_or(Value::Null, |c| Value::Text(c.currency.clone())),
            o.converted.as_ref().map_or(Value::Null, |c| money(c.total)),
            o.converted.as_ref().map_or(Value::Null, |c| money(c.refunded)),
        ])?;
        for (i, item) in o.items.iter().enumerate() {
            self.items.append(vec![
                Value::Text(order_id.clone()),
                Value::BigInt(seq),
                Value::Int(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                text(&item.sku),
                text(&item.name),
                text(&item.vendor),
                text(&item.category),
                Value::BigInt(item.quantity),
                money(item.unit_price),
                money(item.discount),
                opt_money(item.line_total()),
                Value::Boolean(item.is_tip),
            ])?;
        }
        Ok(())
    }

    fn product(&mut self, p: ProductRecord) -> Result<()> {
        self.usable += 1;
        self.seq += 1;
        self.products.append_row(appender_params_from_iter([
            Value::Text(p.sku),
            Value::BigInt(self.seq),
            text(&p.title),
            text(&p.category),
            text(&p.vendor),
        ]))?;
        Ok(())
    }

    fn subscription(&mut self, rec: SubscriptionRecord) -> Result<()> {
        if self.suppressed.covers(&self.source, &rec.customer.identity) {
            self.rows_suppressed += 1;
            return Ok(());
        }
        let Some(cid) = self.resolve(&rec.customer.identity, None)? else {
            self.rejects.push(Reject {
                line: rec.line,
                column: Some("Customer ID".into()),
                reason: "no Customer ID or Customer Email: whose subscription is it?".into(),
                raw: String::new(),
            });
            return Ok(());
        };
        self.stage_customer(&cid, &rec.customer)?;
        self.usable += 1;
        self.seq += 1;
        crate::store::subscriptions::append(&mut self.subscriptions, self.seq, &self.source, &cid, &rec)
    }

    fn reject(&mut self, rej: Reject) -> Result<()> {
        self.rejects.push(rej);
        Ok(())
    }
}

/// What staging a file found, for the merge.
pub(super) struct Staged {
    pub rejects: Vec<Reject>,
    /// Customers, orders and products staged.
    pub usable: u64,
    pub merged: u64,
    pub rows_suppressed: u64,
    /// Customers found to be one: (merged id, id it joined, why).
    pub merges: Vec<(String, String, String)>,
    /// An order id occurs more than once in the file.
    pub repeated_orders: bool,
}

impl<'c> Loader<'c> {
    /// A loader appending to the staging tables of `tx` (see [`STAGING`]) for records of `source`.
    pub fn new(tx: &'c Connection, source: &str) -> Result<Loader<'c>> {
        Ok(Loader {
            source: source.to_string(),
            ids: Identities::new(tx)?,
            customers: Stage::new(tx.appender_to_catalog_and_db("_stg_customers", "temp", "main")?, CUSTOMER_STAGE),
            sources: Stage::new(tx.appender_to_catalog_and_db("_stg_sources", "temp", "main")?, SOURCE_STAGE),
            orders: Stage::new(tx.appender_to_catalog_and_db("_stg_orders", "temp", "main")?, ORDER_STAGE),
            items: Stage::new(tx.appender_to_catalog_and_db("_stg_items", "temp", "main")?, ITEM_STAGE),
            products: tx.appender_to_catalog_and_db("_stg_products", "temp", "main")?,
            subscriptions: tx.appender_to_catalog_and_db("_stg_subscriptions", "temp", "main")?,
            seq: 0,
            rejects: Vec::new(),
            staged: HashMap::new(),
            order_ids: Vec::new(),
            usable: 0,
            merged: 0,
            suppressed: crate::store::privacy::Suppressed::load(tx)?,
            rows_suppressed: 0,
        })
    }

    /// Stages batches of records in order, looking up the identities they name first (once for
    /// all of them).
    pub fn take(&mut self, conn: &Connection, batches: Vec<Vec<Record>>) -> Result<()> {
        let records: Vec<Record> = batches.into_iter().flatten().collect();
        self.ids.prefetch(conn, &self.source, &records)?;
        replay(records, self)
    }

    /// Flushes the staging tables; returns what the merge needs to know.
    pub fn finish(mut self) -> Result<Staged> {
        self.customers.flush().context("staging customers")?;
        self.sources.flush().context("staging customer sources")?;
        self.products.flush().context("staging products")?;
        self.subscriptions.flush().context("staging subscriptions")?;
        self.orders.flush().context("staging orders")?;
        self.items.flush().context("staging line items")?;
        let merges: Vec<(String, String, String)> = std::mem::take(&mut self.ids.merges)
            .into_iter()
            .map(|(gone, why)| {
                let keep = self.ids.root(&gone);
                (gone, keep, why)
            })
            .collect();
        let repeated_orders = {
            let ids = &mut self.order_ids;
            ids.sort_unstable();
            ids.windows(2).any(|w| w[0] == w[1])
        };
        Ok(Staged {
            rejects: std::mem::take(&mut self.rejects),
            usable: self.usable,
            merged: self.merged,
            rows_suppressed: self.rows_suppressed,
            merges,
            repeated_orders,
        })
    }
}
