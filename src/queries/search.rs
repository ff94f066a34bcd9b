//! Customer search in two steps: the indexed prefix matches of customers.search, and only when there
//! are none, the contained and misspelt matches of customers.search_more (which reads every
//! customer): like a search box that says "did you mean" only when nothing starts with the text.

use anyhow::Result;

use super::{Catalog, QueryContext};
use crate::store::{Param, ResultSet, Store};

/// Up to `limit` customers matching `q`, best first (score, then name, then id).
pub fn run(store: &Store, catalog: &Catalog, ctx: &QueryContext, q: &str, limit: i64) -> Result<ResultSet> {
    let params = [("q", Param::Text(q.to_string())), ("limit", Param::Int(limit))];
    let found = catalog.run_with(store, "customers.search", ctx, &params)?;
    if !found.rows.is_empty() {
        return Ok(found);
    }
    catalog.run_with(store, "customers.search_more", ctx, &params)
}
