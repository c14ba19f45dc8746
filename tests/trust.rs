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

/// A county's 低保 roster as a civil-affairs system prints it: the month paid for (发放年月), no
/// day paid; a register of deaths; with the household head's ID or without it, and with or
/// without the 一卡通 subsidies.
fn relief_by_month(with_head: bool, with_subsidies: bool) -> TestProject {
    let p = TestProject::new();
    p.write("searchlight.toml", "[library]\nbundled = true\n");
    p.write(
        "connectors/deaths.toml",
        "name = \"deaths\"\nlocation = \"data/deaths.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号\" }\nname = { from = \"姓名\" }\ndeath_date = { from = \"死亡日期\" }\nsource = { default = \"公安户籍注销\" }\n",
    );
    p.write(
        "data/deaths.csv",
        "身份证号,姓名,死亡日期\n340524194112207458,黄磊辉,2024-10-12\n340524198301117484,周文,2025-05-08\n340524199403310124,郭国,2024-08-10\n",
    );
    let head = if with_head { "head_id = { from = \"户主身份证号\" }\n" } else { "" };
    p.write(
        "connectors/relief.toml",
        format!(
            "name = \"relief_payments\"\nlocation = \"data/relief.csv\"\n[format]\ntype = \"csv\"\n[columns]\ntown = {{ from = \"乡镇\" }}\nhousehold_id = {{ from = \"家庭编号\" }}\n{head}pay_month = {{ from = \"发放年月\" }}\namount = {{ from = \"低保金\" }}\n"
        ),
    );
    let mut csv = String::from("乡镇,家庭编号,户主身份证号,发放年月,低保金\n");
    for m in 1..=12 {
        csv.push_str(&format!("城关镇,DB1,340524194112207458,2025-{m:02},580.00\n"));
    }
    for m in 4..=5 {
        csv.push_str(&format!("城关镇,DB2,340524198301117484,2025-{m:02},580.00\n"));
    }
    p.write("data/relief.csv", csv);
    if with_subsidies {
        p.write(
            "connectors/subsidy.toml",
            "name = \"subsidy_payments\"\nlocation = \"data/subsidy.csv\"\n[format]\ntype = \"csv\"\n[columns]\nserial_no = { from = \"流水号\" }\nid_no = { from = \"身份证号\" }\namount = { from = \"金额\" }\npay_date = { from = \"发放日期\" }\n",
        );
        p.write("data/subsidy.csv", "流水号,身份证号,金额,发放日期\nS1,340524199403310124,120.00,2025-06-30\n");
    }
    p
}

