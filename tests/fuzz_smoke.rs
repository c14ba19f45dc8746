//! A bounded smoke run of the fuzz entry points (`searchlight::fuzzing`, the bodies of the
//! `cargo fuzz` targets) on generated inputs, and the chunking property: a generated CSV landed
//! in chunks of every size gives exactly the rows, quarantine and flags of landing it whole.

use searchlight::fuzzing;

use crate::util::Gen;

/// Export-shaped inputs.
trait Exports {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str;
    fn field(&mut self) -> String;
    fn csv(&mut self) -> Vec<u8>;
    fn ndjson(&mut self) -> Vec<u8>;
    fn bytes(&mut self, n: usize) -> Vec<u8>;
}

impl Exports for Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }

    /// One field as exports write them: plain, quoted (with quotes, commas and newlines
    /// inside), with a stray quote, empty, numbers in every shape, IDs, errors, GBK text.
    fn field(&mut self) -> String {
        let atoms = [
            "张三",
            "3",
            "12.5",
            "1,234.50",
            "-",
            "",
            "是",
            "否",
            "有效",
            "2024-03-05",
            "20243",
            "45356",
            "2024年3月5日",
            "34052419800101001X",
            "34052419800101001x",
            "340524198001010013",
            "3.40524E+17",
            "370802940221002",
            "#N/A",
            "合计",
            "1E-128",
            "9.999E+307",
            "NaN",
            "５０",
            "\u{3000}",
            "é",
            "\r",
            "a\"b",
            "5\"",
            "\"",
            "1.2345678901234567e22",
        ];
        match self.next() % 6 {
            0 => {
                format!("\"{}\"", self.pick(&atoms).replace('"', "\"\"") + self.pick(&[",", "\n", "\r\n", "\"\"", ""]))
            }
            1 => format!("{}{}", self.pick(&atoms), self.pick(&atoms)),
            _ => self.pick(&atoms).to_string(),
        }
    }

    fn csv(&mut self) -> Vec<u8> {
        let mut out = String::new();
        for _ in 0..(self.next() % 12) {
            let fields: Vec<String> = (0..(self.next() % 8)).map(|_| self.field()).collect();
            out.push_str(&fields.join(","));
            out.push_str(self.pick(&["\n", "\r\n", "\n\n", "\n"]));
        }
        out.into_bytes()
    }

    fn ndjson(&mut self) -> Vec<u8> {
        let mut out = String::new();
        for _ in 0..(self.next() % 8) {
            let keys = ["序号", "姓名", "身份证号", "金额(万元)", "日期", "有效", "x"];
            let mut pairs = Vec::new();
            for _ in 0..(self.next() % 6) {
                let k = self.pick(&keys);
                let v = match self.next() % 5 {
                    0 => format!("{}", self.next() % 100_000),
                    1 => "[1,2]".to_string(),
                    2 => "{\"a\":null}".to_string(),
                    3 => "null".to_string(),
                    _ => serde_json::to_string(&self.field()).unwrap(),
                };
                pairs.push(format!("\"{k}\":{v}"));
            }
            let line = format!("{{{}}}", pairs.join(","));
            out.push_str(if self.next().is_multiple_of(7) { "{not json" } else { &line });
            out.push_str(self.pick(&["\n", "\r\n", "\n\n"]));
        }
        out.into_bytes()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn fuzz_entry_points_survive_generated_inputs() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    for _ in 0..1500 {
        let mut head = g.bytes(3);
        let csv = g.csv();
        let text = String::from_utf8_lossy(&csv).into_owned();
        fuzzing::values(text.as_bytes());
        fuzzing::values(&g.bytes(12));
        fuzzing::codes(text.as_bytes());
        fuzzing::codes(&g.bytes(20));
        fuzzing::model_header(text.as_bytes());
        head.extend_from_slice(&csv);
        fuzzing::csv(&head);
        let mut head = g.bytes(3);
        head.extend_from_slice(&g.ndjson());
        fuzzing::ndjson(&head);
    }
    for _ in 0..200 {
        let n = (g.next() % 600) as usize;
        fuzzing::xlsx(&g.bytes(n));
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend(g.bytes(n));
        fuzzing::xlsx(&zip);
    }
    // OCDS: generated processes cut at random places, and noise
    let mut ocds = Vec::new();
    searchlight::demo::ocds::write(30, 5, &mut ocds).unwrap();
    for _ in 0..300 {
        let cut = (g.next() as usize) % ocds.len();
        let mut bytes = ocds[..cut].to_vec();
        bytes.extend(g.bytes(8));
        bytes.extend_from_slice(&ocds[cut..]);
        fuzzing::ocds(&bytes);
        fuzzing::ocds(&g.bytes(40));
    }
    fuzzing::ocds(b"{\"releases\": [{\"ocid\": \"a\"}, 7, {\"ocid\": [");
    fuzzing::ocds(b"[R003.procurement_method_details]\nx = 99999999999999999999\n[R025]\npercentile = 101\n");
    // found by `cargo fuzz run xlsx`: a cell reference that overflows inside calamine
    fuzzing::xlsx(include_bytes!("data/xlsx-calamine-overflow.bin"));
    // a header the model parser must answer with an error, never a panic
    fuzzing::model_header(
        "/* searchlight\nid = \"x\"\n[params]\nn = { type = \"int\", default = 1, min = 5 }\n*/\nSELECT 1".as_bytes(),
    );
}

#[test]
fn a_csv_lands_the_same_in_chunks_of_every_size() {
    let mut g = Gen(0x2545_f491_4f6c_dd1d);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "name = \"c\"\ntitle = \"c\"\ndomain = \"test\"\ncustom = true\nlocation = \"c.csv\"\n[format]\ntype = \"csv\"\nheader_row = 2\n[columns]\nno = { from = \"序号\", type = \"int\", nullable = true }\nname = { from = \"姓名\", type = \"text\", nullable = true }\nid_no = { from = \"身份证号\", type = \"id_card\", nullable = true }\namount = { from = \"金额\", type = \"money\", nullable = true }\nday = { from = \"日期\", type = \"date\", nullable = true }\n",
    )
    .unwrap();
    let conn = searchlight::connector::load(&path, searchlight::schema::Schema::bundled()).unwrap();
    for case in 0..40 {
        let mut file = "某县\"2024\"年明细\n序号,姓名,身份证号,金额,日期\n".as_bytes().to_vec();
        file.extend(g.csv());
        let whole = fuzzing::summary(&conn.land_bytes("c.csv", &file, u64::MAX, file.len()).unwrap());
        assert!(whole.last().unwrap().starts_with("read "), "{whole:?}");
        for chunk in 1..=file.len() as u64 {
            let block = 1 + (g.next() % 50) as usize;
            let cut = fuzzing::summary(&conn.land_bytes("c.csv", &file, chunk, block).unwrap());
            assert_eq!(
                cut,
                whole,
                "case {case}, chunks of {chunk} bytes read in {block}:\n{}",
                String::from_utf8_lossy(&file)
            );
        }
    }
}
