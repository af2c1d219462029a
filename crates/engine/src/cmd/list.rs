//! List commands (t_list.c) with Redis 7.0's syntax, replies, errors and
//! keyspace events: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE,
//! LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP and the
//! engine side of the blocking forms BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
//!
//! Effects: list commands are deterministic given the state, so most log
//! themselves; pops log the count actually popped (`LPOP key n`), and a
//! blocking command that serves data logs its non-blocking form (BLPOP ->
//! `LPOP key`, BLMOVE -> `LMOVE`, BRPOPLPUSH -> `RPOPLPUSH`, BLMPOP ->
//! `LPOP key n`), as Redis propagates them. No-ops log nothing.
//!
//! Blocking: when every key is missing, a blocking command asks the server to
//! park the client ([`Ctx::block_on`]); when one of the keys is written, the
//! server runs the same argv again, and a run that finds data replies and logs
//! exactly like the non-blocking command would.

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, LIST};
use crate::tri;
use crate::types::list::{Fill, List, Probe};
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[
    ("lpush", Scope::Keys, lpush),
    ("rpush", Scope::Keys, rpush),
    ("lpushx", Scope::Keys, lpushx),
    ("rpushx", Scope::Keys, rpushx),
    ("lpop", Scope::Keys, lpop),
    ("rpop", Scope::Keys, rpop),
    ("llen", Scope::Keys, llen),
    ("lrange", Scope::Keys, lrange),
    ("lindex", Scope::Keys, lindex),
    ("lset", Scope::Keys, lset),
    ("linsert", Scope::Keys, linsert),
    ("lrem", Scope::Keys, lrem),
    ("ltrim", Scope::Keys, ltrim),
    ("lpos", Scope::Keys, lpos),
    ("lmove", Scope::Keys, lmove),
    ("rpoplpush", Scope::Keys, rpoplpush),
    ("lmpop", Scope::Keys, lmpop),
    ("blpop", Scope::Keys, blpop),
    ("brpop", Scope::Keys, brpop),
    ("blmove", Scope::Keys, blmove),
    ("brpoplpush", Scope::Keys, brpoplpush),
    ("blmpop", Scope::Keys, blmpop),
];

const ERR_POSITIVE: &str = "ERR value is out of range, must be positive";
const ERR_INDEX: &str = "ERR index out of range";
const ERR_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

// ---------------------------------------------------------------------------
// Helpers

/// The list under `key` for writing (no hit/miss counting, as Redis's
/// `lookupKeyWrite`): `Ok(None)` when missing, WRONGTYPE for another type.
fn write_list<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut List>, Frame> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l, _) => Ok(Some(l)),
            _ => Err(wrongtype()),
        },
    }
}

/// The list under `key` for reading (counts a hit or miss, notifies `keymiss`).
fn read_list<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c List>, Frame> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l, _) => Ok(Some(l)),
            _ => Err(wrongtype()),
        },
    }
}

/// The configured node size (`list-max-listpack-size`).
fn fill(ctx: &Ctx) -> Fill {
    Fill::new(ctx.thresholds().list_max_listpack_size)
}

/// Stores a new list under `key` (announced `new`).
fn store(ctx: &mut Ctx, key: &Bytes, l: List) {
    let now = ctx.now;
    ctx.insert(
        key,
        Entry::new(Value::List(l, crate::value::LRU_UNSET), 0, now),
    );
}

/// LEFT or RIGHT; true for RIGHT (the tail).
fn side_arg(arg: &[u8]) -> Result<bool, Frame> {
    if is(arg, "RIGHT") {
        Ok(true)
    } else if is(arg, "LEFT") {
        Ok(false)
    } else {
        Err(err(ERR_SYNTAX))
    }
}

fn side_name(back: bool) -> Bytes {
    s(if back { "RIGHT" } else { "LEFT" })
}

/// An integer in 0..=i64::MAX, with `msg` as the error for anything else
/// (Redis's `getPositiveLongFromObjectOrReply`).
fn positive_arg(arg: &[u8], msg: &str) -> Result<i64, Frame> {
    match crate::util::parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(err(msg)),
    }
}

/// An integer in 1..=i64::MAX, with `msg` as the error for anything else.
fn at_least_one_arg(arg: &[u8], msg: &str) -> Result<i64, Frame> {
    match crate::util::parse_i64(arg) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(err(msg)),
    }
}

