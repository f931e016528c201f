//! Over-the-wire tests of every claim path's branches and failure treatments (issue 5, items
//! 3–10): a test SSP speaks M3UA/SCCP/TCAP/CAP v2 to a real in-process SCP, and each test checks
//! the exact CAP operations the SCP sends (and their key parameters), the ledger afterwards, and
//! reconciles the CDRs with the ledger:
//! `Σ charged in CDRs == balance before − balance after` per account and, per CDR,
//! `reserved − charged == returned`.
//!
//! Provisioning is `examples/provisioning.toml` (group acme-us, service key 100): Alice
//! postpaid, Bob prepaid ACC-1002, Carol on-net only, Dave national only (ACC-1004), Erin PIN
//! always (1234), Frank PIN off-net (4711, ACC-1006), Grace suspended ACC-1007, Heidi expired
//! ACC-1008, Ivan inactive, Judy ACC-1010 with 3 units. Treatments are the defaults of
//! `service::config`: VPN auth failure announcement 1 / cause 87, prepaid auth failure 2 / 31,
//! screening 3 / 53, credit exhausted 4 / 31; PIN prompt 10, retry prompt 11, 3 attempts, 4–8
//! digits; 120 s slices. Conversation time comes from ApplyChargingReport's cumulative
//! timeIfNoTariffSwitch, never from real waiting, except the lost-dialogue tests, whose
//! wall-clock share is bounded to well under one billing interval.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use strowger::service::{AbortPolicy, Treatment};
use strowger_cap::numbers::NatureOfAddress;
use strowger_cap::{Dialect, EventTypeBcsm, OpCode};
use strowger_tcap::TransactionId;
use support::server::{http, TestServer};
use support::ssp::{
    acr, begin, cont, digits_response, erb, idp, idp_ton, srr, u_abort, Components, Reply, Ssp,
    CAP_V2, CAP_V3,
};

const SK: u32 = 100;
const TOKEN: &str = "test-token";

const ALICE: &str = "12125550101";
const BOB: &str = "12125550102";
const CAROL: &str = "12125550103";
const DAVE: &str = "12125550104";
const ERIN: &str = "12125550105";
const FRANK: &str = "12125550106";
const GRACE: &str = "12125550107";
const HEIDI: &str = "12125550108";
const IVAN: &str = "12125550109";
const JUDY: &str = "12125550110";

const RRBE: i64 = OpCode::REQUEST_REPORT_BCSM_EVENT.0;
const AC: i64 = OpCode::APPLY_CHARGING.0;
const CONNECT: i64 = OpCode::CONNECT.0;
const CONTINUE: i64 = OpCode::CONTINUE.0;
const RELEASE: i64 = OpCode::RELEASE_CALL.0;
const CTR: i64 = OpCode::CONNECT_TO_RESOURCE.0;
const PA: i64 = OpCode::PLAY_ANNOUNCEMENT.0;
const PAC: i64 = OpCode::PROMPT_AND_COLLECT_USER_INFORMATION.0;
const DFC: i64 = OpCode::DISCONNECT_FORWARD_CONNECTION.0;

/// us-standard national_fixed: 5 per minute, 60/60 → a 120 s slice is 10.
const NATIONAL_SLICE: i64 = 10;

// ----- the SSP side of one call ----------------------------------------------------------------

/// One dialogue, seen from the SSP.
struct Dlg {
    tid: TransactionId,
    scp: u32,
    next: i8,
}

impl Dlg {
    /// Send a TC-BEGIN with this InitialDP; do not wait.
    fn begin_param(ssp: &mut Ssp, idp_param: &[u8]) -> Dlg {
        let tid = ssp.tid();
        ssp.send_tcap(&begin(
            tid,
            CAP_V2,
            &Components::default().raw_invoke(1, OpCode::INITIAL_DP.0, Some(idp_param)),
        ));
        Dlg {
            tid,
            scp: 0,
            next: 2,
        }
    }

    /// Begin with this InitialDP and take the SCP's first answer.
    fn start_param(ssp: &mut Ssp, idp_param: &[u8]) -> (Dlg, Reply) {
        let mut d = Dlg::begin_param(ssp, idp_param);
        let r = ssp.expect();
        d.took(&r);
        (d, r)
    }

    /// `calling` dials `dialled` (type of number unknown, as dialled).
    fn start(ssp: &mut Ssp, calling: &str, dialled: &str) -> (Dlg, Reply) {
        Dlg::start_param(ssp, &idp(SK, calling, dialled))
    }

    /// Note the SCP's transaction id from its first backward message.
    fn took(&mut self, r: &Reply) {
        assert_eq!(
            r.dtid,
            Some(self.tid.to_u32()),
            "answer to our dialogue: {r:?}"
        );
        if let Some(otid) = r.otid {
            self.scp = otid;
        }
    }

