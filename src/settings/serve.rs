//! The service settings of `searchlight.toml`: the time zone, the schedules (jobs), SMTP, the
//! subscribers and the admin address — strict keys, and every value checked with the file, line
//! and column of the key it came from. Secrets are never in the file: it names the environment
//! variable that holds the SMTP password.

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

/// The time zone schedules are read in unless `time_zone` says otherwise.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// Where the workbench listens, checked: `None` for `off`.
pub fn listen_address(v: &str) -> Result<Option<std::net::SocketAddr>, String> {
    if v.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    v.trim().parse().map(Some).map_err(|_| {
        format!(
            "listen `{}` is not an address and port (127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080) nor `off`",
            v.escape_debug()
        )
    })
}

/// The service part of `searchlight.toml` (its top-level keys besides `[library]`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Serve {
    /// IANA time zone of the schedules (default `Asia/Shanghai`).
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
    /// Who hears of failed runs and failed mail.
    #[serde(default)]
    pub admin: Option<Spanned<String>>,
    #[serde(default)]
    pub smtp: Option<Smtp>,
    /// `[[schedule]]`: the jobs.
    #[serde(default)]
    pub schedule: Vec<Job>,
    /// `[[subscriber]]`: who receives what.
    #[serde(default)]
    pub subscriber: Vec<Subscriber>,
    /// Where the workbench listens (`127.0.0.1:8080` by default; `off`: no workbench).
    #[serde(default)]
    pub listen: Option<Spanned<String>>,
}

/// `[[schedule]]`: connectors to ingest and models to run on a cron expression.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub name: Spanned<String>,
    /// sec min hour day-of-month month day-of-week (the `cron` crate's format), read in the
    /// project's time zone.
    pub cron: Spanned<String>,
    /// Connector ids or dataset names to ingest first; `["*"]` for all; none by default.
    #[serde(default)]
    pub connectors: Vec<Spanned<String>>,
    /// Models to run, by id, domain or area (any of them); all three empty = every model.
    #[serde(default)]
    pub models: Vec<Spanned<String>>,
    #[serde(default)]
    pub domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub areas: Vec<Spanned<String>>,
    /// How long a run may take: `90s`, `30m`, `2h` (default `1h`).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// The run's as-of date: `today` (default: the day of the run, in the time zone),
    /// `yesterday`, `previous_month_end`, or a date.
    #[serde(default)]
    pub as_of: Option<Spanned<String>>,
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// No TLS (a relay on the same host or a test server).
    Plain,
    /// Upgrade with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// `[smtp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: Spanned<String>,
    /// Default by `security`: 25 plain, 587 STARTTLS, 465 TLS.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "starttls")]
    pub security: Security,
    /// AUTH user; the password comes from the environment variable `password_env` names.
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    #[serde(default)]
    pub password_env: Option<Spanned<String>>,
    /// Never in the file: accepted only to say so at its line.
    #[serde(default)]
    pub password: Option<Spanned<toml::Value>>,
    /// The sender, e.g. `探照灯 <searchlight@county.gov.cn>`.
    pub from: Spanned<String>,
    /// A PEM file of the certificate authority that signed the server's certificate, for a
    /// server with a private CA (relative to the project); the system's roots otherwise.
    #[serde(default)]
    pub ca_file: Option<Spanned<String>>,
    /// Wait before the first retry of a mail the server did not take (`30s` default); doubled
    /// after each failed attempt, up to an hour.
    #[serde(default)]
    pub retry: Option<Spanned<String>>,
    /// Attempts before a mail is marked failed and the admin is told (default 8).
    #[serde(default)]
    pub attempts: Option<Spanned<u32>>,
}

fn starttls() -> Security {
    Security::Starttls
}

impl Smtp {
    /// The first retry's wait.
    pub fn retry(&self) -> std::time::Duration {
        self.retry.as_ref().and_then(|r| parse_duration(r.get_ref())).unwrap_or(std::time::Duration::from_secs(30))
    }

