//! The checks run by the `m3ua` fuzz target and by the corpus replay test
//! (`tests/fuzz_corpus.rs`), kept here so both run the same code. Not part of the API.
//!
//! Every input is used three ways: as one M3UA message, as a TCP byte stream for the
//! [`Framer`], and as a script driving two [`Association`]s wired to each other (see
//! [`check_associations`] for the script format).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::{
    AspState, Association, AssociationError, Body, CommonHeader, Config, Event, Framer, Message,
    MessageClass, ProtocolData, Role, TrafficModeType, Transmit, HEADER_LEN,
};

/// Runs every check on `data`.
pub fn check(data: &[u8]) {
    check_codec(data);
    check_framing(data);
    check_associations(data);
}

/// Whatever decodes re-encodes; the encoding decodes to the same message and is canonical;
/// `decode_prefix` agrees with `decode`.
pub fn check_codec(data: &[u8]) {
    if let Ok(m) = Message::decode(data) {
        round_trip(&m);
    }
    if let Ok((m, rest)) = Message::decode_prefix(data) {
        let used = data.len() - rest.len();
        assert!(used >= HEADER_LEN);
        assert_eq!(Message::decode(&data[..used]), Ok(m));
    }
}

fn round_trip(m: &Message<'_>) -> Bytes {
    let b = m
        .to_bytes()
        .unwrap_or_else(|e| panic!("decoded {m:?} does not encode: {e}"));
    let again = Message::decode(&b).unwrap_or_else(|e| panic!("encoding of {m:?} fails: {e}"));
    assert_eq!(&again, m);
    assert_eq!(again.to_bytes().as_deref(), Ok(&b[..]), "not canonical");
    b.freeze()
}

/// Cutting the stream all at once and in small pieces yields the same frames, each announcing
/// its own length; on error the buffer is left as it was.
pub fn check_framing(data: &[u8]) {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let framer = Framer::new(usize::from(first) * 4);
    let whole = frames(framer, stream, stream.len().max(1));
    let pieces = frames(framer, stream, usize::from(first % 7) + 1);
    assert_eq!(whole, pieces);
}

fn frames(framer: Framer, stream: &[u8], chunk: usize) -> (Vec<Bytes>, bool) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.clone();
            match framer.next_frame(&mut buf) {
                Ok(Some(f)) => {
                    let (h, _) = CommonHeader::parse(&f).expect("a frame holds a header");
                    assert_eq!(h.length as usize, f.len());
                    assert!(f.len() <= framer.max_len());
                    out.push(f);
                }
                Ok(None) => break,
                Err(_) => {
                    assert_eq!(buf, before, "buffer changed on error");
                    return (out, true);
                }
            }
        }
    }
    (out, false)
}

/// One end of the wired pair, with the messages it sent that are still in flight.
struct End {
    assoc: Association,
    in_flight: VecDeque<Transmit>,
}

