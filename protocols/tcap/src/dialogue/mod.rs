//! The transaction and dialogue state machine (Q.774 §3.1 transaction sub-layer, §3.2
//! component sub-layer, §3.2.2 dialogue handling with the dialogue portion of Q.773 §4.2).
//!
//! Sans-IO, quinn-proto style: nothing here reads a clock or a socket. The caller passes
//! `now` in, feeds received messages to [`Dialogue::handle`], asks for the next wake-up
//! with [`Dialogue::poll_timeout`], calls [`Dialogue::handle_timeout`] then, and writes the
//! messages the dialogue builds into its own `BytesMut`.
//!
//! One `Dialogue` is one transaction; a per-call actor owns it. The engine keeps a table
//! from local transaction id ([`Dialogue::local_tid`]) to the owner, allocates ids with a
//! [`TidAllocator`] (or its own scheme), creates responders with [`Dialogue::on_begin`],
//! and answers messages for unknown ids with [`unknown_transaction_abort`].
//!
//! ```text
//!  responder: on_begin ─► InitiationReceived ─continue_─► Active ─end/u_abort/End/Abort─► Closed
//!                                  └──────────── end / u_abort ───────────────────────► Closed
//!  initiator: initiate ─► Idle ─begin─► InitiationSent ─Continue─► Active ─...─► Closed
//!                                              └──── End / Abort / prearranged end ───► Closed
//! ```
//!
//! [`unknown_transaction_abort`]: crate::message::unknown_transaction_abort

mod incoming;
mod invokes;

pub use incoming::Incoming;
pub use invokes::{OperationClass, MAX_OUTSTANDING};

use std::time::{Duration, Instant};

use bytes::BytesMut;
use strowger_ber::Tlv;

use crate::component::{
    write_invoke, write_reject, write_return_error, write_return_result, Code, ComponentPortion,
    InvokeId, Problem,
};
use crate::dialogue_portion::{
    Aare, Aarq, AbortSource, Abrt, AssociateSourceDiagnostic, DialoguePortion, ProviderDiagnostic,
    UserDiagnostic,
};
use crate::message::{
    unknown_transaction_abort, Abort, AbortCause, Begin, Continue, End, Message, PAbortCause,
};
use crate::oid::ObjectId;
use crate::tid::TransactionId;
use invokes::{Invokes, Outstanding};

/// Room made for a message's components at the first one queued (an answer's
/// RequestReportBCSMEvent, ApplyCharging and Connect take about 150 bytes).
const PENDING_START: usize = 256;

/// Dialogue configuration, shared by all dialogues of an engine.
#[derive(Clone, Debug)]
pub struct Config {
    /// The application contexts this side serves; a Begin proposing another one is refused
    /// with an AARE naming the closest of these.
    pub application_contexts: Vec<ObjectId>,
    /// Accept a Begin without a dialogue portion (pre-1993 peers, some INAP SSPs).
    pub accept_without_dialogue: bool,
    /// The dialogue idle timer: [`Event::IdleTimeout`] after this long without a message in
    /// either direction. `None` disables it.
    pub idle_timeout: Option<Duration>,
}

impl Config {
    /// A configuration serving `application_contexts` with a 60 s idle timer.
    pub fn new(application_contexts: Vec<ObjectId>) -> Self {
        Config {
            application_contexts,
            accept_without_dialogue: false,
            idle_timeout: Some(Duration::from_secs(60)),
        }
    }

    /// The supported context to name in a refusal of `proposed`: the one sharing the
    /// longest encoded prefix (the same family in another version), else the first.
    pub fn closest_context(&self, proposed: &ObjectId) -> ObjectId {
        let common = |a: &ObjectId| {
            a.as_bytes()
                .iter()
                .zip(proposed.as_bytes())
                .take_while(|(x, y)| x == y)
                .count()
        };
        let mut best: Option<(usize, ObjectId)> = None;
        for ac in &self.application_contexts {
            let c = common(ac);
            if best.map_or(true, |(b, _)| c > b) {
                best = Some((c, *ac));
            }
        }
        best.map_or(*proposed, |(_, ac)| ac)
    }
}

/// Which side of the dialogue we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the Begin (the call generator).
    Initiator,
    /// We received the Begin (the SCP).
    Responder,
}

