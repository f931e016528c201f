//! ABRT, the dialogue abort (Q.773 §4.2.2 Table 9, Annex A `DialoguePDUs`).

use bytes::BytesMut;
use strowger_ber::{
    decode_i64, write_constructed, write_integer, BerError, BerResult, Reader, Tag,
};

use super::{apdu_tag, read_user_info, write_user_info};

code_point! {
    /// `ABRT-source`.
    AbortSource(u8) {
        /// The TC-user aborted (TC-U-ABORT).
        DIALOGUE_SERVICE_USER = 0 => "dialogue-service-user",
        /// The TC provider aborted (a dialogue portion problem).
        DIALOGUE_SERVICE_PROVIDER = 1 => "dialogue-service-provider",
    }
}

/// ABRT-apdu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abrt<'a> {
    /// `abort-source`.
    pub abort_source: AbortSource,
    /// `user-information`: the contents of `[30]`.
    pub user_information: Option<&'a [u8]>,
}

impl<'a> Abrt<'a> {
    /// ```asn1
    /// ABRT-apdu ::= [APPLICATION 4] IMPLICIT SEQUENCE {
    ///   abort-source     [0] IMPLICIT ABRT-source,
    ///   user-information [30] IMPLICIT SEQUENCE OF EXTERNAL OPTIONAL }
    /// ABRT-source ::= INTEGER {dialogue-service-user(0), dialogue-service-provider(1)}
    /// ```
    pub(crate) fn decode(contents: &'a [u8]) -> BerResult<Abrt<'a>> {
        let mut r = Reader::new(contents);
        let src = r.expect(Tag::ctx(0), "abort-source")?;
        let abort_source = AbortSource(
            u8::try_from(decode_i64(src.value)?).map_err(|_| BerError::Invalid("abort-source"))?,
        );
        let user_information = read_user_info(&mut r)?;
        r.finish("ABRT-apdu")?;
        Ok(Abrt {
            abort_source,
            user_information,
        })
    }

    /// Write `[APPLICATION 4] { ... }`.
    pub fn encode(&self, b: &mut BytesMut) {
        write_constructed(b, apdu_tag(4), |b| {
            write_integer(b, Tag::ctx(0), i64::from(self.abort_source.0));
            write_user_info(b, self.user_information);
        });
    }
}
