//! Errors of the M3UA layer, split as quinn does: what the *peer* got wrong (a
//! [`DecodeError`], which maps to the ERR code it is owed, RFC 4666 §3.8.1) apart from what *we*
//! were asked to do wrongly ([`EncodeError`], and `AssociationError` in the state machine).

use crate::error_code::ErrorCode;
use crate::header::MessageClass;
use crate::params::Tag;

/// A received message could not be decoded. [`DecodeError::error_code`] is the ERR code owed to
/// the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer octets than the header or its length field announce.
    #[error("incomplete message: {needed} octets needed, {available} available")]
    Incomplete {
        /// Octets the message needs.
        needed: usize,
        /// Octets available.
        available: usize,
    },
    /// The version octet is not 1.
    #[error("invalid version {0}")]
    InvalidVersion(u8),
    /// The message class is unknown or unsupported (RKM included).
    #[error("unsupported message class {0:?}")]
    UnsupportedClass(MessageClass),
    /// The message type is unknown or unsupported in its class.
    #[error("unsupported message type {msg_type} in class {class:?}")]
    UnsupportedType {
        /// The class.
        class: MessageClass,
        /// The type octet.
        msg_type: u8,
    },
    /// The header's length field is below 8 or otherwise impossible.
    #[error("invalid message length {0}")]
    InvalidLength(u32),
    /// Octets follow the message the header delimits.
    #[error("{0} trailing octets after the message")]
    TrailingBytes(usize),
    /// A parameter's length field is wrong for its tag or overruns the message.
    #[error("parameter {tag:?}: {reason}")]
    ParameterField {
        /// The parameter tag.
        tag: Tag,
        /// What is wrong.
        reason: &'static str,
    },
    /// A mandatory parameter is absent.
    #[error("{message}: missing mandatory parameter {tag:?}")]
    MissingParameter {
        /// The message being decoded.
        message: &'static str,
        /// The missing parameter.
        tag: Tag,
    },
    /// A known parameter is not allowed in this message, or appears twice.
    #[error("{message}: unexpected parameter {tag:?}")]
    UnexpectedParameter {
        /// The message being decoded.
        message: &'static str,
        /// The offending parameter.
        tag: Tag,
    },
    /// A parameter value is out of range.
    #[error("parameter {tag:?}: invalid value: {reason}")]
    InvalidParameterValue {
        /// The parameter tag.
        tag: Tag,
        /// What is wrong.
        reason: &'static str,
    },
}

impl DecodeError {
    /// The ERR code the peer is owed for this message (RFC 4666 §3.8.1).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            DecodeError::Incomplete { .. }
            | DecodeError::InvalidLength(_)
            | DecodeError::TrailingBytes(_) => ErrorCode::PROTOCOL_ERROR,
            DecodeError::InvalidVersion(_) => ErrorCode::INVALID_VERSION,
            DecodeError::UnsupportedClass(_) => ErrorCode::UNSUPPORTED_MESSAGE_CLASS,
            DecodeError::UnsupportedType { .. } => ErrorCode::UNSUPPORTED_MESSAGE_TYPE,
            DecodeError::ParameterField { .. } => ErrorCode::PARAMETER_FIELD_ERROR,
            DecodeError::MissingParameter { .. } => ErrorCode::MISSING_PARAMETER,
            DecodeError::UnexpectedParameter { .. } => ErrorCode::UNEXPECTED_PARAMETER,
            DecodeError::InvalidParameterValue { .. } => ErrorCode::INVALID_PARAMETER_VALUE,
        }
    }
}

/// A message could not be encoded because a field exceeds what the wire format can carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A parameter value is longer than the 16-bit length field allows (65531 octets).
    #[error("parameter {0:?} is too long to encode")]
    ParameterTooLong(Tag),
    /// INFO String is limited to 255 octets (RFC 4666 §3.8.2).
    #[error("INFO String longer than 255 octets")]
    InfoStringTooLong,
    /// A mandatory list is empty.
    #[error("mandatory parameter {0:?} is empty")]
    EmptyMandatory(Tag),
    /// An unknown-parameter entry uses a tag this codec interprets itself.
    #[error("raw parameter uses reserved tag {0:?}")]
    ReservedTag(Tag),
    /// The whole message exceeds the 32-bit length field.
    #[error("message too long")]
    MessageTooLong,
}
