//! HTTP JSON API sources: a paged API (交易中心, 一卡通 platforms) read live as a
//! [`Source`].
//!
//! Each page is a JSON document whose records sit at `records` (`data.list`); a record's keys
//! are the headers the connector maps from (dotted names reach into nested objects, as for a
//! `type = "json"` export), settled by the first page. Values arrive as their JSON text and go
//! through the connector's converter like any export's cells.
//!
//! Paging is declared, never guessed: page numbers, offsets, a cursor from each page, or the next
//! page's address in each page. The API is treated as a peer that may fail: a request that fails
//! on the way or with 429 / 5xx is retried with backoff (honouring `Retry-After`); any other error
//! status, a page that is not JSON, a page with no records where the connector says they are, or
//! a page that repeats an earlier one (an API ignoring the paging parameter) fails the ingest
//! with the page's address — never a silent partial snapshot. Requests are spaced to
//! `rate_limit`; `max_pages` bounds an API that never ends.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::Mutex;

use super::ndjson::{collect_keys, lookup};
use super::source::{Header, QuerySplit, Rows, Source, Split, Survey, TextBatch, TypeFamily, Watch};
use super::spec::{HttpSpec, Paging};
use super::{Connector, Error, Result};

/// Records per landed batch.
const BATCH_ROWS: usize = 50_000;
/// The largest page read: a page beyond it is an error (a JSON page is held whole to parse it).
const MAX_PAGE_BYTES: usize = 256 << 20;
/// Characters of a failed response's body shown in the error.
const SHOWN_BODY: usize = 200;

