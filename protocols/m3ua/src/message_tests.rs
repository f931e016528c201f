//! Codec fixtures. Every hex string is hand-computed from the figures of RFC 4666 §3 (header
//! §3.1, parameter format §3.2, the per-message parameter tables), as noted on each.

use super::*;
use crate::params::{MtpUser, StatusType, UnavailabilityCause};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn roundtrip(bytes: &[u8], expect: Body<'_>) {
    let msg = Message::decode(bytes).unwrap();
    assert_eq!(msg.body, expect);
    assert!(msg.unknown_parameters.is_empty());
    assert_eq!(&msg.to_bytes().unwrap()[..], bytes, "re-encoding differs");
}

fn code_of(bytes: &[u8]) -> ErrorCode {
    Message::decode(bytes).unwrap_err().error_code()
}

// ---- fixtures, one per message type -------------------------------------------------------

#[test]
fn asp_up_with_asp_identifier() {
    // §3.5.1: header (class 3, type 1, length 16) + ASP Identifier (tag 0x0011, len 8) = 1.
    roundtrip(
        &hex("01000301 00000010 00110008 00000001"),
        Body::AspUp(AspUp {
            asp_identifier: Some(1),
            info_string: None,
        }),
    );
}

#[test]
fn asp_up_ack_empty() {
    // §3.5.2: no parameters.
    roundtrip(&hex("01000304 00000008"), Body::AspUpAck(AspUp::default()));
}

#[test]
fn asp_down_and_ack() {
    // §3.5.3 / §3.5.4.
    roundtrip(&hex("01000302 00000008"), Body::AspDown(AspDown::default()));
    roundtrip(
        &hex("01000305 00000008"),
        Body::AspDownAck(AspDown::default()),
    );
}

#[test]
fn beat_and_ack_with_padded_data() {
    // §3.5.5: Heartbeat Data "hb" (len 6, 2 padding octets counted in the message length).
    let b = Beat {
        heartbeat_data: Some(Cow::Borrowed(b"hb")),
    };
    roundtrip(
        &hex("01000303 00000010 00090006 68620000"),
        Body::Beat(b.clone()),
    );
    roundtrip(
        &hex("01000306 00000010 00090006 68620000"),
        Body::BeatAck(b),
    );
}

#[test]
fn asp_active_loadshare_rc1() {
    // §3.7.1: Traffic Mode Type (0x000b) = 2 Loadshare, Routing Context (0x0006) = 1.
    roundtrip(
        &hex("01000401 00000018 000b0008 00000002 00060008 00000001"),
        Body::AspActive(AspActive {
            traffic_mode: Some(TrafficModeType::LOADSHARE),
            routing_contexts: vec![1],
            info_string: None,
        }),
    );
}

#[test]
fn asp_active_ack_two_rcs() {
    // §3.7.2: Routing Context list of two values, length 12.
    roundtrip(
        &hex("01000403 00000014 0006000c 00000001 00000002"),
        Body::AspActiveAck(AspActive {
            traffic_mode: None,
            routing_contexts: vec![1, 2],
            info_string: None,
        }),
    );
}

#[test]
fn asp_inactive_and_ack_with_info_string() {
    // §3.7.3 / §3.7.4: INFO String "x" (len 5, 3 padding octets).
    roundtrip(
        &hex("01000402 00000010 00060008 00000007"),
        Body::AspInactive(AspInactive {
            routing_contexts: vec![7],
            info_string: None,
        }),
    );
    roundtrip(
        &hex("01000404 00000010 00040005 78000000"),
        Body::AspInactiveAck(AspInactive {
            routing_contexts: vec![],
            info_string: Some(Cow::Borrowed(b"x")),
        }),
    );
}

#[test]
fn notify_as_active() {
    // §3.8.2: Status (0x000d) type 1 AS-State_Change, info 3 AS-ACTIVE; RC 1.
    roundtrip(
        &hex("01000001 00000018 000d0008 00010003 00060008 00000001"),
        Body::Notify(Notify {
            status: Status::AS_ACTIVE,
            asp_identifier: None,
            routing_contexts: vec![1],
            info_string: None,
        }),
    );
}

#[test]
fn error_invalid_routing_context() {
    // §3.8.1: Error Code 0x19, Routing Context 9.
    roundtrip(
        &hex("01000000 00000018 000c0008 00000019 00060008 00000009"),
        Body::Error(ErrorMessage {
            error_code: ErrorCode::INVALID_ROUTING_CONTEXT,
            routing_contexts: vec![9],
            network_appearance: None,
            affected_point_codes: vec![],
            diagnostic_information: None,
        }),
    );
}

