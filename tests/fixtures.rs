//! The bundled demo county: every connector lands it into an empty lake; the committed files are
//! exactly what the generator makes; the docs and the planted-case list stay current.

use std::collections::BTreeMap;

use crate::util::repo;
use searchlight::connector;
use searchlight::lake::{Lake, Outcome, Quiet};
use searchlight::schema::Schema;

#[tokio::test]
async fn the_demo_county_lands_into_an_empty_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&url::Url::from_directory_path(dir.path()).unwrap()).unwrap();
    let connectors: Vec<_> = connector::load_dir(&repo().join("connectors"), Schema::bundled())
        .unwrap()
        .into_iter()
        .map(|c| c.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert!(connectors.len() >= 30, "{} connectors", connectors.len());
    let mut quarantined = BTreeMap::new();
    for c in &connectors {
        let out =
            lake.ingest(c, &repo(), &crate::util::opts(), &Quiet).await.unwrap_or_else(|e| panic!("{}: {e}", c.id));
        for o in out {
            let m = match o {
                Outcome::Landed(m) => m,
                Outcome::Unchanged(_) => panic!("an empty lake has nothing unchanged"),
            };
            assert!(m.rows > 0, "{} landed nothing", m.dataset);
            assert_eq!(
                m.rows_read,
                m.rows + m.rows_quarantined + m.rows_collapsed + m.rows_filtered,
                "{}: nothing dropped",
                m.dataset
            );
            if m.rows_quarantined > 0 {
                quarantined.insert(m.dataset.clone(), m.quarantine.clone());
            }
        }
    }
    // the defects planted on purpose, and no other
    assert_eq!(
        format!("{quarantined:?}"),
        r#"{"relief_payments": {"totals_row": 8}, "subsidy_payments": {"bad_amount": 1, "bad_date": 1}}"#
    );
    let names = lake.datasets().await.unwrap();
    assert_eq!(names.len(), connectors.iter().map(|c| c.blocks.len()).sum::<usize>());
    // the numeric-ID sheet is flagged, not silently joined
    let m = lake.current("relief_payments").await.unwrap().unwrap();
    assert!(m.flags.get("precision_lost").copied().unwrap_or(0) > 100, "{:?}", m.flags);
    assert!(lake.current("relief_members").await.unwrap().unwrap().flags.get("upgraded_15").copied().unwrap_or(0) > 0);
    // grantees' IDs typed as numbers into a text column land as Excel kept them, flagged
    let grants = lake.current("land_grants").await.unwrap().unwrap();
    assert!(grants.flags.get("precision_lost").copied().unwrap_or(0) > 0, "{:?}", grants.flags);
}

#[test]
fn committed_fixtures_are_what_the_generator_makes() {
    let dir = tempfile::tempdir().unwrap();
    searchlight::demo::generate(&searchlight::demo::Settings::bundled(searchlight::demo::Layout::A), dir.path())
        .unwrap();
    let committed = repo().join("fixtures/demo");
    let mut files = Vec::new();
    for (f, _) in searchlight::demo::FILES.iter().chain(&[("planted.csv", "")]) {
        if files.contains(f) {
            continue;
        }
        files.push(*f);
        let a = std::fs::read(committed.join(f)).unwrap_or_else(|e| panic!("fixtures/demo/{f}: {e}"));
        let b = std::fs::read(dir.path().join(f)).unwrap();
        assert!(
            a == b,
            "fixtures/demo/{f} differs from `searchlight fixtures generate --seed 1 --scale 1`; regenerate it"
        );
    }
    let total: u64 = walk(&repo().join("fixtures")).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert!(total < 10 << 20, "committed fixtures are {total} bytes, over 10 MB");
}

