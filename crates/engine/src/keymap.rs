//! The map from keys to entries that one database keeps in one shard.
//!
//! Entries sit in a dense vector, found through a table of their `u32`
//! positions, each beside 32 bits of its key's hash (8 bytes a bucket,
//! [`PosTable`], linear probing). Removing swaps the
//! last entry into the hole, so positions stay dense: a random key and a SCAN
//! position are O(1), and SCAN's cursor relies on exactly that swap (see
//! `cmd::keys::scan`).
//!
//! Why not `IndexMap`, which has the same shape: it stores each key's hash
//! beside it and grows its vector to match the table's capacity, so a slot cost
//! 96 bytes and the vector sat about half empty after each doubling. Here a
//! slot is the key ([`Key`], 24 bytes, short keys inline) and its [`Entry`]
//! (32 bytes), and the slots grow in 4 KiB segments ([`Slots`]) after a first
//! one that grows by a quarter, to a whole allocator size class
//! ([`grown_capacity`]).
//!
//! The 32 bits of hash in the table cost 4 bytes a bucket and pay for
//! themselves twice: the table grows without touching a key (recomputing
//! hashes from the keys made `reserve_rehash` 16% of an AOF load's time, a
//! cache miss on the slot and another on the key for every entry moved), and
//! a probe compares them before it reads a key.
//!
//! A snapshot (the AOF rewrite) walks a map by position in chunks, with a
//! [`KeyMap::cursor`]: positions below it have been handed over. Removing a
//! key below the cursor would swap an entry not yet handed over into the
//! handed-over part, so the removal then also swaps that entry with the last
//! handed-over one and moves the cursor down by one: every entry is handed
//! over exactly once. (This only ever moves an entry from the top of the map
//! down, or the entry that just came from the top, so SCAN's guarantee holds.)
//!
//! With 1M keys of 16 bytes and 64-byte values, this map, inline keys, 16-byte
//! strings ([`crate::value::Str`]) and 32-byte entries took keel from 251 to
//! about 145 bytes a key, where Redis 7.0 spends 176 (BENCHMARKS.md).

use crate::postable::{hash32, PosTable};
use crate::util::bytes_eq;
use crate::value::Entry;

/// A stored key: up to [`Key::INLINE`] bytes inside the key itself, longer
/// ones in an allocation of their own.
///
/// 24 bytes, so a slot is 56: 8 more than a boxed slice's 16, but a short key
/// (most are) then needs no allocation of its own (16 bytes or more in
/// jemalloc) and a lookup no second cache miss to compare it.
#[derive(Clone)]
pub enum Key {
    Inline(u8, [u8; Key::INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    /// Longest key stored inline.
    pub const INLINE: usize = 22;

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline(len, buf) => buf.get(..*len as usize).unwrap_or_default(),
            Key::Heap(b) => b,
        }
    }
}

impl From<&[u8]> for Key {
    #[inline]
    fn from(k: &[u8]) -> Key {
        if k.len() <= Key::INLINE {
            let mut buf = [0u8; Key::INLINE];
            buf[..k.len()].copy_from_slice(k);
            Key::Inline(k.len() as u8, buf)
        } else {
            Key::Heap(Box::from(k))
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

/// Hashes as the bytes do, so sets of keys can be probed with `&[u8]`.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_bytes().fmt(f)
    }
}

type Hasher = foldhash::fast::RandomState;

pub struct KeyMap {
    /// 32 bits of each key's hash -> its position in `slots`.
    index: PosTable,
    slots: Slots,
    hasher: Hasher,
    /// A snapshot's walk: positions below this have been handed over (0 when no
    /// snapshot walks this map).
    cursor: usize,
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        KeyMap {
            index: PosTable::default(),
            slots: Slots::default(),
            // The shards' hasher: a key's hash picks its shard and its bucket
            // here (`ShardMap::place_of`).
            hasher: crate::keyspace::key_hasher(),
            cursor: 0,
        }
    }
}

impl KeyMap {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u32 {
        hash32(&self.hasher, key)
    }

    /// The position of `key`.
    pub fn get_index_of(&self, key: &[u8]) -> Option<usize> {
        self.get_index_of_hashed(key, self.hash(key))
    }

