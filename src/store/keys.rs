//! Reading a few whole rows of a large table by a unique key.
//!
//! A join with a temp table of keys (`WHERE order_id IN (SELECT … FROM _ids)`) makes DuckDB read
//! every column the statement needs for every row before the join drops them: at 9.5M orders,
//! comparing a day's orders with the stored ones that way read all 25 columns of every order. The
//! same keys bound in one list (`IN (?, ?, …)`) are looked up in the primary key's index, and only
//! the matching rows are read; asking whether a few thousand keys exist is likewise a few thousand
//! index lookups rather than a scan of the key column. Lists stay at most [`BY_KEY`] long; for more
//! keys than a few lists, the join is used.
//! (For a key that matches many scattered rows, such as a customer's orders, an index scan fetching
//! whole rows is slower than a scan of the few columns needed: see upkeep.rs.)

use anyhow::Result;
use duckdb::Connection;

/// The most keys bound in one list (DuckDB's own limit for an index scan is of this order).
pub(super) const BY_KEY: usize = 2048;

/// The most keys worth looking up by key (a few lists); for more, a join with their table.
pub(super) const FEW: usize = 4 * BY_KEY;

/// The keys `select` returns (one VARCHAR column), when there are at most `most`; else None.
pub(super) fn few(conn: &Connection, select: &str, most: usize) -> Result<Option<Vec<String>>> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM ({select}) LIMIT {}", most + 1))?;
    let keys: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<duckdb::Result<_>>()?;
    Ok((keys.len() <= most).then_some(keys))
}

/// Creates (or replaces) temp table `name` holding `columns` (`*` or a list) of the rows of
/// `table` whose key `column` is one of `keys`, looked up [`BY_KEY`] at a time. One statement
/// writes the table, each list a branch of a UNION ALL: DuckDB 2.0.0 fails, or loses rows, when a
/// large INSERT follows an empty one into the same table in a transaction (docs/architecture.md,
/// "One insert per table and transaction"), and one customer's orders can be 130,000 rows.
/// It runs with `preserve_insertion_order` off: DuckDB 2.0.0's ordered large insert from an index
/// scan over rows this transaction wrote fails now and then with a fatal "batch index … present
/// in multiple collections" (7 runs in 12 for one customer's 130,000 new orders; none without it),
/// and the copy's row order does not matter.
pub(super) fn rows_by_key(
    conn: &Connection,
    name: &str,
    columns: &str,
    table: &str,
    column: &str,
    keys: &[String],
) -> Result<()> {
    let branches: Vec<String> = keys
        .chunks(BY_KEY)
        .map(|chunk| format!("SELECT {columns} FROM {table} WHERE {column} IN ({})", placeholders(chunk.len())))
        .collect();
    let select = if branches.is_empty() {
        format!("SELECT {columns} FROM {table} LIMIT 0")
    } else {
        branches.join(" UNION ALL ")
    };
    let preserve: String =
        conn.query_row("SELECT current_setting('preserve_insertion_order')::VARCHAR", [], |r| r.get(0))?;
    conn.execute_batch("SET preserve_insertion_order = false")?;
    let copied = conn
        .execute(&format!("CREATE OR REPLACE TEMP TABLE {name} AS {select}"), duckdb::params_from_iter(keys.iter()));
    // `preserve` is DuckDB's own rendering of a boolean, so it can stand in the statement. The
    // copy's error, if any, is the one worth reporting.
    let restored = conn.execute_batch(&format!("SET preserve_insertion_order = {preserve}"));
    copied?;
    restored?;
    Ok(())
}

/// `?, ?, …` for `n` keys.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_keys_are_listed_and_many_are_not() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k VARCHAR PRIMARY KEY, v INT); INSERT INTO t SELECT 'k' || i, i FROM range(5000) r(i);",
        )
        .unwrap();
        assert_eq!(
            few(&conn, "SELECT k FROM t WHERE v < 3 ORDER BY v", BY_KEY).unwrap(),
            Some(vec!["k0".into(), "k1".into(), "k2".into()])
        );
        assert_eq!(few(&conn, "SELECT k FROM t WHERE v < 0", BY_KEY).unwrap(), Some(vec![]));
        assert_eq!(few(&conn, "SELECT k FROM t", BY_KEY).unwrap(), None);
        let keys = few(&conn, "SELECT k FROM t WHERE v IN (7, 4000)", BY_KEY).unwrap().unwrap();
        rows_by_key(&conn, "_rows", "*", "t", "k", &keys).unwrap();
        let n: i64 = conn.query_row("SELECT sum(v) FROM _rows", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 4007);
        let asked: Vec<String> = (4990..7100).map(|i| format!("k{i}")).collect();
        rows_by_key(&conn, "_found", "k", "t", "k", &asked).unwrap();
        let (n, low, high): (i64, String, String) = conn
            .query_row("SELECT count(*), min(k), max(k) FROM _found", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        assert_eq!((n, low.as_str(), high.as_str()), (10, "k4990", "k4999"), "two lists, ten keys found");
        rows_by_key(&conn, "_rows", "*", "t", "k", &[]).unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM _rows", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
