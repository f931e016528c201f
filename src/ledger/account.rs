//! The pure prepaid account model (DESIGN §5): balance, reservations, idempotency memory.
//!
//! Two steps, event-sourcing style: [`Account::decide`] looks at a request and the current time
//! and either answers at once (read-only, idempotent replay, no-op) or returns the [`Event`] that
//! records the change; [`Account::apply`] carries an event out. Only `apply` mutates, and it is
//! deterministic in the event alone (the event carries its own time), so replaying the journal
//! gives back exactly the state that was acknowledged.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::prepaid::{AccountId, CallId, Money, OpKey, PrepaidRequest, PrepaidResponse, Refusal};

/// Unix time in whole seconds.
pub type UnixSecs = u64;

/// Administrative state of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Usable.
    Active,
    /// Blocked by the operator: no new grants; running calls still settle.
    Suspended,
    /// Closed for good by the operator (distinct from passing the validity date).
    Expired,
}

/// What happens to a reservation whose call is gone (no settlement before its deadline).
///
/// The default is [`ExpiryPolicy::ReturnAll`]: the SCP cannot prove any of the reserved money was
/// used, a lost dialogue is normally our side's (or the network's) failure, and an expired
/// reservation may also be a late duplicate of an already settled call whose idempotency memory
/// was pruned; returning it never costs the subscriber money they did not spend. Operators who
/// must not give away call time on lost dialogues choose `ChargeAll`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryPolicy {
    /// Deduct the whole reservation.
    ChargeAll,
    /// Return the whole reservation to the account.
    #[default]
    ReturnAll,
}

/// Parameters of the model that come from configuration. They must be the same for live
/// operation and for replay (they only affect deadlines and idempotency-memory pruning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// A reservation's deadline is `now + reservation_expiry_secs`, refreshed by each operation on it.
    pub reservation_expiry_secs: u64,
    /// Policy applied when a reservation expires.
    pub expiry_policy: ExpiryPolicy,
    /// How long answers are remembered after a call's reservation is closed.
    pub memo_retention_secs: u64,
    /// At most this many closed calls are remembered per account (oldest forgotten first).
    pub memo_max_closed_calls: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            reservation_expiry_secs: 3600,
            expiry_policy: ExpiryPolicy::ReturnAll,
            memo_retention_secs: 3600,
            memo_max_closed_calls: 64,
        }
    }
}

/// A live reservation (applied fee) held by one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// Amount still reserved.
    pub amount: Money,
    /// When it expires if the call does not settle it.
    pub deadline: UnixSecs,
}

/// Running totals of an account, for reconciliation: `balance = opening + topped_up + adjusted − charged`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Balance at creation.
    pub opening: Money,
    /// Sum of top-ups.
    pub topped_up: Money,
    /// Sum of signed adjustments.
    pub adjusted: Money,
    /// Sum of everything deducted (by calls and by `ChargeAll` expiry).
    pub charged: Money,
}

/// The remembered answers of one call, in order: (operation sequence number, answer). The
/// first is kept inline: a live call has answered one operation (its ApplyFee) and is
/// remembered twice (actor and durable state), so a heap block per call would cost more than
/// the answer.
pub type Answers = SmallVec<[(u32, PrepaidResponse); 1]>;

/// Remembered answers of one call's operations on this account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallMemo {
    /// (operation sequence number, answer), in order.
    pub answers: Answers,
    /// When the call's reservation closed; `None` while it is open.
    pub closed_at: Option<UnixSecs>,
}

/// One prepaid account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// Money on the account, reservations included.
    pub balance: Money,
    /// Σ live reservations.
    pub reserved: Money,
    /// Administrative state.
    pub state: AccountState,
    /// Validity date; `None` = no end.
    pub expiry: Option<UnixSecs>,
    /// Live reservations by call.
    pub reservations: BTreeMap<CallId, Reservation>,
    /// Reconciliation totals.
    pub totals: Totals,
    /// Idempotency memory by call.
    pub memo: Memo,
    /// Closed calls still remembered, oldest first.
    pub closed: ClosedCalls,
    /// Journal sequence number of the last event applied (0 = none). Set by the ledger; lets a
    /// fuzzy snapshot be combined with replay.
    pub applied_seq: u64,
}

