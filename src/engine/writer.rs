//! The write half of a link: one task per connection drains everything queued for it and
//! writes it with one syscall, so a burst of replies from many call actors costs one write.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::trace::Trace;

/// Queue of encoded M3UA messages for one link. Cloned into every call actor's reply route
/// (as an `Arc`, stored once per call).
#[derive(Debug)]
pub struct LinkTx {
    tx: mpsc::UnboundedSender<Bytes>,
    /// A number naming the link in logs.
    pub id: u64,
    /// The SSP's address.
    pub peer: SocketAddr,
    /// Our address on the link.
    pub local: SocketAddr,
    closed: AtomicBool,
}

impl LinkTx {
    /// Queue one encoded M3UA message. Returns false if the link is gone.
    pub fn send(&self, msg: Bytes) -> bool {
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        self.tx.send(msg).is_ok()
    }

    /// Whether the link has closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed) || self.tx.is_closed()
    }

    /// Mark the link closed; later sends fail.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

/// Start the writer task on the current runtime; returns the queue handle.
pub fn spawn_writer<W>(
    id: u64,
    peer: SocketAddr,
    local: SocketAddr,
    mut out: W,
    trace: Option<Arc<Trace>>,
) -> Arc<LinkTx>
where
    W: AsyncWrite + Unpin + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let link = Arc::new(LinkTx {
        tx,
        id,
        peer,
        local,
        closed: AtomicBool::new(false),
    });
    let handle = link.clone();
    actix::spawn(async move {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        while let Some(first) = rx.recv().await {
            // Let every task that is ready now run first: replies they queue go out in this
            // same write (one syscall for a burst instead of one per reply).
            tokio::task::yield_now().await;
            if let Some(t) = &trace {
                t.record(local, peer, &first);
            }
            buf.extend_from_slice(&first);
            while buf.len() < 256 * 1024 {
                match rx.try_recv() {
                    Ok(more) => {
                        if let Some(t) = &trace {
                            t.record(local, peer, &more);
                        }
                        buf.extend_from_slice(&more);
                    }
                    Err(_) => break,
                }
            }
            if let Err(e) = out.write_all(&buf).await {
                tracing::warn!(link = id, %peer, error = %e, "link write failed");
                break;
            }
            buf.clear();
        }
        let _ = out.shutdown().await;
        handle.close();
    });
    link
}
