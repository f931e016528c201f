//! Message-level fixtures, error cases and property tests.
//!
//! Fixture sources:
//! - "otc": the party addresses and message layouts of `otc_sccp_codec_tests.erl` in the Erlang
//!   `otc` codec (an independent implementation), re-derived by hand against Q.713 §4.10/4.11/
//!   4.18/4.19 (pointer arithmetic checked in the comments).
//! - "hand": computed by hand from Q.713; the arithmetic is in the comment.

use bytes::BytesMut;
use proptest::prelude::*;

use crate::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn enc(m: &Message<'_>) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b).unwrap();
    b.to_vec()
}

// otc called_party_address_itu(): len 11, AI 0x12 (GTI 4 + SSN), SSN 8, TT 0, NP1/ES2, NAI 4,
// digits 467211221122.
const CDPA: &str = "0b 12 08 00 12 04 64 27 11 22 11 22";
// otc calling_party_address_itu(): SSN 6, NP1/ES1 (odd), NAI 8, digits 46729887766.
const CGPA: &str = "0b 12 06 00 11 08 64 27 89 78 67 06";
// otc data(): 24 octets 01..18 with length 0x18.
const DATA: &str = "18 0102030405060708090a0b0c0d0e0f101112131415161718";

fn cdpa() -> SccpAddress {
    SccpAddress::decode(&hex(CDPA)[1..]).unwrap()
}

fn cgpa() -> SccpAddress {
    SccpAddress::decode(&hex(CGPA)[1..]).unwrap()
}

/// otc udt_test: pointers 03 0e 19: 2+3=5 (called), 3+14=17 = 5+12 (calling), 4+25=29 = 17+12.
fn udt_bytes() -> Vec<u8> {
    hex(&format!("09 80 03 0e 19 {CDPA} {CGPA} {DATA}"))
}

/// otc xudt_test: class 0x81, hop 15, pointers 04 0f 1a 00 (3+4=7, 4+15=19, 5+26=31, none).
fn xudt_bytes() -> Vec<u8> {
    hex(&format!("11 81 0f 04 0f 1a 00 {CDPA} {CGPA} {DATA}"))
}

/// otc udts_test: cause 1, calling/called swapped relative to the UDT.
fn udts_bytes() -> Vec<u8> {
    hex(&format!("0a 01 03 0e 19 {CGPA} {CDPA} {DATA}"))
}

/// otc xudts_test.
fn xudts_bytes() -> Vec<u8> {
    hex(&format!("12 01 0f 04 0f 1a 00 {CGPA} {CDPA} {DATA}"))
}

#[test]
fn udt_fixture() {
    let b = udt_bytes();
    let m = decode(&b).unwrap();
    let Message::Udt(u) = m else { panic!("{m:?}") };
    assert_eq!(
        u.protocol_class,
        ProtocolClass {
            class: Class::Class0,
            return_on_error: true
        }
    );
    assert_eq!(u.called, cdpa());
    assert_eq!(u.calling, cgpa());
    assert_eq!(u.data, &hex(DATA)[1..]);
    // Zero-copy: the data is a view into the input.
    assert!(core::ptr::eq(u.data.as_ptr(), b[30..].as_ptr()));
    assert_eq!(enc(&m), b);
}

#[test]
fn udts_fixture() {
    let b = udts_bytes();
    let m = decode(&b).unwrap();
    assert_eq!(
        m.return_cause(),
        Some(ReturnCause::NO_TRANSLATION_FOR_ADDRESS)
    );
    assert_eq!(*m.called(), cgpa());
    assert_eq!(*m.calling(), cdpa());
    assert_eq!(enc(&m), b);
}

#[test]
fn xudt_fixture() {
    let b = xudt_bytes();
    let m = decode(&b).unwrap();
    let Message::Xudt(x) = m else { panic!("{m:?}") };
    assert_eq!(x.hop_counter, 15);
    assert_eq!(x.protocol_class.class, Class::Class1);
    assert!(x.protocol_class.return_on_error);
    assert_eq!(x.segmentation, None);
    assert_eq!(x.importance, None);
    assert_eq!(enc(&m), b);
}

#[test]
fn xudts_fixture() {
    let b = xudts_bytes();
    let m = decode(&b).unwrap();
    assert_eq!(m.message_type(), MessageType::XUDTS);
    assert_eq!(
        m.return_cause(),
        Some(ReturnCause::NO_TRANSLATION_FOR_ADDRESS)
    );
    assert_eq!(enc(&m), b);
}

