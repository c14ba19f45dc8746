//! Entry points for fuzzing: each takes arbitrary bytes and must return without a panic or a
//! hang, whatever they are. The `cargo fuzz` targets in `fuzz/` call them under libFuzzer, and
//! a bounded smoke run in the tests calls them with generated inputs.
//!
//! The text readers are also checked differentially: an export landed in chunks of any size,
//! read in blocks of any size, lands exactly the rows, quarantine and flags of the whole file
//! landed at once.

use std::sync::OnceLock;

use crate::codes::{self, id_card, region, uscc};
use crate::connector::{self, Connector, value};
use crate::redact::Redactor;

/// The value parsers of landing.
pub fn values(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let formats = [value::EXCEL_SERIAL.to_string(), "%d/%m/%Y".to_string()];
    if let Some((d, scale)) = value::parse_decimal(&s) {
        for unit in [(1, 1), (10_000, 1), (1, 100)] {
            let _ = value::to_cents(d, scale, unit);
        }
    }
    let _ = (value::parse_i64(&s), value::parse_f64(&s), value::parse_bool(&s));
    let _ = (value::parse_date(&s, &[]), value::parse_date(&s, &formats));
    let _ = (value::parse_month(&s, &[]), value::parse_timestamp(&s, &formats));
    let _ = (value::unit_in_header(&s), value::money_unit(&s), value::area_unit(&s));
    if data.len() >= 8 {
        let _ = value::excel_serial(f64::from_le_bytes(data[..8].try_into().expect("8 bytes")));
    }
}

/// The ID, credit-code and region rules, and the redactor (whose output, masked again, must
/// not change).
pub fn codes(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let n = id_card::normalize_text(&s);
    if let Some(v) = &n.value {
        let _ = (id_card::is_valid(v), id_card::birth_date(v), id_card::gender(v), id_card::region(v));
    }
    let _ = (id_card::is_valid(&s), id_card::birth_date(&s), id_card::gender(&s), id_card::region(&s));
    let _ = (id_card::age_at(&s, chrono::NaiveDate::MAX), id_card::upgrade15(&s), id_card::check_char(data));
    let _ = (uscc::normalize_text(&s), uscc::is_valid(&s), uscc::region(&s), uscc::check_char(data));
    let _ = (region::normalize(&s), codes::text_number_digits(&s), codes::text::org_name_key(&s));
    if data.len() >= 8 {
        let v = f64::from_le_bytes(data[..8].try_into().expect("8 bytes"));
        let _ = (id_card::normalize_number(v), uscc::normalize_number(v), codes::float_digits(v, id_card::is_valid));
    }
    let r = Redactor::masking();
    let once = r.text(&s).into_owned();
    assert_eq!(r.text(&once), once, "masking is idempotent");
    // a clue's unit value against a directory with a township, its villages and a department
    let dir = units();
    let _ = (dir.resolve(&s, false), dir.resolve(&s, true), dir.find(&s), crate::units::name_key(&s));
}

fn units() -> &'static crate::units::Directory {
    static DIR: std::sync::OnceLock<crate::units::Directory> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let unit = |code: &str, name: &str, parent: Option<&str>, region: &str| crate::units::Unit {
            code: code.into(),
            name: name.into(),
            kind: String::new(),
            parent: parent.map(Into::into),
            region: Some(region.into()),
            uscc: None,
            aliases: vec!["简称".into()],
            people: Some(1),
            leader: None,
            leader_post: None,
        };
        crate::units::Directory::new(vec![
            unit("340524101", "清河县教育局", None, "340524"),
            unit("340524100000", "城关镇", None, "340524100000"),
            unit("340524100201", "前进村", Some("340524100000"), "340524100201"),
            unit("340524101201", "前进村", Some("340524101000"), "340524101201"),
        ])
    })
}

/// The model header and SQL position rules.
pub fn model_header(data: &[u8]) {
    let _ = crate::model::parse(std::path::Path::new("fuzz.sql"), crate::model::Origin::Project, data.to_vec());
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::position::line_col(s, s.len() / 2);
    }
}

/// A CSV export: the first byte picks the chunk size, the second the read-block size, the
/// third the encoding; the rest follows a fixed header row. Chunked must equal whole.
pub fn csv(data: &[u8]) {
    text_export(connector_for(&CSV, "csv"), "序号,姓名,身份证号,金额(万元),日期,有效\n".as_bytes(), data);
}

/// An NDJSON export, as [`csv`].
pub fn ndjson(data: &[u8]) {
    text_export(connector_for(&NDJSON, "ndjson"), b"", data);
}

