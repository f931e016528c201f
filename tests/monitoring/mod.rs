//! Shared by the monitoring tests (`metrics_catalogue.rs`, `prometheus.rs`): a mix of calls
//! with known outcomes played by the test SSP, a raw `/metrics` scrape, and the catalogue and
//! exposition parsers.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use strowger_cap::{EventTypeBcsm, OpCode};
use strowger_tcap::TransactionId;

use crate::support::ssp::{acr, begin, cont, erb, idp, u_abort, Components, Reply, Ssp, CAP_V2};

const SK: u32 = 100;
const ALICE: &str = "12125550101";
const BOB: &str = "12125550102";
const CAROL: &str = "12125550103";
const GRACE: &str = "12125550107";
const IVAN: &str = "12125550109";

/// The calls [`call`] can play, each with a known outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Postpaid on-net call, answered (outcome `answered`).
    Postpaid,
    /// Prepaid off-net call, answered, `secs` of talk reported (`answered`; applied,
    /// deducted, returned).
    Prepaid { secs: u32 },
    /// Prepaid call, B busy (`busy`).
    Busy,
    /// Prepaid call, no answer (`no_answer`).
    NoAnswer,
    /// Prepaid call, caller hangs up first (`abandon`).
    Abandon,
    /// Inactive VPN member (`vpn_auth_failed`).
    VpnAuthFailed,
    /// Suspended prepaid account (`prepaid_auth_failed`).
    PrepaidAuthFailed,
    /// On-net-only member dials off-net (`screened`).
    Screened,
    /// The SSP aborts the dialogue mid-call (`aborted`, TCAP abort cause `user`).
    Aborted,
    /// Undecodable SCCP and TCAP messages (decode errors, no call).
    Garbage,
}

/// A mix of every kind, `n` calls long, spread over subscribers so load does not sit on one
/// prepaid account.
pub fn mix(n: usize) -> Vec<Kind> {
    const CYCLE: [Kind; 12] = [
        Kind::Prepaid { secs: 95 },
        Kind::Postpaid,
        Kind::Prepaid { secs: 30 },
        Kind::Busy,
        Kind::Prepaid { secs: 200 },
        Kind::NoAnswer,
        Kind::VpnAuthFailed,
        Kind::Abandon,
        Kind::PrepaidAuthFailed,
        Kind::Screened,
        Kind::Aborted,
        Kind::Garbage,
    ];
    (0..n).map(|i| CYCLE[i % CYCLE.len()]).collect()
}

/// Calling number of load-test prepaid subscriber `i` (accounts LOAD-000000…).
fn load_member(i: usize) -> String {
    format!("1212556{:04}", i % 5000)
}

fn start(ssp: &mut Ssp, calling: &str, dialled: &str) -> (TransactionId, Reply) {
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &Components::default().raw_invoke(
            1,
            OpCode::INITIAL_DP.0,
            Some(&idp(SK, calling, dialled)),
        ),
    ));
    (tid, ssp.expect())
}

fn send(ssp: &mut Ssp, tid: TransactionId, scp: u32, ops: &[(OpCode, Vec<u8>)]) {
    let mut c = Components::default();
    for (i, (op, p)) in ops.iter().enumerate() {
        c = c.raw_invoke(2 + i as i8, op.0, Some(p));
    }
    ssp.send_tcap(&cont(tid, scp, &c));
}

fn scp_tid(r: &Reply) -> u32 {
    r.otid.expect("the SCP's transaction id")
}

