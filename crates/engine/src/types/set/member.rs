//! One member of a table-encoded set, in 16 bytes, with no unsafe code:
//! - up to 15 bytes inline (most members are short: ids, names, numbers);
//! - up to 4 KiB in a thin box of exactly one allocator size class (32, 48,
//!   ... 4096 bytes, jemalloc's) whose first byte (two past 256) holds the
//!   length: one allocation and no 16-byte fat pointer;
//! - longer ones behind a thin pointer to a boxed slice (two allocations; the
//!   extra 16 bytes are under 0.4% of such a member).
//!
//! The layout relies on the compiler's niche filling: the inline length is an
//! enum of 16 values, so the spare values of its byte tell the variants apart
//! and the box pointers fit beside it. A test asserts the size.

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

/// Defines the boxed size classes: `$v(Box<[u8; $n]>)` holds a little-endian
/// length ([`header`] bytes) and then the member.
macro_rules! classes {
    ($($v:ident $n:literal),*) => {
        #[derive(Clone, PartialEq, Eq)]
        pub enum Member {
            /// `data[..len]` is the member; the rest is zero.
            Inline { len: Len, data: [u8; INLINE_MAX] },
            $($v(Box<[u8; $n]>),)*
            /// A member longer than every class.
            Heap(Box<Box<[u8]>>),
        }

        impl Member {
            pub fn new(b: &[u8]) -> Member {
                if let Some(&len) = LENS.get(b.len()) {
                    let mut data = [0u8; INLINE_MAX];
                    data[..b.len()].copy_from_slice(b);
                    return Member::Inline { len, data };
                }
                $(
                    let h = header($n);
                    if b.len() + h <= $n {
                        let mut a = Box::new([0u8; $n]);
                        a[..h].copy_from_slice(&(b.len() as u16).to_le_bytes()[..h]);
                        a[h..h + b.len()].copy_from_slice(b);
                        return Member::$v(a);
                    }
                )*
                Member::Heap(Box::new(b.into()))
            }

            pub fn as_bytes(&self) -> &[u8] {
                match self {
                    Member::Inline { len, data } => &data[..*len as usize],
                    $(Member::$v(a) => class_bytes(&a[..]),)*
                    Member::Heap(b) => b,
                }
            }

            /// Starts loading the member's heap bytes, if it has any, without
            /// reading them (see `Engine::prefetch`).
            pub fn prefetch(&self) {
                match self {
                    Member::Inline { .. } => {}
                    $(Member::$v(a) => crate::util::prefetch(&**a),)*
                    Member::Heap(b) => crate::util::prefetch_bytes(b),
                }
            }

            /// Heap bytes this member holds beyond its own 16 bytes.
            pub fn heap_bytes(&self) -> usize {
                match self {
                    Member::Inline { .. } => 0,
                    $(Member::$v(_) => $n,)*
                    Member::Heap(b) => 16 + super::table::alloc_size(b.len()),
                }
            }
        }
    };
}

classes!(
    B32 32, B48 48, B64 64, B80 80, B96 96, B112 112, B128 128, B160 160, B192 192, B224 224,
    B256 256, B320 320, B384 384, B448 448, B512 512, B640 640, B768 768, B896 896, B1024 1024,
    B1280 1280, B1536 1536, B1792 1792, B2048 2048, B2560 2560, B3072 3072, B3584 3584,
    B4096 4096
);

/// Length bytes at the start of a size-class array of `n` bytes.
const fn header(n: usize) -> usize {
    if n <= 256 {
        1
    } else {
        2
    }
}

/// The member in a size-class array, after its length.
fn class_bytes(a: &[u8]) -> &[u8] {
    let h = header(a.len());
    let mut len = [0u8; 2];
    len[..h].copy_from_slice(a.get(..h).unwrap_or_default());
    a.get(h..h + usize::from(u16::from_le_bytes(len)))
        .unwrap_or_default()
}

impl From<Member> for bytes::Bytes {
    fn from(m: Member) -> bytes::Bytes {
        match m {
            Member::Heap(b) => bytes::Bytes::from(*b),
            other => bytes::Bytes::copy_from_slice(other.as_bytes()),
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
        for n in [
            0, 1, 14, 15, 16, 17, 31, 32, 47, 48, 100, 126, 127, 128, 129, 5000,
        ] {
            let b: Vec<u8> = (0..n).map(|i| (i * 7 + 1) as u8).collect();
            let m = Member::new(&b);
            assert_eq!(m.as_bytes(), &b[..]);
            assert_eq!(matches!(m, Member::Inline { .. }), n <= INLINE_MAX);
            assert_eq!(matches!(m, Member::Heap(_)), n > 4094);
            assert!(m.heap_bytes() == 0 || m.heap_bytes() > n, "{n}");
            // The smallest class that holds it.
            if let Some(class) = [
                32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
            ]
            .iter()
            .find(|&&c| n + header(c) <= c)
            {
                if n > INLINE_MAX {
                    assert_eq!(m.heap_bytes(), *class, "{n}");
                }
            }
            assert_eq!(m, Member::new(&b));
            assert_eq!(bytes::Bytes::from(m.clone()), bytes::Bytes::from(b.clone()));
        }
        assert_ne!(Member::new(b"a"), Member::new(b"a\0"));
        assert_ne!(Member::new(b""), Member::new(b"\0"));
    }
}
