//! `strowger`: the SCP (`serve`), its call generator (`callgen`), the one-command `demo`,
//! and the ledger benchmark (`bench-ledger`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use strowger::config::{Config, LogFormat};

/// jemalloc instead of glibc's malloc: under a steady churn of small blocks in a large heap
/// (idempotency memory of closed calls, per-call actors and messages) glibc's allocator
/// degraded to a p99 of 0.3 s at 20 000 calls/s after a 40 s warm-up, jemalloc to 12 ms
/// (docs/performance-history.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One arena for every thread (the per-thread caches take the common allocations): with
/// jemalloc's default of four per core, 100 000 held calls took 2.10 KiB each instead of 1.97.
/// `_RJEM_MALLOC_CONF` in the environment still overrides it.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"narenas:1\0";

/// Strowger: a Service Control Point (gsmSCF) for enterprise VPN with built-in prepaid
/// charging over SS7-over-IP (M3UA/SCCP/TCAP/CAP and INAP).
#[derive(Parser)]
#[command(version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SCP: M3UA links, call actors, the prepaid ledger and the admin HTTP API.
    Serve {
        /// Configuration file (TOML). Without it, the built-in defaults (loopback).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Record every M3UA message in and out to this pcap file (Wireshark-readable).
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Log format: human or json (overrides the configuration).
        #[arg(long, value_parser = ["human", "json"])]
        log_format: Option<String>,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCommand,
    },
    /// Play the SSP side of CAP calls against an SCP (load test, acceptance check).
    Callgen(Box<strowger::callgen::CallgenArgs>),
    /// Start the SCP on loopback, run ten seconds of mixed calls, reconcile the ledger.
    Demo(strowger::demo::DemoArgs),
    /// Benchmark the durable ledger: full prepaid call cycles at several concurrencies.
    BenchLedger {
        /// Accounts in the large set.
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Seconds per run.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Concurrent callers (comma separated).
        #[arg(long, value_delimiter = ',', default_value = "1,16,256")]
        concurrency: Vec<usize>,
        /// Write the report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Also run against this PostgreSQL database (postgres://…), with one and two nodes.
        #[arg(long)]
        postgres: Option<String>,
        /// Connections per PostgreSQL node.
        #[arg(long, default_value_t = 8)]
        pg_pool: usize,
        /// Skip the embedded ledger (PostgreSQL runs only).
        #[arg(long)]
        skip_embedded: bool,
        /// Send each of a call's four operations as its own request (each awaited) instead of
        /// the SCP's two pairs (Authenticate + ApplyFee, Deduct + Return); for comparison.
        #[arg(long)]
        separate: bool,
        /// The ledger's adaptive group-commit wait, `ledger.batch_linger_us` (0 = never wait).
        #[arg(long, default_value_t = strowger::ledger::LedgerConfig::default().batch_linger_us)]
        linger_us: u64,
        /// The ledger's `snapshot_journal_percent` (0 = snapshot every `snapshot_every_records`
        /// records whatever the snapshot's size).
        #[arg(long, default_value_t = strowger::ledger::LedgerConfig::default().snapshot_journal_percent)]
        snapshot_journal_percent: u64,
        /// Write every snapshot in full (`ledger.snapshot_deltas = false`), for comparison.
        #[arg(long)]
        full_snapshots: bool,
        /// Seconds to pause (after a `sync`) between the PostgreSQL runs (first) and the
        /// embedded runs, for the disk to go quiet.
        #[arg(long, default_value_t = 2.0)]
        settle_secs: f64,
        /// Write the journal through the page cache (`ledger.direct_io = false`), for comparison.
        #[arg(long)]
        buffered_io: bool,
        /// The ledger's busy polling for one-at-a-time requests, `ledger.busy_poll_us`
        /// (0 = off: sleep at once).
        #[arg(long, default_value_t = strowger::ledger::LedgerConfig::default().busy_poll_us)]
        busy_poll_us: u64,
        /// Arbiters (threads) for the callers and the account actors; 0 = as the server's
        /// default (one per core less one, at least one).
        #[arg(long, default_value_t = 0)]
        arbiters: usize,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a complete, commented configuration file (equal to the defaults).
    Example,
    /// Check a configuration file and print it with every default filled in.
    Check {
        /// The file.
        file: PathBuf,
    },
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            pcap,
            log_format,
        } => {
            let cfg = match config {
                Some(p) => match Config::load(&p) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("strowger: {e}");
                        return ExitCode::from(2);
                    }
                },
                None => Config::default(),
            };
            let format = match log_format.as_deref() {
                Some("json") => LogFormat::Json,
                Some(_) => LogFormat::Human,
                None => cfg.log.format,
            };
            init_logging(format, &cfg.log.level);
            match strowger::server::run(cfg, strowger::server::ServeOptions { pcap }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "strowger stopped with an error");
                    eprintln!("strowger: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Config { what } => match what {
            ConfigCommand::Example => {
                print!("{}", strowger::config::EXAMPLE);
                ExitCode::SUCCESS
            }
            ConfigCommand::Check { file } => match Config::load(&file) {
                Ok(c) => {
                    match toml::to_string_pretty(&c) {
                        Ok(s) => print!("{s}"),
                        Err(e) => eprintln!("strowger: {e}"),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("strowger: {e}");
                    ExitCode::from(2)
                }
            },
        },
        Command::Callgen(a) => match strowger::callgen::main(*a) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("strowger callgen: {e}");
                ExitCode::from(2)
            }
        },
        Command::Demo(a) => match strowger::demo::main(a) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("strowger demo: {e}");
                ExitCode::from(2)
            }
        },
        Command::BenchLedger {
            accounts,
            seconds,
            concurrency,
            report,
            postgres,
            pg_pool,
            skip_embedded,
            separate,
            linger_us,
            snapshot_journal_percent,
            full_snapshots,
            settle_secs,
            buffered_io,
            busy_poll_us,
            arbiters,
        } => {
            init_logging(LogFormat::Human, "warn");
            let opts = strowger::ledger::bench::BenchOpts {
                accounts,
                run_secs: seconds,
                concurrency,
                postgres,
                pg_pool,
                skip_embedded,
                separate,
                linger_us,
                snapshot_journal_percent,
                snapshot_deltas: !full_snapshots,
                settle_secs,
                direct_io: !buffered_io,
                busy_poll_us,
                arbiters: strowger::config::arbiters_or_default(arbiters),
                ..Default::default()
            };
            let sys = actix::System::new();
            match sys.block_on(strowger::ledger::bench::bench(opts)) {
                Ok(r) => {
                    print!("{}", r.to_table());
                    if let Some(p) = report {
                        if let Ok(s) = serde_json::to_string_pretty(&r) {
                            let _ = std::fs::write(p, s);
                        }
                    }
                    if !r.reconciled {
                        eprintln!("strowger: the ledger did not reconcile");
                        ExitCode::FAILURE
                    } else if r.restart.as_ref().is_some_and(|x| !x.same_as_before) {
                        eprintln!("strowger: the restarted ledger's accounts differ from before");
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    eprintln!("strowger: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
