//! CSV exports in UTF-8, GBK or GB 18030, with title rows above the header.
//!
//! Pass one finds the header and quote-aware chunk boundaries on the raw bytes; each chunk is
//! then decoded and parsed on its own (the `csv` crate does the parsing).

use bytes::Bytes;

use super::chunk::{self, Scan, Scanner};
use super::convert::RawRows;
use super::spec::CsvOptions;
use super::value::Cell;
use super::{Connector, Each, Error, FileLayout, FilePlan, FileSplit, Mapped, Piece, Result, SourceFile};

pub(super) struct CsvReader(pub CsvOptions);

impl super::FormatReader for CsvReader {
    fn scanner(&self, chunk_bytes: u64) -> Option<Scanner> {
        // UTF-16 has a NUL beside every '\n': it is read whole, not cut into chunks
        if self.0.encoding == super::Encoding::Utf16 {
            return None;
        }
        Some(Scanner::new(
            Some(self.delimiter()),
            self.last_header_row(),
            chunk_bytes,
            self.0.encoding == super::Encoding::Auto,
        ))
    }

    fn plan_file(&self, conn: &Connector, file: &SourceFile, scan: Option<Scan>) -> Result<FileLayout> {
        let Some(scan) = scan else {
            // UTF-16: planned when the whole file is decoded
            return Ok(FileLayout { encoding: Some(super::Encoding::Utf16), ..FileLayout::default() });
        };
        if super::chunk::utf16_bom(&scan.head) && self.0.encoding != super::Encoding::Utf16 {
            return Err(Error::Input {
                file: file.display.clone(),
                line: 1,
                message: format!(
                    "the file is UTF-16 text (it begins with a UTF-16 byte-order mark, as Excel saves \"Unicode text\"): set `encoding = \"utf-16\"` in {}",
                    conn.path.display()
                ),
            });
        }
        let header_line = self.0.header_row as u64;
        if !scan.header_complete {
            return Err(Error::Input {
                file: file.display.clone(),
                line: scan.lines,
                message: format!("no header row: `header_row = {}` but the file ends first", self.last_header_row()),
            });
        }
        let encoding = chunk::resolve(self.0.encoding, &scan.head, scan.utf8);
        // a UTF-8 file (its header has Chinese in UTF-8) with a line that is not: `auto` would
        // take the whole file for GB 18030 and land mojibake — name the line instead
        if self.0.encoding == super::Encoding::Auto
            && let Some((line, bytes)) = &scan.not_utf8
            && !scan.head.is_ascii()
            && std::str::from_utf8(&scan.head).is_ok()
        {
            return Err(Error::Input {
                file: file.display.clone(),
                line: *line,
                message: format!(
                    "bytes {bytes} are not UTF-8, though the lines before are — the file mixes encodings; correct this line or export the file again as UTF-8 (or declare its `encoding` in {})",
                    conn.path.display()
                ),
            });
        }
        let head = chunk::decode(&scan.head, encoding, 1).map_err(|e| Error::Input {
            file: file.display.clone(),
            line: e.line,
            message: format!(
                "bytes {} do not decode as {} (check `encoding` in {})",
                e.bytes,
                encoding.label(),
                conn.path.display()
            ),
        })?;
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter())
            .from_reader(head.as_bytes());
        let rows: Vec<Vec<String>> = rdr
            .records()
            .skip(self.0.header_row - 1)
            .take(self.0.header_rows.max(1))
            .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
            .collect::<std::result::Result<_, _>>()
            .ok()
            .filter(|rows: &Vec<Vec<String>>| rows.len() == self.0.header_rows.max(1))
            .ok_or_else(|| Error::Input {
                file: file.display.clone(),
                line: header_line,
                message: "cannot read the header row".into(),
            })?;
        let headers = super::header_names(&rows);
        let mut mapping = super::map_headers(conn, &headers, &file.display, header_line)?;
        let wide = conn.wide_columns(&headers, &mut mapping, None, file.name(), &file.display, header_line)?;
        Ok(FileLayout { encoding: Some(encoding), mapping, header_len: headers.len(), wide })
    }

    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        if self.0.encoding == super::Encoding::Utf16 {
            return self.read_whole(conn, split, &bytes, each);
        }
        let file = &split.file;
        let text = super::decode_text(conn, split, &bytes)?;
        let rows = CsvRows::parse(&text, self.delimiter(), split.first_line, file, &conn.spec.totals_markers);
        each(Piece::shared(&rows, &file.file.display, None).wide(&file.wide))
    }
}

