//! Hash commands through the real binary, with the `redis` crate (RESP2 and
//! RESP3). Every expected reply and error text is what Redis 7.0.15 answers.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::Value;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";

fn b(s: &str) -> Value {
    bulk(s.as_bytes())
}

fn arr(v: Vec<Value>) -> Value {
    Value::Array(v)
}

fn encoding(con: &mut redis::Connection, key: &str) -> String {
    q(con, &format!("OBJECT ENCODING {key}"))
}

/// `HSET key f0 v f1 v ...` with `n` fields.
fn fill(con: &mut redis::Connection, key: &str, n: usize, value: &str) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(key);
        for i in chunk {
            cmd.arg(format!("f{i}")).arg(value);
        }
        let _: i64 = cmd.query(con).unwrap();
    }
}

#[test]
fn set_get_and_reads() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "HSET h a 1 b 2"), 2);
    assert_eq!(i(&mut con, "HSET h a 10 c 3"), 1);
    assert_eq!(v(&mut con, "HMSET h d 4"), Value::Okay);
    assert_eq!(i(&mut con, "HSETNX h a 99"), 0);
    assert_eq!(i(&mut con, "HSETNX h e 5"), 1);
    assert_eq!(v(&mut con, "HGET h a"), b("10"));
    assert_eq!(v(&mut con, "HGET h zz"), Value::Nil);
    assert_eq!(v(&mut con, "HGET nokey a"), Value::Nil);
    assert_eq!(
        v(&mut con, "HMGET h a zz e"),
        arr(vec![b("10"), Value::Nil, b("5")])
    );
    assert_eq!(
        v(&mut con, "HMGET nokey a b"),
        arr(vec![Value::Nil, Value::Nil])
    );
    assert_eq!(i(&mut con, "HLEN h"), 5);
    assert_eq!(i(&mut con, "HLEN nokey"), 0);
    assert_eq!(i(&mut con, "HSTRLEN h a"), 2);
    assert_eq!(i(&mut con, "HSTRLEN h zz"), 0);
    assert_eq!(i(&mut con, "HSTRLEN nokey zz"), 0);
    assert_eq!(i(&mut con, "HEXISTS h a"), 1);
    assert_eq!(i(&mut con, "HEXISTS h zz"), 0);
    assert_eq!(i(&mut con, "HEXISTS nokey a"), 0);
    // A listpack answers in insertion order; an update keeps its place.
    assert_eq!(
        v(&mut con, "HKEYS h"),
        arr(vec![b("a"), b("b"), b("c"), b("d"), b("e")])
    );
    assert_eq!(
        v(&mut con, "HVALS h"),
        arr(vec![b("10"), b("2"), b("3"), b("4"), b("5")])
    );
    assert_eq!(
        v(&mut con, "HGETALL h"),
        arr(vec![
            b("a"),
            b("10"),
            b("b"),
            b("2"),
            b("c"),
            b("3"),
            b("d"),
            b("4"),
            b("e"),
            b("5")
        ])
    );
    assert_eq!(v(&mut con, "HKEYS nokey"), arr(vec![]));
    assert_eq!(v(&mut con, "HVALS nokey"), arr(vec![]));
    assert_eq!(v(&mut con, "HGETALL nokey"), arr(vec![]));
    assert_eq!(q::<String>(&mut con, "TYPE h"), "hash");
}

#[test]
fn hdel_empties_and_deletes() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "HDEL nokey a"), 0);
    i(&mut con, "HSET h a 1 b 2 c 3");
    assert_eq!(i(&mut con, "HDEL h a a zz"), 1);
    assert_eq!(i(&mut con, "HDEL h zz"), 0);
    assert_eq!(i(&mut con, "HDEL h b c"), 2);
    assert_eq!(i(&mut con, "EXISTS h"), 0);
    // The same for a table.
    fill(&mut con, "t", 600, "v");
    assert_eq!(encoding(&mut con, "t"), "hashtable");
    for chunk in (0..600).collect::<Vec<_>>().chunks(100) {
        let mut cmd = redis::cmd("HDEL");
        cmd.arg("t");
        for i in chunk {
            cmd.arg(format!("f{i}"));
        }
        let n: i64 = cmd.query(&mut con).unwrap();
        assert_eq!(n, 100);
    }
    assert_eq!(i(&mut con, "EXISTS t"), 0);
}

