//! Conversion of export rows into canonical Arrow columns, with quarantine and flags.
//!
//! Every format decodes its bytes into [`RawRows`] (the export's own cells, in the order of the
//! mapped columns) and hands them to [`Converter::convert`], which applies the column types,
//! units, date shapes and code checks of the connector, column by column.
//!
//! Invariants:
//! - a row is either landed or set aside in quarantine with its location, the raw value, the
//!   reason and the whole raw record — never dropped;
//! - a landed value with a data-quality finding (an ID failing its check, a legacy 15-digit ID,
//!   an ID whose digits Excel lost) is recorded as a flag;
//! - conversion is a pure function of the rows and the spec, so chunks convert in parallel.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use std::collections::BTreeMap;

use datafusion::common::DFSchema;
use datafusion::physical_expr::PhysicalExpr;
use indexmap::IndexMap;

use super::Col;
use super::spec::ColumnType;
use super::value::{self, Cell};
use crate::codes::{id_card, region, text, uscc};
use crate::schema::ValueSet;
pub use crate::schema::{MONEY_PRECISION, MONEY_SCALE};

/// One row-level finding: where, what and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowIssue {
    /// Source file (location as written or listed).
    pub file: String,
    /// Sheet name for workbooks.
    pub sheet: Option<String>,
    /// 1-based line (text formats) or sheet row (workbooks).
    pub line: u64,
    /// Canonical column and the export header it came from (`amount(金额(万元))`).
    pub column: String,
    /// The raw value as it appeared.
    pub raw: String,
    /// Machine-readable code (`bad_date`, `missing_required`, `totals_row`, …).
    pub code: String,
    /// Explanation for the department that must fix the export.
    pub reason: String,
    /// The whole raw record (quarantine only), so the row can be repaired and re-landed.
    pub record: Option<String>,
}

/// Rows of one decoded block, in the export's own shape.
pub trait RawRows {
    /// Number of rows.
    fn len(&self) -> usize;
    /// The cell of mapped column `column` (index into the connector's columns) at `row`.
    fn cell(&self, column: usize, row: usize) -> Cell<'_>;
    /// 1-based line or sheet row of `row`.
    fn line(&self, row: usize) -> u64;
    /// The whole raw record, as text, for quarantine.
    fn record(&self, row: usize) -> String;
    /// The first non-empty cell of the whole row, used to recognise totals rows.
    fn first_text(&self, row: usize) -> Option<String>;
    /// A defect of the whole row found while decoding (code, reason), e.g. a wrong field count.
    fn defect(&self, _row: usize) -> Option<(String, String)> {
        None
    }
    /// How the connector's columns map onto the export's, when the reader keeps one mapping for
    /// the whole block: [`RawRows::mapped`] and [`RawRows::header_unit`] follow from it.
    fn mapping(&self) -> Option<&[super::Mapped]> {
        None
    }
    /// Whether the export has mapped column `column` at all (false for an absent `nullable`
    /// or `default` column).
    fn mapped(&self, column: usize) -> bool {
        self.mapping().is_none_or(|m| m.get(column) != Some(&super::Mapped::Missing))
    }
    /// The unit the header of mapped column `column` names (`金额(元)`), if it names one: it
    /// wins over the column's declared `unit` for these rows.
    fn header_unit(&self, column: usize) -> Option<&'static str> {
        self.mapping().and_then(|m| mapped_unit(m, column))
    }
    /// The word a code sheet of the export gives code `code` of mapped column `column`
    /// (`values = { sheet = "代码说明" }`).
    fn code_word(&self, _column: usize, _code: &str) -> Option<&str> {
        None
    }
}

/// Words a footer row of an export begins with: it is no data.
pub const FOOTER_MARKERS: &[&str] = &[
    "导出时间",
    "导出日期",
    "制表人",
    "制表时间",
    "制表日期",
    "打印时间",
    "打印日期",
    "导出人",
    "审核人",
    "填报人",
    "填表人",
    "填报日期",
];

/// Quarantine codes of rows that are no data (totals, footers, repeated headers): not counted
/// against `max_quarantine`.
pub const NOT_DATA: &[&str] = &["totals_row", "footer_row", "header_row", "section_row"];

/// Landing's note of a valid ID ending in `000` (see [`resolve_truncation`]); never stored.
pub const TRUNCATION_SUSPECT: &str = "ends_000";

/// The flag of an ID that may be an Excel-truncated one.
pub const POSSIBLY_TRUNCATED: &str = "possibly_truncated";

/// Turns the notes of valid IDs ending in `000` into `possibly_truncated` flags for the files
/// and columns where truncation shows elsewhere (`precision_lost`), and drops the others. Done
/// over a whole dataset's flags at once, so the verdict does not depend on how a file was
/// split for landing.
pub fn resolve_truncation(flags: Vec<RowIssue>) -> Vec<RowIssue> {
    let damaged: std::collections::HashSet<(String, String)> =
        flags.iter().filter(|f| f.code == "precision_lost").map(|f| (f.file.clone(), f.column.clone())).collect();
    flags
        .into_iter()
        .filter_map(|mut f| {
            if f.code != TRUNCATION_SUSPECT {
                return Some(f);
            }
            damaged.contains(&(f.file.clone(), f.column.clone())).then(|| {
                f.code = POSSIBLY_TRUNCATED.into();
                f.reason = "以000结尾的身份证号：本文件其他身份证号有Excel截断痕迹，此号校验位虽通过，也可能是截断后巧合，关联前须核实".into();
                f
            })
        })
        .collect()
}

