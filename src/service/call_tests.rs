//! Tests of the call state machine: every claim path and failure branch with the exact
//! operations and prepaid requests; a fake in-memory prepaid responder running many calls to
//! completion with CDR reconciliation; property tests over random event sequences.
//!
//! Subscribers are from `examples/provisioning.toml`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proptest::prelude::*;

use super::call::*;
use super::cdr::{Cdr, ChargingMode, Outcome};
use super::config::{AbortPolicy, ServiceConfig, Treatment, UnknownKeyAction};
use super::numbering::{Nature, Number};
use super::provisioning::{AccountState, Provisioning};
use crate::prepaid::{AccountId, CallId, Money, OpKey, PrepaidRequest, PrepaidResponse, Refusal};

const EXAMPLE: &str = include_str!("../../examples/provisioning.toml");

const ALICE: &str = "12125550101"; // postpaid
const BOB: &str = "12125550102"; // prepaid ACC-1002 (5000)
const ERIN: &str = "12125550105"; // PIN always 1234, postpaid
const FRANK: &str = "12125550106"; // PIN off-net 4711, prepaid ACC-1006
const GRACE: &str = "12125550107"; // suspended account
const IVAN: &str = "12125550109"; // inactive
const JUDY: &str = "12125550110"; // ACC-1010 balance 3
const US_FIXED: &str = "914155550000"; // national_fixed: 5/min, 60/60, no setup

const T0: Timestamp = 1_700_000_000_000;

fn prov() -> Arc<Provisioning> {
    use std::sync::OnceLock;
    static P: OnceLock<Arc<Provisioning>> = OnceLock::new();
    P.get_or_init(|| Arc::new(Provisioning::from_toml_str(EXAMPLE).unwrap()))
        .clone()
}

fn acc(s: &str) -> AccountId {
    AccountId::new(s)
}

fn key(call: u64, seq: u32) -> OpKey {
    OpKey {
        call: CallId(call),
        seq,
    }
}

fn arms() -> Op {
    use BcsmEventType as E;
    use MonitorMode::*;
    let a = |event, mode, leg| BcsmArm { event, mode, leg };
    Op::RequestReportBcsm {
        events: vec![
            a(E::RouteSelectFailure, Interrupted, None),
            a(E::Busy, Interrupted, Some(Leg::Called)),
            a(E::NoAnswer, Interrupted, Some(Leg::Called)),
            a(E::Abandon, Interrupted, Some(Leg::Calling)),
            a(E::Disconnect, Interrupted, Some(Leg::Calling)),
            a(E::Disconnect, Interrupted, Some(Leg::Called)),
            a(E::Answer, NotifyAndContinue, Some(Leg::Called)),
        ],
    }
}

fn connect(n: &str) -> Op {
    Op::Connect {
        number: n.into(),
        nature: Nature::International,
    }
}

/// The settlement of the call's reservation: Deduct `used` with `deduct_key`, then Return with
/// the next key.
fn settle(deduct_key: OpKey, account: &str, used: Money) -> Action {
    Action::Settle {
        deduct: PrepaidRequest::Deduct {
            key: deduct_key,
            account: acc(account),
            used,
        },
        ret: PrepaidRequest::Return {
            key: OpKey {
                call: deduct_key.call,
                seq: deduct_key.seq + 1,
            },
            account: acc(account),
        },
    }
}

fn send(ops: Vec<Op>) -> Action {
    Action::Send {
        ops,
        end: DialogueEnd::Continue,
    }
}

fn end(ops: Vec<Op>) -> Action {
    Action::Send {
        ops,
        end: DialogueEnd::End,
    }
}

fn release(cause: u8) -> Op {
    Op::ReleaseCall { cause }
}

fn ac(max: u64, release: bool) -> Op {
    Op::ApplyCharging {
        max_duration_100ms: max,
        release_if_exceeded: release,
        tone: release,
    }
}

struct H {
    call: Call,
    now: Timestamp,
}

impl H {
    fn new(cfg: &ServiceConfig) -> Self {
        H {
            call: Call::new(CallId(1), T0, prov(), cfg),
            now: T0,
        }
    }

    fn start(cfg: &ServiceConfig, sk: u32, calling: &str, dialled: &str) -> (Self, Vec<Action>) {
        let mut h = H::new(cfg);
        let a = h.ev(
            0,
            CallEvent::Initial(InitialRequest {
                service_key: sk,
                calling: Number::new(calling, Nature::International),
                called: Number::new(dialled, Nature::Unknown),
            }),
        );
        (h, a)
    }

    fn ev(&mut self, dt_ms: u64, e: CallEvent) -> Vec<Action> {
        self.now += dt_ms;
        let mut out = Vec::new();
        self.call.handle(self.now, e, &mut out);
        out
    }

    fn pp(&mut self, r: PrepaidResponse) -> Vec<Action> {
        self.ev(5, CallEvent::Prepaid(r))
    }

    /// The ledger's answers to an Authenticate + ApplyFee pair.
    fn admitted(&mut self, auth: PrepaidResponse, fee: PrepaidResponse) -> Vec<Action> {
        self.ev(5, CallEvent::Admitted(auth, fee))
    }

    /// The ledger's answers to a settlement: `deducted`, then `returned`.
    fn settled(&mut self, deducted: Money, returned: Money) -> Vec<Action> {
        self.ev(
            5,
            CallEvent::Settled(
                PrepaidResponse::Deducted { amount: deducted },
                PrepaidResponse::Returned { amount: returned },
            ),
        )
    }

    fn bcsm(&mut self, dt_ms: u64, e: BcsmEvent) -> Vec<Action> {
        self.ev(dt_ms, CallEvent::Bcsm(e))
    }

    fn report(&mut self, dt_ms: u64, elapsed: u64, active: bool) -> Vec<Action> {
        self.ev(
            dt_ms,
            CallEvent::ChargingReport {
                elapsed_100ms: elapsed,
                call_active: active,
            },
        )
    }
}

fn cdr_of(actions: &[Action]) -> Cdr {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Cdr(c) => Some((**c).clone()),
            _ => None,
        })
        .expect("a CDR")
}

/// Split off the CDR (checked separately) from the rest.
fn without_cdr(actions: Vec<Action>) -> Vec<Action> {
    actions
        .into_iter()
        .filter(|a| !matches!(a, Action::Cdr(_)))
        .collect()
}

fn cfg() -> ServiceConfig {
    ServiceConfig::default()
}

// ----- Claim 1A: postpaid VPN --------------------------------------------------------------

#[test]
fn claim_1a_postpaid_on_net_by_extension() {
    let (mut h, a) = H::start(&cfg(), 100, ALICE, "0102");
    assert_eq!(a, vec![send(vec![arms(), connect(BOB)])]);
    assert!(h.bcsm(3_000, BcsmEvent::Answer).is_empty());
    let a = h.bcsm(65_000, BcsmEvent::Disconnect { leg: Leg::Calling });
    let c = cdr_of(&a);
    assert_eq!(without_cdr(a), vec![end(vec![release(16)]), Action::Done]);
    assert_eq!(c.outcome, Outcome::Answered);
    assert_eq!(c.charging, ChargingMode::Postpaid);
    assert_eq!(c.on_net, Some(true));
    assert_eq!(c.translated.as_deref(), Some(BOB));
    assert_eq!(c.group.as_deref(), Some("acme-us"));
    assert_eq!(c.answered_100ms, 650);
    assert_eq!(c.answered_seconds, 65);
    assert_eq!(c.rated, 4); // on-net 2/min, 60/60: 65 s → 2 min
    assert_eq!((c.reserved, c.charged, c.returned), (0, 0, 0));
    assert_eq!(c.prepaid_requests, 0);
    assert!(h.call.is_done());
}

