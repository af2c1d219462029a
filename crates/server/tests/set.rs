//! Set commands through the real binary, with the `redis` crate (RESP2 and
//! RESP3). Every expected reply, error text and encoding is what Redis 7.0.15
//! answers.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::{Connection, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const POSITIVE: &str = "ERR value is out of range, must be positive";

/// The members of a reply (array or set), in reply order, as strings.
fn names(v: Value) -> Vec<String> {
    match v {
        Value::Array(a) | Value::Set(a) => a
            .into_iter()
            .map(|x| match x {
                Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk string: {other:?}"),
            })
            .collect(),
        other => panic!("not a collection: {other:?}"),
    }
}

fn sorted(line: &str, con: &mut Connection) -> Vec<String> {
    let mut m = names(v(con, line));
    m.sort();
    m
}

fn members(con: &mut Connection, key: &str) -> BTreeSet<String> {
    names(v(con, &format!("SMEMBERS {key}")))
        .into_iter()
        .collect()
}

fn enc(con: &mut Connection, key: &str) -> String {
    q(con, &format!("OBJECT ENCODING {key}"))
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// SADD of many members in one command.
fn sadd_many(con: &mut Connection, key: &str, members: impl Iterator<Item = String>) -> i64 {
    let mut cmd = redis::cmd("SADD");
    cmd.arg(key);
    for m in members {
        cmd.arg(m);
    }
    cmd.query(con).expect("SADD")
}

#[test]
fn sadd_srem_scard_sismember() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "SADD k a b c a"), 3);
    assert_eq!(i(&mut con, "SADD k a d"), 1);
    assert_eq!(i(&mut con, "SCARD k"), 4);
    assert_eq!(i(&mut con, "SCARD none"), 0);
    assert_eq!(i(&mut con, "SISMEMBER k a"), 1);
    assert_eq!(i(&mut con, "SISMEMBER k z"), 0);
    assert_eq!(i(&mut con, "SISMEMBER none a"), 0);
    assert_eq!(
        v(&mut con, "SMISMEMBER k a z d"),
        Value::Array(vec![Value::Int(1), Value::Int(0), Value::Int(1)])
    );
    assert_eq!(
        v(&mut con, "SMISMEMBER none a b"),
        Value::Array(vec![Value::Int(0), Value::Int(0)])
    );
    assert_eq!(i(&mut con, "SREM k a z"), 1);
    assert_eq!(i(&mut con, "SREM none a"), 0);
    // Emptying the set deletes the key.
    assert_eq!(i(&mut con, "SREM k b c d d"), 3);
    assert_eq!(i(&mut con, "EXISTS k"), 0);

    // Wrong types and arity.
    q::<()>(&mut con, "SET str v");
    for line in [
        "SADD str a",
        "SREM str a",
        "SCARD str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SMEMBERS str",
        "SPOP str",
        "SPOP str 0",
        "SRANDMEMBER str",
        "SRANDMEMBER str 0",
        "SINTER str",
        "SINTERCARD 1 str",
        "SUNION str",
        "SDIFF str",
        "SINTERSTORE d str",
        "SUNIONSTORE d str",
        "SDIFFSTORE d str",
        "SSCAN str 0",
        "SMOVE str d a",
    ] {
        assert_eq!(e(&mut con, line), WRONGTYPE, "{line}");
    }
    for (line, name) in [
        ("SADD k", "sadd"),
        ("SREM k", "srem"),
        ("SCARD", "scard"),
        ("SCARD a b", "scard"),
        ("SISMEMBER k", "sismember"),
        ("SISMEMBER k a b", "sismember"),
        ("SMISMEMBER k", "smismember"),
        ("SMEMBERS", "smembers"),
        ("SMEMBERS a b", "smembers"),
        ("SPOP", "spop"),
        ("SRANDMEMBER", "srandmember"),
        ("SMOVE a b", "smove"),
        ("SMOVE a b c d", "smove"),
        ("SINTER", "sinter"),
        ("SINTERCARD 1", "sintercard"),
        ("SINTERSTORE d", "sinterstore"),
        ("SUNION", "sunion"),
        ("SUNIONSTORE d", "sunionstore"),
        ("SDIFF", "sdiff"),
        ("SDIFFSTORE d", "sdiffstore"),
        ("SSCAN k", "sscan"),
    ] {
        assert_eq!(e(&mut con, line), arity(name), "{line}");
    }
}

