//! Live progress: an indicatif bar on a terminal, plain periodic lines otherwise (logs, CI).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use super::link::Shared;
use super::stats::{self, LinkStats, Totals};
use super::CallgenArgs;

enum Mode {
    Bar(ProgressBar),
    Lines,
    None,
}

/// The progress display.
pub struct Progress {
    mode: Mode,
    start: Instant,
    last: Instant,
    last_started: u64,
    last_ok: u64,
    cps: f64,
    p99_ms: f64,
    duration: Option<f64>,
}

impl Progress {
    /// `mode`: auto, bar, lines or none.
    pub fn new(mode: &str, args: &CallgenArgs, start: Instant) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let duration = (!args.max).then_some(args.duration);
        let mode = match (mode, tty) {
            ("none", _) => Mode::None,
            ("lines", _) | ("auto", false) => Mode::Lines,
            _ => {
                let bar = match duration {
                    Some(d) => ProgressBar::new((d * 1000.0) as u64),
                    None => ProgressBar::new_spinner(),
                };
                bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
                let template = if duration.is_some() {
                    "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {msg}"
                } else {
                    "{spinner:.green} [{elapsed_precise}] {msg}"
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                Mode::Bar(bar)
            }
        };
        Progress {
            mode,
            start,
            last: start,
            last_started: 0,
            last_ok: 0,
            cps: 0.0,
            p99_ms: 0.0,
            duration,
        }
    }

    /// Refresh (cheap; recomputes rates and p99 about once a second).
    pub fn tick(&mut self, shared: &Shared, links: &[Arc<Mutex<LinkStats>>], target: f64) {
        if matches!(self.mode, Mode::None) {
            return;
        }
        let now = Instant::now();
        let t = &shared.totals;
        let dt = now.saturating_duration_since(self.last);
        if dt >= Duration::from_secs(1) {
            let ok = Totals::get(&t.ok);
            let started = Totals::get(&t.started);
            self.cps = (ok - self.last_ok.min(ok)) as f64 / dt.as_secs_f64();
            self.last_ok = ok;
            self.last_started = started;
            self.last = now;
            let mut h = stats::histogram();
            for l in links {
                if let Some(s) = l.lock().steps.first() {
                    let _ = h.add(s);
                }
            }
            self.p99_ms = h.value_at_quantile(0.99) as f64 / 1000.0;
            if let Mode::Lines = self.mode {
                eprintln!("{}", self.line(shared, target));
            }
        }
        if let Mode::Bar(bar) = &self.mode {
            let elapsed = now.saturating_duration_since(self.start);
            if let Some(d) = self.duration {
                bar.set_position((elapsed.as_secs_f64().min(d) * 1000.0) as u64);
            } else {
                bar.tick();
            }
            bar.set_message(self.message(shared, target));
        }
    }

    fn message(&self, shared: &Shared, target: f64) -> String {
        let t = &shared.totals;
        format!(
            "{:>7.0} calls/s (target {:.0}) | active {:>6} | ok {:>8} | failed {:>5} | p99 first answer {:.2} ms",
            self.cps,
            target,
            Totals::get(&t.active),
            Totals::get(&t.ok),
            Totals::get(&t.failed),
            self.p99_ms
        )
    }

    fn line(&self, shared: &Shared, target: f64) -> String {
        format!(
            "[{:>6.1}s] {}",
            self.start.elapsed().as_secs_f64(),
            self.message(shared, target)
        )
    }

    /// A line of its own (e.g. a --max step result), kept above the bar.
    pub fn note(&self, line: &str) {
        match &self.mode {
            Mode::Bar(bar) => bar.println(line),
            Mode::Lines => eprintln!("{line}"),
            Mode::None => {}
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}
