//! Translation between CAP/INAP operations (protocols/cap) and the service logic's abstract
//! events and operations (service::call). The only place the engine knows both vocabularies.

use bytes::BytesMut;
use strowger_cap::numbers::{CalledPartyNumber, Cause, CauseLocation, CauseValue, NatureOfAddress};
use strowger_cap::ops::{
    ApplyCharging, BcsmEvent as CapBcsmEvent, CallGap, CallResult, CollectedDigits, CollectedInfo,
    Connect, ConnectToResource, EventReportBcsm, GapCriteria, GapTreatment, InbandInfo,
    InformationToSend, MessageId, PlayAnnouncement, PromptAndCollectUserInformation,
    ReceivedInformation, ReleaseCall, RequestReportBcsmEvent, TimeDurationCharging,
};
use strowger_cap::{
    CapError, Dialect, EventTypeBcsm, LegType, List, MonitorMode, OpCode, Operation,
};

use crate::service::call::{BcsmArm, BcsmEventType, MonitorMode as Mode};
use crate::service::{BcsmEvent, CallEvent, InitialRequest, Leg, Nature, Number, Op};

/// What an incoming Invoke means to the call.
#[derive(Debug)]
pub enum Incoming {
    /// Feed this to the call state machine.
    Event(CallEvent),
    /// ActivityTest: answer with an empty ReturnResult, nothing else.
    ActivityTest,
    /// A valid operation the service does not act on (counted).
    Ignored(&'static str),
}

/// Decode an Invoke from the SSP into what the call logic understands.
pub fn incoming(
    dialect: Dialect,
    opcode: OpCode,
    param: Option<&[u8]>,
) -> Result<Incoming, CapError> {
    let op = Operation::decode(dialect, opcode, param)?;
    Ok(match op {
        Operation::InitialDp(idp) => {
            let calling = match idp.calling()? {
                Some(c) => Number::new(c.digits.as_str(), isup_nature(c.nai)),
                None => Number::new("", Nature::Unknown),
            };
            let called = if let Some(bcd) = idp.called_bcd()? {
                Number::new(bcd.digits.as_str(), bcd_nature(bcd.nature))
            } else if let Some(c) = idp.called()? {
                Number::new(c.digits.as_str(), isup_nature(c.nai))
            } else {
                return Err(CapError::MissingParameter("calledPartyNumber"));
            };
            Incoming::Event(CallEvent::Initial(InitialRequest {
                service_key: idp.service_key,
                calling,
                called,
            }))
        }
        Operation::EventReportBcsm(erb) => match bcsm_event(&erb) {
            Some(ev) => Incoming::Event(CallEvent::Bcsm(ev)),
            None => Incoming::Ignored("event_report_bcsm"),
        },
        Operation::ApplyChargingReport(acr) => match acr.call_result {
            CallResult::TimeDuration(r) => Incoming::Event(CallEvent::ChargingReport {
                elapsed_100ms: u64::from(r.time_information.total()),
                call_active: r.leg_active,
            }),
            CallResult::Raw(_) => Incoming::Ignored("apply_charging_report_raw"),
        },
        Operation::SpecializedResourceReport(_) => Incoming::Event(CallEvent::AnnouncementDone),
        Operation::ActivityTest => Incoming::ActivityTest,
        _ => Incoming::Ignored("operation"),
    })
}

/// Decode a PromptAndCollectUserInformation result into the collected digits.
pub fn collected_digits(dialect: Dialect, param: Option<&[u8]>) -> Result<String, CapError> {
    let info = ReceivedInformation::decode(dialect, param)?;
    Ok(info.digits()?.digits.as_str().to_owned())
}

fn leg_of(t: Option<LegType>) -> Leg {
    match t {
        Some(LegType(1)) => Leg::Calling,
        _ => Leg::Called,
    }
}

fn bcsm_event(erb: &EventReportBcsm<'_>) -> Option<BcsmEvent> {
    Some(match erb.event_type {
        EventTypeBcsm::ROUTE_SELECT_FAILURE => BcsmEvent::RouteSelectFailure,
        EventTypeBcsm::O_CALLED_PARTY_BUSY | EventTypeBcsm::T_BUSY => BcsmEvent::Busy,
        EventTypeBcsm::O_NO_ANSWER | EventTypeBcsm::T_NO_ANSWER => BcsmEvent::NoAnswer,
        EventTypeBcsm::O_ANSWER | EventTypeBcsm::T_ANSWER => BcsmEvent::Answer,
        EventTypeBcsm::O_DISCONNECT | EventTypeBcsm::T_DISCONNECT => BcsmEvent::Disconnect {
            leg: leg_of(erb.leg_id),
        },
        EventTypeBcsm::O_ABANDON | EventTypeBcsm::T_ABANDON => BcsmEvent::Abandon,
        _ => return None,
    })
}

fn isup_nature(nai: NatureOfAddress) -> Nature {
    match nai {
        NatureOfAddress::SUBSCRIBER => Nature::Subscriber,
        NatureOfAddress::NATIONAL => Nature::National,
        NatureOfAddress::INTERNATIONAL => Nature::International,
        _ => Nature::Unknown,
    }
}

/// 24.008 §10.5.4.7 type of number.
fn bcd_nature(ton: u8) -> Nature {
    match ton {
        1 => Nature::International,
        2 => Nature::National,
        _ => Nature::Unknown,
    }
}

fn nai_of(nature: Nature) -> NatureOfAddress {
    match nature {
        Nature::Subscriber => NatureOfAddress::SUBSCRIBER,
        Nature::National => NatureOfAddress::NATIONAL,
        Nature::International => NatureOfAddress::INTERNATIONAL,
        Nature::Unknown => NatureOfAddress::UNKNOWN,
    }
}

fn event_type(e: BcsmEventType) -> EventTypeBcsm {
    match e {
        BcsmEventType::RouteSelectFailure => EventTypeBcsm::ROUTE_SELECT_FAILURE,
        BcsmEventType::Busy => EventTypeBcsm::O_CALLED_PARTY_BUSY,
        BcsmEventType::NoAnswer => EventTypeBcsm::O_NO_ANSWER,
        BcsmEventType::Answer => EventTypeBcsm::O_ANSWER,
        BcsmEventType::Disconnect => EventTypeBcsm::O_DISCONNECT,
        BcsmEventType::Abandon => EventTypeBcsm::O_ABANDON,
    }
}

/// A Q.850 cause as CAP carries it (location: public network serving the local user).
pub fn cause_bytes(cause: u8) -> Result<strowger_cap::numbers::NumberBuf, CapError> {
    Cause::new(CauseLocation::PUBLIC_LOCAL, CauseValue(cause & 0x7f)).encode()
}

fn inband(id: u32) -> InformationToSend<'static> {
    InformationToSend::InbandInfo(InbandInfo {
        message_id: MessageId::ElementaryMessageId(id),
        number_of_repetitions: Some(1),
        duration: None,
        interval: None,
    })
}

