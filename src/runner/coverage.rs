//! `searchlight coverage`: what every model can do with the data a county has — runs fully,
//! runs without some optional inputs, or cannot run — with everything missing listed at once and
//! what to map to fix it; and for every dataset, which models use it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Runner;
use super::inputs::{self, Availability, Inputs};
use crate::connector::{Connector, Source};
use crate::engine::Engine;
use crate::model::Model;
use crate::schema::Schema;

/// How far a model can look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Every input is there.
    Full,
    /// Core inputs are there, some optional ones are not.
    Partial,
    /// Some routes of the model cannot look for lack of what they need; the others can.
    SomeRoutes,
    /// A core input is missing: the model cannot run.
    None,
    /// The model itself does not plan (an error in the model, not in the data).
    Broken,
}

impl Reach {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Reach::Full => "可完整运行",
            Reach::Partial => "可运行(缺可选数据)",
            Reach::SomeRoutes => "部分路线不能运行",
            Reach::None => "不能运行",
            Reach::Broken => "模型错误",
        }
    }
}

/// One model's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCoverage {
    /// Model id.
    pub model: String,
    /// Title.
    pub title: String,
    /// Area.
    pub area: String,
    /// Verdict.
    pub reach: Reach,
    /// Core inputs missing.
    pub missing: Vec<String>,
    /// Optional inputs missing.
    pub without: Vec<String>,
    /// Routes that cannot look, in words.
    pub blind_routes: Vec<String>,
    /// What to do about each missing input, core ones first.
    pub fixes: Vec<String>,
    /// Datasets and columns it reads.
    pub reads: BTreeMap<String, BTreeSet<String>>,
    /// Why it does not plan.
    pub error: Option<String>,
}

/// One dataset's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetCoverage {
    /// Dataset.
    pub dataset: String,
    /// Title.
    pub title: String,
    /// Whether the data has it.
    pub present: bool,
    /// The connector that lands it.
    pub connector: Option<String>,
    /// Models that read it.
    pub models: Vec<String>,
    /// Columns models read that the data lacks.
    pub missing_columns: Vec<String>,
}

/// A connector that does not load: its file, the datasets it names and why.
#[derive(Debug, Clone, Serialize)]
pub struct Broken {
    /// The connector file.
    pub file: String,
    /// The datasets its text names (`name`, `[[dataset]] name`), as far as it can be read.
    pub datasets: Vec<String>,
    /// The error, with line and column.
    pub error: String,
}

impl Broken {
    /// From a connector's load error.
    pub fn of(e: &crate::connector::Error) -> Broken {
        let file = match e {
            crate::connector::Error::Spec { path, .. } => path.clone(),
            crate::connector::Error::Source { file, .. }
            | crate::connector::Error::Input { file, .. }
            | crate::connector::Error::Store { file, .. } => file.clone(),
        };
        let mut datasets = Vec::new();
        if let Ok(text) = std::fs::read_to_string(&file) {
            // the names, even from a file that does not parse as a whole
            for line in text.lines() {
                let l = line.trim();
                if let Some(v) = l.strip_prefix("name").map(str::trim_start).and_then(|r| r.strip_prefix('=')) {
                    let v = v.trim().trim_matches('"').trim();
                    if !v.is_empty() && !datasets.iter().any(|d| d == v) {
                        datasets.push(v.to_string());
                    }
                }
            }
        }
        if datasets.is_empty()
            && let Some(stem) = std::path::Path::new(&file).file_stem().and_then(|s| s.to_str())
        {
            datasets.push(stem.to_string());
        }
        Broken { file, datasets, error: e.to_string() }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Connectors that do not load: what they would land is judged absent, and the fixes say
    /// to repair them.
    pub broken: Vec<Broken>,
    /// What the availability was taken from: `connectors` or `lake`.
    pub from: String,
    /// Per model.
    pub models: Vec<ModelCoverage>,
    /// Per dataset read by some model, or provided.
    pub datasets: Vec<DatasetCoverage>,
}

impl Coverage {
    /// Records the connectors that do not load, and turns each fix that would write a connector
    /// for one of their datasets into "repair this connector".
    pub fn mark_broken(&mut self, broken: Vec<Broken>) {
        for m in &mut self.models {
            for f in &mut m.fixes {
                for b in &broken {
                    if b.datasets.iter().any(|d| f.contains(&format!("`{d}`"))) {
                        *f = format!(
                            "{} — repair {} first: it does not load ({})",
                            f.split(": a connector with").next().unwrap_or(f),
                            b.file,
                            b.error
                        );
                    }
                }
            }
        }
        self.broken = broken;
    }

