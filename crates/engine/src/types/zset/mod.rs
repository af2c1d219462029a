//! The sorted-set type (t_zset.c): `listpack` while small, `skiplist` past
//! `zset-max-listpack-entries` / `zset-max-listpack-value`. Members are ordered
//! by (score, member bytes); scores are IEEE doubles, never NaN.
//!
//! - [`pack`]: the compact encoding, one contiguous buffer of entries in order.
//! - [`tree`]: the full structure, which OBJECT ENCODING calls `skiplist` as
//!   Redis does: an order-statistic B+tree (O(log n) rank, range and rank ->
//!   element) plus a member -> element hash index.
//!
//! As in Redis, a set converts to `skiplist` when an insert would pass either
//! limit and never converts back by itself (the *STORE commands build their
//! result anew, which lands in whichever encoding its size calls for).
//! Score and lex ranges ([`ScoreRange`], [`LexRange`]) live here because both
//! encodings and the commands share them.

pub mod pack;
pub mod tree;

use bytes::Bytes;
use pack::Pack;
use tree::Tree;

/// A sorted set in one of its two encodings.
#[derive(Clone)]
pub enum ZSet {
    Pack(Pack),
    Tree(Box<Tree>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Pack::default())
    }
}

/// A score interval, with Redis's `(` exclusive ends (`zrangespec`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

/// A member interval (`zlexrangespec`).
#[derive(Clone, Debug, PartialEq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(s) => v >= &s[..],
            LexBound::Excl(s) => v > &s[..],
        }
    }

    pub fn lte_max(&self, v: &[u8]) -> bool {
        match &self.max {
            LexBound::PosInf => true,
            LexBound::NegInf => false,
            LexBound::Incl(s) => v <= &s[..],
            LexBound::Excl(s) => v < &s[..],
        }
    }
}

/// Iterates a sorted set from a rank, ascending or descending.
pub enum Iter<'a> {
    Pack(pack::Iter<'a>),
    PackRev { pack: &'a Pack, offsets: Vec<usize> },
    Tree(tree::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Pack(it) => it.next(),
            Iter::PackRev { pack, offsets } => {
                let off = offsets.pop()?;
                pack.entry_at(off)
            }
            Iter::Tree(it) => it.next(),
        }
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    /// An empty set already in the `skiplist` encoding (what Redis creates for
    /// a result it knows is large: members then keep a `-0` score, which the
    /// listpack would store as 0).
    pub fn new_skiplist() -> ZSet {
        ZSet::Tree(Box::default())
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.len(),
            ZSet::Tree(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets `member`'s score; true when the member is new. `score` is never NaN.
    pub fn insert(&mut self, member: Bytes, score: f64, t: &super::Thresholds) -> bool {
        self.set(&member, score, t)
    }

    /// Sets `member`'s score (adding it if absent, converting to `skiplist`
    /// when an addition passes `t`'s limits); true when the member is new.
    pub fn set(&mut self, member: &[u8], score: f64, t: &super::Thresholds) -> bool {
        match self {
            ZSet::Pack(p) => {
                if let Some(cur) = p.score(member) {
                    if cur != score {
                        p.remove(member);
                        p.insert_new(member, score);
                    }
                    return false;
                }
                if p.len() < t.zset_max_listpack_entries
                    && member.len() <= t.zset_max_listpack_value
                {
                    p.insert_new(member, score);
                    return true;
                }
                self.convert();
                self.set(member, score, t)
            }
            ZSet::Tree(s) => s.set(member, score),
        }
    }

    /// Changes the score of `member`, which is present (with a different
    /// score): one lookup, where [`ZSet::set`] pays a second to learn that.
    pub fn update(&mut self, member: &[u8], score: f64) {
        match self {
            ZSet::Pack(p) => {
                p.remove(member);
                p.insert_new(member, score);
            }
            ZSet::Tree(s) => s.update_score(member, score),
        }
    }

    /// Converts to the `skiplist` encoding.
    fn convert(&mut self) {
        if let ZSet::Pack(p) = self {
            let mut s = Tree::new();
            for (m, sc) in p.iter() {
                s.insert_new(m.into(), sc);
            }
            *self = ZSet::Tree(Box::new(s));
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.score(member),
            ZSet::Tree(s) => s.score(member),
        }
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.remove(member),
            ZSet::Tree(s) => s.remove(member),
        }
    }

    /// 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Pack(p) => p.rank(member),
            ZSet::Tree(s) => s.rank(member),
        }
    }

    /// The element of 0-based ascending rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Pack(p) => p.iter_from(rank).next(),
            ZSet::Tree(s) => s.get(rank),
        }
    }

    /// Iterates from ascending rank `rank`: upwards, or (with `rev`) downwards
    /// to the lowest element.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        match self {
            ZSet::Pack(p) if rev => {
                let mut offsets = p.offsets();
                offsets.truncate(rank.saturating_add(1));
                Iter::PackRev { pack: p, offsets }
            }
            ZSet::Pack(p) => Iter::Pack(p.iter_from(rank)),
            ZSet::Tree(s) => Iter::Tree(s.iter_from(rank, rev)),
        }
    }

    /// Ascending ranks of the first and last element with a score in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        match self {
            ZSet::Pack(p) => span_of(p.iter().map(|(_, s)| r.gte_min(s) && r.lte_max(s))),
            ZSet::Tree(s) => s.score_span(r),
        }
    }

    /// Ascending ranks of the first and last member in `r`.
    pub fn lex_span(&self, r: &LexRange) -> Option<(usize, usize)> {
        match self {
            ZSet::Pack(p) => span_of(p.iter().map(|(m, _)| r.gte_min(m) && r.lte_max(m))),
            ZSet::Tree(s) => s.lex_span(r),
        }
    }

    /// Removes the elements of ascending ranks `start..=end`.
    pub fn remove_ranks(&mut self, start: usize, end: usize) {
        match self {
            ZSet::Pack(p) => p.remove_ranks(start, end),
            ZSet::Tree(s) => s.remove_ranks(start, end),
        }
    }

    /// Calls `f` with every member and its score, lowest score first.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        for (m, s) in self.iter_from(0, false) {
            f(m, s);
        }
    }

    /// One ZSCAN step from `cursor`, visiting about `count` elements; returns
    /// the next cursor (0: done). A `listpack` set is returned whole, as Redis
    /// does; a `skiplist` is walked by element number, which stays fixed while
    /// a member is present, so every member present for the whole scan is seen.
    /// `f` gets the member and whether the score was stored as an integer
    /// (Redis's listpack then prints it as one).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64, bool)) -> u64 {
        match self {
            ZSet::Pack(p) => {
                for (m, s) in p.iter() {
                    f(m, s, pack::as_int(s).is_some());
                }
                0
            }
            ZSet::Tree(s) => {
                let c = usize::try_from(cursor).unwrap_or(usize::MAX);
                s.scan(c, count, |m, sc| f(m, sc, false)) as u64
            }
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Tree(_) => "skiplist",
        }
    }

    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<ZSet>()
            + match self {
                ZSet::Pack(p) => p.mem_usage(),
                ZSet::Tree(s) => s.mem_usage(),
            }
    }
}

