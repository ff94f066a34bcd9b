//! Canonical records: what every export format is turned into before it reaches the store.

use chrono::NaiveDateTime;

use super::values::Money;

/// How a record names its customer. The store resolves these to one customer id
/// (source id, then normalised email, then normalised phone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// The customer's id in the source system (`cus_…`, Shopify's numeric id, a CRM record id).
    pub source_customer_id: Option<String>,
    /// Normalised email (trimmed, lower case).
    pub email: Option<String>,
    /// Normalised phone (digits with an optional leading `+`).
    pub phone: Option<String>,
}

impl Identity {
    /// True when the record names its customer in any way at all.
    pub fn is_known(&self) -> bool {
        self.source_customer_id.is_some() || self.email.is_some() || self.phone.is_some()
    }
}

/// A customer as one source describes them. Empty fields are `None` and never overwrite what
/// another import already knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerRecord {
    pub identity: Identity,
    /// The email as written in the source (the identity holds the normalised form).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    /// When the customer was created in the source, UTC.
    pub created_at: Option<NaiveDateTime>,
    pub accepts_marketing: Option<bool>,
    pub tags: Vec<String>,
    /// Lifetime spend as the source reports it (for reconciliation, never used as a fact).
    pub reported_total_spent: Option<Money>,
    pub reported_orders_count: Option<i64>,
    /// Free-text lifecycle or lead status from a CRM.
    pub lifecycle: Option<String>,
}

/// The normalised order status, a closed set (see docs/data-model.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Completed,
    Pending,
    Cancelled,
    Refunded,
    PartiallyRefunded,
    Failed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Completed => "completed",
            OrderStatus::Pending => "pending",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Failed => "failed",
        }
    }
}

/// One order (or one payment, or one won deal) with its line items.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    /// The order's id in its source; unique per source.
    pub source_order_id: String,
    /// The number shown to the merchant (`#1081`), when different from the id.
    pub order_number: Option<String>,
    /// Who placed it, with whatever the order says about them.
    pub customer: CustomerRecord,
    /// When it was placed, UTC.
    pub ordered_at: NaiveDateTime,
    /// The shop's offset from UTC at that moment, when the source states it.
    pub utc_offset_minutes: Option<i16>,
    pub currency: Option<String>,
    pub subtotal: Option<Money>,
    pub discount_total: Option<Money>,
    pub shipping_total: Option<Money>,
    pub tax_total: Option<Money>,
    /// Gross total as the source states it.
    pub total: Money,
    pub refunded_total: Money,
    pub status: OrderStatus,
    pub financial_status: Option<String>,
    pub channel: Option<String>,
    pub payment_method: Option<String>,
    pub discount_codes: Option<String>,
    pub tax_included: Option<bool>,
    /// The amounts in the account's settlement currency, when the source converted them itself
    /// (Stripe's `Converted Amount`): preferred to an exchange rate for that currency.
    pub converted: Option<Converted>,
    pub items: Vec<ItemRecord>,
    /// Line of the file where the order starts.
    pub line: u64,
}

/// An order's amounts as the source converted them into another currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub currency: String,
    pub total: Money,
    pub refunded: Money,
}

/// One line item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub vendor: Option<String>,
    pub category: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub discount: Money,
    pub is_tip: bool,
}

impl ItemRecord {
    /// quantity × unit price − line discount; `None` when that is beyond what an amount can hold.
    pub fn line_total(&self) -> Option<Money> {
        self.unit_price.cents().checked_mul(self.quantity)?.checked_sub(self.discount.cents()).and_then(Money::checked)
    }
}

impl OrderRecord {
    /// total − refunds: the revenue of the order.
    pub fn net_total(&self) -> Option<Money> {
        self.total.cents().checked_sub(self.refunded_total.cents()).and_then(Money::checked)
    }

