//! Variable-length parameters, RFC 4666 §3.2 (format) and §3.3–§3.8 (per-message values).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Parameter Tag        |       Parameter Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                       Parameter Value                         /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Parameter Length counts tag, length and value but not the padding that brings the parameter
//! to a multiple of 4 octets. Common tags are 0x0000–0x003f (§3.2.1), M3UA-specific ones
//! 0x0200–0x02ff (§3.2.2). A tag this codec does not know is kept in
//! `Message::unknown_parameters` and otherwise ignored; a *known* tag that is not allowed in the
//! message is refused with ERR "Unexpected Parameter".

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::sequence::tuple;

use crate::error::{DecodeError, EncodeError};

open_code! {
    /// Parameter Tag (RFC 4666 §3.2.1, §3.2.2), an open newtype.
    Tag(u16) {
        /// INFO String (§3.8.2 et al.).
        INFO_STRING = 0x0004 => "INFO String",
        /// Routing Context (§3.3.1 et al.).
        ROUTING_CONTEXT = 0x0006 => "Routing Context",
        /// Diagnostic Information (§3.8.1).
        DIAGNOSTIC_INFORMATION = 0x0007 => "Diagnostic Information",
        /// Heartbeat Data (§3.5.5).
        HEARTBEAT_DATA = 0x0009 => "Heartbeat Data",
        /// Traffic Mode Type (§3.7.1).
        TRAFFIC_MODE_TYPE = 0x000b => "Traffic Mode Type",
        /// Error Code (§3.8.1).
        ERROR_CODE = 0x000c => "Error Code",
        /// Status (§3.8.2).
        STATUS = 0x000d => "Status",
        /// ASP Identifier (§3.5.1).
        ASP_IDENTIFIER = 0x0011 => "ASP Identifier",
        /// Affected Point Code (§3.4.1).
        AFFECTED_POINT_CODE = 0x0012 => "Affected Point Code",
        /// Correlation ID (§3.3.1).
        CORRELATION_ID = 0x0013 => "Correlation ID",
        /// Network Appearance (§3.3.1).
        NETWORK_APPEARANCE = 0x0200 => "Network Appearance",
        /// User/Cause (§3.4.5).
        USER_CAUSE = 0x0204 => "User/Cause",
        /// Congestion Indications (§3.4.4).
        CONGESTION_INDICATIONS = 0x0205 => "Congestion Indications",
        /// Concerned Destination (§3.4.4).
        CONCERNED_DESTINATION = 0x0206 => "Concerned Destination",
        /// Routing Key (§3.6.1, RKM only).
        ROUTING_KEY = 0x0207 => "Routing Key",
        /// Registration Result (§3.6.2, RKM only).
        REGISTRATION_RESULT = 0x0208 => "Registration Result",
        /// Deregistration Result (§3.6.4, RKM only).
        DEREGISTRATION_RESULT = 0x0209 => "Deregistration Result",
        /// Local Routing Key Identifier (RKM only).
        LOCAL_ROUTING_KEY_IDENTIFIER = 0x020a => "Local Routing Key Identifier",
        /// Destination Point Code (RKM only).
        DESTINATION_POINT_CODE = 0x020b => "Destination Point Code",
        /// Service Indicators (RKM only).
        SERVICE_INDICATORS = 0x020c => "Service Indicators",
        /// Originating Point Code List (RKM only).
        ORIGINATING_POINT_CODE_LIST = 0x020e => "Originating Point Code List",
        /// Protocol Data (§3.3.1).
        PROTOCOL_DATA = 0x0210 => "Protocol Data",
        /// Registration Status (RKM only).
        REGISTRATION_STATUS = 0x0212 => "Registration Status",
        /// Deregistration Status (RKM only).
        DEREGISTRATION_STATUS = 0x0213 => "Deregistration Status",
    }
}