/// The closed calls an account still remembers, oldest first, with the oldest one's closing
/// time kept beside the queue (see [`Account::prune`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClosedCalls {
    calls: VecDeque<(CallId, UnixSecs)>,
    oldest_at: Option<UnixSecs>,
}

impl ClosedCalls {
    /// How many.
    pub fn len(&self) -> usize {
        self.calls.len()
    }
    /// None remembered.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
    /// When the oldest closed.
    pub fn oldest_at(&self) -> Option<UnixSecs> {
        self.oldest_at
    }
    /// The oldest.
    pub fn front(&self) -> Option<&(CallId, UnixSecs)> {
        self.calls.front()
    }
    /// Remember one more (the newest).
    pub fn push_back(&mut self, c: (CallId, UnixSecs)) {
        if self.calls.is_empty() {
            self.oldest_at = Some(c.1);
        }
        self.calls.push_back(c);
    }
    /// Forget the oldest.
    pub fn pop_front(&mut self) -> Option<(CallId, UnixSecs)> {
        let c = self.calls.pop_front();
        self.oldest_at = self.calls.front().map(|c| c.1);
        c
    }
}

impl<'a> IntoIterator for &'a ClosedCalls {
    type Item = &'a (CallId, UnixSecs);
    type IntoIter = std::collections::vec_deque::Iter<'a, (CallId, UnixSecs)>;
    fn into_iter(self) -> Self::IntoIter {
        self.calls.iter()
    }
}

/// An account's idempotency memory: answers by call. Keyed by call ids the SCP numbers itself,
/// so a fast hash (foldhash, randomly seeded) serves instead of SipHash; it is looked up or
/// changed several times per operation.
pub type Memo = HashMap<CallId, CallMemo, foldhash::fast::RandomState>;

/// The journal record of one change to one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The account changed.
    pub account: AccountId,
    /// When the change was decided (drives idempotency-memory pruning on replay).
    pub at: UnixSecs,
    /// What changed.
    pub kind: EventKind,
}

/// The kinds of change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Account created (with `opening_balance`) or its state/validity changed (balance untouched).
    AccountUpserted {
        /// New administrative state.
        state: AccountState,
        /// New validity date.
        expiry: Option<UnixSecs>,
        /// Balance if the account is new; ignored for an existing account.
        opening_balance: Money,
    },
    /// Money added.
    TopUp {
        /// Amount (> 0).
        amount: Money,
    },
    /// Signed correction by the operator.
    Adjust {
        /// Amount (may be negative; never leaves available < 0).
        amount: Money,
    },
    /// A new reservation opened for `key.call`.
    Applied {
        /// The operation.
        key: OpKey,
        /// Amount reserved.
        granted: Money,
        /// Its deadline.
        deadline: UnixSecs,
    },
    /// Atomic deduct-`used` + return-the-rest + new grant. `granted == 0` with a `refusal` closes
    /// the reservation. Also used for an ApplyFee on a call that already holds a reservation
    /// (`used == 0`: grants are not additive, the new one replaces the old).
    Reapplied {
        /// The operation.
        key: OpKey,
        /// Charged from the old reservation.
        used: Money,
        /// Rest of the old reservation returned.
        returned: Money,
        /// New reservation (0 if refused).
        granted: Money,
        /// Deadline of the new reservation.
        deadline: UnixSecs,
        /// Why the new slice was refused, if it was.
        refusal: Option<Refusal>,
    },
    /// `amount` charged from the call's reservation; the reservation stays open with the rest.
    Deducted {
        /// The operation.
        key: OpKey,
        /// Amount charged.
        amount: Money,
        /// Refreshed deadline.
        deadline: UnixSecs,
    },
    /// The call's reservation closed; `amount` went back.
    Returned {
        /// The operation.
        key: OpKey,
        /// Amount returned.
        amount: Money,
    },
    /// The reservation passed its deadline and was settled by policy.
    Expired {
        /// The call.
        call: CallId,
        /// Charged (ChargeAll).
        charged: Money,
        /// Returned (ReturnAll).
        returned: Money,
    },
}

