//! Hash commands (t_hash.c): HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN,
//! HSTRLEN, HEXISTS, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD
//! and HSCAN, with Redis 7.0's argument order, replies (RESP2 and RESP3) and
//! error texts.
//!
//! Effects: HSET and HMSET log `HSET key f v ...`; HSETNX logs `HSET key f v`
//! when it set something; HDEL logs `HDEL key` with only the fields that existed;
//! HINCRBY and HINCRBYFLOAT log `HSET key f <result>` (the exact string stored,
//! so replay does not redo the arithmetic); reads log nothing. A command that
//! empties a hash deletes the key (`hdel` then `del` notifications, as Redis).
//!
//! HINCRBYFLOAT computes in x87 extended precision like Redis's `long double`
//! (see [`ld`]), so results and their digits match Redis on x86-64.

pub(crate) mod ld;

use super::args::*;
use super::keys::parse_cursor;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, HASH};
use crate::tri;
use crate::types::Hash;
use crate::util;
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;

pub static COMMANDS: &[EngineEntry] = &[
    ("hset", Scope::Keys, hset),
    ("hmset", Scope::Keys, hset),
    ("hsetnx", Scope::Keys, hsetnx),
    ("hget", Scope::Keys, hget),
    ("hmget", Scope::Keys, hmget),
    ("hdel", Scope::Keys, hdel),
    ("hlen", Scope::Keys, hlen),
    ("hstrlen", Scope::Keys, hstrlen),
    ("hexists", Scope::Keys, hexists),
    ("hkeys", Scope::Keys, hkeys),
    ("hvals", Scope::Keys, hvals),
    ("hgetall", Scope::Keys, hgetall),
    ("hincrby", Scope::Keys, hincrby),
    ("hincrbyfloat", Scope::Keys, hincrbyfloat),
    ("hrandfield", Scope::Keys, hrandfield),
    ("hscan", Scope::Keys, hscan),
];

const ERR_HASH_NOT_INT: &str = "ERR hash value is not an integer";
const ERR_HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const ERR_INCR_NAN: &str = "ERR value is NaN or Infinity";
const ERR_FLOAT_RESULT: &str = "ERR increment would produce NaN or Infinity";
const ERR_RANGE: &str = "ERR value is out of range";
const ERR_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";

/// Most elements one HRANDFIELD reply may carry. Redis streams any count (a
/// huge negative count eventually exhausts its memory); keel builds the reply
/// first, so it refuses past this with "value is out of range".
pub const MAX_RANDFIELD_ELEMENTS: u64 = 1 << 25;

// ------------------------------------------------------------------ helpers

/// The hash under `key` for reading (a hit or miss counted); WRONGTYPE for
/// another type.
fn read<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c Hash>, Frame> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h, _) => Ok(Some(h)),
            _ => Err(wrongtype()),
        },
    }
}

/// The hash under `key` for writing; WRONGTYPE for another type.
fn write<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c mut Hash>, Frame> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h, _) => Ok(Some(h)),
            _ => Err(wrongtype()),
        },
    }
}

/// Runs `f` on the hash under `key`, creating it when missing (Redis's
/// `hashTypeLookupWriteOrCreate`). A hash that `f` leaves empty is not stored.
fn with_hash<T>(
    ctx: &mut Ctx,
    key: &Bytes,
    f: impl FnOnce(&mut Hash) -> Result<T, Frame>,
) -> Result<T, Frame> {
    if let Some(h) = write(ctx, key)? {
        return f(h);
    }
    let mut h = Hash::new();
    let out = f(&mut h)?;
    if !h.is_empty() {
        let now = ctx.now;
        ctx.insert(
            key,
            Entry::new(Value::Hash(h, crate::value::LRU_UNSET), 0, now),
        );
    }
    Ok(out)
}

fn bulk(b: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(b))
}

fn arity_error(name: &[u8]) -> Frame {
    err(&format!(
        "ERR wrong number of arguments for '{}' command",
        String::from_utf8_lossy(name).to_ascii_lowercase()
    ))
}

// ------------------------------------------------------------------- writes

