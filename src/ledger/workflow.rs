//! The clue workflow of 研判 → 核查 → 处置 → 整改 → 销号: the steps a user takes, which step is
//! allowed when, and the state a clue is in — derived by folding its append-only events with
//! what later runs say (复现, 整改不实). The fold is the truth; listings read it from the
//! `clue_state` projection (see `state.rs`), which keeps it current. Flags that depend on time
//! (整改逾期, 豁免中) are computed against an as-of date when read.

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Error, Ledger, Mark};

/// Where a clue is in the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// 待研判: found, nobody has looked yet.
    Pending,
    /// 已排除: dismissed as a false positive in triage.
    Dismissed,
    /// 已分流: routed to a department or unit (or kept) for verification.
    Routed,
    /// 核查中: assigned to a verifier.
    Verifying,
    /// 已核实: verification result recorded.
    Verified,
    /// 已处置: disposition recorded.
    Disposed,
    /// 整改中: rectification under way, with a due date.
    Rectifying,
    /// 已销号: closed.
    Closed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Pending,
        Status::Dismissed,
        Status::Routed,
        Status::Verifying,
        Status::Verified,
        Status::Disposed,
        Status::Rectifying,
        Status::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Dismissed => "dismissed",
            Status::Routed => "routed",
            Status::Verifying => "verifying",
            Status::Verified => "verified",
            Status::Disposed => "disposed",
            Status::Rectifying => "rectifying",
            Status::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "待研判",
            Status::Dismissed => "已排除",
            Status::Routed => "已分流",
            Status::Verifying => "核查中",
            Status::Verified => "已核实",
            Status::Disposed => "已处置",
            Status::Rectifying => "整改中",
            Status::Closed => "已销号",
        }
    }

    /// By English name or Chinese label.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.name() == s || x.label() == s)
    }
}

/// 核实结论.
pub const RESULTS: [&str; 3] = ["属实", "部分属实", "不属实"];

/// A person recorded as responsible in triage (责任依据).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
}

/// One step a user takes on a clue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Step {
    /// 研判: dismiss as a false positive, or route to a department/unit (or keep for direct
    /// verification), naming the responsible persons.
    Triage {
        dismiss: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        route_to: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        persons: Vec<Person>,
    },
    /// 交办: who verifies, by when.
    Assign {
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<NaiveDate>,
    },
    /// 核实结论, with amount involved and recovered (元).
    Verify {
        result: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_involved: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_recovered: Option<f64>,
    },
    /// 处置: what was done (追缴, 清退, 谈话函询, 立案审查 …).
    Dispose { action: String },
    /// 整改: rectification ordered, due by a date.
    Rectify { due: NaiveDate },
    /// 销号 with a closure note (the reason).
    Close,
    /// A remark on the record.
    Note,
    /// 例外: suppress the clue until a date (e.g. a registered lawful 代领).
    Except { until: NaiveDate },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Triage { .. } => "triage",
            Step::Assign { .. } => "assign",
            Step::Verify { .. } => "verify",
            Step::Dispose { .. } => "dispose",
            Step::Rectify { .. } => "rectify",
            Step::Close => "close",
            Step::Note => "note",
            Step::Except { .. } => "except",
        }
    }

    /// 中文 name of the step.
    pub fn label(&self) -> &'static str {
        match self {
            Step::Triage { dismiss: true, .. } => "研判·排除",
            Step::Triage { .. } => "研判·分流",
            Step::Assign { .. } => "交办核查",
            Step::Verify { .. } => "核实",
            Step::Dispose { .. } => "处置",
            Step::Rectify { .. } => "整改",
            Step::Close => "销号",
            Step::Note => "备注",
            Step::Except { .. } => "例外",
        }
    }
}

/// One recorded step.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    #[serde(flatten)]
    pub step: Step,
    pub reason: Option<String>,
    /// The clue's latest sighting when the step was taken.
    #[serde(skip)]
    pub seen_seq: Option<i64>,
}

