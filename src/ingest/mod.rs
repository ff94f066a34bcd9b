//! Stage 3: reading exports into canonical records.
//!
//! A file is opened as a [`table::Table`] (decompression, encoding, delimiter), its kind is
//! detected from the header ([`detect`]), and the kind's parser in [`formats`] sends customers,
//! orders, products and rejected rows to a [`record::Sink`]. Nothing here touches the database.

pub mod detect;
pub mod formats;
pub mod rates;
pub mod record;
pub mod rejects;
pub mod table;
pub mod values;
pub mod workbook;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::error::user;
use formats::generic::Mapping;
use record::Sink;
use table::{Delimiter, Table, TableOptions, TextEncoding};

/// The kinds of export scudo reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ShopifyOrders,
    ShopifyCustomers,
    ShopifyProducts,
    StripePayments,
    StripeCustomers,
    StripeInvoices,
    StripeSubscriptions,
    HubspotContacts,
    HubspotDeals,
    SalesforceReport,
    Csv,
}

impl Kind {
    /// The name used on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ShopifyOrders => "shopify-orders",
            Kind::ShopifyCustomers => "shopify-customers",
            Kind::ShopifyProducts => "shopify-products",
            Kind::StripePayments => "stripe-payments",
            Kind::StripeCustomers => "stripe-customers",
            Kind::StripeInvoices => "stripe-invoices",
            Kind::StripeSubscriptions => "stripe-subscriptions",
            Kind::HubspotContacts => "hubspot-contacts",
            Kind::HubspotDeals => "hubspot-deals",
            Kind::SalesforceReport => "salesforce-report",
            Kind::Csv => "csv",
        }
    }

    /// The system whose ids the records carry (ids are unique per source).
    pub fn source(self) -> &'static str {
        match self {
            Kind::ShopifyOrders | Kind::ShopifyCustomers | Kind::ShopifyProducts => "shopify",
            Kind::StripePayments | Kind::StripeCustomers | Kind::StripeInvoices | Kind::StripeSubscriptions => "stripe",
            Kind::HubspotContacts | Kind::HubspotDeals => "hubspot",
            Kind::SalesforceReport => "salesforce",
            Kind::Csv => "csv",
        }
    }
}

/// Progress of a long read: rows and rows per second on the caller's bar (or nowhere).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    rows: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
}

impl Progress {
    pub fn hidden() -> Progress {
        Progress { bar: None, rows: std::sync::atomic::AtomicU64::new(0), started: std::time::Instant::now() }
    }

    /// Reports through `bar`, whose length is the file size in bytes.
    pub fn new(bar: indicatif::ProgressBar) -> Progress {
        Progress { bar: Some(bar), ..Progress::hidden() }
    }

