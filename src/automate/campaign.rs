//! Email campaigns: the audience's rows, each rendered through the campaign's template
//! (`customer` holds the row) into one personal email with a one-click unsubscribe link, recorded
//! under the key (automation, period, customer) before anything is sent. Nobody is written to who
//! is suppressed, who gave no marketing consent where the source records it, who had this
//! automation within its `cooldown`, or any campaign within `[automations] frequency_cap`.
//!
//! `recipient = "owner"` sends one message listing the whole audience to the owner instead
//! (VIP escalation): not marketing, so none of those rules apply.

use std::collections::HashMap;

use anyhow::Result;
use serde_json::{Value, json};

use super::actions::{self, Outcome, bare, link, owners, record_and_send, sender};
use super::run::Cx;
use crate::config::automations::duration;
use crate::deliver::unsubscribe;
use crate::error::user;
use crate::report::{self, email, templates::Library};
use crate::store::outbox::NewMessage;

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

/// The display name of `[smtp] from` (`Shop <a@b>` → `Shop`), for "you bought from …".
fn shop_name(from: &str) -> String {
    match from.parse::<lettre::message::Mailbox>() {
        Ok(m) => m.name.unwrap_or_else(|| m.email.domain().to_string()),
        Err(_) => from.to_string(),
    }
}

