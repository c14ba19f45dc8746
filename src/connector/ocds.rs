//! Open Contracting Data Standard (OCDS) input: compiled releases, and release or record
//! packages, as JSON lines or as one document — read as a stream of typed [`Release`]s.
//!
//! The reader never builds a value tree of a whole line or package: each release is
//! deserialised straight into the few fields procurement analysis uses, and a package's
//! `releases` / `records` array is walked element by element. Fields are read leniently, the way
//! the reference red-flag implementation reads them: a field of the wrong JSON type (an `ocid`
//! that is a number, an `amount` that is text) is absent, not an error, so one odd field never
//! loses a process.

use std::fmt;
use std::io::{BufRead, Read};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string, or `None` for any other value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text(pub Option<String>);

/// A JSON number (its value, and whether it is a non-negative integer), or `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Num(pub Option<(f64, Option<u64>)>);

/// A JSON array of objects (elements that are not objects are dropped), or `None` when the value
/// is not an array.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Option<Vec<T>>);

/// A JSON object read as `T`, or `None` for any other value.
#[derive(Debug, Clone, PartialEq)]
pub struct Obj<T>(pub Option<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl Text {
    /// The string, if the value was one.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl Num {
    /// The number as a float.
    pub fn f64(&self) -> Option<f64> {
        self.0.map(|(f, _)| f)
    }
    /// The number, if it is a non-negative integer.
    pub fn u64(&self) -> Option<u64> {
        self.0.and_then(|(_, u)| u)
    }
}

impl<T> List<T> {
    /// The objects, or none.
    pub fn items(&self) -> &[T] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl<T> Obj<T> {
    /// The object, if the value was one.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// What a leniently read value makes of each kind of JSON it may meet: `None` (the default) for
/// a kind that is not its own, which then counts as absent.
trait Lenient<'de>: Sized + Default {
    fn text(_: &str) -> Option<Self> {
        None
    }
    fn number(_: f64, _: Option<u64>) -> Option<Self> {
        None
    }
    fn map<A: MapAccess<'de>>(mut a: A) -> Result<Option<Self>, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn seq<A: SeqAccess<'de>>(mut a: A) -> Result<Option<Self>, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// The one visitor of every lenient value.
struct LenientVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Lenient<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::text(v).unwrap_or_default())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::number(v as f64, Some(v)).unwrap_or_default())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::number(v as f64, u64::try_from(v).ok()).unwrap_or_default())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(T::number(v, None).unwrap_or_default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<T, A::Error> {
        Ok(T::map(a)?.unwrap_or_default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<T, A::Error> {
        Ok(T::seq(a)?.unwrap_or_default())
    }
}

macro_rules! deserialize_leniently {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(LenientVisitor(std::marker::PhantomData))
            }
        }
    )*};
}

impl Lenient<'_> for Text {
    fn text(v: &str) -> Option<Self> {
        Some(Text(Some(v.to_string())))
    }
}

impl Lenient<'_> for Num {
    fn number(f: f64, u: Option<u64>) -> Option<Self> {
        Some(Num(Some((f, u))))
    }
}

impl<'de, T: Deserialize<'de>> Lenient<'de> for Obj<T> {
    fn map<A: MapAccess<'de>>(a: A) -> Result<Option<Self>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(a)).map(|t| Some(Obj(Some(t))))
    }
}

impl<'de, T: Deserialize<'de>> Lenient<'de> for List<T> {
    fn seq<A: SeqAccess<'de>>(mut a: A) -> Result<Option<Self>, A::Error> {
        let mut out = Vec::new();
        while let Some(Obj(e)) = a.next_element::<Obj<T>>()? {
            out.extend(e);
        }
        Ok(Some(List(Some(out))))
    }
}

impl<'de> Lenient<'de> for Texts {
    fn seq<A: SeqAccess<'de>>(mut a: A) -> Result<Option<Self>, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(t)) = a.next_element::<Text>()? {
            out.extend(t);
        }
        Ok(Some(Texts(out)))
    }
}

deserialize_leniently!(Text, Num, Texts);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(std::marker::PhantomData))
    }
}

