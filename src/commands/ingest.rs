//! `scudo ingest PATH...`: import exports, one transaction per file, and print what happened.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::cli::{EncodingArg, Format, GlobalArgs, IngestArgs, SourceArg};
use crate::config::Workspace;
use crate::error::{Exit, Interrupted, user};
use crate::ingest::formats::generic::Mapping;
use crate::ingest::formats::infer as inference;
use crate::ingest::record::{Reject, StopOn};
use crate::ingest::table::{Delimiter, Table, TableOptions, TextEncoding};
use crate::ingest::{self, Kind, Progress, ReadOptions, rejects};
use crate::output::{self, ingest::FileReport, ingest::Outcome};
use crate::store::Store;
use crate::store::load::ImportMeta;

/// How to import.
pub struct IngestOptions {
    pub read: ReadOptions,
    /// [`settings_key`] of `read`.
    pub settings: String,
    pub dry_run: bool,
    /// Import even when the same bytes were imported with the same settings.
    pub force: bool,
    /// One rejects file for all files, instead of one per file in the workspace.
    pub rejects: Option<PathBuf>,
    pub quiet: bool,
}

fn kind_of(arg: SourceArg) -> Option<Kind> {
    match arg {
        SourceArg::Auto => None,
        SourceArg::ShopifyOrders => Some(Kind::ShopifyOrders),
        SourceArg::ShopifyCustomers => Some(Kind::ShopifyCustomers),
        SourceArg::ShopifyProducts => Some(Kind::ShopifyProducts),
        SourceArg::StripePayments => Some(Kind::StripePayments),
        SourceArg::StripeCustomers => Some(Kind::StripeCustomers),
        SourceArg::StripeInvoices => Some(Kind::StripeInvoices),
        SourceArg::StripeSubscriptions => Some(Kind::StripeSubscriptions),
        SourceArg::HubspotContacts => Some(Kind::HubspotContacts),
        SourceArg::HubspotDeals => Some(Kind::HubspotDeals),
        SourceArg::SalesforceReport => Some(Kind::SalesforceReport),
        SourceArg::Csv => Some(Kind::Csv),
    }
}

fn encoding_of(arg: EncodingArg) -> TextEncoding {
    match arg {
        EncodingArg::Auto => TextEncoding::Auto,
        EncodingArg::Utf8 => TextEncoding::Fixed(encoding_rs::UTF_8),
        EncodingArg::Utf16le => TextEncoding::Fixed(encoding_rs::UTF_16LE),
        EncodingArg::Utf16be => TextEncoding::Fixed(encoding_rs::UTF_16BE),
        EncodingArg::Windows1252 | EncodingArg::Latin1 => TextEncoding::Fixed(encoding_rs::WINDOWS_1252),
    }
}

