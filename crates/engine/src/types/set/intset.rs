//! Redis's `intset` (intset.c): a sorted array of distinct integers stored at
//! the narrowest width (16, 32 or 64 bits) that holds every member. Inserting a
//! value outside the current width upgrades the whole array; removals never
//! downgrade it, as in Redis.
//!
//! The arrays are kept at their exact length (`reserve_exact` on insert,
//! `shrink_to_fit` on removal), as Redis reallocates its intset blob to the exact
//! size on every change: memory is the point of this encoding, and the sets are
//! small (`set-max-intset-entries`, 512 by default).

/// The packed integers, one variant per width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntSet {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::I16(Vec::new())
    }
}

/// Runs `$body` with `$v` bound to the variant's vector, whatever its width.
macro_rules! each {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            IntSet::I16($v) => $body,
            IntSet::I32($v) => $body,
            IntSet::I64($v) => $body,
        }
    };
}

/// Inserts `x` at its sorted place, growing the allocation by exactly one.
fn insert_sorted<T: Ord + Copy>(v: &mut Vec<T>, x: T) -> bool {
    match v.binary_search(&x) {
        Ok(_) => false,
        Err(pos) => {
            v.reserve_exact(1);
            v.insert(pos, x);
            true
        }
    }
}

fn remove_sorted<T: Ord + Copy>(v: &mut Vec<T>, x: T) -> bool {
    match v.binary_search(&x) {
        Ok(pos) => {
            v.remove(pos);
            v.shrink_to_fit();
            true
        }
        Err(_) => false,
    }
}

impl IntSet {
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per member: 2, 4 or 8 (Redis's `encoding` field).
    pub fn width(&self) -> usize {
        match self {
            IntSet::I16(_) => 2,
            IntSet::I32(_) => 4,
            IntSet::I64(_) => 8,
        }
    }

    /// The member at sorted position `i`.
    // (The conversion is the identity for the 64-bit variant.)
    #[allow(clippy::useless_conversion)]
    pub fn get(&self, i: usize) -> Option<i64> {
        each!(self, v => v.get(i).map(|&x| i64::from(x)))
    }

    pub fn contains(&self, x: i64) -> bool {
        match self {
            IntSet::I16(v) => i16::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::I32(v) => i32::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::I64(v) => v.binary_search(&x).is_ok(),
        }
    }

    /// Adds `x`; true when it is new. Upgrades the width when `x` needs it.
    pub fn insert(&mut self, x: i64) -> bool {
        let needed = if i16::try_from(x).is_ok() {
            2
        } else if i32::try_from(x).is_ok() {
            4
        } else {
            8
        };
        if needed > self.width() {
            // The value is outside the current range, so it is new and goes
            // to one end (intsetUpgradeAndAdd).
            self.upgrade(needed);
        }
        match self {
            IntSet::I16(v) => insert_sorted(v, x as i16),
            IntSet::I32(v) => insert_sorted(v, x as i32),
            IntSet::I64(v) => insert_sorted(v, x),
        }
    }

    /// Widens every member to `width` bytes (4 or 8).
    fn upgrade(&mut self, width: usize) {
        let mut wide: Vec<i64> = Vec::with_capacity(self.len() + 1);
        wide.extend(self.iter());
        *self = if width == 4 {
            let mut v = Vec::with_capacity(wide.len() + 1);
            v.extend(wide.iter().map(|&x| x as i32));
            IntSet::I32(v)
        } else {
            IntSet::I64(wide)
        };
    }

    /// Removes `x`; true when it was there.
    pub fn remove(&mut self, x: i64) -> bool {
        match self {
            IntSet::I16(v) => i16::try_from(x).is_ok_and(|x| remove_sorted(v, x)),
            IntSet::I32(v) => i32::try_from(x).is_ok_and(|x| remove_sorted(v, x)),
            IntSet::I64(v) => remove_sorted(v, x),
        }
    }

    /// Removes and returns the member at sorted position `i`.
    #[allow(clippy::useless_conversion)]
    pub fn remove_at(&mut self, i: usize) -> Option<i64> {
        each!(self, v => {
            if i < v.len() {
                let x = i64::from(v.remove(i));
                v.shrink_to_fit();
                Some(x)
            } else {
                None
            }
        })
    }

    /// The members in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { set: self, pos: 0 }
    }

    /// Heap bytes of the member array.
    pub fn heap_bytes(&self) -> usize {
        each!(self, v => std::mem::size_of_val(v.as_slice()))
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

    #[test]
    fn allocation_is_exact() {
        let mut s = IntSet::default();
        for i in 0..100 {
            s.insert(i);
        }
        assert_eq!(s.heap_bytes(), 200);
        if let IntSet::I16(v) = &s {
            assert_eq!(v.capacity(), 100);
        }
        s.remove(3);
        if let IntSet::I16(v) = &s {
            assert_eq!(v.capacity(), 99);
        }
    }
}