/// After elements were popped from `key`: the `lpop`/`rpop` event, and the
/// key deleted (with `del`) when the list is now empty (`listElementsRemoved`).
fn popped(ctx: &mut Ctx, key: &[u8], back: bool, emptied: bool) {
    ctx.notify(LIST, if back { "rpop" } else { "lpop" }, key);
    if emptied {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
}

/// Pops up to `count` elements from the list under `key` (known to exist),
/// with the events and the `LPOP key n` effect. Returns the elements (tail
/// first when popping from the tail).
fn pop_count(ctx: &mut Ctx, key: &Bytes, back: bool, count: usize) -> Vec<Bytes> {
    let (out, emptied) = match write_list(ctx, key) {
        Ok(Some(l)) => {
            let out = l.pop_many(count, back);
            (out, l.is_empty())
        }
        _ => return Vec::new(),
    };
    popped(ctx, key, back, emptied);
    let name = if back { "RPOP" } else { "LPOP" };
    let popped = out.len() as i64;
    ctx.emit_with(|| smallvec![s(name), key.clone(), n(popped)]);
    out
}

/// Pops one element from the list under `key` (known to exist), with the
/// events and the `LPOP key` effect.
fn pop_one(ctx: &mut Ctx, key: &Bytes, back: bool) -> Option<Bytes> {
    let (v, emptied) = match write_list(ctx, key) {
        Ok(Some(l)) => {
            let v = l.pop(back)?;
            (v, l.is_empty())
        }
        _ => return None,
    };
    popped(ctx, key, back, emptied);
    ctx.emit_with(|| smallvec![s(if back { "RPOP" } else { "LPOP" }), key.clone()]);
    Some(v)
}

/// Resolves LRANGE/LTRIM-style `start`/`end` against `len`: the first index
/// and how many, or `None` for an empty range (`addListRangeReply`).
fn range_of(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

fn bulks(v: Vec<Bytes>) -> Frame {
    Frame::Array(v.into_iter().map(Frame::Bulk).collect())
}

// ---------------------------------------------------------------------------
// Push

/// LPUSH, RPUSH, LPUSHX, RPUSHX (`pushGenericCommand`).
fn push_generic(ctx: &mut Ctx, argv: &[Bytes], back: bool, xx: bool) -> Frame {
    let key = &argv[1];
    let elems = argv.get(2..).unwrap_or_default();
    let f = fill(ctx);
    let len = match tri!(write_list(ctx, key)) {
        Some(l) => {
            for v in elems {
                l.push(v, back, f);
            }
            l.len()
        }
        None if xx => return Frame::Integer(0),
        None => {
            let mut l = List::new();
            for v in elems {
                l.push(v, back, f);
            }
            let len = l.len();
            store(ctx, key, l);
            len
        }
    };
    ctx.emit_with(|| {
        let mut fx = Args::with_capacity(argv.len());
        fx.push(s(if back { "RPUSH" } else { "LPUSH" }));
        fx.push(key.clone());
        fx.extend(elems.iter().cloned());
        fx
    });
    ctx.notify(LIST, if back { "rpush" } else { "lpush" }, key);
    Frame::Integer(len as i64)
}

fn lpush(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    push_generic(ctx, argv, false, false)
}

fn rpush(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    push_generic(ctx, argv, true, false)
}

fn lpushx(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    push_generic(ctx, argv, false, true)
}

fn rpushx(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    push_generic(ctx, argv, true, true)
}

// ---------------------------------------------------------------------------
// Pop

/// LPOP and RPOP, with the optional count (`popGenericCommand`).
fn pop_generic(ctx: &mut Ctx, argv: &[Bytes], back: bool) -> Frame {
    if argv.len() > 3 {
        let name = if back { "rpop" } else { "lpop" };
        return err(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
    }
    let key = &argv[1];
    let count = match argv.get(2) {
        Some(c) => Some(tri!(positive_arg(c, ERR_POSITIVE))),
        None => None,
    };
    match tri!(write_list(ctx, key)) {
        None if count.is_some() => return Frame::NullArray,
        None => return Frame::Null,
        Some(_) => {}
    }
    match count {
        Some(0) => Frame::Array(Vec::new()),
        Some(c) => bulks(pop_count(ctx, key, back, c as usize)),
        None => pop_one(ctx, key, back).map_or(Frame::Null, Frame::Bulk),
    }
}

fn lpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    pop_generic(ctx, argv, false)
}

fn rpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    pop_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------
// Reads

fn llen(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match tri!(read_list(ctx, &argv[1])) {
        Some(l) => Frame::Integer(l.len() as i64),
        None => Frame::Integer(0),
    }
}

fn lrange(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let start = tri!(int_arg(&argv[2]));
    let end = tri!(int_arg(&argv[3]));
    let Some(l) = tri!(read_list(ctx, &argv[1])) else {
        return Frame::Array(Vec::new());
    };
    match range_of(start, end, l.len()) {
        None => Frame::Array(Vec::new()),
        Some((from, count)) => {
            // Encoded as it is read: one buffer for the whole reply.
            let mut out =
                keel_protocol::BulkArray::with_capacity(count.saturating_mul(16).min(1 << 20));
            for e in l.iter_from(from, false).take(count) {
                e.with_bytes(|b| out.push(b));
            }
            out.finish()
        }
    }
}

/// LINDEX: as Redis, the key is looked up before the index is parsed.
fn lindex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let Some(l) = tri!(read_list(ctx, &argv[1])) else {
        return Frame::Null;
    };
    let index = tri!(int_arg(&argv[2]));
    match resolve_index(index, l.len()).and_then(|i| l.get(i)) {
        Some(v) => Frame::Bulk(v),
        None => Frame::Null,
    }
}

/// A possibly negative index into a list of `len`, if in range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        (len as i64).checked_add(index)?
    } else {
        index
    };
    usize::try_from(i).ok().filter(|&i| i < len)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
