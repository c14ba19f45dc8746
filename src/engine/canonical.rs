//! A snapshot seen in its dataset's canonical shape: a `TableProvider` over the snapshot's own
//! table that has every column of the definition — NULL of its canonical type where the
//! snapshot lacks it, cast where an older snapshot typed it differently — and the snapshot's
//! extra columns after them.
//!
//! Because the canonical columns are the table's own, a query's optimised plan says exactly
//! which of them it reads, missing ones included: that is how a model's inputs are known from
//! the one plan that then runs.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column, Literal};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;

use crate::schema::Dataset;

/// Where one column of the canonical shape comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The snapshot's column at this index, cast when its type differs.
    Snapshot { index: usize, cast: bool },
    /// Not in the snapshot: NULL.
    Null,
}

/// A snapshot's table under its dataset's canonical schema.
#[derive(Debug)]
pub struct CanonicalTable {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
    sources: Vec<Source>,
}

impl CanonicalTable {
    /// Wraps a snapshot's table in the shape of `def`.
    pub fn new(inner: Arc<dyn TableProvider>, def: &Dataset) -> Self {
        let have = inner.schema();
        let want = def.arrow_schema();
        let mut fields = Vec::new();
        let mut sources = Vec::new();
        for f in want.fields() {
            match have.index_of(f.name()) {
                Ok(i) => {
                    let h = have.field(i);
                    // text the Parquet reader gives as string views is cast too: a view keeps
                    // its whole decoded page alive, and the memory pool counts that page for
                    // every batch that points into it (docs/performance.md, "Text as string views")
                    let cast = h.data_type() != f.data_type();
                    fields.push(if cast { h.clone().with_data_type(f.data_type().clone()) } else { h.clone() });
                    sources.push(Source::Snapshot { index: i, cast });
                }
                Err(_) => {
                    fields.push(Field::new(f.name(), f.data_type().clone(), true));
                    sources.push(Source::Null);
                }
            }
        }
        for (i, h) in have.fields().iter().enumerate() {
            if want.field_with_name(h.name()).is_err() {
                fields.push(h.as_ref().clone());
                sources.push(Source::Snapshot { index: i, cast: false });
            }
        }
        CanonicalTable { inner, schema: Arc::new(Schema::new(fields)), sources }
    }

    /// The snapshot's own table.
    pub fn inner(&self) -> &Arc<dyn TableProvider> {
        &self.inner
    }

    /// Where each column comes from: the snapshot's column index and whether it is cast, or
    /// `None` for NULL (how the table travels to a cluster).
    pub fn sources(&self) -> Vec<Option<(usize, bool)>> {
        self.sources
            .iter()
            .map(|s| match *s {
                Source::Snapshot { index, cast } => Some((index, cast)),
                Source::Null => None,
            })
            .collect()
    }

    /// The table again from [`Self::sources`] and its schema, checked against `inner`.
    pub fn from_parts(
        inner: Arc<dyn TableProvider>,
        schema: SchemaRef,
        sources: Vec<Option<(usize, bool)>>,
    ) -> Result<Self> {
        let have = inner.schema();
        if sources.len() != schema.fields().len()
            || sources.iter().flatten().any(|(index, _)| *index >= have.fields().len())
        {
            return Err(datafusion::common::DataFusionError::Internal(
                "a canonical table's columns do not fit its snapshot".into(),
            ));
        }
        let sources = sources
            .into_iter()
            .map(|s| match s {
                Some((index, cast)) => Source::Snapshot { index, cast },
                None => Source::Null,
            })
            .collect();
        Ok(CanonicalTable { inner, schema, sources })
    }

    /// Whether a filter reads only columns the snapshot has as they are (it can go down to the
    /// snapshot's scan, where Parquet statistics prune).
    fn passes_down(&self, filter: &Expr) -> bool {
        filter.column_refs().iter().all(|c| {
            self.schema
                .index_of(c.name())
                .is_ok_and(|i| matches!(self.sources[i], Source::Snapshot { cast: false, .. }))
        })
    }
}

#[async_trait]
impl TableProvider for CanonicalTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        // Inexact: the filter is applied again above, so its columns stay in the projection
        Ok(filters
            .iter()
            .map(|f| {
                if self.passes_down(f) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let wanted: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.sources.len()).collect());
        let mut read: Vec<usize> = Vec::new();
        let mut seen = HashSet::new();
        for &i in &wanted {
            if let Source::Snapshot { index, .. } = self.sources[i] {
                if seen.insert(index) {
                    read.push(index);
                }
            }
        }
        let pushed: Vec<Expr> = filters.iter().filter(|f| self.passes_down(f)).cloned().collect();
        let scan = self.inner.scan(state, Some(&read), &pushed, limit).await?;
        let mut exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = Vec::new();
        for &i in &wanted {
            let f = self.schema.field(i);
            let e: Arc<dyn PhysicalExpr> = match self.sources[i] {
                Source::Snapshot { index, cast } => {
                    let at = read.iter().position(|r| *r == index).expect("read above");
                    let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(f.name(), at));
                    if cast { Arc::new(CastExpr::new(column, f.data_type().clone(), None)) } else { column }
                }
                Source::Null => Arc::new(Literal::new(ScalarValue::try_from(f.data_type())?)),
            };
            exprs.push((e, f.name().clone()));
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, scan)?))
    }
}
