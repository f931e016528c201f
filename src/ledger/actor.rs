//! The actix shell: one [`AccountActor`] per prepaid account, found through the
//! [`AccountDirectory`].
//!
//! Guarantees:
//! - All work on one account is serialised by its actor. A decided change is applied to the
//!   actor's state at once (the next request sees it) and submitted to the ledger; the actor
//!   leaves the answer with its arbiter's durability relay, which sends it to the caller only
//!   once that record is durable (pipelined group commit: the actor goes on to the next request
//!   meanwhile, and the caller is woken once, by its durable answer). Every other answer —
//!   reads, refusals, idempotent retries — also waits until everything the actor has submitted
//!   so far is durable, so no answer ever reflects a change that could be lost in a crash.
//! - A request made on the actor's own arbiter while its mailbox holds no other request is
//!   handed to the actor at once by the asking task ([`ActorCell`]); the mailbox's enqueue and
//!   the actor task's wake and poll cost more than the handling. Requests from other threads,
//!   and requests on the actor's thread while any of those wait, go through the mailbox.
//! - Several operations of one call on one account (the Deduct and Return that end a prepaid
//!   call) can travel as one [`PrepaidOps`] message: the actor decides and journals them in
//!   order, each with its own idempotency key and record, and they become durable together in
//!   one group commit.
//! - At most one live actor per account: an idle actor first waits until its records are
//!   durable (hence in the ledger's materialised state), removes itself from the directory, and
//!   answers anything still in its mailbox with [`Retired`], which the directory resends to a
//!   fresh actor that loads the account from the materialised state.
//! - Actors holding reservations never go idle; each schedules the expiry of its earliest
//!   reservation deadline. At start the directory starts an actor for every account that holds
//!   reservations, so reservations recovered after a restart expire too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_rt::ArbiterHandle;
use dashmap::DashMap;
use tokio::sync::oneshot;

use crate::metrics as m;
use crate::prepaid::{AccountId, PrepaidRequest, PrepaidResponse, Refusal};

use super::account::{
    Account, AccountView, AdminError, AdminRequest, Decision, EventKind, UnixSecs,
};
use super::alarm::{self, Alarm};
use super::{unix_now, Ledger};

/// What an account's actor can be asked: a prepaid operation ([`PrepaidOp`]), the two of a
/// call's end ([`PrepaidOps`]) or an administrative one ([`AdminOp`]). It travels to the actor
/// in an [`Ask`].
pub trait Query: Send + Sized + 'static {
    /// The actor's answer.
    type Answer: Send + 'static;
    /// Decide it on the account's (live) actor: the answer, and the journal sequence number
    /// that must be durable before the answer may be given.
    fn decide(&self, actor: &mut AccountCore, me: &Me<'_>) -> (Self::Answer, u64);
}

/// A prepaid operation (claims 3–8) for the account's actor.
#[derive(Debug, Clone)]
pub struct PrepaidOp(pub PrepaidRequest);

/// Several prepaid operations on one account, decided and journaled in order (one answer each).
#[derive(Debug, Clone)]
pub struct PrepaidOps(pub Vec<PrepaidRequest>);

/// An administrative operation for the account's actor.
#[derive(Debug, Clone)]
pub struct AdminOp(pub AdminRequest);

/// A [`Query`] on its way to an account's actor, with where its answer goes. The actor leaves
/// the answer with its arbiter's durability relay, which sends it once the answer's record is
/// durable: the asking task is woken once, by the durable answer.
pub struct Ask<Q: Query> {
    query: Q,
    /// When it was sent (`strowger_prepaid_request_seconds{stage="answer"}`).
    sent: Instant,
    reply: oneshot::Sender<Answered<Q>>,
}

impl<Q: Query> Message for Ask<Q> {
    type Result = ();
}

/// How an account's actor answered an [`Ask`].
enum Answered<Q: Query> {
    /// Its answer, and everything it depends on is durable.
    Answer(Q::Answer),
    /// The actor has retired (stopped for idleness): the query comes back, to be resent
    /// through the directory.
    Retired(Q),
    /// The answer's record will never be durable (the ledger failed or closed).
    Unavailable,
}