fn lpos(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while let Some(opt) = argv.get(j) {
        let Some(val) = argv.get(j + 1) else {
            return err(ERR_SYNTAX);
        };
        if is(opt, "RANK") {
            rank = tri!(int_arg(val));
            if rank == 0 {
                return err(ERR_RANK_ZERO);
            }
        } else if is(opt, "COUNT") {
            count = Some(tri!(positive_arg(val, "ERR COUNT can't be negative")));
        } else if is(opt, "MAXLEN") {
            maxlen = tri!(positive_arg(val, "ERR MAXLEN can't be negative"));
        } else {
            return err(ERR_SYNTAX);
        }
        j += 2;
    }
    // A negative rank searches from the tail. (Redis negates it in a C long:
    // i64::MIN stays negative, so every match then counts as reaching the
    // rank; the wrapping arithmetic below reproduces that.)
    let back = rank < 0;
    if back {
        rank = rank.wrapping_neg();
    }
    let Some(l) = tri!(read_list(ctx, &argv[1])) else {
        return if count.is_some() {
            Frame::Array(Vec::new())
        } else {
            Frame::Null
        };
    };
    let probe = Probe::new(&argv[2]);
    let llen = l.len() as i64;
    let start = if back { l.len().saturating_sub(1) } else { 0 };
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (index, e) in (0i64..).zip(l.iter_from(start, back)) {
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if !e.matches(&probe) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        let at = if back { llen - index - 1 } else { index };
        found.push(Frame::Integer(at));
        match count {
            None => break,
            Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
            Some(_) => {}
        }
    }
    match count {
        Some(_) => Frame::Array(found),
        None => found.pop().unwrap_or(Frame::Null),
    }
}

// ---------------------------------------------------------------------------
// In-place edits

fn lset(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (key, value) = (&argv[1], &argv[3]);
    let index = tri!(int_arg(&argv[2]));
    let f = fill(ctx);
    let Some(l) = tri!(write_list(ctx, key)) else {
        return err(ERR_NO_KEY);
    };
    let ok = resolve_index(index, l.len()).is_some_and(|i| l.set(i, value, f));
    if !ok {
        return err(ERR_INDEX);
    }
    ctx.emit(smallvec![
        s("LSET"),
        key.clone(),
        argv[2].clone(),
        value.clone()
    ]);
    ctx.notify(LIST, "lset", key);
    Frame::ok()
}

