//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, the EXPIRE and TTL
//! families, PERSIST, RENAME, RENAMENX, COPY, MOVE, KEYS, SCAN, RANDOMKEY and
//! OBJECT.
//!
//! Effects: DEL and UNLINK log `DEL` with the keys actually deleted; the EXPIRE
//! family logs `PEXPIREAT key <absolute ms>` (or `DEL key` when the time is already
//! past); PERSIST, RENAME, RENAMENX (as `RENAME`), COPY and MOVE log themselves
//! when they changed something. Keys found expired on access are removed by the
//! `Ctx` lookups, which log their own `DEL`.
//!
//! SCAN cursor: each shard's per-database map is walked by position from the top
//! down. Removing a key swap-moves the last key into the hole (a position already
//! visited) and new keys are appended at the end, so a key present for the whole
//! scan stays at or below the next position to visit and is returned. The cursor
//! is `(shard << 40) | remaining`, where `remaining` is how many positions of that
//! shard are left to visit (the next one is `remaining - 1`), [`SCAN_TOP`] meaning
//! "the whole shard"; cursor 0 starts at shard 0 and is returned when done.

use super::args::*;
use super::db::valid_db;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, KEY_MISS};
use crate::tri;
use crate::value::{lru_clock, Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;
use rand::Rng;

pub static COMMANDS: &[EngineEntry] = &[
    ("del", Scope::Keys, del),
    ("unlink", Scope::Keys, del),
    ("exists", Scope::Keys, exists),
    ("type", Scope::Keys, type_cmd),
    ("touch", Scope::Keys, touch),
    ("expire", Scope::Keys, expire),
    ("pexpire", Scope::Keys, pexpire),
    ("expireat", Scope::Keys, expireat),
    ("pexpireat", Scope::Keys, pexpireat),
    ("ttl", Scope::Keys, ttl),
    ("pttl", Scope::Keys, pttl),
    ("expiretime", Scope::Keys, expiretime),
    ("pexpiretime", Scope::Keys, pexpiretime),
    ("persist", Scope::Keys, persist),
    ("rename", Scope::Keys, rename),
    ("renamenx", Scope::Keys, renamenx),
    ("copy", Scope::Keys, copy),
    ("move", Scope::Keys, move_cmd),
    ("keys", Scope::All, keys),
    ("scan", Scope::All, scan),
    ("randomkey", Scope::All, randomkey),
    ("object|encoding", Scope::Keys, object_encoding),
    ("object|freq", Scope::Keys, object_freq),
    ("object|idletime", Scope::Keys, object_idletime),
    ("object|refcount", Scope::Keys, object_refcount),
    ("object|help", Scope::None, object_help),
    ("memory|usage", Scope::Keys, memory_usage),
];

const ERR_SAME_OBJECT: &str = "ERR source and destination objects are the same";
const ERR_NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";

/// Bits of a SCAN cursor holding the position within a shard.
pub const SCAN_POS_BITS: u32 = 40;
/// "Every position of this shard is still to visit".
pub const SCAN_TOP: u64 = (1 << SCAN_POS_BITS) - 1;

fn int(v: i64) -> Frame {
    Frame::Integer(v)
}

/// Redis's `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: lazy expiry, a keyspace hit
/// or miss counted, the LRU clock left alone (TTL, TYPE, EXISTS, OBJECT).
fn peek<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Option<&'c Entry> {
    peek_with(ctx, key, true)
}

/// [`peek`]; without `keymiss` notification when `notify` is false (OBJECT, as
/// Redis's `LOOKUP_NONOTIFY`).
fn peek_with<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8], notify: bool) -> Option<&'c Entry> {
    let db = ctx.db;
    ctx.expire_if_needed(db, key);
    let hit = ctx.dbs(db, key).map.contains_key(key);
    let idx = ctx.engine.shard_of(key);
    if let Some((_, shard)) = ctx.locked_shards_indexed().find(|(i, _)| *i == idx) {
        if hit {
            shard.stats.keyspace_hits += 1;
        } else {
            shard.stats.keyspace_misses += 1;
        }
    }
    if !hit && notify {
        ctx.notify(KEY_MISS, "keymiss", key);
    }
    ctx.dbs(db, key).map.get(key)
}

// ---------------------------------------------------------------- DEL, EXISTS ...

fn del(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let db = ctx.db;
    let mut deleted = vec![s("DEL")];
    for key in &argv[1..] {
        ctx.expire_if_needed(db, key);
        if ctx.remove(key).is_some() {
            deleted.push(key.clone());
            ctx.notify(GENERIC, "del", key);
        }
    }
    let count = deleted.len() as i64 - 1;
    if count > 0 {
        ctx.emit(deleted);
    }
    int(count)
}

fn exists(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let mut count = 0;
    for key in &argv[1..] {
        if peek(ctx, key).is_some() {
            count += 1;
        }
    }
    int(count)
}

fn type_cmd(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let name = peek(ctx, &argv[1]).map_or("none", |e| e.value.type_name());
    Frame::simple(name)
}

fn touch(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let mut count = 0;
    for key in &argv[1..] {
        if ctx.lookup_read(key).is_some() {
            count += 1;
        }
    }
    int(count)
}

// ---------------------------------------------------------------- EXPIRE family

fn expire(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let now = ctx.now as i64;
    expire_generic(ctx, argv, now, true, "expire")
}

fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let now = ctx.now as i64;
    expire_generic(ctx, argv, now, false, "pexpire")
}

fn expireat(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    expire_generic(ctx, argv, 0, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    expire_generic(ctx, argv, 0, false, "pexpireat")
}

/// Redis's `expireGenericCommand`: options, then the time, then the key.
fn expire_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    basetime: i64,
    seconds: bool,
    name: &str,
) -> Frame {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "gt") {
            gt = true;
        } else if is(opt, "lt") {
            lt = true;
        } else {
            return Frame::error(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(opt)
            ));
        }
    }
    if nx && (xx || gt || lt) {
        return err("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return err("ERR GT and LT options at the same time are not compatible");
    }
    let mut when = tri!(int_arg(&argv[2]));
    let bad_time = || Frame::error(format!("ERR invalid expire time in '{name}' command"));
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return bad_time();
        }
        when *= 1000;
    }
    if when > i64::MAX - basetime {
        return bad_time();
    }
    when += basetime;

    let key = &argv[1];
    let Some(e) = ctx.lookup_write(key) else {
        return int(0);
    };
    // -1: no TTL, which GT treats as infinite.
    let current: i64 = if e.expire_at == 0 {
        -1
    } else {
        e.expire_at as i64
    };
    if (nx && current != -1)
        || (xx && current == -1)
        || (gt && (current == -1 || when <= current))
        || (lt && current != -1 && when >= current)
    {
        return int(0);
    }
    if when <= ctx.now as i64 && !ctx.engine.is_loading() {
        ctx.remove(key);
        ctx.emit(smallvec![s("DEL"), key.clone()]);
        ctx.notify(GENERIC, "del", key);
        return int(1);
    }
    // While loading a past time is kept (the key expires once loading ends); 0
    // would mean "no TTL" in keel, so the earliest representable time is 1.
    ctx.set_expire(key, when.max(1) as u64);
    ctx.emit(smallvec![s("PEXPIREAT"), key.clone(), n(when)]);
    ctx.notify(GENERIC, "expire", key);
    int(1)
}

fn ttl(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    ttl_generic(ctx, argv, false, false)
}

fn pttl(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    ttl_generic(ctx, argv, true, false)
}

fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    ttl_generic(ctx, argv, false, true)
}

fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    ttl_generic(ctx, argv, true, true)
}

/// Redis's `ttlGenericCommand`: -2 missing, -1 no TTL, else the time left (or the
/// absolute time), seconds rounded to the nearest.
fn ttl_generic(ctx: &mut Ctx, argv: &[Bytes], ms: bool, absolute: bool) -> Frame {
    let now = ctx.now as i64;
    let Some(e) = peek(ctx, &argv[1]) else {
        return int(-2);
    };
    if e.expire_at == 0 {
        return int(-1);
    }
    let at = e.expire_at.min(i64::MAX as u64) as i64;
    let t = if absolute {
        at
    } else {
        at.saturating_sub(now).max(0)
    };
    // Rounded without overflow (Redis 7.0.15 prints 9223372036854776 for
    // EXPIRETIME of a key expiring at i64::MAX ms).
    int(if ms {
        t
    } else {
        ((t as u64 + 500) / 1000) as i64
    })
}

fn persist(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    match ctx.lookup_write(key) {
        Some(e) if e.expire_at != 0 => {}
        _ => return int(0),
    }
    ctx.set_expire(key, 0);
    ctx.emit(smallvec![s("PERSIST"), key.clone()]);
    ctx.notify(GENERIC, "persist", key);
    int(1)
}

// ---------------------------------------------------------------- RENAME, COPY, MOVE

fn rename(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    rename_generic(ctx, argv, false)
}

fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    rename_generic(ctx, argv, true)
}

/// Redis's `renameGenericCommand`; the TTL moves with the value.
fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) -> Frame {
    let (src, dst) = (&argv[1], &argv[2]);
    if ctx.lookup_write(src).is_none() {
        return err(ERR_NO_KEY);
    }
    if src == dst {
        return if nx { int(0) } else { Frame::ok() };
    }
    let db = ctx.db;
    if ctx.exists_in(db, dst) {
        if nx {
            return int(0);
        }
        ctx.remove(dst);
    }
    let Some(entry) = ctx.remove(src) else {
        return err(ERR_NO_KEY);
    };
    ctx.insert(dst, entry);
    ctx.emit(smallvec![s("RENAME"), src.clone(), dst.clone()]);
    ctx.notify(GENERIC, "rename_from", src);
    ctx.notify(GENERIC, "rename_to", dst);
    if nx {
        int(1)
    } else {
        Frame::ok()
    }
}

/// COPY source destination [DB n] [REPLACE]; the copy keeps the TTL.
fn copy(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let src_db = ctx.db;
    let mut dst_db = src_db;
    let mut db_given = false;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if is(&argv[j], "replace") {
            replace = true;
        } else if is(&argv[j], "db") && j + 1 < argv.len() {
            dst_db = tri!(valid_db(ctx.engine, &argv[j + 1]));
            db_given = true;
            j += 1;
        } else {
            return err(ERR_SYNTAX);
        }
        j += 1;
    }
    let (src, dst) = (&argv[1], &argv[2]);
    if src_db == dst_db && src == dst {
        return err(ERR_SAME_OBJECT);
    }
    let (value, expire_at) = match ctx.lookup_read(src) {
        Some(e) => (e.value.clone(), e.expire_at),
        None => return int(0),
    };
    if ctx.exists_in(dst_db, dst) {
        if !replace {
            return int(0);
        }
        ctx.remove_in(dst_db, dst);
    }
    let now = ctx.now;
    ctx.insert_in(dst_db, dst, Entry::new(value, expire_at, now));
    let mut effect: Args = smallvec![s("COPY"), src.clone(), dst.clone()];
    if db_given {
        effect.push(s("DB"));
        effect.push(n(dst_db as i64));
    }
    if replace {
        effect.push(s("REPLACE"));
    }
    ctx.emit(effect);
    ctx.notify_in(GENERIC, "copy_to", dst_db, dst);
    int(1)
}

/// MOVE key db; the TTL moves with the key.
fn move_cmd(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let dst_db = tri!(valid_db(ctx.engine, &argv[2]));
    let src_db = ctx.db;
    if dst_db == src_db {
        return err(ERR_SAME_OBJECT);
    }
    let key = &argv[1];
    if ctx.lookup_write(key).is_none() {
        return int(0);
    }
    if ctx.exists_in(dst_db, key) {
        return int(0);
    }
    let Some(entry) = ctx.remove(key) else {
        return int(0);
    };
    ctx.insert_in(dst_db, key, entry);
    ctx.emit(smallvec![s("MOVE"), key.clone(), n(dst_db as i64)]);
    ctx.notify_in(GENERIC, "move_from", src_db, key);
    ctx.notify_in(GENERIC, "move_to", dst_db, key);
    int(1)
}

// ---------------------------------------------------------------- KEYS, SCAN, RANDOMKEY

/// KEYS pattern: every key of the database matching the pattern, expired keys
/// skipped (and left in place, as Redis does).
fn keys(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let db = ctx.db;
    let now = ctx.now;
    let skip_expired = !ctx.engine.is_loading();
    let pattern = &argv[1][..];
    let all = pattern == b"*";
    let mut out = Vec::new();
    for shard in ctx.locked_shards() {
        let Some(d) = shard.dbs.get(db) else { continue };
        for (k, e) in &d.map {
            if skip_expired && e.is_expired(now) {
                continue;
            }
            if all || crate::glob::matches(pattern, k, false) {
                out.push(Frame::Bulk(Bytes::copy_from_slice(k)));
            }
        }
    }
    Frame::Array(out)
}