open_code! {
    /// Traffic Mode Type (RFC 4666 §3.7.1), an open newtype.
    TrafficModeType(u32) {
        /// One ASP takes all traffic for the AS.
        OVERRIDE = 1 => "Override",
        /// Traffic is shared among the active ASPs.
        LOADSHARE = 2 => "Loadshare",
        /// Every active ASP gets every message.
        BROADCAST = 3 => "Broadcast",
    }
}

open_code! {
    /// Status Type of the NTFY Status parameter (RFC 4666 §3.8.2).
    StatusType(u16) {
        /// Application Server state change (AS-State_Change).
        AS_STATE_CHANGE = 1 => "AS-State_Change",
        /// Other.
        OTHER = 2 => "Other",
    }
}

open_code! {
    /// Unavailability Cause of the DUPU User/Cause parameter (RFC 4666 §3.4.5).
    UnavailabilityCause(u16) {
        /// Unknown.
        UNKNOWN = 0 => "Unknown",
        /// Unequipped Remote User.
        UNEQUIPPED_REMOTE_USER = 1 => "Unequipped Remote User",
        /// Inaccessible Remote User.
        INACCESSIBLE_REMOTE_USER = 2 => "Inaccessible Remote User",
    }
}

open_code! {
    /// MTP3-User Identity (Service Indicator) of the User/Cause parameter and of Protocol Data
    /// SI (RFC 4666 §3.4.5, Q.704 §14.2.2).
    MtpUser(u16) {
        /// SCCP.
        SCCP = 3 => "SCCP",
        /// TUP.
        TUP = 4 => "TUP",
        /// ISUP.
        ISUP = 5 => "ISUP",
        /// Broadband ISUP.
        BROADBAND_ISUP = 9 => "Broadband ISUP",
        /// Satellite ISUP.
        SATELLITE_ISUP = 10 => "Satellite ISUP",
        /// AAL type 2 Signalling.
        AAL2_SIGNALLING = 12 => "AAL type 2 Signalling",
        /// Bearer Independent Call Control (BICC).
        BICC = 13 => "BICC",
        /// Gateway Control Protocol.
        GATEWAY_CONTROL_PROTOCOL = 14 => "Gateway Control Protocol",
    }
}

/// Service Indicator value for SCCP in Protocol Data (Q.704 §14.2.2).
pub const SI_SCCP: u8 = 3;

/// Status parameter (RFC 4666 §3.8.2).
///
/// ```text
/// |          Status Type          |         Status Information    |
/// ```
/// For AS-State_Change: 2 AS-INACTIVE, 3 AS-ACTIVE, 4 AS-PENDING (1 reserved).
/// For Other: 1 Insufficient ASP Resources Active in AS, 2 Alternate ASP Active, 3 ASP Failure.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status {
    /// Status Type.
    pub status_type: StatusType,
    /// Status Information, interpreted according to `status_type`.
    pub info: u16,
}

impl Status {
    /// AS-State_Change / AS-INACTIVE.
    pub const AS_INACTIVE: Status = Status::new(StatusType::AS_STATE_CHANGE, 2);
    /// AS-State_Change / AS-ACTIVE.
    pub const AS_ACTIVE: Status = Status::new(StatusType::AS_STATE_CHANGE, 3);
    /// AS-State_Change / AS-PENDING.
    pub const AS_PENDING: Status = Status::new(StatusType::AS_STATE_CHANGE, 4);
    /// Other / Insufficient ASP Resources Active in AS.
    pub const INSUFFICIENT_ASP_RESOURCES: Status = Status::new(StatusType::OTHER, 1);
    /// Other / Alternate ASP Active.
    pub const ALTERNATE_ASP_ACTIVE: Status = Status::new(StatusType::OTHER, 2);
    /// Other / ASP Failure.
    pub const ASP_FAILURE: Status = Status::new(StatusType::OTHER, 3);

    /// A status from its two fields.
    pub const fn new(status_type: StatusType, info: u16) -> Status {
        Status { status_type, info }
    }

