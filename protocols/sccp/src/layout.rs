//! Pointers, mandatory variable part and optional part, ITU-T Q.713 §1.7 and §2.3.
//!
//! A pointer octet holds the distance from itself to the length octet of its parameter (mandatory
//! variable part) or to the first optional parameter's name octet (optional part; 0 = no optional
//! part). Every pointer is checked before use: zero, pointing into the fixed part or pointer block,
//! pointing past the end, or a length past the end are each a named [`DecodeError`]. Parameters may
//! appear in any order but may not share octets, and the optional part must follow all of them
//! (the general message layout of Q.713 §1 puts it last); octets after the furthest
//! parameter are rejected as trailing garbage. Both rules keep every decodable message
//! re-encodable: the canonical layout is then never longer than the received one.
//!
//! Unrecognised optional parameters are skipped (Q.714 compatibility rules); they are not kept.

use bytes::{BufMut, BytesMut};
use nom::multi::length_data;
use nom::number::complete::be_u8;
use nom::IResult;

use crate::address::SccpAddress;
use crate::error::{DecodeError, EncodeError};
use crate::importance::Importance;
use crate::segmentation::Segmentation;
use crate::ParameterName;

/// The optional parameters of XUDT / XUDTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Optionals {
    pub(crate) segmentation: Option<Segmentation>,
    pub(crate) importance: Option<Importance>,
}

impl Optionals {
    fn is_empty(&self) -> bool {
        self.segmentation.is_none() && self.importance.is_none()
    }

    fn encoded_len(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let seg = self
            .segmentation
            .map_or(0, |_| 2 + usize::from(Segmentation::LEN));
        let imp = self
            .importance
            .map_or(0, |_| 2 + usize::from(Importance::LEN));
        seg + imp + 1
    }
}

/// The decoded variable part of a connectionless message.
pub(crate) struct Body<'a> {
    pub(crate) called: SccpAddress,
    pub(crate) calling: SccpAddress,
    pub(crate) data: &'a [u8],
    pub(crate) optionals: Optionals,
}

type NomResult<'a, T> = IResult<&'a [u8], T>;

fn param(i: &[u8]) -> NomResult<'_, &[u8]> {
    length_data(be_u8)(i)
}

/// Follows mandatory pointer `index` (0-based) of the pointer block at `ptr_pos`; `spans`
/// holds the octet ranges of the parameters read so far, and gets this one's.
fn mandatory<'a>(
    msg: &'a [u8],
    ptr_pos: usize,
    var_start: usize,
    index: usize,
    name: ParameterName,
    spans: &mut [(usize, usize); 3],
) -> Result<&'a [u8], DecodeError> {
    let pos = ptr_pos + index;
    let p = usize::from(*msg.get(pos).ok_or(DecodeError::Truncated("pointers"))?);
    if p == 0 {
        return Err(DecodeError::NullPointer(name));
    }
    let target = pos + p;
    if target < var_start {
        return Err(DecodeError::PointerIntoFixedPart(name));
    }
    let at = msg
        .get(target..)
        .filter(|s| !s.is_empty())
        .ok_or(DecodeError::PointerOutOfRange(name))?;
    let (rest, value) = param(at).map_err(|_| DecodeError::ParameterOverrun(name))?;
    let span = (target, msg.len() - rest.len());
    if spans[..index]
        .iter()
        .any(|&(s, e)| span.0 < e && s < span.1)
    {
        return Err(DecodeError::OverlappingParameters(name));
    }
    spans[index] = span;
    Ok(value)
}

fn address(value: &[u8], name: ParameterName) -> Result<SccpAddress, DecodeError> {
    SccpAddress::decode(value).map_err(|reason| DecodeError::Address {
        param: name,
        reason,
    })
}

/// Parses the optional part starting at `at`; returns the optionals and the octets consumed.
fn optional_part(at: &[u8]) -> Result<(Optionals, usize), DecodeError> {
    let mut out = Optionals::default();
    let mut rest = at;
    loop {
        let (r, name) = be_u8::<_, nom::error::Error<&[u8]>>(rest)
            .map_err(|_| DecodeError::MissingEndOfOptionalParameters)?;
        let name = ParameterName(name);
        if name == ParameterName::END_OF_OPTIONAL_PARAMETERS {
            return Ok((out, at.len() - r.len()));
        }
        let (r, value) = param(r).map_err(|_| DecodeError::ParameterOverrun(name))?;
        match name {
            ParameterName::SEGMENTATION => out.segmentation = Some(Segmentation::decode(value)?),
            ParameterName::IMPORTANCE => out.importance = Some(Importance::decode(value)?),
            _ => {}
        }
        rest = r;
    }
}

