//! Facts first: for each use, the typed facts scudo computed, as one JSON document. The model
//! (or the deterministic narrative) only phrases these; the checker matches every number of its
//! text against them.

use anyhow::Result;
use serde::Serialize;

use crate::llm::privacy::Placeholders;
use crate::queries::{Catalog, QueryContext};
use crate::store::{Cell, Param, ResultSet, Store};

/// Version of the facts' JSON shape (docs/insights.md).
pub const FACTS_SCHEMA_VERSION: u32 = 1;

/// A row of a query, the columns a use needs, by name.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// What the facts are about; each has its prompt (`report-templates/llm/KIND.txt`) and its
/// deterministic narrative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    /// The shop: what changed, who needs attention, what to do (`scudo insights`).
    Shop,
    /// One customer's 360 (`scudo customer ID --insights`, "analyse Mike Johnson").
    Customer,
    /// Who is at risk and why.
    AtRisk,
    /// Segment performance, or one segment's customers.
    Segments,
    /// What to do about the customers who need attention.
    Actions,
    /// The result of a read-only query for a free question.
    Answer,
}

impl Use {
    /// The prompt template's name.
    pub fn prompt(self) -> &'static str {
        match self {
            Use::Shop => "shop",
            Use::Customer => "customer",
            Use::AtRisk => "at_risk",
            Use::Segments => "segments",
            Use::Actions => "actions",
            Use::Answer => "answer",
        }
    }
}

/// A customer as the facts name them: placeholders unless customer data may be shared.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Person {
    fn redact(&mut self, p: &mut Placeholders) {
        let label = p.label(&self.id, &self.name);
        self.id = label.clone();
        self.name = label;
        self.email = None;
        self.phone = None;
    }
}

/// One KPI over the period and the one before it.
#[derive(Debug, Clone, Serialize)]
pub struct Kpi {
    pub name: String,
    pub current: Option<f64>,
    pub previous: Option<f64>,
    pub change: Option<f64>,
    /// Percent change; null when the previous value was 0.
    pub change_pct: Option<f64>,
    pub money: bool,
}

/// A customer who needs attention, with the reason, scores and recommended actions.
#[derive(Debug, Clone, Serialize)]
pub struct Attention {
    pub customer: Person,
    pub stage: String,
    pub reason: String,
    pub revenue: Option<f64>,
    pub orders: Option<f64>,
    /// Probability of no purchase within the churn horizon, in percent, from the latest scoring run.
    pub churn_risk_pct: Option<f64>,
    pub churn_band: Option<String>,
    pub actions: Vec<Row>,
}

/// One customer's 360.
#[derive(Debug, Clone, Serialize)]
pub struct Customer360 {
    pub customer: Person,
    pub profile: Row,
    pub actions: Vec<Row>,
}

/// A free question's query and its result.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// True when the row limit cut the result.
    pub truncated: bool,
}

/// The facts of one use.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub schema_version: u32,
    #[serde(rename = "use")]
    pub use_: Use,
    pub as_of: String,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Row>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kpis: Vec<Kpi>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub health: Vec<Row>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<Attention>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Row>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer360>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

impl Facts {
    pub fn new(use_: Use, ctx: &QueryContext) -> Facts {
        Facts {
            schema_version: FACTS_SCHEMA_VERSION,
            use_,
            as_of: ctx.as_of.to_string(),
            currency: ctx.currency.clone(),
            question: None,
            period: None,
            kpis: Vec::new(),
            health: Vec::new(),
            attention: Vec::new(),
            segments: Vec::new(),
            segment: None,
            customer: None,
            answer: None,
        }
    }

    /// The same facts with every customer replaced by a placeholder; `places` remembers who is who.
    pub fn redacted(&self, places: &mut Placeholders) -> Facts {
        let mut f = self.clone();
        for a in &mut f.attention {
            a.customer.redact(places);
        }
        if let Some(c) = &mut f.customer {
            c.customer.redact(places);
        }
        if let Some(a) = &mut f.answer {
            redact_rows(&mut a.rows, places);
        }
        redact_rows(&mut f.segments, places);
        f
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("facts serialize")
    }

    /// What a model may see of these facts: all of them when the user shares customer data
    /// (`[llm] share_customer_data`), else customers as placeholders, with the placeholders that
    /// put the names back into the model's text.
    pub fn for_model(&self, share_customer_data: bool) -> (Facts, Placeholders) {
        let mut places = Placeholders::default();
        let seen = if share_customer_data { self.clone() } else { self.redacted(&mut places) };
        (seen, places)
    }

