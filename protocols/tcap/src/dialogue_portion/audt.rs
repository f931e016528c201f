//! AUDT, the unidirectional dialogue APDU (Q.773 §4.2.2 Table 10, Annex A `UnidialoguePDUs`).

use bytes::BytesMut;
use strowger_ber::{write_constructed, BerResult, Reader};

use super::{
    apdu_tag, read_ac_name, read_protocol_version, read_user_info, write_ac_name,
    write_protocol_version, write_user_info, ProtocolVersion,
};
use crate::oid::ObjectId;

/// AUDT-apdu: the application context of a Unidirectional.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audt<'a> {
    /// `protocol-version`; `None` when absent (the default, version1).
    pub protocol_version: Option<ProtocolVersion>,
    /// `application-context-name`.
    pub application_context: ObjectId,
    /// `user-information`: the contents of `[30]` (concatenated EXTERNALs).
    pub user_information: Option<&'a [u8]>,
}

impl<'a> Audt<'a> {
    /// ```asn1
    /// AUDT-apdu ::= [APPLICATION 0] IMPLICIT SEQUENCE {
    ///   protocol-version [0] IMPLICIT BIT STRING {version1(0)} DEFAULT {version1},
    ///   application-context-name [1] OBJECT IDENTIFIER,
    ///   user-information [30] IMPLICIT SEQUENCE OF EXTERNAL OPTIONAL }
    /// ```
    pub(crate) fn decode(contents: &'a [u8]) -> BerResult<Audt<'a>> {
        let mut r = Reader::new(contents);
        let protocol_version = read_protocol_version(&mut r)?;
        let application_context = read_ac_name(&mut r)?;
        let user_information = read_user_info(&mut r)?;
        r.finish("AUDT-apdu")?;
        Ok(Audt {
            protocol_version,
            application_context,
            user_information,
        })
    }

    /// A version1 AUDT naming `ac`.
    pub fn new(ac: ObjectId) -> Audt<'static> {
        Audt {
            protocol_version: Some(ProtocolVersion::VERSION1),
            application_context: ac,
            user_information: None,
        }
    }

    /// Write `[APPLICATION 0] { ... }`.
    pub fn encode(&self, b: &mut BytesMut) {
        write_constructed(b, apdu_tag(0), |b| {
            write_protocol_version(b, self.protocol_version);
            write_ac_name(b, &self.application_context);
            write_user_info(b, self.user_information);
        });
    }
}
