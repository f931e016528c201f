//! Specialized resource operations: ConnectToResource (19), PlayAnnouncement (47),
//! PromptAndCollectUserInformation (48) and its result, SpecializedResourceReport (49),
//! DisconnectForwardConnection (18) / …WithArgument (86, CAP v4),
//! EstablishTemporaryConnection (17), AssistRequestInstructions (16), Cancel (53).
//! TS 29.078 §6.1.1, §7.1.1 (CAP-gsmSCF-gsmSRF-ops-args) and §5.1; ETS 300 374-1 §7.1–7.2.
//!
//! ```asn1
//! ConnectToResourceArg ::= SEQUENCE {
//!   resourceAddress CHOICE { ipRoutingAddress [0] IPRoutingAddress,
//!                            -- INAP CS-1: legID [1] LegID, both [2] SEQUENCE {…}
//!                            none [3] NULL },
//!   extensions [4] Extensions OPTIONAL,
//!   serviceInteractionIndicatorsTwo [7] … OPTIONAL, callSegmentID [50] OPTIONAL, ... }
//! PlayAnnouncementArg ::= SEQUENCE {
//!   informationToSend [0] InformationToSend,
//!   disconnectFromIPForbidden [1] BOOLEAN DEFAULT TRUE,
//!   requestAnnouncementCompleteNotification [2] BOOLEAN DEFAULT TRUE,
//!   extensions [3] Extensions OPTIONAL, callSegmentID [5] OPTIONAL,          -- v4
//!   requestAnnouncementStartedNotification [51] BOOLEAN DEFAULT FALSE, ... }  -- v4
//! PromptAndCollectUserInformationArg ::= SEQUENCE {
//!   collectedInfo [0] CollectedInfo,
//!   disconnectFromIPForbidden [1] BOOLEAN DEFAULT TRUE,
//!   informationToSend [2] InformationToSend OPTIONAL,
//!   extensions [3] Extensions OPTIONAL, callSegmentID [4] OPTIONAL,          -- v4
//!   requestAnnouncementStartedNotification [51] BOOLEAN DEFAULT FALSE, ... }  -- v4
//! ReceivedInformationArg ::= CHOICE { digitsResponse [0] Digits
//!                                     -- INAP CS-1: , iA5Response [1] IA5String }
//! SpecializedResourceReportArg ::= NULL                                       -- v2, v3, INAP
//! SpecializedResourceReportArg ::= CHOICE { allAnnouncementsComplete [50] NULL,
//!                                           firstAnnouncementStarted [51] NULL }  -- v4
//! InformationToSend ::= CHOICE { inbandInfo [0] InbandInfo, tone [1] Tone
//!                                -- INAP CS-1: , displayInformation [2] IA5String }
//! InbandInfo ::= SEQUENCE { messageID [0] MessageID, numberOfRepetitions [1] INTEGER (1..127)
//!   OPTIONAL, duration [2] INTEGER (0..32767) OPTIONAL, interval [3] INTEGER (0..32767)
//!   OPTIONAL, ... }
//! MessageID ::= CHOICE { elementaryMessageID [0] Integer4,
//!   text [1] SEQUENCE { messageContent [0] IA5String, attributes [1] OCTET STRING OPTIONAL },
//!   elementaryMessageIDs [29] SEQUENCE OF Integer4,
//!   variableMessage [30] SEQUENCE { elementaryMessageID [0] Integer4,
//!                                   variableParts [1] SEQUENCE OF VariablePart } }
//! Tone ::= SEQUENCE { toneID [0] Integer4, duration [1] Integer4 OPTIONAL, ... }
//! CollectedInfo ::= CHOICE { collectedDigits [0] CollectedDigits
//!                            -- INAP CS-1: , iA5Information [1] BOOLEAN }
//! CollectedDigits ::= SEQUENCE { minimumNbOfDigits [0] INTEGER (1..30) DEFAULT 1,
//!   maximumNbOfDigits [1] INTEGER (1..30), endOfReplyDigit [2] OCTET STRING (SIZE(1..2)) OPT,
//!   cancelDigit [3] OPT, startDigit [4] OPT, firstDigitTimeOut [5] INTEGER (1..127) OPT,
//!   interDigitTimeOut [6] INTEGER (1..127) OPT, errorTreatment [7] ErrorTreatment DEFAULT
//!   stdErrorAndInfo, interruptableAnnInd [8] BOOLEAN DEFAULT TRUE, voiceInformation [9]
//!   BOOLEAN DEFAULT FALSE, voiceBack [10] BOOLEAN DEFAULT FALSE }
//! DisconnectForwardConnectionWithArgumentArg ::= SEQUENCE { callSegmentID [1] OPTIONAL,
//!   extensions [2] OPTIONAL, ... }
//! EstablishTemporaryConnectionArg ::= SEQUENCE { assistingSSPIPRoutingAddress [0] Digits,
//!   correlationID [1] OPTIONAL, scfID [3] OPTIONAL, extensions [4] OPTIONAL, carrier [5]
//!   OPTIONAL, serviceInteractionIndicatorsTwo [6] OPTIONAL (v2: [7]), callSegmentID [7]
//!   OPTIONAL (v4), naOliInfo [50], chargeNumber [51], ..., originalCalledPartyID [52],
//!   callingPartyNumber [53] }
//! AssistRequestInstructionsArg ::= SEQUENCE { correlationID [0] CorrelationID,
//!   iPSSPCapabilities [2] IPSSPCapabilities,   -- OPTIONAL in INAP CS-1 (iPAvailable [1])
//!   extensions [3] Extensions OPTIONAL, ... }
//! CancelArg ::= CHOICE { invokeID [0] InvokeID, allRequests [1] NULL,
//!   callSegmentToCancel [2] SEQUENCE { invokeID [0] OPT, callSegmentID [1] OPT, ... } }  -- v4
//! ```

