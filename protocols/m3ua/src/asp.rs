//! The sans-IO ASP / SGP / IPSP state machine, RFC 4666 §4.3 (AS and ASP state maintenance)
//! with §4.3.4.1 (ASP Up), §4.3.4.2 (ASP Down), §4.3.4.3 (ASP Active), §4.3.4.4 (ASP Inactive),
//! §4.3.4.6 (Heartbeat), §4.4 (Routing Key / Routing Context), §4.5.3 (DAUD) and §4.7 (timers).
//!
//! quinn-proto style: no sockets and no clocks. The caller feeds received messages with
//! [`Association::handle_frame`] (zero-copy from a `Bytes` frame) or
//! [`Association::handle_message`], passes the current `Instant`, and drains
//! [`Association::poll_transmit`], [`Association::poll_event`] and
//! [`Association::poll_timeout`] (then [`Association::handle_timeout`] when that time comes).
//!
//! ```text
//!          ASP Up / Ack            ASP Active / Ack
//!  ASP-DOWN ─────────────► ASP-INACTIVE ─────────────► ASP-ACTIVE
//!     ▲  ◄──────────────────────┘  ◄──────────────────────┘
//!     │     ASP Down / Ack              ASP Inactive / Ack
//!     └─────────────────────────────────────────────────────┘ ASP Down / Ack
//! ```
//!
//! One `Association` models one SCTP association or TCP connection carrying exactly one ASP.
//! Simplifications, by choice: the SGP keeps no T(r) recovery timer (with a single ASP per AS
//! the AS goes straight to AS-INACTIVE, and NTFY says so); IPSP is the single-exchange model
//! (the IPSP answers like an SGP and may also initiate like an ASP); RKM is not supported.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::error_code::ErrorCode;
use crate::header::{CommonHeader, MessageClass};
use crate::message::{
    AspActive, AspDown, AspInactive, AspUp, Beat, Body, Data, DestinationState, ErrorMessage,
    Message, Notify,
};
use crate::params::{
    AffectedPointCode, CongestionLevel, ProtocolData, Status, TrafficModeType, UserCause,
};

/// Octets of the offending message echoed in ERR Diagnostic Information (RFC 4666 §3.8.1).
pub const DIAGNOSTIC_LEN: usize = 40;

/// Which end of the M3UA relation this association plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Application Server Process: initiates ASP Up / ASP Active (our call generator, or the SCP
    /// when it attaches to an SG).
    Asp,
    /// Signalling Gateway Process: answers ASP Up / ASP Active, sends NTFY, answers DAUD.
    Sg,
    /// IP Server Process (single exchange): answers like an SGP and may initiate like an ASP.
    Ipsp,
}

impl Role {
    fn serves(self) -> bool {
        matches!(self, Role::Sg | Role::Ipsp)
    }

    fn initiates(self) -> bool {
        matches!(self, Role::Asp | Role::Ipsp)
    }
}

/// ASP state as seen by this end (RFC 4666 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AspState {
    /// ASP-DOWN.
    Down,
    /// ASP-INACTIVE.
    Inactive,
    /// ASP-ACTIVE.
    Active,
}

/// Configuration of one association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// ASP: Routing Contexts requested in ASP Active / ASP Inactive (empty = omit the
    /// parameter). SGP/IPSP: the configured Application Servers; ASP Active naming any other
    /// value is answered with ERR "Invalid Routing Context".
    pub routing_contexts: Vec<u32>,
    /// SGP/IPSP: whether an ASP Active without Routing Context activates a default AS when no
    /// Routing Context is configured (otherwise ERR "No Configured AS for ASP").
    pub default_as: bool,
    /// ASP: Traffic Mode Type put in ASP Active (`None` = omit).
    pub traffic_mode: Option<TrafficModeType>,
    /// SGP/IPSP: traffic modes accepted in ASP Active (else ERR "Unsupported Traffic Mode Type").
    pub accepted_traffic_modes: Vec<TrafficModeType>,
    /// Network Appearance: put in DATA we send; when set, a received DATA or SSNM message with a
    /// different one is answered with ERR "Invalid Network Appearance".
    pub network_appearance: Option<u32>,
    /// ASP: ASP Identifier sent in ASP Up.
    pub asp_identifier: Option<u32>,
    /// SGP/IPSP: refuse ASP Up without ASP Identifier (ERR "ASP Identifier Required").
    pub require_asp_identifier: bool,
    /// SGP/IPSP: accepted ASP Identifiers (empty = any; else ERR "Invalid ASP Identifier").
    pub accepted_asp_identifiers: Vec<u32>,
    /// SGP/IPSP: destinations reported available in answer to DAUD; others audited get ERR
    /// "Destination Status Unknown".
    pub available_destinations: Vec<AffectedPointCode>,
    /// SGP/IPSP: send NTFY on AS state changes (RFC 4666 §4.3.4.5).
    pub send_notify: bool,
    /// ASP/IPSP: send ASP Active as soon as ASP Up Ack arrives.
    pub auto_activate: bool,
    /// T(ack): time to wait for an acknowledgement before retransmitting (RFC 4666 §4.3.4.1
    /// suggests 2 s).
    pub ack_timeout: Duration,
    /// Retransmissions of an unacknowledged request before [`Event::AckTimeout`].
    pub max_retransmissions: u32,
    /// Send BEAT this often while the ASP is up (`None` = no heartbeat).
    pub heartbeat_interval: Option<Duration>,
    /// Raise [`Event::HeartbeatTimeout`] when a BEAT is not acknowledged within this time.
    pub heartbeat_timeout: Duration,
    /// Outbound SCTP streams available. DATA goes on streams 1..n by SLS; everything else on
    /// stream 0. 1 (TCP) puts all traffic on stream 0.
    pub outbound_streams: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            routing_contexts: Vec::new(),
            default_as: true,
            traffic_mode: None,
            accepted_traffic_modes: vec![TrafficModeType::OVERRIDE, TrafficModeType::LOADSHARE],
            network_appearance: None,
            asp_identifier: None,
            require_asp_identifier: false,
            accepted_asp_identifiers: Vec::new(),
            available_destinations: Vec::new(),
            send_notify: true,
            auto_activate: true,
            ack_timeout: Duration::from_secs(2),
            max_retransmissions: 3,
            heartbeat_interval: None,
            heartbeat_timeout: Duration::from_secs(10),
            outbound_streams: 1,
        }
    }
}

