//! Pre-inspection briefs as an inspection team meets them: a township's brief holds its villages'
//! clues and no other township's; the peer comparison, counted by hand on a small directory;
//! masked IDs; a model that could not run is 未检查, never 0; the xlsx read back equals the
//! ledger; model quality after scripted verification steps; the HTML in headless Chromium.

use std::collections::BTreeSet;
use std::process::Command;

use calamine::{Reader, Xlsx};
use searchlight::ledger::Ledger;

use crate::util::{TestProject, ok, searchlight};

fn model(id: &str, area: &str, from: &str, unit: &str, amount: bool) -> String {
    // the payment model has a threshold, so its clues can be judged per parameter setting
    let (amount_line, amount_col, params, filter) = if amount {
        (
            "amount = \"amount\"\n",
            ", amount",
            "[params]\nmin = { type = \"money\", default = 0, min = 0, max = 1000 }\n",
            " WHERE amount >= $min",
        )
    } else {
        ("", "", "", "")
    };
    format!(
        "/* searchlight\nid = \"{id}\"\ntitle = \"{area}测试\"\ntitle_en = \"Test\"\ndomain = \"test\"\narea = \"{area}\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"{unit}\"\n{amount_line}{params}*/\nSELECT who, {unit}{amount_col} FROM {from}{filter}\n"
    )
}

pub const A1: &str = "990001199001010011";
const A2: &str = "990001199001010022";
const A3: &str = "990001199001010033";
pub const B1: &str = "990001199001010044";

/// A small county: townships 甲镇 (villages 东村, 西村), 乙镇 (its own 东村) and 丙乡, and a
/// department; payments by village name, parcels by region code, and a model that needs the
/// death register the county did not hand over.
pub fn county() -> TestProject {
    let p = TestProject::new();
    p.write(
        "connectors/units.toml",
        "name = \"units\"\nlocation = \"data/units.csv\"\n[format]\ntype = \"csv\"\n[columns]\nunit_code = { from = \"单位编码\" }\nname = { from = \"单位名称\" }\nkind = { from = \"单位类型\" }\nparent_code = { from = \"上级单位编码\" }\nregion_code = { from = \"行政区划代码\" }\npeople = { from = \"人数\" }\n",
    );
    p.write(
        "data/units.csv",
        "单位编码,单位名称,单位类型,上级单位编码,行政区划代码,人数\n\
         D01,县民政局,部门,,990001,40\n\
         A00,甲镇,镇,,990001100,200\n\
         A01,东村,村,A00,990001100201,120\n\
         A02,西村,村,A00,990001100202,80\n\
         B00,乙镇,镇,,990001101,100\n\
         B01,东村,村,B00,990001101201,100\n\
         C00,丙乡,乡,,990001102,200\n",
    );
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/pay.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"身份证号\", type = \"text\" }\nvillage = { from = \"村\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n");
    p.write(
        "data/pay.csv",
        &format!(
            "身份证号,村,金额\n{A1},甲镇东村,100.10\n{A2},甲镇东村,200.20\n{A3},西村,0.30\n{B1},乙镇东村,400\n990001199001010055,东村,5\n990001199001010066,某某公司,6\n"
        ),
    );
    p.write("connectors/parcel.toml", "name = \"parcel\"\ntitle = \"图斑\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/parcel.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"图斑\", type = \"text\" }\nregion_code = { from = \"区划\", type = \"text\" }\n");
    p.write("data/parcel.csv", "图斑,区划\nTB1,990001100000\nTB2,990001102\n");
    p.write("models/test/pay.sql", model("test.pay", "低保", "pay", "village", true));
    p.write("models/test/parcel.sql", model("test.parcel", "耕地保护", "parcel", "region_code", false));
    p.write(
        "models/test/dead.sql",
        "/* searchlight\nid = \"test.dead\"\ntitle = \"死亡后领取\"\ntitle_en = \"Test\"\ndomain = \"test\"\narea = \"低保\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"unit\"\n*/\nSELECT d.id_no AS who, p.village AS unit FROM deaths d JOIN pay p ON p.who = d.id_no\n",
    );
    p
}

