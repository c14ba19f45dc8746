//! Incremental evaluation of a model declared `[incremental]`
//! ([`crate::model::spec::IncrementalSpec`]): when the only input that changed since its last
//! recorded result is the declared table, and that table's snapshot appends to the one the
//! result read (`append = true` connectors share the earlier parts), the model is evaluated over
//! the keys the new rows hold — and, when the as-of moved, the keys whose rows lie between the
//! two dates — and the earlier result's rows of every other key are carried. Under the declared
//! locality this is exactly the full result; a test compares the two over random appends.
//!
//! Anything that does not fit (another input changed, the snapshot is not an append, a new row
//! without a key, evidence that cannot be read) computes the model in full, as a run without
//! `[incremental]` would.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, JoinType};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use serde::Serialize;

use super::carry::{self, Previous};
use super::report::ModelOutcome;
use crate::lake::{Lake, Manifest};
use crate::model::Model;
use crate::model::spec::IncrementalSpec;

/// A result is computed in full again instead of its `SWEEP_UPDATES`-th incremental update in a
/// row (a year of monthly deliveries): the periodic full sweep. Counted in updates, not days,
/// because an append comes with a new as-of — a sweep by days of data would compute every
/// monthly delivery in full.
pub const SWEEP_UPDATES: u32 = 12;

/// What an incremental evaluation did, for the run report and the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Increment {
    /// The run whose result was updated.
    pub from: String,
    /// The run whose full computation the result rests on (the sweep counts from it).
    pub full_from: String,
    /// The table that grew, and the key evaluated.
    pub table: String,
    /// Its key column.
    pub key: String,
    /// Keys evaluated afresh.
    pub keys: usize,
    /// Rows the snapshot added.
    pub new_rows: u64,
}

/// Whether `prev` may be updated rather than recomputed: the same engine, model version and
/// parameters, the same snapshots but for `inc.table` (which grew, or the as-of moved along a
/// declared column), the as-of the same or bounded by a declared column, and fewer than
/// [`SWEEP_UPDATES`] updates since its full computation.
/// Returns the table's earlier snapshot id.
pub fn may_update<'a>(
    prev: &'a Previous,
    m: &Model,
    inc: &IncrementalSpec,
    outcome: &ModelOutcome,
    as_of: chrono::NaiveDate,
) -> Option<&'a str> {
    let before = prev.snapshots.get(&inc.table)?;
    let now = outcome.snapshots.get(&inc.table)?;
    let others_same = prev.snapshots.len() == outcome.snapshots.len()
        && prev.snapshots.iter().all(|(d, s)| d == &inc.table || outcome.snapshots.get(d) == Some(s));
    let as_of_fits = !m.text.contains("$as_of") || prev.as_of == as_of || inc.as_of.is_some();
    (prev.engine.as_deref() == Some(carry::ENGINE)
        && prev.version == outcome.version
        && prev.params == outcome.params
        && (before != now || (prev.as_of != as_of && inc.as_of.is_some()))
        && others_same
        && as_of_fits
        && prev.updates + 1 < SWEEP_UPDATES)
        .then_some(before.as_str())
}

/// The parts `now` added to `before`, when `now` appends to it (every part of `before`, where it
/// lives, is among `now`'s first parts); `None` when it does not.
pub fn added(before: &Manifest, now: &Manifest) -> Option<Manifest> {
    let home = |m: &Manifest, i: usize| (m.part_home(&m.parts[i]).to_string(), m.parts[i].file.clone());
    let n = before.parts.len();
    if now.parts.len() < n || (0..n).any(|i| home(before, i) != home(now, i)) {
        return None;
    }
    let mut delta = now.clone();
    delta.parts = now.parts[n..].to_vec();
    Some(delta)
}

/// Text of every value of a column (NULL as `None`), to compare keys of any type.
fn texts(a: &ArrayRef) -> Result<Vec<Option<String>>, String> {
    let fo = FormatOptions::default();
    let f = ArrayFormatter::try_new(a.as_ref(), &fo).map_err(|e| e.to_string())?;
    Ok((0..a.len()).map(|i| a.is_valid(i).then(|| f.value(i).to_string())).collect())
}

/// `plan` with every scan of `table` restricted to the rows whose `key` is among `keys`.
fn restrict(plan: LogicalPlan, table: &str, key: &str, keys: Arc<MemTable>) -> Result<LogicalPlan, String> {
    let source = provider_as_source(keys);
    let out = plan
        .transform_up(|node| {
            let LogicalPlan::TableScan(scan) = &node else { return Ok(Transformed::no(node)) };
            if scan.table_name.table() != table {
                return Ok(Transformed::no(node));
            }
            let left = Column::new(Some(scan.table_name.clone()), key);
            let keys = LogicalPlanBuilder::scan("__searchlight_keys", source.clone(), None)?.build()?;
            let joined = LogicalPlanBuilder::from(node)
                .join(keys, JoinType::LeftSemi, (vec![left], vec![Column::new(Some("__searchlight_keys"), "k")]), None)?
                .build()?;
            Ok(Transformed::yes(joined))
        })
        .map_err(|e| e.to_string())?;
    Ok(out.data)
}

