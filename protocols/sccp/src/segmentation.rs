//! Segmentation parameter, ITU-T Q.713 §3.17 (optional in XUDT and XUDTS).
//!
//! ```text
//! octet 1:  bit 8 first segment indication (1 = first segment)
//!           bit 7 class (0 = class 0 selected, 1 = class 1 selected)
//!           bits 6-5 spare
//!           bits 4-1 remaining segments (0-15)
//! octets 2-4: segmentation local reference (opaque, kept in transmission order)
//! ```

use bytes::{BufMut, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::protocol_class::Class;
use crate::ParameterName;

/// The segmentation parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segmentation {
    /// True in the first segment of a segmented message.
    pub first_segment: bool,
    /// The protocol class the reassembled message uses.
    pub class: Class,
    /// Number of segments still to come (0–15).
    pub remaining_segments: u8,
    /// Segmentation local reference, three octets in transmission order.
    pub local_reference: [u8; 3],
}

impl Segmentation {
    /// Length of the parameter value.
    pub const LEN: u8 = 4;

    pub(crate) fn decode(v: &[u8]) -> Result<Self, DecodeError> {
        match v {
            [o, a, b, c] => Ok(Segmentation {
                first_segment: o & 0x80 != 0,
                class: if o & 0x40 != 0 {
                    Class::Class1
                } else {
                    Class::Class0
                },
                remaining_segments: o & 0x0f,
                local_reference: [*a, *b, *c],
            }),
            _ => Err(DecodeError::OptionalParameterLength {
                param: ParameterName::SEGMENTATION,
                len: v.len() as u8,
            }),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), EncodeError> {
        if self.remaining_segments > 15 {
            return Err(EncodeError::FieldOutOfRange {
                field: "remaining segments",
                value: self.remaining_segments,
            });
        }
        Ok(())
    }

    /// Writes the value (without name and length octets).
    pub(crate) fn encode_value(&self, buf: &mut BytesMut) {
        let mut o = self.remaining_segments & 0x0f;
        if self.first_segment {
            o |= 0x80;
        }
        if self.class == Class::Class1 {
            o |= 0x40;
        }
        buf.put_u8(o);
        buf.put_slice(&self.local_reference);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: 0xc2 = first segment, class 1, 2 remaining.
    #[test]
    fn octets() {
        let s = Segmentation::decode(&[0xc2, 0x01, 0x02, 0x03]).unwrap();
        assert_eq!(
            s,
            Segmentation {
                first_segment: true,
                class: Class::Class1,
                remaining_segments: 2,
                local_reference: [1, 2, 3]
            }
        );
        let mut b = BytesMut::new();
        s.encode_value(&mut b);
        assert_eq!(&b[..], &[0xc2, 0x01, 0x02, 0x03]);
        assert_eq!(
            Segmentation::decode(&[0xc2, 0x01]),
            Err(DecodeError::OptionalParameterLength {
                param: ParameterName::SEGMENTATION,
                len: 2
            })
        );
    }
}
