//! Waiting for durability on an arbiter: one wake per arbiter and commit, not one per waiter.
//!
//! The writer thread publishes each group commit on a `watch`. A task waiting on the watch
//! directly is woken from the writer's thread: its arbiter's queue is locked and the arbiter
//! is signalled (an `eventfd` write) once per waiting task, a dozen times per commit at a
//! few thousand calls per second. Instead, each arbiter runs one [`relay`] task: the only
//! waiter on the watch from that thread. It hands each new watermark to the waits on its own
//! thread, waking those it satisfies with thread-local wakes (no lock, no system call).
//! Waits on threads without a relay (plain runtimes, tests) use the watch itself.
//!
//! An account actor does not make its caller wait in turn: it leaves the answer with its
//! thread's relay ([`when_durable`]), which hands it over once the record is durable. The
//! caller is woken once per request, by its answer, instead of once by the actor's reply and
//! again by the commit.
//!
//! An arbiter made by [`arbiter`] can also busy poll when requests come one at a time
//! (`ledger.busy_poll_us`): when it has nothing left to run but one call waiting on a commit,
//! it polls the watermark for that long before it sleeps, and hands the commit to the wait
//! itself. Waking a sleeping thread costs some 15 µs on a VM; one request at a time pays that
//! on every commit.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::writer::Durable;
use crate::metrics as m;

/// The durability known on this thread, for one ledger.
pub(super) struct Relay {
    ledger: u64,
    seen: Cell<Durable>,
    /// The watch is gone (the ledger closed): nothing more will become durable.
    closed: Cell<bool>,
    /// Waits not yet satisfied: the record each needs, and what to do when it is durable.
    waiters: RefCell<Vec<(u64, Notify)>>,
    /// The watermark, for [`before_park`] to read (the relay task owns its own receiver).
    watch: watch::Receiver<Durable>,
    /// How long [`before_park`] polls for a commit (0 = not at all).
    poll: Duration,
    /// Commits [`before_park`] saw and handed over itself.
    polled: Cell<u64>,
    /// `strowger_ledger_busy_polls_total{by="arbiter"}`: polls that saw their commit, and
    /// polls that ran out of time.
    hits: metrics::Counter,
    misses: metrics::Counter,
}

/// What a relay does for a wait once its record is durable (or never will be).
enum Notify {
    /// Wake a task polling [`Wait`]; it reads the outcome itself.
    Wake(Waker),
    /// Call this with the outcome (`true`: durable): an answer left by [`when_durable`].
    Deliver(Box<dyn FnOnce(bool)>),
}

thread_local! {
    static RELAYS: RefCell<Vec<Rc<Relay>>> = const { RefCell::new(Vec::new()) };
}

impl Relay {
    fn publish(&self, d: Durable) {
        // Watermarks only grow; one handed over by `when_durable` may be newer than the one
        // the relay's task reads next.
        let seen = self.seen.get();
        let d = Durable {
            seq: d.seq.max(seen.seq),
            failed: d.failed || seen.failed,
        };
        // Every wait is for a record above the watermark seen when it was made, on a ledger
        // not failed: with nothing new (the relay's task after `when_durable` handed the same
        // commit over) none is satisfied.
        if d == seen && !self.closed.get() {
            return;
        }
        self.seen.set(d);
        let gone = d.failed || self.closed.get();
        let ready: Vec<(bool, Notify)> = {
            let mut w = self.waiters.borrow_mut();
            let mut ready = Vec::new();
            let mut keep = Vec::with_capacity(w.len());
            for (seq, n) in w.drain(..) {
                if seq <= d.seq || gone {
                    ready.push((seq <= d.seq, n));
                } else {
                    keep.push((seq, n));
                }
            }
            *w = keep;
            ready
        };
        // Woken or delivered outside the borrow: keep it re-entrant.
        for (durable, n) in ready {
            match n {
                Notify::Wake(w) => w.wake(),
                Notify::Deliver(f) => f(durable),
            }
        }
    }

    /// What is known here of record `seq`: durable (`Some(true)`), never will be
    /// (`Some(false)`: the ledger failed or closed first), or not yet (`None`).
    fn outcome(&self, seq: u64) -> Option<bool> {
        let d = self.seen.get();
        if d.seq >= seq {
            Some(true)
        } else if d.failed || self.closed.get() {
            Some(false)
        } else {
            None
        }
    }
}

/// This thread's relay for `ledger`, if one runs here.
fn local(ledger: u64) -> Option<Rc<Relay>> {
    RELAYS.with(|r| r.borrow().iter().find(|x| x.ledger == ledger).cloned())
}

/// A relay for `ledger` runs on this thread.
pub(super) fn here(ledger: u64) -> bool {
    local(ledger).is_some()
}

/// Commits this thread's relay for `ledger` saw by busy polling and handed over itself.
#[cfg(test)]
pub(super) fn polled_here(ledger: u64) -> u64 {
    local(ledger).map_or(0, |r| r.polled.get())
}

