//! Connectors: every format, encoding, unit and date shape; bad input named by file and line.

use crate::util::{TestProject, issue_rows};
use searchlight::connector::{self, Error};

const RELIEF: &str = r#"
name = "relief"
title = "低保发放"
domain = "relief"
custom = true
# a small export with many bad rows, on purpose
max_quarantine = 1
location = "data/relief.csv"
key = ["seq"]
[format]
type = "csv"
encoding = "gbk"
header_row = 2
[columns]
seq = { from = "序号", type = "int" }
name = { from = "户主姓名", type = "text" }
id_no = { from = ["身份证号", "身份证号码"], type = "id_card" }
amount = { from = "金额(万元)", type = "money", unit = "万元" }
pay_date = { from = "发放日期", type = "date", formats = ["excel_serial"] }
region = { from = "行政区划", type = "region_code" }
"#;

fn relief_csv() -> String {
    [
        "某县2024年低保发放明细表",
        "序号,户主姓名,身份证号码,金额(万元),发放日期,行政区划",
        "1, 张三 ,34052419800101001x,0.05,2024/3/5,340524101001",
        "2,李四,340524198001010013,0.0512,2024年3月5日,340524101001",
        "3,王五,370802940221002,0.06,20240305,340524101002",
        "4,赵六,3.40524E+17,1.2345,45356,340524101002",
        "5,钱七,34052419800101001X,待核,2024-03-05,340524101003",
        "6,孙八,,0.05,2024-13-05,340524101003",
        "7,\"周,九\",34052419800101001X,0.05,2024-03-05,340524101003",
        "8,吴十,34052419800101001X,0.05",
        "合计,,,1.5,,",
    ]
    .join("\r\n")
        + "\r\n"
}

#[tokio::test]
async fn gbk_csv_lands_with_units_dates_ids_and_quarantine() {
    let p = TestProject::new();
    p.gbk("data/relief.csv", &relief_csv());
    let c = p.connector("relief", RELIEF);
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(m.sources[0].encoding.as_deref(), Some("gbk"));
    assert_eq!((m.rows_read, m.rows, m.rows_quarantined), (9, 5, 4), "nothing is dropped: read = landed + quarantined");
    let rows = p.rows("select seq, name, id_no, id_no_valid, amount, pay_date, region from relief order by seq").await;
    assert_eq!(
        rows,
        vec![
            "1|张三|34052419800101001X|true|500.00|2024-03-05|340524101001",
            "2|李四|340524198001010013|false|512.00|2024-03-05|340524101001",
            "3|王五|370802199402210029|true|600.00|2024-03-05|340524101002",
            "4|赵六|||12345.00|2024-03-05|340524101002",
            "7|周,九|34052419800101001X|true|500.00|2024-03-05|340524101003",
        ]
    );
    let q = issue_rows(&p, "relief", "quarantine.parquet", "line, \"column\", raw, code").await;
    assert_eq!(
        q,
        vec![
            "7|amount(金额(万元))|待核|bad_amount",
            "8|pay_date(发放日期)|2024-13-05|bad_date",
            "10|*||field_count",
            "11|*|合计|totals_row",
        ]
    );
    let records = issue_rows(&p, "relief", "quarantine.parquet", "record").await;
    assert_eq!(records[0], "5,钱七,34052419800101001X,待核,2024-03-05,340524101003", "the whole raw record is kept");
    let f = issue_rows(&p, "relief", "flags.parquet", "line, raw, code").await;
    assert_eq!(
        f,
        vec!["4|340524198001010013|checksum", "5|370802940221002|upgraded_15", "6|3.40524E+17|precision_lost"]
    );
}