    /// Send these invokes in one TC-CONTINUE.
    fn send(&mut self, ssp: &mut Ssp, invokes: &[(OpCode, Vec<u8>)]) {
        let mut c = Components::default();
        for (op, p) in invokes {
            c = c.raw_invoke(self.next, op.0, Some(p));
            self.next += 1;
        }
        ssp.send_tcap(&cont(self.tid, self.scp, &c));
    }

    fn answer(&mut self, ssp: &mut Ssp) {
        self.send(
            ssp,
            &[(OpCode::EVENT_REPORT_BCSM, erb(EventTypeBcsm::O_ANSWER, 2))],
        );
    }

    /// The final ApplyChargingReport after `elapsed_100ms` and the caller's oDisconnect.
    fn hang_up(&mut self, ssp: &mut Ssp, elapsed_100ms: u32) {
        self.send(
            ssp,
            &[
                (OpCode::APPLY_CHARGING_REPORT, acr(elapsed_100ms, false)),
                (
                    OpCode::EVENT_REPORT_BCSM,
                    erb(EventTypeBcsm::O_DISCONNECT, 1),
                ),
            ],
        );
    }

    /// The announcement finished: SpecializedResourceReport; returns the SCP's answer.
    fn announcement_done(&mut self, ssp: &mut Ssp) -> Reply {
        self.send(ssp, &[(OpCode::SPECIALIZED_RESOURCE_REPORT, srr())]);
        ssp.expect()
    }

    /// Answer the SCP's PromptAndCollectUserInformation (invoke `id`) with `digits`.
    fn pin(&mut self, ssp: &mut Ssp, id: i8, digits: &str) -> Reply {
        let c = Components::default().result(
            id,
            OpCode::PROMPT_AND_COLLECT_USER_INFORMATION,
            Some(&digits_response(digits)),
        );
        ssp.send_tcap(&cont(self.tid, self.scp, &c));
        ssp.expect()
    }
}

// ----- assertions ----------------------------------------------------------------------------

fn assert_msg(r: &Reply, kind: &str, ops: &[i64]) {
    assert_eq!(r.kind, kind, "{r:?}");
    assert_eq!(r.opcodes(), ops, "{r:?}");
}

/// A failure treatment with an announcement: TC-CONTINUE [ConnectToResource,
/// PlayAnnouncement(announcement)], then on SpecializedResourceReport TC-END
/// [ReleaseCall(cause)].
fn assert_treatment(ssp: &mut Ssp, d: &mut Dlg, first: &Reply, announcement: u32, cause: u8) {
    assert_msg(first, "continue", &[CTR, PA]);
    assert_eq!(first.announcement(), Some(announcement), "{first:?}");
    let end = d.announcement_done(ssp);
    assert_msg(&end, "end", &[RELEASE]);
    assert_eq!(end.release_cause(), Some(cause), "{end:?}");
}

/// The SCP's answer to the end of an answered call: TC-END [ReleaseCall(16)].
fn assert_normal_end(r: &Reply) {
    assert_msg(r, "end", &[RELEASE]);
    assert_eq!(r.release_cause(), Some(16), "{r:?}");
}

fn admin_post(srv: &TestServer, path: &str, body: Value) -> Value {
    let (s, v) = http(srv.admin(), "POST", path, Some(TOKEN), Some(&body));
    assert_eq!(s, 200, "{path}: {v}");
    v
}

/// Set `account`'s balance to `target` (by an adjustment); returns it.
fn set_balance(srv: &TestServer, account: &str, target: i64) -> i64 {
    let (b, _) = srv.balance(account);
    if b != target {
        admin_post(
            srv,
            &format!("/accounts/{account}/adjust"),
            json!({ "amount": target - b }),
        );
    }
    assert_eq!(srv.balance(account), (target, 0));
    target
}

/// Wait until every account in `before` is settled, stop the server, and reconcile the ledger
/// with the CDRs: nothing left reserved; per CDR `reserved − charged == returned` and the
/// settlement complete; per account `Σ charged == before − after`. Returns (CDRs, balances
/// after).
fn reconcile(mut srv: TestServer, before: &[(&str, i64)]) -> (Vec<Value>, HashMap<String, i64>) {
    let mut after = HashMap::new();
    for &(acc, _) in before {
        let (bal, reserved) = srv.wait_settled(acc);
        assert_eq!(reserved, 0, "{acc}: nothing may stay reserved");
        after.insert(acc.to_string(), bal);
    }
    srv.stop();
    let cdrs = srv.cdrs();
    for c in &cdrs {
        let n = |f: &str| c[f].as_i64().unwrap_or_else(|| panic!("{f} in {c}"));
        assert_eq!(
            n("reserved") - n("charged"),
            n("returned"),
            "reserved − charged == returned: {c}"
        );
        assert!(c.get("settlement_incomplete").is_none(), "{c}");
    }
    for &(acc, b) in before {
        let charged: i64 = cdrs
            .iter()
            .filter(|c| c["account"] == acc)
            .map(|c| c["charged"].as_i64().unwrap())
            .sum();
        assert_eq!(
            charged,
            b - after[acc],
            "{acc}: Σ charged in CDRs == balance before − after ({cdrs:?})"
        );
    }
    (cdrs, after)
}

