//! STAGE 7 · supervision that runs by itself: the schedules of `searchlight.toml` (jobs of
//! connectors and models on cron, in the project's time zone), and what is due when — a pure
//! function of the schedules, the run history and an injected clock ([`due`]), so it is tested
//! without waiting.

pub mod config;
pub mod due;

pub use config::{Job, Serve};
pub use due::due;
