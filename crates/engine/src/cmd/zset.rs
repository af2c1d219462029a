//! Sorted-set commands (t_zset.c): ZADD, ZRANGE and family, the set operations,
//! ZSCAN and the blocking forms BZPOPMIN, BZPOPMAX, BZMPOP, with Redis 7.0's
//! parsing order, replies (RESP2 and RESP3) and error texts.
//!
//! This file holds the shared helpers (score and range parsing, lookups,
//! replies) and the single-member commands; [`range`] has ZRANGE, ZCOUNT and
//! the ZREMRANGEBY* commands, [`setops`] ZUNION/ZINTER/ZDIFF and their STORE
//! forms, [`pop`] the pops (blocking too), ZRANDMEMBER and ZSCAN.
//!
//! Effects: ZADD and ZINCRBY log `ZADD key <resulting score> member` for what
//! changed; ZREM logs the members it removed; pops log `ZPOPMIN/ZPOPMAX key
//! <count>`; commands that are deterministic given the dataset (ZREMRANGEBY*,
//! *STORE) log themselves.

mod pop;
mod range;
mod setops;

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, ZSET};
use crate::tri;
use crate::types::zset::{LexBound, LexRange, ScoreRange};
use crate::types::ZSet;
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[
    ("zadd", Scope::Keys, zadd),
    ("zincrby", Scope::Keys, zincrby),
    ("zrem", Scope::Keys, zrem),
    ("zcard", Scope::Keys, zcard),
    ("zscore", Scope::Keys, zscore),
    ("zmscore", Scope::Keys, zmscore),
    ("zrank", Scope::Keys, zrank),
    ("zrevrank", Scope::Keys, zrevrank),
    ("zcount", Scope::Keys, range::zcount),
    ("zlexcount", Scope::Keys, range::zlexcount),
    ("zrange", Scope::Keys, range::zrange),
    ("zrangestore", Scope::Keys, range::zrangestore),
    ("zrevrange", Scope::Keys, range::zrevrange),
    ("zrangebyscore", Scope::Keys, range::zrangebyscore),
    ("zrevrangebyscore", Scope::Keys, range::zrevrangebyscore),
    ("zrangebylex", Scope::Keys, range::zrangebylex),
    ("zrevrangebylex", Scope::Keys, range::zrevrangebylex),
    ("zremrangebyrank", Scope::Keys, range::zremrangebyrank),
    ("zremrangebyscore", Scope::Keys, range::zremrangebyscore),
    ("zremrangebylex", Scope::Keys, range::zremrangebylex),
    ("zunion", Scope::Keys, setops::zunion),
    ("zinter", Scope::Keys, setops::zinter),
    ("zdiff", Scope::Keys, setops::zdiff),
    ("zunionstore", Scope::Keys, setops::zunionstore),
    ("zinterstore", Scope::Keys, setops::zinterstore),
    ("zdiffstore", Scope::Keys, setops::zdiffstore),
    ("zintercard", Scope::Keys, setops::zintercard),
    ("zpopmin", Scope::Keys, pop::zpopmin),
    ("zpopmax", Scope::Keys, pop::zpopmax),
    ("zmpop", Scope::Keys, pop::zmpop),
    ("bzpopmin", Scope::Keys, pop::bzpopmin),
    ("bzpopmax", Scope::Keys, pop::bzpopmax),
    ("bzmpop", Scope::Keys, pop::bzmpop),
    ("zrandmember", Scope::Keys, pop::zrandmember),
    ("zscan", Scope::Keys, pop::zscan),
];

const ERR_NAN: &str = "ERR resulting score is not a number (NaN)";
const ERR_MINMAX: &str = "ERR min or max is not a float";
const ERR_LEX: &str = "ERR min or max not valid string range item";

// ---------------------------------------------------------------- parsing

/// Whether `s` (a strtod-syntax number) has a nonzero digit in its mantissa,
/// i.e. a zero result means it underflowed.
fn nonzero_mantissa(s: &[u8]) -> bool {
    let s = s
        .strip_prefix(b"-")
        .or_else(|| s.strip_prefix(b"+"))
        .unwrap_or(s);
    let hex = s.len() > 1 && s[0] == b'0' && (s[1] | 0x20) == b'x';
    let (body, stop) = if hex { (&s[2..], b'p') } else { (s, b'e') };
    body.iter()
        .take_while(|&&c| (c | 0x20) != stop)
        .any(|&c| c.is_ascii_hexdigit() && c != b'0')
}

/// A score, weight or increment as Redis's `getDoubleFromObject` reads it:
/// strtod syntax over the whole string, no leading space, no NaN, and no
/// overflow to infinity or underflow to zero (strtod's ERANGE).
pub(crate) fn zfloat(arg: &[u8]) -> Option<f64> {
    let v = crate::util::parse_f64(arg)?;
    if v.is_infinite() {
        let t = arg.to_ascii_lowercase();
        let t = t
            .strip_prefix(b"-")
            .or_else(|| t.strip_prefix(b"+"))
            .unwrap_or(&t);
        if t != b"inf" && t != b"infinity" {
            return None;
        }
    }
    if v == 0.0 && nonzero_mantissa(arg) {
        return None;
    }
    Some(v)
}

