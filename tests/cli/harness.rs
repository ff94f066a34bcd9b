//! A small harness around the real executable: a temporary directory, commands run in it, and
//! assertions on exit codes and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Scudo {
    pub dir: tempfile::TempDir,
}

/// What a run printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Scudo {
    pub fn new() -> Scudo {
        Scudo { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command for the binary, run in `cwd`, with no SCUDO_* settings from the environment.
    pub fn command_in(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_scudo"));
        c.args(args).current_dir(cwd).env("NO_COLOR", "1");
        for (k, _) in std::env::vars() {
            if k.starts_with("SCUDO_") {
                c.env_remove(k);
            }
        }
        c
    }

    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::from(self.command_in(cwd, args).output().expect("scudo runs"))
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.path(), args)
    }

    /// Runs and requires exit code 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "scudo {args:?} failed:\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
        r
    }

    /// Runs and requires that the command ran: exit 0, or 1 (it ran, and a condition holds, such
    /// as alerts listed or rows rejected).
    pub fn ran(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert!(r.code == 0 || r.code == 1, "scudo {args:?} failed:\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
        r
    }

    /// Runs and requires exit code `code`.
    pub fn fails(&self, args: &[&str], code: i32) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, code, "scudo {args:?}: expected exit {code}\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
        r
    }

    /// A workspace initialised in `<tmp>/ws`.
    pub fn workspace() -> (Scudo, PathBuf) {
        let s = Scudo::new();
        s.ok(&["init", "ws", "-q"]);
        let ws = s.path().join("ws");
        (s, ws)
    }

    /// Opens the workspace database directly, to check what scudo wrote independently of scudo.
    pub fn db(path: &Path) -> duckdb::Connection {
        duckdb::Connection::open(path.join("scudo.duckdb")).expect("database opens")
    }
}

/// The demo workspace, built by `scudo demo` in `<tmp>/demo`.
pub fn demo() -> (Scudo, PathBuf) {
    let s = Scudo::new();
    s.ok(&["demo", "demo", "-q"]);
    let ws = s.path().join("demo");
    (s, ws)
}

/// A fixture file under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The header of the small Shopify orders files tests write (see [`shopify_order`]).
pub const SHOPIFY_ORDERS_HEADER: &str = "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Id\n";

/// One paid single-line Shopify order `#n` of `email` (id n + 4000) for `total`, created `at` as
/// the export states it, with its UTC offset ("2024-03-05 10:00:00 +0000").
pub fn shopify_order(n: u32, email: &str, total: &str, at: &str) -> String {
    format!("#{n},{email},paid,USD,{total},0.00,0.00,{total},0.00,{at},1,Mug,{total},MUG,Ana Lima,{}\n", n + 4000)
}

/// One number from a query.
pub fn scalar_i64(conn: &duckdb::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// One value from a query, as text.
pub fn scalar_text(conn: &duckdb::Connection, sql: &str) -> String {
    conn.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_default()
}
