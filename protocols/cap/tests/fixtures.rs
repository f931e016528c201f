//! Hand-built fixtures: each byte string is assembled from the ASN.1 quoted in the module
//! docs (TS 29.078 / ETS 300 374-1), with the reasoning beside it. They pin the dialect
//! differences, the tolerance for unknown extensions and the answer owed for each failure.

mod common;

use common::{dec, enc, hex};
use strowger_cap::numbers::{Cause, CauseLocation, CauseValue};
use strowger_cap::ops::*;
use strowger_cap::*;

#[test]
fn release_if_duration_exceeded_differs_by_phase() {
    let mut t = TimeDurationCharging::new(600, true);
    t.tone = true;
    let op = Operation::ApplyCharging(ApplyCharging::time_duration(t));
    // CAP v2: [0] OCTET STRING { [0] timeDurationCharging { [0] 600 = 02 58,
    //   [1] ReleaseIfDurationExceeded SEQUENCE { tone BOOLEAN TRUE } } }, [2] { [0] leg1 }
    let v2 = hex("3012 800b a009 80020258 a1030101ff a203800101");
    // CAP v3: releaseIfdurationExceeded [1] BOOLEAN, tone [3] BOOLEAN
    let v3 = hex("3013 800c a00a 80020258 8101ff 8301ff a203800101");
    // CAP v4: audibleIndicator [3] CHOICE { tone BOOLEAN } (a tagged CHOICE is explicit)
    let v4 = hex("3015 800e a00c 80020258 8101ff a3030101ff a203800101");
    assert_eq!(enc(&op, Dialect::CapV2), v2);
    assert_eq!(enc(&op, Dialect::CapV3), v3);
    assert_eq!(enc(&op, Dialect::CapV4), v4);
    assert_eq!(enc(&op, Dialect::InapCs1), v3);
    for (d, b) in [
        (Dialect::CapV2, &v2),
        (Dialect::CapV3, &v3),
        (Dialect::CapV4, &v4),
    ] {
        assert_eq!(dec(d, OpCode::APPLY_CHARGING, b), op);
    }
    // Receivers are lenient: a v3 encoding read in a v2 dialogue means the same.
    assert_eq!(dec(Dialect::CapV2, OpCode::APPLY_CHARGING, &v3), op);
}

#[test]
fn apply_charging_report_octet_string() {
    // 04 len { [0] { [0] { [1] leg2 }, [1] { [0] 3000 = 0b b8 }, [2] FALSE } }
    let b = hex("0410 a00e a003810102 a10480020bb8 820100");
    let Operation::ApplyChargingReport(r) = dec(Dialect::CapV2, OpCode::APPLY_CHARGING_REPORT, &b)
    else {
        panic!()
    };
    let CallResult::TimeDuration(t) = r.call_result else {
        panic!()
    };
    assert_eq!(t.party_to_charge, LegType::LEG2);
    assert_eq!(t.time_information.total(), 3000);
    assert!(!t.leg_active);
    // With an unknown extension addition [9] inside the CallResult, still fine.
    let b = hex("0413 a011 a003810102 a10480020bb8 820100 890100");
    assert!(Operation::decode(Dialect::CapV2, OpCode::APPLY_CHARGING_REPORT, Some(&b)).is_ok());
    // In INAP CS-1 the contents are network specific: kept raw when not the CAMEL type.
    let b = hex("0403 010203");
    let Operation::ApplyChargingReport(r) =
        dec(Dialect::InapCs1, OpCode::APPLY_CHARGING_REPORT, &b)
    else {
        panic!()
    };
    assert_eq!(r.call_result, CallResult::Raw(&[1, 2, 3]));
    // In CAP the same is a syntax error.
    assert!(Operation::decode(Dialect::CapV2, OpCode::APPLY_CHARGING_REPORT, Some(&b)).is_err());
}

