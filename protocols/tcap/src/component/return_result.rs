//! ReturnResult, last and not-last (Q.773 §3.2, Table 15).

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_integer, Reader, Tag, Tlv};

use super::{
    read_invoke_id, write_param, write_param_tlv, Code, ComponentError, GeneralProblem, InvokeId,
};

/// A ReturnResult component (`returnResultLast [2]` or `returnResultNotLast [7]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReturnResult<'a> {
    /// `invokeID`.
    pub invoke_id: InvokeId,
    /// The optional `result` SEQUENCE: the operation code and the result parameter.
    pub result: Option<ResultPart<'a>>,
}

/// The `result` SEQUENCE of a ReturnResult.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultPart<'a> {
    /// `opCode`.
    pub opcode: Code,
    /// `parameter` (mandatory in Q.773, tolerated absent on decoding).
    pub parameter: Option<Tlv<'a>>,
}

impl<'a> ReturnResult<'a> {
    /// ```asn1
    /// ReturnResult ::= SEQUENCE {
    ///   invokeID  InvokeIdType,
    ///   result    SEQUENCE {
    ///     opCode    OPERATION,
    ///     parameter ANY DEFINED BY opCode } OPTIONAL }
    /// ```
    pub(crate) fn decode(body: &'a [u8]) -> Result<ReturnResult<'a>, ComponentError> {
        let mut r = Reader::new(body);
        let invoke_id = read_invoke_id(&mut r)?;
        let id = Some(invoke_id);
        let bad = |what| ComponentError::new(id, GeneralProblem::MISTYPED_COMPONENT, what);
        let result = match r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(id, e, "result"))?
        {
            None => None,
            Some(seq) => {
                if seq.tag != Tag::SEQUENCE {
                    return Err(bad("result is not a SEQUENCE"));
                }
                let mut s = r
                    .nested(seq)
                    .map_err(|e| ComponentError::from_ber(id, e, "result"))?;
                let op = s
                    .next_tlv()
                    .map_err(|e| ComponentError::from_ber(id, e, "opCode"))?
                    .ok_or(bad("missing opCode"))?;
                let opcode = Code::from_tlv(&op).ok_or(bad("opCode"))?;
                let parameter = s
                    .next_tlv()
                    .map_err(|e| ComponentError::from_ber(id, e, "parameter"))?;
                if !s.is_empty() {
                    return Err(bad("element after result parameter"));
                }
                Some(ResultPart { opcode, parameter })
            }
        };
        if !r.is_empty() {
            return Err(bad("element after result"));
        }
        Ok(ReturnResult { invoke_id, result })
    }

    /// Write the component as returnResultLast (`last`) or returnResultNotLast.
    pub fn encode(&self, buf: &mut BytesMut, last: bool) {
        write_constructed(buf, tag(last), |b| {
            write_integer(b, Tag::INTEGER, i64::from(self.invoke_id));
            if let Some(res) = &self.result {
                write_constructed(b, Tag::SEQUENCE, |b| {
                    res.opcode.write(b);
                    write_param_tlv(b, &res.parameter);
                });
            }
        });
    }
}

fn tag(last: bool) -> Tag {
    Tag::ctx_cons(if last { 2 } else { 7 })
}

/// Write a ReturnResult; `result` is the operation code and the encoded result TLV.
pub fn write_return_result(
    buf: &mut BytesMut,
    invoke_id: InvokeId,
    result: Option<(&Code, Option<&[u8]>)>,
    last: bool,
) {
    write_constructed(buf, tag(last), |b| {
        write_integer(b, Tag::INTEGER, i64::from(invoke_id));
        if let Some((op, param)) = result {
            write_constructed(b, Tag::SEQUENCE, |b| {
                op.write(b);
                write_param(b, param);
            });
        }
    });
}