impl Event {
    /// One line in Chinese: what was decided, with its values and the reason.
    pub fn describe(&self) -> String {
        use crate::codes::text::money;
        let detail = match &self.step {
            Step::Triage { dismiss: true, .. } => "排除误报".to_string(),
            Step::Triage { route_to, persons, .. } => {
                let to = route_to.clone().map(|t| format!("分流至{t}")).unwrap_or_else(|| "留存直接核查".into());
                let ps: Vec<String> = persons
                    .iter()
                    .map(|p| if p.role.is_empty() { p.name.clone() } else { format!("{}({})", p.name, p.role) })
                    .collect();
                if ps.is_empty() { to } else { format!("{to}；责任人 {}", ps.join("、")) }
            }
            Step::Assign { to, due } => {
                format!("交{to}核查{}", due.map(|d| format!("，限{d}前办结")).unwrap_or_default())
            }
            Step::Verify { result, amount_involved, amount_recovered } => format!(
                "核实结论: {result}{}{}",
                amount_involved.map(|a| format!("，涉及金额 {} 元", money(a))).unwrap_or_default(),
                amount_recovered.map(|a| format!("，已追回 {} 元", money(a))).unwrap_or_default()
            ),
            Step::Dispose { action } => format!("处置: {action}"),
            Step::Rectify { due } => format!("整改，限{due}前完成"),
            Step::Close => "销号".to_string(),
            Step::Note => "备注".to_string(),
            Step::Except { until } => format!("例外，至{until}前不再提示"),
        };
        match &self.reason {
            Some(r) => format!("{detail}。{r}"),
            None => detail,
        }
    }
}

/// A clue's workflow state, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkState {
    pub status: Status,
    /// Filled from the status when read (`待研判(复现)` for a recurred clue).
    #[serde(skip_deserializing)]
    pub label: &'static str,
    pub routed_to: Option<String>,
    pub persons: Vec<Person>,
    pub assignee: Option<String>,
    pub result: Option<String>,
    pub amount_involved: Option<f64>,
    pub amount_recovered: Option<f64>,
    pub disposition: Option<String>,
    pub rectify_due: Option<NaiveDate>,
    pub closed_at: Option<String>,
    pub closure_note: Option<String>,
    /// Closed after a rectification (so 回头看 applies).
    pub rectified: bool,
    pub excepted_until: Option<NaiveDate>,
    #[serde(skip)]
    close_seen_seq: Option<i64>,
    #[serde(skip)]
    dismiss_seen_seq: Option<i64>,
    /// 复现: dismissed as a false positive, then found again on newer data with other
    /// evidence (a new payment, another contract) — back to 待研判.
    pub recurred: bool,
    /// 整改逾期: rectifying past its due date (as of the listing's date).
    pub overdue: bool,
    /// 整改不实: closed as rectified, and its model returned it again on newer data.
    pub rectification_failed: bool,
    /// 豁免中: an exception covers the as-of date.
    pub excepted: bool,
}

impl WorkState {
    /// A clue nobody has acted on: 待研判.
    pub(super) fn pending() -> WorkState {
        WorkState {
            status: Status::Pending,
            label: Status::Pending.label(),
            routed_to: None,
            persons: Vec::new(),
            assignee: None,
            result: None,
            amount_involved: None,
            amount_recovered: None,
            disposition: None,
            rectify_due: None,
            closed_at: None,
            closure_note: None,
            rectified: false,
            excepted_until: None,
            close_seen_seq: None,
            dismiss_seen_seq: None,
            recurred: false,
            overdue: false,
            rectification_failed: false,
            excepted: false,
        }
    }

    /// The state as of a date: its label, and the flags that depend on the date (整改逾期,
    /// 豁免中).
    pub(super) fn on(mut self, as_of: NaiveDate) -> WorkState {
        self.label = self.status_label();
        self.overdue = self.status == Status::Rectifying && self.rectify_due.is_some_and(|d| d < as_of);
        self.excepted = self.status != Status::Closed && self.excepted_until.is_some_and(|d| d >= as_of);
        self
    }

