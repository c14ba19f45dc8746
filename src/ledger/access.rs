//! Who may read and work clues: users with a role, the units their team is assigned, whether full
//! ID and account numbers may be shown to them, their passwords (argon2), API tokens and browser
//! sessions (only hashes kept) — and the append-only access log of every read of personal data,
//! every change and every refusal.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Error, Ledger};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, and users.
    Admin,
    /// All units; triage and every step; models.
    Analyst,
    /// Reads and works the clues, papers and briefs of their team's units (and subordinates).
    Team,
    /// Reads everything, changes nothing.
    Leader,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Team, Role::Leader];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Team => "team",
            Role::Leader => "leader",
        }
    }

    /// 中文 name.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Analyst => "数据分析员",
            Role::Team => "巡察组成员",
            Role::Leader => "领导",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s || r.label() == s)
    }

    /// Sees every unit's clues (a team member only their team's).
    pub fn all_units(self) -> bool {
        self != Role::Team
    }

    /// May take workflow steps.
    pub fn may_change(self) -> bool {
        self != Role::Leader
    }
}

/// A user of the workbench.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub name: String,
    pub display: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Granted to see full ID and account numbers.
    pub show_ids: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub created_at: String,
    pub disabled: bool,
    /// The units assigned to the user's team (codes of the units directory).
    pub units: Vec<String>,
}

impl User {
    /// The units this user may see: `None` for every unit (admins, analysts, leaders), else the
    /// codes of their team's units and all their subordinates in the directory. The one rule of
    /// scope, for the workbench and for mail alike.
    pub fn scope(&self, dir: &crate::units::Directory) -> Option<std::collections::HashSet<String>> {
        if self.role.all_units() {
            return None;
        }
        let mut codes = std::collections::HashSet::new();
        for code in &self.units {
            codes.insert(code.clone());
            if let Some(i) = dir.index(code) {
                codes.extend(dir.subtree(i).into_iter().map(|j| dir.units[j].code.clone()));
            }
        }
        Some(codes)
    }

    /// Whether a clue resolved to `unit_code` lies in this user's scope.
    pub fn sees(scope: &Option<std::collections::HashSet<String>>, unit_code: Option<&str>) -> bool {
        scope.as_ref().is_none_or(|s| unit_code.is_some_and(|u| s.contains(u)))
    }
}

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub display: &'a str,
    pub role: Role,
    pub team: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: &'a str,
}

/// One entry of the access log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Access {
    pub seq: i64,
    pub at: String,
    /// The user, or `os:<login>` for the command line.
    pub who: String,
    /// `web`, `api` or `cli`.
    pub via: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// What was asked: `read clue`, `step triage`, `sign-in`, `show-ids` …
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// `ok`, `refused`, `not found`, `failed` …
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Which log entries to read.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub who: Option<String>,
    /// From this time on (RFC 3339, or a date).
    pub since: Option<String>,
    pub limit: Option<usize>,
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Checks a sign-in name: letters, digits, `.`, `_`, `-` (Chinese letters too), 1–64 of them.
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(()) } else { Err(format!("`{name}` is not a user name (letters, digits, `.`, `_`, `-`; at most 64)")) }
}

fn strong_enough(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("a password needs at least {MIN_PASSWORD} characters"));
    }
    Ok(())
}

/// The argon2id hash of a password, as a PHC string with its own random salt.
fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A fresh secret (a token, a session cookie, a form token): 32 random bytes, hex.
pub fn secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    // written with sixteen letters, never digits: a token printed once by `user token` passes
    // the redactor, which would mask a run of hex digits that happens to read as an ID or an
    // account number (about one token in 300) and leave a token that does not work
    const LETTERS: &[u8; 16] = b"abcdefghjkmnpqrs";
    Ok(bytes.iter().flat_map(|b| [LETTERS[(b >> 4) as usize] as char, LETTERS[(b & 15) as usize] as char]).collect())
}

/// How a secret is kept: its BLAKE3 hash (the secrets are random, so a fast hash is enough).
fn secret_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const USER: &str = "SELECT name, display, role, team, show_ids, email, created_at, disabled_at FROM users";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        name: r.get(0)?,
        display: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Leader),
        team: r.get(3)?,
        show_ids: r.get::<_, i64>(4)? != 0,
        email: r.get(5)?,
        created_at: r.get(6)?,
        disabled: r.get::<_, Option<String>>(7)?.is_some(),
        units: Vec::new(),
    })
}