/// HSET and HMSET: the same, but HMSET answers OK.
fn hset(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    if argv.len() % 2 == 1 {
        return arity_error(&argv[0]);
    }
    let key = &argv[1];
    let t = ctx.thresholds();
    let pairs = &argv[2..];
    let created = tri!(with_hash(ctx, key, |h| {
        h.prepare_set(pairs.iter().map(|a| &a[..]), &t);
        Ok(pairs
            .chunks_exact(2)
            .filter(|p| h.insert(&p[0], &p[1], &t))
            .count())
    }));
    ctx.emit_with(|| {
        let mut effect = Args::with_capacity(argv.len());
        effect.push(s("HSET"));
        effect.extend(argv[1..].iter().cloned());
        effect
    });
    ctx.notify(HASH, "hset", key);
    if is(&argv[0], "hmset") {
        Frame::ok()
    } else {
        Frame::Integer(created as i64)
    }
}

fn hsetnx(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (key, field, value) = (&argv[1], &argv[2], &argv[3]);
    let t = ctx.thresholds();
    let set = tri!(with_hash(ctx, key, |h| {
        if h.contains(field) {
            return Ok(false);
        }
        h.prepare_set([&field[..], &value[..]], &t);
        h.insert(field, value, &t);
        Ok(true)
    }));
    if !set {
        return Frame::Integer(0);
    }
    ctx.emit(smallvec![
        s("HSET"),
        key.clone(),
        field.clone(),
        value.clone()
    ]);
    ctx.notify(HASH, "hset", key);
    Frame::Integer(1)
}

fn hdel(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let Some(h) = tri!(write(ctx, key)) else {
        return Frame::Integer(0);
    };
    let mut effect: Args = smallvec![s("HDEL"), key.clone()];
    for f in &argv[2..] {
        if h.remove(f) {
            effect.push(f.clone());
        }
    }
    let emptied = h.is_empty();
    let deleted = effect.len() - 2;
    if deleted == 0 {
        return Frame::Integer(0);
    }
    if emptied {
        ctx.remove(key);
    }
    ctx.emit(effect);
    ctx.notify(HASH, "hdel", key);
    if emptied {
        ctx.notify(GENERIC, "del", key);
    }
    Frame::Integer(deleted as i64)
}

fn hincrby(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (key, field) = (&argv[1], &argv[2]);
    let by = tri!(int_arg(&argv[3]));
    let t = ctx.thresholds();
    let new = tri!(with_hash(ctx, key, |h| {
        let cur = match h.get(field) {
            Some(v) => util::parse_i64(v).ok_or_else(|| err(ERR_HASH_NOT_INT))?,
            None => 0,
        };
        let new = cur.checked_add(by).ok_or_else(|| err(ERR_OVERFLOW))?;
        h.insert(field, itoa::Buffer::new().format(new), &t);
        Ok(new)
    }));
    ctx.emit_with(|| smallvec![s("HSET"), key.clone(), field.clone(), util::fmt_i64(new),]);
    ctx.notify(HASH, "hincrby", key);
    Frame::Integer(new)
}

fn hincrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (key, field) = (&argv[1], &argv[2]);
    let by = match ld::parse(&argv[3]) {
        None => return err(ERR_NOT_FLOAT),
        Some(ld::Parsed::Infinite(_)) => return err(ERR_INCR_NAN),
        Some(ld::Parsed::Finite(v)) => v,
    };
    let t = ctx.thresholds();
    let text = tri!(with_hash(ctx, key, |h| {
        let sum = match h.get(field).map(ld::parse) {
            None => ld::Ld::default().add(by),
            Some(None) => return Err(err(ERR_HASH_NOT_FLOAT)),
            // inf + a finite increment is inf.
            Some(Some(ld::Parsed::Infinite(_))) => None,
            Some(Some(ld::Parsed::Finite(cur))) => cur.add(by),
        };
        let text = Bytes::from(sum.ok_or_else(|| err(ERR_FLOAT_RESULT))?.to_human());
        h.insert(field, &text, &t);
        Ok(text)
    }));
    ctx.emit(smallvec![
        s("HSET"),
        key.clone(),
        field.clone(),
        text.clone()
    ]);
    ctx.notify(HASH, "hincrbyfloat", key);
    Frame::Bulk(text)
}

