//! OBJECT IDENTIFIER values (X.690 §8.19) kept as their encoded contents octets, inline:
//! application-context names, the dialogue abstract-syntax names, global operation and
//! error codes.

use std::fmt;
use std::str::FromStr;

use bytes::BytesMut;
use strowger_ber::{write_tlv, Tag};

/// The longest OID contents accepted (every AC name in use is under 12 octets).
pub const MAX_OID_LEN: usize = 32;

/// An OBJECT IDENTIFIER stored as its BER contents octets (no tag, no length).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectId {
    bytes: [u8; MAX_OID_LEN],
    len: u8,
}

/// A dotted OID string that could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid OBJECT IDENTIFIER: {0}")]
pub struct ParseOidError(&'static str);

impl ObjectId {
    /// `dialogue-as-id` {itu-t recommendation q 773 as(1) dialogue-as(1) version1(1)}:
    /// 0.0.17.773.1.1.1.
    pub const DIALOGUE_AS_ID: ObjectId =
        ObjectId::from_encoded_const(&[0x00, 0x11, 0x86, 0x05, 0x01, 0x01, 0x01]);
    /// `uniDialogue-as-id` {itu-t recommendation q 773 as(1) unidialogue-as(2) version1(1)}:
    /// 0.0.17.773.1.2.1.
    pub const UNIDIALOGUE_AS_ID: ObjectId =
        ObjectId::from_encoded_const(&[0x00, 0x11, 0x86, 0x05, 0x01, 0x02, 0x01]);

    /// An OID from encoded contents octets, for constants. Evaluated in a `const` the
    /// compiler rejects contents longer than [`MAX_OID_LEN`].
    pub const fn from_encoded_const(encoded: &[u8]) -> ObjectId {
        assert!(encoded.len() <= MAX_OID_LEN, "OID too long");
        let mut bytes = [0u8; MAX_OID_LEN];
        let mut i = 0;
        while i < encoded.len() {
            bytes[i] = encoded[i];
            i += 1;
        }
        ObjectId {
            bytes,
            len: encoded.len() as u8,
        }
    }

    /// An OID from its contents octets, checked: non-empty, at most [`MAX_OID_LEN`]
    /// octets, the last sub-identifier terminated, no sub-identifier with a leading 0x80.
    pub fn from_encoded(encoded: &[u8]) -> Option<ObjectId> {
        if encoded.is_empty() || encoded.len() > MAX_OID_LEN {
            return None;
        }
        if encoded[encoded.len() - 1] & 0x80 != 0 {
            return None;
        }
        let mut start = true;
        for b in encoded {
            if start && *b == 0x80 {
                return None;
            }
            start = b & 0x80 == 0;
        }
        let mut bytes = [0u8; MAX_OID_LEN];
        bytes.get_mut(..encoded.len())?.copy_from_slice(encoded);
        Some(ObjectId {
            bytes,
            len: encoded.len() as u8,
        })
    }

    /// An OID from its arcs; `None` if the arcs are not a valid OID or too long.
    pub fn from_arcs(arcs: &[u64]) -> Option<ObjectId> {
        if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) {
            return None;
        }
        let mut out = [0u8; MAX_OID_LEN];
        let mut n = 0;
        let first = arcs[0].checked_mul(40)?.checked_add(arcs[1])?;
        let mut push_arc = |v: u64| -> Option<()> {
            let mut groups = [0u8; 10];
            let mut g = 0;
            let mut v = v;
            loop {
                groups[g] = (v & 0x7f) as u8;
                g += 1;
                v >>= 7;
                if v == 0 {
                    break;
                }
            }
            for i in (0..g).rev() {
                if n >= MAX_OID_LEN {
                    return None;
                }
                out[n] = groups[i] | if i > 0 { 0x80 } else { 0 };
                n += 1;
            }
            Some(())
        };
        push_arc(first)?;
        for a in &arcs[2..] {
            push_arc(*a)?;
        }
        ObjectId::from_encoded(&out[..n])
    }

    /// The contents octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The arcs, first two split out of the first sub-identifier as X.690 §8.19.4 says.
    pub fn arcs(&self) -> impl Iterator<Item = u64> + '_ {
        let mut subs = SubIds {
            rest: self.as_bytes(),
        };
        let mut pending: Option<u64> = None;
        let mut first = true;
        std::iter::from_fn(move || {
            if let Some(p) = pending.take() {
                return Some(p);
            }
            let v = subs.next()?;
            if first {
                first = false;
                let (a, b) = match v {
                    0..=39 => (0, v),
                    40..=79 => (1, v - 40),
                    _ => (2, v - 80),
                };
                pending = Some(b);
                Some(a)
            } else {
                Some(v)
            }
        })
    }

    /// True if `self` begins with all the arcs of `prefix` (e.g. an AC family).
    pub fn starts_with(&self, prefix: &ObjectId) -> bool {
        self.as_bytes().starts_with(prefix.as_bytes())
    }

    /// Write as a universal OBJECT IDENTIFIER TLV.
    pub fn write(&self, buf: &mut BytesMut) {
        write_tlv(buf, Tag::OID, self.as_bytes());
    }
}

struct SubIds<'a> {
    rest: &'a [u8],
}

impl Iterator for SubIds<'_> {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        if self.rest.is_empty() {
            return None;
        }
        let mut v: u64 = 0;
        while let Some((b, r)) = self.rest.split_first() {
            self.rest = r;
            v = (v << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        Some(v)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.arcs().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

impl FromStr for ObjectId {
    type Err = ParseOidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut arcs = [0u64; MAX_OID_LEN];
        let mut n = 0;
        for part in s.trim().split('.') {
            if n >= MAX_OID_LEN {
                return Err(ParseOidError("too many arcs"));
            }
            arcs[n] = part
                .parse()
                .map_err(|_| ParseOidError("arc is not a number"))?;
            n += 1;
        }
        ObjectId::from_arcs(&arcs[..n]).ok_or(ParseOidError("arcs out of range or too long"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_forms() {
        assert_eq!(ObjectId::DIALOGUE_AS_ID.to_string(), "0.0.17.773.1.1.1");
        assert_eq!(ObjectId::UNIDIALOGUE_AS_ID.to_string(), "0.0.17.773.1.2.1");
        let cap2: ObjectId = "0.4.0.0.1.0.50.1".parse().unwrap();
        assert_eq!(cap2.as_bytes(), &[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01]);
        assert_eq!(cap2.to_string(), "0.4.0.0.1.0.50.1");
        let d: ObjectId = "0.0.17.773.1.1.1".parse().unwrap();
        assert_eq!(d, ObjectId::DIALOGUE_AS_ID);
        let big: ObjectId = "2.999.1".parse().unwrap();
        assert_eq!(big.to_string(), "2.999.1");
        assert!("0.40".parse::<ObjectId>().is_err());
        assert!("x".parse::<ObjectId>().is_err());
        assert!(ObjectId::from_encoded(&[0x86]).is_none());
        assert!(ObjectId::from_encoded(&[0x80, 0x01]).is_none());
    }
}
