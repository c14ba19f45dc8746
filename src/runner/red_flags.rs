//! The Open Contracting red flags (R003 … R058) over a stream of OCDS processes, as the
//! reference implementation (OCDS Cardinal) defines them — definitions, defaults, settings and
//! exclusions in `docs/ocds.md`. Quartiles are Hyndman–Fan type 8 and fences are 1.5×IQR over the
//! whole input, by [`crate::engine::udf::quantile::quantile`], the one quantile of the library.
//!
//! One pass folds every process into per-flag state ([`Flags::add`]); [`Flags::finish`] then
//! sets the fences and returns the flagged contracting processes, buyers, procuring entities and
//! tenderers ([`Results`]), and per flag how many processes could not be assessed and why
//! ([`Results::not_computable`]) — a flag that found nothing because the data lacks what it needs
//! says so.
//!
//! Settings are the reference tool's INI format ([`Settings::parse`]), so analysts bring theirs.

use std::collections::{BTreeMap, HashMap, HashSet};

use indexmap::IndexMap;

use crate::connector::ocds::{Award, Bid, Release, Tender};
use crate::engine::udf::quantile::{fence, quantile};

/// The flags, in order.
pub const CODES: [&str; 11] = ["R003", "R018", "R024", "R025", "R028", "R030", "R035", "R036", "R038", "R048", "R058"];

/// What a flag is about, in the reference tool's output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// A contracting process (`ocid`).
    Ocid,
    /// A buyer (`buyer.id`).
    Buyer,
    /// A procuring entity (`tender.procuringEntity.id`).
    ProcuringEntity,
    /// A tenderer or supplier.
    Tenderer,
}

impl Group {
    /// Its name in the results.
    pub fn name(self) -> &'static str {
        match self {
            Group::Ocid => "OCID",
            Group::Buyer => "Buyer",
            Group::ProcuringEntity => "ProcuringEntity",
            Group::Tenderer => "Tenderer",
        }
    }
}

/// The settings of a run: which flags, and their parameters.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The main currency (default: the first one seen).
    pub currency: Option<String>,
    /// `procurementMethodDetails` values without price comparison (R024, R028, R036, R058 skip them).
    pub no_price_comparison: HashSet<String>,
    /// `procurementMethodDetails` values with price comparison (when set, only these).
    pub price_comparison: HashSet<String>,
    /// `procurementMethodDetails` values excluded from every flag.
    pub excluded_details: HashSet<String>,
    /// R003: threshold in days (15), methods (all), per-details thresholds.
    pub r003: Option<(i64, HashSet<String>, HashMap<String, i64>)>,
    /// R018: the competitive methods (`open|selective`).
    pub r018: Option<HashSet<String>>,
    /// R024: a fixed lower fence instead of Q1 − 1.5·IQR.
    pub r024: Option<Option<f64>>,
    /// R025: the percentile of processes bid in (75) and a fixed lower fence.
    pub r025: Option<(f64, Option<f64>)>,
    /// R028 on.
    pub r028: bool,
    /// R030 on.
    pub r030: bool,
    /// R035: tenderers disqualified at least (1).
    pub r035: Option<usize>,
    /// R036 on.
    pub r036: bool,
    /// R038: a fixed upper fence, minimum submitted bids (tenderers, 2) and the minimum for
    /// buyers and procuring entities (2).
    pub r038: Option<(Option<f64>, usize, usize)>,
    /// R048: classification digits (2), a fixed upper fence, minimum processes (20).
    pub r048: Option<(usize, Option<f64>, usize)>,
    /// R058: a fixed upper fence instead of Q3 + 1.5·IQR.
    pub r058: Option<Option<f64>>,
}

fn pipes(v: &str) -> HashSet<String> {
    v.split_terminator('|').map(str::to_string).collect()
}

/// The sections of the reference tool's settings for its `prepare` command: accepted, not used.
const PREPARE_SECTIONS: [&str; 4] = ["defaults", "redactions", "corrections", "modifications"];

impl Settings {
    /// Every flag with its defaults.
    pub fn all() -> Settings {
        Settings::parse(&CODES.iter().map(|c| format!("[{c}]\n")).collect::<String>()).expect("defaults parse")
    }

