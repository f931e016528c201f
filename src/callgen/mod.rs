//! `strowger callgen`: the SSP side of CAP calls over the real wire stack (M3UA over TCP, SCCP
//! UDT, TCAP, CAP), for load tests and acceptance checks of any SCP (DESIGN §7).
//!
//! * [`scenario`]: the scenario file (weighted mix, subscriber ranges, expected answers).
//! * [`ssp`]: one call's SSP state machine and the check of every SCP answer.
//! * [`link`]: one TCP/M3UA link multiplexing many calls in one task.
//! * [`stats`], [`progress`], [`report`]: HDR histograms, live progress, the final table and
//!   JSON report.
//! * [`reflector`]: `--reflect`, a peer that answers without any service logic (the transport
//!   ceiling for benchmarks).
//! * [`reconcile`]: ledger reconciliation through the admin API and the CDR files.
//!
//! Rate control: a constant rate (`--rate`), a ramp (`--ramp-to`), or `--max`, a search for
//! the highest rate with no mismatch and the p99 answer latency under `--p99-ms`. Hold times
//! are simulated (see [`ssp`]) unless `--real-hold`.

pub mod link;
pub mod progress;
pub mod reconcile;
pub mod reflector;
pub mod report;
pub mod rxstamp;
pub mod scenario;
pub mod ssp;
pub mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use parking_lot::Mutex;

use link::{LinkError, LinkOptions, Shared};
use report::{MaxStep, Report};
use scenario::{ScenarioError, Scenarios};
use stats::{LinkStats, Totals};

/// Options of `strowger callgen`.
#[derive(Args, Clone, Debug)]
#[command(about = "Play the SSP side of CAP calls against an SCP and check every answer")]
pub struct CallgenArgs {
    /// The SCP's M3UA/TCP address (the generator is the ASP and sends ASP Up / ASP Active).
    #[arg(long, default_value = "127.0.0.1:2905", value_name = "ADDR")]
    pub scp: SocketAddr,
    /// Scenario file (TOML); see examples/scenarios.toml for every field.
    #[arg(long, default_value = "examples/scenarios.toml", value_name = "FILE")]
    pub scenarios: PathBuf,
    /// Run only these scenarios (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,
    /// Number of M3UA links (TCP connections) sharing the load.
    #[arg(long, default_value_t = 1)]
    pub links: usize,
    /// New calls per second (the start rate with --ramp-to or --max).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Ramp the rate linearly from --rate to this over --ramp-secs.
    #[arg(long, value_name = "CPS")]
    pub ramp_to: Option<f64>,
    /// Length of the ramp in seconds (default: the whole --duration).
    #[arg(long, value_name = "SECS")]
    pub ramp_secs: Option<f64>,
    /// Search for the highest rate with no mismatch and p99 under --p99-ms, in steps of
    /// --step-secs starting at --rate (doubling, then bisecting).
    #[arg(long)]
    pub max: bool,
    /// Latency bound of --max: p99 of every answer in a step, milliseconds.
    #[arg(long, default_value_t = 10.0, value_name = "MS")]
    pub p99_ms: f64,
    /// Length of each --max step, seconds.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub step_secs: f64,
    /// Most --max steps.
    #[arg(long, default_value_t = 12)]
    pub max_steps: u32,
    /// How long to start calls, seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub duration: f64,
    /// Stop after starting this many calls (sooner than --duration if reached).
    #[arg(long, value_name = "N")]
    pub calls: Option<u64>,
    /// Most calls in progress at once, over all links.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub concurrency: usize,
    /// How long to wait for each SCP answer before counting a timeout, milliseconds.
    #[arg(long, default_value_t = 5_000, value_name = "MS")]
    pub timeout_ms: u64,
    /// After the last start, how long calls may take to finish, seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub drain_secs: f64,
    /// Wait hold times in real time (default: simulate them in the charging reports).
    #[arg(long)]
    pub real_hold: bool,
    /// M3UA routing context (0: leave it out).
    #[arg(long, default_value_t = 1)]
    pub routing_context: u32,
    /// Our point code (OPC).
    #[arg(long, default_value_t = 1)]
    pub opc: u32,
    /// The SCP's point code (DPC).
    #[arg(long, default_value_t = 2)]
    pub dpc: u32,
    /// MTP3 network indicator.
    #[arg(long, default_value_t = 2)]
    pub ni: u8,
    /// Our SCCP subsystem number.
    #[arg(long, default_value_t = 146)]
    pub ssn: u8,
    /// The SCP's SCCP subsystem number.
    #[arg(long, default_value_t = 146)]
    pub scp_ssn: u8,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Progress output: auto (a bar on a terminal, lines otherwise), bar, lines, none.
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// Take the scenarios in turn instead of at random by weight (every scenario is covered
    /// with --calls = a multiple of their number; weights are ignored).
    #[arg(long)]
    pub round_robin: bool,
    /// Random seed (scenario picks, subscribers, hold times).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Generator threads (1: a single-threaded runtime, which leaves the SCP the other cores).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Admin API of the SCP (e.g. 127.0.0.1:8080): reconcile the ledger (balances before −
    /// after = Σ charged in the CDRs). Needs --data-dir.
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<SocketAddr>,
    /// The SCP's data directory (its cdr/ files are read for the reconciliation).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Provisioning file naming the accounts to reconcile.
    #[arg(
        long,
        default_value = "examples/provisioning.toml",
        value_name = "FILE"
    )]
    pub provisioning: PathBuf,
    /// Run the reflector instead: answer every InitialDP with a fixed TC-CONTINUE and every
    /// later message with TC-END, with no CAP decoding or service logic.
    #[arg(long)]
    pub reflect: bool,
    /// Reflector: listen address (port 0: any; the address is printed).
    #[arg(long, default_value = "127.0.0.1:2905", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Reflector: the Connect destination of its fixed answer.
    #[arg(long, default_value = "12125560000", value_name = "DIGITS")]
    pub reflect_connect: String,
}