#[test]
fn wrong_type_and_arity() {
    let s = TestServer::start();
    let mut con = s.conn();
    v(&mut con, "SET str x");
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
        "HRANDFIELD str 1",
        "HRANDFIELD str 1 WITHVALUES",
        "HSCAN str 0",
        "HSCAN str 0 TYPE string",
    ] {
        assert_eq!(e(&mut con, line), WRONGTYPE, "{line}");
    }
    for (line, name) in [
        ("HSET h", "hset"),
        ("HSET h a", "hset"),
        ("HSET h a 1 b", "hset"),
        ("HMSET h a", "hmset"),
        ("HMSET h a 1 b", "hmset"),
        ("HSETNX h a", "hsetnx"),
        ("HGET h", "hget"),
        ("HMGET h", "hmget"),
        ("HDEL h", "hdel"),
        ("HLEN", "hlen"),
        ("HSTRLEN h", "hstrlen"),
        ("HEXISTS h", "hexists"),
        ("HKEYS", "hkeys"),
        ("HVALS", "hvals"),
        ("HGETALL", "hgetall"),
        ("HINCRBY h a", "hincrby"),
        ("HINCRBYFLOAT h a", "hincrbyfloat"),
        ("HRANDFIELD", "hrandfield"),
        ("HSCAN h", "hscan"),
    ] {
        assert_eq!(e(&mut con, line), arity(name), "{line}");
    }
    assert_eq!(i(&mut con, "EXISTS h"), 0);
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "HINCRBY h n 5"), 5);
    assert_eq!(i(&mut con, "HINCRBY h n -10"), -5);
    i(&mut con, "HSET h max 9223372036854775807 s abc f 1.5");
    assert_eq!(
        e(&mut con, "HINCRBY h max 1"),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        e(&mut con, "HINCRBY h s 1"),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        e(&mut con, "HINCRBY h f 1"),
        "ERR hash value is not an integer"
    );
    assert_eq!(e(&mut con, "HINCRBY h n x"), NOT_INT);
    assert_eq!(e(&mut con, "HINCRBY h n 1.5"), NOT_INT);

    // Long double arithmetic and formatting, as Redis.
    assert_eq!(v(&mut con, "HINCRBYFLOAT h f 0.1"), b("1.6"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h f 0.2"), b("1.8"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h x 0.1"), b("0.1"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h x 0.2"), b("0.3"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h n 2.5"), b("-2.5"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h n 2.5"), b("0"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h e 5.0e3"), b("5000"));
    assert_eq!(v(&mut con, "HINCRBYFLOAT h e 0x10"), b("5016"));
    assert_eq!(
        v(&mut con, "HINCRBYFLOAT h big 1e70"),
        b("10000000000000000000222479489586148259025995410601157579323600873193472")
    );
    assert_eq!(v(&mut con, "HINCRBYFLOAT h tiny 1e-30"), b("0"));
    assert_eq!(v(&mut con, "HGET h f"), b("1.8"));
    assert_eq!(
        e(&mut con, "HINCRBYFLOAT h s 1"),
        "ERR hash value is not a float"
    );
    assert_eq!(
        e(&mut con, "HINCRBYFLOAT h f inf"),
        "ERR value is NaN or Infinity"
    );
    assert_eq!(e(&mut con, "HINCRBYFLOAT h f nan"), NOT_FLOAT);
    assert_eq!(e(&mut con, "HINCRBYFLOAT h f 1e5000"), NOT_FLOAT);
    assert_eq!(e(&mut con, "HINCRBYFLOAT h f abc"), NOT_FLOAT);
    i(&mut con, "HSET h huge 1e4932 infv inf");
    assert_eq!(
        e(&mut con, "HINCRBYFLOAT h huge 1e4932"),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(
        e(&mut con, "HINCRBYFLOAT h infv 1"),
        "ERR increment would produce NaN or Infinity"
    );
}

