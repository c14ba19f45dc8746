//! A mail as bytes (RFC 5322, MIME), built with lettre's message builder: a plain-text body and,
//! when there is one, an HTML alternative, then the attachments. Headers in UTF-8 are encoded
//! by lettre (RFC 2047 / 2231), so Chinese subjects and file names arrive intact.

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment as Part, Mailbox, MultiPart, SinglePart};

/// A file attached to a mail.
pub struct Attachment {
    pub name: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// What a mail is made of.
pub struct Parts<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    pub date: DateTime<Utc>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// A stable Message-ID: the same for the same kind, run and recipient — kept across retries, so
/// a mail sent twice (see docs/serve.md) is recognisably one mail.
pub fn message_id(kind: &str, key: &str, recipient: &str, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("searchlight.invalid");
    let who = &blake3::hash(recipient.as_bytes()).to_hex()[..12];
    let key: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '.' }).collect();
    format!("<{kind}.{key}.{who}@{domain}>")
}

/// Parses a mailbox (`名称 <a@b>` or `a@b`).
pub fn mailbox(s: &str) -> anyhow::Result<Mailbox> {
    s.trim().parse::<Mailbox>().map_err(|e| anyhow::anyhow!("`{s}` is not a mail address: {e}"))
}

/// The message's bytes.
pub fn build(p: &Parts<'_>) -> anyhow::Result<Vec<u8>> {
    let builder = lettre::Message::builder()
        .from(mailbox(p.from)?)
        .to(mailbox(p.to)?)
        .subject(p.subject)
        .message_id(Some(p.message_id.to_string()))
        .date(std::time::SystemTime::from(p.date))
        .user_agent(format!("searchlight {}", env!("CARGO_PKG_VERSION")));
    let body = match &p.html {
        Some(html) => MultiPart::alternative_plain_html(p.text.clone(), html.clone()),
        None => MultiPart::mixed().singlepart(SinglePart::plain(p.text.clone())),
    };
    let mut all = MultiPart::mixed().multipart(body);
    for a in &p.attachments {
        let ct = ContentType::parse(a.content_type).map_err(|e| anyhow::anyhow!("{}: {e}", a.content_type))?;
        all = all.singlepart(Part::new(a.name.clone()).body(a.body.clone(), ct));
    }
    let msg = builder.multipart(all)?;
    Ok(msg.formatted())
}
