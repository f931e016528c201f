//! Replays `fuzz/corpus/m3ua` and `fuzz/artifacts/m3ua` through the `m3ua` fuzz target's check.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn m3ua_corpus() {
    replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "m3ua",
        strowger_m3ua::fuzzing::check,
    );
}
