//! Checks of the `cap_*` fuzz targets, shared with the corpus replay test
//! `protocols/cap/tests/fuzz_corpus.rs` (both include this file with `#[path]`; it lives here
//! rather than in the crate so the fuzzing work does not touch the CAP sources).
//!
//! Input of every target: octet 0 picks the dialect (bits 0–1) and whether the parameter is
//! absent (bit 7), octet 1 the operation or error within the target's family, the rest is the
//! parameter (one TLV, as carried in the TCAP component).
#![allow(dead_code)]

use bytes::BytesMut;
use strowger_cap::{
    Answer, CapError, CapErrorValue, Dialect, ErrorCode, OpCode, OpResult, Operation,
};

const DIALECTS: [Dialect; 4] = [
    Dialect::CapV2,
    Dialect::CapV3,
    Dialect::CapV4,
    Dialect::InapCs1,
];

/// Call control: InitialDP, Connect, ReleaseCall, RRBE, ERB, Continue(WithArgument),
/// ResetTimer, CallGap, ActivityTest.
pub(crate) const CALL_CONTROL: &[OpCode] = &[
    OpCode::INITIAL_DP,
    OpCode::CONNECT,
    OpCode::RELEASE_CALL,
    OpCode::REQUEST_REPORT_BCSM_EVENT,
    OpCode::EVENT_REPORT_BCSM,
    OpCode::CONTINUE,
    OpCode::CONTINUE_WITH_ARGUMENT,
    OpCode::RESET_TIMER,
    OpCode::CALL_GAP,
    OpCode::ACTIVITY_TEST,
];

/// Charging: ApplyCharging, ApplyChargingReport, FCI, SCI, CIRq, CIRp.
pub(crate) const CHARGING: &[OpCode] = &[
    OpCode::APPLY_CHARGING,
    OpCode::APPLY_CHARGING_REPORT,
    OpCode::FURNISH_CHARGING_INFORMATION,
    OpCode::SEND_CHARGING_INFORMATION,
    OpCode::CALL_INFORMATION_REQUEST,
    OpCode::CALL_INFORMATION_REPORT,
];

/// Specialised resources: PlayAnnouncement, PromptAndCollect (argument and result), SRR,
/// ConnectToResource, ETC, ARI, DFC (with and without argument), Cancel.
pub(crate) const SRF: &[OpCode] = &[
    OpCode::PLAY_ANNOUNCEMENT,
    OpCode::PROMPT_AND_COLLECT_USER_INFORMATION,
    OpCode::SPECIALIZED_RESOURCE_REPORT,
    OpCode::CONNECT_TO_RESOURCE,
    OpCode::ESTABLISH_TEMPORARY_CONNECTION,
    OpCode::ASSIST_REQUEST_INSTRUCTIONS,
    OpCode::DISCONNECT_FORWARD_CONNECTION,
    OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT,
    OpCode::CANCEL,
];

fn split(data: &[u8]) -> Option<(Dialect, u8, Option<&[u8]>)> {
    let [d, i, param @ ..] = data else {
        return None;
    };
    let param = (d & 0x80 == 0).then_some(param);
    Some((DIALECTS[usize::from(d & 3)], *i, param))
}

/// Whatever argument (or result) decodes re-encodes to a parameter that decodes to the same
/// value, canonically; an operation without argument encodes to nothing; a failure maps to an
/// answer the operation allows.
pub(crate) fn operations(family: &[OpCode], data: &[u8]) {
    let Some((dialect, i, param)) = split(data) else {
        return;
    };
    let op = family[usize::from(i) % family.len()];
    operation(dialect, op, param);
    if op.has_result() {
        result(dialect, op, param);
    }
}

/// The result check for one operation (also used by the `stack` target).
pub(crate) fn result(dialect: Dialect, op: OpCode, param: Option<&[u8]>) {
    if let Ok(r) = OpResult::decode(dialect, op, param) {
        assert_eq!(r.opcode(), op);
        let mut b = BytesMut::new();
        r.encode(dialect, &mut b);
        let again = OpResult::decode(dialect, op, (!b.is_empty()).then_some(&b[..]));
        assert_eq!(again, Ok(r), "result round trip");
    }
}

/// The argument check for one operation (also used by the `stack` target).
pub(crate) fn operation(dialect: Dialect, op: OpCode, param: Option<&[u8]>) {
    match Operation::decode(dialect, op, param) {
        Ok(o) => {
            assert_eq!(o.opcode(), op);
            let mut b = BytesMut::new();
            o.encode(dialect, &mut b);
            if !o.has_argument() {
                assert!(b.is_empty(), "argument written for {op:?}");
                return;
            }
            let again = Operation::decode(dialect, op, Some(&b))
                .unwrap_or_else(|e| panic!("encoding of {o:?} does not decode: {e} ({b:02x?})"));
            assert_eq!(again, o, "decode(encode(arg)) != arg");
            let mut b2 = BytesMut::new();
            again.encode(dialect, &mut b2);
            assert_eq!(b, b2, "encoding is not canonical");
        }
        Err(e) => match e.answer(op) {
            Answer::RejectUnrecognizedOperation => {
                assert!(matches!(e, CapError::UnknownOperation(_)));
                assert!(!op.in_dialect(dialect));
            }
            Answer::ReturnError(code) => {
                assert!(
                    op.errors().contains(&code),
                    "{code:?} not in {op:?}'s ERRORS"
                );
            }
            Answer::RejectMistypedParameter => {}
        },
    }
}

/// Error parameters: octet 1 is the error code.
pub(crate) fn errors(data: &[u8]) {
    let Some((_, code, param)) = split(data) else {
        return;
    };
    error(ErrorCode(i64::from(code % 64)), param);
}

/// The error parameter check for one error code (also used by the `stack` target).
pub(crate) fn error(code: ErrorCode, param: Option<&[u8]>) {
    if let Ok(v) = CapErrorValue::decode(code, param) {
        assert_eq!(v.code(), code);
        let mut b = BytesMut::new();
        v.encode_param(&mut b);
        assert_eq!(v.has_param(), !b.is_empty());
        let again = CapErrorValue::decode(code, v.has_param().then_some(&b[..]));
        assert_eq!(again, Ok(v), "error parameter round trip");
    }
}