#[test]
fn specialized_resource_report_differs_by_phase() {
    let op =
        Operation::SpecializedResourceReport(SpecializedResourceReport::AllAnnouncementsComplete);
    assert_eq!(enc(&op, Dialect::CapV2), hex("0500"));
    assert_eq!(enc(&op, Dialect::InapCs1), hex("0500"));
    assert_eq!(enc(&op, Dialect::CapV4), hex("9f3200"));
    assert_eq!(
        dec(
            Dialect::CapV4,
            OpCode::SPECIALIZED_RESOURCE_REPORT,
            &hex("0500")
        ),
        op
    );
    assert_eq!(
        dec(
            Dialect::CapV4,
            OpCode::SPECIALIZED_RESOURCE_REPORT,
            &hex("9f3300")
        ),
        Operation::SpecializedResourceReport(SpecializedResourceReport::FirstAnnouncementStarted)
    );
}

#[test]
fn release_call_forms() {
    let cause = Cause::new(CauseLocation::PUBLIC_LOCAL, CauseValue::NORMAL_UNSPECIFIED)
        .encode()
        .unwrap();
    let op = Operation::ReleaseCall(ReleaseCall {
        cause: &cause,
        extensions: None,
    });
    // ReleaseCallArg ::= Cause (OCTET STRING): 04 02 82 9f
    assert_eq!(enc(&op, Dialect::CapV2), hex("0402829f"));
    // CAP v4 allCallSegmentsWithExtension [2] { [0] cause, [1] extensions }
    let ext = hex("300506000a0100");
    let op4 = Operation::ReleaseCall(ReleaseCall {
        cause: &cause,
        extensions: Some(&ext),
    });
    let b = enc(&op4, Dialect::CapV4);
    assert_eq!(b, hex("a20d 8002829f a107300506000a0100"));
    assert_eq!(dec(Dialect::CapV4, OpCode::RELEASE_CALL, &b), op4);
    // In v2 the extension cannot be carried.
    assert_eq!(enc(&op4, Dialect::CapV2), hex("0402829f"));
}

#[test]
fn connect_minimal_and_inap() {
    let dra = hex("0490 1497214365");
    let op = Operation::Connect(Connect::to(&dra));
    // 30 len { [0] SEQUENCE OF { 04 len number } }
    let b = hex("300b a009 0407 04901497214365");
    assert_eq!(enc(&op, Dialect::CapV2), b);
    assert_eq!(dec(Dialect::InapCs1, OpCode::CONNECT, &b), op);
    // INAP: callingPartyNumber [27] is understood; in CAP [27] is not a Connect field.
    let b = hex("3010 a009 0407 04901497214365 9b03031122");
    let Operation::Connect(c) = dec(Dialect::InapCs1, OpCode::CONNECT, &b) else {
        panic!()
    };
    assert_eq!(c.calling_party_number, Some(&[0x03, 0x11, 0x22][..]));
    let Operation::Connect(c) = dec(Dialect::CapV2, OpCode::CONNECT, &b) else {
        panic!()
    };
    assert_eq!(c.calling_party_number, None);
}

#[test]
fn inap_event_report_collected_info() {
    // EventReportBCSMArg { [0] collectedInfo(2), [1] bcsmEventCorrelationID (INAP, skipped),
    //   [2] { [0] collectedInfoSpecificInfo { [0] calledPartynumber } } }
    let b = hex("3014 800102 8102 0102 a20b a009 8007 04901497214365");
    let Operation::EventReportBcsm(e) = dec(Dialect::InapCs1, OpCode::EVENT_REPORT_BCSM, &b) else {
        panic!()
    };
    assert_eq!(e.event_type, EventTypeBcsm::COLLECTED_INFO);
    assert_eq!(
        e.event_specific_information,
        Some(EventSpecificInfo::CollectedInfo {
            called_party_number: &hex("04901497214365")
        })
    );
    // CAP has no alternative [0]: kept as Other.
    let Operation::EventReportBcsm(e) = dec(Dialect::CapV2, OpCode::EVENT_REPORT_BCSM, &b) else {
        panic!()
    };
    assert!(matches!(
        e.event_specific_information,
        Some(EventSpecificInfo::Other { tag: 0, .. })
    ));
}

