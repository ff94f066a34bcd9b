//! One run of one automation: record that it starts, check the gate (checks, data age) and the
//! `when` condition, read the audience, hand it to the action, record how it ended. The store is
//! held only while the run needs it: actions that run another program (plugins, `scudo score`,
//! `scudo ingest`) release it first, so the program can open the workspace itself.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::actions::{self, Outcome};
use crate::checks;
use crate::config::Workspace;
use crate::config::automations::AutomationDef;
use crate::queries::{Catalog, QueryContext};
use crate::store::automations::{NewRun, RunEnd};
use crate::store::{Param, ResultSet, Store};

/// What to run.
#[derive(Debug, Clone)]
pub struct Request {
    /// manual, schedule, catch-up, resume, after-ingest, after-score, when
    pub trigger: String,
    /// The period: RFC 3339 in the automation's zone, and the same instant in UTC.
    pub period: String,
    pub period_at: DateTime<Utc>,
    /// The day the queries look at.
    pub as_of: NaiveDate,
    /// Who would receive what; nothing recorded or sent.
    pub dry_run: bool,
}

/// How a run went (what `scudo automation run` prints).
#[derive(Debug, Clone)]
pub struct Report {
    pub run_id: Option<i64>,
    pub automation: String,
    pub action: String,
    pub trigger: String,
    pub period: String,
    pub as_of: NaiveDate,
    pub dry_run: bool,
    pub outcome: Outcome,
    pub audience: Option<u64>,
    pub duration_ms: u64,
}

impl Report {
    pub fn json(&self) -> Value {
        json!({
            "schema_version": super::JSON_SCHEMA_VERSION,
            "run_id": self.run_id,
            "automation": self.automation,
            "action": self.action,
            "trigger": self.trigger,
            "period": self.period,
            "as_of": self.as_of.to_string(),
            "dry_run": self.dry_run,
            "status": self.outcome.status,
            "audience": self.audience,
            "recorded": self.outcome.recorded,
            "sent": self.outcome.sent,
            "skipped": self.outcome.skipped,
            "failed": self.outcome.failed,
            "duration_ms": self.duration_ms,
            "error": self.outcome.error,
            "detail": self.outcome.detail,
            "recipients": self.outcome.items,
        })
    }
}

/// What an action works with.
pub struct Cx<'a> {
    store: Option<Store>,
    pub ws: &'a Workspace,
    pub def: &'a AutomationDef,
    pub catalog: Catalog,
    pub ctx: QueryContext,
    pub req: &'a Request,
    pub run_id: i64,
    pub audience: Option<ResultSet>,
    pub quiet: bool,
}

impl Cx<'_> {
    /// The open store (reopened when an action released it).
    pub fn store(&mut self) -> Result<&mut Store> {
        if self.store.is_none() {
            let s = Store::open_settled(&self.ws.database_path(), &self.ws.settings.reporting()?)?;
            self.catalog = Catalog::load(Some(&self.ws.queries_dir()))?;
            self.store = Some(s);
        }
        Ok(self.store.as_mut().expect("opened above"))
    }

    /// The open store with the catalog and the query context, borrowed together.
    pub fn parts(&mut self) -> Result<(&Store, &Catalog, &QueryContext)> {
        self.store()?;
        Ok((self.store.as_ref().expect("opened above"), &self.catalog, &self.ctx))
    }

    /// Closes the store, so that another program can open the workspace.
    pub fn release(&mut self) {
        self.store = None;
    }

    pub fn db_path(&self) -> PathBuf {
        self.ws.database_path()
    }

    /// The audience's rows as JSON objects.
    pub fn audience_rows(&self) -> Vec<Value> {
        match &self.audience {
            Some(rs) => match crate::output::json::rows(rs) {
                Value::Array(a) => a,
                _ => Vec::new(),
            },
            None => Vec::new(),
        }
    }

    /// The automation's params typed for query `id`'s declared parameters.
    pub fn params_for(&self, id: &str) -> Result<Vec<(String, Param)>> {
        let Some(file) = self.catalog.get(id) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for p in &file.params {
            if let Some(v) = self.def.params.get(&p.name) {
                out.push((p.name.clone(), crate::queries::typed(v, &p.kind, &p.name)?));
            }
        }
        Ok(out)
    }

    /// Runs query `id` (an id, or a `queries/….sql` path) with the automation's params.
    pub fn query(&mut self, id: &str) -> Result<ResultSet> {
        let id = query_id(id);
        let params = self.params_for(&id)?;
        let refs: Vec<(&str, Param)> = params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.store()?;
        let store = self.store.as_ref().expect("opened above");
        self.catalog.run_with(store, &id, &self.ctx, &refs)
    }
}

/// `queries/campaigns/at_risk.sql` → `campaigns.at_risk`; an id stays as it is.
pub fn query_id(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix("queries/").and_then(|r| r.strip_suffix(".sql")) {
        Some(rest) => rest.replace('/', "."),
        None => s.to_string(),
    }
}

