//! The SCP engine: links, the dialogue table, call actors on their arbiters, admission
//! control and shutdown. See `docs/runtime.md` for what it guarantees.

pub mod call;
pub mod capmap;
pub mod dispatch;
pub mod link;
pub mod route;
pub mod trace;
pub mod transport;
pub mod writer;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use dashmap::DashMap;
use strowger_tcap::TransactionId;

use crate::cdr_sink::CdrSink;
use crate::config::{Config, Role};
use crate::ledger::Prepaid;
use crate::metrics as m;
use crate::service::{ProvisioningStore, ServiceConfig};
use call::CallActor;
use trace::Trace;

/// A dialogue-table entry: the call actor owning a local transaction id, and its link.
pub struct Entry {
    /// The call actor.
    pub addr: Addr<CallActor>,
    /// The link the dialogue arrived on.
    pub link: u64,
}

/// Why a new call is not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Live dialogues or queued messages above the configured bounds.
    Overload,
    /// Shutting down.
    Draining,
}

/// The prepaid and VPN services the call actors use.
pub struct Services {
    /// Groups, members, accounts, tariffs.
    pub provisioning: Arc<ProvisioningStore>,
    /// Treatments, slices, policies (shared by the calls).
    pub service: Arc<ServiceConfig>,
    /// The prepaid ledger (embedded account actors or PostgreSQL, per `[ledger].backend`).
    pub accounts: Prepaid,
    /// CDR output.
    pub cdr: CdrSink,
}

/// Shared state of one running SCP.
pub struct Engine {
    /// The configuration it runs with.
    pub config: Config,
    /// The `--pcap` trace, if any.
    pub trace: Option<Arc<Trace>>,
    /// Local transaction id → owner.
    pub table: DashMap<u32, Entry, foldhash::fast::RandomState>,
    /// Messages handed to call actors and not yet handled.
    pub inflight: AtomicUsize,
    /// Set once shutdown begins.
    pub draining: AtomicBool,
    /// TCAP dialogue configuration (supported application contexts, idle timer).
    pub tcap: strowger_tcap::Config,
    /// The services.
    pub services: Services,
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    next_tid: AtomicU32,
    next_call: AtomicU64,
    next_link: AtomicU64,
    links: AtomicUsize,
    overloaded: AtomicBool,
}

impl Engine {
    /// Build the engine state; `arbiters` run the call actors.
    pub fn new(
        config: Config,
        trace: Option<Arc<Trace>>,
        services: Services,
        arbiters: Vec<ArbiterHandle>,
    ) -> Arc<Engine> {
        let mut tcap = strowger_tcap::Config::new(supported_contexts());
        tcap.idle_timeout = Some(Duration::from_secs(config.tcap.idle_timeout_seconds));
        let node = u64::from(config.node.id) << 48;
        let base = rand::random::<u64>() & 0x0000_ffff_0000_0000;
        Arc::new(Engine {
            config,
            trace,
            table: DashMap::with_capacity_and_hasher(4096, Default::default()),
            inflight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            tcap,
            services,
            arbiters,
            next_arbiter: AtomicUsize::new(0),
            next_tid: AtomicU32::new(rand::random::<u32>() | 1),
            next_call: AtomicU64::new(node | base),
            next_link: AtomicU64::new(1),
            links: AtomicUsize::new(0),
            overloaded: AtomicBool::new(false),
        })
    }

    /// The M3UA role of this SCP's links.
    pub fn m3ua_role(&self) -> strowger_m3ua::Role {
        match self.config.m3ua.role {
            Role::Sg => strowger_m3ua::Role::Sg,
            Role::Ipsp => strowger_m3ua::Role::Ipsp,
            Role::Asp => strowger_m3ua::Role::Asp,
        }
    }

    /// M3UA association settings from the configuration.
    pub fn m3ua_config(&self) -> strowger_m3ua::Config {
        let c = &self.config.m3ua;
        strowger_m3ua::Config {
            routing_contexts: c.routing_contexts.clone(),
            network_appearance: c.network_appearance,
            heartbeat_interval: (c.heartbeat_seconds > 0)
                .then(|| Duration::from_secs(c.heartbeat_seconds)),
            ..Default::default()
        }
    }

    /// Whether DATA from this originating point code is accepted.
    pub fn point_code_allowed(&self, opc: u32) -> bool {
        let allowed = &self.config.peers.allowed_point_codes;
        allowed.is_empty() || allowed.contains(&opc)
    }

    /// A fresh local transaction id not in use.
    pub fn next_tid(&self) -> TransactionId {
        loop {
            let t = self.next_tid.fetch_add(1, Ordering::Relaxed);
            if t != 0 && !self.table.contains_key(&t) {
                return TransactionId::from_u32(t);
            }
        }
    }

    /// A fresh call id (node id in the top 16 bits).
    pub fn next_call_id(&self) -> crate::prepaid::CallId {
        crate::prepaid::CallId(self.next_call.fetch_add(1, Ordering::Relaxed))
    }

