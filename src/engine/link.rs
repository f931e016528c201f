//! The link (association) actor: one per SSP connection. It frames the byte stream into M3UA
//! messages, runs the M3UA state machine, decodes SCCP, answers undeliverable messages with
//! UDTS/XUDTS, and hands each TCAP message to the dialogue layer with its reply route.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use futures::Stream;
use strowger_m3ua::{
    Association, Body, ErrorCode, ErrorMessage, Event as M3uaEvent, Framer, Message as M3uaMessage,
};
use strowger_sccp::{Message as SccpMessage, ReturnCause, Ssn};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::dispatch::{self, Inbound};
use super::route::{Addressing, ReplyRoute, RoutePath, SccpKind};
use super::writer::LinkTx;
use super::Engine;
use crate::metrics as m;

/// A frame read from the socket, or why reading stopped.
#[derive(Debug)]
pub(crate) enum ReadItem {
    Frame(Bytes),
    Bad(ErrorCode, &'static str),
}

/// Turn a byte stream into M3UA frames.
pub(crate) fn frames<R: AsyncRead + Unpin + 'static>(
    read: R,
    max_len: usize,
) -> impl Stream<Item = ReadItem> {
    let framer = Framer::new(max_len);
    let buf = BytesMut::with_capacity(64 * 1024);
    futures::stream::unfold(
        (read, buf, framer, false),
        |(mut read, mut buf, framer, done)| async move {
            if done {
                return None;
            }
            loop {
                match framer.next_frame(&mut buf) {
                    Ok(Some(frame)) => {
                        return Some((ReadItem::Frame(frame), (read, buf, framer, false)))
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Some((
                            ReadItem::Bad(e.error_code(), "bad M3UA framing"),
                            (read, buf, framer, true),
                        ))
                    }
                }
                if buf.capacity() - buf.len() < 4096 {
                    buf.reserve(64 * 1024);
                }
                match read.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        },
    )
}

/// One SSP link.
pub struct Link {
    engine: Arc<Engine>,
    tx: Arc<LinkTx>,
    assoc: Association,
    timer: Option<SpawnHandle>,
    label: &'static str,
    /// The reply path of the last message, shared by the dialogues addressed the same way.
    path: Option<Arc<RoutePath>>,
}

impl Link {
    /// A link over a connection whose write half is already wrapped in `tx`.
    pub fn new(engine: Arc<Engine>, tx: Arc<LinkTx>) -> Link {
        let assoc = Association::new(engine.m3ua_role(), engine.m3ua_config());
        Link {
            engine,
            tx,
            assoc,
            timer: None,
            label: "down",
            path: None,
        }
    }

    fn peer(&self) -> SocketAddr {
        self.tx.peer
    }

    fn set_state(&mut self, label: &'static str) {
        if self.label != label {
            m::gauge_add!(m::M3UA_LINKS, [("state", self.label)], -1.0);
            m::gauge_add!(m::M3UA_LINKS, [("state", label)], 1.0);
            self.label = label;
        }
    }

    fn drain(&mut self, ctx: &mut Context<Self>) {
        while let Some(t) = self.assoc.poll_transmit() {
            count_m3ua("out", &t.payload);
            self.tx.send(t.payload);
        }
        while let Some(ev) = self.assoc.poll_event() {
            self.on_event(ev);
        }
        self.schedule(ctx);
    }

    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.timer.take() {
            ctx.cancel_future(h);
        }
        if let Some(at) = self.assoc.poll_timeout() {
            let wait = at.saturating_duration_since(Instant::now());
            self.timer = Some(ctx.run_later(wait, |act, ctx| {
                act.timer = None;
                act.assoc.handle_timeout(Instant::now());
                act.drain(ctx);
            }));
        }
    }

    fn on_event(&mut self, ev: M3uaEvent) {
        let peer = self.peer();
        match ev {
            M3uaEvent::Data(ind) => self.on_data(ind),
            M3uaEvent::AspUp { .. } => {
                tracing::info!(link = self.tx.id, %peer, "ASP up");
                self.set_state("inactive");
            }
            M3uaEvent::AspActive {
                routing_contexts, ..
            } => {
                tracing::info!(link = self.tx.id, %peer, ?routing_contexts, "ASP active");
                self.set_state("active");
            }
            M3uaEvent::AspInactive { .. } => {
                tracing::info!(link = self.tx.id, %peer, "ASP inactive");
                self.set_state("inactive");
            }
            M3uaEvent::AspDown => {
                tracing::info!(link = self.tx.id, %peer, "ASP down");
                self.set_state("down");
            }
            M3uaEvent::PeerViolation { code, cause, .. } => {
                m::count!(
                    m::DECODE_ERRORS,
                    [("layer", "m3ua"), ("reason", m3ua_reason(code))],
                    1,
                );
                tracing::warn!(link = self.tx.id, %peer, ?code, ?cause, "M3UA peer violation");
            }
            M3uaEvent::ErrorReceived { code, .. } => {
                tracing::warn!(link = self.tx.id, %peer, ?code, "M3UA ERR received");
            }
            M3uaEvent::HeartbeatTimeout | M3uaEvent::AckTimeout { .. } => {
                tracing::warn!(link = self.tx.id, %peer, "M3UA peer stopped answering");
            }
            other => tracing::debug!(link = self.tx.id, %peer, ?other, "M3UA event"),
        }
    }

    fn on_data(&mut self, ind: strowger_m3ua::DataIndication) {
        let engine = &self.engine;
        if !engine.point_code_allowed(ind.opc) {
            m::count!(
                m::DECODE_ERRORS,
                [("layer", "m3ua"), ("reason", "opc_not_allowed")],
                1,
            );
            tracing::warn!(
                link = self.tx.id,
                opc = ind.opc,
                "DATA from a point code not allowed; dropped"
            );
            return;
        }
        if ind.si != strowger_m3ua::SI_SCCP {
            m::count!(
                m::DECODE_ERRORS,
                [("layer", "m3ua"), ("reason", "not_sccp")],
                1,
            );
            return;
        }
        let sccp = match SccpMessage::decode(&ind.user_data) {
            Ok(s) => s,
            Err(e) => {
                m::count!(
                    m::DECODE_ERRORS,
                    [("layer", "sccp"), ("reason", "malformed")],
                    1,
                );
                tracing::debug!(link = self.tx.id, error = %e, "undecodable SCCP message dropped");
                return;
            }
        };
        let kind = match &sccp {
            SccpMessage::Udt(_) => SccpKind::Udt,
            SccpMessage::Xudt(x) => {
                if x.hop_counter == 0 {
                    self.service_message(&ind, &sccp, ReturnCause::HOP_COUNTER_VIOLATION);
                    return;
                }
                SccpKind::Xudt(engine.config.sccp.hop_counter)
            }
            SccpMessage::Udts(_) | SccpMessage::Xudts(_) => {
                m::count!(
                    m::LAYER_MESSAGES,
                    [("layer", "sccp"), ("type", "udts"), ("direction", "in")],
                    1,
                );
                tracing::info!(link = self.tx.id, cause = ?sccp.return_cause(), "SSP returned a message as undeliverable");
                return;
            }
        };
        m::count!(
            m::LAYER_MESSAGES,
            [
                ("layer", "sccp"),
                ("type", if kind == SccpKind::Udt { "udt" } else { "xudt" }),
                ("direction", "in"),
            ],
            1,
        );
        let served = sccp
            .called()
            .ssn
            .map(|Ssn(s)| engine.config.sccp.ssns.contains(&s))
            .unwrap_or(false);
        if !served {
            self.service_message(&ind, &sccp, ReturnCause::UNEQUIPPED_USER);
            return;
        }
        let Some(protocol_class) = sccp.protocol_class() else {
            return;
        };
        let addressing = Addressing {
            routing_context: ind.routing_context,
            network_appearance: ind.network_appearance,
            opc: ind.dpc,
            dpc: ind.opc,
            ni: ind.ni,
            mp: ind.mp,
            kind,
            protocol_class,
            called: *sccp.calling(),
            calling: *sccp.called(),
        };
        let path = match &self.path {
            Some(p) if p.addressing == addressing => p.clone(),
            _ => {
                let p = Arc::new(RoutePath {
                    link: self.tx.clone(),
                    addressing,
                });
                self.path = Some(p.clone());
                p
            }
        };
        let route = ReplyRoute { path, sls: ind.sls };
        let tcap = ind.user_data.slice_ref(sccp.data());
        dispatch::inbound(engine, Inbound { route, tcap });
    }

    /// Answer an undeliverable message with UDTS/XUDTS when its return option asks for it.
    fn service_message(
        &mut self,
        ind: &strowger_m3ua::DataIndication,
        sccp: &SccpMessage<'_>,
        cause: ReturnCause,
    ) {
        m::count!(
            m::DECODE_ERRORS,
            [("layer", "sccp"), ("reason", "undeliverable")],
            1,
        );
        let Some(reply) = sccp.service_message(cause) else {
            return;
        };
        let mut scratch = BytesMut::with_capacity(256);
        if reply.encode(&mut scratch).is_err() {
            return;
        }
        let msg = ind.reply(&scratch);
        let mut out = BytesMut::new();
        if msg.encode(&mut out).is_ok() {
            m::count!(
                m::LAYER_MESSAGES,
                [("layer", "sccp"), ("type", "udts"), ("direction", "out")],
                1,
            );
            count_m3ua("out", &out);
            self.tx.send(out.freeze());
        }
    }
}

