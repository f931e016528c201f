//! The M3UA common message header, RFC 4666 §3.1.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Version    |   Reserved    | Message Class | Message Type  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Message Length                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Version is 1 (§3.1.1). Message Length counts the header and all parameters including their
//! padding (§3.1.5). Message classes and types are in §3.1.3 / §3.1.4.

use nom::number::complete::{be_u32, be_u8};
use nom::sequence::tuple;

use crate::error::DecodeError;

/// The only protocol version defined (RFC 4666 §3.1.1, "Release 1.0").
pub const VERSION: u8 = 1;

/// Length of the common header in octets.
pub const HEADER_LEN: usize = 8;

open_code! {
    /// Message Class (RFC 4666 §3.1.3), an open newtype.
    MessageClass(u8) {
        /// Management (MGMT): ERR, NTFY.
        MGMT = 0 => "MGMT",
        /// Transfer: DATA.
        TRANSFER = 1 => "Transfer",
        /// SS7 Signalling Network Management (SSNM).
        SSNM = 2 => "SSNM",
        /// ASP State Maintenance (ASPSM).
        ASPSM = 3 => "ASPSM",
        /// ASP Traffic Maintenance (ASPTM).
        ASPTM = 4 => "ASPTM",
        /// Routing Key Management (RKM); defined by RFC 4666 but not supported here.
        RKM = 9 => "RKM",
    }
}

/// Message types within their class (RFC 4666 §3.1.4).
pub mod msg_type {
    /// MGMT: Error.
    pub const ERR: u8 = 0;
    /// MGMT: Notify.
    pub const NTFY: u8 = 1;
    /// Transfer: Payload Data.
    pub const DATA: u8 = 1;
    /// SSNM: Destination Unavailable.
    pub const DUNA: u8 = 1;
    /// SSNM: Destination Available.
    pub const DAVA: u8 = 2;
    /// SSNM: Destination State Audit.
    pub const DAUD: u8 = 3;
    /// SSNM: Signalling Congestion.
    pub const SCON: u8 = 4;
    /// SSNM: Destination User Part Unavailable.
    pub const DUPU: u8 = 5;
    /// SSNM: Destination Restricted.
    pub const DRST: u8 = 6;
    /// ASPSM: ASP Up.
    pub const ASP_UP: u8 = 1;
    /// ASPSM: ASP Down.
    pub const ASP_DOWN: u8 = 2;
    /// ASPSM: Heartbeat.
    pub const BEAT: u8 = 3;
    /// ASPSM: ASP Up Acknowledgement.
    pub const ASP_UP_ACK: u8 = 4;
    /// ASPSM: ASP Down Acknowledgement.
    pub const ASP_DOWN_ACK: u8 = 5;
    /// ASPSM: Heartbeat Acknowledgement.
    pub const BEAT_ACK: u8 = 6;
    /// ASPTM: ASP Active.
    pub const ASP_ACTIVE: u8 = 1;
    /// ASPTM: ASP Inactive.
    pub const ASP_INACTIVE: u8 = 2;
    /// ASPTM: ASP Active Acknowledgement.
    pub const ASP_ACTIVE_ACK: u8 = 3;
    /// ASPTM: ASP Inactive Acknowledgement.
    pub const ASP_INACTIVE_ACK: u8 = 4;
}

/// The 8-octet common header, as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHeader {
    /// Protocol version (must be [`VERSION`]).
    pub version: u8,
    /// Reserved octet; should be 0 and is ignored on receipt.
    pub reserved: u8,
    /// Message class.
    pub class: MessageClass,
    /// Message type within the class.
    pub msg_type: u8,
    /// Total message length in octets, header and padding included.
    pub length: u32,
}

impl CommonHeader {
    /// Reads the 8-octet header without validating it. Fails only when fewer than 8 octets are
    /// available.
    pub fn parse(input: &[u8]) -> Result<(CommonHeader, &[u8]), DecodeError> {
        let res: nom::IResult<&[u8], (u8, u8, u8, u8, u32)> =
            tuple((be_u8, be_u8, be_u8, be_u8, be_u32))(input);
        match res {
            Ok((rest, (version, reserved, class, msg_type, length))) => Ok((
                CommonHeader {
                    version,
                    reserved,
                    class: MessageClass(class),
                    msg_type,
                    length,
                },
                rest,
            )),
            Err(_) => Err(DecodeError::Incomplete {
                needed: HEADER_LEN,
                available: input.len(),
            }),
        }
    }

    /// Whether this header announces an ERR message; an ERR is never answered with an ERR.
    pub fn is_err(&self) -> bool {
        self.class == MessageClass::MGMT && self.msg_type == msg_type::ERR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header() {
        // ASP Up, length 16: hand-computed from RFC 4666 §3.1 and §3.5.1.
        let bytes = [0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x10, 0xaa];
        let (h, rest) = CommonHeader::parse(&bytes).unwrap();
        assert_eq!(h.version, 1);
        assert_eq!(h.class, MessageClass::ASPSM);
        assert_eq!(h.msg_type, msg_type::ASP_UP);
        assert_eq!(h.length, 16);
        assert_eq!(rest, &[0xaa]);
    }

    #[test]
    fn short_header_is_incomplete() {
        assert_eq!(
            CommonHeader::parse(&[1, 0, 3]),
            Err(DecodeError::Incomplete {
                needed: 8,
                available: 3
            })
        );
    }

    #[test]
    fn class_debug() {
        assert_eq!(format!("{:?}", MessageClass::ASPTM), "ASPTM");
        assert_eq!(format!("{:?}", MessageClass(7)), "MessageClass(0x7)");
    }
}