/// An OCDS file: the red flags over arbitrary bytes read as JSON lines or a package, and the
/// same bytes as a settings file. Anything is a result or an error, never a panic.
pub fn ocds(data: &[u8]) {
    use crate::connector::ocds::{TABLES, read, rows_of, sniff};
    let _ = crate::runner::red_flags::run(data, crate::runner::red_flags::Settings::all());
    let _ = crate::runner::red_flags::Settings::parse(&String::from_utf8_lossy(data));
    // what `connector new` reads of a file, and every table's rows of every process
    let _ = sniff(data);
    let mut batches: Vec<_> =
        TABLES.iter().map(|(_, h)| crate::connector::source::TextBatch::new(h.len(), 1)).collect();
    let _ = read(
        data,
        &mut |line, r| {
            for (t, batch) in batches.iter_mut().enumerate() {
                rows_of(t, &r, line, batch);
            }
            true
        },
        &mut |_| {},
    );
}

/// A workbook: arbitrary bytes as an .xlsx file. Unreadable is an error naming the file.
pub fn xlsx(data: &[u8]) {
    if let Err(e) = connector_for(&XLSX, "xlsx").0.land_bytes("fuzz.xlsx", data, u64::MAX, 1 << 16) {
        assert!(e.to_string().contains("fuzz.xlsx"), "{e}");
    }
}

static CSV: OnceLock<(Connector, Connector)> = OnceLock::new();
static NDJSON: OnceLock<(Connector, Connector)> = OnceLock::new();
static XLSX: OnceLock<(Connector, Connector)> = OnceLock::new();

const COLUMNS: &str = "\
no = { from = [\"序号\", \"no\"], type = \"int\", nullable = true }
name = { from = [\"姓名\", \"name\"], type = \"text\", nullable = true }
id_no = { from = [\"身份证号\", \"id\"], type = \"id_card\", nullable = true }
amount = { from = [\"金额(万元)\", \"amount\"], type = \"money\", nullable = true }
day = { from = [\"日期\", \"day\"], type = \"date\", nullable = true }
ok = { from = [\"有效\", \"ok\"], type = \"bool\", nullable = true }
";

/// Connectors of the given format (UTF-8, and `auto`), written once per process.
fn connector_for<'a>(cell: &'a OnceLock<(Connector, Connector)>, format: &str) -> &'a (Connector, Connector) {
    cell.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("searchlight-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let load = |encoding: &str| {
            let path = dir.join(format!("{format}-{encoding}.toml"));
            let toml = format!(
                "name = \"fuzz\"\ntitle = \"fuzz\"\ndomain = \"test\"\ncustom = true\nlocation = \"fuzz\"\n[format]\ntype = \"{format}\"\n{}\n[columns]\n{COLUMNS}",
                if format == "xlsx" { String::new() } else { format!("encoding = \"{encoding}\"\n") }
            );
            std::fs::write(&path, toml).expect("write connector");
            connector::load(&path, crate::schema::Schema::bundled()).expect("the fuzz connector loads")
        };
        (load("utf-8"), load("auto"))
    })
}

fn text_export(pair: &(Connector, Connector), header: &[u8], data: &[u8]) {
    let (Some(&chunk), Some(&block), Some(&enc)) = (data.first(), data.get(1), data.get(2)) else { return };
    let conn = if enc % 2 == 0 { &pair.0 } else { &pair.1 };
    let file = [header, &data[3..]].concat();
    let whole = conn.land_bytes("fuzz", &file, u64::MAX, file.len().max(1));
    let cut = conn.land_bytes("fuzz", &file, 1 + chunk as u64 % 64, 1 + block as usize % 97);
    match (whole, cut) {
        (Ok(w), Ok(c)) => assert_eq!(summary(&w), summary(&c), "chunked landing differs from whole"),
        (Err(_), Err(_)) => {}
        (w, c) => {
            // a decode error is about the bytes, wherever the cut: both or neither
            let (w, c) = (w.map(|_| ()).map_err(|e| e.to_string()), c.map(|_| ()).map_err(|e| e.to_string()));
            panic!("whole {w:?} but chunked {c:?}")
        }
    }
}

/// What landed, independent of how it was cut: rows with their lines, every issue, and the
/// rows read and filtered in all.
pub fn summary(splits: &[Vec<connector::convert::Landing>]) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut out = Vec::new();
    let (mut read, mut filtered) = (0, 0);
    let fo = FormatOptions::default();
    for l in splits.iter().flatten() {
        let fmts: Vec<_> =
            l.batch.columns().iter().filter_map(|c| ArrayFormatter::try_new(c.as_ref(), &fo).ok()).collect();
        for r in 0..l.batch.num_rows() {
            let row: Vec<String> = fmts.iter().map(|f| f.value(r).to_string()).collect();
            out.push(format!("row {} {}", l.lines[r], row.join("|")));
        }
        for i in l.rejected.iter().chain(&l.flagged) {
            out.push(format!("issue {} {} {} {:?}", i.line, i.column, i.code, i.raw));
        }
        read += l.rows_read;
        filtered += l.filtered;
    }
    out.sort();
    out.push(format!("read {read} filtered {filtered}"));
    out
}
