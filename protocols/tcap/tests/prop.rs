//! Property tests: decode(encode(x)) == x for every message and component type, and
//! arbitrary or mutated input never panics.

use std::time::Instant;

use bytes::BytesMut;
use proptest::prelude::*;
use strowger_ber::{parse_tlv, write_tlv, Tag};
use strowger_tcap::*;

fn arb_tid() -> impl Strategy<Value = TransactionId> {
    prop::collection::vec(any::<u8>(), 1..=4).prop_map(|v| TransactionId::new(&v).unwrap())
}

fn arb_oid() -> impl Strategy<Value = ObjectId> {
    (
        0u64..=2,
        0u64..=39,
        prop::collection::vec(0u64..200_000, 0..6),
    )
        .prop_map(|(a, b, rest)| {
            let mut arcs = vec![a, b];
            arcs.extend(rest);
            ObjectId::from_arcs(&arcs).unwrap()
        })
}

fn arb_code() -> impl Strategy<Value = Code> {
    prop_oneof![
        any::<i64>().prop_map(Code::Local),
        arb_oid().prop_map(Code::Global)
    ]
}

/// An encoded parameter TLV.
fn arb_param() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(Tag::OCTET_STRING),
            Just(Tag::SEQUENCE),
            Just(Tag::ctx(3)),
            Just(Tag::ctx_cons(40))
        ],
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(t, v)| {
            let mut b = BytesMut::new();
            write_tlv(&mut b, t, &v);
            b.to_vec()
        })
}

fn arb_problem() -> impl Strategy<Value = Problem> {
    prop_oneof![
        any::<u8>().prop_map(|v| Problem::General(GeneralProblem(v))),
        any::<u8>().prop_map(|v| Problem::Invoke(InvokeProblem(v))),
        any::<u8>().prop_map(|v| Problem::ReturnResult(ReturnResultProblem(v))),
        any::<u8>().prop_map(|v| Problem::ReturnError(ReturnErrorProblem(v))),
    ]
}

#[derive(Clone, Debug)]
enum CSpec {
    Invoke(i8, Option<i8>, Code, Option<Vec<u8>>),
    Result(bool, i8, Option<(Code, Option<Vec<u8>>)>),
    Error(i8, Code, Option<Vec<u8>>),
    Reject(Option<i8>, Problem),
}

fn arb_cspec() -> impl Strategy<Value = CSpec> {
    prop_oneof![
        (
            any::<i8>(),
            any::<Option<i8>>(),
            arb_code(),
            prop::option::of(arb_param())
        )
            .prop_map(|(a, b, c, d)| CSpec::Invoke(a, b, c, d)),
        (
            any::<bool>(),
            any::<i8>(),
            prop::option::of((arb_code(), prop::option::of(arb_param())))
        )
            .prop_map(|(a, b, c)| CSpec::Result(a, b, c)),
        (any::<i8>(), arb_code(), prop::option::of(arb_param()))
            .prop_map(|(a, b, c)| CSpec::Error(a, b, c)),
        (any::<Option<i8>>(), arb_problem()).prop_map(|(a, b)| CSpec::Reject(a, b)),
    ]
}

fn tlv(b: &Option<Vec<u8>>) -> Option<strowger_ber::Tlv<'_>> {
    b.as_ref().map(|b| parse_tlv(b).unwrap().1)
}

fn build(s: &CSpec) -> Component<'_> {
    match s {
        CSpec::Invoke(id, l, op, p) => Component::Invoke(Invoke {
            invoke_id: *id,
            linked_id: *l,
            opcode: *op,
            parameter: tlv(p),
        }),
        CSpec::Result(last, id, r) => {
            let rr = ReturnResult {
                invoke_id: *id,
                result: r.as_ref().map(|(op, p)| ResultPart {
                    opcode: *op,
                    parameter: tlv(p),
                }),
            };
            if *last {
                Component::ReturnResultLast(rr)
            } else {
                Component::ReturnResultNotLast(rr)
            }
        }
        CSpec::Error(id, c, p) => Component::ReturnError(ReturnError {
            invoke_id: *id,
            error_code: *c,
            parameter: tlv(p),
        }),
        CSpec::Reject(id, p) => Component::Reject(Reject {
            invoke_id: *id,
            problem: *p,
        }),
    }
}

