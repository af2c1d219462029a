//! Unit tests of the set commands: replies, effects (and their replay),
//! notifications, encodings.

use crate::engine::testing::{engine, fx, int, notes_engine, run};
use crate::engine::{Effect, Engine, Session};
use bytes::Bytes;
use keel_protocol::Frame;
use std::collections::BTreeSet;

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
