//! State machine tests: both roles wired back to back, virtual time.

use super::*;
use crate::params::SI_SCCP;

fn hex(s: &str) -> Bytes {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

fn asp_config(rcs: &[u32]) -> Config {
    Config {
        routing_contexts: rcs.to_vec(),
        traffic_mode: Some(TrafficModeType::LOADSHARE),
        asp_identifier: Some(42),
        ..Config::default()
    }
}

fn sg_config(rcs: &[u32]) -> Config {
    Config {
        routing_contexts: rcs.to_vec(),
        available_destinations: vec![AffectedPointCode::exact(100)],
        ..Config::default()
    }
}

/// Decoded copies of everything queued for sending.
fn sent(a: &mut Association) -> Vec<Message<'static>> {
    std::iter::from_fn(|| a.poll_transmit())
        .map(|t| Message::decode(&t.payload).unwrap().into_owned())
        .collect()
}

fn events(a: &mut Association) -> Vec<Event> {
    std::iter::from_fn(|| a.poll_event()).collect()
}

/// Delivers queued messages both ways until both ends are quiet.
fn pump(a: &mut Association, b: &mut Association, now: Instant) {
    loop {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_frame_on_stream(now, t.stream, t.payload);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_frame_on_stream(now, t.stream, t.payload);
            moved = true;
        }
        if !moved {
            break;
        }
    }
}

fn pd(user: &'static [u8]) -> ProtocolData<'static> {
    ProtocolData {
        opc: 1,
        dpc: 100,
        si: SI_SCCP,
        ni: 2,
        mp: 0,
        sls: 7,
        user_data: Cow::Borrowed(user),
    }
}

fn encode(body: Body<'_>) -> Bytes {
    Message::from(body).to_bytes().unwrap().freeze()
}

/// The single ERR queued by `a`, with its code checked.
fn expect_err(a: &mut Association, code: ErrorCode) -> ErrorMessage<'static> {
    let msgs = sent(a);
    let errs: Vec<_> = msgs
        .into_iter()
        .filter_map(|m| match m.body {
            Body::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(errs.len(), 1, "expected one ERR");
    assert_eq!(errs[0].error_code, code);
    let evs = events(a);
    assert!(
        evs.iter().any(
            |e| matches!(e, Event::PeerViolation { code: c, answered: true, .. } if *c == code)
        ),
        "no PeerViolation event for {code:?}: {evs:?}"
    );
    errs[0].clone()
}

/// An SG with an ASP already up (ASP-INACTIVE); output drained.
fn sg_up(cfg: Config, now: Instant) -> Association {
    let mut sg = Association::new(Role::Sg, cfg);
    sg.handle_frame(now, encode(Body::AspUp(AspUp::default())));
    sent(&mut sg);
    events(&mut sg);
    sg
}

/// An ASP and an SG, both active for RC 1.
fn active_pair(now: Instant) -> (Association, Association) {
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    asp.start(now).unwrap();
    pump(&mut asp, &mut sg, now);
    assert!(asp.is_active() && sg.is_active());
    events(&mut asp);
    events(&mut sg);
    (asp, sg)
}

// ---- handshakes ----------------------------------------------------------------------------

#[test]
fn handshake_asp_to_sg_exact_messages() {
    let now = Instant::now();
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));

    asp.start(now).unwrap();
    let up = asp.poll_transmit().unwrap();
    assert_eq!(up.payload, hex("01000301 00000010 00110008 0000002a"));
    assert_eq!(asp.pending_request(), Some(Request::AspUp));

    sg.handle_frame(now, up.payload);
    assert_eq!(sg.state(), AspState::Inactive);
    let out = sent(&mut sg);
    assert_eq!(out[0].body, Body::AspUpAck(AspUp::default()));
    assert_eq!(
        out[1].body,
        Body::Notify(Notify {
            status: Status::AS_INACTIVE,
            asp_identifier: Some(42),
            routing_contexts: vec![1],
            info_string: None,
        })
    );
    assert_eq!(
        events(&mut sg),
        vec![Event::AspUp {
            asp_identifier: Some(42)
        }]
    );

    for m in out {
        asp.handle_frame(now, m.to_bytes().unwrap().freeze());
    }
    assert_eq!(asp.state(), AspState::Inactive);
    // auto_activate: ASP Active (Loadshare, RC 1) follows the Ack.
    let active = asp.poll_transmit().unwrap();
    assert_eq!(
        active.payload,
        hex("01000401 00000018 000b0008 00000002 00060008 00000001")
    );
    assert_eq!(
        events(&mut asp),
        vec![
            Event::AspUp {
                asp_identifier: None
            },
            Event::Notify {
                status: Status::AS_INACTIVE,
                asp_identifier: Some(42),
                routing_contexts: vec![1]
            }
        ]
    );

    sg.handle_frame(now, active.payload);
    assert!(sg.is_active());
    assert_eq!(sg.active_routing_contexts(), &[1]);
    let out = sent(&mut sg);
    assert_eq!(
        out[0].body,
        Body::AspActiveAck(AspActive {
            traffic_mode: Some(TrafficModeType::LOADSHARE),
            routing_contexts: vec![1],
            info_string: None,
        })
    );
    assert!(
        matches!(&out[1].body, Body::Notify(n) if n.status == Status::AS_ACTIVE && n.routing_contexts == [1])
    );
    assert_eq!(
        events(&mut sg),
        vec![Event::AspActive {
            routing_contexts: vec![1],
            traffic_mode: Some(TrafficModeType::LOADSHARE)
        }]
    );

    for m in out {
        asp.handle_frame(now, m.to_bytes().unwrap().freeze());
    }
    assert!(asp.is_active());
    assert_eq!(asp.pending_request(), None);
    assert_eq!(asp.poll_timeout(), None, "no timers left running");
    let evs = events(&mut asp);
    assert_eq!(
        evs[0],
        Event::AspActive {
            routing_contexts: vec![1],
            traffic_mode: Some(TrafficModeType::LOADSHARE)
        }
    );
}