/// Runs `def` for `req` on `store`; the run is recorded unless it is a dry run.
pub fn execute(store: Store, ws: &Workspace, def: &AutomationDef, req: &Request, quiet: bool) -> Result<Report> {
    let started = Instant::now();
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let ctx = QueryContext::new(&store, req.as_of, ws.settings.health.clone())?;
    let run_id = if req.dry_run {
        0
    } else {
        store.automation_run_start(&NewRun {
            automation: &def.name,
            action: &def.action,
            trigger: &req.trigger,
            period: req.period.clone(),
            period_at: req.period_at,
            as_of: req.as_of,
        })?
    };
    let mut cx = Cx { store: Some(store), ws, def, catalog, ctx, req, run_id, audience: None, quiet };
    let result = steps(&mut cx);
    let outcome = match result {
        Ok(o) => o,
        Err(e) => Outcome { status: "failed".into(), error: Some(format!("{e:#}")), ..Default::default() },
    };
    let audience = cx.audience.as_ref().map(|a| a.rows.len() as u64);
    let duration_ms = started.elapsed().as_millis() as u64;
    if !req.dry_run {
        let end = RunEnd {
            status: outcome.status.clone(),
            audience,
            recorded: outcome.recorded,
            sent: outcome.sent,
            skipped: outcome.skipped,
            failed: outcome.failed,
            detail: outcome.detail.clone(),
            error: outcome.error.clone(),
            duration_ms,
        };
        cx.store()?.automation_run_finish(run_id, &end)?;
    }
    Ok(Report {
        run_id: (!req.dry_run).then_some(run_id),
        automation: def.name.clone(),
        action: def.action.clone(),
        trigger: req.trigger.clone(),
        period: req.period.clone(),
        as_of: req.as_of,
        dry_run: req.dry_run,
        outcome,
        audience,
        duration_ms,
    })
}

fn steps(cx: &mut Cx<'_>) -> Result<Outcome> {
    if let Some(why) = gate(cx)? {
        return actions::withhold(cx, &why);
    }
    if let Some(when) = cx.def.when.clone() {
        let rows = cx.query(&when)?;
        if rows.rows.is_empty() {
            return Ok(Outcome {
                status: "skipped".into(),
                detail: json!({"reason": format!("{when} returned no rows")}),
                ..Default::default()
            });
        }
    }
    if let Some(audience) = cx.def.audience.clone() {
        let rows = cx.query(&audience)?;
        cx.audience = Some(rows);
    }
    if cx.def.skip_if_empty && cx.audience.as_ref().is_some_and(|a| a.rows.is_empty()) {
        return Ok(Outcome {
            status: "skipped".into(),
            detail: json!({"reason": "the audience is empty (skip_if_empty)"}),
            ..Default::default()
        });
    }
    actions::dispatch(cx)
}

/// Why the action must be withheld, if it must: checks failing, or data too old.
fn gate(cx: &mut Cx<'_>) -> Result<Option<String>> {
    if let Some(limit) = cx.def.max_data_age.clone() {
        let max = crate::config::automations::duration(&limit).map_err(anyhow::Error::msg)?;
        match cx.store()?.newest_import()? {
            None => return Ok(Some("nothing was ever imported".into())),
            Some(t) => {
                let age = (Utc::now() - t).to_std().unwrap_or_default();
                if age > max {
                    return Ok(Some(format!(
                        "the newest import is {} old, more than max_data_age = \"{limit}\"",
                        human(age)
                    )));
                }
            }
        }
    }
    let Some(level) = cx.def.require_checks.clone() else { return Ok(None) };
    let run = run_checks(cx)?;
    let bad: Vec<String> = run
        .outcomes
        .iter()
        .filter(|o| match level.as_str() {
            "pass" => matches!(o.status, checks::Status::Warn | checks::Status::Error | checks::Status::Broken),
            _ => matches!(o.status, checks::Status::Error | checks::Status::Broken),
        })
        .map(|o| {
            let what = o.message.clone().or_else(|| o.crossed.clone()).unwrap_or_default();
            format!(
                "{} ({}{})",
                o.spec.name,
                o.status.as_str(),
                if what.is_empty() { String::new() } else { format!(": {what}") }
            )
        })
        .collect();
    if bad.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("require_checks = \"{level}\" and {} did not pass: {}", bad.len(), bad.join("; "))))
}

/// Runs every enabled check and records the run in the check history.
pub fn run_checks(cx: &mut Cx<'_>) -> Result<checks::Run> {
    let started_at = Utc::now().naive_utc();
    let clock = Instant::now();
    let specs = checks::specs(&cx.catalog, &cx.ws.settings.checks.disabled);
    cx.store()?;
    let store = cx.store.as_ref().expect("opened above");
    let outcomes = checks::run(store, &cx.catalog, &cx.ctx, specs, &cx.ws.settings.freshness, 10)?;
    let mut run = checks::Run {
        started_at,
        as_of: cx.req.as_of,
        outcomes,
        duration: clock.elapsed(),
        fail_on: checks::Severity::Error,
        run_id: None,
        selection: Some(format!("automation {}", cx.def.name)),
    };
    if !cx.req.dry_run {
        run.run_id = Some(run.record(cx.store()?, false)?);
    }
    Ok(run)
}

fn human(d: std::time::Duration) -> String {
    let h = d.as_secs() / 3600;
    if h >= 48 { format!("{} days", h / 24) } else { format!("{h} h {} min", d.as_secs() % 3600 / 60) }
}
