//! Any connectionless SCCP message (ITU-T Q.713 §4.10, §4.11, §4.18, §4.19), and the
//! message-returning procedure of ITU-T Q.714 §4.2.

use bytes::BytesMut;

use crate::address::SccpAddress;
use crate::error::{DecodeError, EncodeError};
use crate::{
    Importance, MessageType, ProtocolClass, ReturnCause, Segmentation, Udt, Udts, Xudt, Xudts,
    HOP_COUNTER_MAX,
};

/// A decoded connectionless SCCP message; user data borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// Unitdata.
    Udt(Udt<'a>),
    /// Unitdata service.
    Udts(Udts<'a>),
    /// Extended unitdata.
    Xudt(Xudt<'a>),
    /// Extended unitdata service.
    Xudts(Xudts<'a>),
}

/// Decodes one SCCP message (e.g. the user protocol data of an M3UA DATA message with SI = 3).
///
/// Other SCCP message types give [`DecodeError::UnsupportedMessageType`]. Never panics, never
/// allocates.
pub fn decode(msg: &[u8]) -> Result<Message<'_>, DecodeError> {
    let t = MessageType(*msg.first().ok_or(DecodeError::Empty)?);
    match t {
        MessageType::UDT => Udt::decode(msg).map(Message::Udt),
        MessageType::UDTS => Udts::decode(msg).map(Message::Udts),
        MessageType::XUDT => Xudt::decode(msg).map(Message::Xudt),
        MessageType::XUDTS => Xudts::decode(msg).map(Message::Xudts),
        other => Err(DecodeError::UnsupportedMessageType(other)),
    }
}

impl<'a> Message<'a> {
    /// Decodes one message; same as [`decode`].
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        decode(msg)
    }

    /// Appends the encoded message to `buf`; nothing is written on error.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Message::Udt(m) => m.encode(buf),
            Message::Udts(m) => m.encode(buf),
            Message::Xudt(m) => m.encode(buf),
            Message::Xudts(m) => m.encode(buf),
        }
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Udt(_) => MessageType::UDT,
            Message::Udts(_) => MessageType::UDTS,
            Message::Xudt(_) => MessageType::XUDT,
            Message::Xudts(_) => MessageType::XUDTS,
        }
    }

    /// Called party address.
    pub fn called(&self) -> &SccpAddress {
        match self {
            Message::Udt(m) => &m.called,
            Message::Udts(m) => &m.called,
            Message::Xudt(m) => &m.called,
            Message::Xudts(m) => &m.called,
        }
    }

    /// Calling party address.
    pub fn calling(&self) -> &SccpAddress {
        match self {
            Message::Udt(m) => &m.calling,
            Message::Udts(m) => &m.calling,
            Message::Xudt(m) => &m.calling,
            Message::Xudts(m) => &m.calling,
        }
    }

    /// User data (TCAP), borrowed from the decoded input.
    pub fn data(&self) -> &'a [u8] {
        match self {
            Message::Udt(m) => m.data,
            Message::Udts(m) => m.data,
            Message::Xudt(m) => m.data,
            Message::Xudts(m) => m.data,
        }
    }

    /// Protocol class, for UDT and XUDT.
    pub fn protocol_class(&self) -> Option<ProtocolClass> {
        match self {
            Message::Udt(m) => Some(m.protocol_class),
            Message::Xudt(m) => Some(m.protocol_class),
            _ => None,
        }
    }

    /// Return cause, for UDTS and XUDTS.
    pub fn return_cause(&self) -> Option<ReturnCause> {
        match self {
            Message::Udts(m) => Some(m.return_cause),
            Message::Xudts(m) => Some(m.return_cause),
            _ => None,
        }
    }

    /// True for a UDT/XUDT whose sender asked for it to be returned if it cannot be delivered.
    pub fn return_on_error(&self) -> bool {
        self.protocol_class().is_some_and(|c| c.return_on_error)
    }

    /// A message answering this one with `data`: UDT for UDT, XUDT for XUDT, addresses swapped
    /// (see [`Udt::reply`], [`Xudt::reply`]). `None` for the service messages, which are never
    /// answered.
    pub fn reply<'b>(&self, data: &'b [u8]) -> Option<Message<'b>> {
        match self {
            Message::Udt(m) => Some(Message::Udt(m.reply(data))),
            Message::Xudt(m) => Some(Message::Xudt(m.reply(data))),
            Message::Udts(_) | Message::Xudts(_) => None,
        }
    }

    /// The service message owed to the originator when this message cannot be delivered
    /// (Q.714 §4.2): UDTS for a UDT, XUDTS for an XUDT, carrying `cause` and the original user
    /// data, addressed back to the original calling party (addresses swapped). The XUDTS gets a
    /// fresh hop counter and keeps the segmentation and importance of the XUDT.
    ///
    /// `None` when the return option is not set, and for UDTS/XUDTS (a service message is never
    /// returned).
    pub fn service_message(&self, cause: ReturnCause) -> Option<Message<'a>> {
        match self {
            Message::Udt(m) if m.protocol_class.return_on_error => Some(Message::Udts(Udts {
                return_cause: cause,
                called: m.calling,
                calling: m.called,
                data: m.data,
            })),
            Message::Xudt(m) if m.protocol_class.return_on_error => Some(Message::Xudts(Xudts {
                return_cause: cause,
                hop_counter: HOP_COUNTER_MAX,
                called: m.calling,
                calling: m.called,
                data: m.data,
                segmentation: m.segmentation,
                importance: m.importance,
            })),
            _ => None,
        }
    }

    /// Segmentation, for XUDT and XUDTS.
    pub fn segmentation(&self) -> Option<Segmentation> {
        match self {
            Message::Xudt(m) => m.segmentation,
            Message::Xudts(m) => m.segmentation,
            _ => None,
        }
    }

    /// Importance, for XUDT and XUDTS.
    pub fn importance(&self) -> Option<Importance> {
        match self {
            Message::Xudt(m) => m.importance,
            Message::Xudts(m) => m.importance,
            _ => None,
        }
    }
}

impl<'a> From<Udt<'a>> for Message<'a> {
    fn from(m: Udt<'a>) -> Self {
        Message::Udt(m)
    }
}

impl<'a> From<Udts<'a>> for Message<'a> {
    fn from(m: Udts<'a>) -> Self {
        Message::Udts(m)
    }
}

impl<'a> From<Xudt<'a>> for Message<'a> {
    fn from(m: Xudt<'a>) -> Self {
        Message::Xudt(m)
    }
}

impl<'a> From<Xudts<'a>> for Message<'a> {
    fn from(m: Xudts<'a>) -> Self {
        Message::Xudts(m)
    }
}
