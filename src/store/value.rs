//! Rust values to DuckDB values for staging and appending: the one place that decides how money,
//! timestamps and optional cells are written.

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::types::{TimeUnit, Value};

use crate::ingest::values::Money;

/// Optional text; `None` is NULL.
pub(super) fn text(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::Text(s.clone()))
}

/// An amount as DECIMAL(18,2); parsers only produce amounts that fit ([`Money::checked`]),
/// and anything else becomes NULL rather than a wrong number.
pub(super) fn money(m: Money) -> Value {
    duckdb::types::Decimal::new(18, 2, i128::from(m.cents())).map_or(Value::Null, Value::Decimal)
}

pub(super) fn opt_money(m: Option<Money>) -> Value {
    m.map_or(Value::Null, money)
}

/// A UTC timestamp.
pub(super) fn ts(t: NaiveDateTime) -> Value {
    Value::Timestamp(TimeUnit::Microsecond, t.and_utc().timestamp_micros())
}

/// A date, as DuckDB's DATE (days since 1970-01-01).
pub(super) fn date(d: NaiveDate) -> Value {
    let days = (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days();
    i32::try_from(days).map_or(Value::Null, Value::Date32)
}

/// A finite float; NaN and infinities are NULL.
pub(super) fn float(v: Option<f64>) -> Value {
    v.filter(|f| f.is_finite()).map_or(Value::Null, Value::Double)
}
