//! SORT and SORT_RO (sort.c) as Redis 7.0.15 runs them.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]`. A pattern's first `*` is replaced by the
//! element; `key->field` reads a hash field; `GET #` is the element itself; a
//! BY pattern without `*` (e.g. `nosort`) means "do not sort": lists and sorted
//! sets keep their order (reversed by DESC), sets their iteration order, except
//! that with STORE a set is sorted ALPHA so the stored list is deterministic.
//!
//! Order: numeric by default (each weight read with C's `strtod`, which must
//! consume it all: `ERR One or more scores can't be converted into double`),
//! equal weights ordered by the elements' bytes; ALPHA compares bytes, as C's
//! `strcoll` does in the C.UTF-8 locale Redis runs in (up to the first NUL byte
//! when replying, the whole string with STORE, as Redis does); a missing BY
//! key weighs 0 (numeric) or sorts first (ALPHA). Ties keep their original
//! order, as glibc's merge-sort `qsort` does.
//!
//! Like Redis 7.0, sorting a sorted set converts it to the skiplist encoding.
//!
//! BY and GET read arbitrary keys, so both commands are registered with
//! `Scope::All` (the engine locks every shard).
//!
//! Effect of STORE: `RESTORE dest 0 <payload> REPLACE` holding the stored list
//! (or `DEL dest` when the result is empty and dest existed). The sorted result
//! can depend on a set's iteration order (ties under BY), which a replay need
//! not reproduce, so the result itself is logged rather than the command.
//!
//! Not reproduced: Redis's partial quicksort (`pqsort`, used with BY and a
//! LIMIT) orders equal weights differently from a full sort; keel always sorts
//! fully (stable), so only ties under BY with a LIMIT can come out in another
//! order. A stale `errno` in Redis can make a weight fail to convert after an
//! earlier range error; keel judges each weight on its own.

use super::args::*;
use crate::command::table::{EngineEntry, Scope};
use crate::engine::Ctx;
use crate::notify::{GENERIC, LIST};
use crate::rdb::strtod::strtod;
use crate::tri;
use crate::types::{List, Thresholds, ZSet};
use crate::value::{Entry, Value};
use bytes::Bytes;
use keel_protocol::Frame;
use std::cmp::Ordering;

pub static COMMANDS: &[EngineEntry] =
    &[("sort", Scope::All, sort), ("sort_ro", Scope::All, sort_ro)];

const ERR_SCORES: &str = "ERR One or more scores can't be converted into double";

fn sort(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    sort_generic(ctx, argv, false)
}

fn sort_ro(ctx: &mut Ctx, argv: &[Bytes]) -> Frame {
    sort_generic(ctx, argv, true)
}

/// One element being sorted with its weight.
struct Item {
    elem: Bytes,
    score: f64,
    /// ALPHA with BY: the BY value (None: the key was missing).
    cmp: Option<Bytes>,
}