/// The transaction state (Q.774 Figures A.3/A.4, with dialogue initiation folded in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Initiator, Begin not yet sent.
    Idle,
    /// Initiator, Begin sent, no answer yet.
    InitiationSent,
    /// Responder, Begin received, not yet answered.
    InitiationReceived,
    /// Both sides know each other's transaction id.
    Active,
    /// Ended or aborted; nothing more is sent or delivered.
    Closed,
}

/// How to end a dialogue (Q.771 §3.1.2.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndKind {
    /// Send an End with the pending components.
    Basic,
    /// Both sides agreed to end without a message: nothing is sent, pending components are
    /// discarded.
    Prearranged,
}

/// Why the TC-user aborts (Q.771 TC-U-ABORT abort reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UAbortReason {
    /// A user-specific abort: ABRT with abort-source dialogue-service-user.
    UserSpecific,
    /// Refuse a proposed dialogue: AARE reject-permanent, dialogue-service-user
    /// no-reason-given (only before the first answer; otherwise as `UserSpecific`).
    DialogueRefused,
    /// Refuse a proposed application context: AARE reject-permanent, dialogue-service-user
    /// application-context-name-not-supported, naming the closest supported context.
    AcNotSupported,
}

/// Why a dialogue was aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AbortReason {
    /// A P-Abort from the peer's TC provider, or one our provider raised.
    Provider(PAbortCause),
    /// A dialogue portion problem: ABRT with abort-source dialogue-service-provider, or
    /// an answer lacking the AARE we needed.
    ProviderDialogue,
    /// The peer's TC-user aborted (ABRT from the user, or an Abort without reason).
    User,
    /// The peer refused the dialogue: AARE reject-permanent. On
    /// application-context-name-not-supported `application_context` is one it supports.
    Refused {
        /// `result-source-diagnostic`.
        diagnostic: AssociateSourceDiagnostic,
        /// `application-context-name` of the AARE.
        application_context: ObjectId,
    },
}

/// What the dialogue tells its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Initiator: the peer answered the Begin and accepted the dialogue (TC-CONTINUE or
    /// TC-END confirmation); `application_context` as the AARE names it.
    Accepted {
        /// The accepted context (`None` for a dialogue without dialogue portion).
        application_context: Option<ObjectId>,
    },
    /// TC-INVOKE indication. Answer it with [`Dialogue::send_result`] /
    /// [`Dialogue::send_error`] / [`Dialogue::send_reject`], or, for an operation with no
    /// answer (class 2 success, class 4), [`Dialogue::release_invoke`], so that its id is
    /// free for the duplicate check again.
    Invoke {
        /// `invokeID`.
        invoke_id: InvokeId,
        /// `linkedID`.
        linked_id: Option<InvokeId>,
        /// `opCode`.
        opcode: Code,
        /// The argument TLV, borrowed from the message.
        parameter: Option<Tlv<'a>>,
    },
    /// TC-RESULT-L / TC-RESULT-NL indication for one of our invokes.
    Result {
        /// `invokeID`.
        invoke_id: InvokeId,
        /// The operation code of the result, if the result SEQUENCE was present.
        opcode: Option<Code>,
        /// The result TLV.
        parameter: Option<Tlv<'a>>,
        /// True for ReturnResultLast.
        last: bool,
    },
    /// TC-U-ERROR indication for one of our invokes.
    Error {
        /// `invokeID`.
        invoke_id: InvokeId,
        /// `errorCode`.
        code: Code,
        /// The error parameter TLV.
        parameter: Option<Tlv<'a>>,
    },
    /// A reject: `local` for TC-L-REJECT (we found a bad component and, if the dialogue
    /// goes on, queued a Reject to the peer), otherwise TC-R-REJECT / TC-U-REJECT from the
    /// peer.
    Reject {
        /// The invoke id, if derivable.
        invoke_id: Option<InvokeId>,
        /// The problem.
        problem: Problem,
        /// True if we detected it.
        local: bool,
    },
    /// TC-L-CANCEL: the invocation timer of one of our invokes expired.
    InvokeTimeout {
        /// `invokeID`.
        invoke_id: InvokeId,
        /// The operation invoked.
        opcode: Code,
        /// Its class, to tell a normal expiry (class 2, 4) from a lost answer.
        class: OperationClass,
    },
    /// The dialogue idle timer expired; the user should end or abort the dialogue.
    IdleTimeout,
    /// The peer ended the dialogue (TC-END indication); delivered after its components.
    Ended,
    /// The dialogue was aborted (TC-U-ABORT / TC-P-ABORT indication).
    Aborted {
        /// Why.
        reason: AbortReason,
    },
}