#[tokio::test]
async fn encodings_auto_detect_and_gb18030() {
    let p = TestProject::new();
    let text = "姓名,金额\n张三,1\n李四,2\n";
    p.gbk("data/gbk.csv", text);
    p.write("data/utf8.csv", text);
    p.write("data/bom.csv", [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat());
    let (gb, _, _) = encoding_rs::GB18030.encode("姓名,金额\n𠀀家,1\n");
    p.write("data/gb18030.csv", gb);
    for (file, enc, want) in [
        ("gbk", "auto", "gb18030"),
        ("utf8", "auto", "utf-8"),
        ("bom", "auto", "utf-8"),
        ("gb18030", "gb18030", "gb18030"),
    ] {
        let toml = format!(
            "name = \"t_{file}\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/{file}.csv\"\n[format]\ntype = \"csv\"\nencoding = \"{enc}\"\n[columns]\nname = {{ from = \"姓名\", type = \"text\" }}\namount = {{ from = \"金额\", type = \"money\" }}\n"
        );
        let c = p.connector(&format!("t_{file}"), &toml);
        let m = p.ingest(&c).await.unwrap().manifest().clone();
        assert_eq!(m.sources[0].encoding.as_deref(), Some(want), "{file}");
        let names = p.rows(&format!("select name from t_{file} order by amount")).await;
        assert_eq!(names[0], if file == "gb18030" { "𠀀家" } else { "张三" }, "{file}");
    }
}

#[tokio::test]
async fn bytes_that_do_not_decode_are_an_error_naming_file_and_line() {
    let p = TestProject::new();
    let toml = "name = \"t\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/t.csv\"\n[format]\ntype = \"csv\"\nencoding = \"utf-8\"\n[columns]\nname = { from = \"name\", type = \"text\" }\n";
    let c = p.connector("t", toml);
    p.write("data/t.csv", "name\nok\n");
    p.ingest(&c).await.unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode("name\nok\n张三\n");
    p.write("data/t.csv", gbk);
    let err = p.ingest(&c).await.unwrap_err().to_string();
    assert!(err.contains("data/t.csv:3:") && err.contains("do not decode as utf-8"), "{err}");
    // the previous snapshot stays current and intact
    let m = p.lake().current("t").await.unwrap().unwrap();
    assert_eq!((m.snapshot.as_str(), m.rows), ("v000001", 1));
    assert_eq!(p.rows("select name from t").await, vec!["ok"]);
}

#[tokio::test]
async fn missing_mapped_column_and_missing_file_are_clear_errors() {
    let p = TestProject::new();
    p.gbk("data/relief.csv", &relief_csv().replace("金额(万元)", "金额（元）"));
    let c = p.connector("relief", RELIEF);
    let err = p.ingest(&c).await.unwrap_err().to_string();
    assert!(err.contains("data/relief.csv:2:"), "names the header line: {err}");
    assert!(
        err.contains("`amount`") && err.contains("金额(万元)") && err.contains("did you mean `金额（元）`"),
        "{err}"
    );
    assert!(p.lake().current("relief").await.unwrap().is_none(), "nothing became current");
    std::fs::remove_file(p.path("data/relief.csv")).unwrap();
    let err = p.ingest(&c).await.unwrap_err().to_string();
    assert!(err.contains("data/relief.csv") && err.contains("file not found"), "{err}");
}

#[tokio::test]
async fn connector_spec_errors_point_at_line_and_column() {
    let p = TestProject::new();
    let path = p.path("connectors/bad.toml");
    std::fs::write(&path, "name = \"bad\"\ntitle = \"t\"\ndomain = \"x\"\ncustom = true\nlocation = \"a.csv\"\n[format]\ntype = \"csv\"\nencodng = \"gbk\"\n[columns]\na = { from = \"a\", type = \"text\" }\n").unwrap();
    let err = connector::load(&path, searchlight::schema::Schema::bundled()).unwrap_err();
    assert!(matches!(err, Error::Spec { line: 8, .. }), "{err}");
    assert!(err.to_string().contains("encodng"), "{err}");
    std::fs::write(&path, "name = \"bad\"\ntitle = \"t\"\ndomain = \"x\"\ncustom = true\nlocation = \"a.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"a\", type = \"money\", unit = \"美元\" }\n").unwrap();
    let err = connector::load(&path, searchlight::schema::Schema::bundled()).unwrap_err().to_string();
    assert!(err.contains("bad.toml:9:") && err.contains("unknown money unit"), "{err}");
    std::fs::write(&path, "name = \"bad\"\ntitle = \"t\"\ndomain = \"x\"\ncustom = true\nlocation = \"a.csv\"\nkey = [\"id\"]\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"a\", type = \"decimal\" }\n").unwrap();
    let err = connector::load(&path, searchlight::schema::Schema::bundled()).unwrap_err().to_string();
    assert!(err.contains("bad.toml:10:") && err.contains("decimal"), "{err}");
}

#[tokio::test]
async fn chunked_parse_equals_single_chunk_even_with_quoted_newlines() {
    let p = TestProject::new();
    let mut text = String::from("id,note,amount\n");
    for i in 0..3000 {
        if i % 97 == 0 {
            text.push_str(&format!("{i},\"多行\n备注,含逗号\",{i}.5\n"));
        } else if i % 501 == 0 {
            text.push_str(&format!("{i},坏金额,abc\n"));
        } else {
            text.push_str(&format!("{i},备注{i},{i}.25\n"));
        }
    }
    p.gbk("data/big.csv", &text);
    let toml = "name = \"big\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/big.csv\"\nkey = [\"id\"]\n[format]\ntype = \"csv\"\nencoding = \"gbk\"\n[columns]\nid = { from = \"id\", type = \"int\" }\nnote = { from = \"note\", type = \"text\" }\namount = { from = \"amount\", type = \"money\" }\n";
    let c = p.connector("big", toml);
    let whole = p.ingest(&c).await.unwrap().manifest().clone();
    let all = p.rows("select id, note, amount from big order by id").await;
    let q1 = issue_rows(&p, "big", "quarantine.parquet", "line, raw").await;
    let mut small = crate::util::opts();
    small.chunk_bytes = 1024;
    small.force = true;
    let chunked = p.ingest_with(&c, &small).await.unwrap().manifest().clone();
    assert!(
        chunked.parts.len() > 20 && whole.parts.len() == 1,
        "{} vs {} parts",
        chunked.parts.len(),
        whole.parts.len()
    );
    assert_eq!(p.rows("select id, note, amount from big order by id").await, all);
    assert_eq!(issue_rows(&p, "big", "quarantine.parquet", "line, raw").await, q1);
    // line of record i: header line 1, one extra physical line per earlier multi-line note
    let line = |i: usize| 2 + i + (0..i).filter(|j| j % 97 == 0).count();
    let want: Vec<String> =
        (1..3000).filter(|i| i % 501 == 0 && i % 97 != 0).map(|i| format!("{}|abc", line(i))).collect();
    assert_eq!(q1, want);
    assert_eq!(all.iter().find(|r| r.starts_with("97|")).unwrap(), "97|多行\n备注,含逗号|97.50");
}

fn workbook(path: &std::path::Path) {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (sheet, offset) in [("城关镇", 0), ("河口镇", 10)] {
        let ws = wb.add_worksheet();
        ws.set_name(sheet).unwrap();
        ws.write_string(0, 0, format!("{sheet}发放表")).unwrap();
        for (c, h) in ["身份证号", "金额(万元)", "发放日期", "发放月份"].iter().enumerate() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        // 15-digit legacy ID stored as a number: exact; 18-digit as a number: digits lost
        ws.write_number(2, 0, 370802940221002.0).unwrap();
        ws.write_number(3, 0, 340524198001010000.0).unwrap();
        ws.write_string(4, 0, "34052419800101001X").unwrap();
        for r in 2..5u32 {
            ws.write_number(r, 1, 0.0512 + offset as f64).unwrap();
            ws.write_number_with_format(r, 2, 45356.0, &date).unwrap();
            ws.write_number(r, 3, 202403.0).unwrap();
        }
        ws.write_string(5, 0, "小计").unwrap();
        ws.write_number(5, 1, 0.15).unwrap();
    }
    wb.save(path).unwrap();
}

#[tokio::test]
async fn xlsx_sheets_numeric_ids_excel_dates_and_wan_yuan() {
    let p = TestProject::new();
    workbook(&p.path("data/pay.xlsx"));
    let toml = r#"
name = "pay"
title = "t"
domain = "test"
custom = true
location = "data/*.xlsx"
[format]
type = "xlsx"
sheets = ["*"]
header_row = 2
[columns]
town = { from = "$sheet", type = "text" }
id_no = { from = "身份证号", type = "id_card" }
amount = { from = "金额(万元)", type = "money", unit = "万元" }
pay_date = { from = "发放日期", type = "date" }
month = { from = "发放月份", type = "month" }
"#;
    let c = p.connector("pay", toml);
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((m.rows, m.rows_quarantined), (6, 2));
    let rows = p.rows("select town, id_no, id_no_valid, amount, pay_date, month from pay order by town, id_no").await;
    assert_eq!(
        rows,
        vec![
            "城关镇|34052419800101001X|true|512.00|2024-03-05|2024-03-01",
            "城关镇|370802199402210029|true|512.00|2024-03-05|2024-03-01",
            "城关镇|||512.00|2024-03-05|2024-03-01",
            "河口镇|34052419800101001X|true|100512.00|2024-03-05|2024-03-01",
            "河口镇|370802199402210029|true|100512.00|2024-03-05|2024-03-01",
            "河口镇|||100512.00|2024-03-05|2024-03-01",
        ]
    );
    let f = issue_rows(&p, "pay", "flags.parquet", "sheet, line, code").await;
    assert_eq!(
        f,
        vec![
            "城关镇|3|restored_from_number",
            "河口镇|3|restored_from_number",
            "城关镇|4|precision_lost",
            "河口镇|4|precision_lost"
        ]
    );
    let q = issue_rows(&p, "pay", "quarantine.parquet", "sheet, line, code").await;
    assert_eq!(q, vec!["城关镇|6|totals_row", "河口镇|6|totals_row"]);
}

#[tokio::test]
async fn ndjson_nested_keys_numbers_and_broken_lines() {
    let p = TestProject::new();
    p.write(
        "data/a.ndjson",
        concat!(
            "{\"单号\":\"A1\",\"收款人\":{\"名称\":\"某公司\",\"代码\":\"91350200776049653A\"},\"金额\":1234.5,\"时间\":\"2025-03-05 08:30:00\",\"身份证\":340524198001010013}\n",
            "{\"单号\":\"A2\",\"收款人\":{\"名称\":\"另一公司\"},\"金额\":\"1,000\",\"时间\":\"2025/3/6 9:15\"}\n",
            "not json\n",
            "\n",
            "{\"单号\":\"A3\",\"金额\":null,\"时间\":\"20250307101500\"}\n"
        ),
    );
    let toml = r#"
name = "nd"
title = "t"
domain = "test"
custom = true
max_quarantine = 1
location = "data/a.ndjson"
key = ["no"]
[format]
type = "ndjson"
[columns]
no = { from = "单号", type = "text" }
payee = { from = "收款人.名称", type = "text" }
payee_uscc = { from = "收款人.代码", type = "uscc" }
amount = { from = "金额", type = "money" }
at = { from = "时间", type = "timestamp" }
id_no = { from = "身份证", type = "id_card" }
"#;
    let c = p.connector("nd", toml);
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((m.rows_read, m.rows, m.rows_quarantined), (4, 3, 1));
    let rows = p
        .rows("select no, payee, payee_uscc, payee_uscc_valid, amount, at, id_no, id_no_valid from nd order by no")
        .await;
    assert_eq!(
        rows,
        vec![
            "A1|某公司|91350200776049653A|true|1234.50|2025-03-05T08:30:00|340524198001010013|false",
            "A2|另一公司|||1000.00|2025-03-06T09:15:00||",
            "A3|||||2025-03-07T10:15:00||",
        ]
    );
    let q = issue_rows(&p, "nd", "quarantine.parquet", "line, code, record").await;
    assert_eq!(q, vec!["3|bad_json|not json"]);
}

#[tokio::test]
async fn parquet_sources_keep_numbers_and_read_text() {
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let p = TestProject::new();
    let schema = Arc::new(Schema::new(vec![
        Field::new("身份证号", DataType::Int64, true),
        Field::new("死亡日期", DataType::Utf8, true),
        Field::new("金额", DataType::Float64, true),
    ]));
    let batch = datafusion::arrow::record_batch::RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![Some(340524198001010013), Some(370802940221002), None])),
            Arc::new(StringArray::from(vec![Some("2024-02-01"), Some("2024年2月3日"), Some("坏日期")])),
            Arc::new(Float64Array::from(vec![Some(1.5), Some(2.25), Some(3.0)])),
        ],
    )
    .unwrap();
    let buf = searchlight::lake::parts::encode(&schema, &[batch]).unwrap();
    p.write("data/d.parquet", buf);
    let toml = "name = \"pq\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nmax_quarantine = 1\nlocation = \"data/d.parquet\"\n[format]\ntype = \"parquet\"\n[columns]\nid_no = { from = \"身份证号\", type = \"id_card\" }\ndied = { from = \"死亡日期\", type = \"date\" }\namount = { from = \"金额\", type = \"money\", unit = \"万元\" }\n";
    let c = p.connector("pq", toml);
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((m.rows, m.rows_quarantined), (2, 1));
    assert_eq!(
        p.rows("select id_no, died, amount from pq order by died").await,
        vec!["340524198001010013|2024-02-01|15000.00", "370802199402210029|2024-02-03|22500.00"]
    );
}

