//! The clue ledger: an embedded SQLite database (WAL mode, schema migrations) of runs, the clues
//! they found and every step taken on a clue. The seam is [`Ledger::record`], which takes a
//! finished [`RunReport`] and, in one transaction, marks each clue of each model that ran
//! `new`, `ongoing`, `reopened` or `resolved`. The evidence rows stay in the lake
//! (`_runs/<run>/<model>.parquet`); the ledger keeps their row numbers. Nothing recorded is ever
//! changed: sightings and events are append-only (triggers refuse UPDATE and DELETE).

pub mod access;
mod history;
mod jobs;
mod lease;
mod outbox;
mod query;
mod state;
pub mod workflow;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::runner::RunReport;

pub use access::{Access, AccessFilter, NewUser, Role, User};
pub use history::{ClueGroup, ClueSummary, ModelQuality, ModelRun, RunInfo, RunRow};
pub use jobs::{JobOutcome, JobRun};
pub use lease::{Holder, holder_died, holder_id as lease_holder_id};
pub use outbox::{Mail, NewMail};
pub use query::{ClueFilter, ClueOrder, CluePage, ClueRow, ClueView, Flag, Sighting};
pub use workflow::{Event, Person, Status, Step, StepRefused, WorkState};

/// Migrations, applied in order; `PRAGMA user_version` is how many have been applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_event_position.sql"),
    include_str!("migrations/0003_identity_and_lake.sql"),
    include_str!("migrations/0004_units_and_fen.sql"),
    include_str!("migrations/0005_lease_and_trigger.sql"),
    include_str!("migrations/0006_jobs_and_outbox.sql"),
    include_str!("migrations/0007_blind_routes.sql"),
    include_str!("migrations/0008_digest_pending.sql"),
    include_str!("migrations/0009_withdrawn_runs.sql"),
    include_str!("migrations/0010_users_and_access.sql"),
    include_str!("migrations/0011_clue_state.sql"),
    include_str!("migrations/0012_carried_outcomes.sql"),
    include_str!("migrations/0013_incremental_outcomes.sql"),
    include_str!("migrations/0014_unassessed.sql"),
];

/// The migration that adds the `clue_state` projection, which is drawn from the facts when it
/// is applied.
const CLUE_STATE_MIGRATION: usize = 11;

/// A ledger error, naming the database file.
#[derive(Debug, thiserror::Error)]
#[error("ledger {path}: {message}")]
pub struct Error {
    pub path: PathBuf,
    pub message: String,
}

impl Error {
    /// An error about the ledger at `path`.
    fn at(path: &Path, message: impl std::fmt::Display) -> Error {
        Error { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// How a run saw one clue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// First time any run found it.
    New,
    /// Found again, as in the model's previous run.
    Ongoing,
    /// Found again after a run of its model had stopped finding it.
    Reopened,
    /// Its model ran and no longer returns it.
    Resolved,
}

impl Mark {
    pub fn name(self) -> &'static str {
        match self {
            Mark::New => "new",
            Mark::Ongoing => "ongoing",
            Mark::Reopened => "reopened",
            Mark::Resolved => "resolved",
        }
    }

    /// 中文 label.
    pub fn label(self) -> &'static str {
        match self {
            Mark::New => "新增",
            Mark::Ongoing => "持续",
            Mark::Reopened => "复现",
            Mark::Resolved => "已消失",
        }
    }

    pub fn parse(s: &str) -> Option<Mark> {
        [Mark::New, Mark::Ongoing, Mark::Reopened, Mark::Resolved].into_iter().find(|m| m.name() == s)
    }
}

/// What recording a run changed: clues by mark, per model and in total.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LedgerDiff {
    pub run: String,
    /// Models recorded as historical (older data than their last run): no marks changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub historical: Vec<String>,
    pub total: BTreeMap<Mark, usize>,
    pub models: BTreeMap<String, BTreeMap<Mark, usize>>,
}

impl LedgerDiff {
    pub fn count(&self, mark: Mark) -> usize {
        self.total.get(&mark).copied().unwrap_or(0)
    }
}

