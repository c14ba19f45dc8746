//! The command line: arguments in, one stage seam called per command, reports out.
//!
//! Nothing below this module parses arguments; nothing in it runs SQL or touches files except
//! through the stage seams. Exit status: 0 when everything succeeded, 2 when any item (a
//! connector, a dataset) failed — the others still ran — and 1 when the command could not run.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::connector::Connector;
use crate::engine::Engine;
use crate::lake::{IngestOptions, Lake};
use crate::project::Project;

/// searchlight (探照灯): big-data supervision — connectors, a versioned Parquet lake, SQL models.
#[derive(Debug, Parser)]
#[command(name = "searchlight", version, about = "探照灯 · 大数据监督引擎 (big-data supervision engine)")]
pub struct Cli {
    /// Project directory (holds connectors/, models/, fixtures/).
    #[arg(long, global = true, default_value = ".", env = "SEARCHLIGHT_PROJECT")]
    project: PathBuf,
    /// Lake location: a directory, file:// or s3:// URL (default: <project>/lake).
    #[arg(long, global = true, env = "SEARCHLIGHT_LAKE")]
    lake: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: ingest every connector, then show the lake.
    Pipeline {
        /// The date the exports describe (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Land connectors as new lake snapshots (all, or the named ones).
    Ingest {
        /// Connector (dataset) names; default all.
        names: Vec<String>,
        /// The date the exports describe (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Land even if the sources are unchanged.
        #[arg(long)]
        force: bool,
        /// Split text exports into chunks of about this many MiB.
        #[arg(long, default_value_t = 32, hide = true)]
        chunk_mib: u64,
    },
    /// List datasets, or show one dataset's snapshots, schema and quarantine.
    Lake {
        /// Dataset to show in detail.
        name: Option<String>,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// List the canonical datasets the connectors declare (Markdown: docs/datasets.md).
    Datasets {
        /// Print the Markdown catalogue.
        #[arg(long)]
        markdown: bool,
    },
    /// Run one SQL query over the lake's current snapshots.
    Sql {
        /// The query.
        query: String,
        /// Print JSON rows instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The demo county.
    Fixtures {
        #[command(subcommand)]
        command: FixturesCommand,
    },
}

#[derive(Debug, Subcommand)]
enum FixturesCommand {
    /// Generate the demo county's exports (the same county for the same seed, at any scale).
    Generate {
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Size multiplier (1 = the bundled few-thousand-rows county).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Output folder (default: <project>/fixtures/demo).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only these datasets.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("searchlight: cannot start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("searchlight: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let project = Project::open(&cli.project, cli.lake.as_deref())?;
    match cli.command {
        Command::Pipeline { as_of } => {
            let mut opts = IngestOptions::default();
            if let Some(d) = as_of {
                opts.as_of = d;
            }
            let failed = ingest(&project, &[], &opts).await?;
            println!();
            let lake = Lake::open(&project.lake)?;
            output::lake_table(&lake, &project).await?;
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Ingest { names, as_of, force, chunk_mib } => {
            let mut opts = IngestOptions { force, chunk_bytes: chunk_mib.max(1) << 20, ..IngestOptions::default() };
            if let Some(d) = as_of {
                opts.as_of = d;
            }
            let failed = ingest(&project, &names, &opts).await?;
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Lake { name, json } => {
            let lake = Lake::open(&project.lake)?;
            match name {
                None if json => {
                    let mut all = Vec::new();
                    for n in lake.datasets().await? {
                        all.extend(lake.current(&n).await?);
                    }
                    println!("{}", serde_json::to_string_pretty(&all)?);
                }
                None => output::lake_table(&lake, &project).await?,
                Some(n) => output::dataset_detail(&lake, &n, json).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Datasets { markdown } => {
            let (ok, failed) = load_connectors(&project)?;
            if markdown {
                print!("{}", crate::connector::catalog::markdown(&ok));
            } else {
                output::datasets(&ok);
            }
            Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::Sql { query, json } => {
            let lake = Lake::open(&project.lake)?;
            let engine = Engine::local();
            engine.register_lake(&lake).await?;
            let df = engine.sql(&query).await?;
            let batches = df.collect().await?;
            output::batches(&batches, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fixtures { command: FixturesCommand::Generate { seed, scale, out, only } } => {
            let out = out.unwrap_or_else(|| project.fixtures_dir());
            let started = Instant::now();
            let report = crate::county::generate(&crate::county::Settings { seed, scale, only }, &out)?;
            for (file, rows) in &report.files {
                println!("{rows:>10}  {}", file.display());
            }
            println!(
                "生成完成: {} 个文件, 用时 {:.1}s → {}",
                report.files.len(),
                started.elapsed().as_secs_f64(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads every connector; a broken one is reported and the others are returned.
fn load_connectors(project: &Project) -> anyhow::Result<(Vec<Connector>, bool)> {
    let mut ok = Vec::new();
    let mut failed = false;
    for c in project.connectors()? {
        match c {
            Ok(c) => ok.push(c),
            Err(e) => {
                eprintln!("searchlight: {e}");
                failed = true;
            }
        }
    }
    Ok((ok, failed))
}

/// Ingests the named connectors (all when empty); prints a summary. Returns whether any failed.
async fn ingest(project: &Project, names: &[String], opts: &IngestOptions) -> anyhow::Result<bool> {
    let lake = Lake::open(&project.lake)?;
    let (connectors, mut failed) = load_connectors(project)?;
    for n in names {
        if !connectors.iter().any(|c| c.name() == n) {
            anyhow::bail!("no connector named `{n}` in {}", project.connectors_dir().display());
        }
    }
    let mut rows = Vec::new();
    for conn in connectors.iter().filter(|c| names.is_empty() || names.iter().any(|n| n == c.name())) {
        let started = Instant::now();
        let bar = output::ProgressBar::new(conn.name());
        let result = lake.ingest(conn, &project.root, opts, &bar).await;
        bar.finish();
        match result {
            Ok(outcome) => rows.push(output::IngestRow::new(conn, &outcome, started.elapsed())),
            Err(e) => {
                eprintln!("searchlight: {}: {e}", conn.name());
                rows.push(output::IngestRow::failed(conn, started.elapsed()));
                failed = true;
            }
        }
    }
    output::ingest_table(&rows);
    Ok(failed)
}
