//! The crate's error types: one for decoding (the peer sent something wrong), one for encoding
//! (the caller asked for something that cannot be put on the wire).

use crate::{MessageType, ParameterName};

/// Why a party address (Q.713 §3.4) could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The address has no address indicator octet.
    #[error("address is empty")]
    Empty,
    /// The point code indicator is set but fewer than 2 octets follow.
    #[error("point code truncated")]
    TruncatedPointCode,
    /// The SSN indicator is set but the SSN octet is missing.
    #[error("subsystem number truncated")]
    TruncatedSsn,
    /// The global title's fixed octets (TT, NP/ES, NAI) are missing.
    #[error("global title truncated")]
    TruncatedGlobalTitle,
    /// The global title holds more BCD digits than [`crate::MAX_DIGITS`].
    #[error("global title has more than 32 digits")]
    TooManyDigits,
    /// The global title's address information is longer than [`crate::MAX_RAW_OCTETS`].
    #[error("global title address information longer than 32 octets")]
    GlobalTitleTooLong,
    /// Octets remain after the last element the address indicator announces (GTI 0).
    #[error("{0} trailing octets in address")]
    TrailingBytes(usize),
}

/// Why an SCCP message could not be decoded.
///
/// Every variant carries only static context, so building one never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is empty.
    #[error("empty SCCP message")]
    Empty,
    /// The message type is valid SCCP but not one this crate decodes (connection-oriented, LUDT...).
    #[error("unsupported SCCP message type {0}")]
    UnsupportedMessageType(MessageType),
    /// A message-specific decoder was given another message type.
    #[error("expected message type {expected}, found {found}")]
    UnexpectedMessageType {
        /// The type the decoder handles.
        expected: MessageType,
        /// The type found in the first octet.
        found: MessageType,
    },
    /// The message ends inside its fixed part or its pointers.
    #[error("message truncated in {0}")]
    Truncated(&'static str),
    /// A mandatory variable parameter's pointer is zero.
    #[error("pointer to {0} is zero")]
    NullPointer(ParameterName),
    /// A pointer addresses an octet beyond the end of the message.
    #[error("pointer to {0} points outside the message")]
    PointerOutOfRange(ParameterName),
    /// A pointer addresses an octet inside the fixed part or the pointer block.
    #[error("pointer to {0} points into the fixed part")]
    PointerIntoFixedPart(ParameterName),
    /// Two mandatory variable parameters share octets; names the second one read.
    #[error("{0} overlaps another parameter")]
    OverlappingParameters(ParameterName),
    /// The optional part starts before the end of the mandatory variable part.
    #[error("optional part does not follow the mandatory variable part")]
    OptionalPartBeforeEnd,
    /// The optional-part pointer addresses an octet beyond the end of the message.
    #[error("optional part pointer points outside the message")]
    OptionalPointerOutOfRange,
    /// A parameter's length octet announces more octets than the message holds.
    #[error("{0} runs past the end of the message")]
    ParameterOverrun(ParameterName),
    /// The protocol class is not 0 or 1, which connectionless messages require.
    #[error("protocol class {0} is not valid in a connectionless message")]
    InvalidProtocolClass(u8),
    /// A party address is malformed.
    #[error("{param}: {reason}")]
    Address {
        /// Which address.
        param: ParameterName,
        /// What is wrong with it.
        reason: AddressError,
    },
    /// A known optional parameter has the wrong length.
    #[error("optional parameter {param} has invalid length {len}")]
    OptionalParameterLength {
        /// The parameter.
        param: ParameterName,
        /// The length found.
        len: u8,
    },
    /// The optional part ends without the end-of-optional-parameters octet (Q.713 §3.1).
    #[error("optional part not terminated by end of optional parameters")]
    MissingEndOfOptionalParameters,
    /// Octets remain after the last parameter of the message.
    #[error("{0} trailing octets after the last parameter")]
    TrailingBytes(usize),
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// An ITU point code is 14 bits.
    #[error("point code {0} does not fit in 14 bits")]
    PointCodeOutOfRange(u16),
    /// A field is wider than its place on the wire.
    #[error("{field} value {value} out of range")]
    FieldOutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u8,
    },
    /// A parameter is longer than its one-octet length field allows.
    #[error("{param} is {len} octets, more than 255")]
    ParameterTooLong {
        /// The parameter.
        param: ParameterName,
        /// Its length.
        len: usize,
    },
    /// A one-octet pointer cannot reach the parameter (the message is too long). The optional
    /// part is named by [`ParameterName::END_OF_OPTIONAL_PARAMETERS`].
    #[error("pointer to {0} exceeds 255")]
    PointerOverflow(ParameterName),
}

/// Why a digit string could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DigitsError {
    /// More than [`crate::MAX_DIGITS`] digits.
    #[error("more than 32 digits")]
    TooLong,
    /// A character that is not a hexadecimal digit.
    #[error("invalid digit {0:?}")]
    InvalidDigit(char),
}