/// The source of an `[http]` connector; fails, naming the connector, when the auth variable is
/// unset or the address is not one.
pub fn open(conn: &Connector, spec: &HttpSpec) -> Result<Box<dyn Source>> {
    let shown = format!("{} ({})", conn.path.display(), shown_url(&spec.url));
    let err = |message: String| Error::Source { file: shown.clone(), message };
    let url = url::Url::parse(&spec.url).map_err(|e| err(format!("url `{}`: {e}", spec.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(format!("url `{}`: not an http:// or https:// address", spec.url)));
    }
    let auth = match (&spec.auth_header, &spec.auth_env) {
        (Some(h), Some(var)) => {
            let value = std::env::var(var)
                .map_err(|_| err(format!("environment variable {var} (`auth_env` of [http]) is not set")))?;
            let mut v = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| err(format!("environment variable {var} holds no valid header value")))?;
            v.set_sensitive(true);
            let name = reqwest::header::HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| err(format!("auth_header `{h}` is not a header name")))?;
            Some((name, v))
        }
        _ => None,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(spec.timeout.unwrap_or(30).max(1)))
        .user_agent(concat!("searchlight/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| err(format!("HTTP client: {e}")))?;
    let wanted = conn.input_columns().flat_map(|(_, c)| c.from.iter().cloned()).collect();
    Ok(Box::new(Http {
        spec: spec.clone(),
        url,
        shown,
        auth,
        client,
        wanted,
        first: Mutex::new(None),
        last_request: Mutex::new(None),
    }))
}

/// An address for messages: query values that look secret (`token`, `key`, `sign`) hidden.
fn shown_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else { return url.to_string() };
    if u.query().is_none() {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let secret = ["token", "key", "secret", "sign", "password", "pwd", "auth"]
                .iter()
                .any(|w| k.to_ascii_lowercase().contains(w));
            (k.into_owned(), if secret { "***".into() } else { v.into_owned() })
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

struct Http {
    spec: HttpSpec,
    url: url::Url,
    shown: String,
    auth: Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    client: reqwest::Client,
    /// Every name the connector maps from: the header of an API that returns no record.
    wanted: Vec<String>,
    /// The first page, fetched by the survey and landed by the read, and the record keys it
    /// settled as the headers.
    first: Mutex<Option<(Page, Vec<String>)>>,
    /// When the last request started (`rate_limit`).
    last_request: Mutex<Option<Instant>>,
}

/// One page as read.
struct Page {
    url: url::Url,
    records: Vec<Value>,
    /// The whole page (for cursors and next links).
    doc: Value,
}

/// Where the paging stands.
enum Position {
    Page(u64),
    Offset(u64),
    Cursor(Option<String>),
    Next(url::Url),
    Done,
}

impl Http {
    fn err(&self, message: impl std::fmt::Display) -> Error {
        Error::Source { file: self.shown.clone(), message: message.to_string() }
    }

    fn page_size(&self) -> u64 {
        self.spec.page_size.unwrap_or(100).max(1)
    }

    fn start(&self) -> Position {
        match self.spec.paging {
            Paging::None => Position::Next(self.url.clone()),
            Paging::Page => Position::Page(self.spec.first_page.unwrap_or(1)),
            Paging::Offset => Position::Offset(0),
            Paging::Cursor => Position::Cursor(None),
            Paging::Next => Position::Next(self.url.clone()),
        }
    }

    /// The address of the page at `pos`.
    fn address(&self, pos: &Position) -> Option<url::Url> {
        let mut u = self.url.clone();
        let set = |u: &mut url::Url, k: &str, v: &str| {
            let kept: Vec<(String, String)> =
                u.query_pairs().filter(|(n, _)| n != k).map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
            u.query_pairs_mut().clear().extend_pairs(kept).append_pair(k, v);
        };
        match pos {
            Position::Done => return None,
            Position::Next(next) => return Some(next.clone()),
            Position::Page(n) => {
                set(&mut u, self.spec.page_param.as_deref().unwrap_or("page"), &n.to_string());
                if let Some(p) = &self.spec.size_param {
                    set(&mut u, p, &self.page_size().to_string());
                }
            }
            Position::Offset(o) => {
                set(&mut u, self.spec.offset_param.as_deref().unwrap_or("offset"), &o.to_string());
                set(&mut u, self.spec.size_param.as_deref().unwrap_or("limit"), &self.page_size().to_string());
            }
            Position::Cursor(c) => {
                if let Some(c) = c {
                    set(&mut u, self.spec.cursor_param.as_deref().unwrap_or("cursor"), c);
                }
            }
        }
        if u.query() == Some("") {
            u.set_query(None);
        }
        Some(u)
    }

    /// Where the paging goes after `page`.
    fn advance(&self, pos: Position, page: &Page) -> Result<Position> {
        let text_at = |path: &str| match at_path(&page.doc, path) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Ok(match (self.spec.paging, pos) {
            (Paging::None, _) => Position::Done,
            (_, _) if page.records.is_empty() && matches!(self.spec.paging, Paging::Page | Paging::Offset) => {
                Position::Done
            }
            (Paging::Page, Position::Page(n)) => Position::Page(n + 1),
            (Paging::Offset, Position::Offset(o)) => Position::Offset(o + page.records.len() as u64),
            (Paging::Cursor, _) => {
                let path = self.spec.cursor_path.as_deref().unwrap_or("next_cursor");
                match text_at(path) {
                    Some(c) => Position::Cursor(Some(c)),
                    None => Position::Done,
                }
            }
            (Paging::Next, _) => {
                let path = self.spec.next_path.as_deref().unwrap_or("next");
                match text_at(path) {
                    Some(next) => Position::Next(
                        page.url.join(&next).map_err(|e| self.err(format!("next page `{next}` at `{path}`: {e}")))?,
                    ),
                    None => Position::Done,
                }
            }
            (_, _) => Position::Done,
        })
    }

    /// Waits for the rate limit, then sends one request, retrying what may pass on a retry.
    async fn fetch(&self, url: &url::Url) -> Result<Page> {
        let shown = shown_url(url.as_str());
        let retries = self.spec.retries.unwrap_or(3);
        let mut attempt = 0u32;
        loop {
            self.pace().await;
            let mut req = self.client.get(url.clone()).header(reqwest::header::ACCEPT, "application/json");
            if let Some((k, v)) = &self.auth {
                req = req.header(k.clone(), v.clone());
            }
            let failure = match req.send().await {
                Err(e) => format!("request failed: {}", error_chain(&e)),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let kind = resp
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let body = read_body(resp).await.map_err(|m| self.err(format!("{shown}: {m}")))?;
                    if status.is_success() {
                        return self.parse(url, &shown, &kind, &body);
                    }
                    let excerpt = excerpt(&body);
                    let retryable = status.as_u16() == 429 || status.is_server_error();
                    if !retryable || attempt >= retries {
                        let tries = if retryable { format!(" after {} tries", attempt + 1) } else { String::new() };
                        return Err(self.err(format!("{shown}: HTTP {status}{tries}: {excerpt}")));
                    }
                    if let Some(secs) = retry_after {
                        tokio::time::sleep(Duration::from_secs(secs.min(60))).await;
                        attempt += 1;
                        continue;
                    }
                    format!("HTTP {status}: {excerpt}")
                }
            };
            if attempt >= retries {
                return Err(self.err(format!("{shown}: {failure} (after {} tries)", attempt + 1)));
            }
            tokio::time::sleep(Duration::from_millis(500u64 << attempt.min(6))).await;
            attempt += 1;
        }
    }

    async fn pace(&self) {
        let Some(rate) = self.spec.rate_limit.filter(|r| *r > 0.0) else { return };
        let gap = Duration::from_secs_f64(1.0 / rate);
        let mut last = self.last_request.lock().await;
        if let Some(t) = *last {
            let due = t + gap;
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        *last = Some(Instant::now());
    }

    fn parse(&self, url: &url::Url, shown: &str, kind: &str, body: &[u8]) -> Result<Page> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| {
            let kind = if kind.is_empty() { String::new() } else { format!(" ({kind})") };
            self.err(format!("{shown}: the response{kind} is not JSON: {e}: {}", excerpt(body)))
        })?;
        let records = match &self.spec.records {
            Some(path) => match at_path(&doc, path) {
                Some(Value::Array(a)) => a.clone(),
                Some(Value::Null) => Vec::new(),
                Some(_) => return Err(self.err(format!("{shown}: `{path}` is not an array of records"))),
                None => {
                    return Err(self
                        .err(format!("{shown}: the page has no `{path}` (records = \"{path}\"): {}", excerpt(body))));
                }
            },
            None => match &doc {
                Value::Array(a) => a.clone(),
                // the page's own array of records (of objects, or empty)
                Value::Object(m) => match m.values().find_map(|v| match v {
                    Value::Array(a) if a.is_empty() || a.iter().any(Value::is_object) => Some(a.clone()),
                    _ => None,
                }) {
                    Some(a) => a,
                    None => {
                        return Err(self.err(format!(
                            "{shown}: the page holds no array of records at its top: name where they are with `records = \"…\"` ({})",
                            excerpt(body)
                        )));
                    }
                },
                _ => return Err(self.err(format!("{shown}: the page holds no records: {}", excerpt(body)))),
            },
        };
        Ok(Page { url: url.clone(), records, doc })
    }

    /// Turns a page's records into rows of the header's keys.
    fn rows(&self, page: &Page, names: &[Vec<String>], batch: &mut TextBatch) {
        for r in &page.records {
            match r {
                Value::Object(m) => {
                    let cells: Vec<Option<String>> =
                        names.iter().map(|path| lookup(m, path).and_then(value_text)).collect();
                    batch.push_row(cells.iter().map(Option::as_deref));
                }
                // not a record: a row of NULLs the converter sets aside as missing values
                _ => batch.push_row(names.iter().map(|_| None)),
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut m = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        m = format!("{m}: {s}");
        src = s.source();
    }
    m
}

async fn read_body(mut resp: reqwest::Response) -> std::result::Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading the response: {}", error_chain(&e)))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_PAGE_BYTES {
            return Err(format!(
                "the page is larger than {} — ask for smaller pages (page_size)",
                crate::limits::bytes_text(MAX_PAGE_BYTES as u64)
            ));
        }
    }
    Ok(body)
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t: String = text.chars().take(SHOWN_BODY).collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > SHOWN_BODY { format!("{t}…") } else { t }
}

