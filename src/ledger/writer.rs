//! The ledger core: one writer thread doing group commit, the materialised state, snapshots.
//!
//! Submitters (account actors) encode their event, take a sequence number and append the framed
//! record to a shared queue under a short lock. The writer thread takes everything queued (up to
//! the batch limits), writes it, issues one `fdatasync` for the whole batch, publishes the new
//! durable sequence number on a watch channel and then applies the events to the materialised
//! state; each submitter waits until the durable sequence number reaches its own (on an
//! arbiter, through that arbiter's relay: see [`super::durable`]). Publishing first lets the
//! arbiters answer while the writer applies (the submitters already hold the changes in their
//! actors); readers of the materialised state wait for the writer to catch up with the
//! durable number ([`Shared::caught_up`]), so they never see less than what was acknowledged.
//!
//! Any write or fsync error puts the ledger in a failed state for the rest of the process's life
//! (after a failed fsync the page cache can no longer be trusted to match the disk, so retrying
//! is not safe): every later money operation is refused with `LedgerUnavailable`, the error is
//! logged once and `strowger_ledger_failures_total` counted, and [`Ledger::is_healthy`] turns
//! false for the readiness endpoint. A restart recovers from what is on disk.
//!
//! With `preallocate` (and `fsync`) the writer's [`SegmentWriter`] owns a preparer thread that
//! keeps a zero-filled, synced spare segment ready (see [`super::journal`]). Failing to prepare
//! one (a full disk) is logged and retried, and the journal goes on in plain segments: it does
//! not fail the ledger.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ::metrics::{Counter, Gauge, Histogram};
use dashmap::DashMap;
use parking_lot::{Condvar, Mutex, MutexGuard};
use tokio::sync::watch;

use crate::metrics as m;
use crate::prepaid::{AccountId, Refusal};

use super::account::{Account, Event, Rules, Totals};
use super::durable;
use super::journal::{list_segments, replay, FsStorage, SegmentWriter, SpareStatus, Storage};
use super::record::{encode_event, frame_record, Enc, HEADER_LEN, MAX_PAYLOAD};
use super::snapshot::{encode_account, load_newest, prune, Chain, SnapshotWriter};
use super::{LedgerConfig, LedgerError};

/// The materialised accounts by id (foldhash: account ids are the operator's, and SipHash was
/// a measurable part of each request).
type State = DashMap<AccountId, Account, foldhash::fast::RandomState>;

/// Shards of [`State`] (dashmap's default is four per core, eight on two cores). The snapshot
/// thread locks each account's shard while it encodes the account, and the writer's apply of a
/// commit waits for any shard so held: with more shards it meets them less often. At 256
/// callers on `bench-ledger`'s hot set the higher p99 was lower in 9 of 10 alternated pairs
/// (docs/performance-history.md, session 14).
const STATE_SHARDS: usize = 128;

/// What opening the ledger found and did (for the log and for `bench-ledger`'s restart).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Sequence number of the snapshot loaded (0 = none).
    pub snapshot_seq: u64,
    /// Accounts the snapshot held.
    pub snapshot_accounts: usize,
    /// Journal records replayed after it.
    pub replayed: u64,
    /// The last sequence number found.
    pub last_seq: u64,
    /// Accounts after replay.
    pub accounts: usize,
    /// Time from opening the directory to the ledger being ready.
    pub elapsed: Duration,
}

/// What the admin API's `GET /ledger` shows of the embedded ledger.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LedgerStatus {
    /// Its directory.
    pub dir: String,
    /// Every record up to this sequence number is durable.
    pub durable_seq: u64,
    /// Why it refuses money operations, once a write or fsync failed (`None` = healthy).
    pub failure: Option<String>,
    /// Accounts held.
    pub accounts: usize,
    /// Bytes in the journal segments on disk, preallocated space included.
    pub journal_bytes: u64,
    /// The newest snapshot: its sequence number (0 = none), and the chain a restart loads.
    pub snapshot_seq: u64,
    /// Size of the chain's full snapshot, bytes.
    pub snapshot_full_bytes: u64,
    /// Deltas laid over it.
    pub snapshot_deltas: u32,
    /// Σ their sizes, bytes.
    pub snapshot_delta_bytes: u64,
    /// At start: the snapshot loaded, the journal records replayed after it, and how long
    /// opening the ledger took.
    pub recovered_snapshot_seq: u64,
    /// Journal records replayed at start.
    pub recovered_records: u64,
    /// Time from opening the directory to the ledger being ready, ms.
    pub recovery_ms: u64,
}

/// The durability watermark published by the writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Durable {
    /// Every record with a sequence number ≤ this is on disk (and applied to the materialised state).
    pub seq: u64,
    /// The ledger has failed; records above `seq` will never become durable.
    pub failed: bool,
}