    /// Checks what every format must guarantee before an order is stored: amounts within
    /// DECIMAL(18,2), no negative refunds or quantities. Returns the column at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.refunded_total.cents() < 0 {
            return Err(("refunded", format!("refunded amount {} is negative", self.refunded_total)));
        }
        if self.net_total().is_none() {
            return Err((
                "total",
                format!("total {} minus refunds {} is out of range", self.total, self.refunded_total),
            ));
        }
        for item in &self.items {
            if item.quantity < 0 {
                return Err(("quantity", format!("negative quantity {}", item.quantity)));
            }
            if item.line_total().is_none() {
                return Err((
                    "quantity",
                    format!("{} × {} is out of range for an amount", item.quantity, item.unit_price),
                ));
            }
        }
        Ok(())
    }
}

/// A product (for item categories), from a products export.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub sku: String,
    pub title: Option<String>,
    pub category: Option<String>,
    pub vendor: Option<String>,
}

/// How often a subscription bills, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    /// Reads `month`, `Monthly`, `year`, `yearly`, `annual`, `week`, `day` (any case).
    pub fn parse(raw: &str) -> Option<Interval> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "day" | "days" | "daily" => Some(Interval::Day),
            "week" | "weeks" | "weekly" => Some(Interval::Week),
            "month" | "months" | "monthly" => Some(Interval::Month),
            "year" | "years" | "yearly" | "annual" | "annually" => Some(Interval::Year),
            _ => None,
        }
    }
}

/// One subscription as a subscriptions export states it today (Stripe's export is a snapshot:
/// one row per subscription, its current price and its lifecycle dates).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    /// The subscription's id in its source (`sub_…`); unique per source.
    pub source_subscription_id: String,
    pub customer: CustomerRecord,
    /// The source's status, lower case (`active`, `trialing`, `canceled`, …).
    pub status: String,
    pub plan: Option<String>,
    pub product: Option<String>,
    pub currency: Option<String>,
    /// The price of one unit for one billing interval, before discounts.
    pub unit_amount: Money,
    pub quantity: i64,
    pub interval: Interval,
    pub interval_count: i64,
    /// All timestamps UTC.
    pub created_at: Option<NaiveDateTime>,
    /// When billing started (`Start Date (UTC)`, else `Start (UTC)`, else `Created (UTC)`).
    pub started_at: NaiveDateTime,
    pub trial_start: Option<NaiveDateTime>,
    pub trial_end: Option<NaiveDateTime>,
    pub current_period_start: Option<NaiveDateTime>,
    pub current_period_end: Option<NaiveDateTime>,
    pub canceled_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub cancel_at_period_end: Option<bool>,
    pub cancellation_reason: Option<String>,
    pub coupon: Option<String>,
    pub line: u64,
}

impl SubscriptionRecord {
    /// unit amount × quantity for one interval; `None` when beyond what an amount can hold.
    pub fn interval_amount(&self) -> Option<Money> {
        self.unit_amount.cents().checked_mul(self.quantity).and_then(Money::checked)
    }
}

/// A row that could not be used, with why; written to the rejects file.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
    /// The raw record, re-joined as CSV, so the row can be fixed and imported again.
    pub raw: String,
}

/// Where parsers put what they read. The store implements it; tests collect into a [`Collected`].
pub trait Sink {
    fn customer(&mut self, rec: CustomerRecord) -> anyhow::Result<()>;
    fn order(&mut self, rec: OrderRecord) -> anyhow::Result<()>;
    fn product(&mut self, rec: ProductRecord) -> anyhow::Result<()>;
    fn subscription(&mut self, rec: SubscriptionRecord) -> anyhow::Result<()>;
    fn reject(&mut self, rej: Reject) -> anyhow::Result<()>;
}

/// A [`Sink`] that passes records on until `stop` is set (Ctrl-C), then fails, so the import
/// that reads from it is rolled back.
pub struct StopOn<'a> {
    pub inner: &'a mut dyn Sink,
    pub stop: &'a std::sync::atomic::AtomicBool,
}

impl StopOn<'_> {
    fn go(&self) -> anyhow::Result<()> {
        if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            anyhow::bail!("interrupted");
        }
        Ok(())
    }
}

