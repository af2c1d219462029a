//! Set commands (t_set.c): SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
//! SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION,
//! SUNIONSTORE, SDIFF, SDIFFSTORE and SSCAN.
//!
//! Effects: SADD, SREM and SMOVE log themselves when they changed something
//! (they are deterministic). SPOP logs `SREM key <the members it popped>` (in
//! chunks), or `DEL key` when it popped the whole set. The *STORE commands log
//! themselves when they stored a result (replay runs them on the same sources,
//! since every effect on those keys is logged in execution order) and `DEL dest`
//! when the result was empty and the destination existed. SRANDMEMBER and the
//! reads log nothing.
//!
//! Encodings follow Redis's choices: a new set starts as an intset and converts
//! on its first non-integer member or past `set-max-intset-entries`; results of
//! SINTER/SUNION/SDIFF(STORE) are built the same way from an empty intset (so a
//! result of few integers is an intset even when its sources are tables), with
//! SDIFF's two algorithms chosen as Redis chooses them (the second one adds the
//! whole first set before removing, which can leave a table). SPOP with a count
//! close to the size rebuilds the set from the members it keeps, as Redis does.
//!
//! Multi-key commands look every key up once through the `Ctx` (hits, misses,
//! lazy expiry, WRONGTYPE at the first non-set, as Redis's `lookupKeyRead` loop)
//! and then read the sets through [`peek`], which has no side effects; a set
//! walked while others are probed is first copied ([`Snap`]), since the
//! keyspace hands out one borrow at a time.

use super::args::*;
use super::keys::parse_cursor;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, SET};
use crate::tri;
use crate::types::set::{Elem, Set};
use crate::types::Thresholds;
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;
use rand::Rng;

pub static COMMANDS: &[EngineEntry] = &[
    ("sadd", Scope::Keys, sadd),
    ("srem", Scope::Keys, srem),
    ("scard", Scope::Keys, scard),
    ("sismember", Scope::Keys, sismember),
    ("smismember", Scope::Keys, smismember),
    ("smembers", Scope::Keys, smembers),
    ("spop", Scope::Keys, spop),
    ("srandmember", Scope::Keys, srandmember),
    ("smove", Scope::Keys, smove),
    ("sinter", Scope::Keys, sinter),
    ("sintercard", Scope::Keys, sintercard),
    ("sinterstore", Scope::Keys, sinterstore),
    ("sunion", Scope::Keys, sunion),
    ("sunionstore", Scope::Keys, sunionstore),
    ("sdiff", Scope::Keys, sdiff),
    ("sdiffstore", Scope::Keys, sdiffstore),
    ("sscan", Scope::Keys, sscan),
];

/// Members per logged `SREM` when SPOP pops many.
const EFFECT_CHUNK: usize = 1024;

/// The largest |count| a negative SRANDMEMBER count may ask for. Redis streams
/// any count (up to 2^63-1) into the client's output buffer until memory runs
/// out; keel builds the reply before sending it, so it refuses counts whose
/// reply could not reasonably be built.
pub const SRANDMEMBER_MAX_REPEAT: i64 = 1 << 24;

/// Candidates examined between checks of SINTERCARD's LIMIT.
const INTER_CHUNK: usize = 1024;

// ---------------------------------------------------------------- lookups

/// The set under `key` for reading (Redis's `lookupKeyRead` + `checkType`).
fn read_set<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c mut Set>, Frame> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(wrongtype()),
        },
    }
}

/// The set under `key` for writing (`lookupKeyWrite` + `checkType`).
fn write_set<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c mut Set>, Frame> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(wrongtype()),
        },
    }
}

/// The set under `key`, read without any side effect (no expiry, no stats):
/// for keys a command has already looked up.
fn peek<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Option<&'c Set> {
    let db = ctx.db;
    match ctx.dbs(db, key).map.get(key) {
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Some(s),
        _ => None,
    }
}

