//! Stage 7: the commands, one file each. Orchestration only: they resolve the workspace, ask the
//! stages for results and hand them to a renderer.

pub mod analytics;
pub mod completions;
pub mod customer;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod generate;
pub mod ingest;
pub mod init;
pub(crate) mod interrupt;
pub mod models;
pub mod query;
pub mod score;

use anyhow::Result;
use chrono::NaiveDate;

use crate::cli::{Cli, Command};
use crate::config::Workspace;
use crate::error::Exit;
use crate::store::Store;

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<Exit> {
    let g = &cli.global;
    crate::store::print_timings(g.timings);
    crate::store::print_notes(!g.quiet);
    crate::store::lock_wait(g.wait);
    match &cli.command {
        Command::Init(a) => init::run(a, g),
        Command::Demo(a) => demo::run(a, g),
        Command::Dashboard(a) => dashboard::run(a, g),
        Command::Ingest(a) => ingest::run(a, g),
        Command::Query(q) => query::run(q, g),
        Command::Kpis(a) => analytics::kpis(a, g),
        Command::Health(a) => analytics::health(a, g),
        Command::Segments(a) => analytics::segments(a, g),
        Command::Alerts(a) => analytics::alerts(a, g),
        Command::Cohorts(a) => analytics::cohorts(a, g),
        Command::Customers(a) => analytics::customers(a, g),
        Command::Customer(a) => customer::run(a, g),
        Command::Score(a) => score::run(a, g),
        Command::Churn(a) => analytics::scores("scores.churn", a, g),
        Command::Clv(a) => analytics::scores("scores.clv", a, g),
        Command::Models(m) => models::run(m, g),
        Command::Export(e) => export::run(e, g),
        Command::Generate(a) => generate::run(a, g),
        Command::Completions(a) => completions::run(a),
    }
}

/// The workspace of this invocation and its opened, migrated store.
/// The workspace with its database open for reading only (other readers may share it).
pub(crate) fn open_workspace_read_only(g: &crate::cli::GlobalArgs) -> Result<(Workspace, Store)> {
    let started = std::time::Instant::now();
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let store = Store::open_read_only(&ws.database_path())?;
    store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
    crate::store::timing("opening the workspace", started, None);
    Ok((ws, store))
}

pub(crate) fn open_workspace(g: &crate::cli::GlobalArgs) -> Result<(Workspace, Store)> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let store = Store::open(&ws.database_path())?;
    store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
    Ok((ws, store))
}

/// An opened workspace ready for analytics: store, catalog (macros registered) and parameters.
pub(crate) struct Analysis {
    pub settings: crate::config::Settings,
    pub store: Store,
    pub catalog: crate::queries::Catalog,
    pub ctx: crate::queries::QueryContext,
}

impl Analysis {
    /// For reading: the database is opened read-only.
    pub fn open(g: &crate::cli::GlobalArgs, as_of_flag: Option<NaiveDate>) -> Result<Analysis> {
        Analysis::with(open_workspace_read_only(g)?, as_of_flag)
    }

    /// For commands that write (score).
    pub fn open_for_writing(g: &crate::cli::GlobalArgs, as_of_flag: Option<NaiveDate>) -> Result<Analysis> {
        Analysis::with(open_workspace(g)?, as_of_flag)
    }

    fn with((ws, store): (Workspace, Store), as_of_flag: Option<NaiveDate>) -> Result<Analysis> {
        let started = std::time::Instant::now();
        let catalog = crate::queries::Catalog::load(Some(&ws.queries_dir()))?;
        crate::store::timing("loading the query files", started, Some(catalog.files.len()));
        let day = as_of(as_of_flag, &ws)?;
        let ctx = crate::queries::QueryContext::new(
            &store,
            &catalog,
            day,
            &ws.settings.workspace.currency,
            ws.settings.health.clone(),
        )?;
        Ok(Analysis { settings: ws.settings, store, catalog, ctx })
    }

    pub fn run(&self, id: &str, extra: &[(&str, crate::store::Param)]) -> Result<crate::store::ResultSet> {
        self.catalog.run_with(&self.store, id, &self.ctx, extra)
    }

    /// Customer search: indexed matches, or contained and misspelt ones when there are none.
    pub fn search(&self, q: &str, limit: i64) -> Result<crate::store::ResultSet> {
        crate::queries::search::run(&self.store, &self.catalog, &self.ctx, q, limit)
    }
}

/// `--as-of`, else the workspace's pinned date, else today.
pub(crate) fn as_of(flag: Option<NaiveDate>, ws: &Workspace) -> Result<NaiveDate> {
    Ok(match flag {
        Some(d) => d,
        None => ws.settings.pinned_as_of()?.unwrap_or_else(|| chrono::Local::now().date_naive()),
    })
}
