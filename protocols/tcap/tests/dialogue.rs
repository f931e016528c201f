//! The dialogue state machine, driven from both ends with virtual time.

mod common;

use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::hex;
use strowger_tcap::*;

fn cap2() -> ObjectId {
    "0.4.0.0.1.0.50.1".parse().unwrap()
}
fn cap3() -> ObjectId {
    "0.4.0.0.1.21.3.50".parse().unwrap()
}

fn cfg() -> Config {
    Config::new(vec![cap3(), cap2()])
}

const IDP_ARG: &str = "30 03 80 01 64";
const SECS: Duration = Duration::from_secs(1);

/// Initiator sends a Begin with an InitialDP; the responder takes it. Returns both
/// dialogues, the responder's events rendered with Debug.
fn open(t0: Instant) -> (Dialogue, Dialogue, Vec<String>) {
    let mut ssp = Dialogue::initiate(TransactionId::from_u32(0x100), Some(cap2()), &cfg());
    let id = ssp
        .send_invoke(
            t0,
            Code::Local(0),
            None,
            Some(&hex(IDP_ARG)),
            OperationClass::Class2,
            10 * SECS,
        )
        .unwrap();
    assert_eq!(id, 1);
    let mut out = BytesMut::new();
    ssp.begin(t0, &mut out).unwrap();
    assert_eq!(ssp.state(), State::InitiationSent);
    let msg = Message::decode(&out).unwrap();
    let Message::Begin(b) = msg else { panic!() };
    let mut scp = Dialogue::on_begin(t0, TransactionId::from_u32(0x200), &b, &cfg()).unwrap();
    assert_eq!(scp.state(), State::InitiationReceived);
    assert_eq!(scp.application_context(), Some(cap2()));
    let evs: Vec<String> = scp.handle(t0, &msg).map(|e| format!("{e:?}")).collect();
    (ssp, scp, evs)
}

#[test]
fn ac_accepted_and_first_continue_carries_aare() {
    let t0 = Instant::now();
    let (mut ssp, mut scp, evs) = open(t0);
    assert_eq!(evs.len(), 1);
    assert!(
        evs[0].starts_with("Invoke { invoke_id: 1, linked_id: None, opcode: Local(0)"),
        "{evs:?}"
    );
    scp.release_invoke(1);
    // SCP answers with RequestReportBCSMEvent (23) in the first Continue.
    scp.send_invoke(
        t0,
        Code::Local(23),
        None,
        Some(&hex("30 00")),
        OperationClass::Class2,
        10 * SECS,
    )
    .unwrap();
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    assert_eq!(scp.state(), State::Active);
    let msg = Message::decode(&out).unwrap();
    let Message::Continue(c) = msg else { panic!() };
    assert_eq!(c.otid, TransactionId::from_u32(0x200));
    assert_eq!(c.dtid, TransactionId::from_u32(0x100));
    assert_eq!(
        c.dialogue,
        Some(DialoguePortion::Aare(Aare::accepted(cap2())))
    );
    // The SSP sees the acceptance, then the invoke.
    let evs: Vec<Event<'_>> = ssp.handle(t0, &msg).collect();
    assert_eq!(
        evs[0],
        Event::Accepted {
            application_context: Some(cap2())
        }
    );
    assert!(matches!(
        evs[1],
        Event::Invoke {
            invoke_id: 1,
            opcode: Code::Local(23),
            ..
        }
    ));
    assert_eq!(ssp.state(), State::Active);
    assert_eq!(ssp.peer_tid(), Some(TransactionId::from_u32(0x200)));
    // The second Continue carries no dialogue portion.
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    let Message::Continue(c) = Message::decode(&out).unwrap() else {
        panic!()
    };
    assert_eq!(c.dialogue, None);
    assert_eq!(c.components, None);
}

