//! Decoding a UDT (and the other connectionless messages) must not touch the heap.
//!
//! A counting global allocator wraps the system allocator; this file holds a single test so no
//! other test thread allocates while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decode_does_not_allocate() {
    // otc fixtures (see src/tests.rs): UDT and XUDT with GTI 4 addresses, XUDT with segmentation.
    let cdpa = [
        0x0b, 0x12, 0x08, 0x00, 0x12, 0x04, 0x64, 0x27, 0x11, 0x22, 0x11, 0x22,
    ];
    let cgpa = [
        0x0b, 0x12, 0x06, 0x00, 0x11, 0x08, 0x64, 0x27, 0x89, 0x78, 0x67, 0x06,
    ];
    let data: Vec<u8> = std::iter::once(24).chain(1..=24).collect();
    let mut udt = vec![0x09, 0x80, 0x03, 0x0e, 0x19];
    let mut xudt = vec![0x11, 0x01, 0x0d, 0x04, 0x0f, 0x1a, 0x32];
    for m in [&mut udt, &mut xudt] {
        m.extend(cdpa);
        m.extend(cgpa);
        m.extend(&data);
    }
    xudt.extend([0x10, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00]);
    let bad = &udt[..udt.len() - 1];

    let before = ALLOCS.load(Ordering::SeqCst);
    let u = strowger_sccp::decode(&udt);
    let x = strowger_sccp::decode(&xudt);
    let e = strowger_sccp::decode(bad);
    let after = ALLOCS.load(Ordering::SeqCst);

    assert!(u.is_ok() && x.is_ok() && e.is_err());
    assert_eq!(after - before, 0, "decode allocated");
}
