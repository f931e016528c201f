//! Fields of a later phase met while decoding in an earlier dialect are skipped (DESIGN:
//! "Fields of later phases and unknown extensions are skipped, not rejected"), so that
//! `decode(encode(x)) == x` in every dialect. One test per case the `cap_*` fuzz targets
//! found (fuzz/README.md); the inputs are the minimised crash parameters.

mod common;

use common::{dec, enc, hex};
use strowger_cap::ops::*;
use strowger_cap::*;

/// Decodes `param` in `d`, checks it survives a round trip in `d`, and returns it.
fn round_trip(d: Dialect, code: OpCode, param: &[u8]) -> Operation<'_> {
    let op = dec(d, code, param);
    let again = enc(&op, d);
    assert_eq!(dec(d, code, &again), op, "{d:?} {code:?}");
    op
}

#[test]
fn reset_timer_call_segment_id_is_v4_only() {
    // { timerID [0] tssf, timervalue [1] 60, callSegmentID [3] 2 }
    let p = hex("3009 800100 81013c 830102");
    for d in [Dialect::CapV2, Dialect::CapV3] {
        let Operation::ResetTimer(r) = round_trip(d, OpCode::RESET_TIMER, &p) else {
            panic!()
        };
        assert_eq!((r.timer_value, r.call_segment_id), (60, None));
    }
    let Operation::ResetTimer(r) = round_trip(Dialect::CapV4, OpCode::RESET_TIMER, &p) else {
        panic!()
    };
    assert_eq!(r.call_segment_id, Some(2));
}

#[test]
fn connect_leg_to_be_connected_is_v4_only() {
    // { destinationRoutingAddress [0] { 04 07 … }, legToBeConnected [21] { [0] 02 } }
    let p = hex("3010 a009 0407 04901497214365 b503 800102");
    let Operation::Connect(c) = round_trip(Dialect::CapV3, OpCode::CONNECT, &p) else {
        panic!()
    };
    assert_eq!(c.leg_to_be_connected, None);
    let Operation::Connect(c) = round_trip(Dialect::CapV4, OpCode::CONNECT, &p) else {
        panic!()
    };
    assert_eq!(c.leg_to_be_connected, Some(&hex("800102")[..]));
}

#[test]
fn connect_to_resource_call_segment_id_is_v4_only() {
    // { none [3] NULL, callSegmentID [50] 2 }
    let p = hex("3006 8300 9f320102");
    for d in [Dialect::CapV2, Dialect::CapV3, Dialect::InapCs1] {
        let Operation::ConnectToResource(c) = round_trip(d, OpCode::CONNECT_TO_RESOURCE, &p) else {
            panic!()
        };
        assert_eq!(c.call_segment_id, None);
    }
    let Operation::ConnectToResource(c) =
        round_trip(Dialect::CapV4, OpCode::CONNECT_TO_RESOURCE, &p)
    else {
        panic!()
    };
    assert_eq!(c.call_segment_id, Some(2));
}

#[test]
fn srr_first_announcement_started_is_v4_only() {
    // firstAnnouncementStarted [51] NULL: before CAP v4 the argument is a bare NULL, which
    // cannot say this; it is refused (UnexpectedDataValue) rather than read as "complete".
    let p = hex("9f3300");
    for d in [Dialect::CapV2, Dialect::CapV3, Dialect::InapCs1] {
        let e = Operation::decode(d, OpCode::SPECIALIZED_RESOURCE_REPORT, Some(&p)).unwrap_err();
        assert!(
            matches!(e, CapError::UnexpectedDataValue(_)),
            "{d:?}: {e:?}"
        );
    }
    assert_eq!(
        round_trip(Dialect::CapV4, OpCode::SPECIALIZED_RESOURCE_REPORT, &p),
        Operation::SpecializedResourceReport(SpecializedResourceReport::FirstAnnouncementStarted)
    );
}

#[test]
fn apply_charging_v2_top_level_tone_and_extensions() {
    // v2: timeDurationCharging { [0] 1200, tone [3] TRUE } without release: v2 can carry the
    // tone only inside releaseIfDurationExceeded, so it is dropped.
    let p = hex("3010 8009 a007 800204b0 8301ff a203800101");
    let Operation::ApplyCharging(a) = round_trip(Dialect::CapV2, OpCode::APPLY_CHARGING, &p) else {
        panic!()
    };
    let AChBilling::TimeDuration(t) = a.ach_billing else {
        panic!()
    };
    assert_eq!((t.max_call_period_duration, t.tone), (1200, false));
    // In v3 the same tone is a field of its own and is kept.
    let Operation::ApplyCharging(a) = round_trip(Dialect::CapV3, OpCode::APPLY_CHARGING, &p) else {
        panic!()
    };
    let AChBilling::TimeDuration(t) = a.ach_billing else {
        panic!()
    };
    assert!(t.tone);
    // v2: extensions [4] inside timeDurationCharging (v3+) is skipped.
    let p = hex("300e 8007 a005 800127 a400 a203800101");
    let Operation::ApplyCharging(a) = round_trip(Dialect::CapV2, OpCode::APPLY_CHARGING, &p) else {
        panic!()
    };
    let AChBilling::TimeDuration(t) = a.ach_billing else {
        panic!()
    };
    assert_eq!(t.extensions, None);
    let Operation::ApplyCharging(a) = round_trip(Dialect::CapV3, OpCode::APPLY_CHARGING, &p) else {
        panic!()
    };
    let AChBilling::TimeDuration(t) = a.ach_billing else {
        panic!()
    };
    assert_eq!(t.extensions, Some(&[][..]));
}

#[test]
fn fci_append_free_format_data_is_v3_plus() {
    // OCTET STRING { [0] { freeFormatData [0] "PVN-42", appendFreeFormatData [2] append } }
    let p = hex("040d a00b 800656504e2d3432 820101");
    let camel = |d| match round_trip(d, OpCode::FURNISH_CHARGING_INFORMATION, &p) {
        Operation::FurnishChargingInformation(FurnishChargingInformation {
            fci: Fci::Camel(c),
        }) => c,
        o => panic!("{o:?}"),
    };
    assert!(!camel(Dialect::CapV2).append);
    assert!(camel(Dialect::CapV3).append);
    assert!(camel(Dialect::CapV4).append);
}