/// Per-account prepaid actor: the actix shell around the account's [`AccountCore`].
pub struct AccountActor {
    cell: Arc<ActorCell>,
}

/// One account actor's state, and what the directory needs to hand it a request directly.
///
/// Only the actor's own arbiter thread ever locks `core`: the actor's handlers, and a request
/// made on that thread while the actor's mailbox holds no other request, which
/// [`AccountDirectory`] hands to the actor at once instead of through its mailbox (queued
/// behind nothing, it would be handled next anyway; the handing over costs more than the
/// handling). The lock is therefore never contended.
pub(crate) struct ActorCell {
    /// The thread the actor runs on ([`this_thread`]; 0 until it is known).
    home: AtomicUsize,
    /// Requests in the actor's mailbox: while any waits there, requests made on its thread
    /// queue behind them instead of overtaking them.
    queued: AtomicUsize,
    core: parking_lot::Mutex<AccountCore>,
}

/// The state of an account's actor: the account, and the actor's own bookkeeping.
pub struct AccountCore {
    id: AccountId,
    account: Option<Account>,
    ledger: Ledger,
    directory: Weak<DirInner>,
    last_seq: u64,
    /// A request came since the last idle check (a flag, not a time: no clock read per request).
    used: bool,
    idle: Duration,
    retired: bool,
    /// The [`alarm`] set for the next idle check.
    idle_check: Option<alarm::Set>,
    /// The reservation deadline an [`alarm`] is set for, and that alarm.
    expiry: Option<(UnixSecs, alarm::Set)>,
}

/// How a handler reaches its actor's address (to set alarms): through the actor's context,
/// or, when the directory hands a request over directly, through the directory's copy.
pub enum Me<'a> {
    /// In the actor's own handler.
    Context(&'a Context<AccountActor>),
    /// Handed over directly by the directory.
    Addr(&'a Addr<AccountActor>),
}

impl Me<'_> {
    fn address(&self) -> Addr<AccountActor> {
        match self {
            Me::Context(ctx) => ctx.address(),
            Me::Addr(a) => (*a).clone(),
        }
    }
}

/// A number for the calling thread, the same on every call from it (never 0).
fn this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    thread_local! {
        static NO: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NO.with(|n| *n)
}

impl Actor for AccountActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let mut core = self.cell.core.lock();
        core.schedule_expiry(&Me::Context(ctx));
        let idle = core.idle;
        core.check_idle_in(idle, &Me::Context(ctx));
    }
}

impl Handler<Alarm> for AccountActor {
    type Result = ();

    /// Do what is due: an alarm left set when its reason went (the reservations settled) may
    /// find nothing.
    fn handle(&mut self, _: Alarm, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let mut core = self.cell.core.lock();
        if core.expiry.is_some_and(|(_, a)| a.at <= now) {
            core.expiry = None;
            core.run_expiry(&Me::Context(ctx));
        }
        if core.idle_check.is_some_and(|a| a.at <= now) {
            core.idle_check = None;
            if core.check_idle(&Me::Context(ctx)) {
                let (directory, id) = (core.directory.clone(), core.id.clone());
                drop(core);
                if let Some(dir) = directory.upgrade() {
                    dir.actors
                        .remove_if(&id, |_, e| Arc::ptr_eq(&e.cell, &self.cell));
                }
                ctx.stop();
            }
        }
    }
}

impl AccountCore {
    fn new(id: AccountId, ledger: Ledger, directory: Weak<DirInner>) -> Self {
        let account = ledger.account(&id);
        let idle = Duration::from_secs(ledger.config().actor_idle_secs.max(1));
        AccountCore {
            last_seq: account.as_ref().map_or(0, |a| a.applied_seq),
            id,
            account,
            ledger,
            directory,
            used: false,
            idle,
            retired: false,
            idle_check: None,
            expiry: None,
        }
    }

