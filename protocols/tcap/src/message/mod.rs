//! TCAP messages (Q.773 §3.1, Tables 1–5, and the `TCAPMessages` module of §4).
//!
//! ```asn1
//! TCMessage ::= CHOICE {
//!   unidirectional [APPLICATION 1] IMPLICIT Unidirectional,
//!   begin          [APPLICATION 2] IMPLICIT Begin,
//!   end            [APPLICATION 4] IMPLICIT End,
//!   continue       [APPLICATION 5] IMPLICIT Continue,
//!   abort          [APPLICATION 7] IMPLICIT Abort,
//!   ... }
//! ```
//!
//! Decoding maps each failure to the P-Abort cause of Q.774 §3.1.3: an unknown message tag
//! is `unrecognizedMessageType`; input that is not well-formed BER is
//! `badlyFormattedTransactionPortion`; well-formed elements that are wrong for the message
//! type (missing or extra transaction ids, ids of the wrong size, unknown elements) are
//! `incorrectTransactionPortion`. `unrecognizedTransactionID` belongs to the dialogue layer
//! ([`unknown_transaction_abort`]).

mod abort;
mod begin;
mod continue_msg;
mod end;
mod unidirectional;

pub use abort::{Abort, AbortCause, PAbortCause};
pub use begin::Begin;
pub use continue_msg::Continue;
pub use end::End;
pub use unidirectional::Unidirectional;

use bytes::BytesMut;
use strowger_ber::{parse_tlv, BerError, Class, Reader, Tag};

use crate::component::{ComponentPortion, COMPONENT_PORTION_TAG};
use crate::dialogue_portion::{DialoguePortion, DIALOGUE_PORTION_TAG};
use crate::error::{TransactionError, TransactionProblem};
use crate::tid::TransactionId;

/// The message types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `[APPLICATION 1]`.
    Unidirectional,
    /// `[APPLICATION 2]`.
    Begin,
    /// `[APPLICATION 4]`.
    End,
    /// `[APPLICATION 5]`.
    Continue,
    /// `[APPLICATION 7]`.
    Abort,
}

impl MessageType {
    /// The message type of a tag, if it is one.
    pub fn from_tag(tag: Tag) -> Option<MessageType> {
        if tag.class != Class::Application || !tag.constructed {
            return None;
        }
        Some(match tag.number {
            1 => MessageType::Unidirectional,
            2 => MessageType::Begin,
            4 => MessageType::End,
            5 => MessageType::Continue,
            7 => MessageType::Abort,
            _ => return None,
        })
    }

    /// The message's tag.
    pub fn tag(self) -> Tag {
        Tag::app_cons(match self {
            MessageType::Unidirectional => 1,
            MessageType::Begin => 2,
            MessageType::End => 4,
            MessageType::Continue => 5,
            MessageType::Abort => 7,
        })
    }
}

