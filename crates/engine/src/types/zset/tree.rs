//! The large encoding of a sorted set (what Redis calls, and OBJECT ENCODING
//! reports as, `skiplist`): an order-statistic B+tree over (score, member)
//! plus a hash index from member to element. Redis keeps a skiplist with
//! spans (t_zset.c `zsl*`); keel answers the same questions (O(log n) insert,
//! delete, rank, rank -> element, first/last element of a score or lex range)
//! from a tree whose nodes are arrays.
//!
//! Why not the skiplist: a descent of a skiplist is a chain of dependent cache
//! misses, one per node it steps to, about 1.5 log2 n of them (some 25 for a
//! set of 100k); the tree's is one per level (3 for 100k, with 64-way
//! nodes), and within a node a binary search over contiguous scores. ZADD of
//! random scores on a 100k-member set, which moves a member per call (two
//! descents), is measured in `benches/keyspace.rs`. The tree also stores an
//! element in 12 bytes of leaf (score and element number) instead of a
//! 64-byte node.
//!
//! Layout:
//! - `entries`: one [`Entry`] per element (member bytes and score), addressed
//!   by a `u32` element number that stays fixed while the member is present:
//!   the index stores it, the leaves store it, and ZSCAN's cursor walks it.
//!   Freed numbers are reused.
//! - leaves: up to [`LEAF_CAP`] (score, element) pairs in order, linked both
//!   ways for iteration.
//! - inner nodes: up to [`INNER_CAP`] children, each with the minimum key of
//!   its subtree (score and element; member ties are broken through
//!   `entries`) and its element count, which is what makes rank O(log n).
//!
//! Invariants (checked by `check` in the tests): keys ascend across leaves;
//! an inner node's key for a child is exactly that child's minimum (so an
//! element number used as a key is always live); counts are exact; every node
//! but the root and those on the tree's left and right edges (where appends
//! past the end split unevenly) holds at least a quarter of its capacity; all
//! leaves are at the same depth.

use super::{LexRange, ScoreRange};
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::ops::Range;

/// (score, element) pairs per leaf.
const LEAF_CAP: usize = 64;
/// A leaf below this (not the root) is merged with or refilled from a sibling.
const LEAF_MIN: usize = LEAF_CAP / 4;
/// Children per inner node.
const INNER_CAP: usize = 64;
const INNER_MIN: usize = INNER_CAP / 4;
/// Deeper than any tree of u32::MAX elements can grow (each level below the
/// root multiplies the elements by at least INNER_MIN).
const MAX_DEPTH: usize = 16;
/// "No node" in the leaf links.
const NONE: u32 = u32::MAX;

#[derive(Clone)]
struct Entry {
    member: Box<[u8]>,
    score: f64,
}

#[derive(Clone)]
struct Leaf {
    len: u32,
    prev: u32,
    next: u32,
    scores: [f64; LEAF_CAP],
    ids: [u32; LEAF_CAP],
}

impl Leaf {
    fn new() -> Leaf {
        Leaf {
            len: 0,
            prev: NONE,
            next: NONE,
            scores: [0.0; LEAF_CAP],
            ids: [0; LEAF_CAP],
        }
    }

    fn insert(&mut self, pos: usize, score: f64, id: u32) {
        let n = self.len();
        self.shift(pos..n, pos + 1);
        self.scores[pos] = score;
        self.ids[pos] = id;
        self.len += 1;
    }

    fn remove(&mut self, pos: usize) {
        let n = self.len();
        self.shift(pos + 1..n, pos);
        self.len -= 1;
    }
}

#[derive(Clone)]
struct Inner {
    len: u32,
    /// Minimum key of each child's subtree: its score ...
    scores: [f64; INNER_CAP],
    /// ... and its element number.
    ids: [u32; INNER_CAP],
    kids: [u32; INNER_CAP],
    /// Elements under each child.
    counts: [u32; INNER_CAP],
}

impl Inner {
    fn new() -> Inner {
        Inner {
            len: 0,
            scores: [0.0; INNER_CAP],
            ids: [0; INNER_CAP],
            kids: [0; INNER_CAP],
            counts: [0; INNER_CAP],
        }
    }

    fn insert(&mut self, pos: usize, key: (f64, u32), kid: u32, count: u32) {
        let n = self.len();
        self.shift(pos..n, pos + 1);
        self.scores[pos] = key.0;
        self.ids[pos] = key.1;
        self.kids[pos] = kid;
        self.counts[pos] = count;
        self.len += 1;
    }

    fn remove(&mut self, pos: usize) {
        let n = self.len();
        self.shift(pos + 1..n, pos);
        self.len -= 1;
    }

    fn total(&self) -> u32 {
        self.counts[..self.len as usize].iter().sum()
    }
}

/// The inner nodes a descent passed and the child it took in each, root first.
struct Path {
    steps: [(u32, u32); MAX_DEPTH],
    len: usize,
}

impl Path {
    fn new() -> Path {
        Path {
            steps: [(0, 0); MAX_DEPTH],
            len: 0,
        }
    }

