//! The read side of the ledger: clue listings with filters, and one clue's whole history.

use rusqlite::OptionalExtension;
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

/// How a listing is ordered; every ordering ends in the order the ledger first recorded the
/// clues (a run records a model's clues in the order it returned them), so it is total and a
/// page can start after any clue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClueOrder {
    /// Most severe first, then the newest found.
    #[default]
    Severity,
    /// Largest amount first.
    Amount,
    /// First found by the latest run first.
    Newest,
    /// By the unit value, alphabetically.
    Unit,
}

impl ClueOrder {
    pub fn parse(s: &str) -> Option<ClueOrder> {
        match s {
            "severity" => Some(ClueOrder::Severity),
            "amount" => Some(ClueOrder::Amount),
            "newest" => Some(ClueOrder::Newest),
            "unit" => Some(ClueOrder::Unit),
            _ => None,
        }
    }

    /// The `clue_state` columns it orders by, ascending.
    fn columns(self) -> &'static str {
        match self {
            ClueOrder::Severity => "sev_rank, first_order, clue_no",
            ClueOrder::Amount => "amount_order, sev_rank, first_order, clue_no",
            ClueOrder::Newest => "first_order, sev_rank, clue_no",
            ClueOrder::Unit => "unit_order, sev_rank, first_order, clue_no",
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
    /// The unit value a model returned, or the directory's code it resolved to.
    pub unit: Option<String>,
    pub model: Option<String>,
    pub severity: Option<String>,
    /// Only clues first found by a run recorded after this one.
    pub new_since: Option<String>,
    /// Only clues resolved to one of these unit codes (a user's scope); `None`: every clue.
    pub scope: Option<std::collections::HashSet<String>>,
    pub order: ClueOrder,
    /// Start after this clue in the ordering (a page's cursor).
    pub after: Option<String>,
    pub limit: Option<usize>,
}

impl ClueFilter {
    /// The SQL conditions and their values, on the columns named `{s}column` (`s.` for
    /// `clue_state s`; `+s.` keeps SQLite from reaching for their indexes, `k.` for the kept
    /// counts). `status` and the paging are left to the caller; `as_of` is the date the flags
    /// are measured against; the last condition is always the exception's.
    fn conditions(&self, as_of: &str, s: &'static str) -> (Vec<String>, Vec<rusqlite::types::Value>) {
        self.conditions_on(as_of, &|_| s)
    }

    /// [`ClueFilter::conditions`] with each column's prefix chosen by `on`.
    fn conditions_on(
        &self,
        as_of: &str,
        on: &dyn Fn(&str) -> &'static str,
    ) -> (Vec<String>, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let mut cond = Vec::new();
        let mut vals: Vec<Value> = Vec::new();
        let mut eq = |col: &str, v: &Option<String>, cond: &mut Vec<String>| {
            if let Some(v) = v {
                vals.push(Value::Text(v.clone()));
                cond.push(format!("{}{col} = ?{}", on(col), vals.len()));
            }
        };
        let s = on("");
        eq("mark", &self.mark.map(|m| m.name().to_string()), &mut cond);
        eq("area", &self.area, &mut cond);
        eq("model", &self.model, &mut cond);
        eq("severity", &self.severity, &mut cond);
        if let Some(u) = &self.unit {
            vals.push(Value::Text(u.clone()));
            cond.push(format!("({s}unit = ?{n} OR {s}unit_code = ?{n})", n = vals.len()));
        }
        if let Some(run) = &self.new_since {
            vals.push(Value::Text(run.clone()));
            cond.push(format!("{s}first_order < -(SELECT rowid FROM runs WHERE run_id = ?{})", vals.len()));
        }
        if let Some(scope) = &self.scope {
            let codes: Vec<&String> = scope.iter().collect();
            let u = on("unit_code");
            if let [code] = codes[..] {
                // one unit: an equality, which its index answers in the listing's order
                vals.push(Value::Text(code.clone()));
                cond.push(format!("{u}unit_code = ?{}", vals.len()));
            } else {
                vals.push(Value::Text(serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into())));
                cond.push(format!("{u}unit_code IN (SELECT value FROM json_each(?{}))", vals.len()));
            }
        }
        vals.push(Value::Text(as_of.to_string()));
        let d = vals.len();
        cond.push(match self.flag {
            Some(Flag::Overdue) => format!("{s}status = 'rectifying' AND {s}rectify_due < ?{d}"),
            Some(Flag::RectificationFailed) => format!("{s}rectification_failed AND ?{d} IS NOT NULL"),
            Some(Flag::Excepted) => {
                format!("{s}excepted_until IS NOT NULL AND {s}excepted_until >= ?{d} AND {s}status <> 'closed'")
            }
            None if self.all => format!("?{d} IS NOT NULL"),
            None => format!("({s}excepted_until IS NULL OR {s}excepted_until < ?{d} OR {s}status = 'closed')"),
        });
        (cond, vals)
    }

