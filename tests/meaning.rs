//! Values that would silently change meaning on landing: a typo read as an Excel serial, a
//! unit applied to a header that names another, merged cells, formula errors, nested JSON, a
//! full-width delimiter, an Excel-truncated ID that happens to pass its check digit.

use searchlight::connector;
use searchlight::schema::Schema;

use crate::util::{TestProject, issue_rows};

fn csv_connector(name: &str, location: &str, columns: &str) -> String {
    format!(
        "name = \"{name}\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nmax_quarantine = 1\nlocation = \"{location}\"\n[format]\ntype = \"csv\"\n[columns]\n{columns}"
    )
}

#[tokio::test]
async fn five_digit_text_is_no_date_unless_the_connector_says_serials() {
    let p = TestProject::new();
    p.write("data/d.csv", "单号,日期\n1,2024-03-05\n2,20243\n3,45356\n");
    let c = p.connector(
        "d",
        &csv_connector(
            "d",
            "data/d.csv",
            "no = { from = \"单号\", type = \"int\" }\nday = { from = \"日期\", type = \"date\" }\n",
        ),
    );
    p.ingest(&c).await.unwrap();
    assert_eq!(p.rows("select no, day from d order by no").await, vec!["1|2024-03-05"]);
    let q = issue_rows(&p, "d", "quarantine.parquet", "line, raw, code").await;
    assert_eq!(q, vec!["3|20243|bad_date", "4|45356|bad_date"], "a typo is not 1955-06-03");
    let c = p.connector("d", &csv_connector("d", "data/d.csv", "no = { from = \"单号\", type = \"int\" }\nday = { from = \"日期\", type = \"date\", formats = [\"excel_serial\"] }\n"));
    p.ingest(&c).await.unwrap();
    assert_eq!(p.rows("select no, day from d order by no").await, vec!["1|2024-03-05", "2|1955-06-03", "3|2024-03-05"]);
}

#[tokio::test]
async fn each_header_is_read_in_the_unit_it_names() {
    let p = TestProject::new();
    p.write("data/a.csv", "单号,金额(万元)\nA1,1.5\n");
    p.write("data/b.csv", "单号,金额(元)\nB1,15000\n");
    let cols = "no = { from = \"单号\", type = \"text\" }\namount = { from = [\"金额(万元)\", \"金额(元)\"], type = \"money\" }\n";
    let c = p.connector("pay", &csv_connector("pay", "data/*.csv", cols));
    p.ingest(&c).await.unwrap();
    assert_eq!(p.rows("select no, amount from pay order by no").await, vec!["A1|15000.00", "B1|15000.00"]);
    // a declared unit that a header contradicts is refused when the connector loads
    p.write(
        "connectors/pay.toml",
        csv_connector("pay", "data/*.csv", &cols.replace("type = \"money\" }", "type = \"money\", unit = \"万元\" }")),
    );
    let e = connector::load(&p.path("connectors/pay.toml"), Schema::bundled()).unwrap_err().to_string();
    assert!(e.contains("pay.toml:") && e.contains("`金额(元)` names 元 but `unit = \"万元\"`"), "{e}");
    // and a unit the header agrees with is fine
    p.write("connectors/pay.toml", csv_connector("pay", "data/a.csv", "no = { from = \"单号\", type = \"text\" }\namount = { from = \"金额(万元)\", type = \"money\", unit = \"万元\" }\n"));
    assert!(connector::load(&p.path("connectors/pay.toml"), Schema::bundled()).is_ok());
}