/// One contracting process: a compiled release (or a record's compiled release), the fields
/// procurement analysis reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Release {
    pub ocid: Text,
    pub tender: Obj<Tender>,
    pub bids: Obj<Bids>,
    pub awards: List<Award>,
    pub buyer: Obj<OrgRef>,
    pub parties: List<Party>,
    /// A line that is a record: its compiled release.
    #[serde(rename = "compiledRelease")]
    compiled: Option<Box<Release>>,
    /// A line that is a release package.
    releases: Option<Vec<Release>>,
    /// A line that is a record package.
    records: Option<Vec<Record>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Tender {
    pub id: Text,
    pub title: Text,
    pub status: Text,
    pub procurement_method: Text,
    pub procurement_method_details: Text,
    pub main_procurement_category: Text,
    pub tender_period: Obj<Period>,
    pub number_of_tenderers: Num,
    pub procuring_entity: Obj<OrgRef>,
    pub value: Obj<Value>,
    pub items: List<Item>,
    pub lots: List<Lot>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Period {
    pub start_date: Text,
    pub end_date: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrgRef {
    pub id: Text,
    pub name: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Value {
    pub amount: Num,
    pub currency: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Bids {
    pub details: List<Bid>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Bid {
    pub id: Text,
    pub status: Text,
    pub date: Text,
    pub value: Obj<Value>,
    pub tenderers: List<OrgRef>,
    pub related_lots: IgnoredList,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Award {
    pub id: Text,
    pub status: Text,
    pub date: Text,
    pub value: Obj<Value>,
    pub suppliers: List<OrgRef>,
    pub items: List<Item>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Item {
    pub id: Text,
    pub description: Text,
    pub classification: Obj<Classification>,
    pub quantity: Num,
    pub related_lot: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Classification {
    pub scheme: Text,
    pub id: Text,
    pub description: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Lot {
    pub id: Text,
    pub title: Text,
    pub status: Text,
    pub value: Obj<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Party {
    pub id: Text,
    pub name: Text,
    pub roles: Texts,
    pub identifier: Obj<Identifier>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Identifier {
    pub scheme: Text,
    pub id: Text,
}

/// A JSON array of strings (other elements dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Texts(pub Vec<String>);

/// A field whose value is skipped whatever it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IgnoredList;

impl<'de> Deserialize<'de> for IgnoredList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| IgnoredList)
    }
}

/// What a line or document of an OCDS file held that is not a process.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// 1-based line (JSON lines) or element number (a package document).
    pub at: u64,
    /// Why.
    pub reason: String,
}

/// What a package walk returns when `each` asks to stop.
const STOPPED: &str = "searchlight: stopped";

/// A record of a record package: its compiled release is the process.
#[derive(Debug, Clone, Deserialize)]
struct Record {
    #[serde(default, rename = "compiledRelease")]
    compiled_release: Option<Release>,
}

/// Reads every process of an OCDS file in order: JSON lines (of compiled releases, records or
/// packages), or one release or record package document (read element by element). `each`
/// gets the line (a package document: the element's number) and the process, and returns
/// whether to go on. Lines that are not JSON go to `skipped`; a document that is not JSON is an
/// error naming line and column.
pub fn read(
    mut input: impl BufRead,
    each: &mut dyn FnMut(u64, Release) -> bool,
    skipped: &mut dyn FnMut(Skipped),
) -> Result<u64, String> {
    // a package document spread over lines starts with `{` and does not end on its first line
    let buf = input.fill_buf().map_err(|e| e.to_string())?;
    let start = buf.iter().position(|b| !b.is_ascii_whitespace());
    let first_line_end = start.and_then(|s| buf[s..].iter().position(|&b| b == b'\n').map(|e| s + e));
    let multi_line_document = match (start, first_line_end) {
        (Some(s), Some(e)) => {
            let line = &buf[s..e];
            matches!(line.first(), Some(b'{') | Some(b'[')) && serde_json::from_slice::<IgnoredAny>(line).is_err()
        }
        _ => false,
    };
    if multi_line_document {
        return read_document(input, each);
    }
    let mut n = 0u64;
    let mut line = Vec::new();
    let mut at = 0u64;
    // a line may hold a whole package: sixteen times a table export's longest line (256 MiB)
    let max = crate::limits::max_line().saturating_mul(16);
    loop {
        line.clear();
        let read =
            (&mut input).take(max + 1).read_until(b'\n', &mut line).map_err(|e| format!("line {}: {e}", at + 1))?;
        if read == 0 {
            break;
        }
        at += 1;
        if line.len() as u64 > max {
            return Err(format!(
                "line {at} is longer than {} — no OCDS line is; the file is damaged or not JSON lines (SEARCHLIGHT_MAX_LINE raises the limit)",
                crate::limits::bytes_text(max)
            ));
        }
        let t = line.trim_ascii();
        if t.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Release>(t) {
            Ok(mut l) => {
                let mut go_on = true;
                if let Some(rs) = l.releases.take() {
                    for r in rs {
                        n += 1;
                        go_on &= each(at, r);
                    }
                } else if let Some(rs) = l.records.take() {
                    for r in rs {
                        if let Some(c) = r.compiled_release {
                            n += 1;
                            go_on &= each(at, c);
                        } else {
                            skipped(Skipped { at, reason: "a record without compiledRelease".into() });
                        }
                    }
                } else if let Some(c) = l.compiled.take() {
                    n += 1;
                    go_on = each(at, *c);
                } else {
                    n += 1;
                    go_on = each(at, l);
                }
                if !go_on {
                    return Ok(n);
                }
            }
            Err(e) => skipped(Skipped { at, reason: format!("not a JSON object: {e}") }),
        }
    }
    Ok(n)
}

/// A package document, its `releases` or `records` walked one element at a time.
fn read_document(input: impl BufRead, each: &mut dyn FnMut(u64, Release) -> bool) -> Result<u64, String> {
    struct Package<'a> {
        each: &'a mut dyn FnMut(u64, Release) -> bool,
        n: u64,
    }
    struct Elements<'a, 'b> {
        pkg: &'b mut Package<'a>,
        records: bool,
    }
    impl<'de> DeserializeSeed<'de> for Elements<'_, '_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Elements<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of releases or records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
            let mut at = 0u64;
            loop {
                let r = if self.records {
                    match a.next_element::<Record>()? {
                        None => break,
                        Some(r) => r.compiled_release,
                    }
                } else {
                    match a.next_element::<Release>()? {
                        None => break,
                        Some(r) => Some(r),
                    }
                };
                at += 1;
                let Some(r) = r else { continue };
                self.pkg.n += 1;
                if !(self.pkg.each)(at, r) {
                    return Err(de::Error::custom(STOPPED));
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for &mut Package<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for &mut Package<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a release package or a record package")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
            while let Some(key) = a.next_key::<String>()? {
                match key.as_str() {
                    "releases" => a.next_value_seed(Elements { pkg: self, records: false })?,
                    "records" => a.next_value_seed(Elements { pkg: self, records: true })?,
                    _ => {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }
    let mut pkg = Package { each, n: 0 };
    let mut de = serde_json::Deserializer::from_reader(input);
    match (&mut pkg).deserialize(&mut de) {
        Err(e) if e.to_string().starts_with(STOPPED) => return Ok(pkg.n),
        other => other.map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?,
    }
    de.end().map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    Ok(pkg.n)
}

/// The tables an OCDS file lands as, each a `[[dataset]]` of one connector (`type = "ocds"`):
/// the block's `each` (or its dataset name without `ocds_`) chooses the table. The headers are
/// the canonical columns of the `ocds_*` datasets.
pub const TABLES: [(&str, &[&str]); 6] = [
    (
        "processes",
        &[
            "ocid",
            "tender_id",
            "title",
            "tender_status",
            "method",
            "method_details",
            "category",
            "period_start",
            "period_end",
            "tenderers",
            "budget",
            "currency",
            "buyer_id",
            "buyer_name",
            "entity_id",
            "entity_name",
        ],
    ),
    ("lots", &["ocid", "lot_id", "title", "status", "budget", "currency"]),
    (
        "bids",
        &[
            "ocid",
            "bid_id",
            "bid_no",
            "status",
            "bid_date",
            "amount",
            "currency",
            "tenderer_no",
            "tenderer_id",
            "tenderer_name",
            "tenderers",
        ],
    ),
    (
        "awards",
        &[
            "ocid",
            "award_id",
            "award_no",
            "status",
            "award_date",
            "amount",
            "currency",
            "supplier_no",
            "supplier_id",
            "supplier_name",
            "suppliers",
        ],
    ),
    (
        "items",
        &["ocid", "award_id", "award_no", "item_no", "item_id", "description", "scheme", "classification", "quantity"],
    ),
    ("parties", &["ocid", "party_id", "name", "roles", "scheme", "identifier"]),
];

/// The first processes of `bytes` as rows of the processes table, when the file is OCDS:
/// compiled releases, records or packages whose first process has an `ocid` (what `connector
/// new` drafts a `type = "ocds"` connector from); `None` otherwise.
pub fn sniff(bytes: &[u8]) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut batch = super::source::TextBatch::new(TABLES[0].1.len(), 1);
    let mut first = None;
    let _ = read(
        bytes,
        &mut |line, r| {
            let ocds = *first.get_or_insert(r.ocid.get().is_some());
            if ocds {
                rows_of(0, &r, line, &mut batch);
            }
            ocds && batch.len() < 5
        },
        &mut |_| {},
    );
    let rows = (0..batch.len())
        .map(|r| (0..TABLES[0].1.len()).map(|c| batch.get(r, c).unwrap_or_default().to_string()).collect())
        .collect();
    first?.then(|| (TABLES[0].1.iter().map(|h| h.to_string()).collect(), rows))
}

/// The table a block lands: its `each`, or its dataset name less `ocds_`.
pub fn table_of(each: Option<&str>, dataset: &str) -> Option<usize> {
    let want = each.unwrap_or_else(|| dataset.strip_prefix("ocds_").unwrap_or(dataset));
    TABLES.iter().position(|(t, _)| *t == want)
}

fn num_text(n: &Num) -> Option<String> {
    n.0.map(|(f, u)| match u {
        Some(u) => u.to_string(),
        None => format!("{f}"),
    })
}

/// A date-time as written, its zone suffix dropped: the wall-clock time of the publisher. One
/// that is no date or date-time (`"invalid"`) counts as absent, as a field of the wrong type
/// does: the process still lands, and a flag that needs the date says it could not assess it.
fn wall_clock(t: &Text) -> Option<String> {
    let s = super::source::wall_clock(t.get()?);
    let formats = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"];
    let timed = formats.iter().any(|f| chrono::NaiveDateTime::parse_from_str(s, f).is_ok());
    (timed || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()).then(|| s.to_string())
}

/// Appends the rows of table `table` of one process to `out`, marked with its line.
pub fn rows_of(table: usize, r: &Release, line: u64, out: &mut super::source::TextBatch) {
    let ocid = r.ocid.0.clone();
    let t = |x: &Text| x.0.clone();
    let mut push = |cells: Vec<Option<String>>| out.push_row_at(line, cells.iter().map(Option::as_deref));
    let value = |v: &Obj<Value>| v.get().map(|v| (num_text(&v.amount), t(&v.currency))).unwrap_or((None, None));
    match TABLES[table].0 {
        "processes" => {
            let tender = r.tender.get();
            let get = |f: fn(&Tender) -> Option<String>| tender.and_then(f);
            let (budget, currency) = tender.map(|x| value(&x.value)).unwrap_or((None, None));
            let buyer = r.buyer.get();
            let entity = tender.and_then(|x| x.procuring_entity.get());
            push(vec![
                ocid,
                get(|x| x.id.0.clone()),
                get(|x| x.title.0.clone()),
                get(|x| x.status.0.clone()),
                get(|x| x.procurement_method.0.clone()),
                get(|x| x.procurement_method_details.0.clone()),
                get(|x| x.main_procurement_category.0.clone()),
                get(|x| x.tender_period.get().and_then(|p| wall_clock(&p.start_date))),
                get(|x| x.tender_period.get().and_then(|p| wall_clock(&p.end_date))),
                get(|x| num_text(&x.number_of_tenderers)),
                budget,
                currency,
                buyer.and_then(|b| t(&b.id)),
                buyer.and_then(|b| t(&b.name)),
                entity.and_then(|b| t(&b.id)),
                entity.and_then(|b| t(&b.name)),
            ]);
        }
        "lots" => {
            for l in r.tender.get().map(|x| x.lots.items()).unwrap_or_default() {
                let (budget, currency) = value(&l.value);
                push(vec![ocid.clone(), t(&l.id), t(&l.title), t(&l.status), budget, currency]);
            }
        }
        "bids" => {
            for (no, b) in r.bids.get().map(|x| x.details.items()).unwrap_or_default().iter().enumerate() {
                let (amount, currency) = value(&b.value);
                let base = [ocid.clone(), t(&b.id), Some((no + 1).to_string()), t(&b.status), wall_clock(&b.date)];
                each_named(&base, [amount, currency], b.tenderers.items(), &mut push);
            }
        }
        "awards" => {
            for (no, a) in r.awards.items().iter().enumerate() {
                let (amount, currency) = value(&a.value);
                let base = [ocid.clone(), t(&a.id), Some((no + 1).to_string()), t(&a.status), wall_clock(&a.date)];
                each_named(&base, [amount, currency], a.suppliers.items(), &mut push);
            }
        }
        "items" => {
            for (no, a) in r.awards.items().iter().enumerate() {
                for (item_no, i) in a.items.items().iter().enumerate() {
                    let c = i.classification.get();
                    push(vec![
                        ocid.clone(),
                        t(&a.id),
                        Some((no + 1).to_string()),
                        Some((item_no + 1).to_string()),
                        t(&i.id),
                        t(&i.description),
                        c.and_then(|c| t(&c.scheme)),
                        c.and_then(|c| t(&c.id)),
                        num_text(&i.quantity),
                    ]);
                }
            }
        }
        _ => {
            for p in r.parties.items() {
                let id = p.identifier.get();
                let roles = (!p.roles.0.is_empty()).then(|| p.roles.0.join("|"));
                push(vec![
                    ocid.clone(),
                    t(&p.id),
                    t(&p.name),
                    roles,
                    id.and_then(|i| t(&i.scheme)),
                    id.and_then(|i| t(&i.id)),
                ]);
            }
        }
    }
}

/// The rows of a bid or an award: one per organisation it names — its place in the list, id
/// and name, and how many there are — or one naming none (place 0).
fn each_named(
    base: &[Option<String>],
    value: [Option<String>; 2],
    named: &[OrgRef],
    push: &mut impl FnMut(Vec<Option<String>>),
) {
    let n = Some(named.len().to_string());
    let row = |no: usize, id: Option<String>, name: Option<String>| {
        base.iter().cloned().chain(value.iter().cloned()).chain([Some(no.to_string()), id, name, n.clone()]).collect()
    };
    if named.is_empty() {
        push(row(0, None, None));
    }
    for (i, x) in named.iter().enumerate() {
        push(row(i + 1, x.id.0.clone(), x.name.0.clone()));
    }
}

/// `type = "ocds"`: an OCDS file landed as the tables of its `[[dataset]]` blocks, a piece of
/// [`PIECE`] processes at a time.
pub(super) struct OcdsReader;

/// Processes per landed piece.
const PIECE: u64 = 20_000;

impl super::FormatReader for OcdsReader {
    /// The file is read whole (a package document cannot be cut at lines): one larger than a
    /// quarter of the memory limit is refused before a byte is read.
    fn plan_file(
        &self,
        _conn: &super::Connector,
        file: &super::SourceFile,
        _scan: Option<super::chunk::Scan>,
    ) -> super::Result<super::FileLayout> {
        let most = crate::limits::memory() / 4;
        if file.size > most {
            return Err(super::Error::Input {
                file: file.display.clone(),
                line: 0,
                message: format!(
                    "{} is more than an OCDS file may be ({}, a quarter of the memory limit): it is read whole — deliver it in several files (a glob lands them together), or raise the memory limit",
                    crate::limits::bytes_text(file.size),
                    crate::limits::bytes_text(most)
                ),
            });
        }
        Ok(super::FileLayout::default())
    }

    fn read(
        &self,
        conn: &super::Connector,
        split: &super::FileSplit,
        bytes: bytes::Bytes,
        each: &mut super::Each<'_>,
    ) -> super::Result<()> {
        use super::source::{BatchRows, TextBatch};
        let shown = split.file.file.display.clone();
        let tables: Vec<usize> =
            conn.blocks.iter().map(|b| table_of(b.each.as_deref(), &b.name).expect("checked when loaded")).collect();
        let mut mappings = Vec::new();
        for (bi, &t) in tables.iter().enumerate() {
            let headers: Vec<String> = TABLES[t].1.iter().map(|h| h.to_string()).collect();
            mappings.push(super::map_headers_of(conn, Some(bi), &headers, &shown, 1)?);
        }
        let unlandable = vec![None; conn.input_columns().count()];
        let fresh = || tables.iter().map(|&t| TextBatch::new(TABLES[t].1.len(), 1)).collect::<Vec<_>>();
        let batches = std::cell::RefCell::new(fresh());
        let mut land = |batches: Vec<TextBatch>| -> super::Result<()> {
            let rows: Vec<BatchRows> = batches
                .iter()
                .zip(&mappings)
                .map(|(batch, mapping)| BatchRows { batch, mapping, unlandable: &unlandable })
                .collect();
            each(super::Piece::per_block(rows.iter().map(|r| r as &dyn super::convert::RawRows).collect(), &shown))
        };
        let (mut n, mut failed) = (0u64, None);
        let read = read(
            &bytes[..],
            &mut |line, r| {
                for (bi, &t) in tables.iter().enumerate() {
                    rows_of(t, &r, line, &mut batches.borrow_mut()[bi]);
                }
                n += 1;
                if n % PIECE == 0
                    && let Err(e) = land(batches.replace(fresh()))
                {
                    failed = Some(e);
                    return false;
                }
                true
            },
            &mut |s| {
                // a line that is not a process is kept, as a quarantined row of the first table
                batches.borrow_mut()[0].push_defect_at(
                    s.at,
                    "bad_json",
                    format!("该行不是OCDS发布或记录: {}", s.reason),
                );
            },
        )
        .map_err(|message| super::Error::Input {
            file: shown.clone(),
            line: 0,
            message: format!("not an OCDS file: {message}"),
        });
        if let Some(e) = failed {
            return Err(e);
        }
        read?;
        land(batches.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ocids(text: &str) -> (Vec<Option<String>>, Vec<Skipped>) {
        let (mut out, mut skipped) = (Vec::new(), Vec::new());
        read(
            text.as_bytes(),
            &mut |_, r| {
                out.push(r.ocid.0);
                true
            },
            &mut |s| skipped.push(s),
        )
        .unwrap();
        (out, skipped)
    }

    #[test]
    fn lines_records_and_packages_all_give_processes() {
        let (o, s) = ocids(
            "{\"ocid\":\"a\"}\n\n{\"compiledRelease\":{\"ocid\":\"b\"}}\n{\"releases\":[{\"ocid\":\"c\"},{\"ocid\":\"d\"}]}\nnot json\n",
        );
        assert_eq!(o, [Some("a".into()), Some("b".into()), Some("c".into()), Some("d".into())]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].at, 5);
        let (o, _) = ocids(
            "{\n  \"uri\": \"x\",\n  \"records\": [\n {\"compiledRelease\": {\"ocid\": \"r1\"}},\n {\"compiledRelease\": {\"ocid\": \"r2\"}}\n ]\n}\n",
        );
        assert_eq!(o, [Some("r1".into()), Some("r2".into())]);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_absent_not_an_error() {
        let mut got = Vec::new();
        let line = r#"{"ocid":7,"tender":{"numberOfTenderers":"1","tenderPeriod":[]},"bids":{"details":[1,{"status":"valid","value":{"amount":"5"}}]},"awards":{}}"#;
        read(
            line.as_bytes(),
            &mut |_, r| {
                got.push(r);
                true
            },
            &mut |s| panic!("{s:?}"),
        )
        .unwrap();
        let r = &got[0];
        assert_eq!(r.ocid.get(), None);
        let t = r.tender.get().unwrap();
        assert_eq!(t.number_of_tenderers.f64(), None);
        assert!(t.tender_period.get().is_none());
        let bids = r.bids.get().unwrap().details.items();
        assert_eq!(bids.len(), 1);
        assert_eq!(bids[0].value.get().unwrap().amount.f64(), None);
        assert!(r.awards.0.is_none());
    }
}