fn only_cdr(cdrs: &[Value]) -> &Value {
    assert_eq!(cdrs.len(), 1, "{cdrs:?}");
    &cdrs[0]
}

// ----- claim 2: VPN service authentication -----------------------------------------------------

#[test]
fn claim2_unknown_caller_gets_the_vpn_auth_failure_treatment() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, "12125559999", "0102");
    assert_treatment(&mut ssp, &mut d, &r, 1, 87);
    let (cdrs, _) = reconcile(srv, &[]);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "vpn_auth_failed");
    assert_eq!(c["charging"], "none");
    assert_eq!(c["reason"], "not a member");
    assert_eq!(c["release_cause"], 87);
}

#[test]
fn claim2_inactive_member_gets_the_vpn_auth_failure_treatment() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, IVAN, "0101");
    assert_treatment(&mut ssp, &mut d, &r, 1, 87);
    let (cdrs, _) = reconcile(srv, &[]);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "vpn_auth_failed");
    assert_eq!(c["reason"], "member inactive");
}

#[test]
fn claim2_pin_always_right_pin_connects() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    // Erin (postpaid, PIN always) dials Bob's extension, on-net.
    let (mut d, r) = Dlg::start(&mut ssp, ERIN, "0102");
    assert_msg(&r, "continue", &[CTR, PAC]);
    assert_eq!(r.prompt(), Some((10, 4, 8)), "PIN prompt 10, 4–8 digits");
    let id = r
        .invoke_id(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION)
        .unwrap();
    let r = d.pin(&mut ssp, id, "1234");
    assert_msg(&r, "continue", &[DFC, RRBE, CONNECT]);
    assert_eq!(r.connect_digits().as_deref(), Some(BOB));
    d.answer(&mut ssp);
    d.send(
        &mut ssp,
        &[(
            OpCode::EVENT_REPORT_BCSM,
            erb(EventTypeBcsm::O_DISCONNECT, 1),
        )],
    );
    assert_normal_end(&ssp.expect());
    let (cdrs, _) = reconcile(srv, &[]);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "answered");
    assert_eq!(c["charging"], "postpaid");
    assert_eq!(c["translated"], BOB);
}

#[test]
fn claim2_wrong_pin_three_times_fails_vpn_authentication() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, ERIN, "0102");
    assert_msg(&r, "continue", &[CTR, PAC]);
    let mut id = r
        .invoke_id(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION)
        .unwrap();
    for attempt in 1..=2 {
        let r = d.pin(&mut ssp, id, "9999");
        assert_msg(&r, "continue", &[PAC]);
        assert_eq!(
            r.prompt(),
            Some((11, 4, 8)),
            "retry prompt after attempt {attempt}"
        );
        id = r
            .invoke_id(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION)
            .unwrap();
    }
    let r = d.pin(&mut ssp, id, "4321");
    // The resource is already connected: only the failure announcement.
    assert_msg(&r, "continue", &[PA]);
    assert_eq!(r.announcement(), Some(1));
    let end = d.announcement_done(&mut ssp);
    assert_msg(&end, "end", &[RELEASE]);
    assert_eq!(end.release_cause(), Some(87));
    let (cdrs, _) = reconcile(srv, &[]);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "vpn_auth_failed");
    assert_eq!(c["reason"], "pin");
}

#[test]
fn claim2_pin_for_off_net_calls_only() {
    let srv = TestServer::start();
    let (before, _) = srv.balance("ACC-1006");
    let mut ssp = Ssp::connect(srv.m3ua());
    // Frank on-net: no PIN, straight to the prepaid call.
    let (mut d, r) = Dlg::start(&mut ssp, FRANK, "0101");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    assert_eq!(r.connect_digits().as_deref(), Some(ALICE));
    d.send(
        &mut ssp,
        &[(
            OpCode::EVENT_REPORT_BCSM,
            erb(EventTypeBcsm::O_CALLED_PARTY_BUSY, 2),
        )],
    );
    assert_msg(&ssp.expect(), "end", &[CONTINUE]);
    // Frank off-net: PIN first, then prepaid authentication and the fee.
    let (mut d, r) = Dlg::start(&mut ssp, FRANK, "912125550199");
    assert_msg(&r, "continue", &[CTR, PAC]);
    assert_eq!(r.prompt(), Some((10, 4, 8)));
    let id = r
        .invoke_id(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION)
        .unwrap();
    let r = d.pin(&mut ssp, id, "4711");
    assert_msg(&r, "continue", &[DFC, RRBE, AC, CONNECT]);
    assert_eq!(r.apply_charging(), Some((1200, false, false)));
    assert_eq!(r.connect_digits().as_deref(), Some("12125550199"));
    d.answer(&mut ssp);
    d.hang_up(&mut ssp, 300);
    assert_normal_end(&ssp.expect());
    let (cdrs, after) = reconcile(srv, &[("ACC-1006", before)]);
    assert_eq!(cdrs.len(), 2);
    assert_eq!(
        before - after["ACC-1006"],
        5,
        "30 s national = one minute = 5"
    );
}