#[test]
fn binary_safe_members() {
    let s = TestServer::start();
    let mut con = s.conn();
    let odd: [&[u8]; 5] = [b"", b"\0", b"a\r\nb", &[0xff, 0x00, 0xfe], b" 1"];
    for m in odd {
        assert_eq!(cb(&[b"SADD", b"k", m]).query::<i64>(&mut con).unwrap(), 1);
    }
    for m in odd {
        assert_eq!(
            cb(&[b"SISMEMBER", b"k", m]).query::<i64>(&mut con).unwrap(),
            1
        );
    }
    let Value::Array(all) = v(&mut con, "SMEMBERS k") else {
        panic!()
    };
    let got: BTreeSet<Vec<u8>> = all
        .into_iter()
        .map(|x| match x {
            Value::BulkString(b) => b,
            other => panic!("{other:?}"),
        })
        .collect();
    let want: BTreeSet<Vec<u8>> = odd.iter().map(|m| m.to_vec()).collect();
    assert_eq!(got, want);
    // Long members (past the table's inline size) too.
    let long = vec![b'x'; 10_000];
    assert_eq!(
        cb(&[b"SADD", b"k", &long]).query::<i64>(&mut con).unwrap(),
        1
    );
    assert_eq!(
        cb(&[b"SREM", b"k", &long]).query::<i64>(&mut con).unwrap(),
        1
    );
    assert_eq!(cb(&[b"SREM", b"k", b""]).query::<i64>(&mut con).unwrap(), 1);
    assert_eq!(i(&mut con, "SCARD k"), 4);
}

