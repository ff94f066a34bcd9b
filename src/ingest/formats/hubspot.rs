//! HubSpot CRM exports: contacts and deals. Headers are property labels in the portal's language,
//! or internal property names (`email`, `firstname`, …) which are looked up first when present.
//! Timestamps are naive portal-local time: read in `[sources] timezone` when set, else as UTC.

use anyhow::Result;

use super::reject;
use crate::ingest::Progress;
use crate::ingest::record::{CustomerRecord, Identity, OrderRecord, OrderStatus, Sink};
use crate::ingest::table::Table;
use crate::ingest::values::{
    Money, NumberStyle, in_zone, norm_email, norm_phone, parse_bool, parse_money, parse_timestamp, text,
};

/// Reads a contacts export (view or all properties).
pub fn parse_contacts(
    table: &mut Table,
    sink: &mut dyn Sink,
    progress: &Progress,
    tz: Option<chrono_tz::Tz>,
) -> Result<u64> {
    let h = &table.header;
    let id = h.any(&["hs_object_id", "Record ID", "Contact ID"]);
    let first = h.any(&["firstname", "First Name"]);
    let last = h.any(&["lastname", "Last Name"]);
    let email = h.any(&["email", "Email"]);
    let phone = h.any(&["phone", "Phone Number"]);
    let mobile = h.any(&["mobilephone", "Mobile Phone Number"]);
    let company = h.any(&["company", "Company Name", "Associated Company"]);
    let city = h.any(&["city", "City"]);
    let region = h.any(&["state", "State/Region"]);
    let country = h.any(&["country", "Country/Region"]);
    let created = h.any(&["createdate", "Create Date"]);
    let lifecycle = h.any(&["lifecyclestage", "Lifecycle Stage"]);
    let optout = h.any(&["hs_email_optout", "Unsubscribed from all email"]);
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let created_at = match parse_timestamp(row.get(created)) {
            Ok(t) => t.map(|t| in_zone(t, tz).utc),
            Err(e) => {
                reject(sink, &row, Some("Create Date"), e)?;
                continue;
            }
        };
        let email_text = text(row.get(email));
        let phone_text = text(row.get(phone)).or_else(|| text(row.get(mobile)));
        let identity = Identity {
            source_customer_id: text(row.get(id)),
            email: email_text.as_deref().and_then(norm_email),
            phone: phone_text.as_deref().and_then(norm_phone),
        };
        if !identity.is_known() {
            reject(sink, &row, Some("Record ID"), "no Record ID, email or phone: nothing identifies this contact")?;
            continue;
        }
        let first_name = text(row.get(first));
        let last_name = text(row.get(last));
        let name = match (&first_name, &last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            _ => None,
        };
        sink.customer(CustomerRecord {
            identity,
            email: email_text,
            phone: phone_text,
            first_name,
            last_name,
            name,
            company: text(row.get(company)),
            city: text(row.get(city)),
            region: text(row.get(region)),
            country: text(row.get(country)),
            created_at,
            accepts_marketing: parse_bool(row.get(optout)).map(|out| !out),
            lifecycle: text(row.get(lifecycle)),
            ..CustomerRecord::default()
        })?;
    }
    Ok(rows_read)
}

/// Reads a deals export. Won deals are completed orders, lost deals cancelled, open deals pending;
/// the customer is the first associated contact (else company).
pub fn parse_deals(
    table: &mut Table,
    sink: &mut dyn Sink,
    progress: &Progress,
    tz: Option<chrono_tz::Tz>,
) -> Result<u64> {
    let h = &table.header;
    let id = h.any(&["hs_object_id", "Record ID", "Deal ID"]);
    let name = h.any(&["dealname", "Deal Name"]);
    let stage = h.any(&["dealstage", "Deal Stage"]);
    let won = h.any(&["hs_is_closed_won", "Is Closed Won"]);
    let close = h.any(&["closedate", "Close Date"]);
    let created = h.any(&["createdate", "Create Date"]);
    let amount = h.any(&["amount", "Amount"]);
    let currency = h.any(&["deal_currency_code", "Currency"]);
    let pipeline = h.any(&["pipeline", "Pipeline"]);
    let contacts = h.any(&["Associated Contact IDs", "associatedcontactids"]);
    let companies = h.any(&["Associated Company IDs", "associatedcompanyids"]);
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let Some(deal_id) = text(row.get(id)) else {
            reject(sink, &row, Some("Record ID"), "no Record ID")?;
            continue;
        };
        let first_id = |col| text(row.get(col)).and_then(|s| s.split([';', ',']).find_map(text));
        let customer_id = first_id(contacts).or_else(|| first_id(companies).map(|c| format!("company-{c}")));
        let Some(customer_id) = customer_id else {
            reject(sink, &row, Some("Associated Contact IDs"), "the deal has no associated contact or company")?;
            continue;
        };
        let when = match parse_timestamp(row.get(close)).and_then(|c| match c {
            Some(t) => Ok(Some(t)),
            None => parse_timestamp(row.get(created)),
        }) {
            Ok(Some(t)) => in_zone(t, tz),
            Ok(None) => {
                reject(sink, &row, Some("Close Date"), "no Close Date or Create Date")?;
                continue;
            }
            Err(e) => {
                reject(sink, &row, Some("Close Date"), e)?;
                continue;
            }
        };
        let total = match parse_money(row.get(amount), NumberStyle::default()) {
            Ok(m) => m.unwrap_or(Money::ZERO),
            Err(e) => {
                reject(sink, &row, Some("Amount"), e)?;
                continue;
            }
        };
        let stage_text = text(row.get(stage)).unwrap_or_default();
        let lower = stage_text.to_lowercase();
        let status = match parse_bool(row.get(won)) {
            Some(true) => OrderStatus::Completed,
            _ if lower.contains("won") || lower == "closedwon" => OrderStatus::Completed,
            _ if lower.contains("lost") => OrderStatus::Cancelled,
            _ => OrderStatus::Pending,
        };
        sink.order(OrderRecord {
            source_order_id: deal_id,
            order_number: text(row.get(name)),
            customer: CustomerRecord {
                identity: Identity { source_customer_id: Some(customer_id), email: None, phone: None },
                ..CustomerRecord::default()
            },
            ordered_at: when.utc,
            utc_offset_minutes: when.offset_minutes,
            currency: text(row.get(currency)).map(|c| c.to_uppercase()),
            subtotal: None,
            discount_total: None,
            shipping_total: None,
            tax_total: None,
            total,
            refunded_total: Money::ZERO,
            status,
            financial_status: Some(stage_text),
            channel: text(row.get(pipeline)),
            payment_method: None,
            discount_codes: None,
            tax_included: None,
            converted: None,
            items: Vec::new(),
            line: row.line,
        })?;
    }
    Ok(rows_read)
}
