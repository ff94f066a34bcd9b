//! Any CSV or whitespace-separated file, described by a mapping file (TOML):
//!
//! ```toml
//! source = "cdnow"          # name of the system the file comes from (keys ids per source)
//! kind = "orders"           # orders | customers
//! delimiter = "whitespace"  # "," ";" "\t" "|" or "whitespace"
//! header = false            # without a header, columns are 1-based positions
//! date_format = "%Y%m%d"    # chrono format; default: ISO dates and timestamps
//! decimal_comma = false
//! currency = "USD"
//! [columns]
//! customer_id = 2
//! date = 3
//! quantity = 4
//! amount = 5
//! ```
//! `scudo ingest --infer FILE` proposes such a file from a header and its values.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::{reject, split_name};
use crate::error::user;
use crate::ingest::Progress;
use crate::ingest::record::{CustomerRecord, Identity, ItemRecord, OrderRecord, OrderStatus, Sink};
use crate::ingest::table::{Delimiter, Header, Row, Table};
use crate::ingest::values::{
    Instant, Money, NumberStyle, norm_email, norm_phone, parse_bool, parse_int, parse_money, parse_timestamp,
    parse_with_format, split_tags, text,
};

/// A column named by header text or by 1-based position.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ColumnRef {
    Position(usize),
    Name(String),
}

/// What a generic file holds.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MappingKind {
    #[default]
    Orders,
    Customers,
}

/// A mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default = "default_source")]
    pub source: String,
    #[serde(default)]
    pub kind: MappingKind,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    #[serde(default = "yes")]
    pub header: bool,
    pub date_format: Option<String>,
    #[serde(default)]
    pub decimal_comma: bool,
    pub currency: Option<String>,
    /// auto | utf-8 | utf-16le | utf-16be | windows-1252 | latin1
    pub encoding: Option<String>,
    pub columns: HashMap<String, ColumnRef>,
}

fn default_source() -> String {
    "csv".to_string()
}
fn default_delimiter() -> String {
    ",".to_string()
}
fn yes() -> bool {
    true
}

/// The canonical fields a mapping can name.
pub const FIELDS: &[&str] = &[
    "customer_id",
    "email",
    "phone",
    "name",
    "first_name",
    "last_name",
    "company",
    "city",
    "region",
    "country",
    "created_at",
    "accepts_marketing",
    "tags",
    "order_id",
    "order_number",
    "date",
    "amount",
    "refunded",
    "currency",
    "status",
    "channel",
    "payment_method",
    "discount",
    "shipping",
    "tax",
    "sku",
    "product",
    "category",
    "quantity",
    "unit_price",
];

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read mapping {}", path.display()))?;
        let m: Mapping = toml::from_str(&text)
            .map_err(|e| user(format!("mapping {}: {}", path.display(), e.to_string().trim_end())))?;
        for key in m.columns.keys() {
            if !FIELDS.contains(&key.as_str()) {
                return Err(user(format!(
                    "mapping {}: unknown field `{key}` in [columns]; known fields: {}",
                    path.display(),
                    FIELDS.join(", ")
                )));
            }
        }
        let needs: &[&str] = match m.kind {
            MappingKind::Orders => &["date", "amount"],
            MappingKind::Customers => &[],
        };
        for need in needs {
            if !m.columns.contains_key(*need) {
                return Err(user(format!(
                    "mapping {}: [columns] needs `{need}` for kind = \"orders\"",
                    path.display()
                )));
            }
        }
        if !["customer_id", "email", "phone"].iter().any(|k| m.columns.contains_key(*k))
            && m.kind == MappingKind::Customers
        {
            return Err(user(format!("mapping {}: [columns] needs customer_id, email or phone", path.display())));
        }
        m.delimiter()?;
        Ok(m)
    }

    /// The delimiter as a table option.
    pub fn delimiter(&self) -> Result<Delimiter> {
        match self.delimiter.as_str() {
            "whitespace" | "space" | " " => Ok(Delimiter::Whitespace),
            "\\t" | "\t" | "tab" => Ok(Delimiter::Char(b'\t')),
            d if d.len() == 1 => Ok(Delimiter::Char(d.as_bytes()[0])),
            d => Err(user(format!("mapping: delimiter `{d}` must be one character or \"whitespace\""))),
        }
    }

    fn resolve(&self, header: &Header, file: &str) -> Result<HashMap<&'static str, usize>> {
        let mut out = HashMap::new();
        for field in FIELDS {
            let Some(col) = self.columns.get(*field) else { continue };
            let idx = match col {
                ColumnRef::Position(0) => {
                    return Err(user(format!("mapping: column positions start at 1 (`{field}` = 0)")));
                }
                ColumnRef::Position(p) => p - 1,
                ColumnRef::Name(n) => header.get(n).ok_or_else(|| {
                    user(format!(
                        "{file}: the mapping names column `{n}` for `{field}`, but the header has: {}",
                        header.names.join(", ")
                    ))
                })?,
            };
            out.insert(*field, idx);
        }
        Ok(out)
    }
}

