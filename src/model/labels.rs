//! Chinese labels of model output columns, for documents people read (the working paper).
//!
//! A column's label is, in order: the model's own `[labels]`; the project's glossary
//! `models/labels.toml`, then the bundled one (`column = "标签"`); the canonical schema's label
//! of a column of that name, when every dataset that has one agrees; else the column name.

use std::collections::BTreeMap;
use std::path::Path;

use crate::schema::Schema;

use super::Model;

/// Labels for every column name the library knows.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    glossary: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
}

impl Labels {
    /// The project's glossary at `path` (absent is fine) over the bundled one, and the
    /// schema's column labels.
    pub fn load(path: &Path, schema: &Schema) -> anyhow::Result<Labels> {
        let parse = |text: &str, shown: &str| -> anyhow::Result<BTreeMap<String, String>> {
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{shown}: {e}"))
        };
        let mut glossary = match crate::library::file("models/labels.toml") {
            Some(text) => parse(text, "searchlight:models/labels.toml")?,
            None => BTreeMap::new(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => glossary.extend(parse(&text, &path.display().to_string())?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        }
        // a column's label: the canonical schema's (the first dataset's where they differ),
        // then a project dataset's own (its `label`, or the export's header) — never the bare
        // column name where any dataset has a label for it
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for custom in [false, true] {
            for d in schema.datasets.values().filter(|d| d.is_custom() == custom) {
                for c in d.columns.values() {
                    headers.entry(c.name.clone()).or_insert_with(|| strip_unit(&c.label));
                }
            }
        }
        Ok(Labels { glossary, headers })
    }

    /// The label of one output column of a model.
    pub fn of(&self, model: Option<&Model>, column: &str) -> String {
        model
            .and_then(|m| m.spec.labels.get(column))
            .or_else(|| self.glossary.get(column))
            .or_else(|| self.headers.get(column))
            .cloned()
            .unwrap_or_else(|| column.to_string())
    }
}

/// `金额(万元)` → `金额`; `面积（亩）` → `面积`.
fn strip_unit(header: &str) -> String {
    let h = header.trim();
    match h.find(['(', '（']) {
        Some(i) if i > 0 && (h.ends_with(')') || h.ends_with('）')) => h[..i].trim().to_string(),
        _ => h.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_unit;

    #[test]
    fn units_in_brackets_are_dropped() {
        assert_eq!(strip_unit("金额(万元)"), "金额");
        assert_eq!(strip_unit("面积（亩）"), "面积");
        assert_eq!(strip_unit("姓名"), "姓名");
        assert_eq!(strip_unit("(备注)"), "(备注)");
    }
}

/// The Chinese name of a model domain.
pub fn domain_label(d: &str) -> &str {
    match d {
        "relief" => "民生保障",
        "finance" => "财政财务",
        "procurement" => "政府采购与招投标",
        "land" => "土地与耕地",
        "investment" => "招商引资",
        "research" => "科研经费",
        "registry" => "公职人员监督",
        other => other,
    }
}
