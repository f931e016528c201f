//! Q.763 §3.24 Generic digits, the format of CAP `Digits` where TS 29.078 §5.1 says
//! "Generic Digits" (digitsResponse of ReceivedInformationArg, CorrelationID in
//! EstablishTemporaryConnection, VariablePart number, midCallEvents).
//!
//! ```text
//! octet 1   8-6 encoding scheme | 5-1 type of digits
//! octet 2+  digits: BCD even (0) / BCD odd (1), two per octet, first in bits 4-1,
//!           1011 = '*', 1100 = '#'; or IA5 (2), one character per octet
//! ```

use super::{pack_bcd, unpack_bcd, Digits, NumberBuf, GENERIC};
use crate::error::{CapError, CapResult};

/// The encoding scheme of Generic Digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigitsEncoding {
    /// BCD, two digits an octet (even/odd chosen from the count when encoding).
    Bcd,
    /// IA5, one character an octet (digits, `*`, `#`, `a`–`d` per TS 29.078).
    Ia5,
}

/// Generic digits, e.g. a PIN collected by PromptAndCollectUserInformation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GenericDigits {
    /// Encoding scheme.
    pub encoding: DigitsEncoding,
    /// Type of digits (5 bits; irrelevant to CAP, kept for the round trip).
    pub type_of_digits: u8,
    /// The digits.
    pub digits: Digits,
}

impl GenericDigits {
    /// BCD-encoded digits with type of digits 0.
    pub fn bcd(digits: &str) -> CapResult<Self> {
        Ok(GenericDigits {
            encoding: DigitsEncoding::Bcd,
            type_of_digits: 0,
            digits: Digits::from_str(digits)?,
        })
    }

    /// Decode the contents octets. The binary scheme (3) is refused.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let [o1, rest @ ..] = b else {
            return Err(CapError::UnexpectedDataValue("GenericDigits"));
        };
        let type_of_digits = o1 & 0x1f;
        match o1 >> 5 {
            scheme @ (0 | 1) => {
                let odd = scheme == 1;
                let count = (rest.len() * 2).saturating_sub(usize::from(odd && !rest.is_empty()));
                Ok(GenericDigits {
                    encoding: DigitsEncoding::Bcd,
                    type_of_digits,
                    digits: unpack_bcd(&GENERIC, rest, count)?,
                })
            }
            2 => {
                let mut digits = Digits::EMPTY;
                for c in rest {
                    let c = c & 0x7f;
                    if !matches!(c, b'0'..=b'9' | b'*' | b'#' | b'a'..=b'c' | b'A'..=b'F') {
                        return Err(CapError::UnexpectedDataValue("IA5 digit"));
                    }
                    digits.push(c)?;
                }
                Ok(GenericDigits {
                    encoding: DigitsEncoding::Ia5,
                    type_of_digits,
                    digits,
                })
            }
            _ => Err(CapError::UnexpectedDataValue(
                "GenericDigits encoding scheme",
            )),
        }
    }

    /// Encode the contents octets.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        let t = self.type_of_digits & 0x1f;
        match self.encoding {
            DigitsEncoding::Bcd => {
                let scheme = u8::from(self.digits.len() % 2 == 1);
                out.push((scheme << 5) | t)?;
                pack_bcd(&GENERIC, &self.digits, 0, &mut out)?;
            }
            DigitsEncoding::Ia5 => {
                out.push((2 << 5) | t)?;
                out.extend(self.digits.as_bytes())?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_digits() {
        // PIN "1234#" BCD odd: 0x20 | type 0 ; 21 43 0c
        let g = GenericDigits::bcd("1234#").unwrap();
        let e = g.encode().unwrap();
        assert_eq!(e.as_bytes(), &[0x20, 0x21, 0x43, 0x0c]);
        assert_eq!(GenericDigits::decode(&e).unwrap(), g);
        // IA5 "12*"
        let g = GenericDigits::decode(&[0x40, b'1', b'2', b'*']).unwrap();
        assert_eq!(g.encoding, DigitsEncoding::Ia5);
        assert_eq!(g.digits, "12*");
        assert!(GenericDigits::decode(&[0x60, 0x01]).is_err());
    }
}
