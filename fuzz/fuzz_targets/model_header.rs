//! `cargo fuzz run model_header`: see `searchlight::fuzzing::model_header` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| searchlight::fuzzing::model_header(data));
