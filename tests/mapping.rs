//! Connectors against the canonical schema: mistakes named with a suggestion, columns an export
//! lacks, value words folded onto the canonical set (and the rest flagged, with counts), one
//! export landing several datasets with repeated records collapsed, `where`, and derived datasets
//! with their lineage.

use searchlight::connector::{self, Error};
use searchlight::lake::Outcome;
use searchlight::schema::Schema;

use crate::util::{TestProject, issue_rows};

fn load_err(p: &TestProject, toml: &str) -> String {
    let path = p.path("connectors/x.toml");
    std::fs::write(&path, toml).unwrap();
    let e = connector::load(&path, Schema::bundled()).unwrap_err();
    assert!(matches!(e, Error::Spec { .. }), "{e}");
    e.to_string()
}

const HEAD: &str = "location = \"data/a.csv\"\n[format]\ntype = \"csv\"\n";

#[test]
fn a_connector_is_checked_against_the_canonical_schema() {
    let p = TestProject::new();
    let e = load_err(&p, &format!("name = \"deahts\"\n{HEAD}[columns]\nid_no = {{ from = \"身份证号\" }}\n"));
    assert!(
        e.contains("x.toml:1:1") && e.contains("not a canonical dataset") && e.contains("did you mean `deaths`"),
        "{e}"
    );
    let e = load_err(
        &p,
        &format!(
            "name = \"bids\"\n{HEAD}[columns]\nlot_no = {{ from = \"标段\" }}\nupload_ipp = {{ from = \"IP\" }}\n"
        ),
    );
    assert!(
        e.contains("x.toml:7:1") && e.contains("no column `upload_ipp`") && e.contains("did you mean `upload_ip`"),
        "{e}"
    );
    assert!(e.contains("extra = true"), "a column of one's own is allowed: {e}");
    let e = load_err(
        &p,
        &format!(
            "name = \"bids\"\n{HEAD}[columns]\nlot_no = {{ from = \"标段\" }}\nbid_price = {{ from = \"报价\", type = \"text\" }}\n"
        ),
    );
    assert!(e.contains("`bids.bid_price` is `money` in the canonical schema, not `text`"), "{e}");
    let e = load_err(
        &p,
        &format!(
            "name = \"payroll\"\n{HEAD}[columns]\nid_no = {{ from = \"身份证号\" }}\nunit_name = {{ from = \"单位\" }}\ncategory = {{ type = \"text\" }}\n"
        ),
    );
    assert!(e.contains("x.toml:8:1") && e.contains("needs `from`") && e.contains("nullable = true"), "{e}");
    let e = load_err(
        &p,
        &format!(
            "name = \"payroll\"\n{HEAD}[columns]\nid_no = {{ from = \"身份证号\" }}\nunit_name = {{ from = \"单位\" }}\ncategory = {{ from = \"状态\", values = {{ \"离退\" = \"退休了\" }} }}\n"
        ),
    );
    assert!(
        e.contains("`退休了` is not a canonical value of `staff_status`") && e.contains("在职, 离退休, 离职"),
        "{e}"
    );
    let e = load_err(&p, &format!("name = \"payroll\"\n{HEAD}[columns]\nid_no = {{ from = \"身份证号\" }}\n"));
    assert!(e.contains("key column `unit_name`") && e.contains("key = [...]"), "{e}");
    let e = load_err(
        &p,
        &format!(
            "name = \"deaths\"\ncustom = true\n{HEAD}[columns]\nid_no = {{ from = \"身份证号\", type = \"id_card\" }}\n"
        ),
    );
    assert!(e.contains("`deaths` is a canonical dataset"), "{e}");
    let e = load_err(
        &p,
        &format!("name = \"mine\"\ncustom = true\ndomain = \"x\"\n{HEAD}[columns]\nwho = {{ from = \"姓名\" }}\n"),
    );
    assert!(e.contains("is your own: give its `type`"), "{e}");
    let e = load_err(
        &p,
        &format!(
            "name = \"kin_filings\"\nwhere = \"filedd\"\n{HEAD}[columns]\nid_no = {{ from = \"身份证号\" }}\nitem = {{ from = \"项目\" }}\n"
        ),
    );
    assert!(e.contains("x.toml:2:1") && e.contains("where `filedd`"), "{e}");
}

