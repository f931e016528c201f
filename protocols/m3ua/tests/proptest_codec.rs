//! Property tests: decode(encode(x)) == x for every message type, and no input panics the
//! decoder, the framer or the state machine.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use strowger_m3ua::params::is_interpreted;
use strowger_m3ua::*;

fn bytes(max: usize) -> impl Strategy<Value = Cow<'static, [u8]>> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Cow::Owned)
}

fn opt_bytes(max: usize) -> impl Strategy<Value = Option<Cow<'static, [u8]>>> {
    proptest::option::of(bytes(max))
}

fn info() -> impl Strategy<Value = Option<Cow<'static, [u8]>>> {
    opt_bytes(256)
}

fn rcs() -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::vec(any::<u32>(), 0..4)
}

fn apc() -> impl Strategy<Value = AffectedPointCode> {
    (any::<u8>(), 0u32..=0x00ff_ffff)
        .prop_map(|(mask, point_code)| AffectedPointCode { mask, point_code })
}

fn apcs(min: usize) -> impl Strategy<Value = Vec<AffectedPointCode>> {
    proptest::collection::vec(apc(), min..4)
}

fn pd() -> impl Strategy<Value = ProtocolData<'static>> {
    (any::<u32>(), any::<u32>(), any::<[u8; 4]>(), bytes(300)).prop_map(
        |(opc, dpc, b, user_data)| ProtocolData {
            opc,
            dpc,
            si: b[0],
            ni: b[1],
            mp: b[2],
            sls: b[3],
            user_data,
        },
    )
}

fn dest() -> impl Strategy<Value = DestinationState<'static>> {
    (any::<Option<u32>>(), rcs(), apcs(1), info()).prop_map(
        |(network_appearance, routing_contexts, affected_point_codes, info_string)| {
            DestinationState {
                network_appearance,
                routing_contexts,
                affected_point_codes,
                info_string,
            }
        },
    )
}

fn asp_up() -> impl Strategy<Value = AspUp<'static>> {
    (any::<Option<u32>>(), info()).prop_map(|(asp_identifier, info_string)| AspUp {
        asp_identifier,
        info_string,
    })
}

fn asp_active() -> impl Strategy<Value = AspActive<'static>> {
    (any::<Option<u32>>(), rcs(), info()).prop_map(|(tm, routing_contexts, info_string)| {
        AspActive {
            traffic_mode: tm.map(TrafficModeType),
            routing_contexts,
            info_string,
        }
    })
}

fn asp_inactive() -> impl Strategy<Value = AspInactive<'static>> {
    (rcs(), info()).prop_map(|(routing_contexts, info_string)| AspInactive {
        routing_contexts,
        info_string,
    })
}

fn beat() -> impl Strategy<Value = Beat<'static>> {
    opt_bytes(64).prop_map(|heartbeat_data| Beat { heartbeat_data })
}

fn body() -> impl Strategy<Value = Body<'static>> {
    prop_oneof![
        (
            any::<u32>(),
            rcs(),
            any::<Option<u32>>(),
            apcs(0),
            opt_bytes(64)
        )
            .prop_map(|(c, r, na, a, d)| Body::Error(ErrorMessage {
                error_code: ErrorCode(c),
                routing_contexts: r,
                network_appearance: na,
                affected_point_codes: a,
                diagnostic_information: d,
            })),
        (any::<(u16, u16)>(), any::<Option<u32>>(), rcs(), info()).prop_map(
            |((t, i), id, r, s)| Body::Notify(Notify {
                status: Status::new(StatusType(t), i),
                asp_identifier: id,
                routing_contexts: r,
                info_string: s,
            })
        ),
        (
            any::<Option<u32>>(),
            any::<Option<u32>>(),
            pd(),
            any::<Option<u32>>()
        )
            .prop_map(|(na, rc, p, c)| Body::Data(Data {
                network_appearance: na,
                routing_context: rc,
                protocol_data: p,
                correlation_id: c,
            })),
        dest().prop_map(Body::Duna),
        dest().prop_map(Body::Dava),
        dest().prop_map(Body::Daud),
        dest().prop_map(Body::Drst),
        (
            any::<Option<u32>>(),
            rcs(),
            apcs(1),
            proptest::option::of(0u32..=0x00ff_ffff),
            any::<Option<u8>>(),
            info()
        )
            .prop_map(|(na, r, a, cd, cl, s)| Body::Scon(Scon {
                network_appearance: na,
                routing_contexts: r,
                affected_point_codes: a,
                concerned_destination: cd,
                congestion_level: cl.map(CongestionLevel),
                info_string: s,
            })),
        (
            any::<Option<u32>>(),
            rcs(),
            apc(),
            any::<(u16, u16)>(),
            info()
        )
            .prop_map(|(na, r, a, (c, u), s)| Body::Dupu(Dupu {
                network_appearance: na,
                routing_contexts: r,
                affected_point_code: a,
                user_cause: UserCause {
                    cause: UnavailabilityCause(c),
                    user: MtpUser(u)
                },
                info_string: s,
            })),
        asp_up().prop_map(Body::AspUp),
        asp_up().prop_map(Body::AspUpAck),
        info().prop_map(|info_string| Body::AspDown(AspDown { info_string })),
        info().prop_map(|info_string| Body::AspDownAck(AspDown { info_string })),
        beat().prop_map(Body::Beat),
        beat().prop_map(Body::BeatAck),
        asp_active().prop_map(Body::AspActive),
        asp_active().prop_map(Body::AspActiveAck),
        asp_inactive().prop_map(Body::AspInactive),
        asp_inactive().prop_map(Body::AspInactiveAck),
    ]
}

