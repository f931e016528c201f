//! Protocol class, ITU-T Q.713 §3.6.
//!
//! Bits 4–1 give the class; for the connectionless classes 0 and 1, bits 8–5 give the message
//! handling: `0000` no special options, `1000` return message on error. Bits 7–5 are spare.

/// Connectionless protocol class (Q.713 §3.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Class 0: basic connectionless.
    Class0,
    /// Class 1: sequenced connectionless (in-sequence delivery by SLS).
    Class1,
}

/// The protocol class parameter of a UDT or XUDT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolClass {
    /// Class 0 or 1.
    pub class: Class,
    /// "Return message on error": a message that cannot be delivered is answered with UDTS/XUDTS.
    pub return_on_error: bool,
}

impl ProtocolClass {
    /// Class 0 without return option.
    pub const CLASS0: ProtocolClass = ProtocolClass {
        class: Class::Class0,
        return_on_error: false,
    };
    /// Class 1 without return option.
    pub const CLASS1: ProtocolClass = ProtocolClass {
        class: Class::Class1,
        return_on_error: false,
    };

    /// Decodes the octet; classes 2 and 3 are connection-oriented and rejected.
    pub(crate) fn from_octet(o: u8) -> Result<Self, crate::DecodeError> {
        let class = match o & 0x0f {
            0 => Class::Class0,
            1 => Class::Class1,
            n => return Err(crate::DecodeError::InvalidProtocolClass(n)),
        };
        Ok(ProtocolClass {
            class,
            return_on_error: o & 0x80 != 0,
        })
    }

    /// The octet on the wire.
    pub fn to_octet(self) -> u8 {
        let c = match self.class {
            Class::Class0 => 0,
            Class::Class1 => 1,
        };
        c | if self.return_on_error { 0x80 } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octets() {
        assert_eq!(
            ProtocolClass::from_octet(0x81),
            Ok(ProtocolClass {
                class: Class::Class1,
                return_on_error: true
            })
        );
        assert_eq!(ProtocolClass::from_octet(0x00), Ok(ProtocolClass::CLASS0));
        // spare bits 7-5 ignored
        assert_eq!(ProtocolClass::from_octet(0x71), Ok(ProtocolClass::CLASS1));
        assert_eq!(
            ProtocolClass::from_octet(0x02),
            Err(crate::DecodeError::InvalidProtocolClass(2))
        );
        assert_eq!(
            ProtocolClass::from_octet(0x80).map(|p| p.to_octet()),
            Ok(0x80)
        );
    }
}