    /// Set the idle check's alarm; the previous one has gone off (it is set only at the start
    /// and from the check itself).
    fn check_idle_in(&mut self, after: Duration, me: &Me<'_>) {
        self.idle_check = Some(alarm::set(Instant::now() + after, me.address()));
    }

    /// Whether the actor should retire now (it is then marked retired, and its expiry alarm
    /// cancelled; the caller takes it out of the directory and stops it).
    fn check_idle(&mut self, me: &Me<'_>) -> bool {
        if self.retired {
            return false;
        }
        let holds = self
            .account
            .as_ref()
            .is_some_and(|a| !a.reservations.is_empty());
        // Checked every `idle`: an actor stops between one and two idle periods after its last
        // request.
        if holds || self.used {
            self.used = false;
            self.check_idle_in(self.idle, me);
            return false;
        }
        let d = self.ledger.durable();
        if d.seq < self.last_seq && !d.failed {
            self.check_idle_in(Duration::from_millis(100), me);
            return false;
        }
        self.retired = true;
        // The clock must not keep a stopped actor's address (until an hour-long expiry).
        if let Some((_, a)) = self.expiry.take() {
            alarm::cancel(a);
        }
        true
    }

    /// Keep an alarm set no later than the earliest reservation deadline, from all of them (at
    /// start, after an expiry run and after an administrative change).
    fn schedule_expiry(&mut self, me: &Me<'_>) {
        if let Some(next) = self.account.as_ref().and_then(Account::next_deadline) {
            self.alarm_by(next, me);
        }
    }

    /// Make sure an alarm is set no later than `deadline`. A new one is set only when the
    /// deadline comes before the one set: deadlines grow with time, so a call's reservation
    /// usually finds the alarm of an earlier one still set, and an alarm left set with nothing
    /// reserved just finds nothing due. After a prepaid change only the deadline it gave is
    /// checked (no scan of the account's reservations): the set alarm was already no later
    /// than every other.
    fn alarm_by(&mut self, deadline: UnixSecs, me: &Me<'_>) {
        if self.expiry.is_some_and(|(set, _)| set <= deadline) {
            return;
        }
        if let Some((_, old)) = self.expiry.take() {
            alarm::cancel(old);
        }
        let at = Instant::now() + Duration::from_secs(deadline.saturating_sub(unix_now()));
        self.expiry = Some((deadline, alarm::set(at, me.address())));
    }

    fn run_expiry(&mut self, me: &Me<'_>) {
        if self.retired || !self.ledger.is_healthy() {
            return;
        }
        let now = unix_now();
        let events = match &self.account {
            Some(a) => a.decide_expiry(now, self.ledger.rules()),
            None => Vec::new(),
        };
        for ev in events {
            if self.commit(&ev).is_err() {
                return;
            }
            m::count!(m::LEDGER_EXPIRED, [], 1);
            tracing::info!(account = %self.id, event = ?ev.kind, "reservation expired");
        }
        self.schedule_expiry(me);
    }

    /// Submit the event and apply it locally; returns its sequence number and the answer.
    fn commit(&mut self, ev: &super::Event) -> Result<(u64, PrepaidResponse), Refusal> {
        let seq = self.ledger.submit(ev.clone())?;
        let held = |a: &Option<Account>| a.as_ref().map_or(0, |a| a.reservations.len()) as f64;
        let before = held(&self.account);
        let answer = Account::apply_to(&mut self.account, ev, self.ledger.rules());
        m::gauge_add!(m::PREPAID_RESERVATIONS, [], held(&self.account) - before);
        count_money(&ev.kind);
        if let Some(a) = self.account.as_mut() {
            a.applied_seq = seq;
        }
        self.last_seq = seq;
        Ok((seq, answer))
    }
}

