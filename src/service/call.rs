//! The per-call VPN service logic (claims 1–8), sans-IO.
//!
//! One [`Call`] per TCAP dialogue. The actor feeds it [`CallEvent`]s with the current time
//! (`handle(now, event, &mut actions)`), carries out the [`Action`]s it pushes (send CAP
//! operations, send a prepaid request, write a CDR) and wakes it with [`CallEvent::Timeout`]
//! when [`Call::poll_timeout`] passes. No clocks, no I/O, no panics.
//!
//! Flow (DESIGN §1):
//! 1. InitialDP: service key → groups; the caller must be an active member of one (claim 2);
//!    the dialled number is translated and screened (numbering plan); a PIN is collected when the
//!    member's profile asks (ConnectToResource + PromptAndCollectUserInformation).
//! 2. Postpaid member (claim 1A): RequestReportBCSMEvent + Connect; CDR at the end.
//! 3. Prepaid member (claim 1B): Authenticate (claims 3–5) → ApplyFee (claim 6) → RRBE +
//!    ApplyCharging(the time the grant buys) + Connect. The two requests travel together
//!    ([`Action::Admit`]): the ledger applies the fee only if the authentication passed. On each ApplyChargingReport with
//!    callActive = TRUE: Reapply (deduct the period, reserve the next slice) → ApplyCharging.
//! 4. End: Deduct the last period (claim 7), Return the rest and close the reservation
//!    (claim 8), answer the switch, write the CDR. Unanswered calls deduct nothing. The Deduct
//!    and the Return travel together ([`Action::Settle`]): two requests with their own keys and
//!    answers, which the ledger applies in order and makes durable in one group commit.
//! 5. Lost dialogue (Aborted, Timeout): settled by [`AbortPolicy`]; the reservation is always
//!    closed.
//!
//! At most one prepaid request (or Authenticate + ApplyFee, or Deduct + Return pair) is outstanding. The switch-facing side and the ledger-facing
//! side progress independently: the switch gets its answer as soon as the call's end is known,
//! the CDR and [`Action::Done`] come once the reservation is closed.

use std::sync::Arc;

use super::cdr::{Cdr, ChargingMode, Outcome};
use super::config::{
    AbortPolicy, ServiceConfig, Treatment, UnknownKeyAction, CAUSE_NORMAL_CLEARING,
};
use super::numbering::{self, Destination, Digits, Nature, Number};
use super::pin;
use super::provisioning::{Charging, PinPolicy, Provisioning};
use super::rating::MAX_CALL_PERIOD_100MS;
use crate::prepaid::{AccountId, CallId, Money, OpKey, PrepaidRequest, PrepaidResponse, Refusal};

/// Wall-clock time, milliseconds since the Unix epoch (passed in; CDRs carry it).
pub type Timestamp = u64;

/// What the switch asked for (InitialDP, dialect-independent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialRequest {
    /// Service key.
    pub service_key: u32,
    /// Calling party number.
    pub calling: Number,
    /// Called party (BCD) number as dialled.
    pub called: Number,
}

/// A call leg (CAP LegID: 1 = calling, 2 = called).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    /// Leg 1, the calling party.
    Calling,
    /// Leg 2, the called party.
    Called,
}

/// A reported BCSM event (EventReportBCSM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BcsmEvent {
    /// routeSelectFailure.
    RouteSelectFailure,
    /// oCalledPartyBusy.
    Busy,
    /// oNoAnswer.
    NoAnswer,
    /// oAnswer.
    Answer,
    /// oDisconnect on a leg.
    Disconnect {
        /// Which leg hung up.
        leg: Leg,
    },
    /// oAbandon.
    Abandon,
}

/// An input to the call machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallEvent {
    /// InitialDP.
    Initial(InitialRequest),
    /// The answer to the outstanding prepaid request.
    Prepaid(PrepaidResponse),
    /// The answers to an [`Action::Settle`]: the Deduct's, then the Return's.
    Settled(PrepaidResponse, PrepaidResponse),
    /// The answers to an [`Action::Admit`]: the Authenticate's, then the ApplyFee's.
    Admitted(PrepaidResponse, PrepaidResponse),
    /// PromptAndCollectUserInformation result: the digits.
    PinCollected(String),
    /// PromptAndCollectUserInformation failed (error, timeout, no digits).
    PinFailed,
    /// SpecializedResourceReport: the announcement finished.
    AnnouncementDone,
    /// EventReportBCSM.
    Bcsm(BcsmEvent),
    /// ApplyChargingReport: `elapsed_100ms` is timeIfNoTariffSwitch, cumulative since answer
    /// (0 if never answered).
    ChargingReport {
        /// Time since answer, 100 ms units.
        elapsed_100ms: u64,
        /// callActive.
        call_active: bool,
    },
    /// The dialogue is gone (TC-ABORT, link loss): nothing more can be sent.
    Aborted,
    /// [`Call::poll_timeout`] passed.
    Timeout,
}

/// A BCSM event type to arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BcsmEventType {
    /// routeSelectFailure (4).
    RouteSelectFailure,
    /// oCalledPartyBusy (5).
    Busy,
    /// oNoAnswer (6).
    NoAnswer,
    /// oAnswer (7).
    Answer,
    /// oDisconnect (9).
    Disconnect,
    /// oAbandon (10).
    Abandon,
}

/// Monitor mode of an armed event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MonitorMode {
    /// EDP-R: the switch waits for an instruction.
    Interrupted,
    /// EDP-N: the switch reports and goes on.
    NotifyAndContinue,
}

/// One event of a RequestReportBCSMEvent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BcsmArm {
    /// Event.
    pub event: BcsmEventType,
    /// Mode.
    pub mode: MonitorMode,
    /// Leg, where CAP carries one.
    pub leg: Option<Leg>,
}

/// An abstract SCP operation; the CAP/INAP layer encodes it for the dialogue's context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// RequestReportBCSMEvent.
    RequestReportBcsm {
        /// Events to arm.
        events: Vec<BcsmArm>,
    },
    /// Connect to a destination routing address.
    Connect {
        /// Digits.
        number: String,
        /// Nature of address.
        nature: Nature,
    },
    /// Continue.
    Continue,
    /// ApplyCharging.
    ApplyCharging {
        /// maxCallPeriodDuration, 100 ms units (1..=864000).
        max_duration_100ms: u64,
        /// releaseIfdurationExceeded.
        release_if_exceeded: bool,
        /// Warning tone before release (CAP `tone`).
        tone: bool,
    },
    /// ReleaseCall with a Q.850 cause.
    ReleaseCall {
        /// Cause value.
        cause: u8,
    },
    /// ConnectToResource (the switch's own SRF).
    ConnectToResource,
    /// PlayAnnouncement.
    PlayAnnouncement {
        /// Message id.
        id: u32,
        /// Ask for a SpecializedResourceReport at the end.
        request_complete: bool,
    },
    /// PromptAndCollectUserInformation.
    PromptAndCollect {
        /// Prompt message id.
        announcement: u32,
        /// Fewest digits.
        min_digits: u8,
        /// Most digits.
        max_digits: u8,
    },
    /// DisconnectForwardConnection (leave the SRF).
    DisconnectForwardConnection,
}