#[test]
fn ac_not_supported_is_refused_with_aare_naming_a_supported_context() {
    let t0 = Instant::now();
    let only_v3 = Config::new(vec![cap3()]);
    let mut ssp = Dialogue::initiate(TransactionId::from_u32(7), Some(cap2()), &only_v3);
    let mut out = BytesMut::new();
    ssp.begin(t0, &mut out).unwrap();
    let Message::Begin(b) = Message::decode(&out).unwrap() else {
        panic!()
    };
    let abort = Dialogue::on_begin(t0, TransactionId::from_u32(9), &b, &only_v3).unwrap_err();
    assert_eq!(abort.dtid, TransactionId::from_u32(7));
    let expected_aare = Aare::rejected(
        cap3(),
        AssociateSourceDiagnostic::User(UserDiagnostic::APPLICATION_CONTEXT_NAME_NOT_SUPPORTED),
    );
    assert_eq!(
        abort.reason,
        Some(AbortCause::UAbort(DialoguePortion::Aare(expected_aare)))
    );
    let mut wire = BytesMut::new();
    abort.encode(&mut wire);
    let msg = Message::decode(&wire).unwrap();
    let evs: Vec<_> = ssp.handle(t0, &msg).collect();
    assert_eq!(
        evs,
        vec![Event::Aborted {
            reason: AbortReason::Refused {
                diagnostic: AssociateSourceDiagnostic::User(
                    UserDiagnostic::APPLICATION_CONTEXT_NAME_NOT_SUPPORTED
                ),
                application_context: cap3()
            }
        }]
    );
    assert!(ssp.is_closed());
}

#[test]
fn begin_without_dialogue_portion_and_bad_version() {
    let t0 = Instant::now();
    // 62 06 48 04 00000001: a Begin with neither dialogue nor components.
    let bare = hex("62 06 48 04 00 00 00 01");
    let Message::Begin(b) = Message::decode(&bare).unwrap() else {
        panic!()
    };
    let abort = Dialogue::on_begin(t0, TransactionId::from_u32(2), &b, &cfg()).unwrap_err();
    assert_eq!(
        abort,
        Abort {
            dtid: TransactionId::from_u32(1),
            reason: None
        }
    );
    let mut lenient = cfg();
    lenient.accept_without_dialogue = true;
    let d = Dialogue::on_begin(t0, TransactionId::from_u32(2), &b, &lenient).unwrap();
    assert_eq!(d.application_context(), None);
    // AARQ offering a protocol version without version1: 80 02 06 40 (bit 1 only).
    let b2 = Begin {
        otid: TransactionId::from_u32(1),
        dialogue: Some(DialoguePortion::Aarq(Aarq {
            protocol_version: Some(ProtocolVersion(0x40)),
            application_context: cap2(),
            user_information: None,
        })),
        components: None,
    };
    let abort = Dialogue::on_begin(t0, TransactionId::from_u32(2), &b2, &cfg()).unwrap_err();
    let Some(AbortCause::UAbort(DialoguePortion::Aare(a))) = abort.reason else {
        panic!()
    };
    assert_eq!(
        a.diagnostic,
        AssociateSourceDiagnostic::Provider(ProviderDiagnostic::NO_COMMON_DIALOGUE_PORTION)
    );
}

#[test]
fn end_answering_begin_carries_aare_and_components() {
    let t0 = Instant::now();
    let (mut ssp, mut scp, _) = open(t0);
    scp.send_error(1, &Code::Local(7), None).unwrap();
    let mut out = BytesMut::new();
    assert!(scp.end(t0, &mut out, EndKind::Basic).unwrap());
    assert!(scp.is_closed());
    let msg = Message::decode(&out).unwrap();
    let evs: Vec<_> = ssp.handle(t0, &msg).collect();
    assert_eq!(
        evs,
        vec![
            Event::Accepted {
                application_context: Some(cap2())
            },
            Event::Error {
                invoke_id: 1,
                code: Code::Local(7),
                parameter: None
            },
            Event::Ended,
        ]
    );
    assert!(ssp.is_closed());
    assert_eq!(ssp.poll_timeout(), None);
}

