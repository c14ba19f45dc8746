//! Newline-delimited JSON: one object per line, as HTTP APIs and trading platforms export.
//!
//! Keys are matched like headers; a dotted name (`payee.name`) reaches into nested objects. A
//! line that is not a JSON object is set aside in quarantine. Pass one checks that every mapped
//! key occurs in the first lines of the file.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::chunk::{self, Scan, Scanner};
use super::convert::RawRows;
use super::spec::NdjsonOptions;
use super::value::Cell;
use super::{Connector, Error, FileLayout, Landing, Mapped, Result, SourceFile, Split};

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

    fn decode(&self, conn: &Connector, split: &Split, bytes: Bytes) -> Result<Vec<Landing>> {
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
        // arrays and objects land as their JSON text (a text column keeps them; any other
        // type quarantines them with the value shown), never as NULL
        for row in 0..rows.objects.len() {
            for column in 0..rows.paths.len() {
                if let Some(v @ (Value::Array(_) | Value::Object(_))) =
                    rows.paths[column].iter().find_map(|p| lookup(&rows.objects[row], p))
                {
                    rows.nested.insert((column, row), v.to_string());
                }
            }
        }
        Ok(conn.convert(&rows, &file.file.display, None))
    }
}

fn collect_keys(m: &Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
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

fn lookup<'v>(m: &'v Map<String, Value>, path: &[String]) -> Option<&'v Value> {
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

    fn mapped(&self, column: usize) -> bool {
        self.mapping[column] != Mapped::Missing
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
