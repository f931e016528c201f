//! One alarm clock per arbiter for its account actors' timers (the idle check and the
//! reservation expiry), instead of a timer future in each actor.
//!
//! actix polls every future an actor has spawned each time the actor runs, so a `run_later`
//! per actor cost a timer poll, a cache miss on a large account set, on every message: with
//! two timers per actor, `Sleep::poll` was about 5 % of an arbiter's samples at 256
//! `bench-ledger` callers over 100 000 accounts. Here an actor [`set`]s an alarm (a map insert
//! on its own thread) and is sent an [`Alarm`] message when it is due; one task per thread
//! sleeps until the earliest. An actor checks on each [`Alarm`] what is due, so an alarm left
//! set when its reason went (the reservations settled) costs one message; an actor that
//! stops [`cancel`]s its alarms, so that the clock holds no address of a stopped actor.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use actix::prelude::*;
use tokio::sync::Notify;

use super::actor::AccountActor;

/// Sent to an actor when an alarm it set is due.
#[derive(Debug, Clone, Copy)]
pub(super) struct Alarm;

impl Message for Alarm {
    type Result = ();
}

/// The alarms of one thread.
struct Clock {
    due: RefCell<BTreeMap<(Instant, u64), Addr<AccountActor>>>,
    next_id: Cell<u64>,
    wake: Notify,
}

thread_local! {
    static CLOCK: RefCell<Option<Rc<Clock>>> = const { RefCell::new(None) };
}

/// An alarm set: when it is due, and which one it is (for [`cancel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Set {
    pub(super) at: Instant,
    id: u64,
}

/// Send `to` an [`Alarm`] at `at` (or soon after). Must run on an arbiter's thread (in an
/// actor's handler): the first call there starts the thread's alarm task.
pub(super) fn set(at: Instant, to: Addr<AccountActor>) -> Set {
    let clock = CLOCK.with(|c| {
        c.borrow_mut()
            .get_or_insert_with(|| {
                let clock = Rc::new(Clock {
                    due: RefCell::new(BTreeMap::new()),
                    next_id: Cell::new(0),
                    wake: Notify::new(),
                });
                actix_rt::spawn(run(Running(clock.clone())));
                clock
            })
            .clone()
    });
    let id = clock.next_id.get();
    clock.next_id.set(id + 1);
    let mut due = clock.due.borrow_mut();
    // The task sleeps until the earliest alarm it saw, no later than the earliest now (or one
    // cancelled since, which only wakes it early): only a new earliest needs to wake it.
    let earliest = due.keys().next().map_or(true, |(t, _)| at < *t);
    due.insert((at, id), to);
    drop(due);
    if earliest {
        clock.wake.notify_one();
    }
    Set { at, id }
}

/// Forget an alarm set on this thread, if it has not gone off yet.
pub(super) fn cancel(alarm: Set) {
    let _ = CLOCK.try_with(|c| {
        if let Some(clock) = c.borrow().as_ref() {
            clock.due.borrow_mut().remove(&(alarm.at, alarm.id));
        }
    });
}

/// Alarms set on this thread and not yet gone off.
#[cfg(test)]
pub(super) fn pending_here() -> usize {
    CLOCK.with(|c| {
        c.borrow()
            .as_ref()
            .map_or(0, |clock| clock.due.borrow().len())
    })
}

/// The thread's alarm task; when the runtime drops it (the arbiter stops), the thread forgets
/// its clock, so that a later runtime on the same thread starts a new one.
struct Running(Rc<Clock>);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = CLOCK.try_with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_some_and(|x| Rc::ptr_eq(x, &self.0)) {
                *c = None;
            }
        });
    }
}

async fn run(running: Running) {
    let clock = &running.0;
    loop {
        let now = Instant::now();
        loop {
            let due = {
                let mut d = clock.due.borrow_mut();
                match d.first_entry() {
                    Some(e) if e.key().0 <= now => Some(e.remove()),
                    _ => None,
                }
            };
            // A stopped actor's alarm is dropped by `do_send`.
            match due {
                Some(to) => to.do_send(Alarm),
                None => break,
            }
        }
        let next = clock.due.borrow().keys().next().map(|(t, _)| *t);
        match next {
            Some(t) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(t.into()) => {}
                    _ = clock.wake.notified() => {}
                }
            }
            None => clock.wake.notified().await,
        }
    }
}