    fn push(&mut self, node: u32, child: usize) {
        if let Some(s) = self.steps.get_mut(self.len) {
            *s = (node, child as u32);
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[(u32, u32)] {
        &self.steps[..self.len]
    }
}

/// A node's parallel arrays (a leaf's scores and elements, an inner node's
/// keys, children and counts), which every split, merge and shift moves
/// together.
trait Columns {
    fn len(&self) -> usize;
    fn set_len(&mut self, n: usize);
    /// Moves entries `src` to start at `at`, within the node.
    fn shift(&mut self, src: Range<usize>, at: usize);
    /// Copies entries `src` of `from` to start at `at`.
    fn copy_from(&mut self, from: &Self, src: Range<usize>, at: usize);
    /// Elements under entries `r`: one each in a leaf, the children's counts
    /// in an inner node.
    fn weight(&self, r: Range<usize>) -> u32;
}

impl Columns for Leaf {
    fn len(&self) -> usize {
        self.len as usize
    }

    fn set_len(&mut self, n: usize) {
        self.len = n as u32;
    }

    fn shift(&mut self, src: Range<usize>, at: usize) {
        self.scores.copy_within(src.clone(), at);
        self.ids.copy_within(src, at);
    }

    fn copy_from(&mut self, from: &Self, src: Range<usize>, at: usize) {
        let end = at + src.len();
        self.scores[at..end].copy_from_slice(&from.scores[src.clone()]);
        self.ids[at..end].copy_from_slice(&from.ids[src]);
    }

    fn weight(&self, r: Range<usize>) -> u32 {
        r.len() as u32
    }
}

impl Columns for Inner {
    fn len(&self) -> usize {
        self.len as usize
    }

    fn set_len(&mut self, n: usize) {
        self.len = n as u32;
    }

    fn shift(&mut self, src: Range<usize>, at: usize) {
        self.scores.copy_within(src.clone(), at);
        self.ids.copy_within(src.clone(), at);
        self.kids.copy_within(src.clone(), at);
        self.counts.copy_within(src, at);
    }

    fn copy_from(&mut self, from: &Self, src: Range<usize>, at: usize) {
        let end = at + src.len();
        self.scores[at..end].copy_from_slice(&from.scores[src.clone()]);
        self.ids[at..end].copy_from_slice(&from.ids[src.clone()]);
        self.kids[at..end].copy_from_slice(&from.kids[src.clone()]);
        self.counts[at..end].copy_from_slice(&from.counts[src]);
    }

    fn weight(&self, r: Range<usize>) -> u32 {
        self.counts[r].iter().sum()
    }
}

/// Moves the entries of `a` from `half` on into the empty `b`.
fn split_off<T: Columns>(a: &mut T, b: &mut T, half: usize) {
    let n = a.len();
    b.copy_from(a, half..n, 0);
    b.set_len(n - half);
    a.set_len(half);
}

/// Appends all of `r` to `l`, its left sibling.
fn append<T: Columns>(l: &mut T, r: &T) {
    let (ln, rn) = (l.len(), r.len());
    l.copy_from(r, 0..rn, ln);
    l.set_len(ln + rn);
}

/// Shares the entries of siblings `l` and `r` evenly; returns how many
/// elements moved from `r` to `l` (negative: the other way).
fn even_out<T: Columns>(l: &mut T, r: &mut T) -> i64 {
    let (ln, rn) = (l.len(), r.len());
    let target = (ln + rn) / 2;
    if ln < target {
        let k = target - ln;
        let moved = r.weight(0..k);
        l.copy_from(r, 0..k, ln);
        r.shift(k..rn, 0);
        l.set_len(target);
        r.set_len(rn - k);
        i64::from(moved)
    } else {
        let k = ln - target;
        let moved = l.weight(target..ln);
        r.shift(0..rn, k);
        r.copy_from(l, target..ln, 0);
        l.set_len(target);
        r.set_len(rn + k);
        -i64::from(moved)
    }
}

/// Two distinct elements of a slice, both mutable, in the order asked.
fn two<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

#[derive(Clone)]
pub struct Tree {
    entries: Vec<Entry>,
    /// Element numbers not in use.
    free: Vec<u32>,
    leaves: Vec<Leaf>,
    free_leaves: Vec<u32>,
    inners: Vec<Inner>,
    free_inners: Vec<u32>,
    root: u32,
    /// Levels of inner nodes above the leaves (0: the root is a leaf).
    height: usize,
    len: u32,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// Member bytes held outside `entries`, kept up to date so MEMORY USAGE
    /// costs O(1).
    heap: usize,
}

fn hash_of(h: &foldhash::fast::RandomState, m: &[u8]) -> u64 {
    h.hash_one(m)
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            entries: Vec::new(),
            free: Vec::new(),
            leaves: vec![Leaf::new()],
            free_leaves: Vec::new(),
            inners: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            len: 0,
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            heap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated (elements, member bytes, nodes, index), with the
    /// allocator's usual rounding left out.
    pub fn mem_usage(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + (self.free.capacity() + self.free_leaves.capacity() + self.free_inners.capacity()) * 4
            + self.leaves.capacity() * std::mem::size_of::<Leaf>()
            + self.inners.capacity() * std::mem::size_of::<Inner>()
            + self.heap
            + self.index.allocation_size()
    }

    // ------------------------------------------------------------ keys

    fn member_of(&self, id: u32) -> &[u8] {
        self.entries.get(id as usize).map_or(&[], |e| &e.member)
    }

    /// Whether key (s, id) sorts before (score, member).
    #[inline]
    fn key_lt(&self, s: f64, id: u32, score: f64, member: &[u8]) -> bool {
        s < score || (s == score && self.member_of(id) < member)
    }

    /// Whether key (s, id) sorts before or at (score, member).
    #[inline]
    fn key_le(&self, s: f64, id: u32, score: f64, member: &[u8]) -> bool {
        s < score || (s == score && self.member_of(id) <= member)
    }

    /// The child of `n` whose subtree holds (score, member) or would: the
    /// last whose minimum is at or before it, or the first. (A branch-free
    /// count of the scores below, which loads a node's lines at once, measured
    /// no better in criterion.)
    #[inline]
    fn child_for(&self, n: &Inner, score: f64, member: &[u8]) -> usize {
        let (mut lo, mut hi) = (1usize, n.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.key_le(n.scores[mid], n.ids[mid], score, member) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo - 1
    }

    /// Elements of `l` before (score, member).
    #[inline]
    fn leaf_pos(&self, l: &Leaf, score: f64, member: &[u8]) -> usize {
        let (mut lo, mut hi) = (0usize, l.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.key_lt(l.scores[mid], l.ids[mid], score, member) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Descends to the leaf where (score, member) is or belongs, recording the
    /// path; returns the leaf and the number of its elements before the key.
    fn locate(&self, score: f64, member: &[u8], path: &mut Path) -> (u32, usize) {
        let mut node = self.root;
        for _ in 0..self.height {
            let Some(n) = self.inners.get(node as usize) else {
                break;
            };
            let i = self.child_for(n, score, member);
            path.push(node, i);
            node = n.kids[i];
        }
        let pos = self
            .leaves
            .get(node as usize)
            .map_or(0, |l| self.leaf_pos(l, score, member));
        (node, pos)
    }

    /// The minimum key of node `n` (a leaf when `leaf`).
    fn min_key(&self, n: u32, leaf: bool) -> (f64, u32) {
        if leaf {
            let l = &self.leaves[n as usize];
            (l.scores[0], l.ids[0])
        } else {
            let i = &self.inners[n as usize];
            (i.scores[0], i.ids[0])
        }
    }

    /// Sets the key of the child at the end of `path` to `key`, and so on up
    /// while that child is its parent's first (whose minimum it then is too).
    fn fix_min(&mut self, path: &[(u32, u32)], key: (f64, u32)) {
        for &(n, i) in path.iter().rev() {
            let node = &mut self.inners[n as usize];
            node.scores[i as usize] = key.0;
            node.ids[i as usize] = key.1;
            if i != 0 {
                break;
            }
        }
    }

    // ------------------------------------------------------------ index

    fn index_find(&self, member: &[u8]) -> Option<u32> {
        let h = hash_of(&self.hasher, member);
        let entries = &self.entries;
        self.index
            .find(h, |&i| {
                entries
                    .get(i as usize)
                    .is_some_and(|e| crate::util::bytes_eq(&e.member, member))
            })
            .copied()
    }

    /// The hash a lookup of `member` probes with, for [`Tree::prefetch`].
    pub fn member_hash(&self, member: &[u8]) -> u64 {
        hash_of(&self.hasher, member)
    }

    /// Starts loading what a lookup of a member whose [`Tree::member_hash`]
    /// is `h` will read (see `Engine::prefetch`): the elements the index
    /// probe will compare, or with `deep` their member bytes (a second step,
    /// once the elements have arrived).
    pub fn prefetch(&self, h: u64, deep: bool) {
        let entries = &self.entries;
        self.index.find(h, |&i| {
            if let Some(e) = entries.get(i as usize) {
                if deep {
                    crate::util::prefetch_bytes(&e.member);
                } else {
                    crate::util::prefetch(e);
                }
            }
            false
        });
    }

    fn index_insert(&mut self, id: u32) {
        let Tree {
            index,
            entries,
            hasher,
            ..
        } = self;
        let h = hash_of(hasher, &entries[id as usize].member);
        index.insert_unique(h, id, |&i| hash_of(hasher, &entries[i as usize].member));
    }

    /// Drops element `id` from the index (its member is still in `entries`).
    fn index_remove(&mut self, id: u32) {
        let Tree {
            index,
            entries,
            hasher,
            ..
        } = self;
        let h = hash_of(hasher, &entries[id as usize].member);
        if let Ok(e) = index.find_entry(h, |&i| i == id) {
            e.remove();
        }
        // Give memory back after mass deletions, as Redis's dict resizes.
        if index.capacity() > 64 && index.len() * 8 < index.capacity() {
            let len = index.len();
            index.shrink_to(len, |&i| hash_of(hasher, &entries[i as usize].member));
        }
    }

    fn alloc(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        self.heap += member.len();
        let e = Entry { member, score };
        match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = e;
                id
            }
            None => {
                self.entries.push(e);
                (self.entries.len() - 1) as u32
            }
        }
    }

    /// Frees element `id` (already out of the tree and the index).
    fn release(&mut self, id: u32) {
        let e = &mut self.entries[id as usize];
        self.heap = self.heap.saturating_sub(e.member.len());
        e.member = Box::default();
        self.free.push(id);
        if self.free.len() == self.entries.len() {
            // Empty again: drop the free list with the elements.
            self.free.clear();
            self.entries.clear();
        }
    }

    fn new_leaf(&mut self) -> u32 {
        match self.free_leaves.pop() {
            Some(n) => {
                self.leaves[n as usize] = Leaf::new();
                n
            }
            None => {
                self.leaves.push(Leaf::new());
                (self.leaves.len() - 1) as u32
            }
        }
    }

    fn new_inner(&mut self) -> u32 {
        match self.free_inners.pop() {
            Some(n) => {
                self.inners[n as usize] = Inner::new();
                n
            }
            None => {
                self.inners.push(Inner::new());
                (self.inners.len() - 1) as u32
            }
        }
    }

    // ------------------------------------------------------------ reads

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.index_find(member)
            .map(|id| self.entries[id as usize].score)
    }

    /// 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let id = self.index_find(member)?;
        let score = self.entries[id as usize].score;
        let mut rank = 0usize;
        let mut node = self.root;
        for _ in 0..self.height {
            let n = &self.inners[node as usize];
            let i = self.child_for(n, score, member);
            rank += n.counts[..i].iter().map(|&c| c as usize).sum::<usize>();
            node = n.kids[i];
        }
        let l = &self.leaves[node as usize];
        let pos = self.leaf_pos(l, score, member);
        (l.ids.get(pos) == Some(&id) && pos < l.len as usize).then_some(rank + pos)
    }

    /// The leaf and position of 0-based rank `rank` (< len).
    fn by_rank(&self, mut rank: usize) -> (u32, usize) {
        let mut node = self.root;
        for _ in 0..self.height {
            let n = &self.inners[node as usize];
            let last = n.len as usize - 1;
            let mut i = 0;
            while i < last && rank >= n.counts[i] as usize {
                rank -= n.counts[i] as usize;
                i += 1;
            }
            node = n.kids[i];
        }
        (node, rank)
    }

    /// The element of 0-based rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        if rank >= self.len() {
            return None;
        }
        let (leaf, pos) = self.by_rank(rank);
        let l = &self.leaves[leaf as usize];
        (pos < l.len as usize).then(|| (self.member_of(l.ids[pos]), l.scores[pos]))
    }

    /// Iterates from 0-based rank `rank`, ascending or descending.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let (leaf, pos) = if rank < self.len() {
            self.by_rank(rank)
        } else {
            (NONE, 0)
        };
        Iter {
            tree: self,
            leaf,
            pos,
            rev,
        }
    }

    /// How many elements `pred` holds for, given that it holds for a prefix
    /// of the order (the shared descent of the range searches).
    fn count_where(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut acc = 0usize;
        let mut node = self.root;
        for _ in 0..self.height {
            let n = &self.inners[node as usize];
            let (mut lo, mut hi) = (1usize, n.len as usize);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if pred(n.scores[mid], self.member_of(n.ids[mid])) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let i = lo - 1;
            acc += n.counts[..i].iter().map(|&c| c as usize).sum::<usize>();
            node = n.kids[i];
        }
        let l = &self.leaves[node as usize];
        let (mut lo, mut hi) = (0usize, l.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(l.scores[mid], self.member_of(l.ids[mid])) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        acc + lo
    }

    /// 0-based ranks of the first and last element in `r`, if any.
    pub fn score_span(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        let first = self.count_where(|s, _| !r.gte_min(s));
        let end = self.count_where(|s, _| r.lte_max(s));
        (first < end).then(|| (first, end - 1))
    }

    /// 0-based ranks of the first and last element in the lex range `r`.
    pub fn lex_span(&self, r: &LexRange) -> Option<(usize, usize)> {
        let first = self.count_where(|_, m| !r.gte_min(m));
        let end = self.count_where(|_, m| r.lte_max(m));
        (first < end).then(|| (first, end - 1))
    }

    /// Element numbers in use from `cursor` on, for ZSCAN: calls `f` for up to
    /// `count` slots and returns the next cursor (0 when done).
    pub fn scan(&self, cursor: usize, count: usize, mut f: impl FnMut(&[u8], f64)) -> usize {
        let mut i = cursor;
        let mut visited = 0;
        let empty = self.index_find(b"");
        while i < self.entries.len() && visited < count.max(1) {
            let e = &self.entries[i];
            // A free element has an empty member; a live element with the
            // empty member is the one the index names for "".
            if !e.member.is_empty() || empty == Some(i as u32) {
                f(&e.member, e.score);
            }
            visited += 1;
            i += 1;
        }
        if i >= self.entries.len() {
            0
        } else {
            i
        }
    }

    /// A random element (uniform over members).
    pub fn random(&self, r: u64) -> Option<(&[u8], f64)> {
        if self.len == 0 {
            return None;
        }
        self.get((r % u64::from(self.len)) as usize)
    }

    // ------------------------------------------------------------ writes

    /// Inserts a member known to be absent.
    pub fn insert_new(&mut self, member: Box<[u8]>, score: f64) {
        let id = self.alloc(member, score);
        self.index_insert(id);
        let mut path = Path::new();
        let (leaf, pos) = {
            let e = &self.entries[id as usize];
            self.locate(e.score, &e.member, &mut path)
        };
        self.insert_at(&path, leaf, pos, score, id);
    }

    /// Puts (score, id) at position `pos` of `leaf`, reached by `path`.
    fn insert_at(&mut self, path: &Path, leaf: u32, pos: usize, score: f64, id: u32) {
        for &(n, i) in path.as_slice() {
            self.inners[n as usize].counts[i as usize] += 1;
        }
        self.len += 1;
        if (self.leaves[leaf as usize].len as usize) < LEAF_CAP {
            self.leaves[leaf as usize].insert(pos, score, id);
            if pos == 0 {
                self.fix_min(path.as_slice(), (score, id));
            }
            return;
        }
        // Split the full leaf. An append past either end of the whole set
        // (ascending or descending inserts, as of timestamps) leaves the old
        // leaf full rather than half full; the new one, at the edge of the
        // tree, is the one node allowed to stay below a quarter full.
        let (first, last) = {
            let l = &self.leaves[leaf as usize];
            (l.prev == NONE, l.next == NONE)
        };
        let half = match pos {
            0 if first => 0,
            LEAF_CAP if last => LEAF_CAP,
            _ => LEAF_CAP / 2,
        };
        let right = self.new_leaf();
        let next = {
            let (l, r) = two(&mut self.leaves, leaf as usize, right as usize);
            split_off(l, r, half);
            r.prev = leaf;
            r.next = l.next;
            l.next = right;
            if pos < half || (pos == half && half < LEAF_CAP) {
                l.insert(pos, score, id);
            } else {
                r.insert(pos - half, score, id);
            }
            r.next
        };
        if next != NONE {
            self.leaves[next as usize].prev = right;
        }
        if pos == 0 {
            self.fix_min(path.as_slice(), (score, id));
        }
        let (lc, rc) = (
            self.leaves[leaf as usize].len,
            self.leaves[right as usize].len,
        );
        let rkey = self.min_key(right, true);
        let append = half == LEAF_CAP;
        self.add_child(path.as_slice(), leaf, lc, right, rkey, rc, true, append);
    }

    /// Node `left` (the last on `path`) split, and `right` follows it: record
    /// both in the parent, splitting upwards as needed. `append`: `right`
    /// is the new last leaf of an append past the end.
    #[allow(clippy::too_many_arguments)]
    fn add_child(
        &mut self,
        path: &[(u32, u32)],
        mut left: u32,
        mut lcount: u32,
        mut right: u32,
        mut rkey: (f64, u32),
        mut rcount: u32,
        mut leaf: bool,
        append: bool,
    ) {
        let mut d = path.len();
        loop {
            if d == 0 {
                // `left` was the root.
                let lkey = self.min_key(left, leaf);
                let r = self.new_inner();
                let n = &mut self.inners[r as usize];
                n.insert(0, lkey, left, lcount);
                n.insert(1, rkey, right, rcount);
                self.root = r;
                self.height += 1;
                return;
            }
            d -= 1;
            let (p, i) = (path[d].0, path[d].1 as usize);
            let n = &mut self.inners[p as usize];
            n.counts[i] = lcount;
            if (n.len as usize) < INNER_CAP {
                n.insert(i + 1, rkey, right, rcount);
                return;
            }
            let at = i + 1;
            // On the right edge of an ascending run, as for leaves.
            let half = if append && at == INNER_CAP {
                INNER_CAP
            } else {
                INNER_CAP / 2
            };
            let q = self.new_inner();
            let (a, b) = two(&mut self.inners, p as usize, q as usize);
            split_off(a, b, half);
            if at < half || (at == half && half < INNER_CAP) {
                a.insert(at, rkey, right, rcount);
            } else {
                b.insert(at - half, rkey, right, rcount);
            }
            left = p;
            lcount = a.total();
            right = q;
            rkey = (b.scores[0], b.ids[0]);
            rcount = b.total();
            leaf = false;
        }
    }

    /// Takes element `id`, at `pos` of `leaf` reached by `path`, out of the
    /// tree (not the index).
    fn remove_at(&mut self, path: &Path, leaf: u32, pos: usize) {
        for &(n, i) in path.as_slice() {
            let c = &mut self.inners[n as usize].counts[i as usize];
            *c = c.saturating_sub(1);
        }
        self.len -= 1;
        let l = &mut self.leaves[leaf as usize];
        l.remove(pos);
        let (len, key) = (l.len as usize, (l.scores[0], l.ids[0]));
        if pos == 0 && len > 0 {
            self.fix_min(path.as_slice(), key);
        }
        if path.len > 0 && len < LEAF_MIN {
            self.rebalance(path.as_slice());
        }
    }

    fn node_len(&self, n: u32, leaf: bool) -> usize {
        if leaf {
            self.leaves[n as usize].len as usize
        } else {
            self.inners[n as usize].len as usize
        }
    }

    /// The node at the end of `path` has fallen below its minimum: merge it
    /// with a sibling or even the two out, then check its parent.
    fn rebalance(&mut self, path: &[(u32, u32)]) {
        let mut depth = path.len();
        let mut leaf = true;
        while depth > 0 {
            let (p, i) = (path[depth - 1].0, path[depth - 1].1 as usize);
            let child = self.inners[p as usize].kids[i];
            let (min, cap) = if leaf {
                (LEAF_MIN, LEAF_CAP)
            } else {
                (INNER_MIN, INNER_CAP)
            };
            if self.node_len(child, leaf) >= min || self.inners[p as usize].len < 2 {
                break;
            }
            let li = if i > 0 { i - 1 } else { i };
            let (l, r) = {
                let n = &self.inners[p as usize];
                (n.kids[li], n.kids[li + 1])
            };
            let (ln, rn) = (self.node_len(l, leaf), self.node_len(r, leaf));
            let merged = ln + rn <= cap;
            if merged {
                self.merge(l, r, leaf);
                let n = &mut self.inners[p as usize];
                n.counts[li] += n.counts[li + 1];
                n.remove(li + 1);
            } else {
                let moved = self.even_out(l, r, leaf);
                let rkey = self.min_key(r, leaf);
                let n = &mut self.inners[p as usize];
                n.counts[li] = (n.counts[li] as i64 + moved) as u32;
                n.counts[li + 1] = (n.counts[li + 1] as i64 - moved) as u32;
                n.scores[li + 1] = rkey.0;
                n.ids[li + 1] = rkey.1;
            }
            // `l`'s minimum changes only when it was empty (a leaf can be).
            if ln == 0 {
                let key = self.min_key(l, leaf);
                let n = &mut self.inners[p as usize];
                n.scores[li] = key.0;
                n.ids[li] = key.1;
                if li == 0 {
                    self.fix_min(&path[..depth - 1], key);
                }
            }
            if !merged {
                break;
            }
            depth -= 1;
            leaf = false;
        }
        // A root with one child gives way to it.
        while self.height > 0 && self.inners[self.root as usize].len == 1 {
            let old = self.root;
            self.root = self.inners[old as usize].kids[0];
            self.free_inners.push(old);
            self.height -= 1;
        }
    }

    /// Moves all of `r` into `l` (its left sibling) and frees `r`.
    fn merge(&mut self, l: u32, r: u32, leaf: bool) {
        if leaf {
            let (left, right) = two(&mut self.leaves, l as usize, r as usize);
            append(left, right);
            left.next = right.next;
            let next = right.next;
            if next != NONE {
                self.leaves[next as usize].prev = l;
            }
            self.free_leaves.push(r);
        } else {
            let (left, right) = two(&mut self.inners, l as usize, r as usize);
            append(left, right);
            self.free_inners.push(r);
        }
    }

    /// Shares the entries of siblings `l` and `r` evenly; returns how many
    /// elements moved from `r` to `l` (negative: the other way).
    fn even_out(&mut self, l: u32, r: u32, leaf: bool) -> i64 {
        if leaf {
            let (left, right) = two(&mut self.leaves, l as usize, r as usize);
            even_out(left, right)
        } else {
            let (left, right) = two(&mut self.inners, l as usize, r as usize);
            even_out(left, right)
        }
    }

    /// Takes element `id` (score `score`) out of the tree; false if absent.
    fn unlink(&mut self, score: f64, id: u32) -> bool {
        let mut path = Path::new();
        let (leaf, pos) = {
            let m = self.member_of(id);
            self.locate(score, m, &mut path)
        };
        let l = &self.leaves[leaf as usize];
        if pos >= l.len as usize || l.ids[pos] != id {
            return false;
        }
        self.remove_at(&path, leaf, pos);
        true
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let id = self.index_find(member)?;
        let score = self.entries[id as usize].score;
        self.unlink(score, id);
        self.index_remove(id);
        self.release(id);
        Some(score)
    }

    /// Changes the score of a present member (`zslUpdateScore`): in place when
    /// its neighbours in the leaf keep it in order, otherwise taken out and
    /// put back.
    pub fn update_score(&mut self, member: &[u8], new: f64) {
        if let Some(id) = self.index_find(member) {
            self.move_to(id, member, new);
        }
    }

    /// Sets `member`'s score, adding it if absent (true then): one probe of
    /// the index either way.
    pub fn set(&mut self, member: &[u8], score: f64) -> bool {
        match self.index_find(member) {
            Some(id) => {
                if self.entries[id as usize].score != score {
                    self.move_to(id, member, score);
                }
                false
            }
            None => {
                self.insert_new(member.into(), score);
                true
            }
        }
    }

    /// Gives element `id` (whose member is `member`) the score `new`.
    fn move_to(&mut self, id: u32, member: &[u8], new: f64) {
        let cur = self.entries[id as usize].score;
        let mut path = Path::new();
        let (leaf, pos) = self.locate(cur, member, &mut path);
        let l = &self.leaves[leaf as usize];
        let n = l.len as usize;
        if pos >= n || l.ids[pos] != id {
            return;
        }
        // Not the leaf's first (its key is in the parents), and between its
        // neighbours at the new score.
        if pos > 0
            && pos + 1 < n
            && self.key_lt(l.scores[pos - 1], l.ids[pos - 1], new, member)
            && !self.key_le(l.scores[pos + 1], l.ids[pos + 1], new, member)
        {
            self.leaves[leaf as usize].scores[pos] = new;
            self.entries[id as usize].score = new;
            return;
        }
        self.remove_at(&path, leaf, pos);
        self.entries[id as usize].score = new;
        let mut path = Path::new();
        let (leaf, pos) = self.locate(new, member, &mut path);
        self.insert_at(&path, leaf, pos, new, id);
    }

    /// Removes the elements of 0-based ranks `start..=end` (in range).
    pub fn remove_ranks(&mut self, start: usize, end: usize) {
        if start > end || start >= self.len() {
            return;
        }
        let end = end.min(self.len() - 1);
        let doomed: Vec<(f64, u32)> = {
            let (mut leaf, mut pos) = self.by_rank(start);
            let mut v = Vec::with_capacity(end - start + 1);
            while v.len() < end - start + 1 && leaf != NONE {
                let l = &self.leaves[leaf as usize];
                if pos < l.len as usize {
                    v.push((l.scores[pos], l.ids[pos]));
                    pos += 1;
                } else {
                    leaf = l.next;
                    pos = 0;
                }
            }
            v
        };
        for (score, id) in doomed {
            self.unlink(score, id);
            self.index_remove(id);
            self.release(id);
        }
    }
}

