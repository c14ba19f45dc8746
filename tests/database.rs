//! Database connectors against real servers (cargo feature `database`): PostgreSQL and MariaDB
//! on 127.0.0.1, started by `.ci/run` (`.ci/databases.sh`), which sets
//! `SEARCHLIGHT_TEST_POSTGRES` / `SEARCHLIGHT_TEST_MYSQL` and the test user's credentials.
//! Each test makes a database of its own.

use searchlight::lake::Outcome;
use searchlight::lake::manifest::LoadMode;

use crate::util::{TestProject, issue_rows, searchlight_env};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Postgres,
    Mysql,
}

/// A database of this test's own on one of the CI servers.
struct Db {
    kind: Kind,
    host: String,
    port: u16,
    name: String,
}

fn server(kind: Kind) -> Option<(String, u16)> {
    let var = match kind {
        Kind::Postgres => "SEARCHLIGHT_TEST_POSTGRES",
        Kind::Mysql => "SEARCHLIGHT_TEST_MYSQL",
    };
    match std::env::var(var) {
        Ok(v) => {
            let (h, p) = v.rsplit_once(':').expect("host:port");
            Some((h.to_string(), p.parse().unwrap()))
        }
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "CI must provide {var} (.ci/databases.sh)");
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

fn password() -> String {
    std::env::var("SEARCHLIGHT_TEST_DB_PASSWORD").unwrap()
}

impl Db {
    async fn new(kind: Kind, tag: &str) -> Option<Db> {
        let (host, port) = server(kind)?;
        let name = format!("sl_{tag}_{}", std::process::id());
        let db = Db { kind, host, port, name: name.clone() };
        db.admin(&format!("DROP DATABASE IF EXISTS {name}")).await;
        let charset = if kind == Kind::Mysql { " CHARACTER SET utf8mb4" } else { "" };
        db.admin(&format!("CREATE DATABASE {name}{charset}")).await;
        Some(db)
    }

    async fn pg(&self, dbname: &str) -> tokio_postgres::Client {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&self.host).port(self.port).user("searchlight").password(password()).dbname(dbname);
        let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    async fn my(&self, dbname: Option<&str>) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some("searchlight"))
            .pass(Some(password()))
            .db_name(dbname.map(str::to_string));
        mysql_async::Conn::new(opts).await.unwrap()
    }

    /// Runs statements on the server, outside the test's database.
    async fn admin(&self, sql: &str) {
        use mysql_async::prelude::Queryable;
        match self.kind {
            Kind::Postgres => self.pg("postgres").await.batch_execute(sql).await.unwrap(),
            Kind::Mysql => self.my(None).await.query_drop(sql).await.unwrap(),
        }
    }

    /// Runs statements in the test's database.
    async fn exec(&self, sql: &str) {
        use mysql_async::prelude::Queryable;
        match self.kind {
            Kind::Postgres => {
                self.pg(&self.name).await.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Kind::Mysql => {
                let mut c = self.my(Some(&self.name)).await;
                for stmt in sql.split(';').filter(|s| !s.trim().is_empty()) {
                    c.query_drop(stmt).await.unwrap_or_else(|e| panic!("{stmt}: {e}"));
                }
            }
        }
    }

    /// The `[database]` table of a connector reading `what` (`table = …` or `query = …`).
    fn block(&self, what: &str, extra: &str) -> String {
        let kind = match self.kind {
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
        };
        format!(
            "[database]\nkind = \"{kind}\"\nhost = \"{}\"\nport = {}\ndatabase = \"{}\"\nuser_env = \"SEARCHLIGHT_TEST_DB_USER\"\npassword_env = \"SEARCHLIGHT_TEST_DB_PASSWORD\"\n{what}\n{extra}\n",
            self.host, self.port, self.name
        )
    }
}

/// Treasury payments as a finance system keeps them.
const COLUMNS: &str = r#"
[columns]
payment_id = { from = "zfpzh" }
unit_name  = { from = "dwmc" }
pay_date   = { from = "zfrq" }
amount     = { from = "je" }
payee_name = { from = "skr" }
"#;

