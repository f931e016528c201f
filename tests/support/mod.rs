//! Shared helpers for the integration tests: external oracles (tshark, pycrate) that must be
//! present in CI and are skipped with a clear line elsewhere.
#![allow(dead_code, unreachable_pub)]

pub mod process;
pub mod server;
pub mod ssp;

use std::path::Path;
use std::process::Command;

/// True when running under CI, where a missing oracle is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Whether `tool` can be run. Missing: panics under CI, prints `SKIP` and returns false
/// elsewhere.
pub fn require_tool(tool: &str, probe_args: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(probe_args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return true;
    }
    if in_ci() {
        panic!("{tool} is required under CI=true but cannot be run");
    }
    eprintln!("SKIP: {tool} is not installed; this oracle test did not run");
    false
}

/// Whether tshark is available (see [`require_tool`]).
pub fn require_tshark() -> bool {
    require_tool("tshark", &["--version"])
}

/// Whether python3 with pycrate is available (see [`require_tool`]).
pub fn require_pycrate() -> bool {
    require_tool("python3", &["-c", "import pycrate_asn1dir.TCAP_CAP"])
}

/// Decode a pcap with tshark into its JSON form (one object per frame), with the
/// preferences that make it dissect CAP on SSN 146 and INAP on 241.
pub fn tshark_json(pcap: &Path) -> serde_json::Value {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(pcap)
        .args([
            "-T",
            "json",
            "-o",
            "sctp.checksum:CRC-32C",
            "-o",
            "tcap.ssn:146,241",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("tshark JSON")
}

/// tshark's one-line-per-packet verbose text for a pcap, for "Malformed"/"Exception" checks.
pub fn tshark_verbose(pcap: &Path) -> String {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(pcap)
        .args([
            "-V",
            "-o",
            "sctp.checksum:CRC-32C",
            "-o",
            "tcap.ssn:146,241",
        ])
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
