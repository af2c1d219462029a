//! The commands that rebuild a value from nothing: what an AOF rewrite writes into
//! a base file for each key. Small values take one command; large collections are
//! split into variadic commands of bounded size (as Redis's rewrite does with
//! AOF_REWRITE_ITEMS_PER_CMD), so a base never holds one giant command.

use crate::value::{Entry, Value};
use bytes::Bytes;

/// Emits, through `out`, the commands that recreate `key` with `entry` (value and
/// expiry) in the currently selected database.
pub fn entry_commands(key: &Bytes, entry: &Entry, out: &mut dyn FnMut(&[Bytes])) {
    match &entry.value {
        Value::Str { data, .. } => {
            if entry.expire_at != 0 {
                out(&[
                    Bytes::from_static(b"SET"),
                    key.clone(),
                    data.clone(),
                    Bytes::from_static(b"PXAT"),
                    crate::util::fmt_i64(entry.expire_at as i64),
                ]);
                return;
            }
            out(&[Bytes::from_static(b"SET"), key.clone(), data.clone()]);
        }
    }
}
