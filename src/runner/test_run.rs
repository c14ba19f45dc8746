//! Running a model's tests: each case's given tables become in-memory tables of their
//! canonical shape (every other dataset of the catalogue is empty), the model runs on them, and
//! the clues' entity keys are compared with what the case says must and must not be flagged.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::{RunRequest, Runner};
use crate::engine::Engine;
use crate::model::{self, Model};
use crate::schema::Schema as Catalog;

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// What went wrong (empty when it passed).
    pub failures: Vec<String>,
    /// Entity keys the model flagged.
    pub flagged: Vec<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every case of a model's test file. An unreadable test file or a given table that does
/// not fit its dataset is an error; a wrong result is a failed case.
pub async fn run_tests(m: &Model, catalog: &Catalog) -> Result<Vec<CaseResult>, model::Error> {
    let path = m.test_path();
    let file = m.tests()?;
    let dir = m.path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let err = |message: String| model::Error { file: path.clone(), line: 0, column: 0, message };
    let mut out = Vec::new();
    for case in &file.cases {
        let engine = Engine::local();
        for given in case.given.keys() {
            if catalog.dataset(given).is_none() {
                let hint = crate::schema::suggest(given, catalog.datasets.keys().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(err(format!("case `{}`: no dataset named `{given}`{hint}", case.name)));
            }
        }
        for d in catalog.datasets.values() {
            let schema = nullable(&d.arrow_schema());
            let batches = match case.given.get(&d.name) {
                Some(g) => {
                    let text = g.text(&dir).map_err(|e| err(format!("case `{}`: {}: {e}", case.name, d.name)))?;
                    vec![
                        table(&schema, &text)
                            .map_err(|e| err(format!("case `{}`, table {}: {e}", case.name, d.name)))?,
                    ]
                }
                None => Vec::new(),
            };
            engine.register_batches(&d.name, schema, batches).map_err(|e| err(e.to_string()))?;
        }
        let mut req = RunRequest::new(case.as_of().map_err(|e| err(format!("case `{}`: {e}", case.name)))?);
        req.overrides = case.overrides().into_iter().map(|(n, v)| (m.spec.id.clone(), n, v)).collect();
        let outcome = Runner::over(engine).run_model(m, &req).await;
        let flagged: Vec<String> = outcome.clues.iter().map(|c| c.entity.clone()).collect();
        let mut failures = Vec::new();
        if let Some(e) = &outcome.error {
            failures.push(format!("the model failed: {e}"));
        }
        for want in &case.flagged {
            if !flagged.contains(want) {
                failures.push(format!("`{want}` must be flagged but is not (flagged: {})", shown(&flagged)));
            }
        }
        for not in &case.not_flagged {
            if flagged.iter().any(|f| f == not || f.split('|').any(|part| part == not)) {
                failures.push(format!("`{not}` must not be flagged but is"));
            }
        }
        let unassessed: Vec<&str> = outcome.unassessed_clues.iter().map(|(_, e)| e.as_str()).collect();
        for want in &case.unassessed {
            if !unassessed.contains(&want.as_str()) {
                failures.push(format!(
                    "`{want}` must be reported as not assessed but is not (not assessed: {})",
                    unassessed.join(", ")
                ));
            }
        }
        for (entity, columns) in &case.expect {
            let Some(clue) = outcome.clues.iter().find(|c| &c.entity == entity) else {
                failures
                    .push(format!("`{entity}` has expected values but is not flagged (flagged: {})", shown(&flagged)));
                continue;
            };
            for (column, want) in columns {
                match evidence_value(&outcome.batches, clue.rows.first().copied().unwrap_or(0), column) {
                    None => failures.push(format!("`{entity}`: the model returns no column `{column}`")),
                    Some(got) if !same_value(&got, want) => {
                        failures.push(format!("`{entity}`: `{column}` is `{got}`, expected `{}`", expected_text(want)))
                    }
                    Some(_) => {}
                }
            }
        }
        if case.flagged.is_empty() && case.not_flagged.is_empty() {
            failures.push("the case names no entity that must or must not be flagged".into());
        }
        out.push(CaseResult { name: case.name.clone(), failures, flagged });
    }
    Ok(out)
}

/// The value of `column` in row `row` of the model's output, as text ("" for NULL).
fn evidence_value(batches: &[RecordBatch], mut row: usize, column: &str) -> Option<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    for b in batches {
        if row < b.num_rows() {
            let a = b.column_by_name(column)?;
            let fo = FormatOptions::default().with_null("");
            return ArrayFormatter::try_new(a.as_ref(), &fo).ok().map(|f| f.value(row).to_string());
        }
        row -= b.num_rows();
    }
    None
}

fn expected_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Numbers equal to the cent; anything else as text.
fn same_value(got: &str, want: &toml::Value) -> bool {
    let want = expected_text(want);
    match (got.trim().parse::<f64>(), want.trim().parse::<f64>()) {
        (Ok(g), Ok(w)) => (g - w).abs() < 0.005,
        _ => got.trim() == want.trim(),
    }
}

fn shown(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

fn nullable(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// A CSV text as a batch of `schema`: columns by header name, values cast to the column types;
/// columns not given are NULL, validity columns are computed from their code column.
fn table(schema: &SchemaRef, text: &str) -> Result<RecordBatch, String> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.trim().as_bytes());
    let headers: Vec<String> = rdr.headers().map_err(|e| e.to_string())?.iter().map(str::to_string).collect();
    for h in &headers {
        if schema.field_with_name(h).is_err() {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!("no column `{h}` (columns: {})", names.join(", ")));
        }
    }
    let records: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let given = |name: &str| -> Option<Vec<Option<String>>> {
        let i = headers.iter().position(|h| h == name)?;
        Some(records.iter().map(|r| r.get(i).filter(|v| !v.is_empty()).map(str::to_string)).collect())
    };
    let opts = CastOptions { safe: false, ..Default::default() };
    let mut columns: Vec<ArrayRef> = Vec::new();
    for f in schema.fields() {
        let values = given(f.name()).or_else(|| {
            // `<code>_valid` computed from its code column, as landing does
            let base = f.name().strip_suffix("_valid")?;
            let kind = schema.field_with_name(base).ok()?.metadata().get("type")?.clone();
            let codes = given(base)?;
            let check = crate::schema::ColumnType::ALL.into_iter().find(|t| t.name() == kind)?.validity_rule()?;
            Some(codes.into_iter().map(|c| c.map(|c| check(&c).to_string())).collect())
        });
        let array: ArrayRef = match values {
            Some(v) => {
                let text: ArrayRef = Arc::new(StringArray::from(v));
                if f.data_type() == &datafusion::arrow::datatypes::DataType::Boolean {
                    let b: BooleanArray = text
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .expect("strings")
                        .iter()
                        .map(|s| s.map(|s| matches!(s, "true" | "1" | "是")))
                        .collect();
                    Arc::new(b)
                } else {
                    cast_with_options(&text, f.data_type(), &opts)
                        .map_err(|e| format!("column `{}` ({}): {e}", f.name(), f.data_type()))?
                }
            }
            None => new_null_array(f.data_type(), records.len()),
        };
        columns.push(array);
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}
