//! The sender: drains the outbox over SMTP with lettre (plain, STARTTLS or implicit TLS; AUTH
//! with the password from the environment variable the settings name). A mail the server does
//! not take for now (no connection, a 4xx answer) is tried again after a wait that doubles each
//! time; a 5xx answer, or too many attempts, marks it failed and tells the admin. Each mail goes
//! out with the Message-ID it was queued with. Delivery is exactly once except in one window: the
//! server has accepted a mail and the process dies before the outbox records it — then the same
//! message (same Message-ID) is sent again at the next start (docs/serve.md).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::ledger::{Ledger, Mail};
use crate::settings::{Security, Serve, Smtp};

/// The longest one attempt at one mail may take, connection and conversation together.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// How one attempt went.
#[derive(Debug)]
pub enum Attempt {
    Sent,
    /// Try again later.
    Transient(String),
    /// The server refused it for good.
    Permanent(String),
}

/// An SMTP connection setting, ready to send.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    retry: Duration,
    attempts: u32,
}

impl Sender {
    /// The sender `[smtp]` describes; `root` is the project (for `ca_file`).
    pub fn new(smtp: &Smtp, root: &Path) -> anyhow::Result<Sender> {
        let host = smtp.host.get_ref().clone();
        let tls = || -> anyhow::Result<TlsParameters> {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(ca) = &smtp.ca_file {
                let file = root.join(ca.get_ref());
                let pem = std::fs::read(&file).map_err(|e| anyhow::anyhow!("smtp.ca_file {}: {e}", file.display()))?;
                b = b.add_root_certificate(
                    Certificate::from_pem(&pem).map_err(|e| anyhow::anyhow!("smtp.ca_file {}: {e}", file.display()))?,
                );
            }
            Ok(b.build_rustls()?)
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(smtp.port())
            .timeout(Some(Duration::from_secs(30)));
        builder = match smtp.security {
            Security::Plain => builder.tls(Tls::None),
            Security::Starttls => builder.tls(Tls::Required(tls()?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
        };
        if let (Some(user), Some(var)) = (&smtp.user, &smtp.password_env) {
            let password = std::env::var(var.get_ref()).map_err(|_| {
                anyhow::anyhow!(
                    "smtp.password_env: the environment variable {} is not set (it holds the SMTP password)",
                    var.get_ref()
                )
            })?;
            builder = builder.credentials(Credentials::new(user.get_ref().clone(), password));
        }
        let from = crate::digest::message::mailbox(smtp.from.get_ref())?.email;
        Ok(Sender { transport: builder.build(), from, retry: smtp.retry(), attempts: smtp.attempts() })
    }

    /// One attempt at one mail.
    pub async fn attempt(&self, mail: &Mail) -> Attempt {
        let to = match crate::digest::message::mailbox(&mail.address) {
            Ok(m) => m.email,
            Err(e) => return Attempt::Permanent(e.to_string()),
        };
        let envelope = match Envelope::new(Some(self.from.clone()), vec![to]) {
            Ok(e) => e,
            Err(e) => return Attempt::Permanent(e.to_string()),
        };
        // lettre bounds each read and write; this bounds the whole conversation, so a server
        // that stops answering mid-way cannot hold the outbox up
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.transport.send_raw(&envelope, &mail.message)).await {
            Ok(Ok(_)) => Attempt::Sent,
            Ok(Err(e)) if e.is_permanent() => Attempt::Permanent(e.to_string()),
            Ok(Err(e)) => Attempt::Transient(e.to_string()),
            Err(_) => Attempt::Transient(format!("no answer from the SMTP server within {ATTEMPT_TIMEOUT:?}")),
        }
    }

    /// The wait before attempt `n + 1` after `n` failed ones: doubling, at most an hour.
    pub fn backoff(&self, failed: u32) -> Duration {
        let factor = 1u32.checked_shl(failed.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
        self.retry.saturating_mul(factor).min(Duration::from_secs(3600))
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Default)]
pub struct Drained {
    pub sent: Vec<Mail>,
    pub retried: Vec<(Mail, String)>,
    pub failed: Vec<(Mail, String)>,
}

/// Sends every due mail once; failures are rescheduled or given up (and the admin told).
pub async fn drain(
    ledger: &mut Ledger,
    sender: &Sender,
    settings: &Serve,
    now: &(dyn Fn() -> DateTime<Utc> + Sync),
) -> anyhow::Result<Drained> {
    let mut out = Drained::default();
    let due = tokio::task::block_in_place(|| ledger.due_mails(now()))?;
    for mail in due {
        match sender.attempt(&mail).await {
            Attempt::Sent => {
                // the window of a second delivery: accepted by the server, not yet recorded
                crate::fault::point("outbox.after_send");
                tokio::task::block_in_place(|| ledger.mail_sent(mail.id, now()))?;
                out.sent.push(mail);
            }
            Attempt::Transient(e) if (mail.attempts as u32) + 1 < sender.attempts => {
                let next = now() + chrono::Duration::from_std(sender.backoff(mail.attempts as u32 + 1))?;
                tokio::task::block_in_place(|| ledger.mail_retry(mail.id, &e, next))?;
                out.retried.push((mail, e));
            }
            Attempt::Transient(e) | Attempt::Permanent(e) => {
                tokio::task::block_in_place(|| ledger.mail_failed(mail.id, &e))?;
                if mail.kind != "alert" {
                    let body = format!(
                        "邮件 {}（{}，收件人 {} <{}>）发送失败，已尝试 {} 次：{e}\n\n处理后可用 searchlight outbox retry {} 重新发送。\n",
                        mail.id,
                        mail.subject,
                        mail.recipient,
                        mail.address,
                        mail.attempts + 1,
                        mail.id
                    );
                    let alert = crate::digest::alert(
                        settings,
                        &format!("mail-{}-{}", mail.id, mail.attempts + 1),
                        &format!("邮件发送失败：{}", mail.subject.trim_start_matches("【探照灯】")),
                        &body,
                        now(),
                    );
                    if let Some(a) = alert {
                        tokio::task::block_in_place(|| ledger.queue_mails(&[a], None, now()))?;
                    }
                }
                out.failed.push((mail, e));
            }
        }
    }
    Ok(out)
}
