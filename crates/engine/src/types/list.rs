//! The list type (t_list.c, quicklist.c). Redis 7.0 always reports the
//! `quicklist` encoding for lists.
//!
//! Representation: a deque of elements. (The data-types work replaces this with
//! packed nodes; the methods below are the interface the rest of the engine uses.)

use bytes::Bytes;
use std::collections::VecDeque;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    items: VecDeque<Bytes>,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends at the tail.
    pub fn push_back(&mut self, v: Bytes) {
        self.items.push_back(v);
    }

    /// Prepends at the head.
    pub fn push_front(&mut self, v: Bytes) {
        self.items.push_front(v);
    }

    /// Calls `f` with every element, head to tail.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for v in &self.items {
            f(v);
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate bytes used.
    pub fn mem_usage(&self) -> usize {
        48 + self.items.iter().map(|v| v.len() + 32).sum::<usize>()
    }
}
