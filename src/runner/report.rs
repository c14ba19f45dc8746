//! What a run found: per model the clues, their evidence rows, the parameters, the model version
//! and the snapshots read; saved into the lake under `_runs/<run id>/` and never overwritten.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde::Serialize;

use crate::lake::Lake;
use crate::model::Model;

/// One clue: an entity a model returned, with the rows that are its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Clue {
    /// Stable id (model id + entity key, [`super::identity`]).
    pub id: String,
    /// The id under the encoding before [`super::identity`], to carry older ledgers over.
    #[serde(skip)]
    pub legacy_id: String,
    /// Entity-key values joined by `|`.
    pub entity: String,
    /// Entity-key values.
    pub entity_values: Vec<String>,
    /// The inspected unit (or region) of the first evidence row.
    pub unit: String,
    /// The unit of the directory (`units`) the value resolves to, if the lake has a directory
    /// and the value names one of its units ([`crate::units`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
    /// Amount involved (元), summed over the evidence rows (in JSON a decimal string, from
    /// `amount_fen`).
    #[serde(serialize_with = "crate::codes::text::yuan_text")]
    pub amount: Option<f64>,
    /// The same amount in integer 分, summed exactly from the evidence's decimal column: what
    /// the ledger stores and briefs add up.
    pub amount_fen: Option<i64>,
    /// The clue's own severity, when the model returns a `severity` column (`high`, `medium`,
    /// `low`; 高/中/低) that ranks some of its clues above or below its header's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Evidence rows (indices into the model's output).
    pub rows: Vec<usize>,
    /// Fingerprint of the evidence rows' content (every column), order-independent: changes
    /// when the evidence does (a new payment, another contract), not when only row order does.
    pub evidence_key: String,
}

/// How a model's part of a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It ran on everything it reads.
    Ran,
    /// It ran, without some optional inputs (listed in `without`).
    RanWithout,
    /// It ran, but some of its routes could not look for lack of inputs they need (listed in
    /// `blind_routes`), or some things it looks at lack what it needs (`unassessed`): what it found stands, what it did not find is not "no problem" — its
    /// clues are marked as seen, none as resolved.
    Partial,
    /// It could not look: core inputs are missing (listed in `missing`) or their ingest failed
    /// in this pipeline (`stale`). Not "no problems".
    NotRun,
    /// It failed (see `error`).
    Failed,
}

impl Status {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ran => "已运行",
            Status::RanWithout => "已运行(缺可选数据)",
            Status::Partial => "部分未检查",
            Status::NotRun => "未运行",
            Status::Failed => "失败",
        }
    }

    /// Whether the model looked at the data (the clues it returned are marked seen).
    pub fn looked(self) -> bool {
        matches!(self, Status::Ran | Status::RanWithout | Status::Partial)
    }

    /// Whether it looked everywhere it would look, so a clue it no longer returns is resolved.
    pub fn looked_everywhere(self) -> bool {
        matches!(self, Status::Ran | Status::RanWithout)
    }
}

/// What a model could not assess, in words: `12 项无法判断：缺投标起止时间`.
pub fn unassessed_words(unassessed: &BTreeMap<String, u64>) -> impl Iterator<Item = String> + '_ {
    unassessed.iter().map(|(why, n)| format!("{n} 项无法判断：{why}"))
}

/// One model's part of a run.
#[derive(Debug, Clone, Serialize)]
pub struct ModelOutcome {
    /// Model id.
    pub model: String,
    /// Title (Chinese).
    pub title: String,
    /// Area.
    pub area: String,
    /// Domain.
    pub domain: String,
    /// Severity.
    pub severity: String,
    /// Model version (hash of the file).
    pub version: String,
    /// Parameter values used.
    pub params: Vec<(String, String)>,
    /// Dataset → snapshot read.
    pub snapshots: BTreeMap<String, String>,
    /// Rows returned.
    pub rows: usize,
    /// Clues.
    pub clues: Vec<Clue>,
    /// Amount involved over all clues (元), when the model names an amount column (in JSON a
    /// decimal string).
    #[serde(serialize_with = "crate::codes::text::yuan_text")]
    pub amount: Option<f64>,
    /// Time taken.
    pub elapsed_ms: u64,
    /// How it ended.
    pub status: Status,
    /// Core inputs it needs and the data lacks (then it did not run).
    pub missing: Vec<String>,
    /// Datasets it reads whose ingest failed in this pipeline: it did not run, rather than
    /// read the previous snapshot under a fresh date.
    pub stale: Vec<String>,
    /// Optional inputs the data lacks (it ran without them).
    pub without: Vec<String>,
    /// Routes that could not look for lack of inputs they need (then it is `partial`).
    pub blind_routes: Vec<super::routes::BlindRoute>,
    /// What it could not assess, by what it lacks (words → how many), from the rows it returned
    /// with an `unassessed` reason: not clues, and not "no problem" — then it is `partial`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unassessed: BTreeMap<String, u64>,
    /// The clue ids and entity keys of what it could not assess: this run resolves none of them.
    #[serde(skip)]
    pub unassessed_clues: Vec<(String, String)>,
    /// Findings about the data it read (words outside a column's value set).
    pub warnings: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Evidence file inside the run directory.
    pub evidence: Option<String>,
    /// Its inputs had not changed: the result was replayed from this earlier run, which
    /// computed it ([`super::carry`]), rather than executed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<String>,
    /// Evaluated incrementally ([`super::increment`]): only the keys the new rows touch were
    /// computed; the other rows are the earlier result's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub increment: Option<super::increment::Increment>,
    /// Incremental updates since the result was last computed in full (a replay keeps the
    /// count of the result it replays).
    #[serde(skip)]
    pub updates: u32,
    /// The rows themselves.
    #[serde(skip)]
    pub batches: Vec<RecordBatch>,
}

