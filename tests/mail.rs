//! `searchlight serve` and its mail against a real SMTP server on 127.0.0.1 (aiosmtpd, which
//! `.ci/run` installs; `tests/support/smtp_server.py`), read back with Python's `email` package
//! and openpyxl (`tests/support/read_mail.py`): recipients, subjects, bodies grouped by area,
//! masked and granted IDs, the workbook's rows against the ledger, one mail per subscriber per
//! run and none when nothing is new; the outbox across a stopped server, a kill -9 between the
//! run and the send, and the documented second-delivery window; STARTTLS with AUTH; and the
//! scheduler: no overlap on a per-second cron, one catch-up run, a timeout that keeps the
//! finished model's results, a second server refused, SIGTERM exits 0.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TestProject, ok, searchlight};

/// Whether the test servers are at hand (`.ci/run` sets SEARCHLIGHT_TEST_SMTP after installing
/// aiosmtpd; there a missing server is a failure, elsewhere the test says it is skipped).
fn smtp_available() -> bool {
    let ok = Command::new("python3").args(["-c", "import aiosmtpd, openpyxl"]).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("SEARCHLIGHT_TEST_SMTP").is_none(),
            "SEARCHLIGHT_TEST_SMTP is set but aiosmtpd/openpyxl are missing"
        );
        eprintln!("skipped: python3 with aiosmtpd and openpyxl is needed (pip install aiosmtpd openpyxl)");
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running test SMTP server.
struct Smtp {
    child: Child,
    maildir: PathBuf,
}

impl Smtp {
    fn start(port: u16, maildir: &Path, extra: &[&str]) -> Smtp {
        let script = crate::util::repo().join("tests/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--maildir", maildir.to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 6];
        use std::io::Read;
        out.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ready\n");
        Smtp { child, maildir: maildir.to_path_buf() }
    }

