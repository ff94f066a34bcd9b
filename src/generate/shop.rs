//! The shop's catalogue, people and export rows.

use std::fs::File;
use std::io::BufWriter;

use anyhow::Result;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use rand::RngExt;
use rand::rngs::StdRng;

use crate::ingest::values::Money;

type Out = csv::Writer<BufWriter<File>>;

pub const ORDER_HEADER: [&str; 79] = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
];

pub const CUSTOMER_HEADER: [&str; 21] = [
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Default Address Company",
    "Default Address Address1",
    "Default Address Address2",
    "Default Address City",
    "Default Address Province Code",
    "Default Address Country Code",
    "Default Address Zip",
    "Default Address Phone",
    "Phone",
    "Accepts SMS Marketing",
    "Total Spent",
    "Total Orders",
    "Note",
    "Tax Exempt",
    "Tags",
    "Accepts WhatsApp Marketing",
];

pub const STRIPE_HEADER: [&str; 9] = [
    "id",
    "Created date (UTC)",
    "Amount",
    "Amount Refunded",
    "Currency",
    "Status",
    "Captured",
    "Customer ID",
    "Customer Email",
];

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia", "Mateo",
    "Amelia", "Ethan", "Harper", "Aiden", "Evelyn", "Oliver", "Luna", "Sofia", "Priya", "Chen", "Aisha", "Diego",
    "Yuki", "Omar", "Zoë", "Jörg", "Ana", "Mohammed",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Nguyen",
    "Patel",
    "Kim",
    "Okafor",
    "Müller",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Silva",
    "Cohen",
];
const PLACES: &[(&str, &str, &str)] = &[
    ("New York", "NY", "10001"),
    ("Los Angeles", "CA", "90001"),
    ("Chicago", "IL", "60601"),
    ("Houston", "TX", "77001"),
    ("Phoenix", "AZ", "85001"),
    ("Philadelphia", "PA", "19101"),
    ("San Antonio", "TX", "78201"),
    ("San Diego", "CA", "92101"),
    ("Dallas", "TX", "75201"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Denver", "CO", "80201"),
    ("Boston", "MA", "02108"),
    ("Portland", "OR", "97201"),
    ("Miami", "FL", "33101"),
    ("Atlanta", "GA", "30301"),
];
const CATEGORIES: &[(&str, u32)] = &[("Home", 35), ("Apparel", 25), ("Beauty", 15), ("Electronics", 15), ("Gifts", 10)];
const CHANNELS: &[(&str, u32)] = &[("web", 70), ("pos", 15), ("580111", 10), ("shopify_draft_order", 5)];
const TAGS: &[(&str, f64)] = &[("NEWSLETTER", 0.40), ("WHOLESALE", 0.03), ("LOCAL_PICKUP", 0.10), ("GIFT_BUYER", 0.08)];

/// A generated person.
pub struct Person {
    pub id: u64,
    pub first: &'static str,
    pub last: &'static str,
    pub email: String,
    pub phone: String,
    pub place: (&'static str, &'static str, &'static str),
    pub accepts: bool,
}

/// One written order: its rows and refunded cents.
pub struct Written {
    pub rows: u64,
    pub refunded: i64,
}

/// The catalogue and counters.
pub struct Shop {
    products: Vec<(String, String, &'static str, i64)>,
    next_order: u64,
}

fn weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0..total);
    for (name, w) in items {
        if x < *w {
            return name;
        }
        x -= w;
    }
    items[0].0
}

/// Offset of US Eastern time on `day`: −4 h from the second Sunday of March to the first Sunday
/// of November, else −5 h (daylight saving, so one export holds both offsets).
fn eastern_offset_hours(day: NaiveDate) -> i64 {
    let nth_sunday = |month: u32, n: u32| {
        let first = NaiveDate::from_ymd_opt(day.year(), month, 1).expect("valid");
        let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
        first + Duration::days(i64::from(to_sunday + 7 * (n - 1)))
    };
    if day >= nth_sunday(3, 2) && day < nth_sunday(11, 1) { -4 } else { -5 }
}

fn stamp(utc: NaiveDateTime) -> String {
    let off = eastern_offset_hours(utc.date());
    let local = utc + Duration::hours(off);
    format!("{} {:+03}00", local.format("%Y-%m-%d %H:%M:%S"), off)
}

impl Shop {
    pub fn new(rng: &mut StdRng) -> Shop {
        let mut products = Vec::new();
        for (ci, (cat, _)) in CATEGORIES.iter().enumerate() {
            for i in 0..40 {
                let price = rng.random_range(8..250) * 100 + 99;
                products.push((
                    format!("{}-{:03}", &cat[..3].to_uppercase(), i),
                    format!("{cat} item {}", ci * 40 + i),
                    *cat,
                    price,
                ));
            }
        }
        Shop { products, next_order: 0 }
    }

    pub fn person(&self, n: u64, rng: &mut StdRng) -> Person {
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let last = LAST[rng.random_range(0..LAST.len())];
        Person {
            id: 7_000_000_000_000 + n,
            first,
            last,
            email: format!("customer{n}@example.com"),
            phone: format!("+1555{:07}", n % 10_000_000),
            place: PLACES[rng.random_range(0..PLACES.len())],
            accepts: rng.random_bool(0.6),
        }
    }

    fn product(&self, rng: &mut StdRng) -> &(String, String, &'static str, i64) {
        let cat = weighted(rng, CATEGORIES);
        loop {
            let p = &self.products[rng.random_range(0..self.products.len())];
            if p.2 == cat {
                return p;
            }
        }
    }

    /// Writes one purchase worth `cents` (total after discount) as 1–3 line items.
    pub fn order(
        &mut self,
        who: &Person,
        at: NaiveDateTime,
        cents: i64,
        rng: &mut StdRng,
        out: &mut Out,
    ) -> Result<Written> {
        self.next_order += 1;
        let items = 1 + usize::from(rng.random_bool(0.4)) + usize::from(rng.random_bool(0.2));
        let discounted = rng.random_bool(0.25);
        let gross = if discounted { (cents as f64 / 0.9).round() as i64 } else { cents };
        let discount = gross - cents;
        let mut lines = Vec::with_capacity(items);
        let mut left = gross;
        for i in 0..items {
            let p = self.product(rng);
            let price = if i + 1 == items { left } else { (left * rng.random_range(20..60) / 100).max(1) };
            left -= price;
            lines.push((p.0.clone(), p.1.clone(), price));
        }
        // Partial refunds (a returned item): the purchase stands, its net value shrinks.
        let refunded = if rng.random_bool(0.03) { cents / 4 } else { 0 };
        let status = if refunded == 0 { "paid" } else { "partially_refunded" };
        let created = stamp(at);
        let channel = weighted(rng, CHANNELS);
        let name = format!("#{}", 1000 + self.next_order);
        for (i, (sku, title, price)) in lines.iter().enumerate() {
            let mut row = vec![String::new(); 79];
            row[0] = name.clone();
            row[1] = who.email.clone();
            row[15] = created.clone();
            row[16] = "1".into();
            row[17] = title.clone();
            row[18] = Money::from_cents(*price).to_string();
            row[20] = sku.clone();
            row[21] = "true".into();
            row[59] = "0.00".into();
            if i == 0 {
                row[2] = status.into();
                row[3] = created.clone();
                row[6] = if who.accepts { "yes" } else { "no" }.into();
                row[7] = "USD".into();
                row[8] = Money::from_cents(cents).to_string();
                row[9] = "0.00".into();
                row[10] = "0.00".into();
                row[11] = Money::from_cents(cents).to_string();
                row[12] = if discounted { "SAVE10".into() } else { String::new() };
                row[13] = Money::from_cents(discount).to_string();
                row[24] = format!("{} {}", who.first, who.last);
                row[29] = who.place.0.into();
                row[30] = format!("'{}", who.place.2);
                row[31] = who.place.1.into();
                row[32] = "US".into();
                row[47] = if channel == "pos" { "Cash".into() } else { "Shopify Payments".into() };
                row[49] = Money::from_cents(refunded).to_string();
                row[55] = (5_000_000_000_000 + self.next_order).to_string();
                row[58] = channel.into();
            }
            out.write_record(&row)?;
        }
        Ok(Written { rows: lines.len() as u64, refunded })
    }

    /// A cancelled order (not a purchase).
    pub fn cancelled(&mut self, who: &Person, at: NaiveDateTime, rng: &mut StdRng, out: &mut Out) -> Result<u64> {
        self.next_order += 1;
        let p = self.product(rng).clone();
        let mut row = vec![String::new(); 79];
        row[0] = format!("#{}", 1000 + self.next_order);
        row[1] = who.email.clone();
        row[2] = "voided".into();
        row[7] = "USD".into();
        row[8] = Money::from_cents(p.3).to_string();
        row[9] = "0.00".into();
        row[10] = "0.00".into();
        row[11] = Money::from_cents(p.3).to_string();
        row[13] = "0.00".into();
        row[15] = stamp(at);
        row[16] = "1".into();
        row[17] = p.1;
        row[18] = Money::from_cents(p.3).to_string();
        row[20] = p.0;
        row[46] = stamp(at + Duration::hours(2));
        row[49] = "0.00".into();
        row[55] = (5_000_000_000_000 + self.next_order).to_string();
        row[58] = "web".into();
        out.write_record(&row)?;
        Ok(1)
    }

    /// One purchase paid through Stripe, sometimes after a failed attempt the same day. Returns
    /// the rows written.
    pub fn stripe(
        &mut self,
        who: &Person,
        at: NaiveDateTime,
        cents: i64,
        rng: &mut StdRng,
        out: &mut Out,
    ) -> Result<u64> {
        self.next_order += 1;
        let mut rows = 0;
        let mut write = |suffix: &str, at: NaiveDateTime, ok: bool| {
            out.write_record([
                format!("ch_{}{suffix}", self.next_order),
                at.format("%Y-%m-%d %H:%M:%S").to_string(),
                Money::from_cents(cents).to_string(),
                "0.00".into(),
                "usd".into(),
                if ok { "Paid" } else { "Failed" }.into(),
                ok.to_string(),
                format!("cus_{}", who.id),
                who.email.clone(),
            ])
        };
        if rng.random_bool(0.08) {
            write("f", at - Duration::minutes(5), false)?;
            rows += 1;
        }
        write("", at, true)?;
        Ok(rows + 1)
    }

    pub fn customer_row(
        &self,
        who: &Person,
        spent: Money,
        orders: usize,
        rng: &mut StdRng,
        out: &mut Out,
    ) -> Result<()> {
        let tags: Vec<&str> = TAGS.iter().filter(|(_, p)| rng.random_bool(*p)).map(|(t, _)| *t).collect();
        out.write_record([
            format!("'{}", who.id),
            who.first.to_string(),
            who.last.to_string(),
            who.email.clone(),
            if who.accepts { "yes" } else { "no" }.to_string(),
            String::new(),
            "1 Example Street".to_string(),
            String::new(),
            who.place.0.to_string(),
            who.place.1.to_string(),
            "US".to_string(),
            format!("'{}", who.place.2),
            format!("'{}", who.phone),
            format!("'{}", who.phone),
            "no".to_string(),
            spent.to_string(),
            orders.to_string(),
            String::new(),
            "no".to_string(),
            tags.join(", "),
            "no".to_string(),
        ])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daylight_saving_offsets() {
        assert_eq!(eastern_offset_hours(NaiveDate::from_ymd_opt(2024, 7, 4).unwrap()), -4);
        assert_eq!(eastern_offset_hours(NaiveDate::from_ymd_opt(2024, 12, 4).unwrap()), -5);
        assert_eq!(eastern_offset_hours(NaiveDate::from_ymd_opt(2024, 3, 10).unwrap()), -4);
        assert_eq!(eastern_offset_hours(NaiveDate::from_ymd_opt(2024, 3, 9).unwrap()), -5);
    }
}