#[test]
fn encodings_and_thresholds() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "SADD k 1 2 3"), 3);
    assert_eq!(enc(&mut con, "k"), "intset");
    // Wider integers keep the intset (it upgrades its width).
    assert_eq!(
        i(
            &mut con,
            "SADD k 70000 -9223372036854775808 9223372036854775807"
        ),
        3
    );
    assert_eq!(enc(&mut con, "k"), "intset");
    // Not integers to Redis: a table.
    for m in ["01", "+1", "-0", "1.0", "9223372036854775808", "x"] {
        q::<()>(&mut con, "DEL j");
        assert_eq!(i(&mut con, "SADD j 5"), 1);
        assert_eq!(i(&mut con, &format!("SADD j {m}")), 1);
        assert_eq!(enc(&mut con, "j"), "hashtable", "{m}");
    }
    // 512 integers fit; the 513th converts; removing never converts back.
    q::<()>(&mut con, "DEL k");
    assert_eq!(
        sadd_many(&mut con, "k", (0..512).map(|i| i.to_string())),
        512
    );
    assert_eq!(enc(&mut con, "k"), "intset");
    assert_eq!(i(&mut con, "SADD k 512"), 1);
    assert_eq!(enc(&mut con, "k"), "hashtable");
    assert_eq!(i(&mut con, "SREM k 512 511 510"), 3);
    assert_eq!(enc(&mut con, "k"), "hashtable");
    assert_eq!(i(&mut con, "SCARD k"), 510);

    // After CONFIG SET, the next insert uses the new limit.
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 4");
    assert_eq!(i(&mut con, "SADD small 1 2 3 4"), 4);
    assert_eq!(enc(&mut con, "small"), "intset");
    assert_eq!(i(&mut con, "SADD small 5"), 1);
    assert_eq!(enc(&mut con, "small"), "hashtable");
    // An existing intset past the new limit converts on its next insert.
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 512");
    assert_eq!(i(&mut con, "SADD big 1 2 3 4 5 6"), 6);
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 3");
    assert_eq!(enc(&mut con, "big"), "intset");
    assert_eq!(i(&mut con, "SADD big 6"), 0);
    assert_eq!(enc(&mut con, "big"), "intset");
    assert_eq!(i(&mut con, "SADD big 7"), 1);
    assert_eq!(enc(&mut con, "big"), "hashtable");
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 0");
    assert_eq!(i(&mut con, "SADD zero 1"), 1);
    assert_eq!(enc(&mut con, "zero"), "hashtable");
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 512");

    // *STORE results are built as new sets: integers give an intset even from
    // tables.
    q::<()>(&mut con, "FLUSHALL");
    assert_eq!(i(&mut con, "SADD a 1 2 3 x"), 4);
    assert_eq!(i(&mut con, "SADD b 2 3 4 x"), 4);
    assert_eq!(i(&mut con, "SINTERSTORE d a b"), 3);
    assert_eq!(enc(&mut con, "d"), "hashtable");
    assert_eq!(i(&mut con, "SDIFFSTORE d a b"), 1);
    assert_eq!(enc(&mut con, "d"), "intset");
    assert_eq!(i(&mut con, "SREM a x"), 1);
    assert_eq!(i(&mut con, "SREM b x"), 1);
    assert_eq!(i(&mut con, "SUNIONSTORE d a b"), 4);
    assert_eq!(enc(&mut con, "d"), "intset");
    assert_eq!(i(&mut con, "SINTERSTORE d a b"), 2);
    assert_eq!(enc(&mut con, "d"), "intset");
    // SDIFF's second algorithm copies the whole first set, then removes.
    assert_eq!(i(&mut con, "SADD p 1 2 3 4 5 6 7 8 9 10 x"), 11);
    assert_eq!(i(&mut con, "SADD q x"), 1);
    assert_eq!(i(&mut con, "SADD r x"), 1);
    assert_eq!(i(&mut con, "SDIFFSTORE d p q"), 10);
    assert_eq!(enc(&mut con, "d"), "intset");
    assert_eq!(i(&mut con, "SDIFFSTORE d p q r"), 10);
    assert_eq!(enc(&mut con, "d"), "hashtable");
    // SMOVE into a new key: created for the member.
    assert_eq!(i(&mut con, "SMOVE p m1 5"), 1);
    assert_eq!(enc(&mut con, "m1"), "intset");
    assert_eq!(i(&mut con, "SMOVE p m2 x"), 1);
    assert_eq!(enc(&mut con, "m2"), "hashtable");
}

