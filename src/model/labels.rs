//! Chinese labels of model output columns, for documents people read (the working paper).
//!
//! A column's label is, in order: the model's own `[labels]`; the library glossary
//! `models/labels.toml` (`column = "标签"`); the export header its connectors map to that column,
//! when every connector that declares the column agrees (units in brackets dropped: `金额(万元)`
//! → `金额`, since values are converted to 元); else the column name itself.

use std::collections::BTreeMap;
use std::path::Path;

use crate::connector::Connector;

use super::Model;

/// Labels for every column name the library knows.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    glossary: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
}

impl Labels {
    /// The glossary at `path` (absent is fine) and the connectors' export headers.
    pub fn load(path: &Path, connectors: &[Connector]) -> anyhow::Result<Labels> {
        let glossary = match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        };
        let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
        for c in connectors {
            for (name, col) in &c.spec.columns {
                let Some(header) = col.from.names().first().filter(|h| !h.starts_with('$')) else { continue };
                let header = strip_unit(header);
                seen.entry(name.clone())
                    .and_modify(|v| {
                        if v.as_deref() != Some(header.as_str()) {
                            *v = None;
                        }
                    })
                    .or_insert(Some(header));
            }
        }
        let headers = seen.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
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