// ----- claims 3–5: prepaid service authentication ----------------------------------------------

fn prepaid_auth_failure(calling: &str, dialled: &str, account: &str, reason: &str) {
    let srv = TestServer::start();
    let (before, _) = srv.balance(account);
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, calling, dialled);
    assert_treatment(&mut ssp, &mut d, &r, 2, 31);
    let (cdrs, after) = reconcile(srv, &[(account, before)]);
    assert_eq!(after[account], before, "nothing charged");
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "prepaid_auth_failed");
    assert_eq!(c["charging"], "prepaid");
    assert_eq!(c["account"], account);
    assert_eq!(c["reason"], reason);
    assert_eq!(c["reserved"], 0);
}

#[test]
fn claims3_5_suspended_account_fails_prepaid_authentication() {
    prepaid_auth_failure(GRACE, "0101", "ACC-1007", "suspended");
}

#[test]
fn claims3_5_expired_account_fails_prepaid_authentication() {
    prepaid_auth_failure(HEIDI, "0101", "ACC-1008", "expired");
}

#[test]
fn claims3_5_insufficient_balance_fails_prepaid_authentication() {
    // Judy has 3; an international zone-1 call's first unit is 10 + 30 s at 25/min = 23.
    prepaid_auth_failure(JUDY, "9011442079460000", "ACC-1010", "insufficient_balance");
}

#[test]
fn configured_treatments_are_used() {
    let srv = TestServer::start_with(|c| {
        c.service.prepaid_auth_failure = Treatment {
            announcement: None,
            cause: 21,
        };
        c.service.vpn_auth_failure = Treatment {
            announcement: Some(77),
            cause: 87,
        };
    });
    let mut ssp = Ssp::connect(srv.m3ua());
    // No announcement configured: released at once, in the answer to the TC-BEGIN.
    let (_, r) = Dlg::start(&mut ssp, GRACE, "0101");
    assert_msg(&r, "end", &[RELEASE]);
    assert_eq!(r.release_cause(), Some(21));
    let (mut d, r) = Dlg::start(&mut ssp, IVAN, "0101");
    assert_treatment(&mut ssp, &mut d, &r, 77, 87);
    let (cdrs, _) = reconcile(srv, &[("ACC-1007", 5000)]);
    assert_eq!(cdrs.len(), 2);
}

// ----- screening and numbering ---------------------------------------------------------------

fn screened(calling: &str, dialled: &str, reason: &str) {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, calling, dialled);
    assert_treatment(&mut ssp, &mut d, &r, 3, 53);
    let accounts: &[(&str, i64)] = if calling == DAVE {
        &[("ACC-1004", 2000)]
    } else {
        &[]
    };
    let (cdrs, _) = reconcile(srv, accounts);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "screened");
    assert_eq!(c["reason"], reason);
    assert_eq!(c["reserved"], 0);
}

#[test]
fn screening_on_net_only_member_calling_off_net() {
    screened(CAROL, "914155550000", "off_net_barred");
}

#[test]
fn screening_national_only_member_calling_abroad() {
    screened(DAVE, "9011442079460000", "international_barred");
}

#[test]
fn screening_blocked_prefix_1900() {
    screened(ALICE, "919005550000", "blocked_prefix");
}

#[test]
fn numbering_extension_public_number_and_off_net_prefix() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let cases: &[(Vec<u8>, &str, bool, &str)] = &[
        // A 4-digit extension → that member's public number.
        (idp(SK, ALICE, "0102"), BOB, true, "on_net"),
        // Access prefix + a member's public number (national form) → on-net.
        (idp(SK, ALICE, "912125550102"), BOB, true, "on_net"),
        // A member's public number dialled in international form → on-net.
        (idp_ton(SK, ALICE, "12125550104", 1), DAVE, true, "on_net"),
        // Access prefix + a national number → off-net.
        (
            idp(SK, ALICE, "914155550000"),
            "14155550000",
            false,
            "national_fixed",
        ),
        // Access prefix + international prefix 011 → off-net abroad.
        (
            idp(SK, ALICE, "9011442079460000"),
            "442079460000",
            false,
            "international_zone1",
        ),
    ];
    for (p, want, _, _) in cases {
        let (mut d, r) = Dlg::start_param(&mut ssp, p);
        assert_msg(&r, "continue", &[RRBE, CONNECT]);
        assert_eq!(r.connect_digits().as_deref(), Some(*want));
        d.send(
            &mut ssp,
            &[(
                OpCode::EVENT_REPORT_BCSM,
                erb(EventTypeBcsm::O_NO_ANSWER, 2),
            )],
        );
        assert_msg(&ssp.expect(), "end", &[CONTINUE]);
    }
    let (cdrs, _) = reconcile(srv, &[]);
    assert_eq!(cdrs.len(), cases.len());
    let mut cdrs = cdrs;
    cdrs.sort_by_key(|c| c["call_id"].as_u64());
    for (c, (_, want, on_net, class)) in cdrs.iter().zip(cases) {
        assert_eq!(c["translated"], *want, "{c}");
        assert_eq!(c["on_net"], *on_net, "{c}");
        assert_eq!(c["dest_class"], *class, "{c}");
        assert_eq!(c["outcome"], "no_answer");
    }
}

