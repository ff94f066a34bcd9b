//! Importing one file: canonical records are resolved to customers, staged through appenders and
//! merged into the model in a single transaction, so a failure leaves the database as it was.
//!
//! Identity rules (docs/data-model.md): a record's customer is the one already known by the same
//! source id in the same source, else by the same normalised email, else by the same normalised
//! phone, else a new customer. Orders without any identity are guests, one customer per order.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{NaiveDateTime, Utc};
use duckdb::types::Value;
use duckdb::{Appender, Connection, appender_params_from_iter, params};

use super::Store;
use super::identities::{Identities, source_key, source_keys};
use super::stage::{Kind, Stage};
use super::value::{money, opt_money, text, ts};
use crate::ingest::record::{
    ChannelSink, CustomerRecord, Identity, OrderRecord, ProductRecord, Record, Reject, Sink, SubscriptionRecord, replay,
};
use crate::ingest::values::Money;

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

const CUSTOMER_FIELDS: &[&str] = &[
    "email",
    "phone",
    "first_name",
    "last_name",
    "name",
    "company",
    "city",
    "region",
    "country",
    "accepts_marketing",
    "reported_total_spent",
    "reported_orders_count",
    "lifecycle",
];

const ORDER_FIELDS: &[&str] = &[
    "source",
    "source_order_id",
    "order_number",
    "customer_id",
    "ordered_at",
    "utc_offset_minutes",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "refunded_total",
    "net_total",
    "status",
    "financial_status",
    "channel",
    "payment_method",
    "discount_codes",
    "tax_included",
    "converted_currency",
    "converted_total",
    "converted_refunded",
];

const ITEM_COMPARED: &str = "order_id, line_no, sku, name, vendor, quantity, unit_price, discount, line_total, is_tip";

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

const STAGING: &str = "
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

const DROP_STAGING: &str = "
DROP TABLE IF EXISTS _stg_customers; DROP TABLE IF EXISTS _stg_sources; DROP TABLE IF EXISTS _stg_orders;
DROP TABLE IF EXISTS _stg_items; DROP TABLE IF EXISTS _stg_products; DROP TABLE IF EXISTS _m_customers;
DROP TABLE IF EXISTS _m_orders; DROP TABLE IF EXISTS _m_items; DROP TABLE IF EXISTS _m_products;
DROP TABLE IF EXISTS _stg_merges; DROP TABLE IF EXISTS _multi; DROP TABLE IF EXISTS _merged;
DROP TABLE IF EXISTS _touched;
";

/// The sink that stages records for one import.
struct Loader<'c> {
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
    suppressed: super::privacy::Suppressed,
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
        super::subscriptions::append(&mut self.subscriptions, self.seq, &self.source, &cid, &rec)
    }

    fn reject(&mut self, rej: Reject) -> Result<()> {
        self.rejects.push(rej);
        Ok(())
    }
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// What one import merges.
struct Job<'a> {
    import_id: i64,
    /// The kind of export (`stripe-payments`): orders other kinds also describe are merged field
    /// by field.
    kind: &'a str,
    repeated_orders: bool,
    /// Customers found to be one: (merged id, id it joined, why).
    merges: &'a [(String, String, String)],
    reporting: &'a super::Reporting,
}

/// Which kind of export knows a field best when two kinds describe the same order (a Stripe
/// payment and its invoice share an id): payments know what was charged and refunded, invoices
/// know the lines, discounts and taxes. A field takes the value of the kind that knows it best,
/// else of any kind that has it (in kind name order), so the result never depends on which file
/// was imported first.
const AUTHORITY: &[(&str, &[&str])] = &[
    (
        "stripe-payments",
        &[
            "customer_id",
            "ordered_at",
            "currency",
            "total",
            "refunded_total",
            "status",
            "financial_status",
            "payment_method",
            "channel",
            "converted_currency",
            "converted_total",
            "converted_refunded",
        ],
    ),
    (
        "stripe-invoices",
        &[
            "order_number",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "discount_codes",
            "tax_included",
        ],
    ),
];

