//! String commands through the real binary, with the `redis` crate (RESP2 and RESP3,
//! sync and async). Every expected reply and error text is what Redis 7.0.15 answers.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::Value;

const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";

fn invalid_expire(cmd: &str) -> String {
    format!("ERR invalid expire time in '{cmd}' command")
}

#[test]
fn get_set_and_options() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "GET nokey"), Value::Nil);
    assert_eq!(v(&mut con, "SET k v"), Value::Okay);
    assert_eq!(v(&mut con, "GET k"), bulk(b"v"));
    assert_eq!(e(&mut con, "GET"), arity("get"));
    assert_eq!(e(&mut con, "GET a b"), arity("get"));
    assert_eq!(e(&mut con, "SET k"), arity("set"));

    // Expirations.
    assert_eq!(v(&mut con, "SET k v EX 100"), Value::Okay);
    let ttl: i64 = q(&mut con, "TTL k");
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(v(&mut con, "SET k v PX 100000"), Value::Okay);
    let pttl: i64 = q(&mut con, "PTTL k");
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(v(&mut con, "SET k v EXAT 99999999999"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "EXPIRETIME k"), 99_999_999_999);
    assert_eq!(v(&mut con, "SET k v PXAT 99999999999123"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "PEXPIRETIME k"), 99_999_999_999_123);
    // A plain SET clears the TTL; KEEPTTL keeps it.
    assert_eq!(v(&mut con, "SET k v2 KEEPTTL"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "PEXPIRETIME k"), 99_999_999_999_123);
    assert_eq!(v(&mut con, "GET k"), bulk(b"v2"));
    assert_eq!(v(&mut con, "SET k v3"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "TTL k"), -1);
    // The same option twice is accepted (the last wins).
    assert_eq!(v(&mut con, "SET k v EX 100 EX 100"), Value::Okay);

    for bad in [
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v PX 0",
        "SET k v EXAT 0",
    ] {
        assert_eq!(e(&mut con, bad), invalid_expire("set"), "{bad}");
    }
    // Overflowing expirations (seconds * 1000, or when added to now).
    for bad in [
        "SET k v EX 9223372036854775807",
        "SET k v EX 9223372036854775",
        "SET k v EX 9223372036854774",
        "SET k v PX 9223372036854775807",
        "SET k v EXAT 9223372036854775807",
    ] {
        assert_eq!(e(&mut con, bad), invalid_expire("set"), "{bad}");
    }
    // PXAT i64::MAX is a valid (far) deadline.
    assert_eq!(
        v(&mut con, "SET far v PXAT 9223372036854775807"),
        Value::Okay
    );
    assert_eq!(
        q::<i64>(&mut con, "PEXPIRETIME far"),
        9_223_372_036_854_775_807
    );
    assert_eq!(e(&mut con, "SET k v EX abc"), NOT_INT);
    assert_eq!(e(&mut con, "SET k v EX 1.5"), NOT_INT);
    for bad in [
        "SET k v EX 10 PX 100",
        "SET k v EX 10 EXAT 100",
        "SET k v EX 10 KEEPTTL",
        "SET k v PX 10 KEEPTTL",
        "SET k v NX XX",
        "SET k v EX",
        "SET k v foo",
    ] {
        assert_eq!(e(&mut con, bad), SYNTAX, "{bad}");
    }

    // NX / XX.
    assert_eq!(v(&mut con, "SET k other NX"), Value::Nil);
    assert_eq!(v(&mut con, "SET k2 v NX"), Value::Okay);
    assert_eq!(v(&mut con, "SET k3 w XX"), Value::Nil);
    assert_eq!(v(&mut con, "GET k3"), Value::Nil);
    assert_eq!(v(&mut con, "SET k2 w XX"), Value::Okay);
    assert_eq!(v(&mut con, "GET k2"), bulk(b"w"));
    // The same flag twice is fine.
    assert_eq!(v(&mut con, "SET k2 x NX NX"), Value::Nil);

    // GET: old value, with NX/XX.
    assert_eq!(v(&mut con, "SET k2 new GET"), bulk(b"w"));
    assert_eq!(v(&mut con, "SET k2 newer NX GET"), bulk(b"new"));
    assert_eq!(v(&mut con, "GET k2"), bulk(b"new"));
    assert_eq!(v(&mut con, "SET k5 w NX GET"), Value::Nil);
    assert_eq!(v(&mut con, "GET k5"), bulk(b"w"));
    assert_eq!(v(&mut con, "SET k6 w XX GET"), Value::Nil);
    assert_eq!(v(&mut con, "EXISTS k6"), Value::Int(0));
    assert_eq!(v(&mut con, "SET k5 z EX 100 GET"), bulk(b"w"));
    assert!(q::<i64>(&mut con, "TTL k5") > 0);
    assert_eq!(v(&mut con, "SET k5 y KEEPTTL GET"), bulk(b"z"));
    assert!(q::<i64>(&mut con, "TTL k5") > 0);

    // Binary-safe keys and values, and the empty string.
    let key: &[u8] = b"bin\x00key\r\n";
    let val: &[u8] = b"\x00\r\n\xff val \r\n\x00";
    assert_eq!(
        cb(&[b"SET", key, val]).query::<Value>(&mut con).unwrap(),
        Value::Okay
    );
    assert_eq!(
        cb(&[b"GET", key]).query::<Value>(&mut con).unwrap(),
        bulk(val)
    );
    assert_eq!(
        cb(&[b"STRLEN", key]).query::<i64>(&mut con).unwrap(),
        val.len() as i64
    );
    assert_eq!(
        cb(&[b"SET", b"", b""]).query::<Value>(&mut con).unwrap(),
        Value::Okay
    );
    assert_eq!(
        cb(&[b"GET", b""]).query::<Value>(&mut con).unwrap(),
        bulk(b"")
    );
    assert_eq!(cb(&[b"EXISTS", b""]).query::<i64>(&mut con).unwrap(), 1);
}

