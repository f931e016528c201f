//! One SSP link: a TCP connection carrying M3UA (this side is the ASP), SCCP UDT and TCAP,
//! multiplexing many calls in one task. Calls live in a slab indexed by the low bits of our
//! transaction id, so an answer finds its call without a map. Everything the loop sends in
//! one turn is written with one `write_all`.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use strowger_cap::numbers::{
    AddressString, CallingPartyNumber, Cause, CauseLocation, CauseValue, Digits, GenericDigits,
    NatureOfAddress, NumberingPlan, Presentation, Screening,
};
use strowger_cap::ops::{
    AChBilling, ApplyChargingReport, CallResult, EventReportBcsm, EventSpecificInfo,
    InformationToSend, InitialDp, MessageId, ReceivedInformation, SpecializedResourceReport,
    TimeDurationChargingResult, TimeInformation,
};
use strowger_cap::{Dialect, EventTypeBcsm, LegType, MessageType, OpCode, Operation};
use strowger_m3ua::{
    Association, Body, Data, Event as M3uaEvent, Framer, Message as M3uaMessage, ProtocolData, Role,
};
use strowger_sccp::{Message as SccpMessage, PointCode, ProtocolClass, SccpAddress, Ssn, Udt};
use strowger_tcap::{
    Code, Dialogue, Event as TcEvent, InvokeId, Message as TcMessage, ObjectId, OperationClass,
    TransactionId, UAbortReason,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::scenario::Scenarios;
use super::ssp::{Answer, Event, Next, Seen, SspCall, SspMsg, Step};
use super::stats::{Kind, LinkStats, Totals, MAX_EXAMPLES};

/// Why a link stopped.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// TCP connect or I/O failed.
    #[error("link {link} to {addr}: {source}")]
    Io {
        /// Link number.
        link: usize,
        /// Peer.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// M3UA did not come up.
    #[error("link {link} to {addr}: {what}")]
    M3ua {
        /// Link number.
        link: usize,
        /// Peer.
        addr: SocketAddr,
        /// What happened.
        what: String,
    },
}

/// Settings of every link.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// The SCP's M3UA address.
    pub scp: SocketAddr,
    /// M3UA routing context (None: omitted).
    pub routing_context: Option<u32>,
    /// Our point code (OPC of what we send).
    pub opc: u32,
    /// The SCP's point code.
    pub dpc: u32,
    /// Network indicator.
    pub ni: u8,
    /// Our SSN.
    pub local_ssn: u8,
    /// The SCP's SSN.
    pub remote_ssn: u8,
    /// Most calls in progress on this link.
    pub concurrency: usize,
    /// How long to wait for each SCP answer.
    pub timeout: Duration,
    /// Wait hold times in real time instead of simulating them.
    pub real_hold: bool,
    /// RNG seed (each link adds its index).
    pub seed: u64,
    /// Links sharing the rate.
    pub links: usize,
    /// Take scenarios in turn (ignore weights).
    pub round_robin: bool,
}

/// State shared by every link and the controller.
pub struct Shared {
    /// The scenario mix.
    pub scenarios: Scenarios,
    /// Link settings.
    pub opts: LinkOptions,
    /// Totals for the progress display.
    pub totals: Totals,
    /// Target rate of new calls over all links, calls/s × 1000.
    pub rate_milli: AtomicU64,
    /// Stop starting calls; links end once their calls are done.
    pub stop: AtomicBool,
    /// Give up on calls still running and close.
    pub quit: AtomicBool,
    /// Calls left to start.
    pub budget: AtomicI64,
    /// Next scenario with `round_robin`.
    pub turn: AtomicU64,
}

/// Largest slab index (20 bits); the top 12 bits of our tid are a generation.
const SLOT_BITS: u32 = 20;
const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;

struct CallCtx {
    dialogue: Dialogue,
    ssp: SspCall,
    scenario: u16,
    callee: u32,
    serial: u32,
    started: Instant,
    step: Step,
    step_at: Instant,
    pending: Option<(SspMsg, Step)>,
    sls: u8,
    failed: bool,
}

struct Slot {
    gen: u16,
    call: Option<CallCtx>,
}

/// splitmix64: small, fast, good enough for picking scenarios.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u32) -> u32 {
        (((self.next() >> 32) * u64::from(n.max(1))) >> 32) as u32
    }
}

/// Pre-encoded EventReportBCSM arguments, by [`Event`].
struct Erbs {
    answer: Bytes,
    disconnect: Bytes,
    busy: Bytes,
    no_answer: Bytes,
    abandon: Bytes,
    route_failure: Bytes,
}

