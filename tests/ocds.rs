//! The Open Contracting red flags against the reference implementation's golden fixtures
//! (`../shared/ocds/indicators`, OCDS Cardinal's): every fixture, run the way an analyst runs
//! `searchlight ocds-flags`, with the settings its file name encodes, must give exactly its
//! `.expected` result.

use std::path::{Path, PathBuf};

/// The fixtures: the reference material beside the repository when it is there (and then the
/// repository's copy must be the same), else the copy in `fixtures/ocds`.
fn shared() -> PathBuf {
    let copy = crate::util::repo().join("fixtures/ocds");
    let reference = crate::util::repo().join("../shared/ocds");
    if !reference.join("indicators").is_dir() {
        return copy;
    }
    for sub in ["indicators", "examples", "examples/R"] {
        for e in std::fs::read_dir(reference.join(sub)).unwrap() {
            let path = e.unwrap().path();
            if path.is_file() {
                let mine = copy.join(sub).join(path.file_name().unwrap());
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    std::fs::read(&mine).unwrap_or_default(),
                    "fixtures/ocds differs from {}: copy it again",
                    path.display()
                );
            }
        }
    }
    reference
}

/// The settings a fixture's name encodes: `R003-threshold-10` → `[R003] threshold = 10`;
/// `R003-procurement_method_details-x-5-y-10` → `[R003.procurement_method_details] x = 5, y = 10`;
/// `+` separates alternatives (`open+selective` → `open|selective`); other words are labels.
/// Every fixture also runs with `no_price_comparison_procurement_methods = NPC` and
/// `[exclusions] procurement_method_details = EXC`.
fn settings_of(name: &str) -> String {
    const KEYS: [&str; 6] = [
        "threshold",
        "procurement_methods",
        "percentile",
        "minimum_submitted_bids",
        "minimum_contracting_processes",
        "digits",
    ];
    let parts: Vec<&str> = name.split('-').collect();
    let code = parts[0];
    let mut main = Vec::new();
    let mut sub = Vec::new();
    let mut i = 1;
    while i < parts.len() {
        if parts[i] == "procurement_method_details" {
            for pair in parts[i + 1..].chunks(2) {
                sub.push(format!("{} = {}", pair[0], pair[1]));
            }
            break;
        } else if KEYS.contains(&parts[i]) {
            main.push(format!("{} = {}", parts[i], parts[i + 1].replace('+', "|")));
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut s = format!(
        "no_price_comparison_procurement_methods = NPC\n\n[exclusions]\nprocurement_method_details = EXC\n\n[{code}]\n{}\n",
        main.join("\n")
    );
    if !sub.is_empty() {
        s += &format!("[{code}.procurement_method_details]\n{}\n", sub.join("\n"));
    }
    s
}

fn flags(settings: &Path, file: &Path) -> (serde_json::Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .arg("ocds-flags")
        .arg("--settings")
        .arg(settings)
        .arg(file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}: {stderr}", file.display());
    (serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", file.display())), stderr)
}

#[test]
fn every_golden_fixture_is_reproduced_exactly() {
    let dir = shared().join("indicators");
    let tmp = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".jsonl").map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names.len(), 15, "the fixtures: {names:?}");
    let mut codes = std::collections::BTreeSet::new();
    for name in &names {
        let ini = tmp.path().join(format!("{name}.ini"));
        std::fs::write(&ini, settings_of(name)).unwrap();
        let (got, _) = flags(&ini, &dir.join(format!("{name}.jsonl")));
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap()).unwrap();
        assert_eq!(got, want, "{name} with\n{}", settings_of(name));
        codes.insert(name.split('-').next().unwrap().to_string());
    }
    assert_eq!(codes.len(), 11, "every flag has a fixture: {codes:?}");
}