/// Script: 5 configuration octets, then operations of one octet each (bit 0: which end, bits
/// 1–3: the kind `k`, bits 4–7: a parameter `p`), some followed by a length octet and that many
/// octets:
///
/// | k | operation |
/// |---|-----------|
/// | 0 | inject a raw frame (length-prefixed) on stream `p % 3` |
/// | 1 | deliver the next `p + 1` in-flight messages to the other end |
/// | 2 | lose the next in-flight message |
/// | 3 | advance the clock by `p * 300 ms` and run both ends' timers |
/// | 4 | local request `p % 4`: start, activate, deactivate, stop |
/// | 5 | send DATA (length-prefixed user data), RC `p >> 1` if `p` is odd |
/// | 6 | set management blocking to `p & 1` |
/// | 7 | hand a decoded message (length-prefixed) to `handle_message` |
///
/// After every step each end must: transmit only messages that decode and re-encode to the same
/// octets, on stream 0 unless DATA; never answer an ERR with an ERR; send an ERR for every
/// violation it reports as answered; report DATA only while active; keep its timers in the
/// future after running them; fail no encode; and hold a consistent state.
pub fn check_associations(data: &[u8]) {
    let Some((cfg, mut script)) = data.split_first_chunk::<5>() else {
        return;
    };
    let (role_a, role_b) = match cfg[0] & 3 {
        0 => (Role::Asp, Role::Sg),
        1 => (Role::Ipsp, Role::Ipsp),
        2 => (Role::Asp, Role::Ipsp),
        _ => (Role::Ipsp, Role::Sg),
    };
    let rc_sets: [&[u32]; 4] = [&[], &[1], &[1, 2], &[2, 3]];
    let config = |rcs: u8, flags: u8| Config {
        routing_contexts: rc_sets[usize::from(rcs & 3)].to_vec(),
        default_as: flags & 1 != 0,
        traffic_mode: (flags & 2 != 0).then_some(TrafficModeType::LOADSHARE),
        accepted_traffic_modes: if flags & 4 != 0 {
            vec![TrafficModeType::OVERRIDE]
        } else {
            vec![TrafficModeType::OVERRIDE, TrafficModeType::LOADSHARE]
        },
        network_appearance: (flags & 8 != 0).then_some(7),
        asp_identifier: (flags & 16 != 0).then_some(u32::from(rcs >> 4)),
        require_asp_identifier: flags & 32 != 0,
        accepted_asp_identifiers: if flags & 64 != 0 { vec![1] } else { vec![] },
        available_destinations: vec![crate::AffectedPointCode::exact(0x123)],
        send_notify: rcs & 4 != 0,
        auto_activate: rcs & 8 != 0,
        ack_timeout: Duration::from_millis(500),
        max_retransmissions: u32::from(cfg[3] & 3),
        heartbeat_interval: (flags & 128 != 0).then_some(Duration::from_secs(1)),
        heartbeat_timeout: Duration::from_millis(1500),
        outbound_streams: u16::from((cfg[3] >> 2) & 3),
    };
    let mut ends = [
        End {
            assoc: Association::new(role_a, config(cfg[0] >> 2, cfg[1])),
            in_flight: VecDeque::new(),
        },
        End {
            assoc: Association::new(role_b, config(cfg[4], cfg[2])),
            in_flight: VecDeque::new(),
        },
    ];
    let start = Instant::now();
    let mut now = start;
    for _ in 0..256 {
        let Some((&op, rest)) = script.split_first() else {
            break;
        };
        script = rest;
        let side = usize::from(op & 1);
        let p = op >> 4;
        match op >> 1 & 7 {
            0 => {
                let Some(frame) = take(&mut script) else {
                    break;
                };
                let frame = Bytes::from(frame);
                ends[side]
                    .assoc
                    .handle_frame_on_stream(now, u16::from(p % 3), frame.clone());
                settle(&mut ends[side], Some(&frame));
            }
            1 => {
                for _ in 0..=p {
                    let Some(t) = ends[side].in_flight.pop_front() else {
                        break;
                    };
                    let peer = &mut ends[1 - side];
                    peer.assoc
                        .handle_frame_on_stream(now, t.stream, t.payload.clone());
                    settle(peer, Some(&t.payload));
                }
            }
            2 => {
                ends[side].in_flight.pop_front();
            }
            3 => {
                now += Duration::from_millis(300) * u32::from(p);
                for end in &mut ends {
                    end.assoc.handle_timeout(now);
                    if let Some(t) = end.assoc.poll_timeout() {
                        assert!(t > now, "a timer is still due after handle_timeout");
                    }
                    settle(end, None);
                }
            }
            4 => {
                let a = &mut ends[side].assoc;
                let (role, state) = (a.role(), a.state());
                let res = match p % 4 {
                    0 => a.start(now),
                    1 => a.activate(now),
                    2 => a.deactivate(now),
                    _ => a.stop(now),
                };
                if role == Role::Sg {
                    assert_eq!(res, Err(AssociationError::WrongRole(role)));
                } else if res.is_ok() {
                    assert_ne!(a.pending_request(), None);
                } else {
                    assert!(matches!(res, Err(AssociationError::WrongState(s)) if s == state));
                }
                settle(&mut ends[side], None);
            }
            5 => {
                let Some(user_data) = take(&mut script) else {
                    break;
                };
                let pd = ProtocolData {
                    opc: 1,
                    dpc: 2,
                    si: crate::SI_SCCP,
                    ni: 2,
                    mp: 0,
                    sls: p,
                    user_data: Cow::Owned(user_data),
                };
                let active = ends[side].assoc.is_active();
                let res = ends[side]
                    .assoc
                    .send_data((p & 1 != 0).then_some(u32::from(p >> 1)), &pd);
                assert!(res.is_err() || active, "DATA sent while not active");
                settle(&mut ends[side], None);
            }
            6 => ends[side].assoc.set_management_blocked(p & 1 != 0),
            _ => {
                let Some(frame) = take(&mut script) else {
                    break;
                };
                if let Ok(m) = Message::decode(&frame) {
                    ends[side].assoc.handle_message(now, &m);
                    settle(&mut ends[side], Some(&frame));
                }
            }
        }
    }
}