#[test]
fn error_with_every_parameter() {
    // §3.8.1 parameter order: Error Code, RC, NA, APC, Diagnostic Information ("abc" + 1 pad).
    roundtrip(
        &hex(
            "01000000 00000030 000c0008 00000014 00060008 00000001 02000008 00000002
             00120008 01000100 00070007 61626300",
        ),
        Body::Error(ErrorMessage {
            error_code: ErrorCode::DESTINATION_STATUS_UNKNOWN,
            routing_contexts: vec![1],
            network_appearance: Some(2),
            affected_point_codes: vec![AffectedPointCode {
                mask: 1,
                point_code: 0x100,
            }],
            diagnostic_information: Some(Cow::Borrowed(b"abc")),
        }),
    );
}

fn sample_data() -> Data<'static> {
    Data {
        network_appearance: None,
        routing_context: Some(1),
        protocol_data: ProtocolData {
            opc: 1,
            dpc: 2,
            si: 3,
            ni: 2,
            mp: 0,
            sls: 5,
            user_data: Cow::Borrowed(b"abcde"),
        },
        correlation_id: None,
    }
}

const DATA_HEX: &str = "01000101 00000028 00060008 00000001
                        02100015 00000001 00000002 03020005 61626364 65000000";

#[test]
fn data_rc_and_protocol_data() {
    // §3.3.1: RC 1; Protocol Data (0x0210) len 4+12+5 = 0x15: OPC 1, DPC 2, SI 3 (SCCP),
    // NI 2 (national), MP 0, SLS 5, user data "abcde", 3 padding octets. Total 40.
    roundtrip(&hex(DATA_HEX), Body::Data(sample_data()));
}

#[test]
fn data_user_data_borrows_input() {
    let bytes = hex(DATA_HEX);
    let msg = Message::decode(&bytes).unwrap();
    let Body::Data(d) = &msg.body else { panic!() };
    let Cow::Borrowed(ud) = &d.protocol_data.user_data else {
        panic!("user data was copied")
    };
    assert_eq!(ud.as_ptr(), bytes[32..].as_ptr());
}