#[test]
fn ipsp_answers_like_an_sg_and_can_initiate() {
    let now = Instant::now();
    let mut a = Association::new(Role::Ipsp, asp_config(&[1]));
    let mut b = Association::new(Role::Ipsp, sg_config(&[1]));
    a.start(now).unwrap();
    pump(&mut a, &mut b, now);
    assert!(a.is_active() && b.is_active());
}

#[test]
fn sg_cannot_initiate() {
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    assert_eq!(
        sg.start(Instant::now()),
        Err(AssociationError::WrongRole(Role::Sg))
    );
}

#[test]
fn data_flows_both_ways_zero_copy() {
    let now = Instant::now();
    let (mut asp, mut sg) = active_pair(now);

    asp.send_data(None, &pd(b"sccp-udt")).unwrap();
    let t = asp.poll_transmit().unwrap();
    let frame = t.payload.clone();
    sg.handle_frame(now, t.payload);
    let Some(Event::Data(ind)) = sg.poll_event() else {
        panic!("no DATA event")
    };
    assert_eq!(ind.routing_context, Some(1), "single active RC filled in");
    assert_eq!(
        (ind.opc, ind.dpc, ind.si, ind.ni, ind.sls),
        (1, 100, 3, 2, 7)
    );
    assert_eq!(&ind.user_data[..], b"sccp-udt");
    // The user data is a view into the received frame, not a copy.
    let start = ind.user_data.as_ptr() as usize - frame.as_ptr() as usize;
    assert!(start + ind.user_data.len() <= frame.len());

    sg.send_data(Some(1), &pd(b"reply")).unwrap();
    pump(&mut asp, &mut sg, now);
    assert!(matches!(asp.poll_event(), Some(Event::Data(d)) if &d.user_data[..] == b"reply"));
}

#[test]
fn handle_message_copies_data() {
    let now = Instant::now();
    let (_, mut sg) = active_pair(now);
    let msg = Message::from(Body::Data(Data {
        network_appearance: None,
        routing_context: None,
        protocol_data: pd(b"x"),
        correlation_id: None,
    }));
    sg.handle_message(now, &msg);
    assert!(matches!(sg.poll_event(), Some(Event::Data(d)) if &d.user_data[..] == b"x"));
}