    /// The registered name, `None` when unregistered.
    pub fn name(self) -> Option<&'static str> {
        match (self.status_type, self.info) {
            (StatusType::AS_STATE_CHANGE, 1) => Some("AS-State_Change/Reserved"),
            (StatusType::AS_STATE_CHANGE, 2) => Some("AS-INACTIVE"),
            (StatusType::AS_STATE_CHANGE, 3) => Some("AS-ACTIVE"),
            (StatusType::AS_STATE_CHANGE, 4) => Some("AS-PENDING"),
            (StatusType::OTHER, 1) => Some("Insufficient ASP Resources Active in AS"),
            (StatusType::OTHER, 2) => Some("Alternate ASP Active"),
            (StatusType::OTHER, 3) => Some("ASP Failure"),
            _ => None,
        }
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Status({:?}, {:#x})", self.status_type, self.info),
        }
    }
}

/// One entry of the Affected Point Code parameter (RFC 4666 §3.4.1).
///
/// ```text
/// |     Mask      |                 Affected PC 1                 |
/// ```
/// The mask is the number of low-order bits of the point code that are wildcarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AffectedPointCode {
    /// Wildcard mask (number of least significant bits ignored).
    pub mask: u8,
    /// The 24-bit point code (ITU 14-bit codes sit in the low bits).
    pub point_code: u32,
}

impl AffectedPointCode {
    /// An exact point code (mask 0).
    pub const fn exact(point_code: u32) -> Self {
        AffectedPointCode {
            mask: 0,
            point_code: point_code & 0x00ff_ffff,
        }
    }

    /// Whether `pc` falls in the range this entry describes.
    pub fn covers(&self, pc: u32) -> bool {
        let bits = u32::from(self.mask.min(24));
        ((self.point_code ^ pc) & 0x00ff_ffff) >> bits == 0
    }

    fn to_u32(self) -> u32 {
        (u32::from(self.mask) << 24) | (self.point_code & 0x00ff_ffff)
    }

    fn from_u32(v: u32) -> Self {
        AffectedPointCode {
            mask: (v >> 24) as u8,
            point_code: v & 0x00ff_ffff,
        }
    }
}

open_code! {
    /// Congestion Level of the SCON Congestion Indications parameter (RFC 4666 §3.4.4).
    CongestionLevel(u8) {
        /// No congestion or undefined.
        NONE = 0 => "No Congestion or Undefined",
        /// Congestion Level 1.
        LEVEL_1 = 1 => "Congestion Level 1",
        /// Congestion Level 2.
        LEVEL_2 = 2 => "Congestion Level 2",
        /// Congestion Level 3.
        LEVEL_3 = 3 => "Congestion Level 3",
    }
}

/// User/Cause parameter of DUPU (RFC 4666 §3.4.5).
///
/// ```text
/// |             Cause             |            User               |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserCause {
    /// Unavailability Cause.
    pub cause: UnavailabilityCause,
    /// MTP3-User Identity.
    pub user: MtpUser,
}

/// Protocol Data parameter (RFC 4666 §3.3.1): the MTP3 routing label, SIO fields and the user
/// part message. `user_data` borrows the input on decode (no copy, no allocation).
///
/// ```text
/// |                     Originating Point Code                    |
/// |                     Destination Point Code                    |
/// |       SI      |       NI      |      MP       |      SLS      |
/// \                     User Protocol Data                        /
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProtocolData<'a> {
    /// Originating Point Code.
    pub opc: u32,
    /// Destination Point Code.
    pub dpc: u32,
    /// Service Indicator (3 = SCCP).
    pub si: u8,
    /// Network Indicator (0 international, 2 national, …).
    pub ni: u8,
    /// Message Priority (ANSI; 0 for ITU).
    pub mp: u8,
    /// Signalling Link Selection.
    pub sls: u8,
    /// The MTP3-User message (for us, an SCCP message).
    pub user_data: Cow<'a, [u8]>,
}

/// OPC, DPC, SI, NI, MP, SLS as read by nom.
type RoutingLabel = (u32, u32, u8, u8, u8, u8);

impl<'a> ProtocolData<'a> {
    /// Fixed part of the parameter value, in octets.
    pub const FIXED_LEN: usize = 12;

