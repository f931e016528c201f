//! BER (ITU-T X.690) primitives for the Strowger protocol stack.
//!
//! Decoding is zero-copy over the input with nom: a [`Tlv`] borrows its value from the
//! buffer. Tags in short and long form (X.690 §8.1.2), definite lengths in short and long
//! form and the indefinite form for constructed values (§8.1.3), a nesting-depth limit for
//! the indefinite form (the only place decoding recurses), and helpers for constructed
//! OCTET STRINGs (§8.7.3) and for skipping unknown extension fields after `...`.
//!
//! Encoding writes into [`bytes::BytesMut`]; constructed values are written in place and
//! their length is fixed up afterwards, so no intermediate buffers are needed.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod encode;
mod error;
mod primitive;
mod reader;
mod tag;
mod tlv;

#[doc(hidden)]
pub mod fuzzing;

pub use encode::{
    write_bool, write_constructed, write_enumerated, write_integer, write_length, write_null,
    write_octets, write_tag, write_tlv, write_unsigned,
};
pub use error::{BerError, BerResult};
pub use primitive::{
    decode_bool, decode_i64, decode_null, decode_u32, decode_u64, octet_string_parts,
    octet_string_to,
};
pub use reader::Reader;
pub use tag::{Class, Tag};
pub use tlv::{parse_tlv, parse_tlv_depth, Tlv, MAX_DEPTH};