    fn messages(&self) -> Vec<serde_json::Value> {
        read_mail(&self.maildir)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_mail(maildir: &Path) -> Vec<serde_json::Value> {
    let script = crate::util::repo().join("tests/support/read_mail.py");
    let out = Command::new("python3").arg(script).arg(maildir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_searchlight")
}

/// `searchlight serve` in the background.
fn serve(p: &TestProject, env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(bin());
    c.current_dir(p.root())
        .args(["serve"])
        .env("SEARCHLIGHT_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

fn sigterm(c: &mut Child) -> (Option<i32>, String) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    unsafe {
        kill(c.id() as i32, 15);
    }
    let started = Instant::now();
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (s.code(), err);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn outbox(p: &TestProject) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(&ok(p, &["outbox", "--json"])).unwrap().as_array().unwrap().clone()
}

/// Waits until the outbox is `done`, while the server `s` keeps running.
fn wait_outbox(p: &TestProject, s: &mut Child, done: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
    let started = Instant::now();
    loop {
        let o = outbox(p);
        if done(&o) {
            return o;
        }
        if let Some(status) = s.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            s.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("serve ended ({status}) before the outbox got there: {err}\n{o:#?}");
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = s.kill();
            let mut err = String::new();
            use std::io::Read;
            s.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("the outbox never got there; serve said: {err}\n{o:#?}");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

const ID_A: &str = "110101199003074477";
const ID_B: &str = "110101198805120011";

/// A county of payments (two areas) and two models, high and medium severity.
fn county(smtp: &str, extra: &str) -> TestProject {
    let p = TestProject::new();
    p.write(
        "connectors/pay.toml",
        "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/pay.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"姓名\", type = \"text\" }\nid_no = { from = \"身份证号\", type = \"text\" }\nvillage = { from = \"村\", type = \"text\" }\nkind = { from = \"类别\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n",
    );
    p.write(
        "data/pay.csv",
        format!("姓名,身份证号,村,类别,金额\n张三,{ID_A},东村,低保,100.10\n李四,{ID_B},西村,补贴,200.20\n"),
    );
    for (id, area, kind, severity) in
        [("test.relief", "低保", "低保", "high"), ("test.subsidy", "补贴", "补贴", "medium")]
    {
        p.write(
            &format!("models/test/{}.sql", id.trim_start_matches("test.")),
            format!("/* searchlight\nid = \"{id}\"\ntitle = \"{area}测试\"\ntitle_en = \"Test\"\ndomain = \"test\"\narea = \"{area}\"\nseverity = \"{severity}\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"id_no\"]\nunit = \"village\"\namount = \"amount\"\n*/\nSELECT who, id_no, village, amount FROM pay WHERE kind = '{kind}'\n"),
        );
    }
    p.write(
        "searchlight.toml",
        format!(
            "time_zone = \"Asia/Shanghai\"\nadmin = \"admin@county.gov.cn\"\n\n{smtp}\n{extra}\n[[subscriber]]\nname = \"民生室\"\nemail = \"minsheng@county.gov.cn\"\n\n[[subscriber]]\nname = \"审计组\"\nemail = \"audit@county.gov.cn\"\nshow_ids = true\n\n[[subscriber]]\nname = \"低风险组\"\nemail = \"low@county.gov.cn\"\nseverities = [\"low\"]\n\n[library]\nbundled = false\n"
        ),
    );
    p
}

fn plain(port: u16) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\nfrom = \"探照灯 <searchlight@county.gov.cn>\"\nretry = \"1s\"\nattempts = 30\n"
    )
}

/// A schedule that is never due while the test runs (the server only sends).
const NEVER: &str = "[[schedule]]\nname = \"yearly\"\ncron = \"0 0 0 1 1 *\"\nmodels = [\"test.relief\"]\n";

#[test]
fn digests_reach_each_subscriber_once_with_their_rows_and_masking() {
    if !smtp_available() {
        return;
    }
    let port = free_port();
    let p = county(&plain(port), NEVER);
    let server = Smtp::start(port, &p.path("maildir"), &[]);

    // a manual pipeline queues the digests in the run's transaction; nothing is sent yet
    let out = ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert!(out.contains("已排队 2 封"), "{out}");
    let o = outbox(&p);
    assert_eq!(o.len(), 2, "{o:#?}");
    assert!(o.iter().all(|m| m["state"] == "queued"));
    assert!(server.messages().is_empty());

    // the server sends them, then stops cleanly on SIGTERM
    let mut s = serve(&p, &[]);
    wait_outbox(&p, &mut s, |o| o.iter().all(|m| m["state"] == "sent"));
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    let mails = server.messages();
    assert_eq!(mails.len(), 2, "one mail per subscriber with something for them: {mails:#?}");
    let to = |addr: &str| mails.iter().find(|m| m["to"].as_str().unwrap().contains(addr)).unwrap().clone();
    let masked = to("minsheng@county.gov.cn");
    let granted = to("audit@county.gov.cn");
    assert!(
        !mails.iter().any(|m| m["to"].as_str().unwrap().contains("low@")),
        "the low-severity subscriber gets nothing"
    );
    assert_eq!(masked["subject"], "【探照灯】2025-12-31 新增线索 2 条（低保 1 · 补贴 1）");
    assert!(masked["from"].as_str().unwrap().contains("searchlight@county.gov.cn"));

    // bodies: one table per area, masked IDs for one, full for the other
    for m in [&masked, &granted] {
        let text = m["text"].as_str().unwrap();
        assert!(text.contains("低保（1 条）") && text.contains("补贴（1 条）"), "{text}");
        let html = m["html"].as_str().unwrap();
        assert!(html.contains("<th>线索编号</th>") && html.contains("<th>被巡察单位</th>"), "{html}");
    }
    let all = format!("{masked}");
    assert!(!all.contains(ID_A) && !all.contains(ID_B), "a masked digest shows no ID in full");
    assert!(masked["text"].as_str().unwrap().contains("110101********4477"), "{}", masked["text"]);
    assert!(granted["text"].as_str().unwrap().contains(ID_A));

    // the workbook: a sheet per area whose rows are the ledger's clues; the high-severity
    // clue's working paper attached
    let clues: Vec<serde_json::Value> = serde_json::from_str(&ok(&p, &["clues", "--json"])).unwrap();
    for (area, model) in [("低保", "test.relief"), ("补贴", "test.subsidy")] {
        let sheet = granted["sheets"][area].as_array().unwrap_or_else(|| panic!("no sheet {area}: {granted:#?}"));
        let ids: Vec<&str> = sheet.iter().skip(1).map(|r| r[0].as_str().unwrap()).collect();
        let want: Vec<&str> =
            clues.iter().filter(|c| c["model"] == model).map(|c| c["clue_id"].as_str().unwrap()).collect();
        assert_eq!(ids, want, "{area}");
    }
    let high = clues.iter().find(|c| c["model"] == "test.relief").unwrap()["clue_id"].as_str().unwrap().to_string();
    let names: Vec<&str> = masked["attachments"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(names.contains(&"线索明细-2025-12-31.xlsx"), "{names:?}");
    assert!(names.contains(&format!("问题底稿-{high}.html").as_str()), "{names:?}");
    assert_eq!(names.len(), 2, "only the high-severity clue's paper: {names:?}");

    // the same data again: nothing new, no mail
    let out = ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert!(!out.contains("已排队"), "{out}");
    assert_eq!(outbox(&p).len(), 2);

    // the SMTP server is down: a new clue's digests wait and are retried; the server comes
    // back and each arrives once
    drop(server);
    let data = std::fs::read_to_string(p.path("data/pay.csv")).unwrap();
    p.write("data/pay.csv", format!("{data}王五,110101197001010022,东村,低保,300.30\n"));
    let out = ok(&p, &["pipeline", "--as-of", "2026-01-31"]);
    assert!(out.contains("已排队 2 封"), "{out}");
    let mut s = serve(&p, &[]);
    let o = wait_outbox(&p, &mut s, |o| {
        o.iter().filter(|m| m["state"] == "queued" && m["attempts"].as_i64() >= Some(1)).count() == 2
    });
    assert!(o.iter().any(|m| m["last_error"].as_str().is_some()), "{o:#?}");
    let server = Smtp::start(port, &p.path("maildir"), &[]);
    wait_outbox(&p, &mut s, |o| o.iter().all(|m| m["state"] == "sent"));
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    let mails = server.messages();
    assert_eq!(mails.len(), 4, "{mails:#?}");
    let ids: std::collections::BTreeSet<&str> = mails.iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4, "every mail arrived once");
    let late = mails
        .iter()
        .find(|m| {
            m["subject"].as_str().unwrap().contains("2026-01-31") && m["to"].as_str().unwrap().contains("minsheng")
        })
        .unwrap();
    assert_eq!(late["subject"], "【探照灯】2026-01-31 新增线索 1 条（低保 1）", "never the same clue twice");

    // kill -9 between the run and the send: the queued mail survives and goes out
    p.write(
        "data/pay.csv",
        format!("{data}王五,110101197001010022,东村,低保,300.30\n赵六,110101196001010033,西村,补贴,5.00\n"),
    );
    let (code, _, err) = crate::util::searchlight_env(
        &p,
        &["pipeline", "--as-of", "2026-02-28"],
        &[("SEARCHLIGHT_FAULT", "pipeline.after_record")],
    );
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("fault injected at pipeline.after_record"), "{err}");
    assert_eq!(outbox(&p).iter().filter(|m| m["state"] == "queued").count(), 2);

    // and the window: the server accepted the mail, the process died before the outbox said
    // so — the same message (same Message-ID) goes out again at the next start
    let mut s = serve(&p, &[("SEARCHLIGHT_FAULT", "outbox.after_send")]);
    let status = s.wait().unwrap();
    assert!(!status.success());
    assert_eq!(server.messages().len(), 5, "the first mail was accepted before the crash");
    assert_eq!(outbox(&p).iter().filter(|m| m["state"] == "queued").count(), 2, "not recorded as sent");
    let mut s = serve(&p, &[]);
    wait_outbox(&p, &mut s, |o| o.iter().all(|m| m["state"] == "sent"));
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    let mails = server.messages();
    assert_eq!(mails.len(), 7);
    let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in &mails {
        *count.entry(m["message_id"].as_str().unwrap()).or_default() += 1;
    }
    assert_eq!(count.values().filter(|&&n| n == 2).count(), 1, "exactly the one mail in the window twice: {count:?}");
    assert_eq!(count.len(), 6);

    // a permanent refusal marks the mail failed and tells the admin; retry re-queues it
    drop(server);
    let server = Smtp::start(port, &p.path("maildir2"), &["--refuse", "550"]);
    p.write("data/pay.csv", format!("{data}钱七,110101195001010044,东村,低保,7.00\n"));
    ok(&p, &["pipeline", "--as-of", "2026-03-31"]);
    let mut s = serve(&p, &[]);
    let o = wait_outbox(&p, &mut s, |o| o.iter().filter(|m| m["state"] == "failed").count() >= 3);
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    let alerts: Vec<&serde_json::Value> = o.iter().filter(|m| m["kind"] == "alert").collect();
    assert_eq!(alerts.len(), 2, "the admin is told of each failed digest: {o:#?}");
    assert!(alerts[0]["subject"].as_str().unwrap().contains("邮件发送失败"));
    let failed = o.iter().find(|m| m["kind"] == "digest" && m["state"] == "failed").unwrap();
    let out = ok(&p, &["outbox", "retry", &failed["id"].to_string()]);
    assert!(out.contains("已重新排队"), "{out}");
    drop(server);
}

#[test]
fn starttls_with_auth_delivers_and_a_wrong_password_fails() {
    if !smtp_available() {
        return;
    }
    let p = TestProject::new();
    let dir = p.path("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let sh = format!(
        "set -e; cd {d}; openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=testca -keyout ca.key -out ca.pem 2>/dev/null; \
         openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out req.csr 2>/dev/null; \
         printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > ext.cnf; \
         openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out cert.pem 2>/dev/null",
        d = dir.display()
    );
    assert!(Command::new("sh").args(["-c", &sh]).status().unwrap().success());
    let port = free_port();
    let smtp = format!(
        "[smtp]\nhost = \"localhost\"\nport = {port}\nsecurity = \"starttls\"\nuser = \"searchlight\"\npassword_env = \"TEST_SMTP_PASSWORD\"\nfrom = \"探照灯 <searchlight@county.gov.cn>\"\nca_file = \"tls/ca.pem\"\nretry = \"1s\"\nattempts = 2\n"
    );
    let q = county(&smtp, NEVER);
    std::fs::rename(&dir, q.path("tls")).unwrap();
    let (cert, key) = (q.path("tls/cert.pem"), q.path("tls/key.pem"));
    let server = Smtp::start(
        port,
        &q.path("maildir"),
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--user",
            "searchlight",
            "--password",
            "s3cret",
        ],
    );
    let out = ok(&q, &["check"]);
    assert!(out.contains("searchlight.toml: 通过"), "{out}");
    ok(&q, &["pipeline", "--as-of", "2025-12-31"]);
    let mut s = serve(&q, &[("TEST_SMTP_PASSWORD", "s3cret")]);
    wait_outbox(&q, &mut s, |o| o.iter().all(|m| m["state"] == "sent"));
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(server.messages().len(), 2);

    // a wrong password: refused (5xx), the mails fail, nothing arrives
    let data = std::fs::read_to_string(q.path("data/pay.csv")).unwrap();
    q.write("data/pay.csv", format!("{data}王五,110101197001010022,东村,低保,300.30\n"));
    ok(&q, &["pipeline", "--as-of", "2026-01-31"]);
    let mut s = serve(&q, &[("TEST_SMTP_PASSWORD", "wrong")]);
    let o =
        wait_outbox(&q, &mut s, |o| o.iter().filter(|m| m["kind"] == "digest" && m["state"] == "failed").count() == 2);
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        o.iter()
            .any(|m| m["last_error"].as_str().is_some_and(|e| e.contains("535") || e.to_lowercase().contains("auth"))),
        "{o:#?}"
    );
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn the_scheduler_never_overlaps_catches_up_once_times_out_and_stops_cleanly() {
    if !smtp_available() {
        return;
    }
    let port = free_port();
    // a per-second job, and a yearly one whose missed ticks must make one catch-up run
    let jobs = "[[schedule]]\nname = \"every-second\"\ncron = \"* * * * * *\"\nconnectors = [\"pay\"]\nmodels = [\"test.relief\"]\n\n[[schedule]]\nname = \"yearly\"\ncron = \"0 0 0 1 1 *\"\nmodels = [\"test.subsidy\"]\n\n[[schedule]]\nname = \"slow\"\ncron = \"0 0 0 1 1 *\"\nmodels = [\"test.relief\", \"test.slow\"]\ntimeout = \"3s\"\n";
    let p = county(&plain(port), jobs);
    let server = Smtp::start(port, &p.path("maildir"), &[]);
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    // the slow model (a recursive CTE that counts to a billion) comes after that pipeline,
    // which would run it with no timeout
    p.write(
        "models/test/slow.sql",
        "/* searchlight\nid = \"test.slow\"\ntitle = \"慢测试\"\ntitle_en = \"Slow\"\ndomain = \"test\"\narea = \"低保\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"id_no\"]\nunit = \"village\"\n*/\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000)\nSELECT p.id_no, p.village FROM pay p JOIN (SELECT max(i) AS m FROM n) x ON x.m < 0\n",
    );
    // the yearly jobs last ran for 2024's tick (before this server was ever up)
    let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
    for job in ["yearly", "slow"] {
        conn.execute(
            "INSERT INTO job_runs (job, trigger, tick, as_of, started_at, ended_at, outcome) VALUES (?1, 'schedule', '2023-12-31T16:00:00.000Z', '2024-01-01', '2023-12-31T16:00:00.000Z', '2023-12-31T16:00:01.000Z', 'ok')",
            [job],
        )
        .unwrap();
    }
    drop(conn);

    let mut s = serve(&p, &[]);
    // a second scheduler on the same project is refused while the first holds the lease
    std::thread::sleep(Duration::from_secs(2));
    let (code, _, err) = searchlight(&p, &["serve"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("另一个 searchlight serve 正在运行"), "{err}");
    // let the per-second job run a few times
    let started = Instant::now();
    loop {
        let runs: Vec<serde_json::Value> =
            serde_json::from_str(&ok(&p, &["runs", "--json", "--limit", "100"])).unwrap();
        if runs.iter().filter(|r| r["job"] == "every-second").count() >= 4 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{runs:#?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "SIGTERM: the running job finishes and serve exits 0: {err}");
    assert!(err.contains("stopping"), "{err}");

    let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
    let rows: Vec<(String, String, Option<String>, String, Option<String>, Option<String>)> = conn
        .prepare("SELECT job, trigger, tick, started_at, ended_at, outcome FROM job_runs WHERE id > 3 ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // never two runs at once: each starts after the one before ended, and no tick twice
    for w in rows.windows(2) {
        assert!(w[1].3 >= *w[0].4.as_ref().unwrap(), "overlap: {w:?}");
    }
    let ticks: Vec<&String> = rows.iter().filter(|r| r.0 == "every-second").filter_map(|r| r.2.as_ref()).collect();
    assert_eq!(ticks.iter().collect::<std::collections::BTreeSet<_>>().len(), ticks.len(), "{rows:?}");
    assert!(rows.iter().all(|r| r.4.is_some()), "every run ended before exit: {rows:?}");
    // one catch-up run per yearly job, for the latest missed tick (this year's 1 January in
    // Shanghai, 16:00 UTC the day before), not one per missed year
    let year = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y").to_string();
    let tick = format!("{}-12-31T16:00:00.000Z", year.parse::<i32>().unwrap() - 1);
    for job in ["yearly", "slow"] {
        let caught: Vec<_> = rows.iter().filter(|r| r.0 == job).collect();
        assert_eq!(caught.len(), 1, "{job}: {rows:?}");
        assert_eq!(caught[0].1, "catch-up");
        assert_eq!(caught[0].2.as_deref(), Some(tick.as_str()));
    }
    // the slow job timed out: the fast model kept its result, the slow one was cancelled
    let slow = rows.iter().find(|r| r.0 == "slow").unwrap();
    assert_eq!(slow.5.as_deref(), Some("timed_out"), "{rows:?}");
    let runs: Vec<serde_json::Value> = serde_json::from_str(&ok(&p, &["runs", "--json", "--limit", "100"])).unwrap();
    let run = runs.iter().find(|r| r["job"] == "slow").unwrap();
    assert_eq!(run["outcome"], "timed_out");
    assert_eq!(run["failed"], 1, "{run:#?}");
    assert_eq!(run["models"], 2);
    let run_id = run["run_id"].as_str().unwrap();
    let looked: i64 = conn
        .query_row(
            "SELECT count(*) FROM run_models WHERE run_id = ?1 AND model = 'test.relief' AND error IS NULL",
            [run_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(looked, 1, "the model that finished keeps its result");
    let err: String = conn
        .query_row("SELECT error FROM run_models WHERE run_id = ?1 AND model = 'test.slow'", [run_id], |r| r.get(0))
        .unwrap();
    assert!(err.starts_with("timed out"), "{err}");
    // and the admin heard of it
    let alerts: i64 = conn
        .query_row("SELECT count(*) FROM outbox WHERE kind = 'alert' AND subject LIKE '%slow%超时%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(alerts, 1);
    // the lease was given back: a new server starts at once
    let mut s = serve(&p, &[]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(s.try_wait().unwrap().is_none(), "a new server starts after a clean stop");
    let (code, _) = sigterm(&mut s);
    assert_eq!(code, Some(0));
    drop(server);
}

#[test]
fn a_scheduled_run_killed_mid_way_is_closed_as_interrupted_and_its_tick_run_again_once() {
    if !smtp_available() {
        return;
    }
    let port = free_port();
    let jobs = "[[schedule]]\nname = \"yearly\"\ncron = \"0 0 0 1 1 *\"\nmodels = [\"test.relief\", \"test.slow\"]\n";
    let p = county(&plain(port), jobs);
    let _server = Smtp::start(port, &p.path("maildir"), &[]);
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    let slow = |stop: &str| {
        format!(
            "/* searchlight\nid = \"test.slow\"\ntitle = \"慢测试\"\ntitle_en = \"Slow\"\ndomain = \"test\"\narea = \"低保\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"id_no\"]\nunit = \"village\"\n*/\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {stop})\nSELECT p.id_no, p.village FROM pay p JOIN (SELECT max(i) AS m FROM n) x ON x.m < 0\n"
        )
    };
    p.write("models/test/slow.sql", slow("1000000000"));
    // the yearly job last ran for 2024's tick: this year's is due at once, as a catch-up
    let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
    conn.execute(
        "INSERT INTO job_runs (job, trigger, tick, as_of, started_at, ended_at, outcome) VALUES ('yearly', 'schedule', '2023-12-31T16:00:00.000Z', '2024-01-01', '2023-12-31T16:00:00.000Z', '2023-12-31T16:00:01.000Z', 'ok')",
        [],
    )
    .unwrap();
    drop(conn);
    let job_runs = || -> Vec<(Option<String>, Option<String>, Option<String>, Option<String>)> {
        let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
        conn.prepare(
            "SELECT tick, ended_at, outcome, error FROM job_runs WHERE job = 'yearly' AND tick > '2024' ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    // the catch-up run of this year's tick begins; kill -9 while the slow model runs
    let mut s = serve(&p, &[]);
    let started = Instant::now();
    while job_runs().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the job never began");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    s.kill().unwrap();
    let _ = s.wait();
    let before = job_runs();
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0].1, None, "left open by the kill: {before:?}");
    let tick = before[0].0.clone();
    let (_, out, _) = searchlight(&p, &["runs"]);
    assert!(out.contains("运行中或已中断"), "{out}");

    // restarted (the slow model now fast): the open run is closed as interrupted, saying when
    // its scheduler was last seen, and the tick runs again — once
    p.write("models/test/slow.sql", slow("10"));
    let mut s = serve(&p, &[]);
    let started = Instant::now();
    while job_runs().len() < 2 || job_runs()[1].1.is_none() {
        assert!(started.elapsed() < Duration::from_secs(90), "{:?}", job_runs());
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(2));
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    let after = job_runs();
    assert_eq!(after.len(), 2, "the tick is run again once, not again and again: {after:?}");
    assert_eq!(after[0].2.as_deref(), Some("interrupted"), "{after:?}");
    assert!(after[0].1.is_some() && after[0].3.as_deref().unwrap_or("").contains("last seen"), "{after:?}");
    assert_eq!(after[1].0, tick, "{after:?}");
    assert_eq!(after[1].2.as_deref(), Some("ok"), "{after:?}");
    assert!(err.contains("被中断"), "{err}");
    let (_, out, _) = searchlight(&p, &["runs"]);
    assert!(out.contains("中断 interrupted") && !out.contains("运行中或已中断"), "{out}");
}

#[test]
fn serve_lives_through_a_model_over_the_memory_limit_and_runs_the_next_tick() {
    if !smtp_available() {
        return;
    }
    let port = free_port();
    let jobs = "[[schedule]]\nname = \"yearly\"\ncron = \"0 0 0 1 1 *\"\nmodels = [\"test.relief\", \"test.greedy\"]\n\n[[schedule]]\nname = \"every-second\"\ncron = \"* * * * * *\"\nmodels = [\"test.subsidy\"]\n";
    let p = county(&plain(port), jobs);
    let _server = Smtp::start(port, &p.path("maildir"), &[]);
    ok(&p, &["pipeline", "--as-of", "2025-12-31"]);
    p.write(
        "models/test/greedy.sql",
        "/* searchlight\nid = \"test.greedy\"\ntitle = \"贪婪测试\"\ntitle_en = \"Greedy\"\ndomain = \"test\"\narea = \"低保\"\nseverity = \"low\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"id_no\"]\nunit = \"village\"\n*/\nWITH RECURSIVE s(n) AS (SELECT 1 AS n UNION ALL SELECT n * 2 + b FROM s CROSS JOIN (VALUES (0), (1)) t(b) WHERE n < 4194304)\nSELECT p.id_no, p.village FROM pay p JOIN (SELECT a.n FROM s a JOIN s c ON a.n = c.n) j ON j.n = length(p.id_no)\n",
    );
    let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
    conn.execute(
        "INSERT INTO job_runs (job, trigger, tick, as_of, started_at, ended_at, outcome) VALUES ('yearly', 'schedule', '2023-12-31T16:00:00.000Z', '2024-01-01', '2023-12-31T16:00:00.000Z', '2023-12-31T16:00:01.000Z', 'ok')",
        [],
    )
    .unwrap();
    drop(conn);
    let mut s = serve(&p, &[("SEARCHLIGHT_MEMORY_LIMIT", "16MiB")]);
    let outcomes = || -> Vec<(String, Option<String>)> {
        let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
        conn.prepare("SELECT job, outcome FROM job_runs WHERE tick > '2024' ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let started = Instant::now();
    loop {
        let o = outcomes();
        let yearly_done = o.iter().any(|(j, out)| j == "yearly" && out.is_some());
        let later = o.iter().skip_while(|(j, _)| j != "yearly").filter(|(j, out)| j == "every-second" && out.is_some());
        if yearly_done && later.count() >= 2 {
            break;
        }
        assert!(s.try_wait().unwrap().is_none(), "serve died: {o:?}");
        assert!(started.elapsed() < Duration::from_secs(120), "{o:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let (code, err) = sigterm(&mut s);
    assert_eq!(code, Some(0), "{err}");
    let yearly = outcomes().into_iter().find(|(j, _)| j == "yearly").unwrap();
    assert_eq!(yearly.1.as_deref(), Some("partial"), "the greedy model failed alone");
    let runs: Vec<serde_json::Value> = serde_json::from_str(&ok(&p, &["runs", "--json", "--limit", "100"])).unwrap();
    let run = runs.iter().find(|r| r["job"] == "yearly").unwrap();
    assert_eq!(run["failed"], 1, "{run:#}");
    let (_, shown, _) = searchlight(&p, &["clues", "--json", "--model", "test.relief"]);
    assert!(shown.contains("test.relief"), "the other model's clues are recorded: {shown}");
}