/// A point in time as the server takes it: PostgreSQL's `timestamptz` in China Standard Time.
fn at(kind: Kind, t: &str) -> String {
    if kind == Kind::Postgres { format!("{t}+08") } else { t.to_string() }
}

fn create_payments(kind: Kind) -> String {
    let ts = if kind == Kind::Postgres { "timestamptz" } else { "datetime" };
    let at = |t| at(kind, t);
    format!(
        "CREATE TABLE zf_mx (zfpzh varchar(20) PRIMARY KEY, dwmc varchar(50), zfrq date, je decimal(18,2), skr varchar(50), update_time {ts});
         INSERT INTO zf_mx VALUES
           ('P001', '县教育局', '2025-03-01', 1200.50, '张三', '{at_2025_03_01}'),
           ('P002', '县教育局', '2025-03-02', 800.00, '李四', '{at_2025_03_02}'),
           ('P003', '县卫健委', '2025-03-03', 15000.00, '某某公司', '{at_2025_03_03}'),
           ('P004', '县卫健委', '2025-03-04', NULL, '王五', '{at_2025_03_04}'),
           ('P005', '县水利局', '2025-03-05', 99.99, '赵六', '{at_2025_03_05}')",
        at_2025_03_01 = at("2025-03-01 09:00:00"),
        at_2025_03_02 = at("2025-03-02 09:00:00"),
        at_2025_03_03 = at("2025-03-03 09:00:00"),
        at_2025_03_04 = at("2025-03-04 09:00:00"),
        at_2025_03_05 = at("2025-03-05 09:00:00"),
    )
}