#[test]
fn setnx_setex_psetex_getset_getdel() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SETNX a 1"), Value::Int(1));
    assert_eq!(v(&mut con, "SETNX a 2"), Value::Int(0));
    assert_eq!(v(&mut con, "GET a"), bulk(b"1"));
    assert_eq!(e(&mut con, "SETNX a"), arity("setnx"));
    assert_eq!(e(&mut con, "SETNX a 1 2"), arity("setnx"));

    assert_eq!(v(&mut con, "SETEX k 100 v"), Value::Okay);
    let ttl: i64 = q(&mut con, "TTL k");
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(v(&mut con, "GET k"), bulk(b"v"));
    for bad in [
        "SETEX k 0 v",
        "SETEX k -1 v",
        "SETEX k 9223372036854775807 v",
    ] {
        assert_eq!(e(&mut con, bad), invalid_expire("setex"), "{bad}");
    }
    assert_eq!(e(&mut con, "SETEX k abc v"), NOT_INT);
    assert_eq!(e(&mut con, "SETEX k 1.5 v"), NOT_INT);
    assert_eq!(e(&mut con, "SETEX k 10"), arity("setex"));

    assert_eq!(v(&mut con, "PSETEX p 100000 v"), Value::Okay);
    let pttl: i64 = q(&mut con, "PTTL p");
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    for bad in [
        "PSETEX p 0 v",
        "PSETEX p -5 v",
        "PSETEX p 9223372036854775807 v",
    ] {
        assert_eq!(e(&mut con, bad), invalid_expire("psetex"), "{bad}");
    }
    assert_eq!(e(&mut con, "PSETEX p abc v"), NOT_INT);
    // A failed PSETEX leaves the old value and TTL alone.
    assert_eq!(v(&mut con, "GET p"), bulk(b"v"));
    assert!(q::<i64>(&mut con, "PTTL p") > 0);

    // GETSET returns the old value and clears the TTL.
    assert_eq!(v(&mut con, "GETSET k z"), bulk(b"v"));
    assert_eq!(q::<i64>(&mut con, "TTL k"), -1);
    assert_eq!(v(&mut con, "GETSET nokey z"), Value::Nil);
    assert_eq!(v(&mut con, "GET nokey"), bulk(b"z"));
    assert_eq!(e(&mut con, "GETSET k"), arity("getset"));

    assert_eq!(v(&mut con, "GETDEL k"), bulk(b"z"));
    assert_eq!(v(&mut con, "GETDEL k"), Value::Nil);
    assert_eq!(v(&mut con, "EXISTS k"), Value::Int(0));
    assert_eq!(e(&mut con, "GETDEL k x"), arity("getdel"));
    assert_eq!(e(&mut con, "GETDEL"), arity("getdel"));
}

