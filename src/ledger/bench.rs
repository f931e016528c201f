//! The ledger benchmark: full prepaid call cycles (authenticate, apply fee, deduct, return)
//! through the account actors, durability on, at several concurrencies, over a large account
//! set and over a small hot set. Wired as `strowger bench-ledger`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use actix::Arbiter;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::prepaid::{AccountId, CallId, OpKey, PrepaidRequest, PrepaidResponse};

use super::account::{AccountState, Event, EventKind};
use super::{unix_now, AccountDirectory, Ledger, LedgerConfig};

/// Benchmark options.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct BenchOpts {
    /// Ledger directory (emptied first). Default: a fresh directory under the system temp dir.
    pub dir: Option<PathBuf>,
    /// Size of the large account set. Default 100,000.
    pub accounts: usize,
    /// Size of the hot set. Default 10.
    pub hot_accounts: usize,
    /// Concurrent callers, one run each per account set. Default [1, 16, 256].
    pub concurrency: Vec<usize>,
    /// Length of each run. Default 5 s.
    pub run_secs: f64,
    /// Arbiters (threads) the account actors are spread over. Default 2.
    pub arbiters: usize,
    /// fsync each group commit (the point of the benchmark). Default true.
    pub fsync: bool,
}

impl Default for BenchOpts {
    fn default() -> Self {
        BenchOpts {
            dir: None,
            accounts: 100_000,
            hot_accounts: 10,
            concurrency: vec![1, 16, 256],
            run_secs: 5.0,
            arbiters: 2,
            fsync: true,
        }
    }
}

/// Latency of one operation kind in one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpLatency {
    /// Operation.
    pub op: String,
    /// Median, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Maximum, µs.
    pub max_us: u64,
}

/// One run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    /// Account set (`"100000 accounts"`, `"hot 10"`).
    pub set: String,
    /// Concurrent callers.
    pub concurrency: usize,
    /// Full cycles completed.
    pub cycles: u64,
    /// Cycles refused anywhere (should be 0).
    pub failed_cycles: u64,
    /// Seconds.
    pub elapsed_secs: f64,
    /// Cycles per second.
    pub cycles_per_sec: f64,
    /// Per-operation latency.
    pub ops: Vec<OpLatency>,
}

/// The whole benchmark.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// Runs, in order.
    pub runs: Vec<RunReport>,
    /// Σ balances + Σ charged = Σ opening + Σ top-ups + Σ adjustments, and nothing left reserved.
    pub reconciled: bool,
    /// Journal records written.
    pub records: u64,
}

impl BenchReport {
    /// A plain-text table.
    pub fn to_table(&self) -> String {
        let mut s = String::from(
            "set               callers  cycles/s   auth p50/p99  apply p50/p99  deduct p50/p99  return p50/p99 (µs)\n",
        );
        for r in &self.runs {
            s.push_str(&format!(
                "{:<17} {:>7} {:>9.0}",
                r.set, r.concurrency, r.cycles_per_sec
            ));
            for o in &r.ops {
                s.push_str(&format!("  {:>6}/{:<6}", o.p50_us, o.p99_us));
            }
            s.push('\n');
        }
        s.push_str(&format!(
            "records {}  reconciled {}\n",
            self.records, self.reconciled
        ));
        s
    }
}

const OPS: [&str; 4] = ["authenticate", "apply_fee", "deduct", "return"];

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

async fn caller(
    dir: AccountDirectory,
    ids: std::sync::Arc<Vec<AccountId>>,
    call_base: u64,
    until: Instant,
    mut h: Vec<Histogram<u64>>,
) -> (u64, u64, Vec<Histogram<u64>>) {
    let mut rng = call_base | 1;
    let (mut cycles, mut failed) = (0u64, 0u64);
    let mut n = 0u64;
    while Instant::now() < until {
        let account = ids[(xorshift(&mut rng) % ids.len() as u64) as usize].clone();
        let call = CallId(call_base + n);
        n += 1;
        let k = |seq| OpKey { call, seq };
        let reqs = [
            PrepaidRequest::Authenticate {
                account: account.clone(),
                min: 10,
            },
            PrepaidRequest::ApplyFee {
                key: k(0),
                account: account.clone(),
                want: 600,
                min: 10,
            },
            PrepaidRequest::Deduct {
                key: k(1),
                account: account.clone(),
                used: 250,
            },
            PrepaidRequest::Return { key: k(2), account },
        ];
        let mut ok = true;
        for (i, req) in reqs.into_iter().enumerate() {
            let t = Instant::now();
            let r = dir.request(req).await;
            let _ = h[i].record(t.elapsed().as_micros().max(1) as u64);
            ok &= !matches!(r, PrepaidResponse::Refused(_));
        }
        if ok {
            cycles += 1;
        } else {
            failed += 1;
        }
    }
    (cycles, failed, h)
}