fn linsert(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let after = if is(&argv[2], "AFTER") {
        true
    } else if is(&argv[2], "BEFORE") {
        false
    } else {
        return err(ERR_SYNTAX);
    };
    let f = fill(ctx);
    let Some(l) = tri!(write_list(ctx, key)) else {
        return Frame::Integer(0);
    };
    if !l.insert_pivot(&argv[3], &argv[4], after, f) {
        return Frame::Integer(-1);
    }
    let len = l.len();
    ctx.emit(smallvec![
        s("LINSERT"),
        key.clone(),
        s(if after { "AFTER" } else { "BEFORE" }),
        argv[3].clone(),
        argv[4].clone(),
    ]);
    ctx.notify(LIST, "linsert", key);
    Frame::Integer(len as i64)
}

fn lrem(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let count = tri!(int_arg(&argv[2]));
    let Some(l) = tri!(write_list(ctx, key)) else {
        return Frame::Integer(0);
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = l.remove(&argv[3], limit, count < 0);
    let emptied = l.is_empty();
    if removed > 0 {
        ctx.emit(smallvec![
            s("LREM"),
            key.clone(),
            argv[2].clone(),
            argv[3].clone(),
        ]);
        ctx.notify(LIST, "lrem", key);
    }
    if emptied {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    Frame::Integer(removed as i64)
}

fn ltrim(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let start = tri!(int_arg(&argv[2]));
    let end = tri!(int_arg(&argv[3]));
    let Some(l) = tri!(write_list(ctx, key)) else {
        return Frame::ok();
    };
    let len = l.len();
    let (ltrim, rtrim) = match range_of(start, end, len) {
        None => (len, 0),
        Some((from, count)) => (from, len - from - count),
    };
    l.del_range(len - rtrim, rtrim);
    l.del_range(0, ltrim);
    let emptied = l.is_empty();
    if ltrim + rtrim > 0 {
        ctx.emit(smallvec![
            s("LTRIM"),
            key.clone(),
            argv[2].clone(),
            argv[3].clone(),
        ]);
    }
    // Redis announces `ltrim` even when nothing was trimmed.
    ctx.notify(LIST, "ltrim", key);
    if emptied {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    Frame::ok()
}

// ---------------------------------------------------------------------------
// Moves

/// LMOVE's work (`lmoveGenericCommand`): pops from `src`'s `from_back` end and
/// pushes onto `dst`'s `to_back` end, logging `effect`. `dst`'s type is
/// checked before anything changes. Null when `src` is missing.
fn lmove_generic(
    ctx: &mut Ctx,
    src: &Bytes,
    dst: &Bytes,
    from_back: bool,
    to_back: bool,
    effect: Vec<Bytes>,
) -> Frame {
    if tri!(write_list(ctx, src)).is_none() {
        return Frame::Null;
    }
    let dst_exists = tri!(write_list(ctx, dst)).is_some();
    let (v, src_emptied) = match write_list(ctx, src) {
        Ok(Some(l)) => match l.pop(from_back) {
            Some(v) => (v, l.is_empty()),
            None => return Frame::Null,
        },
        _ => return Frame::Null,
    };
    // The same key: the element goes back into the same (never deleted) list.
    let same = src == dst;
    let f = fill(ctx);
    if dst_exists || same {
        if let Ok(Some(l)) = write_list(ctx, dst) {
            l.push(&v, to_back, f);
        }
    } else {
        let mut l = List::new();
        l.push(&v, to_back, f);
        store(ctx, dst, l);
    }
    ctx.notify(LIST, if to_back { "rpush" } else { "lpush" }, dst);
    ctx.notify(LIST, if from_back { "rpop" } else { "lpop" }, src);
    if src_emptied && !same {
        ctx.remove(src);
        ctx.notify(GENERIC, "del", src);
    }
    ctx.emit(effect);
    Frame::Bulk(v)
}

fn lmove_effect(src: &Bytes, dst: &Bytes, from_back: bool, to_back: bool) -> Vec<Bytes> {
    vec![
        s("LMOVE"),
        src.clone(),
        dst.clone(),
        side_name(from_back),
        side_name(to_back),
    ]
}

fn lmove(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let from_back = tri!(side_arg(&argv[3]));
    let to_back = tri!(side_arg(&argv[4]));
    let fx = lmove_effect(&argv[1], &argv[2], from_back, to_back);
    lmove_generic(ctx, &argv[1], &argv[2], from_back, to_back, fx)
}

fn rpoplpush(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let fx = vec![s("RPOPLPUSH"), argv[1].clone(), argv[2].clone()];
    lmove_generic(ctx, &argv[1], &argv[2], true, false, fx)
}

// ---------------------------------------------------------------------------
// Multi-key pops

/// LMPOP/BLMPOP arguments: `numkeys` at `at`, the keys, LEFT|RIGHT, [COUNT n]
/// (`lmpopGenericCommand`). Returns the keys, the side and the count.
fn mpop_args(argv: &[Bytes], at: usize) -> Result<(&[Bytes], bool, usize), Frame> {
    let numkeys = at_least_one_arg(
        argv.get(at).map_or(&b""[..], |a| &a[..]),
        "ERR numkeys should be greater than 0",
    )?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|k| k.checked_add(at + 1))
        .filter(|&w| w < argv.len())
        .ok_or_else(|| err(ERR_SYNTAX))?;
    let back = side_arg(&argv[where_at])?;
    let mut count: Option<i64> = None;
    let mut j = where_at + 1;
    while let Some(opt) = argv.get(j) {
        match argv.get(j + 1) {
            Some(v) if count.is_none() && is(opt, "COUNT") => {
                count = Some(at_least_one_arg(v, "ERR count should be greater than 0")?);
            }
            _ => return Err(err(ERR_SYNTAX)),
        }
        j += 2;
    }
    let keys = argv.get(at + 1..where_at).unwrap_or_default();
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((keys, back, count))
}

/// Pops from the first non-empty list of `keys`: `Ok(Some(reply))`, `Ok(None)`
/// when every key is missing, WRONGTYPE for a key of another type met first.
fn mpop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    back: bool,
    count: usize,
) -> Result<Option<Frame>, Frame> {
    for key in keys {
        if write_list(ctx, key)?.is_none() {
            continue;
        }
        let out = pop_count(ctx, key, back, count);
        return Ok(Some(Frame::Array(vec![
            Frame::Bulk(key.clone()),
            bulks(out),
        ])));
    }
    Ok(None)
}

fn lmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (keys, back, count) = tri!(mpop_args(argv, 1));
    tri!(mpop_first(ctx, keys, back, count)).unwrap_or(Frame::NullArray)
}

