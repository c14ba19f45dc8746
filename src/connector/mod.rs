//! STAGE 1 · connectors: `connectors/*.toml` → canonical Arrow rows, ready to land.
//!
//! A connector declares where a department's export lives, its format and encoding, and how its
//! own headers (身份证号码, 金额(万元), 发放日期) map to canonical, typed columns. No Rust is needed
//! to add one. This module owns that declaration ([`spec`]), the parsing of values and codes
//! ([`value`], [`convert`]) and one reader per file format; the exhaustive `match` in
//! [`reader`] is the only list of formats.
//!
//! The seam is [`Connector`]: [`Connector::plan`] reads every source file once (fingerprint,
//! encoding detection, header check, chunk boundaries) and [`Connector::decode`] turns one
//! [`Split`] into a [`Landing`]. Splits are independent, so the lake decodes them in parallel.
//! Nothing here writes anywhere: landing is the lake's job.
//!
//! # Adding a format
//! Add a variant to [`spec::FormatSpec`] with its options struct, a module implementing
//! [`FormatReader`], and one arm in [`reader`].

pub mod catalog;
pub mod chunk;
pub mod convert;
mod csv;
mod ndjson;
mod parquet;
pub mod spec;
pub mod value;
mod xlsx;

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};

pub use convert::{Converter, Landing, RowIssue};
pub use spec::{ColumnType, ConnectorSpec, Encoding, FormatSpec};

use crate::codes::text;
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

/// A loaded, validated connector.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The declaration.
    pub spec: ConnectorSpec,
    /// The file it was read from.
    pub path: PathBuf,
    /// Hash of the declaration file; a changed mapping re-lands an unchanged export.
    pub spec_hash: String,
    converter: Converter,
}

/// Line and column (1-based) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// Byte offset of `key = …` at the start of a line.
fn key_offset(text: &str, key: &str) -> Option<usize> {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            return Some(off + (line.len() - t.len()));
        }
        off += line.len();
    }
    None
}

/// Loads and validates one connector file.
pub fn load(path: &FsPath) -> Result<Connector> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::Source { file: shown.clone(), message: e.to_string() })?;
    let spec: ConnectorSpec = toml::from_str(&text).map_err(|e| {
        let (mut line, mut column) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
        // an unknown key inside a tagged table is reported at the table: point at the key itself
        if let Some(key) = e.message().strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
            if let Some(off) = key_offset(&text, key) {
                (line, column) = line_col(&text, off);
            }
        }
        Error::Spec { path: shown.clone(), line, column, message: e.message().trim().to_string() }
    })?;
    let at = |needle: &str| {
        let (line, column) =
            key_offset(&text, needle).or_else(|| text.find(needle)).map(|o| line_col(&text, o)).unwrap_or((1, 1));
        move |message: String| Error::Spec { path: shown.clone(), line, column, message }
    };
    if spec.name.is_empty() || !spec.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(at("name")(format!("dataset name `{}` must be lower snake case (a-z, 0-9, _)", spec.name)));
    }
    if spec.columns.is_empty() {
        return Err(at("[columns]")("a connector needs at least one column under [columns]".into()));
    }
    let converter = Converter::new(&spec).map_err(|m| {
        let needle = m.split('`').nth(1).unwrap_or("[columns]").to_string();
        at(&needle)(m)
    })?;
    let spec_hash = blake3::hash(text.as_bytes()).to_hex()[..16].to_string();
    Ok(Connector { spec, path: path.to_path_buf(), spec_hash, converter })
}