struct Cols(HashMap<&'static str, usize>);

impl Cols {
    fn get(&self, f: &str) -> Option<usize> {
        self.0.get(f).copied()
    }
}

/// Reads a generic file with its mapping.
pub fn parse(table: &mut Table, mapping: &Mapping, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let cols = Cols(mapping.resolve(&table.header, &table.name())?);
    let style = NumberStyle { decimal_comma: mapping.decimal_comma };
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut rows_read = 0;
    while let Some(row) = table.next_row()? {
        rows_read += 1;
        progress.set(table.position());
        if let Some(max) = cols.0.values().max()
            && row.fields.len() <= *max
        {
            reject(
                sink,
                &row,
                None,
                format!("the row has {} cells; the mapping reads column {}", row.fields.len(), max + 1),
            )?;
            continue;
        }
        let result = match mapping.kind {
            MappingKind::Customers => customer(&cols, &row, mapping).map(|c| c.map(|c| sink.customer(c))),
            MappingKind::Orders => order(&cols, &row, mapping, style, &mut seen).map(|o| Some(sink.order(o))),
        };
        match result {
            Ok(Some(sent)) => sent?,
            Ok(None) => reject(sink, &row, Some("customer_id"), "no customer id, email or phone")?,
            Err((col, why)) => reject(sink, &row, Some(col), why)?,
        }
    }
    Ok(rows_read)
}

type Bad = (&'static str, String);

fn cell<'a>(cols: &Cols, row: &'a Row, f: &str) -> &'a str {
    row.get(cols.get(f))
}

fn when(raw: &str, mapping: &Mapping) -> Result<Option<Instant>, String> {
    match &mapping.date_format {
        Some(f) => parse_with_format(raw, f),
        None => parse_timestamp(raw),
    }
}

fn customer_of(cols: &Cols, row: &Row, source_has_id: bool) -> CustomerRecord {
    let email = text(cell(cols, row, "email"));
    let phone = text(cell(cols, row, "phone"));
    let name = text(cell(cols, row, "name"));
    let (mut first, mut last) = (text(cell(cols, row, "first_name")), text(cell(cols, row, "last_name")));
    if first.is_none() && last.is_none() {
        (first, last) = name.as_deref().map(split_name).unwrap_or((None, None));
    }
    let name = name.or_else(|| match (&first, &last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n.clone()),
        _ => None,
    });
    CustomerRecord {
        identity: Identity {
            source_customer_id: if source_has_id { text(cell(cols, row, "customer_id")) } else { None },
            email: email.as_deref().and_then(norm_email),
            phone: phone.as_deref().and_then(norm_phone),
        },
        email,
        phone,
        first_name: first,
        last_name: last,
        name,
        company: text(cell(cols, row, "company")),
        city: text(cell(cols, row, "city")),
        region: text(cell(cols, row, "region")),
        country: text(cell(cols, row, "country")),
        accepts_marketing: parse_bool(cell(cols, row, "accepts_marketing")),
        tags: split_tags(cell(cols, row, "tags")),
        ..CustomerRecord::default()
    }
}

fn customer(cols: &Cols, row: &Row, mapping: &Mapping) -> Result<Option<CustomerRecord>, Bad> {
    let mut c = customer_of(cols, row, true);
    c.created_at = when(cell(cols, row, "created_at"), mapping).map_err(|e| ("created_at", e))?.map(|t| t.utc);
    Ok(c.identity.is_known().then_some(c))
}

