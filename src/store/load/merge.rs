//! Merging one import's staged rows into the model: customers found to be one, the latest value
//! per customer field, orders new, changed or unchanged (and the versions two kinds of export
//! give of one order), line items and products, then the derived tables.

use anyhow::{Context, Result};
use duckdb::{Connection, params};

use super::ImportCounts;
use crate::store::keys;

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

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// What one import merges.
pub(super) struct Job<'a> {
    pub import_id: i64,
    /// The kind of export (`stripe-payments`): orders other kinds also describe are merged field
    /// by field.
    pub kind: &'a str,
    pub repeated_orders: bool,
    /// Customers found to be one: (merged id, id it joined, why).
    pub merges: &'a [(String, String, String)],
    pub reporting: &'a crate::store::Reporting,
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
    crate::store::upkeep::touch(conn, "SELECT merged_id FROM _stg_merges UNION ALL SELECT into_id FROM _stg_merges")?;
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
/// `known` holds the stored versions of the staged orders that exist (see [`known_orders`]).
/// Returns the table of line items to write from then on: `items`, or with orders merged, a copy
/// that adds the stored items of merged orders this export gives none for.
fn merge_order_versions<'a>(conn: &Connection, job: &Job, items: &'a str, known: &str) -> Result<&'a str> {
    let multi: u64 = {
        let mut stmt = conn.prepare(&format!(
            "CREATE TEMP TABLE _multi AS
             SELECT s.order_id FROM _m_orders s JOIN {known} o ON o.order_id = s.order_id
             WHERE o.kinds IS NOT NULL AND (len(o.kinds) > 1 OR o.kinds[1] <> ?)"
        ))?;
        stmt.execute(params![job.kind])?;
        count(conn, "SELECT count(*) FROM _multi")?
    };
    if multi == 0 {
        return Ok(items);
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
    // The version an order had before another kind described it, then this export's versions in
    // place of the ones it gave before. One INSERT for both: DuckDB 2.0.0 loses a large INSERT's
    // rows to grouped reads when an INSERT of no rows into the same table came first in the
    // transaction (docs/architecture.md, "One insert per table and transaction").
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE _m_first_versions AS
            SELECT o.order_id, o.kinds[1] AS kind, {o_fields}, o.import_id
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
             SELECT order_id, kind, {fields}, import_id FROM _m_first_versions
             UNION ALL
             SELECT s.order_id, ?, {s_fields}, ? FROM _m_orders s JOIN _multi USING (order_id)",
            s_fields = ORDER_FIELDS.iter().map(|f| format!("s.{f}")).collect::<Vec<_>>().join(", "),
        ),
        params![job.kind, job.import_id],
    )
    .context("keeping each export's version of an order")?;
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE _merged AS
            SELECT order_id, {merged}, list(kind ORDER BY kind) AS kinds
            FROM order_versions WHERE order_id IN (SELECT order_id FROM _multi) GROUP BY order_id;
         UPDATE _merged SET net_total = total - refunded_total;
         UPDATE _m_orders SET {set}, kinds = v.kinds FROM _merged v WHERE _m_orders.order_id = v.order_id;
         -- Line items: this export's when it has any, else the ones the order already has (a new
         -- table rather than a second INSERT into the staged one: see above).
         CREATE OR REPLACE TEMP TABLE _m_items_merged AS
            SELECT order_id, seq, line_no, sku, name, vendor, category, quantity, unit_price, discount, line_total, is_tip
            FROM {items}
            UNION ALL
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
    Ok("_m_items_merged")
}

/// What to compare the staged orders (table `staged`) with: the stored versions of those that
/// exist. Comparing with all of `orders` reads every column of every order (2.6 s at 9.5M orders
/// for a day's file that names none), so for up to four lists of ids the stored versions are
/// looked up by key into `_m_known`; for more, which exist is found by a scan of the id column,
/// and a few of those are read by key too; when many exist (a whole shop exported again), `orders`
/// itself.
fn known_orders(conn: &Connection, staged: &str) -> Result<&'static str> {
    let ids = match keys::few(conn, &format!("SELECT order_id FROM {staged}"), keys::FEW)? {
        Some(ids) => Some(ids),
        None => {
            conn.execute_batch(&format!(
                "CREATE TEMP TABLE _m_known_ids AS SELECT order_id FROM orders WHERE order_id IN (SELECT order_id FROM {staged});"
            ))?;
            keys::few(conn, "SELECT order_id FROM _m_known_ids", keys::BY_KEY)?
        }
    };
    match ids {
        Some(ids) => {
            keys::rows_by_key(conn, "_m_known", "*", "orders", "order_id", &ids)?;
            Ok("_m_known")
        }
        None => Ok("orders"),
    }
}

