//! Unidirectional (Q.773 §3.1, Table 1).

use bytes::BytesMut;
use strowger_ber::{write_constructed, Reader};

use super::{Ctx, MessageType, PAbortCause};
use crate::component::ComponentPortion;
use crate::dialogue_portion::DialoguePortion;
use crate::error::TransactionError;

/// A Unidirectional message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unidirectional<'a> {
    /// `dialoguePortion` (an AUDT).
    pub dialogue: Option<DialoguePortion<'a>>,
    /// `components` (mandatory).
    pub components: ComponentPortion<'a>,
}

impl<'a> Unidirectional<'a> {
    /// ```asn1
    /// Unidirectional ::= SEQUENCE {
    ///   dialoguePortion DialoguePortion OPTIONAL,
    ///   components      ComponentPortion }
    /// ```
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        ctx: &Ctx,
    ) -> Result<Unidirectional<'a>, TransactionError> {
        let (dialogue, components) = ctx.portions(r)?;
        let components = components.ok_or(ctx.fail(
            PAbortCause::INCORRECT_TRANSACTION_PORTION,
            "missing component portion",
        ))?;
        Ok(Unidirectional {
            dialogue,
            components,
        })
    }

    /// Write the message.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, MessageType::Unidirectional.tag(), |b| {
            if let Some(d) = &self.dialogue {
                d.encode(b);
            }
            self.components.write(b);
        });
    }
}
