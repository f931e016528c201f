//! Operation codes (TS 29.078 §5.3 CAP-operationcodes; ETS 300 374-1 §7.3 Core INAP
//! CS-1 operation codes). CAP and INAP CS-1 share the local codes of the operations both have.
//!
//! `OpCode` is an open newtype: a code this crate does not know still round-trips and
//! prints as a number.

use std::fmt;

use crate::dialect::Dialect;
use crate::errors::ErrorCode;

/// A local operation code (the `localValue` of a TCAP Invoke's operation code).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpCode(pub i64);

macro_rules! opcodes {
    ($($name:ident = $v:expr, $s:expr;)*) => {
        impl OpCode {
            $(
                #[doc = concat!("`", $s, "` (", stringify!($v), ")")]
                pub const $name: OpCode = OpCode($v);
            )*

            /// The ASN.1 name of the operation, if this crate knows it.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some($s),)*
                    _ => None,
                }
            }
        }
    };
}

opcodes! {
    INITIAL_DP = 0, "initialDP";
    ASSIST_REQUEST_INSTRUCTIONS = 16, "assistRequestInstructions";
    ESTABLISH_TEMPORARY_CONNECTION = 17, "establishTemporaryConnection";
    DISCONNECT_FORWARD_CONNECTION = 18, "disconnectForwardConnection";
    CONNECT_TO_RESOURCE = 19, "connectToResource";
    CONNECT = 20, "connect";
    RELEASE_CALL = 22, "releaseCall";
    REQUEST_REPORT_BCSM_EVENT = 23, "requestReportBCSMEvent";
    EVENT_REPORT_BCSM = 24, "eventReportBCSM";
    CONTINUE = 31, "continue";
    RESET_TIMER = 33, "resetTimer";
    FURNISH_CHARGING_INFORMATION = 34, "furnishChargingInformation";
    APPLY_CHARGING = 35, "applyCharging";
    APPLY_CHARGING_REPORT = 36, "applyChargingReport";
    CALL_GAP = 41, "callGap";
    CALL_INFORMATION_REPORT = 44, "callInformationReport";
    CALL_INFORMATION_REQUEST = 45, "callInformationRequest";
    SEND_CHARGING_INFORMATION = 46, "sendChargingInformation";
    PLAY_ANNOUNCEMENT = 47, "playAnnouncement";
    PROMPT_AND_COLLECT_USER_INFORMATION = 48, "promptAndCollectUserInformation";
    SPECIALIZED_RESOURCE_REPORT = 49, "specializedResourceReport";
    CANCEL = 53, "cancel";
    ACTIVITY_TEST = 55, "activityTest";
    DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT = 86, "disconnectForwardConnectionWithArgument";
    CONTINUE_WITH_ARGUMENT = 88, "continueWithArgument";
}

impl fmt::Debug for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "OpCode({})", self.0),
        }
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use ErrorCode as E;

const ERR_AC: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_PARAMETER,
    E::UNEXPECTED_DATA_VALUE,
    E::PARAMETER_OUT_OF_RANGE,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNKNOWN_LEG_ID,
    E::UNKNOWN_CSID,
];
const ERR_ARI: &[ErrorCode] = &[
    E::MISSING_CUSTOMER_RECORD,
    E::MISSING_PARAMETER,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
];
const ERR_CIRQ: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::REQUESTED_INFO_ERROR,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_LEG_ID,
];
const ERR_CANCEL: &[ErrorCode] = &[
    E::CANCEL_FAILED,
    E::MISSING_PARAMETER,
    E::TASK_REFUSED,
    E::UNKNOWN_CSID,
];
const ERR_CONNECT: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_LEG_ID,
];
const ERR_CTR: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_CSID,
];
const ERR_CWA: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_LEG_ID,
    E::UNKNOWN_CSID,
];
const ERR_DFC: &[ErrorCode] = &[
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
];
const ERR_ETC: &[ErrorCode] = &[
    E::ETC_FAILED,
    E::MISSING_PARAMETER,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_CSID,
];
const ERR_FCI: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_LEG_ID,
];
const ERR_IDP: &[ErrorCode] = &[
    E::MISSING_CUSTOMER_RECORD,
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
];
const ERR_RESET: &[ErrorCode] = &[
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_CSID,
];
const ERR_PA: &[ErrorCode] = &[
    E::CANCELED,
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNAVAILABLE_RESOURCE,
    E::UNKNOWN_CSID,
];
const ERR_PACUI: &[ErrorCode] = &[
    E::CANCELED,
    E::IMPROPER_CALLER_RESPONSE,
    E::MISSING_PARAMETER,
    E::PARAMETER_OUT_OF_RANGE,
    E::SYSTEM_FAILURE,
    E::TASK_REFUSED,
    E::UNEXPECTED_COMPONENT_SEQUENCE,
    E::UNAVAILABLE_RESOURCE,
    E::UNEXPECTED_DATA_VALUE,
    E::UNEXPECTED_PARAMETER,
    E::UNKNOWN_CSID,
];

