//! CAMEL Application Part (3GPP TS 29.078: CAP v2, v3, v4) and ETSI Core INAP CS-1
//! (ETS 300 374-1) operation arguments, results and errors for the Strowger gsmSCF.
//!
//! Sans-IO and allocation-free on decode: a TCAP component hands this crate a local
//! operation code and the raw parameter TLV; [`Operation::decode`] returns a value that
//! borrows from those bytes, with numbers decoded on demand by the types in [`numbers`].
//! [`Operation::encode`] appends the parameter TLV of an outgoing Invoke to a `BytesMut`.
//! Where CAP phases and INAP differ on the wire the [`Dialect`], chosen from the dialogue's
//! application context by [`dialect_from_oid`], picks the encoding.
//!
//! ```
//! use bytes::BytesMut;
//! use strowger_cap::{Dialect, OpCode, Operation};
//! use strowger_cap::ops::{ApplyCharging, TimeDurationCharging};
//!
//! // gsmSCF -> gsmSSF: grant 60 s and release when it runs out.
//! let op = Operation::ApplyCharging(ApplyCharging::time_duration(TimeDurationCharging::new(600, true)));
//! let mut buf = BytesMut::new();
//! op.encode(Dialect::CapV2, &mut buf);
//! let back = Operation::decode(Dialect::CapV2, OpCode::APPLY_CHARGING, Some(&buf)).unwrap();
//! assert_eq!(back, op);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod common;
pub mod dialect;
pub mod error;
pub mod errors;
pub mod list;
pub mod numbers;
pub mod opcode;
pub mod ops;
mod util;

pub use common::{EventTypeBcsm, LegId, LegType, MessageType, MonitorMode};
pub use dialect::{application_context, dialect_from_oid, AcKind, ApplicationContext, Dialect};
pub use error::{Answer, CapError, CapResult};
pub use errors::{CapErrorValue, ErrorCode};
pub use list::List;
pub use opcode::OpCode;
pub use ops::{OpResult, Operation};