/// A civil-affairs 低保 roster as many systems print it: a title row, a two-row header with
/// groups merged over their columns (户主信息 over 姓名 / 身份证号 …, 发放金额 over 1月 … 12月),
/// the category as a code explained on another sheet, one sheet per year named by the year.
fn wide_roster(path: &std::path::Path, year: u32, rows: &[(&str, &str, &str, u32, [&str; 12])]) {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let merged = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name(format!("{year}年度")).unwrap();
    ws.merge_range(0, 0, 0, 17, &format!("清河县{year}年城乡低保发放花名册"), &merged).unwrap();
    ws.merge_range(1, 0, 2, 0, "序号", &merged).unwrap();
    ws.merge_range(1, 1, 1, 4, "户主信息", &merged).unwrap();
    ws.merge_range(1, 5, 2, 5, "保障类别", &merged).unwrap();
    ws.merge_range(1, 6, 1, 17, "发放金额(元)", &merged).unwrap();
    for (c, h) in ["姓名", "身份证号", "家庭编号", "所在村"].iter().enumerate() {
        ws.write_string(2, 1 + c as u16, *h).unwrap();
    }
    for m in 1..=12u16 {
        ws.write_string(2, 5 + m, format!("{m}月")).unwrap();
    }
    for (i, (name, id, hh, code, months)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_number(r, 0, (i + 1) as f64).unwrap();
        ws.write_string(r, 1, *name).unwrap();
        ws.write_string(r, 2, *id).unwrap();
        ws.write_string(r, 3, *hh).unwrap();
        ws.write_string(r, 4, "前进村").unwrap();
        ws.write_number(r, 5, *code as f64).unwrap();
        for (m, v) in months.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, 6 + m as u16, *v).unwrap();
            }
        }
    }
    let codes = wb.add_worksheet();
    codes.set_name("代码说明").unwrap();
    for (r, (c, w)) in [("代码", "含义"), ("1", "城市低保"), ("2", "农村低保"), ("3", "特困供养")].iter().enumerate()
    {
        codes.write_string(r as u32, 0, *c).unwrap();
        codes.write_string(r as u32, 1, *w).unwrap();
    }
    wb.save(path).unwrap();
}

