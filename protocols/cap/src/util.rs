//! Small BER helpers shared by the operation codecs: every one maps failures to the
//! [`CapError`] the peer is owed.

use bytes::BytesMut;
use strowger_ber::{
    decode_bool, decode_i64, decode_null, parse_tlv, write_integer, write_tlv, Class, Reader, Tag,
    Tlv,
};

use crate::error::{ber, CapError, CapResult};

/// Parse exactly one TLV from `input`; trailing bytes are an error.
#[inline]
pub(crate) fn single<'a>(input: &'a [u8], what: &'static str) -> CapResult<Tlv<'a>> {
    let (rest, tlv) = parse_tlv(input).map_err(|e| ber(what)(e.into()))?;
    if !rest.is_empty() {
        return Err(CapError::Malformed {
            what,
            source: strowger_ber::BerError::Trailing(what),
        });
    }
    Ok(tlv)
}

/// The argument of an operation that requires one: absent is `MissingParameter`.
#[inline]
pub(crate) fn required<'a>(param: Option<&'a [u8]>, what: &'static str) -> CapResult<Tlv<'a>> {
    match param {
        Some(p) => single(p, what),
        None => Err(CapError::MissingParameter(what)),
    }
}

/// A reader over a SEQUENCE-typed argument (`30 …`).
#[inline]
pub(crate) fn sequence<'a>(param: Option<&'a [u8]>, what: &'static str) -> CapResult<Reader<'a>> {
    let t = required(param, what)?;
    reader(t.expect(Tag::SEQUENCE).map_err(ber(what))?, what)
}

/// A reader over the contents of a constructed TLV.
#[inline]
pub(crate) fn reader<'a>(t: Tlv<'a>, what: &'static str) -> CapResult<Reader<'a>> {
    Reader::of(t).map_err(ber(what))
}

/// Next component of `r`.
#[inline]
pub(crate) fn next<'a>(r: &mut Reader<'a>, what: &'static str) -> CapResult<Option<Tlv<'a>>> {
    r.next_tlv().map_err(ber(what))
}

/// Next component of `r` together with its complete encoding (tag, length and contents).
#[inline]
pub(crate) fn next_with_encoding<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> CapResult<Option<(Tlv<'a>, &'a [u8])>> {
    let before = r.remaining();
    match next(r, what)? {
        Some(t) => {
            let used = before.len() - r.remaining().len();
            Ok(Some((t, &before[..used])))
        }
        None => Ok(None),
    }
}

/// The context-specific tag number of `t`, if it is context-specific.
#[inline]
pub(crate) fn ctx(t: &Tlv<'_>) -> Option<u32> {
    (t.tag.class == Class::Context).then_some(t.tag.number)
}

/// OCTET STRING contents, borrowed: primitive, or a constructed form holding exactly one
/// primitive segment (anything more fragmented would need a copy and is refused).
#[inline]
pub(crate) fn octets<'a>(t: Tlv<'a>, what: &'static str) -> CapResult<&'a [u8]> {
    if !t.tag.constructed {
        return Ok(t.value);
    }
    let inner = single(t.value, what)?;
    if inner.tag != Tag::OCTET_STRING {
        return Err(CapError::Malformed {
            what,
            source: strowger_ber::BerError::Invalid("segmented OCTET STRING"),
        });
    }
    Ok(inner.value)
}

/// The contents of a constructed value, kept raw (e.g. extensions, a CHOICE we do not read).
#[inline]
pub(crate) fn contents<'a>(t: Tlv<'a>, what: &'static str) -> CapResult<&'a [u8]> {
    if !t.tag.constructed {
        return Err(CapError::Malformed {
            what,
            source: strowger_ber::BerError::Invalid("primitive where constructed expected"),
        });
    }
    Ok(t.value)
}

/// The single component inside an explicitly tagged value (a tagged CHOICE).
#[inline]
pub(crate) fn explicit<'a>(t: Tlv<'a>, what: &'static str) -> CapResult<Tlv<'a>> {
    single(contents(t, what)?, what)
}

#[inline]
fn primitive<'a>(t: Tlv<'a>, what: &'static str) -> CapResult<&'a [u8]> {
    if t.tag.constructed {
        return Err(CapError::Malformed {
            what,
            source: strowger_ber::BerError::Invalid("constructed where primitive expected"),
        });
    }
    Ok(t.value)
}

/// INTEGER / ENUMERATED contents.
#[inline]
pub(crate) fn int(t: Tlv<'_>, what: &'static str) -> CapResult<i64> {
    decode_i64(primitive(t, what)?).map_err(ber(what))
}

/// INTEGER constrained to `min..=max`; outside is `OutOfRange`.
#[inline]
pub(crate) fn int_range(t: Tlv<'_>, what: &'static str, min: i64, max: i64) -> CapResult<i64> {
    let v = int(t, what)?;
    if v < min || v > max {
        return Err(CapError::OutOfRange(what));
    }
    Ok(v)
}

/// INTEGER constrained to `min..=max` as `u32`.
#[inline]
pub(crate) fn uint(t: Tlv<'_>, what: &'static str, min: u32, max: u32) -> CapResult<u32> {
    let v = int_range(t, what, i64::from(min), i64::from(max))?;
    u32::try_from(v).map_err(|_| CapError::OutOfRange(what))
}

/// BOOLEAN contents.
#[inline]
pub(crate) fn boolean(t: Tlv<'_>, what: &'static str) -> CapResult<bool> {
    decode_bool(primitive(t, what)?).map_err(ber(what))
}

/// NULL contents.
#[inline]
pub(crate) fn null(t: Tlv<'_>, what: &'static str) -> CapResult<()> {
    decode_null(primitive(t, what)?).map_err(ber(what))
}

/// A one-octet OCTET STRING (CallingPartysCategory, NAOliInfo, LegType, …).
#[inline]
pub(crate) fn octet1(t: Tlv<'_>, what: &'static str) -> CapResult<u8> {
    match octets(t, what)? {
        [b] => Ok(*b),
        _ => Err(CapError::OutOfRange(what)),
    }
}

/// Write `[n]` primitive with `v` if present.
#[inline]
pub(crate) fn put_opt_octets(buf: &mut BytesMut, n: u32, v: Option<&[u8]>) {
    if let Some(v) = v {
        write_tlv(buf, Tag::ctx(n), v);
    }
}

/// Write `[n]` constructed with raw contents if present.
#[inline]
pub(crate) fn put_opt_cons(buf: &mut BytesMut, n: u32, v: Option<&[u8]>) {
    if let Some(v) = v {
        write_tlv(buf, Tag::ctx_cons(n), v);
    }
}

/// Write `[n]` INTEGER if present.
#[inline]
pub(crate) fn put_opt_int(buf: &mut BytesMut, n: u32, v: Option<impl Into<i64>>) {
    if let Some(v) = v {
        write_integer(buf, Tag::ctx(n), v.into());
    }
}

/// Write `[n]` NULL when `flag` is set.
#[inline]
pub(crate) fn put_flag(buf: &mut BytesMut, n: u32, flag: bool) {
    if flag {
        write_tlv(buf, Tag::ctx(n), &[]);
    }
}

/// Write `[n]` one-octet OCTET STRING if present.
#[inline]
pub(crate) fn put_opt_octet1(buf: &mut BytesMut, n: u32, v: Option<u8>) {
    if let Some(v) = v {
        write_tlv(buf, Tag::ctx(n), &[v]);
    }
}
