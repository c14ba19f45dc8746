//! Model tests (`<name>.test.toml` beside `<name>.sql`), like dbt unit tests: small input tables
//! and the entity keys that must and must not be flagged.
//!
//! ```toml
//! [[case]]
//! name = "在编人员领低保"            # what the case shows
//! as_of = 2025-12-31                 # optional; default 2025-12-31
//! params = { grace_days = "0" }      # optional overrides
//! flagged = ["340524198602070026"]   # entity keys (values joined by `|`) that must be clues
//! not_flagged = ["340102200005110077"]
//! unassessed = ["340524199001010011"]  # optional: entity keys the model must say it could not assess
//! [case.expect."340524198602070026"]  # optional: evidence values of a flagged entity's first row
//! months = 14
//! [case.given]
//! payroll = """
//! id_no,name,unit_name,category,start_date
//! 340524198602070026,郑伟文,县卫健委,在编,2010-01-01
//! """
//! relief_members = { file = "tests/members.csv" }   # or a CSV file, relative to the model
//! ```
//!
//! Tables not given are empty; columns not given are NULL (validity columns such as
//! `id_no_valid` are computed when their code column is given). Parsing only: the runner runs them.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

/// The as-of date of a case that does not set one.
pub const DEFAULT_AS_OF: &str = "2025-12-31";

/// A model's test file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Its cases.
    #[serde(rename = "case")]
    pub cases: Vec<TestCase>,
}

/// One case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What it shows.
    pub name: String,
    /// The run's as-of date.
    #[serde(default)]
    pub as_of: Option<toml::value::Datetime>,
    /// Parameter overrides.
    #[serde(default)]
    pub params: IndexMap<String, toml::Value>,
    /// Input tables by dataset name.
    #[serde(default)]
    pub given: IndexMap<String, Given>,
    /// Entity keys that must be clues.
    #[serde(default)]
    pub flagged: Vec<String>,
    /// Entity keys that must not be clues.
    #[serde(default)]
    pub not_flagged: Vec<String>,
    /// Entity keys the model must say it could not assess (rows with an `unassessed` reason).
    #[serde(default)]
    pub unassessed: Vec<String>,
    /// Evidence values a flagged entity's first row must hold: entity key → column → value
    /// (numbers compared to the cent, anything else as the text the paper shows).
    #[serde(default)]
    pub expect: IndexMap<String, IndexMap<String, toml::Value>>,
}

/// An input table: inline CSV text, or a CSV file.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Given {
    /// CSV text with a header row.
    Inline(String),
    /// A CSV file relative to the model file.
    File {
        /// The path.
        file: PathBuf,
    },
}

impl Given {
    /// The CSV text.
    pub fn text(&self, model_dir: &Path) -> std::io::Result<String> {
        match self {
            Given::Inline(s) => Ok(s.clone()),
            Given::File { file } => std::fs::read_to_string(model_dir.join(file)),
        }
    }
}

/// Parses a test file's text (`path` names it in errors); errors carry line and column.
pub fn parse(path: &Path, text: &str) -> Result<TestFile, super::Error> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = crate::position::line_col(text, e.span().map(|s| s.start).unwrap_or(0));
        super::Error { file: path.to_path_buf(), line, column, message: e.message().to_string() }
    })
}

impl TestCase {
    /// The as-of date.
    pub fn as_of(&self) -> Result<chrono::NaiveDate, String> {
        let s = self.as_of.as_ref().map(|d| d.to_string()).unwrap_or_else(|| DEFAULT_AS_OF.to_string());
        chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| format!("as_of `{s}` is not a date"))
    }

    /// Parameter overrides as text.
    pub fn overrides(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    }
}
