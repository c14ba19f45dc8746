//! A snapshot seen in its dataset's canonical shape: a `TableProvider` over the snapshot's own
//! table that has every column of the definition — NULL of its canonical type where the
//! snapshot lacks it, cast where an older snapshot typed it differently (text stays the string
//! view the Parquet reader gives) — and the snapshot's extra columns after them.
//!
//! Because the canonical columns are the table's own, a query's optimised plan says exactly
//! which of them it reads, missing ones included: that is how a model's inputs are known from
//! the one plan that then runs.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
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

/// Whether a snapshot's column of type `have` is already of the canonical type `want`. Text is
/// read as Arrow string views, as the Parquet reader decodes it: a canonical `Utf8` column stays a
/// view rather than being cast, which would copy every string of every scan.
pub fn same_type(have: &DataType, want: &DataType) -> bool {
    have == want || (*have == DataType::Utf8View && *want == DataType::Utf8)
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
                    let cast = !same_type(h.data_type(), f.data_type());
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

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::datasource::listing::{ListingTable, ListingTableConfig, ListingTableUrl};
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn text_is_scanned_as_views_and_read_as_text_by_those_who_read_it() {
        // a landed `units` snapshot with three of its columns, all text
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("part-00000.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("unit_code", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("parent_code", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("340524100000"), Some("340524100201")])),
                Arc::new(StringArray::from(vec![Some("城关镇"), Some("前进村")])),
                Arc::new(StringArray::from(vec![None, Some("340524100000")])),
            ],
        )
        .unwrap();
        let mut w =
            datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&file).unwrap(), schema, None)
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let engine = crate::engine::Engine::local();
        let ctx: &SessionContext = engine.context();
        let url = ListingTableUrl::parse(url::Url::from_file_path(&file).unwrap().as_str()).unwrap();
        let config = ListingTableConfig::new_with_multi_paths(vec![url])
            .with_listing_options(super::super::listing_options())
            .infer_schema(&ctx.state())
            .await
            .unwrap();
        let inner = Arc::new(ListingTable::try_new(config).unwrap());
        let def = crate::schema::Schema::bundled().dataset("units").unwrap();
        let table = CanonicalTable::new(inner, def);
        // the snapshot's text stays the reader's string views: nothing is cast, nothing copied
        assert_eq!(table.schema().field_with_name("name").unwrap().data_type(), &DataType::Utf8View);
        assert!(table.sources().iter().flatten().all(|(_, cast)| !cast), "{:?}", table.sources());
        ctx.register_table("units", Arc::new(table)).unwrap();

        // the unit directory reads the rows, whichever string type they come in
        let batches = ctx.sql(crate::units::QUERY).await.unwrap().collect().await.unwrap();
        let d = crate::units::Directory::from_batches(&batches);
        let names: Vec<_> = d.units.iter().map(|u| (u.code.as_str(), u.name.as_str(), u.parent.as_deref())).collect();
        assert_eq!(names, vec![("340524100000", "城关镇", None), ("340524100201", "前进村", Some("340524100000"))]);
    }
}