/// One message to send, already encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// SCTP stream to use (ignore over TCP).
    pub stream: u16,
    /// The encoded M3UA message.
    pub payload: Bytes,
}

/// A received DATA message, with the user data sharing the received frame's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataIndication {
    /// Routing Context, when the peer sent one.
    pub routing_context: Option<u32>,
    /// Network Appearance, when the peer sent one.
    pub network_appearance: Option<u32>,
    /// Correlation Id, when the peer sent one.
    pub correlation_id: Option<u32>,
    /// Originating Point Code.
    pub opc: u32,
    /// Destination Point Code.
    pub dpc: u32,
    /// Service Indicator.
    pub si: u8,
    /// Network Indicator.
    pub ni: u8,
    /// Message Priority.
    pub mp: u8,
    /// Signalling Link Selection.
    pub sls: u8,
    /// The MTP3-User message (SCCP).
    pub user_data: Bytes,
}

impl DataIndication {
    /// The DATA message answering this one with `user_data`: the point codes swapped, the
    /// same routing context, network appearance, SI, NI, priority and SLS.
    pub fn reply<'a>(&self, user_data: &'a [u8]) -> Message<'a> {
        Message::from(Body::Data(Data {
            network_appearance: self.network_appearance,
            routing_context: self.routing_context,
            protocol_data: ProtocolData {
                opc: self.dpc,
                dpc: self.opc,
                si: self.si,
                ni: self.ni,
                mp: self.mp,
                sls: self.sls,
                user_data: Cow::Borrowed(user_data),
            },
            correlation_id: None,
        }))
    }
}

/// Destinations named in DUNA, DAVA or DRST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destinations {
    /// Network Appearance.
    pub network_appearance: Option<u32>,
    /// Routing Contexts.
    pub routing_contexts: Vec<u32>,
    /// The destinations.
    pub affected_point_codes: Vec<AffectedPointCode>,
}

/// A request this end sent and that awaits its acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    /// ASP Up.
    AspUp,
    /// ASP Active.
    AspActive,
    /// ASP Inactive.
    AspInactive,
    /// ASP Down.
    AspDown,
}

/// Why this end told the peer it misbehaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The message could not be decoded.
    Decode(DecodeError),
    /// The message was well-formed but not acceptable here; the text says why.
    Procedure(&'static str),
}

/// What the state machine reports to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The ASP is up (ASP-INACTIVE): ASP Up acknowledged (ASP) or accepted (SGP/IPSP).
    AspUp {
        /// ASP Identifier from the ASP Up (SGP) or the ASP Up Ack (ASP).
        asp_identifier: Option<u32>,
    },
    /// The ASP became active for these Routing Contexts (empty = the default AS).
    AspActive {
        /// Routing Contexts activated.
        routing_contexts: Vec<u32>,
        /// Traffic Mode Type agreed, when one was named.
        traffic_mode: Option<TrafficModeType>,
    },
    /// The ASP left the active state for these Routing Contexts (empty = all).
    AspInactive {
        /// Routing Contexts deactivated.
        routing_contexts: Vec<u32>,
    },
    /// The ASP is down (ASP-DOWN).
    AspDown,
    /// A DATA message arrived while active.
    Data(DataIndication),
    /// NTFY received.
    Notify {
        /// Status.
        status: Status,
        /// ASP Identifier.
        asp_identifier: Option<u32>,
        /// Routing Contexts.
        routing_contexts: Vec<u32>,
    },
    /// ERR received from the peer.
    ErrorReceived {
        /// Error Code.
        code: ErrorCode,
        /// Routing Contexts.
        routing_contexts: Vec<u32>,
        /// Network Appearance.
        network_appearance: Option<u32>,
        /// Affected Point Codes.
        affected_point_codes: Vec<AffectedPointCode>,
        /// Diagnostic Information.
        diagnostic: Option<Bytes>,
    },
    /// DUNA received.
    DestinationUnavailable(Destinations),
    /// DAVA received.
    DestinationAvailable(Destinations),
    /// DRST received.
    DestinationRestricted(Destinations),
    /// SCON received.
    Congestion {
        /// Routing Contexts.
        routing_contexts: Vec<u32>,
        /// The congested destinations.
        affected_point_codes: Vec<AffectedPointCode>,
        /// Concerned Destination.
        concerned_destination: Option<u32>,
        /// Congestion Level.
        level: Option<CongestionLevel>,
    },
    /// DUPU received.
    UserPartUnavailable {
        /// Routing Contexts.
        routing_contexts: Vec<u32>,
        /// The destination whose user part is unavailable.
        affected_point_code: AffectedPointCode,
        /// User/Cause.
        user_cause: UserCause,
    },
    /// The peer misbehaved; `answered` tells whether an ERR with `code` was sent (an ERR is
    /// never answered with an ERR).
    PeerViolation {
        /// The ERR code owed.
        code: ErrorCode,
        /// What was wrong.
        cause: Violation,
        /// Whether ERR was queued.
        answered: bool,
    },
    /// A request was retransmitted `max_retransmissions` times without acknowledgement.
    AckTimeout {
        /// The request given up on.
        request: Request,
    },
    /// A BEAT was not acknowledged within `heartbeat_timeout`.
    HeartbeatTimeout,
    /// A message this end built could not be encoded (a local bug or an oversized input).
    EncodeFailed(EncodeError),
}

