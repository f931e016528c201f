//! Abort and the P-Abort cause (Q.773 §3.1, Table 5, and §3.1.2 for the causes).

use bytes::BytesMut;
use strowger_ber::{decode_i64, write_constructed, write_integer, Reader, Tag};

use super::{Ctx, MessageType};
use crate::dialogue_portion::{DialoguePortion, DIALOGUE_PORTION_TAG};
use crate::error::TransactionError;
use crate::tid::TransactionId;

code_point! {
    /// ```asn1
    /// P-AbortCause ::= [APPLICATION 10] IMPLICIT INTEGER {
    ///   unrecognizedMessageType(0), unrecognizedTransactionID(1),
    ///   badlyFormattedTransactionPortion(2), incorrectTransactionPortion(3),
    ///   resourceLimitation(4) } (0..127)
    /// ```
    PAbortCause(u8) {
        /// The message type tag is not one of TCAP's.
        UNRECOGNIZED_MESSAGE_TYPE = 0 => "unrecognizedMessageType",
        /// The destination transaction id names no transaction.
        UNRECOGNIZED_TRANSACTION_ID = 1 => "unrecognizedTransactionID",
        /// The transaction portion is not well-formed.
        BADLY_FORMATTED_TRANSACTION_PORTION = 2 => "badlyFormattedTransactionPortion",
        /// The transaction portion has wrong elements for the message type.
        INCORRECT_TRANSACTION_PORTION = 3 => "incorrectTransactionPortion",
        /// The receiver cannot take a new transaction.
        RESOURCE_LIMITATION = 4 => "resourceLimitation",
    }
}

/// The tag of the P-Abort cause.
pub(crate) const P_ABORT_CAUSE_TAG: Tag = Tag::app(10);

/// The `reason` CHOICE of an Abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbortCause<'a> {
    /// `p-abortCause`: the TC provider aborted.
    PAbort(PAbortCause),
    /// `u-abortCause`: the TC-user aborted (an ABRT or a refusing AARE, or user data).
    UAbort(DialoguePortion<'a>),
}

/// An Abort message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abort<'a> {
    /// `dtid`: the receiver's transaction id.
    pub dtid: TransactionId,
    /// `reason`; absent for a TC-U-ABORT of a dialogue without dialogue portion.
    pub reason: Option<AbortCause<'a>>,
}

impl<'a> Abort<'a> {
    /// ```asn1
    /// Abort ::= SEQUENCE {
    ///   dtid   DestTransactionID,
    ///   reason CHOICE { p-abortCause P-AbortCause,
    ///                   u-abortCause DialoguePortion } OPTIONAL }
    /// ```
    pub(crate) fn decode(r: &mut Reader<'a>, ctx: &Ctx) -> Result<Abort<'a>, TransactionError> {
        let dtid = ctx.tid(r, TransactionId::DTID_TAG, "dtid")?;
        let reason = match r.next_tlv().map_err(|e| ctx.ber(e, "reason"))? {
            None => None,
            Some(t) if t.tag == P_ABORT_CAUSE_TAG => {
                let v = decode_i64(t.value).map_err(|e| ctx.ber(e, "p-abortCause"))?;
                let v = u8::try_from(v).map_err(|_| {
                    ctx.fail(
                        PAbortCause::INCORRECT_TRANSACTION_PORTION,
                        "p-abortCause out of range",
                    )
                })?;
                Some(AbortCause::PAbort(PAbortCause(v)))
            }
            Some(t) if t.tag == DIALOGUE_PORTION_TAG => {
                Some(AbortCause::UAbort(ctx.dialogue(t.value)?))
            }
            Some(_) => {
                return Err(ctx.fail(PAbortCause::INCORRECT_TRANSACTION_PORTION, "abort reason"))
            }
        };
        ctx.finish(r)?;
        Ok(Abort { dtid, reason })
    }

    /// Write the message.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, MessageType::Abort.tag(), |b| {
            self.dtid.write(b, TransactionId::DTID_TAG);
            match &self.reason {
                None => {}
                Some(AbortCause::PAbort(c)) => write_integer(b, P_ABORT_CAUSE_TAG, i64::from(c.0)),
                Some(AbortCause::UAbort(d)) => d.encode(b),
            }
        });
    }

    /// A P-Abort with `cause` addressed to `dtid` (the peer's otid).
    pub fn p_abort(dtid: TransactionId, cause: PAbortCause) -> Abort<'static> {
        Abort {
            dtid,
            reason: Some(AbortCause::PAbort(cause)),
        }
    }
}
