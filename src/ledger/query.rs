//! The read side of the ledger: clue listings with filters, and one clue's whole history.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::workflow::{Event, Status, WorkState};
use super::{Error, Ledger, Mark};

/// A condition on a clue beyond its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// 整改逾期
    Overdue,
    /// 整改不实
    RectificationFailed,
    /// 豁免中
    Excepted,
}

impl Flag {
    pub fn parse(s: &str) -> Option<Flag> {
        match s {
            "overdue" | "整改逾期" => Some(Flag::Overdue),
            "rectification-failed" | "整改不实" => Some(Flag::RectificationFailed),
            "excepted" | "豁免" => Some(Flag::Excepted),
            _ => None,
        }
    }
}

/// Which clues to list; `None` means any. Clues under an exception are left out unless asked
/// for (`flag: Excepted`) or `all` is set.
#[derive(Debug, Clone, Default)]
pub struct ClueFilter {
    /// The date 逾期 and 豁免 are measured against (default: today).
    pub as_of: Option<chrono::NaiveDate>,
    /// Workflow status.
    pub status: Option<Status>,
    pub flag: Option<Flag>,
    pub all: bool,
    /// Latest mark (new, ongoing, reopened, resolved).
    pub mark: Option<Mark>,
    pub area: Option<String>,
    pub unit: Option<String>,
    pub model: Option<String>,
    pub severity: Option<String>,
    /// Only clues first found by a run recorded after this one.
    pub new_since: Option<String>,
    pub limit: Option<usize>,
}

/// One clue in a listing: what it is and how the latest run of its model saw it.
#[derive(Debug, Clone, Serialize)]
pub struct ClueRow {
    pub clue_id: String,
    pub model: String,
    pub title: String,
    pub area: String,
    pub severity: String,
    pub entity: String,
    pub unit: Option<String>,
    /// The unit of the directory of inspected units the latest sighting's unit resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
    /// The amount of the latest sighting that found it, exactly (`"70575.60"` in JSON).
    pub amount: Option<crate::codes::text::Yuan>,
    /// The same in integer 分.
    pub amount_fen: Option<i64>,
    pub first_run: String,
    pub last_run: String,
    pub mark: Mark,
    /// Workflow state (filled by the ledger's listing and show).
    pub state: Option<WorkState>,
}

/// A clue with its whole history.
#[derive(Debug, Clone, Serialize)]
pub struct ClueView {
    #[serde(flatten)]
    pub clue: ClueRow,
    pub sightings: Vec<Sighting>,
    pub events: Vec<Event>,
}

/// One run's sighting of a clue.
#[derive(Debug, Clone, Serialize)]
pub struct Sighting {
    pub run_id: String,
    pub as_of: String,
    pub mark: Mark,
    pub unit: Option<String>,
    /// Exactly (`"70575.60"` in JSON).
    pub amount: Option<crate::codes::text::Yuan>,
    /// Evidence file in `_runs/<run_id>/` and the row numbers in it.
    pub evidence: Option<String>,
    pub rows: Vec<usize>,
    pub model_version: String,
    pub params: serde_json::Value,
    pub snapshots: serde_json::Value,
}

const LIST: &str = "
SELECT c.clue_id, c.model, c.title, c.area, c.severity, c.entity,
       (SELECT unit FROM live_sightings u WHERE u.clue_id = c.clue_id AND u.unit IS NOT NULL ORDER BY u.seq DESC LIMIT 1),
       (SELECT coalesce(a.amount_fen, CAST(round(a.amount * 100) AS INTEGER)) FROM live_sightings a
         WHERE a.clue_id = c.clue_id AND a.mark <> 'resolved' ORDER BY a.seq DESC LIMIT 1),
       c.first_run, s.run_id, s.mark,
       (SELECT unit_code FROM live_sightings u WHERE u.clue_id = c.clue_id AND u.unit IS NOT NULL ORDER BY u.seq DESC LIMIT 1)
FROM clues c
JOIN live_sightings s ON s.seq = (SELECT max(seq) FROM live_sightings x WHERE x.clue_id = c.clue_id)
WHERE (?1 IS NULL OR s.mark = ?1)
  AND (?2 IS NULL OR c.area = ?2)
  AND (?3 IS NULL OR c.model = ?3)
  AND (?4 IS NULL OR c.severity = ?4)
  AND (?5 IS NULL OR (SELECT rowid FROM runs WHERE run_id = c.first_run) > (SELECT rowid FROM runs WHERE run_id = ?5))
  AND (?6 IS NULL OR c.clue_id = ?6)
