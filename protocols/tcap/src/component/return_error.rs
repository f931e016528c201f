//! ReturnError (Q.773 §3.2, Table 16).

use bytes::BytesMut;
use strowger_ber::{write_constructed, write_integer, Reader, Tag, Tlv};

use super::{
    read_invoke_id, write_param, write_param_tlv, Code, ComponentError, GeneralProblem, InvokeId,
};

/// The tag of a ReturnError component.
pub(crate) const RETURN_ERROR_TAG: Tag = Tag::ctx_cons(3);

/// A ReturnError component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReturnError<'a> {
    /// `invokeID`.
    pub invoke_id: InvokeId,
    /// `errorCode`.
    pub error_code: Code,
    /// `parameter`, as the complete TLV found.
    pub parameter: Option<Tlv<'a>>,
}

impl<'a> ReturnError<'a> {
    /// ```asn1
    /// ReturnError ::= SEQUENCE {
    ///   invokeID  InvokeIdType,
    ///   errorCode ERROR,
    ///   parameter ANY DEFINED BY errorCode OPTIONAL }
    /// ```
    pub(crate) fn decode(body: &'a [u8]) -> Result<ReturnError<'a>, ComponentError> {
        let mut r = Reader::new(body);
        let invoke_id = read_invoke_id(&mut r)?;
        let id = Some(invoke_id);
        let bad = |what| ComponentError::new(id, GeneralProblem::MISTYPED_COMPONENT, what);
        let code = r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(id, e, "errorCode"))?
            .ok_or(bad("missing errorCode"))?;
        let error_code = Code::from_tlv(&code).ok_or(bad("errorCode"))?;
        let parameter = r
            .next_tlv()
            .map_err(|e| ComponentError::from_ber(id, e, "parameter"))?;
        if !r.is_empty() {
            return Err(bad("element after parameter"));
        }
        Ok(ReturnError {
            invoke_id,
            error_code,
            parameter,
        })
    }

    /// Write the component.
    pub fn encode(&self, buf: &mut BytesMut) {
        write_constructed(buf, RETURN_ERROR_TAG, |b| {
            write_integer(b, Tag::INTEGER, i64::from(self.invoke_id));
            self.error_code.write(b);
            write_param_tlv(b, &self.parameter);
        });
    }
}

/// Write a ReturnError whose parameter is a complete encoded TLV.
pub fn write_return_error(
    buf: &mut BytesMut,
    invoke_id: InvokeId,
    error_code: &Code,
    parameter: Option<&[u8]>,
) {
    write_constructed(buf, RETURN_ERROR_TAG, |b| {
        write_integer(b, Tag::INTEGER, i64::from(invoke_id));
        error_code.write(b);
        write_param(b, parameter);
    });
}
