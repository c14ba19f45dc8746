//! The ledger read in bulk, for briefs and model quality: every clue with its latest sighting up
//! to a date, the runs, every sighting's mark, each model's latest recorded part of a run, and
//! what verification said of each model's clues (属实 / 部分属实 / 不属实, dismissed and why,
//! amounts confirmed and recovered) — model precision learnt from the inspectors' outcomes.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::workflow::{Status, Step};

use super::{Error, Ledger, Mark};

/// One clue as of a date: its latest sighting in a run on data up to that date.
#[derive(Debug, Clone, Serialize)]
pub struct ClueSummary {
    pub clue_id: String,
    pub model: String,
    pub title: String,
    pub area: String,
    pub domain: String,
    pub severity: String,
    pub entity: String,
    pub first_run: String,
    pub last_run: String,
    pub mark: Mark,
    /// The unit value of its latest sighting that had one, and the unit it resolved to.
    pub unit: Option<String>,
    pub unit_code: Option<String>,
    /// Amount of its latest sighting that found it, in 分.
    pub amount_fen: Option<i64>,
    /// Found (not only resolved) by a run whose data lies in the period asked for.
    pub in_period: bool,
}

/// Clues counted together: those of one unit (by code, or by value where the code is not
/// known), model and area, in the period asked for or not, dismissed in triage or not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClueGroup {
    pub unit_code: Option<String>,
    pub unit: Option<String>,
    pub model: String,
    pub area: String,
    pub in_period: bool,
    pub dismissed: bool,
    pub n: usize,
}

/// A recorded run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub run_id: String,
    pub as_of: String,
    pub started_at: String,
}

/// A recorded run as `searchlight runs` lists it: what started it, when, how it went, and what
/// it did to the clues.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub run_id: String,
    /// `manual` (the command line) or the scheduler's job.
    pub trigger: String,
    pub as_of: String,
    pub started_at: String,
    /// When its results were recorded (the run's end).
    pub ended_at: String,
    pub models: u64,
    /// Models that could not look (core data missing, ingest failed).
    pub not_run: u64,
    pub failed: u64,
    /// Models that looked, but not everywhere: a route could not look, or rows could not be
    /// assessed.
    pub partial: u64,
    /// Models recorded as historical (older data than their last run): no marks moved.
    pub historical: u64,
    /// Models whose result was replayed from an earlier run (nothing they read had changed).
    pub carried: u64,
    /// Models evaluated incrementally (only the keys new rows touched).
    pub incremental: u64,
    /// `ok`, `partial` (some models failed, could not look, or looked only in part), `failed`
    /// (none looked, or the
    /// job failed before any model ran) or `timed_out`.
    pub outcome: String,
    pub marks: BTreeMap<Mark, u64>,
    /// The job run it belongs to (scheduled, or `searchlight pipeline`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The job's error (a failed ingest, a timeout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A model's part of one recorded run.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRun {
    pub model: String,
    pub run_id: String,
    pub as_of: String,
    /// Failed, or could not look (`not run: …`).
    pub error: Option<String>,
    /// Optional inputs it ran without.
    pub without: Vec<String>,
    /// Routes that could not look.
    pub blind: Vec<crate::runner::routes::BlindRoute>,
    /// What it could not assess, by what it lacks (words → how many).
    pub unassessed: BTreeMap<String, u64>,
    pub clues: i64,
    pub snapshots: BTreeMap<String, String>,
    pub params: serde_json::Value,
}

impl ModelRun {
    /// It looked at the data (it may still have lacked optional inputs).
    pub fn looked(&self) -> bool {
        self.error.is_none()
    }

    /// It could not look: core data missing or its ingest failed.
    pub fn not_run(&self) -> bool {
        self.error.as_deref().is_some_and(|e| e.starts_with("not run"))
    }
}