    /// Whether the counts kept by `clue_counts` answer this filter (it narrows only by what
    /// they are kept by).
    fn counted(&self) -> bool {
        self.unit.is_none() && self.new_since.is_none() && self.flag.is_none()
    }

    fn as_of(&self) -> chrono::NaiveDate {
        self.as_of.unwrap_or_else(|| chrono::Local::now().date_naive())
    }
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

/// One page of a listing: how many match in all and in each status (in the order of
/// [`Status::ALL`]), the page, and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct CluePage {
    pub total: usize,
    pub tally: Vec<(Status, usize)>,
    pub rows: Vec<ClueRow>,
    pub next: Option<String>,
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

/// How a listing's rows are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Path {
    /// As SQLite chooses.
    Planner,
    /// Along the ordering's index, skipping what does not match.
    Walk,
    /// Through the index of this column's filter (ordered after it as the listing is).
    Through(&'static str),
}

/// A listing's columns, from `clue_state s` joined to `clues c`.
const COLUMNS: &str = "s.clue_id, s.model, c.title, s.area, s.severity, c.entity, s.unit, s.amount_fen, c.first_run,
       s.last_run, s.mark, s.unit_code, s.work";

fn clue_row(r: &rusqlite::Row<'_>, as_of: chrono::NaiveDate) -> rusqlite::Result<ClueRow> {
    let mark: String = r.get(10)?;
    let work: Option<String> = r.get(12)?;
    let state = match work {
        Some(w) => super::state::parse(&w)?,
        None => WorkState::pending(),
    };
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
        state: Some(state.on(as_of)),
    })
}

impl Ledger {
    /// Clues matching the filter, in its order, starting after its cursor, at most its limit.
    pub fn clues(&self, f: &ClueFilter) -> Result<Vec<ClueRow>, Error> {
        self.select(f, Path::Planner)
    }