/// A local request that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssociationError {
    /// The role does not perform this procedure (e.g. an SGP sending ASP Up).
    #[error("not allowed in role {0:?}")]
    WrongRole(Role),
    /// The procedure is not allowed in the current ASP state.
    #[error("not allowed in state {0:?}")]
    WrongState(AspState),
    /// DATA can only be sent while ASP-ACTIVE.
    #[error("the ASP is not active")]
    NotActive,
    /// DATA names a Routing Context the ASP is not active for.
    #[error("routing context {0} is not active")]
    RoutingContextNotActive(u32),
    /// The message could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

#[derive(Debug, Clone)]
struct Pending {
    request: Request,
    payload: Bytes,
    deadline: Option<Instant>,
    retransmissions: u32,
}

/// One M3UA association (one ASP), sans-IO.
#[derive(Debug)]
pub struct Association {
    role: Role,
    config: Config,
    state: AspState,
    active_rcs: Vec<u32>,
    management_blocked: bool,
    pending: Option<Pending>,
    beat_next: Option<Instant>,
    beat_deadline: Option<Instant>,
    beat_outstanding: Option<u64>,
    beat_seq: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    scratch: BytesMut,
}

impl Association {
    /// A new association in ASP-DOWN. An ASP starts the handshake with [`Association::start`].
    pub fn new(role: Role, config: Config) -> Self {
        Association {
            role,
            config,
            state: AspState::Down,
            active_rcs: Vec::new(),
            management_blocked: false,
            pending: None,
            beat_next: None,
            beat_deadline: None,
            beat_outstanding: None,
            beat_seq: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            scratch: BytesMut::new(),
        }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Current ASP state.
    pub fn state(&self) -> AspState {
        self.state
    }

    /// Whether DATA may flow.
    pub fn is_active(&self) -> bool {
        self.state == AspState::Active
    }

    /// Routing Contexts the ASP is active for (empty while active = the default AS).
    pub fn active_routing_contexts(&self) -> &[u32] {
        &self.active_rcs
    }

    /// The request awaiting acknowledgement, if any.
    pub fn pending_request(&self) -> Option<Request> {
        self.pending.as_ref().map(|p| p.request)
    }

    /// SGP/IPSP: refuse ASP Up and ASP Active with ERR "Refused - Management Blocking".
    pub fn set_management_blocked(&mut self, blocked: bool) {
        self.management_blocked = blocked;
    }

    // ---- output --------------------------------------------------------------------------

    /// Next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next event for the user.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Association::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.pending.as_ref().and_then(|p| p.deadline),
            self.beat_deadline,
            self.beat_next,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- local requests (ASP / IPSP) ----------------------------------------------------

    /// ASP/IPSP: send ASP Up (RFC 4666 §4.3.4.1). With `auto_activate`, ASP Active follows the
    /// Ack by itself.
    pub fn start(&mut self, now: Instant) -> Result<(), AssociationError> {
        if !self.role.initiates() {
            return Err(AssociationError::WrongRole(self.role));
        }
        if self.state != AspState::Down {
            return Err(AssociationError::WrongState(self.state));
        }
        let body = Body::AspUp(AspUp {
            asp_identifier: self.config.asp_identifier,
            info_string: None,
        });
        self.send_request(now, Request::AspUp, body)
    }

    /// ASP/IPSP: send ASP Active with the configured Routing Contexts and Traffic Mode Type
    /// (RFC 4666 §4.3.4.3).
    pub fn activate(&mut self, now: Instant) -> Result<(), AssociationError> {
        if !self.role.initiates() {
            return Err(AssociationError::WrongRole(self.role));
        }
        if self.state == AspState::Down {
            return Err(AssociationError::WrongState(self.state));
        }
        let body = Body::AspActive(AspActive {
            traffic_mode: self.config.traffic_mode,
            routing_contexts: self.config.routing_contexts.clone(),
            info_string: None,
        });
        self.send_request(now, Request::AspActive, body)
    }

    /// ASP/IPSP: send ASP Inactive for the configured Routing Contexts (RFC 4666 §4.3.4.4).
    pub fn deactivate(&mut self, now: Instant) -> Result<(), AssociationError> {
        if !self.role.initiates() {
            return Err(AssociationError::WrongRole(self.role));
        }
        if self.state != AspState::Active {
            return Err(AssociationError::WrongState(self.state));
        }
        let body = Body::AspInactive(AspInactive {
            routing_contexts: self.config.routing_contexts.clone(),
            info_string: None,
        });
        self.send_request(now, Request::AspInactive, body)
    }

    /// ASP/IPSP: send ASP Down (RFC 4666 §4.3.4.2). Allowed in any state, so a half-finished
    /// ASP Up can be taken back.
    pub fn stop(&mut self, now: Instant) -> Result<(), AssociationError> {
        if !self.role.initiates() {
            return Err(AssociationError::WrongRole(self.role));
        }
        let body = Body::AspDown(AspDown { info_string: None });
        self.send_request(now, Request::AspDown, body)
    }

    /// Queue DATA (RFC 4666 §4.1.1). `routing_context` defaults to the single active Routing
    /// Context when there is exactly one; the configured Network Appearance is added.
    pub fn send_data(
        &mut self,
        routing_context: Option<u32>,
        protocol_data: &ProtocolData<'_>,
    ) -> Result<(), AssociationError> {
        if self.state != AspState::Active {
            return Err(AssociationError::NotActive);
        }
        let routing_context = match routing_context {
            Some(rc) if !self.active_rcs.is_empty() && !self.active_rcs.contains(&rc) => {
                return Err(AssociationError::RoutingContextNotActive(rc))
            }
            Some(rc) => Some(rc),
            None if self.active_rcs.len() == 1 => self.active_rcs.first().copied(),
            None => None,
        };
        let data = Data {
            network_appearance: self.config.network_appearance,
            routing_context,
            protocol_data: ProtocolData {
                user_data: Cow::Borrowed(&protocol_data.user_data),
                ..*protocol_data
            },
            correlation_id: None,
        };
        let stream = self.data_stream(protocol_data.sls);
        self.encode_and_queue(stream, &Message::from(Body::Data(data)))?;
        Ok(())
    }

    /// Queue any other message as is (DUNA, DAVA, NTFY, …), on stream 0, without changing
    /// state.
    pub fn queue_message(&mut self, message: &Message<'_>) -> Result<(), AssociationError> {
        self.encode_and_queue(0, message)?;
        Ok(())
    }

    // ---- input ---------------------------------------------------------------------------

    /// A complete received message (one SCTP user message, or one frame cut by
    /// [`crate::Framer`]) on stream 0. DATA user data is handed on as a slice of `frame`
    /// without copying.
    pub fn handle_frame(&mut self, now: Instant, frame: Bytes) {
        self.handle_frame_on_stream(now, 0, frame)
    }

    /// As [`Association::handle_frame`], for a message received on SCTP stream `stream`.
    /// ASPSM messages on a non-zero stream get ERR "Invalid Stream Identifier".
    pub fn handle_frame_on_stream(&mut self, now: Instant, stream: u16, frame: Bytes) {
        match Message::decode(&frame) {
            Ok(msg) => {
                if stream != 0 && msg.body.class_and_type().0 == MessageClass::ASPSM {
                    self.reply_error(
                        ErrorMessage {
                            error_code: ErrorCode::INVALID_STREAM_IDENTIFIER,
                            ..diag_err(&frame)
                        },
                        Violation::Procedure("ASPSM message on a non-zero stream"),
                    );
                    return;
                }
                self.process(now, &msg, Some(&frame));
            }
            Err(e) => {
                let code = e.error_code();
                let is_err = CommonHeader::parse(&frame)
                    .map(|(h, _)| h.is_err())
                    .unwrap_or(false);
                if is_err {
                    self.events.push_back(Event::PeerViolation {
                        code,
                        cause: Violation::Decode(e),
                        answered: false,
                    });
                } else {
                    self.reply_error(
                        ErrorMessage {
                            error_code: code,
                            ..diag_err(&frame)
                        },
                        Violation::Decode(e),
                    );
                }
            }
        }
    }

    /// An already decoded message. DATA user data is copied into the event; prefer
    /// [`Association::handle_frame`] on the hot path.
    pub fn handle_message(&mut self, now: Instant, message: &Message<'_>) {
        self.process(now, message, None)
    }

    /// Runs expired timers: retransmits unacknowledged requests, sends BEAT, and raises
    /// [`Event::AckTimeout`] / [`Event::HeartbeatTimeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let ack_timeout = self.config.ack_timeout;
        let max = self.config.max_retransmissions;
        if let Some(p) = self.pending.as_mut() {
            if p.deadline.is_some_and(|d| d <= now) {
                if p.retransmissions < max {
                    p.retransmissions += 1;
                    p.deadline = now.checked_add(ack_timeout);
                    let payload = p.payload.clone();
                    self.transmits.push_back(Transmit { stream: 0, payload });
                } else {
                    let request = p.request;
                    self.pending = None;
                    self.events.push_back(Event::AckTimeout { request });
                }
            }
        }
        if self.beat_deadline.is_some_and(|d| d <= now) {
            self.beat_deadline = None;
            self.beat_outstanding = None;
            self.events.push_back(Event::HeartbeatTimeout);
        }
        if self.beat_next.is_some_and(|d| d <= now) {
            self.send_beat(now);
        }
    }

