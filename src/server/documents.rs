//! Working papers and briefs for a caller: built with the caller's redactor off the async
//! threads, and delivered as the format asked for.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api::ApiError;
use crate::doc::{Document, Format};
use crate::project::Project;

/// `format=html|xlsx|md` of a query (HTML when there is none).
pub fn format_of(query: Option<&str>) -> Result<Format, ApiError> {
    let mut format = Format::Html;
    for kv in query.unwrap_or("").split('&').filter(|kv| !kv.is_empty()) {
        format = match kv {
            "format=html" => Format::Html,
            "format=xlsx" => Format::Xlsx,
            "format=md" => Format::Md,
            other => return Err(ApiError::bad_request(format!("`{other}`: format=html, xlsx or md"))),
        };
    }
    Ok(format)
}

/// A document as `c` may see it (their redactor over every text), rendered in its format as a
/// download named `name`.
pub fn download_for(
    c: &super::auth::Caller,
    mut doc: Document,
    format: Format,
    name: &str,
) -> Result<Response, ApiError> {
    let r = c.redactor();
    doc.redact(&|s: &str| r.text(s).into_owned());
    download(&doc, format, name)
}

/// A document rendered in its format, as a download named `name`.
fn download(doc: &Document, format: Format, name: &str) -> Result<Response, ApiError> {
    let bytes = doc.render(format).map_err(|e| ApiError::bad_request(format!("文档生成失败: {e}")))?;
    let ct = match format {
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Format::Md => "text/markdown; charset=utf-8",
        Format::Html => "text/html; charset=utf-8",
    };
    // the name is ASCII (ids and codes); the Chinese title is in the document itself
    let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    let disposition = format!("attachment; filename=\"{safe}.{}\"", format.extension());
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, ct.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

/// Runs an async builder that holds the ledger (not `Sync`) on a blocking thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> anyhow::Result<T> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .map_err(|e| ApiError::bad_request(format!("文档生成失败: {e}")))
}

/// What a paper or a brief is built from: the models, the catalog, the lake, the ledger and
/// the column labels, as the project has them now.
struct Inputs {
    models: Vec<crate::model::Model>,
    catalog: crate::schema::Schema,
    lake: crate::lake::Lake,
    ledger: crate::ledger::Ledger,
    labels: crate::model::labels::Labels,
}

fn inputs(project: &Project) -> anyhow::Result<Inputs> {
    let models = project.models()?.into_iter().filter_map(Result::ok).collect();
    let connectors: Vec<_> = project.connectors()?.into_iter().filter_map(Result::ok).collect();
    let catalog = Project::catalog(&connectors);
    let labels = crate::model::labels::Labels::load(&project.models_dir().join("labels.toml"), &catalog)?;
    let lake = crate::lake::Lake::open(&project.lake)?;
    let ledger = crate::ledger::Ledger::open_existing(&project.ledger)?;
    Ok(Inputs { models, catalog, lake, ledger, labels })
}

/// The working paper (问题底稿) of a clue the caller may see.
pub async fn paper(project: &Project, clue: &str, redactor: crate::redact::Redactor) -> Result<Document, ApiError> {
    Ok(crate::paper::document(&paper_of(project, clue, redactor).await?))
}

/// The working paper's facts: the clue, the run whose evidence it shows, the evidence rows and
/// their sources.
pub async fn paper_of(
    project: &Project,
    clue: &str,
    redactor: crate::redact::Redactor,
) -> Result<crate::paper::Paper, ApiError> {
    let (project, clue) = (project.clone(), clue.to_string());
    let handle = tokio::runtime::Handle::current();
    blocking(move || {
        handle.block_on(async {
            let i = inputs(&project)?;
            let today = chrono::Local::now().date_naive();
            crate::paper::build(&i.ledger, &i.lake, &i.models, &i.labels, &clue, today, redactor).await
        })
    })
    .await
}

/// The pre-inspection brief (巡前情况通报) of a unit, as of the newest data in the lake.
pub async fn brief(project: &Project, unit: &str, redactor: crate::redact::Redactor) -> Result<Document, ApiError> {
    let (project, unit) = (project.clone(), unit.to_string());
    let handle = tokio::runtime::Handle::current();
    blocking(move || {
        handle.block_on(async {
            let i = inputs(&project)?;
            let today = chrono::Local::now().date_naive();
            let as_of = crate::pipeline::data_as_of(&i.lake).await?.map(|(newest, _)| newest).unwrap_or(today);
            let runner = crate::runner::Runner::over_lake(&i.lake, &i.catalog).await?;
            let req = crate::brief::Request { unit, as_of, from: None, top: 5, prepared_on: today };
            let brief = crate::brief::build(&req, &i.ledger, &i.lake, &runner, &i.models, &i.labels, redactor).await?;
            Ok(crate::brief::document(&brief))
        })
    })
    .await
}
