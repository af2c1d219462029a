//! The `skiplist` encoding of a large sorted set: Redis's skiplist with spans
//! (t_zset.c `zsl*`), kept in an arena of nodes addressed by `u32`, plus a hash
//! index from member to node. The skiplist gives O(log n) insert, delete, rank,
//! rank -> element and first/last element of a score or lex range; the index
//! gives O(1) member lookup.
//!
//! Memory: each member's bytes are stored once (in its node); the index holds
//! only 4-byte node numbers and finds a node's member through the arena for
//! both equality and rehashing.
//!
//! A node is one 64-byte cache line: member handle, score, back link and its
//! first four levels (all a node has in 99.6% of cases, `ZSKIPLIST_P` being
//! 1/4). So a step of a descent costs one cache miss, on the node it moves to,
//! whose score and links arrive together, as in Redis's node with its level
//! array inline. (With levels above 0 in a box of their own, every step at
//! those levels missed twice; ZADD of 100k random members, P16, was 2.4x
//! slower than SADD.) The rare higher levels live in fixed blocks of a side
//! arena.
//! Freed nodes go on a free list and are reused, so node numbers stay stable
//! while a member is present, which is what ZSCAN's cursor relies on.

use super::{LexRange, ScoreRange};
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Node 0 is the header; as a link it means "none".
const NIL: u32 = 0;
/// Redis's ZSKIPLIST_MAXLEVEL.
const MAX_LEVEL: usize = 32;

#[derive(Clone, Copy, Default, Debug)]
struct Level {
    fwd: u32,
    span: u32,
}

/// Levels kept in the node itself.
const INLINE: usize = 4;
/// Levels in a block of the side arena (the rest up to MAX_LEVEL).
const BLOCK: usize = MAX_LEVEL - INLINE;
/// `meta` bits holding the block number; the top five hold level - 1.
const BLOCK_BITS: u32 = 27;
const NO_BLOCK: u32 = (1 << BLOCK_BITS) - 1;

#[derive(Clone)]
#[repr(C, align(64))]
struct Node {
    member: Box<[u8]>,
    score: f64,
    back: u32,
    /// (level - 1) << 27 | block of levels INLINE.. in `high` (or NO_BLOCK).
    meta: u32,
    lv: [Level; INLINE],
}

impl Node {
    fn new(member: Box<[u8]>, score: f64, level: usize, block: u32) -> Node {
        Node {
            member,
            score,
            back: NIL,
            meta: ((level.clamp(1, MAX_LEVEL) as u32 - 1) << BLOCK_BITS) | (block & NO_BLOCK),
            lv: [Level::default(); INLINE],
        }
    }

    fn level(&self) -> usize {
        (self.meta >> BLOCK_BITS) as usize + 1
    }

    fn block(&self) -> Option<usize> {
        let b = self.meta & NO_BLOCK;
        (b != NO_BLOCK).then_some(b as usize)
    }
}

#[derive(Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    /// Levels INLINE.. of the nodes that have them, BLOCK per node.
    high: Vec<Level>,
    /// Blocks of `high` not in use.
    high_free: Vec<u32>,
    /// Head of the free-node list (linked through `lv[0].fwd`), NIL when empty.
    free: u32,
    level: usize,
    len: u32,
    tail: u32,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    rng: u64,
    /// Member bytes held outside the node array, kept up to date so MEMORY
    /// USAGE costs O(1).
    heap: usize,
}

