//! `scudo backup DIR` and `scudo restore DIR`: a consistent snapshot of the workspace with a
//! manifest (files with sizes and SHA-256, tables with row counts), and a restore that verifies
//! every bit of it before it touches anything (docs/operations.md).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::{BackupArgs, GlobalArgs, RestoreArgs};
use crate::config::{SETTINGS_FILE, Workspace};
use crate::error::{Exit, user};
use crate::output;
use crate::store::Store;

/// The manifest's name in a backup folder, and what it says it is.
pub const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "scudo-backup";
const FORMAT_VERSION: i64 = 1;
/// The database's name inside a backup.
const DATABASE: &str = "scudo.duckdb";

/// Files of the workspace besides the database that a backup keeps (relative paths).
fn workspace_files(ws: &Workspace) -> Result<Vec<PathBuf>> {
    let mut out = vec![PathBuf::from(SETTINGS_FILE)];
    if crate::store::access::audit_path(&ws.database_path()).is_file() {
        out.push(PathBuf::from("audit.jsonl"));
    }
    for (dir, ext) in [("queries", "sql"), ("report-templates", "hbs")] {
        if !ws.root.join(dir).is_dir() {
            continue;
        }
        for f in crate::config::files_under(&ws.root.join(dir), ext)? {
            if let Ok(rel) = f.strip_prefix(&ws.root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    Ok(out)
}

fn file_entry(root: &Path, rel: &Path) -> Result<serde_json::Value> {
    let path = root.join(rel);
    let bytes = std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?.len();
    Ok(json!({"path": rel.to_string_lossy(), "bytes": bytes, "sha256": crate::ingest::content_hash(&path)?}))
}

pub fn backup(args: &BackupArgs, g: &GlobalArgs) -> Result<Exit> {
    let started = std::time::Instant::now();
    let ws = Workspace::discover(g.workspace.as_deref())?;
    let dir = &args.dir;
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(user(format!(
            "{} exists and is not empty; a backup never overwrites anything: name a new folder",
            dir.display()
        )));
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "backup".into());
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    // Written beside the target and renamed at the end: a folder named DIR is always complete.
    let partial = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let result = (|| -> Result<serde_json::Value> {
        // A read-only connection can only attach read-only, so the snapshot is taken through a
        // writing one (borrowed from a running `scudo serve`); it writes nothing to the workspace.
        let store = Store::open_settled(&ws.database_path(), &ws.settings.reporting()?)?;
        store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
        let schema = store.schema_version()?;
        if args.compact {
            store.snapshot_to(&partial.join(DATABASE))?;
        } else {
            store.copy_file_to(&partial.join(DATABASE))?;
        }
        drop(store);
        let snapshot = Store::open_snapshot(&partial.join(DATABASE))?;
        let tables: serde_json::Map<String, serde_json::Value> =
            snapshot.row_counts()?.into_iter().map(|(t, n)| (t, n.into())).collect();
        drop(snapshot);
        let mut files = vec![file_entry(&partial, Path::new(DATABASE))?];
        for rel in workspace_files(&ws)? {
            let to = partial.join(&rel);
            if let Some(p) = to.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::copy(ws.root.join(&rel), &to).with_context(|| format!("cannot copy {}", rel.display()))?;
            files.push(file_entry(&partial, &rel)?);
        }
        let manifest = json!({
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "scudo_version": env!("CARGO_PKG_VERSION"),
            "schema_version": schema,
            "created_at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "workspace": ws.root.display().to_string(),
            "database": DATABASE,
            "files": files,
            "tables": tables,
        });
        std::fs::write(partial.join(MANIFEST), output::json::to_string(&manifest))?;
        Ok(manifest)
    })();
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if dir.exists() {
        std::fs::remove_dir(dir).with_context(|| format!("cannot replace the empty folder {}", dir.display()))?;
    }
    std::fs::rename(&partial, dir).with_context(|| format!("cannot rename the backup to {}", dir.display()))?;
    let bytes: u64 = manifest["files"].as_array().map_or(0, |f| f.iter().filter_map(|x| x["bytes"].as_u64()).sum());
    crate::store::access::audit(
        &ws.database_path(),
        &crate::store::access::cli_actor(),
        "backup",
        &dir.display().to_string(),
        "",
    )?;
    output::emit(&output::ops::backup(&manifest, dir, bytes, started.elapsed().as_secs_f64(), args.output.format))?;
    Ok(Exit::Ok)
}

/// A backup folder read and verified: its manifest, every file's size and checksum, the
/// database's tables and row counts. Nothing is written.
fn verified(dir: &Path) -> Result<serde_json::Value> {
    let path = dir.join(MANIFEST);
    if !dir.is_dir() {
        return Err(user(format!("{} is not a folder; nothing was changed", dir.display())));
    }
    let text = std::fs::read_to_string(&path).map_err(|_| {
        user(format!("{} is not a scudo backup (it has no {MANIFEST}); nothing was changed", dir.display()))
    })?;
    let m: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| user(format!("{}: the manifest is damaged ({e}); nothing was changed", path.display())))?;
    if m["format"] != FORMAT {
        return Err(user(format!(
            "{} is not a scudo backup (its manifest is not one); nothing was changed",
            dir.display()
        )));
    }
    if m["format_version"].as_i64().is_none_or(|v| v > FORMAT_VERSION) {
        return Err(user(format!(
            "{} was written by a newer scudo (backup format {}); upgrade scudo to restore it; nothing was changed",
            dir.display(),
            m["format_version"]
        )));
    }
    let schema = m["schema_version"].as_i64().unwrap_or(i64::MAX);
    if schema > crate::store::SCHEMA_VERSION {
        return Err(user(format!(
            "{} holds schema version {schema}, newer than this scudo reads ({}); upgrade scudo; nothing was changed",
            dir.display(),
            crate::store::SCHEMA_VERSION
        )));
    }
    let files =
        m["files"].as_array().ok_or_else(|| user(format!("{}: the manifest lists no files", path.display())))?;
    for f in files {
        let rel = f["path"].as_str().unwrap_or_default();
        // Only plain relative paths inside the folder.
        let safe = !rel.is_empty() && Path::new(rel).components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            return Err(user(format!("{}: the manifest names the file `{rel}`, outside the backup", path.display())));
        }
        let p = dir.join(rel);
        let damaged =
            |why: String| user(format!("the backup {} is damaged: {rel} {why}; nothing was changed", dir.display()));
        let meta = std::fs::metadata(&p).map_err(|_| damaged("is missing".into()))?;
        if Some(meta.len()) != f["bytes"].as_u64() {
            return Err(damaged(format!("has {} bytes, the manifest says {}", meta.len(), f["bytes"])));
        }
        if Some(crate::ingest::content_hash(&p)?.as_str()) != f["sha256"].as_str() {
            return Err(damaged("does not match its SHA-256 checksum".into()));
        }
    }
    let db = dir.join(m["database"].as_str().unwrap_or(DATABASE));
    let snapshot = Store::open_snapshot(&db).map_err(|e| {
        user(format!(
            "the backup {} is damaged: its database does not open ({e:#}); nothing was changed",
            dir.display()
        ))
    })?;
    for (table, n) in snapshot.row_counts()? {
        if let Some(want) = m["tables"][&table].as_u64()
            && want != n
        {
            return Err(user(format!(
                "the backup {} is damaged: table {table} has {n} rows, the manifest says {want}; nothing was changed",
                dir.display()
            )));
        }
    }
    Ok(m)
}

