//! Runs that could not look, or looked at the wrong thing, resolve nothing: a wrong lake, a
//! failed ingest in the pipeline, a trial threshold, a back-fill — as a user meets them on the
//! command line.

use searchlight::ledger::{ClueFilter, Ledger, Mark};

use crate::util::{TestProject, ok, searchlight};

fn header(id: &str, entity: &str, params: &str) -> String {
    format!(
        "/* searchlight\nid = \"{id}\"\ntitle = \"测试\"\ntitle_en = \"Test\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"{entity}\"]\nunit = \"{entity}\"\n{params}*/\n"
    )
}

/// Payments (`pay`) and a register of deaths (`dead`), each with a model reading it.
fn project() -> TestProject {
    let p = TestProject::new();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
    p.write("data/p.csv", "收款人,金额,日期\n甲,900,2025-01-01\n乙,900,2025-08-01\n丙,100,2025-03-01\n");
    p.write("connectors/dead.toml", "name = \"dead\"\ntitle = \"亡\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/d.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"姓名\", type = \"text\" }\n");
    p.write("data/d.csv", "姓名\n丁\n戊\n");
    p.write(
        "models/test/big.sql",
        header("test.big", "who", "[params]\nmin = { type = \"money\", default = 500, min = 0, max = 100000 }\n")
            + "SELECT who, sum(amount) AS amount FROM pay WHERE amount >= $min AND paid <= $as_of GROUP BY who\n",
    );
    p.write("models/test/dead.sql", header("test.dead", "who", "") + "SELECT who FROM dead\n");
    p
}

fn ledger(p: &TestProject) -> Ledger {
    Ledger::open_existing(&p.path("ledger.sqlite")).unwrap()
}

fn marks(p: &TestProject) -> Vec<(String, String, Mark)> {
    let mut rows: Vec<_> =
        ledger(p).clues(&ClueFilter::default()).unwrap().into_iter().map(|c| (c.model, c.entity, c.mark)).collect();
    rows.sort();
    rows
}

