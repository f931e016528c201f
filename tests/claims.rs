//! Over-the-wire tests of the patent's claim paths: a test SSP speaks M3UA/SCCP/TCAP/CAP to a
//! real in-process SCP and checks the exact CAP operations it answers with and the ledger.

mod support;

use std::time::Duration;

use strowger_cap::{EventTypeBcsm, OpCode, Operation};
use support::server::TestServer;
use support::ssp::{acr, begin, cont, erb, idp, Components, Ssp, CAP_V2};

const SK: u32 = 100;

fn components_idp(calling: &str, dialled: &str) -> Components {
    Components::default().raw_invoke(1, 0, Some(&idp(SK, calling, dialled)))
}

#[test]
fn claim_1a_postpaid_vpn_call_translates_extension() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    // Alice (postpaid) dials extension 0102 (Bob).
    ssp.send_tcap(&begin(tid, CAP_V2, &components_idp("12125550101", "0102")));
    let r = ssp.expect();
    assert_eq!(r.kind, "continue", "{r:?}");
    assert_eq!(
        r.opcodes(),
        vec![OpCode::REQUEST_REPORT_BCSM_EVENT.0, OpCode::CONNECT.0],
        "postpaid: RRBE + Connect, no ApplyCharging"
    );
    let Some(Operation::Connect(c)) = r.op(OpCode::CONNECT) else {
        panic!("no Connect")
    };
    assert_eq!(c.destination().unwrap().digits.as_str(), "12125550102");
    let scp = r.otid.unwrap();
    // Answer, 30 s of talk, disconnect.
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_ANSWER, 2))),
    ));
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(3, 24, Some(&erb(EventTypeBcsm::O_DISCONNECT, 1))),
    ));
    let end = ssp.expect();
    assert_eq!(end.kind, "end", "{end:?}");
    drop(ssp);
    let mut srv = srv;
    srv.stop();
    let cdrs = srv.cdrs();
    assert_eq!(cdrs.len(), 1, "{cdrs:?}");
    assert_eq!(cdrs[0]["charging"], "postpaid");
    assert_eq!(cdrs[0]["outcome"], "answered");
    assert_eq!(cdrs[0]["translated"], "12125550102");
}

#[test]
fn claims_1b_3_to_8_prepaid_call_is_charged_and_the_rest_returned() {
    let srv = TestServer::start();
    let (before, _) = srv.balance("ACC-1002");
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    // Bob (prepaid, ACC-1002) dials a national number off-net: 9 + 1 212 555 0199.
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &components_idp("12125550102", "912125550199"),
    ));
    let r = ssp.expect();
    assert_eq!(r.kind, "continue", "{r:?}");
    assert_eq!(
        r.opcodes(),
        vec![
            OpCode::REQUEST_REPORT_BCSM_EVENT.0,
            OpCode::APPLY_CHARGING.0,
            OpCode::CONNECT.0
        ],
        "prepaid: RRBE + ApplyCharging + Connect"
    );
    let Some(Operation::ApplyCharging(ac)) = r.op(OpCode::APPLY_CHARGING) else {
        panic!()
    };
    let strowger_cap::ops::AChBilling::TimeDuration(tdc) = ac.ach_billing else {
        panic!()
    };
    assert_eq!(tdc.max_call_period_duration, 1200, "one 120 s slice");
    let scp = r.otid.unwrap();
    // While the call runs, a reservation is held.
    let (_, reserved) = srv.balance("ACC-1002");
    assert!(reserved > 0, "fee applied (claim 6)");
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_ANSWER, 2))),
    ));
    // First period used up: ACR callActive=TRUE → the next slice.
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(3, 36, Some(&acr(1200, true))),
    ));
    let r2 = ssp.expect();
    assert_eq!(r2.opcodes(), vec![OpCode::APPLY_CHARGING.0], "{r2:?}");
    // 150 s in total, then the caller hangs up.
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default()
            .raw_invoke(4, 36, Some(&acr(1500, false)))
            .raw_invoke(5, 24, Some(&erb(EventTypeBcsm::O_DISCONNECT, 1))),
    ));
    let end = ssp.expect();
    assert_eq!(end.kind, "end", "{end:?}");
    // Wait for settlement to be durable and visible.
    let mut after = (0, 1);
    for _ in 0..100 {
        after = srv.balance("ACC-1002");
        if after.1 == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(after.1, 0, "nothing stays reserved (claim 8)");
    // us-standard national_fixed: 5 per minute, 60/60 → 150 s = 3 minutes = 15.
    assert_eq!(
        before - after.0,
        15,
        "charged exactly the rated amount (claim 7)"
    );
    let mut srv = srv;
    srv.stop();
    let cdrs = srv.cdrs();
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0]["charged"], 15);
    assert_eq!(cdrs[0]["charging"], "prepaid");
}
