//! Unit tests of the sorted-set commands: replies, effects, notifications,
//! encodings and the blocking request.

use crate::command::table::{resolve, Lookup};
use crate::engine::testing::{engine, fx, notes_engine, run, unraw};
use crate::engine::{BlockRequest, Engine, Session};
use bytes::Bytes;
use keel_protocol::Frame;

fn b(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn r(e: &Engine, s: &mut Session, line: &str) -> (Frame, Vec<String>) {
    let (f, fxs) = run(e, s, line);
    (unraw(f), fx(&fxs))
}

/// Stores a plain set under `key` (the set commands live elsewhere).
fn put_set(e: &Engine, key: &str, members: &[&str]) {
    let mut set = crate::types::Set::new();
    for m in members {
        set.insert(Bytes::copy_from_slice(m.as_bytes()), &Default::default());
    }
    let mut locks = e.lock_keys(&[key.as_bytes()]);
    if let Some(shard) = locks.shard(e.shard_of(key.as_bytes())) {
        shard.dbs[0].insert(
            key.as_bytes(),
            crate::value::Entry::new(crate::value::Value::Set(set, crate::value::LRU_UNSET), 0, 0),
        );
    }
}

fn encoding(e: &Engine, s: &mut Session, key: &str) -> Frame {
    run(e, s, &format!("OBJECT ENCODING {key}")).0
}

#[test]
fn zadd_options_replies_and_effects() {
    let (e, _) = engine();
    let mut s = Session::default();
    assert_eq!(
        r(&e, &mut s, "ZADD z 1 a 2 b"),
        (Frame::Integer(2), vec!["0 ZADD z 1 a 2 b".into()])
    );
    assert_eq!(
        r(&e, &mut s, "ZADD z NX 5 a 3 c"),
        (Frame::Integer(1), vec!["0 ZADD z 3 c".into()])
    );
    assert_eq!(
        r(&e, &mut s, "ZADD z GT CH 0 a 5 b"),
        (Frame::Integer(1), vec!["0 ZADD z 5 b".into()])
    );
    assert_eq!(r(&e, &mut s, "ZADD z LT 7 b"), (Frame::Integer(0), vec![]));
    assert_eq!(
        r(&e, &mut s, "ZADD z XX 1 nope"),
        (Frame::Integer(0), vec![])
    );
    assert_eq!(
        r(&e, &mut s, "ZADD nokey XX 1 a"),
        (Frame::Integer(0), vec![])
    );
    assert_eq!(
        r(&e, &mut s, "ZADD nokey XX INCR 1 a"),
        (Frame::Null, vec![])
    );
    // ZINCRBY logs the exact resulting score.
    assert_eq!(
        r(&e, &mut s, "ZINCRBY z 0.1 a"),
        (
            Frame::Double(1.1),
            vec!["0 ZADD z 1.1000000000000001 a".into()]
        )
    );
    assert_eq!(r(&e, &mut s, "ZADD z INCR GT -1 a"), (Frame::Null, vec![]));
    assert_eq!(r(&e, &mut s, "ZADD z INCR NX 1 a"), (Frame::Null, vec![]));
    // A score that does not change logs nothing.
    assert_eq!(r(&e, &mut s, "ZADD z 3 c"), (Frame::Integer(0), vec![]));
    assert_eq!(
        r(&e, &mut s, "ZADD z inf a"),
        (Frame::Integer(0), vec!["0 ZADD z inf a".into()])
    );
    assert_eq!(
        r(&e, &mut s, "ZINCRBY z -inf a").0,
        Frame::error("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(r(&e, &mut s, "ZSCORE z a").0, Frame::Double(f64::INFINITY));
    for (line, want) in [
        (
            "ZADD z 1",
            "ERR wrong number of arguments for 'zadd' command",
        ),
        ("ZADD z 1 a 2", "ERR syntax error"),
        ("ZADD z nan a", "ERR value is not a valid float"),
        ("ZADD z 1e400 a", "ERR value is not a valid float"),
        (
            "ZADD z NX XX 1 a",
            "ERR XX and NX options at the same time are not compatible",
        ),
        (
            "ZADD z GT LT 1 a",
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            "ZADD z INCR 1 a 2 b",
            "ERR INCR option supports a single increment-element pair",
        ),
        ("ZINCRBY z x a", "ERR value is not a valid float"),
    ] {
        assert_eq!(r(&e, &mut s, line).0, Frame::error(want), "{line}");
    }
    run(&e, &mut s, "SET str v");
    assert!(
        matches!(r(&e, &mut s, "ZADD str 1 a").0, Frame::Error(m) if m.starts_with(b"WRONGTYPE"))
    );
}

#[test]
fn zrem_and_emptying_deletes_the_key() {
    let (e, _, rec) = notes_engine();
    let mut s = Session::default();
    run(&e, &mut s, "ZADD z 1 a 2 b");
    run(&e, &mut s, "ZINCRBY z 1 a");
    assert_eq!(
        r(&e, &mut s, "ZREM z a x"),
        (Frame::Integer(1), vec!["0 ZREM z a".into()])
    );
    assert_eq!(r(&e, &mut s, "ZREM z x"), (Frame::Integer(0), vec![]));
    assert_eq!(
        r(&e, &mut s, "ZREM z b a"),
        (Frame::Integer(1), vec!["0 ZREM z b".into()])
    );
    assert_eq!(
        rec.take(),
        vec![
            "0 new z",
            "0 zadd z",
            "0 zincr z",
            "0 zrem z",
            "0 zrem z",
            "0 del z"
        ]
    );
    assert_eq!(r(&e, &mut s, "EXISTS z").0, Frame::Integer(0));
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let (e, _) = engine();
    let mut s = Session::default();
    run(&e, &mut s, "ZADD z 1 a 2 b 3 c 4 d");
    let arr = |v: &[&str]| Frame::Array(v.iter().map(|x| b(x)).collect());
    assert_eq!(r(&e, &mut s, "ZRANGE z 1 -2").0, arr(&["b", "c"]));
    assert_eq!(
        r(&e, &mut s, "ZRANGE z -100 100 REV").0,
        arr(&["d", "c", "b", "a"])
    );
    assert_eq!(r(&e, &mut s, "ZREVRANGE z 0 0").0, arr(&["d"]));
    assert_eq!(r(&e, &mut s, "ZRANGE z 3 1").0, arr(&[]));
    // RESP2 sends a score as a bulk string (what Frame::Double encodes to
    // there), so the range reply comes encoded as bulks.
    assert_eq!(
        r(&e, &mut s, "ZRANGEBYSCORE z (1 +inf LIMIT 1 1 WITHSCORES").0,
        Frame::Array(vec![b("c"), b("3")])
    );
    assert_eq!(
        r(&e, &mut s, "ZREVRANGEBYSCORE z 3 -inf").0,
        arr(&["c", "b", "a"])
    );
    assert_eq!(
        r(&e, &mut s, "ZRANGE z (4 (1 BYSCORE REV").0,
        arr(&["c", "b"])
    );
    assert_eq!(
        r(&e, &mut s, "ZRANGEBYSCORE z -inf inf LIMIT -1 2").0,
        arr(&[])
    );
    assert_eq!(
        r(&e, &mut s, "ZRANGEBYSCORE z -inf inf LIMIT 2 -1").0,
        arr(&["c", "d"])
    );
    assert_eq!(r(&e, &mut s, "ZRANGEBYLEX z (a [c").0, arr(&["b", "c"]));
    assert_eq!(
        r(&e, &mut s, "ZREVRANGEBYLEX z + - LIMIT 0 2").0,
        arr(&["d", "c"])
    );
    assert_eq!(r(&e, &mut s, "ZCOUNT z (1 3").0, Frame::Integer(2));
    assert_eq!(r(&e, &mut s, "ZLEXCOUNT z - +").0, Frame::Integer(4));
    assert_eq!(r(&e, &mut s, "ZLEXCOUNT z + -").0, Frame::Integer(0));
    for (line, want) in [
        ("ZRANGEBYSCORE z a 1", "ERR min or max is not a float"),
        (
            "ZRANGEBYLEX z a b",
            "ERR min or max not valid string range item",
        ),
        (
            "ZRANGE z 0 1 LIMIT 0 1",
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ),
        (
            "ZRANGE z - + BYLEX WITHSCORES",
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ),
        ("ZRANGE z 0 1 BYSCORE BYLEX", "ERR syntax error"),
        ("ZREVRANGE z 0 1 REV", "ERR syntax error"),
        (
            "ZRANGE z a 1",
            "ERR value is not an integer or out of range",
        ),
    ] {
        assert_eq!(r(&e, &mut s, line).0, Frame::error(want), "{line}");
    }
    // RESP3: WITHSCORES gives [member, score] pairs.
    let mut s3 = Session {
        resp: 3,
        ..Session::default()
    };
    assert_eq!(
        r(&e, &mut s3, "ZRANGE z 0 0 WITHSCORES").0,
        Frame::Array(vec![Frame::Array(vec![b("a"), Frame::Double(1.0)])])
    );
}

#[test]
fn remrange_and_store_effects() {
    let (e, _) = engine();
    let mut s = Session::default();
    run(&e, &mut s, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(
        r(&e, &mut s, "ZREMRANGEBYRANK z 0 0"),
        (Frame::Integer(1), vec!["0 ZREMRANGEBYRANK z 0 0".into()])
    );
    assert_eq!(
        r(&e, &mut s, "ZREMRANGEBYSCORE z 10 20"),
        (Frame::Integer(0), vec![])
    );
    assert_eq!(r(&e, &mut s, "ZREMRANGEBYLEX z [b (d").0, Frame::Integer(2));
    assert_eq!(
        r(&e, &mut s, "ZRANGESTORE dst z 0 -1"),
        (Frame::Integer(2), vec!["0 ZRANGESTORE dst z 0 -1".into()])
    );
    assert_eq!(
        r(&e, &mut s, "ZUNIONSTORE u 2 z dst WEIGHTS 1 2"),
        (
            Frame::Integer(2),
            vec!["0 ZUNIONSTORE u 2 z dst WEIGHTS 1 2".into()]
        )
    );
    assert_eq!(r(&e, &mut s, "ZSCORE u e").0, Frame::Double(15.0));
    // An empty result deletes the destination (and logs only when it existed).
    assert_eq!(
        r(&e, &mut s, "ZINTERSTORE u 2 z nokey"),
        (Frame::Integer(0), vec!["0 ZINTERSTORE u 2 z nokey".into()])
    );
    assert_eq!(
        r(&e, &mut s, "ZINTERSTORE u 2 z nokey"),
        (Frame::Integer(0), vec![])
    );
    assert_eq!(
        r(&e, &mut s, "ZREMRANGEBYSCORE z -inf +inf"),
        (
            Frame::Integer(2),
            vec!["0 ZREMRANGEBYSCORE z -inf +inf".into()]
        )
    );
    assert_eq!(r(&e, &mut s, "EXISTS z").0, Frame::Integer(0));
    assert_eq!(
        r(&e, &mut s, "ZRANDMEMBER dst 5"),
        (Frame::Array(vec![b("e"), b("d")]), vec![])
    );
}

#[test]
fn set_operations() {
    let (e, _) = engine();
    let mut s = Session::default();
    run(&e, &mut s, "ZADD z 1 a 2 b 3 c");
    put_set(&e, "set", &["a", "x"]);
    let arr = |v: &[&str]| Frame::Array(v.iter().map(|x| b(x)).collect());
    assert_eq!(
        r(&e, &mut s, "ZUNION 2 z set").0,
        arr(&["x", "a", "b", "c"])
    );
    assert_eq!(
        r(&e, &mut s, "ZINTER 2 z set WITHSCORES AGGREGATE MAX").0,
        Frame::Array(vec![b("a"), Frame::Double(1.0)])
    );
    assert_eq!(r(&e, &mut s, "ZDIFF 2 z set").0, arr(&["b", "c"]));
    assert_eq!(r(&e, &mut s, "ZDIFF 2 z z").0, arr(&[]));
    assert_eq!(
        r(&e, &mut s, "ZINTER 2 z z WITHSCORES").0.clone(),
        Frame::Array(vec![
            b("a"),
            Frame::Double(2.0),
            b("b"),
            Frame::Double(4.0),
            b("c"),
            Frame::Double(6.0)
        ])
    );
    assert_eq!(
        r(&e, &mut s, "ZINTERCARD 2 z z LIMIT 2").0,
        Frame::Integer(2)
    );
    assert_eq!(r(&e, &mut s, "ZINTERCARD 1 z").0, Frame::Integer(3));
    // inf * 0 is NaN, which Redis turns into 0.
    run(&e, &mut s, "ZADD i inf m");
    assert_eq!(
        r(&e, &mut s, "ZUNION 1 i WEIGHTS 0 WITHSCORES").0,
        Frame::Array(vec![b("m"), Frame::Double(0.0)])
    );
    for (line, want) in [
        (
            "ZUNION 0 z",
            "ERR at least 1 input key is needed for 'zunion' command",
        ),
        (
            "ZUNIONSTORE d 0 z",
            "ERR at least 1 input key is needed for 'zunionstore' command",
        ),
        ("ZUNION 3 z", "ERR syntax error"),
        ("ZUNION 1 z WEIGHTS x", "ERR weight value is not a float"),
        ("ZUNION 1 z AGGREGATE avg", "ERR syntax error"),
        ("ZDIFF 1 z WEIGHTS 1", "ERR syntax error"),
        ("ZUNIONSTORE d 1 z WITHSCORES", "ERR syntax error"),
        ("ZINTERCARD 1 z LIMIT -1", "ERR LIMIT can't be negative"),
    ] {
        assert_eq!(r(&e, &mut s, line).0, Frame::error(want), "{line}");
    }
}

#[test]
fn pops_log_their_nonblocking_form() {
    let (e, _) = engine();
    let mut s = Session::default();
    run(&e, &mut s, "ZADD z 1 a 2 b 3 c");
    assert_eq!(
        r(&e, &mut s, "ZPOPMAX z 2"),
        (
            Frame::Array(vec![b("c"), Frame::Double(3.0), b("b"), Frame::Double(2.0)]),
            vec!["0 ZPOPMAX z 2".into()]
        )
    );
    assert_eq!(r(&e, &mut s, "ZPOPMIN z 0"), (Frame::Array(vec![]), vec![]));
    assert_eq!(
        r(&e, &mut s, "ZMPOP 2 nokey z MIN COUNT 10"),
        (
            Frame::Array(vec![
                b("z"),
                Frame::Array(vec![Frame::Array(vec![b("a"), Frame::Double(1.0)])])
            ]),
            vec!["0 ZPOPMIN z 1".into()]
        )
    );
    assert_eq!(r(&e, &mut s, "ZMPOP 1 z MIN"), (Frame::NullArray, vec![]));
    run(&e, &mut s, "ZADD y 5 m");
    assert_eq!(
        r(&e, &mut s, "BZPOPMIN nokey y 0"),
        (
            Frame::Array(vec![b("y"), b("m"), Frame::Double(5.0)]),
            vec!["0 ZPOPMIN y 1".into()]
        )
    );
    // Cannot block here (like inside MULTI): Redis's null array at once.
    assert_eq!(r(&e, &mut s, "BZPOPMAX y 0"), (Frame::NullArray, vec![]));
    assert_eq!(
        r(&e, &mut s, "BZMPOP 0 1 y MAX"),
        (Frame::NullArray, vec![])
    );
    run(&e, &mut s, "SET str v");
    assert!(
        matches!(r(&e, &mut s, "BZPOPMIN nokey str 0").0, Frame::Error(m) if m.starts_with(b"WRONGTYPE"))
    );
    assert!(
        matches!(r(&e, &mut s, "ZMPOP 2 nokey str MIN").0, Frame::Error(m) if m.starts_with(b"WRONGTYPE"))
    );
    for (line, want) in [
        (
            "ZPOPMIN z -1",
            "ERR value is out of range, must be positive",
        ),
        ("ZPOPMIN z 1 2", "ERR syntax error"),
        ("ZMPOP 0 z MIN", "ERR numkeys should be greater than 0"),
        (
            "ZMPOP 1 z MIN COUNT 0",
            "ERR count should be greater than 0",
        ),
        ("ZMPOP 1 z FOO", "ERR syntax error"),
        ("BZPOPMIN z -1", "ERR timeout is negative"),
        (
            "BZMPOP x 1 z MIN",
            "ERR timeout is not a float or out of range",
        ),
    ] {
        assert_eq!(r(&e, &mut s, line).0, Frame::error(want), "{line}");
    }
}

#[test]
fn blocking_pop_asks_to_block_when_every_key_is_empty() {
    let (e, _) = engine();
    let mut s = Session {
        may_block: true,
        ..Session::default()
    };
    let argv: Vec<Bytes> = ["BZMPOP", "1.5", "2", "a", "b", "MIN"]
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    let Lookup::Found(cmd) = resolve(&argv) else {
        panic!("bzmpop is not in the table");
    };
    let f = e.execute(&mut s, cmd, &argv);
    assert_eq!(f, Frame::NullArray);
    assert_eq!(
        s.blocked,
        Some(BlockRequest {
            db: 0,
            keys: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
            timeout_ms: 1500,
        })
    );
    // Once a key has data, the same argv serves it.
    run(&e, &mut s, "ZADD b 1 x");
    assert_eq!(
        e.execute(&mut s, cmd, &argv),
        Frame::Array(vec![
            b("b"),
            Frame::Array(vec![Frame::Array(vec![b("x"), Frame::Double(1.0)])])
        ])
    );
    assert_eq!(s.blocked, None);
}

#[test]
fn encodings_follow_the_thresholds() {
    let (e, _) = engine();
    let mut s = Session::default();
    let mut line = String::from("ZADD z");
    for i in 0..128 {
        line.push_str(&format!(" {i} m{i}"));
    }
    run(&e, &mut s, &line);
    assert_eq!(encoding(&e, &mut s, "z"), b("listpack"));
    run(&e, &mut s, "ZADD z 200 m200");
    assert_eq!(encoding(&e, &mut s, "z"), b("skiplist"));
    run(&e, &mut s, "ZREM z m200");
    assert_eq!(encoding(&e, &mut s, "z"), b("skiplist"));
    // Store results take the encoding their size calls for.
    run(&e, &mut s, "ZRANGESTORE small z 0 9");
    assert_eq!(encoding(&e, &mut s, "small"), b("listpack"));
    run(&e, &mut s, "ZUNIONSTORE copy 1 z");
    assert_eq!(encoding(&e, &mut s, "copy"), b("listpack"));
    let long = "x".repeat(65);
    run(&e, &mut s, &format!("ZADD l 1 {long}"));
    assert_eq!(encoding(&e, &mut s, "l"), b("skiplist"));
    // The skiplist agrees with the listpack on every read.
    assert_eq!(r(&e, &mut s, "ZRANK z m100").0, Frame::Integer(100));
    assert_eq!(r(&e, &mut s, "ZREVRANK z m100").0, Frame::Integer(27));
    assert_eq!(r(&e, &mut s, "ZCOUNT z 10 (20").0, Frame::Integer(10));
    assert_eq!(
        r(&e, &mut s, "ZRANGE z 5 15 BYSCORE LIMIT 2 3").0,
        Frame::Array(vec![b("m7"), b("m8"), b("m9")])
    );
}

#[test]
fn zscan_and_zrandmember() {
    let (e, _) = engine();
    let mut s = Session::default();
    run(&e, &mut s, "ZADD z 1 a 2.5 b 100000000000000000 c");
    assert_eq!(
        r(&e, &mut s, "ZSCAN z 0 MATCH [ab]").0,
        Frame::Array(vec![
            b("0"),
            Frame::Array(vec![b("a"), b("1"), b("b"), b("2.5")])
        ])
    );
    // A listpack keeps integral scores as integers and ZSCAN prints them so.
    assert_eq!(
        r(&e, &mut s, "ZSCAN z 0 MATCH c").0,
        Frame::Array(vec![
            b("0"),
            Frame::Array(vec![b("c"), b("100000000000000000")])
        ])
    );
    assert_eq!(
        r(&e, &mut s, "ZSCAN z 0 COUNT 0").0,
        Frame::error("ERR syntax error")
    );
    assert_eq!(
        r(&e, &mut s, "ZSCAN nokey 0 COUNT 0").0,
        Frame::Array(vec![b("0"), Frame::Array(vec![])])
    );
    assert_eq!(
        r(&e, &mut s, "ZSCAN z x").0,
        Frame::error("ERR invalid cursor")
    );
    let Frame::Array(v) = r(&e, &mut s, "ZRANDMEMBER z -5").0 else {
        panic!()
    };
    assert_eq!(v.len(), 5);
    let Frame::Array(v) = r(&e, &mut s, "ZRANDMEMBER z 2 WITHSCORES").0 else {
        panic!()
    };
    assert_eq!(v.len(), 4);
    assert_ne!(v[0], v[2]);
    assert_eq!(r(&e, &mut s, "ZRANDMEMBER z 0").0, Frame::Array(vec![]));
    assert_eq!(r(&e, &mut s, "ZRANDMEMBER nokey").0, Frame::Null);
    assert_eq!(
        r(&e, &mut s, "ZRANDMEMBER z 4611686018427387904 WITHSCORES").0,
        Frame::error("ERR value is out of range")
    );
}

#[test]
fn keyspace_events_of_stores_and_pops() {
    let (e, _, rec) = notes_engine();
    let mut s = Session::default();
    for line in [
        "ZADD a 1 x 2 y",
        "ZADD d 1 y",
        "ZUNIONSTORE d 1 a",
        "ZRANGESTORE r a 0 0",
        "ZPOPMIN a",
        "ZPOPMAX a 5",
        "ZINTERSTORE d 1 a",
        "ZADD z 1 a 2 b 3 c",
        "ZREMRANGEBYSCORE z 1 1",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYLEX z - +",
    ] {
        run(&e, &mut s, line);
    }
    let got: Vec<String> = rec
        .take()
        .into_iter()
        .filter(|n| !n.contains("keymiss"))
        .collect();
    assert_eq!(
        got,
        vec![
            "0 new a",
            "0 zadd a",
            "0 new d",
            "0 zadd d",
            "0 zunionstore d",
            "0 new r",
            "0 zrangestore r",
            "0 zpopmin a",
            "0 zpopmax a",
            "0 del a",
            "0 del d",
            "0 new z",
            "0 zadd z",
            "0 zremrangebyscore z",
            "0 zremrangebyrank z",
            "0 zremrangebylex z",
            "0 del z",
        ]
    );
}
