//! The query engine shared by every stage that runs SQL: a DataFusion `SessionContext` with
//! searchlight's SQL functions registered and the lake's current snapshots as tables.
//!
//! Only this module builds a `SessionContext`: [`Engine::local`] in this process, or
//! [`Engine::cluster`] on a DataFusion Ballista cluster (`cluster.rs`, feature `cluster`), which
//! model runs take through [`Engine::for_runs`]. Tables are `ListingTable`s over the lake's
//! Parquet parts, wrapped in their canonical shape, which `cluster::Codec` carries to a
//! cluster.

pub mod canonical;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod udf;

use std::sync::Arc;

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::metadata::ScalarAndMetadata;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::config::Dialect;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{LogicalPlan, Statement as PlanStatement};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast;

use crate::lake::{Lake, Manifest};
use crate::schema::{Dataset, Schema};

/// A configured DataFusion session.
#[derive(Clone)]
pub struct Engine {
    ctx: SessionContext,
}

impl Default for Engine {
    fn default() -> Self {
        Self::local()
    }
}

static RUNTIME: std::sync::OnceLock<Arc<datafusion::execution::runtime_env::RuntimeEnv>> = std::sync::OnceLock::new();

/// One runtime for every engine of the process: one memory pool (queries that exceed it fail
/// with `ResourcesExhausted`, or spill to disk where DataFusion can), so no query takes the
/// process down.
fn runtime() -> Arc<datafusion::execution::runtime_env::RuntimeEnv> {
    RUNTIME
        .get_or_init(|| {
            let limit = usize::try_from(crate::limits::query_memory()).unwrap_or(usize::MAX);
            datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
                .with_memory_pool(Arc::new(datafusion::execution::memory_pool::TrackConsumersPool::new(
                    datafusion::execution::memory_pool::FairSpillPool::new(limit),
                    std::num::NonZeroUsize::new(5).expect("5 is not 0"),
                )))
                .build_arc()
                .expect("a runtime with a memory pool")
        })
        .clone()
}

impl Engine {
    /// An in-process engine using every core, its queries within the process's memory limit.
    pub fn local() -> Engine {
        let mut config = SessionConfig::new().with_information_schema(true);
        config.options_mut().sql_parser.collect_spans = true;
        config.options_mut().sql_parser.enable_ident_normalization = false;
        let ctx = SessionContext::new_with_config_rt(config, runtime());
        for f in udf::functions() {
            ctx.register_udf((*f).clone());
        }
        for f in udf::aggregates() {
            ctx.register_udaf((*f).clone());
        }
        Engine { ctx }
    }

    /// The engine model runs use: on the Ballista cluster named by `--cluster` or `[engine]
    /// cluster` when there is one (feature `cluster`), else [`Self::local`].
    pub async fn for_runs() -> anyhow::Result<Engine> {
        match crate::limits::cluster() {
            None => Ok(Engine::local()),
            Some(url) => Engine::cluster(&url).await,
        }
    }