/// Parses a SCAN cursor as Redis does with `strtoul`: no leading space, optional
/// sign (a minus wraps), decimal digits, nothing after (a NUL ends the string),
/// no overflow; the empty string is 0.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let arg = match arg.iter().position(|&c| c == 0) {
        Some(p) => &arg[..p],
        None => arg,
    };
    if arg.is_empty() {
        return Some(0);
    }
    if matches!(arg[0], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        return None;
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn scan(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let Some(cursor) = parse_cursor(&argv[1]) else {
        return err(ERR_INVALID_CURSOR);
    };
    let mut count: u64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_filter: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if is(&argv[i], "count") && has_value {
            let c = tri!(int_arg(&argv[i + 1]));
            if c < 1 {
                return err(ERR_SYNTAX);
            }
            count = c as u64;
        } else if is(&argv[i], "match") && has_value {
            let p = &argv[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else if is(&argv[i], "type") && has_value {
            type_filter = Some(&argv[i + 1][..]);
        } else {
            return err(ERR_SYNTAX);
        }
        i += 2;
    }

    let (start_shard, start_remaining) = if cursor == 0 {
        (0usize, SCAN_TOP)
    } else {
        let shard = usize::try_from(cursor >> SCAN_POS_BITS).unwrap_or(usize::MAX);
        (shard, cursor & SCAN_TOP)
    };
    let db = ctx.db;
    let now = ctx.now;
    let skip_expired = !ctx.engine.is_loading();
    let shard_count = ctx.engine.shard_count();
    let mut budget = count;
    let mut next: u64 = 0;
    let mut found: Vec<Frame> = Vec::new();
    let mut expired: Vec<Bytes> = Vec::new();
    for (si, shard) in ctx.locked_shards_indexed() {
        if si < start_shard {
            continue;
        }
        let Some(d) = shard.dbs.get(db) else { continue };
        let len = d.map.len() as u64;
        let mut remaining = if si == start_shard {
            start_remaining.min(len)
        } else {
            len
        };
        while remaining > 0 && budget > 0 {
            remaining -= 1;
            budget -= 1;
            let Some((k, e)) = d.map.get_index(remaining as usize) else {
                continue;
            };
            if pattern.is_some_and(|p| !crate::glob::matches(p, k, false)) {
                continue;
            }
            if skip_expired && e.is_expired(now) {
                expired.push(Bytes::copy_from_slice(k));
                continue;
            }
            if type_filter.is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
            {
                continue;
            }
            found.push(Frame::Bulk(Bytes::copy_from_slice(k)));
        }
        if remaining > 0 {
            next = ((si as u64) << SCAN_POS_BITS) | remaining;
            break;
        }
        if budget == 0 {
            next = if si + 1 < shard_count {
                ((si as u64 + 1) << SCAN_POS_BITS) | SCAN_TOP
            } else {
                0
            };
            break;
        }
    }
    // Removing visited keys only moves keys into visited positions (see above).
    for k in &expired {
        ctx.expire_if_needed(db, k);
    }
    let cursor_text = Bytes::from(next.to_string());
    Frame::Array(vec![Frame::Bulk(cursor_text), Frame::Array(found)])
}

/// RANDOMKEY: a uniformly chosen key of the database; expired keys met on the way
/// are removed (logging `DEL`) and another is drawn.
fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) -> Frame {
    let db = ctx.db;
    let now = ctx.now;
    let mut rng = rand::thread_rng();
    loop {
        let total: usize = ctx
            .locked_shards()
            .map(|s| s.dbs.get(db).map_or(0, |d| d.len()))
            .sum();
        if total == 0 {
            return Frame::Null;
        }
        let mut r = rng.gen_range(0..total);
        let mut picked: Option<(Bytes, bool)> = None;
        for shard in ctx.locked_shards() {
            let Some(d) = shard.dbs.get(db) else { continue };
            if r < d.len() {
                picked = d
                    .map
                    .get_index(r)
                    .map(|(k, e)| (Bytes::copy_from_slice(k), e.is_expired(now)));
                break;
            }
            r -= d.len();
        }
        let Some((key, is_expired)) = picked else {
            return Frame::Null;
        };
        // While loading nothing expires: return the key rather than loop.
        if !is_expired || !ctx.expire_if_needed(db, &key) {
            return Frame::Bulk(key);
        }
    }
}

// ---------------------------------------------------------------- OBJECT

fn object_encoding(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match peek_with(ctx, &argv[2], false) {
        Some(e) => Frame::bulk(e.value.encoding()),
        None => Frame::Null,
    }
}

fn object_freq(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let now = ctx.now;
    let settings = ctx.engine.evict_settings();
    match peek_with(ctx, &argv[2], false) {
        Some(_) if !settings.policy().is_lfu() => err(ERR_NO_LFU),
        Some(e) => int(i64::from(settings.lfu_decr(e.lru(), now))),
        None => Frame::Null,
    }
}

/// MEMORY USAGE key [SAMPLES count]: the estimated bytes of the key, its value and
/// their bookkeeping. keel's sizes are computed from each value's actual layout, so
/// SAMPLES (how many elements Redis inspects to extrapolate) is accepted and
/// checked but not needed.
fn memory_usage(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let mut j = 3;
    while j < argv.len() {
        if is(&argv[j], "samples") && j + 1 < argv.len() {
            if tri!(int_arg(&argv[j + 1])) < 0 {
                return err(ERR_SYNTAX);
            }
            j += 2;
        } else {
            return err(ERR_SYNTAX);
        }
    }
    match peek_with(ctx, &argv[2], false) {
        Some(e) => int(crate::evict::entry_size(&argv[2], e) as i64),
        None => Frame::Null,
    }
}

fn object_idletime(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let clock = lru_clock(ctx.now);
    let lfu = ctx.engine.evict_settings().policy().is_lfu();
    match peek_with(ctx, &argv[2], false) {
        Some(_) if lfu => err(ERR_LFU_NO_IDLE),
        Some(e) => int(idle_seconds(clock, e.lru()) as i64),
        None => Frame::Null,
    }
}

const ERR_LFU_NO_IDLE: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// Redis's `estimateObjectIdleTime` in seconds (the LRU clock wraps at 2^24).
fn idle_seconds(clock: u32, lru: u32) -> u32 {
    const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
    if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    }
}

fn object_refcount(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match peek_with(ctx, &argv[2], false) {
        Some(e) => int(refcount(&e.value)),
        None => Frame::Null,
    }
}

