//! ITU-T Q.773 TCAP for the Strowger SCP: messages, dialogue portion, components, and the
//! sans-IO transaction/dialogue state machine of Q.774.
//!
//! * [`Message::decode`] parses a TCAP message zero-copy from the SCCP user data. Components
//!   are not decoded up front: [`ComponentPortion::iter`] walks them lazily, so decoding a
//!   Begin with a dialogue portion and any number of components does not touch the heap.
//! * A malformed transaction portion becomes a [`TransactionError`] whose
//!   [`answer`](TransactionError::answer) is the P-Abort (or provider ABRT) owed to the peer;
//!   a malformed component becomes a [`ComponentError`] whose
//!   [`reject`](ComponentError::reject) is the Reject owed.
//! * Encoders write definite-length BER into a [`bytes::BytesMut`].
//! * [`Dialogue`] is one transaction and its dialogue, for the responding side (the SCP) and
//!   the initiating side (the call generator), with time passed in quinn-proto style.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod macros;

pub mod component;
pub mod dialogue;
pub mod dialogue_portion;
mod error;
pub mod message;
mod oid;
mod tid;

pub use component::{
    write_invoke, write_reject, write_return_error, write_return_result, Code, Component,
    ComponentError, ComponentPortion, Components, GeneralProblem, Invoke, InvokeId, InvokeProblem,
    Problem, Reject, ResultPart, ReturnError, ReturnErrorProblem, ReturnResult,
    ReturnResultProblem,
};
pub use dialogue::{
    AbortReason, Config, Dialogue, EndKind, Event, Incoming, OperationClass, Role, SendError,
    State, TidAllocator, UAbortReason, MAX_OUTSTANDING,
};
pub use dialogue_portion::{
    Aare, Aarq, AbortSource, Abrt, AssociateResult, AssociateSourceDiagnostic, Audt,
    DialoguePortion, ProtocolVersion, ProviderDiagnostic, UserDiagnostic,
};
pub use error::{TransactionError, TransactionProblem};
pub use message::{
    unknown_transaction_abort, Abort, AbortCause, Begin, Continue, End, Message, MessageType,
    PAbortCause, Unidirectional,
};
pub use oid::{ObjectId, ParseOidError, MAX_OID_LEN};
pub use tid::TransactionId;
