//! Read-only access to one entry for introspection commands the server runs
//! (DEBUG OBJECT, MEMORY USAGE), under that key's shard lock.

use crate::engine::Engine;
use crate::value::Entry;

/// Runs `f` on the entry under `key` in `db`, if it exists and has not expired.
pub fn with_entry<R>(
    engine: &Engine,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&Entry) -> R,
) -> Option<R> {
    let now = engine.now_ms();
    let mut locks = engine.lock_unsnapshotted(vec![engine.shard_of(key)]);
    let mut out = None;
    locks.for_each(|s| {
        if let Some(e) = s.dbs.get(db).and_then(|d| d.map.get(key)) {
            if !e.is_expired(now) {
                out = Some(f(e));
            }
        }
    });
    out
}
