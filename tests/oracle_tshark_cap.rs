//! tshark as an independent oracle for CAP (DESIGN.md §3): every CAP operation the SCP uses
//! (with each O/T event type of EventReportBCSM and ApplyCharging in its v2, v3 and v4 forms),
//! the PromptAndCollectUserInformation result and every CAP error code with its parameter,
//! encoded by strowger-cap inside TCAP (with the dialogue's application context, so tshark picks
//! the CAMEL phase), SCCP and M3UA, decoded by tshark: no Malformed/Exception/expert error, and
//! the key fields equal to what was encoded.
//!
//! Each message carries its application context (AARQ in a Begin for gsmSSF → gsmSCF
//! operations, AARE in a Continue/End for gsmSCF → gsmSSF ones), which is how tshark chooses
//! between the CAP v2 and v3/v4 grammars (ApplyCharging differs).

#[path = "support/oracle.rs"]
mod oracle;
mod support;

use bytes::BytesMut;
use oracle::{hex, m3ua_data, Capture, Want};
use strowger_cap::errors::{
    CancelProblem, RequestedInfoErrorReason, TaskRefusedReason, UnavailableNetworkResource,
};
use strowger_cap::ops::*;
use strowger_cap::{
    CapErrorValue, Dialect, ErrorCode, EventTypeBcsm, LegId, LegType, List, MessageType,
    MonitorMode, OpCode, OpResult, Operation,
};
use strowger_sccp::{Class, Message as Sccp, PointCode, ProtocolClass, SccpAddress, Ssn, Udt};
use strowger_tcap::{
    write_invoke, write_return_error, write_return_result, Aare, Aarq, Begin, Code,
    ComponentPortion, Continue, DialoguePortion, End, Message, ObjectId, TransactionId,
};

/// tshark 4.0's CAMEL ROS grammar dissects a ReturnError's parameter (its value is compared
/// below) and then warns that the same TLV "lies beyond the end of the known sequence"; it does
/// so for every error parameter, SEQUENCE (cancelFailed) or ENUMERATED alike, and for the same
/// bytes built by pycrate. Only that warning is tolerated, only on errors with a parameter.
const ERROR_PARAMETER_WARNING: &str = "lies beyond the end of the known sequence definition";

fn ac(d: Dialect) -> (&'static [u8], &'static str) {
    match d {
        Dialect::CapV2 => (
            &[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01],
            "0.4.0.0.1.0.50.1",
        ),
        Dialect::CapV3 => (
            &[0x04, 0x00, 0x00, 0x01, 0x15, 0x03, 0x04],
            "0.4.0.0.1.21.3.4",
        ),
        Dialect::CapV4 => (
            &[0x04, 0x00, 0x00, 0x01, 0x17, 0x03, 0x04],
            "0.4.0.0.1.23.3.4",
        ),
        Dialect::InapCs1 => unreachable!("CAP only"),
    }
}

/// Direction of a message, which decides the dialogue APDU it carries.
#[derive(Clone, Copy)]
enum Dir {
    /// gsmSSF → gsmSCF: TC-BEGIN with AARQ.
    SsfToScf,
    /// gsmSCF → gsmSSF: TC-CONTINUE with AARE.
    ScfToSsf,
    /// gsmSCF → gsmSSF, last: TC-END with AARE.
    End,
}

struct Cap {
    cap: Capture,
    next_tid: u32,
    ops: usize,
    errors: usize,
}

impl Cap {
    fn new() -> Self {
        Cap {
            cap: Capture::default(),
            next_tid: 0x4341_5000,
            ops: 0,
            errors: 0,
        }
    }

