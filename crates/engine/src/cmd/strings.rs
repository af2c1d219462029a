//! String commands: GET, SET and family, with Redis 7.0's syntax, replies and
//! errors (t_string.c).
//!
//! Effects are written so that replaying them reproduces the exact state without
//! depending on the time of replay: relative expiry times become `PXAT`, counters
//! become `SET ... KEEPTTL` with the result, and a SET whose expiry has already
//! passed becomes `DEL` (or nothing, when there was nothing to delete).

use super::args::*;
use super::hash::ld;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{EXPIRED, GENERIC, NEW, STRING};
use crate::tri;
use crate::util;
use crate::value::{Entry, Str, Value};
use bytes::Bytes;
use keel_protocol::Frame;

/// Largest string a command may build (Redis's default `proto-max-bulk-len`).
pub const MAX_STRING: usize = 512 * 1024 * 1024;

const ERR_TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
const ERR_OFFSET: &str = "ERR offset is out of range";
const ERR_FLOAT_RESULT: &str = "ERR increment would produce NaN or Infinity";
const ERR_DECR_OVERFLOW: &str = "ERR decrement would overflow";
const ERR_LCS_TYPE: &str = "ERR The specified keys must contain string values";
const ERR_LCS_IDX_LEN: &str = "ERR If you want both the length and indexes, please just use IDX.";
const ERR_LCS_TOO_LONG: &str = "ERR String too long for LCS";
const ERR_LCS_MEM_LIMIT: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
const ERR_LCS_MEM_ALLOC: &str =
    "ERR Insufficient memory, failed allocating transient memory for LCS";

pub static COMMANDS: &[EngineEntry] = &[
    ("get", Scope::Keys, get),
    ("set", Scope::Keys, set),
    ("setnx", Scope::Keys, setnx),
    ("setex", Scope::Keys, setex),
    ("psetex", Scope::Keys, psetex),
    ("getset", Scope::Keys, getset),
    ("getdel", Scope::Keys, getdel),
    ("getex", Scope::Keys, getex),
    ("mget", Scope::Keys, mget),
    ("mset", Scope::Keys, mset),
    ("msetnx", Scope::Keys, msetnx),
    ("append", Scope::Keys, append),
    ("strlen", Scope::Keys, strlen),
    ("getrange", Scope::Keys, getrange),
    ("substr", Scope::Keys, getrange),
    ("setrange", Scope::Keys, setrange),
    ("incr", Scope::Keys, incr),
    ("decr", Scope::Keys, decr),
    ("incrby", Scope::Keys, incrby),
    ("decrby", Scope::Keys, decrby),
    ("incrbyfloat", Scope::Keys, incrbyfloat),
    ("lcs", Scope::Keys, lcs),
];

// ---------------------------------------------------------------------------
// Helpers

/// The bytes of a string value; `None` for a value of another type.
fn str_of(v: &Value) -> Option<&Str> {
    match v {
        Value::Str { data, .. } => Some(data),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Looks `key` up for reading (counting a hit or miss): `Ok(None)` when it does
/// not exist, the WRONGTYPE error when it holds another type.
fn read_str(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, Frame> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match str_of(&e.value) {
            Some(d) => Ok(Some(d.bytes())),
            None => Err(wrongtype()),
        },
    }
}

/// An absolute time in milliseconds as an effect argument.
fn ms_arg(ms: u64) -> Bytes {
    let mut b = itoa::Buffer::new();
    Bytes::copy_from_slice(b.format(ms).as_bytes())
}

fn del_effect(key: &Bytes) -> Vec<Bytes> {
    vec![s("DEL"), key.clone()]
}

/// The bytes of `data`, made growable, with room for `need` bytes. Grows the
/// way Redis's sds does (double below 1MB, then 1MB more), so repeated APPENDs
/// are amortised. Callers have checked `need` against [`MAX_STRING`].
pub(crate) fn make_room(data: &mut Str, need: usize) -> &mut Vec<u8> {
    const MB: usize = 1024 * 1024;
    let v = data.make_mut();
    if v.capacity() < need {
        let cap = if need < MB {
            need.saturating_mul(2)
        } else {
            need.saturating_add(MB)
        };
        v.reserve_exact(cap - v.len());
    }
    v
}

/// How an expiry time is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// EX: seconds from now.
    Ex,
    /// PX: milliseconds from now.
    Px,
    /// EXAT: Unix time in seconds.
    ExAt,
    /// PXAT: Unix time in milliseconds.
    PxAt,
}

/// Options of SET and GETEX, parsed as Redis's `parseExtendedStringArgumentsOrReply`.
#[derive(Default)]
struct Opts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

/// Parses SET's (`set` true) or GETEX's options from `argv[from..]`. As in Redis,
/// repeating an option is allowed (the last expiry wins) but mixing conflicting
/// ones is a syntax error.
fn parse_opts(argv: &[Bytes], from: usize, set: bool) -> Result<Opts<'_>, Frame> {
    let mut o = Opts::default();
    let mut j = from;
    while let Some(opt) = argv.get(j) {
        let next = argv.get(j + 1);
        let unit = if is(opt, "EX") {
            Some(Unit::Ex)
        } else if is(opt, "PX") {
            Some(Unit::Px)
        } else if is(opt, "EXAT") {
            Some(Unit::ExAt)
        } else if is(opt, "PXAT") {
            Some(Unit::PxAt)
        } else {
            None
        };
        if set && is(opt, "NX") && !o.xx {
            o.nx = true;
        } else if set && is(opt, "XX") && !o.nx {
            o.xx = true;
        } else if set && is(opt, "GET") {
            o.get = true;
        } else if set && is(opt, "KEEPTTL") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(opt, "PERSIST") && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let (Some(u), Some(v)) = (unit, next) {
            let other_unit = matches!(o.expire, Some((k, _)) if k != u);
            if o.keepttl || o.persist || other_unit {
                return Err(err(ERR_SYNTAX));
            }
            o.expire = Some((u, &v[..]));
            j += 1;
        } else {
            return Err(err(ERR_SYNTAX));
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expiry time (ms) an EX/PX/EXAT/PXAT argument names, with Redis's
/// checks and errors (`cmd` names the command in the error).
fn expire_at(now: u64, unit: Unit, arg: &[u8], cmd: &str) -> Result<u64, Frame> {
    let v = int_arg(arg)?;
    let bad = || Frame::error(format!("ERR invalid expire time in '{cmd}' command"));
    let secs = matches!(unit, Unit::Ex | Unit::ExAt);
    if v <= 0 || (secs && v > i64::MAX / 1000) {
        return Err(bad());
    }
    let mut ms = if secs { v * 1000 } else { v };
    if matches!(unit, Unit::Ex | Unit::Px) {
        let now = i64::try_from(now).map_err(|_| bad())?;
        ms = ms.checked_add(now).ok_or_else(bad)?;
    }
    // Positive: v > 0 and, for relative times, the sum did not overflow.
    u64::try_from(ms).map_err(|_| bad())
}

// ---------------------------------------------------------------------------
// GET, SET and its variants

fn get(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match tri!(read_str(ctx, &argv[1])) {
        Some(d) => Frame::Bulk(d),
        None => Frame::Null,
    }
}

/// Redis's `setGenericCommand`. `ok` is the reply when the value was set, `abort`
/// when NX/XX prevented it (both replaced by the old value with GET).
fn set_generic(
    ctx: &mut Ctx,
    key: &Bytes,
    val: &Bytes,
    o: &Opts,
    cmd: &str,
    ok: Frame,
    abort: Frame,
) -> Frame {
    if !(o.get || o.nx || o.xx || o.keepttl) && o.expire.is_none() {
        // Plain SET: whatever was there goes, so one probe both finds and
        // replaces it.
        let now = ctx.now;
        ctx.replace(key, Entry::new(Value::string(val), 0, now));
        ctx.emit_with(|| smallvec![s("SET"), key.clone(), val.clone()]);
        ctx.notify(STRING, "set", key);
        return ok;
    }
    let at = match o.expire {
        Some((unit, arg)) => Some(tri!(expire_at(ctx.now, unit, arg, cmd))),
        None => None,
    };
    // With GET, the old value (or the type error, which stops everything) first.
    let old = if o.get {
        Some(tri!(read_str(ctx, key)))
    } else {
        None
    };
    let reply = |old: Option<Option<Bytes>>, default: Frame| match old {
        Some(Some(d)) => Frame::Bulk(d),
        Some(None) => Frame::Null,
        None => default,
    };
    let prev_ttl = ctx.lookup_write(key).map(|e| e.expire_at);
    let found = prev_ttl.is_some();
    if (o.nx && found) || (o.xx && !found) {
        return reply(old, abort);
    }
    let now = ctx.now;
    match at {
        // An absolute time already past: the key would be gone on its next access.
        // Remove it now (while loading, keep it: later effects may touch it).
        Some(at) if at <= now && !ctx.engine.is_loading() => {
            if found {
                ctx.remove(key);
                ctx.emit(del_effect(key));
            } else {
                ctx.notify(NEW, "new", key);
            }
            // Redis stores the key with its past deadline (`set`, `expire`) and
            // expires it on its next access (`expired`); keel removes it at once.
            ctx.notify(STRING, "set", key);
            ctx.notify(GENERIC, "expire", key);
            ctx.notify(EXPIRED, "expired", key);
        }
        _ => {
            let ttl = match at {
                Some(at) => at,
                None if o.keepttl => prev_ttl.unwrap_or(0),
                None => 0,
            };
            ctx.insert(key, Entry::new(Value::string(val), ttl, now));
            ctx.emit_with(|| {
                let mut fx: Args = smallvec![s("SET"), key.clone(), val.clone()];
                if let Some(at) = at {
                    fx.push(s("PXAT"));
                    fx.push(ms_arg(at));
                } else if o.keepttl {
                    fx.push(s("KEEPTTL"));
                }
                fx
            });
            ctx.notify(STRING, "set", key);
            if at.is_some() {
                ctx.notify(GENERIC, "expire", key);
            }
        }
    }
    reply(old, ok)
}

fn set(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let o = tri!(parse_opts(argv, 3, true));
    set_generic(ctx, &argv[1], &argv[2], &o, "set", Frame::ok(), Frame::Null)
}

fn setnx(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let o = Opts {
        nx: true,
        ..Opts::default()
    };
    set_generic(
        ctx,
        &argv[1],
        &argv[2],
        &o,
        "setnx",
        Frame::Integer(1),
        Frame::Integer(0),
    )
}

fn setex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let o = Opts {
        expire: Some((Unit::Ex, &argv[2][..])),
        ..Opts::default()
    };
    set_generic(
        ctx,
        &argv[1],
        &argv[3],
        &o,
        "setex",
        Frame::ok(),
        Frame::Null,
    )
}

fn psetex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let o = Opts {
        expire: Some((Unit::Px, &argv[2][..])),
        ..Opts::default()
    };
    set_generic(
        ctx,
        &argv[1],
        &argv[3],
        &o,
        "psetex",
        Frame::ok(),
        Frame::Null,
    )
}

