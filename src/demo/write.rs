//! Writing generated tables in the shapes departments really export: GBK or UTF-8 CSV with
//! Chinese headers and title rows, Excel workbooks (one sheet per township, IDs typed as
//! numbers, amounts in 万元, real date cells), NDJSON and Parquet.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

/// One generated value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Nothing.
    Empty,
    /// Text.
    Str(String),
    /// An integer.
    Int(i64),
    /// A number written with this many decimals in text formats.
    Num(f64, usize),
    /// A date; text formats render it with the table's date style.
    Date(NaiveDate),
    /// A digit string (ID, account) that a careless clerk typed into Excel as a number:
    /// workbooks store it as a number (losing digits past 15), text formats as the digits.
    Digits(String),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(s)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<NaiveDate> for Val {
    fn from(d: NaiveDate) -> Self {
        Val::Date(d)
    }
}
impl From<Option<NaiveDate>> for Val {
    fn from(d: Option<NaiveDate>) -> Self {
        d.map_or(Val::Empty, Val::Date)
    }
}

/// How dates are written in text.
#[derive(Debug, Clone, Copy)]
pub enum DateStyle {
    /// 2024-03-05
    Iso,
    /// 2024/3/5
    Slash,
    /// 2024年3月5日
    Chinese,
    /// 20240305
    Compact,
    /// 202403 (months)
    Month,
}

impl DateStyle {
    fn render(self, d: NaiveDate) -> String {
        match self {
            DateStyle::Iso => d.format("%Y-%m-%d").to_string(),
            DateStyle::Slash => d.format("%Y/%-m/%-d").to_string(),
            DateStyle::Chinese => d.format("%Y年%-m月%-d日").to_string(),
            DateStyle::Compact => d.format("%Y%m%d").to_string(),
            DateStyle::Month => d.format("%Y%m").to_string(),
        }
    }
}

/// A generated table: headers as the export labels them, rows, and per-column date styles.
///
/// A table made with [`Table::streamed`] renders each row to CSV text as it is pushed instead
/// of keeping it, so a county at benchmark scale fits in memory.
#[derive(Debug, Clone)]
pub struct Table {
    /// Export headers.
    pub headers: Vec<String>,
    /// Rows (empty for streamed tables).
    pub rows: Vec<Vec<Val>>,
    /// Date style per column (default ISO).
    pub date_styles: Vec<DateStyle>,
    /// CSV text of the rows pushed so far (streamed tables).
    rendered: Option<String>,
    count: u64,
}

