//! Stripe Dashboard exports: payments, customers and invoices. Columns are chosen by the user, so
//! everything is looked up by name and every column but the essentials is optional.

use anyhow::Result;

use super::reject;
use crate::ingest::Progress;
use crate::ingest::record::{Converted, CustomerRecord, Identity, OrderRecord, OrderStatus, Sink};
use crate::ingest::table::{Row, Table};
use crate::ingest::values::{
    Money, NumberStyle, norm_email, norm_phone, parse_bool, parse_int, parse_money, parse_timestamp, text,
};

fn money(row: &Row, col: Option<usize>) -> Result<Option<Money>, String> {
    parse_money(row.get(col), NumberStyle::default())
}

/// A Stripe "Name" or "Description" may be a person, a company, an email, a phone or a username.
fn person_name(raw: &str) -> Option<String> {
    let t = text(raw)?;
    if norm_email(&t).is_some() || norm_phone(&t).is_some() { None } else { Some(t) }
}

/// Reads a payments export (`unified_payments.csv`). Each charge is an order; a successful payment
/// of an invoice is keyed by the invoice id, so importing the invoices export too does not count
/// the revenue twice.
pub fn parse_payments(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let h = &table.header;
    let id = h.get("id");
    let intent = h.get("PaymentIntent ID");
    let created = h.any(&["Created date (UTC)", "Created (UTC)"]);
    let amount = h.get("Amount");
    let refunded = h.get("Amount Refunded");
    let currency = h.get("Currency");
    let converted_amount = h.get("Converted Amount");
    let converted_refunded = h.get("Converted Amount Refunded");
    let converted_currency = h.get("Converted Currency");
    let status = h.get("Status");
    let captured = h.get("Captured");
    let customer_id = h.get("Customer ID");
    let customer_email = h.get("Customer Email");
    let customer_phone = h.get("Customer Phone");
    let customer_desc = h.get("Customer Description");
    let shipping_name = h.get("Shipping Name");
    let card_name = h.get("Card Name");
    let city = h.any(&["Card Address City", "Shipping Address City"]);
    let region = h.any(&["Card Address State", "Shipping Address State"]);
    let country = h.any(&["Card Address Country", "Shipping Address Country"]);
    let invoice = h.get("Invoice ID");
    let source_type = h.any(&["Payment Source Type", "Card Brand"]);
    let description = h.get("Description");
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let raw_status = row.get(status).trim().to_lowercase();
        let Some(charge) = text(row.get(id)).or_else(|| text(row.get(intent))) else {
            reject(
                sink,
                &row,
                Some("id"),
                "no charge id and no PaymentIntent ID: the payment cannot be told apart from others",
            )?;
            continue;
        };
        let when = match parse_timestamp(row.get(created)) {
            Ok(Some(t)) => t,
            Ok(None) => {
                reject(sink, &row, Some("Created date (UTC)"), "no payment date")?;
                continue;
            }
            Err(e) => {
                reject(sink, &row, Some("Created date (UTC)"), e)?;
                continue;
            }
        };
        let total = match money(&row, amount) {
            Ok(Some(m)) => m,
            Ok(None) => {
                reject(sink, &row, Some("Amount"), "no Amount")?;
                continue;
            }
            Err(e) => {
                reject(sink, &row, Some("Amount"), e)?;
                continue;
            }
        };
        let refunded_total = match money(&row, refunded) {
            Ok(m) => m.unwrap_or(Money::ZERO),
            Err(e) => {
                reject(sink, &row, Some("Amount Refunded"), e)?;
                continue;
            }
        };
        // Stripe's own conversion into the account's settlement currency, when the export has it.
        let converted = match (text(row.get(converted_currency)), money(&row, converted_amount)) {
            (Some(cur), Ok(Some(total))) => match money(&row, converted_refunded) {
                Ok(refunded) => {
                    Some(Converted { currency: cur.to_uppercase(), total, refunded: refunded.unwrap_or(Money::ZERO) })
                }
                Err(e) => {
                    reject(sink, &row, Some("Converted Amount Refunded"), e)?;
                    continue;
                }
            },
            (Some(_), Err(e)) => {
                reject(sink, &row, Some("Converted Amount"), e)?;
                continue;
            }
            _ => None,
        };
        let was_captured = parse_bool(row.get(captured));
        let status = match raw_status.as_str() {
            "paid" | "succeeded" if was_captured != Some(false) => {
                if refunded_total.cents() == 0 {
                    OrderStatus::Completed
                } else if refunded_total >= total {
                    OrderStatus::Refunded
                } else {
                    OrderStatus::PartiallyRefunded
                }
            }
            "refunded" => OrderStatus::Refunded,
            "failed" => OrderStatus::Failed,
            "canceled" | "cancelled" => OrderStatus::Cancelled,
            "requires_payment_method" => OrderStatus::Failed,
            _ => OrderStatus::Pending,
        };
        let paid_like =
            matches!(status, OrderStatus::Completed | OrderStatus::Refunded | OrderStatus::PartiallyRefunded);
        let order_id = match text(row.get(invoice)) {
            Some(inv) if paid_like => inv,
            _ => charge,
        };
        let email = text(row.get(customer_email));
        let phone = text(row.get(customer_phone));
        let name = person_name(row.get(shipping_name))
            .or_else(|| person_name(row.get(card_name)))
            .or_else(|| person_name(row.get(customer_desc)));
        let customer = CustomerRecord {
            identity: Identity {
                source_customer_id: text(row.get(customer_id)),
                email: email.as_deref().and_then(norm_email),
                phone: phone.as_deref().and_then(norm_phone),
            },
            email,
            phone,
            name,
            city: text(row.get(city)),
            region: text(row.get(region)),
            country: text(row.get(country)),
            ..CustomerRecord::default()
        };
        sink.order(OrderRecord {
            source_order_id: order_id,
            order_number: text(row.get(description)),
            customer,
            ordered_at: when.utc,
            // UTC timestamps: they say nothing about the shop's own offset.
            utc_offset_minutes: None,
            currency: text(row.get(currency)).map(|c| c.to_uppercase()),
            subtotal: None,
            discount_total: None,
            shipping_total: None,
            tax_total: None,
            total,
            refunded_total,
            status,
            financial_status: Some(raw_status),
            channel: Some("stripe".to_string()),
            payment_method: text(row.get(source_type)),
            discount_codes: None,
            tax_included: None,
            converted,
            items: Vec::new(),
            line: row.line,
        })?;
    }
    Ok(rows_read)
}

