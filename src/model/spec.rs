//! The header of a model file: what the model is, whom it concerns, and its typed parameters.

use indexmap::IndexMap;
use serde::Deserialize;

use super::params::ParamSpec;

/// The TOML header of a model (`/* … */` at the top of its `.sql` file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Stable id: clue identities derive from it, so it survives edits of SQL and thresholds.
    pub id: String,
    /// The entry of the reference catalogue it implements (M01 … M50), if any.
    #[serde(default)]
    pub catalog: Option<String>,
    /// Title in Chinese.
    pub title: String,
    /// Title in English.
    pub title_en: String,
    /// finance, procurement, land, relief, registry, investment, research …
    pub domain: String,
    /// Supervision area (低保, 政府采购, 耕地保护, 招商引资, 科研经费, …).
    pub area: String,
    /// How serious a clue of this model is.
    pub severity: Severity,
    /// The team that owns the model.
    pub owner: String,
    /// What the model finds and why it matters.
    pub description: String,
    /// 政策依据: laws and regulations with article.
    pub basis: Vec<String>,
    /// Output columns that identify the clue's entity (its identity across runs).
    pub entity: Vec<String>,
    /// Output column naming the inspected unit (被巡视/巡察单位) or region code.
    pub unit: String,
    /// Output column with the amount involved (元), if any.
    #[serde(default)]
    pub amount: Option<String>,
    /// Inputs the model can do without: `dataset` or `dataset.column`. When absent they are
    /// registered empty or NULL with their canonical type and the run says "ran without …";
    /// any other input the SQL reads is core, and without it the model does not run.
    #[serde(default)]
    pub optional: Vec<String>,
    /// Groups of inputs of which at least one must be present (one concept, several real-world
    /// forms: a bid fingerprint as IP, MAC or machine code). Each is optional on its own.
    #[serde(default)]
    pub one_of: Vec<Vec<String>>,
    /// Cron expression (sec min hour day month weekday) for scheduled runs.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Typed parameters the SQL refers to as `$name`.
    #[serde(default)]
    pub params: IndexMap<String, ParamSpec>,
    /// Chinese labels of output columns (for papers), over the library's `labels.toml`.
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    /// How the model may evaluate only what changed ([`IncrementalSpec`]).
    #[serde(default)]
    pub incremental: Option<IncrementalSpec>,
}

/// `[incremental]`: the model's rows for one value of `key` depend only on the rows of `table`
/// with that value (and on inputs that did not change). When `table` is the only input that
/// changed since the model's last result, and its new snapshot appends to the one that result
/// read, the model is evaluated over the keys the new rows hold only; its other rows are
/// carried. The model's author vouches for the locality; `searchlight run --full` and the
/// periodic full sweep compute everything.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncrementalSpec {
    /// The growing input (a dataset the SQL reads).
    pub table: String,
    /// Its column that holds an entity's key.
    pub key: String,
    /// The output column (one of `entity`) that holds the same key.
    pub output: String,
    /// When the SQL binds `$as_of`: the column of `table` that `$as_of` bounds (`pay_month <=
    /// $as_of`), and the only way the as-of date reaches the result. A moved as-of then
    /// re-evaluates the keys whose rows lie between the two dates as well. Without it, a moved
    /// as-of computes everything.
    #[serde(default)]
    pub as_of: Option<String>,
}

/// Severity of a model's clues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// 高
    High,
    /// 中
    Medium,
    /// 低
    Low,
}

impl Severity {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Severity::High => "高",
            Severity::Medium => "中",
            Severity::Low => "低",
        }
    }

    /// Lower-case English name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}
