//! The connector file format: one `connectors/<name>.toml` per source, parsed with
//! `deny_unknown_fields` everywhere so a typo is an error, not a silent default.
//!
//! One export, one dataset (the short form):
//!
//! ```toml
//! name     = "treasury_payments"            # the canonical dataset it lands as
//! location = "exports/国库集中支付明细.csv"  # path or glob (project-relative), file://, s3://
//!
//! [format]
//! type     = "csv"                          # csv | xlsx | ndjson | parquet
//! encoding = "gbk"                          # utf-8 | gbk | gb18030 | auto
//!
//! [columns]
//! payment_id = { from = "支付凭证号" }       # type and meaning come from the canonical schema
//! amount     = { from = "金额(万元)", unit = "万元" }
//! pay_method = { from = "支付方式", values = { "直接" = "直接支付" } }
//! source     = { default = "财政" }         # a column the export lacks: a constant …
//! payee_bank = { nullable = true }          # … or NULL
//! ```
//!
//! One export, several datasets: `[[dataset]]` blocks share `location` and `[format]`, each with
//! its own `name`, `[dataset.columns]`, optional `key` and `where`. A derived dataset has no
//! location: `derive = "SELECT … FROM …"` over landed datasets. `docs/connectors.md` documents
//! every key.

use indexmap::IndexMap;
use serde::Deserialize;

pub use crate::schema::ColumnType;

/// A connector as declared in its TOML file, before it is checked against the schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSpec {
    /// Dataset it lands (short form; `[[dataset]]` blocks name their own).
    #[serde(default)]
    pub name: Option<String>,
    /// Title of the export (default: the dataset's canonical title).
    #[serde(default)]
    pub title: Option<String>,
    /// English title.
    #[serde(default)]
    pub title_en: Option<String>,
    /// Domain (default: the dataset's canonical domain; required for a user's own dataset).
    #[serde(default)]
    pub domain: Option<String>,
    /// What the export holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Providing department (提供部门).
    #[serde(default)]
    pub provider: Option<String>,
    /// Legal basis for obtaining the data (调取依据), kept for 留痕.
    #[serde(default)]
    pub basis: Option<String>,
    /// Path, glob or URL of the export file(s).
    #[serde(default)]
    pub location: Option<String>,
    /// The files found are zip archives: read their members that match this pattern
    /// (`"*.csv"`, `"2025/低保*.xlsx"`).
    #[serde(default)]
    pub members: Option<String>,
    /// File format and its options.
    #[serde(default)]
    pub format: Option<FormatSpec>,
    /// A derived dataset: one SELECT over landed datasets instead of a location.
    #[serde(default)]
    pub derive: Option<String>,
    /// A department database's table or query instead of files (`[database]`).
    #[serde(default)]
    pub database: Option<DatabaseSpec>,
    /// A paged HTTP JSON API instead of files (`[http]`).
    #[serde(default)]
    pub http: Option<HttpSpec>,
    /// The export only grows: each delivery adds files (next month's 发放明细) and never changes
    /// a file already landed. A new snapshot then lands only the new files and shares the
    /// files of the one before; a changed or missing earlier file lands everything afresh.
    #[serde(default)]
    pub append: bool,
    /// Rows whose first non-empty text cell starts with one of these markers are totals rows
    /// (合计/小计/总计 by default); they are set aside in quarantine, never landed as data.
    #[serde(default = "default_totals")]
    pub totals_markers: Vec<String>,
    /// The largest share of an export's rows that may be quarantined (0–1; default 0.05). An
    /// ingest beyond it fails with its top reasons and the previous snapshot stays current: an
    /// export whose rows mostly did not load is not "no problems".
    #[serde(default)]
    pub max_quarantine: Option<f64>,
    /// Columns that identify a record (default: the dataset's canonical key).
    #[serde(default)]
    pub key: Option<Vec<String>>,
    /// Keep only the rows for which this SQL condition over the dataset's columns holds
    /// (`where = "filed"`); the others are counted as filtered, not quarantined.
    #[serde(default, rename = "where")]
    pub filter: Option<String>,
    /// A dataset of the user's own, not in the canonical schema: every column needs a `type`.
    #[serde(default)]
    pub custom: bool,
    /// How repeated keys are read: `collapse` (one record per key) or `keep` (default: by the
    /// dataset's canonical grain).
    #[serde(default)]
    pub repeats: Option<Repeats>,
    /// JSON documents: land each element of this child array of every record (`股东`), with the
    /// record's own fields beside it (its key, for one).
    #[serde(default)]
    pub each: Option<String>,
    /// Canonical columns in output order: name → mapping from the export.
    #[serde(default)]
    pub columns: IndexMap<String, ColumnSpec>,
    /// Several datasets from one export.
    #[serde(default)]
    pub dataset: Vec<BlockSpec>,
    /// A wide export (a column per month) landed as a row per cell.
    #[serde(default)]
    pub unpivot: Option<UnpivotSpec>,
}

