//! The final report: a table for people, the same data as JSON (`--report FILE`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::reconcile::Reconciliation;
use super::ssp::Step;
use super::stats::{Kind, LinkStats, Totals};
use super::CallgenArgs;

/// Latency percentiles of one step, milliseconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        let ms = |v: u64| v as f64 / 1000.0;
        Latency {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// One scenario's line.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScenarioRow {
    /// Name.
    pub name: String,
    /// Calls started.
    pub started: u64,
    /// Completed as expected.
    pub ok: u64,
    /// Failed.
    pub failed: u64,
    /// Mismatches by kind.
    pub mismatches: BTreeMap<String, u64>,
}

/// One step of `--max`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MaxStep {
    /// Target rate, calls/s.
    pub target: f64,
    /// Calls started per second.
    pub achieved: f64,
    /// p99 of every answer, ms.
    pub p99_ms: f64,
    /// Calls failed.
    pub failed: u64,
    /// Held: no failure, p99 within the bound, the rate achieved.
    pub pass: bool,
}

/// The result of `--max`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MaxSearch {
    /// The latency bound, ms.
    pub p99_bound_ms: f64,
    /// Highest rate that held.
    pub max_rate: Option<f64>,
    /// Every step.
    pub steps: Vec<MaxStep>,
}

/// Everything a run found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// SCP address.
    pub scp: String,
    /// Links used.
    pub links: usize,
    /// Seconds calls were started.
    pub load_seconds: f64,
    /// Seconds in all, with the drain.
    pub wall_seconds: f64,
    /// Target rate (start rate of a ramp or search).
    pub target_rate: f64,
    /// Calls started.
    pub started: u64,
    /// Calls completed as expected.
    pub ok: u64,
    /// Calls failed.
    pub failed: u64,
    /// Starts missed because the generator fell behind or hit --concurrency.
    pub behind: u64,
    /// Completed calls per second of load.
    pub calls_per_second: f64,
    /// Per scenario.
    pub scenarios: Vec<ScenarioRow>,
    /// Mismatches by kind, all scenarios and stray messages.
    pub mismatches: BTreeMap<String, u64>,
    /// Latency per step (`initial_dp` is InitialDP → first answer) and per whole call;
    /// `initial_dp_rx` is InitialDP → first answer timed from the kernel's receive time of the
    /// answer rather than from the generator's read of it (absent where the kernel does not
    /// time reads).
    pub latency_ms: BTreeMap<String, Latency>,
    /// `--max` search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_search: Option<MaxSearch>,
    /// The first mismatches, described.
    pub examples: Vec<String>,
    /// Links that failed.
    pub link_errors: Vec<String>,
    /// CPU time this generator process used (user + system), seconds.
    pub process_cpu_seconds: f64,
    /// Ledger reconciliation (with --admin, and in the demo).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<Reconciliation>,
}

fn kinds_map(k: &[u64; 12]) -> BTreeMap<String, u64> {
    Kind::ALL
        .iter()
        .zip(k)
        .filter(|(_, &n)| n > 0)
        .map(|(k, &n)| (k.name().to_string(), n))
        .collect()
}

/// User + system CPU time of this process so far (getrusage), seconds.
pub fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass; RUSAGE_SELF is always valid.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