#[test]
fn invoke_timeout_then_late_result_is_rejected() {
    let t0 = Instant::now();
    let (mut ssp, mut scp, _) = open(t0);
    scp.release_invoke(1);
    // ActivityTest (55), class 3, 5 s.
    let id = scp
        .send_invoke(
            t0,
            Code::Local(55),
            None,
            None,
            OperationClass::Class3,
            5 * SECS,
        )
        .unwrap();
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    assert_eq!(scp.poll_timeout(), Some(t0 + 5 * SECS));
    assert_eq!(scp.handle_timeout(t0 + 4 * SECS), None);
    assert_eq!(
        scp.handle_timeout(t0 + 5 * SECS),
        Some(Event::InvokeTimeout {
            invoke_id: id,
            opcode: Code::Local(55),
            class: OperationClass::Class3
        })
    );
    assert_eq!(scp.handle_timeout(t0 + 5 * SECS), None);
    assert_eq!(scp.outstanding_invokes(), 0);
    // The SSP answers too late.
    let Message::Continue(_) = Message::decode(&out).unwrap() else {
        panic!()
    };
    let _: Vec<_> = ssp.handle(t0, &Message::decode(&out).unwrap()).collect();
    ssp.send_result(id, None, true).unwrap();
    let mut out2 = BytesMut::new();
    ssp.continue_(t0 + 6 * SECS, &mut out2).unwrap();
    let evs: Vec<_> = scp
        .handle(t0 + 6 * SECS, &Message::decode(&out2).unwrap())
        .collect();
    assert_eq!(
        evs,
        vec![Event::Reject {
            invoke_id: Some(id),
            problem: Problem::ReturnResult(ReturnResultProblem::UNRECOGNIZED_INVOKE_ID),
            local: true
        }]
    );
    // The Reject goes out in the next message.
    let mut out3 = BytesMut::new();
    scp.continue_(t0 + 6 * SECS, &mut out3).unwrap();
    let m = Message::decode(&out3).unwrap();
    let c = m.components().unwrap().iter().next().unwrap().unwrap();
    assert_eq!(
        c,
        Component::Reject(Reject {
            invoke_id: Some(id),
            problem: Problem::ReturnResult(ReturnResultProblem::UNRECOGNIZED_INVOKE_ID)
        })
    );
    // The SSP learns of it as a remote reject.
    let evs: Vec<_> = ssp.handle(t0 + 6 * SECS, &m).collect();
    assert!(matches!(evs[0], Event::Reject { local: false, .. }));
}

#[test]
fn result_for_class_and_result_not_last() {
    let t0 = Instant::now();
    let (mut ssp, mut scp, _) = open(t0);
    scp.release_invoke(1);
    let a = scp
        .send_invoke(
            t0,
            Code::Local(55),
            None,
            None,
            OperationClass::Class1,
            5 * SECS,
        )
        .unwrap();
    let b = scp
        .send_invoke(
            t0,
            Code::Local(23),
            None,
            None,
            OperationClass::Class2,
            5 * SECS,
        )
        .unwrap();
    assert_ne!(a, b);
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    let _: Vec<_> = ssp.handle(t0, &Message::decode(&out).unwrap()).collect();
    let op = Code::Local(55);
    ssp.send_result(a, Some((&op, Some(&hex("05 00")))), false)
        .unwrap();
    ssp.send_result(a, Some((&op, Some(&hex("05 00")))), true)
        .unwrap();
    ssp.send_result(b, None, true).unwrap(); // class 2 reports no success
    let mut out = BytesMut::new();
    ssp.continue_(t0, &mut out).unwrap();
    let m = Message::decode(&out).unwrap();
    let evs: Vec<_> = scp.handle(t0, &m).collect();
    assert!(matches!(evs[0], Event::Result { invoke_id, last: false, .. } if invoke_id == a));
    assert!(matches!(evs[1], Event::Result { invoke_id, last: true, .. } if invoke_id == a));
    assert_eq!(
        evs[2],
        Event::Reject {
            invoke_id: Some(b),
            problem: Problem::ReturnResult(ReturnResultProblem::RETURN_RESULT_UNEXPECTED),
            local: true
        }
    );
    assert_eq!(scp.outstanding_invokes(), 0);
}

