//! Property tests: decode(encode(x)) == x for every operation argument and result in every
//! dialect that carries it, the number formats round-trip, and no decoder panics on any input.

mod common;

use common::{enc, pycrate_fixtures};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use strowger_cap::numbers::*;
use strowger_cap::ops::*;
use strowger_cap::*;

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![
        Just(Dialect::CapV2),
        Just(Dialect::CapV3),
        Just(Dialect::CapV4),
        Just(Dialect::InapCs1)
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn nonempty(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..max)
}

/// Contents of a constructed field kept raw: one or two well-formed TLVs.
fn raw_cons() -> impl Strategy<Value = Vec<u8>> {
    vec(bytes(6), 1..3).prop_map(|items| {
        let mut o = Vec::new();
        for (i, v) in items.into_iter().enumerate() {
            o.push(0x80 | i as u8);
            o.push(v.len() as u8);
            o.extend(v);
        }
        o
    })
}

fn leg() -> impl Strategy<Value = LegType> {
    (1u8..=2).prop_map(LegType)
}

fn leg_id() -> impl Strategy<Value = LegId> {
    prop_oneof![
        leg().prop_map(LegId::Sending),
        leg().prop_map(LegId::Receiving)
    ]
}

fn roundtrip(op: Operation<'_>, d: Dialect) {
    let b = enc(&op, d);
    let back = Operation::decode(d, op.opcode(), op.has_argument().then_some(&b[..]))
        .unwrap_or_else(|e| panic!("{:?} in {d:?}: {e}; {b:02x?}", op.opcode()));
    assert_eq!(back, op, "{d:?} {b:02x?}");
    // Encoding is deterministic and stable under a second round trip.
    assert_eq!(enc(&back, d), b);
}

type IdpRaw = (
    (
        u32,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<u8>,
        Option<i64>,
        Option<Vec<u8>>,
    ),
    (
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    ),
    (
        Option<i64>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    ),
    (
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        bool,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    ),
    (
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        bool,
    ),
    Option<Vec<u8>>,
);