/// The `reason` label of an M3UA error code: its RFC 4666 name in snake case.
fn m3ua_reason(code: ErrorCode) -> &'static str {
    match code.name() {
        Some("Invalid Version") => "invalid_version",
        Some("Unsupported Message Class") => "unsupported_message_class",
        Some("Unsupported Message Type") => "unsupported_message_type",
        Some("Unsupported Traffic Mode Type") => "unsupported_traffic_mode_type",
        Some("Unexpected Message") => "unexpected_message",
        Some("Protocol Error") => "protocol_error",
        Some("Invalid Stream Identifier") => "invalid_stream_identifier",
        Some("Refused - Management Blocking") => "refused_management_blocking",
        Some("ASP Identifier Required") => "asp_identifier_required",
        Some("Invalid ASP Identifier") => "invalid_asp_identifier",
        Some("Invalid Parameter Value") => "invalid_parameter_value",
        Some("Parameter Field Error") => "parameter_field_error",
        Some("Unexpected Parameter") => "unexpected_parameter",
        Some("Destination Status Unknown") => "destination_status_unknown",
        Some("Invalid Network Appearance") => "invalid_network_appearance",
        Some("Missing Parameter") => "missing_parameter",
        Some("Invalid Routing Context") => "invalid_routing_context",
        Some("No Configured AS for ASP") => "no_configured_as_for_asp",
        _ => "other",
    }
}