/// How the TCAP dialogue carries a [`Action::Send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogueEnd {
    /// TC-CONTINUE.
    Continue,
    /// TC-END.
    End,
}

/// An output of the call machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send these operations to the switch.
    Send {
        /// Operations, in order.
        ops: Vec<Op>,
        /// Continue or end the dialogue.
        end: DialogueEnd,
    },
    /// Send this request to the prepaid logic; feed its answer back as [`CallEvent::Prepaid`].
    Prepaid(PrepaidRequest),
    /// Claims 3 and 6 in one trip: send the Authenticate and then the ApplyFee to the prepaid
    /// logic together; it applies the fee only if the authentication passes (otherwise the
    /// ApplyFee gets the same refusal and changes nothing). Feed both answers back as
    /// [`CallEvent::Admitted`].
    Admit {
        /// Claims 3–5: prepaid service authentication.
        auth: PrepaidRequest,
        /// Claim 6: apply for the first slice's fee.
        apply: PrepaidRequest,
    },
    /// Send the Deduct and then the Return to the prepaid logic together (applied in this
    /// order, durable together); feed both answers back as [`CallEvent::Settled`].
    Settle {
        /// Claim 7: deduct what the call used.
        deduct: PrepaidRequest,
        /// Claim 8: return the rest and close the reservation.
        ret: PrepaidRequest,
    },
    /// Write this CDR.
    Cdr(Box<Cdr>),
    /// The call is over: nothing more will come out; drop it.
    Done,
    /// An event was ignored (out of order, duplicate, after the end); counted.
    Unexpected(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for InitialDP.
    Start,
    /// PromptAndCollect outstanding.
    Pin,
    /// Authenticate outstanding.
    PrepaidAuth,
    /// ApplyFee outstanding.
    Applying,
    /// Failure announcement playing; release follows.
    Announcing,
    /// Connected; BCSM events and charging reports expected.
    Active,
    /// The call's end is known; settling with the ledger.
    Ending,
    /// Finished.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Authenticate,
    /// Authenticate and ApplyFee (the request kept with it) together.
    Admit {
        want: Money,
    },
    ApplyFee {
        want: Money,
    },
    Reapply {
        used: Money,
        want: Money,
    },
    Return,
    /// Deduct (the request kept with it) and Return (this key) together.
    Settle {
        ret: OpKey,
    },
}

/// Half of an answered call's end seen, waiting for the other half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HalfEnd {
    /// oDisconnect came first; the final ApplyChargingReport should follow.
    Disconnect(Leg),
    /// The final ApplyChargingReport of an unanswered call came first; the BCSM event saying
    /// why should follow.
    UnansweredReport,
}

/// How the last reservation is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SettleMode {
    /// Charge `cost(final elapsed) − charged`, capped at the reservation.
    Exact,
    /// Charge nothing more.
    Nothing,
    /// Charge the whole reservation.
    Whole,
}

/// The call state machine. See the module documentation.
#[derive(Debug)]
pub struct Call {
    id: CallId,
    cfg: Arc<ServiceConfig>,
    prov: Arc<Provisioning>,
    phase: Phase,
    start: Timestamp,

    service_key: Option<u32>,
    calling: Digits,
    dialled: Digits,
    /// The caller's `(group index, member index)`.
    caller: Option<(u32, u32)>,
    account: Option<AccountId>,
    dest: Option<Destination>,
    prepaid: bool,

    pin_attempts_left: u32,
    resource_connected: bool,
    announce_cause: u8,
    deadline: Opt,

    seq: u32,
    /// The prepaid request awaiting its answer (boxed: most of a call's life has none).
    pending: Option<Box<(Pending, PrepaidRequest)>>,
    retries: u32,
    reservation_open: bool,
    reservation: Money,
    reserved_total: Money,
    charged: Money,
    returned: Money,
    settlement_incomplete: bool,
    settle_mode: SettleMode,
    deduct_done: bool,
    prepaid_requests: u32,

    answered_at: Opt,
    elapsed: u64,
    last_mark: Opt,
    ac_max: u64,
    ac_release: bool,
    ac_elapsed_base: u64,
    period_start: Opt,
    /// Half of an end seen (see [`Call::half_end`]), and when.
    half: Option<HalfEnd>,
    half_at: Timestamp,
    final_elapsed: Opt,
    ending: bool,
    end_at: Opt,
    dialogue_ended: bool,

    outcome: Option<Outcome>,
    release_cause: Option<u8>,
    reason: Option<&'static str>,
    unexpected: u32,
}

/// An optional timestamp or 100 ms count in 8 bytes instead of 16 (a call holds several):
/// `u64::MAX`, half a billion years away, stands for none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Opt(u64);

impl Opt {
    const NONE: Opt = Opt(u64::MAX);

    /// `v` (one less if `v` is the value standing for none).
    fn some(v: u64) -> Opt {
        Opt(v.min(u64::MAX - 1))
    }

    fn get(self) -> Option<u64> {
        (self != Self::NONE).then_some(self.0)
    }

    fn is_some(self) -> bool {
        self != Self::NONE
    }

    fn is_none(self) -> bool {
        self == Self::NONE
    }

    /// Set to `v` unless already set.
    fn set_once(&mut self, v: u64) {
        if self.is_none() {
            *self = Opt::some(v);
        }
    }
}

impl Call {
    /// A new call, waiting for [`CallEvent::Initial`]. `prov` is the provisioning snapshot the
    /// call uses for its whole life.
    pub fn new(id: CallId, now: Timestamp, prov: Arc<Provisioning>, cfg: &ServiceConfig) -> Self {
        Self::with_shared_config(id, now, prov, Arc::new(cfg.clone()))
    }

