//! Extended unitdata service (XUDTS), ITU-T Q.713 §4.19.
//!
//! ```text
//! message type 0x12          F 1
//! return cause (§3.12)       F 1
//! hop counter (§3.18)        F 1
//! called party address (§3.4)  V 3 min
//! calling party address (§3.5) V 2 min
//! data (§3.16)               V 2-X
//! segmentation (§3.17)       O 6
//! importance (§3.19)         O 3
//! end of optional parameters (§3.1) O 1
//! ```

use bytes::{BufMut, BytesMut};

use crate::address::SccpAddress;
use crate::error::{DecodeError, EncodeError};
use crate::layout::{decode_body, encode_body, fixed, Optionals};
use crate::{Importance, MessageType, ReturnCause, Segmentation};

/// An XUDTS message; `data` borrows from the decoded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xudts<'a> {
    /// Why the returned message was not delivered.
    pub return_cause: ReturnCause,
    /// Hop counter.
    pub hop_counter: u8,
    /// Called party address (the originator of the returned message).
    pub called: SccpAddress,
    /// Calling party address.
    pub calling: SccpAddress,
    /// The user data of the returned message.
    pub data: &'a [u8],
    /// Segmentation of the returned message, if it was segmented.
    pub segmentation: Option<Segmentation>,
    /// Importance.
    pub importance: Option<Importance>,
}

impl<'a> Xudts<'a> {
    /// Decodes a whole XUDTS message (starting with its message type octet).
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let [_, cause, hop_counter] = fixed::<3>(msg, MessageType::XUDTS)?;
        let body = decode_body(msg, 3, true)?;
        Ok(Xudts {
            return_cause: ReturnCause(cause),
            hop_counter,
            called: body.called,
            calling: body.calling,
            data: body.data,
            segmentation: body.optionals.segmentation,
            importance: body.optionals.importance,
        })
    }

    /// Appends the encoded message to `buf`; nothing is written on error.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        buf.put_u8(MessageType::XUDTS.0);
        buf.put_u8(self.return_cause.0);
        buf.put_u8(self.hop_counter);
        let o = Optionals {
            segmentation: self.segmentation,
            importance: self.importance,
        };
        encode_body(buf, &self.called, &self.calling, self.data, Some(&o))
            .inspect_err(|_| buf.truncate(start))
    }
}
