//! `scudo automation run|history` (and, for the scheduler, `resume` and `poll`), and
//! `scudo unsubscribe`. Orchestration only: the runs are automate::run's.

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::automate::{self, run::Request};
use crate::cli::{AutomationCommand, AutomationRunArgs, Format, GlobalArgs, UnsubscribeArgs};
use crate::config::Workspace;
use crate::config::automations::AutomationDef;
use crate::error::{Exit, user};
use crate::output;
use crate::store::Store;

pub fn run(c: &AutomationCommand, g: &GlobalArgs) -> Result<Exit> {
    match c {
        AutomationCommand::Run(a) => run_one(a, g),
        AutomationCommand::History { name, limit, output } => history(g, name.as_deref(), *limit, output.format),
        AutomationCommand::Resume => resume(g),
        AutomationCommand::Poll => poll(g),
    }
}

fn open(ws: &Workspace) -> Result<Store> {
    let store = Store::open_settled(&ws.database_path(), &ws.settings.reporting()?)?;
    store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
    Ok(store)
}

/// The request for a run of `def` at `instant` (its period), with the as-of of the queries.
fn request(
    ws: &Workspace,
    def: &AutomationDef,
    instant: DateTime<Utc>,
    as_of: Option<chrono::NaiveDate>,
    trigger: &str,
    dry_run: bool,
) -> Result<Request> {
    let (period, period_at) = automate::period(def, ws, instant)?;
    let tz = def.zone(ws.settings.timezone()?);
    let as_of = match as_of {
        Some(d) => d,
        None => ws.settings.pinned_as_of()?.unwrap_or_else(|| period_at.with_timezone(&tz).date_naive()),
    };
    Ok(Request { trigger: trigger.to_string(), period, period_at, as_of, dry_run })
}

fn run_one(a: &AutomationRunArgs, g: &GlobalArgs) -> Result<Exit> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let def = automate::find(&ws, &a.name)?.clone();
    let instant = match &a.at {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| {
                user(format!("--at `{t}` is not an RFC 3339 instant such as 2024-10-07T09:00:00+02:00 ({e})"))
            })?
            .with_timezone(&Utc),
        None => automate::manual_instant(&def, &ws, a.as_of.as_of)?,
    };
    let req = request(&ws, &def, instant, a.as_of.as_of, &a.trigger, a.dry_run)?;
    let store =
        if a.dry_run { Store::open_read_only(&ws.database_path(), &ws.settings.reporting()?)? } else { open(&ws)? };
    let report = automate::run::execute(store, &ws, &def, &req, g.quiet)?;
    let doc = report.json();
    match a.output.format {
        Format::Json => output::emit(&output::json::to_string(&doc))?,
        _ => output::emit(&output::automations::run(&doc))?,
    }
    if let Some(e) = &report.outcome.error {
        let what = if report.outcome.status == "failed" { "error" } else { "note" };
        eprintln!("{what}: {e}");
    }
    Ok(match report.outcome.status.as_str() {
        "failed" => Exit::Error,
        "partial" | "withheld" => Exit::Condition,
        _ => Exit::Ok,
    })
}