use bytes::BytesMut;
use strowger_ber::{
    write_bool, write_constructed, write_enumerated, write_integer, write_tlv, Tag, Tlv,
};

use crate::common::LegId;
use crate::dialect::Dialect;
use crate::error::{ber, CapError, CapResult};
use crate::numbers::{CalledPartyNumber, GenericDigits};
use crate::util::{
    boolean, contents, ctx, explicit, int, int_range, next, null, octets, put_opt_cons,
    put_opt_int, put_opt_octets, reader, required, sequence, uint,
};

const INTEGER4: u32 = 2_147_483_647;

/// `MessageID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageId<'a> {
    /// `elementaryMessageID [0]`: an announcement number.
    ElementaryMessageId(u32),
    /// `text [1]`.
    Text {
        /// IA5 text.
        message_content: &'a [u8],
        /// Attributes.
        attributes: Option<&'a [u8]>,
    },
    /// `elementaryMessageIDs [29]`, raw contents of the SEQUENCE OF Integer4.
    ElementaryMessageIds(&'a [u8]),
    /// `variableMessage [30]`.
    VariableMessage {
        /// The message.
        elementary_message_id: u32,
        /// Raw contents of `variableParts [1]`.
        variable_parts: &'a [u8],
    },
}

/// `InbandInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InbandInfo<'a> {
    /// The message.
    pub message_id: MessageId<'a>,
    /// `numberOfRepetitions [1]` (1..127).
    pub number_of_repetitions: Option<u32>,
    /// `duration [2]` seconds (0 = infinite).
    pub duration: Option<u32>,
    /// `interval [3]` seconds between repetitions.
    pub interval: Option<u32>,
}