/// Count one M3UA message received or sent (`strowger_m3ua_messages_total`).
pub(super) fn count_m3ua(direction: &'static str, msg: &[u8]) {
    let class = match msg.get(2) {
        Some(0) => "mgmt",
        Some(1) => "transfer",
        Some(2) => "ssnm",
        Some(3) => "aspsm",
        Some(4) => "asptm",
        _ => "other",
    };
    m::count!(
        m::M3UA_MESSAGES,
        [("direction", direction), ("class", class)],
        1,
    );
}

impl Actor for Link {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.engine.link_up(true);
        m::gauge_add!(m::M3UA_LINKS, [("state", self.label)], 1.0);
        if self.engine.m3ua_role() == strowger_m3ua::Role::Asp {
            if let Err(e) = self.assoc.start(Instant::now()) {
                tracing::warn!(error = %e, "cannot start M3UA ASP procedures");
            }
        }
        self.drain(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.engine.link_up(false);
        m::gauge_add!(m::M3UA_LINKS, [("state", self.label)], -1.0);
        self.tx.close();
        tracing::info!(link = self.tx.id, peer = %self.peer(), "link closed");
        dispatch::link_lost(&self.engine, self.tx.id);
    }
}

impl StreamHandler<ReadItem> for Link {
    fn handle(&mut self, item: ReadItem, ctx: &mut Self::Context) {
        match item {
            ReadItem::Frame(frame) => {
                if let Some(t) = &self.engine.trace {
                    t.record(self.tx.peer, self.tx.local, &frame);
                }
                count_m3ua("in", &frame);
                self.assoc.handle_frame(Instant::now(), frame);
                self.drain(ctx);
            }
            ReadItem::Bad(code, why) => {
                m::count!(
                    m::DECODE_ERRORS,
                    [("layer", "m3ua"), ("reason", m3ua_reason(code))],
                    1,
                );
                tracing::warn!(link = self.tx.id, peer = %self.peer(), ?code, why, "closing link");
                let err = M3uaMessage::from(Body::Error(ErrorMessage {
                    error_code: code,
                    routing_contexts: Vec::new(),
                    network_appearance: None,
                    affected_point_codes: Vec::new(),
                    diagnostic_information: None,
                }));
                let mut out = BytesMut::new();
                if err.encode(&mut out).is_ok() {
                    count_m3ua("out", &out);
                    self.tx.send(out.freeze());
                }
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
