//! Replays the committed corpus and crash files of the `tcap` and `tcap_dialogue` fuzz
//! targets through the same checks the targets run.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[path = "../../../fuzz/checks/tcap.rs"]
mod checks;

#[test]
fn tcap_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "tcap", checks::message);
}

#[test]
fn tcap_dialogue_corpus() {
    replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "tcap_dialogue",
        checks::dialogue,
    );
}
