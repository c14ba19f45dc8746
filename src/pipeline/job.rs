//! A job — ingest → run → record → queue the mails — as one call that the command line
//! (`searchlight pipeline`, `searchlight digest preview`) and the scheduler share. Each job run
//! is on record in the ledger from before it ingests to its outcome (so a job that fails or
//! times out before any model runs is listed too); a timeout cancels what is still running, and
//! the models that had finished keep their results; a failed or timed-out job mails the admin.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};

use super::{Record, Recorded};
use crate::connector::Connector;
use crate::digest::{self, Blind};
use crate::lake::{IngestOptions, Lake, Outcome, Progress};
use crate::ledger::{JobOutcome, Ledger, NewMail, Recording};
use crate::model::Model;
use crate::model::labels::Labels;
use crate::project::Project;
use crate::runner::{RunReport, RunRequest, Runner, report::Status};

/// What started a job run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The command line.
    Manual,
    /// Its cron tick.
    Schedule,
    /// A tick missed while the server was down, run once at start-up.
    CatchUp,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch-up",
        }
    }
}

/// Which models a job runs: any named by id, domain or area (all when the three are empty).
/// Models whose header has a `schedule` run on that schedule only, unless named by id.
#[derive(Debug, Clone, Default)]
pub struct ModelChoice {
    pub ids: Vec<String>,
    pub domains: Vec<String>,
    pub areas: Vec<String>,
}

impl ModelChoice {
    pub fn takes(&self, m: &Model) -> bool {
        if self.ids.iter().any(|i| i == m.id()) {
            return true;
        }
        if m.spec.schedule.is_some() {
            return false;
        }
        (self.ids.is_empty() && self.domains.is_empty() && self.areas.is_empty())
            || self.domains.contains(&m.spec.domain)
            || self.areas.contains(&m.spec.area)
    }
}

/// A job to run.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The schedule's name; `pipeline` from the command line.
    pub name: String,
    pub trigger: Trigger,
    /// The cron tick it runs for.
    pub tick: Option<DateTime<Utc>>,
    /// Connector ids or dataset names to ingest first (`*`: all); none when empty.
    pub connectors: Vec<String>,
    pub models: ModelChoice,
    /// The as-of date (`None`: the newest snapshot's, after ingesting).
    pub as_of: Option<NaiveDate>,
    /// The date the ingested exports describe.
    pub ingest_as_of: NaiveDate,
    pub timeout: Option<Duration>,
    pub record: Record,
    /// Build the mails and roll everything back (`digest preview`): nothing is recorded.
    pub preview: bool,
    /// The clock: the job run's start and end, the run id, the recording and queue times.
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    /// Told what the job waits for before it starts (another pipeline's turn), if anyone listens.
    pub notice: Option<Notice>,
}

/// Where a job says what it is waiting for.
#[derive(Clone)]
pub struct Notice(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notice")
    }
}

/// What ingesting one connector did.
#[derive(Debug)]
pub struct IngestRow {
    /// Index into [`JobReport::connectors`].
    pub connector: usize,
    pub result: Result<Vec<Outcome>, String>,
    pub elapsed: Duration,
}

/// What a job run did.
#[derive(Debug)]
pub struct JobReport {
    /// Its record in the ledger (none for a preview).
    pub job_run: Option<i64>,
    pub connectors: Vec<Connector>,
    /// Connector and model files that did not load.
    pub load_errors: Vec<String>,
    pub ingested: Vec<IngestRow>,
    pub as_of: Option<NaiveDate>,
    pub run: Option<RunReport>,
    pub recorded: Option<Recorded>,
    /// The mails queued (or, for a preview, built).
    pub mails: Vec<(i64, NewMail)>,
    /// How long building the digests took (inside the recording transaction).
    pub digest_time: Duration,
    pub outcome: JobOutcome,
    pub error: Option<String>,
}

