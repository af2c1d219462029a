//! The keyspace: shards of key -> entry maps, one map per database in each shard.
//!
//! A key's shard is chosen by hashing the key alone, so the same key lives in the
//! same shard in every database. A command therefore locks the shards of its keys
//! once and can touch those keys in any database (MOVE, COPY ... DB), and SWAPDB or
//! FLUSHALL lock every shard and act on each. Within a shard each database keeps an
//! insertion-ordered map (so a random key and a SCAN position are O(1)) and the set
//! of its keys that carry a TTL (so the active expiry cycle samples only those).
//!
//! One hash of a key serves both steps: its low bits pick the shard, its high 32
//! bits are what the shard's [`KeyMap`] files the key under ([`key_hasher`]), so
//! a lookup hashes its key once, not once for the shard and again for the map.

pub use crate::keymap::{Key, KeyMap};
use crate::value::Entry;
use indexmap::IndexSet;
use std::hash::BuildHasher;

pub type Hasher = foldhash::fast::RandomState;

/// The hasher of every key: [`ShardMap`] and every [`KeyMap`] hash keys with
/// it, seeded at random once per process.
pub fn key_hasher() -> Hasher {
    static HASHER: std::sync::OnceLock<Hasher> = std::sync::OnceLock::new();
    HASHER.get_or_init(Hasher::default).clone()
}

/// One database's part of one shard.
#[derive(Default)]
pub struct DbShard {
    pub map: KeyMap,
    /// The keys that carry a TTL (a copy of each).
    pub expires: IndexSet<Key, Hasher>,
}

impl DbShard {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Inserts or replaces `key`, keeping the TTL index in step.
    ///
    /// The map stores its own copy of the key (and [`Entry`] strings own their
    /// bytes), so nothing stored pins a connection's read buffer.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        let h = self.map.hash_of(key);
        self.insert_hashed(key, h, entry)
    }

    /// [`DbShard::insert`] for a key whose [`KeyMap::hash_of`] is `h`.
    pub fn insert_hashed(&mut self, key: &[u8], h: u32, entry: Entry) -> Option<Entry> {
        let expires = entry.expire_at != 0;
        let (idx, old) = self.map.insert_full_hashed(key, h, entry);
        let had = old.as_ref().is_some_and(|o| o.expire_at != 0);
        if expires != had {
            if let Some((k, _)) = self.map.get_index(idx) {
                if expires {
                    self.expires.insert(k.clone());
                } else {
                    self.expires.swap_remove(&k[..]);
                }
            }
        }
        old
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let e = self.map.swap_remove(key)?;
        if e.expire_at != 0 {
            self.expires.swap_remove(key);
        }
        Some(e)
    }

    /// Sets or clears (0) the expiry of an existing key. Returns false if absent.
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> bool {
        let Some((_, k, e)) = self.map.get_full_mut(key) else {
            return false;
        };
        let had = e.expire_at != 0;
        e.expire_at = at;
        if at != 0 && !had {
            let k = k.clone();
            self.expires.insert(k);
        } else if at == 0 && had {
            self.expires.swap_remove(key);
        }
        true
    }

    pub fn clear(&mut self) {
        self.map = KeyMap::default();
        self.expires = IndexSet::default();
    }
}

/// Counters kept per shard, under the shard's lock, and summed for INFO.
#[derive(Default, Clone, Debug)]
pub struct ShardStats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
}

/// One shard: a slice of every database.
pub struct Shard {
    pub dbs: Vec<DbShard>,
    pub stats: ShardStats,
    /// A point-in-time snapshot (AOF rewrite) still needs this shard's state as it
    /// was when the snapshot began.
    pub snapshot_pending: bool,
    /// While pending: keys (by name, in every database) already handed to the
    /// snapshot one by one, before a command changed them; the rest of the shard
    /// is handed over later without them.
    pub snapshot_done: std::collections::HashSet<Key, Hasher>,
}

impl Shard {
    pub fn new(databases: usize) -> Shard {
        Shard {
            dbs: (0..databases).map(|_| DbShard::default()).collect(),
            stats: ShardStats::default(),
            snapshot_pending: false,
            snapshot_done: Default::default(),
        }
    }
}

/// Maps keys to shards.
#[derive(Clone)]
pub struct ShardMap {
    hasher: Hasher,
    mask: usize,
}

impl ShardMap {
    /// `shards` must be a power of two.
    pub fn new(shards: usize) -> ShardMap {
        ShardMap {
            hasher: key_hasher(),
            mask: shards.next_power_of_two() - 1,
        }
    }

    pub fn shard_of(&self, key: &[u8]) -> usize {
        self.shard_of_hash(self.key_hash(key))
    }

    /// `key`'s hash, for [`ShardMap::place_of_hash`].
    #[inline]
    pub fn key_hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of a key whose [`ShardMap::key_hash`] is `h`: its low bits
    /// (the map inside the shard files the key under the high 32).
    #[inline]
    pub fn shard_of_hash(&self, h: u64) -> usize {
        h as usize & self.mask
    }

    /// The shard of a key whose [`ShardMap::key_hash`] is `h`, and the hash
    /// its shard's [`KeyMap`] files it under ([`KeyMap::hash_of`]).
    #[inline]
    pub fn place_of_hash(&self, h: u64) -> (usize, u32) {
        (self.shard_of_hash(h), crate::postable::short(h))
    }

    /// [`ShardMap::place_of_hash`] of `key`: one hash for both.
    #[inline]
    pub fn place_of(&self, key: &[u8]) -> (usize, u32) {
        self.place_of_hash(self.key_hash(key))
    }

    pub fn count(&self) -> usize {
        self.mask + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's one hash must give both its shard and the hash its shard's map
    /// files it under: a lookup by the engine's hash finds what the map
    /// inserted by the key.
    #[test]
    fn one_hash_gives_the_shard_and_the_maps_hash() {
        let shards = ShardMap::new(256);
        let mut map = KeyMap::default();
        for i in 0..2000u32 {
            let key = format!("key:{i:012}");
            let (s, h) = shards.place_of(key.as_bytes());
            assert_eq!(s, shards.shard_of(key.as_bytes()));
            assert_eq!(h, map.hash_of(key.as_bytes()));
            map.insert_full(
                key.as_bytes(),
                Entry::new(crate::value::Value::string(b"v"), 0, 0),
            );
            assert_eq!(map.get_index_of_hashed(key.as_bytes(), h), Some(i as usize));
        }
    }

    /// The shard comes from the hash's low bits and the map's hash from its
    /// high ones: keys must still spread over every shard evenly.
    #[test]
    fn keys_spread_over_the_shards() {
        let shards = ShardMap::new(256);
        let mut count = [0u32; 256];
        for i in 0..25_600u32 {
            count[shards.shard_of(format!("key:{i:012}").as_bytes())] += 1;
        }
        // 100 a shard on average; a binomial spread stays far inside 50..150.
        assert!(count.iter().all(|&c| (50..150).contains(&c)), "{count:?}");
    }
}
