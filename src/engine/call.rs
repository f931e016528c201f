//! The call actor: one per TCAP dialogue, a thin shell around the TCAP dialogue state machine
//! and the VPN/prepaid call state machine (`service::call`). It decodes each TCAP message into
//! CAP operations, feeds them to the call logic, carries out what the logic asks (operations
//! to the switch, prepaid requests to the account actors, CDRs) and stops when the call is
//! settled. Never restarted: a failure releases the call and settles its reservation.

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix::clock::{sleep_until, Sleep};
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use strowger_cap::{Dialect, OpCode};
use strowger_tcap::{
    AbortReason, Code, Dialogue, EndKind, Event as TcEvent, InvokeId, InvokeProblem, Message,
    OperationClass, Problem, UAbortReason,
};

use super::capmap::{self, Incoming};
use super::route::{ReplyRoute, RouteError, RoutePath};
use super::{Engine, Entry, Refusal};
use crate::config::Treatment;
use crate::metrics as m;
use crate::prepaid::{PrepaidRequest, PrepaidResponse};
use crate::service::{Action, Call, CallEvent, DialogueEnd, Op, Outcome};

/// Messages a call actor handles.
#[derive(Debug)]
pub enum CallMsg {
    /// The Begin that opened the dialogue: the actor's first message (queued before anyone
    /// else can address the actor, so kept in the mailbox rather than in the actor).
    Begin(Bytes),
    /// A TCAP message for this dialogue (Continue, End, Abort).
    Tcap(Bytes),
    /// A message for this dialogue could not be decoded at the transaction level.
    Broken,
    /// The link the dialogue runs on closed.
    LinkLost,
    /// Shutdown drain expired: release the call now.
    Release,
}

impl actix::Message for CallMsg {
    type Result = ();
}

/// The time an event is handled at, read once for everything the event does: the monotonic
/// clock (TCAP timers, the call's timer) and the wall clock in ms (the service logic's time
/// base). The wall clock is derived from the monotonic one and a per-thread anchor taken again
/// every second, so an event costs one clock read instead of several (a clock read is tens of
/// ns on this kind of VM, and a call made a dozen).
#[derive(Clone, Copy, Debug)]
struct Now {
    at: Instant,
    wall_ms: u64,
}

impl Now {
    fn read() -> Now {
        thread_local! {
            /// (monotonic, wall clock in ns since the Unix epoch), the wall clock read first.
            static ANCHOR: Cell<Option<(Instant, u128)>> = const { Cell::new(None) };
        }
        let at = Instant::now();
        let wall_ns = ANCHOR.with(|a| {
            if let Some((base, ns)) = a.get() {
                let since = at.saturating_duration_since(base);
                if since < Duration::from_secs(1) {
                    return ns + since.as_nanos();
                }
            }
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            // The anchor's monotonic reading is taken after the wall clock's, so that a time
            // derived from it never runs ahead of the wall clock (it lags by the gap between
            // the two reads instead). Anchored on `at`, read before, a time derived later ran
            // ahead by that gap, which crossed a millisecond now and then (a thread preempted
            // between the reads made it a whole one).
            a.set(Some((Instant::now(), ns)));
            ns
        });
        Now {
            at,
            wall_ms: (wall_ns / 1_000_000) as u64,
        }
    }
}

