//! The dialogue layer's entry: TCAP messages from every link are routed here by transaction
//! id. A Begin becomes a new call actor (after admission control and application-context
//! negotiation); Continue/End/Abort go to the call actor that owns the destination id; an
//! unknown id gets the P-Abort Q.774 owes; a malformed transaction portion its P-Abort.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use strowger_tcap::{unknown_transaction_abort, Dialogue, Message, MessageType};

use super::call::{CallActor, CallMsg};
use super::route::ReplyRoute;
use super::Engine;
use crate::metrics as m;

/// One TCAP message with the way back to its sender.
pub struct Inbound {
    /// The route replies take.
    pub route: ReplyRoute,
    /// The TCAP message (a slice of the received frame).
    pub tcap: Bytes,
}

fn type_label(t: MessageType) -> &'static str {
    match t {
        MessageType::Begin => "begin",
        MessageType::Continue => "continue",
        MessageType::End => "end",
        MessageType::Abort => "abort",
        MessageType::Unidirectional => "unidirectional",
    }
}

/// Route one inbound TCAP message.
pub fn inbound(engine: &Arc<Engine>, msg: Inbound) {
    let decoded = match Message::decode(&msg.tcap) {
        Ok(d) => d,
        Err(e) => {
            m::count!(
                m::DECODE_ERRORS,
                [("layer", "tcap"), ("reason", "transaction")],
                1,
            );
            tracing::debug!(error = %e, "malformed TCAP transaction portion");
            if let Some(dtid) = e.dtid {
                if let Some(entry) = engine.table.get(&dtid.to_u32()) {
                    entry.addr.do_send(CallMsg::Broken);
                }
            }
            if let Some(abort) = e.answer() {
                let mut out = BytesMut::with_capacity(32);
                abort.encode(&mut out);
                send_raw(&msg.route, &out, "abort");
            }
            return;
        }
    };
    let kind = decoded.message_type();
    m::count!(
        m::LAYER_MESSAGES,
        [
            ("layer", "tcap"),
            ("type", type_label(kind)),
            ("direction", "in"),
        ],
        1,
    );
    match decoded {
        Message::Begin(ref begin) => {
            let now = Instant::now();
            let tid = engine.next_tid();
            let dialogue = match Dialogue::on_begin(now, tid, begin, &engine.tcap) {
                Ok(d) => d,
                Err(abort) => {
                    m::count!(
                        m::TCAP_DIALOGUES_ABORTED,
                        [("cause", "ac_not_supported")],
                        1,
                    );
                    let mut out = BytesMut::with_capacity(64);
                    abort.encode(&mut out);
                    send_raw(&msg.route, &out, "abort");
                    return;
                }
            };
            if let Some(why) = engine.refuse_new_call() {
                super::call::refuse(engine, dialogue, &decoded, &msg.route, why);
                return;
            }
            CallActor::spawn(engine, tid, dialogue, msg.route, msg.tcap);
        }
        Message::Continue(_) | Message::End(_) | Message::Abort(_) => {
            let Some(dtid) = decoded.dtid() else {
                return;
            };
            match engine.table.get(&dtid.to_u32()) {
                Some(entry) => {
                    engine.inflight.fetch_add(1, Ordering::Relaxed);
                    entry.addr.do_send(CallMsg::Tcap(msg.tcap));
                }
                None => {
                    m::count!(
                        m::DECODE_ERRORS,
                        [("layer", "tcap"), ("reason", "unknown_transaction")],
                        1,
                    );
                    if let Some(abort) = unknown_transaction_abort(&decoded) {
                        let mut out = BytesMut::with_capacity(32);
                        abort.encode(&mut out);
                        send_raw(&msg.route, &out, "abort");
                    }
                }
            }
        }
        Message::Unidirectional(_) => {
            // No dialogue to answer in; nothing the SCP serves arrives this way.
        }
    }
}

/// Send a TCAP message outside any call actor.
pub(super) fn send_raw(route: &ReplyRoute, tcap: &[u8], label: &'static str) {
    let mut scratch = BytesMut::with_capacity(tcap.len() + 64);
    match route.send(tcap, &mut scratch) {
        Ok(()) => {
            m::count!(
                m::LAYER_MESSAGES,
                [("layer", "tcap"), ("type", label), ("direction", "out")],
                1,
            );
        }
        Err(e) => tracing::debug!(error = %e, "reply not sent"),
    }
}

/// A link closed: every dialogue on it is lost.
pub fn link_lost(engine: &Arc<Engine>, link: u64) {
    for entry in engine.table.iter() {
        if entry.link == link {
            entry.addr.do_send(CallMsg::LinkLost);
        }
    }
}