/// GETSET: the old value, and the new one set without a TTL (effect `SET k v`).
fn getset(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let o = Opts {
        get: true,
        ..Opts::default()
    };
    set_generic(
        ctx,
        &argv[1],
        &argv[2],
        &o,
        "getset",
        Frame::ok(),
        Frame::Null,
    )
}

fn getdel(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let Some(d) = tri!(read_str(ctx, key)) else {
        return Frame::Null;
    };
    ctx.remove(key);
    ctx.emit(del_effect(key));
    ctx.notify(GENERIC, "del", key);
    Frame::Bulk(d)
}

fn getex(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let o = tri!(parse_opts(argv, 2, false));
    let key = &argv[1];
    // As Redis: a missing key answers nil before the expiry value is validated.
    let (data, ttl) = match ctx.lookup_read(key) {
        None => return Frame::Null,
        Some(e) => match str_of(&e.value) {
            Some(d) => (d.bytes(), e.expire_at),
            None => return wrongtype(),
        },
    };
    let at = match o.expire {
        Some((unit, arg)) => Some(tri!(expire_at(ctx.now, unit, arg, "getex"))),
        None => None,
    };
    if let Some(at) = at {
        if at <= ctx.now && !ctx.engine.is_loading() {
            ctx.remove(key);
            ctx.emit(del_effect(key));
            ctx.notify(GENERIC, "del", key);
        } else {
            ctx.set_expire(key, at);
            ctx.emit(smallvec![s("PEXPIREAT"), key.clone(), ms_arg(at)]);
            ctx.notify(GENERIC, "expire", key);
        }
    } else if o.persist && ttl != 0 {
        ctx.set_expire(key, 0);
        ctx.emit(smallvec![s("PERSIST"), key.clone()]);
        ctx.notify(GENERIC, "persist", key);
    }
    Frame::Bulk(data)
}

// ---------------------------------------------------------------------------
// Multi-key

/// MGET: nil for missing keys and for keys of other types (as Redis).
fn mget(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let mut out = Vec::with_capacity(argv.len().saturating_sub(1));
    for key in argv.iter().skip(1) {
        out.push(match ctx.lookup_read(key) {
            Some(e) => str_of(&e.value).map_or(Frame::Null, |d| Frame::Bulk(d.bytes())),
            None => Frame::Null,
        });
    }
    Frame::Array(out)
}

/// Sets every pair of `argv[1..]` (no TTL) and records one `MSET` effect.
fn mset_pairs(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now;
    let pairs = argv.get(1..).unwrap_or_default();
    if pairs.len() > 2 {
        ctx.prefetch_keys(pairs.iter().step_by(2));
    }
    for pair in pairs.chunks_exact(2) {
        if let [k, v] = pair {
            ctx.insert(k, Entry::new(Value::string(v), 0, now));
            ctx.notify(STRING, "set", k);
        }
    }
    ctx.emit_with(|| {
        let mut fx = Args::with_capacity(argv.len());
        fx.push(s("MSET"));
        fx.extend(pairs.iter().cloned());
        fx
    });
}

/// MSET and MSETNX need key/value pairs: an odd argument count with the name.
fn mset_arity(argv: &[Bytes]) -> Option<Frame> {
    // (A match rather than `% 2 == 0`: `is_multiple_of` is newer than our MSRV.)
    match argv.len() % 2 {
        1 => None,
        _ => {
            let name = String::from_utf8_lossy(&argv[0]).to_lowercase();
            Some(Frame::error(format!(
                "ERR wrong number of arguments for '{name}' command"
            )))
        }
    }
}

fn mset(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    if let Some(e) = mset_arity(argv) {
        return e;
    }
    mset_pairs(ctx, argv);
    Frame::ok()
}

fn msetnx(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    if let Some(e) = mset_arity(argv) {
        return e;
    }
    for key in argv.iter().skip(1).step_by(2) {
        if ctx.lookup_write(key).is_some() {
            return Frame::Integer(0);
        }
    }
    mset_pairs(ctx, argv);
    Frame::Integer(1)
}

// ---------------------------------------------------------------------------
// In-place edits

fn append(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let part = &argv[2];
    let now = ctx.now;
    let total = match ctx.lookup_write(key) {
        None => {
            // A new key stores the argument as SET would (not raw), as Redis.
            ctx.insert(key, Entry::new(Value::string(part), 0, now));
            part.len()
        }
        Some(e) => {
            #[allow(unreachable_patterns)]
            let (data, form) = match &mut e.value {
                Value::Str { data, form, .. } => (data, form),
                _ => return wrongtype(),
            };
            let total = data.len().saturating_add(part.len());
            if total > MAX_STRING {
                return err(ERR_TOO_BIG);
            }
            if part.is_empty() {
                // Nothing appended, but Redis still converts it to the raw encoding
                // (and still announces an `append`).
                if *form == crate::value::Form::Raw {
                    ctx.notify(STRING, "append", key);
                    return Frame::Integer(total as i64);
                }
                *form = crate::value::Form::Raw;
            } else {
                make_room(data, total).extend_from_slice(part);
                *form = crate::value::Form::Raw;
            }
            total
        }
    };
    ctx.emit(smallvec![s("APPEND"), key.clone(), part.clone()]);
    ctx.notify(STRING, "append", key);
    Frame::Integer(total as i64)
}

fn strlen(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match tri!(read_str(ctx, &argv[1])) {
        Some(d) => Frame::Integer(d.len() as i64),
        None => Frame::Integer(0),
    }
}

/// GETRANGE and SUBSTR, with Redis 7.0's index rules (including its clamping of a
/// negative end below the start of the string to 0).
fn getrange(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let start = tri!(int_arg(&argv[2]));
    let end = tri!(int_arg(&argv[3]));
    let empty = || Frame::Bulk(Bytes::new());
    let Some(data) = tri!(read_str(ctx, &argv[1])) else {
        return empty();
    };
    if start < 0 && end < 0 && start > end {
        return empty();
    }
    // Strings are at most a few GB, so len + negative index cannot overflow.
    let len = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    }
    .max(0);
    let end = end.min(len - 1);
    if len == 0 || start > end {
        return empty();
    }
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(a), Ok(b)) if b < data.len() => Frame::Bulk(data.slice(a..=b)),
        _ => empty(),
    }
}

fn setrange(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let offset = tri!(int_arg(&argv[2]));
    let value = &argv[3];
    let Ok(offset) = u64::try_from(offset) else {
        return err(ERR_OFFSET);
    };
    // Checked before anything is allocated.
    let end = offset.saturating_add(value.len() as u64);
    let too_big = end > MAX_STRING as u64;
    let (off, end) = (offset as usize, end as usize); // only used when !too_big
    let now = ctx.now;
    let total = match ctx.lookup_write(key) {
        None => {
            if value.is_empty() {
                return Frame::Integer(0);
            }
            if too_big {
                return err(ERR_TOO_BIG);
            }
            let mut m = vec![0u8; end];
            if let Some(dst) = m.get_mut(off..end) {
                dst.copy_from_slice(value);
            }
            let entry = Entry::new(
                Value::Str {
                    data: Str::Growable(Box::new(m)),
                    form: crate::value::Form::Raw,
                    lru: crate::value::LRU_UNSET,
                },
                0,
                now,
            );
            ctx.insert(key, entry);
            end
        }
        Some(e) => {
            #[allow(unreachable_patterns)]
            let (data, form) = match &mut e.value {
                Value::Str { data, form, .. } => (data, form),
                _ => return wrongtype(),
            };
            if value.is_empty() {
                return Frame::Integer(data.len() as i64);
            }
            if too_big {
                return err(ERR_TOO_BIG);
            }
            let m = make_room(data, end);
            if m.len() < end {
                m.resize(end, 0);
            }
            if let Some(dst) = m.get_mut(off..end) {
                dst.copy_from_slice(value);
            }
            *form = crate::value::Form::Raw;
            data.len()
        }
    };
    ctx.emit(smallvec![
        s("SETRANGE"),
        key.clone(),
        argv[2].clone(),
        value.clone(),
    ]);
    ctx.notify(STRING, "setrange", key);
    Frame::Integer(total as i64)
}

// ---------------------------------------------------------------------------
// Counters

/// Adds `by` to the integer at `key` (0 when missing), keeping its TTL. Effect:
/// `SET k <result> KEEPTTL`.
fn incr_by(ctx: &mut Ctx, key: &Bytes, by: i64) -> Frame {
    let now = ctx.now;
    // The digits are stored from a stack buffer; the effect's copy is made
    // only when something keeps effects (the AOF), not on every INCR.
    let mut digits = itoa::Buffer::new();
    let new = match ctx.lookup_write(key) {
        Some(e) => {
            let Some(cur) = str_of(&e.value) else {
                return wrongtype();
            };
            let Some(cur) = util::parse_i64(cur) else {
                return err(ERR_NOT_INT);
            };
            let Some(new) = cur.checked_add(by) else {
                return err(ERR_OVERFLOW);
            };
            e.set_value(Value::string(digits.format(new).as_bytes()));
            new
        }
        None => {
            let value = Value::string(digits.format(by).as_bytes());
            ctx.insert(key, Entry::new(value, 0, now));
            by
        }
    };
    ctx.emit_with(|| smallvec![s("SET"), key.clone(), util::fmt_i64(new), s("KEEPTTL")]);
    ctx.notify(STRING, "incrby", key);
    Frame::Integer(new)
}

