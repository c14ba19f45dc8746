//! The pre-inspection brief (巡前情况通报) of one inspected unit and its subordinates: what the
//! data says about the unit and its people, what earlier rounds found and whether it was fixed,
//! how the unit compares with its peers, and — for every model — whether it could look at all.
//! [`build`] gathers it from the directory of units, the registries in the lake and the clue
//! ledger; [`document`] lays it out as a [`crate::doc::Document`] (Markdown, HTML, xlsx).
//!
//! Money is summed in integer 分 from the ledger to the page. A model that could not run for
//! this brief's data is reported as 未检查 with the reason, never as 0 problems.

mod document;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use serde::Serialize;

use crate::lake::Lake;
use crate::ledger::{ClueGroup, ClueSummary, Ledger, Mark, ModelQuality, ModelRun, WorkState};
use crate::model::Model;
use crate::model::labels::Labels;
use crate::paper::Paper;
use crate::runner::Runner;
use crate::units::{self, Directory, Resolution, Unit};

pub use document::document;

/// What brief to make.
#[derive(Debug, Clone)]
pub struct Request {
    /// The unit, by code or name.
    pub unit: String,
    /// Horizons (逾期) are measured from this date; runs on later data are left out.
    pub as_of: NaiveDate,
    /// Only clues found by runs on data in this period (default: every run up to `as_of`).
    pub from: Option<NaiveDate>,
    /// Top clues shown per area (each with its working paper).
    pub top: usize,
    /// The date the brief is prepared (编制日期).
    pub prepared_on: NaiveDate,
}

/// One clue of the unit.
#[derive(Debug, Clone, Serialize)]
pub struct BriefClue {
    #[serde(flatten)]
    pub clue: ClueSummary,
    pub unit_name: Option<String>,
    pub state: WorkState,
    /// Key evidence (a few labelled values of its first evidence row), for the top clues.
    pub evidence: Option<String>,
    /// Its working paper is in the brief's appendix.
    pub has_paper: bool,
}

impl BriefClue {
    /// Counted as a problem: everything but a clue dismissed in triage as a false positive.
    pub fn counts(&self) -> bool {
        self.state.status != crate::ledger::Status::Dismissed
    }
}

/// How a model's latest run went, for this brief.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Checked {
    /// It looked at everything it reads.
    Ran,
    /// It looked, without some optional inputs.
    RanWithout {
        without: Vec<String>,
    },
    /// It looked, but some routes could not (`低保资金发放明细路线缺 relief_payments.pay_date`):
    /// its count is a floor, not the number of problems.
    Partial {
        routes: Vec<String>,
    },
    /// It could not look: a core dataset was missing or its ingest failed.
    NotRun {
        reason: String,
    },
    Failed {
        error: String,
    },
    /// No recorded run of it.
    Never,
}

impl Checked {
    fn of(run: Option<&ModelRun>) -> Checked {
        match run {
            None => Checked::Never,
            Some(r) if r.not_run() => {
                Checked::NotRun { reason: r.error.clone().unwrap_or_default().trim_start_matches("not run: ").into() }
            }
            Some(r) if r.error.is_some() => Checked::Failed { error: r.error.clone().unwrap_or_default() },
            Some(r) if !r.blind.is_empty() || !r.unassessed.is_empty() => Checked::Partial {
                routes: r
                    .blind
                    .iter()
                    .map(|b| b.words())
                    .chain(crate::runner::report::unassessed_words(&r.unassessed))
                    .collect(),
            },
            Some(r) if !r.without.is_empty() => Checked::RanWithout { without: r.without.clone() },
            Some(_) => Checked::Ran,
        }
    }

    /// Whether the model looked at the data (perhaps not along every route).
    pub fn looked(&self) -> bool {
        matches!(self, Checked::Ran | Checked::RanWithout { .. } | Checked::Partial { .. })
    }

    /// Whether it looked everywhere it would look.
    pub fn looked_everywhere(&self) -> bool {
        matches!(self, Checked::Ran | Checked::RanWithout { .. })
    }

