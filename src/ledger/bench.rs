//! The ledger benchmark: full prepaid call cycles (authenticate, apply fee, deduct, return)
//! through the account actors, durability on, at several concurrencies, over a large account
//! set and over a small hot set. Wired as `strowger bench-ledger`.
//!
//! A cycle is what the SCP does for one prepaid call: Authenticate and ApplyFee sent together
//! in one request (`Prepaid::request_all`, the call logic's `Action::Admit`), then the Deduct
//! and Return that settle it, also together: two trips and two durable waits. `separate` sends
//! each of the four operations as its own request, each awaited (four trips, three durable
//! waits: Authenticate writes nothing), as the SCP did before it paired them, for comparison.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use actix::Arbiter;
use actix_rt::ArbiterHandle;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::prepaid::{AccountId, CallId, OpKey, PrepaidRequest, PrepaidResponse};

use super::account::{AccountState, Event, EventKind};
use super::{unix_now, AccountDirectory, Ledger, LedgerConfig, PgLedger, PostgresConfig, Prepaid};

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
    /// Arbiters (threads) the callers and account actors are spread over. Default: as the
    /// server's `engine.arbiters = 0` ([`crate::config::default_arbiters`]).
    pub arbiters: usize,
    /// fsync each group commit (the point of the benchmark). Default true.
    pub fsync: bool,
    /// Also run the workload against this PostgreSQL database (one node, then two nodes
    /// sharing it). The benchmark's accounts get a unique prefix and are deleted afterwards.
    pub postgres: Option<String>,
    /// Connections per PostgreSQL node. Default 8.
    pub pg_pool: usize,
    /// Skip the embedded ledger (PostgreSQL runs only). Default false.
    pub skip_embedded: bool,
    /// Send each operation as its own request, each awaited, instead of the SCP's two pairs.
    /// Default false.
    pub separate: bool,
    /// The ledger's `batch_linger_us` (adaptive group commit; 0 = never wait). Default: the
    /// ledger's default.
    pub linger_us: u64,
    /// The ledger's `snapshot_journal_percent` (0 = snapshot every `snapshot_every_records`
    /// whatever the snapshot's size). Default: the ledger's default.
    pub snapshot_journal_percent: u64,
    /// The ledger's `snapshot_deltas` (false: every snapshot is full). Default: the ledger's
    /// default.
    pub snapshot_deltas: bool,
    /// Pause between the PostgreSQL runs and the embedded runs, after a `sync`, for the disk
    /// to go quiet. Default 2 s.
    pub settle_secs: f64,
    /// The ledger's `direct_io`. Default: the ledger's default.
    pub direct_io: bool,
    /// The ledger's `busy_poll_us`. Default: the ledger's default.
    pub busy_poll_us: u64,
}

