//! The hash type (t_hash.c): `listpack` while small, `hashtable` past
//! `hash-max-listpack-entries` / `hash-max-listpack-value`, converting exactly
//! where Redis 7.0 does (see [`Hash::insert`] and [`Hash::prepare_set`]); a
//! hash never converts back, as in Redis.
//!
//! Representation, chosen to use no more memory per field than Redis:
//! - `listpack`: one boxed byte buffer: a 4-byte little-endian count of pairs,
//!   then field, value, field, value ..., each entry its length as a LEB128
//!   varint (one byte up to 127) followed by its bytes. Lookups scan linearly,
//!   as Redis's listpack does; order is insertion order and an update keeps its
//!   place, so HGETALL answers in Redis's order.
//! - `hashtable`: [`Table`]: the pairs in a vector, each pair one allocation
//!   (`[varint field length][field][value]`) behind a 16-byte handle, and a
//!   [`PosTable`] of `u32` positions into that vector beside 32 bits of each
//!   field's hash (8 bytes a bucket). Measured with one hash of 1M fields
//!   (16-byte fields and values, jemalloc `used_memory` delta): 85 bytes a
//!   field, where Redis 7.0 spends 105 (dictEntry, two sds strings and the
//!   bucket array).
//!
//! `Hash` itself is 16 bytes (the box of the table fits the niche of the
//! buffer's pointer), like Redis's `robj`.

use super::Thresholds;
use crate::postable::{hash32, PosTable};
use crate::util::Stage;
use std::hash::BuildHasher;

/// Redis refuses to grow a listpack past 1 GiB (`lpSafeToAdd`) and converts.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// Bytes before the first listpack entry: the pair count.
const HEADER: usize = 4;

#[derive(Clone, Debug)]
pub enum Hash {
    Listpack(Box<[u8]>),
    Table(Box<Table>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Box::default())
    }
}

/// Equal when they hold the same fields and values, whatever the encoding.
impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(b) => lp_count(b),
            Hash::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(b) => lp_find(b, field).map(|e| &b[e.value.clone()]),
            Hash::Table(t) => t.get(field),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Redis's `hashTypeTryConversion` before HSET/HMSET/HSETNX store `args`
    /// (fields and values): a listpack converts when any of them is longer than
    /// `hash-max-listpack-value`, even a field that already exists, or when the
    /// buffer would pass 1 GiB.
    pub fn prepare_set<'a>(&mut self, args: impl IntoIterator<Item = &'a [u8]>, t: &Thresholds) {
        let Hash::Listpack(b) = self else { return };
        let mut sum = 0usize;
        for a in args {
            if a.len() > t.hash_max_listpack_value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(a.len());
        }
        if b.len().saturating_add(sum) > LISTPACK_MAX_SAFETY_SIZE {
            self.convert();
        }
    }

    /// Sets `field` to `value`; true when the field is new. As Redis 7.0's
    /// `hashTypeSet`: a listpack converts first when the field or the value is
    /// longer than `hash-max-listpack-value`, and after the insertion when it
    /// holds more than `hash-max-listpack-entries` pairs.
    pub fn insert(
        &mut self,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        t: &Thresholds,
    ) -> bool {
        let (field, value) = (field.as_ref(), value.as_ref());
        if let Hash::Listpack(_) = self {
            if field.len() > t.hash_max_listpack_value || value.len() > t.hash_max_listpack_value {
                self.convert();
            }
        }
        match self {
            Hash::Listpack(b) => {
                let new = lp_set(b, field, value);
                if lp_count(b) > t.hash_max_listpack_entries {
                    self.convert();
                }
                new
            }
            Hash::Table(tb) => tb.insert(field, value),
        }
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(b) => lp_remove(b, field),
            Hash::Table(t) => t.remove(field),
        }
    }

    /// Turns a listpack into a table (nothing for a table).
    pub fn convert(&mut self) {
        if let Hash::Listpack(b) = self {
            let mut t = Table::with_capacity(lp_count(b));
            for (f, v) in LpIter::new(b) {
                t.insert(f, v);
            }
            *self = Hash::Table(Box::new(t));
        }
    }

    /// Every field and value, in the encoding's order (the listpack's is
    /// insertion order, as in Redis).
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Listpack(b) => Iter::Listpack(LpIter::new(b)),
            Hash::Table(t) => Iter::Table(t.pairs.iter()),
        }
    }

    /// Calls `f` with every field and value.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.iter().for_each(|(k, v)| f(k, v));
    }

    /// The pair at position `i` of the encoding's order: O(1) for a table, a
    /// scan for a listpack.
    pub fn pair_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Listpack(b) => LpIter::new(b).nth(i),
            Hash::Table(t) => t.pairs.get(i).map(|p| split_pair(p)),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Approximate bytes used (the boxed `Hash` included), in O(1).
    pub fn mem_usage(&self) -> usize {
        16 + match self {
            Hash::Listpack(b) => b.len(),
            Hash::Table(t) => t.mem_usage(),
        }
    }
}