#[test]
fn on_net_recognition_rates_a_members_public_number_on_net() {
    let srv = TestServer::start();
    let (before, _) = srv.balance("ACC-1002");
    let mut ssp = Ssp::connect(srv.m3ua());
    // Bob (prepaid) dials Alice's public number through the access prefix: on-net, 2/min.
    let (mut d, r) = Dlg::start(&mut ssp, BOB, "912125550101");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    assert_eq!(r.connect_digits().as_deref(), Some(ALICE));
    assert_eq!(r.connect_nature(), Some(NatureOfAddress::INTERNATIONAL));
    // The BCSM events armed: call failures and ends interrupted, answer notified.
    use strowger_cap::MonitorMode as M;
    assert_eq!(
        r.armed(),
        vec![
            (EventTypeBcsm::ROUTE_SELECT_FAILURE, M::INTERRUPTED, Some(2)),
            (EventTypeBcsm::O_CALLED_PARTY_BUSY, M::INTERRUPTED, Some(2)),
            (EventTypeBcsm::O_NO_ANSWER, M::INTERRUPTED, Some(2)),
            (EventTypeBcsm::O_ABANDON, M::INTERRUPTED, Some(1)),
            (EventTypeBcsm::O_DISCONNECT, M::INTERRUPTED, Some(1)),
            (EventTypeBcsm::O_DISCONNECT, M::INTERRUPTED, Some(2)),
            (EventTypeBcsm::O_ANSWER, M::NOTIFY_AND_CONTINUE, Some(2)),
        ]
    );
    d.answer(&mut ssp);
    d.hang_up(&mut ssp, 900);
    assert_normal_end(&ssp.expect());
    let (cdrs, after) = reconcile(srv, &[("ACC-1002", before)]);
    assert_eq!(
        before - after["ACC-1002"],
        4,
        "90 s on-net = 2 minutes at 2 (national would be 10)"
    );
    let c = only_cdr(&cdrs);
    assert_eq!(c["on_net"], true);
    assert_eq!(c["dest_class"], "on_net");
}

// ----- claim 6: the fee limits the call ------------------------------------------------------

#[test]
fn claim6_last_slice_is_released_when_it_runs_out() {
    let srv = TestServer::start();
    let before = set_balance(&srv, "ACC-1010", 3);
    let mut ssp = Ssp::connect(srv.m3ua());
    // Judy (3 units) calls Alice on-net (2/min, 60/60): a 120 s slice wants 4; 3 are granted,
    // which buy one whole minute. Last slice: release at its end, with the warning tone.
    let (mut d, r) = Dlg::start(&mut ssp, JUDY, "0101");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    assert_eq!(r.apply_charging(), Some((600, true, true)));
    assert_eq!(srv.balance("ACC-1010"), (3, 3), "everything reserved");
    d.answer(&mut ssp);
    // The switch releases at the end of the period and reports.
    d.hang_up(&mut ssp, 600);
    assert_normal_end(&ssp.expect());
    let (cdrs, after) = reconcile(srv, &[("ACC-1010", before)]);
    assert_eq!(after["ACC-1010"], 1);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "released_for_credit");
    assert_eq!(
        (&c["reserved"], &c["charged"], &c["returned"]),
        (&json!(3), &json!(2), &json!(1))
    );
}

#[test]
fn claim6_last_slice_in_cap_v3() {
    // CAP v3 carries the warning tone in its own field (v2: inside releaseIfdurationExceeded).
    let srv = TestServer::start();
    let before = set_balance(&srv, "ACC-1010", 3);
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V3,
        &Components::default().raw_invoke(1, OpCode::INITIAL_DP.0, Some(&idp(SK, JUDY, "0101"))),
    ));
    let r = ssp.expect();
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    assert!(r.dialogue.is_some(), "AARE in the first backward message");
    assert_eq!(r.apply_charging_in(Dialect::CapV3), Some((600, true, true)));
    let mut d = Dlg {
        tid,
        scp: r.otid.unwrap(),
        next: 2,
    };
    d.answer(&mut ssp);
    d.hang_up(&mut ssp, 450);
    assert_normal_end(&ssp.expect());
    let (_, after) = reconcile(srv, &[("ACC-1010", before)]);
    assert_eq!(after["ACC-1010"], 1, "45 s on-net: one minute at 2");
}

