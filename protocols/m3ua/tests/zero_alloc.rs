//! Measures heap allocations on the DATA receive path with a counting global allocator
//! (this test crate only; the library itself forbids `unsafe`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use bytes::BytesMut;
use strowger_m3ua::*;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls on this thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (ALLOCS.with(Cell::get) - before, r)
}

fn data_message(rc: Option<u32>, user: &[u8]) -> BytesMut {
    Message::from(Body::Data(Data {
        network_appearance: Some(1),
        routing_context: rc,
        protocol_data: ProtocolData {
            opc: 1,
            dpc: 2,
            si: SI_SCCP,
            ni: 2,
            mp: 0,
            sls: 5,
            user_data: user.into(),
        },
        correlation_id: None,
    }))
    .to_bytes()
    .unwrap()
}

#[test]
fn decoding_data_does_not_allocate() {
    let bytes = data_message(Some(1), &[0x09; 120]);
    let (n, msg) = allocations(|| Message::decode(&bytes).map(|m| m.body.name()));
    assert_eq!(msg, Ok("DATA"));
    assert_eq!(n, 0, "decoding DATA allocated {n} times");
}

#[test]
fn framing_and_handling_data_does_not_allocate_once_warm() {
    let now = Instant::now();
    // An active SG.
    let mut sg = Association::new(
        Role::Sg,
        Config {
            routing_contexts: vec![1],
            ..Config::default()
        },
    );
    for m in [
        Message::from(Body::AspUp(AspUp::default())),
        Message::from(Body::AspActive(AspActive::default())),
    ] {
        sg.handle_frame(now, m.to_bytes().unwrap().freeze());
    }
    while sg.poll_transmit().is_some() {}
    while sg.poll_event().is_some() {}
    assert!(sg.is_active());

    let one = data_message(Some(1), &[0x09; 120]);
    let mut stream = BytesMut::with_capacity(one.len() * 1000);
    for _ in 0..1000 {
        stream.extend_from_slice(&one);
    }
    let framer = Framer::default();
    // Warm up: the first split promotes the buffer to shared, the event queue gets capacity.
    for _ in 0..10 {
        let f = framer.next_frame(&mut stream).unwrap().unwrap();
        sg.handle_frame(now, f);
        assert!(matches!(sg.poll_event(), Some(Event::Data(_))));
    }
    let (n, ()) = allocations(|| {
        for _ in 0..900 {
            let f = framer.next_frame(&mut stream).unwrap().unwrap();
            sg.handle_frame(now, f);
            match sg.poll_event() {
                Some(Event::Data(d)) => assert_eq!(d.user_data.len(), 120),
                other => panic!("{other:?}"),
            }
        }
    });
    assert_eq!(n, 0, "900 DATA messages allocated {n} times");
}