/// What a TCAP event means for this call, owned so the dialogue can be used again.
enum Step {
    Event(CallEvent),
    ActivityTest(InvokeId),
    Done(InvokeId),
    Reject(InvokeId, InvokeProblem),
    Invoked(CallEvent, InvokeId),
    PeerGone(&'static str),
    Nothing,
}

/// Encoding buffers: an operation's argument, the TCAP message, the SCCP message.
#[derive(Default)]
struct Buffers {
    param: BytesMut,
    out: BytesMut,
    scratch: BytesMut,
}

// Working memory of the call actors, one set per arbiter thread rather than per call: it is
// used only inside one handler call, and a call spends its life waiting. A handler takes what
// it needs and puts it back (emptied, its capacity kept); a nested use (a send that fails
// feeds the call an abort) finds the slot empty and works with fresh memory.
thread_local! {
    static BUFFERS: Cell<Buffers> = Cell::new(Buffers::default());
    static ACTIONS: Cell<Vec<Action>> = const { Cell::new(Vec::new()) };
    static STEPS: Cell<Vec<Step>> = const { Cell::new(Vec::new()) };
}

/// One call. Every byte of it is memory per live call.
pub struct CallActor {
    engine: Arc<Engine>,
    dialogue: Dialogue,
    dialect: Dialect,
    /// The way back ([`ReplyRoute`], held apart so the SLS packs with the other small fields).
    path: Arc<RoutePath>,
    sls: u8,
    call: Call,
    /// When the Begin came, until the first answer goes out (the call setup time).
    setup: Option<MonoTime>,
    pin_invoke: Option<InvokeId>,
    /// The call's one timer, made once and then moved (see [`schedule`](Self::schedule)).
    timer: Option<Pin<Box<Sleep>>>,
    /// A [`TimerTask`] watches `timer`: it is armed (not yet fired).
    timer_armed: bool,
    gone: bool,
    /// The InitialDP's service key, once known (a field of the call's log span).
    service_key: Option<u32>,
}

impl CallActor {
    /// Start the actor for a new dialogue, on the current (the link's) arbiter or the next one
    /// (see [`Engine::calls_on_link_arbiter`]), and register it.
    pub fn spawn(
        engine: &Arc<Engine>,
        tid: strowger_tcap::TransactionId,
        dialogue: Dialogue,
        route: ReplyRoute,
        begin: Bytes,
    ) {
        let dialect = dialect_of(&dialogue);
        let id = engine.next_call_id();
        let now = Now::read();
        let call = Call::with_shared_config(
            id,
            now.wall_ms,
            engine.services.provisioning.snapshot(),
            engine.services.service.clone(),
        );
        let link = route.path.link.id;
        let key = tid.to_u32();
        let e = engine.clone();
        let mailbox = engine.config.engine.mailbox;
        // Register before the actor can run: a call that ends at once (unknown service key)
        // must find its entry to remove.
        let (tx, rx) = dev::channel::channel(mailbox);
        let addr = Addr::new(tx);
        addr.do_send(CallMsg::Begin(begin));
        engine.table.insert(key, Entry { addr, link });
        let actor = CallActor {
            engine: e,
            dialogue,
            dialect,
            path: route.path,
            sls: route.sls,
            call,
            setup: Some(MonoTime::at(now.at)),
            pin_invoke: None,
            timer: None,
            timer_armed: false,
            gone: false,
            service_key: None,
        };
        let started = if engine.calls_on_link_arbiter() {
            Context::with_receiver(rx).run(actor);
            true
        } else {
            engine.arbiter().spawn_fn(move || {
                Context::with_receiver(rx).run(actor);
            })
        };
        if !started {
            // The arbiter is gone (shutting down): the dialogue was never served.
            engine.table.remove(&key);
            return;
        }
        m::gauge_add!(m::TCAP_DIALOGUES_ACTIVE, [], 1.0);
        m::count!(m::TCAP_DIALOGUES_BEGUN, [], 1);
    }

