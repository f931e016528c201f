//! Ledger reconciliation after a run: for every account, balance before − balance after must
//! equal the sum charged in the CDRs of the calls made since the run started, and no
//! reservation may be left open. Balances come from the admin API (`GET /accounts/{id}`), CDRs
//! from `<data_dir>/cdr/cdr*.jsonl` (field `charged`, per `account`).
//!
//! Only meaningful when nothing else uses the SCP's accounts during the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::CallgenError;
use crate::service::Provisioning;

fn err(s: impl Into<String>) -> CallgenError {
    CallgenError::Reconcile(s.into())
}

/// Wall-clock milliseconds since the Unix epoch (the CDRs' time base).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A tiny HTTP/1.1 keep-alive GET client for the admin API (loopback, JSON bodies).
struct Http {
    addr: SocketAddr,
    r: BufReader<TcpStream>,
}

impl Http {
    fn connect(addr: SocketAddr) -> std::io::Result<Http> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let _ = s.set_nodelay(true);
        Ok(Http {
            addr,
            r: BufReader::new(s),
        })
    }

    fn get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        self.r.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut len = None;
        let mut close = false;
        loop {
            line.clear();
            if self.r.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed in headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim();
                if k == "content-length" {
                    len = v.parse::<usize>().ok();
                } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let mut body = Vec::new();
        match len {
            Some(n) => {
                body.resize(n, 0);
                self.r.read_exact(&mut body)?;
            }
            None => {
                self.r.read_to_end(&mut body)?;
            }
        }
        if close || len.is_none() {
            *self = Http::connect(self.addr)?;
        }
        Ok((status, body))
    }
}

/// (account, (balance, reserved)) as read from the admin API.
type Balances = Vec<(String, (i64, i64))>;

/// Balance and reservations of some accounts at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    accounts: BTreeMap<String, (i64, i64)>,
}

impl Snapshot {
    /// Read every account of the provisioning file.
    pub fn take(admin: SocketAddr, provisioning: &Path) -> Result<Snapshot, CallgenError> {
        let text = std::fs::read_to_string(provisioning)
            .map_err(|e| err(format!("{}: {e}", provisioning.display())))?;
        Snapshot::take_text(admin, &text)
    }

    /// Read every account of provisioning TOML.
    pub fn take_text(admin: SocketAddr, provisioning: &str) -> Result<Snapshot, CallgenError> {
        let p = Provisioning::from_toml_str(provisioning).map_err(|e| err(e.to_string()))?;
        let ids: Vec<String> = p.accounts().keys().cloned().collect();
        Snapshot::take_ids(admin, &ids)
    }

    /// Read these accounts (a few connections in parallel).
    pub fn take_ids(admin: SocketAddr, ids: &[String]) -> Result<Snapshot, CallgenError> {
        let chunk = ids.len().div_ceil(8).max(1);
        let parts: Vec<Result<Balances, CallgenError>> = std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || -> Result<Balances, CallgenError> {
                        let mut http = Http::connect(admin)
                            .map_err(|e| err(format!("admin API {admin}: {e}")))?;
                        let mut out = Vec::with_capacity(part.len());
                        for id in part {
                            let (status, body) = http
                                .get(&format!("/accounts/{id}"))
                                .map_err(|e| err(format!("GET /accounts/{id}: {e}")))?;
                            if status != 200 {
                                return Err(err(format!("GET /accounts/{id}: HTTP {status}")));
                            }
                            let v: serde_json::Value = serde_json::from_slice(&body)
                                .map_err(|e| err(format!("/accounts/{id}: {e}")))?;
                            let balance = v.get("balance").and_then(|b| b.as_i64());
                            let reserved = v.get("reserved").and_then(|b| b.as_i64());
                            match (balance, reserved) {
                                (Some(b), Some(r)) => out.push((id.clone(), (b, r))),
                                _ => {
                                    return Err(err(format!("/accounts/{id}: no balance/reserved")))
                                }
                            }
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(err("account reader panicked")))
                })
                .collect()
        });
        let mut accounts = BTreeMap::new();
        for p in parts {
            accounts.extend(p?);
        }
        Ok(Snapshot { accounts })
    }

    /// Accounts in the snapshot.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// True if no account was read.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    fn ids(&self) -> Vec<String> {
        self.accounts.keys().cloned().collect()
    }
}

/// The outcome of a reconciliation.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Reconciliation {
    /// Accounts compared.
    pub accounts: usize,
    /// Σ balances before the run.
    pub balance_before: i64,
    /// Σ balances after.
    pub balance_after: i64,
    /// Σ `charged` of the run's CDRs on these accounts.
    pub charged_in_cdrs: i64,
    /// CDRs of the run.
    pub cdrs: u64,
    /// Prepaid CDRs with something charged.
    pub charged_calls: u64,
    /// The SCP's outcomes of the run's calls, from the CDRs.
    pub outcomes: BTreeMap<String, u64>,
    /// Σ reservations still open after the run (must be 0).
    pub reserved_after: i64,
    /// Accounts whose own difference disagrees with their CDRs (first few).
    pub mismatched_accounts: Vec<String>,
    /// before − after = charged, per account and in total, and nothing left reserved.
    pub balanced: bool,
}

