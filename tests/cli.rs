//! The binary as a user runs it: exit codes and messages that name the file and line.

use std::process::Command;

use crate::util::TestProject;

fn run(p: &TestProject, args: &[&str]) -> (i32, String, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_searchlight")).arg("--project").arg(p.root()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn one_broken_connector_is_reported_and_the_others_still_land() {
    let p = TestProject::new();
    p.write("connectors/good.toml", "name = \"good\"\ntitle = \"好\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/g.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"甲\", type = \"text\" }\n");
    p.write("connectors/broken.toml", "name = \"broken\"\ntitle = \"坏\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/b.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"甲\", type = \"txet\" }\n");
    p.write("connectors/missing.toml", "name = \"missing\"\ntitle = \"缺\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/none.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"甲\", type = \"text\" }\n");
    p.write("connectors/zz_twin.toml", "name = \"good\"\ntitle = \"重\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/g.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"甲\", type = \"text\" }\n");
    p.write("data/g.csv", "甲\n一\n二\n");
    let (code, out, err) = run(&p, &["ingest"]);
    assert!(err.contains("zz_twin.toml:1:1: dataset `good` is already landed by"), "{err}");
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("broken.toml:9:") && err.contains("txet"), "{err}");
    assert!(err.contains("missing: data/none.csv: file not found"), "{err}");
    assert!(out.contains("good") && out.contains("新快照") && out.contains("失败"), "{out}");
    let (code, out, _) = run(&p, &["sql", "select count(*) as n from good"]);
    assert_eq!(code, 0);
    assert!(out.contains("| 2 |"), "{out}");
    let (code, out, _) = run(&p, &["lake", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["dataset"], "good");
}

#[test]
fn as_of_is_recorded_per_run() {
    let p = TestProject::new();
    p.write("connectors/good.toml", "name = \"good\"\ntitle = \"好\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/g.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"甲\", type = \"text\" }\n");
    p.write("data/g.csv", "甲\n一\n");
    let (code, _, err) = run(&p, &["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&p, &["lake", "good", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["manifest"]["as_of"], "2025-12-31");
}

#[test]
fn explain_sql_prints_the_bound_query_and_it_returns_what_the_run_found() {
    let p = TestProject::new();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\npaid = { from = \"日期\", type = \"date\" }\n");
    p.write("data/p.csv", "收款人,金额,日期\n甲,100,2025-01-01\n乙,900,2025-02-01\n丙,900,2025-09-01\n");
    p.write(
        "models/test/big.sql",
        "/* searchlight\nid = \"test.big\"\ntitle = \"大额\"\ntitle_en = \"Large\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"金额达到阈值\"\nbasis = [\"测试\"]\nentity = [\"who\"]\nunit = \"who\"\namount = \"amount\"\n[params]\nmin = { type = \"money\", default = 500, min = 0, max = 10000 }\n*/\nSELECT who, amount FROM pay WHERE amount >= $min AND paid <= $as_of\n",
    );
    assert_eq!(run(&p, &["ingest"]).0, 0);
    let (code, sql, err) = run(&p, &["explain", "test.big", "--sql", "--as-of", "2025-06-30", "--param", "min=800"]);
    assert_eq!(code, 0, "{err}");
    assert!(sql.contains("CAST('800.00' AS DECIMAL(18,2))") && sql.contains("DATE '2025-06-30'"), "{sql}");
    let (_, out, _) = run(&p, &["sql", sql.trim(), "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) =
        run(&p, &["run", "--as-of", "2025-06-30", "--param", "test.big.min=800", "--jobs", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["models"][0]["rows"], 1);
    assert_eq!(rows.as_array().map(|r| r.len()), Some(1), "{rows}");
    assert_eq!(rows[0]["who"], "乙");
}

#[test]
fn a_cluster_run_that_cannot_happen_says_why_and_records_nothing() {
    let p = TestProject::new();
    p.write("connectors/good.toml", "name = \"good\"\ntitle = \"好\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/g.csv\"\n[format]\ntype = \"csv\"\n[columns]\na = { from = \"甲\", type = \"text\" }\n");
    p.write("data/g.csv", "甲\nx\n");
    let (code, _, err) = run(&p, &["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, 0, "{err}");
    // not a cluster URL: refused as the arguments are read
    let (code, _, err) = run(&p, &["--cluster", "http://127.0.0.1:50050", "run", "--new-ledger"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("df://"), "{err}");
    let (code, _, err) = run(&p, &["--cluster", "df://127.0.0.1:50050?partitions=0", "run", "--new-ledger"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("partitions=N"), "{err}");
    // a cluster that is not there (or a build without the cluster): the run fails before any model
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("df://127.0.0.1:{port}");
    let (code, out, err) = run(&p, &["--cluster", &url, "run", "--new-ledger"]);
    assert_ne!(code, 0, "{out}");
    if cfg!(feature = "cluster") {
        assert!(err.contains("集群不可达") && err.contains(&url), "{err}");
    } else {
        assert!(err.contains("built without cluster support"), "{err}");
    }
    assert!(!out.contains("运行 R"), "no run was reported: {out}");
    let (_, runs, _) = run(&p, &["runs"]);
    assert!(!runs.contains("R20"), "no run was recorded: {runs}");
    // and in searchlight.toml
    p.write("searchlight.toml", "[library]\nbundled = false\n[engine]\ncluster = \"127.0.0.1:50050\"\n");
    let (code, _, err) = run(&p, &["run"]);
    assert_ne!(code, 0);
    assert!(err.contains("[engine] cluster") && err.contains("searchlight.toml"), "{err}");
}
