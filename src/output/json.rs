//! JSON renderings of results: rows become objects keyed by column name, decimals stay exact.

use serde_json::{Map, Value};

use crate::store::ResultSet;

/// Every row as an object.
pub fn rows(rs: &ResultSet) -> Value {
    Value::Array(rs.rows.iter().map(|r| row_object(rs, r)).collect())
}

/// The first row as an object (`null` when there is none).
pub fn first_row(rs: &ResultSet) -> Value {
    rs.rows.first().map_or(Value::Null, |r| row_object(rs, r))
}

fn row_object(rs: &ResultSet, row: &[crate::store::Cell]) -> Value {
    let mut m = Map::new();
    for (name, cell) in rs.columns.iter().zip(row) {
        m.insert(name.clone(), cell.to_json());
    }
    Value::Object(m)
}

/// Pretty JSON with a trailing newline.
pub fn to_string(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".to_string());
    s.push('\n');
    s
}