    /// [`new`](Self::new) with a configuration shared by the calls (each keeps a pointer to
    /// it, not a copy).
    pub fn with_shared_config(
        id: CallId,
        now: Timestamp,
        prov: Arc<Provisioning>,
        cfg: Arc<ServiceConfig>,
    ) -> Self {
        Call {
            id,
            cfg,
            prov,
            phase: Phase::Start,
            start: now,
            service_key: None,
            calling: Digits::default(),
            dialled: Digits::default(),
            caller: None,
            account: None,
            dest: None,
            prepaid: false,
            pin_attempts_left: 0,
            resource_connected: false,
            announce_cause: 0,
            deadline: Opt::NONE,
            seq: 0,
            pending: None,
            retries: 0,
            reservation_open: false,
            reservation: 0,
            reserved_total: 0,
            charged: 0,
            returned: 0,
            settlement_incomplete: false,
            settle_mode: SettleMode::Exact,
            deduct_done: false,
            prepaid_requests: 0,
            answered_at: Opt::NONE,
            elapsed: 0,
            last_mark: Opt::NONE,
            ac_max: 0,
            ac_release: false,
            ac_elapsed_base: 0,
            period_start: Opt::NONE,
            half: None,
            half_at: 0,
            final_elapsed: Opt::NONE,
            ending: false,
            end_at: Opt::NONE,
            dialogue_ended: false,
            outcome: None,
            release_cause: None,
            reason: None,
            unexpected: 0,
        }
    }

    /// The call's id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// When the call began (the `now` it was made with).
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// Whether [`Action::Done`] has been emitted.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the call holds a reservation on its account (ApplyFee granted, Return not yet
    /// answered).
    pub fn reservation_open(&self) -> bool {
        self.reservation_open
    }

    /// Whether a prepaid request is waiting for its answer.
    pub fn prepaid_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Events ignored so far.
    pub fn unexpected_events(&self) -> u32 {
        self.unexpected
    }