#[test]
fn idle_timeout() {
    let t0 = Instant::now();
    let mut c = cfg();
    c.idle_timeout = Some(30 * SECS);
    let mut ssp = Dialogue::initiate(TransactionId::from_u32(1), Some(cap2()), &c);
    let mut out = BytesMut::new();
    ssp.begin(t0, &mut out).unwrap();
    let msg = Message::decode(&out).unwrap();
    let Message::Begin(b) = msg else { panic!() };
    let mut scp = Dialogue::on_begin(t0, TransactionId::from_u32(2), &b, &c).unwrap();
    assert_eq!(scp.handle(t0, &msg).count(), 0);
    assert_eq!(scp.poll_timeout(), Some(t0 + 30 * SECS));
    assert_eq!(scp.handle_timeout(t0 + 29 * SECS), None);
    assert_eq!(scp.handle_timeout(t0 + 30 * SECS), Some(Event::IdleTimeout));
    assert_eq!(scp.handle_timeout(t0 + 31 * SECS), None);
    // The user gives up: U-ABORT before answering refuses the dialogue with an AARE.
    let mut out = BytesMut::new();
    assert!(scp
        .u_abort(t0, &mut out, UAbortReason::DialogueRefused)
        .unwrap());
    let evs: Vec<_> = ssp.handle(t0, &Message::decode(&out).unwrap()).collect();
    assert!(matches!(
        evs[0],
        Event::Aborted {
            reason: AbortReason::Refused {
                diagnostic: AssociateSourceDiagnostic::User(UserDiagnostic::NO_REASON_GIVEN),
                ..
            }
        }
    ));
}

#[test]
fn duplicate_invoke_id_and_unknown_linked_id() {
    let t0 = Instant::now();
    // Begin, otid 1, CAP v2 AARQ, components: Invoke 1 op 0, Invoke 1 op 24, Invoke 2 linked 9 op 24.
    let mut comps = BytesMut::new();
    write_invoke(&mut comps, 1, None, &Code::Local(0), Some(&hex(IDP_ARG)));
    write_invoke(&mut comps, 1, None, &Code::Local(24), None);
    write_invoke(&mut comps, 2, Some(9), &Code::Local(24), None);
    let begin = Begin {
        otid: TransactionId::from_u32(1),
        dialogue: Some(DialoguePortion::Aarq(Aarq::new(cap2()))),
        components: Some(ComponentPortion::new(&comps)),
    };
    let mut wire = BytesMut::new();
    begin.encode(&mut wire);
    let msg = Message::decode(&wire).unwrap();
    let Message::Begin(b) = msg else { panic!() };
    let mut scp = Dialogue::on_begin(t0, TransactionId::from_u32(2), &b, &cfg()).unwrap();
    let evs: Vec<_> = scp.handle(t0, &msg).collect();
    assert!(matches!(evs[0], Event::Invoke { invoke_id: 1, .. }));
    assert_eq!(
        evs[1],
        Event::Reject {
            invoke_id: Some(1),
            problem: Problem::Invoke(InvokeProblem::DUPLICATE_INVOKE_ID),
            local: true
        }
    );
    assert_eq!(
        evs[2],
        Event::Reject {
            invoke_id: Some(2),
            problem: Problem::Invoke(InvokeProblem::UNRECOGNIZED_LINKED_ID),
            local: true
        }
    );
    // Once answered, the id may be used again.
    scp.send_error(1, &Code::Local(7), None).unwrap();
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    let m = Message::decode(&out).unwrap();
    let kinds: Vec<_> = m.components().unwrap().iter().map(Result::unwrap).collect();
    assert_eq!(kinds.len(), 3); // two Rejects, then the ReturnError
    assert!(matches!(kinds[0], Component::Reject(_)));
    assert!(matches!(kinds[2], Component::ReturnError(_)));
}

