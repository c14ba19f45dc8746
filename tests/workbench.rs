//! The workbench as its users meet it, over real HTTP to a `searchlight serve`: nobody signed
//! out reads anything (401); a team member sees their team's townships and villages and no
//! other (404, as for a clue that does not exist); a leader changes nothing and an analyst's
//! step needs no team (403); a browser's change without its form token is refused; a stale form
//! is 409; bad bodies and queries are 4xx `{error, detail}` that change nothing; full ID numbers
//! only for a granted user; the sign-in limit; every read, change and refusal in the access log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use searchlight::ledger::Ledger;

use crate::brief::{A1, B1, county, pipeline};
use crate::util::{TestProject, searchlight_env};

const PASSWORD: &str = "correct horse battery";

/// The county's four users (before anything is run).
fn add_users(p: &TestProject) {
    let add = |args: &[&str]| {
        let (code, out, err) = searchlight_env(p, args, &[("SEARCHLIGHT_PASSWORD", PASSWORD)]);
        assert_eq!(code, Some(0), "{args:?}: {out}{err}");
    };
    add(&["user", "add", "root", "--role", "admin"]);
    add(&["user", "add", "ana", "--role", "analyst", "--display", "李分析"]);
    add(&["user", "add", "lead", "--role", "leader"]);
    add(&["user", "add", "wang", "--role", "team", "--team", "甲组", "--display", "王明"]);
    add(&["user", "grant", "wang", "--unit", "A00"]);
}

/// A county with its pipeline run and four users: an admin, an analyst, a leader and a member of
/// 甲组, which is assigned 甲镇 (A00; its villages A01 and A02 come with it).
fn county_with_users() -> TestProject {
    let p = county();
    pipeline(&p);
    add_users(&p);
    p
}

