//! HTTP JSON API connectors against a local API server the test starts: every paging style, the
//! auth header from the environment, retries, the rate limit, and the errors that must stop an
//! ingest (not JSON, an error status, a page that repeats).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use crate::util::TestProject;

const TOKEN: &str = "Bearer s3cr3t-t0ken";

#[derive(Default)]
struct Seen {
    /// path → request times
    hits: HashMap<String, Vec<Instant>>,
}

type Shared = Arc<Mutex<Seen>>;

fn records() -> Vec<Value> {
    (1..=5)
        .map(|i| {
            json!({
                "支付凭证号": format!("P{i}"),
                "预算单位": { "名称": if i < 3 { "县教育局" } else { "县卫健委" } },
                "支付日期": format!("2025-03-0{i}"),
                "支付金额": if i == 5 { json!(99.99) } else { json!(i * 100) },
                "收款人账号": "6222021234567890123"
            })
        })
        .collect()
}

fn num(q: &HashMap<String, String>, k: &str, default: usize) -> usize {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn api(
    State(seen): State<Shared>,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let path = uri.path().to_string();
    let n = {
        let mut s = seen.lock().unwrap();
        let v = s.hits.entry(path.clone()).or_default();
        v.push(Instant::now());
        v.len()
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"code": 401, "msg": "token 无效"}))).into_response();
    }
    let all = records();
    let page = |from: usize, size: usize| -> Vec<Value> { all.iter().skip(from).take(size).cloned().collect() };
    let body = match path.as_str() {
        "/page" | "/rate" => {
            let (p, size) = (num(&q, "pageNo", 1), num(&q, "pageSize", 2));
            json!({"code": 0, "data": {"list": page((p - 1) * size, size), "total": 5}})
        }
        "/offset" => json!({"data": {"list": page(num(&q, "offset", 0), num(&q, "limit", 2))}}),
        "/cursor" => {
            let at = num(&q, "cursor", 0);
            let next = if at + 2 < 5 { json!((at + 2).to_string()) } else { Value::Null };
            json!({"data": {"list": page(at, 2)}, "meta": {"next": next}})
        }
        "/next" => {
            let at = num(&q, "from", 0);
            let next = if at + 2 < 5 { json!(format!("next?from={}", at + 2)) } else { json!("") };
            json!({"data": {"list": page(at, 2)}, "links": {"next": next}})
        }
        "/flaky" if n == 1 => return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
        "/flaky" => json!({"data": {"list": all}}),
        "/html" => return ([("content-type", "text/html")], "<html><body>请先登录</body></html>").into_response(),
        "/missing" => return (StatusCode::NOT_FOUND, axum::Json(json!({"msg": "接口不存在"}))).into_response(),
        // ignores its paging parameter
        "/repeat" => json!({"data": {"list": page(0, 2)}}),
        // an empty page whose cursor always leads back to itself
        "/loop" => json!({"data": {"list": []}, "meta": {"next": "x"}}),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    axum::Json(body).into_response()
}

async fn start() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = axum::Router::new().fallback(get(api)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

const COLUMNS: &str = r#"
[columns]
payment_id    = { from = "支付凭证号" }
unit_name     = { from = "预算单位.名称" }
pay_date      = { from = "支付日期" }
amount        = { from = "支付金额" }
payee_account = { from = "收款人账号" }
"#;

fn connector(base: &str, http: &str) -> String {
    format!(
        "name = \"treasury_payments\"\n[http]\nurl = \"{base}\"\nauth_header = \"Authorization\"\nauth_env = \"JYZX_TOKEN\"\nretries = 2\n{http}\n{COLUMNS}"
    )
}

/// Runs `searchlight ingest` with the token in the environment (off the server's thread).
async fn ingest(p: &TestProject, token: Option<&str>) -> (Option<i32>, String) {
    let root = p.root().to_path_buf();
    let token = token.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let mut env = vec![];
        if let Some(t) = &token {
            env.push(("JYZX_TOKEN", t.as_str()));
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
            .arg("--project")
            .arg(&root)
            .args(["ingest", "--as-of", "2025-12-31"])
            .envs(env)
            .output()
            .unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    })
    .await
    .unwrap()
}

