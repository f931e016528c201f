//! Global title, ITU-T Q.713 §3.4.2.3.
//!
//! The global title indicator (GTI, address indicator bits 6–3) selects the format:
//!
//! | GTI | clause      | fields before the address information |
//! |-----|-------------|---------------------------------------|
//! | 1   | §3.4.2.3.1  | odd/even (bit 8) + nature of address  |
//! | 2   | §3.4.2.3.2  | translation type                      |
//! | 3   | §3.4.2.3.3  | translation type, numbering plan + encoding scheme |
//! | 4   | §3.4.2.3.4  | translation type, numbering plan + encoding scheme, nature of address |
//!
//! GTI 2 carries no odd/even indication; its digits are read as BCD with an even count (a filler
//! digit `0` is therefore visible after decoding an odd-length number). GTIs 5–15 (spare /
//! reserved) are kept as raw octets.

use bytes::{BufMut, BytesMut};

use crate::digits::{Digits, RawOctets};
use crate::error::{AddressError, EncodeError};
use crate::newtype::open_u8;

open_u8! {
    /// Nature of address indicator, 7 bits (Q.713 §3.4.2.3.1).
    NatureOfAddress {
        /// Unknown.
        UNKNOWN = 0,
        /// Subscriber number.
        SUBSCRIBER = 1,
        /// Reserved for national use.
        RESERVED_NATIONAL = 2,
        /// National significant number.
        NATIONAL = 3,
        /// International number.
        INTERNATIONAL = 4,
    }
}

open_u8! {
    /// Translation type (Q.713 §3.4.2.3.2): one octet.
    TranslationType {
        /// Unknown / not used.
        UNKNOWN = 0,
    }
}

open_u8! {
    /// Numbering plan, 4 bits (Q.713 §3.4.2.3.3).
    NumberingPlan {
        /// Unknown.
        UNKNOWN = 0,
        /// ISDN/telephony numbering plan (E.164).
        ISDN_TELEPHONY = 1,
        /// Generic numbering plan.
        GENERIC = 2,
        /// Data numbering plan (X.121).
        DATA = 3,
        /// Telex numbering plan (F.69).
        TELEX = 4,
        /// Maritime mobile numbering plan (E.210, E.211).
        MARITIME_MOBILE = 5,
        /// Land mobile numbering plan (E.212).
        LAND_MOBILE = 6,
        /// ISDN/mobile numbering plan (E.214).
        ISDN_MOBILE = 7,
        /// Private network or network-specific numbering plan.
        PRIVATE = 14,
    }
}

open_u8! {
    /// Encoding scheme, 4 bits (Q.713 §3.4.2.3.3).
    EncodingScheme {
        /// Unknown.
        UNKNOWN = 0,
        /// BCD, odd number of digits.
        BCD_ODD = 1,
        /// BCD, even number of digits.
        BCD_EVEN = 2,
        /// National specific.
        NATIONAL_SPECIFIC = 3,
    }
}

/// Address information of a GTI 3 or GTI 4 global title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GtAddress {
    /// Encoding scheme 1 or 2: BCD digits; the scheme is chosen from the digit count on encoding.
    Bcd(Digits),
    /// Any other encoding scheme: the octets as received. Use [`GtAddress::Bcd`] for schemes 1/2.
    Raw {
        /// The encoding scheme.
        scheme: EncodingScheme,
        /// The address information octets.
        octets: RawOctets,
    },
}

impl GtAddress {
    /// The digits, if BCD.
    pub fn digits(&self) -> Option<&Digits> {
        match self {
            GtAddress::Bcd(d) => Some(d),
            GtAddress::Raw { .. } => None,
        }
    }

    fn scheme(&self) -> EncodingScheme {
        match self {
            GtAddress::Bcd(d) if d.is_odd() => EncodingScheme::BCD_ODD,
            GtAddress::Bcd(_) => EncodingScheme::BCD_EVEN,
            GtAddress::Raw { scheme, .. } => *scheme,
        }
    }

