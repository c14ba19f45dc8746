//! The query engine shared by every stage that runs SQL: a DataFusion `SessionContext` with
//! searchlight's SQL functions registered and the lake's current snapshots as tables.
//!
//! Only this module builds a `SessionContext`, so moving models to a cluster (DataFusion
//! Ballista) later changes one constructor. Tables are plain `ListingTable`s over the lake's
//! Parquet parts, which a distributed planner can serialise.

pub mod canonical;
pub mod udf;

use std::sync::Arc;

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::config::Dialect;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::{DataFusionError, Result};
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

impl Engine {
    /// An in-process engine using every core.
    pub fn local() -> Engine {
        let mut config = SessionConfig::new().with_information_schema(true);
        config.options_mut().sql_parser.collect_spans = true;
        config.options_mut().sql_parser.enable_ident_normalization = false;
        let ctx = SessionContext::new_with_config(config);
        for f in udf::functions() {
            ctx.register_udf((*f).clone());
        }
        for f in udf::aggregates() {
            ctx.register_udaf((*f).clone());
        }
        Engine { ctx }
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
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .infer_schema(&self.ctx.state())
            .await?;
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

    /// Plans a SQL statement.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        self.ctx.sql(sql).await
    }

    /// Plans one query whose `$name` placeholders are bound to literals (each given as SQL text,
    /// such as `DATE '2025-12-31'`). Binding happens on the parsed statement, so positions in
    /// errors stay those of `text`; a placeholder without a value is an error.
    pub async fn sql_bound(&self, text: &str, values: &HashMap<String, String>) -> Result<DataFrame> {
        let statement = self.bind(text, values)?;
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        self.ctx.execute_logical_plan(plan).await
    }

    /// Runs an optimised logical plan to the end (it is not optimised again).
    pub async fn execute(&self, plan: &datafusion::logical_expr::LogicalPlan) -> Result<Vec<RecordBatch>> {
        let state = self.ctx.state();
        let physical = state.query_planner().create_physical_plan(plan, &state).await?;
        datafusion::physical_plan::collect(physical, self.ctx.task_ctx()).await
    }

    /// The query with its placeholders bound, as SQL text: the statement [`Self::sql_bound`]
    /// plans, for reading or for running on another engine.
    pub fn bound_text(&self, text: &str, values: &HashMap<String, String>) -> Result<String> {
        Ok(self.bind(text, values)?.to_string())
    }

    fn bind(&self, text: &str, values: &HashMap<String, String>) -> Result<Statement> {
        let state = self.ctx.state();
        let mut statement = state.sql_to_statement(text, &Dialect::Generic)?;
        let Statement::Statement(inner) = &mut statement else {
            return Err(DataFusionError::Plan("expected one SELECT query".into()));
        };
        if !matches!(inner.as_ref(), ast::Statement::Query(_)) {
            return Err(DataFusionError::Plan("a model is one SELECT (or WITH … SELECT) query".into()));
        }
        let mut literals = HashMap::new();
        for (name, sql) in values {
            literals.insert(name.as_str(), state.sql_to_expr(sql, &Dialect::Generic)?);
        }
        let flow = ast::visit_expressions_mut(inner.as_mut(), |e| {
            if let ast::Expr::Value(v) = e {
                if let ast::Value::Placeholder(p) = &v.value {
                    let name = p.trim_start_matches(['$', ':']);
                    match literals.get(name) {
                        Some(lit) => *e = lit.clone(),
                        None => return ControlFlow::Break(format!("no value for parameter `{p}`")),
                    }
                }
            }
            ControlFlow::Continue(())
        });
        if let ControlFlow::Break(message) = flow {
            return Err(DataFusionError::Plan(message));
        }
        Ok(statement)
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
