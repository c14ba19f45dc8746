//! `searchlight connector new FILE…`: reads an export's headers and first rows (any supported
//! format and encoding) and writes a connector skeleton that maps them onto the canonical
//! schema — the dataset(s) the export seems to hold and, per header, the canonical column it
//! seems to be — every suggestion marked for the user to confirm, unmapped headers listed.
//!
//! Suggestions come from the schema itself: each canonical column lists the headers real exports
//! use for it (`身份证号码 / 公民身份号码 / 证件号码 → id_no`), each dataset the words its export
//! files are named with. Nothing here lands data.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::codes::text;
use crate::schema::{ColumnType, Dataset, Schema};

/// Rows read to choose the header and to look at value words.
pub const SAMPLE_ROWS: usize = 400;

/// What an export looks like.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The file.
    pub path: PathBuf,
    /// `csv`, `xlsx`, `ndjson` or `parquet`.
    pub format: &'static str,
    /// Text encoding found (csv, ndjson).
    pub encoding: Option<&'static str>,
    /// Field delimiter (csv).
    pub delimiter: char,
    /// Sheet names (workbooks), and whether they all share the first sheet's header.
    pub sheets: Vec<String>,
    /// All sheets have the same header (stack them with `sheets = ["*"]`).
    pub same_sheets: bool,
    /// The one sheet this sample is of, when the workbook's sheets hold different tables.
    pub sheet: Option<String>,
    /// 1-based row of the header.
    pub header_row: usize,
    /// Headers.
    pub headers: Vec<String>,
    /// Data rows (strings), up to [`SAMPLE_ROWS`].
    pub rows: Vec<Vec<String>>,
}

impl Sample {
    /// A sample of a file that holds one table.
    fn of(
        path: &Path,
        format: &'static str,
        encoding: Option<&'static str>,
        header_row: usize,
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    ) -> Sample {
        Sample {
            path: path.to_path_buf(),
            format,
            encoding,
            delimiter: ',',
            sheets: Vec::new(),
            same_sheets: false,
            sheet: None,
            header_row,
            headers,
            rows,
        }
    }
}

/// One suggested mapping.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// Canonical column.
    pub column: String,
    /// Export header.
    pub header: String,
    /// Unit read off the header (`金额(万元)` → 万元).
    pub unit: Option<String>,
    /// Sample values (first non-empty ones).
    pub samples: Vec<String>,
    /// Words outside the column's value set seen in the sample (for bool columns: words that
    /// are not 是/否, 有/无, Y/N …).
    pub unknown_words: Vec<String>,
}

/// One dataset the export seems to hold.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// Dataset.
    pub dataset: String,
    /// Its mappings in canonical order.
    pub columns: Vec<Suggestion>,
    /// Canonical key columns without a mapping.
    pub unmapped_key: Vec<String>,
    /// How many headers matched, and whether the file name matched.
    pub score: usize,
}

/// The headers' normal form for matching: cleaned, no blanks, units in brackets dropped.
pub fn normal(header: &str) -> String {
    let h: String = text::clean(header).chars().filter(|c| !c.is_whitespace()).collect();
    let h = h.replace('（', "(").replace('）', ")");
    match h.find('(') {
        Some(i) if i > 0 && h.ends_with(')') => h[..i].to_string(),
        _ => h,
    }
}

fn unit_of(header: &str) -> Option<String> {
    let h = text::clean(header).replace('（', "(").replace('）', ")");
    let inner = h.split_once('(')?.1.trim_end_matches(')').trim().to_string();
    let known = ["万元", "千元", "亿元", "分", "亩", "公顷", "平方公里"];
    known.contains(&inner.as_str()).then_some(inner)
}

/// Reads the first rows of an export: one sample per table it holds (a workbook whose sheets
/// have different headers holds several; one whose sheets share a header is one, stacked).
pub fn sniff(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut samples = match ext.as_str() {
        "xlsx" | "xls" | "xlsm" | "ods" => sniff_workbook(path, bytes)?,
        "ndjson" | "jsonl" | "json" => vec![sniff_ndjson(path, &bytes)?],
        "parquet" => vec![sniff_parquet(path, bytes)?],
        _ => vec![sniff_csv(path, &bytes)?],
    };
    samples.retain(|s| !s.headers.iter().all(|h| h.trim().is_empty()));
    if samples.is_empty() {
        anyhow::bail!("{}: no header row found in the first rows", path.display());
    }
    for s in &mut samples {
        s.rows.retain(|r| r.iter().any(|c| !c.trim().is_empty()));
    }
    Ok(samples)
}