fn idp_raw() -> impl Strategy<Value = IdpRaw> {
    (
        (
            0u32..=i32::MAX as u32,
            of(bytes(12)),
            of(bytes(12)),
            of(any::<u8>()),
            of(0i64..3),
            of(bytes(4)),
        ),
        (
            of(bytes(10)),
            of(bytes(10)),
            of(raw_cons()),
            of(bytes(4)),
            of(bytes(10)),
            of(raw_cons()),
        ),
        (
            of(2i64..20),
            of(bytes(10)),
            of(bytes(4)),
            of(bytes(8)),
            of(raw_cons()),
            of(bytes(4)),
        ),
        (
            of(bytes(2)),
            of(bytes(4)),
            any::<bool>(),
            of(bytes(8)),
            of(raw_cons()),
            of(raw_cons()),
        ),
        (
            of(raw_cons()),
            of(bytes(8)),
            of(bytes(9)),
            of(bytes(12)),
            of(bytes(8)),
            any::<bool>(),
        ),
        of(raw_cons()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn initial_dp(r in idp_raw(), d in dialect()) {
        let ((sk, cpn, cgpn, cat, cg, ipssp), (loc, ocpi, ext, hlc, acpn, bc),
             (etb, rpid, ri, cause, sii2, carrier), (cugi, cugil, cugoa, imsi, ss, li),
             (ebsc, crn, msc, bcd, tz, cfp), ide) = &r;
        let s = sref;
        let mut idp = InitialDp {
            service_key: *sk, called_party_number: s(cpn), calling_party_number: s(cgpn),
            calling_partys_category: *cat, cg_encountered: *cg, ipssp_capabilities: s(ipssp),
            location_number: s(loc), original_called_party_id: s(ocpi), extensions: s(ext),
            high_layer_compatibility: s(hlc), additional_calling_party_number: s(acpn),
            bearer_capability: s(bc), event_type_bcsm: etb.map(EventTypeBcsm),
            redirecting_party_id: s(rpid), redirection_information: s(ri), cause: s(cause),
            service_interaction_indicators_two: s(sii2), carrier: s(carrier), cug_index: s(cugi),
            cug_interlock: s(cugil), cug_outgoing_access: *cugoa, imsi: s(imsi),
            subscriber_state: s(ss), location_information: s(li), ext_basic_service_code: s(ebsc),
            call_reference_number: s(crn), msc_address: s(msc), called_party_bcd_number: s(bcd),
            time_and_timezone: s(tz), call_forwarding_ss_pending: *cfp,
            initial_dp_arg_extension: s(ide),
        };
        if d == Dialect::InapCs1 {
            let keep = idp;
            idp = InitialDp {
                cause: None, service_interaction_indicators_two: None, carrier: None,
                cug_index: None, cug_interlock: None, cug_outgoing_access: false, imsi: None,
                subscriber_state: None, location_information: None, ext_basic_service_code: None,
                call_reference_number: None, msc_address: None, called_party_bcd_number: None,
                time_and_timezone: None, call_forwarding_ss_pending: false,
                initial_dp_arg_extension: None, ..keep
            };
        }
        roundtrip(Operation::InitialDp(idp), d);
    }

    #[test]
    fn rrbe(evs in vec((2i64..20, 0i64..3, of(leg_id()), of(prop_oneof![
                (0u32..=2047).prop_map(|t| (0u8, t, Vec::new())),
                (1u32..=255).prop_map(|n| (1u8, n, Vec::new())),
                bytes(5).prop_map(|v| { let mut o = vec![0xa3, v.len() as u8]; o.extend(v); (2u8, 0, o) }),
            ]), any::<bool>()), 1..5), ext in of(raw_cons()), d in dialect()) {
        let items: Vec<BcsmEvent<'_>> = evs.iter().map(|(e, m, l, c, r)| BcsmEvent {
            event_type: EventTypeBcsm(*e), monitor_mode: MonitorMode(*m), leg_id: *l,
            dp_specific_criteria: c.as_ref().map(|(k, n, raw)| match k {
                0 => DpSpecificCriteria::ApplicationTimer(*n),
                1 => DpSpecificCriteria::NumberOfDigits(*n as u8),
                _ => DpSpecificCriteria::Other(raw),
            }),
            automatic_rearm: *r,
        }).collect();
        roundtrip(Operation::RequestReportBcsmEvent(RequestReportBcsmEvent {
            bcsm_events: List::Items(&items), extensions: ext.as_deref() }), d);
    }

    #[test]
    fn erb(e in 1i64..30, kind in 0u8..13, cause in of(bytes(4)), cpn in bytes(8), other in (prop::sample::select(vec![6u32, 11, 13, 20, 21, 50, 51]), bytes(6)),
           l in of(leg()), notif in any::<bool>(), ext in of(raw_cons()), d in dialect()) {
        let c = cause.as_deref();
        let esi = match kind {
            0 if d == Dialect::InapCs1 => Some(EventSpecificInfo::CollectedInfo { called_party_number: &cpn }),
            1 if d == Dialect::InapCs1 => Some(EventSpecificInfo::AnalyzedInfo { called_party_number: &cpn }),
            2 => Some(EventSpecificInfo::RouteSelectFailure { failure_cause: c }),
            3 => Some(EventSpecificInfo::OCalledPartyBusy { busy_cause: c }),
            4 => Some(EventSpecificInfo::ONoAnswer),
            5 => Some(EventSpecificInfo::OAnswer),
            6 => Some(EventSpecificInfo::ODisconnect { release_cause: c }),
            7 => Some(EventSpecificInfo::TBusy { busy_cause: c }),
            8 => Some(EventSpecificInfo::TNoAnswer),
            9 => Some(EventSpecificInfo::TAnswer),
            10 => Some(EventSpecificInfo::TDisconnect { release_cause: c }),
            11 => Some(EventSpecificInfo::Other { tag: other.0, contents: &other.1 }),
            _ => None,
        };
        roundtrip(Operation::EventReportBcsm(EventReportBcsm {
            event_type: EventTypeBcsm(e), event_specific_information: esi, leg_id: l,
            message_type: if notif { MessageType::Notification } else { MessageType::Request },
            extensions: ext.as_deref() }), d);
    }

    #[test]
    fn apply_charging(max in 1u32..=864_000, rel in any::<bool>(), tsi in of(1u32..=86_400), tone in any::<bool>(),
                      burst in of(raw_cons()), ext in of(raw_cons()), party in leg_id(), aext in of(raw_cons()),
                      addr in of(raw_cons()), raw in of(bytes(8)), d in dialect()) {
        let mut t = TimeDurationCharging { max_call_period_duration: max, release_if_duration_exceeded: rel,
            tariff_switch_interval: tsi, tone, burst_list: burst.as_deref(), extensions: ext.as_deref() };
        let mut addr = addr.as_deref();
        match d {
            Dialect::CapV2 => { t.tone &= rel; t.burst_list = None; t.extensions = None; }
            Dialect::CapV3 | Dialect::InapCs1 => t.burst_list = None,
            Dialect::CapV4 => if t.burst_list.is_some() { t.tone = false },
        }
        if d != Dialect::CapV4 { addr = None; }
        // Raw (network-specific) contents only exist in INAP, and only when they are not
        // the CAMEL type.
        let ach = match (&raw, d) {
            (Some(r), Dialect::InapCs1) if !r.is_empty() && r[0] != 0xa0 => AChBilling::Raw(r),
            _ => AChBilling::TimeDuration(t),
        };
        roundtrip(Operation::ApplyCharging(ApplyCharging { ach_billing: ach, party_to_charge: party,
            extensions: aext.as_deref(), ach_charging_address: addr }), d);
    }

    #[test]
    fn apply_charging_report(l in leg(), ts in any::<bool>(), a in 0u32..=864_000, i in of(1u32..=864_000),
                             active in any::<bool>(), tcp in any::<bool>(), ext in of(raw_cons()), d in dialect()) {
        let ti = if ts { TimeInformation::TariffSwitch { time_since_tariff_switch: a, tariff_switch_interval: i } }
                 else { TimeInformation::NoTariffSwitch(a) };
        roundtrip(Operation::ApplyChargingReport(ApplyChargingReport { call_result: CallResult::TimeDuration(
            TimeDurationChargingResult { party_to_charge: l, time_information: ti, leg_active: active,
                call_leg_released_at_tcp_expiry: tcp, extensions: ext.as_deref() }) }), d);
    }

    #[test]
    fn fci_sci_cir(ffd in nonempty(40), party in leg_id(), append in any::<bool>(), sci in bytes(10), sext in of(raw_cons()),
                   types in vec(prop::sample::select(vec![0i64, 1, 2, 30]), 1..4), rl in leg_id(),
                   infos in vec((0u8..4, 0u32..=255, bytes(7)), 1..4), rep_leg in leg(), d in dialect()) {
        let append = append && d != Dialect::CapV2;
        roundtrip(Operation::FurnishChargingInformation(FurnishChargingInformation {
            fci: Fci::Camel(FciCamel { free_format_data: &ffd, party_to_charge: party, append }) }), d);
        roundtrip(Operation::SendChargingInformation(SendChargingInformation {
            sci_billing_charging_characteristics: &sci, party_to_charge: party, extensions: sext.as_deref() }), d);
        let t: Vec<_> = types.iter().map(|t| RequestedInformationType(*t)).collect();
        roundtrip(Operation::CallInformationRequest(CallInformationRequest {
            requested_information_types: List::Items(&t), extensions: sext.as_deref(), leg_id: rl }), d);
        let i: Vec<_> = infos.iter().map(|(k, n, b)| RequestedInformation {
            info_type: RequestedInformationType(i64::from(*k)),
            value: match k { 0 => RequestedInformationValue::CallAttemptElapsedTime(*n),
                             1 => RequestedInformationValue::CallStopTime(b),
                             2 => RequestedInformationValue::CallConnectedElapsedTime(*n * 1000),
                             _ => RequestedInformationValue::ReleaseCause(b) } }).collect();
        roundtrip(Operation::CallInformationReport(CallInformationReport {
            requested_information: List::Items(&i), extensions: sext.as_deref(), leg_id: rep_leg }), d);
    }

    #[test]
    fn connect(dra in bytes(12), f in (of(bytes(3)), of(bytes(8)), of(raw_cons()), of(bytes(4)), of(raw_cons()), of(raw_cons())),
               g in (of(bytes(8)), of(raw_cons()), of(bytes(8)), of(any::<u8>()), of(bytes(8)), of(bytes(3))),
               h in (of(bytes(4)), any::<[bool; 6]>(), of(any::<u8>())), d in dialect()) {
        let s = sref;
        let cap = d.is_cap();
        let v4 = d == Dialect::CapV4;
        let c = Connect {
            destination_routing_address: &dra, alerting_pattern: s(&f.0), original_called_party_id: s(&f.1),
            extensions: s(&f.2), carrier: s(&f.3),
            generic_numbers: if cap { s(&f.4) } else { None },
            service_interaction_indicators_two: if cap { s(&f.5) } else { None },
            charge_number: if cap { s(&g.0) } else { None },
            leg_to_be_connected: if v4 { s(&g.1) } else { None },
            calling_party_number: if cap { None } else { s(&g.2) },
            calling_partys_category: g.3, redirecting_party_id: s(&g.4), redirection_information: s(&g.5),
            cug_interlock: if cap { s(&h.0) } else { None },
            cug_outgoing_access: cap && h.1[0], suppression_of_announcement: cap && h.1[1],
            o_csi_applicable: cap && h.1[2], na_oli_info: if cap { h.2 } else { None },
            bor_interrogation_requested: cap && h.1[3], suppress_n_csi: v4 && h.1[4],
        };
        roundtrip(Operation::Connect(c), d);
        roundtrip(Operation::Continue, d);
    }

    #[test]
    fn continue_with_argument_and_release(f in (of(bytes(3)), of(raw_cons()), of(raw_cons()), of(any::<u8>()), of(raw_cons()), of(bytes(4))),
            g in (any::<[bool; 5]>(), of(bytes(8)), of(bytes(4)), of(any::<u8>()), of(raw_cons())),
            cause in bytes(6), rext in of(raw_cons()), d in dialect()) {
        let s = sref;
        let cwa = ContinueWithArgument { alerting_pattern: s(&f.0), extensions: s(&f.1),
            service_interaction_indicators_two: s(&f.2), calling_partys_category: f.3, generic_numbers: s(&f.4),
            cug_interlock: s(&f.5), cug_outgoing_access: g.0[0], charge_number: s(&g.1), carrier: s(&g.2),
            suppression_of_announcement: g.0[1], na_oli_info: g.3, bor_interrogation_requested: g.0[2],
            suppress_o_csi: g.0[3], arg_extension: s(&g.4) };
        if d == Dialect::CapV3 || d == Dialect::CapV4 {
            roundtrip(Operation::ContinueWithArgument(cwa), d);
        }
        let ext = if d == Dialect::CapV4 { rext.as_deref() } else { None };
        roundtrip(Operation::ReleaseCall(ReleaseCall { cause: &cause, extensions: ext }), d);
    }

    #[test]
    fn srf(its in its(), ci in collected(), b in any::<[bool; 4]>(), ext in of(raw_cons()), csid in of(1u32..=127),
           addr in (0u8..4, bytes(8), leg_id(), raw_cons()), sii2 in of(raw_cons()), prompt in any::<bool>(),
           digits in bytes(8), ia5 in any::<bool>(), d in dialect()) {
        let v4 = d == Dialect::CapV4;
        let inap = d == Dialect::InapCs1;
        let its = its.as_ref().build();
        let pa = PlayAnnouncement { information_to_send: its, disconnect_from_ip_forbidden: b[0],
            request_announcement_complete: b[1], extensions: ext.as_deref(),
            call_segment_id: if v4 { csid } else { None }, request_announcement_started: v4 && b[2] };
        roundtrip(Operation::PlayAnnouncement(pa), d);
        let p = PromptAndCollectUserInformation { collected_info: ci.as_ref().build(),
            disconnect_from_ip_forbidden: b[3], information_to_send: prompt.then_some(its),
            extensions: ext.as_deref(), call_segment_id: if v4 { csid } else { None },
            request_announcement_started: v4 && b[2] };
        roundtrip(Operation::PromptAndCollectUserInformation(p), d);
        let ra = match addr.0 {
            0 => ResourceAddress::IpRoutingAddress(&addr.1),
            1 if inap => ResourceAddress::LegId(addr.2),
            2 if inap => ResourceAddress::Both(&addr.3),
            _ => ResourceAddress::None,
        };
        roundtrip(Operation::ConnectToResource(ConnectToResource { resource_address: ra,
            extensions: ext.as_deref(), service_interaction_indicators_two: if inap { None } else { sii2.as_deref() },
            call_segment_id: if v4 { csid } else { None } }), d);
        let srr = if v4 && b[0] { SpecializedResourceReport::FirstAnnouncementStarted }
                  else { SpecializedResourceReport::AllAnnouncementsComplete };
        roundtrip(Operation::SpecializedResourceReport(srr), d);
        roundtrip(Operation::DisconnectForwardConnection, d);
        roundtrip(Operation::ActivityTest, d);
        if v4 {
            roundtrip(Operation::DisconnectForwardConnectionWithArgument(
                DisconnectForwardConnectionWithArgument { call_segment_id: csid, extensions: ext.as_deref() }), d);
        }
        let r = if ia5 { ReceivedInformation::Ia5Response(&digits) } else { ReceivedInformation::DigitsResponse(&digits) };
        let res = OpResult::PromptAndCollectUserInformation(r);
        let mut buf = bytes::BytesMut::new();
        res.encode(d, &mut buf);
        prop_assert_eq!(OpResult::decode(d, res.opcode(), Some(&buf)).unwrap(), res);
        prop_assert_eq!(OpResult::decode(d, OpCode::ACTIVITY_TEST, None).unwrap(), OpResult::ActivityTest);
    }

    #[test]
    fn assist_and_etc(corr in bytes(8), cap_ in of(bytes(4)), ext in of(raw_cons()), addr in bytes(8),
                      f in (of(bytes(6)), of(bytes(6)), of(bytes(4)), of(raw_cons()), of(1u32..=127)), d in dialect()) {
        let cap_ = if d.is_cap() { Some(cap_.as_deref().unwrap_or(&[1])) } else { cap_.as_deref() };
        roundtrip(Operation::AssistRequestInstructions(AssistRequestInstructions {
            correlation_id: &corr, ipssp_capabilities: cap_, extensions: ext.as_deref() }), d);
        let s = sref;
        let etc = EstablishTemporaryConnection { assisting_ssp_ip_routing_address: &addr,
            correlation_id: s(&f.0), scf_id: s(&f.1), extensions: ext.as_deref(),
            carrier: if d == Dialect::CapV2 { None } else { s(&f.2) },
            service_interaction_indicators_two: if d == Dialect::InapCs1 { None } else { s(&f.3) },
            call_segment_id: if d == Dialect::CapV4 { f.4 } else { None } };
        roundtrip(Operation::EstablishTemporaryConnection(etc), d);
    }

    #[test]
    fn traffic(crit in (0u8..5, bytes(8), 0u32..=i32::MAX as u32, bytes(6)), dur in -2i32..=86_400, gi in -1i32..=60_000,
               ct in of(0i64..2), tr in of((any::<bool>(), its(), bytes(4))), ext in of(raw_cons()),
               invoke in any::<i8>(), cancel in 0u8..3, csid in of(1u32..=127), tv in 0u32..=i32::MAX as u32,
               tid in 0i64..2, d in dialect()) {
        let other = { let mut o = vec![0x30, crit.3.len() as u8]; o.extend(&crit.3); o };
        let gc = match crit.0 {
            0 => GapCriteria::CalledAddressValue(&crit.1),
            1 => GapCriteria::GapOnService(crit.2),
            2 => GapCriteria::CalledAddressAndService { called_address_value: &crit.1, service_key: crit.2 },
            3 => GapCriteria::CallingAddressAndService { calling_address_value: &crit.1, service_key: crit.2 },
            _ => GapCriteria::Other(&other),
        };
        let its_built;
        let gt = match &tr {
            Some((true, i, _)) => { its_built = i.as_ref().build(); Some(GapTreatment::InformationToSend(its_built)) }
            Some((false, _, c)) => Some(GapTreatment::ReleaseCause(c)),
            None => None,
        };
        if d != Dialect::CapV2 {
            roundtrip(Operation::CallGap(CallGap { gap_criteria: gc, duration: dur, gap_interval: gi,
                control_type: ct, gap_treatment: gt, extensions: ext.as_deref() }), d);
        }
        let c = match cancel { 0 => Cancel::InvokeId(invoke), 1 => Cancel::AllRequests,
            _ => Cancel::CallSegmentToCancel { invoke_id: Some(invoke), call_segment_id: csid } };
        roundtrip(Operation::Cancel(c), d);
        roundtrip(Operation::ResetTimer(ResetTimer { timer_id: tid, timer_value: tv, extensions: ext.as_deref(),
            call_segment_id: if d == Dialect::CapV4 { csid } else { None } }), d);
    }
}