#[test]
fn the_reference_settings_file_is_read_and_each_example_raises_its_flag() {
    let dir = shared().join("examples");
    for e in std::fs::read_dir(dir.join("R")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let n = path.file_stem().unwrap().to_str().unwrap().to_string();
        let own = dir.join("R").join(format!("{n}.ini"));
        let ini = if own.exists() { own } else { dir.join("settings.ini") };
        let (got, _) = flags(&ini, &path);
        let code = format!("R{n}");
        assert!(got.to_string().contains(&format!("\"{code}\"")), "{code}: {got}");
    }
}

#[test]
fn packages_give_the_same_flags_as_lines_and_what_cannot_be_assessed_is_said() {
    let dir = shared().join("indicators");
    let tmp = tempfile::tempdir().unwrap();
    let ini = tmp.path().join("s.ini");
    std::fs::write(&ini, settings_of("R024")).unwrap();
    let lines = std::fs::read_to_string(dir.join("R024.jsonl")).unwrap();
    let releases: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
    // a release package over several lines, and a record package on one line
    let package = tmp.path().join("package.json");
    std::fs::write(&package, format!("{{\n  \"uri\": \"x\",\n  \"releases\": [\n{}\n  ]\n}}\n", releases.join(",\n")))
        .unwrap();
    let records = tmp.path().join("records.jsonl");
    let recs: Vec<String> = releases.iter().map(|r| format!("{{\"compiledRelease\": {r}}}")).collect();
    std::fs::write(&records, format!("{{\"records\": [{}]}}\n", recs.join(","))).unwrap();
    let (want, _) = flags(&ini, &dir.join("R024.jsonl"));
    assert_eq!(flags(&ini, &package).0, want);
    assert_eq!(flags(&ini, &records).0, want);

    // processes without what a flag needs are counted, not silently passed over
    let thin = tmp.path().join("thin.jsonl");
    std::fs::write(
        &thin,
        "{\"ocid\":\"a\",\"tender\":{\"procurementMethod\":\"open\"}}\n{\"ocid\":\"b\",\"tender\":{\"procurementMethod\":\"open\",\"numberOfTenderers\":1}}\nnot json\n",
    )
    .unwrap();
    let all = tmp.path().join("all.ini");
    std::fs::write(&all, "[R003]\n[R018]\n").unwrap();
    let (got, stderr) = flags(&all, &thin);
    assert_eq!(got, serde_json::json!({"OCID": {"b": {"R018": 1.0}}}));
    assert!(stderr.contains("R003 不可计算 not computable: 2 个流程缺少"), "{stderr}");
    assert!(stderr.contains("R018 不可计算 not computable: 1 个流程缺少"), "{stderr}");
    assert!(stderr.contains("thin.jsonl:3: 跳过 skipped"), "{stderr}");
}