/// Iterator over a hash's pairs.
pub enum Iter<'a> {
    Listpack(LpIter<'a>),
    Table(std::slice::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next(),
            Iter::Table(it) => it.next().map(|p| split_pair(p)),
        }
    }
}

// ------------------------------------------------------------------ varints

/// Appends `n` as a LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Reads a varint at `pos`: (value, bytes used). A buffer this module wrote is
/// always well formed; a truncated one reads as ending there.
fn get_varint(b: &[u8], pos: usize) -> Option<(usize, usize)> {
    let mut n = 0usize;
    let mut shift = 0;
    for (i, &byte) in b.get(pos..)?.iter().enumerate().take(10) {
        n |= ((byte & 0x7f) as usize).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some((n, i + 1));
        }
        shift += 7;
    }
    None
}

/// One length-prefixed entry at `pos`: (its bytes' range, the next position).
fn entry_at(b: &[u8], pos: usize) -> Option<(std::ops::Range<usize>, usize)> {
    let (len, used) = get_varint(b, pos)?;
    let start = pos + used;
    let end = start.checked_add(len).filter(|&e| e <= b.len())?;
    Some((start..end, end))
}

// ----------------------------------------------------------------- listpack

fn lp_count(b: &[u8]) -> usize {
    match b.get(..HEADER) {
        Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
        None => 0,
    }
}

fn lp_set_count(b: &mut [u8], n: usize) {
    if let Some(h) = b.get_mut(..HEADER) {
        h.copy_from_slice(&(n.min(u32::MAX as usize) as u32).to_le_bytes());
    }
}

/// Walks a listpack's pairs.
pub struct LpIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> LpIter<'a> {
    fn new(buf: &'a [u8]) -> LpIter<'a> {
        LpIter { buf, pos: HEADER }
    }
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (f, next) = entry_at(self.buf, self.pos)?;
        let (v, next) = entry_at(self.buf, next)?;
        self.pos = next;
        Some((&self.buf[f], &self.buf[v]))
    }
}

/// Where a pair sits in a listpack.
struct LpEntry {
    /// Start of the field's length prefix.
    start: usize,
    /// The value's bytes.
    value: std::ops::Range<usize>,
    /// End of the pair.
    end: usize,
}

fn lp_find(b: &[u8], field: &[u8]) -> Option<LpEntry> {
    let mut pos = HEADER;
    while pos < b.len() {
        let (f, next) = entry_at(b, pos)?;
        let (v, end) = entry_at(b, next)?;
        if crate::util::bytes_eq(&b[f], field) {
            return Some(LpEntry {
                start: pos,
                value: v,
                end,
            });
        }
        pos = end;
    }
    None
}

/// Replaces `b[range]` with `with`, reallocating to the exact new size (as
/// Redis's listpack reallocs on every change).
fn lp_splice(b: &mut Box<[u8]>, range: std::ops::Range<usize>, with: &[u8]) {
    if range.len() == with.len() {
        b[range].copy_from_slice(with);
        return;
    }
    let mut v = std::mem::take(b).into_vec();
    if with.len() > range.len() {
        v.reserve_exact(with.len() - range.len());
    }
    v.splice(range, with.iter().copied());
    *b = v.into_boxed_slice();
}

