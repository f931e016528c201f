//! Crash safety of the embedded ledger (issue 6): the real `strowger serve` process, under
//! calls and top-ups from outside, is killed with SIGKILL at random moments and restarted on
//! the same data, many times. After every restart: every top-up the client saw acknowledged is
//! present, the account invariants hold and money is conserved; at the end, once expired
//! reservations are settled, nothing is left reserved. The load touches 12 of the example's
//! 5 708 accounts, so after the first full snapshot the ledger's snapshots are deltas, and the
//! restarts load a full snapshot with deltas laid over it. Snapshots are also asked for one
//! after the other through the admin API, so kills land while snapshot files are written,
//! renamed and pruned.

mod support;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use strowger_cap::EventTypeBcsm;
use support::server::http;
use support::ssp::{acr, begin, cont, erb, idp, Components, Ssp, CAP_V2};

const ACCOUNTS: usize = 12;
const OPENING: i64 = 100_000;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    child: Child,
    m3ua: SocketAddr,
    admin: SocketAddr,
}

fn start(cfg: &std::path::Path, m3ua: SocketAddr, admin: SocketAddr) -> Node {
    let child = Command::new(env!("CARGO_BIN_EXE_strowger"))
        .args(["serve", "--config"])
        .arg(cfg)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start strowger serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(admin).is_ok() {
            let (s, _) = http(admin, "GET", "/ready", None, None);
            if s == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(25));
    }
    Node { child, m3ua, admin }
}

fn account(i: usize) -> String {
    format!("LOAD-{i:06}")
}

fn subscriber(i: usize) -> String {
    format!("{}", 12125560000u64 + i as u64)
}

/// One prepaid call: InitialDP, answer, one period report, disconnect. Returns when the SCP
/// ended the dialogue, or panics when the connection dies (the kill).
fn call(ssp: &mut Ssp, i: usize, secs: u32) {
    let tid = ssp.tid();
    let comps =
        Components::default().raw_invoke(1, 0, Some(&idp(100, &subscriber(i), "912125550199")));
    ssp.send_tcap(&begin(tid, CAP_V2, &comps));
    let r = ssp.expect();
    assert_eq!(r.kind, "continue", "{r:?}");
    let scp = r.otid.unwrap();
    ssp.send_tcap(&cont(
        tid,
        scp,
        &Components::default()
            .raw_invoke(2, 24, Some(&erb(EventTypeBcsm::O_ANSWER, 2)))
            .raw_invoke(3, 36, Some(&acr(secs * 10, false)))
            .raw_invoke(4, 24, Some(&erb(EventTypeBcsm::O_DISCONNECT, 1))),
    ));
    let r = ssp.expect();
    assert_eq!(r.kind, "end", "{r:?}");
}

