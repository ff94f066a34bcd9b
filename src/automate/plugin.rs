//! External actions: any executable (`exec = "path"`, or `scudo-action-NAME` on `PATH` for
//! `action = "NAME"`). It gets one JSON document on stdin — the automation, the run, the audience
//! rows and the context — and answers one JSON document on stdout within its timeout; its exit
//! code and stderr are recorded with the run. The contract is docs/plugins.md.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::actions::{Action, Outcome};
use super::run::Cx;
use crate::config::automations::{AutomationDef, duration};
use crate::error::user;

/// Version of the document a plugin reads on stdin.
pub const PROTOCOL_VERSION: u32 = 1;
/// How long a plugin may run unless its automation says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Most of a plugin's stderr kept in the run history.
const STDERR_KEPT: usize = 4000;

/// An executable to run as an action.
pub struct Plugin {
    pub path: PathBuf,
}

/// Every executable on `PATH` whose name starts with `prefix`, first one of each name wins.
pub fn on_path(prefix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let Some(path) = std::env::var_os("PATH") else { return out };
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut found: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let rest = name.strip_prefix(prefix)?.to_string();
                (!rest.is_empty() && executable(&e.path())).then_some((rest, e.path()))
            })
            .collect();
        found.sort();
        for (n, p) in found {
            if !out.iter().any(|(m, _)| *m == n) {
                out.push((n, p));
            }
        }
    }
    out
}

/// True for a file this user may run.
pub fn executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.is_file() && std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

impl Plugin {
    /// The executable of `def`: `exec` (relative to the workspace), else `scudo-action-ACTION` on `PATH`.
    pub fn resolve(def: &AutomationDef, root: &Path) -> Result<Plugin> {
        if let Some(exec) = &def.exec {
            let p = Path::new(exec);
            let path = if p.is_absolute() { p.to_path_buf() } else { root.join(p) };
            if !executable(&path) {
                return Err(user(format!(
                    "{}: automation `{}`: exec = `{exec}`: {} is not an executable file (chmod +x?)",
                    def.origin,
                    def.name,
                    path.display()
                )));
            }
            return Ok(Plugin { path });
        }
        let name = format!("scudo-action-{}", def.action);
        match on_path("scudo-action-").into_iter().find(|(n, _)| *n == def.action) {
            Some((_, path)) => Ok(Plugin { path }),
            None => Err(user(format!(
                "{}: automation `{}`: action `{}` is not built in ({}) and no `{name}` is on PATH; install the plugin, \
                 or give `exec = \"path/to/program\"` (docs/plugins.md)",
                def.origin,
                def.name,
                def.action,
                crate::config::automations::BUILTIN_ACTIONS.join(", ")
            ))),
        }
    }
}

/// The document a plugin reads on stdin.
pub fn input(cx: &Cx<'_>) -> Value {
    let rows = cx.audience_rows();
    json!({
        "protocol": PROTOCOL_VERSION,
        "automation": {
            "name": cx.def.name,
            "action": cx.def.action,
            "trigger": cx.def.trigger(),
            "params": cx.def.params,
        },
        "run": {
            "id": cx.run_id,
            "trigger": cx.req.trigger,
            "period": cx.req.period,
            "as_of": cx.req.as_of.to_string(),
            "dry_run": cx.req.dry_run,
        },
        "audience": cx.def.audience.as_ref().map(|q| json!({
            "query": q,
            "columns": cx.audience.as_ref().map(|a| a.columns.clone()).unwrap_or_default(),
            "count": rows.len(),
            "rows": rows,
        })),
        "context": {
            "workspace": cx.ws.root.display().to_string(),
            "currency": cx.ctx.currency,
            "timezone": cx.ws.settings.workspace.timezone,
            "scudo_version": env!("CARGO_PKG_VERSION"),
        },
    })
}

impl Action for Plugin {
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome> {
        let timeout = match &cx.def.timeout {
            Some(t) => duration(t).map_err(anyhow::Error::msg)?,
            None => DEFAULT_TIMEOUT,
        };
        let doc = crate::output::json::to_string(&input(cx));
        // The plugin may call scudo itself: the workspace is free while it runs.
        cx.release();
        let started = Instant::now();
        let mut command = Command::new(&self.path);
        // Its own process group, so that a timeout stops what it started too (and their pipes close).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .current_dir(&cx.ws.root)
            .env("SCUDO_WORKSPACE", &cx.ws.root)
            .env("SCUDO_AUTOMATION", &cx.def.name)
            .env("SCUDO_RUN_ID", cx.run_id.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start the plugin {}", self.path.display()))?;
        let mut stdin = child.stdin.take().expect("piped");
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(doc.as_bytes());
        });
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let out_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = stdout.read_to_end(&mut b);
            b
        });
        let err_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = stderr.read_to_end(&mut b);
            b
        });
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break Some(s);
            }
            if started.elapsed() > timeout {
                let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = writer.join();
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        let mut stderr_text = String::from_utf8_lossy(&stderr).into_owned();
        if stderr_text.len() > STDERR_KEPT {
            let cut = (0..=STDERR_KEPT).rev().find(|i| stderr_text.is_char_boundary(*i)).unwrap_or(0);
            stderr_text.truncate(cut);
            stderr_text.push('…');
        }
        let millis = started.elapsed().as_millis() as u64;
        let mut o = Outcome::default();
        let Some(status) = status else {
            o.status = "failed".into();
            o.error = Some(format!(
                "{} did not answer within {} s (timeout); it was stopped",
                self.path.display(),
                timeout.as_secs()
            ));
            o.detail = json!({"plugin": self.path.display().to_string(), "exit_code": null, "stderr": stderr_text, "millis": millis});
            return Ok(o);
        };
        let code = status.code();
        let answer: Option<Value> = serde_json::from_slice(&stdout).ok();
        o.detail = json!({
            "plugin": self.path.display().to_string(),
            "exit_code": code,
            "stderr": stderr_text,
            "millis": millis,
            "result": answer,
        });
        match (&answer, code) {
            (Some(a), Some(0)) => {
                let st = a.get("status").and_then(Value::as_str).unwrap_or("ok");
                o.status = if matches!(st, "ok" | "partial" | "skipped" | "failed") {
                    st.to_string()
                } else {
                    "ok".to_string()
                };
                o.sent = a.get("sent").and_then(Value::as_u64).unwrap_or(0);
                o.skipped = a.get("skipped").and_then(Value::as_u64).unwrap_or(0);
                o.failed = a.get("failed").and_then(Value::as_u64).unwrap_or(0);
                if o.status == "failed" {
                    o.error = Some(
                        a.get("message").and_then(Value::as_str).unwrap_or("the plugin said it failed").to_string(),
                    );
                }
            }
            (None, Some(0)) => {
                o.status = "failed".into();
                o.error = Some(format!(
                    "{} exited 0 but did not print one JSON document on stdout (docs/plugins.md)",
                    self.path.display()
                ));
            }
            (_, c) => {
                o.status = "failed".into();
                let first = stderr_text.lines().last().unwrap_or("").to_string();
                o.error = Some(format!(
                    "{} exited with {}{}",
                    self.path.display(),
                    c.map_or("a signal".to_string(), |c| c.to_string()),
                    if first.is_empty() { String::new() } else { format!(": {first}") }
                ));
            }
        }
        Ok(o)
    }
}