fn history(g: &GlobalArgs, name: Option<&str>, limit: usize, format: Format) -> Result<Exit> {
    let (ws, store) = super::open_workspace_read_only(g)?;
    if let Some(n) = name
        && !ws.settings.automation.iter().any(|a| a.name == n)
    {
        automate::find(&ws, n)?;
    }
    let rs = store.automation_history(name, limit)?;
    let mut rows = match output::json::rows(&rs) {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    for r in &mut rows {
        if let Some(d) = r.get("detail").and_then(Value::as_str).and_then(|t| serde_json::from_str::<Value>(t).ok()) {
            r["detail"] = d;
        }
    }
    match format {
        Format::Json => output::emit(&output::json::to_string(
            &json!({"schema_version": automate::JSON_SCHEMA_VERSION, "runs": rows}),
        ))?,
        Format::Csv => output::emit(&output::csv::render(&rs))?,
        Format::Table => output::emit(&output::automations::history(&rows))?,
    }
    Ok(Exit::Ok)
}

/// At the scheduler's start: send what the outbox holds, resume the runs a crash interrupted
/// (same period: the outbox keys make it send only what was not sent), catch up missed runs.
fn resume(g: &GlobalArgs) -> Result<Exit> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    // Look first, read-only: a running `scudo serve` shares the database with readers, and lends
    // it to a writer only when there is something to write.
    if !resume_has_work(&ws)? {
        return Ok(Exit::Ok);
    }
    let mut store = open(&ws)?;
    let smtp = if ws.settings.smtp.host.trim().is_empty() {
        None
    } else {
        Some(crate::deliver::Smtp::from_settings(&ws.settings.smtp, &ws.root)?)
    };
    let transports = crate::deliver::Transports {
        smtp: smtp.as_ref(),
        webhook_tries: ws.settings.automations.webhook_retries,
        webhook_timeout: std::time::Duration::from_secs(30),
    };
    let sent = crate::deliver::deliver_due(&store, &transports, std::time::Duration::from_secs(1))?;
    if !sent.is_empty() && !g.quiet {
        let ok = sent.iter().filter(|o| o.result.is_ok()).count();
        eprintln!("resume: sent {ok} of {} message(s) the outbox held", sent.len());
    }
    for u in store.automation_runs_unfinished()? {
        store.automation_run_interrupted(u.run_id)?;
        let Some(def) = ws.settings.automation.iter().find(|a| a.name == u.automation).cloned() else { continue };
        if !g.quiet {
            eprintln!("resume: run {} of `{}` ({}) was interrupted; resuming it", u.run_id, u.automation, u.period);
        }
        let req = Request {
            trigger: "resume".into(),
            period: u.period,
            period_at: u.period_at,
            as_of: u.as_of,
            dry_run: false,
        };
        let report = automate::run::execute(store, &ws, &def, &req, g.quiet)?;
        summary(&report, g.quiet);
        store = open(&ws)?;
    }
    for (def, missed) in missed_runs(&ws, &store)? {
        let Some(latest) = missed.last() else { continue };
        if def.catch_up == "skip" {
            if !g.quiet {
                eprintln!(
                    "resume: `{}` missed {} run(s) while nothing ran; catch_up = \"skip\"",
                    def.name,
                    missed.len()
                );
            }
            continue;
        }
        if !g.quiet {
            eprintln!(
                "resume: `{}` missed {} run(s); catching up once, for {}",
                def.name,
                missed.len(),
                latest.to_rfc3339()
            );
        }
        let req = request(&ws, def, latest.with_timezone(&Utc), None, "catch-up", false)?;
        let report = automate::run::execute(store, &ws, def, &req, g.quiet)?;
        summary(&report, g.quiet);
        store = open(&ws)?;
    }
    Ok(Exit::Ok)
}

/// Runs the enabled automations whose `after` trigger saw a new import or scoring run, or
/// whose `when` query (with no other trigger) returns rows, once per day.
fn poll(g: &GlobalArgs) -> Result<Exit> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    // Decide read-only (shared with a running server); borrow the database only to run.
    let due = poll_due(&ws, &Store::open_read_only(&ws.database_path(), &ws.settings.reporting()?)?)?;
    for (def, trigger, period) in due {
        let tz = def.zone(ws.settings.timezone()?);
        let now = Utc::now();
        let as_of = ws.settings.pinned_as_of()?.unwrap_or_else(|| now.with_timezone(&tz).date_naive());
        let req = Request { trigger: trigger.into(), period, period_at: now, as_of, dry_run: false };
        let report = automate::run::execute(open(&ws)?, &ws, &def, &req, g.quiet)?;
        summary(&report, g.quiet);
    }
    Ok(Exit::Ok)
}

/// The polled automations that would run now: (automation, trigger, period).
fn poll_due(ws: &Workspace, store: &Store) -> Result<Vec<(AutomationDef, &'static str, String)>> {
    let (imports, scores) = store.change_marks()?;
    let mut due = Vec::new();
    for def in ws.settings.automation.iter().filter(|a| a.enabled && a.cron.is_none()) {
        let tz = def.zone(ws.settings.timezone()?);
        let (trigger, period) = match def.after.as_deref() {
            Some("ingest") if imports > 0 => ("after-ingest", format!("ingest-{imports}")),
            Some("score") if scores > 0 => ("after-score", format!("score-{scores}")),
            Some(_) => continue,
            None => ("when", Utc::now().with_timezone(&tz).date_naive().to_string()),
        };
        let done = store
            .automation_history(Some(&def.name), 1)?
            .rows
            .first()
            .map(|r| r[4].to_text())
            .is_some_and(|p| p == period);
        if done {
            continue;
        }
        if trigger == "when"
            && let Some(w) = &def.when
        {
            let catalog = crate::queries::Catalog::load(Some(&ws.queries_dir()))?;
            let as_of = super::as_of(None, ws)?;
            let ctx = crate::queries::QueryContext::new(store, as_of, ws.settings.health.clone())?;
            if catalog.run_with(store, &automate::run::query_id(w), &ctx, &[])?.rows.is_empty() {
                continue;
            }
        }
        due.push((def.clone(), trigger, period));
    }
    Ok(due)
}