#[test]
fn data_goes_on_an_sls_stream_with_sctp() {
    let now = Instant::now();
    let (mut asp, _) = active_pair(now);
    asp.config.outbound_streams = 4;
    asp.send_data(None, &pd(b"x")).unwrap();
    assert_eq!(asp.poll_transmit().unwrap().stream, 1 + 7 % 3);
}

#[test]
fn send_data_fails_when_not_active() {
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    assert_eq!(
        asp.send_data(None, &pd(b"x")),
        Err(AssociationError::NotActive)
    );
    let now = Instant::now();
    let (mut asp, _) = active_pair(now);
    assert_eq!(
        asp.send_data(Some(9), &pd(b"x")),
        Err(AssociationError::RoutingContextNotActive(9))
    );
}

// ---- deactivation and shutdown -----------------------------------------------------------

#[test]
fn asp_inactive_then_down() {
    let now = Instant::now();
    let (mut asp, mut sg) = active_pair(now);

    asp.deactivate(now).unwrap();
    pump(&mut asp, &mut sg, now);
    assert_eq!(asp.state(), AspState::Inactive);
    assert_eq!(sg.state(), AspState::Inactive);
    assert!(events(&mut asp).contains(&Event::AspInactive {
        routing_contexts: vec![1]
    }));
    assert_eq!(
        events(&mut sg),
        vec![Event::AspInactive {
            routing_contexts: vec![1]
        }]
    );

    asp.stop(now).unwrap();
    pump(&mut asp, &mut sg, now);
    assert_eq!(asp.state(), AspState::Down);
    assert_eq!(sg.state(), AspState::Down);
    assert_eq!(events(&mut asp), vec![Event::AspDown]);
    assert_eq!(events(&mut sg), vec![Event::AspDown]);
    assert_eq!(asp.poll_timeout(), None);
}

#[test]
fn asp_down_from_active_and_then_data_is_unexpected() {
    let now = Instant::now();
    let (mut asp, mut sg) = active_pair(now);
    asp.stop(now).unwrap();
    pump(&mut asp, &mut sg, now);
    assert_eq!(sg.state(), AspState::Down);
    events(&mut sg);
    sg.handle_frame(
        now,
        encode(Body::Data(Data {
            network_appearance: None,
            routing_context: Some(1),
            protocol_data: pd(b"late"),
            correlation_id: None,
        })),
    );
    expect_err(&mut sg, ErrorCode::UNEXPECTED_MESSAGE);
}

#[test]
fn unsolicited_asp_down_ack_forces_asp_down() {
    let now = Instant::now();
    let (mut asp, _) = active_pair(now);
    asp.handle_frame(now, hex("01000305 00000008"));
    assert_eq!(asp.state(), AspState::Down);
    assert_eq!(events(&mut asp), vec![Event::AspDown]);
}

#[test]
fn unsolicited_asp_inactive_ack_forces_asp_inactive() {
    let now = Instant::now();
    let (mut asp, _) = active_pair(now);
    asp.handle_frame(now, hex("01000404 00000008"));
    assert_eq!(asp.state(), AspState::Inactive);
    assert_eq!(
        asp.send_data(None, &pd(b"x")),
        Err(AssociationError::NotActive)
    );
}

// ---- heartbeat and timers ----------------------------------------------------------------

#[test]
fn beat_is_echoed_exactly() {
    let now = Instant::now();
    let mut sg = sg_up(sg_config(&[1]), now);
    // BEAT with Heartbeat Data "hb" → BEAT Ack with the same data (RFC 4666 §3.5.6).
    sg.handle_frame(now, hex("01000303 00000010 00090006 68620000"));
    assert_eq!(
        sg.poll_transmit().unwrap().payload,
        hex("01000306 00000010 00090006 68620000")
    );
}

