//! M3UA — SS7 MTP3-User Adaptation Layer, RFC 4666 — as a sans-IO codec and state machine.
//!
//! * [`Message`] / [`Body`]: every message of the MGMT, Transfer, SSNM, ASPSM and ASPTM classes
//!   (RFC 4666 §3), decoded zero-copy with nom from a `&[u8]` and encoded into a
//!   [`bytes::BytesMut`]. Unknown parameters round-trip; a message that cannot be accepted maps
//!   to the ERR code the peer is owed ([`DecodeError::error_code`], §3.8.1).
//! * [`Framer`]: cuts M3UA messages out of a TCP byte stream by the header length.
//! * [`Association`]: the ASP / SGP / IPSP state machine (§4.3), with time passed in.
//!
//! No sockets, no clocks, no runtime, no `unsafe`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod code;

pub mod asp;
pub mod error;
pub mod error_code;
pub mod framing;
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
pub mod message;
pub mod params;

pub use asp::{
    AspState, Association, AssociationError, Config, DataIndication, Destinations, Event, Request,
    Role, Transmit, Violation,
};
pub use error::{DecodeError, EncodeError};
pub use error_code::ErrorCode;
pub use framing::{FrameError, Framer, DEFAULT_MAX_MESSAGE_LEN};
pub use header::{CommonHeader, MessageClass, HEADER_LEN, VERSION};
pub use message::{
    AspActive, AspDown, AspInactive, AspUp, Beat, Body, Data, DestinationState, Dupu, ErrorMessage,
    Message, Notify, Scon,
};
pub use params::{
    AffectedPointCode, CongestionLevel, MtpUser, ProtocolData, RawParameter, Status, StatusType,
    Tag, TrafficModeType, UnavailabilityCause, UserCause, SI_SCCP,
};
