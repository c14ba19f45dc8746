//! The canonical schema: every dataset the model library reads, its columns, types, keys,
//! meanings and, for categorical columns, the canonical value set with common synonyms.
//!
//! It is owned by searchlight, not inferred from any county's connectors: models are written
//! against it, connectors are validated against it (an unknown column or a wrong type is an
//! error with a suggestion), landing folds value words onto it, and `docs/datasets.md` is
//! rendered from it. The files are `models/schema/<domain>.toml` (one table per dataset) and
//! `models/schema/value_sets.toml`, compiled into the binary with the model library.
//!
//! A user's own dataset (`custom = true` in a connector) joins the catalogue at run time as a
//! [`Dataset`] with [`Origin::Custom`]; it is documented and typed by its connector alone.

pub mod catalog;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use indexmap::IndexMap;
use serde::Deserialize;

use crate::codes::text;

/// Arrow precision of money columns (元 with two decimals).
pub const MONEY_PRECISION: u8 = 18;
/// Scale of money columns.
pub const MONEY_SCALE: i8 = 2;

/// Canonical column types and the Arrow type each lands as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Utf8, trimmed and folded to half-width.
    Text,
    /// Int64.
    Int,
    /// Float64.
    Float,
    /// Decimal128(18, 2) in 元, converted from the declared unit.
    Money,
    /// Float64 in square metres, converted from the declared unit.
    Area,
    /// Boolean from 是/否, Y/N, true/false, 1/0, 有/无.
    Bool,
    /// Date32.
    Date,
    /// Date32 holding the first day of the month (发放月份 202403, 2024-03, 2024年3月).
    Month,
    /// Timestamp(millisecond).
    Timestamp,
    /// Resident ID number (Utf8) plus `<name>_valid` (Boolean, GB 11643 check).
    IdCard,
    /// Unified social credit code (Utf8) plus `<name>_valid` (Boolean, GB 32100 check).
    Uscc,
    /// Administrative division code (Utf8, digits only).
    RegionCode,
    /// Bank account or card number (Utf8, digits; numbers with lost digits are flagged).
    Account,
}

impl ColumnType {
    /// Every type, for messages.
    pub const ALL: [ColumnType; 13] = [
        ColumnType::Text,
        ColumnType::Int,
        ColumnType::Float,
        ColumnType::Money,
        ColumnType::Area,
        ColumnType::Bool,
        ColumnType::Date,
        ColumnType::Month,
        ColumnType::Timestamp,
        ColumnType::IdCard,
        ColumnType::Uscc,
        ColumnType::RegionCode,
        ColumnType::Account,
    ];

    /// Name as written in schema and connector files.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Money => "money",
            ColumnType::Area => "area",
            ColumnType::Bool => "bool",
            ColumnType::Date => "date",
            ColumnType::Month => "month",
            ColumnType::Timestamp => "timestamp",
            ColumnType::IdCard => "id_card",
            ColumnType::Uscc => "uscc",
            ColumnType::RegionCode => "region_code",
            ColumnType::Account => "account",
        }
    }

    /// Whether the type adds a `<name>_valid` column.
    pub fn has_validity(self) -> bool {
        self.validity_rule().is_some()
    }

    /// The check `<name>_valid` holds (GB 11643 for IDs, GB 32100 for credit codes).
    pub fn validity_rule(self) -> Option<fn(&str) -> bool> {
        match self {
            ColumnType::IdCard => Some(crate::codes::id_card::is_valid),
            ColumnType::Uscc => Some(crate::codes::uscc::is_valid),
            _ => None,
        }
    }

    /// The Arrow type values of this type land as.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::IdCard | ColumnType::Uscc | ColumnType::RegionCode | ColumnType::Account => {
                DataType::Utf8
            }
            ColumnType::Int => DataType::Int64,
            ColumnType::Float | ColumnType::Area => DataType::Float64,
            ColumnType::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Date | ColumnType::Month => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
        }
    }
}

/// How repeated keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One record per key (a household, a firm, a person's post): repeated rows of an export
    /// are the same record seen again and land once; repeats that disagree are flagged.
    Entity,
    /// Each row is a fact of its own (a payment, a bid): repeated keys are kept and flagged,
    /// since the repeat may be the very anomaly (a household paid twice for one month).
    Event,
}

impl Grain {
    /// Name as written in schema files.
    pub fn name(self) -> &'static str {
        match self {
            Grain::Entity => "entity",
            Grain::Event => "event",
        }
    }
}

/// Where a dataset's definition comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The canonical schema shipped with searchlight.
    Canonical,
    /// A user's own dataset, declared by the connector at this path.
    Custom(String),
}

/// The canonical value set of a categorical column.
#[derive(Debug, Clone)]
pub struct ValueSet {
    /// Its name (`enterprise_status`).
    pub name: String,
    /// What it classifies.
    pub doc: String,
    /// The canonical words, in order.
    pub values: Vec<String>,
    /// Synonym (folded with [`text::clean`]) → canonical word.
    pub synonyms: IndexMap<String, String>,
    /// Real exports extend the set: unknown words are not flagged.
    pub open: bool,
}