    /// What the state is called: its status's label, `待研判(复现)` for a recurred clue.
    fn status_label(&self) -> &'static str {
        if self.recurred { "待研判(复现)" } else { self.status.label() }
    }

    /// The events folded, before what later runs say (see `settled`).
    pub(super) fn fold(events: &[Event]) -> WorkState {
        let mut s = WorkState::pending();
        for e in events {
            match &e.step {
                Step::Triage { dismiss: true, .. } => {
                    s.status = Status::Dismissed;
                    s.dismiss_seen_seq = e.seen_seq;
                    s.recurred = false;
                }
                Step::Triage { route_to, persons, .. } => {
                    s.recurred = false;
                    s.status = Status::Routed;
                    s.routed_to = route_to.clone();
                    s.persons = persons.clone();
                }
                Step::Assign { to, .. } => {
                    s.status = Status::Verifying;
                    s.assignee = Some(to.clone());
                }
                Step::Verify { result, amount_involved, amount_recovered } => {
                    s.status = Status::Verified;
                    s.result = Some(result.clone());
                    s.amount_involved = *amount_involved;
                    s.amount_recovered = *amount_recovered;
                }
                Step::Dispose { action } => {
                    s.status = Status::Disposed;
                    s.disposition = Some(action.clone());
                }
                Step::Rectify { due } => {
                    s.status = Status::Rectifying;
                    s.rectify_due = Some(*due);
                }
                Step::Close => {
                    s.rectified = s.status == Status::Rectifying;
                    s.status = Status::Closed;
                    s.closed_at = Some(e.at.clone());
                    s.closure_note = e.reason.clone();
                    s.close_seen_seq = e.seen_seq;
                }
                Step::Note => {}
                Step::Except { until } => s.excepted_until = Some(*until),
            }
        }
        s.label = s.status.label();
        s
    }

    /// Whether `step` may follow; the error says what the clue is and what the step needs.
    pub fn allows(&self, step: &Step) -> Result<(), String> {
        use Status::*;
        let ok: &[Status] = match step {
            Step::Triage { .. } => &[Pending, Routed],
            Step::Assign { .. } => &[Routed, Verifying],
            Step::Verify { .. } => &[Routed, Verifying],
            Step::Dispose { .. } => &[Verified, Disposed],
            Step::Rectify { .. } => &[Verified, Disposed, Rectifying],
            Step::Close => &[Verified, Disposed, Rectifying],
            Step::Note => &Status::ALL,
            Step::Except { .. } => &[Pending, Routed, Verifying, Verified, Disposed, Rectifying],
        };
        if ok.contains(&self.status) {
            return Ok(());
        }
        let need: Vec<&str> = ok.iter().map(|s| s.label()).collect();
        Err(format!("线索当前为「{}」，「{}」只能在「{}」时进行", self.status.label(), step.label(), need.join("」「")))
    }
}

/// The user's own checks on a step's values.
fn validate(step: &Step, reason: Option<&str>) -> Result<(), String> {
    let blank = |s: &str| s.trim().is_empty();
    match step {
        Step::Triage { dismiss: true, .. } if reason.is_none_or(blank) => Err("排除误报须写明理由 (--reason)".into()),
        Step::Verify { result, .. } if !RESULTS.contains(&result.as_str()) => {
            Err(format!("核实结论须为 {} 之一，不是「{result}」", RESULTS.join("、")))
        }
        Step::Verify { amount_involved, amount_recovered, .. }
            if let Some(e) = [amount_involved, amount_recovered]
                .into_iter()
                .flatten()
                .find_map(|a| crate::codes::text::entered_yuan(&a.to_string()).err()) =>
        {
            Err(e)
        }
        Step::Close if reason.is_none_or(blank) => Err("销号须写明销号说明 (--reason)".into()),
        Step::Except { .. } if reason.is_none_or(blank) => Err("例外须写明理由 (--reason)".into()),
        Step::Note if reason.is_none_or(blank) => Err("备注内容为空 (--reason)".into()),
        Step::Assign { to, .. } if blank(to) => Err("交办对象为空".into()),
        Step::Dispose { action } if blank(action) => Err("处置方式为空".into()),
        _ => Ok(()),
    }
}