fn at_path<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(doc, |v, k| match v {
        Value::Object(m) => m.get(k),
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A JSON value as the text of a cell: strings as they are, numbers in their exact digits,
/// arrays and objects as JSON text, null as NULL.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

#[async_trait]
impl Source for Http {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    async fn survey(&self, _since: Option<&str>, _watch: &dyn Watch) -> Result<Survey> {
        let pos = self.start();
        let url = self.address(&pos).expect("the first page has an address");
        let page = self.fetch(&url).await?;
        let mut names = Vec::new();
        for r in &page.records {
            if let Value::Object(m) = r {
                collect_keys(m, "", &mut names);
            }
        }
        if page.records.is_empty() {
            names = self.wanted.clone();
        }
        names.sort();
        names.dedup();
        let families = vec![TypeFamily::Text; names.len()];
        let types = vec!["json".to_string(); names.len()];
        *self.first.lock().await = Some((page, names.clone()));
        Ok(Survey {
            header: Some(Header { names, types, families }),
            splits: vec![Split::Query(QuerySplit { label: self.shown.clone(), request: url.to_string() })],
            ..Default::default()
        })
    }

    async fn read(&self, _split: &Split, out: tokio::sync::mpsc::Sender<Rows>) -> Result<u64> {
        let (first, keys) = self.first.lock().await.take().ok_or_else(|| self.err("read before survey"))?;
        let paths: Vec<Vec<String>> = keys.iter().map(|k| k.split('.').map(str::to_string).collect()).collect();
        let max_pages = self.spec.max_pages.unwrap_or(100_000).max(1);
        let mut seen: HashMap<blake3::Hash, u64> = HashMap::new();
        // addresses already fetched: a cursor or next link that leads back is a loop
        let mut visited: HashMap<String, u64> = HashMap::from([(first.url.to_string(), 1)]);
        let (mut pos, mut page, mut n, mut read) = (self.start(), first, 1u64, 0u64);
        let mut batch = TextBatch::new(paths.len(), 1);
        loop {
            if !page.records.is_empty() {
                let hash = blake3::hash(Value::Array(page.records.clone()).to_string().as_bytes());
                if let Some(earlier) = seen.insert(hash, n) {
                    return Err(self.err(format!(
                        "page {n} ({}) repeats page {earlier}: the API does not follow the paging (paging = \"{}\") — nothing is landed",
                        shown_url(page.url.as_str()),
                        paging_name(self.spec.paging)
                    )));
                }
            }
            self.rows(&page, &paths, &mut batch);
            read += page.records.len() as u64;
            if batch.full(BATCH_ROWS) {
                let next = TextBatch::new(paths.len(), read + 1);
                if out.send(std::mem::replace(&mut batch, next).into()).await.is_err() {
                    return Err(self.err("the lake stopped taking rows"));
                }
            }
            pos = self.advance(pos, &page)?;
            let Some(url) = self.address(&pos) else { break };
            if n >= max_pages {
                return Err(self.err(format!(
                    "more than {max_pages} pages (max_pages): the API does not end — nothing is landed"
                )));
            }
            n += 1;
            if let Some(earlier) = visited.insert(url.to_string(), n) {
                return Err(self.err(format!(
                    "page {n} ({}) is the address of page {earlier} again: the API's paging goes round in a circle (paging = \"{}\") — nothing is landed",
                    shown_url(url.as_str()),
                    paging_name(self.spec.paging)
                )));
            }
            page = self.fetch(&url).await?;
        }
        if !batch.is_empty() && out.send(batch.into()).await.is_err() {
            return Err(self.err("the lake stopped taking rows"));
        }
        Ok(read)
    }
}

fn paging_name(p: Paging) -> &'static str {
    match p {
        Paging::None => "none",
        Paging::Page => "page",
        Paging::Offset => "offset",
        Paging::Cursor => "cursor",
        Paging::Next => "next",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_query_values_are_hidden() {
        assert_eq!(
            shown_url("https://x.gov.cn/api?year=2025&access_token=abc&appKey=k"),
            "https://x.gov.cn/api?year=2025&access_token=***&appKey=***"
        );
        assert_eq!(shown_url("https://x.gov.cn/api"), "https://x.gov.cn/api");
    }

    #[test]
    fn numbers_keep_their_digits() {
        let v: Value = serde_json::from_str(r#"{"a": 110101199003071234, "b": 12.50, "c": null, "d": [1]}"#).unwrap();
        let Value::Object(m) = v else { panic!() };
        assert_eq!(value_text(&m["a"]).as_deref(), Some("110101199003071234"));
        assert_eq!(value_text(&m["c"]), None);
        assert_eq!(value_text(&m["d"]).as_deref(), Some("[1]"));
    }
}