/// Play one call of `kind` (`i` picks the subscriber) and wait for the SCP's last message.
pub fn call(ssp: &mut Ssp, kind: Kind, i: usize) {
    let erb_op = OpCode::EVENT_REPORT_BCSM;
    let acr_op = OpCode::APPLY_CHARGING_REPORT;
    match kind {
        Kind::Postpaid => {
            let (tid, r) = start(ssp, ALICE, "0102");
            assert_eq!(r.kind, "continue", "{r:?}");
            let scp = scp_tid(&r);
            send(ssp, tid, scp, &[(erb_op, erb(EventTypeBcsm::O_ANSWER, 2))]);
            // Some wall-clock talk time, so the duration histogram sees it.
            std::thread::sleep(Duration::from_millis(3));
            send(
                ssp,
                tid,
                scp,
                &[(erb_op, erb(EventTypeBcsm::O_DISCONNECT, 1))],
            );
            assert_eq!(ssp.expect().kind, "end");
        }
        Kind::Prepaid { secs } => {
            let (tid, r) = start(ssp, &load_member(i), "912125550199");
            assert_eq!(r.kind, "continue", "{r:?}");
            let scp = scp_tid(&r);
            send(ssp, tid, scp, &[(erb_op, erb(EventTypeBcsm::O_ANSWER, 2))]);
            let mut elapsed = secs * 10;
            if elapsed > 1200 {
                // The first 120 s slice is used up: report it and get the next one.
                send(ssp, tid, scp, &[(acr_op, acr(1200, true))]);
                let r2 = ssp.expect();
                assert_eq!(r2.kind, "continue", "{r2:?}");
            } else {
                elapsed = elapsed.max(1);
            }
            send(
                ssp,
                tid,
                scp,
                &[
                    (acr_op, acr(elapsed, false)),
                    (erb_op, erb(EventTypeBcsm::O_DISCONNECT, 1)),
                ],
            );
            assert_eq!(ssp.expect().kind, "end");
        }
        Kind::Busy | Kind::NoAnswer | Kind::Abandon => {
            let (tid, r) = start(ssp, BOB, "912125550199");
            assert_eq!(r.kind, "continue", "{r:?}");
            let scp = scp_tid(&r);
            let (ev, leg) = match kind {
                Kind::Busy => (EventTypeBcsm::O_CALLED_PARTY_BUSY, 2),
                Kind::NoAnswer => (EventTypeBcsm::O_NO_ANSWER, 2),
                _ => (EventTypeBcsm::O_ABANDON, 1),
            };
            send(
                ssp,
                tid,
                scp,
                &[(acr_op, acr(0, false)), (erb_op, erb(ev, leg))],
            );
            assert_eq!(ssp.expect().kind, "end");
        }
        Kind::VpnAuthFailed | Kind::PrepaidAuthFailed | Kind::Screened => {
            let (calling, dialled) = match kind {
                Kind::VpnAuthFailed => (IVAN, "0102"),
                Kind::PrepaidAuthFailed => (GRACE, "912125550199"),
                _ => (CAROL, "912125550199"),
            };
            let (tid, r) = start(ssp, calling, dialled);
            // Failure treatments may play an announcement first; the dialogue ends either way.
            let mut last = r;
            let scp = last.otid;
            let mut next = 2i8;
            while last.kind != "end" {
                // Announcement played: report its end (SpecializedResourceReport).
                let srr = crate::support::ssp::srr();
                ssp.send_tcap(&cont(
                    tid,
                    scp.expect("SCP tid"),
                    &Components::default().raw_invoke(
                        next,
                        OpCode::SPECIALIZED_RESOURCE_REPORT.0,
                        Some(&srr),
                    ),
                ));
                next += 1;
                last = ssp.expect();
            }
        }
        Kind::Aborted => {
            let (tid, r) = start(ssp, BOB, "912125550199");
            assert_eq!(r.kind, "continue", "{r:?}");
            let scp = scp_tid(&r);
            send(ssp, tid, scp, &[(erb_op, erb(EventTypeBcsm::O_ANSWER, 2))]);
            ssp.send_tcap(&u_abort(scp));
            // Nothing is owed for a U-Abort; give the SCP a moment to settle the call.
            std::thread::sleep(Duration::from_millis(5));
        }
        Kind::Garbage => {
            // Not SCCP at all, then an SCCP UDT carrying bytes that are not TCAP.
            ssp.send_sccp(&[0x7f, 0x01]);
            ssp.send_tcap(&[0x62, 0x03, 0x04, 0x01]);
            // A P-Abort may come back; nothing else.
            while ssp.recv(Duration::from_millis(30)).is_some() {}
        }
    }
}

/// GET `/metrics` from the admin listener; the exposition text.
pub fn scrape(admin: SocketAddr) -> String {
    let (status, body) = http_get(admin, "/metrics").expect("GET /metrics");
    assert_eq!(status, 200, "{body}");
    body
}

/// A minimal HTTP/1.1 GET: status and body (de-chunked).
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let status = resp.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// One exported sample.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of an exposition (comments skipped).
pub fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        // Label values here never contain '",' (fixed sets), so a simple split is enough.
        for kv in labels.split("\",").filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').expect("label");
            map.insert(k.to_owned(), v.trim_matches('"').to_owned());
        }
        out.push(Sample {
            name: name.to_owned(),
            labels: map,
            value: value.parse().unwrap_or(f64::NAN),
        });
    }
    out
}

/// `# TYPE` declarations: family → type.
pub fn types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_owned(), t.trim().to_owned()))
        .collect()
}

/// Metric families exported with the `strowger_` prefix (histogram and summary series folded
/// into their family).
pub fn families(text: &str) -> BTreeSet<String> {
    let types = types(text);
    samples(text)
        .into_iter()
        .map(|s| {
            for suffix in ["_bucket", "_sum", "_count"] {
                if let Some(base) = s.name.strip_suffix(suffix) {
                    if matches!(
                        types.get(base).map(String::as_str),
                        Some("histogram" | "summary")
                    ) {
                        return base.to_owned();
                    }
                }
            }
            s.name
        })
        .filter(|n| n.starts_with("strowger_"))
        .collect()
}

/// Catalogue rows whose family is only exported by the PostgreSQL ledger backend.
pub fn postgres_only() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md");
    let text = std::fs::read_to_string(path).expect("docs/metrics.md");
    text.lines()
        .filter(|l| l.starts_with("| `strowger_") && l.contains("(postgres backend only)"))
        .filter_map(|l| l.split('|').nth(1))
        .map(|c| c.trim().trim_matches('`').to_owned())
        .collect()
}

/// The catalogue `docs/metrics.md`: family → type column.
pub fn catalogue() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md");
    let text = std::fs::read_to_string(path).expect("docs/metrics.md");
    text.lines()
        .filter(|l| l.starts_with("| `strowger_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect()
}