fn lp_set(b: &mut Box<[u8]>, field: &[u8], value: &[u8]) -> bool {
    if let Some(e) = lp_find(b, field) {
        let mut enc = Vec::with_capacity(value.len() + 5);
        put_varint(&mut enc, value.len());
        enc.extend_from_slice(value);
        let prefix = varint_len(e.value.len());
        lp_splice(b, e.value.start - prefix..e.value.end, &enc);
        return false;
    }
    let count = lp_count(b);
    let add = varint_len(field.len()) + field.len() + varint_len(value.len()) + value.len();
    let mut v = std::mem::take(b).into_vec();
    v.reserve_exact(add + if v.is_empty() { HEADER } else { 0 });
    if v.is_empty() {
        v.extend_from_slice(&[0; HEADER]);
    }
    put_varint(&mut v, field.len());
    v.extend_from_slice(field);
    put_varint(&mut v, value.len());
    v.extend_from_slice(value);
    lp_set_count(&mut v, count + 1);
    *b = v.into_boxed_slice();
    true
}

fn lp_remove(b: &mut Box<[u8]>, field: &[u8]) -> bool {
    let Some(e) = lp_find(b, field) else {
        return false;
    };
    let count = lp_count(b).saturating_sub(1);
    if count == 0 {
        *b = Box::default();
        return true;
    }
    lp_splice(b, e.start..e.end, &[]);
    lp_set_count(b, count);
    true
}

// -------------------------------------------------------------------- table

/// A pair as stored in a [`Table`]: `[varint field length][field][value]`.
fn make_pair(field: &[u8], value: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    put_varint(&mut v, field.len());
    v.extend_from_slice(field);
    v.extend_from_slice(value);
    v.into_boxed_slice()
}

fn split_pair(p: &[u8]) -> (&[u8], &[u8]) {
    match entry_at(p, 0) {
        Some((f, end)) => (&p[f], &p[end..]),
        None => (&[], &[]),
    }
}

fn field_of(p: &[u8]) -> &[u8] {
    split_pair(p).0
}

/// The `hashtable` encoding: pairs in a vector, found through a table of their
/// positions ([`PosTable`], each beside 32 bits of its field's hash).
/// Removing swaps the last pair into the hole, so positions stay dense; HSCAN's
/// cursor relies on exactly that (see [`Table::scan`]).
///
/// Why [`PosTable`] rather than hashbrown's table (5 bytes a bucket against
/// 8): a field's bucket line is known from its hash alone, so a pipelined
/// batch of HSETs prefetches every field's bucket, then every pair's handle,
/// then every pair's bytes, and no step waits on memory (see
/// `Engine::prefetch`); hashbrown's probe first loads a control group and then
/// a bucket in another array, two misses the batch paid one command at a time.
/// The stored hash bits also let the table grow without reading a pair.
#[derive(Clone, Debug)]
pub struct Table {
    index: PosTable,
    pairs: Vec<Box<[u8]>>,
    hasher: foldhash::fast::RandomState,
    /// Sum of the pairs' lengths, for [`Table::mem_usage`].
    bytes: usize,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            index: PosTable::with_capacity(n),
            pairs: Vec::with_capacity(n),
            hasher: foldhash::fast::RandomState::default(),
            bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn hash(&self, field: &[u8]) -> u32 {
        hash32(&self.hasher, field)
    }

    /// The full hash of `field`, for [`Table::prefetch`] (the index keeps
    /// its top 32 bits).
    pub fn member_hash(&self, field: &[u8]) -> u64 {
        self.hasher.hash_one(field)
    }

    /// One step of loading what a lookup of a field whose
    /// [`Table::member_hash`] is `h64` will read (see `Engine::prefetch`):
    /// its bucket line, then the handle of the pair its hash points to, then
    /// that pair's bytes.
    pub fn prefetch(&self, h64: u64, stage: Stage) {
        let h = crate::postable::short(h64);
        let pairs = &self.pairs;
        match stage {
            Stage::Bucket => self.index.prefetch(h),
            Stage::Slot => {
                if let Some(p) = self.index.likely(h).and_then(|i| pairs.get(i as usize)) {
                    crate::util::prefetch(p);
                }
            }
            Stage::Bytes => {
                if let Some(p) = self.index.likely(h).and_then(|i| pairs.get(i as usize)) {
                    crate::util::prefetch_bytes(p);
                }
            }
        }
    }

