//! `--pcap FILE`: every M3UA message in and out, framed as SCTP/PPI 3 with the link's
//! addresses, flushed as it goes so the file is readable while the SCP runs.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::Path;

use parking_lot::Mutex;

use crate::trace::{PcapWriter, SctpFlow};

/// A shared pcap trace.
pub struct Trace {
    inner: Mutex<Inner>,
}

struct Inner {
    writer: PcapWriter<BufWriter<File>>,
    flows: HashMap<(SocketAddr, SocketAddr), SctpFlow>,
    failed: bool,
}

impl Trace {
    /// Create (truncate) the trace file.
    pub fn create(path: &Path) -> std::io::Result<Trace> {
        let writer = PcapWriter::new(BufWriter::new(File::create(path)?))?;
        Ok(Trace {
            inner: Mutex::new(Inner {
                writer,
                flows: HashMap::new(),
                failed: false,
            }),
        })
    }

    /// Record one M3UA message sent from `src` to `dst`.
    pub fn record(&self, src: SocketAddr, dst: SocketAddr, m3ua: &[u8]) {
        let mut g = self.inner.lock();
        let inner = &mut *g;
        if inner.failed {
            return;
        }
        let flow = inner
            .flows
            .entry((src, dst))
            .or_insert_with(|| SctpFlow::new(src, dst));
        let r = inner
            .writer
            .write_m3ua(flow, m3ua)
            .and_then(|_| inner.writer.flush());
        if let Err(e) = r {
            tracing::error!(error = %e, "pcap trace write failed; tracing stops");
            inner.failed = true;
        }
    }
}