/// Kinds of export that list every customer's current tags: a newer one replaces the tags the
/// previous one stated (a tag removed in the shop is removed here too).
const STATES_TAGS: &[&str] = &["shopify-customers"];

/// The SQL that merges field `f` over an order's versions (see [`AUTHORITY`]).
fn merged_field(f: &str) -> String {
    let best: Vec<String> =
        AUTHORITY.iter().filter(|(_, fields)| fields.contains(&f)).map(|(kind, _)| format!("'{kind}'")).collect();
    let rank = if best.is_empty() {
        "'1'".to_string()
    } else {
        format!("CASE WHEN kind IN ({}) THEN '2' ELSE '1' END", best.join(", "))
    };
    format!("arg_max({f}, {rank} || kind) FILTER (WHERE {f} IS NOT NULL) AS {f}")
}

/// Applies the customer merges found while reading: the merged customers' staged rows, sources,
/// orders and history move to the customer they joined, whose record takes the merged one's
/// values where it has none.
fn merge_customers(conn: &Connection, job: &Job, counts: &mut ImportCounts) -> Result<()> {
    if job.merges.is_empty() {
        return Ok(());
    }
    conn.execute_batch("CREATE TEMP TABLE _stg_merges (merged_id VARCHAR, into_id VARCHAR, reason VARCHAR);")?;
    {
        let mut app = conn.appender_to_catalog_and_db("_stg_merges", "temp", "main")?;
        for (gone, keep, why) in job.merges {
            app.append_row(params![gone, keep, why])?;
        }
        app.flush()?;
    }
    super::upkeep::touch(conn, "SELECT merged_id FROM _stg_merges UNION ALL SELECT into_id FROM _stg_merges")?;
    let cols = CUSTOMER_FIELDS.join(", ");
    let coalesced = CUSTOMER_FIELDS.iter().map(|f| format!("COALESCE(k.{f}, g.{f})")).collect::<Vec<_>>().join(", ");
    conn.execute_batch(&format!(
        "UPDATE _stg_customers SET customer_id = m.into_id FROM _stg_merges m WHERE _stg_customers.customer_id = m.merged_id;
         UPDATE _stg_sources SET customer_id = m.into_id FROM _stg_merges m WHERE _stg_sources.customer_id = m.merged_id;
         UPDATE _stg_orders SET customer_id = m.into_id FROM _stg_merges m WHERE _stg_orders.customer_id = m.merged_id;
         UPDATE _stg_subscriptions SET customer_id = m.into_id FROM _stg_merges m WHERE _stg_subscriptions.customer_id = m.merged_id;
         -- The joined customer's record, filled in from the merged one's, staged first (seq 0) so
         -- that this file's own values still win.
         INSERT INTO _stg_customers (customer_id, seq, {cols}, created_at, tags)
            SELECT k.customer_id, 0, {coalesced}, least(k.created_at, g.created_at),
                   NULLIF(array_to_string(list_distinct(list_concat(COALESCE(k.tags, []), COALESCE(g.tags, []))), chr(31)), '')
            FROM _stg_merges m JOIN customers g ON g.customer_id = m.merged_id JOIN customers k ON k.customer_id = m.into_id;
         DELETE FROM customers WHERE customer_id IN (SELECT merged_id FROM _stg_merges);
         UPDATE customer_sources SET customer_id = m.into_id FROM _stg_merges m WHERE customer_sources.customer_id = m.merged_id;
         UPDATE orders SET customer_id = m.into_id FROM _stg_merges m WHERE orders.customer_id = m.merged_id;
         UPDATE subscriptions SET customer_id = m.into_id FROM _stg_merges m WHERE subscriptions.customer_id = m.merged_id;
         UPDATE order_versions SET customer_id = m.into_id FROM _stg_merges m WHERE order_versions.customer_id = m.merged_id;
         DELETE FROM segment_members WHERE customer_id IN (SELECT merged_id FROM _stg_merges);
         -- Score history moves too, where the joined customer has no row of that run.
         INSERT INTO customer_scores
            SELECT s.* REPLACE (m.into_id AS customer_id)
            FROM customer_scores s JOIN _stg_merges m ON s.customer_id = m.merged_id
            WHERE NOT EXISTS (SELECT 1 FROM customer_scores k WHERE k.run_id = s.run_id AND k.customer_id = m.into_id)
            QUALIFY row_number() OVER (PARTITION BY s.run_id, m.into_id ORDER BY s.customer_id) = 1;
         DELETE FROM customer_scores WHERE customer_id IN (SELECT merged_id FROM _stg_merges);"
    ))
    .context("merging customers found to be one")?;
    conn.execute(
        "INSERT INTO customer_merges SELECT merged_id, into_id, ?, reason FROM _stg_merges",
        params![job.import_id],
    )?;
    counts.customers_merged += job.merges.len() as u64;
    Ok(())
}

