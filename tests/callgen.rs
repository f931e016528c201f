//! The call generator against a real `strowger serve` process (every scenario of
//! examples/scenarios.toml, each answer checked, the ledger reconciled), and against a peer
//! that answers wrongly (the reflector), which it must report and fail on.
//!
//! Pass/fail never depends on timing: calls are counted (`--calls`, scenarios in turn), the
//! answer timeout is generous, and the ledger check waits until the books settle.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use strowger::callgen::{self, reconcile, reflector, CallgenArgs};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `strowger serve` child process on ephemeral ports; killed (SIGTERM, then SIGKILL) on drop.
struct Serve {
    child: Child,
    m3ua: SocketAddr,
    admin: SocketAddr,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Serve {
    fn start() -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let cfg = dir.path().join("strowger.toml");
        std::fs::write(
            &cfg,
            format!(
                r#"
[node]
data_dir = "{}"
[m3ua]
listen = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
[engine]
arbiters = 2
drain_seconds = 5
[log]
format = "json"
level = "info"
[services]
provisioning = "{}"
"#,
                data.display(),
                root().join("examples/provisioning.toml").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_strowger"))
            .args(["serve", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strowger serve starts");
        // Read the log until the "running" line names the bound addresses; keep draining it
        // afterwards so the child never blocks on a full pipe.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(t) = &tx {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                        let f = &v["fields"];
                        if f["message"] == "strowger SCP running" {
                            let m3ua = f["m3ua"].as_str().unwrap_or("").trim_matches(['[', ']']);
                            let first = m3ua.split(',').next().unwrap_or("").trim().to_string();
                            let admin = f["admin"].as_str().unwrap_or("").to_string();
                            let _ = t.send((first, admin));
                            tx = None;
                        }
                    }
                }
            }
        });
        let (m3ua, admin) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("strowger serve reports its addresses");
        Serve {
            child,
            m3ua: m3ua.parse().expect("M3UA address"),
            admin: admin.parse().expect("admin address"),
            data,
            _dir: dir,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let scp = Serve::start();
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