fn incr(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    incr_by(ctx, &argv[1], 1)
}

fn decr(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    incr_by(ctx, &argv[1], -1)
}

fn incrby(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let by = tri!(int_arg(&argv[2]));
    incr_by(ctx, &argv[1], by)
}

fn decrby(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let by = tri!(int_arg(&argv[2]));
    let Some(by) = by.checked_neg() else {
        return err(ERR_DECR_OVERFLOW);
    };
    incr_by(ctx, &argv[1], by)
}

/// `cur + by` as INCRBYFLOAT stores it, or its error.
/// A float argument as Redis's `getLongDoubleFromObject` reads it (80-bit long
/// double): `None` for an infinity, which only fails once added.
fn ld_arg(b: &[u8]) -> Result<Option<ld::Ld>, Frame> {
    match ld::parse(b) {
        None => Err(err(ERR_NOT_FLOAT)),
        Some(ld::Parsed::Infinite(_)) => Ok(None),
        Some(ld::Parsed::Finite(v)) => Ok(Some(v)),
    }
}

/// `cur + by` in long double, as Redis formats it (`%.17Lf`, trailing zeros
/// removed), or the NaN/Infinity error.
fn ld_sum(cur: Option<ld::Ld>, by: Option<ld::Ld>) -> Result<Bytes, Frame> {
    match (cur, by) {
        (Some(a), Some(b)) => a
            .add(b)
            .map(|v| Bytes::from(v.to_human()))
            .ok_or_else(|| err(ERR_FLOAT_RESULT)),
        _ => Err(err(ERR_FLOAT_RESULT)),
    }
}

/// INCRBYFLOAT, in 80-bit long double arithmetic as Redis computes it (so 0.1 +
/// 0.2 is 0.3 and 1e400 is a number). Effect: `SET k <result> KEEPTTL`.
fn incrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let now = ctx.now;
    let text = match ctx.lookup_write(key) {
        Some(e) => {
            let Some(cur) = str_of(&e.value) else {
                return wrongtype();
            };
            let cur = tri!(ld_arg(cur));
            let by = tri!(ld_arg(&argv[2]));
            let text = tri!(ld_sum(cur, by));
            e.set_value(Value::text(&text));
            text
        }
        None => {
            let by = tri!(ld_arg(&argv[2]));
            let text = tri!(ld_sum(Some(ld::Ld::default()), by));
            ctx.insert(key, Entry::new(Value::text(&text), 0, now));
            text
        }
    };
    ctx.emit(smallvec![s("SET"), key.clone(), text.clone(), s("KEEPTTL")]);
    ctx.notify(STRING, "incrbyfloat", key);
    Frame::Bulk(text)
}

// ---------------------------------------------------------------------------
// LCS

