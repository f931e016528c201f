//! Decode arguments encoded by pycrate 0.8.1 (an independent ASN.1 codec compiled from the
//! TS 29.078 modules); see fixtures/gen_pycrate.py for how each was built. Where our encoder
//! makes the same choices as pycrate's DER output, the bytes must be identical too.

mod common;

use common::{dec, enc, pycrate_fixtures};
use strowger_cap::numbers::{AddressString, CauseValue, NatureOfAddress};
use strowger_cap::ops::*;
use strowger_cap::{
    Dialect, EventTypeBcsm, LegId, LegType, MessageType, MonitorMode, OpCode, OpResult, Operation,
};

fn fixture(name: &str) -> (OpCode, Vec<u8>) {
    pycrate_fixtures()
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, c, b)| (c, b))
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

#[test]
fn every_fixture_decodes_in_cap_v4() {
    for (name, code, bytes) in pycrate_fixtures() {
        if name == "pacui_result" {
            OpResult::decode(Dialect::CapV4, code, Some(&bytes)).unwrap();
            continue;
        }
        let d = match name.as_str() {
            "apply_charging_v2" => Dialect::CapV2,
            "apply_charging_v3" => Dialect::CapV3,
            _ => Dialect::CapV4,
        };
        let op = Operation::decode(d, code, Some(&bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(op.opcode(), code, "{name}");
    }
}

#[test]
fn msc_initial_dp() {
    let (code, b) = fixture("idp_msc_ext");
    let Operation::InitialDp(idp) = dec(Dialect::CapV4, code, &b) else {
        panic!()
    };
    assert_eq!(idp.service_key, 100);
    let called = idp.called().unwrap().unwrap();
    assert_eq!(called.nai, NatureOfAddress::INTERNATIONAL);
    assert_eq!(called.digits, "4179123456");
    assert_eq!(idp.calling().unwrap().unwrap().digits, "4479000000");
    assert_eq!(idp.calling_partys_category, Some(0x0a));
    assert_eq!(idp.location().unwrap().unwrap().digits, "4479000000");
    assert_eq!(idp.bearer_cap().unwrap(), Some(&[0x80, 0x90, 0xa3][..]));
    assert_eq!(idp.event_type_bcsm, Some(EventTypeBcsm::COLLECTED_INFO));
    assert_eq!(idp.imsi().unwrap().unwrap().digits, "234150999999999");
    assert!(idp.subscriber_state.is_some());
    assert!(idp.location_information.unwrap().len() > 10);
    assert!(idp.ext_basic_service_code.is_some());
    assert_eq!(
        idp.call_reference_number,
        Some(&[1, 2, 3, 4, 5, 6, 7, 8][..])
    );
    let msc = idp.msc().unwrap().unwrap();
    assert_eq!(
        (msc.nature, msc.npi),
        (AddressString::INTERNATIONAL, AddressString::ISDN)
    );
    assert_eq!(msc.digits, "44790000001");
    assert_eq!(idp.called_bcd().unwrap().unwrap().digits, "0041799123457");
    assert_eq!(idp.time_and_timezone.map(<[u8]>::len), Some(8));
    assert!(idp.extensions.is_some());
    assert!(idp.initial_dp_arg_extension.is_some());
    // Our encoding in ASN.1 order is byte-identical to pycrate's.
    assert_eq!(enc(&Operation::InitialDp(idp), Dialect::CapV4), b);
    // The same bytes in the INAP dialect: CAP-only fields are not interpreted.
    let Operation::InitialDp(inap) = dec(Dialect::InapCs1, code, &b) else {
        panic!()
    };
    assert_eq!(inap.service_key, 100);
    assert!(inap.imsi.is_none() && inap.msc_address.is_none());
}

#[test]
fn minimal_idp_and_rrbe() {
    let (code, b) = fixture("idp_minimal");
    let Operation::InitialDp(idp) = dec(Dialect::CapV2, code, &b) else {
        panic!()
    };
    assert_eq!(idp.service_key, 7);
    assert!(idp.called_party_number.is_none());
    let (code, b) = fixture("rrbe");
    let Operation::RequestReportBcsmEvent(r) = dec(Dialect::CapV2, code, &b) else {
        panic!()
    };
    let ev: Vec<_> = r.bcsm_events.iter().collect();
    assert_eq!(ev.len(), 6);
    assert_eq!(ev[0].event_type, EventTypeBcsm::ROUTE_SELECT_FAILURE);
    assert_eq!(ev[0].leg_id, None);
    assert_eq!(
        ev[2].dp_specific_criteria,
        Some(DpSpecificCriteria::ApplicationTimer(30))
    );
    assert_eq!(ev[4].leg_id, Some(LegId::Sending(LegType::LEG1)));
    assert_eq!(ev[5].monitor_mode, MonitorMode::NOTIFY_AND_CONTINUE);
    assert_eq!(
        enc(&Operation::RequestReportBcsmEvent(r), Dialect::CapV2),
        b
    );
}

#[test]
fn event_reports() {
    let (code, b) = fixture("erb_disconnect");
    let Operation::EventReportBcsm(e) = dec(Dialect::CapV2, code, &b) else {
        panic!()
    };
    assert_eq!(e.event_type, EventTypeBcsm::O_DISCONNECT);
    assert_eq!(e.leg_id, Some(LegType::LEG1));
    let c = e
        .event_specific_information
        .unwrap()
        .cause()
        .unwrap()
        .unwrap();
    assert_eq!(c.value, CauseValue::NORMAL_CALL_CLEARING);
    assert_eq!(enc(&Operation::EventReportBcsm(e), Dialect::CapV2), b);
    let (code, b) = fixture("erb_answer");
    let Operation::EventReportBcsm(e) = dec(Dialect::CapV4, code, &b) else {
        panic!()
    };
    assert_eq!(
        e.event_specific_information,
        Some(EventSpecificInfo::OAnswer)
    );
    assert_eq!(e.message_type, MessageType::Notification);
}

#[test]
fn apply_charging_per_dialect_is_byte_identical() {
    for (name, d, tone) in [
        ("apply_charging_v2", Dialect::CapV2, true),
        ("apply_charging_v3", Dialect::CapV3, true),
        ("apply_charging_v4", Dialect::CapV4, true),
    ] {
        let (code, b) = fixture(name);
        let Operation::ApplyCharging(ac) = dec(d, code, &b) else {
            panic!()
        };
        let AChBilling::TimeDuration(t) = ac.ach_billing else {
            panic!()
        };
        assert_eq!(t.max_call_period_duration, 1200, "{name}");
        assert!(t.release_if_duration_exceeded, "{name}");
        assert_eq!(t.tone, tone, "{name}");
        assert_eq!(ac.party_to_charge, LegId::Sending(LegType::LEG1));
        // Built from scratch, our encoding for the dialect equals pycrate's.
        let mut mine = TimeDurationCharging::new(1200, true);
        mine.tone = true;
        if d == Dialect::CapV2 {
            mine.tariff_switch_interval = Some(3600);
        }
        let op = Operation::ApplyCharging(ApplyCharging::time_duration(mine));
        assert_eq!(enc(&op, d), b, "{name}");
    }
    let (code, b) = fixture("apply_charging_v4_burst");
    let Operation::ApplyCharging(ac) = dec(Dialect::CapV4, code, &b) else {
        panic!()
    };
    let AChBilling::TimeDuration(t) = ac.ach_billing else {
        panic!()
    };
    assert_eq!(t.max_call_period_duration, 864_000);
    assert!(t.burst_list.is_some());
    assert_eq!(enc(&Operation::ApplyCharging(ac), Dialect::CapV4), b);
}

#[test]
fn apply_charging_reports() {
    let (code, b) = fixture("acr");
    let Operation::ApplyChargingReport(r) = dec(Dialect::CapV2, code, &b) else {
        panic!()
    };
    let CallResult::TimeDuration(t) = r.call_result else {
        panic!()
    };
    assert_eq!(t.party_to_charge, LegType::LEG1);
    assert_eq!(t.time_information, TimeInformation::NoTariffSwitch(1234));
    assert!(!t.leg_active);
    assert_eq!(enc(&Operation::ApplyChargingReport(r), Dialect::CapV2), b);
    let (code, b) = fixture("acr_active");
    let Operation::ApplyChargingReport(r) = dec(Dialect::CapV2, code, &b) else {
        panic!()
    };
    let CallResult::TimeDuration(t) = r.call_result else {
        panic!()
    };
    assert!(t.leg_active, "DEFAULT TRUE when absent");
    let (code, b) = fixture("acr_tariff");
    let Operation::ApplyChargingReport(r) = dec(Dialect::CapV3, code, &b) else {
        panic!()
    };
    let CallResult::TimeDuration(t) = r.call_result else {
        panic!()
    };
    assert_eq!(
        t.time_information,
        TimeInformation::TariffSwitch {
            time_since_tariff_switch: 600,
            tariff_switch_interval: Some(36000)
        }
    );
    assert_eq!(t.time_information.total(), 36600);
    assert!(t.call_leg_released_at_tcp_expiry);
}

#[test]
fn connect_release_srf() {
    let (code, b) = fixture("connect");
    let Operation::Connect(c) = dec(Dialect::CapV2, code, &b) else {
        panic!()
    };
    assert_eq!(c.destination().unwrap().digits, "4179123456");
    assert!(c.suppression_of_announcement && c.o_csi_applicable);
    assert_eq!(enc(&Operation::Connect(c), Dialect::CapV2), b);
    let (code, b) = fixture("release_call");
    let Operation::ReleaseCall(r) = dec(Dialect::CapV4, code, &b) else {
        panic!()
    };
    assert_eq!(r.decoded_cause().unwrap().value, CauseValue::USER_BUSY);
    assert_eq!(enc(&Operation::ReleaseCall(r), Dialect::CapV2), b);
    for name in [
        "ctr",
        "ctr_ip",
        "play_announcement",
        "pacui",
        "cancel",
        "call_gap",
        "cirq",
        "cirp",
        "fci",
        "etc",
        "ari",
        "dfcwa",
        "cwa",
    ] {
        let (code, b) = fixture(name);
        let op = dec(Dialect::CapV4, code, &b);
        assert_eq!(enc(&op, Dialect::CapV4), b, "{name} re-encodes identically");
    }
    let (code, b) = fixture("pacui");
    let Operation::PromptAndCollectUserInformation(p) = dec(Dialect::CapV4, code, &b) else {
        panic!()
    };
    let CollectedInfo::CollectedDigits(cd) = p.collected_info else {
        panic!()
    };
    assert_eq!((cd.minimum_nb_of_digits, cd.maximum_nb_of_digits), (4, 6));
    assert_eq!(cd.end_of_reply_digit, Some(&[0x0c][..]));
    assert!(!p.disconnect_from_ip_forbidden);
    let (code, b) = fixture("pacui_result");
    let OpResult::PromptAndCollectUserInformation(r) =
        OpResult::decode(Dialect::CapV4, code, Some(&b)).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.digits().unwrap().digits, "12345");
    let (code, b) = fixture("srr_v4");
    assert_eq!(
        dec(Dialect::CapV4, code, &b),
        Operation::SpecializedResourceReport(SpecializedResourceReport::AllAnnouncementsComplete)
    );
    let (code, b) = fixture("reset_timer");
    let Operation::ResetTimer(t) = dec(Dialect::CapV4, code, &b) else {
        panic!()
    };
    assert_eq!(t.timer_value, 120);
    let (code, b) = fixture("fci");
    let Operation::FurnishChargingInformation(f) = dec(Dialect::CapV3, code, &b) else {
        panic!()
    };
    let Fci::Camel(c) = f.fci else { panic!() };
    assert_eq!(c.free_format_data, b"VPN-42");
    assert!(c.append);
}