    /// Wrap components in TCAP/SCCP/M3UA for `dialect` and `dir`.
    fn push_components(&mut self, dialect: Dialect, dir: Dir, comps: &[u8], want: Want) {
        self.next_tid += 1;
        let t = TransactionId::from_u32(self.next_tid);
        let (oid, oid_str) = ac(dialect);
        let oid = ObjectId::from_encoded(oid).unwrap();
        let cp = Some(ComponentPortion::new(comps));
        let msg = match dir {
            Dir::SsfToScf => Message::Begin(Begin {
                otid: t,
                dialogue: Some(DialoguePortion::Aarq(Aarq::new(oid))),
                components: cp,
            }),
            Dir::ScfToSsf => Message::Continue(Continue {
                otid: t,
                dtid: TransactionId::from_u32(0x1000_0001),
                dialogue: Some(DialoguePortion::Aare(Aare::accepted(oid))),
                components: cp,
            }),
            Dir::End => Message::End(End {
                dtid: t,
                dialogue: Some(DialoguePortion::Aare(Aare::accepted(oid))),
                components: cp,
            }),
        };
        let mut tcap = BytesMut::new();
        msg.encode(&mut tcap);
        let (called, calling) = match dir {
            Dir::SsfToScf => (2, 1),
            _ => (1, 2),
        };
        let mut sccp = BytesMut::new();
        Sccp::Udt(Udt {
            protocol_class: ProtocolClass {
                class: Class::Class1,
                return_on_error: false,
            },
            called: SccpAddress::route_on_ssn(Some(PointCode(called)), Ssn(146)),
            calling: SccpAddress::route_on_ssn(Some(PointCode(calling)), Ssn(146)),
            data: &tcap,
        })
        .encode(&mut sccp)
        .unwrap();
        let tid_field = match dir {
            Dir::End => "tcap.dtid",
            _ => "tcap.otid",
        };
        self.cap.push(
            m3ua_data(u32::from(calling), u32::from(called), 3, &sccp),
            want.eq("tcap.application_context_name", oid_str)
                .eq(tid_field, hex(t.as_bytes())),
        );
    }

    /// One Invoke of `op` encoded by strowger-cap; checks the opcode and invoke id too.
    fn op(&mut self, dialect: Dialect, dir: Dir, op: Operation<'_>, want: Want) {
        let code = op.opcode();
        assert!(code.in_dialect(dialect), "{code:?} in {dialect:?}");
        let mut arg = BytesMut::new();
        op.encode(dialect, &mut arg);
        // What we encoded decodes back to the same value (so the fields compared below are
        // the ones on the wire).
        let param = op.has_argument().then_some(&arg[..]);
        assert_eq!(Operation::decode(dialect, code, param).unwrap(), op);
        let mut comps = BytesMut::new();
        write_invoke(&mut comps, 1, None, &Code::Local(code.0), param);
        let name = format!("{:?} {} {}", dialect, code.name().unwrap(), want.name);
        let want = Want { name, ..want }
            .eq("camel.local", code.0)
            .eq("camel.present", 1);
        self.push_components(dialect, dir, &comps, want);
        self.ops += 1;
    }

    /// A ReturnError with `err` encoded by strowger-cap.
    fn error(&mut self, err: CapErrorValue, want: Want) {
        let mut p = BytesMut::new();
        err.encode_param(&mut p);
        let mut comps = BytesMut::new();
        write_return_error(
            &mut comps,
            7,
            &Code::Local(err.code().0),
            err.has_param().then_some(&p[..]),
        );
        let name = format!("ReturnError {:?} {}", err.code(), want.name);
        let mut want = Want { name, ..want }
            .eq("camel.error_code_local", err.code().0)
            .eq("camel.present", 7);
        if err.has_param() {
            want = want.tolerate(ERROR_PARAMETER_WARNING);
        }
        self.push_components(Dialect::CapV2, Dir::End, &comps, want);
        self.errors += 1;
    }
}

fn w() -> Want {
    Want::new("")
}

/// Q.763 Called Party Number: international, INN not allowed, E.164, "4179123456".
const CALLED: &[u8] = &[0x04, 0x90, 0x14, 0x97, 0x21, 0x43, 0x65];
/// Q.850 Cause: ITU-T coding, location user, normal call clearing (16).
const CAUSE_16: &[u8] = &[0x80, 0x90];
/// Q.850 Cause: user busy (17).
const CAUSE_17: &[u8] = &[0x80, 0x91];

fn tone(release: bool, tone: bool, max: u32) -> TimeDurationCharging<'static> {
    TimeDurationCharging {
        tone,
        tariff_switch_interval: Some(36_000),
        ..TimeDurationCharging::new(max, release)
    }
}

