//! The query engine shared by every stage that runs SQL: a DataFusion `SessionContext` with
//! searchlight's SQL functions registered and the lake's current snapshots as tables.
//!
//! Only this module builds a `SessionContext`, so moving models to a cluster (DataFusion
//! Ballista) later changes one constructor. Tables are plain `ListingTable`s over the lake's
//! Parquet parts, which a distributed planner can serialise.

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

    /// Registers one snapshot of a dataset as table `name`.
    pub async fn register_snapshot(&self, lake: &Lake, name: &str, m: &Manifest) -> Result<()> {
        let (root, store) = lake.store();
        self.ctx.register_object_store(&root, store);
        let urls = lake.part_urls(m).iter().map(|u| ListingTableUrl::parse(u.as_str())).collect::<Result<Vec<_>>>()?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .infer_schema(&self.ctx.state())
            .await?;
        let table = ListingTable::try_new(config)?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }

    /// Registers every dataset's current snapshot; returns their manifests.
    pub async fn register_lake(&self, lake: &Lake) -> anyhow::Result<Vec<Manifest>> {
        let mut out = Vec::new();
        for name in lake.datasets().await? {
            if let Some(m) = lake.current(&name).await? {
                self.register_snapshot(lake, &name, &m).await?;
                out.push(m);
            }
        }
        Ok(out)
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
