//! Hand-built fixtures (byte-level reasoning in the comments), every P-Abort cause and
//! Reject problem code, indefinite lengths, and the answer owed for malformed input.

mod common;

use bytes::BytesMut;
use common::{hex, to_hex};
use strowger_tcap::*;

fn enc(m: &Message<'_>) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b);
    b.to_vec()
}

/// Begin: 62 len, otid 48 04 00000001, dialogue portion 6b { 28 { 06 07 dialogue-as-id,
/// a0 { 60 { 80 02 07 80 (version1), a1 { 06 07 CAP v2 AC } } } } }, components 6c { a1 {
/// 02 01 01 (invokeID 1), 02 01 00 (opcode 0 initialDP), 30 03 80 01 64 (serviceKey 100) } }.
const BEGIN: &str = "62 35 48 04 00 00 00 01
    6b 1e 28 1c 06 07 00 11 86 05 01 01 01 a0 11 60 0f 80 02 07 80 a1 09 06 07 04 00 00 01 00 32 01
    6c 0d a1 0b 02 01 01 02 01 00 30 03 80 01 64";

#[test]
fn begin_fixture() {
    let b = hex(BEGIN);
    let m = Message::decode(&b).unwrap();
    let Message::Begin(begin) = m else { panic!() };
    assert_eq!(begin.otid, TransactionId::from_u32(1));
    assert_eq!(
        begin
            .dialogue
            .unwrap()
            .application_context()
            .unwrap()
            .to_string(),
        "0.4.0.0.1.0.50.1"
    );
    assert_eq!(enc(&m), b);
}

#[test]
fn unidirectional_with_audt() {
    // 61 { 6b { 28 { 06 07 uniDialogue-as-id (..01 02 01), a0 { 60 { a1 { 06 03 2a 03 04 } } } } },
    //      6c { a1 { 02 01 05, 02 01 2a } } }
    let b = hex(
        "61 22 6b 16 28 14 06 07 00 11 86 05 01 02 01 a0 09 60 07 a1 05 06 03 2a 03 04
                 6c 08 a1 06 02 01 05 02 01 2a",
    );
    let m = Message::decode(&b).unwrap();
    let Message::Unidirectional(u) = m else {
        panic!()
    };
    let Some(DialoguePortion::Audt(audt)) = u.dialogue else {
        panic!()
    };
    assert_eq!(audt.application_context.to_string(), "1.2.3.4");
    assert_eq!(audt.protocol_version, None);
    assert_eq!(enc(&m), b);
    // A Unidirectional needs its component portion.
    let e = Message::decode(&hex("61 00")).unwrap_err();
    assert_eq!(
        e.problem,
        TransactionProblem::PAbort(PAbortCause::INCORRECT_TRANSACTION_PORTION)
    );
    assert_eq!(e.answer(), None);
}

#[test]
fn abrt_and_bare_abort() {
    // 67 { 49 01 07, 6b { 28 { 06 07 dialogue-as-id, a0 { 64 { 80 01 00 } } } } }
    let b = hex("67 16 49 01 07 6b 11 28 0f 06 07 00 11 86 05 01 01 01 a0 04 64 02 80 01 00");
    let m = Message::decode(&b);
    // (length of 64 deliberately wrong above would fail; check the right one)
    assert!(m.is_err());
    let b = hex("67 17 49 01 07 6b 12 28 10 06 07 00 11 86 05 01 01 01 a0 05 64 03 80 01 00");
    let m = Message::decode(&b).unwrap();
    let Message::Abort(a) = m else { panic!() };
    assert_eq!(
        a.reason,
        Some(AbortCause::UAbort(DialoguePortion::Abrt(Abrt {
            abort_source: AbortSource::DIALOGUE_SERVICE_USER,
            user_information: None
        })))
    );
    assert_eq!(enc(&m), b);
    let bare = hex("67 03 49 01 07");
    assert_eq!(
        Message::decode(&bare).unwrap(),
        Message::Abort(Abort {
            dtid: TransactionId::new(&[7]).unwrap(),
            reason: None
        })
    );
}