    /// In Chinese, for the page.
    pub fn label(&self) -> String {
        match self {
            Checked::Ran => "已检查".into(),
            Checked::RanWithout { without } => format!("已检查(缺可选数据 {})", without.join("、")),
            Checked::Partial { routes } => format!("部分未检查: {}", routes.join("；")),
            Checked::NotRun { reason } => format!("未检查: {}", not_run_words(reason)),
            Checked::Failed { error } => format!("未检查: 模型运行失败 ({})", first_line(error)),
            Checked::Never => "未检查: 尚无运行记录".into(),
        }
    }
}

fn first_line(s: &str) -> &str {
    let l = s.lines().next().unwrap_or_default();
    match l.char_indices().nth(80) {
        Some((i, _)) => &l[..i],
        None => l,
    }
}

/// `needs deaths, payroll.end_date` → 缺少数据 deaths、payroll.end_date.
fn not_run_words(reason: &str) -> String {
    if let Some(rest) = reason.strip_prefix("needs ") {
        format!("缺少数据 {}", rest.replace(", ", "、"))
    } else if let Some(rest) = reason.strip_prefix("ingest of ") {
        format!("{} 导入失败", rest.trim_end_matches(" failed").replace(", ", "、"))
    } else {
        reason.to_string()
    }
}

/// One model, for this unit.
#[derive(Debug, Clone, Serialize)]
pub struct ModelLine {
    pub model: String,
    pub title: String,
    pub domain: String,
    pub area: String,
    pub severity: String,
    pub checked: Checked,
    /// Clues of the unit (found in the period).
    pub clues: usize,
    /// Of them, still returned by the model's latest run.
    pub open: usize,
    pub amount_fen: i64,
    /// Some clue of it has an amount (a model without an amount column has none).
    pub has_amount: bool,
    pub quality: ModelQuality,
}

/// A leader of the unit or of a subordinate, with what the registries say about them.
#[derive(Debug, Clone, Serialize)]
pub struct Leader {
    pub unit: String,
    pub name: String,
    pub id_no: Option<String>,
    pub post: String,
    /// Roles in enterprises (法定代表人, 股东, 监事 …) with the firm.
    pub roles: Vec<String>,
    /// Close relatives on file, and how many of them have a filed assistance (备案).
    pub relatives: Option<(usize, usize)>,
}

/// One peer in the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Peer {
    pub code: String,
    pub name: String,
    pub people: Option<i64>,
    pub by_area: BTreeMap<String, usize>,
    pub total: usize,
    /// Clues per 100 people (when the directory has the head count).
    pub rate: Option<f64>,
    /// 1 = most clues (per head where known) among the peers; ties share a rank.
    pub rank: usize,
    pub is_self: bool,
    /// Well above its peers: at least twice the peers' median and at least 2 clues.
    pub stands_out: bool,
}

/// One run in the trend.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub run_id: String,
    pub as_of: String,
    pub new: usize,
    pub resolved: usize,
    pub open: usize,
}

/// A dataset snapshot the brief's figures rest on.
#[derive(Debug, Clone, Serialize)]
pub struct DataSource {
    pub dataset: String,
    pub title: String,
    pub snapshot: String,
    pub as_of: String,
    pub rows: u64,
}

/// A unit value that resolves to no unit of the directory.
#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    pub value: String,
    pub model: String,
    pub clues: usize,
    /// Several units answer to it.
    pub ambiguous: Vec<String>,
}

/// A brief, gathered.
#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    pub unit: Unit,
    pub parent: Option<Unit>,
    /// Subordinates (depth first) with their depth below the unit and their clue counts.
    pub subordinates: Vec<(Unit, usize, usize)>,
    pub leaders: Vec<Leader>,
    /// Registries the 单位概况 needed and did not find in the lake.
    pub registries_missing: Vec<String>,
    pub clues: Vec<BriefClue>,
    pub models: Vec<ModelLine>,
    pub peers: Vec<Peer>,
    pub peer_basis: &'static str,
    pub trend: Vec<TrendPoint>,
    pub data: Vec<DataSource>,
    pub unresolved: Vec<Unresolved>,
    #[serde(skip)]
    pub papers: Vec<Paper>,
    pub as_of: NaiveDate,
    pub from: Option<NaiveDate>,
    pub prepared_on: NaiveDate,
    pub masked: bool,
    pub directory_size: usize,
}

