//! The embedded prepaid ledger (DESIGN §5) and the per-account prepaid actors (DESIGN §4).
//!
//! - [`account`]: the pure account model — decide/apply, invariants, idempotency memory.
//! - [`record`], [`journal`]: checksummed records in (preallocated) segments, replay, torn tails;
//!   `disk`: segment and spare files written through the page cache or with direct I/O.
//! - [`writer`]: [`Ledger`] — one writer thread with group commit, materialised state, failure state.
//! - [`durable`]: one task per arbiter relays each commit to the waits on its thread.
//! - [`snapshot`]: fuzzy snapshots written safely; recovery = newest good snapshot + journal.
//! - [`actor`]: [`AccountActor`] and [`AccountDirectory`], the actix shell the call logic uses.
//! - [`bench`]: the ledger benchmark (`strowger bench-ledger`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub mod account;
pub mod actor;
mod alarm;
pub mod backend;
pub mod bench;
mod disk;
pub(crate) mod durable;
pub mod journal;
pub mod pg;
pub mod record;
pub mod snapshot;
pub mod writer;

#[cfg(test)]
mod tests;

pub use account::{
    Account, AccountState, AccountView, AdminError, AdminRequest, Decision, Event, EventKind,
    ExpiryPolicy, ReservationView, Rules, Totals, UnixSecs,
};
pub use actor::{AccountActor, AccountDirectory, AdminOp, PrepaidOp, PrepaidOps};
pub use backend::Prepaid;
pub use journal::{FsStorage, SegmentFile, Storage};
pub use pg::PgLedger;
pub use writer::{Durable, Ledger, LedgerStatus};

/// Ledger configuration (the `[ledger]` table of the server's TOML). Every field has a default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// Directory of journal segments and snapshots, relative to `node.data_dir` unless absolute. Default `ledger`.
    pub dir: PathBuf,
    /// A segment is closed and a new one started once it reaches this size. Default 64 MiB.
    pub segment_bytes: u64,
    /// Most bytes written by one group commit. Default 1 MiB.
    pub batch_max_bytes: usize,
    /// Most records written by one group commit. Default 8192.
    pub batch_max_records: usize,
    /// Adaptive group commit, for a CPU-bound node: the longest the writer waits for more
    /// records before writing a batch of fewer than `batch_linger_records`. It waits only while
    /// records keep arriving (the first within about twice the recent gap between records) and
    /// never after a batch of one, so a lone request is written at once. Under a high open
    /// arrival rate (calls from the network) it trades up to this much latency for far fewer
    /// fdatasyncs, each of which costs tens of µs of CPU besides the disk; with few callers
    /// each waiting for its previous answer it only adds latency, which is why it is off by
    /// default. Default 0: never wait (records arriving during one fsync still form the next
    /// batch, which is group commit already).
    pub batch_linger_us: u64,
    /// A batch of this many records is written without waiting for more. Default 32.
    pub batch_linger_records: usize,
    /// Busy polling for requests that come one at a time, µs: when the writer finds nothing
    /// queued after a commit of a single record it polls this long for the next record before
    /// it sleeps, and an arbiter with nothing to run but one call waiting on a commit polls
    /// this long for that commit before it sleeps (each poll yields the core to any thread
    /// waiting for it). A sleeping thread takes some 15 µs to wake on a VM, twice per money
    /// operation; polling saves that, at a cost of up to this much CPU per commit. On a node
    /// whose cores are busy with other work (the 2-core VM with the load generator beside the
    /// SCP at 10 000 calls/s) the polling threads took CPU the others needed and the latency
    /// got worse, so it is off by default: turn it on (150 suits a local SSD, whose commit
    /// takes about 100 µs) for a node with spare cores and sequential traffic. Default 0.
    pub busy_poll_us: u64,
    /// Snapshot after this many records … Default 1,000,000. (A snapshot is a delta, holding
    /// only the accounts changed since the one before, when `snapshot_deltas` is on and fewer
    /// than half the accounts changed; see `snapshot_deltas`.)
    pub snapshot_every_records: u64,
    /// … once the journal written since the last snapshot is also at least this percentage of
    /// the last full snapshot's size. A full snapshot rewrites every account, so without this
    /// bound its cost would grow with the number of accounts while the records between
    /// snapshots stay fixed; with it, snapshots write at most 100/this as many bytes as the
    /// journal does, and a restart replays at most this percentage of a full snapshot's size
    /// in journal. Deltas are weighed against the full snapshot under them too: they come no
    /// more often than full snapshots would, and each costs less. 0 = no bound. Default 200.
    pub snapshot_journal_percent: u64,
    /// … or after this many seconds if anything changed. Default 300.
    pub snapshot_every_secs: u64,
    /// Restore points kept: snapshots, full or delta, each with the files under it (the journal
    /// is kept back to the oldest). Default 2.
    pub snapshots_kept: usize,
    /// Write a snapshot as a delta of the accounts changed since the snapshot before, laid
    /// over it at recovery, when fewer than half the accounts changed; a full snapshot when
    /// there is none yet, when the deltas over it have grown as large as it is, or after 64
    /// deltas. A snapshot's cost then follows the accounts in use rather than all the
    /// accounts. `false`: every snapshot is full. Default true.
    pub snapshot_deltas: bool,
    /// A reservation not touched for this long is expired. Must exceed the longest slice a call
    /// is granted plus the report delay. Default 3600.
    pub reservation_expiry_secs: u64,
    /// What expiry does with the reserved money. Default `return_all` (see [`ExpiryPolicy`]).
    pub expiry_policy: ExpiryPolicy,
    /// Answers of a closed call are remembered this long for idempotent retries. Default 3600.
    /// They are forgotten at the account's next change after that, or at the next snapshot
    /// for an account that has none (so quiet accounts do not keep them for good).
    pub idempotency_retention_secs: u64,
    /// At most this many closed calls are remembered per account. Default 64.
    pub idempotency_max_closed_calls: usize,
    /// `false` skips fsync: **tests only**, acknowledged changes may be lost on a crash. Default true.
    pub fsync: bool,
    /// Write the journal into preallocated segments: a background thread keeps the next segment
    /// ready as `segment_bytes` of zeros written and fsynced, so a commit's `fdatasync`
    /// overwrites allocated blocks instead of also committing a new file size (cheaper and
    /// steadier on ext4/XFS; no use on copy-on-write file systems). Costs one spare segment of
    /// disk and a background write of it per segment. Only with `fsync`. Default true.
    pub preallocate: bool,
    /// Write preallocated segments with direct I/O (`O_DIRECT`, whole 4 KiB blocks from aligned
    /// memory; the block holding the write position is rewritten with the next batch), so a
    /// commit skips the page cache and its `fdatasync` only flushes the device's cache: less
    /// CPU per commit. The spare's zeros are written the same way, so zero-filling it sends no
    /// bursts of dirty pages ahead of the journal's flushes. Where the file system refuses direct I/O the segment is written through
    /// the page cache instead (logged). Only with `preallocate`. Default true.
    pub direct_io: bool,
    /// Mailbox capacity of each account actor. Default 256.
    pub actor_mailbox: usize,
    /// An account actor with no reservations stops once this long has passed without requests
    /// (checked every this long: it stops within twice this). Default 60.
    pub actor_idle_secs: u64,
    /// Which ledger holds the accounts: `embedded` (default: the journal above, one node) or
    /// `postgres` (shared by several nodes; see `[ledger.postgres]` and docs/deployment.md).
    pub backend: LedgerBackend,
    /// The PostgreSQL backend (`backend = "postgres"`).
    pub postgres: PostgresConfig,
}

