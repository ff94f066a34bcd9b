//! Stage 7: the commands, one file each. Orchestration only: they resolve the workspace, ask the
//! stages for results and hand them to a renderer.

pub mod completions;
pub mod dashboard;
pub mod demo;
pub mod ingest;
pub mod init;
pub mod query;

use anyhow::Result;
use chrono::NaiveDate;

use crate::cli::{Cli, Command};
use crate::config::Workspace;
use crate::error::Exit;
use crate::store::Store;

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<Exit> {
    let g = &cli.global;
    match &cli.command {
        Command::Init(a) => init::run(a, g),
        Command::Demo(a) => demo::run(a, g),
        Command::Dashboard(a) => dashboard::run(a, g),
        Command::Ingest(a) => ingest::run(a, g),
        Command::Query(q) => query::run(q, g),
        Command::Completions(a) => completions::run(a),
    }
}

/// The workspace of this invocation and its opened, migrated store.
pub(crate) fn open_workspace(g: &crate::cli::GlobalArgs) -> Result<(Workspace, Store)> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let store = Store::open(&ws.database_path())?;
    Ok((ws, store))
}

/// `--as-of`, else the workspace's pinned date, else today.
pub(crate) fn as_of(flag: Option<NaiveDate>, ws: &Workspace) -> Result<NaiveDate> {
    Ok(match flag {
        Some(d) => d,
        None => ws.settings.pinned_as_of()?.unwrap_or_else(|| chrono::Local::now().date_naive()),
    })
}