    /// The call's log span (`call` with its id, local transaction id and service key), made
    /// when an event is logged: macros evaluate `parent:` only for enabled events, so a call
    /// that logs nothing keeps no span alive.
    fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "call",
            id = self.call.id().0,
            tid = self.tid(),
            service_key = self.service_key
        )
    }

    /// Send a TCAP message to the switch.
    fn reply(&self, tcap: &[u8], scratch: &mut BytesMut) -> Result<(), RouteError> {
        self.path.send(self.sls, tcap, scratch)
    }

    /// The local transaction id (the dialogue table's key).
    fn tid(&self) -> u32 {
        self.dialogue.local_tid().to_u32()
    }

    fn on_tcap(&mut self, ctx: &mut Context<Self>, bytes: &Bytes, now: Now) {
        let msg = match Message::decode(bytes) {
            Ok(m) => m,
            Err(_) => return self.lost(ctx, "broken"),
        };
        let dialect = self.dialect;
        let pin_invoke = self.pin_invoke;
        let mut steps = STEPS.take();
        for ev in self.dialogue.handle(now.at, &msg) {
            steps.push(step_of(dialect, pin_invoke, ev));
        }
        self.flush_provider_abort();
        self.run_steps(ctx, &mut steps, now);
        STEPS.set(steps);
    }

    fn run_steps(&mut self, ctx: &mut Context<Self>, steps: &mut Vec<Step>, now: Now) {
        for step in steps.drain(..) {
            match step {
                Step::Event(ev) => self.steps_event(ctx, ev, now),
                Step::ActivityTest(id) => {
                    let _ = self.dialogue.send_result(id, None, true);
                    self.send(ctx, DialogueEnd::Continue, now.at);
                }
                Step::Done(id) => self.dialogue.release_invoke(id),
                Step::Reject(id, p) => {
                    m::count!(
                        m::DECODE_ERRORS,
                        [("layer", "cap"), ("reason", "rejected")],
                        1,
                    );
                    let _ = self.dialogue.send_reject(Some(id), Problem::Invoke(p));
                    self.send(ctx, DialogueEnd::Continue, now.at);
                }
                Step::Invoked(ev, id) => {
                    self.dialogue.release_invoke(id);
                    self.steps_event(ctx, ev, now);
                }
                Step::PeerGone(why) => {
                    m::count!(m::TCAP_DIALOGUES_ABORTED, [("cause", why)], 1);
                    self.gone = true;
                    self.feed_at(ctx, CallEvent::Aborted, now);
                }
                Step::Nothing => {}
            }
        }
    }

    fn steps_event(&mut self, ctx: &mut Context<Self>, ev: CallEvent, now: Now) {
        if let CallEvent::Initial(ref req) = ev {
            m::count!(m::CALL_ATTEMPTS, [], 1);
            self.service_key = Some(req.service_key);
            tracing::debug!(
                parent: &self.span(),
                calling = %mask(&req.calling.digits),
                dialled = %mask(&req.called.digits),
                "InitialDP"
            );
            if !self.key_served(req.service_key) {
                self.unserved_key(ctx, req, now);
                return;
            }
        }
        if matches!(ev, CallEvent::PinCollected(_) | CallEvent::PinFailed) {
            self.pin_invoke = None;
        }
        self.feed_at(ctx, ev, now);
    }

    fn key_served(&self, key: u32) -> bool {
        self.engine
            .config
            .services
            .keys
            .iter()
            .any(|k| k.key == key)
    }

    /// A service key with no service: the configured default treatment, then stop.
    fn unserved_key(
        &mut self,
        ctx: &mut Context<Self>,
        req: &crate::service::InitialRequest,
        now: Now,
    ) {
        m::count!(m::CALLS, [("outcome", "unknown_service_key")], 1);
        let (op, release_cause) = match self.engine.config.services.unknown_key_treatment {
            Treatment::Continue => (Op::Continue, None),
            Treatment::Release { cause } => (Op::ReleaseCall { cause }, Some(cause)),
        };
        self.send_ops(ctx, &[op], DialogueEnd::End, now.at);
        // One CDR per call attempt (DESIGN §6), also for attempts no service took.
        if self.engine.config.cdr.enabled {
            self.engine
                .services
                .cdr
                .write(Box::new(crate::service::Cdr {
                    call_id: self.call.id().0,
                    start_ms: self.call.start(),
                    answer_ms: None,
                    end_ms: now.wall_ms,
                    service_key: Some(req.service_key),
                    calling: req.calling.digits.to_string(),
                    dialled: req.called.digits.to_string(),
                    translated: None,
                    group: None,
                    on_net: None,
                    dest_class: None,
                    charging: crate::service::ChargingMode::None,
                    account: None,
                    answered_100ms: 0,
                    answered_seconds: 0,
                    rated: 0,
                    reserved: 0,
                    charged: 0,
                    returned: 0,
                    outcome: Outcome::UnknownServiceKey,
                    release_cause,
                    reason: Some("no service configured for the service key".into()),
                    settlement_incomplete: false,
                    prepaid_requests: 0,
                    unexpected_events: 0,
                }));
        }
        ctx.stop();
    }

    fn feed(&mut self, ctx: &mut Context<Self>, ev: CallEvent) {
        self.feed_at(ctx, ev, Now::read());
    }

    fn feed_at(&mut self, ctx: &mut Context<Self>, ev: CallEvent, now: Now) {
        let mut actions = ACTIONS.take();
        self.call.handle(now.wall_ms, ev, &mut actions);
        self.run_actions(ctx, &mut actions, now);
        ACTIONS.set(actions);
        self.schedule(ctx, now);
    }

    fn run_actions(&mut self, ctx: &mut Context<Self>, actions: &mut Vec<Action>, now: Now) {
        for action in actions.drain(..) {
            match action {
                Action::Send { ops, end } => self.send_ops(ctx, &ops, end, now.at),
                Action::Prepaid(req) => {
                    let engine = self.engine.clone();
                    ctx.spawn(
                        async move { engine.services.accounts.request(req).await }
                            .into_actor(self)
                            .map(|resp, act, ctx| act.feed(ctx, CallEvent::Prepaid(resp))),
                    );
                }
                Action::Admit { auth, apply } => {
                    self.ask_pair(ctx, auth, apply, CallEvent::Admitted)
                }
                Action::Settle { deduct, ret } => {
                    self.ask_pair(ctx, deduct, ret, CallEvent::Settled)
                }
                Action::Cdr(cdr) => {
                    let outcome = cdr.outcome.as_str();
                    m::count!(m::CALLS, [("outcome", outcome)], 1);
                    if cdr.answered_100ms > 0 {
                        m::observe!(
                            m::CALL_DURATION_SECONDS,
                            [],
                            cdr.answered_100ms as f64 / 10.0,
                        );
                    }
                    if self.engine.config.cdr.enabled {
                        self.engine.services.cdr.write(cdr);
                    }
                }
                Action::Done => ctx.stop(),
                Action::Unexpected(kind) => {
                    tracing::debug!(parent: &self.span(), kind, "event ignored by the call logic");
                }
            }
        }
    }

    /// Send two requests of the call on its account to the prepaid logic together (applied in
    /// order, durable together) and feed both answers back as `event`.
    fn ask_pair(
        &mut self,
        ctx: &mut Context<Self>,
        first: PrepaidRequest,
        second: PrepaidRequest,
        event: fn(PrepaidResponse, PrepaidResponse) -> CallEvent,
    ) {
        let engine = self.engine.clone();
        ctx.spawn(
            async move {
                engine
                    .services
                    .accounts
                    .request_all(vec![first, second])
                    .await
            }
            .into_actor(self)
            .map(move |resps, act, ctx| {
                let mut it = resps.into_iter();
                let refused =
                    || PrepaidResponse::Refused(crate::prepaid::Refusal::LedgerUnavailable);
                let a = it.next().unwrap_or_else(refused);
                let b = it.next().unwrap_or_else(refused);
                act.feed(ctx, event(a, b))
            }),
        );
    }

    fn send_ops(&mut self, ctx: &mut Context<Self>, ops: &[Op], end: DialogueEnd, now: Instant) {
        if self.gone || self.dialogue.is_closed() {
            return;
        }
        let timeout = Duration::from_secs(self.engine.config.tcap.invoke_timeout_seconds);
        self.dialogue.reserve_invokes(ops.len());
        let mut bufs = BUFFERS.take();
        for op in ops {
            let (code, has_param) = match capmap::encode_op(self.dialect, op, &mut bufs.param) {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(parent: &self.span(), error = %e, ?op, "cannot encode operation");
                    continue;
                }
            };
            let class = match op {
                Op::PromptAndCollect { .. } => OperationClass::Class1,
                Op::Continue => OperationClass::Class4,
                _ => OperationClass::Class2,
            };
            let param = has_param.then_some(&bufs.param[..]);
            match self
                .dialogue
                .send_invoke(now, Code::Local(code.0), None, param, class, timeout)
            {
                Ok(id) => {
                    if code == OpCode::PROMPT_AND_COLLECT_USER_INFORMATION {
                        self.pin_invoke = Some(id);
                    }
                    m::count!(
                        m::CAP_OPERATIONS,
                        [
                            ("operation", code.name().unwrap_or("other")),
                            ("direction", "out"),
                        ],
                        1,
                    );
                }
                Err(e) => tracing::warn!(parent: &self.span(), error = %e, "invoke not queued"),
            }
        }
        BUFFERS.set(bufs);
        self.send(ctx, end, now);
    }

    /// Write the queued components as TC-CONTINUE or TC-END and send it.
    fn send(&mut self, ctx: &mut Context<Self>, end: DialogueEnd, now: Instant) {
        if self.gone || self.dialogue.is_closed() {
            return;
        }
        let mut bufs = BUFFERS.take();
        let sent = self.write(end, &mut bufs, now);
        BUFFERS.set(bufs);
        if !sent {
            self.link_gone(ctx);
        }
    }

    /// [`send`](Self::send) with the buffers: `false` if the link is gone.
    fn write(&mut self, end: DialogueEnd, bufs: &mut Buffers, now: Instant) -> bool {
        let Buffers { out, scratch, .. } = bufs;
        out.clear();
        let (r, label) = match end {
            DialogueEnd::Continue => (self.dialogue.continue_(now, out).map(|_| true), "continue"),
            DialogueEnd::End => (self.dialogue.end(now, out, EndKind::Basic), "end"),
        };
        match r {
            Ok(true) => {
                if let Some(received) = self.setup.take() {
                    m::observe!(m::CALL_SETUP_SECONDS, [], received.until(now).as_secs_f64(),);
                }
                if end == DialogueEnd::End {
                    m::count!(m::TCAP_DIALOGUES_ENDED, [], 1);
                }
                if let Err(e) = self.reply(out, scratch) {
                    tracing::debug!(parent: &self.span(), error = %e, "reply not sent");
                    return false;
                }
                m::count!(
                    m::LAYER_MESSAGES,
                    [("layer", "tcap"), ("type", label), ("direction", "out")],
                    1,
                );
            }
            Ok(false) => {}
            Err(e) => tracing::debug!(parent: &self.span(), error = %e, "dialogue cannot send"),
        }
        true
    }

    fn flush_provider_abort(&mut self) {
        let mut bufs = BUFFERS.take();
        bufs.out.clear();
        if self.dialogue.poll_transmit(&mut bufs.out) {
            let _ = self.reply(&bufs.out, &mut bufs.scratch);
        }
        BUFFERS.set(bufs);
    }

    fn link_gone(&mut self, ctx: &mut Context<Self>) {
        if !self.gone {
            self.gone = true;
            m::count!(m::TCAP_DIALOGUES_ABORTED, [("cause", "link_lost")], 1);
            self.feed(ctx, CallEvent::Aborted);
        }
    }

    fn lost(&mut self, ctx: &mut Context<Self>, cause: &'static str) {
        if !self.gone {
            self.gone = true;
            m::count!(m::TCAP_DIALOGUES_ABORTED, [("cause", cause)], 1);
            self.feed(ctx, CallEvent::Aborted);
        }
    }

    /// Arm the timer for the earliest of the call's and the dialogue's deadlines. A timer
    /// already armed for that time or earlier is kept: waking early only schedules again
    /// ([`on_timer`](Self::on_timer) acts on what is due), and keeping it spares a timer per
    /// event. The timer is made once per call and then only moved (tokio's `Sleep::reset`,
    /// which keeps the waker of the task watching it), never cancelled: a cancelled future
    /// costs the actor's context a heap block for good.
    fn schedule(&mut self, ctx: &mut Context<Self>, now: Now) {
        let call_at = self
            .call
            .poll_timeout()
            .map(|t| now.at + Duration::from_millis(t.saturating_sub(now.wall_ms)));
        let tcap_at = if self.gone {
            None
        } else {
            self.dialogue.poll_timeout()
        };
        let at = match (call_at, tcap_at) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // Nothing to wait for: a timer still armed may wake the call once more, for
            // nothing (it then schedules again and finds nothing).
            (None, None) => return,
        };
        let at = actix::clock::Instant::from_std(at);
        match &mut self.timer {
            Some(t) if self.timer_armed && t.deadline() <= at => return,
            Some(t) => t.as_mut().reset(at),
            None => self.timer = Some(Box::pin(sleep_until(at))),
        }
        if !self.timer_armed {
            self.timer_armed = true;
            ctx.spawn(TimerTask);
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<Self>) {
        let now = Now::read();
        if !self.gone {
            while let Some(ev) = self.dialogue.handle_timeout(now.at) {
                match ev {
                    TcEvent::IdleTimeout => {
                        m::count!(m::TCAP_DIALOGUES_TIMED_OUT, [], 1);
                        let mut bufs = BUFFERS.take();
                        bufs.out.clear();
                        if let Ok(true) =
                            self.dialogue
                                .u_abort(now.at, &mut bufs.out, UAbortReason::UserSpecific)
                        {
                            let _ = self.reply(&bufs.out, &mut bufs.scratch);
                        }
                        BUFFERS.set(bufs);
                        self.gone = true;
                        self.feed_at(ctx, CallEvent::Aborted, now);
                        return;
                    }
                    TcEvent::InvokeTimeout { invoke_id, .. }
                        if Some(invoke_id) == self.pin_invoke =>
                    {
                        self.pin_invoke = None;
                        self.feed_at(ctx, CallEvent::PinFailed, now);
                    }
                    _ => {}
                }
            }
        }
        if self.call.poll_timeout().is_some_and(|t| t <= now.wall_ms) {
            self.feed_at(ctx, CallEvent::Timeout, now);
        } else {
            self.schedule(ctx, now);
        }
    }

    /// Shutdown: release a call still alive, settling it by the abort policy.
    fn release_now(&mut self, ctx: &mut Context<Self>) {
        if !self.gone && !self.dialogue.is_closed() {
            let cause = self.engine.services.service.timeout_cause;
            self.send_ops(
                ctx,
                &[Op::ReleaseCall { cause }],
                DialogueEnd::End,
                Instant::now(),
            );
        }
        self.gone = true;
        self.feed(ctx, CallEvent::Aborted);
    }
}

