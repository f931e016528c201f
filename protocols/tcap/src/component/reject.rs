//! Reject (Q.773 §3.2, Table 17).

use bytes::BytesMut;
use strowger_ber::{decode_null, write_constructed, write_integer, write_null, Reader, Tag};

use super::{invoke_id_of, ComponentError, GeneralProblem, InvokeId, Problem};

/// The tag of a Reject component.
pub(crate) const REJECT_TAG: Tag = Tag::ctx_cons(4);

/// A Reject component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reject {
    /// `derivable` invoke id, or `None` for `not-derivable NULL`.
    pub invoke_id: Option<InvokeId>,
    /// The problem.
    pub problem: Problem,
}

impl Reject {
    /// ```asn1
    /// Reject ::= SEQUENCE {
    ///   invokeID CHOICE { derivable InvokeIdType, not-derivable NULL },
    ///   problem  CHOICE { generalProblem [0] IMPLICIT GeneralProblem,
    ///                     invokeProblem [1] IMPLICIT InvokeProblem,
    ///                     returnResultProblem [2] IMPLICIT ReturnResultProblem,
    ///                     returnErrorProblem [3] IMPLICIT ReturnErrorProblem } }
    /// ```
    pub(crate) fn decode(body: &[u8]) -> Result<Reject, ComponentError> {
        let mut r = Reader::new(body);
        let bad = |id, what| ComponentError::new(id, GeneralProblem::MISTYPED_COMPONENT, what);
        let first = r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(None, e, "invokeID"))?
            .ok_or(bad(None, "missing invokeID"))?;
        let invoke_id = if first.tag == Tag::NULL {
            decode_null(first.value).map_err(|e| ComponentError::from_ber(None, e, "NULL"))?;
            None
        } else {
            Some(invoke_id_of(&first).ok_or(bad(None, "invokeID"))?)
        };
        let p = r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(invoke_id, e, "problem"))?
            .ok_or(bad(invoke_id, "missing problem"))?;
        let problem = Problem::from_tlv(&p).ok_or(bad(invoke_id, "problem"))?;
        if !r.is_empty() {
            return Err(bad(invoke_id, "element after problem"));
        }
        Ok(Reject { invoke_id, problem })
    }

    /// Write the component.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_reject(buf, self.invoke_id, self.problem);
    }
}

/// Write a Reject.
pub fn write_reject(buf: &mut BytesMut, invoke_id: Option<InvokeId>, problem: Problem) {
    write_constructed(buf, REJECT_TAG, |b| {
        match invoke_id {
            Some(id) => write_integer(b, Tag::INTEGER, i64::from(id)),
            None => write_null(b, Tag::NULL),
        }
        problem.write(b);
    });
}