/// The OCDS connector lands the procurement tables, one `[[dataset]]` each; the rows are
/// counted here from the JSON itself.
#[tokio::test]
async fn an_ocds_file_lands_as_the_procurement_tables() {
    use crate::util::TestProject;
    let p = TestProject::new();
    let file = p.path("data/jyzx.jsonl");
    let (code, out, err) =
        crate::util::searchlight(&p, &["fixtures", "ocds", "--processes", "400", "--out", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    let text = std::fs::read_to_string(p.path("data/jyzx.jsonl")).unwrap();
    // the same processes again as a record package over many lines, and a line that is no process
    let records: Vec<String> = text.lines().take(50).map(|l| format!("{{\"compiledRelease\": {l}}}")).collect();
    std::fs::write(p.path("data/more.json"), format!("{{\n\"records\": [\n{}\n]\n}}\n", records.join(",\n"))).unwrap();
    std::fs::write(p.path("data/jyzx.jsonl"), format!("{text}{{\"ocid\": \n")).unwrap();
    p.write(
        "connectors/jyzx.toml",
        "location = \"data/jyzx.jsonl\"\n[format]\ntype = \"ocds\"\n[[dataset]]\nname = \"ocds_processes\"\n[[dataset]]\nname = \"ocds_bids\"\n[[dataset]]\nname = \"ocds_awards\"\n[[dataset]]\nname = \"ocds_items\"\n[[dataset]]\nname = \"ocds_lots\"\n[[dataset]]\nname = \"ocds_parties\"\n[[dataset]]\nname = \"bid_prices\"\ncustom = true\ndomain = \"procurement\"\neach = \"bids\"\n[dataset.columns]\nocid = { type = \"text\" }\nprice = { from = \"amount\", type = \"money\" }\n",
    );
    let (code, out, err) = crate::util::searchlight(&p, &["ingest", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}{err}");

    // counted from the JSON, not by the reader
    let (mut processes, mut bid_rows, mut award_rows, mut items, mut lots, mut parties, mut amount) =
        (0, 0, 0, 0, 0, 0, 0.0);
    for line in text.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        processes += 1;
        for b in r["bids"]["details"].as_array().unwrap() {
            bid_rows += b["tenderers"].as_array().unwrap().len().max(1);
            amount += b["value"]["amount"].as_f64().unwrap() * b["tenderers"].as_array().unwrap().len() as f64;
        }
        for a in r["awards"].as_array().unwrap() {
            award_rows += a["suppliers"].as_array().unwrap().len().max(1);
            items += a["items"].as_array().map_or(0, Vec::len);
        }
        lots += r["tender"]["lots"].as_array().map_or(0, Vec::len);
        parties += r["parties"].as_array().map_or(0, Vec::len);
    }
    let count = |t: &str| format!("select count(*) from {t}");
    assert_eq!(p.rows(&count("ocds_processes")).await, [processes.to_string()]);
    assert_eq!(p.rows(&count("ocds_bids")).await, [bid_rows.to_string()]);
    assert_eq!(p.rows(&count("ocds_awards")).await, [award_rows.to_string()]);
    assert_eq!(p.rows(&count("ocds_items")).await, [items.to_string()]);
    assert_eq!(p.rows(&count("ocds_lots")).await, [lots.to_string()]);
    assert_eq!(p.rows(&count("ocds_parties")).await, [parties.to_string()]);
    assert_eq!(p.rows(&count("bid_prices")).await, [bid_rows.to_string()]);
    let sum = p.rows("select cast(sum(amount) as double) from ocds_bids").await;
    assert!((sum[0].parse::<f64>().unwrap() - amount).abs() < 0.5, "{sum:?} vs {amount}");
    // the broken last line is kept in quarantine with its line number
    let issues = crate::util::issue_rows(&p, "ocds_processes", "quarantine.parquet", "line, code").await;
    assert_eq!(issues, [format!("{}|bad_json", processes + 1)]);

    // a record package over many lines lands the same rows as the lines it holds
    p.write(
        "connectors/jyzx.toml",
        "location = \"data/more.json\"\n[format]\ntype = \"ocds\"\n[[dataset]]\nname = \"ocds_processes\"\n",
    );
    let (code, out, err) = crate::util::searchlight(&p, &["ingest", "--as-of", "2025-12-31", "jyzx"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(p.rows(&count("ocds_processes")).await, ["50"]);

    // a file read whole is refused, not half-read, when it is beyond a quarter of the memory limit
    let big = p.path("data/big.jsonl");
    crate::util::ok(&p, &["fixtures", "ocds", "--processes", "3000", "--out", big.to_str().unwrap()]);
    p.write(
        "connectors/jyzx.toml",
        "location = \"data/big.jsonl\"\n[format]\ntype = \"ocds\"\n[[dataset]]\nname = \"ocds_processes\"\n",
    );
    let (code, out, err) =
        crate::util::searchlight(&p, &["--memory-limit", "16MiB", "ingest", "--as-of", "2025-12-31", "jyzx"]);
    assert_ne!(code, Some(0));
    assert!(
        format!("{out}{err}").contains("big.jsonl") && format!("{out}{err}").contains("quarter of the memory limit"),
        "{out}{err}"
    );
    assert_eq!(p.rows(&count("ocds_processes")).await, ["50"], "the current snapshot stays");

    // a block naming no table is an error naming the line
    p.write("connectors/jyzx.toml", "location = \"data/more.json\"\n[format]\ntype = \"ocds\"\n[[dataset]]\nname = \"bids\"\n[dataset.columns]\nlot_no = {}\n");
    let (code, out, err) = crate::util::searchlight(&p, &["ingest", "--as-of", "2025-12-31", "jyzx"]);
    assert_ne!(code, Some(0));
    assert!(format!("{out}{err}").contains("jyzx.toml:5:"), "{out}{err}");
}

/// Lands `file` through the OCDS connector into a fresh lake (the pipeline seam) and runs the
/// flag model `id` of the library with `overrides` (model, name, value).
async fn run_flag_model(
    file: &Path,
    id: &str,
    overrides: Vec<(String, String, String)>,
) -> searchlight::runner::ModelOutcome {
    run_flag_models(file, &[id], overrides).await.remove(0)
}

/// Lands `file` through the OCDS connector into a fresh lake (the pipeline seam) and runs the
/// flag models `ids` of the library with `overrides` (model, name, value).
async fn run_flag_models(
    file: &Path,
    ids: &[&str],
    overrides: Vec<(String, String, String)>,
) -> Vec<searchlight::runner::ModelOutcome> {
    use searchlight::lake::{Lake, Quiet};
    use searchlight::project::Project;
    use searchlight::runner::{RunRequest, Runner};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("connectors")).unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(file, dir.path().join("data/p.jsonl")).unwrap();
    let blocks: String = ["processes", "bids", "awards", "items"]
        .iter()
        .map(|t| format!("[[dataset]]\nname = \"ocds_{t}\"\n"))
        .collect();
    std::fs::write(
        dir.path().join("connectors/jyzx.toml"),
        format!("location = \"data/p.jsonl\"\n[format]\ntype = \"ocds\"\n{blocks}"),
    )
    .unwrap();
    let lake_url = url::Url::from_directory_path(dir.path().join("lake")).unwrap();
    let project = Project::open(dir.path(), Some(lake_url.as_str()), None).unwrap();
    let connectors: Vec<_> = project.connectors().unwrap().into_iter().map(|c| c.unwrap()).collect();
    let catalog = Project::catalog(&connectors);
    let lake = Lake::open(&lake_url).unwrap();
    let quiet = |_: &searchlight::connector::Connector| -> Box<dyn searchlight::lake::Progress + Send + Sync> {
        Box::new(Quiet)
    };
    let landed =
        searchlight::pipeline::ingest(&project, &lake, &catalog, &connectors, &[], &crate::util::opts(), &quiet)
            .await
            .unwrap();
    for l in &landed {
        assert!(l.result.is_ok(), "{}: {:?}", file.display(), l.result);
    }
    let models: Vec<searchlight::model::Model> = searchlight::model::load_dir(&crate::util::repo().join("models/ocds"))
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .filter(|m| ids.contains(&m.id()))
        .collect();
    assert_eq!(models.len(), ids.len(), "{ids:?}");
    let runner = Runner::over_lake(&lake, &catalog).await.unwrap();
    let mut req = RunRequest::new(chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
    req.overrides = overrides;
    runner.run(&models.iter().collect::<Vec<_>>(), &req).await
}

/// A column of a model's rows as text (empty for NULL).
fn column(outcome: &searchlight::runner::ModelOutcome, name: &str) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let fo = FormatOptions::default();
    let mut out = Vec::new();
    for b in &outcome.batches {
        let a = b.column_by_name(name).unwrap_or_else(|| panic!("{}: no column {name}", outcome.model));
        let f = ArrayFormatter::try_new(a.as_ref(), &fo).unwrap();
        out.extend((0..b.num_rows()).map(|r| f.value(r).to_string()));
    }
    out
}

/// A flag model's rows read into the reference tool's shape: which column names the flagged
/// process, buyer, procuring entity or tenderer, and which holds the value, per flag.
fn reference_shape(code: &str, o: &searchlight::runner::ModelOutcome) -> serde_json::Value {
    use std::collections::BTreeMap;
    let mut out: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>> = BTreeMap::new();
    let mut set = |group: &str, id: &str, value: f64| {
        out.entry(group.into()).or_default().entry(id.into()).or_default().insert(code.into(), value);
    };
    let num = |s: &str| s.parse::<f64>().unwrap_or_else(|e| panic!("{code}: {s}: {e}"));
    let ocid = || column(o, "ocid");
    match code {
        "R003" | "R018" | "R036" => ocid().iter().for_each(|id| set("OCID", id, 1.0)),
        "R024" | "R058" => {
            let (ratio, winner, second) = (column(o, "ratio"), column(o, "winner_id"), column(o, "second_id"));
            for (i, id) in ocid().iter().enumerate() {
                set("OCID", id, num(&ratio[i]));
                set("Tenderer", &winner[i], 0.0);
                if code == "R024" {
                    set("Tenderer", &second[i], 0.0);
                }
            }
        }
        "R028" | "R030" => {
            for (id, t) in ocid().iter().zip(column(o, "tenderer_id")) {
                set("OCID", id, 1.0);
                set("Tenderer", &t, 1.0);
            }
        }
        "R035" => {
            let (n, winner) = (column(o, "disqualified"), column(o, "winner_id"));
            for (i, id) in ocid().iter().enumerate() {
                set("OCID", id, num(&n[i]));
                set("Tenderer", &winner[i], 0.0);
            }
        }
        "R025" => {
            for (t, r) in column(o, "tenderer_id").iter().zip(column(o, "ratio")) {
                set("Tenderer", t, num(&r));
            }
        }
        "R038" => {
            let (role, id, ratio) = (column(o, "party_role"), column(o, "party_id"), column(o, "ratio"));
            for i in 0..id.len() {
                let group = match role[i].as_str() {
                    "采购人" => "Buyer",
                    "采购代理(执行)机构" => "ProcuringEntity",
                    _ => "Tenderer",
                };
                set(group, &id[i], num(&ratio[i]));
            }
        }
        "R048" => {
            for (s, k) in column(o, "supplier_id").iter().zip(column(o, "kinds")) {
                set("Tenderer", s, num(&k));
            }
        }
        _ => panic!("{code}"),
    }
    serde_json::to_value(out).unwrap()
}

/// The flags as the library's models (`models/ocds/`): every fixture is landed through the OCDS
/// connector and its flag's model run with the settings its name encodes — the same settings
/// file, as `--param`s (`ocds-flags --params`) — and must give exactly the `.expected` result.
#[tokio::test]
async fn every_golden_fixture_is_reproduced_by_the_models() {
    use searchlight::runner::red_flags::{MODELS, Settings};
    let dir = shared().join("indicators");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".jsonl").map(str::to_string))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let code = name.split('-').next().unwrap();
        let id = MODELS.iter().find(|(c, _)| *c == code).unwrap().1;
        let settings = Settings::parse(&settings_of(name)).unwrap();
        let overrides =
            settings.model_params().into_iter().map(|(m, n, v)| (m.to_string(), n.to_string(), v)).collect();
        let outcome = run_flag_model(&dir.join(format!("{name}.jsonl")), id, overrides).await;
        assert!(outcome.status.looked(), "{name}: {:?} {:?}", outcome.status, outcome.error);
        let got = reference_shape(code, &outcome);
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap()).unwrap();
        if got != want {
            failures.push(format!("{name} ({id}):\n  got  {got}\n  want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A flag's clues are clues in the ledger like any model's; a process it could not assess (its
/// tender period dropped from the next export) is said to be so — the run is partial — and its
/// clue is not resolved, until the process can be assessed again.
#[test]
fn flag_clues_are_in_the_ledger_and_what_could_not_be_assessed_is_not_resolved() {
    use crate::util::{TestProject, ok};
    let p = TestProject::new();
    let model = std::fs::read_to_string(crate::util::repo().join("models/ocds/short_submission_period.sql")).unwrap();
    p.write("models/short_submission_period.sql", model);
    p.write(
        "connectors/jyzx.toml",
        "location = \"data/jyzx.jsonl\"\n[format]\ntype = \"ocds\"\n[[dataset]]\nname = \"ocds_processes\"\n",
    );
    let process = |ocid: &str, days: Option<u32>| {
        let period = days
            .map(|d| {
                format!(
                    r#","tenderPeriod":{{"startDate":"2025-03-01T09:00:00+08:00","endDate":"2025-03-{:02}T09:30:00+08:00"}}"#,
                    1 + d
                )
            })
            .unwrap_or_default();
        format!(
            r#"{{"ocid":"{ocid}","buyer":{{"id":"B1","name":"县教育局"}},"tender":{{"status":"complete","procurementMethod":"open"{period}}}}}"#
        )
    };
    let land = |x: Option<u32>| {
        p.write("data/jyzx.jsonl", format!("{}\n{}\n", process("ZB-X", x), process("ZB-Y", Some(20))));
        ok(&p, &["ingest", "--as-of", "2025-12-31"]);
        let out = ok(&p, &["run", "--as-of", "2025-12-31", "--json"]);
        let run: serde_json::Value = serde_json::from_str(&out).unwrap();
        let clues: serde_json::Value =
            serde_json::from_str(&ok(&p, &["clues", "--json", "--as-of", "2025-12-31"])).unwrap();
        let mark = clues.as_array().unwrap().iter().find(|c| c["entity"] == "ZB-X").map(|c| c["mark"].clone());
        (run["models"][0].clone(), mark)
    };
    // a seven-day period: a clue
    let (m, mark) = land(Some(7));
    assert_eq!(m["status"], "ran", "{m}");
    assert_eq!(m["clues"].as_array().unwrap().len(), 1, "{m}");
    assert_eq!(mark, Some("new".into()));
    // the next export lacks its period: not assessed, said so, and the clue stays
    let (m, mark) = land(None);
    assert_eq!(m["status"], "partial", "{m}");
    assert_eq!(m["unassessed"]["缺投标起止时间(tender.tenderPeriod)"], 1, "{m}");
    assert_eq!(m["clues"].as_array().unwrap().len(), 0, "{m}");
    assert_eq!(mark, Some("new".into()), "a process that could not be assessed is not resolved");
    let shown = ok(&p, &["run", "--as-of", "2025-12-31"]);
    assert!(shown.contains("部分未检查") && shown.contains("1 项无法判断：缺投标起止时间"), "{shown}");
    // the list of runs says so too: those runs looked only in part, the first one fully
    let runs = || -> Vec<serde_json::Value> { serde_json::from_str(&ok(&p, &["runs", "--json"])).unwrap() };
    let outcomes = |rs: &[serde_json::Value]| -> Vec<(String, u64)> {
        rs.iter().map(|r| (r["outcome"].as_str().unwrap().to_string(), r["partial"].as_u64().unwrap())).collect()
    };
    let partial = ("partial".to_string(), 1);
    assert_eq!(outcomes(&runs()), vec![partial.clone(), partial, ("ok".to_string(), 0)]);
    let table = ok(&p, &["runs"]);
    assert!(table.contains("1, 部分未检查 1") && table.contains("部分完成 partial"), "{table}");
    // assessed again, with a twenty-day period: resolved
    let (m, mark) = land(Some(20));
    assert_eq!(m["status"], "ran", "{m}");
    assert_eq!(mark, Some("resolved".into()));
    assert_eq!(outcomes(&runs())[0], ("ok".to_string(), 0));
}

/// The flags as models and as `ocds-flags` agree on a generated province's worth of processes
/// (the patterns planted at their usual rates, a few bids in another currency): every flagged
/// process, buyer, procuring entity and tenderer, with its value, and what could not be assessed.
#[tokio::test]
async fn the_models_and_ocds_flags_agree_on_a_generated_file() {
    use searchlight::runner::red_flags::MODELS;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .args(["fixtures", "ocds", "--processes", "6000", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (flags, stderr) = flags(&crate::util::repo().join("fixtures/ocds/examples/settings.ini"), &file);
    let ids: Vec<&str> = MODELS.iter().map(|(_, m)| *m).collect();
    let outcomes = run_flag_models(&file, &ids, Vec::new()).await;
    let mut flagged = 0;
    for &(code, id) in &MODELS {
        let o = outcomes.iter().find(|o| o.model == id).unwrap();
        assert!(o.status.looked(), "{id}: {:?}", o.error);
        let got = reference_shape(code, o);
        // the reference shape of this flag alone
        let mut want = serde_json::Map::new();
        for (group, entries) in flags.as_object().unwrap() {
            let mine: serde_json::Map<String, serde_json::Value> = entries
                .as_object()
                .unwrap()
                .iter()
                .filter_map(|(k, v)| v.get(code).map(|x| (k.clone(), serde_json::json!({ code: x }))))
                .collect();
            if !mine.is_empty() {
                want.insert(group.clone(), mine.into());
            }
        }
        assert_eq!(got, serde_json::Value::Object(want), "{code} ({id})");
        flagged += got.as_object().map_or(0, |g| g.len());
        // what ocds-flags could not compute, the model could not assess
        for line in stderr.lines().filter(|l| l.contains(&format!("{code} 不可计算"))) {
            let n: u64 = line.split(": ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
            if ["R024", "R035", "R058"].contains(&code) {
                assert_eq!(o.unassessed.values().sum::<u64>(), n, "{code}: {:?} vs {line}", o.unassessed);
            }
        }
    }
    assert!(flagged >= 11, "the generated file raises flags: {flagged}");
}

/// A publication without bids (tenders only) lands an empty `ocds_bids`: a flag that needs bids
/// could not look — it says so, naming the empty table — rather than report "完成, 0"; a flag
/// that needs only the processes looks.
#[test]
fn a_publication_without_bids_is_not_a_clean_one() {
    use crate::util::{TestProject, ok};
    let p = TestProject::new();
    for m in ["identical_bid_prices", "short_submission_period"] {
        let text = std::fs::read_to_string(crate::util::repo().join(format!("models/ocds/{m}.sql"))).unwrap();
        p.write(&format!("models/{m}.sql"), text);
    }
    p.write(
        "connectors/jyzx.toml",
        "location = \"data/jyzx.jsonl\"\n[format]\ntype = \"ocds\"\n[[dataset]]\nname = \"ocds_processes\"\n[[dataset]]\nname = \"ocds_bids\"\n",
    );
    p.write(
        "data/jyzx.jsonl",
        r#"{"ocid":"ZB-1","tender":{"status":"complete","tenderPeriod":{"startDate":"2025-03-01T09:00:00+08:00","endDate":"2025-03-05T09:00:00+08:00"}}}
"#,
    );
    ok(&p, &["ingest", "--as-of", "2025-12-31"]);
    // a run with a model that could not look does not end as a clean one
    let (code, out, err) = crate::util::searchlight(&p, &["run", "--as-of", "2025-12-31", "--new-ledger", "--json"]);
    assert_ne!(code, Some(0), "{err}");
    let run: serde_json::Value = serde_json::from_str(&out).unwrap();
    let model = |id: &str| run["models"].as_array().unwrap().iter().find(|m| m["model"] == id).unwrap().clone();
    let prices = model("ocds.identical_bid_prices");
    assert_eq!(prices["status"], "not_run", "{prices}");
    assert_eq!(prices["missing"], serde_json::json!(["ocds_bids(0 行)"]), "{prices}");
    let period = model("ocds.short_submission_period");
    assert_eq!(period["status"], "ran", "{period}");
    assert_eq!(period["clues"].as_array().unwrap().len(), 1, "{period}");
}
