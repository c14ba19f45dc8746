//! Excel workbooks (.xlsx, .xls, .ods) through `calamine`.
//!
//! A workbook is one split. Sheets are chosen by name, or `"*"` for all (one sheet per township
//! is common and is stacked); each sheet's header row is matched on its own, and the sheet name
//! can land as a column (`from = "$sheet"`). Numeric cells keep their numeric nature, so IDs that
//! Excel stored as numbers are recognised and repaired or flagged by the ID rules.

use std::io::Cursor;

use bytes::Bytes;
use calamine::{Data, Range, Reader};

use super::convert::RawRows;
use super::spec::XlsxOptions;
use super::value::Cell;
use super::{Connector, Each, Error, FileSplit, Mapped, Piece, Result};

pub(super) struct XlsxReader(pub XlsxOptions);

impl super::FormatReader for XlsxReader {
    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        // calamine can panic on malformed workbooks (an arithmetic overflow on a huge cell
        // reference, found by `cargo fuzz run xlsx`): one damaged file is an error naming it,
        // never the end of an ingest
        let shown = &split.file.file.display;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.read_workbook(conn, split, bytes, each)))
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
    fn read_workbook(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        let file = &split.file;
        let shown = &file.file.display;
        let err = |line: u64, message: String| Error::Input { file: shown.clone(), line, message };
        let mut book = Book::open(bytes).map_err(|m| err(0, m))?;
        let names = book.sheet_names();
        // code sheets explain codes; they are not data
        let code_sheets: Vec<&super::CodeSheet> =
            conn.input_columns().filter_map(|(_, c)| c.code_sheet.as_ref()).collect();
        let data_names: Vec<String> =
            names.iter().filter(|n| !code_sheets.iter().any(|c| &c.sheet == *n)).cloned().collect();
        let chosen = choose_sheets(&self.0.sheets, &data_names).map_err(|m| err(0, m))?;
        let mut codes: Vec<Option<std::collections::HashMap<String, String>>> = Vec::new();
        for (_, c) in conn.input_columns() {
            codes.push(match &c.code_sheet {
                None => None,
                Some(cs) => {
                    let range = book.worksheet_range(&cs.sheet).map_err(|e| {
                        err(0, format!("code sheet `{}`: {e} (sheets: {})", cs.sheet, names.join(", ")))
                    })?;
                    Some(code_map(&range, cs).map_err(|m| err(0, format!("code sheet `{}`: {m}", cs.sheet)))?)
                }
            });
        }
        for sheet in chosen {
            let mut range = book.worksheet_range(&sheet).map_err(|e| err(0, format!("sheet `{sheet}`: {e}")))?;
            let merged = book.merged(&sheet);
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
            let spans = self.0.header_rows.max(1);
            let header_rows: Vec<Vec<String>> = (header_rel..(header_rel + spans).min(range.height()))
                .map(|r| {
                    (0..range.width())
                        .map(|c| match range.get((r, c)) {
                            Some(Data::Empty) | None => String::new(),
                            Some(d) => d.to_string(),
                        })
                        .collect()
                })
                .collect();
            let headers = super::header_names(&header_rows);
            let location = format!("{shown} [{sheet}]");
            let mut mapping = super::map_headers(conn, &headers, &location, header_abs as u64)?;
            let wide = conn.wide_columns(
                &headers,
                &mut mapping,
                Some(&sheet),
                file.file.name(),
                &location,
                header_abs as u64,
            )?;
            let first = header_rel + spans;
            fill_down(&mut range, &headers, &self.0.fill_down, first).map_err(|m| err(header_abs as u64, m))?;
            let rows: Vec<usize> = (first..range.height())
                .filter(|&r| (0..range.width()).any(|c| !matches!(range.get((r, c)), Some(Data::Empty) | None)))
                .collect();
            let raw = SheetRows {
                range: &range,
                rows,
                mapping,
                row0,
                sheet: &sheet,
                file_name: file.file.name(),
                codes: &codes,
            };
            let _ = col0;
            // a workbook of many sheets is handed on sheet by sheet, not whole
            each(Piece::shared(&raw, shown, Some(&sheet)).wide(&wide))?;
        }
        Ok(())
    }
}

/// A workbook, or a web system's HTML table saved as `.xls` (one sheet, named by its title).
enum Book {
    Sheets(calamine::Sheets<Cursor<Bytes>>),
    Html { name: String, range: Range<Data> },
}

/// Whether the bytes are a workbook encrypted with a password: Office saves an encrypted .xlsx
/// as an OLE compound file holding the streams `EncryptionInfo` and `EncryptedPackage` (names
/// in UTF-16), and an encrypted .xls carries a `FILEPASS` record (0x002F) right after its first
/// BOF in the `Workbook` stream.
fn password_protected(bytes: &[u8]) -> bool {
    const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if !bytes.starts_with(&OLE) {
        return false;
    }
    let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let package = utf16("EncryptedPackage");
    if bytes.windows(package.len()).any(|w| w == package.as_slice()) {
        return true;
    }
    // BIFF8: BOF (0x0809, length 16) followed by FILEPASS (0x002F)
    bytes.windows(24).any(|w| w[0..4] == [0x09, 0x08, 0x10, 0x00] && w[20..22] == [0x2F, 0x00])
}