#[test]
fn set_algebra() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "SADD a 1 2 3 4 x y"), 6);
    assert_eq!(i(&mut con, "SADD b 2 3 4 5 y z"), 6);
    assert_eq!(i(&mut con, "SADD c 3 4 y q"), 4);
    assert_eq!(sorted("SINTER a b c", &mut con), strs(&["3", "4", "y"]));
    assert_eq!(
        sorted("SINTER a", &mut con),
        strs(&["1", "2", "3", "4", "x", "y"])
    );
    assert_eq!(
        sorted("SINTER a a", &mut con),
        strs(&["1", "2", "3", "4", "x", "y"])
    );
    assert_eq!(sorted("SINTER a none", &mut con), strs(&[]));
    assert_eq!(
        sorted("SUNION a b c none", &mut con),
        strs(&["1", "2", "3", "4", "5", "q", "x", "y", "z"])
    );
    assert_eq!(sorted("SDIFF a b c", &mut con), strs(&["1", "x"]));
    assert_eq!(sorted("SDIFF a none b", &mut con), strs(&["1", "x"]));
    assert_eq!(sorted("SDIFF none a", &mut con), strs(&[]));
    assert_eq!(sorted("SDIFF a a", &mut con), strs(&[]));
    // Intset results and intset smallest sets answer in sorted order.
    assert_eq!(i(&mut con, "SADD i 9 4 3 1"), 4);
    assert_eq!(names(v(&mut con, "SINTER a i")), strs(&["1", "3", "4"]));
    assert_eq!(names(v(&mut con, "SDIFF a c")), strs(&["1", "2", "x"]));
    assert_eq!(
        names(v(&mut con, "SUNION i i")),
        strs(&["1", "3", "4", "9"])
    );
    assert_eq!(
        names(v(&mut con, "SMEMBERS i")),
        strs(&["1", "3", "4", "9"])
    );

    // SINTERCARD and LIMIT.
    assert_eq!(i(&mut con, "SINTERCARD 3 a b c"), 3);
    assert_eq!(i(&mut con, "SINTERCARD 3 a b c LIMIT 2"), 2);
    assert_eq!(i(&mut con, "SINTERCARD 3 a b c limit 0"), 3);
    assert_eq!(i(&mut con, "SINTERCARD 3 a b c LIMIT 100"), 3);
    assert_eq!(i(&mut con, "SINTERCARD 1 a LIMIT 1 LIMIT 5"), 5);
    assert_eq!(i(&mut con, "SINTERCARD 2 a none"), 0);
    assert_eq!(
        e(&mut con, "SINTERCARD 0 a"),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        e(&mut con, "SINTERCARD -1 a"),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        e(&mut con, "SINTERCARD x a"),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        e(&mut con, "SINTERCARD 3 a b"),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(e(&mut con, "SINTERCARD 1 a LIMIT"), SYNTAX);
    assert_eq!(e(&mut con, "SINTERCARD 1 a FOO 1"), SYNTAX);
    assert_eq!(
        e(&mut con, "SINTERCARD 1 a LIMIT -1"),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(
        e(&mut con, "SINTERCARD 1 a LIMIT x"),
        "ERR LIMIT can't be negative"
    );
    // WRONGTYPE wins over a missing key, wherever it is.
    q::<()>(&mut con, "SET str v");
    assert_eq!(e(&mut con, "SINTER none str"), WRONGTYPE);
    assert_eq!(e(&mut con, "SINTERCARD 2 none str"), WRONGTYPE);
    assert_eq!(e(&mut con, "SDIFF none str"), WRONGTYPE);

    // STORE forms: size replies, destinations replaced (TTL cleared), an empty
    // result deletes the destination whatever it held.
    assert_eq!(i(&mut con, "SINTERSTORE d a b c"), 3);
    assert_eq!(
        members(&mut con, "d"),
        ["3", "4", "y"].iter().map(|s| s.to_string()).collect()
    );
    q::<()>(&mut con, "EXPIRE d 100");
    assert_eq!(i(&mut con, "SUNIONSTORE d a b"), 8);
    assert_eq!(i(&mut con, "TTL d"), -1);
    assert_eq!(i(&mut con, "SDIFFSTORE d a b"), 2);
    assert_eq!(
        members(&mut con, "d"),
        ["1", "x"].iter().map(|s| s.to_string()).collect()
    );
    assert_eq!(i(&mut con, "SINTERSTORE d a none"), 0);
    assert_eq!(i(&mut con, "EXISTS d"), 0);
    assert_eq!(i(&mut con, "SDIFFSTORE str a a"), 0);
    assert_eq!(i(&mut con, "EXISTS str"), 0);
    q::<()>(&mut con, "SET str v");
    assert_eq!(i(&mut con, "SUNIONSTORE str a"), 6);
    assert_eq!(q::<String>(&mut con, "TYPE str"), "set");
    q::<()>(&mut con, "SET str2 v");
    assert_eq!(e(&mut con, "SUNIONSTORE d a nokey str2"), WRONGTYPE);
    // The destination may be a source.
    assert_eq!(i(&mut con, "SINTERSTORE a a b"), 4);
    assert_eq!(
        members(&mut con, "a"),
        ["2", "3", "4", "y"].iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn resp3_reply_shapes() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    assert_eq!(i(&mut con, "SADD k 1 2 3"), 3);
    assert_eq!(i(&mut con, "SADD h a b"), 2);
    for line in [
        "SMEMBERS k",
        "SINTER k",
        "SUNION k h",
        "SDIFF k h",
        "SMEMBERS none",
        "SINTER k none",
        "SPOP none 2",
        "SPOP k 0",
    ] {
        assert!(matches!(v(&mut con, line), Value::Set(_)), "{line}");
    }
    // SRANDMEMBER with a count is an array (it may repeat), even for the whole set.
    for line in [
        "SRANDMEMBER k 2",
        "SRANDMEMBER k 10",
        "SRANDMEMBER k -10",
        "SRANDMEMBER none 3",
        "SMISMEMBER k 1",
    ] {
        assert!(matches!(v(&mut con, line), Value::Array(_)), "{line}");
    }
    assert_eq!(v(&mut con, "SPOP none"), Value::Nil);
    assert_eq!(v(&mut con, "SRANDMEMBER none"), Value::Nil);
    assert!(matches!(v(&mut con, "SPOP k 1"), Value::Set(v) if v.len() == 1));
    assert!(matches!(v(&mut con, "SPOP k 5"), Value::Set(v) if v.len() == 2));
    assert_eq!(i(&mut con, "EXISTS k"), 0);
    let Value::Array(scan) = v(&mut con, "SSCAN h 0") else {
        panic!()
    };
    assert_eq!(scan[0], Value::BulkString(b"0".to_vec()));
    assert!(matches!(&scan[1], Value::Array(a) if a.len() == 2));

    // RESP2: all arrays, nil bulk for a missing single pop.
    let mut con2 = s.conn();
    assert!(matches!(v(&mut con2, "SMEMBERS h"), Value::Array(_)));
    assert!(matches!(v(&mut con2, "SPOP none 1"), Value::Array(a) if a.is_empty()));
    assert_eq!(v(&mut con2, "SPOP none"), Value::Nil);
}

#[test]
fn spop_and_srandmember() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SPOP none"), Value::Nil);
    assert_eq!(v(&mut con, "SRANDMEMBER none"), Value::Nil);
    assert_eq!(names(v(&mut con, "SPOP none 3")), strs(&[]));
    assert_eq!(names(v(&mut con, "SRANDMEMBER none 3")), strs(&[]));
    assert_eq!(names(v(&mut con, "SRANDMEMBER none -3")), strs(&[]));
    for (line, want) in [
        ("SPOP k x", POSITIVE),
        ("SPOP k -1", POSITIVE),
        ("SPOP k 1.5", POSITIVE),
        ("SPOP none 99999999999999999999", POSITIVE),
        ("SPOP k 1 2", SYNTAX),
        ("SRANDMEMBER k 1 2", SYNTAX),
        ("SRANDMEMBER k x", NOT_INT),
        (
            "SRANDMEMBER k -9223372036854775808",
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ),
    ] {
        assert_eq!(e(&mut con, line), want, "{line}");
    }

    for key_kind in ["ints", "strs"] {
        let key = key_kind;
        let all: BTreeSet<String> = (0..20)
            .map(|i| {
                if key == "ints" {
                    i.to_string()
                } else {
                    format!("m{i}")
                }
            })
            .collect();
        sadd_many(&mut con, key, all.iter().cloned());
        // SRANDMEMBER: distinct members for a positive count, the whole set past
        // the size, repeats for a negative count; nothing changes.
        for n in [1, 3, 15, 19] {
            let got = names(v(&mut con, &format!("SRANDMEMBER {key} {n}")));
            let uniq: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!((got.len(), uniq.len()), (n, n));
            assert!(uniq.is_subset(&all));
        }
        let got = names(v(&mut con, &format!("SRANDMEMBER {key} 50")));
        assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), all);
        assert_eq!(got.len(), 20);
        let got = names(v(&mut con, &format!("SRANDMEMBER {key} -200")));
        assert_eq!(got.len(), 200);
        assert!(got.iter().all(|m| all.contains(m)));
        assert!(got.iter().collect::<BTreeSet<_>>().len() < 200);
        let one: String = q(&mut con, &format!("SRANDMEMBER {key}"));
        assert!(all.contains(&one));
        assert_eq!(i(&mut con, &format!("SCARD {key}")), 20);

        // SPOP: popped members leave the set.
        let mut left = all.clone();
        let one: String = q(&mut con, &format!("SPOP {key}"));
        assert!(left.remove(&one));
        for n in [2, 14] {
            let got = names(v(&mut con, &format!("SPOP {key} {n}")));
            assert_eq!(got.len(), n);
            for m in &got {
                assert!(left.remove(m), "{m} popped twice or never there");
            }
            assert_eq!(members(&mut con, key), left);
        }
        let got = names(v(&mut con, &format!("SPOP {key} 100")));
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), left);
        assert_eq!(i(&mut con, &format!("EXISTS {key}")), 0);
    }

    // Uniform picks: 6000 picks of 6 members, each about 1000 times.
    sadd_many(&mut con, "u", (0..6).map(|i| format!("u{i}")));
    let mut counts: BTreeMap<String, i32> = BTreeMap::new();
    for m in names(v(&mut con, "SRANDMEMBER u -6000")) {
        *counts.entry(m).or_default() += 1;
    }
    assert_eq!(counts.len(), 6);
    assert!(
        counts.values().all(|&c| (700..1300).contains(&c)),
        "{counts:?}"
    );
    let mut counts: BTreeMap<String, i32> = BTreeMap::new();
    for _ in 0..3000 {
        let m: String = q(&mut con, "SPOP u");
        *counts.entry(m.clone()).or_default() += 1;
        assert_eq!(i(&mut con, &format!("SADD u {m}")), 1);
    }
    assert!(
        counts.values().all(|&c| (300..700).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn smove() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "SADD a 1 2"), 2);
    assert_eq!(i(&mut con, "SMOVE none a 1"), 0);
    assert_eq!(i(&mut con, "SMOVE a b 9"), 0);
    assert_eq!(i(&mut con, "EXISTS b"), 0);
    assert_eq!(i(&mut con, "SMOVE a a 1"), 1);
    assert_eq!(i(&mut con, "SMOVE a a 9"), 0);
    assert_eq!(i(&mut con, "SMOVE a b 1"), 1);
    assert_eq!(members(&mut con, "b"), BTreeSet::from(["1".to_string()]));
    q::<()>(&mut con, "SET str v");
    assert_eq!(e(&mut con, "SMOVE a str 2"), WRONGTYPE);
    assert_eq!(e(&mut con, "SMOVE str a 2"), WRONGTYPE);
    assert_eq!(i(&mut con, "SMOVE none str 2"), 0);
    assert_eq!(i(&mut con, "SADD b 2"), 1);
    // Already in the destination: still leaves the source, which empties.
    assert_eq!(i(&mut con, "SMOVE a b 2"), 1);
    assert_eq!(i(&mut con, "EXISTS a"), 0);
    assert_eq!(i(&mut con, "SCARD b"), 2);
}