/// Orders that another kind of export also describes: each kind's version is kept in
/// order_versions and the staged order becomes their field-by-field merge (see [`AUTHORITY`]).
fn merge_order_versions(conn: &Connection, job: &Job, items: &str) -> Result<()> {
    let multi: u64 = {
        let mut stmt = conn.prepare(
            "CREATE TEMP TABLE _multi AS
             SELECT s.order_id FROM _m_orders s JOIN orders o ON o.order_id = s.order_id
             WHERE o.kinds IS NOT NULL AND (len(o.kinds) > 1 OR o.kinds[1] <> ?)",
        )?;
        stmt.execute(params![job.kind])?;
        count(conn, "SELECT count(*) FROM _multi")?
    };
    if multi == 0 {
        return Ok(());
    }
    let fields = ORDER_FIELDS.join(", ");
    let merged =
        ORDER_FIELDS
            .iter()
            .map(|f| {
                if *f == "net_total" { "CAST(NULL AS DECIMAL(18,2)) AS net_total".to_string() } else { merged_field(f) }
            })
            .collect::<Vec<_>>();
    let set = ORDER_FIELDS.iter().map(|f| format!("{f} = v.{f}")).collect::<Vec<_>>().join(", ");
    // The version an order had before another kind described it.
    conn.execute_batch(&format!(
        "INSERT INTO order_versions (order_id, kind, {fields}, import_id)
            SELECT o.order_id, o.kinds[1], {o_fields}, o.import_id
            FROM orders o JOIN _multi USING (order_id)
            WHERE len(o.kinds) = 1 AND NOT EXISTS (SELECT 1 FROM order_versions v WHERE v.order_id = o.order_id);",
        o_fields = ORDER_FIELDS.iter().map(|f| format!("o.{f}")).collect::<Vec<_>>().join(", "),
    ))
    .context("keeping each export's version of an order")?;
    conn.execute(
        "DELETE FROM order_versions WHERE kind = ? AND order_id IN (SELECT order_id FROM _multi)",
        params![job.kind],
    )?;
    conn.execute(
        &format!(
            "INSERT INTO order_versions (order_id, kind, {fields}, import_id)
             SELECT s.order_id, ?, {s_fields}, ? FROM _m_orders s JOIN _multi USING (order_id)",
            s_fields = ORDER_FIELDS.iter().map(|f| format!("s.{f}")).collect::<Vec<_>>().join(", "),
        ),
        params![job.kind, job.import_id],
    )?;
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE _merged AS
            SELECT order_id, {merged}, list(kind ORDER BY kind) AS kinds
            FROM order_versions WHERE order_id IN (SELECT order_id FROM _multi) GROUP BY order_id;
         UPDATE _merged SET net_total = total - refunded_total;
         UPDATE _m_orders SET {set}, kinds = v.kinds FROM _merged v WHERE _m_orders.order_id = v.order_id;
         -- Line items: this export's when it has any, else the ones the order already has.
         INSERT INTO {items} (order_id, seq, line_no, sku, name, vendor, category, quantity, unit_price, discount, line_total, is_tip)
            SELECT i.order_id, m.seq, i.line_no, i.sku, i.name, i.vendor, i.category, i.quantity, i.unit_price,
                   i.discount, i.line_total, i.is_tip
            FROM order_items i JOIN _m_orders m ON m.order_id = i.order_id
            WHERE m.order_id IN (SELECT order_id FROM _multi)
              AND NOT EXISTS (SELECT 1 FROM {items} x WHERE x.order_id = m.order_id);",
        merged = merged.join(", "),
    ))
    .context("merging the versions of orders two exports describe")?;
    let changed =
        ORDER_FIELDS.iter().map(|f| format!("_m_orders.{f} IS DISTINCT FROM o.{f}")).collect::<Vec<_>>().join(" OR ");
    conn.execute_batch(&format!(
        "UPDATE _m_orders SET is_changed = ({changed} OR _m_orders.kinds IS DISTINCT FROM o.kinds)
         FROM orders o WHERE o.order_id = _m_orders.order_id AND _m_orders.order_id IN (SELECT order_id FROM _multi);"
    ))
    .context("comparing merged orders")?;
    Ok(())
}

