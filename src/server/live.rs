//! Live events: what changed for customers between two snapshots (queries/live/snapshot.sql),
//! in the plan's shape: `type`, `customer`, old and new values, a suggested `action`.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use serde_json::{Value, json};

use crate::queries::{Catalog, QueryContext};
use crate::store::Store;

/// Most customer events one commit sends; beyond, one `events_truncated` says how many more.
const MAX_EVENTS: usize = 200;
/// A churn risk that rose by at least this much is an event.
const CHURN_STEP: f64 = 0.05;

struct Row {
    stage: Arc<str>,
    churn: Option<f32>,
    segments: Arc<str>,
}

/// Every customer's stage, churn risk and segments at one moment, and the revenue in all.
pub struct Snapshot {
    rows: HashMap<String, Row>,
    names: HashMap<String, String>,
    revenue: f64,
}

impl Snapshot {
    pub fn take(store: &Store, catalog: &Catalog, ctx: &QueryContext) -> Result<Snapshot> {
        let rs = catalog.run(store, "live.snapshot", ctx)?;
        let q = "live.snapshot";
        let (id, name, stage, revenue, churn, segments) = (
            rs.require("customer_id", q)?,
            rs.require("name", q)?,
            rs.require("stage", q)?,
            rs.require("revenue", q)?,
            rs.require("churn_probability", q)?,
            rs.require("segments", q)?,
        );
        // Few distinct stages and segment lists: share them.
        let mut interned: HashMap<String, Arc<str>> = HashMap::new();
        let mut intern = |s: String| interned.entry(s.clone()).or_insert_with(|| Arc::from(s)).clone();
        let mut rows = HashMap::with_capacity(rs.rows.len());
        let mut names = HashMap::new();
        let mut total = 0.0;
        for r in &rs.rows {
            total += r[revenue].as_f64().unwrap_or(0.0);
            let key = r[id].to_text();
            let n = r[name].to_text();
            if !n.is_empty() {
                names.insert(key.clone(), n);
            }
            rows.insert(
                key,
                Row {
                    stage: intern(r[stage].to_text()),
                    churn: r[churn].as_f64().map(|c| c as f32),
                    segments: intern(r[segments].to_text()),
                },
            );
        }
        Ok(Snapshot { rows, names, revenue: total })
    }

    /// The events from `self` to `next`.
    pub fn events(&self, next: &Snapshot, revenue_thresholds: &[f64]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut more = 0usize;
        let mut push = |e: Value| {
            if out.len() < MAX_EVENTS { out.push(e) } else { more += 1 }
        };
        let mut ids: Vec<&String> = next.rows.keys().collect();
        ids.sort();
        for id in ids {
            let new = &next.rows[id];
            let customer = next.names.get(id).cloned().unwrap_or_else(|| id.clone());
            let Some(old) = self.rows.get(id) else {
                if &*new.stage == "At-Risk" {
                    push(event(
                        "new_at_risk",
                        &customer,
                        id,
                        Value::Null,
                        json!("At-Risk"),
                        "reach_out_with_win_back_offer",
                    ));
                }
                continue;
            };
            if old.stage != new.stage {
                push(event(
                    "stage_change",
                    &customer,
                    id,
                    json!(&*old.stage),
                    json!(&*new.stage),
                    stage_action(&old.stage, &new.stage),
                ));
                if &*new.stage == "At-Risk" {
                    push(event(
                        "new_at_risk",
                        &customer,
                        id,
                        json!(&*old.stage),
                        json!("At-Risk"),
                        "reach_out_with_win_back_offer",
                    ));
                }
            }
            if let (Some(a), Some(b)) = (old.churn, new.churn)
                && f64::from(b - a) >= CHURN_STEP
            {
                let (a, b) = (round3(a), round3(b));
                let action = if b >= 0.5 { "immediate_attention_required" } else { "monitor" };
                let mut e = event("churn_risk_increase", &customer, id, json!(a), json!(b), action);
                e["oldRisk"] = json!(a);
                e["newRisk"] = json!(b);
                push(e);
            }
            if old.segments != new.segments {
                push(event(
                    "segment_migration",
                    &customer,
                    id,
                    json!(split(&old.segments)),
                    json!(split(&new.segments)),
                    "review_segment_campaigns",
                ));
            }
        }
        for t in revenue_thresholds {
            if (self.revenue < *t) != (next.revenue < *t) {
                let up = next.revenue >= *t;
                out.push(json!({
                    "type": "revenue_threshold_crossed", "threshold": t, "direction": if up { "up" } else { "down" },
                    "old": self.revenue, "new": next.revenue,
                    "action": if up { "celebrate_and_review_capacity" } else { "investigate_revenue_drop" },
                    "at": now(),
                }));
            }
        }
        if more > 0 {
            out.push(json!({"type": "events_truncated", "more": more, "at": now()}));
        }
        out
    }
}

fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

fn split(s: &str) -> Vec<&str> {
    s.split(',').filter(|x| !x.is_empty()).collect()
}

fn stage_action(old: &str, new: &str) -> &'static str {
    match (old, new) {
        ("At-Risk" | "Dormant" | "Lost", "Active" | "VIP" | "New") => "thank_them_and_stop_win_back",
        (_, "At-Risk") => "reach_out_with_win_back_offer",
        (_, "Dormant" | "Lost") => "send_reactivation_campaign",
        (_, "VIP") => "offer_vip_perks",
        _ => "none",
    }
}

fn event(kind: &str, customer: &str, id: &str, old: Value, new: Value, action: &str) -> Value {
    json!({"type": kind, "customer": customer, "customer_id": id, "old": old, "new": new, "action": action, "at": now()})
}

/// The time of an event, UTC with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