fn scan_all(con: &mut Connection, key: &str, extra: &str) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        let (next, found): (String, Vec<String>) = q(con, &format!("SSCAN {key} {cursor}{extra}"));
        seen.extend(found);
        calls += 1;
        if next == "0" {
            return (seen, calls);
        }
        cursor = next;
    }
}

#[test]
fn sscan() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "SADD i 10 2 1 3"), 4);
    // An intset comes whole, sorted, with cursor 0, whatever the cursor and COUNT.
    let (c, found): (String, Vec<String>) = q(&mut con, "SSCAN i 0 COUNT 1");
    assert_eq!((c.as_str(), found), ("0", strs(&["1", "2", "3", "10"])));
    let (c, found): (String, Vec<String>) = q(&mut con, "SSCAN i 123 MATCH 1*");
    assert_eq!((c.as_str(), found), ("0", strs(&["1", "10"])));
    let (c, found): (String, Vec<String>) = q(&mut con, "SSCAN none 0");
    assert_eq!((c.as_str(), found.len()), ("0", 0));
    assert_eq!(e(&mut con, "SSCAN i x"), "ERR invalid cursor");
    assert_eq!(e(&mut con, "SSCAN i 0 COUNT 0"), SYNTAX);
    assert_eq!(e(&mut con, "SSCAN i 0 COUNT x"), NOT_INT);
    assert_eq!(e(&mut con, "SSCAN i 0 MATCH"), SYNTAX);
    assert_eq!(e(&mut con, "SSCAN i 0 TYPE set"), SYNTAX);
    q::<()>(&mut con, "SET str v");
    assert_eq!(e(&mut con, "SSCAN str x"), "ERR invalid cursor");

    // A table: every member once when nothing changes, in several calls.
    let all: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    sadd_many(&mut con, "t", all.iter().cloned());
    let (mut seen, calls) = scan_all(&mut con, "t", "");
    assert!(calls > 50, "{calls}");
    seen.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(seen, want);
    let (seen, calls) = scan_all(&mut con, "t", " COUNT 100 MATCH member:1?");
    assert!(calls >= 10);
    assert_eq!(seen.len(), 10);
    // Members added and removed between calls: the ones there all along are
    // returned.
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    let mut removed = BTreeSet::new();
    let mut step = 0;
    loop {
        let (next, found): (String, Vec<String>) =
            q(&mut con, &format!("SSCAN t {cursor} COUNT 20"));
        seen.extend(found);
        step += 1;
        let gone = format!("member:{}", (step * 37) % 1000);
        q::<i64>(&mut con, &format!("SREM t {gone}"));
        removed.insert(gone);
        q::<i64>(&mut con, &format!("SADD t extra:{step}"));
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for m in &all {
        assert!(
            removed.contains(m) || seen.contains(m),
            "{m} never returned"
        );
    }
}

