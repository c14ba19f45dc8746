//! What a model reads, what the data has, and whether the model can look.
//!
//! A model's inputs are read off its plan over empty tables of the canonical schema (the
//! projections the optimiser pushes into each scan), so they are exact and need no data. Its
//! header marks some as `optional` and groups others as `one_of`; every other input is core.
//! [`assess`] compares them with what a lake (or a project's connectors) provides: a missing core
//! input means the model cannot look ("not run: needs `deaths`"), a missing optional one that it
//! looks without it ("ran without `bids.bid_time`").

use std::collections::{BTreeMap, BTreeSet};

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use serde::Serialize;

use super::routes::BlindRoute;
use crate::lake::Manifest;
use crate::model::Model;

/// Datasets a model reads and the columns it reads of each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inputs {
    /// Dataset → columns.
    pub reads: BTreeMap<String, BTreeSet<String>>,
}

impl Inputs {
    /// The inputs of an optimised plan.
    pub fn of(plan: &LogicalPlan) -> Inputs {
        let mut reads: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let _ = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                // a recursive CTE reading itself reads no dataset
                if is_work_table(scan) {
                    return Ok(TreeNodeRecursion::Continue);
                }
                let cols = reads.entry(scan.table_name.table().to_string()).or_default();
                // the projection, and the columns of filters pushed into the scan
                let filtered = scan.filters.iter().flat_map(|f| f.column_refs()).map(|c| c.name().to_string());
                for name in scan.projected_schema.fields().iter().map(|f| f.name().clone()).chain(filtered) {
                    // a validity column is read from its code column
                    cols.insert(name.strip_suffix("_valid").unwrap_or(&name).to_string());
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        Inputs { reads }
    }

    /// Whether the model reads `item` (`dataset` or `dataset.column`).
    pub fn reads_item(&self, item: &str) -> bool {
        match item.split_once('.') {
            None => self.reads.contains_key(item),
            Some((d, c)) => self.reads.get(d).is_some_and(|cols| cols.contains(c)),
        }
    }
}

/// Whether a scan reads a recursive CTE's own rows (`WITH RECURSIVE n AS (… FROM n …)`).
pub(super) fn is_work_table(scan: &datafusion::logical_expr::TableScan) -> bool {
    use datafusion::datasource::cte_worktable::CteWorkTable;
    datafusion::datasource::source_as_provider(&scan.source)
        .is_ok_and(|p| (p.as_ref() as &dyn std::any::Any).is::<CteWorkTable>())
}

/// What data there is to look at.
#[derive(Debug, Clone)]
pub enum Availability {
    /// Everything (model tests: every table is given or empty on purpose).
    All,
    /// These datasets with these columns; the second set names those of them that hold no row
    /// (a dataset landed empty is, for a model that needs its rows, as good as absent).
    Only(BTreeMap<String, BTreeSet<String>>, BTreeSet<String>),
}

impl Availability {
    /// What the lake's current snapshots have.
    pub fn of_manifests(manifests: &[Manifest]) -> Availability {
        Availability::Only(
            manifests
                .iter()
                .map(|m| {
                    let cols = m.present_columns().map(|c| c.strip_suffix("_valid").unwrap_or(c).to_string()).collect();
                    (m.dataset.clone(), cols)
                })
                .collect(),
            manifests.iter().filter(|m| m.rows == 0).map(|m| m.dataset.clone()).collect(),
        )
    }

    /// Whether a dataset is there.
    pub fn has(&self, dataset: &str) -> bool {
        match self {
            Availability::All => true,
            Availability::Only(m, _) => m.contains_key(dataset),
        }
    }

    /// Whether a column of a dataset is there.
    pub fn has_column(&self, dataset: &str, column: &str) -> bool {
        match self {
            Availability::All => true,
            Availability::Only(m, _) => m.get(dataset).is_some_and(|c| c.contains(column)),
        }
    }

    /// Whether a dataset is there but holds no row.
    pub fn is_empty(&self, dataset: &str) -> bool {
        matches!(self, Availability::Only(_, empty) if empty.contains(dataset))
    }