async fn brief(p: &TestProject, unit: &str) -> searchlight::brief::Brief {
    brief_of(p, unit, "2025-12-31", None).await
}

/// The brief of `unit` as of a date, over a period from `from` if given.
async fn brief_of(p: &TestProject, unit: &str, as_of: &str, from: Option<&str>) -> searchlight::brief::Brief {
    let project = searchlight::project::Project::open(p.root(), None, None).unwrap();
    let models: Vec<_> = project.models().unwrap().into_iter().map(Result::unwrap).collect();
    let connectors: Vec<_> = project.connectors().unwrap().into_iter().map(Result::unwrap).collect();
    let catalog = searchlight::project::Project::catalog(&connectors);
    let lake = searchlight::lake::Lake::open(&project.lake).unwrap();
    let runner = searchlight::runner::Runner::over_lake(&lake, &catalog).await.unwrap();
    let ledger = Ledger::open_existing(&project.ledger).unwrap();
    let labels = searchlight::model::labels::Labels::load(&project.models_dir().join("labels.toml"), &catalog).unwrap();
    let req = searchlight::brief::Request {
        unit: unit.into(),
        as_of: as_of.parse().unwrap(),
        from: from.map(|f| f.parse().unwrap()),
        top: 5,
        prepared_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
    };
    searchlight::brief::build(&req, &ledger, &lake, &runner, &models, &labels, searchlight::redact::Redactor::masking())
        .await
        .unwrap()
}

