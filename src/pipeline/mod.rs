//! The pipeline seam — ingest → run → record — that the command line (and later the scheduler
//! and the server) call. The stages stay where they are; this module only orders them: file
//! connectors land before the derived datasets that read them, a derived dataset whose input
//! failed to land in the same ingest does not land either, and a run's clues are recorded in the
//! ledger in one transaction after its evidence is in the lake.

pub mod job;
pub mod turn;

pub use job::{JobReport, JobSpec, ModelChoice, Trigger, job};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::record_batch::RecordBatch;

use crate::connector::{Connector, Source};
use crate::engine::Engine;
use crate::lake::{IngestOptions, Lake, Outcome, Progress};
use crate::ledger::{Ledger, LedgerDiff, Recording};
use crate::model::Model;
use crate::project::Project;
use crate::runner::{RunReport, RunRequest, Runner};
use crate::schema::Schema;

/// What ingesting one connector did.
#[derive(Debug)]
pub struct Ingested<'c> {
    /// The connector.
    pub connector: &'c Connector,
    /// One outcome per dataset it lands, or why it failed (the previous snapshots stay current).
    pub result: Result<Vec<Outcome>, String>,
    /// Time taken.
    pub elapsed: Duration,
}

/// Lands the chosen connectors (all when `names` is empty; a name is a connector id or a
/// dataset it lands): file connectors first, then derived datasets once what they read has
/// landed. `progress` gives each connector its progress reporter.
pub async fn ingest<'c>(
    project: &Project,
    lake: &Lake,
    catalog: &Schema,
    connectors: &'c [Connector],
    names: &[String],
    opts: &IngestOptions,
    progress: &dyn Fn(&Connector) -> Box<dyn Progress + Send + Sync>,
) -> anyhow::Result<Vec<Ingested<'c>>> {
    for n in names {
        if !connectors.iter().any(|c| c.answers_to(n)) {
            anyhow::bail!(
                "no connector named `{n}`, and none lands a dataset `{n}`, in {}",
                project.connectors_dir().display()
            );
        }
    }
    let chosen: Vec<&Connector> =
        connectors.iter().filter(|c| names.is_empty() || names.iter().any(|n| c.answers_to(n))).collect();
    let mut out = Vec::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for conn in chosen.iter().filter(|c| c.reads_outside()) {
        let started = Instant::now();
        let bar = progress(conn);
        let result = lake.ingest(conn, &project.root, opts, bar.as_ref()).await.map_err(|e| e.to_string());
        if result.is_err() {
            failed.extend(conn.datasets().map(str::to_string));
        }
        out.push(Ingested { connector: conn, result, elapsed: started.elapsed() });
    }
    // derived datasets in dependency order: each waits for the derived datasets it reads
    let mut pending: Vec<&Connector> = chosen.into_iter().filter(|c| !c.reads_outside()).collect();
    let probe = Engine::probe(catalog)?;
    let mut reads: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &pending {
        reads.insert(c.id.clone(), derived_reads(&probe, c).await.unwrap_or_default());
    }
    while !pending.is_empty() {
        let waiting: BTreeSet<&str> = pending.iter().flat_map(|c| c.datasets()).collect();
        let ready = pending.iter().position(|c| reads[&c.id].iter().all(|d| !waiting.contains(d.as_str())));
        // a cycle: take the first anyway, its missing input will say why
        let conn = pending.remove(ready.unwrap_or(0));
        let started = Instant::now();
        let broken: Vec<&String> = reads[&conn.id].iter().filter(|d| failed.contains(*d)).collect();
        let result = if !broken.is_empty() {
            Err(format!(
                "not derived: the ingest of {} failed in this run, and a derived dataset is never made from stale data",
                broken.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
            ))
        } else {
            derive(lake, catalog, conn, opts).await.map(|o| vec![o])
        };
        if result.is_err() {
            failed.extend(conn.datasets().map(str::to_string));
        }
        out.push(Ingested { connector: conn, result, elapsed: started.elapsed() });
    }
    Ok(out)
}

