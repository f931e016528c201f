//! Decoding is allocation-free: every pycrate fixture is decoded, and its numbers read,
//! under a counting global allocator.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use strowger_cap::{Dialect, OpResult, Operation};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decode_does_not_allocate() {
    let fixtures = common::pycrate_fixtures();
    let before = ALLOCS.load(Ordering::Relaxed);
    let mut decoded = 0usize;
    for (name, code, bytes) in &fixtures {
        let d = if name == "apply_charging_v2" {
            Dialect::CapV2
        } else {
            Dialect::CapV4
        };
        if name == "pacui_result" {
            if let Ok(OpResult::PromptAndCollectUserInformation(r)) =
                OpResult::decode(d, *code, Some(bytes))
            {
                decoded += usize::from(r.digits().is_ok());
            }
            continue;
        }
        match Operation::decode(d, *code, Some(bytes)) {
            Ok(Operation::InitialDp(i)) => {
                decoded +=
                    usize::from(i.called().is_ok() && i.calling().is_ok() && i.imsi().is_ok());
                decoded +=
                    usize::from(i.msc().is_ok() && i.called_bcd().is_ok() && i.location().is_ok());
            }
            Ok(Operation::RequestReportBcsmEvent(r)) => decoded += r.bcsm_events.iter().count(),
            Ok(Operation::EventReportBcsm(e)) => {
                decoded += usize::from(e.event_specific_information.map(|x| x.cause()).is_some())
            }
            Ok(Operation::Connect(c)) => decoded += usize::from(c.destination().is_ok()),
            Ok(Operation::ReleaseCall(r)) => decoded += usize::from(r.decoded_cause().is_ok()),
            Ok(_) => decoded += 1,
            Err(_) => {}
        }
    }
    let after = ALLOCS.load(Ordering::Relaxed);
    assert!(decoded > fixtures.len());
    assert_eq!(after - before, 0, "decoding allocated");
}