impl Default for BenchOpts {
    fn default() -> Self {
        BenchOpts {
            dir: None,
            accounts: 100_000,
            hot_accounts: 10,
            concurrency: vec![1, 16, 256],
            run_secs: 5.0,
            arbiters: crate::config::default_arbiters(),
            fsync: true,
            postgres: None,
            pg_pool: 8,
            skip_embedded: false,
            separate: false,
            linger_us: LedgerConfig::default().batch_linger_us,
            snapshot_journal_percent: LedgerConfig::default().snapshot_journal_percent,
            snapshot_deltas: LedgerConfig::default().snapshot_deltas,
            settle_secs: 2.0,
            direct_io: LedgerConfig::default().direct_io,
            busy_poll_us: LedgerConfig::default().busy_poll_us,
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
    /// Backend (`embedded`, `postgres x1`, `postgres x2` = two nodes sharing the database).
    #[serde(default)]
    pub backend: String,
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
    /// The embedded ledger reopened on its directory after the runs, as after a restart.
    #[serde(default)]
    pub restart: Option<RestartReport>,
}

/// The embedded ledger's restart after the runs: what it loaded and replayed, how long that
/// took, and whether the recovered accounts sum to what they did before the restart.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestartReport {
    /// Accounts in the snapshot loaded (0 = no snapshot).
    pub snapshot_accounts: usize,
    /// Journal records replayed after it.
    pub replayed_records: u64,
    /// Snapshot load and replay, milliseconds.
    pub elapsed_ms: f64,
    /// Totals, Σ balances and Σ reserved after the restart equal those before it.
    pub same_as_before: bool,
}

impl BenchReport {
    /// A plain-text table.
    pub fn to_table(&self) -> String {
        let mut s = String::from(
            "backend       set               callers  cycles/s   admit p50/p99  settle p50/p99 (µs; admit = authenticate + apply fee, settle = deduct + return)\n",
        );
        for r in &self.runs {
            s.push_str(&format!(
                "{:<13} {:<17} {:>7} {:>9.0}",
                r.backend, r.set, r.concurrency, r.cycles_per_sec
            ));
            for o in &r.ops {
                s.push_str(&format!("  {:>6}/{:<6}", o.p50_us, o.p99_us));
            }
            s.push('\n');
        }
        for (set, callers, ratio, worst_p99) in self.ratios() {
            s.push_str(&format!(
                "embedded / best PostgreSQL, {set}, {callers} callers: {ratio:.1}x, embedded p99 per operation {worst_p99} µs\n"
            ));
        }
        s.push_str(&format!(
            "records {}  reconciled {}\n",
            self.records, self.reconciled
        ));
        if let Some(r) = &self.restart {
            s.push_str(&format!(
                "restart: snapshot of {} accounts + {} journal records replayed in {:.0} ms, accounts as before: {}\n",
                r.snapshot_accounts, r.replayed_records, r.elapsed_ms, r.same_as_before
            ));
        }
        s
    }

