//! The connector file format: one `connectors/<name>.toml` per source, parsed with
//! `deny_unknown_fields` everywhere so a typo is an error, not a silent default.
//!
//! ```toml
//! name     = "treasury_payments"            # the dataset (table) it lands as
//! title    = "国库集中支付明细"
//! domain   = "finance"                      # finance | procurement | land | relief | registry | …
//! location = "fixtures/demo/finance/国库集中支付明细.csv"   # path or glob (project-relative), file://, s3://
//! key      = ["payment_id"]
//!
//! [format]
//! type     = "csv"                          # csv | xlsx | ndjson | parquet
//! encoding = "gbk"                          # utf-8 | gbk | gb18030 | auto
//!
//! [columns]
//! payment_id = { from = "支付凭证号", type = "text", doc = "payment voucher number" }
//! amount     = { from = "金额(万元)", type = "money", unit = "万元" }
//! ```
//!
//! `docs/connectors.md` documents every key.

use indexmap::IndexMap;
use serde::Deserialize;

/// A connector as declared in its TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSpec {
    /// Dataset name in the lake (lower snake case).
    pub name: String,
    /// Chinese title of the dataset (数据集名称).
    pub title: String,
    /// English title.
    #[serde(default)]
    pub title_en: Option<String>,
    /// Domain: finance, procurement, land, relief, registry, investment, research, …
    pub domain: String,
    /// What the dataset holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Providing department (提供部门).
    #[serde(default)]
    pub provider: Option<String>,
    /// Legal basis for obtaining the data (调取依据), kept for 留痕.
    #[serde(default)]
    pub basis: Option<String>,
    /// Path, glob or URL of the export file(s).
    pub location: String,
    /// File format and its options.
    pub format: FormatSpec,
    /// Columns that identify a record; they must not be empty, and duplicates are flagged.
    #[serde(default)]
    pub key: Vec<String>,
    /// Rows whose first non-empty text cell starts with one of these markers are totals rows
    /// (合计/小计/总计 by default); they are set aside in quarantine, never landed as data.
    #[serde(default = "default_totals")]
    pub totals_markers: Vec<String>,
    /// Canonical columns in output order: name → mapping from the export.
    pub columns: IndexMap<String, ColumnSpec>,
}

fn default_totals() -> Vec<String> {
    ["合计", "小计", "总计"].map(String::from).to_vec()
}

/// The file format, tagged by `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FormatSpec {
    /// Delimited text.
    Csv(CsvOptions),
    /// Excel workbook (.xlsx, .xls, .ods).
    Xlsx(XlsxOptions),
    /// Newline-delimited JSON, one object per line.
    Ndjson(NdjsonOptions),
    /// Apache Parquet.
    Parquet(ParquetOptions),
}

impl FormatSpec {
    /// The format's name as written in `type`.
    pub fn name(&self) -> &'static str {
        match self {
            FormatSpec::Csv(_) => "csv",
            FormatSpec::Xlsx(_) => "xlsx",
            FormatSpec::Ndjson(_) => "ndjson",
            FormatSpec::Parquet(_) => "parquet",
        }
    }
}

/// Text encodings of CSV and NDJSON exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Encoding {
    /// UTF-8 (a BOM is accepted).
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK / CP936, the ANSI code page of Chinese Windows (decoded with the GB18030 superset).
    #[serde(rename = "gbk", alias = "cp936")]
    Gbk,
    /// GB 18030.
    #[serde(rename = "gb18030")]
    Gb18030,
    /// UTF-8 if the whole file is valid UTF-8 (or has a UTF-8 BOM), otherwise GB 18030.
    #[serde(rename = "auto")]
    #[default]
    Auto,
}

impl Encoding {
    /// Label as recorded in snapshot manifests.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
            Encoding::Gb18030 => "gb18030",
            Encoding::Auto => "auto",
        }
    }
}

/// Options of `type = "csv"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Text encoding (default `auto`).
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter (default `,`).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// 1-based row holding the column headers; rows above it are titles (default 1).
    #[serde(default = "one")]
    pub header_row: usize,
}

/// Options of `type = "xlsx"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XlsxOptions {
    /// Sheets to read: names, or `["*"]` for every sheet (stacked, as one sheet per township is
    /// common). Default: the first sheet.
    #[serde(default)]
    pub sheets: Vec<String>,
    /// 1-based row holding the column headers on every sheet (default 1).
    #[serde(default = "one")]
    pub header_row: usize,
}

/// Options of `type = "ndjson"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NdjsonOptions {
    /// Text encoding (default `auto`).
    #[serde(default)]
    pub encoding: Encoding,
}

/// Options of `type = "parquet"` (none yet).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParquetOptions {}

fn default_delimiter() -> char {
    ','
}
fn one() -> usize {
    1
}

/// One canonical column and where it comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Header(s) of the export column; the first one present wins. `$sheet` is the sheet name,
    /// `$file` the file name.
    pub from: OneOrMany,
    /// Canonical type.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// Unit of the export values: 元/千元/万元/亿元/分 for money, 平方米/亩/公顷/平方公里 for area.
    #[serde(default)]
    pub unit: Option<String>,
    /// Explicit chrono formats for date, month and timestamp columns, tried before the built-in
    /// ones (2024-03-05, 2024/3/5, 2024年3月5日, 20240305, Excel serial numbers).
    #[serde(default)]
    pub formats: Vec<String>,
    /// An empty value sends the row to quarantine (key columns are always required).
    #[serde(default)]
    pub required: bool,
    /// Meaning of the column (documentation).
    #[serde(default)]
    pub doc: Option<String>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One header.
    One(String),
    /// Alternative headers, first match wins.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The alternatives in order.
    pub fn names(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// Canonical column types and the Arrow type each lands as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Utf8, trimmed and folded to half-width.
    Text,
    /// Int64.
    Int,
    /// Float64.
    Float,
    /// Decimal128(18, 2) in 元, converted from the declared unit.
    Money,
    /// Float64 in square metres, converted from the declared unit.
    Area,
    /// Boolean from 是/否, Y/N, true/false, 1/0, 有/无.
    Bool,
    /// Date32.
    Date,
    /// Date32 holding the first day of the month (发放月份 202403, 2024-03, 2024年3月).
    Month,
    /// Timestamp(millisecond).
    Timestamp,
    /// Resident ID number (Utf8) plus `<name>_valid` (Boolean, GB 11643 check).
    IdCard,
    /// Unified social credit code (Utf8) plus `<name>_valid` (Boolean, GB 32100 check).
    Uscc,
    /// Administrative division code (Utf8, digits only).
    RegionCode,
    /// Bank account or card number (Utf8, digits; numbers with lost digits are flagged).
    Account,
}

impl ColumnType {
    /// Name as written in connector files.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Money => "money",
            ColumnType::Area => "area",
            ColumnType::Bool => "bool",
            ColumnType::Date => "date",
            ColumnType::Month => "month",
            ColumnType::Timestamp => "timestamp",
            ColumnType::IdCard => "id_card",
            ColumnType::Uscc => "uscc",
            ColumnType::RegionCode => "region_code",
            ColumnType::Account => "account",
        }
    }

    /// Whether the type adds a `<name>_valid` column.
    pub fn has_validity(self) -> bool {
        matches!(self, ColumnType::IdCard | ColumnType::Uscc)
    }
}