#[test]
fn every_p_abort_cause_round_trips() {
    for &cause in PAbortCause::ALL.iter().chain(&[PAbortCause(99)]) {
        let m = Message::Abort(Abort::p_abort(TransactionId::from_u32(0xabcdef01), cause));
        let b = enc(&m);
        // 67 09 49 04 ab cd ef 01 4a 01 cause
        assert_eq!(to_hex(&b), format!("67094904abcdef014a01{:02x}", cause.0));
        assert_eq!(Message::decode(&b).unwrap(), m);
    }
    assert_eq!(
        format!("{:?}", PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION),
        "badlyFormattedTransactionPortion"
    );
    assert_eq!(format!("{:?}", PAbortCause(99)), "PAbortCause(99)");
}

#[test]
fn every_reject_problem_round_trips() {
    let mut problems: Vec<Problem> = Vec::new();
    problems.extend(GeneralProblem::ALL.iter().map(|p| Problem::General(*p)));
    problems.extend(InvokeProblem::ALL.iter().map(|p| Problem::Invoke(*p)));
    problems.extend(
        ReturnResultProblem::ALL
            .iter()
            .map(|p| Problem::ReturnResult(*p)),
    );
    problems.extend(
        ReturnErrorProblem::ALL
            .iter()
            .map(|p| Problem::ReturnError(*p)),
    );
    assert_eq!(problems.len(), 3 + 8 + 3 + 5);
    for (i, problem) in problems.into_iter().enumerate() {
        let invoke_id = if i % 2 == 0 { Some(-5) } else { None };
        let c = Component::Reject(Reject { invoke_id, problem });
        let mut b = BytesMut::new();
        c.encode(&mut b);
        assert_eq!(Component::decode_bytes(&b).unwrap(), c);
    }
    // a4 06 02 01 01 81 01 00: invoke 1, invokeProblem duplicateInvokeID
    assert_eq!(
        Component::decode_bytes(&hex("a4 06 02 01 01 81 01 00")).unwrap(),
        Component::Reject(Reject {
            invoke_id: Some(1),
            problem: Problem::Invoke(InvokeProblem::DUPLICATE_INVOKE_ID)
        })
    );
}

#[test]
fn every_component_type() {
    let param = hex("30 03 80 01 64");
    let (_, ptlv) = strowger_ber::parse_tlv(&param).unwrap();
    let oid: ObjectId = "0.4.0.0.1.0.50.1".parse().unwrap();
    let comps = [
        Component::Invoke(Invoke {
            invoke_id: 1,
            linked_id: Some(-1),
            opcode: Code::Local(23),
            parameter: Some(ptlv),
        }),
        Component::Invoke(Invoke {
            invoke_id: 127,
            linked_id: None,
            opcode: Code::Global(oid),
            parameter: None,
        }),
        Component::ReturnResultLast(ReturnResult {
            invoke_id: -128,
            result: Some(ResultPart {
                opcode: Code::Local(48),
                parameter: Some(ptlv),
            }),
        }),
        Component::ReturnResultNotLast(ReturnResult {
            invoke_id: 3,
            result: Some(ResultPart {
                opcode: Code::Local(48),
                parameter: Some(ptlv),
            }),
        }),
        Component::ReturnResultLast(ReturnResult {
            invoke_id: 3,
            result: None,
        }),
        Component::ReturnError(ReturnError {
            invoke_id: 4,
            error_code: Code::Local(7),
            parameter: Some(ptlv),
        }),
        Component::Reject(Reject {
            invoke_id: None,
            problem: Problem::General(GeneralProblem::MISTYPED_COMPONENT),
        }),
    ];
    let mut portion = BytesMut::new();
    for c in &comps {
        let mut b = BytesMut::new();
        c.encode(&mut b);
        assert_eq!(Component::decode_bytes(&b).unwrap(), *c, "{c:?}");
        portion.extend_from_slice(&b);
    }
    let got: Vec<_> = ComponentPortion::new(&portion)
        .iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, comps);
    // Invoke with linkedID: a1 0b 02 01 01 80 01 ff 02 01 17 + param
    let mut b = BytesMut::new();
    comps[0].encode(&mut b);
    assert_eq!(
        to_hex(&b),
        "a10e020101".to_string() + "8001ff" + "020117" + "3003800164"
    );
}