/// `[unpivot]`: which columns of a wide export become rows ([`super::unpivot`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnpivotSpec {
    /// The headers that become rows: a regular expression; its first capture is the period.
    pub columns: String,
    /// The column the header's period lands in.
    pub into: String,
    /// The column each cell lands in.
    pub value: String,
    /// Where the year comes from when the headers name months only: `$sheet`, `$file`, or a
    /// year (`"2025"`).
    #[serde(default)]
    pub year: Option<String>,
    /// The year inside the sheet or file name (default `(\d{4})`).
    #[serde(default)]
    pub year_pattern: Option<String>,
}

impl ConnectorSpec {
    /// The datasets it declares: the short form's (when `name` is set), then the blocks.
    pub fn blocks(&self) -> Vec<BlockSpec> {
        let short = self.name.as_ref().map(|name| BlockSpec {
            name: name.clone(),
            title: self.title.clone(),
            domain: self.domain.clone(),
            key: self.key.clone(),
            filter: self.filter.clone(),
            custom: self.custom,
            repeats: self.repeats,
            each: self.each.clone(),
            columns: self.columns.clone(),
        });
        short.into_iter().chain(self.dataset.iter().cloned()).collect()
    }
}

/// What one dataset of a connector declares: a `[[dataset]]` block, or the short form's
/// top-level keys (`ConnectorSpec::blocks`). The short form repeats these keys because serde's
/// `flatten` does not combine with `deny_unknown_fields`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    /// The dataset it lands.
    pub name: String,
    /// Title of this dataset (default: canonical).
    #[serde(default)]
    pub title: Option<String>,
    /// Domain (user's own datasets).
    #[serde(default)]
    pub domain: Option<String>,
    /// Columns that identify a record (default: the dataset's canonical key).
    #[serde(default)]
    pub key: Option<Vec<String>>,
    /// Keep only the rows for which this SQL condition over the dataset's columns holds
    /// (`where = "filed"`); the others are counted as filtered, not quarantined.
    #[serde(default, rename = "where")]
    pub filter: Option<String>,
    /// A dataset of the user's own, not in the canonical schema: every column needs a `type`.
    #[serde(default)]
    pub custom: bool,
    /// How repeated keys are read: `collapse` (one record per key) or `keep` (default: by the
    /// dataset's canonical grain).
    #[serde(default)]
    pub repeats: Option<Repeats>,
    /// JSON documents: land each element of this child array of every record.
    #[serde(default)]
    pub each: Option<String>,
    /// Canonical columns in output order: name → mapping from the export.
    #[serde(default)]
    pub columns: IndexMap<String, ColumnSpec>,
}

/// How repeated keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Repeats {
    /// One record per key: identical repeats land once, differing ones are flagged.
    Collapse,
    /// Every row lands; repeated keys are flagged.
    Keep,
}

