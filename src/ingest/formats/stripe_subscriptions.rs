//! Stripe's subscriptions export (Dashboard → Billing → Subscriptions → Export): one row per
//! subscription with its current price and its lifecycle dates. Columns are chosen by the user,
//! so everything is looked up by name; the essentials are `id`, `Amount`, `Interval` and a start
//! date. Layout and sources: docs/formats.md ("Stripe subscriptions").

use anyhow::Result;
use chrono::NaiveDateTime;

use super::reject;
use crate::ingest::Progress;
use crate::ingest::record::{CustomerRecord, Identity, Interval, Sink, SubscriptionRecord};
use crate::ingest::table::{Row, Table};
use crate::ingest::values::{
    NumberStyle, norm_email, norm_phone, parse_bool, parse_int, parse_money, parse_timestamp, text,
};

/// The longest interval count taken as real (Stripe allows at most one year, e.g. 12 months).
const MAX_INTERVAL_COUNT: i64 = 365;

/// A Stripe "Name" or "Description" may be a person, a company, an email or a phone.
fn person_name(raw: &str) -> Option<String> {
    let t = text(raw)?;
    if norm_email(&t).is_some() || norm_phone(&t).is_some() { None } else { Some(t) }
}

/// Column positions, looked up once.
struct Cols {
    id: Option<usize>,
    customer_id: Option<usize>,
    email: Option<usize>,
    name: Option<usize>,
    description: Option<usize>,
    status: Option<usize>,
    plan: Option<usize>,
    product: Option<usize>,
    quantity: Option<usize>,
    currency: Option<usize>,
    interval: Option<usize>,
    interval_count: Option<usize>,
    amount: Option<usize>,
    created: Option<usize>,
    start: Option<usize>,
    period_start: Option<usize>,
    period_end: Option<usize>,
    trial_start: Option<usize>,
    trial_end: Option<usize>,
    canceled_at: Option<usize>,
    ended_at: Option<usize>,
    cancel_at_period_end: Option<usize>,
    cancellation_reason: Option<usize>,
    coupon: Option<usize>,
}

/// A timestamp cell: `Ok(None)` when empty; `Err` names the column and why.
fn when(row: &Row, col: Option<usize>, name: &'static str) -> Result<Option<NaiveDateTime>, (&'static str, String)> {
    parse_timestamp(row.get(col)).map(|t| t.map(|t| t.utc)).map_err(|e| (name, e))
}

/// Reads one row into a subscription, or says which column makes it unusable and why.
fn read(row: &Row, c: &Cols) -> Result<SubscriptionRecord, (&'static str, String)> {
    let id = text(row.get(c.id))
        .ok_or(("id", "no subscription id: the subscription cannot be told apart from others".to_string()))?;
    let email_text = text(row.get(c.email));
    let identity = Identity {
        source_customer_id: text(row.get(c.customer_id)),
        email: email_text.as_deref().and_then(norm_email),
        phone: None,
    };
    if !identity.is_known() {
        return Err(("Customer ID", "no Customer ID and no Customer Email: whose subscription is it?".to_string()));
    }
    let unit_amount = match parse_money(row.get(c.amount), NumberStyle::default()) {
        Ok(Some(m)) if m.cents() >= 0 => m,
        Ok(Some(m)) => return Err(("Amount", format!("Amount {m} is negative"))),
        Ok(None) => return Err(("Amount", "no Amount: the subscription's price is unknown".to_string())),
        Err(e) => return Err(("Amount", e)),
    };
    let quantity = match parse_int(row.get(c.quantity)) {
        Ok(None) => 1,
        Ok(Some(q)) if q >= 0 => q,
        Ok(Some(q)) => return Err(("Quantity", format!("Quantity {q} is negative"))),
        Err(e) => return Err(("Quantity", e)),
    };
    let raw_interval = row.get(c.interval).trim();
    let interval = Interval::parse(raw_interval).ok_or_else(|| {
        (
            "Interval",
            if raw_interval.is_empty() {
                "no Interval: expected day, week, month or year".to_string()
            } else {
                format!("Interval is `{raw_interval}`: expected day, week, month or year")
            },
        )
    })?;
    let interval_count = match parse_int(row.get(c.interval_count)) {
        Ok(None) => 1,
        Ok(Some(n)) if (1..=MAX_INTERVAL_COUNT).contains(&n) => n,
        Ok(Some(n)) => return Err(("Interval Count", format!("Interval Count {n} is not between 1 and 365"))),
        Err(e) => return Err(("Interval Count", e)),
    };
    let created_at = when(row, c.created, "Created (UTC)")?;
    let started_at = when(row, c.start, "Start Date (UTC)")?.or(created_at).ok_or((
        "Start Date (UTC)",
        "no Start Date (UTC) and no Created (UTC): when the subscription began is unknown".to_string(),
    ))?;
    let record = SubscriptionRecord {
        source_subscription_id: id,
        customer: CustomerRecord {
            identity,
            email: email_text,
            name: person_name(row.get(c.name)).or_else(|| person_name(row.get(c.description))),
            ..CustomerRecord::default()
        },
        status: row.get(c.status).trim().to_lowercase(),
        plan: text(row.get(c.plan)),
        product: text(row.get(c.product)),
        currency: text(row.get(c.currency)).map(|s| s.to_uppercase()),
        unit_amount,
        quantity,
        interval,
        interval_count,
        created_at,
        started_at,
        trial_start: when(row, c.trial_start, "Trial Start (UTC)")?,
        trial_end: when(row, c.trial_end, "Trial End (UTC)")?,
        current_period_start: when(row, c.period_start, "Current Period Start (UTC)")?,
        current_period_end: when(row, c.period_end, "Current Period End (UTC)")?,
        canceled_at: when(row, c.canceled_at, "Canceled At (UTC)")?,
        ended_at: when(row, c.ended_at, "Ended At (UTC)")?,
        cancel_at_period_end: parse_bool(row.get(c.cancel_at_period_end)),
        cancellation_reason: text(row.get(c.cancellation_reason)),
        coupon: text(row.get(c.coupon)),
        line: row.line,
    };
    if record.interval_amount().is_none() {
        return Err(("Quantity", format!("{quantity} × {unit_amount} is out of range for an amount")));
    }
    Ok(record)
}

