//! The lake: immutable snapshots, no snapshot for an unchanged source, and an atomic switch
//! that a crash at any point cannot break.

use std::process::Command;

use crate::util::TestProject;
use searchlight::lake::Outcome;

const T: &str = "name = \"t\"\ntitle = \"测试\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/t.csv\"\nkey = [\"id\"]\n[format]\ntype = \"csv\"\n[columns]\nid = { from = \"编号\", type = \"int\" }\nv = { from = \"值\", type = \"text\" }\n";

fn csv(rows: &[(i64, &str)]) -> String {
    let mut s = String::from("编号,值\n");
    for (i, v) in rows {
        s.push_str(&format!("{i},{v}\n"));
    }
    s
}

#[tokio::test]
async fn unchanged_sources_make_no_snapshot_and_old_snapshots_stay_readable() {
    let p = TestProject::new();
    let c = p.connector("t", T);
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b")]));
    let first = p.ingest(&c).await.unwrap();
    assert!(matches!(first, Outcome::Landed(_)));
    let again = p.ingest(&c).await.unwrap();
    assert!(matches!(again, Outcome::Unchanged(ref m) if m.snapshot == "v000001"), "{again:?}");
    // touching the file without changing bytes changes nothing either
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b")]));
    assert!(matches!(p.ingest(&c).await.unwrap(), Outcome::Unchanged(_)));
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b"), (3, "c")]));
    let second = p.ingest(&c).await.unwrap();
    assert!(matches!(second, Outcome::Landed(ref m) if m.snapshot == "v000002" && m.rows == 3));
    assert_ne!(first.manifest().fingerprint, second.manifest().fingerprint);
    // a changed connector re-lands an unchanged source
    let c2 = p.connector("t", &T.replace("测试", "测试2"));
    assert!(matches!(p.ingest(&c2).await.unwrap(), Outcome::Landed(ref m) if m.snapshot == "v000003"));
    let lake = p.lake();
    let snaps = lake.snapshots("t").await.unwrap();
    assert_eq!(
        snaps.iter().map(|s| (s.id.as_str(), s.current, s.manifest.is_some())).collect::<Vec<_>>(),
        vec![("v000001", false, true), ("v000002", false, true), ("v000003", true, true)]
    );
    // the first snapshot is still there, byte for byte
    let engine = searchlight::engine::Engine::local();
    engine.register_snapshot(&lake, "old", snaps[0].manifest.as_ref().unwrap()).await.unwrap();
    let n = crate::util::lines(&engine.sql("select count(*) from old").await.unwrap().collect().await.unwrap());
    assert_eq!(n, vec!["2"]);
    assert_eq!(lake.datasets().await.unwrap(), vec!["t"]);
}

#[tokio::test]
async fn duplicate_keys_are_flagged_not_dropped() {
    let p = TestProject::new();
    let c = p.connector("t", T);
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b"), (1, "again")]));
    let m = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(m.rows, 3);
    assert_eq!(m.flags.get("duplicate_key"), Some(&1));
    assert_eq!(crate::util::issue_rows(&p, "t", "flags.parquet", "line, code").await, vec!["4|duplicate_key"]);
}