    fn parse(tag: Tag, v: &'a [u8]) -> Result<Self, DecodeError> {
        let res: nom::IResult<&[u8], RoutingLabel> =
            tuple((be_u32, be_u32, be_u8, be_u8, be_u8, be_u8))(v);
        match res {
            Ok((rest, (opc, dpc, si, ni, mp, sls))) => Ok(ProtocolData {
                opc,
                dpc,
                si,
                ni,
                mp,
                sls,
                user_data: Cow::Borrowed(rest),
            }),
            Err(_) => Err(DecodeError::ParameterField {
                tag,
                reason: "shorter than the 12-octet routing label",
            }),
        }
    }

    /// A copy that owns its user data.
    pub fn into_owned(self) -> ProtocolData<'static> {
        ProtocolData {
            user_data: Cow::Owned(self.user_data.into_owned()),
            ..self
        }
    }
}

/// A parameter whose tag this codec does not interpret, kept so that it round-trips.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawParameter<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value, without padding.
    pub value: Cow<'a, [u8]>,
}

/// Iterator over the TLVs of a message body. Zero-copy; stops after the first error.
pub(crate) struct ParamIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> ParamIter<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        ParamIter {
            rest: body,
            failed: false,
        }
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Result<(Tag, &'a [u8]), DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let res: nom::IResult<&[u8], (u16, u16)> = tuple((be_u16, be_u16))(self.rest);
        let (after_hdr, (tag, len)) = match res {
            Ok(v) => v,
            Err(_) => {
                self.failed = true;
                return Some(Err(DecodeError::ParameterField {
                    tag: Tag(0),
                    reason: "fewer than 4 octets left for a parameter header",
                }));
            }
        };
        let tag = Tag(tag);
        let Some(value_len) = usize::from(len).checked_sub(4) else {
            self.failed = true;
            return Some(Err(DecodeError::ParameterField {
                tag,
                reason: "length below 4",
            }));
        };
        let res: nom::IResult<&[u8], &[u8]> = take(value_len)(after_hdr);
        let Ok((after_value, value)) = res else {
            self.failed = true;
            return Some(Err(DecodeError::ParameterField {
                tag,
                reason: "length overruns the message",
            }));
        };
        // Padding is not counted in the length; the last parameter's padding may be missing
        // (lenient), and padding octets are not checked for zero (RFC 4666 §3.2: ignored).
        let pad = (4 - value_len % 4) % 4;
        self.rest = after_value.get(pad.min(after_value.len())..).unwrap_or(&[]);
        Some(Ok((tag, value)))
    }
}

/// Tags this codec interprets, in slot order of [`Collected`].
const KNOWN: [Tag; 24] = [
    Tag::INFO_STRING,
    Tag::ROUTING_CONTEXT,
    Tag::DIAGNOSTIC_INFORMATION,
    Tag::HEARTBEAT_DATA,
    Tag::TRAFFIC_MODE_TYPE,
    Tag::ERROR_CODE,
    Tag::STATUS,
    Tag::ASP_IDENTIFIER,
    Tag::AFFECTED_POINT_CODE,
    Tag::CORRELATION_ID,
    Tag::NETWORK_APPEARANCE,
    Tag::USER_CAUSE,
    Tag::CONGESTION_INDICATIONS,
    Tag::CONCERNED_DESTINATION,
    Tag::PROTOCOL_DATA,
    Tag::ROUTING_KEY,
    Tag::REGISTRATION_RESULT,
    Tag::DEREGISTRATION_RESULT,
    Tag::LOCAL_ROUTING_KEY_IDENTIFIER,
    Tag::DESTINATION_POINT_CODE,
    Tag::SERVICE_INDICATORS,
    Tag::ORIGINATING_POINT_CODE_LIST,
    Tag::REGISTRATION_STATUS,
    Tag::DEREGISTRATION_STATUS,
];