async fn full_and_incremental(kind: Kind) {
    let Some(db) = Db::new(kind, "incr").await else { return };
    db.exec(&create_payments(kind)).await;
    let p = TestProject::new();
    let c = p.connector(
        "treasury_db",
        &format!(
            "name = \"treasury_payments\"\n{}{COLUMNS}",
            db.block("table = \"zf_mx\"", "watermark = \"update_time\"\ntls = \"disable\"\nbatch_rows = 2")
        ),
    );
    let Outcome::Landed(m1) = p.ingest(&c).await.unwrap() else { panic!("first load lands") };
    let load = m1.load.clone().unwrap();
    assert_eq!(load.mode, LoadMode::Full);
    assert_eq!((load.rows, m1.rows), (5, 5));
    assert!(load.watermark.as_deref().unwrap().starts_with("2025-03-05 09:00:00"), "{load:?}");
    assert_eq!(
        p.rows("select payment_id, unit_name, pay_date, amount from treasury_payments order by payment_id").await,
        [
            "P001|县教育局|2025-03-01|1200.50",
            "P002|县教育局|2025-03-02|800.00",
            "P003|县卫健委|2025-03-03|15000.00",
            "P004|县卫健委|2025-03-04|",
            "P005|县水利局|2025-03-05|99.99",
        ]
    );

    // nothing new: nothing read, nothing landed
    assert!(matches!(p.ingest(&c).await.unwrap(), Outcome::Unchanged(_)));

    db.exec(&format!(
        "INSERT INTO zf_mx VALUES
           ('P006', '县民政局', '2025-04-01', 300.00, '孙七', '{}'),
           ('P007', '县民政局', '2025-04-02', 400.00, '周八', '{}'),
           ('P008', '县民政局', '2025-04-03', 500.00, '吴九', '{}')",
        at(kind, "2025-04-01 09:00:00"),
        at(kind, "2025-04-02 09:00:00"),
        at(kind, "2025-04-03 09:00:00"),
    ))
    .await;
    let Outcome::Landed(m2) = p.ingest(&c).await.unwrap() else { panic!("new rows land") };
    let load2 = m2.load.clone().unwrap();
    assert_eq!(load2.mode, LoadMode::Incremental);
    assert_eq!(load2.rows, 3, "only the rows past the watermark are read");
    assert_eq!(load2.since, load.watermark);
    assert!(load2.watermark.as_deref().unwrap().starts_with("2025-04-03 09:00:00"), "{load2:?}");
    assert_eq!(m2.appends.as_deref(), Some(m1.snapshot.as_str()));
    assert_eq!(m2.rows, 8);
    assert_eq!(
        p.rows("select count(*), count(distinct payment_id), sum(amount) from treasury_payments").await,
        ["8|8|18300.49"]
    );

    // --force reads everything again, as a full load
    let forced = searchlight::lake::IngestOptions { force: true, ..crate::util::opts() };
    let Outcome::Landed(m3) = p.ingest_with(&c, &forced).await.unwrap() else { panic!("forced") };
    assert_eq!(m3.load.unwrap().mode, LoadMode::Full);
    assert_eq!((m3.rows, m3.appends), (8, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_full_then_incremental_load() {
    full_and_incremental(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_full_then_incremental_load() {
    full_and_incremental(Kind::Mysql).await;
}

/// A connection lost in the middle of the rows: the ingest fails naming the connector, and the
/// snapshot that was current stays current, with nothing of the broken load in the lake.
async fn dropped_mid_load(kind: Kind) {
    let Some(db) = Db::new(kind, "drop").await else { return };
    db.exec(&create_payments(kind)).await;
    let p = TestProject::new();
    let first = p.connector(
        "treasury_db",
        &format!("name = \"treasury_payments\"\n{}{COLUMNS}", db.block("table = \"zf_mx\"", "tls = \"disable\"")),
    );
    let Outcome::Landed(m1) = p.ingest(&first).await.unwrap() else { panic!() };
    // many rows first, then a pause the server is killed in
    let query = match kind {
        Kind::Postgres => {
            "SELECT 'G' || g AS zfpzh, '县教育局' AS dwmc, DATE '2025-05-01' AS zfrq, 1.00 AS je, '某人' AS skr FROM generate_series(1, 20000) g UNION ALL SELECT 'LAST', '县教育局', DATE '2025-05-01', 1.00, '某人' FROM (SELECT pg_sleep(60)) s"
        }
        Kind::Mysql => {
            "SELECT CONCAT('G', seq) AS zfpzh, '县教育局' AS dwmc, DATE '2025-05-01' AS zfrq, 1.00 AS je, IF(seq = 20000, SLEEP(60), '某人') AS skr FROM seq_1_to_20000"
        }
    };
    let broken = p.connector(
        "treasury_db",
        &format!(
            "name = \"treasury_payments\"\n{}{COLUMNS}",
            db.block(&format!("query = \"{query}\""), "tls = \"disable\"\nbatch_rows = 500")
        ),
    );
    let killer = {
        let (host, port, name, kind) = (db.host.clone(), db.port, db.name.clone(), db.kind);
        tokio::spawn(async move {
            let db = Db { kind, host, port, name };
            for _ in 0..300 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let killed = match kind {
                    Kind::Postgres => {
                        let c = db.pg("postgres").await;
                        let rows = c
                            .query(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'searchlight' AND wait_event = 'PgSleep'",
                                &[],
                            )
                            .await
                            .unwrap();
                        !rows.is_empty()
                    }
                    Kind::Mysql => {
                        use mysql_async::prelude::Queryable;
                        let mut c = db.my(None).await;
                        let ids: Vec<u64> = c
                            .query("SELECT id FROM information_schema.processlist WHERE info LIKE '%SLEEP(60)%' AND info NOT LIKE '%processlist%' AND time >= 1")
                            .await
                            .unwrap();
                        for id in &ids {
                            c.query_drop(format!("KILL {id}")).await.unwrap();
                        }
                        !ids.is_empty()
                    }
                };
                if killed {
                    return true;
                }
            }
            false
        })
    };
    let err = p.ingest(&broken).await.expect_err("a lost connection fails the ingest");
    assert!(killer.await.unwrap(), "the connection was killed mid-load");
    let msg = err.to_string();
    assert!(msg.contains("treasury_db.toml"), "{msg}");
    let lake = p.lake();
    let current = lake.current("treasury_payments").await.unwrap().unwrap();
    assert_eq!(current.snapshot, m1.snapshot, "the previous snapshot stays current");
    assert_eq!(p.rows("select count(*) from treasury_payments").await, ["5"]);
    let dirs: Vec<String> = std::fs::read_dir(p.path("lake/treasury_payments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('v'))
        .collect();
    assert_eq!(dirs, [m1.snapshot.clone()], "nothing half-landed is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_dropped_mid_load() {
    dropped_mid_load(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_connection_dropped_mid_load() {
    dropped_mid_load(Kind::Mysql).await;
}

/// A column whose type the canonical column cannot take is set aside with the reason; the
/// other rows land.
async fn unlandable_type(kind: Kind) {
    let Some(db) = Db::new(kind, "types").await else { return };
    let (blob, bytes) = match kind {
        Kind::Postgres => ("bytea", "'\\x89504e47'::bytea"),
        Kind::Mysql => ("blob", "X'89504E47'"),
    };
    db.exec(&format!(
        "CREATE TABLE zf (zfpzh varchar(20), dwmc varchar(50), zfrq date, je decimal(18,2), pz {blob});
         INSERT INTO zf VALUES ('P1', '县教育局', '2025-03-01', 10.00, NULL), ('P2', '县教育局', '2025-03-02', 20.00, {bytes})"
    ))
    .await;
    let p = TestProject::new();
    let c = p.connector(
        "treasury_db",
        &format!(
            "name = \"treasury_payments\"\nmax_quarantine = 1.0\n{}\n[columns]\npayment_id = {{ from = \"zfpzh\" }}\nunit_name = {{ from = \"dwmc\" }}\npay_date = {{ from = \"zfrq\" }}\namount = {{ from = \"je\" }}\npurpose = {{ from = \"pz\" }}\n",
            db.block("table = \"zf\"", "tls = \"disable\"")
        ),
    );
    let Outcome::Landed(m) = p.ingest(&c).await.unwrap() else { panic!() };
    assert_eq!((m.rows, m.rows_quarantined), (1, 1));
    assert_eq!(m.quarantine.get("source_type"), Some(&1));
    let issues = issue_rows(&p, "treasury_payments", "quarantine.parquet", "line, code, reason").await;
    assert_eq!(issues.len(), 1, "{issues:?}");
    let want_type = if kind == Kind::Postgres { "bytea" } else { "BLOB" };
    assert!(
        issues[0].starts_with("2|source_type|") && issues[0].contains(want_type) && issues[0].contains("purpose"),
        "{issues:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_type_the_schema_cannot_take_is_quarantined() {
    unlandable_type(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_type_the_schema_cannot_take_is_quarantined() {
    unlandable_type(Kind::Mysql).await;
}

/// A wrong password: a clear error naming the connector, and neither password in the output.
async fn wrong_password(kind: Kind) {
    let Some(db) = Db::new(kind, "auth").await else { return };
    db.exec(&create_payments(kind)).await;
    let p = TestProject::new();
    let toml = format!(
        "name = \"treasury_payments\"\n{}{COLUMNS}",
        db.block("table = \"zf_mx\"", "tls = \"disable\"").replace("SEARCHLIGHT_TEST_DB_PASSWORD", "CZZF_DB_PASSWORD")
    );
    p.write("connectors/treasury_db.toml", &toml);
    let wrong = "Wrong-Secret-4711";
    let (code, out, err) = searchlight_env(&p, &["ingest", "--as-of", "2025-12-31"], &[("CZZF_DB_PASSWORD", wrong)]);
    assert_ne!(code, Some(0));
    let all = format!("{out}{err}");
    assert!(all.contains("treasury_db.toml"), "{all}");
    let said = match kind {
        Kind::Postgres => "password authentication failed",
        Kind::Mysql => "Access denied",
    };
    assert!(all.contains(said), "{all}");
    assert!(!all.contains(wrong) && !all.contains(&password()), "no secret is printed: {all}");
    // unset: named, not guessed
    let (_, out, err) = searchlight_env(&p, &["ingest", "--as-of", "2025-12-31"], &[]);
    assert!(format!("{out}{err}").contains("CZZF_DB_PASSWORD"), "{out}{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_wrong_password_is_a_clear_error() {
    wrong_password(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_wrong_password_is_a_clear_error() {
    wrong_password(Kind::Mysql).await;
}

/// TLS: `require` encrypts, `verify-full` checks the certificate against `ca_file` — and
/// refuses a server whose certificate the public roots do not vouch for.
async fn tls(kind: Kind) {
    let Some(db) = Db::new(kind, "tls").await else { return };
    db.exec(&create_payments(kind)).await;
    let ca = std::env::var("SEARCHLIGHT_TEST_DB_CA").unwrap();
    let p = TestProject::new();
    for (extra, ok) in [
        ("tls = \"require\"".to_string(), true),
        (format!("tls = \"verify-full\"\nca_file = \"{ca}\""), true),
        ("tls = \"verify-full\"".to_string(), false),
    ] {
        let c = p.connector(
            "treasury_db",
            &format!("name = \"treasury_payments\"\n{}{COLUMNS}", db.block("table = \"zf_mx\"", &extra)),
        );
        let forced = searchlight::lake::IngestOptions { force: true, ..crate::util::opts() };
        match (p.ingest_with(&c, &forced).await, ok) {
            (Ok(Outcome::Landed(m)), true) => assert_eq!(m.rows, 5),
            (Err(e), false) => {
                let msg = e.to_string();
                assert!(msg.contains("treasury_db.toml") && msg.to_lowercase().contains("certificate"), "{msg}");
            }
            (other, _) => panic!("{extra}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_require_and_verify() {
    tls(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_tls_require_and_verify() {
    tls(Kind::Mysql).await;
}

/// `connector new --database`: a draft from a table's column names that lands as it stands.
async fn connector_new(kind: Kind) {
    let Some(db) = Db::new(kind, "new").await else { return };
    let q = |s: &str| if kind == Kind::Postgres { format!("\"{s}\"") } else { format!("`{s}`") };
    db.exec(&format!(
        "CREATE TABLE gkzf ({} varchar(20), {} varchar(50), {} date, {} decimal(18,2), {} varchar(30));
         INSERT INTO gkzf VALUES ('P1', '县教育局', '2025-03-01', 100.50, '6222021234567890123'), ('P2', '县教育局', '2025-03-02', 7.00, NULL)",
        q("支付凭证号"),
        q("预算单位名称"),
        q("支付日期"),
        q("支付金额"),
        q("收款人账号"),
    ))
    .await;
    let p = TestProject::new();
    let scheme = if kind == Kind::Postgres { "postgres" } else { "mysql" };
    let url = format!("{scheme}://{}:{}/{}", db.host, db.port, db.name);
    let args = [
        "connector",
        "new",
        "--database",
        &url,
        "--table",
        "gkzf",
        "--user-env",
        "SEARCHLIGHT_TEST_DB_USER",
        "--password-env",
        "SEARCHLIGHT_TEST_DB_PASSWORD",
        "--tls",
        "disable",
    ];
    let (code, out, err) = searchlight_env(&p, &args, &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    let draft = std::fs::read_to_string(p.path("connectors/treasury_payments.toml")).unwrap();
    assert!(draft.contains("[database]") && draft.contains("table        = \"gkzf\""), "{draft}");
    assert!(draft.contains("payment_id    = { from = \"支付凭证号\" }"), "{draft}");
    assert!(!draft.contains("6222021234567890123"), "sample account numbers are masked: {draft}");
    assert!(!draft.contains(&password()), "{draft}");
    let (code, out, err) = searchlight_env(&p, &["ingest", "--as-of", "2025-12-31"], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(p.rows("select payment_id, amount from treasury_payments order by 1").await, ["P1|100.50", "P2|7.00"]);
    // a password in the URL is refused before anything is written
    let with_pw = url.replace("://", "://u:secret@");
    let (code, _, err) =
        searchlight_env(&p, &["connector", "new", "--database", &with_pw, "--table", "gkzf", "--stdout"], &[]);
    assert_ne!(code, Some(0));
    assert!(err.contains("--password-env") && !err.contains("secret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connector_new_drafts_from_a_table() {
    connector_new(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_connector_new_drafts_from_a_table() {
    connector_new(Kind::Mysql).await;
}