    fn has_item(&self, item: &str) -> bool {
        match item.split_once('.') {
            None => self.has(item),
            Some((d, c)) => self.has_column(d, c),
        }
    }
}

/// The verdict on one model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Core inputs that are missing (`deaths`, `payroll.category`, or `one of: a, b`): the
    /// model cannot look.
    pub missing: Vec<String>,
    /// Optional inputs that are missing: the model looks without them.
    pub without: Vec<String>,
    /// Routes of the model that cannot look for lack of inputs its other routes do without
    /// ([`super::routes`]): the model looks, but not everywhere.
    pub blind_routes: Vec<BlindRoute>,
}

impl Assessment {
    /// Whether the model can run.
    pub fn can_run(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Judges a model on what there is: its declared core inputs ([`assess`]), then its plan —
/// which routes (or whether the whole model) surely return nothing for lack of inputs, even
/// ones the model calls optional ([`super::routes`]).
pub fn judge(m: &Model, plan: &LogicalPlan, inputs: &Inputs, have: &Availability) -> Assessment {
    let mut a = assess(m, inputs, have);
    if !a.can_run() {
        return a;
    }
    // a dataset landed without a row is, for a route that needs its rows, as absent as one never
    // landed: the route could not look, rather than found nothing
    let absent = |d: &str, c: Option<&str>| match c {
        None => !have.has(d) || have.is_empty(d),
        Some(c) => have.has(d) && !have.has_column(d, c),
    };
    let sight = super::routes::sight(plan, &absent);
    let said = |item: String| if have.is_empty(&item) { format!("{item}(0 行)") } else { item };
    match sight.blind {
        // every route needs something absent: any one of them would let the model look
        Some(items) if items.len() == 1 => a.missing.extend(items.into_iter().map(said)),
        Some(items) => {
            a.missing.push(format!("one of: {}", items.into_iter().map(said).collect::<Vec<_>>().join(", ")))
        }
        None => {
            a.blind_routes = sight.blind_routes;
            for r in &mut a.blind_routes {
                r.missing = std::mem::take(&mut r.missing).into_iter().map(said).collect();
            }
        }
    }
    a
}

/// Compares a model's inputs with what there is.
pub fn assess(m: &Model, inputs: &Inputs, have: &Availability) -> Assessment {
    let optional = |item: &str| {
        let dataset = item.split('.').next().unwrap_or(item);
        m.spec.optional.iter().any(|o| o == item || o == dataset)
            || m.spec.one_of.iter().flatten().any(|o| o == item || o == dataset)
    };
    let mut out = Assessment::default();
    for (d, cols) in &inputs.reads {
        if !have.has(d) {
            if optional(d) {
                out.without.push(d.clone());
            } else {
                out.missing.push(d.clone());
            }
            continue;
        }
        for c in cols {
            if have.has_column(d, c) {
                continue;
            }
            let item = format!("{d}.{c}");
            if optional(&item) {
                out.without.push(item);
            } else {
                out.missing.push(item);
            }
        }
    }
    for group in &m.spec.one_of {
        if !group.iter().any(|item| have.has_item(item)) {
            out.missing.push(format!("one of: {}", group.join(", ")));
        }
        // said once, as the group; an alternative not taken is nothing missing
        out.without.retain(|w| !group.contains(w));
    }
    out
}

/// `check`'s warnings for optional inputs a filter or join needs: without the column the model
/// (or one of its routes) returns nothing, so "optional" would read as "looked, found nothing".
/// An optional dataset that is a route of its own, and an input declared as one of several
/// (`one_of`: each its own route), are what routes are for, and not warned of.
pub fn optional_but_needed(m: &Model, plan: &LogicalPlan) -> Vec<String> {
    let mut out = Vec::new();
    let alternative = |item: &str| m.spec.one_of.iter().flatten().any(|o| o == item);
    for item in m.spec.optional.iter().filter(|i| !alternative(i)) {
        let (d, c) = match item.split_once('.') {
            Some((d, c)) => (d, Some(c)),
            None => (item.as_str(), None),
        };
        let absent = |dd: &str, cc: Option<&str>| dd == d && (c.is_none() || cc == c);
        let sight = super::routes::sight(plan, &absent);
        if sight.blind.is_some() {
            out.push(format!(
                "optional input `{item}` is needed by a filter or join of every route: without it the model returns nothing; make it core, or say what its absence means (`{item} IS NULL OR …`)"
            ));
        } else if c.is_some()
            && let Some(r) = sight.blind_routes.first()
        {
            out.push(format!(
                "optional input `{item}` is needed by a filter or join of the route through {}: without it that route returns nothing and is reported 部分未检查; give it an alternative (`coalesce`, `{item} IS NULL AND …`) if it has one",
                r.route.join(", ")
            ));
        }
    }
    out
}

/// Header entries (`optional`, `one_of`) that name nothing the model reads: a typo there would
/// silently make a core input optional, so `check` refuses them.
pub fn unread_declarations(m: &Model, inputs: &Inputs) -> Vec<String> {
    m.spec.optional.iter().chain(m.spec.one_of.iter().flatten()).filter(|i| !inputs.reads_item(i)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(optional: &str, one_of: &str) -> Model {
        let text = format!(
            "/* searchlight\nid = \"t.m\"\ntitle = \"t\"\ntitle_en = \"t\"\ndomain = \"t\"\narea = \"t\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"d\"\nbasis = [\"b\"]\nentity = [\"id_no\"]\nunit = \"id_no\"\noptional = {optional}\none_of = {one_of}\n*/\nSELECT 1 AS id_no\n"
        );
        crate::model::parse(std::path::Path::new("t.sql"), crate::model::Origin::Project, text.into_bytes()).unwrap()
    }

    fn reads(items: &[(&str, &[&str])]) -> Inputs {
        Inputs {
            reads: items.iter().map(|(d, c)| (d.to_string(), c.iter().map(|c| c.to_string()).collect())).collect(),
        }
    }

    fn have(items: &[(&str, &[&str])]) -> Availability {
        Availability::Only(
            items.iter().map(|(d, c)| (d.to_string(), c.iter().map(|c| c.to_string()).collect())).collect(),
            BTreeSet::new(),
        )
    }

    #[test]
    fn core_inputs_stop_a_model_optional_ones_do_not() {
        let m = model("[\"bids.bid_time\", \"procurement_lots\"]", "[[\"bids.upload_ip\", \"bids.mac\"]]");
        let i = reads(&[("bids", &["lot_no", "bid_time", "upload_ip", "mac"]), ("procurement_lots", &["buyer_name"])]);
        // every core input there, one fingerprint form, no lots and no bid time
        let a = assess(&m, &i, &have(&[("bids", &["lot_no", "mac"])]));
        assert!(a.can_run(), "{a:?}");
        assert_eq!(a.without, vec!["bids.bid_time", "procurement_lots"], "an alternative not taken is not missing");
        // no fingerprint at all: the group is missing, listed with all its forms
        let a = assess(&m, &i, &have(&[("bids", &["lot_no"])]));
        assert_eq!(a.missing, vec!["one of: bids.upload_ip, bids.mac"]);
        // a core column and a core dataset, all listed at once
        let a = assess(&m, &i, &have(&[]));
        assert_eq!(a.missing, vec!["bids", "one of: bids.upload_ip, bids.mac"]);
        let a = assess(&m, &i, &have(&[("bids", &["mac"])]));
        assert_eq!(a.missing, vec!["bids.lot_no"]);
        assert!(assess(&m, &i, &Availability::All).can_run());
    }

    #[test]
    fn declarations_must_name_what_the_model_reads() {
        let m = model("[\"bids.bid_tim\", \"procurement_lots\"]", "[]");
        let i = reads(&[("bids", &["bid_time"]), ("procurement_lots", &["buyer_name"])]);
        assert_eq!(unread_declarations(&m, &i), vec!["bids.bid_tim"]);
    }

    #[tokio::test]
    async fn a_recursive_cte_reads_its_datasets_not_itself() {
        use std::sync::Arc;

        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::datasource::MemTable;
        use datafusion::prelude::SessionContext;

        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![
            Field::new("unit_code", DataType::Utf8, true),
            Field::new("parent_code", DataType::Utf8, true),
        ]));
        ctx.register_table("units", Arc::new(MemTable::try_new(schema, vec![vec![]]).unwrap())).unwrap();
        let sql = "WITH RECURSIVE sub(code) AS (SELECT unit_code FROM units WHERE parent_code IS NULL \
                   UNION ALL SELECT u.unit_code FROM units u JOIN sub ON u.parent_code = sub.code) SELECT code FROM sub";
        let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
        assert_eq!(Inputs::of(&plan), reads(&[("units", &["parent_code", "unit_code"])]));
    }
}