/// What a spreadsheet shows for a formula that failed (`#N/A`, `#DIV/0!`, WPS's `#错误`).
const FORMULA_ERRORS: &[&str] = &[
    "#N/A",
    "#DIV/0!",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#错误",
];

/// A cell that holds a failed formula's error: no value of any type, so the row goes to
/// quarantine instead of landing `#N/A` as text (or as NULL).
fn formula_error(cell: &Cell) -> Option<(&'static str, String)> {
    let Cell::Text(s) = cell else { return None };
    let t = s.trim();
    (t.starts_with('#') && FORMULA_ERRORS.contains(&t)).then(|| ("formula_error", format!("公式错误 {t}，不是数据")))
}

/// The unit a mapping's header names.
pub fn mapped_unit(mapping: &[super::Mapped], column: usize) -> Option<&'static str> {
    match mapping.get(column) {
        Some(super::Mapped::Column(_, unit)) => *unit,
        _ => None,
    }
}

/// The converted form of one block.
#[derive(Debug)]
pub struct Landing {
    /// Landed rows in the canonical schema.
    pub batch: RecordBatch,
    /// Lines of the landed rows (parallel to `batch`).
    pub lines: Vec<u64>,
    /// Rows set aside.
    pub rejected: Vec<RowIssue>,
    /// Landed values with findings.
    pub flagged: Vec<RowIssue>,
    /// Rows read from the export (landed + set aside + filtered out by `where`).
    pub rows_read: usize,
    /// Rows the connector's `where` left out.
    pub filtered: usize,
    /// Values outside their column's value set: column → word → rows.
    pub outside: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per column of the dataset: whether this block of the export provided it.
    pub provided: Vec<bool>,
    /// The source file.
    pub file: String,
    /// Rows set aside (each once, however many of its cells failed).
    pub rows_rejected: usize,
    /// A wide export's source rows, and the cells of its wide columns that became rows.
    pub unpivot_rows: u64,
    pub unpivot_cells: u64,
}

#[derive(Debug, Clone)]
struct ColumnPlan {
    name: String,
    label: String,
    kind: ColumnType,
    money_unit: (i128, i128),
    area_unit: f64,
    formats: Vec<String>,
    required: bool,
    /// index of the column in the rows the readers hand over (all blocks' columns)
    index: usize,
    default: Option<String>,
    /// the connector's value words → canonical text (`true`/`false` for bool columns)
    values: IndexMap<String, String>,
    set: Option<std::sync::Arc<ValueSet>>,
    /// dataset.column, for messages
    qualified: String,
    /// words that land as NULL (cleaned)
    null_words: Vec<String>,
    /// the export explains its codes on a code sheet
    code_sheet: bool,
    /// the headers it is read from, as matched (to recognise a repeated header row)
    headers: Vec<String>,
}

/// The compiled column mapping of one dataset of a connector.
#[derive(Debug, Clone)]
pub struct Converter {
    columns: Vec<ColumnPlan>,
    schema: SchemaRef,
    totals_markers: Vec<String>,
    filter: Option<Arc<dyn PhysicalExpr>>,
}

