//! The demo county (清河县): a deterministic generator of the exports that searchlight's
//! connectors read, with planted anomalies among clean look-alikes.
//!
//! `searchlight fixtures generate --seed S --scale N` writes the same county for the same seed;
//! `--scale` multiplies the population and the transaction volume (for benchmarks) while the
//! planted cases stay the same, so a model library can be checked at any size. Every planted
//! case is listed in `planted.csv` beside the exports (case id, supervision model, anomaly or
//! look-alike, entity, explanation); `fixtures/README.md` explains them.
//!
//! Pools of people are disjoint by construction (payroll staff, relief households, business
//! owners, officials and their relatives, the deceased), so the background holds no accidental
//! hit; every crossing between pools is a planted case.

mod finance;
mod land;
pub mod layout_b;
pub mod layout_c;
pub mod ocds;
pub mod people;
mod procurement;
mod programmes;
mod registry;
mod relief;
pub mod write;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use people::{Dice, Person, Registry};
use write::Table;

/// Generator settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Random seed.
    pub seed: u64,
    /// Population and volume multiplier (1 = the bundled fixtures).
    pub scale: u32,
    /// Only write these datasets (connector names); empty = all. Layout A only.
    pub only: Vec<String>,
    /// How the exports are cut.
    pub layout: Layout,
    /// The largest scale made as one batch ([`BATCH_SCALE`]; smaller in tests).
    pub batch_scale: u32,
    /// Rows of a workbook of a county made in batches after which the next batch continues in
    /// `name_002.xlsx` … ([`write::BOOK_ROWS`]; smaller in tests).
    pub book_rows: u64,
}

impl Settings {
    /// The bundled fixtures' settings in a layout.
    pub fn bundled(layout: Layout) -> Settings {
        Settings { seed: 1, scale: 1, only: Vec::new(), layout, batch_scale: BATCH_SCALE, book_rows: write::BOOK_ROWS }
    }
}

/// How the county's exports are cut: the same county, two shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Layout {
    /// `fixtures/demo/`: 31 exports, one per dataset (two workbooks hold two each).
    #[default]
    A,
    /// `fixtures/demo-b/`: 23 exports as another county hands them over — combined, other
    /// words and units, optional columns left out, other key shapes (see [`layout_b`]).
    B,
    /// `fixtures/demo-c/`: layout B with the shapes a third county's systems print — yearly
    /// wide 低保 rosters under two-row headers with a code sheet, a cadre roster with merged
    /// cells, pinyin headers, pipe-delimited GB 18030 text, 未开工 in a date column (see
    /// [`layout_c`]).
    C,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Report {
    /// Files and their data rows.
    pub files: Vec<(PathBuf, u64)>,
}

/// The date the demo exports describe (run models with `--as-of 2025-12-31`).
pub fn as_of() -> NaiveDate {
    d(2025, 12, 31)
}

pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid fixture date")
}

/// One planted case.
#[derive(Debug, Clone)]
pub struct Planted {
    /// Stable case id (`M01-A1`, `M01-L1`).
    pub case: String,
    /// Supervision model it exercises (M01…M50 of the model catalogue).
    pub model: &'static str,
    /// `anomaly` (must be flagged) or `lookalike` (must not be).
    pub kind: &'static str,
    /// Dataset(s) involved.
    pub datasets: &'static str,
    /// The entity a model reports (ID number, credit code, contract number, …).
    pub entity: String,
    /// What is planted, in Chinese.
    pub note: String,
}

/// A budget unit (预算单位).
#[derive(Debug, Clone)]
pub struct Unit {
    /// Department code.
    pub dept_code: String,
    /// Department name.
    pub dept: String,
    /// Unit name.
    pub name: String,
    /// Unit code.
    pub code: String,
    /// Credit code (category 11: organs and public institutions).
    pub uscc: String,
}