#[tokio::test]
async fn a_wide_roster_with_a_two_row_header_and_a_code_sheet_lands_a_row_per_month_paid() {
    let p = TestProject::new();
    let full = ["520", "520", "520", "520", "520", "520", "520", "520", "520", "520", "520", "1,040.00"];
    let mut part = ["", "", "", "", "", "", "", "", "", "", "", ""];
    part[..3].copy_from_slice(&["580", "0", "—"]);
    wide_roster(
        &p.path("data/2024年低保.xlsx"),
        2024,
        &[("黄磊辉", "340524194112207458", "DB1", 2, full), ("周文", "340524198301117484", "DB2", 1, part)],
    );
    wide_roster(&p.path("data/2025年低保.xlsx"), 2025, &[("黄磊辉", "340524194112207458", "DB1", 2, full)]);
    let toml = r#"
location = "data/*低保.xlsx"
[format]
type = "xlsx"
sheets = ["*年度"]
header_row = 2
header_rows = 2

[unpivot]
columns = '^(\d{1,2})月$'
into = "pay_month"
value = "amount"
year = "$sheet"

[[dataset]]
name = "relief_payments"
[dataset.columns]
household_id = { from = "户主信息/家庭编号" }
head_name = { from = "户主信息/姓名" }
head_id = { from = "身份证号" }
town = { from = "所在村" }
pay_month = {}
amount = {}

[[dataset]]
name = "relief_households"
[dataset.columns]
household_id = { from = "家庭编号" }
head_name = { from = "姓名" }
head_id = { from = "身份证号" }
category = { from = "保障类别", values = { sheet = "代码说明" } }
"#;
    let c = p.connector("relief", toml);
    let landed = p.ingest(&c).await.unwrap();
    let _ = landed;
    let pay = p.lake().current("relief_payments").await.unwrap().unwrap();
    // 12 + 12 months paid for 黄磊辉, 1 for 周文 (0 and — are no payment); nothing set aside
    assert_eq!((pay.rows, pay.rows_quarantined, pay.rows_read), (25, 0, 25), "{pay:?}");
    let count = pay.unpivot.unwrap();
    assert_eq!((count.rows, count.cells), (3, 25));
    let rows = p
        .rows("select household_id, head_id, pay_month, amount from relief_payments order by pay_month, household_id")
        .await;
    assert_eq!(rows[0], "DB1|340524194112207458|2024-01-01|520.00");
    assert_eq!(rows[1], "DB2|340524198301117484|2024-01-01|580.00");
    assert!(rows.contains(&"DB1|340524194112207458|2025-12-01|1040.00".to_string()), "{rows:?}");
    // the households land once each, their category read through the code sheet
    let hh = p.rows("select household_id, category from relief_households order by household_id").await;
    assert_eq!(hh, vec!["DB1|农村低保", "DB2|城市低保"]);
}

