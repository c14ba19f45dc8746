//! `searchlight user …` and `searchlight audit`: the workbench's users and the access log, as
//! the ledger keeps them ([`crate::ledger::access`]); and the log entry of a `--show-ids`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::ledger::{Access, AccessFilter, Ledger, NewUser, Role, User};
use crate::project::Project;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from $SEARCHLIGHT_PASSWORD, else from standard input.
    Add {
        /// Sign-in name (letters, digits, `.`, `_`, `-`).
        name: String,
        /// admin (管理员), analyst (数据分析员), team (巡察组成员) or leader (领导).
        #[arg(long, value_parser = role)]
        role: Role,
        /// The team (巡察组) of a team member: they see its units and their subordinates.
        #[arg(long)]
        team: Option<String>,
        /// Name shown on pages and in the trail (姓名; default the sign-in name).
        #[arg(long, default_value = "")]
        display: String,
        #[arg(long)]
        email: Option<String>,
        /// Grant the sight of full ID and account numbers.
        #[arg(long)]
        show_ids: bool,
    },
    /// List the users with their roles, teams, units and grants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable a user (their sessions and tokens stop at once), or `--enable` them again.
    Disable {
        name: String,
        #[arg(long)]
        enable: bool,
    },
    /// Set a user's password ($SEARCHLIGHT_PASSWORD, else standard input); their sessions end.
    Passwd { name: String },
    /// Grant or withdraw the sight of full ID numbers, move a user to a team, and assign units
    /// (codes of the units directory) to the user's team.
    Grant {
        name: String,
        /// Show full ID and account numbers to this user.
        #[arg(long, conflicts_with = "no_ids")]
        ids: bool,
        /// Mask them again.
        #[arg(long)]
        no_ids: bool,
        /// Move the user to this team.
        #[arg(long)]
        team: Option<String>,
        /// Assign this unit (and its subordinates) to the user's team; repeatable.
        #[arg(long = "unit")]
        units: Vec<String>,
        /// Take this unit from the user's team; repeatable.
        #[arg(long = "revoke-unit")]
        revoke_units: Vec<String>,
    },
    /// Make an API token for scripts (shown once; send it as `Authorization: Bearer …`), or
    /// `--revoke` every token of the user.
    Token {
        name: String,
        #[arg(long, default_value = "script")]
        label: String,
        #[arg(long)]
        revoke: bool,
    },
}