/// `InformationToSend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InformationToSend<'a> {
    /// `inbandInfo [0]`.
    InbandInfo(InbandInfo<'a>),
    /// `tone [1]`.
    Tone {
        /// `toneID [0]`.
        tone_id: u32,
        /// `duration [1]` seconds.
        duration: Option<u32>,
    },
    /// `displayInformation [2]` IA5String (INAP CS-1).
    DisplayInformation(&'a [u8]),
}

impl<'a> InformationToSend<'a> {
    /// An announcement by number, played once.
    pub const fn announcement(id: u32) -> Self {
        InformationToSend::InbandInfo(InbandInfo {
            message_id: MessageId::ElementaryMessageId(id),
            number_of_repetitions: None,
            duration: None,
            interval: None,
        })
    }

    /// Decode from the explicit wrapper `t` (`[n] { alternative }`).
    pub(crate) fn decode(t: Tlv<'a>) -> CapResult<Self> {
        const W: &str = "InformationToSend";
        let alt = explicit(t, W)?;
        match ctx(&alt) {
            Some(0) => {
                let mut r = reader(alt, W)?;
                let mut msg = None;
                let mut v = InbandInfo {
                    message_id: MessageId::ElementaryMessageId(0),
                    number_of_repetitions: None,
                    duration: None,
                    interval: None,
                };
                while let Some(f) = next(&mut r, W)? {
                    match ctx(&f) {
                        Some(0) => msg = Some(decode_message_id(explicit(f, W)?)?),
                        Some(1) => {
                            v.number_of_repetitions = Some(uint(f, "numberOfRepetitions", 1, 127)?)
                        }
                        Some(2) => v.duration = Some(uint(f, "duration", 0, 32767)?),
                        Some(3) => v.interval = Some(uint(f, "interval", 0, 32767)?),
                        _ => {}
                    }
                }
                v.message_id = msg.ok_or(CapError::MissingParameter("messageID"))?;
                Ok(InformationToSend::InbandInfo(v))
            }
            Some(1) => {
                let mut r = reader(alt, W)?;
                let id = r.expect(Tag::ctx(0), "toneID").map_err(ber(W))?;
                let dur = r.optional(Tag::ctx(1)).map_err(ber(W))?;
                r.skip_rest().map_err(ber(W))?;
                Ok(InformationToSend::Tone {
                    tone_id: uint(id, "toneID", 0, INTEGER4)?,
                    duration: dur.map(|d| uint(d, "duration", 0, INTEGER4)).transpose()?,
                })
            }
            Some(2) => Ok(InformationToSend::DisplayInformation(octets(alt, W)?)),
            _ => Err(CapError::UnexpectedDataValue(W)),
        }
    }

    /// Encode as `[n] { alternative }`.
    pub(crate) fn encode(&self, n: u32, buf: &mut BytesMut) {
        write_constructed(buf, Tag::ctx_cons(n), |b| match *self {
            InformationToSend::InbandInfo(i) => write_constructed(b, Tag::ctx_cons(0), |b| {
                write_constructed(b, Tag::ctx_cons(0), |b| match i.message_id {
                    MessageId::ElementaryMessageId(id) => {
                        write_integer(b, Tag::ctx(0), i64::from(id))
                    }
                    MessageId::Text {
                        message_content,
                        attributes,
                    } => write_constructed(b, Tag::ctx_cons(1), |b| {
                        write_tlv(b, Tag::ctx(0), message_content);
                        put_opt_octets(b, 1, attributes);
                    }),
                    MessageId::ElementaryMessageIds(raw) => write_tlv(b, Tag::ctx_cons(29), raw),
                    MessageId::VariableMessage {
                        elementary_message_id,
                        variable_parts,
                    } => write_constructed(b, Tag::ctx_cons(30), |b| {
                        write_integer(b, Tag::ctx(0), i64::from(elementary_message_id));
                        write_tlv(b, Tag::ctx_cons(1), variable_parts);
                    }),
                });
                put_opt_int(b, 1, i.number_of_repetitions);
                put_opt_int(b, 2, i.duration);
                put_opt_int(b, 3, i.interval);
            }),
            InformationToSend::Tone { tone_id, duration } => {
                write_constructed(b, Tag::ctx_cons(1), |b| {
                    write_integer(b, Tag::ctx(0), i64::from(tone_id));
                    put_opt_int(b, 1, duration);
                })
            }
            InformationToSend::DisplayInformation(s) => write_tlv(b, Tag::ctx(2), s),
        });
    }
}

fn decode_message_id(m: Tlv<'_>) -> CapResult<MessageId<'_>> {
    const W: &str = "MessageID";
    match ctx(&m) {
        Some(0) => Ok(MessageId::ElementaryMessageId(uint(
            m,
            "elementaryMessageID",
            0,
            INTEGER4,
        )?)),
        Some(1) => {
            let mut r = reader(m, W)?;
            let c = octets(r.expect(Tag::ctx(0), "messageContent").map_err(ber(W))?, W)?;
            let a = r.optional(Tag::ctx(1)).map_err(ber(W))?.map(|a| a.value);
            r.skip_rest().map_err(ber(W))?;
            Ok(MessageId::Text {
                message_content: c,
                attributes: a,
            })
        }
        Some(29) => Ok(MessageId::ElementaryMessageIds(contents(m, W)?)),
        Some(30) => {
            let mut r = reader(m, W)?;
            let id = uint(
                r.expect(Tag::ctx(0), "elementaryMessageID")
                    .map_err(ber(W))?,
                W,
                0,
                INTEGER4,
            )?;
            let parts = contents(
                r.expect(Tag::ctx_cons(1), "variableParts")
                    .map_err(ber(W))?,
                W,
            )?;
            r.skip_rest().map_err(ber(W))?;
            Ok(MessageId::VariableMessage {
                elementary_message_id: id,
                variable_parts: parts,
            })
        }
        _ => Err(CapError::UnexpectedDataValue(W)),
    }
}

/// `resourceAddress` of ConnectToResource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceAddress<'a> {
    /// `ipRoutingAddress [0]`: Q.763 CalledPartyNumber of the IP.
    IpRoutingAddress(&'a [u8]),
    /// `legID [1]` (INAP CS-1).
    LegId(LegId),
    /// `both [2]` (INAP CS-1): raw contents.
    Both(&'a [u8]),
    /// `none [3]`: the gsmSSF's own resource.
    None,
}

/// ConnectToResourceArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectToResource<'a> {
    /// Where the resource is.
    pub resource_address: ResourceAddress<'a>,
    /// `extensions [4]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `serviceInteractionIndicatorsTwo [7]` (CAP), raw contents.
    pub service_interaction_indicators_two: Option<&'a [u8]>,
    /// `callSegmentID [50]` (CAP v4).
    pub call_segment_id: Option<u32>,
}

impl<'a> ConnectToResource<'a> {
    /// Connect to the gsmSSF's own resource (`none`).
    pub const fn local() -> Self {
        ConnectToResource {
            resource_address: ResourceAddress::None,
            extensions: None,
            service_interaction_indicators_two: None,
            call_segment_id: None,
        }
    }

    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ConnectToResourceArg";
        let mut r = sequence(param, W)?;
        let mut addr = None;
        let mut v = ConnectToResource::local();
        let inap = dialect == Dialect::InapCs1;
        let v4 = dialect == Dialect::CapV4;
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => addr = Some(ResourceAddress::IpRoutingAddress(octets(t, W)?)),
                Some(1) if inap => addr = Some(ResourceAddress::LegId(LegId::decode(t, "legID")?)),
                Some(2) if inap => addr = Some(ResourceAddress::Both(contents(t, W)?)),
                Some(3) => {
                    null(t, W)?;
                    addr = Some(ResourceAddress::None);
                }
                Some(4) => v.extensions = Some(contents(t, W)?),
                Some(7) if !inap => v.service_interaction_indicators_two = Some(contents(t, W)?),
                // callSegmentID is CAP v4 only (skipped before, as it is not encoded before).
                Some(50) if v4 => v.call_segment_id = Some(uint(t, "callSegmentID", 1, 127)?),
                _ => {}
            }
        }
        v.resource_address = addr.ok_or(CapError::MissingParameter("resourceAddress"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            match self.resource_address {
                ResourceAddress::IpRoutingAddress(a) => write_tlv(b, Tag::ctx(0), a),
                ResourceAddress::LegId(l) => l.encode(1, b),
                ResourceAddress::Both(raw) => write_tlv(b, Tag::ctx_cons(2), raw),
                ResourceAddress::None => write_tlv(b, Tag::ctx(3), &[]),
            }
            put_opt_cons(b, 4, self.extensions);
            if dialect.is_cap() {
                put_opt_cons(b, 7, self.service_interaction_indicators_two);
            }
            if dialect == Dialect::CapV4 {
                put_opt_int(b, 50, self.call_segment_id);
            }
        });
    }

    /// The IP routing address, decoded.
    pub fn ip_routing_address(&self) -> CapResult<Option<CalledPartyNumber>> {
        match self.resource_address {
            ResourceAddress::IpRoutingAddress(a) => CalledPartyNumber::decode(a).map(Some),
            _ => Ok(None),
        }
    }
}

/// PlayAnnouncementArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayAnnouncement<'a> {
    /// What to play.
    pub information_to_send: InformationToSend<'a>,
    /// `disconnectFromIPForbidden [1]` (DEFAULT TRUE; always sent).
    pub disconnect_from_ip_forbidden: bool,
    /// `requestAnnouncementCompleteNotification [2]` (DEFAULT TRUE; always sent).
    pub request_announcement_complete: bool,
    /// `extensions [3]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `callSegmentID [5]` (CAP v4).
    pub call_segment_id: Option<u32>,
    /// `requestAnnouncementStartedNotification [51]` (CAP v4).
    pub request_announcement_started: bool,
}

impl<'a> PlayAnnouncement<'a> {
    /// Play `information`, ask for SpecializedResourceReport at the end, keep the IP
    /// connected (the usual "announcement then release" treatment).
    pub const fn new(information: InformationToSend<'a>) -> Self {
        PlayAnnouncement {
            information_to_send: information,
            disconnect_from_ip_forbidden: true,
            request_announcement_complete: true,
            extensions: None,
            call_segment_id: None,
            request_announcement_started: false,
        }
    }

    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "PlayAnnouncementArg";
        let v4 = dialect == Dialect::CapV4;
        let mut r = sequence(param, W)?;
        let mut its = None;
        let mut v = PlayAnnouncement::new(InformationToSend::announcement(0));
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => its = Some(InformationToSend::decode(t)?),
                Some(1) => v.disconnect_from_ip_forbidden = boolean(t, W)?,
                Some(2) => v.request_announcement_complete = boolean(t, W)?,
                Some(3) => v.extensions = Some(contents(t, W)?),
                // callSegmentID and requestAnnouncementStartedNotification: CAP v4 only.
                Some(5) if v4 => v.call_segment_id = Some(uint(t, "callSegmentID", 1, 127)?),
                Some(51) if v4 => v.request_announcement_started = boolean(t, W)?,
                _ => {}
            }
        }
        v.information_to_send = its.ok_or(CapError::MissingParameter("informationToSend"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            self.information_to_send.encode(0, b);
            write_bool(b, Tag::ctx(1), self.disconnect_from_ip_forbidden);
            write_bool(b, Tag::ctx(2), self.request_announcement_complete);
            put_opt_cons(b, 3, self.extensions);
            if dialect == Dialect::CapV4 {
                put_opt_int(b, 5, self.call_segment_id);
                if self.request_announcement_started {
                    write_bool(b, Tag::ctx(51), true);
                }
            }
        });
    }
}