/// A range bound's number as `zslParseRange` reads it with strtod: leading
/// white space allowed, the string ends at a NUL, the empty string is 0, and
/// out-of-range values saturate (no ERANGE check); NaN is refused.
fn strtod_whole(arg: &[u8]) -> Option<f64> {
    let arg = match arg.iter().position(|&c| c == 0) {
        Some(p) => &arg[..p],
        None => arg,
    };
    if arg.is_empty() {
        return Some(0.0);
    }
    let start = arg
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))?;
    crate::util::parse_f64(&arg[start..])
}

fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.strip_prefix(b"(") {
        Some(rest) => Some((strtod_whole(rest)?, true)),
        None => Some((strtod_whole(arg)?, false)),
    }
}

/// A score range from its two arguments, or `ERR min or max is not a float`.
pub(crate) fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, Frame> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        }),
        _ => Err(err(ERR_MINMAX)),
    }
}

fn lex_bound(arg: &[u8]) -> Option<LexBound> {
    match arg.first()? {
        b'+' if arg.len() == 1 => Some(LexBound::PosInf),
        b'-' if arg.len() == 1 => Some(LexBound::NegInf),
        b'(' => Some(LexBound::Excl(arg[1..].to_vec())),
        b'[' => Some(LexBound::Incl(arg[1..].to_vec())),
        _ => None,
    }
}

/// A lex range from its two arguments, or `ERR min or max not valid string
/// range item`.
pub(crate) fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, Frame> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(err(ERR_LEX)),
    }
}

// ---------------------------------------------------------------- lookups and replies

/// The sorted set under `key` for reading (counting a hit or miss); WRONGTYPE
/// for another type.
fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c ZSet>, Frame> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z, _) => Ok(Some(z)),
            _ => Err(wrongtype()),
        },
    }
}

/// The sorted set under `key` for writing; WRONGTYPE for another type.
fn write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut ZSet>, Frame> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z, _) => Ok(Some(z)),
            _ => Err(wrongtype()),
        },
    }
}

/// A score as an effect argument: `%.17g` reads back to the same double.
fn score_arg(s: f64) -> Bytes {
    Bytes::from(keel_protocol::format_double(s))
}

fn bulk(m: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(m))
}

/// Appends one member (and its score) to a range reply: flat in RESP2, a
/// [member, score] pair in RESP3, as Redis's range replies do.
fn push_member(out: &mut Vec<Frame>, resp: u8, m: &[u8], s: f64, withscores: bool) {
    if !withscores {
        out.push(bulk(m));
    } else if resp >= 3 {
        out.push(Frame::Array(vec![bulk(m), Frame::Double(s)]));
    } else {
        out.push(bulk(m));
        out.push(Frame::Double(s));
    }
}

/// Deletes `key` if its sorted set is now empty, announcing `del`; true if it did.
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty = matches!(ctx.lookup_write(key), Some(Entry { value: Value::ZSet(z, _), .. }) if z.is_empty());
    if empty {
        ctx.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    empty
}