/// Loads every `*.toml` in `dir`, sorted by file name. Each file succeeds or fails on its own.
pub fn load_dir(dir: &FsPath) -> std::io::Result<Vec<Result<Connector>>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut seen: Vec<(String, PathBuf)> = Vec::new();
    Ok(paths
        .iter()
        .map(|p| {
            let c = load(p)?;
            if let Some((_, first)) = seen.iter().find(|(n, _)| n == c.name()) {
                return Err(Error::Spec {
                    path: p.display().to_string(),
                    line: 1,
                    column: 1,
                    message: format!("dataset `{}` is already declared by {}", c.name(), first.display()),
                });
            }
            seen.push((c.name().to_string(), p.clone()));
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
    /// The export column at this index.
    Column(usize),
    /// The file name.
    FileName,
    /// The sheet name (workbooks).
    SheetName,
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
}

/// One independent unit of decoding work: a whole file, or a chunk of a text file.
#[derive(Debug, Clone)]
pub struct Split {
    /// The file it belongs to.
    pub file: Arc<FilePlan>,
    /// Byte range of the file.
    pub range: Range<u64>,
    /// 1-based line number of the range's first byte (text formats).
    pub first_line: u64,
}

/// The result of pass one over all source files of a connector.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Files in order.
    pub files: Vec<Arc<FilePlan>>,
    /// BLAKE3 of each file's bytes, parallel to `files`.
    pub hashes: Vec<String>,
    /// Splits in order.
    pub splits: Vec<Split>,
    /// Fingerprint of the declaration and every file's bytes: equal fingerprints land equal data.
    pub fingerprint: String,
}

impl Plan {
    /// Total bytes of all source files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.file.size).sum()
    }
}

impl Split {
    /// Bytes of the file it covers.
    pub fn len(&self) -> u64 {
        self.range.end - self.range.start
    }
}

/// How one file format plugs in.
pub(crate) trait FormatReader: Send + Sync {
    /// A streaming scanner for pass one, for formats that split files into chunks; formats
    /// without one are decoded whole.
    fn scanner(&self, chunk_bytes: u64) -> Option<chunk::Scanner>;
    /// Checks headers and settles encoding and column mapping from pass one's scan.
    fn plan_file(&self, conn: &Connector, file: &SourceFile, scan: Option<chunk::Scan>) -> Result<FileLayout>;
    /// Decodes one split.
    fn decode(&self, conn: &Connector, split: &Split, bytes: Bytes) -> Result<Vec<Landing>>;
}

/// The reader of a format: the one place that lists formats.
fn reader(spec: &FormatSpec) -> Box<dyn FormatReader> {
    match spec {
        FormatSpec::Csv(o) => Box::new(csv::CsvReader(o.clone())),
        FormatSpec::Ndjson(o) => Box::new(ndjson::NdjsonReader(o.clone())),
        FormatSpec::Xlsx(o) => Box::new(xlsx::XlsxReader(o.clone())),
        FormatSpec::Parquet(o) => Box::new(parquet::ParquetReader(o.clone())),
    }
}

