//! Unit tests of the bitmap commands: replies, errors and effects, and replay of
//! the effects rebuilding the same bytes.

use crate::engine::testing::{engine, error, fx, int, notes_engine, run, runb};
use crate::engine::{Engine, Session};
use crate::value::Value;
use bytes::Bytes;
use keel_protocol::Frame;

fn r(e: &Engine, s: &mut Session, line: &str) -> Frame {
    run(e, s, line).0
}

fn f(e: &Engine, s: &mut Session, line: &str) -> Vec<String> {
    fx(&run(e, s, line).1)
}

/// The string at `key` in db 0 and whether it is raw.
fn value(e: &Engine, key: &str) -> Option<(Vec<u8>, bool)> {
    let mut out = None;
    e.for_each_shard(|_, sh| {
        if let Some(en) = sh.dbs[0].map.get(key.as_bytes()) {
            if let Value::Str { data, form, .. } = &en.value {
                out = Some((data.to_vec(), *form == crate::value::Form::Raw));
            }
        }
    });
    out
}

/// Stores a one-element list under `key` in db 0 (the list commands live in
/// another module; only the type matters here).
fn put_list(e: &Engine, key: &str) {
    let k = Bytes::copy_from_slice(key.as_bytes());
    let shard = e.shard_of(&k);
    e.for_each_shard(|i, sh| {
        if i == shard {
            let mut l = crate::types::List::new();
            l.push_back(Bytes::from_static(b"x"));
            let entry = crate::value::Entry::new(Value::List(l, crate::value::LRU_UNSET), 0, 0);
            sh.dbs[0].insert(&k, entry);
        }
    });
}

fn is_wrongtype(f: Frame) -> bool {
    matches!(f, Frame::Error(m) if m.starts_with(b"WRONGTYPE"))
}

#[test]
fn setbit_getbit_and_effects() {
    let (e, _) = engine();
    let mut s = Session::default();
    // A new key is created zero padded, raw, and the write logged.
    assert_eq!(run(&e, &mut s, "SETBIT k 9 1").0, int(0));
    assert_eq!(value(&e, "k"), Some((vec![0, 0x40], true)));
    // Setting a bit to what it is changes nothing and logs nothing.
    assert!(f(&e, &mut s, "SETBIT k 9 1").is_empty());
    assert_eq!(r(&e, &mut s, "SETBIT k 9 1"), int(1));
    assert_eq!(f(&e, &mut s, "SETBIT k 9 0"), vec!["0 SETBIT k 9 0"]);
    // Growing with a zero bit still counts as a change.
    assert_eq!(f(&e, &mut s, "SETBIT k 40 0"), vec!["0 SETBIT k 40 0"]);
    assert_eq!(value(&e, "k").map(|v| v.0.len()), Some(6));
    assert_eq!(r(&e, &mut s, "GETBIT k 9"), int(0));
    assert_eq!(r(&e, &mut s, "GETBIT nokey 9"), int(0));
    assert_eq!(r(&e, &mut s, "GETBIT k 100000"), int(0));
    // GETBIT on an integer string reads its digits.
    r(&e, &mut s, "SET n 1");
    assert_eq!(r(&e, &mut s, "GETBIT n 2"), int(1)); // '1' = 0x31 = 00110001
    assert_eq!(r(&e, &mut s, "GETBIT n 4"), int(0));

    let off = "ERR bit offset is not an integer or out of range";
    let bit = "ERR bit is not an integer or out of range";
    assert_eq!(r(&e, &mut s, "SETBIT k -1 1"), error(off));
    assert_eq!(r(&e, &mut s, "SETBIT k 4294967296 1"), error(off));
    assert_eq!(r(&e, &mut s, "SETBIT k #1 1"), error(off));
    assert_eq!(r(&e, &mut s, "SETBIT k 1 2"), error(bit));
    assert_eq!(r(&e, &mut s, "SETBIT k 1 x"), error(bit));
    assert_eq!(r(&e, &mut s, "GETBIT k x"), error(off));
    put_list(&e, "l");
    // The offset is checked before the type.
    assert_eq!(r(&e, &mut s, "SETBIT l x 1"), error(off));
    assert!(is_wrongtype(r(&e, &mut s, "SETBIT l 1 1")));
    assert!(is_wrongtype(r(&e, &mut s, "GETBIT l 1")));
}

