//! Replays the committed corpus and crash files of the `cap_*` and `stack` fuzz targets
//! through the same checks the targets run.

#[path = "../../../fuzz/checks/cap.rs"]
mod cap;
#[path = "../../../fuzz/replay.rs"]
mod replay;
#[path = "../../../fuzz/checks/stack.rs"]
mod stack;
#[path = "../../../fuzz/checks/tcap.rs"]
mod tcap;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn cap_call_corpus() {
    replay::replay(DIR, "cap_call", |d| cap::operations(cap::CALL_CONTROL, d));
}

#[test]
fn cap_charging_corpus() {
    replay::replay(DIR, "cap_charging", |d| cap::operations(cap::CHARGING, d));
}

#[test]
fn cap_srf_corpus() {
    replay::replay(DIR, "cap_srf", |d| cap::operations(cap::SRF, d));
}

#[test]
fn cap_errors_corpus() {
    replay::replay(DIR, "cap_errors", cap::errors);
}

#[test]
fn stack_corpus() {
    replay::replay(DIR, "stack", stack::check);
}