fn role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}`: a role is admin, analyst, team or leader"))
}

/// The password for `user add` / `user passwd`: from the environment, else a line of input.
fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("SEARCHLIGHT_PASSWORD") {
        return Ok(p);
    }
    eprint!("密码 password: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Opens the ledger users are kept in (created if it is the project's default one).
fn ledger(project: &Project) -> anyhow::Result<Ledger> {
    Ok(if project.ledger_given { Ledger::open_existing(&project.ledger)? } else { Ledger::open(&project.ledger)? })
}

/// Runs `user …`; `directory` is the lake's units directory, against which units to assign are
/// checked (a mistyped code would give a team nothing, in silence).
pub fn user(
    project: &Project,
    command: UserCommand,
    directory: Option<&crate::units::Directory>,
) -> anyhow::Result<ExitCode> {
    let mut l = ledger(project)?;
    let by = os_user();
    let log = |l: &Ledger, action: &str, object: &str, detail: Option<String>| {
        l.log_access(&Access {
            who: by.clone(),
            via: "cli".into(),
            action: action.into(),
            object: Some(object.into()),
            outcome: "ok".into(),
            detail,
            ..Default::default()
        })
    };
    match command {
        UserCommand::Add { name, role, team, display, email, show_ids } => {
            let pw = password()?;
            let new = NewUser {
                name: &name,
                display: &display,
                role,
                team: team.as_deref(),
                email: email.as_deref(),
                password: &pw,
            };
            let mut u = l.add_user(&new)?;
            if show_ids {
                u = l.grant_ids(&name, true)?;
            }
            log(&l, "user add", &name, Some(format!("{} {}", role.name(), team.unwrap_or_default())))?;
            say!("用户已添加 user added: {} ({}，{})", u.name, u.display, u.role.label());
        }
        UserCommand::List { json } => {
            let users = l.users()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                users_table(&users);
            }
        }
        UserCommand::Disable { name, enable } => {
            let u = l.set_disabled(&name, !enable)?;
            log(&l, if enable { "user enable" } else { "user disable" }, &name, None)?;
            say!("{} {}", u.name, if u.disabled { "已停用 disabled" } else { "已启用 enabled" });
        }
        UserCommand::Passwd { name } => {
            let pw = password()?;
            l.set_password(&name, &pw)?;
            log(&l, "user passwd", &name, None)?;
            say!("{} 的密码已更改 password changed (sessions ended)", name);
        }
        UserCommand::Grant { name, ids, no_ids, team, units, revoke_units } => {
            let mut u = l.user(&name)?.ok_or_else(|| anyhow::anyhow!("no user `{name}`"))?;
            match directory.filter(|d| !d.is_empty()) {
                Some(dir) => {
                    let unknown: Vec<&String> = units.iter().filter(|c| dir.index(c).is_none()).collect();
                    if let Some(first) = unknown.first() {
                        let hint = dir
                            .find(first)
                            .ok()
                            .map(|i| format!(" (did you mean {} {}?)", dir.units[i].code, dir.units[i].name))
                            .unwrap_or_default();
                        anyhow::bail!(
                            "unit {} is not a code of the units directory{hint}; nothing was changed (`searchlight sql \"SELECT unit_code, name FROM units\"` lists the codes)",
                            unknown.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                        );
                    }
                }
                None if !units.is_empty() => say_err!(
                    "注意: 湖中没有单位名录 (units), 单位编码未能核对; the team sees each code's clues, and its subordinates once the directory is landed"
                ),
                None => {}
            }
            if ids || no_ids {
                u = l.grant_ids(&name, ids)?;
                log(&l, if ids { "grant ids" } else { "revoke ids" }, &name, None)?;
            }
            if let Some(t) = &team {
                u = l.set_team(&name, Some(t))?;
                log(&l, "set team", &name, Some(t.clone()))?;
            }
            if !units.is_empty() || !revoke_units.is_empty() {
                let Some(t) = u.team.clone() else {
                    anyhow::bail!("{name} has no team: give one with --team, then assign units to it")
                };
                l.assign_units(&t, &units, true)?;
                l.assign_units(&t, &revoke_units, false)?;
                log(&l, "assign units", &t, Some(format!("+{} -{}", units.join(","), revoke_units.join(","))))?;
                u = l.user(&name)?.unwrap_or(u);
            }
            users_table(std::slice::from_ref(&u));
        }
        UserCommand::Token { name, label, revoke } => {
            if revoke {
                let n = l.revoke_tokens(&name)?;
                log(&l, "revoke tokens", &name, None)?;
                say!("{name}: {n} 个令牌已撤销 tokens revoked");
            } else {
                let t = l.new_token(&name, &label)?;
                log(&l, "new token", &name, Some(label))?;
                say_err!("令牌只显示这一次 the token is shown this once (Authorization: Bearer …):");
                say!("{t}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn users_table(users: &[User]) {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["用户 user", "姓名", "角色 role", "巡察组 team", "单位 units", "完整证件号", "状态"]);
    for u in users {
        t.add_row([
            u.name.clone(),
            u.display.clone(),
            u.role.label().to_string(),
            u.team.clone().unwrap_or_default(),
            if u.role.all_units() { "全部".into() } else { u.units.join(", ") },
            if u.show_ids { "可见".into() } else { "脱敏".into() },
            if u.disabled { "已停用".into() } else { "正常".into() },
        ]);
    }
    say!("{t}");
}

/// Runs `audit`.
pub fn audit(project: &Project, filter: &AccessFilter, json: bool) -> anyhow::Result<ExitCode> {
    if let Some(s) = &filter.since {
        let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
        if !date && chrono::DateTime::parse_from_rfc3339(s).is_err() {
            anyhow::bail!("--since {s}: write a date (2026-12-01) or a time (2026-12-01T08:00:00Z)");
        }
    }
    let rows = Ledger::open_existing(&project.ledger)?.access_log(filter)?;
    if json {
        say!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["时间", "谁 who", "途径", "地址", "操作 action", "对象", "结果", "说明"]);
    for a in &rows {
        t.add_row([
            a.at.clone(),
            a.who.clone(),
            a.via.clone(),
            a.address.clone().unwrap_or_default(),
            a.action.clone(),
            a.object.clone().unwrap_or_default(),
            a.outcome.clone(),
            a.detail.clone().unwrap_or_default(),
        ]);
    }
    say!("{t}");
    say!("{} 条 entries (newest first)", rows.len());
    Ok(ExitCode::SUCCESS)
}

/// The operating-system user running this command, as the access log names them.
pub fn os_user() -> String {
    // SAFETY: getuid has no preconditions and cannot fail
    let uid = unsafe { libc::getuid() };
    match ["USER", "LOGNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty())) {
        Some(name) => format!("os:{name} (uid {uid})"),
        None => format!("os:uid {uid}"),
    }
}

/// Logs a `--show-ids` command before it shows anything: the operating-system user and the
/// command (its arguments masked). When the log cannot be written the command does not run.
pub fn log_show_ids(project: &Project) -> anyhow::Result<()> {
    let l = if project.ledger.exists() || !project.ledger_given {
        Ledger::open(&project.ledger)?
    } else {
        anyhow::bail!(
            "--show-ids is logged in the ledger, and there is none at {} (a mistyped --ledger?)",
            project.ledger.display()
        )
    };
    let command: Vec<String> = std::env::args().skip(1).collect();
    let masked = crate::redact::Redactor::masking().text(&command.join(" ")).into_owned();
    l.log_access(&Access {
        who: os_user(),
        via: "cli".into(),
        action: "show-ids".into(),
        object: Some(masked),
        outcome: "ok".into(),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("--show-ids could not be logged, so nothing is shown: {e}"))?;
    Ok(())
}
