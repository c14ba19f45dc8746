//! STAGE 1 · connectors: `connectors/*.toml` → canonical Arrow rows, ready to land.
//!
//! A connector declares where a department's export lives, its format and encoding, and how its
//! own headers (身份证号码, 金额(万元), 发放日期) map to canonical, typed columns. No Rust is needed
//! to add one. This module owns that declaration ([`spec`]), the parsing of values and codes
//! ([`value`], [`convert`]) and one reader per file format; the exhaustive `match` in
//! [`reader`] is the only list of formats.
//!
//! The seam is [`Connector::source`]: every source — export files, a database, an HTTP API —
//! behind one [`source::Source`] trait (survey, then read each split), whose rows
//! [`Connector::read_rows`] hands as raw rows to [`Connector::convert_piece`], the one place
//! they become canonical [`Landing`]s. Splits are independent, so the lake converts them in
//! parallel. Nothing here writes anywhere: landing is the lake's job.
//!
//! # Adding a format
//! Add a variant to [`spec::FormatSpec`] with its options struct, a module implementing
//! [`FormatReader`], and one arm in [`reader`].

pub mod archive;
pub mod chunk;
pub mod convert;
mod csv;
pub mod database;
mod fixed;
pub mod html;
pub mod http;
mod ndjson;
pub mod ocds;
mod parquet;
pub mod skeleton;
pub mod source;
pub mod spec;
pub mod unpivot;
pub mod value;
mod xlsx;

use crate::position::line_col;
use std::ops::Range;
use std::path::{Path, Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt};

pub use convert::{Converter, Landing, RowIssue};
pub use spec::{ColumnType, ConnectorSpec, Encoding, FormatSpec};

use indexmap::IndexMap;

use crate::codes::text;
use crate::schema::{Dataset, Grain, Origin, Schema};
use crate::storage;

/// Errors of the connector stage. Each names the file and, where it can, the line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connector declaration is wrong (the user's spec): file, line and column.
    #[error("{path}:{line}:{column}: {message}")]
    Spec { path: String, line: usize, column: usize, message: String },
    /// A source location cannot be read (missing file, empty glob, unreachable store).
    #[error("{file}: {message}")]
    Source { file: String, message: String },
    /// The export itself is unusable: undecodable bytes, a mapped column missing, no header.
    #[error("{file}:{line}: {message}")]
    Input { file: String, line: u64, message: String },
    /// Storage failure while reading.
    #[error("{file}: {source}")]
    Store { file: String, source: object_store::Error },
}

/// Bytes per read in pass one.
const READ_BLOCK: u64 = 16 << 20;

/// Result alias of this stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A loaded connector, checked against the canonical schema.
#[derive(Debug, Clone)]
pub struct Connector {
    /// Its id: the file name without `.toml`.
    pub id: String,
    /// The declaration as written.
    pub spec: ConnectorSpec,
    /// The file it was read from.
    pub path: PathBuf,
    /// Hash of the declaration file; a changed mapping re-lands an unchanged export.
    pub spec_hash: String,
    /// Where the rows come from.
    pub source: Source,
    /// The datasets it lands, in declaration order.
    pub blocks: Vec<Block>,
    /// A wide export turned into rows.
    pub unpivot: Option<unpivot::Unpivot>,
}

/// Where a connector's rows come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Export files.
    Files {
        /// Path, glob or URL.
        location: String,
        /// Format and options.
        format: FormatSpec,
    },
    /// One SELECT over landed datasets (a derived dataset).
    Derived {
        /// The query.
        sql: String,
    },
    /// A table or query of a department's database, read live ([`database`]).
    Database(spec::DatabaseSpec),
    /// A paged HTTP JSON API, read live ([`http`]).
    Http(spec::HttpSpec),
}

/// One dataset a connector lands, resolved against the schema.
#[derive(Debug, Clone)]
pub struct Block {
    /// Dataset name.
    pub name: String,
    /// Title shown in listings.
    pub title: String,
    /// Domain.
    pub domain: String,
    /// A dataset of the user's own.
    pub custom: bool,
    /// Key columns.
    pub key: Vec<String>,
    /// Its columns in landing order.
    pub columns: IndexMap<String, Col>,
    /// Row condition (SQL), if any.
    pub filter: Option<String>,
    /// Repeated keys are one record.
    pub collapse: bool,
    /// JSON documents: the child array of every record whose elements are this block's rows.
    pub each: Option<String>,
    pub(crate) converter: Converter,
}

/// One resolved column of a block.
#[derive(Debug, Clone)]
pub struct Col {
    /// Export headers to look for (empty: the export lacks it).
    pub from: Vec<String>,
    /// Type.
    pub kind: ColumnType,
    /// Unit of the export values.
    pub unit: Option<String>,
    /// Extra date formats.
    pub formats: Vec<String>,
    /// Empty values are quarantined.
    pub required: bool,
    /// Constant for empty or missing values.
    pub default: Option<String>,
    /// The export may lack it (NULL).
    pub nullable: bool,
    /// The connector's own value words (cleaned) → canonical text or `true`/`false`.
    pub values: IndexMap<String, String>,
    /// The canonical value set.
    pub set: Option<std::sync::Arc<crate::schema::ValueSet>>,
    /// The user's own column.
    pub extra: bool,
    /// Meaning.
    pub doc: String,
    /// Chinese label.
    pub label: String,
    /// Words that land as NULL (cleaned).
    pub null_words: Vec<String>,
    /// The workbook sheet that explains this column's codes (`values = { sheet = "代码说明" }`).
    pub code_sheet: Option<CodeSheet>,
}

/// A code sheet: a sheet of the same workbook with a code column and a word column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSheet {
    /// The sheet's name.
    pub sheet: String,
    /// The code column's header (default: the first column).
    pub code: Option<String>,
    /// The word column's header (default: the column after the code).
    pub word: Option<String>,
}

/// `values = { sheet = "…", code = "…", word = "…" }` is a code sheet, not a word map.
fn code_sheet_of(values: &IndexMap<String, toml::Value>) -> Option<CodeSheet> {
    let text = |k: &str| values.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let only = values.keys().all(|k| matches!(k.as_str(), "sheet" | "code" | "word"));
    match (only, text("sheet")) {
        (true, Some(sheet)) => Some(CodeSheet { sheet, code: text("code"), word: text("word") }),
        _ => None,
    }
}

impl Col {
    /// Whether the connector says where values come from (a header or a constant).
    pub fn provided(&self) -> bool {
        !self.from.is_empty() || self.default.is_some()
    }
}

impl Block {
    /// The dataset definition this block lands: for a user's own dataset, built from its
    /// columns; for a canonical one, the canonical definition plus the user's extra columns.
    pub fn dataset(&self, schema: &Schema, connector: &Path) -> Dataset {
        let extra = |name: &str, c: &Col| crate::schema::Column {
            name: name.to_string(),
            kind: c.kind,
            label: c.label.clone(),
            headers: c.from.clone(),
            doc: c.doc.clone(),
            values: c.set.clone(),
            extra: true,
        };
        match schema.dataset(&self.name).filter(|d| !d.is_custom()) {
            Some(canon) => {
                let mut d = canon.clone();
                for (n, c) in self.columns.iter().filter(|(_, c)| c.extra) {
                    d.columns.insert(n.clone(), extra(n, c));
                }
                d
            }
            None => Dataset {
                name: self.name.clone(),
                title: self.title.clone(),
                title_en: None,
                domain: self.domain.clone(),
                grain: if self.collapse { Grain::Entity } else { Grain::Event },
                provider: None,
                description: None,
                key: self.key.clone(),
                names: Vec::new(),
                columns: self.columns.iter().map(|(n, c)| (n.clone(), extra(n, c))).collect(),
                origin: Origin::Custom(connector.display().to_string()),
            },
        }
    }

    /// The canonical schema of what lands (the connector's columns, with validity columns).
    pub fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        self.converter.schema()
    }
}

