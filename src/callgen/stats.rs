//! Counters and HDR latency histograms. Each link owns a [`LinkStats`] behind a mutex that
//! only it and the once-a-second progress/controller task take; totals shared by every link
//! are atomics.

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use super::ssp::Step;

/// What went wrong with a call, counted by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The operations (codes, order) differ from the expectation.
    WrongOperations,
    /// TC-CONTINUE where TC-END was expected or the reverse.
    WrongMessageType,
    /// Connect to another number.
    WrongConnectNumber,
    /// ReleaseCall with another cause.
    WrongReleaseCause,
    /// PlayAnnouncement / PromptAndCollect with another message id.
    WrongAnnouncement,
    /// Refused for overload (ReleaseCall 42 / CallGap) where a treatment was expected.
    OverloadRefused,
    /// TC-ABORT from the SCP.
    Aborted,
    /// A Reject (or unsolicited ReturnError) from the SCP.
    Rejected,
    /// No answer within `--timeout`.
    Timeout,
    /// An SCP operation whose argument did not decode, or an undecodable TCAP message.
    Undecodable,
    /// A message for a transaction the generator does not know.
    UnknownTransaction,
    /// The link closed with the call in progress.
    LinkLost,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 12] = [
        Kind::WrongOperations,
        Kind::WrongMessageType,
        Kind::WrongConnectNumber,
        Kind::WrongReleaseCause,
        Kind::WrongAnnouncement,
        Kind::OverloadRefused,
        Kind::Aborted,
        Kind::Rejected,
        Kind::Timeout,
        Kind::Undecodable,
        Kind::UnknownTransaction,
        Kind::LinkLost,
    ];

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::WrongOperations => "wrong_operations",
            Kind::WrongMessageType => "wrong_message_type",
            Kind::WrongConnectNumber => "wrong_connect_number",
            Kind::WrongReleaseCause => "wrong_release_cause",
            Kind::WrongAnnouncement => "wrong_announcement",
            Kind::OverloadRefused => "overload_refused",
            Kind::Aborted => "aborted",
            Kind::Rejected => "rejected",
            Kind::Timeout => "timeout",
            Kind::Undecodable => "undecodable",
            Kind::UnknownTransaction => "unknown_transaction",
            Kind::LinkLost => "link_lost",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Latencies are recorded in microseconds, 1 µs to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant, valid histogram bounds")
}

/// Per-scenario counts.
#[derive(Clone, Debug, Default)]
pub struct ScenarioCounts {
    /// Calls started.
    pub started: u64,
    /// Calls that completed as expected.
    pub ok: u64,
    /// Calls with a mismatch (each counted once, under its first mismatch).
    pub failed: u64,
    /// Mismatches by [`Kind`].
    pub kinds: [u64; 12],
}

/// One link's statistics.
pub struct LinkStats {
    /// Per step (see [`Step::ALL`]).
    pub steps: Vec<Histogram<u64>>,
    /// InitialDP → first answer, timed from the kernel's receive time of the answer instead of
    /// the read (see [`super::rxstamp`]); empty where the kernel does not time reads.
    pub initial_dp_rx: Histogram<u64>,
    /// InitialDP → the call's last answer.
    pub call: Histogram<u64>,
    /// Every answer latency since the controller last took it (for `--max`).
    pub window: Histogram<u64>,
    /// Per scenario.
    pub scenarios: Vec<ScenarioCounts>,
    /// Mismatches outside any call (unknown transaction ids).
    pub stray: [u64; 12],
    /// The first mismatches, described.
    pub examples: Vec<String>,
}

/// How many mismatch descriptions a report keeps.
pub const MAX_EXAMPLES: usize = 20;

impl LinkStats {
    /// Empty statistics for `scenarios` scenarios.
    pub fn new(scenarios: usize) -> Self {
        LinkStats {
            steps: Step::ALL.iter().map(|_| histogram()).collect(),
            initial_dp_rx: histogram(),
            call: histogram(),
            window: histogram(),
            scenarios: vec![ScenarioCounts::default(); scenarios],
            stray: [0; 12],
            examples: Vec::new(),
        }
    }

    /// Record one answer latency.
    pub fn record(&mut self, step: Step, micros: u64) {
        let v = micros.clamp(1, 60_000_000);
        if let Some(h) = self.steps.get_mut(step.index()) {
            let _ = h.record(v);
        }
        let _ = self.window.record(v);
    }

    /// Count a mismatch of a call of `scenario`.
    pub fn mismatch(&mut self, scenario: usize, kind: Kind, first: bool) {
        if let Some(c) = self.scenarios.get_mut(scenario) {
            c.kinds[kind.index()] += 1;
            if first {
                c.failed += 1;
            }
        }
    }

    /// Count a mismatch outside any call.
    pub fn stray(&mut self, kind: Kind) {
        self.stray[kind.index()] += 1;
    }

    /// Add another link's statistics.
    pub fn merge(&mut self, other: &LinkStats) {
        for (a, b) in self.steps.iter_mut().zip(&other.steps) {
            let _ = a.add(b);
        }
        let _ = self.initial_dp_rx.add(&other.initial_dp_rx);
        let _ = self.call.add(&other.call);
        let _ = self.window.add(&other.window);
        for (a, b) in self.scenarios.iter_mut().zip(&other.scenarios) {
            a.started += b.started;
            a.ok += b.ok;
            a.failed += b.failed;
            for (x, y) in a.kinds.iter_mut().zip(b.kinds) {
                *x += y;
            }
        }
        for (x, y) in self.stray.iter_mut().zip(other.stray) {
            *x += y;
        }
        for e in &other.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(e.clone());
            }
        }
    }

    /// Mismatches of every kind, calls and stray together.
    pub fn kinds(&self) -> [u64; 12] {
        let mut k = self.stray;
        for s in &self.scenarios {
            for (x, y) in k.iter_mut().zip(s.kinds) {
                *x += y;
            }
        }
        k
    }
}

/// Counters every link updates and the progress display reads.
#[derive(Default)]
pub struct Totals {
    /// Calls started.
    pub started: AtomicU64,
    /// Calls completed as expected.
    pub ok: AtomicU64,
    /// Calls failed.
    pub failed: AtomicU64,
    /// Calls in progress.
    pub active: AtomicU64,
    /// Starts that fell behind the schedule (concurrency cap or a slow loop).
    pub behind: AtomicU64,
    /// Links up (ASP active).
    pub links_up: AtomicU64,
}

impl Totals {
    /// Load a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Merge every link's statistics into one.
pub fn merged(links: &[std::sync::Arc<Mutex<LinkStats>>], scenarios: usize) -> LinkStats {
    let mut all = LinkStats::new(scenarios);
    for l in links {
        all.merge(&l.lock());
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_up() {
        let mut a = LinkStats::new(2);
        let mut b = LinkStats::new(2);
        a.record(Step::InitialDp, 100);
        b.record(Step::InitialDp, 300);
        b.mismatch(1, Kind::Timeout, true);
        b.stray(Kind::UnknownTransaction);
        a.merge(&b);
        assert_eq!(a.steps[0].len(), 2);
        assert_eq!(a.scenarios[1].failed, 1);
        let k = a.kinds();
        assert_eq!(k[Kind::Timeout as usize], 1);
        assert_eq!(k[Kind::UnknownTransaction as usize], 1);
        assert_eq!(Kind::ALL.len(), 12);
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