/// Reads a subscriptions export (`subscriptions.csv`).
pub fn parse_subscriptions(table: &mut Table, sink: &mut dyn Sink, progress: &Progress) -> Result<u64> {
    let h = &table.header;
    let c = Cols {
        id: h.get("id"),
        customer_id: h.get("Customer ID"),
        email: h.get("Customer Email"),
        name: h.get("Customer Name"),
        description: h.get("Customer Description"),
        status: h.get("Status"),
        plan: h.any(&["Plan", "Price ID", "Plan ID"]),
        product: h.any(&["Product", "Product ID"]),
        quantity: h.get("Quantity"),
        currency: h.get("Currency"),
        interval: h.get("Interval"),
        interval_count: h.get("Interval Count"),
        amount: h.get("Amount"),
        created: h.get("Created (UTC)"),
        start: h.any(&["Start Date (UTC)", "Start (UTC)"]),
        period_start: h.get("Current Period Start (UTC)"),
        period_end: h.get("Current Period End (UTC)"),
        trial_start: h.get("Trial Start (UTC)"),
        trial_end: h.get("Trial End (UTC)"),
        canceled_at: h.get("Canceled At (UTC)"),
        ended_at: h.get("Ended At (UTC)"),
        cancel_at_period_end: h.get("Cancel At Period End"),
        cancellation_reason: h.get("Cancellation Reason"),
        coupon: h.get("Coupon"),
    };
    let mut rows_read = 0;
    while let Some(row) = table.next_full_row()? {
        rows_read += 1;
        progress.set(table.position());
        match read(&row, &c) {
            Ok(rec) => sink.subscription(rec)?,
            Err((column, reason)) => reject(sink, &row, Some(column), reason)?,
        }
    }
    Ok(rows_read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record::Collected;
    use std::io::Write;

    const HEADER: &str = "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,Created (UTC),Start Date (UTC),Trial End (UTC),Canceled At (UTC),Ended At (UTC)";

    fn parse(body: &str) -> Collected {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "{HEADER}\n{body}").unwrap();
        let mut t = Table::open(f.path(), crate::ingest::table::TableOptions::default()).unwrap();
        let mut sink = Collected::default();
        parse_subscriptions(&mut t, &mut sink, &Progress::hidden()).unwrap();
        sink
    }

    #[test]
    fn reads_a_yearly_plan_with_seats() {
        let got =
            parse("sub_1,cus_1,a@b.com,active,price_pro,3,usd,year,120.00,2024-01-05 10:00,2024-01-05 10:00,,,\n");
        assert!(got.rejects.is_empty(), "{:?}", got.rejects);
        let s = &got.subscriptions[0];
        assert_eq!((s.interval, s.quantity, s.unit_amount.cents()), (Interval::Year, 3, 12000));
        assert_eq!(s.interval_amount().unwrap().cents(), 36000);
        assert_eq!(s.currency.as_deref(), Some("USD"));
        assert_eq!(s.customer.identity.source_customer_id.as_deref(), Some("cus_1"));
    }

    #[test]
    fn unusable_rows_say_which_column_and_why() {
        let got = parse(concat!(
            "sub_1,cus_1,,active,p,1,usd,fortnight,10.00,2024-01-05 10:00,,,,\n",
            "sub_2,,,active,p,1,usd,month,10.00,2024-01-05 10:00,,,,\n",
            "sub_3,cus_3,,active,p,-2,usd,month,10.00,2024-01-05 10:00,,,,\n",
            "sub_4,cus_4,,active,p,1,usd,month,ten,2024-01-05 10:00,,,,\n",
            "sub_5,cus_5,,active,p,1,usd,month,10.00,,,,,\n",
            "sub_6,cus_6,,canceled,p,1,usd,month,10.00,2024-01-05 10:00,,,2024-02-31 00:00,\n",
        ));
        assert!(got.subscriptions.is_empty());
        let cols: Vec<&str> = got.rejects.iter().map(|r| r.column.as_deref().unwrap()).collect();
        assert_eq!(cols, ["Interval", "Customer ID", "Quantity", "Amount", "Start Date (UTC)", "Canceled At (UTC)"]);
        assert!(got.rejects[0].reason.contains("`fortnight`"), "{}", got.rejects[0].reason);
        assert_eq!(got.rejects[0].line, 2);
    }
}
