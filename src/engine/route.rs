//! The way back to the SSP for one dialogue: the link, the M3UA routing label and the SCCP
//! addresses of the first message, swapped. Stored once per call; every reply is encoded from
//! it as M3UA DATA ( SCCP UDT/XUDT ( TCAP ) ). All but the SLS is usually the same for every
//! dialogue of a link, so that part ([`RoutePath`]) is shared: a call holds a pointer to it.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use strowger_m3ua::{Body, Data, Message as M3uaMessage, ProtocolData};
use strowger_sccp::{Message as SccpMessage, ProtocolClass, SccpAddress, Udt, Xudt};

use super::writer::LinkTx;

/// Which SCCP message carries replies: the kind the SSP used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SccpKind {
    /// UDT.
    Udt,
    /// XUDT, with this hop counter.
    Xudt(u8),
}

/// Everything needed to send a TCAP message back to the SSP of one dialogue.
#[derive(Clone, Debug)]
pub struct ReplyRoute {
    /// The link and the addressing, shared with other dialogues of the link.
    pub path: Arc<RoutePath>,
    /// Signalling link selection, kept per dialogue so its messages stay in sequence.
    pub sls: u8,
}

/// The link a dialogue arrived on and how its replies are addressed (all but the SLS).
#[derive(Debug)]
pub struct RoutePath {
    /// The link the dialogue arrived on.
    pub link: Arc<LinkTx>,
    /// The M3UA and SCCP addressing of replies.
    pub addressing: Addressing,
}

/// The M3UA routing label (but the SLS) and the SCCP addressing of replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addressing {
    /// Routing context of the incoming DATA, echoed.
    pub routing_context: Option<u32>,
    /// Network appearance of the incoming DATA, echoed.
    pub network_appearance: Option<u32>,
    /// Our point code (the incoming DPC).
    pub opc: u32,
    /// The SSP's point code (the incoming OPC).
    pub dpc: u32,
    /// Network indicator.
    pub ni: u8,
    /// Message priority.
    pub mp: u8,
    /// SCCP message kind.
    pub kind: SccpKind,
    /// SCCP protocol class of replies.
    pub protocol_class: ProtocolClass,
    /// Called party of replies (the SSP: the incoming calling party).
    pub called: SccpAddress,
    /// Calling party of replies (us: the incoming called party).
    pub calling: SccpAddress,
}

/// Why a reply could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// An SCCP field could not be encoded.
    #[error("SCCP encode: {0}")]
    Sccp(#[from] strowger_sccp::EncodeError),
    /// An M3UA field could not be encoded.
    #[error("M3UA encode: {0}")]
    M3ua(#[from] strowger_m3ua::EncodeError),
    /// The link is gone.
    #[error("link closed")]
    LinkClosed,
}

impl ReplyRoute {
    /// Encode `tcap` as M3UA DATA ( SCCP ( tcap ) ) into `scratch`, and return the M3UA bytes.
    pub fn encode(&self, tcap: &[u8], scratch: &mut BytesMut) -> Result<Bytes, RouteError> {
        self.path.encode(self.sls, tcap, scratch)
    }

    /// Encode and queue `tcap` on the link.
    pub fn send(&self, tcap: &[u8], scratch: &mut BytesMut) -> Result<(), RouteError> {
        self.path.send(self.sls, tcap, scratch)
    }
}

impl RoutePath {
    /// [`ReplyRoute::encode`] with this SLS.
    pub fn encode(
        &self,
        sls: u8,
        tcap: &[u8],
        scratch: &mut BytesMut,
    ) -> Result<Bytes, RouteError> {
        scratch.clear();
        let a = &self.addressing;
        let sccp = match a.kind {
            SccpKind::Udt => SccpMessage::Udt(Udt {
                protocol_class: a.protocol_class,
                called: a.called,
                calling: a.calling,
                data: tcap,
            }),
            SccpKind::Xudt(hops) => SccpMessage::Xudt(Xudt {
                protocol_class: a.protocol_class,
                hop_counter: hops,
                called: a.called,
                calling: a.calling,
                data: tcap,
                segmentation: None,
                importance: None,
            }),
        };
        sccp.encode(scratch)?;
        let msg = M3uaMessage::from(Body::Data(Data {
            network_appearance: a.network_appearance,
            routing_context: a.routing_context,
            protocol_data: ProtocolData {
                opc: a.opc,
                dpc: a.dpc,
                si: strowger_m3ua::SI_SCCP,
                ni: a.ni,
                mp: a.mp,
                sls,
                user_data: Cow::Borrowed(&scratch[..]),
            },
            correlation_id: None,
        }));
        let mut out = BytesMut::with_capacity(scratch.len() + 48);
        msg.encode(&mut out)?;
        Ok(out.freeze())
    }

    /// [`ReplyRoute::send`] with this SLS.
    pub fn send(&self, sls: u8, tcap: &[u8], scratch: &mut BytesMut) -> Result<(), RouteError> {
        let bytes = self.encode(sls, tcap, scratch)?;
        super::link::count_m3ua("out", &bytes);
        if self.link.send(bytes) {
            Ok(())
        } else {
            Err(RouteError::LinkClosed)
        }
    }
}