// ---------------------------------------------------------------------------
// Blocking forms (engine side)

/// BLPOP and BRPOP (`blockingPopGenericCommand`): the timeout is checked
/// first; the first non-empty list is served as `[key, element]`.
fn bpop_generic(ctx: &mut Ctx, argv: &[Bytes], back: bool) -> Frame {
    let Some((last, keys)) = argv.get(1..).and_then(|a| a.split_last()) else {
        return err(ERR_SYNTAX);
    };
    let timeout = tri!(timeout_arg(last));
    for key in keys {
        if tri!(write_list(ctx, key)).is_none() {
            continue;
        }
        if let Some(v) = pop_one(ctx, key, back) {
            return Frame::Array(vec![Frame::Bulk(key.clone()), Frame::Bulk(v)]);
        }
    }
    ctx.block_on(keys.to_vec(), timeout, Frame::NullArray)
}

fn blpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    bpop_generic(ctx, argv, false)
}

fn brpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    bpop_generic(ctx, argv, true)
}

/// BLMOVE and BRPOPLPUSH (`blmoveGenericCommand`): a missing source blocks
/// (the destination is not checked then); otherwise it is LMOVE.
fn bmove_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    from_back: bool,
    to_back: bool,
    timeout: u64,
    effect: Vec<Bytes>,
) -> Frame {
    let (src, dst) = (&argv[1], &argv[2]);
    if tri!(write_list(ctx, src)).is_none() {
        return ctx.block_on(vec![src.clone()], timeout, Frame::Null);
    }
    lmove_generic(ctx, src, dst, from_back, to_back, effect)
}

fn blmove(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let from_back = tri!(side_arg(&argv[3]));
    let to_back = tri!(side_arg(&argv[4]));
    let timeout = tri!(timeout_arg(&argv[5]));
    let fx = lmove_effect(&argv[1], &argv[2], from_back, to_back);
    bmove_generic(ctx, argv, from_back, to_back, timeout, fx)
}