/// `ErrorTreatment ::= ENUMERATED { stdErrorAndInfo(0), help(1), repeatPrompt(2) }`.
pub type ErrorTreatment = i64;

/// `CollectedDigits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollectedDigits<'a> {
    /// `minimumNbOfDigits [0]` (1..30, DEFAULT 1).
    pub minimum_nb_of_digits: u8,
    /// `maximumNbOfDigits [1]` (1..30).
    pub maximum_nb_of_digits: u8,
    /// `endOfReplyDigit [2]`, one BCD digit an octet (`0x0c` = '#').
    pub end_of_reply_digit: Option<&'a [u8]>,
    /// `cancelDigit [3]`.
    pub cancel_digit: Option<&'a [u8]>,
    /// `startDigit [4]`.
    pub start_digit: Option<&'a [u8]>,
    /// `firstDigitTimeOut [5]` seconds.
    pub first_digit_time_out: Option<u8>,
    /// `interDigitTimeOut [6]` seconds.
    pub inter_digit_time_out: Option<u8>,
    /// `errorTreatment [7]` (DEFAULT stdErrorAndInfo).
    pub error_treatment: ErrorTreatment,
    /// `interruptableAnnInd [8]` (DEFAULT TRUE).
    pub interruptable_ann_ind: bool,
    /// `voiceInformation [9]` (DEFAULT FALSE).
    pub voice_information: bool,
    /// `voiceBack [10]` (DEFAULT FALSE).
    pub voice_back: bool,
}

impl<'a> CollectedDigits<'a> {
    /// Collect `min..=max` digits ended by '#', with the given timeouts.
    pub const fn pin(min: u8, max: u8) -> Self {
        CollectedDigits {
            minimum_nb_of_digits: min,
            maximum_nb_of_digits: max,
            end_of_reply_digit: Some(&[0x0c]),
            cancel_digit: None,
            start_digit: None,
            first_digit_time_out: None,
            inter_digit_time_out: None,
            error_treatment: 0,
            interruptable_ann_ind: true,
            voice_information: false,
            voice_back: false,
        }
    }

    fn decode(t: Tlv<'a>) -> CapResult<Self> {
        const W: &str = "CollectedDigits";
        let mut r = reader(t, W)?;
        let mut v = CollectedDigits::pin(1, 1);
        v.end_of_reply_digit = None;
        let mut max = None;
        let small = |f: Tlv<'_>, what, lo, hi| -> CapResult<u8> {
            u8::try_from(uint(f, what, lo, hi)?).map_err(|_| CapError::OutOfRange(what))
        };
        while let Some(f) = next(&mut r, W)? {
            match ctx(&f) {
                Some(0) => v.minimum_nb_of_digits = small(f, "minimumNbOfDigits", 1, 30)?,
                Some(1) => max = Some(small(f, "maximumNbOfDigits", 1, 30)?),
                Some(2) => v.end_of_reply_digit = Some(octets(f, W)?),
                Some(3) => v.cancel_digit = Some(octets(f, W)?),
                Some(4) => v.start_digit = Some(octets(f, W)?),
                Some(5) => v.first_digit_time_out = Some(small(f, "firstDigitTimeOut", 1, 127)?),
                Some(6) => v.inter_digit_time_out = Some(small(f, "interDigitTimeOut", 1, 127)?),
                Some(7) => v.error_treatment = int(f, W)?,
                Some(8) => v.interruptable_ann_ind = boolean(f, W)?,
                Some(9) => v.voice_information = boolean(f, W)?,
                Some(10) => v.voice_back = boolean(f, W)?,
                _ => {}
            }
        }
        v.maximum_nb_of_digits = max.ok_or(CapError::MissingParameter("maximumNbOfDigits"))?;
        Ok(v)
    }

    fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, Tag::ctx_cons(0), |b| {
            write_integer(b, Tag::ctx(0), i64::from(self.minimum_nb_of_digits));
            write_integer(b, Tag::ctx(1), i64::from(self.maximum_nb_of_digits));
            put_opt_octets(b, 2, self.end_of_reply_digit);
            put_opt_octets(b, 3, self.cancel_digit);
            put_opt_octets(b, 4, self.start_digit);
            put_opt_int(b, 5, self.first_digit_time_out);
            put_opt_int(b, 6, self.inter_digit_time_out);
            if self.error_treatment != 0 {
                write_enumerated(b, Tag::ctx(7), self.error_treatment);
            }
            if !self.interruptable_ann_ind {
                write_bool(b, Tag::ctx(8), false);
            }
            if self.voice_information {
                write_bool(b, Tag::ctx(9), true);
            }
            if self.voice_back {
                write_bool(b, Tag::ctx(10), true);
            }
        });
    }
}

