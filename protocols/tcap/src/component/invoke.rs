//! Invoke (Q.773 §3.2, Table 14).

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_integer, Reader, Tag, Tlv};

use super::{
    invoke_id_of, read_invoke_id, write_param, write_param_tlv, Code, ComponentError,
    GeneralProblem, InvokeId,
};

/// An Invoke component; the argument stays a borrowed TLV for the application layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invoke<'a> {
    /// `invokeID`.
    pub invoke_id: InvokeId,
    /// `linkedID [0]`.
    pub linked_id: Option<InvokeId>,
    /// `opCode`.
    pub opcode: Code,
    /// `parameter`, as the complete TLV found.
    pub parameter: Option<Tlv<'a>>,
}

/// The tag of an Invoke component.
pub(crate) const INVOKE_TAG: Tag = Tag::ctx_cons(1);

impl<'a> Invoke<'a> {
    /// ```asn1
    /// Invoke ::= SEQUENCE {
    ///   invokeID  InvokeIdType,
    ///   linkedID  [0] IMPLICIT InvokeIdType OPTIONAL,
    ///   opCode    OPERATION,
    ///   parameter ANY DEFINED BY opCode OPTIONAL }
    /// ```
    pub(crate) fn decode(body: &'a [u8]) -> Result<Invoke<'a>, ComponentError> {
        let mut r = Reader::new(body);
        let invoke_id = read_invoke_id(&mut r)?;
        let id = Some(invoke_id);
        let linked_id = match r
            .optional(Tag::ctx(0))
            .map_err(|e| ComponentError::from_ber(id, e, "linkedID"))?
        {
            Some(t) => {
                let as_int = Tlv {
                    tag: Tag::INTEGER,
                    ..t
                };
                Some(invoke_id_of(&as_int).ok_or(ComponentError::new(
                    id,
                    GeneralProblem::MISTYPED_COMPONENT,
                    "linkedID",
                ))?)
            }
            None => None,
        };
        let op = r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(id, e, "opCode"))?
            .ok_or(ComponentError::new(
                id,
                GeneralProblem::MISTYPED_COMPONENT,
                "missing opCode",
            ))?;
        let opcode = Code::from_tlv(&op).ok_or(ComponentError::new(
            id,
            GeneralProblem::MISTYPED_COMPONENT,
            "opCode",
        ))?;
        let parameter = r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(id, e, "parameter"))?;
        if !r.is_empty() {
            r.skip_rest()
                .map_err(|e| ComponentError::from_ber(id, e, "Invoke"))?;
            return Err(ComponentError::new(
                id,
                GeneralProblem::MISTYPED_COMPONENT,
                "element after parameter",
            ));
        }
        Ok(Invoke {
            invoke_id,
            linked_id,
            opcode,
            parameter,
        })
    }

    /// Write the component.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, INVOKE_TAG, |b| {
            write_head(b, self.invoke_id, self.linked_id, &self.opcode);
            write_param_tlv(b, &self.parameter);
        });
    }
}

fn write_head(b: &mut BytesMut, id: InvokeId, linked: Option<InvokeId>, op: &Code) {
    write_integer(b, Tag::INTEGER, i64::from(id));
    if let Some(l) = linked {
        write_integer(b, Tag::ctx(0), i64::from(l));
    }
    op.write(b);
}

/// Write an Invoke whose parameter is a complete encoded TLV (as a CAP encoder produced it).
pub fn write_invoke(
    buf: &mut BytesMut,
    invoke_id: InvokeId,
    linked_id: Option<InvokeId>,
    opcode: &Code,
    parameter: Option<&[u8]>,
) {
    write_constructed(buf, INVOKE_TAG, |b| {
        write_head(b, invoke_id, linked_id, opcode);
        write_param(b, parameter);
    });
}