#[test]
fn heartbeat_acknowledged_then_timeout() {
    let t0 = Instant::now();
    let s = Duration::from_secs(1);
    let mut cfg = asp_config(&[1]);
    cfg.heartbeat_interval = Some(2 * s);
    cfg.heartbeat_timeout = 3 * s;
    let mut asp = Association::new(Role::Asp, cfg);
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    asp.start(t0).unwrap();
    pump(&mut asp, &mut sg, t0);
    events(&mut asp);
    assert_eq!(asp.poll_timeout(), Some(t0 + 2 * s));

    // First BEAT is answered: no timeout.
    asp.handle_timeout(t0 + 2 * s);
    let beat = sent(&mut asp);
    assert!(matches!(&beat[0].body, Body::Beat(b) if b.heartbeat_data.is_some()));
    sg.handle_frame(t0 + 2 * s, beat[0].to_bytes().unwrap().freeze());
    pump(&mut asp, &mut sg, t0 + 2 * s);
    assert_eq!(asp.poll_timeout(), Some(t0 + 4 * s));

    // Second BEAT is lost: HeartbeatTimeout 3 s later.
    asp.handle_timeout(t0 + 4 * s);
    assert_eq!(sent(&mut asp).len(), 1);
    assert_eq!(
        asp.poll_timeout(),
        Some(t0 + 6 * s),
        "next BEAT due before the deadline"
    );
    asp.handle_timeout(t0 + 6 * s);
    sent(&mut asp);
    asp.handle_timeout(t0 + 7 * s);
    assert!(events(&mut asp).contains(&Event::HeartbeatTimeout));
}

#[test]
fn beat_ack_with_wrong_data_does_not_count() {
    let t0 = Instant::now();
    let s = Duration::from_secs(1);
    let mut cfg = asp_config(&[1]);
    cfg.heartbeat_interval = Some(10 * s);
    cfg.heartbeat_timeout = 2 * s;
    let mut asp = Association::new(Role::Asp, cfg);
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    asp.start(t0).unwrap();
    pump(&mut asp, &mut sg, t0);
    asp.handle_timeout(t0 + 10 * s);
    sent(&mut asp);
    asp.handle_frame(t0 + 10 * s, hex("01000306 00000010 00090006 68620000"));
    asp.handle_timeout(t0 + 12 * s);
    assert!(events(&mut asp).contains(&Event::HeartbeatTimeout));
}

#[test]
fn asp_up_is_retransmitted_then_given_up() {
    let t0 = Instant::now();
    let s = Duration::from_secs(2);
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    asp.start(t0).unwrap();
    let first = asp.poll_transmit().unwrap().payload;
    for i in 1..=3 {
        let now = t0 + s * i;
        assert_eq!(asp.poll_timeout(), Some(now));
        asp.handle_timeout(now);
        assert_eq!(
            asp.poll_transmit().unwrap().payload,
            first,
            "retransmission {i}"
        );
    }
    asp.handle_timeout(t0 + s * 4);
    assert_eq!(asp.poll_transmit(), None);
    assert_eq!(
        events(&mut asp),
        vec![Event::AckTimeout {
            request: Request::AspUp
        }]
    );
    assert_eq!(asp.poll_timeout(), None);
    assert_eq!(asp.state(), AspState::Down);
}

#[test]
fn handle_timeout_before_deadline_does_nothing() {
    let t0 = Instant::now();
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    asp.start(t0).unwrap();
    sent(&mut asp);
    asp.handle_timeout(t0);
    assert_eq!(asp.poll_transmit(), None);
    assert_eq!(asp.poll_event(), None);
}

// ---- every procedure-side ERR code --------------------------------------------------------

#[test]
fn err_0x06_data_before_active() {
    let now = Instant::now();
    let mut sg = sg_up(sg_config(&[1]), now);
    let data = encode(Body::Data(Data {
        network_appearance: None,
        routing_context: Some(1),
        protocol_data: pd(b"too early, and longer than forty octets in all"),
        correlation_id: None,
    }));
    sg.handle_frame(now, data.clone());
    let err = expect_err(&mut sg, ErrorCode::UNEXPECTED_MESSAGE);
    // Diagnostic Information: the first 40 octets of the offending message.
    assert_eq!(err.diagnostic_information.as_deref(), Some(&data[..40]));
}

#[test]
fn err_0x06_asp_active_while_down() {
    let now = Instant::now();
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    sg.handle_frame(now, encode(Body::AspActive(AspActive::default())));
    expect_err(&mut sg, ErrorCode::UNEXPECTED_MESSAGE);
    assert_eq!(sg.state(), AspState::Down);
}

