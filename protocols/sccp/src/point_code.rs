//! ITU signalling point code in a party address, ITU-T Q.713 §3.4.2.1.
//!
//! 14 bits sent in two octets, least significant octet first; the two top bits of the second octet
//! are spare (sent as 0, ignored on receipt).

use core::fmt;

/// A 14-bit ITU signalling point code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PointCode(pub u16);

impl PointCode {
    /// Largest ITU point code.
    pub const MAX: u16 = 0x3fff;

    /// The point code, or `None` if it does not fit in 14 bits.
    pub const fn new(v: u16) -> Option<Self> {
        if v <= Self::MAX {
            Some(PointCode(v))
        } else {
            None
        }
    }

    /// Builds a point code from the common 3-8-3 notation (zone-area-signalling point).
    pub const fn from_383(zone: u8, area: u8, sp: u8) -> Option<Self> {
        if zone > 7 || sp > 7 {
            return None;
        }
        Some(PointCode(
            ((zone as u16) << 11) | ((area as u16) << 3) | sp as u16,
        ))
    }

    /// Decodes the little-endian wire value (spare bits ignored).
    pub(crate) fn from_wire(v: u16) -> Self {
        PointCode(v & Self::MAX)
    }
}

impl fmt::Debug for PointCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PointCode({} = {}-{}-{})",
            self.0,
            (self.0 >> 11) & 7,
            (self.0 >> 3) & 0xff,
            self.0 & 7
        )
    }
}

impl fmt::Display for PointCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_endian_and_spare_bits() {
        // 0x0d, 0x3f -> 0x3f0d; spare bits of the high octet ignored.
        assert_eq!(
            PointCode::from_wire(u16::from_le_bytes([0x0d, 0x3f])),
            PointCode(0x3f0d)
        );
        assert_eq!(
            PointCode::from_wire(u16::from_le_bytes([0x0d, 0xff])),
            PointCode(0x3f0d)
        );
        assert_eq!(
            PointCode::from_383(2, 34, 5),
            Some(PointCode(2 << 11 | 34 << 3 | 5))
        );
        assert_eq!(PointCode::new(0x4000), None);
    }
}