#[test]
fn postpaid_unanswered_ends_with_continue() {
    for (ev, outcome, op) in [
        (BcsmEvent::Busy, Outcome::Busy, Op::Continue),
        (BcsmEvent::NoAnswer, Outcome::NoAnswer, Op::Continue),
        (
            BcsmEvent::RouteSelectFailure,
            Outcome::RouteFailure,
            Op::Continue,
        ),
        (BcsmEvent::Abandon, Outcome::Abandon, release(16)),
    ] {
        let (mut h, _) = H::start(&cfg(), 100, ALICE, US_FIXED);
        let a = h.bcsm(1_000, ev);
        assert_eq!(cdr_of(&a).outcome, outcome);
        assert_eq!(without_cdr(a), vec![end(vec![op]), Action::Done]);
    }
}

// ----- Claims 1B, 3–8: prepaid ---------------------------------------------------------------

#[test]
fn claim_1b_prepaid_full_call_with_reapply_deduct_return() {
    let (mut h, a) = H::start(&cfg(), 100, BOB, US_FIXED);
    // Claims 4–5: authentication interface, min = first unit (60 s at 5/min); claim 6:
    // fee-applying interface, want = the 120 s slice; both in one trip to the ledger, which
    // applies the fee only if the authentication passes.
    assert_eq!(
        a,
        vec![Action::Admit {
            auth: PrepaidRequest::Authenticate {
                account: acc("ACC-1002"),
                min: 5
            },
            apply: PrepaidRequest::ApplyFee {
                key: key(1, 0),
                account: acc("ACC-1002"),
                want: 10,
                min: 5
            }
        }]
    );
    // Connected according to the grant: 10 buys 120 s.
    let a = h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    assert_eq!(
        a,
        vec![send(vec![arms(), ac(1200, false), connect("14155550000")])]
    );
    assert!(h.call.reservation_open());
    assert!(h.bcsm(4_000, BcsmEvent::Answer).is_empty());
    assert_eq!(h.call.poll_timeout(), Some(h.now + 120_000 + 10_000));
    // Period report: deduct the period, reserve the next slice in one step.
    let a = h.report(120_000, 1200, true);
    assert_eq!(
        a,
        vec![Action::Prepaid(PrepaidRequest::Reapply {
            key: key(1, 1),
            account: acc("ACC-1002"),
            used: 10,
            want: 10,
            min: 5
        })]
    );
    let a = h.pp(PrepaidResponse::Granted { granted: 10 });
    assert_eq!(a, vec![send(vec![ac(1200, false)])]);
    // Caller hangs up at 150 s: final report + disconnect in one message.
    let a = h.report(30_000, 1500, false);
    assert_eq!(
        a,
        vec![end(vec![release(16)]), settle(key(1, 2), "ACC-1002", 5),]
    );
    assert!(h
        .bcsm(0, BcsmEvent::Disconnect { leg: Leg::Calling })
        .is_empty());
    // Claim 7 then claim 8, answered together.
    let a = h.settled(5, 5);
    let c = cdr_of(&a);
    assert_eq!(without_cdr(a), vec![Action::Done]);
    assert_eq!(c.outcome, Outcome::Answered);
    assert_eq!(c.charging, ChargingMode::Prepaid);
    assert_eq!(c.account.as_deref(), Some("ACC-1002"));
    assert_eq!(c.answered_100ms, 1500);
    assert_eq!((c.reserved, c.charged, c.returned), (20, 15, 5));
    assert_eq!(c.rated, 15);
    assert!(c.reconciles());
    assert_eq!(c.prepaid_requests, 5);
    assert_eq!(c.unexpected_events, 0);
    assert!(!h.call.reservation_open());
}

#[test]
fn disconnect_before_final_report_waits_for_it() {
    let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
    h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    h.bcsm(1_000, BcsmEvent::Answer);
    let a = h.bcsm(61_000, BcsmEvent::Disconnect { leg: Leg::Called });
    assert!(a.is_empty(), "waits for the final report: {a:?}");
    assert_eq!(h.call.poll_timeout(), Some(h.now + 2_000));
    let a = h.report(0, 610, false);
    assert_eq!(
        a,
        vec![end(vec![release(16)]), settle(key(1, 1), "ACC-1002", 10),]
    );
}

#[test]
fn disconnect_without_final_report_settles_on_the_wall_clock() {
    let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
    h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    h.bcsm(1_000, BcsmEvent::Answer);
    h.bcsm(50_000, BcsmEvent::Disconnect { leg: Leg::Calling });
    let a = h.ev(2_000, CallEvent::Timeout);
    assert_eq!(
        a,
        vec![
            end(vec![release(16)]),
            // 50 s (up to the disconnect) → 1 min = 5
            settle(key(1, 1), "ACC-1002", 5),
        ]
    );
    let c = cdr_of(&h.settled(5, 5));
    assert_eq!(c.outcome, Outcome::Answered);
    assert_eq!(c.answered_100ms, 500);
}

#[test]
fn last_slice_releases_at_the_limit_with_tone() {
    // Judy has 3; on-net costs 2/min: first unit 2, slice wants 4, grant 3 buys 60 s only.
    let (mut h, a) = H::start(&cfg(), 100, JUDY, "0101");
    assert!(matches!(
        &a[..],
        [Action::Admit {
            auth: PrepaidRequest::Authenticate { min: 2, .. },
            apply: PrepaidRequest::ApplyFee {
                want: 4,
                min: 2,
                ..
            }
        }]
    ));
    let a = h.admitted(
        PrepaidResponse::Authenticated { available: 3 },
        PrepaidResponse::Granted { granted: 3 },
    );
    assert_eq!(a, vec![send(vec![arms(), ac(600, true), connect(ALICE)])]);
    h.bcsm(1_000, BcsmEvent::Answer);
    // The switch releases at the limit and reports.
    let a = h.report(60_000, 600, false);
    assert!(matches!(
        &a[..],
        [
            Action::Send { .. },
            Action::Settle {
                deduct: PrepaidRequest::Deduct { used: 2, .. },
                ret: PrepaidRequest::Return { .. }
            }
        ]
    ));
    let c = cdr_of(&h.settled(2, 1));
    assert_eq!(c.outcome, Outcome::ReleasedForCredit);
    assert_eq!((c.reserved, c.charged, c.returned), (3, 2, 1));
}

#[test]
fn reapply_refused_releases_for_credit_and_closes_the_reservation() {
    let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
    h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    h.bcsm(1_000, BcsmEvent::Answer);
    h.report(120_000, 1200, true);
    let a = h.pp(PrepaidResponse::Refused(Refusal::InsufficientBalance));
    assert_eq!(
        a,
        vec![
            end(vec![release(31)]),
            Action::Prepaid(PrepaidRequest::Return {
                key: key(1, 2),
                account: acc("ACC-1002")
            }),
        ]
    );
    let c = cdr_of(&h.pp(PrepaidResponse::Returned { amount: 0 }));
    assert_eq!(c.outcome, Outcome::ReleasedForCredit);
    assert_eq!(c.release_cause, Some(31));
    assert_eq!((c.reserved, c.charged, c.returned), (10, 10, 0));
}