    // ---- procedures ----------------------------------------------------------------------

    fn process(&mut self, now: Instant, msg: &Message<'_>, raw: Option<&Bytes>) {
        let role = self.role;
        match &msg.body {
            Body::Error(e) => self.events.push_back(Event::ErrorReceived {
                code: e.error_code,
                routing_contexts: e.routing_contexts.clone(),
                network_appearance: e.network_appearance,
                affected_point_codes: e.affected_point_codes.clone(),
                diagnostic: e
                    .diagnostic_information
                    .as_deref()
                    .map(Bytes::copy_from_slice),
            }),
            Body::Notify(n) => self.events.push_back(Event::Notify {
                status: n.status,
                asp_identifier: n.asp_identifier,
                routing_contexts: n.routing_contexts.clone(),
            }),
            Body::Data(d) => self.on_data(msg, d, raw),
            Body::Duna(d) | Body::Dava(d) | Body::Drst(d) => {
                if role == Role::Sg {
                    return self.unexpected(msg, raw, "SSNM from an ASP");
                }
                if !self.check_na(d.network_appearance) {
                    return;
                }
                let dest = Destinations {
                    network_appearance: d.network_appearance,
                    routing_contexts: d.routing_contexts.clone(),
                    affected_point_codes: d.affected_point_codes.clone(),
                };
                self.events.push_back(match &msg.body {
                    Body::Duna(_) => Event::DestinationUnavailable(dest),
                    Body::Dava(_) => Event::DestinationAvailable(dest),
                    _ => Event::DestinationRestricted(dest),
                });
            }
            // SCON may flow either way (RFC 4666 §4.5.2 lets an ASP report AS congestion).
            Body::Scon(s) => {
                if self.check_na(s.network_appearance) {
                    self.events.push_back(Event::Congestion {
                        routing_contexts: s.routing_contexts.clone(),
                        affected_point_codes: s.affected_point_codes.clone(),
                        concerned_destination: s.concerned_destination,
                        level: s.congestion_level,
                    });
                }
            }
            Body::Dupu(d) => {
                if role == Role::Sg {
                    return self.unexpected(msg, raw, "DUPU from an ASP");
                }
                if self.check_na(d.network_appearance) {
                    self.events.push_back(Event::UserPartUnavailable {
                        routing_contexts: d.routing_contexts.clone(),
                        affected_point_code: d.affected_point_code,
                        user_cause: d.user_cause,
                    });
                }
            }
            Body::Daud(d) => {
                if !role.serves() {
                    return self.unexpected(msg, raw, "DAUD received by an ASP");
                }
                self.on_daud(msg, d, raw)
            }
            Body::AspUp(u) => {
                if !role.serves() {
                    return self.unexpected(msg, raw, "ASP Up received by an ASP");
                }
                self.on_asp_up(now, msg, u, raw)
            }
            Body::AspDown(_) => {
                if !role.serves() {
                    return self.unexpected(msg, raw, "ASP Down received by an ASP");
                }
                self.send_mgmt(Body::AspDownAck(AspDown { info_string: None }));
                self.go_down();
            }
            Body::AspActive(a) => {
                if !role.serves() {
                    return self.unexpected(msg, raw, "ASP Active received by an ASP");
                }
                self.on_asp_active(msg, a, raw)
            }
            Body::AspInactive(a) => {
                if !role.serves() {
                    return self.unexpected(msg, raw, "ASP Inactive received by an ASP");
                }
                self.on_asp_inactive(msg, a, raw)
            }
            Body::Beat(b) => {
                // Heartbeat Data is echoed unchanged (RFC 4666 §3.5.6).
                let data = b.heartbeat_data.as_deref().map(|d| Cow::Owned(d.to_vec()));
                self.send_mgmt(Body::BeatAck(Beat {
                    heartbeat_data: data,
                }));
            }
            Body::BeatAck(b) => {
                if let Some(seq) = self.beat_outstanding {
                    if b.heartbeat_data.as_deref() == Some(&seq.to_be_bytes()[..]) {
                        self.beat_outstanding = None;
                        self.beat_deadline = None;
                    }
                }
            }
            Body::AspUpAck(u) => {
                if !role.initiates() {
                    return self.unexpected(msg, raw, "ASP Up Ack received by an SGP");
                }
                self.on_asp_up_ack(now, u)
            }
            Body::AspDownAck(_) => {
                if !role.initiates() {
                    return self.unexpected(msg, raw, "ASP Down Ack received by an SGP");
                }
                // Solicited, or unsolicited from an SGP forcing the ASP down (§4.3.4.2).
                self.pending = None;
                self.go_down();
            }
            Body::AspActiveAck(a) => {
                if !role.initiates() {
                    return self.unexpected(msg, raw, "ASP Active Ack received by an SGP");
                }
                self.on_asp_active_ack(a)
            }
            Body::AspInactiveAck(a) => {
                if !role.initiates() {
                    return self.unexpected(msg, raw, "ASP Inactive Ack received by an SGP");
                }
                self.on_asp_inactive_ack(a)
            }
        }
    }

