//! `scudo check [list|show|history]`: the data checks, for people and for CI.

use anyhow::{Context, Result};

use crate::checks::{self, Run, Severity};
use crate::cli::{CheckArgs, CheckCommand, CheckRunArgs, FailOn, Format, GlobalArgs};
use crate::config::Workspace;
use crate::error::{Exit, user};
use crate::output;
use crate::queries::{Catalog, QueryContext};
use crate::store::{Param, Store};

/// Failing rows kept per check for the report (table, JSON, JUnit) and, with
/// `--store-failures`, for `scudo check show`.
const KEEP_FOR_REPORT: usize = 10;
const KEEP_STORED: usize = 100_000;

pub fn run(args: &CheckArgs, g: &GlobalArgs) -> Result<Exit> {
    match &args.command {
        None => run_checks(&args.run, g),
        Some(CheckCommand::List(out)) => {
            let ws = Workspace::discover(g.workspace.as_deref())?;
            let catalog = Catalog::load(Some(&ws.queries_dir()))?;
            let specs = checks::specs(&catalog, &ws.settings.checks.disabled);
            output::emit(&output::checks::list(&specs, out.format))?;
            Ok(Exit::Ok)
        }
        Some(CheckCommand::Show { name, run, output }) => show(g, name, *run, output.format),
        Some(CheckCommand::History { limit, output }) => history(g, *limit, output.format),
    }
}

fn run_checks(a: &CheckRunArgs, g: &GlobalArgs) -> Result<Exit> {
    let started_at = chrono::Utc::now().naive_utc();
    let clock = std::time::Instant::now();
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let all = checks::specs(&catalog, &ws.settings.checks.disabled);
    for d in &ws.settings.checks.disabled {
        if !all.iter().any(|s| &s.name == d) && !g.quiet {
            eprintln!("note: [checks] disabled names `{d}`, which is no check (`scudo check list`)");
        }
    }
    let specs = checks::select(all, &a.select, &a.exclude)?;
    let as_of = super::as_of(a.as_of.as_of, &ws)?;
    let keep = if a.store_failures { KEEP_STORED } else { KEEP_FOR_REPORT };
    let outcomes = {
        // Read-only, and no access to other files: a check only reads the workspace.
        let store = Store::open_sandboxed(&ws.database_path(), &ws.settings.reporting()?)?;
        store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
        let ctx = QueryContext::new(&store, as_of, ws.settings.health.clone())?;
        checks::run(&store, &catalog, &ctx, specs, &ws.settings.freshness, keep)?
    };
    let selection = (!a.select.is_empty() || !a.exclude.is_empty()).then(|| {
        let mut parts: Vec<String> = a.select.iter().map(|s| format!("--select {s}")).collect();
        parts.extend(a.exclude.iter().map(|s| format!("--exclude {s}")));
        parts.join(" ")
    });
    let fail_on = match a.fail_on {
        FailOn::Warn => Severity::Warn,
        FailOn::Error => Severity::Error,
    };
    let mut run = Run { started_at, as_of, outcomes, duration: clock.elapsed(), fail_on, run_id: None, selection };
    run.run_id = record(&ws, &run, a.store_failures, g.quiet);
    if let Some(path) = &a.junit {
        let xml = output::junit::render(&run)?;
        std::fs::write(path, xml).with_context(|| format!("cannot write the JUnit report {}", path.display()))?;
    }
    output::emit(&output::checks::render(&run, a.output.format))?;
    if !g.quiet {
        eprintln!("{}", run.summary());
    }
    Ok(run.exit())
}

/// Records the run in the check history; a workspace that cannot be written to (another scudo
/// writing, no permission) leaves it unrecorded, with a note: the checks' verdict stands.
fn record(ws: &Workspace, run: &Run, store_failures: bool, quiet: bool) -> Option<i64> {
    let recorded = Store::open(&ws.database_path()).and_then(|mut s| run.record(&mut s, store_failures));
    match recorded {
        Ok(id) => Some(id),
        Err(e) => {
            if !quiet {
                eprintln!("note: this run is not in the check history: {e:#}");
            }
            None
        }
    }
}

fn show(g: &GlobalArgs, name: &str, run: Option<i64>, format: Format) -> Result<Exit> {
    let (ws, store) = super::open_workspace_read_only(g)?;
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let specs = checks::specs(&catalog, &[]);
    if !specs.iter().any(|s| s.name == name) {
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        return Err(user(format!("no check `{name}`; the checks are: {}", names.join(", "))));
    }
    match store.check_failures(name, run)? {
        Some((run_id, rows)) => {
            if !g.quiet {
                eprintln!(
                    "{} of check {name}, kept by run {run_id}",
                    output::count(rows.rows.len() as u64, "failing row", "failing rows")
                );
            }
            let what = serde_json::json!({"check": name, "run_id": run_id});
            output::emit(&output::checks::rows(&rows, format, what))?;
            Ok(Exit::Ok)
        }
        None => Err(user(format!(
            "no failing rows of `{name}` are kept{}: run `scudo check --store-failures --select {name}` to keep them",
            run.map(|r| format!(" for run {r}")).unwrap_or_default()
        ))),
    }
}

fn history(g: &GlobalArgs, limit: i64, format: Format) -> Result<Exit> {
    let (ws, store) = super::open_workspace_read_only(g)?;
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let as_of = super::as_of(None, &ws)?;
    let ctx = QueryContext::new(&store, as_of, ws.settings.health.clone())?;
    let rs = catalog.run_with(&store, "history.check_runs", &ctx, &[("limit", Param::Int(limit))])?;
    if rs.rows.is_empty() && !g.quiet {
        eprintln!("no check runs recorded yet: run `scudo check`");
    }
    output::emit(&output::checks::rows(&rs, format, serde_json::json!({"history": "check_runs"})))?;
    Ok(Exit::Ok)
}
