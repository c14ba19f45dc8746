//! One redactor on every output path: ID and account numbers, generated in every form real
//! text holds them, are fed through landing, quarantine, models, model errors, the ledger's
//! workflow and the working paper, and no output shows one unmasked.

use std::process::Command;

use searchlight::codes::id_card;

use crate::util::TestProject;

use crate::util::Gen;

/// Generated IDs and account numbers.
trait Numbers {
    fn digits(&mut self, n: usize) -> String;
    fn id(&mut self, x: bool) -> String;
}

impl Numbers for Gen {
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + (self.next() % 10) as u8)).collect()
    }

    /// A valid 18-character ID; `x` asks for one whose check character is X.
    fn id(&mut self, x: bool) -> String {
        loop {
            let region = ["340524", "110101", "370802", "440305"][(self.next() % 4) as usize];
            let year = 1940 + self.next() % 60;
            let month = 1 + self.next() % 12;
            let day = 1 + self.next() % 28;
            let first17 = format!("{region}{year}{month:02}{day:02}{}", self.digits(3));
            let check = id_card::check_char(first17.as_bytes()).unwrap() as char;
            if (check == 'X') == x {
                return format!("{first17}{check}");
            }
        }
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('０' as u32 + (c as u32 - '0' as u32)).unwrap(),
            'X' => 'Ｘ',
            other => other,
        })
        .collect()
}

/// Every form an ID or account number takes in real text, with what must never be shown.
fn forms(g: &mut Gen) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for round in 0..3 {
        let id = g.id(false);
        let idx = g.id(true);
        let lower = idx.to_lowercase();
        let legacy = format!("{}{}{}", &id[..6], &id[8..14], &id[14..17]);
        let upgraded = id_card::upgrade15(&legacy).unwrap();
        let account = format!("62{}", g.digits(17));
        let spaced = format!("{} {} {}", &id[..6], &id[6..14], &id[14..]);
        let hyphens = format!("{}-{}-{}-{}", &idx[..6], &idx[6..10], &idx[10..14], &idx[14..]);
        let grouped =
            format!("{} {} {} {} {}", &account[..4], &account[4..8], &account[8..12], &account[12..16], &account[16..]);
        let letters = format!("ID{id}号");
        out.push((id.clone(), vec![id.clone()]));
        out.push((lower.clone(), vec![lower.clone(), idx.clone()]));
        out.push((legacy.clone(), vec![legacy.clone(), upgraded]));
        out.push((full_width(&id), vec![full_width(&id), id.clone()]));
        out.push((spaced.clone(), vec![spaced, id.clone()]));
        out.push((hyphens.clone(), vec![hyphens, idx.clone()]));
        out.push((letters, vec![id.clone()]));
        out.push((account.clone(), vec![account.clone()]));
        out.push((grouped.clone(), vec![grouped, account.clone()]));
        // the forms a second round of testing found in the clear (issue 20): a list number, a
        // bank's 6 and the account's 13, underscores, slashes, dots, tabs, thousands commas, a
        // letter in front
        let rest = &account[6..];
        let thousands: String = {
            let d = account.as_bytes();
            let head = d.len() % 3;
            let mut t = String::from_utf8(d[..head].to_vec()).unwrap();
            for (k, chunk) in d[head..].chunks(3).enumerate() {
                if k > 0 || head > 0 {
                    t.push(',');
                }
                t.push_str(std::str::from_utf8(chunk).unwrap());
            }
            t
        };
        for (form, hidden) in [
            (format!("1.{id} 2.{account}"), vec![id.clone(), account.clone()]),
            (format!("{} {rest}", &account[..6]), vec![rest.to_string()]),
            (format!("{}_{}_{}", &id[..6], &id[6..14], &id[14..]), vec![id[6..14].to_string()]),
            (format!("{}/{}/{}", &id[..6], &id[6..14], &id[14..]), vec![id[6..14].to_string()]),
            (format!("{}.{}.{}", &account[..4], &account[4..8], &account[8..]), vec![account[8..].to_string()]),
            (format!("{}\t{}\t{}", &id[..6], &id[6..14], &id[14..]), vec![id[6..14].to_string()]),
            (thousands, vec![account[6..12].to_string()]),
            (format!("C{}", &account[..16]), vec![account[..16].to_string()]),
        ] {
            out.push((form, hidden));
        }
        let _ = round;
    }
    out
}

