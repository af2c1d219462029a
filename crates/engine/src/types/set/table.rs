//! The `hashtable` set encoding: members in a dense vector, found through a hash
//! index of their positions.
//!
//! Why this shape rather than a hash set of `Bytes`:
//! - Memory. A member costs 16 bytes in the vector ([`Member`]: inline up to
//!   15 bytes, else a thin pointer to one exact allocation) and 5 bytes per index
//!   bucket (a `u32` position and a control byte); no stored hash, no 32-byte
//!   `Bytes` handle, no per-entry node, and no index at all for the smallest
//!   tables. Redis pays a 24-byte dictEntry, an 8-byte bucket and an sds string
//!   per member.
//! - Positions. SPOP and SRANDMEMBER pick uniformly by position, and SSCAN walks
//!   positions from the top down: a removal moves the last member into the
//!   hole (a position already visited) and members are added at the end, so a
//!   member present for the whole scan is returned at least once, as in
//!   `cmd/keys.rs` SCAN.
//!
//! The index stores positions as `u32`: a table holds at most `u32::MAX`
//! members (an insert past that is refused), far beyond what fits in memory
//! at these sizes anyway.

use super::member::Member;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Up to this many members the index is not built: a linear scan of a few
/// 16-byte members is as quick as hashing, and saves the index's allocation
/// in the many small sets a dataset usually has.
const LINEAR_MAX: usize = 8;

#[derive(Clone, Default)]
pub struct Table {
    /// Members in position order.
    entries: Vec<Member>,
    /// Positions into `entries`, hashed by the member they point to; empty
    /// while there are at most [`LINEAR_MAX`] members.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.entries.iter()).finish()
    }
}

impl PartialEq for Table {
    /// Same members, whatever their positions.
    fn eq(&self, other: &Table) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(m))
    }
}

impl Table {
    pub fn with_capacity(n: usize) -> Table {
        let mut t = Table {
            entries: Vec::with_capacity(n),
            ..Table::default()
        };
        if n > LINEAR_MAX {
            t.index = HashTable::with_capacity(n);
        }
        t
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn indexed(&self) -> bool {
        self.entries.len() > LINEAR_MAX
    }

    fn hash(&self, m: &[u8]) -> u64 {
        self.hasher.hash_one(m)
    }

    /// The position of `m`, if it is a member.
    /// The hash a lookup of `m` probes with, for [`Table::prefetch`]; `None`
    /// while the table has no index (a lookup scans it).
    pub fn member_hash(&self, m: &[u8]) -> Option<u64> {
        self.indexed().then(|| self.hash(m))
    }

    /// Starts loading what a lookup of a member whose [`Table::member_hash`]
    /// is `h` will read (see `Engine::prefetch`): the members the probe will
    /// compare, or with `deep` their heap bytes (a second step, once the
    /// members themselves have arrived).
    pub fn prefetch(&self, h: u64, deep: bool) {
        if !self.indexed() {
            return;
        }
        let entries = &self.entries;
        self.index.find(h, |&i| {
            if let Some(e) = entries.get(i as usize) {
                if deep {
                    e.prefetch();
                } else {
                    crate::util::prefetch(e);
                }
            }
            false
        });
    }

    pub fn position(&self, m: &[u8]) -> Option<usize> {
        if !self.indexed() {
            return self.entries.iter().position(|e| e.as_bytes() == m);
        }
        let entries = &self.entries;
        self.index
            .find(self.hash(m), |&i| is_at(entries, i, m))
            .map(|&i| i as usize)
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.position(m).is_some()
    }

    /// Adds `m`; true when it is new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if self.contains(m) {
            return false;
        }
        let Ok(pos) = u32::try_from(self.entries.len()) else {
            return false;
        };
        if self.entries.len() == self.entries.capacity() {
            // Grow by half rather than double: the vector is most of a big
            // set's memory.
            let extra = (self.entries.len() / 2).max(4);
            self.entries.reserve_exact(extra);
        }
        self.entries.push(Member::new(m));
        if self.entries.len() == LINEAR_MAX + 1 {
            self.rebuild_index();
        } else if self.indexed() {
            let h = self.hash(m);
            let Table {
                entries,
                index,
                hasher,
            } = self;
            index.insert_unique(h, pos, |&i| rehash(hasher, entries, i));
        }
        true
    }

    /// Indexes every member (on passing [`LINEAR_MAX`]).
    fn rebuild_index(&mut self) {
        let Table {
            entries,
            index,
            hasher,
        } = self;
        if index.capacity() >= entries.len() {
            // Presized by `with_capacity`: keep it.
            index.clear();
        } else {
            *index = HashTable::with_capacity(entries.len());
        }
        for (i, m) in entries.iter().enumerate() {
            index.insert_unique(hasher.hash_one(m.as_bytes()), i as u32, |&j| {
                rehash(hasher, entries, j)
            });
        }
    }

    /// Removes `m`; true when it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.position(m) {
            Some(i) => self.remove_at(i).is_some(),
            None => false,
        }
    }

    /// Removes the member at position `i`, moving the last member into its
    /// place.
    pub fn remove_at(&mut self, i: usize) -> Option<Member> {
        if !self.indexed() {
            let m = (i < self.entries.len()).then(|| self.entries.swap_remove(i));
            self.maybe_shrink();
            return m;
        }
        let h = self.hash(self.entries.get(i)?.as_bytes());
        if let Ok(e) = self.index.find_entry(h, |&j| j as usize == i) {
            e.remove();
        }
        let m = self.entries.swap_remove(i);
        if !self.indexed() {
            // Back to a linear scan.
            self.index = HashTable::new();
        } else if i < self.entries.len() {
            // The former last member now lives at `i`.
            let last = self.entries.len();
            let h = self.hash(self.entries[i].as_bytes());
            if let Some(slot) = self.index.find_mut(h, |&j| j as usize == last) {
                *slot = i as u32;
            }
        }
        self.maybe_shrink();
        Some(m)
    }

    /// Gives memory back after mass removals (Redis shrinks its dict when it is
    /// under 10% full): both parts shrink once they are under a quarter used.
    fn maybe_shrink(&mut self) {
        let len = self.entries.len();
        if self.entries.capacity() > 16 && len * 4 < self.entries.capacity() {
            self.entries.shrink_to(len * 2);
        }
        if self.index.capacity() > 16 && len * 4 < self.index.capacity() {
            let Table {
                entries,
                index,
                hasher,
            } = self;
            index.shrink_to(len * 2, |&i| rehash(hasher, entries, i));
        }
    }

    /// The member at position `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.entries.get(i).map(Member::as_bytes)
    }

    /// The members in position order, as stored.
    pub(super) fn entries(&self) -> &[Member] {
        &self.entries
    }

    /// The members in position order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.entries.iter().map(Member::as_bytes)
    }

    /// Approximate bytes held: the vector and index allocations and the long
    /// members' own allocations.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Member>()
            + self.index.allocation_size()
            + self.entries.iter().map(Member::heap_bytes).sum::<usize>()
    }
}