    /// Parses the reference tool's INI settings: `key = value` lines under `[R003]` …
    /// `[R003.procurement_method_details]`, `[exclusions]`, top-level `currency` and the price
    /// comparison lists; `;` and `#` start comments. A flag runs when its section is present. An
    /// unknown section or key, or a value that is not a number where one is needed, is an error
    /// naming its line.
    pub fn parse(text: &str) -> Result<Settings, String> {
        let mut s = Settings::default();
        let mut section = String::new();
        let mut r003 = (15i64, HashSet::new(), HashMap::new());
        let mut r025 = (75.0, None);
        let mut r035 = 1usize;
        let mut r038 = (None, 2usize, 2usize);
        let mut r048 = (2usize, None, 20usize);
        let (mut r018, mut r024, mut r058) = (pipes("open|selective"), None, None);
        let mut on: HashSet<String> = HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let at = i + 1;
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                let known = CODES.contains(&section.as_str())
                    || section == "R003.procurement_method_details"
                    || section == "exclusions"
                    || section == "R044"
                    || section == "R055"
                    || PREPARE_SECTIONS.contains(&section.as_str())
                    || section.starts_with("codelists.");
                if !known {
                    return Err(format!("line {at}: unknown section [{section}] (the flags are {})", CODES.join(", ")));
                }
                if CODES.contains(&section.as_str()) {
                    on.insert(section.clone());
                }
                if section == "R003.procurement_method_details" {
                    on.insert("R003".into());
                }
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("line {at}: `{line}` is neither `[section]` nor `key = value`"));
            };
            let (key, value) = (key.trim(), value.trim());
            let float = |v: &str| v.parse::<f64>().map_err(|_| format!("line {at}: {key} = {v}: not a number"));
            let int = |v: &str| v.parse::<usize>().map_err(|_| format!("line {at}: {key} = {v}: not a whole number"));
            let unknown = || Err(format!("line {at}: [{section}] has no setting `{key}`"));
            match (section.as_str(), key) {
                ("", "currency") => s.currency = Some(value.to_string()),
                ("", "no_price_comparison_procurement_methods") => s.no_price_comparison = pipes(value),
                ("", "price_comparison_procurement_methods") => s.price_comparison = pipes(value),
                ("exclusions", "procurement_method_details") => s.excluded_details = pipes(value),
                ("R003", "threshold") => {
                    r003.0 = value.parse().map_err(|_| format!("line {at}: threshold = {value}: not a whole number"))?
                }
                ("R003", "procurement_methods") => r003.1 = pipes(value),
                ("R003.procurement_method_details", details) => {
                    let days =
                        value.parse().map_err(|_| format!("line {at}: {details} = {value}: not a whole number"))?;
                    r003.2.insert(details.to_string(), days);
                }
                ("R018", "procurement_methods") => r018 = pipes(value),
                ("R024", "threshold") => r024 = Some(float(value)?),
                ("R025", "percentile") => r025.0 = int(value)? as f64,
                ("R025", "threshold") => r025.1 = Some(float(value)?),
                ("R035", "threshold") => r035 = int(value)?.max(1),
                ("R038", "threshold") => r038.0 = Some(float(value)?),
                ("R038", "minimum_submitted_bids") => r038.1 = int(value)?,
                ("R038", "minimum_contracting_processes") => r038.2 = int(value)?,
                ("R048", "digits") => r048.0 = int(value)?,
                ("R048", "threshold") => r048.1 = Some(int(value)? as f64),
                ("R048", "minimum_contracting_processes") => r048.2 = int(value)?,
                ("R058", "threshold") => r058 = Some(float(value)?),
                (sec, _)
                    if PREPARE_SECTIONS.contains(&sec)
                        || sec.starts_with("codelists.")
                        || sec == "R044"
                        || sec == "R055" => {}
                _ => return unknown(),
            }
        }
        let has = |c: &str| on.contains(c);
        s.r003 = has("R003").then_some(r003);
        s.r018 = has("R018").then_some(r018);
        s.r024 = has("R024").then_some(r024);
        s.r025 = has("R025").then_some(r025);
        s.r028 = has("R028");
        s.r030 = has("R030");
        s.r035 = has("R035").then_some(r035);
        s.r036 = has("R036");
        s.r038 = has("R038").then_some(r038);
        s.r048 = has("R048").then_some(r048);
        s.r058 = has("R058").then_some(r058);
        Ok(s)
    }

    /// The flags this run computes.
    pub fn codes(&self) -> Vec<&'static str> {
        let on = [
            self.r003.is_some(),
            self.r018.is_some(),
            self.r024.is_some(),
            self.r025.is_some(),
            self.r028,
            self.r030,
            self.r035.is_some(),
            self.r036,
            self.r038.is_some(),
            self.r048.is_some(),
            self.r058.is_some(),
        ];
        CODES.iter().zip(on).filter(|(_, o)| *o).map(|(c, _)| *c).collect()
    }
}

