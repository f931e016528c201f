//! M3UA messages, RFC 4666 §3.3 (Transfer), §3.4 (SSNM), §3.5 (ASPSM), §3.7 (ASPTM) and §3.8
//! (MGMT). RKM (§3.6) is not supported and is answered with "Unsupported Message Class".
//!
//! Decoding borrows from the input: byte-valued fields are `Cow::Borrowed`, so decoding a DATA
//! message performs no heap allocation (lists such as Routing Context in the management messages
//! are collected into `Vec`s, bounded by the message length). Parameters may arrive in any order;
//! encoding writes them in the order of the RFC figures, then any unknown parameters.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::error_code::ErrorCode;
use crate::header::{msg_type as mt, CommonHeader, MessageClass, HEADER_LEN, VERSION};
use crate::params::{
    self as p, AffectedPointCode, Collected, CongestionLevel, ProtocolData, RawParameter, Status,
    Tag, TrafficModeType, UserCause,
};

/// ERR (RFC 4666 §3.8.1).
///
/// ```text
/// Error Code               Mandatory
/// Routing Context          Mandatory*  (when the error concerns one)
/// Network Appearance       Mandatory*
/// Affected Point Code      Mandatory*
/// Diagnostic Information   Conditional
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMessage<'a> {
    /// Error Code.
    pub error_code: ErrorCode,
    /// Routing Context values concerned (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// Network Appearance concerned.
    pub network_appearance: Option<u32>,
    /// Affected Point Codes concerned (empty = absent).
    pub affected_point_codes: Vec<AffectedPointCode>,
    /// Diagnostic Information: typically the first 40 octets of the offending message.
    pub diagnostic_information: Option<Cow<'a, [u8]>>,
}

/// NTFY (RFC 4666 §3.8.2).
///
/// ```text
/// Status                   Mandatory
/// ASP Identifier           Conditional
/// Routing Context          Optional
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify<'a> {
    /// Status.
    pub status: Status,
    /// ASP Identifier.
    pub asp_identifier: Option<u32>,
    /// Routing Contexts (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// DATA (RFC 4666 §3.3.1).
///
/// ```text
/// Network Appearance       Optional
/// Routing Context          Conditional   (one value)
/// Protocol Data            Mandatory
/// Correlation Id           Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data<'a> {
    /// Network Appearance.
    pub network_appearance: Option<u32>,
    /// Routing Context (a DATA message carries at most one).
    pub routing_context: Option<u32>,
    /// Protocol Data.
    pub protocol_data: ProtocolData<'a>,
    /// Correlation Id.
    pub correlation_id: Option<u32>,
}

/// DUNA, DAVA, DAUD and DRST (RFC 4666 §3.4.1, §3.4.2, §3.4.3, §3.4.6).
///
/// ```text
/// Network Appearance       Optional
/// Routing Context          Conditional
/// Affected Point Code      Mandatory
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationState<'a> {
    /// Network Appearance.
    pub network_appearance: Option<u32>,
    /// Routing Contexts (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// Affected Point Codes (at least one).
    pub affected_point_codes: Vec<AffectedPointCode>,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// SCON (RFC 4666 §3.4.4).
///
/// ```text
/// Network Appearance       Optional
/// Routing Context          Conditional
/// Affected Point Code      Mandatory
/// Concerned Destination    Optional
/// Congestion Indications   Optional
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scon<'a> {
    /// Network Appearance.
    pub network_appearance: Option<u32>,
    /// Routing Contexts (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// Affected Point Codes (at least one).
    pub affected_point_codes: Vec<AffectedPointCode>,
    /// Concerned Destination (24-bit point code).
    pub concerned_destination: Option<u32>,
    /// Congestion Level from the Congestion Indications parameter.
    pub congestion_level: Option<CongestionLevel>,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// DUPU (RFC 4666 §3.4.5).
