//! Shopify exports: orders (one row per line item), customers (three header generations) and
//! products (for item categories). See docs/formats.md for the quirks handled here.

use anyhow::Result;

use super::{reject, split_name};
use crate::ingest::Progress;
use crate::ingest::record::{CustomerRecord, Identity, ItemRecord, OrderRecord, OrderStatus, ProductRecord, Sink};
use crate::ingest::table::{Header, Row, Table};
use crate::ingest::values::{
    Money, NumberStyle, norm_email, norm_phone, parse_bool, parse_int, parse_money, parse_timestamp, split_tags, text,
};

/// Columns every Shopify orders export has.
pub const ORDER_CORE: &[&str] = &[
    "Name",
    "Email",
    "Financial Status",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Amount",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
];

struct OrderCols {
    name: Option<usize>,
    id: Option<usize>,
    email: Option<usize>,
    financial: Option<usize>,
    accepts: Option<usize>,
    currency: Option<usize>,
    subtotal: Option<usize>,
    shipping: Option<usize>,
    taxes: Option<usize>,
    duties: Option<usize>,
    total: Option<usize>,
    discount_code: Option<usize>,
    discount_amount: Option<usize>,
    created: Option<usize>,
    cancelled: Option<usize>,
    refunded: Option<usize>,
    qty: Option<usize>,
    item_name: Option<usize>,
    item_price: Option<usize>,
    item_sku: Option<usize>,
    item_ship: Option<usize>,
    item_discount: Option<usize>,
    vendor: Option<usize>,
    source: Option<usize>,
    payment: Option<usize>,
    phone: Option<usize>,
    billing_phone: Option<usize>,
    shipping_phone: Option<usize>,
    billing_name: Option<usize>,
    shipping_name: Option<usize>,
    billing_company: Option<usize>,
    billing_city: Option<usize>,
    shipping_city: Option<usize>,
    billing_province: Option<usize>,
    shipping_province: Option<usize>,
    billing_country: Option<usize>,
    shipping_country: Option<usize>,
}

impl OrderCols {
    fn new(h: &Header) -> OrderCols {
        OrderCols {
            name: h.get("Name"),
            id: h.get("Id"),
            email: h.get("Email"),
            financial: h.get("Financial Status"),
            accepts: h.get("Accepts Marketing"),
            currency: h.get("Currency"),
            subtotal: h.get("Subtotal"),
            shipping: h.get("Shipping"),
            taxes: h.get("Taxes"),
            duties: h.get("Duties"),
            total: h.get("Total"),
            discount_code: h.get("Discount Code"),
            discount_amount: h.get("Discount Amount"),
            created: h.get("Created at"),
            cancelled: h.get("Cancelled at"),
            refunded: h.get("Refunded Amount"),
            qty: h.get("Lineitem quantity"),
            item_name: h.get("Lineitem name"),
            item_price: h.get("Lineitem price"),
            item_sku: h.get("Lineitem sku"),
            item_ship: h.get("Lineitem requires shipping"),
            item_discount: h.get("Lineitem discount"),
            vendor: h.get("Vendor"),
            source: h.get("Source"),
            payment: h.get("Payment Method"),
            phone: h.get("Phone"),
            billing_phone: h.get("Billing Phone"),
            shipping_phone: h.get("Shipping Phone"),
            billing_name: h.get("Billing Name"),
            shipping_name: h.get("Shipping Name"),
            billing_company: h.get("Billing Company"),
            billing_city: h.get("Billing City"),
            shipping_city: h.get("Shipping City"),
            billing_province: h.get("Billing Province"),
            shipping_province: h.get("Shipping Province"),
            billing_country: h.get("Billing Country"),
            shipping_country: h.get("Shipping Country"),
        }
    }
}