    fn on_data(&mut self, msg: &Message<'_>, d: &Data<'_>, raw: Option<&Bytes>) {
        if self.state != AspState::Active {
            return self.unexpected(msg, raw, "DATA while the ASP is not active");
        }
        if !self.check_na(d.network_appearance) {
            return;
        }
        if let Some(rc) = d.routing_context {
            if !self.active_rcs.is_empty() && !self.active_rcs.contains(&rc) {
                if self.config.routing_contexts.contains(&rc) {
                    return self.unexpected(msg, raw, "DATA for an AS that is not active");
                }
                return self.reply_error(
                    ErrorMessage {
                        error_code: ErrorCode::INVALID_ROUTING_CONTEXT,
                        routing_contexts: vec![rc],
                        ..empty_err()
                    },
                    Violation::Procedure("DATA with an unknown Routing Context"),
                );
            }
        }
        let pd = &d.protocol_data;
        let user_data = share_or_copy(raw, &pd.user_data);
        self.events.push_back(Event::Data(DataIndication {
            routing_context: d.routing_context,
            network_appearance: d.network_appearance,
            correlation_id: d.correlation_id,
            opc: pd.opc,
            dpc: pd.dpc,
            si: pd.si,
            ni: pd.ni,
            mp: pd.mp,
            sls: pd.sls,
            user_data,
        }));
    }