/// otc xudts_arbitrary_pointers_test: calling placed before called. Pointers 10 03 1a 00:
/// 3+16=19 (called, second), 4+3=7 (calling, first), 5+26=31 (data). Re-encoded canonically.
#[test]
fn parameters_in_any_order() {
    let b = hex(&format!("12 07 0f 10 03 1a 00 {CGPA} {CDPA} {DATA}"));
    let m = decode(&b).unwrap();
    assert_eq!(*m.called(), cdpa());
    assert_eq!(*m.calling(), cgpa());
    assert_eq!(m.return_cause(), Some(ReturnCause::UNQUALIFIED));
    let canonical = hex(&format!("12 07 0f 04 0f 1a 00 {CDPA} {CGPA} {DATA}"));
    assert_eq!(enc(&m), canonical);
}

/// otc xudt_opt_segmentation_test layout: optional pointer 0x32 = 6+50 -> octet 56, right after
/// the data (31 + 1 + 24); segmentation 10 04 | 01 02 03 04; end 00. Per Q.713 §3.17, 0x01 is
/// "not first segment, class 0, 1 remaining" (otc's own expectation reads the first-segment bit
/// differently; we follow the Recommendation).
#[test]
fn xudt_segmentation_fixture() {
    let b = hex(&format!(
        "11 01 0d 04 0f 1a 32 {CDPA} {CGPA} {DATA} 10 04 01 02 03 04 00"
    ));
    let m = decode(&b).unwrap();
    assert_eq!(
        m.segmentation(),
        Some(Segmentation {
            first_segment: false,
            class: Class::Class0,
            remaining_segments: 1,
            local_reference: [2, 3, 4]
        })
    );
    assert_eq!(enc(&m), b);
}

/// hand: XUDT class 0, hop 10, called PC 0x0123 + SSN 146 (AI 0x43), calling GTI 1 + SSN 241
/// ("31612", AI 0x06, 0x84 = odd + international), data "a1 02", importance 5, segmentation
/// first/class 1/0 remaining/ref 00 00 2a.
/// Pointers at 3..7, variable part from 7:
///   called  @7:  len 4 (43 23 01 92)            -> ptr 7-3 = 04
///   calling @12: len 6 (06 f1 84 13 16 02)      -> ptr 12-4 = 08
///   data    @19: len 2 (a1 02)                  -> ptr 19-5 = 0e
///   optional @22: 10 04 c0 00 00 2a, 12 01 05, 00 -> ptr 22-6 = 10
#[test]
fn xudt_hand_fixture() {
    let b = hex(
        "11 00 0a 04 08 0e 10  04 43 23 01 92  06 06 f1 84 13 16 02  02 a1 02
                 10 04 c0 00 00 2a  12 01 05  00",
    );
    let x = Xudt {
        protocol_class: ProtocolClass::CLASS0,
        hop_counter: 10,
        called: SccpAddress::route_on_ssn(Some(PointCode(0x123)), Ssn::CAP),
        calling: SccpAddress::route_on_gt(
            GlobalTitle::Nai {
                nai: NatureOfAddress::INTERNATIONAL,
                digits: "31612".parse().unwrap(),
            },
            Some(Ssn::INAP),
        ),
        data: &[0xa1, 0x02],
        segmentation: Some(Segmentation {
            first_segment: true,
            class: Class::Class1,
            remaining_segments: 0,
            local_reference: [0, 0, 0x2a],
        }),
        importance: Some(Importance(5)),
    };
    assert_eq!(Xudt::decode(&b), Ok(x));
    assert_eq!(enc(&x.into()), b);
    // Unknown optional parameters are skipped: insert 0x7f len 1 before end.
    let mut with_unknown = b.clone();
    with_unknown.splice(b.len() - 1..b.len() - 1, [0x7f, 0x01, 0xee]);
    assert_eq!(Xudt::decode(&with_unknown), Ok(x));
}