/// Count the money an event moves (`strowger_prepaid_money_minor_units_total`). Expiry is
/// counted whole under `expired`, whatever its policy charged or returned, so that
/// applied = deducted + returned + expired + still reserved.
fn count_money(kind: &EventKind) {
    let (applied, deducted, returned, expired) = match *kind {
        EventKind::Applied { granted, .. } => (granted, 0, 0, 0),
        EventKind::Reapplied {
            used,
            returned,
            granted,
            ..
        } => (granted, used, returned, 0),
        EventKind::Deducted { amount, .. } => (0, amount, 0, 0),
        EventKind::Returned { amount, .. } => (0, 0, amount, 0),
        EventKind::Expired {
            charged, returned, ..
        } => (0, 0, 0, charged + returned),
        _ => return,
    };
    for (op, v) in [
        ("applied", applied),
        ("deducted", deducted),
        ("returned", returned),
        ("expired", expired),
    ] {
        if let Ok(v) = u64::try_from(v) {
            if v > 0 {
                m::count!(m::PREPAID_MONEY, [("operation", op)], v);
            }
        }
    }
}

static QUEUED: AtomicUsize = AtomicUsize::new(0);

/// Requests sent to account actors (of every directory in the process) and not yet answered:
/// their mailboxes plus the wait for durability. Sampled into `strowger_actor_mailbox_depth`.
pub fn queued_requests() -> usize {
    QUEUED.load(Ordering::Relaxed)
}

/// Counts a request as queued for an account actor until it is answered or dropped.
struct Queued;