/// Whether position `i` holds `m`. (Every position in the index is valid; the
/// checked access only keeps a broken invariant from turning into a panic.)
fn is_at(entries: &[Member], i: u32, m: &[u8]) -> bool {
    entries
        .get(i as usize)
        .is_some_and(|e| crate::util::bytes_eq(e.as_bytes(), m))
}

/// The hash of the member at position `i`, for the index's resizes.
fn rehash(hasher: &foldhash::fast::RandomState, entries: &[Member], i: u32) -> u64 {
    entries
        .get(i as usize)
        .map_or(0, |e| hasher.hash_one(e.as_bytes()))
}

pub(super) use crate::util::alloc_size;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: &Table) {
        if t.indexed() {
            assert_eq!(t.index.len(), t.entries.len());
        } else {
            assert_eq!(t.index.allocation_size(), 0);
        }
        for (i, m) in t.iter().enumerate() {
            assert_eq!(t.position(m), Some(i), "{:?}", String::from_utf8_lossy(m));
        }
    }

    #[test]
    fn insert_remove_keep_positions_consistent() {
        for prefix in ["m", "a-member-longer-than-fifteen-bytes-"] {
            let name = |i: usize| format!("{prefix}{i}");
            let mut t = Table::default();
            for i in 0..1000 {
                assert!(t.insert(name(i).as_bytes()));
                if i < 20 {
                    check(&t);
                }
            }
            assert!(!t.insert(name(7).as_bytes()));
            check(&t);
            for i in (0..1000).step_by(3) {
                assert!(t.remove(name(i).as_bytes()));
            }
            assert!(!t.remove(name(0).as_bytes()));
            check(&t);
            assert_eq!(t.len(), 666);
            while !t.is_empty() {
                let last = t.len() - 1;
                t.remove_at(last / 2).unwrap();
                check(&t);
            }
            assert!(t.remove_at(0).is_none());
            assert!(t.entries.capacity() <= 16);
            // Back and forth across the linear limit.
            for round in 0..3 {
                for i in 0..LINEAR_MAX + 2 {
                    t.insert(name(i + round).as_bytes());
                    check(&t);
                }
                for i in 0..LINEAR_MAX + 2 {
                    t.remove(name(i + round).as_bytes());
                    check(&t);
                }
            }
        }
    }

    #[test]
    fn binary_members_and_equality() {
        let mut a = Table::default();
        let mut b = Table::default();
        for m in [&b""[..], b"\0", b"a\r\nb", &[0xff, 0xfe]] {
            a.insert(m);
        }
        for m in [&[0xff, 0xfe][..], b"a\r\nb", b"\0", b""] {
            b.insert(m);
        }
        assert_eq!(a, b);
        assert!(a.contains(b""));
        b.remove(b"");
        assert_ne!(a, b);
    }

    #[test]
    fn size_classes() {
        assert_eq!(alloc_size(1), 8);
        assert_eq!(alloc_size(12), 16);
        assert_eq!(alloc_size(17), 32);
        assert_eq!(alloc_size(129), 160);
        assert_eq!(alloc_size(1000), 1024);
    }
}
