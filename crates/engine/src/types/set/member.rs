//! One member of a table-encoded set, in 16 bytes: up to 15 bytes are stored
//! inline (most members are short: ids, names, numbers), longer ones behind a
//! thin pointer to a boxed slice.
//!
//! The layout relies on the compiler's niche filling, with no unsafe code: the
//! inline length is an enum of 16 values, so the spare values of its byte tell
//! the variants apart and the heap pointer fits beside it. A test asserts the
//! size.

/// Bytes that fit inline.
pub const INLINE_MAX: usize = 15;

/// An inline length, 0..=15 (an enum so that its other byte values are a niche).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
}

const LENS: [Len; INLINE_MAX + 1] = [
    Len::L0,
    Len::L1,
    Len::L2,
    Len::L3,
    Len::L4,
    Len::L5,
    Len::L6,
    Len::L7,
    Len::L8,
    Len::L9,
    Len::L10,
    Len::L11,
    Len::L12,
    Len::L13,
    Len::L14,
    Len::L15,
];

#[derive(Clone, PartialEq, Eq)]
pub enum Member {
    /// `data[..len]` is the member; the rest is zero.
    Inline { len: Len, data: [u8; INLINE_MAX] },
    /// A member longer than [`INLINE_MAX`].
    Heap(Box<Box<[u8]>>),
}

impl Member {
    pub fn new(b: &[u8]) -> Member {
        match LENS.get(b.len()) {
            Some(&len) => {
                let mut data = [0u8; INLINE_MAX];
                data[..b.len()].copy_from_slice(b);
                Member::Inline { len, data }
            }
            None => Member::Heap(Box::new(b.into())),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Member::Inline { len, data } => &data[..*len as usize],
            Member::Heap(b) => b,
        }
    }

    /// Heap bytes this member holds beyond its 16 bytes (allocator classes).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Member::Inline { .. } => 0,
            Member::Heap(b) => 16 + super::table::alloc_size(b.len()),
        }
    }
}

impl From<Member> for bytes::Bytes {
    fn from(m: Member) -> bytes::Bytes {
        match m {
            Member::Inline { .. } => bytes::Bytes::copy_from_slice(m.as_bytes()),
            Member::Heap(b) => bytes::Bytes::from(*b),
        }
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Member>(), 16);
    }

    #[test]
    fn round_trips() {
        for n in [0, 1, 14, 15, 16, 17, 100] {
            let b: Vec<u8> = (0..n).map(|i| (i * 7 + 1) as u8).collect();
            let m = Member::new(&b);
            assert_eq!(m.as_bytes(), &b[..]);
            assert_eq!(matches!(m, Member::Inline { .. }), n <= INLINE_MAX);
            assert_eq!(m, Member::new(&b));
            assert_eq!(bytes::Bytes::from(m.clone()), bytes::Bytes::from(b.clone()));
        }
        assert_ne!(Member::new(b"a"), Member::new(b"a\0"));
        assert_ne!(Member::new(b""), Member::new(b"\0"));
    }
}