fn sort_generic(ctx: &mut Ctx, argv: &[Bytes], readonly: bool) -> Frame {
    let mut desc = false;
    let mut alpha = false;
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut store: Option<Bytes> = None;
    let mut by: Option<Bytes> = None;
    let mut dontsort = false;
    let mut gets: Vec<Bytes> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if is(a, "asc") {
            desc = false;
        } else if is(a, "desc") {
            desc = true;
        } else if is(a, "alpha") {
            alpha = true;
        } else if is(a, "limit") && left >= 2 {
            limit_start = tri!(int_arg(&argv[j + 1]));
            limit_count = tri!(int_arg(&argv[j + 2]));
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            store = Some(argv[j + 1].clone());
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let p = argv[j + 1].clone();
            // strchr: the pattern as a C string.
            if !cstr(&p).contains(&b'*') {
                dontsort = true;
            }
            by = Some(p);
            j += 1;
        } else if is(a, "get") && left >= 1 {
            gets.push(argv[j + 1].clone());
            j += 1;
        } else {
            return err(ERR_SYNTAX);
        }
        j += 1;
    }

    // The elements, in the order Redis loads them.
    let mut is_set = false;
    let mut ordered = false; // a list or sorted set (keeps its order)
    let t = ctx.thresholds();
    let elems: Vec<Bytes> = match ctx.lookup_read(&argv[1]) {
        None => {
            ordered = true;
            Vec::new()
        }
        Some(e) => match &mut e.value {
            Value::Str { .. } | Value::Hash(_, _) => return wrongtype(),
            Value::List(l, _) => {
                ordered = true;
                let mut v = Vec::with_capacity(l.len());
                l.for_each(|x| v.push(Bytes::copy_from_slice(x)));
                v
            }
            Value::Set(s, _) => {
                is_set = true;
                let mut v = Vec::with_capacity(s.len());
                s.for_each(|x| v.push(Bytes::copy_from_slice(x)));
                v
            }
            Value::ZSet(z, _) => {
                ordered = true;
                let mut v = Vec::with_capacity(z.len());
                z.for_each(|x, _| v.push(Bytes::copy_from_slice(x)));
                if z.encoding() == "listpack" {
                    *z = to_skiplist(z, &t);
                }
                v
            }
        },
    };
    // A set's iteration order is not reproducible: with STORE, sort it.
    if dontsort && is_set && store.is_some() {
        dontsort = false;
        alpha = true;
        by = None;
    }

    // LIMIT, clamped as Redis does.
    let len = elems.len() as i64;
    let mut start = limit_start.clamp(0, len);
    let count = limit_count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    if dontsort {
        if ordered && desc {
            items.reverse();
        }
    } else {
        let mut bad_score = false;
        for it in items.iter_mut() {
            let byval = match &by {
                Some(p) => match lookup_by_pattern(ctx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if alpha {
                if by.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match weight(&byval) {
                    Some(w) => it.score = w,
                    None => bad_score = true,
                }
            }
        }
        let by_pattern = by.is_some();
        let binary = store.is_some();
        items.sort_by(|a, b| {
            let o = compare(a, b, alpha, by_pattern, binary);
            if desc {
                o.reverse()
            } else {
                o
            }
        });
        if bad_score {
            return err(ERR_SCORES);
        }
    }

    let range: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let Some(dest) = store else {
        let mut out = Vec::with_capacity(range.len() * gets.len().max(1));
        for it in range {
            if gets.is_empty() {
                out.push(Frame::Bulk(it.elem.clone()));
            }
            for g in &gets {
                out.push(match lookup_by_pattern(ctx, g, &it.elem) {
                    Some(v) => Frame::Bulk(v),
                    None => Frame::Null,
                });
            }
        }
        return Frame::Array(out);
    };

    let mut list = List::new();
    for it in range {
        if gets.is_empty() {
            list.push_back(it.elem.clone());
        }
        for g in &gets {
            list.push_back(lookup_by_pattern(ctx, g, &it.elem).unwrap_or_default());
        }
    }
    let stored = list.len() as i64;
    if stored > 0 {
        let value = Value::List(list, crate::value::LRU_UNSET);
        let payload = crate::rdb::dump_payload(&value, &t);
        // setKey: an expired destination is removed first (and logged).
        let db = ctx.db;
        ctx.expire_if_needed(db, &dest);
        let now = ctx.now;
        ctx.insert(&dest, Entry::new(value, 0, now));
        ctx.emit(smallvec![
            s("RESTORE"),
            dest.clone(),
            n(0),
            Bytes::from(payload),
            s("REPLACE"),
        ]);
        ctx.notify(LIST, "sortstore", &dest);
    } else if ctx.remove(&dest).is_some() {
        ctx.emit(smallvec![s("DEL"), dest.clone()]);
        ctx.notify(GENERIC, "del", &dest);
    }
    Frame::Integer(stored)
}

/// `sortCompare` (before DESC is applied).
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool, binary: bool) -> Ordering {
    let text = |x: &[u8], y: &[u8]| {
        if binary {
            x.cmp(y)
        } else {
            cstr(x).cmp(cstr(y))
        }
    };
    if !alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.elem.cmp(&b.elem),
            Some(o) => o,
        };
    }
    if by_pattern {
        return match (&a.cmp, &b.cmp) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text(x, y),
        };
    }
    text(&a.elem, &b.elem)
}

/// A weight as SORT reads it: `strtod` must consume the whole C string, with
/// no range error and no NaN.
fn weight(v: &[u8]) -> Option<f64> {
    let p = strtod(v);
    let whole = p.len == v.len() || v[p.len] == 0;
    (whole && !p.range_error && !p.value.is_nan()).then_some(p.value)
}