/// Refuses a workbook whose parts would inflate beyond the limit (`SEARCHLIGHT_MAX_SHEET`,
/// 1 GiB): a few megabytes of xlsx can hold a sheet or a shared string of gigabytes, and the
/// reader holds a sheet whole. Judged by the sizes the archive declares, before anything is
/// inflated; a forged directory gains nothing, since the zip reader (the one calamine reads
/// through) stops a part at its declared size with an error.
fn inflated_within_limit(bytes: &[u8], max: u64) -> std::result::Result<(), String> {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return Ok(()) };
    let mut total = 0u64;
    for i in 0..zip.len() {
        let Ok(f) = zip.by_index_raw(i) else { continue };
        total = total.saturating_add(f.size());
        if total > max {
            return Err(format!(
                "the workbook inflates to more than {} (its part {} alone is {} bytes) — far beyond any export's data; it is damaged or built to exhaust memory (SEARCHLIGHT_MAX_SHEET raises the limit)",
                crate::limits::bytes_text(max),
                f.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("#{i}")),
                f.size()
            ));
        }
    }
    Ok(())
}

impl Book {
    /// Opens the bytes as a workbook (by their content, not their name), or as an HTML table.
    fn open(bytes: Bytes) -> std::result::Result<Book, String> {
        if super::html::looks_like_html(&bytes) {
            let (text, _) = super::html::decode(&bytes);
            let (grid, title) = super::html::table(&text);
            let width = grid.iter().map(Vec::len).max().unwrap_or(0);
            if grid.is_empty() || width == 0 {
                return Err("an HTML file with no table rows".into());
            }
            let mut range = Range::new((0, 0), (grid.len() as u32 - 1, width as u32 - 1));
            for (r, row) in grid.into_iter().enumerate() {
                for (c, cell) in row.into_iter().enumerate() {
                    if !cell.is_empty() {
                        range.set_value((r as u32, c as u32), Data::String(cell));
                    }
                }
            }
            return Ok(Book::Html { name: title.unwrap_or_else(|| "Sheet1".into()), range });
        }
        if bytes.starts_with(b"PK\x03\x04") {
            inflated_within_limit(&bytes, crate::limits::max_sheet())?;
        }
        if password_protected(&bytes) {
            return Err("the workbook is password-protected (加密): open it in Excel or WPS with its password, save a copy without one (文件 → 信息 → 保护工作簿 → 删除密码), and point the connector at that copy".into());
        }
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map(Book::Sheets)
            .map_err(|e| format!("not a readable workbook (nor an HTML table saved as .xls): {e}"))
    }

    fn sheet_names(&self) -> Vec<String> {
        match self {
            Book::Sheets(b) => b.sheet_names(),
            Book::Html { name, .. } => vec![name.clone()],
        }
    }

    fn worksheet_range(&mut self, name: &str) -> std::result::Result<Range<Data>, String> {
        match self {
            Book::Sheets(b) => b.worksheet_range(name).map_err(|e| e.to_string()),
            Book::Html { name: n, range } if n == name => Ok(range.clone()),
            Book::Html { name: n, .. } => Err(format!("no sheet `{name}` (the table is `{n}`)")),
        }
    }

