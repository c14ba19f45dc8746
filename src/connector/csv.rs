//! CSV exports in UTF-8, GBK or GB 18030, with title rows above the header.
//!
//! Pass one finds the header and quote-aware chunk boundaries on the raw bytes; each chunk is
//! then decoded and parsed on its own (the `csv` crate does the parsing).

use bytes::Bytes;

use super::chunk::{self, Scan, Scanner};
use super::convert::RawRows;
use super::spec::CsvOptions;
use super::value::Cell;
use super::{Connector, Error, FileLayout, FilePlan, Landing, Mapped, Result, SourceFile, Split};

pub(super) struct CsvReader(pub CsvOptions);

impl super::FormatReader for CsvReader {
    fn scanner(&self, chunk_bytes: u64) -> Option<Scanner> {
        Some(Scanner::new(true, self.0.header_row, chunk_bytes))
    }

    fn plan_file(&self, conn: &Connector, file: &SourceFile, index: usize, scan: Option<Scan>) -> Result<FileLayout> {
        let scan = scan.expect("csv always scans");
        let header_line = self.0.header_row as u64;
        if !scan.header_complete {
            return Err(Error::Input {
                file: file.display.clone(),
                line: scan.lines,
                message: format!("no header row: `header_row = {}` but the file ends first", self.0.header_row),
            });
        }
        let encoding = chunk::resolve(self.0.encoding, &scan.head, scan.utf8);
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
        let header = rdr.records().nth(self.0.header_row - 1).and_then(|r| r.ok()).ok_or_else(|| Error::Input {
            file: file.display.clone(),
            line: header_line,
            message: "cannot read the header row".into(),
        })?;
        let headers: Vec<String> = header.iter().map(str::to_string).collect();
        let mapping = super::map_headers(conn, &headers, &file.display, header_line)?;
        let splits =
            scan.chunks.into_iter().map(|c| Split { file: index, range: c.range, first_line: c.first_line }).collect();
        Ok(FileLayout { encoding: Some(encoding), mapping, header_len: headers.len(), splits })
    }

    fn decode(&self, conn: &Connector, file: &FilePlan, split: &Split, bytes: Bytes) -> Result<Vec<Landing>> {
        let text = super::decode_text(conn, file, split, &bytes)?;
        drop(bytes);
        let rows = CsvRows::parse(&text, self.delimiter(), split.first_line, file, &conn.spec.totals_markers);
        Ok(vec![conn.converter().convert(&rows, &file.file.display, None)])
    }
}

impl CsvReader {
    fn delimiter(&self) -> u8 {
        let mut buf = [0u8; 4];
        let s = self.0.delimiter.encode_utf8(&mut buf);
        s.as_bytes()[0]
    }
}

/// Column-major copy of the mapped fields of one chunk.
struct CsvRows<'t> {
    text: &'t str,
    mapping: Vec<Mapped>,
    file_name: String,
    /// per mapped column: concatenated field bytes and end offsets
    data: Vec<String>,
    ends: Vec<Vec<usize>>,
    lines: Vec<u64>,
    records: Vec<(usize, usize)>,
    firsts: Vec<Option<(usize, usize)>>,
    defects: Vec<Option<(String, String)>>,
}

impl<'t> CsvRows<'t> {
    fn parse(text: &'t str, delimiter: u8, first_line: u64, file: &FilePlan, markers: &[String]) -> Self {
        let ncols = file.mapping.len();
        let mut data: Vec<Vec<u8>> = vec![Vec::with_capacity(text.len() / ncols.max(1)); ncols];
        let mut ends: Vec<Vec<usize>> = vec![Vec::new(); ncols];
        let mut lines = Vec::new();
        let mut records = Vec::new();
        let mut firsts = Vec::new();
        let mut defects = Vec::new();
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut rec = ::csv::ByteRecord::new();
        let header_len = file.header_len;
        let check_totals = !markers.is_empty() && markers.iter().any(|m| text.contains(m.as_str()));
        // line numbers are counted here: the csv crate's own count is unreliable with CRLF
        let (mut line, mut counted_to) = (first_line, 0usize);
        loop {
            let start = rdr.position().byte() as usize;
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => break, // ByteRecord reading from memory only fails at EOF quirks
            }
            let end = rdr.position().byte() as usize;
            if rec.iter().all(|f| f.iter().all(|b| b.is_ascii_whitespace())) {
                continue; // a blank line is not a record
            }
            // with CRLF the reader stops after '\r': the record really starts past the line break
            let start = start + text.as_bytes()[start..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..start]).count() as u64;
            counted_to = start;
            let defect = if rec.len() < header_len {
                Some((
                    "field_count".to_string(),
                    format!("该行有{}个字段，表头有{}个字段（可能缺少分隔符或引号未闭合）", rec.len(), header_len),
                ))
            } else if rec.iter().skip(header_len).any(|f| !f.iter().all(|b| b.is_ascii_whitespace())) {
                Some((
                    "field_count".to_string(),
                    format!("该行有{}个字段，表头只有{}个（值中可能有未加引号的分隔符）", rec.len(), header_len),
                ))
            } else {
                None
            };
            for (c, m) in file.mapping.iter().enumerate() {
                if let Mapped::Column(i) = m {
                    if let Some(f) = rec.get(*i) {
                        data[c].extend_from_slice(f);
                    }
                }
                ends[c].push(data[c].len());
            }
            let first = if check_totals {
                // locate the first non-empty field inside the record text
                let rec_text = &text[start..end];
                rec.iter().find(|f| !f.iter().all(|b| b.is_ascii_whitespace())).and_then(|f| {
                    let f = std::str::from_utf8(f).ok()?;
                    rec_text.find(f).map(|o| (start + o, start + o + f.len()))
                })
            } else {
                None
            };
            firsts.push(first);
            lines.push(line);
            records.push((start, end));
            defects.push(defect);
        }
        let data = data
            .into_iter()
            .map(|d| String::from_utf8(d).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
            .collect();
        CsvRows {
            text,
            mapping: file.mapping.clone(),
            file_name: file.file.name().to_string(),
            data,
            ends,
            lines,
            records,
            firsts,
            defects,
        }
    }
}

impl RawRows for CsvRows<'_> {
    fn len(&self) -> usize {
        self.lines.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        match self.mapping[column] {
            Mapped::Column(_) => {
                let ends = &self.ends[column];
                let start = if row == 0 { 0 } else { ends[row - 1] };
                let s = &self.data[column][start..ends[row]];
                if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
            }
            Mapped::FileName => Cell::Text(&self.file_name),
            Mapped::SheetName => Cell::Empty,
        }
    }

    fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    fn record(&self, row: usize) -> String {
        let (s, e) = self.records[row];
        self.text[s..e].trim_end_matches(['\r', '\n']).to_string()
    }

    fn first_text(&self, row: usize) -> Option<String> {
        self.firsts[row].map(|(s, e)| self.text[s..e].to_string())
    }

    fn defect(&self, row: usize) -> Option<(String, String)> {
        self.defects[row].clone()
    }
}
