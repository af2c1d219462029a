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
/// expiry) in the currently selected database. A string costs no allocation:
/// its command borrows the key and the value.
pub fn entry_commands(key: &[u8], entry: &Entry, out: &mut dyn FnMut(&[&[u8]])) {
    let mut at = itoa::Buffer::new();
    let expire = match entry.expire_at {
        0 => None,
        t => Some(at.format(t).as_bytes()),
    };
    let value = match &entry.value {
        Value::Str { data, .. } => {
            match expire {
                Some(t) => out(&[b"SET", key, data, b"PXAT", t]),
                None => out(&[b"SET", key, data]),
            }
            return;
        }
        v => v,
    };
    let key_bytes = Bytes::copy_from_slice(key);
    let mut chunk = Chunker::new(&key_bytes, out);
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
    if let Some(t) = expire {
        out(&[b"PEXPIREAT", key, t]);
    }
}

/// Groups elements into variadic commands of at most [`ITEMS_PER_CMD`] items.
struct Chunker<'a> {
    key: &'a Bytes,
    out: &'a mut dyn FnMut(&[&[u8]]),
    argv: Vec<Bytes>,
    items: usize,
}

impl<'a> Chunker<'a> {
    fn new(key: &'a Bytes, out: &'a mut dyn FnMut(&[&[u8]])) -> Self {
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
            let argv: Vec<&[u8]> = self.argv.iter().map(|a| &a[..]).collect();
            (self.out)(&argv);
            self.argv.clear();
            self.items = 0;
        }
    }
}