#[test]
fn huge_sets() {
    let s = TestServer::start();
    let mut con = s.conn();
    let n = 200_000;
    for chunk in 0..(n / 10_000) {
        sadd_many(
            &mut con,
            "big",
            (chunk * 10_000..(chunk + 1) * 10_000).map(|i| format!("member:{i}")),
        );
    }
    sadd_many(
        &mut con,
        "small",
        (0..1000).map(|i| format!("member:{}", i * 300)),
    );
    assert_eq!(i(&mut con, "SCARD big"), n as i64);
    assert_eq!(enc(&mut con, "big"), "hashtable");
    assert_eq!(i(&mut con, "SINTERCARD 2 big small"), 667);
    assert_eq!(i(&mut con, "SINTERCARD 2 small big LIMIT 10"), 10);
    assert_eq!(i(&mut con, "SDIFFSTORE d small big"), 333);
    assert_eq!(i(&mut con, "SUNIONSTORE u big small"), n as i64 + 333);
    assert_eq!(names(v(&mut con, "SRANDMEMBER big -1000")).len(), 1000);
    assert_eq!(names(v(&mut con, "SRANDMEMBER big 1000")).len(), 1000);
    // Pop most of it (the rebuild path) and check what is left is consistent.
    let popped = names(v(&mut con, "SPOP big 190000"));
    assert_eq!(popped.len(), 190_000);
    assert_eq!(i(&mut con, "SCARD big"), 10_000);
    let left = members(&mut con, "big");
    assert_eq!(left.len(), 10_000);
    assert!(popped.iter().all(|m| !left.contains(m)));
    // A large intset via the config limit.
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 100000");
    for chunk in 0..10 {
        sadd_many(
            &mut con,
            "ints",
            (chunk * 10_000..(chunk + 1) * 10_000).map(|i| (i * 7 - 300_000).to_string()),
        );
    }
    assert_eq!(enc(&mut con, "ints"), "intset");
    assert_eq!(i(&mut con, "SISMEMBER ints -300000"), 1);
    assert_eq!(i(&mut con, "SISMEMBER ints 392993"), 1);
    assert_eq!(i(&mut con, "SISMEMBER ints 392994"), 0);
    assert_eq!(i(&mut con, "SADD ints 1"), 1);
    assert_eq!(enc(&mut con, "ints"), "hashtable");
    q::<()>(&mut con, "CONFIG SET set-max-intset-entries 512");
}