    /// [`KeyMap::get_index_of`] for a key whose [`KeyMap::hash_of`] is `h`.
    pub fn get_index_of_hashed(&self, key: &[u8], h: u32) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(h, |i| {
                slots.get(i as usize).is_some_and(|s| bytes_eq(&s.0, key))
            })
            .map(|i| i as usize)
    }

    /// Starts loading the slot of the key whose [`KeyMap::hash_of`] is `h`
    /// into the CPU cache, for a lookup soon after (see
    /// [`crate::engine::Engine::prefetch`]). Probes the table as a lookup
    /// does, but compares no key: the first slot whose stored hash matches is
    /// prefetched ([`PosTable::likely`]), and nothing waits for it.
    pub fn prefetch_hashed(&self, h: u32) {
        if let Some(s) = self
            .index
            .likely(h)
            .and_then(|i| self.slots.get(i as usize))
        {
            crate::util::prefetch(s);
        }
    }

    /// Starts loading the table's line where a lookup of `key` starts: the
    /// first step of a batch's prefetch, before [`KeyMap::prefetch_hashed`].
    pub fn prefetch_index(&self, key: &[u8]) {
        self.index.prefetch(self.hash(key));
    }

    /// The hash this map files `key` under, for the `_hashed` prefetches.
    pub fn hash_of(&self, key: &[u8]) -> u32 {
        self.hash(key)
    }

    /// [`KeyMap::prefetch_index`] for a key whose [`KeyMap::hash_of`] is `h`.
    pub fn prefetch_index_hashed(&self, h: u32) {
        self.index.prefetch(h);
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.slots.get(self.get_index_of(key)?).map(|s| &s.1)
    }

    /// [`KeyMap::get`] for a key whose [`KeyMap::hash_of`] is `h`.
    pub fn get_hashed(&self, key: &[u8], h: u32) -> Option<&Entry> {
        self.slots
            .get(self.get_index_of_hashed(key, h)?)
            .map(|s| &s.1)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let i = self.get_index_of(key)?;
        self.slots.get_mut(i).map(|s| &mut s.1)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_index_of(key).is_some()
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&Key, &Entry)> {
        self.get_index(self.get_index_of(key)?)
    }

    /// Position, stored key and entry of `key`.
    pub fn get_full_mut(&mut self, key: &[u8]) -> Option<(usize, &Key, &mut Entry)> {
        let i = self.get_index_of(key)?;
        let (k, e) = self.slots.get_mut(i)?;
        Some((i, &*k, e))
    }

    pub fn get_index(&self, i: usize) -> Option<(&Key, &Entry)> {
        self.slots.get(i).map(|(k, e)| (k, e))
    }

    pub fn get_index_mut(&mut self, i: usize) -> Option<(&Key, &mut Entry)> {
        self.slots.get_mut(i).map(|(k, e)| (&*k, e))
    }

    /// Inserts `key`, or replaces its entry (keeping the stored key). Returns
    /// the position and the entry replaced.
    pub fn insert_full(&mut self, key: &[u8], entry: Entry) -> (usize, Option<Entry>) {
        self.insert_full_hashed(key, self.hash(key), entry)
    }

    /// [`KeyMap::insert_full`] for a key whose [`KeyMap::hash_of`] is `h`.
    pub fn insert_full_hashed(
        &mut self,
        key: &[u8],
        h: u32,
        entry: Entry,
    ) -> (usize, Option<Entry>) {
        let KeyMap { index, slots, .. } = self;
        let found = index.find(h, |i| {
            slots.get(i as usize).is_some_and(|s| bytes_eq(&s.0, key))
        });
        if let Some(i) = found {
            let i = i as usize;
            if let Some(slot) = slots.get_mut(i) {
                return (i, Some(std::mem::replace(&mut slot.1, entry)));
            }
        }
        // Positions are u32: a shard of one database would need billions of
        // keys (hundreds of GB) to overflow them.
        let i = slots.len();
        index.insert(i as u32, h);
        slots.push((Key::from(key), entry));
        (i, None)
    }

    pub fn swap_remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = self.hash(key);
        let slots = &self.slots;
        let i = self.index.remove(h, |i| {
            slots.get(i as usize).is_some_and(|s| bytes_eq(&s.0, key))
        })?;
        self.fill_hole(i as usize).map(|(_, e)| e)
    }

    /// Removes the entry at `i`; the last entry moves into its place.
    pub fn swap_remove_index(&mut self, i: usize) -> Option<(Key, Entry)> {
        let h = self.hash(&self.slots.get(i)?.0);
        self.index.remove(h, |j| j as usize == i);
        self.fill_hole(i)
    }

    /// Takes out slot `i`, already gone from the table: the last slot moves
    /// into the hole (its table entry follows it).
    fn fill_hole(&mut self, i: usize) -> Option<(Key, Entry)> {
        let gone = self.fill_hole_plain(i);
        if i < self.cursor {
            if self.cursor > self.len() {
                // Everything was handed over: so was the entry that moved.
                self.cursor = self.len();
            } else {
                // The entry now at `i` came from the top, not handed over yet:
                // it trades places with the last handed-over entry.
                let c = self.cursor - 1;
                if c != i {
                    self.swap_slots(i, c);
                }
                self.cursor = c;
            }
        }
        gone
    }

    fn fill_hole_plain(&mut self, i: usize) -> Option<(Key, Entry)> {
        let KeyMap {
            index,
            slots,
            hasher,
            ..
        } = self;
        let last = slots.len().checked_sub(1)?;
        if i != last {
            if let Some(moved) = slots.get(last) {
                let moved = hash32(hasher, &moved.0);
                index.repoint(moved, last as u32, i as u32);
            }
        }
        let gone = slots.swap_remove(i);
        // Give memory back after mass deletions (Redis shrinks its dict below
        // 10% fill); emptied segments of the slots go as they empty.
        if index.capacity() > 64 && slots.len() * 8 < index.capacity() {
            slots.shrink();
            index.shrink_to(slots.len() * 2);
        }
        gone
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.slots.iter().map(|(k, e)| (k, e))
    }

    /// Where a snapshot's walk of this map stands (see the module docs).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Moves the snapshot's walk to `c` (at most the length); 0 ends it.
    pub fn set_cursor(&mut self, c: usize) {
        self.cursor = c.min(self.len());
    }

    /// Exchanges the entries at positions `i` and `j` (both in range).
    fn swap_slots(&mut self, i: usize, j: usize) {
        let KeyMap {
            index,
            slots,
            hasher,
            ..
        } = self;
        let (Some(a), Some(b)) = (slots.get(i), slots.get(j)) else {
            return;
        };
        let (ha, hb) = (hash32(hasher, &a.0), hash32(hasher, &b.0));
        index.swap(ha, i as u32, hb, j as u32);
        slots.swap(i, j);
    }

    /// Bytes the map itself holds (slots and table), for MEMORY STATS.
    pub fn overhead(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.index.num_buckets() * std::mem::size_of::<u64>()
    }
}