impl ModelOutcome {
    /// Why it did not look, in words for the ledger and listings (`None` when it looked).
    pub fn not_run_reason(&self) -> Option<String> {
        if !self.stale.is_empty() {
            Some(format!("not run: ingest of {} failed", self.stale.join(", ")))
        } else if !self.missing.is_empty() {
            Some(format!("not run: needs {}", self.missing.join(", ")))
        } else {
            None
        }
    }

    /// The routes that could not look, in words: `低保资金发放明细路线缺 relief_payments.pay_date`,
    /// then what it could not assess: `12 项无法判断：缺投标起止时间`.
    pub fn blind_words(&self) -> Vec<String> {
        self.blind_routes.iter().map(|r| r.words()).chain(unassessed_words(&self.unassessed)).collect()
    }

    pub(super) fn start(m: &Model) -> Self {
        ModelOutcome {
            model: m.spec.id.clone(),
            title: m.spec.title.clone(),
            area: m.spec.area.clone(),
            domain: m.spec.domain.clone(),
            severity: m.spec.severity.name().to_string(),
            version: m.version.clone(),
            params: Vec::new(),
            snapshots: BTreeMap::new(),
            rows: 0,
            clues: Vec::new(),
            amount: None,
            elapsed_ms: 0,
            status: Status::Ran,
            missing: Vec::new(),
            stale: Vec::new(),
            without: Vec::new(),
            blind_routes: Vec::new(),
            unassessed: BTreeMap::new(),
            unassessed_clues: Vec::new(),
            warnings: Vec::new(),
            error: None,
            evidence: None,
            carried_from: None,
            increment: None,
            updates: 0,
            batches: Vec::new(),
        }
    }
}

/// A run of models.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Run id (time-ordered).
    pub run: String,
    /// As-of date bound as `$as_of`.
    pub as_of: String,
    /// When it started (local time, RFC 3339).
    pub started_at: String,
    /// Per model, in the order run.
    pub models: Vec<ModelOutcome>,
}

impl RunReport {
    /// A new run id for a run started at `now`: UTC to the second and a random suffix, so ids
    /// sort in time order whatever the server's time zone (and across a clock change).
    pub fn new_id(now: chrono::DateTime<chrono::Utc>) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        // the suffix tells apart two runs started in the same second (or at one set time)
        let salt =
            blake3::hash(format!("{:?}{:?}{}", now, nanos, std::process::id()).as_bytes()).to_hex()[..4].to_string();
        format!("R{}-{salt}", now.format("%Y%m%d%H%M%S"))
    }

    /// Models that failed.
    pub fn failed(&self) -> usize {
        self.models.iter().filter(|m| m.status == Status::Failed).count()
    }

    /// Models that could not look for lack of data.
    pub fn not_run(&self) -> usize {
        self.models.iter().filter(|m| m.status == Status::NotRun).count()
    }

    /// Saves the evidence (one Parquet file per model with clues, each row tagged with its clue
    /// id) and `run.json` into `_runs/<run>/` of the lake.
    pub async fn save(&mut self, lake: &Lake) -> anyhow::Result<()> {
        for m in &mut self.models {
            if m.batches.is_empty() || m.rows == 0 {
                continue;
            }
            let mut clue_of = vec![""; m.rows];
            for c in &m.clues {
                for &r in &c.rows {
                    clue_of[r] = c.id.as_str();
                }
            }
            let base = m.batches[0].schema();
            let mut fields: Vec<Arc<Field>> = vec![Arc::new(Field::new("_clue_id", DataType::Utf8, false))];
            fields.extend(base.fields().iter().cloned());
            let schema = Arc::new(Schema::new(fields));
            let mut batches = Vec::new();
            let mut row0 = 0;
            for b in &m.batches {
                let ids = StringArray::from_iter_values(clue_of[row0..row0 + b.num_rows()].iter());
                let mut cols: Vec<ArrayRef> = vec![Arc::new(ids)];
                cols.extend(b.columns().iter().cloned());
                batches.push(RecordBatch::try_new(schema.clone(), cols)?);
                row0 += b.num_rows();
            }
            let bytes = crate::lake::parts::encode(&schema, &batches)?;
            let file = format!("{}.parquet", m.model);
            lake.put_run_file(&self.run, &file, bytes).await?;
            m.evidence = Some(file);
        }
        let json = serde_json::to_vec_pretty(&self)?;
        lake.put_run_file(&self.run, "run.json", json).await?;
        Ok(())
    }
}
