//! `cargo fuzz run xlsx`: see `searchlight::fuzzing::xlsx` for what it checks.
//!
//! The workbook reader catches calamine's own panics on malformed files (and reports the file
//! as unreadable); libfuzzer-sys's hook would abort on those caught panics, so this target puts
//! the default hook back. An uncaught panic still aborts (it cannot unwind out of the target).
#![no_main]

libfuzzer_sys::fuzz_target!(init: { let _ = std::panic::take_hook(); }, |data: &[u8]| searchlight::fuzzing::xlsx(data));