#[test]
fn claim6_mid_call_refusal_releases_the_call() {
    let srv = TestServer::start();
    let before = set_balance(&srv, "ACC-1010", 4);
    let mut ssp = Ssp::connect(srv.m3ua());
    // 4 units buy exactly one full 120 s on-net slice; nothing is left for the next.
    let (mut d, r) = Dlg::start(&mut ssp, JUDY, "0101");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    assert_eq!(r.apply_charging(), Some((1200, false, false)));
    d.answer(&mut ssp);
    d.send(
        &mut ssp,
        &[(OpCode::APPLY_CHARGING_REPORT, acr(1200, true))],
    );
    let end = ssp.expect();
    assert_msg(&end, "end", &[RELEASE]);
    assert_eq!(
        end.release_cause(),
        Some(31),
        "credit exhausted, no announcement mid-call"
    );
    let (cdrs, after) = reconcile(srv, &[("ACC-1010", before)]);
    assert_eq!(after["ACC-1010"], 0);
    let c = only_cdr(&cdrs);
    assert_eq!(c["outcome"], "released_for_credit");
    assert_eq!(c["charged"], 4);
}

#[test]
fn claim7_disconnect_first_then_final_report_in_a_later_message() {
    let srv = TestServer::start();
    let (before, _) = srv.balance("ACC-1002");
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, BOB, "912125550199");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    d.answer(&mut ssp);
    // The called party hangs up; the SCP waits for the exact time in the final report.
    d.send(
        &mut ssp,
        &[(
            OpCode::EVENT_REPORT_BCSM,
            erb(EventTypeBcsm::O_DISCONNECT, 2),
        )],
    );
    ssp.expect_silence(Duration::from_millis(100));
    d.send(
        &mut ssp,
        &[(OpCode::APPLY_CHARGING_REPORT, acr(610, false))],
    );
    assert_normal_end(&ssp.expect());
    let (cdrs, after) = reconcile(srv, &[("ACC-1002", before)]);
    assert_eq!(
        before - after["ACC-1002"],
        10,
        "61 s = 2 started minutes at 5"
    );
    assert_eq!(only_cdr(&cdrs)["answered_100ms"], 610);
}

#[test]
fn claim7_missing_final_report_is_settled_on_the_wall_clock() {
    let srv = TestServer::start_with(|c| c.service.final_report_wait_ms = 300);
    let (before, _) = srv.balance("ACC-1002");
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, BOB, "912125550199");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    d.answer(&mut ssp);
    // Some conversation on the wall clock (well under one 60 s billing interval).
    std::thread::sleep(Duration::from_millis(150));
    d.send(
        &mut ssp,
        &[(
            OpCode::EVENT_REPORT_BCSM,
            erb(EventTypeBcsm::O_DISCONNECT, 1),
        )],
    );
    // No ApplyChargingReport: after final_report_wait_ms the SCP ends the dialogue itself.
    let end = ssp
        .recv(Duration::from_secs(3))
        .expect("TC-END after the wait");
    assert_normal_end(&end);
    let (cdrs, after) = reconcile(srv, &[("ACC-1002", before)]);
    assert_eq!(
        before - after["ACC-1002"],
        5,
        "well under a minute: the first minute"
    );
    assert_eq!(only_cdr(&cdrs)["outcome"], "answered");
}

// ----- unanswered calls: nothing deducted, everything returned -------------------------------