    /// A fresh link number.
    pub fn next_link_id(&self) -> u64 {
        self.next_link.fetch_add(1, Ordering::Relaxed)
    }

    /// A link actor started (`true`) or stopped.
    pub(crate) fn link_up(&self, up: bool) {
        if up {
            self.links.fetch_add(1, Ordering::Relaxed);
        } else {
            self.links.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether a new call actor should run on the arbiter of the link that carried its
    /// TC-BEGIN: when there are at least as many links as arbiters, the links already spread
    /// the load over the cores, and a call on its link's thread exchanges every message with
    /// it without crossing threads. With fewer links, calls are spread round robin.
    pub fn calls_on_link_arbiter(&self) -> bool {
        self.links.load(Ordering::Relaxed) >= self.arbiters.len().max(1)
    }

    /// The arbiter for the next call actor or link (round robin).
    pub fn arbiter(&self) -> ArbiterHandle {
        let i = self.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.arbiters.len().max(1);
        self.arbiters
            .get(i)
            .cloned()
            .unwrap_or_else(Arbiter::current)
    }

    /// Admission control: `Some(reason)` if a new call must be refused now.
    pub fn refuse_new_call(&self) -> Option<Refusal> {
        if self.draining.load(Ordering::Relaxed) {
            return Some(Refusal::Draining);
        }
        let live = self.table.len();
        let queued = self.inflight.load(Ordering::Relaxed);
        let limit = self.config.engine.max_dialogues;
        let queue_limit = self.config.engine.mailbox * self.arbiters.len().max(1) * 64;
        let over = live >= limit || queued >= queue_limit;
        let was = self.overloaded.swap(over, Ordering::Relaxed);
        if over != was {
            metrics::gauge!(m::OVERLOAD_ACTIVE).set(if over { 1.0 } else { 0.0 });
            if over {
                tracing::warn!(live, queued, "overload: refusing new calls");
            } else {
                tracing::info!(live, "overload over: admitting calls again");
            }
        }
        over.then_some(Refusal::Overload)
    }

    /// Live dialogues.
    pub fn live_dialogues(&self) -> usize {
        self.table.len()
    }

    /// Sample the gauges nothing updates as it happens: mailbox depths.
    pub fn sample_metrics(&self) {
        let call = self.inflight.load(Ordering::Relaxed);
        metrics::gauge!(m::MAILBOX_DEPTH, "actor" => "call").set(call as f64);
        let account = crate::ledger::actor::queued_requests();
        metrics::gauge!(m::MAILBOX_DEPTH, "actor" => "account").set(account as f64);
    }
}

/// Accept SSP links on `listener` until the system stops.
pub fn accept_loop(engine: Arc<Engine>, listener: tokio::net::TcpListener) {
    actix::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if !peer_allowed(&engine, peer) {
                tracing::warn!(%peer, "link from an address not in peers.allowed_ips refused");
                metrics::counter!(m::DECODE_ERRORS, "layer" => "m3ua", "reason" => "peer_not_allowed").increment(1);
                drop(stream);
                continue;
            }
            if engine.draining.load(Ordering::Relaxed) {
                drop(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            // The link (its reader, writer and, while links are at least as many as arbiters,
            // its calls) lives on one arbiter, chosen round robin.
            let stream = match stream.into_std() {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "cannot take over the link socket");
                    continue;
                }
            };
            let e = engine.clone();
            let started = engine
                .arbiter()
                .spawn_fn(move || start_link(e, stream, peer));
            if !started {
                tracing::warn!(%peer, "no arbiter to run the link (shutting down)");
            }
        }
    });
}

/// Start the actors of one accepted link on the current arbiter.
fn start_link(engine: Arc<Engine>, stream: std::net::TcpStream, peer: SocketAddr) {
    let stream = match tokio::net::TcpStream::from_std(stream) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%peer, error = %e, "cannot register the link socket");
            return;
        }
    };
    let local = stream.local_addr().unwrap_or(peer);
    let (read, write) = stream.into_split();
    let id = engine.next_link_id();
    let tx = writer::spawn_writer(id, peer, local, write, engine.trace.clone());
    tracing::info!(link = id, %peer, "link connected");
    let max = engine.config.m3ua.max_message_bytes;
    link::Link::create(move |ctx| {
        ctx.add_stream(link::frames(read, max));
        link::Link::new(engine, tx)
    });
}

/// Every application context the SCP serves, as TCAP object identifiers.
pub fn supported_contexts() -> Vec<strowger_tcap::ObjectId> {
    strowger_cap::dialect::APPLICATION_CONTEXTS
        .iter()
        .filter_map(|(oid, _)| strowger_tcap::ObjectId::from_encoded(oid))
        .collect()
}

fn peer_allowed(engine: &Engine, peer: SocketAddr) -> bool {
    let allowed = &engine.config.peers.allowed_ips;
    allowed.is_empty() || allowed.contains(&peer.ip())
}
