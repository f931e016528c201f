//! CAP error codes and error parameters (TS 29.078 §5.2 CAP-errortypes, §5.4 CAP-errorcodes;
//! ETS 300 374-1 §6.3–6.4 for Core INAP CS-1, which uses the same codes and parameters and
//! adds unknownResource(18)).
//!
//! ```asn1
//! cancelFailed ERROR ::= { PARAMETER SEQUENCE {
//!     problem   [0] ENUMERATED { unknownOperation(0), tooLate(1), operationNotCancellable(2) },
//!     operation [1] InvokeID, ... } CODE local:1 }
//! requestedInfoError ERROR ::= { PARAMETER ENUMERATED { unknownRequestedInfo(1),
//!     requestedInfoNotAvailable(2) } CODE local:10 }
//! systemFailure ERROR ::= { PARAMETER UnavailableNetworkResource CODE local:11 }
//! taskRefused ERROR ::= { PARAMETER ENUMERATED { generic(0), unobtainable(1),
//!     congestion(2) } CODE local:12 }
//! ```

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_enumerated, write_integer, Tag};

use crate::common::open_enum;
use crate::error::{ber, CapError, CapResult};
use crate::util::{int, int_range, single};

open_enum! {
    /// A local error code (TCAP ReturnError `errorCode`). Note the CAP-errorcodes module
    /// gives unknownPDPID 50 and unknownCSID 51.
    ErrorCode {
        CANCELED = 0, "canceled";
        CANCEL_FAILED = 1, "cancelFailed";
        ETC_FAILED = 3, "eTCFailed";
        IMPROPER_CALLER_RESPONSE = 4, "improperCallerResponse";
        MISSING_CUSTOMER_RECORD = 6, "missingCustomerRecord";
        MISSING_PARAMETER = 7, "missingParameter";
        PARAMETER_OUT_OF_RANGE = 8, "parameterOutOfRange";
        REQUESTED_INFO_ERROR = 10, "requestedInfoError";
        SYSTEM_FAILURE = 11, "systemFailure";
        TASK_REFUSED = 12, "taskRefused";
        UNAVAILABLE_RESOURCE = 13, "unavailableResource";
        UNEXPECTED_COMPONENT_SEQUENCE = 14, "unexpectedComponentSequence";
        UNEXPECTED_DATA_VALUE = 15, "unexpectedDataValue";
        UNEXPECTED_PARAMETER = 16, "unexpectedParameter";
        UNKNOWN_LEG_ID = 17, "unknownLegID";
        UNKNOWN_RESOURCE = 18, "unknownResource";
        UNKNOWN_PDPID = 50, "unknownPDPID";
        UNKNOWN_CSID = 51, "unknownCSID";
    }
}

open_enum! {
    /// The `problem` of cancelFailed.
    CancelProblem {
        UNKNOWN_OPERATION = 0, "unknownOperation";
        TOO_LATE = 1, "tooLate";
        OPERATION_NOT_CANCELLABLE = 2, "operationNotCancellable";
    }
}

open_enum! {
    /// The parameter of requestedInfoError.
    RequestedInfoErrorReason {
        UNKNOWN_REQUESTED_INFO = 1, "unknownRequestedInfo";
        REQUESTED_INFO_NOT_AVAILABLE = 2, "requestedInfoNotAvailable";
    }
}

open_enum! {
    /// `UnavailableNetworkResource`, the parameter of systemFailure.
    UnavailableNetworkResource {
        UNAVAILABLE_RESOURCES = 0, "unavailableResources";
        COMPONENT_FAILURE = 1, "componentFailure";
        BASIC_CALL_PROCESSING_EXCEPTION = 2, "basicCallProcessingException";
        RESOURCE_STATUS_FAILURE = 3, "resourceStatusFailure";
        END_USER_FAILURE = 4, "endUserFailure";
    }
}

open_enum! {
    /// The parameter of taskRefused.
    TaskRefusedReason {
        GENERIC = 0, "generic";
        UNOBTAINABLE = 1, "unobtainable";
        CONGESTION = 2, "congestion";
    }
}

/// A CAP error with its parameter, as carried by a TCAP ReturnError.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapErrorValue {
    /// An error whose definition has no PARAMETER (or an unknown code without one).
    Plain(ErrorCode),
    /// cancelFailed(1).
    CancelFailed {
        /// Why the cancel failed.
        problem: CancelProblem,
        /// The invoke id of the operation that was to be cancelled.
        operation: i8,
    },
    /// requestedInfoError(10).
    RequestedInfoError(RequestedInfoErrorReason),
    /// systemFailure(11).
    SystemFailure(UnavailableNetworkResource),
    /// taskRefused(12).
    TaskRefused(TaskRefusedReason),
}