/// The models of the library that compute the flags (`models/ocds/`), by code.
pub const MODELS: [(&str, &str); 11] = [
    ("R003", "ocds.short_submission_period"),
    ("R018", "ocds.single_bid"),
    ("R024", "ocds.close_to_winning_bid"),
    ("R025", "ocds.excessive_unsuccessful_bids"),
    ("R028", "ocds.identical_bid_prices"),
    ("R030", "ocds.late_bid_won"),
    ("R035", "ocds.all_except_winner_disqualified"),
    ("R036", "ocds.lowest_bid_disqualified"),
    ("R038", "ocds.excessive_disqualified_bids"),
    ("R048", "ocds.heterogeneous_supplier"),
    ("R058", "ocds.heavily_discounted_bid"),
];

fn joined<'a>(set: impl IntoIterator<Item = &'a String>) -> String {
    let mut v: Vec<&str> = set.into_iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join("|")
}

impl Settings {
    /// The settings as parameters of the flags' models (`models/ocds/`): (model id, parameter,
    /// value), for `run --param ID.NAME=VALUE` — so the reference tool's settings file sets the
    /// models too. A flag whose section is absent keeps its model's defaults (a model always
    /// runs); a fixed threshold is the model's `threshold`, 0 there meaning the IQR fence.
    pub fn model_params(&self) -> Vec<(&'static str, &'static str, String)> {
        let model = |code: &str| MODELS.iter().find(|(c, _)| *c == code).map(|(_, m)| *m).expect("a known code");
        let mut out = Vec::new();
        let excluded = joined(&self.excluded_details);
        for (code, m) in MODELS {
            if !excluded.is_empty() {
                out.push((m, "excluded_details", excluded.clone()));
            }
            if ["R024", "R028", "R036", "R058"].contains(&code) {
                if !self.no_price_comparison.is_empty() {
                    out.push((m, "no_price_comparison", joined(&self.no_price_comparison)));
                }
                if !self.price_comparison.is_empty() {
                    out.push((m, "price_comparison", joined(&self.price_comparison)));
                }
            }
            if let (Some(c), true) = (&self.currency, ["R024", "R036", "R058"].contains(&code)) {
                out.push((m, "currency", c.clone()));
            }
        }
        let mut set = |code: &str, name: &'static str, value: String| out.push((model(code), name, value));
        if let Some((threshold, methods, details)) = &self.r003 {
            set("R003", "threshold", threshold.to_string());
            set("R003", "procurement_methods", joined(methods));
            let mut limits: Vec<String> = details.iter().map(|(d, t)| format!("{d}={t}")).collect();
            limits.sort_unstable();
            set("R003", "details_thresholds", limits.join("|"));
        }
        if let Some(methods) = &self.r018 {
            set("R018", "procurement_methods", joined(methods));
        }
        for (code, t) in [("R024", self.r024), ("R058", self.r058)] {
            if let Some(Some(t)) = t {
                set(code, "threshold", t.to_string());
            }
        }
        if let Some((percentile, threshold)) = self.r025 {
            set("R025", "percentile", percentile.to_string());
            if let Some(t) = threshold {
                set("R025", "threshold", t.to_string());
            }
        }
        if let Some(t) = self.r035 {
            set("R035", "threshold", t.to_string());
        }
        if let Some((threshold, bids, processes)) = self.r038 {
            if let Some(t) = threshold {
                set("R038", "threshold", t.to_string());
            }
            set("R038", "minimum_submitted_bids", bids.to_string());
            set("R038", "minimum_contracting_processes", processes.to_string());
        }
        if let Some((digits, threshold, processes)) = self.r048 {
            set("R048", "digits", digits.to_string());
            if let Some(t) = threshold {
                set("R048", "threshold", t.to_string());
            }
            set("R048", "minimum_contracting_processes", processes.to_string());
        }
        out
    }
}

/// A ratio kept as its parts, so that sums are exact.
#[derive(Debug, Clone, Copy, Default)]
struct Fraction {
    num: usize,
    den: usize,
}