/// The datasets a derived connector's query reads.
async fn derived_reads(probe: &Engine, c: &Connector) -> Result<Vec<String>, String> {
    let Source::Derived { sql } = &c.source else { return Ok(Vec::new()) };
    let df = probe.sql_bound(sql, &Default::default()).await.map_err(|e| e.strip_backtrace())?;
    Ok(crate::runner::inputs::Inputs::of(df.logical_plan()).reads.into_keys().collect())
}

/// Lands a derived dataset: its query over the lake's current snapshots, cast to the dataset's
/// canonical columns, as a snapshot whose manifest names the snapshots it read.
pub async fn derive(lake: &Lake, catalog: &Schema, conn: &Connector, opts: &IngestOptions) -> Result<Outcome, String> {
    let Source::Derived { sql } = &conn.source else { return Err("not a derived connector".into()) };
    let block = &conn.blocks[0];
    let shown = conn.path.display().to_string();
    let engine = Engine::local();
    let manifests = engine.register_lake(lake, catalog).await.map_err(|e| e.to_string())?;
    let df = engine.sql_bound(sql, &Default::default()).await.map_err(|e| derive_error(conn, sql, &e))?;
    let read = crate::runner::inputs::Inputs::of(df.logical_plan());
    let mut inputs = BTreeMap::new();
    for d in read.reads.keys() {
        match manifests.iter().find(|m| &m.dataset == d) {
            Some(m) => {
                inputs.insert(d.clone(), m.snapshot.clone());
            }
            None => {
                return Err(format!(
                    "{shown}: derive reads `{d}`, which has no snapshot in the lake yet (ingest it first)"
                ));
            }
        }
    }
    let out_schema = df.schema().as_arrow().clone();
    for f in out_schema.fields() {
        if !block.columns.contains_key(f.name()) && !f.name().ends_with("_valid") {
            return Err(format!(
                "{shown}: the query returns `{}`, which is not a column of `{}` (a column of your own: declare it under [columns] with `type` and `extra = true`)",
                f.name(),
                block.name
            ));
        }
    }
    let batches = df.collect().await.map_err(|e| derive_error(conn, sql, &e))?;
    let target = block.schema();
    let opts_cast = CastOptions { safe: false, ..Default::default() };
    let mut landed = Vec::new();
    let mut outside: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for b in &batches {
        let mut cols: Vec<ArrayRef> = Vec::new();
        for f in target.fields() {
            let col = match b.schema().index_of(f.name()) {
                Ok(i) => cast_with_options(b.column(i), f.data_type(), &opts_cast)
                    .map_err(|e| format!("{shown}: column `{}`: {e}", f.name()))?,
                // `<code>_valid` the query did not return: computed from its code column
                Err(_) => {
                    let code = f.name().strip_suffix("_valid");
                    let rule = code.and_then(|c| block.columns.get(c)).and_then(|c| c.kind.validity_rule());
                    match (code.and_then(|c| b.schema().index_of(c).ok()), rule) {
                        (Some(i), Some(rule)) => validity(b.column(i), rule),
                        _ => new_null_array(f.data_type(), b.num_rows()),
                    }
                }
            };
            cols.push(col);
        }
        let loose = Arc::new(datafusion::arrow::datatypes::Schema::new(
            target.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>(),
        ));
        // value words folded onto the canonical ones, and words outside a closed set counted,
        // as landing does for exports
        let cols = cols
            .into_iter()
            .zip(target.fields())
            .map(|(col, f)| match block.columns.get(f.name()) {
                Some(c) => fold_words(col, c, f.name(), &mut outside),
                None => col,
            })
            .collect();
        let batch = RecordBatch::try_new(loose, cols).map_err(|e| e.to_string())?;
        let batch = RecordBatch::try_new(target.clone(), batch.columns().to_vec()).map_err(|_| {
            format!(
                "{shown}: the query returns rows without a key ({}): filter them out in the query",
                block.key.join(", ")
            )
        })?;
        landed.push(batch);
    }
    let provided: Vec<bool> = block.columns.keys().map(|c| out_schema.field_with_name(c).is_ok()).collect();
    lake.land_derived(conn, landed, provided, inputs, outside, opts).await.map_err(|e| e.to_string())
}

