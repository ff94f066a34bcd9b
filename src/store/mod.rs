//! Stage 4: the store, the one door to DuckDB.
//!
//! Opening a workspace database migrates it to the current schema in one transaction, or refuses
//! a database written by a newer scudo. Everything else asks the store: imports go through
//! [`load`], questions through [`Store::query`], whose parameters are always bound.

pub mod access;
mod arrow;
pub mod automations;
pub mod calendar;
pub mod cell;
pub mod checks;
pub mod crypto;
pub mod derived;
mod identities;
mod keys;
pub mod load;
pub mod maintenance;
pub mod outbox;
pub mod owner;
pub mod privacy;
pub mod rates;
pub mod scores;
mod stage;
pub mod stored;
mod subscriptions;
mod upkeep;
mod value;
pub mod views;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use duckdb::Connection;
use duckdb::types::Value;

pub use arrow::Columns;
pub use cell::{Cell, ResultSet};
use crypto::Access;

/// The first rows of a result, and how many there were in all.
#[derive(Debug, Clone)]
pub struct Head {
    pub rows: ResultSet,
    pub total: u64,
    /// Rows whose flag column held the flag value; `None` when there is no such column.
    pub flagged: Option<u64>,
}
pub use derived::Reporting;

use crate::error::user;

/// Migrations in order; the schema version is the number of migrations applied.
const MIGRATIONS: &[(&str, &str)] = &[
    ("core model", include_str!("migrations/0001_core.sql")),
    ("products", include_str!("migrations/0002_products.sql")),
    ("score history", include_str!("migrations/0003_scores.sql")),
    ("model scores", include_str!("migrations/0004_model_scores.sql")),
    ("customer summary", include_str!("migrations/0005_customer_summary.sql")),
    ("lookup indexes", include_str!("migrations/0006_lookup_indexes.sql")),
    (
        "search index",
        concat!(
            include_str!("migrations/0007_search_index.sql"),
            include_str!("search_index.sql"),
            include_str!("search_words.sql")
        ),
    ),
    // The summary is rebuilt once the values of migration 9 are derived (derived::settle).
    ("model statistics", include_str!("migrations/0008_model_statistics.sql")),
    ("trusted numbers", include_str!("migrations/0009_trusted_numbers.sql")),
    ("import settings", include_str!("migrations/0010_import_settings.sql")),
    ("data checks", include_str!("migrations/0011_checks.sql")),
    ("order number clashes", include_str!("migrations/0012_order_number_clashes.sql")),
    ("outbox", include_str!("migrations/0013_outbox.sql")),
    ("access and notes", include_str!("migrations/0014_access.sql")),
    ("privacy", include_str!("migrations/0015_privacy.sql")),
    ("stated tags", include_str!("migrations/0016_stated_tags.sql")),
    ("automations", include_str!("migrations/0017_automations.sql")),
    ("subscriptions", include_str!("migrations/0018_subscriptions.sql")),
    ("append-only score history", include_str!("migrations/0019_score_history_append_only.sql")),
    ("maintained views", include_str!("migrations/0020_maintained_views.sql")),
];

/// The schema version this scudo writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The SQL of migration `version` (1-based), for tests that build older databases.
pub fn migration_sql(version: i64) -> Option<&'static str> {
    usize::try_from(version - 1).ok().and_then(|i| MIGRATIONS.get(i)).map(|m| m.1)
}

/// A bound query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

impl Param {
    fn value(&self) -> Value {
        match self {
            Param::Text(s) => Value::Text(s.clone()),
            Param::Int(i) => Value::BigInt(*i),
            Param::Float(f) => Value::Double(*f),
            Param::Bool(b) => Value::Boolean(*b),
            Param::Null => Value::Null,
        }
    }
}

/// An open workspace database.
pub struct Store {
    conn: Connection,
    /// The in-memory database an encrypted workspace is attached to; closed after `conn`.
    _database: Option<crypto::Database>,
    /// The key of an encrypted workspace (from `SCUDO_ENCRYPTION_KEY`), for copies that must be
    /// encrypted too.
    key: Option<crypto::Key>,
    path: PathBuf,
    /// Temp macros registered on this connection.
    macros: std::cell::RefCell<std::collections::HashSet<String>>,
    /// The currency and time zone derived values are computed in.
    reporting: derived::Reporting,
    /// Set when a running `scudo serve` let go of the database for this process; dropped after
    /// `conn` (fields drop in order), which hands the database back.
    _lease: Option<owner::Lease>,
}