#[test]
fn getex_options() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "GETEX nokey"), Value::Nil);
    // The syntax is checked even for a missing key, but the expire value only when
    // the key exists (Redis answers nil for a missing key with EX 0 or EX abc).
    assert_eq!(v(&mut con, "GETEX nokey EX 0"), Value::Nil);
    assert_eq!(e(&mut con, "GETEX nokey foo"), SYNTAX);
    assert_eq!(v(&mut con, "GETEX nokey EX abc"), Value::Nil);
    assert_eq!(v(&mut con, "SET g v"), Value::Okay);
    assert_eq!(v(&mut con, "GETEX g"), bulk(b"v"));
    assert_eq!(q::<i64>(&mut con, "TTL g"), -1);
    assert_eq!(v(&mut con, "GETEX g EX 100"), bulk(b"v"));
    let ttl: i64 = q(&mut con, "TTL g");
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert_eq!(v(&mut con, "GETEX g PX 200000"), bulk(b"v"));
    assert!(q::<i64>(&mut con, "PTTL g") > 100_000);
    assert_eq!(v(&mut con, "GETEX g PERSIST"), bulk(b"v"));
    assert_eq!(q::<i64>(&mut con, "TTL g"), -1);
    assert_eq!(v(&mut con, "GETEX g EXAT 99999999999"), bulk(b"v"));
    assert_eq!(q::<i64>(&mut con, "EXPIRETIME g"), 99_999_999_999);
    assert_eq!(v(&mut con, "GETEX g PXAT 99999999999001"), bulk(b"v"));
    assert_eq!(q::<i64>(&mut con, "PEXPIRETIME g"), 99_999_999_999_001);
    assert_eq!(v(&mut con, "GETEX g PERSIST PERSIST"), bulk(b"v"));
    assert_eq!(q::<i64>(&mut con, "TTL g"), -1);
    for bad in ["GETEX g EX 0", "GETEX g EX -1", "GETEX g PX 0"] {
        assert_eq!(e(&mut con, bad), invalid_expire("getex"), "{bad}");
    }
    assert_eq!(
        e(&mut con, "GETEX g EX 9223372036854775807"),
        invalid_expire("getex")
    );
    assert_eq!(
        e(&mut con, "GETEX g PX 9223372036854775807"),
        invalid_expire("getex")
    );
    assert_eq!(e(&mut con, "GETEX g EX abc"), NOT_INT);
    for bad in [
        "GETEX g EX 10 PX 10",
        "GETEX g EX 10 PERSIST",
        "GETEX g PERSIST EX 10",
        "GETEX g foo",
        "GETEX g EX",
        "GETEX g KEEPTTL",
    ] {
        assert_eq!(e(&mut con, bad), SYNTAX, "{bad}");
    }
    assert_eq!(q::<i64>(&mut con, "TTL g"), -1);
    // A deadline in the past deletes the key, after returning it.
    assert_eq!(v(&mut con, "GETEX g EXAT 1"), bulk(b"v"));
    assert_eq!(v(&mut con, "EXISTS g"), Value::Int(0));
    assert_eq!(v(&mut con, "SET g v"), Value::Okay);
    assert_eq!(v(&mut con, "GETEX g PXAT 1"), bulk(b"v"));
    assert_eq!(v(&mut con, "EXISTS g"), Value::Int(0));
    assert_eq!(e(&mut con, "GETEX"), arity("getex"));
}

