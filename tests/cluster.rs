//! Models on an Apache DataFusion Ballista cluster (feature `cluster`): a scheduler and two
//! executors of this very binary on 127.0.0.1, the lake on the real S3-compatible server
//! `.ci/run` starts (moto), and the clues a local run finds on the same lake.
//!
//! Runs when `SEARCHLIGHT_TEST_S3_ENDPOINT` names the server; under CI a missing server is a
//! failure, not a skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A process of the cluster, stopped when the test ends however it ends.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(args: &[&str], env: &[(String, String)], log: PathBuf) -> Daemon {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_searchlight"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its log has `line` (the process must stay up meanwhile).
    fn wait_for(&mut self, line: &str) {
        let start = Instant::now();
        while !self.log().contains(line) {
            assert!(self.child.try_wait().unwrap().is_none(), "it stopped:\n{}", self.log());
            assert!(start.elapsed() < Duration::from_secs(60), "no `{line}` in 60 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// searchlight on the repository's bundled connectors, models and fixtures.
fn searchlight(args: &[&str], env: &[(String, String)]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .arg("--project")
        .arg(crate::util::repo())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each model's status and clues as (id, evidence key, amount, unit), from `run --json`.
fn clues(json: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut cs: Vec<String> = m["clues"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| format!("{}|{}|{}|{}", c["id"], c["evidence_key"], c["amount_fen"], c["unit"]))
                        .collect()
                })
                .unwrap_or_default();
            cs.sort();
            let status =
                format!("{}{}", m["status"], m["error"].as_str().map(|e| format!(": {e}")).unwrap_or_default());
            (m["model"].as_str().unwrap().to_string(), (status, cs))
        })
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_cluster_of_two_executors_finds_exactly_the_clues_of_a_local_run() {
    let Ok(endpoint) = std::env::var("SEARCHLIGHT_TEST_S3_ENDPOINT") else {
        assert!(std::env::var_os("CI").is_none(), "CI must provide SEARCHLIGHT_TEST_S3_ENDPOINT");
        eprintln!("skipped: SEARCHLIGHT_TEST_S3_ENDPOINT is not set");
        return;
    };
    let bucket = std::env::var("SEARCHLIGHT_TEST_S3_BUCKET").unwrap_or_else(|_| "searchlight-test".into());
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let lake = format!("s3://{bucket}/cluster-{}/lake", std::process::id());
    let cluster_ledger = dir.path().join("cluster.sqlite");
    let local_ledger = dir.path().join("local.sqlite");
    let on = |ledger: &Path, rest: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["--lake".into(), lake.clone(), "--ledger".into(), path(ledger).into()];
        a.extend(rest.iter().map(|s| s.to_string()));
        a
    };
    let call = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        searchlight(&refs, &env)
    };
    let (code, out, err) = call(on(&cluster_ledger, &["ingest", "--as-of", "2025-12-31"]));
    assert_eq!(code, Some(0), "ingest: {out}\n{err}");

    // a cluster no one runs: the run fails at once, saying so, and records nothing
    let nowhere = format!("df://127.0.0.1:{}", free_port());
    let (code, _, err) = call(on(&cluster_ledger, &["--cluster", &nowhere, "run", "--new-ledger"]));
    assert_ne!(code, Some(0));
    assert!(err.contains("集群不可达") && err.contains(&nowhere), "{err}");
    assert!(!err.contains("完成"), "{err}");

    let port = free_port();
    let scheduler_url = format!("df://127.0.0.1:{port}");
    let mut scheduler =
        Daemon::start(&["cluster", "scheduler", "--port", &port.to_string()], &env, dir.path().join("scheduler.log"));
    scheduler.wait_for("listening on");
    let mut executors: Vec<Daemon> = (0..2)
        .map(|i| {
            let (flight, grpc) = (free_port(), free_port());
            Daemon::start(
                &[
                    "cluster",
                    "executor",
                    "--scheduler",
                    &scheduler_url,
                    "--port",
                    &flight.to_string(),
                    "--grpc-port",
                    &grpc.to_string(),
                    "--concurrency",
                    "2",
                    "--memory-limit",
                    "1GiB",
                ],
                &env,
                dir.path().join(format!("executor-{i}.log")),
            )
        })
        .collect();
    for e in &mut executors {
        e.wait_for("Executor registration succeed");
    }

    // as many partitions per shuffle as the two executors have task slots
    let client_url = format!("{scheduler_url}?partitions=4");
    let (code, cluster_json, err) =
        call(on(&cluster_ledger, &["--cluster", &client_url, "run", "--new-ledger", "--full", "--json"]));
    assert_eq!(code, Some(0), "cluster run: {err}\nscheduler:\n{}", scheduler.log());
    let (code, local_json, err) = call(on(&local_ledger, &["run", "--new-ledger", "--full", "--json"]));
    assert_eq!(code, Some(0), "local run: {err}");

    let (on_cluster, local) = (clues(&cluster_json), clues(&local_json));
    assert!(local.len() >= 40, "the library runs: {}", local.len());
    let found: usize = local.values().map(|(_, c)| c.len()).sum();
    assert!(found > 50, "the demo county has clues: {found}");
    for (model, (status, _)) in &on_cluster {
        assert!(!status.contains(": "), "{model} failed on the cluster: {status}");
    }
    for (model, want) in &local {
        assert_eq!(on_cluster.get(model), Some(want), "{model}: the cluster and a local run differ");
    }
    assert_eq!(on_cluster.len(), local.len());
    // the work was spread: both executors ran tasks
    for e in &executors {
        assert!(e.log().contains("Execute task"), "an executor ran nothing:\n{}", e.log());
    }

    // the ledger recorded the cluster's run like any other
    let (code, runs, err) = call(on(&cluster_ledger, &["runs", "--json"]));
    assert_eq!(code, Some(0), "{err}");
    let runs: serde_json::Value = serde_json::from_str(&runs).unwrap();
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
}
