//! The journal's files on the real file system — segments and the spare — written through the
//! page cache or with direct I/O. (Snapshots stay in the page cache: written with direct I/O
//! as they are built, their blocks sat in the device's cache ahead of every journal flush, and
//! the ledger benchmark's p99 grew by a third; see docs/performance-history.md, ledger.)
//!
//! Direct I/O (`O_DIRECT`) writes whole [`BLOCK`]s from aligned memory at aligned offsets. A
//! batch rarely ends on a block boundary, so the file keeps the bytes of the block that holds
//! the write position and rewrites that block, with the next batch after them and zeros after
//! that, at the next write. The rewritten part is byte for byte what the disk already holds,
//! so a crash during the write leaves the earlier records as they were; the zeros land on the
//! preallocated zeros (or on nothing) past the write position, where replay expects zeros.
//!
//! What it saves: a buffered write copies the batch into the page cache and `fdatasync` then
//! finds, submits and waits for the dirty pages before it flushes the device cache; a direct
//! write submits the blocks itself, and `fdatasync` is left with the flush. On this project's
//! VMs that is about a fifth of the CPU a commit costs (see docs/performance-history.md, ledger).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::journal::SegmentFile;

/// Direct writes are whole blocks of this size from memory aligned to it: the largest logical
/// block size of common devices (512-byte-sector devices accept it too).
pub(super) const BLOCK: usize = 4096;

/// An open segment file with its write position.
pub(super) struct FsFile {
    file: File,
    pos: u64,
    /// `Some` while the file is written with direct I/O.
    direct: Option<Direct>,
}

/// Direct-I/O state: the bytes of the block holding the write position, before it.
struct Direct {
    tail: Vec<u8>,
    buf: AlignedBuf,
}

impl FsFile {
    /// Open `path` for writing at `pos`, with direct I/O if `direct` and the file system takes
    /// it (else through the page cache, logged).
    pub(super) fn open(path: &Path, pos: u64, direct: bool) -> io::Result<Self> {
        let open = |flags: i32| {
            OpenOptions::new()
                .write(true)
                .custom_flags(flags)
                .open(path)
        };
        let (file, direct) = open_maybe_direct(open, direct)?;
        let direct = match direct {
            // The bytes already in the block of `pos` (read through another descriptor: reads
            // of a direct one would need aligned buffers too).
            true => {
                let start = pos - pos % BLOCK as u64;
                let mut tail = vec![0u8; (pos - start) as usize];
                File::open(path)?.read_exact_at(&mut tail, start)?;
                Some(Direct {
                    tail,
                    buf: AlignedBuf::default(),
                })
            }
            false => None,
        };
        Ok(FsFile { file, pos, direct })
    }

    /// Create a new, empty file written through the page cache.
    pub(super) fn create(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create_new(true).write(true).open(path)?;
        Ok(FsFile {
            file,
            pos: 0,
            direct: None,
        })
    }

