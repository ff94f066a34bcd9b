//! `scudo dashboard`: KPI cards, lifecycle health, alerts and segments.

use anyhow::Result;

use crate::cli::{DashboardArgs, Format, GlobalArgs};
use crate::config::Workspace;
use crate::error::Exit;
use crate::output;
use crate::queries::{Catalog, QueryContext, dashboard};
use crate::store::Store;

/// Builds and prints the dashboard of an opened workspace.
pub fn show(ws: &Workspace, store: &Store, as_of: chrono::NaiveDate, format: Format, quiet: bool) -> Result<()> {
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let ctx = QueryContext::new(store, as_of, ws.settings.health.clone())?;
    let unconverted = super::note_unconverted(store, &catalog, &ctx, quiet)?;
    let mut d = dashboard::build(store, &catalog, ctx)?;
    d.unconverted = unconverted;
    let text = match format {
        Format::Table => output::dashboard::text(&d),
        Format::Json => output::dashboard::json(&d),
        Format::Csv => output::dashboard::csv(&d),
    };
    output::emit(&text)?;
    Ok(())
}

pub fn run(args: &DashboardArgs, g: &GlobalArgs) -> Result<Exit> {
    let (ws, store) = super::open_workspace_read_only(g)?;
    let as_of = super::as_of(args.as_of.as_of, &ws)?;
    show(&ws, &store, as_of, args.output.format, g.quiet)?;
    Ok(Exit::Ok)
}
