//! One module per source system; each turns a [`Table`] into canonical records on a [`Sink`].

pub mod generic;
pub mod hubspot;
pub mod infer;
pub mod salesforce;
pub mod shopify;
pub mod stripe;
pub mod stripe_subscriptions;

use super::record::{Reject, Sink};
use super::table::Row;

/// Sends a reject for `row` naming the column and why.
pub(crate) fn reject(
    sink: &mut dyn Sink,
    row: &Row,
    column: Option<&str>,
    reason: impl Into<String>,
) -> anyhow::Result<()> {
    sink.reject(Reject { line: row.line, column: column.map(str::to_string), reason: reason.into(), raw: row.to_csv() })
}

/// Splits "Jane van Dyke" into ("Jane", "van Dyke"): the first word is the first name.
pub(crate) fn split_name(full: &str) -> (Option<String>, Option<String>) {
    let full = full.trim();
    match full.split_once(char::is_whitespace) {
        Some((first, rest)) => (super::values::text(first), super::values::text(rest)),
        None => (super::values::text(full), None),
    }
}