#[test]
fn encodings_at_the_thresholds() {
    let s = TestServer::start();
    let mut con = s.conn();
    let at = "x".repeat(64);
    let past = "x".repeat(65);
    i(&mut con, &format!("HSET a {at} {at}"));
    assert_eq!(encoding(&mut con, "a"), "listpack");
    i(&mut con, &format!("HSET b f {past}"));
    assert_eq!(encoding(&mut con, "b"), "hashtable");
    i(&mut con, &format!("HSET c {past} v"));
    assert_eq!(encoding(&mut con, "c"), "hashtable");
    // HSETNX of an existing field converts nothing; of a new one it does.
    i(&mut con, "HSET d f 1");
    assert_eq!(i(&mut con, &format!("HSETNX d f {past}")), 0);
    assert_eq!(encoding(&mut con, "d"), "listpack");
    assert_eq!(i(&mut con, &format!("HSETNX d g {past}")), 1);
    assert_eq!(encoding(&mut con, "d"), "hashtable");
    // HINCRBYFLOAT whose result is long.
    v(&mut con, "HINCRBYFLOAT g f 1e70");
    assert_eq!(encoding(&mut con, "g"), "hashtable");

    fill(&mut con, "big", 512, "v");
    assert_eq!(encoding(&mut con, "big"), "listpack");
    i(&mut con, "HSET big f0 w");
    assert_eq!(encoding(&mut con, "big"), "listpack");
    i(&mut con, "HSET big one-more v");
    assert_eq!(encoding(&mut con, "big"), "hashtable");
    assert_eq!(i(&mut con, "HLEN big"), 513);
    assert_eq!(v(&mut con, "HGET big f0"), b("w"));
    // Deleting never converts back.
    i(&mut con, "HDEL big one-more f1 f2");
    assert_eq!(encoding(&mut con, "big"), "hashtable");

    // After CONFIG SET.
    v(&mut con, "CONFIG SET hash-max-listpack-entries 2");
    v(&mut con, "CONFIG SET hash-max-listpack-value 3");
    i(&mut con, "HSET s a 123 b 456");
    assert_eq!(encoding(&mut con, "s"), "listpack");
    i(&mut con, "HSET s c 1");
    assert_eq!(encoding(&mut con, "s"), "hashtable");
    i(&mut con, "HSET t a 1234");
    assert_eq!(encoding(&mut con, "t"), "hashtable");
    i(&mut con, "HINCRBY u a 999");
    assert_eq!(encoding(&mut con, "u"), "listpack");
    i(&mut con, "HINCRBY u a 1");
    assert_eq!(encoding(&mut con, "u"), "hashtable");
    v(&mut con, "CONFIG SET hash-max-listpack-entries 0");
    i(&mut con, "HSET z a 1");
    assert_eq!(encoding(&mut con, "z"), "hashtable");
    // An existing listpack keeps its encoding until it is written.
    assert_eq!(encoding(&mut con, "a"), "listpack");
}

#[test]
fn binary_safe_and_empty_strings() {
    let s = TestServer::start();
    let mut con = s.conn();
    let field: &[u8] = b"f\0\r\n\xff";
    let value: &[u8] = b"\0v\n";
    assert_eq!(
        cb(&[b"HSET", b"h", field, value, b"", b""])
            .query::<i64>(&mut con)
            .unwrap(),
        2
    );
    assert_eq!(
        cb(&[b"HGET", b"h", field])
            .query::<Value>(&mut con)
            .unwrap(),
        bulk(value)
    );
    assert_eq!(
        cb(&[b"HGET", b"h", b""]).query::<Value>(&mut con).unwrap(),
        bulk(b"")
    );
    assert_eq!(
        cb(&[b"HSTRLEN", b"h", field])
            .query::<i64>(&mut con)
            .unwrap(),
        3
    );
    assert_eq!(
        cb(&[b"HGETALL", b"h"]).query::<Value>(&mut con).unwrap(),
        arr(vec![bulk(field), bulk(value), bulk(b""), bulk(b"")])
    );
    // The same after conversion.
    let long = vec![0u8; 100];
    cb(&[b"HSET", b"h", &long, &long])
        .query::<i64>(&mut con)
        .unwrap();
    assert_eq!(encoding(&mut con, "h"), "hashtable");
    assert_eq!(
        cb(&[b"HGET", b"h", field])
            .query::<Value>(&mut con)
            .unwrap(),
        bulk(value)
    );
    assert_eq!(
        cb(&[b"HGET", b"h", &long])
            .query::<Value>(&mut con)
            .unwrap(),
        bulk(&long)
    );
    assert_eq!(
        cb(&[b"HDEL", b"h", field, b""])
            .query::<i64>(&mut con)
            .unwrap(),
        2
    );
    assert_eq!(i(&mut con, "HLEN h"), 1);
}