/// What a run is recorded against.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The lake's address.
    pub lake_url: String,
    /// The lake's identity (`None`: the location holds no lake).
    pub lake_id: Option<String>,
    /// The lake really changed (moved, rebuilt): record against it and make it the ledger's lake.
    pub new_lake: bool,
    /// What started the run: `None` for the command line (`manual`), else the scheduler's job.
    pub trigger: Option<String>,
    /// The job run it is part of.
    pub job_run: Option<i64>,
    /// When it is recorded, from the caller's clock (`None`: the system clock, for the command
    /// line's `run`); the outbox's queue time too.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens the ledger at `path`, which must exist: a mistyped path is an error, never an
    /// empty ledger that reports nothing.
    pub fn open_existing(path: &Path) -> Result<Ledger, Error> {
        if !path.exists() {
            return Err(Error::at(
                path,
                "没有台账 no ledger here — nothing has been recorded at this path (a mistyped --ledger?); a run records into it with --new-ledger",
            ));
        }
        Ledger::open(path)
    }

    /// Opens (creating if needed) the ledger at `path`, in WAL mode, migrated to the current schema.
    pub fn open(path: &Path) -> Result<Ledger, Error> {
        let err = |e: String| Error::at(path, e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(|e| err(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| err(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| err(e.to_string()))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| err(e.to_string()))?;
        // statement journals (every sighting's update of `clue_state` fires the triggers that
        // keep `clue_counts`) and sorts stay in memory rather than in a temporary file: a run
        // recording 24 000 clues wrote half a million pages there, seconds of system time
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(|e| err(e.to_string()))?;
        // 64 MiB of page cache (the default is 2 MiB): a record touches the clue tables' indexes
        conn.pragma_update(None, "cache_size", -65536).map_err(|e| err(e.to_string()))?;
        let mut ledger = Ledger { conn, path: path.to_path_buf() };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// An empty ledger in memory, migrated: what a project that has recorded nothing yet
    /// previews against (`digest preview` before the first run: every clue is new).
    pub fn in_memory() -> Result<Ledger, Error> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| Error::at(&path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| Error::at(&path, e))?;
        let mut ledger = Ledger { conn, path };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::at(&self.path, e)
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let applied: usize =
            self.conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| self.err(e))?;
        if applied > MIGRATIONS.len() {
            return Err(self.err(format!(
                "schema version {applied} is newer than this searchlight knows ({}); upgrade searchlight",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let path = &self.path;
            let tx = self.conn.transaction().map_err(|e| Error::at(path, e))?;
            tx.execute_batch(sql).map_err(|e| Error::at(path, format!("migration {}: {e}", i + 1)))?;
            if i + 1 == CLUE_STATE_MIGRATION {
                state::rebuild(&tx).map_err(|e| Error::at(path, format!("migration {}: {e}", i + 1)))?;
            }
            tx.pragma_update(None, "user_version", i + 1).map_err(|e| Error::at(path, e))?;
            tx.commit().map_err(|e| Error::at(path, e))?;
        }
        Ok(())
    }

    /// Records a finished run: the run, each model's part, and a sighting of every clue of each
    /// model that ran (failed models leave their clues as they were). All or nothing.
    pub fn record(&mut self, report: &RunReport, lake: &str) -> Result<LedgerDiff, Error> {
        self.record_on(report, &Recording { lake_url: lake.to_string(), ..Default::default() })
    }

    /// Records a finished run made on the lake `on`. A run on another lake than the ledger's is
    /// refused (its clues are not this ledger's to resolve) unless `on.new_lake`. A model whose
    /// data is older than its last recorded run (a back-fill) is recorded as historical: its
    /// evidence is kept and no mark changes.
    pub fn record_on(&mut self, report: &RunReport, on: &Recording) -> Result<LedgerDiff, Error> {
        let (diff, _) = self.record_with(report, on, |_, _| Vec::new(), true)?;
        Ok(diff)
    }

    /// Records a run as [`Ledger::record_on`] does and, in the same transaction, queues the
    /// mails `mails` builds from the ledger as the run leaves it (it reads this ledger, which
    /// sees the run's marks before they are committed): a crash between the run and its mail
    /// loses neither. Returns the diff and the mails queued. With `commit` false everything is
    /// rolled back and the mails are only returned (a preview of exactly what a run would send).
    pub fn record_with(
        &mut self,
        report: &RunReport,
        on: &Recording,
        mails: impl FnOnce(&Ledger, &LedgerDiff) -> Vec<NewMail>,
        commit: bool,
    ) -> Result<(LedgerDiff, Vec<(i64, NewMail)>), Error> {
        let lake = on.lake_url.as_str();
        let path = self.path.clone();
        let err = |e: rusqlite::Error| Error::at(&path, e);
        // IMMEDIATE: take the write lock up front, so two runs recording at once queue up
        // (busy timeout) instead of one failing when it upgrades from reading to writing.
        // Unchecked (a shared borrow of the connection) so `mails` can read the ledger inside it.
        let tx =
            rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        same_lake(&tx, on).map_err(|e| Error::at(&path, e))?;
        if let Some(id) = &on.lake_id {
            tx.execute(
                "INSERT INTO ledger_meta (key, value) VALUES ('lake_id', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [id],
            )
            .map_err(err)?;
        }
        let at = on.at.unwrap_or_else(chrono::Utc::now);
        let now = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let exists: Option<String> = tx
            .query_row("SELECT run_id FROM runs WHERE run_id = ?1", [&report.run], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if exists.is_some() {
            return Err(Error::at(&path, format!("run {} is already recorded", report.run)));
        }
        tx.execute(
            "INSERT INTO runs (run_id, as_of, started_at, recorded_at, lake, models, failed, trigger, engine)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                report.run,
                report.as_of,
                report.started_at,
                now,
                lake,
                report.models.len(),
                report.failed(),
                on.trigger.as_deref().unwrap_or("manual"),
                crate::runner::ENGINE
            ],
        )
        .map_err(err)?;
        let mut diff = LedgerDiff { run: report.run.clone(), ..Default::default() };
        for (i, m) in report.models.iter().enumerate() {
            let historical = m.status.looked() && older_than_recorded(&tx, &report.as_of, m).map_err(err)?;
            if historical {
                diff.historical.push(m.model.clone());
            }
            tx.execute(
                "INSERT INTO run_models (run_id, model, version, params, snapshots, evidence, rows, clues, error, kind, without, blind, carried_from, increment, full_from, updates, unassessed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    report.run,
                    m.model,
                    m.version,
                    serde_json::to_string(&m.params).unwrap_or_default(),
                    serde_json::to_string(&m.snapshots).unwrap_or_default(),
                    m.evidence,
                    m.rows,
                    m.clues.len(),
                    m.error.clone().or_else(|| m.not_run_reason()),
                    if historical { "historical" } else { "current" },
                    (!m.without.is_empty()).then(|| serde_json::to_string(&m.without).unwrap_or_default()),
                    (!m.blind_routes.is_empty()).then(|| serde_json::to_string(&m.blind_routes).unwrap_or_default()),
                    m.carried_from,
                    m.increment.as_ref().map(|i| serde_json::to_string(i).unwrap_or_default()),
                    m.increment.as_ref().map(|i| i.full_from.clone()),
                    m.updates,
                    (!m.unassessed.is_empty()).then(|| serde_json::to_string(&m.unassessed).unwrap_or_default())
                ],
            )
            .map_err(err)?;
            // a model that failed, could not look, or looked at older data than it last did
            // leaves its clues as they were; one that could not look along every route marks
            // what it found, and resolves only clues no blind route could have raised
            if m.status.looked() && !historical {
                sight(&tx, &report.run, m, &mut diff).map_err(err)?;
            }
            if i == 0 {
                crate::fault::point("ledger.mid_record");
            }
        }
        tx.execute(
            "UPDATE runs SET marks = ?2 WHERE run_id = ?1",
            params![report.run, serde_json::to_string(&diff.total).unwrap_or_else(|_| "{}".into())],
        )
        .map_err(err)?;
        let built = mails(self, &diff);
        let ids = outbox::queue(&tx, &built, Some(&report.run), on.job_run, at).map_err(err)?;
        if !commit {
            tx.rollback().map_err(err)?;
            return Ok((diff, ids.into_iter().zip(built).collect()));
        }
        tx.commit().map_err(err)?;
        Ok((diff, ids.into_iter().zip(built).collect()))
    }

    /// Withdraws a recorded run made by mistake (a mistyped `--as-of`): its sightings no longer
    /// count for any clue's mark (they stay, append-only; the view `live_sightings` leaves them out), its
    /// models are no longer the latest run of anything, and the run says who withdrew it, when
    /// and why. Returns how many sightings no longer count.
    pub fn withdraw_run(
        &mut self,
        run: &str,
        by: &str,
        reason: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, Error> {
        if reason.trim().is_empty() || by.trim().is_empty() {
            return Err(self.err("a withdrawal says who (--by) and why (--reason)"));
        }
        let path = self.path.clone();
        let err = |e: rusqlite::Error| Error::at(&path, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        let state: Option<Option<String>> = tx
            .query_row("SELECT withdrawn_at FROM runs WHERE run_id = ?1", [run], |r| r.get(0))
            .optional()
            .map_err(err)?;
        match state {
            None => {
                return Err(Error::at(&path, format!("no run {run} in the ledger (`searchlight runs` lists them)")));
            }
            Some(Some(when)) => return Err(Error::at(&path, format!("run {run} was withdrawn already, at {when}"))),
            Some(None) => {}
        }
        // sightings stay (append-only): `live_sightings` leaves out a withdrawn run's
        let moved: u64 =
            tx.query_row("SELECT count(*) FROM sightings WHERE run_id = ?1", [run], |r| r.get(0)).map_err(err)?;
        tx.execute("UPDATE run_models SET kind = 'withdrawn' WHERE run_id = ?1", [run]).map_err(err)?;
        tx.execute(
            "UPDATE runs SET withdrawn_at = ?2, withdrawn_by = ?3, withdrawn_reason = ?4 WHERE run_id = ?1",
            params![run, at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), by.trim(), reason.trim()],
        )
        .map_err(err)?;
        // the clues it sighted are drawn again from the sightings that still count
        let touched: Vec<String> = tx
            .prepare("SELECT clue_id FROM sightings WHERE run_id = ?1")
            .and_then(|mut s| s.query_map([run], |r| r.get(0))?.collect())
            .map_err(err)?;
        for clue in &touched {
            state::refresh(&tx, clue).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(moved)
    }

    /// Draws the `clue_state` projection again from the sightings and events, in one
    /// transaction; returns how many clues it holds.
    pub fn rebuild_clue_state(&mut self) -> Result<usize, Error> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| Error::at(&path, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        state::rebuild(&tx).map_err(err)?;
        let n: usize = tx.query_row("SELECT count(*) FROM clue_state", [], |r| r.get(0)).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n)
    }

    /// Where the kept `clue_state` projection differs from one drawn again from the facts (at
    /// most `limit` lines); nothing is changed.
    pub fn check_clue_state(&mut self, limit: usize) -> Result<Vec<String>, Error> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| Error::at(&path, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        let out = state::differences(&tx, limit).map_err(err)?;
        tx.rollback().map_err(err)?;
        Ok(out)
    }

    /// Whether a run on the lake `on` may be recorded here (see [`Ledger::record_on`]); checked
    /// before a run starts, and again when it is recorded.
    pub fn check_lake(&self, on: &Recording) -> Result<(), Error> {
        // a read only: a read that upgrades to a write would fail at once beside another writer
        same_lake(&self.conn, on).map_err(|e| self.err(e))
    }

    /// Copies the ledger to `dest` consistently while others may be reading or writing it
    /// (SQLite's online backup); refuses to overwrite an existing file.
    pub fn backup(&self, dest: &Path) -> Result<(), Error> {
        if dest.exists() {
            return Err(self.err(format!("backup: {} already exists", dest.display())));
        }
        let copied = (|| -> Result<(), String> {
            let mut out = Connection::open(dest).map_err(|e| e.to_string())?;
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut out).map_err(|e| e.to_string())?;
            backup.run_to_completion(256, Duration::from_millis(10), None).map_err(|e| e.to_string())?;
            drop(backup);
            let ok: String = out.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| e.to_string())?;
            if ok != "ok" {
                return Err(format!("integrity check of the copy failed: {ok}"));
            }
            Ok(())
        })();
        copied.map_err(|message| {
            // a failed copy is not left behind to be mistaken for a backup
            let _ = std::fs::remove_file(dest);
            self.err(format!("backup to {}: {message}", dest.display()))
        })
    }
}

/// Refuses a run on another lake than the one the ledger records (recording then makes the
/// run's lake the ledger's: on the first run, or with `new_lake`).
fn same_lake(tx: &rusqlite::Connection, on: &Recording) -> Result<(), String> {
    let e = |e: rusqlite::Error| e.to_string();
    let known: Option<String> =
        tx.query_row("SELECT value FROM ledger_meta WHERE key = 'lake_id'", [], |r| r.get(0)).optional().map_err(e)?;
    let last_url: Option<String> =
        tx.query_row("SELECT lake FROM runs ORDER BY rowid DESC LIMIT 1", [], |r| r.get(0)).optional().map_err(e)?;
    if !on.new_lake {
        let other = match (&known, &on.lake_id) {
            (Some(k), Some(id)) => k != id,
            // a ledger from before lake identities, or a location with no lake: by address
            _ => last_url.as_deref().is_some_and(|u| u != on.lake_url),
        };
        if other {
            return Err(format!(
                "本台账记录的是另一个湖的运行 this ledger records runs on lake {} ({}); this run is on lake {} ({}). A different lake cannot resolve this ledger's clues: check --lake / --ledger, or pass --new-lake if the lake really moved or was rebuilt",
                known.as_deref().unwrap_or("-"),
                last_url.as_deref().unwrap_or("-"),
                on.lake_id.as_deref().unwrap_or("(no lake there)"),
                on.lake_url
            ));
        }
    }
    Ok(())
}

/// Whether a model's part of a run read older data than the model's last recorded current run:
/// an earlier as-of, or a dataset at an earlier snapshot.
fn older_than_recorded(
    tx: &rusqlite::Transaction<'_>,
    as_of: &str,
    m: &crate::runner::ModelOutcome,
) -> rusqlite::Result<bool> {
    let last: Option<(String, String)> = tx
        .query_row(
            "SELECT r.as_of, m.snapshots FROM run_models m JOIN runs r ON r.run_id = m.run_id
             WHERE m.model = ?1 AND m.kind = 'current' AND m.error IS NULL ORDER BY r.rowid DESC LIMIT 1",
            [&m.model],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((last_as_of, snapshots)) = last else { return Ok(false) };
    let before: BTreeMap<String, String> = serde_json::from_str(&snapshots).unwrap_or_default();
    Ok(as_of < last_as_of.as_str() || m.snapshots.iter().any(|(d, s)| before.get(d).is_some_and(|b| s < b)))
}

/// Marks every clue of one model that ran: new, ongoing or reopened for those it returned,
/// resolved for those it returned before and no longer does.
fn sight(
    tx: &rusqlite::Transaction<'_>,
    run: &str,
    m: &crate::runner::ModelOutcome,
    diff: &mut LedgerDiff,
) -> rusqlite::Result<()> {
    // the latest mark of every clue this model has found before: its latest live sighting's,
    // as the `clue_state` projection keeps it (folding every sighting of every run instead
    // grew with the ledger's history: seconds per run at county scale 300 after a few runs)
    let mut latest: BTreeMap<String, Mark> = BTreeMap::new();
    {
        let mut stmt = tx.prepare_cached("SELECT clue_id, mark FROM clue_state WHERE model = ?1")?;
        let rows = stmt.query_map([&m.model], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, mark) = row?;
            latest.insert(id, Mark::parse(&mark).unwrap_or(Mark::New));
        }
    }
    // ids under the current encoding of clues the ledger knows by an older id
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT a.alias, a.clue_id FROM clue_aliases a JOIN clues c ON c.clue_id = a.clue_id WHERE c.model = ?1",
        )?;
        for row in stmt.query_map([&m.model], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (alias, id) = row?;
            aliases.insert(alias, id);
        }
    }
    let counts = diff.models.entry(m.model.clone()).or_default();
    let mut seen = BTreeSet::new();
    for c in &m.clues {
        let id: &str = if latest.contains_key(&c.id) {
            &c.id
        } else if let Some(known) = aliases.get(&c.id) {
            known
        } else if c.legacy_id != c.id && latest.contains_key(&c.legacy_id) && !seen.contains(c.legacy_id.as_str()) {
            // (two keys the old encoding ran together — NULL and "", a `|` inside a value —
            // cannot both be the old clue: the first found takes it over, the other is new)
            tx.execute(
                "INSERT INTO clue_aliases (alias, clue_id, run_id) VALUES (?1, ?2, ?3)",
                params![c.id, c.legacy_id, run],
            )?;
            &c.legacy_id
        } else {
            &c.id
        };
        let mark = match latest.get(id) {
            None => {
                tx.execute(
                    "INSERT OR IGNORE INTO clues (clue_id, model, entity, title, area, domain, severity, first_run)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        id,
                        m.model,
                        c.entity,
                        m.title,
                        m.area,
                        m.domain,
                        c.severity.as_deref().unwrap_or(&m.severity),
                        run
                    ],
                )?;
                Mark::New
            }
            Some(Mark::Resolved) => Mark::Reopened,
            Some(_) => Mark::Ongoing,
        };
        tx.execute(
            "INSERT INTO sightings (run_id, clue_id, mark, unit, amount, rows, evidence_key, unit_code, amount_fen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                run,
                id,
                mark.name(),
                c.unit,
                c.amount,
                serde_json::to_string(&c.rows).unwrap_or_default(),
                c.evidence_key,
                c.unit_code,
                c.amount_fen
            ],
        )?;
        let seq = tx.last_insert_rowid();
        state::sighted(
            tx,
            id,
            seq,
            run,
            mark.name(),
            Some(c.unit.as_str()),
            c.unit_code.as_deref(),
            c.amount,
            c.amount_fen,
        )?;
        seen.insert(id);
        *counts.entry(mark).or_default() += 1;
        *diff.total.entry(mark).or_default() += 1;
    }
    let blind_now: BTreeSet<&Vec<String>> = m.blind_routes.iter().map(|r| &r.route).collect();
    // what the model could not assess this time is not known to be gone
    let unassessed: BTreeSet<&str> = m.unassessed_clues.iter().map(|(id, _)| id.as_str()).collect();
    let mut blind_then: BTreeMap<String, Option<BTreeSet<Vec<String>>>> = BTreeMap::new();
    for (id, mark) in &latest {
        if *mark != Mark::Resolved && !seen.contains(id.as_str()) && !unassessed.contains(id.as_str()) {
            // a route blind now may be where it came from: unless that route was blind too
            // when it was last seen, it is not known to be gone
            if !blind_now.is_empty() {
                let then = routes_blind_when_last_seen(tx, id, &m.model, &mut blind_then)?;
                if !then.is_some_and(|then| blind_now.iter().all(|r| then.contains(*r))) {
                    continue;
                }
            }
            tx.execute("INSERT INTO sightings (run_id, clue_id, mark) VALUES (?1, ?2, 'resolved')", params![run, id])?;
            state::sighted(tx, id, tx.last_insert_rowid(), run, "resolved", None, None, None, None)?;
            *counts.entry(Mark::Resolved).or_default() += 1;
            *diff.total.entry(Mark::Resolved).or_default() += 1;
        }
    }
    Ok(())
}

