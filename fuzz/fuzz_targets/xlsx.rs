//! `cargo fuzz run xlsx`: see `searchlight::fuzzing::xlsx` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::xlsx(data));
