//! Extended unitdata (XUDT), ITU-T Q.713 §4.18.
//!
//! ```text
//! message type 0x11          F 1
//! protocol class (§3.6)      F 1
//! hop counter (§3.18)        F 1
//! called party address (§3.4)  V 3 min
//! calling party address (§3.5) V 2 min
//! data (§3.16)               V 2-X
//! segmentation (§3.17)       O 6
//! importance (§3.19)         O 3
//! end of optional parameters (§3.1) O 1
//! ```

use bytes::{BufMut, BytesMut};

use crate::address::{reply_addresses, SccpAddress};
use crate::error::{DecodeError, EncodeError};
use crate::layout::{decode_body, encode_body, fixed, Optionals};
use crate::{Importance, MessageType, ProtocolClass, Segmentation, HOP_COUNTER_MAX};

/// An XUDT message; `data` borrows from the decoded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xudt<'a> {
    /// Protocol class and return option.
    pub protocol_class: ProtocolClass,
    /// Hop counter (Q.713 §3.18: 15 at origin, decremented at each GT translation). Decoded as
    /// received, whatever its value; checking it (0 → hop counter violation) is the caller's job.
    pub hop_counter: u8,
    /// Called party address.
    pub called: SccpAddress,
    /// Calling party address.
    pub calling: SccpAddress,
    /// User data (one segment, if segmented).
    pub data: &'a [u8],
    /// Segmentation, present in segmented messages.
    pub segmentation: Option<Segmentation>,
    /// Importance.
    pub importance: Option<Importance>,
}

impl<'a> Xudt<'a> {
    /// Decodes a whole XUDT message (starting with its message type octet). Never allocates.
    pub fn decode(msg: &'a [u8]) -> Result<Self, DecodeError> {
        let [_, class, hop_counter] = fixed::<3>(msg, MessageType::XUDT)?;
        let protocol_class = ProtocolClass::from_octet(class)?;
        let body = decode_body(msg, 3, true)?;
        Ok(Xudt {
            protocol_class,
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
        buf.put_u8(MessageType::XUDT.0);
        buf.put_u8(self.protocol_class.to_octet());
        buf.put_u8(self.hop_counter);
        let o = Optionals {
            segmentation: self.segmentation,
            importance: self.importance,
        };
        encode_body(buf, &self.called, &self.calling, self.data, Some(&o))
            .inspect_err(|_| buf.truncate(start))
    }

    /// An XUDT answering this one with `data`: addresses swapped, same protocol class, a fresh
    /// hop counter, no segmentation, same importance.
    pub fn reply<'b>(&self, data: &'b [u8]) -> Xudt<'b> {
        let (called, calling) = reply_addresses(&self.called, &self.calling);
        Xudt {
            protocol_class: self.protocol_class,
            hop_counter: HOP_COUNTER_MAX,
            called,
            calling,
            data,
            segmentation: None,
            importance: self.importance,
        }
    }
}