/// Shared state of one generation.
pub struct County {
    dice: Dice,
    reg: Registry,
    scale: u32,
    planted: Vec<Planted>,
    units: Vec<Unit>,
    /// Companies created after the registry was built (written with it).
    extra_firms: Vec<registry::Company>,
    /// Tables by output file (relative path) in write order.
    outputs: Vec<(String, Output)>,
    /// Keep every row of large tables (layout B is made from them) instead of streaming them.
    keep_rows: bool,
}

enum Output {
    Csv {
        table: Table,
        titles: Vec<String>,
        gbk: bool,
    },
    Ndjson(Table),
    Parquet(Table),
    Xlsx(Vec<(String, Vec<String>, Table)>),
    /// A file written whole by its layout (a workbook with merged headers, pipe-delimited text).
    Raw {
        bytes: Vec<u8>,
        rows: u64,
    },
    /// Lines of text written as made (JSON lines): each batch's are appended.
    Lines {
        bytes: Vec<u8>,
        rows: u64,
    },
}

impl County {
    fn plant(
        &mut self,
        case: &str,
        model: &'static str,
        kind: &'static str,
        datasets: &'static str,
        entity: impl Into<String>,
        note: impl Into<String>,
    ) {
        self.planted.push(Planted {
            case: case.into(),
            model,
            kind,
            datasets,
            entity: entity.into(),
            note: note.into(),
        });
    }

    fn person(&mut self, from: i32, to: i32) -> Person {
        self.reg.person(&mut self.dice, from, to)
    }

    fn person_in(&mut self, village: usize, from: NaiveDate, to: NaiveDate) -> Person {
        let born = self.dice.date(from, to);
        self.reg.person_at(&mut self.dice, village, born)
    }

    /// A table for a large export: rendered row by row unless the rows are needed again.
    fn large_table(&self, headers: &[&str]) -> Table {
        if self.keep_rows { Table::new(headers) } else { Table::streamed(headers) }
    }

    fn n(&self, base: usize) -> usize {
        base * self.scale as usize
    }

    fn csv(&mut self, file: &str, table: Table, titles: &[&str], gbk: bool) {
        self.outputs
            .push((file.into(), Output::Csv { table, titles: titles.iter().map(|s| s.to_string()).collect(), gbk }));
    }
}

const UNITS: &[(&str, &str)] = &[
    ("101", "县教育局"),
    ("102", "县卫生健康委员会"),
    ("103", "县民政局"),
    ("104", "县农业农村局"),
    ("105", "县自然资源和规划局"),
    ("106", "县交通运输局"),
    ("107", "县住房和城乡建设局"),
    ("108", "县水利局"),
    ("109", "县财政局"),
    ("110", "县人力资源和社会保障局"),
    ("111", "县市场监督管理局"),
    ("112", "县科学技术局"),
    ("113", "县人民医院"),
    ("114", "县第一中学"),
    ("115", "县城市管理局"),
    ("116", "县文化旅游体育局"),
];

fn units(place: &people::Place) -> Vec<Unit> {
    UNITS
        .iter()
        .enumerate()
        .map(|(i, (code, name))| {
            let org8 = format!("{:08}", 5_300_000 + i * 131);
            let oc = crate::codes::uscc::org_code_check(&format!("11{}{org8}0", place.code))
                .map(|c| c as char)
                .unwrap_or('0');
            let first17 = format!("11{}{org8}{oc}", place.code);
            let c = crate::codes::uscc::check_char(first17.as_bytes()).expect("charset") as char;
            Unit {
                dept_code: code.to_string(),
                dept: format!("{}{}", place.name, name.trim_start_matches('县')),
                name: format!("{}{}", place.name, name.trim_start_matches('县')),
                code: format!("{}{}", place.code, code),
                uscc: format!("{first17}{c}"),
            }
        })
        .collect()
}

/// The largest scale generated as one county. A larger scale is made in batches of at most
/// this scale, each a county of its own ([`people::Place`]) whose rows are appended to the same
/// exports before the next batch is made, so memory stays bounded by one batch at any scale.
pub const BATCH_SCALE: u32 = 40;

