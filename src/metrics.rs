//! Metric names, descriptions and the Prometheus recorder.
//!
//! Names follow `strowger_<subsystem>_<thing>_<unit>` with `_total` for counters and base
//! units; labels take values from small fixed sets (never a number, call id or MSISDN).
//! `docs/metrics.md` is the operator's catalogue of the same list; a test keeps the two equal.

use std::cell::RefCell;
use std::sync::OnceLock;

use metrics::{
    describe_counter, describe_gauge, describe_histogram, Counter, Gauge, Histogram, Label, Unit,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Link and message metrics of the M3UA layer.
pub const M3UA_LINKS: &str = "strowger_m3ua_links";
/// M3UA messages per direction and class.
pub const M3UA_MESSAGES: &str = "strowger_m3ua_messages_total";
/// Messages per layer, type and direction (sccp, tcap).
pub const LAYER_MESSAGES: &str = "strowger_layer_messages_total";
/// Decode errors per layer and reason.
pub const DECODE_ERRORS: &str = "strowger_decode_errors_total";
/// Live TCAP dialogues.
pub const TCAP_DIALOGUES_ACTIVE: &str = "strowger_tcap_dialogues_active";
/// TCAP dialogues begun.
pub const TCAP_DIALOGUES_BEGUN: &str = "strowger_tcap_dialogues_begun_total";
/// TCAP dialogues ended normally.
pub const TCAP_DIALOGUES_ENDED: &str = "strowger_tcap_dialogues_ended_total";
/// TCAP dialogues aborted, by cause.
pub const TCAP_DIALOGUES_ABORTED: &str = "strowger_tcap_dialogues_aborted_total";
/// TCAP dialogues closed by the idle timer.
pub const TCAP_DIALOGUES_TIMED_OUT: &str = "strowger_tcap_dialogues_timed_out_total";
/// CAP/INAP operations by opcode and direction.
pub const CAP_OPERATIONS: &str = "strowger_cap_operations_total";
/// Call attempts (InitialDPs received, including refused ones).
pub const CALL_ATTEMPTS: &str = "strowger_call_attempts_total";
/// Finished call attempts by outcome.
pub const CALLS: &str = "strowger_calls_total";
/// InitialDP received → first answer sent.
pub const CALL_SETUP_SECONDS: &str = "strowger_call_setup_seconds";
/// Answered call durations.
pub const CALL_DURATION_SECONDS: &str = "strowger_call_duration_seconds";
/// Live prepaid reservations.
pub const PREPAID_RESERVATIONS: &str = "strowger_prepaid_reservations_live";
/// Money moved by prepaid operation (applied, deducted, returned, expired), minor units.
pub const PREPAID_MONEY: &str = "strowger_prepaid_money_minor_units_total";
/// Prepaid requests by operation and result.
pub const PREPAID_REQUESTS: &str = "strowger_prepaid_requests_total";
/// Ledger group commits.
pub const LEDGER_COMMITS: &str = "strowger_ledger_commits_total";
/// Ledger records made durable.
pub const LEDGER_RECORDS: &str = "strowger_ledger_records_total";
/// Operations per batched PostgreSQL transaction (postgres backend).
pub const LEDGER_PG_BATCH_OPS: &str = "strowger_ledger_pg_batch_ops";
/// Records per group commit.
pub const LEDGER_BATCH_RECORDS: &str = "strowger_ledger_batch_records";
/// Group-commit write + fdatasync latency.
pub const LEDGER_FSYNC_SECONDS: &str = "strowger_ledger_fsync_seconds";
/// Prepaid request latency as a call sees it, by stage (`answer`: the account actor decided; `durable`: and the change is on disk).
pub const PREPAID_REQUEST_SECONDS: &str = "strowger_prepaid_request_seconds";
/// Journal bytes on disk.
pub const LEDGER_JOURNAL_BYTES: &str = "strowger_ledger_journal_bytes";
/// Ledger write/fsync failures.
pub const LEDGER_FAILURES: &str = "strowger_ledger_failures_total";
/// Reservations expired by the ledger.
pub const LEDGER_EXPIRED: &str = "strowger_ledger_reservations_expired_total";
/// Ledger snapshots written.
pub const LEDGER_SNAPSHOTS: &str = "strowger_ledger_snapshots_total";
/// Ledger snapshots that failed to write.
pub const LEDGER_SNAPSHOT_FAILURES: &str = "strowger_ledger_snapshot_failures_total";
/// Torn journal tails truncated at recovery.
pub const LEDGER_TORN_TAILS: &str = "strowger_ledger_torn_tail_truncations_total";
/// Failed attempts to prepare a preallocated journal segment (the writer keeps appending
/// to plain segments meanwhile).
pub const LEDGER_PREALLOCATION_FAILURES: &str = "strowger_ledger_preallocation_failures_total";
/// Busy polls for one-at-a-time requests (`ledger.busy_poll_us`) by who polled (`writer`: for the next
/// record; `arbiter`: for a commit its calls wait on) and result (`hit`: it came while polling).
pub const LEDGER_BUSY_POLLS: &str = "strowger_ledger_busy_polls_total";
/// Deduct requests above the reservation (clamped).
pub const LEDGER_OVERDEDUCTS: &str = "strowger_ledger_overdeduct_total";
/// InitialDPs refused by admission control.
pub const ADMISSION_REJECTIONS: &str = "strowger_admission_rejections_total";
/// CallGap operations sent.
pub const CALLGAPS_SENT: &str = "strowger_callgap_sent_total";
/// 1 while admission control is refusing calls.
pub const OVERLOAD_ACTIVE: &str = "strowger_overload_active";
/// Messages waiting in actor mailboxes, by actor kind (sampled).
pub const MAILBOX_DEPTH: &str = "strowger_actor_mailbox_depth";
/// Process CPU time (user + system), fractional seconds.
pub const PROCESS_CPU_SECONDS: &str = "strowger_process_cpu_seconds_total";
/// Process resident memory.
pub const PROCESS_RESIDENT_BYTES: &str = "strowger_process_resident_memory_bytes";
/// CDRs written.
pub const CDRS_WRITTEN: &str = "strowger_cdr_records_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Buckets of the per-batch count histograms.
const POWERS_OF_TWO: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// Install the Prometheus recorder once per process and describe every metric. Returns the
/// handle `/metrics` renders from. Safe to call more than once.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                        0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(LEDGER_BATCH_RECORDS.into()),
                        POWERS_OF_TWO,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(LEDGER_PG_BATCH_OPS.into()),
                        POWERS_OF_TWO,
                    )
                });
            let handle = match builder.and_then(|b| b.install_recorder()) {
                Ok(h) => h,
                // Another recorder is installed (e.g. in-process tests): keep a private one.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            describe();
            register_fixed_series();
            start_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// How often histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The recorder keeps every histogram sample until it is folded into the buckets, which
/// otherwise happens only when `/metrics` is scraped: an SCP nobody scrapes would grow by a few
/// samples per call for ever (about 40 bytes per call). A small thread folds them every second.
fn start_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: histograms fold only when scraped");
    }
}

