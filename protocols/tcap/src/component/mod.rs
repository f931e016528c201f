//! The component portion and its components (Q.773 §3.2, Tables 13–17; Q.774 §3.2 for the
//! Reject owed on a malformed component).
//!
//! ```asn1
//! ComponentPortion ::= [APPLICATION 12] IMPLICIT SEQUENCE SIZE (1..MAX) OF Component
//!
//! Component ::= CHOICE {
//!   invoke              [1] IMPLICIT Invoke,
//!   returnResultLast    [2] IMPLICIT ReturnResult,
//!   returnError         [3] IMPLICIT ReturnError,
//!   reject              [4] IMPLICIT Reject,
//!   returnResultNotLast [7] IMPLICIT ReturnResult }
//!
//! InvokeIdType ::= INTEGER (-128..127)
//! ```
//!
//! Components are decoded lazily by [`ComponentPortion::iter`]; each one that cannot be
//! decoded yields a [`ComponentError`] carrying the Reject the peer is owed. A component that
//! is not even well-formed BER ends the iteration, since the rest cannot be delimited.

mod code;
mod invoke;
mod problem;
mod reject;
mod return_error;
mod return_result;

pub use code::Code;
pub use invoke::{write_invoke, Invoke};
pub use problem::{
    GeneralProblem, InvokeProblem, Problem, ReturnErrorProblem, ReturnResultProblem,
};
pub use reject::{write_reject, Reject};
pub use return_error::{write_return_error, ReturnError};
pub use return_result::{write_return_result, ResultPart, ReturnResult};

use bytes::BytesMut;
use strowger_ber::{
    decode_i64, parse_tlv, write_constructed, write_tlv, BerError, Class, Tag, Tlv,
};

/// An invoke id (`InvokeIdType ::= INTEGER (-128..127)`).
pub type InvokeId = i8;

/// The tag of the component portion.
pub const COMPONENT_PORTION_TAG: Tag = Tag::app_cons(12);

