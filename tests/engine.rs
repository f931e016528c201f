//! The engine over the wire (issue 4): M3UA handshake and several links, every protocol
//! error answer, dialogue timeouts, overload with CallGap, ActivityTest, unknown service keys,
//! shutdown with calls in flight, and the pcap trace decoded by tshark.

mod support;

use std::time::Duration;

use bytes::BytesMut;
use strowger_cap::{EventTypeBcsm, OpCode, Operation};
use strowger_tcap::TransactionId;
use support::server::TestServer;
use support::ssp::{begin, cont, erb, idp, Components, Ssp, CAP_V2, CAP_V3};

fn idp_comps(key: u32, calling: &str, dialled: &str) -> Components {
    Components::default().raw_invoke(1, 0, Some(&idp(key, calling, dialled)))
}

#[test]
fn several_links_carry_calls_independently() {
    let srv = TestServer::start();
    let mut a = Ssp::connect(srv.m3ua());
    let mut b = Ssp::connect(srv.m3ua());
    let ta = a.tid();
    let tb = b.tid();
    a.send_tcap(&begin(ta, CAP_V2, &idp_comps(100, "12125550101", "0102")));
    b.send_tcap(&begin(tb, CAP_V2, &idp_comps(100, "12125550101", "0103")));
    let ra = a.expect();
    let rb = b.expect();
    assert_eq!(ra.dtid, Some(ta.to_u32()));
    assert_eq!(rb.dtid, Some(tb.to_u32()));
    // Dropping one link does not disturb the other.
    drop(a);
    std::thread::sleep(Duration::from_millis(100));
    let scp = rb.otid.unwrap();
    b.send_tcap(&cont(
        tb,
        scp,
        &Components::default().raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_CALLED_PARTY_BUSY, 2))),
    ));
    let end = b.expect();
    assert_eq!(end.kind, "end");
    assert_eq!(
        end.opcodes(),
        vec![OpCode::CONTINUE.0],
        "busy: the switch continues with its own tone"
    );
}

#[test]
fn unknown_transaction_id_gets_p_abort() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&cont(tid, 0xdead_beef, &Components::default()));
    let r = ssp.expect();
    assert_eq!(r.kind, "abort");
    assert_eq!(r.dtid, Some(tid.to_u32()));
    assert!(
        r.abort.as_deref().unwrap().contains("unrecognized"),
        "{r:?}"
    );
}

#[test]
fn malformed_transaction_portion_gets_p_abort() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    // A Begin (62) with a valid otid and a component portion cut short: badly formatted.
    ssp.send_tcap(&[0x62, 0x09, 0x48, 0x04, 1, 2, 3, 4, 0x6c, 0x05, 0xa1]);
    let r = ssp.expect();
    assert_eq!(r.kind, "abort", "{r:?}");
    assert_eq!(r.dtid, Some(0x0102_0304));
    assert!(r.abort.is_some());
    // A Begin whose otid has 5 octets: no transaction id to answer to, so it is discarded.
    ssp.send_tcap(&[0x62, 0x07, 0x48, 0x05, 1, 2, 3, 4, 5]);
    ssp.expect_silence(Duration::from_millis(300));
    // An unknown message type with a valid otid: unrecognizedMessageType.
    ssp.send_tcap(&[0x6a, 0x06, 0x48, 0x04, 1, 2, 3, 4]);
    let r = ssp.expect();
    assert_eq!(r.kind, "abort");
    assert!(
        r.abort
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("message"),
        "{r:?}"
    );
}

#[test]
fn unsupported_application_context_is_refused_with_aare_diagnostic() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    // CAP v1 (0.4.0.0.1.0.50.0) is not served.
    let v1 = [0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x00];
    ssp.send_tcap(&begin(tid, &v1, &idp_comps(100, "12125550101", "0102")));
    let r = ssp.expect();
    assert_eq!(r.kind, "abort", "{r:?}");
    let d = r.dialogue.unwrap();
    assert!(d.contains("Aare"), "{d}");
    assert!(d.contains("application-context-name-not-supported"), "{d}");
    assert!(
        d.contains("0.4.0.0.1.0.50.1"),
        "names a context we serve: {d}"
    );
}