/// The committed files of a layout are what the generator makes, and each export is read by
/// one of the layout's connectors (by its path, or a glob over files of one shape).
fn committed_layout_is_what_the_generator_makes(layout: searchlight::demo::Layout, folder: &str, flag: &str) {
    let dir = tempfile::tempdir().unwrap();
    let report = searchlight::demo::generate(&searchlight::demo::Settings::bundled(layout), dir.path()).unwrap();
    assert!(report.files.len() >= 20, "{} files", report.files.len());
    let committed = repo().join(folder);
    for (path, _) in &report.files {
        let rel = path.strip_prefix(dir.path()).unwrap();
        let a = std::fs::read(committed.join(rel)).unwrap_or_else(|e| panic!("{folder}/{}: {e}", rel.display()));
        assert!(
            a == std::fs::read(path).unwrap(),
            "{folder}/{} differs from `searchlight fixtures generate --layout {flag}`; regenerate it",
            rel.display()
        );
    }
    let locations: Vec<globset::GlobMatcher> = std::fs::read_dir(committed.join("connectors"))
        .unwrap()
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            let v: toml::Value = toml::from_str(&text).unwrap();
            v.get("location").and_then(|l| l.as_str()).map(|l| globset::Glob::new(l).unwrap().compile_matcher())
        })
        .collect();
    for (path, _) in report.files.iter().filter(|(p, _)| p.starts_with(dir.path().join("exports"))) {
        let rel = path.strip_prefix(dir.path()).unwrap().to_string_lossy().replace('\\', "/");
        assert!(locations.iter().any(|m| m.is_match(&rel)), "no connector of {folder} reads {rel}");
    }
}

#[test]
fn committed_layout_b_is_what_the_generator_makes() {
    committed_layout_is_what_the_generator_makes(searchlight::demo::Layout::B, "fixtures/demo-b", "b");
}