fn brpoplpush(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let timeout = tri!(timeout_arg(&argv[3]));
    let fx = vec![s("RPOPLPUSH"), argv[1].clone(), argv[2].clone()];
    bmove_generic(ctx, argv, true, false, timeout, fx)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the timeout
/// is parsed after the other arguments, as Redis does.
fn blmpop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (keys, back, count) = tri!(mpop_args(argv, 2));
    let timeout = tri!(timeout_arg(&argv[1]));
    match tri!(mpop_first(ctx, keys, back, count)) {
        Some(reply) => reply,
        None => ctx.block_on(keys.to_vec(), timeout, Frame::NullArray),
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::{engine, fx, notes_engine, run};
    use crate::engine::Session;
    use keel_protocol::Frame;

    fn b(s: &str) -> Frame {
        Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
    }

    fn arr(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| b(s)).collect())
    }

    /// A reply as the client reads it (LRANGE's comes encoded already).
    fn wire(f: &Frame) -> Vec<u8> {
        let mut out = bytes::BytesMut::new();
        f.encode(2, &mut out);
        out.to_vec()
    }

    #[test]
    fn push_pop_and_effects() {
        let (e, _) = engine();
        let mut s = Session::default();
        assert_eq!(run(&e, &mut s, "RPUSH l a b c").0, Frame::Integer(3));
        let (f, x) = run(&e, &mut s, "lpush l z");
        assert_eq!(f, Frame::Integer(4));
        assert_eq!(fx(&x), ["0 LPUSH l z"]);
        assert_eq!(
            wire(&run(&e, &mut s, "LRANGE l 0 -1").0),
            wire(&arr(&["z", "a", "b", "c"]))
        );
        let (f, x) = run(&e, &mut s, "RPOP l 2");
        assert_eq!(f, arr(&["c", "b"]));
        assert_eq!(fx(&x), ["0 RPOP l 2"]);
        let (f, x) = run(&e, &mut s, "LPOP l 0");
        assert_eq!(f, Frame::Array(vec![]));
        assert!(x.is_empty());
        let (f, x) = run(&e, &mut s, "LPOP l 10");
        assert_eq!(f, arr(&["z", "a"]));
        assert_eq!(fx(&x), ["0 LPOP l 2"]);
        assert_eq!(run(&e, &mut s, "EXISTS l").0, Frame::Integer(0));
        assert_eq!(run(&e, &mut s, "LPOP l").0, Frame::Null);
        assert_eq!(run(&e, &mut s, "LPOP l 1").0, Frame::NullArray);
        let (f, x) = run(&e, &mut s, "LPUSHX l a");
        assert_eq!(f, Frame::Integer(0));
        assert!(x.is_empty());
    }

    #[test]
    fn edits_log_their_effects_and_noops_nothing() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "RPUSH l a b a c");
        assert_eq!(fx(&run(&e, &mut s, "LSET l -1 d").1), ["0 LSET l -1 d"]);
        assert_eq!(
            fx(&run(&e, &mut s, "LINSERT l after b x").1),
            ["0 LINSERT l AFTER b x"]
        );
        let (f, x) = run(&e, &mut s, "LINSERT l after nope x");
        assert_eq!((f, x.len()), (Frame::Integer(-1), 0));
        let (f, x) = run(&e, &mut s, "LREM l 0 zz");
        assert_eq!((f, x.len()), (Frame::Integer(0), 0));
        assert_eq!(fx(&run(&e, &mut s, "LREM l -1 a").1), ["0 LREM l -1 a"]);
        assert_eq!(
            wire(&run(&e, &mut s, "LRANGE l 0 -1").0),
            wire(&arr(&["a", "b", "x", "d"]))
        );
        assert!(run(&e, &mut s, "LTRIM l 0 -1").1.is_empty());
        assert_eq!(fx(&run(&e, &mut s, "LTRIM l 1 -2").1), ["0 LTRIM l 1 -2"]);
        assert_eq!(
            wire(&run(&e, &mut s, "LRANGE l 0 -1").0),
            wire(&arr(&["b", "x"]))
        );
        assert_eq!(fx(&run(&e, &mut s, "LTRIM l 5 1").1), ["0 LTRIM l 5 1"]);
        assert_eq!(run(&e, &mut s, "EXISTS l").0, Frame::Integer(0));
    }

    #[test]
    fn lmove_forms_and_effects() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "RPUSH a 1 2");
        let (f, x) = run(&e, &mut s, "LMOVE a b left right");
        assert_eq!(f, b("1"));
        assert_eq!(fx(&x), ["0 LMOVE a b LEFT RIGHT"]);
        let (f, x) = run(&e, &mut s, "RPOPLPUSH a b");
        assert_eq!(f, b("2"));
        assert_eq!(fx(&x), ["0 RPOPLPUSH a b"]);
        assert_eq!(run(&e, &mut s, "EXISTS a").0, Frame::Integer(0));
        assert_eq!(
            wire(&run(&e, &mut s, "LRANGE b 0 -1").0),
            wire(&arr(&["2", "1"]))
        );
        // Rotation of a one-element list keeps the key.
        run(&e, &mut s, "RPUSH c x");
        assert_eq!(run(&e, &mut s, "LMOVE c c left right").0, b("x"));
        assert_eq!(
            wire(&run(&e, &mut s, "LRANGE c 0 -1").0),
            wire(&arr(&["x"]))
        );
        // Destination of the wrong type: nothing changes.
        run(&e, &mut s, "SET str v");
        let (f, x) = run(&e, &mut s, "LMOVE b str left left");
        assert!(f.is_error());
        assert!(x.is_empty());
        assert_eq!(run(&e, &mut s, "LLEN b").0, Frame::Integer(2));
        // Missing source: null, even with a wrong-type destination.
        assert_eq!(run(&e, &mut s, "LMOVE nokey str left left").0, Frame::Null);
    }

    #[test]
    fn lmpop_logs_pop_with_count() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "RPUSH b 1 2 3");
        let (f, x) = run(&e, &mut s, "LMPOP 2 a b RIGHT COUNT 2");
        assert_eq!(f, Frame::Array(vec![b("b"), arr(&["3", "2"])]));
        assert_eq!(fx(&x), ["0 RPOP b 2"]);
        assert_eq!(run(&e, &mut s, "LMPOP 1 a LEFT").0, Frame::NullArray);
    }

    #[test]
    fn blocking_forms_serve_or_block() {
        let (e, _) = engine();
        // Data present: served at once, logged as the non-blocking form.
        let mut s = Session {
            may_block: true,
            ..Session::default()
        };
        run(&e, &mut s, "RPUSH l a b");
        let (f, x) = run(&e, &mut s, "BLPOP nokey l 0");
        assert_eq!(f, arr(&["l", "a"]));
        assert_eq!(fx(&x), ["0 LPOP l"]);
        let (f, x) = run(&e, &mut s, "BLMOVE l d RIGHT LEFT 0");
        assert_eq!(f, b("b"));
        assert_eq!(fx(&x), ["0 LMOVE l d RIGHT LEFT"]);
        let (f, x) = run(&e, &mut s, "BRPOPLPUSH d d2 0");
        assert_eq!(f, b("b"));
        assert_eq!(fx(&x), ["0 RPOPLPUSH d d2"]);
        let (f, x) = run(&e, &mut s, "BLMPOP 0 2 x d2 LEFT COUNT 5");
        assert_eq!(f, Frame::Array(vec![b("d2"), arr(&["b"])]));
        assert_eq!(fx(&x), ["0 LPOP d2 1"]);

        // Nothing there and blocking not allowed (inside MULTI): Redis's replies.
        let mut s = Session::default();
        for (cmd, want) in [
            ("BLPOP a b 0", Frame::NullArray),
            ("BRPOP a 1.5", Frame::NullArray),
            ("BLMPOP 0 1 a LEFT", Frame::NullArray),
            ("BLMOVE a b LEFT LEFT 0", Frame::Null),
            ("BRPOPLPUSH a b 0", Frame::Null),
        ] {
            let (f, x) = run(&e, &mut s, cmd);
            assert_eq!(f, want, "{cmd}");
            assert!(x.is_empty());
        }

        // Wrong type: an error at once.
        run(&e, &mut s, "SET str v");
        assert!(run(&e, &mut s, "BLPOP nokey str 0").0.is_error());
        assert!(run(&e, &mut s, "BLMOVE str d LEFT LEFT 0").0.is_error());
        // Timeout errors come first.
        assert_eq!(
            run(&e, &mut s, "BLPOP str -1").0,
            Frame::error("ERR timeout is negative")
        );
    }

    #[test]
    fn blocking_requests_name_the_keys_and_timeout() {
        let (e, _) = engine();
        let mut s = Session {
            may_block: true,
            ..Session::default()
        };
        let mut exec = |line: &str| {
            let argv: Vec<bytes::Bytes> = line
                .split(' ')
                .map(|w| bytes::Bytes::copy_from_slice(w.as_bytes()))
                .collect();
            let cmd = match crate::command::table::resolve(&argv) {
                crate::command::table::Lookup::Found(c) => c,
                _ => panic!("{line}"),
            };
            let f = e.execute(&mut s, cmd, &argv);
            (f, s.blocked.take())
        };
        let (_, req) = exec("BLPOP a b 1.5");
        let req = req.expect("blocks");
        assert_eq!(req.keys, ["a", "b"]);
        assert_eq!(req.timeout_ms, 1500);
        let (_, req) = exec("BLMOVE src dst LEFT RIGHT 0");
        assert_eq!(req.expect("blocks").keys, ["src"]);
        let (_, req) = exec("BLMPOP 0.001 2 x y RIGHT");
        let req = req.expect("blocks");
        assert_eq!((req.keys.len(), req.timeout_ms), (2, 1));
        let (_, req) = exec("RPUSH y v");
        assert!(req.is_none());
        let (f, req) = exec("BLMPOP 0 2 x y RIGHT");
        assert!(req.is_none());
        assert_eq!(f, Frame::Array(vec![b("y"), arr(&["v"])]));
    }

    #[test]
    fn lpos_options() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "RPUSH l a b a c a");
        let q = |s: &mut Session, line: &str| run(&e, s, line).0;
        assert_eq!(q(&mut s, "LPOS l a"), Frame::Integer(0));
        assert_eq!(q(&mut s, "LPOS l a RANK 2"), Frame::Integer(2));
        assert_eq!(q(&mut s, "LPOS l a RANK -1"), Frame::Integer(4));
        assert_eq!(
            q(&mut s, "LPOS l a COUNT 0"),
            Frame::Array(vec![
                Frame::Integer(0),
                Frame::Integer(2),
                Frame::Integer(4)
            ])
        );
        assert_eq!(
            q(&mut s, "LPOS l a RANK -2 COUNT 5"),
            Frame::Array(vec![Frame::Integer(2), Frame::Integer(0)])
        );
        assert_eq!(
            q(&mut s, "LPOS l a COUNT 0 MAXLEN 3"),
            Frame::Array(vec![Frame::Integer(0), Frame::Integer(2)])
        );
        assert_eq!(q(&mut s, "LPOS l a RANK 4"), Frame::Null);
        assert_eq!(q(&mut s, "LPOS nokey a COUNT 1"), Frame::Array(vec![]));
        // i64::MIN as rank behaves as Redis's overflowing negation does.
        assert_eq!(
            q(&mut s, "LPOS l a RANK -9223372036854775808 COUNT 1"),
            Frame::Array(vec![
                Frame::Integer(4),
                Frame::Integer(2),
                Frame::Integer(0)
            ])
        );
        assert_eq!(q(&mut s, "LPOS l a RANK -9223372036854775807"), Frame::Null);
    }

    #[test]
    fn keyspace_events_as_redis() {
        let (e, _, rec) = notes_engine();
        let mut s = Session::default();
        run(&e, &mut s, "RPUSH a 1 2");
        assert_eq!(rec.take(), ["0 new a", "0 rpush a"]);
        run(&e, &mut s, "LMOVE a b LEFT RIGHT");
        assert_eq!(rec.take(), ["0 new b", "0 rpush b", "0 lpop a"]);
        run(&e, &mut s, "LMOVE a b LEFT LEFT");
        assert_eq!(rec.take(), ["0 lpush b", "0 lpop a", "0 del a"]);
        run(&e, &mut s, "LTRIM b 0 -1");
        assert_eq!(rec.take(), ["0 ltrim b"]);
        run(&e, &mut s, "LREM b 0 zz");
        assert!(rec.take().is_empty());
        run(&e, &mut s, "LINSERT b BEFORE 1 x");
        run(&e, &mut s, "LSET b 0 y");
        run(&e, &mut s, "LREM b 0 y");
        assert_eq!(rec.take(), ["0 linsert b", "0 lset b", "0 lrem b"]);
        run(&e, &mut s, "RPOP b 5");
        assert_eq!(rec.take(), ["0 rpop b", "0 del b"]);
        run(&e, &mut s, "LLEN b");
        assert_eq!(rec.take(), ["0 keymiss b"]);
    }
}