    fn on_daud(&mut self, msg: &Message<'_>, d: &DestinationState<'_>, raw: Option<&Bytes>) {
        if self.state == AspState::Down {
            return self.unexpected(msg, raw, "DAUD while ASP-DOWN");
        }
        if !self.check_na(d.network_appearance) {
            return;
        }
        let (available, unknown): (Vec<AffectedPointCode>, Vec<AffectedPointCode>) =
            d.affected_point_codes.iter().partition(|apc| {
                self.config
                    .available_destinations
                    .iter()
                    .any(|a| a.covers(apc.point_code))
            });
        if !available.is_empty() {
            self.send_mgmt(Body::Dava(DestinationState {
                network_appearance: d.network_appearance,
                routing_contexts: d.routing_contexts.clone(),
                affected_point_codes: available,
                info_string: None,
            }));
        }
        if !unknown.is_empty() {
            self.reply_error(
                ErrorMessage {
                    error_code: ErrorCode::DESTINATION_STATUS_UNKNOWN,
                    routing_contexts: d.routing_contexts.clone(),
                    network_appearance: d.network_appearance,
                    affected_point_codes: unknown,
                    diagnostic_information: None,
                },
                Violation::Procedure("DAUD for a destination with no configured status"),
            );
        }
    }

    fn on_asp_up(&mut self, now: Instant, msg: &Message<'_>, u: &AspUp<'_>, raw: Option<&Bytes>) {
        if self.management_blocked {
            return self.refuse(
                ErrorCode::REFUSED_MANAGEMENT_BLOCKING,
                "management blocking",
            );
        }
        match u.asp_identifier {
            None if self.config.require_asp_identifier => {
                return self.refuse(
                    ErrorCode::ASP_IDENTIFIER_REQUIRED,
                    "ASP Up without ASP Identifier",
                );
            }
            Some(id)
                if !self.config.accepted_asp_identifiers.is_empty()
                    && !self.config.accepted_asp_identifiers.contains(&id) =>
            {
                return self.refuse(
                    ErrorCode::INVALID_ASP_IDENTIFIER,
                    "ASP Identifier not configured",
                );
            }
            _ => {}
        }
        self.send_mgmt(Body::AspUpAck(AspUp::default()));
        match self.state {
            AspState::Down => {
                self.state = AspState::Inactive;
                self.notify(
                    Status::AS_INACTIVE,
                    self.config.routing_contexts.clone(),
                    u.asp_identifier,
                );
                self.events.push_back(Event::AspUp {
                    asp_identifier: u.asp_identifier,
                });
                self.start_heartbeat(now);
            }
            AspState::Inactive => {}
            AspState::Active => {
                // RFC 4666 §4.3.4.1: ASP Up while active is acknowledged, reported as
                // unexpected, and moves the ASP back to ASP-INACTIVE.
                self.unexpected(msg, raw, "ASP Up while ASP-ACTIVE");
                self.state = AspState::Inactive;
                let rcs = std::mem::take(&mut self.active_rcs);
                self.notify(Status::AS_INACTIVE, rcs.clone(), u.asp_identifier);
                self.events.push_back(Event::AspInactive {
                    routing_contexts: rcs,
                });
            }
        }
    }

    fn on_asp_active(&mut self, msg: &Message<'_>, a: &AspActive<'_>, raw: Option<&Bytes>) {
        if self.state == AspState::Down {
            return self.unexpected(msg, raw, "ASP Active while ASP-DOWN");
        }
        if self.management_blocked {
            return self.refuse(
                ErrorCode::REFUSED_MANAGEMENT_BLOCKING,
                "management blocking",
            );
        }
        if let Some(tm) = a.traffic_mode {
            if !self.config.accepted_traffic_modes.contains(&tm) {
                return self.reply_error(
                    ErrorMessage {
                        error_code: ErrorCode::UNSUPPORTED_TRAFFIC_MODE_TYPE,
                        routing_contexts: a.routing_contexts.clone(),
                        ..empty_err()
                    },
                    Violation::Procedure("traffic mode not accepted"),
                );
            }
        }
        let accepted = if a.routing_contexts.is_empty() {
            if !self.config.routing_contexts.is_empty() {
                self.config.routing_contexts.clone()
            } else if self.config.default_as {
                Vec::new()
            } else {
                return self.refuse(ErrorCode::NO_CONFIGURED_AS_FOR_ASP, "no AS configured");
            }
        } else {
            let Some(ok) = self.split_rcs(
                &a.routing_contexts,
                "ASP Active for an unconfigured Routing Context",
            ) else {
                return;
            };
            ok
        };
        self.send_mgmt(Body::AspActiveAck(AspActive {
            traffic_mode: a.traffic_mode,
            routing_contexts: if a.routing_contexts.is_empty() {
                Vec::new()
            } else {
                accepted.clone()
            },
            info_string: None,
        }));
        let newly: Vec<u32> = accepted
            .iter()
            .copied()
            .filter(|rc| !self.active_rcs.contains(rc))
            .collect();
        let was_active = self.state == AspState::Active;
        self.active_rcs.extend(newly.iter().copied());
        self.state = AspState::Active;
        if !was_active || !newly.is_empty() {
            self.notify(Status::AS_ACTIVE, newly, None);
        }
        self.events.push_back(Event::AspActive {
            routing_contexts: accepted,
            traffic_mode: a.traffic_mode,
        });
    }