/// Owned material for an InformationToSend.
#[derive(Clone, Debug)]
struct ItsRaw(
    u8,
    u32,
    Option<u32>,
    Option<u32>,
    Option<u32>,
    Vec<u8>,
    Option<Vec<u8>>,
);

impl ItsRaw {
    fn as_ref(&self) -> &Self {
        self
    }
    fn build(&self) -> InformationToSend<'_> {
        let mid = match self.0 % 4 {
            0 => MessageId::ElementaryMessageId(self.1),
            1 => MessageId::Text {
                message_content: &self.5,
                attributes: self.6.as_deref(),
            },
            2 => MessageId::ElementaryMessageIds(&self.5),
            _ => MessageId::VariableMessage {
                elementary_message_id: self.1,
                variable_parts: &self.5,
            },
        };
        match self.0 / 4 {
            0 => InformationToSend::InbandInfo(InbandInfo {
                message_id: mid,
                number_of_repetitions: self.2,
                duration: self.3,
                interval: self.4,
            }),
            1 => InformationToSend::Tone {
                tone_id: self.1,
                duration: self.3,
            },
            _ => InformationToSend::DisplayInformation(&self.5),
        }
    }
}

fn its() -> impl Strategy<Value = ItsRaw> {
    (
        0u8..12,
        0u32..=i32::MAX as u32,
        of(1u32..=127),
        of(0u32..=32767),
        of(0u32..=32767),
        bytes(8),
        of(bytes(4)),
    )
        .prop_map(|(a, b, c, d, e, f, g)| ItsRaw(a, b, c, d, e, f, g))
}

