//! JSON exports: newline-delimited JSON (one object per line, as HTTP APIs and trading platforms
//! export) and whole JSON documents (an API dump: an array of records, child arrays such as
//! shareholders landed as datasets of their own).
//!
//! Keys are matched like headers; a dotted name (`payee.name`) reaches into nested objects. A
//! line (record) that is not a JSON object is set aside in quarantine. Pass one checks that
//! every mapped key occurs in the first lines of an NDJSON file; a document's records are
//! numbered from 1 in place of lines.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::chunk::{self, Scan, Scanner};
use super::convert::RawRows;
use super::spec::NdjsonOptions;
use super::value::Cell;
use super::{Connector, Each, Error, FileLayout, FileSplit, Mapped, Piece, Result, SourceFile};

/// Lines inspected in pass one for the presence of mapped keys.
const PROBE_LINES: usize = 1000;

pub(super) struct NdjsonReader(pub NdjsonOptions);

impl super::FormatReader for NdjsonReader {
    fn scanner(&self, chunk_bytes: u64) -> Option<Scanner> {
        Some(Scanner::new(None, 0, chunk_bytes, self.0.encoding == super::Encoding::Auto))
    }

    fn plan_file(&self, conn: &Connector, file: &SourceFile, scan: Option<Scan>) -> Result<FileLayout> {
        let scan = scan.expect("ndjson always scans");
        let encoding = chunk::resolve(self.0.encoding, &[], scan.utf8);
        // probe the first lines for the mapped keys
        let mut keys: Vec<String> = Vec::new();
        let probe = match encoding {
            super::Encoding::Gbk | super::Encoding::Gb18030 => encoding_rs::GB18030.decode(&scan.probe).0.into_owned(),
            _ => String::from_utf8_lossy(&scan.probe).into_owned(),
        };
        for line in probe.lines().take(PROBE_LINES) {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(line) {
                collect_keys(&m, "", &mut keys);
            }
        }
        keys.sort();
        keys.dedup();
        let mapping = super::map_headers(conn, &keys, &file.display, 1).map_err(|e| match e {
            Error::Input { file, line, message } => Error::Input {
                file,
                line,
                message: format!("{message} — checked the keys of the first {PROBE_LINES} lines"),
            },
            other => other,
        })?;
        Ok(FileLayout { encoding: Some(encoding), mapping, header_len: keys.len(), wide: Vec::new() })
    }

    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        let file = &split.file;
        let text = super::decode_text(conn, split, &bytes)?;
        let mut rows = JsonRows {
            objects: Vec::new(),
            lines: Vec::new(),
            texts: Vec::new(),
            defects: Vec::new(),
            paths: Vec::new(),
            mapping: file.mapping.clone(),
            file_name: file.file.name().to_string(),
            nested: Default::default(),
        };
        // the canonical columns' wanted key names, matched against each object's keys
        rows.paths = conn
            .input_columns()
            .zip(&file.mapping)
            .map(|((_, c), m)| match m {
                Mapped::Column(..) => c.from.iter().map(|n| n.split('.').map(str::to_string).collect()).collect(),
                _ => Vec::new(),
            })
            .collect();
        for (i, line) in text.split('\n').enumerate() {
            let l = line.trim_end_matches('\r');
            if l.trim().is_empty() {
                continue;
            }
            rows.lines.push(split.first_line + i as u64);
            rows.texts.push(l.to_string());
            match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(m)) => {
                    rows.objects.push(m);
                    rows.defects.push(None);
                }
                Ok(_) => {
                    rows.objects.push(Map::new());
                    rows.defects.push(Some(("bad_json".into(), "该行不是JSON对象".into())));
                }
                Err(e) => {
                    rows.objects.push(Map::new());
                    rows.defects.push(Some(("bad_json".into(), format!("JSON无法解析: {e}"))));
                }
            }
        }
        rows.keep_nested();
        each(Piece::shared(&rows, &file.file.display, None))
    }
}

/// `type = "json"`: one JSON document, read whole — an array of records, or an object holding
/// one (`records = "data.list"`). A `[[dataset]]` with `each = "股东"` lands the elements of every
/// record's child array, each with its record's own fields beside it (a child's own key wins).
pub(super) struct JsonReader(pub super::spec::JsonOptions);

