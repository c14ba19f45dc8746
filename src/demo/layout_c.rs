//! The same county in a third layout: the shapes the third trial county's systems printed.
//!
//! Made from layout B's files (B is made from A, row for row, so all three describe the same
//! people, payments and planted cases), with five exports replaced by the shapes that defeated a
//! new user before:
//!
//! - the 低保 payments as **yearly wide rosters** (`低保花名册2024.xlsx`, `…2025.xlsx`): one row
//!   per household, a column per month under a merged 发放金额(元) group, a two-row header
//!   (户主信息 merged over 姓名 / 身份证号 / 家庭编号 …), the category as a code explained on a
//!   代码说明 sheet, the year only in the sheet name (`2025年度`), 批准时间 as an 8-digit
//!   number; a household paid twice in a month is listed twice;
//! - the **cadre roster** under a two-row header whose groups repeat their column names (干部信息
//!   and 近亲属 both have 姓名 and 身份证号), each official's cells merged down over his
//!   relatives' rows;
//! - the **payroll** from an old system with pinyin-initial headers (SFZHM, XM, DWMC, YFGZ …),
//!   pay with thousands separators, dates as 8-digit numbers;
//! - the police **register of deaths** as pipe-delimited GB 18030 text;
//! - the land-grant ledger writing **未开工** where construction has not started.

use std::collections::BTreeMap;

use super::Output;
use super::write::{Table, Val};

/// Layout C's files, from layout B's.
pub(super) fn reshape(b: Vec<(String, Output)>) -> Vec<(String, Output)> {
    let mut out = Vec::new();
    for (file, output) in b {
        match file.as_str() {
            "exports/民政/低保金发放花名册.xlsx" => out.extend(wide_rosters(&output)),
            "exports/组织部/干部及近亲属信息表.xlsx" => out.push(cadre_roster(&output)),
            "exports/财政/财政供养人员花名册.csv" => out.push(pinyin_payroll(&output)),
            "exports/公安/死亡人员信息.csv" => out.push(pipe_deaths(&output)),
            "exports/自然资源/国有建设用地出让合同台账.xlsx" => out.push(not_started(file, output)),
            super::layout_b::OCDS_PACKAGE => out.push(record_lines(&output)),
            _ => out.push((file, output)),
        }
    }
    out
}

/// The platform's open data as the record packages its API pages out, one per line: each
/// process a record with its compiled release.
fn record_lines(o: &Output) -> (String, Output) {
    let Output::Raw { bytes, rows } = o else { panic!("the OCDS package is a written file") };
    let package: serde_json::Value = serde_json::from_slice(bytes).expect("generated JSON");
    let mut lines = String::new();
    for r in package["releases"].as_array().expect("releases") {
        let record = serde_json::json!({
            "uri": "https://ggzy.example.gov.cn/ocds/records",
            "version": "1.1",
            "records": [{"ocid": r["ocid"], "compiledRelease": r}],
        });
        lines.push_str(&record.to_string());
        lines.push('\n');
    }
    ("exports/公共资源交易中心/ocds_records.jsonl".into(), Output::Raw { bytes: lines.into_bytes(), rows: *rows })
}

fn table(o: &Output) -> &Table {
    match o {
        Output::Csv { table, .. } | Output::Ndjson(table) | Output::Parquet(table) => table,
        Output::Xlsx(s) => &s[0].2,
        Output::Raw { .. } | Output::Lines { .. } => panic!("a written file"),
    }
}

fn col(t: &Table, h: &str) -> usize {
    t.headers.iter().position(|x| x == h).unwrap_or_else(|| panic!("no header {h}"))
}

fn text(v: &Val) -> String {
    match v {
        Val::Str(s) | Val::Digits(s) => s.clone(),
        Val::Int(i) => i.to_string(),
        Val::Num(x, d) => format!("{x:.d$}"),
        Val::Date(d) => d.to_string(),
        Val::Empty => String::new(),
    }
}

/// A date as the 8-digit number old systems store (20220301), or nothing.
fn compact(v: &Val) -> Option<f64> {
    match v {
        Val::Date(d) => d.format("%Y%m%d").to_string().parse().ok(),
        _ => None,
    }
}

