//! Writing RDB objects as Redis 7.0.15 writes them (rdb.c `rdbSaveObject`).
//!
//! The form follows the value's encoding: an intset set as an intset blob, a
//! listpack hash or sorted set as a listpack blob, larger ones as plain element
//! sequences (sorted sets with binary scores, from the highest member down, as
//! Redis walks its skiplist from the tail). Lists are cut into quicklist nodes
//! the way Redis 7.0.15's `quicklistPushTail` cuts a list built by RPUSH (the
//! `list-max-listpack-size` rule, and elements of 1 GiB or more in plain
//! nodes). Every string, including each blob, goes through `rdbSaveRawString`:
//! integer encoding for short canonical integers, LZF above 20 bytes when it
//! saves at least 4 bytes.

use super::{intset, kind, listpack, lzf};
use crate::types::{List, Thresholds};
use crate::value::Value;

/// `rdbSaveLen`.
pub fn save_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// `rdbSaveRawString` with compression on (Redis's default `rdbcompression`).
pub fn save_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = crate::util::parse_i64(s) {
            if let Ok(v) = i32::try_from(v) {
                if let Ok(v) = i8::try_from(v) {
                    out.extend_from_slice(&[0xC0, v as u8]);
                } else if let Ok(v) = i16::try_from(v) {
                    out.push(0xC1);
                    out.extend_from_slice(&v.to_le_bytes());
                } else {
                    out.push(0xC2);
                    out.extend_from_slice(&v.to_le_bytes());
                }
                return;
            }
        }
    }
    if s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            save_len(out, c.len() as u64);
            save_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    save_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// The RDB type byte Redis writes for `v`.
pub fn value_type(v: &Value) -> u8 {
    match v {
        Value::Str { .. } => kind::STRING,
        Value::List(_, _) => kind::LIST_QUICKLIST_2,
        Value::Set(s, _) if s.encoding() == "intset" => kind::SET_INTSET,
        Value::Set(_, _) => kind::SET,
        Value::Hash(h, _) if h.encoding() == "listpack" => kind::HASH_LISTPACK,
        Value::Hash(_, _) => kind::HASH,
        Value::ZSet(z, _) if z.encoding() == "listpack" => kind::ZSET_LISTPACK,
        Value::ZSet(_, _) => kind::ZSET_2,
    }
}

/// `rdbSaveObject`: `v` in the form of [`value_type`] (without the type byte).
pub fn save_object(out: &mut Vec<u8>, v: &Value, t: &Thresholds) {
    match v {
        Value::Str { data, .. } => save_string(out, data),
        Value::List(l, _) => save_list(out, l, t.list_max_listpack_size),
        Value::Set(s, _) => {
            if value_type(v) == kind::SET_INTSET {
                let mut ints = Vec::with_capacity(s.len());
                s.for_each(|m| ints.push(crate::util::parse_i64(m).unwrap_or(0)));
                save_string(out, &intset::build(&mut ints));
            } else {
                save_len(out, s.len() as u64);
                s.for_each(|m| save_string(out, m));
            }
        }
        Value::Hash(h, _) => {
            if value_type(v) == kind::HASH_LISTPACK {
                let mut lp = listpack::Builder::new();
                h.for_each(|f, x| {
                    lp.push(f);
                    lp.push(x);
                });
                save_string(out, &lp.finish());
            } else {
                save_len(out, h.len() as u64);
                h.for_each(|f, x| {
                    save_string(out, f);
                    save_string(out, x);
                });
            }
        }
        Value::ZSet(z, _) => {
            if value_type(v) == kind::ZSET_LISTPACK {
                let mut lp = listpack::Builder::new();
                z.for_each(|m, score| {
                    lp.push(m);
                    push_score(&mut lp, score);
                });
                save_string(out, &lp.finish());
            } else {
                // Members are copied once into one buffer so they can be
                // written in reverse order.
                let mut buf: Vec<u8> = Vec::new();
                let mut spans: Vec<(usize, usize, f64)> = Vec::with_capacity(z.len());
                z.for_each(|m, score| {
                    spans.push((buf.len(), m.len(), score));
                    buf.extend_from_slice(m);
                });
                save_len(out, spans.len() as u64);
                for &(at, n, score) in spans.iter().rev() {
                    save_string(out, &buf[at..at + n]);
                    out.extend_from_slice(&score.to_le_bytes());
                }
            }
        }
    }
}

