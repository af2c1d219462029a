//! The hash index of a [`crate::keymap::KeyMap`] and of a hash's
//! [`crate::types::hash::Table`]: from 32 bits of a key's (or field's) hash to
//! its position in the owner's dense vector.
//!
//! An open-addressing table with linear probing, one `u64` a bucket (the
//! position and the 32 bits of hash), nothing else. It replaced hashbrown's
//! table, which keeps a separate array of control bytes: a lookup there loads
//! a control group and then the bucket, two cache lines in two arrays, where
//! here the home bucket's line holds the first eight candidates. That matters
//! because a key's bucket can be found from its hash alone, before anything is
//! loaded: a pipelined batch prefetches the home line of every key, then
//! probes each (in cache by then) and prefetches its slot, so the commands
//! that follow find everything in cache (see `Engine::prefetch`).
//!
//! - The home bucket is the top bits of the hash times an odd constant
//!   (Fibonacci hashing), so every bit of the stored 32 matters.
//! - Removal shifts the following entries of the cluster back (no tombstones),
//!   so a probe always ends at the first empty bucket.
//! - The table grows past a load of 4/5 and is rebuilt from the stored hashes
//!   alone: growing never reads a key.
//! - Positions are below `u32::MAX` (a map of one database in one shard would
//!   need billions of keys to reach it), so `u64::MAX` marks an empty bucket.

/// An empty bucket.
const EMPTY: u64 = u64::MAX;

#[inline]
fn pack(pos: u32, h: u32) -> u64 {
    (u64::from(h) << 32) | u64::from(pos)
}

#[inline]
fn pos_of(e: u64) -> u32 {
    e as u32
}

#[inline]
fn hash_of(e: u64) -> u32 {
    (e >> 32) as u32
}

/// The 32 bits of `bytes`' hash that a [`PosTable`] keeps.
#[inline]
pub fn hash32(hasher: &impl std::hash::BuildHasher, bytes: &[u8]) -> u32 {
    short(hasher.hash_one(bytes))
}

/// The 32 bits of a full 64-bit hash that a [`PosTable`] keeps (its top
/// half; [`hash32`] of the same bytes).
#[inline]
pub fn short(h: u64) -> u32 {
    (h >> 32) as u32
}

#[derive(Clone, Default)]
pub struct PosTable {
    buckets: Vec<u64>,
    len: usize,
    /// `64 - log2(buckets.len())`: the home bucket is the hash's top bits.
    shift: u32,
}

impl std::fmt::Debug for PosTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosTable")
            .field("len", &self.len)
            .field("buckets", &self.buckets.len())
            .finish()
    }
}

impl PosTable {
    /// A table with room for `n` entries before it grows.
    pub fn with_capacity(n: usize) -> PosTable {
        let mut t = PosTable::default();
        t.rebuild(n);
        t
    }