impl Fraction {
    fn add(&mut self, num: usize, den: usize) {
        self.num += num;
        self.den += den;
    }
    fn ratio(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// What the flags found: group → id → code → value (1 for a yes/no flag, else the measured
/// quantity; 0 for a tenderer flagged by association).
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// The flags, by group, id and code.
    pub flags: BTreeMap<Group, BTreeMap<String, BTreeMap<&'static str, f64>>>,
    /// Per flag: processes that could not be assessed, by reason.
    pub not_computable: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    /// Processes read, and excluded (cancelled, excluded details, no `ocid`).
    pub processes: u64,
    /// Processes set aside before any flag.
    pub excluded: u64,
}

impl Results {
    fn set(&mut self, group: Group, id: &str, code: &'static str, value: f64) {
        self.flags.entry(group).or_default().entry(id.to_string()).or_default().insert(code, value);
    }

    /// The results in the reference tool's JSON shape: `{"OCID": {id: {code: value}}, "Buyer":
    /// …, "ProcuringEntity": …, "Tenderer": …}`, empty groups left out.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out: IndexMap<&str, IndexMap<&str, IndexMap<&str, f64>>> = IndexMap::new();
        for (g, ids) in &self.flags {
            let m = out.entry(g.name()).or_default();
            for (id, codes) in ids {
                m.insert(id.as_str(), codes.iter().map(|(c, v)| (*c, *v)).collect());
            }
        }
        serde_json::to_value(out).expect("results serialise")
    }
}

/// The state of one pass over the processes.
pub struct Flags {
    s: Settings,
    results: Results,
    /// The main currency: the setting, or the first seen by the price flags.
    currency: Option<String>,
    /// R024 / R058: ocid → (ratio, winner, lowest other bidder).
    second_lowest: IndexMap<String, (f64, String, String)>,
    r025: HashMap<String, Fraction>,
    r038_buyer: HashMap<String, Fraction>,
    r038_entity: HashMap<String, Fraction>,
    r038_tenderer: HashMap<String, Fraction>,
    r048: HashMap<String, (usize, HashSet<String>)>,
}

/// Awards that are all final (active, cancelled, unsuccessful) — the active ones — and the bids;
/// `None` when an award is still pending or the process lacks awards or bids.
fn final_awards(r: &Release) -> Option<(Vec<&Award>, &[Bid])> {
    let awards = r.awards.0.as_ref()?;
    let details = r.bids.get()?.details.0.as_ref()?;
    let mut active = Vec::new();
    for a in awards {
        match a.status.get() {
            Some("active") => active.push(a),
            Some("cancelled" | "unsuccessful") | None => {}
            Some(_) => return None,
        }
    }
    Some((active, details))
}

/// The one supplier of the one active award, when all awards are final.
fn sole_supplier(r: &Release) -> Option<(&str, &[Bid])> {
    let (active, details) = final_awards(r)?;
    match active.as_slice() {
        [a] => match a.suppliers.items() {
            [s] => s.id.get().map(|id| (id, details)),
            _ => None,
        },
        _ => None,
    }
}

fn submitted(r: &Release) -> impl Iterator<Item = &Bid> {
    r.bids
        .get()
        .map(|b| b.details.items())
        .unwrap_or_default()
        .iter()
        .filter(|b| b.status.get().is_some_and(|s| s != "invited" && s != "withdrawn"))
}

/// A valid bid of one identified tenderer with an amount and a currency.
fn priced_single(b: &Bid) -> Option<(&str, f64, &str)> {
    let v = b.value.get()?;
    let (amount, currency) = (v.amount.f64()?, v.currency.get()?);
    match b.tenderers.items() {
        [t] if b.status.get() == Some("valid") => t.id.get().map(|id| (id, amount, currency)),
        _ => None,
    }
}

fn matches_method(tender: &Tender, set: &HashSet<String>) -> bool {
    set.is_empty() || tender.procurement_method.get().is_some_and(|m| set.contains(m))
}

/// Whether `procurementMethodDetails` passes an allow list (when set) or a deny list.
fn matches_details(r: &Release, allow: &HashSet<String>, deny: &HashSet<String>) -> bool {
    match r.tender.get().and_then(|t| t.procurement_method_details.get()) {
        Some(d) if allow.is_empty() => !deny.contains(d),
        Some(d) => allow.contains(d),
        None => allow.is_empty(),
    }
}

