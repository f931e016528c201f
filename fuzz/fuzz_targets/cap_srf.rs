#![no_main]
#[path = "../checks/cap.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::operations(checks::SRF, data));