#[test]
fn malformed_component_is_rejected_and_rest_dropped() {
    let t0 = Instant::now();
    let (_ssp, mut scp, _) = open(t0);
    scp.release_invoke(1);
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    // Continue otid 0x100 dtid 0x200 with components: a5 03 02 01 07 (unknown type), then a
    // truncated Invoke a1 09 02 01 08.
    let w = hex("65 18 48 04 00 00 01 00 49 04 00 00 02 00 6c 0a a5 03 02 01 07 a1 09 02 01 08");
    let m = Message::decode(&w).unwrap();
    let evs: Vec<_> = scp.handle(t0, &m).collect();
    assert_eq!(
        evs,
        vec![
            Event::Reject {
                invoke_id: Some(7),
                problem: Problem::General(GeneralProblem::UNRECOGNIZED_COMPONENT),
                local: true
            },
            Event::Reject {
                invoke_id: Some(8),
                problem: Problem::General(GeneralProblem::BADLY_STRUCTURED_COMPONENT),
                local: true
            },
        ]
    );
    assert!(scp.has_pending_components());
}

#[test]
fn continue_after_end_gets_p_abort() {
    let t0 = Instant::now();
    let (mut ssp, mut scp, _) = open(t0);
    let mut out = BytesMut::new();
    scp.end(t0, &mut out, EndKind::Basic).unwrap();
    // The SSP has not seen the End and sends a Continue... (its dialogue thinks it is
    // still in InitiationSent, so build the Continue by hand.)
    let _ = &mut ssp;
    let c = Continue {
        otid: TransactionId::from_u32(0x100),
        dtid: TransactionId::from_u32(0x200),
        dialogue: None,
        components: None,
    };
    let msg = Message::Continue(c);
    assert_eq!(scp.handle(t0, &msg).count(), 0);
    let mut owed = BytesMut::new();
    assert!(scp.poll_transmit(&mut owed));
    assert_eq!(
        Message::decode(&owed).unwrap(),
        Message::Abort(Abort::p_abort(
            TransactionId::from_u32(0x100),
            PAbortCause::UNRECOGNIZED_TRANSACTION_ID
        ))
    );
    assert!(!scp.poll_transmit(&mut owed));
    // Sending after the end is refused.
    assert_eq!(
        scp.continue_(t0, &mut owed),
        Err(SendError::WrongState(State::Closed))
    );
}

#[test]
fn prearranged_end() {
    let t0 = Instant::now();
    let (mut ssp, mut scp, _) = open(t0);
    scp.send_invoke(
        t0,
        Code::Local(55),
        None,
        None,
        OperationClass::Class1,
        5 * SECS,
    )
    .unwrap();
    let mut out = BytesMut::new();
    assert!(!scp.end(t0, &mut out, EndKind::Prearranged).unwrap());
    assert!(out.is_empty());
    assert!(scp.is_closed());
    assert_eq!(scp.poll_timeout(), None);
    assert_eq!(scp.handle_timeout(t0 + 100 * SECS), None);
    // An initiator without an answer cannot end basic, only prearranged.
    assert_eq!(
        ssp.end(t0, &mut out, EndKind::Basic),
        Err(SendError::WrongState(State::InitiationSent))
    );
    assert_eq!(ssp.end(t0, &mut out, EndKind::Prearranged), Ok(false));
}

