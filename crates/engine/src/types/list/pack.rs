//! One quicklist node: a packed, contiguous buffer of list entries in Redis's
//! listpack entry format (listpack.c), so an element costs here what it costs
//! in Redis: small integers one byte plus a one-byte back-length, short strings
//! their length plus two bytes.
//!
//! Layout of a node's buffer: a 4-byte little-endian entry count and a 4-byte
//! count of the bytes in use, then the entries, then slack up to the buffer's
//! allocator size class. An entry is an encoding byte (with the length or a small integer
//! folded in), the data, and the entry's own length written backwards
//! ("backlen") so the node can be walked from its end as cheaply as from its
//! start (RPOP, negative indexes). An empty node has an empty buffer (no
//! allocation at all).
//!
//! Canonical integer strings (Redis's `string2ll`: no sign but `-`, no leading
//! zeros) are stored as integers and read back in decimal; since a string that
//! parses that way is always stored as an integer, comparing an entry with an
//! argument never needs to print the integer.
//!
//! Buffers are `Box<[u8]>` exactly one allocator size class long: a change
//! that stays within the class is made in place, as listpack checks its
//! allocation's usable size before reallocating; one that leaves it moves the
//! node to a buffer of the new class. No slack beyond the class is carried.

use bytes::Bytes;
use std::ops::Range;

/// Bytes of a node's header: the entry count and the bytes in use, each a
/// little-endian `u32`.
pub const HEADER: usize = 8;

/// One element as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as an owned string (integers in decimal).
    pub fn to_bytes(self) -> Bytes {
        match self {
            Elem::Int(v) => crate::util::fmt_i64(v),
            Elem::Str(s) => Bytes::copy_from_slice(s),
        }
    }

    /// Calls `f` with the element's bytes (integers in decimal).
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(v) => f(itoa::Buffer::new().format(v).as_bytes()),
            Elem::Str(s) => f(s),
        }
    }

    /// Whether the element equals `probe`.
    pub fn matches(self, probe: &Probe) -> bool {
        match self {
            Elem::Int(v) => probe.int == Some(v),
            Elem::Str(s) => probe.int.is_none() && s == probe.bytes,
        }
    }
}

/// An argument prepared for comparisons with entries (parsed once).
pub struct Probe<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Probe<'a> {
    pub fn new(bytes: &'a [u8]) -> Probe<'a> {
        Probe {
            bytes,
            int: as_int(bytes),
        }
    }
}

/// The integer a string is stored as, if it is a canonical integer.
fn as_int(v: &[u8]) -> Option<i64> {
    if v.len() <= 20 {
        crate::util::parse_i64(v)
    } else {
        None
    }
}

/// Where an entry is encoded: the end of a vector, or a slice already sized
/// for it.
trait Sink {
    fn push(&mut self, b: u8);
    fn extend_from_slice(&mut self, b: &[u8]);
    fn written(&self) -> usize;
}

impl Sink for Vec<u8> {
    fn push(&mut self, b: u8) {
        Vec::push(self, b)
    }
    fn extend_from_slice(&mut self, b: &[u8]) {
        Vec::extend_from_slice(self, b)
    }
    fn written(&self) -> usize {
        self.len()
    }
}

/// A slice filled from its start; writes past its end are dropped (the caller
/// sizes it with [`encoded_len`], so none are).
struct SliceSink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Sink for SliceSink<'_> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.pos) {
            *slot = b;
        }
        self.pos += 1;
    }
    fn extend_from_slice(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos += b.len();
    }
    fn written(&self) -> usize {
        self.pos
    }
}

