//! Append-only journal segments `journal-<first seq, 20 digits>.log` and their replay.
//!
//! Replay rules: records must carry consecutive sequence numbers across all segments. A bad or
//! incomplete record at the end of the *last* segment, with no good record after it, is a torn
//! write from a crash: it is truncated away and logged. Anything else that does not read back is
//! corruption and stops start-up with the file and byte offset.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::account::Event;
use super::record::{decode_event, read_record, ReadRecord};
use super::LedgerError;

/// File operations of the journal writer, behind a trait so tests can inject faults.
pub trait Storage: Send + Sync + 'static {
    /// Create a new, empty segment file for appending.
    fn create_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Open an existing segment for appending at its end.
    fn open_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Make the directory's entries (new files, renames) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// An open segment file.
pub trait SegmentFile: Send {
    /// Append some of `buf`; returns how much was written (may be short).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// `fdatasync`.
    fn sync_data(&mut self) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsStorage;

struct FsFile(File);

impl SegmentFile for FsFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl Storage for FsStorage {
    fn create_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(path)?;
        Ok(Box::new(FsFile(f)))
    }
    fn open_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = OpenOptions::new().append(true).open(path)?;
        Ok(Box::new(FsFile(f)))
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

/// A segment on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Sequence number of its first record (from the name).
    pub first_seq: u64,
    /// Its path.
    pub path: PathBuf,
}

/// The segments in `dir`, by first sequence number.
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
    /// Bytes of torn tail truncated, if any.
    pub truncated: Option<u64>,
    /// Records passed to the callback.
    pub replayed: u64,
}

fn corrupt(path: &Path, offset: usize, reason: &'static str) -> LedgerError {
    LedgerError::Corrupt {
        file: path.to_path_buf(),
        offset: offset as u64,
        reason,
    }
}

/// Whether any good record with a plausible sequence number starts somewhere in `buf[1..]`.
fn good_record_follows(buf: &[u8], expected: u64) -> bool {
    let horizon = expected.saturating_add(buf.len() as u64);
    (1..buf.len()).any(|off| match read_record(&buf[off..]) {
        ReadRecord::Ok { seq, .. } => seq >= expected && seq < horizon,
        _ => false,
    })
}

/// Read every segment in `dir` and pass each event with sequence number > `after_seq` to `f`.
/// Truncates a torn tail of the last segment.
pub fn replay(
    dir: &Path,
    after_seq: u64,
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
                    }
                    pos += total;
                    next += 1;
                }
                ReadRecord::Incomplete | ReadRecord::Bad => {
                    if !last || good_record_follows(&buf[pos..], next) {
                        return Err(corrupt(&seg.path, pos, "bad record"));
                    }
                    let torn = buf.len() - pos;
                    tracing::warn!(file = %seg.path.display(), offset = pos, bytes = torn, "truncating torn journal tail");
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
                    out.truncated = Some(torn as u64);
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

/// The writer's view of the journal: the open segment and rotation.
pub struct SegmentWriter {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    file: Option<Box<dyn SegmentFile>>,
    size: u64,
    segment_bytes: u64,
    fsync: bool,
    dir_dirty: bool,
}

impl SegmentWriter {
    /// Continue the journal after replay: append to the tail segment if it is the right one and
    /// not full, else start a new segment at `next_seq` on the first write.
    pub fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        tail: Option<(PathBuf, u64, u64)>,
        next_seq: u64,
        segment_bytes: u64,
        fsync: bool,
    ) -> io::Result<Self> {
        let mut w = SegmentWriter {
            storage,
            dir: dir.to_path_buf(),
            file: None,
            size: 0,
            segment_bytes,
            fsync,
            dir_dirty: false,
        };
        if let Some((path, len, expected)) = tail {
            if expected == next_seq && len < segment_bytes {
                w.file = Some(w.storage.open_segment(&path)?);
                w.size = len;
            }
        }
        Ok(w)
    }

    /// Append a batch of framed records whose first sequence number is `first_seq`, then make
    /// it durable (one `fdatasync`, plus a directory fsync after a new segment).
    pub fn write_batch(&mut self, first_seq: u64, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() || self.size >= self.segment_bytes {
            let path = segment_path(&self.dir, first_seq);
            self.file = Some(self.storage.create_segment(&path)?);
            self.size = 0;
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
        if self.fsync {
            file.sync_data()?;
            if self.dir_dirty {
                self.storage.sync_dir(&self.dir)?;
            }
        }
        self.dir_dirty = false;
        Ok(())
    }
}