pub fn pipeline(p: &TestProject) {
    let (code, out, err) = searchlight(p, &["pipeline", "--as-of", "2025-12-31"]);
    // test.dead cannot run (no deaths): the pipeline says so with exit status 2
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(out.contains("未运行"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_township_brief_holds_its_villages_and_no_other_township() {
    let p = county();
    pipeline(&p);
    let b = brief(&p, "甲镇").await;
    let entities: BTreeSet<String> = b.clues.iter().map(|c| c.clue.entity.clone()).collect();
    assert_eq!(entities, BTreeSet::from([A1.into(), A2.into(), A3.into(), "TB1".into()]), "{entities:?}");
    assert!(!entities.contains(B1), "乙镇东村 is another township's village");
    // the village clues carry the village, the parcel by its padded region code the township
    let unit_of = |e: &str| b.clues.iter().find(|c| c.clue.entity == e).unwrap().unit_name.clone().unwrap();
    assert_eq!(unit_of(A1), "东村");
    assert_eq!(unit_of(A3), "西村");
    assert_eq!(unit_of("TB1"), "甲镇");
    // money is summed in fen: 100.10 + 200.20 + 0.30 = 300.60 exactly
    let fen: i64 = b.clues.iter().filter_map(|c| c.clue.amount_fen).sum();
    assert_eq!(fen, 30_060);
    let subs: Vec<&str> = b.subordinates.iter().map(|(u, _, _)| u.code.as_str()).collect();
    assert_eq!(subs, ["A01", "A02"]);
    // a village's own brief has only its clues
    let v = brief(&p, "A01").await;
    let entities: BTreeSet<String> = v.clues.iter().map(|c| c.clue.entity.clone()).collect();
    assert_eq!(entities, BTreeSet::from([A1.into(), A2.into()]));

    // the clue listing knows the unit code too
    let listed: serde_json::Value = serde_json::from_str(&ok(&p, &["clues", "--unit", "A01", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(listed.as_array().unwrap().iter().all(|c| c["unit_code"] == "A01" && c["unit"] == "甲镇东村"));

    // values that resolve to no unit — a bare 东村 (two townships have one), a firm — are
    // listed, not dropped
    let unresolved: BTreeSet<(String, usize, bool)> =
        b.unresolved.iter().map(|u| (u.value.clone(), u.clues, !u.ambiguous.is_empty())).collect();
    assert_eq!(unresolved, BTreeSet::from([("东村".into(), 1, true), ("某某公司".into(), 1, false)]));
    let out = ok(&p, &["check", "--units"]);
    assert!(out.contains("7 个单位"), "{out}");
    assert!(out.contains("某某公司") && out.contains("对应多个单位"), "{out}");
    assert!(out.contains("2 条未能归属"), "{out}");

    // an ambiguous name lists the candidates; an unknown one says so
    let (code, _, err) = searchlight(&p, &["brief", "东村"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("A01") && err.contains("B01") && err.contains("上级 甲镇"), "{err}");
    let (code, _, err) = searchlight(&p, &["brief", "丁镇"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("没有单位"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn peers_are_compared_per_hundred_people_as_counted_by_hand() {
    let p = county();
    pipeline(&p);
    let b = brief(&p, "甲镇").await;
    // peers: the three townships (same kind after folding 镇/乡, no parent); the department is not one
    let got: Vec<(String, usize, Option<f64>, usize, bool)> =
        b.peers.iter().map(|x| (x.code.clone(), x.total, x.rate, x.rank, x.stands_out)).collect();
    // 甲镇 4 clues / 200 people = 2.0 per 100; 乙镇 1 / 100 = 1.0; 丙乡 1 / 200 = 0.5.
    // Median 1.0: 甲镇 is at twice the median with more than one clue, so it stands out.
    assert_eq!(
        got,
        vec![
            ("A00".into(), 4, Some(2.0), 1, true),
            ("B00".into(), 1, Some(1.0), 2, false),
            ("C00".into(), 1, Some(0.5), 3, false),
        ]
    );
    assert_eq!(b.peers[0].by_area.get("低保"), Some(&3));
    assert_eq!(b.peers[0].by_area.get("耕地保护"), Some(&1));
    let md = ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--format", "md"]);
    assert!(md.contains("| 1 | A00 | 甲镇(本单位) | 200 | 4 | 2.0 | 3 | 1 | 明显偏高 |"), "{md}");
    // per area: 低保 3 / 200 = 1.5 per 100 against 乙镇 1.0 and 丙乡 0 (median 1.0): first of
    // three, not twice the median; 耕地保护 1 / 200 = 0.5 against 0 and 0.5: first (tied)
    assert!(md.contains("| 低保 | 3 | 1.5 | 1.0 | 1/3 |  |"), "{md}");
    assert!(md.contains("| 耕地保护 | 1 | 0.5 | 0.5 | 1/3 |  |"), "{md}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_are_masked_and_a_model_that_could_not_run_is_not_checked() {
    let p = county();
    pipeline(&p);
    let md = ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--format", "md"]);
    for id in [A1, A2, A3] {
        assert!(!md.contains(id), "{id} unmasked");
        assert!(md.contains(&format!("{}********{}", &id[..6], &id[14..])), "{id} not shown masked");
    }
    // the model without its data: 未检查 with the reason, in the model table and the data notes
    let row = md.lines().find(|l| l.contains("| test.dead |")).unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains("| 未检查 |"), "{row}");
    assert!(!row.contains("| 0 |"), "a model that could not look found nothing only by not looking: {row}");
    assert!(row.contains("缺少数据 deaths"), "{row}");
    assert!(md.contains("未能检查或部分未检查的模型(不代表没有问题)"), "{md}");
    let full = ok(&p, &["--show-ids", "brief", "甲镇", "--as-of", "2025-12-31", "--format", "md"]);
    assert!(full.contains(A1), "--show-ids shows them");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_xlsx_read_back_has_the_ledgers_rows() {
    let p = county();
    pipeline(&p);
    let out = p.path("甲镇.xlsx");
    ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--format", "xlsx", "--out", out.to_str().unwrap()]);
    let mut wb: Xlsx<_> = calamine::open_workbook(&out).unwrap();
    let names = wb.sheet_names().to_vec();
    assert_eq!(names, ["概况", "低保", "耕地保护"], "{names:?}");
    // the summary holds the brief's tables, not the embedded working papers
    let summary = wb.worksheet_range("概况").unwrap();
    let texts: Vec<String> = summary.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(texts.iter().any(|t| t == "同类单位对比"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("原始文件")), "no paper's source table in the summary");
    let mut from_xlsx = BTreeSet::new();
    for area in ["低保", "耕地保护"] {
        let range = wb.worksheet_range(area).unwrap();
        let mut rows = range.rows();
        let head: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(head[0], "线索编号");
        let amount_col = head.iter().position(|h| h == "金额(元)").unwrap();
        for r in rows {
            let amount = match &r[amount_col] {
                calamine::Data::Float(f) => Some((f * 100.0).round() as i64),
                calamine::Data::Empty => None,
                other => panic!("amount cell {other:?}"),
            };
            from_xlsx.insert((r[0].to_string(), r[6].to_string(), area.to_string(), amount));
        }
    }
    // the ledger's clues of 甲镇 and its villages, read without the brief
    let ledger = Ledger::open_existing(&p.path("ledger.sqlite")).unwrap();
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT c.clue_id, c.entity, c.area, s.amount_fen FROM clues c JOIN sightings s ON s.clue_id = c.clue_id
             WHERE s.unit_code IN ('A00', 'A01', 'A02')",
        )
        .unwrap();
    let from_ledger: BTreeSet<(String, String, String, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .map(|(id, e, a, f): (String, String, String, Option<i64>)| {
            // the workbook shows the entity masked, as every output does
            (id, searchlight::redact::Redactor::masking().text(&e).into_owned(), a, f)
        })
        .collect();
    assert_eq!(from_xlsx, from_ledger);
    assert_eq!(from_ledger.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn model_quality_is_learnt_from_verification_outcomes() {
    let p = county();
    pipeline(&p);
    let b = brief(&p, "甲镇").await;
    let id = |e: &str| b.clues.iter().find(|c| c.clue.entity == e).unwrap().clue.clue_id.clone();
    let (a1, a2, a3) = (id(A1), id(A2), id(A3));
    // 研判 → 核查 → 核实 for two clues, one dismissed as a false positive
    ok(&p, &["clue", "triage", &a1, "--to", "县民政局", "--by", "张三"]);
    ok(&p, &["clue", "verify", &a1, "--result", "属实", "--amount", "100.10", "--recovered", "50.05", "--by", "李四"]);
    ok(&p, &["clue", "triage", &a2, "--to", "县民政局", "--by", "张三"]);
    ok(&p, &["clue", "verify", &a2, "--result", "不属实", "--by", "李四"]);
    ok(&p, &["clue", "triage", &a3, "--dismiss", "--reason", "依规代领，已备案", "--by", "张三"]);
    let out = ok(&p, &["models", "--quality", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let q = &v["models"]["test.pay"];
    assert_eq!(q["raised"], 6, "{q}");
    assert_eq!(q["true_"], 1, "{q}");
    assert_eq!(q["untrue"], 1, "{q}");
    assert_eq!(q["partly_true"], 0, "{q}");
    assert_eq!(q["dismissed"], 1, "{q}");
    assert_eq!(q["confirmed_fen"], 10_010, "{q}");
    assert_eq!(q["recovered_fen"], 5_005, "{q}");
    assert_eq!(q["dismiss_reasons"][0][0], "依规代领，已备案", "{q}");
    assert_eq!(v["models"]["test.parcel"]["raised"], 2);
    let table = ok(&p, &["models", "--quality"]);
    assert!(table.contains("33% (1/3)"), "{table}");

    // a threshold tried and recorded raises a clue under its own setting, judged apart
    let pay = std::fs::read_to_string(p.path("data/pay.csv")).unwrap();
    p.write("data/pay.csv", format!("{pay}990001199001010088,西村,50\n"));
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    let (_, out, err) = searchlight(&p, &["run", "--as-of", "2025-12-31", "--param", "test.pay.min=10", "--record"]);
    assert!(out.contains("新增 1 条"), "{out}\n{err}");
    let b2 = brief(&p, "甲镇").await;
    let a5 = b2.clues.iter().find(|c| c.clue.entity == "990001199001010088").unwrap().clue.clue_id.clone();
    ok(&p, &["clue", "triage", &a5, "--to", "县民政局", "--by", "张三"]);
    ok(&p, &["clue", "verify", &a5, "--result", "部分属实", "--amount", "20", "--by", "李四"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&p, &["models", "--quality", "--json"])).unwrap();
    let settings: Vec<(String, u64, u64, u64)> = v["settings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["model"] == "test.pay")
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            (s["params"].as_str().unwrap().to_string(), n("raised"), n("true_") + n("partly_true"), n("judged"))
        })
        .collect();
    assert_eq!(
        settings,
        vec![("min=0.00".to_string(), 6, 1, 3), ("min=10.00".to_string(), 1, 1, 1)],
        "{}",
        v["settings"]
    );
    assert_eq!(v["models"]["test.pay"]["raised"], 7);
    assert_eq!(v["models"]["test.pay"]["confirmed_fen"], 12_010);
    // the brief shows each clue's model precision beside it: now 2 of 4 judged were right
    let md = ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--format", "md"]);
    let row = md.lines().find(|l| l.contains(&a1) && l.contains("50% (2/4)"));
    assert!(row.is_some(), "{md}");
    assert!(md.contains("已核实(属实)"), "{md}");
    // the dismissed false positive is listed, not counted (nor among the top clues)
    assert!(md.contains("另有 1 条经研判排除误报，未计入"), "{md}");
    let b3 = brief(&p, "甲镇").await;
    let me = b3.peers.iter().find(|x| x.is_self).unwrap();
    assert_eq!(me.total, 4, "5 clues of 甲镇 now, one dismissed");
    assert!(b3.clues.iter().any(|c| c.clue.clue_id == a3 && !c.has_paper));

    // 整改 past its due date is 逾期 as of the brief's date (not the clock's)
    ok(&p, &["clue", "rectify", &a1, "--due", "2025-12-15", "--by", "王五"]);
    let md = ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--format", "md"]);
    assert!(md.contains("整改中 1 条(其中逾期 1 条)"), "{md}");
    assert!(md.contains("| 2025-12-15 |"), "{md}");
    let md =
        ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--period", "2025-01-01..2025-12-31", "--format", "md"]);
    assert!(md.contains("整改中 1 条(其中逾期 1 条)"), "{md}");
}

fn chromium() -> Option<String> {
    if let Ok(c) = std::env::var("SEARCHLIGHT_TEST_CHROMIUM") {
        return Some(c);
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_loads_in_chromium_with_its_charts_and_no_console_error() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium (.ci/run installs Debian's chromium and sets SEARCHLIGHT_TEST_CHROMIUM)");
        return;
    };
    let p = county();
    pipeline(&p);
    let html = p.path("甲镇.html");
    ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--out", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script"), "no scripts");
    let profile = tempfile::tempdir().unwrap();
    // headless, and nothing but the page: no background requests of the browser's own
    let chromium = |args: &[&str]| {
        let mut c = Command::new(&browser);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .args(args)
        .arg(format!("--user-data-dir={}", profile.path().display()));
        c
    };
    let pdf = p.path("甲镇.pdf");
    let out = chromium(&["--enable-logging=stderr", "--v=0", "--no-pdf-header-footer"])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    // every console message (a blocked request, a script error) is logged as CONSOLE
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "printed");
    // and the DOM Chromium built has both charts, each with its bars
    let out = chromium(&["--dump-dom"]).arg(format!("file://{}", html.display())).output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let figures: Vec<&str> = dom.split("<figure>").skip(1).collect();
    assert_eq!(figures.len(), 2, "two charts: peers and trend");
    for f in figures {
        assert!(f.contains("<svg") && f.matches("<rect").count() >= 3, "a chart with bars");
    }
    assert!(dom.contains("id=\"paper-"), "working papers embedded");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_period_and_the_trend_follow_the_runs() {
    let p = county();
    pipeline(&p);
    // half a year later 西村's recipient is gone and a new one appears
    let a4 = "990001199001010077";
    let pay = std::fs::read_to_string(p.path("data/pay.csv")).unwrap();
    let pay = pay.replace(&format!("{A3},西村,0.30\n"), &format!("{a4},西村,7\n"));
    p.write("data/pay.csv", pay);
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2026-06-30"]);
    assert_eq!(code, Some(2), "{out}\n{err}");

    let entities =
        |b: &searchlight::brief::Brief| -> BTreeSet<String> { b.clues.iter().map(|c| c.clue.entity.clone()).collect() };
    // as of the first run's date, the later run is not there
    let then = brief(&p, "甲镇").await;
    assert_eq!(entities(&then), BTreeSet::from([A1.into(), A2.into(), A3.into(), "TB1".into()]));
    assert_eq!(then.trend.len(), 1);
    let md = ok(&p, &["brief", "甲镇", "--as-of", "2026-06-30", "--format", "md"]);
    // the trend: 4 new in the first run; 1 new and 1 resolved in the second, 4 still open
    assert!(md.contains("| 2025-12-31 | 4 | 0 | 4 |"), "{md}");
    assert!(md.contains("| 2026-06-30 | 1 | 1 | 4 |"), "{md}");
    assert!(md.contains("已消失"), "A3 is listed as gone: {md}");
    // only the clues the second run found
    let md = ok(&p, &["brief", "甲镇", "--period", "2026-01-01..2026-06-30", "--format", "md"]);
    assert!(md.contains("统计期间**：2026-01-01 至 2026-06-30"), "{md}");
    assert!(md.contains("990001********0077") && !md.contains("990001********0033"), "{md}");
    let (code, _, err) = searchlight(&p, &["brief", "甲镇", "--period", "2026-06-30..2026-01-01"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is after"), "{err}");
}

/// A brief of now reads the kept clue state; one over a period reads the history. Over a
/// period that holds every run they must say the same, clue for clue — here with a clue
/// dismissed, one routed, one resolved, and a unit value the directory does not know.
#[tokio::test(flavor = "multi_thread")]
async fn a_brief_of_now_says_what_the_history_says() {
    let p = county();
    pipeline(&p);
    let pay = std::fs::read_to_string(p.path("data/pay.csv")).unwrap();
    let pay = pay.replace(&format!("{A3},西村,0.30\n"), "990001199001010077,西村,7\n990001199001010088,不存在村,9\n");
    p.write("data/pay.csv", pay);
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2026-06-30"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    let now = brief_of(&p, "甲镇", "2026-06-30", None).await;
    let ids: Vec<String> = now.clues.iter().map(|c| c.clue.clue_id.clone()).collect();
    assert!(ids.len() >= 3, "{ids:?}");
    ok(&p, &["clue", "triage", &ids[0], "--dismiss", "--reason", "合法代领"]);
    ok(&p, &["clue", "triage", &ids[1], "--to", "县民政局"]);
    let now = brief_of(&p, "甲镇", "2026-06-30", None).await;
    let whole = brief_of(&p, "甲镇", "2026-06-30", Some("1900-01-01")).await;
    let view = |b: &searchlight::brief::Brief| {
        let mut v = serde_json::to_value(b).unwrap();
        v.as_object_mut().unwrap().remove("from");
        v
    };
    assert_eq!(view(&now), view(&whole));
    assert!(now.clues.iter().any(|c| c.state.status == searchlight::ledger::Status::Dismissed));
    assert!(now.clues.iter().any(|c| c.clue.mark == searchlight::ledger::Mark::Resolved));
    assert!(!now.peers.is_empty() && now.peers.iter().any(|p| p.total > 0), "{:?}", now.peers);
    assert!(now.unresolved.iter().any(|u| u.value == "不存在村"), "{:?}", now.unresolved);
}

#[tokio::test(flavor = "multi_thread")]
async fn leaders_carry_what_the_registries_say() {
    let p = county();
    pipeline(&p);
    // without the registries, the brief says what it could not check
    let b = brief(&p, "甲镇").await;
    assert!(b.leaders.is_empty());
    assert!(b.registries_missing.iter().any(|r| r.starts_with("officials")), "{:?}", b.registries_missing);

    let cadre = "990001198001010099";
    let retired = "990001195001010011";
    p.write("connectors/officials.toml", "name = \"officials\"\nlocation = \"data/officials.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号\" }\nname = { from = \"姓名\" }\norg_name = { from = \"单位或村\" }\norg_code = { from = \"单位或村代码\" }\nposition = { from = \"职务\" }\nterm_end = { from = \"任职结束\" }\n");
    p.write(
        "data/officials.csv",
        format!("身份证号,姓名,单位或村,单位或村代码,职务,任职结束\n{cadre},赵一,甲镇东村,DC-001,党支部书记,\n{retired},钱二,西村,A02,村委会主任,2020-01-01\n990001198001010100,孙三,乙镇东村,B01,党支部书记,\n"),
    );
    p.write("connectors/enterprises.toml", "name = \"enterprises\"\nlocation = \"data/firms.csv\"\n[format]\ntype = \"csv\"\n[columns]\nuscc = { from = \"统一社会信用代码\" }\nname = { from = \"企业名称\" }\nlegal_rep_id = { from = \"法定代表人证件号\" }\nstatus = { from = \"登记状态\" }\n");
    p.write(
        "data/firms.csv",
        format!(
            "统一社会信用代码,企业名称,法定代表人证件号,登记状态\n91340524300079195J,东村农资有限公司,{cadre},存续\n"
        ),
    );
    p.write("connectors/official_relatives.toml", "name = \"official_relatives\"\nlocation = \"data/rel.csv\"\n[format]\ntype = \"csv\"\n[columns]\nofficial_id = { from = \"干部身份证号\" }\nrelative_id = { from = \"亲属身份证号\" }\nrelation = { from = \"关系\" }\n");
    p.write(
        "data/rel.csv",
        format!("干部身份证号,亲属身份证号,关系\n{cadre},{A1},配偶\n{cadre},990001199501010022,子女\n"),
    );
    p.write("connectors/kin_filings.toml", "name = \"kin_filings\"\nlocation = \"data/filed.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号\" }\nitem = { from = \"备案项目\" }\n");
    p.write("data/filed.csv", format!("身份证号,备案项目\n{A1},最低生活保障\n"));
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    let b = brief(&p, "甲镇").await;
    // the serving cadre of 甲镇东村 (found by name, with its township in front: the roster's own
    // code is no directory code); not the one whose term ended, not another township's
    let got: Vec<(String, String, Vec<String>, Option<(usize, usize)>)> =
        b.leaders.iter().map(|l| (l.unit.clone(), l.name.clone(), l.roles.clone(), l.relatives)).collect();
    assert_eq!(
        got,
        vec![("东村".into(), "赵一".into(), vec!["东村农资有限公司(法定代表人, 存续)".into()], Some((2, 1)))]
    );
    assert!(b.registries_missing.iter().any(|r| r.starts_with("shareholders")), "{:?}", b.registries_missing);
    let md = ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--format", "md"]);
    assert!(
        md.contains(
            "| 东村 | 赵一 | 990001********0099 | 党支部书记 | 东村农资有限公司(法定代表人, 存续) | 2 人 / 1 人 |"
        ),
        "{md}"
    );
}
