//! ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms BZPOPMIN, BZPOPMAX, BZMPOP
//! (`genericZpopCommand`, `blockingGenericZpopCommand`), ZRANDMEMBER and ZSCAN.
//!
//! Blocking: when every key is missing, the command asks the engine to park
//! the client ([`Ctx::block_on`]); when a key gets data the server runs the
//! same argv again, which then serves it and logs the non-blocking form
//! (`ZPOPMIN key <count>`). Inside MULTI the reply is Redis's null array.

use super::*;
use crate::types::zset::pack::as_int;
use rand::Rng;

const ERR_POSITIVE: &str = "ERR value is out of range, must be positive";

/// How a pop replies (`genericZpopCommand`'s flags).
#[derive(Clone, Copy)]
struct Shape {
    /// Prefix the reply with the key (ZMPOP and the blocking forms).
    emitkey: bool,
    /// Each member as a [member, score] pair.
    nested: bool,
    /// Reply a null array rather than an empty one when no key has data.
    nil_when_empty: bool,
}

/// Pops up to `count` (-1: one, flat reply) elements from the first existing
/// key of `keys`, from the low end or (`max`) the high end.
fn pop_generic(ctx: &mut Ctx, keys: &[Bytes], max: bool, count: i64, shape: Shape) -> Frame {
    let mut found = None;
    for key in keys {
        if tri!(write(ctx, key)).is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        return if shape.nil_when_empty {
            Frame::NullArray
        } else {
            Frame::Array(Vec::new())
        };
    };
    if count == 0 {
        return Frame::Array(Vec::new());
    }
    let count = if count == -1 { 1 } else { count as usize };
    let Ok(Some(z)) = write(ctx, key) else {
        return Frame::Array(Vec::new());
    };
    let len = z.len();
    let popped = count.min(len);
    let (from, rev) = if max { (len - 1, true) } else { (0, false) };
    let mut items = Vec::with_capacity(2 * popped);
    for (m, s) in z.iter_from(from, rev).take(popped) {
        if shape.nested {
            items.push(Frame::Array(vec![bulk(m), Frame::Double(s)]));
        } else {
            items.push(bulk(m));
            items.push(Frame::Double(s));
        }
    }
    if max {
        z.remove_ranks(len - popped, len - 1);
    } else {
        z.remove_ranks(0, popped - 1);
    }
    let (event, name) = if max {
        ("zpopmax", "ZPOPMAX")
    } else {
        ("zpopmin", "ZPOPMIN")
    };
    ctx.notify(ZSET, event, key);
    drop_if_empty(ctx, key);
    ctx.emit(smallvec![s(name), key.clone(), n(popped as i64)]);
    match (shape.emitkey, shape.nested) {
        (false, _) => Frame::Array(items),
        (true, false) => {
            items.insert(0, Frame::Bulk(key.clone()));
            Frame::Array(items)
        }
        (true, true) => Frame::Array(vec![Frame::Bulk(key.clone()), Frame::Array(items)]),
    }
}

pub(in crate::cmd::zset) fn zpopmin(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    zpop(ctx, argv, false)
}

pub(in crate::cmd::zset) fn zpopmax(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    zpop(ctx, argv, true)
}

fn zpop(ctx: &mut Ctx, argv: &[Bytes], max: bool) -> Frame {
    if argv.len() > 3 {
        return err(ERR_SYNTAX);
    }
    let mut count = -1;
    if let Some(c) = argv.get(2) {
        match crate::util::parse_i64(c) {
            Some(v) if v >= 0 => count = v,
            _ => return err(ERR_POSITIVE),
        }
    }
    let shape = Shape {
        emitkey: false,
        nested: ctx.resp > 2 && count != -1,
        nil_when_empty: false,
    };
    pop_generic(ctx, &argv[1..2], max, count, shape)
}

pub(in crate::cmd::zset) fn zmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    zmpop_generic(ctx, argv, 1, false)
}

pub(in crate::cmd::zset) fn bzmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    zmpop_generic(ctx, argv, 2, true)
}

/// ZMPOP and BZMPOP: `[timeout] numkeys key... MIN|MAX [COUNT n]`.
fn zmpop_generic(ctx: &mut Ctx, argv: &[Bytes], numkeys_idx: usize, block: bool) -> Frame {
    let numkeys = match crate::util::parse_i64(&argv[numkeys_idx]) {
        Some(v) if v >= 1 => v as usize,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    let Some(w) = argv.get(where_idx) else {
        return err(ERR_SYNTAX);
    };
    let max = if is(w, "min") {
        false
    } else if is(w, "max") {
        true
    } else {
        return err(ERR_SYNTAX);
    };
    let mut count = -1i64;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if count == -1 && is(&argv[j], "count") && more {
            match crate::util::parse_i64(&argv[j + 1]) {
                Some(v) if v >= 1 => count = v,
                _ => return err("ERR count should be greater than 0"),
            }
            j += 2;
        } else {
            return err(ERR_SYNTAX);
        }
    }
    if count == -1 {
        count = 1;
    }
    let keys = &argv[numkeys_idx + 1..where_idx];
    let shape = Shape {
        emitkey: true,
        nested: true,
        nil_when_empty: true,
    };
    if block {
        blocking(ctx, keys, &argv[1], max, count, shape)
    } else {
        pop_generic(ctx, keys, max, count, shape)
    }
}

pub(in crate::cmd::zset) fn bzpopmin(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    bzpop(ctx, argv, false)
}

