//! Stage 9: delivery. Messages are recorded in the outbox first (`store::outbox`), then this
//! module sends every due row and marks it sent or failed. Sending is the one asynchronous step
//! of a batch command: a small current-thread Tokio runtime lives only as long as the delivery
//! (docs/architecture.md, "Async only where it pays"). The scheduler and campaigns of later issues
//! call [`deliver_due`] too.

pub mod smtp;

use std::time::Duration;

use anyhow::Result;

use crate::store::Store;
pub use smtp::{Class, Failure, Smtp};

/// What happened to one due message.
#[derive(Debug)]
pub struct Outcome {
    pub key: String,
    pub recipient: String,
    pub message_id: String,
    /// How many tries this delivery made (transient failures are retried).
    pub tries: u32,
    pub result: std::result::Result<(), Failure>,
}

/// Sends every pending or failed message in the outbox, oldest first, and records each result.
/// Transient refusals (4xx) are retried up to `[smtp] retries` times, waiting `backoff`, then
/// twice that, and so on; permanent ones (5xx) and the rest are not. A message the server
/// accepted is marked sent before the next one is tried.
pub fn deliver_due(store: &Store, smtp: &Smtp, backoff: Duration) -> Result<Vec<Outcome>> {
    let due = store.outbox_due()?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the runtime for sending: {e}"))?;
    let mut out = Vec::new();
    for m in due {
        let mut tries = 0;
        let mut wait = backoff;
        let result = loop {
            tries += 1;
            match runtime.block_on(smtp.send(&m.sender, &m.recipient, &m.payload)) {
                Ok(()) => break Ok(()),
                Err(f) if f.class == Class::Transient && tries < smtp.retries => {
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
        out.push(Outcome { key: m.key, recipient: m.recipient, message_id: m.message_id, tries, result });
    }
    Ok(out)
}