impl Converter {
    /// Compiles one dataset's columns, whose values sit at `offset..` of the rows readers hand
    /// over; fails on unknown units, misplaced options and a `where` that does not plan.
    pub fn new(
        dataset: &str,
        cols: &IndexMap<String, Col>,
        key: &[String],
        filter: Option<&str>,
        totals_markers: &[String],
        offset: usize,
    ) -> Result<Self, String> {
        let mut columns = Vec::new();
        let mut fields = Vec::new();
        for (i, (name, c)) in cols.iter().enumerate() {
            let label = c.from.first().filter(|h| !h.starts_with('$')).cloned().unwrap_or_else(|| c.label.clone());
            let mut money_unit = (1, 1);
            let mut area_unit = 1.0;
            match (c.kind, c.unit.as_deref()) {
                (_, None) => {}
                (ColumnType::Money, Some(u)) => {
                    money_unit = value::money_unit(u).ok_or_else(|| {
                        format!("column `{name}`: unknown money unit `{u}` (use 元, 千元, 万元, 亿元 or 分)")
                    })?
                }
                (ColumnType::Area, Some(u)) => {
                    area_unit = value::area_unit(u).ok_or_else(|| {
                        format!("column `{name}`: unknown area unit `{u}` (use 平方米, 亩, 公顷 or 平方公里)")
                    })?
                }
                (k, Some(u)) => {
                    return Err(format!(
                        "column `{name}`: `unit = \"{u}\"` applies only to money and area, not {}",
                        k.name()
                    ));
                }
            }
            // a header that names its unit is read in that unit; one that contradicts `unit` is
            // a mistake (`金额(元)` under `unit = "万元"` would multiply 元 by 10 000)
            if matches!(c.kind, ColumnType::Money | ColumnType::Area) {
                for alt in &c.from {
                    let Some(named) = value::unit_in_header(alt) else { continue };
                    let fits = if c.kind == ColumnType::Money {
                        value::money_unit(named).is_some()
                    } else {
                        value::area_unit(named).is_some()
                    };
                    if !fits {
                        return Err(format!(
                            "column `{name}`: the header `{alt}` names {named}, which is no unit of {}",
                            c.kind.name()
                        ));
                    }
                    if let Some(declared) = c.unit.as_deref().filter(|d| *d != named) {
                        return Err(format!(
                            "column `{name}`: the header `{alt}` names {named} but `unit = \"{declared}\"`; a header that names its unit is read in it — drop `unit`, or give each header's unit by its name"
                        ));
                    }
                }
            }
            if !c.formats.is_empty() && !matches!(c.kind, ColumnType::Date | ColumnType::Month | ColumnType::Timestamp)
            {
                return Err(format!("column `{name}`: `formats` applies only to date, month and timestamp columns"));
            }
            let mut meta = std::collections::HashMap::new();
            meta.insert("label".to_string(), label.clone());
            meta.insert("type".to_string(), c.kind.name().to_string());
            if !c.doc.is_empty() {
                meta.insert("doc".to_string(), c.doc.clone());
            }
            if let Some(u) = &c.unit {
                meta.insert("source_unit".to_string(), u.clone());
            }
            if key.contains(name) {
                meta.insert("key".to_string(), "true".to_string());
            }
            if c.extra {
                meta.insert("extra".to_string(), "true".to_string());
            }
            let required = c.required || key.contains(name);
            fields.push(Field::new(name, c.kind.arrow(), !required).with_metadata(meta));
            if c.kind.has_validity() {
                fields.push(Field::new(format!("{name}_valid"), DataType::Boolean, true));
            }
            columns.push(ColumnPlan {
                name: name.clone(),
                label,
                kind: c.kind,
                money_unit,
                area_unit,
                formats: c.formats.clone(),
                required,
                index: offset + i,
                default: c.default.clone(),
                values: c.values.clone(),
                set: c.set.clone(),
                qualified: format!("{dataset}.{name}"),
                null_words: c.null_words.clone(),
                code_sheet: c.code_sheet.is_some(),
                headers: c.from.iter().filter(|h| !h.starts_with('$')).map(|h| header_text(h)).collect(),
            });
        }
        let schema = Arc::new(Schema::new(fields));
        let filter = match filter {
            None => None,
            Some(sql) => Some(compile_filter(sql, &schema).map_err(|e| format!("where `{sql}`: {e}"))?),
        };
        Ok(Converter { columns, schema, totals_markers: totals_markers.to_vec(), filter })
    }

    /// How many of the columns read from the export hold a value in `row`.
    fn filled(&self, raw: &dyn RawRows, row: usize) -> usize {
        self.columns.iter().filter(|c| raw.mapped(c.index) && !matches!(raw.cell(c.index, row), Cell::Empty)).count()
    }

    /// Whether `row` is the header again: every column read from a header holds a header it is
    /// read from (two at least).
    fn repeats_header(&self, raw: &dyn RawRows, row: usize) -> bool {
        let mut seen = 0;
        for c in self.columns.iter().filter(|c| !c.headers.is_empty() && raw.mapped(c.index)) {
            match raw.cell(c.index, row) {
                Cell::Text(t)
                    if c.headers
                        .iter()
                        .any(|h| *h == header_text(t) || h.rsplit('/').next() == Some(&header_text(t))) =>
                {
                    seen += 1
                }
                _ => return false,
            }
        }
        seen >= 2
    }