fn quartiles(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    (quantile(&v, 0.25, 8).unwrap_or(f64::NAN), quantile(&v, 0.75, 8).unwrap_or(f64::NAN))
}

impl Flags {
    /// A pass with these settings.
    pub fn new(s: Settings) -> Flags {
        Flags {
            currency: s.currency.clone(),
            s,
            results: Results::default(),
            second_lowest: IndexMap::new(),
            r025: HashMap::new(),
            r038_buyer: HashMap::new(),
            r038_entity: HashMap::new(),
            r038_tenderer: HashMap::new(),
            r048: HashMap::new(),
        }
    }

    fn lacks(&mut self, code: &'static str, what: &'static str) {
        *self.results.not_computable.entry(code).or_default().entry(what).or_default() += 1;
    }

    /// Whether `currency` is the main one (the first seen becomes it).
    fn main_currency(&mut self, currency: &str) -> bool {
        self.currency.get_or_insert_with(|| currency.to_string()) == currency
    }

    /// Folds one process in.
    pub fn add(&mut self, r: &Release) {
        self.results.processes += 1;
        let Some(ocid) = r.ocid.get() else {
            self.results.excluded += 1;
            return;
        };
        let cancelled = r.tender.get().is_some_and(|t| t.status.get() == Some("cancelled"));
        if cancelled || !matches_details(r, &HashSet::new(), &self.s.excluded_details) {
            self.results.excluded += 1;
            return;
        }
        let price_compared = matches_details(r, &self.s.price_comparison, &self.s.no_price_comparison);
        if self.s.r024.is_some() || self.s.r058.is_some() {
            self.second_lowest_ratio(r, ocid, price_compared);
        }
        if let Some((threshold, methods, details)) = &self.s.r003 {
            let t = r.tender.get().filter(|t| matches_method(t, methods));
            let period = t.and_then(|t| t.tender_period.get());
            let dates = period.and_then(|p| {
                let start = chrono::DateTime::parse_from_rfc3339(p.start_date.get()?).ok()?;
                let end = chrono::DateTime::parse_from_rfc3339(p.end_date.get()?).ok()?;
                Some((start, end))
            });
            match (t, dates) {
                (Some(t), Some((start, end))) => {
                    let days = (end - start).num_days();
                    let limit = t.procurement_method_details.get().and_then(|d| details.get(d)).unwrap_or(threshold);
                    if days < *limit {
                        self.results.set(Group::Ocid, ocid, "R003", 1.0);
                    }
                }
                (Some(_), None) => self.lacks("R003", "tender.tenderPeriod 起止日期 start/end dates"),
                (None, _) => {}
            }
        }
        if let Some(methods) = &self.s.r018
            && let Some(t) = r.tender.get().filter(|t| matches_method(t, methods))
        {
            match t.number_of_tenderers.0 {
                Some(_) if t.number_of_tenderers.u64() == Some(1) => {
                    self.results.set(Group::Ocid, ocid, "R018", 1.0);
                }
                Some(_) => {}
                None => self.lacks("R018", "tender.numberOfTenderers 投标人数"),
            }
        }
        if self.s.r025.is_some() {
            match sole_supplier(r) {
                Some((supplier, details)) => {
                    let tenderers: HashSet<&str> = details
                        .iter()
                        .filter(|b| b.status.get() == Some("valid"))
                        .filter_map(|b| match b.tenderers.items() {
                            [t] => t.id.get(),
                            _ => None,
                        })
                        .collect();
                    for t in tenderers {
                        self.r025.entry(t.to_string()).or_default().add(usize::from(t == supplier), 1);
                    }
                }
                None if r.bids.get().is_some() => {
                    self.lacks("R025", "一个已定的中标(单一供应商) one final award with one identified supplier")
                }
                None => {}
            }
        }
        if self.s.r028 && price_compared {
            self.identical_prices(r, ocid);
        }
        if self.s.r030 {
            self.late_bid_won(r, ocid);
        }
        if let Some(threshold) = self.s.r035 {
            self.all_but_winner_disqualified(r, ocid, threshold);
        }
        if self.s.r036 && price_compared {
            self.lowest_bid_disqualified(r, ocid);
        }
        if self.s.r038.is_some() {
            self.disqualified_share(r);
        }
        if let Some((digits, _, _)) = self.s.r048 {
            let mut seen: HashSet<&str> = HashSet::new();
            for a in r.awards.items().iter().filter(|a| a.status.get() == Some("active")) {
                let ([s], Some(items)) = (a.suppliers.items(), a.items.0.as_ref()) else { continue };
                let Some(supplier) = s.id.get() else { continue };
                for it in items {
                    let Some(code) = it.classification.get().and_then(|c| c.id.get()) else {
                        self.lacks("R048", "awards.items.classification.id 品目分类");
                        continue;
                    };
                    let (count, codes) = self.r048.entry(supplier.to_string()).or_default();
                    if seen.insert(supplier) {
                        *count += 1;
                    }
                    codes.insert(code.chars().take(digits).collect());
                }
            }
        }
    }

