//! ISUP address parameters, ITU-T Q.763 §3 (ETSI EN 300 356-1), as CAP/INAP carry them in
//! OCTET STRINGs (CalledPartyNumber, CallingPartyNumber, GenericNumber, LocationNumber,
//! RedirectingPartyID, OriginalCalledPartyID, ChargeNumber, IPRoutingAddress, …).
//!
//! ```text
//! Called party number (§3.9)      8 O/E | 7-1 nature of address
//!                                 8 INN | 7-5 numbering plan | 4-1 spare
//! Calling party number (§3.10)    8 O/E | 7-1 nature of address
//!                                 8 NI  | 7-5 NPI | 4-3 presentation | 2-1 screening
//! Location number (§3.30)         as calling, with INN in place of NI
//! Generic number (§3.26)          number qualifier octet, then as calling
//! Redirecting / original called   8 O/E | 7-1 NAI;  8 spare | 7-5 NPI | 4-3 APRI | 2-1 spare
//! (§3.44 / §3.39)
//! then address signals, two per octet, first digit in bits 4-1, filler 0000 when odd.
//! ```
//! Address signals are shown as `0-9`, `B` (code 11), `C` (code 12), `F` (ST, end of
//! pulsing) and `A`/`D`/`E` (spare).

use std::fmt;

use super::{pack_bcd, unpack_bcd, Digits, NumberBuf, ISUP};
use crate::error::{CapError, CapResult};

macro_rules! u8_code {
    ($(#[$m:meta])* $name:ident { $($c:ident = $v:expr, $s:expr;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub u8);
        impl $name {
            $(
                #[doc = $s]
                pub const $c: $name = $name($v);
            )*
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    $($v => write!(f, "{}({})", stringify!($c), $v),)*
                    v => write!(f, "{}({v})", stringify!($name)),
                }
            }
        }
    };
}

u8_code! {
    /// Nature of address indicator (7 bits).
    NatureOfAddress {
        SUBSCRIBER = 1, "subscriber number (national use)";
        UNKNOWN = 2, "unknown (national use)";
        NATIONAL = 3, "national (significant) number";
        INTERNATIONAL = 4, "international number";
        NETWORK_SPECIFIC = 5, "network-specific number (national use)";
        NETWORK_ROUTING_NATIONAL = 6, "network routing number in national (significant) number format";
        NETWORK_ROUTING_SPECIFIC = 7, "network routing number in network-specific number format";
        NETWORK_ROUTING_CONCATENATED = 8, "network routing number concatenated with called directory number";
    }
}

u8_code! {
    /// Numbering plan indicator (3 bits).
    NumberingPlan {
        ISDN = 1, "ISDN (telephony) numbering plan (E.164)";
        DATA = 3, "data numbering plan (X.121)";
        TELEX = 4, "telex numbering plan (F.69)";
        PRIVATE = 5, "private numbering plan (national use)";
    }
}

u8_code! {
    /// Address presentation restricted indicator (2 bits).
    Presentation {
        ALLOWED = 0, "presentation allowed";
        RESTRICTED = 1, "presentation restricted";
        NOT_AVAILABLE = 2, "address not available";
    }
}

u8_code! {
    /// Screening indicator (2 bits).
    Screening {
        USER_NOT_VERIFIED = 0, "user provided, not verified";
        USER_VERIFIED_PASSED = 1, "user provided, verified and passed";
        USER_VERIFIED_FAILED = 2, "user provided, verified and failed";
        NETWORK_PROVIDED = 3, "network provided";
    }
}

/// Octets 1–2 of an ISUP address, bit fields unpacked.
struct Header {
    nai: u8,
    bit8: bool,
    npi: u8,
    apri: u8,
    si: u8,
}

fn unpack(b: &[u8], what: &'static str) -> CapResult<(Header, Digits)> {
    let [o1, o2, signals @ ..] = b else {
        return Err(CapError::UnexpectedDataValue(what));
    };
    let odd = o1 & 0x80 != 0;
    let count = (signals.len() * 2).saturating_sub(usize::from(odd && !signals.is_empty()));
    let digits = unpack_bcd(&ISUP, signals, count)?;
    Ok((
        Header {
            nai: o1 & 0x7f,
            bit8: o2 & 0x80 != 0,
            npi: (o2 >> 4) & 0x07,
            apri: (o2 >> 2) & 0x03,
            si: o2 & 0x03,
        },
        digits,
    ))
}

fn pack(out: &mut NumberBuf, h: Header, d: &Digits) -> CapResult<()> {
    let odd = d.len() % 2 == 1;
    out.push((u8::from(odd) << 7) | (h.nai & 0x7f))?;
    out.push(
        (u8::from(h.bit8) << 7) | ((h.npi & 0x07) << 4) | ((h.apri & 0x03) << 2) | (h.si & 0x03),
    )?;
    pack_bcd(&ISUP, d, 0, out)
}

