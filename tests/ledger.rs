//! The clue ledger as a user meets it: marks across runs, a run killed while recording, clue
//! listings and history, and a backup taken from the command line.

use std::process::Command;

use searchlight::ledger::{ClueFilter, Ledger, Mark};

use crate::util::TestProject;

fn searchlight(p: &TestProject, args: &[&str], fault: Option<&str>) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_searchlight"));
    cmd.arg("--project").arg(p.root()).args(args);
    if let Some(f) = fault {
        cmd.env("SEARCHLIGHT_FAULT", f);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn model(id: &str, min: u32) -> String {
    format!(
        "/* searchlight\nid = \"{id}\"\ntitle = \"大额支付\"\ntitle_en = \"Large payments\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"金额达到阈值\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"who\"\namount = \"amount\"\n[params]\nmin = {{ type = \"money\", default = {min}, min = 0, max = 100000 }}\n*/\nSELECT who, sum(amount) AS amount FROM pay WHERE amount >= $min AND paid <= $as_of GROUP BY who\n"
    )
}

fn project() -> TestProject {
    let p = TestProject::new();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
    p.write("data/p.csv", "收款人,金额,日期\n甲,900,2025-01-01\n乙,900,2025-02-01\n丙,100,2025-03-01\n");
    p.write("models/test/big.sql", model("test.big", 500));
    p.write("models/test/big2.sql", model("test.big_too", 800));
    p
}

fn ledger(p: &TestProject) -> Ledger {
    Ledger::open(&p.path("ledger.sqlite")).unwrap()
}

fn state(p: &TestProject) -> (Option<String>, Vec<(String, String, Mark)>) {
    let l = ledger(p);
    let mut rows: Vec<_> =
        l.clues(&ClueFilter::default()).unwrap().into_iter().map(|c| (c.model, c.entity, c.mark)).collect();
    rows.sort();
    (l.last_run().unwrap(), rows)
}

#[test]
fn a_run_killed_while_recording_leaves_the_ledger_unchanged_and_the_next_run_is_right() {
    let p = project();
    assert_eq!(searchlight(&p, &["ingest"], None).0, Some(0));
    let (code, out, err) = searchlight(&p, &["run", "--as-of", "2025-12-31"], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("新增 4 条"), "{out}");
    let before = state(&p);
    assert_eq!(before.1.len(), 4);

    // 乙 is paid back: the next run should resolve 乙 for both models
    p.write("data/p.csv", "收款人,金额,日期\n甲,900,2025-01-01\n丙,100,2025-03-01\n");
    assert_eq!(searchlight(&p, &["ingest"], None).0, Some(0));
    let (code, _, err) = searchlight(&p, &["run", "--as-of", "2025-12-31"], Some("ledger.mid_record"));
    assert_ne!(code, Some(0), "the fault must stop the process: {err}");
    assert!(err.contains("fault injected at ledger.mid_record"), "{err}");
    assert_eq!(state(&p), before, "a killed run leaves the ledger as it was");

    let (code, out, err) = searchlight(&p, &["run", "--as-of", "2025-12-31", "--json"], None);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ledger"]["total"]["ongoing"], 2, "{}", v["ledger"]);
    assert_eq!(v["ledger"]["total"]["resolved"], 2, "{}", v["ledger"]);
    assert!(v["ledger"]["total"].get("new").is_none(), "{}", v["ledger"]);
    let after = state(&p);
    assert!(after.1.iter().all(|(_, e, m)| (e == "乙") == (*m == Mark::Resolved)), "{after:?}");
}

#[test]
fn clues_are_listed_filtered_shown_and_backed_up() {
    let p = project();
    assert_eq!(searchlight(&p, &["ingest"], None).0, Some(0));
    let (_, out, _) = searchlight(&p, &["run", "--as-of", "2025-12-31", "--json"], None);
    let first: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run1 = first["run"].as_str().unwrap().to_string();
    // a threshold change adds 丙 to test.big; ids of 甲 and 乙 stay
    p.write("models/test/big.sql", model("test.big", 50));
    let (_, out, _) = searchlight(&p, &["run", "--as-of", "2025-12-31", "--json"], None);
    let second: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(second["ledger"]["total"]["new"], 1, "{}", second["ledger"]);
    assert_eq!(second["ledger"]["total"]["ongoing"], 4, "{}", second["ledger"]);

    let (code, out, err) = searchlight(&p, &["clues", "--model", "test.big", "--json"], None);
    assert_eq!(code, Some(0), "{err}");
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    let (_, out, _) = searchlight(&p, &["clues", "--new-since", &run1, "--json"], None);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().iter().map(|r| r["entity"].as_str().unwrap()).collect::<Vec<_>>(), vec!["丙"]);
    let id = rows[0]["clue_id"].as_str().unwrap().to_string();
    assert_eq!(id, searchlight::runner::clue_id("test.big", ["丙"]));
    let (code, _, err) = searchlight(&p, &["clues", "--mark", "opened"], None);
    assert_eq!(code, Some(1));
    assert!(err.contains("expected one of new, ongoing, resolved, reopened"), "{err}");

    let (code, out, err) = searchlight(&p, &["clue", "show", &id], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("大额支付") && out.contains("新增") && out.contains("test.big.parquet"), "{out}");
    let (code, _, err) = searchlight(&p, &["clue", "show", "Cnope"], None);
    assert_eq!(code, Some(1));
    assert!(err.contains("no clue `Cnope`"), "{err}");

    let copy = p.path("backup/ledger-copy.sqlite");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let (code, _, err) = searchlight(&p, &["backup", copy.to_str().unwrap()], None);
    assert_eq!(code, Some(0), "{err}");
    let restored = Ledger::open(&copy).unwrap();
    assert_eq!(restored.clues(&ClueFilter::default()).unwrap().len(), 5);
    // the ledger's place is configurable
    let elsewhere = p.path("elsewhere/l.sqlite");
    // … but a given path that does not exist is a typo until said otherwise
    let (code, _, err) =
        searchlight(&p, &["--ledger", elsewhere.to_str().unwrap(), "run", "--as-of", "2025-12-31"], None);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("没有台账") && err.contains("--new-ledger"), "{err}");
    assert!(!elsewhere.exists(), "nothing is created on a mistyped path");
    let (code, _, err) = searchlight(&p, &["--ledger", elsewhere.to_str().unwrap(), "clues"], None);
    assert_eq!(code, Some(1), "listing a ledger that is not there is an error, not an empty list: {err}");
    let (code, out, err) = searchlight(
        &p,
        &["--ledger", elsewhere.to_str().unwrap(), "run", "--as-of", "2025-12-31", "--new-ledger"],
        None,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("新建台账"), "said loudly: {err}");
    assert!(out.contains("新增 5 条"), "a fresh ledger sees every clue as new: {out}");
    assert_eq!(Ledger::open(&elsewhere).unwrap().clues(&ClueFilter::default()).unwrap().len(), 5);
    let (code, _, err) = searchlight(&p, &["backup", copy.to_str().unwrap()], None);
    assert_eq!(code, Some(1), "a backup never overwrites");
    assert!(err.contains("already exists"), "{err}");
}

