//! Every source behind one small trait: export files, a department's database, an HTTP API.
//!
//! [`Source`] is what the lake needs from any of them:
//! - a **survey** — the [`Split`]s to read (each reported as soon as it is known, so reading can
//!   start before the survey ends) and what makes the snapshot new: files know it before any row
//!   is read (a BLAKE3 of their bytes, [`Survey::fingerprint`]); a live source by a watermark, or
//!   else by the rows' own order-free digest;
//! - a **read** of one split into [`Rows`] — a file's byte range, or a batch of text rows —
//!   which [`super::Connector::read_rows`] turns into raw rows for the connector's one
//!   [`super::Converter`]: the same header mapping, units, value words, ID checks, quarantine and
//!   flags whatever the source, so a table lands exactly as its CSV export would.
//!
//! Files are today's two-pass reading ([`super::FileSource`]); [`super::database`] and
//! [`super::http`] stand beside them.
//!
//! A column whose source type the canonical column cannot take (a `bytea` photo mapped onto a
//! name, a `json` document onto an amount) sets its rows aside in quarantine with the reason,
//! before the converter sees them ([`TypeFamily`]).

use async_trait::async_trait;

use std::sync::Arc;

use super::convert::RawRows;
use super::value::Cell;
use super::{Connector, Mapped, Result};
use crate::schema::ColumnType;

/// The columns of a live source's result, known before its rows.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// Column names, as the result has them: the "headers" the connector maps from.
    pub names: Vec<String>,
    /// The source's type of each column (`numeric`, `bytea`, `VARCHAR`), for messages.
    pub types: Vec<String>,
    /// What each column's type holds, for the type check.
    pub families: Vec<TypeFamily>,
}

/// One independent read of a live source.
#[derive(Debug, Clone)]
pub struct QuerySplit {
    /// What it reads, for messages (never a secret).
    pub label: String,
    /// The statement it runs (database sources) or the first address it fetches.
    pub request: String,
}

/// One independent unit of reading: a byte range of an export file, or a query of a live source.
#[derive(Debug, Clone)]
pub enum Split {
    /// A whole file, or a chunk of a text file.
    File(super::FileSplit),
    /// A statement (database) or a first address (HTTP API).
    Query(QuerySplit),
}

impl Split {
    /// The query of a live source's split; a file split given to a live source is a bug
    /// reported as an error naming `shown`.
    pub fn query(&self, shown: &str) -> Result<&QuerySplit> {
        match self {
            Split::Query(q) => Ok(q),
            Split::File(f) => Err(super::Error::Source {
                file: shown.to_string(),
                message: format!("cannot read file split {} from a live source", f.file.file.display),
            }),
        }
    }

    /// The export file it reads, if it reads one.
    pub fn file(&self) -> Option<&super::SourceFile> {
        match self {
            Split::File(f) => Some(&f.file.file),
            Split::Query(_) => None,
        }
    }
}

/// What a survey found, before any row is read.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// Columns of a live source's result (files map their headers per file, in the plan).
    pub header: Option<Header>,
    /// Reads to make, in order.
    pub splits: Vec<Split>,
    /// Rows the reads will return, when the source can count them first.
    pub rows: Option<u64>,
    /// An incremental load: the watermark column and the largest value the reads reach.
    pub watermark: Option<(String, Option<String>)>,
    /// What makes the snapshot new, when it is known before reading (files: the declaration and
    /// every file's bytes); `None`: the rows read decide.
    pub fingerprint: Option<String>,
    /// The files surveyed, with the BLAKE3 of each one's bytes.
    pub files: Vec<(Arc<super::FilePlan>, String)>,
}

/// What a survey reports while it runs. A source may report nothing: its [`Survey::splits`]
/// are what count, and the splits it reported are their first ones, in order.
pub trait Watch: Sync {
    /// A split is known: it can be read now.
    fn split(&self, _split: &Split) {}
    /// Progress, in the source's units (bytes of files).
    fn advance(&self, _units: u64) {}
}

/// A [`Watch`] that wants nothing.
pub struct Unwatched;
impl Watch for Unwatched {}

/// What a read hands on: raw rows not yet converted.
#[derive(Debug)]
pub enum Rows {
    /// The bytes of a file split, for its format's reader.
    Bytes(super::FileSplit, bytes::Bytes),
    /// A batch of a live source's text rows.
    Text(TextBatch),
}