    fn second_lowest_ratio(&mut self, r: &Release, ocid: &str, price_compared: bool) {
        if !price_compared {
            return;
        }
        let Some((supplier, details)) = sole_supplier(r) else {
            if r.bids.get().is_some() {
                self.lacks("R024", "一个已定的中标(单一供应商) one final award with one identified supplier");
                self.lacks("R058", "一个已定的中标(单一供应商) one final award with one identified supplier");
            }
            return;
        };
        // (tenderer, lowest amount) of the winner and of the lowest other bidder
        let mut winner: Option<(&str, f64)> = None;
        let mut other: Option<(&str, f64)> = None;
        for (tenderer, amount, currency) in details.iter().filter_map(priced_single) {
            if !self.main_currency(currency) {
                continue;
            }
            let slot = if tenderer == supplier { &mut winner } else { &mut other };
            if slot.is_none_or(|(_, a)| amount < a) {
                *slot = Some((tenderer, amount));
            }
        }
        if let (Some((w, wa)), Some((o, oa))) = (winner, other)
            && oa >= wa
        {
            self.second_lowest.insert(ocid.to_string(), ((oa - wa) / wa, w.to_string(), o.to_string()));
        }
    }

    fn identical_prices(&mut self, r: &Release, ocid: &str) {
        let mut prices: HashMap<(u64, &str), HashSet<&str>> = HashMap::new();
        for b in submitted(r) {
            let Some(v) = b.value.get() else { continue };
            let (Some(amount), Some(currency)) = (v.amount.f64(), v.currency.get()) else { continue };
            if b.tenderers.0.is_none() {
                continue;
            }
            let ids: HashSet<&str> = b.tenderers.items().iter().filter_map(|t| t.id.get()).collect();
            if ids.is_empty() {
                self.lacks("R028", "bids.details.tenderers.id 投标人标识");
                continue;
            }
            let key = (if amount == 0.0 { 0 } else { amount.to_bits() }, currency);
            if let Some(earlier) = prices.get(&key)
                && *earlier != ids
            {
                self.results.set(Group::Ocid, ocid, "R028", 1.0);
                for id in ids.iter().chain(earlier.iter()) {
                    self.results.set(Group::Tenderer, id, "R028", 1.0);
                }
            }
            prices.insert(key, ids);
        }
    }

    fn late_bid_won(&mut self, r: &Release, ocid: &str) {
        let end = r.tender.get().and_then(|t| t.tender_period.get()).and_then(|p| p.end_date.get());
        let (Some(end), Some(awards), Some(details)) =
            (end, r.awards.0.as_ref(), r.bids.get().and_then(|b| b.details.0.as_ref()))
        else {
            if r.bids.get().is_some() && r.awards.0.is_some() {
                self.lacks("R030", "tender.tenderPeriod.endDate 投标截止日期");
            }
            return;
        };
        let suppliers: HashSet<&str> = awards
            .iter()
            .filter(|a| a.status.get() == Some("active"))
            .flat_map(|a| a.suppliers.items().iter().filter_map(|s| s.id.get()))
            .collect();
        for b in details.iter().filter(|b| b.status.get() == Some("valid")) {
            let Some(date) = b.date.get() else {
                self.lacks("R030", "bids.details.date 投标日期");
                continue;
            };
            if b.tenderers.0.is_none() || date <= end {
                continue;
            }
            for t in b.tenderers.items().iter().filter_map(|t| t.id.get()) {
                if suppliers.contains(t) {
                    self.results.set(Group::Ocid, ocid, "R030", 1.0);
                    self.results.set(Group::Tenderer, t, "R030", 1.0);
                }
            }
        }
    }