/// Watches the call's timer from inside the actor's context (its `poll` gets the actor) and
/// runs [`CallActor::on_timer`] when it fires, then ends; [`CallActor::schedule`] spawns the
/// next when it arms the timer again. A unit struct: spawning one allocates nothing, and it
/// is polled as soon as it is spawned, so the timer has its waker from then on.
struct TimerTask;

impl ActorFuture<CallActor> for TimerTask {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut CallActor,
        ctx: &mut Context<CallActor>,
        task: &mut std::task::Context<'_>,
    ) -> Poll<()> {
        let Some(timer) = act.timer.as_mut() else {
            act.timer_armed = false;
            return Poll::Ready(());
        };
        if Future::poll(timer.as_mut(), task).is_pending() {
            // The waker stays with the timer when `schedule` moves it.
            return Poll::Pending;
        }
        act.timer_armed = false;
        act.on_timer(ctx);
        Poll::Ready(())
    }
}

/// An instant of the monotonic clock in 8 bytes (an `Instant` takes 16): nanoseconds since a
/// fixed point of this process, plus one.
#[derive(Clone, Copy, Debug)]
struct MonoTime(NonZeroU64);

impl MonoTime {
    fn epoch() -> Instant {
        static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
        *EPOCH
    }

    fn at(t: Instant) -> Self {
        let ns = t.saturating_duration_since(Self::epoch()).as_nanos();
        MonoTime(NonZeroU64::MIN.saturating_add(u64::try_from(ns).unwrap_or(u64::MAX)))
    }