#[test]
fn service_message_from_udt_and_xudt() {
    // The otc UDT has the return option; its UDTS with cause 1 is exactly the otc UDTS.
    let udt = udt_bytes();
    let m = decode(&udt).unwrap();
    assert!(m.return_on_error());
    let s = m
        .service_message(ReturnCause::NO_TRANSLATION_FOR_ADDRESS)
        .unwrap();
    assert_eq!(enc(&s), udts_bytes());
    assert!(core::ptr::eq(s.data(), m.data()));

    let xudt = xudt_bytes();
    let m = decode(&xudt).unwrap();
    let s = m
        .service_message(ReturnCause::NO_TRANSLATION_FOR_ADDRESS)
        .unwrap();
    assert_eq!(enc(&s), xudts_bytes());

    // No return option: nothing to send. Service messages are never returned.
    let mut no_ret = udt.clone();
    no_ret[1] = 0x00;
    let m = decode(&no_ret).unwrap();
    assert_eq!(m.service_message(ReturnCause::UNQUALIFIED), None);
    let udts = udts_bytes();
    let m = decode(&udts).unwrap();
    assert_eq!(m.service_message(ReturnCause::UNQUALIFIED), None);
    assert_eq!(m.reply(&[1]), None);
}

#[test]
fn reply_swaps_addresses() {
    let b = udt_bytes();
    let m = decode(&b).unwrap();
    let r = m.reply(&[0x64, 0x00]).unwrap();
    assert_eq!(*r.called(), cgpa());
    assert_eq!(*r.calling(), cdpa());
    assert_eq!(r.data(), &[0x64, 0x00]);
    assert_eq!(r.protocol_class(), m.protocol_class());

    let b = hex(&format!(
        "11 01 0d 04 0f 1a 32 {CDPA} {CGPA} {DATA} 10 04 01 02 03 04 00"
    ));
    let m = decode(&b).unwrap();
    let Some(Message::Xudt(r)) = m.reply(&[]) else {
        panic!()
    };
    assert_eq!(r.hop_counter, HOP_COUNTER_MAX);
    assert_eq!(r.segmentation, None);
    assert_eq!(r.called, cgpa());
}

#[test]
fn fixed_part_errors() {
    assert_eq!(decode(&[]), Err(DecodeError::Empty));
    assert_eq!(
        decode(&[0x01, 0x00]),
        Err(DecodeError::UnsupportedMessageType(MessageType::CR))
    );
    assert_eq!(decode(&[0x09]), Err(DecodeError::Truncated("fixed part")));
    assert_eq!(
        decode(&[0x09, 0x00, 0x03]),
        Err(DecodeError::Truncated("pointers"))
    );
    assert_eq!(
        decode(&[0x11, 0x00, 0x0f, 0x04, 0x05, 0x06]),
        Err(DecodeError::Truncated("pointers"))
    );
    let mut b = udt_bytes();
    b[1] = 0x82;
    assert_eq!(decode(&b), Err(DecodeError::InvalidProtocolClass(2)));
    assert_eq!(
        Udt::decode(&xudt_bytes()),
        Err(DecodeError::UnexpectedMessageType {
            expected: MessageType::UDT,
            found: MessageType::XUDT
        })
    );
}

#[test]
fn pointer_errors() {
    let base = udt_bytes();
    let with = |i: usize, v: u8| {
        let mut b = base.clone();
        b[i] = v;
        b
    };
    let called = ParameterName::CALLED_PARTY_ADDRESS;
    let calling = ParameterName::CALLING_PARTY_ADDRESS;
    let data = ParameterName::DATA;
    assert_eq!(decode(&with(2, 0)), Err(DecodeError::NullPointer(called)));
    assert_eq!(decode(&with(3, 0)), Err(DecodeError::NullPointer(calling)));
    assert_eq!(
        decode(&with(2, 1)),
        Err(DecodeError::PointerIntoFixedPart(called))
    );
    assert_eq!(
        decode(&with(4, 0xff)),
        Err(DecodeError::PointerOutOfRange(data))
    );
    // Pointer to exactly one past the end.
    assert_eq!(
        decode(&with(4, (base.len() - 4) as u8)),
        Err(DecodeError::PointerOutOfRange(data))
    );
    // Data length octet (at 29) claims one octet more than there is.
    assert_eq!(
        decode(&with(29, 0x19)),
        Err(DecodeError::ParameterOverrun(data))
    );
    // Called address length 0 -> empty address.
    let mut b = hex(&format!("09 00 03 03 0f 00 {CGPA} {DATA}"));
    assert_eq!(
        decode(&b),
        Err(DecodeError::Address {
            param: called,
            reason: AddressError::Empty
        })
    );
    // Calling address with a truncated point code.
    b = hex("09 00 03 05 07 02 42 92 02 01 23 01 aa");
    assert_eq!(
        decode(&b),
        Err(DecodeError::Address {
            param: calling,
            reason: AddressError::TruncatedPointCode
        })
    );
}