    /// Models per verdict.
    pub fn count(&self, reach: Reach) -> usize {
        self.models.iter().filter(|m| m.reach == reach).count()
    }
}

/// What a project's connectors will land: every dataset they declare, with the columns they
/// map or give a default (a derived dataset: the columns its query returns).
pub async fn declared(connectors: &[Connector], catalog: &Schema) -> Availability {
    let probe = Engine::probe(catalog).ok();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in connectors {
        for b in &c.blocks {
            let cols: BTreeSet<String> = match (&c.source, &probe) {
                (Source::Derived { sql }, Some(p)) => match p.sql_bound(sql, &Default::default()).await {
                    Ok(df) => df.schema().fields().iter().map(|f| f.name().clone()).collect(),
                    Err(_) => BTreeSet::new(),
                },
                _ => b.columns.iter().filter(|(_, col)| col.provided()).map(|(n, _)| n.clone()).collect(),
            };
            out.insert(b.name.clone(), cols);
        }
    }
    Availability::Only(out, BTreeSet::new())
}

/// The coverage of `models` over what `have` holds. `landed_by` names the connector of each
/// dataset, for the fixes.
pub async fn coverage(
    runner: &Runner,
    models: &[Model],
    catalog: &Schema,
    have: &Availability,
    landed_by: &BTreeMap<String, String>,
    from: &str,
) -> Coverage {
    let mut out = Vec::new();
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut lacking: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in models {
        let (inputs, a): (Inputs, inputs::Assessment) = match runner.assess(m, have).await {
            Ok(i) => i,
            Err(e) => {
                out.push(ModelCoverage {
                    model: m.id().to_string(),
                    title: m.spec.title.clone(),
                    area: m.spec.area.clone(),
                    reach: Reach::Broken,
                    missing: Vec::new(),
                    without: Vec::new(),
                    blind_routes: Vec::new(),
                    fixes: Vec::new(),
                    reads: BTreeMap::new(),
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        for (d, cols) in &inputs.reads {
            users.entry(d.clone()).or_default().insert(m.id().to_string());
            if have.has(d) {
                for c in cols.iter().filter(|c| !have.has_column(d, c)) {
                    lacking.entry(d.clone()).or_default().insert(c.clone());
                }
            }
        }
        let reach = if !a.missing.is_empty() {
            Reach::None
        } else if !a.blind_routes.is_empty() {
            Reach::SomeRoutes
        } else if !a.without.is_empty() {
            Reach::Partial
        } else {
            Reach::Full
        };
        let fixes = a
            .missing
            .iter()
            .map(|i| fix(i, catalog, landed_by, true))
            .chain(a.without.iter().map(|i| fix(i, catalog, landed_by, false)))
            .collect();
        out.push(ModelCoverage {
            model: m.id().to_string(),
            title: m.spec.title.clone(),
            area: m.spec.area.clone(),
            reach,
            missing: a.missing,
            without: a.without,
            blind_routes: a.blind_routes.iter().map(|r| r.words()).collect(),
            fixes,
            reads: inputs.reads,
            error: None,
        });
    }
    let mut names: BTreeSet<String> = users.keys().cloned().collect();
    if let Availability::Only(m, _) = have {
        names.extend(m.keys().cloned());
    }
    let datasets = names
        .into_iter()
        .map(|d| DatasetCoverage {
            title: catalog.dataset(&d).map(|x| x.title.clone()).unwrap_or_default(),
            present: have.has(&d),
            connector: landed_by.get(&d).cloned(),
            models: users.get(&d).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
            missing_columns: lacking.get(&d).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
            dataset: d,
        })
        .collect();
    Coverage { broken: Vec::new(), from: from.to_string(), models: out, datasets }
}

/// The coverage of a project: judged on what its connectors will land, or (`from_lake`) on the
/// lake's current snapshots.
pub async fn of_project(
    runner: &Runner,
    models: &[Model],
    catalog: &Schema,
    connectors: &[Connector],
    from_lake: bool,
) -> Coverage {
    let (have, from) = if from_lake {
        (runner.available().clone(), "lake")
    } else {
        (declared(connectors, catalog).await, "connectors")
    };
    let landed_by = connectors.iter().flat_map(|c| c.datasets().map(move |d| (d.to_string(), c.id.clone()))).collect();
    coverage(runner, models, catalog, &have, &landed_by, from).await
}

/// What to do about one missing input, in the words of mapping, not of SQL.
fn fix(item: &str, catalog: &Schema, landed_by: &BTreeMap<String, String>, core: bool) -> String {
    let also = if core { "" } else { "(可选) " };
    let label = |d: &str, c: &str| {
        catalog
            .dataset(d)
            .and_then(|x| x.columns.get(c))
            .map(|c| format!("{}，{}", c.label, c.kind.name()))
            .unwrap_or_default()
    };
    if let Some(group) = item.strip_prefix("one of: ") {
        let options: Vec<String> = group
            .split(", ")
            .map(|i| match i.split_once('.') {
                Some((d, c)) => format!("`{i}` ({})", label(d, c)),
                None => format!("`{i}`"),
            })
            .collect();
        return format!("{also}map any one of {} to a column of your export", options.join(" / "));
    }
    match item.split_once('.') {
        Some((d, c)) => {
            let place = match landed_by.get(d) {
                Some(conn) => format!(" in connectors/{conn}.toml"),
                None => String::new(),
            };
            format!("{also}map a column of your export to `{d}.{c}` ({}){place}", label(d, c))
        }
        None => {
            let title = catalog.dataset(item).map(|x| x.title.clone()).unwrap_or_default();
            format!(
                "{also}land the dataset `{item}` ({title}): a connector with `name = \"{item}\"` (`searchlight connector new <export file>` writes one)"
            )
        }
    }
}