/// The slot of `tag` in [`KNOWN`] (a jump table rather than a scan of the list).
#[inline]
fn slot(tag: Tag) -> Option<usize> {
    Some(match tag {
        Tag::INFO_STRING => 0,
        Tag::ROUTING_CONTEXT => 1,
        Tag::DIAGNOSTIC_INFORMATION => 2,
        Tag::HEARTBEAT_DATA => 3,
        Tag::TRAFFIC_MODE_TYPE => 4,
        Tag::ERROR_CODE => 5,
        Tag::STATUS => 6,
        Tag::ASP_IDENTIFIER => 7,
        Tag::AFFECTED_POINT_CODE => 8,
        Tag::CORRELATION_ID => 9,
        Tag::NETWORK_APPEARANCE => 10,
        Tag::USER_CAUSE => 11,
        Tag::CONGESTION_INDICATIONS => 12,
        Tag::CONCERNED_DESTINATION => 13,
        Tag::PROTOCOL_DATA => 14,
        Tag::ROUTING_KEY => 15,
        Tag::REGISTRATION_RESULT => 16,
        Tag::DEREGISTRATION_RESULT => 17,
        Tag::LOCAL_ROUTING_KEY_IDENTIFIER => 18,
        Tag::DESTINATION_POINT_CODE => 19,
        Tag::SERVICE_INDICATORS => 20,
        Tag::ORIGINATING_POINT_CODE_LIST => 21,
        Tag::REGISTRATION_STATUS => 22,
        Tag::DEREGISTRATION_STATUS => 23,
        _ => return None,
    })
}

/// Whether `tag` is one this codec interprets (and so may not appear in a [`RawParameter`]).
pub fn is_interpreted(tag: Tag) -> bool {
    slot(tag).is_some()
}

/// The parameters of one message, gathered in a single pass without allocating (unknown
/// parameters aside), then taken out one by one by the message decoder.
pub(crate) struct Collected<'a> {
    message: &'static str,
    slots: [Option<&'a [u8]>; KNOWN.len()],
    unknown: Vec<RawParameter<'a>>,
}

impl<'a> Collected<'a> {
    /// An empty collection for the parameters of `message`.
    #[inline]
    pub(crate) fn new(message: &'static str) -> Self {
        Collected {
            message,
            slots: [None; KNOWN.len()],
            unknown: Vec::new(),
        }
    }

    /// Gather the parameters of `body` (in place: the collection is large to move).
    #[inline]
    pub(crate) fn gather(&mut self, body: &'a [u8]) -> Result<(), DecodeError> {
        for p in ParamIter::new(body) {
            let (tag, value) = p?;
            match slot(tag) {
                Some(i) => {
                    if self.slots[i].is_some() {
                        return Err(DecodeError::UnexpectedParameter {
                            message: self.message,
                            tag,
                        });
                    }
                    self.slots[i] = Some(value);
                }
                None => self.unknown.push(RawParameter {
                    tag,
                    value: Cow::Borrowed(value),
                }),
            }
        }
        Ok(())
    }