thread_local! {
    /// A submitter's payload buffer, kept between records (no allocation per record).
    static ENCODE_BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

#[derive(Default)]
struct Queue {
    next_seq: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    events: Vec<(u64, Event)>,
    shutdown: bool,
}

struct Metrics {
    failures: Counter,
    records: Counter,
    batches: Counter,
    batch_records: Histogram,
    fsync_seconds: Histogram,
    snapshots_full: Counter,
    snapshots_delta: Counter,
    snapshot_failures: Counter,
    journal_bytes: Gauge,
    poll_hits: Counter,
    poll_misses: Counter,
}

/// How records have been arriving lately: the writer's basis for deciding whether to linger.
#[derive(Debug, Default)]
struct Pace {
    /// Records in the last batch taken.
    last_batch: usize,
    /// When it was taken.
    last_take: Option<Instant>,
    /// Smoothed time between records (from batch sizes and the time between takes).
    gap: Duration,
}

impl Pace {
    /// Note a batch of `n` records taken now.
    fn taken(&mut self, n: usize) {
        let now = Instant::now();
        if let Some(prev) = self.last_take {
            let sample = now.duration_since(prev) / n.max(1) as u32;
            self.gap = if self.gap.is_zero() {
                sample
            } else {
                (self.gap * 3 + sample) / 4
            };
        }
        self.last_take = Some(now);
        self.last_batch = n;
    }

    /// How long to wait for each further record, or `None` if lingering cannot pay: no
    /// lingering configured, a lone last batch, or records too sparse for two to arrive in `max`.
    fn linger_step(&self, max: Duration) -> Option<Duration> {
        if max.is_zero() || self.last_batch < 2 || self.gap.is_zero() || self.gap * 2 > max {
            return None;
        }
        Some((self.gap * 2).max(Duration::from_micros(10)).min(max))
    }
}

impl Metrics {
    fn new() -> Self {
        Metrics {
            failures: ::metrics::counter!(m::LEDGER_FAILURES),
            records: ::metrics::counter!(m::LEDGER_RECORDS),
            batches: ::metrics::counter!(m::LEDGER_COMMITS),
            batch_records: ::metrics::histogram!(m::LEDGER_BATCH_RECORDS),
            fsync_seconds: ::metrics::histogram!(m::LEDGER_FSYNC_SECONDS),
            snapshots_full: ::metrics::counter!(m::LEDGER_SNAPSHOTS, "kind" => "full"),
            snapshots_delta: ::metrics::counter!(m::LEDGER_SNAPSHOTS, "kind" => "delta"),
            snapshot_failures: ::metrics::counter!(m::LEDGER_SNAPSHOT_FAILURES),
            journal_bytes: ::metrics::gauge!(m::LEDGER_JOURNAL_BYTES),
            poll_hits: ::metrics::counter!(m::LEDGER_BUSY_POLLS, "by" => "writer", "result" => "hit"),
            poll_misses: ::metrics::counter!(m::LEDGER_BUSY_POLLS, "by" => "writer", "result" => "miss"),
        }
    }
}

pub(crate) struct Shared {
    /// Tells this ledger's relays apart from another's on the same thread (tests open many).
    id: u64,
    cfg: LedgerConfig,
    rules: Rules,
    queue: Mutex<Queue>,
    /// The queue's `next_seq`, readable without the lock (for the writer's busy poll).
    submitted: AtomicU64,
    wake: Condvar,
    durable: watch::Sender<Durable>,
    /// Every durable record up to this sequence number is applied to `state` (it trails
    /// `durable.seq` by the batch being applied).
    applied: AtomicU64,
    state: State,
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
    metrics: Metrics,
    snapshot_lock: Mutex<()>,
    /// Set (under `snapshot_lock`) once [`Ledger::close`] has released the directory: no
    /// snapshot may be written into a directory another process may now own.
    closed: AtomicBool,
    snapshot_busy: AtomicBool,
    last_snapshot: AtomicU64,
    /// Journal bytes written after the newest snapshot loaded (those a restart replayed, so
    /// that a node restarted often still takes snapshots) and by this process.
    journal_written: AtomicU64,
    /// `journal_written` when the newest snapshot started: the journal since is weighed
    /// against its size.
    journal_at_snapshot: AtomicU64,
    /// The chain the newest snapshot belongs to (changed under `snapshot_lock`). Its full
    /// snapshot's size is the automatic rule's yardstick, for deltas too. (Weighing the journal
    /// against a small delta instead made snapshots far more frequent, each scanning every
    /// account and syncing the directory: on the hot set that cost more than the full ones it
    /// replaced.)
    chain: Mutex<Chain>,
    spare: SpareStatus,
    recovery: Recovery,
}

struct Guard {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    snapshotter: Mutex<Option<JoinHandle<()>>>,
    /// The directory's `flock`, held until [`Guard::close`].
    lock: Mutex<Option<std::fs::File>>,
}

impl Guard {
    /// Refuse new records, let the writer write everything queued and stop, stop the snapshot
    /// thread, then release the directory's lock. Idempotent.
    fn close(&self) {
        self.shared.queue.lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(h) = self.writer.lock().take() {
            let _ = h.join();
        }
        if let Some(h) = self.snapshotter.lock().take() {
            let _ = h.join();
        }
        let _g = self.shared.snapshot_lock.lock();
        self.shared.closed.store(true, Ordering::Release);
        self.lock.lock().take();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.close();
    }
}

/// The embedded prepaid ledger. Cheap to clone; the writer stops (after writing everything
/// queued) when the last clone is dropped.
#[derive(Clone)]
pub struct Ledger {
    shared: Arc<Shared>,
    guard: Arc<Guard>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("dir", &self.shared.cfg.dir)
            .field("durable", &*self.shared.durable.borrow())
            .finish()
    }
}