#[test]
fn reapply_ledger_unavailable_releases_and_deducts_in_settlement() {
    let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
    h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    h.bcsm(1_000, BcsmEvent::Answer);
    h.report(120_000, 1200, true);
    let a = h.pp(PrepaidResponse::Refused(Refusal::LedgerUnavailable));
    assert_eq!(
        a,
        vec![end(vec![release(41)]), settle(key(1, 2), "ACC-1002", 10),]
    );
    let c = cdr_of(&h.settled(10, 0));
    assert_eq!(c.outcome, Outcome::LedgerUnavailable);
    assert!(c.reconciles());
}

#[test]
fn prepaid_call_to_a_free_destination_reserves_nothing() {
    // Toll-free: price 0, setup 0. Authentication still checks the account (claims 4–5).
    let (mut h, a) = H::start(&cfg(), 100, BOB, "918005550000");
    assert_eq!(
        a,
        vec![Action::Prepaid(PrepaidRequest::Authenticate {
            account: acc("ACC-1002"),
            min: 0
        })]
    );
    let a = h.pp(PrepaidResponse::Authenticated { available: 5000 });
    assert_eq!(a, vec![send(vec![arms(), connect("18005550000")])]);
    assert!(!h.call.reservation_open());
    h.bcsm(2_000, BcsmEvent::Answer);
    assert_eq!(h.call.poll_timeout(), None);
    let a = h.bcsm(90_000, BcsmEvent::Disconnect { leg: Leg::Calling });
    let c = cdr_of(&a);
    assert_eq!(without_cdr(a), vec![end(vec![release(16)]), Action::Done]);
    assert_eq!(c.charging, ChargingMode::Prepaid);
    assert_eq!(c.dest_class.as_deref(), Some("national_tollfree"));
    assert_eq!((c.reserved, c.charged, c.returned, c.rated), (0, 0, 0, 0));
    assert_eq!(c.answered_100ms, 900);
}

#[test]
fn prepaid_unanswered_returns_everything() {
    for (ev, outcome, op) in [
        (BcsmEvent::Busy, Outcome::Busy, Op::Continue),
        (BcsmEvent::NoAnswer, Outcome::NoAnswer, Op::Continue),
        (
            BcsmEvent::RouteSelectFailure,
            Outcome::RouteFailure,
            Op::Continue,
        ),
        (BcsmEvent::Abandon, Outcome::Abandon, release(16)),
    ] {
        for report_first in [false, true] {
            let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
            h.admitted(
                PrepaidResponse::Authenticated { available: 5000 },
                PrepaidResponse::Granted { granted: 10 },
            );
            let mut a = Vec::new();
            if report_first {
                assert!(h.report(1_000, 0, false).is_empty());
            }
            a.extend(h.bcsm(1_000, ev));
            if !report_first {
                assert!(h.report(0, 0, false).is_empty());
            }
            assert_eq!(
                a,
                vec![
                    end(vec![op.clone()]),
                    Action::Prepaid(PrepaidRequest::Return {
                        key: key(1, 1),
                        account: acc("ACC-1002")
                    }),
                ],
                "{ev:?} report_first={report_first}"
            );
            let c = cdr_of(&h.pp(PrepaidResponse::Returned { amount: 10 }));
            assert_eq!(c.outcome, outcome);
            assert_eq!((c.reserved, c.charged, c.returned), (10, 0, 10));
            assert_eq!(c.unexpected_events, 0);
        }
    }
}

// ----- Claims 3–5: prepaid authentication failures -----------------------------------------

#[test]
fn prepaid_auth_failures_get_their_treatment() {
    for (who, refusal, ann, cause, outcome) in [
        (GRACE, Refusal::Suspended, 2, 31, Outcome::PrepaidAuthFailed),
        (GRACE, Refusal::Expired, 2, 31, Outcome::PrepaidAuthFailed),
        (
            GRACE,
            Refusal::UnknownAccount,
            2,
            31,
            Outcome::PrepaidAuthFailed,
        ),
        (
            JUDY,
            Refusal::InsufficientBalance,
            2,
            31,
            Outcome::PrepaidAuthFailed,
        ),
        (
            GRACE,
            Refusal::LedgerUnavailable,
            5,
            41,
            Outcome::LedgerUnavailable,
        ),
    ] {
        let (mut h, a) = H::start(&cfg(), 100, who, US_FIXED);
        assert!(matches!(
            &a[..],
            [Action::Admit {
                auth: PrepaidRequest::Authenticate { .. },
                apply: PrepaidRequest::ApplyFee { .. }
            }]
        ));
        // The ledger refused the authentication, so it refused the fee the same way.
        let a = h.admitted(
            PrepaidResponse::Refused(refusal),
            PrepaidResponse::Refused(refusal),
        );
        assert_eq!(
            a,
            vec![send(vec![
                Op::ConnectToResource,
                Op::PlayAnnouncement {
                    id: ann,
                    request_complete: true
                }
            ])]
        );
        let a = h.ev(8_000, CallEvent::AnnouncementDone);
        let c = cdr_of(&a);
        assert_eq!(
            without_cdr(a),
            vec![end(vec![release(cause)]), Action::Done]
        );
        assert_eq!(c.outcome, outcome);
        assert_eq!(c.release_cause, Some(cause));
        // Authenticate and ApplyFee, sent together.
        assert_eq!(c.prepaid_requests, 2);
        assert_eq!(c.reserved, 0);
    }
}

#[test]
fn apply_fee_refused_gets_credit_exhausted_treatment() {
    let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
    let a = h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Refused(Refusal::InsufficientBalance),
    );
    assert_eq!(
        a,
        vec![send(vec![
            Op::ConnectToResource,
            Op::PlayAnnouncement {
                id: 4,
                request_complete: true
            }
        ])]
    );
    let a = h.ev(5_000, CallEvent::AnnouncementDone);
    assert_eq!(cdr_of(&a).outcome, Outcome::PrepaidAuthFailed);
    assert_eq!(without_cdr(a), vec![end(vec![release(31)]), Action::Done]);
}

#[test]
fn treatment_without_announcement_releases_at_once() {
    let mut c = cfg();
    c.prepaid_auth_failure = Treatment {
        announcement: None,
        cause: 57,
    };
    let (mut h, _) = H::start(&c, 100, GRACE, US_FIXED);
    let a = h.admitted(
        PrepaidResponse::Refused(Refusal::Suspended),
        PrepaidResponse::Refused(Refusal::Suspended),
    );
    assert_eq!(without_cdr(a), vec![end(vec![release(57)]), Action::Done]);
}

// ----- Claim 2: VPN authentication ----------------------------------------------------------

#[test]
fn claim_2_vpn_auth_failures() {
    for (calling, reason) in [
        ("19995550000", "not a member"),
        (IVAN, "member inactive"),
        ("442071230001", "not a member"), // a member, but of the group of key 101
    ] {
        let (mut h, a) = H::start(&cfg(), 100, calling, "0102");
        assert_eq!(
            a,
            vec![send(vec![
                Op::ConnectToResource,
                Op::PlayAnnouncement {
                    id: 1,
                    request_complete: true
                }
            ])],
            "{calling}"
        );
        let a = h.ev(4_000, CallEvent::AnnouncementDone);
        let c = cdr_of(&a);
        assert_eq!(without_cdr(a), vec![end(vec![release(87)]), Action::Done]);
        assert_eq!(c.outcome, Outcome::VpnAuthFailed);
        assert_eq!(c.reason.as_deref(), Some(reason));
    }
    let mut c = cfg();
    c.vpn_auth_failure.announcement = None;
    let (_, a) = H::start(&c, 100, "19995550000", "0102");
    assert_eq!(without_cdr(a), vec![end(vec![release(87)]), Action::Done]);
}