    fn on_asp_inactive(&mut self, msg: &Message<'_>, a: &AspInactive<'_>, raw: Option<&Bytes>) {
        if self.state == AspState::Down {
            return self.unexpected(msg, raw, "ASP Inactive while ASP-DOWN");
        }
        let deactivated = if a.routing_contexts.is_empty() {
            std::mem::take(&mut self.active_rcs)
        } else {
            let Some(ok) = self.split_rcs(
                &a.routing_contexts,
                "ASP Inactive for an unconfigured Routing Context",
            ) else {
                return;
            };
            ok
        };
        self.send_mgmt(Body::AspInactiveAck(AspInactive {
            routing_contexts: if a.routing_contexts.is_empty() {
                Vec::new()
            } else {
                deactivated.clone()
            },
            info_string: None,
        }));
        self.active_rcs.retain(|rc| !deactivated.contains(rc));
        if self.state == AspState::Active
            && (a.routing_contexts.is_empty() || self.active_rcs.is_empty())
        {
            self.state = AspState::Inactive;
            self.notify(Status::AS_INACTIVE, deactivated.clone(), None);
            self.events.push_back(Event::AspInactive {
                routing_contexts: deactivated,
            });
        } else if !deactivated.is_empty() {
            self.notify(Status::AS_INACTIVE, deactivated.clone(), None);
            self.events.push_back(Event::AspInactive {
                routing_contexts: deactivated,
            });
        }
    }

    fn on_asp_up_ack(&mut self, now: Instant, u: &AspUp<'_>) {
        if self.pending_request() != Some(Request::AspUp) {
            return; // duplicate or late Ack: harmless
        }
        self.pending = None;
        if self.state == AspState::Down {
            self.state = AspState::Inactive;
            self.events.push_back(Event::AspUp {
                asp_identifier: u.asp_identifier,
            });
            self.start_heartbeat(now);
        }
        if self.config.auto_activate {
            if let Err(e) = self.activate(now) {
                self.encode_failed(e);
            }
        }
    }

    fn on_asp_active_ack(&mut self, a: &AspActive<'_>) {
        if self.pending_request() != Some(Request::AspActive) || self.state == AspState::Down {
            return;
        }
        self.pending = None;
        let rcs = if a.routing_contexts.is_empty() {
            self.config.routing_contexts.clone()
        } else {
            a.routing_contexts.clone()
        };
        for rc in &rcs {
            if !self.active_rcs.contains(rc) {
                self.active_rcs.push(*rc);
            }
        }
        self.state = AspState::Active;
        self.events.push_back(Event::AspActive {
            routing_contexts: rcs,
            traffic_mode: a.traffic_mode,
        });
    }

    fn on_asp_inactive_ack(&mut self, a: &AspInactive<'_>) {
        if self.pending_request() == Some(Request::AspInactive) {
            self.pending = None;
        } else if self.state != AspState::Active {
            return;
        }
        // Solicited, or unsolicited from an SGP forcing the ASP inactive (§4.3.4.4).
        let rcs = if a.routing_contexts.is_empty() {
            std::mem::take(&mut self.active_rcs)
        } else {
            a.routing_contexts.clone()
        };
        self.active_rcs.retain(|rc| !rcs.contains(rc));
        if self.state == AspState::Active
            && (a.routing_contexts.is_empty() || self.active_rcs.is_empty())
        {
            self.state = AspState::Inactive;
        }
        self.events.push_back(Event::AspInactive {
            routing_contexts: rcs,
        });
    }

    // ---- helpers -------------------------------------------------------------------------

    fn go_down(&mut self) {
        self.beat_next = None;
        self.beat_deadline = None;
        self.beat_outstanding = None;
        self.active_rcs.clear();
        if self.state != AspState::Down {
            self.state = AspState::Down;
            self.events.push_back(Event::AspDown);
        }
    }

    /// Splits requested RCs into configured ones (returned) and others (answered with ERR
    /// "Invalid Routing Context"). `None` when none is configured.
    fn split_rcs(&mut self, requested: &[u32], why: &'static str) -> Option<Vec<u32>> {
        let (ok, bad): (Vec<u32>, Vec<u32>) = requested
            .iter()
            .partition(|rc| self.config.routing_contexts.contains(rc));
        if !bad.is_empty() {
            self.reply_error(
                ErrorMessage {
                    error_code: ErrorCode::INVALID_ROUTING_CONTEXT,
                    routing_contexts: bad,
                    ..empty_err()
                },
                Violation::Procedure(why),
            );
        }
        (!ok.is_empty()).then_some(ok)
    }