/// Updates `prev`'s result: the rows of the keys the new rows (`delta`, the parts [`added`] to
/// the snapshot it read) and the as-of move touch, evaluated afresh over the whole table, and
/// `prev`'s rows of every other key. `plan` is the model's bound, unoptimised plan. An `Err`
/// says why the model must be computed in full.
pub async fn update(
    engine: &crate::engine::Engine,
    lake: &Lake,
    inc: &IncrementalSpec,
    prev: &Previous,
    delta: &Manifest,
    plan: LogicalPlan,
    as_of: chrono::NaiveDate,
) -> Result<(Vec<RecordBatch>, Increment), String> {
    let ctx = engine.context();
    let table = ctx.table_provider(inc.table.as_str()).await.map_err(|e| e.to_string())?;
    let key_type = table.schema().field_with_name(&inc.key).map_err(|e| e.to_string())?.data_type().clone();
    // the keys the new rows hold
    let mut keys: Vec<ArrayRef> = Vec::new();
    if !delta.parts.is_empty() {
        let urls: Vec<String> = lake.part_urls(delta).iter().map(|u| u.to_string()).collect();
        let df = ctx
            .read_parquet(urls, datafusion::prelude::ParquetReadOptions::default())
            .await
            .and_then(|df| df.select_columns(&[inc.key.as_str()]))
            .and_then(|df| df.distinct())
            .map_err(|e| format!("{} 新增行的 {}: {e}", inc.table, inc.key))?;
        for b in df.collect().await.map_err(|e| e.to_string())? {
            keys.push(b.column(0).clone());
        }
    }
    // and those whose rows the moved as-of brings in or leaves out
    if prev.as_of != as_of
        && let Some(col) = &inc.as_of
    {
        let (lo, hi) = if prev.as_of < as_of { (prev.as_of, as_of) } else { (as_of, prev.as_of) };
        let sql = format!(
            "SELECT DISTINCT \"{key}\" FROM \"{t}\" WHERE \"{col}\" > CAST('{lo}' AS DATE) AND \"{col}\" <= CAST('{hi}' AS DATE)",
            key = inc.key,
            t = inc.table
        );
        let df = ctx.sql(&sql).await.map_err(|e| e.to_string())?;
        for b in df.collect().await.map_err(|e| e.to_string())? {
            keys.push(b.column(0).clone());
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut typed: Vec<ArrayRef> = Vec::new();
    for a in &keys {
        let a = cast(a, &key_type).map_err(|e| e.to_string())?;
        for v in texts(&a)? {
            let v = v.ok_or_else(|| format!("{} 有新增行的 {} 为空", inc.table, inc.key))?;
            seen.insert(v);
        }
        typed.push(a);
    }
    let schema: SchemaRef =
        Arc::new(datafusion::arrow::datatypes::Schema::new(vec![datafusion::arrow::datatypes::Field::new(
            "k", key_type, true,
        )]));
    let batches: Vec<RecordBatch> = typed
        .into_iter()
        .map(|a| RecordBatch::try_new(schema.clone(), vec![a]))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mem = Arc::new(MemTable::try_new(schema, vec![batches]).map_err(|e| e.to_string())?);
    // the keys evaluated afresh
    let fresh = if seen.is_empty() {
        Vec::new()
    } else {
        let restricted = restrict(plan, &inc.table, &inc.key, mem)?;
        let optimized = ctx.state().optimize(&restricted).map_err(|e| e.to_string())?;
        engine.execute(&optimized).await.map_err(|e| e.to_string())?
    };
    // every other key as the earlier result had it
    let earlier = carry::replay(lake, prev).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let target: Option<SchemaRef> = fresh.first().map(|b| b.schema());
    for b in earlier {
        let col = b.column_by_name(&inc.output).ok_or_else(|| format!("上次结果没有 {} 列", inc.output))?;
        let keep: BooleanArray = texts(col)?.into_iter().map(|v| Some(v.is_none_or(|v| !seen.contains(&v)))).collect();
        let kept = filter_record_batch(&b, &keep).map_err(|e| e.to_string())?;
        if kept.num_rows() == 0 {
            continue;
        }
        out.push(match &target {
            Some(s) => conform(&kept, s)?,
            None => kept,
        });
    }
    let target = target.or_else(|| out.first().map(|b| b.schema()));
    for b in fresh {
        out.push(match &target {
            Some(s) => conform(&b, s)?,
            None => b,
        });
    }
    let new_rows = delta.parts.iter().map(|p| p.rows).sum();
    let increment = Increment {
        from: prev.run.clone(),
        full_from: prev.computed_by.clone(),
        table: inc.table.clone(),
        key: inc.key.clone(),
        keys: seen.len(),
        new_rows,
    };
    Ok((out, increment))
}

/// A batch in another batch's schema (the earlier result's evidence may carry other types).
fn conform(b: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, String> {
    if b.schema().fields().len() != schema.fields().len() {
        return Err(format!("上次结果有 {} 列, 本次 {} 列", b.num_columns(), schema.fields().len()));
    }
    let columns = schema
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, a)| if a.data_type() == f.data_type() { Ok(a.clone()) } else { cast(a, f.data_type()) })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::manifest::PartEntry;

    fn manifest(snapshot: &str, parts: &[(&str, Option<&str>)]) -> Manifest {
        let v = serde_json::json!({
            "dataset": "t", "snapshot": snapshot, "title": "", "domain": "", "created_at": "", "as_of": "",
            "connector": "", "spec_hash": "", "fingerprint": "", "sources": [], "rows_read": 0, "rows": 0,
            "rows_quarantined": 0, "quarantine": {}, "flags": {}, "parts": [], "schema": [], "key": [],
            "elapsed_ms": 0, "writer": ""
        });
        let mut m: Manifest = serde_json::from_value(v).unwrap();
        m.parts = parts
            .iter()
            .map(|(f, s)| PartEntry { file: f.to_string(), rows: 1, bytes: 1, snapshot: s.map(str::to_string) })
            .collect();
        m
    }

    #[test]
    fn only_a_snapshot_that_keeps_every_earlier_part_in_place_is_an_append() {
        let v1 = manifest("v000001", &[("part-00000.parquet", None), ("part-00001.parquet", None)]);
        let v2 = manifest(
            "v000002",
            &[
                ("part-00000.parquet", Some("v000001")),
                ("part-00001.parquet", Some("v000001")),
                ("part-00000.parquet", None),
            ],
        );
        let delta = added(&v1, &v2).unwrap();
        assert_eq!(delta.parts.len(), 1);
        assert_eq!(delta.part_home(&delta.parts[0]), "v000002");
        // a re-landed snapshot has files of the same names in its own directory: not an append
        let relanded = manifest("v000002", &[("part-00000.parquet", None), ("part-00001.parquet", None)]);
        assert!(added(&v1, &relanded).is_none());
        // fewer parts, or one of them missing
        assert!(added(&v2, &v1).is_none());
        let gap = manifest("v000003", &[("part-00001.parquet", Some("v000001")), ("part-00000.parquet", None)]);
        assert!(added(&v1, &gap).is_none());
    }

    #[test]
    fn an_update_needs_the_same_model_and_other_inputs_and_the_sweep_bounds_it() {
        let text = "/* searchlight\nid = \"t.m\"\ntitle = \"t\"\ntitle_en = \"t\"\ndomain = \"test\"\narea = \"t\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"t\"\nbasis = [\"t\"]\nentity = [\"who\"]\nunit = \"who\"\n[incremental]\ntable = \"pay\"\nkey = \"who\"\noutput = \"who\"\n*/\nSELECT who FROM pay JOIN people USING (who) WHERE paid <= $as_of\n";
        let m = crate::model::parse(std::path::Path::new("m.sql"), crate::model::Origin::Project, text.into()).unwrap();
        let inc = m.spec.incremental.clone().unwrap();
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2025, 1, d).unwrap();
        let prev = Previous {
            run: "R1".into(),
            as_of: day(1),
            version: m.version.clone(),
            params: Vec::new(),
            snapshots: [("pay".to_string(), "v000001".to_string()), ("people".into(), "v000001".into())].into(),
            rows: 0,
            evidence: None,
            engine: Some(carry::ENGINE.into()),
            computed_by: "R1".into(),
            computed_as_of: day(1),
            updates: 0,
        };
        let mut now = ModelOutcome::start(&m);
        now.snapshots = [("pay".to_string(), "v000002".to_string()), ("people".into(), "v000001".into())].into();
        assert_eq!(may_update(&prev, &m, &inc, &now, day(1)), Some("v000001"));
        // the as-of moved and the model does not say how it reaches the table
        assert_eq!(may_update(&prev, &m, &inc, &now, day(2)), None);
        // another input changed too
        let mut other = now.clone();
        other.snapshots.insert("people".into(), "v000002".into());
        assert_eq!(may_update(&prev, &m, &inc, &other, day(1)), None);
        // nothing changed: a replay's business, not an update's
        let mut same = now.clone();
        same.snapshots.insert("pay".into(), "v000001".into());
        assert_eq!(may_update(&prev, &m, &inc, &same, day(1)), None);
        // another model version, or the sweep is due
        let mut edited = now.clone();
        edited.version = "other".into();
        assert_eq!(may_update(&prev, &m, &inc, &edited, day(1)), None);
        let due = Previous { updates: SWEEP_UPDATES - 1, ..prev.clone() };
        assert_eq!(may_update(&due, &m, &inc, &now, day(1)), None);
        let not_yet = Previous { updates: SWEEP_UPDATES - 2, ..prev };
        assert_eq!(may_update(&not_yet, &m, &inc, &now, day(1)), Some("v000001"));
    }
}