/// Byte offset of `key = …` at the start of a line, searching from `from`.
fn key_offset(text: &str, key: &str, from: usize) -> Option<usize> {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        if off >= from {
            let t = line.trim_start();
            if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
                return Some(off + (line.len() - t.len()));
            }
        }
        off += line.len();
    }
    None
}

/// Finds where a message about a connector file should point.
struct Locator<'a> {
    text: &'a str,
    path: String,
    /// byte offset where each dataset block starts (short form: 0)
    blocks: Vec<usize>,
}

impl Locator<'_> {
    fn error(&self, block: Option<usize>, needle: &str, message: String) -> Error {
        let from = block.and_then(|b| self.blocks.get(b).copied()).unwrap_or(0);
        let off = key_offset(self.text, needle, from)
            .or_else(|| self.text[from..].find(needle).map(|o| o + from))
            .unwrap_or(from);
        let (line, column) = line_col(self.text, off);
        Error::Spec { path: self.path.clone(), line, column, message }
    }
}

/// Checks what no live source (`[database]`, `[http]`) has beside it: files.
fn check_live(spec: &ConnectorSpec, loc: &Locator, table: &str) -> Result<()> {
    let err = |needle: &str, message: String| Err(loc.error(None, needle, message));
    if spec.location.is_some() || spec.format.is_some() || spec.derive.is_some() || spec.members.is_some() {
        let needle = if spec.location.is_some() {
            "location"
        } else if spec.format.is_some() {
            "[format]"
        } else {
            "derive"
        };
        return err(
            needle,
            format!("a `{table}` connector reads no files: drop `location`, `[format]`, `members` and `derive`"),
        );
    }
    if spec.append {
        return err("append", format!("`append` is for exports that grow file by file, not a `{table}` source"));
    }
    Ok(())
}

/// Whether `v` can name an environment variable (`CZZF_DB_PASSWORD`): a secret's value written
/// where its variable's name belongs is refused, never used.
fn env_name(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !v.as_bytes()[0].is_ascii_digit()
}

/// Checks an `[http]` declaration: an address, the keys its paging needs, auth in pairs.
fn check_http(h: &spec::HttpSpec, loc: &Locator) -> Result<()> {
    use spec::Paging;
    let err = |needle: &str, message: &str| Err(loc.error(None, needle, message.to_string()));
    match url::Url::parse(&h.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return err("url", "`url` is an http:// or https:// address"),
    }
    if h.auth_header.is_some() != h.auth_env.is_some() {
        return err(
            if h.auth_header.is_some() { "auth_header" } else { "auth_env" },
            "`auth_header` names the header and `auth_env` the environment variable holding its value: give both",
        );
    }
    if let Some(v) = h.auth_env.as_deref().filter(|v| !env_name(v)) {
        return err(
            "auth_env",
            &format!("`auth_env` names an environment variable (`JYZX_TOKEN`), not a value: `{v}` is not such a name"),
        );
    }
    if h.paging == Paging::Cursor && h.cursor_path.is_none() {
        return err("paging", "`paging = \"cursor\"` needs `cursor_path`: where each page holds the next cursor");
    }
    if h.paging == Paging::Next && h.next_path.is_none() {
        return err("paging", "`paging = \"next\"` needs `next_path`: where each page holds the next page's address");
    }
    if h.rate_limit.is_some_and(|r| !(0.001..=10_000.0).contains(&r)) {
        return err("rate_limit", "`rate_limit` is requests per second, above 0: from 0.001 (one in 1000 s) to 10000");
    }
    if h.page_size == Some(0) || h.max_pages == Some(0) {
        return err(if h.page_size == Some(0) { "page_size" } else { "max_pages" }, "must be at least 1");
    }
    Ok(())
}

