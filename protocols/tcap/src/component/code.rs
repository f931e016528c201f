//! Operation and error codes (Q.773 §3.2 / X.880 `Code`).
//!
//! ```asn1
//! OPERATION ::= CHOICE { localValue INTEGER, globalValue OBJECT IDENTIFIER }
//! ERROR     ::= CHOICE { localValue INTEGER, globalValue OBJECT IDENTIFIER }
//! ```

use bytes::BytesMut;
use strowger_ber::{decode_i64, write_integer, Tag, Tlv};

use crate::oid::ObjectId;

/// An operation code or error code: local INTEGER or global OBJECT IDENTIFIER. CAP and INAP
/// use local values; their meaning belongs to the application context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// `localValue INTEGER`.
    Local(i64),
    /// `globalValue OBJECT IDENTIFIER`.
    Global(ObjectId),
}

impl Code {
    /// Decode from the TLV found where a code belongs; `None` if it is neither a valid
    /// INTEGER nor a valid OBJECT IDENTIFIER.
    pub fn from_tlv(tlv: &Tlv<'_>) -> Option<Code> {
        if tlv.tag == Tag::INTEGER {
            decode_i64(tlv.value).ok().map(Code::Local)
        } else if tlv.tag == Tag::OID {
            ObjectId::from_encoded(tlv.value).map(Code::Global)
        } else {
            None
        }
    }

    /// Write as INTEGER or OBJECT IDENTIFIER.
    pub fn write(&self, buf: &mut BytesMut) {
        match self {
            Code::Local(v) => write_integer(buf, Tag::INTEGER, *v),
            Code::Global(oid) => oid.write(buf),
        }
    }

    /// The local value, if this is one.
    pub fn local(&self) -> Option<i64> {
        match self {
            Code::Local(v) => Some(*v),
            Code::Global(_) => None,
        }
    }
}

impl From<i64> for Code {
    fn from(v: i64) -> Self {
        Code::Local(v)
    }
}