#[test]
fn optional_part_errors() {
    let seg = format!("11 01 0d 04 0f 1a 32 {CDPA} {CGPA} {DATA}");
    // Optional pointer beyond the end.
    let b = hex(&format!("{seg} 10 04 01 02 03 04 00"));
    let mut bad = b.clone();
    bad[6] = 0x60;
    assert_eq!(decode(&bad), Err(DecodeError::OptionalPointerOutOfRange));
    // Missing end of optional parameters.
    let b = hex(&format!("{seg} 10 04 01 02 03 04"));
    assert_eq!(decode(&b), Err(DecodeError::MissingEndOfOptionalParameters));
    // Segmentation with the wrong length.
    let b = hex(&format!("{seg} 10 03 01 02 03 00"));
    assert_eq!(
        decode(&b),
        Err(DecodeError::OptionalParameterLength {
            param: ParameterName::SEGMENTATION,
            len: 3
        })
    );
    // Optional parameter longer than the message.
    let b = hex(&format!("{seg} 12 05 01"));
    assert_eq!(
        decode(&b),
        Err(DecodeError::ParameterOverrun(ParameterName::IMPORTANCE))
    );
}

#[test]
fn trailing_garbage() {
    for mut b in [udt_bytes(), udts_bytes(), xudt_bytes(), xudts_bytes()] {
        b.push(0x00);
        assert_eq!(decode(&b), Err(DecodeError::TrailingBytes(1)));
    }
    let mut b = hex(&format!(
        "11 01 0d 04 0f 1a 32 {CDPA} {CGPA} {DATA} 10 04 01 02 03 04 00"
    ));
    b.extend([0xde, 0xad]);
    assert_eq!(decode(&b), Err(DecodeError::TrailingBytes(2)));
}

/// Found by the `sccp` fuzz target (fuzz/artifacts/sccp): an XUDT whose optional-part pointer
/// lands inside its 255-octet data decoded, but no encoder can lay that message out again.
/// Parameters may not share octets, and the optional part must come after them.
#[test]
fn overlapping_parameters_and_early_optional_part() {
    // hand: called ptr 2+3=5, calling ptr 3+2=5 (the same octets), data ptr 4+4=8.
    let b = hex("09 80 03 02 04  02 42 92  01 aa");
    assert_eq!(
        decode(&b),
        Err(DecodeError::OverlappingParameters(
            ParameterName::CALLING_PARTY_ADDRESS
        ))
    );
    // hand: XUDT with the optional part first: optional @7 (ptr 6+1), called @11 (ptr 3+8),
    // calling @14 (ptr 4+10), data @17 (ptr 5+12).
    let b = hex("11 00 0f 08 0a 0c 01  12 01 05 00  02 42 92  02 42 92  01 aa");
    assert_eq!(decode(&b), Err(DecodeError::OptionalPartBeforeEnd));
    // The same parameters with the optional part last decode.
    let b = hex("11 00 0f 04 06 08 09  02 42 92  02 42 92  01 aa  12 01 05 00");
    assert_eq!(decode(&b).map(|m| m.importance()), Ok(Some(Importance(5))));
    // Optional pointer into the data (the fuzzer's case, shortened): data @13 len 4, optional
    // ptr 6+9=15.
    let b = hex("11 00 0f 04 06 08 09  02 42 92  02 42 92  04 12 01 05 00");
    assert_eq!(decode(&b), Err(DecodeError::OptionalPartBeforeEnd));
}