/// Keyspace events, as Redis 7.0.15 sends them.
#[test]
fn keyspace_events() {
    let s = TestServer::start();
    let mut con = s.conn();
    q::<()>(&mut con, "CONFIG SET notify-keyspace-events E$sg");
    let mut sub = s.conn();
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    redis::cmd("PSUBSCRIBE")
        .arg("__keyevent@0__:*")
        .exec(&mut sub)
        .unwrap();
    let lines = [
        "SADD a 1 2 3",
        "SADD a 1",
        "SREM a 9",
        "SREM a 1",
        "SADD p x",
        "SPOP p",
        "SMOVE a b 3",
        "SMOVE a b 2",
        "SMOVE a b 2",
        "SADD c x y",
        "SPOP c 5",
        "SPOP c 0",
        "SADD a 2 3",
        "SINTERSTORE d a b",
        "SUNIONSTORE d a b",
        "SDIFFSTORE d a a",
        "SDIFFSTORE d a b",
        "SINTERSTORE d a none",
    ];
    for l in lines {
        let _: Value = q(&mut con, l);
    }
    let _: i64 = q(&mut con, "PUBLISH __keyevent@0__:end x");
    let mut got = Vec::new();
    loop {
        let msg = redis::Msg::from_value(&sub.recv_response().unwrap()).unwrap();
        let chan = msg.get_channel_name().to_string();
        if chan.ends_with(":end") {
            break;
        }
        let key: String = msg.get_payload().unwrap();
        got.push(format!(
            "{} {key}",
            chan.trim_start_matches("__keyevent@0__:")
        ));
    }
    let want = [
        "sadd a",
        "srem a",
        "sadd p",
        "spop p",
        "del p",
        "srem a",
        "sadd b",
        "srem a",
        "del a",
        "sadd b",
        "sadd c",
        "spop c",
        "del c",
        "sadd a",
        "sinterstore d",
        "sunionstore d",
        "del d",
    ];
    assert_eq!(got, want);
}

