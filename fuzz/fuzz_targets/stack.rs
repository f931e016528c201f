#![no_main]
#[path = "../checks/cap.rs"]
mod cap;
#[path = "../checks/stack.rs"]
mod stack;
#[path = "../checks/tcap.rs"]
mod tcap;
libfuzzer_sys::fuzz_target!(|data: &[u8]| stack::check(data));
