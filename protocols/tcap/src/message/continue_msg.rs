//! Continue (Q.773 §3.1, Table 4).

use bytes::BytesMut;
use strowger_ber::{write_constructed, Reader};

use super::{Ctx, MessageType};
use crate::component::ComponentPortion;
use crate::dialogue_portion::DialoguePortion;
use crate::error::TransactionError;
use crate::tid::TransactionId;

/// A Continue message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Continue<'a> {
    /// `otid`: the sender's transaction id.
    pub otid: TransactionId,
    /// `dtid`: the receiver's transaction id.
    pub dtid: TransactionId,
    /// `dialoguePortion` (an AARE in the first backward Continue).
    pub dialogue: Option<DialoguePortion<'a>>,
    /// `components`.
    pub components: Option<ComponentPortion<'a>>,
}

impl<'a> Continue<'a> {
    /// ```asn1
    /// Continue ::= SEQUENCE {
    ///   otid            OrigTransactionID,
    ///   dtid            DestTransactionID,
    ///   dialoguePortion DialoguePortion OPTIONAL,
    ///   components      ComponentPortion OPTIONAL }
    /// ```
    pub(crate) fn decode(r: &mut Reader<'a>, ctx: &Ctx) -> Result<Continue<'a>, TransactionError> {
        let otid = ctx.tid(r, TransactionId::OTID_TAG, "otid")?;
        let dtid = ctx.tid(r, TransactionId::DTID_TAG, "dtid")?;
        let (dialogue, components) = ctx.portions(r)?;
        Ok(Continue {
            otid,
            dtid,
            dialogue,
            components,
        })
    }

    /// Write the message.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, MessageType::Continue.tag(), |b| {
            self.otid.write(b, TransactionId::OTID_TAG);
            self.dtid.write(b, TransactionId::DTID_TAG);
            if let Some(d) = &self.dialogue {
                d.encode(b);
            }
            if let Some(c) = &self.components {
                c.write(b);
            }
        });
    }
}