/// 7021.5 → "7,021.50".
fn thousands(x: f64) -> String {
    let s = format!("{x:.2}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

type Err = rust_xlsxwriter::XlsxError;

fn workbook() -> Result<rust_xlsxwriter::Workbook, Err> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    // a fixed creation time keeps generated workbooks byte-identical for the same seed
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 12, 31)?;
    wb.set_properties(
        &rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created).set_author("searchlight fixtures"),
    );
    Ok(wb)
}

const CATEGORY_CODES: [(&str, &str, &str); 3] =
    [("城市", "1", "城市低保"), ("农村", "2", "农村低保"), ("特困", "3", "特困供养")];

/// One workbook per year: a household's row carries its months; a household paid twice in one
/// month, or into two accounts, has a row for each.
fn wide_rosters(o: &Output) -> Vec<(String, Output)> {
    let Output::Xlsx(sheets) = o else { panic!("the 低保 roster is a workbook") };
    // (year) → (household columns) → month → amounts in order
    type Household = [String; 11];
    let mut years: BTreeMap<String, BTreeMap<Household, BTreeMap<u32, Vec<String>>>> = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<Household>> = BTreeMap::new();
    for (town, _, t) in sheets {
        let at = |h: &str| col(t, h);
        for r in &t.rows {
            let household = text(&r[at("户编号")]);
            if household.is_empty() || text(&r[0]) == "合计" {
                continue;
            }
            let ym = text(&r[at("发放年月")]); // 2025年3月
            let Some((y, m)) = ym.strip_suffix('月').and_then(|s| s.split_once('年')) else { continue };
            let month: u32 = m.parse().unwrap_or(0);
            let code = CATEGORY_CODES
                .iter()
                .find(|(w, _, _)| *w == text(&r[at("保障类型")]))
                .map(|(_, c, _)| c.to_string())
                .unwrap_or_default();
            let key: Household = [
                text(&r[at("户主")]),
                text(&r[at("户主公民身份号码")]),
                household,
                town.clone(),
                text(&r[at("区划代码")]),
                code,
                text(&r[at("保障人数")]),
                compact(&r[at("批准时间")]).map(|x| format!("{x}")).unwrap_or_default(),
                text(&r[at("保障状态")]),
                text(&r[at("银行卡号")]),
                text(&r[at("持卡人")]),
            ];
            let per_year = years.entry(y.to_string()).or_default();
            if !per_year.contains_key(&key) {
                order.entry(y.to_string()).or_default().push(key.clone());
            }
            per_year.entry(key).or_default().entry(month).or_default().push(text(&r[at("发放金额")]));
        }
    }
    let mut out = Vec::new();
    for (year, households) in &years {
        let bytes = roster_workbook(year, &order[year], households).expect("the wide roster writes");
        let rows = households.values().map(|m| m.values().map(Vec::len).max().unwrap_or(0) as u64).sum();
        out.push((format!("exports/民政/低保花名册{year}.xlsx"), Output::Raw { bytes, rows }));
    }
    out
}