fn lock_dir(dir: &Path) -> Result<std::fs::File, LedgerError> {
    let path = dir.join("LOCK");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LedgerError::Io {
            path: path.clone(),
            source,
        })?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(LedgerError::Locked(dir.to_path_buf()));
    }
    Ok(f)
}

/// Bytes in the journal segments of `dir`: their file lengths, preallocated space included (the
/// spare is not a segment). 0 if the directory cannot be listed.
fn journal_bytes(dir: &Path) -> u64 {
    list_segments(dir)
        .map(|segs| {
            segs.iter()
                .filter_map(|s| std::fs::metadata(&s.path).ok())
                .map(|md| md.len())
                .sum()
        })
        .unwrap_or(0)
}

fn apply_durable(state: &State, rules: &Rules, seq: u64, ev: &Event) {
    if let Some(mut a) = state.get_mut(&ev.account) {
        if a.applied_seq < seq {
            a.apply(ev, rules);
            a.applied_seq = seq;
        }
        return;
    }
    match Account::from_upsert(ev) {
        Some(mut a) => {
            a.applied_seq = seq;
            state.insert(ev.account.clone(), a);
        }
        None => {
            tracing::error!(account = %ev.account, seq, "journal event for an unknown account ignored")
        }
    }
}

impl Ledger {
    /// Open (or create) the ledger in `cfg.dir`: load the newest good snapshot, replay the
    /// journal after it, truncate a torn tail, and start the writer and snapshot threads.
    pub fn open(cfg: LedgerConfig) -> Result<Ledger, LedgerError> {
        let storage = Arc::new(FsStorage {
            direct_io: cfg.direct_io,
        });
        Self::open_with_storage(cfg, storage)
    }