    fn all_but_winner_disqualified(&mut self, r: &Release, ocid: &str, threshold: usize) {
        let (mut suppliers, mut valid, mut disqualified) = (HashSet::new(), HashSet::new(), HashSet::new());
        match final_awards(r) {
            Some((active, details)) => {
                for a in active {
                    suppliers.extend(a.suppliers.items().iter().filter_map(|s| s.id.get()));
                }
                for b in details {
                    if b.tenderers.0.is_none() {
                        continue;
                    }
                    let set = match b.status.get() {
                        Some("valid") => &mut valid,
                        Some("disqualified") => &mut disqualified,
                        _ => continue,
                    };
                    set.extend(b.tenderers.items().iter().filter_map(|t| t.id.get()));
                }
            }
            None if r.bids.get().is_some() && r.awards.0.is_some() => {
                self.lacks("R035", "全部中标已定 all awards final");
            }
            None => {}
        }
        let others = disqualified.difference(&valid).count();
        if valid.len() == 1 && valid == suppliers && others >= threshold {
            self.results.set(Group::Ocid, ocid, "R035", others as f64);
            let winner = valid.iter().next().expect("one");
            self.results.set(Group::Tenderer, winner, "R035", 0.0);
        }
    }

    fn lowest_bid_disqualified(&mut self, r: &Release, ocid: &str) {
        if !r.awards.items().iter().any(|a| a.status.get() == Some("active")) {
            return;
        }
        let (mut lowest, mut lowest_disqualified, mut valid) = (None::<f64>, false, false);
        let bids: Vec<&Bid> = submitted(r).collect();
        for b in bids {
            let status = b.status.get().expect("submitted bids have a status");
            let Some(v) = b.value.get() else { continue };
            let (Some(amount), Some(currency)) = (v.amount.f64(), v.currency.get()) else { continue };
            if !self.main_currency(currency) {
                continue;
            }
            if lowest.is_none_or(|l| amount < l) {
                lowest = Some(amount);
                lowest_disqualified = status == "disqualified";
            }
            valid |= status == "valid";
        }
        if valid && lowest_disqualified {
            self.results.set(Group::Ocid, ocid, "R036", 1.0);
        }
    }

    fn disqualified_share(&mut self, r: &Release) {
        let bids: Vec<&Bid> = submitted(r).collect();
        if bids.is_empty() {
            return;
        }
        let mut disqualified = 0;
        for b in &bids {
            let d = usize::from(b.status.get() == Some("disqualified"));
            disqualified += d;
            for t in b.tenderers.items().iter().filter_map(|t| t.id.get()) {
                self.r038_tenderer.entry(t.to_string()).or_default().add(d, 1);
            }
        }
        match r.buyer.get().and_then(|b| b.id.get()) {
            Some(id) => self.r038_buyer.entry(id.to_string()).or_default().add(disqualified, bids.len()),
            None => self.lacks("R038", "buyer.id 采购人标识"),
        }
        if let Some(id) = r.tender.get().and_then(|t| t.procuring_entity.get()).and_then(|p| p.id.get()) {
            self.r038_entity.entry(id.to_string()).or_default().add(disqualified, bids.len());
        }
    }