/// Checks a `[database]` declaration: one of `table` and `query`, credentials by environment
/// variable.
fn check_database(db: &spec::DatabaseSpec, loc: &Locator) -> Result<()> {
    let err = |needle: &str, message: &str| Err(loc.error(None, needle, message.to_string()));
    match (&db.table, &db.query) {
        (Some(_), Some(_)) => return err("query", "`[database]` reads a `table` or a `query`, not both"),
        (None, None) => return err("[database]", "`[database]` needs a `table` to read, or a `query`"),
        (Some(t), None) if t.split('.').count() > 2 || t.split('.').any(|p| p.trim().is_empty()) => {
            return err("table", "`table` is a table name, or `schema.table`");
        }
        (None, Some(q))
            if !q
                .trim_start()
                .get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("select") || w.eq_ignore_ascii_case("with ")) =>
        {
            return err("query", "`query` is one SELECT (or WITH … SELECT) statement");
        }
        _ => {}
    }
    if db.user.is_some() && db.user_env.is_some() {
        return err("user_env", "give the user as `user` or `user_env`, not both");
    }
    if db.user.is_none() && db.user_env.is_none() {
        return err(
            "[database]",
            "`[database]` needs `user_env` (the environment variable holding the user name) or `user`",
        );
    }
    for (key, var) in [("user_env", &db.user_env), ("password_env", &db.password_env)] {
        if let Some(v) = var.as_deref().filter(|v| !env_name(v)) {
            return err(
                key,
                &format!(
                    "`{key}` names an environment variable (`CZZF_DB_PASSWORD`), not a value: `{v}` is not such a name"
                ),
            );
        }
    }
    if let Some(w) = &db.watermark
        && w.trim().is_empty()
    {
        return err("watermark", "`watermark` names a column of the table or query");
    }
    if db.batch_rows == Some(0) {
        return err("batch_rows", "`batch_rows` must be at least 1");
    }
    if db.ca_file.is_some() && db.tls != spec::TlsMode::VerifyFull {
        return err("ca_file", "`ca_file` checks the server's certificate: it needs `tls = \"verify-full\"`");
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A TOML scalar as the text a cell would hold.
fn scalar_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(if *b { "是" } else { "否" }.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

/// Loads one connector file and checks it against the canonical schema.
pub fn load(path: &FsPath, schema: &Schema) -> Result<Connector> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Source { file: shown.clone(), message: e.to_string() })?;
    let spec: ConnectorSpec = toml::from_str(&text).map_err(|e| {
        let (mut line, mut column) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
        // an unknown key inside a tagged table is reported at the table: point at the key itself
        if let Some(key) = e.message().strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
            if let Some(off) = key_offset(&text, key, 0) {
                (line, column) = line_col(&text, off);
            }
        }
        Error::Spec { path: shown.clone(), line, column, message: e.message().trim().to_string() }
    })?;
    let mut blocks_at = Vec::new();
    if spec.name.is_some() {
        blocks_at.push(0);
    }
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("[[dataset]]") {
            blocks_at.push(off);
        }
        off += line.len();
    }
    let loc = Locator { text: &text, path: shown.clone(), blocks: blocks_at };
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if let Some(q) = spec.max_quarantine.filter(|q| !(0.0..=1.0).contains(q)) {
        return Err(loc.error(
            None,
            "max_quarantine",
            format!("max_quarantine = {q}: a share of the rows, from 0 to 1 (0.05 is 5%)"),
        ));
    }
    let source = match (&spec.derive, &spec.location, &spec.format) {
        _ if spec.database.is_some() && spec.http.is_some() => {
            return Err(loc.error(
                None,
                "[http]",
                "a connector reads a `[database]` or an `[http]` API, not both".into(),
            ));
        }
        _ if spec.database.is_some() => {
            let db = spec.database.clone().expect("checked");
            check_live(&spec, &loc, "[database]")?;
            check_database(&db, &loc)?;
            Source::Database(db)
        }
        _ if spec.http.is_some() => {
            let h = spec.http.clone().expect("checked");
            check_live(&spec, &loc, "[http]")?;
            check_http(&h, &loc)?;
            Source::Http(h)
        }
        (Some(sql), None, None) => {
            if !spec.dataset.is_empty() {
                return Err(loc.error(
                    None,
                    "derive",
                    "a derived connector lands one dataset: use `name`, not `[[dataset]]`".into(),
                ));
            }
            Source::Derived { sql: sql.clone() }
        }
        (Some(_), _, _) => {
            return Err(loc.error(
                None,
                "derive",
                "a derived dataset reads the lake: drop `location` and `[format]`".into(),
            ));
        }
        (None, Some(l), Some(f)) => Source::Files { location: l.clone(), format: f.clone() },
        (None, None, _) => {
            return Err(loc.error(
                None,
                "name",
                "a connector needs `location` (the export files) or `derive` (SQL over landed datasets)".into(),
            ));
        }
        (None, Some(_), None) => {
            return Err(loc.error(None, "location", "a connector needs a `[format]` table".into()));
        }
    };
    if let Source::Files { format: FormatSpec::Csv(o), .. } = &source
        && !o.delimiter.is_ascii()
    {
        return Err(loc.error(
            None,
            "delimiter",
            format!(
                "delimiter `{}` is not an ASCII character: exports split fields with `,`, tab (`\\t`), `|` or `;` — a full-width `，` inside text is data",
                o.delimiter
            ),
        ));
    }
    if let Source::Files { format: FormatSpec::Ndjson(o), .. } = &source
        && o.encoding == Encoding::Utf16
    {
        return Err(loc.error(
            None,
            "encoding",
            "`utf-16` is read for text tables (`type = \"csv\"`), not NDJSON".into(),
        ));
    }
    let derived = matches!(source, Source::Derived { .. });
    let mut specs = spec.blocks();
    if let Source::Files { format: FormatSpec::Ocds(_), .. } = &source {
        // an OCDS table's headers are the canonical columns: a block may list none (all of them)
        // and a column may leave out `from` (its own name)
        for b in &mut specs {
            if b.columns.is_empty()
                && let Some(d) = schema.dataset(&b.name)
            {
                for name in d.columns.keys().filter(|n| !n.ends_with("_valid")) {
                    b.columns.insert(name.clone(), spec::ColumnSpec::default());
                }
            }
            for (name, c) in &mut b.columns {
                if c.from.is_none() && c.default.is_none() && !c.nullable {
                    c.from = Some(spec::OneOrMany::One(name.clone()));
                }
            }
        }
    }
    if specs.is_empty() {
        return Err(loc.error(
            None,
            "location",
            "a connector names the dataset it lands: `name = …`, or `[[dataset]]` blocks".into(),
        ));
    }
    if spec.name.is_some() && !spec.dataset.is_empty() {
        return Err(loc.error(
            None,
            "name",
            "use either `name` with `[columns]` or `[[dataset]]` blocks, not both".into(),
        ));
    }
    let mut blocks: Vec<Block> = Vec::new();
    let mut offset = 0;
    for (bi, b) in specs.iter().enumerate() {
        let at = |needle: &str, message: String| loc.error(Some(bi), needle, message);
        if !valid_name(&b.name) {
            return Err(at("name", format!("dataset name `{}` must be lower snake case (a-z, 0-9, _)", b.name)));
        }
        if blocks.iter().any(|x| x.name == b.name) {
            return Err(at("name", format!("dataset `{}` is declared twice in this connector", b.name)));
        }
        let canon = schema.dataset(&b.name).filter(|d| !d.is_custom());
        match (canon, b.custom) {
            (Some(_), true) => {
                return Err(at(
                    "custom",
                    format!(
                        "`{}` is a canonical dataset: drop `custom = true` to land it, or choose another name for a dataset of your own",
                        b.name
                    ),
                ));
            }
            (None, false) => {
                let hint = crate::schema::suggest(&b.name, schema.datasets.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                return Err(at(
                    "name",
                    format!(
                        "`{}` is not a canonical dataset ({hint}a dataset of your own: add `custom = true`; `searchlight datasets` lists the canonical ones)",
                        b.name
                    ),
                ));
            }
            _ => {}
        }
        if b.columns.is_empty() && !derived {
            return Err(at("columns", "a dataset needs at least one column".into()));
        }
        let mut columns = IndexMap::new();
        for (cname, c) in &b.columns {
            let at = |message: String| loc.error(Some(bi), cname, message);
            let canon_col = canon.and_then(|d| d.columns.get(cname));
            if let Some(d) = canon {
                if canon_col.is_none() && !c.extra {
                    let hint = crate::schema::suggest(cname, d.columns.keys().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    let why = if cname.ends_with("_valid") { "validity columns are computed; " } else { "" };
                    return Err(at(format!(
                        "`{}` has no column `{cname}` ({why}{hint}a column of your own: add `extra = true`)",
                        d.name
                    )));
                }
                if canon_col.is_some() && c.extra {
                    return Err(at(format!("`{cname}` is a canonical column of `{}`: drop `extra = true`", d.name)));
                }
            }
            let kind = match (c.kind, canon_col) {
                (Some(k), Some(cc)) if k != cc.kind => {
                    return Err(at(format!(
                        "`{}.{cname}` is `{}` in the canonical schema, not `{}` (drop `type`, or land your values into a column of your own with `extra = true`)",
                        b.name,
                        cc.kind.name(),
                        k.name()
                    )));
                }
                (Some(k), _) => k,
                (None, Some(cc)) => cc.kind,
                (None, None) => {
                    return Err(at(format!(
                        "column `{cname}` is your own: give its `type` ({})",
                        ColumnType::ALL.map(|t| t.name()).join(", ")
                    )));
                }
            };
            let from: Vec<String> = c.from.as_ref().map(|f| f.names().to_vec()).unwrap_or_default();
            if derived && (!from.is_empty() || c.default.is_some()) {
                return Err(
                    at("a derived dataset's columns come from its query: declare only `type` and `doc`".into()),
                );
            }
            let wide_target = spec.unpivot.as_ref().is_some_and(|u| u.into == *cname || u.value == *cname);
            if wide_target && !from.is_empty() {
                return Err(at(format!(
                    "column `{cname}` comes from [unpivot]: drop its `from` (the wide columns are given by `unpivot.columns`)"
                )));
            }
            if !derived && !wide_target && from.is_empty() && c.default.is_none() && !c.nullable {
                return Err(at(format!(
                    "column `{cname}` needs `from` (the export's header), or `default = …` / `nullable = true` when the export lacks it"
                )));
            }
            let default = match &c.default {
                None => None,
                Some(v) => Some(
                    scalar_text(v).ok_or_else(|| at(format!("column `{cname}`: `default` must be a single value")))?,
                ),
            };
            // `values = { sheet = "代码说明" }`: the words come from a code sheet of the workbook
            let code_sheet = code_sheet_of(&c.values);
            if code_sheet.is_some() && !matches!(source, Source::Files { format: FormatSpec::Xlsx(_), .. }) {
                return Err(at(format!(
                    "column `{cname}`: `values = {{ sheet = … }}` reads a code sheet of a workbook; this export is not one"
                )));
            }
            let mut values = IndexMap::new();
            for (word, v) in c.values.iter().filter(|_| code_sheet.is_none()) {
                let target = match (kind, v) {
                    (ColumnType::Bool, toml::Value::Boolean(b)) => b.to_string(),
                    (ColumnType::Text, toml::Value::String(s)) => s.clone(),
                    (ColumnType::Bool, _) => {
                        return Err(at(format!(
                            "column `{cname}`: `values` of a bool column map words to true or false (`\"{word}\" = true`)"
                        )));
                    }
                    (ColumnType::Text, _) => {
                        return Err(at(format!(
                            "column `{cname}`: `values` map export words to canonical words (`\"{word}\" = \"…\"`)"
                        )));
                    }
                    _ => {
                        return Err(at(format!(
                            "column `{cname}`: `values` apply to text and bool columns, not {}",
                            kind.name()
                        )));
                    }
                };
                if let (Some(set), ColumnType::Text) = (canon_col.and_then(|cc| cc.values.as_ref()), kind) {
                    if !target.is_empty() && set.fold(&text::clean(&target)).is_none() && !set.open {
                        return Err(at(format!(
                            "column `{cname}`: `\"{word}\" = \"{target}\"`: `{target}` is not a canonical value of `{}` ({})",
                            set.name,
                            set.values.join(", ")
                        )));
                    }
                }
                values.insert(text::clean(word).into_owned(), target);
            }
            let label = canon_col
                .map(|cc| cc.label.clone())
                .or_else(|| c.label.clone())
                .or_else(|| from.first().filter(|h| !h.starts_with('$')).cloned())
                .unwrap_or_else(|| cname.clone());
            columns.insert(
                cname.clone(),
                Col {
                    from,
                    kind,
                    unit: c.unit.clone(),
                    formats: c.formats.clone(),
                    required: c.required,
                    default,
                    nullable: c.nullable,
                    values,
                    set: canon_col.and_then(|cc| cc.values.clone()),
                    extra: c.extra,
                    doc: c.doc.clone().or_else(|| canon_col.map(|cc| cc.doc.clone())).unwrap_or_default(),
                    label,
                    null_words: c.null_words.iter().map(|w| text::clean(w).into_owned()).collect(),
                    code_sheet,
                },
            );
        }
        if let (true, Some(canon)) = (derived, canon) {
            // a derived canonical dataset lands every canonical column the query returns
            for (cname, cc) in &canon.columns {
                columns.entry(cname.clone()).or_insert_with(|| Col {
                    from: Vec::new(),
                    kind: cc.kind,
                    unit: None,
                    formats: Vec::new(),
                    required: false,
                    default: None,
                    nullable: true,
                    values: IndexMap::new(),
                    set: cc.values.clone(),
                    extra: false,
                    doc: cc.doc.clone(),
                    label: cc.label.clone(),
                    null_words: Vec::new(),
                    code_sheet: None,
                });
            }
        }
        let key = b.key.clone().unwrap_or_else(|| canon.map(|d| d.key.clone()).unwrap_or_default());
        for k in &key {
            if !columns.contains_key(k) {
                let (why, place) = match b.key {
                    Some(_) => ("", "key"),
                    None => (" (the canonical key; set `key = [...]` to use other columns)", "name"),
                };
                return Err(at(place, format!("key column `{k}` of `{}` is not one of its columns{why}", b.name)));
            }
        }
        let collapse = match b.repeats {
            Some(r) => r == spec::Repeats::Collapse,
            None => canon.is_some_and(|d| d.grain == Grain::Entity),
        };
        let title = b
            .title
            .clone()
            .or_else(|| canon.map(|d| d.title.clone()))
            .or_else(|| spec.title.clone())
            .unwrap_or_else(|| b.name.clone());
        let domain = match b.domain.clone().or_else(|| canon.map(|d| d.domain.clone())) {
            Some(d) => d,
            None => {
                return Err(at(
                    "custom",
                    "a dataset of your own needs `domain` (finance, procurement, land, relief, registry, …)"
                        .to_string(),
                ));
            }
        };
        let converter = Converter::new(&b.name, &columns, &key, b.filter.as_deref(), &spec.totals_markers, offset)
            .map_err(|m| {
                let needle = if m.starts_with("where") {
                    "where".to_string()
                } else {
                    m.split('`').nth(1).unwrap_or("columns").to_string()
                };
                at(&needle, m)
            })?;
        offset += columns.len();
        blocks.push(Block {
            name: b.name.clone(),
            title,
            domain,
            custom: b.custom,
            key,
            columns,
            filter: b.filter.clone(),
            collapse,
            each: b.each.clone(),
            converter,
        });
        if let Source::Files { format: FormatSpec::Ocds(_), .. } = &source
            && ocds::table_of(b.each.as_deref(), &b.name).is_none()
        {
            return Err(loc.error(
                Some(bi),
                if b.each.is_some() { "each" } else { "name" },
                format!(
                    "an OCDS file lands the tables {}: name the block's dataset `ocds_<table>`, or give the table as `each`",
                    ocds::TABLES.map(|(t, _)| t).join(", ")
                ),
            ));
        }
        if b.each.is_some()
            && !matches!(source, Source::Files { format: FormatSpec::Json(_) | FormatSpec::Ocds(_), .. })
        {
            return Err(loc.error(
                Some(bi),
                "each",
                "`each` lands a child array of a JSON document (`type = \"json\"`)".into(),
            ));
        }
    }
    let unpivot = match &spec.unpivot {
        None => None,
        Some(u) => {
            let at = |message: String| loc.error(None, "[unpivot]", message);
            match &source {
                Source::Files { format: FormatSpec::Csv(_) | FormatSpec::Xlsx(_) | FormatSpec::Fixed(_), .. } => {}
                _ => return Err(at("[unpivot] turns the columns of a CSV export or a workbook into rows".into())),
            }
            let names: Vec<&str> = blocks.iter().flat_map(|b| b.columns.keys().map(String::as_str)).collect();
            let compiled = unpivot::Unpivot::compile(u, |n| {
                names.iter().enumerate().filter(|(_, c)| **c == n).map(|(i, _)| i).collect()
            })
            .map_err(at)?;
            Some(compiled)
        }
    };
    if let (Source::Database(db), Some(b)) = (&source, blocks.iter().find(|b| b.collapse))
        && db.watermark.is_some()
    {
        return Err(loc.error(
            None,
            "watermark",
            format!(
                "`watermark` cannot land `{}` a part at a time: its repeated keys are one record (collapse), so a later row may change a record landed before — drop `watermark` to read it whole",
                b.name
            ),
        ));
    }
    if spec.append {
        if derived {
            return Err(loc.error(
                None,
                "append",
                "`append` is for exports that grow file by file, not a derived dataset".into(),
            ));
        }
        if let Some(b) = blocks.iter().find(|b| b.collapse) {
            return Err(loc.error(
                None,
                "append",
                format!(
                    "`append` cannot land `{}`: its repeated keys are one record (collapse), so a later file may change a record an earlier one landed",
                    b.name
                ),
            ));
        }
    }
    // the declaration as written and as resolved against the canonical schema: a new canonical
    // column (a block that lists none takes them all) is a new declaration, so it lands anew
    let mut declared = blake3::Hasher::new();
    declared.update(text.as_bytes());
    for b in &blocks {
        let cols: Vec<_> = b.columns.iter().map(|(n, c)| (n, &c.from, c.kind, c.required, c.nullable)).collect();
        declared.update(format!("\0{}{:?}{:?}", b.name, b.key, cols).as_bytes());
    }
    let spec_hash = declared.finalize().to_hex()[..16].to_string();
    Ok(Connector { id, spec, path: path.to_path_buf(), spec_hash, source, blocks, unpivot })
}

/// Loads every `*.toml` in `dir`, sorted by file name. Each file succeeds or fails on its own;
/// a dataset landed by two connectors is an error naming both.
pub fn load_dir(dir: &FsPath, schema: &Schema) -> std::io::Result<Vec<Result<Connector>>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut seen: Vec<(String, PathBuf)> = Vec::new();
    Ok(paths
        .iter()
        .map(|p| {
            let c = load(p, schema)?;
            for b in &c.blocks {
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == b.name) {
                    return Err(Error::Spec {
                        path: p.display().to_string(),
                        line: 1,
                        column: 1,
                        message: format!("dataset `{}` is already landed by {}", b.name, first.display()),
                    });
                }
            }
            for b in &c.blocks {
                seen.push((b.name.clone(), p.clone()));
            }
            Ok(c)
        })
        .collect())
}

