//! Actions are plugins: one trait, the built-ins (email-campaign, digest, webhook, check, score,
//! ingest) and external programs (plugin.rs) implement it. Every message an action sends is
//! recorded in the outbox with its key before anything is sent, then the one sender
//! (`deliver::deliver_due`) sends what is due.

use std::collections::HashSet;

use anyhow::Result;
use serde_json::{Value, json};

use super::run::Cx;
use crate::deliver::{self, Smtp, Transports};
use crate::error::user;
use crate::report::email::{self, Digest};
use crate::store::automations::Link;
use crate::store::outbox::NewMessage;

/// What an action did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// ok, partial, withheld, skipped, failed (dry-run for a dry run).
    pub status: String,
    pub recorded: u64,
    pub sent: u64,
    pub skipped: u64,
    pub failed: u64,
    /// One entry per recipient (campaigns): who, what, and what became of it.
    pub items: Vec<Value>,
    pub detail: Value,
    pub error: Option<String>,
}

/// One kind of action.
pub trait Action {
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome>;
}

struct Campaign;
struct DigestAction;
struct Webhook;
struct Check;
struct Program {
    args: Vec<String>,
}

impl Action for Campaign {
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome> {
        super::campaign::run(cx)
    }
}

/// The action `def.action` names: a built-in, or a plugin.
pub fn for_automation(cx: &Cx<'_>) -> Result<Box<dyn Action>> {
    let def = cx.def;
    if def.exec.is_some() {
        return Ok(Box::new(super::plugin::Plugin::resolve(def, &cx.ws.root)?));
    }
    Ok(match def.action.as_str() {
        "email-campaign" => Box::new(Campaign),
        "digest" => Box::new(DigestAction),
        "webhook" => Box::new(Webhook),
        "check" => Box::new(Check),
        "score" => Box::new(Program { args: vec!["score".into(), "--as-of".into(), cx.req.as_of.to_string()] }),
        "ingest" => {
            let folder = cx.ws.root.join(def.folder.as_deref().unwrap_or("."));
            Box::new(Program { args: vec!["ingest".into(), folder.display().to_string()] })
        }
        _ => Box::new(super::plugin::Plugin::resolve(def, &cx.ws.root)?),
    })
}

pub fn dispatch(cx: &mut Cx<'_>) -> Result<Outcome> {
    let action = for_automation(cx)?;
    action.run(cx)
}

/// The SMTP server, when `[smtp] host` is set.
fn smtp(cx: &Cx<'_>) -> Result<Option<Smtp>> {
    if cx.ws.settings.smtp.host.trim().is_empty() {
        return Ok(None);
    }
    Smtp::from_settings(&cx.ws.settings.smtp, &cx.ws.root).map(Some)
}

/// The sender of every email (`[smtp] from`).
pub fn sender(cx: &Cx<'_>) -> Result<String> {
    let from = cx.ws.settings.smtp.from.trim();
    if from.is_empty() {
        return Err(user(
            "[smtp] from is empty: set the sender (e.g. \"Shop <hello@shop.example>\") in scudo.toml or SCUDO_SMTP_FROM",
        ));
    }
    Ok(from.to_string())
}

/// Who gets owner messages: the automation's `to`, else `[automations] owner`.
pub fn owners(cx: &Cx<'_>) -> Vec<String> {
    if !cx.def.to.is_empty() {
        return cx.def.to.clone();
    }
    let o = cx.ws.settings.automations.owner.trim();
    if o.is_empty() { Vec::new() } else { vec![o.to_string()] }
}

/// The link for a message of this run.
pub fn link(cx: &Cx<'_>, customer_id: Option<String>) -> Link {
    Link {
        automation: cx.def.name.clone(),
        customer_id,
        period: cx.req.period.clone(),
        period_at: cx.req.period_at,
        run_id: cx.run_id,
    }
}

/// The end of a run that sends `messages`: nothing recorded on a dry run, else recorded and sent,
/// with the run's status from what happened.
pub fn finish(cx: &mut Cx<'_>, messages: Vec<(NewMessage, Link)>, mut o: Outcome) -> Result<Outcome> {
    if cx.req.dry_run {
        o.status = "dry-run".into();
        return Ok(o);
    }
    record_and_send(cx, messages, &mut o)?;
    o.status = status_of(&o);
    Ok(o)
}

