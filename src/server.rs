//! `strowger serve`: start every part of the SCP, run until told to stop, drain and exit.
//!
//! [`start`] runs the SCP on its own threads (an actix System) and returns a handle with the
//! bound addresses, so `demo` and the tests can run it in-process; [`run`] is the blocking
//! form with signal handling that `strowger serve` uses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::admin;
use crate::cdr_sink::CdrSink;
use crate::config::Config;
use crate::engine::call::CallMsg;
use crate::engine::trace::Trace;
use crate::engine::{self, Engine, Services};
use crate::ledger::{
    AccountDirectory, AccountState, AdminRequest, Ledger, LedgerBackend, LedgerConfig, PgLedger,
    Prepaid,
};
use crate::prepaid::AccountId;
use crate::service::{provisioning, Provisioning, ProvisioningStore};

/// Options that are not part of the configuration file.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Record every M3UA message in and out to this pcap file.
    pub pcap: Option<PathBuf>,
}

/// Why the SCP could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A configuration or provisioning problem.
    #[error("{0}")]
    Setup(String),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The server thread ended unexpectedly.
    #[error("server thread failed: {0}")]
    Thread(String),
}

/// A running SCP.
pub struct ServerHandle {
    m3ua: Vec<SocketAddr>,
    admin: SocketAddr,
    data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<Result<(), ServeError>>>,
    engine: Arc<Engine>,
}

