//! Tag-length-value parsing (X.690 §8.1), zero-copy.

use nom::IResult;

use crate::error::BerError;
use crate::tag::Tag;

/// The deepest nesting of indefinite-length values accepted. Definite-length values are not
/// recursed into by this layer at all, so this bounds the only recursion on untrusted input.
pub const MAX_DEPTH: usize = 16;

/// One decoded tag-length-value, borrowing its contents from the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The contents octets (for the indefinite form, without the end-of-contents octets).
    pub value: &'a [u8],
    /// True if the value was encoded with the indefinite length form.
    pub indefinite: bool,
    /// The complete encoding: identifier, length and contents octets (and, for the
    /// indefinite form, the end-of-contents octets), e.g. to hand an ASN.1 `ANY` on.
    pub raw: &'a [u8],
}

impl std::fmt::Debug for Tlv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} len {}", self.tag, self.value.len())
    }
}

impl<'a> Tlv<'a> {
    /// Fail unless the tag is `tag`.
    #[inline]
    pub fn expect(self, tag: Tag) -> Result<Self, BerError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(BerError::UnexpectedTag {
                expected: tag,
                found: self.tag,
            })
        }
    }
}

fn take1(input: &[u8]) -> Result<(u8, &[u8]), BerError> {
    match input.split_first() {
        Some((b, rest)) => Ok((*b, rest)),
        None => Err(BerError::Truncated),
    }
}

/// Parse identifier octets.
#[inline]
fn tag_of(input: &[u8]) -> Result<(Tag, &[u8]), BerError> {
    let (first, rest) = take1(input)?;
    if first & 0x1f != 0x1f {
        return Ok((Tag::from_short(first), rest));
    }
    long_tag(first, rest)
}

/// The long form of the identifier octets (tag number ≥ 31).
fn long_tag(first: u8, mut rest: &[u8]) -> Result<(Tag, &[u8]), BerError> {
    let mut number = 0u32;
    let mut count = 0;
    loop {
        let (b, r) = take1(rest)?;
        rest = r;
        count += 1;
        if count > 5 || number > (u32::MAX >> 7) {
            return Err(BerError::TagTooLarge);
        }
        number = (number << 7) | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((
        Tag {
            number,
            ..Tag::from_short(first)
        },
        rest,
    ))
}

/// Parsed length octets: `None` for the indefinite form.
#[inline]
fn length_of(input: &[u8]) -> Result<(Option<usize>, &[u8]), BerError> {
    let (first, rest) = take1(input)?;
    match first {
        0x00..=0x7f => Ok((Some(usize::from(first)), rest)),
        0x80 => Ok((None, rest)),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let Some((octets, rest)) = rest.split_at_checked(n) else {
                return Err(BerError::Truncated);
            };
            let len = octets
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            Ok((Some(len), rest))
        }
        _ => Err(BerError::BadLength),
    }
}

/// Parse one TLV at the top nesting level. Never panics; the value is always inside `input`.
#[inline]
pub fn parse_tlv(input: &[u8]) -> IResult<&[u8], Tlv<'_>, BerError> {
    parse_tlv_depth(input, 0)
}

/// Parse one TLV found at nesting `depth` (for callers that recurse themselves).
#[inline]
pub fn parse_tlv_depth(input: &[u8], depth: usize) -> IResult<&[u8], Tlv<'_>, BerError> {
    match tlv_at(input, depth) {
        Ok((tlv, rest)) => Ok((rest, tlv)),
        Err(e) => Err(nom::Err::Error(e)),
    }
}

/// Parse one TLV at nesting `depth`: the TLV and the bytes after it. The common cases, a
/// one- or two-octet tag with a definite length of at most one length octet, are handled
/// inline; everything else (and every error) goes through the general parser.
#[inline]
pub(crate) fn tlv_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), BerError> {
    let (tag, rest) = match input {
        [first, rest @ ..] if first & 0x1f != 0x1f => (Tag::from_short(*first), rest),
        [first, second, rest @ ..] if *second < 0x80 => (
            Tag {
                number: u32::from(*second),
                ..Tag::from_short(*first)
            },
            rest,
        ),
        _ => return tlv_slow(input, depth),
    };
    let (len, rest) = match rest {
        [len, rest @ ..] if *len < 0x80 => (usize::from(*len), rest),
        [0x81, len, rest @ ..] => (usize::from(*len), rest),
        _ => return tlv_slow(input, depth),
    };
    let Some((value, after)) = rest.split_at_checked(len) else {
        return Err(BerError::Truncated);
    };
    Ok((
        Tlv {
            tag,
            value,
            indefinite: false,
            raw: &input[..input.len() - after.len()],
        },
        after,
    ))
}