impl CapErrorValue {
    /// The error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            CapErrorValue::Plain(c) => *c,
            CapErrorValue::CancelFailed { .. } => ErrorCode::CANCEL_FAILED,
            CapErrorValue::RequestedInfoError(_) => ErrorCode::REQUESTED_INFO_ERROR,
            CapErrorValue::SystemFailure(_) => ErrorCode::SYSTEM_FAILURE,
            CapErrorValue::TaskRefused(_) => ErrorCode::TASK_REFUSED,
        }
    }

    /// Decode a ReturnError's code and parameter TLV. A parameter on an error defined without
    /// one, or an unknown error code with a parameter, is tolerated and ignored (the code is
    /// what the service logic acts on); a malformed parameter of a known error is not.
    pub fn decode(code: ErrorCode, param: Option<&[u8]>) -> CapResult<Self> {
        const W: &str = "error parameter";
        let enumerated = |p: Option<&[u8]>| -> CapResult<i64> {
            let t = crate::util::required(p, W)?;
            int(t.expect(Tag::ENUMERATED).map_err(ber(W))?, W)
        };
        Ok(match code {
            ErrorCode::CANCEL_FAILED => {
                let t = crate::util::required(param, W)?;
                let mut r = crate::util::reader(t.expect(Tag::SEQUENCE).map_err(ber(W))?, W)?;
                let problem = int(r.expect(Tag::ctx(0), "problem").map_err(ber(W))?, W)?;
                let op = int_range(
                    r.expect(Tag::ctx(1), "operation").map_err(ber(W))?,
                    W,
                    -128,
                    127,
                )?;
                r.skip_rest().map_err(ber(W))?;
                CapErrorValue::CancelFailed {
                    problem: CancelProblem(problem),
                    operation: i8::try_from(op).map_err(|_| CapError::OutOfRange(W))?,
                }
            }
            ErrorCode::REQUESTED_INFO_ERROR => {
                CapErrorValue::RequestedInfoError(RequestedInfoErrorReason(enumerated(param)?))
            }
            ErrorCode::SYSTEM_FAILURE => {
                CapErrorValue::SystemFailure(UnavailableNetworkResource(enumerated(param)?))
            }
            ErrorCode::TASK_REFUSED => {
                CapErrorValue::TaskRefused(TaskRefusedReason(enumerated(param)?))
            }
            other => {
                if let Some(p) = param {
                    single(p, W)?;
                }
                CapErrorValue::Plain(other)
            }
        })
    }

    /// Write the error parameter TLV (nothing for errors without one).
    pub fn encode_param(&self, buf: &mut BytesMut) {
        match *self {
            CapErrorValue::Plain(_) => {}
            CapErrorValue::CancelFailed { problem, operation } => {
                write_constructed(buf, Tag::SEQUENCE, |b| {
                    write_enumerated(b, Tag::ctx(0), problem.0);
                    write_integer(b, Tag::ctx(1), i64::from(operation));
                });
            }
            CapErrorValue::RequestedInfoError(v) => write_enumerated(buf, Tag::ENUMERATED, v.0),
            CapErrorValue::SystemFailure(v) => write_enumerated(buf, Tag::ENUMERATED, v.0),
            CapErrorValue::TaskRefused(v) => write_enumerated(buf, Tag::ENUMERATED, v.0),
        }
    }

    /// True when [`encode_param`](Self::encode_param) writes a parameter.
    pub fn has_param(&self) -> bool {
        !matches!(self, CapErrorValue::Plain(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_parameters() {
        // Hand-built from CAP-errortypes: taskRefused congestion = ENUMERATED 2.
        let mut b = BytesMut::new();
        CapErrorValue::TaskRefused(TaskRefusedReason::CONGESTION).encode_param(&mut b);
        assert_eq!(&b[..], &[0x0a, 0x01, 0x02]);
        // cancelFailed { problem [0] tooLate, operation [1] 5 } = 30 06 80 01 01 81 01 05
        let mut b = BytesMut::new();
        let v = CapErrorValue::CancelFailed {
            problem: CancelProblem::TOO_LATE,
            operation: 5,
        };
        v.encode_param(&mut b);
        assert_eq!(&b[..], &[0x30, 0x06, 0x80, 0x01, 0x01, 0x81, 0x01, 0x05]);
        assert_eq!(
            CapErrorValue::decode(ErrorCode::CANCEL_FAILED, Some(&b)).unwrap(),
            v
        );
        assert_eq!(
            CapErrorValue::decode(ErrorCode::MISSING_PARAMETER, None).unwrap(),
            CapErrorValue::Plain(ErrorCode::MISSING_PARAMETER)
        );
        assert!(CapErrorValue::decode(ErrorCode::SYSTEM_FAILURE, None).is_err());
        assert_eq!(format!("{:?}", ErrorCode::UNKNOWN_CSID), "unknownCSID(51)");
    }
}