#[test]
fn huge_hash() {
    let s = TestServer::start();
    let mut con = s.conn();
    fill(&mut con, "h", 50_000, "value");
    assert_eq!(i(&mut con, "HLEN h"), 50_000);
    assert_eq!(v(&mut con, "HGET h f49999"), b("value"));
    let keys: Vec<String> = q(&mut con, "HKEYS h");
    assert_eq!(keys.len(), 50_000);
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 50_000);
    let all: Vec<String> = q(&mut con, "HGETALL h");
    assert_eq!(all.len(), 100_000);
    let r: Vec<String> = q(&mut con, "HRANDFIELD h 100");
    assert_eq!(r.len(), 100);
    let r: Vec<String> = q(&mut con, "HRANDFIELD h -200000");
    assert_eq!(r.len(), 200_000);
}

#[test]
fn hrandfield_shapes() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "HRANDFIELD nokey"), Value::Nil);
    assert_eq!(v(&mut con, "HRANDFIELD nokey 5"), arr(vec![]));
    assert_eq!(v(&mut con, "HRANDFIELD nokey -5 WITHVALUES"), arr(vec![]));
    i(&mut con, "HSET h a 1 b 2 c 3");
    let one: String = q(&mut con, "HRANDFIELD h");
    assert!(["a", "b", "c"].contains(&one.as_str()));
    assert_eq!(v(&mut con, "HRANDFIELD h 0"), arr(vec![]));
    assert_eq!(
        v(&mut con, "HRANDFIELD h 3"),
        arr(vec![b("a"), b("b"), b("c")])
    );
    assert_eq!(
        v(&mut con, "HRANDFIELD h 10 WITHVALUES"),
        arr(vec![b("a"), b("1"), b("b"), b("2"), b("c"), b("3")])
    );
    let two: Vec<String> = q(&mut con, "HRANDFIELD h 2");
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let many: Vec<String> = q(&mut con, "HRANDFIELD h -10 WITHVALUES");
    assert_eq!(many.len(), 20);
    for pair in many.chunks(2) {
        let want = match pair[0].as_str() {
            "a" => "1",
            "b" => "2",
            "c" => "3",
            other => panic!("{other}"),
        };
        assert_eq!(pair[1], want);
    }
    assert_eq!(e(&mut con, "HRANDFIELD h x"), NOT_INT);
    assert_eq!(
        e(&mut con, "HRANDFIELD h -9223372036854775808"),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(e(&mut con, "HRANDFIELD h 1 foo"), SYNTAX);
    assert_eq!(e(&mut con, "HRANDFIELD h 1 WITHVALUES x"), SYNTAX);
    assert_eq!(e(&mut con, "HRANDFIELD nokey 1 foo"), SYNTAX);
    assert_eq!(
        e(&mut con, "HRANDFIELD h -4611686018427387904 WITHVALUES"),
        "ERR value is out of range"
    );

    // RESP3: pairs are two-element arrays.
    let mut con3 = s.conn_resp3();
    assert_eq!(
        v(&mut con3, "HRANDFIELD h 3 WITHVALUES"),
        arr(vec![
            arr(vec![b("a"), b("1")]),
            arr(vec![b("b"), b("2")]),
            arr(vec![b("c"), b("3")])
        ])
    );
    match v(&mut con3, "HRANDFIELD h -4 WITHVALUES") {
        Value::Array(items) => {
            assert_eq!(items.len(), 4);
            assert!(items
                .iter()
                .all(|p| matches!(p, Value::Array(x) if x.len() == 2)));
        }
        other => panic!("{other:?}"),
    }
    // A count of 1 too.
    match v(&mut con3, "HRANDFIELD h 1 WITHVALUES") {
        Value::Array(items) => {
            assert_eq!(items.len(), 1);
            assert!(matches!(&items[0], Value::Array(x) if x.len() == 2));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn resp3_shapes() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    let _: i64 = q(&mut con, "HSET h a 1 b 2");
    assert_eq!(
        v(&mut con, "HGETALL h"),
        Value::Map(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    assert_eq!(v(&mut con, "HGETALL nokey"), Value::Map(vec![]));
    assert_eq!(v(&mut con, "HGET h zz"), Value::Nil);
    assert_eq!(v(&mut con, "HRANDFIELD nokey"), Value::Nil);
    assert_eq!(v(&mut con, "HMGET h a zz"), arr(vec![b("1"), Value::Nil]));
    // HINCRBYFLOAT answers a bulk string, not a RESP3 double.
    assert_eq!(v(&mut con, "HINCRBYFLOAT h a 0.5"), b("1.5"));
    assert_eq!(v(&mut con, "HKEYS h"), arr(vec![b("a"), b("b")]));
    assert_eq!(v(&mut con, "HEXISTS h a"), Value::Int(1));
    assert_eq!(
        v(&mut con, "HSCAN h 0"),
        arr(vec![b("0"), arr(vec![b("a"), b("1.5"), b("b"), b("2")])])
    );
}

#[test]
fn hscan_listpack_and_table() {
    let s = TestServer::start();
    let mut con = s.conn();
    let empty = arr(vec![b("0"), arr(vec![])]);
    assert_eq!(v(&mut con, "HSCAN nokey 0"), empty);
    assert_eq!(v(&mut con, "HSCAN nokey 0 COUNT 0"), empty);
    assert_eq!(v(&mut con, "HSCAN nokey 0 BOGUS"), empty);
    assert_eq!(e(&mut con, "HSCAN nokey x"), "ERR invalid cursor");
    i(&mut con, "HSET h a 1 b 2 ab 3");
    // A listpack comes back whole, cursor 0, whatever COUNT says.
    assert_eq!(
        v(&mut con, "HSCAN h 0 COUNT 1"),
        arr(vec![
            b("0"),
            arr(vec![b("a"), b("1"), b("b"), b("2"), b("ab"), b("3")])
        ])
    );
    assert_eq!(
        v(&mut con, "HSCAN h 0 MATCH a* COUNT 100"),
        arr(vec![b("0"), arr(vec![b("a"), b("1"), b("ab"), b("3")])])
    );
    assert_eq!(e(&mut con, "HSCAN h 0 COUNT 0"), SYNTAX);
    assert_eq!(e(&mut con, "HSCAN h 0 COUNT x"), NOT_INT);
    assert_eq!(e(&mut con, "HSCAN h 0 MATCH"), SYNTAX);
    assert_eq!(e(&mut con, "HSCAN h 0 TYPE string"), SYNTAX);

    // A table: steps, and every field present throughout comes back even while
    // other fields are added and removed between the calls.
    fill(&mut con, "t", 1000, "v");
    assert_eq!(encoding(&mut con, "t"), "hashtable");
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut con, &format!("HSCAN t {cursor} COUNT 50"));
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone());
            assert_eq!(pair[1], "v");
        }
        // Churn: new fields and deletions of other new fields.
        let _: i64 = q(&mut con, &format!("HSET t x{calls} v y{calls} v"));
        let _: i64 = q(&mut con, &format!("HDEL t y{calls}"));
        calls += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
        assert!(calls < 1000, "the scan does not end");
    }
    for k in 0..1000 {
        assert!(seen.contains(&format!("f{k}")), "f{k} missed");
    }
    // MATCH on a table.
    let mut matched = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut con, &format!("HSCAN t {cursor} MATCH f99*"));
        matched.extend(items.chunks(2).map(|p| p[0].clone()));
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    matched.sort();
    assert_eq!(
        matched,
        vec!["f99", "f990", "f991", "f992", "f993", "f994", "f995", "f996", "f997", "f998", "f999"]
    );
}

#[test]
fn notifications() {
    let s = TestServer::start();
    let mut con = s.conn();
    v(&mut con, "CONFIG SET notify-keyspace-events KEA");
    let client = redis::Client::open(s.url()).unwrap();
    let mut sub = client.get_connection().unwrap();
    let mut ps = sub.as_pubsub();
    ps.psubscribe("__keyevent@0__:*").unwrap();
    ps.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    i(&mut con, "HSET h a 1");
    i(&mut con, "HSETNX h a 1");
    i(&mut con, "HINCRBY h a 1");
    v(&mut con, "HINCRBYFLOAT h a 1");
    i(&mut con, "HDEL h zz");
    i(&mut con, "HDEL h a");
    let mut got = Vec::new();
    for _ in 0..5 {
        let m = ps.get_message().unwrap();
        got.push(m.get_channel_name().to_string());
    }
    assert_eq!(
        got,
        vec![
            "__keyevent@0__:hset",
            "__keyevent@0__:hincrby",
            "__keyevent@0__:hincrbyfloat",
            "__keyevent@0__:hdel",
            "__keyevent@0__:del"
        ]
    );
}
