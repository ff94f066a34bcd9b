//! The outbox: every message scudo sends is a row first (idempotency key, the exact message,
//! state), then delivered and marked sent. Digests use it now; the scheduler, campaigns and
//! webhooks of later issues go through the same table (docs/architecture.md, "One outbox").
//!
//! States: `pending` (recorded, not confirmed) → `sending` (the whole message was handed to the
//! server, its end not yet: written just before the final `.` of DATA) → `sent` (the server
//! accepted it) or `failed` (the last try failed; the next run tries again). A row still
//! `sending` when the next sender starts belongs to a process that died in the instant between
//! handing over the message's end and hearing the answer: the server has the complete message,
//! so it is taken as sent (`error_class = 'unconfirmed'`), never sent again. A key already `sent` is never sent again unless the
//! caller asks for a resend; a `pending` or `failed` one is never dropped.

use anyhow::{Context, Result};
use duckdb::types::Value;

use super::Store;

/// One message to record.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// What makes two messages "the same" (digest: template, as-of and recipient).
    pub key: String,
    pub kind: String,
    pub recipient: String,
    pub sender: String,
    pub subject: String,
    /// The RFC 5322 message, exactly as it will be sent.
    pub payload: Vec<u8>,
    /// Its Message-ID, without angle brackets.
    pub message_id: String,
}

/// A recorded message that is due (pending or failed).
#[derive(Debug, Clone)]
pub struct DueMessage {
    pub key: String,
    /// digest, campaign, notice, webhook: webhooks go over HTTP, the rest over SMTP.
    pub kind: String,
    pub recipient: String,
    pub sender: String,
    pub payload: Vec<u8>,
    pub message_id: String,
    pub attempts: i64,
}

/// What recording a message did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// A new row, pending.
    New,
    /// The key was sent already (at this UTC time, with this Message-ID): nothing recorded.
    AlreadySent { sent_at: String, message_id: String },
    /// The key was pending or failed from an earlier run: its stored message will be retried.
    Retry { status: String, attempts: i64 },
    /// `resend`: a sent key was recorded again as pending, with the new message.
    Resend,
}

fn now() -> Value {
    Value::Timestamp(duckdb::types::TimeUnit::Microsecond, chrono::Utc::now().timestamp_micros())
}

impl Store {
    /// Records `m` as pending unless its key was sent already (then nothing changes, unless
    /// `resend`) or is pending/failed (then the stored message stays, to be retried).
    pub fn outbox_record(&mut self, m: &NewMessage, resend: bool) -> Result<Recorded> {
        let tx = self.conn.transaction()?;
        let found: Option<(String, Option<String>, String, i64)> = tx
            .query_row(
                "SELECT status, CAST(sent_at AS VARCHAR), message_id, attempts FROM outbox WHERE key = ?",
                [&m.key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map(Some)
            .or_else(|e| if matches!(e, duckdb::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })?;
        let outcome = match found {
            Some((status, sent_at, message_id, _)) if status == "sent" && !resend => {
                return Ok(Recorded::AlreadySent { sent_at: sent_at.unwrap_or_default(), message_id });
            }
            Some((status, _, _, attempts)) if status != "sent" => {
                return Ok(Recorded::Retry { status, attempts });
            }
            Some(_) => {
                tx.execute("DELETE FROM outbox WHERE key = ?", [&m.key])?;
                Recorded::Resend
            }
            None => Recorded::New,
        };
        tx.execute(
            "INSERT INTO outbox (key, kind, recipient, sender, subject, payload, message_id, status, attempts,
                created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            duckdb::params![
                m.key,
                m.kind,
                m.recipient,
                m.sender,
                m.subject,
                Value::Blob(m.payload.clone()),
                m.message_id,
                now(),
                now()
            ],
        )?;
        tx.commit().context("cannot record the message in the outbox; nothing was sent")?;
        Ok(outcome)
    }

    /// Every pending or failed message, oldest first: what the next delivery sends.
    pub fn outbox_due(&self) -> Result<Vec<DueMessage>> {
        let mut stmt = self.conn.prepare(
            "SELECT key, recipient, sender, payload, message_id, attempts, kind FROM outbox
             WHERE status IN ('pending', 'failed') ORDER BY created_at, key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DueMessage {
                key: r.get(0)?,
                recipient: r.get(1)?,
                sender: r.get(2)?,
                payload: r.get(3)?,
                message_id: r.get(4)?,
                attempts: r.get(5)?,
                kind: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The whole message is with the server but its end (the final `.` of DATA) is not: from here
    /// on a crash must not send it again.
    pub fn outbox_sending(&self, key: &str) -> Result<()> {
        self.conn.execute("UPDATE outbox SET status = 'sending', updated_at = ? WHERE key = ?", duckdb::params![now(), key])?;
        Ok(())
    }

    /// Rows a dead sender left `sending`: the server had the whole message, so they count as sent
    /// (unconfirmed). Returns their keys.
    pub fn outbox_resolve_sending(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT key FROM outbox WHERE status = 'sending' ORDER BY key")?;
        let keys: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        if !keys.is_empty() {
            self.conn.execute(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, error_class = 'unconfirmed',
                    error = 'the sending process stopped after handing the whole message to the server, before its answer; not sent again',
                    sent_at = updated_at, updated_at = ? WHERE status = 'sending'",
                duckdb::params![now()],
            )?;
        }
        Ok(keys)
    }

    /// The server accepted the message.
    pub fn outbox_sent(&self, key: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, error_class = NULL, error = NULL,
                    sent_at = ?, updated_at = ? WHERE key = ?",
                duckdb::params![now(), now(), key],
            )
            .context("the message was sent, but marking it sent in the outbox failed")?;
        Ok(())
    }

    /// The message could not be sent; the next run tries again.
    pub fn outbox_failed(&self, key: &str, class: &str, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error_class = ?, error = ?, updated_at = ?
             WHERE key = ?",
            duckdb::params![class, error, now(), key],
        )?;
        Ok(())
    }
}
