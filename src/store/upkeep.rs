//! Upkeep of the tables derived from customers and orders: tag segments (segments,
//! segment_members), the search index (customer_search, search_words) and the summaries
//! (customer_summary, order_currencies).
//!
//! An import refreshes them for the customers it touched only: it lists them in the temp table
//! `_touched` ([`begin`], [`touch`]) and calls [`refresh`]. A change of the time zone, the
//! reporting currency or the rates, an erasure and `scudo doctor --rebuild` rebuild them whole
//! ([`Scope::All`]). The SQL is written once, for every customer (summary.sql, search_index.sql);
//! [`scoped`] narrows each `/*scope:X*/ TRUE` in it to the touched customers. A test compares the
//! two after a sequence of imports, updates, refunds, merges and erasures.

use anyhow::{Context, Result};
use duckdb::Connection;

/// Rebuilds customer_summary and order_currencies (`/*scope:…*/` marks where upkeep narrows it).
pub(super) const SUMMARY: &str = include_str!("summary.sql");
/// Rebuilds the search index (customer_search).
const SEARCH_INDEX: &str = include_str!("search_index.sql");
/// Rebuilds search_words from the search index.
const SEARCH_WORDS: &str = include_str!("search_words.sql");

/// Which customers' derived rows to refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every customer: a rebuild.
    All,
    /// The customers in `_touched`.
    Touched,
}

/// Above this share of all customers an import's refresh is a rebuild: it costs about the same,
/// and it writes the search index in term order again (what prefix lookups rely on).
const REBUILD_SHARE: f64 = 0.25;

/// Starts the list of customers this transaction touches.
pub(super) fn begin(conn: &Connection) -> Result<()> {
    conn.execute_batch("DROP TABLE IF EXISTS _touched; CREATE TEMP TABLE _touched (customer_id VARCHAR);")
        .context("listing the customers an import touches")?;
    Ok(())
}

/// Adds the customers `select` returns (one VARCHAR column) to `_touched`. The list is written
/// anew rather than appended to: DuckDB 2.0.0 loses the rows of a large INSERT (more than a row
/// group, 122,880 rows) into a table that an INSERT of no rows wrote earlier in the same
/// transaction — grouped reads and semi-joins see none of them (docs/architecture.md, "One
/// insert per table and transaction").
pub(super) fn touch(conn: &Connection, select: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT customer_id FROM _touched UNION ALL ({select});"
    ))
    .context("listing the customers an import touches")?;
    Ok(())
}

/// `sql` with each `/*scope:X*/ TRUE` made `X.customer_id IN (SELECT customer_id FROM _touched)`
/// (for [`Scope::Touched`]), or as it is (for [`Scope::All`]: `TRUE`).
pub(super) fn scoped(sql: &str, scope: Scope) -> String {
    if scope == Scope::All {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 256);
    let mut rest = sql;
    while let Some(at) = rest.find("/*scope:") {
        let after = &rest[at + "/*scope:".len()..];
        let Some(end) = after.find("*/ TRUE") else { break };
        out.push_str(&rest[..at]);
        out.push_str(&after[..end]);
        out.push_str(".customer_id IN (SELECT customer_id FROM _touched)");
        rest = &after[end + "*/ TRUE".len()..];
    }
    out.push_str(rest);
    out
}

/// What [`refresh`] should bring up to date.
#[derive(Debug, Clone, Copy)]
pub(super) struct Refresh {
    /// Tag segments and the search index (they depend on the customers' own fields).
    pub customers: bool,
    /// customer_summary and order_currencies.
    pub summary: bool,
}