impl Ledger {
    /// Adds a user (a name that is taken is refused).
    pub fn add_user(&mut self, u: &NewUser<'_>) -> Result<User, Error> {
        valid_name(u.name).map_err(|m| self.err(m))?;
        strong_enough(u.password).map_err(|m| self.err(m))?;
        if u.role == Role::Team && u.team.is_none_or(|t| t.trim().is_empty()) {
            return Err(self.err("a team member needs a team (--team): the team's units are what they may see"));
        }
        if self.user(u.name)?.is_some() {
            return Err(self.err(format!("a user `{}` exists already", u.name)));
        }
        let hash = hash_password(u.password).map_err(|m| self.err(m))?;
        let display = if u.display.trim().is_empty() { u.name } else { u.display.trim() };
        self.conn
            .execute(
                "INSERT INTO users (name, display, role, team, password, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![u.name, display, u.role.name(), u.team.map(str::trim), hash, u.email, now()],
            )
            .map_err(|e| self.err(e))?;
        self.user(u.name)?.ok_or_else(|| self.err("the user just added is gone"))
    }

    /// One user, with their team's units.
    pub fn user(&self, name: &str) -> Result<Option<User>, Error> {
        let user = self
            .conn
            .query_row(&format!("{USER} WHERE name = ?1"), [name], user_row)
            .optional()
            .map_err(|e| self.err(e))?;
        user.map(|u| self.with_units(u)).transpose()
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, Error> {
        let mut stmt = self.conn.prepare(&format!("{USER} ORDER BY name")).map_err(|e| self.err(e))?;
        let users =
            stmt.query_map([], user_row).and_then(|r| r.collect::<Result<Vec<_>, _>>()).map_err(|e| self.err(e))?;
        users.into_iter().map(|u| self.with_units(u)).collect()
    }

    fn with_units(&self, mut u: User) -> Result<User, Error> {
        if let Some(team) = &u.team {
            u.units = self.team_units(team)?;
        }
        Ok(u)
    }

    /// The units assigned to a team.
    pub fn team_units(&self, team: &str) -> Result<Vec<String>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT unit_code FROM team_units WHERE team = ?1 ORDER BY unit_code")
            .map_err(|e| self.err(e))?;
        stmt.query_map([team], |r| r.get(0)).and_then(|r| r.collect()).map_err(|e| self.err(e))
    }

    fn existing(&self, name: &str) -> Result<User, Error> {
        self.user(name)?.ok_or_else(|| self.err(format!("no user `{name}`")))
    }

    /// Disables a user (or enables them again): their sessions and tokens stop working at once.
    pub fn set_disabled(&mut self, name: &str, disabled: bool) -> Result<User, Error> {
        self.existing(name)?;
        let at = disabled.then(now);
        self.conn
            .execute("UPDATE users SET disabled_at = ?2 WHERE name = ?1", params![name, at])
            .map_err(|e| self.err(e))?;
        if disabled {
            self.conn.execute("DELETE FROM sessions WHERE user = ?1", [name]).map_err(|e| self.err(e))?;
        }
        self.existing(name)
    }

