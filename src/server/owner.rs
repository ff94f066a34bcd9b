//! The one thread of `scudo serve` that touches the database (DuckDB calls are synchronous).
//!
//! It holds a read-only connection, so reading commands in other terminals share the database.
//! A writing command asks it to let go (`/internal/release`); it closes the connection and
//! answers, and reopens when the writer hands the database back (`/internal/done`) or its
//! process is gone. Each reopen reloads the tokens and compares the customers with the previous
//! snapshot, which yields the live events (live.rs).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::NaiveDate;

use super::live::Snapshot;
use crate::config::Workspace;
use crate::queries::{Catalog, QueryContext};
use crate::store::Store;

/// A job for the database thread.
pub type Job = Box<dyn FnOnce(&mut Owner) + Send>;

pub enum Msg {
    Job(Job),
    /// A writer (pid, command line) asks for the database; answered once it is closed.
    Release {
        pid: u32,
        command: String,
        reply: tokio::sync::oneshot::Sender<()>,
    },
    /// The writer closed its connection.
    Done {
        pid: u32,
    },
    /// Compute the common answers ahead (api::warm).
    Warm,
    /// The server is stopping: close the database and end the thread (see [`stop`]).
    Stop,
}

/// Why a job could not read the database.
#[derive(Debug)]
pub struct Lent {
    pub pid: u32,
    pub command: String,
}

impl std::fmt::Display for Lent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the workspace is being updated by PID {} (`{}`); try again in a moment", self.pid, self.command)
    }
}
impl std::error::Error for Lent {}

/// What the reloads hand to the async side.
pub struct Reloaded {
    pub snapshot_events: Vec<serde_json::Value>,
    pub tokens: Vec<TokenRow>,
    pub announced: bool,
    pub millis: f64,
}

/// The state the database thread owns.
pub struct Owner {
    pub ws: Workspace,
    pub db: PathBuf,
    pub catalog: Catalog,
    store: Option<Store>,
    ctx: Option<QueryContext>,
    /// The writers the database is lent to (pid, command), in the order they asked. Several may
    /// ask while it is lent (the scheduler's run and a command in a terminal); it is reopened only
    /// when every one has handed it back or is gone.
    lent: Vec<(u32, String)>,
    waiting_reopen: bool,
    snapshot: Option<Snapshot>,
    thresholds: Vec<f64>,
}

impl Owner {
    /// The open store and the query context of today, or why not.
    pub fn read(&mut self) -> Result<(&Store, &Catalog, &QueryContext)> {
        self.not_lent()?;
        let day = today(&self.ws)?;
        if self.ctx.as_ref().is_none_or(|c| c.as_of != day) {
            let store = self.store.as_ref().ok_or_else(|| anyhow::anyhow!("the workspace database is not open"))?;
            self.ctx = Some(QueryContext::new(store, day, self.ws.settings.health.clone())?);
        }
        match (&self.store, &self.ctx) {
            (Some(s), Some(c)) => Ok((s, &self.catalog, c)),
            _ => Err(anyhow::anyhow!("the workspace database is not open")),
        }
    }

    /// Runs `f` on a read-write connection: the read-only one is closed for it and reopened after
    /// (waiting, like every command, while another process holds the database).
    pub fn write<T>(&mut self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.not_lent()?;
        self.store = None;
        let result = Store::open_settled(&self.db, &self.ws.settings.reporting()?).and_then(|s| f(&s));
        self.open()?;
        result
    }

    /// Err([`Lent`]), naming the first writer, while the database is lent.
    fn not_lent(&self) -> Result<()> {
        match self.lent.first() {
            Some((pid, command)) => Err(Lent { pid: *pid, command: command.clone() }.into()),
            None => Ok(()),
        }
    }

    /// Lends the database to `pid` (closing it, if open).
    fn lend(&mut self, pid: u32, command: String) {
        self.store = None;
        self.ctx = None;
        if !self.lent.iter().any(|l| l.0 == pid) {
            eprintln!("serve: lending the workspace database to PID {pid} (`{command}`)");
            self.lent.push((pid, command));
        }
        self.waiting_reopen = false;
    }

    /// `pid` handed the database back, or is gone; reopen when no writer is left.
    fn returned(&mut self, pid: u32) {
        let before = self.lent.len();
        self.lent.retain(|l| l.0 != pid);
        if before > 0 && self.lent.is_empty() {
            self.waiting_reopen = true;
        }
    }

    fn open(&mut self) -> Result<()> {
        let store = Store::open_read_only(&self.db, &self.ws.settings.reporting()?)?;
        store.set_memory_limit(&self.ws.settings.workspace.memory_limit)?;
        self.store = Some(store);
        self.ctx = None;
        Ok(())
    }