impl Report {
    /// Build the report from the merged statistics.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        args: &CallgenArgs,
        names: &[String],
        st: &LinkStats,
        totals: &Totals,
        load_seconds: f64,
        wall_seconds: f64,
        max_steps: Vec<MaxStep>,
        max_rate: Option<f64>,
        link_errors: Vec<String>,
    ) -> Report {
        let scenarios = names
            .iter()
            .zip(&st.scenarios)
            .map(|(n, c)| ScenarioRow {
                name: n.clone(),
                started: c.started,
                ok: c.ok,
                failed: c.failed,
                mismatches: kinds_map(&c.kinds),
            })
            .collect();
        let mut latency_ms = BTreeMap::new();
        for (s, h) in Step::ALL.iter().zip(&st.steps) {
            if !h.is_empty() {
                latency_ms.insert(s.name().to_string(), Latency::of(h));
            }
        }
        if !st.initial_dp_rx.is_empty() {
            latency_ms.insert("initial_dp_rx".to_string(), Latency::of(&st.initial_dp_rx));
        }
        if !st.call.is_empty() {
            latency_ms.insert("call".to_string(), Latency::of(&st.call));
        }
        let ok = Totals::get(&totals.ok);
        Report {
            scp: args.scp.to_string(),
            links: args.links,
            load_seconds,
            wall_seconds,
            target_rate: args.rate,
            started: Totals::get(&totals.started),
            ok,
            failed: Totals::get(&totals.failed),
            behind: Totals::get(&totals.behind),
            calls_per_second: if load_seconds > 0.0 {
                ok as f64 / load_seconds
            } else {
                0.0
            },
            scenarios,
            mismatches: kinds_map(&st.kinds()),
            latency_ms,
            max_search: args.max.then_some(MaxSearch {
                p99_bound_ms: args.p99_ms,
                max_rate,
                steps: max_steps,
            }),
            examples: st.examples.clone(),
            link_errors,
            process_cpu_seconds: process_cpu_seconds(),
            reconciliation: None,
        }
    }

    /// True when nothing unexpected happened: every call started completed as expected, no
    /// stray message, no link error, the ledger reconciled (when checked). For `--max`, a
    /// rate was found (failing steps are the point of the search).
    pub fn clean(&self) -> bool {
        let links = self.link_errors.is_empty();
        let ledger = self.reconciliation.as_ref().map_or(true, |r| r.balanced);
        if let Some(m) = &self.max_search {
            return links && ledger && m.max_rate.is_some();
        }
        links
            && ledger
            && self.started > 0
            && self.failed == 0
            && self.ok == self.started
            && self.mismatches.is_empty()
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "\ncallgen → {} over {} link(s): {} started, {} ok, {} failed in {:.1} s ({:.0} calls/s completed{})",
            self.scp,
            self.links,
            self.started,
            self.ok,
            self.failed,
            self.load_seconds,
            self.calls_per_second,
            if self.behind > 0 {
                format!(", {} starts behind schedule", self.behind)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            o,
            "\n{:<24} {:>9} {:>9} {:>7}  mismatches",
            "scenario", "started", "ok", "failed"
        );
        for s in &self.scenarios {
            let mm: Vec<String> = s
                .mismatches
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(
                o,
                "{:<24} {:>9} {:>9} {:>7}  {}",
                s.name,
                s.started,
                s.ok,
                s.failed,
                mm.join(" ")
            );
        }
        let _ = writeln!(
            o,
            "\n{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max"
        );
        // Each step, InitialDP's kernel-timed row right after it, then the whole call.
        let order = Step::ALL
            .iter()
            .flat_map(|s| {
                std::iter::once(s.name()).chain((*s == Step::InitialDp).then_some("initial_dp_rx"))
            })
            .chain(std::iter::once("call"));
        for name in order {
            if let Some(l) = self.latency_ms.get(name) {
                let label = match name {
                    "initial_dp" => "InitialDP→first answer",
                    "initial_dp_rx" => "  by kernel rx time",
                    "call" => "whole call",
                    n => n,
                };
                let _ = writeln!(
                    o,
                    "{:<24} {:>9} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                    label, l.count, l.p50, l.p90, l.p99, l.p999, l.max
                );
            }
        }
        if !self.mismatches.is_empty() {
            let _ = writeln!(o, "\nmismatches by kind:");
            for (k, v) in &self.mismatches {
                let _ = writeln!(o, "  {k:<24} {v}");
            }
        }
        if !self.examples.is_empty() {
            let _ = writeln!(o, "\nfirst mismatches:");
            for e in &self.examples {
                let _ = writeln!(o, "  {e}");
            }
        }
        if let Some(m) = &self.max_search {
            let _ = writeln!(o, "\n--max (p99 < {} ms, no failure):", m.p99_bound_ms);
            for s in &m.steps {
                let _ = writeln!(
                    o,
                    "  target {:>9.0}  achieved {:>9.0}  p99 {:>8.3} ms  failed {:>6}  {}",
                    s.target,
                    s.achieved,
                    s.p99_ms,
                    s.failed,
                    if s.pass { "pass" } else { "FAIL" }
                );
            }
            match m.max_rate {
                Some(r) => {
                    let _ = writeln!(o, "  highest rate that held: {r:.0} calls/s");
                }
                None => {
                    let _ = writeln!(o, "  no rate held");
                }
            }
        }
        for e in &self.link_errors {
            let _ = writeln!(o, "link error: {e}");
        }
        if let Some(r) = &self.reconciliation {
            let _ = write!(o, "\n{}", r.table());
        }
        let _ = writeln!(
            o,
            "\nresult: {}",
            if self.clean() {
                "OK"
            } else {
                "UNEXPECTED ANSWERS (see above)"
            }
        );
        o
    }

    /// Write the JSON report.
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }
}