impl EventKind {
    /// The deadline this change gives a live reservation (one opened, granted again or
    /// refreshed), if any: the only way an account's earliest deadline can come sooner.
    pub fn deadline(&self) -> Option<UnixSecs> {
        match *self {
            EventKind::Applied { deadline, .. } | EventKind::Deducted { deadline, .. } => {
                Some(deadline)
            }
            EventKind::Reapplied {
                deadline, granted, ..
            } => (granted > 0).then_some(deadline),
            _ => None,
        }
    }
}

/// What [`Account::decide`] concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Answer at once, nothing to record (read-only, idempotent retry, or no-op settlement).
    Reply(PrepaidResponse),
    /// Record this event, apply it, answer with what `apply` returns.
    Change(Event),
}

/// Administrative operations on accounts (not part of the claims' interfaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminRequest {
    /// Create an account or change its state/validity date.
    Upsert {
        /// Account.
        account: AccountId,
        /// State.
        state: AccountState,
        /// Validity date.
        expiry: Option<UnixSecs>,
        /// Opening balance if new (ignored for an existing account).
        opening_balance: Money,
    },
    /// Add money.
    TopUp {
        /// Account.
        account: AccountId,
        /// Amount (> 0).
        amount: Money,
    },
    /// Signed correction.
    Adjust {
        /// Account.
        account: AccountId,
        /// Amount.
        amount: Money,
    },
    /// Read the account.
    View {
        /// Account.
        account: AccountId,
    },
}

impl AdminRequest {
    /// The account the request is about.
    pub fn account(&self) -> &AccountId {
        match self {
            AdminRequest::Upsert { account, .. }
            | AdminRequest::TopUp { account, .. }
            | AdminRequest::Adjust { account, .. }
            | AdminRequest::View { account } => account,
        }
    }
}

/// Why an administrative operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No such account.
    #[error("unknown account")]
    UnknownAccount,
    /// Amount not allowed (top-up ≤ 0, negative opening balance).
    #[error("invalid amount")]
    InvalidAmount,
    /// The adjustment would leave available balance below zero.
    #[error("adjustment would make the available balance negative")]
    WouldGoNegative,
    /// The ledger cannot make changes durable.
    #[error("ledger unavailable")]
    LedgerUnavailable,
}

/// A read-only view of an account, for the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// Account id.
    pub account: String,
    /// Balance (reservations included).
    pub balance: Money,
    /// Σ live reservations.
    pub reserved: Money,
    /// balance − reserved.
    pub available: Money,
    /// State.
    pub state: AccountState,
    /// Validity date.
    pub expiry: Option<UnixSecs>,
    /// Live reservations.
    pub reservations: Vec<ReservationView>,
    /// Reconciliation totals.
    pub totals: Totals,
}

/// One live reservation in an [`AccountView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationView {
    /// Call id.
    pub call: u64,
    /// Amount reserved.
    pub amount: Money,
    /// Deadline (unix seconds).
    pub deadline: UnixSecs,
}

impl PrepaidRequest {
    /// The account the request is about.
    pub fn account(&self) -> &AccountId {
        match self {
            PrepaidRequest::Authenticate { account, .. }
            | PrepaidRequest::ApplyFee { account, .. }
            | PrepaidRequest::Reapply { account, .. }
            | PrepaidRequest::Deduct { account, .. }
            | PrepaidRequest::Return { account, .. } => account,
        }
    }

    /// In a batch of requests (applied in order), an Authenticate that was refused gates what
    /// follows it (claim 3: no fee is applied for a caller who failed prepaid authentication):
    /// this refusal is then the answer of every later request, which is not carried out.
    pub fn gate(&self, answer: &PrepaidResponse) -> Option<Refusal> {
        match (self, answer) {
            (PrepaidRequest::Authenticate { .. }, PrepaidResponse::Refused(r)) => Some(*r),
            _ => None,
        }
    }