fn describe() {
    describe_gauge!(M3UA_LINKS, "M3UA links by state (up = ASP active)");
    describe_counter!(
        M3UA_MESSAGES,
        "M3UA messages by direction and message class"
    );
    describe_counter!(
        LAYER_MESSAGES,
        "SCCP and TCAP messages by layer, type and direction"
    );
    describe_counter!(
        DECODE_ERRORS,
        "Messages that failed to decode, by layer and reason"
    );
    describe_gauge!(TCAP_DIALOGUES_ACTIVE, "TCAP dialogues alive now");
    describe_counter!(TCAP_DIALOGUES_BEGUN, "TCAP dialogues begun by an SSP");
    describe_counter!(TCAP_DIALOGUES_ENDED, "TCAP dialogues ended normally");
    describe_counter!(TCAP_DIALOGUES_ABORTED, "TCAP dialogues aborted, by cause");
    describe_counter!(
        TCAP_DIALOGUES_TIMED_OUT,
        "TCAP dialogues closed by the idle timer"
    );
    describe_counter!(
        CAP_OPERATIONS,
        "CAP/INAP operations by operation and direction"
    );
    describe_counter!(
        CALL_ATTEMPTS,
        "Call attempts: InitialDPs received, refused ones included"
    );
    describe_counter!(CALLS, "Finished call attempts by outcome");
    describe_histogram!(
        CALL_SETUP_SECONDS,
        Unit::Seconds,
        "InitialDP received to the SCP's first answer sent"
    );
    describe_histogram!(
        CALL_DURATION_SECONDS,
        Unit::Seconds,
        "Answered call duration"
    );
    describe_gauge!(
        PREPAID_RESERVATIONS,
        "Prepaid reservations (applied fees) alive now"
    );
    describe_counter!(
        PREPAID_MONEY,
        "Money moved by prepaid operations, in minor units: applied, deducted, returned, expired"
    );
    describe_counter!(PREPAID_REQUESTS, "Prepaid requests by operation and result");
    describe_histogram!(
        PREPAID_REQUEST_SECONDS,
        Unit::Seconds,
        "Prepaid request sent to the account actor until its answer (stage=answer), and until the change it made is durable (stage=durable)"
    );
    describe_counter!(LEDGER_COMMITS, "Ledger group commits (one fdatasync each)");
    describe_counter!(LEDGER_RECORDS, "Ledger records made durable");
    describe_counter!(
        LEDGER_BUSY_POLLS,
        "Busy polls for one-at-a-time requests (ledger.busy_poll_us) by who polled (writer, arbiter) and result (hit: what it polled for came, miss: it slept after all)"
    );
    describe_histogram!(
        LEDGER_PG_BATCH_OPS,
        "Operations per batched PostgreSQL transaction (postgres backend)"
    );
    describe_histogram!(
        LEDGER_BATCH_RECORDS,
        "Records made durable per group commit"
    );
    describe_histogram!(
        LEDGER_FSYNC_SECONDS,
        Unit::Seconds,
        "Ledger group-commit latency: write plus fdatasync"
    );
    describe_gauge!(
        LEDGER_JOURNAL_BYTES,
        Unit::Bytes,
        "Ledger journal size on disk"
    );
    describe_counter!(LEDGER_FAILURES, "Ledger write or fsync failures");
    describe_counter!(
        LEDGER_EXPIRED,
        "Reservations expired because their call was gone"
    );
    describe_counter!(LEDGER_SNAPSHOTS, "Ledger snapshots written, full or delta");
    describe_counter!(LEDGER_SNAPSHOT_FAILURES, "Ledger snapshots that failed");
    describe_counter!(
        LEDGER_PREALLOCATION_FAILURES,
        "Failed attempts to prepare a preallocated journal segment"
    );
    describe_counter!(
        LEDGER_TORN_TAILS,
        "Torn journal tails truncated during recovery"
    );
    describe_counter!(
        LEDGER_OVERDEDUCTS,
        "Deduct requests above the call's reservation (clamped to it)"
    );
    describe_counter!(
        ADMISSION_REJECTIONS,
        "InitialDPs refused by admission control"
    );
    describe_counter!(CALLGAPS_SENT, "CallGap operations sent to SSPs");
    describe_gauge!(
        OVERLOAD_ACTIVE,
        "1 while admission control refuses new calls"
    );
    describe_gauge!(
        MAILBOX_DEPTH,
        "Messages waiting for call actors, requests waiting for account actors (sampled)"
    );
    // A gauge holding a monotonic absolute: the facade's counters are integers, and whole
    // seconds would make rate() useless at low load.
    describe_gauge!(
        PROCESS_CPU_SECONDS,
        Unit::Seconds,
        "CPU time (user + system) used by the process; monotonic"
    );
    describe_gauge!(
        PROCESS_RESIDENT_BYTES,
        Unit::Bytes,
        "Resident memory of the process"
    );
    describe_counter!(CDRS_WRITTEN, "Call detail records written");
}