/// One source file of a connector.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Where it is, for messages and manifests.
    pub display: String,
    /// The store holding it.
    pub store: Arc<dyn ObjectStore>,
    /// Path inside the store.
    pub path: object_store::path::Path,
    /// Size in bytes.
    pub size: u64,
}

impl SourceFile {
    /// Base file name (for `$file` columns).
    pub fn name(&self) -> &str {
        self.path.filename().unwrap_or_default()
    }
}

/// Where a canonical column's values come from in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// The export column at this index, and the unit its header names (`金额(万元)` → 万元),
    /// which applies to this file instead of the column's declared `unit`.
    Column(usize, Option<&'static str>),
    /// The file name.
    FileName,
    /// The sheet name (workbooks).
    SheetName,
    /// Not in this export (a `nullable` or `default` column whose header is absent).
    Missing,
}

/// What pass one learned about a file, enough to decode its splits.
#[derive(Debug, Clone)]
pub struct FilePlan {
    /// The file.
    pub file: SourceFile,
    /// Encoding used to decode it (text formats).
    pub encoding: Option<Encoding>,
    /// Column mapping (text formats; workbooks map per sheet when decoding).
    pub mapping: Vec<Mapped>,
    /// Number of columns in the header (text formats).
    pub header_len: usize,
    /// The wide columns that become rows (`[unpivot]`).
    pub wide: Vec<unpivot::WideColumn>,
}

