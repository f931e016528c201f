//! Global title address information, ITU-T Q.713 §3.4.2.3.1 (and the GTI 2–4 clauses that refer to
//! it): BCD digits, two per octet, first digit in the low nibble; with an odd number of digits the
//! high nibble of the last octet is a filler (`0000`, ignored on receipt).
//!
//! Both types here are fixed-capacity inline buffers: a decoded address never touches the heap and
//! is `Copy`, so the engine can store it once and hand it around by value.

use core::fmt;

use bytes::{BufMut, BytesMut};

use crate::error::{AddressError, DigitsError};

/// Most digits a [`Digits`] holds (16 octets of BCD; E.164 needs 15).
pub const MAX_DIGITS: usize = 32;

/// Most octets a [`RawOctets`] holds.
pub const MAX_RAW_OCTETS: usize = 32;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// A global-title digit string of at most [`MAX_DIGITS`] digits, stored inline.
///
/// Digits are the sixteen BCD codes written as `0`–`9` and `A`–`F` (Q.713 gives `B` and `C` as
/// "code 11" and "code 12", `F` as ST). Lower-case input is normalised to upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digits {
    len: u8,
    // Invariant: buf[..len] holds upper-case hex ASCII, buf[len..] is zero (so derives are exact).
    buf: [u8; MAX_DIGITS],
}

impl Digits {
    /// The empty digit string.
    pub const EMPTY: Digits = Digits {
        len: 0,
        buf: [0; MAX_DIGITS],
    };

    /// Builds a digit string from text such as `"4412345678"`.
    pub fn new(s: &str) -> Result<Self, DigitsError> {
        let mut d = Digits::EMPTY;
        for c in s.chars() {
            let n = c.to_digit(16).ok_or(DigitsError::InvalidDigit(c))?;
            d.push(n as u8).map_err(|_| DigitsError::TooLong)?;
        }
        Ok(d)
    }

    /// Builds a digit string from nibble values 0–15.
    pub fn from_nibbles(nibbles: &[u8]) -> Result<Self, DigitsError> {
        let mut d = Digits::EMPTY;
        for &n in nibbles {
            if n > 15 {
                return Err(DigitsError::InvalidDigit(char::from(n)));
            }
            d.push(n).map_err(|_| DigitsError::TooLong)?;
        }
        Ok(d)
    }

    fn push(&mut self, nibble: u8) -> Result<(), ()> {
        let i = usize::from(self.len);
        let slot = self.buf.get_mut(i).ok_or(())?;
        *slot = HEX[usize::from(nibble & 0x0f)];
        self.len += 1;
        Ok(())
    }

    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex is ever stored, so this cannot fail; the fallback keeps us panic-free.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The digits as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True if there are no digits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True for an odd number of digits (Q.713 odd/even indicator 1, encoding scheme 1).
    pub fn is_odd(&self) -> bool {
        self.len % 2 == 1
    }

    /// The digit values 0–15.
    pub fn nibbles(&self) -> impl Iterator<Item = u8> + '_ {
        self.as_bytes().iter().map(|&c| match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'A' + 10,
        })
    }

    /// Decodes BCD octets; with `odd`, the last octet's high nibble is a filler and dropped.
    pub(crate) fn from_bcd(octets: &[u8], odd: bool) -> Result<Self, AddressError> {
        // Two digits an octet, the last octet's high nibble a filler when odd.
        let n = (octets.len() * 2).saturating_sub(usize::from(odd && !octets.is_empty()));
        if n > MAX_DIGITS {
            return Err(AddressError::TooManyDigits);
        }
        let mut d = Digits::EMPTY;
        for (pair, &o) in d.buf.chunks_exact_mut(2).zip(octets) {
            if let [lo, hi] = pair {
                *lo = HEX[usize::from(o & 0x0f)];
                *hi = HEX[usize::from(o >> 4)];
            }
        }
        if n % 2 == 1 {
            // Keep the invariant: everything after the digits is zero.
            if let Some(filler) = d.buf.get_mut(n) {
                *filler = 0;
            }
        }
        d.len = n as u8;
        Ok(d)
    }

    /// Number of BCD octets.
    pub(crate) fn bcd_len(&self) -> usize {
        self.len().div_ceil(2)
    }

    /// Writes the BCD octets, with a `0000` filler if odd.
    pub(crate) fn encode_bcd(&self, buf: &mut BytesMut) {
        let mut it = self.nibbles();
        while let Some(lo) = it.next() {
            let hi = it.next().unwrap_or(0);
            buf.put_u8(lo | (hi << 4));
        }
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::EMPTY
    }
}

impl fmt::Debug for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digits({:?})", self.as_str())
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Digits {
    type Err = DigitsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digits::new(s)
    }
}

/// Up to [`MAX_RAW_OCTETS`] octets kept as received: global-title address information in an encoding
/// scheme this crate does not interpret, or a global title with a spare GTI.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOctets {
    len: u8,
    // Invariant: buf[len..] is zero.
    buf: [u8; MAX_RAW_OCTETS],
}

impl RawOctets {
    /// Copies `octets`, or `None` if longer than [`MAX_RAW_OCTETS`].
    pub fn new(octets: &[u8]) -> Option<Self> {
        if octets.len() > MAX_RAW_OCTETS {
            return None;
        }
        let mut buf = [0; MAX_RAW_OCTETS];
        buf[..octets.len()].copy_from_slice(octets);
        Some(RawOctets {
            len: octets.len() as u8,
            buf,
        })
    }

    /// The octets.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl fmt::Debug for RawOctets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawOctets(")?;
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_odd_even() {
        // Q.713 §3.4.2.3.1: first digit in bits 4-1 of the first octet.
        let d = Digits::from_bcd(&[0x21, 0x43, 0x05], true).unwrap();
        assert_eq!(d.as_str(), "12345");
        let d = Digits::from_bcd(&[0x21, 0x43, 0x65], false).unwrap();
        assert_eq!(d.as_str(), "123456");
        // A non-zero filler (some implementations send F) is ignored.
        assert_eq!(
            Digits::from_bcd(&[0x21, 0xf3], true).unwrap().as_str(),
            "123"
        );
        let mut b = BytesMut::new();
        Digits::new("12345").unwrap().encode_bcd(&mut b);
        assert_eq!(&b[..], &[0x21, 0x43, 0x05]);
        assert_eq!(Digits::from_bcd(&[], true).unwrap(), Digits::EMPTY);
    }

    #[test]
    fn capacity_and_validation() {
        assert!(Digits::new(&"1".repeat(32)).is_ok());
        assert_eq!(Digits::new(&"1".repeat(33)), Err(DigitsError::TooLong));
        assert_eq!(Digits::new("12x"), Err(DigitsError::InvalidDigit('x')));
        assert_eq!(Digits::new("b0c").unwrap().as_str(), "B0C");
        assert_eq!(
            Digits::from_bcd(&[0x11; 17], false),
            Err(AddressError::TooManyDigits)
        );
        assert_eq!(
            format!("{:?}", Digits::new("12").unwrap()),
            "Digits(\"12\")"
        );
        assert!(RawOctets::new(&[0; 33]).is_none());
    }
}
