//! `cargo fuzz run ocds`: see `searchlight::fuzzing::ocds` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::ocds(data));