impl ServerHandle {
    /// The first M3UA listening address.
    pub fn m3ua_addr(&self) -> SocketAddr {
        self.m3ua[0]
    }
    /// Every M3UA listening address.
    pub fn m3ua_addrs(&self) -> &[SocketAddr] {
        &self.m3ua
    }
    /// The admin HTTP address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }
    /// The data directory (ledger, CDRs, provisioning).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    /// The engine's shared state (ledger, provisioning, dialogue table).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
    /// Drain live calls (up to `engine.drain_seconds`), flush the ledger and CDRs, stop.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.shutdown()
    }
    /// Wait until the server stops by itself (a signal).
    pub fn wait(mut self) -> Result<(), ServeError> {
        // Keep the stop channel open: only a signal ends the server.
        let _keep_open = self.stop.take();
        self.join()
    }

    fn shutdown(&mut self) -> Result<(), ServeError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.join()
    }

    fn join(&mut self) -> Result<(), ServeError> {
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| ServeError::Thread("panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Where the ledger lives: `[ledger].dir`, relative to `node.data_dir` unless absolute.
pub fn ledger_config(config: &Config) -> LedgerConfig {
    let mut l = config.ledger.clone();
    if l.dir.is_relative() {
        l.dir = config.node.data_dir.join(&l.dir);
    }
    l
}

/// Open the configured ledger backend: the embedded journal (with its account actors on
/// `arbiters`) or the shared PostgreSQL database.
pub fn open_ledger(config: &Config, arbiters: Vec<ArbiterHandle>) -> Result<Prepaid, ServeError> {
    let cfg = ledger_config(config);
    match cfg.backend {
        LedgerBackend::Embedded => {
            let ledger =
                Ledger::open(cfg).map_err(|e| ServeError::Setup(format!("ledger: {e}")))?;
            Ok(Prepaid::Embedded(AccountDirectory::start(ledger, arbiters)))
        }
        LedgerBackend::Postgres => PgLedger::open(&cfg)
            .map(Prepaid::Postgres)
            .map_err(|e| ServeError::Setup(format!("ledger: {e}"))),
    }
}

fn load_provisioning(config: &Config) -> Result<Arc<ProvisioningStore>, ServeError> {
    let persisted = config.node.data_dir.join("provisioning.toml");
    let prov = if persisted.exists() {
        Provisioning::load(&persisted)
    } else {
        Provisioning::load(&config.services.provisioning)
    }
    .map_err(|e| ServeError::Setup(format!("provisioning: {e}")))?;
    if !persisted.exists() {
        prov.save(&persisted)
            .map_err(|e| ServeError::Setup(format!("provisioning: {e}")))?;
    }
    Ok(Arc::new(ProvisioningStore::new(prov, Some(persisted))))
}

/// The ledger request that creates (or updates) a provisioned account: its state, its expiry
/// (the end of the expiry day, Unix seconds) and its opening balance.
pub fn upsert_request(a: &provisioning::Account) -> AdminRequest {
    let state = match a.state {
        provisioning::AccountState::Active => AccountState::Active,
        provisioning::AccountState::Suspended => AccountState::Suspended,
        provisioning::AccountState::Expired => AccountState::Expired,
    };
    let expiry = a
        .expiry_epoch_day()
        .map(|d| u64::try_from(d.saturating_add(1).saturating_mul(86_400)).unwrap_or(0));
    AdminRequest::Upsert {
        account: AccountId::new(&a.id),
        state,
        expiry,
        opening_balance: a.balance,
    }
}

/// Create in the ledger every provisioned account it does not know yet, with its opening
/// balance. Accounts the ledger knows keep their ledger balance: the ledger is authoritative.
pub async fn seed_accounts(prov: &Provisioning, accounts: &Prepaid) -> Result<usize, ServeError> {
    use futures::StreamExt;
    let mut work = Vec::new();
    for (id, a) in prov.accounts() {
        let account = AccountId::new(id);
        if accounts.embedded().is_some_and(|l| l.contains(&account)) {
            continue;
        }
        work.push((id.clone(), upsert_request(a)));
    }
    let mut created = 0;
    // Many at once, so group commit makes them durable together. An account another node
    // created meanwhile (shared PostgreSQL ledger) is left as it is.
    let mut results = futures::stream::iter(work)
        .map(|(id, req)| async move { (id, accounts.create_if_absent(req).await) })
        .buffer_unordered(256);
    while let Some((id, r)) = results.next().await {
        if r.map_err(|e| ServeError::Setup(format!("seeding account {id}: {e}")))? {
            created += 1;
        }
    }
    Ok(created)
}

/// Start the SCP on its own threads.
pub fn start(config: Config, opts: ServeOptions) -> Result<ServerHandle, ServeError> {
    config
        .validate()
        .map_err(|e| ServeError::Setup(e.to_string()))?;
    std::fs::create_dir_all(&config.node.data_dir)
        .map_err(|e| ServeError::Setup(format!("{}: {e}", config.node.data_dir.display())))?;
    let metrics = crate::metrics::install();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = thread::Builder::new()
        .name("strowger-main".into())
        .spawn(move || {
            let sys = System::new();
            let (r, arbiters, engine) = sys.block_on(async move {
                match setup(config, opts, metrics).await {
                    Ok(running) => {
                        let engine = running.engine.clone();
                        let _ = ready_tx.send(Ok((
                            running.m3ua.clone(),
                            running.admin,
                            engine.clone(),
                        )));
                        let (r, arbiters) = running.serve_until(stop_rx).await;
                        (r, arbiters, Some(engine))
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        (Ok(()), Vec::new(), None)
                    }
                }
            });
            System::current().stop();
            // Wait until the arbiters' actors (links, calls, accounts) are gone, then close
            // the ledger: when this returns its directory is unlocked, even if a thread that
            // is still ending (an admin HTTP worker) holds a clone a little longer.
            for a in arbiters {
                let _ = a.join();
            }
            if let Some(engine) = engine {
                engine.services.accounts.close();
            }
            r
        })
        .map_err(|e| ServeError::Thread(e.to_string()))?;
    match ready_rx.recv() {
        Ok(Ok((m3ua, admin, engine))) => Ok(ServerHandle {
            m3ua,
            admin,
            data_dir: engine.config.node.data_dir.clone(),
            stop: Some(stop_tx),
            thread: Some(thread),
            engine,
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => Err(ServeError::Thread(
            "server thread ended during start".into(),
        )),
    }
}

/// Run the SCP until SIGTERM or Ctrl-C, then drain and return.
pub fn run(config: Config, opts: ServeOptions) -> Result<(), ServeError> {
    let handle = start(config, opts)?;
    tracing::info!(
        m3ua = ?handle.m3ua_addrs(),
        admin = %handle.admin_addr(),
        "strowger SCP running"
    );
    handle.wait()
}

struct Running {
    engine: Arc<Engine>,
    m3ua: Vec<SocketAddr>,
    admin: SocketAddr,
    admin_server: actix_web::dev::ServerHandle,
    arbiters: Vec<Arbiter>,
}

async fn setup(
    config: Config,
    opts: ServeOptions,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<Running, ServeError> {
    let trace = match &opts.pcap {
        Some(p) => {
            Some(Arc::new(Trace::create(p).map_err(|e| {
                ServeError::Setup(format!("{}: {e}", p.display()))
            })?))
        }
        None => None,
    };
    let provisioning = load_provisioning(&config)?;
    let n = config.arbiters();
    let arbiters = (0..n)
        .map(|_| crate::ledger::durable::arbiter())
        .collect::<Result<Vec<Arbiter>, _>>()
        .map_err(|e| ServeError::Setup(format!("arbiter thread: {e}")))?;
    let handles: Vec<ArbiterHandle> = arbiters.iter().map(|a| a.handle()).collect();
    let accounts = open_ledger(&config, handles.clone())?;
    let seeded = seed_accounts(&provisioning.snapshot(), &accounts).await?;
    if seeded > 0 {
        tracing::info!(
            accounts = seeded,
            "prepaid accounts created from provisioning"
        );
    }
    let cdr = if config.cdr.enabled {
        CdrSink::start(&config.node.data_dir.join("cdr"), config.cdr.rotate_bytes)
            .map_err(|e| ServeError::Setup(format!("CDR directory: {e}")))?
    } else {
        CdrSink::disabled()
    };
    let services = Services {
        provisioning,
        service: Arc::new(config.service.clone()),
        accounts,
        cdr,
    };
    let engine = Engine::new(config.clone(), trace, services, handles);
    let mut m3ua = Vec::new();
    for addr in &config.m3ua.listen {
        let l = engine::transport::bind(*addr, config.m3ua.transport).map_err(|source| {
            ServeError::Bind {
                addr: *addr,
                source,
            }
        })?;
        m3ua.push(l.local_addr().unwrap_or(*addr));
        engine::accept_loop(engine.clone(), l);
    }
    let (admin_server, admin) =
        admin::start(engine.clone(), metrics).map_err(|source| ServeError::Bind {
            addr: config.admin.listen,
            source,
        })?;
    // Sample process metrics and mailbox depth once a second.
    let sampled = engine.clone();
    actix::spawn(async move {
        loop {
            crate::metrics::sample_process();
            sampled.sample_metrics();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(Running {
        engine,
        m3ua,
        admin,
        admin_server,
        arbiters,
    })
}

impl Running {
    /// Serve until asked to stop or signalled; returns the stopped arbiters to join.
    async fn serve_until(
        self,
        stop: oneshot::Receiver<()>,
    ) -> (Result<(), ServeError>, Vec<Arbiter>) {
        tokio::select! {
            _ = stop => tracing::info!("stop requested"),
            _ = shutdown_signal() => tracing::info!("signal received"),
        }
        (Ok(()), self.drain().await)
    }

    async fn drain(self) -> Vec<Arbiter> {
        let engine = &self.engine;
        engine.draining.store(true, Ordering::Relaxed);
        let live = engine.live_dialogues();
        tracing::info!(live, "draining: no new calls admitted");
        let deadline = Instant::now() + Duration::from_secs(engine.config.engine.drain_seconds);
        while engine.live_dialogues() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = engine.live_dialogues();
        if left > 0 {
            tracing::info!(left, "drain time over: releasing the remaining calls");
            for e in engine.table.iter() {
                e.addr.do_send(CallMsg::Release);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while engine.live_dialogues() > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // Every settlement was acknowledged only once durable; snapshot so the next start is
        // quick, and flush the CDRs.
        if let Err(e) = engine.services.accounts.snapshot_now() {
            tracing::warn!(error = %e, "snapshot at shutdown failed");
        }
        engine.services.cdr.flush();
        self.admin_server.stop(true).await;
        for a in &self.arbiters {
            a.stop();
        }
        tracing::info!("stopped");
        self.arbiters
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