impl From<TextBatch> for Rows {
    fn from(b: TextBatch) -> Self {
        Rows::Text(b)
    }
}

impl Rows {
    /// Progress units it stands for: bytes of a file split, rows of a batch.
    pub fn units(&self) -> u64 {
        match self {
            Rows::Bytes(s, _) => s.len(),
            Rows::Text(b) => b.len() as u64,
        }
    }

    /// The order-free digest of a batch's rows (0 for bytes: files are fingerprinted whole).
    pub fn digest(&self) -> u128 {
        match self {
            Rows::Bytes(..) => 0,
            Rows::Text(b) => b.digest(),
        }
    }

    /// Bytes read.
    pub fn bytes(&self) -> u64 {
        match self {
            Rows::Bytes(_, b) => b.len() as u64,
            Rows::Text(b) => b.text_bytes() as u64,
        }
    }
}

/// A live result's columns mapped onto the connector's: where each canonical column comes from
/// and, per column, why its source type cannot land there.
#[derive(Debug, Clone)]
pub struct ResultColumns {
    /// The source, for messages.
    pub shown: String,
    pub(crate) mapping: Vec<Mapped>,
    pub(crate) unlandable: Vec<Option<String>>,
}

impl ResultColumns {
    /// Maps `header` for `conn`; fails naming `shown` when a required column is not in it.
    pub fn of(conn: &Connector, header: &Header, shown: &str) -> Result<ResultColumns> {
        let (mapping, unlandable) = map_result(conn, header, shown)?;
        Ok(ResultColumns { shown: shown.to_string(), mapping, unlandable })
    }
}

/// Rows of text as a live source read them: one buffer, cells as ranges into it.
#[derive(Debug, Clone)]
pub struct TextBatch {
    text: String,
    /// `(start, end)` of each cell, row after row; `start == u32::MAX` is NULL.
    cells: Vec<(u32, u32)>,
    width: usize,
    /// 1-based number of the batch's first row in the whole read.
    pub first_row: u64,
    /// The line (or record number) of each row, when rows do not follow one another
    /// ([`TextBatch::push_row_at`]).
    lines: Vec<u64>,
    /// Rows that stand for a record that could not be read: row → (code, reason).
    defects: std::collections::HashMap<usize, (String, String)>,
}

/// NULL in [`TextBatch::cells`].
const NULL: u32 = u32::MAX;
/// The largest batch of text: a batch is cut here whatever its row count.
pub const MAX_BATCH_TEXT: usize = 64 << 20;

/// The text a batch may hold under the process's memory limit: a read keeps a few batches in
/// flight (two queued, one per worker converting, their Arrow copies), so each gets a
/// thirty-second of the limit, at most [`MAX_BATCH_TEXT`] and at least 1 MiB.
pub fn batch_text_limit() -> usize {
    let share = crate::limits::memory() / 32;
    (share.min(MAX_BATCH_TEXT as u64) as usize).max(1 << 20)
}

impl TextBatch {
    /// An empty batch of rows `width` cells wide.
    pub fn new(width: usize, first_row: u64) -> Self {
        TextBatch {
            text: String::new(),
            cells: Vec::new(),
            width,
            first_row,
            lines: Vec::new(),
            defects: Default::default(),
        }
    }