/// The clue's unit: the code the run resolved, else its value resolved against the directory
/// now (sightings recorded before the directory was landed).
fn unit_of(dir: &Directory, code: Option<&str>, value: Option<&str>, region_first: bool) -> Result<usize, Resolution> {
    if let Some(i) = code.and_then(|code| dir.index(code)) {
        return Ok(i);
    }
    match dir.resolve(value.unwrap_or_default(), region_first) {
        Resolution::Unit(i, _) => Ok(i),
        other => Err(other),
    }
}

/// The directory of the lake, or an error that says how to land one.
pub async fn directory(runner: &Runner) -> anyhow::Result<Directory> {
    let dir = runner.directory().await?;
    if dir.is_empty() {
        anyhow::bail!(
            "湖中没有被巡察单位名录 (dataset `units`): land the directory of inspected units first — a connector for it (`searchlight connector new <名录文件>` drafts one), then `searchlight ingest units`"
        );
    }
    Ok(dir)
}

/// Every clue's unit, county-wide: resolved (unit index) or not (the value and why).
pub fn resolve_all<'a>(
    dir: &Directory,
    clues: &'a [ClueSummary],
    models: &[Model],
) -> (Vec<(usize, &'a ClueSummary)>, Vec<Unresolved>) {
    let region: HashMap<&str, bool> = models.iter().map(|m| (m.id(), units::is_region_column(&m.spec.unit))).collect();
    let mut resolved = Vec::new();
    let mut missing: BTreeMap<(String, String), (usize, Vec<String>)> = BTreeMap::new();
    for c in clues {
        match unit_of(
            dir,
            c.unit_code.as_deref(),
            c.unit.as_deref(),
            region.get(c.model.as_str()).copied().unwrap_or(false),
        ) {
            Ok(i) => resolved.push((i, c)),
            Err(r) => {
                let e = missing.entry((c.unit.clone().unwrap_or_default(), c.model.clone())).or_default();
                e.0 += 1;
                if let Resolution::Ambiguous(units) = r {
                    e.1 = units.iter().map(|&u| format!("{} {}", dir.units[u].code, dir.units[u].name)).collect();
                }
            }
        }
    }
    let unresolved = missing
        .into_iter()
        .map(|((value, model), (clues, ambiguous))| Unresolved { value, model, clues, ambiguous })
        .collect();
    (resolved, unresolved)
}

fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let Some(c) = b.column_by_name(col) else { return vec![None; b.num_rows()] };
    let Ok(c) = datafusion::arrow::compute::cast(c, &datafusion::arrow::datatypes::DataType::Utf8) else {
        return vec![None; b.num_rows()];
    };
    let c = c.as_string::<i32>();
    (0..c.len()).map(|i| (c.is_valid(i) && !c.value(i).is_empty()).then(|| c.value(i).to_string())).collect()
}

/// Rows of a registry as maps of column → text (an absent dataset is an empty table).
async fn rows_of(runner: &Runner, sql: &str, cols: &[&str]) -> anyhow::Result<Vec<Vec<Option<String>>>> {
    let batches = runner.query(sql).await?;
    let mut out = Vec::new();
    for b in &batches {
        let columns: Vec<Vec<Option<String>>> = cols.iter().map(|c| strings(b, c)).collect();
        for r in 0..b.num_rows() {
            out.push(columns.iter().map(|c| c[r].clone()).collect());
        }
    }
    Ok(out)
}