/// `CollectedInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectedInfo<'a> {
    /// `collectedDigits [0]`.
    CollectedDigits(CollectedDigits<'a>),
    /// `iA5Information [1]` (INAP CS-1).
    Ia5Information(bool),
}

/// PromptAndCollectUserInformationArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptAndCollectUserInformation<'a> {
    /// What to collect.
    pub collected_info: CollectedInfo<'a>,
    /// `disconnectFromIPForbidden [1]` (DEFAULT TRUE; always sent).
    pub disconnect_from_ip_forbidden: bool,
    /// The prompt.
    pub information_to_send: Option<InformationToSend<'a>>,
    /// `extensions [3]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `callSegmentID [4]` (CAP v4).
    pub call_segment_id: Option<u32>,
    /// `requestAnnouncementStartedNotification [51]` (CAP v4).
    pub request_announcement_started: bool,
}

impl<'a> PromptAndCollectUserInformation<'a> {
    /// Play `prompt` and collect digits.
    pub const fn new(digits: CollectedDigits<'a>, prompt: Option<InformationToSend<'a>>) -> Self {
        PromptAndCollectUserInformation {
            collected_info: CollectedInfo::CollectedDigits(digits),
            disconnect_from_ip_forbidden: true,
            information_to_send: prompt,
            extensions: None,
            call_segment_id: None,
            request_announcement_started: false,
        }
    }

    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "PromptAndCollectUserInformationArg";
        let v4 = dialect == Dialect::CapV4;
        let mut r = sequence(param, W)?;
        let mut ci = None;
        let mut v = PromptAndCollectUserInformation::new(CollectedDigits::pin(1, 1), None);
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => {
                    let alt = explicit(t, "collectedInfo")?;
                    ci = Some(match ctx(&alt) {
                        Some(0) => CollectedInfo::CollectedDigits(CollectedDigits::decode(alt)?),
                        Some(1) => CollectedInfo::Ia5Information(boolean(alt, W)?),
                        _ => return Err(CapError::UnexpectedDataValue("collectedInfo")),
                    });
                }
                Some(1) => v.disconnect_from_ip_forbidden = boolean(t, W)?,
                Some(2) => v.information_to_send = Some(InformationToSend::decode(t)?),
                Some(3) => v.extensions = Some(contents(t, W)?),
                // callSegmentID and requestAnnouncementStartedNotification: CAP v4 only.
                Some(4) if v4 => v.call_segment_id = Some(uint(t, "callSegmentID", 1, 127)?),
                Some(51) if v4 => v.request_announcement_started = boolean(t, W)?,
                _ => {}
            }
        }
        v.collected_info = ci.ok_or(CapError::MissingParameter("collectedInfo"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_constructed(b, Tag::ctx_cons(0), |b| match &self.collected_info {
                CollectedInfo::CollectedDigits(d) => d.encode(b),
                CollectedInfo::Ia5Information(x) => write_bool(b, Tag::ctx(1), *x),
            });
            write_bool(b, Tag::ctx(1), self.disconnect_from_ip_forbidden);
            if let Some(i) = &self.information_to_send {
                i.encode(2, b);
            }
            put_opt_cons(b, 3, self.extensions);
            if dialect == Dialect::CapV4 {
                put_opt_int(b, 4, self.call_segment_id);
                if self.request_announcement_started {
                    write_bool(b, Tag::ctx(51), true);
                }
            }
        });
    }
}

/// ReceivedInformationArg, the result of PromptAndCollectUserInformation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceivedInformation<'a> {
    /// `digitsResponse [0]`: Generic Digits contents.
    DigitsResponse(&'a [u8]),
    /// `iA5Response [1]` (INAP CS-1).
    Ia5Response(&'a [u8]),
}

impl<'a> ReceivedInformation<'a> {
    /// Decode the result parameter.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "ReceivedInformationArg";
        let t = required(param, W)?;
        match ctx(&t) {
            Some(0) => Ok(ReceivedInformation::DigitsResponse(octets(t, W)?)),
            Some(1) => Ok(ReceivedInformation::Ia5Response(octets(t, W)?)),
            _ => Err(CapError::Malformed {
                what: W,
                source: strowger_ber::BerError::UnexpectedTag {
                    expected: Tag::ctx(0),
                    found: t.tag,
                },
            }),
        }
    }

    /// Encode the result parameter.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        match self {
            ReceivedInformation::DigitsResponse(d) => write_tlv(buf, Tag::ctx(0), d),
            ReceivedInformation::Ia5Response(d) => write_tlv(buf, Tag::ctx(1), d),
        }
    }

    /// The collected digits, decoded (IA5 responses are read as IA5 digits).
    pub fn digits(&self) -> CapResult<GenericDigits> {
        match *self {
            ReceivedInformation::DigitsResponse(d) => GenericDigits::decode(d),
            ReceivedInformation::Ia5Response(d) => {
                let mut digits = crate::numbers::Digits::EMPTY;
                for c in d {
                    digits.push(*c)?;
                }
                Ok(GenericDigits {
                    encoding: crate::numbers::DigitsEncoding::Ia5,
                    type_of_digits: 0,
                    digits,
                })
            }
        }
    }
}

/// SpecializedResourceReportArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecializedResourceReport {
    /// The announcement finished (`NULL` before CAP v4; `allAnnouncementsComplete [50]`).
    AllAnnouncementsComplete,
    /// `firstAnnouncementStarted [51]` (CAP v4).
    FirstAnnouncementStarted,
}

impl SpecializedResourceReport {
    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&[u8]>) -> CapResult<Self> {
        const W: &str = "SpecializedResourceReportArg";
        let t = required(param, W)?;
        if t.tag == Tag::NULL {
            null(t, W)?;
            return Ok(SpecializedResourceReport::AllAnnouncementsComplete);
        }
        match ctx(&t) {
            Some(50) => null(t, W).map(|_| SpecializedResourceReport::AllAnnouncementsComplete),
            // Before CAP v4 the argument is a bare NULL: "first announcement started" cannot
            // be expressed (nor encoded), so it is refused rather than misread.
            Some(51) if dialect == Dialect::CapV4 => {
                null(t, W).map(|_| SpecializedResourceReport::FirstAnnouncementStarted)
            }
            _ => Err(CapError::UnexpectedDataValue(W)),
        }
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        match (dialect, self) {
            (Dialect::CapV4, SpecializedResourceReport::AllAnnouncementsComplete) => {
                write_tlv(buf, Tag::ctx(50), &[])
            }
            (Dialect::CapV4, SpecializedResourceReport::FirstAnnouncementStarted) => {
                write_tlv(buf, Tag::ctx(51), &[])
            }
            _ => write_tlv(buf, Tag::NULL, &[]),
        }
    }
}

/// DisconnectForwardConnectionWithArgumentArg (CAP v4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DisconnectForwardConnectionWithArgument<'a> {
    /// `callSegmentID [1]`.
    pub call_segment_id: Option<u32>,
    /// `extensions [2]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> DisconnectForwardConnectionWithArgument<'a> {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "DisconnectForwardConnectionWithArgumentArg";
        let mut r = sequence(param, W)?;
        let mut v = DisconnectForwardConnectionWithArgument::default();
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(1) => v.call_segment_id = Some(uint(t, "callSegmentID", 1, 127)?),
                Some(2) => v.extensions = Some(contents(t, W)?),
                _ => {}
            }
        }
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            put_opt_int(b, 1, self.call_segment_id);
            put_opt_cons(b, 2, self.extensions);
        });
    }
}

/// EstablishTemporaryConnectionArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EstablishTemporaryConnection<'a> {
    /// `assistingSSPIPRoutingAddress [0]` (Generic Number contents).
    pub assisting_ssp_ip_routing_address: &'a [u8],
    /// `correlationID [1]` (Generic Digits contents).
    pub correlation_id: Option<&'a [u8]>,
    /// `scfID [3]`.
    pub scf_id: Option<&'a [u8]>,
    /// `extensions [4]`, raw contents.
    pub extensions: Option<&'a [u8]>,
    /// `carrier [5]` (CAP v3+ / INAP).
    pub carrier: Option<&'a [u8]>,
    /// `serviceInteractionIndicatorsTwo` (`[7]` in CAP v2, `[6]` in v3/v4), raw contents.
    pub service_interaction_indicators_two: Option<&'a [u8]>,
    /// `callSegmentID [7]` (CAP v4).
    pub call_segment_id: Option<u32>,
}

impl<'a> EstablishTemporaryConnection<'a> {
    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "EstablishTemporaryConnectionArg";
        let mut r = sequence(param, W)?;
        let mut addr = None;
        let mut v = EstablishTemporaryConnection::default();
        while let Some(t) = next(&mut r, W)? {
            match (ctx(&t), dialect) {
                (Some(0), _) => addr = Some(octets(t, W)?),
                (Some(1), _) => v.correlation_id = Some(octets(t, W)?),
                (Some(3), _) => v.scf_id = Some(octets(t, W)?),
                (Some(4), _) => v.extensions = Some(contents(t, W)?),
                (Some(5), d) if d != Dialect::CapV2 => v.carrier = Some(octets(t, W)?),
                (Some(7), Dialect::CapV2) | (Some(6), Dialect::CapV3 | Dialect::CapV4) => {
                    v.service_interaction_indicators_two = Some(contents(t, W)?)
                }
                (Some(7), Dialect::CapV4) => {
                    v.call_segment_id = Some(uint(t, "callSegmentID", 1, 127)?)
                }
                _ => {}
            }
        }
        v.assisting_ssp_ip_routing_address =
            addr.ok_or(CapError::MissingParameter("assistingSSPIPRoutingAddress"))?;
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_tlv(b, Tag::ctx(0), self.assisting_ssp_ip_routing_address);
            put_opt_octets(b, 1, self.correlation_id);
            put_opt_octets(b, 3, self.scf_id);
            put_opt_cons(b, 4, self.extensions);
            if dialect != Dialect::CapV2 {
                put_opt_octets(b, 5, self.carrier);
            }
            match dialect {
                Dialect::CapV2 => put_opt_cons(b, 7, self.service_interaction_indicators_two),
                Dialect::CapV3 => put_opt_cons(b, 6, self.service_interaction_indicators_two),
                Dialect::CapV4 => {
                    put_opt_cons(b, 6, self.service_interaction_indicators_two);
                    put_opt_int(b, 7, self.call_segment_id);
                }
                Dialect::InapCs1 => {}
            }
        });
    }
}

/// AssistRequestInstructionsArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AssistRequestInstructions<'a> {
    /// `correlationID [0]` (Generic Number / Generic Digits contents).
    pub correlation_id: &'a [u8],
    /// `iPSSPCapabilities [2]` (mandatory in CAP, optional in INAP CS-1).
    pub ipssp_capabilities: Option<&'a [u8]>,
    /// `extensions [3]`, raw contents.
    pub extensions: Option<&'a [u8]>,
}

impl<'a> AssistRequestInstructions<'a> {
    /// Decode the argument.
    pub fn decode(dialect: Dialect, param: Option<&'a [u8]>) -> CapResult<Self> {
        const W: &str = "AssistRequestInstructionsArg";
        let mut r = sequence(param, W)?;
        let mut corr = None;
        let mut v = AssistRequestInstructions::default();
        while let Some(t) = next(&mut r, W)? {
            match ctx(&t) {
                Some(0) => corr = Some(octets(t, W)?),
                Some(2) => v.ipssp_capabilities = Some(octets(t, W)?),
                Some(3) => v.extensions = Some(contents(t, W)?),
                _ => {}
            }
        }
        v.correlation_id = corr.ok_or(CapError::MissingParameter("correlationID"))?;
        if dialect.is_cap() && v.ipssp_capabilities.is_none() {
            return Err(CapError::MissingParameter("iPSSPCapabilities"));
        }
        Ok(v)
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        write_constructed(buf, Tag::SEQUENCE, |b| {
            write_tlv(b, Tag::ctx(0), self.correlation_id);
            put_opt_octets(b, 2, self.ipssp_capabilities);
            put_opt_cons(b, 3, self.extensions);
        });
    }
}

/// CancelArg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// `invokeID [0]`: cancel that PlayAnnouncement / PromptAndCollectUserInformation.
    InvokeId(i8),
    /// `allRequests [1]`.
    AllRequests,
    /// `callSegmentToCancel [2]` (CAP v4).
    CallSegmentToCancel {
        /// `invokeID [0]`.
        invoke_id: Option<i8>,
        /// `callSegmentID [1]`.
        call_segment_id: Option<u32>,
    },
}

impl Cancel {
    /// Decode the argument.
    pub fn decode(_dialect: Dialect, param: Option<&[u8]>) -> CapResult<Self> {
        const W: &str = "CancelArg";
        let t = required(param, W)?;
        let invoke = |t| -> CapResult<i8> {
            i8::try_from(int_range(t, "invokeID", -128, 127)?)
                .map_err(|_| CapError::OutOfRange("invokeID"))
        };
        match ctx(&t) {
            Some(0) => Ok(Cancel::InvokeId(invoke(t)?)),
            Some(1) => null(t, W).map(|_| Cancel::AllRequests),
            Some(2) => {
                let mut r = reader(t, W)?;
                let mut v = (None, None);
                while let Some(f) = next(&mut r, W)? {
                    match ctx(&f) {
                        Some(0) => v.0 = Some(invoke(f)?),
                        Some(1) => v.1 = Some(uint(f, "callSegmentID", 1, 127)?),
                        _ => {}
                    }
                }
                Ok(Cancel::CallSegmentToCancel {
                    invoke_id: v.0,
                    call_segment_id: v.1,
                })
            }
            _ => Err(CapError::UnexpectedDataValue(W)),
        }
    }

    /// Encode the argument.
    pub fn encode(&self, _dialect: Dialect, buf: &mut BytesMut) {
        match *self {
            Cancel::InvokeId(id) => write_integer(buf, Tag::ctx(0), i64::from(id)),
            Cancel::AllRequests => write_tlv(buf, Tag::ctx(1), &[]),
            Cancel::CallSegmentToCancel {
                invoke_id,
                call_segment_id,
            } => write_constructed(buf, Tag::ctx_cons(2), |b| {
                put_opt_int(b, 0, invoke_id);
                put_opt_int(b, 1, call_segment_id);
            }),
        }
    }
}
