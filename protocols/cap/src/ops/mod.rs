//! The operations, one module per ASN.1 family, and [`Operation`], the sum of their
//! arguments, decoded from and encoded to the parameter of a TCAP Invoke.

pub mod bcsm;
pub mod charging;
pub mod connect;
pub mod initial_dp;
pub mod srf;
pub mod traffic;

use bytes::BytesMut;

use crate::dialect::Dialect;
use crate::error::{CapError, CapResult};
use crate::opcode::OpCode;

pub use bcsm::{
    BcsmEvent, DpSpecificCriteria, EventReportBcsm, EventSpecificInfo, RequestReportBcsmEvent,
};
pub use charging::{
    AChBilling, ApplyCharging, ApplyChargingReport, CallInformationReport, CallInformationRequest,
    CallResult, Fci, FciCamel, FurnishChargingInformation, RequestedInformation,
    RequestedInformationType, RequestedInformationValue, SendChargingInformation,
    TimeDurationCharging, TimeDurationChargingResult, TimeInformation,
};
pub use connect::{Connect, ContinueWithArgument, ReleaseCall};
pub use initial_dp::InitialDp;
pub use srf::{
    AssistRequestInstructions, Cancel, CollectedDigits, CollectedInfo, ConnectToResource,
    DisconnectForwardConnectionWithArgument, EstablishTemporaryConnection, InbandInfo,
    InformationToSend, MessageId, PlayAnnouncement, PromptAndCollectUserInformation,
    ReceivedInformation, ResourceAddress, SpecializedResourceReport,
};
pub use traffic::{CallGap, GapCriteria, GapTreatment, ResetTimer};

