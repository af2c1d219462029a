//! The collection value types and their encodings (Redis's t_list.c, t_hash.c,
//! t_set.c, t_zset.c keep the same split): each type has a compact encoding for
//! small collections (contiguous and allocation-light, like Redis's listpack and
//! intset) and a full structure past the thresholds in [`Limits`]. A type module
//! owns its representation; everything else (commands, digest, rewrite, DUMP)
//! goes through the type's methods, never its fields.
//!
//! Strings, bitmaps and HyperLogLogs are all [`Value::Str`](crate::value::Value)
//! and have no module here (the HyperLogLog layout lives in `cmd::hll`; its one
//! threshold, `hll-sparse-max-bytes`, is in [`Limits`]).

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use zset::ZSet;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// The encoding thresholds (`hash-max-listpack-entries` and friends), shared by
/// every shard and changed at runtime by CONFIG SET. Read with relaxed atomics: a
/// command sees either the old or the new value, as in Redis.
#[derive(Debug)]
pub struct Limits {
    hash_max_listpack_entries: AtomicU64,
    hash_max_listpack_value: AtomicU64,
    list_max_listpack_size: AtomicI64,
    set_max_intset_entries: AtomicU64,
    zset_max_listpack_entries: AtomicU64,
    zset_max_listpack_value: AtomicU64,
    hll_sparse_max_bytes: AtomicU64,
}

impl Default for Limits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        Limits {
            hash_max_listpack_entries: AtomicU64::new(512),
            hash_max_listpack_value: AtomicU64::new(64),
            list_max_listpack_size: AtomicI64::new(-2),
            set_max_intset_entries: AtomicU64::new(512),
            zset_max_listpack_entries: AtomicU64::new(128),
            zset_max_listpack_value: AtomicU64::new(64),
            hll_sparse_max_bytes: AtomicU64::new(3000),
        }
    }
}

/// A snapshot of [`Limits`] for one command (plain numbers, cheap to pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    /// Positive: entries per list node; -1..-5: node size 4/8/16/32/64 KiB.
    pub list_max_listpack_size: i64,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// Largest sparse HyperLogLog (header included) before it turns dense.
    pub hll_sparse_max_bytes: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Limits::default().get()
    }
}

impl Limits {
    pub fn get(&self) -> Thresholds {
        Thresholds {
            hash_max_listpack_entries: self.hash_max_listpack_entries.load(Relaxed) as usize,
            hash_max_listpack_value: self.hash_max_listpack_value.load(Relaxed) as usize,
            list_max_listpack_size: self.list_max_listpack_size.load(Relaxed),
            set_max_intset_entries: self.set_max_intset_entries.load(Relaxed) as usize,
            zset_max_listpack_entries: self.zset_max_listpack_entries.load(Relaxed) as usize,
            zset_max_listpack_value: self.zset_max_listpack_value.load(Relaxed) as usize,
            hll_sparse_max_bytes: self.hll_sparse_max_bytes.load(Relaxed) as usize,
        }
    }

    pub fn set(&self, t: Thresholds) {
        self.hash_max_listpack_entries
            .store(t.hash_max_listpack_entries as u64, Relaxed);
        self.hash_max_listpack_value
            .store(t.hash_max_listpack_value as u64, Relaxed);
        self.list_max_listpack_size
            .store(t.list_max_listpack_size, Relaxed);
        self.set_max_intset_entries
            .store(t.set_max_intset_entries as u64, Relaxed);
        self.zset_max_listpack_entries
            .store(t.zset_max_listpack_entries as u64, Relaxed);
        self.zset_max_listpack_value
            .store(t.zset_max_listpack_value as u64, Relaxed);
        self.hll_sparse_max_bytes
            .store(t.hll_sparse_max_bytes as u64, Relaxed);
    }
}
