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
    money_units(m)
        .map_or(Value::Null, |units| duckdb::types::Decimal::new(18, 2, units).map_or(Value::Null, Value::Decimal))
}

/// An amount as the unscaled value of a DECIMAL(18,2) (cents), when it fits.
pub(super) fn money_units(m: Money) -> Option<i128> {
    duckdb::types::Decimal::new(18, 2, i128::from(m.cents())).ok().map(|d| d.value())
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
    date_days(d).map_or(Value::Null, Value::Date32)
}

/// A date as DuckDB's DATE counts it (days since 1970-01-01), when it fits.
pub(super) fn date_days(d: NaiveDate) -> Option<i32> {
    i32::try_from((d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()).ok()
}

/// A finite float; NaN and infinities are NULL.
pub(super) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|f| f.is_finite())
}