#[test]
fn err_0x06_wrong_direction() {
    let now = Instant::now();
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    sg.handle_frame(now, hex("01000304 00000008")); // ASP Up Ack to an SG
    expect_err(&mut sg, ErrorCode::UNEXPECTED_MESSAGE);
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    asp.handle_frame(now, hex("01000301 00000008")); // ASP Up to an ASP
    expect_err(&mut asp, ErrorCode::UNEXPECTED_MESSAGE);
    let mut sg = sg_up(sg_config(&[1]), now);
    sg.handle_frame(now, hex("01000201 00000010 00120008 00001234")); // DUNA to an SG
    expect_err(&mut sg, ErrorCode::UNEXPECTED_MESSAGE);
}

#[test]
fn err_0x06_asp_up_while_active_moves_to_inactive() {
    let now = Instant::now();
    let (_, mut sg) = active_pair(now);
    sg.handle_frame(now, hex("01000301 00000008"));
    let out = sent(&mut sg);
    assert_eq!(out[0].body, Body::AspUpAck(AspUp::default()));
    assert!(out.iter().any(
        |m| matches!(&m.body, Body::Error(e) if e.error_code == ErrorCode::UNEXPECTED_MESSAGE)
    ));
    assert_eq!(sg.state(), AspState::Inactive);
    assert!(events(&mut sg).contains(&Event::AspInactive {
        routing_contexts: vec![1]
    }));
}

#[test]
fn err_0x19_wrong_routing_context() {
    let now = Instant::now();
    let mut asp = Association::new(Role::Asp, asp_config(&[2]));
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    asp.start(now).unwrap();
    pump(&mut asp, &mut sg, now);
    assert_eq!(sg.state(), AspState::Inactive);
    assert_eq!(asp.state(), AspState::Inactive);
    let evs = events(&mut asp);
    assert!(evs.iter().any(
        |e| matches!(e, Event::ErrorReceived { code, routing_contexts, .. }
        if *code == ErrorCode::INVALID_ROUTING_CONTEXT && routing_contexts == &[2])
    ));
    assert!(events(&mut sg).iter().any(|e| matches!(e, Event::PeerViolation { code, .. } if *code == ErrorCode::INVALID_ROUTING_CONTEXT)));
}

#[test]
fn err_0x19_partly_wrong_routing_contexts_still_activates_the_good_ones() {
    let now = Instant::now();
    let mut sg = sg_up(sg_config(&[1, 2]), now);
    sg.handle_frame(
        now,
        encode(Body::AspActive(AspActive {
            routing_contexts: vec![1, 9],
            ..AspActive::default()
        })),
    );
    let out = sent(&mut sg);
    assert!(
        matches!(&out[0].body, Body::Error(e) if e.error_code == ErrorCode::INVALID_ROUTING_CONTEXT && e.routing_contexts == [9])
    );
    assert!(matches!(&out[1].body, Body::AspActiveAck(a) if a.routing_contexts == [1]));
    assert_eq!(sg.active_routing_contexts(), &[1]);
}

#[test]
fn err_0x19_data_with_unknown_routing_context() {
    let now = Instant::now();
    let (_, mut sg) = active_pair(now);
    sg.handle_frame(
        now,
        encode(Body::Data(Data {
            network_appearance: None,
            routing_context: Some(77),
            protocol_data: pd(b"x"),
            correlation_id: None,
        })),
    );
    expect_err(&mut sg, ErrorCode::INVALID_ROUTING_CONTEXT);
}

#[test]
fn err_0x1a_no_configured_as() {
    let now = Instant::now();
    let cfg = Config {
        default_as: false,
        ..sg_config(&[])
    };
    let mut sg = sg_up(cfg, now);
    sg.handle_frame(now, encode(Body::AspActive(AspActive::default())));
    expect_err(&mut sg, ErrorCode::NO_CONFIGURED_AS_FOR_ASP);
    assert_eq!(sg.state(), AspState::Inactive);
}

#[test]
fn default_as_without_routing_context() {
    let now = Instant::now();
    let mut asp = Association::new(Role::Asp, asp_config(&[]));
    let mut sg = Association::new(Role::Sg, sg_config(&[]));
    asp.start(now).unwrap();
    pump(&mut asp, &mut sg, now);
    assert!(asp.is_active() && sg.is_active());
    asp.send_data(None, &pd(b"x")).unwrap();
    pump(&mut asp, &mut sg, now);
    assert!(events(&mut sg)
        .iter()
        .any(|e| matches!(e, Event::Data(d) if d.routing_context.is_none())));
}

