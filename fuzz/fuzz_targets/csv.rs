//! `cargo fuzz run csv`: see `searchlight::fuzzing::csv` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::csv(data));
