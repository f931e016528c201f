//! The VPN service logic (claims 1–8) as plain Rust: provisioning, the private numbering plan
//! and screening, rating, the per-call state machine, CDRs. No runtime, no I/O: time is passed
//! in, outputs are returned; the actix actors are thin shells around [`call::Call`].

pub mod call;
pub mod cdr;
pub mod config;
pub mod numbering;
pub mod pin;
pub mod provisioning;
pub mod rating;

#[cfg(test)]
mod call_tests;

pub use call::{
    Action, BcsmEvent, Call, CallEvent, DialogueEnd, InitialRequest, Leg, Op, Timestamp,
};
pub use cdr::{Cdr, ChargingMode, Outcome};
pub use config::{AbortPolicy, ServiceConfig, Treatment, UnknownKeyAction};
pub use numbering::{Destination, Nature, Number, ScreeningRefusal};
pub use provisioning::{Provisioning, ProvisioningData, ProvisioningError, ProvisioningStore};
pub use rating::{DestClass, Rate, Tariff};