impl JobReport {
    fn new(connectors: Vec<Connector>, load_errors: Vec<String>) -> JobReport {
        JobReport {
            job_run: None,
            connectors,
            load_errors,
            ingested: Vec::new(),
            as_of: None,
            run: None,
            recorded: None,
            mails: Vec::new(),
            digest_time: Duration::ZERO,
            outcome: JobOutcome::Ok,
            error: None,
        }
    }

    /// Connectors ingested, and how many failed.
    pub fn ingest_counts(&self) -> (usize, usize) {
        (self.ingested.len(), self.ingested.iter().filter(|r| r.result.is_err()).count())
    }
}

/// Runs a job; `progress` gives each connector its progress reporter. An error is returned only
/// when the job could not be put on record at all (no ledger); every other failure is the
/// report's outcome, on record, and mailed to the admin.
pub async fn job(
    project: &Project,
    spec: &JobSpec,
    progress: &dyn Fn(&Connector) -> Box<dyn Progress + Send + Sync>,
) -> anyhow::Result<JobReport> {
    let (connectors, mut load_errors) = split(project.connectors()?);
    let (models, model_errors) = split(project.models()?);
    load_errors.extend(model_errors);
    let models: Vec<Model> = models.into_iter().filter(|m| spec.models.takes(m)).collect();
    let mut report = JobReport::new(connectors, load_errors);
    let (mut ledger, created) = if spec.preview {
        // before the first run there is nothing on record: preview against an empty ledger
        let ledger =
            if project.ledger.exists() { Ledger::open_existing(&project.ledger)? } else { Ledger::in_memory()? };
        (ledger, false)
    } else {
        super::ledger_for_recording(project, &spec.record)?
    };
    let started = Instant::now();
    let now = spec.clock.now();
    let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
    // one pipeline at a time on this ledger: a second waits its turn (held until recorded)
    let _turn = if spec.preview {
        None
    } else {
        Some(super::turn::Turn::take(&mut ledger, deadline, spec.notice.as_ref()).await?)
    };
    if !spec.preview {
        let as_of = spec.as_of.unwrap_or(spec.ingest_as_of);
        report.job_run = Some(tokio::task::block_in_place(|| {
            ledger.begin_job(&spec.name, spec.trigger.name(), spec.tick, as_of, now)
        })?);
    }
    let result = steps(project, spec, now, progress, &mut ledger, &models, deadline, &mut report).await;
    if let Some(r) = &mut report.recorded {
        r.created = created.then(|| project.ledger.clone());
    }
    if let Err(e) = result {
        report.outcome = if e.is::<TimedOut>() { JobOutcome::TimedOut } else { JobOutcome::Failed };
        report.error = Some(format!("{e:#}"));
    }
    if let Some(id) = report.job_run {
        // a job that ended before recording a run tells the admin on its own
        if matches!(report.outcome, JobOutcome::Failed | JobOutcome::TimedOut) && report.recorded.is_none() {
            let alert = job_alert(project, spec, now, &report, started.elapsed());
            if let Some(mail) = alert {
                let ended = spec.clock.now();
                let queued = tokio::task::block_in_place(|| ledger.queue_mails(&[mail.clone()], Some(id), ended))?;
                report.mails.extend(queued.into_iter().map(|q| (q, mail.clone())));
            }
        }
        let run = report.run.as_ref().filter(|_| report.recorded.is_some()).map(|r| r.run.clone());
        tokio::task::block_in_place(|| {
            ledger.end_job(
                id,
                report.outcome,
                report.error.as_deref(),
                run.as_deref(),
                report.ingest_counts(),
                report.mails.len(),
                spec.clock.now(),
            )
        })?;
    }
    Ok(report)
}