/// Reads a customers export (`unified_customers.csv`). Guests have no `id` and are known by email.
pub fn parse_customers(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let h = &table.header;
    let id = h.get("id");
    let email = h.get("Email");
    let name = h.get("Name");
    let description = h.get("Description");
    let created = h.any(&["Created (UTC)", "Created date (UTC)"]);
    let city = h.get("Card Address City");
    let region = h.get("Card Address State");
    let country = h.get("Card Address Country");
    let spend = h.get("Total Spend");
    let count = h.get("Payment Count");
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let created_at = match parse_timestamp(row.get(created)) {
            Ok(t) => t.map(|t| t.utc),
            Err(e) => {
                reject(sink, &row, Some("Created (UTC)"), e)?;
                continue;
            }
        };
        let reported_total_spent = match money(&row, spend) {
            Ok(v) => v,
            Err(e) => {
                reject(sink, &row, Some("Total Spend"), e)?;
                continue;
            }
        };
        let reported_orders_count = match parse_int(row.get(count)) {
            Ok(v) => v,
            Err(e) => {
                reject(sink, &row, Some("Payment Count"), e)?;
                continue;
            }
        };
        let email_text = text(row.get(email));
        let raw_name = row.get(name);
        // A phone number in the Name column still identifies the customer.
        let phone_text = text(raw_name).filter(|n| norm_phone(n).is_some());
        let identity = Identity {
            source_customer_id: text(row.get(id)),
            email: email_text.as_deref().and_then(norm_email),
            phone: phone_text.as_deref().and_then(norm_phone),
        };
        if !identity.is_known() {
            reject(sink, &row, Some("id"), "no id, email or phone: nothing identifies this customer")?;
            continue;
        }
        sink.customer(CustomerRecord {
            identity,
            email: email_text,
            phone: phone_text,
            name: person_name(raw_name).or_else(|| person_name(row.get(description))),
            city: text(row.get(city)),
            region: text(row.get(region)),
            country: text(row.get(country)),
            created_at,
            reported_total_spent,
            reported_orders_count,
            ..CustomerRecord::default()
        })?;
    }
    Ok(rows_read)
}

/// Reads an invoices export. Paid invoices are revenue; drafts and open invoices are pending.
pub fn parse_invoices(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let h = &table.header;
    let id = h.get("id");
    let customer = h.get("Customer");
    let date = h.any(&["Date (UTC)", "Created (UTC)"]);
    let currency = h.get("Currency");
    let total_col = h.get("Total");
    let subtotal_col = h.get("Subtotal");
    let discount_col = h.get("Total Discount Amount");
    let tax_col = h.get("Tax");
    let status_col = h.get("Status");
    let number = h.get("Number");
    let coupons = h.get("Applied Coupons");
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let Some(invoice_id) = text(row.get(id)) else {
            reject(sink, &row, Some("id"), "no invoice id")?;
            continue;
        };
        let when = match parse_timestamp(row.get(date)) {
            Ok(Some(t)) => t,
            Ok(None) => {
                reject(sink, &row, Some("Date (UTC)"), "no invoice date")?;
                continue;
            }
            Err(e) => {
                reject(sink, &row, Some("Date (UTC)"), e)?;
                continue;
            }
        };
        let amounts =
            (money(&row, total_col), money(&row, subtotal_col), money(&row, discount_col), money(&row, tax_col));
        let (total, subtotal, discount, tax) = match amounts {
            (Ok(Some(t)), Ok(s), Ok(d), Ok(x)) => (t, s, d, x),
            (Ok(None), ..) => {
                reject(sink, &row, Some("Total"), "no Total")?;
                continue;
            }
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (_, _, _, Err(e)) => {
                reject(sink, &row, Some("Total"), e)?;
                continue;
            }
        };
        let raw_status = row.get(status_col).trim().to_lowercase();
        let status = match raw_status.as_str() {
            "paid" => OrderStatus::Completed,
            "void" => OrderStatus::Cancelled,
            "uncollectible" => OrderStatus::Failed,
            _ => OrderStatus::Pending,
        };
        sink.order(OrderRecord {
            source_order_id: invoice_id,
            order_number: text(row.get(number)),
            customer: CustomerRecord {
                identity: Identity { source_customer_id: text(row.get(customer)), email: None, phone: None },
                ..CustomerRecord::default()
            },
            ordered_at: when.utc,
            // UTC timestamps: they say nothing about the shop's own offset.
            utc_offset_minutes: None,
            currency: text(row.get(currency)).map(|c| c.to_uppercase()),
            subtotal,
            discount_total: discount,
            shipping_total: None,
            tax_total: tax,
            total,
            refunded_total: Money::ZERO,
            status,
            financial_status: Some(raw_status),
            channel: Some("stripe".to_string()),
            payment_method: None,
            discount_codes: text(row.get(coupons)),
            tax_included: None,
            converted: None,
            items: Vec::new(),
            line: row.line,
        })?;
    }
    Ok(rows_read)
}