#[test]
fn setbit_makes_an_int_string_raw_like_redis() {
    let (e, _) = engine();
    let mut s = Session::default();
    r(&e, &mut s, "SET n 12345");
    assert!(f(&e, &mut s, "SETBIT n 0 0").is_empty());
    assert_eq!(value(&e, "n"), Some((b"12345".to_vec(), true)));
}

#[test]
fn bitcount_ranges() {
    let (e, _) = engine();
    let mut s = Session::default();
    r(&e, &mut s, "SET s foobar");
    assert_eq!(r(&e, &mut s, "BITCOUNT s"), int(26));
    assert_eq!(r(&e, &mut s, "BITCOUNT s 0 0"), int(4));
    assert_eq!(r(&e, &mut s, "BITCOUNT s 1 1"), int(6));
    assert_eq!(r(&e, &mut s, "BITCOUNT s 1 1 BYTE"), int(6));
    assert_eq!(r(&e, &mut s, "BITCOUNT s 5 30 bit"), int(17));
    assert_eq!(r(&e, &mut s, "BITCOUNT s -1 -1"), int(4));
    assert_eq!(r(&e, &mut s, "BITCOUNT s -100 100"), int(26));
    assert_eq!(r(&e, &mut s, "BITCOUNT s 3 1"), int(0));
    // Both negative and reversed: 0 before the unit is even looked at.
    assert_eq!(r(&e, &mut s, "BITCOUNT s -1 -3 foo"), int(0));
    assert_eq!(
        r(&e, &mut s, "BITCOUNT s 1 -3 foo"),
        error("ERR syntax error")
    );
    assert_eq!(r(&e, &mut s, "BITCOUNT s 0"), error("ERR syntax error"));
    assert_eq!(
        r(&e, &mut s, "BITCOUNT s 0 1 bit x"),
        error("ERR syntax error")
    );
    assert_eq!(
        r(&e, &mut s, "BITCOUNT s a 1"),
        error("ERR value is not an integer or out of range")
    );
    // A missing key answers 0 before its arguments are parsed (Redis 7.0).
    assert_eq!(r(&e, &mut s, "BITCOUNT nokey a b"), int(0));
    assert_eq!(r(&e, &mut s, "BITCOUNT nokey 0"), int(0));
}

#[test]
fn bitpos_ranges() {
    let (e, _) = engine();
    let mut s = Session::default();
    runb(&e, &s, &[b"SET", b"k", b"\xff\xf0\x00"]);
    assert_eq!(r(&e, &mut s, "BITPOS k 0"), int(12));
    assert_eq!(r(&e, &mut s, "BITPOS k 1 2"), int(-1));
    assert_eq!(r(&e, &mut s, "BITPOS k 0 2"), int(16));
    runb(&e, &s, &[b"SET", b"f", b"\xff\xff"]);
    // No clear bit: the padding after the string, unless an end was given.
    assert_eq!(r(&e, &mut s, "BITPOS f 0"), int(16));
    assert_eq!(r(&e, &mut s, "BITPOS f 0 1"), int(16));
    assert_eq!(r(&e, &mut s, "BITPOS f 0 0 -1"), int(-1));
    assert_eq!(r(&e, &mut s, "BITPOS f 0 0 -1 BIT"), int(-1));
    assert_eq!(
        r(&e, &mut s, "BITPOS f 0 3 BIT"),
        error("ERR value is not an integer or out of range")
    );
    assert_eq!(r(&e, &mut s, "BITPOS k 1 7 15 BIT"), int(7));
    assert_eq!(r(&e, &mut s, "BITPOS k 0 7 15 BIT"), int(12));
    assert_eq!(r(&e, &mut s, "BITPOS k 0 2 1"), int(-1));
    assert_eq!(r(&e, &mut s, "BITPOS nokey 0"), int(0));
    assert_eq!(r(&e, &mut s, "BITPOS nokey 1 a b c"), int(-1));
    assert_eq!(
        r(&e, &mut s, "BITPOS k 2"),
        error("ERR The bit argument must be 1 or 0.")
    );
    assert_eq!(
        r(&e, &mut s, "BITPOS k x"),
        error("ERR value is not an integer or out of range")
    );
    // The unit is checked before the end.
    assert_eq!(
        r(&e, &mut s, "BITPOS k 1 0 x foo"),
        error("ERR syntax error")
    );
    assert_eq!(
        r(&e, &mut s, "BITPOS k 1 0 1 BIT x"),
        error("ERR syntax error")
    );
}