    /// Checks a received Network Appearance against the configured one; answers ERR
    /// "Invalid Network Appearance" and returns false on mismatch.
    fn check_na(&mut self, na: Option<u32>) -> bool {
        match (self.config.network_appearance, na) {
            (Some(ours), Some(theirs)) if ours != theirs => {
                self.reply_error(
                    ErrorMessage {
                        error_code: ErrorCode::INVALID_NETWORK_APPEARANCE,
                        network_appearance: Some(theirs),
                        ..empty_err()
                    },
                    Violation::Procedure("Network Appearance not configured"),
                );
                false
            }
            _ => true,
        }
    }

    fn start_heartbeat(&mut self, now: Instant) {
        if let Some(iv) = self.config.heartbeat_interval {
            self.beat_next = now.checked_add(iv);
        }
    }

    fn send_beat(&mut self, now: Instant) {
        self.beat_seq = self.beat_seq.wrapping_add(1);
        let seq = self.beat_seq;
        self.send_mgmt(Body::Beat(Beat {
            heartbeat_data: Some(Cow::Owned(seq.to_be_bytes().to_vec())),
        }));
        self.beat_outstanding = Some(seq);
        if self.beat_deadline.is_none() {
            self.beat_deadline = now.checked_add(self.config.heartbeat_timeout);
        }
        self.beat_next = self
            .config
            .heartbeat_interval
            .and_then(|iv| now.checked_add(iv));
    }

    fn notify(&mut self, status: Status, routing_contexts: Vec<u32>, asp_identifier: Option<u32>) {
        if self.config.send_notify && self.role.serves() {
            self.send_mgmt(Body::Notify(Notify {
                status,
                asp_identifier,
                routing_contexts,
                info_string: None,
            }));
        }
    }

    fn unexpected(&mut self, msg: &Message<'_>, raw: Option<&Bytes>, why: &'static str) {
        let diag = match raw {
            Some(r) => diag_bytes(r),
            None => msg.to_bytes().map(|b| diag_bytes(&b)).unwrap_or_default(),
        };
        self.reply_error(
            ErrorMessage {
                error_code: ErrorCode::UNEXPECTED_MESSAGE,
                diagnostic_information: Some(Cow::Owned(diag)),
                ..empty_err()
            },
            Violation::Procedure(why),
        );
    }

    fn refuse(&mut self, code: ErrorCode, why: &'static str) {
        self.reply_error(
            ErrorMessage {
                error_code: code,
                ..empty_err()
            },
            Violation::Procedure(why),
        );
    }

    fn reply_error(&mut self, err: ErrorMessage<'_>, cause: Violation) {
        let code = err.error_code;
        self.send_mgmt(Body::Error(err));
        self.events.push_back(Event::PeerViolation {
            code,
            cause,
            answered: true,
        });
    }

    fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        body: Body<'_>,
    ) -> Result<(), AssociationError> {
        let payload = self.encode_and_queue(0, &Message::from(body))?;
        self.pending = Some(Pending {
            request,
            payload,
            deadline: now.checked_add(self.config.ack_timeout),
            retransmissions: 0,
        });
        Ok(())
    }

    fn send_mgmt(&mut self, body: Body<'_>) {
        if let Err(e) = self.encode_and_queue(0, &Message::from(body)) {
            self.events.push_back(Event::EncodeFailed(e));
        }
    }

    fn encode_failed(&mut self, e: AssociationError) {
        if let AssociationError::Encode(e) = e {
            self.events.push_back(Event::EncodeFailed(e));
        }
    }

    fn encode_and_queue(&mut self, stream: u16, msg: &Message<'_>) -> Result<Bytes, EncodeError> {
        msg.encode(&mut self.scratch)?;
        let payload = self.scratch.split().freeze();
        self.transmits.push_back(Transmit {
            stream,
            payload: payload.clone(),
        });
        Ok(payload)
    }

    fn data_stream(&self, sls: u8) -> u16 {
        match self.config.outbound_streams {
            0 | 1 => 0,
            n => 1 + u16::from(sls) % (n - 1),
        }
    }
}

fn empty_err() -> ErrorMessage<'static> {
    ErrorMessage {
        error_code: ErrorCode::PROTOCOL_ERROR,
        routing_contexts: Vec::new(),
        network_appearance: None,
        affected_point_codes: Vec::new(),
        diagnostic_information: None,
    }
}

fn diag_bytes(raw: &[u8]) -> Vec<u8> {
    raw[..raw.len().min(DIAGNOSTIC_LEN)].to_vec()
}

fn diag_err(raw: &[u8]) -> ErrorMessage<'static> {
    ErrorMessage {
        diagnostic_information: Some(Cow::Owned(diag_bytes(raw))),
        ..empty_err()
    }
}

/// `part` as a zero-copy slice of `frame` when it lies inside it, else a copy.
fn share_or_copy(frame: Option<&Bytes>, part: &[u8]) -> Bytes {
    if let Some(frame) = frame {
        let base = frame.as_ptr() as usize;
        let start = part.as_ptr() as usize;
        if let Some(off) = start.checked_sub(base) {
            if off
                .checked_add(part.len())
                .is_some_and(|end| end <= frame.len())
            {
                return frame.slice(off..off + part.len());
            }
        }
    }
    Bytes::copy_from_slice(part)
}

#[cfg(test)]
#[path = "asp_tests.rs"]
mod tests;