#[test]
fn peer_aborts() {
    let t0 = Instant::now();
    let (_ssp, mut scp, _) = open(t0);
    for (reason, expect) in [
        (
            Some(AbortCause::PAbort(PAbortCause::RESOURCE_LIMITATION)),
            AbortReason::Provider(PAbortCause::RESOURCE_LIMITATION),
        ),
        (None, AbortReason::User),
        (
            Some(AbortCause::UAbort(DialoguePortion::Abrt(Abrt {
                abort_source: AbortSource::DIALOGUE_SERVICE_PROVIDER,
                user_information: None,
            }))),
            AbortReason::ProviderDialogue,
        ),
    ] {
        let (_s, mut d, _) = open(t0);
        let m = Message::Abort(Abort {
            dtid: TransactionId::from_u32(0x200),
            reason,
        });
        let evs: Vec<_> = d.handle(t0, &m).collect();
        assert_eq!(evs, vec![Event::Aborted { reason: expect }]);
        assert!(d.is_closed());
    }
    // Our own U-ABORT once active is an ABRT from the user.
    scp.release_invoke(1);
    let mut out = BytesMut::new();
    scp.continue_(t0, &mut out).unwrap();
    let mut out = BytesMut::new();
    assert!(scp
        .u_abort(t0, &mut out, UAbortReason::UserSpecific)
        .unwrap());
    let Message::Abort(a) = Message::decode(&out).unwrap() else {
        panic!()
    };
    assert_eq!(
        a.reason,
        Some(AbortCause::UAbort(DialoguePortion::Abrt(Abrt {
            abort_source: AbortSource::DIALOGUE_SERVICE_USER,
            user_information: None
        })))
    );
}

#[test]
fn missing_aare_in_first_answer_is_a_provider_abort() {
    let t0 = Instant::now();
    let (mut ssp, _scp, _) = open(t0);
    let c = Message::Continue(Continue {
        otid: TransactionId::from_u32(0x200),
        dtid: TransactionId::from_u32(0x100),
        dialogue: None,
        components: None,
    });
    let evs: Vec<_> = ssp.handle(t0, &c).collect();
    assert_eq!(
        evs,
        vec![Event::Aborted {
            reason: AbortReason::ProviderDialogue
        }]
    );
    let mut out = BytesMut::new();
    assert!(ssp.poll_transmit(&mut out));
    let Message::Abort(a) = Message::decode(&out).unwrap() else {
        panic!()
    };
    assert_eq!(a.dtid, TransactionId::from_u32(0x200));
}

#[test]
fn dropping_events_early_still_processes_components() {
    let t0 = Instant::now();
    let mut comps = BytesMut::new();
    write_invoke(&mut comps, 1, None, &Code::Local(0), None);
    write_invoke(&mut comps, 1, None, &Code::Local(0), None);
    let begin = Begin {
        otid: TransactionId::from_u32(1),
        dialogue: Some(DialoguePortion::Aarq(Aarq::new(cap2()))),
        components: Some(ComponentPortion::new(&comps)),
    };
    let msg = Message::Begin(begin);
    let mut scp = Dialogue::on_begin(t0, TransactionId::from_u32(2), &begin, &cfg()).unwrap();
    drop(scp.handle(t0, &msg));
    // The duplicate was still found and its Reject queued.
    assert!(scp.has_pending_components());
}

#[test]
fn too_many_invokes() {
    let t0 = Instant::now();
    let (_ssp, mut scp, _) = open(t0);
    let mut ids = std::collections::HashSet::new();
    for _ in 0..MAX_OUTSTANDING {
        ids.insert(
            scp.send_invoke(
                t0,
                Code::Local(55),
                None,
                None,
                OperationClass::Class1,
                SECS,
            )
            .unwrap(),
        );
    }
    assert_eq!(ids.len(), MAX_OUTSTANDING);
    assert_eq!(
        scp.send_invoke(
            t0,
            Code::Local(55),
            None,
            None,
            OperationClass::Class1,
            SECS
        ),
        Err(SendError::TooManyInvokes)
    );
    assert!(scp.cancel_invoke(1));
    assert!(scp
        .send_invoke(
            t0,
            Code::Local(55),
            None,
            None,
            OperationClass::Class1,
            SECS
        )
        .is_ok());
}

#[test]
fn tid_allocator() {
    let mut a = TidAllocator::new(u32::MAX);
    assert_eq!(a.next(), TransactionId::from_u32(u32::MAX));
    assert_eq!(a.next(), TransactionId::from_u32(0));
}