/// Merges staged rows into the model; returns the counts.
fn merge(conn: &Connection, job: &Job, counts: &mut ImportCounts) -> Result<()> {
    let (import_id, repeated_orders) = (job.import_id, job.repeated_orders);
    let started = std::time::Instant::now();
    let mark = |what: &str| super::timing(what, started, None);
    super::upkeep::begin(conn)?;
    merge_customers(conn, job, counts)?;
    // Customers: the latest non-empty value per field wins; created_at is the earliest. Tags
    // accumulate, except that an export which states every customer's tags (STATES_TAGS) replaces
    // the ones it stated last time: a tag removed in the shop leaves the customer and the segment.
    let states_tags = STATES_TAGS.contains(&job.kind);
    let (tags_from, stated_join) = if states_tags {
        (
            "list_filter(COALESCE(c.tags, []), lambda t: NOT list_contains(COALESCE(st.tags, []), t))",
            // The kind is one of STATES_TAGS (constants), so it can stand in the statement.
            format!("LEFT JOIN customer_stated_tags st ON st.customer_id = s.customer_id AND st.kind = '{}'", job.kind),
        )
    } else {
        ("COALESCE(c.tags, [])", String::new())
    };
    let latest: Vec<String> =
        CUSTOMER_FIELDS.iter().map(|f| format!("arg_max({f}, seq) FILTER (WHERE {f} IS NOT NULL) AS {f}")).collect();
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE _m_customers AS
         WITH s AS (
            SELECT customer_id, {latest}, min(created_at) AS created_at,
                   list_sort(list_distinct(flatten(COALESCE(list(string_split(tags, chr(31))) FILTER (WHERE tags IS NOT NULL), [])))) AS tags
            FROM _stg_customers GROUP BY customer_id)
         SELECT s.customer_id, {merged},
                CASE WHEN c.created_at IS NULL THEN s.created_at WHEN s.created_at IS NULL THEN c.created_at
                     ELSE least(c.created_at, s.created_at) END AS created_at,
                list_sort(list_distinct(list_concat({tags_from}, s.tags))) AS tags,
                s.tags AS stated_tags,
                c.customer_id IS NULL AS is_new,
                c.customer_id IS NOT NULL AND ({changed}
                    OR list_sort(list_distinct(list_concat({tags_from}, s.tags))) IS DISTINCT FROM c.tags
                    OR (s.created_at IS NOT NULL AND (c.created_at IS NULL OR s.created_at < c.created_at))) AS is_changed
         FROM s LEFT JOIN customers c ON c.customer_id = s.customer_id {stated_join};",
        latest = latest.join(", "),
        merged = CUSTOMER_FIELDS.iter().map(|f| format!("COALESCE(s.{f}, c.{f}) AS {f}")).collect::<Vec<_>>().join(", "),
        changed = CUSTOMER_FIELDS.iter().map(|f| format!("COALESCE(s.{f}, c.{f}) IS DISTINCT FROM c.{f}")).collect::<Vec<_>>().join(" OR "),
    ))
    .context("merging customers")?;
    mark("import: merging customers");
    counts.customers_inserted = count(conn, "SELECT count(*) FROM _m_customers WHERE is_new")?;
    counts.customers_updated = count(conn, "SELECT count(*) FROM _m_customers WHERE is_changed")?;
    counts.customers_unchanged = count(conn, "SELECT count(*) FROM _m_customers WHERE NOT is_new AND NOT is_changed")?;
    super::upkeep::touch(conn, "SELECT customer_id FROM _m_customers WHERE is_new OR is_changed")?;
    let cols = CUSTOMER_FIELDS.join(", ");
    conn.execute_batch(&format!(
        "INSERT INTO customers (customer_id, {cols}, created_at, tags)
            SELECT customer_id, {cols}, created_at, tags FROM _m_customers WHERE is_new;
         UPDATE customers SET {sets}, created_at = m.created_at, tags = m.tags
            FROM _m_customers m WHERE customers.customer_id = m.customer_id AND m.is_changed;",
        sets = CUSTOMER_FIELDS.iter().map(|f| format!("{f} = m.{f}")).collect::<Vec<_>>().join(", "),
    ))
    .context("writing customers")?;
    if states_tags {
        conn.execute(
            "INSERT OR REPLACE INTO customer_stated_tags SELECT customer_id, ?, stated_tags, ? FROM _m_customers",
            params![job.kind, import_id],
        )
        .context("recording the tags this export states")?;
    }
    conn.execute("INSERT INTO customer_sources SELECT *, ? FROM _stg_sources", params![import_id])
        .context("writing customer sources")?;
    mark("import: writing customers and sources");

    // Orders: the last occurrence of an order in the file wins; an order is unchanged only when
    // every field and every line item is the same.
    let order_cols = ORDER_FIELDS.join(", ");
    // When no order id repeats in the file (the usual case), every staged order and item is its
    // order's only occurrence: no deduplication, and no join of the items to the orders.
    let (latest, items) = if repeated_orders {
        (
            "SELECT * FROM _stg_orders QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY seq DESC) = 1",
            "_m_items",
        )
    } else {
        ("SELECT * FROM _stg_orders", "_stg_items")
    };
    conn.execute(
        &format!(
            "CREATE TEMP TABLE _m_orders AS
             WITH s AS ({latest})
             SELECT s.*, [CAST(? AS VARCHAR)] AS kinds, o.order_id IS NULL AS is_new,
                    o.order_id IS NOT NULL AND ({changed}) AS is_changed
             FROM s LEFT JOIN orders o ON o.order_id = s.order_id",
            changed =
                ORDER_FIELDS.iter().map(|f| format!("s.{f} IS DISTINCT FROM o.{f}")).collect::<Vec<_>>().join(" OR "),
        ),
        params![job.kind],
    )
    .context("comparing orders")?;
    if repeated_orders {
        conn.execute_batch(
            "CREATE TEMP TABLE _m_items AS SELECT i.* FROM _stg_items i JOIN _m_orders m ON m.order_id = i.order_id AND m.seq = i.seq;",
        )
        .context("comparing orders")?;
    }
    merge_order_versions(conn, job, items)?;
    // Orders already in the database: changed when any line item differs, too.
    let known = count(conn, "SELECT count(*) FROM _m_orders WHERE NOT is_new")?;
    if known > 0 {
        conn.execute_batch(&format!(
            "UPDATE _m_orders SET is_changed = true WHERE NOT is_new AND NOT is_changed AND order_id IN (
                SELECT order_id FROM (
                    (SELECT {ITEM_COMPARED} FROM {items} WHERE order_id IN (SELECT order_id FROM _m_orders WHERE NOT is_new)
                     EXCEPT SELECT {ITEM_COMPARED} FROM order_items WHERE order_id IN (SELECT order_id FROM _m_orders WHERE NOT is_new))
                    UNION ALL
                    (SELECT {ITEM_COMPARED} FROM order_items WHERE order_id IN (SELECT order_id FROM _m_orders WHERE NOT is_new)
                     EXCEPT SELECT {ITEM_COMPARED} FROM {items} WHERE order_id IN (SELECT order_id FROM _m_orders WHERE NOT is_new))));"
        ))
        .context("comparing orders")?;
    }
    mark("import: comparing orders");
    counts.orders_inserted = count(conn, "SELECT count(*) FROM _m_orders WHERE is_new")?;
    counts.orders_updated = count(conn, "SELECT count(*) FROM _m_orders WHERE is_changed")?;
    counts.orders_unchanged = count(conn, "SELECT count(*) FROM _m_orders WHERE NOT is_new AND NOT is_changed")?;
    // The customers whose orders change: the orders' new customers, and the old ones of orders
    // that moved to another customer.
    super::upkeep::touch(
        conn,
        "SELECT customer_id FROM _m_orders WHERE is_new OR is_changed
         UNION ALL SELECT o.customer_id FROM orders o JOIN _m_orders m ON m.order_id = o.order_id WHERE m.is_changed",
    )?;
    conn.execute_batch(
        "DELETE FROM order_items WHERE order_id IN (SELECT order_id FROM _m_orders WHERE is_changed);
         DELETE FROM orders WHERE order_id IN (SELECT order_id FROM _m_orders WHERE is_changed);",
    )
    .context("replacing changed orders")?;
    mark("import: replacing changed orders");
    conn.execute(
        &format!("INSERT INTO orders (order_id, {order_cols}, kinds, import_id) SELECT order_id, {order_cols}, kinds, ? FROM _m_orders WHERE is_new OR is_changed"),
        params![import_id],
    )
    .context("writing orders")?;
    mark("import: writing orders");
    // Order numbers this import's orders share with another order of their source, for the
    // orders_unique_numbers check (which would otherwise group every order).
    conn.execute_batch(
        "INSERT OR IGNORE INTO order_number_clashes
            SELECT DISTINCT o.source, o.order_number
            FROM _m_orders m JOIN orders o
              ON o.source = m.source AND o.order_number = m.order_number AND o.order_id <> m.order_id
            WHERE (m.is_new OR m.is_changed) AND m.order_number IS NOT NULL;",
    )
    .context("finding shared order numbers")?;
    mark("import: finding shared order numbers");
    // Items of the orders written: all of them when every order is new.
    let written =
        if known == 0 { "" } else { "WHERE i.order_id IN (SELECT order_id FROM _m_orders WHERE is_new OR is_changed)" };
    conn.execute_batch(&format!(
        "INSERT INTO order_items (order_id, line_no, sku, name, vendor, category, quantity, unit_price, discount, line_total, is_tip)
            SELECT i.order_id, i.line_no, i.sku, i.name, i.vendor, COALESCE(i.category, p.category), i.quantity,
                   i.unit_price, i.discount, i.line_total, i.is_tip
            FROM {items} i LEFT JOIN products p ON p.sku = i.sku
            {written};
         UPDATE customers SET created_at = f.first_order
            FROM (SELECT customer_id, min(ordered_at) AS first_order FROM orders
                  WHERE customer_id IN (SELECT DISTINCT customer_id FROM _m_orders) GROUP BY customer_id) f
            WHERE customers.customer_id = f.customer_id
              AND (customers.created_at IS NULL OR customers.created_at > f.first_order);",
    ))
    .context("writing order items")?;
    mark("import: writing order items");

    // Products: upsert by SKU, then give existing line items their category.
    conn.execute_batch(
        "CREATE TEMP TABLE _m_products AS SELECT * FROM _stg_products QUALIFY row_number() OVER (PARTITION BY sku ORDER BY seq DESC) = 1;",
    )?;
    counts.products_upserted = count(conn, "SELECT count(*) FROM _m_products")?;
    if counts.products_upserted > 0 {
        conn.execute(
            "UPDATE products SET title = p.title, category = p.category, vendor = p.vendor, import_id = ?
             FROM _m_products p WHERE products.sku = p.sku",
            params![import_id],
        )?;
        conn.execute(
            "INSERT INTO products SELECT p.sku, p.title, p.category, p.vendor, ? FROM _m_products p
             WHERE p.sku NOT IN (SELECT sku FROM products)",
            params![import_id],
        )?;
        conn.execute_batch(
            "UPDATE order_items SET category = p.category FROM _m_products p
             WHERE order_items.sku = p.sku AND p.category IS NOT NULL AND order_items.category IS DISTINCT FROM p.category;",
        )?;
    }

    // Local times and values of the orders written; everything when a setting changed.
    let everything = super::derived::settle(conn, job.reporting, super::derived::Scope::Import(import_id), false)?;
    mark("import: local times and values");
    // Tag segments and the search index depend on the customers alone: when this import inserted
    // or changed none (an orders export of known customers), they stay as they are. The summary
    // changes for the customers this import touched (all of them when `settle` revalued all).
    let customers_changed = counts.customers_inserted + counts.customers_updated + counts.customers_merged > 0;
    let refresh = super::upkeep::Refresh { customers: customers_changed, summary: !everything };
    super::upkeep::refresh(conn, refresh, super::upkeep::Scope::Touched)?;
    mark("import: tag segments, search index and customer summary");
    Ok(())
}

