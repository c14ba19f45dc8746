//! Excel workbooks (.xlsx, .xls, .ods) through `calamine`.
//!
//! A workbook is one split. Sheets are chosen by name, or `"*"` for all (one sheet per township
//! is common and is stacked); each sheet's header row is matched on its own, and the sheet name
//! can land as a column (`from = "$sheet"`). Numeric cells keep their numeric nature, so IDs that
//! Excel stored as numbers are recognised and repaired or flagged by the ID rules.

use std::io::Cursor;

use bytes::Bytes;
use calamine::{Data, Range, Reader};

use super::chunk::{Scan, Scanner};
use super::convert::RawRows;
use super::spec::XlsxOptions;
use super::value::Cell;
use super::{Connector, Error, FileLayout, Landing, Mapped, Result, SourceFile, Split};

pub(super) struct XlsxReader(pub XlsxOptions);

impl super::FormatReader for XlsxReader {
    fn scanner(&self, _chunk_bytes: u64) -> Option<Scanner> {
        None
    }

    fn plan_file(&self, _conn: &Connector, _file: &SourceFile, _scan: Option<Scan>) -> Result<FileLayout> {
        Ok(FileLayout::default())
    }

    fn decode(&self, conn: &Connector, split: &Split, bytes: Bytes) -> Result<Vec<Landing>> {
        // calamine can panic on malformed workbooks (an arithmetic overflow on a huge cell
        // reference, found by `cargo fuzz run xlsx`): one damaged file is an error naming it,
        // never the end of an ingest
        let shown = &split.file.file.display;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.decode_workbook(conn, split, bytes)))
            .unwrap_or_else(|_| {
                Err(Error::Input {
                    file: shown.clone(),
                    line: 0,
                    message: "not a readable workbook: the reader failed on malformed content".into(),
                })
            })
    }
}

impl XlsxReader {
    fn decode_workbook(&self, conn: &Connector, split: &Split, bytes: Bytes) -> Result<Vec<Landing>> {
        let file = &split.file;
        let shown = &file.file.display;
        let err = |line: u64, message: String| Error::Input { file: shown.clone(), line, message };
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| err(0, format!("not a readable workbook: {e}")))?;
        let names = book.sheet_names();
        let chosen: Vec<String> = if self.0.sheets.is_empty() {
            names.first().cloned().into_iter().collect()
        } else if self.0.sheets.iter().any(|s| s == "*") {
            names.clone()
        } else {
            for s in &self.0.sheets {
                if !names.contains(s) {
                    return Err(err(0, format!("sheet `{s}` not found (sheets: {})", names.join(", "))));
                }
            }
            self.0.sheets.clone()
        };
        let mut out = Vec::new();
        for sheet in chosen {
            let mut range = book.worksheet_range(&sheet).map_err(|e| err(0, format!("sheet `{sheet}`: {e}")))?;
            let merged = match &mut book {
                calamine::Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&sheet).unwrap_or_default(),
                calamine::Sheets::Xls(x) => x.merge_cells_by_sheet_name(&sheet).unwrap_or_default(),
                _ => Vec::new(),
            };
            fill_merged(&mut range, &merged);
            let Some((row0, col0)) = range.start() else {
                continue;
            };
            let header_abs = self.0.header_row as u32; // 1-based sheet row
            if header_abs <= row0 || (header_abs - 1 - row0) as usize >= range.height() {
                return Err(err(
                    header_abs as u64,
                    format!("sheet `{sheet}`: header row {header_abs} is outside the data"),
                ));
            }
            let header_rel = (header_abs - 1 - row0) as usize;
            let headers: Vec<String> = (0..range.width())
                .map(|c| match range.get((header_rel, c)) {
                    Some(Data::Empty) | None => String::new(),
                    Some(d) => d.to_string(),
                })
                .collect();
            let location = format!("{shown} [{sheet}]");
            let mapping = super::map_headers(conn, &headers, &location, header_abs as u64)?;
            let rows: Vec<usize> = (header_rel + 1..range.height())
                .filter(|&r| (0..range.width()).any(|c| !matches!(range.get((r, c)), Some(Data::Empty) | None)))
                .collect();
            let raw = SheetRows { range: &range, rows, mapping, row0, sheet: &sheet, file_name: file.file.name() };
            let _ = col0;
            out.extend(conn.convert(&raw, shown, Some(&sheet)));
        }
        Ok(out)
    }
}

struct SheetRows<'a> {
    range: &'a Range<Data>,
    rows: Vec<usize>,
    mapping: Vec<Mapped>,
    row0: u32,
    sheet: &'a str,
    file_name: &'a str,
}

fn to_cell(d: &Data) -> Cell<'_> {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Int(*i),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => Cell::ExcelDate(dt.as_f64()),
        Data::Error(e) => Cell::Text(error_text(e)),
    }
}

/// The text a spreadsheet shows for a formula error.
fn error_text(e: &calamine::CellErrorType) -> &'static str {
    use calamine::CellErrorType::*;
    match e {
        Div0 => "#DIV/0!",
        NA => "#N/A",
        Name => "#NAME?",
        Null => "#NULL!",
        Num => "#NUM!",
        Ref => "#REF!",
        Value => "#VALUE!",
        GettingData => "#GETTING_DATA",
    }
}

/// Fills every cell of each merged region with the value of its top-left cell: a merged
/// 单位名称 over five rows belongs to all five, not only to the first.
fn fill_merged(range: &mut Range<Data>, regions: &[calamine::Dimensions]) {
    for m in regions {
        let Some(top_left) = range.get_value(m.start).cloned() else { continue };
        if matches!(top_left, Data::Empty) {
            continue;
        }
        for r in m.start.0..=m.end.0 {
            for c in m.start.1..=m.end.1 {
                if (r, c) != m.start {
                    range.set_value((r, c), top_left.clone());
                }
            }
        }
    }
}

impl RawRows for SheetRows<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        match self.mapping[column] {
            Mapped::Column(c, _) => self.range.get((self.rows[row], c)).map(to_cell).unwrap_or(Cell::Empty),
            Mapped::SheetName => Cell::Text(self.sheet),
            Mapped::FileName => Cell::Text(self.file_name),
            Mapped::Missing => Cell::Empty,
        }
    }

    fn mapped(&self, column: usize) -> bool {
        self.mapping[column] != Mapped::Missing
    }

    fn header_unit(&self, column: usize) -> Option<&'static str> {
        super::convert::mapped_unit(&self.mapping, column)
    }

    fn line(&self, row: usize) -> u64 {
        (self.row0 as usize + self.rows[row] + 1) as u64
    }

    fn record(&self, row: usize) -> String {
        (0..self.range.width())
            .map(|c| self.range.get((self.rows[row], c)).map(|d| d.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\t")
    }

    fn first_text(&self, row: usize) -> Option<String> {
        (0..self.range.width()).find_map(|c| match self.range.get((self.rows[row], c)) {
            Some(Data::Empty) | None => None,
            Some(d) => Some(d.to_string()),
        })
    }
}
