//! Checks of the `tcap` and `tcap_dialogue` fuzz targets, shared with the corpus replay test
//! `protocols/tcap/tests/fuzz_corpus.rs` (both include this file with `#[path]`; it lives here
//! rather than in the crate so the fuzzing work does not touch the TCAP sources).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use strowger_tcap::{
    unknown_transaction_abort, Code, Component, ComponentPortion, Config, Dialogue, EndKind, Event,
    GeneralProblem, InvokeProblem, Message, MessageType, ObjectId, OperationClass, Problem,
    ReturnResultProblem, Role, State, TransactionId, UAbortReason,
};

fn encode(m: &Message<'_>) -> BytesMut {
    let mut b = BytesMut::new();
    m.encode(&mut b);
    b
}

/// Decodes `m`'s encoding and checks it is the same message and encodes to the same octets.
/// Values are compared through their encoding: a parameter read in the indefinite length form
/// is written back in the definite form, so the decoded `Tlv`s differ in that flag only.
fn round_trip(m: &Message<'_>) -> BytesMut {
    let b = encode(m);
    let again = Message::decode(&b)
        .unwrap_or_else(|e| panic!("encoding of {m:?} does not decode: {e} ({b:02x?})"));
    assert_eq!(again.message_type(), m.message_type());
    assert_eq!((again.otid(), again.dtid()), (m.otid(), m.dtid()));
    assert_eq!(encode(&again), b, "decode(encode(m)) encodes differently");
    b
}

/// `tcap`: a message decodes and round-trips, or its error names an answer that is an
/// Abort to the peer's otid and only for a Begin or Continue; every component decodes and
/// round-trips, or yields the Reject owed (none for a bad Reject). `data` is also read as a
/// bare component list.
pub(crate) fn message(data: &[u8]) {
    match Message::decode(data) {
        Ok(m) => {
            round_trip(&m);
            if let Some(a) = unknown_transaction_abort(&m) {
                assert_eq!(m.message_type(), MessageType::Continue);
                assert_eq!(Some(a.dtid), m.otid());
                round_trip(&Message::Abort(a));
            }
            if let Some(cp) = m.components() {
                components(cp);
            }
        }
        Err(e) => {
            if let Some(a) = e.answer() {
                assert_eq!(Some(a.dtid), e.otid);
                assert!(matches!(
                    e.message_type,
                    None | Some(MessageType::Begin | MessageType::Continue)
                ));
                round_trip(&Message::Abort(a));
            }
        }
    }
    components(ComponentPortion::new(data));
}

fn components(cp: ComponentPortion<'_>) {
    for c in cp.iter().take(256) {
        match c {
            Ok(c) => {
                let mut b = BytesMut::new();
                c.encode(&mut b);
                let again = Component::decode_bytes(&b)
                    .unwrap_or_else(|e| panic!("encoding of {c:?} does not decode: {e}"));
                assert_eq!(again.invoke_id(), c.invoke_id());
                let mut b2 = BytesMut::new();
                again.encode(&mut b2);
                assert_eq!(b, b2, "decode(encode(component)) encodes differently");
            }
            Err(e) => {
                assert_eq!(e.reject().is_none(), e.in_reject);
                if let Some(r) = e.reject() {
                    assert_eq!(r.invoke_id, e.invoke_id);
                    let mut b = BytesMut::new();
                    Component::Reject(r).encode(&mut b);
                    assert_eq!(Component::decode_bytes(&b), Ok(Component::Reject(r)));
                }
            }
        }
    }
}

/// One side of the wired pair.
struct Side {
    dlg: Option<Dialogue>,
    /// Messages sent and not yet delivered or lost.
    in_flight: VecDeque<BytesMut>,
    /// Invoke ids this side has used (Result/Error events may only name these).
    invoked: [bool; 256],
    last_invoke: Option<i8>,
}

impl Side {
    fn new(dlg: Option<Dialogue>) -> Self {
        Side {
            dlg,
            in_flight: VecDeque::new(),
            invoked: [false; 256],
            last_invoke: None,
        }
    }
}

fn cap_v2() -> ObjectId {
    ObjectId::from_arcs(&[0, 4, 0, 0, 1, 0, 50, 1]).expect("CAP v2 context")
}