// -------------------------------------------------------------------- reads

fn hget(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match tri!(read(ctx, &argv[1])).and_then(|h| h.get(&argv[2])) {
        Some(v) => bulk(v),
        None => Frame::Null,
    }
}

fn hmget(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let h = tri!(read(ctx, &argv[1]));
    Frame::Array(
        argv[2..]
            .iter()
            .map(|f| h.and_then(|h| h.get(f)).map_or(Frame::Null, bulk))
            .collect(),
    )
}

fn hlen(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    Frame::Integer(tri!(read(ctx, &argv[1])).map_or(0, |h| h.len() as i64))
}

fn hstrlen(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let h = tri!(read(ctx, &argv[1]));
    Frame::Integer(
        h.and_then(|h| h.get(&argv[2]))
            .map_or(0, |v| v.len() as i64),
    )
}

fn hexists(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let h = tri!(read(ctx, &argv[1]));
    Frame::Integer(h.is_some_and(|h| h.contains(&argv[2])) as i64)
}

fn hkeys(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let h = tri!(read(ctx, &argv[1]));
    Frame::Array(h.map_or_else(Vec::new, |h| h.iter().map(|(f, _)| bulk(f)).collect()))
}

fn hvals(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let h = tri!(read(ctx, &argv[1]));
    Frame::Array(h.map_or_else(Vec::new, |h| h.iter().map(|(_, v)| bulk(v)).collect()))
}

fn hgetall(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let h = tri!(read(ctx, &argv[1]));
    Frame::Map(h.map_or_else(Vec::new, |h| {
        h.iter().map(|(f, v)| (bulk(f), bulk(v))).collect()
    }))
}

// ------------------------------------------------------------- HRANDFIELD

/// One HRANDFIELD element: the field, or with values a pair (flat in RESP2,
/// a two-element array in RESP3).
fn push_pair(out: &mut Vec<Frame>, resp: u8, withvalues: bool, (f, v): (&[u8], &[u8])) {
    if !withvalues {
        out.push(bulk(f));
    } else if resp >= 3 {
        out.push(Frame::Array(vec![bulk(f), bulk(v)]));
    } else {
        out.push(bulk(f));
        out.push(bulk(v));
    }
}

fn hrandfield(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    use rand::Rng;
    let resp = ctx.resp;
    if argv.len() < 3 {
        let Some(h) = tri!(read(ctx, &argv[1])) else {
            return Frame::Null;
        };
        let i = rand::thread_rng().gen_range(0..h.len().max(1));
        return h.pair_at(i).map_or(Frame::Null, |(f, _)| bulk(f));
    }
    let l = tri!(int_arg(&argv[2]));
    if l == i64::MIN {
        return err(ERR_COUNT_RANGE);
    }
    if argv.len() > 4 || (argv.len() == 4 && !is(&argv[3], "withvalues")) {
        return err(ERR_SYNTAX);
    }
    let withvalues = argv.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return err(ERR_RANGE);
    }
    let Some(h) = tri!(read(ctx, &argv[1])) else {
        return Frame::Array(Vec::new());
    };
    let size = h.len();
    let count = l.unsigned_abs();
    if count == 0 || size == 0 {
        return Frame::Array(Vec::new());
    }
    let unique = l > 0;
    let n = if unique {
        count.min(size as u64)
    } else {
        count
    };
    let per = if withvalues && resp < 3 { 2 } else { 1 };
    if n.saturating_mul(per) > MAX_RANDFIELD_ELEMENTS {
        return err(ERR_RANGE);
    }
    let mut out = Vec::with_capacity((n * per) as usize);
    let mut rng = rand::thread_rng();
    // A listpack has no random access: take its pairs once.
    let listed: Vec<(&[u8], &[u8])> = match h {
        Hash::Listpack(_) => h.iter().collect(),
        Hash::Table(_) => Vec::new(),
    };
    let nth = |i: usize| match h {
        Hash::Listpack(_) => listed.get(i).copied(),
        Hash::Table(_) => h.pair_at(i),
    };
    if !unique || count == 1 {
        // With repetitions (and a single one), in random order.
        for _ in 0..n {
            if let Some(p) = nth(rng.gen_range(0..size)) {
                push_pair(&mut out, resp, withvalues, p);
            }
        }
    } else if count >= size as u64 {
        // The whole hash, in its order.
        h.for_each(|f, v| push_pair(&mut out, resp, withvalues, (f, v)));
    } else {
        // Distinct pairs, in the hash's order.
        let mut picked = rand::seq::index::sample(&mut rng, size, n as usize).into_vec();
        picked.sort_unstable();
        for i in picked {
            if let Some(p) = nth(i) {
                push_pair(&mut out, resp, withvalues, p);
            }
        }
    }
    Frame::Array(out)
}