    /// Reopens after a writer and computes what changed.
    fn reload(&mut self, announced: bool) -> Result<Reloaded> {
        let started = Instant::now();
        self.open()?;
        let tokens = self.store.as_ref().map(|s| s.live_tokens()).transpose()?.unwrap_or_default();
        let thresholds = self.thresholds.clone();
        let (store, catalog, ctx) = self.read()?;
        let next = Snapshot::take(store, catalog, ctx)?;
        let snapshot_events = match &self.snapshot {
            Some(prev) => prev.events(&next, &thresholds),
            None => Vec::new(),
        };
        self.snapshot = Some(next);
        Ok(Reloaded { snapshot_events, tokens, announced, millis: started.elapsed().as_secs_f64() * 1000.0 })
    }
}

fn today(ws: &Workspace) -> Result<NaiveDate> {
    Ok(match ws.settings.pinned_as_of()? {
        Some(d) => d,
        None => crate::store::calendar::today(ws.settings.timezone()?.unwrap_or(chrono_tz::Tz::UTC)),
    })
}

/// Callbacks from the database thread to the async side.
pub trait Notify: Send + Sync + 'static {
    fn reloaded(&self, r: Reloaded);
    /// Answers computed ahead for the cache (api::warm).
    fn warmed(&self, answers: Vec<(String, serde_json::Value)>);
    /// Whether a writer announced its commit since the last reload.
    fn take_announced(&self) -> bool;
}

/// Starts the database thread: opens the database (read-only), takes the first snapshot.
pub fn start(ws: Workspace, thresholds: Vec<f64>, notify: Arc<dyn Notify>) -> Result<(Sender<Msg>, Vec<TokenRow>)> {
    let db = ws.database_path();
    let catalog = Catalog::load(Some(&ws.queries_dir()))?;
    let mut owner = Owner {
        ws,
        db,
        catalog,
        store: None,
        ctx: None,
        lent: Vec::new(),
        waiting_reopen: false,
        snapshot: None,
        thresholds,
    };
    let first = owner.reload(false)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new().name("scudo-db".into()).spawn(move || run(owner, rx, notify))?;
    *DB_THREAD.lock().unwrap_or_else(|e| e.into_inner()) = Some((tx.clone(), thread));
    Ok((tx, first.tokens))
}

/// The database thread and a way to reach it, for [`stop`].
static DB_THREAD: std::sync::Mutex<Option<(Sender<Msg>, std::thread::JoinHandle<()>)>> = std::sync::Mutex::new(None);

/// Closes the database and waits (up to `wait`) for the database thread to end: the process must
/// not exit while that thread is inside DuckDB, whose static state exit tears down (a crash on
/// SIGTERM otherwise). Jobs already queued finish first.
pub fn stop(wait: Duration) {
    let Some((tx, thread)) = DB_THREAD.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
    let _ = tx.send(Msg::Stop);
    let until = Instant::now() + wait;
    while !thread.is_finished() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    if thread.is_finished() {
        let _ = thread.join();
    }
}

pub use crate::store::access::TokenRow;

fn run(mut owner: Owner, rx: Receiver<Msg>, notify: Arc<dyn Notify>) {
    loop {
        let msg = rx.recv_timeout(Duration::from_millis(if owner.waiting_reopen { 20 } else { 250 }));
        match msg {
            Ok(Msg::Job(job)) => job(&mut owner),
            Ok(Msg::Release { pid, command, reply }) => {
                owner.lend(pid, command);
                let _ = reply.send(());
            }
            Ok(Msg::Warm) => {
                let answers = super::api::warm(&mut owner);
                notify.warmed(answers);
            }
            Ok(Msg::Done { pid }) => owner.returned(pid),
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                // Writers that died without handing the database back.
                let gone: Vec<u32> =
                    owner.lent.iter().map(|l| l.0).filter(|p| !crate::store::owner::alive(*p)).collect();
                for pid in gone {
                    owner.returned(pid);
                }
            }
        }
        if owner.waiting_reopen && owner.lent.is_empty() {
            match owner.reload(notify.take_announced()) {
                Ok(r) => {
                    owner.waiting_reopen = false;
                    notify.reloaded(r);
                    let answers = super::api::warm(&mut owner);
                    notify.warmed(answers);
                }
                // Another writer got in first: try again on the next tick.
                Err(e) => {
                    owner.store = None;
                    if !e.to_string().contains("in use by") {
                        eprintln!("serve: cannot reopen the workspace database: {e:#}");
                    }
                }
            }
        }
    }
}

/// Sends `f` to the database thread and waits for its answer without blocking the runtime.
pub async fn ask<T: Send + 'static>(
    tx: &Sender<Msg>,
    f: impl FnOnce(&mut Owner) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    tx.send(Msg::Job(Box::new(move |o: &mut Owner| {
        let _ = reply.send(f(o));
    })))
    .map_err(|_| anyhow::anyhow!("the database thread stopped"))?;
    answer.await.map_err(|_| anyhow::anyhow!("the database thread stopped"))?
}
