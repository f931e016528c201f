//! Tag-length-value parsing (X.690 §8.1), zero-copy.

use nom::IResult;

use crate::error::BerError;
use crate::tag::{Class, Tag};

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

fn take1(input: &[u8]) -> Result<(u8, &[u8]), nom::Err<BerError>> {
    match input.split_first() {
        Some((b, rest)) => Ok((*b, rest)),
        None => Err(nom::Err::Error(BerError::Truncated)),
    }
}

/// Parse identifier octets.
pub(crate) fn parse_tag(input: &[u8]) -> IResult<&[u8], Tag, BerError> {
    let (first, mut rest) = take1(input)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        let mut count = 0;
        loop {
            let (b, r) = take1(rest)?;
            rest = r;
            count += 1;
            if count > 5 || number > (u32::MAX >> 7) {
                return Err(nom::Err::Error(BerError::TagTooLarge));
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    Ok((
        rest,
        Tag {
            class,
            constructed,
            number,
        },
    ))
}

/// Parsed length octets: `None` for the indefinite form.
fn parse_length(input: &[u8]) -> IResult<&[u8], Option<usize>, BerError> {
    let (first, rest) = take1(input)?;
    match first {
        0x00..=0x7f => Ok((rest, Some(usize::from(first)))),
        0x80 => Ok((rest, None)),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            if rest.len() < n {
                return Err(nom::Err::Error(BerError::Truncated));
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            Ok((&rest[n..], Some(len)))
        }
        _ => Err(nom::Err::Error(BerError::BadLength)),
    }
}

/// Parse one TLV at the top nesting level. Never panics; the value is always inside `input`.
pub fn parse_tlv(input: &[u8]) -> IResult<&[u8], Tlv<'_>, BerError> {
    parse_tlv_depth(input, 0)
}

/// Parse one TLV found at nesting `depth` (for callers that recurse themselves).
pub fn parse_tlv_depth(input: &[u8], depth: usize) -> IResult<&[u8], Tlv<'_>, BerError> {
    let (rest, tag) = parse_tag(input)?;
    let (rest, len) = parse_length(rest)?;
    match len {
        Some(len) => {
            if rest.len() < len {
                return Err(nom::Err::Error(BerError::Truncated));
            }
            let (value, after) = rest.split_at(len);
            let raw = &input[..input.len() - after.len()];
            Ok((
                after,
                Tlv {
                    tag,
                    value,
                    indefinite: false,
                    raw,
                },
            ))
        }
        None => {
            if !tag.constructed {
                return Err(nom::Err::Error(BerError::IndefinitePrimitive));
            }
            if depth >= MAX_DEPTH {
                return Err(nom::Err::Error(BerError::TooDeep));
            }
            // Walk the children until the end-of-contents octets.
            let mut cursor = rest;
            loop {
                if cursor.len() >= 2 && cursor[0] == 0 && cursor[1] == 0 {
                    let value = &rest[..rest.len() - cursor.len()];
                    let after = &cursor[2..];
                    return Ok((
                        after,
                        Tlv {
                            tag,
                            value,
                            indefinite: true,
                            raw: &input[..input.len() - after.len()],
                        },
                    ));
                }
                if cursor.is_empty() {
                    return Err(nom::Err::Error(BerError::Truncated));
                }
                let (next, _) = parse_tlv_depth(cursor, depth + 1)?;
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
