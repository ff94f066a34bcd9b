//! The scheduler inside the long-running process (`scudo serve`, or `scudo schedule run` without
//! HTTP). tokio-cron-scheduler fires each enabled cron automation in its time zone; every `poll_seconds`
//! a poll looks for `after` and `when` triggers. The scheduler itself never opens the database:
//! each run is a child process, `scudo automation run NAME --trigger schedule --at PERIOD`, which
//! borrows the workspace like any command (from a running server, through the lease) and records
//! everything in the workspace. Runs go one at a time. At start, `scudo automation resume` sends
//! what the outbox still holds, resumes runs a crash interrupted, and catches up missed ones.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config::Workspace;

/// Runs child scudo processes, one at a time.
#[derive(Clone)]
pub struct Runner {
    root: PathBuf,
    exe: PathBuf,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Runner {
    pub fn new(root: PathBuf) -> Result<Runner> {
        Ok(Runner { root, exe: std::env::current_exe()?, lock: Default::default() })
    }

    /// Runs `scudo ARGS… --workspace ROOT` after the runs before it, and waits for it.
    pub async fn run(&self, args: Vec<String>) {
        let _turn = self.lock.lock().await;
        let (exe, root) = (self.exe.clone(), self.root.clone());
        let shown = args.join(" ");
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new(exe)
                .args(&args)
                .args(["--wait", "600", "--workspace"])
                .arg(root)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .status()
        })
        .await;
        match status {
            Ok(Ok(s)) if s.success() => {}
            Ok(Ok(s)) => eprintln!(
                "schedule: `scudo {shown}` exited with {}",
                s.code().map_or("a signal".into(), |c| c.to_string())
            ),
            Ok(Err(e)) => eprintln!("schedule: cannot run `scudo {shown}`: {e}"),
            Err(e) => eprintln!("schedule: `scudo {shown}` stopped: {e}"),
        }
    }
}

/// Schedules the enabled automations of `ws` and runs until `stop` resolves.
pub async fn run(ws: Workspace, stop: impl std::future::Future<Output = ()>) -> Result<()> {
    let runner = Runner::new(ws.root.clone())?;
    let tz = ws.settings.timezone()?;
    let enabled: Vec<_> = ws.settings.automation.iter().filter(|a| a.enabled).cloned().collect();
    if enabled.is_empty() {
        eprintln!(
            "schedule: no enabled automation (set `enabled = true` on one; `scudo schedule list` shows them); waiting"
        );
    }
    // Leftovers first: what the outbox holds, runs a crash interrupted, runs missed while down.
    runner.run(vec!["automation".into(), "resume".into()]).await;

    let mut sched = JobScheduler::new().await.context("cannot start the scheduler")?;
    for def in enabled.iter().filter(|a| a.cron.is_some()) {
        let s = super::schedule(def, &ws)?.expect("a cron automation");
        let name = def.name.clone();
        let zone = def.zone(tz);
        let (r, w) = (runner.clone(), ws.clone());
        let d = def.clone();
        let job = Job::new_async_tz(s.with_seconds().as_str(), zone, move |_id, _lock| {
            let (r, w, d, name) = (r.clone(), w.clone(), d.clone(), name.clone());
            Box::pin(async move {
                // The occurrence this firing stands for (it fires at it, or a moment after).
                let at = match super::period(&d, &w, Utc::now()) {
                    Ok((p, _)) => p,
                    Err(e) => {
                        eprintln!("schedule: {name}: {e:#}");
                        return;
                    }
                };
                r.run(vec![
                    "automation".into(),
                    "run".into(),
                    name,
                    "--trigger".into(),
                    "schedule".into(),
                    "--at".into(),
                    at,
                ])
                .await;
            })
        })
        .map_err(|e| anyhow::anyhow!("automation `{}`: cron `{}`: {e}", def.name, s.text))?;
        sched.add(job).await.map_err(|e| anyhow::anyhow!("cannot schedule `{}`: {e}", def.name))?;
        let next = s.next_after(Utc::now()).map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into());
        eprintln!("schedule: {} ({}, {}) next at {next}", def.name, s.text, zone);
    }
    sched.start().await.map_err(|e| anyhow::anyhow!("cannot start the scheduler: {e}"))?;

    let polled = enabled.iter().any(|a| a.cron.is_none());
    let every = Duration::from_secs(ws.settings.automations.poll_seconds);
    let poller = {
        let r = runner.clone();
        async move {
            if !polled {
                return std::future::pending::<()>().await;
            }
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                r.run(vec!["automation".into(), "poll".into()]).await;
            }
        }
    };
    tokio::select! {
        _ = stop => {}
        _ = poller => {}
    }
    let _ = sched.shutdown().await;
    Ok(())
}

/// SIGTERM or Ctrl-C.
pub async fn signalled() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}