    /// Sets a new password; the user's sessions end.
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), Error> {
        self.existing(name)?;
        strong_enough(password).map_err(|m| self.err(m))?;
        let hash = hash_password(password).map_err(|m| self.err(m))?;
        self.conn
            .execute("UPDATE users SET password = ?2 WHERE name = ?1", params![name, hash])
            .map_err(|e| self.err(e))?;
        self.conn.execute("DELETE FROM sessions WHERE user = ?1", [name]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Grants (or withdraws) the sight of full ID and account numbers.
    pub fn grant_ids(&mut self, name: &str, show: bool) -> Result<User, Error> {
        self.existing(name)?;
        self.conn
            .execute("UPDATE users SET show_ids = ?2 WHERE name = ?1", params![name, show as i64])
            .map_err(|e| self.err(e))?;
        self.existing(name)
    }

    /// Moves a user to a team (a team member's scope is their team's units).
    pub fn set_team(&mut self, name: &str, team: Option<&str>) -> Result<User, Error> {
        let u = self.existing(name)?;
        if u.role == Role::Team && team.is_none() {
            return Err(self.err("a team member needs a team"));
        }
        self.conn
            .execute("UPDATE users SET team = ?2 WHERE name = ?1", params![name, team])
            .map_err(|e| self.err(e))?;
        self.existing(name)
    }

    /// Assigns units to a team (or takes them away).
    pub fn assign_units(&mut self, team: &str, units: &[String], assign: bool) -> Result<Vec<String>, Error> {
        let tx = self.conn.transaction().map_err(|e| Error::at(&self.path, e))?;
        for u in units {
            let sql = if assign {
                "INSERT OR IGNORE INTO team_units (team, unit_code) VALUES (?1, ?2)"
            } else {
                "DELETE FROM team_units WHERE team = ?1 AND unit_code = ?2"
            };
            tx.execute(sql, params![team, u]).map_err(|e| Error::at(&self.path, e))?;
        }
        tx.commit().map_err(|e| Error::at(&self.path, e))?;
        self.team_units(team)
    }

    /// The user whose name and password these are, if they are and the user is not disabled.
    /// The hash is checked even for an unknown name, so timing does not tell names apart.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>, Error> {
        let stored: Option<(String, Option<String>)> = self
            .conn
            .query_row("SELECT password, disabled_at FROM users WHERE name = ?1", [name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| hash_password("searchlight-dummy-password").unwrap_or_default());
        let hash = stored.as_ref().map(|s| s.0.as_str()).unwrap_or(dummy);
        let matches = PasswordHash::new(hash)
            .map(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        match stored {
            Some((_, None)) if matches => self.user(name),
            _ => Ok(None),
        }
    }

    /// A new API token for a user: returned once, only its hash kept.
    pub fn new_token(&mut self, name: &str, label: &str) -> Result<String, Error> {
        self.existing(name)?;
        let token = format!("sl_{}", secret().map_err(|m| self.err(m))?);
        self.conn
            .execute(
                "INSERT INTO api_tokens (hash, user, label, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![secret_hash(&token), name, label, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(token)
    }

    /// Revokes every token of a user.
    pub fn revoke_tokens(&mut self, name: &str) -> Result<usize, Error> {
        self.conn
            .execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE user = ?1 AND revoked_at IS NULL",
                params![name, now()],
            )
            .map_err(|e| self.err(e))
    }

    /// The user a token belongs to (not revoked, user not disabled).
    pub fn token_user(&self, token: &str) -> Result<Option<User>, Error> {
        let name: Option<String> = self
            .conn
            .query_row(
                "SELECT t.user FROM api_tokens t JOIN users u ON u.name = t.user
                 WHERE t.hash = ?1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
                [secret_hash(token)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        name.map(|n| self.existing(&n)).transpose()
    }

    /// Opens a browser session for `ttl`: returns the cookie's value and the form (CSRF) token.
    pub fn new_session(&mut self, name: &str, ttl: chrono::Duration) -> Result<(String, String), Error> {
        let cookie = secret().map_err(|m| self.err(m))?;
        let csrf = secret().map_err(|m| self.err(m))?;
        let now = chrono::Utc::now();
        let expires = (now + ttl).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.conn
            .execute(
                "DELETE FROM sessions WHERE expires_at < ?1",
                [now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "INSERT INTO sessions (hash, user, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    secret_hash(&cookie),
                    name,
                    csrf,
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    expires
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok((cookie, csrf))
    }

    /// The user and form token of a live session.
    pub fn session(&self, cookie: &str) -> Result<Option<(User, String)>, Error> {
        let found: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT s.user, s.csrf FROM sessions s JOIN users u ON u.name = s.user
                 WHERE s.hash = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL",
                params![secret_hash(cookie), now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match found {
            Some((name, csrf)) => Ok(Some((self.existing(&name)?, csrf))),
            None => Ok(None),
        }
    }

    /// Ends a session (signing out).
    pub fn end_session(&mut self, cookie: &str) -> Result<(), Error> {
        self.conn.execute("DELETE FROM sessions WHERE hash = ?1", [secret_hash(cookie)]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Appends to the access log (its `seq` and, when empty, `at` are filled here). Appends of
    /// this process take turns on a lock of their own: many at once would otherwise meet in
    /// SQLite's write lock, whose busy handler backs off in sleeps of up to 100 ms.
    pub fn log_access(&self, a: &Access) -> Result<i64, Error> {
        static APPENDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = APPENDING.lock().unwrap_or_else(|p| p.into_inner());
        let at = if a.at.is_empty() { now() } else { a.at.clone() };
        self.conn
            .execute(
                "INSERT INTO access_log (at, who, via, address, action, object, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![at, a.who, a.via, a.address, a.action, a.object, a.outcome, a.detail],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The access log, newest first.
    pub fn access_log(&self, f: &AccessFilter) -> Result<Vec<Access>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, at, who, via, address, action, object, outcome, detail FROM access_log
                 WHERE (?1 IS NULL OR who = ?1 OR substr(who, 1, length(?1) + 2) = ?1 || ' (') AND (?2 IS NULL OR at >= ?2)
                 ORDER BY seq DESC LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let limit = f.limit.map(|l| l as i64).unwrap_or(-1);
        stmt.query_map(params![f.who, f.since, limit], |r| {
            Ok(Access {
                seq: r.get(0)?,
                at: r.get(1)?,
                who: r.get(2)?,
                via: r.get(3)?,
                address: r.get(4)?,
                action: r.get(5)?,
                object: r.get(6)?,
                outcome: r.get(7)?,
                detail: r.get(8)?,
            })
        })
        .and_then(|r| r.collect())
        .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger_with(role: Role) -> Ledger {
        let mut l = Ledger::in_memory().unwrap();
        let team = (role == Role::Team).then_some("第一巡察组");
        l.add_user(&NewUser { name: "wang", display: "王明", role, team, email: None, password: "correct horse" })
            .unwrap();
        l
    }

    #[test]
    fn a_password_signs_in_only_while_right_and_the_user_enabled() {
        let mut l = ledger_with(Role::Analyst);
        assert_eq!(l.check_password("wang", "correct horse").unwrap().unwrap().display, "王明");
        assert!(l.check_password("wang", "correct hors").unwrap().is_none());
        assert!(l.check_password("li", "correct horse").unwrap().is_none());
        l.set_disabled("wang", true).unwrap();
        assert!(l.check_password("wang", "correct horse").unwrap().is_none());
        l.set_disabled("wang", false).unwrap();
        l.set_password("wang", "battery staple").unwrap();
        assert!(l.check_password("wang", "correct horse").unwrap().is_none());
        assert!(l.check_password("wang", "battery staple").unwrap().is_some());
        assert!(l.set_password("wang", "short").is_err());
        // the stored form is an argon2 hash, never the password
        let stored: String = l.conn.query_row("SELECT password FROM users", [], |r| r.get(0)).unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("battery"), "{stored}");
    }

    #[test]
    fn tokens_and_sessions_work_until_revoked_ended_or_the_user_is_disabled() {
        let mut l = ledger_with(Role::Leader);
        let token = l.new_token("wang", "script").unwrap();
        assert_eq!(l.token_user(&token).unwrap().unwrap().name, "wang");
        assert!(l.token_user("sl_0000").unwrap().is_none());
        // no digits at all: nothing in a token can read as an ID or account number
        for _ in 0..200 {
            let t = l.new_token("wang", "t").unwrap();
            assert!(t[3..].chars().all(|c| c.is_ascii_lowercase()) && t.len() == 67, "{t}");
            assert_eq!(crate::redact::Redactor::masking().text(&t), t.as_str());
        }
        let kept: i64 =
            l.conn.query_row("SELECT count(*) FROM api_tokens WHERE hash = ?1", [&token], |r| r.get(0)).unwrap();
        assert_eq!(kept, 0, "the token itself is never stored");
        let (cookie, csrf) = l.new_session("wang", chrono::Duration::hours(8)).unwrap();
        assert_eq!(l.session(&cookie).unwrap().unwrap().1, csrf);
        let (expired, _) = l.new_session("wang", chrono::Duration::seconds(-1)).unwrap();
        assert!(l.session(&expired).unwrap().is_none());
        l.set_disabled("wang", true).unwrap();
        assert!(l.session(&cookie).unwrap().is_none() && l.token_user(&token).unwrap().is_none());
        l.set_disabled("wang", false).unwrap();
        assert!(l.token_user(&token).unwrap().is_some());
        l.revoke_tokens("wang").unwrap();
        assert!(l.token_user(&token).unwrap().is_none());
    }

    #[test]
    fn a_team_member_needs_a_team_and_sees_its_units() {
        let mut l = Ledger::in_memory().unwrap();
        let lone =
            NewUser { name: "zhao", display: "", role: Role::Team, team: None, email: None, password: "0123456789" };
        assert!(l.add_user(&lone).is_err());
        let mut l2 = ledger_with(Role::Team);
        l2.assign_units("第一巡察组", &["U01".into(), "U02".into()], true).unwrap();
        l2.assign_units("第一巡察组", &["U02".into()], false).unwrap();
        assert_eq!(l2.user("wang").unwrap().unwrap().units, vec!["U01"]);
        assert!(valid_name("a b").is_err() && valid_name("王明").is_ok());
    }

    #[test]
    fn the_access_log_is_append_only() {
        let l = ledger_with(Role::Admin);
        let a = Access {
            who: "wang".into(),
            via: "api".into(),
            action: "read clue".into(),
            outcome: "ok".into(),
            ..Default::default()
        };
        l.log_access(&a).unwrap();
        assert_eq!(l.access_log(&AccessFilter::default()).unwrap()[0].action, "read clue");
        assert!(l.conn.execute("UPDATE access_log SET outcome = 'x'", []).is_err());
        assert!(l.conn.execute("DELETE FROM access_log", []).is_err());
        assert_eq!(l.access_log(&AccessFilter { who: Some("li".into()), ..Default::default() }).unwrap().len(), 0);
    }
}