#[tokio::test]
async fn merged_cells_fill_their_region_and_formula_errors_are_quarantined() {
    use rust_xlsxwriter::{Format, Workbook};
    let p = TestProject::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["单位名称", "姓名", "金额"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // 县教育局 merged over three rows, as hand-made summary sheets do
    ws.merge_range(1, 0, 3, 0, "县教育局", &Format::new()).unwrap();
    ws.write_string(4, 0, "县民政局").unwrap();
    for (r, (name, amount)) in [("甲", "100"), ("乙", "200"), ("丙", "#N/A"), ("丁", "400")].iter().enumerate() {
        ws.write_string(r as u32 + 1, 1, *name).unwrap();
        ws.write_string(r as u32 + 1, 2, *amount).unwrap();
    }
    wb.save(p.path("data/u.xlsx")).unwrap();
    let toml = "name = \"u\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nmax_quarantine = 1\nlocation = \"data/u.xlsx\"\n[format]\ntype = \"xlsx\"\n[columns]\nunit = { from = \"单位名称\", type = \"text\" }\nwho = { from = \"姓名\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n";
    let c = p.connector("u", toml);
    p.ingest(&c).await.unwrap();
    assert_eq!(
        p.rows("select who, unit, amount from u order by who").await,
        vec!["丁|县民政局|400.00", "乙|县教育局|200.00", "甲|县教育局|100.00"]
    );
    let q = issue_rows(&p, "u", "quarantine.parquet", "line, raw, code").await;
    assert_eq!(q, vec!["4|#N/A|formula_error"], "丙's amount is a failed formula, not a value");
    // in a CSV an exported error lands nowhere either, text and ID columns included
    p.write(
        "data/e.csv",
        "姓名,备注,身份证号\n甲,#REF!,34052419800101001X\n乙,正常,34052419800101001X\n丙,正常,#N/A\n",
    );
    let cols = "who = { from = \"姓名\", type = \"text\" }\nnote = { from = \"备注\", type = \"text\" }\nid_no = { from = \"身份证号\", type = \"id_card\" }\n";
    let c = p.connector("e", &csv_connector("e", "data/e.csv", cols));
    p.ingest(&c).await.unwrap();
    assert_eq!(p.rows("select who, note from e").await, vec!["乙|正常"]);
    let q = issue_rows(&p, "e", "quarantine.parquet", "line, raw, code").await;
    assert_eq!(q, vec!["2|#REF!|formula_error", "4|#N/A|formula_error"], "an ID column's #N/A too");
}

#[tokio::test]
async fn nested_json_lands_as_its_text_never_as_null() {
    let p = TestProject::new();
    p.write("data/n.ndjson", "{\"单号\":\"1\",\"标签\":[\"低保\",\"特困\"],\"附加\":{\"来源\":\"民政\"},\"金额\":[1,2]}\n{\"单号\":\"2\",\"标签\":\"低保\",\"金额\":5}\n");
    let toml = "name = \"n\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nmax_quarantine = 1\nlocation = \"data/n.ndjson\"\n[format]\ntype = \"ndjson\"\n[columns]\nno = { from = \"单号\", type = \"text\" }\ntags = { from = \"标签\", type = \"text\" }\nextra = { from = \"附加\", type = \"text\", nullable = true }\namount = { from = \"金额\", type = \"money\" }\n";
    let c = p.connector("n", toml);
    p.ingest(&c).await.unwrap();
    assert_eq!(p.rows("select no, tags, extra, amount from n order by no").await, vec!["2|低保||5.00"]);
    let q = issue_rows(&p, "n", "quarantine.parquet", "line, raw, code").await;
    assert_eq!(q, vec!["1|[1,2]|bad_amount"], "an array is no amount");
    p.write("data/n.ndjson", "{\"单号\":\"1\",\"标签\":[\"低保\",\"特困\"],\"附加\":{\"来源\":\"民政\"},\"金额\":1}\n");
    p.ingest(&c).await.unwrap();
    assert_eq!(p.rows("select tags, extra from n").await, vec!["[\"低保\",\"特困\"]|{\"来源\":\"民政\"}"]);
}

#[test]
fn a_delimiter_outside_ascii_is_an_error() {
    let p = TestProject::new();
    let toml = csv_connector("d", "data/d.csv", "no = { from = \"单号\", type = \"text\" }\n")
        .replace("type = \"csv\"", "type = \"csv\"\ndelimiter = \"，\"");
    p.write("connectors/d.toml", toml);
    let e = connector::load(&p.path("connectors/d.toml"), Schema::bundled()).unwrap_err().to_string();
    assert!(e.contains("d.toml:") && e.contains("delimiter `，` is not an ASCII character"), "{e}");
}

/// A valid ID that ends in 000: what one in eleven Excel-truncated IDs looks like.
fn valid_id_ending_000() -> String {
    for day in 1..=28 {
        for seq in 0..10 {
            let first17 = format!("3405241980{:02}{:02}{seq}00", 1 + day % 12, day);
            if searchlight::codes::id_card::check_char(first17.as_bytes()) == Some(b'0') {
                return format!("{first17}0");
            }
        }
    }
    unreachable!("some date gives check character 0")
}

#[tokio::test]
async fn an_id_ending_000_is_flagged_where_the_file_shows_truncation() {
    let suspect = valid_id_ending_000();
    assert!(searchlight::codes::id_card::is_valid(&suspect));
    let p = TestProject::new();
    let cols = "name = { from = \"姓名\", type = \"text\" }\nid_no = { from = \"身份证号\", type = \"id_card\" }\n";
    // this file shows Excel's damage elsewhere: an ID in scientific notation
    p.write("data/bad.csv", format!("姓名,身份证号\n甲,{suspect}\n乙,3.40524E+17\n丙,34052419800101001X\n"));
    let c = p.connector("bad", &csv_connector("bad", "data/bad.csv", cols));
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    let f = issue_rows(&p, "bad", "flags.parquet", "line, raw, code").await;
    assert!(f.contains(&format!("2|{suspect}|possibly_truncated")), "{f:?}");
    assert_eq!(m.possibly_truncated.get("id_no"), Some(&1), "{m:?}");
    // the same ID in a file without damage is an ID like any other
    p.write("data/good.csv", format!("姓名,身份证号\n甲,{suspect}\n丙,34052419800101001X\n"));
    let c = p.connector("good", &csv_connector("good", "data/good.csv", cols));
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert!(m.possibly_truncated.is_empty() && !m.flags.contains_key("possibly_truncated"), "{m:?}");
    // and the verdict does not depend on how the file was split for landing
    let c = p.connector("bad", &csv_connector("bad", "data/bad.csv", cols));
    let o = searchlight::lake::IngestOptions { chunk_bytes: 1, force: true, ..crate::util::opts() };
    let m = p.ingest_with(&c, &o).await.unwrap().manifest().clone();
    assert_eq!(m.possibly_truncated.get("id_no"), Some(&1), "split line by line: {m:?}");
}