/// A listpack score as Redis 7.0.15's `zzlInsertAt` stores it: an integral
/// score within +-2^52 as an integer, anything else as its `%.17g` text (which
/// `lpAppend` still stores as an integer when it reads as one). A Redis
/// listpack never holds -0 (it stores 0); should keel's value hold one, it is
/// written as the text "-0" so the payload keeps the value exactly.
fn push_score(lp: &mut listpack::Builder, score: f64) {
    if score == 0.0 && score.is_sign_negative() {
        lp.push(b"-0");
    } else if score.fract() == 0.0 && score > -4503599627370495.0 && score < 4503599627370496.0 {
        lp.push_int(score as i64);
    } else {
        lp.push(keel_protocol::format_double(score).as_bytes());
    }
}

/// Elements this large go in a node of their own (`packed_threshold`, 1 GiB).
const PACKED_THRESHOLD: usize = 1 << 30;
/// Redis 7.0's node size limit when the fill is a count (`SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// The per-entry overhead `_quicklistNodeAllowInsert` assumes.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Node byte limits for fill -1 .. -5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

enum Node<'a> {
    Packed(listpack::Builder),
    Plain(&'a [u8]),
}

/// Redis 7.0.15's `_quicklistNodeAllowInsert` (`quicklistNodeExceedsLimit`):
/// may an element of `sz` bytes join a node of `bytes` bytes and `count`
/// elements under `fill`? The new size is estimated as the node's size plus the
/// element plus 8 bytes of entry overhead.
fn allow_insert(bytes: usize, count: usize, fill: i64, sz: usize) -> bool {
    if sz >= PACKED_THRESHOLD {
        return false;
    }
    let new_sz = bytes + sz + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        let level = ((-fill - 1) as usize).min(OPTIMIZATION_LEVEL.len() - 1);
        return new_sz <= OPTIMIZATION_LEVEL[level];
    }
    let max_count = if fill == 0 { 1 } else { fill as usize };
    new_sz <= SIZE_SAFETY_LIMIT && count < max_count
}

fn save_list(out: &mut Vec<u8>, l: &List, fill: i64) {
    let fill = fill.clamp(-5, 1 << 15);
    // Elements are copied once into one buffer; nodes refer to it.
    let mut buf: Vec<u8> = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(l.len());
    l.for_each(|e| {
        spans.push((buf.len(), e.len()));
        buf.extend_from_slice(e);
    });
    let mut nodes: Vec<Node> = Vec::new();
    for &(at, n) in &spans {
        let e = &buf[at..at + n];
        if n >= PACKED_THRESHOLD {
            nodes.push(Node::Plain(e));
            continue;
        }
        match nodes.last_mut() {
            Some(Node::Packed(lp)) if allow_insert(lp.bytes(), lp.count(), fill, n) => lp.push(e),
            _ => {
                let mut lp = listpack::Builder::new();
                lp.push(e);
                nodes.push(Node::Packed(lp));
            }
        }
    }
    save_len(out, nodes.len() as u64);
    for node in nodes {
        match node {
            Node::Plain(e) => {
                save_len(out, 1);
                save_string(out, e);
            }
            Node::Packed(lp) => {
                save_len(out, 2);
                save_string(out, &lp.finish());
            }
        }
    }
}

/// The bytes [`save_object`] writes for `v`: DEBUG OBJECT's `serializedlength`.
pub fn object_len(v: &Value, t: &Thresholds) -> usize {
    let mut out = Vec::new();
    save_object(&mut out, v, t);
    out.len()
}