impl Store {
    /// Opens the database at `path`, creating it when missing, and migrates it.
    pub fn create(path: &Path) -> Result<Store> {
        Store::connect(path)
    }

    /// The key a new encrypted database at `path` would get; an error when a file is there already
    /// or `SCUDO_ENCRYPTION_KEY` is unset or too short.
    pub fn check_can_encrypt(path: &Path) -> Result<crypto::Key> {
        if path.exists() {
            return Err(user(format!(
                "{} exists already; encryption is chosen when a workspace is created: back it up \
                 (`scudo backup`), then create an encrypted workspace and restore into it \
                 (`scudo restore DIR --into WS`)",
                path.display()
            )));
        }
        let key = crypto::Key::required()?;
        Ok(key)
    }

    /// Creates a new database encrypted with the key in `SCUDO_ENCRYPTION_KEY` (an error when it is
    /// not set, or when a database already exists at `path`), and migrates it.
    pub fn create_encrypted(path: &Path) -> Result<Store> {
        let key = Store::check_can_encrypt(path)?;
        Store::connect_with(path, Access { read_only: false, external: true }, true, Some(key))
    }

    /// Opens an existing database and migrates it.
    pub fn open(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(user(format!(
                "no database at {}; run `scudo init` in the workspace to create it",
                path.display()
            )));
        }
        Store::connect(path)
    }

    /// Opens an existing database for reading only, so that other readers can share it. A database
    /// older than this scudo, or whose derived values were computed for other settings than `r`,
    /// is first brought up to date through a short read-write open.
    pub fn open_read_only(path: &Path, r: &Reporting) -> Result<Store> {
        Store::open_reading(path, false, r)
    }

    /// Opens the database for reading only, with no access to other files (no COPY, no
    /// read_csv, no ATTACH): for running SQL the user wrote. Migrates first when needed.
    pub fn open_sandboxed(path: &Path, r: &Reporting) -> Result<Store> {
        Store::open_reading(path, true, r)
    }

    /// Opens an existing database for writing, migrated, with its derived values computed for `r`.
    pub fn open_settled(path: &Path, r: &Reporting) -> Result<Store> {
        let mut store = Store::open(path)?;
        store.set_reporting(r.clone());
        store.settle()?;
        Ok(store)
    }

    /// Opens a database file as it is, read-only, without migrating or recomputing anything: for
    /// checking a backup's snapshot.
    pub fn open_snapshot(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(user(format!("no database at {}", path.display())));
        }
        Store::connect_with(path, Access { read_only: true, external: true }, false, None)
    }

    fn open_reading(path: &Path, sandboxed: bool, r: &Reporting) -> Result<Store> {
        let access = Access { read_only: true, external: !sandboxed };
        if !path.is_file() {
            return Store::open_settled(path, r);
        }
        let mut store = Store::connect_with(path, access, false, None)?;
        store.set_reporting(r.clone());
        if store.schema_version()? == SCHEMA_VERSION && !store.is_stale()? {
            return Ok(store);
        }
        drop(store);
        drop(Store::open_settled(path, r)?);
        let mut store = Store::connect_with(path, access, false, None)?;
        store.set_reporting(r.clone());
        Ok(store)
    }

    fn connect(path: &Path) -> Result<Store> {
        check_writable(path)?;
        Store::connect_with(path, Access { read_only: false, external: true }, true, None)
    }

    /// Opens the database, waiting (up to `--wait`) while another process holds its lock.
    /// `new_key` encrypts a database that does not exist yet; an existing one is opened with the key
    /// its header calls for.
    fn connect_with(path: &Path, access: Access, migrate: bool, new_key: Option<crypto::Key>) -> Result<Store> {
        let started = std::time::Instant::now();
        let wait = std::time::Duration::from_secs(LOCK_WAIT_SECONDS.load(std::sync::atomic::Ordering::Relaxed));
        let mut pause = std::time::Duration::from_millis(50);
        let mut lease = None;
        let key = match new_key {
            Some(key) if !path.exists() => Some(key),
            _ => encryption_key(path)?,
        };
        let (conn, database) = loop {
            match open_connection(path, key.as_ref(), access) {
                Ok(opened) => break opened,
                Err(detail) => {
                    if is_lock_error(&detail) {
                        // A running `scudo serve` holds it: ask it to let go (owner.rs).
                        if lease.is_none()
                            && let Some(l) = owner::Lease::ask(path)
                        {
                            lease = Some(l);
                            continue;
                        }
                        if started.elapsed() < wait {
                            std::thread::sleep(pause.min(wait.saturating_sub(started.elapsed())));
                            pause = (pause * 2).min(std::time::Duration::from_millis(500));
                            continue;
                        }
                        return Err(user(lock_message(path, &detail, wait.as_secs())));
                    }
                    if detail.contains("Permission denied") {
                        return Err(user(not_writable(path)));
                    }
                    if key.is_some() && is_wrong_key(&detail) {
                        return Err(user(format!(
                            "{} does not open {}: it is not the key the workspace was encrypted with; \
                             nothing was changed — set the right key and try again",
                            crypto::KEY_VAR,
                            path.display()
                        )));
                    }
                    return Err(user(format!(
                        "cannot open the database {}: {}; it is not a DuckDB database, is damaged, or was \
                         written by a newer DuckDB: move it aside (keep the file) and run `scudo init` to start a new one",
                        path.display(),
                        first_line(&detail)
                    )));
                }
            }
        };
        // A join whose build side has up to this many keys hands them to the other side's scan as
        // a list, which an index can answer: a customer's items (`customers/orders.sql`) are read by
        // key instead of scanning every item once the customer has more than DuckDB's default of
        // 50 orders (450 ms -> 20 ms for a customer with 62 orders at 9.5M orders).
        conn.execute_batch(&format!("SET dynamic_or_filter_threshold = {JOIN_KEYS_AS_LIST}"))
            .context("cannot configure DuckDB")?;
        let mut store = Store {
            conn,
            _database: database,
            key,
            path: path.to_path_buf(),
            macros: Default::default(),
            reporting: Default::default(),
            _lease: lease,
        };
        if migrate {
            store.migrate()?;
        }
        Ok(store)
    }

    /// Caps DuckDB's memory (it spills to disk beyond it). `limit` is validated by the settings
    /// (digits and a unit), so it can stand in the statement, which takes no parameters.
    pub fn set_memory_limit(&self, limit: &str) -> Result<()> {
        let limit: String = limit.chars().filter(|c| !c.is_whitespace()).collect();
        let ok = !limit.is_empty() && limit.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
        if !ok {
            return Err(user(format!("memory limit `{limit}` is not a size")));
        }
        self.conn
            .execute_batch(&format!("SET memory_limit = '{limit}'"))
            .context("cannot set DuckDB's memory limit")?;
        Ok(())
    }

    /// True when the temp macro `name` is registered on this connection.
    pub fn has_macro(&self, name: &str) -> bool {
        self.macros.borrow().contains(name)
    }

    /// Records that the temp macro `name` is registered.
    pub fn mark_macro(&self, name: &str) {
        self.macros.borrow_mut().insert(name.to_string());
    }

    /// The schema version stored in the database (0 for a new, empty one).
    pub fn schema_version(&self) -> Result<i64> {
        // The common case first: one row from scudo_meta (duckdb_tables() costs 10-20 ms on a big
        // database, on every command).
        let found = self
            .conn
            .query_row("SELECT value FROM scudo_meta WHERE key = 'schema_version'", [], |r| r.get::<_, String>(0));
        if let Ok(v) = found {
            return v.parse().with_context(|| format!("{}: schema_version `{v}` is not a number", self.path.display()));
        }
        let has_meta: i64 = self.conn.query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'scudo_meta'",
            [],
            |r| r.get(0),
        )?;
        if has_meta == 0 {
            let tables: i64 =
                self.conn
                    .query_row("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main'", [], |r| r.get(0))?;
            if tables > 0 {
                return Err(user(format!(
                    "{} is a DuckDB database but not a scudo workspace (it has tables and no scudo_meta); \
                     point the workspace at another file in scudo.toml",
                    self.path.display()
                )));
            }
            return Ok(0);
        }
        let v: String =
            self.conn.query_row("SELECT value FROM scudo_meta WHERE key = 'schema_version'", [], |r| r.get(0))?;
        v.parse().with_context(|| format!("{}: schema_version `{v}` is not a number", self.path.display()))
    }

    fn migrate(&mut self) -> Result<()> {
        let current = self.schema_version()?;
        if current > SCHEMA_VERSION {
            return Err(user(format!(
                "{} has schema version {current}, written by a newer scudo; this scudo {} reads up to \
                 version {SCHEMA_VERSION}: upgrade scudo (nothing was changed)",
                self.path.display(),
                env!("CARGO_PKG_VERSION")
            )));
        }
        if current == SCHEMA_VERSION {
            return Ok(());
        }
        if current > 0 && NOTES.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!(
                "note: upgrading {} from schema version {current} to {SCHEMA_VERSION} (once; it rebuilds derived \
                 tables and indexes, about a minute for a million customers)",
                self.path.display()
            );
        }
        let tx = self.conn.transaction()?;
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current)?) {
            tx.execute_batch(sql)
                .with_context(|| format!("schema migration {} ({name}) failed; the database is unchanged", i + 1))?;
        }
        tx.execute("INSERT OR REPLACE INTO scudo_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION.to_string()])?;
        // A migration may change what the dashboard shows: what was kept is computed again.
        views::data_changed(&tx)?;
        tx.commit().context("cannot commit the schema migration; the database is unchanged")?;
        Ok(())
    }

    /// Runs one SQL statement with named parameters (`$as_of`) bound from `params`, and returns
    /// every row. `origin` names where the SQL came from, for error messages.
    pub fn query(&self, sql: &str, params: &[(&str, Param)], origin: &str) -> Result<ResultSet> {
        match self.query_once(sql, params, origin)? {
            Ok(rs) => Ok(rs),
            // Columns of a type the driver cannot decode (DuckDB's VARIANT, as in
            // `duckdb_settings()`): run the query again with them cast to text.
            Err(unreadable) => {
                let casts: Vec<String> = unreadable
                    .iter()
                    .map(|c| {
                        let q = format!("\"{}\"", c.replace('"', "\"\""));
                        format!("CAST({q} AS VARCHAR) AS {q}")
                    })
                    .collect();
                let inner = sql.trim_end().trim_end_matches(';');
                let wrapped = format!("SELECT * REPLACE ({}) FROM (\n{inner}\n) AS _q", casts.join(", "));
                match self.query_once(&wrapped, params, origin)? {
                    Ok(rs) => Ok(rs),
                    Err(cols) => Err(user(format!("{origin}: cannot read the column(s) {}", cols.join(", ")))),
                }
            }
        }
    }

    /// Runs the query; `Ok(Err(columns))` names the columns whose values cannot be decoded.
    fn query_once(
        &self,
        sql: &str,
        params: &[(&str, Param)],
        origin: &str,
    ) -> Result<std::result::Result<ResultSet, Vec<String>>> {
        let started = std::time::Instant::now();
        let mut stmt = self.conn.prepare(statement(sql).0).map_err(|e| sql_error(origin, sql, &e))?;
        bind(&mut stmt, params, origin)?;
        match stmt.raw_execute() {
            Ok(_) => {}
            Err(duckdb::Error::FromSqlConversionFailure(_, duckdb::types::Type::Variant, _)) => {
                return Ok(Err(self.variant_columns(sql, params, origin)?));
            }
            Err(e) => return Err(sql_error(origin, sql, &e)),
        }
        let columns = stmt.column_names();
        let width = columns.len();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sql_error(origin, sql, &e))? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(Cell::from_value(row.get::<_, Value>(i)?));
            }
            out.push(cells);
        }
        timing(origin, started, Some(out.len()));
        Ok(Ok(ResultSet { columns, rows: out }))
    }

    /// Runs one statement and keeps its first `keep` rows; counts every row, and the rows whose
    /// column `flag.0` holds the text `flag.1` (for checks whose rows carry their own severity).
    pub fn query_head(
        &self,
        sql: &str,
        params: &[(&str, Param)],
        origin: &str,
        keep: usize,
        flag: Option<(&str, &str)>,
    ) -> Result<Head> {
        let started = std::time::Instant::now();
        let mut stmt = self.conn.prepare(statement(sql).0).map_err(|e| sql_error(origin, sql, &e))?;
        bind(&mut stmt, params, origin)?;
        stmt.raw_execute().map_err(|e| sql_error(origin, sql, &e))?;
        let columns = stmt.column_names();
        let width = columns.len();
        let flag_col = flag.and_then(|(name, _)| columns.iter().position(|c| c == name));
        let mut rows = stmt.raw_query();
        let (mut out, mut total, mut flagged) = (Vec::new(), 0u64, 0u64);
        while let Some(row) = rows.next().map_err(|e| sql_error(origin, sql, &e))? {
            total += 1;
            if let (Some(i), Some((_, want))) = (flag_col, flag)
                && matches!(row.get::<_, Value>(i), Ok(Value::Text(t)) if t == want)
            {
                flagged += 1;
            }
            if out.len() < keep {
                let mut cells = Vec::with_capacity(width);
                for i in 0..width {
                    cells.push(Cell::from_value(row.get::<_, Value>(i).map_err(|e| sql_error(origin, sql, &e))?));
                }
                out.push(cells);
            }
        }
        timing(origin, started, Some(total as usize));
        Ok(Head { rows: ResultSet { columns, rows: out }, total, flagged: flag_col.map(|_| flagged) })
    }

    /// The number of rows of table `name`, or `None` when there is no such table.
    pub fn table_rows(&self, name: &str) -> Result<Option<u64>> {
        let exists: i64 = self.conn.query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
            [name],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(None);
        }
        // The name was matched against the catalogue above, and is quoted.
        let n: i64 =
            self.conn
                .query_row(&format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")), [], |r| r.get(0))?;
        Ok(Some(n.max(0) as u64))
    }

    /// The columns of `sql`'s result whose type is VARIANT (read from `DESCRIBE`).
    fn variant_columns(&self, sql: &str, params: &[(&str, Param)], origin: &str) -> Result<Vec<String>> {
        let describe = format!("DESCRIBE {}", sql.trim_end().trim_end_matches(';'));
        let mut stmt = self.conn.prepare(&describe).map_err(|e| sql_error(origin, &describe, &e))?;
        bind(&mut stmt, params, origin)?;
        stmt.raw_execute().map_err(|e| sql_error(origin, &describe, &e))?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sql_error(origin, &describe, &e))? {
            let (name, kind): (String, String) = (row.get(0)?, row.get(1)?);
            if kind.contains("VARIANT") {
                out.push(name);
            }
        }
        if out.is_empty() {
            return Err(user(format!("{origin}: a column of the result has a type scudo cannot read")));
        }
        Ok(out)
    }

    /// Runs SQL for its effect (temp tables a query file builds on), parameters bound.
    pub fn execute(&self, sql: &str, params: &[(&str, Param)], origin: &str) -> Result<()> {
        let started = std::time::Instant::now();
        let mut stmt = self.conn.prepare(statement(sql).0).map_err(|e| sql_error(origin, sql, &e))?;
        bind(&mut stmt, params, origin)?;
        stmt.raw_execute().map_err(|e| sql_error(origin, sql, &e))?;
        timing(origin, started, None);
        Ok(())
    }

    /// A function that stops the statement running on this connection (for Ctrl-C): it fails,
    /// and the transaction it belongs to is rolled back.
    pub fn interrupter(&self) -> impl Fn() + Send + 'static {
        let handle = self.conn.interrupt_handle();
        move || handle.interrupt()
    }

    /// The database file.
    /// Whether the workspace is encrypted (opened with `SCUDO_ENCRYPTION_KEY`).
    pub fn is_encrypted(&self) -> bool {
        self.key.is_some()
    }

    /// `text` with the workspace's key, if any, replaced.
    fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(k) => k.redact(text),
            None => text.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tells a running `scudo serve` what was just committed (it sends `data_changed` at once).
    pub fn announce(&self, what: serde_json::Value) {
        owner::announce(&self.path, what);
    }

    /// The connection, for the loader in this module only.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

static TIMINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static LOCK_WAIT_SECONDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(10);

/// `--wait`: how long opening the database waits while another process holds its lock.
pub fn lock_wait(seconds: u64) {
    LOCK_WAIT_SECONDS.store(seconds, std::sync::atomic::Ordering::Relaxed);
}

/// The key to open `path` with: `SCUDO_ENCRYPTION_KEY` when the file is encrypted (an error naming
/// the variable when it is not set), none for a plain file whatever the environment says, and none
/// for a new file (see [`Store::create_encrypted`]).
fn encryption_key(path: &Path) -> Result<Option<crypto::Key>> {
    match crypto::is_encrypted(path) {
        Some(true) => match crypto::Key::from_env()? {
            Some(key) => Ok(Some(key)),
            None => Err(user(format!(
                "{} is encrypted: set {} to its key (scudo never stores the key; without it the data \
                 cannot be read)",
                path.display(),
                crypto::KEY_VAR
            ))),
        },
        Some(false) => Ok(None),
        // A new database: encrypted when created by `scudo init --encrypt` (see `create_encrypted`).
        None => Ok(None),
    }
}

/// See `connect_with`: up to this many join keys are pushed to the probe side's scan as a list.
const JOIN_KEYS_AS_LIST: usize = 1024;

/// Opens a connection to `path`: directly for a plain file, through scudo's encryption module for
/// an encrypted one. Errors are DuckDB's text (with any key redacted).
fn open_connection(
    path: &Path,
    key: Option<&crypto::Key>,
    access: Access,
) -> std::result::Result<(Connection, Option<crypto::Database>), String> {
    if let Some(key) = key {
        let (conn, db) = crypto::open(path, key, access)?;
        return Ok((conn, Some(db)));
    }
    let config = duckdb::Config::default()
        .enable_autoload_extension(false)
        .and_then(|c| if access.read_only { c.access_mode(duckdb::AccessMode::ReadOnly) } else { Ok(c) })
        .and_then(|c| c.enable_external_access(access.external))
        .map_err(|e| format!("cannot configure DuckDB: {e}"))?;
    Connection::open_with_flags(path, config).map(|c| (c, None)).map_err(|e| e.to_string())
}