/// Where the prepaid accounts live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerBackend {
    /// The embedded journal ledger in `ledger.dir` (one node).
    #[default]
    Embedded,
    /// A PostgreSQL database shared by every node.
    Postgres,
}

/// The `[ledger.postgres]` table. Every field has a default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Connection URL, e.g. `postgres://strowger:secret@db1:5432/strowger`. No TLS: use a
    /// trusted network or a local proxy. Default empty (required when the backend is postgres).
    pub url: String,
    /// Connections per node; each runs one transaction at a time. Default 8.
    pub pool_size: usize,
    /// Most operations (on different or the same accounts) committed in one transaction.
    /// Default 32; 1 = one transaction per operation.
    pub batch_max: usize,
    /// How often each node looks for reservations past their deadline. Default 1000 ms.
    pub sweep_interval_ms: u64,
    /// Give up connecting (at start, and per attempt while reconnecting) after this long. Default 10.
    pub connect_timeout_secs: u64,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            url: String::new(),
            pool_size: 8,
            batch_max: 32,
            sweep_interval_ms: 1000,
            connect_timeout_secs: 10,
        }
    }
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            dir: PathBuf::from("ledger"),
            segment_bytes: 64 << 20,
            batch_max_bytes: 1 << 20,
            batch_max_records: 8192,
            batch_linger_us: 0,
            batch_linger_records: 32,
            busy_poll_us: 0,
            snapshot_every_records: 1_000_000,
            snapshot_journal_percent: 200,
            snapshot_every_secs: 300,
            snapshots_kept: 2,
            snapshot_deltas: true,
            reservation_expiry_secs: 3600,
            expiry_policy: ExpiryPolicy::ReturnAll,
            idempotency_retention_secs: 3600,
            idempotency_max_closed_calls: 64,
            fsync: true,
            preallocate: true,
            direct_io: true,
            actor_mailbox: 256,
            actor_idle_secs: 60,
            backend: LedgerBackend::Embedded,
            postgres: PostgresConfig::default(),
        }
    }
}

impl LedgerConfig {
    /// The account-model rules this configuration implies.
    pub fn rules(&self) -> Rules {
        Rules {
            reservation_expiry_secs: self.reservation_expiry_secs,
            expiry_policy: self.expiry_policy,
            memo_retention_secs: self.idempotency_retention_secs,
            memo_max_closed_calls: self.idempotency_max_closed_calls,
        }
    }
}

/// Errors opening or recovering the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// An I/O error on a path.
    #[error("ledger I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A journal record that is not a torn tail does not read back.
    #[error("ledger journal corrupt in {} at byte offset {offset}: {reason}", file.display())]
    Corrupt {
        /// The segment file.
        file: PathBuf,
        /// Byte offset of the bad record.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// The journal does not reach back to the snapshot.
    #[error("ledger journal starts at sequence {first} but the newest usable snapshot covers only up to {snapshot}")]
    Gap {
        /// First sequence number in the journal.
        first: u64,
        /// Snapshot sequence number.
        snapshot: u64,
    },
    /// Another process holds the ledger directory.
    #[error("ledger directory {} is locked by another process", .0.display())]
    Locked(PathBuf),
    /// The ledger failed (write or fsync error) and accepts no more changes.
    #[error("ledger failed: {0}")]
    Failed(String),
}

/// Unix time now, in seconds, from the kernel's coarse clock (`CLOCK_REALTIME_COARSE`: updated
/// every tick, a few ms at most behind the precise clock). Every money operation reads it, and
/// the precise clock cost about 2.7 % of the arbiter's samples at 256 `bench-ledger` callers,
/// five times the coarse one's cost; whole seconds do not need it.
pub fn unix_now() -> UnixSecs {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
        return u64::try_from(ts.tv_sec).unwrap_or(0);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
