//! A new user's path, through the binary: `init` a project that runs the bundled library,
//! `connector new` from a folder of exports, `ingest --dry-run`, `coverage`, `check`, and the
//! first clues — and a model that cannot look says so instead of finding "nothing".

use std::path::Path;
use std::process::Command;

fn searchlight(project: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .current_dir(project)
        .arg("--project")
        .arg(project)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn gbk(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, encoding_rs::GBK.encode(text).0).unwrap();
}

#[test]
fn from_a_folder_of_exports_to_first_clues() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("county");
    let out = Command::new(env!("CARGO_BIN_EXE_searchlight")).arg("init").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for made in ["connectors", "models", "exports", "README.md"] {
        assert!(dir.join(made).exists(), "init made no {made}");
    }
    let again = Command::new(env!("CARGO_BIN_EXE_searchlight")).arg("init").arg(&dir).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has connectors/"));

    // two exports no connector was written for: a payroll roster under a title row, with this
    // county's own status word, and the police register of deaths without a source column
    gbk(
        &dir.join("exports/财政供养人员花名册.csv"),
        "清河县财政供养人员花名册\r\n\
         公民身份号码,姓名,工作单位,人员状态,编制性质,入职日期,离职日期\r\n\
         340524196811260118,冯杰俊,清河县水利局,在编在岗,事业,2001年3月1日,\r\n\
         340524198602070026,郑伟文,清河县卫生健康委员会,在编在岗,行政,2010年7月1日,\r\n\
         340102200006140155,刘力艳,清河县教育局,离退,事业,1990年9月1日,2025年1月31日\r\n",
    );
    gbk(
        &dir.join("exports/死亡人员信息.csv"),
        "身份证号码,姓名,死亡日期\r\n340524196811260118,冯杰俊,2024-09-14\r\n340102200006140155,刘力艳,2025-01-20\r\n",
    );
    let (code, out, err) =
        searchlight(&dir, &["connector", "new", "exports/财政供养人员花名册.csv", "exports/死亡人员信息.csv"]);
    assert_eq!(code, 0, "{out}{err}");
    let payroll = std::fs::read_to_string(dir.join("connectors/payroll.toml")).unwrap();
    assert!(payroll.contains("name     = \"payroll\""), "{payroll}");
    assert!(payroll.contains("header_row = 2"), "the title row is skipped: {payroll}");
    assert!(payroll.contains("id_no") && payroll.contains("from = \"公民身份号码\""), "{payroll}");
    assert!(payroll.contains("请确认"), "suggestions are marked for the user to confirm");
    assert!(payroll.contains("words outside 规范取值") && payroll.contains("\"离退\""), "{payroll}");
    let deaths = std::fs::read_to_string(dir.join("connectors/deaths.toml")).unwrap();
    assert!(deaths.contains("name     = \"deaths\"") && deaths.contains("source (数据来源)"), "{deaths}");

    // as written, the deaths skeleton lacks the canonical key's `source`: the error says what to do
    let (code, _, err) = searchlight(&dir, &["ingest", "--dry-run"]);
    assert_eq!(code, 2);
    assert!(err.contains("deaths.toml") && err.contains("key column `source`"), "{err}");
    // the user confirms the suggestions and declares what the exports lack
    std::fs::write(
        dir.join("connectors/deaths.toml"),
        deaths.replace("[columns]\n", "[columns]\nsource = { default = \"公安户籍注销\" }\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("connectors/payroll.toml"),
        payroll.replace("from = \"人员状态\" }", "from = \"人员状态\", values = { \"离退\" = \"离退休\" } }"),
    )
    .unwrap();
    let (code, out, err) = searchlight(&dir, &["ingest", "--dry-run", "--as-of", "2025-12-31"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("冯杰俊") && out.contains("试运行"), "the first landed rows are shown: {out}");
    assert!(!dir.join("lake").exists(), "a dry run writes nothing");

    // what the library can do with two exports
    let (code, out, err) = searchlight(&dir, &["coverage", "--json"]);
    assert_eq!(code, 0, "{err}");
    let cov: serde_json::Value = serde_json::from_str(&out).unwrap();
    let model = |id: &str| cov["models"].as_array().unwrap().iter().find(|m| m["model"] == id).unwrap().clone();
    assert_eq!(model("finance.salary_after_death")["reach"], "partial", "{}", model("finance.salary_after_death"));
    let after_death = model("relief.paid_after_death");
    assert_eq!(after_death["reach"], "none");
    assert!(after_death["missing"].to_string().contains("one of: subsidy_payments.id_no"), "{after_death}");
    assert!(after_death["fixes"].to_string().contains("map any one of"), "{after_death}");
    let kin = model("relief.village_official_kin_on_assistance");
    let fixes = kin["fixes"].to_string();
    assert!(fixes.contains("land the dataset `officials`") && fixes.contains("connector new"), "{fixes}");
    let payroll_use = cov["datasets"].as_array().unwrap().iter().find(|d| d["dataset"] == "payroll").unwrap();
    assert!(payroll_use["models"].as_array().unwrap().len() >= 5, "{payroll_use}");
    let (_, text, _) = searchlight(&dir, &["coverage"]);
    assert!(text.contains("不能运行") && text.contains("map a column of your export to"), "{text}");

    // first clues: the models that can look, look; the others say they could not
    let (code, out, err) = searchlight(&dir, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, 2, "models that could not look make the exit status 2: {err}");
    assert!(out.contains("未运行: 缺 deaths") || out.contains("未运行: 缺"), "{out}");
    let (_, clues, _) = searchlight(&dir, &["clues", "--json"]);
    let clues: serde_json::Value = serde_json::from_str(&clues).unwrap();
    let ids: Vec<String> = clues.as_array().unwrap().iter().map(|c| c["model"].as_str().unwrap().to_string()).collect();
    assert!(ids.contains(&"finance.salary_after_death".to_string()), "{clues}");
    assert_eq!(ids.len(), 1, "the retired 刘力艳 left the payroll the month she died: {clues}");

    // a dry run beside a lake that has the data says so, and names the snapshot a change would be
    let (code, out, err) = searchlight(&dir, &["ingest", "--dry-run", "--as-of", "2025-12-31"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("将不变") && out.contains("仍为 v000001") && !out.contains("新快照 v000001"), "{out}");
    let deaths = std::fs::read_to_string(dir.join("connectors/deaths.toml")).unwrap();
    std::fs::write(dir.join("connectors/deaths.toml"), deaths.replace("公安户籍注销", "民政殡葬火化")).unwrap();
    let (_, out, _) = searchlight(&dir, &["ingest", "--dry-run", "--as-of", "2025-12-31"]);
    assert!(out.contains("将为 v000002"), "{out}");
}

#[test]
fn check_calls_missing_data_a_mapping_problem_and_refuses_a_misspelt_optional_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("connectors")).unwrap();
    gbk(&dir.join("data/p.csv"), "身份证号,单位\r\n340524198602070026,清河县卫生健康委员会\r\n");
    std::fs::write(
        dir.join("connectors/payroll.toml"),
        "name = \"payroll\"\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号\" }\nunit_name = { from = \"单位\" }\n",
    )
    .unwrap();
    let (code, _, err) = searchlight(dir, &["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = searchlight(dir, &["check", "--model", "registry.public_servants_in_business"]);
    assert_eq!(code, 0, "the model is sound; the data is short: {out}{err}");
    assert!(out.contains("数据不足不能运行") && out.contains("enterprises"), "{out}");
    assert!(!out.contains("not found") && !err.contains("Did you mean"), "no typo is blamed on the model: {out}{err}");
    // a model of the project's own that declares an optional input it never reads
    let bundled = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/finance/salary_after_death.sql"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(
        dir.join("models/salary_after_death.sql"),
        bundled.replace("optional = [\"payroll.name\",", "optional = [\"payroll.nmae\","),
    )
    .unwrap();
    let (code, out, err) = searchlight(dir, &["check", "--model", "finance.salary_after_death"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("payroll.nmae") && err.contains("does not read"), "{err}");
    let (_, out, _) = searchlight(dir, &["models"]);
    assert!(
        out.contains("内置 bundled") && out.contains("salary_after_death.sql"),
        "the project's model replaces the bundled one: {out}"
    );
}

/// The drafts `connector new` writes for layout B's 23 exports name the datasets its
/// hand-finished connectors land (a guard on the header dictionary of the schema).
#[test]
fn drafts_for_another_countys_exports_name_the_datasets_it_holds() {
    use searchlight::connector::skeleton;
    use searchlight::schema::Schema;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-b");
    let project = searchlight::project::Project::open(&root, None, None).unwrap();
    let connectors: Vec<_> = project.connectors().unwrap().into_iter().map(|c| c.unwrap()).collect();
    let (mut checked, mut taken) = (0, Vec::new());
    for c in connectors.iter().filter(|c| c.reads_files()) {
        let searchlight::connector::Source::Files { location, format } = &c.source else { unreachable!() };
        let sheet = match format {
            searchlight::connector::FormatSpec::Xlsx(o) if o.sheets.len() == 1 && o.sheets[0] != "*" => {
                Some(o.sheets[0].clone())
            }
            _ => None,
        };
        let drafts = skeleton::drafts(&root.join(location), location, Schema::bundled(), &mut taken).unwrap();
        let draft = drafts.iter().find(|d| d.sample.sheet == sheet).unwrap_or_else(|| panic!("{location} {sheet:?}"));
        let proposed: Vec<&str> = draft.proposals.iter().map(|p| p.dataset.as_str()).collect();
        let landed: Vec<&str> = c.blocks.iter().filter(|b| !b.custom).map(|b| b.name.as_str()).collect();
        if landed.is_empty() {
            // the two death registers are datasets of the project's own; the draft says `deaths`
            assert_eq!(proposed, vec!["deaths"], "{location}");
        } else {
            // the land-grant ledger's second dataset (the construction start) was added by hand
            let landed: Vec<&str> = landed.into_iter().filter(|d| *d != "construction_permits").collect();
            assert_eq!(proposed, landed, "{location} {sheet:?}");
        }
        checked += 1;
    }
    assert!(checked >= 26, "{checked} drafts checked");
}

#[test]
fn a_connector_that_does_not_load_fails_coverage_and_check_and_is_not_advised_as_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("connectors")).unwrap();
    gbk(&dir.join("data/p.csv"), "身份证号,单位\r\n340524198602070026,清河县卫生健康委员会\r\n");
    std::fs::write(
        dir.join("connectors/payroll.toml"),
        "name = \"payroll\"\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号\", typ = \"id_card\" }\n",
    )
    .unwrap();
    let (code, out, err) = searchlight(dir, &["coverage"]);
    assert_eq!(code, 2, "{out}{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(first.contains("payroll.toml") && first.contains("无法加载") && first.contains(":6:"), "{first}");
    assert!(
        out.contains("repair") && !out.contains("`name = \"payroll\"` (`searchlight connector new"),
        "the advice is to repair the connector, not to write one: {out}"
    );
    let (code, _, err) = searchlight(dir, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("payroll.toml:6:"), "{err}");
}

/// Layout C's connectors for its new shapes were written from `connector new` drafts; the README
/// counts the edits they needed. The drafts must stay that good: two are used as drafted, the
/// payroll needs one value word, the police register is re-declared as a register of the
/// project's own (`deaths` is derived from it and the cremations, as in layout B).
#[test]
fn the_drafts_for_layout_c_need_only_the_edits_the_readme_counts() {
    let c = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-c");
    let out = tempfile::tempdir().unwrap();
    let files = [
        "exports/民政/低保花名册2024.xlsx",
        "exports/民政/低保花名册2025.xlsx",
        "exports/组织部/村干部及近亲属登记表.xlsx",
        "exports/财政/工资系统导出.csv",
        "exports/公安/死亡注销登记.txt",
    ];
    let status = Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .current_dir(&c)
        .args(["--project", ".", "connector", "new", "--out"])
        .arg(out.path())
        .args(files)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let read = |p: std::path::PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let lines = |s: &str| s.lines().map(str::trim_end).filter(|l| !l.is_empty()).map(String::from).collect::<Vec<_>>();
    // changed lines: committed lines the draft does not have
    let changed = |draft: &str, committed: &str| {
        let d = lines(&read(out.path().join(draft)));
        lines(&read(c.join("connectors").join(committed))).into_iter().filter(|l| !d.contains(l)).collect::<Vec<_>>()
    };
    // the two yearly rosters are one connector over a glob; it and the cadre roster as drafted
    assert!(!out.path().join("relief_payments_2.toml").exists(), "files of one shape are one draft");
    assert_eq!(changed("relief_payments.toml", "relief_payments.toml"), Vec::<String>::new());
    assert_eq!(changed("officials.toml", "officials.toml"), Vec::<String>::new());
    let payroll = changed("payroll.toml", "payroll.toml");
    assert_eq!(payroll.len(), 1, "{payroll:?}");
    assert!(payroll[0].contains("# edit:") && payroll[0].contains("\"离退\" = \"离退休\""), "{payroll:?}");
    let police = changed("deaths.toml", "police_deaths.toml");
    assert!(police[0].starts_with("name     = \"police_deaths\"") && police[0].contains("# edit:"), "{police:?}");
    for l in &police[1..] {
        let declared = ["custom ", "domain ", "title ", "key "].iter().any(|k| l.starts_with(k));
        assert!(declared || l.contains(", type = \""), "an edit the README does not count: {l}");
    }
}

/// The formats web and desktop systems really hand over, each recognised by its bytes (not its
/// extension) and drafted with what landing needs, then landed from the drafts as written.
#[test]
fn connector_new_recognises_formats_by_their_bytes_and_the_drafts_land() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("county");
    let out = Command::new(env!("CARGO_BIN_EXE_searchlight")).arg("init").arg(&dir).output().unwrap();
    assert!(out.status.success());
    // a web system's "Excel": an HTML table in GBK under a title row
    let html = "<html><head><meta charset=\"gbk\"></head><body><table><tr><td colspan=6>惠民惠农补贴发放明细</td></tr>\
        <tr><td>流水号</td><td>补贴项目</td><td>身份证号</td><td>姓名</td><td>发放金额</td><td>发放日期</td></tr>\
        <tr><td>S1</td><td>耕地地力保护补贴</td><td>340524194112207458</td><td>黄磊辉</td><td>120.00</td><td>2025-06-30</td></tr>\
        </table></body></html>";
    std::fs::write(dir.join("exports/补贴发放明细.xls"), encoding_rs::GBK.encode(html).0).unwrap();
    // Excel's "Unicode text": UTF-16 with a BOM, tab-delimited
    let mut u16 = vec![0xFF, 0xFE];
    for u in "身份证号码\t姓名\t死亡日期\t数据来源\r\n340524194112207458\t黄磊辉\t2024-10-12\t公安户籍注销\r\n"
        .encode_utf16()
    {
        u16.extend(u.to_le_bytes());
    }
    std::fs::write(dir.join("exports/死亡人员.txt"), u16).unwrap();
    // an API dump
    std::fs::write(
        dir.join("exports/市场主体.json"),
        r#"{"code": 0, "data": {"list": [{"统一社会信用代码": "91340524MA2T000011", "企业名称": "清河县甲公司", "登记状态": "存续"}]}}"#,
    )
    .unwrap();
    // an archive's members are drafted from what they are, with `members`; a damaged archive
    // is said to be one, not drafted as mojibake text
    {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("2025/车辆登记.csv", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(
            "号牌号码,所有人,车主证件号码,车辆类型,状态\n皖NZ8866,黄磊辉,340524194112207458,小型轿车,正常\n".as_bytes(),
        )
        .unwrap();
        z.finish().unwrap();
        std::fs::write(dir.join("exports/公安导出.zip"), buf.into_inner()).unwrap();
    }
    std::fs::write(dir.join("exports/坏的.zip"), b"PK\x03\x04\x14\x00\x00\x00junk").unwrap();
    let (code, out, err) = searchlight(
        &dir,
        &[
            "connector",
            "new",
            "exports/补贴发放明细.xls",
            "exports/死亡人员.txt",
            "exports/市场主体.json",
            "exports/公安导出.zip",
            "exports/坏的.zip",
        ],
    );
    assert_eq!(code, 2, "the damaged archive fails, the others are drafted: {out}{err}");
    assert!(err.contains("坏的.zip") && err.contains("zip archive"), "{err}");
    let vehicles =
        std::fs::read_to_string(dir.join("connectors/vehicles.toml")).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(
        vehicles.contains("members  = \"2025/车辆登记.csv\"") && vehicles.contains("from = \"车主证件号码\""),
        "{vehicles}"
    );
    let read =
        |f: &str| std::fs::read_to_string(dir.join("connectors").join(f)).unwrap_or_else(|e| panic!("{f}: {e}\n{out}"));
    let subsidy = read("subsidy_payments.toml");
    assert!(subsidy.contains("type       = \"xlsx\"") && subsidy.contains("header_row = 2"), "{subsidy}");
    let deaths = read("deaths.toml");
    assert!(deaths.contains("encoding   = \"utf-16\"") && deaths.contains("delimiter  = \"\\t\""), "{deaths}");
    let firms = read("enterprises.toml");
    assert!(firms.contains("type       = \"json\"") && firms.contains("records    = \"data.list\""), "{firms}");
    let (code, out, err) = searchlight(&dir, &["ingest", "--dry-run", "--as-of", "2025-12-31"]);
    assert_eq!(code, 0, "the drafts land as written: {out}{err}");
    assert!(out.contains("黄磊辉") && out.contains("清河县甲公司") && out.contains("皖NZ8866"), "{out}{err}");
}

#[test]
fn a_binary_file_gets_no_draft_connector() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("exports")).unwrap();
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nstream\n".to_vec();
    pdf.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    std::fs::write(dir.join("exports/低保名单.pdf"), &pdf).unwrap();
    std::fs::write(dir.join("exports/dump.bak"), [0u8, 1, 2, 3, 0, 0, 0x53, 0x51, 0x4c, 0].repeat(100)).unwrap();
    for f in ["exports/低保名单.pdf", "exports/dump.bak"] {
        let (code, out, err) = searchlight(dir, &["connector", "new", f]);
        assert_ne!(code, 0, "{f}: {out}{err}");
        assert!(err.contains("not a table searchlight can read"), "{f}: {err}");
    }
    assert!(!dir.join("connectors").exists() || std::fs::read_dir(dir.join("connectors")).unwrap().next().is_none());
}