    /// The values every prompt template gets besides the facts (`sql`: the query a free question ran).
    pub fn prompt_vars(&self, sql: Option<&str>) -> Vec<(&'static str, String)> {
        vec![
            ("as_of", self.as_of.clone()),
            ("currency", self.currency.clone()),
            ("question", self.question.clone().unwrap_or_default()),
            ("sql", sql.unwrap_or_default().to_string()),
        ]
    }
}

/// Columns that identify a person: never sent unless customer data may be shared.
const PERSONAL: &[&str] = &["name", "email", "phone", "first_name", "last_name", "company", "city", "address"];

fn redact_rows(rows: &mut [Row], places: &mut Placeholders) {
    for r in rows {
        let id = r.get("customer_id").and_then(|v| v.as_str()).map(str::to_string);
        let name = r.get("name").and_then(|v| v.as_str()).unwrap_or("").to_string();
        if let Some(id) = &id {
            let label = places.label(id, &name);
            r.insert("customer_id".into(), label.clone().into());
            if r.contains_key("name") {
                r.insert("name".into(), label.into());
            }
        }
        r.retain(|k, _| k == "name" && id.is_some() || !PERSONAL.contains(&k.as_str()));
    }
}

/// The rows of `rs`, with the columns `keep` (all when empty).
pub fn rows(rs: &ResultSet, keep: &[&str]) -> Vec<Row> {
    rs.rows
        .iter()
        .map(|r| {
            rs.columns
                .iter()
                .zip(r)
                .filter(|(c, _)| keep.is_empty() || keep.contains(&c.as_str()))
                .map(|(c, v)| (c.clone(), v.to_json()))
                .collect()
        })
        .collect()
}

fn cell<'a>(rs: &'a ResultSet, row: usize, col: &str) -> Option<&'a Cell> {
    rs.col(col).map(|i| &rs.rows[row][i])
}

fn text(rs: &ResultSet, row: usize, col: &str) -> Option<String> {
    cell(rs, row, col).filter(|c| !matches!(c, Cell::Null)).map(Cell::to_text)
}

fn num(rs: &ResultSet, row: usize, col: &str) -> Option<f64> {
    cell(rs, row, col).and_then(Cell::as_f64)
}

