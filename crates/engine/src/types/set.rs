//! The set type (t_set.c, intset.c): `intset` while every member is an integer
//! and there are at most `set-max-intset-entries`, `hashtable` otherwise. Redis
//! 7.0 has no listpack sets, and never converts a hashtable back to an intset
//! (except where a command builds a new set, which the commands do explicitly).
//!
//! Representation: [`IntSet`] (sorted packed integers at 16, 32 or 64 bits, as
//! Redis's intset) and [`Table`] (16-byte members, short ones inline, in a dense
//! vector with a hash index of positions; see its module for why). "Integer" means what Redis's `string2ll`
//! accepts ([`crate::util::parse_i64`]): `-0`, `+1` or `01` are strings.

mod intset;
mod member;
mod table;

pub use intset::IntSet;
pub use table::Table;

use bytes::Bytes;

#[derive(Clone, Debug, PartialEq)]
pub enum Set {
    Intset(IntSet),
    /// Boxed so that the common small intset keeps the set itself small.
    Table(Box<Table>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(IntSet::default())
    }
}

/// One member, borrowed from a set: intset members stay integers until someone
/// needs their text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// Calls `f` with the member's bytes (an integer in decimal).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            Elem::Int(i) => f(itoa::Buffer::new().format(i).as_bytes()),
            Elem::Str(s) => f(s),
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match *self {
            Elem::Int(i) => crate::util::fmt_i64(i),
            Elem::Str(s) => Bytes::copy_from_slice(s),
        }
    }
}

/// The most entries an intset may hold whatever the configuration (Redis caps
/// `set-max-intset-entries` at 2^30 for the intset's internals).
const INTSET_HARD_MAX: usize = 1 << 30;

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
            Set::Table(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `member`; true when it is new. Converts to the table encoding when
    /// the member is not an integer or `t`'s intset limit is passed.
    pub fn insert(&mut self, member: Bytes, t: &super::Thresholds) -> bool {
        self.add(&member, t)
    }

    /// [`Set::insert`] from a borrowed member (Redis's `setTypeAdd`).
    pub fn add(&mut self, m: &[u8], t: &super::Thresholds) -> bool {
        match self {
            Set::Table(tb) => tb.insert(m),
            Set::Intset(is) => match crate::util::parse_i64(m) {
                Some(i) => {
                    if !is.insert(i) {
                        return false;
                    }
                    if is.len() > t.set_max_intset_entries.min(INTSET_HARD_MAX) {
                        self.convert();
                    }
                    true
                }
                None => {
                    self.convert();
                    self.add(m, t)
                }
            },
        }
    }

    /// Adds an element taken from another set.
    pub fn add_elem(&mut self, e: Elem<'_>, t: &super::Thresholds) -> bool {
        match (e, &mut *self) {
            (Elem::Int(i), Set::Intset(is)) => {
                if !is.insert(i) {
                    return false;
                }
                if is.len() > t.set_max_intset_entries.min(INTSET_HARD_MAX) {
                    self.convert();
                }
                true
            }
            _ => e.with_bytes(|b| self.add(b, t)),
        }
    }

    /// Intset to table (`setTypeConvert`), presized for the members.
    fn convert(&mut self) {
        if let Set::Intset(is) = self {
            let mut tb = Table::with_capacity(is.len() + 1);
            let mut buf = itoa::Buffer::new();
            for i in is.iter() {
                tb.insert(buf.format(i).as_bytes());
            }
            *self = Set::Table(Box::new(tb));
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Table(tb) => tb.contains(m),
            Set::Intset(is) => crate::util::parse_i64(m).is_some_and(|i| is.contains(i)),
        }
    }

    pub fn contains_elem(&self, e: Elem<'_>) -> bool {
        match (e, self) {
            (Elem::Int(i), Set::Intset(is)) => is.contains(i),
            _ => e.with_bytes(|b| self.contains(b)),
        }
    }

    /// Removes `m`; true when it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Table(tb) => tb.remove(m),
            Set::Intset(is) => crate::util::parse_i64(m).is_some_and(|i| is.remove(i)),
        }
    }

    pub fn remove_elem(&mut self, e: Elem<'_>) -> bool {
        match (e, &mut *self) {
            (Elem::Int(i), Set::Intset(is)) => is.remove(i),
            _ => e.with_bytes(|b| self.remove(b)),
        }
    }

    /// The member at position `i` (sorted order for an intset, the table's
    /// position order otherwise): what random picks and SSCAN index.
    pub fn get(&self, i: usize) -> Option<Elem<'_>> {
        match self {
            Set::Intset(is) => is.get(i).map(Elem::Int),
            Set::Table(tb) => tb.get(i).map(Elem::Str),
        }
    }

    /// Removes the member at position `i` and returns it. In a table the last
    /// member moves into position `i`.
    pub fn remove_at(&mut self, i: usize) -> Option<Bytes> {
        match self {
            Set::Intset(is) => is.remove_at(i).map(crate::util::fmt_i64),
            Set::Table(tb) => tb.remove_at(i).map(Bytes::from),
        }
    }

    /// The members in position order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Intset(is) => Iter::Int(is.iter()),
            Set::Table(tb) => Iter::Str(tb.entries().iter()),
        }
    }

    /// Calls `f` with every member (integers in their decimal form).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Intset(v) => {
                let mut buf = itoa::Buffer::new();
                v.iter().for_each(|i| f(buf.format(i).as_bytes()));
            }
            Set::Table(m) => m.iter().for_each(f),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn mem_usage(&self) -> usize {
        let own = std::mem::size_of::<Set>();
        match self {
            Set::Intset(is) => own + is.heap_bytes(),
            Set::Table(tb) => own + std::mem::size_of::<Table>() + tb.heap_bytes(),
        }
    }
}

