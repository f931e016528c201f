//! Basic call state model events: RequestReportBCSMEvent (23) and EventReportBCSM (24).
//! TS 29.078 §6.1.1 and §5.1 (BCSMEvent, EventSpecificInformationBCSM); ETS 300 374-1 §7.1.
//!
//! ```asn1
//! RequestReportBCSMEventArg ::= SEQUENCE {
//!   bcsmEvents  [0] SEQUENCE SIZE(1..numOfBCSMEvents) OF BCSMEvent,
//!   -- INAP CS-1: bcsmEventCorrelationID [1] CorrelationID OPTIONAL,
//!   extensions  [2] Extensions OPTIONAL, ... }
//! BCSMEvent ::= SEQUENCE {
//!   eventTypeBCSM      [0]  EventTypeBCSM,
//!   monitorMode        [1]  MonitorMode,
//!   legID              [2]  LegID              OPTIONAL,
//!   dpSpecificCriteria [30] DpSpecificCriteria OPTIONAL,
//!   automaticRearm     [50] NULL               OPTIONAL, ... }
//! DpSpecificCriteria ::= CHOICE { applicationTimer [1] ApplicationTimer,  -- 0..2047 s
//!   midCallControlInfo [2] MidCallControlInfo, dpSpecificCriteriaAlt [3] …
//!   -- INAP CS-1: numberOfDigits [0] NumberOfDigits }
//!
//! EventReportBCSMArg ::= SEQUENCE {
//!   eventTypeBCSM                [0] EventTypeBCSM,
//!   -- INAP CS-1: bcsmEventCorrelationID [1] CorrelationID OPTIONAL,
//!   eventSpecificInformationBCSM [2] EventSpecificInformationBCSM OPTIONAL,
//!   legID                        [3] ReceivingSideID OPTIONAL,
//!   miscCallInfo                 [4] MiscCallInfo DEFAULT {messageType request},
//!   extensions                   [5] Extensions OPTIONAL, ... }
//! EventSpecificInformationBCSM ::= CHOICE {
//!   -- INAP CS-1 only: collectedInfoSpecificInfo [0] SEQUENCE { calledPartynumber [0] … },
//!   --                 analyzedInfoSpecificInfo  [1] SEQUENCE { calledPartynumber [0] … },
//!   routeSelectFailureSpecificInfo [2] SEQUENCE { failureCause [0] Cause OPTIONAL, ... },
//!   oCalledPartyBusySpecificInfo   [3] SEQUENCE { busyCause [0] Cause OPTIONAL, ... },
//!   oNoAnswerSpecificInfo          [4] SEQUENCE { ... },
//!   oAnswerSpecificInfo            [5] SEQUENCE { destinationAddress [50] …, ... },
//!   oMidCallSpecificInfo           [6] …,
//!   oDisconnectSpecificInfo        [7] SEQUENCE { releaseCause [0] Cause OPTIONAL, ... },
//!   tBusySpecificInfo              [8] SEQUENCE { busyCause [0] Cause OPTIONAL, ... },
//!   tNoAnswerSpecificInfo          [9] SEQUENCE { ... },
//!   tAnswerSpecificInfo            [10] SEQUENCE { ... },
//!   tMidCallSpecificInfo           [11] …,
//!   tDisconnectSpecificInfo        [12] SEQUENCE { releaseCause [0] Cause OPTIONAL, ... },
//!   oTermSeizedSpecificInfo [13], callAcceptedSpecificInfo [20], oAbandonSpecificInfo [21],
//!   oChangeOfPositionSpecificInfo [50], tChangeOfPositionSpecificInfo [51],
//!   dpSpecificInfoAlt [52] }   -- CAP v4
//! ```
//! Event-specific sub-fields other than the causes (and INAP's called number) are skipped.

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_enumerated, write_integer, write_tlv, Tag, Tlv};

use crate::common::{EventTypeBcsm, LegId, LegType, MessageType, MonitorMode};
use crate::dialect::Dialect;
use crate::error::{CapError, CapResult};
use crate::list::{List, ListItem};
use crate::numbers::Cause;
use crate::util::{
    contents, ctx, explicit, int, next, next_with_encoding, null, octets, put_opt_cons, reader,
    sequence, uint,
};