fn lcs(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    // Both keys are looked up (and counted) before anything else, as Redis.
    let a = read_str(ctx, &argv[1]);
    let b = read_str(ctx, &argv[2]);
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        _ => return err(ERR_LCS_TYPE),
    };
    let (mut getidx, mut getlen, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: u64 = 0;
    let mut j = 3;
    while let Some(opt) = argv.get(j) {
        if is(opt, "IDX") {
            getidx = true;
        } else if is(opt, "LEN") {
            getlen = true;
        } else if is(opt, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if let (true, Some(v)) = (is(opt, "MINMATCHLEN"), argv.get(j + 1)) {
            minmatchlen = u64::try_from(tri!(int_arg(v))).unwrap_or(0);
            j += 1;
        } else {
            return err(ERR_SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return err(ERR_LCS_IDX_LEN);
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return err(ERR_LCS_TOO_LONG);
    }
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    // The table is (alen+1)*(blen+1) u32 cells; refuse it beyond the bulk limit
    // before allocating, as Redis.
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > MAX_STRING as u64 {
        return err(ERR_LCS_MEM_LIMIT);
    }
    let cells = cells as usize;
    let mut tab: Vec<u32> = Vec::new();
    if tab.try_reserve_exact(cells).is_err() {
        return err(ERR_LCS_MEM_ALLOC);
    }
    tab.resize(cells, 0);
    // tab[i*w + j] = LCS length of a[..i] and b[..j]; row 0 and column 0 are 0.
    for (i, &ca) in a.iter().enumerate() {
        let (prev, cur) = tab.split_at_mut((i + 1) * w);
        let prev = &prev[i * w..];
        for (jj, &cb) in b.iter().enumerate() {
            cur[jj + 1] = if ca == cb {
                prev[jj] + 1
            } else {
                prev[jj + 1].max(cur[jj])
            };
        }
    }
    let cell = |i: usize, j: usize| tab.get(i * w + j).copied().unwrap_or(0);
    let total = cell(alen, blen);
    let computelcs = getidx || !getlen;
    let mut result = if computelcs {
        vec![0u8; total as usize]
    } else {
        Vec::new()
    };
    let mut matches = Vec::new();
    let mut idx = total as usize;
    // Walk back from the end, collecting the LCS and its ranges, exactly as Redis
    // 7.0 does (so the ranges come out in the same order).
    let (mut i, mut j) = (alen, blen);
    // (a_start, a_end, b_start, b_end) of the range being built.
    let mut range: Option<(usize, usize, usize, usize)> = None;
    while computelcs && i > 0 && j > 0 {
        let mut emit = false;
        let (ca, cb) = (a[i - 1], b[j - 1]);
        if ca == cb {
            if let Some(slot) = idx.checked_sub(1).and_then(|k| result.get_mut(k)) {
                *slot = ca;
            }
            match &mut range {
                None => range = Some((i - 1, i - 1, j - 1, j - 1)),
                Some(r) => {
                    if r.0 == i && r.2 == j {
                        r.0 -= 1;
                        r.2 -= 1;
                    } else {
                        emit = true;
                    }
                }
            }
            if matches!(range, Some((0, _, _, _)) | Some((_, _, 0, _))) {
                emit = true;
            }
            idx = idx.saturating_sub(1);
            i -= 1;
            j -= 1;
        } else {
            if cell(i - 1, j) > cell(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if range.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some((as_, ae, bs, be)) = range.take() {
                let len = (ae - as_ + 1) as u64;
                if getidx && (minmatchlen == 0 || len >= minmatchlen) {
                    let pos = |x: usize| Frame::Integer(x as i64);
                    let mut m = vec![
                        Frame::Array(vec![pos(as_), pos(ae)]),
                        Frame::Array(vec![pos(bs), pos(be)]),
                    ];
                    if withmatchlen {
                        m.push(Frame::Integer(len as i64));
                    }
                    matches.push(Frame::Array(m));
                }
            }
        }
    }
    if getidx {
        Frame::Map(vec![
            (Frame::bulk("matches"), Frame::Array(matches)),
            (Frame::bulk("len"), Frame::Integer(total as i64)),
        ])
    } else if getlen {
        Frame::Integer(total as i64)
    } else {
        Frame::Bulk(Bytes::from(result))
    }
}

#[cfg(test)]
mod tests {
    use super::MAX_STRING;
    use crate::clock::ManualClock;
    use crate::engine::testing::{arr, bulk, engine, error, fx, int, run, runb};
    use crate::engine::{Effect, Engine, Session};
    use bytes::Bytes;
    use keel_protocol::Frame;
    use std::collections::BTreeMap;

    const T0: u64 = 1_000_000_000_000;

    fn ok() -> Frame {
        Frame::ok()
    }

    /// Reply only.
    fn r(e: &Engine, s: &mut Session, line: &str) -> Frame {
        run(e, s, line).0
    }

    /// Effects only, rendered.
    fn f(e: &Engine, s: &mut Session, line: &str) -> Vec<String> {
        fx(&run(e, s, line).1)
    }

    /// Every key of every database: (db, key) -> (value, raw, expire_at), read
    /// straight from the shards (expired keys not yet removed included).
    type Snapshot = BTreeMap<(usize, Vec<u8>), (Vec<u8>, bool, u64)>;
    fn snapshot(e: &Engine) -> Snapshot {
        let mut out = BTreeMap::new();
        e.for_each_shard(|_, sh| {
            for (db, d) in sh.dbs.iter().enumerate() {
                for (k, en) in &d.map {
                    #[allow(unreachable_patterns)]
                    let (data, raw) = match &en.value {
                        crate::value::Value::Str { data, form, .. } => {
                            (data.to_vec(), *form == crate::value::Form::Raw)
                        }
                        _ => (b"<other>".to_vec(), false),
                    };
                    out.insert((db, k.to_vec()), (data, raw, en.expire_at));
                    assert_eq!(
                        d.expires.contains(k),
                        en.expire_at != 0,
                        "TTL index out of step"
                    );
                }
            }
        });
        out
    }

    fn entry(e: &Engine, db: usize, key: &str) -> Option<(Vec<u8>, bool, u64)> {
        snapshot(e).remove(&(db, key.as_bytes().to_vec()))
    }

    fn ttl(e: &Engine, key: &str) -> Option<u64> {
        entry(e, 0, key).map(|x| x.2)
    }

    /// Applies one effect to `b`. Effects of commands other modules implement
    /// (DEL, PEXPIREAT, PERSIST) are applied directly when `b` does not run them yet.
    fn apply(b: &Engine, eff: &Effect) {
        let s = Session {
            db: eff.db,
            resp: 2,
            ticket: 0,
            ..Default::default()
        };
        let (reply, _) = b.run_argv(&s, &eff.argv);
        let Frame::Error(msg) = &reply else { return };
        assert!(
            msg.ends_with(b"not supported by keel yet"),
            "replaying {:?}: {:?}",
            eff,
            reply
        );
        let name = String::from_utf8_lossy(&eff.argv[0]).to_uppercase();
        let key = eff.argv[1].clone();
        let shard = b.shard_of(&key);
        b.for_each_shard(|i, sh| {
            if i != shard {
                return;
            }
            let d = &mut sh.dbs[eff.db];
            match name.as_str() {
                "DEL" => {
                    d.remove(&key);
                }
                "PEXPIREAT" => {
                    let at: u64 = String::from_utf8_lossy(&eff.argv[2]).parse().expect("ms");
                    d.set_expire(&key, at);
                }
                "PERSIST" => {
                    d.set_expire(&key, 0);
                }
                other => panic!("no fallback for {other}"),
            }
        });
    }

    #[test]
    fn get_and_plain_set() {
        let (e, _) = engine();
        let mut s = Session::default();
        assert_eq!(r(&e, &mut s, "GET k"), Frame::Null);
        let (rep, fxs) = run(&e, &mut s, "SET k v");
        assert_eq!(rep, ok());
        assert_eq!(fx(&fxs), vec!["0 SET k v"]);
        assert_eq!(r(&e, &mut s, "GET k"), bulk("v"));
        assert!(run(&e, &mut s, "GET k").1.is_empty());
        assert_eq!(entry(&e, 0, "k"), Some((b"v".to_vec(), false, 0)));
        // Binary-safe keys and values, empty value.
        let (rep, fxs) = runb(&e, &s, &[b"SET", b"\x00\xff k", b""]);
        assert_eq!(rep, ok());
        assert_eq!(
            fxs[0].argv.to_vec(),
            vec![
                Bytes::from_static(b"SET"),
                Bytes::from_static(b"\x00\xff k"),
                Bytes::new()
            ]
        );
        assert_eq!(runb(&e, &s, &[b"GET", b"\x00\xff k"]).0, bulk(""));
        // Case-insensitive command and options.
        assert_eq!(r(&e, &mut s, "set k2 v ex 10 nx"), ok());
        assert_eq!(ttl(&e, "k2"), Some(T0 + 10_000));
        // Other databases.
        let mut s3 = Session {
            db: 3,
            resp: 2,
            ticket: 0,
            ..Default::default()
        };
        assert_eq!(f(&e, &mut s3, "SET k other"), vec!["3 SET k other"]);
        assert_eq!(r(&e, &mut s, "GET k"), bulk("v"));
        assert_eq!(r(&e, &mut s3, "GET k"), bulk("other"));
        // Arity is the table's business.
        assert_eq!(
            r(&e, &mut s, "GET"),
            error("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            r(&e, &mut s, "SET k"),
            error("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn get_counts_hits_and_misses() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET a 1");
        r(&e, &mut s, "GET a");
        r(&e, &mut s, "GET b");
        r(&e, &mut s, "MGET a b c");
        r(&e, &mut s, "STRLEN a");
        r(&e, &mut s, "GETRANGE z 0 1");
        r(&e, &mut s, "LCS a z");
        r(&e, &mut s, "GETDEL nokey");
        r(&e, &mut s, "GETEX nokey");
        r(&e, &mut s, "GETSET nokey2 v");
        r(&e, &mut s, "SET nokey3 v GET");
        // Writes without a read part count nothing.
        r(&e, &mut s, "SET x 1");
        r(&e, &mut s, "INCR x");
        r(&e, &mut s, "APPEND x 1");
        r(&e, &mut s, "SETNX x 1");
        let st = e.stats();
        assert_eq!((st.keyspace_hits, st.keyspace_misses), (4, 9));
    }

    #[test]
    fn set_expiry_options() {
        let (e, clock) = engine();
        let mut s = Session::default();
        assert_eq!(
            f(&e, &mut s, "SET k v EX 10"),
            vec![format!("0 SET k v PXAT {}", T0 + 10_000)]
        );
        assert_eq!(ttl(&e, "k"), Some(T0 + 10_000));
        assert_eq!(
            f(&e, &mut s, "SET k v PX 1500"),
            vec![format!("0 SET k v PXAT {}", T0 + 1500)]
        );
        assert_eq!(ttl(&e, "k"), Some(T0 + 1500));
        let at = T0 / 1000 + 100;
        assert_eq!(
            f(&e, &mut s, &format!("SET k v EXAT {at}")),
            vec![format!("0 SET k v PXAT {}", at * 1000)]
        );
        assert_eq!(
            f(&e, &mut s, &format!("SET k v PXAT {}", T0 + 7)),
            vec![format!("0 SET k v PXAT {}", T0 + 7)]
        );
        assert_eq!(ttl(&e, "k"), Some(T0 + 7));
        // Repeating the same expiry option is allowed, the last wins.
        assert_eq!(r(&e, &mut s, "SET k v EX 10 EX 20"), ok());
        assert_eq!(ttl(&e, "k"), Some(T0 + 20_000));
        // Plain SET clears the TTL.
        assert_eq!(f(&e, &mut s, "SET k v2"), vec!["0 SET k v2"]);
        assert_eq!(ttl(&e, "k"), Some(0));
        // KEEPTTL keeps it.
        r(&e, &mut s, "SET k v PX 5000");
        assert_eq!(
            f(&e, &mut s, "SET k v3 KEEPTTL"),
            vec!["0 SET k v3 KEEPTTL"]
        );
        assert_eq!(entry(&e, 0, "k"), Some((b"v3".to_vec(), false, T0 + 5000)));
        assert_eq!(
            f(&e, &mut s, "SET nottl v KEEPTTL"),
            vec!["0 SET nottl v KEEPTTL"]
        );
        assert_eq!(ttl(&e, "nottl"), Some(0));
        // The key expires on the clock.
        clock.advance_ms(4999);
        assert_eq!(r(&e, &mut s, "GET k"), bulk("v3"));
        clock.advance_ms(1);
        let (rep, fxs) = run(&e, &mut s, "GET k");
        assert_eq!(rep, Frame::Null);
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
        // EX/PX are relative to the command's time.
        let now = T0 + 5000;
        assert_eq!(
            f(&e, &mut s, "SET k v EX 1"),
            vec![format!("0 SET k v PXAT {}", now + 1000)]
        );
        // The extremes that are still valid.
        assert_eq!(r(&e, &mut s, "SET k v PXAT 9223372036854775807"), ok());
        assert_eq!(ttl(&e, "k"), Some(i64::MAX as u64));
        assert_eq!(r(&e, &mut s, "SET k v EXAT 9223372036854775"), ok());
        assert_eq!(ttl(&e, "k"), Some(9223372036854775000));
    }

    #[test]
    fn set_errors() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET k orig");
        let syntax = error("ERR syntax error");
        for line in [
            "SET k v NX XX",
            "SET k v XX NX",
            "SET k v EX 10 PX 10",
            "SET k v PX 10 EXAT 10",
            "SET k v EXAT 10 PXAT 10",
            "SET k v PXAT 10 EX 10",
            "SET k v KEEPTTL EX 10",
            "SET k v EX 10 KEEPTTL",
            "SET k v PXAT 10 KEEPTTL",
            "SET k v EX",
            "SET k v PX",
            "SET k v PERSIST",
            "SET k v foo",
            "SET k v NX foo",
            "SET k v EX abc NX XX",
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, syntax, "{line}");
            assert!(fxs.is_empty(), "{line}");
        }
        let not_int = error("ERR value is not an integer or out of range");
        let bad = error("ERR invalid expire time in 'set' command");
        for (line, want) in [
            ("SET k v EX abc", &not_int),
            ("SET k v PX 1.5", &not_int),
            ("SET k v EX 99999999999999999999", &not_int),
            ("SET k v EX 0", &bad),
            ("SET k v EX -1", &bad),
            ("SET k v PX 0", &bad),
            ("SET k v EXAT 0", &bad),
            ("SET k v PXAT -5", &bad),
            ("SET k v EX 9223372036854776", &bad),
            ("SET k v EX 9223372036854775", &bad),
            ("SET k v PX 9223372036854775807", &bad),
            ("SET k v EXAT 9223372036854776", &bad),
            ("SET k v EX 0 GET", &bad),
            ("SET k v EX abc GET", &not_int),
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(&rep, want, "{line}");
            assert!(fxs.is_empty(), "{line}");
        }
        assert_eq!(r(&e, &mut s, "GET k"), bulk("orig"));
    }

    #[test]
    fn set_nx_xx_get() {
        let (e, _) = engine();
        let mut s = Session::default();
        // NX on a missing key sets; on an existing key replies nil, no effect.
        assert_eq!(f(&e, &mut s, "SET k v NX"), vec!["0 SET k v"]);
        let (rep, fxs) = run(&e, &mut s, "SET k w NX");
        assert_eq!(rep, Frame::Null);
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET k"), bulk("v"));
        // Repeated NX is fine.
        assert_eq!(r(&e, &mut s, "SET k2 v NX NX"), ok());
        // XX.
        let (rep, fxs) = run(&e, &mut s, "SET missing v XX");
        assert_eq!(rep, Frame::Null);
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET missing"), Frame::Null);
        assert_eq!(f(&e, &mut s, "SET k w XX"), vec!["0 SET k w"]);
        // GET returns the old value, the effect has no GET.
        let (rep, fxs) = run(&e, &mut s, "SET k x GET");
        assert_eq!(rep, bulk("w"));
        assert_eq!(fx(&fxs), vec!["0 SET k x"]);
        let (rep, fxs) = run(&e, &mut s, "SET new v GET");
        assert_eq!(rep, Frame::Null);
        assert_eq!(fx(&fxs), vec!["0 SET new v"]);
        assert_eq!(r(&e, &mut s, "SET k y GET GET"), bulk("x"));
        // GET with NX/XX: the old value whether or not it set.
        let (rep, fxs) = run(&e, &mut s, "SET k z NX GET");
        assert_eq!(rep, bulk("y"));
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET k"), bulk("y"));
        let (rep, fxs) = run(&e, &mut s, "SET k3 v NX GET");
        assert_eq!(rep, Frame::Null);
        assert_eq!(fx(&fxs), vec!["0 SET k3 v"]);
        let (rep, fxs) = run(&e, &mut s, "SET k4 v XX GET");
        assert_eq!(rep, Frame::Null);
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET k4"), Frame::Null);
        let (rep, fxs) = run(&e, &mut s, "SET k z XX GET EX 10");
        assert_eq!(rep, bulk("y"));
        assert_eq!(fx(&fxs), vec![format!("0 SET k z PXAT {}", T0 + 10_000)]);
        let (rep, fxs) = run(&e, &mut s, "SET k zz GET KEEPTTL");
        assert_eq!(rep, bulk("z"));
        assert_eq!(fx(&fxs), vec!["0 SET k zz KEEPTTL"]);
        assert_eq!(ttl(&e, "k"), Some(T0 + 10_000));
    }

    #[test]
    fn set_nx_and_xx_see_expired_keys_as_missing() {
        let (e, clock) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET k v PX 100");
        clock.advance_ms(100);
        let (rep, fxs) = run(&e, &mut s, "SET k w NX");
        assert_eq!(rep, ok());
        assert_eq!(fx(&fxs), vec!["0 DEL k", "0 SET k w"]);
        r(&e, &mut s, "SET k v PX 100");
        clock.advance_ms(100);
        let (rep, fxs) = run(&e, &mut s, "SET k w XX GET");
        assert_eq!(rep, Frame::Null);
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
        assert_eq!(entry(&e, 0, "k"), None);
    }

    #[test]
    fn set_with_past_absolute_time() {
        let (e, _) = engine();
        let mut s = Session::default();
        // Nothing existed: OK, nothing stored, nothing emitted.
        let (rep, fxs) = run(&e, &mut s, "SET k v PXAT 1");
        assert_eq!(rep, ok());
        assert!(fxs.is_empty());
        assert_eq!(entry(&e, 0, "k"), None);
        // The current millisecond counts as past.
        let (rep, fxs) = run(&e, &mut s, &format!("SET k v PXAT {T0}"));
        assert_eq!(rep, ok());
        assert!(fxs.is_empty());
        // An existing key is deleted.
        r(&e, &mut s, "SET k old EX 100");
        let (rep, fxs) = run(&e, &mut s, "SET k v EXAT 1 GET");
        assert_eq!(rep, bulk("old"));
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
        assert_eq!(entry(&e, 0, "k"), None);
        assert_eq!(r(&e, &mut s, "GET k"), Frame::Null);
        // NX on an existing key: nothing happens.
        r(&e, &mut s, "SET k old");
        let (rep, fxs) = run(&e, &mut s, "SET k v PXAT 1 NX");
        assert_eq!(rep, Frame::Null);
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET k"), bulk("old"));
        // XX on an existing key deletes it.
        let (rep, fxs) = run(&e, &mut s, "SET k v PXAT 1 XX");
        assert_eq!(rep, ok());
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
        // While loading (AOF replay), the key is kept with its past time, so later
        // effects on it apply as they did originally.
        e.set_loading(true);
        assert_eq!(r(&e, &mut s, "SET k v PXAT 1"), ok());
        assert_eq!(entry(&e, 0, "k"), Some((b"v".to_vec(), false, 1)));
        e.set_loading(false);
    }

    #[test]
    fn setnx_setex_psetex() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "SETNX k v");
        assert_eq!(rep, int(1));
        assert_eq!(fx(&fxs), vec!["0 SET k v"]);
        let (rep, fxs) = run(&e, &mut s, "SETNX k w");
        assert_eq!(rep, int(0));
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET k"), bulk("v"));

        let (rep, fxs) = run(&e, &mut s, "SETEX k 10 w");
        assert_eq!(rep, ok());
        assert_eq!(fx(&fxs), vec![format!("0 SET k w PXAT {}", T0 + 10_000)]);
        assert_eq!(entry(&e, 0, "k"), Some((b"w".to_vec(), false, T0 + 10_000)));
        let (rep, fxs) = run(&e, &mut s, "PSETEX k 250 x");
        assert_eq!(rep, ok());
        assert_eq!(fx(&fxs), vec![format!("0 SET k x PXAT {}", T0 + 250)]);
        assert_eq!(ttl(&e, "k"), Some(T0 + 250));

        let not_int = error("ERR value is not an integer or out of range");
        for (line, want) in [
            (
                "SETEX k 0 v",
                error("ERR invalid expire time in 'setex' command"),
            ),
            (
                "SETEX k -1 v",
                error("ERR invalid expire time in 'setex' command"),
            ),
            (
                "SETEX k 9223372036854776 v",
                error("ERR invalid expire time in 'setex' command"),
            ),
            ("SETEX k abc v", not_int.clone()),
            (
                "PSETEX k 0 v",
                error("ERR invalid expire time in 'psetex' command"),
            ),
            (
                "PSETEX k -5 v",
                error("ERR invalid expire time in 'psetex' command"),
            ),
            (
                "PSETEX k 9223372036854775807 v",
                error("ERR invalid expire time in 'psetex' command"),
            ),
            ("PSETEX k 1.5 v", not_int.clone()),
            (
                "SETEX k 10",
                error("ERR wrong number of arguments for 'setex' command"),
            ),
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, want, "{line}");
            assert!(fxs.is_empty(), "{line}");
        }
        assert_eq!(r(&e, &mut s, "GET k"), bulk("x"));
    }

    #[test]
    fn getset_and_getdel() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "GETSET k v");
        assert_eq!(rep, Frame::Null);
        assert_eq!(fx(&fxs), vec!["0 SET k v"]);
        r(&e, &mut s, "SET k v EX 100");
        let (rep, fxs) = run(&e, &mut s, "GETSET k w");
        assert_eq!(rep, bulk("v"));
        assert_eq!(fx(&fxs), vec!["0 SET k w"]);
        assert_eq!(
            entry(&e, 0, "k"),
            Some((b"w".to_vec(), false, 0)),
            "GETSET clears the TTL"
        );

        let (rep, fxs) = run(&e, &mut s, "GETDEL k");
        assert_eq!(rep, bulk("w"));
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
        assert_eq!(entry(&e, 0, "k"), None);
        let (rep, fxs) = run(&e, &mut s, "GETDEL k");
        assert_eq!(rep, Frame::Null);
        assert!(fxs.is_empty());
    }

    #[test]
    fn getex() {
        let (e, clock) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET k v");
        // No option: a plain read.
        let (rep, fxs) = run(&e, &mut s, "GETEX k");
        assert_eq!(rep, bulk("v"));
        assert!(fxs.is_empty());
        let (rep, fxs) = run(&e, &mut s, "GETEX k EX 10");
        assert_eq!(rep, bulk("v"));
        assert_eq!(fx(&fxs), vec![format!("0 PEXPIREAT k {}", T0 + 10_000)]);
        assert_eq!(ttl(&e, "k"), Some(T0 + 10_000));
        assert_eq!(
            f(&e, &mut s, "GETEX k PX 20"),
            vec![format!("0 PEXPIREAT k {}", T0 + 20)]
        );
        let at = T0 / 1000 + 50;
        assert_eq!(
            f(&e, &mut s, &format!("GETEX k EXAT {at}")),
            vec![format!("0 PEXPIREAT k {}", at * 1000)]
        );
        assert_eq!(
            f(&e, &mut s, &format!("GETEX k PXAT {}", T0 + 5)),
            vec![format!("0 PEXPIREAT k {}", T0 + 5)]
        );
        assert_eq!(ttl(&e, "k"), Some(T0 + 5));
        assert_eq!(r(&e, &mut s, "GETEX k ex 10 ex 20"), bulk("v"));
        assert_eq!(ttl(&e, "k"), Some(T0 + 20_000));
        // PERSIST on a key with a TTL, then without.
        let (rep, fxs) = run(&e, &mut s, "GETEX k PERSIST");
        assert_eq!(rep, bulk("v"));
        assert_eq!(fx(&fxs), vec!["0 PERSIST k"]);
        assert_eq!(ttl(&e, "k"), Some(0));
        let (rep, fxs) = run(&e, &mut s, "GETEX k PERSIST PERSIST");
        assert_eq!(rep, bulk("v"));
        assert!(fxs.is_empty());
        // A past absolute time deletes the key (and still returns the value).
        let (rep, fxs) = run(&e, &mut s, "GETEX k PXAT 1");
        assert_eq!(rep, bulk("v"));
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
        assert_eq!(entry(&e, 0, "k"), None);
        // A missing key answers nil before the time is checked.
        for line in [
            "GETEX k",
            "GETEX k EX abc",
            "GETEX k EX -1",
            "GETEX k PERSIST",
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, Frame::Null, "{line}");
            assert!(fxs.is_empty());
        }
        r(&e, &mut s, "SET k v");
        let syntax = error("ERR syntax error");
        for line in [
            "GETEX k foo",
            "GETEX k NX",
            "GETEX k XX",
            "GETEX k GET",
            "GETEX k KEEPTTL",
            "GETEX k EX",
            "GETEX k EX 10 PERSIST",
            "GETEX k PERSIST EX 10",
            "GETEX k EX 10 PX 10",
            "GETEX k EXAT 10 PXAT 10",
            "GETEX missing foo",
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, syntax, "{line}");
            assert!(fxs.is_empty(), "{line}");
        }
        assert_eq!(
            r(&e, &mut s, "GETEX k EX abc"),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r(&e, &mut s, "GETEX k EX 0"),
            error("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            r(&e, &mut s, "GETEX k EXAT 0"),
            error("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            r(&e, &mut s, "GETEX k PX 9223372036854775807"),
            error("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(ttl(&e, "k"), Some(0));
        // An expired key is gone for GETEX.
        r(&e, &mut s, "SET k v PX 10");
        clock.advance_ms(10);
        let (rep, fxs) = run(&e, &mut s, "GETEX k PERSIST");
        assert_eq!(rep, Frame::Null);
        assert_eq!(fx(&fxs), vec!["0 DEL k"]);
    }

    #[test]
    fn mget_mset_msetnx() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "MSET a 1 b 2 c 3");
        assert_eq!(rep, ok());
        assert_eq!(fx(&fxs), vec!["0 MSET a 1 b 2 c 3"]);
        assert_eq!(
            r(&e, &mut s, "MGET a b x c"),
            arr(vec![bulk("1"), bulk("2"), Frame::Null, bulk("3")])
        );
        // MSET clears TTLs; the last of duplicate keys wins.
        r(&e, &mut s, "SET a 1 EX 100");
        assert_eq!(f(&e, &mut s, "MSET a 9 a 10"), vec!["0 MSET a 9 a 10"]);
        assert_eq!(entry(&e, 0, "a"), Some((b"10".to_vec(), false, 0)));
        for line in ["MSET a", "MSET a b c"] {
            assert_eq!(
                r(&e, &mut s, line),
                error("ERR wrong number of arguments for 'mset' command")
            );
        }
        assert_eq!(
            r(&e, &mut s, "MSETNX a b c"),
            error("ERR wrong number of arguments for 'msetnx' command")
        );
        // MSETNX: all or nothing.
        let (rep, fxs) = run(&e, &mut s, "MSETNX x 1 a 2");
        assert_eq!(rep, int(0));
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "GET x"), Frame::Null);
        let (rep, fxs) = run(&e, &mut s, "MSETNX x 1 y 2");
        assert_eq!(rep, int(1));
        assert_eq!(fx(&fxs), vec!["0 MSET x 1 y 2"]);
        assert_eq!(r(&e, &mut s, "MGET x y"), arr(vec![bulk("1"), bulk("2")]));
    }

    #[test]
    fn msetnx_sees_expired_keys_as_missing() {
        let (e, clock) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET a 1 PX 5");
        clock.advance_ms(5);
        let (rep, fxs) = run(&e, &mut s, "MSETNX a 2 b 3");
        assert_eq!(rep, int(1));
        assert_eq!(fx(&fxs), vec!["0 DEL a", "0 MSET a 2 b 3"]);
    }

    #[test]
    fn append() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "APPEND k abc");
        assert_eq!(rep, int(3));
        assert_eq!(fx(&fxs), vec!["0 APPEND k abc"]);
        // A new key holds the argument as SET would (Redis: embstr).
        assert_eq!(entry(&e, 0, "k"), Some((b"abc".to_vec(), false, 0)));
        let (rep, fxs) = run(&e, &mut s, "APPEND k def");
        assert_eq!(rep, int(6));
        assert_eq!(fx(&fxs), vec!["0 APPEND k def"]);
        assert_eq!(entry(&e, 0, "k"), Some((b"abcdef".to_vec(), true, 0)));
        // Appending nothing to a raw string changes nothing.
        let (rep, fxs) = runb(&e, &s, &[b"APPEND", b"k", b""]);
        assert_eq!(rep, int(6));
        assert!(fxs.is_empty());
        // ... but converts a non-raw one to raw, as Redis.
        r(&e, &mut s, "SET n 123");
        let (rep, fxs) = runb(&e, &s, &[b"APPEND", b"n", b""]);
        assert_eq!(rep, int(3));
        assert_eq!(fx(&fxs), vec!["0 APPEND n "]);
        assert_eq!(entry(&e, 0, "n"), Some((b"123".to_vec(), true, 0)));
        // Appending nothing to a missing key creates an empty string.
        let (rep, fxs) = runb(&e, &s, &[b"APPEND", b"empty", b""]);
        assert_eq!(rep, int(0));
        assert_eq!(fxs.len(), 1);
        assert_eq!(entry(&e, 0, "empty"), Some((Vec::new(), false, 0)));
        // APPEND keeps the TTL.
        r(&e, &mut s, "SET t a EX 100");
        r(&e, &mut s, "APPEND t b");
        assert_eq!(
            entry(&e, 0, "t"),
            Some((b"ab".to_vec(), true, T0 + 100_000))
        );
        // Binary data; repeated appends (the buffer is reused when unshared).
        for i in 0..1000u32 {
            runb(&e, &s, &[b"APPEND", b"bin", &i.to_le_bytes()]);
        }
        let want: Vec<u8> = (0..1000u32).flat_map(|i| i.to_le_bytes()).collect();
        assert_eq!(
            runb(&e, &s, &[b"GET", b"bin"]).0,
            Frame::Bulk(Bytes::from(want))
        );
        // A GET reply holding the old bytes is not affected by a later APPEND.
        let held = r(&e, &mut s, "GET k");
        r(&e, &mut s, "APPEND k ghi");
        assert_eq!(held, bulk("abcdef"));
        assert_eq!(r(&e, &mut s, "GET k"), bulk("abcdefghi"));
    }

    #[test]
    fn append_size_limit() {
        let (e, _) = engine();
        let s = Session::default();
        // Build a string one byte short of the limit with SETRANGE (one allocation).
        let off = (MAX_STRING - 2).to_string();
        assert_eq!(
            runb(&e, &s, &[b"SETRANGE", b"big", off.as_bytes(), b"x"]).0,
            int((MAX_STRING - 1) as i64)
        );
        let (rep, fxs) = runb(&e, &s, &[b"APPEND", b"big", b"yz"]);
        assert_eq!(
            rep,
            error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert!(fxs.is_empty());
        assert_eq!(
            runb(&e, &s, &[b"STRLEN", b"big"]).0,
            int((MAX_STRING - 1) as i64)
        );
        assert_eq!(
            runb(&e, &s, &[b"GETRANGE", b"big", b"-2", b"-1"]).0,
            bulk("\0x")
        );
        runb(&e, &s, &[b"GETDEL", b"big"]);
    }

    #[test]
    fn strlen() {
        let (e, _) = engine();
        let mut s = Session::default();
        assert_eq!(r(&e, &mut s, "STRLEN k"), int(0));
        r(&e, &mut s, "SET k hello");
        assert_eq!(r(&e, &mut s, "STRLEN k"), int(5));
        runb(&e, &s, &[b"SET", b"k", b""]);
        assert_eq!(r(&e, &mut s, "STRLEN k"), int(0));
    }

    #[test]
    fn getrange_and_substr() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET s Hello");
        for (a, b, want) in [
            ("0", "-1", "Hello"),
            ("0", "0", "H"),
            ("1", "3", "ell"),
            ("-3", "-1", "llo"),
            ("0", "100", "Hello"),
            ("3", "2", ""),
            ("5", "5", ""),
            ("-1", "-5", ""),
            // Redis 7.0 clamps a negative end before the start to 0.
            ("0", "-100", "H"),
            ("-100", "-100", "H"),
            ("-100", "-99", "H"),
            ("-9223372036854775808", "9223372036854775807", "Hello"),
            ("9223372036854775807", "-9223372036854775808", ""),
            ("-9223372036854775808", "-9223372036854775808", "H"),
            ("9223372036854775807", "9223372036854775807", ""),
        ] {
            assert_eq!(
                r(&e, &mut s, &format!("GETRANGE s {a} {b}")),
                bulk(want),
                "GETRANGE {a} {b}"
            );
            assert_eq!(
                r(&e, &mut s, &format!("SUBSTR s {a} {b}")),
                bulk(want),
                "SUBSTR {a} {b}"
            );
        }
        assert_eq!(r(&e, &mut s, "GETRANGE missing 0 1"), bulk(""));
        assert_eq!(
            r(&e, &mut s, "GETRANGE s a 1"),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r(&e, &mut s, "GETRANGE missing 0 b"),
            error("ERR value is not an integer or out of range")
        );
        runb(&e, &s, &[b"SET", b"empty", b""]);
        assert_eq!(r(&e, &mut s, "GETRANGE empty 0 -1"), bulk(""));
        assert_eq!(r(&e, &mut s, "GETRANGE empty -1 0"), bulk(""));
        assert!(run(&e, &mut s, "GETRANGE s 0 1").1.is_empty());
    }

    #[test]
    fn setrange() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "SETRANGE k 3 abc");
        assert_eq!(rep, int(6));
        assert_eq!(fx(&fxs), vec!["0 SETRANGE k 3 abc"]);
        assert_eq!(entry(&e, 0, "k"), Some((b"\0\0\0abc".to_vec(), true, 0)));
        let (rep, fxs) = run(&e, &mut s, "SETRANGE k 1 XY");
        assert_eq!(rep, int(6));
        assert_eq!(fx(&fxs), vec!["0 SETRANGE k 1 XY"]);
        assert_eq!(entry(&e, 0, "k"), Some((b"\0XYabc".to_vec(), true, 0)));
        assert_eq!(r(&e, &mut s, "SETRANGE k 8 Z"), int(9));
        assert_eq!(
            runb(&e, &s, &[b"GET", b"k"]).0,
            Frame::Bulk(Bytes::from_static(b"\0XYabc\0\0Z"))
        );
        // Empty value: the length, nothing created or emitted, any offset.
        for (line, want) in [("k", 9), ("missing", 0)] {
            for off in ["0", "9999999999", "9223372036854775807"] {
                let (rep, fxs) = runb(&e, &s, &[b"SETRANGE", line.as_bytes(), off.as_bytes(), b""]);
                assert_eq!(rep, int(want));
                assert!(fxs.is_empty());
            }
        }
        assert_eq!(entry(&e, 0, "missing"), None);
        // Keeps the TTL; makes the string raw.
        r(&e, &mut s, "SET t hello EX 100");
        assert_eq!(r(&e, &mut s, "SETRANGE t 0 J"), int(5));
        assert_eq!(
            entry(&e, 0, "t"),
            Some((b"Jello".to_vec(), true, T0 + 100_000))
        );
        // Errors.
        assert_eq!(
            r(&e, &mut s, "SETRANGE k -1 x"),
            error("ERR offset is out of range")
        );
        assert_eq!(
            r(&e, &mut s, "SETRANGE k abc x"),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r(&e, &mut s, "SETRANGE k 9223372036854775808 x"),
            error("ERR value is not an integer or out of range")
        );
        let big = error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        for line in [
            "SETRANGE k 536870912 x",
            "SETRANGE k 536870911 xy",
            "SETRANGE k 9223372036854775807 x",
            "SETRANGE new 536870912 x",
            "SETRANGE new 9223372036854775807 xyz",
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, big, "{line}");
            assert!(fxs.is_empty());
        }
        assert_eq!(entry(&e, 0, "new"), None);
        assert_eq!(r(&e, &mut s, "STRLEN k"), int(9));
        // Exactly at the limit is allowed.
        assert_eq!(r(&e, &mut s, "SETRANGE new 536870911 x"), int(536870912));
        r(&e, &mut s, "GETDEL new");
    }

    #[test]
    fn incr_family() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "INCR n");
        assert_eq!(rep, int(1));
        assert_eq!(fx(&fxs), vec!["0 SET n 1 KEEPTTL"]);
        assert_eq!(f(&e, &mut s, "INCRBY n 10"), vec!["0 SET n 11 KEEPTTL"]);
        assert_eq!(r(&e, &mut s, "DECR n"), int(10));
        assert_eq!(r(&e, &mut s, "DECRBY n 15"), int(-5));
        assert_eq!(r(&e, &mut s, "INCRBY n -5"), int(-10));
        assert_eq!(f(&e, &mut s, "DECRBY n -3"), vec!["0 SET n -7 KEEPTTL"]);
        assert_eq!(r(&e, &mut s, "GET n"), bulk("-7"));
        assert_eq!(r(&e, &mut s, "DECR m"), int(-1));
        assert_eq!(r(&e, &mut s, "INCRBY m2 -5"), int(-5));
        assert_eq!(r(&e, &mut s, "DECRBY m3 5"), int(-5));
        // TTL kept.
        r(&e, &mut s, "SET t 5 EX 100");
        assert_eq!(r(&e, &mut s, "INCR t"), int(6));
        assert_eq!(
            entry(&e, 0, "t"),
            Some((b"6".to_vec(), false, T0 + 100_000))
        );
        // Overflow.
        let over = error("ERR increment or decrement would overflow");
        r(&e, &mut s, "SET i 9223372036854775807");
        assert_eq!(r(&e, &mut s, "INCR i"), over);
        assert_eq!(r(&e, &mut s, "INCRBY i 1"), over);
        assert_eq!(r(&e, &mut s, "DECRBY i -1"), over);
        assert_eq!(r(&e, &mut s, "INCRBY i -9223372036854775808"), int(-1));
        r(&e, &mut s, "SET i -9223372036854775808");
        assert_eq!(r(&e, &mut s, "DECR i"), over);
        assert_eq!(r(&e, &mut s, "INCRBY i -1"), over);
        assert_eq!(r(&e, &mut s, "INCRBY i 9223372036854775807"), int(-1));
        assert_eq!(
            r(&e, &mut s, "DECRBY i -9223372036854775808"),
            error("ERR decrement would overflow")
        );
        assert_eq!(
            r(&e, &mut s, "DECRBY nokey -9223372036854775808"),
            error("ERR decrement would overflow")
        );
        let (rep, fxs) = run(&e, &mut s, "INCR i");
        assert_eq!(rep, int(0));
        assert_eq!(fx(&fxs), vec!["0 SET i 0 KEEPTTL"]);
        // Not integers.
        let not_int = error("ERR value is not an integer or out of range");
        for v in [
            " 1",
            "01",
            "-0",
            "+1",
            "1.0",
            "abc",
            "",
            "99999999999999999999",
            "1 ",
        ] {
            runb(&e, &s, &[b"SET", b"x", v.as_bytes()]);
            let (rep, fxs) = run(&e, &mut s, "INCR x");
            assert_eq!(rep, not_int, "{v:?}");
            assert!(fxs.is_empty());
        }
        assert_eq!(r(&e, &mut s, "INCRBY n abc"), not_int);
        assert_eq!(r(&e, &mut s, "INCRBY n 1.5"), not_int);
        assert_eq!(r(&e, &mut s, "DECRBY n 9223372036854775808"), not_int);
        assert_eq!(r(&e, &mut s, "GET n"), bulk("-7"));
    }

    #[test]
    fn incrbyfloat() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "INCRBYFLOAT f 10.5");
        assert_eq!(rep, bulk("10.5"));
        assert_eq!(fx(&fxs), vec!["0 SET f 10.5 KEEPTTL"]);
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT f 0.1"), bulk("10.6"));
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT f -5.6"), bulk("5"));
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT f 5.0e3"), bulk("5005"));
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT f -5005"), bulk("0"));
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT g -0"), bulk("0"));
        assert_eq!(
            r(&e, &mut s, "INCRBYFLOAT g 1.5e20"),
            bulk("150000000000000000000")
        );
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT h .5"), bulk("0.5"));
        // Long double arithmetic and formatting, as Redis 7.0.15 answers.
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT ld 0.1"), bulk("0.1"));
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT ld 0.2"), bulk("0.3"));
        assert_eq!(
            r(&e, &mut s, "INCRBYFLOAT big 1e400"),
            bulk("10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880")
        );
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT h 5."), bulk("5.5"));
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT h 1E2"), bulk("105.5"));
        // Integers are floats too; the result replaces them.
        r(&e, &mut s, "SET i 3");
        assert_eq!(
            f(&e, &mut s, "INCRBYFLOAT i 1.25"),
            vec!["0 SET i 4.25 KEEPTTL"]
        );
        // TTL kept.
        r(&e, &mut s, "SET t 1 PX 9000");
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT t 1"), bulk("2"));
        assert_eq!(entry(&e, 0, "t"), Some((b"2".to_vec(), false, T0 + 9000)));
        // Errors.
        let not_float = error("ERR value is not a valid float");
        let nan = error("ERR increment would produce NaN or Infinity");
        for (line, want) in [
            ("INCRBYFLOAT x abc", &not_float),
            ("INCRBYFLOAT x nan", &not_float),
            ("INCRBYFLOAT x inf", &nan),
            ("INCRBYFLOAT x -infinity", &nan),
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(&rep, want, "{line}");
            assert!(fxs.is_empty());
            assert_eq!(entry(&e, 0, "x"), None);
        }
        assert_eq!(runb(&e, &s, &[b"INCRBYFLOAT", b"x", b" 1"]).0, not_float);
        assert_eq!(runb(&e, &s, &[b"INCRBYFLOAT", b"x", b"1 "]).0, not_float);
        r(&e, &mut s, "SET x abc");
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT x 1"), not_float);
        // Past f64's range is still finite in long double (Redis 7.0.15 answers
        // the same digits); an infinity is not.
        r(&e, &mut s, "SET x 1.7976931348623157e308");
        assert_eq!(
            r(&e, &mut s, "INCRBYFLOAT x 1.7976931348623157e308"),
            bulk("359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768")
        );
        r(&e, &mut s, "SET x 1.5");
        assert_eq!(r(&e, &mut s, "INCRBYFLOAT x inf"), nan);
        assert_eq!(r(&e, &mut s, "GET x"), bulk("1.5"));
    }

    #[test]
    fn lcs() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "MSET key1 ohmytext key2 mynewtext");
        let range = |a: i64, b: i64| arr(vec![int(a), int(b)]);
        assert_eq!(r(&e, &mut s, "LCS key1 key2"), bulk("mytext"));
        assert_eq!(r(&e, &mut s, "LCS key1 key2 LEN"), int(6));
        assert_eq!(r(&e, &mut s, "lcs key1 key2 len len"), int(6));
        assert_eq!(r(&e, &mut s, "LCS key1 key2 WITHMATCHLEN"), bulk("mytext"));
        assert_eq!(r(&e, &mut s, "LCS key1 key2 MINMATCHLEN 3"), bulk("mytext"));
        let idx = |m: Vec<Frame>, len: i64| {
            Frame::Map(vec![(bulk("matches"), arr(m)), (bulk("len"), int(len))])
        };
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 IDX"),
            idx(
                vec![
                    arr(vec![range(4, 7), range(5, 8)]),
                    arr(vec![range(2, 3), range(0, 1)])
                ],
                6
            )
        );
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 IDX MINMATCHLEN 4"),
            idx(vec![arr(vec![range(4, 7), range(5, 8)])], 6)
        );
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
            idx(vec![arr(vec![range(4, 7), range(5, 8), int(4)])], 6)
        );
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 MINMATCHLEN -5 IDX WITHMATCHLEN"),
            idx(
                vec![
                    arr(vec![range(4, 7), range(5, 8), int(4)]),
                    arr(vec![range(2, 3), range(0, 1), int(2)]),
                ],
                6
            )
        );
        // Missing keys are empty strings.
        assert_eq!(r(&e, &mut s, "LCS nokey key2"), bulk(""));
        assert_eq!(r(&e, &mut s, "LCS nokey key2 LEN"), int(0));
        assert_eq!(
            r(&e, &mut s, "LCS nokey nokey2 IDX WITHMATCHLEN"),
            idx(vec![], 0)
        );
        // Errors.
        let both = error("ERR If you want both the length and indexes, please just use IDX.");
        assert_eq!(r(&e, &mut s, "LCS key1 key2 IDX LEN"), both);
        assert_eq!(r(&e, &mut s, "LCS key1 key2 LEN IDX"), both);
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 MINMATCHLEN"),
            error("ERR syntax error")
        );
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 foo"),
            error("ERR syntax error")
        );
        assert_eq!(
            r(&e, &mut s, "LCS key1 key2 MINMATCHLEN abc"),
            error("ERR value is not an integer or out of range")
        );
        // Whole strings, single characters, binary.
        r(&e, &mut s, "MSET x abc y abc");
        assert_eq!(
            r(&e, &mut s, "LCS x y IDX WITHMATCHLEN"),
            idx(vec![arr(vec![range(0, 2), range(0, 2), int(3)])], 3)
        );
        r(&e, &mut s, "MSET x a y b");
        assert_eq!(r(&e, &mut s, "LCS x y"), bulk(""));
        assert_eq!(r(&e, &mut s, "LCS x x"), bulk("a"));
        runb(
            &e,
            &s,
            &[b"MSET", b"x", b"\x00\xff\x01", b"y", b"\xff\x01\x00"],
        );
        assert_eq!(
            r(&e, &mut s, "LCS x y"),
            Frame::Bulk(Bytes::from_static(b"\xff\x01"))
        );
        // The table is refused beyond the bulk limit, before allocating it.
        let big = "a".repeat(12000);
        r(&e, &mut s, &format!("MSET p {big} q {big}"));
        assert_eq!(
            r(&e, &mut s, "LCS p q LEN"),
            error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        );
        assert!(run(&e, &mut s, "LCS key1 key2").1.is_empty());
    }

    #[test]
    fn lcs_resp3_encoding() {
        let (e, _) = engine();
        let mut s = Session {
            db: 0,
            resp: 3,
            ticket: 0,
            ..Default::default()
        };
        r(&e, &mut s, "MSET a ohmytext b mynewtext");
        let rep = r(&e, &mut s, "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN");
        let mut out = bytes::BytesMut::new();
        rep.encode(3, &mut out);
        assert_eq!(
            &out[..],
            b"%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
        let mut out = bytes::BytesMut::new();
        rep.encode(2, &mut out);
        assert!(out.starts_with(b"*4\r\n$7\r\nmatches\r\n*1\r\n"));
    }

    /// A random-ish LCS cross-checked against a plain recursive definition of the
    /// length, and the IDX ranges checked to be real matches.
    #[test]
    fn lcs_consistency() {
        let (e, _) = engine();
        let s = Session::default();
        let mut seed: u64 = 12345;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..50 {
            let a: Vec<u8> = (0..next() % 30).map(|_| b"abc"[next() % 3]).collect();
            let b: Vec<u8> = (0..next() % 30).map(|_| b"abc"[next() % 3]).collect();
            runb(&e, &s, &[b"MSET", b"a", &a, b"b", &b]);
            let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
            for i in 1..=a.len() {
                for j in 1..=b.len() {
                    t[i][j] = if a[i - 1] == b[j - 1] {
                        t[i - 1][j - 1] + 1
                    } else {
                        t[i - 1][j].max(t[i][j - 1])
                    };
                }
            }
            let want = t[a.len()][b.len()];
            let Frame::Bulk(got) = runb(&e, &s, &[b"LCS", b"a", b"b"]).0 else {
                panic!()
            };
            assert_eq!(got.len(), want);
            // The result is a subsequence of both.
            for hay in [&a, &b] {
                let mut it = hay.iter();
                assert!(got.iter().all(|c| it.any(|h| h == c)));
            }
            let Frame::Map(m) = runb(&e, &s, &[b"LCS", b"a", b"b", b"IDX", b"WITHMATCHLEN"]).0
            else {
                panic!()
            };
            assert_eq!(m[1].1, int(want as i64));
            let Frame::Array(ms) = &m[0].1 else { panic!() };
            let mut total = 0;
            for one in ms {
                let Frame::Array(parts) = one else { panic!() };
                let get = |f: &Frame, k: usize| match f {
                    Frame::Array(v) => match v[k] {
                        Frame::Integer(n) => n as usize,
                        _ => panic!(),
                    },
                    _ => panic!(),
                };
                let (a0, a1, b0, b1) = (
                    get(&parts[0], 0),
                    get(&parts[0], 1),
                    get(&parts[1], 0),
                    get(&parts[1], 1),
                );
                assert_eq!(a[a0..=a1], b[b0..=b1]);
                assert_eq!(parts[2], int((a1 - a0 + 1) as i64));
                total += a1 - a0 + 1;
            }
            assert_eq!(total, want);
        }
    }

    #[test]
    fn reads_never_emit_and_writes_on_expired_keys_emit_del_first() {
        let (e, clock) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET k 5 PX 10");
        for line in [
            "GET k",
            "MGET k k",
            "STRLEN k",
            "GETRANGE k 0 -1",
            "LCS k k",
            "GETEX k",
        ] {
            assert!(run(&e, &mut s, line).1.is_empty(), "{line}");
        }
        clock.advance_ms(10);
        assert_eq!(
            f(&e, &mut s, "INCR k"),
            vec!["0 DEL k", "0 SET k 1 KEEPTTL"]
        );
        assert_eq!(ttl(&e, "k"), Some(0));
        r(&e, &mut s, "SET k abc PX 10");
        clock.advance_ms(10);
        assert_eq!(f(&e, &mut s, "APPEND k d"), vec!["0 DEL k", "0 APPEND k d"]);
        assert_eq!(entry(&e, 0, "k"), Some((b"d".to_vec(), false, 0)));
        r(&e, &mut s, "SET k abc PX 10");
        clock.advance_ms(10);
        assert_eq!(
            f(&e, &mut s, "SETRANGE k 1 d"),
            vec!["0 DEL k", "0 SETRANGE k 1 d"]
        );
        assert_eq!(entry(&e, 0, "k"), Some((b"\0d".to_vec(), true, 0)));
        // A plain SET replaces without looking first, and still logs the
        // lazy expiry of what it replaced.
        r(&e, &mut s, "SET k abc PX 10");
        clock.advance_ms(10);
        assert_eq!(f(&e, &mut s, "SET k x"), vec!["0 DEL k", "0 SET k x"]);
        assert_eq!(ttl(&e, "k"), Some(0));
        assert_eq!(f(&e, &mut s, "SET k y"), vec!["0 SET k y"]);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let (e, _) = engine();
        let s = Session::default();
        let vals: [&[u8]; 10] = [
            b"",
            b"-",
            b"0",
            b"-9223372036854775808",
            b"9223372036854775807",
            b"99999999999999999999999",
            b"\xff\xfe",
            b"1e999999",
            b"-1",
            b"nan",
        ];
        let cmds = [
            "GETRANGE k A B",
            "SETRANGE k A B",
            "INCRBY k A",
            "DECRBY k A",
            "INCRBYFLOAT k A",
            "SET k B EX A",
            "SET k B PXAT A GET",
            "GETEX k EXAT A",
            "SETEX k A B",
            "PSETEX k A B",
            "LCS k k IDX MINMATCHLEN A",
            "APPEND k B",
        ];
        for cmd in cmds {
            for a in vals {
                for b in vals {
                    runb(&e, &s, &[b"SET", b"k", b]);
                    let argv: Vec<&[u8]> = cmd
                        .split(' ')
                        .map(|x| match x {
                            "A" => a,
                            "B" => b,
                            other => other.as_bytes(),
                        })
                        .collect();
                    let _ = runb(&e, &s, &argv);
                }
            }
        }
    }

    /// The replay property: effects applied in order to a copy with the same
    /// prior state reproduce the state exactly (values, encoding flag and TTLs).
    #[test]
    fn effects_replay_to_the_same_state() {
        let (a, clock) = engine();
        // B1 replays as the AOF loader does (loading: no expiry, nothing emitted).
        let (b1, clock1) = engine();
        b1.set_loading(true);
        // B2 replays live, in lockstep with A's clock.
        let clock2 = ManualClock::new(T0);
        let b2 = Engine::new(
            crate::engine::EngineConfig::default(),
            std::sync::Arc::new(clock2.clone()),
            std::sync::Arc::new(crate::engine::NullSink),
        );
        let mut all: Vec<Effect> = Vec::new();
        let script: &[&str] = &[
            "0 SET a 1",
            "0 SET b hello EX 100",
            "0 INCR a",
            "0 INCRBY a 10",
            "0 DECR a",
            "0 DECRBY a 3",
            "0 INCRBYFLOAT fl 1.5",
            "0 INCRBYFLOAT fl 0.25",
            "0 APPEND b _world",
            "0 APPEND c xyz",
            "0 SETRANGE b 20 zz",
            "0 SETRANGE d 3 abc",
            "0 SET e v PX 500",
            "0 SET e w KEEPTTL",
            "0 SETEX g 100 v",
            "0 PSETEX h 1000 v",
            "0 GETSET b new",
            "0 GETEX g EX 50",
            "0 GETEX h PERSIST",
            "0 GETDEL c",
            "0 MSET m1 x m2 y a 7",
            "0 MSETNX n1 1 n2 2",
            "0 MSETNX n1 1 n3 3",
            "0 SET a v PXAT 1",
            "0 SET k v NX",
            "0 SET k w NX",
            "0 SET k x XX GET",
            "0 SETNX k y",
            "0 SET t 5 EX 100",
            "3 SET t 40 PX 50",
            "3 INCR t",
            "3 APPEND t 0",
            "+600",
            "0 GET e",
            "0 INCR t",
            "0 APPEND t 0",
            "0 SETRANGE t 0 9",
            "0 INCRBYFLOAT t 0.5",
            "0 GETEX b PXAT 2",
            "3 MSET x 1 y 2",
            "3 SET z lazy PX 10",
            "+20",
            "3 APPEND z again",
            "0 SET f v PX 10",
            "+5",
            "0 GETEX f PERSIST",
            "0 SET u v PX 10",
            "+30",
            "0 SET u2 v EX 1",
            "0 SET ex1 soon PX 5",
            "+5",
        ];
        for line in script {
            if let Some(ms) = line.strip_prefix('+') {
                let ms: u64 = ms.parse().expect("ms");
                clock.advance_ms(ms);
                clock2.advance_ms(ms);
                clock1.advance_ms(ms);
                continue;
            }
            let (db, cmd) = line.split_once(' ').expect("db");
            let mut sess = Session {
                db: db.parse().expect("db"),
                resp: 2,
                ticket: 0,
                ..Default::default()
            };
            let (rep, fxs) = run(&a, &mut sess, cmd);
            assert!(!rep.is_error(), "{line}: {rep:?}");
            for eff in &fxs {
                apply(&b2, eff);
            }
            all.extend(fxs);
        }
        for eff in &all {
            apply(&b1, eff);
        }
        let sa = snapshot(&a);
        assert_eq!(sa, snapshot(&b1));
        assert_eq!(sa, snapshot(&b2));
        // Spot checks of the end state.
        assert_eq!(sa.get(&(0, b"a".to_vec())), None);
        assert_eq!(
            sa.get(&(0, b"t".to_vec())).map(|x| x.0.clone()),
            Some(b"90.5".to_vec())
        );
        assert_eq!(sa.get(&(0, b"t".to_vec())).map(|x| x.2), Some(T0 + 100_000));
        assert_eq!(
            sa.get(&(3, b"z".to_vec())).map(|x| (x.0.clone(), x.2)),
            Some((b"again".to_vec(), 0))
        );
        // Expired but never touched: still present in both, with the same deadline.
        assert_eq!(
            sa.get(&(0, b"ex1".to_vec())).map(|x| x.2),
            Some(T0 + 655 + 5)
        );
        assert!(!sa.contains_key(&(0, b"e".to_vec())));
        // The live copy answers the same reads.
        let mut s0 = Session::default();
        b1.set_loading(false);
        for line in ["MGET a b c d e fl g h k m1 n1 n3 t u u2", "GET f"] {
            assert_eq!(r(&a, &mut s0, line), r(&b1, &mut s0, line), "{line}");
            assert_eq!(r(&a, &mut s0, line), r(&b2, &mut s0, line), "{line}");
        }
    }
}
