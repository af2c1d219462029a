//! Values stored under keys.
//!
//! Strings are binary-safe byte strings ([`Str`]); OBJECT ENCODING reports
//! Redis's `int`, `embstr` or `raw` from the content and how it was written, as
//! Redis would. Every type's handle is 16 bytes (a small collection is one
//! boxed buffer, like Redis's listpack or intset; a large one a box of its
//! table), so values are stored inline: a [`Value`] is 24 bytes and an
//! [`Entry`] 32, with no allocation of their own. The representations live in
//! [`crate::types`].

use crate::types::{Hash, List, Set, ZSet};
use crate::util::Stage;
use bytes::Bytes;

/// A value and its type.
///
/// Each variant also carries the key's access state for eviction (the `u32`,
/// see [`Entry::lru`]): it sits in what would otherwise be padding after the
/// tag, which keeps a `Value` at 24 bytes and an [`Entry`] at 32. Equality
/// ignores it.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string; `form` is how it was written, which with its content decides
    /// the encoding OBJECT ENCODING reports (see [`Form`]).
    Str {
        data: Str,
        form: Form,
        lru: u32,
    },
    List(List, u32),
    Hash(Hash, u32),
    Set(Set, u32),
    ZSet(ZSet, u32),
}

/// How a string was written, for OBJECT ENCODING.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Stored by SET and most writes: `int` when it reads as one, else
    /// `embstr` up to 44 bytes, else `raw` (Redis's `tryObjectEncoding`).
    Auto,
    /// Built in place (APPEND, SETRANGE, SETBIT, PFADD ...): Redis keeps such a
    /// string in the raw encoding whatever it holds.
    Raw,
    /// INCRBYFLOAT's result, which Redis makes with
    /// `createStringObjectFromLongDouble`: `embstr` or `raw` by length, never
    /// `int`. The log holds a SET for it, so a replay stores it as `Auto`,
    /// as a Redis replica or restart does.
    Text,
}

/// Equality ignores the access state, and tells `Form::Text` from
/// `Form::Auto` no more than a replay does.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (
                Value::Str {
                    data: a, form: fa, ..
                },
                Value::Str {
                    data: b, form: fb, ..
                },
            ) => a == b && (*fa == Form::Raw) == (*fb == Form::Raw),
            (Value::List(a, _), Value::List(b, _)) => a == b,
            (Value::Hash(a, _), Value::Hash(b, _)) => a == b,
            (Value::Set(a, _), Value::Set(b, _)) => a == b,
            (Value::ZSet(a, _), Value::ZSet(b, _)) => a == b,
            _ => false,
        }
    }
}

/// Redis's numeric type codes, used by the DEBUG DIGEST algorithm.
pub const OBJ_STRING: u32 = 0;
pub const OBJ_LIST: u32 = 1;
pub const OBJ_SET: u32 = 2;
pub const OBJ_ZSET: u32 = 3;
pub const OBJ_HASH: u32 = 4;

impl Value {
    pub fn string(data: &[u8]) -> Value {
        Value::Str {
            data: Str::from(data),
            form: Form::Auto,
            lru: LRU_UNSET,
        }
    }

    /// A string stored as text even when it reads as an integer, as Redis
    /// stores INCRBYFLOAT's result ([`Form::Text`]).
    pub fn text(data: &[u8]) -> Value {
        Value::Str {
            data: Str::from(data),
            form: Form::Text,
            lru: LRU_UNSET,
        }
    }

    /// The hash a lookup of `member` in this set, hash or sorted set probes
    /// its index with, for [`Value::prefetch_member`]; `None` when there is
    /// no index to probe (another type, or a small encoding scanned whole).
    pub fn member_hash(&self, member: &[u8]) -> Option<u64> {
        match self {
            Value::Set(Set::Table(t), _) => t.member_hash(member),
            Value::Hash(Hash::Table(t), _) => Some(t.member_hash(member)),
            Value::ZSet(crate::types::zset::ZSet::Tree(z), _) => Some(z.member_hash(member)),
            _ => None,
        }
    }