fn searchlight(p: &TestProject, args: &[&str]) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_searchlight")).arg("--project").arg(p.root()).args(args).output().unwrap();
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn header(id: &str, params: &str) -> String {
    format!(
        "/* searchlight\nid = \"{id}\"\ntitle = \"测试\"\ntitle_en = \"Test\"\ndomain = \"test\"\narea = \"测试\"\nseverity = \"high\"\nowner = \"t\"\ndescription = \"测试\"\nbasis = [\"测试依据\"]\nentity = [\"id_no\"]\nunit = \"note\"\namount = \"amount\"\n{params}*/\n"
    )
}

#[test]
fn no_output_path_shows_an_id_or_account_number_unmasked() {
    let mut g = Gen(0x5eed_1d5);
    let forms = forms(&mut g);
    let p = TestProject::new();
    p.write("connectors/people.toml", "name = \"people\"\ntitle = \"人员\"\ndomain = \"test\"\ncustom = true\nmax_quarantine = 1\nkey = [\"row\"]\nlocation = \"data/people.csv\"\n[format]\ntype = \"csv\"\n[columns]\nrow = { from = \"序号\", type = \"int\" }\nid_no = { from = \"身份证号\", type = \"id_card\" }\nnote = { from = \"备注\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n");
    let mut csv = String::from("序号,身份证号,备注,金额\n");
    for (i, (form, _)) in forms.iter().enumerate() {
        // every third row does not load: its raw record goes to quarantine
        let amount = if i % 3 == 2 { "坏金额".to_string() } else { format!("{}", 100 + i) };
        csv.push_str(&format!("{i},{form},备注{form},{amount}\n"));
    }
    p.write("data/people.csv", &csv);
    p.write(
        "models/test/ids.sql",
        header("test.ids", "[params]\nwho = { type = \"text\", default = \"x\" }\n")
            + "SELECT id_no, note, amount FROM people WHERE amount > 0 AND note <> $who\n",
    );
    // a model whose error quotes a value
    p.write(
        "models/test/broken.sql",
        header("test.broken", "") + "SELECT id_no, note, CAST(note AS INT) AS amount FROM people\n",
    );

    let mut outputs = vec![searchlight(&p, &["ingest", "--dry-run", "--as-of", "2025-12-31"])];
    outputs.push(searchlight(&p, &["ingest", "--as-of", "2025-12-31"]));
    for args in [
        vec!["lake"],
        vec!["lake", "people"],
        vec!["lake", "people", "--json"],
        vec!["sql", "SELECT * FROM people"],
        vec!["sql", "SELECT * FROM people", "--json"],
        vec!["run", "--json"],
        vec!["run"],
        vec!["preview", "test.ids"],
        vec!["explain", "test.ids", "--sql", "--param", &format!("who={}", forms[0].0)],
        vec!["clues"],
        vec!["clues", "--json"],
        vec!["connector", "new", "data/people.csv", "--stdout"],
    ] {
        outputs.push(searchlight(&p, &args));
    }
    let clue = outputs[12]
        .split('"')
        .skip_while(|s| *s != "clue_id")
        .nth(2)
        .unwrap_or_else(|| panic!("a clue id in the listing: {}", outputs[12]))
        .to_string();
    let (form, _) = &forms[4];
    outputs.push(searchlight(
        &p,
        &["clue", "triage", &clue, "--to", &format!("县民政局{form}"), "--person", &format!("张三:{form}")],
    ));
    outputs
        .push(searchlight(&p, &["clue", "note", &clue, "--reason", &format!("核对身份证{form}与账号{}", forms[7].0)]));
    outputs.push(searchlight(&p, &["clue", "show", &clue]));
    outputs.push(searchlight(&p, &["clue", "show", &clue, "--json"]));
    outputs.push(searchlight(&p, &["paper", &clue]));
    let html = p.path("paper.html");
    outputs.push(searchlight(&p, &["paper", &clue, "--format", "html", "--out", html.to_str().unwrap()]));
    outputs.push(std::fs::read_to_string(&html).unwrap());

    // the outputs really carry the data (masked), so a silent empty output cannot pass
    let all = outputs.join("\n");
    assert!(all.contains("340524") || all.contains("110101") || all.contains("370802"), "{all}");
    assert!(all.contains("********"), "{all}");
    assert!(outputs[7].contains("test.broken") && outputs[7].contains("Cast"), "{}", outputs[7]);
    for (i, out) in outputs.iter().enumerate() {
        for (form, secrets) in &forms {
            for s in secrets {
                assert!(!out.contains(s.as_str()), "output {i} shows `{s}` (written as `{form}`):\n{out}");
            }
        }
    }
    // and who is granted sees them
    let shown = searchlight(&p, &["--show-ids", "sql", "SELECT id_no, note FROM people"]);
    assert!(forms.iter().any(|(_, s)| shown.contains(s[0].as_str())), "{shown}");
}

