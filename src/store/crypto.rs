//! Encrypted workspaces: DuckDB's own AES-GCM encryption, with the key from the environment.
//!
//! DuckDB encrypts a database it ATTACHes with an `ENCRYPTION_KEY`. Its bundled build can read such
//! files but refuses to write them unless an encryption module with a secure random generator is
//! loaded (httpfs's OpenSSL, which the bundled build does not include). `crypto/os_random.cpp`
//! is that module: DuckDB's mbedtls AES with the operating system's generator. An encrypted
//! workspace is therefore opened as an in-memory database with the module installed, the file
//! attached with the key, and made the default (`USE`), so every query reads it as before.
//!
//! The key is read from `SCUDO_ENCRYPTION_KEY` each time a workspace is opened, held only in memory
//! and never written, logged or shown in an error. See docs/operations.md.

use std::os::raw::c_int;
use std::path::Path;

use anyhow::Result;
use duckdb::{Connection, ffi};

use crate::error::user;

/// The environment variable holding the key.
pub const KEY_VAR: &str = "SCUDO_ENCRYPTION_KEY";

/// The name the attached workspace has inside the connection.
pub const ALIAS: &str = "scudo";

unsafe extern "C" {
    fn scudo_install_encryption(db: ffi::duckdb_database) -> c_int;
}

/// An encryption key. Its `Debug` shows nothing of it; its bytes are overwritten when dropped.
#[derive(Clone)]
pub struct Key(String);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: zeroes are valid UTF-8.
        unsafe { self.0.as_bytes_mut() }.fill(0);
    }
}

impl Key {
    /// The key in `SCUDO_ENCRYPTION_KEY`, if set and not empty. A key must be at least 16
    /// characters: DuckDB derives the AES-256 key from it, and a short one is guessable.
    pub fn from_env() -> Result<Option<Key>> {
        let Some(raw) = std::env::var_os(KEY_VAR) else { return Ok(None) };
        let Some(text) = raw.to_str() else {
            return Err(user(format!("{KEY_VAR} is not valid UTF-8; use a key of printable characters")));
        };
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() < 16 {
            return Err(user(format!(
                "{KEY_VAR} is too short ({} characters): use at least 16, for example the output of \
                 `openssl rand -base64 32`, and keep it in a password manager — scudo never stores it",
                text.chars().count()
            )));
        }
        Ok(Some(Key(text.to_string())))
    }

    /// The key for a new encrypted database: an error saying how to set one when it is missing.
    pub fn required() -> Result<Key> {
        Key::from_env()?.ok_or_else(|| {
            user(format!(
                "--encrypt needs the key in {KEY_VAR}: for example `export {KEY_VAR}=\"$(openssl rand -base64 32)\"`, \
                 and keep it in a password manager — scudo never stores it, and without it the data cannot be read"
            ))
        })
    }

    /// The key as a SQL string literal (ATTACH takes no parameters).
    fn literal(&self) -> String {
        format!("'{}'", self.0.replace('\'', "''"))
    }

    /// `text` with every occurrence of the key replaced, for error messages.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "…")
    }
}

/// Whether the DuckDB file at `path` is encrypted: bit 0 of the first flag word of its main header
/// (after the 8-byte block checksum, the magic `DUCK` and the 8-byte version). `None` when the file
/// is missing, too short or not a DuckDB file.
pub fn is_encrypted(path: &Path) -> Option<bool> {
    use std::io::Read;
    let mut head = [0u8; 28];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    if &head[8..12] != b"DUCK" {
        return None;
    }
    let flags = u64::from_le_bytes(head[20..28].try_into().ok()?);
    Some(flags & 1 == 1)
}

/// The database owning an encrypted workspace's connection: closed when dropped, after the
/// connection (the store keeps it in a field declared after its connection).
pub struct Database(ffi::duckdb_database);

// SAFETY: a DuckDB database may be used and closed from any thread (DuckDB locks internally); the
// store, which owns it, moves between threads as a whole (the server's database thread).
unsafe impl Send for Database {}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from `duckdb_open_ext` and is closed once, here.
        unsafe { ffi::duckdb_close(&mut self.0) };
    }
}

/// How a connection may use the workspace.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub read_only: bool,
    /// Files other than the database (COPY, read_csv, ATTACH); off for SQL the user wrote.
    pub external: bool,
}

/// Opens (or creates) the encrypted workspace at `path` with `key`. Errors carry DuckDB's text with
/// the key redacted, so that the caller can tell a lock from a wrong key.
pub fn open(path: &Path, key: &Key, access: Access) -> std::result::Result<(Connection, Database), String> {
    let db = open_memory()?;
    // SAFETY: `db.0` is an open database; the connection does not own it (`Database` does).
    let conn = unsafe { Connection::open_from_raw(db.0) }.map_err(|e| e.to_string())?;
    let file = path.display().to_string().replace('\'', "''");
    let mode = if access.read_only { ", READ_ONLY" } else { "" };
    let attach = format!("ATTACH '{file}' AS {ALIAS} (ENCRYPTION_KEY {}{mode}); USE {ALIAS};", key.literal());
    conn.execute_batch(&attach).map_err(|e| key.redact(&e.to_string()))?;
    if !access.external {
        conn.execute_batch("SET enable_external_access = false;").map_err(|e| e.to_string())?;
    }
    Ok((conn, db))
}

