//! The hash type (t_hash.c): `listpack` while small, `hashtable` past
//! `hash-max-listpack-entries` / `hash-max-listpack-value`.
//!
//! Representation: a vector of pairs while small, a hash map past the limits.
//! (The data-types work refines this; the methods below are the interface the
//! rest of the engine uses.)

use bytes::Bytes;
use indexmap::IndexMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Hash {
    Listpack(Vec<(Bytes, Bytes)>),
    Table(IndexMap<Bytes, Bytes, foldhash::fast::RandomState>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Vec::new())
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(v) => v.len(),
            Hash::Table(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets `field` to `value`; true when the field is new. Converts to the
    /// table encoding when `t`'s listpack limits are passed.
    pub fn insert(&mut self, field: Bytes, value: Bytes, t: &super::Thresholds) -> bool {
        if let Hash::Listpack(v) = self {
            if let Some(p) = v.iter_mut().find(|(f, _)| *f == field) {
                p.1 = value;
                return false;
            }
            if v.len() < t.hash_max_listpack_entries
                && field.len() <= t.hash_max_listpack_value
                && value.len() <= t.hash_max_listpack_value
            {
                v.push((field, value));
                return true;
            }
            let m = std::mem::take(v).into_iter().collect();
            *self = Hash::Table(m);
        }
        match self {
            Hash::Table(m) => m.insert(field, value).is_none(),
            Hash::Listpack(_) => false,
        }
    }

    /// Calls `f` with every field and value.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match self {
            Hash::Listpack(v) => v.iter().for_each(|(k, x)| f(k, x)),
            Hash::Table(m) => m.iter().for_each(|(k, x)| f(k, x)),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn mem_usage(&self) -> usize {
        let mut n = 48;
        self.for_each(|k, v| n += k.len() + v.len() + 16);
        n
    }
}