    /// Appends one row; cells beyond the width are ignored, missing ones are NULL.
    pub fn push_row<'a>(&mut self, cells: impl IntoIterator<Item = Option<&'a str>>) {
        let mut n = 0;
        for c in cells.into_iter().take(self.width) {
            self.push_cell(c);
            n += 1;
        }
        for _ in n..self.width {
            self.cells.push((NULL, NULL));
        }
    }

    /// Appends one row read from line (or record) `line`.
    pub fn push_row_at<'a>(&mut self, line: u64, cells: impl IntoIterator<Item = Option<&'a str>>) {
        self.push_row(cells);
        self.lines.push(line);
    }

    /// Appends a row of NULLs standing for a record at `line` that could not be read: the
    /// converter sets it aside in quarantine with the reason.
    pub fn push_defect_at(&mut self, line: u64, code: &str, reason: String) {
        let row = self.len();
        self.push_row_at(line, std::iter::empty());
        self.defects.insert(row, (code.to_string(), reason));
    }

    /// The line (or record number) of `row`.
    pub fn line(&self, row: usize) -> u64 {
        self.lines.get(row).copied().unwrap_or(self.first_row + row as u64)
    }

    fn push_cell(&mut self, cell: Option<&str>) {
        match cell {
            None => self.cells.push((NULL, NULL)),
            Some(s) => {
                let start = self.text.len() as u32;
                self.text.push_str(s);
                self.cells.push((start, self.text.len() as u32));
            }
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.cells.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of text held.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Whether it is full: `rows` rows, or the text [`batch_text_limit`] allows (which also keeps
    /// the `u32` ranges in bounds).
    pub fn full(&self, rows: usize) -> bool {
        self.len() >= rows || self.text.len() >= batch_text_limit()
    }

    /// Cell `column` of `row` (`None` is NULL).
    pub fn get(&self, row: usize, column: usize) -> Option<&str> {
        let (s, e) = *self.cells.get(row * self.width + column)?;
        (s != NULL).then(|| &self.text[s as usize..e as usize])
    }

    /// An order-independent digest of the rows: the wrapping sum of each row's BLAKE3, so that
    /// equal tables read in another order fingerprint alike.
    pub fn digest(&self) -> u128 {
        let mut sum = 0u128;
        for r in 0..self.len() {
            let mut h = blake3::Hasher::new();
            for c in 0..self.width {
                match self.get(r, c) {
                    None => h.update(&[0]),
                    Some(s) => h.update(&[1]).update(&(s.len() as u64).to_le_bytes()).update(s.as_bytes()),
                };
            }
            let bytes: [u8; 16] = h.finalize().as_bytes()[..16].try_into().expect("16 bytes");
            sum = sum.wrapping_add(u128::from_le_bytes(bytes));
        }
        sum
    }
}

/// `YYYY-MM-DD HH:MM:SS` of a longer date-time (`.123456`, `+08`, `+08:00`, `Z`): the wall-clock
/// time as written, which the converter reads; any other text is returned as it is.
pub(crate) fn wall_clock(s: &str) -> &str {
    let b = s.as_bytes();
    let shaped = b.len() > 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && matches!(b[10], b' ' | b'T')
        && b[13] == b':'
        && b[16] == b':'
        && matches!(b[19], b'.' | b'+' | b'-' | b'Z');
    if shaped { &s[..19] } else { s }
}

/// A source of raw rows: export files, a database table or query, an HTTP API.
#[async_trait]
pub trait Source: Send + Sync {
    /// What it reads, for messages and the manifest — never a secret.
    fn describe(&self) -> String;

    /// The files it reads, with their sizes, when it reads files: enough to tell, before any
    /// byte is read, a changed export (a size differs) or one only appended to.
    fn listing(&self) -> Option<&[super::SourceFile]> {
        None
    }

    /// Looks before reading: the splits to read and what makes this snapshot new; for an
    /// incremental load past `since` (the watermark the current snapshot reached), how far this
    /// one goes. Reports splits and progress to `watch` as it goes.
    async fn survey(&self, since: Option<&str>, watch: &dyn Watch) -> Result<Survey>;

    /// Reads one split, handing its rows to `out` as soon as they are read (a bounded channel: a
    /// slow lake slows the read, it never piles rows up). Returns the rows read, where the
    /// source counts them (files: 0 — their rows are counted as they are decoded).
    async fn read(&self, split: &Split, out: tokio::sync::mpsc::Sender<Rows>) -> Result<u64>;
}

/// The kind of value a source type holds, as far as landing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    /// Text of any kind, or a type the check does not know: the converter decides per value.
    Text,
    /// Numbers.
    Number,
    /// A true/false value.
    Bool,
    /// A date or a point in time.
    Temporal,
    /// A time of day, with no date.
    TimeOfDay,
    /// Bytes, not text.
    Binary,
    /// A document, an array, a geometry, an interval: a structure, not one value.
    Structured,
}

impl TypeFamily {
    /// Whether a value of this family can be landed as `kind` (the converter still checks
    /// each value).
    pub fn lands_as(self, kind: ColumnType) -> bool {
        use ColumnType as T;
        match self {
            TypeFamily::Text | TypeFamily::Number => true,
            TypeFamily::Bool => matches!(kind, T::Bool | T::Text),
            TypeFamily::Temporal => matches!(kind, T::Date | T::Month | T::Timestamp | T::Text),
            TypeFamily::TimeOfDay | TypeFamily::Structured => kind == T::Text,
            TypeFamily::Binary => false,
        }
    }
}

/// Raw rows of a [`TextBatch`] for the converter, mapped onto the connector's columns.
pub(crate) struct BatchRows<'a> {
    pub batch: &'a TextBatch,
    pub mapping: &'a [Mapped],
    /// Per connector column: why its source column cannot land there, if it cannot.
    pub unlandable: &'a [Option<String>],
}