/// Looks every key up as Redis's set operations do; returns each set's size
/// (`None` for a missing key), or WRONGTYPE at the first key of another type.
fn gather(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Option<usize>>, Frame> {
    let mut sizes = Vec::with_capacity(keys.len());
    for k in keys {
        sizes.push(read_set(ctx, k)?.map(|s| s.len()));
    }
    Ok(sizes)
}

fn bulk(e: Elem<'_>) -> Frame {
    Frame::Bulk(e.to_bytes())
}

/// Stores a new value under `key`, replacing whatever is there (Redis's
/// `setKey`: an expired destination is expired first, and the TTL is cleared).
fn store(ctx: &mut Ctx, key: &Bytes, set: Set) {
    let db = ctx.db;
    ctx.expire_if_needed(db, key);
    let now = ctx.now;
    ctx.insert(key.clone(), Entry::new(Value::Set(Box::new(set)), 0, now));
}

/// Removes a key a command emptied, announcing it as Redis does.
fn drop_emptied(ctx: &mut Ctx, key: &Bytes) {
    ctx.remove(key);
    ctx.notify(GENERIC, "del", key);
}

// ---------------------------------------------------------------- SADD, SREM ...

fn sadd(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let t = ctx.thresholds();
    let added = match tri!(write_set(ctx, key)) {
        Some(set) => argv[2..].iter().filter(|m| set.add(m, &t)).count(),
        None => {
            let mut set = Set::new();
            let added = argv[2..].iter().filter(|m| set.add(m, &t)).count();
            let now = ctx.now;
            ctx.insert(key.clone(), Entry::new(Value::Set(Box::new(set)), 0, now));
            added
        }
    };
    if added > 0 {
        ctx.emit(argv.to_vec());
        ctx.notify(SET, "sadd", key);
    }
    Frame::Integer(added as i64)
}

fn srem(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    let Some(set) = tri!(write_set(ctx, key)) else {
        return Frame::Integer(0);
    };
    let mut removed = 0;
    for m in &argv[2..] {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if removed > 0 {
        ctx.emit(argv.to_vec());
        ctx.notify(SET, "srem", key);
        if emptied {
            drop_emptied(ctx, key);
        }
    }
    Frame::Integer(removed)
}

fn scard(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let n = tri!(read_set(ctx, &argv[1])).map_or(0, |s| s.len());
    Frame::Integer(n as i64)
}

fn sismember(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let found = tri!(read_set(ctx, &argv[1])).is_some_and(|s| s.contains(&argv[2]));
    Frame::Integer(found as i64)
}

fn smismember(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let set = tri!(read_set(ctx, &argv[1]));
    let out = argv[2..]
        .iter()
        .map(|m| Frame::Integer(set.as_ref().is_some_and(|s| s.contains(m)) as i64))
        .collect();
    Frame::Array(out)
}

fn smembers(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let set = tri!(read_set(ctx, &argv[1]));
    Frame::Set(set.map_or_else(Vec::new, |s| s.iter().map(bulk).collect()))
}

// ---------------------------------------------------------------- SPOP

fn spop(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match argv.len() {
        2 => {}
        3 => return spop_count(ctx, argv),
        _ => return err(ERR_SYNTAX),
    }
    let key = &argv[1];
    let Some(set) = tri!(write_set(ctx, key)) else {
        return Frame::Null;
    };
    if set.is_empty() {
        return Frame::Null;
    }
    let i = rand::thread_rng().gen_range(0..set.len());
    let Some(m) = set.remove_at(i) else {
        return Frame::Null;
    };
    let emptied = set.is_empty();
    ctx.notify(SET, "spop", key);
    ctx.emit(vec![s("SREM"), key.clone(), m.clone()]);
    if emptied {
        drop_emptied(ctx, key);
    }
    Frame::Bulk(m)
}

/// SPOP key count (`spopWithCountCommand`).
fn spop_count(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let key = &argv[1];
    // getPositiveLongFromObjectOrReply: one error for every bad count.
    let count = match crate::util::parse_i64(&argv[2]) {
        Some(c) if c >= 0 => c as u64,
        _ => return err("ERR value is out of range, must be positive"),
    };
    let t = ctx.thresholds();
    let Some(set) = tri!(write_set(ctx, key)) else {
        return Frame::Set(Vec::new());
    };
    if count == 0 || set.is_empty() {
        return Frame::Set(Vec::new());
    }
    let size = set.len();
    let mut rng = rand::thread_rng();
    let popped: Vec<Bytes>;
    if count >= size as u64 {
        // The whole set, in the order Redis's reply (a union copy) has.
        let out = as_new_set_order(set, &t);
        ctx.notify(SET, "spop", key);
        drop_emptied(ctx, key);
        ctx.emit(vec![s("DEL"), key.clone()]);
        return Frame::Set(out);
    }
    let count = count as usize;
    let remaining = size - count;
    if remaining * 5 > count {
        // Few to pop: pick them one by one.
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let i = rng.gen_range(0..set.len());
            if let Some(m) = set.remove_at(i) {
                out.push(m);
            }
        }
        popped = out;
    } else {
        // Most of the set goes: pick the members that stay into a new set
        // (which takes the encoding a new set of them gets) and pop the rest.
        let mut kept = Set::new();
        for _ in 0..remaining {
            let i = rng.gen_range(0..set.len());
            if let Some(m) = set.remove_at(i) {
                kept.add(&m, &t);
            }
        }
        popped = set.iter().map(|e| e.to_bytes()).collect();
        *set = kept;
    }
    ctx.notify(SET, "spop", key);
    for chunk in popped.chunks(EFFECT_CHUNK) {
        let mut effect = Vec::with_capacity(chunk.len() + 2);
        effect.push(s("SREM"));
        effect.push(key.clone());
        effect.extend(chunk.iter().cloned());
        ctx.emit(effect);
    }
    Frame::Set(popped.into_iter().map(Frame::Bulk).collect())
}

/// The members in the order a copy of `set` built as a new set iterates them
/// (sorted when the copy would be an intset), as Redis replies where it builds
/// such a copy.
fn as_new_set_order(set: &Set, t: &Thresholds) -> Vec<Frame> {
    if let Set::Table(_) = set {
        if set.len() <= t.set_max_intset_entries {
            let mut ints = Vec::with_capacity(set.len());
            for e in set.iter() {
                match e {
                    Elem::Int(i) => ints.push(i),
                    Elem::Str(b) => match crate::util::parse_i64(b) {
                        Some(i) => ints.push(i),
                        None => return set.iter().map(bulk).collect(),
                    },
                }
            }
            ints.sort_unstable();
            return ints.into_iter().map(|i| bulk(Elem::Int(i))).collect();
        }
    }
    set.iter().map(bulk).collect()
}

// ---------------------------------------------------------------- SRANDMEMBER

fn srandmember(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    match argv.len() {
        2 => {}
        3 => return srandmember_count(ctx, argv),
        _ => return err(ERR_SYNTAX),
    }
    let Some(set) = tri!(read_set(ctx, &argv[1])) else {
        return Frame::Null;
    };
    if set.is_empty() {
        return Frame::Null;
    }
    let i = rand::thread_rng().gen_range(0..set.len());
    set.get(i).map_or(Frame::Null, bulk)
}

/// SRANDMEMBER key count (`srandmemberWithCountCommand`): a negative count
/// may repeat members; a positive one returns distinct members.
fn srandmember_count(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let l = tri!(int_arg(&argv[2]));
    if l == i64::MIN {
        return err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    if l < -SRANDMEMBER_MAX_REPEAT {
        return Frame::error(format!(
            "ERR value is out of range, value must between -{SRANDMEMBER_MAX_REPEAT} and 9223372036854775807"
        ));
    }
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    let Some(set) = tri!(read_set(ctx, &argv[1])) else {
        return Frame::Array(Vec::new());
    };
    let size = set.len();
    if count == 0 || size == 0 {
        return Frame::Array(Vec::new());
    }
    let mut rng = rand::thread_rng();
    if !uniq || count == 1 {
        let out = (0..count)
            .filter_map(|_| set.get(rng.gen_range(0..size)).map(bulk))
            .collect();
        return Frame::Array(out);
    }
    if count >= size as u64 {
        return Frame::Array(set.iter().map(bulk).collect());
    }
    let picks = rand::seq::index::sample(&mut rng, size, count as usize);
    Frame::Array(picks.iter().filter_map(|i| set.get(i).map(bulk)).collect())
}

// ---------------------------------------------------------------- SMOVE

fn smove(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    let src_is_set = ctx
        .lookup_write(src)
        .map(|e| matches!(e.value, Value::Set(_)));
    let dst_is_set = ctx
        .lookup_write(dst)
        .map(|e| matches!(e.value, Value::Set(_)));
    let Some(src_is_set) = src_is_set else {
        return Frame::Integer(0);
    };
    if !src_is_set || dst_is_set == Some(false) {
        return wrongtype();
    }
    if src == dst {
        return Frame::Integer(peek(ctx, src).is_some_and(|s| s.contains(m)) as i64);
    }
    let db = ctx.db;
    let emptied = match ctx.dbs(db, src).map.get_mut(&src[..]) {
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => {
            if !s.remove(m) {
                return Frame::Integer(0);
            }
            s.is_empty()
        }
        _ => return Frame::Integer(0),
    };
    ctx.notify(SET, "srem", src);
    if emptied {
        drop_emptied(ctx, src);
    }
    let t = ctx.thresholds();
    let added = match ctx.dbs(db, dst).map.get_mut(&dst[..]) {
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => s.add(m, &t),
        _ => {
            let mut set = Set::new();
            set.add(m, &t);
            let now = ctx.now;
            ctx.insert(dst.clone(), Entry::new(Value::Set(Box::new(set)), 0, now));
            true
        }
    };
    if added {
        ctx.notify(SET, "sadd", dst);
    }
    ctx.emit(argv.to_vec());
    Frame::Integer(1)
}

// ---------------------------------------------------------------- SINTER family

/// An owned copy of a set's members, in its order, to walk while other sets
/// are read.
enum Snap {
    Ints(Vec<i64>),
    Strs { buf: Vec<u8>, ends: Vec<usize> },
}

impl Snap {
    fn of(set: &Set) -> Snap {
        match set {
            Set::Intset(is) => Snap::Ints(is.iter().collect()),
            Set::Table(tb) => {
                let mut buf = Vec::new();
                let mut ends = Vec::with_capacity(tb.len());
                for m in tb.iter() {
                    buf.extend_from_slice(m);
                    ends.push(buf.len());
                }
                Snap::Strs { buf, ends }
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Snap::Ints(v) => v.len(),
            Snap::Strs { ends, .. } => ends.len(),
        }
    }

    fn get(&self, i: usize) -> Option<Elem<'_>> {
        match self {
            Snap::Ints(v) => v.get(i).map(|&x| Elem::Int(x)),
            Snap::Strs { buf, ends } => {
                let end = *ends.get(i)?;
                let start = if i == 0 { 0 } else { *ends.get(i - 1)? };
                buf.get(start..end).map(Elem::Str)
            }
        }
    }
}

/// SINTER, SINTERCARD and SINTERSTORE (`sinterGenericCommand`). `limit` (0: none)
/// applies to SINTERCARD.
fn inter_generic(
    ctx: &mut Ctx,
    keys: &[Bytes],
    dst: Option<&Bytes>,
    card_only: bool,
    limit: usize,
) -> Frame {
    let sizes = tri!(gather(ctx, keys));
    if sizes.iter().any(|s| s.is_none()) {
        return match dst {
            Some(d) => store_result(ctx, d, Set::new(), "sinterstore"),
            None if card_only => Frame::Integer(0),
            None => Frame::Set(Vec::new()),
        };
    }
    // Smallest first; a stable sort keeps argument order among equal sizes.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let first = &keys[order[0]];
    let others: Vec<&Bytes> = order[1..]
        .iter()
        .map(|&i| &keys[i])
        .filter(|k| *k != first)
        .collect();
    let Some(smallest) = peek(ctx, first) else {
        return Frame::Set(Vec::new());
    };
    let snap = Snap::of(smallest);
    let mut found: Vec<usize> = Vec::new();
    let mut start = 0;
    while start < snap.len() {
        let end = (start + INTER_CHUNK).min(snap.len());
        let mut keep: Vec<usize> = (start..end).collect();
        for k in &others {
            let Some(set) = peek(ctx, k) else {
                keep.clear();
                break;
            };
            keep.retain(|&i| snap.get(i).is_some_and(|e| set.contains_elem(e)));
        }
        found.extend(keep);
        if limit > 0 && found.len() >= limit {
            found.truncate(limit);
            break;
        }
        start = end;
    }
    if card_only {
        return Frame::Integer(found.len() as i64);
    }
    let elems = found.iter().filter_map(|&i| snap.get(i));
    match dst {
        None => Frame::Set(elems.map(bulk).collect()),
        Some(d) => {
            let t = ctx.thresholds();
            let mut out = Set::new();
            for e in elems {
                out.add_elem(e, &t);
            }
            store_result(ctx, d, out, "sinterstore")
        }
    }
}

/// Stores a *STORE result (`setKey`) or, when it is empty, deletes the
/// destination; replies with the result's size. The stored result logs the
/// command itself (its argv is the current command's).
fn store_result(ctx: &mut Ctx, dst: &Bytes, out: Set, event: &'static str) -> Frame {
    let n = out.len();
    if n == 0 {
        // Redis's dbDelete: no expiry check, a present key is deleted.
        if ctx.remove(dst).is_some() {
            ctx.emit(vec![s("DEL"), dst.clone()]);
            ctx.notify(GENERIC, "del", dst);
        }
        return Frame::Integer(0);
    }
    store(ctx, dst, out);
    ctx.notify(SET, event, dst);
    Frame::Integer(n as i64)
}

fn sinter(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    inter_generic(ctx, &argv[1..], None, false, 0)
}

fn sinterstore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let reply = inter_generic(ctx, &argv[2..], Some(&argv[1]), false, 0);
    log_store(ctx, argv, &reply);
    reply
}

/// A *STORE that stored a non-empty result logs itself.
fn log_store(ctx: &mut Ctx, argv: &[Bytes], reply: &Frame) {
    if matches!(reply, Frame::Integer(n) if *n > 0) {
        ctx.emit(argv.to_vec());
    }
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let numkeys = match crate::util::parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    if numkeys > (argv.len() - 2) as u64 {
        return err("ERR Number of keys can't be greater than number of args");
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if is(&argv[j], "limit") && j + 1 < argv.len() {
            match crate::util::parse_i64(&argv[j + 1]) {
                Some(l) if l >= 0 => limit = usize::try_from(l).unwrap_or(usize::MAX),
                _ => return err("ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return err(ERR_SYNTAX);
        }
    }
    inter_generic(ctx, &argv[2..2 + numkeys], None, true, limit)
}

// ---------------------------------------------------------------- SUNION, SDIFF

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// SUNION, SDIFF and their STORE forms (`sunionDiffGenericCommand`).
fn union_diff_generic(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&Bytes>, op: Op) -> Frame {
    let sizes = tri!(gather(ctx, keys));
    let t = ctx.thresholds();
    let mut out = Set::new();
    match op {
        Op::Union => {
            for k in keys {
                if let Some(set) = peek(ctx, k) {
                    for e in set.iter() {
                        out.add_elem(e, &t);
                    }
                }
            }
        }
        Op::Diff => {
            if let Some(Some(first_size)) = sizes.first() {
                diff_into(ctx, keys, &sizes, *first_size, &mut out, &t);
            }
        }
    }
    match dst {
        None => Frame::Set(out.iter().map(bulk).collect()),
        Some(d) => {
            let event = if op == Op::Union {
                "sunionstore"
            } else {
                "sdiffstore"
            };
            store_result(ctx, d, out, event)
        }
    }
}

/// The difference of `keys[0]` and the others into `out`, with the algorithm
/// Redis picks for these sizes (it decides the result's encoding).
fn diff_into(
    ctx: &mut Ctx,
    keys: &[Bytes],
    sizes: &[Option<usize>],
    first_size: usize,
    out: &mut Set,
    t: &Thresholds,
) {
    let (mut one, mut two) = (0u128, 0u128);
    for sz in sizes.iter().flatten() {
        one += first_size as u128;
        two += *sz as u128;
    }
    one /= 2;
    let first = &keys[0];
    if one <= two {
        // Algorithm 1: keep the first set's members that no other set has.
        let Some(set) = peek(ctx, first) else { return };
        let snap = Snap::of(set);
        let mut keep: Vec<usize> = (0..snap.len()).collect();
        for (k, _) in keys[1..]
            .iter()
            .zip(&sizes[1..])
            .filter(|(_, s)| s.is_some())
        {
            if keep.is_empty() {
                break;
            }
            if k == first {
                keep.clear();
                break;
            }
            let Some(set) = peek(ctx, k) else { continue };
            keep.retain(|&i| snap.get(i).is_some_and(|e| !set.contains_elem(e)));
        }
        for e in keep.iter().filter_map(|&i| snap.get(i)) {
            out.add_elem(e, t);
        }
    } else {
        // Algorithm 2: the whole first set, minus every other set's members.
        if let Some(set) = peek(ctx, first) {
            for e in set.iter() {
                out.add_elem(e, t);
            }
        }
        for k in &keys[1..] {
            if out.is_empty() {
                break;
            }
            if let Some(set) = peek(ctx, k) {
                if k == first {
                    *out = Set::new();
                    break;
                }
                for e in set.iter() {
                    out.remove_elem(e);
                }
            }
        }
    }
}

fn sunion(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    union_diff_generic(ctx, &argv[1..], None, Op::Union)
}

fn sunionstore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let reply = union_diff_generic(ctx, &argv[2..], Some(&argv[1]), Op::Union);
    log_store(ctx, argv, &reply);
    reply
}

fn sdiff(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    union_diff_generic(ctx, &argv[1..], None, Op::Diff)
}

fn sdiffstore(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let reply = union_diff_generic(ctx, &argv[2..], Some(&argv[1]), Op::Diff);
    log_store(ctx, argv, &reply);
    reply
}

// ---------------------------------------------------------------- SSCAN

/// SSCAN key cursor [MATCH pattern] [COUNT count]. An intset is returned whole
/// with cursor 0, as Redis does. A table is walked by position from the top
/// down (see `types/set/table.rs`): the cursor is the number of positions still
/// to visit, so every member present for the whole scan is returned. (A command
/// that replaces the whole set, a *STORE or an SPOP that rebuilds it, starts a
/// new table, as it starts a new dict in Redis; no guarantee spans that.)
fn sscan(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    let Some(cursor) = parse_cursor(&argv[2]) else {
        return err("ERR invalid cursor");
    };
    let key = &argv[1];
    if tri!(read_set(ctx, key)).is_none() {
        return scan_reply(0, Vec::new());
    }
    let mut count: u64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        if is(&argv[i], "count") && i + 1 < argv.len() {
            let c = tri!(int_arg(&argv[i + 1]));
            if c < 1 {
                return err(ERR_SYNTAX);
            }
            count = c as u64;
        } else if is(&argv[i], "match") && i + 1 < argv.len() {
            let p = &argv[i + 1][..];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return err(ERR_SYNTAX);
        }
        i += 2;
    }
    let Some(set) = peek(ctx, key) else {
        return scan_reply(0, Vec::new());
    };
    let wanted =
        |e: &Elem| pattern.is_none_or(|p| e.with_bytes(|b| crate::glob::matches(p, b, false)));
    if let Set::Intset(_) = set {
        let found = set.iter().filter(wanted).map(bulk).collect();
        return scan_reply(0, found);
    }
    let len = set.len() as u64;
    let mut remaining = if cursor == 0 { len } else { cursor.min(len) };
    let mut found = Vec::new();
    let mut budget = count;
    while remaining > 0 && budget > 0 {
        remaining -= 1;
        budget -= 1;
        if let Some(e) = set.get(remaining as usize) {
            if wanted(&e) {
                found.push(bulk(e));
            }
        }
    }
    scan_reply(remaining, found)
}

fn scan_reply(cursor: u64, found: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(found),
    ])
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::{engine, fx, notes_engine, run};
    use crate::engine::{Effect, Engine, Session};
    use bytes::Bytes;
    use keel_protocol::Frame;
    use std::collections::BTreeSet;

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn r(e: &Engine, s: &mut Session, line: &str) -> Frame {
        run(e, s, line).0
    }

    fn f(e: &Engine, s: &mut Session, line: &str) -> Vec<String> {
        fx(&run(e, s, line).1)
    }

    fn strs(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .map(|f| match f {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect()
    }

    /// The members of a Set or Array reply, in reply order.
    fn list(f: Frame) -> Vec<String> {
        match f {
            Frame::Set(v) | Frame::Array(v) => strs(&v),
            other => panic!("not a collection: {other:?}"),
        }
    }

    fn sorted(v: Vec<String>) -> Vec<String> {
        let mut v = v;
        v.sort();
        v
    }

    fn members(e: &Engine, s: &mut Session, key: &str) -> Vec<String> {
        sorted(list(r(e, s, &format!("SMEMBERS {key}"))))
    }

    fn encoding(e: &Engine, s: &mut Session, key: &str) -> String {
        match r(e, s, &format!("OBJECT ENCODING {key}")) {
            Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => format!("{other:?}"),
        }
    }

    fn replay(effects: &[Effect]) -> Engine {
        let (b, _) = engine();
        b.set_loading(true);
        for eff in effects {
            let s = Session {
                db: eff.db,
                ..Default::default()
            };
            let (reply, _) = b.run_argv(&s, &eff.argv);
            assert!(!reply.is_error(), "replaying {eff:?}: {reply:?}");
        }
        b.set_loading(false);
        b
    }

    fn same_digest(a: &Engine, b: &Engine) {
        assert_eq!(
            crate::digest::hex(&crate::digest::digest(a)),
            crate::digest::hex(&crate::digest::digest(b))
        );
    }

    #[test]
    fn sadd_srem_effects_and_emptying() {
        let (e, _) = engine();
        let mut s = Session::default();
        let (rep, fxs) = run(&e, &mut s, "SADD k a b a");
        assert_eq!(rep, int(2));
        assert_eq!(fx(&fxs), ["0 SADD k a b a"]);
        // Nothing new: nothing logged.
        assert!(f(&e, &mut s, "SADD k a").is_empty());
        assert_eq!(r(&e, &mut s, "SREM k x"), int(0));
        assert!(f(&e, &mut s, "SREM k x").is_empty());
        assert_eq!(f(&e, &mut s, "SREM k a x"), ["0 SREM k a x"]);
        assert_eq!(r(&e, &mut s, "SREM k b b"), int(1));
        assert_eq!(r(&e, &mut s, "EXISTS k"), int(0));
        assert_eq!(r(&e, &mut s, "SREM k b"), int(0));
        r(&e, &mut s, "SET str v");
        assert!(r(&e, &mut s, "SADD str a").is_error());
        assert!(r(&e, &mut s, "SREM str a").is_error());
    }

    #[test]
    fn notifications() {
        let (e, _, rec) = notes_engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD k 1 2");
        assert_eq!(rec.take(), ["0 new k", "0 sadd k"]);
        r(&e, &mut s, "SADD k 1");
        assert!(rec.take().is_empty());
        r(&e, &mut s, "SREM k 1 2");
        assert_eq!(rec.take(), ["0 srem k", "0 del k"]);
        r(&e, &mut s, "SADD a x");
        r(&e, &mut s, "SADD b y");
        rec.take();
        r(&e, &mut s, "SMOVE a c x");
        assert_eq!(rec.take(), ["0 srem a", "0 del a", "0 new c", "0 sadd c"]);
        r(&e, &mut s, "SADD c y");
        rec.take();
        r(&e, &mut s, "SMOVE b c y");
        assert_eq!(rec.take(), ["0 srem b", "0 del b"]);
        r(&e, &mut s, "SPOP c");
        let n = rec.take();
        assert_eq!(n[0], "0 spop c");
        r(&e, &mut s, "SPOP c 5");
        assert_eq!(rec.take(), ["0 spop c", "0 del c"]);
        r(&e, &mut s, "SADD a 1 2");
        r(&e, &mut s, "SADD b 2 3");
        rec.take();
        r(&e, &mut s, "SINTERSTORE d a b");
        assert_eq!(rec.take(), ["0 new d", "0 sinterstore d"]);
        r(&e, &mut s, "SUNIONSTORE d a b");
        assert_eq!(rec.take(), ["0 sunionstore d"]);
        r(&e, &mut s, "SDIFFSTORE d a b");
        assert_eq!(rec.take(), ["0 sdiffstore d"]);
        r(&e, &mut s, "SDIFFSTORE d a a");
        assert_eq!(rec.take(), ["0 del d"]);
        r(&e, &mut s, "SINTERSTORE d a nokey");
        assert_eq!(rec.take(), ["0 keymiss nokey"]);
    }

    #[test]
    fn reads_and_reply_shapes() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD k 3 1 2");
        assert_eq!(r(&e, &mut s, "SCARD k"), int(3));
        assert_eq!(r(&e, &mut s, "SCARD none"), int(0));
        assert_eq!(r(&e, &mut s, "SISMEMBER k 2"), int(1));
        assert_eq!(r(&e, &mut s, "SISMEMBER k 02"), int(0));
        assert_eq!(r(&e, &mut s, "SISMEMBER none 2"), int(0));
        assert_eq!(
            r(&e, &mut s, "SMISMEMBER k 1 x 3"),
            Frame::Array(vec![int(1), int(0), int(1)])
        );
        assert_eq!(
            r(&e, &mut s, "SMISMEMBER none 1"),
            Frame::Array(vec![int(0)])
        );
        // Intsets iterate in order, and SMEMBERS answers a set.
        let Frame::Set(v) = r(&e, &mut s, "SMEMBERS k") else {
            panic!()
        };
        assert_eq!(strs(&v), ["1", "2", "3"]);
        assert_eq!(r(&e, &mut s, "SMEMBERS none"), Frame::Set(vec![]));
        assert_eq!(r(&e, &mut s, "SPOP none"), Frame::Null);
        assert_eq!(r(&e, &mut s, "SRANDMEMBER none"), Frame::Null);
        assert_eq!(r(&e, &mut s, "SPOP none 3"), Frame::Set(vec![]));
        assert_eq!(r(&e, &mut s, "SPOP k 0"), Frame::Set(vec![]));
        assert_eq!(r(&e, &mut s, "SRANDMEMBER none 3"), Frame::Array(vec![]));
        assert_eq!(r(&e, &mut s, "SRANDMEMBER k 0"), Frame::Array(vec![]));
        assert!(matches!(r(&e, &mut s, "SRANDMEMBER k 9"), Frame::Array(v) if v.len() == 3));
        assert!(matches!(r(&e, &mut s, "SPOP k 1"), Frame::Set(v) if v.len() == 1));
    }

    #[test]
    fn errors() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD k 1");
        r(&e, &mut s, "SET str v");
        let err = |e: &Engine, s: &mut Session, line: &str| match r(e, s, line) {
            Frame::Error(m) => String::from_utf8_lossy(&m).into_owned(),
            other => panic!("{line}: {other:?}"),
        };
        for line in ["SPOP k x", "SPOP k -1", "SPOP none 1.5", "SPOP str -1"] {
            assert_eq!(
                err(&e, &mut s, line),
                "ERR value is out of range, must be positive"
            );
        }
        assert_eq!(err(&e, &mut s, "SPOP k 1 2"), "ERR syntax error");
        assert_eq!(err(&e, &mut s, "SRANDMEMBER k 1 2"), "ERR syntax error");
        assert_eq!(
            err(&e, &mut s, "SRANDMEMBER k x"),
            "ERR value is not an integer or out of range"
        );
        assert!(err(&e, &mut s, "SRANDMEMBER k -9223372036854775808")
            .contains("-9223372036854775807 and 9223372036854775807"));
        assert!(err(&e, &mut s, "SRANDMEMBER k -16777217").contains("-16777216"));
        assert!(err(&e, &mut s, "SPOP str 1").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SPOP str 0").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SRANDMEMBER str 0").starts_with("WRONGTYPE"));
        assert_eq!(
            err(&e, &mut s, "SINTERCARD 0 k"),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(
            err(&e, &mut s, "SINTERCARD x k"),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(
            err(&e, &mut s, "SINTERCARD 2 k"),
            "ERR Number of keys can't be greater than number of args"
        );
        assert_eq!(err(&e, &mut s, "SINTERCARD 1 k LIMIT"), "ERR syntax error");
        assert_eq!(err(&e, &mut s, "SINTERCARD 1 k FOO 1"), "ERR syntax error");
        assert_eq!(
            err(&e, &mut s, "SINTERCARD 1 k LIMIT -1"),
            "ERR LIMIT can't be negative"
        );
        assert_eq!(
            err(&e, &mut s, "SINTERCARD 1 k LIMIT x"),
            "ERR LIMIT can't be negative"
        );
        assert!(err(&e, &mut s, "SINTERCARD 2 none str").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SINTER none str").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SUNION k str").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SDIFFSTORE d k str").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SMOVE k str 1").starts_with("WRONGTYPE"));
        assert!(err(&e, &mut s, "SMOVE str k 1").starts_with("WRONGTYPE"));
        assert_eq!(r(&e, &mut s, "SMOVE none str 1"), int(0));
        assert_eq!(err(&e, &mut s, "SSCAN str x"), "ERR invalid cursor");
        assert!(err(&e, &mut s, "SSCAN str 0").starts_with("WRONGTYPE"));
        assert_eq!(err(&e, &mut s, "SSCAN k 0 COUNT 0"), "ERR syntax error");
        assert_eq!(err(&e, &mut s, "SSCAN k 0 TYPE set"), "ERR syntax error");
        assert_eq!(err(&e, &mut s, "SSCAN k 0 MATCH"), "ERR syntax error");
        assert_eq!(
            err(&e, &mut s, "SSCAN k 0 COUNT x"),
            "ERR value is not an integer or out of range"
        );
        // A missing key answers an empty scan before the options are read.
        assert_eq!(
            r(&e, &mut s, "SSCAN none 0 COUNT 0"),
            Frame::Array(vec![Frame::Bulk(Bytes::from("0")), Frame::Array(vec![])])
        );
    }

    #[test]
    fn spop_logs_the_popped_members_and_replays() {
        let (e, _) = engine();
        let mut s = Session::default();
        let mut all = Vec::new();
        let mut go = |line: &str, s: &mut Session| {
            let (rep, fxs) = run(&e, s, line);
            all.extend(fxs.clone());
            (rep, fxs)
        };
        go("SADD ints 1 2 3 4 5 6 7 8 9 10", &mut s);
        go("SADD strs a b c d e f g h i j", &mut s);
        // One member: SREM of it.
        let (rep, fxs) = go("SPOP ints", &mut s);
        let Frame::Bulk(m) = rep else { panic!() };
        assert_eq!(
            fx(&fxs),
            [format!("0 SREM ints {}", String::from_utf8_lossy(&m))]
        );
        // A few (case 2) and most (case 3): SREM of exactly those.
        for (key, n) in [("ints", 2), ("strs", 3), ("strs", 6), ("ints", 6)] {
            let before: BTreeSet<String> = members(&e, &mut s, key).into_iter().collect();
            let (rep, fxs) = go(&format!("SPOP {key} {n}"), &mut s);
            let popped = list(rep);
            assert_eq!(popped.len(), n);
            let after: BTreeSet<String> = members(&e, &mut s, key).into_iter().collect();
            assert_eq!(after.len(), before.len() - n);
            for p in &popped {
                assert!(before.contains(p) && !after.contains(p), "{p}");
            }
            let want = format!("0 SREM {key} {}", popped.join(" "));
            assert_eq!(fx(&fxs), [want]);
        }
        // The rest: DEL.
        let (rep, fxs) = go("SPOP strs 100", &mut s);
        assert_eq!(list(rep).len(), 1);
        assert_eq!(fx(&fxs), ["0 DEL strs"]);
        assert_eq!(r(&e, &mut s, "EXISTS strs"), int(0));
        same_digest(&e, &replay(&all));
    }

    #[test]
    fn spop_big_counts_log_in_chunks() {
        let (e, _) = engine();
        let mut s = Session::default();
        let line: Vec<String> = (0..3000).map(|i| format!("m{i}")).collect();
        r(&e, &mut s, &format!("SADD k {}", line.join(" ")));
        let (rep, fxs) = run(&e, &mut s, "SPOP k 2500");
        assert_eq!(list(rep).len(), 2500);
        let sizes: Vec<usize> = fxs.iter().map(|f| f.argv.len() - 2).collect();
        assert_eq!(sizes, [1024, 1024, 452]);
        assert_eq!(r(&e, &mut s, "SCARD k"), int(500));
    }

    #[test]
    fn spop_rebuild_takes_the_new_sets_encoding() {
        let (e, _) = engine();
        let mut s = Session::default();
        // 600 integers: a table (past 512).
        let ints: Vec<String> = (0..600).map(|i| i.to_string()).collect();
        r(&e, &mut s, &format!("SADD k {}", ints.join(" ")));
        assert_eq!(encoding(&e, &mut s, "k"), "hashtable");
        // Few popped: the table stays.
        r(&e, &mut s, "SPOP k 10");
        assert_eq!(encoding(&e, &mut s, "k"), "hashtable");
        // Most popped (remaining*5 <= count): rebuilt from the 40 kept, an intset.
        r(&e, &mut s, "SPOP k 550");
        assert_eq!(r(&e, &mut s, "SCARD k"), int(40));
        assert_eq!(encoding(&e, &mut s, "k"), "intset");
        // A TTL survives the rebuild.
        r(&e, &mut s, "EXPIRE k 100");
        r(&e, &mut s, "SPOP k 35");
        assert_eq!(r(&e, &mut s, "TTL k"), int(100));
    }

    #[test]
    fn spop_whole_table_of_integers_replies_sorted() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD k 5 x 3 1");
        r(&e, &mut s, "SREM k x");
        assert_eq!(encoding(&e, &mut s, "k"), "hashtable");
        // Redis replies through a union copy, an intset here.
        assert_eq!(list(r(&e, &mut s, "SPOP k 3")), ["1", "3", "5"]);
    }

    #[test]
    fn srandmember_counts() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD k a b c d e f g h i j");
        for _ in 0..50 {
            let v = list(r(&e, &mut s, "SRANDMEMBER k 4"));
            assert_eq!(v.len(), 4);
            let distinct: BTreeSet<_> = v.iter().collect();
            assert_eq!(distinct.len(), 4, "{v:?}");
            let v = list(r(&e, &mut s, "SRANDMEMBER k 9"));
            let distinct: BTreeSet<_> = v.iter().collect();
            assert_eq!(distinct.len(), 9, "{v:?}");
        }
        let v = list(r(&e, &mut s, "SRANDMEMBER k -100"));
        assert_eq!(v.len(), 100);
        assert!(v
            .iter()
            .all(|m| m.len() == 1 && ("a"..="j").contains(&m.as_str())));
        // With 100 picks out of 10, repeats are certain.
        let distinct: BTreeSet<_> = v.iter().collect();
        assert!(distinct.len() < 100);
        assert_eq!(sorted(list(r(&e, &mut s, "SRANDMEMBER k 10"))).len(), 10);
        // Reads log nothing.
        assert!(f(&e, &mut s, "SRANDMEMBER k -5").is_empty());
        assert_eq!(r(&e, &mut s, "SCARD k"), int(10));
    }

    #[test]
    fn random_picks_cover_every_member() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD ints 1 2 3 4 5");
        r(&e, &mut s, "SADD strs a b c d e");
        for key in ["ints", "strs"] {
            let mut counts = std::collections::BTreeMap::new();
            for m in list(r(&e, &mut s, &format!("SRANDMEMBER {key} -5000"))) {
                *counts.entry(m).or_insert(0) += 1;
            }
            assert_eq!(counts.len(), 5);
            // Uniform: each about 1000; far outside is a broken picker.
            assert!(
                counts.values().all(|&c| (700..1300).contains(&c)),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn smove_cases() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD a 1 2");
        assert_eq!(r(&e, &mut s, "SMOVE a a 1"), int(1));
        assert_eq!(r(&e, &mut s, "SMOVE a a 9"), int(0));
        assert!(f(&e, &mut s, "SMOVE a a 1").is_empty());
        assert_eq!(r(&e, &mut s, "SMOVE a b 9"), int(0));
        assert!(f(&e, &mut s, "SMOVE a b 9").is_empty());
        assert_eq!(f(&e, &mut s, "SMOVE a b 1"), ["0 SMOVE a b 1"]);
        assert_eq!(encoding(&e, &mut s, "b"), "intset");
        r(&e, &mut s, "SADD c x");
        assert_eq!(r(&e, &mut s, "SMOVE c b x"), int(1));
        assert_eq!(encoding(&e, &mut s, "b"), "hashtable");
        assert_eq!(r(&e, &mut s, "EXISTS c"), int(0));
        // Already in the destination: still moved out of the source.
        r(&e, &mut s, "SADD c 2");
        assert_eq!(r(&e, &mut s, "SMOVE a c 2"), int(1));
        assert_eq!(r(&e, &mut s, "EXISTS a"), int(0));
        assert_eq!(members(&e, &mut s, "c"), ["2"]);
    }

    #[test]
    fn inter_union_diff_results() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD a 1 2 3 4 x y");
        r(&e, &mut s, "SADD b 2 3 4 5 y z");
        r(&e, &mut s, "SADD c 3 4 y q");
        assert_eq!(sorted(list(r(&e, &mut s, "SINTER a b c"))), ["3", "4", "y"]);
        assert_eq!(
            sorted(list(r(&e, &mut s, "SUNION a b c"))),
            ["1", "2", "3", "4", "5", "q", "x", "y", "z"]
        );
        assert_eq!(sorted(list(r(&e, &mut s, "SDIFF a b c"))), ["1", "x"]);
        assert_eq!(
            sorted(list(r(&e, &mut s, "SDIFF a none"))),
            sorted(members(&e, &mut s, "a"))
        );
        assert_eq!(list(r(&e, &mut s, "SDIFF none a")), Vec::<String>::new());
        assert_eq!(list(r(&e, &mut s, "SDIFF a a")), Vec::<String>::new());
        assert_eq!(list(r(&e, &mut s, "SINTER a none")), Vec::<String>::new());
        assert_eq!(
            sorted(list(r(&e, &mut s, "SINTER a a"))),
            members(&e, &mut s, "a")
        );
        assert_eq!(r(&e, &mut s, "SINTERCARD 3 a b c"), int(3));
        assert_eq!(r(&e, &mut s, "SINTERCARD 3 a b c LIMIT 2"), int(2));
        assert_eq!(r(&e, &mut s, "SINTERCARD 3 a b c LIMIT 0"), int(3));
        assert_eq!(r(&e, &mut s, "SINTERCARD 2 a none"), int(0));
        // Smallest set an intset: the reply is in its (sorted) order.
        r(&e, &mut s, "SADD i 9 4 3 1");
        assert_eq!(list(r(&e, &mut s, "SINTER a i")), ["1", "3", "4"]);
        // Results of integers are intsets, sorted.
        assert_eq!(list(r(&e, &mut s, "SDIFF a c")), ["1", "2", "x"]);
        assert_eq!(list(r(&e, &mut s, "SUNION i i")), ["1", "3", "4", "9"]);
    }

    #[test]
    fn store_commands_effects_encodings_and_replay() {
        let (e, _) = engine();
        let mut s = Session::default();
        let mut all = Vec::new();
        let mut go = |line: &str, s: &mut Session| {
            let (rep, fxs) = run(&e, s, line);
            all.extend(fxs.clone());
            (rep, fxs)
        };
        go("SADD a 1 2 3 x", &mut s);
        go("SADD b 2 3 4 x", &mut s);
        let (rep, fxs) = go("SINTERSTORE d a b", &mut s);
        assert_eq!(rep, Frame::Integer(3));
        assert_eq!(fx(&fxs), ["0 SINTERSTORE d a b"]);
        let (rep, fxs) = go("SUNIONSTORE u a b", &mut s);
        assert_eq!(rep, Frame::Integer(5));
        assert_eq!(fx(&fxs), ["0 SUNIONSTORE u a b"]);
        let (rep, fxs) = go("SDIFFSTORE f a b", &mut s);
        assert_eq!(rep, Frame::Integer(1));
        assert_eq!(fx(&fxs), ["0 SDIFFSTORE f a b"]);
        // An integer-only result is an intset although the sources are tables.
        assert_eq!(encoding(&e, &mut s, "f"), "intset");
        go("SINTERSTORE g a b", &mut s);
        assert_eq!(encoding(&e, &mut s, "g"), "hashtable");
        // An empty result deletes the destination (and logs DEL), whatever it was.
        go("SET str v", &mut s);
        go("EXPIRE d 100", &mut s);
        let (rep, fxs) = go("SINTERSTORE d a none", &mut s);
        assert_eq!(rep, Frame::Integer(0));
        assert_eq!(fx(&fxs), ["0 DEL d"]);
        let (rep, fxs) = go("SDIFFSTORE str a a", &mut s);
        assert_eq!(rep, Frame::Integer(0));
        assert_eq!(fx(&fxs), ["0 DEL str"]);
        let (_, fxs) = go("SUNIONSTORE nothing none", &mut s);
        assert!(fxs.is_empty());
        // A stored result replaces the value and its TTL.
        go("SET str v EX 100", &mut s);
        go("SUNIONSTORE str a", &mut s);
        assert_eq!(r(&e, &mut s, "TTL str"), int(-1));
        assert_eq!(encoding(&e, &mut s, "str"), "hashtable");
        // A destination that is also a source.
        go("SINTERSTORE a a b", &mut s);
        assert_eq!(members(&e, &mut s, "a"), ["2", "3", "x"]);
        same_digest(&e, &replay(&all));
    }

    #[test]
    fn sdiff_algorithm_decides_the_encoding() {
        let (e, _) = engine();
        let mut s = Session::default();
        // First set: 10 integers and one string; the other is tiny.
        r(&e, &mut s, "SADD a 1 2 3 4 5 6 7 8 9 10 x");
        r(&e, &mut s, "SADD b x");
        // work1 = 11*2/2 = 11 > work2 = 12? No: 11 <= 12, algorithm 1: only the
        // surviving integers are added, an intset.
        r(&e, &mut s, "SDIFFSTORE d a b");
        assert_eq!(encoding(&e, &mut s, "d"), "intset");
        // With three sources, work1 = 33/2 = 16 > work2 = 11+1+1 = 13:
        // algorithm 2 adds all of `a` (a table) before removing.
        r(&e, &mut s, "SADD c x");
        r(&e, &mut s, "SDIFFSTORE d a b c");
        assert_eq!(members(&e, &mut s, "d").len(), 10);
        assert_eq!(encoding(&e, &mut s, "d"), "hashtable");
    }

    #[test]
    fn conversion_thresholds() {
        let (e, _) = engine();
        let mut s = Session::default();
        let ints: Vec<String> = (0..512).map(|i| i.to_string()).collect();
        r(&e, &mut s, &format!("SADD k {}", ints.join(" ")));
        assert_eq!(encoding(&e, &mut s, "k"), "intset");
        r(&e, &mut s, "SADD k 512");
        assert_eq!(encoding(&e, &mut s, "k"), "hashtable");
        // Removing never converts back.
        r(&e, &mut s, "SREM k 512 511");
        assert_eq!(encoding(&e, &mut s, "k"), "hashtable");
        r(&e, &mut s, "SADD j 1 2");
        r(&e, &mut s, "SADD j 01");
        assert_eq!(encoding(&e, &mut s, "j"), "hashtable");
        // A changed limit applies to the next insert.
        let mut t = e.limits().get();
        t.set_max_intset_entries = 2;
        e.limits().set(t);
        r(&e, &mut s, "SADD n 1 2");
        assert_eq!(encoding(&e, &mut s, "n"), "intset");
        r(&e, &mut s, "SADD n 3");
        assert_eq!(encoding(&e, &mut s, "n"), "hashtable");
    }

    fn scan_once(e: &Engine, s: &mut Session, line: &str) -> (String, Vec<String>) {
        match r(e, s, line) {
            Frame::Array(mut v) if v.len() == 2 => {
                let found = list(v.pop().unwrap());
                let Some(Frame::Bulk(c)) = v.pop() else {
                    panic!()
                };
                (String::from_utf8_lossy(&c).into_owned(), found)
            }
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn sscan_intset_whole_and_match() {
        let (e, _) = engine();
        let mut s = Session::default();
        r(&e, &mut s, "SADD k 10 2 1 3");
        assert_eq!(
            scan_once(&e, &mut s, "SSCAN k 0 COUNT 1"),
            (
                "0".to_string(),
                vec!["1".into(), "2".into(), "3".into(), "10".into()]
            )
        );
        assert_eq!(
            scan_once(&e, &mut s, "SSCAN k 77 MATCH 1*"),
            ("0".to_string(), vec!["1".into(), "10".into()])
        );
    }

    #[test]
    fn sscan_table_returns_every_stable_member() {
        let (e, _) = engine();
        let mut s = Session::default();
        let all: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        r(&e, &mut s, &format!("SADD k {}", all.join(" ")));
        // Stable set: each member exactly once.
        let mut seen = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let (c, found) = scan_once(&e, &mut s, &format!("SSCAN k {cursor} COUNT 7"));
            seen.extend(found);
            if c == "0" {
                break;
            }
            cursor = c;
        }
        assert_eq!(sorted(seen), sorted(all.clone()));
        // Members removed and added during the scan: the ones present all along
        // are still returned.
        let mut seen = BTreeSet::new();
        let mut cursor = "0".to_string();
        let mut step = 0;
        loop {
            let (c, found) = scan_once(&e, &mut s, &format!("SSCAN k {cursor} COUNT 13"));
            seen.extend(found);
            step += 1;
            r(&e, &mut s, &format!("SREM k m{} m{}", step * 2, 299 - step));
            r(&e, &mut s, &format!("SADD k new{step} other{step}"));
            if c == "0" {
                break;
            }
            cursor = c;
        }
        for (i, m) in all.iter().enumerate() {
            let removed = (i % 2 == 0 && i / 2 <= step) || i >= 299 - step;
            if !removed {
                assert!(seen.contains(m), "{m} missed");
            }
        }
        // MATCH filters what was visited.
        let (_, found) = scan_once(&e, &mut s, "SSCAN k 0 COUNT 1000 MATCH m1?");
        assert!(found.iter().all(|m| m.len() == 3 && m.starts_with("m1")));
        assert!(!found.is_empty());
    }

    #[test]
    fn binary_members() {
        let (e, _) = engine();
        let s = Session::default();
        let argv: Vec<Bytes> = [&b"SADD"[..], b"k", b"", b"\0\r\n", &[0xff]]
            .iter()
            .map(|a| Bytes::copy_from_slice(a))
            .collect();
        assert_eq!(e.run_argv(&s, &argv).0, int(3));
        let argv: Vec<Bytes> = [&b"SISMEMBER"[..], b"k", b"\0\r\n"]
            .iter()
            .map(|a| Bytes::copy_from_slice(a))
            .collect();
        assert_eq!(e.run_argv(&s, &argv).0, int(1));
    }
}