type Slot = (Key, Entry);

/// Slots in a segment: as many as fit a 4 KiB allocation.
const SEGMENT: usize = 4096 / std::mem::size_of::<Slot>();

/// The dense vector of slots, kept in segments of [`SEGMENT`] slots (4 KiB)
/// after the first: the first grows like a vector (by a quarter, to a size
/// class, see [`grown_capacity`]) up to a whole segment, and then each new
/// segment is allocated full size once. Growing never copies slots or frees a
/// large buffer: with one vector, every growth step of every shard's map
/// freed the previous large buffer, and those pages stayed resident until the
/// allocator decayed them (measured: 1.5 MB more RSS than `used_memory` right
/// after loading 100k small sets). Position `i` is segment `i / SEGMENT`, a
/// division by a constant.
#[derive(Default)]
struct Slots {
    segs: Vec<Vec<Slot>>,
    len: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&Slot> {
        self.segs.get(i / SEGMENT)?.get(i % SEGMENT)
    }

    #[inline]
    fn get_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.segs.get_mut(i / SEGMENT)?.get_mut(i % SEGMENT)
    }

    fn push(&mut self, slot: Slot) {
        match self.segs.last_mut() {
            Some(last) if last.len() < SEGMENT => {
                if last.len() == last.capacity() {
                    // Only the first segment grows; later ones start full size.
                    let want = grown_capacity(last.len()).min(SEGMENT);
                    last.reserve_exact(want - last.len());
                }
                last.push(slot);
            }
            _ => {
                let mut seg = if self.segs.is_empty() {
                    Vec::with_capacity(grown_capacity(0).min(SEGMENT))
                } else {
                    Vec::with_capacity(SEGMENT)
                };
                seg.push(slot);
                self.segs.push(seg);
            }
        }
        self.len += 1;
    }

    /// Exchanges slots `i` and `j`; nothing happens if either is out of range.
    fn swap(&mut self, i: usize, j: usize) {
        if i == j || i >= self.len || j >= self.len {
            return;
        }
        let (lo, hi) = (i.min(j), i.max(j));
        let (slo, shi) = (lo / SEGMENT, hi / SEGMENT);
        if slo == shi {
            if let Some(seg) = self.segs.get_mut(slo) {
                seg.swap(lo % SEGMENT, hi % SEGMENT);
            }
        } else {
            let (left, right) = self.segs.split_at_mut(shi);
            if let (Some(a), Some(b)) = (
                left.get_mut(slo).and_then(|s| s.get_mut(lo % SEGMENT)),
                right.first_mut().and_then(|s| s.get_mut(hi % SEGMENT)),
            ) {
                std::mem::swap(a, b);
            }
        }
    }

    /// Removes the last slot.
    fn pop(&mut self) -> Option<Slot> {
        let last = self.segs.last_mut()?;
        let slot = last.pop()?;
        if last.is_empty() {
            self.segs.pop();
        }
        self.len -= 1;
        Some(slot)
    }

    /// Removes slot `i`; the last slot takes its place. `None` if `i` is out
    /// of range.
    fn swap_remove(&mut self, i: usize) -> Option<Slot> {
        if i >= self.len {
            return None;
        }
        let last = self.pop()?;
        match self.get_mut(i) {
            Some(hole) => Some(std::mem::replace(hole, last)),
            None => Some(last), // `i` was the last slot
        }
    }

    /// Shrinks the first segment to its contents (later ones are freed as
    /// they empty).
    fn shrink(&mut self) {
        if let [only] = &mut self.segs[..] {
            let keep = grown_capacity(only.len()).min(SEGMENT).max(only.len());
            only.shrink_to(keep);
        }
        self.segs.shrink_to_fit();
    }

    fn capacity(&self) -> usize {
        self.segs.iter().map(Vec::capacity).sum()
    }

    fn iter(&self) -> SlotIter<'_> {
        self.segs.iter().flatten()
    }
}