#[test]
fn claim_2_pin_always_success_and_failure() {
    let prompt = |a| Op::PromptAndCollect {
        announcement: a,
        min_digits: 4,
        max_digits: 8,
    };
    // Success after one wrong attempt.
    let (mut h, a) = H::start(&cfg(), 100, ERIN, "0101");
    assert_eq!(a, vec![send(vec![Op::ConnectToResource, prompt(10)])]);
    assert_eq!(h.call.poll_timeout(), Some(h.now + 120_000));
    assert_eq!(
        h.ev(3_000, CallEvent::PinCollected("0000".into())),
        vec![send(vec![prompt(11)])]
    );
    let a = h.ev(3_000, CallEvent::PinCollected("1234".into()));
    assert_eq!(
        a,
        vec![send(vec![
            Op::DisconnectForwardConnection,
            arms(),
            connect(ALICE)
        ])]
    );
    // Three failures (wrong, failed collection, wrong) → VPN auth failure, resource already
    // connected so only PlayAnnouncement.
    let (mut h, _) = H::start(&cfg(), 100, ERIN, "0101");
    h.ev(3_000, CallEvent::PinCollected("9999".into()));
    h.ev(3_000, CallEvent::PinFailed);
    let a = h.ev(3_000, CallEvent::PinCollected("1235".into()));
    assert_eq!(
        a,
        vec![send(vec![Op::PlayAnnouncement {
            id: 1,
            request_complete: true
        }])]
    );
    let a = h.ev(3_000, CallEvent::AnnouncementDone);
    let c = cdr_of(&a);
    assert_eq!(c.outcome, Outcome::VpnAuthFailed);
    assert_eq!(c.reason.as_deref(), Some("pin"));
    assert_eq!(without_cdr(a), vec![end(vec![release(87)]), Action::Done]);
}

