//! Decode errors of the BER layer.

use nom::error::{ErrorKind, ParseError};

use crate::tag::Tag;

/// Why a BER value could not be decoded. Carries only static context so it is cheap to build
/// on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    /// The input ended inside a tag, a length or a value.
    #[error("truncated BER input")]
    Truncated,
    /// A long-form tag number does not fit 32 bits.
    #[error("tag number too large")]
    TagTooLarge,
    /// A long-form length with more than four length octets, or the reserved 0xFF.
    #[error("unsupported length form")]
    BadLength,
    /// The indefinite length form on a primitive value (X.690 §8.1.3.2).
    #[error("indefinite length on a primitive value")]
    IndefinitePrimitive,
    /// Indefinite-length values nested deeper than the limit.
    #[error("nesting too deep")]
    TooDeep,
    /// A tag other than the one the ASN.1 definition requires here.
    #[error("unexpected tag {found:?}, expected {expected:?}")]
    UnexpectedTag {
        /// The tag the definition requires.
        expected: Tag,
        /// The tag found.
        found: Tag,
    },
    /// A mandatory component is absent.
    #[error("missing mandatory component {0}")]
    Missing(&'static str),
    /// A value whose content breaks its type's rules (e.g. an empty INTEGER).
    #[error("invalid value: {0}")]
    Invalid(&'static str),
    /// Bytes left over after a complete value where none are allowed.
    #[error("trailing bytes after {0}")]
    Trailing(&'static str),
    /// A nom combinator failed.
    #[error("parse error ({0:?})")]
    Nom(ErrorKind),
}

/// Result of a BER decode step.
pub type BerResult<T> = Result<T, BerError>;

impl<I> ParseError<I> for BerError {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        BerError::Nom(kind)
    }

    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl From<nom::Err<BerError>> for BerError {
    fn from(e: nom::Err<BerError>) -> Self {
        match e {
            nom::Err::Incomplete(_) => BerError::Truncated,
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
        }
    }
}