    /// For each account set and concurrency run on both backends: the embedded ledger's
    /// cycles/s over the best PostgreSQL configuration's, and the embedded ledger's worst p99
    /// over its operations.
    pub fn ratios(&self) -> Vec<(String, usize, f64, u64)> {
        self.runs
            .iter()
            .filter(|e| e.backend == "embedded")
            .filter_map(|e| {
                let best = self
                    .runs
                    .iter()
                    .filter(|p| p.backend.starts_with("postgres"))
                    .filter(|p| p.set == e.set && p.concurrency == e.concurrency)
                    .map(|p| p.cycles_per_sec)
                    .fold(0.0, f64::max);
                let worst = e.ops.iter().map(|o| o.p99_us).max().unwrap_or(0);
                (best > 0.0).then(|| (e.set.clone(), e.concurrency, e.cycles_per_sec / best, worst))
            })
            .collect()
    }
}

const OPS: [&str; 2] = ["admit", "settle"];

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

async fn caller(
    dir: Prepaid,
    ids: std::sync::Arc<Vec<AccountId>>,
    call_base: u64,
    until: Instant,
    separate: bool,
    h: Hists,
) -> (u64, u64) {
    let mut rng = call_base | 1;
    let (mut cycles, mut failed) = (0u64, 0u64);
    let mut n = 0u64;
    // Two clock reads a cycle: each one ends a step and starts the next.
    let mut t = Instant::now();
    while t < until {
        let account = ids[(xorshift(&mut rng) % ids.len() as u64) as usize].clone();
        let call = CallId(call_base + n);
        n += 1;
        let k = |seq| OpKey { call, seq };
        let record = |i: usize, took: Duration| {
            let _ = h.lock()[i].record(took.as_micros().max(1) as u64);
        };
        let auth = PrepaidRequest::Authenticate {
            account: account.clone(),
            min: 10,
        };
        let apply = PrepaidRequest::ApplyFee {
            key: k(0),
            account: account.clone(),
            want: 600,
            min: 10,
        };
        let mut ok = exchange(&dir, [auth, apply], separate).await;
        let admitted = Instant::now();
        record(0, admitted - t);
        let deduct = PrepaidRequest::Deduct {
            key: k(1),
            account: account.clone(),
            used: 250,
        };
        let ret = PrepaidRequest::Return { key: k(2), account };
        ok &= exchange(&dir, [deduct, ret], separate).await;
        t = Instant::now();
        record(1, t - admitted);
        if ok {
            cycles += 1;
        } else {
            failed += 1;
        }
    }
    (cycles, failed)
}

/// Send a pair of operations as the SCP does (one request), or each as its own request;
/// whether none was refused.
async fn exchange(dir: &Prepaid, pair: [PrepaidRequest; 2], separate: bool) -> bool {
    let refused = |r: &PrepaidResponse| matches!(r, PrepaidResponse::Refused(_));
    if separate {
        let mut ok = true;
        for op in pair {
            ok &= !refused(&dir.request(op).await);
        }
        ok
    } else {
        !dir.request_all(pair.into()).await.iter().any(refused)
    }
}

/// The latency histograms of the callers on one arbiter. Shared by them rather than one set
/// per caller: 256 callers' histograms would not fit in any cache, and the benchmark would
/// then measure its own bookkeeping (the lock is taken on one thread, never contended).
type Hists = std::sync::Arc<parking_lot::Mutex<Vec<Histogram<u64>>>>;

fn histograms() -> Result<Vec<Histogram<u64>>, super::LedgerError> {
    (0..OPS.len())
        .map(|_| {
            Histogram::new(3).map_err(|e| super::LedgerError::Failed(format!("histogram: {e}")))
        })
        .collect()
}

async fn run(
    nodes: &[Prepaid],
    set: &str,
    ids: &std::sync::Arc<Vec<AccountId>>,
    c: usize,
    opts: &BenchOpts,
    call_epoch: u64,
    on: &[ArbiterHandle],
) -> Result<RunReport, super::LedgerError> {
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(opts.run_secs);
    let mut tasks = Vec::with_capacity(c);
    let per_arbiter = (0..on.len().max(1))
        .map(|_| Ok(Hists::new(parking_lot::Mutex::new(histograms()?))))
        .collect::<Result<Vec<_>, super::LedgerError>>()?;
    for i in 0..c {
        let base = (call_epoch << 48) | ((i as u64) << 32);
        let one = caller(
            nodes[i % nodes.len()].clone(),
            ids.clone(),
            base,
            until,
            opts.separate,
            per_arbiter[i % per_arbiter.len()].clone(),
        );
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = async move {
            let _ = tx.send(one.await);
        };
        // Callers run where the SCP's call actors do: on the arbiters, beside the account
        // actors (PostgreSQL runs: on the current arbiter).
        if on.is_empty() {
            actix_rt::spawn(task);
        } else {
            on[i % on.len()].spawn(task);
        }
        tasks.push(rx);
    }
    let (mut cycles, mut failed) = (0, 0);
    for t in tasks {
        if let Ok((cy, f)) = t.await {
            cycles += cy;
            failed += f;
        }
    }
    let mut hist = histograms()?;
    for h in &per_arbiter {
        for (a, b) in hist.iter_mut().zip(h.lock().iter()) {
            let _ = a.add(b);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(RunReport {
        backend: match (&nodes[0], nodes.len()) {
            (Prepaid::Embedded(_), _) => "embedded".to_owned(),
            (Prepaid::Postgres(_), n) => format!("postgres x{n}"),
        },
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
    let mut report = BenchReport {
        runs: Vec::new(),
        reconciled: true,
        records: 0,
        restart: None,
    };
    let dir = opts.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("strowger-bench-ledger-{}", std::process::id()))
    });
    let _remove = crate::scratch::ScratchDir::new(dir.clone());
    // PostgreSQL first, so that it never runs on the disk the embedded runs have just
    // loaded (about a gigabyte written in half a minute): measured after them, PostgreSQL did
    // 505–655 cycles/s at 16 callers in four runs of four; first, 630–1 590. (It also varies
    // by about 2x between runs of its own, for reasons not found.) The embedded ledger runs
    // after PostgreSQL instead, on whatever that leaves behind.
    if let Some(url) = &opts.postgres {
        bench_postgres(&opts, url, &mut report).await?;
        if !opts.skip_embedded {
            settle(opts.settle_secs).await;
        }
    }
    if !opts.skip_embedded {
        bench_embedded(&opts, &dir, &mut report).await?;
    }
    Ok(report)
}

/// Let the disk go quiet between the backends (PostgreSQL's last writes flushed).
async fn settle(secs: f64) {
    let _ = tokio::task::spawn_blocking(|| {
        // SAFETY: sync(2) takes no arguments and touches no memory of ours.
        unsafe { libc::sync() }
    })
    .await;
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
}

fn account_ids(prefix: &str, n: usize) -> std::sync::Arc<Vec<AccountId>> {
    std::sync::Arc::new(
        (0..n)
            .map(|i| AccountId::new(&format!("{prefix}{i:06}")))
            .collect(),
    )
}

async fn run_sets(
    opts: &BenchOpts,
    nodes: &[Prepaid],
    sets: &[(String, std::sync::Arc<Vec<AccountId>>)],
    epoch: &mut u64,
    report: &mut BenchReport,
    on: &[ArbiterHandle],
) -> Result<(), super::LedgerError> {
    for (set, ids) in sets {
        if ids.is_empty() {
            continue;
        }
        for &c in &opts.concurrency {
            let r = run(nodes, set, ids, c.max(1), opts, *epoch, on).await?;
            *epoch += 1;
            tracing::info!(backend = %r.backend, set = %r.set, callers = c, cycles_per_sec = r.cycles_per_sec as u64, "bench run done");
            report.runs.push(r);
        }
    }
    Ok(())
}

async fn bench_embedded(
    opts: &BenchOpts,
    dir: &std::path::Path,
    report: &mut BenchReport,
) -> Result<(), super::LedgerError> {
    let dir = dir.to_path_buf();
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = LedgerConfig {
        dir: dir.clone(),
        fsync: opts.fsync,
        batch_linger_us: opts.linger_us,
        snapshot_journal_percent: opts.snapshot_journal_percent,
        snapshot_deltas: opts.snapshot_deltas,
        direct_io: opts.direct_io,
        busy_poll_us: opts.busy_poll_us,
        ..LedgerConfig::default()
    };
    let ledger = Ledger::open(cfg.clone())?;
    let arbiters = (0..opts.arbiters.max(1))
        .map(|_| super::durable::arbiter())
        .collect::<Result<Vec<Arbiter>, _>>()
        .map_err(|source| super::LedgerError::Io {
            path: dir.clone(),
            source,
        })?;
    let directory = AccountDirectory::start(
        ledger.clone(),
        arbiters.iter().map(|a| a.handle()).collect(),
    );

    // Provision straight through the ledger (no actors exist yet).
    let now = unix_now();
    let big = account_ids("BENCH-", opts.accounts);
    let hot = account_ids("HOT-", opts.hot_accounts);
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

    let sets = [
        (format!("{} accounts", opts.accounts), big),
        (format!("hot {}", opts.hot_accounts), hot),
    ];
    let mut epoch = 1u64;
    let nodes = [Prepaid::Embedded(directory.clone())];
    let handles: Vec<ArbiterHandle> = arbiters.iter().map(|a| a.handle()).collect();
    run_sets(opts, &nodes, &sets, &mut epoch, report, &handles).await?;
    let before = ledger.reconcile();
    let (t, bal, reserved) = before;
    report.reconciled &= bal + t.charged == t.opening + t.topped_up + t.adjusted && reserved == 0;
    report.records = ledger.durable().seq;
    for a in &arbiters {
        a.stop();
    }
    drop(nodes);
    drop(directory);
    drop(ledger);
    report.restart = Some(restart(&cfg, before).await?);
    Ok(())
}

/// Open the ledger again on `cfg.dir` once the running one has let go of it (its actors stop
/// with their arbiters), as a restarted SCP would.
async fn restart(
    cfg: &LedgerConfig,
    before: (super::account::Totals, i64, i64),
) -> Result<RestartReport, super::LedgerError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let ledger = loop {
        match Ledger::open(cfg.clone()) {
            Err(super::LedgerError::Locked(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            other => break other?,
        }
    };
    let r = ledger.recovery();
    Ok(RestartReport {
        snapshot_accounts: r.snapshot_accounts,
        replayed_records: r.replayed,
        elapsed_ms: r.elapsed.as_secs_f64() * 1e3,
        same_as_before: ledger.reconcile() == before,
    })
}

async fn bench_postgres(
    opts: &BenchOpts,
    url: &str,
    report: &mut BenchReport,
) -> Result<(), super::LedgerError> {
    let cfg = LedgerConfig {
        postgres: PostgresConfig {
            url: url.to_owned(),
            pool_size: opts.pg_pool.max(1),
            ..PostgresConfig::default()
        },
        ..LedgerConfig::default()
    };
    // Two nodes = two independent pools on the same database, as two processes would have.
    let a = PgLedger::open(&cfg)?;
    let b = PgLedger::open(&cfg)?;
    let tag = format!("B{}x{}-", std::process::id(), unix_now() % 100_000);
    let (big_p, hot_p) = (format!("{tag}BENCH-"), format!("{tag}HOT-"));
    a.bulk_create(&big_p, opts.accounts, 1_000_000_000_000)
        .await?;
    a.bulk_create(&hot_p, opts.hot_accounts, 1_000_000_000_000)
        .await?;
    let sets = [
        (
            format!("{} accounts", opts.accounts),
            account_ids(&big_p, opts.accounts),
        ),
        (
            format!("hot {}", opts.hot_accounts),
            account_ids(&hot_p, opts.hot_accounts),
        ),
    ];
    let mut epoch = 1u64;
    let one = [Prepaid::Postgres(a.clone())];
    run_sets(opts, &one, &sets, &mut epoch, report, &[]).await?;
    let two = [Prepaid::Postgres(a.clone()), Prepaid::Postgres(b.clone())];
    run_sets(opts, &two, &sets, &mut epoch, report, &[]).await?;
    let (t, bal, reserved, rows, overdrawn) = a.reconcile(&tag).await?;
    report.reconciled &= bal + t.charged == t.opening + t.topped_up + t.adjusted
        && reserved == 0
        && rows == 0
        && overdrawn == 0;
    a.delete_prefix(&tag).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(backend: &str, set: &str, concurrency: usize, cps: f64, p99: u64) -> RunReport {
        RunReport {
            backend: backend.into(),
            set: set.into(),
            concurrency,
            cycles: 0,
            failed_cycles: 0,
            elapsed_secs: 1.0,
            cycles_per_sec: cps,
            ops: OPS
                .iter()
                .map(|op| OpLatency {
                    op: (*op).into(),
                    p50_us: 1,
                    p99_us: p99,
                    max_us: p99,
                })
                .collect(),
        }
    }

    #[test]
    fn ratios_compare_with_the_best_postgres_run_of_the_same_set_and_callers() {
        let report = BenchReport {
            runs: vec![
                run("embedded", "hot 10", 16, 2000.0, 900),
                run("embedded", "hot 10", 256, 5000.0, 4000),
                run("postgres x1", "hot 10", 16, 100.0, 1),
                run("postgres x2", "hot 10", 16, 200.0, 1),
                run("postgres x1", "1000 accounts", 256, 1.0, 1),
            ],
            reconciled: true,
            records: 0,
            restart: None,
        };
        assert_eq!(report.ratios(), vec![("hot 10".to_owned(), 16, 10.0, 900)]);
        assert!(report.to_table().contains("16 callers: 10.0x"));
    }
}