impl Table {
    /// A table with these headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            date_styles: vec![DateStyle::Iso; headers.len()],
            rendered: None,
            count: 0,
        }
    }

    /// A table written only as CSV, rendered row by row as it is pushed.
    pub fn streamed(headers: &[&str]) -> Table {
        Table { rendered: Some(String::new()), ..Table::new(headers) }
    }

    /// Rows pushed.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Sets the date style of the column headed `header`.
    pub fn style(mut self, header: &str, style: DateStyle) -> Table {
        let i = self.headers.iter().position(|h| h == header).expect("known header");
        self.date_styles[i] = style;
        self
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<Val>) {
        debug_assert_eq!(row.len(), self.headers.len(), "row width");
        self.count += 1;
        if self.rendered.is_some() {
            let line = self.line(&row);
            let buf = self.rendered.as_mut().expect("streamed");
            buf.push_str(&line);
            return;
        }
        self.rows.push(row);
    }

    fn line(&self, row: &[Val]) -> String {
        let mut out = String::with_capacity(256);
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_field(&self.text(i, v)));
        }
        out.push_str("\r\n");
        out
    }

    fn text(&self, col: usize, v: &Val) -> String {
        match v {
            Val::Empty => String::new(),
            Val::Str(s) | Val::Digits(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Num(f, d) => format!("{f:.d$}"),
            Val::Date(d) => self.date_styles[col].render(*d),
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Writes CSV text (title rows first), UTF-8 or GBK.
pub fn csv(path: &Path, t: &Table, titles: &[&str], gbk: bool) -> std::io::Result<u64> {
    let mut out = csv_head(t, titles);
    out.push_str(&csv_body(t));
    std::fs::write(path, encode(out, gbk))?;
    Ok(t.count)
}

/// The title rows and the header line of a CSV export.
fn csv_head(t: &Table, titles: &[&str]) -> String {
    let mut out = String::new();
    for title in titles {
        out.push_str(title);
        out.push_str("\r\n");
    }
    out.push_str(&t.headers.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    out
}

/// The data lines of a CSV export.
fn csv_body(t: &Table) -> String {
    match &t.rendered {
        Some(lines) => lines.clone(),
        None => {
            let mut out = String::with_capacity(t.rows.len() * 128);
            for r in &t.rows {
                out.push_str(&t.line(r));
            }
            out
        }
    }
}

fn encode(text: String, gbk: bool) -> Vec<u8> {
    if gbk { encoding_rs::GBK.encode(&text).0.into_owned() } else { text.into_bytes() }
}

/// Writes NDJSON, one object per row, keys = headers; dates as ISO strings.
pub fn ndjson(path: &Path, t: &Table) -> std::io::Result<u64> {
    std::fs::write(path, ndjson_body(t))?;
    Ok(t.rows.len() as u64)
}

fn ndjson_body(t: &Table) -> String {
    let mut out = String::new();
    for r in &t.rows {
        let mut m = serde_json::Map::new();
        for (i, v) in r.iter().enumerate() {
            let j = match v {
                Val::Empty => continue,
                Val::Str(s) | Val::Digits(s) => serde_json::Value::String(s.clone()),
                Val::Int(x) => serde_json::Value::from(*x),
                Val::Num(f, d) => serde_json::from_str(&format!("{f:.d$}")).unwrap_or(serde_json::Value::Null),
                Val::Date(d) => serde_json::Value::String(d.format("%Y-%m-%d").to_string()),
            };
            m.insert(t.headers[i].clone(), j);
        }
        out.push_str(&serde_json::Value::Object(m).to_string());
        out.push('\n');
    }
    out
}

/// Writes Parquet with typed columns inferred from the values (text, int, float; dates as text).
pub fn parquet(path: &Path, t: &Table) -> std::io::Result<u64> {
    let schema = parquet_schema(t);
    let batch = parquet_batch(t, &schema)?;
    let mut buf = Vec::new();
    let mut w = parquet_writer(&mut buf, schema)?;
    w.write(&batch).map_err(std::io::Error::other)?;
    w.close().map_err(std::io::Error::other)?;
    std::fs::write(path, buf)?;
    Ok(t.rows.len() as u64)
}

/// Column types from the first value present in each column: int, float, else text.
fn parquet_schema(t: &Table) -> Arc<Schema> {
    let fields: Vec<Field> = t
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let kind = t.rows.iter().map(|r| &r[i]).find(|v| !matches!(v, Val::Empty));
            let ty = match kind {
                Some(Val::Int(_)) => DataType::Int64,
                Some(Val::Num(..)) => DataType::Float64,
                _ => DataType::Utf8,
            };
            Field::new(h, ty, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The rows in the given column types (a value of another kind is null there).
fn parquet_batch(t: &Table, schema: &Arc<Schema>) -> std::io::Result<RecordBatch> {
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        match f.data_type() {
            DataType::Int64 => {
                let mut b = Int64Builder::new();
                for r in &t.rows {
                    match &r[i] {
                        Val::Int(x) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                arrays.push(Arc::new(b.finish()));
            }
            DataType::Float64 => {
                let mut b = Float64Builder::new();
                for r in &t.rows {
                    match &r[i] {
                        Val::Num(x, _) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                arrays.push(Arc::new(b.finish()));
            }
            _ => {
                let mut b = StringBuilder::new();
                for r in &t.rows {
                    match &r[i] {
                        Val::Empty => b.append_null(),
                        v => b.append_value(t.text(i, v)),
                    }
                }
                arrays.push(Arc::new(b.finish()));
            }
        }
    }
    RecordBatch::try_new(schema.clone(), arrays).map_err(std::io::Error::other)
}

fn parquet_writer<W: std::io::Write + Send>(
    out: W,
    schema: Arc<Schema>,
) -> std::io::Result<datafusion::parquet::arrow::ArrowWriter<W>> {
    // the exports' own writer settings, independent of how the lake stores its snapshots
    let props = datafusion::parquet::file::properties::WriterProperties::builder()
        .set_compression(datafusion::parquet::basic::Compression::SNAPPY)
        .set_created_by("清河县数据共享平台".into())
        .build();
    datafusion::parquet::arrow::ArrowWriter::try_new(out, schema, Some(props)).map_err(std::io::Error::other)
}

/// A workbook sheet: name, title rows above the header, and the table.
pub struct Sheet<'a> {
    /// Sheet name.
    pub name: String,
    /// Title rows.
    pub titles: Vec<String>,
    /// Content.
    pub table: &'a Table,
}

/// Writes an .xlsx workbook. `Val::Digits` become numeric cells (as Excel does when a clerk
/// forgets to format an ID column as text: 15 significant digits survive); dates become real
/// date cells.
pub fn xlsx(path: &Path, sheets: &[Sheet]) -> std::io::Result<u64> {
    let mut wb = workbook()?;
    let mut rows_written = 0u64;
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name).map_err(xlsx_err)?;
        let r = sheet_head(ws, s)?;
        rows_written += sheet_rows(ws, r, &s.table.rows)?.1;
    }
    let buf = wb.save_to_buffer().map_err(xlsx_err)?;
    std::fs::write(path, buf)?;
    Ok(rows_written)
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn workbook() -> std::io::Result<rust_xlsxwriter::Workbook> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    // a fixed creation time keeps generated workbooks byte-identical for the same seed
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 12, 31).map_err(xlsx_err)?;
    wb.set_properties(
        &rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created).set_author("searchlight fixtures"),
    );
    Ok(wb)
}

/// Writes a sheet's title rows and header; the next row.
fn sheet_head(ws: &mut rust_xlsxwriter::Worksheet, s: &Sheet) -> std::io::Result<u32> {
    let mut r = 0u32;
    for title in &s.titles {
        ws.write_string(r, 0, title).map_err(xlsx_err)?;
        r += 1;
    }
    for (c, h) in s.table.headers.iter().enumerate() {
        ws.write_string(r, c as u16, h).map_err(xlsx_err)?;
    }
    Ok(r + 1)
}

/// Writes a table's rows from row `r`; the next row and the rows written.
fn sheet_rows(ws: &mut rust_xlsxwriter::Worksheet, mut r: u32, rows: &[Vec<Val>]) -> std::io::Result<(u32, u64)> {
    let err = xlsx_err;
    let date_fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let mut rows_written = 0u64;
    for row in rows {
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Val::Empty => {}
                Val::Str(x) => {
                    ws.write_string(r, c, x).map_err(err)?;
                }
                Val::Int(x) => {
                    ws.write_number(r, c, *x as f64).map_err(err)?;
                }
                Val::Num(x, _) => {
                    ws.write_number(r, c, *x).map_err(err)?;
                }
                Val::Date(d) => {
                    let serial = (*d - NaiveDate::from_ymd_opt(1899, 12, 30).expect("epoch")).num_days() as f64;
                    ws.write_number_with_format(r, c, serial, &date_fmt).map_err(err)?;
                }
                // an ID ending in X stays text even when the column is numeric
                Val::Digits(x) if !x.bytes().all(|b| b.is_ascii_digit()) => {
                    ws.write_string(r, c, x).map_err(err)?;
                }
                Val::Digits(x) => {
                    ws.write_number(r, c, excel_number(x)).map_err(err)?;
                }
            }
        }
        r += 1;
        rows_written += 1;
    }
    Ok((r, rows_written))
}

/// Rows of a worksheet (Excel's limit).
const XLSX_ROWS: u32 = 1 << 20;

/// Files written batch after batch: a county at benchmark scale is generated in batches of
/// bounded size, and each batch's rows are appended to the files the batches before it opened
/// (CSV and NDJSON appended, Parquet row groups added, workbook rows streamed through
/// low-memory worksheets), so memory is bounded by a batch and the workbook's distinct strings,
/// not by the county.
pub struct Sinks {
    root: std::path::PathBuf,
    open: Vec<(String, Sink)>,
    /// Workbook rows go through low-memory worksheets (a county in several batches): rows are
    /// flushed as written, strings kept once in the shared-string table — inline strings (the
    /// constant-memory mode) made a scale-300 workbook inflate past the readers' 1 GiB guard; a
    /// county in one batch writes workbooks as [`xlsx`] does, byte for byte.
    streamed: bool,
    /// Rows of a sheet before it continues in the next ([`XLSX_ROWS`]).
    sheet_limit: u32,
    /// Rows of a streamed workbook after which the next batch starts a new one ([`BOOK_ROWS`]).
    book_limit: u64,
    /// Workbooks already saved (a streamed workbook continued in the next): the file they
    /// continue, their path and rows.
    saved: Vec<(String, std::path::PathBuf, u64)>,
}

/// Rows of a streamed workbook before the next batch goes to `name_002.xlsx`, `name_003.xlsx` …:
/// a workbook keeps its distinct strings in memory until it is saved, and a reader holds a
/// workbook's compressed bytes while it reads it, so neither grows with the county.
pub const BOOK_ROWS: u64 = 1 << 20;

enum Sink {
    Text {
        file: std::io::BufWriter<std::fs::File>,
        gbk: bool,
        rows: u64,
    },
    Parquet {
        writer: datafusion::parquet::arrow::ArrowWriter<std::fs::File>,
        schema: Arc<Schema>,
        rows: u64,
    },
    /// `next`: per sheet as generated, the sheet written now (a full one continues in
    /// `name(2)`, `name(3)` …), its part number and its next row.
    /// `path`: where the workbook written now is saved (`name_002.xlsx` … once a streamed
    /// workbook is full).
    Xlsx {
        book: Box<rust_xlsxwriter::Workbook>,
        next: std::collections::HashMap<String, (String, u32, u32)>,
        rows: u64,
        path: std::path::PathBuf,
        books: u32,
    },
}

impl Sinks {
    /// Files under `root`; `streamed` when more than one batch will be written.
    pub fn new(root: &Path, streamed: bool) -> Sinks {
        Sinks {
            root: root.to_path_buf(),
            open: Vec::new(),
            streamed,
            sheet_limit: XLSX_ROWS,
            book_limit: BOOK_ROWS,
            saved: Vec::new(),
        }
    }

    /// Streamed workbooks continue in the next file after `rows` rows (tests).
    pub fn with_book_limit(mut self, rows: u64) -> Sinks {
        self.book_limit = rows.max(1);
        self
    }

    /// Sheets continue in the next after `rows` rows (tests).
    pub fn with_sheet_limit(mut self, rows: u32) -> Sinks {
        self.sheet_limit = rows.max(2);
        self
    }

    fn find(&mut self, file: &str) -> Option<&mut Sink> {
        self.open.iter_mut().find(|(f, _)| f == file).map(|(_, s)| s)
    }

    fn create(&self, file: &str) -> std::io::Result<std::fs::File> {
        let path = self.root.join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::File::create(path)
    }

    /// Appends CSV rows (the titles and header when the file is new).
    pub fn csv(&mut self, file: &str, t: &Table, titles: &[&str], gbk: bool) -> std::io::Result<()> {
        use std::io::Write;
        let head = if self.find(file).is_none() {
            let f = self.create(file)?;
            self.open.push((file.into(), Sink::Text { file: std::io::BufWriter::new(f), gbk, rows: 0 }));
            Some(csv_head(t, titles))
        } else {
            None
        };
        let Some(Sink::Text { file: out, gbk, rows }) = self.find(file) else {
            return Err(std::io::Error::other(format!("{file}: written in two formats")));
        };
        if let Some(h) = head {
            out.write_all(&encode(h, *gbk))?;
        }
        out.write_all(&encode(csv_body(t), *gbk))?;
        *rows += t.count;
        Ok(())
    }

    /// A file written whole by its layout (made in one batch only).
    pub fn raw(&mut self, file: &str, bytes: &[u8], rows: u64) -> std::io::Result<()> {
        use std::io::Write;
        if self.find(file).is_some() {
            return Err(std::io::Error::other(format!("{file}: a whole-file export cannot take a second batch")));
        }
        let mut f = std::io::BufWriter::new(self.create(file)?);
        f.write_all(bytes)?;
        self.open.push((file.into(), Sink::Text { file: f, gbk: false, rows }));
        Ok(())
    }

    /// Appends lines of text (JSON lines written by their maker).
    pub fn lines(&mut self, file: &str, bytes: &[u8], lines: u64) -> std::io::Result<()> {
        use std::io::Write;
        if self.find(file).is_none() {
            let f = self.create(file)?;
            self.open.push((file.into(), Sink::Text { file: std::io::BufWriter::new(f), gbk: false, rows: 0 }));
        }
        let Some(Sink::Text { file: out, rows, .. }) = self.find(file) else {
            return Err(std::io::Error::other(format!("{file}: written in two formats")));
        };
        out.write_all(bytes)?;
        *rows += lines;
        Ok(())
    }

    /// Appends NDJSON rows.
    pub fn ndjson(&mut self, file: &str, t: &Table) -> std::io::Result<()> {
        use std::io::Write;
        if self.find(file).is_none() {
            let f = self.create(file)?;
            self.open.push((file.into(), Sink::Text { file: std::io::BufWriter::new(f), gbk: false, rows: 0 }));
        }
        let Some(Sink::Text { file: out, rows, .. }) = self.find(file) else {
            return Err(std::io::Error::other(format!("{file}: written in two formats")));
        };
        out.write_all(ndjson_body(t).as_bytes())?;
        *rows += t.rows.len() as u64;
        Ok(())
    }

    /// Appends Parquet rows in the column types of the file's first batch.
    pub fn parquet(&mut self, file: &str, t: &Table) -> std::io::Result<()> {
        if self.find(file).is_none() {
            let f = self.create(file)?;
            let schema = parquet_schema(t);
            let writer = parquet_writer(f, schema.clone())?;
            self.open.push((file.into(), Sink::Parquet { writer, schema, rows: 0 }));
        }
        let Some(Sink::Parquet { writer, schema, rows }) = self.find(file) else {
            return Err(std::io::Error::other(format!("{file}: written in two formats")));
        };
        let batch = parquet_batch(t, schema)?;
        writer.write(&batch).map_err(std::io::Error::other)?;
        *rows += t.rows.len() as u64;
        Ok(())
    }

    /// Appends workbook rows: a sheet seen before continues where it ended, a new one gets
    /// its titles and header.
    pub fn xlsx(&mut self, file: &str, sheets: &[Sheet]) -> std::io::Result<()> {
        if self.find(file).is_none() {
            self.create(file)?;
            let book = Box::new(workbook()?);
            let path = self.root.join(file);
            self.open.push((file.into(), Sink::Xlsx { book, next: Default::default(), rows: 0, path, books: 1 }));
        }
        let (streamed, limit, book_limit) = (self.streamed, self.sheet_limit, self.book_limit);
        let root = self.root.clone();
        let Some((_, Sink::Xlsx { book, next, rows, path, books })) = self.open.iter_mut().find(|(f, _)| f == file)
        else {
            return Err(std::io::Error::other(format!("{file}: written in two formats")));
        };
        if streamed && *rows >= book_limit {
            // this batch starts the next workbook, with its sheets afresh
            let mut full = std::mem::replace(book, Box::new(workbook()?));
            let done = std::mem::replace(path, root.join(continued(file, *books + 1)));
            full.save(&done).map_err(xlsx_err)?;
            self.saved.push((file.to_string(), done, *rows));
            *books += 1;
            *rows = 0;
            next.clear();
        }
        for s in sheets {
            let mut left: &[Vec<Val>] = &s.table.rows;
            loop {
                let (name, part, r) = match next.get(&s.name) {
                    Some((name, part, r)) if *r < limit => (name.clone(), *part, *r),
                    found => {
                        // a new sheet, or the continuation of a full one (its header only)
                        let part = found.map_or(1, |(_, p, _)| p + 1);
                        let name = if part == 1 { s.name.clone() } else { format!("{}({part})", s.name) };
                        let ws = if streamed {
                            book.add_worksheet_with_low_memory().map_err(xlsx_err)?
                        } else {
                            book.add_worksheet()
                        };
                        ws.set_name(&name).map_err(xlsx_err)?;
                        let head = Sheet {
                            name: name.clone(),
                            titles: if part == 1 { s.titles.clone() } else { Vec::new() },
                            table: s.table,
                        };
                        let r = sheet_head(ws, &head)?;
                        (name, part, r)
                    }
                };
                let ws = book.worksheet_from_name(&name).map_err(xlsx_err)?;
                let take = left.len().min(limit.saturating_sub(r) as usize);
                let (r, n) = sheet_rows(ws, r, &left[..take])?;
                next.insert(s.name.clone(), (name, part, r));
                *rows += n;
                left = &left[take..];
                if left.is_empty() {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Closes every file; each file with its data rows, in the order first written.
    pub fn finish(self) -> std::io::Result<Vec<(std::path::PathBuf, u64)>> {
        use std::io::Write;
        let mut out = Vec::new();
        for (file, sink) in self.open {
            let path = self.root.join(&file);
            let rows = match sink {
                Sink::Text { mut file, rows, .. } => {
                    file.flush()?;
                    rows
                }
                Sink::Parquet { writer, rows, .. } => {
                    writer.close().map_err(std::io::Error::other)?;
                    rows
                }
                Sink::Xlsx { mut book, rows, path: last, .. } => {
                    book.save(&last).map_err(xlsx_err)?;
                    out.extend(self.saved.iter().filter(|(f, ..)| *f == file).map(|(_, p, n)| (p.clone(), *n)));
                    out.push((last, rows));
                    continue;
                }
            };
            out.push((path, rows));
        }
        Ok(out)
    }
}

/// The `n`th workbook of `file` (n ≥ 2): `relief/低保发放明细_002.xlsx`, named to sort after
/// the first and in order (a location glob lists files sorted).
fn continued(file: &str, n: u32) -> String {
    match file.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}_{n:03}.{ext}"),
        None => format!("{file}_{n:03}"),
    }
}

/// The number Excel keeps for a digit string typed into a cell: 15 significant digits.
pub fn excel_number(digits: &str) -> f64 {
    let v: f64 = digits.parse().unwrap_or(0.0);
    let s = format!("{v:.14e}"); // 15 significant digits
    s.parse().unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Reader;

    /// A sheet past the row limit continues in `name(2)`, `name(3)` with the header, batch
    /// after batch, and every row is somewhere.
    #[test]
    fn a_full_sheet_continues_in_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let mut sinks = Sinks::new(dir.path(), true).with_sheet_limit(4);
        let mut n = 0i64;
        for batch in 0..3 {
            let mut t = Table::new(&["编号", "名称"]);
            for _ in 0..(2 + batch) {
                n += 1;
                t.push(vec![Val::Int(n), Val::Str(format!("行{n}"))]);
            }
            let sheet = Sheet { name: "名单".into(), titles: vec!["标题".into()], table: &t };
            sinks.xlsx("a.xlsx", &[sheet]).unwrap();
        }
        let files = sinks.finish().unwrap();
        assert_eq!(files[0].1, 9);
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("a.xlsx")).unwrap();
        assert_eq!(wb.sheet_names(), vec!["名单", "名单(2)", "名单(3)", "名单(4)"]);
        let mut seen = Vec::new();
        for (i, name) in wb.sheet_names().iter().enumerate() {
            let range = wb.worksheet_range(name).unwrap();
            let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
            // the title only on the first; the header on every one; never past the limit
            let header = if i == 0 { 1 } else { 0 };
            assert!(rows.len() <= 4, "{name}: {rows:?}");
            assert_eq!(rows[header], vec!["编号", "名称"], "{name}");
            seen.extend(rows[header + 1..].iter().map(|r| r[0].clone()));
        }
        assert_eq!(seen, (1..=9).map(|i| i.to_string()).collect::<Vec<_>>());
    }

    /// A streamed workbook past its row limit continues in `a_002.xlsx`, `a_003.xlsx` at a batch's
    /// start: each holds whole batches, its sheets begin afresh with titles and header, and
    /// every row is in one of them, once.
    #[test]
    fn a_full_workbook_continues_in_the_next_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut sinks = Sinks::new(dir.path(), true).with_book_limit(5);
        let mut n = 0i64;
        for _ in 0..4 {
            let mut t = Table::new(&["编号"]);
            for _ in 0..3 {
                n += 1;
                t.push(vec![Val::Int(n)]);
            }
            let sheet = Sheet { name: "名单".into(), titles: vec!["标题".into()], table: &t };
            sinks.xlsx("d/a.xlsx", &[sheet]).unwrap();
        }
        let files = sinks.finish().unwrap();
        let names: Vec<String> = files.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into()).collect();
        assert_eq!(names, vec!["a.xlsx", "a_002.xlsx"]);
        assert_eq!(files.iter().map(|(_, r)| r).collect::<Vec<_>>(), vec![&6, &6]);
        let mut seen = Vec::new();
        for (p, _) in &files {
            let mut wb: calamine::Xlsx<_> = calamine::open_workbook(p).unwrap();
            assert_eq!(wb.sheet_names(), vec!["名单"]);
            let range = wb.worksheet_range("名单").unwrap();
            let rows: Vec<String> = range.rows().map(|r| r[0].to_string()).collect();
            assert_eq!(rows[..2], ["标题".to_string(), "编号".to_string()], "{p:?}");
            seen.extend(rows[2..].iter().cloned());
        }
        assert_eq!(seen, (1..=12).map(|i| i.to_string()).collect::<Vec<_>>());
    }
}
