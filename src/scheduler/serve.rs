//! `searchlight serve`: holds the project's scheduler lease, runs each job when it is due (one
//! at a time, so runs never overlap; a tick missed while down runs once at start-up), and
//! drains the outbox beside it. SIGTERM or SIGINT stops it taking new runs: the running job
//! finishes (or, killed harder, its transaction rolls back), the sender finishes its mail, the
//! lease is given back, and it returns.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use super::send::{Sender, drain};
use crate::ledger::Ledger;
use crate::pipeline::{self, JobSpec, ModelChoice, Trigger};
use crate::project::Project;
use crate::settings::{AsOf, Serve, parse_duration};

pub use crate::clock::{Clock, SystemClock};

/// The lease every scheduler of a project takes.
pub const LEASE: &str = "scheduler";
/// How long a lease lasts unless renewed (it is renewed at a third of this).
pub const LEASE_TTL: Duration = Duration::from_secs(60);
/// Default job timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

/// A job as the scheduler runs it.
#[derive(Debug, Clone)]
pub struct ScheduledJob {
    pub name: String,
    pub schedule: cron::Schedule,
    pub connectors: Vec<String>,
    pub models: ModelChoice,
    pub timeout: Duration,
    pub as_of: AsOf,
}

/// The jobs of the settings, and one per model whose header has its own `schedule`.
pub fn jobs(settings: &Serve, models: &[crate::model::Model]) -> anyhow::Result<Vec<ScheduledJob>> {
    let mut out = Vec::new();
    for j in &settings.schedule {
        let strings = |l: &[toml::Spanned<String>]| l.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>();
        out.push(ScheduledJob {
            name: j.name.get_ref().clone(),
            schedule: cron::Schedule::from_str(j.cron.get_ref())
                .map_err(|e| anyhow::anyhow!("schedule {}: cron: {e}", j.name.get_ref()))?,
            connectors: strings(&j.connectors),
            models: ModelChoice { ids: strings(&j.models), domains: strings(&j.domains), areas: strings(&j.areas) },
            timeout: j.timeout.as_ref().and_then(|t| parse_duration(t.get_ref())).unwrap_or(DEFAULT_TIMEOUT),
            as_of: j.as_of.as_ref().and_then(|a| AsOf::parse(a.get_ref())).unwrap_or(AsOf::Today),
        });
    }
    for m in models {
        if let Some(cron) = &m.spec.schedule {
            out.push(ScheduledJob {
                name: format!("model:{}", m.id()),
                schedule: cron::Schedule::from_str(cron)
                    .map_err(|e| anyhow::anyhow!("model {}: schedule: {e}", m.id()))?,
                connectors: Vec::new(),
                models: ModelChoice { ids: vec![m.id().to_string()], ..Default::default() },
                timeout: DEFAULT_TIMEOUT,
                as_of: AsOf::Today,
            });
        }
    }
    Ok(out)
}

/// What the server tells its operator (the command line prints it).
pub type Log = dyn Fn(String) + Send + Sync;