/// A decoded TCAP message, borrowing from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// Unidirectional.
    Unidirectional(Unidirectional<'a>),
    /// Begin.
    Begin(Begin<'a>),
    /// End.
    End(End<'a>),
    /// Continue.
    Continue(Continue<'a>),
    /// Abort.
    Abort(Abort<'a>),
}

impl<'a> Message<'a> {
    /// Decode one message occupying all of `input`. Never panics, never allocates.
    pub fn decode(input: &'a [u8]) -> Result<Message<'a>, TransactionError> {
        let mut ctx = Ctx {
            ty: None,
            otid: None,
            dtid: None,
        };
        let (trailing, tlv) = match parse_tlv(input) {
            Ok(ok) => ok,
            Err(_) => {
                // Even a truncated message may show its otid (Q.774: answer when derivable).
                if let Some((ty, body)) = peek_header(input) {
                    ctx.ty = ty;
                    ctx.scan_tids(body);
                }
                return Err(ctx.fail(
                    PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION,
                    "message TLV",
                ));
            }
        };
        ctx.ty = MessageType::from_tag(tlv.tag);
        // The transaction ids are only needed for an error: scan for them when one occurs.
        let with_tids = |mut e: TransactionError| {
            if tlv.tag.constructed {
                let mut c = Ctx {
                    ty: None,
                    otid: None,
                    dtid: None,
                };
                c.scan_tids(tlv.value);
                e.otid = c.otid;
                e.dtid = c.dtid;
            }
            e
        };
        let Some(ty) = ctx.ty else {
            return Err(with_tids(
                ctx.fail(PAbortCause::UNRECOGNIZED_MESSAGE_TYPE, "message type"),
            ));
        };
        if !trailing.is_empty() {
            return Err(with_tids(ctx.fail(
                PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION,
                "bytes after the message",
            )));
        }
        let mut r = Reader::new(tlv.value);
        let decoded = match ty {
            MessageType::Unidirectional => {
                Unidirectional::decode(&mut r, &ctx).map(Message::Unidirectional)
            }
            MessageType::Begin => Begin::decode(&mut r, &ctx).map(Message::Begin),
            MessageType::End => End::decode(&mut r, &ctx).map(Message::End),
            MessageType::Continue => Continue::decode(&mut r, &ctx).map(Message::Continue),
            MessageType::Abort => Abort::decode(&mut r, &ctx).map(Message::Abort),
        };
        decoded.map_err(with_tids)
    }

    /// Write the message with definite lengths.
    pub fn encode(&self, buf: &mut BytesMut) {
        match self {
            Message::Unidirectional(m) => m.encode(buf),
            Message::Begin(m) => m.encode(buf),
            Message::End(m) => m.encode(buf),
            Message::Continue(m) => m.encode(buf),
            Message::Abort(m) => m.encode(buf),
        }
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Unidirectional(_) => MessageType::Unidirectional,
            Message::Begin(_) => MessageType::Begin,
            Message::End(_) => MessageType::End,
            Message::Continue(_) => MessageType::Continue,
            Message::Abort(_) => MessageType::Abort,
        }
    }

    /// The originating transaction id (Begin, Continue).
    pub fn otid(&self) -> Option<TransactionId> {
        match self {
            Message::Begin(m) => Some(m.otid),
            Message::Continue(m) => Some(m.otid),
            _ => None,
        }
    }

    /// The destination transaction id (Continue, End, Abort): the key to the local dialogue.
    pub fn dtid(&self) -> Option<TransactionId> {
        match self {
            Message::Continue(m) => Some(m.dtid),
            Message::End(m) => Some(m.dtid),
            Message::Abort(m) => Some(m.dtid),
            _ => None,
        }
    }

    /// The dialogue portion, if any (for an Abort, a u-abortCause).
    pub fn dialogue_portion(&self) -> Option<&DialoguePortion<'a>> {
        match self {
            Message::Unidirectional(m) => m.dialogue.as_ref(),
            Message::Begin(m) => m.dialogue.as_ref(),
            Message::End(m) => m.dialogue.as_ref(),
            Message::Continue(m) => m.dialogue.as_ref(),
            Message::Abort(m) => match &m.reason {
                Some(AbortCause::UAbort(d)) => Some(d),
                _ => None,
            },
        }
    }

    /// The component portion, if any.
    pub fn components(&self) -> Option<ComponentPortion<'a>> {
        match self {
            Message::Unidirectional(m) => Some(m.components),
            Message::Begin(m) => m.components,
            Message::End(m) => m.components,
            Message::Continue(m) => m.components,
            Message::Abort(_) => None,
        }
    }
}

/// The P-Abort owed to the sender of a message addressed to a transaction id we do not
/// know (Q.774 §3.1.3: `unrecognizedTransactionID`). Only a Continue can be answered (it
/// carries the peer's otid); an unknown End or Abort is discarded. The engine calls this
/// when its transaction table has no entry for `msg.dtid()`.
pub fn unknown_transaction_abort(msg: &Message<'_>) -> Option<Abort<'static>> {
    match msg {
        Message::Continue(c) => Some(Abort {
            dtid: c.otid,
            reason: Some(AbortCause::PAbort(PAbortCause::UNRECOGNIZED_TRANSACTION_ID)),
        }),
        _ => None,
    }
}

/// The message type and body of a truncated message, for deriving its otid.
fn peek_header(input: &[u8]) -> Option<(Option<MessageType>, &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first & 0x1f == 0x1f {
        return None;
    }
    let tag = Tag {
        class: if first >> 6 == 1 {
            Class::Application
        } else {
            return Some((None, &[]));
        },
        constructed: first & 0x20 != 0,
        number: u32::from(first & 0x1f),
    };
    let (&len0, rest) = rest.split_first()?;
    let skip = match len0 {
        0x00..=0x80 => 0,
        0x81..=0x84 => usize::from(len0 & 0x7f),
        _ => return None,
    };
    Some((MessageType::from_tag(tag), rest.get(skip..)?))
}

/// What is known about the message being decoded, for the error it may turn into.
pub(crate) struct Ctx {
    ty: Option<MessageType>,
    otid: Option<TransactionId>,
    dtid: Option<TransactionId>,
}

impl Ctx {
    /// Leniently scan the top-level elements for the transaction ids.
    fn scan_tids(&mut self, mut body: &[u8]) {
        while let Ok((rest, t)) = parse_tlv(body) {
            body = rest;
            if t.tag == TransactionId::OTID_TAG && self.otid.is_none() {
                self.otid = TransactionId::new(t.value);
            } else if t.tag == TransactionId::DTID_TAG && self.dtid.is_none() {
                self.dtid = TransactionId::new(t.value);
            }
        }
    }

    pub(crate) fn fail(&self, cause: PAbortCause, reason: &'static str) -> TransactionError {
        TransactionError {
            message_type: self.ty,
            otid: self.otid,
            dtid: self.dtid,
            problem: TransactionProblem::PAbort(cause),
            reason,
        }
    }

    /// A BER failure: not well-formed is badly formatted; well-formed but wrong elements are
    /// an incorrect transaction portion.
    pub(crate) fn ber(&self, e: BerError, reason: &'static str) -> TransactionError {
        let cause = match e {
            BerError::UnexpectedTag { .. }
            | BerError::Missing(_)
            | BerError::Invalid(_)
            | BerError::Trailing(_) => PAbortCause::INCORRECT_TRANSACTION_PORTION,
            _ => PAbortCause::BADLY_FORMATTED_TRANSACTION_PORTION,
        };
        self.fail(cause, reason)
    }

    /// Read a mandatory transaction id.
    pub(crate) fn tid(
        &self,
        r: &mut Reader<'_>,
        tag: Tag,
        what: &'static str,
    ) -> Result<TransactionId, TransactionError> {
        let t = r
            .next_tlv()
            .map_err(|e| self.ber(e, what))?
            .ok_or(self.fail(PAbortCause::INCORRECT_TRANSACTION_PORTION, what))?;
        if t.tag != tag {
            return Err(self.fail(PAbortCause::INCORRECT_TRANSACTION_PORTION, what));
        }
        TransactionId::new(t.value)
            .ok_or(self.fail(PAbortCause::INCORRECT_TRANSACTION_PORTION, what))
    }

    /// Read the optional dialogue portion and component portion and check nothing follows.
    pub(crate) fn portions<'a>(
        &self,
        r: &mut Reader<'a>,
    ) -> Result<(Option<DialoguePortion<'a>>, Option<ComponentPortion<'a>>), TransactionError> {
        let dialogue = match r
            .optional(DIALOGUE_PORTION_TAG)
            .map_err(|e| self.ber(e, "dialogue portion"))?
        {
            Some(t) => Some(self.dialogue(t.value)?),
            None => None,
        };
        let components = r
            .optional(COMPONENT_PORTION_TAG)
            .map_err(|e| self.ber(e, "component portion"))?
            .map(|t| ComponentPortion::new(t.value));
        self.finish(r)?;
        Ok((dialogue, components))
    }

    pub(crate) fn dialogue<'a>(
        &self,
        contents: &'a [u8],
    ) -> Result<DialoguePortion<'a>, TransactionError> {
        DialoguePortion::decode(contents).map_err(|_| TransactionError {
            message_type: self.ty,
            otid: self.otid,
            dtid: self.dtid,
            problem: TransactionProblem::DialoguePortion,
            reason: "dialogue portion",
        })
    }

    /// Anything left over is an element the message type does not have.
    pub(crate) fn finish(&self, r: &mut Reader<'_>) -> Result<(), TransactionError> {
        if r.is_empty() {
            return Ok(());
        }
        r.skip_rest().map_err(|e| self.ber(e, "message body"))?;
        Err(self.fail(
            PAbortCause::INCORRECT_TRANSACTION_PORTION,
            "unexpected element",
        ))
    }
}