/// Encoding and data of `v` (no backlen), appended to `out`.
fn encode_body(v: &[u8], out: &mut impl Sink) {
    if let Some(i) = as_int(v) {
        if (0..=127).contains(&i) {
            out.push(i as u8);
        } else if (-4096..=4095).contains(&i) {
            let u = (i as u16) & 0x1FFF;
            out.push(0xC0 | (u >> 8) as u8);
            out.push(u as u8);
        } else if let Ok(x) = i16::try_from(i) {
            out.push(0xF1);
            out.extend_from_slice(&x.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&i) {
            out.push(0xF2);
            out.extend_from_slice(&(i as i32).to_le_bytes()[..3]);
        } else if let Ok(x) = i32::try_from(i) {
            out.push(0xF3);
            out.extend_from_slice(&x.to_le_bytes());
        } else {
            out.push(0xF4);
            out.extend_from_slice(&i.to_le_bytes());
        }
        return;
    }
    let n = v.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.push(0xE0 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(v);
}

/// Bytes of the backlen for an entry body of `l` bytes.
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Appends the backlen of a body of `l` bytes: 7 bits per byte, most
/// significant first, every byte but the first (read last, walking backwards)
/// flagged with the high bit to say "more to the left".
fn push_backlen(l: usize, out: &mut impl Sink) {
    let n = backlen_size(l);
    for k in (0..n).rev() {
        let b = ((l >> (7 * k)) & 127) as u8;
        out.push(if k + 1 == n { b } else { b | 128 });
    }
}

/// Appends the whole entry (encoding, data, backlen) for `v` to `out`.
pub fn encode(v: &[u8], out: &mut Vec<u8>) {
    encode_to(v, out);
}

fn encode_to(v: &[u8], out: &mut impl Sink) {
    let start = out.written();
    encode_body(v, out);
    let body = out.written() - start;
    push_backlen(body, out);
}

/// Writes the whole entry for `v` at the start of `out`, which holds exactly
/// [`encoded_len`] bytes.
fn encode_into(v: &[u8], out: &mut [u8]) {
    encode_to(v, &mut SliceSink { buf: out, pos: 0 });
}

/// The size of the entry [`encode`] writes for `v`, without writing it.
pub fn encoded_len(v: &[u8]) -> usize {
    let body = match as_int(v) {
        Some(i) if (0..=127).contains(&i) => 1,
        Some(i) if (-4096..=4095).contains(&i) => 2,
        Some(i) if i16::try_from(i).is_ok() => 3,
        Some(i) if (-(1 << 23)..(1 << 23)).contains(&i) => 4,
        Some(i) if i32::try_from(i).is_ok() => 5,
        Some(_) => 9,
        None if v.len() < 64 => 1 + v.len(),
        None if v.len() < 4096 => 2 + v.len(),
        None => 5 + v.len(),
    };
    body + backlen_size(body)
}

/// Reads `n` little-endian bytes at `p` as a sign-extended integer.
fn read_le(buf: &[u8], p: usize, n: usize) -> Option<i64> {
    let b = buf.get(p..p + n)?;
    let mut x: u64 = 0;
    for (k, &byte) in b.iter().enumerate() {
        x |= (byte as u64) << (8 * k);
    }
    let shift = 64 - 8 * n as u32;
    Some(((x << shift) as i64) >> shift)
}

/// Decodes the entry starting at `p`: the element and where the next entry
/// starts. `None` past the end.
pub fn decode(buf: &[u8], p: usize) -> Option<(Elem<'_>, usize)> {
    let b = *buf.get(p)?;
    let (elem, body) = if b & 0x80 == 0 {
        (Elem::Int(b as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3F) as usize;
        (Elem::Str(buf.get(p + 1..p + 1 + n)?), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1F) as u16) << 8) | *buf.get(p + 1)? as u16;
        // Sign-extend 13 bits.
        (Elem::Int((((u << 3) as i16) >> 3) as i64), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0F) as usize) << 8) | *buf.get(p + 1)? as usize;
        (Elem::Str(buf.get(p + 2..p + 2 + n)?), 2 + n)
    } else {
        match b {
            0xF0 => {
                let n = read_le(buf, p + 1, 4)? as u32 as usize;
                (Elem::Str(buf.get(p + 5..p + 5 + n)?), 5 + n)
            }
            0xF1 => (Elem::Int(read_le(buf, p + 1, 2)?), 3),
            0xF2 => (Elem::Int(read_le(buf, p + 1, 3)?), 4),
            0xF3 => (Elem::Int(read_le(buf, p + 1, 4)?), 5),
            0xF4 => (Elem::Int(read_le(buf, p + 1, 8)?), 9),
            _ => return None,
        }
    };
    Some((elem, p + body + backlen_size(body)))
}