    /// Attempts before giving up.
    pub fn attempts(&self) -> u32 {
        self.attempts.as_ref().map(|a| *a.get_ref()).unwrap_or(8).max(1)
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Plain => 25,
            Security::Starttls => 587,
            Security::Tls => 465,
        })
    }
}

/// `[[subscriber]]`: a recipient and what they receive.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    pub name: Spanned<String>,
    pub email: Spanned<String>,
    /// Filters; an empty one lets everything through.
    #[serde(default)]
    pub domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub areas: Vec<Spanned<String>>,
    /// Inspected units by code or name, each with its subordinates.
    #[serde(default)]
    pub units: Vec<Spanned<String>>,
    /// `high`, `medium`, `low`.
    #[serde(default)]
    pub severities: Vec<Spanned<String>>,
    #[serde(default)]
    pub models: Vec<Spanned<String>>,
    /// May see ID and account numbers in full (default: masked). With `user`, that user's grant
    /// decides instead.
    #[serde(default)]
    pub show_ids: bool,
    /// A user of the workbench this subscriber is: their units (for a team member) and their
    /// grant of full numbers then apply to the mail too. An unknown or disabled user is sent
    /// nothing.
    #[serde(default)]
    pub user: Option<Spanned<String>>,
}

/// A job's as-of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Today,
    Yesterday,
    PreviousMonthEnd,
    Date(NaiveDate),
}

impl AsOf {
    pub fn parse(s: &str) -> Option<AsOf> {
        match s.trim() {
            "today" => Some(AsOf::Today),
            "yesterday" => Some(AsOf::Yesterday),
            "previous_month_end" => Some(AsOf::PreviousMonthEnd),
            other => NaiveDate::parse_from_str(other, "%Y-%m-%d").ok().map(AsOf::Date),
        }
    }

    /// The as-of date of a run started on `day` (in the project's time zone).
    pub fn date(self, day: NaiveDate) -> NaiveDate {
        match self {
            AsOf::Today => day,
            AsOf::Yesterday => day.pred_opt().unwrap_or(day),
            AsOf::PreviousMonthEnd => day.with_day0(0).and_then(|d| d.pred_opt()).unwrap_or(day),
            AsOf::Date(d) => d,
        }
    }
}

use chrono::Datelike;

pub use crate::limits::parse_duration;

/// What the names in the settings may refer to.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Connector ids and the datasets they land.
    pub connectors: BTreeSet<String>,
    pub models: BTreeSet<String>,
    pub domains: BTreeSet<String>,
    pub areas: BTreeSet<String>,
    /// The workbench's enabled users (`None`: no ledger to ask, not judged).
    pub users: Option<BTreeSet<String>>,
}

impl Serve {
    /// The schedules' time zone.
    pub fn tz(&self) -> Tz {
        self.time_zone.as_ref().and_then(|t| Tz::from_str(t.get_ref()).ok()).unwrap_or(DEFAULT_TIME_ZONE)
    }

    /// Every fault of the settings, as `file:line:col: message` (the text is the file's, for
    /// positions).
    pub fn check(&self, path: &Path, text: &str, names: &Names) -> Vec<String> {
        self.faults(path, text, Some(names))
    }

    /// The faults of the service's own settings — a password in the file, an admin or sender
    /// address that is not one, a cron or timeout that does not parse: what stops `serve` and
    /// `pipeline`. Names are not resolved and subscribers' addresses not judged here: a
    /// connector or model that fails to load, or one subscriber's bad address, fails alone at
    /// the run, not the service.
    pub fn check_settings(&self, path: &Path, text: &str) -> Vec<String> {
        self.faults(path, text, None)
    }

