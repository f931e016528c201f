//! The checks run by the `ber` fuzz target and by the corpus replay test
//! (`tests/fuzz_corpus.rs`), kept here so both run the same code. Not part of the API.

use bytes::BytesMut;

use crate::{
    decode_bool, decode_i64, decode_null, decode_u32, decode_u64, octet_string_parts,
    octet_string_to, parse_tlv, write_constructed, write_integer, write_tlv, write_unsigned,
    BerError, Reader, Tag, Tlv, MAX_DEPTH,
};

/// Walks `data` as a sequence of TLVs and asserts the decoder's contract: never panics, every
/// value lies inside the input, each step consumes input, `peek_tag`/`optional`/`next_tlv`
/// agree, primitive contents round-trip through the encoders, an OCTET STRING copy equals the
/// concatenation of its segments, and each tree re-encoded in definite form decodes to the same
/// tree.
pub fn check(data: &[u8]) {
    let mut rest = data;
    while let Ok((r, tlv)) = parse_tlv(rest) {
        assert!(r.len() < rest.len(), "parse_tlv consumed nothing");
        assert!(inside(tlv.value, data), "value outside the input");
        walk(tlv, Reader::new(tlv.value), data);
        check_octet_string(tlv);

        let mut buf = BytesMut::new();
        reencode(tlv, &mut buf, 0);
        let (left, again) = parse_tlv(&buf).expect("re-encoded TLV must decode");
        assert!(left.is_empty(), "re-encoded TLV has trailing bytes");
        assert!(!again.indefinite);
        same_tree(tlv, again, 0);
        rest = r;
    }
}

fn inside(part: &[u8], whole: &[u8]) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

/// Visits every component reachable through `Reader`s, as the protocol decoders do. The
/// children of an indefinite-length value were all parsed (one level deeper) when the value
/// itself was, so reading them again must not fail.
fn walk<'a>(tlv: Tlv<'a>, mut reader: Reader<'a>, data: &[u8]) {
    if !tlv.tag.constructed {
        check_primitive(tlv.value);
        return;
    }
    loop {
        let before = reader.remaining().len();
        let mut probe = reader;
        let child = match (reader.peek_tag(), probe.next_tlv()) {
            (Ok(None), Ok(None)) => break,
            (Ok(Some(tag)), Ok(Some(child))) => {
                assert_eq!(tag, child.tag, "peek_tag disagrees with next_tlv");
                child
            }
            (Err(a), Err(b)) => {
                assert_eq!(a, b, "peek_tag and next_tlv fail differently");
                assert!(!tlv.indefinite, "child of an indefinite value fails: {a:?}");
                return;
            }
            other => panic!("peek_tag and next_tlv disagree: {other:?}"),
        };
        assert!(inside(child.value, data), "child outside the input");
        assert!(
            probe.remaining().len() < before,
            "next_tlv consumed nothing"
        );
        let mut opt = reader;
        assert_eq!(opt.optional(child.tag), Ok(Some(child)));
        assert_eq!(opt.remaining(), probe.remaining());
        if child.tag.constructed {
            match reader.nested(child) {
                Ok(sub) => walk(child, sub, data),
                Err(e) => {
                    assert_eq!(e, BerError::TooDeep);
                    assert!(!tlv.indefinite, "too deep inside an indefinite value");
                }
            }
        } else {
            check_primitive(child.value);
        }
        reader = probe;
    }
    assert_eq!(reader.finish("fuzz"), Ok(()));
}

fn check_primitive(v: &[u8]) {
    if let Ok(i) = decode_i64(v) {
        let mut b = BytesMut::new();
        write_integer(&mut b, Tag::INTEGER, i);
        let (_, t) = parse_tlv(&b).expect("encoded INTEGER decodes");
        assert_eq!(decode_i64(t.value), Ok(i));
        assert!(t.value.len() <= v.len(), "encoder not minimal");
        let minimal = v.len() == 1 || !matches!((v[0], v[1] & 0x80), (0, 0) | (0xff, 0x80));
        if minimal {
            assert_eq!(t.value, v, "minimal INTEGER re-encodes differently");
        }
        assert_eq!(decode_u32(v).ok(), u32::try_from(i).ok());
    }
    if let Ok(u) = decode_u64(v) {
        let mut b = BytesMut::new();
        write_unsigned(&mut b, Tag::INTEGER, u);
        let (_, t) = parse_tlv(&b).expect("encoded unsigned decodes");
        assert_eq!(decode_u64(t.value), Ok(u));
    }
    assert_eq!(decode_bool(v).is_ok(), v.len() == 1);
    assert_eq!(decode_null(v).is_ok(), v.is_empty());
}

fn check_octet_string(tlv: Tlv<'_>) {
    let mut joined = Vec::new();
    let parts = octet_string_parts(tlv, &mut |p| {
        joined.extend_from_slice(p);
        Ok(())
    });
    let mut out = [0u8; 256];
    match (parts, octet_string_to(tlv, &mut out)) {
        (Ok(()), Ok(n)) => assert_eq!(&out[..n], &joined[..]),
        (Ok(()), Err(_)) => assert!(joined.len() > out.len(), "copy failed on a short string"),
        // The copy may stop earlier, at a segment that overflows `out`.
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) => panic!("octet_string_to succeeded where the parts failed: {e:?}"),
    }
}

/// Re-encodes a tree in definite form; the depth cap mirrors the decoder's.
fn reencode(tlv: Tlv<'_>, buf: &mut BytesMut, depth: usize) {
    if !tlv.tag.constructed || depth > MAX_DEPTH {
        write_tlv(buf, tlv.tag, tlv.value);
        return;
    }
    let mut children = Vec::new();
    let mut r = Reader::new(tlv.value);
    while let Ok(Some(c)) = r.next_tlv() {
        children.push(c);
    }
    if !r.is_empty() {
        // Not a well-formed list of components: keep the contents opaque.
        write_tlv(buf, tlv.tag, tlv.value);
        return;
    }
    write_constructed(buf, tlv.tag, |b| {
        for c in children {
            reencode(c, b, depth + 1);
        }
    });
}

fn same_tree(a: Tlv<'_>, b: Tlv<'_>, depth: usize) {
    assert_eq!(a.tag, b.tag);
    if !a.tag.constructed || depth > MAX_DEPTH || !a.indefinite && a.value == b.value {
        return;
    }
    let (mut ra, mut rb) = (Reader::new(a.value), Reader::new(b.value));
    loop {
        match (ra.next_tlv(), rb.next_tlv()) {
            (Ok(Some(x)), Ok(Some(y))) => same_tree(x, y, depth + 1),
            (Ok(None), Ok(None)) => return,
            // Contents that were kept opaque compare as bytes.
            _ => return assert_eq!(a.value, b.value),
        }
    }
}