/// `max_quarantine` when a connector does not set it.
pub const DEFAULT_MAX_QUARANTINE: f64 = 0.05;

fn default_totals() -> Vec<String> {
    ["合计", "小计", "总计"].map(String::from).to_vec()
}

/// `[database]`: a table or query of a department's database, read live.
///
/// ```toml
/// [database]
/// kind         = "postgres"           # postgres | mysql (MariaDB speaks it too)
/// host         = "10.1.2.3"
/// port         = 5432
/// database     = "czzf"
/// user_env     = "CZZF_DB_USER"       # credentials come from environment variables only
/// password_env = "CZZF_DB_PASSWORD"
/// table        = "public.zf_mx"       # or: query = "SELECT … FROM …"
/// watermark    = "update_time"        # optional: incremental loads of rows past the last one
/// tls          = "require"            # require (default) | verify-full | disable
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// Which protocol the server speaks.
    pub kind: DatabaseKind,
    /// Host name or address.
    pub host: String,
    /// Port (default: the kind's, 5432 or 3306).
    #[serde(default)]
    pub port: Option<u16>,
    /// Database (schema, for MySQL) to connect to.
    pub database: String,
    /// User name, when it is not a secret.
    #[serde(default)]
    pub user: Option<String>,
    /// Environment variable holding the user name.
    #[serde(default)]
    pub user_env: Option<String>,
    /// Environment variable holding the password (never the password itself).
    #[serde(default)]
    pub password_env: Option<String>,
    /// A table (optionally `schema.table`) to read whole.
    #[serde(default)]
    pub table: Option<String>,
    /// A SELECT to read instead of a table.
    #[serde(default)]
    pub query: Option<String>,
    /// A column that grows with every new row (an insert time, an increasing id): after the first
    /// load, each load reads only rows past the largest value landed before.
    #[serde(default)]
    pub watermark: Option<String>,
    /// Transport security.
    #[serde(default)]
    pub tls: TlsMode,
    /// PEM file of the certificate authority that signed the server's certificate
    /// (`verify-full`; default: the public roots).
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Rows per batch landed (default 50 000); a batch is also cut at 64 MiB of text, or a
    /// thirty-second of the memory limit.
    #[serde(default)]
    pub batch_rows: Option<usize>,
    /// Seconds to wait for the connection (default 30).
    #[serde(default)]
    pub connect_timeout: Option<u64>,
    /// The zone points in time (`timestamptz`, MySQL `TIMESTAMP`) are read in (default
    /// `Asia/Shanghai`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// The protocol of a database source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// PostgreSQL (and servers that speak its protocol).
    #[serde(alias = "postgresql")]
    Postgres,
    /// MySQL, MariaDB (and servers that speak their protocol).
    #[serde(alias = "mariadb")]
    Mysql,
}

impl DatabaseKind {
    /// Its name in messages.
    pub fn label(self) -> &'static str {
        match self {
            DatabaseKind::Postgres => "PostgreSQL",
            DatabaseKind::Mysql => "MySQL",
        }
    }

    /// The port it listens on unless told otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            DatabaseKind::Postgres => 5432,
            DatabaseKind::Mysql => 3306,
        }
    }
}

/// How a database connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Encrypted; the server's certificate is not checked (libpq's `sslmode=require`).
    #[default]
    Require,
    /// Encrypted, and the certificate must be valid for the host (`ca_file` or public roots).
    VerifyFull,
    /// In clear: only on a network the data may cross unencrypted.
    Disable,
}

