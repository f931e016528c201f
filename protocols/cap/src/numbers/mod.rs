//! Number formats carried inside CAP/INAP OCTET STRINGs, decoded without allocation.
//!
//! - [`isup`]: ITU-T Q.763 §3 / ETSI EN 300 356-1 CalledPartyNumber (§3.9), CallingPartyNumber
//!   (§3.10), GenericNumber (§3.26), LocationNumber (§3.30), RedirectingNumber (§3.44) and
//!   OriginalCalledNumber (§3.39).
//! - [`bcd`]: 3GPP TS 24.008 §10.5.4.7 CalledPartyBCDNumber, TS 29.002 AddressString /
//!   ISDN-AddressString and TBCD IMSI.
//! - [`cause`]: ITU-T Q.850 Cause (Q.763 §3.12).
//! - [`generic_digits`]: Q.763 §3.24 Generic Digits, as used by CAP `Digits` for collected
//!   PINs (digitsResponse) and correlation ids.
//!
//! Digits are held in [`Digits`], an inline ASCII string; encoders write into [`NumberBuf`],
//! an inline byte buffer whose slice is what an operation field borrows.

pub mod bcd;
pub mod cause;
pub mod generic_digits;
pub mod isup;

use std::fmt;

use crate::error::{CapError, CapResult};

pub use bcd::{AddressString, CalledPartyBcdNumber, Imsi, IsdnAddressString};
pub use cause::{Cause, CauseLocation, CauseValue};
pub use generic_digits::{DigitsEncoding, GenericDigits};
pub use isup::{
    CalledPartyNumber, CallingPartyNumber, GenericNumber, LocationNumber, NatureOfAddress,
    NumberingPlan, OriginalCalledNumber, Presentation, RedirectingNumber, Screening,
};

/// Most digits a [`Digits`] holds (a 20-octet AddressString carries 40).
pub const MAX_DIGITS: usize = 40;

/// A digit string held inline (no heap): ASCII `0-9`, `*`, `#`, `a-c` and `A-F`, with the
/// meaning each format gives its non-decimal codes (see the format's docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digits {
    len: u8,
    buf: [u8; MAX_DIGITS],
}

impl Digits {
    /// No digits.
    pub const EMPTY: Digits = Digits {
        len: 0,
        buf: [0; MAX_DIGITS],
    };

    /// Digits from a string; fails on other characters or more than [`MAX_DIGITS`].
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> CapResult<Self> {
        let mut d = Digits::EMPTY;
        for c in s.bytes() {
            if !matches!(c, b'0'..=b'9' | b'*' | b'#' | b'a'..=b'c' | b'A'..=b'F') {
                return Err(CapError::UnexpectedDataValue("digit character"));
            }
            d.push(c)?;
        }
        Ok(d)
    }

    pub(crate) fn push(&mut self, c: u8) -> CapResult<()> {
        let i = usize::from(self.len);
        if i >= MAX_DIGITS {
            return Err(CapError::OutOfRange("too many digits"));
        }
        self.buf[i] = c;
        self.len += 1;
        Ok(())
    }

    /// The digits as a string slice.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The digits as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when there are no digits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::EMPTY
    }
}

impl std::str::FromStr for Digits {
    type Err = CapError;
    fn from_str(s: &str) -> CapResult<Self> {
        Digits::from_str(s)
    }
}

impl fmt::Debug for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Digits {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Digits {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Capacity of a [`NumberBuf`].
pub const NUMBER_BUF_LEN: usize = 48;

/// An encoded number held inline, ready to be borrowed by an operation field.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NumberBuf {
    len: u8,
    buf: [u8; NUMBER_BUF_LEN],
}

impl NumberBuf {
    pub(crate) const fn new() -> Self {
        NumberBuf {
            len: 0,
            buf: [0; NUMBER_BUF_LEN],
        }
    }