impl Erbs {
    fn new(dialect: Dialect) -> Erbs {
        let cause = |v: u8| {
            Cause::new(CauseLocation::USER, CauseValue(v))
                .encode()
                .map(|b| b.as_bytes().to_vec())
                .unwrap_or_default()
        };
        let normal = cause(16);
        let busy = cause(17);
        let enc = |event_type, info: Option<EventSpecificInfo<'_>>, leg, mt| {
            let mut b = BytesMut::with_capacity(32);
            Operation::EventReportBcsm(EventReportBcsm {
                event_type,
                event_specific_information: info,
                leg_id: Some(leg),
                message_type: mt,
                extensions: None,
            })
            .encode(dialect, &mut b);
            b.freeze()
        };
        use EventTypeBcsm as E;
        use MessageType::{Notification, Request};
        Erbs {
            answer: enc(
                E::O_ANSWER,
                Some(EventSpecificInfo::OAnswer),
                LegType::LEG2,
                Notification,
            ),
            disconnect: enc(
                E::O_DISCONNECT,
                Some(EventSpecificInfo::ODisconnect {
                    release_cause: Some(&normal),
                }),
                LegType::LEG1,
                Request,
            ),
            busy: enc(
                E::O_CALLED_PARTY_BUSY,
                Some(EventSpecificInfo::OCalledPartyBusy {
                    busy_cause: Some(&busy),
                }),
                LegType::LEG2,
                Request,
            ),
            no_answer: enc(
                E::O_NO_ANSWER,
                Some(EventSpecificInfo::ONoAnswer),
                LegType::LEG2,
                Request,
            ),
            abandon: enc(E::O_ABANDON, None, LegType::LEG1, Request),
            route_failure: enc(
                E::ROUTE_SELECT_FAILURE,
                Some(EventSpecificInfo::RouteSelectFailure {
                    failure_cause: None,
                }),
                LegType::LEG2,
                Request,
            ),
        }
    }

    fn get(&self, e: Event) -> &Bytes {
        match e {
            Event::Answer => &self.answer,
            Event::Disconnect => &self.disconnect,
            Event::Busy => &self.busy,
            Event::NoAnswer => &self.no_answer,
            Event::Abandon => &self.abandon,
            Event::RouteSelectFailure => &self.route_failure,
        }
    }
}

/// Reduce one SCP Invoke to what the checks need.
fn seen_of(dialect: Dialect, code: u8, param: Option<&[u8]>, id: InvokeId) -> Seen {
    let op = OpCode(i64::from(code));
    let decoded = match Operation::decode(dialect, op, param) {
        Ok(o) => o,
        Err(_) => return Seen::Undecodable(code),
    };
    match decoded {
        Operation::RequestReportBcsmEvent(_) => Seen::Rrbe,
        Operation::ApplyCharging(ac) => match ac.ach_billing {
            AChBilling::TimeDuration(t) => Seen::ApplyCharging {
                max_100ms: t.max_call_period_duration,
                release: t.release_if_duration_exceeded,
            },
            AChBilling::Raw(_) => Seen::Undecodable(code),
        },
        Operation::Connect(c) => match c.destination() {
            Ok(n) => Seen::Connect(n.digits),
            Err(_) => Seen::Undecodable(code),
        },
        Operation::ReleaseCall(r) => match r.decoded_cause() {
            Ok(c) => Seen::ReleaseCall(c.value.0),
            Err(_) => Seen::Undecodable(code),
        },
        Operation::ConnectToResource(_) => Seen::ConnectToResource,
        Operation::PlayAnnouncement(pa) => {
            Seen::PlayAnnouncement(message_id(&pa.information_to_send))
        }
        Operation::PromptAndCollectUserInformation(p) => {
            Seen::PromptAndCollect(p.information_to_send.as_ref().map_or(0, message_id), id)
        }
        Operation::DisconnectForwardConnection => Seen::Dfc,
        Operation::Continue => Seen::Continue,
        Operation::CallGap(_) => Seen::CallGap,
        _ => Seen::Other(code),
    }
}

fn message_id(i: &InformationToSend<'_>) -> u32 {
    match i {
        InformationToSend::InbandInfo(b) => match b.message_id {
            MessageId::ElementaryMessageId(id) => id,
            _ => 0,
        },
        _ => 0,
    }
}