/// `reproject --check` says the kept clue states agree with the facts, and finds it when they
/// do not (a state edited by hand); `reproject` draws them again.
#[test]
fn reproject_checks_and_redraws_the_clue_states() {
    let p = project();
    assert_eq!(searchlight(&p, &["ingest"], None).0, Some(0));
    assert_eq!(searchlight(&p, &["run", "--as-of", "2025-12-31"], None).0, Some(0));
    let (code, out, err) = searchlight(&p, &["reproject", "--check"], None);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("一致"), "{out}");
    {
        let l = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
        l.execute("UPDATE clue_state SET status = 'closed' WHERE clue_no = (SELECT min(clue_no) FROM clue_state)", [])
            .unwrap();
    }
    let (code, out, _) = searchlight(&p, &["reproject", "--check"], None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("status='closed' (expected status='pending')") && out.contains("不一致"), "{out}");
    let (code, out, err) = searchlight(&p, &["reproject"], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("已重建"), "{out}");
    assert_eq!(searchlight(&p, &["reproject", "--check"], None).0, Some(0));
    assert!(searchlight(&p, &["clues", "--state", "closed", "--json"], None).1.trim() == "[]");
}

fn step(p: &TestProject, args: &[&str]) -> String {
    let (code, out, err) = searchlight(p, args, None);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out
}

/// A recorded run into `ledger` on `as_of` (a new ledger on the first; `--full` when asked), as
/// its `--json` report.
fn recorded_run(p: &TestProject, ledger: &std::path::Path, as_of: &str, first: bool, full: bool) -> serde_json::Value {
    let mut args = vec!["--ledger", ledger.to_str().unwrap(), "run", "--as-of", as_of, "--as-of-beyond-data", "--json"];
    if first {
        args.push("--new-ledger");
    }
    if full {
        args.push("--full");
    }
    serde_json::from_str(&step(p, &args)).unwrap()
}

