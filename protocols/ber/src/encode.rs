//! DER-style encoding into `BytesMut` (definite lengths, minimal forms), which every BER
//! decoder accepts. Constructed values are written in place: one length octet is reserved,
//! the contents written, and the length fixed up (shifting the contents when the long form
//! is needed), so nesting costs no extra buffers.

use bytes::{BufMut, BytesMut};

use crate::tag::Tag;

/// Write identifier octets.
pub fn write_tag(buf: &mut BytesMut, tag: Tag) {
    let first = ((tag.class as u8) << 6) | if tag.constructed { 0x20 } else { 0 };
    if tag.number < 31 {
        buf.put_u8(first | tag.number as u8);
        return;
    }
    buf.put_u8(first | 0x1f);
    let n = tag.encoded_len() - 1;
    for i in (0..n).rev() {
        let b = ((tag.number >> (7 * i)) & 0x7f) as u8;
        buf.put_u8(if i == 0 { b } else { b | 0x80 });
    }
}

fn length_octets(len: usize) -> usize {
    match len {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xff_ffff => 4,
        _ => 5,
    }
}

/// Write definite length octets in the minimal form.
pub fn write_length(buf: &mut BytesMut, len: usize) {
    let n = length_octets(len);
    if n == 1 {
        buf.put_u8(len as u8);
    } else {
        buf.put_u8(0x80 | (n - 1) as u8);
        for i in (0..n - 1).rev() {
            buf.put_u8((len >> (8 * i)) as u8);
        }
    }
}

/// Write a complete TLV with the given contents.
pub fn write_tlv(buf: &mut BytesMut, tag: Tag, value: &[u8]) {
    write_tag(buf, tag);
    write_length(buf, value.len());
    buf.put_slice(value);
}

/// Write a constructed value whose contents `f` writes.
pub fn write_constructed(buf: &mut BytesMut, tag: Tag, f: impl FnOnce(&mut BytesMut)) {
    write_tag(buf, tag.as_constructed());
    let len_at = buf.len();
    buf.put_u8(0);
    let start = buf.len();
    f(buf);
    let len = buf.len() - start;
    let n = length_octets(len);
    if n == 1 {
        buf[len_at] = len as u8;
    } else {
        let extra = n - 1;
        buf.put_bytes(0, extra);
        buf.copy_within(start..start + len, start + extra);
        buf[len_at] = 0x80 | extra as u8;
        for i in 0..extra {
            buf[len_at + 1 + i] = (len >> (8 * (extra - 1 - i))) as u8;
        }
    }
}

/// Write an INTEGER (or any tag with INTEGER contents) in minimal two's complement.
pub fn write_integer(buf: &mut BytesMut, tag: Tag, v: i64) {
    // Octets needed: the significant bits plus one sign bit (leading octets that only repeat
    // the sign are dropped), at least one. At most 8, so the length is one octet.
    let redundant = if v < 0 { !v } else { v }.leading_zeros() as usize;
    let n = (64 - redundant + 8) / 8;
    write_tag(buf, tag);
    buf.put_u8(n as u8);
    // Byte by byte: a `put_slice` of a few octets is a call to `memcpy`.
    for i in (0..n).rev() {
        buf.put_u8((v >> (8 * i)) as u8);
    }
}

/// Write a non-negative INTEGER of up to 64 bits.
pub fn write_unsigned(buf: &mut BytesMut, tag: Tag, v: u64) {
    if let Ok(v) = i64::try_from(v) {
        write_integer(buf, tag, v);
    } else {
        let mut c = [0u8; 9];
        c[1..].copy_from_slice(&v.to_be_bytes());
        write_tlv(buf, tag, &c);
    }
}

/// Write an ENUMERATED value with the given tag.
pub fn write_enumerated(buf: &mut BytesMut, tag: Tag, v: i64) {
    write_integer(buf, tag, v);
}

/// Write a BOOLEAN (TRUE as 0xFF).
pub fn write_bool(buf: &mut BytesMut, tag: Tag, v: bool) {
    write_tlv(buf, tag, &[if v { 0xff } else { 0x00 }]);
}

/// Write a NULL.
pub fn write_null(buf: &mut BytesMut, tag: Tag) {
    write_tlv(buf, tag, &[]);
}

/// Write an OCTET STRING (or any primitive) with the given tag.
pub fn write_octets(buf: &mut BytesMut, tag: Tag, v: &[u8]) {
    write_tlv(buf, tag, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitive::decode_i64;
    use crate::tlv::parse_tlv;

    #[test]
    fn long_tag_and_length_fixup() {
        let mut b = BytesMut::new();
        write_constructed(&mut b, Tag::ctx_cons(200), |b| {
            write_octets(b, Tag::OCTET_STRING, &[9u8; 300]);
        });
        let (rest, t) = parse_tlv(&b).unwrap();
        assert!(rest.is_empty());
        assert_eq!(t.tag, Tag::ctx_cons(200));
        let (_, inner) = parse_tlv(t.value).unwrap();
        assert_eq!(inner.value, &[9u8; 300][..]);
    }

    #[test]
    fn minimal_integers() {
        for (v, enc) in [
            (0i64, &[0x00][..]),
            (127, &[0x7f]),
            (128, &[0x00, 0x80]),
            (-128, &[0x80]),
            (-129, &[0xff, 0x7f]),
            (256, &[0x01, 0x00]),
            (-1, &[0xff]),
            (-256, &[0xff, 0x00]),
            (32767, &[0x7f, 0xff]),
            (32768, &[0x00, 0x80, 0x00]),
            (i64::MAX, &[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (i64::MIN, &[0x80, 0, 0, 0, 0, 0, 0, 0]),
        ] {
            let mut b = BytesMut::new();
            write_integer(&mut b, Tag::INTEGER, v);
            assert_eq!(&b[2..], enc, "{v}");
            assert_eq!(decode_i64(&b[2..]).unwrap(), v);
        }
    }
}