    /// When to feed [`CallEvent::Timeout`], if the machine waits on something that may never
    /// come: a PIN / announcement, the final report after a disconnect, a prepaid period's
    /// report (end of the period + `report_guard_ms`). The TCAP dialogue timer covers the rest.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match self.phase {
            Phase::Pin | Phase::Announcing => self.deadline.get(),
            Phase::Active => {
                if let Some((_, at)) = self.half_end() {
                    return Some(at.saturating_add(self.cfg.final_report_wait_ms));
                }
                if self.prepaid && self.pending.is_none() && self.ac_max > 0 {
                    let start = self.period_start.get()?;
                    return Some(
                        start
                            .saturating_add(self.ac_max.saturating_mul(100))
                            .saturating_add(self.cfg.report_guard_ms),
                    );
                }
                None
            }
            _ => None,
        }
    }

    /// Feed one event; actions are appended to `out`.
    pub fn handle(&mut self, now: Timestamp, event: CallEvent, out: &mut Vec<Action>) {
        if self.phase == Phase::Done {
            self.unexpected(out, "event after done");
            return;
        }
        match event {
            CallEvent::Initial(req) => {
                if self.phase == Phase::Start {
                    self.on_initial(now, req, out);
                } else {
                    self.unexpected(out, "duplicate initial");
                }
            }
            CallEvent::Prepaid(resp) => self.on_prepaid(now, resp, out),
            CallEvent::Settled(deducted, returned) => self.on_settled(deducted, returned, out),
            CallEvent::Admitted(auth, fee) => self.on_admitted(now, auth, fee, out),
            CallEvent::PinCollected(digits) => {
                if self.phase == Phase::Pin {
                    self.on_pin(now, Some(&digits), out);
                } else {
                    self.unexpected(out, "pin out of phase");
                }
            }
            CallEvent::PinFailed => {
                if self.phase == Phase::Pin {
                    self.on_pin(now, None, out);
                } else {
                    self.unexpected(out, "pin out of phase");
                }
            }
            CallEvent::AnnouncementDone => {
                if self.phase == Phase::Announcing {
                    let cause = self.announce_cause;
                    self.phase = Phase::Ending;
                    self.end_dialogue(now, vec![Op::ReleaseCall { cause }], Some(cause), out);
                } else {
                    self.unexpected(out, "announcement out of phase");
                }
            }
            CallEvent::Bcsm(ev) => self.on_bcsm(now, ev, out),
            CallEvent::ChargingReport {
                elapsed_100ms,
                call_active,
            } => self.on_report(now, elapsed_100ms, call_active, out),
            CallEvent::Aborted => self.on_lost(now, Outcome::Aborted, out),
            CallEvent::Timeout => self.on_timeout(now, out),
        }
        self.drive(now, out);
    }

    // ----- InitialDP, authentication, numbering -------------------------------------------

    fn on_initial(&mut self, now: Timestamp, req: InitialRequest, out: &mut Vec<Action>) {
        self.service_key = Some(req.service_key);
        self.calling = req.calling.digits.clone();
        self.dialled = req.called.digits.clone();
        let prov = self.prov.clone();

        let groups = prov.groups_for_key(req.service_key);
        if groups.is_empty() {
            match self.cfg.unknown_service_key_action {
                UnknownKeyAction::Continue => {
                    self.outcome = Some(Outcome::UnknownServiceKey);
                    self.phase = Phase::Ending;
                    self.end_dialogue(now, vec![Op::Continue], None, out);
                }
                UnknownKeyAction::Release => {
                    let t = self.cfg.unknown_service_key;
                    self.fail(
                        now,
                        t,
                        Outcome::UnknownServiceKey,
                        "unknown service key",
                        out,
                    );
                }
            }
            return;
        }

        // Claim 2: the caller must be a member of a group bound to this key.
        let caller = groups.iter().find_map(|&gi| {
            let g = prov.groups().get(gi)?;
            let e164 = numbering::to_e164(g, &req.calling)?;
            prov.member_by_number(&e164).filter(|m| m.group_index == gi)
        });
        let Some(caller) = caller else {
            let t = self.cfg.vpn_auth_failure;
            self.fail(now, t, Outcome::VpnAuthFailed, "not a member", out);
            return;
        };
        self.caller = u32::try_from(caller.group_index)
            .ok()
            .zip(u32::try_from(caller.member_index).ok());
        let member = caller.member.clone();
        if let Charging::Prepaid { account } = &member.charging {
            self.prepaid = true;
            self.account = Some(account.clone());
        }
        if !member.active {
            let t = self.cfg.vpn_auth_failure;
            self.fail(now, t, Outcome::VpnAuthFailed, "member inactive", out);
            return;
        }

        match numbering::resolve(&prov, caller.group_index, &member, &req.called) {
            Ok(dest) => self.dest = Some(dest),
            Err(refusal) => {
                let t = self.cfg.screened;
                self.fail(now, t, Outcome::Screened, refusal.label(), out);
                return;
            }
        }
        let on_net = self.dest.as_ref().is_some_and(|d| d.on_net);

        let pin_needed = match member.pin_policy {
            PinPolicy::Never => false,
            PinPolicy::Always => true,
            PinPolicy::OffNet => !on_net,
        };
        if pin_needed {
            self.pin_attempts_left = self.cfg.pin_attempts.max(1);
            self.phase = Phase::Pin;
            self.resource_connected = true;
            self.deadline = Opt::some(now.saturating_add(self.cfg.resource_timeout_ms));
            let ops = vec![
                Op::ConnectToResource,
                self.prompt(self.cfg.pin_prompt_announcement),
            ];
            self.send(ops, DialogueEnd::Continue, out);
            return;
        }
        self.after_vpn_auth(now, out);
    }

    fn prompt(&self, announcement: u32) -> Op {
        Op::PromptAndCollect {
            announcement,
            min_digits: self.cfg.pin_min_digits,
            max_digits: self.cfg.pin_max_digits.max(self.cfg.pin_min_digits),
        }
    }

    fn on_pin(&mut self, now: Timestamp, digits: Option<&str>, out: &mut Vec<Action>) {
        let ok = match (digits, self.caller_member()) {
            (Some(d), Some(m)) => m.pin.as_deref().is_some_and(|h| pin::verify_pin(h, d)),
            _ => false,
        };
        if ok {
            self.deadline = Opt::NONE;
            self.after_vpn_auth(now, out);
            return;
        }
        self.pin_attempts_left = self.pin_attempts_left.saturating_sub(1);
        if self.pin_attempts_left == 0 {
            let t = self.cfg.vpn_auth_failure;
            self.fail(now, t, Outcome::VpnAuthFailed, "pin", out);
        } else {
            self.deadline = Opt::some(now.saturating_add(self.cfg.resource_timeout_ms));
            let op = self.prompt(self.cfg.pin_retry_announcement);
            self.send(vec![op], DialogueEnd::Continue, out);
        }
    }

    fn caller_member(&self) -> Option<Arc<super::provisioning::Member>> {
        let (gi, mi) = self.caller?;
        self.prov
            .member_at(usize::try_from(gi).ok()?, usize::try_from(mi).ok()?)
            .map(|m| m.member.clone())
    }

    /// Claim 1 A/B: postpaid → connect; prepaid → prepaid authentication (claims 3–5).
    fn after_vpn_auth(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let (Some(account), Some(rate)) =
            (self.account.clone(), self.dest.as_ref().map(|d| d.rate))
        else {
            self.connect(now, out);
            return;
        };
        self.phase = Phase::PrepaidAuth;
        let min = rate.first_unit_cost();
        let auth = PrepaidRequest::Authenticate {
            account: account.clone(),
            min,
        };
        match self.fee_request(account, rate) {
            // The fee is applied only if the authentication passes (see `Action::Admit`).
            Some((want, apply)) => {
                let kept = apply.clone();
                self.request_pair(
                    Pending::Admit { want },
                    kept,
                    Action::Admit { auth, apply },
                    out,
                );
            }
            None => self.request(Pending::Authenticate, auth, out),
        }
    }

    /// Claim 6: the ApplyFee for the first slice and what it wants, or `None` for a
    /// destination that costs nothing at all (toll-free, free on-net): that call is connected
    /// without ApplyCharging once the account passed authentication.
    fn fee_request(
        &mut self,
        account: AccountId,
        rate: super::rating::Rate,
    ) -> Option<(Money, PrepaidRequest)> {
        if rate.price_per_minute <= 0 && rate.setup <= 0 {
            return None;
        }
        // The ledger grants at least one minor unit; a slice never asks for less.
        let min = rate.first_unit_cost().max(1);
        let want = rate.slice_want(0, self.cfg.slice_seconds).max(min);
        let key = self.next_key();
        let req = PrepaidRequest::ApplyFee {
            key,
            account,
            want,
            min,
        };
        Some((want, req))
    }

    /// The BCSM events a connected call arms (RequestReportBCSMEvent): the failures and the
    /// disconnects interrupted, the answer notified.
    pub fn arms() -> Vec<BcsmArm> {
        use BcsmEventType as E;
        use MonitorMode::*;
        let arm = |event, mode, leg| BcsmArm { event, mode, leg };
        vec![
            arm(E::RouteSelectFailure, Interrupted, None),
            arm(E::Busy, Interrupted, Some(Leg::Called)),
            arm(E::NoAnswer, Interrupted, Some(Leg::Called)),
            arm(E::Abandon, Interrupted, Some(Leg::Calling)),
            arm(E::Disconnect, Interrupted, Some(Leg::Calling)),
            arm(E::Disconnect, Interrupted, Some(Leg::Called)),
            arm(E::Answer, NotifyAndContinue, Some(Leg::Called)),
        ]
    }

    /// RRBE (+ ApplyCharging for prepaid) + Connect.
    fn connect(&mut self, _now: Timestamp, out: &mut Vec<Action>) {
        let Some((number, nature)) = self.dest.as_ref().map(|d| (d.digits.to_string(), d.nature))
        else {
            return;
        };
        let mut ops = Vec::with_capacity(4);
        if self.resource_connected {
            ops.push(Op::DisconnectForwardConnection);
            self.resource_connected = false;
        }
        ops.push(Op::RequestReportBcsm {
            events: Self::arms(),
        });
        if self.prepaid && self.ac_max > 0 {
            ops.push(self.apply_charging_op());
        }
        ops.push(Op::Connect { number, nature });
        self.phase = Phase::Active;
        self.send(ops, DialogueEnd::Continue, out);
    }

    fn apply_charging_op(&self) -> Op {
        Op::ApplyCharging {
            max_duration_100ms: self.ac_max,
            release_if_exceeded: self.ac_release,
            tone: self.ac_release && self.cfg.warning_tone,
        }
    }

    /// Set up the next ApplyCharging period from a grant; false if it buys no time.
    fn plan_period(&mut self, granted: Money, want: Money) -> bool {
        let Some(rate) = self.dest.as_ref().map(|d| d.rate) else {
            return false;
        };
        let t = rate.time_for_money(self.elapsed, self.charged, granted);
        if t == 0 {
            return false;
        }
        self.ac_max = t.min(MAX_CALL_PERIOD_100MS);
        self.ac_release = granted < want;
        self.ac_elapsed_base = self.elapsed;
        true
    }

    // ----- Failure treatments ---------------------------------------------------------------

    /// A failure treatment before the call is connected: announcement (if any) then release.
    fn fail(
        &mut self,
        now: Timestamp,
        t: Treatment,
        outcome: Outcome,
        reason: &'static str,
        out: &mut Vec<Action>,
    ) {
        self.outcome = Some(outcome);
        self.reason = Some(reason);
        self.ending = true;
        self.end_at.set_once(now);
        match t.announcement {
            Some(id) if !self.dialogue_ended => {
                let mut ops = Vec::with_capacity(2);
                if !self.resource_connected {
                    ops.push(Op::ConnectToResource);
                    self.resource_connected = true;
                }
                ops.push(Op::PlayAnnouncement {
                    id,
                    request_complete: true,
                });
                self.announce_cause = t.cause;
                self.phase = Phase::Announcing;
                self.deadline = Opt::some(now.saturating_add(self.cfg.resource_timeout_ms));
                self.send(ops, DialogueEnd::Continue, out);
            }
            _ => {
                self.phase = Phase::Ending;
                self.end_dialogue(
                    now,
                    vec![Op::ReleaseCall { cause: t.cause }],
                    Some(t.cause),
                    out,
                );
            }
        }
    }

    /// Release a connected call ourselves (credit exhausted, ledger unavailable mid-call).
    fn release_mid_call(
        &mut self,
        now: Timestamp,
        t: Treatment,
        outcome: Outcome,
        reason: &'static str,
        out: &mut Vec<Action>,
    ) {
        self.outcome = Some(outcome);
        self.reason = Some(reason);
        self.final_elapsed = Opt::some(self.elapsed);
        self.begin_end(now);
        self.end_dialogue(
            now,
            vec![Op::ReleaseCall { cause: t.cause }],
            Some(t.cause),
            out,
        );
    }

    // ----- Prepaid responses ------------------------------------------------------------------

    fn on_prepaid(&mut self, now: Timestamp, resp: PrepaidResponse, out: &mut Vec<Action>) {
        let Some((pending, req)) = self.pending.take().map(|p| *p) else {
            self.unexpected(out, "prepaid response without request");
            return;
        };
        use PrepaidResponse as R;
        let live = !self.ending;
        match pending {
            Pending::Authenticate => match resp {
                // Alone only for a destination that needs no fee: connect.
                R::Authenticated { .. } => {
                    if live {
                        self.connect(now, out);
                    }
                }
                R::Refused(r) if live => self.prepaid_refused(now, r, false, out),
                R::Refused(_) => {}
                _ => {
                    self.unexpected(out, "mismatched prepaid response");
                    if live {
                        self.prepaid_refused(now, Refusal::LedgerUnavailable, false, out);
                    }
                }
            },
            Pending::ApplyFee { want } => match resp {
                R::Granted { granted } => {
                    self.reservation_open = true;
                    self.reservation = granted;
                    self.reserved_total = self.reserved_total.saturating_add(granted);
                    if live {
                        if self.plan_period(granted, want) {
                            self.connect(now, out);
                        } else {
                            let t = self.cfg.credit_exhausted;
                            self.fail(
                                now,
                                t,
                                Outcome::PrepaidAuthFailed,
                                "grant buys no time",
                                out,
                            );
                        }
                    }
                }
                R::Refused(r) if live => self.prepaid_refused(now, r, true, out),
                R::Refused(_) => {}
                _ => {
                    self.unexpected(out, "mismatched prepaid response");
                    if live {
                        self.prepaid_refused(now, Refusal::LedgerUnavailable, true, out);
                    }
                }
            },
            Pending::Reapply { used, want } => {
                let mid_call = live && self.half.is_none();
                match resp {
                    R::Granted { granted } => {
                        self.reapplied(used);
                        self.reservation = granted;
                        self.reserved_total = self.reserved_total.saturating_add(granted);
                        if mid_call {
                            if self.plan_period(granted, want) {
                                self.period_start = Opt::some(now);
                                let op = self.apply_charging_op();
                                self.send(vec![op], DialogueEnd::Continue, out);
                            } else {
                                let t = self.cfg.credit_exhausted;
                                self.release_mid_call(
                                    now,
                                    t,
                                    Outcome::ReleasedForCredit,
                                    "grant buys no time",
                                    out,
                                );
                            }
                        }
                    }
                    R::Refused(Refusal::LedgerUnavailable) => {
                        // Fail closed: nothing changed in the ledger; the period is deducted
                        // in the settlement.
                        if mid_call {
                            let t = self.cfg.ledger_unavailable;
                            self.release_mid_call(
                                now,
                                t,
                                Outcome::LedgerUnavailable,
                                "ledger unavailable",
                                out,
                            );
                        }
                    }
                    R::Refused(r) => {
                        // The period is deducted and the rest returned even though the new
                        // slice is refused (interface contract).
                        self.reapplied(used);
                        self.reservation = 0;
                        if mid_call {
                            let t = self.cfg.credit_exhausted;
                            self.release_mid_call(
                                now,
                                t,
                                Outcome::ReleasedForCredit,
                                refusal_label(r),
                                out,
                            );
                        }
                    }
                    _ => {
                        self.unexpected(out, "mismatched prepaid response");
                        if mid_call {
                            let t = self.cfg.ledger_unavailable;
                            self.release_mid_call(
                                now,
                                t,
                                Outcome::LedgerUnavailable,
                                "mismatched prepaid response",
                                out,
                            );
                        }
                    }
                }
            }
            Pending::Return => {
                if self.on_returned(resp, out) {
                    self.resend(Pending::Return, req, out);
                }
            }
            Pending::Settle { .. } | Pending::Admit { .. } => {
                self.pending = Some(Box::new((pending, req)));
                self.unexpected(out, "single answer to a pair of requests");
            }
        }
    }

    /// The answers to an Authenticate + ApplyFee pair: the fee's is booked as an ApplyFee's
    /// when the authentication passed, else the authentication's refusal ends the call
    /// (claim 3; the ledger applied nothing).
    fn on_admitted(
        &mut self,
        now: Timestamp,
        auth: PrepaidResponse,
        fee: PrepaidResponse,
        out: &mut Vec<Action>,
    ) {
        let (want, apply) = match self.pending.take().map(|p| *p) {
            Some((Pending::Admit { want }, apply)) => (want, apply),
            other => {
                self.pending = other.map(Box::new);
                self.unexpected(out, "admission answer without admission");
                return;
            }
        };
        if matches!(auth, PrepaidResponse::Authenticated { .. }) {
            if !self.ending {
                self.phase = Phase::Applying;
            }
            self.pending = Some(Box::new((Pending::ApplyFee { want }, apply)));
            self.on_prepaid(now, fee, out);
        } else {
            self.pending = Some(Box::new((Pending::Authenticate, apply)));
            self.on_prepaid(now, auth, out);
        }
    }

    /// The answers to a Deduct + Return pair.
    fn on_settled(
        &mut self,
        deducted: PrepaidResponse,
        returned: PrepaidResponse,
        out: &mut Vec<Action>,
    ) {
        let Some((Pending::Settle { ret }, deduct)) = self.pending.take().map(|p| *p) else {
            self.unexpected(out, "settlement answer without settlement");
            return;
        };
        let Some(account) = self.account.clone() else {
            return;
        };
        let ret = PrepaidRequest::Return { key: ret, account };
        if self.on_deducted(deducted, out) {
            // Nothing was changed (the ledger refused both): the same pair, same keys, again.
            self.settle(deduct, ret, out);
        } else if self.on_returned(returned, out) {
            self.resend(Pending::Return, ret, out);
        }
    }

    /// Book a Deduct's answer; `true` if it should be sent again (same key).
    fn on_deducted(&mut self, resp: PrepaidResponse, out: &mut Vec<Action>) -> bool {
        if let PrepaidResponse::Deducted { amount } = resp {
            self.charged = self.charged.saturating_add(amount);
            self.reservation = self.reservation.saturating_sub(amount);
            self.retries = 0;
            return false;
        }
        self.settlement_failed(resp, false, out)
    }

    /// Book a Return's answer; `true` if it should be sent again (same key).
    fn on_returned(&mut self, resp: PrepaidResponse, out: &mut Vec<Action>) -> bool {
        if let PrepaidResponse::Returned { amount } = resp {
            self.returned = self.returned.saturating_add(amount);
            self.reservation = 0;
            self.reservation_open = false;
            self.retries = 0;
            return false;
        }
        self.settlement_failed(resp, true, out)
    }

    /// A Deduct or Return (`closes`) was not carried out: `true` to send it again (the ledger
    /// could not make it durable and retries are left), else give up on it — the call's
    /// settlement is incomplete, and a reservation left open is the ledger's expiry's to close.
    fn settlement_failed(
        &mut self,
        resp: PrepaidResponse,
        closes: bool,
        out: &mut Vec<Action>,
    ) -> bool {
        if resp == PrepaidResponse::Refused(Refusal::LedgerUnavailable)
            && self.retries < self.cfg.settle_retries
        {
            self.retries += 1;
            return true;
        }
        if !matches!(resp, PrepaidResponse::Refused(_)) {
            self.unexpected(out, "mismatched prepaid response");
        }
        self.settlement_incomplete = true;
        if closes {
            self.reservation_open = false;
        }
        self.retries = 0;
        false
    }

    /// Book a Reapply's implicit deduct of `used` and return of the rest.
    fn reapplied(&mut self, used: Money) {
        self.charged = self.charged.saturating_add(used);
        self.returned = self
            .returned
            .saturating_add(self.reservation.saturating_sub(used).max(0));
    }

    /// Authenticate / ApplyFee refused before the call is connected.
    fn prepaid_refused(
        &mut self,
        now: Timestamp,
        r: Refusal,
        applying: bool,
        out: &mut Vec<Action>,
    ) {
        let (t, outcome) = match r {
            Refusal::LedgerUnavailable => (self.cfg.ledger_unavailable, Outcome::LedgerUnavailable),
            Refusal::InsufficientBalance if applying => {
                (self.cfg.credit_exhausted, Outcome::PrepaidAuthFailed)
            }
            _ => (self.cfg.prepaid_auth_failure, Outcome::PrepaidAuthFailed),
        };
        self.fail(now, t, outcome, refusal_label(r), out);
    }

    // ----- BCSM events and charging reports ------------------------------------------------

    fn on_bcsm(&mut self, now: Timestamp, ev: BcsmEvent, out: &mut Vec<Action>) {
        if self.phase != Phase::Active {
            // In CAP the final ApplyChargingReport and the EventReportBCSM that ends the call
            // come together, in either order: the second half of an end is expected.
            let second_half = self.phase == Phase::Ending
                && match ev {
                    BcsmEvent::Disconnect { .. } => self.answered(),
                    BcsmEvent::Answer => false,
                    _ => !self.answered(),
                };
            if !second_half {
                self.unexpected(out, "bcsm event out of phase");
            }
            return;
        }
        match ev {
            BcsmEvent::Answer => {
                if self.answered_at.is_some() {
                    self.unexpected(out, "duplicate answer");
                    return;
                }
                self.answered_at = Opt::some(now);
                self.last_mark = Opt::some(now);
                self.period_start = Opt::some(now);
            }
            BcsmEvent::Disconnect { leg } => {
                if !self.answered() {
                    // A disconnect before answer is an abandon by another name.
                    self.end_unanswered(now, Outcome::Abandon, out);
                } else if self.prepaid && self.final_elapsed.is_none() && self.ac_max > 0 {
                    if self.half.is_some() {
                        self.unexpected(out, "duplicate disconnect");
                        return;
                    }
                    // Wait (briefly) for the final ApplyChargingReport: it has the exact time.
                    self.set_half_end(HalfEnd::Disconnect(leg), now);
                } else {
                    self.end_answered(now, out);
                }
            }
            BcsmEvent::Busy => self.end_unanswered(now, Outcome::Busy, out),
            BcsmEvent::NoAnswer => self.end_unanswered(now, Outcome::NoAnswer, out),
            BcsmEvent::Abandon => self.end_unanswered(now, Outcome::Abandon, out),
            BcsmEvent::RouteSelectFailure => self.end_unanswered(now, Outcome::RouteFailure, out),
        }
    }

    fn on_report(&mut self, now: Timestamp, elapsed: u64, active: bool, out: &mut Vec<Action>) {
        if self.phase != Phase::Active || !self.prepaid {
            if self.phase != Phase::Ending || active {
                self.unexpected(out, "charging report out of phase");
            }
            return;
        }
        let elapsed = elapsed.max(self.elapsed);
        if elapsed > 0 && self.answered_at.is_none() {
            self.answered_at = Opt::some(now.saturating_sub(elapsed.saturating_mul(100)));
        }
        if active {
            if self.pending.is_some() || self.half.is_some() {
                self.unexpected(out, "charging report while re-applying");
                return;
            }
            self.elapsed = elapsed;
            self.last_mark = Opt::some(now);
            self.ac_max = 0;
            self.reapply(out);
            return;
        }
        // Final report.
        self.elapsed = elapsed;
        self.last_mark = Opt::some(now);
        self.final_elapsed = Opt::some(elapsed);
        if self.answered() {
            self.end_answered(now, out);
        } else {
            match self.half {
                Some(_) => self.unexpected(out, "duplicate final report"),
                None => self.set_half_end(HalfEnd::UnansweredReport, now),
            }
        }
    }

    fn reapply(&mut self, out: &mut Vec<Action>) {
        let (Some(account), Some(rate)) =
            (self.account.clone(), self.dest.as_ref().map(|d| d.rate))
        else {
            return;
        };
        let used = rate
            .period_charge(self.elapsed, self.answered(), self.charged)
            .min(self.reservation)
            .max(0);
        let min = rate.next_unit_cost(self.elapsed).max(1);
        let want = rate
            .slice_want(self.elapsed, self.cfg.slice_seconds)
            .max(min);
        let key = self.next_key();
        self.request(
            Pending::Reapply { used, want },
            PrepaidRequest::Reapply {
                key,
                account,
                used,
                want,
                min,
            },
            out,
        );
    }

    fn answered(&self) -> bool {
        self.answered_at.is_some() || self.elapsed > 0
    }

    /// Half of the end seen, and when.
    fn half_end(&self) -> Option<(HalfEnd, Timestamp)> {
        self.half.map(|h| (h, self.half_at))
    }

    fn set_half_end(&mut self, half: HalfEnd, at: Timestamp) {
        self.half = Some(half);
        self.half_at = at;
    }

    fn begin_end(&mut self, now: Timestamp) {
        self.ending = true;
        self.phase = Phase::Ending;
        self.half = None;
        self.end_at.set_once(now);
    }

    /// An answered call ended normally (final report and/or disconnect).
    fn end_answered(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let released_at_limit = self.prepaid
            && self.ac_release
            && self
                .final_elapsed
                .get()
                .is_some_and(|e| e >= self.ac_elapsed_base.saturating_add(self.ac_max));
        self.outcome = Some(if released_at_limit {
            Outcome::ReleasedForCredit
        } else {
            Outcome::Answered
        });
        if self.final_elapsed.is_none() {
            self.final_elapsed = Opt::some(self.wall_clock_elapsed(now));
        }
        self.begin_end(now);
        let cause = CAUSE_NORMAL_CLEARING;
        self.end_dialogue(now, vec![Op::ReleaseCall { cause }], Some(cause), out);
    }

    /// Busy, no answer, abandon, route failure: nothing is charged, everything returned.
    fn end_unanswered(&mut self, now: Timestamp, outcome: Outcome, out: &mut Vec<Action>) {
        if self.answered() {
            self.unexpected(out, "unanswered event after answer");
            return;
        }
        self.outcome = Some(outcome);
        self.final_elapsed = Opt::some(0);
        self.settle_mode = SettleMode::Nothing;
        self.begin_end(now);
        let (ops, cause) = match outcome {
            Outcome::Abandon => (
                vec![Op::ReleaseCall {
                    cause: CAUSE_NORMAL_CLEARING,
                }],
                Some(CAUSE_NORMAL_CLEARING),
            ),
            _ => (vec![Op::Continue], None),
        };
        self.end_dialogue(now, ops, cause, out);
    }

    /// Conversation time from the wall clock: the last report (or answer) plus time since.
    fn wall_clock_elapsed(&self, end: Timestamp) -> u64 {
        let Some(mark) = self.last_mark.get().or(self.answered_at.get()) else {
            return self.elapsed;
        };
        let est = self
            .elapsed
            .saturating_add(end.saturating_sub(mark).div_ceil(100));
        if self.prepaid && self.ac_max > 0 {
            // The switch would have reported (or released) at the end of the period.
            let gap = self
                .period_start
                .get()
                .map_or(0, |p| p.saturating_sub(mark).div_ceil(100));
            est.min(self.elapsed.saturating_add(gap).saturating_add(self.ac_max))
        } else {
            est
        }
    }

    // ----- Lost dialogues ---------------------------------------------------------------------

    fn on_timeout(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        match self.phase {
            Phase::Announcing => {
                let cause = self.announce_cause;
                self.phase = Phase::Ending;
                self.end_dialogue(now, vec![Op::ReleaseCall { cause }], Some(cause), out);
            }
            Phase::Active if self.half.is_some() => {
                // One half of the end came, the other did not: settle on what is known.
                match self.half_end() {
                    Some((HalfEnd::Disconnect(_), at)) => {
                        self.reason = Some("final charging report missing");
                        self.apply_abort_policy(at);
                        self.outcome = Some(Outcome::Answered);
                        self.begin_end(now);
                        let cause = CAUSE_NORMAL_CLEARING;
                        self.end_dialogue(now, vec![Op::ReleaseCall { cause }], Some(cause), out);
                    }
                    _ => {
                        self.reason = Some("bcsm event missing after final report");
                        self.end_unanswered(now, Outcome::NoAnswer, out);
                    }
                }
            }
            Phase::Ending | Phase::Done => self.unexpected(out, "timeout after end"),
            _ => self.on_lost(now, Outcome::Timeout, out),
        }
    }

    fn on_lost(&mut self, now: Timestamp, outcome: Outcome, out: &mut Vec<Action>) {
        if outcome == Outcome::Aborted {
            // Nothing can be sent any more.
            self.dialogue_ended = true;
        }
        if self.ending {
            if outcome == Outcome::Aborted && self.phase == Phase::Announcing {
                self.phase = Phase::Ending;
            } else if !self.dialogue_ended {
                self.unexpected(out, "lost after end");
            }
            return;
        }
        let end_at = self.half_end().map_or(now, |(_, at)| at);
        self.apply_abort_policy(end_at);
        self.outcome = Some(outcome);
        self.begin_end(now);
        let cause = self.cfg.timeout_cause;
        self.end_dialogue(now, vec![Op::ReleaseCall { cause }], Some(cause), out);
    }

    /// Decide how the open reservation of a call whose end is not reported is settled.
    fn apply_abort_policy(&mut self, end: Timestamp) {
        if !self.answered() {
            self.final_elapsed = Opt::some(0);
            self.settle_mode = SettleMode::Nothing;
            return;
        }
        let est = self
            .final_elapsed
            .get()
            .unwrap_or_else(|| self.wall_clock_elapsed(end));
        if !self.prepaid {
            self.final_elapsed = Opt::some(est);
            return;
        }
        match self.cfg.abort_policy {
            AbortPolicy::ChargeKnown => {
                self.final_elapsed = Opt::some(est);
                self.settle_mode = SettleMode::Exact;
            }
            AbortPolicy::ReturnAll => {
                self.final_elapsed = Opt::some(self.elapsed);
                self.settle_mode = SettleMode::Nothing;
            }
            AbortPolicy::ChargeReservation => {
                self.final_elapsed = Opt::some(est);
                self.settle_mode = SettleMode::Whole;
            }
        }
    }

    // ----- Settlement and the end ---------------------------------------------------------

    /// After every event: push the ledger side forward, then finish when both sides are done.
    fn drive(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        if !self.ending || self.pending.is_some() || self.phase == Phase::Done {
            return;
        }
        if self.reservation_open {
            let Some(account) = self.account.clone() else {
                self.reservation_open = false;
                return;
            };
            if !self.deduct_done {
                self.deduct_done = true;
                let used = self.final_used();
                if used > 0 {
                    let key = self.next_key();
                    let deduct = PrepaidRequest::Deduct {
                        key,
                        account: account.clone(),
                        used,
                    };
                    let key = self.next_key();
                    self.settle(deduct, PrepaidRequest::Return { key, account }, out);
                    return;
                }
            }
            // Claim 8: the Return closes the reservation even when nothing remains in it.
            let key = self.next_key();
            self.request(
                Pending::Return,
                PrepaidRequest::Return { key, account },
                out,
            );
            return;
        }
        if self.dialogue_ended && self.phase != Phase::Announcing {
            self.finish(now, out);
        }
    }

    fn final_used(&self) -> Money {
        let Some(rate) = self.dest.as_ref().map(|d| d.rate) else {
            return 0;
        };
        match self.settle_mode {
            SettleMode::Nothing => 0,
            SettleMode::Whole => self.reservation.max(0),
            SettleMode::Exact => {
                let e = self.final_elapsed.get().unwrap_or(self.elapsed);
                rate.period_charge(e, self.answered(), self.charged)
                    .min(self.reservation)
                    .max(0)
            }
        }
    }

    fn end_dialogue(
        &mut self,
        now: Timestamp,
        ops: Vec<Op>,
        cause: Option<u8>,
        out: &mut Vec<Action>,
    ) {
        self.end_at.set_once(now);
        self.ending = true;
        if self.dialogue_ended {
            return;
        }
        self.dialogue_ended = true;
        self.deadline = Opt::NONE;
        self.release_cause = cause;
        out.push(Action::Send {
            ops,
            end: DialogueEnd::End,
        });
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let end = self.end_at.get().unwrap_or(now);
        let rate = self.dest.as_ref().map(|d| d.rate);
        let answered_100ms = if self.answered() {
            match self.final_elapsed.get() {
                Some(e) if self.prepaid => e,
                _ => self
                    .answered_at
                    .get()
                    .map_or(0, |a| end.saturating_sub(a).div_ceil(100)),
            }
        } else {
            0
        };
        let prov = self.prov.clone();
        let group = self
            .caller
            .and_then(|(gi, _)| prov.groups().get(usize::try_from(gi).ok()?))
            .map(|g| g.group.id.clone());
        let charging = match (self.caller.is_some(), self.prepaid) {
            (false, _) => ChargingMode::None,
            (true, false) => ChargingMode::Postpaid,
            (true, true) => ChargingMode::Prepaid,
        };
        let cdr = Cdr {
            call_id: self.id.0,
            start_ms: self.start,
            answer_ms: self.answered_at.get(),
            end_ms: end,
            service_key: self.service_key,
            calling: self.calling.to_string(),
            dialled: self.dialled.to_string(),
            translated: self.dest.as_ref().map(|d| d.digits.to_string()),
            group,
            on_net: self.dest.as_ref().map(|d| d.on_net),
            dest_class: self.dest.as_ref().map(|d| d.class().to_string()),
            charging,
            account: self.account.as_ref().map(|a| a.as_str().to_string()),
            answered_100ms,
            answered_seconds: answered_100ms.div_ceil(10),
            rated: rate.map_or(0, |r| r.cost(answered_100ms, self.answered())),
            reserved: self.reserved_total,
            charged: self.charged,
            returned: self.returned,
            outcome: self.outcome.unwrap_or(Outcome::Aborted),
            release_cause: self.release_cause,
            reason: self.reason.map(String::from),
            settlement_incomplete: self.settlement_incomplete,
            prepaid_requests: self.prepaid_requests,
            unexpected_events: self.unexpected,
        };
        out.push(Action::Cdr(Box::new(cdr)));
        out.push(Action::Done);
        self.phase = Phase::Done;
    }

    // ----- Plumbing ---------------------------------------------------------------------------

    fn next_key(&mut self) -> OpKey {
        let key = OpKey {
            call: self.id,
            seq: self.seq,
        };
        self.seq = self.seq.wrapping_add(1);
        key
    }

    fn request(&mut self, pending: Pending, req: PrepaidRequest, out: &mut Vec<Action>) {
        self.prepaid_requests = self.prepaid_requests.saturating_add(1);
        self.pending = Some(Box::new((pending, req.clone())));
        out.push(Action::Prepaid(req));
    }

    /// Claims 7 and 8 together: the Deduct, then the Return, in one trip to the ledger.
    fn settle(&mut self, deduct: PrepaidRequest, ret: PrepaidRequest, out: &mut Vec<Action>) {
        let Some(ret_key) = ret.key() else {
            return;
        };
        let kept = deduct.clone();
        let action = Action::Settle { deduct, ret };
        self.request_pair(Pending::Settle { ret: ret_key }, kept, action, out);
    }

    /// Two requests in one trip (`action`); `kept` is the one remembered with `pending`.
    fn request_pair(
        &mut self,
        pending: Pending,
        kept: PrepaidRequest,
        action: Action,
        out: &mut Vec<Action>,
    ) {
        self.prepaid_requests = self.prepaid_requests.saturating_add(2);
        self.pending = Some(Box::new((pending, kept)));
        out.push(action);
    }

    /// Retry with the same idempotency key.
    fn resend(&mut self, pending: Pending, req: PrepaidRequest, out: &mut Vec<Action>) {
        self.request(pending, req, out);
    }

    fn send(&mut self, ops: Vec<Op>, end: DialogueEnd, out: &mut Vec<Action>) {
        if self.dialogue_ended {
            return;
        }
        out.push(Action::Send { ops, end });
    }

    fn unexpected(&mut self, out: &mut Vec<Action>, kind: &'static str) {
        self.unexpected = self.unexpected.saturating_add(1);
        out.push(Action::Unexpected(kind));
    }
}

fn refusal_label(r: Refusal) -> &'static str {
    match r {
        Refusal::UnknownAccount => "unknown_account",
        Refusal::Suspended => "suspended",
        Refusal::Expired => "expired",
        Refusal::InsufficientBalance => "insufficient_balance",
        Refusal::LedgerUnavailable => "ledger_unavailable",
    }
}
