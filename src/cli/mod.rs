//! The command line: arguments in, one stage seam called per command, reports out.
//!
//! Nothing below this module parses arguments; nothing in it runs SQL or touches files except
//! through the stage seams. Exit status: 0 when everything succeeded, 2 when any item (a
//! connector, a dataset) failed — the others still ran — and 1 when the command could not run.

/// `println!` through the redactor: everything the command line shows passes it.
macro_rules! say {
    () => { $crate::cli::emit(false, "\n") };
    ($($t:tt)*) => { $crate::cli::emit(false, &(format!($($t)*) + "\n")) };
}

/// `print!` through the redactor.
macro_rules! say_raw {
    ($($t:tt)*) => { $crate::cli::emit(false, &format!($($t)*)) };
}

/// `eprintln!` through the redactor.
macro_rules! say_err {
    ($($t:tt)*) => { $crate::cli::emit(true, &(format!($($t)*) + "\n")) };
}

mod output;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::connector::Connector;
use crate::engine::Engine;
use crate::lake::{IngestOptions, Lake};
use crate::ledger::{ClueFilter, Flag, Ledger, Mark, Person, Status, Step};
use crate::model::Model;
use crate::project::Project;
use crate::redact::{Grant, Redactor};
use crate::runner::{RunRequest, Runner};

/// The one redactor of this process: set from `--show-ids` when the command line is parsed.
static REDACTOR: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();

/// The redactor every output of this process passes.
fn redactor() -> Redactor {
    *REDACTOR.get_or_init(Redactor::masking)
}

/// Writes text to stdout (or stderr) as the person may see it.
pub fn emit(stderr: bool, text: &str) {
    use std::io::Write;
    let r = redactor();
    let shown = r.text(text);
    // JSON output stays JSON: where masking would touch it, its values are redacted one by one
    let shown = match shown {
        std::borrow::Cow::Owned(_) => r.json(text).map(std::borrow::Cow::Owned).unwrap_or(shown),
        borrowed => borrowed,
    };
    let shown = visible(&shown);
    // a closed pipe (`| head`) is not an error of ours
    let _ = if stderr {
        std::io::stderr().write_all(shown.as_bytes())
    } else {
        std::io::stdout().write_all(shown.as_bytes())
    };
}

/// Every file and folder the process creates — ledger, lake, backups, papers, briefs, `.eml` —
/// holds personal data: created owner-only (0600 / 0700) unless `SEARCHLIGHT_UMASK` (octal,
/// e.g. `027` for a group of readers) says otherwise.
fn owner_only() {
    let mask = std::env::var("SEARCHLIGHT_UMASK")
        .ok()
        .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        .filter(|m| *m <= 0o777)
        .unwrap_or(0o077);
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail
    unsafe {
        libc::umask(mask as libc::mode_t);
    }
}

/// Text as a terminal may show it: control characters from export values and reasons (ESC
/// sequences that clear the screen or retitle the window, carriage returns that overwrite a
/// line, bidirectional overrides) become visible symbols (␛, ␍) instead of acting.
fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let acts = |c: char| {
        (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            c if !acts(c) => c,
            // C0 controls have picture symbols at U+2400 + code; DEL at U+2421
            c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
            '\u{7F}' => '\u{2421}',
            _ => '\u{FFFD}',
        })
        .collect::<String>()
        .into()
}

/// Writes a document in a format to a file or standard output, through the one redactor: a
/// file handed on is an output like any other.
fn write_document(
    mut doc: crate::doc::Document,
    format: crate::doc::Format,
    out: Option<&std::path::Path>,
    what: &str,
) -> anyhow::Result<()> {
    let r = redactor();
    doc.redact(&|s: &str| r.text(s).into_owned());
    let bytes = doc.render(format)?;
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            say_err!("{what}已写入 {}", path.display());
        }
        None if format == crate::doc::Format::Xlsx => {
            anyhow::bail!("xlsx 须写入文件: --out FILE.xlsx")
        }
        None => say_raw!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}

/// searchlight (探照灯): big-data supervision — connectors, a versioned Parquet lake, SQL models.
#[derive(Debug, Parser)]
#[command(name = "searchlight", version, about = "探照灯 · 大数据监督引擎 (big-data supervision engine)")]
pub struct Cli {
    /// Project directory (holds connectors/, models/, fixtures/).
    #[arg(long, global = true, default_value = ".", env = "SEARCHLIGHT_PROJECT")]
    project: PathBuf,
    /// Lake location: a directory, file:// or s3:// URL (default: <project>/lake).
    #[arg(long, global = true, env = "SEARCHLIGHT_LAKE")]
    lake: Option<String>,
    /// Clue ledger, a SQLite file (default: <project>/ledger.sqlite).
    #[arg(long, global = true, env = "SEARCHLIGHT_LEDGER")]
    ledger: Option<PathBuf>,
    /// Show ID and bank account numbers in full (for those granted to see them); every output
    /// masks them otherwise.
    #[arg(long, global = true)]
    show_ids: bool,
    /// Accept an --as-of later than the newest data in the lake, or than today. Without it such
    /// a date is refused: a run recorded ahead of the data makes every later run look historical.
    #[arg(long, global = true)]
    as_of_beyond_data: bool,
    /// The memory the process may use (`4GiB`, `512MiB`; default half of the machine's or
    /// container's). 40 % of it is the pool all queries share: sorts, joins and aggregations
    /// spill within it, and a query that still does not fit fails alone, naming it, instead of the process dying.
    #[arg(long, global = true, env = "SEARCHLIGHT_MEMORY_LIMIT", value_parser = crate::limits::parse_memory_limit)]
    memory_limit: Option<u64>,
    /// How long one model or `sql` query may run (`30m`, `2h`; default 30m): one still running
    /// then is cancelled and fails alone.
    #[arg(long, global = true, env = "SEARCHLIGHT_QUERY_TIMEOUT", value_parser = query_timeout)]
    query_timeout: Option<std::time::Duration>,
    /// Run models (run, pipeline, scheduled jobs) on an Apache DataFusion Ballista cluster:
    /// its scheduler as df://HOST:PORT (a build with the `cluster` feature; see `searchlight
    /// cluster`). Its executors must reach the lake by the same URL (an s3:// lake).
    #[arg(long, global = true, env = "SEARCHLIGHT_CLUSTER", value_name = "df://HOST:PORT", value_parser = cluster_url)]
    cluster: Option<String>,
    #[command(subcommand)]
    command: Command,
}

fn cluster_url(s: &str) -> Result<String, String> {
    crate::limits::check_cluster(s).map(|()| s.to_string())
}