#[test]
fn malformed_component_gets_reject_and_unknown_operation_too() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(100, "12125550101", "0102")));
    let r = ssp.expect();
    let scp = r.otid.unwrap();
    // An EventReportBCSM whose argument is garbage: mistypedParameter.
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(5, 24, Some(&[0x04, 0x01, 0x00])),
    ));
    let r = ssp.expect();
    assert_eq!(r.rejects.len(), 1, "{r:?}");
    assert_eq!(r.rejects[0].0, Some(5));
    // An operation code CAP does not have: unrecognizedOperation.
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(6, 99, None),
    ));
    let r = ssp.expect();
    assert_eq!(r.rejects.len(), 1, "{r:?}");
    assert!(
        r.rejects[0].1.to_lowercase().contains("unrecognized"),
        "{r:?}"
    );
}

#[test]
fn activity_test_is_answered() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(100, "12125550101", "0102")));
    let scp = ssp.expect().otid.unwrap();
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(7, 55, None),
    ));
    let r = ssp.expect();
    assert_eq!(r.results, vec![7], "{r:?}");
}

#[test]
fn unknown_service_key_gets_the_configured_default_treatment() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(999, "12125550101", "0102")));
    let r = ssp.expect();
    assert_eq!(r.kind, "end");
    assert_eq!(r.opcodes(), vec![OpCode::RELEASE_CALL.0]);
    let Some(Operation::ReleaseCall(rc)) = r.op(OpCode::RELEASE_CALL) else {
        panic!()
    };
    assert_eq!(rc.decoded_cause().unwrap().value.0, 31);
    // A call that ends at once leaves nothing in the dialogue table.
    let mut live = u64::MAX;
    for _ in 0..100 {
        live = srv.get("/ready").1["live_dialogues"].as_u64().unwrap();
        if live == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(live, 0);
    drop(ssp);

    let srv2 = TestServer::start_with(|c| {
        c.services.unknown_key_treatment = strowger::config::Treatment::Continue;
    });
    let mut ssp = Ssp::connect(srv2.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(999, "12125550101", "0102")));
    let r = ssp.expect();
    assert_eq!(r.opcodes(), vec![OpCode::CONTINUE.0]);
}

#[test]
fn undeliverable_message_gets_udts_when_asked() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    ssp.return_on_error = true;
    ssp.called = strowger_sccp::SccpAddress::route_on_ssn(
        Some(strowger_sccp::PointCode(2)),
        strowger_sccp::Ssn(8),
    );
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(100, "12125550101", "0102")));
    let sccp = ssp.recv_sccp(Duration::from_secs(5)).expect("UDTS");
    let m = strowger_sccp::Message::decode(&sccp).unwrap();
    assert_eq!(
        m.return_cause(),
        Some(strowger_sccp::ReturnCause::UNEQUIPPED_USER)
    );
    // Without the return option: silently discarded.
    ssp.return_on_error = false;
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(100, "12125550101", "0102")));
    ssp.expect_silence(Duration::from_millis(300));
}

#[test]
fn malformed_m3ua_gets_err_and_bad_framing_closes_the_link() {
    use std::io::{Read, Write};
    let srv = TestServer::start();
    let mut s = std::net::TcpStream::connect(srv.m3ua()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Version 2: ERR Invalid Version (0x01).
    s.write_all(&[2, 0, 3, 1, 0, 0, 0, 8]).unwrap();
    let mut b = [0u8; 64];
    let n = s.read(&mut b).unwrap();
    assert!(n >= 16, "an ERR");
    assert_eq!(&b[..4], &[1, 0, 0, 0], "MGMT ERR");
    assert_eq!(&b[8..10], &[0x00, 0x0c], "Error Code parameter");
    assert_eq!(&b[12..16], &[0, 0, 0, 1], "Invalid Version");
    // DATA before ASP Active: ERR Unexpected Message (0x06).
    s.write_all(&[1, 0, 1, 1, 0, 0, 0, 8]).unwrap();
    let n = s.read(&mut b).unwrap();
    assert!(n >= 16);
    // A length below the header size cannot be framed: ERR then close.
    s.write_all(&[1, 0, 3, 1, 0, 0, 0, 4]).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.len() >= 16, "ERR before close");
}

#[test]
fn idle_dialogue_times_out_and_is_aborted() {
    let srv = TestServer::start_with(|c| c.tcap.idle_timeout_seconds = 1);
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &idp_comps(100, "12125550102", "912125550199"),
    ));
    let r = ssp.expect();
    assert_eq!(r.kind, "continue");
    // Silence: the SCP gives up on the dialogue with a TC-U-ABORT.
    let r = ssp
        .recv(Duration::from_secs(4))
        .expect("abort after the idle timer");
    assert_eq!(r.kind, "abort", "{r:?}");
    let mut ok = false;
    for _ in 0..100 {
        let (_, reserved) = srv.balance("ACC-1002");
        if reserved == 0 {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ok, "the reservation of a timed-out dialogue is settled");
}