#[test]
fn claim_2_pin_off_net_only_then_prepaid() {
    // On-net: no PIN.
    let (_, a) = H::start(&cfg(), 100, FRANK, "0101");
    assert!(matches!(
        &a[..],
        [Action::Admit {
            auth: PrepaidRequest::Authenticate { .. },
            ..
        }]
    ));
    // Off-net: PIN, then prepaid authentication, then DFC before the connect.
    let (mut h, a) = H::start(&cfg(), 100, FRANK, US_FIXED);
    assert!(matches!(&a[..], [Action::Send { ops, .. }] if ops[0] == Op::ConnectToResource));
    let a = h.ev(4_000, CallEvent::PinCollected("4711".into()));
    assert!(matches!(
        &a[..],
        [Action::Admit {
            auth: PrepaidRequest::Authenticate { min: 5, .. },
            apply: PrepaidRequest::ApplyFee { want: 10, .. }
        }]
    ));
    let a = h.admitted(
        PrepaidResponse::Authenticated { available: 10_000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    assert_eq!(
        a,
        vec![send(vec![
            Op::DisconnectForwardConnection,
            arms(),
            ac(1200, false),
            connect("14155550000")
        ])]
    );
}

#[test]
fn prepaid_refusal_after_pin_plays_on_the_connected_resource() {
    let (mut h, _) = H::start(&cfg(), 100, FRANK, US_FIXED);
    h.ev(4_000, CallEvent::PinCollected("4711".into()));
    let a = h.admitted(
        PrepaidResponse::Refused(Refusal::Expired),
        PrepaidResponse::Refused(Refusal::Expired),
    );
    assert_eq!(
        a,
        vec![send(vec![Op::PlayAnnouncement {
            id: 2,
            request_complete: true
        }])]
    );
}

// ----- Numbering / screening and unknown keys -------------------------------------------------

#[test]
fn screened_calls_get_their_treatment() {
    let (mut h, a) = H::start(&cfg(), 100, ALICE, "91900555000");
    assert_eq!(
        a,
        vec![send(vec![
            Op::ConnectToResource,
            Op::PlayAnnouncement {
                id: 3,
                request_complete: true
            }
        ])]
    );
    let a = h.ev(4_000, CallEvent::AnnouncementDone);
    let c = cdr_of(&a);
    assert_eq!(c.outcome, Outcome::Screened);
    assert_eq!(c.reason.as_deref(), Some("blocked_prefix"));
    assert_eq!(without_cdr(a), vec![end(vec![release(53)]), Action::Done]);
}

#[test]
fn unknown_service_key() {
    let (_, a) = H::start(&cfg(), 999, ALICE, "0102");
    let c = cdr_of(&a);
    assert_eq!(c.outcome, Outcome::UnknownServiceKey);
    assert_eq!(without_cdr(a), vec![end(vec![release(31)]), Action::Done]);
    let mut c = cfg();
    c.unknown_service_key_action = UnknownKeyAction::Continue;
    let (_, a) = H::start(&c, 999, ALICE, "0102");
    assert_eq!(without_cdr(a), vec![end(vec![Op::Continue]), Action::Done]);
}

// ----- Lost dialogues -------------------------------------------------------------------------

fn answered_bob(c: &ServiceConfig) -> H {
    let (mut h, _) = H::start(c, 100, BOB, US_FIXED);
    h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    h.bcsm(1_000, BcsmEvent::Answer);
    h
}

#[test]
fn abort_policies() {
    for (policy, deduct) in [
        (AbortPolicy::ChargeKnown, Some(5)), // 30 s since answer → 1 min
        (AbortPolicy::ReturnAll, None),
        (AbortPolicy::ChargeReservation, Some(10)),
    ] {
        let mut c = cfg();
        c.abort_policy = policy;
        let mut h = answered_bob(&c);
        let a = h.ev(30_000, CallEvent::Aborted);
        match deduct {
            Some(used) => {
                assert_eq!(a, vec![settle(key(1, 1), "ACC-1002", used)], "{policy:?}");
            }
            None => assert_eq!(
                a,
                vec![Action::Prepaid(PrepaidRequest::Return {
                    key: key(1, 1),
                    account: acc("ACC-1002")
                })],
                "{policy:?}"
            ),
        }
        let returned = 10 - deduct.unwrap_or(0);
        let a = match deduct {
            Some(used) => h.settled(used, returned),
            None => h.pp(PrepaidResponse::Returned { amount: returned }),
        };
        let cdr = cdr_of(&a);
        assert_eq!(cdr.outcome, Outcome::Aborted);
        assert_eq!(cdr.release_cause, None);
        assert!(cdr.reconciles());
        assert!(
            !a.iter().any(|x| matches!(x, Action::Send { .. })),
            "no send after abort"
        );
    }
}

#[test]
fn charge_known_is_capped_at_the_period_and_reservation() {
    let mut h = answered_bob(&cfg());
    // An hour later the dialogue times out: the period was only 120 s, the reservation 10.
    let a = h.ev(3_600_000, CallEvent::Timeout);
    assert_eq!(
        a,
        vec![end(vec![release(102)]), settle(key(1, 1), "ACC-1002", 10),]
    );
    let c = cdr_of(&h.settled(10, 0));
    assert_eq!(c.outcome, Outcome::Timeout);
    assert_eq!(c.answered_100ms, 1200);
}

#[test]
fn abort_while_applying_closes_the_late_grant() {
    let (mut h, _) = H::start(&cfg(), 100, BOB, US_FIXED);
    assert!(h.ev(10, CallEvent::Aborted).is_empty());
    let a = h.admitted(
        PrepaidResponse::Authenticated { available: 5000 },
        PrepaidResponse::Granted { granted: 10 },
    );
    assert_eq!(
        a,
        vec![Action::Prepaid(PrepaidRequest::Return {
            key: key(1, 1),
            account: acc("ACC-1002")
        })]
    );
    let a = h.pp(PrepaidResponse::Returned { amount: 10 });
    let c = cdr_of(&a);
    assert_eq!(c.outcome, Outcome::Aborted);
    assert_eq!((c.reserved, c.charged, c.returned), (10, 0, 10));
}

#[test]
fn abort_while_reapplying_settles_after_the_answer() {
    let mut h = answered_bob(&cfg());
    h.report(120_000, 1200, true);
    assert!(h.ev(1_000, CallEvent::Aborted).is_empty());
    // Reapply granted after the abort: 1 s more since the report → 121 s → 3 min = 15.
    let a = h.pp(PrepaidResponse::Granted { granted: 10 });
    assert_eq!(a, vec![settle(key(1, 2), "ACC-1002", 5)]);
    let c = cdr_of(&h.settled(5, 5));
    assert_eq!((c.reserved, c.charged, c.returned), (20, 15, 5));
}

#[test]
fn timeouts_in_each_phase_end_the_call() {
    // During PIN collection.
    let (mut h, _) = H::start(&cfg(), 100, ERIN, "0101");
    let a = h.ev(120_000, CallEvent::Timeout);
    assert_eq!(cdr_of(&a).outcome, Outcome::Timeout);
    assert_eq!(without_cdr(a), vec![end(vec![release(102)]), Action::Done]);
    // During an announcement: release with the treatment's cause, outcome kept.
    let (mut h, _) = H::start(&cfg(), 100, IVAN, "0101");
    let a = h.ev(120_000, CallEvent::Timeout);
    assert_eq!(cdr_of(&a).outcome, Outcome::VpnAuthFailed);
    assert_eq!(without_cdr(a), vec![end(vec![release(87)]), Action::Done]);
    // Before InitialDP.
    let mut h = H::new(&cfg());
    let a = h.ev(1, CallEvent::Aborted);
    assert_eq!(cdr_of(&a).outcome, Outcome::Aborted);
}

#[test]
fn settlement_retries_with_the_same_key_then_gives_up() {
    let mut h = answered_bob(&cfg());
    h.report(10_000, 100, false);
    let want = settle(key(1, 1), "ACC-1002", 5);
    let unavailable = || PrepaidResponse::Refused(Refusal::LedgerUnavailable);
    // The pair is sent again with the same keys while the Deduct is refused for the ledger …
    for _ in 0..2 {
        assert_eq!(
            h.ev(5, CallEvent::Settled(unavailable(), unavailable())),
            vec![want.clone()]
        );
    }
    // … then the Deduct is given up and the Return (its first answer came with the pair) is
    // retried alone, as often as any settlement request.
    let a = h.ev(5, CallEvent::Settled(unavailable(), unavailable()));
    assert!(
        matches!(&a[..], [Action::Prepaid(PrepaidRequest::Return { key: k, .. })] if k.seq == 2)
    );
    let a = h.pp(PrepaidResponse::Refused(Refusal::LedgerUnavailable));
    assert!(matches!(
        &a[..],
        [Action::Prepaid(PrepaidRequest::Return { .. })]
    ));
    let a = h.pp(PrepaidResponse::Refused(Refusal::LedgerUnavailable));
    let c = cdr_of(&a);
    assert!(c.settlement_incomplete);
    assert!(h.call.is_done());
    assert!(!h.call.reservation_open());
}

#[test]
fn unexpected_and_duplicate_events_are_counted_not_fatal() {
    let (mut h, _) = H::start(&cfg(), 100, ALICE, "0102");
    assert_eq!(
        h.pp(PrepaidResponse::Granted { granted: 1 }),
        vec![Action::Unexpected("prepaid response without request")]
    );
    assert!(matches!(
        &h.ev(0, CallEvent::PinFailed)[..],
        [Action::Unexpected(_)]
    ));
    assert!(matches!(
        &h.ev(0, CallEvent::AnnouncementDone)[..],
        [Action::Unexpected(_)]
    ));
    assert!(matches!(
        &h.ev(
            0,
            CallEvent::Initial(InitialRequest {
                service_key: 100,
                calling: Number::new(ALICE, Nature::International),
                called: Number::new("0102", Nature::Unknown),
            })
        )[..],
        [Action::Unexpected("duplicate initial")]
    ));
    assert!(matches!(&h.report(0, 5, true)[..], [Action::Unexpected(_)]));
    h.bcsm(1_000, BcsmEvent::Answer);
    assert!(matches!(
        &h.bcsm(0, BcsmEvent::Answer)[..],
        [Action::Unexpected(_)]
    ));
    assert!(matches!(
        &h.bcsm(0, BcsmEvent::Busy)[..],
        [Action::Unexpected(_)]
    ));
    let a = h.bcsm(10_000, BcsmEvent::Disconnect { leg: Leg::Called });
    let c = cdr_of(&a);
    assert_eq!(c.unexpected_events, 7);
    assert!(matches!(
        &h.ev(0, CallEvent::Aborted)[..],
        [Action::Unexpected(_)]
    ));
    assert_eq!(h.call.unexpected_events(), 8);
}

// ----- A fake in-memory prepaid responder --------------------------------------------------------

/// A small pure model of the prepaid logic, following `crate::prepaid`'s contract.
#[derive(Default)]
struct FakeLedger {
    balance: HashMap<AccountId, Money>,
    state: HashMap<AccountId, AccountState>,
    reservations: HashMap<CallId, (AccountId, Money)>,
    answers: HashMap<OpKey, PrepaidResponse>,
    closed: HashSet<CallId>,
    unavailable_every: Option<u64>,
    ops: u64,
}

impl FakeLedger {
    fn from(p: &Provisioning) -> Self {
        let mut l = FakeLedger::default();
        // Seed only the explicit accounts and the first range accounts the tests use.
        for (id, a) in p
            .accounts()
            .iter()
            .filter(|(id, _)| id.starts_with("ACC-") || id.starts_with("LOAD-0000"))
        {
            l.balance.insert(acc(id), a.balance);
            let expired = a.expiry_epoch_day().is_some_and(|d| d < 19_900);
            let st = if expired {
                AccountState::Expired
            } else {
                a.state
            };
            l.state.insert(acc(id), st);
        }
        l
    }

    fn reserved(&self, a: &AccountId) -> Money {
        self.reservations
            .values()
            .filter(|(x, _)| x == a)
            .map(|(_, m)| *m)
            .sum()
    }

    fn available(&self, a: &AccountId) -> Money {
        self.balance.get(a).copied().unwrap_or(0) - self.reserved(a)
    }

    fn check(&self, a: &AccountId) -> Result<(), Refusal> {
        match self.state.get(a) {
            None => Err(Refusal::UnknownAccount),
            Some(AccountState::Suspended) => Err(Refusal::Suspended),
            Some(AccountState::Expired) => Err(Refusal::Expired),
            Some(AccountState::Active) => Ok(()),
        }
    }

    fn handle(&mut self, req: &PrepaidRequest) -> PrepaidResponse {
        self.ops += 1;
        if self.unavailable_every.is_some_and(|n| self.ops % n == 0) {
            return PrepaidResponse::Refused(Refusal::LedgerUnavailable);
        }
        let key = match req {
            PrepaidRequest::Authenticate { .. } => None,
            PrepaidRequest::ApplyFee { key, .. }
            | PrepaidRequest::Reapply { key, .. }
            | PrepaidRequest::Deduct { key, .. }
            | PrepaidRequest::Return { key, .. } => Some(*key),
        };
        if let Some(r) = key.and_then(|k| self.answers.get(&k)) {
            return r.clone();
        }
        let r = self.apply(req);
        if let Some(k) = key {
            self.answers.insert(k, r.clone());
        }
        if let Some(a) = account_of(req) {
            assert!(self.available(a) >= 0, "{a}: available < 0");
        }
        r
    }

    fn apply(&mut self, req: &PrepaidRequest) -> PrepaidResponse {
        use PrepaidResponse as R;
        match req {
            PrepaidRequest::Authenticate { account, min } => match self.check(account) {
                Err(r) => R::Refused(r),
                Ok(()) if self.available(account) < *min => {
                    R::Refused(Refusal::InsufficientBalance)
                }
                Ok(()) => R::Authenticated {
                    available: self.available(account),
                },
            },
            PrepaidRequest::ApplyFee {
                key,
                account,
                want,
                min,
            } => {
                if let Err(r) = self.check(account) {
                    return R::Refused(r);
                }
                assert!(
                    !self.reservations.contains_key(&key.call),
                    "one reservation per call"
                );
                let avail = self.available(account);
                // Like the real ledger: a grant is at least one minor unit.
                if avail < (*min).max(1) || (*want).min(avail) < (*min).max(1) {
                    return R::Refused(Refusal::InsufficientBalance);
                }
                let g = (*want).min(avail);
                self.reservations.insert(key.call, (account.clone(), g));
                R::Granted { granted: g }
            }
            PrepaidRequest::Reapply {
                key,
                account,
                used,
                want,
                min,
            } => {
                let Some((_, r)) = self.reservations.get(&key.call).cloned() else {
                    return R::Refused(Refusal::UnknownAccount);
                };
                assert!(*used <= r && *used >= 0, "used {used} > reservation {r}");
                *self.balance.get_mut(account).unwrap() -= used;
                self.reservations.insert(key.call, (account.clone(), 0));
                let avail = self.available(account);
                if avail < (*min).max(1)
                    || (*want).min(avail) < (*min).max(1)
                    || self.check(account).is_err()
                {
                    return R::Refused(Refusal::InsufficientBalance);
                }
                let g = (*want).min(avail);
                self.reservations.insert(key.call, (account.clone(), g));
                R::Granted { granted: g }
            }
            PrepaidRequest::Deduct { key, account, used } => {
                let Some((_, r)) = self.reservations.get(&key.call).cloned() else {
                    return R::Refused(Refusal::UnknownAccount);
                };
                assert!(*used <= r && *used >= 0, "deduct {used} > reservation {r}");
                *self.balance.get_mut(account).unwrap() -= used;
                self.reservations
                    .insert(key.call, (account.clone(), r - used));
                R::Deducted { amount: *used }
            }
            PrepaidRequest::Return { key, .. } => {
                assert!(self.closed.insert(key.call), "reservation closed twice");
                match self.reservations.remove(&key.call) {
                    Some((_, r)) => R::Returned { amount: r },
                    None => R::Refused(Refusal::UnknownAccount),
                }
            }
        }
    }
}

fn account_of(req: &PrepaidRequest) -> Option<&AccountId> {
    match req {
        PrepaidRequest::Authenticate { account, .. }
        | PrepaidRequest::ApplyFee { account, .. }
        | PrepaidRequest::Reapply { account, .. }
        | PrepaidRequest::Deduct { account, .. }
        | PrepaidRequest::Return { account, .. } => Some(account),
    }
}

/// The switch side of one scripted call.
#[derive(Clone, Copy, Debug)]
enum Script {
    /// Answer after `ring` ms, talk `hold` (100 ms units), then the caller hangs up.
    Answered {
        hold: u64,
        disconnect_first: bool,
    },
    Busy,
    NoAnswer,
    Abandon,
    /// Answer, talk, then the dialogue is aborted after `after` (100 ms).
    AbortAfter {
        after: u64,
    },
}

/// Run one call against the ledger; returns its CDR.
fn run_call(
    id: u64,
    ledger: &mut FakeLedger,
    cfg: &ServiceConfig,
    calling: &str,
    dialled: &str,
    script: Script,
) -> Cdr {
    let mut call = Call::new(CallId(id), T0, prov(), cfg);
    let mut now = T0;
    let mut queue: Vec<CallEvent> = vec![CallEvent::Initial(InitialRequest {
        service_key: 100,
        calling: Number::new(calling, Nature::International),
        called: Number::new(dialled, Nature::Unknown),
    })];
    let mut elapsed = 0u64;
    let mut answered = false;
    let mut cdr = None;
    let mut steps = 0;
    while let Some(ev) = queue.pop() {
        steps += 1;
        assert!(steps < 10_000, "runaway call");
        let mut out = Vec::new();
        call.handle(now, ev, &mut out);
        for a in out {
            match a {
                Action::Prepaid(req) => {
                    let r = ledger.handle(&req);
                    queue.insert(0, CallEvent::Prepaid(r));
                }
                Action::Settle { deduct, ret } => {
                    let d = ledger.handle(&deduct);
                    let r = ledger.handle(&ret);
                    queue.insert(0, CallEvent::Settled(d, r));
                }
                Action::Admit { auth, apply } => {
                    let a = ledger.handle(&auth);
                    let f = match auth.gate(&a) {
                        Some(r) => PrepaidResponse::Refused(r),
                        None => ledger.handle(&apply),
                    };
                    queue.insert(0, CallEvent::Admitted(a, f));
                }
                Action::Cdr(c) => cdr = Some(*c),
                Action::Done => {}
                Action::Unexpected(k) => panic!("unexpected {k}"),
                Action::Send { ops, end } => {
                    if end == DialogueEnd::End {
                        continue;
                    }
                    if ops
                        .iter()
                        .any(|op| matches!(op, Op::PlayAnnouncement { .. }))
                    {
                        queue.insert(0, CallEvent::AnnouncementDone);
                    }
                    let ac = ops.iter().find_map(|op| match op {
                        Op::ApplyCharging {
                            max_duration_100ms,
                            release_if_exceeded,
                            ..
                        } => Some((*max_duration_100ms, *release_if_exceeded)),
                        _ => None,
                    });
                    let connect = ops.iter().any(|op| matches!(op, Op::Connect { .. }));
                    // Without ApplyCharging (free destination) the switch sends no reports.
                    let charging = ac.is_some();
                    let period = ac.or(connect.then_some((1_000_000_000, false)));
                    if let Some((max, release_if_exceeded)) = period {
                        // The switch: play the script against this period.
                        let mut evs = Vec::new();
                        if !answered {
                            match script {
                                Script::Busy => {
                                    evs.push(CallEvent::ChargingReport {
                                        elapsed_100ms: 0,
                                        call_active: false,
                                    });
                                    evs.push(CallEvent::Bcsm(BcsmEvent::Busy));
                                }
                                Script::NoAnswer => {
                                    evs.push(CallEvent::Bcsm(BcsmEvent::NoAnswer));
                                    evs.push(CallEvent::ChargingReport {
                                        elapsed_100ms: 0,
                                        call_active: false,
                                    });
                                }
                                Script::Abandon => evs.push(CallEvent::Bcsm(BcsmEvent::Abandon)),
                                _ => {
                                    answered = true;
                                    now += 3_000;
                                    evs.push(CallEvent::Bcsm(BcsmEvent::Answer));
                                }
                            }
                        }
                        if answered {
                            let stop = match script {
                                Script::Answered { hold, .. } => hold,
                                Script::AbortAfter { after } => after,
                                _ => 0,
                            };
                            let remaining = stop.saturating_sub(elapsed);
                            if remaining > max || (remaining == max && !release_if_exceeded) {
                                elapsed += max;
                                if release_if_exceeded {
                                    evs.push(CallEvent::ChargingReport {
                                        elapsed_100ms: elapsed,
                                        call_active: false,
                                    });
                                    evs.push(CallEvent::Bcsm(BcsmEvent::Disconnect {
                                        leg: Leg::Called,
                                    }));
                                } else {
                                    evs.push(CallEvent::ChargingReport {
                                        elapsed_100ms: elapsed,
                                        call_active: true,
                                    });
                                }
                            } else {
                                elapsed += remaining;
                                match script {
                                    Script::AbortAfter { .. } => evs.push(CallEvent::Aborted),
                                    Script::Answered {
                                        disconnect_first, ..
                                    } => {
                                        let rep = CallEvent::ChargingReport {
                                            elapsed_100ms: elapsed,
                                            call_active: false,
                                        };
                                        let disc = CallEvent::Bcsm(BcsmEvent::Disconnect {
                                            leg: Leg::Calling,
                                        });
                                        if disconnect_first {
                                            evs.push(disc);
                                            evs.push(rep);
                                        } else {
                                            evs.push(rep);
                                            evs.push(disc);
                                        }
                                    }
                                    _ => {}
                                }
                            }
                            now += remaining.min(max) * 100;
                        }
                        for e in evs {
                            if charging || !matches!(e, CallEvent::ChargingReport { .. }) {
                                queue.insert(0, e);
                            }
                        }
                    }
                }
            }
        }
        // queue is used as FIFO: pop from the end, insert at the front.
        now += 1;
    }
    assert!(call.is_done(), "call {id} not done");
    assert!(!call.reservation_open());
    cdr.expect("cdr")
}

#[test]
fn many_calls_against_a_fake_ledger_reconcile() {
    let p = prov();
    let mut ledger = FakeLedger::from(&p);
    let initial: HashMap<AccountId, Money> = ledger.balance.clone();
    let cfg = ServiceConfig {
        slice_seconds: 60,
        ..ServiceConfig::default()
    };
    let dests = [
        US_FIXED,
        "0102",
        "9011442079460000",
        "9011861380000000",
        "918005550000",
    ];
    let mut charged: HashMap<String, Money> = HashMap::new();
    let mut outcomes: HashMap<Outcome, u32> = HashMap::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for id in 0..3_000u64 {
        // Mostly range subscribers (LOAD-…), some explicit ones (incl. suspended / empty).
        let calling = match rnd(10) {
            0 => BOB.to_string(),
            1 => JUDY.to_string(),
            2 => GRACE.to_string(),
            _ => format!("1212556{:04}", rnd(50)),
        };
        let dialled = dests[rnd(dests.len() as u64) as usize];
        let script = match rnd(8) {
            0 => Script::Busy,
            1 => Script::NoAnswer,
            2 => Script::Abandon,
            3 => Script::AbortAfter { after: rnd(20_000) },
            _ => Script::Answered {
                hold: rnd(30_000),
                disconnect_first: rnd(2) == 0,
            },
        };
        let c = run_call(id, &mut ledger, &cfg, &calling, dialled, script);
        assert!(c.reconciles(), "{c:?}");
        assert!(!c.settlement_incomplete);
        assert!(
            c.charged <= c.rated || c.outcome == Outcome::Aborted,
            "{c:?}"
        );
        if matches!(c.outcome, Outcome::Answered) {
            assert_eq!(c.charged, c.rated, "exact charge {script:?} {c:?}");
        }
        if let Some(a) = &c.account {
            *charged.entry(a.clone()).or_default() += c.charged;
        }
        *outcomes.entry(c.outcome).or_default() += 1;
    }
    // Money is conserved: every account's balance = initial − Σ charged in its CDRs.
    assert!(ledger.reservations.is_empty(), "open reservations left");
    for (a, b) in &ledger.balance {
        let ch = charged.get(a.as_str()).copied().unwrap_or(0);
        assert_eq!(initial[a] - ch, *b, "{a}");
    }
    for o in [
        Outcome::Answered,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Abandon,
        Outcome::Aborted,
        Outcome::PrepaidAuthFailed,
        Outcome::ReleasedForCredit,
    ] {
        assert!(
            outcomes.get(&o).copied().unwrap_or(0) > 0,
            "no {o:?}: {outcomes:?}"
        );
    }
}

#[test]
fn flaky_ledger_still_closes_every_reservation() {
    let p = prov();
    let mut ledger = FakeLedger::from(&p);
    ledger.unavailable_every = Some(7);
    let cfg = ServiceConfig {
        slice_seconds: 30,
        settle_retries: 5,
        ..ServiceConfig::default()
    };
    for id in 0..500u64 {
        let calling = format!("1212556{:04}", id % 37);
        let script = Script::Answered {
            hold: (id * 997) % 9_000,
            disconnect_first: id % 2 == 0,
        };
        let c = run_call(id, &mut ledger, &cfg, &calling, US_FIXED, script);
        if !c.settlement_incomplete {
            assert!(c.reconciles(), "{c:?}");
        }
    }
    assert!(ledger.reservations.is_empty(), "{:?}", ledger.reservations);
}

// ----- Property tests -------------------------------------------------------------------------

fn arb_response() -> impl Strategy<Value = PrepaidResponse> {
    prop_oneof![
        (0i64..10_000).prop_map(|available| PrepaidResponse::Authenticated { available }),
        (0i64..100).prop_map(|granted| PrepaidResponse::Granted { granted }),
        (0i64..100).prop_map(|amount| PrepaidResponse::Deducted { amount }),
        (0i64..100).prop_map(|amount| PrepaidResponse::Returned { amount }),
        prop_oneof![
            Just(Refusal::UnknownAccount),
            Just(Refusal::Suspended),
            Just(Refusal::Expired),
            Just(Refusal::InsufficientBalance),
            Just(Refusal::LedgerUnavailable),
        ]
        .prop_map(PrepaidResponse::Refused),
    ]
}

fn arb_ssp_event() -> impl Strategy<Value = CallEvent> {
    let leg = prop_oneof![Just(Leg::Calling), Just(Leg::Called)];
    prop_oneof![
        Just(CallEvent::Bcsm(BcsmEvent::Answer)),
        Just(CallEvent::Bcsm(BcsmEvent::Busy)),
        Just(CallEvent::Bcsm(BcsmEvent::NoAnswer)),
        Just(CallEvent::Bcsm(BcsmEvent::Abandon)),
        Just(CallEvent::Bcsm(BcsmEvent::RouteSelectFailure)),
        leg.prop_map(|leg| CallEvent::Bcsm(BcsmEvent::Disconnect { leg })),
        (0u64..20_000, any::<bool>()).prop_map(|(e, a)| CallEvent::ChargingReport {
            elapsed_100ms: e,
            call_active: a
        }),
        prop_oneof![Just("1234"), Just("4711"), Just("0000"), Just("")]
            .prop_map(|d| CallEvent::PinCollected(d.to_string())),
        Just(CallEvent::PinFailed),
        Just(CallEvent::AnnouncementDone),
        Just(CallEvent::Timeout),
    ]
}

fn arb_initial() -> impl Strategy<Value = CallEvent> {
    let calling = prop_oneof![
        Just(ALICE),
        Just(BOB),
        Just(ERIN),
        Just(FRANK),
        Just(GRACE),
        Just(IVAN),
        Just(JUDY),
        Just("12125560007"),
        Just("19995550000"),
    ];
    let dialled = prop_oneof![
        Just("0102"),
        Just("0101"),
        Just(US_FIXED),
        Just("9011442079460000"),
        Just("91900555000"),
        Just("0999"),
        Just("x"),
    ];
    let key = prop_oneof![Just(100u32), Just(100), Just(101), Just(7)];
    (key, calling, dialled).prop_map(|(k, c, d)| {
        CallEvent::Initial(InitialRequest {
            service_key: k,
            calling: Number::new(c, Nature::International),
            called: Number::new(d, Nature::Unknown),
        })
    })
}

/// The prepaid requests an action carries: one, the admission's Authenticate and ApplyFee,
/// or the settlement's Deduct and Return.
fn requests_of(a: &Action) -> Option<Vec<PrepaidRequest>> {
    match a {
        Action::Prepaid(r) => Some(vec![r.clone()]),
        Action::Admit { auth, apply } => Some(vec![auth.clone(), apply.clone()]),
        Action::Settle { deduct, ret } => Some(vec![deduct.clone(), ret.clone()]),
        _ => None,
    }
}

/// The ledger's answers to [`requests_of`]'s requests, as the real ledger gives them to a pair:
/// in order, nothing after a refused Authenticate.
fn answer_all(l: &mut FakeLedger, reqs: &[PrepaidRequest]) -> Vec<PrepaidResponse> {
    let mut gate = None;
    reqs.iter()
        .map(|r| {
            let a = match gate {
                Some(refusal) => PrepaidResponse::Refused(refusal),
                None => l.handle(r),
            };
            gate = gate.or_else(|| r.gate(&a));
            a
        })
        .collect()
}

/// The event carrying the answers to [`requests_of`]'s requests.
fn answers_event(reqs: &[PrepaidRequest], mut answers: Vec<PrepaidResponse>) -> CallEvent {
    match (answers.pop(), answers.pop()) {
        (Some(second), Some(first)) => {
            if matches!(reqs.first(), Some(PrepaidRequest::Authenticate { .. })) {
                CallEvent::Admitted(first, second)
            } else {
                CallEvent::Settled(first, second)
            }
        }
        (Some(one), None) => CallEvent::Prepaid(one),
        _ => CallEvent::Prepaid(PrepaidResponse::Refused(Refusal::LedgerUnavailable)),
    }
}

/// Drive to the end after `Aborted`: answer every prepaid request with a well-formed success
/// (or the given responder), until the machine stops asking.
fn drain(
    call: &mut Call,
    now: &mut Timestamp,
    mut pending: Option<Vec<PrepaidRequest>>,
    ledger: &mut Option<FakeLedger>,
) {
    for _ in 0..100 {
        let Some(reqs) = pending.take() else { break };
        let answers = match ledger {
            Some(l) => answer_all(l, &reqs),
            None => reqs
                .iter()
                .map(|req| match *req {
                    PrepaidRequest::Authenticate { .. } => {
                        PrepaidResponse::Authenticated { available: 0 }
                    }
                    PrepaidRequest::ApplyFee { want, .. }
                    | PrepaidRequest::Reapply { want, .. } => {
                        PrepaidResponse::Granted { granted: want }
                    }
                    PrepaidRequest::Deduct { used, .. } => {
                        PrepaidResponse::Deducted { amount: used }
                    }
                    PrepaidRequest::Return { .. } => PrepaidResponse::Returned { amount: 0 },
                })
                .collect(),
        };
        *now += 1;
        let mut out = Vec::new();
        call.handle(*now, answers_event(&reqs, answers), &mut out);
        pending = out.iter().find_map(requests_of);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Anything in any order, including nonsense prepaid answers: no panic; once the dialogue
    /// is aborted and outstanding requests are answered, the call is done with no reservation
    /// open and exactly one CDR.
    #[test]
    fn chaos_never_panics_and_always_ends(
        initial in arb_initial(),
        events in prop::collection::vec(
            prop_oneof![
                3 => arb_ssp_event(),
                2 => arb_response().prop_map(CallEvent::Prepaid),
                1 => (arb_response(), arb_response()).prop_map(|(d, r)| CallEvent::Settled(d, r)),
                1 => (arb_response(), arb_response()).prop_map(|(a, f)| CallEvent::Admitted(a, f)),
            ],
            0..40),
        dts in prop::collection::vec(0u64..200_000, 40),
    ) {
        let mut call = Call::new(CallId(9), T0, prov(), &ServiceConfig::default());
        let mut now = T0;
        let mut out = Vec::new();
        call.handle(now, initial, &mut out);
        for (e, dt) in events.into_iter().zip(dts) {
            now += dt;
            call.handle(now, e, &mut out);
        }
        call.handle(now, CallEvent::Aborted, &mut out);
        let mut last = out.iter().rev().find_map(requests_of);
        if !call.prepaid_pending() { last = None; }
        drain(&mut call, &mut now, last, &mut None);
        let mut tail = Vec::new();
        call.handle(now, CallEvent::Timeout, &mut tail);
        out.extend(tail);
        prop_assert!(call.is_done());
        prop_assert!(!call.reservation_open());
        let cdrs = out.iter().filter(|a| matches!(a, Action::Cdr(_))).count();
        prop_assert!(cdrs <= 1);
    }

    /// Random switch events with a correct ledger answering (sometimes late): every reservation
    /// is closed once the dialogue is lost, the ledger holds nothing for the call, the CDR
    /// reconciles with what the ledger did, and at most one TC-END is sent.
    #[test]
    fn with_a_ledger_every_reservation_is_closed(
        initial in arb_initial(),
        events in prop::collection::vec((arb_ssp_event(), any::<bool>(), 0u64..200_000), 0..40),
        lost in prop_oneof![Just(CallEvent::Aborted), Just(CallEvent::Timeout)],
    ) {
        let p = prov();
        let mut ledger = Some(FakeLedger::from(&p));
        let mut call = Call::new(CallId(11), T0, p, &ServiceConfig::default());
        let mut now = T0;
        let mut out = Vec::new();
        call.handle(now, initial, &mut out);
        let mut outstanding: Option<Vec<PrepaidRequest>> = None;
        let mut all = Vec::new();
        let take = |out: &mut Vec<Action>, outstanding: &mut Option<Vec<PrepaidRequest>>, all: &mut Vec<Action>| {
            for a in out.drain(..) {
                if let Some(r) = requests_of(&a) {
                    *outstanding = Some(r);
                }
                all.push(a);
            }
        };
        take(&mut out, &mut outstanding, &mut all);
        for (e, answer_first, dt) in events {
            now += dt;
            if answer_first {
                if let (Some(reqs), Some(l)) = (outstanding.take(), ledger.as_mut()) {
                    let answers = answer_all(l, &reqs);
                    call.handle(now, answers_event(&reqs, answers), &mut out);
                    take(&mut out, &mut outstanding, &mut all);
                }
            }
            call.handle(now, e, &mut out);
            take(&mut out, &mut outstanding, &mut all);
        }
        call.handle(now, lost, &mut out);
        take(&mut out, &mut outstanding, &mut all);
        let pending = outstanding.take();
        let before = all.len();
        drain(&mut call, &mut now, pending, &mut ledger);
        let _ = before;
        prop_assert!(call.is_done(), "not done");
        prop_assert!(!call.reservation_open());
        let l = ledger.as_ref().unwrap();
        prop_assert!(!l.reservations.contains_key(&CallId(11)), "ledger reservation left open");
        let ends = all.iter().filter(|a| matches!(a, Action::Send { end: DialogueEnd::End, .. })).count();
        prop_assert!(ends <= 1, "{} TC-ENDs", ends);
    }
}