/// A request the dialogue cannot carry out now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The request is not allowed in this state.
    #[error("not allowed in state {0:?}")]
    WrongState(State),
    /// [`MAX_OUTSTANDING`] invocations are already outstanding.
    #[error("too many outstanding invocations")]
    TooManyInvokes,
}

/// Hands out four-octet local transaction ids from a counter.
#[derive(Clone, Debug)]
pub struct TidAllocator {
    next: u32,
}

impl TidAllocator {
    /// Start counting at `start` (e.g. a random number, so restarts do not reuse ids soon).
    pub fn new(start: u32) -> Self {
        TidAllocator { next: start }
    }

    /// The next id. The engine must skip ids still in its table (after 2^32 allocations).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> TransactionId {
        let t = TransactionId::from_u32(self.next);
        self.next = self.next.wrapping_add(1);
        t
    }
}

/// [`Config::idle_timeout`] as each dialogue keeps it: 8 bytes instead of 16, whole
/// nanoseconds with `u64::MAX` for none (a timeout of 584 years or more is cut to just under).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IdleTimeout(u64);

impl IdleTimeout {
    const NONE: u64 = u64::MAX;

    fn new(t: Option<Duration>) -> Self {
        IdleTimeout(t.map_or(Self::NONE, |t| {
            u64::try_from(t.as_nanos()).map_or(Self::NONE - 1, |n| n.min(Self::NONE - 1))
        }))
    }

    fn get(self) -> Option<Duration> {
        (self.0 != Self::NONE).then(|| Duration::from_nanos(self.0))
    }
}

/// One TCAP transaction with its dialogue and invocations.
#[derive(Debug)]
pub struct Dialogue {
    role: Role,
    state: State,
    local_tid: TransactionId,
    peer_tid: Option<TransactionId>,
    /// The application context; `Some` exactly when the dialogue uses a dialogue portion.
    ac: Option<ObjectId>,
    /// Responder: the first backward message must carry an AARE accepted.
    aare_owed: bool,
    /// Responder: the components of the Begin have not been delivered yet.
    begin_undelivered: bool,
    invokes: Invokes,
    /// The invoke id to try first for our next invocation.
    next_invoke_id: InvokeId,
    pending: BytesMut,
    idle_timeout: IdleTimeout,
    idle_deadline: Option<Instant>,
    /// Rarely set: boxed so a dialogue carries only a pointer for it.
    transmit: Option<Box<Abort<'static>>>,
}

impl Dialogue {
    fn new(role: Role, state: State, local_tid: TransactionId, config: &Config) -> Self {
        Dialogue {
            role,
            state,
            local_tid,
            peer_tid: None,
            ac: None,
            aare_owed: false,
            begin_undelivered: false,
            invokes: Invokes::new(),
            next_invoke_id: 1,
            pending: BytesMut::new(),
            idle_timeout: IdleTimeout::new(config.idle_timeout),
            idle_deadline: None,
            transmit: None,
        }
    }