/// One link's state.
struct Link {
    index: usize,
    /// When the kernel received the bytes being handled (main loop; `None` if not timed).
    rx_at: Option<Instant>,
    shared: Arc<Shared>,
    stats: Arc<Mutex<LinkStats>>,
    dialect: Dialect,
    ac: Option<ObjectId>,
    tcap_cfg: strowger_tcap::Config,
    assoc: Association,
    framer: Framer,
    rbuf: BytesMut,
    wbuf: BytesMut,
    param: BytesMut,
    tcap: BytesMut,
    sccp: BytesMut,
    slots: Vec<Slot>,
    free: Vec<u32>,
    active: usize,
    timeouts: VecDeque<(Instant, u32, u32)>,
    holds: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    next_start: Option<Instant>,
    rng: Rng,
    seen: Vec<Seen>,
    release: Vec<InvokeId>,
    num_a: String,
    num_b: String,
    connect: String,
    erbs: Erbs,
    scp_addr: SccpAddress,
    ssp_addr: SccpAddress,
    sls: u8,
    fatal: Option<String>,
    serials: u32,
}

/// Run one link until the controller says stop and its calls are done.
pub async fn run(
    index: usize,
    shared: Arc<Shared>,
    stats: Arc<Mutex<LinkStats>>,
) -> Result<(), LinkError> {
    let addr = shared.opts.scp;
    let io = |source| LinkError::Io {
        link: index,
        addr,
        source,
    };
    let stream = TcpStream::connect(addr).await.map_err(io)?;
    let _ = stream.set_nodelay(true);
    if !super::rxstamp::enable(&stream) {
        tracing::debug!(link = index, "no kernel receive times on this socket");
    }
    let (mut rd, mut wr) = stream.into_split();
    let mut link = Link::new(index, shared.clone(), stats);
    let now = Instant::now();
    link.assoc.start(now).map_err(|e| LinkError::M3ua {
        link: index,
        addr,
        what: e.to_string(),
    })?;
    link.pump_m3ua(now);
    // M3UA up: ASP Up, ASP Active (auto), within 5 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !link.assoc.is_active() {
        if !link.wbuf.is_empty() {
            wr.write_all(&link.wbuf).await.map_err(io)?;
            link.wbuf.clear();
        }
        let read = tokio::time::timeout_at(deadline, rd.read_buf(&mut link.rbuf)).await;
        match read {
            Ok(Ok(0)) => {
                return Err(LinkError::M3ua {
                    link: index,
                    addr,
                    what: "closed before ASP Active".into(),
                })
            }
            Ok(Ok(_)) => link.on_bytes(Instant::now()),
            Ok(Err(e)) => return Err(io(e)),
            Err(_) => {
                return Err(LinkError::M3ua {
                    link: index,
                    addr,
                    what: "no ASP Active Ack within 5 s".into(),
                })
            }
        }
        if let Some(e) = link.fatal.take() {
            return Err(LinkError::M3ua {
                link: index,
                addr,
                what: e,
            });
        }
    }
    shared.totals.links_up.fetch_add(1, Ordering::Relaxed);
    let result = link.main_loop(&mut rd, &mut wr).await.map_err(io);
    shared.totals.links_up.fetch_sub(1, Ordering::Relaxed);
    link.lose_all();
    // Be polite: ASP Down, best effort.
    if link.assoc.stop(Instant::now()).is_ok() {
        link.pump_m3ua(Instant::now());
        let _ = tokio::time::timeout(Duration::from_millis(200), wr.write_all(&link.wbuf)).await;
    }
    result
}

impl Link {
    fn new(index: usize, shared: Arc<Shared>, stats: Arc<Mutex<LinkStats>>) -> Link {
        let sc = &shared.scenarios;
        let dialect = sc.dialect;
        let ac = ObjectId::from_encoded(sc.application_context);
        let mut tcap_cfg = strowger_tcap::Config::new(ac.into_iter().collect());
        tcap_cfg.idle_timeout = None;
        let o = &shared.opts;
        let m3 = strowger_m3ua::Config {
            routing_contexts: o.routing_context.into_iter().collect(),
            ..Default::default()
        };
        let pc = |p: u32| PointCode(u16::try_from(p & 0x3fff).unwrap_or(0));
        let scp_addr = SccpAddress::route_on_ssn(Some(pc(o.dpc)), Ssn(o.remote_ssn));
        let ssp_addr = SccpAddress::route_on_ssn(Some(pc(o.opc)), Ssn(o.local_ssn));
        let seed = o.seed ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
        Link {
            index,
            rx_at: None,
            dialect,
            ac,
            tcap_cfg,
            assoc: Association::new(Role::Asp, m3),
            framer: Framer::new(65_536),
            rbuf: BytesMut::with_capacity(256 * 1024),
            wbuf: BytesMut::with_capacity(256 * 1024),
            param: BytesMut::with_capacity(256),
            tcap: BytesMut::with_capacity(512),
            sccp: BytesMut::with_capacity(512),
            slots: Vec::new(),
            free: Vec::new(),
            active: 0,
            timeouts: VecDeque::new(),
            holds: BinaryHeap::new(),
            next_start: None,
            rng: Rng(seed),
            seen: Vec::with_capacity(8),
            release: Vec::with_capacity(8),
            num_a: String::with_capacity(32),
            num_b: String::with_capacity(32),
            connect: String::with_capacity(32),
            erbs: Erbs::new(dialect),
            scp_addr,
            ssp_addr,
            sls: (index as u8).wrapping_mul(31),
            fatal: None,
            serials: 0,
            shared,
            stats,
        }
    }