/// One component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component<'a> {
    /// `invoke [1]`.
    Invoke(Invoke<'a>),
    /// `returnResultLast [2]`.
    ReturnResultLast(ReturnResult<'a>),
    /// `returnError [3]`.
    ReturnError(ReturnError<'a>),
    /// `reject [4]`.
    Reject(Reject),
    /// `returnResultNotLast [7]`.
    ReturnResultNotLast(ReturnResult<'a>),
}

impl<'a> Component<'a> {
    /// Decode one component from its complete TLV.
    pub fn decode(tlv: Tlv<'a>) -> Result<Component<'a>, ComponentError> {
        if tlv.tag.class != Class::Context || !tlv.tag.constructed {
            return Err(ComponentError::new(
                derive_invoke_id(tlv.value),
                GeneralProblem::UNRECOGNIZED_COMPONENT,
                "component tag",
            ));
        }
        match tlv.tag.number {
            1 => Invoke::decode(tlv.value).map(Component::Invoke),
            2 => ReturnResult::decode(tlv.value).map(Component::ReturnResultLast),
            3 => ReturnError::decode(tlv.value).map(Component::ReturnError),
            4 => Reject::decode(tlv.value)
                .map(Component::Reject)
                .map_err(|e| ComponentError {
                    in_reject: true,
                    ..e
                }),
            7 => ReturnResult::decode(tlv.value).map(Component::ReturnResultNotLast),
            _ => Err(ComponentError::new(
                derive_invoke_id(tlv.value),
                GeneralProblem::UNRECOGNIZED_COMPONENT,
                "component tag",
            )),
        }
    }

    /// Decode one component from bytes holding exactly one component TLV.
    pub fn decode_bytes(input: &'a [u8]) -> Result<Component<'a>, ComponentError> {
        match parse_tlv(input) {
            Ok((&[], tlv)) => Component::decode(tlv),
            _ => Err(ComponentError::new(
                None,
                GeneralProblem::BADLY_STRUCTURED_COMPONENT,
                "component TLV",
            )),
        }
    }

    /// Write the component with definite lengths.
    pub fn encode(&self, buf: &mut BytesMut) {
        match self {
            Component::Invoke(c) => c.encode(buf),
            Component::ReturnResultLast(c) => c.encode(buf, true),
            Component::ReturnResultNotLast(c) => c.encode(buf, false),
            Component::ReturnError(c) => c.encode(buf),
            Component::Reject(c) => c.encode(buf),
        }
    }

    /// The invoke id the component carries (`None` for a Reject with a not-derivable id).
    pub fn invoke_id(&self) -> Option<InvokeId> {
        match self {
            Component::Invoke(c) => Some(c.invoke_id),
            Component::ReturnResultLast(c) | Component::ReturnResultNotLast(c) => Some(c.invoke_id),
            Component::ReturnError(c) => Some(c.invoke_id),
            Component::Reject(c) => c.invoke_id,
        }
    }
}

/// A component that could not be decoded, and the Reject owed for it (Q.774 §3.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed component ({reason}): {problem:?}")]
pub struct ComponentError {
    /// The invoke id, where it could be derived.
    pub invoke_id: Option<InvokeId>,
    /// The problem code to reject with.
    pub problem: Problem,
    /// True if the malformed component was itself a Reject. No Reject is sent back for
    /// it, so that two providers never reject each other's Rejects forever.
    pub in_reject: bool,
    /// What was wrong, for logs.
    pub reason: &'static str,
}

impl ComponentError {
    pub(crate) fn new(
        invoke_id: Option<InvokeId>,
        problem: impl Into<Problem>,
        reason: &'static str,
    ) -> Self {
        ComponentError {
            invoke_id,
            problem: problem.into(),
            in_reject: false,
            reason,
        }
    }

    /// An error from a BER failure inside a component: structural failures are
    /// `badlyStructuredComponent`, wrong or missing elements `mistypedComponent`.
    pub(crate) fn from_ber(invoke_id: Option<InvokeId>, e: BerError, reason: &'static str) -> Self {
        let p = match e {
            BerError::Truncated
            | BerError::TagTooLarge
            | BerError::BadLength
            | BerError::IndefinitePrimitive
            | BerError::TooDeep
            | BerError::Nom(_) => GeneralProblem::BADLY_STRUCTURED_COMPONENT,
            BerError::UnexpectedTag { .. }
            | BerError::Missing(_)
            | BerError::Invalid(_)
            | BerError::Trailing(_) => GeneralProblem::MISTYPED_COMPONENT,
        };
        ComponentError::new(invoke_id, p, reason)
    }

    /// The Reject owed to the peer, or `None` when the bad component was a Reject.
    pub fn reject(&self) -> Option<Reject> {
        if self.in_reject {
            None
        } else {
            Some(Reject {
                invoke_id: self.invoke_id,
                problem: self.problem,
            })
        }
    }
}

impl From<GeneralProblem> for Problem {
    fn from(p: GeneralProblem) -> Self {
        Problem::General(p)
    }
}
impl From<InvokeProblem> for Problem {
    fn from(p: InvokeProblem) -> Self {
        Problem::Invoke(p)
    }
}
impl From<ReturnResultProblem> for Problem {
    fn from(p: ReturnResultProblem) -> Self {
        Problem::ReturnResult(p)
    }
}
impl From<ReturnErrorProblem> for Problem {
    fn from(p: ReturnErrorProblem) -> Self {
        Problem::ReturnError(p)
    }
}

/// Decode an invoke id from an INTEGER TLV.
pub(crate) fn invoke_id_of(tlv: &Tlv<'_>) -> Option<InvokeId> {
    if tlv.tag != Tag::INTEGER {
        return None;
    }
    i8::try_from(decode_i64(tlv.value).ok()?).ok()
}

/// The invoke id of a component body whose decoding failed, if its first element is one.
pub(crate) fn derive_invoke_id(body: &[u8]) -> Option<InvokeId> {
    let (_, first) = parse_tlv(body).ok()?;
    invoke_id_of(&first)
}

/// The first element of every component: the invoke id.
pub(crate) fn read_invoke_id<'a>(
    r: &mut strowger_ber::Reader<'a>,
) -> Result<InvokeId, ComponentError> {
    let first = r
        .next_tlv()
        .map_err(|e| ComponentError::from_ber(None, e, "invokeID"))?
        .ok_or(ComponentError::new(
            None,
            GeneralProblem::MISTYPED_COMPONENT,
            "missing invokeID",
        ))?;
    invoke_id_of(&first).ok_or(ComponentError::new(
        None,
        GeneralProblem::MISTYPED_COMPONENT,
        "invokeID",
    ))
}

/// Write an optional parameter given as a complete encoded TLV.
pub(crate) fn write_param(buf: &mut BytesMut, param: Option<&[u8]>) {
    if let Some(p) = param {
        buf.extend_from_slice(p);
    }
}

/// Write a parameter kept as a decoded TLV (re-encoded with a definite length).
pub(crate) fn write_param_tlv(buf: &mut BytesMut, param: &Option<Tlv<'_>>) {
    if let Some(p) = param {
        write_tlv(buf, p.tag, p.value);
    }
}

/// The contents of a component portion, borrowed from the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ComponentPortion<'a> {
    contents: &'a [u8],
}

impl std::fmt::Debug for ComponentPortion<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> ComponentPortion<'a> {
    /// A component portion over `contents`: the concatenated component TLVs.
    pub fn new(contents: &'a [u8]) -> Self {
        ComponentPortion { contents }
    }

    /// The concatenated component TLVs (without the `[APPLICATION 12]` header).
    pub fn contents(&self) -> &'a [u8] {
        self.contents
    }

    /// True if the portion holds no component.
    pub fn is_empty(&self) -> bool {
        self.contents.is_empty()
    }

    /// The components in order, decoded lazily.
    pub fn iter(&self) -> Components<'a> {
        Components {
            rest: self.contents,
            failed: false,
        }
    }

    /// Write `[APPLICATION 12] { contents }`.
    pub fn write(&self, buf: &mut BytesMut) {
        write_tlv(buf, COMPONENT_PORTION_TAG, self.contents);
    }

    /// Write a component portion whose components `f` writes.
    pub fn write_with(buf: &mut BytesMut, f: impl FnOnce(&mut BytesMut)) {
        write_constructed(buf, COMPONENT_PORTION_TAG, f);
    }
}