    /// The one account a batch of requests is about: `Ok(None)` for an empty batch; when the
    /// requests name several accounts (logged), the refusal every one of them gets.
    pub fn batch_account(reqs: &[PrepaidRequest]) -> Result<Option<&AccountId>, Refusal> {
        let Some(first) = reqs.first().map(PrepaidRequest::account) else {
            return Ok(None);
        };
        if reqs.iter().any(|r| r.account() != first) {
            tracing::error!(account = %first, "prepaid batch names several accounts; refused");
            return Err(Refusal::UnknownAccount);
        }
        Ok(Some(first))
    }

    /// The idempotency key, if the request has one (all but Authenticate).
    pub fn key(&self) -> Option<OpKey> {
        match self {
            PrepaidRequest::Authenticate { .. } => None,
            PrepaidRequest::ApplyFee { key, .. }
            | PrepaidRequest::Reapply { key, .. }
            | PrepaidRequest::Deduct { key, .. }
            | PrepaidRequest::Return { key, .. } => Some(*key),
        }
    }
}

/// Count of deduct requests asking for more than was reserved (clamped); logged at most once a second.
fn note_overdeduct(account: &AccountId, asked: Money, reserved: Money) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST_LOG: AtomicU64 = AtomicU64::new(0);
    ::metrics::counter!(crate::metrics::LEDGER_OVERDEDUCTS).increment(1);
    let now = super::unix_now();
    if LAST_LOG.swap(now, Ordering::Relaxed) != now {
        tracing::warn!(%account, asked, reserved, "deduct above reservation clamped (strowger_ledger_overdeduct_total)");
    }
}

impl Account {
    /// A new, active account with an opening balance (used by tests and by `AccountUpserted`).
    pub fn new(id: AccountId, opening_balance: Money) -> Self {
        Account {
            id,
            balance: opening_balance,
            reserved: 0,
            state: AccountState::Active,
            expiry: None,
            reservations: BTreeMap::new(),
            totals: Totals {
                opening: opening_balance,
                ..Totals::default()
            },
            memo: Memo::default(),
            closed: ClosedCalls::default(),
            applied_seq: 0,
        }
    }

    /// balance − reserved.
    pub fn available(&self) -> Money {
        self.balance - self.reserved
    }

    /// Why the account cannot take new grants now, if it cannot.
    pub fn validity(&self, now: UnixSecs) -> Result<(), Refusal> {
        match self.state {
            AccountState::Active => {}
            AccountState::Suspended => return Err(Refusal::Suspended),
            AccountState::Expired => return Err(Refusal::Expired),
        }
        match self.expiry {
            Some(e) if now >= e => Err(Refusal::Expired),
            _ => Ok(()),
        }
    }

    /// The remembered answer of an operation, if any.
    pub fn remembered(&self, key: OpKey) -> Option<&PrepaidResponse> {
        self.memo
            .get(&key.call)?
            .answers
            .iter()
            .find(|(s, _)| *s == key.seq)
            .map(|(_, r)| r)
    }

    /// The earliest reservation deadline, if any reservation is live.
    pub fn next_deadline(&self) -> Option<UnixSecs> {
        self.reservations.values().map(|r| r.deadline).min()
    }

    fn grant(
        &self,
        available: Money,
        want: Money,
        min: Money,
        now: UnixSecs,
    ) -> Result<Money, Refusal> {
        self.validity(now)?;
        let granted = want.min(available);
        if granted < min.max(1) {
            return Err(Refusal::InsufficientBalance);
        }
        Ok(granted)
    }