/// A text column of a derived dataset with its words folded: the connector's `values`, then the
/// value set's synonyms (在职 → 在职, 离退 → 离退休); a word outside a closed set is kept and
/// counted in `outside`.
fn fold_words(
    col: ArrayRef,
    c: &crate::connector::Col,
    name: &str,
    outside: &mut BTreeMap<String, BTreeMap<String, u64>>,
) -> ArrayRef {
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    if (c.values.is_empty() && c.set.is_none()) || col.data_type() != &datafusion::arrow::datatypes::DataType::Utf8 {
        return col;
    }
    let text = col.as_string::<i32>();
    let folded: StringArray = (0..text.len())
        .map(|i| {
            if text.is_null(i) {
                return None;
            }
            let v = text.value(i);
            let clean = crate::codes::text::clean(v);
            let mapped = c.values.get(clean.as_ref()).map(String::as_str).unwrap_or(clean.as_ref());
            let Some(set) = &c.set else { return Some(mapped.to_string()) };
            if mapped.is_empty() {
                return Some(mapped.to_string());
            }
            Some(match set.fold(mapped) {
                Some(w) => w.to_string(),
                None => {
                    if !set.open {
                        *outside.entry(name.to_string()).or_default().entry(mapped.to_string()).or_insert(0) += 1;
                    }
                    mapped.to_string()
                }
            })
        })
        .collect();
    Arc::new(folded)
}

/// A derived dataset's query error at its line and column in the connector file (the query's
/// own position, moved to where the query sits in the TOML; else the `derive` key's line).
fn derive_error(conn: &Connector, sql: &str, e: &datafusion::error::DataFusionError) -> String {
    let (at, message) = crate::engine::error_position(e);
    let text = std::fs::read_to_string(&conn.path).unwrap_or_default();
    let start = text.find(sql).or_else(|| text.find("derive")).unwrap_or(0);
    let (line0, col0) = crate::position::line_col(&text, start);
    let (line, column) = match at {
        Some((1, c)) => (line0, col0 + c - 1),
        Some((l, c)) => (line0 + l - 1, c),
        None => (line0, col0),
    };
    format!("{}:{line}:{column}: derive: {message}", conn.path.display())
}

/// `<code>_valid` for an ID or credit-code column a query returned without it.
fn validity(codes: &ArrayRef, check: fn(&str) -> bool) -> ArrayRef {
    use datafusion::arrow::array::{Array, BooleanArray, StringArray};
    let text = cast_with_options(codes, &datafusion::arrow::datatypes::DataType::Utf8, &CastOptions::default())
        .unwrap_or_else(|_| new_null_array(&datafusion::arrow::datatypes::DataType::Utf8, codes.len()));
    let s = text.as_any().downcast_ref::<StringArray>().expect("utf8");
    Arc::new(s.iter().map(|v| v.map(check)).collect::<BooleanArray>())
}

/// How a run is recorded in the ledger.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The lake changed on purpose (moved, rebuilt): record against it anyway.
    pub new_lake: bool,
    /// Start a ledger at a given path that does not exist yet.
    pub new_ledger: bool,
    /// What started the run (`None`: the command line).
    pub trigger: Option<String>,
    /// Execute every model: replay no earlier result, even where nothing changed.
    pub full: bool,
}

/// What recording did, beyond the marks.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub diff: LedgerDiff,
    /// The ledger was created by this run (at this path).
    pub created: Option<std::path::PathBuf>,
}

/// Opens the ledger a run records into. The default ledger is created on first use; a given
/// path (--ledger) that does not exist is refused unless `new_ledger` — a typo must not start
/// an empty ledger in which every clue looks new.
pub(crate) fn ledger_for_recording(project: &Project, record: &Record) -> anyhow::Result<(Ledger, bool)> {
    if project.ledger.exists() {
        return Ok((Ledger::open(&project.ledger)?, false));
    }
    if project.ledger_given && !record.new_ledger {
        anyhow::bail!(
            "没有台账 no ledger at {} (a mistyped --ledger / SEARCHLIGHT_LEDGER?); pass --new-ledger to start one there",
            project.ledger.display()
        );
    }
    Ok((Ledger::open(&project.ledger)?, true))
}

