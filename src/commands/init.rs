//! `scudo init [DIR]`: create a workspace, or complete one that is missing parts.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{GlobalArgs, InitArgs};
use crate::config::{SETTINGS_FILE, SETTINGS_TEMPLATE, Workspace};
use crate::error::Exit;
use crate::store::Store;

const QUERIES_README: &str = "\
Your own SQL queries. One query per .sql file; the path is its id (kpi/margin.sql → kpi.margin).
A file with the same id as a built-in query replaces it (e.g. health/stages.sql changes the
lifecycle rules). Start from `scudo query new NAME`; see docs/queries.md.
";

const TEMPLATES_README: &str = "\
Your own report templates (handlebars). A file with the same name as a built-in template
replaces it.
";

/// The built-in campaigns, disabled: automations/campaigns.toml of a new workspace.
pub const AUTOMATIONS_TEMPLATE: &str = include_str!("../config/automations.toml");

/// Creates the workspace files under `dir` (settings from `settings_text`) and the database.
pub fn create(dir: &Path, settings_text: &str) -> Result<Workspace> {
    create_with(dir, settings_text, AUTOMATIONS_TEMPLATE)
}

/// [`create`] with the text of automations/campaigns.toml (written only when missing).
pub fn create_with(dir: &Path, settings_text: &str, automations: &str) -> Result<Workspace> {
    create_files(dir, settings_text, automations)?;
    let ws = Workspace::open(dir)?;
    Store::create(&ws.database_path())?;
    Ok(ws)
}

/// [`create`] with the database encrypted by the key in `SCUDO_ENCRYPTION_KEY`. The key and the
/// database path are checked before any file is written.
pub fn create_encrypted(dir: &Path, settings_text: &str) -> Result<Workspace> {
    let database = match dir.join(SETTINGS_FILE).exists() {
        true => Workspace::open(dir)?.database_path(),
        false => dir.join(crate::config::Settings::default().workspace.database),
    };
    if crate::store::crypto::is_encrypted(&database) != Some(true) {
        // Refuses an existing plain database, or a missing or short key, before anything is written.
        Store::check_can_encrypt(&database)?;
    }
    create_files(dir, settings_text, AUTOMATIONS_TEMPLATE)?;
    let ws = Workspace::open(dir)?;
    let path = ws.database_path();
    if path.exists() {
        Store::open(&path)?;
    } else {
        Store::create_encrypted(&path)?;
    }
    Ok(ws)
}

fn create_files(dir: &Path, settings_text: &str, automations: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let settings = dir.join(SETTINGS_FILE);
    if !settings.exists() {
        std::fs::write(&settings, settings_text).with_context(|| format!("cannot write {}", settings.display()))?;
    }
    for (sub, readme) in [("queries", QUERIES_README), ("report-templates", TEMPLATES_README)] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        let r = d.join("README.md");
        if !r.exists() {
            std::fs::write(&r, readme).with_context(|| format!("cannot write {}", r.display()))?;
        }
    }
    let autos = dir.join("automations");
    std::fs::create_dir_all(&autos).with_context(|| format!("cannot create {}", autos.display()))?;
    let campaigns = autos.join("campaigns.toml");
    if !campaigns.exists() {
        std::fs::write(&campaigns, automations).with_context(|| format!("cannot write {}", campaigns.display()))?;
    }
    Ok(())
}

pub fn run(args: &InitArgs, g: &GlobalArgs) -> Result<Exit> {
    let existed = args.dir.join(SETTINGS_FILE).exists();
    let ws = if args.encrypt {
        create_encrypted(&args.dir, SETTINGS_TEMPLATE)?
    } else {
        create(&args.dir, SETTINGS_TEMPLATE)?
    };
    if !g.quiet {
        let what = if existed { "workspace is ready (existing settings kept)" } else { "created workspace" };
        eprintln!("{what}: {}", ws.root.display());
        eprintln!("  settings  {}", ws.root.join(SETTINGS_FILE).display());
        let encrypted = crate::store::crypto::is_encrypted(&ws.database_path()) == Some(true);
        let note = if encrypted { " (encrypted; every command needs SCUDO_ENCRYPTION_KEY)" } else { "" };
        eprintln!("  database  {}{note}", ws.database_path().display());
        eprintln!("  campaigns {} (disabled; `scudo schedule list`)", ws.root.join("automations").display());
        eprintln!("next: scudo ingest path/to/exports/ && scudo dashboard");
    }
    Ok(Exit::Ok)
}
