//! Unitdata service (UDTS), ITU-T Q.713 §4.11.
//!
//! ```text
//! message type 0x0a          F 1
//! return cause (§3.12)       F 1
//! called party address (§3.4)  V 3 min
//! calling party address (§3.5) V 2 min
//! data (§3.16)               V 2-X
//! ```

use bytes::{BufMut, BytesMut};

use crate::address::SccpAddress;
use crate::error::{DecodeError, EncodeError};
use crate::layout::{decode_body, encode_body, fixed};
use crate::{MessageType, ReturnCause};

/// A UDTS message; `data` borrows from the decoded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udts<'a> {
    /// Why the returned message was not delivered.
    pub return_cause: ReturnCause,
    /// Called party address (the originator of the returned message).
    pub called: SccpAddress,
    /// Calling party address.
    pub calling: SccpAddress,
    /// The user data of the returned message.
    pub data: &'a [u8],
}

impl<'a> Udts<'a> {
    /// Decodes a whole UDTS message (starting with its message type octet).
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let [_, cause] = fixed::<2>(msg, MessageType::UDTS)?;
        let body = decode_body(msg, 2, false)?;
        Ok(Udts {
            return_cause: ReturnCause(cause),
            called: body.called,
            calling: body.calling,
            data: body.data,
        })
    }

    /// Appends the encoded message to `buf`; nothing is written on error.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        buf.put_u8(MessageType::UDTS.0);
        buf.put_u8(self.return_cause.0);
        encode_body(buf, &self.called, &self.calling, self.data, None)
            .inspect_err(|_| buf.truncate(start))
    }
}