/// A reason an order cannot be used, with the column at fault.
struct Bad(&'static str, String);

fn money(row: &Row, col: Option<usize>, name: &'static str) -> Result<Option<Money>, Bad> {
    parse_money(row.get(col), NumberStyle::default()).map_err(|e| Bad(name, e))
}

fn first_text(rows: &[Row], col: Option<usize>) -> Option<String> {
    rows.iter().find_map(|r| text(r.get(col)))
}

/// Reads a Shopify orders export: rows of one order are contiguous and share `Name`; order-level
/// fields are on the first row.
pub fn parse_orders(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let c = OrderCols::new(&table.header);
    let mut rows_read = 0u64;
    let mut group: Vec<Row> = Vec::new();
    let mut group_name = String::new();
    loop {
        let next = table.next_full_row()?;
        let next = match next {
            Some(row) => {
                rows_read += 1;
                progress.set(table.position());
                let name = row.get(c.name).trim();
                if name.is_empty() {
                    reject(
                        sink,
                        &row,
                        Some("Name"),
                        "no order Name: cannot tell which order this line item belongs to",
                    )?;
                    continue;
                }
                if name == group_name {
                    group.push(row);
                    continue;
                }
                Some(row)
            }
            None => None,
        };
        if !group.is_empty() {
            let rows = std::mem::take(&mut group);
            match build_order(&c, &rows) {
                Ok(order) => sink.order(order)?,
                Err(Bad(col, why)) => {
                    for row in &rows {
                        reject(sink, row, Some(col), format!("order {group_name}: {why}"))?;
                    }
                }
            }
        }
        match next {
            Some(row) => {
                group_name = row.get(c.name).trim().to_string();
                group.push(row);
            }
            None => break,
        }
    }
    Ok(rows_read)
}

fn build_order(c: &OrderCols, rows: &[Row]) -> Result<OrderRecord, Bad> {
    let first = &rows[0];
    let name = first.get(c.name).trim().to_string();
    let created = parse_timestamp(first.get(c.created))
        .map_err(|e| Bad("Created at", e))?
        .ok_or_else(|| Bad("Created at", "no order date".to_string()))?;
    let total =
        money(first, c.total, "Total")?.ok_or_else(|| Bad("Total", "no Total on the order's first row".to_string()))?;
    let subtotal = money(first, c.subtotal, "Subtotal")?;
    let shipping = money(first, c.shipping, "Shipping")?;
    let taxes = money(first, c.taxes, "Taxes")?;
    let duties = money(first, c.duties, "Duties")?;
    let discount = money(first, c.discount_amount, "Discount Amount")?;
    let refunded = money(first, c.refunded, "Refunded Amount")?.unwrap_or(Money::ZERO);
    let financial = text(first.get(c.financial)).map(|s| s.to_lowercase());
    let cancelled = !first.get(c.cancelled).trim().is_empty();

    let mut items = Vec::new();
    for row in rows {
        let Some(item_name) = text(row.get(c.item_name)) else { continue };
        let quantity = parse_int(row.get(c.qty)).map_err(|e| Bad("Lineitem quantity", e))?.unwrap_or(1);
        if quantity < 0 {
            return Err(Bad("Lineitem quantity", format!("negative quantity {quantity} for `{item_name}`")));
        }
        let unit_price = money(row, c.item_price, "Lineitem price")?.unwrap_or(Money::ZERO);
        let item_discount = money(row, c.item_discount, "Lineitem discount")?.unwrap_or(Money::ZERO);
        let requires_shipping = parse_bool(row.get(c.item_ship));
        let is_tip = item_name.eq_ignore_ascii_case("tip") && requires_shipping != Some(true);
        items.push(ItemRecord {
            sku: text(row.get(c.item_sku)),
            name: Some(item_name),
            vendor: text(row.get(c.vendor)),
            category: None,
            quantity,
            unit_price,
            discount: item_discount,
            is_tip,
        });
    }

    let status = order_status(financial.as_deref(), cancelled, total, refunded);
    let tips: i64 = items.iter().filter(|i| i.is_tip).filter_map(|i| i.line_total()).map(Money::cents).sum();
    let tax_included = match (subtotal, shipping, taxes) {
        (Some(s), Some(sh), Some(t)) if t.cents() != 0 => {
            let base = s.cents() + sh.cents() + duties.map_or(0, Money::cents) + tips;
            if base == total.cents() {
                Some(true)
            } else if base + t.cents() == total.cents() {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    };

    let email = first_text(rows, c.email);
    let phone = [c.phone, c.billing_phone, c.shipping_phone].iter().find_map(|col| first_text(rows, *col));
    let full_name = text(first.get(c.billing_name)).or_else(|| text(first.get(c.shipping_name)));
    let (first_name, last_name) = full_name.as_deref().map(split_name).unwrap_or((None, None));
    let pick = |a: Option<usize>, b: Option<usize>| text(first.get(a)).or_else(|| text(first.get(b)));
    let customer = CustomerRecord {
        identity: Identity {
            source_customer_id: None,
            email: email.as_deref().and_then(norm_email),
            phone: phone.as_deref().and_then(norm_phone),
        },
        email,
        phone,
        first_name,
        last_name,
        name: full_name,
        company: text(first.get(c.billing_company)),
        city: pick(c.billing_city, c.shipping_city),
        region: pick(c.billing_province, c.shipping_province),
        country: pick(c.billing_country, c.shipping_country),
        accepts_marketing: parse_bool(first.get(c.accepts)),
        ..CustomerRecord::default()
    };
    let id = text(first.get(c.id)).unwrap_or_else(|| name.clone());
    Ok(OrderRecord {
        source_order_id: id,
        order_number: Some(name),
        customer,
        ordered_at: created.utc,
        utc_offset_minutes: created.offset_minutes,
        currency: text(first.get(c.currency)).map(|s| s.to_uppercase()),
        subtotal,
        discount_total: discount,
        shipping_total: shipping,
        tax_total: match (taxes, duties) {
            (Some(t), Some(d)) => Some(Money::from_cents(t.cents() + d.cents())),
            (t, _) => t,
        },
        total,
        refunded_total: refunded,
        status,
        financial_status: financial,
        channel: text(first.get(c.source)),
        payment_method: text(first.get(c.payment)),
        discount_codes: text(first.get(c.discount_code)),
        tax_included,
        converted: None,
        items,
        line: first.line,
    })
}

fn order_status(financial: Option<&str>, cancelled: bool, total: Money, refunded: Money) -> OrderStatus {
    if cancelled {
        return OrderStatus::Cancelled;
    }
    let base = match financial.unwrap_or("paid") {
        "refunded" => OrderStatus::Refunded,
        "partially_refunded" => OrderStatus::PartiallyRefunded,
        "pending" | "authorized" | "partially_paid" => OrderStatus::Pending,
        "voided" => OrderStatus::Cancelled,
        "expired" => OrderStatus::Failed,
        _ => OrderStatus::Completed,
    };
    if base == OrderStatus::Completed && refunded.cents() > 0 {
        if refunded >= total { OrderStatus::Refunded } else { OrderStatus::PartiallyRefunded }
    } else {
        base
    }
}

/// Reads a Shopify customers export of any generation.
pub fn parse_customers(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let h = &table.header;
    let id = h.get("Customer ID");
    let first = h.get("First Name");
    let last = h.get("Last Name");
    let email = h.get("Email");
    let company = h.any(&["Default Address Company", "Company"]);
    let city = h.any(&["Default Address City", "City"]);
    let region = h.any(&["Default Address Province Code", "Province Code", "Province"]);
    let country = h.any(&["Default Address Country Code", "Country Code", "Country"]);
    let phone = h.get("Phone");
    let address_phone = h.get("Default Address Phone");
    let accepts = h.any(&["Accepts Email Marketing", "Accepts Marketing"]);
    let spent = h.get("Total Spent");
    let orders = h.get("Total Orders");
    let tags = h.get("Tags");
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let reported_total_spent = match parse_money(row.get(spent), NumberStyle::default()) {
            Ok(v) => v,
            Err(e) => {
                reject(sink, &row, Some("Total Spent"), e)?;
                continue;
            }
        };
        let reported_orders_count = match parse_int(row.get(orders)) {
            Ok(v) => v,
            Err(e) => {
                reject(sink, &row, Some("Total Orders"), e)?;
                continue;
            }
        };
        let email_text = text(row.get(email));
        let phone_text = text(row.get(phone)).or_else(|| text(row.get(address_phone)));
        let identity = Identity {
            source_customer_id: text(row.get(id)),
            email: email_text.as_deref().and_then(norm_email),
            phone: phone_text.as_deref().and_then(norm_phone),
        };
        if !identity.is_known() {
            reject(sink, &row, Some("Email"), "no Customer ID, email or phone: nothing identifies this customer")?;
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
            created_at: None,
            accepts_marketing: parse_bool(row.get(accepts)),
            tags: split_tags(row.get(tags)),
            reported_total_spent,
            reported_orders_count,
            lifecycle: None,
        })?;
    }
    Ok(rows_read)
}

/// Reads a Shopify products export: one row per variant (and image); product fields on the first
/// row of each handle. Category is `Type`, else the last level of `Product Category`.
pub fn parse_products(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let h = &table.header;
    let handle = h.get("Handle");
    let title = h.get("Title");
    let vendor = h.get("Vendor");
    let kind = h.get("Type");
    let category = h.get("Product Category");
    let sku = h.get("Variant SKU");
    let mut current: (String, Option<String>, Option<String>, Option<String>) = Default::default();
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        let this_handle = row.get(handle).trim().to_string();
        if this_handle != current.0 {
            let cat = text(row.get(kind))
                .or_else(|| text(row.get(category)).and_then(|c| c.rsplit('>').next().and_then(text)));
            current = (this_handle, text(row.get(title)), cat, text(row.get(vendor)));
        }
        if let Some(sku) = text(row.get(sku)) {
            sink.product(ProductRecord {
                sku,
                title: current.1.clone(),
                category: current.2.clone(),
                vendor: current.3.clone(),
            })?;
        }
    }
    Ok(rows_read)
}
