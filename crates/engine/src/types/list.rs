//! The list type (t_list.c, quicklist.c). Redis 7.0 always reports the
//! `quicklist` encoding for lists, whatever their size.
//!
//! Representation, as Redis's quicklist: a deque of nodes, each node one packed
//! buffer of entries in listpack's format (see [`pack`]). The node size is
//! bounded by `list-max-listpack-size` (see [`Fill`]): a positive value caps the
//! entries per node (and 8 KiB per node as a safety limit), -1..-5 cap a node at
//! 4/8/16/32/64 KiB. An element bigger than the limit gets a node of its own.
//!
//! Indexing (LINDEX, LSET, the start of an LRANGE) skips whole nodes by their
//! entry counts from the nearer end of the list, then walks one node from its
//! nearer end: O(nodes + node size), as in Redis, never O(n) per element.
//!
//! Small lists (one node, the common case) keep that node inline: the list is
//! one 16-byte box plus one exact-size buffer, against Redis's robj (16),
//! quicklist (48) and quicklistNode (32) plus the listpack. A list whose node
//! splits moves its nodes to a [`VecDeque`] (and back when it shrinks to one
//! node).
//!
//! `list-compress-depth` (LZF compression of inner nodes) is not implemented:
//! nodes are always stored raw, which is what Redis does by default (depth 0).

pub mod pack;

use bytes::Bytes;
use pack::{encoded_len, Node, HEADER};
pub use pack::{Elem, Probe};
use std::collections::VecDeque;

/// Node byte limits for `list-max-listpack-size` -1..-5 (quicklist.c's
/// `optimization_level`).
const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Node byte limit when the fill is an entry count (`SIZE_SAFETY_LIMIT`).
const SAFETY: usize = 8192;
/// Largest entry-count fill (quicklist's `FILL_MAX`).
const FILL_MAX: i64 = (1 << 15) - 1;

#[derive(Clone, Debug)]
pub struct List {
    repr: Repr,
}

/// A node size limit: `list-max-listpack-size`, clamped as quicklist's
/// `quicklistSetFill` does. Writes take the current one from the config (Redis
/// fixes it when a list is created; which one applies only changes where nodes
/// split, never a reply), so a list stays one 16-byte box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill(i16);

impl Default for Fill {
    /// Redis's default, -2 (8 KiB nodes).
    fn default() -> Self {
        Fill(-2)
    }
}

impl Fill {
    pub fn new(list_max_listpack_size: i64) -> Fill {
        Fill(list_max_listpack_size.clamp(-5, FILL_MAX) as i16)
    }

    /// Whether `node` may grow by an entry of `add` bytes (quicklist's
    /// `_quicklistNodeAllowInsert`). An empty node takes anything.
    fn fits(self, node: &Node, add: usize) -> bool {
        let count = node.count();
        if count == 0 {
            return true;
        }
        // A node's 8-byte header is one byte more than a listpack's header and
        // end byte, so nodes split where Redis's do give or take one byte, and
        // a full node never leaves the limit's size class.
        let size = node.bytes() + add;
        if self.0 < 0 {
            let level = (-(self.0 as i64) - 1).clamp(0, 4) as usize;
            size <= LEVELS[level]
        } else {
            size <= SAFETY && count < self.0 as usize
        }
    }
}

#[derive(Clone, Debug)]
enum Repr {
    /// At most one node (an empty node for an empty list).
    One(Node),
    /// Two or more nodes, none empty.
    Many(Box<Many>),
}

#[derive(Clone, Debug)]
struct Many {
    nodes: VecDeque<Node>,
    /// Total entries.
    len: usize,
}

impl Default for List {
    fn default() -> Self {
        List {
            repr: Repr::One(Node::default()),
        }
    }
}

impl PartialEq for List {
    /// Same elements in the same order, however they are split into nodes.
    fn eq(&self, other: &List) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::One(n) => n.count(),
            Repr::Many(m) => m.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends at the tail (default node size).
    pub fn push_back(&mut self, v: Bytes) {
        self.push(&v, true, Fill::default());
    }

    /// Prepends at the head (default node size).
    pub fn push_front(&mut self, v: Bytes) {
        self.push(&v, false, Fill::default());
    }