    /// Decide what a request does to this account at time `now`.
    ///
    /// `Err` is a refusal that changes nothing (and is not remembered: a retry is decided afresh).
    pub fn decide(
        &self,
        req: &PrepaidRequest,
        now: UnixSecs,
        rules: &Rules,
    ) -> Result<Decision, Refusal> {
        if let Some(key) = req.key() {
            if let Some(r) = self.remembered(key) {
                return Ok(Decision::Reply(r.clone()));
            }
        }
        let deadline = now.saturating_add(rules.reservation_expiry_secs);
        let ev = |kind| {
            Decision::Change(Event {
                account: self.id.clone(),
                at: now,
                kind,
            })
        };
        match *req {
            PrepaidRequest::Authenticate { min, .. } => {
                self.validity(now)?;
                let available = self.available();
                if available < min.max(0) {
                    return Err(Refusal::InsufficientBalance);
                }
                Ok(Decision::Reply(PrepaidResponse::Authenticated {
                    available,
                }))
            }
            PrepaidRequest::ApplyFee { key, want, min, .. } => {
                match self.reservations.get(&key.call) {
                    None => {
                        let granted = self.grant(self.available(), want, min, now)?;
                        Ok(ev(EventKind::Applied {
                            key,
                            granted,
                            deadline,
                        }))
                    }
                    Some(old) => {
                        let (granted, refusal) =
                            match self.grant(self.available() + old.amount, want, min, now) {
                                Ok(g) => (g, None),
                                Err(r) => (0, Some(r)),
                            };
                        Ok(ev(EventKind::Reapplied {
                            key,
                            used: 0,
                            returned: old.amount,
                            granted,
                            deadline,
                            refusal,
                        }))
                    }
                }
            }
            PrepaidRequest::Reapply {
                key,
                used,
                want,
                min,
                ..
            } => {
                let old = self.reservations.get(&key.call).map_or(0, |r| r.amount);
                let used_c = used.clamp(0, old);
                if used > old {
                    note_overdeduct(&self.id, used, old);
                }
                let returned = old - used_c;
                // After the old reservation is settled the account holds balance − used_c and
                // reserved − old, so the new slice may use available + returned.
                let (granted, refusal) =
                    match self.grant(self.available() + returned, want, min, now) {
                        Ok(g) => (g, None),
                        Err(r) => (0, Some(r)),
                    };
                if old == 0 && granted == 0 {
                    // Nothing held and nothing granted: no change to record.
                    return Err(refusal.unwrap_or(Refusal::InsufficientBalance));
                }
                Ok(ev(EventKind::Reapplied {
                    key,
                    used: used_c,
                    returned,
                    granted,
                    deadline,
                    refusal,
                }))
            }
            PrepaidRequest::Deduct { key, used, .. } => {
                let Some(res) = self.reservations.get(&key.call) else {
                    if used > 0 {
                        note_overdeduct(&self.id, used, 0);
                    }
                    return Ok(Decision::Reply(PrepaidResponse::Deducted { amount: 0 }));
                };
                let amount = used.clamp(0, res.amount);
                if used > res.amount {
                    note_overdeduct(&self.id, used, res.amount);
                }
                Ok(ev(EventKind::Deducted {
                    key,
                    amount,
                    deadline,
                }))
            }
            PrepaidRequest::Return { key, .. } => match self.reservations.get(&key.call) {
                None => Ok(Decision::Reply(PrepaidResponse::Returned { amount: 0 })),
                Some(res) => Ok(ev(EventKind::Returned {
                    key,
                    amount: res.amount,
                })),
            },
        }
    }

    /// Decide an administrative change (`View` is answered by the caller, not here).
    pub fn decide_admin(
        current: Option<&Account>,
        req: &AdminRequest,
        now: UnixSecs,
    ) -> Result<Option<Event>, AdminError> {
        let mk = |kind| Event {
            account: req.account().clone(),
            at: now,
            kind,
        };
        match (req, current) {
            (
                AdminRequest::Upsert {
                    state,
                    expiry,
                    opening_balance,
                    ..
                },
                _,
            ) => {
                if *opening_balance < 0 {
                    return Err(AdminError::InvalidAmount);
                }
                Ok(Some(mk(EventKind::AccountUpserted {
                    state: *state,
                    expiry: *expiry,
                    opening_balance: *opening_balance,
                })))
            }
            (_, None) => Err(AdminError::UnknownAccount),
            (AdminRequest::TopUp { amount, .. }, Some(_)) => {
                if *amount <= 0 {
                    return Err(AdminError::InvalidAmount);
                }
                Ok(Some(mk(EventKind::TopUp { amount: *amount })))
            }
            (AdminRequest::Adjust { amount, .. }, Some(a)) => {
                if !matches!(a.available().checked_add(*amount), Some(v) if v >= 0) {
                    return Err(AdminError::WouldGoNegative);
                }
                Ok(Some(mk(EventKind::Adjust { amount: *amount })))
            }
            (AdminRequest::View { .. }, Some(_)) => Ok(None),
        }
    }