/// Decodes everything from the pointer block at `ptr_pos` to the end of `msg`.
/// `with_optional` selects the XUDT/XUDTS layout (fourth pointer to the optional part).
pub(crate) fn decode_body(
    msg: &[u8],
    ptr_pos: usize,
    with_optional: bool,
) -> Result<Body<'_>, DecodeError> {
    let n = if with_optional { 4 } else { 3 };
    let var_start = ptr_pos + n;
    if msg.len() < var_start {
        return Err(DecodeError::Truncated("pointers"));
    }
    let mut spans = [(0, 0); 3];
    let called = mandatory(
        msg,
        ptr_pos,
        var_start,
        0,
        ParameterName::CALLED_PARTY_ADDRESS,
        &mut spans,
    )?;
    let calling = mandatory(
        msg,
        ptr_pos,
        var_start,
        1,
        ParameterName::CALLING_PARTY_ADDRESS,
        &mut spans,
    )?;
    let data = mandatory(msg, ptr_pos, var_start, 2, ParameterName::DATA, &mut spans)?;
    let mut end = spans.iter().map(|&(_, e)| e).fold(var_start, usize::max);
    let called = address(called, ParameterName::CALLED_PARTY_ADDRESS)?;
    let calling = address(calling, ParameterName::CALLING_PARTY_ADDRESS)?;

    let mut optionals = Optionals::default();
    if with_optional {
        let pos = ptr_pos + 3;
        let p = usize::from(*msg.get(pos).ok_or(DecodeError::Truncated("pointers"))?);
        if p != 0 {
            // The optional pointer is the last one, so it cannot point back into the fixed part.
            let target = pos + p;
            if target < end {
                return Err(DecodeError::OptionalPartBeforeEnd);
            }
            let at = msg
                .get(target..)
                .filter(|s| !s.is_empty())
                .ok_or(DecodeError::OptionalPointerOutOfRange)?;
            let (o, used) = optional_part(at)?;
            optionals = o;
            end = end.max(target + used);
        }
    }
    if end < msg.len() {
        return Err(DecodeError::TrailingBytes(msg.len() - end));
    }
    Ok(Body {
        called,
        calling,
        data,
        optionals,
    })
}

fn len_u8(param: ParameterName, len: usize) -> Result<u8, EncodeError> {
    u8::try_from(len).map_err(|_| EncodeError::ParameterTooLong { param, len })
}

fn ptr_u8(param: ParameterName, v: usize) -> Result<u8, EncodeError> {
    u8::try_from(v).map_err(|_| EncodeError::PointerOverflow(param))
}

/// Appends pointers, mandatory variable part and (if `optionals` is given) the optional part.
/// Everything is validated before the first octet is written, so `buf` is untouched on error.
pub(crate) fn encode_body(
    buf: &mut BytesMut,
    called: &SccpAddress,
    calling: &SccpAddress,
    data: &[u8],
    optionals: Option<&Optionals>,
) -> Result<(), EncodeError> {
    called.validate()?;
    calling.validate()?;
    if let Some(o) = optionals {
        if let Some(s) = &o.segmentation {
            s.validate()?;
        }
        if let Some(i) = o.importance {
            i.validate()?;
        }
    }
    let cl = len_u8(ParameterName::CALLED_PARTY_ADDRESS, called.encoded_len())?;
    let gl = len_u8(ParameterName::CALLING_PARTY_ADDRESS, calling.encoded_len())?;
    let dl = len_u8(ParameterName::DATA, data.len())?;
    let n: usize = if optionals.is_some() { 4 } else { 3 };
    // Offsets relative to the first pointer.
    let calling_off = n + 1 + usize::from(cl);
    let data_off = calling_off + 1 + usize::from(gl);
    let opt_off = data_off + 1 + usize::from(dl);
    let p_called = ptr_u8(ParameterName::CALLED_PARTY_ADDRESS, n)?;
    let p_calling = ptr_u8(ParameterName::CALLING_PARTY_ADDRESS, calling_off - 1)?;
    let p_data = ptr_u8(ParameterName::DATA, data_off - 2)?;
    let p_opt = match optionals {
        Some(o) if !o.is_empty() => Some(ptr_u8(
            ParameterName::END_OF_OPTIONAL_PARAMETERS,
            opt_off - 3,
        )?),
        Some(_) => Some(0),
        None => None,
    };

    buf.reserve(opt_off + optionals.map_or(0, Optionals::encoded_len));
    buf.put_u8(p_called);
    buf.put_u8(p_calling);
    buf.put_u8(p_data);
    if let Some(p) = p_opt {
        buf.put_u8(p);
    }
    buf.put_u8(cl);
    called.encode_unchecked(buf);
    buf.put_u8(gl);
    calling.encode_unchecked(buf);
    buf.put_u8(dl);
    buf.put_slice(data);
    if let Some(o) = optionals.filter(|o| !o.is_empty()) {
        if let Some(s) = &o.segmentation {
            buf.put_u8(ParameterName::SEGMENTATION.0);
            buf.put_u8(Segmentation::LEN);
            s.encode_value(buf);
        }
        if let Some(i) = o.importance {
            buf.put_u8(ParameterName::IMPORTANCE.0);
            buf.put_u8(Importance::LEN);
            buf.put_u8(i.0);
        }
        buf.put_u8(ParameterName::END_OF_OPTIONAL_PARAMETERS.0);
    }
    Ok(())
}

/// Reads the message type and the `N - 1` fixed octets after it, checking the type.
pub(crate) fn fixed<const N: usize>(
    msg: &[u8],
    expected: crate::MessageType,
) -> Result<[u8; N], DecodeError> {
    let (&t, _) = msg.split_first().ok_or(DecodeError::Empty)?;
    let found = crate::MessageType(t);
    if found != expected {
        return Err(DecodeError::UnexpectedMessageType { expected, found });
    }
    let (_, octets) = nom::bytes::complete::take::<_, _, nom::error::Error<&[u8]>>(N)(msg)
        .map_err(|_| DecodeError::Truncated("fixed part"))?;
    let mut out = [0; N];
    out.copy_from_slice(octets);
    Ok(out)
}