#[test]
fn encode_limits() {
    let a = SccpAddress::route_on_ssn(None, Ssn::CAP);
    let big = [0u8; 256];
    let u = Udt {
        protocol_class: ProtocolClass::CLASS0,
        called: a,
        calling: a,
        data: &big,
    };
    let mut b = BytesMut::from(&b"keep"[..]);
    assert_eq!(
        u.encode(&mut b),
        Err(EncodeError::ParameterTooLong {
            param: ParameterName::DATA,
            len: 256
        })
    );
    assert_eq!(&b[..], b"keep");
    // 255 octets of data fit a UDT...
    let u = Udt {
        data: &big[..255],
        ..u
    };
    assert!(u.encode(&mut BytesMut::new()).is_ok());
    // ...but not an XUDT with an optional part, whose pointer would pass 255.
    let x = Xudt {
        protocol_class: ProtocolClass::CLASS0,
        hop_counter: 15,
        called: a,
        calling: a,
        data: &big[..255],
        segmentation: None,
        importance: Some(Importance(1)),
    };
    assert_eq!(
        x.encode(&mut BytesMut::new()),
        Err(EncodeError::PointerOverflow(
            ParameterName::END_OF_OPTIONAL_PARAMETERS
        ))
    );
    let x = Xudt {
        importance: Some(Importance(9)),
        data: &[],
        ..x
    };
    assert!(matches!(
        x.encode(&mut BytesMut::new()),
        Err(EncodeError::FieldOutOfRange { .. })
    ));
}

// ---- property tests ----

fn digits(max: usize) -> impl Strategy<Value = Digits> {
    prop::collection::vec(0u8..16, 0..=max).prop_map(|n| Digits::from_nibbles(&n).unwrap())
}

fn even_digits() -> impl Strategy<Value = Digits> {
    prop::collection::vec(0u8..16, 0..=16).prop_map(|n| {
        let twice: Vec<u8> = n.iter().flat_map(|&d| [d, d]).collect();
        Digits::from_nibbles(&twice).unwrap()
    })
}

fn raw(max: usize) -> impl Strategy<Value = RawOctets> {
    prop::collection::vec(any::<u8>(), 0..=max).prop_map(|v| RawOctets::new(&v).unwrap())
}

fn gt_address() -> impl Strategy<Value = GtAddress> {
    prop_oneof![
        digits(MAX_DIGITS).prop_map(GtAddress::Bcd),
        (
            (0u8..16).prop_filter("not BCD", |s| *s != 1 && *s != 2),
            raw(MAX_RAW_OCTETS)
        )
            .prop_map(|(s, octets)| GtAddress::Raw {
                scheme: EncodingScheme(s),
                octets
            }),
    ]
}

fn global_title() -> impl Strategy<Value = GlobalTitle> {
    prop_oneof![
        (0u8..128, digits(MAX_DIGITS)).prop_map(|(n, digits)| GlobalTitle::Nai {
            nai: NatureOfAddress(n),
            digits
        }),
        (any::<u8>(), even_digits()).prop_map(|(t, digits)| GlobalTitle::Tt {
            tt: TranslationType(t),
            digits
        }),
        (any::<u8>(), 0u8..16, gt_address()).prop_map(|(t, np, address)| GlobalTitle::TtNpEs {
            tt: TranslationType(t),
            np: NumberingPlan(np),
            address
        }),
        (any::<u8>(), 0u8..16, 0u8..128, gt_address()).prop_map(|(t, np, n, address)| {
            GlobalTitle::TtNpEsNai {
                tt: TranslationType(t),
                np: NumberingPlan(np),
                nai: NatureOfAddress(n),
                address,
            }
        }),
        (5u8..16, raw(MAX_RAW_OCTETS)).prop_map(|(gti, raw)| GlobalTitle::Other { gti, raw }),
    ]
}

fn address() -> impl Strategy<Value = SccpAddress> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0u16..=PointCode::MAX),
        prop::option::of(any::<u8>()),
        prop::option::of(global_title()),
    )
        .prop_map(|(national, ssn_route, pc, ssn, gt)| SccpAddress {
            national,
            routing: if ssn_route {
                RoutingIndicator::Ssn
            } else {
                RoutingIndicator::GlobalTitle
            },
            point_code: pc.map(PointCode),
            ssn: ssn.map(Ssn),
            global_title: gt,
        })
}

fn protocol_class() -> impl Strategy<Value = ProtocolClass> {
    (any::<bool>(), any::<bool>()).prop_map(|(one, ret)| ProtocolClass {
        class: if one { Class::Class1 } else { Class::Class0 },
        return_on_error: ret,
    })
}

fn segmentation() -> impl Strategy<Value = Segmentation> {
    (any::<bool>(), any::<bool>(), 0u8..16, any::<[u8; 3]>()).prop_map(|(f, c, r, l)| {
        Segmentation {
            first_segment: f,
            class: if c { Class::Class1 } else { Class::Class0 },
            remaining_segments: r,
            local_reference: l,
        }
    })
}