ORDER BY CASE c.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, c.first_run DESC, c.model, c.entity";

fn clue_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClueRow> {
    let mark: String = r.get(10)?;
    Ok(ClueRow {
        clue_id: r.get(0)?,
        model: r.get(1)?,
        title: r.get(2)?,
        area: r.get(3)?,
        severity: r.get(4)?,
        entity: r.get(5)?,
        unit: r.get(6)?,
        amount: r.get::<_, Option<i64>>(7)?.map(crate::codes::text::Yuan),
        amount_fen: r.get(7)?,
        first_run: r.get(8)?,
        last_run: r.get(9)?,
        mark: Mark::parse(&mark).unwrap_or(Mark::New),
        unit_code: r.get(11)?,
        state: None,
    })
}

impl Ledger {
    /// Clues matching the filter, most severe and newest first.
    pub fn clues(&self, f: &ClueFilter) -> Result<Vec<ClueRow>, Error> {
        let mut stmt = self.conn.prepare_cached(LIST).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![f.mark.map(Mark::name), f.area, f.model, f.severity, f.new_since, None::<String>],
                clue_row,
            )
            .map_err(|e| self.err(e))?;
        let as_of = f.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
        let rows = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for mut r in rows {
            // by the unit value a model returned, or the directory's code it resolved to
            if f.unit.as_ref().is_some_and(|u| r.unit.as_ref() != Some(u) && r.unit_code.as_ref() != Some(u)) {
                continue;
            }
            let s = self.work_state(&r.clue_id, as_of)?;
            let keep = f.status.is_none_or(|st| s.status == st)
                && match f.flag {
                    Some(Flag::Overdue) => s.overdue,
                    Some(Flag::RectificationFailed) => s.rectification_failed,
                    Some(Flag::Excepted) => s.excepted,
                    None => f.all || !s.excepted,
                };
            if !keep {
                continue;
            }
            r.state = Some(s);
            out.push(r);
            if f.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    /// One clue, every run's sighting of it and every workflow step; `None` if no run ever
    /// found it.
    pub fn clue(&self, id: &str, as_of: chrono::NaiveDate) -> Result<Option<ClueView>, Error> {
        let id = &self.resolve(id)?;
        let clue = self
            .conn
            .query_row(
                LIST,
                params![None::<String>, None::<String>, None::<String>, None::<String>, None::<String>, id],
                clue_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(mut clue) = clue else { return Ok(None) };
        clue.state = Some(self.work_state(id, as_of)?);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.run_id, r.as_of, s.mark, s.unit, coalesce(s.amount_fen, CAST(round(s.amount * 100) AS INTEGER)), m.evidence, s.rows, m.version, m.params, m.snapshots
                 FROM live_sightings s
                 JOIN runs r ON r.run_id = s.run_id
                 JOIN clues c ON c.clue_id = s.clue_id
                 JOIN run_models m ON m.run_id = s.run_id AND m.model = c.model
                 WHERE s.clue_id = ?1 ORDER BY s.seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| {
                let mark: String = r.get(2)?;
                let rows: Option<String> = r.get(6)?;
                let params: String = r.get(8)?;
                let snapshots: String = r.get(9)?;
                Ok(Sighting {
                    run_id: r.get(0)?,
                    as_of: r.get(1)?,
                    mark: Mark::parse(&mark).unwrap_or(Mark::New),
                    unit: r.get(3)?,
                    amount: r.get::<_, Option<i64>>(4)?.map(crate::codes::text::Yuan),
                    evidence: r.get(5)?,
                    rows: rows.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default(),
                    model_version: r.get(7)?,
                    params: serde_json::from_str(&params).unwrap_or_default(),
                    snapshots: serde_json::from_str(&snapshots).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        let sightings = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))?;
        Ok(Some(ClueView { clue, sightings, events: self.events(id)? }))
    }

    /// When a recorded run started.
    pub fn run_started_at(&self, run: &str) -> Result<Option<String>, Error> {
        self.conn
            .query_row("SELECT started_at FROM runs WHERE run_id = ?1", [run], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether a run is recorded.
    pub fn has_run(&self, run: &str) -> Result<bool, Error> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM runs WHERE run_id = ?1", [run], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// The most recently recorded run, if any.
    pub fn last_run(&self) -> Result<Option<String>, Error> {
        self.conn
            .query_row("SELECT run_id FROM runs ORDER BY rowid DESC LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }
}