/// Walks the tree from an element, forwards or backwards.
pub struct Iter<'a> {
    tree: &'a Tree,
    leaf: u32,
    pos: usize,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.tree;
        let l = t.leaves.get(self.leaf as usize)?;
        if self.pos >= l.len as usize {
            self.leaf = NONE;
            return None;
        }
        let item = (t.member_of(l.ids[self.pos]), l.scores[self.pos]);
        if self.rev {
            if self.pos == 0 {
                self.leaf = l.prev;
                self.pos = t
                    .leaves
                    .get(l.prev as usize)
                    .map_or(0, |p| (p.len as usize).saturating_sub(1));
            } else {
                self.pos -= 1;
            }
        } else {
            self.pos += 1;
            if self.pos >= l.len as usize {
                self.leaf = l.next;
                self.pos = 0;
            }
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(z: &Tree) -> Vec<(Vec<u8>, f64)> {
        z.iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    }

    /// Checks every invariant in the module doc; returns the elements in
    /// order.
    fn check(t: &Tree) -> Vec<(f64, u32)> {
        fn walk(
            t: &Tree,
            n: u32,
            depth: usize,
            edge: (bool, bool),
            out: &mut Vec<(f64, u32)>,
            leaves: &mut Vec<u32>,
        ) -> u32 {
            if depth == t.height {
                let l = &t.leaves[n as usize];
                if n != t.root && !(edge.0 || edge.1) {
                    assert!(l.len as usize >= LEAF_MIN, "leaf {n} underfull");
                }
                for p in 0..l.len as usize {
                    out.push((l.scores[p], l.ids[p]));
                }
                leaves.push(n);
                return l.len;
            }
            let i = &t.inners[n as usize];
            if n != t.root && !(edge.0 || edge.1) {
                assert!(i.len as usize >= INNER_MIN, "inner {n} underfull");
            } else {
                assert!(i.len >= 2, "root with one child");
            }
            let mut total = 0;
            for c in 0..i.len as usize {
                let kid = i.kids[c];
                let before = out.len();
                let last = c + 1 == i.len as usize;
                let kid_edge = (edge.0 && c == 0, edge.1 && last);
                let count = walk(t, kid, depth + 1, kid_edge, out, leaves);
                assert_eq!(count, i.counts[c], "count of child {c} of {n}");
                assert_eq!(
                    out[before],
                    (i.scores[c], i.ids[c]),
                    "key of child {c} of {n}"
                );
                total += count;
            }
            total
        }
        let mut out = Vec::new();
        let mut leaves = Vec::new();
        let total = walk(t, t.root, 0, (true, true), &mut out, &mut leaves);
        assert_eq!(total, t.len);
        for w in out.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert!(t.key_lt(a.0, a.1, b.0, t.member_of(b.1)), "order");
        }
        for &(s, id) in &out {
            assert_eq!(t.entries[id as usize].score.to_bits(), s.to_bits());
        }
        assert_eq!(t.leaves[leaves[0] as usize].prev, NONE);
        assert_eq!(t.leaves[*leaves.last().unwrap() as usize].next, NONE);
        for w in leaves.windows(2) {
            assert_eq!(t.leaves[w[0] as usize].next, w[1]);
            assert_eq!(t.leaves[w[1] as usize].prev, w[0]);
        }
        assert_eq!(t.index.len(), t.len());
        out
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    /// Random inserts, score changes, removals and rank-range removals
    /// against a model, with `members_n` distinct members and scores from
    /// `scores` values (few values: many ties broken by member).
    fn against_model(steps: usize, members_n: u64, scores: u64, check_every: usize) -> usize {
        let mut z = Tree::new();
        let mut live: std::collections::HashMap<Vec<u8>, f64> = Default::default();
        let mut rng = Rng(members_n * 31 + scores);
        let mut height = 0;
        let sorted = |live: &std::collections::HashMap<Vec<u8>, f64>| {
            let mut m: Vec<(f64, Vec<u8>)> = live.iter().map(|(k, v)| (*v, k.clone())).collect();
            m.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            m
        };
        for step in 1..=steps {
            let m = format!("m{}", rng.next() % members_n).into_bytes();
            let s = (rng.next() % scores) as f64 / 4.0 - 3.0;
            let op = rng.next() % 3;
            match live.get_mut(&m) {
                Some(_) if op == 0 => {
                    live.remove(&m);
                    assert!(z.remove(&m).is_some());
                }
                Some(cur) => {
                    *cur = s;
                    z.update_score(&m, s);
                }
                None => {
                    live.insert(m.clone(), s);
                    z.insert_new(m.clone().into_boxed_slice(), s);
                }
            }
            if step % 997 == 0 {
                let model = sorted(&live);
                let k = (rng.next() % (model.len() as u64 + 1)) as usize;
                let e = k + (rng.next() % 300) as usize;
                if k < model.len() {
                    for (_, m) in &model[k..=e.min(model.len() - 1)] {
                        live.remove(m);
                    }
                    z.remove_ranks(k, e);
                }
            }
            height = height.max(z.height);
            if step % check_every == 0 {
                assert_eq!(check(&z).len(), live.len());
            }
        }
        let model = sorted(&live);
        check(&z);
        let want: Vec<(Vec<u8>, f64)> = model.iter().map(|(s, m)| (m.clone(), *s)).collect();
        assert_eq!(members(&z), want);
        for (i, (s, m)) in model.iter().enumerate() {
            assert_eq!(z.rank(m), Some(i));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.get(i).map(|(m, _)| m.to_vec()), Some(m.clone()));
        }
        assert_eq!(z.rank(b"absent"), None);
        if !model.is_empty() {
            let back: Vec<Vec<u8>> = z
                .iter_from(z.len() - 1, true)
                .map(|(m, _)| m.to_vec())
                .collect();
            let mut rev: Vec<Vec<u8>> = model.iter().map(|(_, m)| m.clone()).collect();
            rev.reverse();
            assert_eq!(back, rev);
            let mid = model.len() / 2;
            let fwd: Vec<Vec<u8>> = z.iter_from(mid, false).map(|(m, _)| m.to_vec()).collect();
            let want: Vec<Vec<u8>> = model[mid..].iter().map(|(_, m)| m.clone()).collect();
            assert_eq!(fwd, want);
        }
        for (min, max, minex, maxex) in [
            (-1.0, 2.0, true, false),
            (0.0, 0.0, false, false),
            (5.0, 1.0, false, false),
            (-100.0, 100.0, false, true),
        ] {
            let r = ScoreRange {
                min,
                max,
                minex,
                maxex,
            };
            let inr: Vec<usize> = (0..model.len())
                .filter(|&i| r.gte_min(model[i].0) && r.lte_max(model[i].0))
                .collect();
            assert_eq!(
                z.score_span(&r),
                inr.first().map(|&a| (a, *inr.last().unwrap()))
            );
        }
        let mut seen = 0;
        let mut cur = 0;
        loop {
            cur = z.scan(cur, 10, |_, _| seen += 1);
            if cur == 0 {
                break;
            }
        }
        assert_eq!(seen, model.len());
        height
    }

    #[test]
    fn matches_a_sorted_vector_small() {
        assert_eq!(against_model(4000, 300, 50, 1), 1);
    }

    #[test]
    fn matches_a_sorted_vector_three_levels() {
        // Enough members for inner nodes under the root, with merges and
        // splits at every level as the set grows and shrinks.
        assert_eq!(against_model(150_000, 30_000, 1 << 20, 5_003), 2);
        assert_eq!(against_model(60_000, 20_000, 8, 3_001), 2);
    }

    #[test]
    fn ascending_and_descending_inserts_fill_leaves() {
        for rev in [false, true] {
            let mut z = Tree::new();
            for i in 0..10_000u32 {
                let s = if rev { -f64::from(i) } else { f64::from(i) };
                z.insert_new(format!("{i}").into_bytes().into_boxed_slice(), s);
            }
            check(&z);
            let used = z.leaves.len() - z.free_leaves.len();
            assert!(used <= 10_000 / LEAF_CAP + 2, "{used} leaves");
        }
    }

    #[test]
    fn lex_spans_over_equal_scores() {
        let mut z = Tree::new();
        for i in 0..5000u32 {
            z.insert_new(format!("k{i:05}").into_bytes().into_boxed_slice(), 0.0);
        }
        let r = LexRange {
            min: super::super::LexBound::Excl(b"k01000".to_vec()),
            max: super::super::LexBound::Incl(b"k03999".to_vec()),
        };
        assert_eq!(z.lex_span(&r), Some((1001, 3999)));
        let none = LexRange {
            min: super::super::LexBound::Incl(b"z".to_vec()),
            max: super::super::LexBound::PosInf,
        };
        assert_eq!(z.lex_span(&none), None);
        // Emptying it leaves a tree that works.
        z.remove_ranks(0, 4999);
        assert!(z.is_empty());
        check(&z);
        z.insert_new(b"again".to_vec().into_boxed_slice(), 1.0);
        assert_eq!(z.rank(b"again"), Some(0));
        check(&z);
    }
}