    /// The canonical schema (with `<name>_valid` columns after ID and credit-code columns).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Converts one block. `file` and `sheet` name the origin in issue records.
    pub fn convert(&self, raw: &dyn RawRows, file: &str, sheet: Option<&str>) -> Landing {
        let n = raw.len();
        let mut pass = Pass {
            reject: vec![false; n],
            skip: vec![false; n],
            rejected: Vec::new(),
            flagged: Vec::new(),
            outside: BTreeMap::new(),
            file,
            sheet,
        };
        // rows that are no data: totals, a footer (导出时间：…), the header repeated inside the
        // export (a report printed in sections) — set aside as such, before any defect of theirs
        for row in 0..n {
            let first = raw.first_text(row).map(|f| text::clean(&f).into_owned());
            let starts = |markers: &[&str]| first.as_deref().is_some_and(|f| markers.iter().any(|m| f.starts_with(m)));
            let not_data =
                if first.as_deref().is_some_and(|f| self.totals_markers.iter().any(|m| f.starts_with(m.as_str()))) {
                    Some(("totals_row", "合计/小计行，不是明细数据，未入湖"))
                } else if starts(FOOTER_MARKERS) {
                    Some(("footer_row", "表尾(导出时间、制表人等)，不是明细数据，未入湖"))
                } else if self.repeats_header(raw, row) {
                    Some(("header_row", "重复的表头行(分段导出)，不是明细数据，未入湖"))
                } else if row + 1 < n
                    && (raw.defect(row).is_some() || self.filled(raw, row) <= 1)
                    && self.repeats_header(raw, row + 1)
                {
                    Some(("section_row", "分段标题行(下一行为重复表头)，不是明细数据，未入湖"))
                } else {
                    None
                };
            if let Some((code, reason)) = not_data {
                pass.reject_row(raw, row, "*", first.as_deref().unwrap_or_default(), code, reason.into());
            } else if let Some((code, reason)) = raw.defect(row) {
                pass.reject_row(raw, row, "*", "", &code, reason);
            }
        }
        pass.skip.clone_from(&pass.reject);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for plan in &self.columns {
            plan.convert(raw, &mut pass, &mut arrays);
        }
        let provided = self.columns.iter().map(|p| raw.mapped(p.index) || p.default.is_some()).collect();
        // rows set aside may hold nulls in required columns until they are filtered out
        let loose = Arc::new(Schema::new(
            self.schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(loose, arrays).expect("converter builds arrays of its own schema");
        // `where`: rows it rejects are not this dataset's; their findings go with them, unless
        // the condition could not be judged on a value that failed to convert
        let mut filtered = 0;
        // rows the `where` leaves out (filtered, not quarantined)
        let mut left_out = vec![false; n];
        if let Some(f) = &self.filter {
            let keep = f
                .evaluate(&batch)
                .and_then(|v| v.into_array(n))
                .ok()
                .and_then(|a| a.as_any().downcast_ref::<BooleanArray>().cloned());
            let mut out = vec![false; n];
            for (row, o) in out.iter_mut().enumerate() {
                let verdict = keep.as_ref().and_then(|k| k.is_valid(row).then(|| k.value(row)));
                // a condition that cannot be judged (NULL) leaves a row out, unless the row has
                // a value that failed to convert: then it stays in quarantine, never dropped
                let unparseable =
                    || pass.rejected.iter().any(|i| i.line == raw.line(row) && i.code != "missing_required");
                *o = match verdict {
                    Some(true) => false,
                    Some(false) => true,
                    None => !(pass.reject[row] && unparseable()),
                };
            }
            let lines_out: std::collections::HashSet<u64> = (0..n).filter(|&r| out[r]).map(|r| raw.line(r)).collect();
            pass.rejected.retain(|i| !lines_out.contains(&i.line));
            pass.flagged.retain(|i| !lines_out.contains(&i.line));
            for (row, o) in out.iter().enumerate() {
                if *o {
                    filtered += 1;
                    pass.reject[row] = true;
                    left_out[row] = true;
                }
            }
        }
        let (batch, lines) = if pass.reject.iter().any(|r| *r) {
            let keep = BooleanArray::from(pass.reject.iter().map(|r| !r).collect::<Vec<_>>());
            let lines = (0..n).filter(|&r| !pass.reject[r]).map(|r| raw.line(r)).collect();
            (filter_record_batch(&batch, &keep).expect("mask matches batch length"), lines)
        } else {
            (batch, (0..n).map(|r| raw.line(r)).collect())
        };
        let batch = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .expect("required columns hold no nulls once rejected rows are removed");
        // a flag on a row that was set aside is superseded by the quarantine record
        let rejected_lines: std::collections::HashSet<u64> = pass.rejected.iter().map(|i| i.line).collect();
        pass.flagged.retain(|f| !rejected_lines.contains(&f.line));
        Landing {
            batch,
            lines,
            rows_rejected: pass.reject.iter().zip(&left_out).filter(|(r, out)| **r && !**out).count(),
            rejected: pass.rejected,
            flagged: pass.flagged,
            rows_read: n,
            filtered,
            outside: pass.outside,
            provided,
            file: file.to_string(),
            unpivot_rows: 0,
            unpivot_cells: 0,
        }
    }
}

/// A header as compared for a repeated header row: cleaned, no blanks.
fn header_text(h: &str) -> String {
    text::clean(h).chars().filter(|c| !c.is_whitespace()).collect()
}

/// Plans a connector's `where` condition over the dataset's columns (DataFusion's SQL).
fn compile_filter(sql: &str, schema: &SchemaRef) -> Result<Arc<dyn PhysicalExpr>, String> {
    let loose = Schema::new(schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>());
    let df_schema = DFSchema::try_from(loose).map_err(|e| e.strip_backtrace())?;
    let ctx = datafusion::prelude::SessionContext::new();
    let expr = ctx.parse_sql_expr(sql, &df_schema).map_err(|e| first_line(&e.strip_backtrace()))?;
    let phys = ctx.create_physical_expr(expr, &df_schema).map_err(|e| first_line(&e.strip_backtrace()))?;
    if phys.data_type(df_schema.as_arrow()).map_err(|e| e.strip_backtrace())? != DataType::Boolean {
        return Err("is not a true/false condition".into());
    }
    Ok(phys)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// Arrow type of a canonical column type.
pub fn arrow_type(kind: ColumnType) -> DataType {
    kind.arrow()
}

struct Pass<'a> {
    outside: BTreeMap<String, BTreeMap<String, u64>>,
    reject: Vec<bool>,
    /// rows set aside as a whole (totals rows, broken records): their cells are not examined
    skip: Vec<bool>,
    rejected: Vec<RowIssue>,
    flagged: Vec<RowIssue>,
    file: &'a str,
    sheet: Option<&'a str>,
}

impl Pass<'_> {
    fn issue(
        &self,
        raw: &dyn RawRows,
        row: usize,
        column: &str,
        value: &str,
        code: &str,
        reason: String,
        record: bool,
    ) -> RowIssue {
        RowIssue {
            file: self.file.to_string(),
            sheet: self.sheet.map(str::to_string),
            line: raw.line(row),
            column: column.to_string(),
            raw: value.to_string(),
            code: code.to_string(),
            reason,
            record: record.then(|| raw.record(row)),
        }
    }

    fn reject_row(&mut self, raw: &dyn RawRows, row: usize, column: &str, value: &str, code: &str, reason: String) {
        // one quarantine record per failing cell; the row itself is excluded once
        let issue = self.issue(raw, row, column, value, code, reason, true);
        self.rejected.push(issue);
        self.reject[row] = true;
    }

    fn flag(&mut self, raw: &dyn RawRows, row: usize, column: &str, value: &str, code: &str, reason: &str) {
        let issue = self.issue(raw, row, column, value, code, reason.to_string(), false);
        self.flagged.push(issue);
    }
}

fn date_to_days(d: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    /// Days from 0001-01-01 (CE day 1) to 1970-01-01.
    const EPOCH_FROM_CE: i32 = 719_163;
    d.num_days_from_ce() - EPOCH_FROM_CE
}

fn id_reason(i: id_card::Issue) -> &'static str {
    match i {
        id_card::Issue::Checksum => "身份证号校验位不符(GB 11643)，已保留并标记",
        id_card::Issue::BadDate => "身份证号出生日期无效，已保留并标记",
        id_card::Issue::Upgraded15 => "15位旧身份证号已升为18位",
        id_card::Issue::RestoredFromNumber => "身份证号曾以数字存储，位数已精确恢复",
        id_card::Issue::PrecisionLost => {
            "身份证号以数字存储丢失末位(Excel仅保留15位有效数字)，无法比对，未入湖该值，请修正导出"
        }
        id_card::Issue::Masked => "身份证号已脱敏，无法比对",
        id_card::Issue::Malformed => "不是18位或15位身份证号，已保留并标记",
    }
}

