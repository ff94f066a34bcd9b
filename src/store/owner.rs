//! Who holds the workspace database while `scudo serve` runs (docs/architecture.md, "One owner
//! of the workspace").
//!
//! The server keeps a read-only connection open, so any number of reading commands share the
//! database with it. A command that must write and finds the database locked looks for the run
//! file the server wrote beside the database (`scudo.duckdb.serve`: pid, address and a secret,
//! readable by the workspace's owner only), asks the server to let go, writes, tells it what it
//! committed, and hands the database back when its connection closes. Plain blocking HTTP on
//! loopback: the batch commands stay synchronous.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What the server writes beside the database while it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFile {
    pub pid: u32,
    pub addr: SocketAddr,
    pub secret: String,
}

/// The run file of the database at `db`.
pub fn run_file_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.serve", db.display()))
}

impl RunFile {
    /// Writes the run file, readable and writable by this user only.
    pub fn write(&self, db: &Path) -> Result<()> {
        let path = run_file_path(db);
        let _ = std::fs::remove_file(&path);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&path).with_context(|| format!("cannot write the run file {}", path.display()))?;
        f.write_all(serde_json::to_string(self)?.as_bytes())?;
        Ok(())
    }

    /// The run file of a live server other than this process, if any.
    pub fn find(db: &Path) -> Option<RunFile> {
        let text = std::fs::read_to_string(run_file_path(db)).ok()?;
        let rf: RunFile = serde_json::from_str(&text).ok()?;
        (rf.pid != std::process::id() && alive(rf.pid)).then_some(rf)
    }

    /// POSTs `body` to the server's internal endpoint `path`; true on 200.
    fn post(&self, path: &str, body: &serde_json::Value, timeout: Duration) -> bool {
        let Ok(mut s) = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)) else { return false };
        let _ = s.set_read_timeout(Some(timeout));
        let body = body.to_string();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nX-Scudo-Secret: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.secret,
            body.len()
        );
        if s.write_all(req.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
    }
}

/// True when process `pid` exists.
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The database was handed to this process by a running server; dropping the lease (after the
/// connection closed) hands it back.
#[derive(Debug)]
pub struct Lease {
    server: RunFile,
}

impl Lease {
    /// Asks the server holding `db` to let go of it; `None` when no server runs or it refused.
    pub fn ask(db: &Path) -> Option<Lease> {
        let server = RunFile::find(db)?;
        let body = serde_json::json!({"pid": std::process::id(), "command": command_line()});
        server.post("/internal/release", &body, Duration::from_secs(30)).then_some(Lease { server })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.server.post("/internal/done", &serde_json::json!({"pid": std::process::id()}), Duration::from_secs(5));
    }
}

/// Tells a running server what this process just committed (`{"source": "ingest", …}`), so that
/// it sends `data_changed` to its pages at once. Does nothing when no server runs.
pub fn announce(db: &Path, mut what: serde_json::Value) {
    if let Some(server) = RunFile::find(db) {
        if let serde_json::Value::Object(m) = &mut what {
            m.insert("pid".into(), std::process::id().into());
            let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            m.insert("committed_at_ms".into(), (ms.as_millis() as u64).into());
        }
        server.post("/internal/committed", &what, Duration::from_secs(5));
    }
}

/// This process's command line, shortened, for the server's log and the lock message.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().take(4).collect();
    let mut shown = args.join(" ");
    if let Some(first) = args.first()
        && let Some(name) = Path::new(first).file_name()
    {
        shown = shown.replacen(first.as_str(), &name.to_string_lossy(), 1);
    }
    shown
}
