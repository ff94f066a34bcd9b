//! Stage 10: automations. A run of one automation (`run`): the gate (checks, data age), the
//! audience query, then its action (`actions`: email campaigns, digests, webhooks, checks,
//! scoring, imports, or an external plugin speaking JSON on stdin/stdout), every message through
//! the one outbox, the run recorded in the history. The scheduler (`daemon`) only decides when:
//! each run is a `scudo automation run` child process that borrows the workspace like any other
//! command (docs/architecture.md, "One owner of the workspace").

pub mod actions;
pub mod campaign;
pub mod daemon;
pub mod plugin;
pub mod run;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::config::Workspace;
use crate::config::automations::AutomationDef;
use crate::config::schedule::Schedule;
use crate::error::user;

/// Version of the `--format json` shapes of `scudo automation`, `schedule` and `plugins` (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The automation `name` of the workspace, or an error listing them.
pub fn find<'a>(ws: &'a Workspace, name: &str) -> anyhow::Result<&'a AutomationDef> {
    ws.settings.automation.iter().find(|a| a.name == name).ok_or_else(|| {
        let names: Vec<&str> = ws.settings.automation.iter().map(|a| a.name.as_str()).collect();
        user(format!(
            "no automation `{name}`; the workspace has {}. Automations are [[automation]] tables in scudo.toml or automations/*.toml",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        ))
    })
}

/// The schedule of a cron automation, in its time zone.
pub fn schedule(def: &AutomationDef, ws: &Workspace) -> anyhow::Result<Option<Schedule>> {
    let Some(cron) = &def.cron else { return Ok(None) };
    let tz = def.zone(ws.settings.timezone()?);
    Schedule::parse(cron, tz).map(Some).map_err(|e| user(format!("{}: automation `{}`: {e}", def.origin, def.name)))
}

/// The period a run at `instant` belongs to: for a cron automation the latest occurrence at or
/// before it; otherwise the instant itself, to the second. Returns (RFC 3339 local, UTC).
pub fn period(def: &AutomationDef, ws: &Workspace, instant: DateTime<Utc>) -> anyhow::Result<(String, DateTime<Utc>)> {
    let tz = def.zone(ws.settings.timezone()?);
    if let Some(s) = schedule(def, ws)?
        && let Some(p) = s.period_of(instant)
    {
        return Ok((p.to_rfc3339(), p.with_timezone(&Utc)));
    }
    let t = DateTime::from_timestamp(instant.timestamp(), 0).unwrap_or(instant);
    Ok((t.with_timezone(&tz).to_rfc3339(), t))
}

/// The instant a manual run stands for: the end of `as_of` (or of the workspace's pinned day)
/// in the automation's zone, else now.
pub fn manual_instant(def: &AutomationDef, ws: &Workspace, as_of: Option<NaiveDate>) -> anyhow::Result<DateTime<Utc>> {
    let day = match as_of {
        Some(d) => Some(d),
        None => ws.settings.pinned_as_of()?,
    };
    let Some(day) = day else { return Ok(Utc::now()) };
    let tz = def.zone(ws.settings.timezone()?);
    let end = day.and_hms_opt(23, 59, 59).expect("a valid time");
    Ok(tz.from_local_datetime(&end).latest().map_or_else(|| end.and_utc(), |t| t.with_timezone(&Utc)))
}
