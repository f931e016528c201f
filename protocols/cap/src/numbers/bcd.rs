//! BCD-coded numbers of the mobile core: TS 29.002 `AddressString` / `ISDN-AddressString`
//! (mscAddress, gmscAddress, VLR number), TS 24.008 §10.5.4.7 CalledPartyBCDNumber (the
//! number as dialled by the mobile), and the TBCD IMSI of TS 29.002 §17.7.8.
//!
//! ```text
//! AddressString / CalledPartyBCDNumber:
//!   octet 1   8 ext (1) | 7-5 nature of address / type of number | 4-1 numbering plan
//!   octets 2+ TBCD digits, first in bits 4-1; an odd count is padded with 1111
//! TBCD (24.008 table 10.5.118): 0-9, 1010 '*', 1011 '#', 1100 'a', 1101 'b', 1110 'c',
//!   1111 end mark / filler.
//! ```

use super::{pack_bcd, unpack_tbcd, Digits, NumberBuf, TBCD};
use crate::error::{CapError, CapResult};

/// An `AddressString` (TS 29.002 §17.7.8) or a CalledPartyBCDNumber (TS 24.008): one
/// type-of-number/numbering-plan octet and TBCD digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressString {
    /// Nature of address / type of number (3 bits): 0 unknown, 1 international, 2 national,
    /// 3 network specific, 4 subscriber / dedicated access, 6 abbreviated.
    pub nature: u8,
    /// Numbering plan (4 bits): 1 ISDN/E.164, 3 data, 4 telex, 6 land mobile, 8 national,
    /// 9 private.
    pub npi: u8,
    /// The digits.
    pub digits: Digits,
}

/// `ISDN-AddressString` (an AddressString of at most 9 octets).
pub type IsdnAddressString = AddressString;
/// TS 24.008 CalledPartyBCDNumber contents (without IEI and length), as in InitialDP [56].
pub type CalledPartyBcdNumber = AddressString;

impl AddressString {
    /// International E.164 number.
    pub const INTERNATIONAL: u8 = 1;
    /// National number.
    pub const NATIONAL: u8 = 2;
    /// Unknown type of number.
    pub const UNKNOWN: u8 = 0;
    /// ISDN / telephony numbering plan.
    pub const ISDN: u8 = 1;

    /// An international E.164 address.
    pub fn international(digits: &str) -> CapResult<Self> {
        Ok(AddressString {
            nature: Self::INTERNATIONAL,
            npi: Self::ISDN,
            digits: Digits::from_str(digits)?,
        })
    }

    /// Decode the contents octets.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let [o1, rest @ ..] = b else {
            return Err(CapError::UnexpectedDataValue("AddressString"));
        };
        Ok(AddressString {
            nature: (o1 >> 4) & 0x07,
            npi: o1 & 0x0f,
            digits: unpack_tbcd(rest)?,
        })
    }

    /// Encode the contents octets (extension bit set).
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        out.push(0x80 | ((self.nature & 0x07) << 4) | (self.npi & 0x0f))?;
        pack_bcd(&TBCD, &self.digits, 0x0f, &mut out)?;
        Ok(out)
    }
}

/// An IMSI (TS 29.002 `IMSI ::= TBCD-STRING (SIZE (3..8))`): MCC, MNC and MSIN digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Imsi {
    /// The 6–15 digits.
    pub digits: Digits,
}

impl Imsi {
    /// Decode the contents octets.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        if !(3..=8).contains(&b.len()) {
            return Err(CapError::OutOfRange("IMSI length"));
        }
        let digits = unpack_tbcd(b)?;
        if !digits.as_bytes().iter().all(u8::is_ascii_digit) {
            return Err(CapError::UnexpectedDataValue("IMSI digit"));
        }
        Ok(Imsi { digits })
    }

    /// Encode the contents octets.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        pack_bcd(&TBCD, &self.digits, 0x0f, &mut out)?;
        Ok(out)
    }

    /// The mobile country code (first three digits).
    pub fn mcc(&self) -> &str {
        self.digits.as_str().get(..3).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_string_fixture() {
        // mscAddress 91 44 97 00 00 00 f1 : international/ISDN, "447900000001"... odd -> filler
        let b = [0x91, 0x44, 0x97, 0x00, 0x00, 0x10, 0xf2];
        let a = AddressString::decode(&b).unwrap();
        assert_eq!(a.nature, AddressString::INTERNATIONAL);
        assert_eq!(a.npi, AddressString::ISDN);
        assert_eq!(a.digits, "44790000012");
        assert_eq!(a.encode().unwrap().as_bytes(), &b);
        // CalledPartyBCDNumber with '*' and '#': "*100#" -> 81 a1 00 fb? (even count 5 -> odd)
        let c = CalledPartyBcdNumber {
            nature: 0,
            npi: 1,
            digits: Digits::from_str("*100#").unwrap(),
        };
        let e = c.encode().unwrap();
        assert_eq!(e.as_bytes(), &[0x81, 0x1a, 0x00, 0xfb]);
        assert_eq!(CalledPartyBcdNumber::decode(&e).unwrap(), c);
    }

    #[test]
    fn imsi_tbcd() {
        // IMSI 234150999999999 (15 digits): 32 14 05 99 99 99 99 f9
        let b = [0x32, 0x14, 0x05, 0x99, 0x99, 0x99, 0x99, 0xf9];
        let i = Imsi::decode(&b).unwrap();
        assert_eq!(i.digits, "234150999999999");
        assert_eq!(i.mcc(), "234");
        assert_eq!(i.encode().unwrap().as_bytes(), &b);
        assert!(Imsi::decode(&[0x32, 0x14]).is_err());
        assert!(Imsi::decode(&[0x32, 0xf4, 0x05]).is_err());
    }
}
