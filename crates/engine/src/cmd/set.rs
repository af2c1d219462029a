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
            Value::Set(s, _) => Ok(Some(s)),
            _ => Err(wrongtype()),
        },
    }
}

/// The set under `key` for writing (`lookupKeyWrite` + `checkType`).
fn write_set<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Result<Option<&'c mut Set>, Frame> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s, _) => Ok(Some(s)),
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
            value: Value::Set(s, _),
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
    ctx.insert(
        key,
        Entry::new(Value::Set(set, crate::value::LRU_UNSET), 0, now),
    );
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
            ctx.insert(
                key,
                Entry::new(Value::Set(set, crate::value::LRU_UNSET), 0, now),
            );
            added
        }
    };
    if added > 0 {
        ctx.emit_with(|| Args::from(argv));
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
        ctx.emit_with(|| Args::from(argv));
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
    ctx.emit(smallvec![s("SREM"), key.clone(), m.clone()]);
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
        ctx.emit(smallvec![s("DEL"), key.clone()]);
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
        let mut effect = Args::with_capacity(chunk.len() + 2);
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
        .map(|e| matches!(e.value, Value::Set(_, _)));
    let dst_is_set = ctx
        .lookup_write(dst)
        .map(|e| matches!(e.value, Value::Set(_, _)));
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
            value: Value::Set(s, _),
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
            value: Value::Set(s, _),
            ..
        }) => s.add(m, &t),
        _ => {
            let mut set = Set::new();
            set.add(m, &t);
            let now = ctx.now;
            ctx.insert(
                dst,
                Entry::new(Value::Set(set, crate::value::LRU_UNSET), 0, now),
            );
            true
        }
    };
    if added {
        ctx.notify(SET, "sadd", dst);
    }
    ctx.emit_with(|| Args::from(argv));
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
            ctx.emit(smallvec![s("DEL"), dst.clone()]);
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
        ctx.emit_with(|| Args::from(argv));
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
mod tests;
