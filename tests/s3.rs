//! The lake and a connector on an S3-compatible store (a real local server: `moto_server`).
//!
//! Runs when `SEARCHLIGHT_TEST_S3_ENDPOINT` names the server (`.ci/run` starts one and sets it);
//! under CI a missing server is a failure, not a skip.

use object_store::{ObjectStoreExt, PutPayload};
use searchlight::lake::{Lake, Outcome, Quiet};

#[tokio::test]
async fn lake_and_sources_on_s3() {
    let Ok(endpoint) = std::env::var("SEARCHLIGHT_TEST_S3_ENDPOINT") else {
        assert!(std::env::var_os("CI").is_none(), "CI must provide SEARCHLIGHT_TEST_S3_ENDPOINT");
        eprintln!("skipped: SEARCHLIGHT_TEST_S3_ENDPOINT is not set");
        return;
    };
    let bucket = std::env::var("SEARCHLIGHT_TEST_S3_BUCKET").unwrap_or_else(|_| "searchlight-test".into());
    // SAFETY-free: tests in this binary that use S3 read the same values
    for (k, v) in [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ] {
        if std::env::var_os(k).is_none() {
            unsafe { std::env::set_var(k, v) };
        }
    }
    let run = format!("run-{}", std::process::id());
    let src = url::Url::parse(&format!("s3://{bucket}/{run}/raw/payroll.csv")).unwrap();
    let located = searchlight::storage::locate(&src).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode("身份证号,姓名\n34052419800101001X,张三\n");
    located.store.put(&located.path, PutPayload::from(gbk.into_owned())).await.unwrap();
    let p = crate::util::TestProject::new();
    let toml = format!(
        "name = \"payroll\"\ntitle = \"财政供养\"\ndomain = \"registry\"\nlocation = \"s3://{bucket}/{run}/raw/*.csv\"\nkey = [\"id_no\"]\n[format]\ntype = \"csv\"\nencoding = \"gbk\"\n[columns]\nid_no = {{ from = \"身份证号\", type = \"id_card\" }}\nname = {{ from = \"姓名\", type = \"text\" }}\n"
    );
    let c = p.connector("payroll", &toml);
    let lake = Lake::open(&url::Url::parse(&format!("s3://{bucket}/{run}/lake")).unwrap()).unwrap();
    let out = lake.ingest(&c, p.root(), &crate::util::opts(), &Quiet).await.unwrap();
    assert!(matches!(out[..], [Outcome::Landed(ref m)] if m.rows == 1));
    assert!(matches!(
        lake.ingest(&c, p.root(), &crate::util::opts(), &Quiet).await.unwrap()[..],
        [Outcome::Unchanged(_)]
    ));
    let engine = searchlight::engine::Engine::local();
    engine.register_lake(&lake, searchlight::schema::Schema::bundled()).await.unwrap();
    let rows = crate::util::lines(
        &engine.sql("select id_no, name, id_no_valid from payroll").await.unwrap().collect().await.unwrap(),
    );
    assert_eq!(rows, vec!["34052419800101001X|张三|true"]);

    // retention on S3: two forced re-lands and a staged directory a killed ingest left
    let force = searchlight::lake::IngestOptions { force: true, ..crate::util::opts() };
    for _ in 0..2 {
        lake.ingest(&c, p.root(), &force, &Quiet).await.unwrap();
    }
    let staged = searchlight::storage::locate(
        &url::Url::parse(&format!("s3://{bucket}/{run}/lake/payroll/v000004/part-00000-0.parquet")).unwrap(),
    )
    .unwrap();
    staged.store.put(&staged.path, PutPayload::from(vec![0u8; 10])).await.unwrap();
    let ids = || async { lake.snapshots("payroll").await.unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>() };
    assert_eq!(ids().await, ["v000001", "v000002", "v000003", "v000004"]);
    let pins = searchlight::lake::gc::Pins::default();
    let policy = searchlight::lake::gc::Retention { keep: 2, grace: std::time::Duration::ZERO, unrecorded_runs: false };
    let done = lake.collect_garbage(&policy, &pins, chrono::Utc::now(), false).await.unwrap();
    assert_eq!(done.removed().0, 2, "{done:?}");
    assert_eq!(ids().await, ["v000002", "v000003"]);
    assert_eq!(lake.current("payroll").await.unwrap().unwrap().snapshot, "v000003");
}
