//! Called and calling party address, ITU-T Q.713 §3.4 (called) and §3.5 (calling, same format).
//!
//! ```text
//!   8        7         6 5 4 3   2     1
//! +--------+---------+---------+-----+-----+
//! |national| routing |   GTI   | SSN | PC  |   address indicator (§3.4.1)
//! +--------+---------+---------+-----+-----+
//! | signalling point code, 14 bits LE (§3.4.2.1)  if PC indicator
//! | subsystem number (§3.4.2.2)                   if SSN indicator
//! | global title (§3.4.2.3)                       if GTI != 0
//! ```
//!
//! Bit 8 is "reserved for national use" in ITU networks (ANSI uses it to mark national
//! addresses); it is kept as [`SccpAddress::national`].

use bytes::{BufMut, BytesMut};
use nom::combinator::cond;
use nom::number::complete::{be_u8, le_u16};
use nom::IResult;

use crate::error::{AddressError, EncodeError};
use crate::global_title::GlobalTitle;
use crate::point_code::PointCode;
use crate::ssn::Ssn;

/// Routing indicator, address indicator bit 7 (Q.713 §3.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoutingIndicator {
    /// Route on global title (bit 7 = 0).
    GlobalTitle,
    /// Route on point code + SSN (bit 7 = 1).
    Ssn,
}

/// A party address. The PC, SSN and GT indicators of the address indicator follow from which
/// `Option`s are set, so they can never disagree with the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SccpAddress {
    /// Address indicator bit 8 (reserved for national use).
    pub national: bool,
    /// Routing indicator.
    pub routing: RoutingIndicator,
    /// Signalling point code.
    pub point_code: Option<PointCode>,
    /// Subsystem number (`Some(Ssn::UNKNOWN)` encodes the indicator with SSN 0).
    pub ssn: Option<Ssn>,
    /// Global title (GTI 0 is `None`).
    pub global_title: Option<GlobalTitle>,
}

impl SccpAddress {
    /// A route-on-SSN address with an optional point code.
    pub fn route_on_ssn(point_code: Option<PointCode>, ssn: Ssn) -> Self {
        SccpAddress {
            national: false,
            routing: RoutingIndicator::Ssn,
            point_code,
            ssn: Some(ssn),
            global_title: None,
        }
    }

    /// A route-on-GT address with an optional SSN.
    pub fn route_on_gt(global_title: GlobalTitle, ssn: Option<Ssn>) -> Self {
        SccpAddress {
            national: false,
            routing: RoutingIndicator::GlobalTitle,
            point_code: None,
            ssn,
            global_title: Some(global_title),
        }
    }

    /// Decodes an address from the parameter's contents (without its length octet).
    /// All of `input` must be used.
    pub fn decode(input: &[u8]) -> Result<Self, AddressError> {
        let (rest, ai) = parse_u8(input).map_err(|_| AddressError::Empty)?;
        let (rest, pc) = cond(ai & 0x01 != 0, le_u16)(rest)
            .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| AddressError::TruncatedPointCode)?;
        let (rest, ssn) = cond(ai & 0x02 != 0, be_u8)(rest)
            .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| AddressError::TruncatedSsn)?;
        let gti = (ai >> 2) & 0x0f;
        let global_title = if gti == 0 {
            if !rest.is_empty() {
                return Err(AddressError::TrailingBytes(rest.len()));
            }
            None
        } else {
            Some(GlobalTitle::decode(gti, rest)?)
        };
        Ok(SccpAddress {
            national: ai & 0x80 != 0,
            routing: if ai & 0x40 != 0 {
                RoutingIndicator::Ssn
            } else {
                RoutingIndicator::GlobalTitle
            },
            point_code: pc.map(PointCode::from_wire),
            ssn: ssn.map(Ssn),
            global_title,
        })
    }

    /// The address indicator octet.
    pub fn indicator(&self) -> u8 {
        let mut ai = 0;
        if self.national {
            ai |= 0x80;
        }
        if self.routing == RoutingIndicator::Ssn {
            ai |= 0x40;
        }
        if let Some(gt) = &self.global_title {
            ai |= (gt.gti() & 0x0f) << 2;
        }
        if self.ssn.is_some() {
            ai |= 0x02;
        }
        if self.point_code.is_some() {
            ai |= 0x01;
        }
        ai
    }

    /// Length of the encoded address (without a length octet).
    pub fn encoded_len(&self) -> usize {
        1 + if self.point_code.is_some() { 2 } else { 0 }
            + usize::from(self.ssn.is_some())
            + self
                .global_title
                .as_ref()
                .map_or(0, GlobalTitle::encoded_len)
    }

    /// Checks that every field fits its place on the wire.
    pub fn validate(&self) -> Result<(), EncodeError> {
        if let Some(pc) = self.point_code {
            if pc.0 > PointCode::MAX {
                return Err(EncodeError::PointCodeOutOfRange(pc.0));
            }
        }
        if let Some(gt) = &self.global_title {
            gt.validate()?;
        }
        Ok(())
    }

    /// Appends the address contents (without a length octet). Nothing is written on error.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.validate()?;
        self.encode_unchecked(buf);
        Ok(())
    }

    pub(crate) fn encode_unchecked(&self, buf: &mut BytesMut) {
        buf.put_u8(self.indicator());
        if let Some(pc) = self.point_code {
            buf.put_u16_le(pc.0);
        }
        if let Some(ssn) = self.ssn {
            buf.put_u8(ssn.0);
        }
        if let Some(gt) = &self.global_title {
            gt.encode(buf);
        }
    }
}