/// Leaders of the units in `scope`: the officials' roster by org code or name, and the
/// directory's own principal of a unit the roster does not list; with their business roles and
/// relatives from the registries.
async fn leaders(
    runner: &Runner,
    dir: &Directory,
    scope: &[usize],
    as_of: NaiveDate,
    missing: &mut Vec<String>,
) -> anyhow::Result<Vec<Leader>> {
    let have = runner.available();
    let in_scope: HashSet<usize> = scope.iter().copied().collect();
    let mut out = Vec::new();
    if have.has("officials") {
        let rows = rows_of(
            runner,
            &format!(
                "SELECT id_no, name, org_name, org_code, position FROM officials WHERE term_end IS NULL OR term_end >= DATE '{as_of}'"
            ),
            &["id_no", "name", "org_name", "org_code", "position"],
        )
        .await?;
        for r in rows {
            let unit = r[3]
                .as_deref()
                .and_then(|c| {
                    dir.index(c).or_else(|| match dir.resolve(c, true) {
                        Resolution::Unit(i, _) => Some(i),
                        _ => None,
                    })
                })
                .or_else(|| match dir.resolve(r[2].as_deref().unwrap_or_default(), false) {
                    Resolution::Unit(i, _) => Some(i),
                    _ => None,
                });
            if let Some(u) = unit.filter(|u| in_scope.contains(u)) {
                out.push(Leader {
                    unit: dir.units[u].name.clone(),
                    name: r[1].clone().unwrap_or_default(),
                    id_no: r[0].clone(),
                    post: r[4].clone().unwrap_or_default(),
                    roles: vec![],
                    relatives: None,
                });
            }
        }
    } else {
        missing.push("officials (干部信息)".into());
    }
    for &u in scope {
        let unit = &dir.units[u];
        if let Some(name) = &unit.leader
            && !out.iter().any(|l| l.unit == unit.name && &l.name == name)
        {
            out.push(Leader {
                unit: unit.name.clone(),
                name: name.clone(),
                id_no: None,
                post: unit.leader_post.clone().unwrap_or_else(|| "主要负责人".into()),
                roles: vec![],
                relatives: None,
            });
        }
    }
    // keep the directory's order: the unit first, then its subordinates
    let order: HashMap<&str, usize> = scope.iter().enumerate().map(|(k, &u)| (dir.units[u].name.as_str(), k)).collect();
    out.sort_by_key(|l| order.get(l.unit.as_str()).copied().unwrap_or(usize::MAX));
    let ids: HashSet<String> = out.iter().filter_map(|l| l.id_no.clone()).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut roles: HashMap<String, Vec<String>> = HashMap::new();
    let mut firms: HashMap<String, String> = HashMap::new();
    if have.has("enterprises") {
        for r in rows_of(
            runner,
            "SELECT uscc, name, legal_rep_id, status FROM enterprises",
            &["uscc", "name", "legal_rep_id", "status"],
        )
        .await?
        {
            let name = r[1].clone().unwrap_or_default();
            if let Some(u) = &r[0] {
                firms.insert(u.clone(), name.clone());
            }
            if let Some(id) = r[2].as_ref().filter(|id| ids.contains(*id)) {
                let status = r[3].clone().map(|s| format!(", {s}")).unwrap_or_default();
                roles.entry(id.clone()).or_default().push(format!("{name}(法定代表人{status})"));
            }
        }
    } else {
        missing.push("enterprises (市场主体登记)".into());
    }
    if have.has("shareholders") {
        for r in rows_of(runner, "SELECT uscc, holder_id FROM shareholders", &["uscc", "holder_id"]).await? {
            if let Some(id) = r[1].as_ref().filter(|id| ids.contains(*id)) {
                let firm = r[0].as_ref().and_then(|u| firms.get(u).cloned()).or(r[0].clone()).unwrap_or_default();
                roles.entry(id.clone()).or_default().push(format!("{firm}(股东)"));
            }
        }
    } else {
        missing.push("shareholders (股东及出资)".into());
    }
    if have.has("key_persons") {
        for r in
            rows_of(runner, "SELECT uscc, person_id, position FROM key_persons", &["uscc", "person_id", "position"])
                .await?
        {
            if let Some(id) = r[1].as_ref().filter(|id| ids.contains(*id)) {
                let firm = r[0].as_ref().and_then(|u| firms.get(u).cloned()).or(r[0].clone()).unwrap_or_default();
                roles.entry(id.clone()).or_default().push(format!("{firm}({})", r[2].clone().unwrap_or_default()));
            }
        }
    } else {
        missing.push("key_persons (主要人员)".into());
    }
    let mut relatives: Option<HashMap<String, Vec<String>>> = None;
    if have.has("official_relatives") {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for r in
            rows_of(runner, "SELECT official_id, relative_id FROM official_relatives", &["official_id", "relative_id"])
                .await?
        {
            if let (Some(o), Some(rel)) = (&r[0], &r[1])
                && ids.contains(o)
            {
                m.entry(o.clone()).or_default().push(rel.clone());
            }
        }
        relatives = Some(m);
    } else {
        missing.push("official_relatives (干部近亲属)".into());
    }
    let filed: HashSet<String> = if have.has("kin_filings") {
        rows_of(runner, "SELECT id_no FROM kin_filings", &["id_no"])
            .await?
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect()
    } else {
        missing.push("kin_filings (近亲属享受救助备案)".into());
        HashSet::new()
    };
    for l in &mut out {
        let Some(id) = &l.id_no else { continue };
        let mut r = roles.get(id).cloned().unwrap_or_default();
        r.sort();
        r.dedup();
        l.roles = r;
        if let Some(m) = &relatives {
            let rel = m.get(id).cloned().unwrap_or_default();
            l.relatives = Some((rel.len(), rel.iter().filter(|r| filed.contains(*r)).count()));
        }
    }
    Ok(out)
}