    /// Decide the expiry of every reservation whose deadline has passed at `now`.
    pub fn decide_expiry(&self, now: UnixSecs, rules: &Rules) -> Vec<Event> {
        self.reservations
            .iter()
            .filter(|(_, r)| r.deadline <= now)
            .map(|(call, r)| {
                let (charged, returned) = match rules.expiry_policy {
                    ExpiryPolicy::ChargeAll => (r.amount, 0),
                    ExpiryPolicy::ReturnAll => (0, r.amount),
                };
                Event {
                    account: self.id.clone(),
                    at: now,
                    kind: EventKind::Expired {
                        call: *call,
                        charged,
                        returned,
                    },
                }
            })
            .collect()
    }

    /// Create the account from an `AccountUpserted` event (for a not-yet-existing account).
    pub fn from_upsert(ev: &Event) -> Option<Account> {
        match ev.kind {
            EventKind::AccountUpserted {
                state,
                expiry,
                opening_balance,
            } => {
                let mut a = Account::new(ev.account.clone(), opening_balance);
                a.state = state;
                a.expiry = expiry;
                Some(a)
            }
            _ => None,
        }
    }

    /// Apply an event to an optional account (creating it on `AccountUpserted`).
    pub fn apply_to(slot: &mut Option<Account>, ev: &Event, rules: &Rules) -> PrepaidResponse {
        match slot {
            Some(a) => a.apply(ev, rules),
            None => {
                *slot = Account::from_upsert(ev);
                match slot {
                    Some(a) => PrepaidResponse::Authenticated {
                        available: a.available(),
                    },
                    None => {
                        tracing::error!(account = %ev.account, "event for an account that does not exist ignored");
                        PrepaidResponse::Refused(Refusal::UnknownAccount)
                    }
                }
            }
        }
    }

    fn remember(&mut self, key: OpKey, answer: &PrepaidResponse) {
        self.memo
            .entry(key.call)
            .or_default()
            .answers
            .push((key.seq, answer.clone()));
    }

    fn close_call(&mut self, call: CallId, at: UnixSecs) {
        if let Some(m) = self.memo.get_mut(&call) {
            if m.closed_at.is_none() {
                m.closed_at = Some(at);
                self.closed.push_back((call, at));
            }
        }
    }

    /// Forget the answers of closed calls older than the retention (and beyond the count),
    /// as every change does; the ledger also calls it for quiet accounts.
    pub(crate) fn prune(&mut self, now: UnixSecs, rules: &Rules) {
        // The common case (nothing to forget) is decided without reading the queue itself: on
        // an account untouched for a while that read is a cache miss on every change.
        let fresh = match self.closed.oldest_at() {
            None => true,
            Some(at) => at.saturating_add(rules.memo_retention_secs) >= now,
        };
        if fresh && self.closed.len() <= rules.memo_max_closed_calls {
            return;
        }
        while let Some(&(call, at)) = self.closed.front() {
            let too_old = at.saturating_add(rules.memo_retention_secs) < now;
            if !too_old && self.closed.len() <= rules.memo_max_closed_calls {
                break;
            }
            self.closed.pop_front();
            // A call may have been reopened (ApplyFee after close); keep its memo if so.
            if self
                .memo
                .get(&call)
                .is_some_and(|m| m.closed_at == Some(at))
            {
                self.memo.remove(&call);
            }
        }
    }

    fn open_reservation(&mut self, call: CallId, amount: Money, deadline: UnixSecs) {
        if let Some(old) = self
            .reservations
            .insert(call, Reservation { amount, deadline })
        {
            self.reserved -= old.amount;
        }
        self.reserved += amount;
        if let Some(m) = self.memo.get_mut(&call) {
            m.closed_at = None;
        }
    }

    fn settle(&mut self, call: CallId, charged: Money, at: UnixSecs, close: bool) {
        self.balance -= charged;
        self.totals.charged += charged;
        if close {
            if let Some(r) = self.reservations.remove(&call) {
                self.reserved -= r.amount;
            }
            self.close_call(call, at);
        } else if let Some(r) = self.reservations.get_mut(&call) {
            r.amount -= charged;
            self.reserved -= charged;
        }
    }