fn searchlight(p: &TestProject, args: &[&str], fault: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_searchlight"));
    cmd.arg("--project").arg(p.root()).args(args);
    if let Some(f) = fault {
        cmd.env("SEARCHLIGHT_FAULT", f);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn a_crash_at_any_point_leaves_the_previous_snapshot_current() {
    let p = TestProject::new();
    let c = p.connector("t", T);
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b")]));
    let out = searchlight(&p, &["ingest"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b"), (3, "c")]));
    for (n, fault) in ["lake.after_part", "lake.before_pointer"].iter().enumerate() {
        let out = searchlight(&p, &["ingest", "--chunk-mib", "1"], Some(fault));
        assert!(!out.status.success(), "the process must die at {fault}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("fault injected at {fault}")));
        let m = p.lake().current("t").await.unwrap().unwrap();
        assert_eq!((m.snapshot.as_str(), m.rows), ("v000001", 2), "after a crash at {fault}");
        assert_eq!(p.rows("select count(*) from t").await, vec!["2"]);
        let snaps = p.lake().snapshots("t").await.unwrap();
        assert_eq!(snaps.len(), 2 + n, "the crashed snapshot is left behind");
        assert!(snaps.last().unwrap().manifest.is_none() || !snaps.last().unwrap().current);
    }
    // the listing shows the debris as incomplete, and the next run lands correctly
    let out = searchlight(&p, &["lake", "t"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("未完成(忽略) incomplete"), "{text}");
    let out = searchlight(&p, &["ingest"], None);
    assert!(out.status.success());
    let m = p.lake().current("t").await.unwrap().unwrap();
    assert_eq!((m.snapshot.as_str(), m.rows), ("v000004", 3));
    let _ = c;
}

#[tokio::test]
async fn a_failed_ingest_discards_its_staged_files() {
    let p = TestProject::new();
    let c = p.connector("t", &T.replace("type = \"csv\"", "type = \"csv\"\nencoding = \"utf-8\""));
    p.write("data/t.csv", csv(&[(1, "a")]));
    p.ingest(&c).await.unwrap();
    p.write("data/t.csv", [b"\xE7\xBC\x96\xE5\x8F\xB7,\xE5\x80\xBC\n1,\xFF\n".as_slice()].concat());
    let err = p.ingest(&c).await.unwrap_err().to_string();
    assert!(err.contains("data/t.csv:2:"), "{err}");
    let snaps = p.lake().snapshots("t").await.unwrap();
    assert_eq!(
        snaps.len(),
        1,
        "the failed snapshot directory was removed: {:?}",
        snaps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_edit_that_keeps_the_size_still_lands() {
    let p = TestProject::new();
    let c = p.connector("t", T);
    p.write("data/t.csv", csv(&[(1, "a"), (2, "b")]));
    p.ingest(&c).await.unwrap();
    // same names, same size, other bytes: only the fingerprint can tell
    p.write("data/t.csv", csv(&[(1, "a"), (2, "c")]));
    let m = p.ingest(&c).await.unwrap();
    assert!(matches!(m, Outcome::Landed(ref m) if m.snapshot == "v000002"), "{m:?}");
    assert_eq!(p.rows("select v from t order by id").await, vec!["a", "c"]);
}

#[tokio::test]
async fn a_late_error_discards_parts_decoded_while_the_file_was_still_being_read() {
    let p = TestProject::new();
    let c = p.connector("t", &T.replace("type = \"csv\"", "type = \"csv\"\nencoding = \"utf-8\""));
    p.write("data/t.csv", csv(&[(1, "a")]));
    p.ingest(&c).await.unwrap();
    // many small chunks decode while pass one reads on; the last line does not decode
    let rows: Vec<(i64, String)> = (1..=2000).map(|i| (i, format!("值{i}"))).collect();
    let refs: Vec<(i64, &str)> = rows.iter().map(|(i, v)| (*i, v.as_str())).collect();
    let mut bytes = csv(&refs).into_bytes();
    bytes.extend_from_slice(b"2001,\xFF\n");
    p.write("data/t.csv", bytes);
    let o = searchlight::lake::IngestOptions { chunk_bytes: 256, ..crate::util::opts() };
    let err = p.ingest_with(&c, &o).await.unwrap_err().to_string();
    assert!(err.contains("data/t.csv:2002:"), "{err}");
    let snaps = p.lake().snapshots("t").await.unwrap();
    assert_eq!(snaps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec!["v000001"]);
    assert_eq!(p.rows("select count(*) from t").await, vec!["1"]);
    assert!(!p.path("lake/t/v000002").exists(), "no staged part is left behind");
}

/// `lake gc` as an operator meets it: a dry run lists and removes nothing; a real one removes a
/// killed ingest's staged parts, snapshots past the policy and (when asked) a run folder no
/// recorded run names — and never the current snapshot, the newest --keep, a snapshot a recorded
/// run read, or a recorded run's evidence.
#[tokio::test]
async fn lake_gc_removes_what_no_one_refers_to_and_nothing_a_recorded_run_read() {
    let p = TestProject::new();
    p.write(
        "connectors/pay.toml",
        "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n",
    );
    p.write(
        "models/test/big.sql",
        "/* searchlight\nid = \"test.big\"\ntitle = \"大额支付\"\ntitle_en = \"Large payments\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"金额达到阈值\"\nbasis = [\"测试依据\"]\nentity = [\"who\"]\nunit = \"who\"\namount = \"amount\"\n*/\nSELECT who, sum(amount) AS amount FROM pay WHERE amount >= 500 GROUP BY who\n",
    );
    let cli = |args: &[&str], fault: Option<&str>| {
        let out = searchlight(&p, args, fault);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let land = |n: usize| {
        let mut s = String::from("收款人,金额\n");
        for i in 0..n {
            s.push_str(&format!("人{i},900\n"));
        }
        p.write("data/p.csv", s);
        let (code, _, err) = cli(&["ingest", "--as-of", "2025-12-31"], None);
        assert_eq!(code, Some(0), "{err}");
    };
    let run = |fault: Option<&str>| cli(&["run", "--as-of", "2025-12-31", "--record", "--json"], fault);
    let snapshots = || async { p.lake().snapshots("pay").await.unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>() };
    // v1 read by a recorded run; v2..v5 landed with no run between; v5 read by a second run
    land(1);
    let (code, out, err) = run(None);
    assert_eq!(code, Some(0), "{err}");
    let first: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run1 = first["run"].as_str().unwrap().to_string();
    for n in 2..=5 {
        land(n);
    }
    assert_eq!(run(None).0, Some(0));
    // a run killed while recording leaves a run folder no recorded run names
    let (code, _, _) = run(Some("ledger.mid_record"));
    assert_ne!(code, Some(0));
    // an ingest killed after writing a part leaves a staged v6
    p.write("data/p.csv", "收款人,金额\n末,900\n");
    assert_ne!(cli(&["ingest", "--as-of", "2025-12-31"], Some("lake.after_part")).0, Some(0));
    assert_eq!(snapshots().await, ["v000001", "v000002", "v000003", "v000004", "v000005", "v000006"]);
    let runs_dir = p.path("lake/_runs");
    let run_folders = || std::fs::read_dir(&runs_dir).unwrap().count();
    assert_eq!(run_folders(), 3);

    // without the ledger it refuses; with a ledger of another lake it refuses
    let (code, _, err) = cli(&["--ledger", p.path("nowhere.sqlite").to_str().unwrap(), "lake", "gc"], None);
    assert_ne!(code, Some(0));
    assert!(err.contains("没有台账") && err.contains("--without-ledger"), "{err}");
    let other = TestProject::new();
    other.write("data/x", "");
    std::fs::create_dir_all(other.path("lake")).unwrap();
    let (code, _, err) = cli(&["--lake", other.path("lake").to_str().unwrap(), "lake", "gc"], None);
    assert_ne!(code, Some(0));
    assert!(err.contains("另一个湖"), "{err}");
    assert_eq!(snapshots().await.len(), 6);
    // --keep below 2 is refused by the parser
    assert_ne!(cli(&["lake", "gc", "--keep", "1"], None).0, Some(0));

    // the default grace leaves the just-killed ingest's directory alone
    let (code, out, err) = cli(&["lake", "gc", "--keep", "2", "--dry-run", "--json"], None);
    assert_eq!(code, Some(0), "{err}");
    let dry: serde_json::Value = serde_json::from_str(&out).unwrap();
    let verdicts = |v: &serde_json::Value| {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["dataset"] == "pay")
            .map(|e| {
                let why = e.get("removed").or_else(|| e.get("kept")).unwrap().as_str().unwrap().to_string();
                (e["id"].as_str().unwrap().to_string(), why)
            })
            .collect::<Vec<_>>()
    };
    let expected_dry = [
        ("v000001", "pinned"),
        ("v000002", "past_retention"),
        ("v000003", "past_retention"),
        ("v000004", "newest"),
        ("v000005", "current"),
        ("v000006", "recent"),
    ];
    assert_eq!(verdicts(&dry), expected_dry.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
    assert_eq!(snapshots().await.len(), 6, "a dry run removes nothing");
    assert_eq!(run_folders(), 3);

    // the real thing, with no grace and unrecorded runs
    let (code, out, err) = cli(&["lake", "gc", "--keep", "2", "--grace", "0", "--unrecorded-runs"], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("已删除 4 个目录"), "{out}");
    assert!(out.contains("未完成的入湖暂存") && out.contains("台账中的运行读过"), "{out}");
    assert_eq!(snapshots().await, ["v000001", "v000004", "v000005"]);
    assert_eq!(run_folders(), 2, "the unrecorded run's folder went; the recorded runs' stayed");
    assert!(runs_dir.join(&run1).exists());
    // what is left is whole: the pinned snapshot reads, the current one is current, and a
    // recorded clue's working paper still opens from its evidence
    let lake = p.lake();
    let v1 = lake.manifest("pay", "v000001").await.unwrap().unwrap();
    let engine = searchlight::engine::Engine::local();
    engine.register_snapshot(&lake, "old", &v1).await.unwrap();
    let n = crate::util::lines(&engine.sql("select count(*) from old").await.unwrap().collect().await.unwrap());
    assert_eq!(n, vec!["1"]);
    assert_eq!(lake.current("pay").await.unwrap().unwrap().snapshot, "v000005");
    let clue = first["models"][0]["clues"][0]["id"].as_str().map(str::to_string);
    let clue = clue.unwrap_or_else(|| panic!("a clue id in {first}"));
    let (code, out, err) = cli(&["paper", &clue], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("人0"), "{out}");
    // a second gc finds nothing more; ingest and run go on
    let (code, out, _) = cli(&["lake", "gc", "--keep", "2", "--grace", "0", "--unrecorded-runs"], None);
    assert_eq!(code, Some(0));
    assert!(out.contains("已删除 0 个目录"), "{out}");
    land(7);
    assert_eq!(run(None).0, Some(0));
}

/// A workbook of many sheets is landed piece by piece — a Parquet part per group of sheets, so
/// memory holds one group's rows, never the workbook's — with every row, each sheet's own
/// header matched, in sheet order; a crash after the first piece leaves the previous snapshot.
#[tokio::test]
async fn a_workbook_of_many_sheets_lands_piece_by_piece() {
    let p = TestProject::new();
    p.write(
        "connectors/t.toml",
        "name = \"t\"\ntitle = \"测试\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/t.xlsx\"\n[format]\ntype = \"xlsx\"\nsheets = [\"*\"]\n[columns]\nid = { from = \"编号\", type = \"int\" }\ntown = { from = \"$sheet\", type = \"text\" }\n",
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    let mut n = 0;
    for s in 0..4 {
        let ws = wb.add_worksheet();
        ws.set_name(format!("镇{s}")).unwrap();
        ws.write_string(0, 0, "编号").unwrap();
        for r in 1..=5 {
            n += 1;
            ws.write_number(r, 0, n as f64).unwrap();
        }
    }
    p.write("data/t.xlsx", wb.save_to_buffer().unwrap());
    let run = |fault: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_searchlight"));
        cmd.arg("--project").arg(p.root()).args(["ingest", "--force"]).env("SEARCHLIGHT_PIECE_ROWS", "6");
        if let Some(f) = fault {
            cmd.env("SEARCHLIGHT_FAULT", f);
        }
        cmd.output().unwrap()
    };
    let out = run(None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m = p.lake().current("t").await.unwrap().unwrap();
    // sheets 0+1 (10 rows ≥ 6), then 2+3
    assert_eq!(
        m.parts.iter().map(|x| (x.file.as_str(), x.rows)).collect::<Vec<_>>(),
        [("part-00000.parquet", 10), ("part-00000-1.parquet", 10)]
    );
    assert_eq!(m.rows, 20);
    let rows = p.rows("select town, count(*), min(id), max(id) from t group by town order by town").await;
    assert_eq!(rows, ["镇0|5|1|5", "镇1|5|6|10", "镇2|5|11|15", "镇3|5|16|20"]);
    // killed after the first piece is stored: the snapshot before stays current and whole
    let out = run(Some("lake.after_part"));
    assert!(!out.status.success());
    let again = p.lake().current("t").await.unwrap().unwrap();
    assert_eq!((again.snapshot.as_str(), again.rows), (m.snapshot.as_str(), 20));
}

/// `append = true`: a grown export lands only its new files, as a snapshot that shares the
/// earlier parts and counts their rows and issues; the rows read are exactly a full landing's;
/// an earlier file changed lands everything afresh; gc keeps what a kept snapshot shares; and
/// a dataset whose repeats collapse cannot be declared so.
#[tokio::test]
async fn a_grown_export_lands_only_its_new_files_and_shares_the_rest() {
    let p = TestProject::new();
    let spec = "name = \"t\"\ntitle = \"测试\"\ndomain = \"test\"\ncustom = true\nappend = true\nmax_quarantine = 0.5\nlocation = \"data/t/*.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid = { from = \"编号\", type = \"int\" }\nv = { from = \"值\", type = \"text\" }\n";
    let c = p.connector("t", spec);
    p.write("data/t/01.csv", csv(&[(1, "a"), (2, "b")]));
    p.write("data/t/02.csv", "编号,值\n3,c\nx,bad\n");
    let first = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((first.rows, first.rows_quarantined, first.appends.clone()), (3, 1, None));
    p.write("data/t/03.csv", "编号,值\n4,d\ny,bad\n5,e\n");
    let second = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!(second.appends.as_deref(), Some("v000001"), "{second:?}");
    assert_eq!((second.rows, second.rows_read, second.rows_quarantined), (5, 7, 2));
    assert_eq!(second.quarantine.values().sum::<u64>(), 2);
    assert_eq!(second.sources.len(), 3);
    // the earlier parts are shared, not copied: they live where they were written
    let shared: Vec<_> = second.parts.iter().filter(|x| x.snapshot.as_deref() == Some("v000001")).collect();
    assert_eq!(shared.len(), first.parts.len());
    assert!(std::fs::read_dir(p.path("lake/t/v000002")).unwrap().all(|e| {
        let name = e.unwrap().file_name().into_string().unwrap();
        !first.parts.iter().any(|x| x.file == name)
            || second.parts.iter().any(|x| x.file == name && x.snapshot.is_none())
    }));
    // the same rows a full landing of the three files gives
    let rows = |sql: &'static str| {
        let p = &p;
        async move { crate::util::lines(&p.sql(sql).await) }
    };
    assert_eq!(rows("select id, v from t order by id").await, vec!["1|a", "2|b", "3|c", "4|d", "5|e"]);
    let full = TestProject::new();
    let fc = full.connector("t", spec);
    std::fs::create_dir_all(full.path("data/t")).unwrap();
    for f in ["01", "02", "03"] {
        std::fs::copy(p.path(&format!("data/t/{f}.csv")), full.path(&format!("data/t/{f}.csv"))).unwrap();
    }
    let whole = full.ingest(&fc).await.unwrap().manifest().clone();
    assert_eq!(
        (whole.rows, whole.rows_read, whole.rows_quarantined, &whole.quarantine, whole.fingerprint.clone()),
        (second.rows, second.rows_read, second.rows_quarantined, &second.quarantine, second.fingerprint.clone())
    );
    // both quarantined rows are shown, the earlier from the earlier snapshot's file
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .args(["--project", p.root().to_str().unwrap(), "lake", "t"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("02.csv") && shown.contains("03.csv"), "{shown}\n{}", String::from_utf8_lossy(&out.stderr));
    // unchanged: no snapshot; one more file: another append on top
    assert!(matches!(p.ingest(&c).await.unwrap(), Outcome::Unchanged(_)));
    p.write("data/t/04.csv", csv(&[(6, "f")]));
    let third = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((third.appends.as_deref(), third.rows), (Some("v000002"), 6));
    assert_eq!(third.parts.iter().filter(|x| x.snapshot.as_deref() == Some("v000001")).count(), first.parts.len());
    // gc with --keep 2 keeps v000002 (newest) and v000001 (shared by both kept ones)
    let gc = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .args([
            "--project",
            p.root().to_str().unwrap(),
            "lake",
            "gc",
            "--keep",
            "2",
            "--grace",
            "0",
            "--without-ledger",
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&gc.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&gc.stderr)));
    let kept: Vec<(String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["id"].as_str().unwrap().into(), e.get("kept").or(e.get("removed")).unwrap().as_str().unwrap().into())
        })
        .collect();
    assert!(kept.contains(&("v000001".into(), "shared".into())), "{kept:?}");
    assert_eq!(rows("select count(*) from t").await, vec!["6"]);
    // an earlier file re-issued: everything lands afresh, nothing shared
    p.write("data/t/01.csv", csv(&[(1, "a"), (2, "B")]));
    let fresh = p.ingest(&c).await.unwrap().manifest().clone();
    assert_eq!((fresh.appends.clone(), fresh.rows), (None, 6));
    assert!(fresh.parts.iter().all(|x| x.snapshot.is_none()));
    assert_eq!(rows("select v from t where id = 2").await, vec!["B"]);
    // a dataset whose repeated keys collapse into one record cannot grow file by file
    p.write("connectors/e.toml", "name = \"e\"\ntitle = \"实体\"\ndomain = \"test\"\ncustom = true\nappend = true\nrepeats = \"collapse\"\nkey = [\"id\"]\nlocation = \"data/e/*.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid = { from = \"编号\", type = \"int\" }\n");
    let err = searchlight::connector::load(&p.path("connectors/e.toml"), searchlight::schema::Schema::bundled())
        .unwrap_err()
        .to_string();
    assert!(err.contains("e.toml:5") && err.contains("collapse"), "{err}");
}

/// A source of the test's own behind the one trait: text rows in batches, like a database's,
/// failing before a given batch when told to.
struct Handed {
    batches: Vec<Vec<[Option<&'static str>; 3]>>,
    fail_before: Option<usize>,
}

#[async_trait::async_trait]
impl searchlight::connector::source::Source for Handed {
    fn describe(&self) -> String {
        "handed rows".into()
    }

    async fn survey(
        &self,
        _since: Option<&str>,
        _watch: &dyn searchlight::connector::source::Watch,
    ) -> searchlight::connector::Result<searchlight::connector::source::Survey> {
        use searchlight::connector::source::{Header, QuerySplit, Split, Survey, TypeFamily};
        Ok(Survey {
            header: Some(Header {
                names: ["编号", "金额(万元)", "证件号码"].map(String::from).to_vec(),
                types: vec!["text".into(); 3],
                families: vec![TypeFamily::Text; 3],
            }),
            splits: vec![Split::Query(QuerySplit { label: "handed rows".into(), request: String::new() })],
            rows: Some(self.batches.iter().map(|b| b.len() as u64).sum()),
            ..Default::default()
        })
    }

    async fn read(
        &self,
        _split: &searchlight::connector::source::Split,
        out: tokio::sync::mpsc::Sender<searchlight::connector::source::Rows>,
    ) -> searchlight::connector::Result<u64> {
        let mut read = 0u64;
        for (i, rows) in self.batches.iter().enumerate() {
            if self.fail_before == Some(i) {
                return Err(searchlight::connector::Error::Source {
                    file: "handed rows".into(),
                    message: "connection lost".into(),
                });
            }
            let mut batch = searchlight::connector::source::TextBatch::new(3, read + 1);
            for r in rows {
                batch.push_row(r.iter().copied());
            }
            read += rows.len() as u64;
            out.send(batch.into()).await.expect("the lake takes rows");
            // let the lake convert and store this batch before the next is read
            tokio::task::yield_now().await;
        }
        Ok(read)
    }
}

const AMOUNTS: &str = "name = \"t\"\ntitle = \"测试\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/t.csv\"\nkey = [\"id\"]\nmax_quarantine = 0.5\n[format]\ntype = \"csv\"\n[columns]\nid = { from = \"编号\", type = \"int\" }\namount = { from = [\"金额(万元)\", \"金额(元)\"], type = \"money\" }\nperson = { from = \"证件号码\", type = \"id_card\", nullable = true }\n";

#[tokio::test]
async fn any_source_behind_the_trait_lands_exactly_as_its_csv_export_and_a_failed_read_lands_nothing() {
    let rows: Vec<[Option<&'static str>; 3]> = vec![
        [Some("1"), Some("1.5"), Some("11010519491231002X")],
        [Some("2"), Some("0.25"), None],
        [Some("3"), Some("八"), Some("110105194912310021")],
        [Some("4"), Some("2"), Some("11010519491231002x")],
    ];
    // the export as a CSV file, through the file source
    let file = TestProject::new();
    let c = file.connector("t", AMOUNTS);
    let mut text = String::from("编号,金额(万元),证件号码\n");
    for r in &rows {
        text.push_str(&r.map(|c| c.unwrap_or("")).join(","));
        text.push('\n');
    }
    file.write("data/t.csv", text);
    let from_file = file.ingest(&c).await.unwrap().manifest().clone();
    // the same rows handed in two batches by a source of the test's own
    let live = TestProject::new();
    let c = live.connector("t", AMOUNTS);
    let handed = Handed { batches: vec![rows[..2].to_vec(), rows[2..].to_vec()], fail_before: None };
    let lake = live.lake();
    let opts = crate::util::opts();
    let quiet = searchlight::lake::Quiet;
    let out = lake.ingest_from(&c, &handed, live.root(), &opts, &quiet).await.unwrap();
    let from_source = out[0].manifest().clone();
    let all = "select id, cast(amount as varchar), person from t order by id";
    assert_eq!(file.rows(all).await, live.rows(all).await);
    assert_eq!(
        live.rows(all).await,
        vec!["1|15000.00|11010519491231002X", "2|2500.00|", "4|20000.00|11010519491231002X"]
    );
    // the bad amount is set aside the same way, for the same reason; a CSV's line counts its
    // header, a source's rows are numbered from its first
    let quarantined = crate::util::issue_rows(&live, "t", "quarantine.parquet", "line, code, reason").await;
    let from_csv = crate::util::issue_rows(&file, "t", "quarantine.parquet", "line, code, reason").await;
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert!(quarantined[0].starts_with("3|bad_amount|") && from_csv[0].starts_with("4|bad_amount|"), "{quarantined:?}");
    assert_eq!(quarantined[0][2..], from_csv[0][2..]);
    assert_eq!((from_file.rows, from_source.rows), (3, 3));
    assert_eq!(from_source.load.as_ref().map(|l| l.rows), Some(4));

    // the same rows again: no new snapshot
    let again = lake.ingest_from(&c, &handed, live.root(), &opts, &quiet).await.unwrap();
    assert!(matches!(&again[0], Outcome::Unchanged(m) if m.snapshot == "v000001"), "{again:?}");
    // a read that fails after its first batch was stored lands nothing and leaves nothing behind
    let changed = vec![[Some("5"), Some("1"), None]];
    let failing = Handed { batches: vec![changed.clone(), changed], fail_before: Some(1) };
    let e = lake.ingest_from(&c, &failing, live.root(), &opts, &quiet).await.unwrap_err();
    assert!(e.to_string().contains("handed rows: connection lost"), "{e}");
    let snaps = lake.snapshots("t").await.unwrap();
    assert_eq!(snaps.iter().map(|s| (s.id.as_str(), s.current)).collect::<Vec<_>>(), vec![("v000001", true)]);
    assert_eq!(live.rows("select count(*) from t").await, vec!["3"]);
}
