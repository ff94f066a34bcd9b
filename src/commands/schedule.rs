//! `scudo schedule list|run`, `scudo plugins list`, and `scudo NAME` → `scudo-NAME` on PATH.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::automate;
use crate::cli::{Format, GlobalArgs, PluginsCommand, ScheduleCommand};
use crate::config::Workspace;
use crate::config::automations::BUILTIN_ACTIONS;
use crate::error::{Exit, user};
use crate::output;

pub fn run(c: &ScheduleCommand, g: &GlobalArgs) -> Result<Exit> {
    match c {
        ScheduleCommand::List { from, count, output } => list(g, from.as_deref(), *count as usize, output.format),
        ScheduleCommand::Run => {
            let ws = Workspace::discover(g.workspace.as_deref())?;
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            eprintln!("scudo schedule: running the automations of {} (stop with Ctrl-C or SIGTERM)", ws.root.display());
            rt.block_on(automate::daemon::run(ws, automate::daemon::signalled()))?;
            eprintln!("scudo schedule: stopped");
            Ok(Exit::Ok)
        }
    }
}

fn list(g: &GlobalArgs, from: Option<&str>, count: usize, format: Format) -> Result<Exit> {
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let from: DateTime<Utc> = match from {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| user(format!("--from `{t}` is not an RFC 3339 instant such as 2024-10-01T12:00:00Z ({e})")))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let tz = ws.settings.timezone()?;
    let mut items = Vec::new();
    for def in &ws.settings.automation {
        let zone = def.zone(tz);
        let runs: Vec<serde_json::Value> = match automate::schedule(def, &ws)? {
            Some(s) => s
                .upcoming(from, count)
                .iter()
                .map(|t| json!({"local": t.to_rfc3339(), "utc": t.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}))
                .collect(),
            None => Vec::new(),
        };
        items.push(json!({
            "name": def.name,
            "enabled": def.enabled,
            "trigger": def.trigger(),
            "action": def.action,
            "template": def.template,
            "audience": def.audience,
            "timezone": zone.name(),
            "defined_in": def.origin,
            "next_runs": runs,
        }));
    }
    let doc = json!({
        "schema_version": automate::JSON_SCHEMA_VERSION,
        "from": from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "automations": items,
    });
    match format {
        Format::Json => output::emit(&output::json::to_string(&doc))?,
        _ => output::emit(&output::automations::schedule(&doc))?,
    }
    Ok(Exit::Ok)
}

pub fn plugins(c: &PluginsCommand, _g: &GlobalArgs) -> Result<Exit> {
    let PluginsCommand::List(out) = c;
    let mut items: Vec<serde_json::Value> =
        BUILTIN_ACTIONS.iter().map(|a| json!({"name": a, "kind": "built-in action", "path": null})).collect();
    for (name, path) in automate::plugin::on_path("scudo-action-") {
        items.push(json!({"name": name, "kind": "action plugin", "path": path.display().to_string()}));
    }
    for (name, path) in automate::plugin::on_path("scudo-") {
        if name.starts_with("action-") {
            continue;
        }
        items.push(json!({"name": name, "kind": "command (scudo NAME)", "path": path.display().to_string()}));
    }
    let doc = json!({"schema_version": automate::JSON_SCHEMA_VERSION, "plugins": items});
    match out.format {
        Format::Json => output::emit(&output::json::to_string(&doc))?,
        _ => output::emit(&output::automations::plugins(&doc))?,
    }
    Ok(Exit::Ok)
}

/// `scudo NAME ARGS…`: runs `scudo-NAME ARGS…` from PATH, as cargo and git do, and exits with its code.
pub fn external(args: &[std::ffi::OsString]) -> Result<Exit> {
    let Some(name) = args.first().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(user("no command given; `scudo --help` lists them"));
    };
    let Some((_, path)) = automate::plugin::on_path("scudo-").into_iter().find(|(n, _)| *n == name) else {
        return Err(user(format!(
            "`{name}` is not a scudo command, and no `scudo-{name}` is on PATH; `scudo --help` lists the commands"
        )));
    };
    let status = std::process::Command::new(&path)
        .args(&args[1..])
        .status()
        .with_context(|| format!("cannot run {}", path.display()))?;
    Ok(match status.code() {
        Some(0) => Exit::Ok,
        Some(1) => Exit::Condition,
        _ => Exit::Error,
    })
}