#[test]
fn overload_refuses_new_calls_with_callgap_and_recovers() {
    let srv = TestServer::start_with(|c| c.engine.max_dialogues = 2);
    let mut ssp = Ssp::connect(srv.m3ua());
    let mut open = Vec::new();
    for _ in 0..2 {
        let tid = ssp.tid();
        ssp.send_tcap(&begin(tid, CAP_V3, &idp_comps(100, "12125550101", "0102")));
        let r = ssp.expect();
        assert_eq!(r.kind, "continue");
        open.push((tid, r.otid.unwrap()));
    }
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V3, &idp_comps(100, "12125550101", "0102")));
    let r = ssp.expect();
    assert_eq!(r.kind, "end", "{r:?}");
    assert_eq!(
        r.opcodes(),
        vec![OpCode::CALL_GAP.0, OpCode::RELEASE_CALL.0],
        "{r:?}"
    );
    // Admitted calls are unaffected: finish them.
    for (tid, scp) in &open {
        ssp.send_tcap(&cont(
            *tid,
            *scp,
            &Components::default().raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_NO_ANSWER, 2))),
        ));
        assert_eq!(ssp.expect().kind, "end");
    }
    std::thread::sleep(Duration::from_millis(100));
    // Recovered.
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V3, &idp_comps(100, "12125550101", "0102")));
    assert_eq!(ssp.expect().kind, "continue");
}

#[test]
fn shutdown_drains_then_releases_calls_in_flight() {
    let mut srv = TestServer::start_with(|c| c.engine.drain_seconds = 1);
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &idp_comps(100, "12125550102", "912125550199"),
    ));
    let r = ssp.expect();
    let scp = r.otid.unwrap();
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default().raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_ANSWER, 2))),
    ));
    std::thread::sleep(Duration::from_millis(100));
    let h = srv.handle.take().unwrap();
    let stopper = std::thread::spawn(move || h.stop());
    // The live call is released when the drain time is over.
    let r = ssp
        .recv(Duration::from_secs(5))
        .expect("release at the end of the drain");
    assert_eq!(r.kind, "end", "{r:?}");
    assert_eq!(r.opcodes(), vec![OpCode::RELEASE_CALL.0]);
    stopper.join().unwrap().unwrap();
    // Its reservation was settled before exit: reopen the ledger and look.
    let srv2 = TestServer::start_with(|c| {
        c.node.data_dir = srv.dir.path().join("data");
    });
    assert_eq!(
        srv2.balance("ACC-1002").1,
        0,
        "nothing reserved after a clean shutdown"
    );
    let _ = TransactionId::from_u32(0);
    let _ = BytesMut::new();
}

#[test]
fn pcap_trace_decodes_in_tshark() {
    if !support::require_tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("trace.pcap");
    let mut c = support::server::config(dir.path());
    c.node.data_dir = dir.path().join("data");
    let h = strowger::server::start(
        c,
        strowger::server::ServeOptions {
            pcap: Some(pcap.clone()),
        },
    )
    .unwrap();
    let mut ssp = Ssp::connect(h.m3ua_addr());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(100, "12125550101", "0102")));
    let r = ssp.expect();
    ssp.send_tcap(&cont(
        tid,
        r.otid.unwrap(),
        &Components::default().raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_ABANDON, 1))),
    ));
    assert_eq!(ssp.expect().kind, "end");
    drop(ssp);
    h.stop().unwrap();
    let text = support::tshark_verbose(&pcap);
    assert!(!text.contains("Malformed"), "{text}");
    assert!(text.contains("ASP up (ASPUP)"), "handshake traced: {text}");
    assert!(text.contains("initialDP"), "CAP decoded: {text}");
    assert!(
        text.contains("requestReportBCSMEvent") || text.contains("connect"),
        "answer traced"
    );
}

#[test]
fn an_attempt_no_service_took_still_gets_a_cdr() {
    let mut srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(tid, CAP_V2, &idp_comps(999, "12125550101", "0102")));
    assert_eq!(ssp.expect().kind, "end");
    drop(ssp);
    srv.stop();
    let cdrs = srv.cdrs();
    assert_eq!(cdrs.len(), 1, "{cdrs:?}");
    assert_eq!(cdrs[0]["outcome"], "unknown_service_key");
    assert_eq!(cdrs[0]["service_key"], 999);
    assert_eq!(cdrs[0]["release_cause"], 31);
}