/// Runs the scheduler until `stop` turns true (the command line wires it to SIGTERM/SIGINT).
pub async fn serve(
    project: &Project,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
    log: Arc<Log>,
) -> anyhow::Result<()> {
    let settings = &project.config.serve;
    let models: Vec<_> = project.models()?.into_iter().filter_map(Result::ok).collect();
    let jobs = jobs(settings, &models)?;
    // the SMTP settings (a password variable that is not set) fail here, before the lease is taken
    let sender = settings.smtp.as_ref().map(|smtp| Sender::new(smtp, &project.root)).transpose()?;
    let tz = settings.tz();
    let holder = crate::ledger::lease_holder_id(clock.now());
    let mut ledger = tokio::task::block_in_place(|| Ledger::open(&project.ledger))?;
    let ttl = chrono::Duration::from_std(LEASE_TTL)?;
    // the scheduler before this one was last seen when it last renewed its lease
    let before = tokio::task::block_in_place(|| ledger.lease_holder(LEASE))?;
    if let Err(h) = tokio::task::block_in_place(|| {
        ledger.take_lease(LEASE, &holder, clock.now(), ttl, &crate::ledger::holder_died)
    })? {
        anyhow::bail!(
            "另一个 searchlight serve 正在运行 another scheduler holds this project ({}, lease until {}); stop it first — a lease that is not renewed expires by itself",
            h.holder,
            h.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    let last_seen = before.map(|h| (h.until - ttl).min(clock.now()));
    for j in tokio::task::block_in_place(|| ledger.close_interrupted(last_seen, clock.now()))? {
        log(format!(
            "  {} 的运行 (tick {}) 被中断 was interrupted — closed; its tick runs again",
            j.job,
            j.tick.as_deref().unwrap_or("-")
        ));
    }
    let since = clock.now();
    log(format!(
        "探照灯 serve: {} 个定时任务 jobs, 时区 {tz}, {} 位订阅人 subscribers{}",
        jobs.len(),
        settings.subscriber.len(),
        if settings.smtp.is_some() { "" } else { " (未配置 [smtp]: 不发邮件 no mail)" }
    ));
    for j in &jobs {
        if let Some(n) = super::due::next(&j.schedule, tz, since) {
            log(format!("  {} 下次运行 next {}", j.name, n.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z")));
        }
    }

    // the sender, beside the jobs
    let wake = Arc::new(Notify::new());
    let sender_task = sender.map(|sender| {
        let (project, clock, wake, log, stop) =
            (project.clone(), clock.clone(), wake.clone(), log.clone(), stop.clone());
        tokio::spawn(async move { send_loop(project, sender, clock, wake, stop, log).await })
    });

    let mut renewed = clock.now();
    let result: anyhow::Result<()> = async {
        loop {
            if *stop.borrow() {
                break;
            }
            let now = clock.now();
            if now - renewed >= ttl / 3 {
                if let Err(h) = tokio::task::block_in_place(|| {
                    ledger.take_lease(LEASE, &holder, now, ttl, &crate::ledger::holder_died)
                })? {
                    anyhow::bail!("lost the scheduler lease to {} — stopping", h.holder);
                }
                renewed = now;
            }
            let mut ran = false;
            for j in &jobs {
                if *stop.borrow() {
                    break;
                }
                let last = tokio::task::block_in_place(|| ledger.last_tick(&j.name))?;
                let Some(tick) = super::due::due(&j.schedule, tz, last, since, clock.now()) else { continue };
                let trigger = if tick < since { Trigger::CatchUp } else { Trigger::Schedule };
                run_job(project, j, tick, trigger, &clock, &log).await;
                wake.notify_one();
                ran = true;
            }
            if ran {
                continue;
            }
            // sleep until the next tick of any job or the lease's renewal, or a stop
            let now = clock.now();
            let mut until = renewed + ttl / 3;
            for j in &jobs {
                if let Some(n) = super::due::next(&j.schedule, tz, now) {
                    until = until.min(n);
                }
            }
            let wait = (until - now).to_std().unwrap_or(Duration::ZERO).max(Duration::from_millis(20));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        Ok(())
    }
    .await;
    log("探照灯 serve: 停止接受新的运行 stopping".into());
    wake.notify_one();
    if let Some(t) = sender_task {
        let _ = t.await;
    }
    tokio::task::block_in_place(|| ledger.release_lease(LEASE, &holder))?;
    result
}

/// Runs one job for a tick and logs how it went (its outcome is on record in the ledger).
async fn run_job(
    project: &Project,
    j: &ScheduledJob,
    tick: DateTime<Utc>,
    trigger: Trigger,
    clock: &Arc<dyn Clock>,
    log: &Arc<Log>,
) {
    let tz = project.config.serve.tz();
    let now = clock.now();
    let as_of = pipeline::job::as_of_for(j.as_of, tz, now);
    log(format!(
        "任务 {} 开始 start ({}, tick {}, 数据截至 as-of {as_of})",
        j.name,
        trigger.name(),
        tick.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S")
    ));
    let spec = JobSpec {
        name: j.name.clone(),
        trigger,
        tick: Some(tick),
        connectors: j.connectors.clone(),
        models: j.models.clone(),
        as_of: Some(as_of),
        ingest_as_of: as_of,
        timeout: Some(j.timeout),
        record: pipeline::Record { trigger: Some(j.name.clone()), ..Default::default() },
        preview: false,
        clock: clock.clone(),
        notice: Some(pipeline::job::Notice({
            let (log, name) = (log.clone(), j.name.clone());
            Arc::new(move |s: &str| log(format!("  {name}: {s}")))
        })),
    };
    let quiet = |_: &crate::connector::Connector| -> Box<dyn crate::lake::Progress + Send + Sync> {
        Box::new(crate::lake::Quiet)
    };
    match pipeline::job(project, &spec, &quiet).await {
        Ok(r) => {
            let new = r.recorded.as_ref().map(|d| d.diff.count(crate::ledger::Mark::New)).unwrap_or(0);
            let reopened = r.recorded.as_ref().map(|d| d.diff.count(crate::ledger::Mark::Reopened)).unwrap_or(0);
            log(format!(
                "任务 {} 结束 {} {}: 新增 {new}, 复现 {reopened}, 排队邮件 {} mails queued{}",
                j.name,
                r.outcome.label(),
                r.outcome.name(),
                r.mails.len(),
                r.error.map(|e| format!(" — {e}")).unwrap_or_default()
            ));
        }
        Err(e) => log(format!("任务 {} 未能记录 could not be put on record: {e:#}", j.name)),
    }
}

/// Drains the outbox whenever a job queued mail or a retry falls due, until stopped.
async fn send_loop(
    project: Project,
    sender: Sender,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    log: Arc<Log>,
) {
    let mut ledger = match tokio::task::block_in_place(|| Ledger::open(&project.ledger)) {
        Ok(l) => l,
        Err(e) => {
            log(format!("邮件发送 sender: {e}"));
            return;
        }
    };
    loop {
        let now = || clock.now();
        match drain(&mut ledger, &sender, &project.config.serve, &now).await {
            Ok(d) => {
                for m in &d.sent {
                    log(format!("邮件已发送 sent #{} → {} {}", m.id, m.address, m.message_id));
                }
                for (m, e) in &d.retried {
                    log(format!("邮件暂未送出 will retry #{} → {}: {e}", m.id, m.address));
                }
                for (m, e) in &d.failed {
                    log(format!("邮件发送失败 failed #{} → {}: {e}", m.id, m.address));
                }
            }
            Err(e) => log(format!("邮件发送 sender: {e:#}")),
        }
        if *stop.borrow() {
            break;
        }
        let next = tokio::task::block_in_place(|| ledger.next_mail_at()).ok().flatten();
        let wait = next
            .map(|n| (n - clock.now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(3600))
            .clamp(Duration::from_millis(50), Duration::from_secs(3600));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}