#[derive(Clone, Debug)]
enum DSpec {
    Aarq(Option<u8>, ObjectId, Option<Vec<u8>>),
    Aare(Option<u8>, ObjectId, u8, bool, u8, Option<Vec<u8>>),
    Abrt(u8, Option<Vec<u8>>),
    Audt(Option<u8>, ObjectId, Option<Vec<u8>>),
    Other(ObjectId, bool, Vec<u8>),
}

/// user-information contents: a few EXTERNALs.
fn arb_ui() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..10), 0..3).prop_map(|exts| {
            let mut b = BytesMut::new();
            for e in exts {
                write_tlv(&mut b, Tag::EXTERNAL, &e);
            }
            b.to_vec()
        }),
    )
}

fn arb_dspec() -> impl Strategy<Value = DSpec> {
    prop_oneof![
        (any::<Option<u8>>(), arb_oid(), arb_ui()).prop_map(|(a, b, c)| DSpec::Aarq(a, b, c)),
        (
            any::<Option<u8>>(),
            arb_oid(),
            any::<u8>(),
            any::<bool>(),
            any::<u8>(),
            arb_ui()
        )
            .prop_map(|(a, b, c, d, e, f)| DSpec::Aare(a, b, c, d, e, f)),
        (any::<u8>(), arb_ui()).prop_map(|(a, b)| DSpec::Abrt(a, b)),
        (any::<Option<u8>>(), arb_oid(), arb_ui()).prop_map(|(a, b, c)| DSpec::Audt(a, b, c)),
        (
            arb_oid(),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..20)
        )
            .prop_filter("not a TCAP abstract syntax", |(o, _, _)| {
                *o != ObjectId::DIALOGUE_AS_ID && *o != ObjectId::UNIDIALOGUE_AS_ID
            })
            .prop_map(|(a, b, c)| DSpec::Other(a, b, c)),
    ]
}

fn build_d<'a>(s: &'a DSpec, enc: &'a [u8]) -> DialoguePortion<'a> {
    let pv = |v: &Option<u8>| v.map(ProtocolVersion);
    match s {
        DSpec::Aarq(v, ac, ui) => DialoguePortion::Aarq(Aarq {
            protocol_version: pv(v),
            application_context: *ac,
            user_information: ui.as_deref(),
        }),
        DSpec::Aare(v, ac, r, user, d, ui) => DialoguePortion::Aare(Aare {
            protocol_version: pv(v),
            application_context: *ac,
            result: AssociateResult(*r),
            diagnostic: if *user {
                AssociateSourceDiagnostic::User(UserDiagnostic(*d))
            } else {
                AssociateSourceDiagnostic::Provider(ProviderDiagnostic(*d))
            },
            user_information: ui.as_deref(),
        }),
        DSpec::Abrt(src, ui) => DialoguePortion::Abrt(Abrt {
            abort_source: AbortSource(*src),
            user_information: ui.as_deref(),
        }),
        DSpec::Audt(v, ac, ui) => DialoguePortion::Audt(Audt {
            protocol_version: pv(v),
            application_context: *ac,
            user_information: ui.as_deref(),
        }),
        DSpec::Other(oid, _, _) => DialoguePortion::Other {
            direct_reference: *oid,
            encoding: parse_tlv(enc).unwrap().1,
        },
    }
}

fn other_encoding(s: &DSpec) -> Vec<u8> {
    let mut b = BytesMut::new();
    if let DSpec::Other(_, cons, v) = s {
        write_tlv(
            &mut b,
            if *cons { Tag::ctx_cons(0) } else { Tag::ctx(1) },
            v,
        );
    }
    b.to_vec()
}

#[derive(Clone, Debug)]
struct MSpec {
    kind: u8,
    otid: TransactionId,
    dtid: TransactionId,
    dialogue: Option<DSpec>,
    comps: Option<Vec<CSpec>>,
    p_abort: Option<u8>,
}