/// Run on this thread (spawn it with `actix_rt::spawn` from the arbiter): relay the ledger's
/// watermark to this thread's waits until the ledger closes.
pub(super) async fn relay(ledger: u64, mut rx: watch::Receiver<Durable>, poll: Duration) {
    let seen = *rx.borrow_and_update();
    let r = Rc::new(Relay {
        ledger,
        seen: Cell::new(seen),
        closed: Cell::new(false),
        waiters: RefCell::new(Vec::new()),
        watch: rx.clone(),
        poll,
        polled: Cell::new(0),
        hits: metrics::counter!(m::LEDGER_BUSY_POLLS, "by" => "arbiter", "result" => "hit"),
        misses: metrics::counter!(m::LEDGER_BUSY_POLLS, "by" => "arbiter", "result" => "miss"),
    });
    RELAYS.with(|x| x.borrow_mut().push(r.clone()));
    while rx.changed().await.is_ok() {
        let d = *rx.borrow_and_update();
        r.publish(d);
    }
    r.closed.set(true);
    r.publish(r.seen.get());
    RELAYS.with(|x| x.borrow_mut().retain(|y| !Rc::ptr_eq(y, &r)));
}

/// Wait on this thread's relay until record `seq` is durable: `Some(true)`, or `Some(false)`
/// if it never will be (the ledger failed or closed first); `None` if no relay runs on the
/// thread polling it (the caller then waits on the watch). Holds no reference to the relay, so
/// a future awaiting it stays `Send`.
pub(super) struct Wait {
    pub(super) ledger: u64,
    pub(super) seq: u64,
}

impl Future for Wait {
    type Output = Option<bool>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<bool>> {
        let seq = self.seq;
        let Some(r) = local(self.ledger) else {
            return Poll::Ready(None);
        };
        if let Some(ok) = r.outcome(seq) {
            return Poll::Ready(Some(ok));
        }
        let mut w = r.waiters.borrow_mut();
        let known = |(s, n): &(u64, Notify)| {
            *s == seq && matches!(n, Notify::Wake(k) if k.will_wake(cx.waker()))
        };
        if !w.iter().any(known) {
            w.push((seq, Notify::Wake(cx.waker().clone())));
        }
        Poll::Pending
    }
}

/// Have this thread's relay for `ledger` call `f(true)` once record `seq` is durable, or
/// `f(false)` once it never will be (the ledger failed or closed first): at once if that is
/// already known here. `latest` is the ledger's watermark as just read: if the relay has not
/// seen it yet (its task has not run since the commit), it is handed over now, so the answers
/// it satisfies leave without waiting for the relay's turn on the arbiter. `Err(f)` if no
/// relay runs on this thread.
pub(super) fn when_durable<F: FnOnce(bool) + 'static>(
    ledger: u64,
    latest: Durable,
    seq: u64,
    f: F,
) -> Result<(), F> {
    let Some(r) = local(ledger) else {
        return Err(f);
    };
    r.publish(latest);
    match r.outcome(seq) {
        Some(durable) => f(durable),
        None => r
            .waiters
            .borrow_mut()
            .push((seq, Notify::Deliver(Box::new(f)))),
    }
    Ok(())
}

/// An arbiter whose thread, before it sleeps, busy polls for the commits its calls wait on
/// (see the module's documentation and [`before_park`]).
pub(crate) fn arbiter() -> std::io::Result<actix::Arbiter> {
    actix::Arbiter::try_with_tokio_rt(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_park(before_park)
            .build()
    })
}

/// Run by an arbiter's runtime just before its thread sleeps (nothing left to run): for each
/// relay on this thread with a poll time and exactly one wait pending (requests coming one at
/// a time: with more, the arbiter is busy enough that polling would take CPU other threads
/// need), poll the watermark until it satisfies that wait or the poll time is up, yielding
/// the core on every round; a commit seen is handed to the wait at once, so the runtime runs
/// it instead of sleeping.
fn before_park() {
    let relays: Vec<Rc<Relay>> = RELAYS.with(|r| {
        r.borrow()
            .iter()
            .filter(|x| !x.poll.is_zero() && x.waiters.borrow().len() == 1)
            .cloned()
            .collect()
    });
    for r in relays {
        let Some(want) = r.waiters.borrow().first().map(|(seq, _)| *seq) else {
            continue;
        };
        let seen = busy_poll(r.poll, || {
            let d = *r.watch.borrow();
            (d.seq >= want || d.failed).then_some(d)
        });
        match seen {
            Some(d) => {
                r.polled.set(r.polled.get() + 1);
                r.hits.increment(1);
                r.publish(d);
                return;
            }
            None => r.misses.increment(1),
        }
    }
}

/// Poll `ready` for up to `budget`, yielding the core between rounds (a thread waiting for it
/// gets it); what `ready` returned, or `None` once the time is up. The one busy-poll loop of
/// the ledger: the writer's wait for a record and an arbiter's wait for a commit.
pub(super) fn busy_poll<T>(budget: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + budget;
    loop {
        if let Some(v) = ready() {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::yield_now();
    }
}