/// What a format reader learned about one file in pass one.
#[derive(Debug, Clone, Default)]
pub struct FileLayout {
    /// Encoding to decode with (text formats).
    pub encoding: Option<Encoding>,
    /// Column mapping (text formats).
    pub mapping: Vec<Mapped>,
    /// Header width (text formats).
    pub header_len: usize,
    /// The wide columns that become rows (`[unpivot]`), mapped after the connector's columns.
    pub wide: Vec<unpivot::WideColumn>,
}

/// One independent unit of decoding work: a whole file, or a chunk of a text file.
#[derive(Debug, Clone)]
pub struct FileSplit {
    /// The file it belongs to.
    pub file: Arc<FilePlan>,
    /// Byte range of the file.
    pub range: Range<u64>,
    /// 1-based line number of the range's first byte (text formats).
    pub first_line: u64,
}

impl FileSplit {
    /// Bytes of the file it covers.
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }
}

/// How one file format plugs in.
pub(crate) trait FormatReader: Send + Sync {
    /// A streaming scanner for pass one, for formats that split files into chunks; formats
    /// without one (the default) are decoded whole.
    fn scanner(&self, _chunk_bytes: u64) -> Option<chunk::Scanner> {
        None
    }
    /// Checks headers and settles encoding and column mapping from pass one's scan; a format
    /// decoded whole (the default) settles them when it decodes.
    fn plan_file(&self, _conn: &Connector, _file: &SourceFile, _scan: Option<chunk::Scan>) -> Result<FileLayout> {
        Ok(FileLayout::default())
    }
    /// Reads one split's bytes into raw rows, handing each piece to `each` as soon as it is
    /// read — a text chunk whole; a workbook sheet by sheet; a JSON document per dataset; OCDS
    /// processes in groups — so a split that holds far more rows than memory is landed piece by
    /// piece. A reader never converts: [`Connector::convert_piece`] does, the same for every
    /// source.
    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()>;
}

/// What a reader hands its raw rows to.
pub(crate) type Each<'e> = dyn for<'p> FnMut(Piece<'p>) -> Result<()> + 'e;

/// Raw rows a reader hands on, not yet converted: the one input of
/// [`Connector::convert_piece`].
pub(crate) struct Piece<'a> {
    /// The rows.
    pub rows: PieceRows<'a>,
    /// Where they were read, for messages.
    pub file: &'a str,
    /// The workbook sheet they were read from.
    pub sheet: Option<&'a str>,
    /// Wide columns whose cells become rows (`[unpivot]`), after the connector's columns.
    pub wide: &'a [unpivot::WideColumn],
}