/// `tcap_dialogue`: an initiator and a responder dialogue driven by a script. Octet 0 picks
/// the configuration; then one octet per operation (bit 0: side, 0 = initiator; bits 1–3:
/// kind `k`; bits 4–7: parameter `p`), some followed by more octets:
///
/// | k | operation |
/// |---|-----------|
/// | 0 | send_invoke, opcode `p`, class `p % 4`, timeout `p + 1` s, linked if `p & 8` |
/// | 1 | send_result (next octet: invoke id), last if `p` is odd |
/// | 2 | send_error (next octet: invoke id) / send_reject if `p & 8` |
/// | 3 | begin, continue, end (basic, prearranged) or u_abort, by `p % 6` |
/// | 4 | deliver the next in-flight message to the other side (Begin creates the responder) |
/// | 5 | lose the next in-flight message |
/// | 6 | hand the side a message decoded from a length-prefixed field |
/// | 7 | advance the clock by `p * 2` s and run both sides' timers |
///
/// After each step: every message sent decodes, round-trips and carries the side's ids; a
/// closed dialogue stays closed, has no timer and refuses to send; a dialogue closes exactly
/// when its last event is `Ended` or `Aborted`; results and errors name only ids the side
/// invoked; at most `MAX_OUTSTANDING` invocations; no timer is due after the timers ran.
pub(crate) fn dialogue(data: &[u8]) {
    let Some((&cfg, mut script)) = data.split_first() else {
        return;
    };
    let proposed = match cfg & 3 {
        0 => None,
        1 | 2 => Some(cap_v2()),
        _ => ObjectId::from_arcs(&[0, 4, 0, 0, 1, 0, 51, 9]),
    };
    let config = Config {
        application_contexts: if cfg & 4 != 0 { vec![cap_v2()] } else { vec![] },
        accept_without_dialogue: cfg & 8 != 0,
        idle_timeout: (cfg & 16 != 0).then_some(Duration::from_secs(20)),
    };
    let tid_a = TransactionId::from_u32(0x0a0a_0001);
    let tid_b = TransactionId::from_u32(0x0b0b_0002);
    let mut sides = [
        Side::new(Some(Dialogue::initiate(tid_a, proposed, &config))),
        Side::new(None),
    ];
    let start = Instant::now();
    let mut now = start;
    for _ in 0..256 {
        let Some((&op, rest)) = script.split_first() else {
            break;
        };
        script = rest;
        let s = usize::from(op & 1);
        let p = op >> 4;
        let kind = (op >> 1) & 7;
        if kind == 4 || kind == 5 {
            let Some(bytes) = sides[s].in_flight.pop_front() else {
                continue;
            };
            if kind == 4 {
                let msg = Message::decode(&bytes).expect("checked when sent");
                deliver(&mut sides[1 - s], &msg, now, tid_b, &config);
            }
            continue;
        }
        if kind == 6 {
            let Some((&len, rest)) = script.split_first() else {
                break;
            };
            let (raw, rest) = rest.split_at(usize::from(len).min(rest.len()));
            script = rest;
            if let Ok(msg) = Message::decode(raw) {
                deliver(&mut sides[s], &msg, now, tid_b, &config);
            }
            continue;
        }
        if kind == 7 {
            now += Duration::from_secs(2 * u64::from(p));
            for side in &mut sides {
                if let Some(d) = side.dlg.as_mut() {
                    let mut n = 0;
                    while let Some(ev) = d.handle_timeout(now) {
                        assert!(!matches!(ev, Event::Ended | Event::Aborted { .. }));
                        n += 1;
                        assert!(n <= 64, "handle_timeout does not settle");
                    }
                    if let Some(t) = d.poll_timeout() {
                        assert!(t > now, "a timer is still due after handle_timeout");
                    }
                }
            }
            continue;
        }
        let mut id = || {
            let (&v, rest) = script.split_first()?;
            script = rest;
            Some(v as i8)
        };
        let side = &mut sides[s];
        let Some(d) = side.dlg.as_mut() else {
            continue;
        };
        let closed = d.is_closed();
        let param = [0x80, 0x01, p];
        let res = match kind {
            0 => {
                let linked = if p & 8 != 0 { side.last_invoke } else { None };
                let class = [
                    OperationClass::Class1,
                    OperationClass::Class2,
                    OperationClass::Class3,
                    OperationClass::Class4,
                ][usize::from(p % 4)];
                let r = d.send_invoke(
                    now,
                    Code::Local(i64::from(p)),
                    linked,
                    Some(&param),
                    class,
                    Duration::from_secs(u64::from(p) + 1),
                );
                if let Ok(i) = r {
                    side.invoked[usize::from(i as u8)] = true;
                    side.last_invoke = Some(i);
                }
                assert!(d.outstanding_invokes() <= 32);
                r.map(|_| ())
            }
            1 => {
                let Some(i) = id() else { break };
                d.send_result(
                    i,
                    Some((&Code::Local(i64::from(p)), Some(&param))),
                    p & 1 != 0,
                )
            }
            2 => {
                let Some(i) = id() else { break };
                if p & 8 != 0 {
                    let problem = match p % 3 {
                        0 => Problem::General(GeneralProblem::MISTYPED_COMPONENT),
                        1 => Problem::Invoke(InvokeProblem::UNRECOGNIZED_OPERATION),
                        _ => Problem::ReturnResult(ReturnResultProblem::MISTYPED_PARAMETER),
                    };
                    d.send_reject((p & 4 != 0).then_some(i), problem)
                } else {
                    d.send_error(i, &Code::Local(i64::from(p)), None)
                }
            }
            _ => {
                let mut out = BytesMut::new();
                let r = match p % 6 {
                    0 => d.begin(now, &mut out),
                    1 => d.continue_(now, &mut out),
                    2 => d.end(now, &mut out, EndKind::Basic).map(|_| ()),
                    3 => d.end(now, &mut out, EndKind::Prearranged).map(|_| ()),
                    4 => d
                        .u_abort(now, &mut out, UAbortReason::UserSpecific)
                        .map(|_| ()),
                    _ => d
                        .u_abort(now, &mut out, UAbortReason::AcNotSupported)
                        .map(|_| ()),
                };
                if r.is_ok() && p % 6 >= 2 {
                    assert!(d.is_closed(), "still open after end/abort");
                }
                if !out.is_empty() {
                    sent(side, out);
                }
                r
            }
        };
        let d = side.dlg.as_ref().expect("present");
        if closed {
            assert!(res.is_err(), "a closed dialogue accepted a request");
            assert!(d.is_closed(), "a closed dialogue reopened");
        }
        if d.is_closed() {
            assert_eq!(d.poll_timeout(), None);
        }
    }
}

