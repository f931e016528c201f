//! Importance parameter, ITU-T Q.713 §3.19 (optional in XUDT and XUDTS): bits 3–1 carry the
//! importance 0 (least) to 7 (most); bits 8–4 are spare.

use crate::error::{DecodeError, EncodeError};
use crate::ParameterName;

/// Importance, 0–7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Importance(pub u8);

impl Importance {
    /// Length of the parameter value.
    pub const LEN: u8 = 1;
    /// Highest importance.
    pub const MAX: u8 = 7;

    pub(crate) fn decode(v: &[u8]) -> Result<Self, DecodeError> {
        match v {
            [o] => Ok(Importance(o & 0x07)),
            _ => Err(DecodeError::OptionalParameterLength {
                param: ParameterName::IMPORTANCE,
                len: v.len() as u8,
            }),
        }
    }

    pub(crate) fn validate(self) -> Result<(), EncodeError> {
        if self.0 > Self::MAX {
            return Err(EncodeError::FieldOutOfRange {
                field: "importance",
                value: self.0,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_bits_ignored() {
        assert_eq!(Importance::decode(&[0xfd]), Ok(Importance(5)));
        assert!(Importance::decode(&[]).is_err());
        assert!(Importance(8).validate().is_err());
    }
}