/// `DpSpecificCriteria`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpSpecificCriteria<'a> {
    /// `applicationTimer [1]`: the no-answer timer, seconds (0..2047).
    ApplicationTimer(u32),
    /// `numberOfDigits [0]` (INAP CS-1).
    NumberOfDigits(u8),
    /// Any other alternative, as its complete TLV.
    Other(&'a [u8]),
}

/// `BCSMEvent`: one detection point to arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BcsmEvent<'a> {
    /// The event.
    pub event_type: EventTypeBcsm,
    /// Interrupted, notify-and-continue or transparent (disarm).
    pub monitor_mode: MonitorMode,
    /// The leg to monitor (CAP: `sendingSideID`).
    pub leg_id: Option<LegId>,
    /// Criteria such as the no-answer timer.
    pub dp_specific_criteria: Option<DpSpecificCriteria<'a>>,
    /// `automaticRearm [50]` (CAP v3+).
    pub automatic_rearm: bool,
}

impl<'a> BcsmEvent<'a> {
    /// An event on a leg with no criteria.
    pub const fn new(event_type: EventTypeBcsm, monitor_mode: MonitorMode, leg: LegType) -> Self {
        BcsmEvent {
            event_type,
            monitor_mode,
            leg_id: Some(LegId::Sending(leg)),
            dp_specific_criteria: None,
            automatic_rearm: false,
        }
    }
}

impl<'a> ListItem<'a> for BcsmEvent<'a> {
    const WHAT: &'static str = "BCSMEvent";

    fn decode_item(t: Tlv<'a>) -> CapResult<Self> {
        const W: &str = "BCSMEvent";
        let mut r = reader(t.expect(Tag::SEQUENCE).map_err(crate::error::ber(W))?, W)?;
        let mut event_type = None;
        let mut monitor_mode = None;
        let mut v = BcsmEvent {
            event_type: EventTypeBcsm(0),
            monitor_mode: MonitorMode(0),
            leg_id: None,
            dp_specific_criteria: None,
            automatic_rearm: false,
        };
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => event_type = Some(EventTypeBcsm(int(t, W)?)),
                Some(1) => monitor_mode = Some(MonitorMode(int(t, W)?)),
                Some(2) => v.leg_id = Some(LegId::decode(t, "legID")?),
                Some(30) => {
                    let mut inner = reader(t, W)?;
                    let Some((c, enc)) = next_with_encoding(&mut inner, W)? else {
                        return Err(CapError::MissingParameter("dpSpecificCriteria"));
                    };
                    v.dp_specific_criteria = Some(match ctx(&c) {
                        Some(1) => DpSpecificCriteria::ApplicationTimer(uint(
                            c,
                            "applicationTimer",
                            0,
                            2047,
                        )?),
                        Some(0) => DpSpecificCriteria::NumberOfDigits(
                            u8::try_from(uint(c, "numberOfDigits", 1, 255)?)
                                .map_err(|_| CapError::OutOfRange("numberOfDigits"))?,
                        ),
                        _ => DpSpecificCriteria::Other(enc),
                    });
                }
                Some(50) => {
                    null(t, W)?;
                    v.automatic_rearm = true;
                }
                _ => {}
            }
        }
        v.event_type = event_type.ok_or(CapError::MissingParameter("eventTypeBCSM"))?;
        v.monitor_mode = monitor_mode.ok_or(CapError::MissingParameter("monitorMode"))?;
        Ok(v)
    }

    fn encode_item(&self, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_enumerated(b, Tag::ctx(0), self.event_type.0);
            write_enumerated(b, Tag::ctx(1), self.monitor_mode.0);
            if let Some(l) = self.leg_id {
                l.encode(2, b);
            }
            if let Some(c) = self.dp_specific_criteria {
                write_constructed(b, Tag::ctx_cons(30), |b| match c {
                    DpSpecificCriteria::ApplicationTimer(t) => {
                        write_integer(b, Tag::ctx(1), i64::from(t))
                    }
                    DpSpecificCriteria::NumberOfDigits(n) => {
                        write_integer(b, Tag::ctx(0), i64::from(n))
                    }
                    DpSpecificCriteria::Other(raw) => b.extend_from_slice(raw),
                });
            }
            if self.automatic_rearm {
                write_tlv(b, Tag::ctx(50), &[]);
            }
        });
    }
}