    /// Whether position `i` holds `field`.
    fn holds(pairs: &[Box<[u8]>], i: u32, field: &[u8]) -> bool {
        pairs
            .get(i as usize)
            .is_some_and(|p| crate::util::bytes_eq(field_of(p), field))
    }

    fn position(&self, field: &[u8]) -> Option<usize> {
        let pairs = &self.pairs;
        self.index
            .find(self.hash(field), |i| Table::holds(pairs, i, field))
            .map(|i| i as usize)
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let p = self.pairs.get(self.position(field)?)?;
        Some(split_pair(p).1)
    }

    /// Sets `field`; true when it is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let h = self.hash(field);
        let pairs = &self.pairs;
        let found = self.index.find(h, |i| Table::holds(pairs, i, field));
        match found.and_then(|i| self.pairs.get_mut(i as usize)) {
            Some(slot) => {
                let at = slot.len() - split_pair(slot).1.len();
                match slot.get_mut(at..).filter(|old| old.len() == value.len()) {
                    // A value of the same length (a counter, a fixed-size
                    // record) is overwritten where it is: no allocation.
                    Some(old) => old.copy_from_slice(value),
                    None => {
                        let pair = make_pair(field, value);
                        self.bytes = self.bytes + pair.len() - slot.len();
                        *slot = pair;
                    }
                }
                false
            }
            None => {
                let pair = make_pair(field, value);
                self.bytes += pair.len();
                // Positions are u32: 4 billion fields would need far more
                // memory than a process gets, as in Redis (whose hashes count
                // in 32 bits in RDB and DUMP).
                self.index.insert(self.pairs.len() as u32, h);
                self.pairs.push(pair);
                true
            }
        }
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let h = self.hash(field);
        let pairs = &self.pairs;
        let Some(pos) = self.index.remove(h, |i| Table::holds(pairs, i, field)) else {
            return false;
        };
        let pos = pos as usize;
        let last = self.pairs.len() - 1;
        if pos != last {
            // The last pair moves into the hole: point its index entry there.
            if let Some(moved) = self.pairs.get(last) {
                let moved = self.hash(field_of(moved));
                self.index.repoint(moved, last as u32, pos as u32);
            }
        }
        let gone = self.pairs.swap_remove(pos);
        self.bytes -= gone.len();
        // Give memory back after mass deletions (Redis shrinks its dict below
        // 10% fill).
        if self.pairs.capacity() > 64 && self.pairs.len() * 8 < self.pairs.capacity() {
            self.pairs.shrink_to(self.pairs.len() * 2);
            self.index.shrink_to(self.pairs.len() * 2);
        }
        true
    }

    /// One HSCAN step over positions, from the top down: `cursor` is how many
    /// positions are still to visit (0 on the first call: all of them); visits
    /// up to `count` of them with `f` and returns the next cursor, 0 when done.
    ///
    /// Why a field present for the whole scan is always returned: removing a
    /// pair moves the last pair into the hole. If the hole is below the cursor
    /// (not yet visited), the moved pair either was visited already (then it is
    /// merely returned twice) or was itself unvisited and stays so; if the hole
    /// is at or above the cursor, the moved pair came from a visited position.
    /// New pairs are appended above every visited position. So no pair ever
    /// moves from the unvisited part into the visited one.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        let len = self.pairs.len();
        let mut remaining = if cursor == 0 {
            len
        } else {
            usize::try_from(cursor).unwrap_or(usize::MAX).min(len)
        };
        let mut budget = count.max(1);
        while remaining > 0 && budget > 0 {
            remaining -= 1;
            budget -= 1;
            if let Some(p) = self.pairs.get(remaining) {
                let (k, v) = split_pair(p);
                f(k, v);
            }
        }
        remaining as u64
    }

    fn mem_usage(&self) -> usize {
        std::mem::size_of::<Table>()
            + self.pairs.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.index.num_buckets() * std::mem::size_of::<u64>()
            // Each pair's allocation rounds up to an allocator size class.
            + self.bytes
            + self.pairs.len() * 8
    }
}