/// Every clue of a ledger as `clues --all --json` lists it on `as_of`, with run ids (which differ
/// between two ledgers of one lake) scrubbed, in clue id order (the order of one run's rows is
/// the engine's).
fn clue_listing(p: &TestProject, ledger: &std::path::Path, as_of: &str) -> serde_json::Value {
    let out = step(p, &["--ledger", ledger.to_str().unwrap(), "clues", "--all", "--json", "--as-of", as_of]);
    let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
    fn scrub(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.starts_with('R') && s.len() > 15 && s.contains('-') => *s = "RUN".into(),
            serde_json::Value::Array(a) => a.iter_mut().for_each(scrub),
            serde_json::Value::Object(o) => o.values_mut().for_each(scrub),
            _ => {}
        }
    }
    scrub(&mut v);
    v.as_array_mut().unwrap().sort_by_key(|c| c["clue_id"].as_str().unwrap_or_default().to_string());
    v
}

fn refused(p: &TestProject, args: &[&str]) -> String {
    let (code, _, err) = searchlight(p, args, None);
    assert_eq!(code, Some(1), "{args:?} should be refused");
    err
}

fn listed(p: &TestProject, args: &[&str]) -> Vec<String> {
    let mut all = vec!["clues", "--json"];
    all.extend_from_slice(args);
    let out = step(p, &all);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array().unwrap().iter().map(|r| r["entity"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_clue_is_worked_to_closure_and_caught_when_it_comes_back() {
    let p = project();
    std::fs::remove_file(p.path("models/test/big2.sql")).unwrap();
    step(&p, &["ingest"]);
    step(&p, &["run", "--as-of", "2025-12-31"]);
    let jia = searchlight::runner::clue_id("test.big", ["甲"]);
    let yi = searchlight::runner::clue_id("test.big", ["乙"]);

    // steps out of order, or without what they need, are refused with the reason
    let e = refused(&p, &["clue", "verify", &jia, "--result", "属实"]);
    assert!(e.contains("线索当前为「待研判」") && e.contains("「核实」只能在「已分流」「核查中」时进行"), "{e}");
    let e = refused(&p, &["clue", "triage", &jia, "--dismiss"]);
    assert!(e.contains("排除误报须写明理由"), "{e}");

    step(&p, &["clue", "triage", &jia, "--to", "县民政局", "--person", "赵六:科长", "--by", "研判员甲"]);
    step(&p, &["clue", "assign", &jia, "--to", "第一核查组", "--due", "2026-01-31"]);
    let e = refused(&p, &["clue", "verify", &jia, "--result", "基本属实"]);
    assert!(e.contains("属实、部分属实、不属实"), "{e}");
    // impossible amounts are refused at the door, not stored as NULL or wrapped in a sum
    for bad in ["NaN", "1e309", "-5", "92233720368547758", "inf"] {
        let amount = format!("--amount={bad}");
        let (code, _, err) = searchlight(&p, &["clue", "verify", &jia, "--result", "属实", &amount], None);
        assert_eq!(code, Some(2), "--amount {bad}: {err}");
        assert!(err.contains("金额"), "--amount {bad}: {err}");
    }
    step(&p, &["clue", "verify", &jia, "--result", "属实", "--amount", "900", "--recovered", "900"]);
    step(&p, &["clue", "dispose", &jia, "--action", "追缴"]);
    step(&p, &["clue", "rectify", &jia, "--due", "2026-02-28", "--reason", "建立代领备案制度"]);
    assert_eq!(listed(&p, &["--flag", "overdue", "--as-of", "2026-03-01"]), vec!["甲"]);
    assert!(listed(&p, &["--flag", "overdue", "--as-of", "2026-02-28"]).is_empty());
    let e = refused(&p, &["clue", "close", &jia]);
    assert!(e.contains("销号须写明销号说明"), "{e}");
    step(&p, &["clue", "close", &jia, "--reason", "已追回并建立制度"]);
    assert_eq!(listed(&p, &["--state", "closed"]), vec!["甲"]);

    // 乙 is dismissed as a false positive
    step(&p, &["clue", "triage", &yi, "--dismiss", "--reason", "已登记合法代领"]);
    assert_eq!(listed(&p, &["--state", "已排除"]), vec!["乙"]);

    // the same data again: not a failed rectification (nothing new to judge on)
    step(&p, &["run", "--as-of", "2025-12-31"]);
    assert!(listed(&p, &["--flag", "rectification-failed"]).is_empty());
    // newer data still shows 甲 paid: 整改不实
    p.write(
        "data/p.csv",
        "收款人,金额,日期\n甲,900,2025-01-01\n乙,900,2025-02-01\n丙,100,2025-03-01\n甲,950,2026-03-10\n",
    );
    step(&p, &["ingest"]);
    step(&p, &["run", "--as-of", "2026-03-31"]);
    assert_eq!(listed(&p, &["--flag", "rectification-failed"]), vec!["甲"]);
    let out = step(&p, &["clue", "show", &jia]);
    assert!(out.contains("已销号·整改不实"), "{out}");
    let out = step(&p, &["clue", "show", &jia, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["triage", "assign", "verify", "dispose", "rectify", "close"]);
    assert_eq!(v["events"][0]["actor"], "研判员甲");
    assert_eq!(v["state"]["rectification_failed"], true);
}

#[test]
fn an_exception_hides_a_clue_until_its_date() {
    let p = project();
    step(&p, &["ingest"]);
    step(&p, &["run", "--as-of", "2025-12-31"]);
    let jia = searchlight::runner::clue_id("test.big", ["甲"]);
    let e = refused(&p, &["clue", "except", &jia, "--until", "2026-06-30"]);
    assert!(e.contains("例外须写明理由"), "{e}");
    step(&p, &["clue", "except", &jia, "--until", "2026-06-30", "--reason", "监护人代领，已备案"]);
    let visible = listed(&p, &["--model", "test.big", "--as-of", "2026-06-30"]);
    assert_eq!(visible, vec!["乙"]);
    assert_eq!(listed(&p, &["--model", "test.big", "--as-of", "2026-06-30", "--flag", "excepted"]), vec!["甲"]);
    assert_eq!(listed(&p, &["--model", "test.big", "--as-of", "2026-06-30", "--all"]).len(), 2);
    assert_eq!(listed(&p, &["--model", "test.big", "--as-of", "2026-07-01"]).len(), 2, "the exception ends");
}

#[test]
fn a_working_paper_holds_facts_basis_responsibility_discovery_and_trail() {
    let p = project();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付款明细\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\nid_no = { from = \"身份证号\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
    p.write("data/p.csv", "收款人,身份证号,金额,日期\n甲,34052419450310001X,900,2025-01-01\n");
    let sql = model("test.big", 500)
        .replace("SELECT who, sum(amount) AS amount", "SELECT who, min(id_no) AS id_no, sum(amount) AS amount");
    // a label naming no output column is a check error
    p.write("models/test/big.sql", sql.replace("[params]", "[labels]\nnope = \"无\"\n[params]"));
    let (code, _, err) = searchlight(&p, &["check"], None);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the labelled column `nope` is not in the output"), "{err}");
    p.write("models/test/big.sql", sql.replace("[params]", "[labels]\nwho = \"收款对象\"\n[params]"));
    p.write("models/labels.toml", "amount = \"金额(元)\"\nwho = \"被模型标签覆盖\"\n");
    std::fs::remove_file(p.path("models/test/big2.sql")).unwrap();
    step(&p, &["ingest"]);
    step(&p, &["run", "--as-of", "2025-12-31", "--param", "test.big.min=800", "--record"]);
    let jia = searchlight::runner::clue_id("test.big", ["甲"]);
    step(&p, &["clue", "triage", &jia, "--to", "县民政局", "--person", "赵六:科长"]);
    step(&p, &["clue", "verify", &jia, "--result", "部分属实", "--amount", "450"]);

    let md = step(&p, &["paper", &jia]);
    for part in [
        "大额支付问题底稿",
        "## 一、问题概述",
        "## 二、事实依据",
        "## 三、政策依据",
        "## 四、责任依据",
        "## 五、发现过程",
        "## 六、核查处置记录",
        "## 七、审签",
    ] {
        assert!(md.contains(part), "missing {part}:\n{md}");
    }
    assert!(md.contains("| 甲 | 340524********001X | 900.00 |"), "evidence row, ID masked:\n{md}");
    // headers in Chinese: the model's label, the export header, the library glossary
    assert!(md.contains("| 收款对象 | 身份证号 | 金额(元) |"), "{md}");
    assert!(!md.contains("34052419450310001X"), "{md}");
    assert!(md.contains("data/p.csv") && md.contains("付款明细") && md.contains("v000001"), "sources:\n{md}");
    assert!(md.contains("- 测试依据"), "policy basis:\n{md}");
    assert!(md.contains("承办部门：县民政局") && md.contains("责任人：赵六(科长)"), "{md}");
    assert!(md.contains("参数：min=800.00") && md.contains("数据截至 2025-12-31"), "{md}");
    assert!(md.contains("核实结论: 部分属实，涉及金额 450.00 元"), "{md}");

    let out = p.path("paper.html");
    step(&p, &["paper", &jia, "--format", "html", "--show-ids", "--out", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h2>二、事实依据</h2>"), "{html}");
    assert!(html.contains(">34052419450310001X</td>"), "--show-ids shows the ID:\n{html}");
    // ID numbers are masked in listings and history unless asked for
    step(&p, &["clue", "note", &jia, "--reason", "本人身份证号34052419450310001X，已核对"]);
    let shown = step(&p, &["clue", "show", &jia]);
    assert!(shown.contains("340524********001X") && !shown.contains("34052419450310001X"), "{shown}");
    let shown = step(&p, &["clue", "show", &jia, "--show-ids", "--json"]);
    assert!(shown.contains("34052419450310001X"), "{shown}");
    let e = refused(&p, &["paper", "Cnope"]);
    assert!(e.contains("no clue `Cnope`"), "{e}");
}

#[test]
fn runs_are_listed_with_their_trigger_outcome_and_marks() {
    let p = project();
    assert_eq!(searchlight(&p, &["ingest"], None).0, Some(0));
    assert_eq!(searchlight(&p, &["run", "--as-of", "2025-12-31"], None).0, Some(0));
    p.write("data/p.csv", "收款人,金额,日期\n甲,900,2025-01-01\n丙,100,2025-03-01\n");
    assert_eq!(searchlight(&p, &["ingest"], None).0, Some(0));
    assert_eq!(searchlight(&p, &["run", "--as-of", "2025-12-31"], None).0, Some(0));
    // a model that needs the death register the project does not have
    p.write(
        "models/test/dead.sql",
        "/* searchlight\nid = \"test.dead\"\ntitle = \"亡\"\ntitle_en = \"Dead\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"id_no\"]\nunit = \"id_no\"\n*/\nSELECT id_no FROM deaths\n",
    );
    assert_eq!(searchlight(&p, &["run", "--as-of", "2025-12-31"], None).0, Some(2));
    let (code, out, err) = searchlight(&p, &["runs", "--json"], None);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let runs = v.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    // newest first
    assert_eq!(runs[0]["outcome"], "partial", "{}", runs[0]);
    assert_eq!(runs[0]["not_run"], 1);
    assert_eq!(runs[0]["models"], 3);
    assert_eq!(runs[0]["marks"]["ongoing"], 2);
    assert_eq!(runs[1]["outcome"], "ok");
    assert_eq!(runs[1]["marks"]["ongoing"], 2, "{}", runs[1]);
    assert_eq!(runs[1]["marks"]["resolved"], 2);
    assert_eq!(runs[2]["marks"]["new"], 4);
    assert!(runs.iter().all(|r| r["trigger"] == "manual" && r["ended_at"].as_str() >= r["started_at"].as_str()));
    let (_, table, _) = searchlight(&p, &["runs"], None);
    assert!(table.contains("部分完成 partial") && table.contains("未运行 1") && table.contains("3 次运行"), "{table}");
}

#[test]
fn papers_and_json_speak_in_labels_and_exact_figures() {
    let p = project();
    // a project dataset whose columns share names with canonical ones (other headers), one
    // labelled by the connector, and a model that computes a float and has no unit value
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付款明细\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\nhousehold_id = { from = \"户号\", type = \"text\" }\nmonthly_pay = { from = \"月发放\", type = \"money\" }\nbatch_no = { from = \"批次\", type = \"text\", label = \"发放批次\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
    p.write("data/p.csv", "收款人,户号,月发放,批次,金额,日期\n甲,H1,5881.30,B7,70575.60,2025-01-01\n");
    std::fs::remove_file(p.path("models/test/big2.sql")).unwrap();
    p.write(
        "models/test/big.sql",
        model("test.big", 500).replace("unit = \"who\"", "unit = \"unit\"").replace(
            "SELECT who, sum(amount) AS amount FROM pay",
            "SELECT who, CAST(NULL AS VARCHAR) AS unit, min(household_id) AS household_id, min(monthly_pay) AS monthly_pay, \
             min(batch_no) AS batch_no, sum(CAST(monthly_pay AS DOUBLE) * 12.0) AS yearly, sum(amount) AS amount FROM pay",
        ),
    );
    step(&p, &["ingest"]);
    step(&p, &["run", "--as-of", "2025-12-31", "--record"]);
    let jia = searchlight::runner::clue_id("test.big", ["甲"]);
    let md = step(&p, &["paper", &jia]);
    // canonical labels for canonical names, the connector's label, the export header; no
    // column names; the float as a figure; no paper that opens with a bare `：`
    for label in ["| 收款人 |", "家庭编号", "月工资", "发放批次"] {
        assert!(md.contains(label), "{label}:\n{md}");
    }
    for raw in ["household_id", "monthly_pay", "batch_no", "70575.59999", "70575.6000"] {
        assert!(!md.contains(raw), "{raw}:\n{md}");
    }
    assert!(md.contains("70575.60"), "{md}");
    let overview = md.lines().find(|l| l.contains("对象 ")).unwrap_or_default();
    assert!(!overview.starts_with('：') && overview.contains("被查单位未识别"), "{overview}");
    // JSON money is exact: a decimal string and integer 分, never a float
    let v: serde_json::Value = serde_json::from_str(&step(&p, &["clues", "--json"])).unwrap();
    assert_eq!(v[0]["amount"], "70575.60", "{v}");
    assert_eq!(v[0]["amount_fen"], 7057560, "{v}");
    let shown: serde_json::Value = serde_json::from_str(&step(&p, &["clue", "show", &jia, "--json"])).unwrap();
    assert_eq!(shown["sightings"][0]["amount"], "70575.60", "{shown}");
}

/// A run replays a model whose model, parameters and input snapshots (and as-of, where it reads
/// one) are those of its last recorded run, instead of executing it; the ledger says so. Over
/// random appends, edits, as-of moves and workflow steps, a ledger recorded this way holds
/// exactly the clue states of one recorded with `--full` on the same lake.
#[test]
fn a_replayed_model_leaves_the_clues_exactly_as_a_full_run_would() {
    let p = project();
    std::fs::remove_file(p.path("models/test/big2.sql")).unwrap();
    p.write("connectors/q.toml", "name = \"q\"\ntitle = \"数\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/q.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"名称\", type = \"text\" }\nn = { from = \"数量\", type = \"int\" }\n");
    // a model that does not read $as_of: an as-of move alone does not recompute it
    p.write("models/test/many.sql", "/* searchlight\nid = \"test.many\"\ntitle = \"数量多\"\ntitle_en = \"Many\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"数量合计达到3\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"who\"\n*/\nSELECT who, sum(n) AS total FROM q GROUP BY who HAVING sum(n) >= 3\n");
    let names = ["甲", "乙", "丙", "丁", "戊", "己"];
    let mut pay = String::from("收款人,金额,日期\n甲,900,2025-01-01\n");
    let mut q = String::from("名称,数量\n甲,2\n");
    p.write("data/p.csv", &pay);
    p.write("data/q.csv", &q);
    let mut g = crate::util::Gen(0x5eed_cafe);
    let mut as_of = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let ledgers = [p.path("carry.sqlite"), p.path("full.sqlite")];
    let mut replayed = 0;
    let mut recomputed_after_change = 0;
    for round in 0..14 {
        let what = if round == 0 { 9 } else { g.next() % 7 };
        match what {
            0 | 1 => {
                let who = names[(g.next() % 6) as usize];
                let amount = 100 + g.next() % 900;
                pay.push_str(&format!("{who},{amount},2025-{:02}-15\n", 1 + g.next() % 12));
                p.write("data/p.csv", &pay);
            }
            2 | 3 => {
                q.push_str(&format!("{},{}\n", names[(g.next() % 6) as usize], 1 + g.next() % 2));
                p.write("data/q.csv", &q);
            }
            4 => as_of = as_of + chrono::Days::new(1 + g.next() % 9),
            5 => {
                // an edit to a model: a new version is executed, never replayed
                let min = 300 + 100 * (g.next() % 5);
                p.write("models/test/big.sql", model("test.big", min as u32));
            }
            _ => {}
        }
        let d = as_of.to_string();
        step(&p, &["ingest", "--as-of", &d]);
        let mut carried_now = Vec::new();
        for (k, l) in ledgers.iter().enumerate() {
            let v = recorded_run(&p, l, &d, round == 0, k == 1);
            let carried: Vec<String> = v["models"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m.get("carried_from").is_some())
                .map(|m| m["model"].as_str().unwrap().to_string())
                .collect();
            if k == 1 {
                assert!(carried.is_empty(), "--full replays nothing: {carried:?}");
            } else {
                carried_now = carried;
            }
        }
        // what changed this round is executed; what did not, is replayed
        let changed: &[&str] = match what {
            9 => &["test.big", "test.many"],
            0 | 1 | 4 | 5 => &["test.big"],
            2 | 3 => &["test.many"],
            _ => &[],
        };
        for m in ["test.big", "test.many"] {
            if changed.contains(&m) {
                assert!(!carried_now.contains(&m.to_string()), "round {round}: {m} changed but was replayed");
                recomputed_after_change += 1;
            }
        }
        replayed += carried_now.len();
        // the same workflow step in both ledgers now and then
        if g.next() % 3 == 0 {
            let who = names[(g.next() % 6) as usize];
            let id = searchlight::runner::clue_id("test.big", [who]);
            for l in &ledgers {
                let l = l.to_str().unwrap();
                let (code, _, _) =
                    searchlight(&p, &["--ledger", l, "clue", "triage", &id, "--dismiss", "--reason", "误报"], None);
                let _ = code; // refused alike in both when the clue is absent or already triaged
            }
        }
        let listing = |l: &std::path::Path| clue_listing(&p, l, &d);
        assert_eq!(listing(&ledgers[0]), listing(&ledgers[1]), "round {round} ({what}): the two ledgers differ");
    }
    assert!(replayed >= 8, "the sequence must replay often enough to mean something: {replayed}");
    assert!(recomputed_after_change >= 8, "{recomputed_after_change}");
    // the ledger says which run computed a replayed result
    let l = Ledger::open(&ledgers[0]).unwrap();
    let prev = l.previous_outcomes().unwrap();
    assert_eq!(prev.len(), 2);
    let runs = |l: &std::path::Path| {
        let out = step(&p, &["--ledger", l.to_str().unwrap(), "runs", "--json", "--limit", "100"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v.as_array().unwrap().iter().map(|r| r["carried"].as_u64().unwrap()).sum::<u64>()
    };
    assert_eq!(runs(&ledgers[0]) as usize, replayed, "the runs list says how many results were replayed");
    assert_eq!(runs(&ledgers[1]), 0);
    let out = step(&p, &["--ledger", ledgers[0].to_str().unwrap(), "runs"]);
    assert!(out.contains("输入未变沿用"), "{out}");
}

/// A connector declared `append = true` lands a grown export as a snapshot that shares the
/// earlier files' parts, and a model declared `[incremental]` is then evaluated over the keys
/// the new rows (and a moved as-of) touch only. Over random appends, as-of moves, re-issued
/// files and workflow steps, a ledger recorded this way holds exactly the clue states of one
/// recorded with `--full` on the same lake — for a model of the project and for the library's
/// `relief.paid_twice_in_a_month` and `relief.paid_to_another_account`.
#[test]
fn an_incremental_model_leaves_the_clues_exactly_as_a_full_run_would() {
    const MODELS: [&str; 3] = ["test.twice", "relief.paid_twice_in_a_month", "relief.paid_to_another_account"];
    let p = TestProject::new();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nappend = true\nlocation = \"data/p/*.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
    p.write("connectors/relief_payments.toml", "name = \"relief_payments\"\nappend = true\nlocation = \"data/relief/*.csv\"\nkey = []\n[format]\ntype = \"csv\"\n[columns]\ntown = { from = \"乡镇\", type = \"text\" }\nhousehold_id = { from = \"家庭编号\", type = \"text\" }\nhead_name = { from = \"户主姓名\", type = \"text\" }\npay_month = { from = \"发放月份\", type = \"month\" }\npay_date = { from = \"发放日期\", type = \"date\" }\namount = { from = \"低保金(元)\", type = \"money\" }\naccount = { from = \"银行账号\", type = \"account\" }\naccount_name = { from = \"账户户名\", type = \"text\" }\n");
    p.write("connectors/relief_households.toml", "name = \"relief_households\"\nlocation = \"data/households.csv\"\n[format]\ntype = \"csv\"\n[columns]\nhousehold_id = { from = \"家庭编号\", type = \"text\" }\nhead_name = { from = \"户主姓名\", type = \"text\" }\n");
    p.write(
        "data/households.csv",
        (0..6).map(|h| format!("H{h:03},户主{h}\n")).fold(String::from("家庭编号,户主姓名\n"), |s, l| s + &l),
    );
    p.write("models/test/twice.sql", "/* searchlight\nid = \"test.twice\"\ntitle = \"多次支付\"\ntitle_en = \"Paid more than once\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"同一收款人两笔以上\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"who\"\namount = \"amount\"\n[incremental]\ntable = \"pay\"\nkey = \"who\"\noutput = \"who\"\nas_of = \"paid\"\n*/\nSELECT who, count(*) AS n, sum(amount) AS amount FROM pay WHERE paid <= $as_of GROUP BY who HAVING count(*) >= 2\n");
    // the library's model as it ships (the project runs its own models only)
    p.write("models/relief/paid_twice_in_a_month.sql", include_str!("../models/relief/paid_twice_in_a_month.sql"));
    p.write("models/relief/paid_to_another_account.sql", include_str!("../models/relief/paid_to_another_account.sql"));
    let names = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"];
    let mut g = crate::util::Gen(0x1dea_5eed);
    let pay_file = |g: &mut crate::util::Gen| {
        let mut s = String::from("收款人,金额,日期\n");
        for _ in 0..1 + g.next() % 3 {
            let (who, amount) = (names[(g.next() % 6) as usize], 100 + g.next() % 900);
            s.push_str(&format!("{who},{amount},2025-{:02}-{:02}\n", 1 + g.next() % 12, 1 + g.next() % 28));
        }
        s
    };
    let relief_file = |g: &mut crate::util::Gen| {
        let mut s = String::from("乡镇,家庭编号,户主姓名,发放月份,发放日期,低保金(元),银行账号,账户户名\n");
        for _ in 0..1 + g.next() % 4 {
            let h = g.next() % 6;
            let month = 1 + g.next() % 12;
            // mostly the head's own account; now and then one of two agents' accounts
            let (account, holder) = match g.next() % 4 {
                0 => {
                    let a = g.next() % 2;
                    (format!("62280000000000{a:04}"), format!("代领人{a}"))
                }
                _ => (format!("62170000000000{h:04}"), format!("户主{h}")),
            };
            s.push_str(&format!(
                "城关镇,H{h:03},户主{h},2025-{month:02},2025-{month:02}-{:02},{},{account},{holder}\n",
                1 + g.next() % 28,
                300 + g.next() % 200
            ));
        }
        s
    };
    let mut files = 0usize;
    let mut add = |p: &TestProject, g: &mut crate::util::Gen| {
        p.write(&format!("data/p/{files:03}.csv"), pay_file(g));
        p.write(&format!("data/relief/{files:03}.csv"), relief_file(g));
        files += 1;
    };
    for _ in 0..3 {
        add(&p, &mut g);
    }
    let mut as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
    let ledgers = [p.path("incremental.sqlite"), p.path("full.sqlite")];
    let mut appended = 0;
    let mut seen = std::collections::BTreeMap::new();
    let mut updated_by = std::collections::BTreeMap::new();
    for round in 0..16 {
        // every third round the as-of moves, whatever else the dice say
        let what = match round {
            0 => 9,
            r if r % 3 == 2 => 3,
            _ => g.next() % 6,
        };
        match what {
            0..=2 => add(&p, &mut g),
            // the as-of moves (with or without new rows): the rows it brings into view count
            3 => {
                if g.next() % 2 == 0 {
                    add(&p, &mut g);
                }
                as_of = as_of + chrono::Days::new(20 + g.next() % 60);
            }
            // an earlier file re-issued: not an append, everything lands and computes afresh
            4 => {
                let k = (g.next() % 3) as usize;
                p.write(&format!("data/p/{k:03}.csv"), pay_file(&mut g));
                p.write(&format!("data/relief/{k:03}.csv"), relief_file(&mut g));
            }
            _ => {}
        }
        let d = as_of.to_string();
        let ingest = step(&p, &["ingest", "--as-of", &d]);
        if ingest.contains("新快照(追加)") {
            appended += 1;
        }
        for (k, l) in ledgers.iter().enumerate() {
            let v = recorded_run(&p, l, &d, round == 0, k == 1);
            for m in v["models"].as_array().unwrap() {
                if let Some(inc) = m.get("increment") {
                    assert_eq!(k, 0, "--full computes everything: {m}");
                    assert!(inc["keys"].is_u64() && inc["new_rows"].is_u64(), "{inc}");
                    assert!(what <= 3, "round {round} ({what}): nothing was appended nor moved, yet {m}");
                    *updated_by.entry(m["model"].as_str().unwrap().to_string()).or_insert(0) += 1;
                }
                if MODELS.contains(&m["model"].as_str().unwrap()) {
                    assert!(m.get("error").is_none_or(|e| e.is_null()), "{m}");
                    let warnings = m["warnings"].as_array().unwrap();
                    assert!(!warnings.iter().any(|w| w.as_str().unwrap().contains("无法增量")), "{m}");
                }
            }
        }
        if g.next() % 3 == 0 {
            let who = names[(g.next() % 8) as usize];
            let id = searchlight::runner::clue_id("test.twice", [who]);
            for l in &ledgers {
                let _ = searchlight(
                    &p,
                    &["--ledger", l.to_str().unwrap(), "clue", "triage", &id, "--dismiss", "--reason", "误报"],
                    None,
                );
            }
        }
        let listing = |l: &std::path::Path| clue_listing(&p, l, &d);
        let (a, b) = (listing(&ledgers[0]), listing(&ledgers[1]));
        assert_eq!(a, b, "round {round} ({what}): the two ledgers differ");
        for m in MODELS {
            if a.as_array().unwrap().iter().any(|c| c["model"] == m) {
                *seen.entry(m).or_insert(0) += 1;
            }
        }
    }
    assert!(seen.values().all(|&n| n >= 6) && seen.len() == MODELS.len(), "every model must find clues: {seen:?}");
    assert!(appended >= 5, "grown exports land as appends: {appended}");
    assert!(
        updated_by.len() == MODELS.len() && updated_by.values().all(|&n| n >= 4),
        "every model must be updated often enough to mean something: {updated_by:?}"
    );
    // the runs list says how many results were updated incrementally
    let out = step(&p, &["--ledger", ledgers[0].to_str().unwrap(), "runs"]);
    assert!(out.contains("增量计算"), "{out}");
}