/// Brings the derived tables up to date inside the caller's transaction, for `scope`. With
/// [`Scope::Touched`] and many touched customers, rebuilds instead (see [`REBUILD_SHARE`]).
pub(super) fn refresh(conn: &Connection, what: Refresh, scope: Scope) -> Result<()> {
    if !what.customers && !what.summary {
        return Ok(());
    }
    // How many customers an incremental refresh covers; None: rebuild.
    let touched = match scope {
        Scope::All => None,
        Scope::Touched => touched_count(conn)?,
    };
    let (scope, whom) = match touched {
        Some(n) => (Scope::Touched, format!("for {n} touched customers")),
        None => (Scope::All, "for every customer".to_string()),
    };
    super::views::data_changed(conn)?;
    let started = std::time::Instant::now();
    if what.customers {
        tag_segments(conn, scope)?;
        search_index(conn, scope)?;
        super::timing(&format!("refreshing tag segments and the search index {whom}"), started, None);
    }
    if what.summary {
        summary(conn, scope)?;
        super::timing(&format!("refreshing the customer summary {whom}"), started, None);
    }
    Ok(())
}

/// How many customers are in `_touched`, or None when they are more than [`REBUILD_SHARE`] of all
/// customers (or there are none).
fn touched_count(conn: &Connection) -> Result<Option<i64>> {
    let (touched, all): (i64, i64) = conn.query_row(
        "SELECT (SELECT count(DISTINCT customer_id) FROM _touched), (SELECT count(*) FROM customers)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((all > 0 && touched as f64 / all as f64 <= REBUILD_SHARE).then_some(touched))
}

/// customer_summary and order_currencies.
pub(super) fn summary(conn: &Connection, scope: Scope) -> Result<()> {
    let mut sql = scoped(SUMMARY, scope);
    if scope == Scope::Touched {
        let started = std::time::Instant::now();
        sql = narrowed(conn, &sql)?;
        super::timing("reading the touched customers' rows", started, None);
    }
    conn.execute_batch(&sql).context("refreshing the customer summary")?;
    for (name, _, _) in NARROW {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {name};"))?;
    }
    Ok(())
}

/// The touched customers' orders and customer rows, with the columns summary.sql reads: one read
/// of `orders` for the two aggregates that each scanned it, and each reading only these columns.
/// (At 9.5M orders the two scans read every row's status, value and time before the join with
/// `_touched` dropped them: 1.3 s for a day's orders of 700 customers.) Each is (temp table,
/// table, columns); summary.sql marks where it reads them as `/*narrow*/ TABLE`.
const NARROW: [(&str, &str, &str); 2] = [
    ("_touched_orders", "orders", "customer_id, status, value, local_at"),
    ("_touched_customers", "customers", "customer_id, name, email, phone, created_at"),
];

/// `sql` (scoped to the touched customers) reading [`NARROW`]'s temp tables where it says
/// `/*narrow*/ TABLE`. A few thousand customers' rows are looked up in the tables' indexes
/// (keys.rs): the orders of a day's 700 customers in 40 ms rather than a 150–300 ms scan of every
/// order. More are copied by a scan.
fn narrowed(conn: &Connection, sql: &str) -> Result<String> {
    let few = "SELECT DISTINCT customer_id FROM _touched WHERE customer_id IS NOT NULL";
    let ids = super::keys::few(conn, few, super::keys::FEW)?;
    let mut sql = sql.to_string();
    for (name, table, columns) in NARROW {
        match &ids {
            Some(ids) => super::keys::rows_by_key(conn, name, columns, table, "customer_id", ids)?,
            None => conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE {name} AS
                    SELECT {columns} FROM {table} WHERE customer_id IN (SELECT customer_id FROM _touched);"
            ))?,
        }
        sql = sql.replace(&format!("/*narrow*/ {table}"), name);
    }
    Ok(sql)
}