/// Every call outcome label (`strowger_calls_total{outcome}`).
pub const OUTCOMES: &[&str] = &[
    "answered",
    "busy",
    "no_answer",
    "abandon",
    "route_failure",
    "vpn_auth_failed",
    "prepaid_auth_failed",
    "screened",
    "released_for_credit",
    "ledger_unavailable",
    "unknown_service_key",
    "aborted",
    "timeout",
    "overload",
    "draining",
];

/// `strowger_prepaid_money_minor_units_total{operation}` values.
pub const MONEY_OPERATIONS: &[&str] = &["applied", "deducted", "returned", "expired"];

/// Create the series whose label values are known up front at zero, so dashboards and alerts
/// see 0 rather than no data before the first event.
fn register_fixed_series() {
    for state in ["down", "inactive", "active"] {
        metrics::gauge!(M3UA_LINKS, "state" => state).increment(0.0);
    }
    for outcome in OUTCOMES {
        metrics::counter!(CALLS, "outcome" => *outcome).increment(0);
    }
    for op in MONEY_OPERATIONS {
        metrics::counter!(PREPAID_MONEY, "operation" => *op).increment(0);
    }
    for actor in ["call", "account"] {
        metrics::gauge!(MAILBOX_DEPTH, "actor" => actor).set(0.0);
    }
    for kind in ["full", "delta"] {
        metrics::counter!(LEDGER_SNAPSHOTS, "kind" => kind).increment(0);
    }
    for name in [
        CALL_ATTEMPTS,
        TCAP_DIALOGUES_BEGUN,
        TCAP_DIALOGUES_ENDED,
        TCAP_DIALOGUES_TIMED_OUT,
        LEDGER_COMMITS,
        LEDGER_RECORDS,
        LEDGER_FAILURES,
        LEDGER_EXPIRED,
        LEDGER_SNAPSHOT_FAILURES,
        LEDGER_PREALLOCATION_FAILURES,
        LEDGER_TORN_TAILS,
        LEDGER_OVERDEDUCTS,
        ADMISSION_REJECTIONS,
        CALLGAPS_SENT,
        CDRS_WRITTEN,
    ] {
        metrics::counter!(name).increment(0);
    }
    for name in [
        TCAP_DIALOGUES_ACTIVE,
        PREPAID_RESERVATIONS,
        OVERLOAD_ACTIVE,
        LEDGER_JOURNAL_BYTES,
    ] {
        metrics::gauge!(name).increment(0.0);
    }
}