impl ValueSet {
    /// The canonical word for `value` (already cleaned), if it is one or a known synonym.
    pub fn fold<'a>(&'a self, value: &'a str) -> Option<&'a str> {
        if self.values.iter().any(|v| v == value) {
            return Some(value);
        }
        self.synonyms.get(value).map(String::as_str)
    }
}

/// One canonical column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Canonical name.
    pub name: String,
    /// Type.
    pub kind: ColumnType,
    /// Short Chinese label (working papers, briefs, mails).
    pub label: String,
    /// Headers real exports use for it, for suggestions (`connector new`).
    pub headers: Vec<String>,
    /// Meaning.
    pub doc: String,
    /// Its value set, for categorical columns.
    pub values: Option<Arc<ValueSet>>,
    /// A column the user added to a canonical dataset (`extra = true` in a connector).
    pub extra: bool,
}

/// One dataset of the catalogue.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Name in the lake and in SQL.
    pub name: String,
    /// Chinese title.
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// Domain (finance, procurement, land, relief, registry, investment, research, …).
    pub domain: String,
    /// Whether repeated keys are one record or separate facts.
    pub grain: Grain,
    /// Department that usually provides it.
    pub provider: Option<String>,
    /// What it holds.
    pub description: Option<String>,
    /// Columns that identify a record.
    pub key: Vec<String>,
    /// Words in export file names that suggest it (`connector new`).
    pub names: Vec<String>,
    /// Columns in canonical order.
    pub columns: IndexMap<String, Column>,
    /// Canonical or the user's own.
    pub origin: Origin,
}

impl Dataset {
    /// The Arrow schema of the dataset: every column, with `<name>_valid` after ID and credit-code
    /// columns; all nullable (a model must not assume a column it did not get).
    pub fn arrow_schema(&self) -> SchemaRef {
        let mut fields = Vec::new();
        for c in self.columns.values() {
            fields.push(column_field(c));
            if c.kind.has_validity() {
                fields.push(Field::new(format!("{}_valid", c.name), DataType::Boolean, true));
            }
        }
        Arc::new(ArrowSchema::new(fields))
    }

    /// Whether it is the user's own.
    pub fn is_custom(&self) -> bool {
        matches!(self.origin, Origin::Custom(_))
    }

    /// The column `name`, or the code column a `<name>_valid` belongs to.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .get(name)
            .or_else(|| name.strip_suffix("_valid").and_then(|c| self.columns.get(c)).filter(|c| c.kind.has_validity()))
    }
}

/// The Arrow field of a column, carrying its label and type as metadata.
pub fn column_field(c: &Column) -> Field {
    let mut meta = HashMap::new();
    meta.insert("label".to_string(), c.label.clone());
    meta.insert("type".to_string(), c.kind.name().to_string());
    Field::new(&c.name, c.kind.arrow(), true).with_metadata(meta)
}

/// The catalogue: canonical datasets (and, at run time, the user's own).
#[derive(Debug, Clone)]
pub struct Schema {
    /// Datasets by name, canonical ones in file order.
    pub datasets: IndexMap<String, Dataset>,
    /// Value sets by name.
    pub value_sets: IndexMap<String, Arc<ValueSet>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    title: String,
    #[serde(default)]
    title_en: Option<String>,
    domain: String,
    grain: Grain,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    key: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    columns: IndexMap<String, RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    #[serde(rename = "type")]
    kind: ColumnType,
    label: String,
    #[serde(default)]
    headers: Vec<String>,
    doc: String,
    #[serde(default)]
    values: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValueSet {
    doc: String,
    values: Vec<String>,
    #[serde(default)]
    synonyms: IndexMap<String, String>,
    #[serde(default)]
    open: bool,
}

/// File name of the value sets inside the schema folder.
pub const VALUE_SETS: &str = "value_sets.toml";

fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> String {
    let (line, col) = e.span().map(|s| crate::position::line_col(text, s.start)).unwrap_or((1, 1));
    format!("{file}:{line}:{col}: {}", e.message().trim())
}

impl Schema {
    /// Parses schema files given as (path, text): every `*.toml` holds datasets, except
    /// `value_sets.toml`.
    pub fn parse(files: &[(&str, &str)]) -> Result<Schema, String> {
        let mut value_sets = IndexMap::new();
        for (path, text) in files.iter().filter(|(p, _)| p.ends_with(VALUE_SETS)) {
            let raw: IndexMap<String, RawValueSet> = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
            for (name, v) in raw {
                let synonyms = v.synonyms.into_iter().map(|(k, c)| (text::clean(&k).into_owned(), c)).collect();
                let set = ValueSet { name: name.clone(), doc: v.doc, values: v.values, synonyms, open: v.open };
                for (syn, canonical) in &set.synonyms {
                    if !set.values.contains(canonical) {
                        return Err(format!(
                            "{path}: value set `{name}`: synonym `{syn}` maps to `{canonical}`, which is not one of its values"
                        ));
                    }
                }
                value_sets.insert(name, Arc::new(set));
            }
        }
        let mut datasets = IndexMap::new();
        for (path, text) in files.iter().filter(|(p, _)| !p.ends_with(VALUE_SETS)) {
            let raw: IndexMap<String, RawDataset> = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
            for (name, d) in raw {
                if datasets.contains_key(&name) {
                    return Err(format!("{path}: dataset `{name}` is defined twice"));
                }
                let mut columns = IndexMap::new();
                for (cname, c) in d.columns {
                    let values =
                        match &c.values {
                            None => None,
                            Some(set) => Some(value_sets.get(set).cloned().ok_or_else(|| {
                                format!("{path}: {name}.{cname}: no value set `{set}` in {VALUE_SETS}")
                            })?),
                        };
                    if values.is_some() && c.kind != ColumnType::Text {
                        return Err(format!("{path}: {name}.{cname}: value sets apply to text columns only"));
                    }
                    columns.insert(
                        cname.clone(),
                        Column {
                            name: cname,
                            kind: c.kind,
                            label: c.label,
                            headers: c.headers,
                            doc: c.doc,
                            values,
                            extra: false,
                        },
                    );
                }
                for k in &d.key {
                    if !columns.contains_key(k) {
                        return Err(format!("{path}: {name}: key column `{k}` is not one of its columns"));
                    }
                }
                datasets.insert(
                    name.clone(),
                    Dataset {
                        name,
                        title: d.title,
                        title_en: d.title_en,
                        domain: d.domain,
                        grain: d.grain,
                        provider: d.provider,
                        description: d.description,
                        key: d.key,
                        names: d.names,
                        columns,
                        origin: Origin::Canonical,
                    },
                );
            }
        }
        Ok(Schema { datasets, value_sets })
    }