fn uscc_reason(i: uscc::Issue) -> &'static str {
    match i {
        uscc::Issue::Checksum => "统一社会信用代码校验位不符(GB 32100)，已保留并标记",
        uscc::Issue::Malformed => "不是18位统一社会信用代码，已保留并标记",
        uscc::Issue::PrecisionLost => "统一社会信用代码以数字存储丢失位数，未入湖该值，请修正导出",
    }
}

impl ColumnPlan {
    fn display(&self) -> String {
        if self.label == self.name { self.name.clone() } else { format!("{}({})", self.name, self.label) }
    }

    /// A text value folded onto the canonical words: the connector's `values` first, then the
    /// value set's synonyms; a word still outside a closed set is kept and flagged.
    fn fold<'a>(
        &'a self,
        value: std::borrow::Cow<'a, str>,
        raw: &dyn RawRows,
        row: usize,
        pass: &mut Pass,
        column: &str,
    ) -> std::borrow::Cow<'a, str> {
        if value.is_empty() || (self.values.is_empty() && self.set.is_none() && !self.code_sheet) {
            return value;
        }
        let mapped = match raw
            .code_word(self.index, value.as_ref())
            .or_else(|| self.values.get(value.as_ref()).map(String::as_str))
        {
            Some(t) => std::borrow::Cow::Owned(t.to_string()),
            None => value,
        };
        let Some(set) = &self.set else { return mapped };
        if mapped.is_empty() {
            return mapped;
        }
        match set.fold(&mapped) {
            Some(c) if c == mapped.as_ref() => mapped,
            Some(c) => std::borrow::Cow::Owned(c.to_string()),
            None if set.open => mapped,
            None => {
                *pass.outside.entry(self.name.clone()).or_default().entry(mapped.to_string()).or_insert(0) += 1;
                let reason = format!(
                    "「{mapped}」不在 {} 的规范取值({})中，已按原样入湖；请在连接器该列的 values 中映射",
                    self.qualified,
                    set.values.join("、")
                );
                pass.flag(raw, row, column, &mapped, "unknown_value", &reason);
                mapped
            }
        }
    }

    /// The cell of this column as landing reads it: a word of `null_words` is no value (and is
    /// counted as a `null_word` flag).
    fn cell_in<'a>(&'a self, raw: &'a dyn RawRows, row: usize, pass: &mut Pass, column: &str) -> Cell<'a> {
        let cell = self.cell(raw, row);
        if !self.null_words.is_empty()
            && let Cell::Text(t) = &cell
        {
            let word = text::clean(t);
            if self.null_words.iter().any(|w| *w == word) {
                pass.flag(raw, row, column, &word, "null_word", "表示“无”的文字(null_words)，按空值入湖");
                return Cell::Empty;
            }
        }
        cell
    }

    /// The cell of this column, or the column's default where the export has none.
    fn cell<'a>(&'a self, raw: &'a dyn RawRows, row: usize) -> Cell<'a> {
        match raw.cell(self.index, row) {
            Cell::Empty => self.default.as_deref().map_or(Cell::Empty, Cell::Text),
            Cell::Text(t) if self.default.is_some() && text::clean(t).is_empty() => {
                self.default.as_deref().map_or(Cell::Empty, Cell::Text)
            }
            c => c,
        }
    }

    fn convert(&self, raw: &dyn RawRows, pass: &mut Pass, out: &mut Vec<ArrayRef>) {
        let n = raw.len();
        let column = self.display();
        // `Err(None)` = empty value, `Err(Some((code, reason)))` = cannot be coerced
        macro_rules! fill {
            ($builder:expr, $parse:expr) => {{
                let mut b = $builder;
                for row in 0..n {
                    if pass.skip[row] {
                        b.append_null();
                        continue;
                    }
                    let cell = self.cell_in(raw, row, pass, &column);
                    let parsed = if matches!(cell, Cell::Empty) {
                        Err(None)
                    } else if let Some(e) = formula_error(&cell) {
                        Err(Some(e))
                    } else {
                        $parse(cell)
                    };
                    match parsed {
                        Ok(v) => b.append_value(v),
                        Err(None) => {
                            if self.required && !pass.reject[row] {
                                pass.reject_row(
                                    raw,
                                    row,
                                    &column,
                                    "",
                                    "missing_required",
                                    format!("必填列 {column} 为空"),
                                );
                            }
                            b.append_null()
                        }
                        Err(Some((code, reason))) => {
                            pass.reject_row(raw, row, &column, &cell.display(), code, reason);
                            b.append_null()
                        }
                    }
                }
                out.push(Arc::new(b.finish()) as ArrayRef);
            }};
        }
        let formats = &self.formats;
        match self.kind {
            ColumnType::Text => {
                // the hot path of most exports: no allocation when a value needs no folding
                let mut b = StringBuilder::with_capacity(n, n * 8);
                for row in 0..n {
                    if pass.skip[row] {
                        b.append_null();
                        continue;
                    }
                    let cell = self.cell_in(raw, row, pass, &column);
                    if let Some((code, reason)) = formula_error(&cell) {
                        pass.reject_row(raw, row, &column, &cell.display(), code, reason);
                        b.append_null();
                        continue;
                    }
                    let owned;
                    let value: std::borrow::Cow<str> = match cell {
                        Cell::Empty => std::borrow::Cow::Borrowed(""),
                        Cell::Text(s) => text::clean(s),
                        Cell::ExcelDate(v) => {
                            owned =
                                value::excel_serial(v).map(|d| d.date().to_string()).unwrap_or_else(|| v.to_string());
                            std::borrow::Cow::Borrowed(owned.as_str())
                        }
                        Cell::Number(v) => {
                            // a long digit string (an ID, an account) typed into Excel as a number
                            // kept only 15 significant digits: land what is there, but say so
                            if v.fract() == 0.0 && v.abs() >= 1e15 {
                                pass.flag(
                                    raw,
                                    row,
                                    &column,
                                    &format!("{v}"),
                                    "precision_lost",
                                    "长数字以数值存储(Excel仅保留15位有效数字)，末位可能已丢失，已按原样入湖并标记",
                                );
                            }
                            std::borrow::Cow::Owned(cell.display())
                        }
                        other => std::borrow::Cow::Owned(other.display()),
                    };
                    let value = self.fold(value, raw, row, pass, &column);
                    if value.is_empty() {
                        if self.required && !pass.reject[row] {
                            pass.reject_row(raw, row, &column, "", "missing_required", format!("必填列 {column} 为空"));
                        }
                        b.append_null();
                    } else {
                        b.append_value(value);
                    }
                }
                out.push(Arc::new(b.finish()) as ArrayRef);
            }
            ColumnType::Int => fill!(Int64Builder::with_capacity(n), |c: Cell| match c {
                Cell::Int(v) => Ok(v),
                Cell::Number(v) if v.fract() == 0.0 && v.abs() < 9.2e18 => Ok(v as i64),
                Cell::Text(s) if text::clean(s).is_empty() => Err(None),
                Cell::Text(s) =>
                    value::parse_i64(&text::clean(s)).ok_or_else(|| Some(("bad_int", format!("整数无法识别: {s}")))),
                other => Err(Some(("bad_int", format!("整数无法识别: {}", other.display())))),
            }),
            ColumnType::Float | ColumnType::Area => {
                let area_unit = raw.header_unit(self.index).and_then(value::area_unit).unwrap_or(self.area_unit);
                let factor = if self.kind == ColumnType::Area { area_unit } else { 1.0 };
                fill!(Float64Builder::with_capacity(n), |c: Cell| match c {
                    Cell::Int(v) => Ok(v as f64 * factor),
                    Cell::Number(v) => Ok(v * factor),
                    Cell::Text(s) if text::clean(s).is_empty() => Err(None),
                    Cell::Text(s) => value::parse_f64(&text::clean(s))
                        .map(|v| v * factor)
                        .ok_or_else(|| Some(("bad_number", format!("数值无法识别: {s}")))),
                    other => Err(Some(("bad_number", format!("数值无法识别: {}", other.display())))),
                })
            }
            ColumnType::Money => {
                let unit = raw.header_unit(self.index).and_then(value::money_unit).unwrap_or(self.money_unit);
                let b = Decimal128Builder::with_capacity(n)
                    .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                    .expect("valid decimal type");
                fill!(b, |c: Cell| {
                    let parsed = match c {
                        Cell::Int(v) => Some((v as i128, 0)),
                        Cell::Number(v) => value::parse_decimal(&format!("{v}")),
                        Cell::Text(s) => {
                            let s = text::clean(s);
                            if s.is_empty() || s == "-" {
                                return Err(None);
                            }
                            value::parse_decimal(&s)
                        }
                        _ => None,
                    };
                    parsed
                        .and_then(|(d, s)| value::to_cents(d, s, unit))
                        .filter(|c| c.abs() < 10i128.pow(MONEY_PRECISION as u32))
                        .ok_or_else(|| Some(("bad_amount", format!("金额无法识别: {}", c.display()))))
                })
            }
            ColumnType::Bool => fill!(BooleanBuilder::with_capacity(n), |c: Cell| match c {
                Cell::Bool(b) => Ok(b),
                Cell::Text(s) if self.values.contains_key(text::clean(s).as_ref()) => {
                    Ok(self.values[text::clean(s).as_ref()] == "true")
                }
                Cell::Int(v) if v == 0 || v == 1 => Ok(v == 1),
                Cell::Number(v) if v == 0.0 || v == 1.0 => Ok(v == 1.0),
                Cell::Text(s) if text::clean(s).is_empty() => Err(None),
                Cell::Text(s) =>
                    value::parse_bool(&text::clean(s)).ok_or_else(|| Some(("bad_bool", format!("是/否无法识别: {s}")))),
                other => Err(Some(("bad_bool", format!("是/否无法识别: {}", other.display())))),
            }),
            ColumnType::Date | ColumnType::Month => {
                let month = self.kind == ColumnType::Month;
                fill!(Date32Builder::with_capacity(n), |c: Cell| {
                    let d = match c {
                        Cell::ExcelDate(v) => value::excel_serial(v).map(|t| t.date()),
                        // a number typed as YYYYMM or YYYYMMDD is not an Excel serial
                        Cell::Number(v) if v.fract() == 0.0 && (100_000.0..100_000_000.0).contains(&v) => {
                            let s = format!("{v}");
                            if month { value::parse_month(&s, formats) } else { value::parse_date(&s, formats) }
                        }
                        Cell::Number(v) => value::excel_serial(v).map(|t| t.date()),
                        Cell::Int(v) => {
                            let s = v.to_string();
                            if month { value::parse_month(&s, formats) } else { value::parse_date(&s, formats) }
                        }
                        Cell::Text(s) => {
                            let s = text::clean(s);
                            if s.is_empty() {
                                return Err(None);
                            }
                            if month { value::parse_month(&s, formats) } else { value::parse_date(&s, formats) }
                        }
                        _ => None,
                    };
                    let d = if month { d.and_then(|d| d.with_day0(0)) } else { d };
                    d.map(date_to_days).ok_or_else(|| {
                        Some(if month {
                            ("bad_month", format!("月份无法识别: {}", c.display()))
                        } else {
                            ("bad_date", format!("日期无法识别: {}", c.display()))
                        })
                    })
                })
            }
            ColumnType::Timestamp => {
                fill!(TimestampMillisecondBuilder::with_capacity(n), |c: Cell| {
                    let t = match c {
                        Cell::ExcelDate(v) | Cell::Number(v) => value::excel_serial(v),
                        Cell::Int(v) => value::parse_timestamp(&v.to_string(), formats),
                        Cell::Text(s) => {
                            let s = text::clean(s);
                            if s.is_empty() {
                                return Err(None);
                            }
                            value::parse_timestamp(&s, formats)
                        }
                        _ => None,
                    };
                    t.map(|t| t.and_utc().timestamp_millis())
                        .ok_or_else(|| Some(("bad_timestamp", format!("时间无法识别: {}", c.display()))))
                })
            }
            ColumnType::RegionCode => fill!(StringBuilder::with_capacity(n, n * 12), |c: Cell| {
                let s = match c {
                    Cell::Text(s) => text::clean(s).into_owned(),
                    Cell::Int(v) => v.to_string(),
                    Cell::Number(v) if v.fract() == 0.0 => format!("{v}"),
                    other => other.display(),
                };
                if s.is_empty() {
                    return Err(None);
                }
                region::normalize(&s)
                    .ok_or_else(|| Some(("bad_region", format!("行政区划代码应为2/4/6/9/12位数字: {s}"))))
            }),
            ColumnType::Account => self.coded(raw, pass, out, &column, CodeKind::Account),
            ColumnType::IdCard => self.coded(raw, pass, out, &column, CodeKind::IdCard),
            ColumnType::Uscc => self.coded(raw, pass, out, &column, CodeKind::Uscc),
        }
    }

    /// ID numbers, credit codes and accounts: text that Excel may have damaged by storing it as
    /// a number. Values are flagged, never rejected, except when required and missing.
    fn coded(&self, raw: &dyn RawRows, pass: &mut Pass, out: &mut Vec<ArrayRef>, column: &str, kind: CodeKind) {
        let n = raw.len();
        let mut values = StringBuilder::with_capacity(n, n * 18);
        let mut valid = BooleanBuilder::with_capacity(n);
        for row in 0..n {
            if pass.skip[row] {
                values.append_null();
                if kind != CodeKind::Account {
                    valid.append_null();
                }
                continue;
            }
            let cell = self.cell_in(raw, row, pass, &column);
            // a failed lookup (`#N/A`) in an ID or account column is no code either
            if let Some((code, reason)) = formula_error(&cell) {
                pass.reject_row(raw, row, column, &cell.display(), code, reason);
                values.append_null();
                if kind != CodeKind::Account {
                    valid.append_null();
                }
                continue;
            }
            // (value, validity, finding code, finding reason)
            let (v, ok, finding): (Option<String>, Option<bool>, Option<(&str, &str)>) = match kind {
                CodeKind::IdCard => {
                    let norm = match cell {
                        Cell::Empty => id_card::Normalized { value: None, issue: None },
                        Cell::Text(s) => id_card::normalize_text(s),
                        Cell::Number(v) => id_card::normalize_number(v),
                        Cell::Int(v) => id_card::normalize_text(&v.to_string()),
                        other => id_card::normalize_text(&other.display()),
                    };
                    let ok = norm.value.as_deref().map(id_card::is_valid);
                    let mut finding = norm.issue.map(|i| (i.code(), id_reason(i)));
                    // a valid ID ending in 000 is what one in eleven Excel-truncated IDs looks
                    // like: noted here, and flagged when the file shows truncation elsewhere
                    if finding.is_none()
                        && ok == Some(true)
                        && norm.value.as_deref().is_some_and(|v| v.ends_with("000"))
                    {
                        finding = Some((TRUNCATION_SUSPECT, ""));
                    }
                    (norm.value, ok, finding)
                }
                CodeKind::Uscc => {
                    let (v, issue) = match cell {
                        Cell::Empty => (None, None),
                        Cell::Text(s) => uscc::normalize_text(s),
                        Cell::Number(v) => uscc::normalize_number(v),
                        other => uscc::normalize_text(&other.display()),
                    };
                    let ok = v.as_deref().map(uscc::is_valid);
                    (v, ok, issue.map(|i| (i.code(), uscc_reason(i))))
                }
                CodeKind::Account => match cell {
                    Cell::Empty => (None, None, None),
                    // the common case: already a plain digit string
                    Cell::Text(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                        (Some(s.to_string()), None, None)
                    }
                    Cell::Number(v) => match crate::codes::float_digits(v, |_| false) {
                        Some(crate::codes::NumberDigits::Exact(d)) => {
                            (Some(d), None, Some(("restored_from_number", "账号曾以数字存储，位数已精确恢复")))
                        }
                        _ => (
                            None,
                            None,
                            Some((
                                "precision_lost",
                                "账号以数字存储丢失位数(Excel仅保留15位有效数字)，未入湖该值，请修正导出",
                            )),
                        ),
                    },
                    other => {
                        let s: String =
                            text::clean(&other.display()).chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
                        match crate::codes::text_number_digits(&s) {
                            Some(crate::codes::NumberDigits::Truncated) => (
                                None,
                                None,
                                Some(("precision_lost", "账号以科学计数法存储丢失位数，未入湖该值，请修正导出")),
                            ),
                            Some(crate::codes::NumberDigits::Exact(d)) if s.contains(['.', 'E', 'e']) => {
                                (Some(d), None, Some(("restored_from_number", "账号曾以数字存储，位数已精确恢复")))
                            }
                            _ if s.is_empty() => (None, None, None),
                            _ => (Some(s), None, None),
                        }
                    }
                },
            };
            if let Some((code, reason)) = finding {
                pass.flag(raw, row, column, &cell.display(), code, reason);
            }
            if v.is_none() && self.required && !pass.reject[row] {
                let reason = match finding {
                    Some((_, r)) => format!("必填列 {column} 无可用值: {r}"),
                    None => format!("必填列 {column} 为空"),
                };
                pass.reject_row(raw, row, column, &cell.display(), "missing_required", reason);
            }
            values.append_option(v);
            if kind != CodeKind::Account {
                valid.append_option(ok);
            }
        }
        out.push(Arc::new(values.finish()));
        if kind != CodeKind::Account {
            out.push(Arc::new(valid.finish()));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeKind {
    IdCard,
    Uscc,
    Account,
}

use chrono::Datelike as _;

/// Rows held in memory as cells, for formats that decode whole records at once (tests, NDJSON).
pub struct CellRows<'a> {
    /// `cells[row][column]`
    pub cells: Vec<Vec<Cell<'a>>>,
    /// 1-based line of each row.
    pub lines: Vec<u64>,
    /// Raw record text of each row.
    pub records: Vec<String>,
}

impl RawRows for CellRows<'_> {
    fn len(&self) -> usize {
        self.cells.len()
    }
    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        self.cells[row].get(column).copied().unwrap_or(Cell::Empty)
    }
    fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }
    fn record(&self, row: usize) -> String {
        self.records[row].clone()
    }
    fn first_text(&self, row: usize) -> Option<String> {
        self.cells[row].iter().find(|c| !matches!(c, Cell::Empty)).map(|c| c.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_unix_epoch() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(date_to_days(d(1970, 1, 1)), 0);
        assert_eq!(date_to_days(d(1969, 12, 31)), -1);
        assert_eq!(date_to_days(d(2024, 3, 5)), 19_787);
        assert_eq!(date_to_days(d(1900, 1, 1)), -25_567);
    }
}