fn optionals() -> impl Strategy<Value = (Option<Segmentation>, Option<Importance>)> {
    (
        prop::option::of(segmentation()),
        prop::option::of((0u8..8).prop_map(Importance)),
    )
}

/// An owned message description; the strategy cannot hand out borrowed data.
#[derive(Debug, Clone)]
enum Owned {
    Udt(ProtocolClass, SccpAddress, SccpAddress, Vec<u8>),
    Udts(u8, SccpAddress, SccpAddress, Vec<u8>),
    Xudt(
        ProtocolClass,
        u8,
        SccpAddress,
        SccpAddress,
        Vec<u8>,
        (Option<Segmentation>, Option<Importance>),
    ),
    Xudts(
        u8,
        u8,
        SccpAddress,
        SccpAddress,
        Vec<u8>,
        (Option<Segmentation>, Option<Importance>),
    ),
}

impl Owned {
    fn message(&self) -> Message<'_> {
        match self {
            Owned::Udt(pc, cd, cg, d) => Message::Udt(Udt {
                protocol_class: *pc,
                called: *cd,
                calling: *cg,
                data: d,
            }),
            Owned::Udts(c, cd, cg, d) => Message::Udts(Udts {
                return_cause: ReturnCause(*c),
                called: *cd,
                calling: *cg,
                data: d,
            }),
            Owned::Xudt(pc, h, cd, cg, d, (s, i)) => Message::Xudt(Xudt {
                protocol_class: *pc,
                hop_counter: *h,
                called: *cd,
                calling: *cg,
                data: d,
                segmentation: *s,
                importance: *i,
            }),
            Owned::Xudts(c, h, cd, cg, d, (s, i)) => Message::Xudts(Xudts {
                return_cause: ReturnCause(*c),
                hop_counter: *h,
                called: *cd,
                calling: *cg,
                data: d,
                segmentation: *s,
                importance: *i,
            }),
        }
    }
}

fn data(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn owned() -> impl Strategy<Value = Owned> {
    // Addresses are at most 39 octets, so 160 octets of data always fit the XUDT optional pointer.
    prop_oneof![
        (protocol_class(), address(), address(), data(255))
            .prop_map(|(p, a, b, d)| Owned::Udt(p, a, b, d)),
        (any::<u8>(), address(), address(), data(255))
            .prop_map(|(c, a, b, d)| Owned::Udts(c, a, b, d)),
        (
            protocol_class(),
            any::<u8>(),
            address(),
            address(),
            data(160),
            optionals()
        )
            .prop_map(|(p, h, a, b, d, o)| Owned::Xudt(p, h, a, b, d, o)),
        (
            any::<u8>(),
            any::<u8>(),
            address(),
            address(),
            data(160),
            optionals()
        )
            .prop_map(|(c, h, a, b, d, o)| Owned::Xudts(c, h, a, b, d, o)),
    ]
}

proptest! {
    // 512 cases by default; PROPTEST_CASES=N for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn address_roundtrip(a in address()) {
        let mut b = BytesMut::new();
        a.encode(&mut b).unwrap();
        prop_assert_eq!(b.len(), a.encoded_len());
        prop_assert_eq!(SccpAddress::decode(&b), Ok(a));
    }

    #[test]
    fn message_roundtrip(o in owned()) {
        let m = o.message();
        let b = enc(&m);
        prop_assert_eq!(decode(&b), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(&b);
    }

    #[test]
    fn typed_arbitrary_bytes_never_panic(
        t in prop::sample::select(vec![0x09u8, 0x0a, 0x11, 0x12]),
        b in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut v = vec![t];
        v.extend(b);
        if let Ok(m) = decode(&v) {
            // Whatever decodes re-encodes to something that decodes to the same value.
            let mut out = BytesMut::new();
            if m.encode(&mut out).is_ok() {
                prop_assert_eq!(decode(&out), Ok(m));
            }
        }
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        o in owned(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = enc(&o.message());
        for (i, v) in edits {
            let i = i.index(b.len());
            b[i] = v;
        }
        let _ = decode(&b);
        let n = cut.index(b.len() + 1);
        let _ = decode(&b[..n]);
    }
}
