//! The directory of inspected units (被巡视巡察单位名录): the `units` dataset as a tree of
//! departments, townships, villages and state firms, and the one rule that resolves the free-text
//! `unit` value a model returns (a name, a unit code, a region code) to a unit of it. Briefs roll
//! a unit up with its subordinates; values that resolve to nothing are reported, never dropped.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use serde::Serialize;

use crate::codes::{self, text};

/// One unit of the directory.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unit {
    pub code: String,
    pub name: String,
    /// 部门/单位, 乡镇(街道), 村(社区) or 国有企业 (or the export's own word).
    pub kind: String,
    pub parent: Option<String>,
    pub region: Option<String>,
    pub uscc: Option<String>,
    pub aliases: Vec<String>,
    /// Head count: the denominator of the peer comparison.
    pub people: Option<i64>,
    pub leader: Option<String>,
    pub leader_post: Option<String>,
}

/// How a value found its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    Code,
    Region,
    Name,
}

/// What a value resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Unit(usize, How),
    /// Several units answer to the value (two villages of one name in different townships).
    Ambiguous(Vec<usize>),
    None,
}

/// The directory, indexed for resolution.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub units: Vec<Unit>,
    by_code: HashMap<String, usize>,
    by_region: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
    children: HashMap<usize, Vec<usize>>,
    parent: Vec<Option<usize>>,
}

/// The query that reads the directory from the lake (every canonical dataset is registered,
/// an absent one as an empty table).
pub const QUERY: &str = "SELECT unit_code, name, kind, parent_code, region_code, uscc, aliases, CAST(people AS BIGINT) AS people, leader, leader_post FROM units WHERE unit_code IS NOT NULL ORDER BY unit_code";