    /// [`Ledger::open`] with the journal's file operations supplied (fault injection in tests).
    pub fn open_with_storage(
        cfg: LedgerConfig,
        storage: Arc<dyn Storage>,
    ) -> Result<Ledger, LedgerError> {
        let dir = cfg.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| LedgerError::Io {
            path: dir.clone(),
            source,
        })?;
        let lock = lock_dir(&dir)?;
        let rules = cfg.rules();
        let state = State::with_hasher_and_shard_amount(Default::default(), STATE_SHARDS);
        let started = Instant::now();
        let mut after = 0;
        let snap = load_newest(&dir).map_err(|source| LedgerError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut chain = Chain::default();
        if let Some(loaded) = snap {
            after = loaded.seq;
            chain = loaded.chain;
            for a in loaded.accounts {
                state.insert(a.id.clone(), a);
            }
        }
        let snapshot_accounts = state.len();
        // The most one group commit writes (take_batch takes at least one record).
        let max_batch = (cfg.batch_max_bytes as u64).max((HEADER_LEN + MAX_PAYLOAD) as u64);
        let outcome = replay(&dir, after, max_batch, |seq, ev| {
            apply_durable(&state, &rules, seq, &ev)
        })?;
        let recovery = Recovery {
            snapshot_seq: after,
            snapshot_accounts,
            replayed: outcome.replayed,
            last_seq: outcome.last_seq,
            accounts: state.len(),
            elapsed: started.elapsed(),
        };
        tracing::info!(
            dir = %dir.display(),
            snapshot_seq = after,
            snapshot_accounts,
            replayed = outcome.replayed,
            last_seq = outcome.last_seq,
            accounts = state.len(),
            elapsed_ms = recovery.elapsed.as_millis() as u64,
            "ledger recovered"
        );
        let next_seq = outcome.last_seq + 1;
        let segw = SegmentWriter::open(
            storage,
            &dir,
            outcome.tail,
            next_seq,
            cfg.segment_bytes,
            cfg.fsync,
            cfg.preallocate,
        )
        .map_err(|source| LedgerError::Io {
            path: dir.clone(),
            source,
        })?;
        let spare = segw.spare_status();
        let (durable, _) = watch::channel(Durable {
            seq: outcome.last_seq,
            failed: false,
        });
        static IDS: AtomicU64 = AtomicU64::new(0);
        let shared = Arc::new(Shared {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            rules,
            queue: Mutex::new(Queue {
                next_seq,
                ..Queue::default()
            }),
            submitted: AtomicU64::new(next_seq),
            wake: Condvar::new(),
            durable,
            applied: AtomicU64::new(outcome.last_seq),
            state,
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            metrics: Metrics::new(),
            snapshot_lock: Mutex::new(()),
            closed: AtomicBool::new(false),
            snapshot_busy: AtomicBool::new(false),
            last_snapshot: AtomicU64::new(after),
            journal_written: AtomicU64::new(outcome.replayed_bytes),
            journal_at_snapshot: AtomicU64::new(0),
            chain: Mutex::new(chain),
            spare,
            recovery,
            cfg,
        });
        shared.metrics.journal_bytes.set(journal_bytes(&dir) as f64);
        let (snap_tx, snap_rx) = mpsc::channel::<u64>();
        let s2 = shared.clone();
        let snapshotter = std::thread::Builder::new()
            .name("ledger-snapshot".into())
            .spawn(move || {
                while let Ok(seq) = snap_rx.recv() {
                    if let Err(e) = s2.take_snapshot(seq, false) {
                        tracing::error!(error = %e, "snapshot failed");
                    }
                    s2.snapshot_busy.store(false, Ordering::Release);
                }
            })
            .map_err(|source| LedgerError::Io {
                path: dir.clone(),
                source,
            })?;
        let s3 = shared.clone();
        let writer = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || s3.writer_loop(segw, snap_tx, after))
            .map_err(|source| LedgerError::Io {
                path: dir.clone(),
                source,
            })?;
        let guard = Arc::new(Guard {
            shared: shared.clone(),
            writer: Mutex::new(Some(writer)),
            snapshotter: Mutex::new(Some(snapshotter)),
            lock: Mutex::new(Some(lock)),
        });
        Ok(Ledger { shared, guard })
    }

    /// What opening this ledger recovered, and how long it took.
    pub fn recovery(&self) -> Recovery {
        self.shared.recovery
    }

    /// The configuration in force.
    pub fn config(&self) -> &LedgerConfig {
        &self.shared.cfg
    }

    /// The account-model rules derived from the configuration.
    pub fn rules(&self) -> &Rules {
        &self.shared.rules
    }

    /// Queue an event for the journal; returns its sequence number. The change is durable once
    /// [`Ledger::wait_durable`] for that number returns `Ok`.
    pub fn submit(&self, ev: Event) -> Result<u64, Refusal> {
        if self.shared.failed.load(Ordering::Acquire) {
            return Err(Refusal::LedgerUnavailable);
        }
        // Encode outside the lock, into this thread's reusable buffer.
        let mut payload = Enc {
            buf: ENCODE_BUF.take(),
        };
        payload.buf.clear();
        encode_event(&ev, &mut payload);
        let mut q = self.shared.queue.lock();
        if q.shutdown {
            ENCODE_BUF.set(payload.buf);
            return Err(Refusal::LedgerUnavailable);
        }
        let seq = q.next_seq;
        q.next_seq += 1;
        frame_record(seq, &payload.buf, &mut q.bytes);
        let end = q.bytes.len();
        q.ends.push(end);
        q.events.push((seq, ev));
        self.shared.submitted.store(q.next_seq, Ordering::Release);
        let first = q.events.len() == 1;
        drop(q);
        ENCODE_BUF.set(payload.buf);
        if first {
            self.shared.wake.notify_one();
        }
        Ok(seq)
    }

    /// The durability watermark now.
    pub fn durable(&self) -> Durable {
        *self.shared.durable.borrow()
    }

    /// Wait until record `seq` is durable; `Err(LedgerUnavailable)` if it never will be.
    pub async fn wait_durable(&self, seq: u64) -> Result<(), Refusal> {
        let d = self.durable();
        if d.seq >= seq {
            return Ok(());
        }
        if d.failed {
            return Err(Refusal::LedgerUnavailable);
        }
        let id = self.shared.id;
        match (durable::Wait { ledger: id, seq }).await {
            Some(true) => return Ok(()),
            Some(false) => return Err(Refusal::LedgerUnavailable),
            None => {} // No relay on this thread: wait on the watch.
        }
        let mut rx = self.shared.durable.subscribe();
        let seen = rx.wait_for(|d| d.seq >= seq || d.failed).await.map(|d| *d);
        match seen {
            Ok(d) if d.seq >= seq => Ok(()),
            _ => Err(Refusal::LedgerUnavailable),
        }
    }

    /// Call `f(true)` once record `seq` is durable, or `f(false)` once it never will be (the
    /// ledger failed or closed first); at once if that is known now. On an arbiter with this
    /// ledger's relay the relay calls it when the commit comes (no task of its own: an account
    /// actor leaves its answer so, and its caller is woken once, by the durable answer);
    /// elsewhere a local task waits for it. Must be called on an actix arbiter or inside a
    /// `LocalSet`.
    pub(crate) fn when_durable(&self, seq: u64, f: impl FnOnce(bool) + 'static) {
        let d = self.durable();
        if let Err(f) = durable::when_durable(self.shared.id, d, seq, f) {
            if d.seq >= seq || d.failed {
                return f(d.seq >= seq);
            }
            let ledger = self.clone();
            actix_rt::spawn(async move { f(ledger.wait_durable(seq).await.is_ok()) });
        }
    }

    /// This ledger's durability relay runs on the calling thread.
    pub(crate) fn relayed_here(&self) -> bool {
        durable::here(self.shared.id)
    }

    /// Commits that this thread's relay saw by busy polling (`busy_poll_us`) and handed to
    /// its waits before the thread slept (0 without a relay here).
    #[cfg(test)]
    pub(crate) fn polled_here(&self) -> u64 {
        durable::polled_here(self.shared.id)
    }

    /// Start this ledger's durability relay on `arbiter`, so that waits there are woken once
    /// per commit by one task instead of each from the writer thread.
    pub fn start_relay(&self, arbiter: &actix::dev::ArbiterHandle) {
        let (id, rx) = (self.shared.id, self.shared.durable.subscribe());
        let poll = Duration::from_micros(self.shared.cfg.busy_poll_us);
        arbiter.spawn_fn(move || {
            actix::spawn(durable::relay(id, rx, poll));
        });
    }

    /// A receiver of the durability watermark (for waiting in a select, or in many futures).
    pub fn durable_watch(&self) -> watch::Receiver<Durable> {
        self.shared.durable.subscribe()
    }

    /// False once a write or fsync has failed (for the readiness endpoint).
    pub fn is_healthy(&self) -> bool {
        !self.shared.failed.load(Ordering::Acquire)
    }

    /// The error that failed the ledger, if it has failed.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure.lock().clone()
    }

    /// The durable (materialised) state of an account.
    pub fn account(&self, id: &AccountId) -> Option<Account> {
        self.shared.caught_up();
        self.shared.state.get(id).map(|a| a.clone())
    }

    /// Whether the account exists in the durable state.
    pub fn contains(&self, id: &AccountId) -> bool {
        self.shared.caught_up();
        self.shared.state.contains_key(id)
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.shared.caught_up();
        self.shared.state.len()
    }

    /// Every account id (durable state).
    pub fn account_ids(&self) -> Vec<AccountId> {
        self.shared.caught_up();
        self.shared.state.iter().map(|e| e.key().clone()).collect()
    }

    /// Accounts holding live reservations (their expiry must be scheduled at start).
    pub fn accounts_with_reservations(&self) -> Vec<AccountId> {
        self.shared.caught_up();
        self.shared
            .state
            .iter()
            .filter(|e| !e.value().reservations.is_empty())
            .map(|e| e.key().clone())
            .collect()
    }

    /// Sum of all accounts' totals, balances and reservations: `(totals, Σ balance, Σ reserved)`.
    pub fn reconcile(&self) -> (Totals, i64, i64) {
        self.shared.caught_up();
        let mut t = Totals::default();
        let (mut bal, mut res) = (0, 0);
        for e in self.shared.state.iter() {
            let a = e.value();
            t.opening += a.totals.opening;
            t.topped_up += a.totals.topped_up;
            t.adjusted += a.totals.adjusted;
            t.charged += a.totals.charged;
            bal += a.balance;
            res += a.reserved;
        }
        (t, bal, res)
    }

    /// Close the ledger for this process, whoever else still holds a clone: refuse new
    /// operations ([`Refusal::LedgerUnavailable`], as after a failure), write and fsync
    /// everything already queued (its waits are answered), stop the writer and snapshot
    /// threads, and release the directory's lock so that another process (or a restart in
    /// this one) may open it at once. Balances stay readable. A clean stop calls it: a
    /// clone kept a little longer by a thread that is still ending (an HTTP worker's
    /// application state, say) must not keep the directory locked. Idempotent; dropping the
    /// last clone does the same.
    pub fn close(&self) {
        self.guard.close();
    }

    /// Write a snapshot now, in the calling thread, full or a delta as the automatic ones
    /// choose; returns its sequence number.
    pub fn snapshot_now(&self) -> Result<u64, LedgerError> {
        self.snapshot_in_this_thread(false)
    }

    /// Write a full snapshot now, in the calling thread (it also forgets the expired answers
    /// of accounts that have not changed); returns its sequence number.
    pub fn full_snapshot_now(&self) -> Result<u64, LedgerError> {
        self.snapshot_in_this_thread(true)
    }

    fn snapshot_in_this_thread(&self, full: bool) -> Result<u64, LedgerError> {
        // What the state holds, not merely what is durable: the snapshot covers its sequence
        // number, and the journal before it may be pruned.
        let seq = self.shared.caught_up();
        self.shared
            .take_snapshot(seq, full)
            .map_err(|source| LedgerError::Io {
                path: self.shared.cfg.dir.clone(),
                source,
            })?;
        Ok(seq)
    }

    /// Whether a preallocated journal segment is ready for the writer's next segment (always
    /// false without `preallocate` and `fsync`).
    pub fn spare_segment_ready(&self) -> bool {
        self.shared.spare.ready()
    }

    /// Its state, for the admin API.
    pub fn status(&self) -> LedgerStatus {
        let sh = &self.shared;
        let chain = *sh.chain.lock();
        LedgerStatus {
            dir: sh.cfg.dir.display().to_string(),
            durable_seq: sh.durable.borrow().seq,
            failure: self.failure(),
            accounts: sh.state.len(),
            journal_bytes: journal_bytes(&sh.cfg.dir),
            snapshot_seq: sh.last_snapshot.load(Ordering::Acquire),
            snapshot_full_bytes: chain.full_bytes,
            snapshot_deltas: chain.deltas,
            snapshot_delta_bytes: chain.delta_bytes,
            recovered_snapshot_seq: sh.recovery.snapshot_seq,
            recovered_records: sh.recovery.replayed,
            recovery_ms: sh.recovery.elapsed.as_millis() as u64,
        }
    }

    /// Sequence number of the newest snapshot written or loaded (0 = none).
    pub fn last_snapshot_seq(&self) -> u64 {
        self.shared.last_snapshot.load(Ordering::Acquire)
    }
}

