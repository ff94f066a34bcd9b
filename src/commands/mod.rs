//! Stage 7: the commands, one file each. Orchestration only: they resolve the workspace, ask the
//! stages for results and hand them to a renderer.

pub mod access;
pub mod analytics;
pub mod ask;
pub mod automation;
pub mod backup;
pub mod check;
pub mod completions;
pub mod customer;
pub mod dashboard;
pub mod demo;
pub mod digest;
pub mod doctor;
pub mod export;
pub mod generate;
pub mod ingest;
pub mod init;
pub mod insights;
pub(crate) mod interrupt;
pub mod models;
pub mod models_parquet;
pub mod mrr;
pub mod parquet;
pub mod privacy;
pub mod query;
pub mod rates;
pub mod report;
pub mod schedule;
pub mod score;
pub mod serve;
pub mod sql;

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
        Command::Check(c) => check::run(c, g),
        Command::Query(q) => query::run(q, g),
        Command::Sql(a) => sql::run(a, g),
        Command::Rates(r) => rates::run(r, g),
        Command::Kpis(a) => analytics::kpis(a, g),
        Command::Health(a) => analytics::health(a, g),
        Command::Segments(a) => analytics::segments(a, g),
        Command::Alerts(a) => analytics::alerts(a, g),
        Command::Cohorts(a) => analytics::cohorts(a, g),
        Command::Mrr(a) => mrr::run(a, g),
        Command::Customers(a) => analytics::customers(a, g),
        Command::Customer(a) => customer::run(a, g),
        Command::Insights(a) => insights::run(a, g),
        Command::Ask(a) => ask::run(a, g),
        Command::Score(a) => match (&a.from_parquet, &a.out) {
            (Some(from), Some(out)) => models_parquet::score(from, out, a.analysis.output.format, g),
            _ => score::run(&a.analysis, g),
        },
        Command::Churn(a) => analytics::scores("scores.churn", a, g),
        Command::Clv(a) => analytics::scores("scores.clv", a, g),
        Command::Models(m) => models::run(m, g),
        Command::Export(e) => export::run(e, g),
        Command::Report(a) => report::run(a, g),
        Command::Digest(a) => digest::run(a, g),
        Command::Generate(a) => generate::run(a, g),
        Command::Serve(a) => serve::run(a, g),
        Command::Users(c) => access::users(c, g),
        Command::Tokens(c) => access::tokens(c, g),
        Command::Audit(a) => access::audit(a, g),
        Command::Privacy(c) => privacy::run(c, g),
        Command::Backup(a) => backup::backup(a, g),
        Command::Restore(a) => backup::restore(a, g),
        Command::Doctor(a) => doctor::run(a, g),
        Command::Automation(c) => automation::run(c, g),
        Command::Schedule(c) => schedule::run(c, g),
        Command::Plugins(c) => schedule::plugins(c, g),
        Command::Unsubscribe(a) => automation::unsubscribe(a, g),
        Command::External(args) => schedule::external(args),
        Command::Completions(a) => completions::run(a),
    }
}

/// The workspace of this invocation and its opened, migrated store.
/// The workspace with its database open for reading only (other readers may share it).
pub(crate) fn open_workspace_read_only(g: &crate::cli::GlobalArgs) -> Result<(Workspace, Store)> {
    let started = std::time::Instant::now();
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let store = Store::open_read_only(&ws.database_path(), &ws.settings.reporting()?)?;
    store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
    crate::store::timing("opening the workspace", started, None);
    Ok((ws, store))
}

pub(crate) fn open_workspace(g: &crate::cli::GlobalArgs) -> Result<(Workspace, Store)> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let store = Store::open_settled(&ws.database_path(), &ws.settings.reporting()?)?;
    store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
    Ok((ws, store))
}

/// An opened workspace ready for analytics: store, catalog (macros registered) and parameters.
pub(crate) struct Analysis {
    pub settings: crate::config::Settings,
    /// The workspace directory (its `queries/` and `report-templates/` override the built-in ones).
    pub root: std::path::PathBuf,
    pub store: Store,
    pub catalog: crate::queries::Catalog,
    pub ctx: crate::queries::QueryContext,
}

impl Analysis {
    /// For reading: the database is opened read-only.
    pub fn open(g: &crate::cli::GlobalArgs, as_of_flag: Option<NaiveDate>) -> Result<Analysis> {
        Analysis::with(open_workspace_read_only(g)?, as_of_flag, g)
    }

    /// For commands that write (score).
    pub fn open_for_writing(g: &crate::cli::GlobalArgs, as_of_flag: Option<NaiveDate>) -> Result<Analysis> {
        Analysis::with(open_workspace(g)?, as_of_flag, g)
    }

    fn with(
        (ws, store): (Workspace, Store),
        as_of_flag: Option<NaiveDate>,
        g: &crate::cli::GlobalArgs,
    ) -> Result<Analysis> {
        let started = std::time::Instant::now();
        let catalog = crate::queries::Catalog::load(Some(&ws.queries_dir()))?;
        crate::store::timing("loading the query files", started, Some(catalog.files.len()));
        let day = as_of(as_of_flag, &ws)?;
        let ctx = crate::queries::QueryContext::new(&store, day, ws.settings.health.clone())?;
        note_unconverted(&store, &catalog, &ctx, g.quiet)?;
        Ok(Analysis { settings: ws.settings, root: ws.root, store, catalog, ctx })
    }

    pub fn run(&self, id: &str, extra: &[(&str, crate::store::Param)]) -> Result<crate::store::ResultSet> {
        self.catalog.run_with(&self.store, id, &self.ctx, extra)
    }

    /// Customer search: indexed matches, or contained and misspelt ones when there are none.
    pub fn search(&self, q: &str, limit: i64) -> Result<crate::store::ResultSet> {
        crate::queries::search::run(&self.store, &self.catalog, &self.ctx, q, limit)
    }
}

/// Says on stderr how many purchases every figure leaves out for want of an exchange rate.
pub(crate) fn note_unconverted(
    store: &Store,
    catalog: &crate::queries::Catalog,
    ctx: &crate::queries::QueryContext,
    quiet: bool,
) -> Result<Option<crate::queries::Unconverted>> {
    let u = crate::queries::unconverted(store, catalog, ctx.as_of)?;
    if let Some(u) = &u
        && !quiet
    {
        eprintln!("note: {}", u.note(&ctx.currency));
    }
    Ok(u)
}

/// `--as-of`, else the workspace's pinned date, else today.
pub(crate) fn as_of(flag: Option<NaiveDate>, ws: &Workspace) -> Result<NaiveDate> {
    match flag {
        Some(d) => Ok(d),
        None => default_as_of(&ws.settings),
    }
}

/// The workspace's pinned date, else today in the shop's time zone.
pub(crate) fn default_as_of(settings: &crate::config::Settings) -> Result<NaiveDate> {
    Ok(match settings.pinned_as_of()? {
        Some(d) => d,
        None => crate::store::calendar::today(settings.timezone()?.unwrap_or(chrono_tz::Tz::UTC)),
    })
}