fn order(
    cols: &Cols,
    row: &Row,
    mapping: &Mapping,
    style: NumberStyle,
    seen: &mut HashMap<String, u32>,
) -> Result<OrderRecord, Bad> {
    let money = |f: &'static str| parse_money(cell(cols, row, f), style).map_err(|e| (f, e));
    let at = when(cell(cols, row, "date"), mapping).map_err(|e| ("date", e))?.ok_or(("date", "no date".to_string()))?;
    let total = money("amount")?.ok_or(("amount", "no amount".to_string()))?;
    let refunded = money("refunded")?.unwrap_or(Money::ZERO);
    let customer = customer_of(cols, row, true);
    if !customer.identity.is_known() {
        return Err(("customer_id", "no customer id, email or phone".to_string()));
    }
    // Without an order id, an order is known by who, when and how much, and which occurrence of
    // that it is in the file: stable when a newer export appends rows.
    // That key is the order's id (stable across imports), never shown: its number for people is
    // the day and which order of that customer's day it is (`1998-06-17 #1`).
    let mut shown_number = None;
    let source_order_id = match text(cell(cols, row, "order_id")) {
        Some(id) => id,
        None => {
            let who = customer
                .identity
                .source_customer_id
                .clone()
                .or(customer.identity.email.clone())
                .or(customer.identity.phone.clone())
                .unwrap_or_default();
            let key = format!("{who}|{}|{}", at.utc.format("%Y%m%dT%H%M%S"), total);
            let mut next = |k: String| {
                let n = seen.entry(k).or_insert(0);
                *n += 1;
                *n
            };
            let n = next(key.clone());
            let day = next(format!("{who}|{}", at.utc.date()));
            shown_number = Some(format!("{} #{day}", at.utc.date()));
            format!("{key}|{n}")
        }
    };
    let quantity = parse_int(cell(cols, row, "quantity")).map_err(|e| ("quantity", e))?;
    if let Some(q) = quantity
        && q < 0
    {
        return Err(("quantity", format!("negative quantity {q}")));
    }
    let items = if cols.get("sku").is_some() || cols.get("product").is_some() || cols.get("quantity").is_some() {
        let qty = quantity.unwrap_or(1);
        let unit = match money("unit_price")? {
            Some(u) => u,
            None if qty > 0 => Money::from_cents(total.cents() / qty),
            None => total,
        };
        vec![ItemRecord {
            sku: text(cell(cols, row, "sku")),
            name: text(cell(cols, row, "product")),
            vendor: None,
            category: text(cell(cols, row, "category")),
            quantity: qty,
            unit_price: unit,
            discount: Money::ZERO,
            is_tip: false,
        }]
    } else {
        Vec::new()
    };
    let raw_status = text(cell(cols, row, "status")).map(|s| s.to_lowercase());
    let status = match raw_status.as_deref() {
        None
        | Some("completed" | "complete" | "paid" | "processing" | "succeeded" | "fulfilled" | "won" | "closed won") => {
            if refunded.cents() == 0 {
                OrderStatus::Completed
            } else if refunded >= total {
                OrderStatus::Refunded
            } else {
                OrderStatus::PartiallyRefunded
            }
        }
        Some("refunded") => OrderStatus::Refunded,
        Some("partially_refunded" | "partially refunded") => OrderStatus::PartiallyRefunded,
        Some("cancelled" | "canceled" | "voided" | "lost" | "closed lost") => OrderStatus::Cancelled,
        Some("failed" | "declined") => OrderStatus::Failed,
        Some(_) => OrderStatus::Pending,
    };
    Ok(OrderRecord {
        source_order_id,
        order_number: text(cell(cols, row, "order_number")).or(shown_number),
        customer,
        ordered_at: at.utc,
        utc_offset_minutes: at.offset_minutes,
        currency: text(cell(cols, row, "currency")).or(mapping.currency.clone()).map(|c| c.to_uppercase()),
        subtotal: None,
        discount_total: money("discount")?,
        shipping_total: money("shipping")?,
        tax_total: money("tax")?,
        total,
        refunded_total: refunded,
        status,
        financial_status: raw_status,
        channel: text(cell(cols, row, "channel")),
        payment_method: text(cell(cols, row, "payment_method")),
        discount_codes: None,
        tax_included: None,
        converted: None,
        items,
        line: row.line,
    })
}