/// 明显偏高: among three or more peers, at least two clues and at least twice the peers' median
/// (and above it) — in total or in one area.
fn stands_out(peers: usize, clues: usize, score: f64, median: f64) -> bool {
    peers >= 3 && clues >= 2 && score >= 2.0 * median && score > median
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The peers of unit `i` (same kind, same parent), each with its subtree's clues per area.
pub fn peers(dir: &Directory, i: usize, counted: &[(usize, &str, usize)]) -> (Vec<Peer>, &'static str) {
    let list = dir.peers(i);
    let mut top_of: HashMap<usize, usize> = HashMap::new();
    for &p in &list {
        for u in dir.subtree(p) {
            top_of.insert(u, p);
        }
    }
    let mut peers: Vec<Peer> = list
        .iter()
        .map(|&p| Peer {
            code: dir.units[p].code.clone(),
            name: dir.units[p].name.clone(),
            people: dir.units[p].people.filter(|&n| n > 0),
            by_area: BTreeMap::new(),
            total: 0,
            rate: None,
            rank: 0,
            is_self: p == i,
            stands_out: false,
        })
        .collect();
    let index: HashMap<usize, usize> = list.iter().enumerate().map(|(k, &p)| (p, k)).collect();
    for &(u, area, n) in counted {
        if let Some(p) = top_of.get(&u) {
            let peer = &mut peers[index[p]];
            *peer.by_area.entry(area.to_string()).or_default() += n;
            peer.total += n;
        }
    }
    let per_head = peers.iter().all(|p| p.people.is_some());
    for p in &mut peers {
        if per_head {
            p.rate = p.people.map(|n| p.total as f64 * 100.0 / n as f64);
        }
    }
    let score = |p: &Peer| p.rate.unwrap_or(p.total as f64);
    let scores: Vec<f64> = peers.iter().map(score).collect();
    for k in 0..peers.len() {
        peers[k].rank = 1 + scores.iter().filter(|&&s| s > scores[k]).count();
    }
    let m = median(scores.clone());
    let n = peers.len();
    for (k, p) in peers.iter_mut().enumerate() {
        p.stands_out = stands_out(n, p.total, scores[k], m);
    }
    peers.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.code.cmp(&b.code)));
    (peers, if per_head { "每百人线索数" } else { "线索数(名录未提供全部同类单位的人数)" })
}