/// Everything the set commands log replays to the same dataset after a restart.
#[test]
fn restart_replays_the_log() {
    let mut s = TestServer::start();
    let mut con = s.conn();
    let lines = [
        "SADD a 1 2 3 4 5 6 7 8 9 10",
        "SADD b x y z 1 2",
        "SADD c 5 6 7 w",
        "SPOP a",
        "SPOP a 3",
        "SPOP b 4",
        "SREM c w",
        "SMOVE a b 7",
        "SMOVE c a 5",
        "SINTERSTORE i a b c",
        "SUNIONSTORE u a b c",
        "SDIFFSTORE d a b c",
        "SDIFFSTORE e a a",
        "SPOP c 100",
        "SADD ttl 1 2 3",
        "EXPIRE ttl 1000",
        "SPOP ttl 2",
    ];
    for l in lines {
        let _: Value = q(&mut con, l);
    }
    sadd_many(&mut con, "big", (0..5000).map(|i| format!("m{i}")));
    let _: Value = q(&mut con, "SPOP big 4900");
    let _: Value = q(&mut con, "SPOP big 10");
    let before: String = q(&mut con, "DEBUG DIGEST");
    s.keep_dir();
    assert!(s.terminate().success());
    let s2 = TestServer::start_in(&s.dir.clone(), &[]);
    let mut con = s2.conn();
    assert!(wait_for(Duration::from_secs(30), || {
        info_field(&mut con, "persistence", "loading").as_deref() == Some("0")
    }));
    let after: String = q(&mut con, "DEBUG DIGEST");
    assert_eq!(after, before);
    assert_eq!(i(&mut con, "SCARD big"), 90);
    assert!(i(&mut con, "TTL ttl") > 900);
}