impl Shared {
    /// Wait until everything durable when called is applied to the materialised state (the
    /// writer applies a batch right after publishing it: microseconds); returns the sequence
    /// number applied. A failed ledger applies nothing more: its state is returned as it is.
    fn caught_up(&self) -> u64 {
        let target = self.durable.borrow().seq;
        loop {
            let applied = self.applied.load(Ordering::Acquire);
            if applied >= target || self.failed.load(Ordering::Acquire) {
                return applied;
            }
            std::thread::yield_now();
        }
    }

    fn fail(&self, what: &'static str, err: &io::Error) {
        if !self.failed.swap(true, Ordering::AcqRel) {
            let msg = format!("journal {what} failed: {err}");
            tracing::error!(error = %err, "{msg}; ledger now refuses all money operations");
            self.metrics.failures.increment(1);
            *self.failure.lock() = Some(msg);
        }
        self.durable.send_modify(|d| d.failed = true);
    }

    /// Busy poll (`busy_poll_us`) while nothing is queued beyond `next`, the sequence number
    /// the next batch starts with, yielding the core to any thread that wants it: a record
    /// arriving meanwhile is taken without the ~15 µs a sleeping thread takes to wake. Only
    /// after a batch of one record: requests coming one at a time.
    fn poll_for_record(&self, next: u64, pace: &Pace) {
        if self.cfg.busy_poll_us == 0
            || pace.last_batch > 1
            || self.submitted.load(Ordering::Acquire) != next
        {
            return;
        }
        let budget = Duration::from_micros(self.cfg.busy_poll_us);
        let came = durable::busy_poll(budget, || {
            (self.submitted.load(Ordering::Acquire) != next).then_some(())
        });
        match came {
            Some(()) => self.metrics.poll_hits.increment(1),
            None => self.metrics.poll_misses.increment(1),
        }
    }