fn histograms() -> Result<Vec<Histogram<u64>>, super::LedgerError> {
    (0..4)
        .map(|_| {
            Histogram::new(3).map_err(|e| super::LedgerError::Failed(format!("histogram: {e}")))
        })
        .collect()
}

async fn run(
    dir: &AccountDirectory,
    set: &str,
    ids: &std::sync::Arc<Vec<AccountId>>,
    c: usize,
    secs: f64,
    call_epoch: u64,
) -> Result<RunReport, super::LedgerError> {
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::with_capacity(c);
    for i in 0..c {
        let base = (call_epoch << 48) | ((i as u64) << 32);
        tasks.push(actix_rt::spawn(caller(
            dir.clone(),
            ids.clone(),
            base,
            until,
            histograms()?,
        )));
    }
    let mut hist = histograms()?;
    let (mut cycles, mut failed) = (0, 0);
    for t in tasks {
        if let Ok((cy, f, h)) = t.await {
            cycles += cy;
            failed += f;
            for (a, b) in hist.iter_mut().zip(h.iter()) {
                let _ = a.add(b);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(RunReport {
        set: set.to_owned(),
        concurrency: c,
        cycles,
        failed_cycles: failed,
        elapsed_secs: elapsed,
        cycles_per_sec: cycles as f64 / elapsed,
        ops: OPS
            .iter()
            .zip(hist.iter())
            .map(|(op, h)| OpLatency {
                op: (*op).to_owned(),
                p50_us: h.value_at_quantile(0.5),
                p99_us: h.value_at_quantile(0.99),
                max_us: h.max(),
            })
            .collect(),
    })
}

/// Run the benchmark. Must be called inside a running actix `System`.
pub async fn bench(opts: BenchOpts) -> Result<BenchReport, super::LedgerError> {
    let dir = opts.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("strowger-bench-ledger-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = LedgerConfig {
        dir: dir.clone(),
        fsync: opts.fsync,
        ..LedgerConfig::default()
    };
    let ledger = Ledger::open(cfg)?;
    let arbiters: Vec<Arbiter> = (0..opts.arbiters.max(1)).map(|_| Arbiter::new()).collect();
    let directory = AccountDirectory::start(
        ledger.clone(),
        arbiters.iter().map(|a| a.handle()).collect(),
    );

    // Provision straight through the ledger (no actors exist yet).
    let now = unix_now();
    let mk = |prefix: &str, n: usize| -> Vec<AccountId> {
        (0..n)
            .map(|i| AccountId::new(&format!("{prefix}-{i:06}")))
            .collect()
    };
    let big = std::sync::Arc::new(mk("BENCH", opts.accounts));
    let hot = std::sync::Arc::new(mk("HOT", opts.hot_accounts));
    let mut last = 0;
    for id in big.iter().chain(hot.iter()) {
        let ev = Event {
            account: id.clone(),
            at: now,
            kind: EventKind::AccountUpserted {
                state: AccountState::Active,
                expiry: None,
                opening_balance: 1_000_000_000_000,
            },
        };
        last = ledger
            .submit(ev)
            .map_err(|_| super::LedgerError::Failed(ledger.failure().unwrap_or_default()))?;
    }
    let _ = ledger.wait_durable(last).await;

    let mut runs = Vec::new();
    let mut epoch = 1u64;
    for (set, ids) in [
        (format!("{} accounts", opts.accounts), &big),
        (format!("hot {}", opts.hot_accounts), &hot),
    ] {
        if ids.is_empty() {
            continue;
        }
        for &c in &opts.concurrency {
            let r = run(&directory, &set, ids, c.max(1), opts.run_secs, epoch).await?;
            epoch += 1;
            tracing::info!(set = %r.set, callers = c, cycles_per_sec = r.cycles_per_sec as u64, "bench run done");
            runs.push(r);
        }
    }
    let (t, bal, reserved) = ledger.reconcile();
    let reconciled = bal + t.charged == t.opening + t.topped_up + t.adjusted && reserved == 0;
    let records = ledger.durable().seq;
    for a in &arbiters {
        a.stop();
    }
    drop(directory);
    drop(ledger);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BenchReport {
        runs,
        reconciled,
        records,
    })
}
