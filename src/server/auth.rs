//! Who is asking and what they may see: the session cookie or API token of a request, the form
//! (CSRF) token a browser's change must carry, the limit on failed sign-ins per account and per
//! address. A user's scope is [`User::scope`], the one rule for the workbench and mail.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, header};

use super::api::ApiError;
use crate::ledger::{Access, Ledger, Role, User};

/// The session cookie's name.
pub const COOKIE: &str = "searchlight_session";

/// The cookie that binds the sign-in form to the browser that drew it (double submit: the form
/// carries the same value), so another site cannot sign a browser in under its own account.
pub const LOGIN_COOKIE: &str = "searchlight_login";

/// The header a signed-in browser sends its form token in (pages send it as a form field).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Failed sign-ins allowed per account and per address within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// What a request says about its sender, before anyone is trusted.
#[derive(Debug, Clone)]
pub struct Asker {
    pub method: Method,
    pub headers: HeaderMap,
    pub address: Option<String>,
    /// The form token a page's form sent as a field (the API sends it as a header).
    pub form_token: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Asker {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let address = peer.map(|p| client_address(p, &parts.headers));
        Ok(Asker { method: parts.method.clone(), headers: parts.headers.clone(), address, form_token: None })
    }
}

/// The address a request came from: the peer's, or — when the peer is this machine, a reverse
/// proxy in front as docs/serve.md sets it up — the address that proxy put last in
/// `X-Forwarded-For` (the one it saw; earlier entries are the client's own word). Without this,
/// every user behind the proxy would share one sign-in limit and one address in the log.
pub fn client_address(peer: std::net::IpAddr, headers: &HeaderMap) -> String {
    if peer.is_loopback()
        && let Some(last) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|s| !s.is_empty())
        && let Ok(ip) = last.parse::<std::net::IpAddr>()
    {
        return ip.to_string();
    }
    peer.to_string()
}

impl Asker {
    /// The session cookie's value, if any.
    pub fn cookie(&self) -> Option<String> {
        self.cookie_named(COOKIE)
    }

    /// A cookie's value, if the request carries it.
    pub fn cookie_named(&self, name: &str) -> Option<String> {
        self.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
            line.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == name && !v.is_empty()).then(|| v.to_string())
            })
        })
    }

    /// The bearer token, if any.
    pub fn token(&self) -> Option<String> {
        let v = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
    }

    /// Whether the request came over TLS to a proxy in front (its cookie is then `Secure`).
    pub fn behind_tls(&self) -> bool {
        self.headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    }

    /// An access-log entry of this request.
    pub fn entry(&self, who: &str, via: &str, action: &str, object: Option<&str>, outcome: &str) -> Access {
        Access {
            who: who.to_string(),
            via: via.to_string(),
            address: self.address.clone(),
            action: action.to_string(),
            // what a caller asked for may be anything they typed: the log keeps its start
            object: object.map(|o| o.chars().take(200).collect()),
            outcome: outcome.to_string(),
            ..Default::default()
        }
    }
}

/// A signed-in user and how they came.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// `web` (a session cookie) or `api` (a token).
    pub via: &'static str,
    pub address: Option<String>,
    /// The session's form token (a browser's), which the forms of its pages carry.
    pub csrf: Option<String>,
}

impl Caller {
    /// The name the trail records for their steps.
    pub fn actor(&self) -> String {
        if self.user.display == self.user.name {
            self.user.name.clone()
        } else {
            format!("{} ({})", self.user.display, self.user.name)
        }
    }

    /// The redactor of what they are shown: full numbers only when granted.
    pub fn redactor(&self) -> crate::redact::Redactor {
        use crate::redact::{Grant, Redactor};
        Redactor::new(if self.user.show_ids { Grant::Full } else { Grant::Masked })
    }
}