/// What verification said of one model's clues under one parameter setting.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelQuality {
    pub model: String,
    /// The parameter setting of the run that first raised the clues, `name=value` joined by `, `.
    pub params: String,
    pub raised: u64,
    pub true_: u64,
    pub partly_true: u64,
    pub untrue: u64,
    pub dismissed: u64,
    /// Dismissal reasons with their counts, most frequent first.
    pub dismiss_reasons: Vec<(String, u64)>,
    pub confirmed_fen: i64,
    pub recovered_fen: i64,
    /// [`ModelQuality::judged`] and [`ModelQuality::precision`], for readers of the JSON.
    pub judged: u64,
    pub precision: Option<f64>,
}

impl ModelQuality {
    /// Clues judged: verified either way, or dismissed as false positives in triage.
    pub fn judged(&self) -> u64 {
        self.true_ + self.partly_true + self.untrue + self.dismissed
    }

    /// 属实率: clues verified 属实 or 部分属实 of the clues judged; `None` before any judgement.
    pub fn precision(&self) -> Option<f64> {
        let n = self.judged();
        (n > 0).then(|| (self.true_ + self.partly_true) as f64 / n as f64)
    }

    /// 属实率 in words: "75% (3/4)", or 暂无核实.
    pub fn precision_label(&self) -> String {
        match self.precision() {
            Some(p) => format!("{:.0}% ({}/{})", p * 100.0, self.true_ + self.partly_true, self.judged()),
            None => "暂无核实".into(),
        }
    }

    fn finish(mut self) -> ModelQuality {
        self.judged = self.judged();
        self.precision = self.precision().map(|p| (p * 10_000.0).round() / 10_000.0);
        self
    }

    fn add(&mut self, other: &ModelQuality) {
        self.raised += other.raised;
        self.true_ += other.true_;
        self.partly_true += other.partly_true;
        self.untrue += other.untrue;
        self.dismissed += other.dismissed;
        self.confirmed_fen = self.confirmed_fen.saturating_add(other.confirmed_fen);
        self.recovered_fen = self.recovered_fen.saturating_add(other.recovered_fen);
        let mut reasons: BTreeMap<String, u64> = self.dismiss_reasons.drain(..).collect();
        for (r, n) in &other.dismiss_reasons {
            *reasons.entry(r.clone()).or_default() += n;
        }
        self.dismiss_reasons = sorted(reasons);
    }
}