/// The KPIs over the last `period_days` against the period before (kpi.summary).
pub fn kpis(store: &Store, catalog: &Catalog, ctx: &QueryContext, period_days: i64, f: &mut Facts) -> Result<()> {
    let rs = catalog.run_with(store, "kpi.summary", ctx, &[("period_days", Param::Int(period_days))])?;
    if rs.rows.is_empty() {
        return Ok(());
    }
    f.period = rows(&rs, &["period_start", "period_end", "previous_start", "previous_end"]).pop();
    for name in [
        "revenue",
        "orders",
        "customers",
        "active",
        "new",
        "at_risk",
        "dormant",
        "average_order_value",
        "repeat_purchase_rate",
    ] {
        let (current, previous) = (num(&rs, 0, name), num(&rs, 0, &format!("{name}_previous")));
        if current.is_none() && previous.is_none() {
            continue;
        }
        let change = current.zip(previous).map(|(c, p)| round2(c - p));
        let change_pct = current.zip(previous).filter(|(_, p)| *p != 0.0).map(|(c, p)| round1((c - p) / p * 100.0));
        let money = matches!(name, "revenue" | "average_order_value");
        f.kpis.push(Kpi { name: name.into(), current, previous, change, change_pct, money });
    }
    Ok(())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Lifecycle stages with customers and revenue (health.distribution).
pub fn health(store: &Store, catalog: &Catalog, ctx: &QueryContext, f: &mut Facts) -> Result<()> {
    let rs = catalog.run(store, "health.distribution", ctx)?;
    f.health = rows(&rs, &["stage", "customers", "revenue"]);
    Ok(())
}

/// The customers who need attention (dashboard.alerts: at most ten), each with their reason, their
/// churn risk from the latest scoring run and their next best actions.
pub fn attention(store: &Store, catalog: &Catalog, ctx: &QueryContext, f: &mut Facts) -> Result<()> {
    let rs = catalog.run(store, "dashboard.alerts", ctx)?;
    for i in 0..rs.rows.len() {
        let Some(id) = text(&rs, i, "customer_id") else { continue };
        let extra = [("customer_id", Param::Text(id.clone()))];
        let p = catalog.run_with(store, "customers.360", ctx, &extra)?;
        let actions = catalog.run_with(store, "customers.actions", ctx, &extra)?;
        let has = !p.rows.is_empty();
        let person = Person {
            name: text(&rs, i, "name").unwrap_or_else(|| id.clone()),
            email: has.then(|| text(&p, 0, "email")).flatten(),
            phone: has.then(|| text(&p, 0, "phone")).flatten(),
            id,
        };
        f.attention.push(Attention {
            customer: person,
            stage: text(&rs, i, "stage").unwrap_or_default(),
            reason: text(&rs, i, "reason").unwrap_or_default(),
            revenue: num(&rs, i, "revenue"),
            orders: num(&rs, i, "orders"),
            churn_risk_pct: has.then(|| num(&p, 0, "churn_probability").map(|x| (x * 100.0).round())).flatten(),
            churn_band: has.then(|| text(&p, 0, "churn_band")).flatten(),
            actions: rows(&actions, &["priority", "action", "reason", "within_days"]),
        });
    }
    Ok(())
}

/// Segment performance (segments.performance), or one segment's customers (segments.members).
pub fn segments(store: &Store, catalog: &Catalog, ctx: &QueryContext, one: Option<&str>, f: &mut Facts) -> Result<()> {
    match one {
        None => {
            let rs = catalog.run(store, "segments.performance", ctx)?;
            f.segments = rows(&rs, &["segment", "customers", "revenue", "average_order_value", "at_risk_pct"]);
        }
        Some(id) => {
            let rs = catalog.run_with(store, "segments.members", ctx, &[("segment", Param::Text(id.to_string()))])?;
            f.segment = Some(id.to_string());
            f.segments = rows(&rs, &["customer_id", "name", "stage", "orders", "revenue", "days_since_last_order"]);
        }
    }
    Ok(())
}

/// Profile columns of the 360 the facts carry (personal details travel in [`Person`]).
const PROFILE: &[&str] = &[
    "stage",
    "orders",
    "revenue",
    "average_order_value",
    "first_order_at",
    "last_order_at",
    "days_since_last_order",
    "typical_gap_days",
    "preferred_channel",
    "preferred_channel_pct",
    "top_category",
    "top_category_pct",
    "discounted_orders",
    "discount_pct",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rfm",
    "tags",
    "churn_probability",
    "churn_band",
    "churn_method",
    "churn_reasons",
    "clv",
    "clv_trend",
    "scored_as_of",
];

/// One customer's 360 and next best actions.
pub fn customer(store: &Store, catalog: &Catalog, ctx: &QueryContext, id: &str, f: &mut Facts) -> Result<bool> {
    let extra = [("customer_id", Param::Text(id.to_string()))];
    let p = catalog.run_with(store, "customers.360", ctx, &extra)?;
    if p.rows.is_empty() {
        return Ok(false);
    }
    let actions = catalog.run_with(store, "customers.actions", ctx, &extra)?;
    customer_from(id, &p, &actions, f);
    Ok(true)
}

/// The customer's facts from the rows of `customers.360` (`p`, one row) and `customers.actions`,
/// for a caller that has them already (the server's 360).
pub fn customer_from(id: &str, p: &ResultSet, actions: &ResultSet, f: &mut Facts) {
    let mut profile = rows(p, PROFILE).pop().unwrap_or_default();
    // Dates, not timestamps: the day is the fact.
    for k in ["first_order_at", "last_order_at"] {
        if let Some(serde_json::Value::String(s)) = profile.get_mut(k) {
            s.truncate(10);
        }
    }
    if let Some(x) = num(p, 0, "churn_probability") {
        profile.insert("churn_risk_pct".into(), serde_json::json!((x * 100.0).round()));
    }
    f.customer = Some(Customer360 {
        customer: Person {
            id: id.to_string(),
            name: text(p, 0, "name").unwrap_or_else(|| id.to_string()),
            email: text(p, 0, "email"),
            phone: text(p, 0, "phone"),
        },
        profile,
        actions: rows(actions, &["priority", "action", "reason", "within_days"]),
    });
}