    /// Responder: take a received Begin. Negotiates the application context against
    /// `config`; on success the dialogue is in `InitiationReceived`, and the same Begin must
    /// then be passed to [`handle`](Self::handle) to get its components. On failure the
    /// `Abort` to send back is returned (AARE reject-permanent with
    /// application-context-name-not-supported naming a supported context, or
    /// no-common-dialogue-portion for an unsupported protocol version, or ABRT from the
    /// provider for a wrong dialogue APDU, or a bare Abort for a missing dialogue portion).
    pub fn on_begin(
        now: Instant,
        local_tid: TransactionId,
        begin: &Begin<'_>,
        config: &Config,
    ) -> Result<Dialogue, Abort<'static>> {
        let refuse = |reason| Abort {
            dtid: begin.otid,
            reason,
        };
        let ac = match &begin.dialogue {
            Some(DialoguePortion::Aarq(aarq)) => {
                let proposed = aarq.application_context;
                if aarq
                    .protocol_version
                    .is_some_and(|v| !v.supports_version1())
                {
                    return Err(refuse(Some(AbortCause::UAbort(DialoguePortion::Aare(
                        Aare::rejected(
                            proposed,
                            AssociateSourceDiagnostic::Provider(
                                ProviderDiagnostic::NO_COMMON_DIALOGUE_PORTION,
                            ),
                        ),
                    )))));
                }
                if !config.application_contexts.contains(&proposed) {
                    return Err(refuse(Some(AbortCause::UAbort(DialoguePortion::Aare(
                        Aare::rejected(
                            config.closest_context(&proposed),
                            AssociateSourceDiagnostic::User(
                                UserDiagnostic::APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
                            ),
                        ),
                    )))));
                }
                Some(proposed)
            }
            Some(_) => {
                return Err(refuse(Some(AbortCause::UAbort(DialoguePortion::Abrt(
                    Abrt {
                        abort_source: AbortSource::DIALOGUE_SERVICE_PROVIDER,
                        user_information: None,
                    },
                )))))
            }
            None if config.accept_without_dialogue => None,
            None => return Err(refuse(None)),
        };
        let mut d = Dialogue::new(
            Role::Responder,
            State::InitiationReceived,
            local_tid,
            config,
        );
        d.peer_tid = Some(begin.otid);
        d.ac = ac;
        d.aare_owed = ac.is_some();
        d.begin_undelivered = true;
        d.touch(now);
        Ok(d)
    }

    /// Initiator: a new dialogue proposing `application_context` (`None` for a dialogue
    /// without dialogue portion). Queue invokes, then call [`begin`](Self::begin).
    pub fn initiate(
        local_tid: TransactionId,
        application_context: Option<ObjectId>,
        config: &Config,
    ) -> Dialogue {
        let mut d = Dialogue::new(Role::Initiator, State::Idle, local_tid, config);
        d.ac = application_context;
        d
    }

    /// Our side.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The state.
    pub fn state(&self) -> State {
        self.state
    }
    /// True once ended or aborted: the owner may drop the dialogue and its table entry.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }
    /// Our transaction id (the key of the engine's table).
    pub fn local_tid(&self) -> TransactionId {
        self.local_tid
    }
    /// The peer's transaction id, once known.
    pub fn peer_tid(&self) -> Option<TransactionId> {
        self.peer_tid
    }
    /// The application context (proposed, then agreed), if the dialogue has a dialogue
    /// portion.
    pub fn application_context(&self) -> Option<ObjectId> {
        self.ac
    }
    /// How many of our invocations are outstanding.
    pub fn outstanding_invokes(&self) -> usize {
        self.invokes.count()
    }
    /// True if components are queued for the next message.
    pub fn has_pending_components(&self) -> bool {
        !self.pending.is_empty()
    }

    fn touch(&mut self, now: Instant) {
        self.idle_deadline = self.idle_timeout.get().map(|t| now + t);
    }

    /// Forget the components just sent, and their buffer: a dialogue waiting for the peer
    /// (most of its life) holds no component memory.
    fn drop_pending(&mut self) {
        self.pending = BytesMut::new();
    }

    /// The buffer the next component goes into: made with room for a message's usual
    /// components at the first one (growing from nothing took a reallocation every few bytes).
    fn pending_buf(&mut self) -> &mut BytesMut {
        if self.pending.capacity() == 0 {
            self.pending.reserve(PENDING_START);
        }
        &mut self.pending
    }

    /// About to queue `n` invokes at once: make room for them in the invoke table in one step
    /// (it otherwise grows by one slot per invoke, so that a call's memory stays exact).
    pub fn reserve_invokes(&mut self, n: usize) {
        self.invokes.reserve(n);
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.invokes.clear();
        self.drop_pending();
        self.idle_deadline = None;
        self.aare_owed = false;
    }

    /// Take a received message addressed to this dialogue (by its dtid; or the Begin given
    /// to [`on_begin`](Self::on_begin)). The returned iterator yields the events in order:
    /// `Accepted` first (initiator, first answer), then one per component, then `Ended` or
    /// `Aborted`. Dropping it early processes (and discards) the rest. Afterwards call
    /// [`poll_transmit`](Self::poll_transmit): the provider may owe the peer an Abort.
    pub fn handle<'d, 'a>(&'d mut self, now: Instant, msg: &Message<'a>) -> Incoming<'d, 'a> {
        let mut inc = Incoming::new();
        if self.state == State::Closed {
            // Continue after End / Abort: the transaction no longer exists for the peer.
            self.transmit = unknown_transaction_abort(msg).map(Box::new);
            return inc.with(self);
        }
        match (msg, self.state) {
            (Message::Begin(b), State::InitiationReceived) if self.begin_undelivered => {
                self.begin_undelivered = false;
                inc.comps = b.components.map(|c| c.iter());
                inc.can_reply = true;
            }
            (Message::Continue(c), State::InitiationSent) => {
                self.touch(now);
                self.peer_tid = Some(c.otid);
                match self.confirm(c.dialogue.as_ref()) {
                    Ok(ev) => {
                        self.state = State::Active;
                        inc.pre = Some(ev);
                        inc.comps = c.components.map(|c| c.iter());
                        inc.can_reply = true;
                    }
                    Err(reason) => {
                        self.transmit = Some(Box::new(provider_abrt(c.otid)));
                        self.close();
                        inc.post = Some(Event::Aborted { reason });
                    }
                }
            }
            (Message::Continue(c), State::Active) => {
                self.touch(now);
                inc.comps = c.components.map(|c| c.iter());
                inc.can_reply = true;
            }
            (Message::End(e), State::InitiationSent) => match self.confirm(e.dialogue.as_ref()) {
                Ok(ev) => {
                    self.state = State::Closed;
                    inc.pre = Some(ev);
                    inc.comps = e.components.map(|c| c.iter());
                    inc.post = Some(Event::Ended);
                    inc.close_after = true;
                }
                Err(reason) => {
                    self.close();
                    inc.post = Some(Event::Aborted { reason });
                }
            },
            (Message::End(e), State::Active) => {
                self.state = State::Closed;
                inc.comps = e.components.map(|c| c.iter());
                inc.post = Some(Event::Ended);
                inc.close_after = true;
            }
            (
                Message::Abort(a),
                State::InitiationSent | State::Active | State::InitiationReceived,
            ) => {
                self.close();
                inc.post = Some(Event::Aborted {
                    reason: abort_reason(a.reason.as_ref()),
                });
            }
            (Message::Continue(_), _) => {
                // A Continue before we made our id known cannot be ours.
                self.transmit = unknown_transaction_abort(msg).map(Box::new);
            }
            _ => {}
        }
        inc.with(self)
    }

    /// Initiator: check the first answer's dialogue portion against what we proposed.
    fn confirm(&mut self, dp: Option<&DialoguePortion<'_>>) -> Result<Event<'static>, AbortReason> {
        match (self.ac, dp) {
            (None, _) => Ok(Event::Accepted {
                application_context: None,
            }),
            (Some(_), Some(DialoguePortion::Aare(aare)))
                if aare.result == crate::dialogue_portion::AssociateResult::ACCEPTED =>
            {
                self.ac = Some(aare.application_context);
                Ok(Event::Accepted {
                    application_context: self.ac,
                })
            }
            (Some(_), _) => Err(AbortReason::ProviderDialogue),
        }
    }

    /// Process one received component in the dialogue's context.
    pub(crate) fn on_component<'a>(
        &mut self,
        c: Result<crate::component::Component<'a>, crate::component::ComponentError>,
        can_reply: bool,
    ) -> Event<'a> {
        use crate::component::{
            Component, InvokeProblem as IP, ReturnErrorProblem as EP, ReturnResultProblem as RP,
        };
        let reject = |d: &mut Dialogue, id: Option<InvokeId>, problem: Problem| {
            if can_reply {
                write_reject(d.pending_buf(), id, problem);
            }
            Event::Reject {
                invoke_id: id,
                problem,
                local: true,
            }
        };
        match c {
            Err(e) => match e.reject() {
                Some(r) => reject(self, r.invoke_id, r.problem),
                None => Event::Reject {
                    invoke_id: e.invoke_id,
                    problem: e.problem,
                    local: true,
                },
            },
            Ok(Component::Invoke(inv)) => {
                let id = inv.invoke_id;
                if self.invokes.peer_is_active(id) {
                    return reject(self, Some(id), Problem::Invoke(IP::DUPLICATE_INVOKE_ID));
                }
                if let Some(l) = inv.linked_id {
                    if self.invokes.get(l).is_none() {
                        return reject(self, Some(id), Problem::Invoke(IP::UNRECOGNIZED_LINKED_ID));
                    }
                }
                self.invokes.peer_start(id);
                Event::Invoke {
                    invoke_id: id,
                    linked_id: inv.linked_id,
                    opcode: inv.opcode,
                    parameter: inv.parameter,
                }
            }
            Ok(Component::ReturnResultLast(rr)) | Ok(Component::ReturnResultNotLast(rr)) => {
                let last = matches!(c, Ok(Component::ReturnResultLast(_)));
                let id = rr.invoke_id;
                let Some(class) = self.invokes.get(id).map(Outstanding::class) else {
                    return reject(
                        self,
                        Some(id),
                        Problem::ReturnResult(RP::UNRECOGNIZED_INVOKE_ID),
                    );
                };
                if !class.result_expected() {
                    self.invokes.remove(id);
                    return reject(
                        self,
                        Some(id),
                        Problem::ReturnResult(RP::RETURN_RESULT_UNEXPECTED),
                    );
                }
                if last {
                    self.invokes.remove(id);
                }
                Event::Result {
                    invoke_id: id,
                    opcode: rr.result.map(|r| r.opcode),
                    parameter: rr.result.and_then(|r| r.parameter),
                    last,
                }
            }
            Ok(Component::ReturnError(re)) => {
                let id = re.invoke_id;
                let Some(o) = self.invokes.remove(id) else {
                    return reject(
                        self,
                        Some(id),
                        Problem::ReturnError(EP::UNRECOGNIZED_INVOKE_ID),
                    );
                };
                if !o.class().error_expected() {
                    return reject(
                        self,
                        Some(id),
                        Problem::ReturnError(EP::RETURN_ERROR_UNEXPECTED),
                    );
                }
                Event::Error {
                    invoke_id: id,
                    code: re.error_code,
                    parameter: re.parameter,
                }
            }
            Ok(Component::Reject(rj)) => {
                if let Some(id) = rj.invoke_id {
                    match rj.problem {
                        // The peer rejected our Invoke: that invocation is over.
                        Problem::Invoke(_) => {
                            self.invokes.remove(id);
                        }
                        // The peer rejected our answer to its invoke.
                        Problem::ReturnResult(_) | Problem::ReturnError(_) => {
                            self.invokes.peer_done(id)
                        }
                        Problem::General(_) => {}
                    }
                }
                Event::Reject {
                    invoke_id: rj.invoke_id,
                    problem: rj.problem,
                    local: false,
                }
            }
        }
    }

    pub(crate) fn finish_incoming(&mut self, close_after: bool) {
        if close_after {
            self.close();
        }
    }

    fn check_open(&self) -> Result<(), SendError> {
        if self.state == State::Closed {
            Err(SendError::WrongState(self.state))
        } else {
            Ok(())
        }
    }

    /// Queue an Invoke (TC-INVOKE request) whose argument is a complete encoded TLV; starts
    /// its invocation timer. Returns the invoke id allocated.
    pub fn send_invoke(
        &mut self,
        now: Instant,
        opcode: Code,
        linked_id: Option<InvokeId>,
        parameter: Option<&[u8]>,
        class: OperationClass,
        timeout: Duration,
    ) -> Result<InvokeId, SendError> {
        self.check_open()?;
        let id = self
            .invokes
            .start(&mut self.next_invoke_id, opcode, class, now + timeout)
            .ok_or(SendError::TooManyInvokes)?;
        write_invoke(self.pending_buf(), id, linked_id, &opcode, parameter);
        Ok(id)
    }

    /// Queue a ReturnResult (TC-RESULT-L if `last`, else TC-RESULT-NL) answering the peer's
    /// invoke; `result` is the operation code and the encoded result TLV.
    pub fn send_result(
        &mut self,
        invoke_id: InvokeId,
        result: Option<(&Code, Option<&[u8]>)>,
        last: bool,
    ) -> Result<(), SendError> {
        self.check_open()?;
        write_return_result(self.pending_buf(), invoke_id, result, last);
        if last {
            self.invokes.peer_done(invoke_id);
        }
        Ok(())
    }

    /// Queue a ReturnError (TC-U-ERROR) answering the peer's invoke.
    pub fn send_error(
        &mut self,
        invoke_id: InvokeId,
        code: &Code,
        parameter: Option<&[u8]>,
    ) -> Result<(), SendError> {
        self.check_open()?;
        write_return_error(self.pending_buf(), invoke_id, code, parameter);
        self.invokes.peer_done(invoke_id);
        Ok(())
    }

    /// Queue a Reject (TC-U-REJECT), e.g. `InvokeProblem::UNRECOGNIZED_OPERATION` or
    /// `MISTYPED_PARAMETER` found by the application layer.
    pub fn send_reject(
        &mut self,
        invoke_id: Option<InvokeId>,
        problem: Problem,
    ) -> Result<(), SendError> {
        self.check_open()?;
        write_reject(self.pending_buf(), invoke_id, problem);
        if let (Some(id), Problem::Invoke(_)) = (invoke_id, problem) {
            self.invokes.peer_done(id);
        }
        Ok(())
    }

    /// The peer's invoke `invoke_id` needs no answer (class 2 success, class 4): free its id.
    pub fn release_invoke(&mut self, invoke_id: InvokeId) {
        self.invokes.peer_done(invoke_id);
    }

    /// TC-U-CANCEL: stop waiting for the answer to our invoke `invoke_id`. Returns whether
    /// it was outstanding.
    pub fn cancel_invoke(&mut self, invoke_id: InvokeId) -> bool {
        self.invokes.remove(invoke_id).is_some()
    }

    /// Initiator: write the Begin (with an AARQ if a context was given) and the queued
    /// components into `out`.
    pub fn begin(&mut self, now: Instant, out: &mut BytesMut) -> Result<(), SendError> {
        if self.role != Role::Initiator || self.state != State::Idle {
            return Err(SendError::WrongState(self.state));
        }
        Begin {
            otid: self.local_tid,
            dialogue: self.ac.map(|ac| DialoguePortion::Aarq(Aarq::new(ac))),
            components: self.components(),
        }
        .encode(out);
        self.drop_pending();
        self.state = State::InitiationSent;
        self.touch(now);
        Ok(())
    }

    fn components(&self) -> Option<ComponentPortion<'_>> {
        (!self.pending.is_empty()).then(|| ComponentPortion::new(&self.pending))
    }

    fn backward_dialogue(&mut self) -> Option<DialoguePortion<'static>> {
        let ac = self.ac?;
        if std::mem::take(&mut self.aare_owed) {
            Some(DialoguePortion::Aare(Aare::accepted(ac)))
        } else {
            None
        }
    }

    /// Write a Continue with the queued components (TC-CONTINUE request). The responder's
    /// first Continue carries the AARE accepting the context and moves to `Active`.
    pub fn continue_(&mut self, now: Instant, out: &mut BytesMut) -> Result<(), SendError> {
        let peer = match (self.state, self.peer_tid) {
            (State::InitiationReceived | State::Active, Some(p)) => p,
            _ => return Err(SendError::WrongState(self.state)),
        };
        let dialogue = self.backward_dialogue();
        Continue {
            otid: self.local_tid,
            dtid: peer,
            dialogue,
            components: self.components(),
        }
        .encode(out);
        self.drop_pending();
        self.state = State::Active;
        self.touch(now);
        Ok(())
    }

    /// End the dialogue (TC-END request). A basic end writes an End with the queued
    /// components (and the AARE, if this answers the Begin) and returns `true`; a
    /// prearranged end writes nothing and returns `false`. Outstanding invocations are
    /// dropped. An initiator that has had no answer can only end prearranged.
    pub fn end(
        &mut self,
        now: Instant,
        out: &mut BytesMut,
        kind: EndKind,
    ) -> Result<bool, SendError> {
        let _ = now;
        match (kind, self.state, self.peer_tid) {
            (_, State::Closed, _) => return Err(SendError::WrongState(self.state)),
            (EndKind::Basic, State::InitiationReceived | State::Active, Some(peer)) => {
                let dialogue = self.backward_dialogue();
                End {
                    dtid: peer,
                    dialogue,
                    components: self.components(),
                }
                .encode(out);
                self.close();
                return Ok(true);
            }
            (EndKind::Basic, _, _) => return Err(SendError::WrongState(self.state)),
            (EndKind::Prearranged, _, _) => {}
        }
        self.close();
        Ok(false)
    }

    /// Abort the dialogue (TC-U-ABORT request). Before the first answer to a Begin with a
    /// dialogue portion the refusal is an AARE (reject-permanent); otherwise an ABRT from
    /// the user, or a bare Abort for a dialogue without dialogue portion. An initiator
    /// that has had no answer cannot address the peer: nothing is written. Returns whether
    /// a message was written.
    pub fn u_abort(
        &mut self,
        now: Instant,
        out: &mut BytesMut,
        reason: UAbortReason,
    ) -> Result<bool, SendError> {
        let _ = now;
        self.check_open()?;
        let peer = match (self.state, self.peer_tid) {
            (State::InitiationReceived | State::Active, Some(p)) => p,
            _ => {
                self.close();
                return Ok(false);
            }
        };
        let dialogue = match (self.ac, self.aare_owed, reason) {
            (None, _, _) => None,
            (Some(ac), true, UAbortReason::AcNotSupported) => {
                Some(DialoguePortion::Aare(Aare::rejected(
                    ac,
                    AssociateSourceDiagnostic::User(
                        UserDiagnostic::APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
                    ),
                )))
            }
            (Some(ac), true, UAbortReason::DialogueRefused) => {
                Some(DialoguePortion::Aare(Aare::rejected(
                    ac,
                    AssociateSourceDiagnostic::User(UserDiagnostic::NO_REASON_GIVEN),
                )))
            }
            (Some(_), _, _) => Some(DialoguePortion::Abrt(Abrt {
                abort_source: AbortSource::DIALOGUE_SERVICE_USER,
                user_information: None,
            })),
        };
        Abort {
            dtid: peer,
            reason: dialogue.map(AbortCause::UAbort),
        }
        .encode(out);
        self.close();
        Ok(true)
    }

    /// Our provider found this dialogue's traffic broken (e.g. the engine got a
    /// [`TransactionError`](crate::TransactionError) whose dtid is ours): close it and
    /// return the TC-P-ABORT indication for the user.
    pub fn local_abort(&mut self, cause: PAbortCause) -> Event<'static> {
        self.close();
        Event::Aborted {
            reason: AbortReason::Provider(cause),
        }
    }

    /// Write any message the provider owes the peer (a P-Abort for a Continue to a closed
    /// dialogue, an ABRT for a missing AARE). Returns whether one was written.
    pub fn poll_transmit(&mut self, out: &mut BytesMut) -> bool {
        match self.transmit.take() {
            Some(a) => {
                a.encode(out);
                true
            }
            None => false,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        match (self.idle_deadline, self.invokes.earliest()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Expire timers due at `now`; call until it returns `None`. Each expired invocation
    /// yields `InvokeTimeout` (and is forgotten); an expired idle timer yields `IdleTimeout`
    /// once (it re-arms with the next message).
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Event<'static>> {
        if self.state == State::Closed {
            return None;
        }
        if let Some(o) = self.invokes.take_expired(now) {
            return Some(Event::InvokeTimeout {
                invoke_id: o.id(),
                opcode: o.opcode(),
                class: o.class(),
            });
        }
        if self.idle_deadline.is_some_and(|d| d <= now) {
            self.idle_deadline = None;
            return Some(Event::IdleTimeout);
        }
        None
    }
}

fn provider_abrt(peer: TransactionId) -> Abort<'static> {
    Abort {
        dtid: peer,
        reason: Some(AbortCause::UAbort(DialoguePortion::Abrt(Abrt {
            abort_source: AbortSource::DIALOGUE_SERVICE_PROVIDER,
            user_information: None,
        }))),
    }
}