pub(in crate::cmd::zset) fn bzpopmax(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    bzpop(ctx, argv, true)
}

fn bzpop(ctx: &mut Ctx, argv: &[Bytes], max: bool) -> Frame {
    let last = argv.len() - 1;
    let shape = Shape {
        emitkey: true,
        nested: false,
        nil_when_empty: false,
    };
    blocking(ctx, &argv[1..last], &argv[last], max, -1, shape)
}

/// Serves the first key holding data, or blocks on all of them.
fn blocking(
    ctx: &mut Ctx,
    keys: &[Bytes],
    timeout: &[u8],
    max: bool,
    count: i64,
    shape: Shape,
) -> Frame {
    let timeout = tri!(timeout_arg(timeout));
    for key in keys {
        match tri!(write(ctx, key)) {
            Some(z) if !z.is_empty() => {
                return pop_generic(ctx, std::slice::from_ref(key), max, count, shape)
            }
            _ => {}
        }
    }
    ctx.block_on(keys.to_vec(), timeout, Frame::NullArray)
}

// ---------------------------------------------------------------- ZRANDMEMBER

/// The most elements ZRANDMEMBER with a negative count replies (Redis sends
/// until the client's output buffer limit closes the connection; keel refuses
/// counts whose reply could not be built in memory).
const RANDMEMBER_MAX: u64 = 1 << 26;

pub(in crate::cmd::zset) fn zrandmember(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    if argv.len() >= 3 {
        let l = tri!(int_arg(&argv[2]));
        if argv.len() > 4 || (argv.len() == 4 && !is(&argv[3], "withscores")) {
            return err(ERR_SYNTAX);
        }
        let withscores = argv.len() == 4;
        if withscores && !(i64::MIN / 2..=i64::MAX / 2).contains(&l) {
            return err("ERR value is out of range");
        }
        return with_count(ctx, argv, l, withscores);
    }
    let Some(z) = tri!(read(ctx, &argv[1])) else {
        return Frame::Null;
    };
    let r = rand::thread_rng().gen_range(0..z.len().max(1));
    z.get(r).map_or(Frame::Null, |(m, _)| bulk(m))
}

fn with_count(ctx: &mut Ctx, argv: &[Bytes], l: i64, withscores: bool) -> Frame {
    let resp = ctx.resp;
    let Some(z) = tri!(read(ctx, &argv[1])) else {
        return Frame::Array(Vec::new());
    };
    let size = z.len();
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    if count == 0 {
        return Frame::Array(Vec::new());
    }
    let mut rng = rand::thread_rng();
    let mut out = Vec::new();
    if !uniq || count == 1 {
        if count > RANDMEMBER_MAX {
            return err("ERR value is out of range");
        }
        for _ in 0..count {
            if let Some((m, s)) = z.get(rng.gen_range(0..size)) {
                push_member(&mut out, resp, m, s, withscores);
            }
        }
        return Frame::Array(out);
    }
    let count = count as usize;
    if count >= size {
        // The whole set, highest first (Redis walks it from the tail).
        for (m, s) in z.iter_from(size - 1, true) {
            push_member(&mut out, resp, m, s, withscores);
        }
        return Frame::Array(out);
    }
    let mut ranks: Vec<usize> = if count * 3 > size {
        // Many of them: a partial shuffle of every rank.
        let mut all: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = rng.gen_range(i..size);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut v = Vec::with_capacity(count);
        while v.len() < count {
            let r = rng.gen_range(0..size);
            if seen.insert(r) {
                v.push(r);
            }
        }
        v
    };
    if matches!(z, ZSet::Pack(_)) {
        // Walk a packed set once instead of seeking every rank.
        ranks.sort_unstable();
        let mut it = ranks.iter().peekable();
        for (i, (m, s)) in z.iter_from(0, false).enumerate() {
            if it.peek() == Some(&&i) {
                it.next();
                push_member(&mut out, resp, m, s, withscores);
            }
        }
    } else {
        for r in ranks {
            if let Some((m, s)) = z.get(r) {
                push_member(&mut out, resp, m, s, withscores);
            }
        }
    }
    Frame::Array(out)
}

// ---------------------------------------------------------------- ZSCAN

pub(in crate::cmd::zset) fn zscan(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let Some(cursor) = crate::cmd::keys::parse_cursor(&argv[2]) else {
        return err("ERR invalid cursor");
    };
    let empty = || Frame::Array(vec![Frame::bulk("0"), Frame::Array(Vec::new())]);
    let Some(z) = tri!(read(ctx, &argv[1])) else {
        return empty();
    };
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if is(&argv[i], "count") && has_value {
            let c = tri!(int_arg(&argv[i + 1]));
            if c < 1 {
                return err(ERR_SYNTAX);
            }
            count = usize::try_from(c).unwrap_or(usize::MAX);
        } else if is(&argv[i], "match") && has_value {
            let p = &argv[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return err(ERR_SYNTAX);
        }
        i += 2;
    }
    let mut items = Vec::new();
    let next = z.scan(cursor, count, |m, s, int| {
        if pattern.is_some_and(|p| !crate::glob::matches(p, m, false)) {
            return;
        }
        items.push(bulk(m));
        let text = match as_int(s) {
            Some(v) if int => n(v),
            _ => score_arg(s),
        };
        items.push(Frame::Bulk(text));
    });
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(items),
    ])
}
