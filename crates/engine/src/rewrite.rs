//! The commands that rebuild a value from nothing: what an AOF rewrite writes into
//! a base file for each key. Small values take one command; large collections are
//! split into variadic commands of at most [`ITEMS_PER_CMD`] elements (as Redis's
//! rewrite does with AOF_REWRITE_ITEMS_PER_CMD), so a base never holds one giant
//! command. A key with a TTL gets one `PEXPIREAT` after its value (strings carry
//! it inline as `SET ... PXAT`).

use crate::value::{Entry, Value};
use bytes::Bytes;

/// Elements per variadic command (Redis's AOF_REWRITE_ITEMS_PER_CMD).
pub const ITEMS_PER_CMD: usize = 64;

/// Emits, through `out`, the commands that recreate `key` with `entry` (value and
/// expiry) in the currently selected database.
pub fn entry_commands(key: &[u8], entry: &Entry, out: &mut dyn FnMut(&[Bytes])) {
    let key = &Bytes::copy_from_slice(key);
    let value = match &entry.value {
        Value::Str { data, .. } => {
            if entry.expire_at != 0 {
                out(&[
                    Bytes::from_static(b"SET"),
                    key.clone(),
                    data.bytes(),
                    Bytes::from_static(b"PXAT"),
                    crate::util::fmt_i64(entry.expire_at as i64),
                ]);
            } else {
                out(&[Bytes::from_static(b"SET"), key.clone(), data.bytes()]);
            }
            return;
        }
        v => v,
    };
    let mut chunk = Chunker::new(key, out);
    match value {
        Value::Str { .. } => {}
        Value::List(l, _) => l.for_each(|e| chunk.push(b"RPUSH", &[e])),
        Value::Set(s, _) => s.for_each(|m| chunk.push(b"SADD", &[m])),
        Value::Hash(h, _) => h.for_each(|f, v| chunk.push(b"HSET", &[f, v])),
        Value::ZSet(z, _) => z.for_each(|m, score| {
            let sc = keel_protocol::format_double(score);
            chunk.push(b"ZADD", &[sc.as_bytes(), m])
        }),
    }
    chunk.flush();
    if entry.expire_at != 0 {
        out(&[
            Bytes::from_static(b"PEXPIREAT"),
            key.clone(),
            crate::util::fmt_i64(entry.expire_at as i64),
        ]);
    }
}

/// Groups elements into variadic commands of at most [`ITEMS_PER_CMD`] items.
struct Chunker<'a> {
    key: &'a Bytes,
    out: &'a mut dyn FnMut(&[Bytes]),
    argv: Vec<Bytes>,
    items: usize,
}

impl<'a> Chunker<'a> {
    fn new(key: &'a Bytes, out: &'a mut dyn FnMut(&[Bytes])) -> Self {
        Chunker {
            key,
            out,
            argv: Vec::new(),
            items: 0,
        }
    }

    fn push(&mut self, cmd: &'static [u8], parts: &[&[u8]]) {
        if self.argv.is_empty() {
            self.argv.push(Bytes::from_static(cmd));
            self.argv.push(self.key.clone());
        }
        for p in parts {
            self.argv.push(Bytes::copy_from_slice(p));
        }
        self.items += 1;
        if self.items == ITEMS_PER_CMD {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.argv.is_empty() {
            (self.out)(&self.argv);
            self.argv.clear();
            self.items = 0;
        }
    }
}