/// A name as compared: blanks removed, full-width folded, brackets made plain, and a leading
/// county or city name (清河县教育局 → 教育局, 县教育局 → 教育局) dropped.
pub fn name_key(s: &str) -> String {
    let s: String = text::clean(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    let chars: Vec<char> = s.chars().collect();
    // a place name ending in 县/市/区 within the first five characters, with at least two
    // characters after it; at the very start only 县 (县教育局): 市场监督管理局 keeps its 市
    for (i, c) in chars.iter().enumerate().take(5) {
        let place = matches!(c, '县') || (i > 0 && matches!(c, '市' | '区'));
        if place && chars.len() > i + 2 {
            return chars[i + 1..].iter().collect();
        }
    }
    s
}

impl Directory {
    /// Builds the directory from its units (in any order); a unit listed twice keeps the first.
    pub fn new(list: Vec<Unit>) -> Directory {
        let mut d = Directory::default();
        for u in list {
            if d.by_code.contains_key(&u.code) {
                continue;
            }
            d.by_code.insert(u.code.clone(), d.units.len());
            d.units.push(u);
        }
        for (i, u) in d.units.iter().enumerate() {
            for r in u.region.iter().filter_map(|r| codes::region::key(r)) {
                let e = d.by_region.entry(r).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
            for n in std::iter::once(&u.name).chain(&u.aliases) {
                let e = d.by_name.entry(name_key(n)).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
        }
        d.parent = d
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| u.parent.as_ref().and_then(|p| d.by_code.get(p).copied()).filter(|&p| p != i))
            .collect();
        for (i, p) in d.parent.iter().enumerate() {
            if let Some(p) = p {
                d.children.entry(*p).or_default().push(i);
            }
        }
        d
    }

    /// Reads the directory from the rows of [`QUERY`].
    pub fn from_batches(batches: &[RecordBatch]) -> Directory {
        let mut list = Vec::new();
        for b in batches {
            // text columns as plain strings, whichever string type the lake's scan gave them
            let text: Vec<Option<ArrayRef>> = b
                .columns()
                .iter()
                .map(|c| datafusion::arrow::compute::cast(c, &datafusion::arrow::datatypes::DataType::Utf8).ok())
                .collect();
            let s = |i: usize, r: usize| -> Option<String> {
                let c = text.get(i)?.as_ref()?.as_string_opt::<i32>()?;
                (c.is_valid(r) && !c.value(r).trim().is_empty()).then(|| c.value(r).trim().to_string())
            };
            let people = b.column(7).as_primitive_opt::<Int64Type>();
            for r in 0..b.num_rows() {
                let Some(code) = s(0, r) else { continue };
                list.push(Unit {
                    name: s(1, r).unwrap_or_else(|| code.clone()),
                    code,
                    kind: s(2, r).unwrap_or_default(),
                    parent: s(3, r),
                    region: s(4, r),
                    uscc: s(5, r),
                    aliases: s(6, r)
                        .map(|a| {
                            a.split(['；', ';', '、', ',', '，'])
                                .map(str::trim)
                                .filter(|x| !x.is_empty())
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    people: people.and_then(|p| p.is_valid(r).then(|| p.value(r))),
                    leader: s(8, r),
                    leader_post: s(9, r),
                });
            }
        }
        Directory::new(list)
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn index(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }

    pub fn parent_of(&self, i: usize) -> Option<usize> {
        self.parent.get(i).copied().flatten()
    }

    /// Resolves a model's unit value. A region code column (`region_first`) is read as a region
    /// code before a unit code, since a township's 9-digit code can equal a department's.
    pub fn resolve(&self, value: &str, region_first: bool) -> Resolution {
        let v = value.trim();
        if v.is_empty() {
            return Resolution::None;
        }
        let by_code = || self.by_code.get(v).map(|&i| Resolution::Unit(i, How::Code));
        let by_region = || {
            codes::region::key(v).and_then(|k| self.by_region.get(&k)).map(|hits| match hits.as_slice() {
                [one] => Resolution::Unit(*one, How::Region),
                many => Resolution::Ambiguous(many.to_vec()),
            })
        };
        let found = if region_first { by_region().or_else(by_code) } else { by_code().or_else(by_region) };
        if let Some(r) = found {
            return r;
        }
        self.resolve_name(v)
    }

    fn resolve_name(&self, v: &str) -> Resolution {
        let key = name_key(v);
        match self.by_name.get(&key).map(Vec::as_slice) {
            Some([one]) => return Resolution::Unit(*one, How::Name),
            Some(many) if !many.is_empty() => {
                // a township's village is often written with its township first (城关镇前进村)
                return Resolution::Ambiguous(many.to_vec());
            }
            _ => {}
        }
        // a parent's name written before the unit's own: look among that parent's subordinates
        for (i, u) in self.units.iter().enumerate() {
            let p = name_key(&u.name);
            if let Some(rest) = key.strip_prefix(p.as_str()).filter(|r| !r.is_empty()) {
                let hits: Vec<usize> = self
                    .subtree(i)
                    .into_iter()
                    .filter(|&c| c != i)
                    .filter(|&c| {
                        let c = &self.units[c];
                        std::iter::once(&c.name).chain(&c.aliases).any(|n| name_key(n) == rest)
                    })
                    .collect();
                if let [one] = hits.as_slice() {
                    return Resolution::Unit(*one, How::Name);
                }
            }
        }
        Resolution::None
    }

    /// A unit given on the command line, by code or name: the unit, or the candidates.
    pub fn find(&self, query: &str) -> Result<usize, Vec<usize>> {
        match self.resolve(query, false) {
            Resolution::Unit(i, _) => Ok(i),
            Resolution::Ambiguous(c) => Err(c),
            Resolution::None => {
                let key = name_key(query);
                if key.is_empty() {
                    return Err(Vec::new());
                }
                let c: Vec<usize> =
                    (0..self.units.len()).filter(|&i| name_key(&self.units[i].name).contains(&key)).collect();
                if let [one] = c.as_slice() { Ok(*one) } else { Err(c) }
            }
        }
    }

    /// The unit and all its subordinates, the unit first, then depth first in directory order.
    pub fn subtree(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![i];
        while let Some(u) = stack.pop() {
            if out.contains(&u) {
                continue; // a cycle in the parent codes
            }
            out.push(u);
            if let Some(c) = self.children.get(&u) {
                stack.extend(c.iter().rev());
            }
        }
        out
    }

    /// The unit's direct subordinates.
    pub fn children_of(&self, i: usize) -> &[usize] {
        self.children.get(&i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Peers: units of the same kind under the same parent, the unit itself included.
    pub fn peers(&self, i: usize) -> Vec<usize> {
        let (kind, parent) = (&self.units[i].kind, self.parent_of(i));
        (0..self.units.len()).filter(|&j| &self.units[j].kind == kind && self.parent_of(j) == parent).collect()
    }

    /// The directory's own faults: parents that are not in it, and parent cycles.
    pub fn faults(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, u) in self.units.iter().enumerate() {
            if let Some(p) = &u.parent {
                if !self.by_code.contains_key(p) {
                    out.push(format!("{} {}: 上级单位编码 {p} 不在名录中", u.code, u.name));
                } else {
                    let mut seen = vec![i];
                    let mut at = self.parent_of(i);
                    while let Some(a) = at {
                        if seen.contains(&a) {
                            out.push(format!("{} {}: 上级单位形成循环", u.code, u.name));
                            break;
                        }
                        seen.push(a);
                        at = self.parent_of(a);
                    }
                }
            }
        }
        out
    }
}

/// Whether a model's unit column holds region codes (resolved by region code first).
pub fn is_region_column(column: &str) -> bool {
    column.contains("region")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, name: &str, kind: &str, parent: Option<&str>, region: Option<&str>) -> Unit {
        Unit {
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            parent: parent.map(Into::into),
            region: region.map(Into::into),
            uscc: None,
            aliases: vec![],
            people: None,
            leader: None,
            leader_post: None,
        }
    }

    fn county() -> Directory {
        Directory::new(vec![
            unit("340524101", "清河县教育局", "部门/单位", None, Some("340524")),
            unit("340524111", "清河县市场监督管理局", "部门/单位", None, Some("340524")),
            unit("340524100000", "城关镇", "乡镇(街道)", None, Some("340524100000")),
            unit("340524101000", "河口镇", "乡镇(街道)", None, Some("340524101000")),
            unit("340524100201", "前进村", "村(社区)", Some("340524100000"), Some("340524100201")),
            unit("340524101201", "前进村", "村(社区)", Some("340524101000"), Some("340524101201")),
            unit("340524101202", "和平社区", "村(社区)", Some("340524101000"), Some("340524101202")),
        ])
    }

    #[test]
    fn the_directory_reads_text_of_any_string_type() {
        use datafusion::arrow::array::{Int64Array, LargeStringArray, StringArray, StringViewArray};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;

        // the columns of QUERY: code, name, kind, parent, region, uscc, aliases, people, leader, post
        let text = |kind: &DataType, v: Vec<Option<&str>>| -> ArrayRef {
            match kind {
                DataType::Utf8View => Arc::new(StringViewArray::from(v)),
                DataType::LargeUtf8 => Arc::new(LargeStringArray::from(v)),
                _ => Arc::new(StringArray::from(v)),
            }
        };
        for kind in [DataType::Utf8, DataType::Utf8View, DataType::LargeUtf8] {
            let names = ["unit_code", "name", "kind", "parent_code", "region_code", "uscc", "aliases"];
            let mut fields: Vec<Field> = names.iter().map(|n| Field::new(*n, kind.clone(), true)).collect();
            fields.push(Field::new("people", DataType::Int64, true));
            fields.push(Field::new("leader", kind.clone(), true));
            fields.push(Field::new("leader_post", kind.clone(), true));
            let columns = vec![
                text(&kind, vec![Some("340524100201")]),
                text(&kind, vec![Some("前进村")]),
                text(&kind, vec![Some("村(社区)")]),
                text(&kind, vec![Some("340524100000")]),
                text(&kind, vec![None]),
                text(&kind, vec![None]),
                text(&kind, vec![Some("前进村委会；前进")]),
                Arc::new(Int64Array::from(vec![Some(7)])) as ArrayRef,
                text(&kind, vec![Some("张三")]),
                text(&kind, vec![Some("村党支部书记")]),
            ];
            let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
            let d = Directory::from_batches(&[batch]);
            assert_eq!(d.units.len(), 1, "{kind}");
            let u = &d.units[0];
            assert_eq!(
                (u.code.as_str(), u.name.as_str(), u.parent.as_deref(), u.people, u.leader.as_deref()),
                ("340524100201", "前进村", Some("340524100000"), Some(7), Some("张三")),
                "{kind}"
            );
            assert_eq!(u.aliases, vec!["前进村委会", "前进"], "{kind}");
        }
    }

    #[test]
    fn values_resolve_by_code_region_and_name() {
        let d = county();
        let code = |r: Resolution| match r {
            Resolution::Unit(i, how) => Some((d.units[i].code.clone(), how)),
            _ => None,
        };
        assert_eq!(code(d.resolve("340524101", false)), Some(("340524101".into(), How::Code)));
        // the same digits in a region-code column are the township
        assert_eq!(code(d.resolve("340524101", true)), Some(("340524101000".into(), How::Region)));
        assert_eq!(code(d.resolve("县教育局", false)), Some(("340524101".into(), How::Name)));
        assert_eq!(code(d.resolve(" 清河县教育局 ", false)), Some(("340524101".into(), How::Name)));
        assert_eq!(code(d.resolve("市场监督管理局", false)), Some(("340524111".into(), How::Name)));
        assert_eq!(code(d.resolve("县市场监督管理局", false)), Some(("340524111".into(), How::Name)));
        assert_eq!(code(d.resolve("清河市市场监督管理局", false)), Some(("340524111".into(), How::Name)));
        assert_eq!(code(d.resolve("和平社区", false)), Some(("340524101202".into(), How::Name)));
        assert_eq!(code(d.resolve("河口镇前进村", false)), Some(("340524101201".into(), How::Name)));
        assert!(matches!(d.resolve("前进村", false), Resolution::Ambiguous(c) if c.len() == 2));
        assert_eq!(d.resolve("某某建筑公司", false), Resolution::None);
        assert_eq!(d.resolve("", false), Resolution::None);
    }

    #[test]
    fn a_township_rolls_up_its_villages_and_peers_share_kind_and_parent() {
        let d = county();
        let hekou = d.index("340524101000").unwrap();
        let codes: Vec<&str> = d.subtree(hekou).iter().map(|&i| d.units[i].code.as_str()).collect();
        assert_eq!(codes, ["340524101000", "340524101201", "340524101202"]);
        let peers: Vec<&str> = d.peers(hekou).iter().map(|&i| d.units[i].code.as_str()).collect();
        assert_eq!(peers, ["340524100000", "340524101000"]);
        assert_eq!(d.find("河口").unwrap(), hekou);
        assert!(d.find("前进村").is_err());
    }

    #[test]
    fn any_text_is_answered_without_a_panic() {
        let d = county();
        let mut seed = 7u64;
        let pieces = ["村", "镇", "县", "340524", "101", "000", "（", ")", " ", "\u{3000}", "前进", "é", "0", "河口"];
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(seed % 9) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                s.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let _ = (d.resolve(&s, false), d.resolve(&s, true), d.find(&s), name_key(&s));
        }
    }
}