/// The start of the entry that ends at `end` (`None` at the first entry).
pub fn prev_start(buf: &[u8], end: usize) -> Option<usize> {
    if end <= HEADER {
        return None;
    }
    let mut p = end - 1;
    let mut l = 0usize;
    let mut shift = 0;
    loop {
        let b = *buf.get(p)?;
        l |= ((b & 127) as usize) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
        p = p.checked_sub(1)?;
    }
    let start = p.checked_sub(l)?;
    (start >= HEADER).then_some(start)
}

/// A node: entry count, used length and packed entries in one allocation.
///
/// The buffer's length is the allocator's size class for the bytes in use (see
/// [`alloc_size`]), and the 8-byte header says how much of it is used: an
/// element that fits the slack is written in place with no call to the
/// allocator at all, which is what listpack does by checking its allocation's
/// usable size. Growing past the slack, or shrinking to a smaller class, moves
/// the node to a buffer of the new class. So memory is what an exact-size
/// buffer would occupy anyway, and a push costs a `realloc` only once per size
/// class. (Reallocating on every push, even in place, counted the whole buffer
/// as allocated bytes in jemalloc's thread-cache events: an 8 KiB node's pushes
/// kept its cache flushing and refilling, 1.4 MB of extra dirty pages for a
/// 1M-element list.)
#[derive(Clone, Default)]
pub struct Node {
    buf: Box<[u8]>,
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        self.used() == other.used()
    }
}

impl Eq for Node {}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(_, e)| e)).finish()
    }
}

pub use crate::util::alloc_size;

fn read_u32(b: &[u8], at: usize) -> usize {
    b.get(at..at + 4)
        .map_or(0, |h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize)
}

impl Node {
    /// A node holding exactly the already-encoded `entries` (`count` of them).
    pub fn from_entries(entries: &[u8], count: usize) -> Node {
        if count == 0 {
            return Node::default();
        }
        let used = HEADER + entries.len();
        let mut v = Vec::with_capacity(alloc_size(used));
        v.extend_from_slice(&(count as u32).to_le_bytes());
        v.extend_from_slice(&(used as u32).to_le_bytes());
        v.extend_from_slice(entries);
        v.resize(v.capacity(), 0);
        Node {
            buf: v.into_boxed_slice(),
        }
    }

    pub fn count(&self) -> usize {
        read_u32(&self.buf, 0)
    }

    /// Bytes of the buffer in use (header and entries).
    pub fn bytes(&self) -> usize {
        self.end()
    }

    /// Bytes the node's allocation occupies.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Offset just past the last entry (0 for an empty node).
    pub fn end(&self) -> usize {
        read_u32(&self.buf, 4).min(self.buf.len())
    }

    /// The header and entries: the buffer without its slack.
    fn used(&self) -> &[u8] {
        self.buf.get(..self.end()).unwrap_or_default()
    }

    /// The packed entries in `r` (offsets from [`Node::offset`] and friends).
    pub fn raw(&self, r: Range<usize>) -> &[u8] {
        self.used().get(r).unwrap_or_default()
    }

    /// The element at offset `p` and the offset of the next entry.
    pub fn at(&self, p: usize) -> Option<(Elem<'_>, usize)> {
        decode(self.used(), p)
    }

    /// The start of the entry before the one at `p`.
    pub fn before(&self, p: usize) -> Option<usize> {
        prev_start(self.used(), p)
    }

    /// Offset of entry `i` (or [`Node::end`] for `i == count`), walking from
    /// whichever end of the node is nearer, as listpack's `lpSeek` does.
    pub fn offset(&self, i: usize) -> usize {
        let n = self.count();
        if i >= n {
            return self.end();
        }
        if i <= n / 2 {
            let mut p = HEADER;
            for _ in 0..i {
                match self.at(p) {
                    Some((_, next)) => p = next,
                    None => break,
                }
            }
            p
        } else {
            let mut p = self.end();
            for _ in i..n {
                match self.before(p) {
                    Some(prev) => p = prev,
                    None => break,
                }
            }
            p
        }
    }