impl RawRows for BatchRows<'_> {
    fn len(&self) -> usize {
        self.batch.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        match self.mapping.get(column) {
            Some(Mapped::Column(i, _)) => self.batch.get(row, *i).map_or(Cell::Empty, Cell::Text),
            _ => Cell::Empty,
        }
    }

    fn line(&self, row: usize) -> u64 {
        self.batch.line(row)
    }

    fn record(&self, row: usize) -> String {
        (0..self.batch.width).map(|c| self.batch.get(row, c).unwrap_or("")).collect::<Vec<_>>().join("\t")
    }

    fn first_text(&self, _row: usize) -> Option<String> {
        None
    }

    fn defect(&self, row: usize) -> Option<(String, String)> {
        if let Some(d) = self.batch.defects.get(&row) {
            return Some(d.clone());
        }
        let reasons: Vec<&str> = self
            .unlandable
            .iter()
            .enumerate()
            .filter_map(|(c, why)| why.as_deref().filter(|_| !matches!(self.cell(c, row), Cell::Empty)))
            .collect();
        (!reasons.is_empty()).then(|| ("source_type".to_string(), reasons.join("；")))
    }

    fn mapping(&self) -> Option<&[Mapped]> {
        Some(self.mapping)
    }
}

/// Maps the connector's columns onto a live result's columns and finds those whose source type
/// the canonical column cannot take. `shown` names the source in messages.
pub(crate) fn map_result(conn: &Connector, header: &Header, shown: &str) -> Result<(Vec<Mapped>, Vec<Option<String>>)> {
    let mapping = super::map_headers(conn, &header.names, shown, 1)?;
    let unlandable = conn
        .input_columns()
        .zip(&mapping)
        .map(|((name, col), m)| match m {
            Mapped::Column(i, _) => {
                let ty = header.types.get(*i).map(String::as_str).unwrap_or("");
                let family = header.families.get(*i).copied().unwrap_or(TypeFamily::Text);
                (!family.lands_as(col.kind))
                    .then(|| format!("源列 {} 的类型 {ty} 不能落为 {name}（{}）", header.names[*i], col.kind.name()))
            }
            _ => None,
        })
        .collect();
    Ok((mapping, unlandable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_nulls_apart_from_empty_text_and_digests_in_any_order() {
        let mut a = TextBatch::new(2, 1);
        a.push_row([Some("1"), None]);
        a.push_row([Some("2"), Some("")]);
        assert_eq!(a.len(), 2);
        assert_eq!(a.get(0, 1), None);
        assert_eq!(a.get(1, 1), Some(""));
        let mut b = TextBatch::new(2, 1);
        b.push_row([Some("2"), Some("")]);
        b.push_row([Some("1"), None]);
        assert_eq!(a.digest(), b.digest());
        let mut c = TextBatch::new(2, 1);
        c.push_row([Some("2"), None]);
        c.push_row([Some("1"), None]);
        assert_ne!(a.digest(), c.digest(), "NULL and empty text differ");
    }

    #[test]
    fn binary_lands_nowhere_and_documents_only_as_text() {
        assert!(!TypeFamily::Binary.lands_as(ColumnType::Text));
        assert!(TypeFamily::Structured.lands_as(ColumnType::Text));
        assert!(!TypeFamily::Structured.lands_as(ColumnType::Money));
        assert!(!TypeFamily::Temporal.lands_as(ColumnType::Money));
        assert!(TypeFamily::Temporal.lands_as(ColumnType::Date));
        assert!(TypeFamily::Number.lands_as(ColumnType::IdCard));
    }
}