#[derive(Clone, Debug)]
struct CollectedRaw(
    bool,
    u8,
    u8,
    [Option<Vec<u8>>; 3],
    Option<u8>,
    Option<u8>,
    i64,
    [bool; 3],
);

impl CollectedRaw {
    fn as_ref(&self) -> &Self {
        self
    }
    fn build(&self) -> CollectedInfo<'_> {
        if self.0 {
            return CollectedInfo::Ia5Information(self.7[0]);
        }
        CollectedInfo::CollectedDigits(CollectedDigits {
            minimum_nb_of_digits: self.1,
            maximum_nb_of_digits: self.2,
            end_of_reply_digit: self.3[0].as_deref(),
            cancel_digit: self.3[1].as_deref(),
            start_digit: self.3[2].as_deref(),
            first_digit_time_out: self.4,
            inter_digit_time_out: self.5,
            error_treatment: self.6,
            interruptable_ann_ind: self.7[0],
            voice_information: self.7[1],
            voice_back: self.7[2],
        })
    }
}

fn collected() -> impl Strategy<Value = CollectedRaw> {
    (
        any::<bool>(),
        1u8..=30,
        1u8..=30,
        [of(bytes(2)), of(bytes(2)), of(bytes(2))],
        of(1u8..=127),
        of(1u8..=127),
        0i64..3,
        any::<[bool; 3]>(),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| CollectedRaw(a, b, c, d, e, f, g, h))
}