#[test]
fn bitop_results_and_effects() {
    let (e, _) = engine();
    let mut s = Session::default();
    runb(&e, &s, &[b"SET", b"a", b"\x0f\xff\x01"]);
    runb(&e, &s, &[b"SET", b"b", b"\xf1"]);
    let (rep, fxs) = run(&e, &mut s, "BITOP AND d a b nokey");
    assert_eq!(rep, int(3));
    assert_eq!(fx(&fxs), vec!["0 BITOP AND d a b nokey"]);
    assert_eq!(value(&e, "d"), Some((vec![0, 0, 0], true)));
    r(&e, &mut s, "BITOP AND d a b");
    assert_eq!(value(&e, "d"), Some((vec![0x01, 0, 0], true)));
    r(&e, &mut s, "BITOP OR d a b");
    assert_eq!(value(&e, "d"), Some((vec![0xff, 0xff, 0x01], true)));
    r(&e, &mut s, "BITOP XOR d a b b a b");
    assert_eq!(value(&e, "d"), Some((vec![0xf1, 0, 0], true)));
    r(&e, &mut s, "BITOP NOT d a");
    assert_eq!(value(&e, "d"), Some((vec![0xf0, 0x00, 0xfe], true)));
    // The destination loses its TTL.
    r(&e, &mut s, "EXPIRE d 100");
    r(&e, &mut s, "BITOP NOT d d");
    assert_eq!(r(&e, &mut s, "TTL d"), int(-1));
    // Nothing but empty sources: the destination is deleted.
    assert_eq!(f(&e, &mut s, "BITOP OR d nokey"), vec!["0 DEL d"]);
    assert!(f(&e, &mut s, "BITOP OR d nokey").is_empty());
    assert_eq!(r(&e, &mut s, "EXISTS d"), int(0));
    assert_eq!(r(&e, &mut s, "BITOP FOO d a"), error("ERR syntax error"));
    assert_eq!(
        r(&e, &mut s, "BITOP NOT d a b"),
        error("ERR BITOP NOT must be called with a single source key.")
    );
    put_list(&e, "l");
    assert!(is_wrongtype(r(&e, &mut s, "BITOP OR d a l")));
}

