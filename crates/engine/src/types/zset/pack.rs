//! The `listpack` encoding of a small sorted set: one contiguous byte buffer of
//! entries in (score, member) order, as Redis keeps member/score pairs in a
//! listpack. Operations are linear scans, which is what Redis does too and is
//! cheap for the few entries this encoding holds.
//!
//! Entry layout: `varint(member_len << 1 | is_float)`, the member bytes, then
//! the score: a zigzag varint when it is an integer in Redis's "store as
//! integer" range (see [`as_int`]), otherwise the 8 bytes of the IEEE double.
//! A member with score 1 takes 2 bytes plus its bytes, less than Redis's
//! listpack (which spends 2 bytes of header/back-length per element).
//!
//! The buffer is boxed at its exact length (reallocated on every change, as
//! Redis's listpack is) and starts with the entry count, 4 bytes little-endian
//! (an empty buffer is an empty pack), so the handle is 16 bytes and a sorted
//! set fits in a [`Value`](crate::value::Value) without a box of its own.

use std::ops::Range;

/// A packed sorted set.
#[derive(Clone, Default)]
pub struct Pack {
    /// The count, then the entries.
    raw: Box<[u8]>,
}

/// Bytes before the first entry: the count.
const HEADER: usize = 4;

/// The integer a score is stored as, if Redis's listpack would store it as one
/// (`double2ll`: integral and within ±LLONG_MAX/2). `-0.0` becomes 0, as in
/// Redis, so a listpack never keeps a negative zero.
pub fn as_int(score: f64) -> Option<i64> {
    const LIM: f64 = (i64::MAX / 2) as f64;
    if !(-LIM..=LIM).contains(&score) {
        return None;
    }
    let l = score as i64;
    (l as f64 == score).then_some(l)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], mut pos: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(pos)?;
        pos += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((v, pos));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// The encoded form of one entry.
fn encode(out: &mut Vec<u8>, member: &[u8], score: f64) {
    let int = as_int(score);
    put_varint(out, ((member.len() as u64) << 1) | u64::from(int.is_none()));
    out.extend_from_slice(member);
    match int {
        Some(i) => put_varint(out, ((i << 1) ^ (i >> 63)) as u64),
        None => out.extend_from_slice(&score.to_le_bytes()),
    }
}

/// One decoded entry: where its member is, its score, and where the next
/// entry starts.
struct Decoded {
    member: Range<usize>,
    score: f64,
    next: usize,
}

fn decode(buf: &[u8], pos: usize) -> Option<Decoded> {
    let (hdr, p) = get_varint(buf, pos)?;
    let mlen = usize::try_from(hdr >> 1).ok()?;
    let mend = p.checked_add(mlen)?;
    if mend > buf.len() {
        return None;
    }
    let (score, next) = if hdr & 1 == 1 {
        let raw: [u8; 8] = buf.get(mend..mend + 8)?.try_into().ok()?;
        (f64::from_le_bytes(raw), mend + 8)
    } else {
        let (z, n) = get_varint(buf, mend)?;
        let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
        (i as f64, n)
    };
    Some(Decoded {
        member: p..mend,
        score,
        next,
    })
}

/// Iterates a pack's entries in order.
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let d = decode(self.buf, self.pos)?;
        self.pos = d.next;
        Some((self.buf.get(d.member)?, d.score))
    }
}

impl Pack {
    pub fn len(&self) -> usize {
        match self.raw.get(..HEADER) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries.
    fn entries(&self) -> &[u8] {
        self.raw.get(HEADER..).unwrap_or_default()
    }

    /// Replaces entry bytes `range` with `with`, setting the count to `count`,
    /// in a new buffer of the exact size.
    fn splice(&mut self, range: Range<usize>, with: &[u8], count: usize) {
        if count == 0 {
            self.raw = Box::default();
            return;
        }
        let old = self.entries();
        let (a, b) = (range.start.min(old.len()), range.end.min(old.len()));
        let mut out = Vec::with_capacity(HEADER + old.len() - (b - a) + with.len());
        // A pack never reaches 4 billion entries (the zset-max-listpack
        // limits convert it long before).
        out.extend_from_slice(&(count as u32).to_le_bytes());
        out.extend_from_slice(&old[..a]);
        out.extend_from_slice(with);
        out.extend_from_slice(&old[b..]);
        self.raw = out.into_boxed_slice();
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: self.entries(),
            pos: 0,
        }
    }

    /// Bytes allocated.
    pub fn mem_usage(&self) -> usize {
        self.raw.len()
    }

    /// Offset, score and end offset of `member`'s entry.
    fn find(&self, member: &[u8]) -> Option<(usize, f64, usize)> {
        let buf = self.entries();
        let mut pos = 0;
        while let Some(d) = decode(buf, pos) {
            if buf.get(d.member) == Some(member) {
                return Some((pos, d.score, d.next));
            }
            pos = d.next;
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|(_, s, _)| s)
    }

