//! `strowger callgen --reflect`: the transport ceiling. A peer that plays the SCP's M3UA side
//! (SG), answers each TC-BEGIN with one precomputed TC-CONTINUE (AARE, RequestReportBCSMEvent,
//! ApplyCharging, Connect) and each later TC-CONTINUE with a precomputed TC-END (ReleaseCall
//! 16), patching in the transaction ids and swapping the SCCP addresses and point codes. No CAP
//! decoding, no service logic, no ledger: what is left is M3UA/SCCP/TCAP framing and the
//! sockets, so a benchmark can put Strowger's cost per call beside it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use bytes::BytesMut;
use strowger_m3ua::{Association, Event as M3uaEvent, Framer, Role};
use strowger_sccp::Message as SccpMessage;
use strowger_tcap::{
    write_invoke, Aare, Code, ComponentPortion, Continue, DialoguePortion, End,
    Message as TcMessage, ObjectId, TransactionId,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::{CallgenArgs, CallgenError};
use crate::engine::capmap;
use crate::service::{Nature, Op};

/// The two precomputed TCAP answers and where their transaction ids go.
struct Answers {
    cont: Vec<u8>,
    cont_otid: usize,
    cont_dtid: usize,
    end: Vec<u8>,
    end_dtid: usize,
    cont_components: Vec<u8>,
    end_components: Vec<u8>,
    ac: ObjectId,
}

/// Positions where two encodings differ (the 4 octets of a transaction id).
fn diff_at(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return None;
    }
    a.iter().zip(b).position(|(x, y)| x != y)
}

impl Answers {
    fn new(connect: &str) -> Result<Answers, CallgenError> {
        let bad = |e: strowger_cap::CapError| CallgenError::Usage(format!("reflector: {e}"));
        let dialect = strowger_cap::Dialect::CapV2;
        let ac = ObjectId::from_encoded(&[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01])
            .ok_or_else(|| CallgenError::Usage("reflector: application context".into()))?;
        let ops = [
            Op::RequestReportBcsm {
                events: crate::service::Call::arms(),
            },
            Op::ApplyCharging {
                max_duration_100ms: 1200,
                release_if_exceeded: false,
                tone: false,
            },
            Op::Connect {
                number: connect.to_string(),
                nature: Nature::International,
            },
        ];
        let mut param = BytesMut::new();
        let mut comp = BytesMut::new();
        for (i, op) in ops.iter().enumerate() {
            let (code, has) = capmap::encode_op(dialect, op, &mut param).map_err(bad)?;
            write_invoke(
                &mut comp,
                i as i8 + 1,
                None,
                &Code::Local(code.0),
                has.then_some(&param[..]),
            );
        }
        let cont_components = comp.to_vec();
        let mut comp = BytesMut::new();
        let (code, has) =
            capmap::encode_op(dialect, &Op::ReleaseCall { cause: 16 }, &mut param).map_err(bad)?;
        write_invoke(
            &mut comp,
            4,
            None,
            &Code::Local(code.0),
            has.then_some(&param[..]),
        );
        let end_components = comp.to_vec();
        let mut a = Answers {
            cont: Vec::new(),
            cont_otid: 0,
            cont_dtid: 0,
            end: Vec::new(),
            end_dtid: 0,
            cont_components,
            end_components,
            ac,
        };
        let z = TransactionId::from_u32(0);
        let f = TransactionId::from_u32(0xffff_ffff);
        let (c0, c1, c2) = (a.continue_(z, z), a.continue_(f, z), a.continue_(z, f));
        let (e0, e1) = (a.end_(z), a.end_(f));
        let missing = || CallgenError::Usage("reflector: template".into());
        a.cont_otid = diff_at(&c0, &c1).ok_or_else(missing)?;
        a.cont_dtid = diff_at(&c0, &c2).ok_or_else(missing)?;
        a.end_dtid = diff_at(&e0, &e1).ok_or_else(missing)?;
        a.cont = c0;
        a.end = e0;
        Ok(a)
    }

    fn continue_(&self, otid: TransactionId, dtid: TransactionId) -> Vec<u8> {
        let mut b = BytesMut::new();
        Continue {
            otid,
            dtid,
            dialogue: Some(DialoguePortion::Aare(Aare::accepted(self.ac))),
            components: Some(ComponentPortion::new(&self.cont_components)),
        }
        .encode(&mut b);
        b.to_vec()
    }

    fn end_(&self, dtid: TransactionId) -> Vec<u8> {
        let mut b = BytesMut::new();
        End {
            dtid,
            dialogue: None,
            components: Some(ComponentPortion::new(&self.end_components)),
        }
        .encode(&mut b);
        b.to_vec()
    }

    /// The answer to `msg` into `out`; false if it gets none.
    fn answer(&self, msg: &TcMessage<'_>, out: &mut Vec<u8>) -> bool {
        out.clear();
        match msg {
            TcMessage::Begin(b) => {
                let t = b.otid.as_bytes();
                if t.len() == 4 {
                    out.extend_from_slice(&self.cont);
                    out[self.cont_otid..self.cont_otid + 4].copy_from_slice(t);
                    out[self.cont_dtid..self.cont_dtid + 4].copy_from_slice(t);
                } else {
                    out.extend_from_slice(&self.continue_(b.otid, b.otid));
                }
                true
            }
            TcMessage::Continue(c) => {
                let t = c.otid.as_bytes();
                if t.len() == 4 {
                    out.extend_from_slice(&self.end);
                    out[self.end_dtid..self.end_dtid + 4].copy_from_slice(t);
                } else {
                    out.extend_from_slice(&self.end_(c.otid));
                }
                true
            }
            _ => false,
        }
    }
}