/// `[http]`: a paged JSON API (a 交易中心 or 一卡通 platform), read live.
///
/// ```toml
/// [http]
/// url         = "https://jyzx.example.gov.cn/api/deals?year=2025"
/// records     = "data.list"        # where each page holds its records
/// paging      = "page"             # none | page | offset | cursor | next
/// page_param  = "pageNo"           # page: the page number's parameter (first_page = 1)
/// size_param  = "pageSize"         # page / offset: the page size's parameter …
/// page_size   = 100                # … and its value
/// auth_header = "Authorization"    # a header whose value comes from …
/// auth_env    = "JYZX_TOKEN"       # … this environment variable (never the file)
/// rate_limit  = 5                  # requests per second at most
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// The first page's address (`https://…`); paging parameters are added to it.
    pub url: String,
    /// Where a page holds its records (`data.list`); default: the page when it is an array, else
    /// the first array of objects in it.
    #[serde(default)]
    pub records: Option<String>,
    /// How the API pages.
    #[serde(default)]
    pub paging: Paging,
    /// `page`: the page number's parameter (default `page`).
    #[serde(default)]
    pub page_param: Option<String>,
    /// `page`: the first page's number (default 1).
    #[serde(default)]
    pub first_page: Option<u64>,
    /// `offset`: the offset's parameter (default `offset`).
    #[serde(default)]
    pub offset_param: Option<String>,
    /// `page` / `offset`: the page size's parameter (`offset` default `limit`).
    #[serde(default)]
    pub size_param: Option<String>,
    /// `page` / `offset`: records per page to ask for (default 100).
    #[serde(default)]
    pub page_size: Option<u64>,
    /// `cursor`: the parameter the cursor is sent in (default `cursor`).
    #[serde(default)]
    pub cursor_param: Option<String>,
    /// `cursor`: where a page holds the next cursor (`data.nextCursor`); none or empty ends.
    #[serde(default)]
    pub cursor_path: Option<String>,
    /// `next`: where a page holds the next page's address (`links.next`); none or empty ends.
    #[serde(default)]
    pub next_path: Option<String>,
    /// A header sent with every request (`Authorization`) …
    #[serde(default)]
    pub auth_header: Option<String>,
    /// … whose value is in this environment variable.
    #[serde(default)]
    pub auth_env: Option<String>,
    /// Requests per second at most (default: no limit).
    #[serde(default)]
    pub rate_limit: Option<f64>,
    /// Retries of a request that failed on the way or with 429 / 5xx (default 3), waiting 0.5 s,
    /// 1 s, 2 s … or what `Retry-After` asks.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Seconds a request may take (default 30).
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Pages at most (default 100 000): an API that never ends is an error, not a hang.
    #[serde(default)]
    pub max_pages: Option<u64>,
}

/// How an HTTP API pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paging {
    /// One request.
    #[default]
    None,
    /// `page=1, 2, …` until a page holds no record.
    Page,
    /// `offset=0, n, 2n, …` until a page holds no record.
    Offset,
    /// A cursor from each page sent with the next request, until there is none.
    Cursor,
    /// The next page's address in each page, until there is none.
    Next,
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
    /// One JSON document (an API dump): an array of objects, or an object holding one.
    Json(JsonOptions),
    /// Fixed-width text: columns cut by widths or at a ruler line's dashes.
    Fixed(FixedOptions),
    /// Apache Parquet.
    Parquet(ParquetOptions),
    /// Open Contracting Data Standard releases or records (JSON lines or a package), landed as
    /// the procurement tables of its `[[dataset]]` blocks.
    Ocds(OcdsOptions),
}