#[test]
fn bitfield_ops() {
    let (e, _) = engine();
    let mut s = Session::default();
    let arr = |v: Vec<Frame>| Frame::Array(v);
    assert_eq!(
        r(
            &e,
            &mut s,
            "BITFIELD k SET u8 0 255 GET u8 0 INCRBY u8 0 10 GET i8 0"
        ),
        arr(vec![int(0), int(255), int(9), int(9)])
    );
    assert_eq!(
        r(
            &e,
            &mut s,
            "BITFIELD k OVERFLOW SAT INCRBY u8 0 300 OVERFLOW FAIL INCRBY u8 0 1 INCRBY i8 #1 -200"
        ),
        arr(vec![int(255), Frame::Null, Frame::Null])
    );
    assert_eq!(
        r(&e, &mut s, "BITFIELD k INCRBY i5 100 1 GET u4 #1 GET i64 0"),
        arr(vec![int(1), int(15), int(-72_057_594_037_927_936)])
    );
    // Only GETs: a read, on a missing key too.
    assert_eq!(r(&e, &mut s, "BITFIELD nokey GET u8 0"), arr(vec![int(0)]));
    assert_eq!(r(&e, &mut s, "BITFIELD nokey"), arr(vec![]));
    assert_eq!(r(&e, &mut s, "EXISTS nokey"), int(0));
    assert_eq!(r(&e, &mut s, "BITFIELD_RO k GET u8 0"), arr(vec![int(255)]));
    assert_eq!(
        r(&e, &mut s, "BITFIELD_RO k SET u8 0 1"),
        error("ERR BITFIELD_RO only supports the GET subcommand")
    );
    let ty = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    assert_eq!(r(&e, &mut s, "BITFIELD k GET u64 0"), error(ty));
    assert_eq!(r(&e, &mut s, "BITFIELD k GET i65 0"), error(ty));
    assert_eq!(
        r(&e, &mut s, "BITFIELD k OVERFLOW foo"),
        error("ERR Invalid OVERFLOW type specified")
    );
    assert_eq!(
        r(&e, &mut s, "BITFIELD k GET u8"),
        error("ERR syntax error")
    );
    assert_eq!(
        r(&e, &mut s, "BITFIELD k INCRBY u8 0 1 GET"),
        error("ERR syntax error")
    );
    assert_eq!(
        r(&e, &mut s, "BITFIELD k SET u8 0 x"),
        error("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r(&e, &mut s, "BITFIELD k GET u8 #-1"),
        error("ERR bit offset is not an integer or out of range")
    );
    // #n is multiplied with C's wrapping arithmetic: 2^61 * 8 is offset 0.
    assert_eq!(
        r(&e, &mut s, "BITFIELD k GET u8 #2305843009213693952"),
        arr(vec![int(255)])
    );
}

#[test]
fn bitfield_effects_and_notifications() {
    let (e, _, notes) = notes_engine();
    let mut s = Session::default();
    assert_eq!(
        f(&e, &mut s, "BITFIELD k SET u8 0 1 GET u8 0"),
        vec!["0 BITFIELD k SET u8 0 1 GET u8 0"]
    );
    assert_eq!(notes.take(), vec!["0 new k", "0 setbit k"]);
    // Writing the same value: nothing changes, nothing is logged.
    assert!(f(&e, &mut s, "BITFIELD k SET u8 0 1").is_empty());
    assert!(notes.take().is_empty());
    // A failed write that still grew the string: logged (so replay rebuilds the
    // bytes) but not announced, as Redis.
    assert_eq!(
        f(&e, &mut s, "BITFIELD k OVERFLOW FAIL INCRBY u2 100 5"),
        vec!["0 BITFIELD k OVERFLOW FAIL INCRBY u2 100 5"]
    );
    assert!(notes.take().is_empty());
    assert_eq!(value(&e, "k").map(|v| v.0.len()), Some(13));
    assert!(f(&e, &mut s, "BITFIELD k OVERFLOW FAIL INCRBY u2 100 5").is_empty());
    assert!(f(&e, &mut s, "BITFIELD_RO k GET u8 0").is_empty());
    r(&e, &mut s, "SETBIT b 3 1");
    assert_eq!(notes.take(), vec!["0 new b", "0 setbit b"]);
    r(&e, &mut s, "BITOP NOT d b");
    r(&e, &mut s, "BITOP NOT d nokey");
    assert_eq!(
        notes.take(),
        vec!["0 new d", "0 set d", "0 keymiss nokey", "0 del d"]
    );
}

/// Replaying the effects of a run of writes rebuilds the same strings.
#[test]
fn replaying_effects_rebuilds_the_bytes() {
    let (live, _) = engine();
    let (copy, _) = engine();
    let mut s = Session::default();
    let cmds = [
        "SETBIT a 7 1",
        "SETBIT a 100 0",
        "BITFIELD b OVERFLOW FAIL INCRBY i4 9 100 SET u3 #5 7",
        "BITFIELD b OVERFLOW SAT INCRBY i4 9 100 OVERFLOW WRAP INCRBY u3 #5 3",
        "BITFIELD c OVERFLOW FAIL SET i2 60 9",
        "BITOP OR d a b c",
        "BITOP XOR a a d",
        "BITOP NOT c nokey",
    ];
    for c in cmds {
        let (_, effects) = run(&live, &mut s, c);
        for eff in &effects {
            let s2 = Session {
                db: eff.db,
                ..Default::default()
            };
            copy.run_argv(&s2, &eff.argv);
        }
    }
    for k in ["a", "b", "c", "d"] {
        assert_eq!(
            value(&live, k).map(|v| v.0),
            value(&copy, k).map(|v| v.0),
            "{k}"
        );
    }
}