#[tokio::test]
async fn a_repeated_header_name_must_name_its_group_and_null_words_are_counted() {
    use rust_xlsxwriter::{Format, Workbook};
    let p = TestProject::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 1, "村干部", &f).unwrap();
    ws.merge_range(0, 2, 0, 3, "近亲属", &f).unwrap();
    ws.merge_range(0, 4, 1, 4, "开工日期", &f).unwrap();
    for (c, h) in ["姓名", "身份证号", "姓名", "身份证号"].iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    // the official written once over his relatives' rows, merged down
    ws.merge_range(2, 0, 3, 0, "孙立", &f).unwrap();
    ws.merge_range(2, 1, 3, 1, "340524197001010010", &f).unwrap();
    for (r, (n, id, d)) in
        [("孙小立", "340524198001010011", "2024-03-01"), ("孙二", "340524198202020022", "未开工")].iter().enumerate()
    {
        ws.write_string(2 + r as u32, 2, *n).unwrap();
        ws.write_string(2 + r as u32, 3, *id).unwrap();
        ws.write_string(2 + r as u32, 4, *d).unwrap();
    }
    wb.save(p.path("data/kin.xlsx")).unwrap();
    let toml = |name_from: &str| {
        format!(
            r#"
name = "kin"
title = "t"
domain = "test"
custom = true
location = "data/kin.xlsx"
[format]
type = "xlsx"
header_rows = 2
[columns]
official = {{ from = "村干部/姓名", type = "text" }}
official_id = {{ from = "$B", type = "id_card" }}
relative = {{ from = "{name_from}", type = "text" }}
relative_id = {{ from = "近亲属/身份证号", type = "id_card" }}
started = {{ from = "开工日期", type = "date", null_words = ["未开工", "无"] }}
"#
        )
    };
    let c = p.connector("kin", &toml("姓名"));
    let e = p.ingest(&c).await.unwrap_err().to_string();
    assert!(e.contains("村干部/姓名") && e.contains("近亲属/姓名") && e.contains("name the group"), "{e}");
    let c = p.connector("kin", &toml("近亲属/姓名"));
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((m.rows, m.rows_quarantined), (2, 0));
    assert_eq!(m.flags.get("null_word"), Some(&1), "{:?}", m.flags);
    let rows = p.rows("select official, official_id, relative, started from kin order by relative_id").await;
    assert_eq!(rows, vec!["孙立|340524197001010010|孙小立|2024-03-01", "孙立|340524197001010010|孙二|"]);
}

#[tokio::test]
async fn a_glob_in_a_folder_named_in_chinese_finds_its_files() {
    let p = TestProject::new();
    p.write("data/民政/低保花名册2024.csv", "姓名,金额\n甲,1\n");
    p.write("data/民政/低保花名册2025.csv", "姓名,金额\n乙,2\n");
    p.write("data/民政/其他.csv", "姓名,金额\n丙,3\n");
    let toml = "name = \"t\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/民政/低保花名册*.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"姓名\", type = \"text\" }\n";
    let c = p.connector("t", toml);
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(m.rows, 2, "{m:?}");
}