/// RequestReportBCSMEventArg.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestReportBcsmEvent<'a> {
    /// The events to arm (at least one).
    pub bcsm_events: List<'a, BcsmEvent<'a>>,
    /// `extensions [2]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> RequestReportBcsmEvent<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "RequestReportBCSMEventArg";
        let mut r = sequence(param, W)?;
        let mut events = None;
        let mut extensions = None;
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => events = Some(List::decode(contents(t, W)?, 1)?),
                Some(2) => extensions = Some(contents(t, W)?),
                _ => {}
            }
        }
        Ok(RequestReportBcsmEvent {
            bcsm_events: events.ok_or(CapError::MissingParameter("bcsmEvents"))?,
            extensions,
        })
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_constructed(b, Tag::ctx_cons(0), |b| self.bcsm_events.encode_items(b));
            put_opt_cons(b, 2, self.extensions);
        });
    }
}

/// `EventSpecificInformationBCSM`, with the parts the service acts on decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSpecificInfo<'a> {
    /// INAP `collectedInfoSpecificInfo [0]`: the called number.
    CollectedInfo {
        /// Q.763 Called party number contents.
        called_party_number: &'a [u8],
    },
    /// INAP `analyzedInfoSpecificInfo [1]`: the called number.
    AnalyzedInfo {
        /// Q.763 Called party number contents.
        called_party_number: &'a [u8],
    },
    /// `routeSelectFailureSpecificInfo [2]`.
    RouteSelectFailure {
        /// `failureCause [0]`.
        failure_cause: Option<&'a [u8]>,
    },
    /// `oCalledPartyBusySpecificInfo [3]`.
    OCalledPartyBusy {
        /// `busyCause [0]`.
        busy_cause: Option<&'a [u8]>,
    },
    /// `oNoAnswerSpecificInfo [4]`.
    ONoAnswer,
    /// `oAnswerSpecificInfo [5]` (sub-fields skipped).
    OAnswer,
    /// `oDisconnectSpecificInfo [7]`.
    ODisconnect {
        /// `releaseCause [0]`.
        release_cause: Option<&'a [u8]>,
    },
    /// `tBusySpecificInfo [8]`.
    TBusy {
        /// `busyCause [0]`.
        busy_cause: Option<&'a [u8]>,
    },
    /// `tNoAnswerSpecificInfo [9]`.
    TNoAnswer,
    /// `tAnswerSpecificInfo [10]` (sub-fields skipped).
    TAnswer,
    /// `tDisconnectSpecificInfo [12]`.
    TDisconnect {
        /// `releaseCause [0]`.
        release_cause: Option<&'a [u8]>,
    },
    /// Any other alternative: its context tag number and contents.
    Other {
        /// The alternative's tag number.
        tag: u32,
        /// Its contents octets.
        contents: &'a [u8],
    },
}

