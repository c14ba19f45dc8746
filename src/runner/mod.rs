//! STAGE 3b · running models: binds parameters, plans each model's SQL with DataFusion over the
//! lake's current snapshots, and turns every returned row into evidence of a clue (问题线索).
//!
//! A clue's id derives from the model's stable id and the values of its entity-key columns only
//! — not from the SQL text or the thresholds — so the same problem keeps its id across runs and
//! edits. Rows sharing an entity key are one clue with several evidence rows. One failing model
//! is reported; the others still run.

pub mod carry;
pub mod coverage;
pub mod identity;
pub mod increment;
pub mod inputs;
pub mod nulls;
pub mod red_flags;
pub mod report;
pub mod routes;
pub mod test_run;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{cast, filter_record_batch, is_not_null, is_null};
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use crate::engine::Engine;
use crate::lake::{Lake, Manifest};
use crate::model::{self, Model, ParamValue, params::AS_OF};
use crate::schema::Schema;
use crate::units;
pub use carry::{ENGINE, Previous};
pub use identity::clue_id;
pub use inputs::{Assessment, Availability, Inputs};
pub use report::{Clue, ModelOutcome, RunReport, Status};

/// What to run with.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The date the data describes; bound as `$as_of`.
    pub as_of: chrono::NaiveDate,
    /// Parameter overrides: (model id, parameter, value as text).
    pub overrides: Vec<(String, String, String)>,
    /// Models run at once.
    pub concurrency: usize,
    /// Datasets whose ingest failed in this pipeline: models that read one do not run.
    pub failed_ingests: std::collections::BTreeSet<String>,
    /// A job's timeout: a model still running then is cancelled and fails (its clues stay as
    /// they were); the models that finished keep their results.
    pub deadline: Option<tokio::time::Instant>,
    /// Each model's last recorded result that looked (from the ledger): a model whose inputs
    /// did not change since is replayed from it rather than executed ([`carry`]). Empty: every
    /// model is executed (`--full`, or a run that records nothing).
    pub previous: HashMap<String, Previous>,
    /// A result is computed afresh once the run that computed it is this many days of data
    /// older than this run.
    pub sweep_days: u32,
}

/// Days of data after which a carried result is computed afresh, by default.
pub const SWEEP_DAYS: u32 = 7;

impl RunRequest {
    /// Defaults for a date.
    pub fn new(as_of: chrono::NaiveDate) -> Self {
        RunRequest {
            as_of,
            overrides: Vec::new(),
            concurrency: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            failed_ingests: Default::default(),
            deadline: None,
            previous: HashMap::new(),
            sweep_days: SWEEP_DAYS,
        }
    }

    /// The overrides of one model, as (parameter, value).
    pub fn overrides_for(&self, id: &str) -> Vec<(String, String)> {
        self.overrides.iter().filter(|(m, _, _)| m == id).map(|(_, n, v)| (n.clone(), v.clone())).collect()
    }
}

/// Runs models on one engine whose tables are the lake's current snapshots, each in its
/// dataset's canonical shape (so every model plans, and its plan says what it reads).
pub struct Runner {
    engine: Engine,
    /// dataset → manifest of the snapshot registered
    manifests: HashMap<String, Manifest>,
    available: Availability,
    /// dataset → title, and `dataset.column` → label, to name a route and what it lacks in words
    titles: HashMap<String, String>,
    /// The lake the snapshots are in (where earlier runs' evidence is replayed from).
    lake: Option<Lake>,
}

/// What `check` learned about a model that plans.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Datasets and columns it reads.
    pub inputs: Inputs,
    /// Whether it can run on the data there is.
    pub assessment: Assessment,
    /// Predicates that silently drop NULLs ([`nulls`]).
    pub warnings: Vec<String>,
}

impl Runner {
    /// A runner over the lake's current snapshots, each under its dataset's definition in
    /// `schema` (the canonical schema with the project's own datasets). Datasets the lake
    /// lacks are registered empty with their canonical shape, so every model plans; whether
    /// it may run is decided by what the lake really has.
    pub async fn over_lake(lake: &Lake, schema: &Schema) -> anyhow::Result<Runner> {
        Self::over_lake_on(Engine::local(), lake, schema).await
    }

