//! Property tests: encode/decode round trips of arbitrary TLV trees, and arbitrary input
//! never panics or reads out of bounds.

use bytes::BytesMut;
use proptest::prelude::*;
use strowger_ber::*;

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Prim(Tag, Vec<u8>),
    Cons(Tag, Vec<Node>),
}

fn arb_tag(constructed: bool) -> impl Strategy<Value = Tag> {
    (0u8..4, 0u32..100_000).prop_map(move |(c, n)| Tag {
        class: match c {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::Context,
            _ => Class::Private,
        },
        constructed,
        number: n,
    })
}

fn arb_node() -> impl Strategy<Value = Node> {
    let leaf = (arb_tag(false), prop::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(t, v)| Node::Prim(t, v));
    leaf.prop_recursive(6, 64, 6, |inner| {
        (arb_tag(true), prop::collection::vec(inner, 0..6)).prop_map(|(t, c)| Node::Cons(t, c))
    })
}

fn encode(n: &Node, b: &mut BytesMut) {
    match n {
        Node::Prim(t, v) => write_tlv(b, *t, v),
        Node::Cons(t, c) => write_constructed(b, *t, |b| c.iter().for_each(|n| encode(n, b))),
    }
}

fn decode(tlv: Tlv<'_>) -> Node {
    if tlv.tag.constructed {
        let mut r = Reader::new(tlv.value);
        let mut c = Vec::new();
        while let Some(t) = r.next_tlv().unwrap() {
            c.push(decode(t));
        }
        Node::Cons(tlv.tag, c)
    } else {
        Node::Prim(tlv.tag, tlv.value.to_vec())
    }
}

fn walk(tlv: Tlv<'_>, depth: usize) {
    if tlv.tag.constructed && depth < 40 {
        let mut r = Reader::new(tlv.value);
        while let Ok(Some(t)) = r.next_tlv() {
            walk(t, depth + 1);
        }
    }
}

proptest! {
    #[test]
    fn tree_round_trip(n in arb_node()) {
        let mut b = BytesMut::new();
        encode(&n, &mut b);
        let (rest, tlv) = parse_tlv(&b).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(decode(tlv), n);
    }

    #[test]
    fn integer_round_trip(v in any::<i64>()) {
        let mut b = BytesMut::new();
        write_integer(&mut b, Tag::INTEGER, v);
        let (_, tlv) = parse_tlv(&b).unwrap();
        prop_assert_eq!(decode_i64(tlv.value).unwrap(), v);
    }

    #[test]
    fn unsigned_round_trip(v in any::<u64>()) {
        let mut b = BytesMut::new();
        write_unsigned(&mut b, Tag::INTEGER, v);
        let (_, tlv) = parse_tlv(&b).unwrap();
        prop_assert_eq!(decode_u64(tlv.value).unwrap(), v);
    }

    #[test]
    fn arbitrary_input_never_panics(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut rest: &[u8] = &data;
        while let Ok((r, tlv)) = parse_tlv(rest) {
            prop_assert!(r.len() < rest.len());
            walk(tlv, 0);
            let mut out = [0u8; 64];
            let _ = octet_string_to(tlv, &mut out);
            rest = r;
        }
    }
}
