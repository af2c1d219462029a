//! The parser takes a pipelined buffer of small commands apart without a heap
//! allocation per command: arguments are reference-counted slices of the read
//! buffer and the argument vector is reused (`parse_into`). A counting allocator
//! checks it; this file holds one test so no other thread allocates meanwhile.

use bytes::{Bytes, BytesMut};
use keel_protocol::{Limits, RequestParser};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator, which upholds
// GlobalAlloc's contract; the counter is a relaxed atomic with no other effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn sixteen_gets() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..16 {
        let key = format!("key:{i:012}");
        v.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
    }
    v
}

#[test]
fn sixteen_pipelined_gets_parse_without_an_allocation_per_command() {
    let input = sixteen_gets();
    let limits = Limits::default();
    let mut parser = RequestParser::new();
    let mut argv: Vec<Bytes> = Vec::new();
    // Warm up: the argument vectors get their capacity once.
    let mut buf = BytesMut::from(&input[..]);
    while parser
        .parse_into(&mut buf, &limits, true, &mut argv)
        .unwrap()
    {}

    for _ in 0..3 {
        let mut buf = BytesMut::with_capacity(input.len());
        buf.extend_from_slice(&input);
        let before = ALLOCS.load(Ordering::Relaxed);
        let mut commands = 0;
        while parser
            .parse_into(&mut buf, &limits, true, &mut argv)
            .unwrap()
        {
            assert_eq!(&argv[0][..], b"GET");
            commands += 1;
        }
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        assert_eq!(commands, 16);
        // Turning the buffer into shared storage on the first slice costs one
        // allocation for the whole batch; anything per command would show as 16+.
        assert!(allocs <= 1, "{allocs} allocations for 16 commands");
    }

    // The allocating API, for contrast, allocates a vector per command: the
    // counter does see per-command allocations.
    let mut buf = BytesMut::from(&input[..]);
    let before = ALLOCS.load(Ordering::Relaxed);
    while parser.parse(&mut buf, &limits, true).unwrap().is_some() {}
    assert!(ALLOCS.load(Ordering::Relaxed) - before >= 16);
}