#[test]
fn mget_mset_msetnx() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "MSET a 1 b 2"), Value::Okay);
    assert_eq!(
        v(&mut con, "MGET a nokey b a"),
        Value::Array(vec![bulk(b"1"), Value::Nil, bulk(b"2"), bulk(b"1")])
    );
    assert_eq!(v(&mut con, "MGET nokey"), Value::Array(vec![Value::Nil]));
    assert_eq!(e(&mut con, "MGET"), arity("mget"));
    assert_eq!(e(&mut con, "MSET"), arity("mset"));
    assert_eq!(e(&mut con, "MSET a"), arity("mset"));
    assert_eq!(e(&mut con, "MSET a 1 b"), arity("mset"));
    // The last of a repeated key wins.
    assert_eq!(v(&mut con, "MSET a 1 a 2"), Value::Okay);
    assert_eq!(v(&mut con, "GET a"), bulk(b"2"));
    // MSET clears TTLs.
    assert_eq!(v(&mut con, "SET t v EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "MSET t w"), Value::Okay);
    assert_eq!(q::<i64>(&mut con, "TTL t"), -1);

    assert_eq!(v(&mut con, "MSETNX x1 1 x2 2"), Value::Int(1));
    assert_eq!(v(&mut con, "MSETNX x1 1 x3 3"), Value::Int(0));
    assert_eq!(v(&mut con, "EXISTS x3"), Value::Int(0));
    assert_eq!(v(&mut con, "MSETNX x4 1 x4 2"), Value::Int(1));
    assert_eq!(v(&mut con, "GET x4"), bulk(b"2"));
    assert_eq!(e(&mut con, "MSETNX a"), arity("msetnx"));
    assert_eq!(e(&mut con, "MSETNX a 1 b"), arity("msetnx"));

    // Binary values through MSET/MGET.
    let () = cb(&[b"MSET", b"k\x00", b"\r\n", b"k\r\n", b""])
        .query(&mut con)
        .unwrap();
    let got: Vec<Vec<u8>> = cb(&[b"MGET", b"k\x00", b"k\r\n"]).query(&mut con).unwrap();
    assert_eq!(got, vec![b"\r\n".to_vec(), b"".to_vec()]);
}

#[test]
fn append_strlen_getrange_substr() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "APPEND ap hello"), Value::Int(5));
    assert_eq!(v(&mut con, "APPEND ap _world"), Value::Int(11));
    assert_eq!(v(&mut con, "GET ap"), bulk(b"hello_world"));
    // APPEND of an empty string creates an empty key.
    assert_eq!(
        cb(&[b"APPEND", b"empty", b""])
            .query::<i64>(&mut con)
            .unwrap(),
        0
    );
    assert_eq!(v(&mut con, "EXISTS empty"), Value::Int(1));
    assert_eq!(v(&mut con, "GET empty"), bulk(b""));
    assert_eq!(e(&mut con, "APPEND a"), arity("append"));
    // APPEND keeps the TTL.
    assert_eq!(v(&mut con, "SET t v EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "APPEND t w"), Value::Int(2));
    assert!(q::<i64>(&mut con, "TTL t") > 0);

    assert_eq!(v(&mut con, "STRLEN ap"), Value::Int(11));
    assert_eq!(v(&mut con, "STRLEN nokey"), Value::Int(0));
    assert_eq!(v(&mut con, "STRLEN empty"), Value::Int(0));
    assert_eq!(v(&mut con, "SET num 12345"), Value::Okay);
    assert_eq!(v(&mut con, "STRLEN num"), Value::Int(5));
    assert_eq!(v(&mut con, "SET neg -9223372036854775808"), Value::Okay);
    assert_eq!(v(&mut con, "STRLEN neg"), Value::Int(20));
    assert_eq!(e(&mut con, "STRLEN a b"), arity("strlen"));

    assert_eq!(v(&mut con, "SET r Hello_World"), Value::Okay);
    let cases: &[(&str, &[u8])] = &[
        ("0 -1", b"Hello_World"),
        ("0 4", b"Hello"),
        ("-3 -1", b"rld"),
        ("-100 -1", b"Hello_World"),
        ("5 3", b""),
        ("100 200", b""),
        ("-1 -100", b""),
        ("0 100", b"Hello_World"),
        ("-5 100", b"World"),
        ("3 3", b"l"),
        ("-1 0", b""),
        ("0 -100", b"H"),
        ("0 9223372036854775807", b"Hello_World"),
        ("-9223372036854775808 9223372036854775807", b"Hello_World"),
    ];
    for (range, want) in cases {
        assert_eq!(
            v(&mut con, &format!("GETRANGE r {range}")),
            bulk(want),
            "GETRANGE r {range}"
        );
        assert_eq!(
            v(&mut con, &format!("SUBSTR r {range}")),
            bulk(want),
            "SUBSTR r {range}"
        );
    }
    assert_eq!(v(&mut con, "GETRANGE nokey 0 -1"), bulk(b""));
    assert_eq!(v(&mut con, "GETRANGE empty 0 -1"), bulk(b""));
    assert_eq!(v(&mut con, "GETRANGE empty -1 -1"), bulk(b""));
    assert_eq!(e(&mut con, "GETRANGE r a b"), NOT_INT);
    assert_eq!(e(&mut con, "GETRANGE r 0 b"), NOT_INT);
    assert_eq!(e(&mut con, "GETRANGE r 0"), arity("getrange"));
    assert_eq!(e(&mut con, "SUBSTR r 0"), arity("substr"));
    // Binary content.
    let _: () = cb(&[b"SET", b"bin", b"\x00\r\nabc\x00"])
        .query(&mut con)
        .unwrap();
    assert_eq!(v(&mut con, "GETRANGE bin 1 2"), bulk(b"\r\n"));
    assert_eq!(v(&mut con, "GETRANGE bin -1 -1"), bulk(b"\x00"));
}

#[test]
fn setrange_and_the_512mb_limit() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SETRANGE sr 0 hello"), Value::Int(5));
    assert_eq!(v(&mut con, "SETRANGE sr 10 x"), Value::Int(11));
    assert_eq!(v(&mut con, "GET sr"), bulk(b"hello\0\0\0\0\0x"));
    assert_eq!(v(&mut con, "SETRANGE sr 1 EL"), Value::Int(11));
    assert_eq!(v(&mut con, "GET sr"), bulk(b"hELlo\0\0\0\0\0x"));
    assert_eq!(
        e(&mut con, "SETRANGE sr -1 x"),
        "ERR offset is out of range"
    );
    assert_eq!(e(&mut con, "SETRANGE sr abc x"), NOT_INT);
    assert_eq!(e(&mut con, "SETRANGE sr 0"), arity("setrange"));
    // An empty value never creates a key and never grows one.
    assert_eq!(
        cb(&[b"SETRANGE", b"new", b"5", b""])
            .query::<i64>(&mut con)
            .unwrap(),
        0
    );
    assert_eq!(v(&mut con, "EXISTS new"), Value::Int(0));
    assert_eq!(
        cb(&[b"SETRANGE", b"sr", b"999999999999", b""])
            .query::<i64>(&mut con)
            .unwrap(),
        11
    );
    assert_eq!(v(&mut con, "SETRANGE new2 1 a"), Value::Int(2));
    assert_eq!(v(&mut con, "GET new2"), bulk(b"\0a"));
    // Binary bytes written in place.
    assert_eq!(
        cb(&[b"SETRANGE", b"sr", b"2", b"\r\n\x00"])
            .query::<i64>(&mut con)
            .unwrap(),
        11
    );
    assert_eq!(v(&mut con, "GET sr"), bulk(b"hE\r\n\0\0\0\0\0\0x"));
    // Offsets whose end lands past 512 MB are refused before anything is
    // allocated (offsets just beyond the limit, so a bug would be visible but the
    // test never makes keel allocate 512 MB when it answers correctly).
    let limit = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    assert_eq!(e(&mut con, "SETRANGE sr 536870912 x"), limit);
    assert_eq!(e(&mut con, "SETRANGE sr 536870911 xy"), limit);
    assert_eq!(e(&mut con, "SETRANGE fresh 536870912 x"), limit);
    assert_eq!(e(&mut con, "SETRANGE sr 9223372036854775807 x"), limit);
    assert_eq!(v(&mut con, "EXISTS fresh"), Value::Int(0));
    assert_eq!(v(&mut con, "STRLEN sr"), Value::Int(11));
    // SETRANGE keeps the TTL, and turns an int-encoded value into a string.
    assert_eq!(v(&mut con, "SET num 10 EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "SETRANGE num 0 9"), Value::Int(2));
    assert_eq!(v(&mut con, "GET num"), bulk(b"90"));
    assert!(q::<i64>(&mut con, "TTL num") > 0);
    assert_eq!(v(&mut con, "OBJECT ENCODING num"), bulk(b"raw"));
}

#[test]
fn incr_decr_family() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "INCR n"), Value::Int(1));
    assert_eq!(v(&mut con, "DECR d"), Value::Int(-1));
    assert_eq!(v(&mut con, "SET i 10"), Value::Okay);
    assert_eq!(v(&mut con, "INCR i"), Value::Int(11));
    assert_eq!(v(&mut con, "DECR i"), Value::Int(10));
    assert_eq!(v(&mut con, "INCRBY i 5"), Value::Int(15));
    assert_eq!(v(&mut con, "INCRBY i -20"), Value::Int(-5));
    assert_eq!(v(&mut con, "DECRBY i 3"), Value::Int(-8));
    assert_eq!(v(&mut con, "DECRBY i -8"), Value::Int(0));
    assert_eq!(v(&mut con, "GET i"), bulk(b"0"));
    assert_eq!(e(&mut con, "INCRBY i abc"), NOT_INT);
    assert_eq!(e(&mut con, "INCRBY i 1.5"), NOT_INT);
    assert_eq!(e(&mut con, "INCR"), arity("incr"));
    assert_eq!(e(&mut con, "INCR a b"), arity("incr"));
    assert_eq!(e(&mut con, "INCRBY i"), arity("incrby"));
    assert_eq!(e(&mut con, "DECRBY i 1 2"), arity("decrby"));
    assert_eq!(e(&mut con, "DECR"), arity("decr"));

    // i64 bounds.
    let overflow = "ERR increment or decrement would overflow";
    assert_eq!(v(&mut con, "SET big 9223372036854775807"), Value::Okay);
    assert_eq!(e(&mut con, "INCR big"), overflow);
    assert_eq!(e(&mut con, "INCRBY big 1"), overflow);
    assert_eq!(v(&mut con, "INCRBY big 0"), Value::Int(i64::MAX));
    assert_eq!(v(&mut con, "SET small -9223372036854775808"), Value::Okay);
    assert_eq!(e(&mut con, "DECR small"), overflow);
    assert_eq!(e(&mut con, "DECRBY small 1"), overflow);
    assert_eq!(
        e(&mut con, "DECRBY small -9223372036854775808"),
        "ERR decrement would overflow"
    );
    assert_eq!(v(&mut con, "SET z 0"), Value::Okay);
    assert_eq!(
        e(&mut con, "DECRBY z -9223372036854775808"),
        "ERR decrement would overflow"
    );
    assert_eq!(
        v(&mut con, "INCRBY z -9223372036854775808"),
        Value::Int(i64::MIN)
    );
    assert_eq!(e(&mut con, "INCRBY z 9223372036854775808"), NOT_INT);
    assert_eq!(v(&mut con, "DECRBY z -9223372036854775807"), Value::Int(-1));

    // Values that are not canonical integers.
    for bad in ["abc", "12345678901234567890", "1a", "+1", "01", "-0"] {
        assert_eq!(v(&mut con, &format!("SET s {bad}")), Value::Okay);
        assert_eq!(e(&mut con, "INCR s"), NOT_INT, "value {bad}");
    }
    for bad in [&b" 1"[..], b"1 ", b""] {
        let _: () = cb(&[b"SET", b"s", bad]).query(&mut con).unwrap();
        assert_eq!(e(&mut con, "INCR s"), NOT_INT, "value {bad:?}");
    }
    // INCR keeps the TTL and yields an int-encoded value.
    assert_eq!(v(&mut con, "SET ii 5 EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "INCR ii"), Value::Int(6));
    assert!(q::<i64>(&mut con, "TTL ii") > 0);
    assert_eq!(v(&mut con, "OBJECT ENCODING ii"), bulk(b"int"));
}

#[test]
fn incrbyfloat() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SET f 10.5"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f 0.1"), bulk(b"10.6"));
    assert_eq!(v(&mut con, "INCRBYFLOAT f -5"), bulk(b"5.6"));
    assert_eq!(v(&mut con, "INCRBYFLOAT f -5.6"), bulk(b"0"));
    assert_eq!(v(&mut con, "INCRBYFLOAT new 3.10"), bulk(b"3.1"));
    assert_eq!(v(&mut con, "INCRBYFLOAT new2 3.0"), bulk(b"3"));
    assert_eq!(v(&mut con, "INCRBYFLOAT new3 5.0e3"), bulk(b"5000"));
    assert_eq!(v(&mut con, "SET f 10"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f -10"), bulk(b"0"));
    assert_eq!(v(&mut con, "SET f -0"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f 0"), bulk(b"0"));
    assert_eq!(v(&mut con, "SET f 1e1"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f 1"), bulk(b"11"));
    assert_eq!(v(&mut con, "GET f"), bulk(b"11"));
    // Errors.
    let not_float = "ERR value is not a valid float";
    assert_eq!(e(&mut con, "INCRBYFLOAT f abc"), not_float);
    assert_eq!(e(&mut con, "INCRBYFLOAT f nan"), not_float);
    assert_eq!(
        e(&mut con, "INCRBYFLOAT f inf"),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(v(&mut con, "SET f abc"), Value::Okay);
    assert_eq!(e(&mut con, "INCRBYFLOAT f 1"), not_float);
    for bad in [&b" 1"[..], b"1 ", b""] {
        let _: () = cb(&[b"SET", b"f", bad]).query(&mut con).unwrap();
        assert_eq!(e(&mut con, "INCRBYFLOAT f 1"), not_float, "{bad:?}");
    }
    assert_eq!(e(&mut con, "INCRBYFLOAT f"), arity("incrbyfloat"));
    // The TTL is kept.
    assert_eq!(v(&mut con, "SET f 3 EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f 1.5"), bulk(b"4.5"));
    assert!(q::<i64>(&mut con, "TTL f") > 0);
    // Long double arithmetic, as Redis: 0.1 + 0.2 is 0.3, and results beyond a
    // double's range are numbers (digits as Redis 7.0.15 prints them).
    assert_eq!(v(&mut con, "INCRBYFLOAT ld 0.1"), bulk(b"0.1"));
    assert_eq!(v(&mut con, "INCRBYFLOAT ld 0.2"), bulk(b"0.3"));
    let big: String = q(&mut con, "INCRBYFLOAT big 1e400");
    assert!(
        big.starts_with("1000000000000000000028188068394758") && big.len() == 401,
        "{big}"
    );
}

#[test]
fn incrbyfloat_accepts_hex_floats_like_redis() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SET f 1"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f 0x10"), bulk(b"17"));
    assert_eq!(v(&mut con, "SET f 0x10"), Value::Okay);
    assert_eq!(v(&mut con, "INCRBYFLOAT f 1"), bulk(b"17"));
}

/// INCRBYFLOAT stores its result as a string object, never as an integer, even
/// when it reads as one (Redis's `createStringObjectFromLongDouble`): `embstr`,
/// or `raw` past 44 bytes. INCR on it, or a SET of the same text, makes an `int`.
#[test]
fn incrbyfloat_result_encoding() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "INCRBYFLOAT e 5"), bulk(b"5"));
    assert_eq!(v(&mut con, "OBJECT ENCODING e"), bulk(b"embstr"));
    assert_eq!(v(&mut con, "INCRBYFLOAT e 0.5"), bulk(b"5.5"));
    assert_eq!(v(&mut con, "OBJECT ENCODING e"), bulk(b"embstr"));
    assert_eq!(v(&mut con, "INCRBYFLOAT e 1.5"), bulk(b"7"));
    assert_eq!(v(&mut con, "OBJECT ENCODING e"), bulk(b"embstr"));
    assert_eq!(v(&mut con, "INCR e"), Value::Int(8));
    assert_eq!(v(&mut con, "OBJECT ENCODING e"), bulk(b"int"));
    // On an existing integer too.
    assert_eq!(v(&mut con, "SET n 10"), Value::Okay);
    assert_eq!(v(&mut con, "OBJECT ENCODING n"), bulk(b"int"));
    assert_eq!(v(&mut con, "INCRBYFLOAT n 1"), bulk(b"11"));
    assert_eq!(v(&mut con, "OBJECT ENCODING n"), bulk(b"embstr"));
    assert_eq!(v(&mut con, "SET n 11"), Value::Okay);
    assert_eq!(v(&mut con, "OBJECT ENCODING n"), bulk(b"int"));
    // Past 44 bytes: raw.
    match v(&mut con, "INCRBYFLOAT b 1e50") {
        Value::BulkString(b) => assert!(b.len() > 44 && b.starts_with(b"1000"), "{b:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(v(&mut con, "OBJECT ENCODING b"), bulk(b"raw"));
}

#[test]
fn lcs_resp2() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(
        v(&mut con, "MSET key1 ohmytext key2 mynewtext"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "LCS key1 key2"), bulk(b"mytext"));
    assert_eq!(v(&mut con, "LCS key1 key2 LEN"), Value::Int(6));
    let range = |a: i64, b: i64| Value::Array(vec![Value::Int(a), Value::Int(b)]);
    let m = |a: (i64, i64), b: (i64, i64)| Value::Array(vec![range(a.0, a.1), range(b.0, b.1)]);
    let full = Value::Array(vec![
        bulk(b"matches"),
        Value::Array(vec![m((4, 7), (5, 8)), m((2, 3), (0, 1))]),
        bulk(b"len"),
        Value::Int(6),
    ]);
    assert_eq!(v(&mut con, "LCS key1 key2 IDX"), full);
    assert_eq!(v(&mut con, "LCS key1 key2 IDX MINMATCHLEN 0"), full);
    assert_eq!(v(&mut con, "LCS key1 key2 IDX MINMATCHLEN -1"), full);
    assert_eq!(
        v(&mut con, "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
        Value::Array(vec![
            bulk(b"matches"),
            Value::Array(vec![Value::Array(vec![
                range(4, 7),
                range(5, 8),
                Value::Int(4)
            ])]),
            bulk(b"len"),
            Value::Int(6),
        ])
    );
    assert_eq!(
        v(&mut con, "LCS key1 key2 IDX WITHMATCHLEN MINMATCHLEN 2"),
        Value::Array(vec![
            bulk(b"matches"),
            Value::Array(vec![
                Value::Array(vec![range(4, 7), range(5, 8), Value::Int(4)]),
                Value::Array(vec![range(2, 3), range(0, 1), Value::Int(2)]),
            ]),
            bulk(b"len"),
            Value::Int(6),
        ])
    );
    assert_eq!(
        v(
            &mut con,
            "LCS key1 key2 IDX MINMATCHLEN 9223372036854775807"
        ),
        Value::Array(vec![
            bulk(b"matches"),
            Value::Array(vec![]),
            bulk(b"len"),
            Value::Int(6)
        ])
    );
    // WITHMATCHLEN or MINMATCHLEN without IDX: the plain string.
    assert_eq!(v(&mut con, "LCS key1 key2 WITHMATCHLEN"), bulk(b"mytext"));
    assert_eq!(v(&mut con, "LCS key1 key2 MINMATCHLEN 2"), bulk(b"mytext"));
    assert_eq!(
        e(&mut con, "LCS key1 key2 LEN IDX"),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(e(&mut con, "LCS key1 key2 MINMATCHLEN abc IDX"), NOT_INT);
    assert_eq!(e(&mut con, "LCS key1 key2 MINMATCHLEN"), SYNTAX);
    assert_eq!(e(&mut con, "LCS key1 key2 foo"), SYNTAX);
    assert_eq!(e(&mut con, "LCS key1"), arity("lcs"));
    // Missing keys are empty strings.
    assert_eq!(v(&mut con, "LCS key1 nokey"), bulk(b""));
    assert_eq!(v(&mut con, "LCS nokey nokey2 LEN"), Value::Int(0));
    assert_eq!(
        v(&mut con, "LCS nokey nokey2 IDX"),
        Value::Array(vec![
            bulk(b"matches"),
            Value::Array(vec![]),
            bulk(b"len"),
            Value::Int(0)
        ])
    );
    // Binary-safe.
    let _: () = cb(&[b"MSET", b"a", b"\x00\r\nabc\x00", b"b", b"x\r\nab\x00"])
        .query(&mut con)
        .unwrap();
    assert_eq!(v(&mut con, "LCS a b"), bulk(b"\r\nab\x00"));
    assert_eq!(v(&mut con, "LCS a a"), bulk(b"\x00\r\nabc\x00"));
}

#[test]
fn lcs_resp3_shapes() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    assert_eq!(
        v(&mut con, "MSET key1 ohmytext key2 mynewtext"),
        Value::Okay
    );
    assert_eq!(v(&mut con, "LCS key1 key2"), bulk(b"mytext"));
    assert_eq!(v(&mut con, "LCS key1 key2 LEN"), Value::Int(6));
    let range = |a: i64, b: i64| Value::Array(vec![Value::Int(a), Value::Int(b)]);
    // IDX is a map in RESP3.
    assert_eq!(
        v(&mut con, "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
        Value::Map(vec![
            (
                bulk(b"matches"),
                Value::Array(vec![Value::Array(vec![
                    range(4, 7),
                    range(5, 8),
                    Value::Int(4)
                ])])
            ),
            (bulk(b"len"), Value::Int(6)),
        ])
    );
    assert_eq!(
        v(&mut con, "LCS nokey key2 IDX"),
        Value::Map(vec![
            (bulk(b"matches"), Value::Array(vec![])),
            (bulk(b"len"), Value::Int(0)),
        ])
    );
    // Other string replies in RESP3: nil is a RESP3 null.
    assert_eq!(v(&mut con, "GET nokey"), Value::Nil);
    assert_eq!(v(&mut con, "SET k v NX"), Value::Okay);
    assert_eq!(v(&mut con, "SET k v NX"), Value::Nil);
    assert_eq!(
        v(&mut con, "MGET k nokey"),
        Value::Array(vec![bulk(b"v"), Value::Nil])
    );
    assert_eq!(v(&mut con, "INCRBYFLOAT fl 1.5"), bulk(b"1.5"));
}

#[test]
fn raw_replies_are_exact() {
    // Exact bytes for a few replies (the redis crate hides null kinds).
    let s = TestServer::start();
    let mut raw = s.raw();
    assert_eq!(raw.cmd("GET nokey"), b"$-1\r\n");
    assert_eq!(raw.cmd("SET k v NX"), b"+OK\r\n");
    assert_eq!(raw.cmd("SET k v NX"), b"$-1\r\n");
    assert_eq!(raw.cmd("MGET k nokey"), b"*2\r\n$1\r\nv\r\n$-1\r\n");
    assert_eq!(raw.cmd("SETNX k v"), b":0\r\n");
    assert_eq!(raw.cmd("HELLO 3").first(), Some(&b'%'));
    assert_eq!(raw.cmd("GET nokey"), b"_\r\n");
    assert_eq!(raw.cmd("SET k v NX GET"), b"$1\r\nv\r\n");
    assert_eq!(raw.cmd("SET k2 v XX"), b"_\r\n");
}

#[tokio::test]
async fn async_strings_resp2_and_resp3() {
    let s = TestServer::start();
    for url in [s.url(), s.url_resp3()] {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("FLUSHALL").query_async(&mut con).await.unwrap();
        let _: () = redis::cmd("SET")
            .arg("a")
            .arg(&b"\x00\r\n"[..])
            .arg("EX")
            .arg(100)
            .query_async(&mut con)
            .await
            .unwrap();
        let got: Vec<u8> = redis::cmd("GET")
            .arg("a")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(got, b"\x00\r\n");
        let n: i64 = redis::cmd("INCRBY")
            .arg("n")
            .arg(41)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(n, 41);
        let n: i64 = redis::cmd("INCR")
            .arg("n")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(n, 42);
        let all: Vec<Option<String>> = redis::cmd("MGET")
            .arg("n")
            .arg("missing")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(all, vec![Some("42".to_string()), None]);
        let err = redis::cmd("INCR")
            .arg("a")
            .query_async::<i64>(&mut con)
            .await
            .unwrap_err();
        assert_eq!(
            err.detail(),
            Some("value is not an integer or out of range")
        );
        // Pipelined concurrent requests on the multiplexed connection.
        let mut futs = Vec::new();
        for i in 0..50 {
            let mut c2 = con.clone();
            futs.push(async move {
                redis::cmd("APPEND")
                    .arg("ap")
                    .arg(format!("{i},"))
                    .query_async::<i64>(&mut c2)
                    .await
                    .unwrap()
            });
        }
        let lens = futures_join_all(futs).await;
        assert_eq!(lens.len(), 50);
        let len: i64 = redis::cmd("STRLEN")
            .arg("ap")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(len, *lens.iter().max().unwrap());
        let lcs: i64 = redis::cmd("LCS")
            .arg("ap")
            .arg("ap")
            .arg("LEN")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(lcs, len);
    }
}

/// Awaits every future (sequentially awaiting is enough here: they were all
/// spawned onto the runtime first, so the requests are in flight together).
async fn futures_join_all<F, T>(futs: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