impl Ledger {
    /// The ledger's id of a clue given by its id under any encoding (a clue first recorded
    /// under an older encoding answers to its current id as well).
    pub fn resolve(&self, id: &str) -> Result<String, Error> {
        let known: Option<String> = self
            .conn
            .query_row("SELECT clue_id FROM clue_aliases WHERE alias = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(known.unwrap_or_else(|| id.to_string()))
    }

    /// A clue's events, oldest first.
    pub fn events(&self, clue: &str) -> Result<Vec<Event>, Error> {
        events_of(&self.conn, clue).map_err(|e| self.err(e))
    }

    /// A clue's workflow state as of a date (for 逾期 and 豁免), with 回头看 applied.
    pub fn work_state(&self, clue: &str, as_of: NaiveDate) -> Result<WorkState, Error> {
        state_of(&self.conn, clue, as_of).map_err(|e| self.err(e))
    }

    /// The workflow state of many clues at once, as of a date, from the `clue_state`
    /// projection: what a brief of thousands of clues needs. Clues without events are 待研判.
    pub fn work_states(
        &self,
        clues: &[&str],
        as_of: NaiveDate,
    ) -> Result<std::collections::HashMap<String, WorkState>, Error> {
        let mut acted = super::state::acted_on(&self.conn, "").map_err(|e| self.err(e))?;
        Ok(clues
            .iter()
            .map(|&c| (c.to_string(), acted.remove(c).unwrap_or_else(WorkState::pending).on(as_of)))
            .collect())
    }

    /// The clues whose state, as of a date, calls for attention beyond their marks — 整改不实
    /// (returned after a rectification was closed) or 整改逾期 (past the rectification's due
    /// date) — with that state; clues under an exception are left out.
    pub fn flagged_states(&self, as_of: NaiveDate) -> Result<Vec<(String, WorkState)>, Error> {
        let acted = super::state::acted_on(&self.conn, "AND (rectification_failed OR status = 'rectifying')")
            .map_err(|e| self.err(e))?;
        let mut out: Vec<(String, WorkState)> = acted
            .into_iter()
            .map(|(c, s)| (c, s.on(as_of)))
            .filter(|(_, s)| (s.rectification_failed || s.overdue) && !s.excepted)
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Every event of the clues `keep` accepts, grouped by clue, oldest first: one read of the
    /// events table for many clues.
    pub(super) fn events_by_clue(
        &self,
        keep: impl Fn(&str) -> bool,
    ) -> Result<std::collections::HashMap<String, Vec<Event>>, Error> {
        let mut out: std::collections::HashMap<String, Vec<Event>> = std::collections::HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT clue_id, seq, at, actor, data, reason, seen_seq FROM events ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, event(r, 1)?))).map_err(|e| self.err(e))?;
        for row in rows {
            let (clue, e) = row.map_err(|e| self.err(e))?;
            if keep(&clue) {
                out.entry(clue).or_default().push(e);
            }
        }
        Ok(out)
    }

    /// Takes one step on a clue: checked against the clue's state, appended as an event in a
    /// transaction that holds the write lock, so two users cannot both act on the old state.
    pub fn act(&mut self, clue: &str, actor: &str, step: Step, reason: Option<&str>) -> Result<Event, Error> {
        let id = self.resolve(clue)?;
        self.take_step(clue, actor, step, reason, None).map_err(|e| match e {
            StepRefused::Ledger(e) => e,
            StepRefused::NoClue => self.err(format!("no clue `{id}`")),
            StepRefused::Invalid(m) | StepRefused::NotNow(m) => self.err(format!("{id}: {m}")),
            StepRefused::Stale { .. } => self.err(format!("{id}: the clue changed meanwhile")),
        })
    }

    /// [`Ledger::act`] that says why a step was refused; with `last_event`, the step is taken
    /// only if the clue's latest event is still that one (`0`: none) — a form drawn before
    /// someone else's step is stale, and refused rather than applied to a state its user
    /// never saw.
    pub fn take_step(
        &mut self,
        clue: &str,
        actor: &str,
        step: Step,
        reason: Option<&str>,
        last_event: Option<i64>,
    ) -> Result<Event, StepRefused> {
        let clue = &self.resolve(clue)?;
        let path = self.path.clone();
        let err = |e: rusqlite::Error| StepRefused::Ledger(Error::at(&path, e));
        validate(&step, reason).map_err(StepRefused::Invalid)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        let known: Option<String> = tx
            .query_row("SELECT clue_id FROM clues WHERE clue_id = ?1", [clue], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if known.is_none() {
            return Err(StepRefused::NoClue);
        }
        if let Some(expected) = last_event {
            let latest: i64 = tx
                .query_row("SELECT coalesce(max(seq), 0) FROM events WHERE clue_id = ?1", [clue], |r| r.get(0))
                .map_err(err)?;
            if latest != expected {
                return Err(StepRefused::Stale { latest });
            }
        }
        // whether a step may follow does not depend on the date
        let state = state_of(&tx, clue, NaiveDate::MAX).map_err(err)?;
        state.allows(&step).map_err(StepRefused::NotNow)?;
        let seen: Option<i64> = tx
            .query_row("SELECT max(seq) FROM live_sightings WHERE clue_id = ?1", [clue], |r| r.get(0))
            .map_err(err)?;
        let at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let data = serde_json::to_value(&step).map_err(|e| StepRefused::Invalid(e.to_string()))?;
        tx.execute(
            "INSERT INTO events (clue_id, at, actor, kind, data, reason, seen_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![clue, at, actor, step.kind(), data.to_string(), reason, seen],
        )
        .map_err(err)?;
        let seq = tx.last_insert_rowid();
        super::state::refresh(&tx, clue).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Event { seq, at, actor: actor.to_string(), step, reason: reason.map(str::to_string), seen_seq: seen })
    }
}

