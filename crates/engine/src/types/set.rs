//! The set type (t_set.c, intset.c): `intset` while every member is an integer
//! and there are at most `set-max-intset-entries`, `hashtable` otherwise (Redis
//! 7.0 has no listpack sets).
//!
//! Representation: a sorted vector of integers, or a hash set. (The data-types
//! work refines this; the methods below are the interface the rest of the engine
//! uses.)

use bytes::Bytes;
use indexmap::IndexSet;

#[derive(Clone, Debug, PartialEq)]
pub enum Set {
    Intset(Vec<i64>),
    Table(IndexSet<Bytes, foldhash::fast::RandomState>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(Vec::new())
    }
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
            Set::Table(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `member`; true when it is new. Converts to the table encoding when
    /// the member is not an integer or `t`'s intset limit is passed.
    pub fn insert(&mut self, member: Bytes, t: &super::Thresholds) -> bool {
        if let Set::Intset(v) = self {
            if let Some(i) = crate::util::parse_i64(&member) {
                match v.binary_search(&i) {
                    Ok(_) => return false,
                    Err(pos) if v.len() < t.set_max_intset_entries => {
                        v.insert(pos, i);
                        return true;
                    }
                    Err(_) => {}
                }
            }
            let mut buf = itoa::Buffer::new();
            let m = v
                .iter()
                .map(|i| Bytes::copy_from_slice(buf.format(*i).as_bytes()))
                .collect();
            *self = Set::Table(m);
        }
        match self {
            Set::Table(m) => m.insert(member),
            Set::Intset(_) => false,
        }
    }

    /// Calls `f` with every member (integers in their decimal form).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Intset(v) => {
                let mut buf = itoa::Buffer::new();
                v.iter().for_each(|i| f(buf.format(*i).as_bytes()));
            }
            Set::Table(m) => m.iter().for_each(|k| f(k)),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn mem_usage(&self) -> usize {
        match self {
            Set::Intset(v) => 16 + v.len() * 8,
            Set::Table(m) => 48 + m.iter().map(|k| k.len() + 24).sum::<usize>(),
        }
    }
}