/// Sample the process's CPU time and resident memory from /proc (Linux).
pub fn sample_process() {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the command name (which may contain spaces) start after ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime, stime and rss are fields 14, 15 and 24 (1-based), i.e. 11, 12 and 21 after ')'.
    let ticks = field(11) + field(12);
    metrics::gauge!(PROCESS_CPU_SECONDS).set(ticks as f64 / clock_ticks() as f64);
    metrics::gauge!(PROCESS_RESIDENT_BYTES).set((field(21) * page_size()) as f64);
}

fn sysconf(name: libc::c_int, fallback: u64) -> u64 {
    // SAFETY: sysconf only reads a system constant; no memory is passed.
    let v = unsafe { libc::sysconf(name) };
    u64::try_from(v).ok().filter(|&v| v > 0).unwrap_or(fallback)
}

/// Clock ticks per second (`_SC_CLK_TCK`), the unit of /proc CPU times.
fn clock_ticks() -> u64 {
    static HZ: OnceLock<u64> = OnceLock::new();
    *HZ.get_or_init(|| sysconf(libc::_SC_CLK_TCK, 100))
}

/// Page size in bytes (`_SC_PAGESIZE`), the unit of /proc RSS.
fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| sysconf(libc::_SC_PAGESIZE, 4096))
}