/// Whether `resume` has anything to do: a hand-over to resolve, a message the outbox can send, a
/// run a crash interrupted, or a missed run to catch up.
fn resume_has_work(ws: &Workspace) -> Result<bool> {
    let store = Store::open_read_only(&ws.database_path(), &ws.settings.reporting()?)?;
    if std::fs::metadata(store.handover_journal()).is_ok_and(|m| m.len() > 0) {
        return Ok(true);
    }
    let smtp = !ws.settings.smtp.host.trim().is_empty();
    if store.outbox_due()?.iter().any(|m| smtp || m.kind == "webhook") {
        return Ok(true);
    }
    if !store.automation_runs_unfinished()?.is_empty() {
        return Ok(true);
    }
    Ok(missed_runs(ws, &store)?.iter().any(|(def, _)| def.catch_up != "skip"))
}

/// An automation and the runs it missed.
type Missed<'w> = (&'w AutomationDef, Vec<DateTime<chrono_tz::Tz>>);

/// The enabled automations with runs missed since their last one (up to 10,000 each), and those runs.
fn missed_runs<'w>(ws: &'w Workspace, store: &Store) -> Result<Vec<Missed<'w>>> {
    let now = Utc::now();
    let mut out = Vec::new();
    for def in ws.settings.automation.iter().filter(|a| a.enabled) {
        let Some(s) = automate::schedule(def, ws)? else { continue };
        let Some((last, _)) = store.automation_last_run(&def.name)? else { continue };
        let missed = s.missed(last, now, 10_000);
        if !missed.is_empty() {
            out.push((def, missed));
        }
    }
    Ok(out)
}

fn summary(r: &automate::run::Report, quiet: bool) {
    if !quiet {
        eprintln!(
            "{} ({}, {}): {} · sent {} · skipped {} · failed {}{}",
            r.automation,
            r.trigger,
            r.period,
            r.outcome.status,
            r.outcome.sent,
            r.outcome.skipped,
            r.outcome.failed,
            r.outcome.error.as_ref().map(|e| format!(" · {e}")).unwrap_or_default()
        );
    }
}

/// `scudo unsubscribe EMAIL…`, `--remove`, `--list`.
pub fn unsubscribe(a: &UnsubscribeArgs, g: &GlobalArgs) -> Result<Exit> {
    if a.list {
        let (_, store) = super::open_workspace_read_only(g)?;
        let rs = store.suppressions()?;
        match a.output.format {
            Format::Json => output::emit(&output::json::to_string(
                &json!({"schema_version": automate::JSON_SCHEMA_VERSION, "suppressions": output::json::rows(&rs)}),
            ))?,
            Format::Csv => output::emit(&output::csv::render(&rs))?,
            Format::Table => output::emit(&output::table::render(&rs))?,
        }
        return Ok(Exit::Ok);
    }
    let (_, store) = super::open_workspace(g)?;
    let mut changed = Vec::new();
    for e in &a.emails {
        let addr = automate::actions::bare(e)?;
        let did = if a.remove { store.unsuppress(&addr)? } else { store.suppress(&addr, "unsubscribed", "cli")? };
        if !g.quiet {
            let what = match (a.remove, did) {
                (false, true) => "suppressed: no campaign email will go to it",
                (false, false) => "was suppressed already",
                (true, true) => "taken off the suppression list",
                (true, false) => "was not on the suppression list",
            };
            eprintln!("{addr}: {what}");
        }
        changed.push(json!({"email": addr, "changed": did}));
    }
    if a.output.format == Format::Json {
        output::emit(&output::json::to_string(
            &json!({"schema_version": automate::JSON_SCHEMA_VERSION, "removed": a.remove, "emails": changed}),
        ))?;
    }
    Ok(Exit::Ok)
}