/// Records `messages` (new keys only), then sends everything due; counts what this run's `keys`
/// became.
pub fn record_and_send(cx: &mut Cx<'_>, messages: Vec<(NewMessage, Link)>, o: &mut Outcome) -> Result<()> {
    let keys: HashSet<String> = messages.iter().map(|(m, _)| m.key.clone()).collect();
    o.recorded += cx.store()?.outbox_record_linked(&messages)?;
    let smtp = smtp(cx)?;
    let transports = Transports {
        smtp: smtp.as_ref(),
        webhook_tries: cx.ws.settings.automations.webhook_retries,
        webhook_timeout: std::time::Duration::from_secs(30),
    };
    let quiet = cx.quiet;
    let store = cx.store()?;
    let mut each = |out: &deliver::Outcome| {
        if quiet {
            return;
        }
        match &out.result {
            Ok(()) => eprintln!("sent {} to {}", out.key, out.recipient),
            Err(f) => eprintln!("failed: {} to {}: {}", out.key, out.recipient, f.message),
        }
    };
    let outcomes = deliver::deliver_due_with(store, &transports, std::time::Duration::from_secs(1), &mut each)?;
    // A hard bounce (the server refused the address for good) puts it on the suppression list.
    for out in &outcomes {
        if let Err(f) = &out.result
            && out.kind == "campaign"
            && f.class == deliver::Class::Recipient
        {
            let store = cx.store()?;
            store.outbox_cancel(&out.key, "the address bounced: it is on the suppression list")?;
            if store.suppress(&out.recipient, "bounce", "smtp")? && !quiet {
                eprintln!("{}: the server refused it for good; added to the suppression list", out.recipient);
            }
        }
    }
    for out in outcomes.iter().filter(|x| keys.contains(&x.key)) {
        match &out.result {
            Ok(()) => o.sent += 1,
            Err(f) => {
                o.failed += 1;
                o.error.get_or_insert_with(|| f.message.clone());
            }
        }
    }
    if smtp.is_none() && messages.iter().any(|(m, _)| m.kind != "webhook") {
        o.error.get_or_insert_with(|| {
            "no SMTP server ([smtp] host is empty): the messages are recorded and wait in the outbox".to_string()
        });
    }
    Ok(())
}

/// A plain message (a notice to the owner): text, and the same text as simple HTML.
pub fn plain(subject: &str, text: &str) -> Digest {
    let esc = handlebars::html_escape(text);
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif; font-size: 14px\"><pre style=\"white-space: pre-wrap; font-family: inherit\">{esc}</pre></body></html>"
    );
    Digest { subject: subject.to_string(), html, text: text.to_string(), images: Vec::new() }
}

/// The gate said no: the action is withheld and the owner hears why.
pub fn withhold(cx: &mut Cx<'_>, why: &str) -> Result<Outcome> {
    let mut o = Outcome { status: "withheld".into(), detail: json!({"withheld_because": why}), ..Default::default() };
    if cx.req.dry_run {
        o.status = "dry-run".into();
        o.detail["would_be_withheld"] = json!(true);
        return Ok(o);
    }
    let owners = owners(cx);
    if owners.is_empty() {
        o.detail["notice"] = json!("nobody to notify: set [automations] owner in scudo.toml");
        return Ok(o);
    }
    let from = sender(cx)?;
    let subject = format!("scudo withheld `{}` ({})", cx.def.name, cx.req.period);
    let text = format!(
        "scudo did not run the automation `{name}` ({action}) for the period {period}, as of {as_of}.\n\n\
         Withheld because {why}.\n\nNothing was sent to customers. Fix the data (`scudo check` shows the checks), \
         then run it with `scudo automation run {name}`.\n",
        name = cx.def.name,
        action = cx.def.action,
        period = cx.req.period,
        as_of = cx.req.as_of,
    );
    let d = plain(&subject, &text);
    let mut messages = Vec::new();
    for to in owners {
        let addr = bare(&to)?;
        let key = format!("notice/{}/{}/{}", cx.def.name, cx.req.period, addr);
        let message_id = email::message_id(&key, &from);
        let payload = email::message(&d, &from, &cx.ws.settings.smtp.reply_to, &to, &message_id)?;
        messages.push((
            NewMessage {
                key,
                kind: "notice".into(),
                recipient: addr,
                sender: from.clone(),
                subject: subject.clone(),
                payload,
                message_id,
            },
            link(cx, None),
        ));
    }
    record_and_send(cx, messages, &mut o)?;
    o.detail["notified"] = json!(o.sent);
    Ok(o)
}

/// `Name <a@b>` → `a@b`, lower-cased.
pub fn bare(to: &str) -> Result<String> {
    let m: lettre::message::Mailbox = to.parse().map_err(|e| user(format!("`{to}` is not an email address ({e})")))?;
    Ok(m.email.to_string().to_lowercase())
}

