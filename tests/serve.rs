//! The service settings of `searchlight.toml` as a user meets them: `check` names every fault at
//! its file, line and column, and accepts a complete example.

use crate::util::{TestProject, searchlight};

fn project(settings: &str) -> TestProject {
    let p = TestProject::new();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\n");
    p.write("data/p.csv", "收款人\n甲\n");
    p.write(
        "models/test/m.sql",
        "/* searchlight\nid = \"test.m\"\ntitle = \"测试\"\ntitle_en = \"Test\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"who\"\n*/\nSELECT who FROM pay\n",
    );
    // top-level keys first: a key after a [table] header belongs to that table
    p.write("searchlight.toml", format!("{settings}\n[library]\nbundled = false\n"));
    p
}

const SETTINGS: &str = r#"time_zone = "Asia/Shanghai"
admin = "admin@county.gov.cn"

[smtp]
host = "127.0.0.1"
port = 2525
security = "plain"
from = "探照灯 <searchlight@county.gov.cn>"

[[schedule]]
name = "nightly"
cron = "0 30 2 * * *"
connectors = ["pay"]
models = ["test.m"]
timeout = "30m"

[[subscriber]]
name = "测试室"
email = "test@county.gov.cn"
areas = ["测试"]
"#;

#[test]
fn check_accepts_the_service_settings_and_names_each_fault_where_it_is() {
    let p = project(SETTINGS);
    let (code, out, err) = searchlight(&p, &["check"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("searchlight.toml: 通过"), "{out}");

    let bad = SETTINGS.replace("0 30 2 * * *", "2:30 daily").replace("[\"pay\"]", "[\"pya\"]");
    let p = project(&bad);
    let (code, out, err) = searchlight(&p, &["check"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.contains("searchlight.toml:12:8: cron `2:30 daily`"), "{err}");
    assert!(err.contains("searchlight.toml:13:15: no connector or dataset `pya`; did you mean pay?"), "{err}");

    // a password in the file, an unknown key: refused with their positions
    let p = project(&SETTINGS.replace("security = \"plain\"", "security = \"plain\"\npassword = \"hunter2\""));
    let (code, _, err) = searchlight(&p, &["check"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("searchlight.toml:8:12: a password does not belong in searchlight.toml"), "{err}");
    // … and what check refuses does not start the service or a pipeline either
    for cmd in [&["serve"][..], &["pipeline", "--as-of", "2025-12-31"][..]] {
        let (code, _, err) = searchlight(&p, cmd);
        assert_eq!(code, Some(1), "{cmd:?}: {err}");
        assert!(err.contains("searchlight.toml:8:12: a password does not belong") && err.contains("未启动"), "{err}");
    }
    assert!(!p.path("lake").exists() && !p.path("ledger.sqlite").exists(), "nothing landed or recorded");
    // a bad cron too, while an unknown model name is check's business, not a reason to stop
    let p = project(&SETTINGS.replace("0 30 2 * * *", "2:30 daily"));
    let (code, _, err) = searchlight(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("searchlight.toml:12:8: cron"), "{err}");
    let p = project(&SETTINGS.replace("models = [\"test.m\"]", "models = [\"test.mm\"]"));
    let (code, _, err) = searchlight(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{err}");
    let p = project(&SETTINGS.replace("timeout", "time_out"));
    let (code, _, err) = searchlight(&p, &["check"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("searchlight.toml:15:1") && err.contains("time_out"), "{err}");
}

/// The settings in a document's first ```toml block after `after`, checked against the demo
/// county (this repository's connectors and bundled models) as `searchlight check` would.
fn example_is_accepted(doc: &str, after: &str) -> searchlight::settings::Config {
    let text = std::fs::read_to_string(crate::util::repo().join(doc)).unwrap();
    let tail = text.split(after).nth(1).unwrap_or_else(|| panic!("{doc}: no `{after}`"));
    let example = tail.split("```toml\n").nth(1).and_then(|s| s.split("```").next()).expect("a toml block");
    let config: searchlight::settings::Config = toml::from_str(example).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let project = searchlight::project::Project::open(&crate::util::repo(), None, None).unwrap();
    let models: Vec<_> = project.models().unwrap().into_iter().map(Result::unwrap).collect();
    let connectors: Vec<_> = project.connectors().unwrap().into_iter().map(Result::unwrap).collect();
    let names = searchlight::settings::Names {
        connectors: connectors.iter().map(|c| c.id.clone()).collect(),
        models: models.iter().map(|m| m.id().to_string()).collect(),
        domains: models.iter().map(|m| m.spec.domain.clone()).collect(),
        areas: models.iter().map(|m| m.spec.area.clone()).collect(),
        users: None,
    };
    let faults = config.serve.check(std::path::Path::new(doc), example, &names);
    assert!(faults.is_empty(), "{doc}: {faults:#?}");
    config
}

#[test]
fn the_example_in_docs_serve_md_is_accepted() {
    let config = example_is_accepted("docs/serve.md", "## `searchlight.toml`");
    assert_eq!(config.serve.schedule.len(), 1);
    assert_eq!(config.serve.subscriber.len(), 1);
}

#[test]
fn the_service_example_in_the_readme_is_accepted() {
    let config = example_is_accepted("README.md", "## Run it as a service");
    assert_eq!(config.serve.schedule.len(), 1);
    assert_eq!(config.serve.subscriber.len(), 2);
    assert!(config.serve.subscriber[1].show_ids);
}

/// A job run stamps every time from the clock it is given: its start and end, the run id, the
/// ledger's recording time and the outbox's queue time — none from the system clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reads_every_time_from_the_clock_it_is_given() {
    use std::sync::Arc;

    use chrono::TimeZone;
    use searchlight::pipeline::{self, JobSpec, Trigger};

    let p = project(SETTINGS);
    let project = searchlight::project::Project::open(p.root(), None, None).unwrap();
    let at = chrono::Utc.with_ymd_and_hms(2031, 3, 4, 5, 6, 7).unwrap();
    let spec = JobSpec {
        name: "nightly".into(),
        trigger: Trigger::Schedule,
        tick: Some(at),
        connectors: vec!["*".into()],
        models: Default::default(),
        as_of: Some(chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()),
        ingest_as_of: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        timeout: None,
        record: Default::default(),
        preview: false,
        clock: Arc::new(searchlight::clock::SetClock::new(at)),
        notice: None,
    };
    let quiet = |_: &searchlight::connector::Connector| -> Box<dyn searchlight::lake::Progress + Send + Sync> {
        Box::new(searchlight::lake::Quiet)
    };
    let r = pipeline::job(&project, &spec, &quiet).await.unwrap();
    assert_eq!(r.error, None);
    assert_eq!(r.mails.len(), 1, "the one subscriber hears of the new clue");
    let run = r.run.unwrap().run;
    assert!(run.starts_with("R20310304050607-"), "{run}");

    let conn = rusqlite::Connection::open(p.path("ledger.sqlite")).unwrap();
    let job: (String, String, String) = conn
        .query_row("SELECT started_at, ended_at, tick FROM job_runs", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    let stamp = "2031-03-04T05:06:07.000Z";
    assert_eq!(job, (stamp.to_string(), stamp.to_string(), stamp.to_string()));
    let recorded: (String, String) =
        conn.query_row("SELECT recorded_at, started_at FROM runs", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(recorded, ("2031-03-04T05:06:07Z".to_string(), "2031-03-04T05:06:07Z".to_string()));
    let queued: (String, String) =
        conn.query_row("SELECT queued_at, next_attempt_at FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(queued, (stamp.to_string(), stamp.to_string()));
    // the mail's Date header is the clock's too
    let message: Vec<u8> = conn.query_row("SELECT message FROM outbox", [], |r| r.get(0)).unwrap();
    let text = String::from_utf8_lossy(&message);
    assert!(text.contains("Date: Tue, 04 Mar 2031 05:06:07 +0000"), "{}", &text[..text.len().min(600)]);
}

/// Lands the project's exports as of 2025-12-31 and previews the digests into `<project>/mail`:
/// the folder and what `digest preview` printed.
fn ingest_and_preview(p: &TestProject) -> (std::path::PathBuf, String) {
    let (code, out, err) = searchlight(p, &["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let dir = p.path("mail");
    let (code, out, err) =
        searchlight(p, &["digest", "preview", "--as-of", "2025-12-31", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    (dir, out)
}

/// `digest preview` before the first run shows what the first run would send (every clue new),
/// and records nothing: no ledger is created, nothing queued.
#[test]
fn a_preview_before_the_first_run_shows_every_clue_and_records_nothing() {
    let p = project(SETTINGS);
    let (dir, out) = ingest_and_preview(&p);
    assert!(out.contains("预览 preview: 1 封邮件"), "{out}");
    let eml = std::fs::read_to_string(dir.join("digest-测试室.eml")).unwrap();
    assert!(eml.contains("To: test@county.gov.cn"), "{eml}");
    assert!(!p.path("ledger.sqlite").exists(), "a preview records nothing");
}

/// A digest of many clues: the mail's body shows the first 200 of an area and says where the
/// rest are; the attached workbook has every row.
#[test]
fn a_long_digest_shows_200_rows_in_the_body_and_every_row_in_the_workbook() {
    use calamine::Reader;

    let p = project(SETTINGS);
    let mut data = String::from("收款人\n");
    for n in 0..205 {
        data.push_str(&format!("收款人{n:03}\n"));
    }
    p.write("data/p.csv", data);
    let (dir, _) = ingest_and_preview(&p);
    // a real MIME parser (Python's email package) takes the mail apart
    let script = "import email, email.policy, sys\n\
                  m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)\n\
                  for part in m.walk():\n\
                  \x20   if (part.get_filename() or '').endswith('.xlsx'):\n\
                  \x20       open(sys.argv[2], 'wb').write(part.get_payload(decode=True))\n\
                  \x20   elif part.get_content_type() == 'text/plain' and not part.get_filename():\n\
                  \x20       print(part.get_content())\n";
    let book = p.path("book.xlsx");
    let parsed = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir.join("digest-测试室.eml"))
        .arg(&book)
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let text = String::from_utf8(parsed.stdout).unwrap();
    let rows = text.lines().filter(|l| l.starts_with("| C")).count();
    assert_eq!(rows, 200, "{text}");
    assert!(text.contains("以上为前 200 条，其余 5 条见附件 线索明细-2025-12-31.xlsx 的「测试」工作表"), "{text}");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&book).unwrap();
    let sheet = wb.worksheet_range("测试").unwrap();
    let ids: std::collections::BTreeSet<String> =
        sheet.rows().skip(1).map(|r| r[0].to_string()).filter(|c| c.starts_with('C')).collect();
    assert_eq!(ids.len(), 205, "every clue in the workbook");
}

/// One subscriber whose address is two addresses (a comma), beside a good one: `check` refuses
/// it; a run made anyway mails the good one, queues the bad one as failed with the reason, tells
/// the admin, and counts the clue as told to the good one only — so once the address is fixed,
/// the next run's digest carries it to the other subscriber. Nothing is lost.
#[test]
fn a_bad_subscriber_fails_alone_and_loses_nothing() {
    let bad =
        format!("{SETTINGS}\n[[subscriber]]\nname = \"坏地址\"\nemail = \"a@x.cn, b@y.com\"\nareas = [\"测试\"]\n");
    let p = project(&bad);
    let (code, _, err) = searchlight(&p, &["check"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("more than one address"), "{err}");
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let (_, out, _) = searchlight(&p, &["outbox", "--json"]);
    let mails: serde_json::Value = serde_json::from_str(&out).unwrap();
    let by = |who: &str| mails.as_array().unwrap().iter().find(|m| m["recipient"] == who).cloned();
    let good = by("测试室").expect("the good subscriber's mail");
    assert_eq!(good["state"], "queued", "{good}");
    let failed = by("坏地址").expect("the bad subscriber's mail is on record");
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("could not be built"), "{failed}");
    assert!(by("admin").is_some_and(|m| m["subject"].as_str().unwrap().contains("未能生成")), "{mails}");
    // a retry of a mail never built says what to do
    let (code, _, err) = searchlight(&p, &["outbox", "retry", &failed["id"].to_string()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("never built") && err.contains("next run"), "{err}");
    // fixed: the next run, on the same data, tells the subscriber what it could not before
    let fixed = SETTINGS.to_string() + "\n[[subscriber]]\nname = \"坏地址\"\nemail = \"b@y.com\"\nareas = [\"测试\"]\n";
    p.write("searchlight.toml", format!("{fixed}\n[library]\nbundled = false\n"));
    let (code, out, err) = searchlight(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let (_, out, _) = searchlight(&p, &["outbox", "--json"]);
    let mails: serde_json::Value = serde_json::from_str(&out).unwrap();
    let now_told: Vec<&serde_json::Value> =
        mails.as_array().unwrap().iter().filter(|m| m["recipient"] == "坏地址" && m["state"] == "queued").collect();
    assert_eq!(now_told.len(), 1, "{mails}");
    assert_eq!(now_told[0]["clues"], 1, "{mails}");
    // and the good subscriber is not told twice
    assert_eq!(mails.as_array().unwrap().iter().filter(|m| m["recipient"] == "测试室").count(), 1, "{mails}");
}