type SlotIter<'a> = std::iter::Flatten<std::slice::Iter<'a, Vec<Slot>>>;

/// The capacity to grow a full slot vector of `len` to: a quarter more,
/// rounded up to fill an allocator size class.
///
/// A slot is most of what a small key costs. A vector that doubles sits a
/// quarter empty on average; growing by a quarter leaves about a tenth empty.
/// Allocators round large requests up to classes four to a doubling (1, 1.25,
/// 1.5 and 1.75 times a power of two, in jemalloc and most others), so the
/// rounding is used instead of being lost. Measured with 100k keys of 10-field
/// hashes (VmRSS per field): growth by half 49 bytes, by a quarter 48, Redis
/// 48; with 1M strings 154 and 150 bytes a key. Smaller steps allocate less
/// still but free more vectors on the way, which stay resident until the
/// allocator purges them.
fn grown_capacity(len: usize) -> usize {
    let slot = std::mem::size_of::<Slot>();
    let want = (len + len / 4 + 1).saturating_mul(slot);
    (crate::util::alloc_size(want) / slot).max(len + 1)
}

impl<'a> IntoIterator for &'a KeyMap {
    type Item = (&'a Key, &'a Entry);
    type IntoIter = std::iter::Map<SlotIter<'a>, fn(&'a Slot) -> (&'a Key, &'a Entry)>;

    fn into_iter(self) -> Self::IntoIter {
        self.slots.iter().map(|(k, e)| (k, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn entry(n: u64) -> Entry {
        Entry::new(Value::string(n.to_string().as_bytes()), n, 0)
    }

    /// Random inserts and removals agree with a std HashMap, positions stay
    /// dense and every key is found at the position its slot has.
    #[test]
    fn growth_fills_size_classes() {
        assert_eq!(crate::util::alloc_size(21840), 24576);
        assert_eq!(crate::util::alloc_size(218_736), 229_376);
        assert_eq!(crate::util::alloc_size(229_376), 229_376);
        assert_eq!(crate::util::alloc_size(65), 80);
        let slot = std::mem::size_of::<(Key, Entry)>();
        let mut cap = 0;
        while cap < 1_000_000 {
            let next = grown_capacity(cap);
            assert!(next > cap);
            assert!(next * slot <= crate::util::alloc_size((cap + cap / 4 + 1) * slot));
            assert!(cap < 64 || next * 100 <= cap * 157, "{cap} -> {next}");
            cap = next;
        }
    }

    /// A walk that advances a cursor while keys are removed and inserted
    /// visits every key that was there from the start exactly once, and the
    /// table still finds every key at its position.
    #[test]
    fn a_cursor_walk_visits_every_old_key_once() {
        let mut m = KeyMap::default();
        for i in 0..3000u64 {
            m.insert_full(format!("k{i}").as_bytes(), entry(i));
        }
        let mut visited: std::collections::HashMap<Vec<u8>, u32> = Default::default();
        let mut removed = std::collections::HashSet::new();
        let mut x: u64 = 99;
        let mut fresh = 0;
        while m.cursor() < m.len() {
            let from = m.cursor();
            let to = (from + 37).min(m.len());
            for i in from..to {
                let (k, _) = m.get_index(i).expect("in range");
                *visited.entry(k.to_vec()).or_default() += 1;
            }
            m.set_cursor(to);
            for _ in 0..5 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x % 3 == 0 {
                    m.insert_full(format!("new{fresh}").as_bytes(), entry(0));
                    fresh += 1;
                } else {
                    let k = format!("k{}", x % 3000);
                    if m.swap_remove(k.as_bytes()).is_some() {
                        removed.insert(k.into_bytes());
                    }
                }
                assert!(m.cursor() <= m.len());
            }
        }
        for i in 0..3000u64 {
            let k = format!("k{i}").into_bytes();
            let times = visited.get(&k).copied().unwrap_or(0);
            if removed.contains(&k) {
                assert!(times <= 1, "k{i} visited {times} times");
            } else {
                assert_eq!(times, 1, "k{i}");
            }
        }
        assert!(visited.values().all(|&t| t == 1), "no key visited twice");
        for (i, (k, _)) in m.iter().enumerate() {
            assert_eq!(m.get_index_of(k), Some(i));
        }
    }

    #[test]
    fn agrees_with_a_hashmap() {
        let mut m = KeyMap::default();
        let mut model = std::collections::HashMap::new();
        let mut x: u64 = 12345;
        for step in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = format!("k{}", x % 5000).into_bytes();
            // Grow early, then mostly remove, so the map also shrinks.
            let remove = if step < 100_000 {
                x % 3 == 0
            } else {
                x % 5 != 0
            };
            if remove {
                assert_eq!(m.swap_remove(&k).map(|e| e.expire_at), model.remove(&k));
            } else {
                let old = m.insert_full(&k, entry(step)).1.map(|e| e.expire_at);
                assert_eq!(old, model.insert(k, step));
            }
            assert_eq!(m.len(), model.len());
            // Segments hold the slots with at most one partly used segment
            // beyond the first.
            assert!(m.slots.capacity() <= m.len().max(SEGMENT) + SEGMENT);
        }
        for (i, (k, e)) in m.iter().enumerate() {
            assert_eq!(m.get_index_of(k), Some(i));
            assert_eq!(model.get(&k[..]), Some(&e.expire_at));
        }
        let mut n = 0;
        while let Some(i) = (!m.is_empty()).then_some(0) {
            m.swap_remove_index(i);
            n += 1;
        }
        assert_eq!(n, model.len());
        assert!(m.get(b"k1").is_none());
        assert!(m.slots.capacity() <= SEGMENT);
    }

    #[test]
    fn keys_inline_up_to_22_bytes() {
        for n in [0, 1, 15, 16, 22, 23, 100] {
            let bytes: Vec<u8> = (0..n as u8).collect();
            let k = Key::from(&bytes[..]);
            assert_eq!(&*k, &bytes[..]);
            assert_eq!(matches!(k, Key::Inline(..)), n <= Key::INLINE, "{n}");
            assert_eq!(k.clone(), k);
            let set: std::collections::HashSet<Key> = [k].into_iter().collect();
            assert!(set.contains(&bytes[..]));
        }
    }
}