#[test]
fn committed_layout_c_is_what_the_generator_makes() {
    committed_layout_is_what_the_generator_makes(searchlight::demo::Layout::C, "fixtures/demo-c", "c");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn every_planted_case_is_explained_in_the_fixtures_readme() {
    let readme = std::fs::read_to_string(repo().join("fixtures/README.md")).unwrap();
    let planted = std::fs::read_to_string(repo().join("fixtures/demo/planted.csv")).unwrap();
    let mut n = 0;
    for line in planted.lines().skip(1) {
        let case = line.split(',').next().unwrap();
        assert!(readme.contains(&format!("`{case}`")), "fixtures/README.md does not list {case}");
        n += 1;
    }
    assert!(n >= 60, "{n} planted cases");
    for model in
        ["M01", "M02", "M05", "M07", "M28", "M31", "M32", "M34", "M37", "M39", "M41", "M42", "M43", "M46", "M48"]
    {
        assert!(planted.contains(&format!("{model}-A1,")), "no planted anomaly for {model}");
        assert!(planted.contains(&format!("{model}-L1,")), "no look-alike for {model}");
    }
}

#[test]
fn the_dataset_docs_are_current() {
    let want = searchlight::schema::catalog::markdown(Schema::bundled());
    let have = std::fs::read_to_string(repo().join("docs/datasets.md")).unwrap();
    assert!(have == want, "docs/datasets.md is stale: run `searchlight datasets --markdown > docs/datasets.md`");
}

#[test]
fn generating_one_dataset_gives_the_same_file_as_generating_all() {
    let dir = tempfile::tempdir().unwrap();
    let only = searchlight::demo::Settings {
        only: vec!["treasury_payments".into(), "land_grants".into()],
        ..searchlight::demo::Settings::bundled(searchlight::demo::Layout::A)
    };
    let r = searchlight::demo::generate(&only, dir.path()).unwrap();
    assert_eq!(r.files.len(), 2);
    for f in ["finance/国库集中支付明细.csv", "land/土地出让合同.xlsx"] {
        assert!(
            std::fs::read(dir.path().join(f)).unwrap() == std::fs::read(repo().join("fixtures/demo").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_larger_county_is_the_same_county_scaled() {
    let dir = tempfile::tempdir().unwrap();
    let r = searchlight::demo::generate(
        &searchlight::demo::Settings {
            scale: 3,
            only: vec!["treasury_payments".into()],
            ..searchlight::demo::Settings::bundled(searchlight::demo::Layout::A)
        },
        dir.path(),
    )
    .unwrap();
    assert_eq!(r.files.len(), 1);
    let one = r.files[0].1;
    let base = std::fs::read(repo().join("fixtures/demo/finance/国库集中支付明细.csv")).unwrap();
    let base_rows = base.iter().filter(|b| **b == b'\n').count() as u64 - 1;
    assert!(one > base_rows * 2 && one < base_rows * 4, "{one} rows at scale 3 vs {base_rows} at scale 1");
}

/// Lands every export of a generated county into a fresh lake: (dataset, rows, quarantine by
/// reason, duplicate keys flagged).
async fn land(exports: &std::path::Path) -> Vec<(String, u64, BTreeMap<String, u64>, u64)> {
    // connectors read `fixtures/demo/…` under the project root
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("fixtures")).unwrap();
    std::os::unix::fs::symlink(exports, root.path().join("fixtures/demo")).unwrap();
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&url::Url::from_directory_path(lake_dir.path()).unwrap()).unwrap();
    let mut out = Vec::new();
    for c in connector::load_dir(&repo().join("connectors"), Schema::bundled()).unwrap() {
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        for o in lake.ingest(&c, root.path(), &crate::util::opts(), &Quiet).await.unwrap_or_else(|e| panic!("{e}")) {
            let m = o.manifest();
            out.push((
                m.dataset.clone(),
                m.rows,
                m.quarantine.clone(),
                m.flags.get("duplicate_key").copied().unwrap_or(0),
            ));
        }
    }
    out.sort();
    out
}

/// A county made in batches (each a county of its own, appended to the same exports) lands
/// whole: every batch's rows parse, its planted defects are there once per batch, and no key of
/// one batch meets a key of another (every dataset's duplicate-key flags are the planted ones,
/// once per batch).
#[tokio::test]
async fn a_county_made_in_batches_lands_whole_and_its_batches_share_no_key() {
    let one = tempfile::tempdir().unwrap();
    let three = tempfile::tempdir().unwrap();
    let bundled = searchlight::demo::Settings::bundled(searchlight::demo::Layout::A);
    searchlight::demo::generate(&bundled, one.path()).unwrap();
    // workbooks continue in the next file past 1 500 rows: every batch's payments get a
    // workbook of their own, the household roster a second one for the third batch; the
    // bundled connectors' globs read them all
    let batched = searchlight::demo::Settings { scale: 3, batch_scale: 1, book_rows: 1_500, ..bundled };
    let report = searchlight::demo::generate(&batched, three.path()).unwrap();
    let mut books: Vec<String> = std::fs::read_dir(three.path().join("relief"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xlsx"))
        .collect();
    books.sort();
    assert_eq!(
        books,
        ["低保发放明细.xlsx", "低保发放明细_002.xlsx", "低保发放明细_003.xlsx", "低保家庭.xlsx", "低保家庭_002.xlsx"]
    );
    let (single, triple) = (land(one.path()).await, land(three.path()).await);
    assert_eq!(single.len(), triple.len());
    for ((d1, rows1, q1, dup1), (d3, rows3, q3, dup3)) in single.iter().zip(&triple) {
        assert_eq!(d1, d3);
        // two more counties of the same size: about three times the rows
        assert!(*rows3 >= rows1 * 2 && *rows3 <= rows1 * 4 + 10, "{d1}: {rows1} rows in one batch, {rows3} in three");
        let q3_expected: BTreeMap<String, u64> = q1.iter().map(|(k, v)| (k.clone(), v * 3)).collect();
        assert_eq!(q3, &q3_expected, "{d1}: each batch's planted defects, no new ones");
        assert_eq!(*dup3, dup1 * 3, "{d1}: duplicate keys beyond each batch's planted ones");
    }
    // the report counts what was written, and planted.csv lists each batch's cases
    let written: u64 = report.files.iter().filter(|(p, _)| !p.ends_with("planted.csv")).map(|(_, n)| n).sum();
    assert!(written > 0);
    let planted = |d: &std::path::Path| std::fs::read_to_string(d.join("planted.csv")).unwrap().lines().count() - 1;
    assert_eq!(planted(three.path()), 3 * planted(one.path()));
}