/// Applies a retention policy to the lake, keeping every snapshot and run folder that the
/// ledger's recorded runs refer to. The ledger must exist and be this lake's (its pins are what
/// make removal safe); `without_ledger` accepts a lake that no ledger records.
pub async fn collect_garbage(
    project: &Project,
    lake: &Lake,
    policy: &crate::lake::gc::Retention,
    dry_run: bool,
    without_ledger: bool,
) -> anyhow::Result<crate::lake::gc::Collection> {
    let pins = if without_ledger {
        Default::default()
    } else {
        if !project.ledger.exists() {
            anyhow::bail!(
                "没有台账 no ledger at {}: lake gc keeps every snapshot that a recorded run read, so it needs the ledger that records runs on this lake (--ledger); pass --without-ledger if no ledger records this lake",
                project.ledger.display()
            );
        }
        let (pins, ledger_lake) = Ledger::open(&project.ledger)?.pins()?;
        let this = lake.identity().await?;
        if let Some(recorded) = ledger_lake
            && this.as_deref() != Some(recorded.as_str())
        {
            anyhow::bail!(
                "本台账记录的是另一个湖 the ledger {} records lake {recorded}, not this one ({}, {}): its runs cannot say what this lake must keep; check --lake / --ledger",
                project.ledger.display(),
                this.as_deref().unwrap_or("no identity"),
                project.lake
            );
        }
        pins
    };
    Ok(lake.collect_garbage(policy, &pins, chrono::Utc::now(), dry_run).await?)
}

/// The as-of dates of the lake's current snapshots: (newest, oldest), or `None` for an empty
/// lake. A run's default as-of is the newest — the date its data describes, not the clock.
pub async fn data_as_of(lake: &Lake) -> anyhow::Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>> {
    let mut dates = Vec::new();
    for d in lake.datasets().await? {
        if let Some(m) = lake.current(&d).await?
            && let Ok(date) = m.as_of.parse::<chrono::NaiveDate>()
        {
            dates.push(date);
        }
    }
    Ok(dates.iter().max().copied().zip(dates.iter().min().copied()))
}

/// Runs models over the lake's current snapshots, saves the run's evidence into the lake and,
/// when `record` is given, records it in the ledger (after checking, before anything runs,
/// that the ledger is this lake's).
pub async fn run(
    project: &Project,
    lake: &Lake,
    catalog: &Schema,
    models: &[Model],
    req: &RunRequest,
    record: Option<&Record>,
) -> anyhow::Result<(RunReport, Option<Recorded>)> {
    let recording = match record {
        Some(r) => {
            let (ledger, created) = ledger_for_recording(project, r)?;
            let on = Recording {
                lake_url: project.lake.as_str().to_string(),
                lake_id: lake.identity().await?,
                new_lake: r.new_lake,
                trigger: r.trigger.clone(),
                job_run: None,
                at: None,
            };
            ledger.check_lake(&on)?;
            Some((ledger, created, on))
        }
        None => None,
    };
    let mut req = req.clone();
    if let (Some((ledger, _, _)), Some(r)) = (&recording, record)
        && !r.full
    {
        req.previous = ledger.previous_outcomes()?;
    }
    let runner = Runner::over_lake_on(Engine::for_runs().await?, lake, catalog).await?;
    let started = chrono::Utc::now();
    let refs: Vec<&Model> = models.iter().collect();
    let outcomes = runner.run(&refs, &req).await;
    let mut report = RunReport {
        run: RunReport::new_id(started),
        as_of: req.as_of.to_string(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        models: outcomes,
    };
    report.save(lake).await?;
    let recorded = match recording {
        Some((mut ledger, created, on)) => {
            Some(Recorded { diff: ledger.record_on(&report, &on)?, created: created.then(|| project.ledger.clone()) })
        }
        None => None,
    };
    Ok((report, recorded))
}