    /// [`Self::over_lake`] on a given engine ([`Engine::for_runs`]: a cluster, when one is set).
    pub async fn over_lake_on(engine: Engine, lake: &Lake, schema: &Schema) -> anyhow::Result<Runner> {
        let manifests = engine.register_lake(lake, schema).await?;
        let available = Availability::of_manifests(&manifests);
        let manifests = manifests.into_iter().map(|m| (m.dataset.clone(), m)).collect();
        let titles = schema
            .datasets
            .values()
            .flat_map(|d| {
                std::iter::once((d.name.clone(), d.title.clone()))
                    .chain(d.columns.values().map(move |c| (format!("{}.{}", d.name, c.name), c.label.clone())))
            })
            .collect();
        Ok(Runner { engine, manifests, available, titles, lake: Some(lake.clone()) })
    }

    /// A runner over tables already registered on `engine` in their canonical shape, all taken
    /// as present (model tests).
    pub fn over(engine: Engine) -> Runner {
        Runner { engine, manifests: HashMap::new(), available: Availability::All, titles: HashMap::new(), lake: None }
    }

    /// What the data has.
    pub fn available(&self) -> &Availability {
        &self.available
    }

    /// Binds a model's parameters and plans it (nothing runs).
    pub async fn plan(
        &self,
        m: &Model,
        values: &[(String, ParamValue)],
        as_of: chrono::NaiveDate,
    ) -> Result<DataFrame, model::Error> {
        self.engine.sql_bound(&m.text, &literals(values, as_of)).await.map_err(|e| locate(m, &e))
    }

    /// Binds and plans a model and optimises the plan: the plan that runs, and what it reads.
    async fn optimized(
        &self,
        m: &Model,
        values: &[(String, ParamValue)],
        as_of: chrono::NaiveDate,
    ) -> Result<(LogicalPlan, Inputs), model::Error> {
        let df = self.plan(m, values, as_of).await?;
        let plan = df.into_optimized_plan().map_err(|e| locate(m, &e))?;
        let inputs = Inputs::of(&plan);
        Ok((plan, inputs))
    }

    /// What a model reads, from its plan. An error here is an error in the model (a misspelt
    /// column), never a county's missing data: every canonical column is there to plan with.
    pub async fn inputs(&self, m: &Model) -> Result<Inputs, model::Error> {
        let values = bind(m, &[])?;
        Ok(self.optimized(m, &values, chrono::NaiveDate::default()).await?.1)
    }

    /// What a model reads, and whether (and along which routes) it can look at what `have`
    /// holds.
    pub async fn assess(&self, m: &Model, have: &Availability) -> Result<(Inputs, Assessment), model::Error> {
        let values = bind(m, &[])?;
        let (plan, inputs) = self.optimized(m, &values, chrono::NaiveDate::default()).await?;
        let assessment = self.judge(m, &plan, &inputs, have);
        Ok((inputs, assessment))
    }

    /// [`inputs::judge`], with each blind route named by its dataset's title.
    fn judge(&self, m: &Model, plan: &LogicalPlan, inputs: &Inputs, have: &Availability) -> Assessment {
        let mut a = inputs::judge(m, plan, inputs, have);
        for r in &mut a.blind_routes {
            let first = r.route.first().cloned().unwrap_or_default();
            r.title = self.titles.get(&first).cloned().unwrap_or_default();
            r.shown = r
                .missing
                .iter()
                .map(|m| match self.titles.get(m) {
                    Some(label) => format!("{label}({m})"),
                    None => m.clone(),
                })
                .collect();
        }
        a
    }

