//! The working paper (问题底稿) of one clue: everything an inspector needs to write the problem
//! up, assembled from the ledger (the clue, every run's sighting, every workflow step), the lake
//! (the evidence rows the run saved, the snapshots and source files they came from) and the
//! model (its policy basis). [`build`] gathers it; [`document`] makes it a [`crate::doc`]
//! document (Markdown, HTML, xlsx). ID numbers are masked unless the caller asks otherwise.

mod render;

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::ParquetRecordBatchStreamBuilder;
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderOptions, RowSelection};
use datafusion::parquet::file::metadata::PageIndexPolicy;
use serde::Serialize;

use crate::lake::Lake;
use crate::ledger::{ClueView, Ledger, Mark, Sighting};
use crate::model::Model;
use crate::model::labels::Labels;

pub use render::{document, section};

/// Where the evidence came from: one dataset snapshot and its source files.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub dataset: String,
    pub title: String,
    pub snapshot: String,
    pub as_of: String,
    pub files: Vec<(String, u64, String)>,
}

/// A working paper.
#[derive(Debug, Clone, Serialize)]
pub struct Paper {
    pub view: ClueView,
    /// The run whose evidence the paper shows (the latest that found the clue).
    pub sighting: Sighting,
    pub run_started_at: Option<String>,
    pub model_description: Option<String>,
    pub basis: Vec<String>,
    /// The model file now has another version than the run used.
    pub model_changed: bool,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub sources: Vec<Source>,
    pub prepared_on: String,
    pub masked: bool,
}

/// Gathers the paper of one clue.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    ledger: &Ledger,
    lake: &Lake,
    models: &[Model],
    labels: &Labels,
    clue: &str,
    as_of: chrono::NaiveDate,
    redactor: crate::redact::Redactor,
) -> anyhow::Result<Paper> {
    let view =
        ledger.clue(clue, as_of)?.ok_or_else(|| anyhow::anyhow!("no clue `{clue}` in {}", ledger.path().display()))?;
    let sighting = view
        .sightings
        .iter()
        .rev()
        .find(|s| s.mark != Mark::Resolved)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("{clue}: no run ever found it"))?;
    let model = models.iter().find(|m| m.id() == view.clue.model);
    let (mut columns, mut rows) = (Vec::new(), Vec::new());
    if let Some(file) = &sighting.evidence {
        let file_reader = lake
            .run_file_reader(&sighting.run_id, file)
            .await?
            .ok_or_else(|| anyhow::anyhow!("evidence _runs/{}/{file} is missing from the lake", sighting.run_id))?;
        // only the clue's own rows, which the ledger stored: a model's evidence file can hold
        // every clue of a run, and only their pages are fetched and decoded (the page index)
        let builder = ParquetRecordBatchStreamBuilder::new_with_options(
            file_reader,
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional),
        )
        .await?;
        let total = builder.metadata().file_metadata().num_rows().max(0) as usize;
        let mut wanted: Vec<usize> = sighting.rows.iter().copied().filter(|&r| r < total).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let selected = !wanted.is_empty();
        let builder = if !selected {
            builder
        } else {
            let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
            for r in wanted {
                match ranges.last_mut() {
                    Some(last) if last.end == r => last.end = r + 1,
                    _ => ranges.push(r..r + 1),
                }
            }
            builder.with_row_selection(RowSelection::from_consecutive_ranges(ranges.into_iter(), total))
        };
        let mut reader = builder.build()?;
        let opts = FormatOptions::default().with_null("");
        while let Some(batch) = futures::StreamExt::next(&mut reader).await {
            let batch = batch?;
            if columns.is_empty() {
                columns = batch.schema().fields().iter().skip(1).map(|f| labels.of(model, f.name())).collect();
            }
            let ids = batch.column(0).as_string::<i32>();
            let formatters = batch
                .columns()
                .iter()
                .skip(1)
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
                .collect::<Result<Vec<_>, _>>()?;
            // floats as figures, never 70575.59999999999
            let floats: Vec<bool> = batch.columns().iter().skip(1).map(|c| c.data_type().is_floating()).collect();
            for r in 0..batch.num_rows() {
                // the stored row numbers are the clue's (its id there may be an alias of the
                // ledger's); without them (an older ledger), every row is checked by id
                let id = if ids.is_valid(r) { ids.value(r) } else { "" };
                let ours =
                    id == view.clue.clue_id || id == clue || (selected && ledger.resolve(id)? == view.clue.clue_id);
                if ours {
                    rows.push(
                        formatters
                            .iter()
                            .zip(&floats)
                            .map(|(f, float)| {
                                let v = f.value(r).to_string();
                                if *float { crate::codes::text::float_text(&v) } else { v }
                            })
                            .collect(),
                    );
                }
            }
        }
    }
    let mut sources = Vec::new();
    let snapshots: BTreeMap<String, String> = serde_json::from_value(sighting.snapshots.clone()).unwrap_or_default();
    for (dataset, snapshot) in &snapshots {
        if let Some(m) = lake.manifest(dataset, snapshot).await? {
            sources.push(Source {
                dataset: dataset.clone(),
                title: m.title.clone(),
                snapshot: snapshot.clone(),
                as_of: m.as_of.clone(),
                files: m.sources.iter().map(|s| (s.location.clone(), s.bytes, s.blake3.clone())).collect(),
            });
        }
    }
    let run_started_at = ledger.run_started_at(&sighting.run_id)?;
    let paper = Paper {
        model_description: model.map(|m| m.spec.description.lines().map(str::trim).collect::<String>()),
        basis: model.map(|m| m.spec.basis.clone()).unwrap_or_default(),
        model_changed: model.is_some_and(|m| m.version != sighting.model_version),
        view,
        sighting,
        run_started_at,
        columns,
        rows,
        sources,
        prepared_on: chrono::Local::now().date_naive().to_string(),
        masked: !redactor.shows_ids(),
    };
    // masking itself happens where the paper leaves searchlight: its rendering passes the
    // same redactor as every other output
    Ok(paper)
}
