//! Begin (Q.773 §3.1, Table 2).

use bytes::BytesMut;
use strowger_ber::{write_constructed, Reader};

use super::{Ctx, MessageType};
use crate::component::ComponentPortion;
use crate::dialogue_portion::DialoguePortion;
use crate::error::TransactionError;
use crate::tid::TransactionId;

/// A Begin message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Begin<'a> {
    /// `otid`: the initiator's transaction id.
    pub otid: TransactionId,
    /// `dialoguePortion` (an AARQ in a structured dialogue).
    pub dialogue: Option<DialoguePortion<'a>>,
    /// `components`.
    pub components: Option<ComponentPortion<'a>>,
}

impl<'a> Begin<'a> {
    /// ```asn1
    /// Begin ::= SEQUENCE {
    ///   otid            OrigTransactionID,
    ///   dialoguePortion DialoguePortion OPTIONAL,
    ///   components      ComponentPortion OPTIONAL }
    /// ```
    pub(crate) fn decode(r: &mut Reader<'a>, ctx: &Ctx) -> Result<Begin<'a>, TransactionError> {
        let otid = ctx.tid(r, TransactionId::OTID_TAG, "otid")?;
        let (dialogue, components) = ctx.portions(r)?;
        Ok(Begin {
            otid,
            dialogue,
            components,
        })
    }

    /// Write the message.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, MessageType::Begin.tag(), |b| {
            self.otid.write(b, TransactionId::OTID_TAG);
            if let Some(d) = &self.dialogue {
                d.encode(b);
            }
            if let Some(c) = &self.components {
                c.write(b);
            }
        });
    }
}