/// `DEL dst` and the `ZADD dst score member ...` commands (64 members each)
/// that rebuild `z` exactly.
fn result_effects(dst: &Bytes, z: &ZSet) -> Vec<Vec<Bytes>> {
    let mut out = vec![vec![s("DEL"), dst.clone()]];
    let mut cur: Vec<Bytes> = Vec::new();
    z.for_each(|m, sc| {
        if cur.is_empty() {
            cur = vec![s("ZADD"), dst.clone()];
        }
        cur.push(Bytes::from(keel_protocol::format_double(sc)));
        cur.push(Bytes::copy_from_slice(m));
        if cur.len() >= 2 + 2 * crate::rewrite::ITEMS_PER_CMD {
            out.push(std::mem::take(&mut cur));
        }
    });
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Stores `z` under `dst` as a *STORE command does (replacing any value and
/// TTL) and announces `event`; an empty result deletes `dst` instead. Logs the
/// command itself (deterministic) when something changed. Replies the size.
fn store_result(ctx: &mut Ctx, argv: &[Bytes], dst: &Bytes, z: ZSet, event: &'static str) -> Frame {
    let n = z.len();
    if n > 0 {
        let now = ctx.now;
        // Replaces any value and TTL; `new` is announced only for a new key.
        // A lexicographic range over members of different scores has no defined
        // answer (Redis's depends on its skiplist's random levels, and so does
        // keel's): log the stored result itself, never the command.
        let lex = argv.iter().any(|a| a.eq_ignore_ascii_case(b"BYLEX"));
        let logged = lex.then(|| result_effects(dst, &z));
        ctx.insert(
            dst,
            Entry::new(Value::ZSet(z, crate::value::LRU_UNSET), 0, now),
        );
        ctx.notify(ZSET, event, dst);
        match logged {
            Some(effects) => effects.into_iter().for_each(|e| ctx.emit(e)),
            None => ctx.emit(Args::from(argv)),
        }
    } else if ctx.lookup_write(dst).is_some() {
        ctx.remove(dst);
        ctx.notify(GENERIC, "del", dst);
        ctx.emit_with(|| Args::from(argv));
    }
    Frame::Integer(n as i64)
}

// ---------------------------------------------------------------- ZADD, ZINCRBY, ZREM

fn zadd(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    zadd_generic(ctx, argv, false)
}

fn zincrby(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    zadd_generic(ctx, argv, true)
}

/// ZADD and ZINCRBY (`zaddGenericCommand`, `zsetAdd`).
fn zadd_generic(ctx: &mut Ctx, argv: &[Bytes], mut incr: bool) -> Frame {
    let key = &argv[1];
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut idx = 2;
    while let Some(opt) = argv.get(idx) {
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else if is(opt, "incr") {
            incr = true;
        } else if is(opt, "gt") {
            gt = true;
        } else if is(opt, "lt") {
            lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = argv.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return err(ERR_SYNTAX);
    }
    let elements = elements / 2;
    if nx && xx {
        return err("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if incr && elements > 1 {
        return err("ERR INCR option supports a single increment-element pair");
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        match zfloat(&argv[idx + 2 * j]) {
            Some(s) => scores.push(s),
            None => return err(ERR_NOT_FLOAT),
        }
    }
    let t = ctx.thresholds();
    let exists = tri!(write(ctx, key)).is_some();
    if !exists {
        if xx {
            return if incr { Frame::Null } else { Frame::Integer(0) };
        }
        let now = ctx.now;
        ctx.insert(
            key,
            Entry::new(
                Value::ZSet(Default::default(), crate::value::LRU_UNSET),
                0,
                now,
            ),
        );
    }
    // The effect (`ZADD key score member ...` of what changed) is built as
    // members are processed, and only if anything reads effects.
    let keep = ctx.keeps_effects();
    let Ok(Some(z)) = write(ctx, key) else {
        return err("ERR internal error: sorted set vanished");
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut changed: Vec<Bytes> = if keep {
        vec![s("ZADD"), key.clone()]
    } else {
        Vec::new()
    };
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        let member = &argv[idx + 2 * j + 1];
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let mut s = score;
                if incr {
                    s += cur;
                    if s.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (lt && s >= cur) || (gt && s <= cur) {
                    continue;
                }
                last = s;
                processed += 1;
                if s != cur {
                    z.update(member, s);
                    updated += 1;
                    if keep {
                        changed.push(score_arg(s));
                        changed.push(member.clone());
                    }
                }
            }
            None => {
                if xx {
                    continue;
                }
                z.set(member, score, &t);
                last = score;
                added += 1;
                processed += 1;
                if keep {
                    changed.push(score_arg(score));
                    changed.push(member.clone());
                }
            }
        }
    }
    let empty = z.is_empty();
    if empty {
        ctx.remove(key);
    }
    if added + updated > 0 {
        ctx.notify(ZSET, if incr { "zincr" } else { "zadd" }, key);
        ctx.emit(changed);
    }
    if nan {
        return err(ERR_NAN);
    }
    if incr {
        if processed > 0 {
            Frame::Double(last)
        } else {
            Frame::Null
        }
    } else {
        Frame::Integer(if ch { added + updated } else { added })
    }
}

fn zrem(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let Some(z) = tri!(write(ctx, key)) else {
        return Frame::Integer(0);
    };
    let mut removed = vec![s("ZREM"), key.clone()];
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            removed.push(m.clone());
        }
        if z.is_empty() {
            break;
        }
    }
    let deleted = removed.len() - 2;
    if deleted > 0 {
        ctx.notify(ZSET, "zrem", key);
        drop_if_empty(ctx, key);
        ctx.emit(removed);
    }
    Frame::Integer(deleted as i64)
}

// ---------------------------------------------------------------- reads

fn zcard(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    Frame::Integer(tri!(read(ctx, &argv[1])).map_or(0, |z| z.len() as i64))
}

fn zscore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match tri!(read(ctx, &argv[1])).and_then(|z| z.score(&argv[2])) {
        Some(s) => Frame::Double(s),
        None => Frame::Null,
    }
}

fn zmscore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let z = tri!(read(ctx, &argv[1]));
    Frame::Array(
        argv[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                Some(s) => Frame::Double(s),
                None => Frame::Null,
            })
            .collect(),
    )
}

fn zrank(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    rank_generic(ctx, argv, false)
}

fn zrevrank(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    rank_generic(ctx, argv, true)
}

/// ZRANK / ZREVRANK (7.0 has no WITHSCORE: the table's arity refuses it).
fn rank_generic(ctx: &mut Ctx, argv: &[Bytes], rev: bool) -> Frame {
    let Some(z) = tri!(read(ctx, &argv[1])) else {
        return Frame::Null;
    };
    match z.rank(&argv[2]) {
        Some(r) if rev => Frame::Integer((z.len() - 1 - r) as i64),
        Some(r) => Frame::Integer(r as i64),
        None => Frame::Null,
    }
}

#[cfg(test)]
mod tests;