    /// An engine whose queries run on the Ballista cluster at `url` (`df://host:port`).
    #[cfg(feature = "cluster")]
    pub async fn cluster(url: &str) -> anyhow::Result<Engine> {
        let (host, port) = cluster::scheduler_address(url).map_err(anyhow::Error::msg)?;
        // a cluster that cannot be reached fails the run before any model, rather than every
        // model one by one
        let reach =
            tokio::time::timeout(std::time::Duration::from_secs(10), tokio::net::TcpStream::connect((host, port)));
        match reach.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => anyhow::bail!("集群不可达 cannot reach the Ballista scheduler at {url}: {e}"),
            Err(_) => anyhow::bail!("集群不可达 cannot reach the Ballista scheduler at {url}: no answer in 10 s"),
        }
        let ctx = cluster::connect(url, &runtime()).await?;
        Ok(Engine { ctx })
    }

    /// Without the `cluster` feature there is no cluster to run on.
    #[cfg(not(feature = "cluster"))]
    pub async fn cluster(url: &str) -> anyhow::Result<Engine> {
        anyhow::bail!(
            "`{url}`: this searchlight was built without cluster support (build it with `cargo build --release --features cluster`)"
        )
    }

    /// The underlying DataFusion context.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Registers one snapshot of a dataset as table `name`, exactly as it was landed.
    pub async fn register_snapshot(&self, lake: &Lake, name: &str, m: &Manifest) -> Result<()> {
        let table = self.listing(lake, m).await?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, table)?;
        Ok(())
    }

    async fn listing(&self, lake: &Lake, m: &Manifest) -> Result<Arc<ListingTable>> {
        let (root, store) = lake.store();
        self.ctx.register_object_store(&root, store);
        let urls = lake.part_urls(m).iter().map(|u| ListingTableUrl::parse(u.as_str())).collect::<Result<Vec<_>>>()?;
        let mut config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(listing_options())
            .infer_schema(&self.ctx.state())
            .await?;
        // every column may be NULL, whatever this snapshot holds: a model plans the same over
        // every county's lake (a column without NULLs today must not let the optimiser drop
        // `x IS NULL OR …`, nor hide what the model reads)
        if let Some(file) = config.file_schema.take() {
            let fields: Vec<_> = file.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
            config = config.with_schema(Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
                fields,
                file.metadata().clone(),
            )));
        }
        Ok(Arc::new(ListingTable::try_new(config)?))
    }

    /// Registers a snapshot under its dataset's canonical schema: every column of the
    /// definition is there with its canonical type (NULL where the snapshot lacks it), the
    /// snapshot's own extra columns after them ([`canonical::CanonicalTable`]). A snapshot that
    /// already has every column is registered as it is.
    pub async fn register_canonical(&self, lake: &Lake, def: &Dataset, m: &Manifest) -> Result<()> {
        let table = self.listing(lake, m).await?;
        let have = datafusion::datasource::TableProvider::schema(table.as_ref());
        let fits = def
            .arrow_schema()
            .fields()
            .iter()
            .all(|f| have.field_with_name(f.name()).is_ok_and(|h| h.data_type() == f.data_type()));
        self.ctx.deregister_table(def.name.as_str())?;
        if fits {
            self.ctx.register_table(def.name.as_str(), table)?;
        } else {
            self.ctx.register_table(def.name.as_str(), Arc::new(canonical::CanonicalTable::new(table, def)))?;
        }
        Ok(())
    }

    /// Registers every dataset of the lake at its current snapshot, under its definition in
    /// `schema` when it has one; every dataset of `schema` the lake lacks is an empty table of
    /// its canonical shape, so models plan whatever a county has. Returns the manifests.
    pub async fn register_lake(&self, lake: &Lake, schema: &Schema) -> anyhow::Result<Vec<Manifest>> {
        let mut out = Vec::new();
        for name in lake.datasets().await? {
            if let Some(m) = lake.current(&name).await? {
                match schema.dataset(&name) {
                    Some(def) => self.register_canonical(lake, def, &m).await?,
                    None => self.register_snapshot(lake, &name, &m).await?,
                }
                out.push(m);
            }
        }
        for def in schema.datasets.values() {
            if !self.has_table(&def.name) {
                self.register_batches(&def.name, def.arrow_schema(), Vec::new())?;
            }
        }
        Ok(out)
    }

    /// An engine whose tables are every dataset of `schema`, empty: for planning a query to see
    /// what it reads, without any data.
    pub fn probe(schema: &Schema) -> Result<Engine> {
        let e = Engine::local();
        for def in schema.datasets.values() {
            e.register_batches(&def.name, def.arrow_schema(), Vec::new())?;
        }
        Ok(e)
    }

    /// Registers in-memory batches as table `name` (model tests).
    pub fn register_batches(&self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
        let table = MemTable::try_new(schema, vec![batches])?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }

    /// Whether a table of that name is registered.
    pub fn has_table(&self, name: &str) -> bool {
        self.ctx.table_exist(name).unwrap_or(false)
    }

    /// Plans a read-only SQL query (`searchlight sql`): DDL (`CREATE EXTERNAL TABLE` over any
    /// path), DML (`INSERT`, `COPY … TO`) and statements (`SET`) are refused.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        self.ctx.sql_with_options(sql, read_only()).await
    }

    /// Plans one query whose `$name` placeholders are bound to typed values. The placeholders
    /// are declared with their types (as a prepared statement), the query is planned once, and
    /// the values go into the plan as literals ([`LogicalPlan::with_param_values`]) — never
    /// rendered into SQL text and parsed again, so a quote in a text or a NaN in a float is a
    /// value, not syntax. Positions in errors stay those of `text`; a placeholder without a
    /// value is an error; anything but one read-only query is refused.
    pub async fn sql_bound(&self, text: &str, values: &Params) -> Result<DataFrame> {
        let (statement, order) = self.bind(text, values)?;
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        let LogicalPlan::Statement(PlanStatement::Prepare(prepared)) = plan else {
            return Err(DataFusionError::Internal("a bound query plans as a prepared statement".into()));
        };
        let input = Arc::unwrap_or_clone(prepared.input);
        read_only().verify_plan(&input)?;
        let plan = if order.is_empty() {
            input
        } else {
            let typed = order
                .into_iter()
                .zip(&prepared.fields)
                .map(|(v, f)| v.cast_to(f.data_type()).map(ScalarAndMetadata::from))
                .collect::<Result<Vec<_>>>()?;
            input.with_param_values(ParamValues::List(typed))?
        };
        self.ctx.execute_logical_plan(plan).await
    }

    /// Runs an optimised logical plan to the end (it is not optimised again).
    pub async fn execute(&self, plan: &datafusion::logical_expr::LogicalPlan) -> Result<Vec<RecordBatch>> {
        let state = self.ctx.state();
        let physical = state.query_planner().create_physical_plan(plan, &state).await?;
        datafusion::physical_plan::collect(physical, self.ctx.task_ctx()).await
    }

    /// The query with its placeholders shown as literals, as SQL text — for reading, or for
    /// running on another engine; [`Self::sql_bound`] never plans from this text.
    pub fn bound_text(&self, text: &str, values: &Params) -> Result<String> {
        let state = self.ctx.state();
        let (statement, order) = self.bind(text, values)?;
        let Statement::Statement(prepared) = statement else { unreachable!("bind makes a statement") };
        let ast::Statement::Prepare { statement: mut inner, .. } = *prepared else {
            unreachable!("bind makes a prepared statement")
        };
        let mut shown = Vec::new();
        for v in &order {
            shown.push(state.sql_to_expr(&literal_text(v), &Dialect::Generic)?);
        }
        let _ = ast::visit_expressions_mut(inner.as_mut(), |e| {
            if let ast::Expr::Value(v) = e
                && let ast::Value::Placeholder(p) = &v.value
                && let Some(lit) = p.trim_start_matches('$').parse::<usize>().ok().and_then(|i| shown.get(i - 1))
            {
                *e = lit.clone();
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(inner.to_string())
    }

    /// Parses one query, renames its `$name` placeholders to positions (`$1` …, one per name)
    /// and declares their types: a `PREPARE` of the query, and the values in position order.
    fn bind(&self, text: &str, values: &Params) -> Result<(Statement, Vec<ScalarValue>)> {
        let state = self.ctx.state();
        let statement = state.sql_to_statement(text, &Dialect::Generic)?;
        let Statement::Statement(mut inner) = statement else {
            return Err(DataFusionError::Plan("expected one SELECT query".into()));
        };
        if !matches!(inner.as_ref(), ast::Statement::Query(_)) {
            return Err(DataFusionError::Plan("a model is one SELECT (or WITH … SELECT) query".into()));
        }
        let mut position: HashMap<String, usize> = HashMap::new();
        let mut order: Vec<ScalarValue> = Vec::new();
        let flow = ast::visit_expressions_mut(inner.as_mut(), |e| {
            if let ast::Expr::Value(v) = e {
                if let ast::Value::Placeholder(p) = &v.value {
                    let name = p.trim_start_matches(['$', ':']).to_string();
                    let Some(value) = values.get(&name) else {
                        return ControlFlow::Break(format!("no value for parameter `{p}`"));
                    };
                    let k = *position.entry(name).or_insert_with(|| {
                        order.push(value.clone());
                        order.len()
                    });
                    v.value = ast::Value::Placeholder(format!("${k}"));
                }
            }
            ControlFlow::Continue(())
        });
        if let ControlFlow::Break(message) = flow {
            return Err(DataFusionError::Plan(message));
        }
        let data_types = order.iter().map(|v| sql_type(&v.data_type())).collect::<Result<Vec<_>>>()?;
        let prepared = ast::Statement::Prepare { name: ast::Ident::new("bound"), data_types, statement: inner };
        Ok((Statement::Statement(Box::new(prepared)), order))
    }
}

/// How a snapshot's parts are read (the same here and on a cluster's scheduler).
fn listing_options() -> ListingOptions {
    ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet")
}

/// Parameter values by name, typed.
pub type Params = std::collections::BTreeMap<String, ScalarValue>;

/// What SQL may do here: read. No DDL, no DML, no statements.
fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// The SQL type a parameter is declared with.
fn sql_type(t: &DataType) -> Result<ast::DataType> {
    Ok(match t {
        DataType::Int64 => ast::DataType::BigInt(None),
        DataType::Float64 => ast::DataType::Double(ast::ExactNumberInfo::None),
        DataType::Decimal128(p, s) => {
            ast::DataType::Decimal(ast::ExactNumberInfo::PrecisionAndScale(*p as u64, (*s).max(0) as i64))
        }
        DataType::Date32 => ast::DataType::Date,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => ast::DataType::Text,
        DataType::Boolean => ast::DataType::Boolean,
        other => return Err(DataFusionError::Plan(format!("a parameter cannot be of type {other}"))),
    })
}

/// A value as SQL literal text, for showing a bound query.
fn literal_text(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Float64(Some(x)) => format!("CAST('{x:?}' AS DOUBLE)"),
        ScalarValue::Decimal128(Some(_), p, s) => format!("CAST('{v}' AS DECIMAL({p}, {s}))"),
        ScalarValue::Date32(Some(_)) => format!("DATE '{v}'"),
        ScalarValue::Utf8(Some(t)) | ScalarValue::Utf8View(Some(t)) => format!("'{}'", t.replace('\'', "''")),
        ScalarValue::Boolean(Some(b)) => b.to_string().to_uppercase(),
        other => other.to_string(),
    }
}

/// Where in the SQL text an error is (1-based line and column, when DataFusion knows) and its
/// message in one line.
pub fn error_position(e: &DataFusionError) -> (Option<(usize, usize)>, String) {
    let mut at = e.diagnostic().and_then(|d| d.span).map(|s| (s.start.line as usize, s.start.column as usize));
    let text = e.strip_backtrace();
    if at.is_none() {
        // parser errors put the position in the message: "… at Line: 3, Column: 5"
        if let Some(i) = text.find("Line: ") {
            let rest = &text[i + 6..];
            let line = rest.split(',').next().and_then(|n| n.trim().parse().ok());
            let column = rest.find("Column: ").and_then(|c| {
                rest[c + 8..].chars().take_while(|ch| ch.is_ascii_digit()).collect::<String>().parse().ok()
            });
            if let (Some(l), Some(c)) = (line, column) {
                at = Some((l, c));
            }
        }
    }
    let first = text.lines().next().unwrap_or(&text).to_string();
    let message = match e.diagnostic() {
        Some(d) => format!("{} ({first})", d.message),
        None => first,
    };
    (at, message)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray};

    use super::*;

    async fn one(e: &Engine, sql: &str, params: &[(&str, ScalarValue)]) -> Result<RecordBatch> {
        let params: Params = params.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        let batches = e.sql_bound(sql, &params).await?.collect().await?;
        Ok(datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches)?)
    }

    #[tokio::test]
    async fn parameters_are_typed_values_in_the_plan_never_sql_text() {
        let e = Engine::local();
        let quote = "O'Brien'); DROP TABLE x; --\"$t";
        let b = one(
            &e,
            "SELECT $t AS t, $nan AS nan, $inf AS inf, $nan = $nan AS same, $d + 1 AS next, $m * 2 AS m, length($t) AS n",
            &[
                ("t", ScalarValue::Utf8(Some(quote.into()))),
                ("nan", ScalarValue::Float64(Some(f64::NAN))),
                ("inf", ScalarValue::Float64(Some(f64::NEG_INFINITY))),
                ("d", ScalarValue::Date32(Some(20_000))),
                ("m", ScalarValue::Decimal128(Some(150), 18, 2)),
            ],
        )
        .await
        .unwrap();
        let text = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
        assert_eq!(text.as_string::<i32>().value(0), quote, "the text arrives as written");
        let nan = b.column(1).as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(0);
        assert!(nan.is_nan());
        let inf = b.column(2).as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(0);
        assert_eq!(inf, f64::NEG_INFINITY);
        assert_eq!(b.column(4).data_type(), &DataType::Date32, "a date stays a date");
        assert_eq!(b.column(6).as_primitive::<datafusion::arrow::datatypes::Int32Type>().value(0), 30);
        // a placeholder without a value, and a value never bound as text
        let e2 = one(&e, "SELECT $missing AS x", &[]).await.unwrap_err();
        assert!(e2.to_string().contains("no value for parameter `$missing`"), "{e2}");
    }

    #[tokio::test]
    async fn only_reading_is_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("leak.csv");
        let e = Engine::local();
        for sql in [
            format!("COPY (SELECT 1 AS x) TO '{}' STORED AS CSV", out.display()),
            format!("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}'", dir.path().display()),
            "CREATE TABLE t AS SELECT 1 AS x".to_string(),
            "CREATE VIEW v AS SELECT 1 AS x".to_string(),
            "INSERT INTO t VALUES (1)".to_string(),
            "SET datafusion.execution.batch_size = 1".to_string(),
            "DROP TABLE t".to_string(),
        ] {
            let err = e.sql(&sql).await.err().unwrap_or_else(|| panic!("allowed: {sql}"));
            assert!(!err.to_string().is_empty());
            // and as a model: one SELECT only
            assert!(e.sql_bound(&sql, &Params::new()).await.is_err(), "{sql}");
        }
        assert!(!out.exists(), "nothing was written");
        assert_eq!(e.sql("SELECT 1 AS x").await.unwrap().collect().await.unwrap()[0].num_rows(), 1);
        let b = one(&e, "WITH a AS (SELECT 1 AS x) SELECT x FROM a", &[]).await.unwrap();
        assert_eq!(b.column(0).len(), 1);
    }
}