fn roster_workbook(
    year: &str,
    order: &[[String; 11]],
    households: &BTreeMap<[String; 11], BTreeMap<u32, Vec<String>>>,
) -> Result<Vec<u8>, Err> {
    use rust_xlsxwriter::Format;
    let mut wb = workbook()?;
    let f = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name(format!("{year}年度"))?;
    let last = 24; // columns: 序号, 11 household columns, 12 months, 合计
    ws.merge_range(0, 0, 0, last as u16, &format!("清河县{year}年度城乡低保资金发放花名册"), &f)?;
    ws.merge_range(1, 0, 2, 0, "序号", &f)?;
    ws.merge_range(1, 1, 1, 5, "户主信息", &f)?;
    for (c, h) in ["姓名", "身份证号", "家庭编号", "乡镇", "区划代码"].iter().enumerate() {
        ws.write_string(2, 1 + c as u16, *h)?;
    }
    for (c, h) in ["保障类别", "保障人数", "批准时间", "保障状态"].iter().enumerate() {
        ws.merge_range(1, 6 + c as u16, 2, 6 + c as u16, h, &f)?;
    }
    ws.merge_range(1, 10, 1, 11, "收款账户", &f)?;
    ws.write_string(2, 10, "银行账号")?;
    ws.write_string(2, 11, "户名")?;
    ws.merge_range(1, 12, 1, 23, "发放金额(元)", &f)?;
    for m in 1..=12u16 {
        ws.write_string(2, 11 + m, format!("{m}月"))?;
    }
    ws.merge_range(1, 24, 2, 24, "合计", &f)?;
    let mut r = 3u32;
    let mut total = 0.0;
    for key in order {
        let months = &households[key];
        let copies = months.values().map(Vec::len).max().unwrap_or(0);
        for j in 0..copies {
            ws.write_number(r, 0, (r - 2) as f64)?;
            for (c, v) in key.iter().enumerate() {
                let c = 1 + c as u16;
                if v.is_empty() {
                    continue;
                }
                // the code and the numbers as numbers, as the system exports them
                if (6..=8).contains(&c) {
                    ws.write_number(r, c, v.parse::<f64>().unwrap_or(0.0))?;
                } else {
                    ws.write_string(r, c, v)?;
                }
            }
            let mut sum = 0.0;
            for m in 1..=12u32 {
                if let Some(v) = months.get(&m).and_then(|a| a.get(j)) {
                    let x: f64 = v.parse().unwrap_or(0.0);
                    sum += x;
                    ws.write_number(r, 11 + m as u16, x)?;
                }
            }
            ws.write_number(r, 24, sum)?;
            total += sum;
            r += 1;
        }
    }
    ws.write_string(r, 0, "合计")?;
    ws.write_number(r, 24, (total * 100.0).round() / 100.0)?;
    let codes = wb.add_worksheet();
    codes.set_name("代码说明")?;
    codes.write_string(0, 0, "代码")?;
    codes.write_string(0, 1, "保障类别")?;
    for (i, (_, code, word)) in CATEGORY_CODES.iter().enumerate() {
        codes.write_string(1 + i as u32, 0, *code)?;
        codes.write_string(1 + i as u32, 1, *word)?;
    }
    wb.save_to_buffer()
}

/// The cadre roster under a two-row header whose groups repeat their columns' names; an
/// official's cells merged down over his relatives' rows.
fn cadre_roster(o: &Output) -> (String, Output) {
    let t = table(o);
    let official =
        ["干部类别", "所在村(社区)或单位", "单位代码", "干部姓名", "干部身份证号", "现任职务", "任职时间", "离任时间"];
    let official_shown = ["类别", "所在村(社区)或单位", "单位代码", "姓名", "身份证号", "职务", "任职时间", "离任时间"];
    let relative = ["亲属姓名", "亲属身份证号", "称谓"];
    let relative_shown = ["姓名", "身份证号", "关系"];
    let filing = ["是否备案", "备案项目", "备案时间"];
    let write = || -> Result<(Vec<u8>, u64), Err> {
        use rust_xlsxwriter::Format;
        let mut wb = workbook()?;
        let f = Format::new();
        let ws = wb.add_worksheet();
        ws.set_name("干部及近亲属")?;
        ws.merge_range(0, 0, 0, 13, "清河县村(社区)干部及近亲属登记表", &f)?;
        ws.merge_range(1, 0, 1, 7, "干部信息", &f)?;
        ws.merge_range(1, 8, 1, 10, "近亲属", &f)?;
        ws.merge_range(1, 11, 1, 13, "备案情况", &f)?;
        for (c, h) in official_shown.iter().chain(&relative_shown).chain(&filing).enumerate() {
            ws.write_string(2, c as u16, *h)?;
        }
        let cell = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, v: &Val| -> Result<(), Err> {
            match v {
                Val::Empty => {}
                Val::Date(d) => {
                    ws.write_string(r, c, d.format("%Y-%m-%d").to_string())?;
                }
                other => {
                    ws.write_string(r, c, text(other))?;
                }
            }
            Ok(())
        };
        let mut r = 3u32;
        let mut rows = 0u64;
        let id = col(t, "干部身份证号");
        let mut k = 0;
        while k < t.rows.len() {
            // an official's rows are consecutive in layout B's roster
            let mut n = 1;
            while k + n < t.rows.len() && text(&t.rows[k + n][id]) == text(&t.rows[k][id]) {
                n += 1;
            }
            for (c, h) in official.iter().enumerate() {
                let v = &t.rows[k][col(t, h)];
                if n > 1 {
                    ws.merge_range(r, c as u16, r + n as u32 - 1, c as u16, &text(v), &f)?;
                } else {
                    cell(ws, r, c as u16, v)?;
                }
            }
            for j in 0..n {
                for (c, h) in relative.iter().chain(&filing).enumerate() {
                    cell(ws, r + j as u32, 8 + c as u16, &t.rows[k + j][col(t, h)])?;
                }
            }
            r += n as u32;
            rows += n as u64;
            k += n;
        }
        Ok((wb.save_to_buffer()?, rows))
    };
    let (bytes, rows) = write().expect("the cadre roster writes");
    ("exports/组织部/村干部及近亲属登记表.xlsx".into(), Output::Raw { bytes, rows })
}

