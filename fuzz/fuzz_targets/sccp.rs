#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| strowger_sccp::fuzzing::check(data));