// ------------------------------------------------------------------ per-site handle cache
//
// `metrics::counter!(NAME, "k" => v)` builds a key and looks it up in the recorder's shared
// registry on every call: hashing, comparing label strings and an `Arc` clone and drop. The
// hot paths count some twenty-five events per call, so they go through [`count!`],
// [`observe!`] and [`gauge_add!`] instead: each call site keeps, per thread, the handles of
// the label values it has seen (always `'static` strings here, from small fixed sets),
// recognised by the strings' addresses, so an event costs a few comparisons and the
// handle's own atomic update. Identical strings at two addresses only make two entries for
// the same series.

/// The handles one call site has used on this thread, by the addresses and lengths of their
/// label values (up to [`SITE_LABELS`] labels; more go to the registry each time).
pub struct Site<H> {
    seen: RefCell<Vec<([usize; 2 * SITE_LABELS], H)>>,
}

/// Most labels a cached site has.
pub const SITE_LABELS: usize = 3;

/// Most label combinations a site caches (the sets are small; this only bounds a mistake).
const SITE_ENTRIES: usize = 64;

impl<H> Site<H> {
    /// An empty cache (a `thread_local!` per call site; see [`count!`]).
    pub const fn new() -> Self {
        Site {
            seen: RefCell::new(Vec::new()),
        }
    }
}

impl<H> Default for Site<H> {
    fn default() -> Self {
        Self::new()
    }
}

fn to_labels(labels: &[(&'static str, &'static str)]) -> Vec<Label> {
    labels.iter().map(|&(k, v)| Label::new(k, v)).collect()
}