impl<'a> EventSpecificInfo<'a> {
    fn decode(t: Tlv<'a>, dialect: Dialect) -> CapResult<Self> {
        const W: &str = "eventSpecificInformationBCSM";
        let alt = explicit(t, W)?;
        let tag = ctx(&alt).ok_or(CapError::UnexpectedDataValue(W))?;
        let body = contents(alt, W)?;
        let field0 = || -> CapResult<Option<&'a [u8]>> {
            let mut r = strowger_ber::Reader::new(body);
            while let Some(f) = next(&mut r, W)? {
                if ctx(&f) == Some(0) {
                    return Ok(Some(octets(f, W)?));
                }
            }
            Ok(None)
        };
        let inap = dialect == Dialect::InapCs1;
        Ok(match tag {
            0 if inap => EventSpecificInfo::CollectedInfo {
                called_party_number: field0()?
                    .ok_or(CapError::MissingParameter("calledPartynumber"))?,
            },
            1 if inap => EventSpecificInfo::AnalyzedInfo {
                called_party_number: field0()?
                    .ok_or(CapError::MissingParameter("calledPartynumber"))?,
            },
            2 => EventSpecificInfo::RouteSelectFailure {
                failure_cause: field0()?,
            },
            3 => EventSpecificInfo::OCalledPartyBusy {
                busy_cause: field0()?,
            },
            4 => EventSpecificInfo::ONoAnswer,
            5 => EventSpecificInfo::OAnswer,
            7 => EventSpecificInfo::ODisconnect {
                release_cause: field0()?,
            },
            8 => EventSpecificInfo::TBusy {
                busy_cause: field0()?,
            },
            9 => EventSpecificInfo::TNoAnswer,
            10 => EventSpecificInfo::TAnswer,
            12 => EventSpecificInfo::TDisconnect {
                release_cause: field0()?,
            },
            tag => EventSpecificInfo::Other {
                tag,
                contents: body,
            },
        })
    }

    fn encode(&self, buf: &mut BytesMut) {
        let (tag, field0, raw): (u32, Option<&[u8]>, &[u8]) = match *self {
            EventSpecificInfo::CollectedInfo {
                called_party_number,
            } => (0, Some(called_party_number), &[]),
            EventSpecificInfo::AnalyzedInfo {
                called_party_number,
            } => (1, Some(called_party_number), &[]),
            EventSpecificInfo::RouteSelectFailure { failure_cause } => (2, failure_cause, &[]),
            EventSpecificInfo::OCalledPartyBusy { busy_cause } => (3, busy_cause, &[]),
            EventSpecificInfo::ONoAnswer => (4, None, &[]),
            EventSpecificInfo::OAnswer => (5, None, &[]),
            EventSpecificInfo::ODisconnect { release_cause } => (7, release_cause, &[]),
            EventSpecificInfo::TBusy { busy_cause } => (8, busy_cause, &[]),
            EventSpecificInfo::TNoAnswer => (9, None, &[]),
            EventSpecificInfo::TAnswer => (10, None, &[]),
            EventSpecificInfo::TDisconnect { release_cause } => (12, release_cause, &[]),
            EventSpecificInfo::Other { tag, contents } => (tag, None, contents),
        };
        write_constructed(buf, Tag::ctx_cons(2), |b| {
            write_constructed(b, Tag::ctx_cons(tag), |b| {
                if let Some(f) = field0 {
                    write_tlv(b, Tag::ctx(0), f);
                }
                b.extend_from_slice(raw);
            });
        });
    }

    /// The cause carried by a busy, disconnect or route-failure report, decoded.
    pub fn cause(&self) -> CapResult<Option<Cause<'a>>> {
        match *self {
            EventSpecificInfo::RouteSelectFailure { failure_cause: c }
            | EventSpecificInfo::OCalledPartyBusy { busy_cause: c }
            | EventSpecificInfo::ODisconnect { release_cause: c }
            | EventSpecificInfo::TBusy { busy_cause: c }
            | EventSpecificInfo::TDisconnect { release_cause: c } => {
                c.map(Cause::decode).transpose()
            }
            _ => Ok(None),
        }
    }
}

/// EventReportBCSMArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventReportBcsm<'a> {
    /// The event that occurred.
    pub event_type: EventTypeBcsm,
    /// Event-specific information.
    pub event_specific_information: Option<EventSpecificInfo<'a>>,
    /// `legID [3] ReceivingSideID`.
    pub leg_id: Option<LegType>,
    /// `miscCallInfo [4]` messageType (DEFAULT request).
    pub message_type: MessageType,
    /// `extensions [5]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> EventReportBcsm<'a> {
    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "EventReportBCSMArg";
        let mut r = sequence(param, W)?;
        let mut event_type = None;
        let mut v = EventReportBcsm {
            event_type: EventTypeBcsm(0),
            event_specific_information: None,
            leg_id: None,
            message_type: MessageType::Request,
            extensions: None,
        };
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => event_type = Some(EventTypeBcsm(int(t, W)?)),
                Some(2) => {
                    v.event_specific_information = Some(EventSpecificInfo::decode(t, dialect)?)
                }
                Some(3) => v.leg_id = Some(LegId::decode(t, "legID")?.leg()),
                Some(4) => v.message_type = MessageType::decode(t)?,
                Some(5) => v.extensions = Some(contents(t, W)?),
                _ => {}
            }
        }
        v.event_type = event_type.ok_or(CapError::MissingParameter("eventTypeBCSM"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_enumerated(b, Tag::ctx(0), self.event_type.0);
            if let Some(e) = &self.event_specific_information {
                e.encode(b);
            }
            if let Some(l) = self.leg_id {
                LegId::Receiving(l).encode(3, b);
            }
            self.message_type.encode(4, b);
            put_opt_cons(b, 5, self.extensions);
        });
    }
}