fn digits_str(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = String> {
    vec(prop::sample::select(alphabet.to_vec()), 0..max).prop_map(|v| String::from_utf8(v).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn isup_numbers(nai in 0u8..128, flag in any::<bool>(), npi in 0u8..8, apri in 0u8..4, si in 0u8..4, q in any::<u8>(),
                    digits in digits_str(b"0123456789ABCDEF", 32)) {
        let digits = Digits::from_str(&digits).unwrap();
        let c = CalledPartyNumber { nai: NatureOfAddress(nai), inn: flag, npi: NumberingPlan(npi), digits };
        prop_assert_eq!(CalledPartyNumber::decode(&c.encode().unwrap()).unwrap(), c);
        let g = CallingPartyNumber { nai: NatureOfAddress(nai), ni: flag, npi: NumberingPlan(npi),
            presentation: Presentation(apri), screening: Screening(si), digits };
        prop_assert_eq!(CallingPartyNumber::decode(&g.encode().unwrap()).unwrap(), g);
        let l = LocationNumber { nai: NatureOfAddress(nai), inn: flag, npi: NumberingPlan(npi),
            presentation: Presentation(apri), screening: Screening(si), digits };
        prop_assert_eq!(LocationNumber::decode(&l.encode().unwrap()).unwrap(), l);
        let gn = GenericNumber { qualifier: q, nai: NatureOfAddress(nai), ni: flag, npi: NumberingPlan(npi),
            presentation: Presentation(apri), screening: Screening(si), digits };
        prop_assert_eq!(GenericNumber::decode(&gn.encode().unwrap()).unwrap(), gn);
        let r = RedirectingNumber { nai: NatureOfAddress(nai), npi: NumberingPlan(npi),
            presentation: Presentation(apri), digits };
        prop_assert_eq!(RedirectingNumber::decode(&r.encode().unwrap()).unwrap(), r);
    }

    #[test]
    fn bcd_numbers(nature in 0u8..8, npi in 0u8..16, digits in digits_str(b"0123456789*#abc", 40),
                   imsi in digits_str(b"0123456789", 16)) {
        let a = AddressString { nature, npi, digits: Digits::from_str(&digits).unwrap() };
        prop_assert_eq!(AddressString::decode(&a.encode().unwrap()).unwrap(), a);
        if imsi.len() >= 5 {
            let i = Imsi { digits: Digits::from_str(&imsi).unwrap() };
            prop_assert_eq!(Imsi::decode(&i.encode().unwrap()).unwrap(), i);
        }
    }

    #[test]
    fn cause_and_generic_digits(cs in 0u8..4, loc in 0u8..16, rec in of(0u8..128), v in 0u8..128, diag in bytes(20),
                                ia5 in any::<bool>(), t in 0u8..32, digits in digits_str(b"0123456789*#", 30)) {
        let c = Cause { coding_standard: cs, location: CauseLocation(loc), recommendation: rec,
            value: CauseValue(v), diagnostics: &diag };
        let e = c.encode().unwrap();
        prop_assert_eq!(Cause::decode(&e).unwrap(), c);
        let g = GenericDigits { encoding: if ia5 { DigitsEncoding::Ia5 } else { DigitsEncoding::Bcd },
            type_of_digits: t, digits: Digits::from_str(&digits).unwrap() };
        prop_assert_eq!(GenericDigits::decode(&g.encode().unwrap()).unwrap(), g);
    }

    #[test]
    fn errors_roundtrip(code in prop::sample::select(vec![0i64, 1, 3, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 50, 51]),
                        v in 0i64..5, inv in any::<i8>()) {
        let e = match code {
            1 => CapErrorValue::CancelFailed { problem: errors::CancelProblem(v % 3), operation: inv },
            10 => CapErrorValue::RequestedInfoError(errors::RequestedInfoErrorReason(v)),
            11 => CapErrorValue::SystemFailure(errors::UnavailableNetworkResource(v)),
            12 => CapErrorValue::TaskRefused(errors::TaskRefusedReason(v)),
            c => CapErrorValue::Plain(ErrorCode(c)),
        };
        let mut b = bytes::BytesMut::new();
        e.encode_param(&mut b);
        prop_assert_eq!(e.has_param(), !b.is_empty());
        prop_assert_eq!(CapErrorValue::decode(e.code(), e.has_param().then_some(&b[..])).unwrap(), e);
    }

    /// Arbitrary bytes never panic a decoder or an accessor.
    #[test]
    fn never_panics(input in bytes(96), code in 0i64..100, d in dialect()) {
        exercise(d, OpCode(code), &input);
    }

    /// Mutated real messages (truncated, bit-flipped) never panic either; they reach far
    /// deeper than random bytes.
    #[test]
    fn mutated_fixtures_never_panic(idx in any::<prop::sample::Index>(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
                                    cut in any::<prop::sample::Index>(), d in dialect()) {
        let fx = pycrate_fixtures();
        let (_, code, mut b) = fx[idx.index(fx.len())].clone();
        for (i, x) in &flips {
            let i = i.index(b.len());
            b[i] ^= x;
        }
        exercise(d, code, &b);
        let n = cut.index(b.len() + 1);
        exercise(d, code, &b[..n]);
    }
}

fn exercise(d: Dialect, code: OpCode, input: &[u8]) {
    let _ = dialect_from_oid(input);
    let _ = OpResult::decode(d, code, Some(input));
    let _ = CapErrorValue::decode(ErrorCode(code.0), Some(input));
    let _ = CalledPartyNumber::decode(input);
    let _ = CallingPartyNumber::decode(input);
    let _ = GenericNumber::decode(input);
    let _ = LocationNumber::decode(input);
    let _ = RedirectingNumber::decode(input);
    let _ = AddressString::decode(input);
    let _ = Imsi::decode(input);
    let _ = Cause::decode(input);
    let _ = GenericDigits::decode(input);
    let Ok(op) = Operation::decode(d, code, Some(input)) else {
        return;
    };
    if let Err(e) = Operation::decode(d, code, Some(input)) {
        let _ = e.answer(code);
    }
    // Everything reachable from a decoded value works and re-encodes.
    let _ = enc(&op, d);
    let _ = format!("{op:?}");
    match op {
        Operation::InitialDp(i) => {
            let _ = (
                i.called(),
                i.calling(),
                i.called_bcd(),
                i.location(),
                i.additional_calling(),
            );
            let _ = (
                i.redirecting(),
                i.original_called(),
                i.imsi(),
                i.msc(),
                i.cause(),
                i.bearer_cap(),
            );
        }
        Operation::EventReportBcsm(e) => {
            let _ = e.event_specific_information.map(|x| x.cause());
        }
        Operation::RequestReportBcsmEvent(r) => {
            let _ = r.bcsm_events.iter().count();
        }
        Operation::Connect(c) => {
            let _ = c.destination();
        }
        Operation::ReleaseCall(r) => {
            let _ = r.decoded_cause();
        }
        Operation::ConnectToResource(c) => {
            let _ = c.ip_routing_address();
        }
        _ => {}
    }
}

fn sref(v: &Option<Vec<u8>>) -> Option<&[u8]> {
    v.as_deref()
}
