//! Reject problem codes (Q.773 §3.2, Table 17 / X.880 `Reject`).
//!
//! ```asn1
//! problem CHOICE {
//!   generalProblem      [0] IMPLICIT GeneralProblem,
//!   invokeProblem       [1] IMPLICIT InvokeProblem,
//!   returnResultProblem [2] IMPLICIT ReturnResultProblem,
//!   returnErrorProblem  [3] IMPLICIT ReturnErrorProblem }
//!
//! GeneralProblem ::= INTEGER { unrecognizedComponent(0), mistypedComponent(1),
//!   badlyStructuredComponent(2) }
//! InvokeProblem ::= INTEGER { duplicateInvokeID(0), unrecognizedOperation(1),
//!   mistypedParameter(2), resourceLimitation(3), initiatingRelease(4),
//!   unrecognizedLinkedID(5), linkedResponseUnexpected(6), unexpectedLinkedOperation(7) }
//! ReturnResultProblem ::= INTEGER { unrecognizedInvokeID(0), returnResultUnexpected(1),
//!   mistypedParameter(2) }
//! ReturnErrorProblem ::= INTEGER { unrecognizedInvokeID(0), returnErrorUnexpected(1),
//!   unrecognizedError(2), unexpectedError(3), mistypedParameter(4) }
//! ```

use bytes::BytesMut;
use strowger_ber::{decode_i64, write_integer, Tag, Tlv};

code_point! {
    /// `GeneralProblem`: the component itself could not be understood.
    GeneralProblem(u8) {
        /// The component type is not one of Invoke, ReturnResult, ReturnError, Reject.
        UNRECOGNIZED_COMPONENT = 0 => "unrecognizedComponent",
        /// An element of the component has the wrong type.
        MISTYPED_COMPONENT = 1 => "mistypedComponent",
        /// The component is not well-formed BER.
        BADLY_STRUCTURED_COMPONENT = 2 => "badlyStructuredComponent",
    }
}

code_point! {
    /// `InvokeProblem`: a problem with a received Invoke.
    InvokeProblem(u8) {
        /// The invoke id is that of an invocation still in progress.
        DUPLICATE_INVOKE_ID = 0 => "duplicateInvokeID",
        /// The operation code is not one of the application context.
        UNRECOGNIZED_OPERATION = 1 => "unrecognizedOperation",
        /// The argument does not decode as the operation's argument type.
        MISTYPED_PARAMETER = 2 => "mistypedParameter",
        /// The responder cannot take the invocation now.
        RESOURCE_LIMITATION = 3 => "resourceLimitation",
        /// The responder is releasing the dialogue.
        INITIATING_RELEASE = 4 => "initiatingRelease",
        /// The linked id refers to no invocation in progress.
        UNRECOGNIZED_LINKED_ID = 5 => "unrecognizedLinkedID",
        /// The linked invocation does not expect linked operations.
        LINKED_RESPONSE_UNEXPECTED = 6 => "linkedResponseUnexpected",
        /// This operation may not be linked to that one.
        UNEXPECTED_LINKED_OPERATION = 7 => "unexpectedLinkedOperation",
    }
}

code_point! {
    /// `ReturnResultProblem`: a problem with a received ReturnResult.
    ReturnResultProblem(u8) {
        /// No invocation with this id is in progress.
        UNRECOGNIZED_INVOKE_ID = 0 => "unrecognizedInvokeID",
        /// The operation does not report success.
        RETURN_RESULT_UNEXPECTED = 1 => "returnResultUnexpected",
        /// The result does not decode as the operation's result type.
        MISTYPED_PARAMETER = 2 => "mistypedParameter",
    }
}

code_point! {
    /// `ReturnErrorProblem`: a problem with a received ReturnError.
    ReturnErrorProblem(u8) {
        /// No invocation with this id is in progress.
        UNRECOGNIZED_INVOKE_ID = 0 => "unrecognizedInvokeID",
        /// The operation does not report failure.
        RETURN_ERROR_UNEXPECTED = 1 => "returnErrorUnexpected",
        /// The error code is not one of the application context.
        UNRECOGNIZED_ERROR = 2 => "unrecognizedError",
        /// The error is not one the operation may return.
        UNEXPECTED_ERROR = 3 => "unexpectedError",
        /// The error parameter does not decode as the error's parameter type.
        MISTYPED_PARAMETER = 4 => "mistypedParameter",
    }
}

/// The `problem` CHOICE of a Reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Problem {
    /// `generalProblem [0]`.
    General(GeneralProblem),
    /// `invokeProblem [1]`.
    Invoke(InvokeProblem),
    /// `returnResultProblem [2]`.
    ReturnResult(ReturnResultProblem),
    /// `returnErrorProblem [3]`.
    ReturnError(ReturnErrorProblem),
}

impl Problem {
    pub(crate) fn from_tlv(tlv: &Tlv<'_>) -> Option<Problem> {
        if tlv.tag.constructed || tlv.tag.class != strowger_ber::Class::Context {
            return None;
        }
        let v = u8::try_from(decode_i64(tlv.value).ok()?).ok()?;
        Some(match tlv.tag.number {
            0 => Problem::General(GeneralProblem(v)),
            1 => Problem::Invoke(InvokeProblem(v)),
            2 => Problem::ReturnResult(ReturnResultProblem(v)),
            3 => Problem::ReturnError(ReturnErrorProblem(v)),
            _ => return None,
        })
    }

    pub(crate) fn write(&self, buf: &mut BytesMut) {
        let (n, v) = match self {
            Problem::General(p) => (0, p.0),
            Problem::Invoke(p) => (1, p.0),
            Problem::ReturnResult(p) => (2, p.0),
            Problem::ReturnError(p) => (3, p.0),
        };
        write_integer(buf, Tag::ctx(n), i64::from(v));
    }
}