    #[inline]
    fn take(&mut self, tag: Tag) -> Option<&'a [u8]> {
        slot(tag).and_then(|i| self.slots[i].take())
    }

    #[inline]
    fn require(&mut self, tag: Tag) -> Result<&'a [u8], DecodeError> {
        self.take(tag).ok_or(DecodeError::MissingParameter {
            message: self.message,
            tag,
        })
    }

    /// Ends decoding: any known parameter left over was not allowed in this message.
    #[inline]
    pub(crate) fn finish(&mut self) -> Result<Vec<RawParameter<'a>>, DecodeError> {
        for (i, s) in self.slots.iter().enumerate() {
            if s.is_some() {
                return Err(DecodeError::UnexpectedParameter {
                    message: self.message,
                    tag: KNOWN[i],
                });
            }
        }
        Ok(std::mem::take(&mut self.unknown))
    }

    // ---- typed accessors -------------------------------------------------------------------

    #[inline]
    pub(crate) fn u32_opt(&mut self, tag: Tag) -> Result<Option<u32>, DecodeError> {
        self.take(tag).map(|v| parse_u32(tag, v)).transpose()
    }

    pub(crate) fn u32_req(&mut self, tag: Tag) -> Result<u32, DecodeError> {
        let v = self.require(tag)?;
        parse_u32(tag, v)
    }

    pub(crate) fn bytes_opt(&mut self, tag: Tag) -> Option<Cow<'a, [u8]>> {
        self.take(tag).map(Cow::Borrowed)
    }

    pub(crate) fn info_string(&mut self) -> Result<Option<Cow<'a, [u8]>>, DecodeError> {
        match self.take(Tag::INFO_STRING) {
            Some(v) if v.len() > MAX_INFO_STRING => Err(DecodeError::InvalidParameterValue {
                tag: Tag::INFO_STRING,
                reason: "longer than 255 octets",
            }),
            other => Ok(other.map(Cow::Borrowed)),
        }
    }

    /// A list of 32-bit values (Routing Context); absent ⇒ empty.
    pub(crate) fn u32_list(&mut self, tag: Tag) -> Result<Vec<u32>, DecodeError> {
        match self.take(tag) {
            None => Ok(Vec::new()),
            Some(v) => parse_u32_list(tag, v),
        }
    }

    pub(crate) fn affected_point_codes(&mut self) -> Result<Vec<AffectedPointCode>, DecodeError> {
        Ok(self
            .u32_list(Tag::AFFECTED_POINT_CODE)?
            .into_iter()
            .map(AffectedPointCode::from_u32)
            .collect())
    }

    pub(crate) fn affected_point_codes_req(
        &mut self,
    ) -> Result<Vec<AffectedPointCode>, DecodeError> {
        let v = self.require(Tag::AFFECTED_POINT_CODE)?;
        Ok(parse_u32_list(Tag::AFFECTED_POINT_CODE, v)?
            .into_iter()
            .map(AffectedPointCode::from_u32)
            .collect())
    }

    pub(crate) fn single_affected_point_code(&mut self) -> Result<AffectedPointCode, DecodeError> {
        let tag = Tag::AFFECTED_POINT_CODE;
        let v = self.require(tag)?;
        Ok(AffectedPointCode::from_u32(parse_u32(tag, v)?))
    }

    pub(crate) fn status(&mut self) -> Result<Status, DecodeError> {
        let tag = Tag::STATUS;
        let v = self.require(tag)?;
        let (t, i) = parse_u16_pair(tag, v)?;
        Ok(Status::new(StatusType(t), i))
    }

    pub(crate) fn user_cause(&mut self) -> Result<UserCause, DecodeError> {
        let tag = Tag::USER_CAUSE;
        let v = self.require(tag)?;
        let (cause, user) = parse_u16_pair(tag, v)?;
        Ok(UserCause {
            cause: UnavailabilityCause(cause),
            user: MtpUser(user),
        })
    }

    pub(crate) fn concerned_destination(&mut self) -> Result<Option<u32>, DecodeError> {
        Ok(self
            .u32_opt(Tag::CONCERNED_DESTINATION)?
            .map(|v| v & 0x00ff_ffff))
    }

    pub(crate) fn congestion_level(&mut self) -> Result<Option<CongestionLevel>, DecodeError> {
        Ok(self
            .u32_opt(Tag::CONGESTION_INDICATIONS)?
            .map(|v| CongestionLevel((v & 0xff) as u8)))
    }

    #[inline]
    pub(crate) fn protocol_data(&mut self) -> Result<ProtocolData<'a>, DecodeError> {
        let tag = Tag::PROTOCOL_DATA;
        let v = self.require(tag)?;
        ProtocolData::parse(tag, v)
    }
}

/// Longest INFO String (RFC 4666 §3.8.2: "up to 255 octets").
pub const MAX_INFO_STRING: usize = 255;

/// Longest parameter value: the 16-bit length also counts the 4-octet tag/length header.
pub const MAX_PARAMETER_VALUE: usize = u16::MAX as usize - 4;

