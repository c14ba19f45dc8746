//! Named crash points for tests that prove crash safety.
//!
//! `SEARCHLIGHT_FAULT=<name>` makes the process abort when it reaches the point of that name,
//! the way a power cut or `kill -9` would: no destructors, no flushing. Tests run the binary with
//! it and then check that committed data is intact. Unset, a point costs one environment lookup.

/// Aborts the process if `SEARCHLIGHT_FAULT` names this point.
pub fn point(name: &str) {
    if std::env::var_os("SEARCHLIGHT_FAULT").is_some_and(|v| v == name) {
        eprintln!("searchlight: fault injected at {name}");
        std::process::abort();
    }
}