    /// Checks a model without running it: it plans (logical and physical) over the canonical
    /// schema, its output has the entity, unit and amount columns the header names, its
    /// `optional` and `one_of` entries name inputs it reads; and says whether the data there is
    /// lets it run.
    pub async fn check(&self, m: &Model) -> Result<Checked, model::Error> {
        let values = bind(m, &[])?;
        let as_of = chrono::Local::now().date_naive();
        let df = self.plan(m, &values, as_of).await?;
        check_columns(m, df.schema().as_arrow())?;
        let warnings = nulls::warnings(df.logical_plan());
        let plan = df.clone().into_optimized_plan().map_err(|e| locate(m, &e))?;
        let inputs = Inputs::of(&plan);
        let unread = inputs::unread_declarations(m, &inputs);
        if !unread.is_empty() {
            return Err(model::Error {
                file: m.path.clone(),
                line: 0,
                column: 0,
                message: format!(
                    "`optional`/`one_of` name inputs the model does not read: {} (it reads: {})",
                    unread.join(", "),
                    inputs
                        .reads
                        .iter()
                        .map(|(d, c)| format!("{d}({})", c.iter().cloned().collect::<Vec<_>>().join(", ")))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            });
        }
        if let Some(inc) = &m.spec.incremental {
            let read = inputs.reads.get(&inc.table);
            for col in std::iter::once(&inc.key).chain(inc.as_of.iter()) {
                if !read.is_some_and(|cols| cols.contains(col)) {
                    return Err(model::Error {
                        file: m.path.clone(),
                        line: 0,
                        column: 0,
                        message: format!(
                            "[incremental] names `{}.{col}`, which the model does not read (it reads: {})",
                            inc.table,
                            inputs.reads.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            }
        }
        df.create_physical_plan().await.map_err(|e| locate(m, &e))?;
        let assessment = self.judge(m, &plan, &inputs, &self.available);
        let mut warnings = warnings;
        warnings.extend(inputs::optional_but_needed(m, &plan));
        Ok(Checked { inputs, assessment, warnings })
    }

    /// The model's query with its parameters (and `$as_of`) bound, as one SQL statement.
    pub fn bound_sql(&self, m: &Model, req: &RunRequest) -> Result<String, model::Error> {
        let values = bind(m, &req.overrides_for(m.id()))?;
        self.engine.bound_text(&m.text, &literals(&values, req.as_of)).map_err(|e| locate(m, &e))
    }

    /// The plan DataFusion would execute, as text.
    pub async fn explain(&self, m: &Model, req: &RunRequest) -> Result<String, model::Error> {
        let values = bind(m, &req.overrides_for(m.id()))?;
        let df = self.plan(m, &values, req.as_of).await?;
        let batches =
            df.explain(false, false).map_err(|e| locate(m, &e))?.collect().await.map_err(|e| locate(m, &e))?;
        let mut out = String::new();
        for b in &batches {
            let plan_type = b.column(0);
            let plan = b.column(1);
            let fo = FormatOptions::default();
            let (t, p) = (ArrayFormatter::try_new(plan_type, &fo), ArrayFormatter::try_new(plan, &fo));
            if let (Ok(t), Ok(p)) = (t, p) {
                for i in 0..b.num_rows() {
                    out.push_str(&format!("── {} ──\n{}\n", t.value(i), p.value(i)));
                }
            }
        }
        Ok(out)
    }

    /// Runs one model. A model whose core inputs are missing does not run: its outcome says
    /// what it needs, and the ledger leaves its clues as they were.
    pub async fn run_model(&self, m: &Model, req: &RunRequest) -> ModelOutcome {
        let started = Instant::now();
        let mut outcome = ModelOutcome::start(m);
        let result = async {
            let values = bind(m, &req.overrides_for(m.id()))?;
            outcome.params = values.iter().map(|(n, v)| (n.clone(), v.to_string())).collect();
            // one plan: it says what the model reads, and it is the plan that runs
            let (plan, inputs) = self.optimized(m, &values, req.as_of).await?;
            let verdict = self.judge(m, &plan, &inputs, &self.available);
            outcome.without = verdict.without.clone();
            outcome.blind_routes = verdict.blind_routes.clone();
            if !verdict.can_run() {
                outcome.missing = verdict.missing;
                return Ok(None);
            }
            outcome.stale = inputs.reads.keys().filter(|d| req.failed_ingests.contains(*d)).cloned().collect();
            if !outcome.stale.is_empty() {
                return Ok(None);
            }
            outcome.warnings = self.warnings(&inputs);
            check_columns(m, plan.schema().as_arrow())?;
            outcome.snapshots = inputs
                .reads
                .keys()
                .map(|t| {
                    let s = self.manifests.get(t).map(|m| m.snapshot.clone()).unwrap_or_else(|| "-".into());
                    (t.clone(), s)
                })
                .collect::<BTreeMap<_, _>>();
            // what a model could not assess is not in its recorded evidence: it is computed afresh
            let assesses = plan.schema().fields().iter().any(|f| f.name() == UNASSESSED);
            if !assesses && let Some(batches) = self.replayed(m, &mut outcome, req).await {
                return Ok(Some(batches));
            }
            if !assesses && let Some(batches) = self.updated(m, &values, &mut outcome, req).await {
                return Ok(Some(batches));
            }
            let batches = self.engine.execute(&plan).await.map_err(|e| locate(m, &e))?;
            Ok::<_, model::Error>(Some(batches))
        }
        .await;
        match result {
            Ok(Some(batches)) => match split_unassessed(m, batches).and_then(|(b, u)| Ok((clues(m, &b)?, b, u))) {
                Ok((clues, batches, (unassessed, unassessed_clues))) => {
                    outcome.unassessed = unassessed;
                    outcome.unassessed_clues = unassessed_clues;
                    outcome.rows = batches.iter().map(|b| b.num_rows()).sum();
                    outcome.amount =
                        m.spec.amount.as_ref().map(|_| {
                            crate::codes::text::sum_fen(clues.iter().filter_map(|c| c.amount_fen)) as f64 / 100.0
                        });
                    outcome.clues = clues;
                    outcome.batches = batches;
                }
                Err(e) => outcome.error = Some(e.to_string()),
            },
            Ok(None) => {}
            Err(e) => outcome.error = Some(e.to_string()),
        }
        outcome.status = if outcome.error.is_some() {
            Status::Failed
        } else if !outcome.missing.is_empty() || !outcome.stale.is_empty() {
            Status::NotRun
        } else if !outcome.blind_routes.is_empty() || !outcome.unassessed.is_empty() {
            Status::Partial
        } else if !outcome.without.is_empty() {
            Status::RanWithout
        } else {
            Status::Ran
        };
        outcome.elapsed_ms = started.elapsed().as_millis() as u64;
        outcome
    }

    /// The model's rows replayed from its last recorded result, when nothing it depends on
    /// changed since ([`carry`]); `None` when it must be executed (a replay that cannot read
    /// the earlier evidence executes, and says why in the outcome's warnings).
    async fn replayed(&self, m: &Model, outcome: &mut ModelOutcome, req: &RunRequest) -> Option<Vec<RecordBatch>> {
        let prev = req.previous.get(m.id())?;
        let lake = self.lake.as_ref()?;
        if !carry::may_replay(prev, m, outcome, req.as_of, req.sweep_days) {
            return None;
        }
        match carry::replay(lake, prev).await {
            Ok(batches) => {
                outcome.carried_from = Some(prev.computed_by.clone());
                outcome.updates = prev.updates;
                Some(batches)
            }
            Err(e) => {
                outcome.warnings.push(format!("输入未变, 但无法沿用上次结果, 已重新计算: {e}"));
                None
            }
        }
    }

    /// The model's rows updated from its last recorded result over the keys its growing table's
    /// new rows touch ([`increment`]); `None` when it must be computed in full (and, when an
    /// update was possible in principle but failed, a warning says why).
    async fn updated(
        &self,
        m: &Model,
        values: &[(String, ParamValue)],
        outcome: &mut ModelOutcome,
        req: &RunRequest,
    ) -> Option<Vec<RecordBatch>> {
        let inc = m.spec.incremental.as_ref()?;
        let prev = req.previous.get(m.id())?;
        let lake = self.lake.as_ref()?;
        let before_id = increment::may_update(prev, m, inc, outcome, req.as_of)?;
        let now = self.manifests.get(&inc.table)?;
        let attempt = async {
            let before = lake
                .manifest(&inc.table, before_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{} 的上次快照 {before_id} 已不在湖中", inc.table))?;
            // not an append (a re-issued export): computed in full, which is no news
            let Some(delta) = increment::added(&before, now) else { return Ok(None) };
            let plan = self.plan(m, values, req.as_of).await.map_err(|e| e.message)?.logical_plan().clone();
            increment::update(&self.engine, lake, inc, prev, &delta, plan, req.as_of).await.map(Some)
        };
        match attempt.await {
            Ok(Some((batches, inc))) => {
                outcome.increment = Some(inc);
                outcome.updates = prev.updates + 1;
                Some(batches)
            }
            Ok(None) => None,
            Err(e) => {
                outcome.warnings.push(format!("无法增量计算, 已全量重新计算: {e}"));
                None
            }
        }
    }

    /// Words outside their value sets in the columns a model reads: the model ran, but what
    /// it compares with may not mean what it expects.
    fn warnings(&self, inputs: &Inputs) -> Vec<String> {
        let mut out = Vec::new();
        for (d, cols) in &inputs.reads {
            let Some(m) = self.manifests.get(d) else { continue };
            for c in cols {
                if let Some(n) = m.possibly_truncated.get(c) {
                    out.push(format!(
                        "{d}.{c}: {n} 个以000结尾的身份证号可能被Excel截断(本文件有截断痕迹)，据此关联的疑点须核实"
                    ));
                }
                if let Some(words) = m.values_outside.get(c) {
                    let rows: u64 = words.values().sum();
                    let shown: Vec<String> = words.iter().take(5).map(|(w, n)| format!("{w} {n}")).collect();
                    out.push(format!("{d}.{c}: {rows} 行取值不在规范取值中({})，请在连接器中映射", shown.join("、")));
                }
            }
        }
        out
    }

    /// Runs models, several at once; outcomes come back in the order given. Each clue's unit
    /// value is resolved against the lake's directory of units, when it has one.
    pub async fn run(&self, models: &[&Model], req: &RunRequest) -> Vec<ModelOutcome> {
        let mut outcomes: Vec<ModelOutcome> = futures::stream::iter(models.iter())
            .map(|m| async move {
                // the job's deadline, or the query timeout from the model's start, whichever first
                let limit = crate::limits::query_timeout();
                let own = tokio::time::Instant::now() + limit;
                match req.deadline {
                    Some(d) if tokio::time::Instant::now() >= d => timed_out(m),
                    Some(d) if d <= own => {
                        tokio::time::timeout_at(d, self.run_model(m, req)).await.unwrap_or_else(|_| timed_out(m))
                    }
                    _ => tokio::time::timeout_at(own, self.run_model(m, req))
                        .await
                        .unwrap_or_else(|_| over_time(m, limit)),
                }
            })
            .buffered(req.concurrency.max(1))
            .collect()
            .await;
        if let Ok(dir) = self.directory().await
            && !dir.is_empty()
        {
            for (m, o) in models.iter().zip(&mut outcomes) {
                let region = units::is_region_column(&m.spec.unit);
                for c in &mut o.clues {
                    if let units::Resolution::Unit(i, _) = dir.resolve(&c.unit, region) {
                        c.unit_code = Some(dir.units[i].code.clone());
                    }
                }
            }
        }
        outcomes
    }

    /// A read-only query over the registered tables (registries for briefs).
    pub async fn query(&self, sql: &str) -> anyhow::Result<Vec<RecordBatch>> {
        Ok(self.engine.sql(sql).await?.collect().await?)
    }

    /// The lake's directory of inspected units (empty when the lake has none).
    pub async fn directory(&self) -> anyhow::Result<units::Directory> {
        let batches = self.engine.sql(units::QUERY).await?.collect().await?;
        Ok(units::Directory::from_batches(&batches))
    }
}

/// The outcome of a model cancelled before it finished (its clues are left as they were).
fn cancelled(m: &Model, why: String) -> ModelOutcome {
    let mut o = ModelOutcome::start(m);
    o.status = report::Status::Failed;
    o.error = Some(why);
    o
}

/// Cancelled at the job's timeout.
fn timed_out(m: &Model) -> ModelOutcome {
    cancelled(
        m,
        "timed out: cancelled at the job's timeout before it finished (its clues are left as they were)".into(),
    )
}

/// Cancelled at the query timeout.
fn over_time(m: &Model, limit: std::time::Duration) -> ModelOutcome {
    cancelled(
        m,
        format!(
            "timed out: {} ran longer than the query timeout of {} (--query-timeout or [engine] query_timeout) and was cancelled; its clues are left as they were, the other models ran",
            m.id(),
            crate::limits::duration_text(limit)
        ),
    )
}

/// A model's parameter values (defaults, then overrides), with errors naming the model file.
fn bind(m: &Model, overrides: &[(String, String)]) -> Result<Vec<(String, ParamValue)>, model::Error> {
    m.bind(overrides).map_err(|message| model::Error { file: m.path.clone(), line: 0, column: 0, message })
}

/// Every parameter, and the as-of date, as typed values by name.
fn literals(values: &[(String, ParamValue)], as_of: chrono::NaiveDate) -> crate::engine::Params {
    let mut out: crate::engine::Params = values.iter().map(|(n, v)| (n.clone(), scalar(v))).collect();
    out.insert(AS_OF.into(), scalar(&ParamValue::Date(as_of)));
    out
}

/// A parameter value as a typed SQL value.
fn scalar(v: &ParamValue) -> datafusion::common::ScalarValue {
    use datafusion::common::ScalarValue;
    match v {
        ParamValue::Int(i) => ScalarValue::Int64(Some(*i)),
        ParamValue::Float(x) => ScalarValue::Float64(Some(*x)),
        ParamValue::Money(cents) => ScalarValue::Decimal128(Some(*cents), 18, 2),
        ParamValue::Date(d) => ScalarValue::Date32(Some(
            d.signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32,
        )),
        ParamValue::Text(s) => ScalarValue::Utf8(Some(s.clone())),
        ParamValue::Bool(b) => ScalarValue::Boolean(Some(*b)),
    }
}

/// Maps a DataFusion error to a position in the model file where DataFusion knows one; a query
/// over the memory limit says so, naming the limit.
fn locate(m: &Model, e: &DataFusionError) -> model::Error {
    if matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)) {
        return model::Error {
            file: m.path.clone(),
            line: 0,
            column: 0,
            message: format!(
                "memory limit: {} needs more than the {} its queries may use ({}% of the process's {}, --memory-limit or SEARCHLIGHT_MEMORY_LIMIT): {}; the other models ran",
                m.id(),
                crate::limits::bytes_text(crate::limits::query_memory()),
                crate::limits::POOL_SHARE_PERCENT,
                crate::limits::bytes_text(crate::limits::memory()),
                e.find_root().strip_backtrace()
            ),
        };
    }
    let (at, message) = crate::engine::error_position(e);
    let (line, column) = at.unwrap_or((0, 0));
    model::Error { file: m.path.clone(), line, column, message }
}

/// The output has the entity, unit, amount and labelled columns the header names, and every
/// entity column has a type that can identify a clue.
fn check_columns(m: &Model, schema: &datafusion::arrow::datatypes::Schema) -> Result<(), model::Error> {
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let err = |message: String| model::Error { file: m.path.clone(), line: 0, column: 0, message };
    let named = m
        .spec
        .entity
        .iter()
        .map(|c| ("entity", c))
        .chain([("unit", &m.spec.unit)])
        .chain(m.spec.amount.iter().map(|a| ("amount", a)))
        .chain(m.spec.labels.keys().map(|l| ("labelled", l)));
    for (role, c) in named {
        if !columns.iter().any(|x| x == c) {
            return Err(err(format!("the {role} column `{c}` is not in the output (columns: {})", columns.join(", "))));
        }
    }
    for c in &m.spec.entity {
        if let Some(why) = schema.field_with_name(c).ok().and_then(|f| identity::entity_type_error(f.data_type())) {
            return Err(err(format!("the entity column `{c}` {why}")));
        }
    }
    Ok(())
}

/// A clue's own severity from a model's `severity` column; anything else keeps the header's.
fn clue_severity(v: &str) -> Option<String> {
    match v.trim() {
        "high" | "高" => Some("high".into()),
        "medium" | "中" => Some("medium".into()),
        "low" | "低" => Some("low".into()),
        _ => None,
    }
}

/// The output column in which a model says what a row could not assess and why
/// (`缺投标截止时间`): such a row is no clue, and its entity is not "no problem".
pub const UNASSESSED: &str = "unassessed";

/// What a model could not assess: words → how many rows, and the (clue id, entity key) each
/// such row's entity would have.
type Unassessed = (BTreeMap<String, u64>, Vec<(String, String)>);

/// Splits a model's rows into its clue rows (without the `unassessed` column) and what it could
/// not assess.
fn split_unassessed(m: &Model, batches: Vec<RecordBatch>) -> Result<(Vec<RecordBatch>, Unassessed), DataFusionError> {
    let at = batches.first().and_then(|b| b.schema().index_of(UNASSESSED).ok());
    let Some(at) = at else { return Ok((batches, Default::default())) };
    let (mut found, mut lacking) = (Vec::with_capacity(batches.len()), Vec::new());
    for b in &batches {
        let why = b.column(at);
        let mut kept = filter_record_batch(b, &is_null(why)?)?;
        kept.remove_column(at);
        found.push(kept);
        let lacks = filter_record_batch(b, &is_not_null(why)?)?;
        if lacks.num_rows() > 0 {
            lacking.push(lacks);
        }
    }
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let fo = FormatOptions::default();
    for b in &lacking {
        let why = ArrayFormatter::try_new(b.column(at).as_ref(), &fo)?;
        for r in 0..b.num_rows() {
            *reasons.entry(why.value(r).to_string()).or_default() += 1;
        }
    }
    let ids = clues(m, &lacking)?.into_iter().map(|c| (c.id, c.entity)).collect();
    Ok((found, (reasons, ids)))
}

/// Groups a model's rows into clues by entity key, in first-seen order.
fn clues(m: &Model, batches: &[RecordBatch]) -> Result<Vec<Clue>, DataFusionError> {
    let fo = FormatOptions::default().with_null("");
    let mut out: Vec<Clue> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut contents: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut row0 = 0usize;
    for b in batches {
        let col = |name: &str| -> Result<ArrayRef, DataFusionError> {
            b.column_by_name(name).cloned().ok_or_else(|| DataFusionError::Plan(format!("no column `{name}`")))
        };
        let keys: Vec<ArrayRef> = m.spec.entity.iter().map(|c| col(c)).collect::<Result<_, _>>()?;
        let key_fmt: Vec<ArrayFormatter> =
            keys.iter().map(|a| ArrayFormatter::try_new(a.as_ref(), &fo)).collect::<Result<_, _>>()?;
        let unit = col(&m.spec.unit)?;
        let unit_fmt = ArrayFormatter::try_new(unit.as_ref(), &fo)?;
        let severity = b.column_by_name("severity").map(|a| ArrayFormatter::try_new(a.as_ref(), &fo)).transpose()?;
        // money in 分, exactly: the evidence's decimal (or a float rounded to the fen once)
        let amount: Option<ArrayRef> = match &m.spec.amount {
            Some(a) => Some(cast(&col(a)?, &DataType::Decimal128(38, 2))?),
            None => None,
        };
        let amount = amount.as_ref().map(|a| a.as_primitive::<Decimal128Type>());
        let all_fmt: Vec<ArrayFormatter> =
            b.columns().iter().map(|a| ArrayFormatter::try_new(a.as_ref(), &fo)).collect::<Result<_, _>>()?;
        let typed: Vec<Vec<identity::KeyValue>> = keys.iter().map(identity::column_values).collect::<Result<_, _>>()?;
        for r in 0..b.num_rows() {
            let values: Vec<String> = key_fmt.iter().map(|f| f.value(r).to_string()).collect();
            let key: Vec<identity::KeyValue> = typed.iter().map(|col| col[r].clone()).collect();
            let id = clue_id(&m.spec.id, key);
            let i = *index.entry(id.clone()).or_insert_with(|| {
                let entity = values.join("|");
                out.push(Clue {
                    id,
                    legacy_id: identity::legacy_clue_id(&m.spec.id, &entity),
                    entity,
                    entity_values: values.clone(),
                    unit: unit_fmt.value(r).to_string(),
                    unit_code: None,
                    amount: None,
                    amount_fen: None,
                    severity: severity.as_ref().and_then(|f| clue_severity(&f.value(r).to_string())),
                    rows: Vec::new(),
                    evidence_key: String::new(),
                });
                out.len() - 1
            });
            let clue = &mut out[i];
            clue.rows.push(row0 + r);
            let text: Vec<String> = all_fmt.iter().map(|f| f.value(r).to_string()).collect();
            contents.entry(i).or_default().push(text.join("\u{1f}"));
            if let Some(a) = &amount
                && a.is_valid(r)
            {
                let fen = clue.amount_fen.get_or_insert(0);
                *fen = fen.saturating_add(i64::try_from(a.value(r)).unwrap_or(i64::MAX));
                clue.amount = Some(*fen as f64 / 100.0);
            }
        }
        row0 += b.num_rows();
    }
    for (i, mut rows) in contents {
        rows.sort();
        let mut h = blake3::Hasher::new();
        for r in &rows {
            h.update(&(r.len() as u64).to_be_bytes());
            h.update(r.as_bytes());
        }
        out[i].evidence_key = h.finalize().to_hex()[..16].to_string();
    }
    Ok(out)
}