pub fn restore(args: &RestoreArgs, g: &GlobalArgs) -> Result<Exit> {
    let started = std::time::Instant::now();
    let key = if args.encrypt { Some(crate::store::crypto::Key::required()?) } else { None };
    let manifest = verified(&args.dir)?;
    let target =
        match &args.into {
            Some(d) => d.clone(),
            None => Workspace::discover(g.workspace.as_deref())
                .map_err(|_| {
                    user("not inside a workspace: pass --into DIR, the workspace to rebuild (a new folder is created)")
                })?
                .root,
        };
    std::fs::create_dir_all(&target).with_context(|| format!("cannot create {}", target.display()))?;
    // The workspace's own files first (settings, queries, templates, activity log) where it has none.
    let files = manifest["files"].as_array().cloned().unwrap_or_default();
    let db_name = manifest["database"].as_str().unwrap_or(DATABASE);
    let settings_there = target.join(SETTINGS_FILE).is_file();
    let ws_db = if settings_there { Workspace::open(&target)?.database_path() } else { target.join(DATABASE) };
    if crate::store::owner::RunFile::find(&ws_db).is_some() {
        return Err(user(format!(
            "`scudo serve` is running on {}: stop it first, then restore; nothing was changed",
            target.display()
        )));
    }
    let wal = PathBuf::from(format!("{}.wal", ws_db.display()));
    let mut moved_aside = None;
    if ws_db.exists() {
        if !args.force {
            return Err(user(format!(
                "{} has a database already; pass --force to replace it (it is kept beside, renamed), or --into a new folder; nothing was changed",
                target.display()
            )));
        }
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let aside = PathBuf::from(format!("{}.before-restore-{stamp}", ws_db.display()));
        // Take the lock first: a command still writing must finish before the file moves.
        drop(Store::open(&ws_db)?);
        std::fs::rename(&ws_db, &aside).with_context(|| format!("cannot move {} aside", ws_db.display()))?;
        if wal.exists() {
            let _ = std::fs::rename(&wal, format!("{}.wal", aside.display()));
        }
        moved_aside = Some(aside);
    }
    let restoring = PathBuf::from(format!("{}.restoring", ws_db.display()));
    let _ = std::fs::remove_file(&restoring);
    match &key {
        // Rewritten into a new encrypted file: how an existing workspace becomes encrypted.
        Some(key) => {
            let from = args.dir.join(db_name);
            let from_key = match crate::store::crypto::is_encrypted(&from) {
                Some(true) => crate::store::crypto::Key::from_env()?,
                _ => None,
            };
            crate::store::crypto::encrypted_copy(&from, from_key.as_ref(), &restoring, key)
                .context("cannot write the encrypted database")?;
        }
        None => {
            std::fs::copy(args.dir.join(db_name), &restoring).context("cannot copy the database out of the backup")?;
        }
    }
    std::fs::File::open(&restoring).and_then(|f| f.sync_all())?;
    std::fs::rename(&restoring, &ws_db)?;
    for f in &files {
        let rel = f["path"].as_str().unwrap_or_default();
        if rel == db_name {
            continue;
        }
        let to = target.join(rel);
        if to.exists() {
            continue;
        }
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::copy(args.dir.join(rel), &to).with_context(|| format!("cannot restore {rel}"))?;
    }
    // Migrates a backup from an older scudo, and proves the restored workspace opens.
    let ws = Workspace::open(&target)?;
    drop(Store::open_settled(&ws.database_path(), &ws.settings.reporting()?)?);
    crate::store::access::audit(
        &ws.database_path(),
        &crate::store::access::cli_actor(),
        "restore",
        &args.dir.display().to_string(),
        moved_aside.as_ref().map(|p| format!("previous database kept as {}", p.display())).as_deref().unwrap_or(""),
    )?;
    output::emit(&output::ops::restore(
        &manifest,
        &target,
        moved_aside.as_deref(),
        started.elapsed().as_secs_f64(),
        args.output.format,
    ))?;
    Ok(Exit::Ok)
}