    /// Move the next batch into `bytes` and `events` (the writer's own buffers, empty, which
    /// keep their capacity from batch to batch); returns whether the ledger is shutting down.
    fn take_batch(
        &self,
        pace: &mut Pace,
        bytes: &mut Vec<u8>,
        events: &mut Vec<(u64, Event)>,
    ) -> bool {
        let mut q = self.queue.lock();
        let timeout = Duration::from_millis(500);
        while q.events.is_empty() && !q.shutdown {
            if self.wake.wait_for(&mut q, timeout).timed_out() {
                break;
            }
        }
        if !q.events.is_empty() {
            self.linger(&mut q, pace);
        }
        let max_bytes = self.cfg.batch_max_bytes.max(1);
        let max_records = self.cfg.batch_max_records.max(1);
        let n = q
            .ends
            .iter()
            .take(max_records)
            .take_while(|&&e| e <= max_bytes)
            .count()
            .max(1);
        let shutdown = q.shutdown;
        if !q.events.is_empty() {
            pace.taken(n);
        }
        if n >= q.events.len() {
            q.ends.clear();
            std::mem::swap(&mut q.bytes, bytes);
            std::mem::swap(&mut q.events, events);
            return shutdown;
        }
        let cut = q.ends[n - 1];
        bytes.extend(q.bytes.drain(..cut));
        events.extend(q.events.drain(..n));
        q.ends.drain(..n);
        for e in q.ends.iter_mut() {
            *e -= cut;
        }
        false
    }

