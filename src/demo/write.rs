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
    let mut out = String::with_capacity(t.rows.len() * 128);
    for title in titles {
        out.push_str(title);
        out.push_str("\r\n");
    }
    out.push_str(&t.headers.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    match &t.rendered {
        Some(lines) => out.push_str(lines),
        None => {
            for r in &t.rows {
                out.push_str(&t.line(r));
            }
        }
    }
    let bytes = if gbk { encoding_rs::GBK.encode(&out).0.into_owned() } else { out.into_bytes() };
    std::fs::write(path, &bytes)?;
    Ok(t.count)
}

/// Writes NDJSON, one object per row, keys = headers; dates as ISO strings.
pub fn ndjson(path: &Path, t: &Table) -> std::io::Result<u64> {
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
    std::fs::write(path, out)?;
    Ok(t.rows.len() as u64)
}

/// Writes Parquet with typed columns inferred from the values (text, int, float; dates as text).
pub fn parquet(path: &Path, t: &Table) -> std::io::Result<u64> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, h) in t.headers.iter().enumerate() {
        let kind = t.rows.iter().map(|r| &r[i]).find(|v| !matches!(v, Val::Empty));
        match kind {
            Some(Val::Int(_)) => {
                let mut b = Int64Builder::new();
                for r in &t.rows {
                    match &r[i] {
                        Val::Int(x) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                fields.push(Field::new(h, DataType::Int64, true));
                arrays.push(Arc::new(b.finish()));
            }
            Some(Val::Num(..)) => {
                let mut b = Float64Builder::new();
                for r in &t.rows {
                    match &r[i] {
                        Val::Num(x, _) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                fields.push(Field::new(h, DataType::Float64, true));
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
                fields.push(Field::new(h, DataType::Utf8, true));
                arrays.push(Arc::new(b.finish()));
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(std::io::Error::other)?;
    // the exports' own writer settings, independent of how the lake stores its snapshots
    let props = datafusion::parquet::file::properties::WriterProperties::builder()
        .set_compression(datafusion::parquet::basic::Compression::SNAPPY)
        .set_created_by("清河县数据共享平台".into())
        .build();
    let mut buf = Vec::new();
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(&mut buf, schema, Some(props))
        .map_err(std::io::Error::other)?;
    w.write(&batch).map_err(std::io::Error::other)?;
    w.close().map_err(std::io::Error::other)?;
    std::fs::write(path, buf)?;
    Ok(t.rows.len() as u64)
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
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| std::io::Error::other(e.to_string());
    let mut wb = Workbook::new();
    // a fixed creation time keeps generated workbooks byte-identical for the same seed
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 12, 31).map_err(err)?;
    wb.set_properties(
        &rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created).set_author("searchlight fixtures"),
    );
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let mut rows_written = 0u64;
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name).map_err(err)?;
        let mut r = 0u32;
        for title in &s.titles {
            ws.write_string(r, 0, title).map_err(err)?;
            r += 1;
        }
        for (c, h) in s.table.headers.iter().enumerate() {
            ws.write_string(r, c as u16, h).map_err(err)?;
        }
        r += 1;
        for row in &s.table.rows {
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
    }
    let buf = wb.save_to_buffer().map_err(err)?;
    std::fs::write(path, buf)?;
    Ok(rows_written)
}

/// The number Excel keeps for a digit string typed into a cell: 15 significant digits.
pub fn excel_number(digits: &str) -> f64 {
    let v: f64 = digits.parse().unwrap_or(0.0);
    let s = format!("{v:.14e}"); // 15 significant digits
    s.parse().unwrap_or(v)
}
