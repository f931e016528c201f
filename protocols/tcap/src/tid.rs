//! Transaction identifiers (Q.773 §3.1.2, §3.2, Table 11).
//!
//! ```asn1
//! OrigTransactionID ::= [APPLICATION 8] IMPLICIT OCTET STRING (SIZE (1..4))
//! DestTransactionID ::= [APPLICATION 9] IMPLICIT OCTET STRING (SIZE (1..4))
//! ```

use std::fmt;

use bytes::BytesMut;
use strowger_ber::{write_tlv, Tag};

/// A transaction id of 1 to 4 octets, kept inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId {
    bytes: [u8; 4],
    len: u8,
}

impl TransactionId {
    /// The tag of the originating transaction id.
    pub const OTID_TAG: Tag = Tag::app(8);
    /// The tag of the destination transaction id.
    pub const DTID_TAG: Tag = Tag::app(9);

    /// A transaction id from its octets; `None` unless 1 to 4 octets.
    pub fn new(octets: &[u8]) -> Option<Self> {
        if octets.is_empty() || octets.len() > 4 {
            return None;
        }
        let mut bytes = [0u8; 4];
        bytes[..octets.len()].copy_from_slice(octets);
        Some(TransactionId {
            bytes,
            len: octets.len() as u8,
        })
    }

    /// A four-octet transaction id, big-endian (how Strowger allocates its own).
    pub const fn from_u32(v: u32) -> Self {
        TransactionId {
            bytes: v.to_be_bytes(),
            len: 4,
        }
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The octets read as a big-endian unsigned number.
    pub fn to_u32(&self) -> u32 {
        self.as_bytes()
            .iter()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
    }

    pub(crate) fn write(&self, buf: &mut BytesMut, tag: Tag) {
        write_tlv(buf, tag, self.as_bytes());
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tid(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(TransactionId::new(&[]).is_none());
        assert!(TransactionId::new(&[1, 2, 3, 4, 5]).is_none());
        let t = TransactionId::new(&[0x01, 0x02]).unwrap();
        assert_eq!(t.as_bytes(), &[1, 2]);
        assert_eq!(t.to_u32(), 0x0102);
        assert_eq!(TransactionId::from_u32(0xdeadbeef).to_string(), "deadbeef");
    }
}