    /// One page of at most `limit` clues matching the filter, with how many match in all and in
    /// each status, and the cursor of the next page.
    pub fn clue_page(&self, f: &ClueFilter, limit: usize) -> Result<CluePage, Error> {
        // a unit asked for by a code that no clue has as its unit value is the same filter as
        // that code within the scope: one the kept counts and the unit code's index answer
        let mut narrowed;
        let f = match &f.unit {
            Some(v) if !self.unit_value_used(v)? => {
                narrowed = f.clone();
                narrowed.unit = None;
                narrowed.scope = Some(match &f.scope {
                    Some(s) if !s.contains(v) => Default::default(),
                    _ => [v.clone()].into(),
                });
                &narrowed
            }
            _ => f,
        };
        let tally = self.clue_tally(f)?;
        let total = match f.status {
            Some(s) => tally.iter().find(|(t, _)| *t == s).map(|(_, n)| *n).unwrap_or(0),
            None => tally.iter().map(|(_, n)| n).sum(),
        };
        // How to read the page, by the rows each way reads (from the kept counts): walking the
        // ordering's index and skipping what does not match reads about page × clues ÷
        // matching (if what matches is spread evenly); reading every match through a filter's
        // index and sorting them reads all that match. SQLite left to itself takes the filter's
        // index, which is wrong when many match.
        let count = |cond: &str, v: &str| -> Result<f64, Error> {
            self.conn
                .query_row(&format!("SELECT coalesce(sum(n), 0) FROM clue_counts WHERE {cond}"), [v], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as f64)
                .map_err(|e| self.err(e))
        };
        let clues = count("?1 IS NOT NULL", "")?;
        let page = limit as f64 + 1.0;
        // ordered by severity or amount, one value of a column whose index is ordered so after
        // it (status, model, area) gives its rows in order: the column with the fewest.
        let mut through: Option<(&'static str, f64)> = None;
        if matches!(f.order, ClueOrder::Severity | ClueOrder::Amount) {
            let one_unit = f.scope.as_ref().filter(|s| s.len() == 1).and_then(|s| s.iter().next().cloned());
            let candidates = [
                ("status", f.status.map(|s| s.name().to_string())),
                ("model", f.model.clone()),
                ("area", f.area.clone()),
                ("unit_code", one_unit.filter(|_| f.order == ClueOrder::Severity)),
            ];
            for (col, v) in candidates {
                if let Some(v) = v {
                    let n = count(&format!("{col} = ?1"), &v)?;
                    if through.is_none_or(|(_, m)| n < m) {
                        through = Some((col, n));
                    }
                }
            }
        }
        // (through a column's index reads about page × its rows ÷ matching, never more than
        // walking: and the rows it skips are not those of one value that the ordering puts
        // first, as walking skips a whole model of high severity to reach one of medium)
        let walk_reads = if total > 0 { page * clues / total as f64 } else { clues };
        let path = match through {
            Some((col, _)) => Path::Through(col),
            None if walk_reads < total as f64 => Path::Walk,
            None => Path::Planner,
        };
        let mut rows = self.select(&ClueFilter { limit: Some(limit + 1), ..f.clone() }, path)?;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| r.clue_id.clone())
        } else {
            None
        };
        Ok(CluePage { total, tally, rows, next })
    }

    /// [`Ledger::clues`], along the path given.
    pub(super) fn select(&self, f: &ClueFilter, path: Path) -> Result<Vec<ClueRow>, Error> {
        let as_of = f.as_of();
        // `+s.col` keeps SQLite from reading through that column's index
        let on = |col: &str| -> &'static str {
            match path {
                Path::Planner => "s.",
                Path::Walk => "+s.",
                Path::Through(k) if k == col => "s.",
                Path::Through(_) => "+s.",
            }
        };
        let (mut cond, mut vals) = f.conditions_on(&as_of.to_string(), &on);
        if let Some(status) = f.status {
            vals.push(rusqlite::types::Value::Text(status.name().into()));
            cond.push(format!("{}status = ?{}", on("status"), vals.len()));
        }
        let order = f.order.columns();
        if let Some(after) = &f.after {
            vals.push(rusqlite::types::Value::Text(after.clone()));
            let prefixed: Vec<String> = order.split(", ").map(|c| format!("s.{c}")).collect();
            cond.push(format!(
                "({}) > (SELECT {order} FROM clue_state WHERE clue_id = ?{})",
                prefixed.join(", "),
                vals.len()
            ));
        }
        let limit = f.limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default();
        let order_by: Vec<String> = order.split(", ").map(|c| format!("s.{c}")).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM clue_state s JOIN clues c ON c.clue_id = s.clue_id WHERE {} ORDER BY {}{limit}",
            cond.join(" AND "),
            order_by.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(vals), |r| clue_row(r, as_of)).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// How many clues match the filter in each workflow status (its `status`, cursor and limit
    /// aside), in the order of [`Status::ALL`], statuses with none left out. From the counts
    /// the ledger keeps when the filter narrows only by what they are kept by; else counted.
    pub fn clue_tally(&self, f: &ClueFilter) -> Result<Vec<(Status, usize)>, Error> {
        let as_of = f.as_of().to_string();
        let (cond, vals) = f.conditions(&as_of, "s.");
        let mut n: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        let mut add = |sql: &str, vals: &[rusqlite::types::Value], sign: i64| -> Result<(), Error> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(vals), |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(|e| self.err(e))?;
            for row in rows {
                let (status, count) = row.map_err(|e| self.err(e))?;
                *n.entry(status).or_default() += sign * count;
            }
            Ok(())
        };
        if f.counted() {
            // every condition but the last (the exception's) is on a column `clue_counts` keeps
            let (kept, _) = f.conditions(&as_of, "k.");
            let kept = &kept[..kept.len() - 1];
            let mut sql = format!("SELECT k.status, sum(k.n) FROM clue_counts k WHERE ?{} IS NOT NULL", vals.len());
            for c in kept {
                sql.push_str(" AND ");
                sql.push_str(c);
            }
            sql.push_str(" GROUP BY k.status");
            add(&sql, &vals, 1)?;
            if !f.all {
                // the clues under an exception, few and found through their partial index
                let d = vals.len();
                let mut sql = format!(
                    "SELECT s.status, count(*) FROM clue_state s INDEXED BY clue_state_excepted
                     WHERE s.excepted_until IS NOT NULL
                     AND s.excepted_until >= ?{d} AND s.status <> 'closed'"
                );
                for c in &cond[..cond.len() - 1] {
                    sql.push_str(" AND ");
                    sql.push_str(c);
                }
                sql.push_str(" GROUP BY s.status");
                add(&sql, &vals, -1)?;
            }
        } else {
            let sql =
                format!("SELECT s.status, count(*) FROM clue_state s WHERE {} GROUP BY s.status", cond.join(" AND "));
            add(&sql, &vals, 1)?;
        }
        Ok(Status::ALL
            .into_iter()
            .filter_map(|s| n.get(s.name()).filter(|c| **c > 0).map(|c| (s, *c as usize)))
            .collect())
    }

    /// Whether some clue has this as its unit value (as a model returned it).
    fn unit_value_used(&self, v: &str) -> Result<bool, Error> {
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM clue_state WHERE unit = ?1)", [v], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Whether a clue is in the listings (a page's cursor must be one).
    pub fn clue_listed(&self, id: &str) -> Result<bool, Error> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM clue_state WHERE clue_id = ?1", [id], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// One clue, every run's sighting of it and every workflow step; `None` if no run ever
    /// found it.
    pub fn clue(&self, id: &str, as_of: chrono::NaiveDate) -> Result<Option<ClueView>, Error> {
        let id = &self.resolve(id)?;
        let clue = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM clue_state s JOIN clues c ON c.clue_id = s.clue_id WHERE s.clue_id = ?1"
                ),
                [id],
                |r| clue_row(r, as_of),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(clue) = clue else { return Ok(None) };
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
