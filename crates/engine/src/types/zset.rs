//! The sorted-set type (t_zset.c): `listpack` while small, `skiplist` past
//! `zset-max-listpack-entries` / `zset-max-listpack-value`. Members are ordered
//! by (score, member bytes); scores are IEEE doubles, never NaN.
//!
//! Representation: a vector of (member, score) pairs kept in order. (The
//! data-types work replaces this with a structure giving O(log n) rank; the
//! methods below are the interface the rest of the engine uses.)

use bytes::Bytes;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    items: Vec<(Bytes, f64)>,
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sets `member`'s score; true when the member is new. `score` is never NaN.
    pub fn insert(&mut self, member: Bytes, score: f64, _t: &super::Thresholds) -> bool {
        let existed = match self.items.iter().position(|(m, _)| *m == member) {
            Some(p) => {
                self.items.remove(p);
                true
            }
            None => false,
        };
        let pos = self
            .items
            .partition_point(|(m, s)| (*s, &m[..]) < (score, &member[..]));
        self.items.insert(pos, (member, score));
        !existed
    }

    /// Calls `f` with every member and its score, lowest score first.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        for (m, s) in &self.items {
            f(m, *s);
        }
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    pub fn mem_usage(&self) -> usize {
        48 + self.items.iter().map(|(m, _)| m.len() + 40).sum::<usize>()
    }
}
