//! The dialogue portion (Q.773 §3.1, §4.2.2, Table 6; Annex A modules `DialoguePDUs` and
//! `UnidialoguePDUs`).
//!
//! ```asn1
//! DialoguePortion ::= [APPLICATION 11] EXTERNAL
//!
//! EXTERNAL ::= [UNIVERSAL 8] IMPLICIT SEQUENCE {
//!   direct-reference      OBJECT IDENTIFIER OPTIONAL,
//!   indirect-reference    INTEGER OPTIONAL,
//!   data-value-descriptor ObjectDescriptor OPTIONAL,
//!   encoding CHOICE {
//!     single-ASN1-type [0] ABSTRACT-SYNTAX.&Type,
//!     octet-aligned    [1] IMPLICIT OCTET STRING,
//!     arbitrary        [2] IMPLICIT BIT STRING } }
//!
//! dialogue-as-id    OBJECT IDENTIFIER ::= {itu-t recommendation q 773 as(1) dialogue-as(1) version1(1)}
//! uniDialogue-as-id OBJECT IDENTIFIER ::= {itu-t recommendation q 773 as(1) unidialogue-as(2) version1(1)}
//!
//! DialoguePDU ::= CHOICE {
//!   dialogueRequest  AARQ-apdu,
//!   dialogueResponse AARE-apdu,
//!   dialogueAbort    ABRT-apdu }
//!
//! UniDialoguePDU ::= CHOICE { unidialoguePDU AUDT-apdu }
//! ```
//!
//! The modules use explicit tagging, so `[APPLICATION 11]` wraps a complete EXTERNAL and
//! `[0]` wraps the complete dialogue APDU.

mod aare;
mod aarq;
mod abrt;
mod audt;

pub use aare::{
    Aare, AssociateResult, AssociateSourceDiagnostic, ProviderDiagnostic, UserDiagnostic,
};
pub use aarq::Aarq;
pub use abrt::{AbortSource, Abrt};
pub use audt::Audt;

use bytes::BytesMut;
use strowger_ber::{
    parse_tlv, write_constructed, write_tlv, BerError, BerResult, Class, Reader, Tag, Tlv,
};

use crate::oid::ObjectId;

/// The tag of the dialogue portion.
pub const DIALOGUE_PORTION_TAG: Tag = Tag::app_cons(11);