impl CsvReader {
    /// A file read whole (UTF-16): decoded, its header found and mapped, its rows converted.
    fn read_whole(&self, conn: &Connector, split: &FileSplit, bytes: &[u8], each: &mut Each<'_>) -> Result<()> {
        let shown = &split.file.file.display;
        let err = |line: u64, message: String| Error::Input { file: shown.clone(), line, message };
        let text = super::chunk::decode(bytes, super::Encoding::Utf16, 1)
            .map_err(|e| err(e.line, format!("bytes {} do not decode as utf-16", e.bytes)))?;
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter())
            .from_reader(text.as_bytes());
        let mut header = Vec::new();
        let mut record = ::csv::StringRecord::new();
        for _ in 0..self.last_header_row() {
            if !rdr.read_record(&mut record).map_err(|e| err(self.0.header_row as u64, e.to_string()))? {
                return Err(err(self.0.header_row as u64, "no header row: the file ends first".into()));
            }
            header.push(record.iter().map(str::to_string).collect::<Vec<_>>());
        }
        let data_at = rdr.position().byte() as usize;
        let lines_before = text[..data_at].matches('\n').count() as u64;
        let headers = super::header_names(&header[self.0.header_row - 1..]);
        let line = self.0.header_row as u64;
        let mut mapping = super::map_headers(conn, &headers, shown, line)?;
        let wide = conn.wide_columns(&headers, &mut mapping, None, split.file.file.name(), shown, line)?;
        let plan = FilePlan {
            file: split.file.file.clone(),
            encoding: Some(super::Encoding::Utf16),
            mapping,
            header_len: headers.len(),
            wide,
        };
        let rows =
            CsvRows::parse(&text[data_at..], self.delimiter(), lines_before + 1, &plan, &conn.spec.totals_markers);
        each(Piece::shared(&rows, shown, None).wide(&plan.wide))
    }

    /// The last row of the header: data starts after it.
    fn last_header_row(&self) -> usize {
        self.0.header_row + self.0.header_rows.max(1) - 1
    }

    fn delimiter(&self) -> u8 {
        let mut buf = [0u8; 4];
        let s = self.0.delimiter.encode_utf8(&mut buf);
        s.as_bytes()[0]
    }
}

/// The records of one chunk, parsed by `csv-core` into one buffer of unescaped field bytes.
///
/// csv-core parses into one buffer of unescaped field bytes; the mapped columns are then gathered
/// column by column, because conversion walks one column at a time and a scattered walk over
/// the row-major buffer costs far more than the copy (measured: 40% more CPU without it). One
/// pass parses, one pass validates UTF-8, and line numbers are counted from the record offsets.
struct CsvRows<'t> {
    text: &'t str,
    mapping: Vec<Mapped>,
    file_name: String,
    /// unescaped field bytes of every record, back to back
    fields: String,
    /// field end offsets, relative to the start of their record
    ends: Vec<usize>,
    records: Vec<Record>,
    /// the mapped columns gathered column by column (conversion walks one column at a time,
    /// and contiguous bytes keep that walk in cache): text and end offsets per column
    columns: Vec<(String, Vec<u32>)>,
    header_len: usize,
}

#[derive(Clone, Copy)]
struct Record {
    /// 0: fine, 1: fewer fields than the header, 2: non-empty fields beyond the header
    defect: u8,
    /// the first non-empty field starts with a totals marker (合计, 小计, …)
    totals: bool,
    /// where the record's fields start in `fields`
    out: usize,
    /// its field ends in `ends`
    ends: usize,
    len: usize,
    /// its raw text in `text`
    start: usize,
    end: usize,
    line: u64,
}