impl super::FormatReader for JsonReader {
    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        let shown = &split.file.file.display;
        let err = |message: String| Error::Input { file: shown.clone(), line: 0, message };
        let encoding = if chunk::utf16_bom(&bytes) {
            super::Encoding::Utf16
        } else {
            chunk::resolve(self.0.encoding, &bytes, std::str::from_utf8(&bytes).is_ok())
        };
        let text = chunk::decode(&bytes, encoding, 1).map_err(|e| Error::Input {
            file: shown.clone(),
            line: e.line,
            message: format!("bytes {} do not decode as {}", e.bytes, encoding.label()),
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| Error::Input {
            file: shown.clone(),
            line: e.line() as u64,
            message: format!("not a JSON document: {e} (column {})", e.column()),
        })?;
        let records = match &self.0.records {
            Some(path) => {
                let parts: Vec<String> = path.split('.').map(str::to_string).collect();
                match &doc {
                    Value::Object(m) => lookup(m, &parts),
                    _ => None,
                }
                .ok_or_else(|| err(format!("no `{path}` in the document (records = \"{path}\")")))?
            }
            None => match &doc {
                Value::Array(_) => &doc,
                Value::Object(m) => {
                    m.values().find(|v| matches!(v, Value::Array(a) if a.iter().any(Value::is_object))).ok_or_else(
                        || err("the document holds no array of records: name it with `records = \"…\"`".into()),
                    )?
                }
                _ => return Err(err("the document is neither an array of records nor an object holding one".into())),
            },
        };
        let Value::Array(records) = records else {
            return Err(err("`records` does not name an array".into()));
        };
        let mut per_block = Vec::new();
        for (bi, block) in conn.blocks.iter().enumerate() {
            // this block's rows: the records, or the elements of each record's child array with
            // the record's own fields beside them
            let mut objects: Vec<Map<String, Value>> = Vec::new();
            let mut lines: Vec<u64> = Vec::new();
            let mut defects = Vec::new();
            for (i, r) in records.iter().enumerate() {
                let Value::Object(m) = r else {
                    objects.push(Map::new());
                    lines.push(i as u64 + 1);
                    defects.push(Some(("bad_json".into(), "该记录不是JSON对象".into())));
                    continue;
                };
                match &block.each {
                    None => {
                        objects.push(m.clone());
                        lines.push(i as u64 + 1);
                        defects.push(None);
                    }
                    Some(each) => {
                        let path: Vec<String> = each.split('.').map(str::to_string).collect();
                        let Some(Value::Array(children)) = lookup(m, &path) else { continue };
                        for child in children {
                            let mut merged: Map<String, Value> =
                                m.iter().filter(|(_, v)| !v.is_array()).map(|(k, v)| (k.clone(), v.clone())).collect();
                            if let Value::Object(c) = child {
                                merged.extend(c.clone());
                            }
                            objects.push(merged);
                            lines.push(i as u64 + 1);
                            defects.push(None);
                        }
                    }
                }
            }
            let mut keys: Vec<String> = Vec::new();
            for o in objects.iter().take(PROBE_LINES) {
                collect_keys(o, "", &mut keys);
            }
            keys.sort();
            keys.dedup();
            let mapping = super::map_headers_of(conn, Some(bi), &keys, shown, 1)?;
            let paths = conn
                .input_columns()
                .zip(&mapping)
                .map(|((_, c), m)| match m {
                    Mapped::Column(..) => c.from.iter().map(|n| n.split('.').map(str::to_string).collect()).collect(),
                    _ => Vec::new(),
                })
                .collect();
            let texts = objects.iter().map(|o| Value::Object(o.clone()).to_string()).collect();
            let mut rows = JsonRows {
                objects,
                lines,
                texts,
                defects,
                paths,
                mapping,
                file_name: split.file.file.name().to_string(),
                nested: Default::default(),
            };
            rows.keep_nested();
            per_block.push(rows);
        }
        each(Piece::per_block(per_block.iter().map(|r| r as &dyn RawRows).collect(), shown))
    }
}

impl JsonRows {
    /// Arrays and objects land as their JSON text (a text column keeps them; any other type
    /// quarantines them with the value shown), never as NULL.
    fn keep_nested(&mut self) {
        for row in 0..self.objects.len() {
            for column in 0..self.paths.len() {
                if let Some(v @ (Value::Array(_) | Value::Object(_))) =
                    self.paths[column].iter().find_map(|p| lookup(&self.objects[row], p))
                {
                    self.nested.insert((column, row), v.to_string());
                }
            }
        }
    }
}

/// Every key of an object, nested ones as dotted names (`payee.name`): the "headers" of JSON records.
pub(super) fn collect_keys(m: &Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in m {
        let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        if let Value::Object(inner) = v {
            collect_keys(inner, &name, out);
        }
        out.push(name);
    }
}

struct JsonRows {
    objects: Vec<Map<String, Value>>,
    lines: Vec<u64>,
    texts: Vec<String>,
    defects: Vec<Option<(String, String)>>,
    /// per canonical column: alternative key paths
    paths: Vec<Vec<Vec<String>>>,
    mapping: Vec<Mapped>,
    file_name: String,
    /// (column, row) → the JSON text of an array or object value
    nested: std::collections::HashMap<(usize, usize), String>,
}

/// The value at a dotted key path, its keys matched like headers.
pub(super) fn lookup<'v>(m: &'v Map<String, Value>, path: &[String]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let v = m
        .get(first)
        .or_else(|| m.iter().find(|(k, _)| super::header_key(k) == super::header_key(first)).map(|(_, v)| v))?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

impl RawRows for JsonRows {
    fn len(&self) -> usize {
        self.objects.len()
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        match self.mapping[column] {
            Mapped::FileName => return Cell::Text(&self.file_name),
            Mapped::SheetName | Mapped::Missing => return Cell::Empty,
            Mapped::Column(..) => {}
        }
        let obj = &self.objects[row];
        let v = self.paths[column].iter().find_map(|p| lookup(obj, p));
        match v {
            None | Some(Value::Null) => Cell::Empty,
            Some(Value::String(s)) => Cell::Text(s),
            Some(Value::Bool(b)) => Cell::Bool(*b),
            Some(Value::Number(n)) => {
                if let Some(i) = n.as_i64() {
                    Cell::Int(i)
                } else if n.is_u64() {
                    // above i64: keep it exact as a number the ID rules read from text
                    Cell::Number(n.as_f64().unwrap_or(f64::NAN))
                } else {
                    Cell::Number(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Some(Value::Array(_)) | Some(Value::Object(_)) => {
                self.nested.get(&(column, row)).map_or(Cell::Empty, |t| Cell::Text(t))
            }
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
        self.texts[row].clone()
    }

    fn first_text(&self, _row: usize) -> Option<String> {
        None // JSON exports carry no totals rows
    }

    fn defect(&self, row: usize) -> Option<(String, String)> {
        self.defects[row].clone()
    }
}