/// `searchlight serve` on a port of its own; its address and its log.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(p: &TestProject) -> Server {
        // SEARCHLIGHT_TEST_SERVE_BIN: another build to serve (the release binary, for the load
        // figures in docs/performance.md)
        let bin =
            std::env::var("SEARCHLIGHT_TEST_SERVE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_searchlight").into());
        let mut child = Command::new(bin)
            .current_dir(p.root())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("workbench: http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no workbench: {}", log.lock().unwrap()));
        Server { child, addr, log }
    }

    fn stop(mut self) -> (Option<i32>, String) {
        unsafe extern "C" {
            fn kill(pid: i32, sig: i32) -> i32;
        }
        unsafe {
            kill(self.child.id() as i32, 15);
        }
        let started = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(200));
                return (s.code(), self.log.lock().unwrap().clone());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One HTTP/1.1 exchange: status, headers (lower-case names) and body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    if let Some(b) = body {
        // a server may answer (413) before it has read all of a large body
        let _ = s.write_all(b.as_bytes());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no reply: {text}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Reply { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// A browser's session: its cookie and form token.
struct Session {
    cookie: String,
    csrf: String,
}

fn sign_in(addr: &str, name: &str) -> Session {
    let r =
        http(addr, "POST", "/api/v1/session", &[], Some(&format!(r#"{{"name":"{name}","password":"{PASSWORD}"}}"#)));
    assert_eq!(r.status, 200, "{}", r.body);
    let set = r.header("set-cookie").unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(attr), "{set}");
    }
    Session { cookie: set.split(';').next().unwrap().to_string(), csrf: r.json()["csrf"].as_str().unwrap().to_string() }
}

fn get(addr: &str, s: &Session, path: &str) -> Reply {
    http(addr, "GET", path, &[("Cookie", &s.cookie)], None)
}

fn post(addr: &str, s: &Session, path: &str, body: &str) -> Reply {
    http(addr, "POST", path, &[("Cookie", &s.cookie), ("X-CSRF-Token", &s.csrf)], Some(body))
}

/// The clue ids of a list answer.
fn ids(r: &Reply) -> Vec<String> {
    r.json()["items"].as_array().unwrap().iter().map(|c| c["clue_id"].as_str().unwrap().to_string()).collect()
}

/// The clue raised about `entity`.
fn clue_of(p: &TestProject, entity: &str) -> String {
    let ledger = Ledger::open_existing(&p.path("ledger.sqlite")).unwrap();
    ledger.clues(&Default::default()).unwrap().into_iter().find(|c| c.entity == entity).unwrap().clue_id
}

fn log_entries(p: &TestProject) -> Vec<searchlight::ledger::Access> {
    Ledger::open_existing(&p.path("ledger.sqlite")).unwrap().access_log(&Default::default()).unwrap()
}

#[test]
fn each_role_reads_and_works_only_what_it_may_and_every_access_is_logged() {
    let p = county_with_users();
    let ledger = Ledger::open_existing(&p.path("ledger.sqlite")).unwrap();
    let all = ledger.clues(&Default::default()).unwrap();
    let in_jia: Vec<&str> = all
        .iter()
        .filter(|c| c.unit_code.as_deref().is_some_and(|u| ["A00", "A01", "A02"].contains(&u)))
        .map(|c| c.clue_id.as_str())
        .collect();
    let of_b1 = all.iter().find(|c| c.entity == B1).unwrap().clue_id.clone();
    let of_a1 = all.iter().find(|c| c.entity == A1).unwrap().clue_id.clone();
    assert!(in_jia.len() >= 3 && in_jia.len() < all.len(), "the county has clues inside and outside 甲镇");
    drop(ledger);
    let s = Server::start(&p);
    let a = s.addr.clone();

    // signed out: nothing, and the refusal is logged
    let r = http(&a, "GET", "/api/v1/clues", &[], None);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["error"], "unauthorized");
    for h in ["content-security-policy", "x-content-type-options", "x-frame-options"] {
        assert!(r.header(h).is_some(), "{h} missing: {:?}", r.headers);
    }
    assert!(r.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
    assert!(!r.header("content-security-policy").unwrap().contains("script-src"), "no script from anywhere");
    assert_eq!(http(&a, "GET", &format!("/api/v1/clues/{of_a1}"), &[], None).status, 401);
    assert_eq!(http(&a, "GET", "/api/v1/me", &[("Authorization", "Bearer sl_not_a_token")], None).status, 401);
    assert_eq!(
        http(&a, "POST", "/api/v1/session", &[], Some(r#"{"name":"wang","password":"wrong password"}"#)).status,
        401
    );
    let long = format!(r#"{{"name":"{}","password":"x"}}"#, "长".repeat(20_000));
    assert_eq!(http(&a, "POST", "/api/v1/session", &[], Some(&long)).status, 401);

    // a team member: 甲镇 and its villages, nothing else — the other township's clue is
    // "not found", exactly as a clue that does not exist
    let wang = sign_in(&a, "wang");
    let r = get(&a, &wang, "/api/v1/clues?limit=500");
    assert_eq!(r.status, 200, "{}", r.body);
    let mut seen = ids(&r);
    seen.sort();
    let mut want: Vec<String> = in_jia.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(seen, want);
    assert!(!r.body.contains(A1), "an ID number in clear to a user without the grant: {}", r.body);
    let outside = get(&a, &wang, &format!("/api/v1/clues/{of_b1}"));
    let nowhere = get(&a, &wang, "/api/v1/clues/C000000000000");
    assert_eq!((outside.status, nowhere.status), (404, 404));
    assert_eq!(outside.json()["error"], nowhere.json()["error"]);
    assert!(!outside.body.contains(B1) && !outside.body.contains("乙镇"), "{}", outside.body);
    let one = get(&a, &wang, &format!("/api/v1/clues/{of_a1}"));
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(!one.body.contains(A1), "{}", one.body);
    assert!(one.json()["clue"]["sightings"].as_array().is_some_and(|s| !s.is_empty()));

    // paging: two at a time, every clue once, in the same order as one page
    let mut paged = Vec::new();
    let mut next = String::new();
    loop {
        let r = get(&a, &wang, &format!("/api/v1/clues?limit=2{next}"));
        assert_eq!(r.json()["total"].as_u64().unwrap() as usize, want.len());
        paged.extend(ids(&r));
        match r.json()["next"].as_str() {
            Some(n) => next = format!("&cursor={n}"),
            None => break,
        }
    }
    assert_eq!(paged, ids(&get(&a, &wang, "/api/v1/clues?limit=500")));

    // a browser's change without its form token is refused, whatever the step
    let note = r#"{"kind":"note","reason":"核查中"}"#;
    let r = http(&a, "POST", &format!("/api/v1/clues/{of_a1}/steps"), &[("Cookie", &wang.cookie)], Some(note));
    assert_eq!(r.status, 403, "{}", r.body);
    // triage is the analysts'
    let triage = r#"{"kind":"triage","dismiss":false,"route_to":"甲镇纪委","last_event":0}"#;
    assert_eq!(post(&a, &wang, &format!("/api/v1/clues/{of_a1}/steps"), triage).status, 403);
    // an analyst's script, by token
    let (code, token, err) = searchlight_env(&p, &["user", "token", "ana"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let bearer = format!("Bearer {}", token.trim());
    let r = http(&a, "POST", &format!("/api/v1/clues/{of_a1}/steps"), &[("Authorization", &bearer)], Some(triage));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["state"]["status"], "routed");
    let after_triage = r.json()["event"]["seq"].as_i64().unwrap();
    // the same triage again, from a form drawn before it: stale
    let r = http(&a, "POST", &format!("/api/v1/clues/{of_a1}/steps"), &[("Authorization", &bearer)], Some(triage));
    assert_eq!(r.status, 409, "{}", r.body);
    // the team member verifies, on a form drawn after the triage
    let verify = format!(r#"{{"kind":"verify","result":"属实","amount_involved":100.1,"last_event":{after_triage}}}"#);
    let r = post(&a, &wang, &format!("/api/v1/clues/{of_a1}/steps"), &verify);
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.json()["event"]["actor"].as_str().unwrap().contains("王明"));
    // …but not on the clue of another township, which stays not found
    assert_eq!(post(&a, &wang, &format!("/api/v1/clues/{of_b1}/steps"), note).status, 404);

    // units, papers and briefs within the same scope; a workbook of a brief is a workbook
    let units = get(&a, &wang, "/api/v1/units").json();
    let mut codes: Vec<&str> = units.as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["A00", "A01", "A02"]);
    assert_eq!(get(&a, &wang, "/api/v1/units/B00/brief").status, 404);
    assert_eq!(get(&a, &wang, "/api/v1/units/NOPE/brief").status, 404);
    let r = get(&a, &wang, "/api/v1/units/A00/brief?format=md");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("甲镇") && !r.body.contains(A1) && !r.body.contains("乙镇东村"), "{}", r.body);
    let r = get(&a, &wang, &format!("/api/v1/clues/{of_a1}/paper?format=md"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("问题底稿") && !r.body.contains(A1), "{}", r.body);
    assert_eq!(get(&a, &wang, &format!("/api/v1/clues/{of_b1}/paper")).status, 404);
    // the evidence rows as data: the clue's own row, its ID masked, and where it came from
    let ev = get(&a, &wang, &format!("/api/v1/clues/{of_a1}/evidence"));
    assert_eq!(ev.status, 200, "{}", ev.body);
    let ev = ev.json();
    assert_eq!(ev["rows"].as_array().unwrap().len(), 1, "{ev}");
    assert!(ev["rows"][0].as_array().unwrap().iter().any(|v| v.as_str().is_some_and(|s| s.contains("100.1"))), "{ev}");
    assert!(!ev.to_string().contains(A1) && ev["sources"][0]["dataset"] == "pay", "{ev}");
    assert_eq!(get(&a, &wang, &format!("/api/v1/clues/{of_b1}/evidence")).status, 404);
    assert_eq!(get(&a, &wang, &format!("/api/v1/clues/{of_a1}/paper?format=pdf")).status, 400);

    // runs and the library with its record: the verification above counts
    assert_eq!(get(&a, &wang, "/api/v1/runs").json()[0]["trigger"], "manual");
    let models = get(&a, &wang, "/api/v1/models").json();
    let pay = models.as_array().unwrap().iter().find(|m| m["id"] == "test.pay").unwrap().clone();
    assert_eq!((pay["precision_label"].as_str(), pay["judged"].as_u64()), (Some("100% (1/1)"), Some(1)), "{pay}");

    // a leader reads everything and changes nothing; users and the log are the admin's
    let lead = sign_in(&a, "lead");
    assert_eq!(ids(&get(&a, &lead, "/api/v1/clues?limit=500")).len(), all.len());
    assert_eq!(post(&a, &lead, &format!("/api/v1/clues/{of_b1}/steps"), note).status, 403);
    assert_eq!(get(&a, &lead, "/api/v1/users").status, 403);
    assert_eq!(get(&a, &lead, "/api/v1/audit").status, 403);
    let root = sign_in(&a, "root");
    assert_eq!(get(&a, &root, "/api/v1/users").json().as_array().unwrap().len(), 4);

    // bad input: a 4xx {error, detail}, and nothing changed
    let events_before = Ledger::open_existing(&p.path("ledger.sqlite")).unwrap().events(&of_a1).unwrap().len();
    for (body, status) in [
        ("{not json", 400),
        (r#"{"kind":"verify","result":"属实","amount_involved":"many"}"#, 400),
        (r#"{"kind":"fly"}"#, 400),
        (r#"{"kind":"verify","result":"差不多"}"#, 400),
        (r#"{"kind":"rectify","due":"2026-02-30"}"#, 400),
        (r#"[1,2]"#, 400),
    ] {
        let r = post(&a, &root, &format!("/api/v1/clues/{of_a1}/steps"), body);
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.json()["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.body);
    }
    let big = format!(r#"{{"kind":"note","reason":"{}"}}"#, "长".repeat(40_000));
    assert_eq!(post(&a, &root, &format!("/api/v1/clues/{of_a1}/steps"), &big).status, 413);
    assert_eq!(Ledger::open_existing(&p.path("ledger.sqlite")).unwrap().events(&of_a1).unwrap().len(), events_before);
    for q in ["status=open-ish", "sort=random", "limit=0", "as_of=2025-13-01", "colour=red"] {
        let r = get(&a, &root, &format!("/api/v1/clues?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.json()["error"].is_string(), "{}", r.body);
    }
    let r = http(&a, "POST", "/api/v1/session", &[], Some(r#"{"name":"root","password":"x","remember":true}"#));
    assert_eq!(r.status, 400, "an unknown field: {}", r.body);
    assert_eq!(get(&a, &root, "/api/v1/no/such/route").status, 404);

    // full numbers only once granted
    assert!(!get(&a, &root, &format!("/api/v1/clues/{of_a1}")).body.contains(A1));
    assert_eq!(searchlight_env(&p, &["user", "grant", "root", "--ids"], &[]).0, Some(0));
    assert!(get(&a, &root, &format!("/api/v1/clues/{of_a1}")).body.contains(A1));

    // signing out ends the session
    let r = http(&a, "DELETE", "/api/v1/session", &[("Cookie", &lead.cookie), ("X-CSRF-Token", &lead.csrf)], None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(get(&a, &lead, "/api/v1/me").status, 401);

    let (code, log) = s.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("workbench stopped"), "{log}");

    // the log holds each read, change and refusal, with who and from where
    let entries = log_entries(&p);
    let has = |who: &str, action: &str, object: Option<&str>, outcome: &str| {
        entries.iter().any(|e| {
            e.who == who
                && e.action == action
                && object.is_none_or(|o| e.object.as_deref() == Some(o))
                && e.outcome.starts_with(outcome)
                && e.address.as_deref() == Some("127.0.0.1")
        })
    };
    assert!(has("anonymous", "list clues", None, "refused: not signed in"));
    assert!(has("wang", "sign-in", None, "refused: wrong name"));
    assert!(has("(invalid name)", "sign-in", None, "refused: wrong name"), "a 20 000-character name is not kept");
    assert!(has("wang", "read clue", Some(&of_b1), "refused: outside"));
    assert!(has("wang", "read clue", Some(&of_a1), "ok"));
    assert!(has("wang", "read evidence", Some(&of_a1), "ok"));
    assert!(has("wang", "read evidence", Some(&of_b1), "refused: outside"));
    assert!(has("wang", "list clues", None, "ok"));
    assert!(has("wang", "step note", None, "refused: no form token"));
    assert!(has("wang", "step triage", Some(&of_a1), "refused: role"));
    assert!(has("ana", "step triage", Some(&of_a1), "ok"));
    assert!(has("ana", "step triage", Some(&of_a1), "refused: conflict"));
    assert!(has("wang", "step verify", Some(&of_a1), "ok"));
    assert!(has("lead", "list users", None, "refused: role"));
    assert!(has("root", "step verify", Some(&of_a1), "refused: invalid"));
    // and the command line's grant and token
    assert!(entries.iter().any(|e| e.via == "cli" && e.action == "grant ids" && e.object.as_deref() == Some("root")));
}

#[test]
fn sign_in_waits_after_five_failures_for_the_account_even_with_the_right_password() {
    let p = county_with_users();
    let s = Server::start(&p);
    let a = s.addr.clone();
    for _ in 0..5 {
        let r = http(&a, "POST", "/api/v1/session", &[], Some(r#"{"name":"ana","password":"guess guess guess"}"#));
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = http(&a, "POST", "/api/v1/session", &[], Some(&format!(r#"{{"name":"ana","password":"{PASSWORD}"}}"#)));
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().unwrap() > 0));
    assert!(r.header("set-cookie").is_none());
    s.stop();
    assert!(log_entries(&p).iter().any(|e| e.who == "ana" && e.outcome == "refused: too many failures"));
}

#[test]
fn every_operation_of_the_openapi_document_is_served_and_no_other_method() {
    let p = county_with_users();
    let s = Server::start(&p);
    let a = s.addr.clone();
    let r = http(&a, "GET", "/api/v1/openapi.json", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 8, "{:?}", paths.keys());
    for (path, ops) in paths {
        let url = format!("/api/v1{}", path.replace("{id}", "C000000000000"));
        let documented: Vec<String> = ops.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let body = (method != "GET").then_some("{}");
            let r = http(&a, method, &url, &[], body);
            if documented.iter().any(|m| m == method) {
                // a documented operation exists: anonymously it is refused, never "no such route"
                let public = ops[method.to_lowercase()]
                    .get("security")
                    .is_some_and(|s| s.as_array().is_some_and(|a| a.is_empty()));
                let want: &[u16] = if public { &[200, 400] } else { &[401] };
                assert!(want.contains(&r.status), "{method} {url}: {} {}", r.status, r.body);
            } else {
                assert_eq!(r.status, 405, "{method} {url} is not documented, and answers {}: {}", r.status, r.body);
            }
        }
    }
    s.stop();
}

/// The plain-text bodies of a mail, taken apart by a real MIME parser (Python's email package).
fn mail_text(eml: &std::path::Path) -> String {
    let script = "import email, email.policy, sys\n\
                  m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)\n\
                  for part in m.walk():\n\
                  \x20   if part.get_content_type() == 'text/plain' and not part.get_filename():\n\
                  \x20       print(part.get_content())\n";
    let out = Command::new("python3").args(["-c", script]).arg(eml).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_subscriber_who_names_a_user_is_mailed_within_that_users_units_and_grant() {
    let p = county();
    add_users(&p);
    assert_eq!(searchlight_env(&p, &["user", "grant", "lead", "--ids"], &[]).0, Some(0));
    p.write(
        "searchlight.toml",
        "[smtp]\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"plain\"\nfrom = \"探照灯 <searchlight@county.gov.cn>\"\n\n\
         [[subscriber]]\nname = \"甲组\"\nemail = \"jia@county.gov.cn\"\nuser = \"wang\"\nshow_ids = true\n\n\
         [[subscriber]]\nname = \"领导\"\nemail = \"lead@county.gov.cn\"\nuser = \"lead\"\n\n\
         [[subscriber]]\nname = \"无此人\"\nemail = \"ghost@county.gov.cn\"\nuser = \"ghost\"\n",
    );
    // check names the unknown user where it is written
    let (code, out, err) = searchlight_env(&p, &["check"], &[]);
    assert_ne!(code, Some(0), "{out}{err}");
    assert!(format!("{out}{err}").contains("no enabled user `ghost`"), "{out}{err}");
    let (code, out, err) = searchlight_env(&p, &["ingest", "--as-of", "2025-12-31"], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    let dir = p.path("mail");
    let (code, out, err) =
        searchlight_env(&p, &["digest", "preview", "--as-of", "2025-12-31", "--out", dir.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    // the team member's mail: 甲镇 and its villages, masked although the subscriber says
    // show_ids — the user is not granted
    let jia = mail_text(&dir.join("digest-甲组.eml"));
    assert!(jia.contains("东村") && !jia.contains("乙镇"), "{jia}");
    assert!(!jia.contains(A1) && jia.contains("已脱敏"), "{jia}");
    // the leader's: every unit, in full — the user is granted
    let lead = mail_text(&dir.join("digest-领导.eml"));
    assert!(lead.contains("乙镇") && lead.contains(A1), "{lead}");
    // nobody is mailed for a user who does not exist
    assert!(!dir.join("digest-无此人.eml").exists(), "{out}");
}

/// A form body, URL-encoded.
fn form_body(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn post_form(addr: &str, cookie: Option<&str>, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend(cookie.map(|c| ("Cookie", c)));
    http(addr, "POST", path, &headers, Some(&form_body(pairs)))
}

/// The 登录 page as a browser gets it: its form token and the cookie that goes with it.
fn login_form(addr: &str) -> (String, String) {
    let r = http(addr, "GET", "/login", &[], None);
    let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    (hidden(&r.body, "csrf"), cookie)
}

/// Signs in through the 登录 page: the session cookie.
fn sign_in_page(addr: &str, name: &str) -> String {
    let (csrf, cookie) = login_form(addr);
    let r = post_form(addr, Some(&cookie), "/login", &[("csrf", &csrf), ("name", name), ("password", PASSWORD)]);
    assert_eq!((r.status, r.header("location")), (303, Some("/clues")), "{}", r.body);
    r.header("set-cookie").unwrap().split(';').next().unwrap().to_string()
}

fn page(addr: &str, cookie: &str, path: &str) -> Reply {
    http(addr, "GET", path, &[("Cookie", cookie)], None)
}

/// The value of a hidden field of the first form that has one (the page's form token, the
/// clue's latest event).
fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[test]
fn the_pages_sign_in_list_show_and_work_a_clue_without_any_script() {
    let p = county_with_users();
    let ledger = Ledger::open_existing(&p.path("ledger.sqlite")).unwrap();
    let all = ledger.clues(&Default::default()).unwrap();
    let of_a1 = all.iter().find(|c| c.entity == A1).unwrap().clue_id.clone();
    let of_b1 = all.iter().find(|c| c.entity == B1).unwrap().clue_id.clone();
    drop(ledger);
    let s = Server::start(&p);
    let a = s.addr.clone();

    // signed out, a page sends one to 登录; a wrong password says so on the page
    let r = http(&a, "GET", "/clues", &[], None);
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let (csrf, cookie) = login_form(&a);
    let r = post_form(&a, Some(&cookie), "/login", &[("csrf", &csrf), ("name", "wang"), ("password", "not it at all")]);
    assert_eq!(r.status, 401);
    assert!(r.body.contains("用户名或密码不正确") && r.body.contains("<form"), "{}", r.body);
    // a sign-in posted without the page's token (from another site) is refused, right password or not
    let r = post_form(&a, None, "/login", &[("name", "wang"), ("password", PASSWORD)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.header("location").is_none() && r.body.contains("登录页已失效"), "{}", r.body);
    let r = post_form(&a, Some(&cookie), "/login", &[("csrf", "forged"), ("name", "wang"), ("password", PASSWORD)]);
    assert_eq!(r.status, 403, "{}", r.body);

    // the team member's list: 甲镇's clues by title, the other township's not at all
    let wang = sign_in_page(&a, "wang");
    let list = page(&a, &wang, "/clues?status=&severity=&sort=amount");
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("/clues/{of_a1}").replace('/', "&#x2f;")), "{}", list.body);
    assert!(!list.body.contains(&of_b1) && !list.body.contains("乙镇"), "{}", list.body);
    assert!(!list.body.contains(A1) && !list.body.contains("<script"), "{}", list.body);
    assert!(list.body.contains("待研判"), "the counts by state");
    // another township's clue by URL: not found, as a clue that does not exist
    let r = page(&a, &wang, &format!("/clues/{of_b1}"));
    assert_eq!(r.status, 404);
    assert!(r.body.contains("没有找到") && !r.body.contains(B1), "{}", r.body);

    // the clue: a team member cannot triage, so the analyst does, through the page's form
    let clue = page(&a, &wang, &format!("/clues/{of_a1}"));
    assert_eq!(clue.status, 200);
    assert!(!clue.body.contains("提交研判") && clue.body.contains("添加备注"), "{}", clue.body);
    let ana = sign_in_page(&a, "ana");
    let form = page(&a, &ana, &format!("/clues/{of_a1}")).body;
    assert!(form.contains("提交研判"), "{form}");
    let (csrf, last) = (hidden(&form, "csrf"), hidden(&form, "last_event"));
    // without the form token: refused, nothing taken
    let r = post_form(&a, Some(&ana), &format!("/clues/{of_a1}"), &[("kind", "triage"), ("last_event", &last)]);
    assert_eq!(r.status, 403, "{}", r.body);
    let triage = [("csrf", csrf.as_str()), ("last_event", last.as_str()), ("kind", "triage"), ("route_to", "甲镇纪委")];
    let r = post_form(&a, Some(&ana), &format!("/clues/{of_a1}"), &triage);
    assert_eq!((r.status, r.header("location")), (303, Some(format!("/clues/{of_a1}").as_str())), "{}", r.body);
    // the same form again is stale: the page says so and takes nothing
    let r = post_form(&a, Some(&ana), &format!("/clues/{of_a1}"), &triage);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("已被他人更新"), "{}", r.body);
    // the team member verifies on a fresh form; a bad amount is named on the page
    let form = page(&a, &wang, &format!("/clues/{of_a1}")).body;
    let (csrf, last) = (hidden(&form, "csrf"), hidden(&form, "last_event"));
    let verify = |amount: &str| {
        post_form(
            &a,
            Some(&wang),
            &format!("/clues/{of_a1}"),
            &[
                ("csrf", &csrf),
                ("last_event", &last),
                ("kind", "verify"),
                ("result", "属实"),
                ("amount_involved", amount),
            ],
        )
    };
    let r = verify("一百");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("涉及金额") && r.body.contains("不是金额"), "{}", r.body);
    assert_eq!(verify("100.10").status, 303);
    let shown = page(&a, &wang, &format!("/clues/{of_a1}")).body;
    assert!(shown.contains("核实结论: 属实") && shown.contains("王明"), "{shown}");

    // a leader reads, and is offered no step
    let lead = sign_in_page(&a, "lead");
    let r = page(&a, &lead, &format!("/clues/{of_b1}"));
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<form action=\"&#x2f;clues&#x2f;"), "no step form for a leader: {}", r.body);

    // the working paper, on the page and as a workbook
    let paper = page(&a, &wang, &format!("/papers/{of_a1}"));
    assert_eq!(paper.status, 200);
    assert!(paper.body.contains("问题底稿") && !paper.body.contains(A1), "{}", paper.body);
    let r = page(&a, &wang, &format!("/papers/{of_a1}?format=xlsx"));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().contains("spreadsheetml"));
    assert_eq!(page(&a, &wang, &format!("/papers/{of_b1}")).status, 404);

    // the team's units and their briefs; another township's is not found
    let units = page(&a, &wang, "/units").body;
    assert!(units.contains("甲镇") && units.contains("西村") && !units.contains("乙镇"), "{units}");
    let brief = page(&a, &wang, "/units/A00");
    assert_eq!(brief.status, 200, "{}", brief.body);
    assert!(brief.body.contains("巡前情况通报") && !brief.body.contains(A1), "{}", brief.body);
    assert_eq!(page(&a, &wang, "/units/B00").status, 404);
    let r = page(&a, &wang, "/units/A00?format=xlsx");
    assert!(
        r.header("content-type").unwrap().contains("spreadsheetml")
            && r.header("content-disposition").unwrap().contains("brief-A00.xlsx")
    );

    // runs and the model library for everyone; users and the log for the admin only
    assert!(page(&a, &wang, "/runs").body.contains("命令行"));
    assert!(page(&a, &wang, "/models").body.contains("属实率"));
    assert_eq!(page(&a, &wang, "/users").status, 403);
    assert_eq!(page(&a, &lead, "/audit").status, 403);
    let root = sign_in_page(&a, "root");
    let users = page(&a, &root, "/users").body;
    let csrf = hidden(&users, "csrf");
    let add = [
        ("csrf", csrf.as_str()),
        ("action", "add"),
        ("name", "zhao"),
        ("role", "team"),
        ("team", "乙组"),
        ("password", "short"),
    ];
    let r = post_form(&a, Some(&root), "/users", &add);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("at least 10 characters"), "{}", r.body);
    let mut add = add;
    add[5] = ("password", PASSWORD);
    assert_eq!(post_form(&a, Some(&root), "/users", &add).status, 200);
    let r = post_form(
        &a,
        Some(&root),
        "/users",
        &[("csrf", &csrf), ("action", "units"), ("name", "zhao"), ("unit", "B00")],
    );
    assert!(r.body.contains("乙组 的单位已更新"), "{}", r.body);
    let zhao = sign_in_page(&a, "zhao");
    // a password reset on the page ends the user's sessions
    let reset = [("csrf", csrf.as_str()), ("action", "passwd"), ("name", "lead"), ("password", "another long one")];
    let r = post_form(&a, Some(&root), "/users", &reset);
    assert!(r.body.contains("lead 的密码已重置"), "{}", r.body);
    assert_eq!(page(&a, &lead, "/clues").status, 303, "the old session ended");
    assert_eq!(page(&a, &zhao, &format!("/clues/{of_b1}")).status, 200, "乙组 now has 乙镇");
    assert_eq!(page(&a, &zhao, &format!("/clues/{of_a1}")).status, 404);
    assert!(page(&a, &root, "/audit?user=zhao").body.contains("read clue"));
    // a change without the page's form token is refused, and by anyone but an admin
    assert_eq!(post_form(&a, Some(&root), "/users", &[("action", "ids"), ("name", "zhao"), ("show", "1")]).status, 403);
    let wang_csrf = hidden(&page(&a, &wang, "/logout").body, "csrf");
    let r = post_form(
        &a,
        Some(&wang),
        "/users",
        &[("csrf", &wang_csrf), ("action", "ids"), ("name", "wang"), ("show", "1")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!Ledger::open_existing(&p.path("ledger.sqlite")).unwrap().user("wang").unwrap().unwrap().show_ids);

    // signing out through the page's form ends the session
    let out = page(&a, &wang, "/logout").body;
    let r = post_form(&a, Some(&wang), "/logout", &[("csrf", &hidden(&out, "csrf"))]);
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert_eq!(page(&a, &wang, "/clues").status, 303);
    s.stop();

    let entries = log_entries(&p);
    assert!(entries.iter().any(|e| e.who == "wang"
        && e.action == "read clue"
        && e.object.as_deref() == Some(&of_b1)
        && e.outcome.starts_with("refused")));
    assert!(entries.iter().any(|e| e.who == "wang" && e.action == "read paper" && e.outcome == "ok"));
    assert!(entries.iter().any(|e| e.who == "wang"
        && e.action == "read brief"
        && e.object.as_deref() == Some("B00")
        && e.outcome.starts_with("refused")));
    assert!(
        entries.iter().any(|e| e.who == "ana" && e.action == "step triage" && e.outcome == "refused: no form token")
    );
}

/// Measures a page in headless Chromium at a window width: how many text cells are narrower
/// than four characters, and whether the page is wider than the window. The page is saved with
/// a measuring script added (the served page carries none and forbids any), and screenshotted
/// into the test's artefacts.
fn measure(browser: &str, html: &str, name: &str, width: u32) -> (usize, bool, String) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("workbench-shots");
    std::fs::create_dir_all(&dir).unwrap();
    let csp = regex::Regex::new(r#"<meta http-equiv="Content-Security-Policy"[^>]*>"#).unwrap();
    let script = "<script>addEventListener('load',()=>{const n=[];for(const td of document.querySelectorAll('td.t,td.w')){const cs=getComputedStyle(td);const fs=parseFloat(cs.fontSize);const w=td.clientWidth-parseFloat(cs.paddingLeft)-parseFloat(cs.paddingRight);if(td.textContent.trim().length>=4&&w<4*fs-0.5)n.push(td.textContent.trim().slice(0,12)+'='+w.toFixed(0));}document.body.setAttribute('data-narrow',n.length);document.body.setAttribute('data-which',n.slice(0,5).join('|'));document.body.setAttribute('data-overflow',document.documentElement.scrollWidth>innerWidth?'yes':'no');});</script></body>";
    let measured = csp.replace(html, "").replace("</body>", script);
    let file = dir.join(format!("{name}-{width}.measure.html"));
    std::fs::write(&file, measured).unwrap();
    let shown = dir.join(format!("{name}.html"));
    std::fs::write(&shown, html).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let run = |extra: &[String], url: &std::path::Path| {
        Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--disable-background-networking",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},1200"))
            .args(extra)
            .arg(format!("file://{}", url.display()))
            .output()
            .unwrap()
    };
    let _ = run(&[format!("--screenshot={}", dir.join(format!("{name}-{width}.png")).display())], &shown);
    let out = run(&["--dump-dom".into()], &file);
    let dom = String::from_utf8_lossy(&out.stdout);
    let body = dom.split("<body").nth(1).and_then(|b| b.split('>').next()).unwrap_or_default().to_string();
    let attr = |k: &str| body.split(&format!("{k}=\"")).nth(1).and_then(|r| r.split('"').next()).map(str::to_string);
    let narrow = attr("data-narrow").unwrap_or_else(|| panic!("{name} at {width}: not measured: {body}"));
    (narrow.parse().unwrap(), attr("data-overflow").as_deref() == Some("yes"), attr("data-which").unwrap_or_default())
}

#[test]
fn at_1366_and_375_pixels_no_text_column_is_narrower_than_four_characters() {
    let Some(browser) = std::env::var("SEARCHLIGHT_TEST_CHROMIUM").ok().or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(|p| p.to_string())
    }) else {
        eprintln!("skipped: no Chromium (.ci/run installs Debian's chromium and sets SEARCHLIGHT_TEST_CHROMIUM)");
        return;
    };
    let p = county_with_users();
    let of_a1 = clue_of(&p, A1);
    let s = Server::start(&p);
    let root = sign_in_page(&s.addr, "root");
    let mut pages = vec![
        ("clues", page(&s.addr, &root, "/clues").body),
        ("clue", page(&s.addr, &root, &format!("/clues/{of_a1}")).body),
        ("paper", page(&s.addr, &root, &format!("/papers/{of_a1}")).body),
        ("runs", page(&s.addr, &root, "/runs").body),
    ];
    s.stop();
    let brief = p.path("甲镇.html");
    crate::util::ok(&p, &["brief", "甲镇", "--as-of", "2025-12-31", "--out", brief.to_str().unwrap()]);
    pages.push(("brief", std::fs::read_to_string(&brief).unwrap()));
    for (name, html) in &pages {
        assert!(html.contains("</table>"), "{name}: {html}");
        for width in [1366, 375] {
            let (narrow, overflow, which) = measure(&browser, html, name, width);
            assert_eq!(narrow, 0, "{name} at {width}px: text cells narrower than four characters: {which}");
            assert!(!overflow, "{name} at {width}px is wider than the window");
        }
    }
}

/// 50 clients at once for 20 seconds (`SEARCHLIGHT_LOAD_SECONDS`) on the clue list and a clue
/// page: every answer is a 200, and what it managed is printed — throughput and the 99th
/// percentile (a record, not a timed assertion; `docs/performance.md` has the figures).
#[test]
fn fifty_clients_at_once_get_every_answer_right() {
    let p = county_with_users();
    let of_a1 = clue_of(&p, A1);
    let s = Server::start(&p);
    let cookie = sign_in_page(&s.addr, "wang");
    let seconds: u64 = std::env::var("SEARCHLIGHT_LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let (addr, cookie, clue) = (s.addr.clone(), cookie.clone(), of_a1.clone());
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut errors = Vec::new();
                let mut n = 0usize;
                while Instant::now() < until {
                    let path = if (i + n).is_multiple_of(2) { "/clues".to_string() } else { format!("/clues/{clue}") };
                    let t = Instant::now();
                    let r = http(&addr, "GET", &path, &[("Cookie", &cookie)], None);
                    times.push(t.elapsed());
                    if r.status != 200 || !r.body.contains("</html>") {
                        errors.push(format!("{path}: {}", r.status));
                    }
                    n += 1;
                }
                (times, errors)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut errors = Vec::new();
    for c in clients {
        let (t, e) = c.join().unwrap();
        times.extend(t);
        errors.extend(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (code, _) = s.stop();
    assert_eq!(code, Some(0));
    assert!(errors.is_empty(), "{} errors of {}: {:?}", errors.len(), times.len(), &errors[..errors.len().min(5)]);
    times.sort();
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    let p50 = times[times.len() / 2];
    eprintln!(
        "load: 50 clients, {elapsed:.1} s, {} requests, {:.0} per second, p50 {:.1} ms, p99 {:.1} ms, 0 errors",
        times.len(),
        times.len() as f64 / elapsed,
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
    assert!(times.len() >= 50, "every client was answered at least once");
}

/// The browser test over WebDriver (`tests/support/browser.py`): runs where `.ci/run` installed
/// chromium-driver and selenium (`SEARCHLIGHT_TEST_WEBDRIVER=1`), else says it is skipped.
#[test]
fn in_a_browser_over_webdriver_an_analyst_works_a_clue_and_a_team_member_is_refused_another_units() {
    let wanted = std::env::var("SEARCHLIGHT_TEST_WEBDRIVER").is_ok();
    let ready = std::path::Path::new("/usr/bin/chromedriver").exists()
        && Command::new("python3").args(["-c", "import selenium, openpyxl"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(!wanted, "SEARCHLIGHT_TEST_WEBDRIVER is set, but chromedriver or selenium is missing");
        eprintln!("skipped: no chromedriver or selenium (.ci/run installs them and sets SEARCHLIGHT_TEST_WEBDRIVER)");
        return;
    }
    let p = county_with_users();
    let all = Ledger::open_existing(&p.path("ledger.sqlite")).unwrap().clues(&Default::default()).unwrap();
    let of_a1 = all.iter().find(|c| c.entity == A1).unwrap().clue_id.clone();
    let of_b1 = all.iter().find(|c| c.entity == B1).unwrap().clue_id.clone();
    let s = Server::start(&p);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("workbench-shots");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("python3")
        .arg(crate::util::repo().join("tests/support/browser.py"))
        .arg(format!("http://{}", s.addr))
        .arg(&dir)
        .args([PASSWORD, &of_a1, &of_b1, "A00"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    s.stop();
    assert!(out.status.success(), "{said}\n{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_str(said.trim()).unwrap();
    assert_eq!(seen["scripts"], 0, "no script on the page: {seen}");
    assert!(seen["xlsx_type"].as_str().unwrap().contains("spreadsheetml"), "{seen}");
    for shot in ["webdriver-clues", "webdriver-clue", "webdriver-brief"] {
        for w in [1366, 375] {
            assert!(dir.join(format!("{shot}-{w}.png")).exists(), "{shot} at {w}");
        }
    }
}

#[test]
fn without_the_units_directory_a_team_member_is_told_their_list_is_only_the_units_assigned_by_code() {
    let p = county_with_users();
    // a unit to assign is checked against the directory: a name or a typo changes nothing
    let (code, _, err) = searchlight_env(&p, &["user", "grant", "wang", "--unit", "甲镇"], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("did you mean A00 甲镇") && err.contains("nothing was changed"), "{err}");
    assert_eq!(Ledger::open_existing(&p.path("ledger.sqlite")).unwrap().user("wang").unwrap().unwrap().units, ["A00"]);
    std::fs::remove_dir_all(p.path("lake/units")).unwrap();
    // without a directory the code is taken as it is, and the user told so
    let (code, _, err) = searchlight_env(&p, &["user", "grant", "wang", "--unit", "A01"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("单位编码未能核对"), "{err}");
    let s = Server::start(&p);
    let wang = sign_in(&s.addr, "wang");
    let r = get(&s.addr, &wang, "/api/v1/clues");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["notice"].as_str().is_some_and(|n| n.contains("没有被巡察单位名录")), "{}", r.body);
    let page = get(&s.addr, &wang, "/clues");
    assert!(page.body.contains("不代表没有"), "{}", page.body);
    // an analyst sees every unit anyway: nothing to say
    let ana = sign_in(&s.addr, "ana");
    assert!(get(&s.addr, &ana, "/api/v1/clues").json()["notice"].is_null());
    s.stop();
}