fn arb_mspec() -> impl Strategy<Value = MSpec> {
    (
        0u8..5,
        arb_tid(),
        arb_tid(),
        prop::option::of(arb_dspec()),
        prop::option::of(prop::collection::vec(arb_cspec(), 0..6)),
        prop::option::of(any::<u8>()),
    )
        .prop_map(|(kind, otid, dtid, dialogue, comps, p_abort)| MSpec {
            kind,
            otid,
            dtid,
            dialogue,
            comps,
            p_abort,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn component_round_trip(spec in arb_cspec()) {
        let c = build(&spec);
        let mut b = BytesMut::new();
        c.encode(&mut b);
        prop_assert_eq!(Component::decode_bytes(&b).unwrap(), c);
    }

    #[test]
    fn message_round_trip(spec in arb_mspec()) {
        let mut comp_bytes = BytesMut::new();
        let comps: Vec<Component<'_>> = spec.comps.iter().flatten().map(build).collect();
        for c in &comps {
            c.encode(&mut comp_bytes);
        }
        let portion = spec.comps.as_ref().map(|_| ComponentPortion::new(&comp_bytes));
        let enc = spec.dialogue.as_ref().map(other_encoding).unwrap_or_default();
        let dialogue = spec.dialogue.as_ref().map(|d| build_d(d, &enc));
        let msg = match spec.kind {
            0 => Message::Unidirectional(Unidirectional {
                dialogue,
                components: portion.unwrap_or(ComponentPortion::new(&[])),
            }),
            1 => Message::Begin(Begin { otid: spec.otid, dialogue, components: portion }),
            2 => Message::End(End { dtid: spec.dtid, dialogue, components: portion }),
            3 => Message::Continue(Continue { otid: spec.otid, dtid: spec.dtid, dialogue, components: portion }),
            _ => Message::Abort(Abort {
                dtid: spec.dtid,
                reason: match (spec.p_abort, dialogue) {
                    (Some(c), _) => Some(AbortCause::PAbort(PAbortCause(c))),
                    (None, Some(d)) => Some(AbortCause::UAbort(d)),
                    (None, None) => None,
                },
            }),
        };
        let mut b = BytesMut::new();
        msg.encode(&mut b);
        let back = Message::decode(&b).unwrap();
        prop_assert_eq!(back, msg);
        if let Some(p) = back.components() {
            let got: Vec<_> = p.iter().map(Result::unwrap).collect();
            prop_assert_eq!(got, comps);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(spec in arb_mspec(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), cut in any::<prop::sample::Index>()) {
        let mut comp_bytes = BytesMut::new();
        for c in spec.comps.iter().flatten() {
            build(c).encode(&mut comp_bytes);
        }
        let m = Message::Continue(Continue {
            otid: spec.otid,
            dtid: spec.dtid,
            dialogue: None,
            components: Some(ComponentPortion::new(&comp_bytes)),
        });
        let mut b = BytesMut::new();
        m.encode(&mut b);
        let mut v = b.to_vec();
        for (i, x) in flips {
            let i = i.index(v.len());
            v[i] ^= x;
        }
        exercise(&v);
        let c = cut.index(v.len() + 1);
        exercise(&v[..c]);
    }
}

/// Decode, iterate, and feed to a dialogue; errors are fine, panics are not.
fn exercise(bytes: &[u8]) {
    let t0 = Instant::now();
    let cfg = Config::new(vec!["0.4.0.0.1.0.50.1".parse().unwrap()]);
    match Message::decode(bytes) {
        Ok(m) => {
            if let Some(p) = m.components() {
                for c in p.iter() {
                    let _ = c.map(|c| c.invoke_id()).map_err(|e| e.reject());
                }
            }
            let mut d = match m {
                Message::Begin(b) => {
                    match Dialogue::on_begin(t0, TransactionId::from_u32(1), &b, &cfg) {
                        Ok(d) => d,
                        Err(_) => return,
                    }
                }
                _ => {
                    let mut d = Dialogue::initiate(
                        TransactionId::from_u32(1),
                        Some(cfg.application_contexts[0]),
                        &cfg,
                    );
                    let mut out = BytesMut::new();
                    d.begin(t0, &mut out).unwrap();
                    d
                }
            };
            let _ = d.handle(t0, &m).count();
            let mut out = BytesMut::new();
            d.poll_transmit(&mut out);
            let _ = d.continue_(t0, &mut out);
        }
        Err(e) => {
            let _ = e.answer();
        }
    }
    let _ = Component::decode_bytes(bytes);
}