/// Segments from tags (one per tag; members are the customers carrying it).
fn tag_segments(conn: &Connection, scope: Scope) -> Result<()> {
    let sql = "INSERT INTO segments
            SELECT DISTINCT 'tag:' || t, t, 'Customers tagged ' || t, 'tag'
            FROM (SELECT unnest(tags) AS t FROM customers c WHERE /*scope:c*/ TRUE)
            WHERE 'tag:' || t NOT IN (SELECT segment_id FROM segments);
         DELETE FROM segment_members
            WHERE /*scope:segment_members*/ TRUE AND segment_id IN (SELECT segment_id FROM segments WHERE kind = 'tag');
         INSERT INTO segment_members
            SELECT DISTINCT 'tag:' || t, customer_id FROM (SELECT customer_id, unnest(tags) AS t FROM customers c WHERE /*scope:c*/ TRUE);
         DELETE FROM segments WHERE kind = 'tag' AND segment_id NOT IN (SELECT segment_id FROM segment_members);";
    conn.execute_batch(&scoped(sql, scope)).context("refreshing tag segments")?;
    Ok(())
}

/// The words of names and companies (search_words) whose index rows may come or go.
const WORDS_OF_TOUCHED: &str = "SELECT DISTINCT term FROM customer_search
    WHERE customer_id IN (SELECT customer_id FROM _touched)
      AND field IN ('word', 'name', 'company') AND NOT contains(term, ' ')";

/// customer_search and search_words.
fn search_index(conn: &Connection, scope: Scope) -> Result<()> {
    if scope == Scope::All {
        conn.execute_batch(SEARCH_INDEX).context("refreshing the search index")?;
        conn.execute_batch(SEARCH_WORDS).context("refreshing the search index")?;
        return Ok(());
    }
    // The touched customers' words before and after: each is kept when some customer still has it.
    // (Two tables, each written once: see `touch` on DuckDB and a second INSERT.)
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE _words_before AS {WORDS_OF_TOUCHED};
         {index}
         CREATE OR REPLACE TEMP TABLE _words AS SELECT term FROM _words_before UNION ALL ({WORDS_OF_TOUCHED});
         DELETE FROM search_words WHERE word IN (SELECT term FROM _words);
         INSERT INTO search_words
            SELECT DISTINCT term FROM customer_search
            WHERE term IN (SELECT term FROM _words) AND field IN ('word', 'name', 'company') AND NOT contains(term, ' ');
         DROP TABLE _words; DROP TABLE _words_before;",
        index = scoped(SEARCH_INDEX, scope),
    ))
    .context("refreshing the search index")?;
    Ok(())
}

/// Rebuilds every derived table from customers and orders (`scudo doctor --rebuild`).
pub(super) fn rebuild(conn: &Connection) -> Result<()> {
    refresh(conn, Refresh { customers: true, summary: true }, Scope::All)
}

impl super::Store {
    /// Recomputes every derived value and table from customers and orders in one transaction
    /// (`scudo doctor --rebuild`).
    pub fn rebuild_derived(&mut self) -> Result<()> {
        let r = self.reporting().clone();
        let tx = self.conn.transaction()?;
        super::derived::settle(&tx, &r, super::derived::Scope::All, false)?;
        rebuild(&tx)?;
        tx.commit().context("cannot commit the rebuilt tables; the database is unchanged")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoping_narrows_every_marker_and_leaves_the_rest() {
        let sql = "DELETE FROM t WHERE /*scope:t*/ TRUE; SELECT * FROM o WHERE /*scope:o*/ TRUE AND x";
        assert_eq!(scoped(sql, Scope::All), sql);
        assert_eq!(
            scoped(sql, Scope::Touched),
            "DELETE FROM t WHERE t.customer_id IN (SELECT customer_id FROM _touched); \
             SELECT * FROM o WHERE o.customer_id IN (SELECT customer_id FROM _touched) AND x"
        );
        for (name, sql) in [("summary", SUMMARY), ("search index", SEARCH_INDEX)] {
            let narrowed = scoped(sql, Scope::Touched);
            assert!(!narrowed.contains("/*scope:"), "{name}: a marker was left");
            assert!(narrowed.matches("_touched").count() >= 2, "{name}: nothing was narrowed");
        }
    }
}