/// A decoded dialogue portion: the dialogue APDU it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialoguePortion<'a> {
    /// AARQ under `dialogue-as-id` (in a Begin).
    Aarq(Aarq<'a>),
    /// AARE under `dialogue-as-id` (in the first backward Continue or End, or an Abort).
    Aare(Aare<'a>),
    /// ABRT under `dialogue-as-id` (in an Abort).
    Abrt(Abrt<'a>),
    /// AUDT under `uniDialogue-as-id` (in a Unidirectional).
    Audt(Audt<'a>),
    /// Any other abstract syntax (user abort information of an application without a
    /// structured dialogue): the direct reference and the complete encoding TLV.
    Other {
        /// `direct-reference`.
        direct_reference: ObjectId,
        /// The `encoding` CHOICE as found (tag and contents).
        encoding: Tlv<'a>,
    },
}

/// An APPLICATION-tagged dialogue APDU tag.
pub(crate) const fn apdu_tag(n: u32) -> Tag {
    Tag::app_cons(n)
}

impl<'a> DialoguePortion<'a> {
    /// Decode from the contents of `[APPLICATION 11]`.
    pub fn decode(contents: &'a [u8]) -> BerResult<DialoguePortion<'a>> {
        let mut outer = Reader::new(contents);
        let ext = outer.expect(Tag::EXTERNAL, "EXTERNAL")?;
        outer.finish("dialogue portion")?;
        let mut r = outer.nested(ext)?;
        let oid = r.expect(Tag::OID, "direct-reference")?;
        let direct_reference =
            ObjectId::from_encoded(oid.value).ok_or(BerError::Invalid("direct-reference"))?;
        // indirect-reference and data-value-descriptor carry nothing for TCAP.
        // (Read once and dispatched on, rather than re-parsed by three `optional` calls.)
        let mut next = r.next_tlv()?;
        for skip in [
            Tag::INTEGER,
            Tag::universal(7),
            Tag::universal(7).as_constructed(),
        ] {
            if next.is_some_and(|t| t.tag == skip) {
                next = r.next_tlv()?;
            }
        }
        let encoding = next.ok_or(BerError::Missing("encoding"))?;
        r.finish("EXTERNAL")?;
        if encoding.tag.class != Class::Context {
            return Err(BerError::Invalid("EXTERNAL encoding"));
        }
        let is_dialogue = direct_reference == ObjectId::DIALOGUE_AS_ID;
        let is_uni = direct_reference == ObjectId::UNIDIALOGUE_AS_ID;
        if !is_dialogue && !is_uni {
            return Ok(DialoguePortion::Other {
                direct_reference,
                encoding,
            });
        }
        // single-ASN1-type [0] (constructed, explicit) or octet-aligned [1] holding the APDU.
        let apdu_bytes = match (encoding.tag.number, encoding.tag.constructed) {
            (0, true) | (1, false) => encoding.value,
            _ => return Err(BerError::Invalid("EXTERNAL encoding for a dialogue APDU")),
        };
        let (rest, apdu) = parse_tlv(apdu_bytes)?;
        if !rest.is_empty() {
            return Err(BerError::Trailing("dialogue APDU"));
        }
        if apdu.tag.class != Class::Application || !apdu.tag.constructed {
            return Err(BerError::Invalid("dialogue APDU tag"));
        }
        match (is_uni, apdu.tag.number) {
            (false, 0) => Aarq::decode(apdu.value).map(DialoguePortion::Aarq),
            (false, 1) => Aare::decode(apdu.value).map(DialoguePortion::Aare),
            (false, 4) => Abrt::decode(apdu.value).map(DialoguePortion::Abrt),
            (true, 0) => Audt::decode(apdu.value).map(DialoguePortion::Audt),
            _ => Err(BerError::Invalid("unknown dialogue APDU")),
        }
    }

    /// Write `[APPLICATION 11] EXTERNAL { ... }` with definite lengths.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, DIALOGUE_PORTION_TAG, |b| {
            write_constructed(b, Tag::EXTERNAL, |b| match self {
                DialoguePortion::Other {
                    direct_reference,
                    encoding,
                } => {
                    direct_reference.write(b);
                    write_tlv(b, encoding.tag, encoding.value);
                }
                _ => {
                    let as_id = if matches!(self, DialoguePortion::Audt(_)) {
                        ObjectId::UNIDIALOGUE_AS_ID
                    } else {
                        ObjectId::DIALOGUE_AS_ID
                    };
                    as_id.write(b);
                    write_constructed(b, Tag::ctx_cons(0), |b| match self {
                        DialoguePortion::Aarq(p) => p.encode(b),
                        DialoguePortion::Aare(p) => p.encode(b),
                        DialoguePortion::Abrt(p) => p.encode(b),
                        DialoguePortion::Audt(p) => p.encode(b),
                        DialoguePortion::Other { .. } => {}
                    });
                }
            });
        });
    }

    /// The application-context name the APDU carries, if any.
    pub fn application_context(&self) -> Option<ObjectId> {
        match self {
            DialoguePortion::Aarq(p) => Some(p.application_context),
            DialoguePortion::Aare(p) => Some(p.application_context),
            DialoguePortion::Audt(p) => Some(p.application_context),
            _ => None,
        }
    }
}

/// `protocol-version [0] IMPLICIT BIT STRING {version1(0)} DEFAULT {version1}`: the first
/// octet of named bits (0x80 is version1). `None` when absent (meaning version1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolVersion(pub u8);

impl ProtocolVersion {
    /// `{version1}`, encoded `80 02 07 80`.
    pub const VERSION1: ProtocolVersion = ProtocolVersion(0x80);

    /// True if version1 is among the versions offered.
    pub fn supports_version1(self) -> bool {
        self.0 & 0x80 != 0
    }
}

pub(crate) fn read_protocol_version(r: &mut Reader<'_>) -> BerResult<Option<ProtocolVersion>> {
    match r.optional(Tag::ctx(0))? {
        None => Ok(None),
        Some(t) => match t.value {
            [0] => Ok(Some(ProtocolVersion(0))),
            [unused, bits, ..] if *unused <= 7 => Ok(Some(ProtocolVersion(*bits))),
            _ => Err(BerError::Invalid("protocol-version")),
        },
    }
}

pub(crate) fn write_protocol_version(b: &mut BytesMut, v: Option<ProtocolVersion>) {
    if let Some(ProtocolVersion(bits)) = v {
        if bits == 0 {
            write_tlv(b, Tag::ctx(0), &[0]);
        } else {
            write_tlv(b, Tag::ctx(0), &[bits.trailing_zeros() as u8, bits]);
        }
    }
}

/// `application-context-name [1] OBJECT IDENTIFIER` (explicit).
pub(crate) fn read_ac_name(r: &mut Reader<'_>) -> BerResult<ObjectId> {
    let wrapper = r.expect(Tag::ctx_cons(1), "application-context-name")?;
    let mut inner = r.nested(wrapper)?;
    let oid = inner.expect(Tag::OID, "application-context-name")?;
    inner.finish("application-context-name")?;
    ObjectId::from_encoded(oid.value).ok_or(BerError::Invalid("application-context-name"))
}

pub(crate) fn write_ac_name(b: &mut BytesMut, ac: &ObjectId) {
    write_constructed(b, Tag::ctx_cons(1), |b| ac.write(b));
}

/// `user-information [30] IMPLICIT SEQUENCE OF EXTERNAL OPTIONAL`: kept as the contents
/// (the concatenated EXTERNALs), checked to be EXTERNALs.
pub(crate) fn read_user_info<'a>(r: &mut Reader<'a>) -> BerResult<Option<&'a [u8]>> {
    match r.optional(Tag::ctx_cons(30))? {
        None => Ok(None),
        Some(t) => {
            let mut seq = r.nested(t)?;
            while let Some(e) = seq.next_tlv()? {
                e.expect(Tag::EXTERNAL)?;
            }
            Ok(Some(t.value))
        }
    }
}

pub(crate) fn write_user_info(b: &mut BytesMut, ui: Option<&[u8]>) {
    if let Some(ui) = ui {
        write_tlv(b, Tag::ctx_cons(30), ui);
    }
}

/// An explicitly tagged INTEGER `[n] INTEGER` read as a small code point.
pub(crate) fn read_explicit_u8(
    r: &mut Reader<'_>,
    tlv: Tlv<'_>,
    what: &'static str,
) -> BerResult<u8> {
    let mut inner = r.nested(tlv)?;
    let v = inner.expect(Tag::INTEGER, what)?;
    inner.finish(what)?;
    u8::try_from(strowger_ber::decode_i64(v.value)?).map_err(|_| BerError::Invalid(what))
}

pub(crate) fn write_explicit_u8(b: &mut BytesMut, tag: Tag, v: u8) {
    write_constructed(b, tag, |b| {
        strowger_ber::write_integer(b, Tag::INTEGER, i64::from(v))
    });
}