// -------------------------------------------------------------------- HSCAN

fn hscan(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let Some(cursor) = parse_cursor(&argv[2]) else {
        return err(ERR_INVALID_CURSOR);
    };
    let empty = || Frame::Array(vec![bulk(b"0"), Frame::Array(Vec::new())]);
    let Some(h) = tri!(read(ctx, &argv[1])) else {
        return empty();
    };
    // Options come after the lookup, as in Redis (a missing key answers an
    // empty scan whatever follows).
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if is(&argv[i], "count") && has_value {
            count = tri!(int_arg(&argv[i + 1]));
            if count < 1 {
                return err(ERR_SYNTAX);
            }
        } else if is(&argv[i], "match") && has_value {
            let p = &argv[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return err(ERR_SYNTAX);
        }
        i += 2;
    }
    let mut found = Vec::new();
    let next = h.scan(
        cursor,
        usize::try_from(count).unwrap_or(usize::MAX),
        |f, v| {
            if pattern.is_none_or(|p| crate::glob::matches(p, f, false)) {
                found.push(bulk(f));
                found.push(bulk(v));
            }
        },
    );
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(found),
    ])
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::{arr, bulk, engine, error, fx, int, notes_engine, run, runb};
    use crate::engine::{Engine, Session};
    use keel_protocol::Frame;
    fn r(e: &Engine, s: &mut Session, line: &str) -> Frame {
        run(e, s, line).0
    }
    fn f(e: &Engine, s: &mut Session, line: &str) -> Vec<String> {
        fx(&run(e, s, line).1)
    }
    fn encoding(e: &Engine, s: &mut Session, key: &str) -> Frame {
        r(e, s, &format!("OBJECT ENCODING {key}"))
    }
    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn set_get_and_effects() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "HSET h a 1 b 2");
        assert_eq!(rep, int(2));
        assert_eq!(fx(&fxs), vec!["0 HSET h a 1 b 2"]);
        assert_eq!(r(&e, &mut s, "HSET h a 3 c 4"), int(1));
        assert_eq!(f(&e, &mut s, "HMSET h a 5"), vec!["0 HSET h a 5"]);
        assert_eq!(r(&e, &mut s, "HMSET h d 6"), Frame::ok());
        assert_eq!(r(&e, &mut s, "HGET h a"), bulk("5"));
        assert_eq!(r(&e, &mut s, "HGET h zz"), Frame::Null);
        assert_eq!(r(&e, &mut s, "HGET nokey a"), Frame::Null);
        assert_eq!(
            r(&e, &mut s, "HMGET h a zz b"),
            arr(vec![bulk("5"), Frame::Null, bulk("2")])
        );
        assert_eq!(r(&e, &mut s, "HMGET nokey a"), arr(vec![Frame::Null]));
        assert_eq!(r(&e, &mut s, "HLEN h"), int(4));
        assert_eq!(r(&e, &mut s, "HLEN nokey"), int(0));
        assert_eq!(r(&e, &mut s, "HSTRLEN h a"), int(1));
        assert_eq!(r(&e, &mut s, "HSTRLEN h zz"), int(0));
        assert_eq!(r(&e, &mut s, "HEXISTS h a"), int(1));
        assert_eq!(r(&e, &mut s, "HEXISTS h zz"), int(0));
        // Listpack order is insertion order.
        assert_eq!(
            r(&e, &mut s, "HKEYS h"),
            arr(vec![bulk("a"), bulk("b"), bulk("c"), bulk("d")])
        );
        assert_eq!(
            r(&e, &mut s, "HVALS h"),
            arr(vec![bulk("5"), bulk("2"), bulk("4"), bulk("6")])
        );
        assert_eq!(
            r(&e, &mut s, "HGETALL h"),
            Frame::Map(vec![
                (bulk("a"), bulk("5")),
                (bulk("b"), bulk("2")),
                (bulk("c"), bulk("4")),
                (bulk("d"), bulk("6")),
            ])
        );
        assert_eq!(r(&e, &mut s, "HGETALL nokey"), Frame::Map(vec![]));
        assert_eq!(r(&e, &mut s, "HKEYS nokey"), arr(vec![]));
        // Odd argument counts.
        assert_eq!(
            r(&e, &mut s, "HSET h a"),
            error("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            r(&e, &mut s, "HMSET h a 1 b"),
            error("ERR wrong number of arguments for 'hmset' command")
        );
        // Reads log nothing.
        assert!(f(&e, &mut s, "HGETALL h").is_empty());
    }

    #[test]
    fn wrong_type() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SET str x");
        for line in [
            "HSET str a 1",
            "HMSET str a 1",
            "HSETNX str a 1",
            "HGET str a",
            "HMGET str a",
            "HDEL str a",
            "HLEN str",
            "HSTRLEN str a",
            "HEXISTS str a",
            "HKEYS str",
            "HVALS str",
            "HGETALL str",
            "HINCRBY str a 1",
            "HINCRBYFLOAT str a 1",
            "HRANDFIELD str",
            "HRANDFIELD str 2",
            "HSCAN str 0",
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, error(WRONGTYPE), "{line}");
            assert!(fxs.is_empty(), "{line}");
        }
        // Argument errors come first where Redis checks them first.
        assert_eq!(
            r(&e, &mut s, "HINCRBY str a x"),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r(&e, &mut s, "HINCRBYFLOAT str a x"),
            error("ERR value is not a valid float")
        );
        assert_eq!(r(&e, &mut s, "HSCAN str x"), error("ERR invalid cursor"));
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD str 1 foo"),
            error("ERR syntax error")
        );
        // HSCAN options are parsed after the type check.
        assert_eq!(r(&e, &mut s, "HSCAN str 0 TYPE string"), error(WRONGTYPE));
    }

    #[test]
    fn hsetnx_and_hdel() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "HSETNX h a 1");
        assert_eq!(rep, int(1));
        assert_eq!(fx(&fxs), vec!["0 HSET h a 1"]);
        let (rep, fxs) = run(&e, &mut s, "HSETNX h a 2");
        assert_eq!(rep, int(0));
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "HGET h a"), bulk("1"));
        r(&e, &mut s, "HSET h b 2 c 3");
        let (rep, fxs) = run(&e, &mut s, "HDEL h a zz a b");
        assert_eq!(rep, int(2));
        assert_eq!(fx(&fxs), vec!["0 HDEL h a b"]);
        let (rep, fxs) = run(&e, &mut s, "HDEL h zz");
        assert_eq!(rep, int(0));
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "HDEL nokey a"), int(0));
        // Emptying deletes the key.
        assert_eq!(f(&e, &mut s, "HDEL h c"), vec!["0 HDEL h c"]);
        assert_eq!(r(&e, &mut s, "EXISTS h"), int(0));
    }

    #[test]
    fn hincrby() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "HINCRBY h n 5");
        assert_eq!(rep, int(5));
        assert_eq!(fx(&fxs), vec!["0 HSET h n 5"]);
        assert_eq!(r(&e, &mut s, "HINCRBY h n -7"), int(-2));
        r(&e, &mut s, "HSET h big 9223372036854775807 s abc");
        let overflow = error("ERR increment or decrement would overflow");
        let not_int = error("ERR hash value is not an integer");
        assert_eq!(r(&e, &mut s, "HINCRBY h big 1"), overflow);
        assert_eq!(r(&e, &mut s, "HINCRBY h big -1"), int(9223372036854775806));
        assert_eq!(r(&e, &mut s, "HINCRBY h s 1"), not_int);
        assert_eq!(runb(&e, &s, &[b"HINCRBY", b"h", b"e", b"1"]).0, int(1));
        assert_eq!(runb(&e, &s, &[b"HSET", b"h", b"e", b""]).0, int(0));
        assert_eq!(runb(&e, &s, &[b"HINCRBY", b"h", b"e", b"1"]).0, not_int);
        assert_eq!(
            r(&e, &mut s, "HINCRBY h n 1.5"),
            error("ERR value is not an integer or out of range")
        );
        r(&e, &mut s, "HSET h min -9223372036854775808");
        assert_eq!(r(&e, &mut s, "HINCRBY h min -1"), overflow);
        // Errors create nothing.
        let (rep, fxs) = run(&e, &mut s, "HINCRBY new n x");
        assert!(rep.is_error());
        assert!(fxs.is_empty());
        assert_eq!(r(&e, &mut s, "EXISTS new"), int(0));
    }

    #[test]
    fn hincrbyfloat() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "HINCRBYFLOAT h f 1.5");
        assert_eq!(rep, bulk("1.5"));
        assert_eq!(fx(&fxs), vec!["0 HSET h f 1.5"]);
        assert_eq!(r(&e, &mut s, "HINCRBYFLOAT h f 0.1"), bulk("1.6"));
        assert_eq!(r(&e, &mut s, "HINCRBYFLOAT h f 0.2"), bulk("1.8"));
        assert_eq!(f(&e, &mut s, "HINCRBYFLOAT h f -1.8"), vec!["0 HSET h f 0"]);
        assert_eq!(r(&e, &mut s, "HINCRBYFLOAT h g 5.0e3"), bulk("5000"));
        r(&e, &mut s, "HSET h s abc i inf");
        let nan = error("ERR increment would produce NaN or Infinity");
        for (line, want) in [
            ("HINCRBYFLOAT h s 1", error("ERR hash value is not a float")),
            ("HINCRBYFLOAT h i 1", nan.clone()),
            (
                "HINCRBYFLOAT h f inf",
                error("ERR value is NaN or Infinity"),
            ),
            (
                "HINCRBYFLOAT h f -infinity",
                error("ERR value is NaN or Infinity"),
            ),
            (
                "HINCRBYFLOAT h f nan",
                error("ERR value is not a valid float"),
            ),
            (
                "HINCRBYFLOAT h f 1e5000",
                error("ERR value is not a valid float"),
            ),
            (
                "HINCRBYFLOAT h f abc",
                error("ERR value is not a valid float"),
            ),
        ] {
            let (rep, fxs) = run(&e, &mut s, line);
            assert_eq!(rep, want, "{line}");
            assert!(fxs.is_empty(), "{line}");
        }
        r(&e, &mut s, "HSET h m 1e4932");
        assert_eq!(r(&e, &mut s, "HINCRBYFLOAT h m 1e4932"), nan);
        assert_eq!(
            runb(&e, &s, &[b"HINCRBYFLOAT", b"h", b"f", b" 1"]).0,
            error("ERR value is not a valid float")
        );
    }

    #[test]
    fn encodings_convert_where_redis_does() {
        let (e, _) = engine();
        let mut s = Session::default();
        let long = "x".repeat(65);
        let at = "x".repeat(64);
        r(&e, &mut s, &format!("HSET a f {at}"));
        assert_eq!(encoding(&e, &mut s, "a"), bulk("listpack"));
        r(&e, &mut s, &format!("HSET b f {long}"));
        assert_eq!(encoding(&e, &mut s, "b"), bulk("hashtable"));
        // Any argument, even of a field that exists.
        r(&e, &mut s, "HSET c f 1");
        r(&e, &mut s, &format!("HSET c f 1 g {long}"));
        assert_eq!(encoding(&e, &mut s, "c"), bulk("hashtable"));
        // HSETNX on an existing field changes nothing.
        r(&e, &mut s, "HSET d f 1");
        r(&e, &mut s, &format!("HSETNX d f {long}"));
        assert_eq!(encoding(&e, &mut s, "d"), bulk("listpack"));
        // HINCRBY with a long field, HINCRBYFLOAT with a long result.
        r(&e, &mut s, &format!("HINCRBY e {long} 1"));
        assert_eq!(encoding(&e, &mut s, "e"), bulk("hashtable"));
        r(&e, &mut s, "HINCRBYFLOAT g f 1e70");
        assert_eq!(encoding(&e, &mut s, "g"), bulk("hashtable"));
        // 512 fields stay a listpack, 513 do not.
        let mut line = "HSET big".to_string();
        for i in 0..512 {
            line.push_str(&format!(" f{i} v"));
        }
        r(&e, &mut s, &line);
        assert_eq!(encoding(&e, &mut s, "big"), bulk("listpack"));
        r(&e, &mut s, "HSET big f0 w");
        assert_eq!(encoding(&e, &mut s, "big"), bulk("listpack"));
        r(&e, &mut s, "HSET big one-more v");
        assert_eq!(encoding(&e, &mut s, "big"), bulk("hashtable"));
        assert_eq!(r(&e, &mut s, "HLEN big"), int(513));
        assert_eq!(r(&e, &mut s, "HGET big f0"), bulk("w"));
    }

    #[test]
    fn hrandfield() {
        let (e, _) = engine();
        let mut s = Session::default();
        assert_eq!(r(&e, &mut s, "HRANDFIELD nokey"), Frame::Null);
        assert_eq!(r(&e, &mut s, "HRANDFIELD nokey 3"), arr(vec![]));
        assert_eq!(r(&e, &mut s, "HRANDFIELD nokey 3 WITHVALUES"), arr(vec![]));
        r(&e, &mut s, "HSET h a 1 b 2 c 3");
        let one = r(&e, &mut s, "HRANDFIELD h");
        assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one));
        assert_eq!(r(&e, &mut s, "HRANDFIELD h 0"), arr(vec![]));
        // All of it, in order, when the count covers it.
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h 5"),
            arr(vec![bulk("a"), bulk("b"), bulk("c")])
        );
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h 3 WITHVALUES"),
            arr(vec![
                bulk("a"),
                bulk("1"),
                bulk("b"),
                bulk("2"),
                bulk("c"),
                bulk("3")
            ])
        );
        s.resp = 3;
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h 3 withvalues"),
            arr(vec![
                arr(vec![bulk("a"), bulk("1")]),
                arr(vec![bulk("b"), bulk("2")]),
                arr(vec![bulk("c"), bulk("3")])
            ])
        );
        let Frame::Array(v) = r(&e, &mut s, "HRANDFIELD h -7 WITHVALUES") else {
            panic!()
        };
        assert_eq!(v.len(), 7);
        s.resp = 2;
        let Frame::Array(v) = r(&e, &mut s, "HRANDFIELD h -7 WITHVALUES") else {
            panic!()
        };
        assert_eq!(v.len(), 14);
        let Frame::Array(v) = r(&e, &mut s, "HRANDFIELD h 2") else {
            panic!()
        };
        assert_eq!(v.len(), 2);
        assert_ne!(v[0], v[1]);
        // Errors, in Redis's order (count, syntax, range, then the key).
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h x"),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h -9223372036854775808"),
            error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h 1 foo"),
            error("ERR syntax error")
        );
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h 1 withvalues x"),
            error("ERR syntax error")
        );
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h -4611686018427387904 withvalues"),
            error("ERR value is out of range")
        );
        assert_eq!(
            r(&e, &mut s, "HRANDFIELD h -100000000"),
            error("ERR value is out of range")
        );
        // A table answers the same shapes.
        e.limits().set(crate::types::Thresholds {
            hash_max_listpack_entries: 0,
            ..crate::types::Thresholds::default()
        });
        r(&e, &mut s, "HSET t a 1 b 2 c 3");
        assert_eq!(encoding(&e, &mut s, "t"), bulk("hashtable"));
        let Frame::Array(mut v) = r(&e, &mut s, "HRANDFIELD t 10") else {
            panic!()
        };
        v.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(v, vec![bulk("a"), bulk("b"), bulk("c")]);
        let Frame::Array(v) = r(&e, &mut s, "HRANDFIELD t 2 WITHVALUES") else {
            panic!()
        };
        assert_eq!(v.len(), 4);
        assert!(f(&e, &mut s, "HRANDFIELD t -3").is_empty());
    }

    #[test]
    fn hscan() {
        let (e, _) = engine();
        let mut s = Session::default();
        let scan = |v: Vec<Frame>| arr(vec![bulk("0"), arr(v)]);
        assert_eq!(r(&e, &mut s, "HSCAN nokey 0"), scan(vec![]));
        assert_eq!(r(&e, &mut s, "HSCAN nokey 0 COUNT 0"), scan(vec![]));
        r(&e, &mut s, "HSET h a 1 b 2 ab 3");
        assert_eq!(
            r(&e, &mut s, "HSCAN h 0 COUNT 1"),
            scan(vec![
                bulk("a"),
                bulk("1"),
                bulk("b"),
                bulk("2"),
                bulk("ab"),
                bulk("3")
            ])
        );
        assert_eq!(
            r(&e, &mut s, "HSCAN h 0 MATCH a*"),
            scan(vec![bulk("a"), bulk("1"), bulk("ab"), bulk("3")])
        );
        assert_eq!(
            r(&e, &mut s, "HSCAN h 0 COUNT 0"),
            error("ERR syntax error")
        );
        assert_eq!(
            r(&e, &mut s, "HSCAN h 0 COUNT x"),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            r(&e, &mut s, "HSCAN h 0 TYPE string"),
            error("ERR syntax error")
        );
        assert_eq!(r(&e, &mut s, "HSCAN h 0 MATCH"), error("ERR syntax error"));
        assert_eq!(r(&e, &mut s, "HSCAN h x"), error("ERR invalid cursor"));
        // A table is walked in steps and every field comes back.
        e.limits().set(crate::types::Thresholds {
            hash_max_listpack_entries: 4,
            ..crate::types::Thresholds::default()
        });
        let mut line = "HSET t".to_string();
        for i in 0..100 {
            line.push_str(&format!(" f{i} {i}"));
        }
        r(&e, &mut s, &line);
        let mut cursor = "0".to_string();
        let mut seen = std::collections::BTreeSet::new();
        let mut calls = 0;
        loop {
            let Frame::Array(v) = r(&e, &mut s, &format!("HSCAN t {cursor} COUNT 7")) else {
                panic!()
            };
            let [Frame::Bulk(c), Frame::Array(items)] = &v[..] else {
                panic!()
            };
            for pair in items.chunks(2) {
                seen.insert(format!("{:?}", pair[0]));
            }
            calls += 1;
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
        assert_eq!(calls, 15);
    }

    #[test]
    fn notifications() {
        let (e, _, rec) = notes_engine();
        let mut s = Session::default();
        r(&e, &mut s, "HSET h a 1");
        r(&e, &mut s, "HSETNX h a 1");
        r(&e, &mut s, "HSETNX h b 1");
        r(&e, &mut s, "HINCRBY h a 1");
        r(&e, &mut s, "HINCRBYFLOAT h a 1");
        r(&e, &mut s, "HDEL h zz");
        r(&e, &mut s, "HDEL h a");
        r(&e, &mut s, "HDEL h b");
        r(&e, &mut s, "HGET h a");
        assert_eq!(
            rec.take(),
            vec![
                "0 new h",
                "0 hset h",
                "0 hset h",
                "0 hincrby h",
                "0 hincrbyfloat h",
                "0 hdel h",
                "0 hdel h",
                "0 del h",
                "0 keymiss h"
            ]
        );
    }
}