    /// The time from this instant to `now`.
    fn until(self, now: Instant) -> Duration {
        let at = Self::epoch() + Duration::from_nanos(self.0.get() - 1);
        now.saturating_duration_since(at)
    }
}

/// The CAP/INAP dialect a dialogue speaks, from its negotiated application context (CAP v2
/// when the Begin carried none and the configuration accepted it).
fn dialect_of(dialogue: &Dialogue) -> Dialect {
    dialogue
        .application_context()
        .and_then(|ac| strowger_cap::dialect_from_oid(ac.as_bytes()))
        .unwrap_or(Dialect::CapV2)
}

/// Subscriber digits in logs: only the last three digits are shown.
fn mask(digits: &str) -> String {
    let keep = digits.len().saturating_sub(3);
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { c })
        .collect()
}

fn step_of(dialect: Dialect, pin_invoke: Option<InvokeId>, ev: TcEvent<'_>) -> Step {
    match ev {
        TcEvent::Invoke {
            invoke_id,
            opcode,
            parameter,
            ..
        } => {
            let Code::Local(code) = opcode else {
                return Step::Reject(invoke_id, InvokeProblem::UNRECOGNIZED_OPERATION);
            };
            let op = OpCode(code);
            m::count!(
                m::CAP_OPERATIONS,
                [
                    ("operation", op.name().unwrap_or("other")),
                    ("direction", "in"),
                ],
                1,
            );
            match capmap::incoming(dialect, op, parameter.map(|t| t.raw)) {
                // Operations from the SSF are class 2/4: nothing more is owed for them.
                Ok(Incoming::Event(ev)) => Step::Invoked(ev, invoke_id),
                Ok(Incoming::ActivityTest) => Step::ActivityTest(invoke_id),
                Ok(Incoming::Ignored(_)) => Step::Done(invoke_id),
                Err(e) => {
                    m::count!(
                        m::DECODE_ERRORS,
                        [("layer", "cap"), ("reason", "argument")],
                        1,
                    );
                    let problem = match e {
                        strowger_cap::CapError::UnknownOperation(_) => {
                            InvokeProblem::UNRECOGNIZED_OPERATION
                        }
                        _ => InvokeProblem::MISTYPED_PARAMETER,
                    };
                    Step::Reject(invoke_id, problem)
                }
            }
        }
        TcEvent::Result {
            invoke_id,
            parameter,
            ..
        } if Some(invoke_id) == pin_invoke => {
            match capmap::collected_digits(dialect, parameter.map(|t| t.raw)) {
                Ok(d) => Step::Event(CallEvent::PinCollected(d)),
                Err(_) => Step::Event(CallEvent::PinFailed),
            }
        }
        TcEvent::Error { invoke_id, .. }
        | TcEvent::Reject {
            invoke_id: Some(invoke_id),
            ..
        } if Some(invoke_id) == pin_invoke => Step::Event(CallEvent::PinFailed),
        TcEvent::Aborted { reason } => Step::PeerGone(match reason {
            AbortReason::Provider(_) | AbortReason::ProviderDialogue => "provider",
            AbortReason::User => "user",
            AbortReason::Refused { .. } => "refused",
        }),
        TcEvent::Ended => Step::PeerGone("ended_by_peer"),
        _ => Step::Nothing,
    }
}

