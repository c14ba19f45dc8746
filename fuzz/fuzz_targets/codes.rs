//! `cargo fuzz run codes`: see `searchlight::fuzzing::codes` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::codes(data));