#[test]
fn a_run_on_another_lake_is_refused_and_a_moved_lake_is_recognised() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let before = marks(&p);
    assert_eq!(before.len(), 4, "{before:?}");
    // a mistyped --lake: an empty location
    let (code, _, err) = searchlight(&p, &["--lake", p.path("lake-typo").to_str().unwrap(), "run"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("另一个湖") && err.contains("--new-lake"), "{err}");
    // another county's lake with data of its own
    let other = p.path("other-lake");
    ok(&p, &["--lake", other.to_str().unwrap(), "ingest", "--as-of", "2025-12-31"]);
    let (code, _, err) = searchlight(&p, &["--lake", other.to_str().unwrap(), "run", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(marks(&p), before, "a refused run changes nothing");
    // the same lake copied elsewhere keeps its identity: accepted
    let moved = p.path("moved-lake");
    copy_dir(&p.path("lake"), &moved);
    let out = ok(&p, &["--lake", moved.to_str().unwrap(), "run", "--as-of", "2025-12-31"]);
    assert!(out.contains("持续 4 条"), "{out}");
    // and a lake that really changed is taken when said so
    ok(&p, &["--lake", other.to_str().unwrap(), "run", "--as-of", "2025-12-31", "--new-lake"]);
    let (code, _, err) = searchlight(&p, &["run", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(1), "the ledger now follows the new lake: {err}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_failed_ingest_in_the_pipeline_stops_the_models_that_read_it() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    // the deaths export arrives broken: its previous snapshot stays current, but no model
    // may read it under the new date as if it were fresh
    std::fs::remove_file(p.path("data/d.csv")).unwrap();
    p.write(
        "data/p.csv",
        "收款人,金额,日期\n甲,900,2025-01-01\n乙,900,2025-08-01\n丙,100,2025-03-01\n己,700,2026-01-05\n",
    );
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2026-01-31"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(out.contains("未运行: dead 本次导入失败"), "{out}");
    let m = marks(&p);
    let dead: Vec<_> = m.iter().filter(|(model, _, _)| model == "test.dead").collect();
    assert!(dead.iter().all(|(_, _, mark)| *mark == Mark::New), "its clues are untouched: {dead:?}");
    assert!(m.iter().any(|(model, e, mark)| model == "test.big" && e == "己" && *mark == Mark::New), "{m:?}");
    let (_, out, _) = searchlight(&p, &["run", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // without --as-of a run takes the as-of of the data: the newest snapshot (pay, 2026-01-31)
    assert_eq!(v["as_of"], "2026-01-31", "{out}");
}

#[test]
fn a_trial_threshold_and_a_back_fill_move_no_mark() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let before = marks(&p);
    let runs = ledger(&p).last_run().unwrap();
    // a threshold tried out of curiosity: 甲 and 乙 would "disappear"
    let (code, out, err) = searchlight(&p, &["run", "--model", "test.big", "--param", "test.big.min=1000"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("试算") && out.contains("未记录"), "{out}\n{err}");
    assert_eq!(marks(&p), before);
    assert_eq!(ledger(&p).last_run().unwrap(), runs, "nothing recorded");
    // a back-fill with an earlier as-of: 乙 (paid 2025-08-01) is not in the data of June
    let out = ok(&p, &["run", "--model", "test.big", "--as-of", "2025-06-30"]);
    assert!(out.contains("已消失 0 条") && out.contains("历史数据"), "{out}");
    assert_eq!(marks(&p), before, "historical: recorded, no mark changed");
    // the same threshold, asked to be recorded
    let out =
        ok(&p, &["run", "--model", "test.big", "--param", "test.big.min=1000", "--record", "--as-of", "2025-12-31"]);
    assert!(out.contains("已消失 2 条"), "{out}");
}

#[tokio::test]
async fn an_ingest_that_quarantines_most_rows_fails_and_keeps_the_previous_snapshot() {
    let p = project();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\nok = { from = \"有效\", type = \"bool\" }\n");
    p.write("data/p.csv", "收款人,金额,日期,有效\n甲,900,2025-01-01,是\n乙,900,2025-08-01,是\n丙,100,2025-03-01,否\n");
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let first = p.lake().current("pay").await.unwrap().unwrap().snapshot;
    // the next export writes its flags in words the parser does not know: every row quarantined
    p.write(
        "data/p.csv",
        "收款人,金额,日期,有效\n甲,900,2025-01-01,有效\n乙,900,2025-08-01,有效\n丙,100,2025-03-01,无效\n",
    );
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2026-01-31"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.contains("3 of 3 rows") && err.contains("bad_bool 3") && err.contains("max_quarantine"), "{err}");
    assert_eq!(p.lake().current("pay").await.unwrap().unwrap().snapshot, first, "the previous snapshot stays current");
    assert!(out.contains("未运行: pay 本次导入失败"), "and no model reads it as fresh: {out}");
    assert!(marks(&p).iter().all(|(_, _, m)| *m != Mark::Resolved), "nothing resolved");
    // a connector may accept more, within 0..1
    p.write(
        "connectors/pay.toml",
        std::fs::read_to_string(p.path("connectors/pay.toml"))
            .unwrap()
            .replace("custom = true\n", "custom = true\nmax_quarantine = 1.5\n"),
    );
    let (code, _, err) = searchlight(&p, &["ingest", "pay"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("pay.toml:5:1") && err.contains("max_quarantine = 1.5"), "{err}");
    p.write(
        "connectors/pay.toml",
        std::fs::read_to_string(p.path("connectors/pay.toml"))
            .unwrap()
            .replace("max_quarantine = 1.5", "max_quarantine = 1"),
    );
    ok(&p, &["ingest", "pay"]);
}

#[test]
fn processes_recording_runs_and_steps_at_once_all_land() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let clue = searchlight::runner::clue_id("test.big", ["甲"]);
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for _ in 0..2 {
            handles.push(s.spawn(|| {
                for _ in 0..3 {
                    ok(&p, &["run", "--as-of", "2025-12-31"]);
                }
            }));
            handles.push(s.spawn(|| {
                for i in 0..5 {
                    ok(&p, &["clue", "note", &clue, "--reason", &format!("第{i}次调阅")]);
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
    });
    let l = ledger(&p);
    assert_eq!(l.events(&clue).unwrap().len(), 10, "every step landed");
    let v = l.clue(&clue, chrono::NaiveDate::MAX).unwrap().unwrap();
    assert_eq!(v.sightings.len(), 7, "every run landed: the pipeline's and six more");
    assert!(v.sightings[1..].iter().all(|s| s.mark == Mark::Ongoing));
}

#[test]
fn check_refuses_a_float_entity_column() {
    let p = project();
    p.write("models/test/float.sql", header("test.float", "x", "") + "SELECT CAST(amount AS DOUBLE) AS x FROM pay\n");
    let (code, out, err) = searchlight(&p, &["check", "--model", "test.float"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.contains("the entity column `x` is Float64: a floating-point value has no stable identity"), "{err}");
    p.write(
        "models/test/float.sql",
        header("test.float", "x", "") + "SELECT CAST(amount AS DECIMAL(18, 2)) AS x FROM pay\n",
    );
    let (code, _, err) = searchlight(&p, &["check", "--model", "test.float"]);
    assert_eq!(code, Some(0), "{err}");
}
