//! Journal segments `journal-<first seq, 20 digits>.log` and their replay.
//!
//! Records are written at increasing offsets of the open segment. With `ledger.preallocate` (and
//! fsync on) a background *preparer* keeps one spare segment ready in the directory,
//! `journal-spare.tmp`: `segment_bytes` of zeros written for real and fsynced. When the writer
//! starts a new segment it adopts the spare (rename to the segment's name, write from offset 0,
//! directory fsync after the first batch), so its `fdatasync`s overwrite allocated blocks and
//! never have to commit a new file size. Without a ready spare it creates a plain segment and
//! extends it as before; once a spare is ready it moves to it at the next batch.
//!
//! Replay rules: records must carry consecutive sequence numbers across all segments. A segment's
//! records end where the rest of the file is zeros (unused preallocated space), in any segment.
//! A bad or incomplete record at the end of the *last* segment, with no good record after it, is
//! a torn write from a crash: it is truncated away and logged. So is a hole of zeros in the last
//! segment's last batch (pages of an unsynced batch reaching the disk out of order in a power
//! loss; see [`replay`]). Anything else that does not read back is corruption and stops start-up
//! with the file and byte offset.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::account::Event;
use super::disk::{write_zeros, FsFile};
use super::record::{decode_event, read_record, ReadRecord};
use super::LedgerError;

/// File name of the spare (preallocated, not yet adopted) segment. Not a segment: replay and
/// pruning ignore it, and start-up removes a leftover one (it may be half-filled after a crash).
pub const SPARE_FILE: &str = "journal-spare.tmp";

/// Zeros are written into a spare in chunks of this size (through the page cache)…
const SPARE_CHUNK: usize = 1 << 20;
/// … or of this size with direct I/O, where each chunk is one request on the device and a
/// journal write that arrives meanwhile waits behind it.
const SPARE_DIRECT_CHUNK: usize = 128 << 10;
/// … with an `fdatasync` after every this many bytes, so the preparer never has a large burst of
/// dirty pages (with direct I/O: of blocks in the device's cache) in front of the writer's
/// `fdatasync`.
const SPARE_SYNC_EVERY: u64 = 8 << 20;

/// File operations of the journal writer, behind a trait so tests can inject faults.
pub trait Storage: Send + Sync + 'static {
    /// Create a new, empty segment file; writes start at offset 0 and extend it.
    fn create_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Open an existing segment for writing at byte offset `at` (its good length: everything
    /// after it is zeros or nothing).
    fn open_segment(&self, path: &Path, at: u64) -> io::Result<Box<dyn SegmentFile>>;
    /// Create (or replace) `path` holding `bytes` zero bytes, written for real (not a hole, not
    /// `fallocate`: unwritten extents would still need a metadata change on first write) and
    /// fsynced. Gives up with an error as soon as `cancel` is set.
    fn prepare_spare(&self, path: &Path, bytes: u64, cancel: &AtomicBool) -> io::Result<()>;
    /// Rename the prepared spare to the segment `path` and open it for writing at offset 0.
    /// Refuses to replace an existing non-empty file. The caller fsyncs the directory.
    fn adopt_segment(&self, spare: &Path, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Make the directory's entries (new files, renames) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// An open segment file with a write position.
pub trait SegmentFile: Send {
    /// Write some of `buf` at the current position (positional write, not append) and advance
    /// the position by what was written; returns how much that was (may be short).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// `fdatasync`.
    fn sync_data(&mut self) -> io::Result<()>;
}

/// The real file system. With `direct_io`, the spare's zeros and the segments adopted from a
/// spare (and reopened ones) are written with direct I/O (`FsFile`, `write_zeros`);
/// plain, extending segments through the page cache.
#[derive(Debug, Clone, Copy)]
pub struct FsStorage {
    /// Write preallocated segments with `O_DIRECT` (`ledger.direct_io`).
    pub direct_io: bool,
}

impl Default for FsStorage {
    fn default() -> Self {
        FsStorage { direct_io: true }
    }
}

impl Storage for FsStorage {
    fn create_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(FsFile::create(path)?))
    }
    fn open_segment(&self, path: &Path, at: u64) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(FsFile::open(path, at, self.direct_io)?))
    }
    fn prepare_spare(&self, path: &Path, bytes: u64, cancel: &AtomicBool) -> io::Result<()> {
        let chunk = match self.direct_io {
            true => SPARE_DIRECT_CHUNK,
            false => SPARE_CHUNK,
        };
        write_zeros(path, bytes, self.direct_io, chunk, SPARE_SYNC_EVERY, cancel)
    }
    fn adopt_segment(&self, spare: &Path, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        match fs::metadata(path) {
            Ok(md) if md.len() > 0 => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not empty", path.display()),
                ))
            }
            _ => {}
        }
        // Open first: if the rename then fails, nothing has changed.
        let file = FsFile::open(spare, 0, self.direct_io)?;
        fs::rename(spare, path)?;
        Ok(Box::new(file))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }
}