impl FormatSpec {
    /// The format's name as written in `type`.
    pub fn name(&self) -> &'static str {
        match self {
            FormatSpec::Csv(_) => "csv",
            FormatSpec::Xlsx(_) => "xlsx",
            FormatSpec::Ndjson(_) => "ndjson",
            FormatSpec::Json(_) => "json",
            FormatSpec::Fixed(_) => "fixed",
            FormatSpec::Parquet(_) => "parquet",
            FormatSpec::Ocds(_) => "ocds",
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
    /// UTF-16 with a byte-order mark (little-endian without one), as Excel saves "Unicode
    /// text"; such a file is read whole, not in chunks.
    #[serde(rename = "utf-16", alias = "utf16", alias = "unicode")]
    Utf16,
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
            Encoding::Utf16 => "utf-16",
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
    /// How many rows the header spans from `header_row` (default 1); columns are then named
    /// `组/列`.
    #[serde(default = "one")]
    pub header_rows: usize,
}

/// Options of `type = "xlsx"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XlsxOptions {
    /// Sheets to read: names or patterns (`"*年度"`, `"*"` for every sheet: stacked, as one sheet
    /// per township is common). A pattern may match differently named sheets in each file.
    /// Default: the first sheet.
    #[serde(default)]
    pub sheets: Vec<String>,
    /// 1-based row holding the column headers on every sheet (the first of them, with
    /// `header_rows`; default 1).
    #[serde(default = "one")]
    pub header_row: usize,
    /// How many rows the header spans (a group row merged over its columns: 2); columns are then
    /// named `组/列` (`近亲属/姓名`). Default 1.
    #[serde(default = "one")]
    pub header_rows: usize,
    /// Columns (by header, as in `from`) whose empty cells take the value above: a roster that
    /// writes the official once over his relatives' rows without merging the cells.
    #[serde(default)]
    pub fill_down: Vec<String>,
}

/// Options of `type = "ndjson"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NdjsonOptions {
    /// Text encoding (default `auto`).
    #[serde(default)]
    pub encoding: Encoding,
}

/// Options of `type = "json"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonOptions {
    /// Text encoding (default `auto`: UTF-8, GB 18030, or UTF-16 by its byte-order mark).
    #[serde(default)]
    pub encoding: Encoding,
    /// Where the records are (`data.list`): default the document when it is an array, else the
    /// first array of objects under its top-level keys.
    #[serde(default)]
    pub records: Option<String>,
}

/// Options of `type = "ocds"` (none yet: the file is UTF-8 JSON, as the standard says).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcdsOptions {}

/// Options of `type = "fixed"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedOptions {
    /// Text encoding (default `auto`: UTF-8 if valid, else GB 18030).
    #[serde(default)]
    pub encoding: Encoding,
    /// 1-based line of the headers (default 1).
    #[serde(default = "one")]
    pub header_row: usize,
    /// Column widths in bytes of the file's encoding, left to right.
    #[serde(default)]
    pub widths: Vec<usize>,
    /// The line under the header is a ruler (`------ ---- --------`): columns start at its dash
    /// groups.
    #[serde(default)]
    pub ruler: bool,
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Header(s) of the export column; the first one present wins. `$sheet` is the sheet name,
    /// `$file` the file name. Omitted: the export lacks the column (`default` or `nullable`).
    #[serde(default)]
    pub from: Option<OneOrMany>,
    /// Type (default: the canonical type; required for the user's own columns).
    #[serde(default, rename = "type")]
    pub kind: Option<ColumnType>,
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
    /// A constant for cells that are empty, or for every row when the export lacks the column.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// The export may lack the column: it lands as NULL, and models that need it say so.
    #[serde(default)]
    pub nullable: bool,
    /// The export's words mapped onto the canonical ones (`"离职" = "离退休"`), or onto true and
    /// false for bool columns (`"中标" = true`).
    #[serde(default)]
    pub values: IndexMap<String, toml::Value>,
    /// A column of the user's own, added to a canonical dataset.
    #[serde(default)]
    pub extra: bool,
    /// Meaning of the column (default: the canonical meaning).
    #[serde(default)]
    pub doc: Option<String>,
    /// What papers, briefs and mails call a column of the project's own (default: the export's
    /// header; a canonical column keeps its canonical label).
    #[serde(default)]
    pub label: Option<String>,
    /// Words that mean "no value" in this column (`["未开工", "无", "—"]` in a date column): they
    /// land as NULL, each counted as a `null_word` flag, never a failed row.
    #[serde(default)]
    pub null_words: Vec<String>,
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