    /// One step of loading what a lookup of a member whose
    /// [`Value::member_hash`] is `h` will read (see
    /// [`crate::engine::Engine::prefetch`]). Sets and sorted sets probe their
    /// index at [`Stage::Slot`] and have nothing to start at
    /// [`Stage::Bucket`].
    pub fn prefetch_member(&self, h: u64, stage: Stage) {
        let deep = stage == Stage::Bytes;
        match self {
            Value::Set(Set::Table(t), _) if stage != Stage::Bucket => t.prefetch(h, deep),
            Value::Hash(Hash::Table(t), _) => t.prefetch(h, stage),
            Value::ZSet(crate::types::zset::ZSet::Tree(z), _) if stage != Stage::Bucket => {
                z.prefetch(h, deep)
            }
            _ => {}
        }
    }

    pub fn list(l: List) -> Value {
        Value::List(l, LRU_UNSET)
    }

    pub fn hash(h: Hash) -> Value {
        Value::Hash(h, LRU_UNSET)
    }

    pub fn set(s: Set) -> Value {
        Value::Set(s, LRU_UNSET)
    }

    pub fn zset(z: ZSet) -> Value {
        Value::ZSet(z, LRU_UNSET)
    }

    /// The access state carried with the value (see [`Entry::lru`]).
    fn lru_mut(&mut self) -> &mut u32 {
        match self {
            Value::Str { lru, .. }
            | Value::List(_, lru)
            | Value::Hash(_, lru)
            | Value::Set(_, lru)
            | Value::ZSet(_, lru) => lru,
        }
    }

    fn lru(&self) -> u32 {
        match self {
            Value::Str { lru, .. }
            | Value::List(_, lru)
            | Value::Hash(_, lru)
            | Value::Set(_, lru)
            | Value::ZSet(_, lru) => *lru,
        }
    }

    /// The string's bytes; `None` for another type.
    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::Str { data, .. } => Some(data),
            _ => None,
        }
    }

    /// Whether the value is an empty collection (which must never stay under a
    /// key: a command that empties a collection deletes the key).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str { .. } => false,
            Value::List(l, _) => l.is_empty(),
            Value::Hash(h, _) => h.is_empty(),
            Value::Set(x, _) => x.is_empty(),
            Value::ZSet(z, _) => z.is_empty(),
        }
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str { .. } => "string",
            Value::List(_, _) => "list",
            Value::Hash(_, _) => "hash",
            Value::Set(_, _) => "set",
            Value::ZSet(_, _) => "zset",
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str { data, form, .. } => {
                if *form == Form::Raw {
                    "raw"
                } else if *form == Form::Auto
                    && data.len() <= 20
                    && crate::util::parse_i64(data).is_some()
                {
                    "int"
                } else if data.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::List(l, _) => l.encoding(),
            Value::Hash(h, _) => h.encoding(),
            Value::Set(x, _) => x.encoding(),
            Value::ZSet(z, _) => z.encoding(),
        }
    }

    /// Redis's type code (OBJ_STRING, OBJ_LIST, ...).
    pub fn type_code(&self) -> u32 {
        match self {
            Value::Str { .. } => OBJ_STRING,
            Value::List(_, _) => OBJ_LIST,
            Value::Hash(_, _) => OBJ_HASH,
            Value::Set(_, _) => OBJ_SET,
            Value::ZSet(_, _) => OBJ_ZSET,
        }
    }

    /// Approximate bytes this value occupies, for MEMORY USAGE and accounting.
    pub fn mem_usage(&self) -> usize {
        match self {
            Value::Str { data, .. } => data.mem_usage(),
            Value::List(l, _) => l.mem_usage(),
            Value::Hash(h, _) => h.mem_usage(),
            Value::Set(x, _) => x.mem_usage(),
            Value::ZSet(z, _) => z.mem_usage(),
        }
    }
}

/// A string value's bytes.
///
/// Most strings are written whole (SET, MSET, ...) and are stored exactly, in
/// one allocation of their length. A string changed in place (APPEND,
/// SETRANGE, SETBIT, PFADD, ...) becomes growable, with spare capacity as
/// Redis's sds has, so that a loop of APPENDs costs amortized O(1) each instead
/// of copying the whole string every time. Either way it is 16 bytes inline.
#[derive(Clone, Debug)]
pub enum Str {
    Exact(Box<[u8]>),
    Growable(Box<Vec<u8>>),
}