/// The first megabytes of a CSV as text, by the rule connectors resolve `encoding = "auto"` with.
fn decode(bytes: &[u8]) -> (String, &'static str) {
    let head = &bytes[..bytes.len().min(4 << 20)];
    // a cut in the middle of a character is not invalid UTF-8 of the file
    let utf8 = std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true);
    match super::chunk::resolve(super::Encoding::Auto, head, utf8) {
        super::Encoding::Utf8 => {
            (String::from_utf8_lossy(head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head)).into_owned(), "utf-8")
        }
        _ => (encoding_rs::GB18030.decode(head).0.into_owned(), "gbk"),
    }
}

fn sniff_csv(path: &Path, bytes: &[u8]) -> anyhow::Result<Sample> {
    let (text, encoding) = decode(bytes);
    let first: Vec<&str> = text.lines().take(12).collect();
    let delimiter = [',', '\t', ';', '|']
        .into_iter()
        .max_by_key(|d| {
            first.iter().map(|l| l.matches(*d).count()).min().unwrap_or(0) * 100
                + first.iter().map(|l| l.matches(*d).count()).sum::<usize>()
        })
        .unwrap_or(',');
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter as u8)
        .from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = rdr
        .records()
        .take(SAMPLE_ROWS + 10)
        .filter_map(|r| r.ok())
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let (header_row, headers, rows) = split_header(rows);
    Ok(Sample { delimiter, ..Sample::of(path, "csv", Some(encoding), header_row, headers, rows) })
}

fn sniff_workbook(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Vec<Sample>> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| anyhow::anyhow!("{}: not a readable workbook: {e}", path.display()))?;
    let sheets = book.sheet_names();
    let mut per_sheet = Vec::new();
    for name in &sheets {
        let Ok(range) = book.worksheet_range(name) else { continue };
        let offset = range.start().map(|(r, _)| r as usize).unwrap_or(0);
        let rows: Vec<Vec<String>> = range
            .rows()
            .take(SAMPLE_ROWS + 10)
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Empty => String::new(),
                        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                        Data::DateTime(d) => {
                            d.as_datetime().map(|t| t.date().to_string()).unwrap_or_else(|| d.to_string())
                        }
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        let (header_row, headers, data) = split_header(rows);
        per_sheet.push((name.clone(), header_row + offset, headers, data));
    }
    if per_sheet.is_empty() {
        anyhow::bail!("{}: the workbook has no sheets", path.display());
    }
    let sample =
        |sheet: Option<String>, same: bool, header_row: usize, headers: Vec<String>, rows: Vec<Vec<String>>| Sample {
            path: path.to_path_buf(),
            format: "xlsx",
            encoding: None,
            delimiter: ',',
            sheets: sheets.clone(),
            same_sheets: same,
            sheet,
            header_row,
            headers,
            rows,
        };
    let key = |h: &[String]| h.iter().map(|x| normal(x)).collect::<Vec<_>>();
    let first = key(&per_sheet[0].2);
    let same = per_sheet.iter().all(|(_, hr, h, _)| *hr == per_sheet[0].1 && key(h) == first);
    if same {
        let (_, header_row, headers, mut rows) = per_sheet[0].clone();
        for (_, _, _, more) in per_sheet.iter().skip(1) {
            rows.extend(more.iter().take(SAMPLE_ROWS.saturating_sub(rows.len())).cloned());
        }
        return Ok(vec![sample(None, per_sheet.len() > 1, header_row, headers, rows)]);
    }
    // sheets of different tables: one sample each
    Ok(per_sheet.into_iter().map(|(name, hr, h, rows)| sample(Some(name), false, hr, h, rows)).collect())
}