#[test]
fn err_0x05_unsupported_traffic_mode() {
    let now = Instant::now();
    let mut sg = sg_up(sg_config(&[1]), now);
    sg.handle_frame(
        now,
        encode(Body::AspActive(AspActive {
            traffic_mode: Some(TrafficModeType::BROADCAST),
            routing_contexts: vec![1],
            info_string: None,
        })),
    );
    expect_err(&mut sg, ErrorCode::UNSUPPORTED_TRAFFIC_MODE_TYPE);
    sg.handle_frame(
        now,
        encode(Body::AspActive(AspActive {
            traffic_mode: Some(TrafficModeType(77)),
            ..AspActive::default()
        })),
    );
    expect_err(&mut sg, ErrorCode::UNSUPPORTED_TRAFFIC_MODE_TYPE);
    assert!(!sg.is_active());
}

#[test]
fn err_0x09_aspsm_on_non_zero_stream() {
    let now = Instant::now();
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    sg.handle_frame_on_stream(now, 3, hex("01000301 00000008"));
    expect_err(&mut sg, ErrorCode::INVALID_STREAM_IDENTIFIER);
    assert_eq!(sg.state(), AspState::Down);
}

#[test]
fn err_0x0d_management_blocking() {
    let now = Instant::now();
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    sg.set_management_blocked(true);
    sg.handle_frame(now, hex("01000301 00000008"));
    expect_err(&mut sg, ErrorCode::REFUSED_MANAGEMENT_BLOCKING);
    assert_eq!(sg.state(), AspState::Down);
}

#[test]
fn err_0x0e_asp_identifier_required() {
    let now = Instant::now();
    let cfg = Config {
        require_asp_identifier: true,
        ..sg_config(&[1])
    };
    let mut sg = Association::new(Role::Sg, cfg);
    sg.handle_frame(now, hex("01000301 00000008"));
    expect_err(&mut sg, ErrorCode::ASP_IDENTIFIER_REQUIRED);
    sg.handle_frame(now, hex("01000301 00000010 00110008 00000001"));
    assert_eq!(sg.state(), AspState::Inactive);
}

#[test]
fn err_0x0f_invalid_asp_identifier() {
    let now = Instant::now();
    let cfg = Config {
        accepted_asp_identifiers: vec![7],
        ..sg_config(&[1])
    };
    let mut sg = Association::new(Role::Sg, cfg);
    sg.handle_frame(now, hex("01000301 00000010 00110008 00000001"));
    expect_err(&mut sg, ErrorCode::INVALID_ASP_IDENTIFIER);
    assert_eq!(sg.state(), AspState::Down);
}

#[test]
fn daud_answered_with_dava_and_err_0x14() {
    let now = Instant::now();
    let mut sg = sg_up(sg_config(&[1]), now);
    sg.handle_frame(
        now,
        encode(Body::Daud(DestinationState {
            network_appearance: None,
            routing_contexts: vec![1],
            affected_point_codes: vec![
                AffectedPointCode::exact(100),
                AffectedPointCode::exact(200),
            ],
            info_string: None,
        })),
    );
    let out = sent(&mut sg);
    assert_eq!(
        out[0].body,
        Body::Dava(DestinationState {
            network_appearance: None,
            routing_contexts: vec![1],
            affected_point_codes: vec![AffectedPointCode::exact(100)],
            info_string: None,
        })
    );
    assert!(matches!(&out[1].body, Body::Error(e)
        if e.error_code == ErrorCode::DESTINATION_STATUS_UNKNOWN
        && e.affected_point_codes == [AffectedPointCode::exact(200)]));
}

#[test]
fn err_0x15_invalid_network_appearance() {
    let now = Instant::now();
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    let mut sg = Association::new(
        Role::Sg,
        Config {
            network_appearance: Some(5),
            ..sg_config(&[1])
        },
    );
    asp.start(now).unwrap();
    pump(&mut asp, &mut sg, now);
    events(&mut sg);
    sg.handle_frame(
        now,
        encode(Body::Data(Data {
            network_appearance: Some(6),
            routing_context: Some(1),
            protocol_data: pd(b"x"),
            correlation_id: None,
        })),
    );
    let e = expect_err(&mut sg, ErrorCode::INVALID_NETWORK_APPEARANCE);
    assert_eq!(e.network_appearance, Some(6));
}