/// The rows of a [`Piece`].
pub(crate) enum PieceRows<'a> {
    /// One set of rows every dataset reads.
    Shared(&'a dyn convert::RawRows),
    /// One set of rows per dataset, in block order (a JSON document's `each`, the OCDS tables).
    PerBlock(Vec<&'a dyn convert::RawRows>),
}

impl<'a> Piece<'a> {
    /// Rows every dataset reads.
    pub fn shared(rows: &'a dyn convert::RawRows, file: &'a str, sheet: Option<&'a str>) -> Self {
        Piece { rows: PieceRows::Shared(rows), file, sheet, wide: &[] }
    }

    /// Rows of a wide export (`[unpivot]`): each cell of `wide` that holds a value is a row.
    pub fn wide(mut self, wide: &'a [unpivot::WideColumn]) -> Self {
        self.wide = wide;
        self
    }

    /// One set of rows per dataset, in block order.
    pub fn per_block(rows: Vec<&'a dyn convert::RawRows>, file: &'a str) -> Self {
        Piece { rows: PieceRows::PerBlock(rows), file, sheet: None, wide: &[] }
    }

    /// Raw rows it holds.
    pub fn len(&self) -> usize {
        match &self.rows {
            PieceRows::Shared(r) => r.len(),
            PieceRows::PerBlock(rs) => rs.iter().map(|r| r.len()).sum(),
        }
    }
}

/// The reader of a format: the one place that lists formats.
fn reader(spec: &FormatSpec) -> Box<dyn FormatReader> {
    match spec {
        FormatSpec::Csv(o) => Box::new(csv::CsvReader(o.clone())),
        FormatSpec::Ndjson(o) => Box::new(ndjson::NdjsonReader(o.clone())),
        FormatSpec::Json(o) => Box::new(ndjson::JsonReader(o.clone())),
        FormatSpec::Fixed(o) => Box::new(fixed::FixedReader(o.clone())),
        FormatSpec::Xlsx(o) => Box::new(xlsx::XlsxReader(o.clone())),
        FormatSpec::Parquet(o) => Box::new(parquet::ParquetReader(o.clone())),
        FormatSpec::Ocds(_) => Box::new(ocds::OcdsReader),
    }
}

impl Connector {
    /// The datasets it lands.
    pub fn datasets(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().map(|b| b.name.as_str())
    }

    /// Whether it lands the dataset `name` (or is the connector `name`).
    pub fn answers_to(&self, name: &str) -> bool {
        self.id == name || self.datasets().any(|d| d == name)
    }

    /// Every column of every block in landing order: the list export columns are mapped onto.
    pub fn input_columns(&self) -> impl Iterator<Item = (&str, &Col)> {
        self.blocks.iter().flat_map(|b| b.columns.iter().map(|(n, c)| (n.as_str(), c)))
    }

    /// Whether it reads export files (not a derived dataset, not a database).
    pub fn reads_files(&self) -> bool {
        matches!(self.source, Source::Files { .. })
    }

    /// The source it reads — its export files (listed from `base`, cut into chunks of about
    /// `chunk_bytes`), a database, an HTTP API. Fails, naming the connector, for a derived
    /// dataset, when no file is found, a credential variable is unset, or this build lacks the
    /// source's feature.
    pub async fn source<'a>(&'a self, base: &FsPath, chunk_bytes: u64) -> Result<Box<dyn source::Source + 'a>> {
        match &self.source {
            Source::Database(db) => database::open(self, db),
            Source::Http(h) => http::open(self, h),
            Source::Files { .. } => {
                let files = self.list_files(base).await?;
                Ok(Box::new(FileSource { conn: self, files, chunk_bytes }))
            }
            Source::Derived { .. } => Err(Error::Source {
                file: self.path.display().to_string(),
                message: "a derived dataset is computed from landed datasets, not read from a source".into(),
            }),
        }
    }

    /// Hands the raw rows of what a source read to `each`: a file split's bytes decoded by its
    /// format's reader; a batch of a live result mapped by `columns`.
    pub(crate) fn read_rows(
        &self,
        rows: source::Rows,
        columns: Option<&source::ResultColumns>,
        each: &mut Each<'_>,
    ) -> Result<()> {
        match rows {
            source::Rows::Bytes(split, bytes) => reader(self.format()).read(self, &split, bytes, each),
            source::Rows::Text(batch) => {
                let columns = columns.ok_or_else(|| Error::Source {
                    file: self.path.display().to_string(),
                    message: "rows of a live source read before its survey".into(),
                })?;
                let raw =
                    source::BatchRows { batch: &batch, mapping: &columns.mapping, unlandable: &columns.unlandable };
                each(Piece::shared(&raw, &columns.shown, None))
            }
        }
    }

    /// Converts one piece of raw rows into one landing per dataset: the one place every
    /// source's rows are converted.
    pub(crate) fn convert_piece(&self, piece: &Piece<'_>) -> Vec<Landing> {
        match &piece.rows {
            PieceRows::Shared(raw) if piece.wide.is_empty() => self.convert(*raw, piece.file, piece.sheet),
            PieceRows::Shared(raw) => self.convert_wide(*raw, piece.wide, piece.file, piece.sheet),
            PieceRows::PerBlock(rows) => self
                .blocks
                .iter()
                .zip(rows)
                .map(|(b, raw)| b.converter.convert(*raw, piece.file, piece.sheet))
                .collect(),
        }
    }

    /// The column whose growth makes loads incremental (`[database] watermark`).
    pub fn watermark(&self) -> Option<&str> {
        match &self.source {
            Source::Database(db) => db.watermark.as_deref(),
            _ => None,
        }
    }

    /// Whether an ingest reads its rows from outside the lake (files, a database), rather than
    /// deriving them from landed datasets.
    pub fn reads_outside(&self) -> bool {
        !matches!(self.source, Source::Derived { .. })
    }

    fn format(&self) -> &FormatSpec {
        match &self.source {
            Source::Files { format, .. } => format,
            Source::Derived { .. } | Source::Database(_) | Source::Http(_) => {
                unreachable!("only file connectors have a format")
            }
        }
    }

    /// Converts one block of rows into one landing per dataset.
    fn convert(&self, raw: &dyn convert::RawRows, file: &str, sheet: Option<&str>) -> Vec<Landing> {
        self.blocks.iter().map(|b| b.converter.convert(raw, file, sheet)).collect()
    }

    /// Lists the source files: one path, or every match of a glob, sorted; with `members`, the
    /// matching members of each archive found ([`archive`]).
    pub async fn list_files(&self, base: &FsPath) -> Result<Vec<SourceFile>> {
        let found = self.located_files(base).await?;
        match &self.spec.members {
            Some(pattern) => archive::members(found, pattern).await,
            None => Ok(found),
        }
    }

    async fn located_files(&self, base: &FsPath) -> Result<Vec<SourceFile>> {
        let loc = match &self.source {
            Source::Files { location, .. } => location,
            Source::Derived { .. } | Source::Database(_) | Source::Http(_) => {
                return Err(Error::Source {
                    file: self.path.display().to_string(),
                    message: "this connector reads no files".into(),
                });
            }
        };
        let src_err = |message: String| Error::Source { file: loc.clone(), message };
        let url = storage::to_url(loc, base).map_err(|e| src_err(e.to_string()))?;
        let glob_at = url.path().find(['*', '?', '[', '{']);
        let located = storage::locate(&url).map_err(|e| src_err(e.to_string()))?;
        let store = located.store.clone();
        match glob_at {
            None => {
                let meta = store.head(&located.path).await.map_err(|e| match e {
                    object_store::Error::NotFound { .. } => src_err("file not found".into()),
                    other => Error::Store { file: loc.clone(), source: other },
                })?;
                Ok(vec![SourceFile {
                    display: storage::display(&located.root, &located.path),
                    store,
                    path: meta.location,
                    size: meta.size,
                }])
            }
            Some(_) => {
                let pattern = located.path.as_ref().to_string();
                let mut found = walk_glob(store.as_ref(), &pattern).await.map_err(|e| match e {
                    Walk::Glob(message) => src_err(message),
                    Walk::Store(source) => Error::Store { file: loc.clone(), source },
                })?;
                if found.is_empty() {
                    return Err(src_err("no file matches this pattern".into()));
                }
                found.sort_by(|a, b| a.location.cmp(&b.location));
                Ok(found
                    .into_iter()
                    .map(|m| SourceFile {
                        display: storage::display(&located.root, &m.location),
                        store: store.clone(),
                        path: m.location,
                        size: m.size,
                    })
                    .collect())
            }
        }
    }

    /// Lands one export held in memory without a lake: pass one over it fed in `block`-byte
    /// reads, split into chunks of about `chunk_bytes`, each chunk decoded — the same readers
    /// and rules as [`FileSource`]'s survey and [`Connector::decode`], for fuzzing and for proving
    /// that how a file is cut does not change what lands. One `Vec<Landing>` per split.
    pub fn land_bytes(&self, name: &str, bytes: &[u8], chunk_bytes: u64, block: usize) -> Result<Vec<Vec<Landing>>> {
        let reader = reader(self.format());
        let file = SourceFile {
            display: name.to_string(),
            store: Arc::new(object_store::memory::InMemory::new()),
            path: object_store::path::Path::from(name),
            size: bytes.len() as u64,
        };
        let settle = |scan: Option<chunk::Scan>| file_plan(reader.as_ref(), self, &file, scan);
        let mut splits = Vec::new();
        match reader.scanner(chunk_bytes) {
            Some(mut sc) => {
                let mut chunks = Vec::new();
                for piece in bytes.chunks(block.max(1)) {
                    sc.feed(piece);
                    chunks.extend(sc.take_chunks());
                }
                let (scan, rest) = sc.finish();
                chunks.extend(rest);
                let plan = settle(Some(scan))?;
                splits.extend(chunks.into_iter().map(|c| FileSplit {
                    file: plan.clone(),
                    range: c.range,
                    first_line: c.first_line,
                }));
            }
            None => splits.push(FileSplit { file: settle(None)?, range: 0..bytes.len() as u64, first_line: 1 }),
        }
        splits
            .iter()
            .map(|s| {
                let range = s.range.start as usize..s.range.end as usize;
                self.decode(s, Bytes::copy_from_slice(&bytes[range]))
            })
            .collect()
    }

    /// Converts the rows of a wide export: each cell of its wide columns (columns `base..` of
    /// `raw`) that holds a value becomes a row.
    pub(crate) fn convert_wide(
        &self,
        raw: &dyn convert::RawRows,
        wide: &[unpivot::WideColumn],
        file: &str,
        sheet: Option<&str>,
    ) -> Vec<Landing> {
        let Some(u) = &self.unpivot else { return self.convert(raw, file, sheet) };
        let base = self.input_columns().count();
        let rows = unpivot::Unpivoted::new(raw, u, wide, base);
        let mut out = self.convert(&rows, file, sheet);
        for l in &mut out {
            l.unpivot_rows = rows.source_rows as u64;
            l.unpivot_cells = convert::RawRows::len(&rows) as u64;
        }
        out
    }

    /// The wide columns of an export with these headers, with their export columns appended to
    /// `mapping` (none without `[unpivot]`).
    pub(crate) fn wide_columns(
        &self,
        headers: &[String],
        mapping: &mut Vec<Mapped>,
        sheet: Option<&str>,
        file_name: &str,
        shown: &str,
        line: u64,
    ) -> Result<Vec<unpivot::WideColumn>> {
        let Some(u) = &self.unpivot else { return Ok(Vec::new()) };
        let wide = u.plan(headers, sheet, file_name).map_err(|message| Error::Input {
            file: shown.to_string(),
            line,
            message,
        })?;
        for w in &wide {
            mapping.push(Mapped::Column(w.index, value::unit_in_header(&w.header)));
        }
        Ok(wide)
    }

    /// Decodes and converts one split (CPU-bound): one landing per dataset for every piece the
    /// reader hands on, piece after piece.
    pub fn decode(&self, split: &FileSplit, bytes: Bytes) -> Result<Vec<Landing>> {
        let mut out = Vec::new();
        reader(self.format()).read(self, split, bytes, &mut |piece| {
            out.extend(self.convert_piece(&piece));
            Ok(())
        })?;
        Ok(out)
    }
}