#[tokio::test]
async fn a_glob_visits_only_the_folders_its_pattern_names() {
    let p = TestProject::new();
    p.write("data/2024/乡镇甲.csv", "姓名,金额\n甲,1\n");
    p.write("data/2025/乡镇乙.csv", "姓名,金额\n乙,2\n");
    p.write("data/2025/deeper/乡镇丙.csv", "姓名,金额\n丙,3\n");
    p.write("data/2025/说明.txt", "not data");
    // an unrelated symlink loop and an unreadable folder below the pattern's folder
    std::fs::create_dir_all(p.path("data/backup")).unwrap();
    std::os::unix::fs::symlink(p.path("data"), p.path("data/backup/loop")).unwrap();
    std::os::unix::fs::symlink(p.path("data/backup/loop"), p.path("data/backup/loop2")).unwrap();
    std::fs::create_dir_all(p.path("data/locked")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p.path("data/locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let toml = |loc: &str| {
        format!(
            "name = \"t\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"{loc}\"\n[format]\ntype = \"csv\"\n[columns]\nwho = {{ from = \"姓名\", type = \"text\" }}\n"
        )
    };
    // one folder level per `*`
    let c = p.connector("t", &toml("data/20*/*.csv"));
    let m = p.ingest(&c).await.map(|r| r.manifest().clone());
    std::fs::set_permissions(p.path("data/locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let m = m.unwrap();
    assert_eq!(m.rows, 2, "乡镇丙 is a level deeper: {m:?}");
    // `**` is any depth, asked for
    let c = p.connector("t", &toml("data/2025/**/*.csv"));
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(m.rows, 2, "乡镇乙 and 乡镇丙: {m:?}");
}

#[tokio::test]
async fn a_report_in_sections_lands_its_rows_and_sets_aside_repeated_headers_blank_lines_and_footers() {
    let p = TestProject::new();
    p.gbk(
        "data/r.csv",
        "清河县低保发放表\r\n姓名,金额\r\n甲,100\r\n乙,200\r\n\r\n城关镇\r\n姓名,金额\r\n丙,300\r\n合计,600\r\n导出时间：2025-12-31 10:00:00\r\n制表人：张三\r\n",
    );
    let toml = "name = \"r\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/r.csv\"\n[format]\ntype = \"csv\"\nencoding = \"gbk\"\nheader_row = 2\n[columns]\nwho = { from = \"姓名\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n";
    let c = p.connector("r", toml);
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(p.rows("select who from r order by who").await, vec!["丙", "乙", "甲"]);
    // what is no data is set aside as such, and does not count against max_quarantine
    for code in ["header_row", "totals_row", "footer_row"] {
        assert!(m.quarantine.contains_key(code), "{code}: {:?}", m.quarantine);
    }
    assert_eq!(m.quarantine.get("footer_row"), Some(&2), "{:?}", m.quarantine);
    assert_eq!(m.rows_read, m.rows + m.rows_quarantined + m.rows_filtered + m.rows_collapsed, "{m:?}");
}

/// Text as Excel saves "Unicode text": UTF-16 little-endian with a byte-order mark, tab-delimited.
fn utf16(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend(u.to_le_bytes());
    }
    out
}

#[tokio::test]
async fn utf16_text_lands_with_its_lines_and_auto_says_what_to_declare() {
    let p = TestProject::new();
    p.write("data/u.txt", utf16("清河县死亡人员\r\n身份证号\t姓名\t死亡日期\r\n340524194112207458\t黄磊辉\t2024-10-12\r\n340524198301117484\t周文\t无效日期\r\n"));
    let toml = |enc: &str| {
        format!(
            "name = \"u\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/u.txt\"\nmax_quarantine = 0.6\n[format]\ntype = \"csv\"\nencoding = \"{enc}\"\ndelimiter = \"\\t\"\nheader_row = 2\n[columns]\nid_no = {{ from = \"身份证号\", type = \"id_card\" }}\nname = {{ from = \"姓名\", type = \"text\" }}\ndied = {{ from = \"死亡日期\", type = \"date\" }}\n"
        )
    };
    let e = p.ingest(&p.connector("u", &toml("auto"))).await.unwrap_err().to_string();
    assert!(e.contains("UTF-16") && e.contains("encoding = \"utf-16\""), "{e}");
    let m = p.ingest(&p.connector("u", &toml("utf-16"))).await.unwrap().manifest().clone();
    assert_eq!((m.rows_read, m.rows, m.rows_quarantined), (2, 1, 1), "{m:?}");
    assert_eq!(
        p.rows("select id_no, name, died from u order by id_no").await[0],
        "340524194112207458|黄磊辉|2024-10-12"
    );
    // the failed date names the line it is on (4: a title row, the header, one row before it)
    assert_eq!(issue_rows(&p, "u", "quarantine.parquet", "line, raw").await, vec!["4|无效日期"]);
}

#[tokio::test]
async fn a_web_systems_html_table_saved_as_xls_lands_like_a_workbook() {
    let p = TestProject::new();
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\"></head><body>\
        <table><tr><td colspan=3>清河县惠民惠农补贴发放明细</td></tr>\
        <tr><td>身份证号</td><td>姓名</td><td>发放金额</td></tr>\
        <tr><td>340524194112207458</td><td>黄磊辉</td><td>1,200.50</td></tr>\
        <tr><td>340524198301117484</td><td>周&nbsp;文</td><td>&nbsp;</td></tr>\
        <tr><td>合计</td><td></td><td>1,200.50</td></tr></table></body></html>";
    let (bytes, _, _) = encoding_rs::GBK.encode(html);
    p.write("data/补贴.xls", bytes);
    let toml = "name = \"s\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/补贴.xls\"\n[format]\ntype = \"xlsx\"\nheader_row = 2\n[columns]\nid_no = { from = \"身份证号\", type = \"id_card\" }\nname = { from = \"姓名\", type = \"text\" }\namount = { from = \"发放金额\", type = \"money\" }\n";
    let m = p.ingest(&p.connector("s", toml)).await.unwrap().manifest().clone();
    assert_eq!((m.rows, m.quarantine.get("totals_row")), (2, Some(&1)), "{m:?}");
    assert_eq!(
        p.rows("select id_no, name, amount from s order by id_no").await,
        vec!["340524194112207458|黄磊辉|1200.50", "340524198301117484|周 文|"]
    );
}

#[tokio::test]
async fn an_api_dump_lands_its_records_and_their_child_arrays_as_datasets_of_their_own() {
    let p = TestProject::new();
    p.write(
        "data/企业.json",
        r#"{"code": 0, "data": {"total": 2, "list": [
  {"统一社会信用代码": "91340524MA2T000011", "企业名称": "清河县甲公司", "登记状态": "存续",
   "股东": [{"股东名称": "张三", "证件号码": "34052419800101001X", "认缴出资额(万元)": 60},
            {"股东名称": "李四", "证件号码": "340524198202020022", "认缴出资额(万元)": 40}]},
  {"统一社会信用代码": "91340524300079195J", "企业名称": "清河县乙公司", "登记状态": "注销", "股东": []}
]}}"#,
    );
    let toml = r#"
location = "data/企业.json"
[format]
type = "json"
records = "data.list"

[[dataset]]
name = "enterprises"
[dataset.columns]
uscc = { from = "统一社会信用代码" }
name = { from = "企业名称" }
status = { from = "登记状态" }