/// Iterator over a set's members as [`Elem`]s.
pub enum Iter<'a> {
    Int(intset::Iter<'a>),
    Str(std::slice::Iter<'a, member::Member>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            Iter::Int(it) => it.next().map(Elem::Int),
            Iter::Str(it) => it.next().map(|m| Elem::Str(m.as_bytes())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Int(it) => it.size_hint(),
            Iter::Str(it) => it.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Thresholds;

    fn t(max: usize) -> Thresholds {
        Thresholds {
            set_max_intset_entries: max,
            ..Thresholds::default()
        }
    }

    fn members(s: &Set) -> Vec<String> {
        let mut v = Vec::new();
        s.for_each(|m| v.push(String::from_utf8_lossy(m).into_owned()));
        v
    }

    #[test]
    fn intset_until_a_string_or_the_limit() {
        let th = t(3);
        let mut s = Set::new();
        assert!(s.add(b"3", &th));
        assert!(s.add(b"-1", &th));
        assert!(!s.add(b"3", &th));
        assert!(s.add(b"2", &th));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(members(&s), ["-1", "2", "3"]);
        // The fourth integer passes the limit of 3.
        assert!(s.add(b"10", &th));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 4);
        assert!(s.contains(b"10") && s.contains(b"-1"));

        let mut s = Set::new();
        s.add(b"1", &th);
        // Not integers to string2ll: they make it a table.
        for m in ["01", "+1", "-0", " 1", "1 ", "9223372036854775808"] {
            let mut x = s.clone();
            assert!(x.add(m.as_bytes(), &th), "{m}");
            assert_eq!(x.encoding(), "hashtable", "{m}");
            assert!(x.contains(m.as_bytes()) && x.contains(b"1"));
            assert!(!s.contains(m.as_bytes()));
        }
        assert!(s.add(b"-9223372036854775808", &th));
        assert_eq!(s.encoding(), "intset");
    }

    #[test]
    fn limit_zero_converts_at_once() {
        let mut s = Set::new();
        assert!(s.add(b"1", &t(0)));
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn elems_and_positions() {
        let th = t(512);
        let mut s = Set::new();
        for m in ["5", "1", "3"] {
            s.add(m.as_bytes(), &th);
        }
        assert_eq!(s.get(0), Some(Elem::Int(1)));
        assert!(s.contains_elem(Elem::Str(b"5")));
        assert!(!s.contains_elem(Elem::Str(b"05")));
        assert_eq!(s.remove_at(1), Some(Bytes::from_static(b"3")));
        assert!(s.remove_elem(Elem::Int(5)));
        assert!(!s.remove(b"5"));
        assert_eq!(members(&s), ["1"]);

        s.add(b"x", &th);
        assert!(s.contains_elem(Elem::Int(1)));
        assert!(s.remove_elem(Elem::Int(1)));
        assert!(s.add_elem(Elem::Int(7), &th));
        assert_eq!(
            s.iter().map(|e| e.to_bytes()).collect::<Vec<_>>(),
            vec![Bytes::from_static(b"x"), Bytes::from_static(b"7")]
        );
    }

    #[test]
    fn equality_ignores_table_order() {
        let th = t(0);
        let (mut a, mut b) = (Set::new(), Set::new());
        for m in ["a", "b", "c"] {
            a.add(m.as_bytes(), &th);
        }
        for m in ["c", "a", "b"] {
            b.add(m.as_bytes(), &th);
        }
        assert_eq!(a, b);
    }
}