fn is_wrong_key(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("key") && (d.contains("wrong") || d.contains("incorrect") || d.contains("invalid"))
}

fn is_lock_error(detail: &str) -> bool {
    detail.contains("Could not set lock") || detail.contains("Conflicting lock")
}

/// Which process holds the lock (DuckDB names its PID) and what to do.
fn lock_message(path: &Path, detail: &str, waited: u64) -> String {
    let pid = detail
        .split("PID ")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
        .filter(|p| !p.is_empty());
    let holder = match &pid {
        Some(pid) => {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    let args: Vec<String> = b
                        .split(|c| *c == 0)
                        .filter(|a| !a.is_empty())
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    let mut shown: Vec<String> = args.iter().take(6).cloned().collect();
                    if let Some(first) = shown.first_mut() {
                        *first = Path::new(first.as_str())
                            .file_name()
                            .map_or(first.clone(), |n| n.to_string_lossy().into_owned());
                    }
                    if args.len() > 6 {
                        shown.push("…".into());
                    }
                    shown.join(" ")
                })
                .unwrap_or_default();
            let what = if cmdline.starts_with("scudo") { "another scudo" } else { "another program" };
            if cmdline.is_empty() { format!("{what} (PID {pid})") } else { format!("{what} (PID {pid}: `{cmdline}`)") }
        }
        None => "another process".to_string(),
    };
    format!(
        "the workspace database {} is in use by {holder}; waited {waited}s for it. \
         Let it finish and run this command again, or pass --wait SECONDS to wait longer",
        path.display()
    )
}

