//! Results kept in the database as JSON (the dashboard cache): every cell comes back with the
//! type it had, so what a renderer prints from a stored result is what it prints from the query.

use anyhow::{Result, anyhow};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::cell::{Cell, ResultSet};

/// `[tag, text…]` per cell: numbers as text, so integers, decimals and floats (with NaN and
/// infinities) come back exactly.
fn cell(c: &Cell) -> Value {
    match c {
        Cell::Null => json!(["null"]),
        Cell::Bool(b) => json!(["bool", b]),
        Cell::Int(i) => json!(["int", i.to_string()]),
        Cell::Float(f) => json!(["float", format!("{f:?}")]),
        Cell::Decimal { value, scale } => json!(["decimal", value.to_string(), scale]),
        Cell::Text(s) => json!(["text", s]),
        Cell::Date(d) => json!(["date", d.to_string()]),
        Cell::Timestamp(t) => json!(["timestamp", t.format("%Y-%m-%d %H:%M:%S%.f").to_string()]),
        Cell::List(items) => json!(["list", items.iter().map(cell).collect::<Vec<_>>()]),
    }
}

fn uncell(v: &Value) -> Result<Cell> {
    let bad = || anyhow!("a stored result holds an unreadable cell: {v}");
    let parts = v.as_array().ok_or_else(bad)?;
    let tag = parts.first().and_then(Value::as_str).ok_or_else(bad)?;
    let text = || parts.get(1).and_then(Value::as_str).ok_or_else(bad);
    Ok(match tag {
        "null" => Cell::Null,
        "bool" => Cell::Bool(parts.get(1).and_then(Value::as_bool).ok_or_else(bad)?),
        "int" => Cell::Int(text()?.parse().map_err(|_| bad())?),
        "float" => Cell::Float(text()?.parse().map_err(|_| bad())?),
        "decimal" => Cell::Decimal {
            value: text()?.parse().map_err(|_| bad())?,
            scale: parts.get(2).and_then(Value::as_u64).and_then(|s| u8::try_from(s).ok()).ok_or_else(bad)?,
        },
        "text" => Cell::Text(text()?.to_string()),
        "date" => Cell::Date(text()?.parse::<NaiveDate>().map_err(|_| bad())?),
        "timestamp" => {
            Cell::Timestamp(NaiveDateTime::parse_from_str(text()?, "%Y-%m-%d %H:%M:%S%.f").map_err(|_| bad())?)
        }
        "list" => Cell::List(
            parts.get(1).and_then(Value::as_array).ok_or_else(bad)?.iter().map(uncell).collect::<Result<_>>()?,
        ),
        _ => return Err(bad()),
    })
}

/// A result as JSON.
pub fn to_json(rs: &ResultSet) -> Value {
    json!({
        "columns": rs.columns,
        "rows": rs.rows.iter().map(|r| r.iter().map(cell).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}

/// A result back from [`to_json`]'s JSON.
pub fn from_json(v: &Value) -> Result<ResultSet> {
    let bad = || anyhow!("a stored result is not in the expected shape");
    let columns = v["columns"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|c| c.as_str().map(str::to_string).ok_or_else(bad))
        .collect::<Result<_>>()?;
    let rows = v["rows"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|r| r.as_array().ok_or_else(bad)?.iter().map(uncell).collect::<Result<Vec<_>>>())
        .collect::<Result<_>>()?;
    Ok(ResultSet { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_cell_comes_back_as_it_was() {
        let rs = ResultSet {
            columns: vec!["a".into(), "b".into()],
            rows: vec![
                vec![Cell::Null, Cell::Bool(true)],
                vec![Cell::Int(-170141183460469231731687303715884105728), Cell::Float(0.1 + 0.2)],
                vec![Cell::Float(f64::NAN), Cell::Float(f64::NEG_INFINITY)],
                vec![Cell::Decimal { value: -123456789012345678, scale: 2 }, Cell::Text("\"é\"\n".into())],
                vec![
                    Cell::Date(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()),
                    Cell::Timestamp(
                        NaiveDate::from_ymd_opt(2025, 1, 2).unwrap().and_hms_micro_opt(3, 4, 5, 600_007).unwrap(),
                    ),
                ],
                vec![Cell::List(vec![Cell::Text("tag:vip".into()), Cell::Int(2)]), Cell::List(vec![])],
            ],
        };
        let back = from_json(&serde_json::from_str(&to_json(&rs).to_string()).unwrap()).unwrap();
        assert_eq!(back.columns, rs.columns);
        for (a, b) in back.rows.iter().flatten().zip(rs.rows.iter().flatten()) {
            match (a, b) {
                (Cell::Float(x), Cell::Float(y)) if y.is_nan() => assert!(x.is_nan()),
                _ => assert_eq!(a, b),
            }
        }
        assert_eq!(back.rows.len(), rs.rows.len());
        assert!(from_json(&json!({"columns": ["a"], "rows": [[["int", "x"]]]})).is_err());
    }
}