/// The payroll as an old system exports it: pinyin-initial headers, pay with thousands
/// separators, dates as 8-digit numbers, no title row.
fn pinyin_payroll(o: &Output) -> (String, Output) {
    let t = table(o);
    let cols = [
        ("公民身份号码", "SFZHM"),
        ("姓名", "XM"),
        ("工作单位", "DWMC"),
        ("单位代码", "DWDM"),
        ("人员状态", "RYZT"),
        ("编制性质", "BZXZ"),
        ("职务", "ZW"),
        ("应发工资", "YFGZ"),
        ("入职日期", "RZRQ"),
        ("离职日期", "LZRQ"),
    ];
    let mut p = Table::new(&cols.map(|(_, py)| py));
    for r in &t.rows {
        p.push(
            cols.iter()
                .map(|(h, _)| {
                    let v = &r[col(t, h)];
                    match (h, v) {
                        (&"应发工资", Val::Num(x, _)) => Val::Str(thousands(*x)),
                        (_, Val::Date(_)) => compact(v).map(|x| Val::Int(x as i64)).unwrap_or(Val::Empty),
                        _ => v.clone(),
                    }
                })
                .collect(),
        );
    }
    ("exports/财政/工资系统导出.csv".into(), Output::Csv { table: p, titles: Vec::new(), gbk: true })
}

/// The police register of deaths as pipe-delimited GB 18030 text with 8-digit dates.
fn pipe_deaths(o: &Output) -> (String, Output) {
    let t = table(o);
    let mut s = t.headers.join("|");
    s.push_str("\r\n");
    for r in &t.rows {
        let fields: Vec<String> =
            r.iter().map(|v| compact(v).map(|x| format!("{x}")).unwrap_or_else(|| text(v))).collect();
        s.push_str(&fields.join("|"));
        s.push_str("\r\n");
    }
    let (bytes, _, _) = encoding_rs::GB18030.encode(&s);
    ("exports/公安/死亡注销登记.txt".into(), Output::Raw { bytes: bytes.into_owned(), rows: t.rows.len() as u64 })
}

/// The land-grant ledger: 未开工 where construction has not started.
fn not_started(file: String, o: Output) -> (String, Output) {
    let Output::Xlsx(mut sheets) = o else { panic!("the land-grant ledger is a workbook") };
    let t = &mut sheets[0].2;
    let c = col(t, "实际开工日期");
    for r in &mut t.rows {
        if r[c] == Val::Empty {
            r[c] = Val::Str("未开工".into());
        }
    }
    (file, Output::Xlsx(sheets))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pay_reads_with_thousands_separators() {
        assert_eq!(super::thousands(7021.5), "7,021.50");
        assert_eq!(super::thousands(520.0), "520.00");
        assert_eq!(super::thousands(1234567.891), "1,234,567.89");
    }
}