impl Default for CallgenArgs {
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            a: CallgenArgs,
        }
        // Parsing no arguments cannot fail: every field has a default.
        match Wrap::try_parse_from(["callgen"]) {
            Ok(w) => w.a,
            Err(e) => unreachable!("callgen defaults: {e}"),
        }
    }
}

/// Why callgen could not run.
#[derive(Debug, thiserror::Error)]
pub enum CallgenError {
    /// The scenario file.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A link failed to come up.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Bad options.
    #[error("{0}")]
    Usage(String),
    /// I/O (runtime, report file, reflector socket).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The ledger reconciliation could not be made.
    #[error("reconciliation: {0}")]
    Reconcile(String),
}

fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> CallgenError + '_ {
    move |source| CallgenError::Io {
        what: what.to_string(),
        source,
    }
}

/// `strowger callgen`: run, print the report, and exit 0 only if every answer was as
/// expected (and, with --admin, the ledger reconciles).
pub fn main(args: CallgenArgs) -> Result<ExitCode, CallgenError> {
    if args.reflect {
        reflector::main(&args)?;
        return Ok(ExitCode::SUCCESS);
    }
    let before = match (&args.admin, &args.data_dir) {
        (Some(admin), Some(_)) => Some(reconcile::Snapshot::take(*admin, &args.provisioning)?),
        (Some(_), None) | (None, Some(_)) => {
            return Err(CallgenError::Usage(
                "--admin and --data-dir go together".into(),
            ))
        }
        (None, None) => None,
    };
    let started_ms = reconcile::now_ms();
    let mut rep = run(&args)?;
    if let (Some(before), Some(admin), Some(dir)) = (before, args.admin, &args.data_dir) {
        rep.reconciliation = Some(reconcile::reconcile(&before, admin, dir, started_ms)?);
    }
    print!("{}", rep.table());
    if let Some(path) = &args.report {
        rep.write_json(path).map_err(io_err("writing the report"))?;
    }
    Ok(if rep.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Run the generator with `args` and return its report (nothing printed but progress).
pub fn run(args: &CallgenArgs) -> Result<Report, CallgenError> {
    let mut scenarios = Scenarios::load(&args.scenarios)?;
    if !args.only.is_empty() {
        scenarios.retain(&args.only)?;
    }
    if args.links == 0 || args.concurrency == 0 {
        return Err(CallgenError::Usage(
            "--links and --concurrency must be positive".into(),
        ));
    }
    if !(args.rate.is_finite() && args.rate >= 0.0) || args.duration < 0.0 {
        return Err(CallgenError::Usage(
            "--rate and --duration must be positive".into(),
        ));
    }
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .map_err(io_err("starting the runtime"))?;
    rt.block_on(drive(args, scenarios))
}

async fn drive(args: &CallgenArgs, scenarios: Scenarios) -> Result<Report, CallgenError> {
    let names: Vec<String> = scenarios.scenarios.iter().map(|s| s.name.clone()).collect();
    let n = names.len();
    let links = args.links;
    let shared = Arc::new(Shared {
        scenarios,
        opts: LinkOptions {
            scp: args.scp,
            routing_context: (args.routing_context != 0).then_some(args.routing_context),
            opc: args.opc,
            dpc: args.dpc,
            ni: args.ni,
            local_ssn: args.ssn,
            remote_ssn: args.scp_ssn,
            concurrency: args.concurrency.div_ceil(links).max(1),
            timeout: Duration::from_millis(args.timeout_ms.max(1)),
            real_hold: args.real_hold,
            seed: args.seed,
            links,
            round_robin: args.round_robin,
        },
        totals: Totals::default(),
        rate_milli: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        quit: AtomicBool::new(false),
        turn: AtomicU64::new(0),
        budget: AtomicI64::new(
            args.calls
                .map_or(i64::MAX, |c| i64::try_from(c).unwrap_or(i64::MAX)),
        ),
    });
    let stats: Vec<Arc<Mutex<LinkStats>>> = (0..links)
        .map(|_| Arc::new(Mutex::new(LinkStats::new(n))))
        .collect();
    let mut tasks = Vec::with_capacity(links);
    for (i, st) in stats.iter().enumerate() {
        tasks.push(tokio::spawn(link::run(i, shared.clone(), st.clone())));
    }
    // Wait for every link to be up (or one to fail).
    let up_deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if Totals::get(&shared.totals.links_up) as usize == links {
            break;
        }
        if let Some(i) = tasks.iter().position(|t| t.is_finished()) {
            let t = tasks.swap_remove(i);
            shared.quit.store(true, Ordering::Relaxed);
            return Err(match t.await {
                Ok(Err(e)) => CallgenError::Link(e),
                Ok(Ok(())) => CallgenError::Usage("a link ended before coming up".into()),
                Err(e) => CallgenError::Usage(format!("link task failed: {e}")),
            });
        }
        if Instant::now() > up_deadline {
            shared.quit.store(true, Ordering::Relaxed);
            return Err(CallgenError::Usage(format!(
                "links to {} did not come up within 10 s",
                args.scp
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let start = Instant::now();
    let mut prog = progress::Progress::new(&args.progress, args, start);
    let mut max_steps = Vec::new();
    let mut max_found = None;
    if args.max {
        let (steps, found) = search_max(args, &shared, &stats, &mut prog, start).await;
        max_steps = steps;
        max_found = found;
    } else {
        let ramp_secs = args.ramp_secs.unwrap_or(args.duration).max(1e-3);
        loop {
            let t = start.elapsed().as_secs_f64();
            if t >= args.duration || shared.stop.load(Ordering::Relaxed) {
                break;
            }
            let rate = match args.ramp_to {
                Some(to) => args.rate + (to - args.rate) * (t / ramp_secs).min(1.0),
                None => args.rate,
            };
            shared
                .rate_milli
                .store((rate * 1000.0) as u64, Ordering::Relaxed);
            prog.tick(&shared, &stats, rate);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let load_secs = start.elapsed().as_secs_f64();
    shared.stop.store(true, Ordering::Relaxed);
    shared.rate_milli.store(0, Ordering::Relaxed);
    // Drain: calls in progress finish or time out.
    let drain_deadline = Instant::now()
        + Duration::from_secs_f64(args.drain_secs.max(0.0))
        + Duration::from_millis(args.timeout_ms);
    while Totals::get(&shared.totals.active) > 0 && Instant::now() < drain_deadline {
        prog.tick(&shared, &stats, 0.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shared.quit.store(true, Ordering::Relaxed);
    let mut link_errors = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => link_errors.push(e.to_string()),
            Err(e) => link_errors.push(format!("link task failed: {e}")),
        }
    }
    prog.finish();
    let merged = stats::merged(&stats, n);
    Ok(Report::build(
        args,
        &names,
        &merged,
        &shared.totals,
        load_secs,
        start.elapsed().as_secs_f64(),
        max_steps,
        max_found,
        link_errors,
    ))
}

/// `--max`: run steps at a rate, pause and drain, judge the step, then double or bisect.
async fn search_max(
    args: &CallgenArgs,
    shared: &Arc<Shared>,
    stats: &[Arc<Mutex<LinkStats>>],
    prog: &mut progress::Progress,
    _start: Instant,
) -> (Vec<MaxStep>, Option<f64>) {
    let mut steps = Vec::new();
    let mut lo: Option<f64> = None;
    let mut hi: Option<f64> = None;
    let mut rate = args.rate.max(1.0);
    let bound_us = (args.p99_ms * 1000.0) as u64;
    for _ in 0..args.max_steps {
        for s in stats {
            s.lock().window.reset();
        }
        let t = &shared.totals;
        let (s0, f0, b0) = (
            Totals::get(&t.started),
            Totals::get(&t.failed),
            Totals::get(&t.behind),
        );
        shared
            .rate_milli
            .store((rate * 1000.0) as u64, Ordering::Relaxed);
        let step_start = Instant::now();
        while step_start.elapsed().as_secs_f64() < args.step_secs {
            if shared.stop.load(Ordering::Relaxed) {
                break;
            }
            prog.tick(shared, stats, rate);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let secs = step_start.elapsed().as_secs_f64().max(1e-3);
        shared.rate_milli.store(0, Ordering::Relaxed);
        let started = Totals::get(&t.started) - s0;
        let drain = Instant::now() + Duration::from_millis(args.timeout_ms) * 2;
        while Totals::get(&t.active) > 0 && Instant::now() < drain {
            prog.tick(shared, stats, 0.0);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let failed = Totals::get(&t.failed) - f0;
        let behind = Totals::get(&t.behind) - b0;
        let mut window = stats::histogram();
        for s in stats {
            let _ = window.add(&s.lock().window);
        }
        let p99 = window.value_at_quantile(0.99);
        let achieved = started as f64 / secs;
        let pass = failed == 0
            && p99 <= bound_us
            && achieved >= 0.97 * rate
            && (behind as f64) < 0.01 * rate * secs;
        steps.push(MaxStep {
            target: rate,
            achieved,
            p99_ms: p99 as f64 / 1000.0,
            failed,
            pass,
        });
        prog.note(&format!(
            "step {:>8.0} cps: achieved {:>8.0}, p99 {:>7.2} ms, failed {} -> {}",
            rate,
            achieved,
            p99 as f64 / 1000.0,
            failed,
            if pass { "pass" } else { "fail" }
        ));
        if pass {
            lo = Some(rate);
        } else {
            hi = Some(rate);
        }
        rate = match (lo, hi) {
            (Some(l), Some(h)) => {
                if h / l < 1.05 {
                    break;
                }
                (l + h) / 2.0
            }
            (Some(l), None) => l * 2.0,
            (None, Some(h)) => {
                if h <= 1.0 {
                    break;
                }
                h / 4.0
            }
            (None, None) => break,
        };
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
    }
    (steps, lo)
}