    pub(crate) fn push(&mut self, b: u8) -> CapResult<()> {
        let i = usize::from(self.len);
        if i >= NUMBER_BUF_LEN {
            return Err(CapError::OutOfRange("encoded number too long"));
        }
        self.buf[i] = b;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn extend(&mut self, s: &[u8]) -> CapResult<()> {
        s.iter().try_for_each(|b| self.push(*b))
    }

    /// The encoded octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl std::ops::Deref for NumberBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for NumberBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for NumberBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// How a format maps the 16 nibble values to characters (`0` = not allowed).
pub(crate) type Alphabet = [u8; 16];

/// Q.763 address signals: 0–9, code 11 (`B`), code 12 (`C`), ST end of pulsing (`F`);
/// 1010, 1101, 1110 are spare and shown as `A`, `D`, `E`.
pub(crate) const ISUP: Alphabet = *b"0123456789ABCDEF";
/// Generic Digits BCD (TS 29.078 `Digits`): 1011 = `*`, 1100 = `#`.
pub(crate) const GENERIC: Alphabet = *b"0123456789A*#DEF";
/// TS 24.008 table 10.5.118 / TS 29.002 TBCD: `*`, `#`, `a`, `b`, `c`; 1111 is the filler.
pub(crate) const TBCD: Alphabet = [
    b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', b'*', b'#', b'a', b'b', b'c', 0,
];

fn nibble_of(alpha: &Alphabet, c: u8) -> CapResult<u8> {
    alpha
        .iter()
        .position(|a| *a == c && c != 0)
        .map(|p| p as u8)
        .ok_or(CapError::UnexpectedDataValue(
            "digit not encodable in this format",
        ))
}

/// Unpack `count` BCD digits (low nibble first) from `octets`.
pub(crate) fn unpack_bcd(alpha: &Alphabet, octets: &[u8], count: usize) -> CapResult<Digits> {
    if count > octets.len() * 2 {
        return Err(CapError::UnexpectedDataValue("digit count"));
    }
    let mut d = Digits::EMPTY;
    for i in 0..count {
        let b = octets[i / 2];
        let n = if i % 2 == 0 { b & 0x0f } else { b >> 4 };
        let c = alpha[usize::from(n)];
        if c == 0 {
            return Err(CapError::UnexpectedDataValue("filler inside digits"));
        }
        d.push(c)?;
    }
    Ok(d)
}

/// Unpack TBCD digits where a 0xF high nibble in the last octet is filler.
pub(crate) fn unpack_tbcd(octets: &[u8]) -> CapResult<Digits> {
    let count = match octets.last() {
        Some(b) if b >> 4 == 0xf => octets.len() * 2 - 1,
        _ => octets.len() * 2,
    };
    unpack_bcd(&TBCD, octets, count)
}

/// Pack digits (low nibble first); an odd count leaves `fill` in the last high nibble.
pub(crate) fn pack_bcd(
    alpha: &Alphabet,
    d: &Digits,
    fill: u8,
    out: &mut NumberBuf,
) -> CapResult<()> {
    for pair in d.as_bytes().chunks(2) {
        let lo = nibble_of(alpha, pair[0])?;
        let hi = match pair.get(1) {
            Some(c) => nibble_of(alpha, *c)?,
            None => fill,
        };
        out.push(lo | (hi << 4))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_inline() {
        let d = Digits::from_str("12*#").unwrap();
        assert_eq!(d.as_str(), "12*#");
        assert_eq!(d, "12*#");
        assert!(Digits::from_str("12x").is_err());
        assert!(Digits::from_str(&"1".repeat(41)).is_err());
        let mut b = NumberBuf::new();
        pack_bcd(&GENERIC, &d, 0, &mut b).unwrap();
        assert_eq!(b.as_bytes(), &[0x21, 0xcb]);
        assert_eq!(unpack_bcd(&GENERIC, &b, 4).unwrap(), d);
    }
}