    /// The schema compiled into this binary.
    pub fn bundled() -> &'static Schema {
        static BUNDLED: OnceLock<Schema> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            let files: Vec<(&str, &str)> = crate::library::FILES
                .iter()
                .filter(|(p, _)| p.starts_with("models/schema/") && p.ends_with(".toml"))
                .copied()
                .collect();
            // the bundled files are checked by the tests; a broken one cannot reach a release
            Schema::parse(&files).unwrap_or_else(|e| panic!("bundled schema: {e}"))
        })
    }

    /// A dataset by name.
    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.datasets.get(name)
    }

    /// The catalogue with the user's own datasets added (a custom dataset may not reuse a
    /// canonical name).
    pub fn with_custom(&self, custom: impl IntoIterator<Item = Dataset>) -> Schema {
        let mut out = self.clone();
        for d in custom {
            out.datasets.entry(d.name.clone()).or_insert(d);
        }
        out
    }
}

/// The candidate most like `name`, for "did you mean" hints.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(name, c), c))
        .filter(|(score, _)| *score >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_schema_parses_and_is_consistent() {
        let s = Schema::bundled();
        assert!(s.datasets.len() >= 33, "{}", s.datasets.len());
        for d in s.datasets.values() {
            assert!(!d.key.is_empty(), "{}: no key", d.name);
            assert!(!d.names.is_empty(), "{}: no file-name words", d.name);
            for c in d.columns.values() {
                assert!(!c.label.is_empty() && !c.doc.is_empty(), "{}.{}", d.name, c.name);
                assert!(!c.headers.is_empty(), "{}.{}: no export headers", d.name, c.name);
            }
        }
        let status = s.dataset("enterprises").unwrap().columns["status"].values.clone().unwrap();
        assert_eq!(status.fold("在业"), Some("存续"));
        assert_eq!(status.fold("存续"), Some("存续"));
        assert_eq!(status.fold(&text::clean("吊销，未注销")), Some("吊销"));
        assert_eq!(status.fold("歇业"), None);
    }

    #[test]
    fn broken_schema_files_are_errors_naming_the_file() {
        let e = Schema::parse(&[("a.toml", "[x]\ntitle = 1\n")]).unwrap_err();
        assert!(e.starts_with("a.toml:2:"), "{e}");
        let e = Schema::parse(&[(
            "a.toml",
            "[x]\ntitle = \"t\"\ndomain = \"d\"\ngrain = \"entity\"\nkey = [\"k\"]\n[x.columns]\nc = { type = \"text\", label = \"l\", doc = \"d\", values = \"nope\" }\n",
        )])
        .unwrap_err();
        assert!(e.contains("no value set `nope`"), "{e}");
        let e =
            Schema::parse(&[("value_sets.toml", "[s]\ndoc = \"d\"\nvalues = [\"a\"]\nsynonyms = { \"b\" = \"c\" }\n")])
                .unwrap_err();
        assert!(e.contains("not one of its values"), "{e}");
    }

    #[test]
    fn suggestions_pick_the_closest_name() {
        assert_eq!(suggest("upload_ipp", ["upload_ip", "mac", "lot_no"]), Some("upload_ip"));
        assert_eq!(suggest("zzz", ["upload_ip", "mac"]), None);
    }
}
