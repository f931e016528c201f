//! Sans-IO ITU-T Q.713 connectionless SCCP for Strowger.
//!
//! Decodes and encodes UDT, UDTS, XUDT and XUDTS with their party addresses (point code, SSN,
//! global title GTI 1–4 with BCD digits). Decoding is zero-copy and allocation-free: the user data
//! borrows from the input, and addresses are small `Copy` values with inline digit storage.
//! Encoding appends to a [`bytes::BytesMut`] and validates before writing, so a failed encode
//! leaves the buffer as it was.
//!
//! | item | Q.713 clause |
//! |------|--------------|
//! | [`Udt`], [`Udts`], [`Xudt`], [`Xudts`] | §4.10, §4.11, §4.18, §4.19 |
//! | pointers, optional part | §1.7, §2.3 |
//! | [`ProtocolClass`] | §3.6 |
//! | [`ReturnCause`] | §3.12 |
//! | [`SccpAddress`], [`PointCode`], [`Ssn`] | §3.4 |
//! | [`GlobalTitle`], [`Digits`] | §3.4.2.3 |
//! | [`Segmentation`], hop counter, [`Importance`] | §3.17, §3.18, §3.19 |
//! | service messages ([`Message::service_message`]) | Q.714 §4.2 |
//!
//! Not supported: connection-oriented messages and LUDT/LUDTS (reported as
//! [`DecodeError::UnsupportedMessageType`]), ANSI T1.112 address formats.
//!
//! ```
//! use strowger_sccp::{decode, Message, ReturnCause};
//! # let wire: &[u8] = &[0x09, 0x80, 0x03, 0x05, 0x07, 0x02, 0x42, 0x92, 0x02, 0x42, 0x92, 0x01, 0xaa];
//! let msg = decode(wire)?;
//! let tcap = msg.data();
//! # assert_eq!(tcap, &[0xaa]);
//! // Answer with the addresses swapped:
//! let reply = msg.reply(&[0x64, 0x00]).expect("UDT is answerable");
//! // Or, if the message cannot be delivered and asked to be returned:
//! if let Some(udts) = msg.service_message(ReturnCause::SUBSYSTEM_FAILURE) {
//!     let mut out = bytes::BytesMut::new();
//!     udts.encode(&mut out)?;
//! }
//! # let _ = reply;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod newtype;

mod address;
mod digits;
mod error;
mod global_title;
mod importance;
mod layout;
mod message;
mod message_type;
mod parameter;
mod point_code;
mod protocol_class;
mod return_cause;
mod segmentation;
mod ssn;
mod udt;
mod udts;
mod xudt;
mod xudts;

#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
mod tests;

pub use address::{reply_addresses, RoutingIndicator, SccpAddress};
pub use digits::{Digits, RawOctets, MAX_DIGITS, MAX_RAW_OCTETS};
pub use error::{AddressError, DecodeError, DigitsError, EncodeError};
pub use global_title::{
    EncodingScheme, GlobalTitle, GtAddress, NatureOfAddress, NumberingPlan, TranslationType,
};
pub use importance::Importance;
pub use message::{decode, Message};
pub use message_type::MessageType;
pub use parameter::ParameterName;
pub use point_code::PointCode;
pub use protocol_class::{Class, ProtocolClass};
pub use return_cause::ReturnCause;
pub use segmentation::Segmentation;
pub use ssn::Ssn;
pub use udt::Udt;
pub use udts::Udts;
pub use xudt::Xudt;
pub use xudts::Xudts;

/// Initial hop counter value for a new XUDT/XUDTS (Q.713 §3.18).
pub const HOP_COUNTER_MAX: u8 = 15;