#[test]
fn data_all_parameters() {
    // NA (0x0200) 7, RC 1, Protocol Data (no user data, len 16), Correlation Id (0x0013) 99.
    roundtrip(
        &hex("01000101 00000030 02000008 00000007 00060008 00000001
             02100010 00000001 00000002 03000000 00130008 00000063"),
        Body::Data(Data {
            network_appearance: Some(7),
            routing_context: Some(1),
            protocol_data: ProtocolData {
                opc: 1,
                dpc: 2,
                si: 3,
                ni: 0,
                mp: 0,
                sls: 0,
                user_data: Cow::Borrowed(b""),
            },
            correlation_id: Some(99),
        }),
    );
}

#[test]
fn ssnm_destination_state_messages() {
    // §3.4.1–3.4.3, §3.4.6: Affected Point Code mask 0, PC 0x001234.
    let d = DestinationState {
        network_appearance: None,
        routing_contexts: vec![],
        affected_point_codes: vec![AffectedPointCode::exact(0x1234)],
        info_string: None,
    };
    roundtrip(
        &hex("01000201 00000010 00120008 00001234"),
        Body::Duna(d.clone()),
    );
    roundtrip(
        &hex("01000202 00000010 00120008 00001234"),
        Body::Dava(d.clone()),
    );
    roundtrip(
        &hex("01000203 00000010 00120008 00001234"),
        Body::Daud(d.clone()),
    );
    roundtrip(&hex("01000206 00000010 00120008 00001234"), Body::Drst(d));
}

#[test]
fn scon_with_concerned_destination_and_level() {
    // §3.4.4: APC 0x123, Concerned Destination (0x0206) 0x456, Congestion Indications (0x0205) 2.
    roundtrip(
        &hex("01000204 00000020 00120008 00000123 02060008 00000456 02050008 00000002"),
        Body::Scon(Scon {
            network_appearance: None,
            routing_contexts: vec![],
            affected_point_codes: vec![AffectedPointCode::exact(0x123)],
            concerned_destination: Some(0x456),
            congestion_level: Some(CongestionLevel::LEVEL_2),
            info_string: None,
        }),
    );
}

#[test]
fn dupu_sccp_inaccessible() {
    // §3.4.5: APC 0x123, User/Cause (0x0204): cause 2 Inaccessible, user 3 SCCP.
    roundtrip(
        &hex("01000205 00000018 00120008 00000123 02040008 00020003"),
        Body::Dupu(Dupu {
            network_appearance: None,
            routing_contexts: vec![],
            affected_point_code: AffectedPointCode::exact(0x123),
            user_cause: UserCause {
                cause: UnavailabilityCause::INACCESSIBLE_REMOTE_USER,
                user: MtpUser::SCCP,
            },
            info_string: None,
        }),
    );
}

// ---- leniency and round-trip of the unknown -----------------------------------------------

#[test]
fn parameters_in_any_order_and_unknown_kept() {
    // RC before Traffic Mode Type, plus unknown tag 0x7fff ("zz", padded), which is kept.
    let bytes = hex("01000401 00000020 00060008 00000001 7fff0006 7a7a0000 000b0008 00000001");
    let msg = Message::decode(&bytes).unwrap();
    assert_eq!(
        msg.body,
        Body::AspActive(AspActive {
            traffic_mode: Some(TrafficModeType::OVERRIDE),
            routing_contexts: vec![1],
            info_string: None,
        })
    );
    assert_eq!(
        msg.unknown_parameters,
        vec![RawParameter {
            tag: Tag(0x7fff),
            value: Cow::Borrowed(b"zz"),
        }]
    );
    let again = Message::decode(&msg.to_bytes().unwrap())
        .unwrap()
        .into_owned();
    assert_eq!(again, msg);
}

#[test]
fn unknown_code_points_round_trip() {
    // Traffic mode 9, status type 7, error code 0x99: open newtypes keep the raw values.
    let m = Message::from(Body::Notify(Notify {
        status: Status::new(StatusType(7), 9),
        asp_identifier: Some(3),
        routing_contexts: vec![],
        info_string: None,
    }));
    assert_eq!(Message::decode(&m.to_bytes().unwrap()).unwrap(), m);
    let m = Message::from(Body::AspActive(AspActive {
        traffic_mode: Some(TrafficModeType(9)),
        ..AspActive::default()
    }));
    assert_eq!(Message::decode(&m.to_bytes().unwrap()).unwrap(), m);
}

#[test]
fn last_parameter_padding_may_be_missing() {
    // BEAT with "hb" but message length 14 (no padding): accepted.
    let bytes = hex("01000303 0000000e 00090006 6862");
    let msg = Message::decode(&bytes).unwrap();
    assert_eq!(
        msg.body,
        Body::Beat(Beat {
            heartbeat_data: Some(Cow::Borrowed(b"hb"))
        })
    );
}

#[test]
fn decode_prefix_returns_rest() {
    let mut bytes = hex("01000304 00000008");
    bytes.extend_from_slice(&hex("01000306 00000008"));
    let (m, rest) = Message::decode_prefix(&bytes).unwrap();
    assert_eq!(m.body, Body::AspUpAck(AspUp::default()));
    assert_eq!(
        Message::decode(rest).unwrap().body,
        Body::BeatAck(Beat::default())
    );
}

// ---- every decode-side ERR code ------------------------------------------------------------

#[test]
fn err_0x01_invalid_version() {
    assert_eq!(
        code_of(&hex("02000301 00000008")),
        ErrorCode::INVALID_VERSION
    );
}

#[test]
fn err_0x03_unsupported_message_class() {
    // RKM (class 9) REG REQ, and unassigned class 200.
    assert_eq!(
        code_of(&hex("01000901 00000008")),
        ErrorCode::UNSUPPORTED_MESSAGE_CLASS
    );
    assert_eq!(
        code_of(&hex("0100c801 00000008")),
        ErrorCode::UNSUPPORTED_MESSAGE_CLASS
    );
}

#[test]
fn err_0x04_unsupported_message_type() {
    assert_eq!(
        code_of(&hex("01000307 00000008")),
        ErrorCode::UNSUPPORTED_MESSAGE_TYPE
    );
    // Transfer type 0 is reserved.
    assert_eq!(
        code_of(&hex("01000100 00000008")),
        ErrorCode::UNSUPPORTED_MESSAGE_TYPE
    );
    assert_eq!(
        code_of(&hex("01000002 00000008")),
        ErrorCode::UNSUPPORTED_MESSAGE_TYPE
    );
}

#[test]
fn err_0x07_protocol_error() {
    // Length below the header.
    assert_eq!(
        code_of(&hex("01000304 00000004")),
        ErrorCode::PROTOCOL_ERROR
    );
    // Length beyond the input.
    assert_eq!(
        code_of(&hex("01000304 00000010")),
        ErrorCode::PROTOCOL_ERROR
    );
    // Trailing octets.
    let e = Message::decode(&hex("01000304 00000008 00")).unwrap_err();
    assert_eq!(e, DecodeError::TrailingBytes(1));
    assert_eq!(e.error_code(), ErrorCode::PROTOCOL_ERROR);
    // Shorter than a header.
    assert_eq!(code_of(&hex("0100")), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn err_0x11_invalid_parameter_value() {
    // INFO String of 256 octets in ASP Down.
    let mut m = hex("01000302 0000010c 00040104");
    m.extend(std::iter::repeat(b'a').take(256));
    assert_eq!(code_of(&m), ErrorCode::INVALID_PARAMETER_VALUE);
}

#[test]
fn err_0x12_parameter_field_error() {
    // ASP Identifier with 2-octet value.
    assert_eq!(
        code_of(&hex("01000301 0000000c 00110006 00010000")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    // Parameter length below 4.
    assert_eq!(
        code_of(&hex("01000301 0000000c 00110002 00000000")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    // Parameter overruns the message.
    assert_eq!(
        code_of(&hex("01000301 0000000c 00110008 00000000")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    // Routing Context not a multiple of 4 / empty.
    assert_eq!(
        code_of(&hex("01000401 00000010 00060006 00010000")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    assert_eq!(
        code_of(&hex("01000401 0000000c 00060004")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    // Protocol Data shorter than the routing label.
    assert_eq!(
        code_of(&hex("01000101 00000010 02100008 00000001")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    // Dangling octets that cannot hold a parameter header.
    assert_eq!(
        code_of(&hex("01000304 0000000a 0000")),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
    // DATA carries a single Routing Context.
    assert_eq!(
        code_of(&hex(
            "01000101 00000024 0006000c 00000001 00000002 02100010 00000001 00000002 03000000"
        )),
        ErrorCode::PARAMETER_FIELD_ERROR
    );
}

#[test]
fn err_0x13_unexpected_parameter() {
    // Protocol Data inside ASP Up.
    assert_eq!(
        code_of(&hex(
            "01000301 00000018 02100010 00000001 00000002 03000000"
        )),
        ErrorCode::UNEXPECTED_PARAMETER
    );
    // Routing Context twice.
    assert_eq!(
        code_of(&hex(
            "01000401 00000018 00060008 00000001 00060008 00000002"
        )),
        ErrorCode::UNEXPECTED_PARAMETER
    );
    // An RKM-only parameter (Routing Key 0x0207) in ASP Active.
    assert_eq!(
        code_of(&hex("01000401 00000010 02070008 00000001")),
        ErrorCode::UNEXPECTED_PARAMETER
    );
}

#[test]
fn err_0x16_missing_parameter() {
    // DATA without Protocol Data.
    assert_eq!(
        code_of(&hex("01000101 00000010 00060008 00000001")),
        ErrorCode::MISSING_PARAMETER
    );
    // ERR without Error Code, NTFY without Status.
    assert_eq!(
        code_of(&hex("01000000 00000008")),
        ErrorCode::MISSING_PARAMETER
    );
    assert_eq!(
        code_of(&hex("01000001 00000008")),
        ErrorCode::MISSING_PARAMETER
    );
    // DUNA without Affected Point Code, DUPU without User/Cause.
    assert_eq!(
        code_of(&hex("01000201 00000008")),
        ErrorCode::MISSING_PARAMETER
    );
    assert_eq!(
        code_of(&hex("01000205 00000010 00120008 00000123")),
        ErrorCode::MISSING_PARAMETER
    );
}

// ---- encoder refusals ----------------------------------------------------------------------

#[test]
fn encoder_refuses_what_cannot_be_sent() {
    let mut out = BytesMut::new();
    let too_long = Message::from(Body::AspDown(AspDown {
        info_string: Some(Cow::Owned(vec![b'a'; 256])),
    }));
    assert_eq!(
        too_long.encode(&mut out),
        Err(EncodeError::InfoStringTooLong)
    );
    assert!(
        out.is_empty(),
        "a failed encode leaves the buffer unchanged"
    );

    let no_apc = Message::from(Body::Duna(DestinationState {
        network_appearance: None,
        routing_contexts: vec![],
        affected_point_codes: vec![],
        info_string: None,
    }));
    assert_eq!(
        no_apc.encode(&mut out),
        Err(EncodeError::EmptyMandatory(Tag::AFFECTED_POINT_CODE))
    );

    let mut data = sample_data();
    data.protocol_data.user_data = Cow::Owned(vec![0; 70_000]);
    assert_eq!(
        Message::from(Body::Data(data)).encode(&mut out),
        Err(EncodeError::ParameterTooLong(Tag::PROTOCOL_DATA))
    );

    let reserved = Message {
        body: Body::AspUpAck(AspUp::default()),
        unknown_parameters: vec![RawParameter {
            tag: Tag::ROUTING_CONTEXT,
            value: Cow::Borrowed(&[0, 0, 0, 1]),
        }],
    };
    assert_eq!(
        reserved.encode(&mut out),
        Err(EncodeError::ReservedTag(Tag::ROUTING_CONTEXT))
    );
}

#[test]
fn encode_appends_after_existing_content() {
    let mut out = BytesMut::from(&b"xx"[..]);
    let n = Message::from(Body::AspUpAck(AspUp::default()))
        .encode(&mut out)
        .unwrap();
    assert_eq!(n, 8);
    assert_eq!(&out[..], &hex("7878 01000304 00000008")[..]);
}