fn unknown() -> impl Strategy<Value = Vec<RawParameter<'static>>> {
    proptest::collection::vec(
        (
            any::<u16>().prop_filter("uninterpreted tag", |t| !is_interpreted(Tag(*t))),
            bytes(16),
        )
            .prop_map(|(t, value)| RawParameter { tag: Tag(t), value }),
        0..3,
    )
}

fn message() -> impl Strategy<Value = Message<'static>> {
    (body(), unknown()).prop_map(|(body, unknown_parameters)| Message {
        body,
        unknown_parameters,
    })
}

/// Valid messages, sometimes with a few octets changed: reaches deeper than pure noise.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (
            message(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3)
        )
            .prop_map(|(m, flips)| {
                let mut b = m.to_bytes().map(|b| b.to_vec()).unwrap_or_default();
                for (i, v) in flips {
                    if !b.is_empty() {
                        let n = b.len();
                        b[i % n] = v;
                    }
                }
                b
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decode_encode_roundtrip(m in message()) {
        let bytes = m.to_bytes().unwrap();
        prop_assert_eq!(bytes.len() % 4, 0, "messages are padded to 4 octets");
        let back = Message::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &m);
        // And the encoding is canonical.
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Message::decode(&b);
        let _ = Message::decode_prefix(&b);
        let mut buf = BytesMut::from(&b[..]);
        let f = Framer::new(128);
        while let Ok(Some(frame)) = f.next_frame(&mut buf) {
            let _ = Message::decode(&frame);
        }
    }

    #[test]
    fn mutated_messages_never_panic_the_decoder(b in frame()) {
        if let Ok(m) = Message::decode(&b) {
            // Whatever decodes re-encodes, and re-decodes to the same thing.
            let again = m.to_bytes().unwrap();
            prop_assert_eq!(Message::decode(&again).unwrap(), m);
        }
    }

    #[test]
    fn arbitrary_input_never_panics_the_state_machine(
        role in prop_oneof![Just(Role::Asp), Just(Role::Sg), Just(Role::Ipsp)],
        steps in proptest::collection::vec((frame(), any::<u16>(), 0u64..5_000, any::<u8>()), 0..24),
    ) {
        let t0 = Instant::now();
        let cfg = Config {
            routing_contexts: vec![1, 2],
            heartbeat_interval: Some(Duration::from_millis(700)),
            heartbeat_timeout: Duration::from_millis(1500),
            available_destinations: vec![AffectedPointCode { mask: 2, point_code: 100 }],
            network_appearance: Some(1),
            outbound_streams: 3,
            ..Config::default()
        };
        let mut a = Association::new(role, cfg);
        let mut now = t0;
        for (f, stream, dt, op) in steps {
            now += Duration::from_millis(dt);
            match op % 8 {
                0 => { let _ = a.start(now); }
                1 => { let _ = a.activate(now); }
                2 => { let _ = a.stop(now); }
                3 => {
                    let _ = a.send_data(None, &ProtocolData {
                        opc: 1, dpc: 2, si: 3, ni: 2, mp: 0, sls: op, user_data: Cow::Borrowed(&f),
                    });
                }
                _ => {}
            }
            a.handle_frame_on_stream(now, stream % 3, Bytes::from(f));
            if a.poll_timeout().is_some_and(|t| t <= now) {
                a.handle_timeout(now);
            }
            while let Some(t) = a.poll_transmit() {
                // Everything we send must itself decode.
                prop_assert!(Message::decode(&t.payload).is_ok(), "undecodable output {:?}", t.payload);
                prop_assert!(t.stream < 3);
            }
            while let Some(e) = a.poll_event() {
                prop_assert!(!matches!(e, Event::EncodeFailed(_)), "{:?}", e);
            }
        }
    }
}
