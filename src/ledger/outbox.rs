//! The outbox: mails queued in the ledger with the run they report, and their delivery. A mail
//! is queued whole (its RFC 5322 bytes, its Message-ID fixed), in the same transaction that
//! records its run ([`super::Ledger::record_with`]); the sender takes the due ones, and each
//! attempt ends in [`Ledger::mail_sent`], [`Ledger::mail_retry`] or [`Ledger::mail_failed`].
//! The clock is the caller's.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Error, Ledger};

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// `digest` or `alert`.
    pub kind: &'static str,
    /// The subscriber's name, or `admin`.
    pub recipient: String,
    pub address: String,
    pub subject: String,
    pub message_id: String,
    /// The whole message.
    pub message: Vec<u8>,
    /// What it tells the subscriber: (clue, reason), remembered so no later digest repeats it —
    /// only once the mail is queued to be sent.
    pub items: Vec<(String, String)>,
    /// Why this mail could not be built (a subscriber's address, a workbook): it is queued as
    /// failed with the reason, and its clues are not told, so the next run's digest has them.
    pub failed: Option<String>,
}

/// A mail in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    pub id: i64,
    pub message_id: String,
    pub kind: String,
    pub recipient: String,
    pub address: String,
    pub subject: String,
    pub run_id: Option<String>,
    pub clues: i64,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub queued_at: String,
    pub sent_at: Option<String>,
    #[serde(skip)]
    pub message: Vec<u8>,
}

pub(super) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Queues mails on a connection inside the caller's transaction.
pub(super) fn queue(
    conn: &rusqlite::Connection,
    mails: &[NewMail],
    run: Option<&str>,
    job_run: Option<i64>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for m in mails {
        conn.prepare_cached(
            "INSERT INTO outbox (message_id, kind, recipient, address, subject, run_id, job_run, clues, message, next_attempt_at, queued_at, state, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)",
        )?
        .execute(params![
                m.message_id,
                m.kind,
                m.recipient,
                m.address,
                m.subject,
                run,
                job_run,
                m.items.iter().map(|(c, _)| c).collect::<std::collections::BTreeSet<_>>().len() as i64,
                m.message,
                stamp(now),
                if m.failed.is_some() { "failed" } else { "queued" },
                m.failed
        ])?;
        let id = conn.last_insert_rowid();
        // a mail that could not be built told no one anything: its items wait for the next digest
        if m.failed.is_some() {
            let mut pending = conn.prepare_cached(
                "INSERT INTO digest_pending (subscriber, clue_id, reason, outbox_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (subscriber, clue_id, reason) DO UPDATE SET outbox_id = excluded.outbox_id",
            )?;
            for (clue, reason) in &m.items {
                pending.execute(params![m.recipient, clue, reason, id])?;
            }
            ids.push(id);
            continue;
        }
        let mut done =
            conn.prepare_cached("DELETE FROM digest_pending WHERE subscriber = ?1 AND clue_id = ?2 AND reason = ?3")?;
        for (clue, reason) in &m.items {
            done.execute(params![m.recipient, clue, reason])?;
        }
        let mut item = conn.prepare_cached(
            "INSERT OR IGNORE INTO digest_items (subscriber, clue_id, reason, outbox_id) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (clue, reason) in &m.items {
            item.execute(params![m.recipient, clue, reason, id])?;
        }
        ids.push(id);
    }
    Ok(ids)
}

const MAIL: &str = "SELECT id, message_id, kind, recipient, address, subject, run_id, clues, state, attempts,
                           next_attempt_at, last_error, queued_at, sent_at, message FROM outbox";

fn mail(r: &rusqlite::Row<'_>) -> rusqlite::Result<Mail> {
    Ok(Mail {
        id: r.get(0)?,
        message_id: r.get(1)?,
        kind: r.get(2)?,
        recipient: r.get(3)?,
        address: r.get(4)?,
        subject: r.get(5)?,
        run_id: r.get(6)?,
        clues: r.get(7)?,
        state: r.get(8)?,
        attempts: r.get(9)?,
        next_attempt_at: r.get(10)?,
        last_error: r.get(11)?,
        queued_at: r.get(12)?,
        sent_at: r.get(13)?,
        message: r.get(14)?,
    })
}

impl Ledger {
    /// Queues mails that belong to no run (alerts of a job that failed before recording).
    pub fn queue_mails(
        &mut self,
        mails: &[NewMail],
        job_run: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, Error> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| Error::at(&path, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        let ids = queue(&tx, mails, None, job_run, now).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(ids)
    }

    /// What a subscriber was to be told by a mail that could not be built: (clue, reason).
    pub fn pending_items(&self, subscriber: &str) -> Result<Vec<(String, String)>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT clue_id, reason FROM digest_pending WHERE subscriber = ?1 ORDER BY clue_id")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([subscriber], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every (clue, reason) the subscriber has been told.
    pub fn told_all(&self, subscriber: &str) -> Result<std::collections::HashSet<(String, String)>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT clue_id, reason FROM digest_items WHERE subscriber = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([subscriber], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The outbox, newest first (at most `limit`).
    pub fn mails(&self, limit: usize) -> Result<Vec<Mail>, Error> {
        let mut stmt =
            self.conn.prepare_cached(&format!("{MAIL} ORDER BY id DESC LIMIT ?1")).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([limit as i64], mail).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One mail.
    pub fn mail(&self, id: i64) -> Result<Option<Mail>, Error> {
        self.conn.query_row(&format!("{MAIL} WHERE id = ?1"), [id], mail).optional().map_err(|e| self.err(e))
    }

    /// Queued mails whose next attempt is due, oldest first.
    pub fn due_mails(&self, now: DateTime<Utc>) -> Result<Vec<Mail>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{MAIL} WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([stamp(now)], mail).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// When the next queued mail is due, if any.
    pub fn next_mail_at(&self) -> Result<Option<DateTime<Utc>>, Error> {
        let at: Option<String> = self
            .conn
            .query_row("SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(at.and_then(|a| DateTime::parse_from_rfc3339(&a).ok()).map(|t| t.with_timezone(&Utc)))
    }

    /// The server accepted the mail.
    pub fn mail_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL WHERE id = ?1",
                params![id, stamp(now)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A failed attempt that may succeed later: tried again at `next`.
    pub fn mail_retry(&mut self, id: i64, error: &str, next: DateTime<Utc>) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                params![id, error, stamp(next)],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Given up: the server refused it for good, or it failed too often.
    pub fn mail_failed(&mut self, id: i64, error: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, error],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Puts a failed mail back in the queue, due now, its Message-ID unchanged.
    pub fn mail_requeue(&mut self, id: i64, now: DateTime<Utc>) -> Result<Mail, Error> {
        let m = self.mail(id)?.ok_or_else(|| self.err(format!("no mail {id} in the outbox")))?;
        if m.state != "failed" {
            return Err(self.err(format!("mail {id} is {}, not failed: only a failed mail is retried", m.state)));
        }
        let built: i64 = self
            .conn
            .query_row("SELECT length(message) FROM outbox WHERE id = ?1", [id], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if built == 0 {
            return Err(self.err(format!(
                "mail {id} to {} was never built ({}): fix that in searchlight.toml (`searchlight check`); its clues were not counted as told, so the next run's digest carries them",
                m.recipient,
                m.last_error.as_deref().unwrap_or("no reason recorded")
            )));
        }
        self.conn
            .execute(
                "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?2 WHERE id = ?1",
                params![id, stamp(now)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.mail(id)?.expect("just updated"))
    }
}