    /// One more row read; `pos` is the bytes read so far.
    pub fn set(&self, pos: u64) {
        let rows = self.rows.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar
            && rows.is_multiple_of(4096)
        {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            b.set_position(pos);
            b.set_message(format!("{rows} rows, {:.0} rows/s", rows as f64 / secs));
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// How to read one file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// `None` detects the kind from the header.
    pub kind: Option<Kind>,
    pub mapping: Option<Mapping>,
    pub encoding: TextEncoding,
    /// The worksheet of an Excel workbook (default: the first).
    pub sheet: Option<String>,
    /// The time zone HubSpot and Salesforce write their naive timestamps in (`[sources] timezone`);
    /// `None`: taken as UTC.
    pub portal_tz: Option<chrono_tz::Tz>,
}

/// An opened file whose kind is known, ready to be parsed.
pub struct Opened {
    pub table: Table,
    pub kind: Kind,
    pub source: String,
    /// See [`ReadOptions::portal_tz`].
    pub portal_tz: Option<chrono_tz::Tz>,
}

/// Opens `path` and settles its kind.
pub fn open(path: &Path, opts: &ReadOptions) -> Result<Opened> {
    if let Some(mapping) = &opts.mapping {
        let encoding = match mapping.encoding.as_deref() {
            None | Some("auto") => opts.encoding,
            Some(name) => TextEncoding::Fixed(
                encoding_rs::Encoding::for_label(name.as_bytes())
                    .ok_or_else(|| user(format!("mapping: unknown encoding `{name}`")))?,
            ),
        };
        let table = Table::open_sheet(
            path,
            TableOptions { encoding, delimiter: mapping.delimiter()?, has_header: mapping.header },
            opts.sheet.as_deref(),
        )?;
        return Ok(Opened { table, kind: Kind::Csv, source: mapping.source.clone(), portal_tz: opts.portal_tz });
    }
    let table = Table::open_sheet(
        path,
        TableOptions { encoding: opts.encoding, delimiter: Delimiter::Detect, has_header: true },
        opts.sheet.as_deref(),
    )?;
    let kind = match opts.kind {
        Some(Kind::Csv) => {
            return Err(user(format!(
                "{}: --source csv needs a mapping file (--mapping FILE); `scudo ingest --infer {}` proposes one",
                path.display(),
                path.display()
            )));
        }
        Some(k) => k,
        None => detect::detect(&table.header).map_err(|m| user(m.explain(&path.display().to_string())))?,
    };
    Ok(Opened { table, kind, source: kind.source().to_string(), portal_tz: opts.portal_tz })
}

/// Parses an opened file into `sink`; returns the number of records read.
pub fn parse(opened: &mut Opened, mapping: Option<&Mapping>, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let (t, tz) = (&mut opened.table, opened.portal_tz);
    match opened.kind {
        Kind::ShopifyOrders => formats::shopify::parse_orders(t, sink, progress),
        Kind::ShopifyCustomers => formats::shopify::parse_customers(t, sink, progress),
        Kind::ShopifyProducts => formats::shopify::parse_products(t, sink, progress),
        Kind::StripePayments => formats::stripe::parse_payments(t, sink, progress),
        Kind::StripeCustomers => formats::stripe::parse_customers(t, sink, progress),
        Kind::StripeInvoices => formats::stripe::parse_invoices(t, sink, progress),
        Kind::StripeSubscriptions => formats::stripe_subscriptions::parse_subscriptions(t, sink, progress),
        Kind::HubspotContacts => formats::hubspot::parse_contacts(t, sink, progress, tz),
        Kind::HubspotDeals => formats::hubspot::parse_deals(t, sink, progress, tz),
        Kind::SalesforceReport => formats::salesforce::parse(t, sink, progress, tz),
        Kind::Csv => {
            let mapping = mapping.ok_or_else(|| user("generic CSV needs a mapping file (--mapping FILE)"))?;
            formats::generic::parse(t, mapping, sink, progress)
        }
    }
}

/// SHA-256 of the file's bytes, hex: how a re-import of the same file is recognised.
pub fn content_hash(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// File names inside directories that are taken as exports.
fn is_export_name(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let text = [".csv", ".tsv", ".txt"].iter().any(|ext| name.ends_with(ext)) && !name.ends_with(".rejects.csv");
    // Excel keeps a `~$name.xlsx` lock file beside an open workbook.
    text || (workbook::is_workbook(p) && !name.starts_with("~$"))
}

/// Expands files, directories (their exports, sorted) and glob patterns into files.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot list {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_export_name(p))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(user(format!(
                    "{}: no .csv, .tsv or .txt files (optionally .gz) and no .xlsx workbooks in this directory",
                    p.display()
                )));
            }
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            let pattern = p.to_string_lossy();
            let looks_glob = pattern.contains(['*', '?', '[']);
            let mut found: Vec<PathBuf> = if looks_glob {
                glob::glob(&pattern)
                    .map_err(|e| user(format!("`{pattern}` is not a valid pattern: {e}")))?
                    .filter_map(Result::ok)
                    .filter(|p| p.is_file())
                    .collect()
            } else {
                Vec::new()
            };
            if found.is_empty() {
                return Err(user(format!(
                    "{}: no such file{}",
                    p.display(),
                    if looks_glob { " matches this pattern" } else { "" }
                )));
            }
            found.sort();
            out.extend(found);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod proptests {
    //! No input may make scudo panic: random bytes, and random cells under every real header.
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    const KINDS: &[(Kind, &str)] = &[
        (
            Kind::ShopifyOrders,
            "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem discount,Cancelled at,Refunded Amount,Id,Phone",
        ),
        (
            Kind::ShopifyCustomers,
            "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Phone,Total Spent,Total Orders,Tags",
        ),
        (Kind::ShopifyProducts, "Handle,Title,Type,Product Category,Variant SKU"),
        (
            Kind::StripePayments,
            "id,Created date (UTC),Amount,Amount Refunded,Currency,Status,Captured,Customer ID,Customer Email,Invoice ID",
        ),
        (Kind::StripeCustomers, "id,Email,Name,Created (UTC),Total Spend,Payment Count"),
        (Kind::StripeInvoices, "id,Amount Due,Customer,Date (UTC),Total,Subtotal,Status"),
        (
            Kind::StripeSubscriptions,
            "id,Customer ID,Customer Email,Status,Quantity,Interval,Amount,Start Date (UTC),Trial End (UTC),Ended At (UTC)",
        ),
        (Kind::HubspotContacts, "Record ID,First Name,Last Name,Email,Phone Number,Create Date"),
        (Kind::HubspotDeals, "Record ID,Deal Name,Deal Stage,Close Date,Amount,Associated Contact IDs"),
        (Kind::SalesforceReport, "Opportunity Name,Account Name,Amount,Close Date,Stage,Won"),
    ];

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "-?[0-9]{1,20}(\\.[0-9]{0,4})?",
            "20[0-9]{2}-[01][0-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9](:[0-5][0-9])?( [+-][01][0-9]00)?)?",
            "[a-z.+]{1,8}@[a-z]{1,6}\\.com",
            "\\PC{0,12}",
            Just("\"quoted, with \"\"quotes\"\"\nand a newline\"".to_string()),
            Just("paid".to_string()),
            Just("Paid".to_string()),
            Just("month".to_string()),
            Just("year".to_string()),
            Just("trialing".to_string()),
            Just("'+44 7700 900123".to_string()),
        ]
    }

    /// Parses `bytes` as `kind`; returns how many orders and customers came out (errors are fine,
    /// panics are not).
    fn parse_file(kind: Kind, bytes: &[u8]) -> usize {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        let opts = ReadOptions {
            kind: Some(kind),
            mapping: None,
            encoding: table::TextEncoding::Auto,
            sheet: None,
            portal_tz: None,
        };
        let Ok(mut opened) = open(f.path(), &opts) else { return 0 };
        let mut sink = record::Collected::default();
        if parse(&mut opened, None, &mut sink, &Progress::hidden()).is_err() {
            return 0;
        }
        for o in &sink.orders {
            let _ = o.check();
            let _ = o.net_total();
        }
        sink.orders.len() + sink.customers.len() + sink.products.len() + sink.subscriptions.len()
    }

    #[test]
    fn the_harness_reaches_the_parsers() {
        // A well-formed row under each header produces records, so the random cases below
        // exercise the parsers rather than failing at the door.
        let rows = [
            "#1,a@b.com,paid,USD,10.00,0.00,0.00,10.00,0.00,2024-01-01 10:00:00 -0500,1,Mug,10.00,0.00,,0.00,1,",
            "1,A,B,a@b.com,yes,,0.00,0,",
            "mug,Mug,Home,,MUG-1",
            "ch_1,2024-01-01 10:00:00,5.00,0.00,usd,Paid,true,cus_1,a@b.com,",
            "cus_1,a@b.com,Ann,2024-01-01 10:00,5.00,1",
            "in_1,5.00,cus_1,2024-01-01 10:00,5.00,5.00,paid",
            "sub_1,cus_1,a@b.com,active,1,month,5.00,2024-01-01 10:00,,",
            "1,Ann,B,a@b.com,,2024-01-01 10:00",
            "1,Deal,Closed won,2024-01-01 10:00,5.0,7",
            "Deal,Acme,5.00,1/2/2024,Closed Won,1",
        ];
        for ((kind, header), row) in KINDS.iter().zip(rows) {
            assert_eq!(parse_file(*kind, format!("{header}\n{row}\n").as_bytes()), 1, "{kind:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            for (kind, _) in KINDS {
                parse_file(*kind, &bytes);
            }
            let mut f = tempfile::NamedTempFile::new().unwrap();
            f.write_all(&bytes).unwrap();
            if let Ok(t) = table::Table::open(f.path(), table::TableOptions::default()) {
                let _ = detect::detect(&t.header);
            }
        }

        #[test]
        fn random_cells_under_real_headers_never_panic(
            which in 0..KINDS.len(),
            rows in proptest::collection::vec(proptest::collection::vec(cell(), 1..20), 0..8),
        ) {
            let (kind, header) = KINDS[which];
            let width = header.split(',').count();
            let mut text = format!("{header}\n");
            for row in rows {
                let cells: Vec<String> = (0..width).map(|i| row.get(i % row.len()).cloned().unwrap_or_default()).map(|c| {
                    if c.starts_with('"') { c } else { format!("\"{}\"", c.replace('"', "\"\"")) }
                }).collect();
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            parse_file(kind, text.as_bytes());
        }
    }
}