///
/// ```text
/// Network Appearance       Optional
/// Routing Context          Conditional
/// Affected Point Code      Mandatory  (one, mask 0)
/// User/Cause               Mandatory
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dupu<'a> {
    /// Network Appearance.
    pub network_appearance: Option<u32>,
    /// Routing Contexts (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// The unavailable user part's point code.
    pub affected_point_code: AffectedPointCode,
    /// User/Cause.
    pub user_cause: UserCause,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// ASP Up and ASP Up Ack (RFC 4666 §3.5.1, §3.5.2).
///
/// ```text
/// ASP Identifier           Optional
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AspUp<'a> {
    /// ASP Identifier.
    pub asp_identifier: Option<u32>,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// ASP Down and ASP Down Ack (RFC 4666 §3.5.3, §3.5.4).
///
/// ```text
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AspDown<'a> {
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// BEAT and BEAT Ack (RFC 4666 §3.5.5, §3.5.6). The Ack echoes the data unchanged.
///
/// ```text
/// Heartbeat Data           Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Beat<'a> {
    /// Heartbeat Data, opaque to the receiver.
    pub heartbeat_data: Option<Cow<'a, [u8]>>,
}

/// ASP Active and ASP Active Ack (RFC 4666 §3.7.1, §3.7.2).
///
/// ```text
/// Traffic Mode Type        Optional
/// Routing Context          Optional
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AspActive<'a> {
    /// Traffic Mode Type.
    pub traffic_mode: Option<TrafficModeType>,
    /// Routing Contexts (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// ASP Inactive and ASP Inactive Ack (RFC 4666 §3.7.3, §3.7.4).
///
/// ```text
/// Routing Context          Optional
/// INFO String              Optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AspInactive<'a> {
    /// Routing Contexts (empty = absent).
    pub routing_contexts: Vec<u32>,
    /// INFO String.
    pub info_string: Option<Cow<'a, [u8]>>,
}

