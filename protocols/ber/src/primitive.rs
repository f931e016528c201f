//! Contents of primitive values: INTEGER/ENUMERATED (X.690 §8.3–8.4), BOOLEAN (§8.2),
//! NULL (§8.8), and OCTET STRING in primitive or constructed form (§8.7).

use crate::error::{BerError, BerResult};
use crate::tag::Tag;
use crate::tlv::{parse_tlv_depth, Tlv, MAX_DEPTH};

/// A two's-complement INTEGER or ENUMERATED of 1 to 8 octets.
#[inline]
pub fn decode_i64(value: &[u8]) -> BerResult<i64> {
    if value.is_empty() {
        return Err(BerError::Invalid("empty INTEGER"));
    }
    if value.len() > 8 {
        return Err(BerError::Invalid("INTEGER too large"));
    }
    let mut v: i64 = if value[0] & 0x80 != 0 { -1 } else { 0 };
    for b in value {
        v = (v << 8) | i64::from(*b);
    }
    Ok(v)
}

/// A non-negative INTEGER that fits 32 bits (e.g. a ServiceKey, a duration).
#[inline]
pub fn decode_u32(value: &[u8]) -> BerResult<u32> {
    let v = decode_i64(value)?;
    u32::try_from(v).map_err(|_| BerError::Invalid("INTEGER out of range"))
}

/// A non-negative INTEGER that fits 63 bits (9 octets are allowed for the sign octet).
pub fn decode_u64(value: &[u8]) -> BerResult<u64> {
    let value = match value {
        [0, rest @ ..] if rest.len() == 8 => rest,
        _ => value,
    };
    if value.len() == 8 && value[0] & 0x80 != 0 {
        return Ok(u64::from_be_bytes(
            value.try_into().map_err(|_| BerError::Invalid("INTEGER"))?,
        ));
    }
    let v = decode_i64(value)?;
    u64::try_from(v).map_err(|_| BerError::Invalid("INTEGER out of range"))
}

/// A BOOLEAN: one octet, zero is FALSE (X.690 §8.2.2: any non-zero octet is TRUE).
#[inline]
pub fn decode_bool(value: &[u8]) -> BerResult<bool> {
    match value {
        [b] => Ok(*b != 0),
        _ => Err(BerError::Invalid("BOOLEAN length")),
    }
}

/// A NULL: no contents.
#[inline]
pub fn decode_null(value: &[u8]) -> BerResult<()> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(BerError::Invalid("NULL with contents"))
    }
}

/// Visit the segments of an OCTET STRING in primitive or constructed form (§8.7.3), in order,
/// without allocating. Constructed segments must be primitive OCTET STRINGs or nested
/// constructed ones, bounded by the nesting limit.
pub fn octet_string_parts<'a>(
    tlv: Tlv<'a>,
    f: &mut dyn FnMut(&'a [u8]) -> BerResult<()>,
) -> BerResult<()> {
    fn walk<'a>(
        value: &'a [u8],
        depth: usize,
        f: &mut dyn FnMut(&'a [u8]) -> BerResult<()>,
    ) -> BerResult<()> {
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        let mut rest = value;
        while !rest.is_empty() {
            let (r, part) = parse_tlv_depth(rest, depth)?;
            rest = r;
            if !part.tag.same_number(Tag::OCTET_STRING) {
                return Err(BerError::Invalid("segment of constructed OCTET STRING"));
            }
            if part.tag.constructed {
                walk(part.value, depth + 1, f)?;
            } else {
                f(part.value)?;
            }
        }
        Ok(())
    }
    if tlv.tag.constructed {
        walk(tlv.value, 1, f)
    } else {
        f(tlv.value)
    }
}

/// Copy an OCTET STRING (primitive or constructed) into `out`, which bounds its size;
/// returns the number of octets written.
pub fn octet_string_to(tlv: Tlv<'_>, out: &mut [u8]) -> BerResult<usize> {
    let mut n = 0;
    octet_string_parts(tlv, &mut |part| {
        let end = n + part.len();
        if end > out.len() {
            return Err(BerError::Invalid("OCTET STRING too long"));
        }
        out[n..end].copy_from_slice(part);
        n = end;
        Ok(())
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::parse_tlv;

    #[test]
    fn integers() {
        assert_eq!(decode_i64(&[0x00]).unwrap(), 0);
        assert_eq!(decode_i64(&[0x7f]).unwrap(), 127);
        assert_eq!(decode_i64(&[0x00, 0x80]).unwrap(), 128);
        assert_eq!(decode_i64(&[0xff]).unwrap(), -1);
        assert_eq!(decode_i64(&[0xff, 0x7f]).unwrap(), -129);
        assert!(decode_i64(&[]).is_err());
        assert!(decode_u32(&[0xff]).is_err());
        assert_eq!(
            decode_u32(&[0x00, 0xff, 0xff, 0xff, 0xff]).unwrap(),
            u32::MAX
        );
        assert_eq!(
            decode_u64(&[0x00, 0xff, 0, 0, 0, 0, 0, 0, 1]).unwrap(),
            0xff00_0000_0000_0001
        );
    }

    #[test]
    fn constructed_octet_string() {
        // [4]c indefinite { 04 02 01 02, 24 80 { 04 01 03 } 00 00 } 00 00
        let v = [
            0x24, 0x80, 0x04, 0x02, 0x01, 0x02, 0x24, 0x80, 0x04, 0x01, 0x03, 0x00, 0x00, 0x00,
            0x00,
        ];
        let (_, tlv) = parse_tlv(&v).unwrap();
        let mut out = [0u8; 8];
        let n = octet_string_to(tlv, &mut out).unwrap();
        assert_eq!(&out[..n], &[1, 2, 3]);
        let mut small = [0u8; 2];
        assert!(octet_string_to(tlv, &mut small).is_err());
    }
}