    fn decode(scheme: EncodingScheme, rest: &[u8]) -> Result<Self, AddressError> {
        match scheme {
            EncodingScheme::BCD_ODD => Ok(GtAddress::Bcd(Digits::from_bcd(rest, true)?)),
            EncodingScheme::BCD_EVEN => Ok(GtAddress::Bcd(Digits::from_bcd(rest, false)?)),
            _ => Ok(GtAddress::Raw {
                scheme,
                octets: RawOctets::new(rest).ok_or(AddressError::GlobalTitleTooLong)?,
            }),
        }
    }

    fn len(&self) -> usize {
        match self {
            GtAddress::Bcd(d) => d.bcd_len(),
            GtAddress::Raw { octets, .. } => octets.as_slice().len(),
        }
    }

    fn encode(&self, buf: &mut BytesMut) {
        match self {
            GtAddress::Bcd(d) => d.encode_bcd(buf),
            GtAddress::Raw { octets, .. } => buf.put_slice(octets.as_slice()),
        }
    }
}

/// A global title (Q.713 §3.4.2.3); GTI 0 (no global title) is `None` in [`crate::SccpAddress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalTitle {
    /// GTI 1: nature of address and BCD digits (odd/even from the digit count).
    Nai {
        /// Nature of address (7 bits).
        nai: NatureOfAddress,
        /// The digits.
        digits: Digits,
    },
    /// GTI 2: translation type and BCD digits (read as an even count).
    Tt {
        /// Translation type.
        tt: TranslationType,
        /// The digits.
        digits: Digits,
    },
    /// GTI 3: translation type, numbering plan, encoding scheme.
    TtNpEs {
        /// Translation type.
        tt: TranslationType,
        /// Numbering plan (4 bits).
        np: NumberingPlan,
        /// Address information; carries the encoding scheme.
        address: GtAddress,
    },
    /// GTI 4: translation type, numbering plan, encoding scheme, nature of address.
    TtNpEsNai {
        /// Translation type.
        tt: TranslationType,
        /// Numbering plan (4 bits).
        np: NumberingPlan,
        /// Nature of address (7 bits).
        nai: NatureOfAddress,
        /// Address information; carries the encoding scheme.
        address: GtAddress,
    },
    /// GTI 5–15 (spare or reserved): the global title octets as received.
    Other {
        /// The global title indicator, 5–15.
        gti: u8,
        /// Everything after the SSN/point code.
        raw: RawOctets,
    },
}

impl GlobalTitle {
    /// The global title indicator (address indicator bits 6–3).
    pub fn gti(&self) -> u8 {
        match self {
            GlobalTitle::Nai { .. } => 1,
            GlobalTitle::Tt { .. } => 2,
            GlobalTitle::TtNpEs { .. } => 3,
            GlobalTitle::TtNpEsNai { .. } => 4,
            GlobalTitle::Other { gti, .. } => *gti,
        }
    }

    /// The digits, when the address information is BCD.
    pub fn digits(&self) -> Option<&Digits> {
        match self {
            GlobalTitle::Nai { digits, .. } | GlobalTitle::Tt { digits, .. } => Some(digits),
            GlobalTitle::TtNpEs { address, .. } | GlobalTitle::TtNpEsNai { address, .. } => {
                address.digits()
            }
            GlobalTitle::Other { .. } => None,
        }
    }

    /// The translation type, for GTI 2–4.
    pub fn translation_type(&self) -> Option<TranslationType> {
        match self {
            GlobalTitle::Tt { tt, .. }
            | GlobalTitle::TtNpEs { tt, .. }
            | GlobalTitle::TtNpEsNai { tt, .. } => Some(*tt),
            _ => None,
        }
    }

    /// The nature of address, for GTI 1 and 4.
    pub fn nature_of_address(&self) -> Option<NatureOfAddress> {
        match self {
            GlobalTitle::Nai { nai, .. } | GlobalTitle::TtNpEsNai { nai, .. } => Some(*nai),
            _ => None,
        }
    }

    /// The numbering plan, for GTI 3 and 4.
    pub fn numbering_plan(&self) -> Option<NumberingPlan> {
        match self {
            GlobalTitle::TtNpEs { np, .. } | GlobalTitle::TtNpEsNai { np, .. } => Some(*np),
            _ => None,
        }
    }

