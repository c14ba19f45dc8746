//! # searchlight (探照灯)
//!
//! A big-data supervision engine (大数据监督): it brings the exports of finance, land,
//! procurement and poverty-relief systems, and the reference registries they are compared with,
//! into a versioned Parquet lake; runs supervision models (监督模型) written as SQL over it; and
//! turns every row a model returns into a problem clue (问题线索) that is worked to closure.
//!
//! ```text
//!   connectors/*.toml ──▶ connector ──▶ lake ──▶ engine ──▶ runner ──▶ ledger ──▶ paper
//!   (GBK CSV, xlsx,        read,        immutable  DataFusion  models/*.sql  SQLite: runs,   问题底稿
//!    NDJSON, Parquet,      normalise,   Parquet    + SQL       → clues with  sightings,      (md, html)
//!    OCDS, databases,      quarantine   snapshots  functions   evidence      workflow events
//!    HTTP APIs)
//! ```
//!
//! | stage | seam | a new … plugs in by |
//! |---|---|---|
//! | schema | [`schema::Schema::bundled`] | a dataset, column or value word: `models/schema/*.toml` |
//! | connector | [`connector::load`], [`connector::Connector::source`] → [`connector::source::Source`] (survey, read a split into raw rows) | a format: a `FormatSpec` variant + one reader module; a live source: one `Source` impl |
//! | lake | [`lake::Lake::ingest`], [`lake::Lake::current`] | nothing: the lake holds only Parquet |
//! | engine | [`engine::Engine`], [`engine::udf::functions`] | a SQL function: one entry in `functions()` |
//! | model | [`model::load`] | a model: one `.sql` file (+ `.test.toml`), no Rust |
//! | runner | [`runner::Runner::run`] → [`runner::RunReport`]; [`runner::inputs::assess`] | — (models are data) |
//! | ledger | [`ledger::Ledger::record`], [`ledger::Ledger::act`] | a workflow step: a [`ledger::Step`] variant |
//! | paper, brief | [`paper::build`], [`brief::build`] → [`doc::Document`] | an output format: a [`doc::Format`] variant and one renderer |
//!
//! [`pipeline`] is the one seam the command line calls to ingest (file connectors, then derived
//! datasets), run and record. [`library`] is the bundled model library and schema.
//!
//! Settings ([`settings`], `searchlight.toml`) are data at the bottom that every stage reads.
//! Code standards shared by the stages (ID numbers, credit codes, region codes) live in
//! [`codes`]; object stores by URL in [`storage`]. The demo-county generator ([`demo`], feature
//! `demo`) sits outside the stages: it only writes export files for them to read.

pub mod brief;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod connector;
#[cfg(feature = "demo")]
pub mod demo;
pub mod digest;
pub mod doc;
pub mod engine;
pub mod fault;
pub mod fuzzing;
pub mod lake;
pub mod ledger;
pub mod library;
pub mod limits;
pub mod model;
pub mod paper;
pub mod pipeline;
pub mod position;
pub mod project;
pub mod redact;
pub mod runner;
pub mod scheduler;
pub mod schema;
pub mod server;
pub mod settings;
pub mod storage;
pub mod units;
