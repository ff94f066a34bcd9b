//! `scudo dashboard`: KPI cards, lifecycle health, alerts and segments.

use anyhow::Result;

use crate::cli::{DashboardArgs, Format, GlobalArgs};
use crate::config::Workspace;
use crate::error::Exit;
use crate::output;
use crate::queries::{Catalog, QueryContext, dashboard};
use crate::store::Store;

/// Builds and prints the dashboard of an opened workspace.
pub fn show(
    ws: &Workspace,
    store: &Store,
    as_of: chrono::NaiveDate,
    format: Format,
    quiet: bool,
    recompute: bool,
) -> Result<()> {
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let ctx = QueryContext::new(store, as_of, ws.settings.health.clone())?;
    let unconverted = super::note_unconverted(store, &catalog, &ctx, quiet)?;
    let mut d = dashboard::build(store, &catalog, ctx, recompute)?;
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
    show(&ws, &store, as_of, args.output.format, g.quiet, args.recompute)?;
    Ok(Exit::Ok)
}

/// After an import or a scoring run: computes the dashboard for the workspace's date (the pinned
/// one, else today) and keeps it, so the next `scudo dashboard` (or `scudo serve`'s page) only
/// reads it (docs/data-model.md, "Maintained views"). A failure costs only that: it is noted.
pub fn keep(root: &std::path::Path, settings: &crate::config::Settings, store: &mut Store, quiet: bool) {
    let started = std::time::Instant::now();
    let kept = (|| -> Result<()> {
        let catalog = Catalog::load(Some(&root.join("queries")))?;
        let ctx = QueryContext::new(store, super::default_as_of(settings)?, settings.health.clone())?;
        dashboard::keep(store, &catalog, &ctx)
    })();
    crate::store::timing("keeping the dashboard", started, None);
    if let Err(e) = kept
        && !quiet
    {
        eprintln!("note: the dashboard was not kept for the next `scudo dashboard` ({e:#}); it is computed when asked");
    }
}