impl Queued {
    fn new() -> Self {
        QUEUED.fetch_add(1, Ordering::Relaxed);
        Queued
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        QUEUED.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AccountCore {
    /// Decide one prepaid request and journal its change, if any: the answer and the sequence
    /// number that must be durable before it is given.
    fn prepaid(&mut self, req: &PrepaidRequest, me: &Me<'_>) -> (PrepaidResponse, u64) {
        if !self.ledger.is_healthy() {
            return (PrepaidResponse::Refused(Refusal::LedgerUnavailable), 0);
        }
        let decision = match &self.account {
            None => Err(Refusal::UnknownAccount),
            Some(a) => a.decide(req, unix_now(), self.ledger.rules()),
        };
        match decision {
            Err(r) => (PrepaidResponse::Refused(r), self.last_seq),
            Ok(Decision::Reply(r)) => (r, self.last_seq),
            Ok(Decision::Change(ev)) => match self.commit(&ev) {
                Err(r) => (PrepaidResponse::Refused(r), 0),
                Ok((seq, answer)) => {
                    if let Some(d) = ev.kind.deadline() {
                        self.alarm_by(d, me);
                    }
                    (answer, seq)
                }
            },
        }
    }

    /// Answer `ask`: decide it, and leave the answer with the arbiter's durability relay,
    /// which gives it once everything it depends on is durable.
    fn answer<Q: Query>(&mut self, ask: Ask<Q>, me: &Me<'_>) {
        let Ask { query, sent, reply } = ask;
        if self.retired {
            let _ = reply.send(Answered::Retired(query));
            return;
        }
        self.used = true;
        let (answer, seq) = query.decide(self, me);
        let answered = sent.elapsed().as_secs_f64();
        m::observe!(m::PREPAID_REQUEST_SECONDS, [("stage", "answer")], answered);
        self.ledger.when_durable(seq, move |durable| {
            let _ = reply.send(match durable {
                true => Answered::Answer(answer),
                false => Answered::Unavailable,
            });
        });
    }
}

impl<Q: Query> Handler<Ask<Q>> for AccountActor {
    type Result = ();

    fn handle(&mut self, ask: Ask<Q>, ctx: &mut Context<Self>) {
        self.cell.queued.fetch_sub(1, Ordering::Relaxed);
        self.cell.core.lock().answer(ask, &Me::Context(ctx));
    }
}

impl Query for PrepaidOp {
    type Answer = PrepaidResponse;

    fn decide(&self, actor: &mut AccountCore, me: &Me<'_>) -> (PrepaidResponse, u64) {
        actor.prepaid(&self.0, me)
    }
}

impl Query for PrepaidOps {
    type Answer = Vec<PrepaidResponse>;

    fn decide(&self, actor: &mut AccountCore, me: &Me<'_>) -> (Vec<PrepaidResponse>, u64) {
        let (mut wait, mut gate) = (0, None);
        let mut answers = Vec::with_capacity(self.0.len());
        for req in &self.0 {
            let answer = match gate {
                Some(r) => PrepaidResponse::Refused(r),
                None => {
                    let (answer, seq) = actor.prepaid(req, me);
                    wait = wait.max(seq);
                    answer
                }
            };
            gate = gate.or_else(|| req.gate(&answer));
            answers.push(answer);
        }
        (answers, wait)
    }
}

impl Query for AdminOp {
    type Answer = Result<AccountView, AdminError>;

    fn decide(
        &self,
        actor: &mut AccountCore,
        me: &Me<'_>,
    ) -> (Result<AccountView, AdminError>, u64) {
        if !actor.ledger.is_healthy() {
            return (Err(AdminError::LedgerUnavailable), 0);
        }
        let view = |a: &AccountCore| {
            a.account
                .as_ref()
                .map(Account::view)
                .ok_or(AdminError::UnknownAccount)
        };
        let answer = match Account::decide_admin(actor.account.as_ref(), &self.0, unix_now()) {
            Err(e) => Err(e),
            Ok(None) => view(actor),
            Ok(Some(ev)) => match actor.commit(&ev) {
                Err(_) => return (Err(AdminError::LedgerUnavailable), 0),
                Ok(_) => {
                    actor.schedule_expiry(me);
                    view(actor)
                }
            },
        };
        (answer, actor.last_seq)
    }
}

/// What the directory keeps of a live account actor.
struct Entry {
    addr: Addr<AccountActor>,
    cell: Arc<ActorCell>,
}

impl Entry {
    /// Hand `ask` to the actor: at once if the calling thread is the actor's and nothing waits
    /// in its mailbox, else through its mailbox.
    fn post<Q: Query>(&self, ask: Ask<Q>) -> Posted<Q> {
        let queued = &self.cell.queued;
        if self.cell.home.load(Ordering::Relaxed) == this_thread()
            && queued.load(Ordering::Relaxed) == 0
        {
            self.cell.core.lock().answer(ask, &Me::Addr(&self.addr));
            return Posted::Sent;
        }
        // Counted until the actor's handler takes it out. A full mailbox's request stays
        // counted: the caller sends it once there is room. (If the actor stops first, the
        // count is never taken back; the entry then only goes through the mailbox, which
        // reports the actor closed, and the entry is dropped.)
        queued.fetch_add(1, Ordering::Relaxed);
        match self.addr.try_send(ask) {
            Ok(()) => Posted::Sent,
            Err(SendError::Full(ask)) => Posted::Full(self.addr.clone(), ask),
            Err(SendError::Closed(ask)) => {
                queued.fetch_sub(1, Ordering::Relaxed);
                Posted::Closed(ask)
            }
        }
    }
}

pub(crate) struct DirInner {
    ledger: Ledger,
    actors: DashMap<AccountId, Entry, foldhash::fast::RandomState>,
    arbiters: Vec<ArbiterHandle>,
    next: AtomicUsize,
}

/// Finds (starting on first use) the actor of each prepaid account. Cheap to clone.
#[derive(Clone)]
pub struct AccountDirectory {
    inner: Arc<DirInner>,
}

impl std::fmt::Debug for AccountDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountDirectory")
            .field("live_actors", &self.inner.actors.len())
            .finish()
    }
}

/// How many times a request is resent to a fresh actor after meeting a retiring one.
const RESENDS: usize = 8;

