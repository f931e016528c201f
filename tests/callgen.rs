//! The call generator against a real `strowger serve` process (every scenario of
//! examples/scenarios.toml, each answer checked, the ledger reconciled), and against a peer
//! that answers wrongly (the reflector), which it must report and fail on.
//!
//! Pass/fail never depends on timing: calls are counted (`--calls`, scenarios in turn), the
//! answer timeout is generous, and the ledger check waits until the books settle.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use strowger::callgen::{self, reconcile, reflector, CallgenArgs};

mod support;

use support::process::ServeProcess;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn args(scp: SocketAddr, scenarios: &Path, calls: u64) -> CallgenArgs {
    CallgenArgs {
        scp,
        scenarios: scenarios.to_path_buf(),
        links: 2,
        rate: 40.0,
        duration: 600.0,
        calls: Some(calls),
        round_robin: true,
        concurrency: 16,
        timeout_ms: 30_000,
        drain_secs: 60.0,
        progress: "none".into(),
        ..CallgenArgs::default()
    }
}

#[test]
fn every_scenario_against_strowger_serve_with_a_reconciled_ledger() {
    let scp = ServeProcess::start("", "");
    let scenarios = root().join("examples/scenarios.toml");
    let n = callgen::scenario::Scenarios::load(&scenarios)
        .unwrap()
        .scenarios
        .len() as u64;
    let before = reconcile::Snapshot::take(scp.admin, &root().join("examples/provisioning.toml"))
        .expect("balances before");
    let since = reconcile::now_ms();
    let report = callgen::run(&args(scp.m3ua, &scenarios, 3 * n)).expect("callgen runs");
    let table = report.table();
    assert_eq!(report.started, 3 * n, "{table}");
    assert_eq!(report.ok, 3 * n, "{table}");
    assert_eq!(report.failed, 0, "{table}");
    assert!(report.mismatches.is_empty(), "{table}");
    for s in &report.scenarios {
        assert_eq!((s.started, s.ok), (3, 3), "{}: {table}", s.name);
    }
    let rec = reconcile::reconcile_wait(
        &before,
        scp.admin,
        &scp.data,
        since,
        Duration::from_secs(30),
    )
    .expect("reconciliation");
    assert!(rec.balanced, "{}", rec.table());
    assert!(rec.charged_in_cdrs > 0, "{}", rec.table());
    // Every call attempt has a CDR; the engine's unknown-service-key refusal may not write
    // one (today it does not).
    assert!(rec.cdrs >= 3 * (n - 1), "{}", rec.table());
    assert!(rec.cdrs <= 3 * n, "{}", rec.table());
}

/// The scenario the reflector satisfies: one prepaid call answered with one report.
const REFLECTED: &str = r#"
[[scenario]]
name = "prepaid"
calling = "12125560001"
called = "2000"
expect = "connect"
connect = "12125560000"
apply_charging = true
reports = 1
"#;

#[test]
fn reflector_answers_its_scenario_and_every_other_is_a_mismatch() {
    let refl = reflector::start("127.0.0.1:0".parse().unwrap(), Some(1), "12125560000")
        .expect("reflector starts");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("reflected.toml");
    std::fs::write(&good, REFLECTED).unwrap();
    let report = callgen::run(&args(refl.addr(), &good, 50)).expect("callgen runs");
    assert!(report.clean(), "{}", report.table());
    assert_eq!(report.ok, 50);

    // The full mix against the reflector: everything but a prepaid call to 12125560000 is
    // answered wrongly. The CLI reports it and exits 1.
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_strowger"))
        .args(["callgen", "--scp", &refl.addr().to_string(), "--scenarios"])
        .arg(root().join("examples/scenarios.toml"))
        .args([
            "--calls",
            "40",
            "--rate",
            "40",
            "--round-robin",
            "--timeout-ms",
            "30000",
            "--progress",
            "none",
            "--report",
        ])
        .arg(&json)
        .output()
        .expect("callgen runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wrong_operations"), "{stdout}");
    assert!(stdout.contains("UNEXPECTED"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(v["failed"].as_u64().unwrap() > 0);
    assert!(v["mismatches"]["wrong_operations"].as_u64().unwrap() > 0);
    assert!(v["mismatches"]["wrong_connect_number"].as_u64().unwrap() > 0);
    assert!(!v["examples"].as_array().unwrap().is_empty());
    refl.stop();
}