impl Hash {
    /// One HSCAN step (see [`Table::scan`]); a listpack is visited whole and
    /// answers cursor 0, as Redis does for its small encodings.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Listpack(_) => {
                self.for_each(f);
                0
            }
            Hash::Table(t) => t.scan(cursor, count, &mut f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(entries: usize, value: usize) -> Thresholds {
        Thresholds {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..Thresholds::default()
        }
    }

    fn pairs(h: &Hash) -> Vec<(String, String)> {
        h.iter()
            .map(|(f, v)| {
                (
                    String::from_utf8_lossy(f).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Hash>(), 16);
    }

    /// A table overwrites a value of the same length in place, and any other
    /// value by a new pair; either way the field reads back its new value and
    /// the accounted bytes follow the lengths.
    #[test]
    fn table_overwrites_in_place_or_by_a_new_pair() {
        let mut tb = Table::with_capacity(4);
        assert!(tb.insert(b"field", b"abc"));
        assert!(tb.insert(b"other", b"1"));
        let before = tb.mem_usage();
        let at = tb.pairs[0].as_ptr();
        assert!(!tb.insert(b"field", b"xyz"));
        assert_eq!(tb.get(b"field"), Some(&b"xyz"[..]));
        assert_eq!(tb.pairs[0].as_ptr(), at, "same length: the pair is reused");
        assert_eq!(tb.mem_usage(), before);
        assert!(!tb.insert(b"field", b"longer value"));
        assert_eq!(tb.get(b"field"), Some(&b"longer value"[..]));
        assert_eq!(tb.mem_usage(), before + 9);
        assert!(!tb.insert(b"field", b""));
        assert_eq!(tb.get(b"field"), Some(&b""[..]));
        assert_eq!(tb.mem_usage(), before - 3);
        assert!(!tb.insert(b"field", b""));
        assert_eq!(tb.get(b"other"), Some(&b"1"[..]));
        assert_eq!(tb.len(), 2);
    }

    #[test]
    fn listpack_basics() {
        let th = t(4, 8);
        let mut h = Hash::new();
        assert!(h.is_empty());
        assert_eq!(h.get(b"a"), None);
        assert!(h.insert(b"a", b"1", &th));
        assert!(h.insert(b"b", b"", &th));
        assert!(h.insert(b"", b"empty", &th));
        assert!(!h.insert(b"a", b"longer1", &th));
        assert_eq!(h.len(), 3);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.get(b"a"), Some(&b"longer1"[..]));
        assert_eq!(h.get(b""), Some(&b"empty"[..]));
        assert_eq!(h.get(b"b"), Some(&b""[..]));
        // An update keeps its place.
        assert_eq!(
            pairs(&h),
            vec![
                ("a".into(), "longer1".into()),
                ("b".into(), "".into()),
                ("".into(), "empty".into())
            ]
        );
        assert!(!h.insert(b"a", b"x", &th));
        assert_eq!(h.get(b"a"), Some(&b"x"[..]));
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 2);
        assert_eq!(
            pairs(&h),
            vec![("a".into(), "x".into()), ("".into(), "empty".into())]
        );
        assert!(h.remove(b"a"));
        assert!(h.remove(b""));
        assert!(h.is_empty());
        assert!(matches!(&h, Hash::Listpack(b) if b.is_empty()));
    }

    #[test]
    fn conversions() {
        let th = t(3, 5);
        let mut h = Hash::new();
        for f in ["a", "b", "c"] {
            h.insert(f.as_bytes(), b"v", &th);
        }
        assert_eq!(h.encoding(), "listpack");
        // Updating never converts on the count.
        h.insert(b"a", b"w", &th);
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"d", b"v", &th);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get(b"a"), Some(&b"w"[..]));

        // A value or field one past the limit converts, at the limit not.
        let mut h = Hash::new();
        h.insert(b"12345", b"12345", &th);
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"a", b"123456", &th);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.insert(b"123456", b"1", &th);
        assert_eq!(h.encoding(), "hashtable");

        // prepare_set looks at every argument.
        let mut h = Hash::new();
        h.insert(b"a", b"1", &th);
        h.prepare_set([&b"a"[..], b"1", b"b", b"12345"], &th);
        assert_eq!(h.encoding(), "listpack");
        h.prepare_set([&b"a"[..], b"123456"], &th);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"1"[..]));
    }

    #[test]
    fn long_entries_and_binary() {
        let th = t(512, 100_000);
        let mut h = Hash::new();
        let big = vec![0xffu8; 70_000];
        let bin = b"a\0b\r\n\xff".to_vec();
        h.insert(&big, &bin, &th);
        h.insert(&bin, &big, &th);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.get(&big), Some(&bin[..]));
        assert_eq!(h.get(&bin), Some(&big[..]));
        h.insert(&bin, b"short", &th);
        assert_eq!(h.get(&bin), Some(&b"short"[..]));
        assert_eq!(h.get(&big), Some(&bin[..]));
        h.convert();
        assert_eq!(h.get(&big), Some(&bin[..]));
        assert_eq!(h.get(&bin), Some(&b"short"[..]));
    }

    #[test]
    fn table_insert_remove_against_a_model() {
        use rand::{Rng, SeedableRng};
        let th = t(0, 64);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut h = Hash::new();
        let mut model = std::collections::HashMap::new();
        for step in 0..20_000 {
            let f = format!("f{}", rng.gen_range(0..600));
            if rng.gen_bool(0.6) {
                let v = format!("v{step}");
                assert_eq!(
                    h.insert(f.as_bytes(), v.as_bytes(), &th),
                    model.insert(f, v).is_none()
                );
            } else {
                assert_eq!(h.remove(f.as_bytes()), model.remove(&f).is_some());
            }
            assert_eq!(h.len(), model.len());
        }
        assert_eq!(h.encoding(), "hashtable");
        for (f, v) in &model {
            assert_eq!(h.get(f.as_bytes()), Some(v.as_bytes()));
        }
        let mut n = 0;
        h.for_each(|f, v| {
            n += 1;
            assert_eq!(
                model
                    .get(&*String::from_utf8_lossy(f))
                    .map(|s| s.as_bytes()),
                Some(v)
            );
        });
        assert_eq!(n, model.len());
        // Empty it, then grow again after the shrink.
        for f in model.keys() {
            assert!(h.remove(f.as_bytes()));
        }
        assert!(h.is_empty());
        h.insert(b"x", b"y", &th);
        assert_eq!(h.get(b"x"), Some(&b"y"[..]));
    }

    #[test]
    fn scan_returns_every_stable_field_under_changes() {
        use rand::{Rng, SeedableRng};
        let th = t(0, 64);
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for round in 0..20 {
            let mut h = Hash::new();
            for i in 0..300 {
                h.insert(format!("s{i}").as_bytes(), b"v", &th);
            }
            // Fields "s*" are never removed; "t*" come and go during the scan.
            let mut seen = std::collections::HashSet::new();
            let mut cursor = 0;
            loop {
                cursor = h.scan(cursor, 1 + round, |f, _| {
                    seen.insert(f.to_vec());
                });
                for _ in 0..5 {
                    let f = format!("t{}", rng.gen_range(0..400));
                    if rng.gen_bool(0.5) {
                        h.insert(f.as_bytes(), b"v", &th);
                    } else {
                        h.remove(f.as_bytes());
                    }
                }
                if cursor == 0 {
                    break;
                }
            }
            for i in 0..300 {
                assert!(seen.contains(format!("s{i}").as_bytes()), "s{i} missed");
            }
        }
    }

    #[test]
    fn equality_ignores_encoding() {
        let th = t(512, 64);
        let mut a = Hash::new();
        let mut b = Hash::new();
        a.insert(b"x", b"1", &th);
        a.insert(b"y", b"2", &th);
        b.insert(b"y", b"2", &th);
        b.insert(b"x", b"1", &th);
        b.convert();
        assert_eq!(a, b);
        b.insert(b"x", b"3", &th);
        assert_ne!(a, b);
    }

    #[test]
    fn varints() {
        for n in [0usize, 1, 127, 128, 16383, 16384, 1 << 30, usize::MAX >> 1] {
            let mut v = Vec::new();
            put_varint(&mut v, n);
            assert_eq!(v.len(), varint_len(n));
            assert_eq!(get_varint(&v, 0), Some((n, v.len())));
        }
        assert_eq!(get_varint(&[0x80], 0), None);
        assert_eq!(entry_at(&[5, b'a'], 0), None);
    }
}