#[test]
fn initial_dp_tolerates_unknown_and_indefinite() {
    // serviceKey 5, calledPartyBCDNumber, then an unknown extension addition [99] and an
    // INAP-only triggerType [16]: skipped, not rejected.
    let b = hex("3010 800105 9f3803810021 9f630100 900101");
    let Operation::InitialDp(i) = dec(Dialect::CapV2, OpCode::INITIAL_DP, &b) else {
        panic!()
    };
    assert_eq!(i.service_key, 5);
    assert_eq!(i.called_bcd().unwrap().unwrap().digits, "0012");
    // The same argument with indefinite lengths (SEQUENCE and a constructed [52]).
    let b = hex("3080 800105 bf348080020105 0000 0000");
    let Operation::InitialDp(i) = dec(Dialect::CapV2, OpCode::INITIAL_DP, &b) else {
        panic!()
    };
    assert_eq!(i.location_information, Some(&hex("80020105")[..]));
}

#[test]
fn etc_sii2_tag_differs_by_phase() {
    let sii = hex("800101");
    let op = Operation::EstablishTemporaryConnection(EstablishTemporaryConnection {
        assisting_ssp_ip_routing_address: &[0x06, 0x83, 0x11],
        service_interaction_indicators_two: Some(&sii),
        ..Default::default()
    });
    assert_eq!(enc(&op, Dialect::CapV2), hex("300a 8003068311 a703800101"));
    assert_eq!(enc(&op, Dialect::CapV3), hex("300a 8003068311 a603800101"));
}

#[test]
fn answers_owed_for_each_failure() {
    use Answer::*;
    let ans = |d, op: OpCode, p: Option<&[u8]>| Operation::decode(d, op, p).unwrap_err().answer(op);
    // Unknown code, and a phase-3 operation in a phase-2 dialogue.
    assert_eq!(
        ans(Dialect::CapV2, OpCode(99), None),
        RejectUnrecognizedOperation
    );
    assert_eq!(
        ans(Dialect::CapV2, OpCode::CALL_GAP, Some(&hex("3000"))),
        RejectUnrecognizedOperation
    );
    assert_eq!(
        ans(
            Dialect::InapCs1,
            OpCode::CONTINUE_WITH_ARGUMENT,
            Some(&hex("3000"))
        ),
        RejectUnrecognizedOperation
    );
    // InitialDP without serviceKey: ReturnError missingParameter (in its ERRORS set).
    assert_eq!(
        ans(Dialect::CapV2, OpCode::INITIAL_DP, Some(&hex("3000"))),
        ReturnError(ErrorCode::MISSING_PARAMETER)
    );
    assert_eq!(
        ans(Dialect::CapV2, OpCode::INITIAL_DP, None),
        ReturnError(ErrorCode::MISSING_PARAMETER)
    );
    // Not BER at all / wrong universal tag: Reject mistypedParameter.
    assert_eq!(
        ans(Dialect::CapV2, OpCode::INITIAL_DP, Some(&hex("30058001"))),
        RejectMistypedParameter
    );
    assert_eq!(
        ans(Dialect::CapV2, OpCode::INITIAL_DP, Some(&hex("0400"))),
        RejectMistypedParameter
    );
    assert_eq!(
        ans(
            Dialect::CapV2,
            OpCode::INITIAL_DP,
            Some(&hex("3003800105ff"))
        ),
        RejectMistypedParameter
    );
    // EventReportBCSM has no ERRORS: a missing eventTypeBCSM can only be rejected.
    assert_eq!(
        ans(
            Dialect::CapV2,
            OpCode::EVENT_REPORT_BCSM,
            Some(&hex("3000"))
        ),
        RejectMistypedParameter
    );
    // maxCallPeriodDuration 0 is outside 1..864000: parameterOutOfRange.
    let ac0 = hex("300c 8005a003800100 a203800101");
    assert_eq!(
        ans(
            Dialect::CapV2,
            OpCode::APPLY_CHARGING_REPORT,
            Some(&hex("0400"))
        ),
        RejectMistypedParameter
    );
    assert_eq!(
        ans(Dialect::CapV2, OpCode::APPLY_CHARGING, Some(&ac0)),
        ReturnError(ErrorCode::PARAMETER_OUT_OF_RANGE)
    );
    // Continue with an argument: an unexpected parameter; Continue has no ERRORS.
    assert_eq!(
        ans(Dialect::CapV2, OpCode::CONTINUE, Some(&hex("0500"))),
        RejectMistypedParameter
    );
    // A bad BCD digit surfaces from the typed accessor as unexpectedDataValue.
    let e = numbers::Imsi::decode(&hex("32f405")).unwrap_err();
    assert_eq!(
        e.answer(OpCode::INITIAL_DP),
        ReturnError(ErrorCode::UNEXPECTED_DATA_VALUE)
    );
}