    /// Carry out an event and give the answer owed to the operation that caused it. For
    /// administrative and expiry events the answer is `Authenticated { available }`.
    pub fn apply(&mut self, ev: &Event, rules: &Rules) -> PrepaidResponse {
        let answer = match ev.kind {
            EventKind::AccountUpserted { state, expiry, .. } => {
                self.state = state;
                self.expiry = expiry;
                PrepaidResponse::Authenticated {
                    available: self.available(),
                }
            }
            EventKind::TopUp { amount } => {
                self.balance += amount;
                self.totals.topped_up += amount;
                PrepaidResponse::Authenticated {
                    available: self.available(),
                }
            }
            EventKind::Adjust { amount } => {
                self.balance += amount;
                self.totals.adjusted += amount;
                PrepaidResponse::Authenticated {
                    available: self.available(),
                }
            }
            EventKind::Applied {
                key,
                granted,
                deadline,
            } => {
                self.open_reservation(key.call, granted, deadline);
                let r = PrepaidResponse::Granted { granted };
                self.remember(key, &r);
                r
            }
            EventKind::Reapplied {
                key,
                used,
                granted,
                deadline,
                refusal,
                ..
            } => {
                if let Some(old) = self.reservations.remove(&key.call) {
                    self.reserved -= old.amount;
                }
                self.balance -= used;
                self.totals.charged += used;
                let r = if granted > 0 {
                    PrepaidResponse::Granted { granted }
                } else {
                    PrepaidResponse::Refused(refusal.unwrap_or(Refusal::InsufficientBalance))
                };
                self.remember(key, &r);
                if granted > 0 {
                    self.open_reservation(key.call, granted, deadline);
                } else {
                    // The call may have had no memo before (its reservation came from an
                    // earlier incarnation whose memo was pruned): make sure it is closed.
                    self.close_call(key.call, ev.at);
                }
                r
            }
            EventKind::Deducted {
                key,
                amount,
                deadline,
            } => {
                self.settle(key.call, amount, ev.at, false);
                if let Some(r) = self.reservations.get_mut(&key.call) {
                    r.deadline = deadline;
                }
                let r = PrepaidResponse::Deducted { amount };
                self.remember(key, &r);
                r
            }
            EventKind::Returned { key, amount } => {
                let r = PrepaidResponse::Returned { amount };
                self.remember(key, &r);
                self.settle(key.call, 0, ev.at, true);
                r
            }
            EventKind::Expired { call, charged, .. } => {
                self.memo.entry(call).or_default();
                self.settle(call, charged, ev.at, true);
                PrepaidResponse::Authenticated {
                    available: self.available(),
                }
            }
        };
        self.prune(ev.at, rules);
        answer
    }

    /// The admin view.
    pub fn view(&self) -> AccountView {
        AccountView {
            account: self.id.as_str().to_owned(),
            balance: self.balance,
            reserved: self.reserved,
            available: self.available(),
            state: self.state,
            expiry: self.expiry,
            reservations: self
                .reservations
                .iter()
                .map(|(c, r)| ReservationView {
                    call: c.0,
                    amount: r.amount,
                    deadline: r.deadline,
                })
                .collect(),
            totals: self.totals,
        }
    }

    /// Check the account's invariants; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.available() < 0 {
            return Err(format!(
                "{}: balance {} < reserved {}",
                self.id, self.balance, self.reserved
            ));
        }
        let sum: Money = self.reservations.values().map(|r| r.amount).sum();
        if sum != self.reserved {
            return Err(format!(
                "{}: reserved {} != Σ reservations {}",
                self.id, self.reserved, sum
            ));
        }
        if self.reservations.values().any(|r| r.amount < 0) {
            return Err(format!("{}: negative reservation", self.id));
        }
        let t = self.totals;
        if self.balance != t.opening + t.topped_up + t.adjusted - t.charged {
            return Err(format!(
                "{}: balance {} not conserved ({t:?})",
                self.id, self.balance
            ));
        }
        Ok(())
    }
}
