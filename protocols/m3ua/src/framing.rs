//! Message delimitation on a byte stream (M3UA over TCP).
//!
//! Over SCTP each M3UA message is one SCTP user message. Over TCP the stream must be cut by the
//! Message Length field of the common header (RFC 4666 §3.1.5), which counts the header itself.
//! A length below 8 or above the configured maximum cannot be resynchronised: the stream is
//! unusable and the caller should send ERR (Protocol Error) and close the connection.

use bytes::{Bytes, BytesMut};

use crate::error_code::ErrorCode;
use crate::header::HEADER_LEN;

/// Default largest accepted message: a full 64 KiB user part plus room for the other parameters.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 65_536 + 1_024;

/// The stream cannot be framed any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length field is below the 8-octet header.
    #[error("message length {0} is below the 8-octet header")]
    TooShort(u32),
    /// The length field exceeds the configured maximum.
    #[error("message length {length} exceeds the maximum {max}")]
    TooLong {
        /// The announced length.
        length: u32,
        /// The configured maximum.
        max: usize,
    },
}

impl FrameError {
    /// The ERR code to send before closing the connection.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::PROTOCOL_ERROR
    }
}

/// Splits complete M3UA messages off the front of a receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framer {
    max_len: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(DEFAULT_MAX_MESSAGE_LEN)
    }
}

impl Framer {
    /// A framer that refuses messages longer than `max_len` octets (at least 8 is enforced).
    pub fn new(max_len: usize) -> Self {
        Framer {
            max_len: max_len.max(HEADER_LEN),
        }
    }

    /// The largest message accepted.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Looks at the buffer's first header: `Ok(Some(len))` when a message of `len` octets is
    /// announced (complete or not), `Ok(None)` when fewer than 8 octets are buffered.
    pub fn peek_len(&self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let Some(len_bytes) = buf.get(4..8) else {
            return Ok(None);
        };
        let length = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let len = usize::try_from(length).unwrap_or(usize::MAX);
        if len < HEADER_LEN {
            return Err(FrameError::TooShort(length));
        }
        if len > self.max_len {
            return Err(FrameError::TooLong {
                length,
                max: self.max_len,
            });
        }
        Ok(Some(len))
    }

    /// Splits off the next complete message, or returns `Ok(None)` when more octets are needed.
    /// The returned `Bytes` shares the buffer's allocation (no copy). On error the buffer is left
    /// untouched.
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        match self.peek_len(buf)? {
            Some(len) if buf.len() >= len => Ok(Some(buf.split_to(len).freeze())),
            Some(len) => {
                // Let the next read land in one allocation.
                buf.reserve(len - buf.len());
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // BEAT with no parameters: 01 00 03 03 00000008 (hand-computed, RFC 4666 §3.1, §3.5.5).
    const BEAT: [u8; 8] = [1, 0, 3, 3, 0, 0, 0, 8];

    #[test]
    fn splits_complete_messages_and_keeps_partial() {
        let f = Framer::default();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&BEAT);
        buf.extend_from_slice(&BEAT);
        buf.extend_from_slice(&BEAT[..5]);
        assert_eq!(f.next_frame(&mut buf).unwrap().unwrap(), &BEAT[..]);
        assert_eq!(f.next_frame(&mut buf).unwrap().unwrap(), &BEAT[..]);
        assert_eq!(f.next_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(&BEAT[5..]);
        assert_eq!(f.next_frame(&mut buf).unwrap().unwrap(), &BEAT[..]);
        assert!(buf.is_empty());
        assert_eq!(f.next_frame(&mut buf).unwrap(), None);
    }

    #[test]
    fn rejects_short_and_long_lengths() {
        let f = Framer::new(100);
        let mut buf = BytesMut::from(&[1u8, 0, 3, 3, 0, 0, 0, 7][..]);
        assert_eq!(f.next_frame(&mut buf), Err(FrameError::TooShort(7)));
        assert_eq!(buf.len(), 8);
        let mut buf = BytesMut::from(&[1u8, 0, 3, 3, 0, 0, 0, 101][..]);
        assert_eq!(
            f.next_frame(&mut buf),
            Err(FrameError::TooLong {
                length: 101,
                max: 100
            })
        );
        let mut buf = BytesMut::from(&[1u8, 0, 3, 3, 0xff, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            f.next_frame(&mut buf),
            Err(FrameError::TooLong { .. })
        ));
        assert_eq!(
            FrameError::TooShort(0).error_code(),
            ErrorCode::PROTOCOL_ERROR
        );
    }
}