fn sniff_ndjson(path: &Path, bytes: &[u8]) -> anyhow::Result<Sample> {
    let (text, encoding) = decode(bytes);
    let mut headers: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(SAMPLE_ROWS) {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line) {
            for k in m.keys() {
                if !headers.contains(k) {
                    headers.push(k.clone());
                }
            }
            objects.push(m);
        }
    }
    let rows = objects
        .iter()
        .map(|m| {
            headers
                .iter()
                .map(|h| match m.get(h) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Null) | None => String::new(),
                    Some(v) => v.to_string(),
                })
                .collect()
        })
        .collect();
    Ok(Sample::of(path, "ndjson", Some(encoding), 1, headers, rows))
}

fn sniff_parquet(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Sample> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let builder =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .map_err(|e| anyhow::anyhow!("{}: not a readable Parquet file: {e}", path.display()))?;
    let headers: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    let fo = FormatOptions::default().with_null("");
    for batch in builder.with_batch_size(SAMPLE_ROWS).build()?.take(1) {
        let batch = batch?;
        let fmts: Vec<_> =
            batch.columns().iter().filter_map(|c| ArrayFormatter::try_new(c.as_ref(), &fo).ok()).collect();
        for r in 0..batch.num_rows() {
            rows.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    Ok(Sample::of(path, "parquet", None, 1, headers, rows))
}

/// Picks the header row among the first rows: the one with the most cells that look like
/// headers (text that is not a number or a date, and known header words count double).
fn split_header(rows: Vec<Vec<String>>) -> (usize, Vec<String>, Vec<Vec<String>>) {
    let known = header_words();
    let score = |r: &Vec<String>| -> usize {
        let filled = r.iter().filter(|c| !c.trim().is_empty()).count();
        if filled < 2 {
            return 0;
        }
        r.iter()
            .filter(|c| {
                let t = c.trim();
                !t.is_empty() && t.parse::<f64>().is_err() && !t.chars().next().is_some_and(|ch| ch.is_ascii_digit())
            })
            .count()
            + 2 * r.iter().filter(|c| known.contains(&normal(c))).count()
    };
    let best =
        rows.iter().take(10).enumerate().max_by_key(|(i, r)| (score(r), usize::MAX - i)).map(|(i, _)| i).unwrap_or(0);
    let headers = rows.get(best).cloned().unwrap_or_default();
    let data = rows.into_iter().skip(best + 1).take(SAMPLE_ROWS).collect();
    (best + 1, headers, data)
}

fn header_words() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in Schema::bundled().datasets.values() {
        for c in d.columns.values() {
            out.insert(normal(&c.label));
            out.extend(c.headers.iter().map(|h| normal(h)));
        }
    }
    out
}

/// The datasets the sample seems to hold, best first: the best match, and any other whose key
/// columns all map with at least three columns (a payment roster that also describes each
/// household).
pub fn propose(sample: &Sample, schema: &Schema) -> Vec<Proposal> {
    let file_words = format!(
        "{} {}",
        sample.path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default(),
        sample.sheet.clone().unwrap_or_else(|| sample.sheets.join(" "))
    );
    let mut all: Vec<Proposal> = schema
        .datasets
        .values()
        .filter(|d| !d.is_custom())
        .map(|d| {
            let p = map_dataset(sample, d);
            let named = d.names.iter().any(|w| file_words.contains(w.as_str()));
            let score = p.columns.len() * 2 + if named { 5 } else { 0 };
            Proposal { score, ..p }
        })
        .collect();
    all.sort_by(|a, b| b.score.cmp(&a.score).then(a.dataset.cmp(&b.dataset)));
    let mut out: Vec<Proposal> = Vec::new();
    for p in all {
        if p.columns.len() < 2 {
            continue;
        }
        if out.is_empty() {
            out.push(p);
        } else if p.unmapped_key.is_empty() && p.columns.len() >= 3 {
            // a second dataset must add what the first does not already say
            let first: BTreeSet<&str> = out[0].columns.iter().map(|c| c.header.as_str()).collect();
            let new = p.columns.iter().filter(|c| !first.contains(c.header.as_str())).count();
            if new >= 2 {
                out.push(p);
            }
        }
        if out.len() >= 4 {
            break;
        }
    }
    out
}

fn map_dataset(sample: &Sample, d: &Dataset) -> Proposal {
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut columns = Vec::new();
    for c in d.columns.values() {
        let wants: Vec<String> = c.headers.iter().map(|h| normal(h)).chain(std::iter::once(normal(&c.label))).collect();
        // the column's own headers in their order of preference
        let found = wants.iter().find_map(|w| {
            sample.headers.iter().enumerate().find(|(i, h)| !used.contains(i) && normal(h) == *w).map(|(i, _)| i)
        });
        let Some(i) = found else { continue };
        used.insert(i);
        let samples: Vec<String> = sample
            .rows
            .iter()
            .filter_map(|r| r.get(i).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
            .take(3)
            .collect();
        let mut unknown_words = Vec::new();
        if c.kind == ColumnType::Bool {
            let mut seen = BTreeSet::new();
            for r in &sample.rows {
                if let Some(v) = r.get(i) {
                    let v = text::clean(v).into_owned();
                    if !v.is_empty() && super::value::parse_bool(&v).is_none() && seen.insert(v.clone()) {
                        unknown_words.push(v);
                    }
                }
            }
        }
        if let Some(set) = &c.values {
            let mut seen = BTreeSet::new();
            for r in &sample.rows {
                if let Some(v) = r.get(i) {
                    let v = text::clean(v).into_owned();
                    if !v.is_empty() && set.fold(&v).is_none() && seen.insert(v.clone()) && !set.open {
                        unknown_words.push(v);
                    }
                }
            }
        }
        columns.push(Suggestion {
            column: c.name.clone(),
            header: sample.headers[i].trim().to_string(),
            unit: unit_of(&sample.headers[i]).filter(|_| matches!(c.kind, ColumnType::Money | ColumnType::Area)),
            samples,
            unknown_words,
        });
    }
    let mapped: BTreeSet<&str> = columns.iter().map(|s| s.column.as_str()).collect();
    let unmapped_key = d.key.iter().filter(|k| !mapped.contains(k.as_str())).cloned().collect();
    Proposal { dataset: d.name.clone(), columns, unmapped_key, score: 0 }
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The connector skeleton for one export, as TOML text with the suggestions marked.
pub fn render(sample: &Sample, proposals: &[Proposal], location: &str, schema: &Schema) -> String {
    let mut out = String::new();
    let file = sample.path.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    let _ = writeln!(out, "# 连接器草稿 · connector skeleton for {file}, written by `searchlight connector new`.");
    let _ =
        writeln!(out, "# Every mapping is a suggestion (标 `请确认` = confirm): check each against the export, fix");
    let _ = writeln!(out, "# or delete it, remove the marks, then try it with `searchlight ingest --dry-run`.");
    let _ = writeln!(out, "# `searchlight coverage` then says what the model library can do with it.\n");
    let single = proposals.len() <= 1;
    if let Some(p) = proposals.first().filter(|_| single) {
        let d = &schema.datasets[&p.dataset];
        let _ = writeln!(
            out,
            "name     = {}   # 请确认: {} ({} of the export's headers match)",
            q(&p.dataset),
            d.title,
            p.columns.len()
        );
    } else if proposals.is_empty() {
        let _ =
            writeln!(out, "# No canonical dataset matches these headers. Name the dataset it should land as, or keep");
        let _ = writeln!(out, "# it as a dataset of your own (custom = true, every column with its type).");
        let _ = writeln!(out, "name     = \"my_dataset\"   # 请确认");
        let _ = writeln!(out, "custom   = true");
        let _ = writeln!(out, "domain   = \"registry\"   # 请确认");
    }
    let _ = writeln!(out, "location = {}", q(location));
    let _ = writeln!(out, "\n[format]");
    let _ = writeln!(out, "type       = {}", q(sample.format));
    if let Some(e) = sample.encoding {
        let _ = writeln!(out, "encoding   = {}   # 读取时识别", q(e));
    }
    if sample.format == "csv" && sample.delimiter != ',' {
        let _ = writeln!(out, "delimiter  = {}", q(&sample.delimiter.to_string()));
    }
    if let Some(sheet) = &sample.sheet {
        let others: Vec<&str> = sample.sheets.iter().filter(|s| *s != sheet).map(String::as_str).collect();
        let _ =
            writeln!(out, "sheets     = [{}]   # the other sheets hold other tables: {}", q(sheet), others.join("、"));
    } else if sample.format == "xlsx" && sample.same_sheets {
        let _ = writeln!(
            out,
            "sheets     = [\"*\"]   # {} sheets with the same header, stacked ({})",
            sample.sheets.len(),
            sample.sheets.join("、")
        );
    } else if sample.format == "xlsx" && sample.sheets.len() > 1 {
        let _ = writeln!(
            out,
            "sheets     = [{}]   # 请确认: the workbook has {}",
            q(&sample.sheets[0]),
            sample.sheets.join("、")
        );
    }
    if sample.header_row != 1 && matches!(sample.format, "csv" | "xlsx") {
        let _ = writeln!(out, "header_row = {}   # rows above it are titles", sample.header_row);
    }
    let mut mapped_headers: BTreeSet<String> = BTreeSet::new();
    for p in proposals {
        let d = &schema.datasets[&p.dataset];
        if single {
            let _ = writeln!(out, "\n[columns]");
        } else {
            let _ = writeln!(out, "\n[[dataset]]");
            let _ =
                writeln!(out, "name = {}   # 请确认: {} ({} headers match)", q(&p.dataset), d.title, p.columns.len());
            if !p.unmapped_key.is_empty() {
                let _ = writeln!(
                    out,
                    "# the canonical key ({}) is not in the export: name the columns that identify a record",
                    d.key.join(", ")
                );
                let _ = writeln!(out, "# key = [\"…\"]");
            }
            let _ = writeln!(out, "[dataset.columns]");
        }
        if single && !p.unmapped_key.is_empty() {
            let _ = writeln!(
                out,
                "# the canonical key ({}) is not in the export: set `key = [...]` above (top level)",
                d.key.join(", ")
            );
        }
        if sample.format == "xlsx"
            && sample.same_sheets
            && d.columns.contains_key("town")
            && !p.columns.iter().any(|c| c.column == "town")
        {
            let _ = writeln!(out, "town = {{ from = \"$sheet\" }}   # 请确认: one sheet per township?");
        }
        let w = p.columns.iter().map(|c| c.column.len()).max().unwrap_or(0);
        for s in &p.columns {
            mapped_headers.insert(s.header.clone());
            let unit = s.unit.as_ref().map(|u| format!(", unit = {}", q(u))).unwrap_or_default();
            let col = &d.columns[&s.column];
            let mut line = format!("{:w$} = {{ from = {}{unit} }}", s.column, q(&s.header));
            let _ = write!(
                line,
                "   # 请确认 · {} · e.g. {}",
                col.label,
                if s.samples.is_empty() { "(empty)".to_string() } else { s.samples.join(" | ") }
            );
            let _ = writeln!(out, "{line}");
            if !s.unknown_words.is_empty() && col.kind == ColumnType::Bool {
                // a guess the user confirms: words of negation mean false
                let guess = |w: &str| !["未", "不", "否", "无", "非"].iter().any(|n| w.contains(n));
                let _ = writeln!(
                    out,
                    "# ↑ words that are not 是/否: map them, e.g. values = {{ {} }}   # 请确认",
                    s.unknown_words
                        .iter()
                        .take(6)
                        .map(|w| format!("{} = {}", q(w), guess(w)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            } else if !s.unknown_words.is_empty() {
                let set = col.values.as_ref().expect("unknown words come from a value set");
                let _ = writeln!(
                    out,
                    "# ↑ words outside 规范取值 ({}): map them, e.g. values = {{ {} }}",
                    set.values.join("、"),
                    s.unknown_words.iter().take(6).map(|w| format!("{} = \"…\"", q(w))).collect::<Vec<_>>().join(", ")
                );
            }
        }
        let missing: Vec<String> = d
            .columns
            .values()
            .filter(|c| !p.columns.iter().any(|s| s.column == c.name) && (c.name != "town" || !sample.same_sheets))
            .map(|c| format!("{} ({})", c.name, c.label))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                out,
                "# canonical columns not found in the export (map one if it is there under another name,"
            );
            let _ = writeln!(
                out,
                "# or declare `name = {{ nullable = true }}` / `{{ default = \"…\" }}`): {}",
                missing.join(", ")
            );
        }
    }
    if proposals.is_empty() {
        let _ = writeln!(out, "\n[columns]");
        for (i, h) in sample.headers.iter().enumerate().filter(|(_, h)| !h.trim().is_empty()) {
            let _ = writeln!(
                out,
                "c{:02} = {{ from = {}, type = \"text\" }}   # 请确认: name and type",
                i + 1,
                q(h.trim())
            );
            mapped_headers.insert(h.trim().to_string());
        }
    }
    let unmapped: Vec<&str> =
        sample.headers.iter().map(|h| h.trim()).filter(|h| !h.is_empty() && !mapped_headers.contains(*h)).collect();
    if !unmapped.is_empty() {
        let _ = writeln!(out, "\n# 未映射的表头 · headers not mapped: {}", unmapped.join(", "));
        let _ = writeln!(
            out,
            "# (map one to a canonical column, or keep it as a column of your own: `x = {{ from = \"…\", type = \"text\", extra = true }}`)"
        );
    }
    out
}

/// A connector draft for one table of an export.
#[derive(Debug, Clone)]
pub struct Draft {
    /// What the export looks like.
    pub sample: Sample,
    /// The datasets it seems to hold.
    pub proposals: Vec<Proposal>,
    /// The connector file's name, without `.toml`.
    pub name: String,
    /// The TOML text.
    pub text: String,
}

/// Drafts one connector per table of each export. `location` gives the path a connector names
/// for an export; `taken` holds the draft names already used, so a second export suggested as
/// the same dataset gets its own file (`deaths_2`) with a note on how to land both.
pub fn drafts(path: &Path, location: &str, schema: &Schema, taken: &mut Vec<String>) -> anyhow::Result<Vec<Draft>> {
    let mut out = Vec::new();
    for sample in sniff(path)? {
        let proposals = propose(&sample, schema);
        let mut text = render(&sample, &proposals, location, schema);
        let stem = proposals.first().map(|p| p.dataset.clone()).unwrap_or_else(|| "my_dataset".into());
        let mut name = stem.clone();
        let mut n = 1;
        while taken.contains(&name) {
            n += 1;
            name = format!("{stem}_{n}");
        }
        if name != stem {
            text = format!(
                "# Another export of this batch was also suggested as `{stem}`, and one dataset is landed by\n# one connector: land each as a dataset of your own (`custom = true`) and derive `{stem}` from\n# both with `derive = \"SELECT … UNION ALL SELECT …\"` (docs/connectors.md), or drop one.\n{text}"
            );
        }
        taken.push(name.clone());
        out.push(Draft { sample, proposals, name, text });
    }
    Ok(out)
}

impl Draft {
    /// Writes the draft as `dir/<name>.toml`; an existing file is replaced only with `force`.
    pub fn write(&self, dir: &Path, force: bool) -> anyhow::Result<PathBuf> {
        let target = dir.join(format!("{}.toml", self.name));
        if target.exists() && !force {
            anyhow::bail!("{} exists: not replaced (use --force, or --stdout to see the draft)", target.display());
        }
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        std::fs::write(&target, &self.text).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalise_for_matching() {
        assert_eq!(normal(" 金额（万元） "), "金额");
        assert_eq!(normal("公民 身份号码"), "公民身份号码");
        assert_eq!(unit_of("成交价(万元)").as_deref(), Some("万元"));
        assert_eq!(unit_of("面积（亩）").as_deref(), Some("亩"));
        assert_eq!(unit_of("金额(元)"), None);
    }

    #[test]
    fn the_header_row_is_found_below_titles() {
        let rows = vec![
            vec!["清河县2025年低保发放花名册".to_string(), String::new(), String::new()],
            vec!["填报单位：民政局".to_string(), String::new(), String::new()],
            vec!["户编号".to_string(), "户主姓名".to_string(), "发放金额".to_string()],
            vec!["DB001".to_string(), "张三".to_string(), "680".to_string()],
        ];
        let (row, headers, data) = split_header(rows);
        assert_eq!(row, 3);
        assert_eq!(headers[0], "户编号");
        assert_eq!(data.len(), 1);
    }
}
