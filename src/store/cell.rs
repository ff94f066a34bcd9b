//! Query results as plain Rust values, independent of DuckDB's types, for the renderers.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use duckdb::types::{TimeUnit, Value};

/// One value of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// An exact decimal: `value / 10^scale`.
    Decimal {
        value: i128,
        scale: u8,
    },
    Text(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    List(Vec<Cell>),
}

/// Column names and rows of one query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl ResultSet {
    /// Index of the column called `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Index of a column a command relies on; a clear error (not a panic) when a workspace's own
    /// version of query `query` does not return it.
    pub fn require(&self, name: &str, query: &str) -> anyhow::Result<usize> {
        self.col(name).ok_or_else(|| {
            crate::error::user(format!(
                "query `{query}` must return a `{name}` column (it returns: {}); compare it with `scudo query show {query}`",
                self.columns.join(", ")
            ))
        })
    }
}

impl Cell {
    pub(crate) fn from_value(v: Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Boolean(b) => Cell::Bool(b),
            Value::TinyInt(i) => Cell::Int(i.into()),
            Value::SmallInt(i) => Cell::Int(i.into()),
            Value::Int(i) => Cell::Int(i.into()),
            Value::BigInt(i) => Cell::Int(i.into()),
            Value::HugeInt(i) => Cell::Int(i),
            Value::UTinyInt(i) => Cell::Int(i.into()),
            Value::USmallInt(i) => Cell::Int(i.into()),
            Value::UInt(i) => Cell::Int(i.into()),
            Value::UBigInt(i) => Cell::Int(i.into()),
            Value::UHugeInt(i) => i128::try_from(i).map(Cell::Int).unwrap_or(Cell::Float(i as f64)),
            Value::Float(f) => Cell::Float(f.into()),
            Value::Double(f) => Cell::Float(f),
            Value::Decimal(d) => Cell::Decimal { value: d.value(), scale: d.scale() },
            Value::Text(s) | Value::Enum(s) => Cell::Text(s),
            Value::Date32(days) => {
                NaiveDate::from_num_days_from_ce_opt(days + 719_163).map(Cell::Date).unwrap_or(Cell::Null)
            }
            Value::Timestamp(unit, n) => {
                let micros = unit.to_micros(n);
                DateTime::from_timestamp_micros(micros).map(|d| Cell::Timestamp(d.naive_utc())).unwrap_or(Cell::Null)
            }
            Value::Time64(unit, n) => Cell::Text(time_text(unit, n)),
            Value::List(items) | Value::Array(items) => Cell::List(items.into_iter().map(Cell::from_value).collect()),
            other => Cell::Text(format!("{other:?}")),
        }
    }

    /// The value as text for tables and CSV (decimals exact, timestamps ISO).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format_float(*f),
            Cell::Decimal { value, scale } => decimal_text(*value, *scale),
            Cell::Text(s) => s.clone(),
            Cell::Date(d) => d.to_string(),
            Cell::Timestamp(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::List(items) => items.iter().map(Cell::to_text).collect::<Vec<_>>().join(", "),
        }
    }

    /// The value as a number when it is one (for aggregates in typed results).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            Cell::Decimal { value, scale } => Some(*value as f64 / 10f64.powi(i32::from(*scale))),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => i64::try_from(*i).ok(),
            Cell::Decimal { value, scale: 0 } => i64::try_from(*value).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Float(_) | Cell::Decimal { .. })
    }

    /// The value as JSON; decimals stay exact (`8500.00`), never rounded through a float.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Cell::Null => J::Null,
            Cell::Bool(b) => J::Bool(*b),
            Cell::Int(i) => i64::try_from(*i).map(J::from).unwrap_or_else(|_| J::String(i.to_string())),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
            Cell::Decimal { value, scale } => exact_number(&decimal_text(*value, *scale)),
            Cell::Text(s) => J::String(s.clone()),
            Cell::Date(_) | Cell::Timestamp(_) => J::String(self.to_text()),
            Cell::List(items) => J::Array(items.iter().map(Cell::to_json).collect()),
        }
    }
}

/// A JSON number written exactly as `text` (serde_json's arbitrary precision).
pub fn exact_number(text: &str) -> serde_json::Value {
    text.parse::<serde_json::Number>()
        .map(serde_json::Value::Number)
        .unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}

fn decimal_text(value: i128, scale: u8) -> String {
    if scale == 0 {
        return value.to_string();
    }
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let p = 10u128.pow(u32::from(scale));
    format!("{sign}{}.{:0width$}", abs / p, abs % p, width = usize::from(scale))
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        format!("{f:.4}").trim_end_matches('0').to_string()
    }
}

fn time_text(unit: TimeUnit, n: i64) -> String {
    let micros = unit.to_micros(n);
    let secs = micros / 1_000_000;
    format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal_text(850000, 2), "8500.00");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(Cell::Decimal { value: 850000, scale: 2 }.to_json().to_string(), "8500.00");
    }
}
