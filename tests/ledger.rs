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
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
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
    assert_eq!(id, searchlight::runner::clue_id("test.big", "丙"));
    let (code, _, err) = searchlight(&p, &["clues", "--state", "opened"], None);
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
    let (code, _, err) = searchlight(&p, &["backup", copy.to_str().unwrap()], None);
    assert_eq!(code, Some(1), "a backup never overwrites");
    assert!(err.contains("already exists"), "{err}");
}