/// Q.763 §3.9 Called party number (also DestinationRoutingAddress, IPRoutingAddress,
/// forwardingDestinationNumber, destinationAddress).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CalledPartyNumber {
    /// Nature of address.
    pub nai: NatureOfAddress,
    /// Internal network number indicator: true = routing to an internal network number not
    /// allowed.
    pub inn: bool,
    /// Numbering plan.
    pub npi: NumberingPlan,
    /// Address signals.
    pub digits: Digits,
}

impl CalledPartyNumber {
    /// An E.164 number with the given nature of address (INN: routing not allowed).
    pub fn e164(nai: NatureOfAddress, digits: &str) -> CapResult<Self> {
        Ok(CalledPartyNumber {
            nai,
            inn: true,
            npi: NumberingPlan::ISDN,
            digits: Digits::from_str(digits)?,
        })
    }

    /// Decode the parameter contents.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let (h, digits) = unpack(b, "CalledPartyNumber")?;
        Ok(CalledPartyNumber {
            nai: NatureOfAddress(h.nai),
            inn: h.bit8,
            npi: NumberingPlan(h.npi),
            digits,
        })
    }

    /// Encode the parameter contents.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        let h = Header {
            nai: self.nai.0,
            bit8: self.inn,
            npi: self.npi.0,
            apri: 0,
            si: 0,
        };
        pack(&mut out, h, &self.digits)?;
        Ok(out)
    }

    /// True when the last signal is ST (end of pulsing): the number is complete.
    pub fn has_st(&self) -> bool {
        self.digits.as_bytes().last() == Some(&b'F')
    }
}

/// Q.763 §3.10 Calling party number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallingPartyNumber {
    /// Nature of address.
    pub nai: NatureOfAddress,
    /// Number incomplete indicator: true = incomplete.
    pub ni: bool,
    /// Numbering plan.
    pub npi: NumberingPlan,
    /// Presentation.
    pub presentation: Presentation,
    /// Screening.
    pub screening: Screening,
    /// Address signals (empty when the address is not available).
    pub digits: Digits,
}

impl CallingPartyNumber {
    /// Decode the parameter contents.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let (h, digits) = unpack(b, "CallingPartyNumber")?;
        Ok(CallingPartyNumber {
            nai: NatureOfAddress(h.nai),
            ni: h.bit8,
            npi: NumberingPlan(h.npi),
            presentation: Presentation(h.apri),
            screening: Screening(h.si),
            digits,
        })
    }

    /// Encode the parameter contents.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        let h = Header {
            nai: self.nai.0,
            bit8: self.ni,
            npi: self.npi.0,
            apri: self.presentation.0,
            si: self.screening.0,
        };
        pack(&mut out, h, &self.digits)?;
        Ok(out)
    }
}

/// Q.763 §3.30 Location number (also ChargeNumber in CAP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocationNumber {
    /// Nature of address.
    pub nai: NatureOfAddress,
    /// Internal network number indicator.
    pub inn: bool,
    /// Numbering plan.
    pub npi: NumberingPlan,
    /// Presentation.
    pub presentation: Presentation,
    /// Screening.
    pub screening: Screening,
    /// Address signals.
    pub digits: Digits,
}

impl LocationNumber {
    /// Decode the parameter contents.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let c = CallingPartyNumber::decode(b)?;
        Ok(LocationNumber {
            nai: c.nai,
            inn: c.ni,
            npi: c.npi,
            presentation: c.presentation,
            screening: c.screening,
            digits: c.digits,
        })
    }

    /// Encode the parameter contents.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        CallingPartyNumber {
            nai: self.nai,
            ni: self.inn,
            npi: self.npi,
            presentation: self.presentation,
            screening: self.screening,
            digits: self.digits,
        }
        .encode()
    }
}

/// Q.763 §3.26 Generic number (AdditionalCallingPartyNumber, CorrelationID,
/// AssistingSSPIPRoutingAddress, GenericNumbers items).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GenericNumber {
    /// Number qualifier indicator (e.g. 6 = additional calling party number).
    pub qualifier: u8,
    /// Nature of address.
    pub nai: NatureOfAddress,
    /// Number incomplete indicator.
    pub ni: bool,
    /// Numbering plan.
    pub npi: NumberingPlan,
    /// Presentation.
    pub presentation: Presentation,
    /// Screening.
    pub screening: Screening,
    /// Address signals.
    pub digits: Digits,
}