    /// The bucket where a probe for `h` starts.
    #[inline]
    fn home(&self, h: u32) -> usize {
        if self.buckets.is_empty() {
            return 0;
        }
        (u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries it holds before it grows.
    pub fn capacity(&self) -> usize {
        self.buckets.len() / 5 * 4
    }

    pub fn num_buckets(&self) -> usize {
        self.buckets.len()
    }

    /// The bucket of the entry with hash `h` whose position satisfies `eq`.
    #[inline]
    fn find_bucket(&self, h: u32, mut eq: impl FnMut(u32) -> bool) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(h);
        loop {
            let e = *self.buckets.get(i)?;
            if e == EMPTY {
                return None;
            }
            if hash_of(e) == h && eq(pos_of(e)) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The position stored with hash `h` that satisfies `eq`.
    #[inline]
    pub fn find(&self, h: u32, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let i = self.find_bucket(h, eq)?;
        self.buckets.get(i).map(|&e| pos_of(e))
    }

    /// The first position stored with hash `h`: the one a lookup for a key
    /// with that hash almost surely wants (32 bits of hash rarely collide),
    /// for a prefetch. It stops there, where a walk of every candidate would
    /// go on to the end of the cluster (about nine buckets at a load of 3/4).
    #[inline]
    pub fn likely(&self, h: u32) -> Option<u32> {
        self.find(h, |_| true)
    }

    /// Starts loading the cache line where a probe for `h` starts.
    #[inline]
    pub fn prefetch(&self, h: u32) {
        if let Some(b) = self.buckets.get(self.home(h)) {
            crate::util::prefetch(b);
        }
    }

    /// Adds `pos` with hash `h`; the caller knows no entry for the same key is
    /// there.
    pub fn insert(&mut self, pos: u32, h: u32) {
        if (self.len + 1) * 5 > self.buckets.len() * 4 {
            // Doubles: room for one more at a load of 4/5 is the next power of two.
            self.rebuild(self.len + 1);
        }
        self.place(pack(pos, h));
        self.len += 1;
    }

    /// Puts `e` in the first empty bucket from its home (there is one: the
    /// load stays below 4/5).
    fn place(&mut self, e: u64) {
        let mask = self.mask();
        let mut i = self.home(hash_of(e));
        while let Some(b) = self.buckets.get_mut(i) {
            if *b == EMPTY {
                *b = e;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Removes the entry with hash `h` whose position satisfies `eq`; returns
    /// its position.
    pub fn remove(&mut self, h: u32, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let i = self.find_bucket(h, eq)?;
        let pos = self.buckets.get(i).map(|&e| pos_of(e));
        self.remove_bucket(i);
        self.len -= 1;
        pos
    }

    /// Empties bucket `i` and shifts back the entries after it that would no
    /// longer be found across the hole.
    fn remove_bucket(&mut self, mut i: usize) {
        let mask = self.mask();
        let mut j = i;
        loop {
            if let Some(b) = self.buckets.get_mut(i) {
                *b = EMPTY;
            }
            loop {
                j = (j + 1) & mask;
                let Some(&e) = self.buckets.get(j) else {
                    return;
                };
                if e == EMPTY {
                    return;
                }
                // The entry at `j` stays if its home lies cyclically in (i, j]:
                // a probe for it never passes the hole.
                let k = self.home(hash_of(e));
                let stays = if i <= j {
                    i < k && k <= j
                } else {
                    i < k || k <= j
                };
                if !stays {
                    if let Some(b) = self.buckets.get_mut(i) {
                        *b = e;
                    }
                    i = j;
                    break;
                }
            }
        }
    }

    /// Changes the position stored with hash `h` from `from` to `to`.
    pub fn repoint(&mut self, h: u32, from: u32, to: u32) -> bool {
        match self.find_bucket(h, |p| p == from) {
            Some(i) => {
                if let Some(b) = self.buckets.get_mut(i) {
                    *b = pack(to, h);
                }
                true
            }
            None => false,
        }
    }

    /// Exchanges the positions `a` (hash `ha`) and `b` (hash `hb`).
    pub fn swap(&mut self, ha: u32, a: u32, hb: u32, b: u32) {
        let ia = self.find_bucket(ha, |p| p == a);
        let ib = self.find_bucket(hb, |p| p == b);
        if let Some(x) = ia.and_then(|i| self.buckets.get_mut(i)) {
            *x = pack(b, ha);
        }
        if let Some(x) = ib.and_then(|i| self.buckets.get_mut(i)) {
            *x = pack(a, hb);
        }
    }

    /// Rebuilds the table with room for at least `n` entries (and the ones it
    /// has), from the stored hashes alone.
    pub fn shrink_to(&mut self, n: usize) {
        self.rebuild(n.max(self.len));
    }

    fn rebuild(&mut self, n: usize) {
        let want = if n == 0 {
            0
        } else {
            // Room for `n` at a load of at most 4/5.
            (n * 5 / 4 + 1).next_power_of_two().max(8)
        };
        if want == self.buckets.len() {
            return;
        }
        let old = std::mem::replace(&mut self.buckets, vec![EMPTY; want]);
        self.shift = 64 - want.trailing_zeros();
        for e in old {
            if e != EMPTY {
                self.place(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Any sequence of inserts, removals and repoints leaves the table
        /// agreeing with a map from position to hash, with hashes drawn from a
        /// small range so clusters, wrap-around and shifting back all happen.
        #[test]
        fn agrees_with_a_map(ops in proptest::collection::vec((0u8..4, 0u32..64, 0u32..40), 0..400)) {
            let mut t = PosTable::default();
            let mut model: HashMap<u32, u32> = HashMap::new();
            let mut next = 0u32;
            for (op, h, pick) in ops {
                match op {
                    0 | 1 => {
                        t.insert(next, h);
                        model.insert(next, h);
                        next += 1;
                    }
                    2 => {
                        let p = model.keys().copied().filter(|p| p % 40 == pick % 40).min();
                        if let Some(p) = p {
                            let h = model[&p];
                            prop_assert_eq!(t.remove(h, |q| q == p), Some(p));
                            model.remove(&p);
                        }
                    }
                    _ => {
                        let p = model.keys().copied().filter(|p| p % 40 == pick % 40).min();
                        if let Some(p) = p {
                            let h = model[&p];
                            prop_assert!(t.repoint(h, p, next));
                            model.remove(&p);
                            model.insert(next, h);
                            next += 1;
                        }
                    }
                }
                prop_assert_eq!(t.len(), model.len());
            }
            for (&p, &h) in &model {
                prop_assert_eq!(t.find(h, |q| q == p), Some(p));
                let likely = t.likely(h);
                prop_assert!(likely.is_some_and(|q| model.get(&q) == Some(&h)));
            }
            prop_assert_eq!(t.find(1000, |_| true), None);
            t.shrink_to(0);
            for (&p, &h) in &model {
                prop_assert_eq!(t.find(h, |q| q == p), Some(p));
            }
        }
    }

    #[test]
    fn grows_by_doubling_and_stays_between_two_fifths_and_four_fifths_full() {
        let mut t = PosTable::default();
        for n in 0..20_000u32 {
            t.insert(n, n.wrapping_mul(2_654_435_761));
            let (len, b) = (t.len(), t.num_buckets());
            assert!(len * 5 <= b * 4, "{len} in {b} buckets");
            assert!(b <= 8 || len * 5 > b * 2, "{len} in {b} buckets");
        }
    }

    #[test]
    fn swap_exchanges_two_positions() {
        let mut t = PosTable::default();
        t.insert(0, 7);
        t.insert(1, 7);
        t.insert(2, 9);
        t.swap(7, 0, 9, 2);
        assert_eq!(t.find(9, |p| p == 0), Some(0));
        assert_eq!(t.find(7, |p| p == 2), Some(2));
        assert_eq!(t.find(7, |p| p == 1), Some(1));
        assert_eq!(t.find(7, |p| p == 0), None);
    }

    #[test]
    fn an_empty_table_allocates_nothing_and_finds_nothing() {
        let t = PosTable::default();
        assert_eq!(t.num_buckets(), 0);
        assert_eq!(t.find(3, |_| true), None);
        t.prefetch(3);
    }
}