impl Sink for StopOn<'_> {
    fn customer(&mut self, rec: CustomerRecord) -> anyhow::Result<()> {
        self.go()?;
        self.inner.customer(rec)
    }
    fn order(&mut self, rec: OrderRecord) -> anyhow::Result<()> {
        self.go()?;
        self.inner.order(rec)
    }
    fn product(&mut self, rec: ProductRecord) -> anyhow::Result<()> {
        self.go()?;
        self.inner.product(rec)
    }
    fn subscription(&mut self, rec: SubscriptionRecord) -> anyhow::Result<()> {
        self.go()?;
        self.inner.subscription(rec)
    }
    fn reject(&mut self, rej: Reject) -> anyhow::Result<()> {
        self.go()?;
        self.inner.reject(rej)
    }
}

/// A [`Sink`] that keeps everything in memory.
#[derive(Debug, Default)]
pub struct Collected {
    pub customers: Vec<CustomerRecord>,
    pub orders: Vec<OrderRecord>,
    pub products: Vec<ProductRecord>,
    pub subscriptions: Vec<SubscriptionRecord>,
    pub rejects: Vec<Reject>,
}

impl Sink for Collected {
    fn customer(&mut self, rec: CustomerRecord) -> anyhow::Result<()> {
        self.customers.push(rec);
        Ok(())
    }
    fn order(&mut self, rec: OrderRecord) -> anyhow::Result<()> {
        self.orders.push(rec);
        Ok(())
    }
    fn product(&mut self, rec: ProductRecord) -> anyhow::Result<()> {
        self.products.push(rec);
        Ok(())
    }
    fn subscription(&mut self, rec: SubscriptionRecord) -> anyhow::Result<()> {
        self.subscriptions.push(rec);
        Ok(())
    }
    fn reject(&mut self, rej: Reject) -> anyhow::Result<()> {
        self.rejects.push(rej);
        Ok(())
    }
}

/// Any record, to move between threads.
#[derive(Debug)]
pub enum Record {
    Customer(Box<CustomerRecord>),
    Order(Box<OrderRecord>),
    Product(ProductRecord),
    Subscription(Box<SubscriptionRecord>),
    Reject(Reject),
}

/// Records per message: large enough that the channel costs nothing, small enough to overlap.
const BATCH: usize = 512;

/// A [`Sink`] that sends records in batches over a bounded channel, so parsing (on one thread)
/// and loading (on another) overlap.
pub struct ChannelSink {
    batch: Vec<Record>,
    tx: std::sync::mpsc::SyncSender<Vec<Record>>,
}

impl ChannelSink {
    pub fn new(tx: std::sync::mpsc::SyncSender<Vec<Record>>) -> ChannelSink {
        ChannelSink { batch: Vec::with_capacity(BATCH), tx }
    }

    fn push(&mut self, r: Record) -> anyhow::Result<()> {
        self.batch.push(r);
        if self.batch.len() >= BATCH {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> anyhow::Result<()> {
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx.send(full).map_err(|_| anyhow::anyhow!("the loader stopped"))
    }

    /// Sends what is left.
    pub fn finish(mut self) -> anyhow::Result<()> {
        if !self.batch.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

impl Sink for ChannelSink {
    fn customer(&mut self, rec: CustomerRecord) -> anyhow::Result<()> {
        self.push(Record::Customer(Box::new(rec)))
    }
    fn order(&mut self, rec: OrderRecord) -> anyhow::Result<()> {
        self.push(Record::Order(Box::new(rec)))
    }
    fn product(&mut self, rec: ProductRecord) -> anyhow::Result<()> {
        self.push(Record::Product(rec))
    }
    fn subscription(&mut self, rec: SubscriptionRecord) -> anyhow::Result<()> {
        self.push(Record::Subscription(Box::new(rec)))
    }
    fn reject(&mut self, rej: Reject) -> anyhow::Result<()> {
        self.push(Record::Reject(rej))
    }
}

/// Feeds a batch of records to `sink`, in order.
pub fn replay(batch: Vec<Record>, sink: &mut dyn Sink) -> anyhow::Result<()> {
    for r in batch {
        match r {
            Record::Customer(c) => sink.customer(*c)?,
            Record::Order(o) => sink.order(*o)?,
            Record::Product(p) => sink.product(p)?,
            Record::Subscription(s) => sink.subscription(*s)?,
            Record::Reject(r) => sink.reject(r)?,
        }
    }
    Ok(())
}