    /// 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        self.iter().position(|(m, _)| m == member)
    }

    /// Adds a member that is not present, at its place in the order.
    pub fn insert_new(&mut self, member: &[u8], score: f64) {
        let buf = self.entries();
        let mut pos = 0;
        while let Some(d) = decode(buf, pos) {
            let m = buf.get(d.member).unwrap_or_default();
            if d.score > score || (d.score == score && m > member) {
                break;
            }
            pos = d.next;
        }
        let mut enc = Vec::with_capacity(member.len() + 10);
        encode(&mut enc, member, score);
        self.splice(pos..pos, &enc, self.len() + 1);
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (start, score, end) = self.find(member)?;
        self.splice(start..end, &[], self.len() - 1);
        Some(score)
    }

    /// Byte offset where the entry of rank `rank` starts (the end for `len`).
    fn offset_of(&self, rank: usize) -> usize {
        let mut pos = 0;
        for _ in 0..rank {
            match decode(self.entries(), pos) {
                Some(d) => pos = d.next,
                None => break,
            }
        }
        pos
    }

    /// Removes the entries of ranks `start..=end` (0-based, in range).
    pub fn remove_ranks(&mut self, start: usize, end: usize) {
        if start > end || start >= self.len() {
            return;
        }
        let end = end.min(self.len() - 1);
        let a = self.offset_of(start);
        let mut b = a;
        for _ in start..=end {
            match decode(self.entries(), b) {
                Some(d) => b = d.next,
                None => break,
            }
        }
        self.splice(a..b, &[], self.len() - (end - start + 1));
    }

    /// The start offset of every entry, for reverse and random access.
    pub fn offsets(&self) -> Vec<usize> {
        let mut v = Vec::with_capacity(self.len());
        let mut pos = 0;
        while let Some(d) = decode(self.entries(), pos) {
            v.push(pos);
            pos = d.next;
        }
        v
    }

    /// The entry starting at byte offset `pos` (from [`Pack::offsets`]).
    pub fn entry_at(&self, pos: usize) -> Option<(&[u8], f64)> {
        let buf = self.entries();
        let d = decode(buf, pos)?;
        Some((buf.get(d.member)?, d.score))
    }

    /// Iterates from rank `rank` upwards.
    pub fn iter_from(&self, rank: usize) -> Iter<'_> {
        Iter {
            buf: self.entries(),
            pos: self.offset_of(rank),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_scores_and_removal() {
        let mut p = Pack::default();
        for (m, s) in [
            ("b", 2.0),
            ("a", 2.0),
            ("c", -1.5),
            ("d", 1e300),
            ("e", -0.0),
        ] {
            p.insert_new(m.as_bytes(), s);
        }
        let got: Vec<(String, f64)> = p
            .iter()
            .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s))
            .collect();
        let want = [
            ("c", -1.5),
            ("e", 0.0),
            ("a", 2.0),
            ("b", 2.0),
            ("d", 1e300),
        ];
        assert_eq!(got.len(), want.len());
        for ((gm, gs), (wm, ws)) in got.iter().zip(want) {
            assert_eq!((gm.as_str(), *gs), (wm, ws));
        }
        // Negative zero is stored as the integer 0, as Redis's listpack does.
        assert!(p.score(b"e").is_some_and(|s| s.is_sign_positive()));
        assert_eq!(p.rank(b"a"), Some(2));
        assert_eq!(p.remove(b"a"), Some(2.0));
        assert_eq!(p.remove(b"a"), None);
        p.remove_ranks(1, 2);
        let left: Vec<&[u8]> = p.iter().map(|(m, _)| m).collect();
        assert_eq!(left, vec![&b"c"[..], &b"d"[..]]);
        assert_eq!(p.len(), 2);
        assert_eq!(p.mem_usage(), HEADER + 2 * (1 + 1 + 8));
        p.remove_ranks(0, 1);
        assert!(p.is_empty());
        assert_eq!(p.mem_usage(), 0);
        assert_eq!(std::mem::size_of::<Pack>(), 16);
    }

    #[test]
    fn int_range() {
        assert_eq!(as_int(3.0), Some(3));
        assert_eq!(as_int(-0.0), Some(0));
        assert_eq!(as_int(0.5), None);
        assert_eq!(as_int(1e19), None);
        assert_eq!(as_int(f64::INFINITY), None);
        let mut p = Pack::default();
        for s in [i64::MAX / 2, -(i64::MAX / 2), 7, -7] {
            p.insert_new(s.to_string().as_bytes(), s as f64);
        }
        for (m, s) in p.iter() {
            assert_eq!(std::str::from_utf8(m).unwrap().parse::<f64>().unwrap(), s);
        }
    }
}