impl<'a> IntoIterator for ComponentPortion<'a> {
    type Item = Result<Component<'a>, ComponentError>;
    type IntoIter = Components<'a>;
    fn into_iter(self) -> Components<'a> {
        self.iter()
    }
}

/// Iterator over the components of a portion. After a component that is not well-formed
/// BER it yields that error and stops.
#[derive(Clone, Debug)]
pub struct Components<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for Components<'a> {
    type Item = Result<Component<'a>, ComponentError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match parse_tlv(self.rest) {
            Ok((rest, tlv)) => {
                self.rest = rest;
                Some(Component::decode(tlv))
            }
            Err(_) => {
                self.failed = true;
                Some(Err(ComponentError::new(
                    derive_invoke_id_from_partial(self.rest),
                    GeneralProblem::BADLY_STRUCTURED_COMPONENT,
                    "component TLV",
                )))
            }
        }
    }
}

/// Best effort to find the invoke id of a truncated component: skip its identifier and
/// length octets and read the first element.
fn derive_invoke_id_from_partial(input: &[u8]) -> Option<InvokeId> {
    let (_, rest) = input.split_first()?;
    let (len0, rest) = rest.split_first()?;
    let skip = match *len0 {
        0x00..=0x80 => 0,
        0x81..=0x84 => usize::from(len0 & 0x7f),
        _ => return None,
    };
    derive_invoke_id(rest.get(skip..)?)
}