    /// Adaptive group commit: while records keep coming, wait (at most `batch_linger_us`) for
    /// more before writing a batch smaller than `batch_linger_records`, so that under load one
    /// fdatasync covers many records instead of two or three. It never waits when the last
    /// batch was a single record (one request at a time: nobody else is coming), when records
    /// arrive too sparsely to fill it, or once a whole inter-arrival gap passes with no new
    /// record (every caller is already waiting on this batch).
    fn linger(&self, q: &mut MutexGuard<'_, Queue>, pace: &Pace) {
        let max = Duration::from_micros(self.cfg.batch_linger_us);
        let target = self
            .cfg
            .batch_linger_records
            .min(self.cfg.batch_max_records);
        let Some(step) = pace.linger_step(max) else {
            return;
        };
        if q.events.len() >= target {
            return;
        }
        // First wait one step: if nothing came, every caller is already waiting on this batch.
        let seen = q.events.len();
        let _ = self.wake.wait_for(q, step);
        let now_queued = q.events.len();
        if now_queued == seen || now_queued >= target || q.shutdown {
            return;
        }
        // Records are flowing: wait once more, for as long as filling the batch should take.
        let rest = pace.gap * (target - now_queued) as u32;
        let _ = self.wake.wait_for(q, rest.min(max.saturating_sub(step)));
    }

    fn writer_loop(
        self: Arc<Self>,
        mut seg: SegmentWriter,
        snap_tx: mpsc::Sender<u64>,
        mut last_snap: u64,
    ) {
        let mut last_snap_at = Instant::now();
        let mut pace = Pace::default();
        let (mut bytes, mut events) = (Vec::new(), Vec::new());
        let mut next = self.submitted.load(Ordering::Acquire);
        loop {
            self.poll_for_record(next, &pace);
            let shutdown = self.take_batch(&mut pace, &mut bytes, &mut events);
            if let Some(&(last, _)) = events.last() {
                next = last + 1;
            }
            if let (Some(&(first, _)), Some(&(last, _))) = (events.first(), events.last()) {
                if !self.failed.load(Ordering::Acquire) {
                    let t = Instant::now();
                    match seg.write_batch(first, &bytes) {
                        Ok(grown) => {
                            self.metrics.fsync_seconds.record(t.elapsed().as_secs_f64());
                            self.durable.send_modify(|d| d.seq = last);
                            for (seq, ev) in &events {
                                apply_durable(&self.state, &self.rules, *seq, ev);
                            }
                            self.applied.store(last, Ordering::Release);
                            self.metrics.records.increment(events.len() as u64);
                            self.metrics.batches.increment(1);
                            self.metrics.batch_records.record(events.len() as f64);
                            self.metrics.journal_bytes.increment(grown as f64);
                            self.journal_written
                                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        }
                        Err(e) => self.fail("write/fsync", &e),
                    }
                }
            }
            bytes.clear();
            events.clear();
            let durable = self.applied.load(Ordering::Acquire);
            // A snapshot taken on request (`snapshot_now`) counts as well.
            last_snap = last_snap.max(self.last_snapshot.load(Ordering::Acquire));
            let journal_since = self
                .journal_written
                .load(Ordering::Relaxed)
                .saturating_sub(self.journal_at_snapshot.load(Ordering::Acquire));
            let due = durable > last_snap
                && ((durable - last_snap >= self.cfg.snapshot_every_records
                    && journal_since.saturating_mul(100)
                        >= self
                            .cfg
                            .snapshot_journal_percent
                            .saturating_mul(self.chain.lock().full_bytes))
                    || last_snap_at.elapsed() >= Duration::from_secs(self.cfg.snapshot_every_secs));
            if due
                && !self.failed.load(Ordering::Acquire)
                && !self.snapshot_busy.swap(true, Ordering::AcqRel)
            {
                if snap_tx.send(durable).is_err() {
                    self.snapshot_busy.store(false, Ordering::Release);
                }
                last_snap = durable;
                last_snap_at = Instant::now();
            }
            if shutdown && self.queue.lock().events.is_empty() {
                break;
            }
        }
    }