#[test]
fn srf_hand_built() {
    // PlayAnnouncement { [0] { [0] inbandInfo { [0] { [0] 17 } } }, [1] TRUE, [2] TRUE }
    let op =
        Operation::PlayAnnouncement(PlayAnnouncement::new(InformationToSend::announcement(17)));
    assert_eq!(
        enc(&op, Dialect::CapV2),
        hex("300f a007a005a003800111 8101ff 8201ff")
    );
    // PromptAndCollect: collectedInfo [0] { collectedDigits [0] { [0] 4, [1] 4, [2] '#' } }
    let p = Operation::PromptAndCollectUserInformation(PromptAndCollectUserInformation::new(
        CollectedDigits::pin(4, 4),
        None,
    ));
    assert_eq!(
        enc(&p, Dialect::CapV2),
        hex("3010 a00b a009 800104 810104 82010c 8101ff")
    );
    // ConnectToResource none: 30 02 83 00; INAP legID alternative [1] { [0] leg1 }.
    assert_eq!(
        enc(
            &Operation::ConnectToResource(ConnectToResource::local()),
            Dialect::CapV2
        ),
        hex("30028300")
    );
    let b = hex("3005 a103800101");
    let Operation::ConnectToResource(c) = dec(Dialect::InapCs1, OpCode::CONNECT_TO_RESOURCE, &b)
    else {
        panic!()
    };
    assert_eq!(
        c.resource_address,
        ResourceAddress::LegId(LegId::Sending(LegType::LEG1))
    );
    // Cancel allRequests [1] NULL.
    assert_eq!(
        enc(&Operation::Cancel(Cancel::AllRequests), Dialect::CapV2),
        hex("8100")
    );
    // ActivityTest, Continue and DFC carry nothing.
    for op in [
        Operation::ActivityTest,
        Operation::Continue,
        Operation::DisconnectForwardConnection,
    ] {
        assert!(enc(&op, Dialect::CapV2).is_empty());
        assert_eq!(
            Operation::decode(Dialect::CapV2, op.opcode(), None).unwrap(),
            op
        );
    }
}

#[test]
fn rrbe_for_prepaid_call() {
    // The events the VPN/prepaid service arms: oCalledPartyBusy, oNoAnswer (timer 30 s),
    // oAnswer notify, oDisconnect on both legs interrupted, routeSelectFailure.
    let ev = [
        BcsmEvent::new(
            EventTypeBcsm::O_CALLED_PARTY_BUSY,
            MonitorMode::INTERRUPTED,
            LegType::LEG2,
        ),
        BcsmEvent {
            dp_specific_criteria: Some(DpSpecificCriteria::ApplicationTimer(30)),
            ..BcsmEvent::new(
                EventTypeBcsm::O_NO_ANSWER,
                MonitorMode::INTERRUPTED,
                LegType::LEG2,
            )
        },
        BcsmEvent::new(
            EventTypeBcsm::O_ANSWER,
            MonitorMode::NOTIFY_AND_CONTINUE,
            LegType::LEG2,
        ),
        BcsmEvent::new(
            EventTypeBcsm::O_DISCONNECT,
            MonitorMode::INTERRUPTED,
            LegType::LEG1,
        ),
        BcsmEvent::new(
            EventTypeBcsm::O_DISCONNECT,
            MonitorMode::INTERRUPTED,
            LegType::LEG2,
        ),
    ];
    let op = Operation::RequestReportBcsmEvent(RequestReportBcsmEvent {
        bcsm_events: List::Items(&ev),
        extensions: None,
    });
    let b = enc(&op, Dialect::CapV2);
    // first event: 30 0b { 80 01 05, 81 01 00, a2 03 { 80 01 02 } }
    assert_eq!(&b[4..17], &hex("300b800105810100a203800102")[..]);
    assert_eq!(
        dec(Dialect::CapV2, OpCode::REQUEST_REPORT_BCSM_EVENT, &b),
        op
    );
}