impl Reconciliation {
    /// A few lines for the report.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(o, "SCP outcomes (CDRs): {}\n", outcomes.join(", "));
        let _ = writeln!(o, "ledger reconciliation over {} accounts:", self.accounts);
        let _ = writeln!(o, "  balances before          {:>14}", self.balance_before);
        let _ = writeln!(o, "  balances after           {:>14}", self.balance_after);
        let _ = writeln!(
            o,
            "  before − after           {:>14}",
            self.balance_before - self.balance_after
        );
        let _ = writeln!(
            o,
            "  Σ charged in {:>6} CDRs {:>14}   ({} charged calls)",
            self.cdrs, self.charged_in_cdrs, self.charged_calls
        );
        let _ = writeln!(o, "  still reserved           {:>14}", self.reserved_after);
        for a in &self.mismatched_accounts {
            let _ = writeln!(o, "  MISMATCH {a}");
        }
        let _ = writeln!(
            o,
            "  {}",
            if self.balanced {
                "balanced: before − after = Σ charged, nothing reserved"
            } else {
                "NOT BALANCED"
            }
        );
        o
    }
}

/// What the run's CDRs say: charges per account, count, charged calls, outcomes.
struct CdrSums {
    charges: BTreeMap<String, i64>,
    count: u64,
    charged_calls: u64,
    outcomes: BTreeMap<String, u64>,
}

fn cdr_charges(dir: &Path, since_ms: u64) -> Result<CdrSums, CallgenError> {
    let cdrs = crate::cdr_sink::read_all(&dir.join("cdr"))
        .map_err(|e| err(format!("reading CDRs in {}: {e}", dir.display())))?;
    let mut by_account = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    let mut n = 0;
    let mut charged_calls = 0;
    for c in cdrs {
        let start = c.get("start_ms").and_then(|v| v.as_u64()).unwrap_or(0);
        if start < since_ms {
            continue;
        }
        n += 1;
        let outcome = c.get("outcome").and_then(|v| v.as_str()).unwrap_or("?");
        *outcomes.entry(outcome.to_string()).or_insert(0) += 1;
        let charged = c.get("charged").and_then(|v| v.as_i64()).unwrap_or(0);
        if let Some(acc) = c.get("account").and_then(|v| v.as_str()) {
            *by_account.entry(acc.to_string()).or_insert(0) += charged;
            if charged > 0 {
                charged_calls += 1;
            }
        }
    }
    Ok(CdrSums {
        charges: by_account,
        count: n,
        charged_calls,
        outcomes,
    })
}

/// Compare `before` with the accounts now and the CDRs written since `since_ms`. Calls settle
/// with the ledger after the switch got its answer, and CDRs are written behind: this retries
/// for up to `wait` until the books balance.
pub fn reconcile_wait(
    before: &Snapshot,
    admin: SocketAddr,
    data_dir: &Path,
    since_ms: u64,
    wait: Duration,
) -> Result<Reconciliation, CallgenError> {
    let deadline = Instant::now() + wait;
    // The SCP writes CDR lines to its file within 200 ms (`cdr_sink`): the books are read as
    // final once they balance and the CDR count has not moved over one poll (250 ms), so the
    // CDRs of calls that moved no money are counted too.
    let mut last_count = None;
    loop {
        let after = Snapshot::take_ids(admin, &before.ids())?;
        let CdrSums {
            charges,
            count: cdrs,
            charged_calls,
            outcomes,
        } = cdr_charges(data_dir, since_ms)?;
        let mut r = Reconciliation {
            accounts: before.accounts.len(),
            balance_before: 0,
            balance_after: 0,
            charged_in_cdrs: 0,
            cdrs,
            charged_calls,
            outcomes,
            reserved_after: 0,
            mismatched_accounts: Vec::new(),
            balanced: true,
        };
        for (id, &(b0, _)) in &before.accounts {
            let (b1, r1) = after.accounts.get(id).copied().unwrap_or((b0, 0));
            let c = charges.get(id).copied().unwrap_or(0);
            r.balance_before += b0;
            r.balance_after += b1;
            r.reserved_after += r1;
            r.charged_in_cdrs += c;
            if b0 - b1 != c && r.mismatched_accounts.len() < 10 {
                r.mismatched_accounts.push(format!(
                    "{id}: before {b0} − after {b1} = {} but CDRs charge {c}",
                    b0 - b1
                ));
            }
        }
        r.balanced = r.mismatched_accounts.is_empty()
            && r.reserved_after == 0
            && r.balance_before - r.balance_after == r.charged_in_cdrs;
        if (r.balanced && last_count == Some(r.cdrs)) || Instant::now() >= deadline {
            return Ok(r);
        }
        last_count = Some(r.cdrs);
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// [`reconcile_wait`] with a 10 s wait.
pub fn reconcile(
    before: &Snapshot,
    admin: SocketAddr,
    data_dir: &Path,
    since_ms: u64,
) -> Result<Reconciliation, CallgenError> {
    reconcile_wait(before, admin, data_dir, since_ms, Duration::from_secs(10))
}
