//! End (Q.773 §3.1, Table 3).

use bytes::BytesMut;
use strowger_ber::{write_constructed, Reader};

use super::{Ctx, MessageType};
use crate::component::ComponentPortion;
use crate::dialogue_portion::DialoguePortion;
use crate::error::TransactionError;
use crate::tid::TransactionId;

/// An End message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End<'a> {
    /// `dtid`: the receiver's transaction id.
    pub dtid: TransactionId,
    /// `dialoguePortion` (an AARE when the End answers a Begin).
    pub dialogue: Option<DialoguePortion<'a>>,
    /// `components`.
    pub components: Option<ComponentPortion<'a>>,
}

impl<'a> End<'a> {
    /// ```asn1
    /// End ::= SEQUENCE {
    ///   dtid            DestTransactionID,
    ///   dialoguePortion DialoguePortion OPTIONAL,
    ///   components      ComponentPortion OPTIONAL }
    /// ```
    pub(crate) fn decode(r: &mut Reader<'a>, ctx: &Ctx) -> Result<End<'a>, TransactionError> {
        let dtid = ctx.tid(r, TransactionId::DTID_TAG, "dtid")?;
        let (dialogue, components) = ctx.portions(r)?;
        Ok(End {
            dtid,
            dialogue,
            components,
        })
    }

    /// Write the message.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, MessageType::End.tag(), |b| {
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
