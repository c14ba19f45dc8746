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
    /// 1-based row of the header (its first row).
    pub header_row: usize,
    /// Rows the header spans (a group row merged over its columns: 2).
    pub header_rows: usize,
    /// Headers (`组/列` under a group row).
    pub headers: Vec<String>,
    /// Data rows (strings), up to [`SAMPLE_ROWS`].
    pub rows: Vec<Vec<String>>,
    /// Sheets of the workbook that explain codes: name → code → word.
    pub code_sheets: Vec<(String, std::collections::BTreeMap<String, String>)>,
    /// The location a connector names (set by [`drafts`]: a path, or a glob over files of the
    /// same shape).
    pub location: Option<String>,
    /// A pattern for sheets named differently in each file (`*年度`).
    pub sheet_pattern: Option<String>,
    /// A JSON document's records, when they are under a key (`data.list`).
    pub records: Option<String>,
    /// The archive member this sample is of (`members = …`).
    pub members: Option<String>,
    /// A database table or query: the `[database]` table the draft declares instead of a
    /// location and a format.
    pub database: Option<String>,
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
            header_rows: 1,
            headers,
            rows,
            code_sheets: Vec::new(),
            location: None,
            sheet_pattern: None,
            records: None,
            members: None,
            database: None,
        }
    }

    /// A sample of a database table or query: its column names are the headers; the draft
    /// declares `spec` as its `[database]` table.
    pub fn of_database(spec: &super::spec::DatabaseSpec, headers: Vec<String>, rows: Vec<Vec<String>>) -> Sample {
        let port = spec.port.unwrap_or(spec.kind.default_port());
        let label = format!("{} {}:{port}/{}", spec.kind.label(), spec.host, spec.database);
        Sample {
            database: Some(database_block(spec)),
            ..Sample::of(Path::new(&label), "database", None, 1, headers, rows)
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
    /// The code sheet that explains this column's values (every sampled value is one of its
    /// codes).
    pub code_sheet: Option<String>,
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

/// Pinyin-initial headers of old systems (工资, 人事, 民政 software) and what they abbreviate.
const PINYIN: &[(&str, &str)] = &[
    ("SFZH", "身份证号"),
    ("SFZHM", "身份证号码"),
    ("ZJHM", "证件号码"),
    ("XM", "姓名"),
    ("XB", "性别"),
    ("CSRQ", "出生日期"),
    ("DWMC", "单位名称"),
    ("DWDM", "单位代码"),
    ("DWBM", "单位编码"),
    ("BMMC", "部门名称"),
    ("ZW", "职务"),
    ("ZJ", "职级"),
    ("RYZT", "人员状态"),
    ("RYLB", "人员类别"),
    ("BZXZ", "编制性质"),
    ("BZLX", "编制类型"),
    ("YFGZ", "应发工资"),
    ("SFGZ", "实发工资"),
    ("KKHJ", "扣款合计"),
    ("JBGZ", "基本工资"),
    ("RZRQ", "入职日期"),
    ("LZRQ", "离职日期"),
    ("TXRQ", "退休日期"),
    ("FFYF", "发放月份"),
    ("FFNY", "发放年月"),
    ("FFRQ", "发放日期"),
    ("FFJE", "发放金额"),
    ("JE", "金额"),
    ("YHZH", "银行账号"),
    ("KH", "卡号"),
    ("HZXM", "户主姓名"),
    ("HZSFZH", "户主身份证号"),
    ("JTBH", "家庭编号"),
    ("HH", "户号"),
    ("XZQH", "行政区划代码"),
    ("QHDM", "区划代码"),
    ("CWMC", "村委名称"),
    ("XZMC", "乡镇名称"),
    ("BZRS", "保障人数"),
    ("BZLB", "保障类别"),
    ("SWRQ", "死亡日期"),
    ("ZXRQ", "注销日期"),
    ("BZ", "备注"),
];

/// Owner words in front of an ID header (车主证件号码) and the owner word the schema uses.
const OWNERS: &[(&str, &str)] = &[
    ("户主", "户主"),
    ("车主", "所有人"),
    ("机动车所有人", "所有人"),
    ("所有人", "所有人"),
    ("干部", "干部"),
    ("近亲属", "亲属"),
    ("亲属", "亲属"),
    ("法定代表人", "法定代表人"),
    ("法人", "法定代表人"),
    ("投资人", "股东"),
    ("股东", "股东"),
    ("成员", "成员"),
    ("领取人", "领取人"),
    ("申请人", "申请人"),
    ("逝者", "逝者"),
    ("死者", "逝者"),
    ("负责人", "负责人"),
];

/// The words real exports end an ID header with.
const ID_WORDS: &[&str] =
    &["公民身份号码", "身份证件号码", "身份证明号码", "身份证号码", "证照号码", "证件号码", "身份证号", "证件号"];

/// The forms a header may match a canonical header in, by tier (0 best): 0 the header itself;
/// 1 a group and its column run together (`近亲属/身份证号` → `近亲属身份证号`, `亲属身份证号`; a
/// group's 信息 dropped) or a pinyin abbreviation spelt out; 2 the column alone; 3 derived forms
/// — an ID header with its owner word in the schema's words (`车主证件号码` → `所有人证件号码`),
/// then without it; 时间 for 日期 and back, 编码 / 编号 / 代码 for one another, a credit code
/// by its full name.
pub fn header_tiers(header: &str) -> Vec<(u8, String)> {
    let full = normal(header);
    let mut bases: Vec<(u8, String)> = vec![(0, full.clone())];
    if let Some((group, leaf)) = full.rsplit_once('/') {
        let group = group.rsplit('/').next().unwrap_or(group);
        let plain = group.trim_end_matches("信息").trim_end_matches("情况");
        for g in [group, plain] {
            bases.push((1, format!("{g}{leaf}")));
            if let Some((_, canon)) = OWNERS.iter().find(|(o, _)| *o == g) {
                bases.push((1, format!("{canon}{leaf}")));
            }
        }
        bases.push((2, leaf.to_string()));
    }
    let upper = full.to_ascii_uppercase();
    if upper.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && let Some((_, zh)) = PINYIN.iter().find(|(py, _)| *py == upper)
    {
        bases.push((1, zh.to_string()));
    }
    let mut out: Vec<(u8, String)> = Vec::new();
    let mut push = |t: u8, f: String| {
        if !f.is_empty() && !out.iter().any(|(_, x)| *x == f) {
            out.push((t, f));
        }
    };
    for (t, b) in &bases {
        push(*t, b.clone());
    }
    for (_, b) in &bases {
        if let Some(word) = ID_WORDS.iter().find(|w| b.ends_with(*w)) {
            let owner = &b[..b.len() - word.len()];
            let canon = OWNERS.iter().find(|(o, _)| *o == owner).map(|(_, c)| *c).unwrap_or(owner);
            for w in ID_WORDS {
                push(3, format!("{canon}{w}"));
            }
            if owner.is_empty() || OWNERS.iter().any(|(o, _)| *o == owner) {
                for w in ID_WORDS {
                    push(3, (*w).to_string());
                }
            }
        }
        for (a, z) in [("时间", "日期"), ("日期", "时间"), ("期限", "日期"), ("截止", "截止日期")] {
            if let Some(stem) = b.strip_suffix(a) {
                push(3, format!("{stem}{z}"));
            }
        }
        for (a, z) in [("编码", "编号"), ("编号", "编码"), ("代码", "编号"), ("编码", "代码"), ("证号", "证编号")]
        {
            if let Some(stem) = b.strip_suffix(a) {
                push(3, format!("{stem}{z}"));
            }
        }
        if b.contains("信用代码") && !b.starts_with("统一社会信用代码") {
            push(3, "统一社会信用代码".into());
        }
    }
    out
}

/// Every form of a header ([`header_tiers`]), best first.
pub fn header_forms(header: &str) -> Vec<String> {
    header_tiers(header).into_iter().map(|(_, f)| f).collect()
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
    // what the file is, by its bytes: an extension says what a clerk named it
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(b"\xD0\xCF\x11\xE0");
    // one JSON document holding records (an NDJSON file is many documents, and does not parse
    // as one)
    let json_doc = {
        let t = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let first = t.iter().find(|b| !b.is_ascii_whitespace()).copied();
        first == Some(b'[')
            || (first == Some(b'{')
                && serde_json::from_slice::<serde_json::Value>(t).is_ok_and(|v| records_in(&v).is_some()))
    };
    let ocds = matches!(ext.as_str(), "json" | "jsonl" | "ndjson" | "")
        && bytes.windows(6).take(1 << 20).any(|w| w == b"\"ocid\"");
    let mut samples = if let Some((headers, rows)) = ocds.then(|| super::ocds::sniff(&bytes)).flatten() {
        vec![Sample::of(path, "ocds", None, 1, headers, rows)]
    } else if super::html::looks_like_html(&bytes) {
        vec![sniff_html(path, &bytes)?]
    } else if super::chunk::utf16_bom(&bytes) {
        vec![sniff_utf16(path, &bytes)?]
    } else if zip
        && !matches!(ext.as_str(), "xlsx" | "xlsm" | "ods")
        && calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.clone())).is_err()
    {
        sniff_archive(path, &bytes)?
    } else if zip || ole || matches!(ext.as_str(), "xlsx" | "xls" | "xlsm" | "ods") {
        sniff_workbook(path, bytes)?
    } else if ext == "parquet" || bytes.starts_with(b"PAR1") {
        vec![sniff_parquet(path, bytes)?]
    } else if json_doc {
        vec![sniff_json(path, &bytes)?]
    } else if matches!(ext.as_str(), "ndjson" | "jsonl" | "json") {
        vec![sniff_ndjson(path, &bytes)?]
    } else {
        vec![sniff_csv(path, &bytes)?]
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
    // text has no NUL bytes and few control characters; a binary file (a database dump, an
    // image, a PDF) would draft a connector of mojibake
    let head = &bytes[..bytes.len().min(64 << 10)];
    let control = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)).count();
    if head.contains(&0) || control * 100 > head.len().max(1) {
        anyhow::bail!(
            "{}: this is not a table searchlight can read — not text (it has binary bytes), nor a workbook, JSON or Parquet file{}; export the data as CSV or Excel",
            path.display(),
            if head.starts_with(b"%PDF") { " (it is a PDF)" } else { "" }
        );
    }
    let (text, encoding) = decode(bytes);
    let mut s = sniff_text(path, &text)?;
    s.encoding = Some(encoding);
    Ok(s)
}

