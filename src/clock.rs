//! The clock every stage that stamps a time reads: the scheduler ("what is due"), a job run's
//! start and end, the run id, the ledger's recording time and the outbox's queue time. It is
//! passed in, never read from the system inside a stage, so a test can fix it and a run's
//! times all come from one place. (A run's *as-of date* is not a clock reading: it is the date
//! the data describes; see [`crate::runner::RunRequest`].)

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Now, as a stage sees it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (the command line and the server use it).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that reads what it is set to (tests).
#[derive(Debug)]
pub struct SetClock(Mutex<DateTime<Utc>>);

impl SetClock {
    pub fn new(at: DateTime<Utc>) -> SetClock {
        SetClock(Mutex::new(at))
    }

    /// Sets it to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for SetClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