impl Store {
    /// The committed import of a file with these exact bytes read with these `settings`, if any.
    /// Imports recorded before settings were kept were made with `default_settings`.
    pub fn previous_import(
        &self,
        sha256: &str,
        settings: &str,
        default_settings: &str,
    ) -> Result<Option<PreviousImport>> {
        let mut stmt = self.conn.prepare(
            "SELECT import_id, file_name, finished_at, rows_read, customers_inserted, customers_updated,
                    customers_unchanged, orders_inserted, orders_updated, orders_unchanged, rows_rejected,
                    COALESCE(products_upserted, 0), COALESCE(rows_suppressed, 0),
                    COALESCE(subscriptions_inserted, 0), COALESCE(subscriptions_updated, 0),
                    COALESCE(subscriptions_unchanged, 0)
             FROM import_log WHERE sha256 = ? AND COALESCE(settings, ?) = ?
             ORDER BY import_id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query([sha256, default_settings, settings])?;
        let Some(r) = rows.next()? else { return Ok(None) };
        let n = |i: usize| -> Result<u64> { Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0)) };
        let micros = match r.get::<_, Value>(2)? {
            Value::Timestamp(unit, v) => unit.to_micros(v),
            _ => 0,
        };
        Ok(Some(PreviousImport {
            import_id: r.get(0)?,
            file_name: r.get(1)?,
            finished_at: chrono::DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc()).unwrap_or_default(),
            counts: ImportCounts {
                import_id: Some(r.get(0)?),
                rows_read: n(3)?,
                customers_inserted: n(4)?,
                customers_updated: n(5)?,
                customers_unchanged: n(6)?,
                orders_inserted: n(7)?,
                orders_updated: n(8)?,
                orders_unchanged: n(9)?,
                rows_rejected: n(10)?,
                products_upserted: n(11)?,
                rows_suppressed: n(12)?,
                subscriptions_inserted: n(13)?,
                subscriptions_updated: n(14)?,
                subscriptions_unchanged: n(15)?,
                ..ImportCounts::default()
            },
        }))
    }

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
        tx.execute_batch(DROP_STAGING)?;
        tx.execute_batch(STAGING)?;
        tx.execute_batch(super::subscriptions::STAGING)?;
        let import_id: i64 = tx.query_row("SELECT nextval('import_id_seq')", [], |r| r.get(0))?;
        let ids = Identities::new(&tx)?;
        let mut loader = Loader {
            source: meta.source.clone(),
            ids,
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
            suppressed: super::privacy::Suppressed::load(&tx)?,
            rows_suppressed: 0,
        };
        // Parse on a second thread while this one stages: the two halves of the work overlap.
        let rows_read = std::thread::scope(|scope| -> Result<u64> {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Record>>(64);
            let parser = scope.spawn(move || -> Result<u64> {
                let mut sink = ChannelSink::new(sender);
                let n = parse(&mut sink)?;
                sink.finish()?;
                Ok(n)
            });
            let mut loaded = Ok(());
            for batch in &receiver {
                let known = loader.ids.prefetch(&tx, &loader.source, &batch);
                if let Err(e) = known.and_then(|()| replay(batch, &mut loader)) {
                    loaded = Err(e);
                    break;
                }
            }
            drop(receiver);
            let parsed = parser.join().map_err(|_| anyhow::anyhow!("reading the file failed unexpectedly"))?;
            loaded?;
            parsed
        })?;
        loader.customers.flush().context("staging customers")?;
        loader.sources.flush().context("staging customer sources")?;
        loader.products.flush().context("staging products")?;
        loader.subscriptions.flush().context("staging subscriptions")?;
        loader.orders.flush().context("staging orders")?;
        loader.items.flush().context("staging line items")?;
        super::timing("import: reading and staging the file", started_at, Some(rows_read as usize));
        let rejects = std::mem::take(&mut loader.rejects);
        let (usable, merged, rows_suppressed) = (loader.usable, loader.merged, loader.rows_suppressed);
        let merges: Vec<(String, String, String)> = std::mem::take(&mut loader.ids.merges)
            .into_iter()
            .map(|(gone, why)| {
                let keep = loader.ids.root(&gone);
                (gone, keep, why)
            })
            .collect();
        let repeated_orders = {
            let ids = &mut loader.order_ids;
            ids.sort_unstable();
            ids.windows(2).any(|w| w[0] == w[1])
        };
        drop(loader);
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
        let job = Job { import_id, kind: &meta.kind, repeated_orders, merges: &merges, reporting: &reporting };
        merge(&tx, &job, &mut counts)?;
        super::subscriptions::merge(&tx, import_id, &mut counts)?;
        tx.execute_batch(DROP_STAGING)?;
        tx.execute_batch(super::subscriptions::DROP_STAGING)?;
        let finished = Utc::now().naive_utc();
        tx.execute(
            "INSERT INTO import_log (import_id, file_path, file_name, sha256, kind, source, started_at, finished_at,
                rows_read, customers_inserted, customers_updated, customers_unchanged, orders_inserted,
                orders_updated, orders_unchanged, rows_rejected, rejects_path, products_upserted, settings, rows_suppressed,
                subscriptions_inserted, subscriptions_updated, subscriptions_unchanged)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                import_id,
                meta.file_path,
                meta.file_name,
                meta.sha256,
                meta.kind,
                meta.source,
                ts(started),
                ts(finished),
                counts.rows_read as i64,
                counts.customers_inserted as i64,
                counts.customers_updated as i64,
                counts.customers_unchanged as i64,
                counts.orders_inserted as i64,
                counts.orders_updated as i64,
                counts.orders_unchanged as i64,
                counts.rows_rejected as i64,
                rejects_path,
                counts.products_upserted as i64,
                meta.settings,
                counts.rows_suppressed as i64,
                counts.subscriptions_inserted as i64,
                counts.subscriptions_updated as i64,
                counts.subscriptions_unchanged as i64,
            ],
        )?;
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            tx.rollback()?;
            anyhow::bail!("interrupted");
        }
        if meta.dry_run {
            tx.rollback()?;
            counts.import_id = None;
        } else {
            tx.commit().context("cannot commit the import; the database is unchanged")?;
            super::timing("import: committed", started_at, None);
        }
        Ok((counts, rejects))
    }
}