fn run_json(p: &TestProject) -> serde_json::Value {
    let (_, out, err) =
        searchlight(p, &["run", "--model", "relief.paid_after_death", "--as-of", "2025-12-31", "--json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

#[test]
fn a_roster_by_month_finds_the_dead_paid_and_a_route_that_cannot_look_says_so() {
    // the month paid for is enough: the head who died in 2024-10 was paid for every month of
    // 2025; the one who died in May was paid for April and May only
    let p = relief_by_month(true, false);
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    let run = run_json(&p);
    let m = &run["models"][0];
    assert_eq!(m["status"], "partial", "the subsidy route had no data: {m}");
    assert_eq!(m["blind_routes"][0]["route"][0], "subsidy_payments", "{m}");
    let entities: Vec<&str> = m["clues"].as_array().unwrap().iter().map(|c| c["entity"].as_str().unwrap()).collect();
    assert_eq!(entities, vec!["340524********7458"], "IDs masked in JSON too");
    // the working paper says what was compared
    let clue = m["clues"][0]["id"].as_str().unwrap();
    let paper = ok(&p, &["paper", clue, "--format", "md"]);
    assert!(paper.contains("比对依据") && paper.contains("发放月份"), "{paper}");

    // a roster without the head's ID (and no household register): the 低保 route cannot tell
    // who was paid. With subsidies there, the model looks along that route only and says so.
    let p = relief_by_month(false, true);
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    let (code, out, err) = searchlight(&p, &["run", "--model", "relief.paid_after_death", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("部分未检查: 低保资金发放明细路线缺") && out.contains("户主身份证号(relief_payments.head_id)"),
        "{out}"
    );
    assert!(!out.contains("完成"), "{out}");
    let m = &run_json(&p)["models"][0];
    assert_eq!(m["clues"].as_array().unwrap().len(), 1, "the subsidy route still finds 郭国: {m}");

    // neither route can look: the model does not run, and the run is not a success
    let p = relief_by_month(false, false);
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    let (code, out, err) = searchlight(&p, &["run", "--model", "relief.paid_after_death", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(2), "a model that could not look is not a success: {out}\n{err}");
    assert!(out.contains("未运行") && out.contains("relief_payments.head_id"), "{out}");
    assert!(!out.contains("完成"), "{out}");
}

/// `run --as-of 2052-12-31` meant 2025: refused; recorded on purpose it would freeze every later
/// run as historical — and a run recorded by mistake is withdrawn, after which the real runs
/// mark clues again.
#[test]
fn a_mistyped_future_as_of_is_refused_and_a_mistaken_run_is_withdrawn() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let (code, _, err) = searchlight(&p, &["run", "--model", "test.big", "--as-of", "2052-12-31"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("2052-12-31") && err.contains("newest data in the lake (2025-12-31)"), "{err}");
    assert!(err.contains("--as-of-beyond-data") && err.contains("runs withdraw"), "{err}");
    let (code, _, err) = searchlight(&p, &["pipeline", "--as-of", "2052-12-31"]);
    assert_eq!(code, Some(1), "an ingest dated ahead of today is refused too: {err}");
    // recorded anyway: the real run after it is historical and moves nothing …
    ok(&p, &["run", "--model", "test.big", "--as-of", "2052-12-31", "--as-of-beyond-data"]);
    let mistaken = ledger(&p).last_run().unwrap().unwrap();
    p.write("data/p.csv", "收款人,金额,日期\n甲,900,2025-01-01\n丙,100,2025-03-01\n");
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    let out = ok(&p, &["run", "--model", "test.big", "--as-of", "2025-12-31"]);
    assert!(out.contains("历史数据") && out.contains("已消失 0 条"), "frozen: {out}");
    // … until the mistaken run is withdrawn, saying who and why
    let (code, _, err) = searchlight(&p, &["runs", "withdraw", &mistaken, "--by", "张三", "--reason", ""]);
    assert_eq!(code, Some(1), "{err}");
    let out = ok(&p, &["runs", "withdraw", &mistaken, "--by", "张三", "--reason", "as-of 输错(应为2025)"]);
    assert!(out.contains("已撤回"), "{out}");
    let runs = ok(&p, &["runs", "--json"]);
    assert!(runs.contains("withdrawn") && runs.contains("张三") && runs.contains("as-of 输错"), "{runs}");
    let out = ok(&p, &["run", "--model", "test.big", "--as-of", "2025-12-31"]);
    assert!(out.contains("已消失 1 条") && !out.contains("历史数据"), "乙 no longer paid: {out}");
}

#[test]
fn a_query_over_the_memory_limit_fails_alone_and_the_process_lives() {
    let p = project();
    // a join whose build side is millions of rows (doubling 22 times): far beyond 16 MiB
    p.write(
        "models/test/greedy.sql",
        header("test.greedy", "who", "")
            + "WITH RECURSIVE s(n) AS (SELECT 1 AS n UNION ALL SELECT n * 2 + b FROM s CROSS JOIN (VALUES (0), (1)) t(b) WHERE n < 4194304)\n\
               SELECT pay.who FROM pay JOIN (SELECT a.n FROM s a JOIN s c ON a.n = c.n) j ON j.n = length(pay.who) GROUP BY pay.who\n",
    );
    let (code, out, err) = searchlight(&p, &["--memory-limit", "16MiB", "pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(2), "one model failed, the rest recorded: {out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains("test.greedy") && all.contains("memory limit") && all.contains("16 MiB"), "{all}");
    let seen: Vec<String> = marks(&p).into_iter().map(|(m, _, _)| m).collect();
    assert!(seen.iter().any(|m| m == "test.big") && seen.iter().any(|m| m == "test.dead"), "{seen:?}");
    assert!(!seen.iter().any(|m| m == "test.greedy"), "{seen:?}");
    let (code, _, err) = searchlight(&p, &["--memory-limit", "lots", "run"]);
    assert_eq!(code, Some(2), "clap usage error: {err}");
    assert!(err.contains("not a size"), "{err}");
}

#[test]
fn an_endless_query_is_cancelled_at_the_query_timeout() {
    let p = project();
    let endless = "WITH RECURSIVE s(n) AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM s) ";
    p.write(
        "models/test/endless.sql",
        header("test.endless", "who", "") + endless + "SELECT pay.who FROM pay JOIN s ON s.n = 0\n",
    );
    let (code, out, err) = searchlight(&p, &["--query-timeout", "3s", "pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains("test.endless") && all.contains("query timeout of 3 秒"), "{all}");
    let seen: Vec<String> = marks(&p).into_iter().map(|(m, _, _)| m).collect();
    assert!(seen.iter().any(|m| m == "test.big") && !seen.iter().any(|m| m == "test.endless"), "{seen:?}");
    // `sql` too, with the limit from searchlight.toml; a bad setting names its place
    p.write("searchlight.toml", "[engine]\nquery_timeout = \"half a minute\"\n");
    let (code, _, err) = searchlight(&p, &["sql", "SELECT 1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("searchlight.toml:2:17") && err.contains("query_timeout"), "{err}");
    p.write("searchlight.toml", "[engine]\nquery_timeout = \"2s\"\nmemory_limit = \"1GiB\"\n");
    let (code, _, err) = searchlight(&p, &["sql", &format!("{endless}SELECT count(*) FROM s")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("查询超时") && err.contains("2 秒"), "{err}");
}

/// Mode bits of every file and folder under `dir`, and of `dir`.
fn modes(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    out.push((dir.to_path_buf(), std::fs::metadata(dir).unwrap().permissions().mode() & 0o777));
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            modes(&e.path(), out);
        } else {
            out.push((e.path(), e.metadata().unwrap().permissions().mode() & 0o777));
        }
    }
}

#[test]
fn files_holding_personal_data_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let id =
        ledger(&p).clues(&ClueFilter::default()).unwrap().into_iter().find(|c| c.model == "test.big").unwrap().clue_id;
    ok(&p, &["paper", &id, "--out", p.path("paper.md").to_str().unwrap()]);
    let mut all = Vec::new();
    modes(&p.path("lake"), &mut all);
    for f in ["ledger.sqlite", "paper.md"] {
        all.push((p.path(f), std::fs::metadata(p.path(f)).unwrap().permissions().mode() & 0o777));
    }
    assert!(all.len() > 10, "{all:?}");
    for (path, mode) in &all {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{} is {mode:o}", path.display());
    }
    // a deployment that shares with a group says so
    let (code, _, err) = crate::util::searchlight_env(
        &p,
        &["paper", &id, "--out", p.path("shared.md").to_str().unwrap()],
        &[("SEARCHLIGHT_UMASK", "027")],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::metadata(p.path("shared.md")).unwrap().permissions().mode() & 0o777, 0o640);
}

#[test]
fn a_project_copied_elsewhere_does_not_re_land_its_data() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let elsewhere = crate::util::TestProject::new();
    copy_dir(p.root(), &elsewhere.path("county"));
    let copied = elsewhere.path("county");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .args(["--project", copied.to_str().unwrap(), "ingest", "--as-of", "2025-12-31"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("新快照 0, 未变化 2"), "the same files in a moved project are unchanged: {said}");
    let manifest = std::fs::read_to_string(copied.join("lake/pay/v000001/_manifest.json")).unwrap();
    assert!(manifest.contains("\"location\": \"data/p.csv\""), "{manifest}");
}

#[test]
fn two_pipelines_at_once_take_turns_and_neither_fails() {
    let p = project();
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    p.write("data/p.csv", "收款人,金额,日期\n甲,900,2025-01-01\n");
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
            .args(["--project", p.root().to_str().unwrap(), "pipeline", "--as-of", "2025-12-31"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // another pipeline (this test process, alive) holds the turn: a new one waits, landing nothing
    let mut l = ledger(&p);
    let holder = searchlight::ledger::lease_holder_id(chrono::Utc::now());
    let taken = l.take_lease("pipeline", &holder, chrono::Utc::now(), chrono::Duration::seconds(60), &|_| false);
    assert!(matches!(taken, Ok(Ok(()))), "{taken:?}");
    let mut waiting = spawn();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(waiting.try_wait().unwrap().is_none(), "it waits its turn");
    assert!(!p.path("lake/pay/v000002").exists(), "and lands nothing meanwhile");
    l.release_lease("pipeline", &holder).unwrap();
    let out = waiting.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("新快照 1"), "then runs: {said}");
    assert!(
        said.contains("等待另一个导入运行结束") && said.contains(&holder),
        "it said whose turn it waited for: {said}"
    );
    // two started together: both complete, neither takes the other's datasets for a failure
    p.write("data/p.csv", "收款人,金额,日期\n乙,900,2025-08-01\n");
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{said}");
        assert!(!said.contains("导入失败") && !said.contains("失败 failed"), "{said}");
    }
    let runs: serde_json::Value = serde_json::from_str(&ok(&p, &["runs", "--json"])).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 4, "{runs:#}");
}

#[test]
fn a_line_longer_than_the_limit_fails_its_dataset_alone_and_leaves_nothing_behind() {
    let p = project();
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    let mut text = String::from("收款人,金额,日期\n甲,900,2025-01-01\n乙,");
    text.push_str(&"9".repeat(3 << 20));
    text.push_str(",2025-08-01\n丙,100,2025-03-01\n");
    p.write("data/p.csv", &text);
    let (code, out, err) =
        crate::util::searchlight_env(&p, &["ingest", "--as-of", "2025-12-31"], &[("SEARCHLIGHT_MAX_LINE", "1MiB")]);
    assert_eq!(code, Some(2), "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("p.csv:3") && all.contains("longer than 1 MiB"), "{all}");
    assert!(all.contains("dead") || out.contains("未变化"), "the other dataset still lands: {all}");
    let left: Vec<_> = std::fs::read_dir(p.path("lake/pay")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!p.path("lake/pay/v000002").exists(), "no half-written snapshot: {left:?}");
    // without the low limit the line is data (a long amount, quarantined or landed)
    let (code, _, err) = crate::util::searchlight(&p, &["ingest", "--as-of", "2025-12-31"]);
    assert_ne!(code, Some(1), "{err}");
}

#[test]
fn a_workbook_that_inflates_beyond_the_limit_is_refused_before_it_is_read() {
    let p = crate::util::TestProject::new();
    // 60 000 rows of one repeated name: a small file, a sheet of megabytes
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    for r in 1..60_000u32 {
        ws.write_string(r, 0, "张三").unwrap();
    }
    std::fs::create_dir_all(p.path("data")).unwrap();
    wb.save(p.path("data/w.xlsx")).unwrap();
    assert!(std::fs::metadata(p.path("data/w.xlsx")).unwrap().len() < 1 << 20, "the file itself is under the limit");
    p.write("connectors/w.toml", "name = \"w\"\ntitle = \"w\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/w.xlsx\"\n[format]\ntype = \"xlsx\"\n[columns]\nwho = { from = \"姓名\", type = \"text\" }\n");
    let (code, out, err) =
        crate::util::searchlight_env(&p, &["ingest", "--as-of", "2025-12-31"], &[("SEARCHLIGHT_MAX_SHEET", "2MiB")]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(format!("{out}{err}").contains("inflates to more than 2 MiB"), "{out}{err}");
    // under the default limit it lands
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
}
