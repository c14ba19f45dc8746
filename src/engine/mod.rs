//! The query engine shared by every stage that runs SQL: a DataFusion `SessionContext` with
//! searchlight's SQL functions registered and the lake's current snapshots as tables.
//!
//! Only this module builds a `SessionContext`, so moving models to a cluster (DataFusion
//! Ballista) later changes one constructor. Tables are plain `ListingTable`s over the lake's
//! Parquet parts, which a distributed planner can serialise.

pub mod udf;

use std::sync::Arc;

use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::Result;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

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

    /// Plans a SQL statement.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        self.ctx.sql(sql).await
    }
}