/// Long-form tags and lengths, and the indefinite form.
#[inline(never)]
fn tlv_slow(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), BerError> {
    let (tag, rest) = tag_of(input)?;
    let (len, rest) = length_of(rest)?;
    match len {
        Some(len) => {
            let Some((value, after)) = rest.split_at_checked(len) else {
                return Err(BerError::Truncated);
            };
            let raw = &input[..input.len() - after.len()];
            Ok((
                Tlv {
                    tag,
                    value,
                    indefinite: false,
                    raw,
                },
                after,
            ))
        }
        None => {
            if !tag.constructed {
                return Err(BerError::IndefinitePrimitive);
            }
            if depth >= MAX_DEPTH {
                return Err(BerError::TooDeep);
            }
            // Walk the children until the end-of-contents octets.
            let mut cursor = rest;
            loop {
                if let [0, 0, after @ ..] = cursor {
                    let value = &rest[..rest.len() - cursor.len()];
                    return Ok((
                        Tlv {
                            tag,
                            value,
                            indefinite: true,
                            raw: &input[..input.len() - after.len()],
                        },
                        after,
                    ));
                }
                if cursor.is_empty() {
                    return Err(BerError::Truncated);
                }
                let (_, next) = tlv_at(cursor, depth + 1)?;
                cursor = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_tags() {
        let (_, t) = parse_tlv(&[0x9f, 0x36, 0x01, 0xaa]).unwrap();
        assert_eq!(t.tag, Tag::ctx(54));
        assert_eq!(t.value, &[0xaa]);
        assert_eq!(t.raw, &[0x9f, 0x36, 0x01, 0xaa]);
        let (_, t) = parse_tlv(&[0xbf, 0x81, 0x00, 0x00]).unwrap();
        assert_eq!(t.tag, Tag::ctx_cons(128));
    }

    #[test]
    fn long_form_lengths() {
        let mut v = vec![0x04, 0x82, 0x01, 0x00];
        v.extend(std::iter::repeat(7u8).take(256));
        let (rest, t) = parse_tlv(&v).unwrap();
        assert!(rest.is_empty());
        assert_eq!(t.value.len(), 256);
        assert_eq!(
            parse_tlv(&[0x04, 0x85, 0, 0, 0, 0, 1]).unwrap_err(),
            nom::Err::Error(BerError::BadLength)
        );
        assert_eq!(
            parse_tlv(&[0x04, 0x82, 0x01]).unwrap_err(),
            nom::Err::Error(BerError::Truncated)
        );
    }

    #[test]
    fn indefinite_lengths() {
        // SEQUENCE (indef) { [0] 01, SEQUENCE (indef) { NULL } }
        let v = [
            0x30, 0x80, 0x80, 0x01, 0x01, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
        ];
        let (rest, t) = parse_tlv(&v).unwrap();
        assert_eq!(rest, &[0xff]);
        assert!(t.indefinite);
        assert_eq!(t.value, &v[2..11]);
        assert_eq!(t.raw, &v[..13]);
        // indefinite on primitive
        assert_eq!(
            parse_tlv(&[0x04, 0x80, 0x00, 0x00]).unwrap_err(),
            nom::Err::Error(BerError::IndefinitePrimitive)
        );
        // unterminated
        assert!(parse_tlv(&[0x30, 0x80, 0x05, 0x00]).is_err());
    }

    #[test]
    fn depth_limit() {
        let mut v = Vec::new();
        for _ in 0..100 {
            v.extend([0x30, 0x80]);
        }
        for _ in 0..100 {
            v.extend([0x00, 0x00]);
        }
        assert_eq!(
            parse_tlv(&v).unwrap_err(),
            nom::Err::Error(BerError::TooDeep)
        );
    }

    #[test]
    fn tag_overflow() {
        assert_eq!(
            parse_tlv(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]).unwrap_err(),
            nom::Err::Error(BerError::TagTooLarge)
        );
    }
}