fn hash_of(h: &foldhash::fast::RandomState, m: &[u8]) -> u64 {
    h.hash_one(m)
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

impl SkipList {
    pub fn new() -> SkipList {
        // The header has every level: block 0 is its.
        let header = Node::new(Box::default(), 0.0, MAX_LEVEL, 0);
        let hasher = foldhash::fast::RandomState::default();
        let rng = hash_of(&hasher, b"zsl") | 1;
        SkipList {
            nodes: vec![header],
            high: vec![Level::default(); BLOCK],
            high_free: Vec::new(),
            free: NIL,
            level: 1,
            len: 0,
            tail: NIL,
            index: HashTable::new(),
            hasher,
            rng,
            heap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated (nodes, member bytes, upper levels, index), with the
    /// allocator's usual rounding left out.
    pub fn mem_usage(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.high.capacity() * std::mem::size_of::<Level>()
            + self.high_free.capacity() * 4
            + self.heap
            + self.index.allocation_size()
    }

    #[inline]
    fn lv(&self, n: u32, i: usize) -> Level {
        let node = &self.nodes[n as usize];
        if let Some(l) = node.lv.get(i) {
            return *l;
        }
        node.block()
            .and_then(|b| self.high.get(b * BLOCK + i - INLINE))
            .copied()
            .unwrap_or_default()
    }

    #[inline]
    fn set_lv(&mut self, n: u32, i: usize, l: Level) {
        let node = &mut self.nodes[n as usize];
        if let Some(slot) = node.lv.get_mut(i) {
            *slot = l;
            return;
        }
        if let Some(slot) = node
            .block()
            .and_then(|b| self.high.get_mut(b * BLOCK + i - INLINE))
        {
            *slot = l;
        }
    }

    fn set_span(&mut self, n: u32, i: usize, span: u32) {
        let mut l = self.lv(n, i);
        l.span = span;
        self.set_lv(n, i, l);
    }

    /// A descent that has just moved to node `x` at level `i` compares next
    /// against `x`'s successor at level `i`, a cache miss; if it then drops a
    /// level, the successor there is a second miss, one after the other.
    /// Starting that load now overlaps the two (criterion, ZADD on 100k members:
    /// see `benches/keyspace.rs`). `x`'s own line is in: the caller has just
    /// read its score.
    #[inline(always)]
    fn prefetch_below(&self, x: u32, i: usize) {
        if i == 0 || i > INLINE {
            return;
        }
        let d = self.nodes[x as usize].lv[i - 1].fwd;
        if d != NIL {
            if let Some(n) = self.nodes.get(d as usize) {
                crate::util::prefetch(n);
            }
        }
    }

    /// Whether node `n` sorts before (score, member).
    fn before(&self, n: u32, score: f64, member: &[u8]) -> bool {
        let node = &self.nodes[n as usize];
        node.score < score || (node.score == score && *node.member < *member)
    }

    fn random_level(&mut self) -> usize {
        // xorshift64*; a level goes up with probability 1/4 (ZSKIPLIST_P).
        let mut level = 1;
        loop {
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
            if (r & 0xFFFF) < 0x4000 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    fn alloc(&mut self, member: Box<[u8]>, score: f64, level: usize) -> u32 {
        self.heap += member.len();
        let block = if level > INLINE {
            match self.high_free.pop() {
                Some(b) => {
                    let start = b as usize * BLOCK;
                    if let Some(levels) = self.high.get_mut(start..start + BLOCK) {
                        levels.fill(Level::default());
                    }
                    b
                }
                None => {
                    let b = (self.high.len() / BLOCK) as u32;
                    self.high.resize(self.high.len() + BLOCK, Level::default());
                    b
                }
            }
        } else {
            NO_BLOCK
        };
        let node = Node::new(member, score, level, block);
        if self.free != NIL {
            let id = self.free;
            self.free = self.nodes[id as usize].lv[0].fwd;
            self.nodes[id as usize] = node;
            id
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    /// Releases node `n`, handing back its member bytes.
    fn release(&mut self, n: u32) -> Box<[u8]> {
        let node = &mut self.nodes[n as usize];
        let member = std::mem::take(&mut node.member);
        if let Some(b) = node.block() {
            self.high_free.push(b as u32);
        }
        node.meta = NO_BLOCK;
        self.heap = self.heap.saturating_sub(member.len());
        node.lv = [Level::default(); INLINE];
        node.lv[0] = Level {
            fwd: self.free,
            span: 0,
        };
        node.back = NIL;
        self.free = n;
        member
    }

    // ------------------------------------------------------------ index

    fn index_find(&self, member: &[u8]) -> Option<u32> {
        let h = hash_of(&self.hasher, member);
        let nodes = &self.nodes;
        self.index
            .find(h, |&i| *nodes[i as usize].member == *member)
            .copied()
    }

    /// Starts loading what a lookup of `member` will read (see
    /// `Engine::prefetch`): the nodes the index probe will compare, or with
    /// `deep` their member bytes (a second step, once the nodes have arrived).
    pub fn prefetch(&self, member: &[u8], deep: bool) {
        let nodes = &self.nodes;
        self.index.find(hash_of(&self.hasher, member), |&i| {
            if let Some(n) = nodes.get(i as usize) {
                if deep {
                    if let Some(b) = n.member.first() {
                        crate::util::prefetch(b);
                    }
                } else {
                    crate::util::prefetch(n);
                }
            }
            false
        });
    }

    fn index_insert(&mut self, id: u32) {
        let SkipList {
            index,
            nodes,
            hasher,
            ..
        } = self;
        let h = hash_of(hasher, &nodes[id as usize].member);
        index.insert_unique(h, id, |&i| hash_of(hasher, &nodes[i as usize].member));
    }

    /// Drops node `id` from the index (its member is still in the node).
    fn index_remove(&mut self, id: u32) {
        let SkipList {
            index,
            nodes,
            hasher,
            ..
        } = self;
        let h = hash_of(hasher, &nodes[id as usize].member);
        if let Ok(e) = index.find_entry(h, |&i| i == id) {
            e.remove();
        }
        // Give memory back after mass deletions, as Redis's dict resizes.
        if index.capacity() > 64 && index.len() * 8 < index.capacity() {
            let len = index.len();
            index.shrink_to(len, |&i| hash_of(hasher, &nodes[i as usize].member));
        }
    }

    // ------------------------------------------------------------ reads

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.index_find(member)
            .map(|n| self.nodes[n as usize].score)
    }

    /// 1-based rank of node `n` (`zslGetRank`).
    fn rank_of(&self, n: u32) -> usize {
        let (score, member) = {
            let node = &self.nodes[n as usize];
            (node.score, &node.member)
        };
        let mut rank = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd == NIL {
                    break;
                }
                let f = &self.nodes[l.fwd as usize];
                if f.score < score || (f.score == score && *f.member <= **member) {
                    rank += l.span as usize;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            if x == n {
                return rank;
            }
        }
        rank
    }

    /// 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let n = self.index_find(member)?;
        Some(self.rank_of(n) - 1)
    }

    /// The node of 1-based rank `rank` (`zslGetElementByRank`).
    fn by_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && traversed + l.span as usize <= rank {
                    traversed += l.span as usize;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return x;
            }
        }
        NIL
    }

    /// The element of 0-based rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        if rank >= self.len() {
            return None;
        }
        let n = self.by_rank(rank + 1);
        (n != NIL).then(|| {
            let node = &self.nodes[n as usize];
            (&node.member[..], node.score)
        })
    }

    /// Iterates from 0-based rank `rank`, ascending or descending.
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let at = if rank < self.len() {
            self.by_rank(rank + 1)
        } else {
            NIL
        };
        Iter { zsl: self, at, rev }
    }

    /// The last node for which `before_start(node)` holds, walking from the
    /// header (NIL if none): the shared descent of the range searches.
    fn last_where(&self, mut pred: impl FnMut(&Node) -> bool) -> u32 {
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && pred(&self.nodes[l.fwd as usize]) {
                    x = l.fwd;
                } else {
                    break;
                }
            }
        }
        x
    }

    /// 0-based ranks of the first and last element in `r`, if any.
    pub fn score_span(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        let before = self.last_where(|n| !r.gte_min(n.score));
        let first = self.lv(before, 0).fwd;
        if first == NIL || !r.lte_max(self.nodes[first as usize].score) {
            return None;
        }
        let last = self.last_where(|n| r.lte_max(n.score));
        if last == NIL {
            return None;
        }
        Some((self.rank_of(first) - 1, self.rank_of(last) - 1))
    }

    /// 0-based ranks of the first and last element in the lex range `r`.
    pub fn lex_span(&self, r: &LexRange) -> Option<(usize, usize)> {
        let before = self.last_where(|n| !r.gte_min(&n.member));
        let first = self.lv(before, 0).fwd;
        if first == NIL || !r.lte_max(&self.nodes[first as usize].member) {
            return None;
        }
        let last = self.last_where(|n| r.lte_max(&n.member));
        if last == NIL {
            return None;
        }
        Some((self.rank_of(first) - 1, self.rank_of(last) - 1))
    }

    /// Node numbers in use from `cursor` on, for ZSCAN: calls `f` for up to
    /// `count` slots and returns the next cursor (0 when done).
    pub fn scan(&self, cursor: usize, count: usize, mut f: impl FnMut(&[u8], f64)) -> usize {
        let mut i = cursor.max(1);
        let mut visited = 0;
        while i < self.nodes.len() && visited < count {
            let n = &self.nodes[i];
            // A freed node has an empty member; a live node with the empty
            // member is the one the index names for "".
            if !n.member.is_empty() || self.index_find(b"") == Some(i as u32) {
                f(&n.member, n.score);
            }
            visited += 1;
            i += 1;
        }
        if i >= self.nodes.len() {
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
        self.get((r % self.len as u64) as usize)
    }

    // ------------------------------------------------------------ writes

    /// Inserts a member known to be absent (`zslInsert` plus the index).
    pub fn insert_new(&mut self, member: Box<[u8]>, score: f64) {
        let id = self.link(member, score);
        self.index_insert(id);
    }

    /// Links a new node into the skiplist (not the index).
    fn link(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let level = self.random_level();
        let id = self.alloc(member, score, level);
        self.link_node(id, level);
        id
    }

    /// Per level, the last node before (score, member) and its 1-based rank.
    fn descend(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [NIL; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && self.before(l.fwd, score, member) {
                    rank[i] += l.span;
                    x = l.fwd;
                    self.prefetch_below(x, i);
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Links node `id` (score and member set, `level` levels, all unlinked) at
    /// its place (`zslInsert` after the node is made).
    fn link_node(&mut self, id: u32, level: usize) {
        let (mut update, mut rank) = {
            let node = &self.nodes[id as usize];
            self.descend(node.score, &node.member)
        };
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = NIL;
                self.set_span(NIL, i, self.len);
            }
            self.level = level;
        }
        for i in 0..level {
            let ul = self.lv(update[i], i);
            let d = rank[0] - rank[i];
            self.set_lv(
                id,
                i,
                Level {
                    fwd: ul.fwd,
                    span: ul.span.saturating_sub(d),
                },
            );
            self.set_lv(
                update[i],
                i,
                Level {
                    fwd: id,
                    span: d + 1,
                },
            );
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            let s = self.lv(u, i).span;
            self.set_span(u, i, s + 1);
        }
        self.nodes[id as usize].back = update[0];
        let next = self.nodes[id as usize].lv[0].fwd;
        if next != NIL {
            self.nodes[next as usize].back = id;
        } else {
            self.tail = id;
        }
        self.len += 1;
    }

    /// The update vector for (score, member): per level, the last node before it.
    fn path(&self, score: f64, member: &[u8]) -> [u32; MAX_LEVEL] {
        let mut update = [NIL; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && self.before(l.fwd, score, member) {
                    x = l.fwd;
                    self.prefetch_below(x, i);
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// Unlinks node `x` given its update vector (`zslDeleteNode`).
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lv(u, i);
            if ul.fwd == x {
                let xl = self.lv(x, i);
                self.set_lv(
                    u,
                    i,
                    Level {
                        fwd: xl.fwd,
                        span: (ul.span + xl.span).saturating_sub(1),
                    },
                );
            } else {
                self.set_span(u, i, ul.span.saturating_sub(1));
            }
        }
        let (next, back) = {
            let n = &self.nodes[x as usize];
            (n.lv[0].fwd, n.back)
        };
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.lv(NIL, self.level - 1).fwd == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let n = self.index_find(member)?;
        let score = self.nodes[n as usize].score;
        let update = self.path(score, member);
        self.unlink(n, &update);
        self.index_remove(n);
        self.release(n);
        Some(score)
    }

    /// Changes the score of a present member (`zslUpdateScore`): in place when
    /// the order is unchanged, otherwise unlinked and linked again.
    pub fn update_score(&mut self, member: &[u8], new: f64) {
        let Some(n) = self.index_find(member) else {
            return;
        };
        let (cur, back, next) = {
            let node = &self.nodes[n as usize];
            (node.score, node.back, node.lv[0].fwd)
        };
        let back_ok = back == NIL || self.nodes[back as usize].score < new;
        let next_ok = next == NIL || self.nodes[next as usize].score > new;
        if back_ok && next_ok {
            self.nodes[n as usize].score = new;
            return;
        }
        // Move the node itself (Redis makes a new one): it keeps its member
        // and its levels, and the index (member -> node) stays as it is, so
        // this costs one index lookup and two descents.
        let update = self.path(cur, member);
        self.unlink(n, &update);
        let node = &mut self.nodes[n as usize];
        node.score = new;
        node.back = NIL;
        node.lv = [Level::default(); INLINE];
        let level = node.level();
        if let Some(b) = node.block() {
            if let Some(levels) = self.high.get_mut(b * BLOCK..(b + 1) * BLOCK) {
                levels.fill(Level::default());
            }
        }
        self.link_node(n, level);
    }

    /// Removes the elements of 0-based ranks `start..=end` (in range).
    pub fn remove_ranks(&mut self, start: usize, end: usize) {
        if start > end || start >= self.len() {
            return;
        }
        let end = end.min(self.len() - 1);
        let (start, end) = (start + 1, end + 1);
        let mut update = [NIL; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && traversed + (l.span as usize) < start {
                    traversed += l.span as usize;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        traversed += 1;
        x = self.lv(x, 0).fwd;
        while x != NIL && traversed <= end {
            let next = self.lv(x, 0).fwd;
            self.unlink(x, &update);
            self.index_remove(x);
            self.release(x);
            traversed += 1;
            x = next;
        }
    }
}

/// Walks the skiplist from a node, forwards or backwards.
pub struct Iter<'a> {
    zsl: &'a SkipList,
    at: u32,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NIL {
            return None;
        }
        let node = &self.zsl.nodes[self.at as usize];
        self.at = if self.rev { node.back } else { node.lv[0].fwd };
        Some((&node.member[..], node.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(z: &SkipList) -> Vec<(Vec<u8>, f64)> {
        z.iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    }

    #[test]
    fn matches_a_sorted_vector() {
        let mut z = SkipList::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut seed = 12345u64;
        let mut rnd = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for step in 0..4000 {
            let m = format!("m{}", rnd() % 300).into_bytes();
            let s = (rnd() % 50) as f64 / 4.0;
            match (model.iter().position(|(_, x)| *x == m), rnd() % 3) {
                (Some(p), 0) => {
                    model.remove(p);
                    assert!(z.remove(&m).is_some());
                }
                (Some(p), _) => {
                    model.remove(p);
                    model.push((s, m.clone()));
                    z.update_score(&m, s);
                }
                (None, _) => {
                    model.push((s, m.clone()));
                    z.insert_new(m.clone().into_boxed_slice(), s);
                }
            }
            if step % 97 == 0 {
                let k = (rnd() % 20) as usize;
                model.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                if k < model.len() {
                    let e = (k + 5).min(model.len() - 1);
                    model.drain(k..=e);
                    z.remove_ranks(k, e);
                }
            }
            model.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(z.len(), model.len());
        }
        let want: Vec<(Vec<u8>, f64)> = model.iter().map(|(s, m)| (m.clone(), *s)).collect();
        assert_eq!(members(&z), want);
        for (i, (s, m)) in model.iter().enumerate() {
            assert_eq!(z.rank(m), Some(i));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.get(i).map(|(m, _)| m.to_vec()), Some(m.clone()));
        }
        let back: Vec<Vec<u8>> = z
            .iter_from(z.len() - 1, true)
            .map(|(m, _)| m.to_vec())
            .collect();
        let mut rev: Vec<Vec<u8>> = model.iter().map(|(_, m)| m.clone()).collect();
        rev.reverse();
        assert_eq!(back, rev);
        let r = ScoreRange {
            min: 2.0,
            max: 5.0,
            minex: true,
            maxex: false,
        };
        let inr: Vec<usize> = (0..model.len())
            .filter(|&i| model[i].0 > 2.0 && model[i].0 <= 5.0)
            .collect();
        assert_eq!(
            z.score_span(&r),
            inr.first().map(|&a| (a, *inr.last().unwrap()))
        );
        let mut seen = 0;
        let mut cur = 0;
        loop {
            cur = z.scan(cur, 10, |_, _| seen += 1);
            if cur == 0 {
                break;
            }
        }
        assert_eq!(seen, model.len());
    }
}