/// A length-prefixed field of the script (cut short at its end).
fn take(script: &mut &[u8]) -> Option<Vec<u8>> {
    let (&len, rest) = script.split_first()?;
    let (v, rest) = rest.split_at(usize::from(len).min(rest.len()));
    *script = rest;
    Some(v.to_vec())
}

/// Drains one end's output after a step whose input (if any) was `input`, checking it.
fn settle(end: &mut End, input: Option<&[u8]>) {
    let input_is_err = input
        .and_then(|i| CommonHeader::parse(i).ok())
        .is_some_and(|(h, _)| h.is_err());
    let input_msg = input.and_then(|i| Message::decode(i).ok());
    let a = &mut end.assoc;
    let mut errs_sent = 0;
    while let Some(t) = a.poll_transmit() {
        let m = Message::decode(&t.payload)
            .unwrap_or_else(|e| panic!("sent a message that does not decode: {e}"));
        assert_eq!(round_trip(&m), t.payload, "sent a non-canonical encoding");
        let class = m.body.class_and_type().0;
        if class == MessageClass::TRANSFER {
            assert!(t.stream < a.config().outbound_streams.max(1));
        } else {
            assert_eq!(t.stream, 0, "{} not on stream 0", m.body.name());
        }
        if let Body::Error(_) = m.body {
            assert!(!input_is_err, "an ERR was answered with an ERR");
            errs_sent += 1;
        }
        if end.in_flight.len() < 64 {
            end.in_flight.push_back(t);
        }
    }
    let mut answered = 0;
    while let Some(ev) = a.poll_event() {
        match ev {
            Event::PeerViolation { answered: true, .. } => answered += 1,
            Event::PeerViolation {
                answered: false, ..
            } => assert!(input_is_err, "an unanswered violation for a non-ERR"),
            Event::Data(d) => {
                assert_eq!(
                    a.state(),
                    AspState::Active,
                    "DATA delivered while not active"
                );
                if let Some(Body::Data(sent)) = input_msg.as_ref().map(|m| &m.body) {
                    assert_eq!(&d.user_data[..], &sent.protocol_data.user_data[..]);
                    assert_eq!(
                        (d.opc, d.dpc),
                        (sent.protocol_data.opc, sent.protocol_data.dpc)
                    );
                }
            }
            Event::EncodeFailed(e) => panic!("encode failed: {e}"),
            _ => {}
        }
    }
    assert!(
        answered <= errs_sent,
        "violation reported as answered without an ERR"
    );
    let rcs = a.active_routing_contexts();
    if a.state() == AspState::Down {
        assert!(rcs.is_empty(), "ASP-DOWN with active routing contexts");
    }
    for (i, rc) in rcs.iter().enumerate() {
        assert!(!rcs[..i].contains(rc), "routing context {rc} active twice");
        if a.role() == Role::Sg {
            assert!(
                a.config().routing_contexts.contains(rc),
                "unconfigured RC {rc} active"
            );
        }
    }
}