/// The argument of a CAP / INAP operation, borrowing from the Invoke's parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Operation<'a> {
    /// initialDP (0).
    InitialDp(InitialDp<'a>),
    /// assistRequestInstructions (16).
    AssistRequestInstructions(AssistRequestInstructions<'a>),
    /// establishTemporaryConnection (17).
    EstablishTemporaryConnection(EstablishTemporaryConnection<'a>),
    /// disconnectForwardConnection (18), no argument.
    DisconnectForwardConnection,
    /// connectToResource (19).
    ConnectToResource(ConnectToResource<'a>),
    /// connect (20).
    Connect(Connect<'a>),
    /// releaseCall (22).
    ReleaseCall(ReleaseCall<'a>),
    /// requestReportBCSMEvent (23).
    RequestReportBcsmEvent(RequestReportBcsmEvent<'a>),
    /// eventReportBCSM (24).
    EventReportBcsm(EventReportBcsm<'a>),
    /// continue (31), no argument.
    Continue,
    /// resetTimer (33).
    ResetTimer(ResetTimer<'a>),
    /// furnishChargingInformation (34).
    FurnishChargingInformation(FurnishChargingInformation<'a>),
    /// applyCharging (35).
    ApplyCharging(ApplyCharging<'a>),
    /// applyChargingReport (36).
    ApplyChargingReport(ApplyChargingReport<'a>),
    /// callGap (41).
    CallGap(CallGap<'a>),
    /// callInformationReport (44).
    CallInformationReport(CallInformationReport<'a>),
    /// callInformationRequest (45).
    CallInformationRequest(CallInformationRequest<'a>),
    /// sendChargingInformation (46).
    SendChargingInformation(SendChargingInformation<'a>),
    /// playAnnouncement (47).
    PlayAnnouncement(PlayAnnouncement<'a>),
    /// promptAndCollectUserInformation (48).
    PromptAndCollectUserInformation(PromptAndCollectUserInformation<'a>),
    /// specializedResourceReport (49).
    SpecializedResourceReport(SpecializedResourceReport),
    /// cancel (53).
    Cancel(Cancel),
    /// activityTest (55), no argument.
    ActivityTest,
    /// disconnectForwardConnectionWithArgument (86, CAP v4).
    DisconnectForwardConnectionWithArgument(DisconnectForwardConnectionWithArgument<'a>),
    /// continueWithArgument (88, CAP v3+).
    ContinueWithArgument(ContinueWithArgument<'a>),
}

impl<'a> Operation<'a> {
    /// Decode the argument of an Invoke of `opcode` received in a dialogue of `dialect`.
    /// `param` is the Invoke's parameter: one complete TLV, or `None` when absent.
    ///
    /// Errors: [`CapError::UnknownOperation`] for a code outside the dialect (answer with
    /// Reject unrecognizedOperation); anything else is a bad argument, see
    /// [`CapError::answer`].
    pub fn decode(dialect: Dialect, opcode: OpCode, param: Option<&'a [u8]>) -> CapResult<Self> {
        if !opcode.in_dialect(dialect) {
            return Err(CapError::UnknownOperation(opcode));
        }
        if opcode.takes_no_argument() {
            if param.is_some() {
                return Err(CapError::UnexpectedParameter(
                    "argument of an operation without one",
                ));
            }
            return Ok(match opcode {
                OpCode::CONTINUE => Operation::Continue,
                OpCode::ACTIVITY_TEST => Operation::ActivityTest,
                _ => Operation::DisconnectForwardConnection,
            });
        }
        let d = dialect;
        let p = param;
        Ok(match opcode {
            OpCode::INITIAL_DP => Operation::InitialDp(InitialDp::decode(d, p)?),
            OpCode::ASSIST_REQUEST_INSTRUCTIONS => {
                Operation::AssistRequestInstructions(AssistRequestInstructions::decode(d, p)?)
            }
            OpCode::ESTABLISH_TEMPORARY_CONNECTION => {
                Operation::EstablishTemporaryConnection(EstablishTemporaryConnection::decode(d, p)?)
            }
            OpCode::CONNECT_TO_RESOURCE => {
                Operation::ConnectToResource(ConnectToResource::decode(d, p)?)
            }
            OpCode::CONNECT => Operation::Connect(Connect::decode(d, p)?),
            OpCode::RELEASE_CALL => Operation::ReleaseCall(ReleaseCall::decode(d, p)?),
            OpCode::REQUEST_REPORT_BCSM_EVENT => {
                Operation::RequestReportBcsmEvent(RequestReportBcsmEvent::decode(d, p)?)
            }
            OpCode::EVENT_REPORT_BCSM => Operation::EventReportBcsm(EventReportBcsm::decode(d, p)?),
            OpCode::RESET_TIMER => Operation::ResetTimer(ResetTimer::decode(d, p)?),
            OpCode::FURNISH_CHARGING_INFORMATION => {
                Operation::FurnishChargingInformation(FurnishChargingInformation::decode(d, p)?)
            }
            OpCode::APPLY_CHARGING => Operation::ApplyCharging(ApplyCharging::decode(d, p)?),
            OpCode::APPLY_CHARGING_REPORT => {
                Operation::ApplyChargingReport(ApplyChargingReport::decode(d, p)?)
            }
            OpCode::CALL_GAP => Operation::CallGap(CallGap::decode(d, p)?),
            OpCode::CALL_INFORMATION_REPORT => {
                Operation::CallInformationReport(CallInformationReport::decode(d, p)?)
            }
            OpCode::CALL_INFORMATION_REQUEST => {
                Operation::CallInformationRequest(CallInformationRequest::decode(d, p)?)
            }
            OpCode::SEND_CHARGING_INFORMATION => {
                Operation::SendChargingInformation(SendChargingInformation::decode(d, p)?)
            }
            OpCode::PLAY_ANNOUNCEMENT => {
                Operation::PlayAnnouncement(PlayAnnouncement::decode(d, p)?)
            }
            OpCode::PROMPT_AND_COLLECT_USER_INFORMATION => {
                Operation::PromptAndCollectUserInformation(PromptAndCollectUserInformation::decode(
                    d, p,
                )?)
            }
            OpCode::SPECIALIZED_RESOURCE_REPORT => {
                Operation::SpecializedResourceReport(SpecializedResourceReport::decode(d, p)?)
            }
            OpCode::CANCEL => Operation::Cancel(Cancel::decode(d, p)?),
            OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT => {
                Operation::DisconnectForwardConnectionWithArgument(
                    DisconnectForwardConnectionWithArgument::decode(d, p)?,
                )
            }
            OpCode::CONTINUE_WITH_ARGUMENT => {
                Operation::ContinueWithArgument(ContinueWithArgument::decode(d, p)?)
            }
            other => return Err(CapError::UnknownOperation(other)),
        })
    }

    /// The operation code to put in the Invoke.
    pub fn opcode(&self) -> OpCode {
        match self {
            Operation::InitialDp(_) => OpCode::INITIAL_DP,
            Operation::AssistRequestInstructions(_) => OpCode::ASSIST_REQUEST_INSTRUCTIONS,
            Operation::EstablishTemporaryConnection(_) => OpCode::ESTABLISH_TEMPORARY_CONNECTION,
            Operation::DisconnectForwardConnection => OpCode::DISCONNECT_FORWARD_CONNECTION,
            Operation::ConnectToResource(_) => OpCode::CONNECT_TO_RESOURCE,
            Operation::Connect(_) => OpCode::CONNECT,
            Operation::ReleaseCall(_) => OpCode::RELEASE_CALL,
            Operation::RequestReportBcsmEvent(_) => OpCode::REQUEST_REPORT_BCSM_EVENT,
            Operation::EventReportBcsm(_) => OpCode::EVENT_REPORT_BCSM,
            Operation::Continue => OpCode::CONTINUE,
            Operation::ResetTimer(_) => OpCode::RESET_TIMER,
            Operation::FurnishChargingInformation(_) => OpCode::FURNISH_CHARGING_INFORMATION,
            Operation::ApplyCharging(_) => OpCode::APPLY_CHARGING,
            Operation::ApplyChargingReport(_) => OpCode::APPLY_CHARGING_REPORT,
            Operation::CallGap(_) => OpCode::CALL_GAP,
            Operation::CallInformationReport(_) => OpCode::CALL_INFORMATION_REPORT,
            Operation::CallInformationRequest(_) => OpCode::CALL_INFORMATION_REQUEST,
            Operation::SendChargingInformation(_) => OpCode::SEND_CHARGING_INFORMATION,
            Operation::PlayAnnouncement(_) => OpCode::PLAY_ANNOUNCEMENT,
            Operation::PromptAndCollectUserInformation(_) => {
                OpCode::PROMPT_AND_COLLECT_USER_INFORMATION
            }
            Operation::SpecializedResourceReport(_) => OpCode::SPECIALIZED_RESOURCE_REPORT,
            Operation::Cancel(_) => OpCode::CANCEL,
            Operation::ActivityTest => OpCode::ACTIVITY_TEST,
            Operation::DisconnectForwardConnectionWithArgument(_) => {
                OpCode::DISCONNECT_FORWARD_CONNECTION_WITH_ARGUMENT
            }
            Operation::ContinueWithArgument(_) => OpCode::CONTINUE_WITH_ARGUMENT,
        }
    }

    /// True when [`encode`](Self::encode) writes a parameter (false for Continue,
    /// ActivityTest and DisconnectForwardConnection, whose Invoke has none).
    pub fn has_argument(&self) -> bool {
        !self.opcode().takes_no_argument()
    }

    /// Append the Invoke's parameter (one TLV) for `dialect` to `buf`; nothing for
    /// operations without an argument. Fields the dialect cannot carry are left out. The
    /// caller checks [`OpCode::in_dialect`] before sending a phase-3/4 operation.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        let d = dialect;
        match self {
            Operation::InitialDp(a) => a.encode(d, buf),
            Operation::AssistRequestInstructions(a) => a.encode(d, buf),
            Operation::EstablishTemporaryConnection(a) => a.encode(d, buf),
            Operation::ConnectToResource(a) => a.encode(d, buf),
            Operation::Connect(a) => a.encode(d, buf),
            Operation::ReleaseCall(a) => a.encode(d, buf),
            Operation::RequestReportBcsmEvent(a) => a.encode(d, buf),
            Operation::EventReportBcsm(a) => a.encode(d, buf),
            Operation::ResetTimer(a) => a.encode(d, buf),
            Operation::FurnishChargingInformation(a) => a.encode(d, buf),
            Operation::ApplyCharging(a) => a.encode(d, buf),
            Operation::ApplyChargingReport(a) => a.encode(d, buf),
            Operation::CallGap(a) => a.encode(d, buf),
            Operation::CallInformationReport(a) => a.encode(d, buf),
            Operation::CallInformationRequest(a) => a.encode(d, buf),
            Operation::SendChargingInformation(a) => a.encode(d, buf),
            Operation::PlayAnnouncement(a) => a.encode(d, buf),
            Operation::PromptAndCollectUserInformation(a) => a.encode(d, buf),
            Operation::SpecializedResourceReport(a) => a.encode(d, buf),
            Operation::Cancel(a) => a.encode(d, buf),
            Operation::DisconnectForwardConnectionWithArgument(a) => a.encode(d, buf),
            Operation::ContinueWithArgument(a) => a.encode(d, buf),
            Operation::DisconnectForwardConnection
            | Operation::Continue
            | Operation::ActivityTest => {}
        }
    }
}

/// The result of an operation (TCAP ReturnResult[Last] parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpResult<'a> {
    /// activityTest (55): an empty result.
    ActivityTest,
    /// promptAndCollectUserInformation (48): ReceivedInformationArg.
    PromptAndCollectUserInformation(ReceivedInformation<'a>),
}

impl<'a> OpResult<'a> {
    /// Decode the ReturnResult parameter of `opcode`.
    pub fn decode(dialect: Dialect, opcode: OpCode, param: Option<&'a [u8]>) -> CapResult<Self> {
        match opcode {
            OpCode::ACTIVITY_TEST => match param {
                None => Ok(OpResult::ActivityTest),
                Some(_) => Err(CapError::UnexpectedParameter("activityTest result")),
            },
            OpCode::PROMPT_AND_COLLECT_USER_INFORMATION => {
                Ok(OpResult::PromptAndCollectUserInformation(
                    ReceivedInformation::decode(dialect, param)?,
                ))
            }
            other => Err(CapError::UnknownOperation(other)),
        }
    }

    /// The operation the result answers.
    pub fn opcode(&self) -> OpCode {
        match self {
            OpResult::ActivityTest => OpCode::ACTIVITY_TEST,
            OpResult::PromptAndCollectUserInformation(_) => {
                OpCode::PROMPT_AND_COLLECT_USER_INFORMATION
            }
        }
    }

    /// Append the result parameter (nothing for ActivityTest).
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        match self {
            OpResult::ActivityTest => {}
            OpResult::PromptAndCollectUserInformation(r) => r.encode(dialect, buf),
        }
    }
}