impl Actor for CallActor {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.engine.table.remove(&self.tid());
        m::gauge_add!(m::TCAP_DIALOGUES_ACTIVE, [], -1.0);
    }
}

impl Handler<CallMsg> for CallActor {
    type Result = ();

    fn handle(&mut self, msg: CallMsg, ctx: &mut Self::Context) {
        match msg {
            CallMsg::Begin(bytes) => {
                let now = Now::read();
                self.on_tcap(ctx, &bytes, now);
                self.schedule(ctx, now);
            }
            CallMsg::Tcap(bytes) => {
                self.engine.inflight.fetch_sub(1, Ordering::Relaxed);
                self.on_tcap(ctx, &bytes, Now::read());
            }
            CallMsg::Broken => self.lost(ctx, "broken"),
            CallMsg::LinkLost => self.link_gone(ctx),
            CallMsg::Release => self.release_now(ctx),
        }
    }
}

/// Answer a Begin the SCP will not serve (overload, shutdown): TC-END with the overload
/// treatment and, for overload in dialects that have it, a CallGap on the service key.
pub fn refuse(
    engine: &Arc<Engine>,
    mut dialogue: Dialogue,
    begin: &Message<'_>,
    route: &ReplyRoute,
    why: Refusal,
) {
    let now = Instant::now();
    let dialect = dialect_of(&dialogue);
    let mut service_key = None;
    let mut ids = Vec::new();
    for ev in dialogue.handle(now, begin) {
        if let TcEvent::Invoke {
            invoke_id,
            opcode: Code::Local(0),
            parameter,
            ..
        } = ev
        {
            if let Ok(strowger_cap::Operation::InitialDp(idp)) = strowger_cap::Operation::decode(
                dialect,
                OpCode::INITIAL_DP,
                parameter.map(|t| t.raw),
            ) {
                service_key = Some(idp.service_key);
            }
            ids.push(invoke_id);
        }
    }
    for id in ids {
        dialogue.release_invoke(id);
    }
    m::count!(m::CALL_ATTEMPTS, [], 1);
    let cfg = &engine.config.engine;
    let mut param = BytesMut::with_capacity(128);
    let timeout = Duration::from_secs(1);
    if why == Refusal::Overload {
        m::count!(m::ADMISSION_REJECTIONS, [], 1);
        let cause = match cfg.overload_treatment {
            Treatment::Release { cause } => cause,
            Treatment::Continue => 42,
        };
        if let Some(key) = service_key {
            if let Ok(Some(code)) = capmap::call_gap(
                dialect,
                key,
                cfg.call_gap_duration_seconds,
                cfg.call_gap_interval_ms,
                cause,
                &mut param,
            ) {
                if dialogue
                    .send_invoke(
                        now,
                        Code::Local(code.0),
                        None,
                        Some(&param),
                        OperationClass::Class4,
                        timeout,
                    )
                    .is_ok()
                {
                    m::count!(m::CALLGAPS_SENT, [], 1);
                }
            }
        }
    }
    let op = match cfg.overload_treatment {
        Treatment::Continue => Op::Continue,
        Treatment::Release { cause } => Op::ReleaseCall { cause },
    };
    if let Ok((code, has)) = capmap::encode_op(dialect, &op, &mut param) {
        let p = has.then_some(&param[..]);
        let _ = dialogue.send_invoke(
            now,
            Code::Local(code.0),
            None,
            p,
            OperationClass::Class4,
            timeout,
        );
    }
    let mut out = BytesMut::with_capacity(256);
    if let Ok(true) = dialogue.end(now, &mut out, EndKind::Basic) {
        super::dispatch::send_raw(route, &out, "end");
    }
    let label = match why {
        Refusal::Overload => "overload",
        Refusal::Draining => "draining",
    };
    m::count!(m::CALLS, [("outcome", label)], 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The call actor, with the call and the TCAP dialogue inside it, is memory held by every
    /// live call for its whole life, in the actor's task: actix's `ContextFut` (context +
    /// actor) inside a tokio task cell, which is that plus 104 bytes rounded up to 128
    /// (x86-64). At most 920 bytes of `ContextFut` keep the cell at 1024 bytes, not 1152.
    /// Raise these bounds only on purpose.
    #[test]
    fn call_state_stays_small() {
        let fut = size_of::<dev::ContextFut<CallActor, Context<CallActor>>>();
        assert!(
            size_of::<Call>() <= 368,
            "Call: {} bytes",
            size_of::<Call>()
        );
        assert!(
            size_of::<CallActor>() <= 576,
            "CallActor: {} bytes",
            size_of::<CallActor>()
        );
        assert!(fut <= 920, "ContextFut<CallActor>: {fut} bytes");
    }

    /// The wall clock derived from the monotonic one agrees with the system's and moves with it.
    #[test]
    fn event_time_follows_the_wall_clock() {
        let wall = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64
        };
        let before = wall();
        let a = Now::read();
        let after = wall();
        assert!(
            before <= a.wall_ms && a.wall_ms <= after,
            "{before} {a:?} {after}"
        );
        std::thread::sleep(Duration::from_millis(30));
        let b = Now::read();
        let moved = b.wall_ms - a.wall_ms;
        let took = b.at.duration_since(a.at).as_millis() as u64;
        assert!(moved.abs_diff(took) <= 1, "{moved} ms against {took} ms");
        assert!(b.wall_ms <= wall());
    }
}