pub fn run(cx: &mut Cx<'_>) -> Result<Outcome> {
    let template = cx.def.template.clone().ok_or_else(|| user("email-campaign needs `template`"))?;
    let lib = Library::load(Some(&cx.ws.templates_dir()))?;
    let front = report::templates::front_matter(lib.report(&template)?)?;
    let params: Vec<(String, String)> = cx
        .def
        .params
        .iter()
        .filter(|(k, _)| front.params.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut prepared = {
        let (store, catalog, ctx) = cx.parts()?;
        report::prepare(&lib, &template, &params, store, catalog, ctx)?
    };
    let from =
        if cx.req.dry_run { sender(cx).unwrap_or_else(|_| "Your shop <shop@localhost>".into()) } else { sender(cx)? };
    prepared.data["shop"] = json!(shop_name(&from));
    let rows = cx.audience_rows();
    if cx.def.recipient == "owner" {
        return to_owner(cx, &lib, prepared, rows, &from);
    }
    let secret = if cx.req.dry_run { b"dry-run".to_vec() } else { unsubscribe::secret(&cx.db_path())? };
    let base = cx.ws.settings.automations.public_url.clone();

    // Who is who, and who must not be written to.
    struct Person {
        row: Value,
        id: String,
        email: Option<String>,
        name: Option<String>,
        key: String,
    }
    let mut seen = std::collections::HashSet::new();
    let mut people = Vec::new();
    for row in rows {
        let Some(id) = text(&row, "customer_id") else {
            return Err(user(format!(
                "automation `{}`: the audience {} has no `customer_id` column; a campaign needs customer_id and email",
                cx.def.name,
                cx.def.audience.as_deref().unwrap_or("")
            )));
        };
        let part = text(&row, "dedup").unwrap_or_else(|| cx.req.period.clone());
        let key = format!("campaign/{}/{}/{}", cx.def.name, part, id);
        if !seen.insert(key.clone()) {
            continue;
        }
        let email = text(&row, "email").map(|e| e.to_lowercase());
        people.push(Person { email, name: text(&row, "name"), id, key, row });
    }
    let cooldown = cx.def.cooldown.as_deref().map(duration).transpose().map_err(anyhow::Error::msg)?;
    let cap = match cx.ws.settings.automations.frequency_cap.trim() {
        "0" => std::time::Duration::ZERO,
        c => duration(c).map_err(anyhow::Error::msg)?,
    };
    let (period_at, name) = (cx.req.period_at, cx.def.name.clone());
    let store = cx.store()?;
    let emails: Vec<String> = people.iter().filter_map(|p| p.email.clone()).collect();
    let suppressed = store.suppressed(&emails)?;
    let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
    let no_consent = store.without_consent(&ids)?;
    let keys: Vec<String> = people.iter().map(|p| p.key.clone()).collect();
    let states = store.outbox_states(&keys)?;
    let in_cooldown = match cooldown {
        Some(w) => store.capped_customers(&ids, period_at, w, Some(&name))?,
        None => Default::default(),
    };
    let capped = store.capped_customers(&ids, period_at, cap, None)?;

    let mut o = Outcome { status: "ok".into(), ..Default::default() };
    let mut messages = Vec::new();
    let mut item_of: HashMap<String, usize> = HashMap::new();
    let mut reasons: HashMap<&'static str, u64> = HashMap::new();
    for p in &people {
        let skip: Option<(&'static str, String)> = match &p.email {
            None => Some(("no email address", String::new())),
            Some(e) if suppressed.contains_key(e) => Some(("suppressed", suppressed[e].clone())),
            Some(_) if no_consent.contains(&p.id) => Some(("no marketing consent", "accepts_marketing = no".into())),
            Some(_) if states.contains_key(&p.key) => {
                let s = &states[&p.key];
                Some(match s.as_str() {
                    "sent" => ("sent already", p.key.clone()),
                    "cancelled" => ("cancelled", "the address bounced".to_string()),
                    _ => ("recorded already", format!("{s}; retried by the sender")),
                })
            }
            Some(_) if in_cooldown.contains(&p.id) => Some(("cooldown", cx.def.cooldown.clone().unwrap_or_default())),
            Some(_) if capped.contains(&p.id) => {
                Some(("frequency cap", format!("another campaign within {}", cx.ws.settings.automations.frequency_cap)))
            }
            Some(_) => None,
        };
        let mut item = json!({"customer_id": p.id, "name": p.name, "email": p.email, "key": p.key,
            "offer": text(&p.row, "offer"), "reason": text(&p.row, "reason")});
        if let Some((why, more)) = skip {
            item["status"] = json!("skipped");
            item["skipped_because"] = json!(if more.is_empty() { why.to_string() } else { format!("{why}: {more}") });
            *reasons.entry(why).or_default() += 1;
            o.skipped += 1;
            o.items.push(item);
            continue;
        }
        let email = p.email.clone().expect("checked above");
        let mut mine = prepared.clone();
        let url = unsubscribe::link(&base, &secret, &email);
        mine.data["customer"] = p.row.clone();
        mine.data["unsubscribe_url"] = json!(url);
        let d = email::build(&lib, &mine)?;
        item["subject"] = json!(d.subject);
        item["status"] = json!(if cx.req.dry_run { "would send" } else { "recorded" });
        item_of.insert(p.key.clone(), o.items.len());
        o.items.push(item);
        if cx.req.dry_run {
            continue;
        }
        let to = lettre::message::Mailbox::new(
            p.name.clone(),
            email.parse().map_err(|e| user(format!("customer {}: `{email}` is not an email address ({e})", p.id)))?,
        )
        .to_string();
        let message_id = email::message_id(&p.key, &from);
        let headers = [
            ("List-Unsubscribe", format!("<{url}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_string()),
        ];
        let payload = email::message_with(&d, &from, &cx.ws.settings.smtp.reply_to, &to, &message_id, &headers)?;
        messages.push((
            NewMessage {
                key: p.key.clone(),
                kind: "campaign".into(),
                recipient: email,
                sender: from.clone(),
                subject: d.subject.clone(),
                payload,
                message_id,
            },
            link(cx, Some(p.id.clone())),
        ));
    }
    o.detail = json!({"skipped": reasons, "template": template});
    if cx.req.dry_run {
        o.status = "dry-run".into();
        return Ok(o);
    }
    let keys: Vec<String> = messages.iter().map(|(m, _)| m.key.clone()).collect();
    record_and_send(cx, messages, &mut o)?;
    for (k, s) in cx.store()?.outbox_states(&keys)? {
        if let Some(i) = item_of.get(&k) {
            o.items[*i]["status"] = json!(s);
        }
    }
    o.status = actions::status_of(&o);
    Ok(o)
}

/// One message listing the audience, to the owner.
fn to_owner(cx: &mut Cx<'_>, lib: &Library, mut p: report::Prepared, rows: Vec<Value>, from: &str) -> Result<Outcome> {
    let to = owners(cx);
    if to.is_empty() {
        return Err(user(format!(
            "automation `{}` writes to the owner: set [automations] owner or `to = [\"…\"]`",
            cx.def.name
        )));
    }
    p.data["count"] = json!(rows.len());
    p.data["rows"] = Value::Array(rows);
    p.data["unsubscribe_url"] = json!(null);
    let d = email::build(lib, &p)?;
    let mut o = Outcome { status: "ok".into(), ..Default::default() };
    let mut messages = Vec::new();
    for t in &to {
        let addr = bare(t)?;
        let key = format!("campaign/{}/{}/owner:{addr}", cx.def.name, cx.req.period);
        o.items.push(json!({"recipient": addr, "key": key, "subject": d.subject}));
        let message_id = email::message_id(&key, from);
        let payload = email::message(&d, from, &cx.ws.settings.smtp.reply_to, t, &message_id)?;
        messages.push((
            NewMessage {
                key,
                kind: "notice".into(),
                recipient: addr,
                sender: from.to_string(),
                subject: d.subject.clone(),
                payload,
                message_id,
            },
            link(cx, None),
        ));
    }
    actions::finish(cx, messages, o)
}