#[test]
fn unanswered_calls_deduct_nothing_and_return_everything() {
    let srv = TestServer::start();
    let (before, _) = srv.balance("ACC-1002");
    let mut ssp = Ssp::connect(srv.m3ua());
    let cases: &[(EventTypeBcsm, u8, bool, &[i64], &str)] = &[
        (
            EventTypeBcsm::O_CALLED_PARTY_BUSY,
            2,
            true,
            &[CONTINUE],
            "busy",
        ),
        (
            EventTypeBcsm::O_NO_ANSWER,
            2,
            false,
            &[CONTINUE],
            "no_answer",
        ),
        (EventTypeBcsm::O_ABANDON, 1, true, &[RELEASE], "abandon"),
        (
            EventTypeBcsm::ROUTE_SELECT_FAILURE,
            2,
            false,
            &[CONTINUE],
            "route_failure",
        ),
    ];
    for &(ev, leg, with_report, ops, _) in cases {
        let (mut d, r) = Dlg::start(&mut ssp, BOB, "912125550199");
        assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
        assert_eq!(srv.balance("ACC-1002"), (before, NATIONAL_SLICE));
        let mut invokes = Vec::new();
        if with_report {
            // The final report of a call never answered: 0.
            invokes.push((OpCode::APPLY_CHARGING_REPORT, acr(0, false)));
        }
        invokes.push((OpCode::EVENT_REPORT_BCSM, erb(ev, leg)));
        d.send(&mut ssp, &invokes);
        let end = ssp.expect();
        assert_msg(&end, "end", ops);
        assert_eq!(srv.wait_settled("ACC-1002"), (before, 0), "{ev:?}");
    }
    let (cdrs, after) = reconcile(srv, &[("ACC-1002", before)]);
    assert_eq!(after["ACC-1002"], before);
    let mut cdrs = cdrs;
    cdrs.sort_by_key(|c| c["call_id"].as_u64());
    for (c, case) in cdrs.iter().zip(cases) {
        assert_eq!(c["outcome"], case.4, "{c}");
        assert_eq!(c["reserved"], NATIONAL_SLICE, "{c}");
        assert_eq!(c["charged"], 0, "{c}");
        assert_eq!(c["returned"], NATIONAL_SLICE, "{c}");
    }
}

// ----- lost dialogues ------------------------------------------------------------------------

/// Bob calls a national number, it is answered, then `lose` ends the dialogue from the SSP.
fn lost_dialogue(
    policy: AbortPolicy,
    report_first: bool,
    expected_charge: i64,
    lose: impl FnOnce(&mut Ssp, &mut Dlg),
) -> Value {
    let srv = TestServer::start_with(|c| {
        c.service.abort_policy = policy;
        c.tcap.idle_timeout_seconds = 1;
    });
    let (before, _) = srv.balance("ACC-1002");
    let mut ssp = Ssp::connect(srv.m3ua());
    let (mut d, r) = Dlg::start(&mut ssp, BOB, "912125550199");
    assert_msg(&r, "continue", &[RRBE, AC, CONNECT]);
    d.answer(&mut ssp);
    if report_first {
        d.send(
            &mut ssp,
            &[(OpCode::APPLY_CHARGING_REPORT, acr(1200, true))],
        );
        let r = ssp.expect();
        assert_msg(&r, "continue", &[AC]);
        assert_eq!(srv.balance("ACC-1002").1, NATIONAL_SLICE, "the next slice");
    }
    // Some conversation time on the wall clock (well under one 60 s billing interval).
    std::thread::sleep(Duration::from_millis(150));
    lose(&mut ssp, &mut d);
    let (cdrs, after) = reconcile(srv, &[("ACC-1002", before)]);
    assert_eq!(before - after["ACC-1002"], expected_charge, "{policy:?}");
    only_cdr(&cdrs).clone()
}

fn tc_abort(ssp: &mut Ssp, d: &mut Dlg) {
    ssp.send_tcap(&u_abort(d.scp));
    ssp.expect_silence(Duration::from_millis(200));
}

#[test]
fn tc_abort_mid_call_charge_known_charges_the_time_known() {
    // Answered ~150 ms ago: the first started minute, 5.
    let c = lost_dialogue(AbortPolicy::ChargeKnown, false, 5, tc_abort);
    assert_eq!(c["outcome"], "aborted");
    assert_eq!(c["reserved"], NATIONAL_SLICE);
}

#[test]
fn tc_abort_mid_call_return_all_charges_only_reported_periods() {
    // The reported 120 s (10) were deducted by the re-application; the live slice goes back.
    let c = lost_dialogue(AbortPolicy::ReturnAll, true, 10, tc_abort);
    assert_eq!(c["outcome"], "aborted");
    assert_eq!(c["reserved"], 2 * NATIONAL_SLICE);
    assert_eq!(c["returned"], NATIONAL_SLICE);
}

#[test]
fn tc_abort_mid_call_charge_reservation_charges_the_whole_slice() {
    let c = lost_dialogue(
        AbortPolicy::ChargeReservation,
        false,
        NATIONAL_SLICE,
        tc_abort,
    );
    assert_eq!(c["outcome"], "aborted");
    assert_eq!(c["returned"], 0);
}

