#![no_main]
#[path = "../checks/tcap.rs"]
mod checks;
libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::dialogue(data));
