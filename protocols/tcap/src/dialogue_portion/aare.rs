//! AARE, the dialogue response (Q.773 §4.2.2 Table 8, Annex A `DialoguePDUs`).

use bytes::BytesMut;
use strowger_ber::{write_constructed, BerError, BerResult, Reader, Tag};

use super::{
    apdu_tag, read_ac_name, read_explicit_u8, read_protocol_version, read_user_info, write_ac_name,
    write_explicit_u8, write_protocol_version, write_user_info, ProtocolVersion,
};
use crate::oid::ObjectId;

code_point! {
    /// `Associate-result`.
    AssociateResult(u8) {
        /// The dialogue is accepted.
        ACCEPTED = 0 => "accepted",
        /// The dialogue is refused.
        REJECT_PERMANENT = 1 => "reject-permanent",
    }
}

code_point! {
    /// The `dialogue-service-user` diagnostic.
    UserDiagnostic(u8) {
        /// No diagnostic.
        NULL = 0 => "null",
        /// Refused without a reason.
        NO_REASON_GIVEN = 1 => "no-reason-given",
        /// The proposed application context is not supported.
        APPLICATION_CONTEXT_NAME_NOT_SUPPORTED = 2 => "application-context-name-not-supported",
    }
}

code_point! {
    /// The `dialogue-service-provider` diagnostic.
    ProviderDiagnostic(u8) {
        /// No diagnostic.
        NULL = 0 => "null",
        /// Refused without a reason.
        NO_REASON_GIVEN = 1 => "no-reason-given",
        /// No protocol version in common.
        NO_COMMON_DIALOGUE_PORTION = 2 => "no-common-dialogue-portion",
    }
}

/// `Associate-source-diagnostic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssociateSourceDiagnostic {
    /// `dialogue-service-user [1] INTEGER`.
    User(UserDiagnostic),
    /// `dialogue-service-provider [2] INTEGER`.
    Provider(ProviderDiagnostic),
}

/// AARE-apdu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aare<'a> {
    /// `protocol-version`; `None` when absent (the default, version1).
    pub protocol_version: Option<ProtocolVersion>,
    /// `application-context-name`: the accepted context, or on refusal one the responder
    /// supports.
    pub application_context: ObjectId,
    /// `result`.
    pub result: AssociateResult,
    /// `result-source-diagnostic`.
    pub diagnostic: AssociateSourceDiagnostic,
    /// `user-information`: the contents of `[30]`.
    pub user_information: Option<&'a [u8]>,
}

impl<'a> Aare<'a> {
    /// ```asn1
    /// AARE-apdu ::= [APPLICATION 1] IMPLICIT SEQUENCE {
    ///   protocol-version [0] IMPLICIT BIT STRING {version1(0)} DEFAULT {version1},
    ///   application-context-name [1] OBJECT IDENTIFIER,
    ///   result                   [2] Associate-result,
    ///   result-source-diagnostic [3] Associate-source-diagnostic,
    ///   user-information [30] IMPLICIT SEQUENCE OF EXTERNAL OPTIONAL }
    /// Associate-result ::= INTEGER {accepted(0), reject-permanent(1)}
    /// Associate-source-diagnostic ::= CHOICE {
    ///   dialogue-service-user [1] INTEGER {null(0), no-reason-given(1),
    ///     application-context-name-not-supported(2)},
    ///   dialogue-service-provider [2] INTEGER {null(0), no-reason-given(1),
    ///     no-common-dialogue-portion(2)} }
    /// ```
    pub(crate) fn decode(contents: &'a [u8]) -> BerResult<Aare<'a>> {
        let mut r = Reader::new(contents);
        let protocol_version = read_protocol_version(&mut r)?;
        let application_context = read_ac_name(&mut r)?;
        let res = r.expect(Tag::ctx_cons(2), "result")?;
        let result = AssociateResult(read_explicit_u8(&mut r, res, "result")?);
        let diag = r.expect(Tag::ctx_cons(3), "result-source-diagnostic")?;
        let mut d = r.nested(diag)?;
        let choice = d
            .next_tlv()?
            .ok_or(BerError::Missing("result-source-diagnostic"))?;
        let v = read_explicit_u8(&mut d, choice, "result-source-diagnostic")?;
        let diagnostic = if choice.tag == Tag::ctx_cons(1) {
            AssociateSourceDiagnostic::User(UserDiagnostic(v))
        } else if choice.tag == Tag::ctx_cons(2) {
            AssociateSourceDiagnostic::Provider(ProviderDiagnostic(v))
        } else {
            return Err(BerError::Invalid("result-source-diagnostic"));
        };
        d.finish("result-source-diagnostic")?;
        let user_information = read_user_info(&mut r)?;
        r.finish("AARE-apdu")?;
        Ok(Aare {
            protocol_version,
            application_context,
            result,
            diagnostic,
            user_information,
        })
    }

    /// An AARE accepting `ac` (diagnostic dialogue-service-user null).
    pub fn accepted(ac: ObjectId) -> Aare<'static> {
        Aare {
            protocol_version: Some(ProtocolVersion::VERSION1),
            application_context: ac,
            result: AssociateResult::ACCEPTED,
            diagnostic: AssociateSourceDiagnostic::User(UserDiagnostic::NULL),
            user_information: None,
        }
    }

    /// An AARE refusing the dialogue (result reject-permanent) with `diagnostic`, naming
    /// `ac`.
    pub fn rejected(ac: ObjectId, diagnostic: AssociateSourceDiagnostic) -> Aare<'static> {
        Aare {
            protocol_version: Some(ProtocolVersion::VERSION1),
            application_context: ac,
            result: AssociateResult::REJECT_PERMANENT,
            diagnostic,
            user_information: None,
        }
    }

    /// Write `[APPLICATION 1] { ... }`.
    pub fn encode(&self, b: &mut BytesMut) {
        write_constructed(b, apdu_tag(1), |b| {
            write_protocol_version(b, self.protocol_version);
            write_ac_name(b, &self.application_context);
            write_explicit_u8(b, Tag::ctx_cons(2), self.result.0);
            write_constructed(b, Tag::ctx_cons(3), |b| match self.diagnostic {
                AssociateSourceDiagnostic::User(d) => write_explicit_u8(b, Tag::ctx_cons(1), d.0),
                AssociateSourceDiagnostic::Provider(d) => {
                    write_explicit_u8(b, Tag::ctx_cons(2), d.0)
                }
            });
            write_user_info(b, self.user_information);
        });
    }
}