#[test]
fn link_lost_while_the_fee_is_applied_leaves_nothing_reserved() {
    // The SSP link closes right behind the TC-BEGIN: the call learns it while Authenticate or
    // ApplyFee is outstanding (or just after its Connect could not be sent). A grant that
    // arrives for a lost call is returned at once.
    let srv = TestServer::start();
    let (before, _) = srv.balance("ACC-1002");
    for _ in 0..10 {
        let mut ssp = Ssp::connect(srv.m3ua());
        let _ = Dlg::begin_param(&mut ssp, &idp(SK, BOB, "912125550199"));
        drop(ssp);
    }
    let mut n = 0;
    for _ in 0..150 {
        n = srv.get("/calls").1["live"].as_u64().unwrap();
        if n == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(n, 0, "every lost call is settled and gone");
    let (cdrs, after) = reconcile(srv, &[("ACC-1002", before)]);
    assert_eq!(after["ACC-1002"], before, "never answered: nothing charged");
    assert_eq!(cdrs.len(), 10, "one CDR per attempt");
    for c in &cdrs {
        assert_eq!(c["outcome"], "aborted", "{c}");
        assert_eq!(c["charged"], 0, "{c}");
    }
}

#[test]
fn dialogue_idle_timeout_aborts_and_settles_by_the_policy() {
    // tcap.idle_timeout_seconds = 1: the SCP aborts the silent dialogue, and settles it like a
    // TC-ABORT (charge_known: about one second, the first started minute).
    let c = lost_dialogue(AbortPolicy::ChargeKnown, false, 5, |ssp, d| {
        let r = ssp
            .recv(Duration::from_secs(3))
            .expect("the SCP aborts an idle dialogue");
        assert_eq!(r.kind, "abort", "{r:?}");
        assert_eq!(r.dtid, Some(d.tid.to_u32()));
    });
    // The engine treats its own idle timer like a TC-ABORT (the dialogue is lost).
    assert_eq!(c["outcome"], "aborted", "{c}");
}

// ----- several calls on one account ----------------------------------------------------------

#[test]
fn concurrent_calls_share_one_balance_without_overdraft() {
    let srv = TestServer::start();
    let before = set_balance(&srv, "ACC-1010", 10);
    let mut ssp = Ssp::connect(srv.m3ua());
    // Four on-net calls from Judy at once; each wants a 4-unit slice.
    let mut dlgs: Vec<Dlg> = (0..4)
        .map(|_| Dlg::begin_param(&mut ssp, &idp(SK, JUDY, "0101")))
        .collect();
    let mut replies = HashMap::new();
    while replies.len() < dlgs.len() {
        let r = ssp.expect();
        let (b, reserved) = srv.balance("ACC-1010");
        assert!(reserved <= b, "reserved {reserved} > balance {b}");
        replies.insert(r.dtid.unwrap(), r);
    }
    let mut granted = Vec::new();
    let mut refused = None;
    for (i, d) in dlgs.iter_mut().enumerate() {
        let r = &replies[&d.tid.to_u32()];
        d.took(r);
        if r.opcodes() == [RRBE, AC, CONNECT] {
            granted.push((i, r.apply_charging().unwrap()));
        } else {
            refused = Some((i, r.clone()));
        }
    }
    // 4 + 4 + 2: two full slices, and a last slice of one minute; nothing for the fourth.
    let mut periods: Vec<_> = granted.iter().map(|g| g.1).collect();
    periods.sort();
    assert_eq!(
        periods,
        vec![
            (600, true, true),
            (1200, false, false),
            (1200, false, false)
        ]
    );
    assert_eq!(
        srv.balance("ACC-1010"),
        (10, 10),
        "Σ reserved == balance, no more"
    );
    let (i, r) = refused.expect("the fourth call is refused");
    // Refused by Authenticate (prepaid auth failure, 2) or by ApplyFee (credit exhausted, 4),
    // depending on which came first in the account's queue; both cause 31.
    let ann = r.announcement().unwrap();
    assert!(ann == 2 || ann == 4, "{r:?}");
    assert_treatment(&mut ssp, &mut dlgs[i], &r, ann, 31);
    // The three calls are answered and each lasts 60 s.
    for &(i, _) in &granted {
        dlgs[i].answer(&mut ssp);
        dlgs[i].hang_up(&mut ssp, 600);
        assert_normal_end(&ssp.expect());
    }
    let (cdrs, after) = reconcile(srv, &[("ACC-1010", before)]);
    assert_eq!(after["ACC-1010"], 4, "3 × one minute at 2");
    assert_eq!(cdrs.len(), 4);
}

// ----- unknown service key -------------------------------------------------------------------

#[test]
fn unknown_service_key_is_released_and_leaves_no_dialogue_behind() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    // A call that ends at once (in the actor's first step) used to race its own registration
    // in the dialogue table and could stay listed for ever: drain then waited 40 s.
    for _ in 0..20 {
        let (_, r) = Dlg::start_param(&mut ssp, &idp(999, ALICE, "0102"));
        assert_msg(&r, "end", &[RELEASE]);
        assert_eq!(
            r.release_cause(),
            Some(31),
            "services.unknown_key_treatment"
        );
    }
    let mut live = Value::Null;
    for _ in 0..50 {
        live = srv.get("/calls").1["live"].clone();
        if live == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(live, 0, "no dialogue left in the table");
    let started = std::time::Instant::now();
    let _ = reconcile(srv, &[]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drain had nothing to wait for"
    );
}