    /// Decodes the global title that fills `rest` (the address after PC and SSN).
    /// `gti` is 1–15.
    pub(crate) fn decode(gti: u8, rest: &[u8]) -> Result<Self, AddressError> {
        let short = AddressError::TruncatedGlobalTitle;
        match gti {
            1 => {
                let (&o, digits) = rest.split_first().ok_or(short)?;
                Ok(GlobalTitle::Nai {
                    nai: NatureOfAddress(o & 0x7f),
                    digits: Digits::from_bcd(digits, o & 0x80 != 0)?,
                })
            }
            2 => {
                let (&tt, digits) = rest.split_first().ok_or(short)?;
                Ok(GlobalTitle::Tt {
                    tt: TranslationType(tt),
                    digits: Digits::from_bcd(digits, false)?,
                })
            }
            3 => match rest {
                [tt, npes, info @ ..] => Ok(GlobalTitle::TtNpEs {
                    tt: TranslationType(*tt),
                    np: NumberingPlan(npes >> 4),
                    address: GtAddress::decode(EncodingScheme(npes & 0x0f), info)?,
                }),
                _ => Err(short),
            },
            4 => match rest {
                [tt, npes, nai, info @ ..] => Ok(GlobalTitle::TtNpEsNai {
                    tt: TranslationType(*tt),
                    np: NumberingPlan(npes >> 4),
                    nai: NatureOfAddress(nai & 0x7f),
                    address: GtAddress::decode(EncodingScheme(npes & 0x0f), info)?,
                }),
                _ => Err(short),
            },
            _ => Ok(GlobalTitle::Other {
                gti,
                raw: RawOctets::new(rest).ok_or(AddressError::GlobalTitleTooLong)?,
            }),
        }
    }

    /// Encoded length in octets.
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            GlobalTitle::Nai { digits, .. } | GlobalTitle::Tt { digits, .. } => {
                1 + digits.bcd_len()
            }
            GlobalTitle::TtNpEs { address, .. } => 2 + address.len(),
            GlobalTitle::TtNpEsNai { address, .. } => 3 + address.len(),
            GlobalTitle::Other { raw, .. } => raw.as_slice().len(),
        }
    }

    /// Checks every field fits its place on the wire.
    pub(crate) fn validate(&self) -> Result<(), EncodeError> {
        fn max(field: &'static str, value: u8, max: u8) -> Result<(), EncodeError> {
            if value > max {
                Err(EncodeError::FieldOutOfRange { field, value })
            } else {
                Ok(())
            }
        }
        match self {
            GlobalTitle::Nai { nai, .. } => max("nature of address", nai.0, 0x7f),
            GlobalTitle::Tt { .. } => Ok(()),
            GlobalTitle::TtNpEs { np, address, .. } => {
                max("numbering plan", np.0, 0x0f)?;
                max("encoding scheme", address.scheme().0, 0x0f)
            }
            GlobalTitle::TtNpEsNai {
                np, nai, address, ..
            } => {
                max("numbering plan", np.0, 0x0f)?;
                max("nature of address", nai.0, 0x7f)?;
                max("encoding scheme", address.scheme().0, 0x0f)
            }
            GlobalTitle::Other { gti, .. } => {
                if (5..=15).contains(gti) {
                    Ok(())
                } else {
                    Err(EncodeError::FieldOutOfRange {
                        field: "global title indicator",
                        value: *gti,
                    })
                }
            }
        }
    }

    /// Writes the global title; call [`GlobalTitle::validate`] first.
    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        match self {
            GlobalTitle::Nai { nai, digits } => {
                buf.put_u8(nai.0 | if digits.is_odd() { 0x80 } else { 0 });
                digits.encode_bcd(buf);
            }
            GlobalTitle::Tt { tt, digits } => {
                buf.put_u8(tt.0);
                digits.encode_bcd(buf);
            }
            GlobalTitle::TtNpEs { tt, np, address } => {
                buf.put_u8(tt.0);
                buf.put_u8((np.0 << 4) | address.scheme().0);
                address.encode(buf);
            }
            GlobalTitle::TtNpEsNai {
                tt,
                np,
                nai,
                address,
            } => {
                buf.put_u8(tt.0);
                buf.put_u8((np.0 << 4) | address.scheme().0);
                buf.put_u8(nai.0);
                address.encode(buf);
            }
            GlobalTitle::Other { raw, .. } => buf.put_slice(raw.as_slice()),
        }
    }
}