/// Copies the database file `from` (plain, or encrypted with `from_key`) into a new file `to`
/// encrypted with `key` (`COPY FROM DATABASE`: tables, sequences at their values, indexes).
pub fn encrypted_copy(from: &Path, from_key: Option<&Key>, to: &Path, key: &Key) -> Result<()> {
    let redact = |e: &dyn std::fmt::Display| {
        let text = key.redact(&e.to_string());
        anyhow::anyhow!(from_key.map_or(text.clone(), |k| k.redact(&text)))
    };
    let db = open_memory().map_err(|e| redact(&e))?;
    // SAFETY: as in `open`.
    let conn = unsafe { Connection::open_from_raw(db.0) }.map_err(|e| redact(&e))?;
    let quote = |p: &Path| p.display().to_string().replace('\'', "''");
    let source_key = from_key.map(|k| format!(", ENCRYPTION_KEY {}", k.literal())).unwrap_or_default();
    conn.execute_batch(&format!(
        "ATTACH '{}' AS _scudo_from (READ_ONLY{source_key}); ATTACH '{}' AS _scudo_to (ENCRYPTION_KEY {}); \
         COPY FROM DATABASE _scudo_from TO _scudo_to; DETACH _scudo_to; DETACH _scudo_from;",
        quote(from),
        quote(to),
        key.literal()
    ))
    .map_err(|e| redact(&e))?;
    drop(conn);
    drop(db);
    Ok(())
}

/// An in-memory DuckDB with scudo's encryption module and no extension autoloading (which would
/// otherwise try to download httpfs).
fn open_memory() -> std::result::Result<Database, String> {
    use std::ffi::{CStr, CString};
    use std::ptr;
    unsafe {
        let mut config: ffi::duckdb_config = ptr::null_mut();
        if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
            return Err("cannot configure DuckDB".into());
        }
        for (name, value) in [("autoload_known_extensions", "false"), ("autoinstall_known_extensions", "false")] {
            let (n, v) = (CString::new(name).unwrap(), CString::new(value).unwrap());
            ffi::duckdb_set_config(config, n.as_ptr(), v.as_ptr());
        }
        let mut db: ffi::duckdb_database = ptr::null_mut();
        let mut err: *mut std::os::raw::c_char = ptr::null_mut();
        let memory = CString::new(":memory:").unwrap();
        let state = ffi::duckdb_open_ext(memory.as_ptr(), &mut db, config, &mut err);
        ffi::duckdb_destroy_config(&mut config);
        if state != ffi::DuckDBSuccess {
            let message = if err.is_null() {
                "cannot open DuckDB".to_string()
            } else {
                let m = CStr::from_ptr(err).to_string_lossy().into_owned();
                ffi::duckdb_free(err.cast());
                m
            };
            return Err(message);
        }
        let db = Database(db);
        if scudo_install_encryption(db.0) != 0 {
            return Err("cannot install scudo's encryption module in DuckDB".into());
        }
        Ok(db)
    }
}

/// The `ENCRYPTION_KEY` option for another ATTACH of a file that must be encrypted like this one
/// (a compacted backup): `, ENCRYPTION_KEY '…'`-free callers pass `None`.
pub fn attach_options(key: Option<&Key>) -> String {
    match key {
        Some(k) => format!(" (ENCRYPTION_KEY {})", k.literal()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key("correct horse battery staple".into())
    }

    #[test]
    fn an_encrypted_file_hides_its_rows_and_reopens_with_the_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.duckdb");
        let rw = Access { read_only: false, external: true };
        {
            let (conn, _db) = open(&path, &key(), rw).unwrap();
            conn.execute_batch(
                "CREATE TABLE people(email VARCHAR); INSERT INTO people SELECT 'needle-' || i || '@example.com' FROM range(2000) t(i); CHECKPOINT;",
            )
            .unwrap();
        }
        assert_eq!(is_encrypted(&path), Some(true));
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(7).any(|w| w == b"needle-"), "the file shows a row in clear");

        let wrong = Key("a different key of some length".into());
        let err = open(&path, &wrong, rw).err().expect("a wrong key must not open the file");
        assert!(!err.contains("a different key"), "the error shows the key: {err}");
        let (conn, _db) = open(&path, &key(), Access { read_only: true, external: false }).unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM people", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2000);
        let outside = conn.execute_batch("ATTACH 'other.duckdb' AS o");
        assert!(outside.is_err(), "a sandboxed connection may not attach files");
    }

    #[test]
    fn a_plain_file_is_not_encrypted_and_a_foreign_file_is_neither() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.duckdb");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t(x INT); CHECKPOINT;").unwrap();
        assert_eq!(is_encrypted(&path), Some(false));
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, "not a database at all, just words").unwrap();
        assert_eq!(is_encrypted(&other), None);
        assert_eq!(is_encrypted(&dir.path().join("missing")), None);
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        assert!(!format!("{:?}", key()).contains("horse"));
        assert_eq!(key().redact("bad key correct horse battery staple here"), "bad key … here");
    }
}