fn abort_reason(reason: Option<&AbortCause<'_>>) -> AbortReason {
    match reason {
        None => AbortReason::User,
        Some(AbortCause::PAbort(c)) => AbortReason::Provider(*c),
        Some(AbortCause::UAbort(DialoguePortion::Aare(a))) => AbortReason::Refused {
            diagnostic: a.diagnostic,
            application_context: a.application_context,
        },
        Some(AbortCause::UAbort(DialoguePortion::Abrt(a)))
            if a.abort_source == AbortSource::DIALOGUE_SERVICE_PROVIDER =>
        {
            AbortReason::ProviderDialogue
        }
        Some(AbortCause::UAbort(_)) => AbortReason::User,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialogue lives inside every call for the call's whole life: its size is memory per
    /// call. Raise the bound only on purpose.
    #[test]
    fn dialogue_stays_small() {
        assert!(size_of::<Dialogue>() <= 160);
    }

    #[test]
    fn idle_timeout_round_trips() {
        for t in [
            None,
            Some(Duration::ZERO),
            Some(Duration::from_millis(1500)),
        ] {
            assert_eq!(IdleTimeout::new(t).get(), t);
        }
        let max = IdleTimeout::new(Some(Duration::MAX)).get();
        assert!(max.is_some_and(|t| t > Duration::from_secs(500 * 365 * 86_400)));
    }
}