impl OpCode {
    /// The operation's ERRORS set (TS 29.078 §6.1.1 / §7.1.1): the CAP errors a responder may
    /// return for it. Empty for operations that never answer (`ALWAYS RESPONDS FALSE`) or
    /// have none (EventReportBCSM, ReleaseCall, CallGap, ActivityTest, …).
    pub fn errors(self) -> &'static [ErrorCode] {
        match self {
            OpCode::APPLY_CHARGING
            | OpCode::APPLY_CHARGING_REPORT
            | OpCode::SEND_CHARGING_INFORMATION => ERR_AC,
            OpCode::ASSIST_REQUEST_INSTRUCTIONS => ERR_ARI,
            OpCode::CALL_INFORMATION_REQUEST => ERR_CIRQ,
            OpCode::CANCEL => ERR_CANCEL,
            OpCode::CONNECT | OpCode::REQUEST_REPORT_BCSM_EVENT => ERR_CONNECT,
            OpCode::CONNECT_TO_RESOURCE | OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT => {
                ERR_CTR
            }
            OpCode::CONTINUE_WITH_ARGUMENT => ERR_CWA,
            OpCode::DISCONNECT_FORWARD_CONNECTION => ERR_DFC,
            OpCode::ESTABLISH_TEMPORARY_CONNECTION => ERR_ETC,
            OpCode::FURNISH_CHARGING_INFORMATION => ERR_FCI,
            OpCode::INITIAL_DP => ERR_IDP,
            OpCode::RESET_TIMER => ERR_RESET,
            OpCode::PLAY_ANNOUNCEMENT => ERR_PA,
            OpCode::PROMPT_AND_COLLECT_USER_INFORMATION => ERR_PACUI,
            _ => &[],
        }
    }

    /// True when the operation belongs to `dialect`'s application contexts (as far as this
    /// crate implements them): CallGap and ContinueWithArgument are CAP phase 3 additions,
    /// DisconnectForwardConnectionWithArgument a phase 4 one; Core INAP CS-1 has CallGap but
    /// neither of the others.
    pub fn in_dialect(self, dialect: Dialect) -> bool {
        match self {
            OpCode::CALL_GAP => dialect != Dialect::CapV2,
            OpCode::CONTINUE_WITH_ARGUMENT => {
                matches!(dialect, Dialect::CapV3 | Dialect::CapV4)
            }
            OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT => dialect == Dialect::CapV4,
            other => other.name().is_some(),
        }
    }

    /// True for operations whose Invoke carries no argument.
    pub fn takes_no_argument(self) -> bool {
        matches!(
            self,
            OpCode::CONTINUE | OpCode::ACTIVITY_TEST | OpCode::DISCONNECT_FORWARD_CONNECTION
        )
    }

    /// True for operations that are answered with a ReturnResult (class 1/3): ActivityTest
    /// (no result parameter) and PromptAndCollectUserInformation (ReceivedInformationArg).
    pub fn has_result(self) -> bool {
        matches!(
            self,
            OpCode::ACTIVITY_TEST | OpCode::PROMPT_AND_COLLECT_USER_INFORMATION
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_name_or_number() {
        assert_eq!(format!("{:?}", OpCode::INITIAL_DP), "initialDP(0)");
        assert_eq!(format!("{:?}", OpCode(99)), "OpCode(99)");
        assert_eq!(OpCode::CONTINUE_WITH_ARGUMENT.0, 88);
        assert_eq!(OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT.0, 86);
    }

    #[test]
    fn dialect_membership() {
        assert!(!OpCode::CALL_GAP.in_dialect(Dialect::CapV2));
        assert!(OpCode::CALL_GAP.in_dialect(Dialect::InapCs1));
        assert!(!OpCode::CONTINUE_WITH_ARGUMENT.in_dialect(Dialect::CapV2));
        assert!(OpCode::CONTINUE_WITH_ARGUMENT.in_dialect(Dialect::CapV3));
        assert!(!OpCode::CONTINUE_WITH_ARGUMENT.in_dialect(Dialect::InapCs1));
        assert!(OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT.in_dialect(Dialect::CapV4));
        assert!(!OpCode(99).in_dialect(Dialect::CapV4));
    }
}