/// Encode one service operation as (opcode, parameter TLV) into `param`; returns the opcode
/// and whether a parameter was written.
pub fn encode_op(
    dialect: Dialect,
    op: &Op,
    param: &mut BytesMut,
) -> Result<(OpCode, bool), CapError> {
    param.clear();
    let code = match op {
        Op::RequestReportBcsm { events } => {
            let items: Vec<CapBcsmEvent<'static>> = events.iter().map(arm).collect();
            Operation::RequestReportBcsmEvent(RequestReportBcsmEvent {
                bcsm_events: List::Items(&items),
                extensions: None,
            })
            .encode(dialect, param);
            OpCode::REQUEST_REPORT_BCSM_EVENT
        }
        Op::Connect { number, nature } => {
            let dest = CalledPartyNumber::e164(nai_of(*nature), number)?.encode()?;
            Operation::Connect(Connect::to(dest.as_bytes())).encode(dialect, param);
            OpCode::CONNECT
        }
        Op::Continue => OpCode::CONTINUE,
        Op::ApplyCharging {
            max_duration_100ms,
            release_if_exceeded,
            tone,
        } => {
            let max = u32::try_from(*max_duration_100ms)
                .unwrap_or(u32::MAX)
                .clamp(1, 864_000);
            let mut tdc = TimeDurationCharging::new(max, *release_if_exceeded);
            tdc.tone = *tone;
            Operation::ApplyCharging(ApplyCharging::time_duration(tdc)).encode(dialect, param);
            OpCode::APPLY_CHARGING
        }
        Op::ReleaseCall { cause } => {
            let c = cause_bytes(*cause)?;
            Operation::ReleaseCall(ReleaseCall {
                cause: c.as_bytes(),
                extensions: None,
            })
            .encode(dialect, param);
            OpCode::RELEASE_CALL
        }
        Op::ConnectToResource => {
            Operation::ConnectToResource(ConnectToResource::local()).encode(dialect, param);
            OpCode::CONNECT_TO_RESOURCE
        }
        Op::PlayAnnouncement {
            id,
            request_complete,
        } => {
            Operation::PlayAnnouncement(PlayAnnouncement {
                information_to_send: inband(*id),
                disconnect_from_ip_forbidden: true,
                request_announcement_complete: *request_complete,
                extensions: None,
                call_segment_id: None,
                request_announcement_started: false,
            })
            .encode(dialect, param);
            OpCode::PLAY_ANNOUNCEMENT
        }
        Op::PromptAndCollect {
            announcement,
            min_digits,
            max_digits,
        } => {
            Operation::PromptAndCollectUserInformation(PromptAndCollectUserInformation {
                collected_info: CollectedInfo::CollectedDigits(CollectedDigits::pin(
                    *min_digits,
                    *max_digits,
                )),
                disconnect_from_ip_forbidden: true,
                information_to_send: Some(inband(*announcement)),
                extensions: None,
                call_segment_id: None,
                request_announcement_started: false,
            })
            .encode(dialect, param);
            OpCode::PROMPT_AND_COLLECT_USER_INFORMATION
        }
        Op::DisconnectForwardConnection => OpCode::DISCONNECT_FORWARD_CONNECTION,
    };
    Ok((code, !param.is_empty()))
}

