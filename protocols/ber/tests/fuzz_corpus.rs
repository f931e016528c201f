//! Replays `fuzz/corpus/ber` and `fuzz/artifacts/ber` through the `ber` fuzz target's check.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn ber_corpus() {
    replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "ber",
        strowger_ber::fuzzing::check,
    );
}