/// The bytes of `s` up to its first NUL (what C string functions see).
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// `lookupKeyByPattern`: the value `pattern` names for `subst` (see the module
/// doc); None when the key is missing or of the wrong type, the field is
/// missing, or the pattern has no `*`.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], subst: &Bytes) -> Option<Bytes> {
    if pattern.first() == Some(&b'#') && matches!(pattern.get(1), None | Some(0)) {
        return Some(subst.clone());
    }
    let c = cstr(pattern);
    let star = c.iter().position(|&x| x == b'*')?;
    // strstr(p + 1, "->") with something (not NUL) after the arrow.
    let arrow = c[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < c.len());
    let postfix_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(pattern.len() + subst.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    let entry = ctx.lookup_read(&key)?;
    match (arrow, &entry.value) {
        (Some(f), Value::Hash(h, _)) => h.get(&pattern[f + 2..]).map(Bytes::copy_from_slice),
        (None, Value::Str { data, .. }) => Some(data.bytes()),
        _ => None,
    }
}

/// The same sorted set in the skiplist encoding (Redis 7.0's SORT converts a
/// listpack sorted set before reading it).
fn to_skiplist(z: &ZSet, t: &Thresholds) -> ZSet {
    let t = Thresholds {
        zset_max_listpack_entries: 0,
        ..*t
    };
    let mut out = ZSet::new();
    z.for_each(|m, score| {
        out.insert(Bytes::copy_from_slice(m), score, &t);
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::{engine, fx, run};
    use crate::engine::{Engine, Session};
    use crate::types::Hash;
    use crate::types::Set;

    fn put(e: &Engine, key: &str, v: Value) {
        let mut locks = e.lock_all();
        let mut entry = Some(Entry::new(v, 0, 0));
        locks.shards_mut().for_each(|(i, shard)| {
            if i == e.shard_of(key.as_bytes()) {
                if let Some(en) = entry.take() {
                    shard.dbs[0].insert(key.as_bytes(), en);
                }
            }
        });
    }

    fn list(items: &[&str]) -> Value {
        let mut l = List::new();
        for i in items {
            l.push_back(Bytes::copy_from_slice(i.as_bytes()));
        }
        Value::List(l, crate::value::LRU_UNSET)
    }

    fn strs(f: &Frame) -> Vec<String> {
        match f {
            Frame::Array(v) => v
                .iter()
                .map(|x| match x {
                    Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    Frame::Null => "(nil)".into(),
                    other => format!("{other:?}"),
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    }

    #[test]
    fn orders_and_limits_as_redis() {
        let (e, _) = engine();
        let mut s = Session::default();
        put(&e, "l", list(&["3", "1", "2", "10"]));
        let cases: &[(&str, &[&str])] = &[
            ("SORT l", &["1", "2", "3", "10"]),
            ("SORT l DESC", &["10", "3", "2", "1"]),
            ("SORT l ALPHA", &["1", "10", "2", "3"]),
            ("SORT l LIMIT 1 2", &["2", "3"]),
            ("SORT l BY nosort", &["3", "1", "2", "10"]),
            ("SORT l BY nosort DESC", &["10", "2", "1", "3"]),
            ("SORT l BY nosort LIMIT 1 2", &["1", "2"]),
            ("SORT l BY nosort DESC LIMIT 1 2", &["2", "1"]),
            ("SORT l LIMIT -1 2", &["1", "2"]),
            ("SORT l LIMIT 1 -1", &["2", "3", "10"]),
            ("SORT l LIMIT 10 2", &[]),
            ("SORT l LIMIT 0 0", &[]),
            ("SORT l ASC DESC ASC", &["1", "2", "3", "10"]),
            ("SORT l ALPHA DESC", &["3", "2", "10", "1"]),
            ("SORT nokey", &[]),
            ("SORT_RO l DESC", &["10", "3", "2", "1"]),
            (
                "SORT l GET # GET w_*",
                &["1", "(nil)", "2", "(nil)", "3", "(nil)", "10", "(nil)"],
            ),
            (
                "SORT l BY nosort GET nostar",
                &["(nil)", "(nil)", "(nil)", "(nil)"],
            ),
        ];
        for (line, want) in cases {
            assert_eq!(strs(&run(&e, &mut s, line).0), *want, "{line}");
        }
        run(&e, &mut s, "SET w_3 x");
        assert_eq!(
            strs(&run(&e, &mut s, "SORT l BY w_* ALPHA").0),
            ["1", "2", "10", "3"]
        );
        assert_eq!(run(&e, &mut s, "SORT l BY w_*").0, Frame::error(ERR_SCORES));
        let t = Thresholds::default();
        let mut h = Hash::new();
        h.insert(Bytes::from_static(b"f"), Bytes::from_static(b"9"), &t);
        put(&e, "h_1", Value::Hash(h, crate::value::LRU_UNSET));
        assert_eq!(
            strs(&run(&e, &mut s, "SORT l BY h_*->f").0),
            ["10", "2", "3", "1"]
        );
        assert_eq!(
            strs(&run(&e, &mut s, "SORT l GET h_*->f GET h_*->").0),
            ["9", "(nil)", "(nil)", "(nil)", "(nil)", "(nil)", "(nil)", "(nil)"]
        );
    }

    #[test]
    fn errors() {
        let (e, _) = engine();
        let mut s = Session::default();
        run(&e, &mut s, "SET str x");
        put(&e, "l", list(&["a"]));
        for (line, want) in [
            ("SORT l LIMIT x 2", ERR_NOT_INT),
            ("SORT l LIMIT 1", ERR_SYNTAX),
            ("SORT l foo", ERR_SYNTAX),
            ("SORT l GET", ERR_SYNTAX),
            ("SORT l BY", ERR_SYNTAX),
            ("SORT l STORE", ERR_SYNTAX),
            ("SORT_RO l STORE d", ERR_SYNTAX),
            ("SORT str", ERR_WRONGTYPE),
            ("SORT str foo", ERR_SYNTAX),
            ("SORT l", ERR_SCORES),
        ] {
            assert_eq!(run(&e, &mut s, line).0, Frame::error(want), "{line}");
        }
    }

    #[test]
    fn weights_as_strtod() {
        for (w, ok) in [
            ("2.2250738585072014e-308", true),
            (" 5", true),
            ("5 ", false),
            ("0x10", true),
            ("0x", false),
            ("inf", true),
            ("nan", false),
            ("", true),
            ("1e", false),
            (".5", true),
            ("12\0ab", true),
            ("+3", true),
            ("1e-310", false),
            ("1e400", false),
        ] {
            assert_eq!(weight(w.as_bytes()).is_some(), ok, "{w:?}");
        }
    }

    #[test]
    fn notifications_as_redis() {
        // Redis 7.0.15 with notify-keyspace-events KEAnm.
        let (e, _, rec) = crate::engine::testing::notes_engine();
        let mut s = Session::default();
        put(&e, "l", list(&["2", "1"]));
        for line in [
            "SORT l STORE d",
            "SORT l STORE d",
            "SORT nokey STORE d",
            "SORT l BY nokey_*",
        ] {
            run(&e, &mut s, line);
        }
        assert_eq!(
            rec.take(),
            [
                "0 new d",
                "0 sortstore d",
                "0 sortstore d",
                "0 keymiss nokey",
                "0 del d",
                "0 keymiss nokey_2",
                "0 keymiss nokey_1"
            ]
        );
    }

    #[test]
    fn store_effects() {
        let (e, _) = engine();
        let mut s = Session::default();
        put(&e, "l", list(&["3", "1", "2"]));
        let (f, effects) = run(&e, &mut s, "SORT l STORE d");
        assert_eq!(f, Frame::Integer(3));
        let lines = fx(&effects);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("0 RESTORE d 0 "), "{lines:?}");
        assert!(lines[0].ends_with(" REPLACE"));
        // Replaying the effect rebuilds the same list.
        let (e2, _) = engine();
        for eff in &effects {
            e2.run_argv(&s, &eff.argv);
        }
        assert_eq!(
            crate::digest::digest_value(&e2, 0, b"d"),
            crate::digest::digest_value(&e, 0, b"d")
        );
        put(&e, "want", list(&["1", "2", "3"]));
        assert_eq!(
            crate::digest::digest_value(&e, 0, b"d"),
            crate::digest::digest_value(&e, 0, b"want")
        );
        // An empty result deletes the destination.
        let (f, effects) = run(&e, &mut s, "SORT nokey STORE d");
        assert_eq!(f, Frame::Integer(0));
        assert_eq!(fx(&effects), vec!["0 DEL d"]);
        let (_, effects) = run(&e, &mut s, "SORT nokey STORE d");
        assert!(effects.is_empty());
        // A set sorted BY nosort with STORE is sorted ALPHA.
        let t = Thresholds::default();
        let mut set = Set::new();
        for m in ["c", "a", "b"] {
            set.insert(Bytes::copy_from_slice(m.as_bytes()), &t);
        }
        put(&e, "s", Value::Set(set, crate::value::LRU_UNSET));
        assert_eq!(
            run(&e, &mut s, "SORT s BY nosort STORE d2").0,
            Frame::Integer(3)
        );
        let got = crate::digest::digest_value(&e, 0, b"d2");
        put(&e, "want", list(&["a", "b", "c"]));
        assert_eq!(got, crate::digest::digest_value(&e, 0, b"want"));
    }
}