/// Why a step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum StepRefused {
    /// The step's own values are wrong (a dismissal without a reason, an unknown result).
    #[error("{0}")]
    Invalid(String),
    /// The clue's state does not allow it now.
    #[error("{0}")]
    NotNow(String),
    /// The clue changed since the step's form was drawn.
    #[error(
        "线索在您打开此页后已被他人更新，请查看最新处置记录后再办理 (the clue changed since the form was drawn; latest event {latest})"
    )]
    Stale { latest: i64 },
    #[error("no such clue")]
    NoClue,
    #[error(transparent)]
    Ledger(#[from] Error),
}

/// A clue's state: its events folded, then what later runs say — 整改不实 for a rectified clue
/// found again on newer data, 复现 (back to 待研判) for a dismissed one found again on newer
/// data with other evidence — and the as-of flags.
fn state_of(conn: &rusqlite::Connection, clue: &str, as_of: NaiveDate) -> rusqlite::Result<WorkState> {
    Ok(settled(conn, clue, &events_of(conn, clue)?)?.on(as_of))
}

/// The part of a clue's state that does not depend on a date: its events (already read)
/// folded, then what later runs say. What the `clue_state` projection keeps.
pub(super) fn settled(conn: &rusqlite::Connection, clue: &str, events: &[Event]) -> rusqlite::Result<WorkState> {
    let mut s = WorkState::fold(events);
    if s.rectified {
        s.rectification_failed = returned_on_newer_data(conn, clue, s.close_seen_seq.unwrap_or(0), false)?;
    }
    if s.status == Status::Dismissed && returned_on_newer_data(conn, clue, s.dismiss_seen_seq.unwrap_or(0), true)? {
        s.status = Status::Pending;
        s.recurred = true;
    }
    s.label = s.status_label();
    Ok(s)
}

/// Whether a run after sighting `after` found the clue again on data newer than the data of
/// that sighting (some dataset read at a later snapshot) — and, when `changed` is asked, with
/// other evidence than that sighting had (its content under the same model version; its number
/// of rows and amount across versions).
fn returned_on_newer_data(
    conn: &rusqlite::Connection,
    clue: &str,
    after: i64,
    changed: bool,
) -> rusqlite::Result<bool> {
    type Seen = (String, String, String, Option<String>, Option<f64>, Option<String>);
    let sightings = |seq_cond: &str| -> rusqlite::Result<Vec<Seen>> {
        let sql = format!(
            "SELECT s.mark, m.snapshots, m.version, s.evidence_key, s.amount, s.rows FROM live_sightings s
             JOIN clues c ON c.clue_id = s.clue_id
             JOIN run_models m ON m.run_id = s.run_id AND m.model = c.model
             WHERE s.clue_id = ?1 AND {seq_cond} ORDER BY s.seq"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params![clue, after], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
        rows.collect()
    };
    let before = sightings("s.seq <= ?2")?;
    let Some((_, base, base_version, base_key, base_amount, base_rows)) = before.last() else { return Ok(false) };
    let base: std::collections::BTreeMap<String, String> = serde_json::from_str(base).unwrap_or_default();
    let count =
        |rows: &Option<String>| rows.as_deref().and_then(|r| serde_json::from_str::<Vec<u64>>(r).ok()).map(|v| v.len());
    for (mark, snaps, version, key, amount, rows) in sightings("s.seq > ?2")? {
        if Mark::parse(&mark) == Some(Mark::Resolved) {
            continue;
        }
        let now: std::collections::BTreeMap<String, String> = serde_json::from_str(&snaps).unwrap_or_default();
        if !now.iter().any(|(d, s)| base.get(d).is_some_and(|b| s > b)) {
            continue;
        }
        if !changed {
            return Ok(true);
        }
        let differs = if &version == base_version && key.is_some() && base_key.is_some() {
            &key != base_key
        } else {
            count(&rows) != count(base_rows)
                || amount.map(|a| (a * 100.0).round()) != base_amount.map(|a| (a * 100.0).round())
        };
        if differs {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn events_of(conn: &rusqlite::Connection, clue: &str) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, at, actor, data, reason, seen_seq FROM events WHERE clue_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([clue], |r| event(r, 0))?;
    rows.collect()
}

/// An event from the columns seq, at, actor, data, reason, seen_seq starting at `from`.
fn event(r: &rusqlite::Row<'_>, from: usize) -> rusqlite::Result<Event> {
    let data: String = r.get(from + 3)?;
    let step: Step = serde_json::from_str(&data).unwrap_or(Step::Note);
    Ok(Event {
        seq: r.get(from)?,
        at: r.get(from + 1)?,
        actor: r.get(from + 2)?,
        step,
        reason: r.get(from + 4)?,
        seen_seq: r.get(from + 5)?,
    })
}
