//! Fixed-width text, as mainframe and old desktop systems print reports: each column at a fixed
//! place on the line, cut by declared widths or at the dashes of a ruler line under the header.
//! Widths count the bytes of the file's encoding (a Chinese character is two bytes in GBK, two
//! columns on the printed page), as those systems counted them. A cut that splits a character
//! fails its row with the line named, never the file.
//!
//! ```toml
//! [format]
//! type     = "fixed"
//! encoding = "gbk"
//! widths   = [18, 10, 12]   # or: ruler = true (a line of ---- groups under the header)
//! ```

use bytes::Bytes;

use super::convert::RawRows;
use super::spec::FixedOptions;
use super::value::Cell;
use super::{Connector, Each, Error, FileSplit, Mapped, Piece, Result};

pub(super) struct FixedReader(pub FixedOptions);

impl super::FormatReader for FixedReader {
    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        let shown = &split.file.file.display;
        let err = |line: u64, message: String| Error::Input { file: shown.clone(), line, message };
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
        let gb = match self.0.encoding {
            super::Encoding::Utf8 => false,
            super::Encoding::Gbk | super::Encoding::Gb18030 => true,
            super::Encoding::Auto => std::str::from_utf8(body).is_err(),
            super::Encoding::Utf16 => {
                return Err(err(1, "fixed-width text is read in a byte encoding (utf-8, gbk, gb18030)".into()));
            }
        };
        let h = self.0.header_row.max(1) - 1;
        let header = *lines.get(h).ok_or_else(|| err(h as u64 + 1, "no header row: the file ends first".into()))?;
        // where the columns start, in bytes
        let (starts, data_from) = if !self.0.widths.is_empty() {
            let mut at = 0;
            let starts = self.0.widths.iter().map(|w| {
                let s = at;
                at += w;
                s
            });
            (starts.collect::<Vec<_>>(), h + 1)
        } else if self.0.ruler {
            let ruler = *lines.get(h + 1).ok_or_else(|| err(h as u64 + 2, "no ruler line under the header".into()))?;
            if ruler.is_empty() || !ruler.iter().all(|b| matches!(b, b'-' | b'=' | b' ' | b'+' | b'\t')) {
                return Err(err(h as u64 + 2, "the line under the header is not a ruler (groups of - or =)".into()));
            }
            let starts: Vec<usize> = (0..ruler.len())
                .filter(|&i| matches!(ruler[i], b'-' | b'=') && (i == 0 || !matches!(ruler[i - 1], b'-' | b'=')))
                .collect();
            (starts, h + 2)
        } else {
            return Err(err(h as u64 + 1, "fixed-width text needs `widths = [...]` or `ruler = true`".into()));
        };
        if starts.is_empty() {
            return Err(err(h as u64 + 1, "no columns: the widths or the ruler give none".into()));
        }
        let cut = |line: &[u8], k: usize| -> std::result::Result<String, ()> {
            let a = starts[k].min(line.len());
            let b = starts.get(k + 1).copied().unwrap_or(line.len()).min(line.len());
            let field = &line[a..b.max(a)];
            let text = if gb {
                encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(field).ok_or(())?.into_owned()
            } else {
                std::str::from_utf8(field).map_err(|_| ())?.to_string()
            };
            Ok(text.trim().to_string())
        };
        let headers: Vec<String> =
            (0..starts.len()).map(|k| cut(header, k)).collect::<std::result::Result<_, _>>().map_err(|_| {
                err(
                    h as u64 + 1,
                    "a cut of the header splits a character: check the widths (bytes of the file's encoding)".into(),
                )
            })?;
        let line = h as u64 + 1;
        let mut mapping = super::map_headers(conn, &headers, shown, line)?;
        let wide = conn.wide_columns(&headers, &mut mapping, None, split.file.file.name(), shown, line)?;
        let mut rows = GridRows { mapping, file_name: split.file.file.name().to_string(), ..GridRows::default() };
        for (i, l) in lines.iter().enumerate().skip(data_from) {
            if l.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let fields: std::result::Result<Vec<String>, ()> = (0..starts.len()).map(|k| cut(l, k)).collect();
            let (fields, defect) = match fields {
                Ok(f) => (f, None),
                Err(()) => (
                    vec![String::new(); starts.len()],
                    Some((
                        "split_character".to_string(),
                        "列宽切开了一个汉字(按文件编码的字节计列宽)，请核对 widths".to_string(),
                    )),
                ),
            };
            rows.record.push(if gb {
                encoding_rs::GB18030.decode(l).0.into_owned()
            } else {
                String::from_utf8_lossy(l).into_owned()
            });
            rows.cells.push(fields);
            rows.lines.push(i as u64 + 1);
            rows.defects.push(defect);
        }
        each(Piece::shared(&rows, shown, None).wide(&wide))
    }
}

/// Rows already cut into text cells.
#[derive(Default)]
struct GridRows {
    cells: Vec<Vec<String>>,
    lines: Vec<u64>,
    record: Vec<String>,
    defects: Vec<Option<(String, String)>>,
    mapping: Vec<Mapped>,
    file_name: String,
}

impl RawRows for GridRows {
    fn len(&self) -> usize {
        self.cells.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        match self.mapping[column] {
            Mapped::Column(c, _) => match self.cells[row].get(c) {
                Some(s) if !s.is_empty() => Cell::Text(s),
                _ => Cell::Empty,
            },
            Mapped::FileName => Cell::Text(&self.file_name),
            Mapped::SheetName | Mapped::Missing => Cell::Empty,
        }
    }

    // a key (or header) that names its unit (`认缴出资额(万元)`) is read in it
    fn mapping(&self) -> Option<&[Mapped]> {
        Some(&self.mapping)
    }

    fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    fn record(&self, row: usize) -> String {
        self.record[row].clone()
    }

    fn first_text(&self, row: usize) -> Option<String> {
        self.cells[row].iter().find(|c| !c.is_empty()).cloned()
    }

    fn defect(&self, row: usize) -> Option<(String, String)> {
        self.defects[row].clone()
    }
}