    /// Sets the fences and returns what was flagged.
    pub fn finish(mut self) -> Results {
        if let Some(threshold) = self.s.r024 {
            let (lower, q1) = match threshold {
                Some(t) => (t, 1.0),
                None => {
                    let (q1, q3) = quartiles(self.second_lowest.values().map(|v| v.0));
                    (fence(q1, q3, 1.5, false), q1)
                }
            };
            if q1 > 0.0 && lower > 0.0 {
                for (ocid, (ratio, w, o)) in &self.second_lowest {
                    if *ratio <= lower {
                        self.results.set(Group::Ocid, ocid, "R024", *ratio);
                        self.results.set(Group::Tenderer, w, "R024", 0.0);
                        self.results.set(Group::Tenderer, o, "R024", 0.0);
                    }
                }
            }
        }
        if let Some(threshold) = self.s.r058 {
            let upper = threshold.unwrap_or_else(|| {
                let (q1, q3) = quartiles(self.second_lowest.values().map(|v| v.0));
                fence(q1, q3, 1.5, true)
            });
            if upper > 0.0 {
                for (ocid, (ratio, w, _)) in &self.second_lowest {
                    if *ratio >= upper {
                        self.results.set(Group::Ocid, ocid, "R058", *ratio);
                        self.results.set(Group::Tenderer, w, "R058", 0.0);
                    }
                }
            }
        }
        if let Some((percentile, threshold)) = self.s.r025 {
            let mut counts: Vec<f64> = self.r025.values().map(|f| f.den as f64).collect();
            counts.sort_by(f64::total_cmp);
            let many = quantile(&counts, percentile / 100.0, 8).unwrap_or(f64::NAN);
            let (lower, q1) = match threshold {
                Some(t) => (t, 1.0),
                None => {
                    let (q1, q3) = quartiles(self.r025.values().map(|f| f.ratio()));
                    (fence(q1, q3, 1.5, false), q1)
                }
            };
            if q1 > 0.0 && lower > 0.0 {
                for (id, f) in &self.r025 {
                    if f.den as f64 >= many && f.ratio() <= lower {
                        self.results.set(Group::Tenderer, id, "R025", f.ratio());
                    }
                }
            }
        }
        if let Some((threshold, min_bids, min_processes)) = self.s.r038 {
            let groups = [
                (Group::Buyer, std::mem::take(&mut self.r038_buyer), min_processes),
                (Group::ProcuringEntity, std::mem::take(&mut self.r038_entity), min_processes),
                (Group::Tenderer, std::mem::take(&mut self.r038_tenderer), min_bids),
            ];
            for (group, fractions, minimum) in groups {
                let ratios: Vec<(String, f64)> =
                    fractions.into_iter().filter(|(_, f)| f.den >= minimum).map(|(id, f)| (id, f.ratio())).collect();
                if ratios.is_empty() {
                    continue;
                }
                let upper = threshold.unwrap_or_else(|| {
                    let (q1, q3) = quartiles(ratios.iter().map(|(_, r)| *r));
                    fence(q1, q3, 1.5, true)
                });
                if upper > 0.0 {
                    for (id, ratio) in &ratios {
                        if *ratio >= upper {
                            self.results.set(group, id, "R038", *ratio);
                        }
                    }
                }
            }
        }
        if let Some((_, threshold, min_processes)) = self.s.r048 {
            let lengths: Vec<(String, f64)> = std::mem::take(&mut self.r048)
                .into_iter()
                .filter(|(_, (count, _))| *count >= min_processes)
                .map(|(id, (_, codes))| (id, codes.len() as f64))
                .collect();
            let upper = threshold.unwrap_or_else(|| {
                let (q1, q3) = quartiles(lengths.iter().map(|(_, l)| *l));
                fence(q1, q3, 1.5, true)
            });
            for (id, length) in &lengths {
                if *length >= upper {
                    self.results.set(Group::Tenderer, id, "R048", *length);
                }
            }
        }
        self.results
    }
}

/// Runs the flags of `settings` over an OCDS file (JSON lines or a package document).
pub fn run(
    input: impl std::io::BufRead,
    settings: Settings,
) -> Result<(Results, Vec<crate::connector::ocds::Skipped>), String> {
    let mut flags = Flags::new(settings);
    let mut skipped = Vec::new();
    crate::connector::ocds::read(
        input,
        &mut |_, r| {
            flags.add(&r);
            true
        },
        &mut |s| skipped.push(s),
    )?;
    Ok((flags.finish(), skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_the_reference_format_and_name_bad_lines() {
        let s = Settings::parse("currency = USD\n; comment\n[exclusions]\nprocurement_method_details = A|B\n[R003.procurement_method_details]\nx = 5\n[R025]\npercentile = 90\n").unwrap();
        assert_eq!(s.currency.as_deref(), Some("USD"));
        assert_eq!(s.excluded_details.len(), 2);
        assert_eq!(s.codes(), ["R003", "R025"]);
        assert_eq!(s.r003.as_ref().unwrap().2["x"], 5);
        assert_eq!(s.r025.unwrap().0, 90.0);
        assert!(Settings::parse("[R999]\n").unwrap_err().starts_with("line 1: unknown section"));
        assert!(Settings::parse("[R024]\n\nthreshold = abc\n").unwrap_err().starts_with("line 3:"));
        assert!(Settings::parse("[R024]\nthreshold2 = 1\n").unwrap_err().contains("no setting `threshold2`"));
        assert_eq!(Settings::all().codes().len(), 11);
    }
}