    /// Whether writes go with direct I/O.
    #[cfg(test)]
    fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    fn write_buffered(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl SegmentFile for FsFile {
    /// With direct I/O, the block holding the position and `buf` after it, padded with zeros
    /// to whole blocks; else `buf` through the page cache.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(d) = self.direct.as_mut() else {
            return self.write_buffered(buf);
        };
        let tail = d.tail.len();
        let start = self.pos - tail as u64;
        let total = tail + buf.len();
        let region = d.buf.region(total.div_ceil(BLOCK) * BLOCK);
        region[..tail].copy_from_slice(&d.tail);
        region[tail..total].copy_from_slice(buf);
        region[total..].fill(0);
        let written = loop {
            match self.file.write_at(region, start) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        match written {
            Ok(n) => {
                // Of `buf`, what reached the file (a short write may stop anywhere).
                let used = n.min(total).saturating_sub(tail);
                let end = tail + used;
                let keep = (self.pos + used as u64) as usize % BLOCK;
                d.tail.clear();
                d.tail.extend_from_slice(&region[end - keep..end]);
                self.pos += used as u64;
                Ok(used)
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                // Accepted at open, refused at write (e.g. a device with larger blocks): go on
                // through the page cache, which holds nothing of this file's direct writes.
                tracing::warn!(error = %e, "direct journal write refused; writing through the page cache");
                self.direct = None;
                // SAFETY: fcntl on a descriptor this File owns; no memory is passed.
                let fd = self.file.as_raw_fd();
                let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
                if flags < 0
                    || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0
                {
                    return Err(io::Error::last_os_error());
                }
                self.write_buffered(buf)
            }
            Err(e) => Err(e),
        }
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Create (or replace) `path` holding at least `bytes` zero bytes, written for real in `chunk`s
/// with an `fdatasync` every `sync_every` bytes and fsynced at the end; with `direct`, written
/// with direct I/O (rounded up to whole blocks), so the zeros neither pass through the page
/// cache nor leave it holding them, and no kernel writeback thread copies them later.
/// Gives up with `Interrupted` as soon as `cancel` is set.
pub(super) fn write_zeros(
    path: &Path,
    bytes: u64,
    direct: bool,
    chunk: usize,
    sync_every: u64,
    cancel: &AtomicBool,
) -> io::Result<()> {
    let (file, direct) = open_maybe_direct(|flags| create(path, flags), direct)?;
    let (bytes, chunk) = match direct {
        true => (
            bytes.div_ceil(BLOCK as u64) * BLOCK as u64,
            chunk.div_ceil(BLOCK).max(1) * BLOCK,
        ),
        false => (bytes, chunk.max(1)),
    };
    let mut buf = AlignedBuf::default();
    let zeros = buf.region(chunk);
    zeros.fill(0);
    let (mut done, mut unsynced) = (0u64, 0u64);
    while done < bytes {
        if cancel.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
        }
        let n = (bytes - done).min(chunk as u64) as usize;
        file.write_all_at(&zeros[..n], done)?;
        done += n as u64;
        unsynced += n as u64;
        if unsynced >= sync_every {
            file.sync_data()?;
            unsynced = 0;
        }
    }
    file.sync_all()
}

/// Create (or truncate) `path` for writing, with `flags` (`O_DIRECT` or 0).
fn create(path: &Path, flags: i32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(flags)
        .open(path)
}

/// Open with `O_DIRECT` through `open` if `direct`, falling back to the page cache where the
/// file system refuses it (logged); returns the file and whether it is direct.
fn open_maybe_direct(
    open: impl Fn(i32) -> io::Result<File>,
    direct: bool,
) -> io::Result<(File, bool)> {
    if direct {
        match open(libc::O_DIRECT) {
            Ok(f) => return Ok((f, true)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                tracing::warn!("the file system refuses direct I/O; writing the ledger's files through the page cache");
            }
            Err(e) => return Err(e),
        }
    }
    Ok((open(0)?, false))
}

/// A growable buffer whose used part starts at a [`BLOCK`]-aligned address.
#[derive(Default)]
struct AlignedBuf {
    raw: Vec<u8>,
}

impl AlignedBuf {
    /// `len` bytes at an aligned address (holding whatever was written there last).
    fn region(&mut self, len: usize) -> &mut [u8] {
        if self.raw.len() < len + BLOCK {
            self.raw = vec![0; (len + BLOCK).next_power_of_two()];
        }
        let off = (BLOCK - self.raw.as_ptr() as usize % BLOCK) % BLOCK;
        &mut self.raw[off..off + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes of every size at every block offset leave the file holding exactly the bytes
    /// written and zeros after them, within the preallocated zeros and past them (a segment
    /// that outgrows its preallocation while no spare is ready).
    #[test]
    fn direct_writes_leave_exactly_the_bytes_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        std::fs::write(&path, vec![0u8; 16 * 1024]).unwrap();
        let mut f = FsFile::open(&path, 0, true).unwrap();
        assert!(
            f.is_direct(),
            "the temporary directory's file system refuses O_DIRECT; point TMPDIR at a disk"
        );
        let mut expect = Vec::new();
        let mut x = 7u8;
        for len in [1usize, 100, 4095, 1, 4096, 5000, 3, 8192, 777, 12000] {
            let chunk: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(31).wrapping_add(1) | 1;
                    x
                })
                .collect();
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let n = f.write(rest).unwrap();
                assert!(n > 0);
                rest = &rest[n..];
            }
            expect.extend_from_slice(&chunk);
            f.sync_data().unwrap();
            let on_disk = std::fs::read(&path).unwrap();
            assert_eq!(&on_disk[..expect.len()], &expect[..]);
            assert!(on_disk[expect.len()..].iter().all(|&b| b == 0));
        }
        // Reopened mid-block, it picks up the block's bytes and goes on after them.
        drop(f);
        let mut f = FsFile::open(&path, expect.len() as u64, true).unwrap();
        f.write(b"after reopening").unwrap();
        expect.extend_from_slice(b"after reopening");
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[..expect.len()], &expect[..]);
        assert!(on_disk[expect.len()..].iter().all(|&b| b == 0));
    }

    /// A file system that refuses `O_DIRECT` at open (EINVAL) gets the file through the page
    /// cache; any other error is passed on, and nothing is retried without being asked.
    #[test]
    fn a_refused_direct_open_falls_back_to_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let asked = std::cell::RefCell::new(Vec::new());
        let refusing = |flags: i32| {
            asked.borrow_mut().push(flags);
            if flags & libc::O_DIRECT != 0 {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            create(&path, flags)
        };
        let (f, direct) = open_maybe_direct(refusing, true).unwrap();
        assert!(!direct);
        assert_eq!(*asked.borrow(), vec![libc::O_DIRECT, 0]);
        f.write_all_at(b"buffered", 0).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"buffered");
        let other =
            |_: i32| -> io::Result<File> { Err(io::Error::from_raw_os_error(libc::EACCES)) };
        let e = open_maybe_direct(other, true).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EACCES));
        asked.borrow_mut().clear();
        let (_, direct) = open_maybe_direct(refusing, false).unwrap();
        assert!(!direct);
        assert_eq!(*asked.borrow(), vec![0]);
    }

    /// A direct write the kernel refuses (EINVAL: here a misaligned offset, as a device with
    /// blocks larger than [`BLOCK`] would refuse every write) switches the file to the page
    /// cache for good: the same bytes are written there, at the same position, and the
    /// descriptor no longer has `O_DIRECT`.
    #[test]
    fn a_refused_direct_write_goes_on_through_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        std::fs::write(&path, vec![0u8; 8192]).unwrap();
        let f = FsFile::open(&path, 0, true).unwrap();
        assert!(
            f.is_direct(),
            "the temporary directory's file system refuses O_DIRECT; point TMPDIR at a disk"
        );
        // Position 100 with no tail bytes kept: the direct write would start at offset 100.
        let mut f = FsFile { pos: 100, ..f };
        assert_eq!(f.write(b"first").unwrap(), 5);
        assert!(!f.is_direct());
        // SAFETY: fcntl on a descriptor the File owns; no memory is passed.
        let flags = unsafe { libc::fcntl(f.file.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_DIRECT, 0);
        assert_eq!(f.write(b" second").unwrap(), 7);
        f.sync_data().unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[100..112], b"first second");
        assert!(on_disk[..100].iter().all(|&b| b == 0));
        assert!(on_disk[112..].iter().all(|&b| b == 0));
        assert_eq!(on_disk.len(), 8192);
    }

    /// A spare is all zeros, at least as long as asked (whole blocks with direct I/O), and
    /// replaces whatever the file held.
    #[test]
    fn zeros_are_written_for_real_and_replace_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spare");
        let no = AtomicBool::new(false);
        for (direct, bytes, len) in [(true, 10_000u64, 12_288u64), (false, 10_000, 10_000)] {
            std::fs::write(&path, vec![7u8; 20_000]).unwrap();
            write_zeros(&path, bytes, direct, 3000, 5000, &no).unwrap();
            let on_disk = std::fs::read(&path).unwrap();
            assert_eq!(on_disk.len() as u64, len);
            assert!(on_disk.iter().all(|&b| b == 0));
        }
        let stop = AtomicBool::new(true);
        let e = write_zeros(&path, 10_000, true, 4096, 4096, &stop).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted);
    }
}