    /// Every entry, head to tail, with its offset.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Elem<'_>)> + '_ {
        let mut p = HEADER;
        std::iter::from_fn(move || {
            let (e, next) = self.at(p)?;
            let here = p;
            p = next;
            Some((here, e))
        })
    }

    /// Makes room for `len` bytes at offset `at` in place of the `gone` bytes
    /// there, moving what follows, and sets the header to `count` entries.
    /// Returns the room, for the caller to fill. The buffer is reallocated only
    /// when the new length leaves its size class.
    fn make_room(&mut self, at: usize, gone: usize, len: usize, count: usize) -> &mut [u8] {
        let end = self.end().max(HEADER);
        let at = at.clamp(HEADER, end);
        let gone = gone.min(end - at);
        let new_end = end - gone + len;
        let class = alloc_size(new_end);
        if class != self.buf.len() {
            let mut v = std::mem::take(&mut self.buf).into_vec();
            if class > v.len() {
                // Grow: realloc (in place where the allocator can), then move
                // the tail right.
                v.reserve_exact(class - v.len());
                v.resize(class, 0);
                v.copy_within(at + gone..end, at + len);
            } else {
                // Shrink: move the tail left, then realloc down.
                v.copy_within(at + gone..end, at + len);
                v.truncate(class);
            }
            self.buf = v.into_boxed_slice();
        } else {
            self.buf.copy_within(at + gone..end, at + len);
        }
        self.buf[..4].copy_from_slice(&(count as u32).to_le_bytes());
        self.buf[4..8].copy_from_slice(&(new_end as u32).to_le_bytes());
        &mut self.buf[at..at + len]
    }

    /// Replaces the entries in byte range `r` (whole entries, `removed` of
    /// them) with the encoded `with` (`added` entries).
    pub fn splice(&mut self, r: Range<usize>, removed: usize, with: &[u8], added: usize) {
        let count = (self.count() + added).saturating_sub(removed);
        if count == 0 {
            self.buf = Box::default();
            return;
        }
        let a = r.start.max(HEADER);
        let b = r.end.max(a);
        self.make_room(a, b - a, with.len(), count)
            .copy_from_slice(with);
    }

    /// Inserts one element at offset `p`, encoded straight into the node's
    /// buffer: no temporary allocation, and no allocator call at all while
    /// the node's size class has room.
    pub fn insert(&mut self, p: usize, v: &[u8]) {
        let add = encoded_len(v);
        let count = self.count() + 1;
        encode_into(v, self.make_room(p, 0, add, count));
    }

    /// Splits the node at offset `p` (entry index `i`): `self` keeps the
    /// entries before, the returned node gets the rest.
    pub fn split_off(&mut self, p: usize, i: usize) -> Node {
        let n = self.count();
        let right = Node::from_entries(self.raw(p..self.end()), n.saturating_sub(i));
        self.splice(p..self.end(), n.saturating_sub(i), &[], 0);
        right
    }

    /// Appends all of `other`'s entries.
    pub fn append(&mut self, other: &Node) {
        let end = self.end();
        self.splice(end..end, 0, other.raw(HEADER..other.end()), other.count());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(v: &[u8]) {
        let mut out = vec![0; HEADER];
        encode(v, &mut out);
        assert_eq!(out.len() - HEADER, encoded_len(v), "{v:?}");
        let (e, next) = decode(&out, HEADER).unwrap();
        assert_eq!(next, out.len());
        assert_eq!(&e.to_bytes()[..], v);
        assert_eq!(prev_start(&out, out.len()), Some(HEADER));
    }

    #[test]
    fn every_encoding_roundtrips() {
        for v in [
            "0",
            "1",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "4096",
            "-4097",
            "32767",
            "-32768",
            "32768",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            roundtrip(v.as_bytes());
        }
        for v in [
            "",
            "a",
            "01",
            "-0",
            "+1",
            " 1",
            "1 ",
            "99999999999999999999",
        ] {
            roundtrip(v.as_bytes());
        }
        for n in [63, 64, 127, 128, 4095, 4096, 16382, 16383, 70000, 2_097_151] {
            roundtrip(&vec![b'x'; n]);
        }
    }

    #[test]
    fn sizes_match_listpack() {
        // One byte for 0..127 plus backlen; short strings length + 2.
        assert_eq!(encoded_len(b"7"), 2);
        assert_eq!(encoded_len(b"1000"), 3);
        assert_eq!(encoded_len(b"100000"), 5);
        assert_eq!(encoded_len(b"hello"), 7);
        assert_eq!(encoded_len(&[b'x'; 100]), 103);
    }

    #[test]
    fn probe_compares_like_listpack() {
        let mut out = vec![0; HEADER];
        encode(b"12", &mut out);
        encode(b"012", &mut out);
        let (a, next) = decode(&out, HEADER).unwrap();
        let (b, _) = decode(&out, next).unwrap();
        assert!(a.matches(&Probe::new(b"12")));
        assert!(!a.matches(&Probe::new(b"012")));
        assert!(b.matches(&Probe::new(b"012")));
        assert!(!b.matches(&Probe::new(b"12")));
    }

    #[test]
    fn node_splice_seek_split() {
        let mut n = Node::default();
        for (i, v) in ["a", "1", "bb", "300", "c"].iter().enumerate() {
            let end = n.end().max(HEADER);
            n.insert(end, v.as_bytes());
            assert_eq!(n.count(), i + 1);
        }
        let all: Vec<_> = n.iter().map(|(_, e)| e.to_bytes()).collect();
        assert_eq!(all, ["a", "1", "bb", "300", "c"]);
        for i in 0..=5 {
            let p = n.offset(i);
            let want: Vec<_> = n.iter().map(|(p, _)| p).chain([n.end()]).collect();
            assert_eq!(p, want[i]);
        }
        let p = n.offset(2);
        let right = n.split_off(p, 2);
        assert_eq!(n.count(), 2);
        assert_eq!(right.count(), 3);
        n.append(&right);
        let all: Vec<_> = n.iter().map(|(_, e)| e.to_bytes()).collect();
        assert_eq!(all, ["a", "1", "bb", "300", "c"]);
        let end = n.end();
        n.splice(HEADER..end, 5, &[], 0);
        assert_eq!(n.bytes(), 0);
    }

    #[test]
    fn alloc_sizes_are_jemallocs_classes() {
        let classes: Vec<usize> = [
            1, 8, 9, 16, 17, 100, 128, 129, 160, 161, 200, 257, 4097, 8192, 8193,
        ]
        .iter()
        .map(|&n| alloc_size(n))
        .collect();
        assert_eq!(
            classes,
            [8, 8, 16, 16, 32, 112, 128, 160, 160, 192, 224, 320, 5120, 8192, 10240]
        );
    }

    /// Random inserts and removals keep the entries equal to a plain vector's,
    /// and the buffer always exactly one size class long.
    #[test]
    fn node_buffer_stays_one_size_class() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut n = Node::default();
        let mut model: Vec<Vec<u8>> = Vec::new();
        let mut reallocs = 0;
        for step in 0..4000 {
            let before = n.buf.as_ptr();
            if model.is_empty() || rng.gen_range(0..3) > 0 {
                let i = rng.gen_range(0..=model.len());
                let v = if rng.gen_bool(0.5) {
                    rng.gen_range(-100_000i64..100_000).to_string().into_bytes()
                } else {
                    vec![b'x'; rng.gen_range(0..90)]
                };
                let p = n.offset(i).max(HEADER);
                n.insert(p, &v);
                model.insert(i, v);
            } else {
                let i = rng.gen_range(0..model.len());
                let p = n.offset(i);
                let next = n.at(p).map(|(_, next)| next).unwrap();
                n.splice(p..next, 1, &[], 0);
                model.remove(i);
            }
            if n.buf.as_ptr() != before {
                reallocs += 1;
            }
            assert_eq!(n.count(), model.len(), "step {step}");
            if model.is_empty() {
                assert_eq!(n.capacity(), 0);
            } else {
                assert_eq!(n.capacity(), alloc_size(n.bytes()), "step {step}");
            }
            let got: Vec<Vec<u8>> = n.iter().map(|(_, e)| e.to_bytes().to_vec()).collect();
            assert_eq!(got, model, "step {step}");
        }
        // Most changes stayed inside the node's size class.
        assert!(reallocs < 1000, "{reallocs} reallocations in 4000 changes");
    }
}