fn parse_u32(tag: Tag, v: &[u8]) -> Result<u32, DecodeError> {
    let res: nom::IResult<&[u8], u32> = be_u32(v);
    match res {
        Ok(([], n)) => Ok(n),
        _ => Err(DecodeError::ParameterField {
            tag,
            reason: "value must be 4 octets",
        }),
    }
}

fn parse_u16_pair(tag: Tag, v: &[u8]) -> Result<(u16, u16), DecodeError> {
    let res: nom::IResult<&[u8], (u16, u16)> = tuple((be_u16, be_u16))(v);
    match res {
        Ok(([], pair)) => Ok(pair),
        _ => Err(DecodeError::ParameterField {
            tag,
            reason: "value must be 4 octets",
        }),
    }
}

fn parse_u32_list(tag: Tag, v: &[u8]) -> Result<Vec<u32>, DecodeError> {
    if v.is_empty() || v.len() % 4 != 0 {
        return Err(DecodeError::ParameterField {
            tag,
            reason: "value must be a non-empty multiple of 4 octets",
        });
    }
    // Bounded: at most one entry per 4 octets of the (already length-checked) input.
    Ok(v.chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

// ---- encoding ------------------------------------------------------------------------------

/// Writes one parameter and its padding.
pub(crate) fn put_param(out: &mut BytesMut, tag: Tag, value: &[u8]) -> Result<(), EncodeError> {
    put_param_with(out, tag, value.len(), |o| o.put_slice(value))
}

/// Writes one parameter whose value of `len` octets is produced by `write`.
pub(crate) fn put_param_with(
    out: &mut BytesMut,
    tag: Tag,
    len: usize,
    write: impl FnOnce(&mut BytesMut),
) -> Result<(), EncodeError> {
    if len > MAX_PARAMETER_VALUE {
        return Err(EncodeError::ParameterTooLong(tag));
    }
    let pad = (4 - len % 4) % 4;
    out.reserve(4 + len + pad);
    out.put_u16(tag.0);
    out.put_u16((len + 4) as u16);
    let before = out.len();
    write(out);
    debug_assert_eq!(out.len() - before, len);
    out.put_bytes(0, pad);
    Ok(())
}

pub(crate) fn put_u32_param(out: &mut BytesMut, tag: Tag, v: u32) -> Result<(), EncodeError> {
    put_param(out, tag, &v.to_be_bytes())
}

pub(crate) fn put_opt_u32(out: &mut BytesMut, tag: Tag, v: Option<u32>) -> Result<(), EncodeError> {
    match v {
        Some(v) => put_u32_param(out, tag, v),
        None => Ok(()),
    }
}

/// Writes a list parameter; an empty list is omitted (an empty list cannot be sent).
pub(crate) fn put_u32_list(
    out: &mut BytesMut,
    tag: Tag,
    vals: impl ExactSizeIterator<Item = u32> + Clone,
) -> Result<(), EncodeError> {
    if vals.len() == 0 {
        return Ok(());
    }
    let len = vals.len().saturating_mul(4);
    put_param_with(out, tag, len, |o| {
        for v in vals {
            o.put_u32(v);
        }
    })
}

pub(crate) fn put_apcs(out: &mut BytesMut, apcs: &[AffectedPointCode]) -> Result<(), EncodeError> {
    put_u32_list(
        out,
        Tag::AFFECTED_POINT_CODE,
        apcs.iter().map(|a| a.to_u32()),
    )
}

pub(crate) fn put_info(
    out: &mut BytesMut,
    info: &Option<Cow<'_, [u8]>>,
) -> Result<(), EncodeError> {
    match info {
        Some(s) if s.len() > MAX_INFO_STRING => Err(EncodeError::InfoStringTooLong),
        Some(s) => put_param(out, Tag::INFO_STRING, s),
        None => Ok(()),
    }
}

pub(crate) fn put_opt_bytes(
    out: &mut BytesMut,
    tag: Tag,
    v: &Option<Cow<'_, [u8]>>,
) -> Result<(), EncodeError> {
    match v {
        Some(b) => put_param(out, tag, b),
        None => Ok(()),
    }
}

pub(crate) fn put_status(out: &mut BytesMut, s: Status) -> Result<(), EncodeError> {
    put_param_with(out, Tag::STATUS, 4, |o| {
        o.put_u16(s.status_type.0);
        o.put_u16(s.info);
    })
}

pub(crate) fn put_user_cause(out: &mut BytesMut, uc: UserCause) -> Result<(), EncodeError> {
    put_param_with(out, Tag::USER_CAUSE, 4, |o| {
        o.put_u16(uc.cause.0);
        o.put_u16(uc.user.0);
    })
}

pub(crate) fn put_single_apc(
    out: &mut BytesMut,
    apc: AffectedPointCode,
) -> Result<(), EncodeError> {
    put_u32_param(out, Tag::AFFECTED_POINT_CODE, apc.to_u32())
}

pub(crate) fn put_protocol_data(
    out: &mut BytesMut,
    pd: &ProtocolData<'_>,
) -> Result<(), EncodeError> {
    let len = ProtocolData::FIXED_LEN.saturating_add(pd.user_data.len());
    put_param_with(out, Tag::PROTOCOL_DATA, len, |o| {
        o.put_u32(pd.opc);
        o.put_u32(pd.dpc);
        o.put_u8(pd.si);
        o.put_u8(pd.ni);
        o.put_u8(pd.mp);
        o.put_u8(pd.sls);
        o.put_slice(&pd.user_data);
    })
}

pub(crate) fn put_raw(out: &mut BytesMut, raw: &[RawParameter<'_>]) -> Result<(), EncodeError> {
    for p in raw {
        if is_interpreted(p.tag) {
            return Err(EncodeError::ReservedTag(p.tag));
        }
        put_param(out, p.tag, &p.value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_matches_known_order() {
        for (i, t) in KNOWN.iter().enumerate() {
            assert_eq!(slot(*t), Some(i), "{t:?}");
        }
        for t in Tag::ALL.iter().filter(|t| !KNOWN.contains(t)) {
            assert_eq!(slot(*t), None, "{t:?}");
        }
        assert_eq!(slot(Tag(0xffff)), None);
    }

    #[test]
    fn iter_reads_padded_params() {
        // INFO String "abc" (len 7, 1 pad octet) then ASP Identifier 1 — hand-computed.
        let body = [
            0x00, 0x04, 0x00, 0x07, b'a', b'b', b'c', 0x00, 0x00, 0x11, 0x00, 0x08, 0, 0, 0, 1,
        ];
        let v: Vec<_> = ParamIter::new(&body).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            v,
            vec![
                (Tag::INFO_STRING, &b"abc"[..]),
                (Tag::ASP_IDENTIFIER, &[0, 0, 0, 1][..])
            ]
        );
    }

    #[test]
    fn iter_rejects_short_length() {
        let body = [0x00, 0x04, 0x00, 0x02];
        let e = ParamIter::new(&body).next().unwrap().unwrap_err();
        assert!(matches!(e, DecodeError::ParameterField { .. }));
    }

    #[test]
    fn iter_rejects_overrun() {
        let body = [0x00, 0x04, 0x00, 0x09, 1, 2];
        let e = ParamIter::new(&body).next().unwrap().unwrap_err();
        assert!(matches!(e, DecodeError::ParameterField { .. }));
    }

    #[test]
    fn apc_covers() {
        let a = AffectedPointCode {
            mask: 3,
            point_code: 0x100,
        };
        assert!(a.covers(0x107));
        assert!(!a.covers(0x108));
        assert!(AffectedPointCode::exact(42).covers(42));
    }

    #[test]
    fn status_debug() {
        assert_eq!(format!("{:?}", Status::AS_ACTIVE), "AS-ACTIVE");
        assert_eq!(
            format!("{:?}", Status::new(StatusType(9), 9)),
            "Status(StatusType(0x9), 0x9)"
        );
    }
}