/// fsync a directory.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The path of the segment whose first record is `first_seq`.
pub fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("journal-{first_seq:020}.log"))
}

/// The path of the spare segment in `dir`.
pub fn spare_path(dir: &Path) -> PathBuf {
    dir.join(SPARE_FILE)
}

/// A segment on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Sequence number of its first record (from the name).
    pub first_seq: u64,
    /// Its path.
    pub path: PathBuf,
}

/// The segments in `dir`, by first sequence number (the spare is not one).
pub fn list_segments(dir: &Path) -> io::Result<Vec<SegmentInfo>> {
    let mut v = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(num) = name
            .strip_prefix("journal-")
            .and_then(|s| s.strip_suffix(".log"))
        {
            if let Ok(first_seq) = num.parse::<u64>() {
                v.push(SegmentInfo {
                    first_seq,
                    path: entry.path(),
                });
            }
        }
    }
    v.sort_by_key(|s| s.first_seq);
    Ok(v)
}

/// What replay found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOutcome {
    /// Highest sequence number in the journal (or `after_seq` if higher / journal empty).
    pub last_seq: u64,
    /// The last segment, its good length and the sequence number its next record must carry.
    pub tail: Option<(PathBuf, u64, u64)>,
    /// Bytes of torn tail truncated (including preallocated zeros cut with it), if any.
    pub truncated: Option<u64>,
    /// Records passed to the callback.
    pub replayed: u64,
    /// Their bytes in the journal.
    pub replayed_bytes: u64,
}

fn corrupt(path: &Path, offset: usize, reason: &'static str) -> LedgerError {
    LedgerError::Corrupt {
        file: path.to_path_buf(),
        offset: offset as u64,
        reason,
    }
}

/// Offset of the first good record with a plausible sequence number starting in
/// `buf[1..scan_end]` (no record starts in the all-zero rest: its sequence number is ≥ 1).
fn first_good_record(buf: &[u8], scan_end: usize, expected: u64) -> Option<usize> {
    let horizon = expected.saturating_add(buf.len() as u64);
    (1..scan_end.min(buf.len())).find(|&off| match read_record(&buf[off..]) {
        ReadRecord::Ok { seq, .. } => seq >= expected && seq < horizon,
        _ => false,
    })
}

/// Disk sector: the smallest unit a power loss leaves either written or not.
const SECTOR: usize = 512;

/// Whether the bad region of the last segment from `pos` (a good record follows at `good`, the
/// last non-zero byte is before `data_end`) looks like the last batch with some of its sectors
/// never written: all of it lies within one batch (`max_batch` bytes) of `pos`, and before the
/// next good record there is a sector (from `pos` on) that is all zeros — the preallocated
/// content of a sector the crash kept from the disk. A flipped bit or a garbled record does not
/// zero a sector, so those remain corruption.
fn lost_sectors_of_last_batch(
    buf: &[u8],
    pos: usize,
    good: usize,
    data_end: usize,
    max_batch: u64,
) -> bool {
    if (data_end - pos) as u64 > max_batch {
        return false;
    }
    let mut b = (pos / SECTOR + 1) * SECTOR;
    while b <= good {
        let from = (b - SECTOR).max(pos);
        if buf[from..b].iter().all(|&x| x == 0) {
            return true;
        }
        b += SECTOR;
    }
    false
}