    async fn main_loop(
        &mut self,
        rd: &mut tokio::net::tcp::OwnedReadHalf,
        wr: &mut tokio::net::tcp::OwnedWriteHalf,
    ) -> std::io::Result<()> {
        loop {
            let now = Instant::now();
            self.start_due(now);
            self.expire(now);
            if !self.wbuf.is_empty() {
                wr.write_all(&self.wbuf).await?;
                self.wbuf.clear();
                if self.wbuf.capacity() > 4 * 1024 * 1024 {
                    self.wbuf = BytesMut::with_capacity(256 * 1024);
                }
            }
            if self.shared.quit.load(Ordering::Relaxed)
                || (self.shared.stop.load(Ordering::Relaxed) && self.active == 0)
            {
                return Ok(());
            }
            if let Some(e) = self.fatal.take() {
                return Err(std::io::Error::other(e));
            }
            let mut wake = now + Duration::from_millis(20);
            if let Some(t) = self.next_start {
                if self.active < self.shared.opts.concurrency {
                    wake = wake.min(t);
                }
            }
            if let Some(&(t, _, _)) = self.timeouts.front() {
                wake = wake.min(t);
            }
            if let Some(Reverse((t, _, _))) = self.holds.peek() {
                wake = wake.min(*t);
            }
            if let Some(t) = self.assoc.poll_timeout() {
                wake = wake.min(t);
            }
            if self.rbuf.capacity() - self.rbuf.len() < 16 * 1024 {
                self.rbuf.reserve(256 * 1024);
            }
            tokio::select! {
                r = super::rxstamp::read_buf(rd.as_ref(), &mut self.rbuf) => {
                    match r {
                        Ok((0, _)) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "SCP closed the link")),
                        Ok((_, at)) => {
                            self.rx_at = at;
                            self.on_bytes(Instant::now());
                            self.rx_at = None;
                        }
                        Err(e) => return Err(e),
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    if self.assoc.poll_timeout().is_some_and(|t| t <= now) {
                        self.assoc.handle_timeout(now);
                        self.pump_m3ua(now);
                    }
                }
            }
        }
    }

    /// Move M3UA output to the write buffer and act on its events.
    fn pump_m3ua(&mut self, now: Instant) {
        while let Some(t) = self.assoc.poll_transmit() {
            self.wbuf.extend_from_slice(&t.payload);
        }
        let mut stats = None;
        while let Some(ev) = self.assoc.poll_event() {
            match ev {
                M3uaEvent::Data(ind) => {
                    let st = stats.get_or_insert_with(|| self.stats.clone());
                    let mut guard = st.lock();
                    self.on_data(now, &ind.user_data, &mut guard);
                }
                M3uaEvent::ErrorReceived { code, .. } if !self.assoc.is_active() => {
                    self.fatal = Some(format!("M3UA ERR {code:?}"));
                }
                M3uaEvent::AckTimeout { request } => {
                    self.fatal = Some(format!("M3UA {request:?} not acknowledged"));
                }
                M3uaEvent::AspDown | M3uaEvent::AspInactive { .. } if self.active > 0 => {
                    self.fatal = Some("SCP took the ASP down".into());
                }
                _ => {}
            }
        }
        while let Some(t) = self.assoc.poll_transmit() {
            self.wbuf.extend_from_slice(&t.payload);
        }
    }

    fn on_bytes(&mut self, now: Instant) {
        loop {
            match self.framer.next_frame(&mut self.rbuf) {
                Ok(Some(frame)) => self.assoc.handle_frame(now, frame),
                Ok(None) => break,
                Err(e) => {
                    self.fatal = Some(format!("bad M3UA framing from the SCP: {e}"));
                    break;
                }
            }
        }
        self.pump_m3ua(now);
    }

    fn on_data(&mut self, now: Instant, user_data: &[u8], st: &mut LinkStats) {
        let rx_at = self.rx_at;
        let data = match SccpMessage::decode(user_data) {
            Ok(SccpMessage::Udt(u)) => u.data,
            Ok(SccpMessage::Xudt(x)) => x.data,
            Ok(_) | Err(_) => {
                // UDTS/XUDTS (our message came back) or garbage.
                st.stray(Kind::Undecodable);
                return;
            }
        };
        let msg = match TcMessage::decode(data) {
            Ok(m) => m,
            Err(_) => {
                st.stray(Kind::Undecodable);
                return;
            }
        };
        let answer = match msg {
            TcMessage::Continue(_) => Answer::Continue,
            TcMessage::End(_) => Answer::End,
            TcMessage::Abort(_) => Answer::Abort,
            _ => {
                st.stray(Kind::WrongMessageType);
                return;
            }
        };
        let Some(dtid) = msg.dtid() else {
            st.stray(Kind::Undecodable);
            return;
        };
        let tid = dtid.to_u32();
        let slot = tid & SLOT_MASK;
        let gen = (tid >> SLOT_BITS) as u16;
        let Some(s) = self.slots.get_mut(slot as usize) else {
            st.stray(Kind::UnknownTransaction);
            return;
        };
        if s.gen != gen || s.call.is_none() {
            st.stray(Kind::UnknownTransaction);
            return;
        }
        let Some(call) = s.call.as_mut() else {
            return;
        };
        let dialect = self.dialect;
        let mut answer = answer;
        self.seen.clear();
        self.release.clear();
        for ev in call.dialogue.handle(now, &msg) {
            match ev {
                TcEvent::Invoke {
                    invoke_id,
                    opcode,
                    parameter,
                    ..
                } => {
                    let s = match opcode {
                        Code::Local(c) => match u8::try_from(c) {
                            Ok(c) => seen_of(dialect, c, parameter.map(|t| t.raw), invoke_id),
                            Err(_) => Seen::Other(255),
                        },
                        Code::Global(_) => Seen::Other(255),
                    };
                    if !matches!(s, Seen::PromptAndCollect(..)) {
                        self.release.push(invoke_id);
                    }
                    self.seen.push(s);
                }
                TcEvent::Result { .. } | TcEvent::Error { .. } | TcEvent::Reject { .. } => {
                    self.seen.push(Seen::Rejected)
                }
                TcEvent::Aborted { .. } => answer = Answer::Abort,
                _ => {}
            }
        }
        for id in self.release.drain(..) {
            call.dialogue.release_invoke(id);
        }
        self.tcap.clear();
        if call.dialogue.poll_transmit(&mut self.tcap) {
            let sls = call.sls;
            emit(
                &mut self.sccp,
                &mut self.wbuf,
                &self.tcap,
                &self.shared.opts,
                self.scp_addr,
                self.ssp_addr,
                sls,
            );
        }
        let call = match self
            .slots
            .get_mut(slot as usize)
            .and_then(|s| s.call.as_mut())
        {
            Some(c) => c,
            None => return,
        };
        if call.pending.is_some() {
            // An answer while we wait out a real hold time: the SCP spoke out of turn.
            call.pending = None;
        }
        let micros = now.saturating_duration_since(call.step_at).as_micros() as u64;
        st.record(call.step, micros);
        if let (Step::InitialDp, Some(at)) = (call.step, rx_at) {
            let rx = at.saturating_duration_since(call.step_at).as_micros() as u64;
            let _ = st.initial_dp_rx.record(rx.clamp(1, 60_000_000));
        }
        let sc = &self.shared.scenarios;
        let Some(scenario) = sc.scenarios.get(usize::from(call.scenario)) else {
            return;
        };
        self.connect.clear();
        sc.expected_connect(scenario, call.callee, &mut self.connect);
        let before = call.ssp;
        match call
            .ssp
            .on_answer(sc, scenario, &self.connect, answer, &self.seen)
        {
            Ok(Next::Done) => {
                let total = now.saturating_duration_since(call.started).as_micros() as u64;
                let _ = st.call.record(total.clamp(1, 60_000_000));
                if let Some(c) = st.scenarios.get_mut(usize::from(call.scenario)) {
                    c.ok += 1;
                }
                self.shared.totals.ok.fetch_add(1, Ordering::Relaxed);
                self.finish(slot, false);
            }
            Ok(Next::Send {
                msg,
                delay_100ms,
                step,
            }) => {
                if self.shared.opts.real_hold && delay_100ms > 0 {
                    call.pending = Some((msg, step));
                    self.serials = self.serials.wrapping_add(1);
                    call.serial = self.serials;
                    let at = now + Duration::from_millis(u64::from(delay_100ms) * 100);
                    self.holds.push(Reverse((at, slot, call.serial)));
                } else {
                    self.send_ssp(now, slot, msg, step);
                }
            }
            Err(m) => {
                if st.examples.len() < MAX_EXAMPLES {
                    let exp = before.describe_expected(sc, scenario, &self.connect);
                    st.examples.push(format!(
                        "{}: {} (expected {}, got TC-{} {:?})",
                        scenario.name,
                        m.kind.name(),
                        exp,
                        match answer {
                            Answer::Continue => "CONTINUE",
                            Answer::End => "END",
                            Answer::Abort => "ABORT",
                        },
                        self.seen
                    ));
                }
                st.mismatch(usize::from(call.scenario), m.kind, true);
                self.shared.totals.failed.fetch_add(1, Ordering::Relaxed);
                self.finish(slot, true);
            }
        }
    }

    /// Start the calls the rate says are due.
    fn start_due(&mut self, now: Instant) {
        let sh = self.shared.clone();
        let links = sh.opts.links.max(1) as f64;
        let rate = sh.rate_milli.load(Ordering::Relaxed) as f64 / 1000.0 / links;
        if sh.stop.load(Ordering::Relaxed) || rate <= 0.0 {
            self.next_start = None;
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / rate);
        let mut next = match self.next_start {
            Some(t) => t,
            None => now,
        };
        // Never run more than a second behind: a start missed that long is counted, not made up.
        if now.saturating_duration_since(next) > Duration::from_secs(1) {
            let missed = (now.saturating_duration_since(next).as_secs_f64() * rate) as u64;
            sh.totals.behind.fetch_add(missed, Ordering::Relaxed);
            next = now;
        }
        let mut st = None;
        while next <= now && self.active < sh.opts.concurrency {
            if sh.budget.fetch_sub(1, Ordering::Relaxed) <= 0 {
                sh.budget.store(0, Ordering::Relaxed);
                sh.stop.store(true, Ordering::Relaxed);
                break;
            }
            let guard = st.get_or_insert_with(|| self.stats.clone());
            let mut g = guard.lock();
            self.start_call(now, &mut g);
            next += interval;
        }
        self.next_start = Some(next);
    }

    fn alloc(&mut self) -> Option<u32> {
        if let Some(s) = self.free.pop() {
            return Some(s);
        }
        let n = u32::try_from(self.slots.len()).ok()?;
        if n > SLOT_MASK {
            return None;
        }
        self.slots.push(Slot { gen: 0, call: None });
        Some(n)
    }

    fn start_call(&mut self, now: Instant, st: &mut LinkStats) {
        let Some(slot) = self.alloc() else {
            return;
        };
        let sh = self.shared.clone();
        let sc = &sh.scenarios;
        let si = if sh.opts.round_robin {
            (sh.turn.fetch_add(1, Ordering::Relaxed) % sc.scenarios.len().max(1) as u64) as usize
        } else {
            sc.pick(self.rng.next())
        };
        let Some(s) = sc.scenarios.get(si) else {
            return;
        };
        let caller = self.rng.below(sc.choices(&s.calling));
        let callee = self.rng.below(sc.choices(&s.called));
        let hold = s.hold.sample_100ms(self.rng.unit());
        self.num_a.clear();
        self.num_b.clear();
        sc.digits(&s.calling, caller, &mut self.num_a);
        sc.digits(&s.called, callee, &mut self.num_b);
        let gen = match self.slots.get_mut(slot as usize) {
            Some(sl) => {
                sl.gen = (sl.gen + 1) & 0x0fff;
                sl.gen
            }
            None => return,
        };
        let tid = (u32::from(gen) << SLOT_BITS) | slot;
        // Encode the InitialDP.
        self.param.clear();
        let encoded = (|| -> Result<(), strowger_cap::CapError> {
            let calling = CallingPartyNumber {
                nai: NatureOfAddress::INTERNATIONAL,
                ni: false,
                npi: NumberingPlan::ISDN,
                presentation: Presentation::ALLOWED,
                screening: Screening::NETWORK_PROVIDED,
                digits: Digits::from_str(&self.num_a)?,
            }
            .encode()?;
            let called = AddressString {
                nature: AddressString::UNKNOWN,
                npi: AddressString::ISDN,
                digits: Digits::from_str(&self.num_b)?,
            }
            .encode()?;
            Operation::InitialDp(InitialDp {
                service_key: s.service_key,
                calling_party_number: Some(calling.as_bytes()),
                calling_partys_category: Some(10),
                called_party_bcd_number: Some(called.as_bytes()),
                event_type_bcsm: Some(EventTypeBcsm::COLLECTED_INFO),
                ..InitialDp::default()
            })
            .encode(self.dialect, &mut self.param);
            Ok(())
        })();
        if encoded.is_err() {
            return;
        }
        let mut dialogue =
            Dialogue::initiate(TransactionId::from_u32(tid), self.ac, &self.tcap_cfg);
        let Ok(id) = dialogue.send_invoke(
            now,
            Code::Local(0),
            None,
            Some(&self.param),
            OperationClass::Class2,
            sh.opts.timeout,
        ) else {
            return;
        };
        dialogue.cancel_invoke(id);
        self.tcap.clear();
        if dialogue.begin(now, &mut self.tcap).is_err() {
            return;
        }
        self.sls = self.sls.wrapping_add(1);
        let sls = self.sls & 0x0f;
        emit(
            &mut self.sccp,
            &mut self.wbuf,
            &self.tcap,
            &sh.opts,
            self.scp_addr,
            self.ssp_addr,
            sls,
        );
        self.serials = self.serials.wrapping_add(1);
        let serial = self.serials;
        if let Some(sl) = self.slots.get_mut(slot as usize) {
            sl.call = Some(CallCtx {
                dialogue,
                ssp: SspCall::new(hold),
                scenario: si as u16,
                callee,
                serial,
                started: now,
                step: Step::InitialDp,
                step_at: now,
                pending: None,
                sls,
                failed: false,
            });
        }
        self.timeouts
            .push_back((now + sh.opts.timeout, slot, serial));
        self.active += 1;
        if let Some(c) = st.scenarios.get_mut(si) {
            c.started += 1;
        }
        sh.totals.started.fetch_add(1, Ordering::Relaxed);
        sh.totals.active.fetch_add(1, Ordering::Relaxed);
    }

    /// Send the SSP's next message of a call.
    fn send_ssp(&mut self, now: Instant, slot: u32, msg: SspMsg, step: Step) {
        let sh = self.shared.clone();
        let dialect = self.dialect;
        let timeout = sh.opts.timeout;
        let Some(call) = self
            .slots
            .get_mut(slot as usize)
            .and_then(|s| s.call.as_mut())
        else {
            return;
        };
        let scenario = sh.scenarios.scenarios.get(usize::from(call.scenario));
        let d = &mut call.dialogue;
        let invoke = |d: &mut Dialogue, code: OpCode, p: &[u8]| {
            if let Ok(id) = d.send_invoke(
                now,
                Code::Local(code.0),
                None,
                Some(p),
                OperationClass::Class2,
                timeout,
            ) {
                d.cancel_invoke(id);
            }
        };
        if let Some((id, i)) = msg.pin {
            let pin = scenario
                .and_then(|s| s.pins.get(usize::from(i)))
                .map_or("", String::as_str);
            self.param.clear();
            if let Ok(g) = GenericDigits::bcd(pin).and_then(|g| g.encode()) {
                ReceivedInformation::DigitsResponse(g.as_bytes()).encode(dialect, &mut self.param);
            }
            let code = Code::Local(OpCode::PROMPT_AND_COLLECT_USER_INFORMATION.0);
            let _ = d.send_result(id, Some((&code, Some(&self.param))), true);
        }
        if msg.srr {
            self.param.clear();
            SpecializedResourceReport::AllAnnouncementsComplete.encode(dialect, &mut self.param);
            invoke(d, OpCode::SPECIALIZED_RESOURCE_REPORT, &self.param);
        }
        if msg.answer {
            invoke(d, OpCode::EVENT_REPORT_BCSM, self.erbs.get(Event::Answer));
        }
        if let Some((t, active)) = msg.acr {
            self.param.clear();
            ApplyChargingReport {
                call_result: CallResult::TimeDuration(TimeDurationChargingResult {
                    party_to_charge: LegType::LEG1,
                    time_information: TimeInformation::NoTariffSwitch(t),
                    leg_active: active,
                    call_leg_released_at_tcp_expiry: false,
                    extensions: None,
                }),
            }
            .encode(dialect, &mut self.param);
            invoke(d, OpCode::APPLY_CHARGING_REPORT, &self.param);
        }
        if let Some(ev) = msg.event {
            invoke(d, OpCode::EVENT_REPORT_BCSM, self.erbs.get(ev));
        }
        self.tcap.clear();
        if d.continue_(now, &mut self.tcap).is_err() {
            return;
        }
        call.step = step;
        call.step_at = now;
        // Serials are unique on the link, so a stale timer of a slot's earlier call never
        // matches the call now in it.
        self.serials = self.serials.wrapping_add(1);
        call.serial = self.serials;
        let serial = call.serial;
        let sls = call.sls;
        emit(
            &mut self.sccp,
            &mut self.wbuf,
            &self.tcap,
            &sh.opts,
            self.scp_addr,
            self.ssp_addr,
            sls,
        );
        self.timeouts.push_back((now + timeout, slot, serial));
    }

    /// Timeouts and real-time holds that are due.
    fn expire(&mut self, now: Instant) {
        let mut st = None;
        while let Some(&(at, slot, serial)) = self.timeouts.front() {
            if at > now {
                break;
            }
            self.timeouts.pop_front();
            let live = self
                .slots
                .get(slot as usize)
                .and_then(|s| s.call.as_ref())
                .is_some_and(|c| c.serial == serial && c.pending.is_none());
            if !live {
                continue;
            }
            let stats = st.get_or_insert_with(|| self.stats.clone()).clone();
            let mut g = stats.lock();
            if let Some(c) = self.slots.get(slot as usize).and_then(|s| s.call.as_ref()) {
                let sc = &self.shared.scenarios;
                if g.examples.len() < MAX_EXAMPLES {
                    let name = sc
                        .scenarios
                        .get(usize::from(c.scenario))
                        .map_or("?", |s| s.name.as_str());
                    g.examples.push(format!(
                        "{name}: timeout waiting for the answer to {}",
                        c.step.name()
                    ));
                }
                g.mismatch(usize::from(c.scenario), Kind::Timeout, true);
            }
            self.shared.totals.failed.fetch_add(1, Ordering::Relaxed);
            self.finish(slot, true);
        }
        while let Some(Reverse((at, slot, serial))) = self.holds.peek().copied() {
            if at > now {
                break;
            }
            self.holds.pop();
            let pending = self
                .slots
                .get_mut(slot as usize)
                .and_then(|s| s.call.as_mut())
                .filter(|c| c.serial == serial)
                .and_then(|c| c.pending.take());
            if let Some((msg, step)) = pending {
                self.send_ssp(now, slot, msg, step);
            }
        }
    }

    /// The call in `slot` is over; abort its dialogue if it failed and is still open.
    fn finish(&mut self, slot: u32, failed: bool) {
        let Some(mut call) = self
            .slots
            .get_mut(slot as usize)
            .and_then(|s| s.call.take())
        else {
            return;
        };
        call.failed |= failed;
        if call.failed && !call.dialogue.is_closed() {
            self.tcap.clear();
            if let Ok(true) =
                call.dialogue
                    .u_abort(Instant::now(), &mut self.tcap, UAbortReason::UserSpecific)
            {
                emit(
                    &mut self.sccp,
                    &mut self.wbuf,
                    &self.tcap,
                    &self.shared.opts,
                    self.scp_addr,
                    self.ssp_addr,
                    call.sls,
                );
            }
        }
        self.free.push(slot);
        self.active = self.active.saturating_sub(1);
        self.shared.totals.active.fetch_sub(1, Ordering::Relaxed);
    }

    /// The link is going away: every call still up is lost.
    fn lose_all(&mut self) {
        let mut g = self.stats.lock();
        for s in &mut self.slots {
            if let Some(c) = s.call.take() {
                g.mismatch(usize::from(c.scenario), Kind::LinkLost, true);
                self.shared.totals.failed.fetch_add(1, Ordering::Relaxed);
                self.shared.totals.active.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.active = 0;
        let _ = self.index;
    }
}

/// Encode `tcap` as M3UA DATA (SCCP UDT (tcap)) onto the write buffer.
fn emit(
    sccp: &mut BytesMut,
    wbuf: &mut BytesMut,
    tcap: &[u8],
    o: &LinkOptions,
    called: SccpAddress,
    calling: SccpAddress,
    sls: u8,
) {
    sccp.clear();
    let udt = SccpMessage::Udt(Udt {
        protocol_class: ProtocolClass::CLASS1,
        called,
        calling,
        data: tcap,
    });
    if udt.encode(sccp).is_err() {
        return;
    }
    let msg = M3uaMessage::from(Body::Data(Data {
        network_appearance: None,
        routing_context: o.routing_context,
        protocol_data: ProtocolData {
            opc: o.opc,
            dpc: o.dpc,
            si: strowger_m3ua::SI_SCCP,
            ni: o.ni,
            mp: 0,
            sls,
            user_data: Cow::Borrowed(&sccp[..]),
        },
        correlation_id: None,
    }));
    let _ = msg.encode(wbuf);
}