fn sorted(reasons: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = reasons.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// A clue summary from the columns clue_id, model, title, area, domain, severity, entity,
/// first_run, last_run, mark, unit, unit_code, amount_fen, in_period.
fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClueSummary> {
    let mark: String = r.get(9)?;
    Ok(ClueSummary {
        clue_id: r.get(0)?,
        model: r.get(1)?,
        title: r.get(2)?,
        area: r.get(3)?,
        domain: r.get(4)?,
        severity: r.get(5)?,
        entity: r.get(6)?,
        first_run: r.get(7)?,
        last_run: r.get(8)?,
        mark: Mark::parse(&mark).unwrap_or(Mark::New),
        unit: r.get(10)?,
        unit_code: r.get(11)?,
        amount_fen: r.get(12)?,
        in_period: r.get(13)?,
    })
}

/// A run's marks as recorded (`{"new": 3, "resolved": 1}`).
fn marks_of(json: &str) -> BTreeMap<Mark, u64> {
    let m: BTreeMap<String, u64> = serde_json::from_str(json).unwrap_or_default();
    m.into_iter().filter_map(|(k, n)| Some((Mark::parse(&k)?, n))).collect()
}

fn params_label(params: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(params).unwrap_or_default();
    let parts: Vec<String> = v
        .as_array()
        .map(|a| a.iter().filter_map(|kv| Some(format!("{}={}", kv.get(0)?.as_str()?, kv.get(1)?.as_str()?))).collect())
        .unwrap_or_default();
    if parts.is_empty() { "默认".into() } else { parts.join(", ") }
}

impl Ledger {
    /// Every clue as of `to` (runs on data up to that date; all runs when `None`), its latest
    /// sighting, and whether a run on data in `from..=to` found it.
    pub fn clue_summaries(&self, from: Option<&str>, to: Option<&str>) -> Result<Vec<ClueSummary>, Error> {
        // one pass over the covering index `sightings_marks`, then the two sightings by rowid
        let sql = "
WITH ok AS (SELECT run_id, as_of FROM runs WHERE ?2 IS NULL OR as_of <= ?2),
agg AS (
    SELECT s.clue_id,
           max(s.seq) AS last_seq,
           max(CASE WHEN s.mark <> 'resolved' THEN s.seq END) AS found_seq,
           max(CASE WHEN s.mark <> 'resolved' AND (?1 IS NULL OR o.as_of >= ?1) THEN 1 ELSE 0 END) AS in_period
    FROM live_sightings s JOIN ok o ON o.run_id = s.run_id
    GROUP BY s.clue_id
)
SELECT c.clue_id, c.model, c.title, c.area, c.domain, c.severity, c.entity, c.first_run,
       l.run_id, l.mark, f.unit, f.unit_code,
       coalesce(f.amount_fen, CAST(round(f.amount * 100) AS INTEGER)),
       a.in_period
FROM agg a
JOIN clues c ON c.clue_id = a.clue_id
JOIN live_sightings l ON l.seq = a.last_seq
LEFT JOIN live_sightings f ON f.seq = a.found_seq
ORDER BY c.clue_id";
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params![from, to], summary).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Whether the clues' current state is their state as of `to`: no run that counts is on
    /// data after it (then a brief reads the `clue_state` projection instead of the history).
    pub fn current_as_of(&self, to: &str) -> Result<bool, Error> {
        let later: i64 = self
            .conn
            .query_row("SELECT count(*) FROM runs WHERE withdrawn_at IS NULL AND as_of > ?1", [to], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(later == 0)
    }

    /// Every clue as it stands now, counted by unit code, model, area and whether it was
    /// dismissed — from the kept counts, without reading the clues. The unit value is given
    /// (and the counts split by it) only where `known` does not know the code: a clue without a
    /// code, or with one the directory no longer has, is placed by its value.
    pub fn current_groups(&self, known: impl Fn(&str) -> bool) -> Result<Vec<ClueGroup>, Error> {
        let mut out = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT unit_code, model, area, status = 'dismissed', sum(n) FROM clue_counts
                 GROUP BY unit_code, model, area, status = 'dismissed'",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (code, model, area, dismissed, n) = row.map_err(|e| self.err(e))?;
            if !code.is_empty() && known(&code) {
                out.push(ClueGroup {
                    unit_code: Some(code),
                    unit: None,
                    model,
                    area,
                    in_period: true,
                    dismissed,
                    n: n as usize,
                });
            } else if !code.is_empty() && !unknown.contains(&code) {
                unknown.push(code);
            }
        }
        // the rest by their unit value
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT unit_code, unit, model, area, status = 'dismissed', count(*) FROM clue_state
                 WHERE unit_code IS NULL OR unit_code IN (SELECT value FROM json_each(?1))
                 GROUP BY unit_code, unit, model, area, status = 'dismissed'",
            )
            .map_err(|e| self.err(e))?;
        let unknown = serde_json::to_string(&unknown).unwrap_or_else(|_| "[]".into());
        let rows = stmt
            .query_map([unknown], |r| {
                Ok(ClueGroup {
                    unit_code: r.get(0)?,
                    unit: r.get(1)?,
                    model: r.get(2)?,
                    area: r.get(3)?,
                    in_period: true,
                    dismissed: r.get(4)?,
                    n: r.get::<_, i64>(5)? as usize,
                })
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            out.push(row.map_err(|e| self.err(e))?);
        }
        Ok(out)
    }

    /// The clues as they stand now (what [`Ledger::clue_summaries`] says with no period and
    /// no run on later data) whose unit code is one of `codes` or whose unit value is one of
    /// `values`, in no particular order.
    pub fn current_summaries(&self, codes: &[&str], values: &[&str]) -> Result<Vec<ClueSummary>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.clue_id, c.model, c.title, c.area, c.domain, c.severity, c.entity, c.first_run,
                        s.last_run, s.mark, s.unit, s.unit_code, s.amount_fen, 1
                 FROM clue_state s JOIN clues c ON c.clue_id = s.clue_id
                 WHERE s.unit_code IN (SELECT value FROM json_each(?1))
                    OR s.unit IN (SELECT value FROM json_each(?2))",
            )
            .map_err(|e| self.err(e))?;
        let json = |v: &[&str]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let rows = stmt.query_map([json(codes), json(values)], summary).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The title, domain, area and severity a model's clues were recorded under (for a model
    /// no longer in the library), if it raised any.
    pub fn model_heading(&self, model: &str) -> Result<Option<(String, String, String, String)>, Error> {
        self.conn
            .query_row("SELECT title, domain, area, severity FROM clues WHERE model = ?1 LIMIT 1", [model], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Recorded runs on data up to `to`, in the order they were recorded.
    pub fn runs_until(&self, to: Option<&str>) -> Result<Vec<RunInfo>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT run_id, as_of, started_at FROM runs WHERE (?1 IS NULL OR as_of <= ?1) ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([to], |r| Ok(RunInfo { run_id: r.get(0)?, as_of: r.get(1)?, started_at: r.get(2)? }))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Each model's last recorded result that looked at the data and moved marks (a current
    /// part of a run not withdrawn, without error): what a run may replay when the model's
    /// inputs did not change ([`crate::runner::carry`]).
    pub fn previous_outcomes(&self) -> Result<HashMap<String, crate::runner::Previous>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT m.model, m.run_id, r.as_of, m.version, m.params, m.snapshots, m.rows, m.evidence, r.engine,
                        coalesce(m.carried_from, m.full_from, m.run_id),
                        coalesce((SELECT c.as_of FROM runs c WHERE c.run_id = coalesce(m.carried_from, m.full_from)), r.as_of),
                        m.updates
                 FROM run_models m JOIN runs r ON r.run_id = m.run_id
                 WHERE m.kind = 'current' AND m.error IS NULL AND r.withdrawn_at IS NULL
                 ORDER BY r.rowid DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut out: HashMap<String, crate::runner::Previous> = HashMap::new();
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let model: String = r.get(0).map_err(|e| self.err(e))?;
            if out.contains_key(&model) {
                continue;
            }
            let text = |i: usize| r.get::<_, String>(i).map_err(|e| self.err(e));
            let date = |i: usize| {
                text(i)?.parse::<chrono::NaiveDate>().map_err(|e| self.err(format!("run_models of {model}: {e}")))
            };
            let json_err = |e: serde_json::Error| self.err(format!("run_models of {model}: {e}"));
            let prev = crate::runner::Previous {
                run: text(1)?,
                as_of: date(2)?,
                version: text(3)?,
                params: serde_json::from_str(&text(4)?).map_err(json_err)?,
                snapshots: serde_json::from_str(&text(5)?).map_err(json_err)?,
                rows: r.get::<_, i64>(6).map_err(|e| self.err(e))?.max(0) as usize,
                evidence: r.get(7).map_err(|e| self.err(e))?,
                engine: r.get(8).map_err(|e| self.err(e))?,
                computed_by: text(9)?,
                computed_as_of: date(10)?,
                updates: r.get::<_, i64>(11).map_err(|e| self.err(e))?.clamp(0, u32::MAX as i64) as u32,
            };
            out.insert(model, prev);
        }
        Ok(out)
    }

    /// What the lake must keep for this ledger: every snapshot a recorded run read (withdrawn
    /// runs too: their record stays) and every recorded run's folder, with the lake the ledger
    /// is about (its identity, if recorded).
    pub fn pins(&self) -> Result<(crate::lake::gc::Pins, Option<String>), Error> {
        let mut pins = crate::lake::gc::Pins::default();
        let mut stmt = self.conn.prepare("SELECT DISTINCT snapshots FROM run_models").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        for json in rows {
            let json = json.map_err(|e| self.err(e))?;
            let read: BTreeMap<String, String> =
                serde_json::from_str(&json).map_err(|e| self.err(format!("run_models.snapshots {json:?}: {e}")))?;
            pins.snapshots.extend(read);
        }
        let mut stmt = self.conn.prepare("SELECT run_id FROM runs").map_err(|e| self.err(e))?;
        for run in stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))? {
            pins.runs.insert(run.map_err(|e| self.err(e))?);
        }
        let lake: Option<String> = self
            .conn
            .query_row("SELECT value FROM ledger_meta WHERE key = 'lake_id'", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok((pins, lake))
    }

    /// The recorded runs, newest first (at most `limit`).
    pub fn run_rows(&self, limit: usize) -> Result<Vec<RunRow>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.run_id, r.trigger, r.as_of, r.started_at, r.recorded_at, r.models,
                        (SELECT count(*) FROM run_models m WHERE m.run_id = r.run_id AND m.error LIKE 'not run%'),
                        (SELECT count(*) FROM run_models m WHERE m.run_id = r.run_id AND m.error IS NOT NULL AND m.error NOT LIKE 'not run%'),
                        (SELECT count(*) FROM run_models m WHERE m.run_id = r.run_id AND m.kind = 'historical'),
                        r.withdrawn_at, r.withdrawn_by, r.withdrawn_reason, r.marks,
                        (SELECT count(*) FROM run_models m WHERE m.run_id = r.run_id AND m.carried_from IS NOT NULL),
                        (SELECT count(*) FROM run_models m WHERE m.run_id = r.run_id AND m.increment IS NOT NULL),
                        (SELECT count(*) FROM run_models m WHERE m.run_id = r.run_id AND m.error IS NULL
                                AND (m.blind IS NOT NULL OR m.unassessed IS NOT NULL))
                 FROM runs r ORDER BY r.rowid DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                let (models, not_run, failed): (u64, u64, u64) = (r.get(5)?, r.get(6)?, r.get(7)?);
                let partial: u64 = r.get(15)?;
                let withdrawn: Option<String> = r.get(9)?;
                let (by, why): (Option<String>, Option<String>) = (r.get(10)?, r.get(11)?);
                Ok(RunRow {
                    run_id: r.get(0)?,
                    trigger: r.get(1)?,
                    as_of: r.get(2)?,
                    started_at: r.get(3)?,
                    ended_at: r.get(4)?,
                    models,
                    not_run,
                    failed,
                    historical: r.get(8)?,
                    carried: r.get(13)?,
                    incremental: r.get(14)?,
                    partial,
                    outcome: if withdrawn.is_some() {
                        "withdrawn"
                    } else if not_run + failed + partial == 0 {
                        "ok"
                    } else if not_run + failed < models {
                        "partial"
                    } else {
                        "failed"
                    }
                    .to_string(),
                    // a withdrawn run's sightings no longer count for anything
                    marks: match (&withdrawn, r.get::<_, Option<String>>(12)?) {
                        (None, Some(m)) => marks_of(&m),
                        _ => BTreeMap::new(),
                    },
                    job: None,
                    error: withdrawn.map(|at| {
                        format!("已撤回 withdrawn {at} by {}: {}", by.unwrap_or_default(), why.unwrap_or_default())
                    }),
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))?;
        // job runs: their outcome (a timeout) on the run they recorded, and those that ended
        // before any model ran as rows of their own
        for j in self.job_runs(limit)? {
            match out.iter_mut().find(|r| j.run_id.as_deref() == Some(r.run_id.as_str())) {
                Some(r) => {
                    if j.outcome.as_deref() == Some("timed_out") {
                        r.outcome = "timed_out".into();
                    }
                    r.job = Some(j.job);
                    r.trigger = j.trigger;
                    // a withdrawal is the last word on a run
                    if r.outcome != "withdrawn" {
                        r.error = j.error;
                    }
                }
                None if j.run_id.is_none() => out.push(RunRow {
                    run_id: format!("job-{}", j.id),
                    trigger: j.trigger,
                    as_of: j.as_of,
                    started_at: j.started_at,
                    ended_at: j.ended_at.unwrap_or_default(),
                    models: 0,
                    not_run: 0,
                    failed: 0,
                    partial: 0,
                    historical: 0,
                    carried: 0,
                    incremental: 0,
                    outcome: j.outcome.unwrap_or_else(|| "running".into()),
                    marks: BTreeMap::new(),
                    job: Some(j.job),
                    error: j.error,
                }),
                None => {}
            }
        }
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).map(|t| t.timestamp_millis()).unwrap_or(0);
        // stable: model runs of one second keep their recording order
        out.sort_by_key(|r| std::cmp::Reverse(at(&r.started_at)));
        out.truncate(limit);
        Ok(out)
    }

    /// Every clue one run marked, with its mark.
    pub fn run_marks(&self, run: &str) -> Result<Vec<(String, Mark)>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT clue_id, mark FROM live_sightings WHERE run_id = ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows =
            stmt.query_map([run], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (c, m) = row.map_err(|e| self.err(e))?;
            out.push((c, Mark::parse(&m).unwrap_or(Mark::New)));
        }
        Ok(out)
    }

    /// For each run, how many of the given clues it marked new, reopened and resolved.
    pub fn run_counts(&self, clues: &[&str]) -> Result<HashMap<String, BTreeMap<Mark, usize>>, Error> {
        let ids = serde_json::to_string(clues).unwrap_or_else(|_| "[]".into());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT run_id, mark, count(*) FROM live_sightings
                 WHERE clue_id IN (SELECT value FROM json_each(?1)) GROUP BY run_id, mark",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([ids], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
            .map_err(|e| self.err(e))?;
        let mut out: HashMap<String, BTreeMap<Mark, usize>> = HashMap::new();
        for row in rows {
            let (run, mark, n) = row.map_err(|e| self.err(e))?;
            out.entry(run).or_default().insert(Mark::parse(&mark).unwrap_or(Mark::New), n as usize);
        }
        Ok(out)
    }

    /// Each model's latest recorded (current) part of a run on data up to `to`.
    pub fn latest_model_runs(&self, to: Option<&str>) -> Result<BTreeMap<String, ModelRun>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT m.model, m.run_id, r.as_of, m.error, m.without, m.clues, m.snapshots, m.params, m.blind, m.unassessed
                 FROM run_models m JOIN runs r ON r.run_id = m.run_id
                 WHERE m.kind = 'current' AND (?1 IS NULL OR r.as_of <= ?1)
                 ORDER BY r.as_of, r.rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([to], |r| {
                let without: Option<String> = r.get(4)?;
                let snapshots: String = r.get(6)?;
                let params: String = r.get(7)?;
                let blind: Option<String> = r.get(8)?;
                let unassessed: Option<String> = r.get(9)?;
                Ok(ModelRun {
                    model: r.get(0)?,
                    run_id: r.get(1)?,
                    as_of: r.get(2)?,
                    error: r.get(3)?,
                    without: without.and_then(|w| serde_json::from_str(&w).ok()).unwrap_or_default(),
                    blind: blind.and_then(|w| serde_json::from_str(&w).ok()).unwrap_or_default(),
                    unassessed: unassessed.and_then(|w| serde_json::from_str(&w).ok()).unwrap_or_default(),
                    clues: r.get(5)?,
                    snapshots: serde_json::from_str(&snapshots).unwrap_or_default(),
                    params: serde_json::from_str(&params).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = BTreeMap::new();
        for m in rows {
            let m = m.map_err(|e| self.err(e))?;
            out.insert(m.model.clone(), m);
        }
        Ok(out)
    }

    /// What verification said of each model's clues, per model and parameter setting (the
    /// setting of the run that first raised each clue). A clue counts by its latest
    /// verification; a clue dismissed in triage counts as dismissed with its reason.
    pub fn quality(&self) -> Result<Vec<ModelQuality>, Error> {
        let mut raised: BTreeMap<(String, String), ModelQuality> = BTreeMap::new();
        // the clues raised, by model and the run that first raised them (the index
        // `clues_model_first` counts them without reading the clues), then by that run's setting
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT k.model, coalesce(m.params, '[]'), k.n
                 FROM (SELECT model, first_run, count(*) AS n FROM clues GROUP BY model, first_run) k
                 LEFT JOIN run_models m ON m.run_id = k.first_run AND m.model = k.model",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (model, params, n) = row.map_err(|e| self.err(e))?;
            let key = (model.clone(), params_label(&params));
            let q = raised.entry(key.clone()).or_insert_with(|| ModelQuality {
                model,
                params: key.1.clone(),
                ..Default::default()
            });
            q.raised += n as u64;
        }
        // the setting of each clue someone acted on
        let mut of_clue: HashMap<String, (String, String)> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.clue_id, c.model, coalesce(m.params, '[]') FROM clues c
                 LEFT JOIN run_models m ON m.run_id = c.first_run AND m.model = c.model
                 WHERE c.clue_id IN (SELECT DISTINCT clue_id FROM events)",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (clue, model, params) = row.map_err(|e| self.err(e))?;
            of_clue.insert(clue, (model, params_label(&params)));
        }
        let events = self.events_by_clue(|c| of_clue.contains_key(c))?;
        let mut reasons: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
        for (clue, evs) in &events {
            let Some(key) = of_clue.get(clue) else { continue };
            let Some(q) = raised.get_mut(key) else { continue };
            let s = super::workflow::WorkState::fold(evs);
            if let Some(result) = &s.result {
                match result.as_str() {
                    "属实" => q.true_ += 1,
                    "部分属实" => q.partly_true += 1,
                    _ => q.untrue += 1,
                }
                if result != "不属实" {
                    q.confirmed_fen =
                        q.confirmed_fen.saturating_add(s.amount_involved.map(crate::codes::text::fen_of).unwrap_or(0));
                }
                q.recovered_fen =
                    q.recovered_fen.saturating_add(s.amount_recovered.map(crate::codes::text::fen_of).unwrap_or(0));
            } else if s.status == Status::Dismissed {
                q.dismissed += 1;
                let triage = evs.iter().rev().find(|e| matches!(e.step, Step::Triage { dismiss: true, .. }));
                let reason = triage.and_then(|e| e.reason.as_deref()).unwrap_or_default().trim().to_string();
                *reasons.entry(key.clone()).or_default().entry(reason).or_default() += 1;
            }
        }
        for (key, r) in reasons {
            if let Some(q) = raised.get_mut(&key) {
                q.dismiss_reasons = sorted(r);
            }
        }
        Ok(raised.into_values().map(ModelQuality::finish).collect())
    }

    /// [`Ledger::quality`] summed over parameter settings: one record per model.
    pub fn quality_by_model(&self) -> Result<BTreeMap<String, ModelQuality>, Error> {
        let mut out: BTreeMap<String, ModelQuality> = BTreeMap::new();
        for q in self.quality()? {
            let e = out.entry(q.model.clone()).or_insert_with(|| ModelQuality {
                model: q.model.clone(),
                params: "全部".into(),
                ..Default::default()
            });
            e.add(&q);
        }
        Ok(out.into_iter().map(|(k, q)| (k, q.finish())).collect())
    }
}
