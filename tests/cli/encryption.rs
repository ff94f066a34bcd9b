//! Encrypted workspaces (issue 16): `scudo init --encrypt`, every command with the key from
//! `SCUDO_ENCRYPTION_KEY`, clear errors without it or with a wrong one, and nothing readable in the
//! file or its backups.

use std::path::Path;

use crate::harness::{Run, Scudo, demo};
use crate::serve::{Server, get};

const KEY: &str = "correct horse battery staple 42";
const EMAIL: &[u8] = b"mike.johnson@example.com";

fn with_key(s: &Scudo, ws: &Path, key: &str, args: &[&str]) -> Run {
    let mut full = vec!["-w", ws.to_str().unwrap()];
    full.extend_from_slice(args);
    let out = s.command_in(s.path(), &full).env("SCUDO_ENCRYPTION_KEY", key).output().expect("scudo runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(s: &Scudo, ws: &Path, args: &[&str]) -> Run {
    let r = with_key(s, ws, KEY, args);
    assert!(r.code == 0 || r.code == 1, "scudo {args:?} failed: {}", r.stderr);
    r
}

fn contains(path: &Path, needle: &[u8]) -> bool {
    std::fs::read(path).unwrap().windows(needle.len()).any(|w| w == needle)
}

fn sha(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// The encrypted demo (`scudo demo --encrypt`).
fn encrypted_demo() -> (Scudo, std::path::PathBuf) {
    let s = Scudo::new();
    let ws = s.path().join("secret");
    let r = with_key(&s, &ws, KEY, &["demo", ws.to_str().unwrap(), "--encrypt", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["kpis"]["customers"], 10);
    (s, ws)
}

#[test]
fn an_encrypted_workspace_works_end_to_end_and_its_file_reveals_no_email() {
    let (s, ws) = encrypted_demo();
    let db = ws.join("scudo.duckdb");
    ok(&s, &ws, &["score"]);
    ok(&s, &ws, &["customer", "Lisa Thompson", "note", "prefers email"]);
    let dash = ok(&s, &ws, &["dashboard", "--format", "json"]).json();
    assert_eq!(ok(&s, &ws, &["doctor", "--format", "json"]).json()["facts"]["encrypted"], true);

    // The same numbers as the plain demo.
    let (plain_s, plain_ws) = demo();
    plain_s.ok(&["-w", plain_ws.to_str().unwrap(), "score"]);
    let plain = plain_s.ok(&["-w", plain_ws.to_str().unwrap(), "dashboard", "--format", "json"]).json();
    assert_eq!(dash["kpis"], plain["kpis"]);
    assert_eq!(dash["health"], plain["health"]);
    assert!(contains(&plain_ws.join("scudo.duckdb"), EMAIL), "the plain file shows the email (the test can see it)");

    let customer = ok(&s, &ws, &["customer", "Mike Johnson", "--format", "json"]).json();
    assert_eq!(customer["customer"]["email"], "mike.johnson@example.com", "{customer}");
    let wal = ws.join("scudo.duckdb.wal");
    for file in [&db, &wal].into_iter().filter(|f| f.exists()) {
        assert!(!contains(file, EMAIL), "{} shows an email in clear", file.display());
        assert!(!contains(file, b"prefers email"), "{} shows a note in clear", file.display());
    }

    // Backups: the copy and the rewritten copy are encrypted too, and restore with the key.
    let plain_backup = s.path().join("bk");
    ok(&s, &ws, &["backup", plain_backup.to_str().unwrap()]);
    let compact = s.path().join("bk-compact");
    ok(&s, &ws, &["backup", compact.to_str().unwrap(), "--compact"]);
    for dir in [&plain_backup, &compact] {
        assert!(!contains(&dir.join("scudo.duckdb"), EMAIL), "{} shows an email in clear", dir.display());
    }
    let into = s.path().join("restored");
    let r = with_key(&s, &ws, KEY, &["restore", compact.to_str().unwrap(), "--into", into.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let again = ok(&s, &into, &["dashboard", "--format", "json"]).json();
    assert_eq!(again["kpis"], dash["kpis"]);
    assert!(!contains(&into.join("scudo.duckdb"), EMAIL));

    // The server opens it with the key, and answers from it.
    let viewer = ok(&s, &ws, &["tokens", "create", "--role", "viewer"]).stdout.trim().to_string();
    let server = Server::start_with(&s, &ws, &[("SCUDO_ENCRYPTION_KEY", KEY)]);
    let live = get(&server.addr, "/api/dashboard", Some(&viewer)).json();
    assert_eq!(live["kpis"]["customers"], dash["kpis"]["customers"]);
    // Another command while it runs (the server lends it the database).
    let r = ok(&s, &ws, &["customer", "Lisa Thompson", "tag", "add", "vip-watch"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(server.stop(), 0);
}

#[test]
fn without_the_key_or_with_a_wrong_one_commands_stop_clearly_and_change_nothing() {
    let (s, ws) = encrypted_demo();
    let db = ws.join("scudo.duckdb");
    let before = sha(&db);

    let r = s.run(&["-w", ws.to_str().unwrap(), "dashboard"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is encrypted") && r.stderr.contains("SCUDO_ENCRYPTION_KEY"), "{}", r.stderr);

    let wrong = "this is not the key, but long";
    for args in [&["dashboard"][..], &["ingest", "--help"][..], &["score"][..]] {
        let r = with_key(&s, &ws, wrong, args);
        if args[0] == "ingest" {
            continue; // --help needs no database
        }
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("not the key"), "{}", r.stderr);
        assert!(!r.stderr.contains(wrong) && !r.stdout.contains(wrong), "the key is shown: {}", r.stderr);
    }
    assert_eq!(sha(&db), before, "a wrong key changed the file");
    // The right key still opens it.
    assert_eq!(ok(&s, &ws, &["dashboard", "--format", "json"]).json()["kpis"]["customers"], 10);
}

#[test]
fn init_encrypt_refuses_without_a_good_key_or_over_a_plain_database_and_writes_nothing() {
    let s = Scudo::new();
    let ws = s.path().join("w");
    let r = s.run(&["init", ws.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("SCUDO_ENCRYPTION_KEY"), "{}", r.stderr);
    assert!(!ws.exists(), "a refused init wrote files");
    let r = s.run(&["demo", ws.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 2);
    assert!(!ws.exists(), "a refused demo wrote files");
    let r = with_key(&s, &ws, "short", &["init", ws.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("too short") && !r.stderr.contains("short\n"), "{}", r.stderr);
    assert!(!ws.exists());

    let r = with_key(&s, &ws, KEY, &["init", ws.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("encrypted"), "init says the database is encrypted: {}", r.stderr);
    let plain = s.path().join("plain");
    s.ok(&["init", plain.to_str().unwrap(), "-q"]);
    let r = with_key(&s, &plain, KEY, &["init", plain.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("exists already") && r.stderr.contains("restore"), "{}", r.stderr);
    // A plain workspace ignores a key in the environment.
    assert_eq!(with_key(&s, &plain, KEY, &["dashboard"]).code, 0);
}

#[test]
fn an_existing_plain_workspace_becomes_encrypted_through_backup_and_restore() {
    let (s, ws) = demo();
    s.ok(&["-w", ws.to_str().unwrap(), "customer", "Lisa Thompson", "note", "prefers email"]);
    let before = s.ok(&["-w", ws.to_str().unwrap(), "dashboard", "--format", "json"]).json();
    let bk = s.path().join("bk");
    s.ok(&["-w", ws.to_str().unwrap(), "backup", bk.to_str().unwrap(), "-q"]);
    // Without a key, --encrypt refuses before doing anything.
    let into = s.path().join("enc");
    let r = s.run(&["restore", bk.to_str().unwrap(), "--into", into.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!into.exists());
    let r = with_key(&s, &ws, KEY, &["restore", bk.to_str().unwrap(), "--into", into.to_str().unwrap(), "--encrypt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let db = into.join("scudo.duckdb");
    assert!(!contains(&db, EMAIL), "the restored file shows an email in clear");
    assert!(!contains(&db, b"prefers email"));
    assert_eq!(ok(&s, &into, &["doctor", "--format", "json"]).json()["facts"]["encrypted"], true);
    let after = ok(&s, &into, &["dashboard", "--format", "json"]).json();
    assert_eq!(after["kpis"], before["kpis"]);
    assert_eq!(after["health"], before["health"]);
    let lisa = ok(&s, &into, &["privacy", "export", "Lisa Thompson"]).stdout;
    assert!(lisa.contains("prefers email"), "the note came along: {lisa}");
}
