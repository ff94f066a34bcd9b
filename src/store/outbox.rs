//! The outbox: every message scudo sends is a row first (idempotency key, the exact message,
//! state), then delivered and marked sent. Digests use it now; the scheduler, campaigns and
//! webhooks of later issues go through the same table (docs/architecture.md, "One outbox").
//!
//! States: `pending` (recorded, not confirmed) → `sent` (the server accepted it) or `failed` (the
//! last try failed; the next run tries again); `cancelled` for a campaign message whose address
//! bounced for good. Just before the final `.` of DATA the sender notes
//! the key in a hand-over journal beside the database; a key noted there with no outcome after it
//! belongs to a process that died between handing over the whole message and hearing the answer:
//! the server has the complete message, so it is taken as sent (`error_class = 'unconfirmed'`),
//! never sent again. A key already `sent` is never sent again unless the
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

    /// The file beside the database where handed-over messages are noted (see [`Store::outbox_handed_over`]).
    pub fn handover_journal(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!("{}.handed-over", self.path.display()))
    }

    /// The whole message is with the server, its end (the final `.` of DATA) not yet: from here on
    /// a crash must not send it again. Noted as one appended line in a journal beside the
    /// database — a `write` of a few bytes, microseconds, where a DuckDB commit waits for its
    /// fsync for milliseconds, a window in which a kill would lose the message. A process killed
    /// after the `write` keeps the line (the kernel has it); only a power cut could drop it, and
    /// then the message is sent again (at least once).
    pub fn outbox_handed_over(&self, key: &str, attempts: i64) -> Result<()> {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(self.handover_journal())?;
        f.write_all(format!("{attempts}\t{key}\n").as_bytes())?;
        Ok(())
    }

    /// Messages a dead sender handed over whole without hearing the answer: a journal line whose
    /// row still has the attempts it had then (no outcome was recorded after it). The server had
    /// the complete message, so they count as sent (`error_class = 'unconfirmed'`), never sent
    /// again. Returns their keys; the journal is emptied.
    pub fn outbox_resolve_sending(&self) -> Result<Vec<String>> {
        let path = self.handover_journal();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).context("cannot read the outbox's hand-over journal"),
        };
        let mut resolved = Vec::new();
        for line in text.lines() {
            let Some((attempts, key)) = line.split_once('\t') else { continue };
            let Ok(attempts) = attempts.parse::<i64>() else { continue };
            let n = self.conn.execute(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, error_class = 'unconfirmed',
                    error = 'the sending process stopped after handing the whole message to the server, before its answer; not sent again',
                    sent_at = ?, updated_at = ? WHERE key = ? AND attempts = ? AND status IN ('pending', 'failed')",
                duckdb::params![now(), now(), key, attempts],
            )?;
            if n > 0 {
                resolved.push(key.to_string());
            }
        }
        std::fs::write(&path, b"").context("cannot empty the outbox's hand-over journal")?;
        Ok(resolved)
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

    /// A message that must never be sent (its address bounced for good): not retried.
    pub fn outbox_cancel(&self, key: &str, why: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'cancelled', error = ?, updated_at = ? WHERE key = ? AND status <> 'sent'",
            duckdb::params![why, now(), key],
        )?;
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