[[dataset]]
name = "shareholders"
each = "股东"
[dataset.columns]
uscc = { from = "统一社会信用代码" }
holder_name = { from = "股东名称" }
holder_id = { from = "证件号码" }
subscribed = { from = "认缴出资额(万元)" }
"#;
    let c = p.connector("firms", toml);
    p.ingest_all(&c, &crate::util::opts()).await.unwrap();
    assert_eq!(
        p.rows("select uscc, name, status from enterprises order by uscc").await,
        vec!["91340524300079195J|清河县乙公司|注销", "91340524MA2T000011|清河县甲公司|存续"]
    );
    assert_eq!(
        p.rows("select uscc, holder_name, holder_id, subscribed from shareholders order by holder_name").await,
        vec![
            "91340524MA2T000011|张三|34052419800101001X|600000.00",
            "91340524MA2T000011|李四|340524198202020022|400000.00"
        ]
    );
    // a document that is not JSON names its line and column
    p.write("data/企业.json", "{\"data\": [ {\"a\": 1}, \n oops ]}");
    let e = p.ingest_all(&c, &crate::util::opts()).await.unwrap_err().to_string();
    assert!(e.contains("企业.json:2") && e.contains("not a JSON document"), "{e}");
}

/// A legacy Excel 97–2003 workbook (BIFF, written by xlwt, an independent writer: see
/// `tests/data/README.md`): text IDs, an ID typed as a number, real date cells, a title merged
/// over the table, two sheets.
#[tokio::test]
async fn a_legacy_xls_workbook_lands_its_dates_and_text_ids() {
    let p = TestProject::new();
    p.write("data/旧系统.xls", std::fs::read(crate::util::repo().join("tests/data/legacy.xls")).unwrap());
    let toml = "name = \"x\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/旧系统.xls\"\n[format]\ntype = \"xlsx\"\nsheets = [\"*\"]\nheader_row = 2\n[columns]\ntown = { from = \"$sheet\", type = \"text\" }\nid_no = { from = \"身份证号\", type = \"id_card\" }\nname = { from = \"姓名\", type = \"text\" }\npaid = { from = \"发放日期\", type = \"date\" }\namount = { from = \"金额(元)\", type = \"money\" }\n";
    let m = p.ingest(&p.connector("x", toml)).await.unwrap().manifest().clone();
    assert_eq!((m.rows, m.rows_quarantined), (4, 0), "{m:?}");
    assert_eq!(
        p.rows("select town, id_no, id_no_valid, name, paid, amount from x order by town, paid").await,
        vec![
            "城关镇|34052419800101001X|true|张三|2025-03-05|520.50",
            "城关镇|370802199402210029|true|李四|2025-04-01|1040.00",
            "河口镇|34052419800101001X|true|张三|2025-03-05|521.50",
            "河口镇|370802199402210029|true|李四|2025-04-01|1040.00",
        ]
    );
}

#[tokio::test]
async fn a_utf8_file_with_one_bad_line_names_that_line() {
    let p = TestProject::new();
    let mut bytes = "姓名,金额\n甲,1\n乙,2\n丙,3\n".as_bytes().to_vec();
    bytes.extend_from_slice(b"\x84\xff,4\n");
    p.write("data/u.csv", bytes);
    let toml = "name = \"u\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/u.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"姓名\", type = \"text\" }\n";
    let e = p.ingest(&p.connector("u", toml)).await.unwrap_err().to_string();
    assert!(e.contains("u.csv:5:") && e.contains("bytes 84 are not UTF-8"), "{e}");
}

#[tokio::test]
async fn a_password_protected_workbook_says_so() {
    let p = TestProject::new();
    p.write("data/加密.xlsx", std::fs::read(crate::util::repo().join("tests/data/encrypted.xlsx")).unwrap());
    let toml = "name = \"x\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/加密.xlsx\"\n[format]\ntype = \"xlsx\"\n[columns]\nname = { from = \"姓名\", type = \"text\" }\n";
    let e = p.ingest(&p.connector("x", toml)).await.unwrap_err().to_string();
    assert!(e.contains("加密.xlsx") && e.contains("password-protected"), "{e}");
}

#[tokio::test]
async fn fixed_width_text_is_cut_by_a_ruler_or_widths_counted_in_the_files_bytes() {
    let p = TestProject::new();
    // GBK: a Chinese character is two bytes, as the report's columns counted it
    let report = "身份证号           姓名      金额\r\n------------------ --------- --------\r\n34052419800101001X 张三        520.50\r\n340524198202020022 欧阳小明   1,040.00\r\n\r\n";
    p.gbk("data/r.txt", report);
    let toml = |format: &str| {
        format!(
            "name = \"f\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nmax_quarantine = 1\nlocation = \"data/r.txt\"\n[format]\ntype = \"fixed\"\nencoding = \"gbk\"\n{format}\n[columns]\nid_no = {{ from = \"身份证号\", type = \"id_card\" }}\nname = {{ from = \"姓名\", type = \"text\" }}\namount = {{ from = \"金额\", type = \"money\" }}\n"
        )
    };
    p.ingest(&p.connector("f", &toml("ruler = true"))).await.unwrap();
    let want = vec!["34052419800101001X|张三|520.50", "340524198202020022|欧阳小明|1040.00"];
    assert_eq!(p.rows("select id_no, name, amount from f order by id_no").await, want);
    // the same by widths, with the ruler line as the first data line set aside
    p.gbk("data/r.txt", &report.replace("------------------ --------- --------\r\n", ""));
    p.ingest(&p.connector("f", &toml("widths = [19, 10, 8]"))).await.unwrap();
    assert_eq!(p.rows("select id_no, name, amount from f order by id_no").await, want);
    // a row whose text crosses a cut (a name one byte to the right) fails alone, naming its line;
    // a cut that splits the header is an error of the file
    p.gbk(
        "data/r.txt",
        &format!(
            "{}340524198303030033  欧阳小明明明 9.00\r\n",
            report.replace("------------------ --------- --------\r\n", "")
        ),
    );
    let m = p.ingest(&p.connector("f", &toml("widths = [19, 10, 8]"))).await.unwrap().manifest().clone();
    assert_eq!((m.rows, m.rows_quarantined), (2, 1), "{m:?}");
    assert_eq!(issue_rows(&p, "f", "quarantine.parquet", "line, code").await, vec!["5|split_character"]);
    let e = p.ingest(&p.connector("f", &toml("widths = [20, 9, 8]"))).await.unwrap_err().to_string();
    assert!(e.contains("r.txt:1") && e.contains("splits a character"), "{e}");
}

