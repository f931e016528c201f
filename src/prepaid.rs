//! The prepaid service interfaces of claims 3–8: authenticate, apply fee, deduct, return.
//!
//! These types are the contract between the per-call VPN service logic (`crate::service`) and
//! the per-account prepaid logic (`crate::ledger`). Money is always integer minor units.

use std::fmt;
use std::sync::Arc;

/// Money in integer minor units (e.g. cents). Never floating point.
pub type Money = i64;

/// A prepaid account's identifier, as provisioned (e.g. `"ACC-1001"`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub Arc<str>);

impl AccountId {
    /// Make an account id from any string.
    pub fn new(s: &str) -> Self {
        AccountId(Arc::from(s))
    }
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A call's identity, unique across restarts of this node and across nodes
/// (node id in the top 16 bits, start epoch and a counter below). A call holds at most one
/// reservation on its account; the reservation is named by the call id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// Idempotency key of one prepaid operation: the call and the operation's sequence number
/// within that call. A retried operation with the same key returns the same answer and
/// changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpKey {
    /// The call the operation belongs to.
    pub call: CallId,
    /// 0, 1, 2 … in the order the call issues operations.
    pub seq: u32,
}

/// Why prepaid authentication (claims 3–5) or a fee application (claim 6) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No such account.
    UnknownAccount,
    /// The account is suspended (not active).
    Suspended,
    /// The account's validity date has passed.
    Expired,
    /// Available balance (balance − reserved) is below what was asked for.
    InsufficientBalance,
    /// The ledger cannot make changes durable now (disk full, fsync failed): fail closed.
    LedgerUnavailable,
}

/// A request from the VPN service logic to the prepaid service logic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepaidRequest {
    /// Claims 4–5: is the account valid, and does its available balance cover `min`?
    /// Read-only; not journaled.
    Authenticate {
        /// The account to check.
        account: AccountId,
        /// The least available balance that passes (the first billing unit at the destination).
        min: Money,
    },
    /// Claim 6: reserve up to `want`, but at least `min`, for `key.call`. The grant is
    /// `min(want, available)` when that is ≥ `min`, else a refusal. Opens the call's reservation.
    ApplyFee {
        /// Idempotency key.
        key: OpKey,
        /// The account to reserve on.
        account: AccountId,
        /// What the call would like.
        want: Money,
        /// The least useful grant.
        min: Money,
    },
    /// Claims 6–7 on each ApplyChargingReport with callActive = TRUE, in one atomic step:
    /// deduct `used` from the call's reservation, return the rest of it, and apply for a new
    /// slice of up to `want` (at least `min`). Grants are not additive: the new grant replaces
    /// the old reservation. A refusal of the new slice still deducts `used`.
    Reapply {
        /// Idempotency key.
        key: OpKey,
        /// The account.
        account: AccountId,
        /// Charged for the period just ended (≤ the current reservation).
        used: Money,
        /// What the call would like for the next period.
        want: Money,
        /// The least useful grant for the next period.
        min: Money,
    },
    /// Claim 7: deduct `used` from the call's applied fee (≤ the reservation).
    Deduct {
        /// Idempotency key.
        key: OpKey,
        /// The account.
        account: AccountId,
        /// The amount used.
        used: Money,
    },
    /// Claim 8: return whatever remains of the call's applied fee and close the reservation.
    Return {
        /// Idempotency key.
        key: OpKey,
        /// The account.
        account: AccountId,
    },
}

/// The prepaid service logic's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepaidResponse {
    /// Authentication passed; `available` is balance − reserved.
    Authenticated {
        /// Available balance at the time of the check.
        available: Money,
    },
    /// A fee (slice) was applied for and granted; the call's reservation is now `granted`.
    Granted {
        /// The amount reserved for the call.
        granted: Money,
    },
    /// `amount` was deducted from the call's applied fee.
    Deducted {
        /// Amount deducted (charged).
        amount: Money,
    },
    /// The call's reservation is closed; `amount` went back to the account.
    Returned {
        /// Amount returned.
        amount: Money,
    },
    /// Refused, with the reason.
    Refused(Refusal),
}