impl AccountDirectory {
    /// Create the directory; actors are spread round-robin over `arbiters` (the current
    /// arbiter if the list is empty). Must be called inside a running actix `System`. Starts an
    /// actor for every account holding reservations, so their expiry is scheduled.
    pub fn start(ledger: Ledger, arbiters: Vec<ArbiterHandle>) -> Self {
        let arbiters = if arbiters.is_empty() {
            vec![Arbiter::current()]
        } else {
            arbiters
        };
        for a in &arbiters {
            ledger.start_relay(a);
        }
        let dir = AccountDirectory {
            inner: Arc::new(DirInner {
                ledger,
                actors: DashMap::default(),
                arbiters,
                next: AtomicUsize::new(0),
            }),
        };
        let held = dir.inner.ledger.accounts_with_reservations();
        if !held.is_empty() {
            tracing::info!(
                accounts = held.len(),
                "starting account actors holding reservations"
            );
        }
        let reservations: usize = held
            .iter()
            .filter_map(|id| dir.inner.ledger.account(id))
            .map(|a| a.reservations.len())
            .sum();
        m::gauge_add!(m::PREPAID_RESERVATIONS, [], reservations as f64);
        for id in held {
            dir.actor(&id);
        }
        dir
    }

    /// The ledger behind the directory.
    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Number of live account actors.
    pub fn live_actors(&self) -> usize {
        self.inner.actors.len()
    }