/// A delimited text's delimiter, header and first rows.
fn sniff_text(path: &Path, text: &str) -> anyhow::Result<Sample> {
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
    Ok(Sample { delimiter, ..Sample::of(path, "csv", None, header_row, headers, rows) })
}

fn sniff_workbook(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Vec<Sample>> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| anyhow::anyhow!("{}: not a readable workbook: {e}", path.display()))?;
    let sheets = book.sheet_names();
    let mut per_sheet = Vec::new();
    let mut code_sheets = Vec::new();
    for name in &sheets {
        let Ok(range) = book.worksheet_range(name) else { continue };
        let merged = match &mut book {
            calamine::Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            calamine::Sheets::Xls(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            _ => Vec::new(),
        };
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let offset = r0 as usize;
        let mut rows: Vec<Vec<String>> = range
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
        // a merged cell's value fills its region, as landing reads it; horizontal regions
        // (a group over its columns) by row
        let mut groups: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
        for m in &merged {
            let (ra, ca) = ((m.start.0 - r0) as usize, (m.start.1 - c0) as usize);
            let (rb, cb) = ((m.end.0 - r0) as usize, (m.end.1 - c0) as usize);
            let Some(v) = rows.get(ra).and_then(|r| r.get(ca)).cloned() else { continue };
            for r in ra..=rb.min(rows.len().saturating_sub(1)) {
                for c in ca..=cb {
                    if let Some(cell) = rows[r].get_mut(c) {
                        *cell = v.clone();
                    }
                }
            }
            if cb > ca && ra == rb {
                *groups.entry(ra).or_default() += 1;
            }
        }
        if let Some(codes) = code_sheet(name, &rows) {
            code_sheets.push((name.clone(), codes));
            continue;
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let (header_row, headers, data, spans) = split_header_with_groups(rows, &groups, width);
        per_sheet.push((name.clone(), header_row + offset, headers, data, spans));
    }
    if per_sheet.is_empty() {
        anyhow::bail!("{}: the workbook has no sheets with a table", path.display());
    }
    let data_sheets: Vec<String> = per_sheet.iter().map(|p| p.0.clone()).collect();
    let sample = |sheet: Option<String>,
                  same: bool,
                  header_row: usize,
                  header_rows: usize,
                  headers: Vec<String>,
                  rows: Vec<Vec<String>>| Sample {
        path: path.to_path_buf(),
        format: "xlsx",
        encoding: None,
        delimiter: ',',
        sheets: data_sheets.clone(),
        same_sheets: same,
        sheet,
        header_row,
        header_rows,
        headers,
        rows,
        code_sheets: code_sheets.clone(),
        location: None,
        sheet_pattern: None,
        records: None,
        members: None,
        database: None,
    };
    let key = |h: &[String]| h.iter().map(|x| normal(x)).collect::<Vec<_>>();
    let first = key(&per_sheet[0].2);
    let same = per_sheet.iter().all(|(_, hr, h, _, _)| *hr == per_sheet[0].1 && key(h) == first);
    if same {
        let (_, header_row, headers, mut rows, spans) = per_sheet[0].clone();
        for (_, _, _, more, _) in per_sheet.iter().skip(1) {
            rows.extend(more.iter().take(SAMPLE_ROWS.saturating_sub(rows.len())).cloned());
        }
        return Ok(vec![sample(None, per_sheet.len() > 1, header_row, spans, headers, rows)]);
    }
    // sheets of different tables: one sample each
    Ok(per_sheet.into_iter().map(|(name, hr, h, rows, spans)| sample(Some(name), false, hr, spans, h, rows)).collect())
}

/// A sheet that explains codes (代码说明, 字典): a code column of short codes and a word column.
/// Its code → word, or `None` for a sheet of data.
fn code_sheet(name: &str, rows: &[Vec<String>]) -> Option<std::collections::BTreeMap<String, String>> {
    let named = ["代码", "说明", "字典", "编码表", "码表"].iter().any(|w| name.contains(w));
    let filled: Vec<&Vec<String>> = rows.iter().filter(|r| r.iter().any(|c| !c.trim().is_empty())).collect();
    let (head, body) = filled.split_first()?;
    let width = head.iter().filter(|c| !c.trim().is_empty()).count();
    if !named || width > 3 || body.is_empty() {
        return None;
    }
    let short = |c: &str| {
        let c = c.trim();
        !c.is_empty() && c.chars().count() <= 4 && c.chars().all(|x| x.is_ascii_alphanumeric())
    };
    if !body.iter().all(|r| r.first().is_some_and(|c| short(c))) {
        return None;
    }
    Some(
        body.iter()
            .filter_map(|r| Some((r.first()?.trim().to_string(), r.get(1)?.trim().to_string())))
            .filter(|(_, w)| !w.is_empty())
            .collect(),
    )
}

/// [`split_header`], then a group row: the header row found and the row above or below it, when
/// one of them has cells merged across several columns (a group over its columns) — not a
/// title merged across the whole table. Returns the first header row (1-based), the headers
/// (`组/列`), the data rows and how many rows the header spans.
fn split_header_with_groups(
    rows: Vec<Vec<String>>,
    groups: &std::collections::BTreeMap<usize, usize>,
    width: usize,
) -> (usize, Vec<String>, Vec<Vec<String>>, usize) {
    let (header_row, _, _) = split_header(rows.clone());
    let h = header_row - 1;
    let spans_all = |r: usize| {
        rows.get(r).is_some_and(|row| {
            let first = row.iter().find(|c| !c.trim().is_empty()).cloned().unwrap_or_default();
            row.iter().filter(|c| !c.trim().is_empty()).all(|c| *c == first) && row.len() >= width.saturating_sub(1)
        })
    };
    let group_row = |r: usize| groups.get(&r).is_some_and(|n| *n >= 1) && !spans_all(r);
    let start = if group_row(h) && h + 1 < rows.len() {
        Some(h)
    } else if h > 0 && group_row(h - 1) {
        Some(h - 1)
    } else {
        None
    };
    match start {
        Some(s) => {
            let headers = super::header_names(&rows[s..s + 2]);
            let data = rows.into_iter().skip(s + 2).take(SAMPLE_ROWS).collect();
            (s + 1, headers, data, 2)
        }
        None => {
            let (row, headers, data) = split_header(rows);
            (row, headers, data, 1)
        }
    }
}

/// A zip archive of exports: one sample per member (landing reads the member with `members`).
fn sniff_archive(path: &Path, bytes: &[u8]) -> anyhow::Result<Vec<Sample>> {
    let members = super::archive::all_members(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let tmp = tempfile_dir()?;
    let mut out = Vec::new();
    for (name, data) in members {
        let leaf = name.rsplit('/').next().unwrap_or(&name).to_string();
        let file = tmp.join(format!("{}-{leaf}", out.len()));
        std::fs::write(&file, &data)?;
        let named = tmp.join(&leaf);
        std::fs::rename(&file, &named)?;
        if let Ok(found) = sniff(&named) {
            for mut s in found {
                s.members = Some(name.clone());
                // named as landing names it: archive.zip!/member
                s.path = PathBuf::from(format!("{}!/{name}", path.display()));
                out.push(s);
            }
        }
        // a member that is no table (说明.txt, a picture) is skipped
        let _ = std::fs::remove_file(&named);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if out.is_empty() {
        anyhow::bail!("{}: a zip archive with no member that is a table", path.display());
    }
    Ok(out)
}

/// A private folder for an archive's members while they are drafted.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "searchlight-draft-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// An HTML table saved as `.xls`: read as landing reads it, drafted as a workbook.
fn sniff_html(path: &Path, bytes: &[u8]) -> anyhow::Result<Sample> {
    let (text, _) = super::html::decode(bytes);
    let (grid, _) = super::html::table(&text);
    let (header_row, headers, rows) = split_header(grid.into_iter().take(SAMPLE_ROWS + 10).collect());
    Ok(Sample::of(path, "xlsx", None, header_row, headers, rows))
}

/// UTF-16 text (Excel's "Unicode text", tab-delimited): drafted with the encoding landing needs.
fn sniff_utf16(path: &Path, bytes: &[u8]) -> anyhow::Result<Sample> {
    let text = super::chunk::decode(bytes, super::Encoding::Utf16, 1)
        .map_err(|e| anyhow::anyhow!("{}: line {}: bytes {} are not UTF-16", path.display(), e.line, e.bytes))?;
    let mut s = sniff_text(path, &text)?;
    s.encoding = Some("utf-16");
    Ok(s)
}

/// A JSON document: the records it holds (an array, or the first array of objects under its
/// keys), drafted as `type = "json"`.
fn sniff_json(path: &Path, bytes: &[u8]) -> anyhow::Result<Sample> {
    let (text, encoding) = decode(bytes);
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: not a JSON document: {e}", path.display(), e.line(), e.column()))?;
    let empty = Vec::new();
    let (path_to, records) = records_in(&doc).unwrap_or((None, &empty));
    let records: Vec<serde_json::Map<String, serde_json::Value>> =
        records.iter().filter_map(|v| v.as_object().cloned()).collect();
    // child arrays (shareholders under each firm) are datasets of their own, not columns
    let records: Vec<_> = records
        .into_iter()
        .take(SAMPLE_ROWS)
        .map(|mut m| {
            m.retain(|_, v| !v.is_array());
            m
        })
        .collect();
    let (headers, rows) = object_rows(&records);
    let mut sample = Sample::of(path, "json", Some(encoding), 1, headers, rows);
    sample.records = path_to;
    Ok(sample)
}

/// The records of a JSON document: the document when it is an array, else the first array of
/// objects under its keys (depth first), with its dotted path.
fn records_in(doc: &serde_json::Value) -> Option<(Option<String>, &Vec<serde_json::Value>)> {
    fn find<'v>(
        m: &'v serde_json::Map<String, serde_json::Value>,
        at: &str,
    ) -> Option<(String, &'v Vec<serde_json::Value>)> {
        for (k, v) in m {
            let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            match v {
                serde_json::Value::Array(a) if a.iter().any(|x| x.is_object()) => return Some((path, a)),
                serde_json::Value::Object(inner) => {
                    if let Some(found) = find(inner, &path) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
    match doc {
        serde_json::Value::Array(a) => Some((None, a)),
        serde_json::Value::Object(m) => find(m, "").map(|(p, a)| (Some(p), a)),
        _ => None,
    }
}

fn sniff_ndjson(path: &Path, bytes: &[u8]) -> anyhow::Result<Sample> {
    let (text, encoding) = decode(bytes);
    let objects: Vec<serde_json::Map<String, serde_json::Value>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SAMPLE_ROWS)
        .filter_map(|line| match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        })
        .collect();
    let (headers, rows) = object_rows(&objects);
    Ok(Sample::of(path, "ndjson", Some(encoding), 1, headers, rows))
}

/// JSON objects as a table: their keys in first-seen order, and each object's values as text.
fn object_rows(objects: &[serde_json::Map<String, serde_json::Value>]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers: Vec<String> = Vec::new();
    for m in objects {
        for k in m.keys() {
            if !headers.contains(k) {
                headers.push(k.clone());
            }
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
    (headers, rows)
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

/// A month column of a wide export (`1月` … `12月`, under a group or not).
fn is_wide(header: &str) -> bool {
    let leaf = normal(header);
    let leaf = leaf.rsplit('/').next().unwrap_or_default();
    leaf.strip_suffix('月').is_some_and(|m| m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m)))
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
    if sample.format == "ocds" {
        // an OCDS file lands as the procurement tables, each with every column the reader gives
        return super::ocds::TABLES
            .iter()
            .map(|(t, _)| format!("ocds_{t}"))
            .filter(|d| schema.datasets.contains_key(d))
            .map(|dataset| Proposal { dataset, columns: Vec::new(), unmapped_key: Vec::new(), score: 0 })
            .collect();
    }
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
            // a column per month is a payment roster's: the dataset with a month lands it
            let wide = sample.headers.iter().filter(|h| is_wide(h)).count() >= 3
                && d.columns.values().any(|c| c.kind == ColumnType::Month);
            let score = p.columns.len() * 2 + if named { 5 } else { 0 } + if wide { 6 } else { 0 };
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
        // the column's own headers in their order of preference, each against the headers' own
        // forms first and their derived forms after
        let forms: Vec<Vec<(u8, String)>> = sample.headers.iter().map(|h| header_tiers(h)).collect();
        let found = (0..4u8).find_map(|tier| {
            wants.iter().find_map(|w| {
                (0..sample.headers.len()).find(|i| {
                    !used.contains(i)
                        && !is_wide(&sample.headers[*i])
                        && forms[*i].iter().any(|(t, f)| *t == tier && f == w)
                })
            })
        });
        let Some(i) = found else { continue };
        used.insert(i);
        let samples: Vec<String> = sample
            .rows
            .iter()
            .filter_map(|r| r.get(i).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
            .take(3)
            .collect();
        let values: Vec<String> = sample
            .rows
            .iter()
            .filter_map(|r| r.get(i).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()))
            .collect();
        let code_sheet = sample
            .code_sheets
            .iter()
            .find(|(_, codes)| !values.is_empty() && values.iter().all(|v| codes.contains_key(v)))
            .map(|(name, _)| name.clone());
        let mut unknown_words = Vec::new();
        if code_sheet.is_some() {
            // the codes are explained on their sheet
        } else if c.kind == ColumnType::Bool {
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
        if let (Some(set), None) = (&c.values, &code_sheet) {
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
            code_sheet,
        });
    }
    let mapped: BTreeSet<&str> = columns.iter().map(|s| s.column.as_str()).collect();
    let unmapped_key = d.key.iter().filter(|k| !mapped.contains(k.as_str())).cloned().collect();
    Proposal { dataset: d.name.clone(), columns, unmapped_key, score: 0 }
}

/// The `[database]` table of a draft: credentials by environment variable only, and the
/// `watermark` left for the user to choose.
fn database_block(spec: &super::spec::DatabaseSpec) -> String {
    use super::spec::{DatabaseKind, TlsMode};
    let mut out = String::from("[database]\n");
    let kind = if spec.kind == DatabaseKind::Postgres { "postgres" } else { "mysql" };
    let _ = writeln!(out, "kind         = {}", q(kind));
    let _ = writeln!(out, "host         = {}", q(&spec.host));
    if let Some(p) = spec.port {
        let _ = writeln!(out, "port         = {p}");
    }
    let _ = writeln!(out, "database     = {}", q(&spec.database));
    match (&spec.user, &spec.user_env) {
        (_, Some(v)) => {
            let _ = writeln!(out, "user_env     = {}   # the environment variable holding the user name", q(v));
        }
        (Some(u), None) => {
            let _ = writeln!(out, "user         = {}", q(u));
        }
        (None, None) => {}
    }
    if let Some(v) = &spec.password_env {
        let _ = writeln!(out, "password_env = {}   # the environment variable holding the password", q(v));
    }
    match (&spec.table, &spec.query) {
        (Some(t), _) => {
            let _ = writeln!(out, "table        = {}", q(t));
        }
        (None, Some(sql)) => {
            let _ = writeln!(out, "query        = {}", q(sql));
        }
        (None, None) => {}
    }
    let tls = match spec.tls {
        TlsMode::Require => "require",
        TlsMode::VerifyFull => "verify-full",
        TlsMode::Disable => "disable",
    };
    let _ = writeln!(out, "tls          = {}", q(tls));
    out += "# watermark  = \"update_time\"   # 请确认: a column that grows with every new row; later loads then read only new rows\n";
    out
}

/// The `location` and `[format]` of a draft over export files.
fn render_file_source(out: &mut String, sample: &Sample, location: &str) {
    let _ = writeln!(out, "location = {}", q(location));
    if let Some(m) = &sample.members {
        let _ = writeln!(out, "members  = {}   # the archive's member this connector reads", q(m));
    }
    let _ = writeln!(out, "\n[format]");
    let _ = writeln!(out, "type       = {}", q(sample.format));
    if let Some(e) = sample.encoding {
        let _ = writeln!(out, "encoding   = {}   # 读取时识别", q(e));
    }
    if let Some(r) = &sample.records {
        let _ = writeln!(out, "records    = {}   # where the document holds its records", q(r));
    }
    if sample.format == "csv" && sample.delimiter != ',' {
        let _ = writeln!(out, "delimiter  = {}", q(&sample.delimiter.to_string()));
    }
    if let Some(pattern) = &sample.sheet_pattern {
        let _ = writeln!(out, "sheets     = [{}]   # the sheet is named differently in each file", q(pattern));
    } else if let Some(sheet) = &sample.sheet {
        let others: Vec<&str> = sample.sheets.iter().filter(|s| *s != sheet).map(String::as_str).collect();
        if others.is_empty() {
            let _ = writeln!(out, "sheets     = [{}]", q(sheet));
        } else {
            let _ = writeln!(
                out,
                "sheets     = [{}]   # the other sheets hold other tables: {}",
                q(sheet),
                others.join("、")
            );
        }
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
    if sample.header_rows > 1 {
        let _ = writeln!(
            out,
            "header_rows = {}   # a group row over its columns: they are named 组/列",
            sample.header_rows
        );
    }
    for (sheet, codes) in &sample.code_sheets {
        let shown: Vec<String> = codes.iter().take(4).map(|(c, w)| format!("{c}={w}")).collect();
        let _ = writeln!(
            out,
            "# the sheet {} explains codes ({}): columns that hold them read it",
            q(sheet),
            shown.join(" ")
        );
    }
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The connector skeleton for one export, as TOML text with the suggestions marked.
pub fn render(sample: &Sample, proposals: &[Proposal], location: &str, schema: &Schema) -> String {
    let location = sample.location.as_deref().unwrap_or(location);
    let mut out = String::new();
    let file = match &sample.database {
        Some(_) => sample.path.display().to_string(),
        None => sample.path.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(),
    };
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
    if let Some(block) = &sample.database {
        let _ = writeln!(out, "\n{}", block.trim_end());
    } else {
        render_file_source(&mut out, sample, location);
    }
    let wide = wide_draft(sample, proposals, schema);
    if let Some(w) = &wide {
        let _ = writeln!(out, "\n[unpivot]   # 请确认: a column per month, landed as a row per month paid");
        let _ = writeln!(out, "columns = '^(\\d{{1,2}})月$'");
        let _ = writeln!(out, "into    = {}", q(&w.into));
        let _ = writeln!(out, "value   = {}", q(&w.value));
        if let Some(y) = &w.year {
            let _ = writeln!(
                out,
                "year    = {}   # the year, from {}",
                q(y),
                if y == "$sheet" { "the sheet name" } else { "the file name" }
            );
        }
    }
    if sample.format == "ocds" {
        let _ = writeln!(out, "# an OCDS file: each table below lands with every column the OCDS reader gives");
        let _ = writeln!(out, "# (docs/ocds.md); delete the ones you do not need");
        for p in proposals {
            let _ = writeln!(out, "\n[[dataset]]\nname = {}   # {}", q(&p.dataset), schema.datasets[&p.dataset].title);
        }
        return out;
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
            if let Some(w) = roster_where(sample, p, proposals) {
                let _ = writeln!(out, "where = {}   # a roster row without it is another record's", q(&w));
            }
            let from_wide = |k: &String| wide.as_ref().is_some_and(|wd| wd.dataset == p.dataset && wd.into == *k);
            if p.unmapped_key.iter().any(|k| !from_wide(k)) {
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
        if let Some(wd) = wide.as_ref().filter(|wd| wd.dataset == p.dataset) {
            let _ = writeln!(out, "{:w$} = {{}}   # from [unpivot]: the month", wd.into);
            let _ = writeln!(out, "{:w$} = {{}}   # from [unpivot]: the cell", wd.value);
        }
        if p.dataset == "kin_filings"
            && let Some(i) = sample.headers.iter().position(|h| normal(h).ends_with("是否备案"))
        {
            let h = &sample.headers[i];
            // words that are not 是/否: negations are false
            let mut words: Vec<String> = Vec::new();
            for r in &sample.rows {
                if let Some(v) = r.get(i).map(|v| text::clean(v).into_owned())
                    && !v.is_empty()
                    && super::value::parse_bool(&v).is_none()
                    && !words.contains(&v)
                {
                    words.push(v);
                }
            }
            let guess = |w: &str| !["未", "不", "否", "无", "非"].iter().any(|n| w.contains(n));
            let values = if words.is_empty() {
                String::new()
            } else {
                format!(
                    ", values = {{ {} }}",
                    words.iter().take(6).map(|w| format!("{} = {}", q(w), guess(w))).collect::<Vec<_>>().join(", ")
                )
            };
            let _ = writeln!(
                out,
                "filed = {{ from = {}, type = \"bool\", extra = true{values} }}   # 请确认: only filed rows are filings",
                q(h.trim())
            );
            mapped_headers.insert(h.trim().to_string());
        }
        for s in &p.columns {
            mapped_headers.insert(s.header.clone());
            let unit = s.unit.as_ref().map(|u| format!(", unit = {}", q(u))).unwrap_or_default();
            let col = &d.columns[&s.column];
            let codes = s.code_sheet.as_ref().map(|c| format!(", values = {{ sheet = {} }}", q(c))).unwrap_or_default();
            let mut line = format!("{:w$} = {{ from = {}{unit}{codes} }}", s.column, q(&s.header));
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
        let from_wide =
            |c: &str| wide.as_ref().is_some_and(|wd| wd.dataset == p.dataset && (wd.into == c || wd.value == c));
        let missing: Vec<String> = d
            .columns
            .values()
            .filter(|c| !p.columns.iter().any(|s| s.column == c.name) && (c.name != "town" || !sample.same_sheets))
            .filter(|c| !from_wide(&c.name))
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
    let unmapped: Vec<&str> = sample
        .headers
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty() && !mapped_headers.contains(*h) && !(wide.is_some() && is_wide(h)))
        .collect();
    if !unmapped.is_empty() {
        let _ = writeln!(out, "\n# 未映射的表头 · headers not mapped: {}", unmapped.join(", "));
        let _ = writeln!(
            out,
            "# (map one to a canonical column, or keep it as a column of your own: `x = {{ from = \"…\", type = \"text\", extra = true }}`)"
        );
    }
    out
}

/// The `[unpivot]` a wide export needs: the dataset it lands in, the month column and the
/// value column of that dataset, and where the year is.
struct WideDraft {
    dataset: String,
    into: String,
    value: String,
    year: Option<String>,
}

fn wide_draft(sample: &Sample, proposals: &[Proposal], schema: &Schema) -> Option<WideDraft> {
    if sample.headers.iter().filter(|h| is_wide(h)).count() < 3 {
        return None;
    }
    // the first proposed dataset with a month column and a money column
    let (p, into) = proposals.iter().find_map(|p| {
        let d = &schema.datasets[&p.dataset];
        d.columns.values().find(|c| c.kind == ColumnType::Month).map(|c| (p, c.name.clone()))
    })?;
    let d = &schema.datasets[&p.dataset];
    let money: Vec<&crate::schema::Column> = d.columns.values().filter(|c| c.kind == ColumnType::Money).collect();
    let value = money.iter().find(|c| c.name == "amount").or(money.first())?.name.clone();
    let year_in = |s: &str| s.as_bytes().windows(4).any(|w| w.iter().all(u8::is_ascii_digit));
    let year = if sample.sheet_pattern.is_some() || sample.sheet.as_deref().is_some_and(year_in) {
        Some("$sheet".to_string())
    } else if sample.path.file_name().is_some_and(|f| year_in(&f.to_string_lossy())) {
        Some("$file".to_string())
    } else {
        None
    };
    Some(WideDraft { dataset: p.dataset.clone(), into, value, year })
}

/// The `where` a dataset drafted from a roster beside others needs: a relatives' dataset only
/// where the relative is there, a filings dataset only where the roster says filed.
fn roster_where(sample: &Sample, p: &Proposal, all: &[Proposal]) -> Option<String> {
    if all.first().is_some_and(|f| f.dataset == p.dataset) {
        return None;
    }
    if p.dataset == "kin_filings" && sample.headers.iter().any(|h| normal(h).ends_with("是否备案")) {
        return Some("filed".into());
    }
    // a key column that is empty on some rows: those rows are another dataset's
    let empty_key = p.columns.iter().filter(|c| c.column.ends_with("_id") || c.column == "parcel_no").find(|c| {
        let i = sample.headers.iter().position(|h| h.trim() == c.header);
        i.is_some_and(|i| sample.rows.iter().any(|r| r.get(i).is_none_or(|v| v.trim().is_empty())))
    })?;
    Some(format!("{} IS NOT NULL", empty_key.column))
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
    let mut samples = sniff(path)?;
    for s in &mut samples {
        s.location = Some(location.to_string());
    }
    Ok(draft_samples(samples, schema, taken))
}

/// Drafts connectors for a batch of exports: files of the same shape (the same headers, a
/// 2024 and a 2025 roster) are one connector over a glob, their differently named sheets one
/// pattern. Each file that cannot be read is an error of its own, returned beside the drafts.
pub fn drafts_all(
    files: &[(PathBuf, String)],
    schema: &Schema,
    taken: &mut Vec<String>,
) -> (Vec<Draft>, Vec<anyhow::Error>) {
    let mut samples: Vec<Sample> = Vec::new();
    let mut errors = Vec::new();
    for (path, location) in files {
        match sniff(path) {
            Ok(found) => {
                for mut s in found {
                    s.location = Some(location.clone());
                    samples.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    // the same shape: format, header position and the headers themselves
    let shape = |s: &Sample| {
        (
            s.format,
            s.header_row,
            s.header_rows,
            s.headers.iter().map(|h| normal(h)).collect::<Vec<_>>(),
            s.code_sheets.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        )
    };
    let mut merged: Vec<(Sample, Vec<String>, Vec<String>)> = Vec::new();
    for s in samples {
        let sheet = s.sheet.clone().or_else(|| s.sheets.first().cloned()).unwrap_or_default();
        let loc = s.location.clone().unwrap_or_default();
        match merged.iter_mut().find(|(m, locs, _)| shape(m) == shape(&s) && !locs.contains(&loc)) {
            Some((_, locs, sheets)) => {
                locs.push(loc);
                sheets.push(sheet);
            }
            None => merged.push((s, vec![loc], vec![sheet])),
        }
    }
    let mut out = Vec::new();
    for (mut s, locs, sheets) in merged {
        if locs.len() > 1 {
            s.location = Some(pattern_of(&locs));
            if sheets.iter().any(|x| *x != sheets[0]) {
                s.sheet_pattern = Some(pattern_of(&sheets));
            }
        }
        out.extend(draft_samples(vec![s], schema, taken));
    }
    (out, errors)
}

/// One pattern for names that differ in a part (`…2024.xlsx`, `…2025.xlsx` → `…*.xlsx`;
/// `2024年度`, `2025年度` → `*年度`): the common beginning and end around a `*`, cut back to
/// where the digits of the differing part begin and end.
fn pattern_of(names: &[String]) -> String {
    let chars: Vec<Vec<char>> = names.iter().map(|n| n.chars().collect()).collect();
    let shortest = chars.iter().map(Vec::len).min().unwrap_or(0);
    let mut pre = (0..shortest).take_while(|&i| chars.iter().all(|c| c[i] == chars[0][i])).count();
    let mut suf = (0..shortest - pre)
        .take_while(|&i| chars.iter().all(|c| c[c.len() - 1 - i] == chars[0][chars[0].len() - 1 - i]))
        .count();
    while pre > 0 && chars[0][pre - 1].is_ascii_digit() {
        pre -= 1;
    }
    while suf > 0 && chars[0][chars[0].len() - suf].is_ascii_digit() {
        suf -= 1;
    }
    let first = &chars[0];
    format!("{}*{}", first[..pre].iter().collect::<String>(), first[first.len() - suf..].iter().collect::<String>())
}

/// Drafts one connector per sample.
pub fn draft_samples(samples: Vec<Sample>, schema: &Schema, taken: &mut Vec<String>) -> Vec<Draft> {
    let mut out = Vec::new();
    for sample in samples {
        let location = sample.location.clone().unwrap_or_else(|| sample.path.display().to_string());
        let proposals = propose(&sample, schema);
        let mut text = render(&sample, &proposals, &location, schema);
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
    out
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
    fn files_of_one_shape_share_a_pattern() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pattern_of(&v(&["exports/民政/低保花名册2024.xlsx", "exports/民政/低保花名册2025.xlsx"])),
            "exports/民政/低保花名册*.xlsx"
        );
        assert_eq!(pattern_of(&v(&["2024年度", "2025年度"])), "*年度");
        assert_eq!(pattern_of(&v(&["工资2025上半年.csv", "工资2025下半年.csv"])), "工资*半年.csv");
    }

    #[test]
    fn headers_match_by_meaning() {
        let has = |h: &str, want: &str| header_forms(h).iter().any(|f| f == want);
        assert!(has("近亲属/身份证号", "近亲属身份证号") && has("近亲属/身份证号", "身份证号"));
        assert!(has("干部信息/身份证号", "干部身份证号"));
        assert!(has("SFZHM", "身份证号码") && has("YFGZ", "应发工资") && has("xm", "姓名"));
        assert!(has("车主证件号码", "所有人证件号码"));
        assert!(has("干部公民身份号码", "干部身份证号"));
        assert!(has("户口注销时间", "户口注销日期"));
        assert!(has("合同编码", "合同编号") && has("低保证号", "低保证编号"));
        assert!(has("投标单位社会信用代码", "统一社会信用代码"));
        assert!(is_wide("发放金额(元)/3月") && is_wide("12月") && !is_wide("13月") && !is_wide("月份"));
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