impl GenericNumber {
    /// Decode the parameter contents.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let [q, rest @ ..] = b else {
            return Err(CapError::UnexpectedDataValue("GenericNumber"));
        };
        let c = CallingPartyNumber::decode(rest)?;
        Ok(GenericNumber {
            qualifier: *q,
            nai: c.nai,
            ni: c.ni,
            npi: c.npi,
            presentation: c.presentation,
            screening: c.screening,
            digits: c.digits,
        })
    }

    /// Encode the parameter contents.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        out.push(self.qualifier)?;
        let h = Header {
            nai: self.nai.0,
            bit8: self.ni,
            npi: self.npi.0,
            apri: self.presentation.0,
            si: self.screening.0,
        };
        pack(&mut out, h, &self.digits)?;
        Ok(out)
    }
}

/// Q.763 §3.44 Redirecting number (RedirectingPartyID); §3.39 Original called number
/// (OriginalCalledPartyID) has the same format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RedirectingNumber {
    /// Nature of address.
    pub nai: NatureOfAddress,
    /// Numbering plan.
    pub npi: NumberingPlan,
    /// Presentation.
    pub presentation: Presentation,
    /// Address signals.
    pub digits: Digits,
}

/// Q.763 §3.39 Original called number, the same format as [`RedirectingNumber`].
pub type OriginalCalledNumber = RedirectingNumber;

impl RedirectingNumber {
    /// Decode the parameter contents.
    pub fn decode(b: &[u8]) -> CapResult<Self> {
        let (h, digits) = unpack(b, "RedirectingNumber")?;
        Ok(RedirectingNumber {
            nai: NatureOfAddress(h.nai),
            npi: NumberingPlan(h.npi),
            presentation: Presentation(h.apri),
            digits,
        })
    }

    /// Encode the parameter contents.
    pub fn encode(&self) -> CapResult<NumberBuf> {
        let mut out = NumberBuf::new();
        let h = Header {
            nai: self.nai.0,
            bit8: false,
            npi: self.npi.0,
            apri: self.presentation.0,
            si: 0,
        };
        pack(&mut out, h, &self.digits)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_party_number_fixture() {
        // Hand-built per Q.763 §3.9: odd (1), NAI international (4) -> 0x84;
        // INN=1, NPI=ISDN(1) -> 0x90; "4179123" -> 14 97 21 03 (filler 0 in last high nibble).
        let b = [0x84, 0x90, 0x14, 0x97, 0x21, 0x03];
        let n = CalledPartyNumber::decode(&b).unwrap();
        assert_eq!(n.nai, NatureOfAddress::INTERNATIONAL);
        assert!(n.inn);
        assert_eq!(n.npi, NumberingPlan::ISDN);
        assert_eq!(n.digits, "4179123");
        assert_eq!(n.encode().unwrap().as_bytes(), &b);
        // ST and code 11/12
        let n = CalledPartyNumber::decode(&[0x03, 0x10, 0xcb, 0xf1]).unwrap();
        assert_eq!(n.digits, "BC1F");
        assert!(n.has_st());
    }

    #[test]
    fn calling_party_number_fixture() {
        // even, national (3); NI=0, NPI=1, APRI=restricted(1), SI=network(3) -> 0x17
        let b = [0x03, 0x17, 0x21, 0x43];
        let n = CallingPartyNumber::decode(&b).unwrap();
        assert_eq!(n.presentation, Presentation::RESTRICTED);
        assert_eq!(n.screening, Screening::NETWORK_PROVIDED);
        assert_eq!(n.digits, "1234");
        assert_eq!(n.encode().unwrap().as_bytes(), &b);
        // address not available, no digits
        let n = CallingPartyNumber::decode(&[0x00, 0x08]).unwrap();
        assert_eq!(n.presentation, Presentation::NOT_AVAILABLE);
        assert!(n.digits.is_empty());
        assert!(CallingPartyNumber::decode(&[0x03]).is_err());
    }

    #[test]
    fn generic_and_redirecting() {
        let g = GenericNumber {
            qualifier: 6,
            nai: NatureOfAddress::NATIONAL,
            ni: false,
            npi: NumberingPlan::ISDN,
            presentation: Presentation::ALLOWED,
            screening: Screening::USER_VERIFIED_PASSED,
            digits: Digits::from_str("987").unwrap(),
        };
        let e = g.encode().unwrap();
        assert_eq!(e.as_bytes(), &[0x06, 0x83, 0x11, 0x89, 0x07]);
        assert_eq!(GenericNumber::decode(&e).unwrap(), g);
        let r = RedirectingNumber {
            nai: NatureOfAddress::INTERNATIONAL,
            npi: NumberingPlan::ISDN,
            presentation: Presentation::RESTRICTED,
            digits: Digits::from_str("33").unwrap(),
        };
        let e = r.encode().unwrap();
        assert_eq!(e.as_bytes(), &[0x04, 0x14, 0x33]);
        assert_eq!(RedirectingNumber::decode(&e).unwrap(), r);
    }
}
