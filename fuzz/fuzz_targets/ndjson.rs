//! `cargo fuzz run ndjson`: see `searchlight::fuzzing::ndjson` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::ndjson(data));