    /// Calls `f` with every element, head to tail.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for e in self.iter() {
            e.with_bytes(&mut f);
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate bytes used: the list box, node buffers and node handles.
    pub fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::One(n) => 16 + n.capacity(),
            Repr::Many(m) => {
                16 + 48
                    + m.nodes.capacity() * 16
                    + m.nodes.iter().map(Node::capacity).sum::<usize>()
            }
        }
    }

    // -----------------------------------------------------------------------
    // Nodes

    fn node_count(&self) -> usize {
        match &self.repr {
            Repr::One(_) => 1,
            Repr::Many(m) => m.nodes.len(),
        }
    }

    fn node(&self, i: usize) -> Option<&Node> {
        match &self.repr {
            Repr::One(n) => (i == 0).then_some(n),
            Repr::Many(m) => m.nodes.get(i),
        }
    }

    /// Runs `f` on node `i`, keeping the total length in step and dropping the
    /// node if `f` emptied it.
    fn edit<R>(&mut self, i: usize, f: impl FnOnce(&mut Node) -> R) -> Option<R> {
        let (before, after, r) = {
            let n = match &mut self.repr {
                Repr::One(n) => (i == 0).then_some(n),
                Repr::Many(m) => m.nodes.get_mut(i),
            }?;
            let before = n.count();
            let r = f(n);
            (before, n.count(), r)
        };
        if let Repr::Many(m) = &mut self.repr {
            m.len = (m.len + after).saturating_sub(before);
        }
        if after == 0 {
            self.remove_node(i);
        }
        Some(r)
    }

    /// Inserts a (non-empty) node before node `i`.
    fn insert_node(&mut self, i: usize, node: Node) {
        match &mut self.repr {
            Repr::One(first) if first.count() == 0 => *first = node,
            Repr::One(first) => {
                let first = std::mem::take(first);
                let len = first.count() + node.count();
                let mut nodes = VecDeque::with_capacity(4);
                nodes.push_back(first);
                nodes.insert(i.min(1), node);
                self.repr = Repr::Many(Box::new(Many { nodes, len }));
            }
            Repr::Many(m) => {
                m.len += node.count();
                m.nodes.insert(i.min(m.nodes.len()), node);
            }
        }
    }

    /// Removes node `i`; a list left with one node keeps it inline.
    fn remove_node(&mut self, i: usize) {
        match &mut self.repr {
            Repr::One(n) => {
                if i == 0 {
                    *n = Node::default();
                }
            }
            Repr::Many(m) => {
                if let Some(n) = m.nodes.remove(i) {
                    m.len = m.len.saturating_sub(n.count());
                }
                if m.nodes.len() <= 1 {
                    let last = m.nodes.pop_front().unwrap_or_default();
                    self.repr = Repr::One(last);
                }
            }
        }
    }

    /// The node holding entry `index` and the entry's index within it, found
    /// by skipping whole nodes from the nearer end of the list.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        let len = self.len();
        if index >= len {
            return None;
        }
        let nodes = self.node_count();
        if index < len / 2 {
            let mut left = index;
            for i in 0..nodes {
                let c = self.node(i)?.count();
                if left < c {
                    return Some((i, left));
                }
                left -= c;
            }
        } else {
            let mut left = len - 1 - index;
            for i in (0..nodes).rev() {
                let c = self.node(i)?.count();
                if left < c {
                    return Some((i, c - 1 - left));
                }
                left -= c;
            }
        }
        None
    }

    // -----------------------------------------------------------------------
    // Reads

    /// Elements head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Elements from `index` on, towards the tail or (`back`) towards the head.
    /// Empty when `index` is out of range.
    pub fn iter_from(&self, index: usize, back: bool) -> Iter<'_> {
        let mut it = Iter {
            list: self,
            node: 0,
            pos: 0,
            left: 0,
            back,
        };
        if let Some((i, j)) = self.locate(index) {
            let Some(n) = self.node(i) else { return it };
            let p = n.offset(j);
            it.node = i;
            if back {
                it.pos = n.at(p).map_or(n.end(), |(_, next)| next);
                it.left = index + 1;
            } else {
                it.pos = p;
                it.left = self.len() - index;
            }
        }
        it
    }

    /// The element at `index` (0 is the head).
    pub fn get(&self, index: usize) -> Option<Bytes> {
        let (i, j) = self.locate(index)?;
        let n = self.node(i)?;
        n.at(n.offset(j)).map(|(e, _)| e.to_bytes())
    }

    /// Index of the first element equal to `probe`, head to tail (LINSERT's pivot).
    fn find(&self, probe: &Probe) -> Option<(usize, usize, usize)> {
        for i in 0..self.node_count() {
            let n = self.node(i)?;
            for (j, (p, e)) in n.iter().enumerate() {
                if e.matches(probe) {
                    return Some((i, j, p));
                }
            }
        }
        None
    }

    // -----------------------------------------------------------------------
    // Writes

    /// Pushes `v` at the tail (`back`) or the head.
    pub fn push(&mut self, v: &[u8], back: bool, fill: Fill) {
        let add = encoded_len(v);
        let i = if back { self.node_count() - 1 } else { 0 };
        let fits = self.node(i).is_some_and(|n| fill.fits(n, add));
        if fits {
            self.edit(i, |n| n.insert(if back { n.end() } else { HEADER }, v));
        } else {
            let mut n = Node::default();
            n.insert(HEADER, v);
            self.insert_node(if back { i + 1 } else { 0 }, n);
        }
    }

    /// Removes and returns the tail (`back`) or head element.
    pub fn pop(&mut self, back: bool) -> Option<Bytes> {
        if self.is_empty() {
            return None;
        }
        let i = if back { self.node_count() - 1 } else { 0 };
        self.edit(i, |n| {
            let p = if back { n.before(n.end())? } else { HEADER };
            let (e, next) = n.at(p)?;
            let v = e.to_bytes();
            n.splice(p..next, 1, &[], 0);
            Some(v)
        })
        .flatten()
    }

    pub fn pop_front(&mut self) -> Option<Bytes> {
        self.pop(false)
    }

    pub fn pop_back(&mut self) -> Option<Bytes> {
        self.pop(true)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, v: &[u8], fill: Fill) -> bool {
        let Some((i, j)) = self.locate(index) else {
            return false;
        };
        let Some(n) = self.node(i) else { return false };
        let p = n.offset(j);
        let Some((_, next)) = n.at(p) else {
            return false;
        };
        let add = encoded_len(v);
        let old = next - p;
        if add <= old || n.count() == 1 || fill.fits(n, add - old) {
            let mut e = Vec::with_capacity(add);
            pack::encode(v, &mut e);
            self.edit(i, |n| n.splice(p..next, 1, &e, 1));
        } else {
            // Too big for its node: take it out and insert it the way LINSERT
            // does, splitting the node.
            self.edit(i, |n| n.splice(p..next, 1, &[], 0));
            self.insert_at(index, v, fill);
        }
        true
    }

    /// Inserts `v` so that it becomes element `index` (`index == len` appends).
    pub fn insert_at(&mut self, index: usize, v: &[u8], fill: Fill) {
        let len = self.len();
        if index == 0 || index >= len {
            self.push(v, index > 0, fill);
            return;
        }
        if let Some((i, j)) = self.locate(index) {
            let p = self.node(i).map_or(HEADER, |n| n.offset(j));
            self.insert_in(i, j, p, v, fill);
        }
    }

    /// Inserts `v` into node `i` before its entry `j` (at offset `p`; `j` may be
    /// the node's count, for its end). A full node hands the element to a
    /// neighbour with room, or is split (quicklist's `_quicklistInsert`).
    fn insert_in(&mut self, i: usize, j: usize, p: usize, v: &[u8], fill: Fill) {
        let add = encoded_len(v);
        let Some(n) = self.node(i) else { return };
        if fill.fits(n, add) {
            self.edit(i, |n| n.insert(p, v));
            return;
        }
        let count = n.count();
        if j >= count {
            let next_fits = self.node(i + 1).is_some_and(|m| fill.fits(m, add));
            if next_fits {
                self.edit(i + 1, |m| m.insert(HEADER, v));
            } else {
                self.insert_node(i + 1, single(v));
            }
        } else if j == 0 {
            let prev_fits = i > 0 && self.node(i - 1).is_some_and(|m| fill.fits(m, add));
            if prev_fits {
                self.edit(i - 1, |m| m.insert(m.end(), v));
            } else {
                self.insert_node(i, single(v));
            }
        } else {
            let right = self.edit(i, |n| n.split_off(p, j));
            if let Some(right) = right {
                self.insert_node(i + 1, right);
            }
            let left_fits = self.node(i).is_some_and(|m| fill.fits(m, add));
            let right_fits = self.node(i + 1).is_some_and(|m| fill.fits(m, add));
            if left_fits {
                self.edit(i, |m| m.insert(m.end(), v));
            } else if right_fits {
                self.edit(i + 1, |m| m.insert(HEADER, v));
            } else {
                self.insert_node(i + 1, single(v));
            }
        }
    }

    /// LINSERT: inserts `v` before (or `after`) the first element equal to
    /// `pivot`. Returns false when there is no such element.
    pub fn insert_pivot(&mut self, pivot: &[u8], v: &[u8], after: bool, fill: Fill) -> bool {
        let Some((i, j, p)) = self.find(&Probe::new(pivot)) else {
            return false;
        };
        if after {
            let next = self
                .node(i)
                .and_then(|n| n.at(p))
                .map_or(p, |(_, next)| next);
            self.insert_in(i, j + 1, next, v, fill);
        } else {
            self.insert_in(i, j, p, v, fill);
        }
        true
    }

    /// Removes `count` elements starting at index `start`.
    pub fn del_range(&mut self, start: usize, count: usize) {
        let Some((mut i, mut j)) = self.locate(start) else {
            return;
        };
        let mut left = count.min(self.len() - start);
        while left > 0 {
            let Some(c) = self.node(i).map(Node::count) else {
                break;
            };
            let take = (c - j).min(left);
            if j == 0 && take == c {
                self.remove_node(i);
            } else {
                self.edit(i, |n| {
                    let a = n.offset(j);
                    let b = n.offset(j + take);
                    n.splice(a..b, take, &[], 0);
                });
                i += 1;
            }
            left -= take;
            j = 0;
        }
    }

    /// Removes and returns `count` elements from the head, or from the tail
    /// (`back`, returned tail first, as RPOP with a count replies).
    pub fn pop_many(&mut self, count: usize, back: bool) -> Vec<Bytes> {
        let len = self.len();
        let count = count.min(len);
        let start = if back { len - count } else { 0 };
        let from = if back { len.saturating_sub(1) } else { 0 };
        let out: Vec<Bytes> = self
            .iter_from(from, back)
            .take(count)
            .map(Elem::to_bytes)
            .collect();
        self.del_range(start, count);
        out
    }

    /// LREM: removes elements equal to `v`, at most `limit` of them (0: all),
    /// from the head or (`from_tail`) from the tail. Returns how many.
    pub fn remove(&mut self, v: &[u8], limit: usize, from_tail: bool) -> usize {
        let probe = Probe::new(v);
        let want = |removed: usize| {
            if limit == 0 {
                usize::MAX
            } else {
                limit - removed
            }
        };
        let mut removed = 0;
        if from_tail {
            for i in (0..self.node_count()).rev() {
                if want(removed) == 0 {
                    break;
                }
                removed += self.remove_in_node(i, &probe, want(removed), true).0;
            }
        } else {
            let mut i = 0;
            while i < self.node_count() && want(removed) > 0 && !self.is_empty() {
                let (k, emptied) = self.remove_in_node(i, &probe, want(removed), false);
                removed += k;
                if !emptied {
                    i += 1;
                }
            }
        }
        removed
    }

    /// Removes up to `want` entries equal to `probe` from node `i`, scanning
    /// from its tail or head, rebuilding the node once. Returns how many were
    /// removed and whether the node went away.
    fn remove_in_node(
        &mut self,
        i: usize,
        probe: &Probe,
        want: usize,
        from_tail: bool,
    ) -> (usize, bool) {
        let Some(n) = self.node(i) else {
            return (0, false);
        };
        let mut hits: Vec<(usize, usize)> = Vec::new();
        if from_tail {
            let mut p = n.end();
            while hits.len() < want {
                let Some(start) = n.before(p) else { break };
                if n.at(start).is_some_and(|(e, _)| e.matches(probe)) {
                    hits.push((start, p));
                }
                p = start;
            }
            hits.reverse();
        } else {
            let mut p = HEADER;
            while hits.len() < want {
                let Some((e, next)) = n.at(p) else { break };
                if e.matches(probe) {
                    hits.push((p, next));
                }
                p = next;
            }
        }
        if hits.is_empty() {
            return (0, false);
        }
        let mut kept = Vec::with_capacity(n.bytes());
        let mut at = HEADER;
        for &(a, b) in &hits {
            kept.extend_from_slice(n.raw(at..a));
            at = b;
        }
        kept.extend_from_slice(n.raw(at..n.end()));
        let k = hits.len();
        let remaining = n.count() - k;
        self.edit(i, |n| *n = Node::from_entries(&kept, remaining));
        (k, remaining == 0)
    }

    /// Checks the representation's invariants (tests).
    #[cfg(test)]
    fn check(&self) {
        match &self.repr {
            Repr::One(n) => assert_eq!(n.iter().count(), n.count()),
            Repr::Many(m) => {
                assert!(m.nodes.len() >= 2, "Many with {} nodes", m.nodes.len());
                let mut total = 0;
                for n in &m.nodes {
                    assert!(n.count() > 0, "empty node");
                    assert_eq!(n.iter().count(), n.count());
                    total += n.count();
                }
                assert_eq!(total, m.len);
            }
        }
    }
}