const WANT: [&str; 5] = [
    "P1|县教育局|2025-03-01|100.00",
    "P2|县教育局|2025-03-02|200.00",
    "P3|县卫健委|2025-03-03|300.00",
    "P4|县卫健委|2025-03-04|400.00",
    "P5|县卫健委|2025-03-05|99.99",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_paging_style_lands_the_same_rows() {
    let (base, seen) = start().await;
    for (path, http) in [
        (
            "page",
            "records = \"data.list\"\npaging = \"page\"\npage_param = \"pageNo\"\nsize_param = \"pageSize\"\npage_size = 2",
        ),
        ("offset", "records = \"data.list\"\npaging = \"offset\"\npage_size = 2"),
        ("cursor", "records = \"data.list\"\npaging = \"cursor\"\ncursor_path = \"meta.next\""),
        ("next", "records = \"data.list\"\npaging = \"next\"\nnext_path = \"links.next\""),
    ] {
        let p = TestProject::new();
        p.write("connectors/jyzx.toml", connector(&format!("{base}/{path}"), http));
        let (code, out) = ingest(&p, Some(TOKEN)).await;
        assert_eq!(code, Some(0), "{path}: {out}");
        assert_eq!(
            p.rows("select payment_id, unit_name, pay_date, amount from treasury_payments order by 1").await,
            WANT,
            "{path}"
        );
        assert!(!out.contains("s3cr3t"), "{out}");
        // the same API again: no new snapshot
        let (code, out) = ingest(&p, Some(TOKEN)).await;
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("未变化"), "{path}: {out}");
    }
    let s = seen.lock().unwrap();
    // page: 3 pages and the empty fourth, twice
    assert_eq!(s.hits["/page"].len(), 8);
    assert_eq!(s.hits["/cursor"].len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_comes_from_the_environment_and_never_shows() {
    let (base, _) = start().await;
    let p = TestProject::new();
    p.write("connectors/jyzx.toml", connector(&format!("{base}/page"), "records = \"data.list\"\npaging = \"page\""));
    let (code, out) = ingest(&p, None).await;
    assert_ne!(code, Some(0));
    assert!(out.contains("JYZX_TOKEN") && out.contains("jyzx.toml"), "{out}");
    let (code, out) = ingest(&p, Some("Bearer wrong-one")).await;
    assert_ne!(code, Some(0));
    assert!(out.contains("HTTP 401") && out.contains("token 无效") && !out.contains("wrong-one"), "{out}");
    // a secret in the address is not shown either
    p.write(
        "connectors/jyzx.toml",
        connector(&format!("{base}/missing?access_token=abc123"), "records = \"data.list\""),
    );
    let (_, out) = ingest(&p, Some(TOKEN)).await;
    assert!(out.contains("HTTP 404") && !out.contains("abc123"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_is_retried_and_errors_stop_the_ingest() {
    let (base, seen) = start().await;
    let p = TestProject::new();
    p.write("connectors/jyzx.toml", connector(&format!("{base}/flaky"), "records = \"data.list\""));
    let (code, out) = ingest(&p, Some(TOKEN)).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(p.rows("select count(*) from treasury_payments").await, ["5"]);
    assert_eq!(seen.lock().unwrap().hits["/flaky"].len(), 2, "one retry after the 503");
    let before = p.lake().current("treasury_payments").await.unwrap().unwrap().snapshot;

    for (path, http, said) in [
        ("html", "records = \"data.list\"", "is not JSON"),
        ("missing", "records = \"data.list\"", "HTTP 404 Not Found: {\"msg\":\"接口不存在\"}"),
        ("repeat", "records = \"data.list\"\npaging = \"page\"", "page 2"),
        ("page", "records = \"data.rows\"\npaging = \"page\"", "no `data.rows`"),
        ("page", "paging = \"page\"", "no array of records at its top"),
        ("loop", "records = \"data.list\"\npaging = \"cursor\"\ncursor_path = \"meta.next\"", "in a circle"),
    ] {
        p.write("connectors/jyzx.toml", connector(&format!("{base}/{path}"), http));
        let (code, out) = ingest(&p, Some(TOKEN)).await;
        assert_ne!(code, Some(0), "{path}: {out}");
        assert!(out.contains(said) && out.contains("jyzx.toml"), "{path}: {out}");
        let now = p.lake().current("treasury_payments").await.unwrap().unwrap().snapshot;
        assert_eq!(now, before, "{path}: the current snapshot stays");
    }
    let s = seen.lock().unwrap();
    assert_eq!(s.hits["/missing"].len(), 1, "a 404 is not retried");
    assert_eq!(s.hits["/repeat"].len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_keep_to_the_rate_limit() {
    let (base, seen) = start().await;
    let p = TestProject::new();
    p.write(
        "connectors/jyzx.toml",
        connector(
            &format!("{base}/rate"),
            "records = \"data.list\"\npaging = \"page\"\npage_param = \"pageNo\"\nsize_param = \"pageSize\"\npage_size = 1\nrate_limit = 8",
        ),
    );
    let (code, out) = ingest(&p, Some(TOKEN)).await;
    assert_eq!(code, Some(0), "{out}");
    let s = seen.lock().unwrap();
    let times = &s.hits["/rate"];
    assert_eq!(times.len(), 6, "five pages of one and the empty sixth");
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap.as_millis() >= 115, "requests {gap:?} apart, under 1/8 s");
    }
}

/// The declaration is checked when loaded.
#[test]
fn http_declarations_are_checked() {
    let p = TestProject::new();
    for (http, said) in [
        ("url = \"ftp://x/y\"", "http:// or https://"),
        ("url = \"https://x/y\"\nauth_header = \"Authorization\"", "give both"),
        ("url = \"https://x/y\"\npaging = \"cursor\"", "cursor_path"),
        ("url = \"https://x/y\"\nrate_limit = 0", "above 0"),
        ("url = \"https://x/y\"\nrate_limit = 1e-300", "from 0.001"),
        ("url = \"https://x/y\"\nauth_header = \"A\"\nauth_env = \"Bearer abc\"", "not such a name"),
    ] {
        let path = p.path("connectors/t.toml");
        std::fs::write(&path, format!("name = \"treasury_payments\"\n[http]\n{http}\n{COLUMNS}")).unwrap();
        let err = searchlight::connector::load(&path, searchlight::schema::Schema::bundled()).unwrap_err().to_string();
        assert!(err.contains(said) && err.contains("t.toml:"), "{http}: {err}");
    }
}