/// The message-specific part of an M3UA message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// MGMT ERR.
    Error(ErrorMessage<'a>),
    /// MGMT NTFY.
    Notify(Notify<'a>),
    /// Transfer DATA.
    Data(Data<'a>),
    /// SSNM DUNA.
    Duna(DestinationState<'a>),
    /// SSNM DAVA.
    Dava(DestinationState<'a>),
    /// SSNM DAUD.
    Daud(DestinationState<'a>),
    /// SSNM SCON.
    Scon(Scon<'a>),
    /// SSNM DUPU.
    Dupu(Dupu<'a>),
    /// SSNM DRST.
    Drst(DestinationState<'a>),
    /// ASPSM ASP Up.
    AspUp(AspUp<'a>),
    /// ASPSM ASP Down.
    AspDown(AspDown<'a>),
    /// ASPSM BEAT.
    Beat(Beat<'a>),
    /// ASPSM ASP Up Ack.
    AspUpAck(AspUp<'a>),
    /// ASPSM ASP Down Ack.
    AspDownAck(AspDown<'a>),
    /// ASPSM BEAT Ack.
    BeatAck(Beat<'a>),
    /// ASPTM ASP Active.
    AspActive(AspActive<'a>),
    /// ASPTM ASP Inactive.
    AspInactive(AspInactive<'a>),
    /// ASPTM ASP Active Ack.
    AspActiveAck(AspActive<'a>),
    /// ASPTM ASP Inactive Ack.
    AspInactiveAck(AspInactive<'a>),
}

impl Body<'_> {
    /// Message class and type octets.
    pub fn class_and_type(&self) -> (MessageClass, u8) {
        use MessageClass as C;
        match self {
            Body::Error(_) => (C::MGMT, mt::ERR),
            Body::Notify(_) => (C::MGMT, mt::NTFY),
            Body::Data(_) => (C::TRANSFER, mt::DATA),
            Body::Duna(_) => (C::SSNM, mt::DUNA),
            Body::Dava(_) => (C::SSNM, mt::DAVA),
            Body::Daud(_) => (C::SSNM, mt::DAUD),
            Body::Scon(_) => (C::SSNM, mt::SCON),
            Body::Dupu(_) => (C::SSNM, mt::DUPU),
            Body::Drst(_) => (C::SSNM, mt::DRST),
            Body::AspUp(_) => (C::ASPSM, mt::ASP_UP),
            Body::AspDown(_) => (C::ASPSM, mt::ASP_DOWN),
            Body::Beat(_) => (C::ASPSM, mt::BEAT),
            Body::AspUpAck(_) => (C::ASPSM, mt::ASP_UP_ACK),
            Body::AspDownAck(_) => (C::ASPSM, mt::ASP_DOWN_ACK),
            Body::BeatAck(_) => (C::ASPSM, mt::BEAT_ACK),
            Body::AspActive(_) => (C::ASPTM, mt::ASP_ACTIVE),
            Body::AspInactive(_) => (C::ASPTM, mt::ASP_INACTIVE),
            Body::AspActiveAck(_) => (C::ASPTM, mt::ASP_ACTIVE_ACK),
            Body::AspInactiveAck(_) => (C::ASPTM, mt::ASP_INACTIVE_ACK),
        }
    }

    /// Short name as used in RFC 4666 (for logs and metrics labels).
    pub fn name(&self) -> &'static str {
        match self {
            Body::Error(_) => "ERR",
            Body::Notify(_) => "NTFY",
            Body::Data(_) => "DATA",
            Body::Duna(_) => "DUNA",
            Body::Dava(_) => "DAVA",
            Body::Daud(_) => "DAUD",
            Body::Scon(_) => "SCON",
            Body::Dupu(_) => "DUPU",
            Body::Drst(_) => "DRST",
            Body::AspUp(_) => "ASP Up",
            Body::AspDown(_) => "ASP Down",
            Body::Beat(_) => "BEAT",
            Body::AspUpAck(_) => "ASP Up Ack",
            Body::AspDownAck(_) => "ASP Down Ack",
            Body::BeatAck(_) => "BEAT Ack",
            Body::AspActive(_) => "ASP Active",
            Body::AspInactive(_) => "ASP Inactive",
            Body::AspActiveAck(_) => "ASP Active Ack",
            Body::AspInactiveAck(_) => "ASP Inactive Ack",
        }
    }
}

/// A complete M3UA message: the body plus any parameters whose tag this codec does not
/// interpret (kept so they round-trip; ignored by the procedures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// The message-specific part.
    pub body: Body<'a>,
    /// Parameters with uninterpreted tags, in arrival order; re-encoded after the known ones.
    pub unknown_parameters: Vec<RawParameter<'a>>,
}

impl<'a> From<Body<'a>> for Message<'a> {
    fn from(body: Body<'a>) -> Self {
        Message {
            body,
            unknown_parameters: Vec::new(),
        }
    }
}

fn own(c: Option<Cow<'_, [u8]>>) -> Option<Cow<'static, [u8]>> {
    c.map(|c| Cow::Owned(c.into_owned()))
}

impl Body<'_> {
    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Body<'static> {
        match self {
            Body::Error(e) => Body::Error(ErrorMessage {
                diagnostic_information: own(e.diagnostic_information),
                error_code: e.error_code,
                routing_contexts: e.routing_contexts,
                network_appearance: e.network_appearance,
                affected_point_codes: e.affected_point_codes,
            }),
            Body::Notify(n) => Body::Notify(Notify {
                info_string: own(n.info_string),
                status: n.status,
                asp_identifier: n.asp_identifier,
                routing_contexts: n.routing_contexts,
            }),
            Body::Data(d) => Body::Data(Data {
                protocol_data: d.protocol_data.into_owned(),
                network_appearance: d.network_appearance,
                routing_context: d.routing_context,
                correlation_id: d.correlation_id,
            }),
            Body::Duna(d) => Body::Duna(d.into_owned()),
            Body::Dava(d) => Body::Dava(d.into_owned()),
            Body::Daud(d) => Body::Daud(d.into_owned()),
            Body::Drst(d) => Body::Drst(d.into_owned()),
            Body::Scon(s) => Body::Scon(Scon {
                info_string: own(s.info_string),
                network_appearance: s.network_appearance,
                routing_contexts: s.routing_contexts,
                affected_point_codes: s.affected_point_codes,
                concerned_destination: s.concerned_destination,
                congestion_level: s.congestion_level,
            }),
            Body::Dupu(d) => Body::Dupu(Dupu {
                info_string: own(d.info_string),
                network_appearance: d.network_appearance,
                routing_contexts: d.routing_contexts,
                affected_point_code: d.affected_point_code,
                user_cause: d.user_cause,
            }),
            Body::AspUp(u) => Body::AspUp(u.into_owned()),
            Body::AspUpAck(u) => Body::AspUpAck(u.into_owned()),
            Body::AspDown(d) => Body::AspDown(AspDown {
                info_string: own(d.info_string),
            }),
            Body::AspDownAck(d) => Body::AspDownAck(AspDown {
                info_string: own(d.info_string),
            }),
            Body::Beat(b) => Body::Beat(Beat {
                heartbeat_data: own(b.heartbeat_data),
            }),
            Body::BeatAck(b) => Body::BeatAck(Beat {
                heartbeat_data: own(b.heartbeat_data),
            }),
            Body::AspActive(a) => Body::AspActive(a.into_owned()),
            Body::AspActiveAck(a) => Body::AspActiveAck(a.into_owned()),
            Body::AspInactive(a) => Body::AspInactive(AspInactive {
                info_string: own(a.info_string),
                routing_contexts: a.routing_contexts,
            }),
            Body::AspInactiveAck(a) => Body::AspInactiveAck(AspInactive {
                info_string: own(a.info_string),
                routing_contexts: a.routing_contexts,
            }),
        }
    }
}

impl DestinationState<'_> {
    fn into_owned(self) -> DestinationState<'static> {
        DestinationState {
            info_string: own(self.info_string),
            network_appearance: self.network_appearance,
            routing_contexts: self.routing_contexts,
            affected_point_codes: self.affected_point_codes,
        }
    }
}

impl AspUp<'_> {
    fn into_owned(self) -> AspUp<'static> {
        AspUp {
            info_string: own(self.info_string),
            asp_identifier: self.asp_identifier,
        }
    }
}

impl AspActive<'_> {
    fn into_owned(self) -> AspActive<'static> {
        AspActive {
            info_string: own(self.info_string),
            traffic_mode: self.traffic_mode,
            routing_contexts: self.routing_contexts,
        }
    }
}

/// Maps (class, type) to the message name, or the error owed for an unknown one.
fn message_name(h: &CommonHeader) -> Result<&'static str, DecodeError> {
    use MessageClass as C;
    let name = match (h.class, h.msg_type) {
        (C::MGMT, mt::ERR) => "ERR",
        (C::MGMT, mt::NTFY) => "NTFY",
        (C::TRANSFER, mt::DATA) => "DATA",
        (C::SSNM, mt::DUNA) => "DUNA",
        (C::SSNM, mt::DAVA) => "DAVA",
        (C::SSNM, mt::DAUD) => "DAUD",
        (C::SSNM, mt::SCON) => "SCON",
        (C::SSNM, mt::DUPU) => "DUPU",
        (C::SSNM, mt::DRST) => "DRST",
        (C::ASPSM, mt::ASP_UP) => "ASP Up",
        (C::ASPSM, mt::ASP_DOWN) => "ASP Down",
        (C::ASPSM, mt::BEAT) => "BEAT",
        (C::ASPSM, mt::ASP_UP_ACK) => "ASP Up Ack",
        (C::ASPSM, mt::ASP_DOWN_ACK) => "ASP Down Ack",
        (C::ASPSM, mt::BEAT_ACK) => "BEAT Ack",
        (C::ASPTM, mt::ASP_ACTIVE) => "ASP Active",
        (C::ASPTM, mt::ASP_INACTIVE) => "ASP Inactive",
        (C::ASPTM, mt::ASP_ACTIVE_ACK) => "ASP Active Ack",
        (C::ASPTM, mt::ASP_INACTIVE_ACK) => "ASP Inactive Ack",
        (C::MGMT | C::TRANSFER | C::SSNM | C::ASPSM | C::ASPTM, t) => {
            return Err(DecodeError::UnsupportedType {
                class: h.class,
                msg_type: t,
            })
        }
        (c, _) => return Err(DecodeError::UnsupportedClass(c)),
    };
    Ok(name)
}

impl<'a> Message<'a> {
    /// Decodes exactly one message; octets after the length the header announces are an error
    /// ([`DecodeError::TrailingBytes`]).
    pub fn decode(input: &'a [u8]) -> Result<Message<'a>, DecodeError> {
        let (msg, rest) = Self::decode_prefix(input)?;
        if rest.is_empty() {
            Ok(msg)
        } else {
            Err(DecodeError::TrailingBytes(rest.len()))
        }
    }

    /// Decodes the message at the start of `input`, returning it and the octets after it.
    pub fn decode_prefix(input: &'a [u8]) -> Result<(Message<'a>, &'a [u8]), DecodeError> {
        let (h, _) = CommonHeader::parse(input)?;
        if h.version != VERSION {
            return Err(DecodeError::InvalidVersion(h.version));
        }
        let len = usize::try_from(h.length).map_err(|_| DecodeError::InvalidLength(h.length))?;
        if len < HEADER_LEN {
            return Err(DecodeError::InvalidLength(h.length));
        }
        let (msg_bytes, rest) = match (input.get(..len), input.get(len..)) {
            (Some(m), Some(r)) => (m, r),
            _ => {
                return Err(DecodeError::Incomplete {
                    needed: len,
                    available: input.len(),
                })
            }
        };
        let name = message_name(&h)?;
        let body_bytes = msg_bytes.get(HEADER_LEN..).unwrap_or(&[]);
        let mut c = Collected::new(name);
        c.gather(body_bytes)?;
        let body = decode_body(&h, &mut c)?;
        let unknown_parameters = c.finish()?;
        Ok((
            Message {
                body,
                unknown_parameters,
            },
            rest,
        ))
    }

    /// Appends the encoded message to `out`, returning the number of octets written. On error
    /// `out` is left as it was.
    pub fn encode(&self, out: &mut BytesMut) -> Result<usize, EncodeError> {
        let start = out.len();
        let res = self.encode_inner(out, start);
        if res.is_err() {
            out.truncate(start);
        }
        res
    }

    fn encode_inner(&self, out: &mut BytesMut, start: usize) -> Result<usize, EncodeError> {
        let (class, ty) = self.body.class_and_type();
        out.reserve(HEADER_LEN + 32);
        out.put_u8(VERSION);
        out.put_u8(0);
        out.put_u8(class.0);
        out.put_u8(ty);
        out.put_u32(0); // patched below
        encode_body(&self.body, out)?;
        p::put_raw(out, &self.unknown_parameters)?;
        let total = out.len() - start;
        let len = u32::try_from(total).map_err(|_| EncodeError::MessageTooLong)?;
        out[start + 4..start + 8].copy_from_slice(&len.to_be_bytes());
        Ok(total)
    }

    /// A copy that borrows nothing, for keeping a message beyond its receive buffer.
    pub fn into_owned(self) -> Message<'static> {
        Message {
            body: self.body.into_owned(),
            unknown_parameters: self
                .unknown_parameters
                .into_iter()
                .map(|p| RawParameter {
                    tag: p.tag,
                    value: Cow::Owned(p.value.into_owned()),
                })
                .collect(),
        }
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Result<BytesMut, EncodeError> {
        let mut b = BytesMut::new();
        self.encode(&mut b)?;
        Ok(b)
    }
}

fn decode_body<'a>(h: &CommonHeader, c: &mut Collected<'a>) -> Result<Body<'a>, DecodeError> {
    use MessageClass as C;
    Ok(match (h.class, h.msg_type) {
        (C::MGMT, mt::ERR) => Body::Error(ErrorMessage {
            error_code: ErrorCode(c.u32_req(Tag::ERROR_CODE)?),
            routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
            network_appearance: c.u32_opt(Tag::NETWORK_APPEARANCE)?,
            affected_point_codes: c.affected_point_codes()?,
            diagnostic_information: c.bytes_opt(Tag::DIAGNOSTIC_INFORMATION),
        }),
        (C::MGMT, mt::NTFY) => Body::Notify(Notify {
            status: c.status()?,
            asp_identifier: c.u32_opt(Tag::ASP_IDENTIFIER)?,
            routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
            info_string: c.info_string()?,
        }),
        (C::TRANSFER, mt::DATA) => Body::Data(Data {
            network_appearance: c.u32_opt(Tag::NETWORK_APPEARANCE)?,
            routing_context: c.u32_opt(Tag::ROUTING_CONTEXT)?,
            protocol_data: c.protocol_data()?,
            correlation_id: c.u32_opt(Tag::CORRELATION_ID)?,
        }),
        (C::SSNM, t @ (mt::DUNA | mt::DAVA | mt::DAUD | mt::DRST)) => {
            let d = DestinationState {
                network_appearance: c.u32_opt(Tag::NETWORK_APPEARANCE)?,
                routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
                affected_point_codes: c.affected_point_codes_req()?,
                info_string: c.info_string()?,
            };
            match t {
                mt::DUNA => Body::Duna(d),
                mt::DAVA => Body::Dava(d),
                mt::DAUD => Body::Daud(d),
                _ => Body::Drst(d),
            }
        }
        (C::SSNM, mt::SCON) => Body::Scon(Scon {
            network_appearance: c.u32_opt(Tag::NETWORK_APPEARANCE)?,
            routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
            affected_point_codes: c.affected_point_codes_req()?,
            concerned_destination: c.concerned_destination()?,
            congestion_level: c.congestion_level()?,
            info_string: c.info_string()?,
        }),
        (C::SSNM, mt::DUPU) => Body::Dupu(Dupu {
            network_appearance: c.u32_opt(Tag::NETWORK_APPEARANCE)?,
            routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
            affected_point_code: c.single_affected_point_code()?,
            user_cause: c.user_cause()?,
            info_string: c.info_string()?,
        }),
        (C::ASPSM, t @ (mt::ASP_UP | mt::ASP_UP_ACK)) => {
            let u = AspUp {
                asp_identifier: c.u32_opt(Tag::ASP_IDENTIFIER)?,
                info_string: c.info_string()?,
            };
            if t == mt::ASP_UP {
                Body::AspUp(u)
            } else {
                Body::AspUpAck(u)
            }
        }
        (C::ASPSM, t @ (mt::ASP_DOWN | mt::ASP_DOWN_ACK)) => {
            let d = AspDown {
                info_string: c.info_string()?,
            };
            if t == mt::ASP_DOWN {
                Body::AspDown(d)
            } else {
                Body::AspDownAck(d)
            }
        }
        (C::ASPSM, t @ (mt::BEAT | mt::BEAT_ACK)) => {
            let b = Beat {
                heartbeat_data: c.bytes_opt(Tag::HEARTBEAT_DATA),
            };
            if t == mt::BEAT {
                Body::Beat(b)
            } else {
                Body::BeatAck(b)
            }
        }
        (C::ASPTM, t @ (mt::ASP_ACTIVE | mt::ASP_ACTIVE_ACK)) => {
            let a = AspActive {
                traffic_mode: c.u32_opt(Tag::TRAFFIC_MODE_TYPE)?.map(TrafficModeType),
                routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
                info_string: c.info_string()?,
            };
            if t == mt::ASP_ACTIVE {
                Body::AspActive(a)
            } else {
                Body::AspActiveAck(a)
            }
        }
        (C::ASPTM, t @ (mt::ASP_INACTIVE | mt::ASP_INACTIVE_ACK)) => {
            let a = AspInactive {
                routing_contexts: c.u32_list(Tag::ROUTING_CONTEXT)?,
                info_string: c.info_string()?,
            };
            if t == mt::ASP_INACTIVE {
                Body::AspInactive(a)
            } else {
                Body::AspInactiveAck(a)
            }
        }
        // `message_name` has already refused every other pair.
        (class, msg_type) => return Err(DecodeError::UnsupportedType { class, msg_type }),
    })
}

fn rc_list(out: &mut BytesMut, rcs: &[u32]) -> Result<(), EncodeError> {
    p::put_u32_list(out, Tag::ROUTING_CONTEXT, rcs.iter().copied())
}

fn encode_body(body: &Body<'_>, out: &mut BytesMut) -> Result<(), EncodeError> {
    match body {
        Body::Error(e) => {
            p::put_u32_param(out, Tag::ERROR_CODE, e.error_code.0)?;
            rc_list(out, &e.routing_contexts)?;
            p::put_opt_u32(out, Tag::NETWORK_APPEARANCE, e.network_appearance)?;
            p::put_apcs(out, &e.affected_point_codes)?;
            p::put_opt_bytes(out, Tag::DIAGNOSTIC_INFORMATION, &e.diagnostic_information)
        }
        Body::Notify(n) => {
            p::put_status(out, n.status)?;
            p::put_opt_u32(out, Tag::ASP_IDENTIFIER, n.asp_identifier)?;
            rc_list(out, &n.routing_contexts)?;
            p::put_info(out, &n.info_string)
        }
        Body::Data(d) => {
            p::put_opt_u32(out, Tag::NETWORK_APPEARANCE, d.network_appearance)?;
            p::put_opt_u32(out, Tag::ROUTING_CONTEXT, d.routing_context)?;
            p::put_protocol_data(out, &d.protocol_data)?;
            p::put_opt_u32(out, Tag::CORRELATION_ID, d.correlation_id)
        }
        Body::Duna(d) | Body::Dava(d) | Body::Daud(d) | Body::Drst(d) => {
            p::put_opt_u32(out, Tag::NETWORK_APPEARANCE, d.network_appearance)?;
            rc_list(out, &d.routing_contexts)?;
            if d.affected_point_codes.is_empty() {
                return Err(EncodeError::EmptyMandatory(Tag::AFFECTED_POINT_CODE));
            }
            p::put_apcs(out, &d.affected_point_codes)?;
            p::put_info(out, &d.info_string)
        }
        Body::Scon(s) => {
            p::put_opt_u32(out, Tag::NETWORK_APPEARANCE, s.network_appearance)?;
            rc_list(out, &s.routing_contexts)?;
            if s.affected_point_codes.is_empty() {
                return Err(EncodeError::EmptyMandatory(Tag::AFFECTED_POINT_CODE));
            }
            p::put_apcs(out, &s.affected_point_codes)?;
            p::put_opt_u32(
                out,
                Tag::CONCERNED_DESTINATION,
                s.concerned_destination.map(|pc| pc & 0x00ff_ffff),
            )?;
            p::put_opt_u32(
                out,
                Tag::CONGESTION_INDICATIONS,
                s.congestion_level.map(|l| u32::from(l.0)),
            )?;
            p::put_info(out, &s.info_string)
        }
        Body::Dupu(d) => {
            p::put_opt_u32(out, Tag::NETWORK_APPEARANCE, d.network_appearance)?;
            rc_list(out, &d.routing_contexts)?;
            p::put_single_apc(out, d.affected_point_code)?;
            p::put_user_cause(out, d.user_cause)?;
            p::put_info(out, &d.info_string)
        }
        Body::AspUp(u) | Body::AspUpAck(u) => {
            p::put_opt_u32(out, Tag::ASP_IDENTIFIER, u.asp_identifier)?;
            p::put_info(out, &u.info_string)
        }
        Body::AspDown(d) | Body::AspDownAck(d) => p::put_info(out, &d.info_string),
        Body::Beat(b) | Body::BeatAck(b) => {
            p::put_opt_bytes(out, Tag::HEARTBEAT_DATA, &b.heartbeat_data)
        }
        Body::AspActive(a) | Body::AspActiveAck(a) => {
            p::put_opt_u32(out, Tag::TRAFFIC_MODE_TYPE, a.traffic_mode.map(|t| t.0))?;
            rc_list(out, &a.routing_contexts)?;
            p::put_info(out, &a.info_string)
        }
        Body::AspInactive(a) | Body::AspInactiveAck(a) => {
            rc_list(out, &a.routing_contexts)?;
            p::put_info(out, &a.info_string)
        }
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
