//! STAGE 3b · running models: binds parameters, plans each model's SQL with DataFusion over the
//! lake's current snapshots, and turns every returned row into evidence of a clue (问题线索).
//!
//! A clue's id derives from the model's stable id and the values of its entity-key columns only
//! — not from the SQL text or the thresholds — so the same problem keeps its id across runs and
//! edits. Rows sharing an entity key are one clue with several evidence rows. One failing model
//! is reported; the others still run.

pub mod report;
pub mod test_run;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use crate::connector::Connector;
use crate::engine::Engine;
use crate::lake::Lake;
use crate::model::{self, Model, ParamValue, params::AS_OF};
pub use report::{Clue, ModelOutcome, RunReport};

/// What to run with.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The date the data describes; bound as `$as_of`.
    pub as_of: chrono::NaiveDate,
    /// Parameter overrides: (model id, parameter, value as text).
    pub overrides: Vec<(String, String, String)>,
    /// Models run at once.
    pub concurrency: usize,
}

impl RunRequest {
    /// Defaults for a date.
    pub fn new(as_of: chrono::NaiveDate) -> Self {
        RunRequest {
            as_of,
            overrides: Vec::new(),
            concurrency: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
        }
    }

    /// The overrides of one model, as (parameter, value).
    pub fn overrides_for(&self, id: &str) -> Vec<(String, String)> {
        self.overrides.iter().filter(|(m, _, _)| m == id).map(|(_, n, v)| (n.clone(), v.clone())).collect()
    }
}

/// Runs models on one engine whose tables are the lake's current snapshots.
pub struct Runner {
    engine: Engine,
    /// dataset → snapshot id of the tables registered.
    snapshots: HashMap<String, String>,
}

/// What `check` learned about a model that plans.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Datasets it reads.
    pub reads: Vec<String>,
}

impl Runner {
    /// A runner over the lake's current snapshots. Datasets a connector declares but the lake
    /// does not hold yet are registered empty with the declared schema, so models still plan.
    pub async fn over_lake(lake: &Lake, connectors: &[Connector]) -> anyhow::Result<Runner> {
        let engine = Engine::local();
        let mut snapshots = HashMap::new();
        for m in engine.register_lake(lake).await? {
            snapshots.insert(m.dataset.clone(), m.snapshot.clone());
        }
        for c in connectors {
            if !engine.has_table(c.name()) {
                engine.register_batches(c.name(), c.schema(), Vec::new())?;
            }
        }
        Ok(Runner { engine, snapshots })
    }