/// Read every segment in `dir` and pass each event with sequence number > `after_seq` to `f`.
/// Truncates a torn tail of the last segment.
///
/// `max_batch` is the most bytes one group commit writes. Only the last batch can be unsynced
/// at a crash; writing into preallocated zeros, a power loss can put some of its pages on disk
/// and not others, leaving a hole of zeros with good records after it. Such a hole in the last
/// segment within `max_batch` of the end of its data is a torn tail too (no record after it was
/// acknowledged); further back, or in another segment, it is corruption.
pub fn replay(
    dir: &Path,
    after_seq: u64,
    max_batch: u64,
    mut f: impl FnMut(u64, Event),
) -> Result<ReplayOutcome, LedgerError> {
    let io_err = |source| LedgerError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let segs = list_segments(dir).map_err(io_err)?;
    let mut out = ReplayOutcome {
        last_seq: after_seq,
        tail: None,
        truncated: None,
        replayed: 0,
        replayed_bytes: 0,
    };
    let Some(first) = segs.first() else {
        return Ok(out);
    };
    if first.first_seq > after_seq + 1 {
        return Err(LedgerError::Gap {
            first: first.first_seq,
            snapshot: after_seq,
        });
    }
    let mut expected: Option<u64> = None;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if let Some(e) = expected {
            if seg.first_seq != e {
                return Err(corrupt(
                    &seg.path,
                    0,
                    "segment does not continue the sequence",
                ));
            }
        }
        if !last && segs[i + 1].first_seq.saturating_sub(1) <= after_seq {
            // Fully covered by the snapshot; its successor's name carries the sequence on.
            expected = None;
            continue;
        }
        let buf = fs::read(&seg.path).map_err(|source| LedgerError::Io {
            path: seg.path.clone(),
            source,
        })?;
        let mut pos = 0usize;
        let mut next = seg.first_seq;
        while pos < buf.len() {
            match read_record(&buf[pos..]) {
                ReadRecord::Ok {
                    seq,
                    payload,
                    total,
                } => {
                    if seq != next {
                        return Err(corrupt(&seg.path, pos, "unexpected sequence number"));
                    }
                    let ev = decode_event(payload)
                        .map_err(|_| corrupt(&seg.path, pos, "undecodable event"))?;
                    if seq > after_seq {
                        f(seq, ev);
                        out.replayed += 1;
                        out.replayed_bytes += total as u64;
                    }
                    pos += total;
                    next += 1;
                }
                ReadRecord::Incomplete | ReadRecord::Bad => {
                    let Some(nz) = buf[pos..].iter().rposition(|&b| b != 0) else {
                        // Only zeros from here: unused preallocated space ends the records.
                        break;
                    };
                    let data_end = pos + nz + 1;
                    let torn = last
                        && match first_good_record(&buf[pos..], data_end - pos, next) {
                            None => true,
                            Some(good) => lost_sectors_of_last_batch(
                                &buf,
                                pos,
                                pos + good,
                                data_end,
                                max_batch,
                            ),
                        };
                    if !torn {
                        return Err(corrupt(&seg.path, pos, "bad record"));
                    }
                    let cut = buf.len() - pos;
                    tracing::warn!(file = %seg.path.display(), offset = pos, torn_bytes = data_end - pos, file_bytes_cut = cut, "truncating torn journal tail");
                    ::metrics::counter!(crate::metrics::LEDGER_TORN_TAILS).increment(1);
                    let file =
                        OpenOptions::new()
                            .write(true)
                            .open(&seg.path)
                            .map_err(|source| LedgerError::Io {
                                path: seg.path.clone(),
                                source,
                            })?;
                    file.set_len(pos as u64)
                        .and_then(|_| file.sync_all())
                        .map_err(|source| LedgerError::Io {
                            path: seg.path.clone(),
                            source,
                        })?;
                    out.truncated = Some(cut as u64);
                    break;
                }
            }
        }
        expected = Some(next);
        out.last_seq = out.last_seq.max(next - 1);
        if last {
            out.tail = Some((seg.path.clone(), pos as u64, next));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpareState {
    /// The preparer should make a spare (or is making one).
    Wanted,
    /// A spare is on disk, zero-filled and synced.
    Ready,
}

/// Shared by the writer and its preparer thread.
struct SpareShared {
    state: Mutex<SpareState>,
    cv: Condvar,
    /// Mirrors `state == Ready`, for the writer's per-batch check without the lock.
    ready: AtomicBool,
    stop: AtomicBool,
}

/// The preparer thread and the spare it keeps.
struct Preparer {
    shared: Arc<SpareShared>,
    path: PathBuf,
    bytes: u64,
    thread: Option<JoinHandle<()>>,
}

/// Whether the writer has a preallocated spare segment ready (for tests and diagnostics).
#[derive(Clone, Default)]
pub struct SpareStatus(Option<Arc<SpareShared>>);

impl SpareStatus {
    /// A spare is ready for the next segment.
    pub fn ready(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|s| s.ready.load(Ordering::Acquire))
    }
}

fn preparer_loop(storage: Arc<dyn Storage>, path: PathBuf, bytes: u64, sh: Arc<SpareShared>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        {
            let mut st = sh.state.lock();
            while *st == SpareState::Ready && !sh.stop.load(Ordering::Acquire) {
                sh.cv.wait(&mut st);
            }
        }
        if sh.stop.load(Ordering::Acquire) {
            break;
        }
        let started = Instant::now();
        match storage.prepare_spare(&path, bytes, &sh.stop) {
            Ok(()) => {
                tracing::debug!(file = %path.display(), bytes, elapsed_ms = started.elapsed().as_millis() as u64, "preallocated journal segment ready");
                *sh.state.lock() = SpareState::Ready;
                sh.ready.store(true, Ordering::Release);
                backoff = Duration::from_secs(1);
            }
            Err(_) if sh.stop.load(Ordering::Acquire) => break,
            Err(e) => {
                // Not a ledger failure: the writer keeps appending to plain segments.
                ::metrics::counter!(crate::metrics::LEDGER_PREALLOCATION_FAILURES).increment(1);
                tracing::warn!(file = %path.display(), error = %e, retry_in_secs = backoff.as_secs(), "could not preallocate a journal segment; appending to plain segments meanwhile");
                let _ = fs::remove_file(&path);
                let mut st = sh.state.lock();
                if !sh.stop.load(Ordering::Acquire) {
                    sh.cv.wait_for(&mut st, backoff);
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
    // A spare left behind would be removed at the next start anyway.
    let _ = fs::remove_file(&path);
}

/// The writer's view of the journal: the open segment, rotation, and the spare.
pub struct SegmentWriter {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    file: Option<Box<dyn SegmentFile>>,
    /// Bytes of records in the open segment: the offset the next batch is written at.
    size: u64,
    /// Length of the open segment's file (preallocated zeros included); writes below it
    /// overwrite, writes beyond it extend the file.
    capacity: u64,
    segment_bytes: u64,
    fsync: bool,
    dir_dirty: bool,
    preparer: Option<Preparer>,
}

impl SegmentWriter {
    /// Continue the journal after replay: write on in the tail segment (at its good length) if
    /// it is the right one and not full, else start a new segment at `next_seq` on the first
    /// write. Removes a leftover spare; with `preallocate` and `fsync` starts the preparer.
    pub fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        tail: Option<(PathBuf, u64, u64)>,
        next_seq: u64,
        segment_bytes: u64,
        fsync: bool,
        preallocate: bool,
    ) -> io::Result<Self> {
        let spare = spare_path(dir);
        match fs::remove_file(&spare) {
            Ok(()) => {
                tracing::info!(file = %spare.display(), "removed a leftover spare journal segment")
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut w = SegmentWriter {
            storage,
            dir: dir.to_path_buf(),
            file: None,
            size: 0,
            capacity: 0,
            segment_bytes,
            fsync,
            dir_dirty: false,
            preparer: None,
        };
        if let Some((path, len, expected)) = tail {
            if expected == next_seq && len < segment_bytes {
                let physical = fs::metadata(&path)?.len();
                w.file = Some(w.storage.open_segment(&path, len)?);
                w.size = len;
                w.capacity = physical.max(len);
            }
        }
        if preallocate && fsync && segment_bytes > 0 {
            let shared = Arc::new(SpareShared {
                state: Mutex::new(SpareState::Wanted),
                cv: Condvar::new(),
                ready: AtomicBool::new(false),
                stop: AtomicBool::new(false),
            });
            let (st, p, sh) = (w.storage.clone(), spare.clone(), shared.clone());
            let thread = std::thread::Builder::new()
                .name("ledger-prealloc".into())
                .spawn(move || preparer_loop(st, p, segment_bytes, sh))?;
            w.preparer = Some(Preparer {
                shared,
                path: spare,
                bytes: segment_bytes,
                thread: Some(thread),
            });
        }
        Ok(w)
    }

    /// Whether a spare is ready (always false without preallocation).
    pub fn spare_status(&self) -> SpareStatus {
        SpareStatus(self.preparer.as_ref().map(|p| p.shared.clone()))
    }

    /// Take the ready spare as the segment `path`; `None` if there is none (or adopting it
    /// failed, which is logged: the caller goes on without it).
    fn adopt_spare(&mut self, path: &Path) -> Option<(Box<dyn SegmentFile>, u64)> {
        let p = self.preparer.as_ref()?;
        if !p.shared.ready.load(Ordering::Acquire) {
            return None;
        }
        let mut st = p.shared.state.lock();
        if *st != SpareState::Ready {
            return None;
        }
        let r = self.storage.adopt_segment(&p.path, path);
        *st = SpareState::Wanted;
        p.shared.ready.store(false, Ordering::Release);
        drop(st);
        p.shared.cv.notify_all();
        match r {
            Ok(f) => Some((f, p.bytes)),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "could not adopt the preallocated journal segment; using a plain one");
                None
            }
        }
    }

    /// Write a batch of framed records whose first sequence number is `first_seq`, then make
    /// it durable (one `fdatasync`, plus a directory fsync after a new segment). Returns how
    /// many bytes the journal's files grew by (a preallocated segment counts in full when it is
    /// adopted, writes into it add nothing).
    pub fn write_batch(&mut self, first_seq: u64, bytes: &[u8]) -> io::Result<u64> {
        let len = bytes.len() as u64;
        let mut grown = 0;
        let fits = self.file.is_some() && self.size + len <= self.capacity;
        let full = self.file.is_none() || self.size >= self.segment_bytes;
        let mut rotated = false;
        if !fits || full {
            // A new segment or an extending write: move to the spare if one is ready. An empty
            // open segment has this batch's name and is replaced.
            let path = segment_path(&self.dir, first_seq);
            if let Some((f, cap)) = self.adopt_spare(&path) {
                self.file = Some(f);
                self.size = 0;
                self.capacity = cap;
                self.dir_dirty = true;
                grown += cap;
                rotated = true;
            }
        }
        if full && !rotated {
            let path = segment_path(&self.dir, first_seq);
            self.file = Some(self.storage.create_segment(&path)?);
            self.size = 0;
            self.capacity = 0;
            self.dir_dirty = true;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("no open segment"));
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            match file.write(rest) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "segment write returned 0",
                    ))
                }
                Ok(n) => {
                    rest = &rest[n..];
                    self.size += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.size > self.capacity {
            grown += self.size - self.capacity;
            self.capacity = self.size;
        }
        if self.fsync {
            file.sync_data()?;
            if self.dir_dirty {
                self.storage.sync_dir(&self.dir)?;
            }
        }
        self.dir_dirty = false;
        Ok(grown)
    }
}

impl Drop for SegmentWriter {
    fn drop(&mut self) {
        if let Some(p) = self.preparer.as_mut() {
            p.shared.stop.store(true, Ordering::Release);
            drop(p.shared.state.lock());
            p.shared.cv.notify_all();
            if let Some(t) = p.thread.take() {
                let _ = t.join();
            }
        }
    }
}