/// The job's deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("超时 timed out after {0:?} ({1})")]
struct TimedOut(Duration, &'static str);

#[allow(clippy::too_many_arguments)]
async fn steps(
    project: &Project,
    spec: &JobSpec,
    now: DateTime<Utc>,
    progress: &dyn Fn(&Connector) -> Box<dyn Progress + Send + Sync>,
    ledger: &mut Ledger,
    models: &[Model],
    deadline: Option<tokio::time::Instant>,
    report: &mut JobReport,
) -> anyhow::Result<()> {
    let lake = Lake::open(&project.lake)?;
    let catalog = Project::catalog(&report.connectors);
    let mut failed_datasets = BTreeSet::new();
    if !spec.connectors.is_empty() {
        let names: Vec<String> = spec.connectors.iter().filter(|c| c.as_str() != "*").cloned().collect();
        let all = spec.connectors.iter().any(|c| c == "*");
        let opts = IngestOptions { as_of: spec.ingest_as_of, ..Default::default() };
        let names = if all { Vec::new() } else { names };
        let ingest = super::ingest(project, &lake, &catalog, &report.connectors, &names, &opts, progress);
        let results = match deadline {
            Some(d) => tokio::time::timeout_at(d, ingest)
                .await
                .map_err(|_| TimedOut(spec.timeout.unwrap_or_default(), "while ingesting; no model ran"))??,
            None => ingest.await?,
        };
        for r in results {
            if r.result.is_err() {
                failed_datasets.extend(r.connector.datasets().map(str::to_string));
            }
            let connector = report.connectors.iter().position(|c| std::ptr::eq(c, r.connector)).unwrap_or(0);
            report.ingested.push(IngestRow { connector, result: r.result, elapsed: r.elapsed });
        }
    }
    if models.is_empty() {
        anyhow::bail!("no model to run: the job names none that the project has");
    }
    let as_of = match spec.as_of {
        Some(d) => d,
        None => super::data_as_of(&lake).await?.map(|(newest, _)| newest).unwrap_or(spec.ingest_as_of),
    };
    report.as_of = Some(as_of);
    let mut req = RunRequest::new(as_of);
    req.failed_ingests = failed_datasets;
    req.deadline = deadline;
    let mut on = Recording {
        lake_url: project.lake.as_str().to_string(),
        lake_id: lake.identity().await?,
        new_lake: spec.record.new_lake,
        trigger: (spec.trigger != Trigger::Manual).then(|| spec.name.clone()),
        job_run: report.job_run,
        at: None,
    };
    ledger.check_lake(&on)?;
    if !spec.record.full {
        req.previous = ledger.previous_outcomes()?;
    }
    let runner = Runner::over_lake_on(crate::engine::Engine::for_runs().await?, &lake, &catalog).await?;
    let refs: Vec<&Model> = models.iter().collect();
    let outcomes = runner.run(&refs, &req).await;
    let mut run = RunReport {
        run: RunReport::new_id(now),
        as_of: as_of.to_string(),
        started_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        models: outcomes,
    };
    run.save(&lake).await?;
    let timed_out = run.models.iter().any(|m| m.error.as_deref().is_some_and(|e| e.starts_with("timed out")));
    let looked = run.models.iter().filter(|m| m.status.looked()).count();
    let everywhere = run.models.iter().filter(|m| m.status.looked_everywhere()).count();
    report.outcome = if timed_out {
        JobOutcome::TimedOut
    } else if looked == 0 {
        JobOutcome::Failed
    } else if everywhere < run.models.len() || report.ingested.iter().any(|r| r.result.is_err()) {
        JobOutcome::Partial
    } else {
        JobOutcome::Ok
    };
    if timed_out {
        report.error = Some(format!(
            "超时 timed out after {:?}: {} of {} models finished and keep their results",
            spec.timeout.unwrap_or_default(),
            looked,
            run.models.len()
        ));
    }
    // the mails, built from the ledger inside the transaction that records the run
    let labels = Labels::load(&project.models_dir().join("labels.toml"), &catalog)?;
    let directory = runner.directory().await.unwrap_or_else(|_| crate::units::Directory::new(Vec::new()));
    let evidence = key_evidence(&run, models, &labels);
    let blind: Vec<Blind> = run
        .models
        .iter()
        .filter(|m| !m.status.looked_everywhere())
        .map(|m| Blind {
            model: m.model.clone(),
            title: m.title.clone(),
            domain: m.domain.clone(),
            area: m.area.clone(),
            why: match m.status {
                Status::NotRun => format!("未运行：{}", m.not_run_reason().unwrap_or_default()),
                Status::Partial => format!("部分未检查：{}", m.blind_words().join("；")),
                _ => format!("运行失败：{}", m.error.clone().unwrap_or_default()),
            },
        })
        .collect();
    let settings = &project.config.serve;
    let handle = tokio::runtime::Handle::current();
    let paper = |l: &Ledger, clue: &str, grant: crate::redact::Grant| {
        let built = handle.block_on(crate::paper::build(
            l,
            &lake,
            models,
            &labels,
            clue,
            as_of,
            crate::redact::Redactor::new(grant),
        ));
        built.map(|p| crate::paper::document(&p)).map_err(|e| e.to_string())
    };
    let ctx = digest::Context {
        settings,
        directory: &directory,
        run: &run.run,
        as_of,
        job: &spec.name,
        evidence: &evidence,
        blind: &blind,
        paper: &paper,
        now,
    };
    let outcome = report.outcome;
    let error = report.error.clone();
    let digest_time = std::cell::Cell::new(Duration::ZERO);
    let build = |l: &Ledger, diff: &crate::ledger::LedgerDiff| -> Vec<NewMail> {
        let started = Instant::now();
        let mut out = match digest::mails(l, &ctx, diff) {
            Ok(m) => m,
            Err(e) => digest::alert(
                settings,
                &format!("{}.digest", run.run),
                &format!("任务 {} 的摘要邮件未能生成", spec.name),
                &format!("运行 {} 已记录，但摘要邮件未能生成：{e:#}\n请用 searchlight digest preview 检查。", run.run),
                now,
            )
            .into_iter()
            .collect(),
        };
        // a subscriber whose mail could not be built: the admin hears of it
        let unbuilt: Vec<String> = out
            .iter()
            .filter_map(|m| {
                m.failed.as_ref().map(|why| format!("- {} <{}>：{why}", m.recipient, m.address.escape_debug()))
            })
            .collect();
        if !unbuilt.is_empty() {
            out.extend(digest::alert(
                settings,
                &format!("{}.unbuilt", run.run),
                &format!("任务 {} 有 {} 封摘要邮件未能生成", spec.name, unbuilt.len()),
                &format!(
                    "运行 {} 已记录。以下订阅者的邮件未能生成，已在发件箱中记为失败；其线索未计为已告知，修正 searchlight.toml 后下次运行的摘要会包含它们：\n\n{}\n",
                    run.run,
                    unbuilt.join("\n")
                ),
                now,
            ));
        }
        if matches!(outcome, JobOutcome::Failed | JobOutcome::TimedOut) {
            let body = run_alert_body(&spec.name, &run, error.as_deref());
            let subject = format!("任务 {} {}（{}）", spec.name, outcome.label(), run.as_of);
            out.extend(digest::alert(settings, &run.run, &subject, &body, now));
        }
        digest_time.set(started.elapsed());
        out
    };
    on.at = Some(spec.clock.now());
    let (diff, mails) = tokio::task::block_in_place(|| ledger.record_with(&run, &on, build, !spec.preview))?;
    if !spec.preview {
        crate::fault::point("pipeline.after_record");
    }
    report.mails = mails;
    report.digest_time = digest_time.get();
    report.recorded = Some(Recorded { diff, created: None });
    report.run = Some(run);
    Ok(())
}

/// The admin's mail about a job that recorded a run but failed or timed out.
fn run_alert_body(job: &str, run: &RunReport, error: Option<&str>) -> String {
    let mut body = format!("任务 {job} 的运行 {}（数据截至 {}）", run.run, run.as_of);
    if let Some(e) = error {
        body.push_str(&format!("：{e}"));
    }
    body.push_str("\n\n");
    for m in run.models.iter().filter(|m| !m.status.looked()) {
        body.push_str(&format!(
            "- {}（{}）：{}\n",
            m.title,
            m.model,
            m.error.clone().or_else(|| m.not_run_reason()).unwrap_or_default()
        ));
    }
    body.push_str("\n已完成的模型结果已记录；未完成的模型的线索保持原状。searchlight runs 查看运行记录。\n");
    body
}

/// The admin's mail about a job that ended before recording any run.
fn job_alert(
    project: &Project,
    spec: &JobSpec,
    now: DateTime<Utc>,
    report: &JobReport,
    took: Duration,
) -> Option<NewMail> {
    let key = format!("job-{}", report.job_run.unwrap_or(0));
    let subject = format!("任务 {} {}", spec.name, report.outcome.label());
    let mut body = format!(
        "任务 {}（{}）于 {} 开始，{:.0} 秒后结束：{}\n\n没有模型运行，台账中的线索未作任何改变。\n",
        spec.name,
        spec.trigger.name(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        took.as_secs_f64(),
        report.error.as_deref().unwrap_or("未知错误")
    );
    for r in &report.ingested {
        if let Err(e) = &r.result {
            body.push_str(&format!("- 导入 {} 失败：{e}\n", report.connectors[r.connector].id));
        }
    }
    digest::alert(&project.config.serve, &key, &subject, &body, now)
}

/// A few labelled values of each clue's first evidence row, from the run's rows in memory.
pub fn key_evidence(run: &RunReport, models: &[Model], labels: &Labels) -> HashMap<String, String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let opts = FormatOptions::default().with_null("");
    let mut out = HashMap::new();
    for m in &run.models {
        let model = models.iter().find(|x| x.id() == m.model);
        let Some(first) = m.batches.first() else { continue };
        let names: Vec<String> = first.schema().fields().iter().map(|f| labels.of(model, f.name())).collect();
        let mut starts = Vec::new();
        let mut n = 0;
        for b in &m.batches {
            starts.push(n);
            n += b.num_rows();
        }
        for c in &m.clues {
            let Some(&row) = c.rows.first() else { continue };
            let Some(bi) = starts.iter().rposition(|&s| s <= row) else { continue };
            let b = &m.batches[bi];
            let r = row - starts[bi];
            if r >= b.num_rows() {
                continue;
            }
            let mut parts = Vec::new();
            for (i, col) in b.columns().iter().enumerate() {
                let Ok(f) = ArrayFormatter::try_new(col.as_ref(), &opts) else { continue };
                let mut v = f.value(r).to_string();
                if col.data_type().is_floating() {
                    v = crate::codes::text::float_text(&v);
                }
                if !v.is_empty() {
                    parts.push(format!("{}：{v}", names[i]));
                }
                if parts.len() >= 4 {
                    break;
                }
            }
            let more = if c.rows.len() > 1 { format!("(共 {} 行证据)", c.rows.len()) } else { String::new() };
            out.insert(c.id.clone(), format!("{}{more}", parts.join("；")));
        }
    }
    out
}

/// Loaded items and the errors of those that did not load, as text.
fn split<T, E: std::fmt::Display>(items: Vec<Result<T, E>>) -> (Vec<T>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for i in items {
        match i {
            Ok(x) => ok.push(x),
            Err(e) => bad.push(e.to_string()),
        }
    }
    (ok, bad)
}

/// A job's as-of rule for a run started at `now` in `tz`.
pub fn as_of_for(rule: crate::settings::AsOf, tz: chrono_tz::Tz, now: DateTime<Utc>) -> NaiveDate {
    rule.date(now.with_timezone(&tz).date_naive())
}
