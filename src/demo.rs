//! `strowger demo`: the first command on a fresh machine. It starts the SCP in-process on
//! loopback with ephemeral ports and a temporary data directory, loads the example provisioning,
//! runs about ten seconds of mixed calls through the call generator (every scenario of
//! `examples/scenarios.toml`, each answer checked), prints outcomes, calls per second and
//! latency percentiles, reconciles the ledger (balances before − after = Σ charged in the
//! CDRs), stops the SCP and removes the directory. Nothing is left running.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::callgen::{self, reconcile, CallgenArgs, CallgenError};
use crate::config::Config;
use crate::scratch::ScratchDir;
use crate::server::{self, ServeError, ServeOptions};

/// The example provisioning and scenarios, built in so the demo runs from any directory.
const PROVISIONING: &str = include_str!("../examples/provisioning.toml");
const SCENARIOS: &str = include_str!("../examples/scenarios.toml");

/// Options of `strowger demo`.
#[derive(Args, Clone, Debug)]
#[command(
    about = "Start the SCP on loopback, run ten seconds of mixed calls, reconcile the ledger"
)]
pub struct DemoArgs {
    /// Seconds of calls.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// New calls per second.
    #[arg(long, default_value_t = 300.0)]
    pub rate: f64,
    /// M3UA links between the generator and the SCP.
    #[arg(long, default_value_t = 2)]
    pub links: usize,
    /// Progress output: auto, bar, lines, none.
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// Also write the generator's JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Keep the temporary data directory (ledger journal, CDRs) and print where it is.
    #[arg(long)]
    pub keep_data: bool,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            seconds: 10.0,
            rate: 300.0,
            links: 2,
            progress: "auto".into(),
            report: None,
            keep_data: false,
        }
    }
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The SCP did not start or stop cleanly.
    #[error("SCP: {0}")]
    Serve(#[from] ServeError),
    /// The generator failed.
    #[error("callgen: {0}")]
    Callgen(#[from] CallgenError),
    /// The temporary directory.
    #[error("{0}")]
    Io(String),
}

fn temp_dir(keep: bool) -> Result<ScratchDir, DemoError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path =
        std::env::temp_dir().join(format!("strowger-demo-{}-{nanos:08x}", std::process::id()));
    std::fs::create_dir_all(&path)
        .map_err(|e| DemoError::Io(format!("{}: {e}", path.display())))?;
    Ok(ScratchDir { path, keep })
}

/// `strowger demo`. Exit 0 when every call was answered as expected and the ledger balanced.
pub fn main(args: DemoArgs) -> Result<ExitCode, DemoError> {
    let dir = temp_dir(args.keep_data)?;
    let write = |name: &str, text: &str| -> Result<PathBuf, DemoError> {
        let p = dir.path.join(name);
        std::fs::write(&p, text).map_err(|e| DemoError::Io(format!("{}: {e}", p.display())))?;
        Ok(p)
    };
    let provisioning = write("provisioning-example.toml", PROVISIONING)?;
    let scenarios = write("scenarios.toml", SCENARIOS)?;
    let data = dir.path.join("data");

    let mut config = Config::default();
    config.node.data_dir = data.clone();
    config.m3ua.listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
    config.admin.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.services.provisioning = provisioning;
    config.engine.drain_seconds = 5;

    println!(
        "strowger demo: starting the SCP on loopback (data in {})",
        data.display()
    );
    let handle = server::start(config, ServeOptions::default())?;
    let admin = handle.admin_addr();
    println!(
        "  M3UA/TCP (SG) on {}, admin API on http://{}  (routing context 1, SSN 146, PC 2)",
        handle.m3ua_addr(),
        admin
    );
    let before = reconcile::Snapshot::take_text(admin, PROVISIONING)?;
    println!(
        "  example provisioning: 2 VPN groups, {} prepaid accounts",
        before_accounts(&before)
    );
    println!(
        "running {:.0} s of mixed calls at {:.0} calls/s over {} links (every scenario of examples/scenarios.toml)\n",
        args.seconds, args.rate, args.links
    );
    let since = reconcile::now_ms();
    let gen = CallgenArgs {
        scp: handle.m3ua_addr(),
        scenarios,
        links: args.links,
        rate: args.rate,
        duration: args.seconds,
        progress: args.progress.clone(),
        concurrency: 5_000,
        ..CallgenArgs::default()
    };
    let run = callgen::run(&gen);
    let mut report = match run {
        Ok(r) => r,
        Err(e) => {
            let _ = handle.stop();
            return Err(e.into());
        }
    };
    report.reconciliation = Some(reconcile::reconcile_wait(
        &before,
        admin,
        &data,
        since,
        Duration::from_secs(15),
    )?);
    print!("{}", report.table());
    if let Some(p) = &args.report {
        report
            .write_json(p)
            .map_err(|e| DemoError::Io(format!("{}: {e}", p.display())))?;
    }
    handle.stop()?;
    println!("SCP stopped; nothing left running.");
    if args.keep_data {
        println!("data kept in {}", dir.path.display());
    }
    Ok(if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn before_accounts(s: &reconcile::Snapshot) -> usize {
    s.len()
}
