//! The CDR file: one JSON line per call attempt, written by a background thread so no call
//! actor ever blocks on disk, rotated by size (`cdr.jsonl` → `cdr-<unix time>-<n>.jsonl`).
//! Every line reaches the file within about 200 ms (plus the 5 ms lines gather for) and on
//! shutdown.
//!
//! The file is not fsynced (a CDR is not money: the ledger's journal is the record of what was
//! charged), but its writeback is started every [`WRITEBACK_EVERY`] bytes. Left to the kernel,
//! dirty CDR pages went to disk in bursts of tens of megabytes once they were 30 s old, and
//! the ledger's `fdatasync` (a device cache flush) waited behind each burst.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A record the writer thread turns into one JSON line.
pub trait Record: Send {
    /// Append the record as JSON (no newline).
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl Record for crate::service::Cdr {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        crate::service::Cdr::write_json(self, out);
        Ok(())
    }
}

impl Record for serde_json::Value {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

enum Cmd {
    /// Serialised on the writer thread, not on the arbiter that ends the call.
    Record(Box<dyn Record>),
    Flush(mpsc::Sender<()>),
}

/// Handle to the CDR writer thread. Cloning is cheap; the thread ends when every handle is
/// dropped, after writing everything queued.
#[derive(Clone)]
pub struct CdrSink {
    tx: Option<mpsc::Sender<Cmd>>,
}

impl CdrSink {
    /// A sink that writes nothing (CDRs disabled).
    pub fn disabled() -> Self {
        CdrSink { tx: None }
    }

    /// Start the writer thread for `<dir>/cdr.jsonl`.
    pub fn start(dir: &Path, rotate_bytes: u64) -> io::Result<CdrSink> {
        std::fs::create_dir_all(dir)?;
        let mut w = Writer::open(dir.to_owned(), rotate_bytes)?;
        let (tx, rx) = mpsc::channel::<Cmd>();
        thread::Builder::new()
            .name("cdr-writer".into())
            .spawn(move || {
                let mut flushed = Instant::now();
                loop {
                    let first = match rx.recv_timeout(FLUSH_EVERY) {
                        Ok(cmd) => cmd,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            w.flush();
                            flushed = Instant::now();
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            w.flush();
                            return;
                        }
                    };
                    if w.run(first) {
                        // Let lines gather: while this thread is not waiting in `recv`, senders
                        // queue without waking it, so under load it wakes ~200 times a second,
                        // not once per call.
                        thread::sleep(GATHER);
                    }
                    while let Ok(cmd) = rx.try_recv() {
                        w.run(cmd);
                    }
                    if flushed.elapsed() >= FLUSH_EVERY {
                        w.flush();
                        flushed = Instant::now();
                    }
                }
            })?;
        Ok(CdrSink { tx: Some(tx) })
    }

    /// Queue one record; the writer thread serialises it.
    pub fn write(&self, record: Box<dyn Record>) {
        if let Some(tx) = &self.tx {
            if tx.send(Cmd::Record(record)).is_ok() {
                crate::metrics::count!(crate::metrics::CDRS_WRITTEN, [], 1);
            }
        }
    }

    /// Wait until everything queued so far is written and flushed.
    pub fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (done_tx, done_rx) = mpsc::channel();
            if tx.send(Cmd::Flush(done_tx)).is_ok() {
                let _ = done_rx.recv_timeout(Duration::from_secs(10));
            }
        }
    }
}

/// Lines reach the file at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// How long the writer lets CDR lines gather after waking for one.
const GATHER: Duration = Duration::from_millis(5);

/// Start writeback of the file's new bytes each time this many have been written (the
/// `BufWriter`'s size: each write that reaches the file goes to the disk in one small piece).
const WRITEBACK_EVERY: u64 = 64 * 1024;

struct Writer {
    dir: PathBuf,
    rotate_bytes: u64,
    file: BufWriter<File>,
    written: u64,
    /// Where the last writeback started (offsets in the current file).
    written_back: u64,
    rotations: u64,
    failed: bool,
    /// The line being serialised (reused).
    line: Vec<u8>,
}

impl Writer {
    fn open(dir: PathBuf, rotate_bytes: u64) -> io::Result<Writer> {
        let path = dir.join("cdr.jsonl");
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let written = file.metadata()?.len();
        Ok(Writer {
            dir,
            rotate_bytes,
            file: BufWriter::with_capacity(64 * 1024, file),
            written,
            written_back: written,
            rotations: 0,
            failed: false,
            line: Vec::with_capacity(1024),
        })
    }

    /// Carry out one command; `true` if it was a record (more are likely to follow).
    fn run(&mut self, cmd: Cmd) -> bool {
        match cmd {
            Cmd::Record(r) => {
                self.line.clear();
                match r.write_json(&mut self.line) {
                    Ok(()) => {
                        self.line.push(b'\n');
                        self.write_line();
                    }
                    Err(e) => tracing::error!(error = %e, "CDR not serialisable"),
                }
                true
            }
            Cmd::Flush(done) => {
                self.flush();
                let _ = done.send(());
                false
            }
        }
    }

    /// Write `self.line` (one JSON line with its newline).
    fn write_line(&mut self) {
        match self.file.write_all(&self.line) {
            Ok(()) => self.written += self.line.len() as u64,
            Err(e) => self.fail(e),
        }
        if self.written - self.written_back >= WRITEBACK_EVERY {
            self.write_back();
        }
        if self.written >= self.rotate_bytes {
            if let Err(e) = self.rotate() {
                self.fail(e);
            }
        }
    }

    fn fail(&mut self, e: io::Error) {
        if !self.failed {
            tracing::error!(error = %e, dir = %self.dir.display(), "CDR write failed");
            self.failed = true;
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.file.flush() {
            self.fail(e);
        }
    }

    /// Hand what has been written since the last call to the kernel and start its writeback
    /// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`: asynchronous, no flush, nothing waited for).
    fn write_back(&mut self) {
        use std::os::fd::AsRawFd;
        self.flush();
        let (from, len) = (self.written_back, self.written - self.written_back);
        // SAFETY: a plain syscall on an open descriptor; no memory is passed.
        let r = unsafe {
            libc::sync_file_range(
                self.file.get_ref().as_raw_fd(),
                from as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
        if r != 0 {
            // Only a hint to the kernel: the data is written either way.
            tracing::debug!(error = %io::Error::last_os_error(), "CDR writeback not started");
        }
        self.written_back = self.written;
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.rotations += 1;
        let to = self
            .dir
            .join(format!("cdr-{secs}-{}.jsonl", self.rotations));
        std::fs::rename(self.dir.join("cdr.jsonl"), to)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("cdr.jsonl"))?;
        self.file = BufWriter::with_capacity(64 * 1024, file);
        self.written = 0;
        self.written_back = 0;
        Ok(())
    }
}

/// Read every CDR line in `dir` (rotated files and the current one) as JSON values.
pub fn read_all(dir: &Path) -> io::Result<Vec<serde_json::Value>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cdr") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(&f)?.lines() {
            if let Ok(v) = serde_json::from_str(line) {
                out.push(v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let sink = CdrSink::start(dir.path(), 200).unwrap();
        for i in 0..20 {
            sink.write(Box::new(
                serde_json::json!({ "call": i, "charged": i * 10 }),
            ));
        }
        sink.flush();
        let all = read_all(dir.path()).unwrap();
        assert_eq!(all.len(), 20);
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(files > 1, "rotated into several files");
    }
}
