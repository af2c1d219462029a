//! Redis's `intset` (intset.c): a sorted array of distinct integers stored at
//! the narrowest width (16, 32 or 64 bits) that holds every member. Inserting a
//! value outside the current width upgrades the whole array; removals never
//! downgrade it, as in Redis.
//!
//! Representation: one boxed byte buffer, a width byte (2, 4 or 8) followed by
//! the members in ascending order, little-endian, each `width` bytes (an empty
//! buffer is an empty set of width 2). The handle is 16 bytes, so a set fits in
//! a [`Value`](crate::value::Value) without a box of its own. The buffer is
//! reallocated to its exact length on every change, as Redis reallocates its
//! intset blob: memory is the point of this encoding, and the sets are small
//! (`set-max-intset-entries`, 512 by default).

/// The packed integers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntSet(Box<[u8]>);

/// The width a member needs.
fn width_of(x: i64) -> usize {
    if i16::try_from(x).is_ok() {
        2
    } else if i32::try_from(x).is_ok() {
        4
    } else {
        8
    }
}

/// Reads a little-endian signed integer of `b.len()` (2, 4 or 8) bytes.
fn read(b: &[u8]) -> i64 {
    match *b {
        [a, b] => i64::from(i16::from_le_bytes([a, b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => i64::from_le_bytes([a, b, c, d, e, f, g, h]),
        // Unreachable: every member is 2, 4 or 8 bytes.
        _ => 0,
    }
}

/// `x` as `width` little-endian bytes (it fits: callers upgrade first).
fn write(out: &mut Vec<u8>, x: i64, width: usize) {
    out.extend_from_slice(&x.to_le_bytes()[..width]);
}

impl IntSet {
    pub fn len(&self) -> usize {
        self.0.len().saturating_sub(1) / self.width()
    }

    pub fn is_empty(&self) -> bool {
        self.0.len() <= 1
    }

    /// Bytes per member: 2, 4 or 8 (Redis's `encoding` field).
    pub fn width(&self) -> usize {
        match self.0.first() {
            Some(&w) if w == 4 || w == 8 => w as usize,
            _ => 2,
        }
    }

    /// The member at sorted position `i`.
    pub fn get(&self, i: usize) -> Option<i64> {
        let w = self.width();
        let at = i.checked_mul(w)?.checked_add(1)?;
        self.0.get(at..at + w).map(read)
    }

    /// Where `x` is (`Ok`) or would go (`Err`).
    fn search(&self, x: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).unwrap_or(i64::MAX).cmp(&x) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, x: i64) -> bool {
        width_of(x) <= self.width() && self.search(x).is_ok()
    }

    /// Adds `x`; true when it is new. Upgrades the width when `x` needs it.
    pub fn insert(&mut self, x: i64) -> bool {
        let needed = width_of(x);
        let width = self.width().max(needed);
        let pos = if needed > self.width() {
            // The value is outside the current range, so it is new and goes
            // to one end (intsetUpgradeAndAdd).
            if x < 0 {
                0
            } else {
                self.len()
            }
        } else {
            match self.search(x) {
                Ok(_) => return false,
                Err(pos) => pos,
            }
        };
        let mut out = Vec::with_capacity(1 + (self.len() + 1) * width);
        out.push(width as u8);
        if width == self.width() && !self.0.is_empty() {
            // Same width: copy the bytes around the new member.
            let at = 1 + pos * width;
            out.extend_from_slice(&self.0[1..at]);
            write(&mut out, x, width);
            out.extend_from_slice(&self.0[at..]);
        } else {
            for (i, m) in self.iter().enumerate() {
                if i == pos {
                    write(&mut out, x, width);
                }
                write(&mut out, m, width);
            }
            if pos == self.len() {
                write(&mut out, x, width);
            }
        }
        self.0 = out.into_boxed_slice();
        true
    }

    /// Removes `x`; true when it was there.
    pub fn remove(&mut self, x: i64) -> bool {
        if width_of(x) > self.width() {
            return false;
        }
        match self.search(x) {
            Ok(pos) => self.remove_at(pos).is_some(),
            Err(_) => false,
        }
    }

    /// Removes and returns the member at sorted position `i`.
    pub fn remove_at(&mut self, i: usize) -> Option<i64> {
        let x = self.get(i)?;
        let w = self.width();
        let at = 1 + i * w;
        let mut out = Vec::with_capacity(self.0.len() - w);
        out.extend_from_slice(&self.0[..at]);
        out.extend_from_slice(&self.0[at + w..]);
        self.0 = out.into_boxed_slice();
        Some(x)
    }

    /// The members in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { set: self, pos: 0 }
    }

    /// Heap bytes of the member array.
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

/// Ascending iterator over an [`IntSet`].
pub struct Iter<'a> {
    set: &'a IntSet,
    pos: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        let x = self.set.get(self.pos)?;
        self.pos += 1;
        Some(x)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.set.len().saturating_sub(self.pos);
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_distinct_and_upgrades() {
        let mut s = IntSet::default();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 70_000]);
        assert!(s.contains(70_000));
        assert!(!s.contains(6));
        // Removals never downgrade.
        assert!(s.remove(i64::MIN));
        assert!(s.remove(70_000));
        assert!(!s.remove(70_000));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 5]);
        assert_eq!(s.remove_at(1), Some(5));
        assert_eq!(s.remove_at(1), None);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn out_of_width_lookups() {
        let mut s = IntSet::default();
        s.insert(1);
        assert!(!s.contains(1 << 40));
        assert!(!s.remove(1 << 40));
        assert!(!s.contains(-(1 << 20)));
        // Boundaries of each width.
        for x in [
            i16::MIN as i64,
            i16::MAX as i64,
            i16::MAX as i64 + 1,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
        ] {
            assert!(s.insert(x));
            assert!(s.contains(x));
        }
        let v: Vec<i64> = s.iter().collect();
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(v, sorted);
    }

    /// Against a BTreeSet, with values of every width.
    #[test]
    fn agrees_with_a_btreeset() {
        let mut s = IntSet::default();
        let mut model = std::collections::BTreeSet::new();
        let mut x: u64 = 7;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match x % 4 {
                0 => (x >> 8) as i64 % 300,
                1 => (x >> 8) as i64 % 100_000,
                2 => ((x >> 8) as i64 % 5_000_000_000) - 2_500_000_000,
                _ => -((x >> 8) as i64 % 40_000),
            };
            if x % 3 == 0 {
                assert_eq!(s.remove(v), model.remove(&v));
            } else {
                assert_eq!(s.insert(v), model.insert(v));
            }
            assert_eq!(s.contains(v), model.contains(&v));
            assert_eq!(s.len(), model.len());
        }
        assert!(s.iter().eq(model.iter().copied()));
    }

    #[test]
    fn allocation_is_exact() {
        let mut s = IntSet::default();
        for i in 0..100 {
            s.insert(i);
        }
        assert_eq!(s.heap_bytes(), 201);
        s.remove(3);
        assert_eq!(s.heap_bytes(), 199);
        assert_eq!(std::mem::size_of::<IntSet>(), 16);
    }
}
