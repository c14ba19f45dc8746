//! The single integration-test binary (one link of DataFusion instead of one per file).
//! New tests go into the module of the stage they exercise; `util` holds shared helpers.

mod brief;
mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod connector;
#[cfg(feature = "database")]
mod database;
mod fixtures;
mod fuzz_smoke;
mod http;
mod lake;
mod layouts;
mod ledger;
mod mail;
mod mapping;
mod meaning;
mod models;
mod ocds;
mod onboarding;
mod redaction;
mod s3;
mod serve;
mod trust;
mod udf;
mod util;
mod workbench;