/// Export files as a [`source::Source`]: the two passes over their bytes. The survey (pass one)
/// reads every file once to fingerprint it, detect its encoding, check its header and find chunk
/// boundaries, reporting each split as soon as it is known so decoding (pass two) can start
/// before the pass ends; a read fetches one split's bytes.
pub struct FileSource<'a> {
    conn: &'a Connector,
    files: Vec<SourceFile>,
    chunk_bytes: u64,
}

#[async_trait::async_trait]
impl source::Source for FileSource<'_> {
    fn describe(&self) -> String {
        match &self.conn.source {
            Source::Files { location, .. } => location.clone(),
            _ => self.conn.path.display().to_string(),
        }
    }

    fn listing(&self) -> Option<&[SourceFile]> {
        Some(&self.files)
    }

    async fn survey(&self, _since: Option<&str>, watch: &dyn source::Watch) -> Result<source::Survey> {
        let (conn, chunk_bytes) = (self.conn, self.chunk_bytes);
        let reader = reader(conn.format());
        let mut fp = blake3::Hasher::new();
        fp.update(b"searchlight-landing-v1\0");
        fp.update(conn.spec_hash.as_bytes());
        let mut surveyed = Vec::new();
        let mut splits = Vec::new();
        let mut emit = |split: FileSplit| {
            let split = source::Split::File(split);
            watch.split(&split);
            splits.push(split);
        };
        for file in &self.files {
            let mut hasher = blake3::Hasher::new();
            let mut scanner = reader.scanner(chunk_bytes);
            let mut planned: Option<Arc<FilePlan>> = None;
            let settle = |scan: Option<chunk::Scan>| file_plan(reader.as_ref(), conn, file, scan);
            // large sequential reads, the next one in flight while this one is hashed and scanned
            let fetch = |start: u64| {
                let (store, path) = (file.store.clone(), file.path.clone());
                let end = (start + READ_BLOCK).min(file.size);
                tokio::spawn(async move { store.get_range(&path, start..end).await })
            };
            let mut next = (file.size > 0).then(|| fetch(0));
            let mut offset = 0u64;
            while let Some(pending) = next.take() {
                let block = pending
                    .await
                    .map_err(|e| Error::Source { file: file.display.clone(), message: format!("read failed: {e}") })?
                    .map_err(|e| Error::Store { file: file.display.clone(), source: e })?;
                offset += block.len() as u64;
                if offset < file.size {
                    next = Some(fetch(offset));
                }
                // the hash and the boundary scan are independent: one core each
                std::thread::scope(|s| {
                    s.spawn(|| hasher.update(&block));
                    if let Some(sc) = scanner.as_mut() {
                        sc.feed(&block);
                    }
                });
                watch.advance(block.len() as u64);
                if let Some(sc) = scanner.as_mut() {
                    if let Some((line, bytes, max)) = sc.too_long() {
                        return Err(Error::Input {
                            file: file.display.clone(),
                            line,
                            message: format!(
                                "this line is longer than {} ({} bytes and more) — no table export has such lines; the file is damaged or not what it seems (SEARCHLIGHT_MAX_LINE raises the limit)",
                                crate::limits::bytes_text(max),
                                bytes
                            ),
                        });
                    }
                    if planned.is_none() && sc.ready() {
                        planned = Some(settle(Some(sc.peek()))?);
                    }
                    if let Some(fplan) = &planned {
                        for c in sc.take_chunks() {
                            emit(FileSplit { file: fplan.clone(), range: c.range, first_line: c.first_line });
                        }
                    }
                }
            }
            let fplan = match scanner {
                Some(sc) => {
                    let (scan, chunks) = sc.finish();
                    let fplan = match planned {
                        Some(p) => p,
                        None => settle(Some(scan))?,
                    };
                    for c in chunks {
                        emit(FileSplit { file: fplan.clone(), range: c.range, first_line: c.first_line });
                    }
                    fplan
                }
                None => {
                    let fplan = settle(None)?;
                    emit(FileSplit { file: fplan.clone(), range: 0..file.size, first_line: 1 });
                    fplan
                }
            };
            let hash = hasher.finalize().to_hex().to_string();
            fp.update(file.name().as_bytes());
            fp.update(b"\0");
            fp.update(hash.as_bytes());
            surveyed.push((fplan, hash));
        }
        Ok(source::Survey {
            splits,
            fingerprint: Some(fp.finalize().to_hex()[..32].to_string()),
            files: surveyed,
            ..Default::default()
        })
    }

    async fn read(&self, split: &source::Split, out: tokio::sync::mpsc::Sender<source::Rows>) -> Result<u64> {
        let source::Split::File(split) = split else {
            return Err(Error::Source { file: self.describe(), message: "a query split given to export files".into() });
        };
        let f = &split.file.file;
        // room first, then the bytes: a split's bytes are fetched only when the lake can take
        // them, so no more than one split waits beside those being converted
        let room = out
            .reserve()
            .await
            .map_err(|_| Error::Source { file: f.display.clone(), message: "the lake stopped taking rows".into() })?;
        let bytes = f
            .store
            .get_range(&f.path, split.range.clone())
            .await
            .map_err(|e| Error::Store { file: f.display.clone(), source: e })?;
        room.send(source::Rows::Bytes(split.clone(), bytes));
        Ok(0)
    }
}

/// What pass one settles for a file: its reader's layout of it (encoding, column mapping).
fn file_plan(
    reader: &dyn FormatReader,
    conn: &Connector,
    file: &SourceFile,
    scan: Option<chunk::Scan>,
) -> Result<Arc<FilePlan>> {
    let layout = reader.plan_file(conn, file, scan)?;
    Ok(Arc::new(FilePlan {
        file: file.clone(),
        encoding: layout.encoding,
        mapping: layout.mapping,
        header_len: layout.header_len,
        wide: layout.wide,
    }))
}

/// Decodes a text split in the file's encoding; undecodable bytes are an error naming the line.
pub(crate) fn decode_text<'b>(
    conn: &Connector,
    split: &FileSplit,
    bytes: &'b [u8],
) -> Result<std::borrow::Cow<'b, str>> {
    let file = &split.file;
    let encoding = file.encoding.expect("text files are planned with an encoding");
    chunk::decode(bytes, encoding, split.first_line).map_err(|e| Error::Input {
        file: file.file.display.clone(),
        line: e.line,
        message: format!(
            "bytes {} do not decode as {}; the file is not in the declared encoding (set `encoding` in {}, or `auto`)",
            e.bytes,
            encoding.label(),
            conn.path.display()
        ),
    })
}

