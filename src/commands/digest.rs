//! `scudo digest [TEMPLATE] --to ADDR...`: a report as an email, recorded in the outbox and sent
//! over SMTP. Made for cron: nothing on stdout unless `--format json`, exit 0 when every message
//! went out (or had gone out before), 2 when one could not be sent (it stays in the outbox and the
//! next run retries it).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;

use super::Analysis;
use crate::cli::{DigestArgs, GlobalArgs};
use crate::deliver::{self, Smtp};
use crate::error::{Exit, user};
use crate::output;
use crate::report::{self, email, templates::Library};
use crate::store::outbox::{NewMessage, Recorded};

/// Version of the `scudo digest --format json` shape (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The sender of a message that is only saved or checked, when [smtp] from is not set.
const PLACEHOLDER_FROM: &str = "scudo@localhost";

pub fn run(args: &DigestArgs, g: &GlobalArgs) -> Result<Exit> {
    let started = std::time::Instant::now();
    let a = if args.dry_run {
        Analysis::open(g, args.as_of.as_of)?
    } else {
        Analysis::open_for_writing(g, args.as_of.as_of)?
    };
    // Settings first: nothing is recorded for a digest that could not be sent anyway.
    let smtp = if args.dry_run { None } else { Some(Smtp::from_settings(&a.settings.smtp, &a.root)?) };
    let from = match a.settings.smtp.from.trim() {
        "" if smtp.is_some() => {
            return Err(user(
                "[smtp] from is empty: set the sender (e.g. \"Scudo <reports@example.com>\") in scudo.toml or SCUDO_SMTP_FROM",
            ));
        }
        "" => PLACEHOLDER_FROM.to_string(),
        f => f.to_string(),
    };
    let queries_done = std::time::Instant::now();
    let lib = Library::load(Some(&a.root.join("report-templates")))?;
    let mut prepared = report::prepare(&lib, &args.template, &args.params, &a.store, &a.catalog, &a.ctx)?;
    super::insights::add_to_report(&a, &mut prepared)?;
    let after_queries = std::time::Instant::now();
    let digest = email::build(&lib, &prepared)?;
    let mut messages = Vec::new();
    for (i, to) in args.to.iter().enumerate() {
        let recipient = bare_address(to)?;
        let key = format!("digest/{}/{}/{}", prepared.name, a.ctx.as_of, recipient);
        let message_id = email::message_id(&key, &from);
        let payload = email::message(&digest, &from, &a.settings.smtp.reply_to, to, &message_id)?;
        if let Some(save) = &args.save {
            let path = numbered(save, i, args.to.len());
            std::fs::write(&path, &payload).with_context(|| format!("cannot write {}", path.display()))?;
            if !g.quiet {
                eprintln!("wrote {} ({} bytes)", path.display(), payload.len());
            }
        }
        messages.push(NewMessage {
            key,
            kind: "digest".into(),
            recipient,
            sender: from.clone(),
            subject: digest.subject.clone(),
            payload,
            message_id,
        });
    }
    let built = std::time::Instant::now();
    crate::store::timing("building the digest (render, charts, message)", after_queries, None);
    let size = messages.first().map_or(0, |m| m.payload.len());
    let mut report_rows = Vec::new();
    let mut failures = Vec::new();
    match (&smtp, args.dry_run) {
        (Some(smtp), false) => {
            let mut store = a.store;
            for m in &messages {
                match store.outbox_record(m, args.resend)? {
                    Recorded::AlreadySent { sent_at, message_id } => {
                        if !g.quiet {
                            eprintln!(
                                "skipped {}: `{}` for {} was sent already (at {sent_at} UTC, Message-ID <{message_id}>); \
                                 --resend sends it again",
                                m.recipient, prepared.name, a.ctx.as_of
                            );
                        }
                        report_rows.push(json!({"recipient": m.recipient, "key": m.key, "status": "skipped",
                            "message_id": message_id}));
                    }
                    Recorded::Retry { status, attempts } if !g.quiet => eprintln!(
                        "note: {} was {status} after {attempts} tries; sending the message recorded then",
                        m.key
                    ),
                    _ => {}
                }
            }
            for o in deliver::deliver_due(&store, &deliver::Transports::smtp(smtp), std::time::Duration::from_secs(1))?
            {
                match &o.result {
                    Ok(()) => {
                        if !g.quiet {
                            eprintln!("sent {} to {} (Message-ID <{}>)", o.key, o.recipient, o.message_id);
                        }
                        report_rows.push(json!({"recipient": o.recipient, "key": o.key, "status": "sent",
                            "message_id": o.message_id, "tries": o.tries}));
                    }
                    Err(f) => {
                        eprintln!("failed: {} to {}: {}", o.key, o.recipient, f.message);
                        report_rows.push(json!({"recipient": o.recipient, "key": o.key, "status": "failed",
                            "message_id": o.message_id, "tries": o.tries, "error_class": f.class.name(),
                            "error": f.message}));
                        failures.push(f.clone());
                    }
                }
            }
        }
        _ => {
            for m in &messages {
                report_rows.push(json!({"recipient": m.recipient, "key": m.key, "status": "dry-run",
                    "message_id": m.message_id}));
            }
            if !g.quiet {
                eprintln!(
                    "dry run: {} message(s) built and checked, none sent: \"{}\", HTML {} bytes, {} chart(s), {} bytes in all",
                    messages.len(),
                    digest.subject,
                    digest.html.len(),
                    digest.images.len(),
                    size
                );
            }
        }
    }
    if args.format.is_some() {
        output::emit(&output::json::to_string(&json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "template": prepared.name,
            "as_of": a.ctx.as_of.to_string(),
            "subject": digest.subject,
            "html_bytes": digest.html.len(),
            "text_bytes": digest.text.len(),
            "images": digest.images.len(),
            "message_bytes": size,
            "build_ms": (built - after_queries).as_millis() as u64,
            "queries_ms": (after_queries - queries_done).as_millis() as u64,
            "total_ms": started.elapsed().as_millis() as u64,
            "messages": report_rows,
        })))?;
    }
    if let Some(first) = failures.first() {
        return Err(user(format!(
            "{} message(s) could not be sent; each is kept in the outbox and the next run retries it. First: {}",
            failures.len(),
            first.message
        )));
    }
    Ok(Exit::Ok)
}

/// `Name <a@b.c>` → `a@b.c` (lower-cased: the idempotency key must not depend on spelling).
fn bare_address(to: &str) -> Result<String> {
    let mailbox: lettre::message::Mailbox =
        to.parse().map_err(|e| user(format!("--to `{to}` is not an email address ({e})")))?;
    Ok(mailbox.email.to_string().to_lowercase())
}

/// `digest.eml` for one recipient; `digest-1.eml`, `digest-2.eml`, … for several.
fn numbered(path: &Path, i: usize, n: usize) -> PathBuf {
    if n == 1 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map_or_else(|| "digest".into(), |s| s.to_string_lossy().into_owned());
    let ext = path.extension().map_or_else(|| "eml".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-{}.{ext}", i + 1))
}
