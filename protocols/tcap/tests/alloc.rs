//! Decoding a Begin with a dialogue portion and eight components, walking its components,
//! and taking it into a new dialogue touch the heap not at all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::BytesMut;
use strowger_tcap::*;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn begin_with_eight_components_decodes_without_allocating() {
    let ac: ObjectId = "0.4.0.0.1.0.50.1".parse().unwrap();
    let cfg = Config::new(vec![ac]);
    let mut comps = BytesMut::new();
    for i in 1..=8 {
        write_invoke(
            &mut comps,
            i,
            None,
            &Code::Local(0),
            Some(&[0x30, 0x03, 0x80, 0x01, 0x64]),
        );
    }
    let mut wire = BytesMut::new();
    Begin {
        otid: TransactionId::from_u32(1),
        dialogue: Some(DialoguePortion::Aarq(Aarq::new(ac))),
        components: Some(ComponentPortion::new(&comps)),
    }
    .encode(&mut wire);
    let t0 = Instant::now();

    let before = ALLOCS.load(Ordering::SeqCst);
    let msg = Message::decode(&wire).unwrap();
    let n = msg
        .components()
        .unwrap()
        .iter()
        .filter(Result::is_ok)
        .count();
    let Message::Begin(b) = msg else { panic!() };
    let mut d = Dialogue::on_begin(t0, TransactionId::from_u32(2), &b, &cfg).unwrap();
    let invokes = d
        .handle(t0, &msg)
        .filter(|e| matches!(e, Event::Invoke { .. }))
        .count();
    let after = ALLOCS.load(Ordering::SeqCst);

    assert_eq!(n, 8);
    assert_eq!(invokes, 8);
    assert_eq!(after - before, 0, "heap allocations while decoding");
}
