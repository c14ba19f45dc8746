//! Models: every model's own tests pass, SQL errors point into the model file, and clue ids
//! survive edits. (The planted anomalies of the demo county, in both layouts: `layouts.rs`.)

use std::collections::BTreeMap;

use searchlight::connector::{self, Connector};
use searchlight::lake::{Lake, Quiet};
use searchlight::model::{self, Model};
use searchlight::runner::{RunRequest, Runner, test_run};
use searchlight::schema::Schema;

use crate::util::repo;

fn connectors() -> Vec<Connector> {
    connector::load_dir(&repo().join("connectors"), Schema::bundled())
        .unwrap()
        .into_iter()
        .map(|c| c.unwrap())
        .collect()
}

fn library() -> Vec<Model> {
    model::load_dir(&repo().join("models")).unwrap().into_iter().map(|m| m.unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
}

#[tokio::test]
async fn every_model_has_tests_with_positive_and_negative_cases_and_they_pass() {
    let mut failures = Vec::new();
    for m in library() {
        let file = m.tests().unwrap_or_else(|e| panic!("{}: tests: {e}", m.id()));
        assert!(file.cases.iter().any(|c| !c.flagged.is_empty()), "{}: no positive case", m.id());
        assert!(file.cases.iter().any(|c| !c.not_flagged.is_empty()), "{}: no negative case", m.id());
        for r in test_run::run_tests(&m, Schema::bundled()).await.unwrap_or_else(|e| panic!("{e}")) {
            if !r.passed() {
                failures.push(format!("{} · {}: {}", m.id(), r.name, r.failures.join("; ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn write_model(dir: &std::path::Path, sql: &str) -> Model {
    let text = std::fs::read_to_string(repo().join("models/relief/payroll_on_assistance.sql")).unwrap();
    let (header, _) = text.split_once("*/").unwrap();
    let p = dir.join("m.sql");
    std::fs::write(&p, format!("{header}*/\n{sql}")).unwrap();
    model::load(&p).unwrap()
}

#[tokio::test]
async fn planning_errors_name_the_model_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&url::Url::from_directory_path(dir.path().join("lake")).unwrap()).unwrap();
    let runner = Runner::over_lake(&lake, Schema::bundled()).await.unwrap();
    let m = write_model(
        dir.path(),
        "SELECT member_id, household_id AS payroll_unit, 1 AS amount\nFROM relief_members\nWHERE membr_name <> $excluded_staffing",
    );
    let e = runner.check(&m).await.unwrap_err();
    assert!(e.file.ends_with("m.sql"), "{e}");
    let body_line = std::fs::read_to_string(&m.path).unwrap().lines().position(|l| l.starts_with("WHERE")).unwrap() + 1;
    assert_eq!((e.line, e.column), (body_line, 7), "{e}");
    assert!(e.message.contains("membr_name"), "{e}");
    let m = write_model(
        dir.path(),
        "SELECT member_id, 1 AS amount FROM relief_members WHERE member_name <> $excluded_staffing",
    );
    let e = runner.check(&m).await.unwrap_err();
    assert!(e.message.contains("unit column `payroll_unit` is not in the output"), "{e}");
    let m = write_model(
        dir.path(),
        "SELECT member_id, household_id AS payroll_unit, 1 AS amount FROM relief_memberz WHERE member_name <> $excluded_staffing",
    );
    let e = runner.check(&m).await.unwrap_err();
    assert!(e.message.contains("relief_memberz") && e.line > 0, "{e}");
}

#[tokio::test]
async fn clue_ids_survive_edits_of_sql_and_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&url::Url::from_directory_path(dir.path().join("lake")).unwrap()).unwrap();
    let conns = connectors();
    for name in ["payroll", "relief_members", "relief_payments"] {
        let c = conns.iter().find(|c| c.answers_to(name)).unwrap();
        lake.ingest(c, &repo(), &crate::util::opts(), &Quiet).await.unwrap();
    }
    let runner = Runner::over_lake(&lake, Schema::bundled()).await.unwrap();
    let original = model::load(&repo().join("models/relief/payroll_on_assistance.sql")).unwrap();
    let before = runner.run_model(&original, &RunRequest::new(as_of())).await;
    assert!(before.error.is_none() && before.clues.len() >= 3, "{:?}", before.error);
    // the same model with its SQL reformatted and a threshold overridden
    let text = std::fs::read_to_string(&original.path)
        .unwrap()
        .replace("    count(*)             AS months,", "    count(1) AS months, -- edited");
    let p = dir.path().join("edited.sql");
    std::fs::write(&p, text).unwrap();
    let edited = model::load(&p).unwrap();
    assert_ne!(edited.version, original.version);
    let mut req = RunRequest::new(as_of());
    req.overrides.push((edited.id().into(), "excluded_staffing".into(), "无".into()));
    let after = runner.run_model(&edited, &req).await;
    let ids = |o: &searchlight::runner::ModelOutcome| {
        o.clues.iter().map(|c| (c.entity.clone(), c.id.clone())).collect::<BTreeMap<_, _>>()
    };
    let (b, a) = (ids(&before), ids(&after));
    for (entity, id) in &b {
        assert_eq!(a.get(entity), Some(id), "{entity} changed id");
    }
    assert!(a.len() > b.len(), "the lower threshold finds more");
    // out-of-range overrides are refused
    let mut bad = RunRequest::new(as_of());
    bad.overrides.push((edited.id().into(), "nope".into(), "1".into()));
    assert!(runner.run_model(&edited, &bad).await.error.unwrap().contains("no parameter `nope`"));
}

#[test]
fn the_readme_lists_the_library() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .arg("--project")
        .arg(repo())
        .args(["models", "--markdown"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let (_, rest) = readme.split_once("<!-- models:begin -->\n").unwrap();
    let (listed, _) = rest.split_once("<!-- models:end -->").unwrap();
    assert_eq!(listed, table, "README.md is stale: paste `searchlight models --markdown` between the markers");
}