impl<'t> CsvRows<'t> {
    fn parse(text: &'t str, delimiter: u8, first_line: u64, file: &FilePlan, markers: &[String]) -> Self {
        let input = text.as_bytes();
        let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut out = vec![0u8; input.len() + 16];
        let mut ends = vec![0usize; (input.len() / 24).max(64)];
        let mut records = Vec::with_capacity(input.len() / 128);
        let (mut in_pos, mut out_pos, mut end_pos) = (0usize, 0usize, 0usize);
        let (mut rec_in, mut rec_out, mut rec_end) = (0usize, 0usize, 0usize);
        let (mut line, mut counted_to) = (first_line, 0usize);
        loop {
            let (res, nin, nout, nend) = rdr.read_record(&input[in_pos..], &mut out[out_pos..], &mut ends[end_pos..]);
            in_pos += nin;
            out_pos += nout;
            end_pos += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                csv_core::ReadRecordResult::Record => {
                    // with CRLF a record may begin with the '\n' of the previous terminator
                    let start =
                        rec_in + input[rec_in..in_pos].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                    line += memchr::memchr_iter(b'\n', &input[counted_to..start]).count() as u64;
                    counted_to = start;
                    let len = end_pos - rec_end;
                    let blank = input[start..in_pos].iter().all(|b| b.is_ascii_whitespace() || *b == delimiter);
                    if !blank {
                        records.push(Record {
                            defect: 0,
                            totals: false,
                            out: rec_out,
                            ends: rec_end,
                            len,
                            start,
                            end: in_pos,
                            line,
                        });
                    }
                    rec_in = in_pos;
                    rec_out = out_pos;
                    rec_end = end_pos;
                }
                csv_core::ReadRecordResult::End => break,
            }
        }
        out.truncate(out_pos);
        ends.truncate(end_pos);
        // the input is valid UTF-8 and unescaping removes only ASCII quotes
        // the input is valid UTF-8 and unescaping only drops ASCII quotes, so this holds; it is
        // checked anyway, with the SIMD validator (std's is the slowest step of a chunk here)
        let fields = match simdutf8::basic::from_utf8(&out) {
            // SAFETY: `out` was validated as UTF-8 on the line above.
            Ok(_) => unsafe { String::from_utf8_unchecked(out) },
            Err(_) => String::from_utf8_lossy(&out).into_owned(),
        };
        let mut rows = CsvRows {
            text,
            mapping: file.mapping.clone(),
            file_name: file.file.name().to_string(),
            fields,
            ends,
            records,
            columns: Vec::new(),
            header_len: file.header_len,
        };
        let mut columns: Vec<(String, Vec<u32>)> = rows
            .mapping
            .iter()
            .map(|_| {
                (
                    String::with_capacity(rows.fields.len() / rows.header_len.max(1)),
                    Vec::with_capacity(rows.records.len()),
                )
            })
            .collect();
        let n = rows.header_len;
        for k in 0..rows.records.len() {
            let r = rows.records[k];
            rows.records[k].defect = if r.len < n {
                1
            } else if (n..r.len).any(|i| !rows.field(&r, i).trim().is_empty()) {
                2
            } else {
                0
            };
            {
                // totals and footers (导出时间：…) are told apart from data by their first cell
                let first = (0..r.len).map(|i| rows.field(&r, i).trim()).find(|f| !f.is_empty()).unwrap_or("");
                rows.records[k].totals = markers.iter().any(|m| first.starts_with(m.as_str()))
                    || super::convert::FOOTER_MARKERS.iter().any(|m| first.starts_with(m));
            }
            for (c, m) in rows.mapping.iter().enumerate() {
                if let Mapped::Column(i, _) = *m {
                    if i < r.len {
                        columns[c].0.push_str(rows.field(&r, i));
                    }
                }
                let end = columns[c].0.len() as u32;
                columns[c].1.push(end);
            }
        }
        rows.columns = columns;
        rows.fields = String::new(); // everything needed is gathered: free the row-major copy
        rows.ends = Vec::new();
        rows
    }

    fn field(&self, r: &Record, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[r.ends + i - 1] };
        &self.fields[r.out + start..r.out + self.ends[r.ends + i]]
    }
}

impl RawRows for CsvRows<'_> {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        match self.mapping[column] {
            Mapped::Column(..) => {
                let (text, ends) = &self.columns[column];
                let start = if row == 0 { 0 } else { ends[row - 1] as usize };
                let s = &text[start..ends[row] as usize];
                if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
            }
            Mapped::FileName => Cell::Text(&self.file_name),
            Mapped::SheetName | Mapped::Missing => Cell::Empty,
        }
    }

    // a key (or header) that names its unit (`认缴出资额(万元)`) is read in it
    fn mapping(&self) -> Option<&[Mapped]> {
        Some(&self.mapping)
    }

    fn line(&self, row: usize) -> u64 {
        self.records[row].line
    }

    fn record(&self, row: usize) -> String {
        let r = &self.records[row];
        self.text[r.start..r.end].trim_end_matches(['\r', '\n']).to_string()
    }

    fn first_text(&self, row: usize) -> Option<String> {
        // totals and footer rows were recognised while parsing; report the record's first cell
        let r = &self.records[row];
        r.totals.then(|| self.record(row).split(',').map(str::trim).find(|f| !f.is_empty()).unwrap_or("").to_string())
    }

    fn defect(&self, row: usize) -> Option<(String, String)> {
        let r = &self.records[row];
        let n = self.header_len;
        match r.defect {
            1 => Some((
                "field_count".into(),
                format!("该行有{}个字段，表头有{}个字段（可能缺少分隔符或引号未闭合）", r.len, n),
            )),
            2 => Some((
                "field_count".into(),
                format!("该行有{}个字段，表头只有{}个（值中可能有未加引号的分隔符）", r.len, n),
            )),
            _ => None,
        }
    }
}