/// The scales of the batches a scale is made in.
fn batches(scale: u32, batch_scale: u32) -> Vec<u32> {
    let n = scale.div_ceil(batch_scale.max(1)).max(1);
    (0..n).map(|b| scale / n + u32::from(b < scale % n)).collect()
}

/// Generates the county into `out` (created if missing). Layout A writes the exports there;
/// layout B writes them under `out/exports/` (beside the hand-written connectors of
/// `fixtures/demo-b/`) and `out/planted.csv` with the entities in its key shapes.
pub fn generate(settings: &Settings, out: &Path) -> anyhow::Result<Report> {
    if settings.layout != Layout::A && !settings.only.is_empty() {
        anyhow::bail!("--only applies to layout A");
    }
    let scales = batches(settings.scale.max(1), settings.batch_scale);
    if settings.layout != Layout::A && scales.len() > 1 {
        anyhow::bail!(
            "layouts B and C are made up to --scale {}; larger counties are made in layout A",
            settings.batch_scale
        );
    }
    let mut sinks = write::Sinks::new(out, scales.len() > 1).with_book_limit(settings.book_rows);
    let wanted = |file: &str| {
        settings.only.is_empty() || settings.only.iter().any(|o| file_dataset(file).iter().any(|d| d == o))
    };
    let mut planted_rows = Table::new(&["case", "model", "kind", "datasets", "entity", "note"]);
    for (b, &scale) in scales.iter().enumerate() {
        let seed = if b == 0 { settings.seed } else { settings.seed ^ salt(&format!("batch {b}")) };
        let (outputs, planted) = county(settings, people::Place::of_batch(b as u32), seed, scale);
        for (file, output) in &outputs {
            if settings.layout == Layout::A && !wanted(file) {
                continue;
            }
            match output {
                Output::Csv { table, titles, gbk } => {
                    sinks.csv(file, table, &titles.iter().map(String::as_str).collect::<Vec<_>>(), *gbk)?
                }
                Output::Ndjson(t) => sinks.ndjson(file, t)?,
                Output::Raw { bytes, rows } => sinks.raw(file, bytes, *rows)?,
                Output::Lines { bytes, rows } => sinks.lines(file, bytes, *rows)?,
                Output::Parquet(t) => sinks.parquet(file, t)?,
                Output::Xlsx(sheets) => {
                    let s: Vec<write::Sheet> = sheets
                        .iter()
                        .map(|(name, titles, table)| write::Sheet { name: name.clone(), titles: titles.clone(), table })
                        .collect();
                    sinks.xlsx(file, &s)?
                }
            }
        }
        for p in &planted {
            planted_rows.push(vec![
                p.case.clone().into(),
                p.model.into(),
                p.kind.into(),
                p.datasets.into(),
                p.entity.clone().into(),
                p.note.clone().into(),
            ]);
        }
    }
    let mut report = Report { files: sinks.finish()? };
    if settings.only.is_empty() {
        let path = out.join("planted.csv");
        report.files.push((path.clone(), write::csv(&path, &planted_rows, &[], false)?));
    }
    Ok(report)
}

fn salt(text: &str) -> u64 {
    u64::from_le_bytes(blake3::hash(text.as_bytes()).as_bytes()[..8].try_into().expect("8 bytes"))
}