/// Merges staged rows into the model, counting into `counts`; returns the settings the orders'
/// dates and values were computed in (the zone guessed while it is "auto").
pub(super) fn merge(conn: &Connection, job: &Job, counts: &mut ImportCounts) -> Result<crate::store::Reporting> {
    let (import_id, repeated_orders) = (job.import_id, job.repeated_orders);
    let started = std::time::Instant::now();
    let mark = |what: &str| crate::store::timing(what, started, None);
    crate::store::upkeep::begin(conn)?;
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
    crate::store::upkeep::touch(conn, "SELECT customer_id FROM _m_customers WHERE is_new OR is_changed")?;
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
    let (staged, items) = if repeated_orders {
        conn.execute_batch(
            "CREATE TEMP TABLE _m_staged AS
             SELECT * FROM _stg_orders QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY seq DESC) = 1;",
        )
        .context("comparing orders")?;
        ("_m_staged", "_m_items")
    } else {
        ("_stg_orders", "_stg_items")
    };
    let known_from = known_orders(conn, staged).context("comparing orders")?;
    conn.execute(
        &format!(
            "CREATE TEMP TABLE _m_orders AS
             SELECT s.*, [CAST(? AS VARCHAR)] AS kinds, o.order_id IS NULL AS is_new,
                    o.order_id IS NOT NULL AND ({changed}) AS is_changed
             FROM {staged} s LEFT JOIN {known_from} o ON o.order_id = s.order_id",
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
    let items = merge_order_versions(conn, job, items, known_from)?;
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
    crate::store::upkeep::touch(
        conn,
        &format!(
            "SELECT customer_id FROM _m_orders WHERE is_new OR is_changed
             UNION ALL SELECT o.customer_id FROM {known_from} o JOIN _m_orders m ON m.order_id = o.order_id WHERE m.is_changed"
        ),
    )?;
    if counts.orders_updated > 0 {
        conn.execute_batch(
            "DELETE FROM order_items WHERE order_id IN (SELECT order_id FROM _m_orders WHERE is_changed);
             DELETE FROM orders WHERE order_id IN (SELECT order_id FROM _m_orders WHERE is_changed);",
        )
        .context("replacing changed orders")?;
    }
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
    // Items of the orders written: all of them when every order is new. A customer's created_at
    // is no later than their first order: it only ever moves earlier (customer files and identity
    // merges keep the earlier time), and each import moves it to the earliest order it writes,
    // so the orders written here are the only ones that can move it.
    let written =
        if known == 0 { "" } else { "WHERE i.order_id IN (SELECT order_id FROM _m_orders WHERE is_new OR is_changed)" };
    conn.execute_batch(&format!(
        "INSERT INTO order_items (order_id, line_no, sku, name, vendor, category, quantity, unit_price, discount, line_total, is_tip)
            SELECT i.order_id, i.line_no, i.sku, i.name, i.vendor, COALESCE(i.category, p.category), i.quantity,
                   i.unit_price, i.discount, i.line_total, i.is_tip
            FROM {items} i LEFT JOIN products p ON p.sku = i.sku
            {written};
         UPDATE customers SET created_at = f.first_order
            FROM (SELECT customer_id, min(ordered_at) AS first_order FROM _m_orders
                  WHERE is_new OR is_changed GROUP BY customer_id) f
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
    let reporting = crate::store::derived::zone_for_import(conn, job.reporting)?;
    let everything =
        crate::store::derived::settle(conn, &reporting, crate::store::derived::Scope::Import(import_id), false)?;
    mark("import: local times and values");
    // Tag segments and the search index depend on the customers alone: when this import inserted
    // or changed none (an orders export of known customers), they stay as they are. The summary
    // changes for the customers this import touched (all of them when `settle` revalued all).
    let customers_changed = counts.customers_inserted + counts.customers_updated + counts.customers_merged > 0;
    let refresh = crate::store::upkeep::Refresh { customers: customers_changed, summary: !everything };
    crate::store::upkeep::refresh(conn, refresh, crate::store::upkeep::Scope::Touched)?;
    mark("import: tag segments, search index and customer summary");
    Ok(reporting)
}
