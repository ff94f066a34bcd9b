//! `scudo demo [DIR]`: build (or rebuild) the demo workspace from the bundled exports, through
//! the same import path user data takes, and print its dashboard at the pinned date.

use anyhow::{Context, Result};

use crate::cli::{DemoArgs, GlobalArgs};
use crate::config::{SETTINGS_FILE, SETTINGS_TEMPLATE};
use crate::demo::{AS_OF, EXPORTS, MARKER};
use crate::error::{Exit, user};
use crate::ingest::ReadOptions;
use crate::ingest::table::TextEncoding;
use crate::store::Store;

use super::ingest::{IngestOptions, ingest_files};

pub fn run(args: &DemoArgs, g: &GlobalArgs) -> Result<Exit> {
    if args.encrypt {
        crate::store::crypto::Key::required()?;
    }
    let dir = &args.dir;
    if dir.join(SETTINGS_FILE).exists() && !dir.join(MARKER).exists() {
        return Err(user(format!(
            "{} is a workspace that is not the demo's; `scudo demo` only rebuilds its own demo workspaces: pick another directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "This directory is a scudo demo workspace; `scudo demo` rebuilds it.\n")?;
    // Rebuild from scratch so every run prints the same numbers.
    let settings = SETTINGS_TEMPLATE.replace("# as_of = \"2024-10-01\"", &format!("as_of = \"{AS_OF}\""));
    std::fs::write(dir.join(SETTINGS_FILE), settings)?;
    // The demo shop's campaigns run on Rome time (its exports' offsets say nothing else).
    let automations = super::init::AUTOMATIONS_TEMPLATE
        .replace("# timezone = \"Europe/Rome\"      # default: [workspace] timezone", "timezone = \"Europe/Rome\"")
        .replace("# timezone = \"Europe/Rome\"", "timezone = \"Europe/Rome\"");
    std::fs::create_dir_all(dir.join("automations"))?;
    std::fs::write(dir.join("automations").join("campaigns.toml"), &automations)?;
    let mut ws = super::init::create_with(dir, SETTINGS_TEMPLATE, &automations)?;
    let db = ws.database_path();
    for stale in [db.clone(), db.with_extension("duckdb.wal")] {
        if stale.exists() {
            std::fs::remove_file(&stale).with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    let exports = dir.join("exports");
    std::fs::create_dir_all(&exports)?;
    let mut files = Vec::new();
    for (name, bytes) in EXPORTS {
        let p = exports.join(name);
        std::fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
        files.push(p);
    }
    let mut store = if args.encrypt { Store::create_encrypted(&db)? } else { Store::create(&db)? };
    store.set_memory_limit(&ws.settings.workspace.memory_limit)?;
    store.set_reporting(ws.settings.reporting()?);
    let read = ReadOptions { kind: None, mapping: None, encoding: TextEncoding::Auto, sheet: None, portal_tz: None };
    let opts = IngestOptions {
        settings: super::ingest::settings_key(&read, None),
        read,
        dry_run: false,
        force: false,
        rejects: None,
        quiet: g.quiet,
    };
    let reports = ingest_files(&ws, &mut store, &files, &opts)?;
    super::ingest::propose_timezone(&mut ws, &mut store, g.quiet)?;
    if let Some(failed) = reports.iter().find_map(|r| match &r.outcome {
        crate::output::ingest::Outcome::Failed(e) => Some(e.clone()),
        _ => None,
    }) {
        return Err(user(failed));
    }
    if !g.quiet {
        let orders: u64 = reports.iter().map(|r| r.counts.orders_inserted).sum();
        eprintln!(
            "demo workspace: {} ({} imported, {}); try `cd {}` then `scudo dashboard`",
            ws.root.display(),
            crate::output::count(reports.len() as u64, "export", "exports"),
            crate::output::count(orders, "order", "orders"),
            ws.root.display()
        );
    }
    super::dashboard::keep(&ws.root, &ws.settings, &mut store, g.quiet);
    let as_of = AS_OF.parse().expect("the demo date is a date");
    super::dashboard::show(&ws, &store, as_of, args.output.format, g.quiet, false)?;
    Ok(Exit::Ok)
}