/// JSON output stays JSON: a masked number becomes a string, and only ID and account numbers
/// are masked — not an amount in 分, not an invoice number; a list number does not unmask an ID.
#[test]
fn json_output_is_valid_and_masks_only_personal_values() {
    let p = crate::util::TestProject::new();
    let (code, out, err) = crate::util::searchlight(
        &p,
        &[
            "sql",
            "SELECT 123456789012345678 AS fen, 340524194112207458 AS id_as_number, '12345678901234567890' AS invoice, '1.340524194112207458 2.6228480007159216063' AS note",
            "--json",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(v[0]["fen"], 123456789012345678u64, "{out}");
    assert_eq!(v[0]["id_as_number"], "340524********7458", "{out}");
    assert_eq!(v[0]["invoice"], "12345678901234567890", "{out}");
    assert_eq!(v[0]["note"], "1.340524********7458 2.622848*********6063", "{out}");
    assert!(!out.contains("194112207458") && !out.contains("0007159216063"), "{out}");
}

#[test]
fn usage_errors_are_masked_and_control_characters_do_not_act() {
    let p = crate::util::TestProject::new();
    for args in [
        vec!["clues", "340524194112207458"],
        vec!["run", "--as-of", "340524194112207458"],
        vec!["clues", "--due", "6228480007159216063"],
    ] {
        let (code, out, err) = crate::util::searchlight(&p, &args);
        assert_eq!(code, Some(2), "a usage error: {out}{err}");
        assert!(err.contains("error") && !err.contains("194112207458") && !err.contains("0007159216063"), "{err}");
    }
    // an ESC sequence (clear screen, retitle), a carriage return and a bidi override from data
    let (code, out, err) = crate::util::searchlight(
        &p,
        &[
            "sql",
            "SELECT concat('甲', chr(27), '[2J', chr(27), ']0;pwned', chr(7), '乙', chr(13), '丙', chr(8238), '丁') AS v",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\r') && !out.contains('\u{7}') && !out.contains('\u{202E}'),
        "{out:?}"
    );
    assert!(out.contains("甲␛[2J␛]0;pwned␇乙␍丙"), "{out}");
}

#[test]
fn every_json_output_parses_and_shows_no_id_unmasked() {
    let p = crate::util::TestProject::new();
    p.write("connectors/pay.toml", "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"data/p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nid_no = { from = \"身份证号\", type = \"text\" }\nnote = { from = \"备注\", type = \"text\" }\namount = { from = \"金额\", type = \"money\" }\n");
    // values with quotes, backslashes, a tab, an ESC and markup, beside an ID and an account
    p.write(
        "data/p.csv",
        "身份证号,备注,金额\n340524194112207458,\"说\"\"明\"\" \\ 1.6228480007159216063\t\u{1b}[2J </script>\",900\n",
    );
    p.write("models/test/m.sql", header("test.m", "") + "SELECT id_no, note, note AS unit_note, amount FROM pay\n");
    p.write("searchlight.toml", "[library]\nbundled = false\n");
    let (code, out, err) = crate::util::searchlight(&p, &["pipeline", "--as-of", "2025-12-31"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let clue = searchlight::runner::clue_id("test.m", ["340524194112207458"]);
    let (code, _, err) =
        crate::util::searchlight(&p, &["clue", "note", &clue, "--reason", "核对 340524194112207458 \"引号\""]);
    assert_eq!(code, Some(0), "{err}");
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", "--as-of", "2025-12-31", "--json"],
        vec!["clues", "--json"],
        vec!["clue", "show", &clue, "--json"],
        vec!["clue", "note", &clue, "--reason", "再核 340524194112207458", "--json"],
        vec!["runs", "--json"],
        vec!["outbox", "--json"],
        vec!["models", "--quality", "--json"],
        vec!["coverage", "--json"],
        vec!["lake", "--json"],
        vec!["lake", "pay", "--json"],
        vec!["sql", "SELECT * FROM pay", "--json"],
    ];
    for args in &commands {
        let (code, out, err) = crate::util::searchlight(&p, args);
        assert!(matches!(code, Some(0) | Some(2)), "{args:?}: {err}");
        let v: Result<serde_json::Value, _> = serde_json::from_str(&out);
        assert!(v.is_ok(), "{args:?} printed no valid JSON ({:?}): {out}", v.err());
        assert!(!out.contains("194112207458") && !out.contains("0007159216063"), "{args:?}: {out}");
    }
}
