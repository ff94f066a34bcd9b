//! `scudo ingest PATH...`: import exports, one transaction per file, and print what happened.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::cli::{EncodingArg, Format, GlobalArgs, IngestArgs, SourceArg};
use crate::config::Workspace;
use crate::error::Exit;
use crate::ingest::formats::generic::{self, Mapping};
use crate::ingest::record::Reject;
use crate::ingest::table::{Delimiter, Table, TableOptions, TextEncoding};
use crate::ingest::{self, Kind, Progress, ReadOptions, rejects};
use crate::output::{self, ingest::FileReport, ingest::Outcome};
use crate::store::Store;
use crate::store::load::ImportMeta;

/// How to import.
pub struct IngestOptions {
    pub read: ReadOptions,
    pub dry_run: bool,
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

/// Imports `files` into `store`, each in its own transaction. Stops at the first file that cannot
/// be imported at all (earlier files stay imported, and are reported on stderr).
pub fn ingest_files(
    ws: &Workspace,
    store: &mut Store,
    files: &[PathBuf],
    opts: &IngestOptions,
) -> Result<Vec<FileReport>> {
    let mut reports = Vec::new();
    let mut all_rejects: Vec<(String, Vec<Reject>)> = Vec::new();
    for path in files {
        let started = Instant::now();
        let display = path.display().to_string();
        let result = (|| -> Result<FileReport> {
            let sha256 = ingest::content_hash(path)?;
            if !opts.dry_run
                && let Some(prev) = store.previous_import(&sha256)?
            {
                let mut counts = prev.counts.clone();
                counts.customers_unchanged += counts.customers_inserted + counts.customers_updated;
                counts.orders_unchanged += counts.orders_inserted + counts.orders_updated;
                counts.customers_inserted = 0;
                counts.customers_updated = 0;
                counts.orders_inserted = 0;
                counts.orders_updated = 0;
                counts.products_upserted = 0;
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
                dry_run: opts.dry_run,
            };
            let progress = progress_for(&opened.table, &meta.file_name, opts.quiet);
            let mapping = opts.read.mapping.clone();
            let rejects_text = rejects_path.display().to_string();
            let (counts, rejects) = store.import(&meta, Some(&rejects_text), |sink| {
                ingest::parse(&mut opened, mapping.as_ref(), sink, &progress)
            })?;
            progress.finish();
            let shown = if rejects.is_empty() { None } else { Some(rejects_text) };
            if !rejects.is_empty() {
                if opts.rejects.is_none() {
                    rejects::write(&rejects_path, &[(display.clone(), rejects)])?;
                } else {
                    all_rejects.push((display.clone(), rejects));
                }
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
        match result {
            Ok(r) => reports.push(r),
            Err(e) => {
                if !reports.is_empty() && !opts.quiet {
                    eprint!("{}", output::ingest::text(&reports));
                    eprintln!("(the files above were imported; {display} was not)");
                }
                return Err(e);
            }
        }
    }
    if let Some(path) = &opts.rejects
        && !all_rejects.is_empty()
    {
        rejects::write(path, &all_rejects)?;
    }
    Ok(reports)
}

fn infer(file: &Path, encoding: TextEncoding) -> Result<Exit> {
    // A first line of one cell means a whitespace-separated file; a first line of numbers, no header.
    let probe = Table::open(file, TableOptions { encoding, delimiter: Delimiter::Detect, has_header: true })?;
    let names = probe.header.names.clone();
    drop(probe);
    let delimited = names.len() > 1;
    let header = delimited && !names.iter().all(|n| n.trim().parse::<f64>().is_ok());
    let (delimiter, text) = if delimited {
        (Delimiter::Detect, detect_text(file))
    } else {
        (Delimiter::Whitespace, "whitespace".to_string())
    };
    let mut table = Table::open(file, TableOptions { encoding, delimiter, has_header: header })?;
    output::emit(&generic::infer(&mut table, &text, header)?)?;
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
    let (mut ws, mut store) = super::open_workspace(g)?;
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let kind = if mapping.is_some() { Some(Kind::Csv) } else { kind_of(args.source) };
    let files = ingest::expand_paths(&args.paths)?;
    let opts = IngestOptions {
        read: ReadOptions { kind, mapping, encoding },
        dry_run: args.dry_run,
        rejects: args.rejects.clone(),
        quiet: g.quiet,
    };
    let reports = ingest_files(&ws, &mut store, &files, &opts)?;
    if !args.dry_run {
        propose_timezone(&mut ws, &mut store, g.quiet)?;
    }
    let text = match args.output.format {
        Format::Table => output::ingest::text(&reports),
        Format::Json => output::ingest::json(&reports),
        Format::Csv => output::ingest::csv(&reports),
    };
    output::emit(&text)?;
    Ok(Exit::Ok)
}