    /// Build and write a (fuzzy) snapshot at `seq`, then prune old snapshots and segments: a
    /// full one when `full` is asked for, or [`Chain::wants_full`] says so; otherwise a delta
    /// of the accounts changed since the newest snapshot.
    fn take_snapshot(&self, seq: u64, full: bool) -> io::Result<()> {
        let _g = self.snapshot_lock.lock();
        if self.closed.load(Ordering::Acquire) {
            return Err(io::Error::other("the ledger is closed"));
        }
        let prev = self.last_snapshot.load(Ordering::Acquire);
        if seq <= prev && seq != 0 {
            return Ok(());
        }
        let started = Instant::now();
        self.journal_at_snapshot.store(
            self.journal_written.load(Ordering::Relaxed),
            Ordering::Release,
        );
        let chain = *self.chain.lock();
        let mut full = full || !self.cfg.snapshot_deltas || prev == 0 || chain.wants_full();
        let mut ids = Vec::new();
        if !full {
            // Every account whose last event came after the snapshot at `prev` started: all
            // that the newest snapshot may lack (an account changed after that snapshot
            // encoded it has a later event).
            let total = self.state.len();
            ids.extend(
                self.state
                    .iter()
                    .filter(|e| e.applied_seq > prev)
                    .map(|e| e.key().clone()),
            );
            // Most accounts changed: a full snapshot costs hardly more and ends the chain.
            if ids.len().saturating_mul(2) >= total {
                full = true;
            }
        }
        if full {
            ids = self.state.iter().map(|e| e.key().clone()).collect();
        }
        let now = super::unix_now();
        let written = (|| {
            let mut w = if full {
                SnapshotWriter::create(&self.cfg.dir, seq)?
            } else {
                SnapshotWriter::delta(&self.cfg.dir, seq, prev)?
            };
            let mut one = Enc::default();
            for id in &ids {
                // Per-entry locking keeps the writer's stalls short; fuzziness is handled by
                // applied_seq. Only this account's encoding happens under its shard's lock;
                // adding it (which may write to the file) happens after.
                let Some(mut a) = self.state.get_mut(id) else {
                    continue;
                };
                // Idempotency memory past its retention goes now, not only at the account's
                // next change: a quiet account would keep it for good, in memory and in every
                // full snapshot. (Recovery is unaffected: replay prunes at each event as
                // before.)
                a.prune(now, &self.rules);
                encode_account(&a, &mut one);
                drop(a);
                w.add_encoded(&one.buf)?;
                one.buf.clear();
            }
            let done = w.finish()?;
            prune(&self.cfg.dir, self.cfg.snapshots_kept)?;
            Ok::<_, io::Error>(done)
        })();
        match &written {
            Ok((_, accounts, bytes)) => {
                self.last_snapshot.fetch_max(seq, Ordering::AcqRel);
                self.chain.lock().written(full, *bytes);
                if full {
                    self.metrics.snapshots_full.increment(1);
                } else {
                    self.metrics.snapshots_delta.increment(1);
                }
                // Pruning removed segments: measure again.
                self.metrics
                    .journal_bytes
                    .set(journal_bytes(&self.cfg.dir) as f64);
                tracing::info!(
                    seq,
                    kind = if full { "full" } else { "delta" },
                    accounts,
                    bytes,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "ledger snapshot written"
                );
            }
            Err(_) => self.metrics.snapshot_failures.increment(1),
        }
        written.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(last_batch: usize, gap_us: u64) -> Pace {
        Pace {
            last_batch,
            last_take: Some(Instant::now()),
            gap: Duration::from_micros(gap_us),
        }
    }

    #[test]
    fn lingering_only_pays_when_records_flow() {
        let max = Duration::from_micros(250);
        // Off, a lone request, no history, or records too sparse for two to come: no wait.
        assert_eq!(pace(8, 20).linger_step(Duration::ZERO), None);
        assert_eq!(pace(1, 20).linger_step(max), None);
        assert_eq!(Pace::default().linger_step(max), None);
        assert_eq!(pace(8, 126).linger_step(max), None);
        // Flowing: wait about two gaps for the next record, within bounds.
        assert_eq!(
            pace(8, 20).linger_step(max),
            Some(Duration::from_micros(40))
        );
        assert_eq!(pace(8, 1).linger_step(max), Some(Duration::from_micros(10)));
        assert_eq!(pace(2, 125).linger_step(max), Some(max));
    }

    #[test]
    fn pace_follows_the_arrival_rate() {
        let mut p = Pace::default();
        p.taken(4);
        assert_eq!(p.last_batch, 4);
        assert!(p.gap.is_zero(), "one take says nothing of the gap yet");
        std::thread::sleep(Duration::from_millis(2));
        p.taken(2);
        assert_eq!(p.last_batch, 2);
        // ≥ 2 ms over 2 records: the gap is at least 1 ms, so lingering 250 µs cannot pay.
        assert!(p.gap >= Duration::from_millis(1), "{:?}", p.gap);
        assert_eq!(p.linger_step(Duration::from_micros(250)), None);
    }
}