/// Redis shares the integers 0..10000 (OBJ_SHARED_INTEGERS) with a refcount of
/// INT_MAX; every other value is referenced once.
pub fn refcount(v: &Value) -> i64 {
    match v {
        Value::Str { data, .. } => match crate::util::parse_i64(data) {
            Some(i) if (0..10_000).contains(&i) && v.encoding() == "int" => i64::from(i32::MAX),
            _ => 1,
        },
        _ => 1,
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

fn object_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> Frame {
    Frame::Array(OBJECT_HELP.iter().map(|l| Frame::simple(l)).collect())
}

#[cfg(test)]
mod tests {
    use super::super::db::ERR_DB_RANGE;
    use super::*;
    use crate::clock::Clock;
    use crate::engine::testing::{engine, fx, run};
    use crate::engine::{Engine, Session};
    use std::collections::HashSet;

    fn sess(db: usize) -> Session {
        Session {
            db,
            resp: 2,
            ticket: 0,
            ..Default::default()
        }
    }

    fn bulk(v: &str) -> Frame {
        Frame::bulk(Bytes::copy_from_slice(v.as_bytes()))
    }

    fn ok(e: &Engine, s: &mut Session, line: &str) -> Frame {
        let (r, _) = run(e, s, line);
        assert!(!r.is_error(), "{line}: {r:?}");
        r
    }

    fn fxs(e: &Engine, s: &mut Session, line: &str) -> Vec<String> {
        fx(&run(e, s, line).1)
    }

    fn argv(e: &Engine, s: &Session, args: &[&[u8]]) -> (Frame, Vec<String>) {
        let v: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let (r, f) = e.run_argv(s, &v);
        (r, fx(&f))
    }

    #[test]
    fn del_and_unlink() {
        let (e, clock) = engine();
        let mut s = sess(0);
        for k in ["a", "b", "c", "d"] {
            ok(&e, &mut s, &format!("SET {k} v"));
        }
        let (r, f) = run(&e, &mut s, "DEL a b nokey a");
        assert_eq!(r, int(2));
        assert_eq!(fx(&f), vec!["0 DEL a b"]);
        let (r, f) = run(&e, &mut s, "DEL a nokey");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        let (r, f) = run(&e, &mut s, "UNLINK c d");
        assert_eq!(r, int(2));
        assert_eq!(fx(&f), vec!["0 DEL c d"]);
        // An expired key is removed by expiry (its own DEL), not counted.
        ok(&e, &mut s, "SET x v");
        ok(&e, &mut s, "SET y v");
        ok(&e, &mut s, "PEXPIRE x 10");
        clock.advance_ms(10);
        let (r, f) = run(&e, &mut s, "DEL x y");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 DEL x", "0 DEL y"]);
        assert_eq!(e.stats().expired_keys, 1);
        assert_eq!(
            run(&e, &mut s, "DEL").0,
            err("ERR wrong number of arguments for 'del' command")
        );
        // Other databases are untouched.
        let mut s2 = sess(2);
        ok(&e, &mut s2, "SET a v");
        assert_eq!(run(&e, &mut s, "DEL a").0, int(0));
        assert_eq!(run(&e, &mut s2, "EXISTS a").0, int(1));
        assert_eq!(fxs(&e, &mut s2, "DEL a"), vec!["2 DEL a"]);
    }

    #[test]
    fn exists_type_touch() {
        let (e, clock) = engine();
        let mut s = sess(0);
        ok(&e, &mut s, "SET a v");
        assert_eq!(run(&e, &mut s, "EXISTS a a nokey a").0, int(3));
        assert_eq!(run(&e, &mut s, "EXISTS nokey").0, int(0));
        assert_eq!(run(&e, &mut s, "TYPE a").0, Frame::simple("string"));
        assert_eq!(run(&e, &mut s, "TYPE nokey").0, Frame::simple("none"));
        assert_eq!(
            run(&e, &mut s, "TYPE a b").0,
            err("ERR wrong number of arguments for 'type' command")
        );
        let (r, f) = run(&e, &mut s, "TOUCH a a nokey");
        assert_eq!(r, int(2));
        assert!(f.is_empty());
        ok(&e, &mut s, "PEXPIRE a 5");
        clock.advance_ms(5);
        let (r, f) = run(&e, &mut s, "EXISTS a");
        assert_eq!(r, int(0));
        assert_eq!(fx(&f), vec!["0 DEL a"]);
        assert_eq!(run(&e, &mut s, "TYPE a").0, Frame::simple("none"));
        // Hits and misses are counted like Redis (EXISTS/TYPE/TTL count).
        e.reset_stats();
        ok(&e, &mut s, "SET b v");
        run(&e, &mut s, "EXISTS b nokey");
        run(&e, &mut s, "TYPE b");
        run(&e, &mut s, "TTL nokey");
        let st = e.stats();
        assert_eq!((st.keyspace_hits, st.keyspace_misses), (2, 2));
    }

    #[test]
    fn expire_basic_and_effects() {
        let (e, clock) = engine();
        let now = 1_000_000_000_000u64;
        let mut s = sess(0);
        assert_eq!(run(&e, &mut s, "EXPIRE nokey 10").0, int(0));
        ok(&e, &mut s, "SET k v");
        let (r, f) = run(&e, &mut s, "EXPIRE k 10");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec![format!("0 PEXPIREAT k {}", now + 10_000)]);
        assert_eq!(run(&e, &mut s, "TTL k").0, int(10));
        assert_eq!(run(&e, &mut s, "PTTL k").0, int(10_000));
        assert_eq!(
            fxs(&e, &mut s, "PEXPIRE k 1500"),
            vec![format!("0 PEXPIREAT k {}", now + 1500)]
        );
        assert_eq!(run(&e, &mut s, "TTL k").0, int(2)); // rounded
        clock.advance_ms(1);
        assert_eq!(run(&e, &mut s, "TTL k").0, int(1));
        assert_eq!(run(&e, &mut s, "PTTL k").0, int(1499));
        let at = now + 100_000;
        assert_eq!(
            fxs(&e, &mut s, &format!("EXPIREAT k {}", at / 1000)),
            vec![format!("0 PEXPIREAT k {at}")]
        );
        assert_eq!(run(&e, &mut s, "EXPIRETIME k").0, int((at / 1000) as i64));
        assert_eq!(run(&e, &mut s, "PEXPIRETIME k").0, int(at as i64));
        assert_eq!(
            fxs(&e, &mut s, &format!("PEXPIREAT k {}", at + 499)),
            vec![format!("0 PEXPIREAT k {}", at + 499)]
        );
        assert_eq!(run(&e, &mut s, "EXPIRETIME k").0, int((at / 1000) as i64));
        assert_eq!(
            fxs(&e, &mut s, &format!("PEXPIREAT k {}", at + 500)),
            vec![format!("0 PEXPIREAT k {}", at + 500)]
        );
        assert_eq!(
            run(&e, &mut s, "EXPIRETIME k").0,
            int((at / 1000) as i64 + 1)
        );
        // Expiry happens at the deadline.
        clock.advance_ms(100_498);
        assert_eq!(run(&e, &mut s, "PTTL k").0, int(1));
        assert_eq!(run(&e, &mut s, "TTL k").0, int(0));
        clock.advance_ms(1);
        let (r, f) = run(&e, &mut s, "GET k");
        assert_eq!(r, Frame::Null);
        assert_eq!(fx(&f), vec!["0 DEL k"]);
        assert_eq!(run(&e, &mut s, "TTL k").0, int(-2));
        assert_eq!(run(&e, &mut s, "PEXPIRETIME k").0, int(-2));
        ok(&e, &mut s, "SET k v");
        assert_eq!(run(&e, &mut s, "TTL k").0, int(-1));
        assert_eq!(run(&e, &mut s, "PTTL k").0, int(-1));
        assert_eq!(run(&e, &mut s, "EXPIRETIME k").0, int(-1));
        assert_eq!(run(&e, &mut s, "PEXPIRETIME k").0, int(-1));
        // SET clears the TTL.
        ok(&e, &mut s, "EXPIRE k 100");
        ok(&e, &mut s, "SET k v2");
        assert_eq!(run(&e, &mut s, "TTL k").0, int(-1));
    }

    #[test]
    fn expire_in_the_past_deletes() {
        let (e, _) = engine();
        let mut s = sess(0);
        for (cmd, arg) in [
            ("EXPIRE", "-1"),
            ("PEXPIRE", "0"),
            ("EXPIREAT", "1"),
            ("PEXPIREAT", "-5"),
            ("EXPIRE", "0"),
        ] {
            ok(&e, &mut s, "SET k v");
            let (r, f) = run(&e, &mut s, &format!("{cmd} k {arg}"));
            assert_eq!(r, int(1), "{cmd}");
            assert_eq!(fx(&f), vec!["0 DEL k"], "{cmd}");
            assert_eq!(run(&e, &mut s, "EXISTS k").0, int(0));
        }
        // Exactly now counts as past.
        ok(&e, &mut s, "SET k v");
        assert_eq!(
            fxs(&e, &mut s, "PEXPIREAT k 1000000000000"),
            vec!["0 DEL k"]
        );
        assert_eq!(
            fxs(&e, &mut s, "PEXPIREAT k 1000000000000"),
            Vec::<String>::new()
        );
        // While loading a past time is stored, not applied.
        ok(&e, &mut s, "SET k v");
        e.set_loading(true);
        assert_eq!(run(&e, &mut s, "PEXPIREAT k 5").0, int(1));
        assert_eq!(run(&e, &mut s, "PEXPIRETIME k").0, int(5));
        assert_eq!(run(&e, &mut s, "PEXPIREAT k -5").0, int(1));
        e.set_loading(false);
        assert_eq!(fxs(&e, &mut s, "GET k"), vec!["0 DEL k"]);
    }

    #[test]
    fn expire_options() {
        let (e, _) = engine();
        let now = 1_000_000_000_000i64;
        let mut s = sess(0);
        ok(&e, &mut s, "SET a v");
        // No TTL: GT fails (infinite), LT succeeds, XX fails, NX succeeds.
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 GT").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 XX").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 lt").0, int(1));
        assert_eq!(run(&e, &mut s, "TTL a").0, int(100));
        assert_eq!(run(&e, &mut s, "EXPIRE a 50 gt").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 gt").0, int(0));
        let (r, f) = run(&e, &mut s, "EXPIRE a 200 GT");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec![format!("0 PEXPIREAT a {}", now + 200_000)]);
        assert_eq!(run(&e, &mut s, "EXPIRE a 300 LT").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 200 LT").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 150 LT").0, int(1));
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 XX").0, int(1));
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 NX").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 10 GT XX").0, int(0));
        assert_eq!(run(&e, &mut s, "EXPIRE a 1000 GT XX").0, int(1));
        let (r, f) = run(&e, &mut s, "EXPIRE a 1000 nx");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        ok(&e, &mut s, "PERSIST a");
        assert_eq!(run(&e, &mut s, "EXPIRE a 100 NX").0, int(1));
        // GT/LT compare before "in the past" deletes: LT with a past time deletes.
        assert_eq!(fxs(&e, &mut s, "EXPIRE a -1 LT"), vec!["0 DEL a"]);
        assert_eq!(run(&e, &mut s, "EXPIRE nokey 10 NX").0, int(0));

        let nxerr = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(run(&e, &mut s, "EXPIRE a 10 NX XX").0, nxerr);
        assert_eq!(run(&e, &mut s, "EXPIRE a 10 NX GT").0, nxerr);
        assert_eq!(run(&e, &mut s, "PEXPIRE a 10 lt nx").0, nxerr);
        assert_eq!(run(&e, &mut s, "EXPIRE a abc NX XX").0, nxerr);
        assert_eq!(
            run(&e, &mut s, "EXPIRE a 10 GT LT").0,
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            run(&e, &mut s, "EXPIRE a 10 foo").0,
            err("ERR Unsupported option foo")
        );
        assert_eq!(
            run(&e, &mut s, "EXPIRE a abc foo").0,
            err("ERR Unsupported option foo")
        );
        assert_eq!(run(&e, &mut s, "EXPIRE a abc").0, err(ERR_NOT_INT));
        assert_eq!(run(&e, &mut s, "EXPIRE nokey 1.5").0, err(ERR_NOT_INT));
    }

    #[test]
    fn expire_overflow() {
        let (e, _) = engine();
        let mut s = sess(0);
        ok(&e, &mut s, "SET a v");
        let cases = [
            ("EXPIRE a 9223372036854775807", "expire"),
            ("EXPIRE a 9223372036854775", "expire"),
            ("EXPIRE a -9223372036854775808", "expire"),
            ("PEXPIRE a 9223372036854775807", "pexpire"),
            ("EXPIREAT a 9223372036854776", "expireat"),
        ];
        for (line, name) in cases {
            let (r, f) = run(&e, &mut s, line);
            assert_eq!(
                r,
                Frame::error(format!("ERR invalid expire time in '{name}' command")),
                "{line}"
            );
            assert!(f.is_empty());
        }
        assert_eq!(
            run(&e, &mut s, "EXPIRE a 9223372036854775807 foo").0,
            err("ERR Unsupported option foo")
        );
        // Large but representable.
        assert_eq!(
            fxs(&e, &mut s, "PEXPIREAT a 9223372036854775807"),
            vec!["0 PEXPIREAT a 9223372036854775807"]
        );
        assert_eq!(run(&e, &mut s, "PEXPIRETIME a").0, int(i64::MAX));
        assert_eq!(run(&e, &mut s, "EXPIRETIME a").0, int(i64::MAX / 1000 + 1));
        assert_eq!(run(&e, &mut s, "EXPIREAT a 9223372036854775").0, int(1));
        assert_eq!(run(&e, &mut s, "EXPIRETIME a").0, int(9223372036854775));
        // A negative time far in the past deletes.
        assert_eq!(
            fxs(&e, &mut s, "PEXPIRE a -9223372036854775808"),
            vec!["0 DEL a"]
        );
    }

    #[test]
    fn persist() {
        let (e, clock) = engine();
        let mut s = sess(0);
        assert_eq!(run(&e, &mut s, "PERSIST nokey").0, int(0));
        ok(&e, &mut s, "SET k v");
        let (r, f) = run(&e, &mut s, "PERSIST k");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        ok(&e, &mut s, "EXPIRE k 10");
        assert_eq!(e.keyspace_info()[0], (1, 1));
        let (r, f) = run(&e, &mut s, "PERSIST k");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 PERSIST k"]);
        assert_eq!(e.keyspace_info()[0], (1, 0));
        clock.advance_ms(20_000);
        assert_eq!(run(&e, &mut s, "GET k").0, bulk("v"));
        ok(&e, &mut s, "EXPIRE k 10");
        clock.advance_ms(10_000);
        let (r, f) = run(&e, &mut s, "PERSIST k");
        assert_eq!(r, int(0));
        assert_eq!(fx(&f), vec!["0 DEL k"]);
    }

    #[test]
    fn rename_and_renamenx() {
        let (e, clock) = engine();
        let mut s = sess(0);
        assert_eq!(run(&e, &mut s, "RENAME nokey b").0, err(ERR_NO_KEY));
        assert_eq!(run(&e, &mut s, "RENAMENX nokey b").0, err(ERR_NO_KEY));
        assert_eq!(run(&e, &mut s, "RENAME nokey nokey").0, err(ERR_NO_KEY));
        ok(&e, &mut s, "SET a 1");
        ok(&e, &mut s, "EXPIRE a 100");
        let (r, f) = run(&e, &mut s, "RENAME a b");
        assert_eq!(r, Frame::ok());
        assert_eq!(fx(&f), vec!["0 RENAME a b"]);
        assert_eq!(run(&e, &mut s, "EXISTS a").0, int(0));
        assert_eq!(run(&e, &mut s, "GET b").0, bulk("1"));
        assert_eq!(run(&e, &mut s, "TTL b").0, int(100));
        assert_eq!(e.keyspace_info()[0], (1, 1));
        // Same name: no change, nothing logged.
        let (r, f) = run(&e, &mut s, "RENAME b b");
        assert_eq!(r, Frame::ok());
        assert!(f.is_empty());
        let (r, f) = run(&e, &mut s, "RENAMENX b b");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        // Overwrite: the destination's value and TTL are replaced.
        ok(&e, &mut s, "SET c 2");
        ok(&e, &mut s, "EXPIRE c 5");
        ok(&e, &mut s, "SET d 3");
        assert_eq!(fxs(&e, &mut s, "RENAME d c"), vec!["0 RENAME d c"]);
        assert_eq!(run(&e, &mut s, "TTL c").0, int(-1));
        assert_eq!(run(&e, &mut s, "GET c").0, bulk("3"));
        assert_eq!(e.keyspace_info()[0], (2, 1));
        // RENAMENX onto an existing key fails.
        let (r, f) = run(&e, &mut s, "RENAMENX b c");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        let (r, f) = run(&e, &mut s, "RENAMENX b z");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 RENAME b z"]);
        assert_eq!(run(&e, &mut s, "TTL z").0, int(100));
        // An expired destination does not block RENAMENX.
        ok(&e, &mut s, "SET old x");
        ok(&e, &mut s, "PEXPIRE old 10");
        clock.advance_ms(10);
        let (r, f) = run(&e, &mut s, "RENAMENX c old");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 DEL old", "0 RENAME c old"]);
        // An expired source is missing.
        ok(&e, &mut s, "PEXPIRE old 10");
        clock.advance_ms(10);
        let (r, f) = run(&e, &mut s, "RENAME old q");
        assert_eq!(r, err(ERR_NO_KEY));
        assert_eq!(fx(&f), vec!["0 DEL old"]);
    }

    #[test]
    fn copy_cmd() {
        let (e, clock) = engine();
        let mut s = sess(0);
        let mut s2 = sess(2);
        assert_eq!(run(&e, &mut s, "COPY nokey b").0, int(0));
        ok(&e, &mut s, "SET a hello");
        ok(&e, &mut s, "EXPIRE a 100");
        let (r, f) = run(&e, &mut s, "COPY a b");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 COPY a b"]);
        assert_eq!(run(&e, &mut s, "GET b").0, bulk("hello"));
        assert_eq!(run(&e, &mut s, "TTL b").0, int(100));
        assert_eq!(run(&e, &mut s, "GET a").0, bulk("hello"));
        // Destination exists.
        ok(&e, &mut s, "SET c other");
        let (r, f) = run(&e, &mut s, "COPY a c");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        let (r, f) = run(&e, &mut s, "COPY a c REPLACE");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 COPY a c REPLACE"]);
        assert_eq!(run(&e, &mut s, "GET c").0, bulk("hello"));
        assert_eq!(run(&e, &mut s, "TTL c").0, int(100));
        // To another database.
        let (r, f) = run(&e, &mut s, "COPY a a DB 2");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 COPY a a DB 2"]);
        assert_eq!(run(&e, &mut s2, "GET a").0, bulk("hello"));
        assert_eq!(run(&e, &mut s2, "TTL a").0, int(100));
        assert_eq!(run(&e, &mut s, "COPY a a db 2").0, int(0));
        assert_eq!(
            fxs(&e, &mut s, "copy a a replace db 2"),
            vec!["0 COPY a a DB 2 REPLACE"]
        );
        assert_eq!(
            fxs(&e, &mut s, "COPY a x DB 3 DB 2"),
            vec!["0 COPY a x DB 2"]
        );
        assert_eq!(run(&e, &mut s2, "EXISTS x").0, int(1));
        // Copying a key without TTL over one with TTL drops the TTL.
        ok(&e, &mut s, "SET plain p");
        ok(&e, &mut s, "COPY plain c REPLACE");
        assert_eq!(run(&e, &mut s, "TTL c").0, int(-1));
        assert_eq!(e.keyspace_info()[0].1, 2); // a, b
                                               // Errors.
        assert_eq!(run(&e, &mut s, "COPY a a").0, err(ERR_SAME_OBJECT));
        assert_eq!(run(&e, &mut s, "COPY a a DB 0").0, err(ERR_SAME_OBJECT));
        assert_eq!(run(&e, &mut s2, "COPY a a DB 2").0, err(ERR_SAME_OBJECT));
        assert_eq!(run(&e, &mut s, "COPY a b DB 16").0, err(ERR_DB_RANGE));
        assert_eq!(run(&e, &mut s, "COPY a b DB -1").0, err(ERR_DB_RANGE));
        assert_eq!(run(&e, &mut s, "COPY a b DB abc").0, err(ERR_NOT_INT));
        assert_eq!(
            run(&e, &mut s, "COPY a b DB 99999999999").0,
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(run(&e, &mut s, "COPY a b DB").0, err(ERR_SYNTAX));
        assert_eq!(run(&e, &mut s, "COPY a b foo").0, err(ERR_SYNTAX));
        assert_eq!(run(&e, &mut s, "COPY a b DB 1 foo").0, err(ERR_SYNTAX));
        assert_eq!(run(&e, &mut s, "COPY a b DB 99 foo").0, err(ERR_DB_RANGE));
        assert_eq!(
            run(&e, &mut s, "COPY a").0,
            err("ERR wrong number of arguments for 'copy' command")
        );
        // An expired destination is replaced without REPLACE.
        ok(&e, &mut s, "SET gone g");
        ok(&e, &mut s, "PEXPIRE gone 5");
        ok(&e, &mut s, "PERSIST a");
        clock.advance_ms(5);
        assert_eq!(
            fxs(&e, &mut s, "COPY a gone"),
            vec!["0 DEL gone", "0 COPY a gone"]
        );
        // The copy is independent of the source.
        ok(&e, &mut s, "SET a changed");
        assert_eq!(run(&e, &mut s, "GET gone").0, bulk("hello"));
    }

    #[test]
    fn move_cmd() {
        let (e, clock) = engine();
        let mut s = sess(0);
        let mut s1 = sess(1);
        ok(&e, &mut s, "SET k v");
        ok(&e, &mut s, "EXPIRE k 100");
        let (r, f) = run(&e, &mut s, "MOVE k 1");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["0 MOVE k 1"]);
        assert_eq!(run(&e, &mut s, "EXISTS k").0, int(0));
        assert_eq!(run(&e, &mut s1, "GET k").0, bulk("v"));
        assert_eq!(run(&e, &mut s1, "TTL k").0, int(100));
        assert_eq!(e.keyspace_info()[0], (0, 0));
        assert_eq!(e.keyspace_info()[1], (1, 1));
        assert_eq!(run(&e, &mut s, "MOVE k 1").0, int(0));
        // Destination already has the key.
        ok(&e, &mut s, "SET k mine");
        let (r, f) = run(&e, &mut s, "MOVE k 1");
        assert_eq!(r, int(0));
        assert!(f.is_empty());
        assert_eq!(run(&e, &mut s, "GET k").0, bulk("mine"));
        // ... unless it has expired there.
        clock.advance_ms(100_000);
        let (r, f) = run(&e, &mut s, "MOVE k 1");
        assert_eq!(r, int(1));
        assert_eq!(fx(&f), vec!["1 DEL k", "0 MOVE k 1"]);
        assert_eq!(run(&e, &mut s1, "GET k").0, bulk("mine"));
        assert_eq!(run(&e, &mut s1, "TTL k").0, int(-1));
        // Errors.
        assert_eq!(run(&e, &mut s1, "MOVE k 1").0, err(ERR_SAME_OBJECT));
        assert_eq!(run(&e, &mut s, "MOVE nokey 0").0, err(ERR_SAME_OBJECT));
        assert_eq!(run(&e, &mut s, "MOVE k 16").0, err(ERR_DB_RANGE));
        assert_eq!(run(&e, &mut s, "MOVE k -1").0, err(ERR_DB_RANGE));
        assert_eq!(run(&e, &mut s, "MOVE k abc").0, err(ERR_NOT_INT));
        assert_eq!(
            run(&e, &mut s, "MOVE k 99999999999").0,
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
    }

    #[test]
    fn keys_cmd() {
        let (e, clock) = engine();
        let mut s = sess(0);
        for k in ["one", "two", "three", "four", "h*llo", "hello", "hallo"] {
            ok(&e, &mut s, &format!("SET {k} v"));
        }
        ok(&e, &mut sess(1), "SET other v");
        let names = |r: Frame| -> Vec<String> {
            let Frame::Array(v) = r else {
                panic!("not an array: {r:?}")
            };
            let mut out: Vec<String> = v
                .into_iter()
                .map(|f| match f {
                    Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect();
            out.sort();
            out
        };
        assert_eq!(names(run(&e, &mut s, "KEYS *").0).len(), 7);
        assert_eq!(names(run(&e, &mut s, "KEYS t*").0), vec!["three", "two"]);
        assert_eq!(
            names(run(&e, &mut s, "KEYS *o").0),
            vec!["h*llo", "hallo", "hello", "two"]
        );
        assert_eq!(
            names(run(&e, &mut s, "KEYS h[ae]llo").0),
            vec!["hallo", "hello"]
        );
        assert_eq!(names(run(&e, &mut s, "KEYS h\\*llo").0), vec!["h*llo"]);
        assert_eq!(names(run(&e, &mut s, "KEYS ???").0), vec!["one", "two"]);
        assert!(names(run(&e, &mut s, "KEYS nomatch").0).is_empty());
        assert_eq!(names(run(&e, &mut sess(1), "KEYS *").0), vec!["other"]);
        ok(&e, &mut s, "PEXPIRE one 10");
        clock.advance_ms(10);
        let (r, f) = run(&e, &mut s, "KEYS *");
        assert_eq!(names(r).len(), 6);
        assert!(f.is_empty());
    }

    fn scan_once(e: &Engine, s: &Session, cursor: &str, extra: &[&str]) -> (String, Vec<String>) {
        let mut args: Vec<&[u8]> = vec![b"SCAN", cursor.as_bytes()];
        args.extend(extra.iter().map(|a| a.as_bytes()));
        let (r, _) = argv(e, s, &args);
        let Frame::Array(v) = r else { panic!("{r:?}") };
        let [Frame::Bulk(c), Frame::Array(keys)] = &v[..] else {
            panic!("{v:?}")
        };
        let keys = keys
            .iter()
            .map(|k| match k {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("{other:?}"),
            })
            .collect();
        (String::from_utf8_lossy(c).into_owned(), keys)
    }

    fn scan_all(e: &Engine, s: &Session, extra: &[&str]) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let (c, keys) = scan_once(e, s, &cursor, extra);
            out.extend(keys);
            if c == "0" {
                return out;
            }
            cursor = c;
        }
        panic!("scan did not finish");
    }

    #[test]
    fn scan_small_db_in_one_call() {
        let (e, _) = engine();
        let mut s = sess(0);
        assert_eq!(scan_once(&e, &s, "0", &[]), ("0".to_string(), vec![]));
        for i in 0..5 {
            ok(&e, &mut s, &format!("SET k{i} v"));
        }
        let (c, mut keys) = scan_once(&e, &s, "0", &[]);
        keys.sort();
        assert_eq!(c, "0");
        assert_eq!(keys, vec!["k0", "k1", "k2", "k3", "k4"]);
    }

    #[test]
    fn scan_returns_each_key_once_when_stable() {
        let (e, _) = engine();
        let mut s = sess(0);
        for i in 0..1000 {
            ok(&e, &mut s, &format!("SET key:{i} v"));
        }
        for count in ["1", "7", "10", "100", "5000"] {
            let got = scan_all(&e, &s, &["COUNT", count]);
            assert_eq!(got.len(), 1000, "count {count}");
            let set: HashSet<_> = got.into_iter().collect();
            assert_eq!(set.len(), 1000);
        }
        // Other databases are not included.
        assert!(scan_all(&e, &sess(1), &[]).is_empty());
    }

    #[test]
    fn scan_guarantee_under_concurrent_changes() {
        let (e, _) = engine();
        let mut s = sess(0);
        let mut stable = Vec::new();
        for i in 0..600 {
            ok(&e, &mut s, &format!("SET stable:{i} v"));
            stable.push(format!("stable:{i}"));
            ok(&e, &mut s, &format!("SET temp:{i} v"));
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut step = 0;
        loop {
            let (c, keys) = scan_once(&e, &s, &cursor, &["COUNT", "13"]);
            seen.extend(keys);
            if c == "0" {
                break;
            }
            cursor = c;
            // Between calls: delete some temporary keys and add new ones.
            for j in 0..7 {
                let n = step * 7 + j;
                if n < 600 {
                    ok(&e, &mut s, &format!("DEL temp:{n}"));
                }
                ok(&e, &mut s, &format!("SET new:{step}:{j} v"));
            }
            step += 1;
            assert!(step < 10_000);
        }
        for k in &stable {
            assert!(seen.contains(k), "missed {k}");
        }
    }

    #[test]
    fn scan_options() {
        let (e, clock) = engine();
        let mut s = sess(0);
        for i in 0..50 {
            ok(&e, &mut s, &format!("SET user:{i} v"));
            ok(&e, &mut s, &format!("SET item:{i} v"));
        }
        let users = scan_all(&e, &s, &["MATCH", "user:*", "COUNT", "7"]);
        assert_eq!(users.len(), 50);
        assert!(users.iter().all(|k| k.starts_with("user:")));
        assert_eq!(scan_all(&e, &s, &["match", "*"]).len(), 100);
        assert_eq!(scan_all(&e, &s, &["TYPE", "string"]).len(), 100);
        assert_eq!(scan_all(&e, &s, &["type", "STRING"]).len(), 100);
        assert!(scan_all(&e, &s, &["TYPE", "list"]).is_empty());
        assert!(scan_all(&e, &s, &["TYPE", "nosuchtype"]).is_empty());
        assert_eq!(
            scan_all(
                &e,
                &s,
                &["MATCH", "item:1*", "TYPE", "string", "COUNT", "3"]
            )
            .len(),
            11
        );
        // Expired keys are skipped and removed (logging DEL).
        ok(&e, &mut s, "PEXPIRE user:1 10");
        clock.advance_ms(10);
        let (r, f) = argv(&e, &s, &[b"SCAN", b"0", b"COUNT", b"1000"]);
        let Frame::Array(v) = r else { panic!() };
        assert_eq!(v[0], bulk("0"));
        let Frame::Array(listed) = &v[1] else {
            panic!()
        };
        assert!(!listed.contains(&bulk("user:1")));
        assert_eq!(listed.len(), 99);
        assert_eq!(f, vec!["0 DEL user:1"]);
        // Errors.
        let errs = [
            (vec!["SCAN", "abc"], ERR_INVALID_CURSOR),
            (vec!["SCAN", " 0"], ERR_INVALID_CURSOR),
            (vec!["SCAN", "18446744073709551616"], ERR_INVALID_CURSOR),
            (vec!["SCAN", "+"], ERR_INVALID_CURSOR),
            (vec!["SCAN", "abc", "COUNT", "0"], ERR_INVALID_CURSOR),
            (vec!["SCAN", "0", "COUNT", "0"], ERR_SYNTAX),
            (vec!["SCAN", "0", "COUNT", "-1"], ERR_SYNTAX),
            (vec!["SCAN", "0", "COUNT", "abc"], ERR_NOT_INT),
            (vec!["SCAN", "0", "COUNT"], ERR_SYNTAX),
            (vec!["SCAN", "0", "foo"], ERR_SYNTAX),
            (vec!["SCAN", "0", "TYPE"], ERR_SYNTAX),
            (vec!["SCAN", "0", "MATCH", "*", "bar"], ERR_SYNTAX),
        ];
        for (args, want) in errs {
            let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
            assert_eq!(argv(&e, &s, &a).0, err(want), "{args:?}");
        }
        // strtoul-style cursors that Redis accepts.
        for c in ["", "+0", "-0", "00"] {
            let (_, keys) = scan_once(&e, &s, c, &["COUNT", "1000"]);
            assert_eq!(keys.len(), 99, "{c:?}");
        }
        // A cursor from nowhere ends the scan quietly.
        assert_eq!(scan_once(&e, &s, "-1", &[]), ("0".to_string(), vec![]));
        assert_eq!(
            scan_once(&e, &s, "18446744073709551615", &[]),
            ("0".to_string(), vec![])
        );
    }

    #[test]
    fn cursor_parsing() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"123"), Some(123));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"12\0junk"), Some(12));
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"\t1"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"1e3"), None);
    }

    #[test]
    fn randomkey() {
        let (e, clock) = engine();
        let mut s = sess(0);
        assert_eq!(run(&e, &mut s, "RANDOMKEY").0, Frame::Null);
        ok(&e, &mut s, "SET only v");
        assert_eq!(run(&e, &mut s, "RANDOMKEY").0, bulk("only"));
        assert_eq!(run(&e, &mut sess(1), "RANDOMKEY").0, Frame::Null);
        for i in 0..19 {
            ok(&e, &mut s, &format!("SET k{i} v"));
        }
        let mut counts = std::collections::HashMap::new();
        for _ in 0..4000 {
            let (r, f) = run(&e, &mut s, "RANDOMKEY");
            assert!(f.is_empty());
            *counts.entry(format!("{r:?}")).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 20);
        // Uniform enough: expected 200 each.
        assert!(counts.values().all(|&c| c > 100 && c < 320), "{counts:?}");
        // Expired keys are never returned; they are removed on the way.
        for i in 0..19 {
            ok(&e, &mut s, &format!("PEXPIRE k{i} 10"));
        }
        clock.advance_ms(10);
        let mut dels = 0;
        for _ in 0..50 {
            let (r, f) = run(&e, &mut s, "RANDOMKEY");
            assert_eq!(r, bulk("only"));
            dels += f.len();
            assert!(fx(&f).iter().all(|l| l.starts_with("0 DEL k")));
        }
        assert!(dels <= 19);
        ok(&e, &mut s, "PEXPIRE only 10");
        clock.advance_ms(10);
        let (r, _) = run(&e, &mut s, "RANDOMKEY");
        assert_eq!(r, Frame::Null);
        assert_eq!(e.dbsize(0), 0);
    }

    #[test]
    fn object_subcommands() {
        let (e, clock) = engine();
        let mut s = sess(0);
        ok(&e, &mut s, "SET i 123");
        ok(&e, &mut s, "SET big 12345");
        ok(&e, &mut s, "SET str hello");
        let long = "x".repeat(45);
        ok(&e, &mut s, &format!("SET long {long}"));
        assert_eq!(run(&e, &mut s, "OBJECT ENCODING i").0, bulk("int"));
        assert_eq!(run(&e, &mut s, "object encoding str").0, bulk("embstr"));
        assert_eq!(run(&e, &mut s, "OBJECT ENCODING long").0, bulk("raw"));
        assert_eq!(run(&e, &mut s, "OBJECT ENCODING nokey").0, Frame::Null);
        assert_eq!(run(&e, &mut s, "OBJECT REFCOUNT i").0, int(2147483647));
        assert_eq!(run(&e, &mut s, "OBJECT REFCOUNT big").0, int(1));
        assert_eq!(run(&e, &mut s, "OBJECT REFCOUNT str").0, int(1));
        assert_eq!(run(&e, &mut s, "OBJECT REFCOUNT nokey").0, Frame::Null);
        assert_eq!(run(&e, &mut s, "OBJECT FREQ str").0, err(ERR_NO_LFU));
        assert_eq!(run(&e, &mut s, "OBJECT FREQ nokey").0, Frame::Null);
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME nokey").0, Frame::Null);
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME str").0, int(0));
        clock.advance_ms(5_500);
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME str").0, int(5));
        // OBJECT, TTL, TYPE and EXISTS do not touch; GET and TOUCH do.
        run(&e, &mut s, "TTL str");
        run(&e, &mut s, "TYPE str");
        run(&e, &mut s, "EXISTS str");
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME str").0, int(5));
        run(&e, &mut s, "TOUCH str");
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME str").0, int(0));
        clock.advance_ms(3_000);
        run(&e, &mut s, "GET str");
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME str").0, int(0));
        assert_eq!(run(&e, &mut s, "OBJECT IDLETIME i").0, int(8));
        assert_eq!(idle_seconds(5, (1 << 24) - 3), 7);
        // Help and errors.
        let Frame::Array(help) = run(&e, &mut s, "OBJECT HELP").0 else {
            panic!()
        };
        assert_eq!(help.len(), 15);
        assert_eq!(
            help[0],
            Frame::simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(help[14], Frame::simple("    Prints this help."));
        assert_eq!(
            run(&e, &mut s, "OBJECT foo").0,
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            run(&e, &mut s, "OBJECT").0,
            err("ERR wrong number of arguments for 'object' command")
        );
        assert_eq!(
            run(&e, &mut s, "OBJECT ENCODING").0,
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        // Expired keys read as missing.
        ok(&e, &mut s, "PEXPIRE str 1");
        clock.advance_ms(1);
        let (r, f) = run(&e, &mut s, "OBJECT ENCODING str");
        assert_eq!(r, Frame::Null);
        assert_eq!(fx(&f), vec!["0 DEL str"]);
    }

    #[test]
    fn ttls_survive_rename_move_copy_swapdb() {
        let (e, clock) = engine();
        let mut s = sess(0);
        ok(&e, &mut s, "SET k v");
        ok(&e, &mut s, "PEXPIRE k 50000");
        ok(&e, &mut s, "RENAME k k2");
        ok(&e, &mut s, "MOVE k2 4");
        let mut s4 = sess(4);
        ok(&e, &mut s4, "COPY k2 k3 DB 7");
        ok(&e, &mut s4, "SWAPDB 7 9");
        let mut s9 = sess(9);
        assert_eq!(run(&e, &mut s9, "PTTL k3").0, int(50000));
        assert_eq!(run(&e, &mut s4, "PTTL k2").0, int(50000));
        clock.advance_ms(50000);
        assert_eq!(run(&e, &mut s9, "EXISTS k3").0, int(0));
        assert_eq!(run(&e, &mut s4, "EXISTS k2").0, int(0));
        assert!(e.keyspace_info().iter().all(|&x| x == (0, 0)));
    }

    /// Replaying the effects of a session on a fresh engine rebuilds the same state.
    #[test]
    fn effects_replay_to_the_same_digest() {
        let (e, clock) = engine();
        let mut log: Vec<crate::engine::Effect> = Vec::new();
        let script: &[(usize, &str)] = &[
            (0, "SET a 1"),
            (0, "SET b 2"),
            (0, "EXPIRE a 100"),
            (0, "COPY a c DB 3"),
            (0, "RENAME b d"),
            (0, "MOVE d 5"),
            (5, "PEXPIRE d 10"),
            (0, "SET e 5"),
            (0, "EXPIRE e -1"),
            (3, "PERSIST c"),
            (0, "SWAPDB 0 1"),
            (1, "RENAMENX a z"),
            (1, "DEL nokey z"),
            (0, "SET y 1"),
            (0, "UNLINK y"),
            (2, "SET q 1"),
            (2, "FLUSHDB"),
            (6, "SET w 1"),
        ];
        for (db, line) in script {
            let mut s = sess(*db);
            let (_, f) = run(&e, &mut s, line);
            log.extend(f);
        }
        clock.advance_ms(20);
        let mut s5 = sess(5);
        log.extend(run(&e, &mut s5, "GET d").1);
        // Replay as the AOF loader does: loading mode, nothing expires on the way.
        let (replay, rclock) = engine();
        rclock.set_ms(clock.now_ms());
        replay.set_loading(true);
        for eff in &log {
            let (r, _) = replay.run_argv(&sess(eff.db), &eff.argv);
            assert!(!r.is_error(), "{eff:?}: {r:?}");
        }
        replay.set_loading(false);
        assert_eq!(crate::digest::digest(&e), crate::digest::digest(&replay));
        assert_ne!(crate::digest::digest(&e), [0u8; 20]);
        assert_eq!(e.keyspace_info(), replay.keyspace_info());
    }
}