/// One county (one batch): its outputs in the layout's shapes, and its planted cases.
fn county(settings: &Settings, place: people::Place, seed: u64, scale: u32) -> (Vec<(String, Output)>, Vec<Planted>) {
    let mut c = County {
        dice: Dice::new(seed),
        units: units(&place),
        reg: Registry::of(place),
        scale: scale.max(1),
        planted: Vec::new(),
        extra_firms: Vec::new(),
        outputs: Vec::new(),
        keep_rows: settings.layout != Layout::A,
    };
    // The people and their crossings come first; then every domain draws from its own random
    // stream, so leaving a domain out (`--only`) does not change the others.
    let needs = |folder: &str| {
        settings.only.is_empty()
            || FILES.iter().any(|(f, d)| f.starts_with(folder) && settings.only.iter().any(|o| o == d))
    };
    let mut reg = registry::build(&mut c);
    type Build = fn(&mut County, &registry::Pop);
    let domains: [(&str, Build); 5] = [
        ("relief/", relief::build),
        ("finance/", finance::build),
        ("procurement/", procurement::build),
        ("land/", land::build),
        ("programmes/", programmes::build),
    ];
    for (folder, build) in domains {
        c.dice = Dice::new(seed ^ salt(folder));
        if needs(folder) {
            build(&mut c, &reg);
        }
    }
    reg.companies.append(&mut c.extra_firms);
    if needs("registry/") {
        registry::write(&mut c, &reg);
    }
    match settings.layout {
        Layout::A => (std::mem::take(&mut c.outputs), c.planted.clone()),
        Layout::B => (layout_b::reshape(&c.outputs), layout_b::planted(&c.planted)),
        Layout::C => (layout_c::reshape(layout_b::reshape(&c.outputs)), layout_b::planted(&c.planted)),
    }
}

/// The datasets (connector names) a generated file feeds; `--only` filters on these.
fn file_dataset(file: &str) -> Vec<&'static str> {
    FILES.iter().filter(|(f, _)| *f == file).map(|(_, d)| *d).collect()
}

/// Generated files and the connectors that read them.
pub const FILES: &[(&str, &str)] = &[
    ("finance/国库集中支付明细.csv", "treasury_payments"),
    ("finance/会计凭证.csv", "vouchers"),
    ("finance/预算指标.xlsx", "budget_allocations"),
    ("finance/报销单据.ndjson", "reimbursements"),
    ("procurement/交易项目标段.ndjson", "procurement_lots"),
    ("procurement/投标记录.ndjson", "bids"),
    ("procurement/合同台账.csv", "contracts"),
    ("procurement/供应商库.csv", "suppliers"),
    ("procurement/公共资源交易公开数据.jsonl", "ocds"),
    ("land/土地出让合同.xlsx", "land_grants"),
    ("land/土地出让合同.xlsx", "land_instalments"),
    ("land/土地出让金缴款.csv", "land_payments"),
    ("land/施工许可.csv", "construction_permits"),
    ("land/卫片图斑.csv", "satellite_parcels"),
    ("land/用地审批.csv", "land_approvals"),
    ("relief/低保家庭.xlsx", "relief_households"),
    ("relief/低保家庭.xlsx", "relief_members"),
    ("relief/低保发放明细.xlsx", "relief_payments"),
    ("relief/惠民惠农一卡通发放.csv", "subsidy_payments"),
    ("registry/财政供养人员.csv", "payroll"),
    ("registry/死亡人口.parquet", "deaths"),
    ("registry/机动车登记.csv", "vehicles"),
    ("registry/市场主体.parquet", "enterprises"),
    ("registry/股东出资.parquet", "shareholders"),
    ("registry/主要人员.parquet", "key_persons"),
    ("registry/干部及近亲属.xlsx", "officials"),
    ("registry/干部及近亲属.xlsx", "official_relatives"),
    ("registry/近亲属享受救助备案.csv", "kin_filings"),
    ("registry/被巡察单位名录.csv", "units"),
    ("programmes/招商协议.xlsx", "investment_agreements"),
    ("programmes/奖补兑现.csv", "incentive_payments"),
    ("programmes/企业纳税.csv", "tax_payments"),
    ("programmes/科研项目.csv", "research_projects"),
    ("programmes/项目组成员.csv", "research_members"),
    ("programmes/科研经费支出.xlsx", "research_expenses"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_county() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let s = Settings { seed: 3, ..Settings::bundled(Layout::A) };
        generate(&s, a.path()).unwrap();
        generate(&s, b.path()).unwrap();
        for (f, _) in FILES.iter().take(3).chain(FILES.iter().skip(17).take(2)) {
            assert_eq!(std::fs::read(a.path().join(f)).unwrap(), std::fs::read(b.path().join(f)).unwrap(), "{f}");
        }
    }
}