    /// Its merged regions (an HTML table's spans are filled already).
    fn merged(&mut self, name: &str) -> Vec<calamine::Dimensions> {
        match self {
            Book::Sheets(calamine::Sheets::Xlsx(x)) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            Book::Sheets(calamine::Sheets::Xls(x)) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

struct SheetRows<'a> {
    range: &'a Range<Data>,
    rows: Vec<usize>,
    mapping: Vec<Mapped>,
    row0: u32,
    sheet: &'a str,
    file_name: &'a str,
    /// per input column, the code sheet's code → word
    codes: &'a [Option<std::collections::HashMap<String, String>>],
}

/// A code sheet's code → word: its header row is the first row with text; the code column is
/// `code` (default the first), the word column `word` (default the next one).
fn code_map(
    range: &Range<Data>,
    cs: &super::CodeSheet,
) -> std::result::Result<std::collections::HashMap<String, String>, String> {
    let text = |d: Option<&Data>| match d {
        Some(Data::Empty) | None => String::new(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(d) => crate::codes::text::clean(&d.to_string()).trim().to_string(),
    };
    let header = (0..range.height())
        .find(|&r| (0..range.width()).any(|c| !text(range.get((r, c))).is_empty()))
        .ok_or("the sheet is empty")?;
    let headers: Vec<String> = (0..range.width()).map(|c| text(range.get((header, c)))).collect();
    let find = |want: &Option<String>, default: usize| -> std::result::Result<usize, String> {
        match want {
            None => Ok(default),
            Some(w) => {
                let k = super::header_key(w);
                headers
                    .iter()
                    .position(|h| super::header_key(h) == k)
                    .ok_or_else(|| format!("no column `{w}` (headers: {})", headers.join(", ")))
            }
        }
    };
    let code = find(&cs.code, 0)?;
    let word = find(&cs.word, code + 1)?;
    let mut out = std::collections::HashMap::new();
    for r in header + 1..range.height() {
        let (c, w) = (text(range.get((r, code))), text(range.get((r, word))));
        if !c.is_empty() && !w.is_empty() {
            out.insert(c, w);
        }
    }
    Ok(out)
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

/// The sheets to read: the first; or those the names and patterns (`*`, `*年度`) choose, in
/// workbook order. A name that is not there, or a pattern that matches nothing, is an error
/// that lists the sheets.
pub(crate) fn choose_sheets(wanted: &[String], names: &[String]) -> std::result::Result<Vec<String>, String> {
    if wanted.is_empty() {
        return Ok(names.first().cloned().into_iter().collect());
    }
    let mut chosen = Vec::new();
    for w in wanted {
        let is_pattern = w.contains(['*', '?', '[']);
        let matcher = if is_pattern {
            Some(globset::Glob::new(w).map_err(|e| format!("sheet pattern `{w}`: {e}"))?.compile_matcher())
        } else {
            None
        };
        let hits: Vec<&String> = names
            .iter()
            .filter(|n| match &matcher {
                Some(m) => m.is_match(n.as_str()),
                None => *n == w,
            })
            .collect();
        if hits.is_empty() {
            let what = if is_pattern { "no sheet matches" } else { "sheet not found:" };
            return Err(format!("{what} `{w}` (sheets: {})", names.join(", ")));
        }
        for h in hits {
            if !chosen.contains(h) {
                chosen.push(h.clone());
            }
        }
    }
    // workbook order
    Ok(names.iter().filter(|n| chosen.contains(n)).cloned().collect())
}

/// Gives the empty cells of the `fill_down` columns the value above them, from row `first`.
fn fill_down(
    range: &mut Range<Data>,
    headers: &[String],
    columns: &[String],
    first: usize,
) -> std::result::Result<(), String> {
    for want in columns {
        let key = super::header_key(want);
        let c = super::column_ref(want)
            .or_else(|| headers.iter().position(|h| super::header_key(h) == key))
            .or_else(|| {
                let under: Vec<usize> = (0..headers.len())
                    .filter(|&i| super::header_key(&headers[i]).rsplit('/').next() == Some(&key))
                    .collect();
                (under.len() == 1).then(|| under[0])
            })
            .ok_or_else(|| format!("fill_down: no column `{want}` (headers: {})", headers.join(", ")))?;
        let mut above: Option<Data> = None;
        for r in first..range.height() {
            match range.get((r, c)) {
                Some(Data::Empty) | None => {
                    // only inside the table: a row with anything else in it
                    let row_has_data =
                        (0..range.width()).any(|x| x != c && !matches!(range.get((r, x)), Some(Data::Empty) | None));
                    if let (Some(v), true) = (&above, row_has_data) {
                        let start = range.start().unwrap_or((0, 0));
                        range.set_value((start.0 + r as u32, start.1 + c as u32), v.clone());
                    }
                }
                Some(d) => above = Some(d.clone()),
            }
        }
    }
    Ok(())
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

    // a key (or header) that names its unit (`认缴出资额(万元)`) is read in it
    fn mapping(&self) -> Option<&[Mapped]> {
        Some(&self.mapping)
    }

    fn code_word(&self, column: usize, code: &str) -> Option<&str> {
        self.codes.get(column)?.as_ref()?.get(code).map(String::as_str)
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    /// A zip of one part of `size` zero bytes; `forged` rewrites the part's declared
    /// uncompressed size (local header and central directory) to 100 bytes.
    fn zip_of(size: usize, forged: bool) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        w.start_file("xl/worksheets/sheet1.xml", o).unwrap();
        w.write_all(&vec![0u8; size]).unwrap();
        let mut bytes = w.finish().unwrap().into_inner();
        if forged {
            bytes[22..26].copy_from_slice(&100u32.to_le_bytes());
            let cd = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
            bytes[cd + 24..cd + 28].copy_from_slice(&100u32.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn a_part_that_inflates_past_the_limit_is_refused_and_a_lying_directory_gains_nothing() {
        let limit = 1 << 20;
        assert!(super::inflated_within_limit(&zip_of(limit / 2, false), limit as u64).is_ok());
        let honest = super::inflated_within_limit(&zip_of(3 * limit, false), limit as u64).unwrap_err();
        assert!(honest.contains("inflates to more than 1 MiB"), "{honest}");
        // the forged part passes the declared check, and the reader stops it at 100 bytes
        let forged = zip_of(3 * limit, true);
        assert!(super::inflated_within_limit(&forged, limit as u64).is_ok());
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&forged[..])).unwrap();
        let mut part = zip.by_index(0).unwrap();
        let mut sink = CountingSink(0);
        let e = std::io::copy(&mut part, &mut sink).unwrap_err();
        assert!(e.to_string().contains("larger than its declared uncompressed size"), "{e}");
        assert!(sink.0 <= 64 << 10, "inflated {} bytes past a declared 100", sink.0);
    }

    struct CountingSink(usize);
    impl Write for CountingSink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