fn parse_u8(i: &[u8]) -> IResult<&[u8], u8> {
    be_u8(i)
}

/// The addresses of a reply to a message received with `called` and `calling`: returns
/// `(reply_called, reply_calling)`, i.e. the received calling address becomes the called address
/// and vice versa (DESIGN.md §3).
pub fn reply_addresses(called: &SccpAddress, calling: &SccpAddress) -> (SccpAddress, SccpAddress) {
    (*calling, *called)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digits::Digits;
    use crate::global_title::{GtAddress, NatureOfAddress, NumberingPlan, TranslationType};

    fn enc(a: &SccpAddress) -> Vec<u8> {
        let mut b = BytesMut::new();
        a.encode(&mut b).unwrap();
        assert_eq!(b.len(), a.encoded_len());
        b.to_vec()
    }

    /// Source: otc `otc_sccp_codec_tests.erl`, `called_party_address_itu()` (GTI 4, SSN 8 MSC,
    /// TT 0, NP 1 / ES 2, NAI 4, digits 467211221122).
    #[test]
    fn gti4_even_fixture() {
        let bytes = [
            0x12, 0x08, 0x00, 0x12, 0x04, 0x64, 0x27, 0x11, 0x22, 0x11, 0x22,
        ];
        let a = SccpAddress::decode(&bytes).unwrap();
        assert_eq!(a.routing, RoutingIndicator::GlobalTitle);
        assert_eq!(a.ssn, Some(Ssn::MSC));
        assert_eq!(a.point_code, None);
        assert_eq!(
            a.global_title,
            Some(GlobalTitle::TtNpEsNai {
                tt: TranslationType(0),
                np: NumberingPlan::ISDN_TELEPHONY,
                nai: NatureOfAddress::INTERNATIONAL,
                address: GtAddress::Bcd(Digits::new("467211221122").unwrap()),
            })
        );
        assert_eq!(enc(&a), bytes);
    }

    /// Source: otc `calling_party_address_itu()`: GTI 4, SSN 6 HLR, ES 1 (odd), NAI 8,
    /// digits 46729887766 (filler 0 in the last octet).
    #[test]
    fn gti4_odd_fixture() {
        let bytes = [
            0x12, 0x06, 0x00, 0x11, 0x08, 0x64, 0x27, 0x89, 0x78, 0x67, 0x06,
        ];
        let a = SccpAddress::decode(&bytes).unwrap();
        assert_eq!(a.ssn, Some(Ssn::HLR));
        let gt = a.global_title.unwrap();
        assert_eq!(gt.digits().unwrap().as_str(), "46729887766");
        assert_eq!(gt.nature_of_address(), Some(NatureOfAddress(8)));
        assert_eq!(enc(&a), bytes);
    }

    /// Hand-computed from Q.713 §3.4: route on SSN, PC 0x0123 + SSN 146 (CAP).
    /// AI = 0100 0011 = 0x43; PC LE = 23 01; SSN = 0x92.
    #[test]
    fn pc_ssn_route() {
        let bytes = [0x43, 0x23, 0x01, 0x92];
        let a = SccpAddress::decode(&bytes).unwrap();
        assert_eq!(
            a,
            SccpAddress::route_on_ssn(Some(PointCode(0x123)), Ssn::CAP)
        );
        assert_eq!(enc(&a), bytes);
    }

    /// Hand-computed: GTI 1, odd: AI = 0000 0110 (GTI 1, SSN) = 0x06, SSN 241 INAP,
    /// octet 0x84 = odd + NAI 4, digits "31612" -> 13 16 02.
    #[test]
    fn gti1_odd_and_even() {
        let bytes = [0x06, 0xf1, 0x84, 0x13, 0x16, 0x02];
        let a = SccpAddress::decode(&bytes).unwrap();
        assert_eq!(
            a,
            SccpAddress::route_on_gt(
                GlobalTitle::Nai {
                    nai: NatureOfAddress::INTERNATIONAL,
                    digits: Digits::new("31612").unwrap()
                },
                Some(Ssn::INAP)
            )
        );
        assert_eq!(enc(&a), bytes);
        let even = [0x06, 0xf1, 0x04, 0x13, 0x16, 0x32];
        let a = SccpAddress::decode(&even).unwrap();
        assert_eq!(a.global_title.unwrap().digits().unwrap().as_str(), "316123");
        assert_eq!(enc(&a), even);
    }

    /// TT and digit octets from otc `called_party_address_ansi()` (TT 14, 15432198765 + filler),
    /// under an ITU address indicator computed by hand: 0000 1010 (GTI 2, SSN) = 0x0a, SSN 7.
    /// GTI 2 has no odd/even indicator, so the filler reads back as a trailing "0".
    #[test]
    fn gti2() {
        let bytes = [0x0a, 0x07, 0x0e, 0x51, 0x34, 0x12, 0x89, 0x67, 0x05];
        let a = SccpAddress::decode(&bytes).unwrap();
        let gt = a.global_title.unwrap();
        assert_eq!(gt.translation_type(), Some(TranslationType(14)));
        assert_eq!(gt.digits().unwrap().as_str(), "154321987650");
        assert_eq!(enc(&a), bytes);
    }

    /// Hand-computed: GTI 3 (AI = 0000 1110 = 0x0e, SSN 8), TT 0, NP 1 / ES 1, digits 12345.
    /// Then the same with ES 3 (national specific): octets kept raw.
    #[test]
    fn gti3_bcd_and_raw() {
        let bytes = [0x0e, 0x08, 0x00, 0x11, 0x21, 0x43, 0x05];
        let a = SccpAddress::decode(&bytes).unwrap();
        let gt = a.global_title.unwrap();
        assert_eq!(gt.gti(), 3);
        assert_eq!(gt.numbering_plan(), Some(NumberingPlan::ISDN_TELEPHONY));
        assert_eq!(gt.digits().unwrap().as_str(), "12345");
        assert_eq!(enc(&a), bytes);

        let raw = [0x0e, 0x08, 0x00, 0x13, 0xde, 0xad];
        let a = SccpAddress::decode(&raw).unwrap();
        match a.global_title.unwrap() {
            GlobalTitle::TtNpEs {
                address: GtAddress::Raw { scheme, octets },
                ..
            } => {
                assert_eq!(scheme, crate::EncodingScheme::NATIONAL_SPECIFIC);
                assert_eq!(octets.as_slice(), &[0xde, 0xad]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(enc(&a), raw);
    }

    #[test]
    fn spare_gti_kept_raw() {
        // GTI 5, no SSN/PC: AI = 0001 0100 = 0x14.
        let bytes = [0x14, 0x01, 0x02, 0x03];
        let a = SccpAddress::decode(&bytes).unwrap();
        assert_eq!(a.global_title.unwrap().gti(), 5);
        assert_eq!(enc(&a), bytes);
    }

    #[test]
    fn errors() {
        assert_eq!(SccpAddress::decode(&[]), Err(AddressError::Empty));
        assert_eq!(
            SccpAddress::decode(&[0x43, 0x23]),
            Err(AddressError::TruncatedPointCode)
        );
        assert_eq!(
            SccpAddress::decode(&[0x43, 0x23, 0x01]),
            Err(AddressError::TruncatedSsn)
        );
        assert_eq!(
            SccpAddress::decode(&[0x42, 0x92, 0x00]),
            Err(AddressError::TrailingBytes(1))
        );
        assert_eq!(
            SccpAddress::decode(&[0x12, 0x08, 0x00, 0x12]),
            Err(AddressError::TruncatedGlobalTitle)
        );
        assert_eq!(
            SccpAddress::decode(&[0x04]),
            Err(AddressError::TruncatedGlobalTitle)
        );
        let mut long = vec![0x12, 0x08, 0x00, 0x12, 0x04];
        long.extend([0x11; 17]);
        assert_eq!(SccpAddress::decode(&long), Err(AddressError::TooManyDigits));
        let mut b = BytesMut::new();
        let bad = SccpAddress::route_on_ssn(Some(PointCode(0x4000)), Ssn::CAP);
        assert_eq!(
            bad.encode(&mut b),
            Err(EncodeError::PointCodeOutOfRange(0x4000))
        );
        assert!(b.is_empty());
    }

    #[test]
    fn reply_swaps() {
        let a = SccpAddress::route_on_ssn(None, Ssn::CAP);
        let b = SccpAddress::route_on_ssn(Some(PointCode(1)), Ssn::MSC);
        assert_eq!(reply_addresses(&a, &b), (b, a));
    }
}