impl Str {
    /// The bytes, copied into a [`Bytes`] (for a reply or an effect).
    pub fn bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }

    /// The bytes, to change in place (makes the string growable).
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if let Str::Exact(b) = self {
            let v = std::mem::take(b).into_vec();
            *self = Str::Growable(Box::new(v));
        }
        match self {
            Str::Growable(v) => v,
            // Unreachable: made growable just above.
            Str::Exact(_) => unreachable!("Str::make_mut left an exact string"),
        }
    }

    /// Starts loading the string's first and last bytes into the CPU cache
    /// (see [`crate::engine::Engine::prefetch`]).
    pub fn prefetch(&self) {
        let b: &[u8] = self;
        let last = b.len().min(128).checked_sub(1).and_then(|i| b.get(i));
        if let (Some(first), Some(last)) = (b.first(), last) {
            crate::util::prefetch(first);
            crate::util::prefetch(last);
        }
    }

    /// Approximate bytes held, for MEMORY USAGE and accounting.
    pub fn mem_usage(&self) -> usize {
        match self {
            Str::Exact(b) => b.len() + 16,
            Str::Growable(v) => v.capacity() + 40,
        }
    }
}

impl Default for Str {
    fn default() -> Str {
        Str::Exact(Box::default())
    }
}

impl std::ops::Deref for Str {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Str::Exact(b) => b,
            Str::Growable(v) => v,
        }
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self[..] == other[..]
    }
}

impl From<&[u8]> for Str {
    fn from(b: &[u8]) -> Str {
        Str::Exact(Box::from(b))
    }
}

impl From<Vec<u8>> for Str {
    fn from(v: Vec<u8>) -> Str {
        Str::Exact(v.into_boxed_slice())
    }
}

impl From<Bytes> for Str {
    fn from(b: Bytes) -> Str {
        Str::from(&b[..])
    }
}

/// What a key holds: its value and, when it has one, its absolute expiry time in
/// milliseconds since the epoch (0 means no expiry).
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    pub expire_at: u64,
}

/// The access state of an entry not stored yet: storing it through
/// [`Ctx::insert_in`](crate::engine::Ctx::insert_in) sets what the policy starts
/// a new key with, while an entry that moves (RENAME) keeps its own.
pub const LRU_UNSET: u32 = u32::MAX;

impl Entry {
    pub fn new(value: Value, expire_at: u64, _now_ms: u64) -> Entry {
        Entry { value, expire_at }
    }

    /// Access state for eviction, OBJECT IDLETIME and OBJECT FREQ: the LRU
    /// clock of the last access, or under an LFU policy the LFU time and
    /// counter (see [`crate::evict`]). [`LRU_UNSET`] until the entry is first
    /// stored. Kept inside the value (see [`Value`]).
    pub fn lru(&self) -> u32 {
        self.value.lru()
    }

    pub fn set_lru(&mut self, lru: u32) {
        *self.value.lru_mut() = lru;
    }

    /// Replaces the value, keeping the access state.
    pub fn set_value(&mut self, mut value: Value) {
        *value.lru_mut() = self.lru();
        self.value = value;
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }
}

/// The LRU clock: seconds, wrapping at 2^24 as Redis's does.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & ((1 << 24) - 1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's slot in the keyspace is its boxed name and its entry; these sizes
    /// are most of what a small key costs (BENCHMARKS.md, memory per key).
    #[test]
    fn layout_stays_compact() {
        assert_eq!(std::mem::size_of::<Str>(), 16);
        assert_eq!(std::mem::size_of::<List>(), 16);
        assert_eq!(std::mem::size_of::<Hash>(), 16);
        assert_eq!(std::mem::size_of::<Set>(), 16);
        assert_eq!(std::mem::size_of::<ZSet>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        // A keyspace slot: a key with up to 22 bytes inline, and its entry.
        assert_eq!(std::mem::size_of::<crate::keymap::Key>(), 24);
        assert_eq!(std::mem::size_of::<(crate::keymap::Key, Entry)>(), 56);
    }

    #[test]
    fn strings_grow_in_place_once_changed() {
        let mut s = Str::from(&b"abc"[..]);
        assert!(matches!(s, Str::Exact(_)));
        s.make_mut().extend_from_slice(b"def");
        assert!(matches!(s, Str::Growable(_)));
        assert_eq!(&s[..], b"abcdef");
        assert_eq!(s.bytes(), Bytes::from_static(b"abcdef"));
        assert_eq!(s, Str::from(&b"abcdef"[..]));
    }
}