impl Connector {
    /// The dataset name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The canonical schema this connector lands.
    pub fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        self.converter.schema()
    }

    pub(crate) fn converter(&self) -> &Converter {
        &self.converter
    }

    /// Lists the source files: one path, or every match of a glob, sorted.
    pub async fn list_files(&self, base: &FsPath) -> Result<Vec<SourceFile>> {
        let loc = &self.spec.location;
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
                let prefix_end = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
                let prefix = object_store::path::Path::from(
                    pattern[..prefix_end].rsplit_once('/').map(|(p, _)| p).unwrap_or(""),
                );
                let matcher = globset::GlobBuilder::new(&pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| src_err(format!("bad glob: {e}")))?
                    .compile_matcher();
                let mut found: Vec<_> = store
                    .list(Some(&prefix))
                    .try_filter(|m| futures::future::ready(matcher.is_match(m.location.as_ref())))
                    .try_collect()
                    .await
                    .map_err(|e| Error::Store { file: loc.clone(), source: e })?;
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

    /// Pass one: reads every file once to fingerprint it, detect its encoding, check its header
    /// and find chunk boundaries. `on_bytes` reports progress; `on_split` receives each split as
    /// soon as it is known, so that decoding can start before the pass ends.
    pub async fn plan(
        &self,
        files: Vec<SourceFile>,
        chunk_bytes: u64,
        on_bytes: &(dyn Fn(u64) + Sync),
        on_split: &(dyn Fn(&Split) + Sync),
    ) -> Result<Plan> {
        let reader = reader(&self.spec.format);
        let mut fp = blake3::Hasher::new();
        fp.update(b"searchlight-landing-v1\0");
        fp.update(self.spec_hash.as_bytes());
        let mut plans = Vec::new();
        let mut hashes = Vec::new();
        let mut splits = Vec::new();
        let mut emit = |split: Split| {
            on_split(&split);
            splits.push(split);
        };
        for file in files {
            let mut hasher = blake3::Hasher::new();
            let mut scanner = reader.scanner(chunk_bytes);
            let mut planned: Option<Arc<FilePlan>> = None;
            let settle = |scan: Option<chunk::Scan>| -> Result<Arc<FilePlan>> {
                let layout = reader.plan_file(self, &file, scan)?;
                Ok(Arc::new(FilePlan {
                    file: file.clone(),
                    encoding: layout.encoding,
                    mapping: layout.mapping,
                    header_len: layout.header_len,
                }))
            };
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
                on_bytes(block.len() as u64);
                if let Some(sc) = scanner.as_mut() {
                    if planned.is_none() && sc.ready() {
                        planned = Some(settle(Some(sc.peek()))?);
                    }
                    if let Some(fplan) = &planned {
                        for c in sc.take_chunks() {
                            emit(Split { file: fplan.clone(), range: c.range, first_line: c.first_line });
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
                        emit(Split { file: fplan.clone(), range: c.range, first_line: c.first_line });
                    }
                    fplan
                }
                None => {
                    let fplan = settle(None)?;
                    emit(Split { file: fplan.clone(), range: 0..file.size, first_line: 1 });
                    fplan
                }
            };
            let hash = hasher.finalize().to_hex().to_string();
            fp.update(file.name().as_bytes());
            fp.update(b"\0");
            fp.update(hash.as_bytes());
            plans.push(fplan);
            hashes.push(hash);
        }
        Ok(Plan { files: plans, hashes, splits, fingerprint: fp.finalize().to_hex()[..32].to_string() })
    }

    /// Reads the bytes of a split.
    pub async fn fetch(&self, split: &Split) -> Result<Bytes> {
        let f = &split.file.file;
        f.store
            .get_range(&f.path, split.range.clone())
            .await
            .map_err(|e| Error::Store { file: f.display.clone(), source: e })
    }

    /// Pass two: decodes one split (CPU-bound; call from a blocking thread).
    pub fn decode(&self, split: &Split, bytes: Bytes) -> Result<Vec<Landing>> {
        reader(&self.spec.format).decode(self, split, bytes)
    }
}

/// Decodes a text split in the file's encoding; undecodable bytes are an error naming the line.
pub(crate) fn decode_text<'b>(conn: &Connector, split: &Split, bytes: &'b [u8]) -> Result<std::borrow::Cow<'b, str>> {
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

/// Maps each canonical column to an export column by header name. `line` is the header's line
/// (or sheet row) for the error message.
pub(crate) fn map_headers(conn: &Connector, headers: &[String], file: &str, line: u64) -> Result<Vec<Mapped>> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let mut out = Vec::with_capacity(conn.spec.columns.len());
    for (name, col) in &conn.spec.columns {
        let mut found = None;
        for want in col.from.names() {
            match want.as_str() {
                "$file" => found = Some(Mapped::FileName),
                "$sheet" => found = Some(Mapped::SheetName),
                w => {
                    let k = header_key(w);
                    found = keys.iter().position(|h| *h == k).map(Mapped::Column);
                }
            }
            if found.is_some() {
                break;
            }
        }
        match found {
            Some(m) => out.push(m),
            None => {
                let wanted = col.from.names().join(" / ");
                let hint = keys
                    .iter()
                    .zip(headers)
                    .map(|(k, h)| {
                        (col.from.names().iter().map(|w| similarity(&header_key(w), k)).fold(0.0, f64::max), h)
                    })
                    .filter(|(score, _)| *score >= 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, h)| format!("; did you mean `{h}`?"))
                    .unwrap_or_default();
                return Err(Error::Input {
                    file: file.to_string(),
                    line,
                    message: format!(
                        "column `{name}` is mapped from `{wanted}`, which the export does not have{hint} (headers: {})",
                        headers.join(", ")
                    ),
                });
            }
        }
    }
    Ok(out)
}