fn check(admin: SocketAddr, acked: &HashMap<String, i64>, settled: bool) {
    for i in 0..ACCOUNTS {
        let id = account(i);
        let (s, v) = http(admin, "GET", &format!("/accounts/{id}"), None, None);
        assert_eq!(s, 200, "{v}");
        let balance = v["balance"].as_i64().unwrap();
        let reserved = v["reserved"].as_i64().unwrap();
        let available = v["available"].as_i64().unwrap();
        let t = &v["totals"];
        let topped = t["topped_up"].as_i64().unwrap();
        let charged = t["charged"].as_i64().unwrap();
        let adjusted = t["adjusted"].as_i64().unwrap();
        let opening = t["opening"].as_i64().unwrap();
        assert_eq!(opening, OPENING);
        assert!(
            topped >= *acked.get(&id).unwrap_or(&0),
            "{id}: an acknowledged top-up was lost ({topped} < {})",
            acked[&id]
        );
        assert!(reserved >= 0 && available >= 0 && balance >= 0, "{id}: {v}");
        assert_eq!(available, balance - reserved, "{id}: {v}");
        let live: i64 = v["reservations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["amount"].as_i64().unwrap())
            .sum();
        assert_eq!(live, reserved, "{id}: reserved = Σ live reservations");
        assert_eq!(
            balance + charged,
            opening + topped + adjusted,
            "{id}: money conserved"
        );
        if settled {
            assert_eq!(reserved, 0, "{id}: reservations expired and settled");
        }
    }
}

#[test]
fn sigkill_under_load_never_loses_acknowledged_money() {
    // Client threads die with the server on every kill; keep their panics quiet (the test's
    // own thread is named, the workers are not).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name().is_some() {
            default_hook(info)
        }
    }));
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let m3ua: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let cfg = dir.path().join("strowger.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[node]
data_dir = "{data}"
[m3ua]
listen = ["{m3ua}"]
[admin]
listen = "{admin}"
token = "t"
[services]
provisioning = "{prov}"
[engine]
drain_seconds = 0
[ledger]
reservation_expiry_secs = 2
snapshot_every_records = 400
segment_bytes = 65536
[cdr]
enabled = false
"#,
            data = dir.path().join("data").display(),
            prov = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/provisioning.toml"),
        ),
    )
    .unwrap();

    let acked: Arc<Mutex<HashMap<String, i64>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut rng = rand::thread_rng();
    let mut completed_calls = 0usize;
    let ledger_dir = dir.path().join("data").join("ledger");
    // Kills that left a snapshot's temporary file behind (a snapshot being written).
    let mut mid_snapshot = 0usize;
    for round in 0..kills {
        let mut node = start(&cfg, m3ua, admin);
        check(node.admin, &acked.lock().unwrap(), false);
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for w in 0..3 {
            let stop = stop.clone();
            let addr = node.m3ua;
            workers.push(std::thread::spawn(move || {
                let mut n = 0usize;
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut ssp = Ssp::connect(addr);
                    let mut i = w;
                    while !stop.load(Ordering::Relaxed) {
                        call(&mut ssp, i % ACCOUNTS, 30 + (i as u32 % 90));
                        n += 1;
                        i += 3;
                    }
                }));
                let _ = r;
                n
            }));
        }
        {
            let stop = stop.clone();
            let acked = acked.clone();
            let addr = node.admin;
            workers.push(std::thread::spawn(move || {
                let mut k = round;
                while !stop.load(Ordering::Relaxed) {
                    let id = account(k % ACCOUNTS);
                    let body = serde_json::json!({ "amount": 7 });
                    let r = std::panic::catch_unwind(|| {
                        http(
                            addr,
                            "POST",
                            &format!("/accounts/{id}/topup"),
                            Some("t"),
                            Some(&body),
                        )
                    });
                    match r {
                        Ok((200, _)) => *acked.lock().unwrap().entry(id).or_insert(0) += 7,
                        _ => break,
                    }
                    k += 1;
                }
                0
            }));
        }
        {
            // Snapshots on request, one after the other, full and delta in turn, besides the
            // automatic ones: so that kills also land while a snapshot file is being written,
            // renamed or pruned.
            let stop = stop.clone();
            let addr = node.admin;
            workers.push(std::thread::spawn(move || {
                let mut full = round % 2 == 0;
                while !stop.load(Ordering::Relaxed) {
                    let path = if full {
                        "/ledger/snapshot?full=true"
                    } else {
                        "/ledger/snapshot"
                    };
                    let r = std::panic::catch_unwind(|| http(addr, "POST", path, Some("t"), None));
                    if !matches!(r, Ok((200, _))) {
                        break;
                    }
                    full = !full;
                }
                0
            }));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(150..700)));
        node.child.kill().unwrap(); // SIGKILL
        node.child.wait().unwrap();
        if std::fs::read_dir(&ledger_dir).is_ok_and(|d| {
            d.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with("snapshot-") && n.ends_with(".tmp"))
            })
        }) {
            mid_snapshot += 1;
        }
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            completed_calls += w.join().unwrap_or(0);
        }
    }
    // Final restart: everything acknowledged is there; reservations of calls cut by the last
    // kill expire (2 s) and are settled by the policy.
    let mut node = start(&cfg, m3ua, admin);
    check(node.admin, &acked.lock().unwrap(), false);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reserved: i64 = (0..ACCOUNTS)
            .map(|i| {
                http(
                    node.admin,
                    "GET",
                    &format!("/accounts/{}", account(i)),
                    None,
                    None,
                )
                .1["reserved"]
                    .as_i64()
                    .unwrap()
            })
            .sum();
        if reserved == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "reservations never expired");
        std::thread::sleep(Duration::from_millis(200));
    }
    check(node.admin, &acked.lock().unwrap(), true);
    node.child.kill().unwrap();
    node.child.wait().unwrap();
    assert!(completed_calls > 0, "calls ran between the kills");
    // ledger.preallocate is on by default: the journal went into preallocated segments
    // (segment_bytes long, records followed by zeros) and replayed across every kill.
    let segments: Vec<(String, u64)> = std::fs::read_dir(&ledger_dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            (name.starts_with("journal-") && name.ends_with(".log"))
                .then(|| (name, e.metadata().unwrap().len()))
        })
        .collect();
    assert!(
        segments.iter().any(|(_, len)| *len == 65536),
        "no preallocated segment: {segments:?}"
    );
    eprintln!(
        "crash test: {kills} kills ({mid_snapshot} while a snapshot was being written), {completed_calls} completed calls"
    );
}