fn call_control(c: &mut Cap) {
    use Dialect::*;
    use Dir::*;
    // InitialDP from an MSC, as pycrate encoded it (protocols/cap/tests/fixtures), decoded and
    // re-encoded by us.
    let fixtures = include_str!("../protocols/cap/tests/fixtures/pycrate.txt");
    let idp_bytes = unhex(fixture(fixtures, "idp_msc_full"));
    let Operation::InitialDp(idp) =
        Operation::decode(CapV2, OpCode::INITIAL_DP, Some(&idp_bytes)).unwrap()
    else {
        panic!("not an InitialDP")
    };
    for d in [CapV2, CapV3, CapV4] {
        c.op(
            d,
            SsfToScf,
            Operation::InitialDp(idp),
            w().eq("camel.serviceKey", idp.service_key)
                .eq("camel.eventTypeBCSM", 2)
                .eq(
                    "camel.callingPartyNumber",
                    hex(idp.calling_party_number.unwrap()),
                )
                .eq(
                    "camel.calledPartyBCDNumber",
                    hex(idp.called_party_bcd_number.unwrap()),
                )
                .eq("gsm_a.dtap.cld_party_bcd_num", "0041799123457")
                .eq("e164.calling_party_number.digits", "4479000000")
                .eq("e212.imsi", "234150999999999")
                .eq("camel.callReferenceNumber", "0102030405060708"),
        );
    }
    // The SCP's answer to a prepaid call: RRBE, ApplyCharging, Connect (CAP v2).
    let events = [
        BcsmEvent {
            event_type: EventTypeBcsm::ROUTE_SELECT_FAILURE,
            monitor_mode: MonitorMode::NOTIFY_AND_CONTINUE,
            leg_id: None,
            dp_specific_criteria: None,
            automatic_rearm: false,
        },
        BcsmEvent {
            event_type: EventTypeBcsm::O_NO_ANSWER,
            monitor_mode: MonitorMode::INTERRUPTED,
            leg_id: Some(LegId::Sending(LegType::LEG2)),
            dp_specific_criteria: Some(DpSpecificCriteria::ApplicationTimer(30)),
            automatic_rearm: false,
        },
        BcsmEvent {
            event_type: EventTypeBcsm::O_ANSWER,
            monitor_mode: MonitorMode::NOTIFY_AND_CONTINUE,
            leg_id: Some(LegId::Sending(LegType::LEG2)),
            dp_specific_criteria: None,
            automatic_rearm: false,
        },
        BcsmEvent {
            event_type: EventTypeBcsm::O_DISCONNECT,
            monitor_mode: MonitorMode::INTERRUPTED,
            leg_id: Some(LegId::Sending(LegType::LEG1)),
            dp_specific_criteria: None,
            automatic_rearm: false,
        },
    ];
    c.op(
        CapV2,
        ScfToSsf,
        Operation::RequestReportBcsmEvent(RequestReportBcsmEvent {
            bcsm_events: List::Items(&events),
            extensions: None,
        }),
        w().eq("camel.eventTypeBCSM", "4|6|7|9")
            .eq("camel.monitorMode", "1|0|1|0")
            // LegID comes from the CS-2 module, so INAP's dissector names it.
            .eq("inap.sendingSideID", "02|02|01")
            .eq("camel.applicationTimer", 30),
    );
    // ApplyCharging: v2 releaseIfdurationExceeded is SEQUENCE { tone }, v3/v4 a BOOLEAN.
    c.op(
        CapV2,
        ScfToSsf,
        Operation::ApplyCharging(ApplyCharging::time_duration(tone(true, true, 1200))),
        w().eq("camel.maxCallPeriodDuration", 1200)
            .has("camel.releaseIfdurationExceeded_element", 1)
            .eq("camel.tone", 1)
            .eq("camel.tariffSwitchInterval", 36_000)
            .eq("camel.sendingSideID", "01"),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::ApplyCharging(ApplyCharging::time_duration(TimeDurationCharging::new(
            600, false,
        ))),
        w().eq("camel.maxCallPeriodDuration", 600)
            .eq("camel.releaseIfdurationExceeded_element", ""),
    );
    c.op(
        CapV3,
        ScfToSsf,
        Operation::ApplyCharging(ApplyCharging::time_duration(tone(true, true, 3000))),
        w().eq("camel.maxCallPeriodDuration", 3000)
            .eq("camel.releaseIfdurationExceeded", 1)
            .eq("camel.tone", 1),
    );
    c.op(
        CapV4,
        ScfToSsf,
        Operation::ApplyCharging(ApplyCharging::time_duration(tone(true, false, 864_000))),
        w().eq("camel.maxCallPeriodDuration", 864_000)
            .eq("camel.releaseIfdurationExceeded", 1),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::Connect(Connect::to(CALLED)),
        w().eq("e164.called_party_number.digits", "4179123456"),
    );
    // The same Connect pycrate encoded (fixture "connect"): our bytes are pycrate's.
    let connect = Connect {
        original_called_party_id: Some(&[0x03, 0x13, 0x11, 0x22]),
        calling_partys_category: Some(10),
        suppression_of_announcement: true,
        o_csi_applicable: true,
        ..Connect::to(CALLED)
    };
    let mut ours = BytesMut::new();
    Operation::Connect(connect).encode(CapV2, &mut ours);
    assert_eq!(hex(&ours), fixture(fixtures, "connect"));
    c.op(
        CapV2,
        ScfToSsf,
        Operation::Connect(connect),
        // tshark 4.0 shows callingPartysCategory 0x0a as 5 in ConnectArg (and as 10 in
        // InitialDP and ContinueWithArgument) for these very bytes, so it is not compared here.
        w().eq("e164.called_party_number.digits", "4179123456")
            .eq("camel.originalCalledPartyID", "03131122")
            .has("camel.suppressionOfAnnouncement_element", 1)
            .has("camel.oCSIApplicable_element", 1),
    );
    c.op(CapV2, ScfToSsf, Operation::Continue, w());
    c.op(
        CapV3,
        ScfToSsf,
        Operation::ContinueWithArgument(ContinueWithArgument {
            calling_partys_category: Some(10),
            suppress_o_csi: true,
            ..Default::default()
        }),
        w().eq("camel.callingPartysCategory", 10),
    );
    c.op(
        CapV2,
        End,
        Operation::ReleaseCall(ReleaseCall {
            cause: CAUSE_17,
            extensions: None,
        }),
        w().eq("camel.cause_indicator", 17),
    );
    // ApplyChargingReport: no tariff switch (active and released), tariff switch.
    for (active, elapsed) in [(true, 600u32), (false, 1234)] {
        let r = ApplyChargingReport {
            call_result: CallResult::TimeDuration(TimeDurationChargingResult {
                party_to_charge: LegType::LEG1,
                time_information: TimeInformation::NoTariffSwitch(elapsed),
                leg_active: active,
                call_leg_released_at_tcp_expiry: false,
                extensions: None,
            }),
        };
        c.op(
            CapV2,
            SsfToScf,
            Operation::ApplyChargingReport(r),
            w().eq("camel.timeIfNoTariffSwitch", elapsed)
                .eq("camel.legActive", u8::from(active))
                .eq("camel.receivingSideID", "01"),
        );
    }
    c.op(
        CapV3,
        SsfToScf,
        Operation::ApplyChargingReport(ApplyChargingReport {
            call_result: CallResult::TimeDuration(TimeDurationChargingResult {
                party_to_charge: LegType::LEG1,
                time_information: TimeInformation::TariffSwitch {
                    time_since_tariff_switch: 600,
                    tariff_switch_interval: Some(140),
                },
                leg_active: true,
                call_leg_released_at_tcp_expiry: false,
                extensions: None,
            }),
        }),
        w().eq("camel.timeSinceTariffSwitch", 600)
            .eq("camel.tariffSwitchInterval", 140),
    );
    // CallInformationRequest / Report.
    let types = [
        RequestedInformationType::CALL_ATTEMPT_ELAPSED_TIME,
        RequestedInformationType::CALL_CONNECTED_ELAPSED_TIME,
        RequestedInformationType::RELEASE_CAUSE,
    ];
    c.op(
        CapV2,
        ScfToSsf,
        Operation::CallInformationRequest(CallInformationRequest {
            requested_information_types: List::Items(&types),
            extensions: None,
            leg_id: LegId::Sending(LegType::LEG2),
        }),
        w().eq("camel.requestedInformationTypeList", 3)
            .eq("camel.sendingSideID", "02"),
    );
    let infos = [
        RequestedInformation {
            info_type: RequestedInformationType::CALL_ATTEMPT_ELAPSED_TIME,
            value: RequestedInformationValue::CallAttemptElapsedTime(7),
        },
        RequestedInformation {
            info_type: RequestedInformationType::CALL_CONNECTED_ELAPSED_TIME,
            value: RequestedInformationValue::CallConnectedElapsedTime(6000),
        },
        RequestedInformation {
            info_type: RequestedInformationType::RELEASE_CAUSE,
            value: RequestedInformationValue::ReleaseCause(CAUSE_16),
        },
    ];
    c.op(
        CapV2,
        SsfToScf,
        Operation::CallInformationReport(CallInformationReport {
            requested_information: List::Items(&infos),
            extensions: None,
            leg_id: LegType::LEG2,
        }),
        w().eq("camel.requestedInformationType", "0|2|30")
            .eq("camel.callAttemptElapsedTimeValue", 7)
            .eq("camel.callConnectedElapsedTimeValue", 6000)
            .eq("camel.cause_indicator", 16)
            .eq("camel.receivingSideID", "02"),
    );
    // appendFreeFormatData exists from CAP v3 on; v2 leaves it out.
    for (d, append) in [(CapV2, false), (CapV3, true)] {
        c.op(
            d,
            ScfToSsf,
            Operation::FurnishChargingInformation(FurnishChargingInformation {
                fci: Fci::Camel(FciCamel {
                    free_format_data: b"VPN-42",
                    party_to_charge: LegId::Sending(LegType::LEG1),
                    append,
                }),
            }),
            w().eq("camel.freeFormatData", hex(b"VPN-42"))
                .eq("camel.appendFreeFormatData", if append { "1" } else { "" }),
        );
    }
    // SCI: CAMEL-SCIBillingChargingCharacteristics aOCBeforeAnswer { aOCInitial { e1 [0] 2 } }
    let sci = [0xa0, 0x05, 0xa0, 0x03, 0x80, 0x01, 0x02];
    c.op(
        CapV2,
        ScfToSsf,
        Operation::SendChargingInformation(SendChargingInformation {
            sci_billing_charging_characteristics: &sci,
            party_to_charge: LegId::Sending(LegType::LEG1),
            extensions: None,
        }),
        w().eq("camel.sCIBillingChargingCharacteristics", hex(&sci))
            .eq("camel.e1", 2),
    );
}

