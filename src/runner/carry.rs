//! Carrying a result forward: a model none of whose inputs changed since its last recorded run
//! is not executed again. Its rows are replayed from that run's evidence file, so its clues,
//! their evidence and their marks are exactly what executing it would give — the same model
//! version, parameters, snapshots (and `$as_of`, when the model reads it) on the same engine
//! version return the same rows.
//!
//! What makes a replay safe, all checked: the model's version and parameter values, every
//! snapshot it reads, the as-of date if its SQL names `$as_of`, and the searchlight version that
//! recorded the earlier result. A full sweep bounds how long a result is replayed: it is
//! computed afresh once the run that really computed it is [`RunRequest::sweep_days`] older (by
//! as-of date, never the clock) than this run, and `--full` computes everything.

use std::collections::BTreeMap;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::report::ModelOutcome;
use crate::lake::Lake;
use crate::model::Model;

/// The searchlight version a run is recorded with: a result is replayed only on the version
/// that computed it.
pub const ENGINE: &str = concat!("searchlight ", env!("CARGO_PKG_VERSION"));

/// A model's last recorded result that looked at the data (from the ledger).
#[derive(Debug, Clone, PartialEq)]
pub struct Previous {
    /// The run that recorded it.
    pub run: String,
    /// That run's as-of.
    pub as_of: chrono::NaiveDate,
    /// Model version.
    pub version: String,
    /// Parameter values.
    pub params: Vec<(String, String)>,
    /// Snapshots read.
    pub snapshots: BTreeMap<String, String>,
    /// Rows it returned.
    pub rows: usize,
    /// Its evidence file in `_runs/<run>/` (none when it returned no rows).
    pub evidence: Option<String>,
    /// The searchlight version that recorded it.
    pub engine: Option<String>,
    /// The run that really computed the result (itself, unless it was carried).
    pub computed_by: String,
    /// That run's as-of.
    pub computed_as_of: chrono::NaiveDate,
    /// Incremental updates since that full computation ([`super::increment`]).
    pub updates: u32,
}

/// Whether the model may be replayed from `prev`: the same engine, model version, parameters
/// and snapshots (and as-of, where the SQL reads it), computed within the sweep.
pub fn may_replay(
    prev: &Previous,
    m: &Model,
    outcome: &ModelOutcome,
    as_of: chrono::NaiveDate,
    sweep_days: u32,
) -> bool {
    prev.engine.as_deref() == Some(ENGINE)
        && prev.version == outcome.version
        && prev.params == outcome.params
        && prev.snapshots == outcome.snapshots
        && (!reads_as_of(m) || prev.as_of == as_of)
        && (as_of - prev.computed_as_of).num_days().abs() < i64::from(sweep_days)
}

/// Whether the model's SQL binds the as-of date.
fn reads_as_of(m: &Model) -> bool {
    m.text.contains("$as_of")
}

/// The rows of the earlier result, as its evidence file holds them (without the clue-id
/// column the evidence adds), in the order the model returned them.
pub async fn replay(lake: &Lake, prev: &Previous) -> anyhow::Result<Vec<RecordBatch>> {
    let Some(file) = &prev.evidence else {
        anyhow::ensure!(prev.rows == 0, "run {} recorded {} rows but no evidence file", prev.run, prev.rows);
        return Ok(Vec::new());
    };
    let bytes = lake
        .run_file(&prev.run, file)
        .await?
        .ok_or_else(|| anyhow::anyhow!("run {}'s evidence {file} is not in the lake", prev.run))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.with_batch_size(8192).build()?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch?;
        let keep: Vec<usize> =
            (0..batch.num_columns()).filter(|&i| batch.schema().field(i).name() != "_clue_id").collect();
        out.push(batch.project(&keep)?);
    }
    let rows: usize = out.iter().map(|b| b.num_rows()).sum();
    anyhow::ensure!(rows == prev.rows, "run {}'s evidence holds {rows} rows, not the {} recorded", prev.run, prev.rows);
    Ok(out)
}