/// Who takes a step and why.
#[derive(Debug, clap::Args)]
struct Act {
    /// Clue id.
    id: String,
    /// Who takes the step (default: $SEARCHLIGHT_USER, else $USER).
    #[arg(long)]
    by: Option<String>,
    /// Why; required to dismiss, to close (销号说明), for an exception and for a note.
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum ClueCommand {
    /// A clue: its state, every run's sighting (evidence file and rows, model version) and every step.
    Show {
        id: String,
        /// The date overdue rectifications and exceptions are judged on (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// 研判: dismiss as a false positive (--dismiss --reason), or route it (--to DEPT) naming the
    /// responsible persons (--person 姓名:职务, repeatable).
    Triage {
        #[command(flatten)]
        act: Act,
        #[arg(long, conflicts_with_all = ["to", "person"])]
        dismiss: bool,
        /// Department or unit that verifies (omit to keep it for direct verification).
        #[arg(long)]
        to: Option<String>,
        #[arg(long = "person", value_name = "NAME[:ROLE]")]
        person: Vec<String>,
    },
    /// 交办: the verifier and a due date.
    Assign {
        #[command(flatten)]
        act: Act,
        #[arg(long = "to")]
        assignee: String,
        #[arg(long)]
        due: Option<chrono::NaiveDate>,
    },
    /// 核实: 属实 | 部分属实 | 不属实, with amounts (元).
    Verify {
        #[command(flatten)]
        act: Act,
        #[arg(long)]
        result: String,
        /// 涉及金额 (元; finite, 0 to 1 万亿)
        #[arg(long, value_parser = crate::codes::text::entered_yuan)]
        amount: Option<f64>,
        /// 已追回 (元)
        #[arg(long, value_parser = crate::codes::text::entered_yuan)]
        recovered: Option<f64>,
    },
    /// 处置: 追缴, 清退, 纠正, 谈话函询, 初步核实, 立案审查, 予以了结 …
    Dispose {
        #[command(flatten)]
        act: Act,
        #[arg(long)]
        action: String,
    },
    /// 整改: rectification due by a date.
    Rectify {
        #[command(flatten)]
        act: Act,
        #[arg(long)]
        due: chrono::NaiveDate,
    },
    /// 销号, with the closure note as --reason.
    Close {
        #[command(flatten)]
        act: Act,
    },
    /// A remark (--reason is the text).
    Note {
        #[command(flatten)]
        act: Act,
    },
    /// 例外: suppress the clue until a date, with a reason (e.g. a registered lawful 代领).
    Except {
        #[command(flatten)]
        act: Act,
        #[arg(long)]
        until: chrono::NaiveDate,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: ingest every connector, then run every model.
    Pipeline {
        /// The date the exports describe (default: today for the ingest; the run then takes
        /// the as-of of the snapshots it reads).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// Validate every model (header, parameters, SQL planned over the canonical schema) and say
    /// whether the lake's data lets it run.
    Check {
        /// Only these models.
        #[arg(long = "model")]
        models: Vec<String>,
        /// Check the directory of inspected units instead: its faults, and every clue unit value
        /// in the ledger that resolves to no unit of it.
        #[arg(long)]
        units: bool,
    },
    /// What every model can do with the data a county has: runs fully, runs without some
    /// optional inputs, or cannot run — with everything missing and what to map to fix it.
    Coverage {
        /// Judge on the connectors (what they will land; default) or on the lake's snapshots.
        #[arg(long, value_enum, default_value = "connectors")]
        from: CoverageFrom,
        /// Only these models.
        #[arg(long = "model")]
        models: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Start a project in DIR that uses the bundled model library (connectors/, models/,
    /// exports/ and a short guide).
    Init {
        /// The project directory (created if missing; must be empty if it exists).
        dir: PathBuf,
    },
    /// Connectors: `connector new FILE…` writes a skeleton from an export's headers.
    Connector {
        #[command(subcommand)]
        command: ConnectorCommand,
    },
    /// A Ballista cluster that runs models (`--cluster df://HOST:PORT`): this binary is its
    /// scheduler and its executors, so they know searchlight's SQL functions and tables.
    Cluster {
        #[command(subcommand)]
        role: ClusterCommand,
    },
    /// Run models over the lake's current snapshots and record their clues.
    Run {
        #[command(flatten)]
        select: Select,
        /// The date the data describes, bound as $as_of (default: the as-of of the newest
        /// snapshot in the lake).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Override a parameter: MODEL.NAME=VALUE (repeatable). A run with overrides is a
        /// trial: nothing is recorded unless --record is given.
        #[arg(long = "param", value_name = "MODEL.NAME=VALUE")]
        params: Vec<String>,
        /// Record a run with --param overrides in the ledger (its clues' marks move).
        #[arg(long)]
        record: bool,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// How many models run at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        #[command(flatten)]
        recording: RecordArgs,
    },
    /// Run each model's tests (<model>.test.toml beside the model).
    Test {
        #[command(flatten)]
        select: Select,
    },
    /// Print the first clues a model would raise now (nothing is recorded).
    Preview {
        /// Model id.
        model: String,
        /// The date the data describes (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Override a parameter: NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Clues to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Print the plan DataFusion runs for a model.
    Explain {
        /// Model id.
        model: String,
        /// The date the data describes (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Override a parameter: NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Print the query with its parameters bound (one SQL statement) instead of the plan.
        #[arg(long)]
        sql: bool,
    },
    /// List clues in the ledger, most severe and newest first.
    Clues {
        /// Workflow state: pending 待研判 | dismissed 已排除 | routed 已分流 | verifying 核查中 |
        /// verified 已核实 | disposed 已处置 | rectifying 整改中 | closed 已销号.
        #[arg(long)]
        state: Option<String>,
        /// overdue 整改逾期 | rectification-failed 整改不实 | excepted 豁免.
        #[arg(long)]
        flag: Option<String>,
        /// How the latest run of the clue's model saw it: new | ongoing | resolved | reopened.
        #[arg(long)]
        mark: Option<String>,
        #[arg(long)]
        area: Option<String>,
        /// The inspected unit: the value a model returned (name or region code), or the unit code
        /// of the directory of inspected units it resolved to.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        model: Option<String>,
        /// high | medium | low
        #[arg(long)]
        severity: Option<String>,
        /// Only clues first found by a run recorded after this one.
        #[arg(long, value_name = "RUN")]
        new_since: Option<String>,
        /// Include clues under an exception.
        #[arg(long)]
        all: bool,
        /// The date overdue rectifications and exceptions are judged on (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// One clue: show it, or take a workflow step (研判 → 核查 → 处置 → 整改 → 销号).
    Clue {
        #[command(subcommand)]
        command: ClueCommand,
    },
    /// Write the working paper (问题底稿) of a clue: facts with evidence rows and their sources,
    /// policy basis, responsibility, how it was found, and the verification trail.
    Paper {
        /// Clue id.
        id: String,
        #[arg(long, value_enum, default_value = "md")]
        format: crate::doc::Format,
        /// Write to this file instead of standard output (required for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The date overdue rectifications are judged on (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// The recorded runs, newest first: what started each (manual, or a scheduled job), when it
    /// started and ended, how it went, and what it did to the clues.
    Runs {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<RunsCommand>,
    },
    /// Run as a service: the schedules of searchlight.toml on cron, the digests mailed to each
    /// subscriber through the outbox, and the workbench for teams and leaders on `listen`
    /// (docs/serve.md). Stops cleanly on SIGTERM / SIGINT.
    Serve {
        /// Where the workbench listens (overrides `listen` in searchlight.toml; default
        /// 127.0.0.1:8080; `off`: no workbench).
        #[arg(long, env = "SEARCHLIGHT_LISTEN")]
        listen: Option<String>,
    },
    /// Digests: what a run mails each subscriber.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
    /// The outbox: queued, sent and failed mails.
    Outbox {
        #[command(subcommand)]
        command: Option<OutboxCommand>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Users of the workbench (`serve`): roles, teams and their units, the sight of full ID
    /// numbers, API tokens.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// The access log: who read or changed what, when, from where — and every refusal.
    Audit {
        /// Only this user (`os:<login> …` for the command line).
        #[arg(long)]
        user: Option<String>,
        /// From this date or time on (2026-12-01, or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Copy the ledger to PATH consistently, even while a run is writing it.
    Backup {
        /// Destination file (must not exist).
        path: PathBuf,
    },
    /// Draw the clue-state projection that listings read again from the recorded sightings and
    /// steps (it is kept as they are recorded; this is for a ledger restored or edited by hand).
    Reproject {
        /// Only compare the kept projection with a fresh one and list where they differ (exit
        /// status 1 if they do); change nothing.
        #[arg(long)]
        check: bool,
    },
    /// List the model library (id, title, area), or print it as Markdown.
    Models {
        /// Print the Markdown table the README carries.
        #[arg(long)]
        markdown: bool,
        /// Each model's record from verification outcomes (raised, 属实 / 部分属实 / 不属实,
        /// dismissed and why, amounts), per model and per parameter setting.
        #[arg(long, conflicts_with = "markdown")]
        quality: bool,
        #[arg(long, requires = "quality")]
        json: bool,
    },
    /// 巡前情况通报: the pre-inspection brief of a unit and its subordinates — overview and
    /// leaders, clues by area with evidence, peers, rectifications, trend, and what could not
    /// be checked.
    Brief {
        /// The unit: its code or name (an ambiguous name lists the candidates).
        unit: String,
        /// The date horizons (逾期) are measured from; runs on later data are left out (default:
        /// the lake's data date).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Only clues found by runs on data in FROM..TO (TO is then the as-of date).
        #[arg(long, value_name = "FROM..TO")]
        period: Option<String>,
        #[arg(long, value_enum, default_value = "html")]
        format: crate::doc::Format,
        /// Write to this file instead of standard output (required for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Top clues per area shown with key evidence and working paper.
        #[arg(long, default_value_t = 5)]
        top: usize,
    },
    /// Land connectors as new lake snapshots (all, or the named ones).
    Ingest {
        /// Connector ids or dataset names; default all.
        names: Vec<String>,
        /// Read and convert everything, show the first landed rows, the flags and the
        /// quarantine — and write nothing to the lake.
        #[arg(long)]
        dry_run: bool,
        /// The date the exports describe (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Land even if the sources are unchanged.
        #[arg(long)]
        force: bool,
        /// Split text exports into chunks of about this many MiB.
        #[arg(long, default_value_t = 32, hide = true)]
        chunk_mib: u64,
    },
    /// List datasets, or show one dataset's snapshots, schema and quarantine; `lake gc`
    /// removes what the retention policy lets go.
    #[command(args_conflicts_with_subcommands = true)]
    Lake {
        #[command(subcommand)]
        action: Option<LakeCommand>,
        /// Dataset to show in detail.
        name: Option<String>,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// The Open Contracting red flags (R003 … R058) of an OCDS file — compiled releases, or
    /// release / record packages, as JSON lines or one document — printed as JSON in the
    /// reference tool's shape (`{"OCID": {ocid: {code: value}}, "Buyer": …, "Tenderer": …}`).
    /// Needs no project.
    OcdsFlags {
        /// Settings in the reference tool's INI format (default: all 11 flags, their defaults).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Print the settings as `--param` arguments of the flags' models (`models/ocds/`) for
        /// `searchlight run`, instead of reading a file.
        #[arg(long)]
        params: bool,
        /// The OCDS file (`-`: standard input).
        #[arg(required_unless_present = "params")]
        file: Option<PathBuf>,
    },
    /// List the canonical datasets (and the project's own), with the connectors that land them
    /// (Markdown: docs/datasets.md).
    Datasets {
        /// Print the Markdown catalogue.
        #[arg(long)]
        markdown: bool,
    },
    /// Run one SQL query over the lake's current snapshots.
    Sql {
        /// The query.
        query: String,
        /// Print JSON rows instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The demo county.
    #[cfg(feature = "demo")]
    Fixtures {
        #[command(subcommand)]
        command: FixturesCommand,
    },
}

/// How a run is recorded.
#[derive(Debug, clap::Args)]
struct RecordArgs {
    /// The lake changed on purpose (moved or rebuilt): record runs on it into this ledger.
    #[arg(long)]
    new_lake: bool,
    /// Start a new ledger at the --ledger path given (which does not exist yet).
    #[arg(long)]
    new_ledger: bool,
    /// Execute every model, even one whose model, parameters and input snapshots are those of
    /// its last recorded run (by default its result is replayed from that run's evidence).
    #[arg(long)]
    full: bool,
}

impl RecordArgs {
    fn record(&self) -> crate::pipeline::Record {
        crate::pipeline::Record { new_lake: self.new_lake, new_ledger: self.new_ledger, trigger: None, full: self.full }
    }
}

/// Which models a command applies to.
#[derive(Debug, clap::Args)]
struct Select {
    /// Only these models (ids; repeatable).
    #[arg(long = "model")]
    models: Vec<String>,
    /// Only the models of this domain.
    #[arg(long)]
    domain: Option<String>,
}

/// What `coverage` judges on.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CoverageFrom {
    /// The project's connectors: what they will land.
    Connectors,
    /// The lake's current snapshots.
    Lake,
}

#[derive(Debug, Subcommand)]
enum DigestCommand {
    /// Write the exact mails the next run would send, as .eml files, without sending or
    /// recording anything (the run is made and rolled back).
    Preview {
        /// Only this subscriber's mail (name or address).
        #[arg(long)]
        subscriber: Option<String>,
        /// Directory for the .eml files (default: the current directory).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// The job whose models the run takes (default: every model).
        #[arg(long)]
        job: Option<String>,
        /// The run's as-of date (default: the job's rule, or the data's).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// Withdraw a recorded run made by mistake (a mistyped --as-of): its findings no longer count
    /// for any clue's mark; the next run judges new / ongoing / resolved by the other runs.
    Withdraw {
        /// The run (`searchlight runs` lists them).
        run: String,
        /// Who withdraws it.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Put a failed mail back in the queue (same Message-ID); `searchlight serve` sends it.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
enum ConnectorCommand {
    /// Read each export's headers and first rows and write a connector skeleton with the
    /// suggested dataset(s) and column mappings, each marked for you to confirm.
    New {
        /// Export files (csv, xlsx/xls/ods, ndjson, parquet; any encoding).
        #[arg(required_unless_present = "database")]
        files: Vec<PathBuf>,
        /// A department database instead of files: `postgres://HOST[:PORT]/DB` or
        /// `mysql://[USER@]HOST[:PORT]/DB` — never a password (see --password-env).
        #[arg(long, value_name = "URL", conflicts_with = "files")]
        database: Option<String>,
        /// With --database: the table to read (`table` or `schema.table`).
        #[arg(long, requires = "database", conflicts_with = "query")]
        table: Option<String>,
        /// With --database: a SELECT to read instead of a table.
        #[arg(long, requires = "database")]
        query: Option<String>,
        /// With --database: the environment variable holding the user name (or give the user in
        /// the URL).
        #[arg(long, requires = "database")]
        user_env: Option<String>,
        /// With --database: the environment variable holding the password.
        #[arg(long, requires = "database")]
        password_env: Option<String>,
        /// With --database: `require` (encrypted; the default), `verify-full` or `disable`.
        #[arg(long, requires = "database", default_value = "require")]
        tls: String,
        /// Where to write the skeletons (default: <project>/connectors).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing connector file.
        #[arg(long)]
        force: bool,
        /// Print the skeletons instead of writing them.
        #[arg(long)]
        stdout: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// The scheduler: plans stages and hands tasks to executors (one per cluster).
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Port to listen on (clients name it in df://HOST:PORT).
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Host name executors and clients reach this machine by (default: --bind).
        #[arg(long)]
        external_host: Option<String>,
    },
    /// An executor: runs tasks, reading the lake by its URL with the credentials of its own
    /// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT, …).
    Executor {
        /// The scheduler, df://HOST:PORT.
        #[arg(long, value_parser = cluster_url)]
        scheduler: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Host name the scheduler and other executors reach this one by (default: --bind).
        #[arg(long)]
        external_host: Option<String>,
        /// Arrow Flight port (results and shuffles).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port (tasks).
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Tasks at once (default: one per core).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Where shuffles and spills go (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum LakeCommand {
    /// Remove staged parts that a killed ingest left and snapshots past the retention policy —
    /// never a dataset's current snapshot, its newest --keep, or a snapshot or run folder that
    /// a run recorded in the ledger refers to.
    Gc {
        /// Newest complete snapshots kept per dataset, the current one among them (at least 2).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..))]
        keep: u32,
        /// A staged snapshot or unrecorded run folder written to within this time is left
        /// alone (an ingest or run may still be at work): `0`, `90s`, `30m`, `2h`.
        #[arg(long, default_value = "1h", value_parser = grace)]
        grace: std::time::Duration,
        /// Also remove run folders (`_runs/<run>`) that no recorded run names.
        #[arg(long)]
        unrecorded_runs: bool,
        /// List what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// The lake is recorded by no ledger: keep only what the policy keeps.
        #[arg(long)]
        without_ledger: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn grace(s: &str) -> Result<std::time::Duration, String> {
    if matches!(s.trim(), "0" | "0s") {
        return Ok(std::time::Duration::ZERO);
    }
    crate::limits::parse_duration(s).ok_or_else(|| format!("{s}: expected 0, or a number and s, m or h (90s, 30m, 2h)"))
}

#[cfg(feature = "demo")]
#[derive(Debug, Subcommand)]
enum FixturesCommand {
    /// Generate the demo county's exports (the same county for the same seed, at any scale).
    Generate {
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Size multiplier (1 = the bundled few-thousand-rows county). Above 40 the county is
        /// made in batches of scale 40 — each a county of its own, appended to the same exports —
        /// so memory is bounded by a batch (about 1 GiB) and each workbook's distinct strings,
        /// not by the county (2.2 GiB at scale 4000, 133 million rows).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// The largest scale made as one batch.
        #[arg(long, default_value_t = crate::demo::BATCH_SCALE, hide = true)]
        batch_scale: u32,
        /// Output folder (default: <project>/fixtures/demo, or fixtures/demo-b, fixtures/demo-c).
        #[arg(long)]
        out: Option<PathBuf>,
        /// How the exports are cut: a (one export per dataset), b (another county's cut:
        /// combined exports, other words and units, optional columns left out) or c (a third
        /// county's: wide rosters, two-row headers, pinyin headers, pipe-delimited text).
        #[arg(long, value_enum, default_value = "a")]
        layout: crate::demo::Layout,
        /// Only these datasets.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Generate an OCDS file (compiled releases, JSON lines) for the red flags' benchmark.
    Ocds {
        /// Contracting processes.
        #[arg(long, default_value_t = 100_000)]
        processes: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    owner_only();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // help and version as they are; a usage error echoes the arguments, masked
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let _ = REDACTOR.set(Redactor::new(Grant::Masked));
            emit(true, &e.render().to_string());
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let _ = REDACTOR.set(Redactor::new(if cli.show_ids { Grant::Full } else { Grant::Masked }));
    // deep plans (a model of many joins, decoded from protobuf on a cluster) recurse deeply
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(16 << 20).build() {
        Ok(rt) => rt,
        Err(e) => {
            say_err!("searchlight: cannot start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            say_err!("searchlight: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn query_timeout(s: &str) -> Result<std::time::Duration, String> {
    crate::limits::parse_duration(s).ok_or_else(|| format!("`{s}`: write a number and s, m or h (90s, 30m, 2h)"))
}

/// Runs a scheduler or an executor until the process is stopped.
#[cfg(feature = "cluster")]
async fn serve_cluster(role: &ClusterCommand, memory_limit: Option<u64>) -> anyhow::Result<()> {
    use crate::engine::cluster;
    // Ballista reports through `log`: its warnings by default, more with RUST_LOG
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).try_init();
    match role {
        ClusterCommand::Scheduler { bind, port, external_host } => {
            eprintln!("探照灯 Ballista scheduler on {bind}:{port}");
            cluster::run_scheduler(&cluster::SchedulerSettings {
                bind_host: bind.clone(),
                port: *port,
                external_host: external_host.clone().unwrap_or_else(|| bind.clone()),
            })
            .await
        }
        ClusterCommand::Executor { scheduler, bind, external_host, port, grpc_port, concurrency, work_dir } => {
            eprintln!("探照灯 Ballista executor on {bind}:{port}, scheduler {scheduler}");
            cluster::run_executor(&cluster::ExecutorSettings {
                scheduler: scheduler.clone(),
                bind_host: bind.clone(),
                external_host: external_host.clone().unwrap_or_else(|| bind.clone()),
                port: *port,
                grpc_port: *grpc_port,
                concurrency: concurrency
                    .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)),
                work_dir: work_dir.as_ref().map(|d| d.display().to_string()),
                memory_limit,
            })
            .await
        }
    }
}

#[cfg(not(feature = "cluster"))]
async fn serve_cluster(_: &ClusterCommand, _: Option<u64>) -> anyhow::Result<()> {
    anyhow::bail!(
        "this searchlight was built without cluster support (build it with `cargo build --release --features cluster`)"
    )
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(limit) = cli.memory_limit {
        crate::limits::set_memory(limit);
    }
    if let Some(t) = cli.query_timeout {
        crate::limits::set_query_timeout(t);
    }
    if let Some(c) = &cli.cluster {
        crate::limits::set_cluster(c.clone());
    }
    if let Command::Cluster { role } = &cli.command {
        serve_cluster(role, cli.memory_limit).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::OcdsFlags { settings, params, file } = &cli.command {
        return ocds_flags(settings.as_deref(), *params, file.as_deref());
    }
    if let Command::Init { dir } = &cli.command {
        let made = Project::init(dir)?;
        output::init_done(dir, &made);
        return Ok(ExitCode::SUCCESS);
    }
    let project = Project::open(&cli.project, cli.lake.as_deref(), cli.ledger.as_deref())?;
    project.config.engine.apply();
    if cli.show_ids {
        users::log_show_ids(&project)?;
    }
    let beyond = cli.as_of_beyond_data;
    match cli.command {
        Command::Init { .. } | Command::Cluster { .. } | Command::OcdsFlags { .. } => unreachable!("handled above"),
        Command::Pipeline { as_of, record } => {
            project.settings_refused()?;
            if let Some(d) = as_of {
                // the ingest stamps the data with it: only today bounds it
                as_of_within_data(&project, d, beyond, false).await?;
            }
            let spec = crate::pipeline::JobSpec {
                name: "pipeline".into(),
                trigger: crate::pipeline::Trigger::Manual,
                tick: None,
                connectors: vec!["*".into()],
                models: Default::default(),
                as_of,
                ingest_as_of: as_of.unwrap_or_else(|| IngestOptions::default().as_of),
                timeout: None,
                record: record.record(),
                preview: false,
                clock: std::sync::Arc::new(crate::clock::SystemClock),
                notice: Some(crate::pipeline::job::Notice(std::sync::Arc::new(|s: &str| say_err!("searchlight: {s}")))),
            };
            let bar = |c: &Connector| -> Box<dyn crate::lake::Progress + Send + Sync> {
                Box::new(output::ProgressBar::new(&c.id))
            };
            let r = crate::pipeline::job(&project, &spec, &bar).await?;
            Ok(if output::job_report(&r) { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
        Command::Serve { listen } => {
            project.settings_refused()?;
            let listen = match listen {
                Some(l) => l,
                None => project
                    .config
                    .serve
                    .listen
                    .as_ref()
                    .map(|l| l.get_ref().clone())
                    .unwrap_or_else(|| crate::server::DEFAULT_LISTEN.into()),
            };
            let listen = crate::settings::listen_address(&listen).map_err(|e| anyhow::anyhow!("--listen: {e}"))?;
            // a taken port fails at once, before the scheduler takes its lease
            let listener = match listen {
                Some(addr) => Some(crate::server::bind(&addr.to_string()).await?),
                None => None,
            };
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return,
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                say_err!("searchlight serve: 收到停止信号 signal received — finishing the running job");
                let _ = stop_tx.send(true);
            });
            let log: std::sync::Arc<crate::scheduler::serve::Log> = std::sync::Arc::new(|line: String| {
                say_err!("{} {line}", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
            });
            let workbench = async {
                match listener {
                    Some(l) => crate::server::serve(project.clone(), l, stop.clone(), log.clone()).await,
                    None => Ok(()),
                }
            };
            let scheduler = crate::scheduler::serve::serve(
                &project,
                std::sync::Arc::new(crate::scheduler::serve::SystemClock),
                stop.clone(),
                log.clone(),
            );
            tokio::try_join!(scheduler, workbench)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Digest { command: DigestCommand::Preview { subscriber, out, job, as_of } } => {
            let settings = &project.config.serve;
            if settings.smtp.is_none() || settings.subscriber.is_empty() {
                anyhow::bail!(
                    "{} has no [smtp] and [[subscriber]]: there is nothing to mail (docs/serve.md)",
                    crate::settings::CONFIG
                );
            }
            let now = chrono::Utc::now();
            let (models, as_of_rule) = match &job {
                Some(name) => {
                    let (all, _) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
                    let jobs = crate::scheduler::serve::jobs(settings, &all)?;
                    let j = jobs
                        .into_iter()
                        .find(|j| &j.name == name)
                        .ok_or_else(|| anyhow::anyhow!("no schedule named `{name}` in {}", crate::settings::CONFIG))?;
                    (j.models, Some(j.as_of))
                }
                None => (Default::default(), None),
            };
            let as_of = as_of.or_else(|| as_of_rule.map(|r| crate::pipeline::job::as_of_for(r, settings.tz(), now)));
            let spec = crate::pipeline::JobSpec {
                name: job.clone().unwrap_or_else(|| "preview".into()),
                trigger: crate::pipeline::Trigger::Manual,
                tick: None,
                connectors: Vec::new(),
                models,
                as_of,
                ingest_as_of: as_of.unwrap_or_else(|| now.with_timezone(&settings.tz()).date_naive()),
                timeout: None,
                record: Default::default(),
                preview: true,
                clock: std::sync::Arc::new(crate::clock::SystemClock),
                notice: None,
            };
            let quiet =
                |_: &Connector| -> Box<dyn crate::lake::Progress + Send + Sync> { Box::new(crate::lake::Quiet) };
            let r = crate::pipeline::job(&project, &spec, &quiet).await?;
            if let Some(e) = &r.error {
                anyhow::bail!("the preview run failed: {e}");
            }
            std::fs::create_dir_all(&out).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            let mut written = 0;
            for (_, m) in &r.mails {
                if subscriber.as_ref().is_some_and(|s| s != &m.recipient && s != &m.address) {
                    continue;
                }
                let name: String =
                    m.recipient.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
                let path = out.join(format!("{}-{name}.eml", m.kind));
                std::fs::write(&path, &m.message).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                say!(
                    "{}  {} <{}>  {}  ({} 条线索 clues)",
                    path.display(),
                    m.recipient,
                    m.address,
                    m.subject,
                    m.items.len()
                );
                written += 1;
            }
            say!("预览 preview: {written} 封邮件 mails written, nothing sent or recorded");
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox { command: Some(OutboxCommand::Retry { id }), .. } => {
            let m = Ledger::open_existing(&project.ledger)?.mail_requeue(id, chrono::Utc::now())?;
            say!("邮件 #{} 已重新排队 re-queued → {} {} (searchlight serve 发送)", m.id, m.address, m.message_id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox { command: None, limit, json } => {
            let mails = Ledger::open_existing(&project.ledger)?.mails(limit)?;
            if json {
                say!("{}", serde_json::to_string_pretty(&mails)?);
            } else {
                output::outbox_table(&mails);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { units: true, .. } => {
            let (models, _) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
            let (connectors, _) = load_connectors(&project)?;
            let runner = Runner::over_lake(&Lake::open(&project.lake)?, &Project::catalog(&connectors)).await?;
            let dir = crate::brief::directory(&runner).await?;
            let faults = dir.faults();
            let clues = match Ledger::open_existing(&project.ledger) {
                Ok(l) => l.clue_summaries(None, None)?,
                Err(e) => {
                    say_err!("searchlight: {e} — only the directory is checked");
                    Vec::new()
                }
            };
            let (resolved, unresolved) = crate::brief::resolve_all(&dir, &clues, &models);
            output::units_check(&dir, &faults, resolved.len(), &unresolved);
            Ok(if faults.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
        Command::Check { models, .. } => {
            let (selected, mut failed) = load_models(&project, &Select { models, domain: None })?;
            // a connector that does not load is a fault of the project, whatever the models say
            let (connectors, broken_connectors) = load_connectors(&project)?;
            failed |= broken_connectors;
            let catalog = Project::catalog(&connectors);
            let runner = Runner::over_lake(&Lake::open(&project.lake)?, &catalog).await?;
            let mut rows = Vec::new();
            for m in &selected {
                match runner.check(m).await {
                    Ok(c) => rows.push(output::CheckRow { model: m, checked: Some(c), error: None }),
                    Err(e) => {
                        say_err!("{e}");
                        failed = true;
                        rows.push(output::CheckRow { model: m, checked: None, error: Some(e.message) });
                    }
                }
            }
            output::check_table(&rows);
            // the service settings of searchlight.toml, against what the project has
            let (all, _) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
            let (config, text) = crate::settings::Config::load_text(&project.root)?;
            let names = crate::settings::Names {
                connectors: connectors
                    .iter()
                    .flat_map(|c| std::iter::once(c.id.clone()).chain(c.datasets().map(String::from)))
                    .collect(),
                models: all.iter().map(|m| m.id().to_string()).collect(),
                domains: all.iter().map(|m| m.spec.domain.clone()).collect(),
                areas: all.iter().map(|m| m.spec.area.clone()).collect(),
                users: Ledger::open_existing(&project.ledger)
                    .and_then(|l| l.users())
                    .ok()
                    .map(|users| users.into_iter().filter(|u| !u.disabled).map(|u| u.name).collect()),
            };
            let faults = config.serve.check(&project.root.join(crate::settings::CONFIG), &text, &names);
            for f in &faults {
                say_err!("{f}");
            }
            if !text.is_empty() {
                say!(
                    "{}: {}",
                    crate::settings::CONFIG,
                    if faults.is_empty() {
                        "通过 ok".to_string()
                    } else {
                        format!("{} 处错误 errors", faults.len())
                    }
                );
            }
            failed |= !faults.is_empty();
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Coverage { from, models, json } => {
            let (selected, failed) = load_models(&project, &Select { models, domain: None })?;
            let (connectors, broken) = connectors_and_broken(&project)?;
            let catalog = Project::catalog(&connectors);
            let lake = Lake::open(&project.lake)?;
            let runner = Runner::over_lake(&lake, &catalog).await?;
            let (have, label) = match from {
                CoverageFrom::Connectors => {
                    (crate::runner::coverage::declared(&connectors, &catalog).await, "connectors")
                }
                CoverageFrom::Lake => (runner.available().clone(), "lake"),
            };
            let landed_by =
                connectors.iter().flat_map(|c| c.datasets().map(move |d| (d.to_string(), c.id.clone()))).collect();
            let mut cov =
                crate::runner::coverage::coverage(&runner, &selected, &catalog, &have, &landed_by, label).await;
            cov.mark_broken(broken);
            if json {
                say!("{}", serde_json::to_string_pretty(&cov)?);
            } else {
                output::coverage(&cov);
            }
            let broken_model = cov.count(crate::runner::coverage::Reach::Broken) > 0;
            Ok(if failed || broken_model || !cov.broken.is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Connector {
            command:
                ConnectorCommand::New { files, database, table, query, user_env, password_env, tls, out, force, stdout },
        } => {
            let dir = out.unwrap_or_else(|| project.connectors_dir());
            let mut failed = false;
            let mut taken = Vec::new();
            let drafts = match database {
                Some(url) => {
                    let spec = database_spec(&url, table, query, user_env, password_env, &tls)?;
                    let name = spec.table.clone().unwrap_or_else(|| "query".into()).replace('.', "_");
                    let (header, rows) = crate::connector::database::sample(
                        &dir.join(format!("{name}.toml")),
                        &spec,
                        crate::connector::skeleton::SAMPLE_ROWS,
                    )
                    .await?;
                    let sample = crate::connector::skeleton::Sample::of_database(&spec, header.names, rows);
                    crate::connector::skeleton::draft_samples(
                        vec![sample],
                        crate::schema::Schema::bundled(),
                        &mut taken,
                    )
                }
                None => {
                    let cwd = std::env::current_dir()?;
                    let batch: Vec<(std::path::PathBuf, String)> = files
                        .iter()
                        .map(|f| {
                            let path = cwd.join(f);
                            let location = project.relative(&path);
                            (path, location)
                        })
                        .collect();
                    // files of one shape (a roster per year) are drafted as one connector over a glob
                    let (drafts, errors) =
                        crate::connector::skeleton::drafts_all(&batch, crate::schema::Schema::bundled(), &mut taken);
                    for e in errors {
                        say_err!("searchlight: {e}");
                        failed = true;
                    }
                    drafts
                }
            };
            for mut d in drafts {
                // a draft quotes sample values of the export: masked like any output
                d.text = redactor().text(&d.text).into_owned();
                if stdout {
                    say!("{}", d.text);
                    continue;
                }
                match d.write(&dir, force) {
                    Ok(target) => output::skeleton_written(&d.sample, &d.proposals, &target),
                    Err(e) => {
                        say_err!("searchlight: {e}");
                        failed = true;
                    }
                }
            }
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Run { select, as_of, params, record, json, jobs, recording } => {
            if let Some(d) = as_of {
                as_of_within_data(&project, d, beyond, true).await?;
            }
            let mut req = RunRequest::new(run_as_of(&project, as_of).await?);
            if let Some(jobs) = jobs {
                req.concurrency = jobs.max(1);
            }
            req.overrides = params.iter().map(|p| parse_override(p)).collect::<anyhow::Result<_>>()?;
            // a threshold tried out is a trial: it moves no mark unless asked
            let trial = !req.overrides.is_empty() && !record;
            if trial {
                say_err!(
                    "试算 trial run: --param overrides given, nothing is recorded in the ledger (--record to record it)"
                );
            }
            let failed = run_models(&project, &select, req, json, (!trial).then(|| recording.record())).await?;
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Test { select } => {
            let (selected, mut failed) = load_models(&project, &select)?;
            let (connectors, _) = load_connectors(&project)?;
            let catalog = Project::catalog(&connectors);
            let (mut passed, mut cases) = (0, 0);
            for m in &selected {
                match crate::runner::test_run::run_tests(m, &catalog).await {
                    Ok(results) => {
                        for r in results {
                            cases += 1;
                            if r.passed() {
                                passed += 1;
                                say!("ok    {} · {}", m.id(), r.name);
                            } else {
                                failed = true;
                                say!("FAIL  {} · {}", m.id(), r.name);
                                for f in &r.failures {
                                    say!("        {f}");
                                }
                            }
                        }
                    }
                    Err(e) => {
                        failed = true;
                        say!("FAIL  {} · {e}", m.id());
                    }
                }
            }
            say!("\n模型测试: {} 个模型, {cases} 个用例, 通过 {passed}, 失败 {}", selected.len(), cases - passed);
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Preview { model, as_of, params, limit } => {
            let m = one_model(&project, &model)?;
            let mut req = RunRequest::new(run_as_of(&project, as_of).await?);
            req.overrides = model_overrides(&m, &params)?;
            let (connectors, _) = load_connectors(&project)?;
            let runner = Runner::over_lake(&Lake::open(&project.lake)?, &Project::catalog(&connectors)).await?;
            let outcome = runner.run_model(&m, &req).await;
            if let Some(e) = &outcome.error {
                anyhow::bail!("{e}");
            }
            if !outcome.missing.is_empty() {
                anyhow::bail!(
                    "{} 未运行 not run: needs {} (`searchlight coverage` says what to map)",
                    m.id(),
                    outcome.missing.join(", ")
                );
            }
            output::preview(&m, &outcome, limit)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { model, as_of, params, sql } => {
            let m = one_model(&project, &model)?;
            let mut req = RunRequest::new(run_as_of(&project, as_of).await?);
            req.overrides = model_overrides(&m, &params)?;
            let (connectors, _) = load_connectors(&project)?;
            let runner = Runner::over_lake(&Lake::open(&project.lake)?, &Project::catalog(&connectors)).await?;
            if sql {
                say!("{}", runner.bound_sql(&m, &req)?);
            } else {
                say_raw!("{}", runner.explain(&m, &req).await?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Clues { state, flag, mark, area, unit, model, severity, new_since, all, as_of, limit, json } => {
            let status = parse_choice("--state", state, Status::parse, &Status::ALL.map(|x| x.name()).join(", "))?;
            let flag = parse_choice("--flag", flag, Flag::parse, "overdue, rectification-failed, excepted")?;
            let mark = parse_choice("--mark", mark, Mark::parse, "new, ongoing, resolved, reopened")?;
            let ledger = Ledger::open_existing(&project.ledger)?;
            if let Some(run) = &new_since {
                anyhow::ensure!(ledger.has_run(run)?, "--new-since {run}: no such run in {}", project.ledger.display());
            }
            let filter = ClueFilter {
                as_of,
                status,
                flag,
                all,
                mark,
                area,
                unit,
                model,
                severity,
                new_since,
                limit,
                ..Default::default()
            };
            let rows = ledger.clues(&filter)?;
            if json {
                say!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                output::clues_table(&rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Clue { command: ClueCommand::Show { id, as_of, json } } => {
            let as_of = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
            let Some(view) = Ledger::open_existing(&project.ledger)?.clue(&id, as_of)? else {
                anyhow::bail!("no clue `{id}` in {}", project.ledger.display());
            };
            if json {
                say!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                output::clue_view(&view);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Clue { command } => {
            let (act, step) = clue_step(command);
            let mut ledger = Ledger::open_existing(&project.ledger)?;
            let actor = act.by.clone().unwrap_or_else(default_actor);
            let event = ledger.act(&act.id, &actor, step, act.reason.as_deref())?;
            let state = ledger.work_state(&act.id, chrono::Local::now().date_naive())?;
            if act.json {
                say!("{}", serde_json::json!({ "event": event, "state": state }));
            } else {
                say!(
                    "{} {}: {} → 「{}」 ({}，{})",
                    act.id,
                    event.step.label(),
                    event.seq,
                    state.label,
                    actor,
                    event.at
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Paper { id, format, out, as_of } => {
            let (models, _) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
            let ledger = Ledger::open_existing(&project.ledger)?;
            let lake = Lake::open(&project.lake)?;
            let as_of = as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
            let (connectors, _) = load_connectors(&project)?;
            let labels = crate::model::labels::Labels::load(
                &project.models_dir().join("labels.toml"),
                &Project::catalog(&connectors),
            )?;
            let paper = crate::paper::build(&ledger, &lake, &models, &labels, &id, as_of, redactor()).await?;
            write_document(crate::paper::document(&paper), format, out.as_deref(), "问题底稿")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs { command: Some(RunsCommand::Withdraw { run, by, reason }), .. } => {
            let mut ledger = Ledger::open_existing(&project.ledger)?;
            let moved = ledger.withdraw_run(&run, &by, &reason, chrono::Utc::now())?;
            say!(
                "运行 {run} 已撤回 withdrawn: {moved} 条发现记录不再计入线索标记; 下一次运行按其余运行重新判断新增/持续/已消失 (by {by}: {reason})"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs { limit, json, command: None } => {
            let rows = Ledger::open_existing(&project.ledger)?.run_rows(limit)?;
            if json {
                say!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                output::runs_table(&rows);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => {
            // units to assign are checked against the directory of the lake, when it has one
            let directory = match &command {
                users::UserCommand::Grant { units, .. } if !units.is_empty() => {
                    let (connectors, _) = load_connectors(&project)?;
                    match Runner::over_lake(&Lake::open(&project.lake)?, &Project::catalog(&connectors)).await {
                        Ok(r) => r.directory().await.ok(),
                        Err(_) => None,
                    }
                }
                _ => None,
            };
            users::user(&project, command, directory.as_ref())
        }
        Command::Audit { user, since, limit, json } => {
            users::audit(&project, &crate::ledger::AccessFilter { who: user, since, limit: Some(limit) }, json)
        }
        Command::Reproject { check } => {
            let mut ledger = Ledger::open_existing(&project.ledger)?;
            if check {
                let differ = ledger.check_clue_state(50)?;
                for d in &differ {
                    say!("{d}");
                }
                if differ.is_empty() {
                    say!("线索状态与记录一致 the clue-state projection agrees with the recorded sightings and steps");
                    return Ok(ExitCode::SUCCESS);
                }
                say!(
                    "线索状态与记录不一致 the projection differs (first {} shown); `searchlight reproject` redraws it",
                    differ.len()
                );
                return Ok(ExitCode::from(1));
            }
            let n = ledger.rebuild_clue_state()?;
            say!("线索状态已重建 clue-state projection redrawn: {n} clues");
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { path } => {
            Ledger::open_existing(&project.ledger)?.backup(&path)?;
            say!("台账已备份 ledger backed up: {} → {}", project.ledger.display(), path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { quality: true, json, .. } => {
            let (all, _) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
            let ledger = Ledger::open_existing(&project.ledger)?;
            let per_setting = ledger.quality()?;
            let per_model = ledger.quality_by_model()?;
            if json {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "models": per_model, "settings": per_setting }))?
                );
            } else {
                output::quality_table(&all, &per_model, &per_setting);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Brief { unit, as_of, period, format, out, top } => {
            let (from, to) = match period.as_deref() {
                Some(p) => {
                    let (f, t) = p
                        .split_once("..")
                        .ok_or_else(|| anyhow::anyhow!("--period FROM..TO, e.g. 2025-01-01..2025-12-31"))?;
                    let date = |s: &str| {
                        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                            .map_err(|e| anyhow::anyhow!("--period: `{s}` is not a date (YYYY-MM-DD): {e}"))
                    };
                    let (f, t) = (date(f)?, date(t)?);
                    if f > t {
                        anyhow::bail!("--period: {f} is after {t}");
                    }
                    if as_of.is_some_and(|a| a != t) {
                        anyhow::bail!(
                            "--period ends on {t}, which is the brief's as-of date; --as-of {} disagrees",
                            as_of.unwrap_or(t)
                        );
                    }
                    (Some(f), Some(t))
                }
                None => (None, as_of),
            };
            let as_of = run_as_of(&project, to).await?;
            let (models, _) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
            let (connectors, _) = load_connectors(&project)?;
            let catalog = Project::catalog(&connectors);
            let lake = Lake::open(&project.lake)?;
            let runner = Runner::over_lake(&lake, &catalog).await?;
            let ledger = Ledger::open_existing(&project.ledger)?;
            let labels = crate::model::labels::Labels::load(&project.models_dir().join("labels.toml"), &catalog)?;
            let req = crate::brief::Request { unit, as_of, from, top, prepared_on: chrono::Local::now().date_naive() };
            let brief = crate::brief::build(&req, &ledger, &lake, &runner, &models, &labels, redactor()).await?;
            say_err!(
                "{}: 线索 {} 条, 下属单位 {} 个, 未能检查的模型 {} 个, 部分未检查的模型 {} 个",
                brief.unit.name,
                brief.clues.len(),
                brief.subordinates.len(),
                brief.models.iter().filter(|m| !m.checked.looked()).count(),
                brief.models.iter().filter(|m| m.checked.looked() && !m.checked.looked_everywhere()).count()
            );
            write_document(crate::brief::document(&brief), format, out.as_deref(), "巡前情况通报")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { markdown, .. } => {
            let (all, failed) = load_models(&project, &Select { models: Vec::new(), domain: None })?;
            if markdown {
                say_raw!("{}", output::models_markdown(&all));
            } else {
                output::models_table(&all);
            }
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Ingest { names, dry_run, as_of, force, chunk_mib } => {
            let mut opts = IngestOptions { force, chunk_bytes: chunk_mib.max(1) << 20, ..IngestOptions::default() };
            if let Some(d) = as_of {
                opts.as_of = d;
            }
            let (failed, _) = ingest(&project, &names, &opts, dry_run).await?;
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Lake {
            action: Some(LakeCommand::Gc { keep, grace, unrecorded_runs, dry_run, without_ledger, json }),
            ..
        } => {
            let lake = Lake::open(&project.lake)?;
            let policy = crate::lake::gc::Retention { keep: keep as usize, grace, unrecorded_runs };
            let done = crate::pipeline::collect_garbage(&project, &lake, &policy, dry_run, without_ledger).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&done)?);
            } else {
                output::collection(&done, &policy);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lake { action: None, name, json } => {
            let lake = Lake::open(&project.lake)?;
            match name {
                None if json => {
                    let mut all = Vec::new();
                    for n in lake.datasets().await? {
                        all.extend(lake.current(&n).await?);
                    }
                    say!("{}", serde_json::to_string_pretty(&all)?);
                }
                None => output::lake_table(&lake, &project).await?,
                Some(n) => output::dataset_detail(&lake, &n, json).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Datasets { markdown } => {
            if markdown {
                say_raw!("{}", crate::schema::catalog::markdown(crate::schema::Schema::bundled()));
                return Ok(ExitCode::SUCCESS);
            }
            let (ok, failed) = load_connectors(&project)?;
            output::datasets(&Project::catalog(&ok), &ok);
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Sql { query, json } => {
            let lake = Lake::open(&project.lake)?;
            let engine = Engine::local();
            let (connectors, _) = load_connectors(&project)?;
            engine.register_lake(&lake, &Project::catalog(&connectors)).await?;
            let limit = crate::limits::query_timeout();
            let batches = tokio::time::timeout(limit, async { engine.sql(&query).await?.collect().await })
                .await
                .map_err(|_| {
                    anyhow::anyhow!(
                        "查询超时 the query was cancelled after {} (--query-timeout or [engine] query_timeout)",
                        crate::limits::duration_text(limit)
                    )
                })??;
            output::batches(&batches, json)?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "demo")]
        Command::Fixtures { command: FixturesCommand::Ocds { processes, seed, out } } => {
            let started = std::time::Instant::now();
            let file = std::fs::File::create(&out).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            let bytes = crate::demo::ocds::write(processes, seed, &mut w)?;
            std::io::Write::flush(&mut w)?;
            say!(
                "生成完成: {processes} 个采购流程 processes, {}, 用时 {:.1}s → {}",
                crate::limits::bytes_text(bytes),
                started.elapsed().as_secs_f64(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Fixtures { command: FixturesCommand::Generate { seed, scale, batch_scale, out, only, layout } } => {
            let out = out.unwrap_or_else(|| match layout {
                crate::demo::Layout::A => project.fixtures_dir(),
                crate::demo::Layout::B => project.root.join("fixtures").join("demo-b"),
                crate::demo::Layout::C => project.root.join("fixtures").join("demo-c"),
            });
            let started = std::time::Instant::now();
            let report = crate::demo::generate(
                &crate::demo::Settings {
                    seed,
                    scale,
                    only,
                    layout,
                    batch_scale,
                    ..crate::demo::Settings::bundled(layout)
                },
                &out,
            )?;
            for (file, rows) in &report.files {
                say!("{rows:>10}  {}", file.display());
            }
            say!(
                "生成完成: {} 个文件, 用时 {:.1}s → {}",
                report.files.len(),
                started.elapsed().as_secs_f64(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An optional named choice, or an error listing the choices.
fn parse_choice<T>(
    option: &str,
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    choices: &str,
) -> anyhow::Result<Option<T>> {
    value.map(|v| parse(&v).ok_or_else(|| anyhow::anyhow!("{option} {v}: expected one of {choices}"))).transpose()
}

/// Who acts on the ledger: $SEARCHLIGHT_USER, else the login name.
fn default_actor() -> String {
    ["SEARCHLIGHT_USER", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// A workflow verb as the step it records.
fn clue_step(command: ClueCommand) -> (Act, Step) {
    match command {
        ClueCommand::Show { .. } => unreachable!("show is not a step"),
        ClueCommand::Triage { act, dismiss, to, person } => {
            let persons = person
                .iter()
                .map(|p| {
                    let (name, role) = p.split_once([':', '：']).unwrap_or((p, ""));
                    Person { name: name.trim().to_string(), role: role.trim().to_string() }
                })
                .collect();
            (act, Step::Triage { dismiss, route_to: to, persons })
        }
        ClueCommand::Assign { act, assignee, due } => (act, Step::Assign { to: assignee, due }),
        ClueCommand::Verify { act, result, amount, recovered } => {
            (act, Step::Verify { result, amount_involved: amount, amount_recovered: recovered })
        }
        ClueCommand::Dispose { act, action } => (act, Step::Dispose { action }),
        ClueCommand::Rectify { act, due } => (act, Step::Rectify { due }),
        ClueCommand::Close { act } => (act, Step::Close),
        ClueCommand::Note { act } => (act, Step::Note),
        ClueCommand::Except { act, until } => (act, Step::Except { until }),
    }
}

/// `--param NAME=VALUE` of a command about one model, as overrides of that model.
fn model_overrides(m: &Model, params: &[String]) -> anyhow::Result<Vec<(String, String, String)>> {
    params
        .iter()
        .map(|p| {
            let (n, v) = p.split_once('=').ok_or_else(|| anyhow::anyhow!("--param {p}: expected NAME=VALUE"))?;
            Ok((m.id().to_string(), n.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// `MODEL.NAME=VALUE` → (model, name, value).
fn parse_override(p: &str) -> anyhow::Result<(String, String, String)> {
    let (lhs, value) = p.split_once('=').ok_or_else(|| anyhow::anyhow!("--param {p}: expected MODEL.NAME=VALUE"))?;
    let (model, name) =
        lhs.rsplit_once('.').ok_or_else(|| anyhow::anyhow!("--param {p}: expected MODEL.NAME=VALUE"))?;
    Ok((model.trim().to_string(), name.trim().to_string(), value.trim().to_string()))
}

/// Loads the models a command applies to; broken ones are reported (and make the result true).
fn load_models(project: &Project, select: &Select) -> anyhow::Result<(Vec<Model>, bool)> {
    let (mut ok, failed) = reported(project.models()?);
    for id in &select.models {
        if !ok.iter().any(|m| m.id() == id) {
            anyhow::bail!("no model with id `{id}` in {}", project.models_dir().display());
        }
    }
    ok.retain(|m| {
        (select.models.is_empty() || select.models.iter().any(|id| id == m.id()))
            && select.domain.as_ref().is_none_or(|d| &m.spec.domain == d)
    });
    Ok((ok, failed))
}

fn one_model(project: &Project, id: &str) -> anyhow::Result<Model> {
    let (mut found, _) = load_models(project, &Select { models: vec![id.to_string()], domain: None })?;
    Ok(found.remove(0))
}

/// Runs the selected models, saves the run into the lake, records it and prints the summary.
/// Returns whether any model failed or could not look.
async fn run_models(
    project: &Project,
    select: &Select,
    req: RunRequest,
    json: bool,
    record: Option<crate::pipeline::Record>,
) -> anyhow::Result<bool> {
    let (models, mut failed) = load_models(project, select)?;
    // a mistyped or out-of-range override stops the run before anything runs
    for (id, _, _) in &req.overrides {
        let m = models.iter().find(|m| m.id() == id).ok_or_else(|| anyhow::anyhow!("--param: no model `{id}`"))?;
        m.bind(&req.overrides_for(id)).map_err(|e| anyhow::anyhow!("--param: {e}"))?;
    }
    let (connectors, _) = load_connectors(project)?;
    let lake = Lake::open(&project.lake)?;
    let (report, recorded) =
        crate::pipeline::run(project, &lake, &Project::catalog(&connectors), &models, &req, record.as_ref()).await?;
    if let Some(path) = recorded.as_ref().and_then(|r| r.created.as_ref()) {
        say_err!(
            "searchlight: 新建台账 created a new clue ledger at {} — every clue in it starts as new",
            path.display()
        );
    }
    let diff = recorded.map(|r| r.diff);
    for m in &report.models {
        if let Some(e) = &m.error {
            say_err!("searchlight: model {}: {e}", m.model);
        }
    }
    failed |= report.failed() > 0 || report.not_run() > 0;
    if json {
        // written straight from the report (a value tree of a run with 24 000 clues cost
        // hundreds of MiB and a second)
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            report: &'a crate::runner::RunReport,
            ledger: &'a Option<crate::ledger::LedgerDiff>,
        }
        say!("{}", serde_json::to_string_pretty(&Shown { report: &report, ledger: &diff })?);
    } else {
        output::run_table(&report);
        match &diff {
            Some(diff) => output::ledger_line(diff),
            None => say!("线索台账: 未记录 (试算) not recorded"),
        }
    }
    Ok(failed)
}

/// Loads every connector; a broken one is reported and the others are returned.
fn load_connectors(project: &Project) -> anyhow::Result<(Vec<Connector>, bool)> {
    Ok(reported(project.connectors()?))
}

/// Every connector that loads, and each that does not with the datasets it names (read off its
/// text, so advice never says "write a connector" for one that exists but is broken).
fn connectors_and_broken(project: &Project) -> anyhow::Result<(Vec<Connector>, Vec<crate::runner::coverage::Broken>)> {
    let mut ok = Vec::new();
    let mut broken = Vec::new();
    for item in project.connectors()? {
        match item {
            Ok(c) => ok.push(c),
            Err(e) => broken.push(crate::runner::coverage::Broken::of(&e)),
        }
    }
    Ok((ok, broken))
}

/// Splits loaded items into the good ones and whether any failed; each failure is printed.
fn reported<T, E: std::fmt::Display>(items: Vec<Result<T, E>>) -> (Vec<T>, bool) {
    let mut ok = Vec::new();
    let mut failed = false;
    for item in items {
        match item {
            Ok(x) => ok.push(x),
            Err(e) => {
                say_err!("searchlight: {e}");
                failed = true;
            }
        }
    }
    (ok, failed)
}

/// Ingests the named connectors (all when empty) through the pipeline seam and prints a summary;
/// a dry run lands into a throwaway in-memory lake and shows what would land. Returns whether
/// any failed.
async fn ingest(
    project: &Project,
    names: &[String],
    opts: &IngestOptions,
    dry_run: bool,
) -> anyhow::Result<(bool, std::collections::BTreeSet<String>)> {
    let lake = if dry_run { Lake::scratch()? } else { Lake::open(&project.lake)? };
    let (connectors, mut failed) = load_connectors(project)?;
    let catalog = Project::catalog(&connectors);
    let bar =
        |c: &Connector| -> Box<dyn crate::lake::Progress + Send + Sync> { Box::new(output::ProgressBar::new(&c.id)) };
    let results = crate::pipeline::ingest(project, &lake, &catalog, &connectors, names, opts, &bar).await?;
    let mut rows = Vec::new();
    let mut failed_datasets = std::collections::BTreeSet::new();
    for r in &results {
        match &r.result {
            Ok(outcomes) => {
                for o in outcomes {
                    let row = output::IngestRow::new(r.connector, o, r.elapsed);
                    // a dry run lands into a scratch lake: say what it would be in the real one
                    rows.push(if dry_run { row.against(&Lake::open(&project.lake)?).await? } else { row });
                }
            }
            Err(e) => {
                say_err!("searchlight: {}: {e}", r.connector.id);
                failed_datasets.extend(r.connector.datasets().map(str::to_string));
                for b in &r.connector.blocks {
                    rows.push(output::IngestRow::failed(r.connector, b, r.elapsed));
                }
                failed = true;
            }
        }
    }
    output::ingest_table(&rows);
    if dry_run {
        for r in &results {
            for o in r.result.iter().flatten() {
                output::dry_run_detail(&lake, o.manifest(), &catalog).await?;
            }
        }
        say!("\n试运行 dry run: 以上为将要入湖的内容，湖中未写入任何快照 (nothing was written to {})", project.lake);
    }
    Ok((failed, failed_datasets))
}

/// Refuses an `--as-of` later than today or (`against_lake`) than the newest snapshot's as-of,
/// unless `--as-of-beyond-data`: a run recorded at 2052-12-31 (meant 2025) would make every
/// later run on real data look historical until 2052.
async fn as_of_within_data(
    project: &Project,
    as_of: chrono::NaiveDate,
    beyond: bool,
    against_lake: bool,
) -> anyhow::Result<()> {
    if beyond {
        return Ok(());
    }
    let today = chrono::Local::now().date_naive();
    let newest = if against_lake {
        crate::pipeline::data_as_of(&Lake::open(&project.lake)?).await?.map(|(newest, _)| newest)
    } else {
        None
    };
    let mut after = Vec::new();
    if as_of > today {
        after.push(format!("today ({today})"));
    }
    if let Some(n) = newest.filter(|n| as_of > *n) {
        after.push(format!("the newest data in the lake ({n})"));
    }
    if after.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "--as-of {as_of} is later than {}: a run recorded at that date would make every later run on real data count as historical (no clue marked new, resolved or reopened). Check the date; to run ahead of the data on purpose, add --as-of-beyond-data. A run recorded by mistake is withdrawn with `searchlight runs withdraw RUN --by … --reason …`",
        after.join(" and ")
    )
}

/// The as-of a run binds: the one given, else the as-of of the newest snapshot in the lake
/// (said, with the oldest when they differ), else — an empty lake — today.
async fn run_as_of(project: &Project, given: Option<chrono::NaiveDate>) -> anyhow::Result<chrono::NaiveDate> {
    if let Some(d) = given {
        return Ok(d);
    }
    Ok(match crate::pipeline::data_as_of(&Lake::open(&project.lake)?).await? {
        Some((newest, oldest)) if newest != oldest => {
            say_err!(
                "searchlight: 数据截至 as-of {newest} (湖中最新快照的截至日期; 最早的快照截至 {oldest}, 各数据集截至日期不一)"
            );
            newest
        }
        Some((newest, _)) => {
            say_err!("searchlight: 数据截至 as-of {newest} (湖中快照的截至日期)");
            newest
        }
        None => chrono::Local::now().date_naive(),
    })
}

/// The `[database]` of `connector new --database URL …`: host, port, database and user from the
/// URL, credentials by environment variable only.
fn database_spec(
    url: &str,
    table: Option<String>,
    query: Option<String>,
    user_env: Option<String>,
    password_env: Option<String>,
    tls: &str,
) -> anyhow::Result<crate::connector::spec::DatabaseSpec> {
    use crate::connector::spec::{DatabaseKind, DatabaseSpec, TlsMode};
    if table.is_none() && query.is_none() {
        anyhow::bail!("--database: name the --table to read, or give a --query");
    }
    let u = url::Url::parse(url).map_err(|e| anyhow::anyhow!("--database {url}: {e} (postgres://HOST:PORT/DB)"))?;
    let kind = match u.scheme() {
        "postgres" | "postgresql" => DatabaseKind::Postgres,
        "mysql" | "mariadb" => DatabaseKind::Mysql,
        other => {
            anyhow::bail!("--database {url}: `{other}://` is not a database searchlight reads (postgres://, mysql://)")
        }
    };
    if u.password().is_some() {
        anyhow::bail!(
            "--database: a password does not belong in a URL (it would stay in the shell's history and the connector): put it in an environment variable and name it with --password-env"
        );
    }
    let host = u.host_str().filter(|h| !h.is_empty()).ok_or_else(|| anyhow::anyhow!("--database {url}: no host"))?;
    let database = u.path().trim_start_matches('/').to_string();
    if database.is_empty() {
        anyhow::bail!("--database {url}: name the database after the host (postgres://HOST:PORT/DB)");
    }
    let user = (!u.username().is_empty()).then(|| u.username().to_string());
    if user.is_none() && user_env.is_none() {
        anyhow::bail!(
            "--database: give the user in the URL (postgres://USER@HOST/DB) or name its environment variable with --user-env"
        );
    }
    let tls = match tls {
        "require" => TlsMode::Require,
        "verify-full" => TlsMode::VerifyFull,
        "disable" => TlsMode::Disable,
        other => anyhow::bail!("--tls {other}: require, verify-full or disable"),
    };
    Ok(DatabaseSpec {
        kind,
        host: host.to_string(),
        port: u.port(),
        database,
        user: user.filter(|_| user_env.is_none()),
        user_env,
        password_env,
        table,
        query,
        watermark: None,
        tls,
        ca_file: None,
        batch_rows: None,
        connect_timeout: None,
        time_zone: None,
    })
}

/// `searchlight ocds-flags [--settings FILE.ini] FILE | --params`.
fn ocds_flags(
    settings: Option<&std::path::Path>,
    params: bool,
    file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use crate::runner::red_flags::{self, Settings};
    let settings = match settings {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Settings::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Settings::all(),
    };
    let Some(file) = file.filter(|_| !params) else {
        for (model, name, value) in settings.model_params() {
            say!("--param '{model}.{name}={}'", value.replace('\'', "'\\''"));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let codes = settings.codes();
    let shown = file.display().to_string();
    let (results, skipped) = if file.as_os_str() == "-" {
        red_flags::run(std::io::stdin().lock(), settings)
    } else {
        let f = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        red_flags::run(std::io::BufReader::with_capacity(1 << 20, f), settings)
    }
    .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    say!("{}", serde_json::to_string(&results.to_json())?);
    say_err!(
        "红旗指标 red flags {}: {} 个采购流程 processes read, {} 个已排除 excluded (cancelled, excluded details, no ocid)",
        codes.join(" "),
        results.processes,
        results.excluded
    );
    for s in skipped.iter().take(10) {
        say_err!("  {shown}:{}: 跳过 skipped: {}", s.at, s.reason);
    }
    if skipped.len() > 10 {
        say_err!("  … and {} more lines skipped", skipped.len() - 10);
    }
    for (code, lacking) in &results.not_computable {
        for (what, n) in lacking {
            say_err!("  {code} 不可计算 not computable: {n} 个流程缺少 processes lack {what}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