/// Gathers the brief of one unit.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    req: &Request,
    ledger: &Ledger,
    lake: &Lake,
    runner: &Runner,
    models: &[Model],
    labels: &Labels,
    redactor: crate::redact::Redactor,
) -> anyhow::Result<Brief> {
    let dir = directory(runner).await?;
    let i = dir.find(&req.unit).map_err(|candidates| {
        if candidates.is_empty() {
            anyhow::anyhow!(
                "名录中没有单位「{}」 (no unit matches; `searchlight check --units` lists the directory's faults)",
                req.unit
            )
        } else {
            let list: Vec<String> = candidates
                .iter()
                .map(|&c| {
                    let u = &dir.units[c];
                    let parent = dir.parent_of(c).map(|p| format!(", 上级 {}", dir.units[p].name)).unwrap_or_default();
                    format!("  {} {} ({}{parent})", u.code, u.name, u.kind)
                })
                .collect();
            anyhow::anyhow!("「{}」对应多个单位, 请用单位编码指定 (ambiguous unit):\n{}", req.unit, list.join("\n"))
        }
    })?;
    let scope = dir.subtree(i);
    let in_scope: HashSet<usize> = scope.iter().copied().collect();
    let to = req.as_of.to_string();
    let from = req.from.map(|d| d.to_string());
    let region: HashMap<&str, bool> = models.iter().map(|m| (m.id(), units::is_region_column(&m.spec.unit))).collect();
    let resolve = |code: Option<&str>, value: Option<&str>, model: &str| {
        unit_of(&dir, code, value, region.get(model).copied().unwrap_or(false))
    };
    // County-wide the brief needs only counts (peers, unplaced values); in detail only the
    // clues of this unit. A brief of now reads both from the kept state; one of a period or an
    // earlier date from the history, grouped here.
    let current = req.from.is_none() && ledger.current_as_of(&to)?;
    let (groups, history) = if current {
        (ledger.current_groups(|code| dir.index(code).is_some())?, None)
    } else {
        let summaries = ledger.clue_summaries(from.as_deref(), Some(&to))?;
        let ids: Vec<&str> = summaries.iter().filter(|c| c.in_period).map(|c| c.clue_id.as_str()).collect();
        let states = ledger.work_states(&ids, req.as_of)?;
        let mut groups: BTreeMap<ClueGroup, usize> = BTreeMap::new();
        for c in &summaries {
            let dismissed = states.get(&c.clue_id).is_some_and(|s| s.status == crate::ledger::Status::Dismissed);
            let g = ClueGroup {
                unit_code: c.unit_code.clone(),
                unit: c.unit.clone(),
                model: c.model.clone(),
                area: c.area.clone(),
                in_period: c.in_period,
                dismissed,
                n: 0,
            };
            *groups.entry(g).or_default() += 1;
        }
        (groups.into_iter().map(|(g, n)| ClueGroup { n, ..g }).collect(), Some(summaries))
    };
    let mut counted: Vec<(usize, &str, usize)> = Vec::new();
    let mut missing: BTreeMap<(String, String), (usize, Vec<String>)> = BTreeMap::new();
    let (mut codes, mut values): (BTreeSet<&str>, BTreeSet<&str>) = Default::default();
    for g in &groups {
        match resolve(g.unit_code.as_deref(), g.unit.as_deref(), &g.model) {
            Ok(u) => {
                // a clue dismissed in triage as a false positive is no problem: listed, not counted
                if g.in_period && !g.dismissed {
                    counted.push((u, &g.area, g.n));
                }
                if g.in_period && in_scope.contains(&u) {
                    g.unit_code.as_deref().map(|c| codes.insert(c));
                    g.unit.as_deref().map(|v| values.insert(v));
                }
            }
            Err(r) => {
                let e = missing.entry((g.unit.clone().unwrap_or_default(), g.model.clone())).or_default();
                e.0 += g.n;
                if let Resolution::Ambiguous(units) = r {
                    e.1 = units.iter().map(|&u| format!("{} {}", dir.units[u].code, dir.units[u].name)).collect();
                }
            }
        }
    }
    let unresolved: Vec<Unresolved> = missing
        .into_iter()
        .map(|((value, model), (clues, ambiguous))| Unresolved { value, model, clues, ambiguous })
        .collect();
    let (peers, peer_basis) = peers(&dir, i, &counted);
    let detail = match history {
        Some(all) => all,
        None => {
            let codes: Vec<&str> = codes.into_iter().collect();
            let values: Vec<&str> = values.into_iter().collect();
            ledger.current_summaries(&codes, &values)?
        }
    };
    let mine: Vec<(usize, &ClueSummary)> = detail
        .iter()
        .filter(|c| c.in_period)
        .filter_map(|c| resolve(c.unit_code.as_deref(), c.unit.as_deref(), &c.model).ok().map(|u| (u, c)))
        .filter(|(u, _)| in_scope.contains(u))
        .collect();
    let ids: Vec<&str> = mine.iter().map(|(_, c)| c.clue_id.as_str()).collect();
    let mut states = ledger.work_states(&ids, req.as_of)?;
    let mut clues = Vec::new();
    for (u, c) in &mine {
        clues.push(BriefClue {
            clue: (*c).clone(),
            unit_name: Some(dir.units[*u].name.clone()),
            state: states.remove(&c.clue_id).ok_or_else(|| anyhow::anyhow!("{}: no workflow state", c.clue_id))?,
            evidence: None,
            has_paper: false,
        });
    }
    // severity first, then the largest amounts, then the newest
    let sev = |s: &str| match s {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    };
    clues.sort_by(|a, b| {
        sev(&a.clue.severity)
            .cmp(&sev(&b.clue.severity))
            .then(b.clue.amount_fen.unwrap_or(0).cmp(&a.clue.amount_fen.unwrap_or(0)))
            .then(b.clue.first_run.cmp(&a.clue.first_run))
            .then(a.clue.clue_id.cmp(&b.clue.clue_id))
    });

    // every model: could it look, and what it found here
    let runs = ledger.latest_model_runs(Some(&to))?;
    let quality = ledger.quality_by_model()?;
    let mut ids: BTreeSet<String> = models.iter().map(|m| m.id().to_string()).collect();
    ids.extend(runs.keys().cloned());
    let mut lines: Vec<ModelLine> = ids
        .iter()
        .map(|id| -> anyhow::Result<ModelLine> {
            let m = models.iter().find(|m| m.id() == id);
            let mine: Vec<&BriefClue> = clues.iter().filter(|c| &c.clue.model == id && c.counts()).collect();
            // a model no longer in the library: as its clues were recorded
            let any = if m.is_none() { ledger.model_heading(id)? } else { None };
            let any = any.as_ref();
            Ok(ModelLine {
                model: id.clone(),
                title: m.map(|m| m.spec.title.clone()).or(any.map(|c| c.0.clone())).unwrap_or_default(),
                domain: m.map(|m| m.spec.domain.clone()).or(any.map(|c| c.1.clone())).unwrap_or_default(),
                area: m.map(|m| m.spec.area.clone()).or(any.map(|c| c.2.clone())).unwrap_or_default(),
                severity: m
                    .map(|m| m.spec.severity.name().to_string())
                    .or(any.map(|c| c.3.clone()))
                    .unwrap_or_default(),
                checked: Checked::of(runs.get(id)),
                clues: mine.len(),
                open: mine.iter().filter(|c| c.clue.mark != Mark::Resolved).count(),
                amount_fen: crate::codes::text::sum_fen(mine.iter().filter_map(|c| c.clue.amount_fen)),
                has_amount: mine.iter().any(|c| c.clue.amount_fen.is_some()),
                quality: quality
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| ModelQuality { model: id.clone(), ..Default::default() }),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    lines.sort_by(|a, b| (&a.domain, &a.area, &a.model).cmp(&(&b.domain, &b.area, &b.model)));

    // the top clues of each area, with their working papers
    let mut papers = Vec::new();
    let mut shown: BTreeMap<String, usize> = BTreeMap::new();
    for c in clues.iter_mut().filter(|c| c.counts()) {
        let n = shown.entry(c.clue.area.clone()).or_default();
        if *n >= req.top {
            continue;
        }
        *n += 1;
        match crate::paper::build(ledger, lake, models, labels, &c.clue.clue_id, req.as_of, redactor).await {
            Ok(p) => {
                c.evidence = key_evidence(&p);
                c.has_paper = true;
                papers.push(p);
            }
            Err(e) => c.evidence = Some(format!("(证据未能读取: {e})")),
        }
    }

    // trend: each run's marks for the unit's clues, in recording order; the clues open after a
    // run are those found (new or reopened) so far less those resolved so far
    let ids: Vec<&str> = clues.iter().map(|c| c.clue.clue_id.as_str()).collect();
    let counts = ledger.run_counts(&ids)?;
    let mut open = 0usize;
    let mut trend = Vec::new();
    for r in ledger.runs_until(Some(&to))? {
        let Some(c) = counts.get(&r.run_id) else {
            if req.from.is_none_or(|f| r.as_of >= f.to_string()) && open > 0 {
                trend.push(TrendPoint { run_id: r.run_id, as_of: r.as_of, new: 0, resolved: 0, open });
            }
            continue;
        };
        let n = |m: Mark| c.get(&m).copied().unwrap_or(0);
        let (new, resolved) = (n(Mark::New) + n(Mark::Reopened), n(Mark::Resolved));
        open = (open + new).saturating_sub(resolved);
        if req.from.is_none_or(|f| r.as_of >= f.to_string()) {
            trend.push(TrendPoint { run_id: r.run_id, as_of: r.as_of, new, resolved, open });
        }
    }
    // the data the figures rest on: the snapshots the models' latest runs read, the directory
    let mut snapshots: BTreeSet<(String, String)> =
        runs.values().flat_map(|r| r.snapshots.iter().map(|(d, s)| (d.clone(), s.clone()))).collect();
    if let Some(m) = lake.current("units").await? {
        snapshots.insert(("units".into(), m.snapshot.clone()));
    }
    let mut data = Vec::new();
    for (d, s) in snapshots {
        if s == "-" {
            continue;
        }
        if let Some(m) = lake.manifest(&d, &s).await? {
            data.push(DataSource { dataset: d, title: m.title, snapshot: s, as_of: m.as_of, rows: m.rows });
        }
    }

    let mut registries_missing = Vec::new();
    let leaders = leaders(runner, &dir, &scope, req.as_of, &mut registries_missing).await?;
    let count_of = |u: usize| {
        let sub: HashSet<usize> = dir.subtree(u).into_iter().collect();
        counted.iter().filter(|(x, _, _)| sub.contains(x)).map(|(_, _, n)| n).sum::<usize>()
    };
    let depth_of = |u: usize| {
        let mut d = 0;
        let mut at = u;
        while let Some(p) = dir.parent_of(at) {
            if at == i {
                break;
            }
            d += 1;
            at = p;
        }
        d
    };
    let subordinates = scope.iter().skip(1).map(|&u| (dir.units[u].clone(), depth_of(u), count_of(u))).collect();
    Ok(Brief {
        unit: dir.units[i].clone(),
        parent: dir.parent_of(i).map(|p| dir.units[p].clone()),
        subordinates,
        leaders,
        registries_missing,
        clues,
        models: lines,
        peers,
        peer_basis,
        trend,
        data,
        unresolved,
        papers,
        as_of: req.as_of,
        from: req.from,
        prepared_on: req.prepared_on,
        masked: !redactor.shows_ids(),
        directory_size: dir.units.len(),
    })
}

/// A few labelled values of a paper's first evidence row.
fn key_evidence(p: &Paper) -> Option<String> {
    let row = p.rows.first()?;
    let parts: Vec<String> =
        p.columns.iter().zip(row).filter(|(_, v)| !v.is_empty()).take(5).map(|(c, v)| format!("{c}：{v}")).collect();
    let more = if p.rows.len() > 1 { format!("(共 {} 行证据)", p.rows.len()) } else { String::new() };
    Some(format!("{}{more}", parts.join("；")))
}
