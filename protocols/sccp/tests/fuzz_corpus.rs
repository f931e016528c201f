//! Replays `fuzz/corpus/sccp` and `fuzz/artifacts/sccp` through the `sccp` fuzz target's check.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn sccp_corpus() {
    replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "sccp",
        strowger_sccp::fuzzing::check,
    );
}