fn arm(a: &BcsmArm) -> CapBcsmEvent<'static> {
    let mode = match a.mode {
        Mode::Interrupted => MonitorMode::INTERRUPTED,
        Mode::NotifyAndContinue => MonitorMode::NOTIFY_AND_CONTINUE,
    };
    let leg = match a.leg {
        Some(Leg::Calling) => LegType(1),
        Some(Leg::Called) => LegType(2),
        None => match a.event {
            BcsmEventType::Abandon => LegType(1),
            _ => LegType(2),
        },
    };
    CapBcsmEvent::new(event_type(a.event), mode, leg)
}

/// A CallGap for overload (not in CAP v2, which has no CallGap): gap every call to the
/// service key for `duration_s`, one call per `interval_ms` let through, released with `cause`.
pub fn call_gap(
    dialect: Dialect,
    service_key: u32,
    duration_s: u32,
    interval_ms: u32,
    cause: u8,
    param: &mut BytesMut,
) -> Result<Option<OpCode>, CapError> {
    if !OpCode::CALL_GAP.in_dialect(dialect) {
        return Ok(None);
    }
    param.clear();
    let c = cause_bytes(cause)?;
    Operation::CallGap(CallGap {
        gap_criteria: GapCriteria::GapOnService(service_key),
        duration: i32::try_from(duration_s).unwrap_or(i32::MAX),
        gap_interval: i32::try_from(interval_ms).unwrap_or(i32::MAX),
        control_type: Some(CallGap::SCP_OVERLOADED),
        gap_treatment: Some(GapTreatment::ReleaseCause(c.as_bytes())),
        extensions: None,
    })
    .encode(dialect, param);
    Ok(Some(OpCode::CALL_GAP))
}