    /// The account's actor, started now if there is none: on the calling arbiter if it is one
    /// of the directory's (the caller then reaches it without crossing threads, and so do
    /// later calls from that arbiter), else on the next arbiter in turn.
    fn actor(&self, id: &AccountId) -> dashmap::mapref::one::RefMut<'_, AccountId, Entry> {
        let here = self.inner.ledger.relayed_here();
        self.inner.actors.entry(id.clone()).or_insert_with(|| {
            let (ledger, weak) = (self.inner.ledger.clone(), Arc::downgrade(&self.inner));
            let cap = ledger.config().actor_mailbox.max(1);
            let cell = Arc::new(ActorCell {
                home: AtomicUsize::new(0),
                queued: AtomicUsize::new(0),
                core: parking_lot::Mutex::new(AccountCore::new(id.clone(), ledger, weak)),
            });
            let mine = cell.clone();
            // Runs on the actor's arbiter.
            let make = move |ctx: &mut Context<AccountActor>| {
                ctx.set_mailbox_capacity(cap);
                mine.home.store(this_thread(), Ordering::Relaxed);
                AccountActor { cell: mine }
            };
            let addr = if here {
                AccountActor::create(make)
            } else {
                let n = self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.arbiters.len();
                AccountActor::start_in_arbiter(&self.inner.arbiters[n], make)
            };
            Entry { addr, cell }
        })
    }

    /// Hand `ask` to the account's actor (started if `create` or the ledger knows the
    /// account), without cloning its address.
    fn post<Q: Query>(&self, id: &AccountId, create: bool, ask: Ask<Q>) -> Posted<Q> {
        if let Some(e) = self.inner.actors.get(id) {
            return e.post(ask);
        }
        if !(create || self.inner.ledger.contains(id)) {
            return Posted::Unknown;
        }
        self.actor(id).post(ask)
    }

    /// Ask the account's actor (starting one if `create` or the ledger knows the account;
    /// resending past actors that retire meanwhile), and get its answer once everything the
    /// answer depends on is durable. `sent`: when the request was made (its answer's
    /// latency is measured from then).
    async fn ask<Q: Query>(
        &self,
        id: &AccountId,
        create: bool,
        mut query: Q,
        sent: Instant,
    ) -> Asked<Q::Answer> {
        let _queued = Queued::new();
        for _ in 0..RESENDS {
            let (reply, answer) = oneshot::channel();
            let ask = Ask { query, sent, reply };
            match self.post(id, create, ask) {
                Posted::Sent => {}
                Posted::Unknown => return Asked::Unknown,
                // Its mailbox is full: wait for room (if it stops meanwhile, the query is lost
                // unanswered, and so refused: an idempotent retry is always safe).
                Posted::Full(addr, ask) => {
                    if addr.send(ask).await.is_err() {
                        return Asked::Unavailable;
                    }
                }
                // Stopped without retiring: forget it, if no fresh one has replaced it yet.
                Posted::Closed(ask) => {
                    self.inner.actors.remove_if(id, |_, e| !e.addr.connected());
                    query = ask.query;
                    continue;
                }
            }
            match answer.await {
                Ok(Answered::Answer(a)) => return Asked::Answer(a),
                // Retired: it has left the directory already; the next round starts a fresh one.
                Ok(Answered::Retired(q)) => query = q,
                // Never durable, or dropped unanswered (its arbiter stopped).
                Ok(Answered::Unavailable) | Err(_) => return Asked::Unavailable,
            }
        }
        tracing::error!(account = %id, "account actor kept stopping; request refused");
        Asked::Unavailable
    }

    /// The prepaid interfaces (claims 3–8): authenticate, apply fee, reapply, deduct, return.
    /// Answers only when any change it made is durable.
    pub async fn request(&self, req: PrepaidRequest) -> PrepaidResponse {
        self.request_since(req, Instant::now()).await
    }

    /// [`Self::request`], made at `sent` (read once by [`super::Prepaid`], which times it too).
    pub(crate) async fn request_since(
        &self,
        req: PrepaidRequest,
        sent: Instant,
    ) -> PrepaidResponse {
        let id = req.account().clone();
        match self.ask(&id, false, PrepaidOp(req), sent).await {
            Asked::Answer(r) => r,
            Asked::Unknown => PrepaidResponse::Refused(Refusal::UnknownAccount),
            Asked::Unavailable => PrepaidResponse::Refused(Refusal::LedgerUnavailable),
        }
    }

    /// Several prepaid operations of one account, applied in order by its actor in one message
    /// (each with its own record and idempotency key) and answered, one answer each, once all
    /// are durable — one group commit instead of one per operation. Every request must name the
    /// same account (the first one's account is asked).
    pub async fn request_all(&self, reqs: Vec<PrepaidRequest>) -> Vec<PrepaidResponse> {
        self.request_all_since(reqs, Instant::now()).await
    }

    /// [`Self::request_all`], made at `sent` (read once by [`super::Prepaid`], which times it
    /// too).
    pub(crate) async fn request_all_since(
        &self,
        reqs: Vec<PrepaidRequest>,
        sent: Instant,
    ) -> Vec<PrepaidResponse> {
        let id = match PrepaidRequest::batch_account(&reqs) {
            Ok(Some(id)) => id.clone(),
            Ok(None) => return Vec::new(),
            Err(r) => return vec![PrepaidResponse::Refused(r); reqs.len()],
        };
        let n = reqs.len();
        let refuse = |r| vec![PrepaidResponse::Refused(r); n];
        match self.ask(&id, false, PrepaidOps(reqs), sent).await {
            Asked::Answer(r) => r,
            Asked::Unknown => refuse(Refusal::UnknownAccount),
            Asked::Unavailable => refuse(Refusal::LedgerUnavailable),
        }
    }

    /// Administrative operations: upsert, top-up, adjust, view.
    pub async fn admin(&self, req: AdminRequest) -> Result<AccountView, AdminError> {
        let id = req.account().clone();
        let create = matches!(req, AdminRequest::Upsert { .. });
        match self.ask(&id, create, AdminOp(req), Instant::now()).await {
            Asked::Answer(r) => r,
            Asked::Unknown => Err(AdminError::UnknownAccount),
            Asked::Unavailable => Err(AdminError::LedgerUnavailable),
        }
    }
}

/// How handing an [`Ask`] to an account's actor went.
enum Posted<Q: Query> {
    /// It is in the actor's mailbox.
    Sent,
    /// The ledger does not know the account.
    Unknown,
    /// The mailbox is full: wait for room through this address.
    Full(Addr<AccountActor>, Ask<Q>),
    /// The actor has stopped.
    Closed(Ask<Q>),
}

/// How asking an account actor ended.
enum Asked<T> {
    /// Its answer, durable.
    Answer(T),
    /// The ledger does not know the account.
    Unknown,
    /// The answer could not be made durable, or no actor could be reached.
    Unavailable,
}