/// Checks a message `side` sent and puts it in flight.
fn sent(side: &mut Side, out: BytesMut) {
    let d = side.dlg.as_ref().expect("only a dialogue sends");
    let m = Message::decode(&out).unwrap_or_else(|e| panic!("sent an undecodable message: {e}"));
    assert_eq!(round_trip(&m), out, "sent a non-canonical message");
    if let Some(otid) = m.otid() {
        assert_eq!(otid, d.local_tid(), "sent with another otid");
    }
    if let (Some(dtid), Some(peer)) = (m.dtid(), d.peer_tid()) {
        assert_eq!(dtid, peer, "sent to another dtid");
    }
    if side.in_flight.len() < 64 {
        side.in_flight.push_back(out);
    }
}

/// Hands `msg` to `side`, creating the responder on a Begin, and checks the events.
fn deliver(side: &mut Side, msg: &Message<'_>, now: Instant, tid: TransactionId, config: &Config) {
    let d = match (&mut side.dlg, msg) {
        (Some(d), _) => d,
        (None, Message::Begin(b)) => match Dialogue::on_begin(now, tid, b, config) {
            Ok(d) => {
                assert_eq!(d.role(), Role::Responder);
                assert_eq!(d.state(), State::InitiationReceived);
                side.dlg.insert(d)
            }
            Err(abort) => {
                assert_eq!(abort.dtid, b.otid, "refusal to another transaction");
                let b = round_trip(&Message::Abort(abort));
                if side.in_flight.len() < 64 {
                    side.in_flight.push_back(b);
                }
                return;
            }
        },
        (None, _) => return,
    };
    let was_closed = d.is_closed();
    let mut ended = false;
    let mut local_reject = false;
    let mut n = 0;
    for ev in d.handle(now, msg) {
        assert!(!was_closed, "events from a closed dialogue");
        assert!(!ended, "event after the dialogue ended");
        match ev {
            Event::Result { invoke_id, .. } | Event::Error { invoke_id, .. } => {
                assert!(
                    side.invoked[usize::from(invoke_id as u8)],
                    "answer to an id never invoked"
                );
            }
            Event::Reject { local: true, .. } => local_reject = true,
            _ => {}
        }
        ended = matches!(ev, Event::Ended | Event::Aborted { .. });
        n += 1;
        assert!(n <= 1024);
    }
    assert_eq!(
        d.is_closed(),
        was_closed || ended,
        "closed without Ended/Aborted or vice versa"
    );
    if local_reject && !d.is_closed() && matches!(msg, Message::Begin(_) | Message::Continue(_)) {
        assert!(
            d.has_pending_components(),
            "local reject not queued for the peer"
        );
    }
    let mut out = BytesMut::new();
    if d.poll_transmit(&mut out) {
        let m = Message::decode(&out).expect("provider abort decodes");
        assert_eq!(m.message_type(), MessageType::Abort);
        round_trip(&m);
        if side.in_flight.len() < 64 {
            side.in_flight.push_back(out);
        }
    }
}