#[test]
fn decode_errors_are_answered_with_their_code() {
    let now = Instant::now();
    let cases: &[(&str, ErrorCode)] = &[
        ("02000301 00000008", ErrorCode::INVALID_VERSION),
        ("01000901 00000008", ErrorCode::UNSUPPORTED_MESSAGE_CLASS),
        ("01000309 00000008", ErrorCode::UNSUPPORTED_MESSAGE_TYPE),
        ("01000304 00000010", ErrorCode::PROTOCOL_ERROR),
        (
            "01000301 0000000c 00110006 00010000",
            ErrorCode::PARAMETER_FIELD_ERROR,
        ),
        (
            "01000301 00000010 00060008 00000001",
            ErrorCode::UNEXPECTED_PARAMETER,
        ),
        ("01000101 00000008", ErrorCode::MISSING_PARAMETER),
    ];
    for (h, code) in cases {
        let mut sg = Association::new(Role::Sg, sg_config(&[1]));
        let frame = hex(h);
        sg.handle_frame(now, frame.clone());
        let e = expect_err(&mut sg, *code);
        assert_eq!(
            e.diagnostic_information.as_deref(),
            Some(&frame[..frame.len().min(40)])
        );
    }
}

#[test]
fn malformed_err_is_not_answered() {
    let now = Instant::now();
    let mut asp = Association::new(Role::Asp, asp_config(&[1]));
    asp.handle_frame(now, hex("01000000 00000008")); // ERR without Error Code
    assert_eq!(asp.poll_transmit(), None);
    assert!(matches!(
        asp.poll_event(),
        Some(Event::PeerViolation { code, answered: false, .. }) if code == ErrorCode::MISSING_PARAMETER
    ));
}

#[test]
fn ssnm_and_mgmt_become_events_at_the_asp() {
    let now = Instant::now();
    let (mut asp, _) = active_pair(now);
    asp.handle_frame(now, hex("01000201 00000010 00120008 00001234"));
    asp.handle_frame(now, hex("01000202 00000010 00120008 00001234"));
    asp.handle_frame(now, hex("01000206 00000010 00120008 00001234"));
    asp.handle_frame(
        now,
        hex("01000205 00000018 00120008 00000123 02040008 00020003"),
    );
    asp.handle_frame(
        now,
        hex("01000204 00000018 00120008 00000123 02050008 00000002"),
    );
    asp.handle_frame(now, hex("01000000 00000010 000c0008 00000007"));
    let evs = events(&mut asp);
    assert_eq!(evs.len(), 6, "{evs:?}");
    assert!(
        matches!(&evs[0], Event::DestinationUnavailable(d) if d.affected_point_codes == [AffectedPointCode::exact(0x1234)])
    );
    assert!(matches!(&evs[1], Event::DestinationAvailable(_)));
    assert!(matches!(&evs[2], Event::DestinationRestricted(_)));
    assert!(
        matches!(&evs[3], Event::UserPartUnavailable { user_cause, .. } if user_cause.user == crate::params::MtpUser::SCCP)
    );
    assert!(matches!(
        &evs[4],
        Event::Congestion {
            level: Some(CongestionLevel::LEVEL_2),
            ..
        }
    ));
    assert!(
        matches!(&evs[5], Event::ErrorReceived { code, .. } if *code == ErrorCode::PROTOCOL_ERROR)
    );
    assert_eq!(asp.poll_transmit(), None, "no answers to indications");
}

#[test]
fn queue_message_sends_as_is() {
    let mut sg = Association::new(Role::Sg, sg_config(&[1]));
    sg.queue_message(&Message::from(Body::Duna(DestinationState {
        network_appearance: None,
        routing_contexts: vec![],
        affected_point_codes: vec![AffectedPointCode::exact(0x1234)],
        info_string: None,
    })))
    .unwrap();
    assert_eq!(
        sg.poll_transmit().unwrap().payload,
        hex("01000201 00000010 00120008 00001234")
    );
}