impl Action for DigestAction {
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome> {
        let template = cx.def.template.clone().unwrap_or_else(|| "weekly-digest".into());
        let to = owners(cx);
        if to.is_empty() {
            return Err(user(format!(
                "automation `{}`: a digest needs recipients: `to = [\"owner@example.com\"]` or [automations] owner",
                cx.def.name
            )));
        }
        let lib = crate::report::templates::Library::load(Some(&cx.ws.templates_dir()))?;
        let params: Vec<(String, String)> = cx.def.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let prepared = {
            let (store, catalog, ctx) = cx.parts()?;
            crate::report::prepare(&lib, &template, &params, store, catalog, ctx)?
        };
        let d = email::build(&lib, &prepared)?;
        let mut o = Outcome { status: "ok".into(), ..Default::default() };
        let from = if cx.req.dry_run { sender(cx).unwrap_or_else(|_| "scudo@localhost".into()) } else { sender(cx)? };
        let mut messages = Vec::new();
        for t in &to {
            let addr = bare(t)?;
            // The key `scudo digest` uses: a digest sent by hand is not sent again by the automation.
            let key = format!("digest/{}/{}/{}", prepared.name, cx.ctx.as_of, addr);
            o.items.push(json!({"recipient": addr, "key": key, "subject": d.subject}));
            let message_id = email::message_id(&key, &from);
            let payload = email::message(&d, &from, &cx.ws.settings.smtp.reply_to, t, &message_id)?;
            messages.push((
                NewMessage {
                    key,
                    kind: "digest".into(),
                    recipient: addr,
                    sender: from.clone(),
                    subject: d.subject.clone(),
                    payload,
                    message_id,
                },
                link(cx, None),
            ));
        }
        finish(cx, messages, o)
    }
}

/// ok when nothing failed, partial when some did (or messages wait for an SMTP server), failed
/// when all did.
pub fn status_of(o: &Outcome) -> String {
    match (o.failed, o.sent) {
        (0, _) if o.error.is_some() => "partial",
        (0, _) => "ok",
        (_, 0) => "failed",
        _ => "partial",
    }
    .to_string()
}

impl Action for Webhook {
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome> {
        let url = cx.def.url.clone().unwrap_or_default();
        let secret_var = cx.def.secret_env.clone().unwrap_or_else(|| deliver::webhook::DEFAULT_SECRET_VAR.to_string());
        let key = format!("webhook/{}/{}", cx.def.name, cx.req.period);
        let rows = cx.audience_rows();
        let body = json!({
            "schema_version": super::JSON_SCHEMA_VERSION,
            "event": "automation",
            "automation": cx.def.name,
            "run_id": cx.run_id,
            "period": cx.req.period,
            "as_of": cx.req.as_of.to_string(),
            "delivery": key,
            "audience": cx.def.audience.as_ref().map(|q| json!({"query": q, "count": rows.len(), "rows": rows})),
        });
        let payload = crate::output::json::to_string(&body).into_bytes();
        let mut o = Outcome { status: "ok".into(), ..Default::default() };
        o.items.push(json!({"url": url, "key": key, "bytes": payload.len()}));
        if cx.req.dry_run {
            o.status = "dry-run".into();
            return Ok(o);
        }
        if std::env::var(&secret_var).map_or(true, |s| s.is_empty()) {
            return Err(user(format!(
                "automation `{}`: the webhook's signing secret is read from the environment variable {secret_var}, which is not set",
                cx.def.name
            )));
        }
        let m = NewMessage {
            key: key.clone(),
            kind: "webhook".into(),
            recipient: url,
            sender: secret_var,
            subject: format!("webhook {}", cx.def.name),
            payload,
            message_id: key,
        };
        let l = link(cx, None);
        record_and_send(cx, vec![(m, l)], &mut o)?;
        o.status = status_of(&o);
        Ok(o)
    }
}

impl Action for Check {
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome> {
        let run = super::run::run_checks(cx)?;
        let [passed, warned, failed, broken, skipped] = run.counts();
        let status = match run.status() {
            crate::checks::Status::Error | crate::checks::Status::Broken => "failed",
            _ => "ok",
        };
        Ok(Outcome {
            status: status.into(),
            detail: json!({"check_run": run.run_id, "summary": run.summary(), "passed": passed, "warned": warned,
                "failed": failed, "broken": broken, "skipped": skipped}),
            error: (status == "failed").then(|| run.summary()),
            ..Default::default()
        })
    }
}

impl Action for Program {
    /// `scudo score` / `scudo ingest FOLDER`, run as this same program once the store is released.
    fn run(&self, cx: &mut Cx<'_>) -> Result<Outcome> {
        let mut o = Outcome { status: "ok".into(), ..Default::default() };
        let shown = format!("scudo {}", self.args.join(" "));
        if cx.req.dry_run {
            o.status = "dry-run".into();
            o.detail = json!({"would_run": shown});
            return Ok(o);
        }
        cx.release();
        let exe = std::env::current_exe()?;
        let out = std::process::Command::new(exe)
            .args(&self.args)
            .args(["--quiet", "--wait", "600", "--workspace"])
            .arg(&cx.ws.root)
            .stdin(std::process::Stdio::null())
            .output()?;
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: String =
            stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        o.detail = json!({"command": shown, "exit_code": code, "stderr": tail});
        match code {
            0 => {}
            1 => o.status = "partial".into(),
            _ => {
                o.status = "failed".into();
                o.error = Some(format!("`{shown}` exited with {code}: {tail}"));
            }
        }
        Ok(o)
    }
}