/// The routes of `model` that were blind in the run that last saw `clue` (cached by run);
/// `None` when that run is not known.
fn routes_blind_when_last_seen(
    tx: &rusqlite::Transaction<'_>,
    clue: &str,
    model: &str,
    cache: &mut BTreeMap<String, Option<BTreeSet<Vec<String>>>>,
) -> rusqlite::Result<Option<BTreeSet<Vec<String>>>> {
    let run: Option<String> = tx
        .query_row(
            "SELECT run_id FROM live_sightings WHERE clue_id = ?1 AND mark <> 'resolved' ORDER BY seq DESC LIMIT 1",
            [clue],
            |r| r.get(0),
        )
        .optional()?;
    let Some(run) = run else { return Ok(None) };
    if let Some(known) = cache.get(&run) {
        return Ok(known.clone());
    }
    let blind: Option<Option<String>> = tx
        .query_row("SELECT blind FROM run_models WHERE run_id = ?1 AND model = ?2", params![run, model], |r| r.get(0))
        .optional()?;
    let routes = blind.map(|b| {
        b.and_then(|b| serde_json::from_str::<Vec<crate::runner::routes::BlindRoute>>(&b).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.route)
            .collect()
    });
    cache.insert(run, routes.clone());
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Clue, ModelOutcome};

    pub(super) fn report(run: &str, model: &str, entities: &[&str], error: Option<&str>) -> RunReport {
        let clues = entities
            .iter()
            .enumerate()
            .map(|(i, e)| Clue {
                id: crate::runner::clue_id(model, [*e]),
                legacy_id: crate::runner::identity::legacy_clue_id(model, e),
                entity: e.to_string(),
                entity_values: vec![e.to_string()],
                unit: "清河县教育局".into(),
                unit_code: None,
                amount: Some(100.0),
                amount_fen: Some(10_000),
                severity: None,
                rows: vec![i],
                evidence_key: format!("{e}-evidence"),
            })
            .collect();
        RunReport {
            run: run.into(),
            as_of: "2025-12-31".into(),
            started_at: "2026-11-21T09:00:00+08:00".into(),
            models: vec![ModelOutcome {
                model: model.into(),
                title: "测试".into(),
                area: "测试".into(),
                domain: "test".into(),
                severity: "high".into(),
                version: "v".into(),
                params: vec![],
                snapshots: Default::default(),
                rows: entities.len(),
                clues,
                amount: None,
                elapsed_ms: 1,
                status: if error.is_some() { crate::runner::Status::Failed } else { crate::runner::Status::Ran },
                missing: vec![],
                stale: vec![],
                without: vec![],
                blind_routes: vec![],
                unassessed: Default::default(),
                unassessed_clues: vec![],
                warnings: vec![],
                error: error.map(str::to_string),
                evidence: Some(format!("{model}.parquet")),
                carried_from: None,
                increment: None,
                updates: 0,
                batches: vec![],
            }],
        }
    }

    fn marks(l: &Ledger) -> Vec<(String, Mark)> {
        l.clues(&ClueFilter::default()).unwrap().into_iter().map(|c| (c.entity, c.mark)).collect()
    }

    #[test]
    fn runs_mark_clues_new_ongoing_resolved_reopened_and_failed_models_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        let d = l.record(&report("R1", "m", &["a", "b"], None), "file:///lake/").unwrap();
        assert_eq!((d.count(Mark::New), d.count(Mark::Ongoing)), (2, 0));
        let d = l.record(&report("R2", "m", &["a"], None), "file:///lake/").unwrap();
        assert_eq!((d.count(Mark::Ongoing), d.count(Mark::Resolved)), (1, 1));
        // a failed run of the model: no sighting, b stays resolved, a stays ongoing
        let d = l.record(&report("R3", "m", &[], Some("boom")), "file:///lake/").unwrap();
        assert!(d.total.is_empty());
        let mut m = marks(&l);
        m.sort();
        assert_eq!(m, vec![("a".into(), Mark::Ongoing), ("b".into(), Mark::Resolved)]);
        let d = l.record(&report("R4", "m", &["a", "b", "c"], None), "file:///lake/").unwrap();
        assert_eq!((d.count(Mark::Ongoing), d.count(Mark::Reopened), d.count(Mark::New)), (1, 1, 1));
        // resolved clues are not resolved twice
        l.record(&report("R5", "m", &[], None), "file:///lake/").unwrap();
        let d = l.record(&report("R6", "m", &[], None), "file:///lake/").unwrap();
        assert_eq!(d.count(Mark::Resolved), 0);
        let since = l.clues(&ClueFilter { new_since: Some("R1".into()), ..Default::default() }).unwrap();
        assert_eq!(since.iter().map(|c| c.entity.as_str()).collect::<Vec<_>>(), vec!["c"]);
        let e = l.record(&report("R6", "m", &[], None), "file:///lake/").unwrap_err();
        assert!(e.to_string().contains("already recorded"), "{e}");
        let v = l.clue(&crate::runner::clue_id("m", ["b"]), chrono::NaiveDate::MAX).unwrap().unwrap();
        let seen: Vec<Mark> = v.sightings.iter().map(|s| s.mark).collect();
        assert_eq!(seen, vec![Mark::New, Mark::Resolved, Mark::Reopened, Mark::Resolved]);
    }

    #[test]
    fn a_model_that_could_not_look_resolves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        l.record(&report("R1", "m", &["a", "b"], None), "file:///lake/").unwrap();
        // the next run lacks the model's core data: it found nothing because it looked at nothing
        let mut idle = report("R2", "m", &[], None);
        idle.models[0].status = crate::runner::Status::NotRun;
        idle.models[0].missing = vec!["deaths".into()];
        let d = l.record(&idle, "file:///lake/").unwrap();
        assert!(d.total.is_empty(), "{d:?}");
        assert_eq!(marks(&l).into_iter().filter(|(_, m)| *m == Mark::Resolved).count(), 0);
        let why: Option<String> =
            l.conn.query_row("SELECT error FROM run_models WHERE run_id = 'R2'", [], |r| r.get(0)).unwrap();
        assert_eq!(why.as_deref(), Some("not run: needs deaths"));
    }

    #[test]
    fn a_model_blind_along_a_route_resolves_only_what_that_route_could_not_have_raised() {
        use crate::runner::routes::BlindRoute;
        let blind = |run: &str, entities: &[&str], routes: &[&str]| {
            let mut r = report(run, "m", entities, None);
            r.models[0].blind_routes = routes
                .iter()
                .map(|d| BlindRoute {
                    route: vec![d.to_string()],
                    title: String::new(),
                    missing: vec![format!("{d}.x")],
                    shown: Vec::new(),
                })
                .collect();
            if !routes.is_empty() {
                r.models[0].status = crate::runner::Status::Partial;
            }
            r
        };
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        // a and b seen with every route looking; c seen while the relief route was blind
        l.record(&blind("R1", &["a", "b"], &[]), "file:///lake/").unwrap();
        let d = l.record(&blind("R2", &["a", "c"], &["relief"]), "file:///lake/").unwrap();
        assert_eq!(d.count(Mark::Resolved), 0, "b may be behind the blind route: {d:?}");
        // now the relief route is blind, and only a is returned: b was last seen with every route
        // looking, so it may have come from the blind one — not resolved; c could not have
        let d = l.record(&blind("R3", &["a"], &["relief"]), "file:///lake/").unwrap();
        assert_eq!((d.count(Mark::Ongoing), d.count(Mark::Resolved)), (1, 1), "{d:?}");
        let mut m = marks(&l);
        m.sort();
        assert_eq!(m, vec![("a".into(), Mark::Ongoing), ("b".into(), Mark::New), ("c".into(), Mark::Resolved)]);
        // another route blind than when b was last seen: b stays; once every route looks, b goes
        let d = l.record(&blind("R4", &["a"], &["subsidy"]), "file:///lake/").unwrap();
        assert_eq!(d.count(Mark::Resolved), 0, "{d:?}");
        let d = l.record(&blind("R5", &["a"], &[]), "file:///lake/").unwrap();
        assert_eq!(d.count(Mark::Resolved), 1, "{d:?}");
        let stored: Option<String> =
            l.conn.query_row("SELECT blind FROM run_models WHERE run_id = 'R3'", [], |r| r.get(0)).unwrap();
        assert!(stored.unwrap().contains("relief.x"));
    }

    #[test]
    fn a_ledger_written_under_the_older_ids_carries_its_clues_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        // what an older searchlight recorded: the clue under its display-text id
        let mut old = report("R1", "m", &["340524198001010013"], None);
        let legacy = crate::runner::identity::legacy_clue_id("m", "340524198001010013");
        old.models[0].clues[0].id = legacy.clone();
        l.record(&old, "file:///lake/").unwrap();
        l.act(&legacy, "甲", Step::Note, Some("已调阅档案")).unwrap();
        // the same clue under the typed encoding: ongoing, not new and resolved
        let d = l.record(&report("R2", "m", &["340524198001010013"], None), "file:///lake/").unwrap();
        assert_eq!((d.count(Mark::Ongoing), d.count(Mark::New), d.count(Mark::Resolved)), (1, 0, 0), "{d:?}");
        let d = l.record(&report("R3", "m", &["340524198001010013"], None), "file:///lake/").unwrap();
        assert_eq!(d.count(Mark::Ongoing), 1, "{d:?}");
        let new_id = crate::runner::clue_id("m", ["340524198001010013"]);
        assert_ne!(new_id, legacy);
        let v = l.clue(&new_id, chrono::NaiveDate::MAX).unwrap().expect("the new id finds the clue");
        assert_eq!(v.clue.clue_id, legacy);
        assert_eq!(v.sightings.len(), 3);
        assert_eq!(v.events.len(), 1, "its workflow history comes with it");
    }

    #[test]
    fn keys_the_old_encoding_ran_together_are_carried_over_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        let mut old = report("R1", "m", &["a|b"], None);
        old.models[0].clues[0].id = crate::runner::identity::legacy_clue_id("m", "a|b");
        l.record(&old, "file:///lake/").unwrap();
        // ("a|b") and ("a", "b") had one old id; now they are two clues
        let mut now = report("R2", "m", &["a|b", "a|b"], None);
        now.models[0].clues[1].id = crate::runner::clue_id("m", ["a", "b"]);
        let d = l.record(&now, "file:///lake/").unwrap();
        assert_eq!((d.count(Mark::Ongoing), d.count(Mark::New)), (1, 1), "{d:?}");
    }

    #[test]
    fn a_dismissed_clue_whose_evidence_changes_on_newer_data_comes_back_to_triage() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        let run = |id: &str, snapshot: &str, evidence: &str| {
            let mut r = report(id, "m", &["a"], None);
            r.models[0].snapshots.insert("payments".into(), snapshot.into());
            r.models[0].clues[0].evidence_key = evidence.into();
            r
        };
        let clue = crate::runner::clue_id("m", ["a"]);
        l.record(&run("R1", "S20250101", "k1"), "file:///lake/").unwrap();
        let dismiss = Step::Triage { dismiss: true, route_to: None, persons: vec![] };
        l.act(&clue, "甲", dismiss.clone(), Some("系合法代领")).unwrap();
        // the data of the dismissal read again, other evidence (an edited model): not newer data
        l.record(&run("R2", "S20250101", "k2"), "file:///lake/").unwrap();
        assert_eq!(l.work_state(&clue, chrono::NaiveDate::MAX).unwrap().status, Status::Dismissed);
        // newer data, the same evidence: it stays dismissed
        l.record(&run("R3", "S20250201", "k1"), "file:///lake/").unwrap();
        assert_eq!(l.work_state(&clue, chrono::NaiveDate::MAX).unwrap().status, Status::Dismissed);
        // newer data with other evidence (a new payment after death): back to 待研判, marked 复现
        l.record(&run("R4", "S20250301", "k3"), "file:///lake/").unwrap();
        let s = l.work_state(&clue, chrono::NaiveDate::MAX).unwrap();
        assert_eq!((s.status, s.recurred, s.label), (Status::Pending, true, "待研判(复现)"));
        let listed = l.clues(&ClueFilter { status: Some(Status::Pending), ..Default::default() }).unwrap();
        assert_eq!(listed.len(), 1, "listed among the clues to triage");
        // and it can be triaged again; dismissing again starts from the evidence now
        l.act(&clue, "甲", dismiss, Some("复核后仍为合法代领")).unwrap();
        assert_eq!(l.work_state(&clue, chrono::NaiveDate::MAX).unwrap().status, Status::Dismissed);
    }

    #[test]
    fn history_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        l.record(&report("R1", "m", &["a"], None), "file:///lake/").unwrap();
        let e = l.conn.execute("UPDATE sightings SET mark = 'resolved'", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = l.conn.execute("DELETE FROM sightings", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let id = crate::runner::clue_id("m", ["a"]);
        l.act(&id, "甲", Step::Triage { dismiss: false, route_to: Some("县民政局".into()), persons: vec![] }, None)
            .unwrap();
        let e = l.conn.execute("UPDATE events SET actor = '乙'", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = l.conn.execute("DELETE FROM events", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        assert_eq!(l.work_state(&id, chrono::NaiveDate::MAX).unwrap().status, Status::Routed);
    }

    #[test]
    fn readers_and_backups_work_while_a_write_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let mut l = Ledger::open(&path).unwrap();
        l.record(&report("R1", "m", &["a"], None), "file:///lake/").unwrap();
        // another process's run, in the middle of its transaction
        let mut writer = Ledger::open(&path).unwrap();
        let tx = writer.conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO runs (run_id, as_of, started_at, recorded_at, lake, models, failed) VALUES ('R2', 'x', 'x', 'x', 'x', 0, 0)",
            [],
        )
        .unwrap();
        let reader = Ledger::open(&path).unwrap();
        assert_eq!(marks(&reader), vec![("a".into(), Mark::New)]);
        assert_eq!(reader.last_run().unwrap().as_deref(), Some("R1"));
        let copy = dir.path().join("copy.sqlite");
        reader.backup(&copy).unwrap();
        tx.commit().unwrap();
        let restored = Ledger::open(&copy).unwrap();
        assert_eq!(restored.last_run().unwrap().as_deref(), Some("R1"), "the backup holds what was committed");
        assert_eq!(marks(&restored), vec![("a".into(), Mark::New)]);
        assert!(reader.backup(&copy).unwrap_err().to_string().contains("already exists"));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        drop(Ledger::open(&path).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let e = Ledger::open(&path).err().unwrap();
        assert!(e.to_string().contains("newer than this searchlight"), "{e}");
    }
}