#[tokio::test]
async fn columns_an_export_lacks_are_declared_and_value_words_are_folded_or_flagged() {
    let p = TestProject::new();
    p.gbk(
        "data/a.csv",
        "身份证号,姓名,单位,状态\n\
         34052419800101001X,张三,县教育局,在岗\n\
         340524198001010013,李四,县教育局,离退\n\
         370802199402210029,王五,县民政局,借调\n\
         340524199001010015,赵六,县民政局,在职\n",
    );
    let c = p.connector(
        "x",
        "name = \"payroll\"\nlocation = \"data/a.csv\"\n[format]\ntype = \"csv\"\n[columns]\n\
         id_no = { from = \"身份证号\" }\nname = { from = \"姓名\" }\nunit_name = { from = \"单位\" }\n\
         category = { from = \"状态\", values = { \"离退\" = \"离退休\" } }\n\
         staffing = { default = \"事业编制\" }\nunit_code = { nullable = true }\n\
         note = { from = \"状态\", type = \"text\", extra = true }\n",
    );
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(m.rows, 4);
    assert_eq!(m.absent, vec!["unit_code"], "a nullable column the export lacks is absent, not present");
    assert_eq!(format!("{:?}", m.values_outside), r#"{"category": {"借调": 1}}"#);
    assert_eq!(m.flags.get("unknown_value"), Some(&1));
    let rows = p.rows("select name, category, staffing, unit_code, note from payroll order by id_no").await;
    assert_eq!(
        rows,
        vec![
            "李四|离退休|事业编制||离退",
            "张三|在职|事业编制||在岗",
            "赵六|在职|事业编制||在职",
            "王五|借调|事业编制||借调"
        ],
        "synonym (在岗), the connector's word (离退), the default, NULL, and the unknown word kept as exported"
    );
    let f = issue_rows(&p, "payroll", "flags.parquet", "line, raw, code").await;
    assert_eq!(f.iter().filter(|l| l.ends_with("unknown_value")).collect::<Vec<_>>(), vec!["4|借调|unknown_value"]);
    let reason = issue_rows(&p, "payroll", "flags.parquet", "reason").await;
    let reason = reason.iter().find(|r| r.contains("借调")).unwrap();
    assert!(reason.contains("payroll.category") && reason.contains("values"), "{reason}");
    // a model that compares the column says so every time it runs; one that needs the absent
    // column says what it ran without
    let runner = searchlight::runner::Runner::over_lake(&p.lake(), Schema::bundled()).await.unwrap();
    let m = searchlight::model::load(&crate::util::repo().join("models/finance/paid_by_two_units.sql")).unwrap();
    let o = runner
        .run_model(&m, &searchlight::runner::RunRequest::new(chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()))
        .await;
    assert_eq!(o.status, searchlight::runner::Status::RanWithout, "{:?}", o.error);
    assert!(o.warnings.iter().any(|w| w.contains("payroll.category") && w.contains("借调")), "{:?}", o.warnings);
}

/// A 低保 payment roster that repeats its household on every month, as county B exports it.
fn roster() -> String {
    let mut s = String::from("户编号,户主,户主身份证号,保障类型,保障人数,发放年月,发放金额\n");
    for m in 1..=6 {
        s.push_str(&format!("H1,张三,34052419800101001X,农村,3,2025年{m}月,600\n"));
        // the second household's size changes in May: a repeat that disagrees
        let persons = if m == 5 { 2 } else { 1 };
        s.push_str(&format!("H2,李四,340524198001010013,城市,{persons},2025年{m}月,400\n"));
    }
    s
}

const ROSTER: &str = r#"
location = "data/roster.csv"
[format]
type = "csv"

[[dataset]]
name = "relief_payments"
[dataset.columns]
household_id = { from = "户编号" }
head_name    = { from = "户主" }
pay_month    = { from = "发放年月" }
pay_date     = { default = "2025-12-10" }
amount       = { from = "发放金额" }

[[dataset]]
name = "relief_households"
[dataset.columns]
household_id = { from = "户编号" }
head_name    = { from = "户主" }
head_id      = { from = "户主身份证号" }
category     = { from = "保障类型" }
persons      = { from = "保障人数" }
region_code  = { default = "340524100201" }
"#;

#[tokio::test]
async fn one_export_lands_several_datasets_and_repeated_records_land_once() {
    let p = TestProject::new();
    p.write("data/roster.csv", roster());
    let c = p.connector("roster", ROSTER);
    assert_eq!(c.datasets().collect::<Vec<_>>(), vec!["relief_payments", "relief_households"]);
    let out = p.ingest_all(&c, &crate::util::opts()).await.unwrap();
    let [Outcome::Landed(pay), Outcome::Landed(hh)] = &out[..] else { panic!("{out:?}") };
    assert_eq!((pay.rows, pay.rows_collapsed), (12, 0), "payments are events: every row lands");
    assert_eq!((hh.rows, hh.rows_collapsed, hh.rows_read), (2, 10, 12), "each household lands once");
    assert_eq!(hh.flags.get("repeat_disagrees"), Some(&1));
    // the repeats' own findings (H2's failing check digit) are not recorded once per month
    assert_eq!(hh.flags.get("checksum"), Some(&1), "{:?}", hh.flags);
    let f = issue_rows(&p, "relief_households", "flags.parquet", "line, \"column\", code, reason").await;
    let f: Vec<&String> = f.iter().filter(|l| l.contains("repeat_disagrees")).collect();
    assert!(f[0].starts_with("11|persons|") && f[0].contains("首条「1」，此行「2」"), "{}", f[0]);
    let rows = p.rows("select household_id, category, persons from relief_households order by household_id").await;
    assert_eq!(rows, vec!["H1|农村低保|3", "H2|城市低保|1"]);
    // amounts joined through the households are not multiplied by the months
    let total = p
        .rows("select sum(p.amount) from relief_payments p join relief_households h on h.household_id = p.household_id")
        .await;
    assert_eq!(total, vec!["6000.00"]);
    // unchanged export: nothing re-lands
    let again = p.ingest_all(&c, &crate::util::opts()).await.unwrap();
    assert!(again.iter().all(|o| matches!(o, Outcome::Unchanged(_))));
}

#[tokio::test]
async fn where_keeps_only_the_rows_that_belong_to_a_dataset() {
    let p = TestProject::new();
    p.write(
        "data/kin.csv",
        "干部身份证号,亲属身份证号,亲属姓名,是否备案,备案项目\n\
         34052419800101001X,340524198001010013,李四,已备案,农村低保\n\
         34052419800101001X,370802199402210029,王五,未备案,\n\
         340524199001010015,,,,\n",
    );
    let c = p.connector(
        "kin",
        r#"
location = "data/kin.csv"
[format]
type = "csv"

[[dataset]]
name  = "official_relatives"
where = "relative_id IS NOT NULL"
[dataset.columns]
official_id   = { from = "干部身份证号" }
relative_id   = { from = "亲属身份证号" }
relative_name = { from = "亲属姓名" }

[[dataset]]
name  = "kin_filings"
where = "filed"
[dataset.columns]
id_no = { from = "亲属身份证号" }
name  = { from = "亲属姓名" }
item  = { from = "备案项目" }
filed = { from = "是否备案", type = "bool", extra = true, values = { "已备案" = true, "未备案" = false } }
"#,
    );
    let out = p.ingest_all(&c, &crate::util::opts()).await.unwrap();
    let (rel, kin) = (out[0].manifest(), out[1].manifest());
    assert_eq!(
        (rel.rows, rel.rows_filtered, rel.rows_quarantined),
        (2, 1, 0),
        "the official without relatives is not a relative"
    );
    assert_eq!((kin.rows, kin.rows_filtered, kin.rows_quarantined), (1, 2, 0), "only the filed relative is a filing");
    assert_eq!(kin.rows_read, kin.rows + kin.rows_filtered + kin.rows_quarantined + kin.rows_collapsed);
    assert_eq!(p.rows("select id_no, item, filed from kin_filings").await, vec!["340524198001010013|农村低保|true"]);
}

#[test]
fn a_derived_dataset_lands_with_its_lineage_and_never_from_a_failed_input() {
    let p = TestProject::new();
    p.write("data/police.csv", "身份证号码,姓名,死亡日期\n34052419800101001X,张三,2024-08-10\n");
    p.write("data/fire.csv", "逝者身份证号,火化日期\n340524198001010013,2024-10-12\n");
    p.write(
        "connectors/police.toml",
        "name = \"police_deaths\"\ncustom = true\ndomain = \"registry\"\nlocation = \"data/police.csv\"\nkey = [\"id_no\"]\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号码\", type = \"id_card\" }\nname = { from = \"姓名\", type = \"text\" }\ndeath_date = { from = \"死亡日期\", type = \"date\" }\n",
    );
    p.write(
        "connectors/fire.toml",
        "name = \"cremations\"\ncustom = true\ndomain = \"registry\"\nlocation = \"data/fire.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"逝者身份证号\", type = \"id_card\" }\ncremated_on = { from = \"火化日期\", type = \"date\" }\n",
    );
    p.write(
        "connectors/deaths.toml",
        "name = \"deaths\"\nderive = \"\"\"\nSELECT id_no, name, death_date, '公安户籍注销' AS source FROM police_deaths\nUNION ALL\nSELECT id_no, NULL AS name, cremated_on, '民政殡葬火化' FROM cremations\n\"\"\"\n",
    );
    let run = |args: &[&str]| crate::util::searchlight(&p, args);
    let (code, out, err) = run(&["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let rows = run(&["sql", "select id_no, source, death_date, id_no_valid from deaths order by id_no", "--json"]).1;
    let v: serde_json::Value = serde_json::from_str(&rows).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{rows}");
    assert_eq!(v[0]["source"], "民政殡葬火化");
    assert_eq!(v[1]["id_no_valid"], true, "validity is computed for a derived ID column");
    let lake = run(&["lake", "deaths", "--json"]).1;
    let snaps: serde_json::Value = serde_json::from_str(&lake).unwrap();
    let m = &snaps[0]["manifest"];
    assert_eq!(m["derived_from"]["police_deaths"], "v000001", "{m}");
    assert_eq!(m["derived_from"]["cremations"], "v000001", "{m}");
    assert!(m["query"].as_str().unwrap().contains("UNION ALL"));
    // the inputs unchanged: the derived dataset is unchanged too
    let (_, out, _) = run(&["ingest", "--as-of", "2025-12-31"]);
    assert!(out.contains("未变化 3"), "{out}");
    // a mistake in the query is reported at its line and column in the connector file
    let good = std::fs::read_to_string(p.path("connectors/deaths.toml")).unwrap();
    p.write("connectors/deaths.toml", good.replace("FROM cremations", "FROM cremation"));
    let (code, _, err) = run(&["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("deaths.toml:5:") && err.contains("cremation"), "{err}");
    p.write("connectors/deaths.toml", good);
    // a broken input: the derived dataset is not made from the stale snapshot
    p.write("data/fire.csv", "逝者身份证号,火化时间\n340524198001010013,2024-10-12\n");
    let (code, _, err) = run(&["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("deaths: not derived: the ingest of `cremations` failed"), "{err}");
}

#[test]
fn a_derived_dataset_folds_and_counts_value_words_as_landing_does() {
    let p = TestProject::new();
    p.write(
        "data/fire.csv",
        "逝者身份证号,火化日期,来源\n340524198001010013,2024-10-12,火化\n34052419800101001X,2024-11-02,派出所\n",
    );
    p.write(
        "connectors/fire.toml",
        "name = \"cremations\"\ncustom = true\ndomain = \"registry\"\nlocation = \"data/fire.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"逝者身份证号\", type = \"id_card\" }\ncremated_on = { from = \"火化日期\", type = \"date\" }\nsource = { from = \"来源\", type = \"text\" }\n",
    );
    p.write(
        "connectors/deaths.toml",
        "name = \"deaths\"\nderive = \"SELECT id_no, cremated_on AS death_date, source FROM cremations\"\n",
    );
    let run = |args: &[&str]| crate::util::searchlight(&p, args);
    let (code, out, err) = run(&["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // 火化 is a synonym of 民政殡葬火化; 派出所 is outside the set: kept, counted and said
    let rows = run(&["sql", "select source from deaths order by id_no", "--json"]).1;
    let v: serde_json::Value = serde_json::from_str(&rows).unwrap();
    assert_eq!(v[0]["source"], "民政殡葬火化", "{rows}");
    assert_eq!(v[1]["source"], "派出所", "{rows}");
    assert!(out.contains("deaths.source") && out.contains("「派出所」1"), "{out}");
    let lake = run(&["lake", "deaths", "--json"]).1;
    let snaps: serde_json::Value = serde_json::from_str(&lake).unwrap();
    assert_eq!(snaps[0]["manifest"]["values_outside"]["source"]["派出所"], 1, "{lake}");
}