    fn faults(&self, path: &Path, text: &str, names: Option<&Names>) -> Vec<String> {
        let everything = Names::default();
        let (names, full) = match names {
            Some(n) => (n, true),
            None => (&everything, false),
        };
        let mut out: Vec<Fault> = Vec::new();
        let at = |span: std::ops::Range<usize>, msg: String| {
            let (l, c) = crate::position::line_col(text, span.start);
            (l, c, msg)
        };
        if let Some(tz) = &self.time_zone
            && Tz::from_str(tz.get_ref()).is_err()
        {
            out.push(at(
                tz.span(),
                format!("time_zone `{}` is not an IANA time zone (e.g. Asia/Shanghai, UTC)", tz.get_ref()),
            ));
        }
        let email = |s: &Spanned<String>, what: &str, out: &mut Vec<Fault>| {
            if let Err(why) = mailbox(s.get_ref()) {
                out.push(at(s.span(), format!("{what} `{}`: {why}", s.get_ref().escape_debug())));
            }
        };
        if let Some(a) = &self.admin {
            email(a, "admin", &mut out);
        }
        if let Some(l) = &self.listen
            && let Err(why) = listen_address(l.get_ref())
        {
            out.push(at(l.span(), why));
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.get_ref().trim().is_empty() {
                out.push(at(smtp.host.span(), "smtp.host is empty".into()));
            }
            email(&smtp.from, "smtp.from", &mut out);
            if let Some(p) = &smtp.password {
                out.push(at(
                    p.span(),
                    "a password does not belong in searchlight.toml: put it in an environment variable and name that variable with password_env".into(),
                ));
            }
            match (&smtp.user, &smtp.password_env) {
                (Some(u), None) => out.push(at(
                    u.span(),
                    "smtp.user needs password_env (the environment variable holding the password)".into(),
                )),
                (None, Some(p)) => out.push(at(p.span(), "password_env without smtp.user".into())),
                _ => {}
            }
            if let Some(r) = &smtp.retry
                && parse_duration(r.get_ref()).is_none()
            {
                out.push(at(r.span(), format!("retry `{}`: write a number and s, m or h (30s, 5m)", r.get_ref())));
            }
            if let Some(ca) = &smtp.ca_file {
                let file = path.parent().unwrap_or(Path::new(".")).join(ca.get_ref());
                if !file.is_file() {
                    out.push(at(ca.span(), format!("ca_file `{}`: no such file ({})", ca.get_ref(), file.display())));
                }
            }
            if let Some(p) = &smtp.password_env {
                let v = p.get_ref();
                let name_like = !v.is_empty()
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !v.starts_with(|c: char| c.is_ascii_digit());
                if !name_like {
                    out.push(at(p.span(), format!("password_env `{v}` is not an environment variable name (it names the variable, e.g. SEARCHLIGHT_SMTP_PASSWORD)")));
                }
            }
        }
        let mut jobs = BTreeSet::new();
        for j in &self.schedule {
            if !jobs.insert(j.name.get_ref().clone()) {
                out.push(at(j.name.span(), format!("two schedules are named `{}`", j.name.get_ref())));
            }
            if let Err(e) = cron::Schedule::from_str(j.cron.get_ref()) {
                out.push(at(
                    j.cron.span(),
                    format!(
                        "cron `{}` is not a cron expression (sec min hour day month weekday): {e}",
                        j.cron.get_ref()
                    ),
                ));
            }
            if let Some(t) = &j.timeout
                && parse_duration(t.get_ref()).is_none()
            {
                out.push(at(
                    t.span(),
                    format!("timeout `{}`: write a number and s, m or h (90s, 30m, 2h)", t.get_ref()),
                ));
            }
            if let Some(a) = &j.as_of
                && AsOf::parse(a.get_ref()).is_none()
            {
                out.push(at(
                    a.span(),
                    format!("as_of `{}`: today, yesterday, previous_month_end or a date (YYYY-MM-DD)", a.get_ref()),
                ));
            }
            for c in j.connectors.iter().filter(|_| full) {
                if c.get_ref() != "*" && !names.connectors.contains(c.get_ref()) {
                    out.push(at(
                        c.span(),
                        format!("no connector or dataset `{}`{}", c.get_ref(), suggest(c.get_ref(), &names.connectors)),
                    ));
                }
            }
            if full {
                unknown(&j.models, &names.models, "model", &at, &mut out);
                unknown(&j.domains, &names.domains, "domain", &at, &mut out);
                unknown(&j.areas, &names.areas, "area", &at, &mut out);
            }
        }
        let mut subscribers = BTreeSet::new();
        for s in &self.subscriber {
            if !subscribers.insert(s.name.get_ref().clone()) {
                out.push(at(s.name.span(), format!("two subscribers are named `{}`", s.name.get_ref())));
            }
            if full {
                // one subscriber's address fails only that subscriber's mail at a run
                email(&s.email, "email", &mut out);
                unknown(&s.models, &names.models, "model", &at, &mut out);
                unknown(&s.domains, &names.domains, "domain", &at, &mut out);
                unknown(&s.areas, &names.areas, "area", &at, &mut out);
                if let (Some(u), Some(users)) = (&s.user, &names.users)
                    && !users.contains(u.get_ref())
                {
                    out.push(at(
                        u.span(),
                        format!(
                            "no enabled user `{}`: the subscriber would be sent nothing (`searchlight user list`)",
                            u.get_ref()
                        ),
                    ));
                }
            }
            let severities: BTreeSet<String> = ["high", "medium", "low"].iter().map(|s| s.to_string()).collect();
            unknown(&s.severities, &severities, "severity", &at, &mut out);
        }
        if !self.subscriber.is_empty()
            && let (None, Some(first)) = (&self.smtp, self.subscriber.first())
        {
            out.push(at(first.name.span(), "subscribers need an [smtp] section to be mailed".into()));
        }
        // in the order of the file
        out.sort();
        out.into_iter().map(|(l, c, m)| format!("{}:{l}:{c}: {m}", path.display())).collect()
    }
}

