//! Stage 9: delivery. Messages are recorded in the outbox first (`store::outbox`), then this
//! module sends every due row and marks it sent or failed. Sending is the one asynchronous step
//! of a batch command: a small current-thread Tokio runtime lives only as long as the delivery
//! (docs/architecture.md, "Async only where it pays"). The scheduler and campaigns of later issues
//! call [`deliver_due`] too.

pub mod smtp;
pub mod unsubscribe;
pub mod webhook;

use std::time::Duration;

use anyhow::Result;

use crate::store::Store;
pub use smtp::{Class, Failure, Smtp};

/// What happened to one due message.
#[derive(Debug)]
pub struct Outcome {
    pub key: String,
    pub kind: String,
    pub recipient: String,
    pub message_id: String,
    /// How many tries this delivery made (transient failures are retried).
    pub tries: u32,
    pub result: std::result::Result<(), Failure>,
}

/// How messages leave: SMTP for email (absent when `[smtp]` is not set: email rows wait), HTTP for
/// webhooks.
pub struct Transports<'a> {
    pub smtp: Option<&'a Smtp>,
    pub webhook_tries: u32,
    pub webhook_timeout: Duration,
}

impl<'a> Transports<'a> {
    /// Email only (`scudo digest`); webhooks with the defaults.
    pub fn smtp(smtp: &'a Smtp) -> Transports<'a> {
        Transports { smtp: Some(smtp), webhook_tries: 4, webhook_timeout: Duration::from_secs(30) }
    }
}

/// Sends every pending or failed message in the outbox, oldest first, and records each result.
/// Transient refusals (4xx, HTTP 5xx) are retried up to `[smtp] retries` (`[automations]
/// webhook_retries`) times, waiting `backoff`, then twice that, and so on; permanent ones are
/// not. A message the server accepted is marked sent before the next one is tried. Rows a dead
/// sender handed over whole (the hand-over journal) are first taken as sent (store::outbox), and email rows wait when there
/// is no SMTP server to send them to.
pub fn deliver_due(store: &Store, t: &Transports<'_>, backoff: Duration) -> Result<Vec<Outcome>> {
    deliver_due_with(store, t, backoff, &mut |_| {})
}

/// [`deliver_due`], calling `each` after every message (progress).
pub fn deliver_due_with(
    store: &Store,
    t: &Transports<'_>,
    backoff: Duration,
    each: &mut dyn FnMut(&Outcome),
) -> Result<Vec<Outcome>> {
    for key in store.outbox_resolve_sending()? {
        eprintln!(
            "note: {key} was handed to the server whole by a process that stopped before its answer: counted as sent, not sent again"
        );
    }
    let due = store.outbox_due()?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let mut runtime = None;
    let mut out = Vec::new();
    for m in due {
        let webhook = m.kind == "webhook";
        if !webhook && t.smtp.is_none() {
            continue;
        }
        let max_tries = if webhook { t.webhook_tries } else { t.smtp.map_or(1, |s| s.retries) };
        let mut tries = 0;
        let mut wait = backoff;
        let result = loop {
            tries += 1;
            let r = if webhook {
                webhook::post(&m.recipient, &m.sender, &m.key, &m.payload, t.webhook_timeout)
            } else {
                let smtp = t.smtp.expect("checked above");
                if runtime.is_none() {
                    runtime = Some(
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .map_err(|e| anyhow::anyhow!("cannot start the runtime for sending: {e}"))?,
                    );
                }
                let rt = runtime.as_ref().expect("built above");
                let (key, attempts) = (m.key.clone(), m.attempts);
                let handed_over = move || {
                    if let Err(e) = store.outbox_handed_over(&key, attempts) {
                        eprintln!("warning: cannot mark {key} as handed over: {e:#}");
                    }
                };
                rt.block_on(smtp.send(&m.sender, &m.recipient, &m.payload, &handed_over))
            };
            match r {
                Ok(()) => break Ok(()),
                Err(f) if f.class == Class::Transient && tries < max_tries => {
                    std::thread::sleep(wait);
                    wait *= 2;
                }
                Err(f) => break Err(f),
            }
        };
        match &result {
            Ok(()) => store.outbox_sent(&m.key)?,
            Err(f) => store.outbox_failed(&m.key, f.class.name(), &f.message)?,
        }
        let o = Outcome { key: m.key, kind: m.kind, recipient: m.recipient, message_id: m.message_id, tries, result };
        each(&o);
        out.push(o);
    }
    Ok(out)
}
