//! Decode errors of the CAP layer and the answer each one owes the peer.
//!
//! TS 29.078 §14 / ETS 300 374-1 §8 (error procedures): an operation the application context
//! does not contain is rejected (`unrecognizedOperation`); an argument that is not valid BER
//! for its ASN.1 type is rejected (`mistypedParameter`); an argument that parses but lacks a
//! parameter the procedure needs, or carries a value outside its range, is answered with the
//! CAP error the operation's `ERRORS` set names, falling back to a reject where that set does
//! not name it (e.g. EventReportBCSM has no errors at all).

use strowger_ber::BerError;

use crate::errors::ErrorCode;
use crate::opcode::OpCode;

/// Why a CAP/INAP operation argument, result or error parameter could not be decoded.
/// Carries only static context, so it is cheap to build on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    /// The operation code is not part of the dialect's application context.
    #[error("unrecognized operation {0:?}")]
    UnknownOperation(OpCode),
    /// The argument is not valid BER for its ASN.1 type (bad TLV, wrong tag, trailing bytes).
    #[error("malformed {what}: {source}")]
    Malformed {
        /// The ASN.1 type or component being decoded.
        what: &'static str,
        /// The BER-level problem.
        source: BerError,
    },
    /// A mandatory parameter (or the whole argument) is absent.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// An argument was present where the operation takes none.
    #[error("unexpected parameter {0}")]
    UnexpectedParameter(&'static str),
    /// A value outside the range its ASN.1 type allows.
    #[error("parameter out of range: {0}")]
    OutOfRange(&'static str),
    /// A value the type allows but whose contents cannot be interpreted (e.g. a bad BCD digit).
    #[error("unexpected data value: {0}")]
    UnexpectedDataValue(&'static str),
}

/// What the TC-user owes the peer for a failed decode of an Invoke's argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// TC-U-REJECT with invoke problem `unrecognizedOperation` (Q.773 §3.2.2.2).
    RejectUnrecognizedOperation,
    /// TC-U-REJECT with invoke problem `mistypedParameter`.
    RejectMistypedParameter,
    /// TC-U-ERROR (ReturnError) with this CAP error code and no parameter.
    ReturnError(ErrorCode),
}

impl CapError {
    /// The answer owed for this failure when decoding the argument of an Invoke of `op`.
    /// ReturnError is chosen only when `op`'s ERRORS set contains the error.
    pub fn answer(&self, op: OpCode) -> Answer {
        let allowed = op.errors();
        let pick = |codes: &[ErrorCode]| {
            codes
                .iter()
                .find(|c| allowed.contains(c))
                .map_or(Answer::RejectMistypedParameter, |c| Answer::ReturnError(*c))
        };
        match self {
            CapError::UnknownOperation(_) => Answer::RejectUnrecognizedOperation,
            CapError::Malformed { .. } => Answer::RejectMistypedParameter,
            CapError::MissingParameter(_) => pick(&[ErrorCode::MISSING_PARAMETER]),
            CapError::UnexpectedParameter(_) => pick(&[ErrorCode::UNEXPECTED_PARAMETER]),
            CapError::OutOfRange(_) => pick(&[
                ErrorCode::PARAMETER_OUT_OF_RANGE,
                ErrorCode::UNEXPECTED_DATA_VALUE,
            ]),
            CapError::UnexpectedDataValue(_) => pick(&[ErrorCode::UNEXPECTED_DATA_VALUE]),
        }
    }
}

/// Map a BER error met while decoding `what`: a missing mandatory component becomes
/// [`CapError::MissingParameter`], anything else [`CapError::Malformed`].
#[inline]
pub(crate) fn ber(what: &'static str) -> impl Fn(BerError) -> CapError {
    move |e| match e {
        BerError::Missing(m) => CapError::MissingParameter(m),
        source => CapError::Malformed { what, source },
    }
}

/// Result of a CAP decode step.
pub type CapResult<T> = Result<T, CapError>;