fn suggest(word: &str, known: &BTreeSet<String>) -> String {
    known
        .iter()
        .map(|k| (strsim::levenshtein(word, k), k))
        .filter(|(d, k)| *d <= 2.max(k.chars().count() / 3))
        .min()
        .map(|(_, k)| format!("; did you mean {k}?"))
        .unwrap_or_default()
}

/// A fault at a line and column.
type Fault = (usize, usize, String);

fn unknown(
    list: &[Spanned<String>],
    known: &BTreeSet<String>,
    what: &str,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Fault,
    out: &mut Vec<Fault>,
) {
    for v in list {
        if !known.contains(v.get_ref()) {
            out.push(at(v.span(), format!("no {what} `{}`{}", v.get_ref(), suggest(v.get_ref(), known))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            connectors: ["payroll", "deaths"].iter().map(|s| s.to_string()).collect(),
            models: ["relief.paid_after_death"].iter().map(|s| s.to_string()).collect(),
            domains: ["relief", "finance"].iter().map(|s| s.to_string()).collect(),
            areas: ["低保"].iter().map(|s| s.to_string()).collect(),
            users: Some(["wang"].iter().map(|s| s.to_string()).collect()),
        }
    }

    fn check(text: &str) -> Vec<String> {
        let cfg: crate::settings::Config = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        cfg.serve.check(Path::new("searchlight.toml"), text, &names())
    }

    const GOOD: &str = r#"time_zone = "Asia/Shanghai"
admin = "admin@county.gov.cn"

[smtp]
host = "127.0.0.1"
port = 2525
security = "plain"
user = "searchlight"
password_env = "SEARCHLIGHT_SMTP_PASSWORD"
from = "探照灯 <searchlight@county.gov.cn>"

[[schedule]]
name = "nightly"
cron = "0 30 2 * * *"
connectors = ["*"]
domains = ["relief"]
timeout = "30m"
as_of = "yesterday"

[[subscriber]]
name = "民生室"
email = "minsheng@county.gov.cn"
areas = ["低保"]
severities = ["high"]
"#;

    #[test]
    fn a_complete_example_is_accepted() {
        assert_eq!(check(GOOD), Vec::<String>::new());
        let cfg: crate::settings::Config = toml::from_str(GOOD).unwrap();
        assert_eq!(cfg.serve.tz(), chrono_tz::Asia::Shanghai);
        assert_eq!(cfg.serve.smtp.as_ref().unwrap().port(), 2525);
        assert_eq!(parse_duration("30m"), Some(std::time::Duration::from_secs(1800)));
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(AsOf::parse("yesterday").unwrap().date(day), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert_eq!(AsOf::parse("previous_month_end").unwrap().date(day), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
    }

    #[test]
    fn every_fault_is_named_at_its_line_and_column() {
        let bad = GOOD
            .replace("Asia/Shanghai", "Asia/Beijing")
            .replace("0 30 2 * * *", "every night")
            .replace("\"30m\"", "\"half an hour\"")
            .replace("domains = [\"relief\"]", "domains = [\"releif\"]")
            .replace("severities = [\"high\"]", "severities = [\"urgent\"]\nuser = \"zhang\"")
            .replace("admin = ", "listen = \"localhost\"\nadmin = ")
            .replace("password_env = \"SEARCHLIGHT_SMTP_PASSWORD\"", "password_env = \"s3cret pass\"");
        let errors = check(&bad);
        let want = [
            ("searchlight.toml:1:13:", "time_zone `Asia/Beijing`"),
            ("searchlight.toml:2:10:", "listen `localhost` is not an address and port"),
            ("searchlight.toml:10:16:", "not an environment variable name"),
            ("searchlight.toml:15:8:", "cron `every night`"),
            ("searchlight.toml:17:12:", "did you mean relief?"),
            ("searchlight.toml:18:11:", "timeout `half an hour`"),
            ("searchlight.toml:25:15:", "no severity `urgent`"),
            ("searchlight.toml:26:8:", "no enabled user `zhang`"),
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for ((pos, text), e) in want.iter().zip(&errors) {
            assert!(e.starts_with(pos) && e.contains(text), "{e} — wanted {pos} {text}");
        }
    }

    #[test]
    fn a_password_in_the_file_is_refused_and_unknown_keys_are_errors() {
        let with_password = GOOD.replace("password_env = \"SEARCHLIGHT_SMTP_PASSWORD\"", "password = \"hunter2\"");
        let errors = check(&with_password);
        assert!(
            errors.iter().any(|e| e.starts_with("searchlight.toml:9:12:") && e.contains("environment variable")),
            "{errors:#?}"
        );
        let typo = GOOD.replace("security = \"plain\"", "securty = \"plain\"");
        let e = toml::from_str::<crate::settings::Config>(&typo).unwrap_err();
        assert!(e.message().contains("securty"), "{}", e.message());
    }
}

/// Whether a setting is one RFC 5322 mailbox (`name@host`, or `名称 <name@host>`): not a list,
/// no line breaks, as the mail is built with it.
pub fn mailbox(v: &str) -> Result<(), String> {
    if v.chars().any(|c| c.is_control()) {
        return Err("contains a line break or another control character; give one address".into());
    }
    let addr = v.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>')).unwrap_or(v).trim();
    if v.contains([',', ';']) || addr.matches('@').count() > 1 {
        return Err("is more than one address; give each subscriber one address (a subscriber per address)".into());
    }
    let ok = addr.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') || d == "localhost");
    if !ok {
        return Err("is not a mail address".into());
    }
    v.parse::<lettre::message::Mailbox>().map(|_| ()).map_err(|e| format!("is not a mail address ({e})"))
}