#[test]
fn indefinite_lengths_decode() {
    // The Begin above, every constructed value in the indefinite form.
    let b = hex("62 80 48 04 00 00 00 01
        6b 80 28 80 06 07 00 11 86 05 01 01 01 a0 80 60 80 80 02 07 80 a1 80 06 07 04 00 00 01 00 32 01 00 00 00 00 00 00 00 00 00 00
        6c 80 a1 80 02 01 01 02 01 00 30 80 80 01 64 00 00 00 00 00 00
        00 00");
    let m = Message::decode(&b).unwrap();
    let definite = hex(BEGIN);
    let dm = Message::decode(&definite).unwrap();
    // Transaction and dialogue portions are equal; components are kept as received.
    assert_eq!(m.otid(), dm.otid());
    assert_eq!(m.dialogue_portion(), dm.dialogue_portion());
    let c = m.components().unwrap().iter().next().unwrap().unwrap();
    let dc = dm.components().unwrap().iter().next().unwrap().unwrap();
    let (Component::Invoke(inv), Component::Invoke(dinv)) = (c, dc) else {
        panic!()
    };
    assert_eq!((inv.invoke_id, inv.opcode), (dinv.invoke_id, dinv.opcode));
    assert_eq!(inv.parameter.unwrap().value, dinv.parameter.unwrap().value);
    // Re-encoding a component writes definite lengths.
    let mut out = BytesMut::new();
    c.encode(&mut out);
    assert_eq!(to_hex(&out), "a10b0201010201003003800164");
    assert!(inv.parameter.unwrap().indefinite);
}

#[test]
fn transaction_portion_errors_map_to_p_abort_causes() {
    let otid = TransactionId::from_u32(1);
    let cases: &[(&str, Option<PAbortCause>)] = &[
        // unknown message type [APPLICATION 3], with an otid to answer to
        (
            "63 06 48 04 00 00 00 01",
            Some(PAbortCause::UNRECOGNIZED_MESSAGE_TYPE),
        ),
        // Begin whose length overruns the input
        (
            "62 10 48 04 00 00 00 01",
            Some(PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION),
        ),
        // Begin with a badly formed element after the otid (length overrun inside)
        (
            "62 09 48 04 00 00 00 01 6c 05 a1",
            Some(PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION),
        ),
        // trailing bytes after the message
        (
            "62 06 48 04 00 00 00 01 00",
            Some(PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION),
        ),
        // Begin carrying a dtid
        (
            "62 09 48 04 00 00 00 01 49 01 01",
            Some(PAbortCause::INCORRECT_TRANSACTION_PORTION),
        ),
        // Continue without dtid
        (
            "65 06 48 04 00 00 00 01",
            Some(PAbortCause::INCORRECT_TRANSACTION_PORTION),
        ),
        // Continue whose dtid has five octets
        (
            "65 0d 48 04 00 00 00 01 49 05 01 02 03 04 05",
            Some(PAbortCause::INCORRECT_TRANSACTION_PORTION),
        ),
    ];
    for (h, cause) in cases {
        let e = Message::decode(&hex(h)).unwrap_err();
        assert_eq!(
            e.problem,
            TransactionProblem::PAbort(cause.unwrap()),
            "{h}: {e:?}"
        );
        assert_eq!(e.otid, Some(otid), "{h}");
        assert_eq!(
            e.answer(),
            Some(Abort::p_abort(otid, cause.unwrap())),
            "{h}"
        );
    }
    // Begin without otid: nobody to answer.
    let e = Message::decode(&hex("62 02 6c 00")).unwrap_err();
    assert_eq!(
        e.problem,
        TransactionProblem::PAbort(PAbortCause::INCORRECT_TRANSACTION_PORTION)
    );
    assert_eq!(e.answer(), None);
    // Malformed End: discarded, but the dtid is reported for routing.
    let e = Message::decode(&hex("64 05 49 01 09 6c 05")).unwrap_err();
    assert_eq!(e.dtid, TransactionId::new(&[9]));
    assert_eq!(e.answer(), None);
    // Not even a TLV.
    assert!(Message::decode(&[]).unwrap_err().answer().is_none());
    // Bad dialogue portion in a Begin: ABRT from the provider.
    let e = Message::decode(&hex("62 0a 48 04 00 00 00 01 6b 02 05 00")).unwrap_err();
    assert_eq!(e.problem, TransactionProblem::DialoguePortion);
    let a = e.answer().unwrap();
    assert_eq!(
        a.reason,
        Some(AbortCause::UAbort(DialoguePortion::Abrt(Abrt {
            abort_source: AbortSource::DIALOGUE_SERVICE_PROVIDER,
            user_information: None
        })))
    );
}

#[test]
fn component_errors_map_to_reject_problems() {
    let cases: &[(&str, Option<i8>, Problem)] = &[
        // unknown component [5]
        (
            "a5 03 02 01 07",
            Some(7),
            Problem::General(GeneralProblem::UNRECOGNIZED_COMPONENT),
        ),
        // Invoke whose invokeID is an OCTET STRING
        (
            "a1 06 04 01 01 02 01 00",
            None,
            Problem::General(GeneralProblem::MISTYPED_COMPONENT),
        ),
        // Invoke without opcode
        (
            "a1 03 02 01 04",
            Some(4),
            Problem::General(GeneralProblem::MISTYPED_COMPONENT),
        ),
        // Invoke whose invokeID is out of -128..127
        (
            "a1 07 02 02 01 00 02 01 00",
            None,
            Problem::General(GeneralProblem::MISTYPED_COMPONENT),
        ),
        // Invoke with a truncated element inside
        (
            "a1 05 02 01 04 02 05",
            Some(4),
            Problem::General(GeneralProblem::BADLY_STRUCTURED_COMPONENT),
        ),
        // ReturnError with two parameters
        (
            "a3 0a 02 01 02 02 01 07 05 00 05 00",
            Some(2),
            Problem::General(GeneralProblem::MISTYPED_COMPONENT),
        ),
    ];
    for (h, id, problem) in cases {
        let e = Component::decode_bytes(&hex(h)).unwrap_err();
        assert_eq!((e.invoke_id, e.problem), (*id, *problem), "{h}");
        assert_eq!(
            e.reject(),
            Some(Reject {
                invoke_id: *id,
                problem: *problem
            })
        );
    }
    // A bad Reject is not answered with a Reject.
    let e = Component::decode_bytes(&hex("a4 03 02 01 01")).unwrap_err();
    assert!(e.in_reject && e.reject().is_none());
    // A component that overruns the portion ends the iteration after one error.
    let portion = hex("a1 06 02 01 01 02 01 00 a1 09 02 01 02");
    let got: Vec<_> = ComponentPortion::new(&portion).iter().collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_ok());
    let e = got[1].unwrap_err();
    assert_eq!(
        e.problem,
        Problem::General(GeneralProblem::BADLY_STRUCTURED_COMPONENT)
    );
    assert_eq!(e.invoke_id, Some(2));
}

#[test]
fn unknown_transaction_answers() {
    let b = hex("65 0c 48 04 00 00 00 05 49 04 00 00 00 09");
    let m = Message::decode(&b).unwrap();
    let a = unknown_transaction_abort(&m).unwrap();
    assert_eq!(
        a,
        Abort::p_abort(
            TransactionId::from_u32(5),
            PAbortCause::UNRECOGNIZED_TRANSACTION_ID
        )
    );
    let mut out = BytesMut::new();
    a.encode(&mut out);
    assert_eq!(to_hex(&out), "67094904000000054a0101");
    let end_bytes = hex("64 06 49 04 00 00 00 09");
    let end = Message::decode(&end_bytes).unwrap();
    assert_eq!(unknown_transaction_abort(&end), None);
}