fn header_key(s: &str) -> String {
    text::clean(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// Share of characters two header names have in common (0..1), for "did you mean" hints.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let mut b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let mut shared = 0;
    for c in &a {
        if let Some(i) = b.iter().position(|x| x == c) {
            b.swap_remove(i);
            shared += 1;
        }
    }
    shared as f64 / longest as f64
}

/// Maps each column of every block to an export column by header name. `line` is the header's
/// line (or sheet row) for the error message. A column whose headers are all absent is an
/// error, unless it is `nullable` or has a `default`.
pub(crate) fn map_headers(conn: &Connector, headers: &[String], file: &str, line: u64) -> Result<Vec<Mapped>> {
    map_headers_of(conn, None, headers, file, line)
}

/// [`map_headers`] for one block's rows (a JSON document's child arrays): the other blocks'
/// columns are not in them.
pub(crate) fn map_headers_of(
    conn: &Connector,
    only: Option<usize>,
    headers: &[String],
    file: &str,
    line: u64,
) -> Result<Vec<Mapped>> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    // the column's own name under a group (`近亲属/姓名` → `姓名`)
    let leaves: Vec<&str> = keys.iter().map(|k| k.rsplit('/').next().unwrap_or(k)).collect();
    let mut out = Vec::new();
    let columns =
        conn.blocks.iter().enumerate().flat_map(|(bi, b)| b.columns.iter().map(move |(n, c)| (bi, n.as_str(), c)));
    for (bi, name, col) in columns {
        if only.is_some_and(|o| o != bi) {
            out.push(Mapped::Missing);
            continue;
        }
        let mut found = None;
        for want in &col.from {
            match want.as_str() {
                "$file" => found = Some(Mapped::FileName),
                "$sheet" => found = Some(Mapped::SheetName),
                w if column_ref(w).is_some() => {
                    let i = column_ref(w).expect("checked");
                    if i >= headers.len() {
                        return Err(Error::Input {
                            file: file.to_string(),
                            line,
                            message: format!(
                                "column `{name}` is mapped from column {w}, but the export has {} columns",
                                headers.len()
                            ),
                        });
                    }
                    found = Some(Mapped::Column(i, value::unit_in_header(&headers[i])));
                }
                w => {
                    let k = header_key(w);
                    found = keys.iter().position(|h| *h == k).map(|i| Mapped::Column(i, value::unit_in_header(w)));
                    // a column's own name under a group header, when only one group has it
                    if found.is_none() && !k.contains('/') {
                        let under: Vec<usize> = (0..keys.len()).filter(|&i| leaves[i] == k && keys[i] != k).collect();
                        match under.as_slice() {
                            [] => {}
                            [i] => found = Some(Mapped::Column(*i, value::unit_in_header(w))),
                            several => {
                                let names: Vec<&str> = several.iter().map(|&i| headers[i].as_str()).collect();
                                return Err(Error::Input {
                                    file: file.to_string(),
                                    line,
                                    message: format!(
                                        "column `{name}` is mapped from `{w}`, which is under several groups: {} — name the group (`from = \"{}\"`), or the column by letter (`from = \"$C\"`)",
                                        names.join(", "),
                                        names[0]
                                    ),
                                });
                            }
                        }
                    }
                }
            }
            if found.is_some() {
                break;
            }
        }
        match found {
            Some(m) => out.push(m),
            None if col.nullable || col.default.is_some() || col.from.is_empty() => out.push(Mapped::Missing),
            None => {
                let wanted = col.from.join(" / ");
                let hint = keys
                    .iter()
                    .zip(headers)
                    .map(|(k, h)| (col.from.iter().map(|w| similarity(&header_key(w), k)).fold(0.0, f64::max), h))
                    .filter(|(score, _)| *score >= 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, h)| format!("; did you mean `{h}`?"))
                    .unwrap_or_default();
                return Err(Error::Input {
                    file: file.to_string(),
                    line,
                    message: format!(
                        "column `{name}` is mapped from `{wanted}`, which the export does not have{hint} (headers: {}; if some exports lack it, add `nullable = true`)",
                        headers.join(", ")
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// A column by its spreadsheet letter (`$C`, `$AB`) or 1-based position (`$3`): its 0-based
/// index.
pub(crate) fn column_ref(w: &str) -> Option<usize> {
    let r = w.strip_prefix('$')?;
    if r.is_empty() || r.len() > 3 {
        return None;
    }
    if r.bytes().all(|b| b.is_ascii_digit()) {
        return r.parse::<usize>().ok().filter(|&n| n >= 1).map(|n| n - 1);
    }
    if r.bytes().all(|b| b.is_ascii_uppercase()) {
        let n = r.bytes().fold(0usize, |n, b| n * 26 + (b - b'A' + 1) as usize);
        return Some(n - 1);
    }
    None
}

/// The names of an export's columns from its header rows. One row: the names as they are.
/// Several (a group row over its columns, 村干部 over 姓名 / 身份证号): `组/列`, joined from the
/// top, with a part left out where it is empty or repeats the part above (a cell merged down
/// over both rows). A group written once over its columns (a text export of a merged header) is
/// carried right over the columns under it.
pub(crate) fn header_names(rows: &[Vec<String>]) -> Vec<String> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let cell = |r: usize, c: usize| rows[r].get(c).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut grid: Vec<Vec<String>> = (0..rows.len()).map(|r| (0..width).map(|c| cell(r, c)).collect()).collect();
    let last = rows.len().saturating_sub(1);
    for r in 0..last {
        for c in 1..width {
            // empty above a named column, right after a group: still that group
            if grid[r][c].is_empty()
                && !grid[last][c].is_empty()
                && !grid[r][c - 1].is_empty()
                && !grid[last][c - 1].is_empty()
                && grid[r][c - 1] != grid[last][c - 1]
            {
                grid[r][c] = grid[r][c - 1].clone();
            }
        }
    }
    (0..width)
        .map(|c| {
            let mut parts: Vec<&str> = Vec::new();
            for row in &grid {
                let p = row[c].as_str();
                if !p.is_empty() && parts.last() != Some(&p) {
                    parts.push(p);
                }
            }
            parts.join("/")
        })
        .collect()
}

/// Why a location glob could not be walked.
enum Walk {
    Glob(String),
    Store(object_store::Error),
}

/// The files a location glob matches, walked one folder level per pattern segment: a segment
/// without wildcards is entered directly, a wildcard segment lists only its own folder — so
/// nothing outside the pattern is visited (a symlink loop or an unreadable folder elsewhere
/// below does not fail it). `**` (and a `{…}` spanning folders) matches at any depth and lists
/// everything under its folder.
async fn walk_glob(
    store: &dyn object_store::ObjectStore,
    pattern: &str,
) -> std::result::Result<Vec<object_store::ObjectMeta>, Walk> {
    use futures::TryStreamExt;
    let matcher = |glob: &str| {
        globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher())
            .map_err(|e| Walk::Glob(format!("bad glob: {e}")))
    };
    // a folder as the store names it: `Path::from` would percent-encode `exports/民政`, and the
    // store would list nothing under it (found by layout C)
    let folder = |f: &str| object_store::path::Path::parse(f).unwrap_or_else(|_| object_store::path::Path::from(f));
    let absent = |e: &object_store::Error| matches!(e, object_store::Error::NotFound { .. });
    let segments: Vec<&str> = pattern.split('/').collect();
    // `{a/x,b/y}` spans folders: walked as `**` is, from the folder above it
    let mut depth = 0i32;
    let spans = pattern.chars().any(|c| {
        depth += match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        };
        c == '/' && depth > 0
    });
    let deep = segments
        .iter()
        .position(|s| s.contains("**"))
        .or_else(|| spans.then(|| segments.iter().position(|s| s.contains('{')).unwrap_or(0)));
    if let Some(deep) = deep {
        let all = matcher(pattern)?;
        let prefix = folder(&segments[..deep].join("/"));
        return store
            .list(Some(&prefix))
            .try_filter(|m| futures::future::ready(all.is_match(m.location.as_ref())))
            .try_collect()
            .await
            .map_err(Walk::Store);
    }
    let mut folders: Vec<String> = vec![String::new()];
    let mut found = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let wild = segment.contains(['*', '?', '[', '{']);
        let join = |d: &str, name: &str| if d.is_empty() { name.to_string() } else { format!("{d}/{name}") };
        if !wild && !last {
            folders = folders.iter().map(|d| join(d, segment)).collect();
            continue;
        }
        let m = matcher(segment)?;
        let mut next = Vec::new();
        for d in &folders {
            let prefix = folder(d);
            let listing = match store.list_with_delimiter((!d.is_empty()).then_some(&prefix)).await {
                Ok(l) => l,
                Err(e) if absent(&e) => continue,
                Err(e) => return Err(Walk::Store(e)),
            };
            if last {
                found.extend(
                    listing.objects.into_iter().filter(|o| o.location.filename().is_some_and(|n| m.is_match(n))),
                );
            } else {
                next.extend(
                    listing
                        .common_prefixes
                        .iter()
                        .filter_map(|p| p.filename().map(|n| (p, n)))
                        .filter(|(_, n)| m.is_match(n))
                        .map(|(p, _)| p.as_ref().to_string()),
                );
            }
        }
        folders = next;
    }
    Ok(found)
}
