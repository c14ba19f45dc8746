//! `cargo fuzz run values`: see `searchlight::fuzzing::values` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::values(data));