/// First and last position where `hits` is true, assuming the hits are one
/// contiguous run (they are, for a range over an ordered set).
fn span_of(hits: impl Iterator<Item = bool>) -> Option<(usize, usize)> {
    let mut first = None;
    let mut last = 0;
    for (i, h) in hits.enumerate() {
        if h {
            first.get_or_insert(i);
            last = i;
        } else if first.is_some() {
            break;
        }
    }
    first.map(|f| (f, last))
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.encoding() == other.encoding()
            && self.len() == other.len()
            && self
                .iter_from(0, false)
                .zip(other.iter_from(0, false))
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for (m, s) in self.iter_from(0, false) {
            l.entry(&(String::from_utf8_lossy(m), s));
        }
        l.finish()?;
        write!(f, " ({})", self.encoding())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Thresholds;

    fn t(entries: usize, value: usize) -> Thresholds {
        Thresholds {
            zset_max_listpack_entries: entries,
            zset_max_listpack_value: value,
            ..Thresholds::default()
        }
    }

    #[test]
    fn converts_past_the_limits() {
        let lim = t(3, 5);
        let mut z = ZSet::new();
        assert!(z.set(b"a", 1.0, &lim));
        assert!(z.set(b"b", 2.0, &lim));
        assert!(z.set(b"c", 3.0, &lim));
        assert!(!z.set(b"c", 0.5, &lim));
        assert_eq!(z.encoding(), "listpack");
        assert!(z.set(b"d", 4.0, &lim));
        assert_eq!(z.encoding(), "skiplist");
        let mut z2 = ZSet::new();
        z2.set(b"long-member", 1.0, &lim);
        assert_eq!(z2.encoding(), "skiplist");
        let mut z3 = ZSet::new();
        z3.set(b"a", 1.0, &t(0, 64));
        assert_eq!(z3.encoding(), "skiplist");
        // Removing does not convert back.
        z.remove(b"d");
        assert_eq!(z.encoding(), "skiplist");
        let all: Vec<(Vec<u8>, f64)> = z
            .iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        assert_eq!(
            all,
            vec![
                (b"c".to_vec(), 0.5),
                (b"a".to_vec(), 1.0),
                (b"b".to_vec(), 2.0)
            ]
        );
    }

    #[test]
    fn both_encodings_agree() {
        let small = t(1000, 64);
        let big = t(0, 64);
        let mut a = ZSet::new();
        let mut b = ZSet::new();
        for i in 0..200u32 {
            let m = format!("m{}", (i * 37) % 101);
            let s = f64::from(i % 13) - 6.0;
            a.set(m.as_bytes(), s, &small);
            b.set(m.as_bytes(), s, &big);
        }
        assert_eq!((a.encoding(), b.encoding()), ("listpack", "skiplist"));
        let r = ScoreRange {
            min: -2.0,
            max: 3.0,
            minex: false,
            maxex: true,
        };
        assert_eq!(a.score_span(&r), b.score_span(&r));
        let l = LexRange {
            min: LexBound::Excl(b"m3".to_vec()),
            max: LexBound::PosInf,
        };
        // Lex ranges assume equal scores; the spans are still computed alike.
        assert_eq!(a.lex_span(&l).is_some(), b.lex_span(&l).is_some());
        for rank in [0, 1, 50, 100] {
            assert_eq!(a.get(rank), b.get(rank));
            let x: Vec<_> = a.iter_from(rank, true).collect();
            let y: Vec<_> = b.iter_from(rank, true).collect();
            assert_eq!(x, y);
        }
        a.remove_ranks(10, 20);
        b.remove_ranks(10, 20);
        let x: Vec<_> = a.iter_from(0, false).collect();
        let y: Vec<_> = b.iter_from(0, false).collect();
        assert_eq!(x, y);
    }
}