fn progress_for(table: &Table, name: &str, quiet: bool) -> Progress {
    // Small files finish before a bar would be readable.
    if quiet || table.total_bytes < 4 << 20 {
        return Progress::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(table.total_bytes), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(name.to_string());
    Progress::new(bar)
}

fn default_rejects_path(ws: &Workspace, file: &Path) -> PathBuf {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("import");
    let stem = name.trim_end_matches(".gz").trim_end_matches(".csv").trim_end_matches(".txt").trim_end_matches(".tsv");
    ws.rejects_dir().join(format!("{stem}.rejects.csv"))
}

/// The settings a file was read with, as recorded in the import log: the same bytes read with
/// other settings are a new import.
pub fn settings_key(read: &ReadOptions, mapping_sha256: Option<&str>) -> String {
    let kind = read.kind.map_or("auto", Kind::name);
    let encoding = match read.encoding {
        TextEncoding::Auto => "auto",
        TextEncoding::Fixed(e) => e.name(),
    };
    let sheet = read.sheet.as_deref().unwrap_or("");
    let mut key = format!("kind={kind};mapping={};encoding={encoding};sheet={sheet}", mapping_sha256.unwrap_or(""));
    // Only when set, so that files imported before the setting existed are still recognised.
    if let Some(tz) = read.portal_tz {
        key.push_str(&format!(";portal_tz={}", tz.name()));
    }
    key
}

/// The key of the default settings (what imports recorded before keys existed used).
fn default_settings_key() -> String {
    settings_key(
        &ReadOptions { kind: None, mapping: None, encoding: TextEncoding::Auto, sheet: None, portal_tz: None },
        None,
    )
}

/// Imports `files` into `store`, each in its own transaction. A file that cannot be imported
/// (unreadable, of unknown kind, every row rejected) is reported as failed and the others are
/// still imported: the directory rule in the README. Ctrl-C rolls back the file under way and
/// ends the run with [`crate::error::Interrupted`].
pub fn ingest_files(
    ws: &Workspace,
    store: &mut Store,
    files: &[PathBuf],
    opts: &IngestOptions,
) -> Result<Vec<FileReport>> {
    let mut reports: Vec<FileReport> = Vec::new();
    let mut all_rejects: Vec<(String, Vec<Reject>)> = Vec::new();
    let default_key = default_settings_key();
    // A file imported before a person was erased is read again (once): the import is idempotent,
    // and its summary then says how many of its rows are left out as `suppressed`.
    let last_erasure = store.last_erasure()?;
    super::interrupt::on_interrupt(store.interrupter());
    for path in files {
        let started = Instant::now();
        let display = path.display().to_string();
        let result = (|| -> Result<FileReport> {
            let sha256 = ingest::content_hash(path)?;
            if !opts.dry_run
                && !opts.force
                && let Some(prev) = store.previous_import(&sha256, &opts.settings, &default_key)?
                && last_erasure.is_none_or(|erased| prev.finished_at > erased)
            {
                let mut counts = prev.counts.clone();
                counts.customers_unchanged += counts.customers_inserted + counts.customers_updated;
                counts.orders_unchanged += counts.orders_inserted + counts.orders_updated;
                counts.customers_inserted = 0;
                counts.customers_updated = 0;
                counts.orders_inserted = 0;
                counts.orders_updated = 0;
                counts.products_upserted = 0;
                counts.subscriptions_unchanged += counts.subscriptions_inserted + counts.subscriptions_updated;
                counts.subscriptions_inserted = 0;
                counts.subscriptions_updated = 0;
                let kind = ingest::open(path, &opts.read).map(|o| o.kind.name().to_string()).unwrap_or_default();
                return Ok(FileReport {
                    file: display.clone(),
                    kind,
                    outcome: Outcome::Unchanged(prev.import_id),
                    counts,
                    rejects_path: None,
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            let mut opened = ingest::open(path, &opts.read)?;
            let rejects_path = opts.rejects.clone().unwrap_or_else(|| default_rejects_path(ws, path));
            let meta = ImportMeta {
                file_path: std::fs::canonicalize(path).unwrap_or(path.clone()).display().to_string(),
                file_name: path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
                sha256,
                kind: opened.kind.name().to_string(),
                source: opened.source.clone(),
                settings: opts.settings.clone(),
                dry_run: opts.dry_run,
            };
            let progress = progress_for(&opened.table, &meta.file_name, opts.quiet);
            let mapping = opts.read.mapping.clone();
            let rejects_text = rejects_path.display().to_string();
            let (counts, rejects) = store.import(&meta, Some(&rejects_text), &super::interrupt::REQUESTED, |sink| {
                let mut sink = StopOn { inner: sink, stop: &super::interrupt::REQUESTED };
                ingest::parse(&mut opened, mapping.as_ref(), &mut sink, &progress)
            })?;
            progress.finish();
            let shown = if rejects.is_empty() { None } else { Some(rejects_text.clone()) };
            let first_reject = rejects.first().map(describe_reject);
            if !rejects.is_empty() {
                if opts.rejects.is_none() {
                    rejects::write(&rejects_path, &[(display.clone(), rejects)])?;
                } else {
                    all_rejects.push((display.clone(), rejects));
                }
            }
            if counts.nothing_usable {
                return Err(user(format!(
                    "{display}: every row was rejected ({rows}; the first: {first}), so nothing was imported \
                     and the file is not recorded as imported; read as {kind}: if that is not what it is, pass the \
                     right --source (or fix the mapping); the rows are in {rejects_text}",
                    rows = output::count(counts.rows_rejected, "row", "rows"),
                    first = first_reject.unwrap_or_default(),
                    kind = meta.kind,
                )));
            }
            Ok(FileReport {
                file: display.clone(),
                kind: meta.kind,
                outcome: if opts.dry_run { Outcome::DryRun } else { Outcome::Imported },
                counts,
                rejects_path: shown,
                seconds: started.elapsed().as_secs_f64(),
            })
        })();
        if super::interrupt::requested() {
            let committed = matches!(&result, Ok(r) if r.outcome == Outcome::Imported);
            let before = reports.iter().filter(|r| r.outcome == Outcome::Imported).count();
            let earlier = if before > 0 {
                format!(" ({} before it stay imported)", output::count(before as u64, "file", "files"))
            } else {
                String::new()
            };
            let msg = if committed {
                format!("the import of {display} had finished and was kept; nothing after it was imported")
            } else {
                format!("the import of {display} was rolled back; nothing was changed{earlier}")
            };
            return Err(anyhow::Error::new(Interrupted(msg)));
        }
        match result {
            Ok(r) => reports.push(r),
            Err(e) => reports.push(FileReport {
                file: display.clone(),
                kind: String::new(),
                outcome: Outcome::Failed(format!("{e:#}")),
                counts: Default::default(),
                rejects_path: None,
                seconds: started.elapsed().as_secs_f64(),
            }),
        }
    }
    if let Some(path) = &opts.rejects
        && !all_rejects.is_empty()
    {
        rejects::write(path, &all_rejects)?;
    }
    Ok(reports)
}

fn describe_reject(r: &Reject) -> String {
    match &r.column {
        Some(c) => format!("line {}, column `{c}`: {}", r.line, r.reason),
        None => format!("line {}: {}", r.line, r.reason),
    }
}

/// The exit code of an import (README, "Exit codes"): 2 when a file failed and none was
/// imported (nothing changed), 1 when some files failed or rows were rejected, else 0.
pub fn exit_for(reports: &[FileReport]) -> Exit {
    let failed = reports.iter().any(|r| matches!(r.outcome, Outcome::Failed(_)));
    let imported = reports.iter().any(|r| matches!(r.outcome, Outcome::Imported | Outcome::DryRun));
    let rejected =
        reports.iter().any(|r| matches!(r.outcome, Outcome::Imported | Outcome::DryRun) && r.counts.rows_rejected > 0);
    match (failed, imported, rejected) {
        (true, false, _) => Exit::Error,
        (true, true, _) | (false, _, true) => Exit::Condition,
        _ => Exit::Ok,
    }
}

fn infer(file: &Path, encoding: TextEncoding) -> Result<Exit> {
    // A first line of one cell means a whitespace-separated file; a first line of numbers, no header.
    let probe = Table::open(file, TableOptions { encoding, delimiter: Delimiter::Detect, has_header: true })?;
    let names = probe.header.names.clone();
    drop(probe);
    let delimited = names.len() > 1;
    let header = delimited && !names.iter().all(|n| n.trim().parse::<f64>().is_ok());
    let (delimiter, text) = if ingest::workbook::is_workbook(file) {
        (Delimiter::Detect, ",".to_string())
    } else if delimited {
        (Delimiter::Detect, detect_text(file))
    } else {
        (Delimiter::Whitespace, "whitespace".to_string())
    };
    let mut table = Table::open(file, TableOptions { encoding, delimiter, has_header: header })?;
    output::emit(&inference::infer(&mut table, &text, header)?)?;
    Ok(Exit::Ok)
}

fn detect_text(file: &Path) -> String {
    let first =
        std::fs::read(file).ok().and_then(|b| b.split(|c| *c == b'\n').next().map(<[u8]>::to_vec)).unwrap_or_default();
    let count = |c: u8| first.iter().filter(|b| **b == c).count();
    let best = [(b',', ","), (b';', ";"), (b'\t', "\t"), (b'|', "|")]
        .into_iter()
        .max_by_key(|(c, _)| count(*c))
        .map(|(_, s)| s)
        .unwrap_or(",");
    best.to_string()
}

/// While the workspace's time zone is "auto", proposes one from the UTC offsets the imported
/// exports state, writes it into scudo.toml and recomputes the dates in it.
pub fn propose_timezone(ws: &mut Workspace, store: &mut Store, quiet: bool) -> Result<()> {
    if ws.settings.timezone()?.is_some() {
        return Ok(());
    }
    let samples = store.stated_offsets()?;
    let Some((tz, hits)) = crate::store::calendar::guess(&samples) else { return Ok(()) };
    crate::config::write_timezone(&ws.root.join(crate::config::SETTINGS_FILE), tz.name())?;
    ws.settings.workspace.timezone = tz.name().to_string();
    if !quiet {
        let mut offsets: Vec<i32> = samples.iter().map(|(_, m)| *m).collect();
        offsets.sort_unstable();
        offsets.dedup();
        let shown: Vec<String> = offsets
            .iter()
            .take(4)
            .map(|m| format!("{}{:02}:{:02}", if *m < 0 { '−' } else { '+' }, m.abs() / 60, m.abs() % 60))
            .collect();
        eprintln!(
            "note: the orders' local times carry UTC offsets {} ({hits} of {} days fit {}): [workspace] timezone = \"{}\" \
             is now set in scudo.toml, and every date is computed there; change it if the shop keeps another calendar",
            shown.join(", "),
            samples.len(),
            tz.name(),
            tz.name()
        );
    }
    store.set_reporting(ws.settings.reporting()?);
    store.settle()?;
    Ok(())
}

pub fn run(args: &IngestArgs, g: &GlobalArgs) -> Result<Exit> {
    let encoding = encoding_of(args.encoding);
    if let Some(file) = &args.infer {
        return infer(file, encoding);
    }
    super::interrupt::install();
    let (mut ws, mut store) = super::open_workspace(g)?;
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let mapping_sha256 = args.mapping.as_deref().map(ingest::content_hash).transpose()?;
    let kind = if mapping.is_some() { Some(Kind::Csv) } else { kind_of(args.source) };
    let files = ingest::expand_paths(&args.paths)?;
    let portal_tz = ws.settings.portal_timezone()?;
    let read = ReadOptions { kind, mapping, encoding, sheet: args.sheet.clone(), portal_tz };
    let opts = IngestOptions {
        settings: settings_key(&read, mapping_sha256.as_deref()),
        read,
        dry_run: args.dry_run,
        force: args.force,
        rejects: args.rejects.clone(),
        quiet: g.quiet,
    };
    let reports = ingest_files(&ws, &mut store, &files, &opts)?;
    if !args.dry_run {
        propose_timezone(&mut ws, &mut store, g.quiet)?;
    }
    // A running `scudo serve` tells its pages at once (docs/serve.md); the files as --format json shows them.
    if reports.iter().any(|r| matches!(r.outcome, Outcome::Imported)) {
        super::dashboard::keep(&ws.root, &ws.settings, &mut store, g.quiet);
        let files: serde_json::Value = serde_json::from_str(&output::ingest::json(&reports)).unwrap_or_default();
        store.announce(serde_json::json!({"source": "ingest", "what": files["files"]}));
    }
    let failures: Vec<(&str, &str)> = reports
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(e) => Some((r.file.as_str(), e.as_str())),
            _ => None,
        })
        .collect();
    // One file that failed: its error is the whole story.
    if reports.len() == 1
        && let Some((_, e)) = failures.first()
    {
        return Err(user(e.to_string()));
    }
    let text = match args.output.format {
        Format::Table => output::ingest::text(&reports),
        Format::Json => output::ingest::json(&reports),
        Format::Csv => output::ingest::csv(&reports),
    };
    output::emit(&text)?;
    for (_, e) in &failures {
        eprintln!("error: {e}");
    }
    if !failures.is_empty() && !g.quiet {
        let imported = reports.iter().filter(|r| matches!(r.outcome, Outcome::Imported)).count() as u64;
        let done = if imported == 0 {
            "nothing was changed".to_string()
        } else {
            format!("the other {} imported", output::count(imported, "was", "were"))
        };
        eprintln!(
            "{} of {} could not be imported ({done}); fix them and run the same command again: \
             files already imported are recognised and skipped",
            failures.len(),
            output::count(reports.len() as u64, "file", "files")
        );
    }
    Ok(exit_for(&reports))
}