/// A node holding just `v`.
fn single(v: &[u8]) -> Node {
    let mut n = Node::default();
    n.insert(HEADER, v);
    n
}

/// Walks a list from one element towards the tail or the head.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    /// Forward: offset of the next entry; backward: offset just past it.
    pos: usize,
    left: usize,
    back: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let list: &'a List = self.list;
        loop {
            let n = list.node(self.node)?;
            if self.back {
                if let Some(p) = n.before(self.pos) {
                    self.pos = p;
                    self.left -= 1;
                    return n.at(p).map(|(e, _)| e);
                }
                self.node = self.node.checked_sub(1)?;
                self.pos = list.node(self.node)?.end();
            } else {
                if let Some((e, next)) = n.at(self.pos) {
                    self.pos = next;
                    self.left -= 1;
                    return Some(e);
                }
                self.node += 1;
                self.pos = HEADER;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn all(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(&e.to_bytes()).into_owned())
            .collect()
    }

    #[test]
    fn a_list_is_two_words() {
        // The boxed list is one 16-byte allocation (the node array only exists
        // once there are two nodes); see the module doc for the comparison.
        assert_eq!(std::mem::size_of::<List>(), 16);
        assert_eq!(std::mem::size_of::<Node>(), 16);
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        assert!(l.is_empty());
        l.push_back(b("b"));
        l.push_front(b("a"));
        l.push_back(b("3"));
        assert_eq!(all(&l), ["a", "b", "3"]);
        assert_eq!(l.pop_back(), Some(b("3")));
        assert_eq!(l.pop_front(), Some(b("a")));
        assert_eq!(l.pop_front(), Some(b("b")));
        assert_eq!(l.pop_front(), None);
        assert!(l.is_empty());
        l.check();
    }

    #[test]
    fn nodes_split_by_count_and_by_size() {
        let mut l = List::new();
        for i in 0..10 {
            l.push(i.to_string().as_bytes(), true, Fill::new(4));
        }
        l.check();
        assert_eq!(l.node_count(), 3);
        let mut l = List::new();
        for _ in 0..100 {
            l.push(&[b'x'; 100], true, Fill::new(-1));
        }
        l.check();
        // 4 KiB nodes of 103-byte entries: 39 per node.
        assert_eq!(l.node(0).map(Node::count), Some(39));
        // A huge element gets a node of its own.
        l.push_front(Bytes::from(vec![b'y'; 10_000]));
        assert_eq!(l.node(0).map(Node::count), Some(1));
        l.check();
    }

    #[test]
    fn many_shrinks_back_to_one() {
        let mut l = List::new();
        for i in 0..5 {
            l.push(i.to_string().as_bytes(), true, Fill::new(2));
        }
        assert!(matches!(l.repr, Repr::Many(_)));
        for _ in 0..4 {
            l.pop_front();
            l.check();
        }
        assert!(matches!(l.repr, Repr::One(_)));
        assert_eq!(all(&l), ["4"]);
    }

    /// Every operation against a `VecDeque<Vec<u8>>` model, with small nodes
    /// so splits, merges and node removal all happen.
    #[test]
    fn random_ops_match_a_model() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for fill in [1, 2, 3, 5, -1] {
            let f = Fill::new(fill);
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for _ in 0..4000 {
                let v: Vec<u8> = match rng.gen_range(0..4) {
                    0 => rng.gen_range(-5000i64..5000).to_string().into_bytes(),
                    1 => vec![b'a' + rng.gen_range(0..3u8)],
                    2 => vec![b'z'; rng.gen_range(0..300)],
                    _ => rng.gen_range(0..3u8).to_string().into_bytes(),
                };
                let len = m.len();
                match rng.gen_range(0..10) {
                    0 => {
                        l.push(&v, true, f);
                        m.push_back(v);
                    }
                    1 => {
                        l.push(&v, false, f);
                        m.push_front(v);
                    }
                    2 => assert_eq!(l.pop(true).map(|x| x.to_vec()), m.pop_back()),
                    3 => assert_eq!(l.pop(false).map(|x| x.to_vec()), m.pop_front()),
                    4 if len > 0 => {
                        let i = rng.gen_range(0..len);
                        assert!(l.set(i, &v, f));
                        m[i] = v;
                    }
                    5 => {
                        let i = rng.gen_range(0..=len);
                        l.insert_at(i, &v, f);
                        m.insert(i, v);
                    }
                    6 => {
                        let after = rng.gen_bool(0.5);
                        let pivot = m.iter().position(|x| x == &v);
                        let x = b"new".to_vec();
                        assert_eq!(l.insert_pivot(&v, &x, after, f), pivot.is_some());
                        if let Some(p) = pivot {
                            m.insert(if after { p + 1 } else { p }, x);
                        }
                    }
                    7 => {
                        let limit = rng.gen_range(0..3);
                        let tail = rng.gen_bool(0.5);
                        let mut want = 0;
                        let idx: Vec<usize> = if tail {
                            (0..len).rev().collect()
                        } else {
                            (0..len).collect()
                        };
                        let mut gone = Vec::new();
                        for i in idx {
                            if m[i] == v && (limit == 0 || want < limit) {
                                gone.push(i);
                                want += 1;
                            }
                        }
                        gone.sort_unstable();
                        for i in gone.into_iter().rev() {
                            m.remove(i);
                        }
                        assert_eq!(l.remove(&v, limit, tail), want);
                    }
                    8 if len > 0 => {
                        let s = rng.gen_range(0..len);
                        let c = rng.gen_range(0..=len - s);
                        l.del_range(s, c);
                        m.drain(s..s + c);
                    }
                    9 => {
                        let c = rng.gen_range(0..4);
                        let back = rng.gen_bool(0.5);
                        let got: Vec<Vec<u8>> =
                            l.pop_many(c, back).iter().map(|x| x.to_vec()).collect();
                        let mut want = Vec::new();
                        for _ in 0..c.min(m.len()) {
                            want.extend(if back { m.pop_back() } else { m.pop_front() });
                        }
                        assert_eq!(got, want);
                    }
                    _ => {}
                }
                l.check();
                assert_eq!(l.len(), m.len());
                if rng.gen_range(0..20) == 0 {
                    let got: Vec<Vec<u8>> = l.iter().map(|e| e.to_bytes().to_vec()).collect();
                    assert_eq!(got, Vec::from(m.clone()));
                    for i in 0..m.len() {
                        assert_eq!(l.get(i).map(|x| x.to_vec()).as_ref(), m.get(i));
                    }
                    let back: Vec<Vec<u8>> = l
                        .iter_from(m.len().saturating_sub(1), true)
                        .map(|e| e.to_bytes().to_vec())
                        .collect();
                    let mut rev = Vec::from(m.clone());
                    rev.reverse();
                    assert_eq!(back, rev);
                }
            }
        }
    }

    #[test]
    fn equality_ignores_node_layout() {
        let mut a = List::new();
        let mut b2 = List::new();
        for i in 0..50 {
            a.push(i.to_string().as_bytes(), true, Fill::new(1));
            b2.push(i.to_string().as_bytes(), true, Fill::new(-5));
        }
        assert_eq!(a, b2);
        b2.pop_back();
        assert_ne!(a, b2);
    }
}