/// Who is asking: a live session (whose changes must carry its form token) or an API token.
/// Anyone else is refused (401), and the refusal logged.
pub fn authenticate(ledger: &Ledger, asker: &Asker, action: &str) -> Result<Caller, ApiError> {
    let caller = if let Some(token) = asker.token() {
        ledger.token_user(&token)?.map(|user| Caller { user, via: "api", address: asker.address.clone(), csrf: None })
    } else if let Some(cookie) = asker.cookie() {
        match ledger.session(&cookie)? {
            Some((user, csrf)) => {
                let changes = !matches!(asker.method, Method::GET | Method::HEAD | Method::OPTIONS);
                let header = asker.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                let sent = header.or(asker.form_token.as_deref()).unwrap_or("");
                if changes && !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                    ledger.log_access(&asker.entry(&user.name, "web", action, None, "refused: no form token"))?;
                    return Err(ApiError::forbidden(
                        "表单已失效, 请刷新页面后重试 (the form token is missing or stale)",
                    ));
                }
                Some(Caller { user, via: "web", address: asker.address.clone(), csrf: Some(csrf) })
            }
            None => None,
        }
    } else {
        None
    };
    match caller {
        Some(c) => Ok(c),
        None => {
            ledger.log_access(&asker.entry("anonymous", "api", action, None, "refused: not signed in"))?;
            Err(ApiError::unauthorized())
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuses a caller whose role is not one of `roles` (403), logging the refusal.
pub fn require(
    ledger: &Ledger,
    c: &Caller,
    roles: &[Role],
    action: &str,
    object: Option<&str>,
) -> Result<(), ApiError> {
    if roles.contains(&c.user.role) {
        return Ok(());
    }
    ledger.log_access(&Access {
        who: c.user.name.clone(),
        via: c.via.into(),
        address: c.address.clone(),
        action: action.into(),
        object: object.map(str::to_string),
        outcome: "refused: role".into(),
        ..Default::default()
    })?;
    Err(ApiError::forbidden(&format!(
        "{}无权进行此操作 (not allowed for the role {})",
        c.user.role.label(),
        c.user.role.name()
    )))
}

/// Failed sign-ins, per account and per address, in a sliding window.
#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    /// Whether any of `keys` has used up its failures; when so, how long until one expires.
    pub fn blocked(&self, keys: &[String]) -> Option<Duration> {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| {
                let q = f.get_mut(k)?;
                while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    q.pop_front();
                }
                (q.len() >= MAX_FAILURES).then(|| WINDOW.saturating_sub(now.duration_since(q[0])))
            })
            .max()
    }

    /// Counts a failure against each key.
    pub fn failed(&self, keys: &[String]) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // bounded: a flood of names cannot grow the map past this
        if f.len() > 100_000 {
            let now = Instant::now();
            f.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= WINDOW));
        }
        for k in keys {
            f.entry(k.clone()).or_default().push_back(Instant::now());
        }
    }

    /// Forgets an account's failures (after it signs in).
    pub fn forget(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_address_is_the_proxys_last_forwarded_one_only_behind_a_local_proxy() {
        use axum::http::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 10.0.0.7"));
        let local: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let remote: std::net::IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(super::client_address(local, &h), "10.0.0.7");
        assert_eq!(super::client_address(remote, &h), "10.0.0.9", "a remote peer's header is its own word");
        h.insert("x-forwarded-for", HeaderValue::from_static("not an address"));
        assert_eq!(super::client_address(local, &h), "127.0.0.1");
        assert_eq!(super::client_address(local, &HeaderMap::new()), "127.0.0.1");
    }

    #[test]
    fn the_limiter_blocks_after_the_failures_and_forgets_a_good_sign_in() {
        let l = super::Limiter::default();
        let keys = ["user:wang".to_string(), "addr:10.0.0.1".to_string()];
        for _ in 0..super::MAX_FAILURES - 1 {
            l.failed(&keys);
        }
        assert!(l.blocked(&keys).is_none());
        l.failed(&keys);
        assert!(l.blocked(&keys[..1]).is_some() && l.blocked(&keys[1..]).is_some());
        l.forget("user:wang");
        assert!(l.blocked(&keys[..1]).is_none());
        assert!(l.blocked(&["addr:10.0.0.2".into()]).is_none());
    }
}