/// A running reflector.
pub struct Reflector {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Reflector {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop and wait.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Reflector {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start a reflector on its own thread (a single-threaded runtime).
pub fn start(
    listen: SocketAddr,
    routing_context: Option<u32>,
    connect: &str,
) -> Result<Reflector, CallgenError> {
    let answers = Arc::new(Answers::new(connect)?);
    let std_listener = std::net::TcpListener::bind(listen).map_err(|source| CallgenError::Io {
        what: format!("reflector: listen on {listen}"),
        source,
    })?;
    let _ = std_listener.set_nonblocking(true);
    let addr = std_listener.local_addr().unwrap_or(listen);
    let (tx, mut rx) = oneshot::channel();
    let thread = thread::Builder::new()
        .name("reflector".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(listener) = TcpListener::from_std(std_listener) else {
                    return;
                };
                loop {
                    tokio::select! {
                        a = listener.accept() => {
                            if let Ok((s, _)) = a {
                                let _ = s.set_nodelay(true);
                                tokio::spawn(serve(s, answers.clone(), routing_context));
                            }
                        }
                        _ = &mut rx => break,
                    }
                }
            });
        })
        .map_err(|source| CallgenError::Io {
            what: "reflector thread".into(),
            source,
        })?;
    Ok(Reflector {
        addr,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// `--reflect`: run until Ctrl-C (or `--duration` seconds if set above 0 with --calls unset).
pub fn main(args: &CallgenArgs) -> Result<(), CallgenError> {
    let rc = (args.routing_context != 0).then_some(args.routing_context);
    let r = start(args.listen, rc, &args.reflect_connect)?;
    println!("reflector listening on {}", r.addr());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // Block until a signal: the process is meant to be killed (benchmarks, tests).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CallgenError::Io {
            what: "runtime".into(),
            source,
        })?;
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    r.stop();
    Ok(())
}

async fn serve(stream: TcpStream, answers: Arc<Answers>, rc: Option<u32>) {
    let (mut rd, mut wr) = stream.into_split();
    let mut assoc = Association::new(
        Role::Sg,
        strowger_m3ua::Config {
            routing_contexts: rc.into_iter().collect(),
            ..Default::default()
        },
    );
    let framer = Framer::new(65_536);
    let mut rbuf = BytesMut::with_capacity(256 * 1024);
    let mut wbuf = BytesMut::with_capacity(256 * 1024);
    let mut tcap = Vec::with_capacity(512);
    let mut sccp = BytesMut::with_capacity(512);
    loop {
        if rbuf.capacity() - rbuf.len() < 16 * 1024 {
            rbuf.reserve(256 * 1024);
        }
        match rd.read_buf(&mut rbuf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let now = Instant::now();
        loop {
            match framer.next_frame(&mut rbuf) {
                Ok(Some(f)) => assoc.handle_frame(now, f),
                Ok(None) => break,
                Err(_) => return,
            }
            while let Some(ev) = assoc.poll_event() {
                let M3uaEvent::Data(ind) = ev else {
                    continue;
                };
                let Ok(msg) = SccpMessage::decode(&ind.user_data) else {
                    continue;
                };
                let Ok(t) = TcMessage::decode(msg.data()) else {
                    continue;
                };
                if !answers.answer(&t, &mut tcap) {
                    continue;
                }
                let Some(reply) = msg.reply(&tcap) else {
                    continue;
                };
                sccp.clear();
                if reply.encode(&mut sccp).is_err() {
                    continue;
                }
                let _ = ind.reply(&sccp).encode(&mut wbuf);
            }
            while let Some(t) = assoc.poll_transmit() {
                wbuf.extend_from_slice(&t.payload);
            }
        }
        if !wbuf.is_empty() {
            if wr.write_all(&wbuf).await.is_err() {
                return;
            }
            wbuf.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strowger_tcap::Begin;

    #[test]
    fn answers_patch_the_transaction_ids() {
        let a = Answers::new("12125560000").unwrap();
        let mut begin = BytesMut::new();
        Begin {
            otid: TransactionId::from_u32(0x0102_0304),
            dialogue: None,
            components: None,
        }
        .encode(&mut begin);
        let msg = TcMessage::decode(&begin).unwrap();
        let mut out = Vec::new();
        assert!(a.answer(&msg, &mut out));
        match TcMessage::decode(&out).unwrap() {
            TcMessage::Continue(c) => {
                assert_eq!(c.dtid.to_u32(), 0x0102_0304);
                assert_eq!(c.otid.to_u32(), 0x0102_0304);
                assert_eq!(c.components.unwrap().iter().count(), 3);
            }
            other => panic!("{other:?}"),
        }
        // A later message (otid of 2 octets: the slow path) gets TC-END to that id.
        let mut cont = BytesMut::new();
        Continue {
            otid: TransactionId::new(&[7, 8]).unwrap(),
            dtid: TransactionId::from_u32(1),
            dialogue: None,
            components: None,
        }
        .encode(&mut cont);
        let msg = TcMessage::decode(&cont).unwrap();
        assert!(a.answer(&msg, &mut out));
        match TcMessage::decode(&out).unwrap() {
            TcMessage::End(e) => assert_eq!(e.dtid.as_bytes(), &[7, 8]),
            other => panic!("{other:?}"),
        }
    }
}