#[tokio::test]
async fn the_members_of_a_zip_archive_land_as_exports_of_their_own() {
    use std::io::Write;
    let p = TestProject::new();
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in [
            ("2025/城关镇.csv", "姓名,金额\n甲,100\n乙,200\n"),
            ("2025/河口镇.csv", "姓名,金额\n丙,300\n"),
            ("说明.txt", "导出说明"),
        ] {
            z.start_file(name, opts).unwrap();
            z.write_all(text.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    p.write("data/导出.zip", buf.into_inner());
    let toml = |members: &str| {
        format!(
            "name = \"z\"\ntitle = \"t\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/导出.zip\"\nmembers = \"{members}\"\n[format]\ntype = \"csv\"\n[columns]\nwho = {{ from = \"姓名\", type = \"text\" }}\namount = {{ from = \"金额\", type = \"money\" }}\ntown = {{ from = \"$file\", type = \"text\" }}\n"
        )
    };
    let m = p.ingest(&p.connector("z", &toml("*.csv"))).await.unwrap().manifest().clone();
    assert_eq!(m.rows, 3);
    assert!(m.sources.iter().any(|s| s.location.ends_with("导出.zip!/2025/城关镇.csv")), "{:?}", m.sources);
    assert_eq!(
        p.rows("select who, town from z order by who").await,
        vec!["丙|河口镇.csv", "乙|城关镇.csv", "甲|城关镇.csv"]
    );
    let e = p.ingest(&p.connector("z", &toml("*.xlsx"))).await.unwrap_err().to_string();
    assert!(e.contains("导出.zip") && e.contains("no member of the archive matches") && e.contains("说明.txt"), "{e}");
}

/// `[database]` declarations are checked when loaded: each mistake named at its line.
#[tokio::test]
async fn database_declarations_are_checked() {
    let p = TestProject::new();
    let base = "name = \"treasury_payments\"\n[database]\nkind = \"postgres\"\nhost = \"127.0.0.1\"\ndatabase = \"czzf\"\nuser_env = \"CZZF_USER\"\n";
    let cols = "\n[columns]\npayment_id = { from = \"zfpzh\" }\n";
    let cases = [
        ("table = \"a\"\nquery = \"SELECT 1\"", "not both", 8),
        ("", "needs a `table`", 2),
        ("table = \"a\"\npassword_env = \"hunter2!\"", "names an environment variable", 8),
        ("table = \"a\"\nca_file = \"ca.pem\"", "verify-full", 8),
        ("table = \"a\"\ntls = \"maybe\"", "unknown variant", 8),
        ("query = \"DELETE FROM a\"", "one SELECT", 7),
        ("table = \"a.b.c\"", "schema.table", 7),
    ];
    for (extra, said, line) in cases {
        let path = p.path("connectors/t.toml");
        std::fs::write(&path, format!("{base}{extra}{cols}")).unwrap();
        let err = connector::load(&path, searchlight::schema::Schema::bundled()).unwrap_err();
        let Error::Spec { line: at, message, .. } = &err else { panic!("{err}") };
        assert!(message.contains(said), "{extra}: {message}");
        assert_eq!(*at, line, "{extra}: {err}");
    }
    // an entity dataset (one record per key) is not read a part at a time
    let path = p.path("connectors/t.toml");
    std::fs::write(
        &path,
        "name = \"enterprises\"\n[database]\nkind = \"mysql\"\nhost = \"h\"\ndatabase = \"d\"\nuser = \"u\"\ntable = \"qy\"\nwatermark = \"gxsj\"\n[columns]\nuscc = { from = \"tyshxydm\" }\nname = { from = \"qymc\" }\n",
    )
    .unwrap();
    let err = connector::load(&path, searchlight::schema::Schema::bundled()).unwrap_err().to_string();
    assert!(err.contains("collapse") && err.contains(":8:"), "{err}");
}

/// A build without the `database` feature says how to get one, naming the connector.
#[cfg(not(feature = "database"))]
#[tokio::test]
async fn a_database_connector_needs_the_database_build() {
    let p = TestProject::new();
    let c = p.connector(
        "czzf",
        "name = \"treasury_payments\"\n[database]\nkind = \"postgres\"\nhost = \"127.0.0.1\"\ndatabase = \"czzf\"\nuser = \"u\"\ntable = \"zf\"\n[columns]\npayment_id = { from = \"zfpzh\" }\n",
    );
    let err = p.ingest(&c).await.unwrap_err().to_string();
    assert!(err.contains("czzf.toml") && err.contains("--features database"), "{err}");
}
