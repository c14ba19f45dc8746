//! STAGE 7 · supervision that runs by itself, on the service settings of `searchlight.toml`
//! ([`crate::settings::serve`]): what is due when — a pure function of the schedules, the run history and an
//! injected clock ([`due`]) — the server that runs due jobs one at a time through
//! [`crate::pipeline::job`] under a lease in the ledger ([`serve`]), and the sender that drains
//! the outbox over SMTP with retries ([`send`]).

pub mod due;
pub mod send;
pub mod serve;

pub use crate::settings::{Job, Serve};
pub use due::due;