/// Refuses early, with the right advice, a database (or directory) this user cannot write.
fn check_writable(path: &Path) -> Result<()> {
    let denied =
        |r: std::io::Result<std::fs::File>| matches!(r, Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied);
    if path.is_file() && denied(std::fs::OpenOptions::new().append(true).open(path)) {
        return Err(user(not_writable(path)));
    }
    // DuckDB writes its journal (.wal) beside the database.
    let wal = PathBuf::from(format!("{}.wal", path.display()));
    if path.is_file() && !wal.exists() {
        let probe = PathBuf::from(format!("{}.probe-{}", path.display(), std::process::id()));
        if denied(std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)) {
            return Err(user(not_writable(path)));
        }
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

fn not_writable(path: &Path) -> String {
    format!(
        "the workspace database {} is not writable by you (permission denied), so this command cannot \
         change it; nothing was changed. Run it as the workspace's owner, or give yourself write access to \
         the file and its directory; commands that only read (dashboard, kpis, …) still work",
        path.display()
    )
}
static NOTES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Without `--quiet`, a long one-time step (a schema upgrade) says so on stderr.
pub fn print_notes(on: bool) {
    NOTES.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// `--timings`: every statement's wall time goes to stderr.
pub fn print_timings(on: bool) {
    TIMINGS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// With `--timings`, prints how long `origin` took since `started` (and how many rows it returned).
pub(crate) fn timing(origin: &str, started: std::time::Instant, rows: Option<usize>) {
    if TIMINGS.load(std::sync::atomic::Ordering::Relaxed) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match rows {
            Some(n) => eprintln!("timing: {ms:8.1} ms  {origin} ({n} rows)"),
            None => eprintln!("timing: {ms:8.1} ms  {origin}"),
        }
    }
}

pub(crate) fn bind(stmt: &mut duckdb::Statement<'_>, params: &[(&str, Param)], origin: &str) -> Result<()> {
    for idx in 1..=stmt.parameter_count() {
        let name = stmt.parameter_name(idx)?;
        let value = params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.value()).ok_or_else(|| {
            let known: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
            user(format!("{origin}: the SQL uses parameter ${name}, which is not given (given: {})", known.join(", ")))
        })?;
        stmt.raw_bind_parameter(idx, value)?;
    }
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// `sql` from its first token on, and the number of lines before that token. DuckDB numbers
/// the lines of an error from the statement's first token, and names none when the text starts
/// with a comment (as every query file does): statements are sent from their first token, and
/// [`sql_error`] adds the lines back.
pub(crate) fn statement(sql: &str) -> (&str, usize) {
    let mut rest = sql;
    loop {
        let t = rest.trim_start();
        if let Some(after) = t.strip_prefix("--") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = t.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            rest = t;
            break;
        }
    }
    let start = sql.len() - rest.len();
    (rest, sql[..start].matches('\n').count())
}

/// A SQL error with the file and, where DuckDB reports a character position, the line in `sql`
/// (the text as written, which was sent from its first token: see [`statement`]).
pub(crate) fn sql_error(origin: &str, sql: &str, e: &duckdb::Error) -> anyhow::Error {
    let msg = e.to_string();
    let offset = statement(sql).1;
    let line = msg
        .find("LINE ")
        .and_then(|i| msg[i + 5..].split(':').next())
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map(|l| (l, l + offset));
    let (at, msg) = match line {
        // DuckDB's own "LINE n:" too, when the caret under it stays aligned.
        Some((rel, abs)) if rel.to_string().len() == abs.to_string().len() => {
            (format!(":{abs}"), msg.replacen(&format!("LINE {rel}:"), &format!("LINE {abs}:"), 1))
        }
        Some((_, abs)) => (format!(":{abs}"), msg),
        None => (String::new(), msg),
    };
    user(format!("{origin}{at}: {}", msg.trim()))
}

#[cfg(test)]
mod tests {
    use super::statement;

    #[test]
    fn statements_start_after_their_header() {
        assert_eq!(statement("-- a\n-- b\n\nSELECT 1"), ("SELECT 1", 3));
        assert_eq!(statement("/* x\n */ SELECT 1 -- c"), ("SELECT 1 -- c", 1));
        assert_eq!(statement("SELECT 1"), ("SELECT 1", 0));
        assert_eq!(statement("-- only a comment"), ("", 0));
        assert_eq!(statement("/* unterminated"), ("", 0));
    }
}