/// A metric handle a [`Site`] caches: how to register its series and to record one event.
pub trait SiteHandle: Sized {
    /// What one event carries.
    type Value;
    /// The handle of series `name` with these labels, from the recorder.
    fn register(name: &'static str, labels: Vec<Label>) -> Self;
    /// Record one event.
    fn record(&self, v: Self::Value);
}

impl SiteHandle for Counter {
    type Value = u64;
    fn register(name: &'static str, labels: Vec<Label>) -> Self {
        metrics::counter!(name, labels)
    }
    fn record(&self, n: u64) {
        self.increment(n);
    }
}

impl SiteHandle for Gauge {
    /// Added; may be negative.
    type Value = f64;
    fn register(name: &'static str, labels: Vec<Label>) -> Self {
        metrics::gauge!(name, labels)
    }
    fn record(&self, delta: f64) {
        self.increment(delta);
    }
}

impl SiteHandle for Histogram {
    type Value = f64;
    fn register(name: &'static str, labels: Vec<Label>) -> Self {
        metrics::histogram!(name, labels)
    }
    fn record(&self, v: f64) {
        Histogram::record(self, v);
    }
}

/// Record `v` in series `name` with these labels through the handle `site` caches for them,
/// registering it the first time (see [`count!`]). Before [`install`] nothing is recorded or
/// cached (a handle taken then would stay a no-op).
pub fn record_at<H: SiteHandle>(
    site: &'static std::thread::LocalKey<Site<H>>,
    name: &'static str,
    labels: &[(&'static str, &'static str)],
    v: H::Value,
) {
    if HANDLE.get().is_none() {
        // No recorder (install() is the only place one is set): every series is a no-op, and
        // finding its handle would cost more than the event (bench-ledger, tests).
        return;
    }
    if labels.len() > SITE_LABELS {
        return H::register(name, to_labels(labels)).record(v);
    }
    let mut key = [0usize; 2 * SITE_LABELS];
    for (i, (_, l)) in labels.iter().enumerate() {
        key[2 * i] = l.as_ptr() as usize;
        key[2 * i + 1] = l.len();
    }
    site.with(|s| {
        // Word by word, inline (comparing the arrays whole calls `memcmp`).
        let same = |k: &[usize; 2 * SITE_LABELS]| k.iter().zip(&key).all(|(a, b)| a == b);
        if let Some((_, h)) = s.seen.borrow().iter().find(|(k, _)| same(k)) {
            return h.record(v);
        }
        let h = H::register(name, to_labels(labels));
        h.record(v);
        let mut seen = s.seen.borrow_mut();
        if seen.len() < SITE_ENTRIES {
            seen.push((key, h));
        }
    })
}

/// A series recorded through a handle cached at this call site: the body of [`count!`],
/// [`gauge_add!`] and [`observe!`] (one metric name per site).
macro_rules! at_site {
    ($handle:ty, $name:expr, [$($label:expr),*], $v:expr) => {{
        ::std::thread_local! {
            static SITE: $crate::metrics::Site<$handle> = const { $crate::metrics::Site::new() };
        }
        $crate::metrics::record_at(&SITE, $name, &[$($label),*], $v)
    }};
}

/// `count!(NAME, [("label", value), …], n)`: add `n` to a counter.
macro_rules! count {
    ($name:expr, [$($label:expr),* $(,)?], $n:expr $(,)?) => {
        $crate::metrics::at_site!(::metrics::Counter, $name, [$($label),*], $n)
    };
}

/// `gauge_add!(NAME, [("label", value), …], delta)`: move a gauge.
macro_rules! gauge_add {
    ($name:expr, [$($label:expr),* $(,)?], $delta:expr $(,)?) => {
        $crate::metrics::at_site!(::metrics::Gauge, $name, [$($label),*], $delta)
    };
}

/// `observe!(NAME, [("label", value), …], v)`: record in a histogram.
macro_rules! observe {
    ($name:expr, [$($label:expr),* $(,)?], $v:expr $(,)?) => {
        $crate::metrics::at_site!(::metrics::Histogram, $name, [$($label),*], $v)
    };
}

pub(crate) use {at_site, count, gauge_add, observe};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_handles_reach_the_registry() {
        let handle = install();
        for n in [2, 3] {
            count!(CALLS, [("outcome", "cache_test")], n);
        }
        // The same label value at another address is the same series.
        let elsewhere: &'static str = String::from("cache_test").leak();
        for outcome in ["cache_test", elsewhere] {
            count!(CALLS, [("outcome", outcome)], 1);
        }
        gauge_add!(MAILBOX_DEPTH, [("actor", "cache_test")], 4.0);
        gauge_add!(MAILBOX_DEPTH, [("actor", "cache_test")], -1.5);
        observe!(CALL_DURATION_SECONDS, [], 12.0);
        // From another thread: its own cache, the same series.
        std::thread::spawn(|| count!(CALLS, [("outcome", "cache_test")], 9))
            .join()
            .unwrap();
        let text = handle.render();
        assert!(
            text.contains("strowger_calls_total{outcome=\"cache_test\"} 16"),
            "{text}"
        );
        assert!(
            text.contains("strowger_actor_mailbox_depth{actor=\"cache_test\"} 2.5"),
            "{text}"
        );
        assert!(
            text.contains("strowger_call_duration_seconds_count"),
            "{text}"
        );
    }

    #[test]
    fn histogram_samples_are_folded_without_a_scrape() {
        let handle = install();
        let upkeep = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .any(|c| c.trim() == "metrics-upkeep");
        assert!(upkeep, "the upkeep thread runs");
        for _ in 0..1000 {
            observe!(LEDGER_FSYNC_SECONDS, [], 0.0002);
        }
        // After a fold the samples are in the buckets, none lost.
        std::thread::sleep(UPKEEP_EVERY * 2);
        let text = handle.render();
        let count = text
            .lines()
            .find_map(|l| l.strip_prefix("strowger_ledger_fsync_seconds_count "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        assert!(count >= 1000, "{count}");
    }
}
