//! Job runs: each run of a job (a schedule of `searchlight.toml`, or `searchlight pipeline`) is
//! begun before it ingests and ended with its outcome — so a job that fails or times out before
//! any model runs is on record too — and its cron tick is what the scheduler reads back as the
//! job's last run.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::outbox::stamp;
use super::{Error, Ledger};

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// Everything ingested and every model looked.
    Ok,
    /// Some connectors or models failed or could not look.
    Partial,
    /// Nothing useful was done (the job's error says why).
    Failed,
    /// Cancelled at its timeout (the models that had finished keep their results).
    TimedOut,
    /// The process running it stopped (killed, the machine down) before it ended: closed when
    /// the next scheduler starts, and its tick run again once.
    Interrupted,
}

impl JobOutcome {
    pub fn name(self) -> &'static str {
        match self {
            JobOutcome::Ok => "ok",
            JobOutcome::Partial => "partial",
            JobOutcome::Failed => "failed",
            JobOutcome::TimedOut => "timed_out",
            JobOutcome::Interrupted => "interrupted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobOutcome::Ok => "正常",
            JobOutcome::Partial => "部分完成",
            JobOutcome::Failed => "失败",
            JobOutcome::TimedOut => "超时",
            JobOutcome::Interrupted => "中断",
        }
    }
}

/// A job run as listed.
#[derive(Debug, Clone, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub trigger: String,
    pub tick: Option<String>,
    pub as_of: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: Option<String>,
    pub error: Option<String>,
    pub run_id: Option<String>,
    pub connectors: i64,
    pub connectors_failed: i64,
    pub mails: i64,
}

impl Ledger {
    /// Records that a job run starts; returns its id.
    pub fn begin_job(
        &mut self,
        job: &str,
        trigger: &str,
        tick: Option<DateTime<Utc>>,
        as_of: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<i64, Error> {
        self.conn
            .execute(
                "INSERT INTO job_runs (job, trigger, tick, as_of, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job, trigger, tick.map(stamp), as_of.to_string(), stamp(now)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a job run ended.
    #[allow(clippy::too_many_arguments)]
    pub fn end_job(
        &mut self,
        id: i64,
        outcome: JobOutcome,
        error: Option<&str>,
        run: Option<&str>,
        connectors: (usize, usize),
        mails: usize,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE job_runs SET ended_at = ?2, outcome = ?3, error = ?4, run_id = ?5, connectors = ?6,
                        connectors_failed = ?7, mails = ?8 WHERE id = ?1",
                params![
                    id,
                    stamp(now),
                    outcome.name(),
                    error,
                    run,
                    connectors.0 as i64,
                    connectors.1 as i64,
                    mails as i64
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Closes the scheduled job runs a scheduler that is gone left open (begun, never ended) as
    /// interrupted, saying when that scheduler was last seen; called by the scheduler that
    /// took the lease after it, so no live process holds them. Manual runs (`pipeline`) are
    /// left alone: their process may still be running. Returns the runs closed.
    pub fn close_interrupted(
        &mut self,
        last_seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<JobRun>, Error> {
        // read only the open ones: a per-second schedule leaves millions of ended runs
        let open = self.job_runs_where("ended_at IS NULL AND trigger <> 'manual'", i64::MAX as usize)?;
        for j in &open {
            let seen = last_seen.map(stamp).unwrap_or_else(|| j.started_at.clone());
            let error = format!(
                "中断 interrupted: the scheduler running it stopped before it ended (last seen {seen}); its tick is run again once"
            );
            self.conn
                .execute(
                    "UPDATE job_runs SET ended_at = ?2, outcome = ?3, error = ?4 WHERE id = ?1 AND ended_at IS NULL",
                    params![j.id, stamp(now), JobOutcome::Interrupted.name(), error],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(open)
    }

    /// The latest cron tick a job ran for — begun, whether or not it ended, so a tick is not
    /// run twice; except a tick interrupted only once, which is run again.
    pub fn last_tick(&self, job: &str) -> Result<Option<DateTime<Utc>>, Error> {
        let t: Option<String> = self
            .conn
            .query_row(
                "SELECT max(tick) FROM job_runs j WHERE job = ?1
                   AND (outcome IS NOT 'interrupted'
                        OR (SELECT count(*) FROM job_runs k WHERE k.job = j.job AND k.tick = j.tick
                              AND k.outcome = 'interrupted') >= 2)",
                [job],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .flatten();
        Ok(t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)))
    }

    /// Job runs, newest first (at most `limit`).
    pub fn job_runs(&self, limit: usize) -> Result<Vec<JobRun>, Error> {
        self.job_runs_where("1", limit)
    }

    /// Job runs matching a fixed SQL condition, newest first (at most `limit`).
    fn job_runs_where(&self, condition: &'static str, limit: usize) -> Result<Vec<JobRun>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, job, trigger, tick, as_of, started_at, ended_at, outcome, error, run_id, connectors,
                        connectors_failed, mails FROM job_runs WHERE {condition} ORDER BY id DESC LIMIT ?1"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(JobRun {
                    id: r.get(0)?,
                    job: r.get(1)?,
                    trigger: r.get(2)?,
                    tick: r.get(3)?,
                    as_of: r.get(4)?,
                    started_at: r.get(5)?,
                    ended_at: r.get(6)?,
                    outcome: r.get(7)?,
                    error: r.get(8)?,
                    run_id: r.get(9)?,
                    connectors: r.get(10)?,
                    connectors_failed: r.get(11)?,
                    mails: r.get(12)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