    /// A runner over tables already registered on `engine` (model tests).
    pub fn over(engine: Engine) -> Runner {
        Runner { engine, snapshots: HashMap::new() }
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

    /// The model's query with its parameters (and `$as_of`) bound, as one SQL statement.
    pub fn bound_sql(&self, m: &Model, req: &RunRequest) -> Result<String, model::Error> {
        let values = bind(m, &req.overrides_for(m.id()))?;
        self.engine.bound_text(&m.text, &literals(&values, req.as_of)).map_err(|e| locate(m, &e))
    }

    /// Checks a model without running it: it plans (logical and physical) and its output has
    /// the entity, unit and amount columns the header names.
    pub async fn check(&self, m: &Model) -> Result<Checked, model::Error> {
        let values = bind(m, &[])?;
        let as_of = chrono::Local::now().date_naive();
        let df = self.plan(m, &values, as_of).await?;
        let columns: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
        check_columns(m, &columns)?;
        let reads = reads(df.logical_plan());
        df.create_physical_plan().await.map_err(|e| locate(m, &e))?;
        Ok(Checked { reads })
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

    /// Runs one model.
    pub async fn run_model(&self, m: &Model, req: &RunRequest) -> ModelOutcome {
        let started = Instant::now();
        let mut outcome = ModelOutcome::start(m);
        let result = async {
            let values = bind(m, &req.overrides_for(m.id()))?;
            outcome.params = values.iter().map(|(n, v)| (n.clone(), v.to_string())).collect();
            let df = self.plan(m, &values, req.as_of).await?;
            let columns: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
            check_columns(m, &columns)?;
            outcome.snapshots = reads(df.logical_plan())
                .into_iter()
                .map(|t| {
                    let s = self.snapshots.get(&t).cloned().unwrap_or_else(|| "-".into());
                    (t, s)
                })
                .collect::<BTreeMap<_, _>>();
            let batches = df.collect().await.map_err(|e| locate(m, &e))?;
            Ok::<_, model::Error>(batches)
        }
        .await;
        match result {
            Ok(batches) => match clues(m, &batches) {
                Ok(clues) => {
                    outcome.rows = batches.iter().map(|b| b.num_rows()).sum();
                    outcome.amount = m.spec.amount.as_ref().map(|_| clues.iter().filter_map(|c| c.amount).sum());
                    outcome.clues = clues;
                    outcome.batches = batches;
                }
                Err(e) => outcome.error = Some(e.to_string()),
            },
            Err(e) => outcome.error = Some(e.to_string()),
        }
        outcome.elapsed_ms = started.elapsed().as_millis() as u64;
        outcome
    }

    /// Runs models, several at once; outcomes come back in the order given.
    pub async fn run(&self, models: &[&Model], req: &RunRequest) -> Vec<ModelOutcome> {
        futures::stream::iter(models.iter())
            .map(|m| self.run_model(m, req))
            .buffered(req.concurrency.max(1))
            .collect()
            .await
    }
}

/// A model's parameter values (defaults, then overrides), with errors naming the model file.
fn bind(m: &Model, overrides: &[(String, String)]) -> Result<Vec<(String, ParamValue)>, model::Error> {
    m.bind(overrides).map_err(|message| model::Error { file: m.path.clone(), line: 0, column: 0, message })
}

/// Every parameter, and the as-of date, as SQL literal text by name.
fn literals(values: &[(String, ParamValue)], as_of: chrono::NaiveDate) -> HashMap<String, String> {
    let mut literals: HashMap<String, String> = values.iter().map(|(n, v)| (n.clone(), sql_literal(v))).collect();
    literals.insert(AS_OF.into(), sql_literal(&ParamValue::Date(as_of)));
    literals
}

/// A parameter value as a SQL literal of its type.
fn sql_literal(v: &ParamValue) -> String {
    match v {
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Float(x) => format!("CAST({x:?} AS DOUBLE)"),
        ParamValue::Money(_) => format!("CAST('{v}' AS DECIMAL(18, 2))"),
        ParamValue::Date(d) => format!("DATE '{d}'"),
        ParamValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
        ParamValue::Bool(b) => b.to_string().to_uppercase(),
    }
}

/// The datasets a plan reads (including inside subqueries).
fn reads(plan: &LogicalPlan) -> Vec<String> {
    let mut names = BTreeSet::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            names.insert(scan.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    names.into_iter().collect()
}

/// Maps a DataFusion error to a position in the model file where DataFusion knows one.
fn locate(m: &Model, e: &DataFusionError) -> model::Error {
    let mut line_col = e.diagnostic().and_then(|d| d.span).map(|s| (s.start.line as usize, s.start.column as usize));
    let text = e.strip_backtrace();
    if line_col.is_none() {
        // parser errors put the position in the message: "… at Line: 3, Column: 5"
        if let Some(at) = text.find("Line: ") {
            let rest = &text[at + 6..];
            let line = rest.split(',').next().and_then(|n| n.trim().parse().ok());
            let column = rest.find("Column: ").and_then(|c| {
                rest[c + 8..].chars().take_while(|ch| ch.is_ascii_digit()).collect::<String>().parse().ok()
            });
            if let (Some(l), Some(c)) = (line, column) {
                line_col = Some((l, c));
            }
        }
    }
    let (line, column) = line_col.unwrap_or((0, 0));
    let message = match e.diagnostic() {
        Some(d) => format!("{} ({})", d.message, first_line(&text)),
        None => first_line(&text).to_string(),
    };
    model::Error { file: m.path.clone(), line, column, message }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn check_columns(m: &Model, columns: &[String]) -> Result<(), model::Error> {
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
            return Err(model::Error {
                file: m.path.clone(),
                line: 0,
                column: 0,
                message: format!("the {role} column `{c}` is not in the output (columns: {})", columns.join(", ")),
            });
        }
    }
    Ok(())
}

/// Clue id: model id and entity-key values, nothing else.
pub fn clue_id(model_id: &str, entity: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(model_id.as_bytes());
    h.update(b"\x1f");
    h.update(entity.as_bytes());
    format!("C{}", &h.finalize().to_hex()[..16])
}

/// Groups a model's rows into clues by entity key, in first-seen order.
fn clues(m: &Model, batches: &[RecordBatch]) -> Result<Vec<Clue>, DataFusionError> {
    let fo = FormatOptions::default().with_null("");
    let mut out: Vec<Clue> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
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
        let amount: Option<Float64Array> = match &m.spec.amount {
            Some(a) => {
                let arr = cast(&col(a)?, &DataType::Float64)?;
                Some(arr.as_any().downcast_ref::<Float64Array>().expect("cast to Float64").clone())
            }
            None => None,
        };
        for r in 0..b.num_rows() {
            let values: Vec<String> = key_fmt.iter().map(|f| f.value(r).to_string()).collect();
            let entity = values.join("|");
            let i = *index.entry(entity.clone()).or_insert_with(|| {
                out.push(Clue {
                    id: clue_id(&m.spec.id, &entity),
                    entity: entity.clone(),
                    entity_values: values.clone(),
                    unit: unit_fmt.value(r).to_string(),
                    amount: None,
                    rows: Vec::new(),
                });
                out.len() - 1
            });
            let clue = &mut out[i];
            clue.rows.push(row0 + r);
            if let Some(a) = &amount {
                if a.is_valid(r) {
                    *clue.amount.get_or_insert(0.0) += a.value(r);
                }
            }
        }
        row0 += b.num_rows();
    }
    Ok(out)
}
