//! Unitdata (UDT), ITU-T Q.713 §4.10.
//!
//! ```text
//! message type 0x09          F 1
//! protocol class (§3.6)      F 1
//! called party address (§3.4)  V 3 min
//! calling party address (§3.5) V 2 min
//! data (§3.16)               V 2-X
//! ```

use bytes::{BufMut, BytesMut};

use crate::address::{reply_addresses, SccpAddress};
use crate::error::{DecodeError, EncodeError};
use crate::layout::{decode_body, encode_body, fixed};
use crate::{MessageType, ProtocolClass};

/// A UDT message; `data` (the TCAP message) borrows from the decoded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udt<'a> {
    /// Protocol class and return option.
    pub protocol_class: ProtocolClass,
    /// Called party address.
    pub called: SccpAddress,
    /// Calling party address.
    pub calling: SccpAddress,
    /// User data.
    pub data: &'a [u8],
}

impl<'a> Udt<'a> {
    /// Decodes a whole UDT message (starting with its message type octet). Never allocates.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let [_, class] = fixed::<2>(msg, MessageType::UDT)?;
        let protocol_class = ProtocolClass::from_octet(class)?;
        let body = decode_body(msg, 2, false)?;
        Ok(Udt {
            protocol_class,
            called: body.called,
            calling: body.calling,
            data: body.data,
        })
    }

    /// Appends the encoded message to `buf`; nothing is written on error.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        buf.put_u8(MessageType::UDT.0);
        buf.put_u8(self.protocol_class.to_octet());
        encode_body(buf, &self.called, &self.calling, self.data, None)
            .inspect_err(|_| buf.truncate(start))
    }

    /// A UDT answering this one with `data`: addresses swapped, same protocol class.
    pub fn reply<'b>(&self, data: &'b [u8]) -> Udt<'b> {
        let (called, calling) = reply_addresses(&self.called, &self.calling);
        Udt {
            protocol_class: self.protocol_class,
            called,
            calling,
            data,
        }
    }
}