fn event_reports(c: &mut Cap) {
    use EventSpecificInfo as E;
    let cases: [(EventTypeBcsm, Option<E<'static>>, u8, Want); 11] = [
        (
            EventTypeBcsm::ROUTE_SELECT_FAILURE,
            Some(E::RouteSelectFailure {
                failure_cause: Some(CAUSE_17),
            }),
            2,
            w().eq("camel.routeSelectfailureCause", hex(CAUSE_17)),
        ),
        (
            EventTypeBcsm::O_CALLED_PARTY_BUSY,
            Some(E::OCalledPartyBusy {
                busy_cause: Some(CAUSE_17),
            }),
            2,
            w().eq("camel.busyCause", hex(CAUSE_17)),
        ),
        (EventTypeBcsm::O_NO_ANSWER, Some(E::ONoAnswer), 2, w()),
        (EventTypeBcsm::O_ANSWER, Some(E::OAnswer), 2, w()),
        (
            EventTypeBcsm::O_DISCONNECT,
            Some(E::ODisconnect {
                release_cause: Some(CAUSE_16),
            }),
            1,
            w().eq("camel.releaseCause", hex(CAUSE_16))
                .eq("camel.cause_indicator", 16),
        ),
        (EventTypeBcsm::O_ABANDON, None, 1, w()),
        (
            EventTypeBcsm::T_BUSY,
            Some(E::TBusy {
                busy_cause: Some(CAUSE_17),
            }),
            2,
            w().eq("camel.busyCause", hex(CAUSE_17)),
        ),
        (EventTypeBcsm::T_NO_ANSWER, Some(E::TNoAnswer), 2, w()),
        (EventTypeBcsm::T_ANSWER, Some(E::TAnswer), 2, w()),
        (
            EventTypeBcsm::T_DISCONNECT,
            Some(E::TDisconnect {
                release_cause: Some(CAUSE_16),
            }),
            2,
            w().eq("camel.releaseCause", hex(CAUSE_16)),
        ),
        (EventTypeBcsm::T_ABANDON, None, 2, w()),
    ];
    for (i, (event, info, leg, want)) in cases.into_iter().enumerate() {
        let notification = i % 2 == 1;
        c.op(
            Dialect::CapV2,
            Dir::SsfToScf,
            Operation::EventReportBcsm(EventReportBcsm {
                event_type: event,
                event_specific_information: info,
                leg_id: Some(LegType(leg)),
                message_type: if notification {
                    MessageType::Notification
                } else {
                    MessageType::Request
                },
                extensions: None,
            }),
            Want {
                name: format!("{event:?}"),
                ..want
            }
            .eq("camel.eventTypeBCSM", event.0)
            .eq("camel.receivingSideID", format!("{leg:02x}"))
            .eq("inap.messageType", u8::from(notification)),
        );
    }
}

fn specialized_resources(c: &mut Cap) {
    use Dialect::*;
    use Dir::*;
    c.op(
        CapV2,
        ScfToSsf,
        Operation::ConnectToResource(ConnectToResource::local()),
        w().has("camel.none_element", 1),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::ConnectToResource(ConnectToResource {
            resource_address: ResourceAddress::IpRoutingAddress(CALLED),
            ..ConnectToResource::local()
        }),
        w().eq("camel.ipRoutingAddress", hex(CALLED)),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::PlayAnnouncement(PlayAnnouncement {
            request_announcement_complete: true,
            ..PlayAnnouncement::new(InformationToSend::announcement(1001))
        }),
        w().eq("camel.elementaryMessageID", 1001)
            .eq("camel.requestAnnouncementCompleteNotification", 1),
    );
    c.op(
        CapV3,
        ScfToSsf,
        Operation::PlayAnnouncement(PlayAnnouncement::new(InformationToSend::Tone {
            tone_id: 5,
            duration: Some(10),
        })),
        w().eq("camel.toneID", 5).eq("camel.toneDuration", 10),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::PromptAndCollectUserInformation(PromptAndCollectUserInformation::new(
            CollectedDigits::pin(4, 6),
            Some(InformationToSend::announcement(2002)),
        )),
        w().eq("camel.minimumNbOfDigits", 4)
            .eq("camel.maximumNbOfDigits", 6)
            .eq("camel.endOfReplyDigit", "0c")
            .eq("camel.elementaryMessageID", 2002),
    );
    // The PromptAndCollectUserInformation result: digitsResponse (Q.763 Generic Digits,
    // BCD even, type 0: "1234").
    let digits: &[u8] = &[0x20, 0x21, 0x43];
    let res =
        OpResult::PromptAndCollectUserInformation(ReceivedInformation::DigitsResponse(digits));
    let mut p = BytesMut::new();
    res.encode(CapV2, &mut p);
    assert_eq!(
        OpResult::decode(CapV2, OpCode::PROMPT_AND_COLLECT_USER_INFORMATION, Some(&p)).unwrap(),
        res
    );
    let mut comps = BytesMut::new();
    write_return_result(
        &mut comps,
        3,
        Some((
            &Code::Local(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION.0),
            Some(&p[..]),
        )),
        true,
    );
    c.push_components(
        CapV2,
        SsfToScf,
        &comps,
        Want::new("PromptAndCollectUserInformation ReturnResult")
            .eq("camel.present", 3)
            .eq("camel.local", 48)
            .eq("camel.digitsResponse", hex(digits)),
    );
    c.ops += 1;
    c.op(
        CapV2,
        SsfToScf,
        Operation::SpecializedResourceReport(SpecializedResourceReport::AllAnnouncementsComplete),
        w(),
    );
    c.op(
        CapV4,
        SsfToScf,
        Operation::SpecializedResourceReport(SpecializedResourceReport::FirstAnnouncementStarted),
        w(),
    );
    c.op(CapV2, ScfToSsf, Operation::DisconnectForwardConnection, w());
    c.op(
        CapV4,
        ScfToSsf,
        Operation::DisconnectForwardConnectionWithArgument(
            DisconnectForwardConnectionWithArgument {
                call_segment_id: Some(1),
                extensions: None,
            },
        ),
        w().eq("camel.callSegmentID", 1),
    );
    let assisting: &[u8] = &[0x06, 0x83, 0x13, 0x11, 0x22];
    let corr: &[u8] = &[0x00, 0x21, 0x43, 0x65];
    c.op(
        CapV2,
        ScfToSsf,
        Operation::EstablishTemporaryConnection(EstablishTemporaryConnection {
            assisting_ssp_ip_routing_address: assisting,
            correlation_id: Some(corr),
            ..Default::default()
        }),
        w().eq("camel.assistingSSPIPRoutingAddress", hex(assisting))
            .eq("camel.correlationID", hex(corr)),
    );
    c.op(
        CapV2,
        SsfToScf,
        Operation::AssistRequestInstructions(AssistRequestInstructions {
            correlation_id: assisting,
            ipssp_capabilities: Some(&[0x01]),
            extensions: None,
        }),
        w().eq("camel.correlationID", hex(assisting))
            .eq("camel.iPSSPCapabilities", "01"),
    );
    c.op(CapV2, ScfToSsf, Operation::ActivityTest, w());
    c.op(
        CapV3,
        ScfToSsf,
        Operation::CallGap(CallGap {
            gap_criteria: GapCriteria::CalledAddressValue(&[0x03, 0x13, 0x44, 0x97]),
            duration: 60,
            gap_interval: 1000,
            control_type: Some(0),
            gap_treatment: Some(GapTreatment::ReleaseCause(CAUSE_17)),
            extensions: None,
        }),
        w().eq("camel.gapIndicatorsDuration", 60)
            .eq("camel.gapInterval", 1000)
            .eq("camel.controlType", 0),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::Cancel(Cancel::InvokeId(5)),
        w().eq("camel.invokeID", 5),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::Cancel(Cancel::AllRequests),
        w().has("camel.allRequests_element", 1),
    );
    c.op(
        CapV2,
        ScfToSsf,
        Operation::ResetTimer(ResetTimer {
            timer_id: 0,
            timer_value: 120,
            extensions: None,
            call_segment_id: None,
        }),
        w().eq("camel.timervalue", 120),
    );
}

fn errors(c: &mut Cap) {
    let plain = [
        ErrorCode::CANCELED,
        ErrorCode::ETC_FAILED,
        ErrorCode::IMPROPER_CALLER_RESPONSE,
        ErrorCode::MISSING_CUSTOMER_RECORD,
        ErrorCode::MISSING_PARAMETER,
        ErrorCode::PARAMETER_OUT_OF_RANGE,
        ErrorCode::UNAVAILABLE_RESOURCE,
        ErrorCode::UNEXPECTED_COMPONENT_SEQUENCE,
        ErrorCode::UNEXPECTED_DATA_VALUE,
        ErrorCode::UNEXPECTED_PARAMETER,
        ErrorCode::UNKNOWN_LEG_ID,
        ErrorCode::UNKNOWN_RESOURCE,
        ErrorCode::UNKNOWN_PDPID,
        ErrorCode::UNKNOWN_CSID,
    ];
    for e in plain {
        c.error(CapErrorValue::Plain(e), w());
    }
    c.error(
        CapErrorValue::CancelFailed {
            problem: CancelProblem::TOO_LATE,
            operation: 5,
        },
        w().eq("camel.problem", 1).eq("camel.operation", 5),
    );
    c.error(
        CapErrorValue::RequestedInfoError(RequestedInfoErrorReason::REQUESTED_INFO_NOT_AVAILABLE),
        w().eq("camel.PAR_requestedInfoError", 2),
    );
    c.error(
        CapErrorValue::SystemFailure(UnavailableNetworkResource::END_USER_FAILURE),
        w().eq("camel.UnavailableNetworkResource", 4),
    );
    c.error(
        CapErrorValue::TaskRefused(TaskRefusedReason::CONGESTION),
        w().eq("camel.PAR_taskRefused", 2),
    );
}

/// The hex of a pycrate fixture line `name opcode hex`.
fn fixture<'a>(fixtures: &'a str, name: &str) -> &'a str {
    fixtures
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_cap_operation_and_error_reads_back_in_tshark() {
    let mut c = Cap::new();
    call_control(&mut c);
    event_reports(&mut c);
    specialized_resources(&mut c);
    errors(&mut c);
    eprintln!(
        "CAP: {} operations/results, {} errors, {} messages",
        c.ops,
        c.errors,
        c.cap.len()
    );
    assert!(c.cap.len() >= 40);
    c.cap.check("cap");
}
