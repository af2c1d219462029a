//! Key commands, expiry and databases through the real binary, with the `redis`
//! crate. Every expected reply and error text is what Redis 7.0.15 answers.

mod common;
use common::cmd::*;
use common::TestServer;
use redis::{Connection, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn del_unlink_exists_type_touch() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "MSET a 1 b 2 c 3"), Value::Okay);
    assert_eq!(i(&mut con, "DEL a b nokey"), 2);
    assert_eq!(i(&mut con, "DEL a"), 0);
    assert_eq!(i(&mut con, "UNLINK c nokey"), 1);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(e(&mut con, "DEL"), arity("del"));
    assert_eq!(e(&mut con, "UNLINK"), arity("unlink"));
    assert_eq!(v(&mut con, "MSET a 1 b 2"), Value::Okay);
    assert_eq!(i(&mut con, "EXISTS a"), 1);
    // Repeated keys count each time.
    assert_eq!(i(&mut con, "EXISTS a a b nokey"), 3);
    assert_eq!(e(&mut con, "EXISTS"), arity("exists"));
    assert_eq!(v(&mut con, "TYPE a"), Value::SimpleString("string".into()));
    assert_eq!(
        v(&mut con, "TYPE nokey"),
        Value::SimpleString("none".into())
    );
    assert_eq!(e(&mut con, "TYPE a b"), arity("type"));
    assert_eq!(i(&mut con, "TOUCH a b nokey a"), 3);
    assert_eq!(e(&mut con, "TOUCH"), arity("touch"));
    // Binary keys.
    let k: &[u8] = b"\x00k\r\n";
    let _: () = cb(&[b"SET", k, b"v"]).query(&mut con).unwrap();
    assert_eq!(cb(&[b"EXISTS", k]).query::<i64>(&mut con).unwrap(), 1);
    assert_eq!(
        cb(&[b"TYPE", k]).query::<String>(&mut con).unwrap(),
        "string"
    );
    assert_eq!(cb(&[b"DEL", k, k]).query::<i64>(&mut con).unwrap(), 1);
    // DEL of a key with a TTL removes the TTL too.
    assert_eq!(v(&mut con, "SET t v EX 100"), Value::Okay);
    assert_eq!(i(&mut con, "DEL t"), 1);
    assert_eq!(v(&mut con, "SET t v"), Value::Okay);
    assert_eq!(i(&mut con, "TTL t"), -1);
}

#[test]
fn expire_family_and_options() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "SET a 1"), Value::Okay);
    // GT on a key without TTL (an infinite TTL) never applies; LT always does.
    assert_eq!(i(&mut con, "EXPIRE a 100 GT"), 0);
    assert_eq!(i(&mut con, "TTL a"), -1);
    assert_eq!(i(&mut con, "EXPIRE a 100 LT"), 1);
    assert!((99..=100).contains(&i(&mut con, "TTL a")));
    assert_eq!(i(&mut con, "EXPIRE a 50 GT"), 0);
    assert_eq!(i(&mut con, "EXPIRE a 200 GT"), 1);
    assert_eq!(i(&mut con, "EXPIRE a 300 LT"), 0);
    assert_eq!(i(&mut con, "EXPIRE a 100 LT"), 1);
    assert_eq!(i(&mut con, "EXPIRE a 100 NX"), 0);
    assert_eq!(i(&mut con, "EXPIRE a 100 XX"), 1);
    assert_eq!(i(&mut con, "PERSIST a"), 1);
    assert_eq!(i(&mut con, "PERSIST a"), 0);
    assert_eq!(i(&mut con, "PERSIST nokey"), 0);
    assert_eq!(i(&mut con, "EXPIRE a 100 XX"), 0);
    assert_eq!(i(&mut con, "EXPIRE a 100 xx lt"), 0);
    assert_eq!(i(&mut con, "EXPIRE a 100 nx nx"), 1);
    assert_eq!(i(&mut con, "EXPIRE a 200 xx xx gt"), 1);
    assert_eq!(i(&mut con, "PEXPIRE a 100000 NX"), 0);
    assert_eq!(i(&mut con, "PEXPIRE a 100000 XX"), 1);
    assert_eq!(i(&mut con, "EXPIREAT a 99999999999 GT"), 1);
    assert_eq!(i(&mut con, "EXPIRETIME a"), 99_999_999_999);
    assert_eq!(i(&mut con, "PEXPIREAT a 99999999998000 GT"), 0);
    assert_eq!(i(&mut con, "PEXPIREAT a 99999999998000 LT"), 1);
    assert_eq!(i(&mut con, "PEXPIRETIME a"), 99_999_999_998_000);
    assert_eq!(i(&mut con, "EXPIRETIME a"), 99_999_999_998);
    assert_eq!(i(&mut con, "EXPIRE nokey 100"), 0);
    assert_eq!(i(&mut con, "EXPIRE nokey 100 NX"), 0);

    let both = "ERR NX and XX, GT or LT options at the same time are not compatible";
    assert_eq!(e(&mut con, "EXPIRE a 100 NX XX"), both);
    assert_eq!(e(&mut con, "EXPIRE a 100 NX GT"), both);
    assert_eq!(e(&mut con, "PEXPIRE a 100 NX LT"), both);
    assert_eq!(
        e(&mut con, "EXPIRE a 100 GT LT"),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        e(&mut con, "EXPIRE a 100 foo"),
        "ERR Unsupported option foo"
    );
    assert_eq!(
        e(&mut con, "EXPIRE a abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        e(&mut con, "EXPIRE a 1.5"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(e(&mut con, "EXPIRE a"), arity("expire"));
    assert_eq!(e(&mut con, "PEXPIREAT a"), arity("pexpireat"));
    for (line, cmd) in [
        ("EXPIRE a 9223372036854775807", "expire"),
        ("EXPIRE a 9223372036854775", "expire"),
        ("PEXPIRE a 9223372036854775807", "pexpire"),
        ("EXPIREAT a 9223372036854775807", "expireat"),
        ("EXPIRE a -9223372036854775808", "expire"),
        ("EXPIREAT a -9223372036854775808", "expireat"),
    ] {
        assert_eq!(
            e(&mut con, line),
            format!("ERR invalid expire time in '{cmd}' command"),
            "{line}"
        );
    }
    // A failed EXPIRE changes nothing.
    assert_eq!(i(&mut con, "PEXPIRETIME a"), 99_999_999_998_000);

    // A deadline in the past deletes the key (GT with a negative TTL does not apply).
    assert_eq!(i(&mut con, "EXPIRE a -1 GT"), 0);
    assert_eq!(i(&mut con, "EXISTS a"), 1);
    assert_eq!(i(&mut con, "EXPIRE a -1 LT"), 1);
    assert_eq!(i(&mut con, "EXISTS a"), 0);
    assert_eq!(v(&mut con, "SET a 1"), Value::Okay);
    assert_eq!(i(&mut con, "EXPIRE a 0 XX"), 0);
    assert_eq!(i(&mut con, "EXISTS a"), 1);
    assert_eq!(i(&mut con, "EXPIRE a 0"), 1);
    assert_eq!(i(&mut con, "EXISTS a"), 0);
    for line in [
        "PEXPIRE a -9223372036854775808",
        "EXPIRE a -9223372036854775",
        "PEXPIREAT a 0",
        "EXPIREAT a 1",
    ] {
        assert_eq!(v(&mut con, "SET a 1"), Value::Okay);
        assert_eq!(i(&mut con, line), 1, "{line}");
        assert_eq!(i(&mut con, "EXISTS a"), 0, "{line}");
    }
    // PEXPIREAT i64::MAX is a valid far deadline.
    assert_eq!(v(&mut con, "SET a 1"), Value::Okay);
    assert_eq!(i(&mut con, "PEXPIREAT a 9223372036854775807"), 1);
    assert_eq!(i(&mut con, "PEXPIRETIME a"), i64::MAX);

    // TTL family on missing keys and keys without TTL.
    for line in [
        "TTL nokey",
        "PTTL nokey",
        "EXPIRETIME nokey",
        "PEXPIRETIME nokey",
    ] {
        assert_eq!(i(&mut con, line), -2, "{line}");
    }
    assert_eq!(v(&mut con, "SET p 1"), Value::Okay);
    for line in ["TTL p", "PTTL p", "EXPIRETIME p", "PEXPIRETIME p"] {
        assert_eq!(i(&mut con, line), -1, "{line}");
    }
    assert_eq!(i(&mut con, "PEXPIRE p 5000"), 1);
    let before = now_ms();
    let pttl = i(&mut con, "PTTL p");
    assert!((4000..=5000).contains(&pttl), "{pttl}");
    let at = i(&mut con, "PEXPIRETIME p");
    assert!(
        (before + 3000..=before + 5000).contains(&at),
        "{at} vs {before}"
    );
    assert_eq!(i(&mut con, "TTL p"), 5);
    assert_eq!(e(&mut con, "TTL"), arity("ttl"));
    assert_eq!(e(&mut con, "PTTL"), arity("pttl"));
    assert_eq!(e(&mut con, "EXPIRETIME a b"), arity("expiretime"));
    assert_eq!(e(&mut con, "PERSIST a b"), arity("persist"));
}

#[test]
fn rename_renamenx_copy_move() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(e(&mut con, "RENAME nokey b"), "ERR no such key");
    assert_eq!(e(&mut con, "RENAMENX nokey b"), "ERR no such key");
    assert_eq!(e(&mut con, "RENAME a"), arity("rename"));
    // RENAME moves the TTL with the value.
    assert_eq!(v(&mut con, "SET r1 v EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "RENAME r1 r2"), Value::Okay);
    assert_eq!(i(&mut con, "EXISTS r1"), 0);
    assert!(i(&mut con, "TTL r2") > 0);
    assert_eq!(v(&mut con, "RENAME r2 r2"), Value::Okay);
    assert!(i(&mut con, "TTL r2") > 0);
    // Onto an existing key with a TTL: the destination takes the source's (none).
    assert_eq!(v(&mut con, "SET r3 w"), Value::Okay);
    assert_eq!(v(&mut con, "SET r4 old EX 100"), Value::Okay);
    assert_eq!(v(&mut con, "RENAME r3 r4"), Value::Okay);
    assert_eq!(v(&mut con, "GET r4"), bulk(b"w"));
    assert_eq!(i(&mut con, "TTL r4"), -1);
    assert_eq!(v(&mut con, "RENAME r2 r4"), Value::Okay);
    assert!(i(&mut con, "TTL r4") > 0);

    assert_eq!(v(&mut con, "MSET n1 1 n2 2"), Value::Okay);
    assert_eq!(i(&mut con, "RENAMENX n1 n2"), 0);
    assert_eq!(i(&mut con, "RENAMENX n1 n3"), 1);
    assert_eq!(i(&mut con, "RENAMENX n3 n3"), 0);
    assert_eq!(v(&mut con, "GET n3"), bulk(b"1"));
    assert_eq!(e(&mut con, "RENAMENX n3"), arity("renamenx"));
    // Binary key names.
    let _: () = cb(&[b"SET", b"\x00a", b"v"]).query(&mut con).unwrap();
    let _: () = cb(&[b"RENAME", b"\x00a", b"\r\nb"])
        .query(&mut con)
        .unwrap();
    assert_eq!(
        cb(&[b"GET", b"\r\nb"]).query::<Value>(&mut con).unwrap(),
        bulk(b"v")
    );

    // COPY.
    assert_eq!(i(&mut con, "COPY nokey dst"), 0);
    assert_eq!(v(&mut con, "SET c1 v EX 100"), Value::Okay);
    assert_eq!(i(&mut con, "COPY c1 c2"), 1);
    assert!(i(&mut con, "TTL c2") > 0);
    assert_eq!(v(&mut con, "GET c2"), bulk(b"v"));
    assert_eq!(i(&mut con, "COPY c1 c2"), 0);
    assert_eq!(v(&mut con, "SET c3 other"), Value::Okay);
    assert_eq!(i(&mut con, "COPY c3 c2 REPLACE"), 1);
    assert_eq!(v(&mut con, "GET c2"), bulk(b"other"));
    assert_eq!(
        i(&mut con, "TTL c2"),
        -1,
        "REPLACE takes the source's (no) TTL"
    );
    // The copy is independent of the source.
    assert_eq!(i(&mut con, "APPEND c2 !"), 6);
    assert_eq!(v(&mut con, "GET c3"), bulk(b"other"));
    let same = "ERR source and destination objects are the same";
    assert_eq!(e(&mut con, "COPY c1 c1"), same);
    assert_eq!(e(&mut con, "COPY c1 c1 REPLACE"), same);
    assert_eq!(e(&mut con, "COPY c1 c1 DB 0"), same);
    assert_eq!(i(&mut con, "COPY c1 c2 DB 1"), 1);
    assert_eq!(i(&mut con, "COPY c1 c2 DB 1"), 0);
    assert_eq!(i(&mut con, "COPY c1 c1 DB 2"), 1);
    assert_eq!(
        e(&mut con, "COPY c1 c2 DB 16"),
        "ERR DB index is out of range"
    );
    assert_eq!(
        e(&mut con, "COPY c1 c2 DB -1"),
        "ERR DB index is out of range"
    );
    assert_eq!(
        e(&mut con, "COPY c1 c2 DB abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(e(&mut con, "COPY c1 c2 foo"), "ERR syntax error");
    assert_eq!(e(&mut con, "COPY c1 c2 DB"), "ERR syntax error");
    assert_eq!(e(&mut con, "COPY c1"), arity("copy"));
    assert_eq!(v(&mut con, "SELECT 1"), Value::Okay);
    assert!(i(&mut con, "TTL c2") > 0);
    assert_eq!(v(&mut con, "GET c2"), bulk(b"v"));
    assert_eq!(v(&mut con, "SELECT 2"), Value::Okay);
    assert!(i(&mut con, "TTL c1") > 0);
    assert_eq!(v(&mut con, "SELECT 0"), Value::Okay);

    // MOVE.
    assert_eq!(e(&mut con, "MOVE c1 0"), same);
    assert_eq!(e(&mut con, "MOVE c1 16"), "ERR DB index is out of range");
    assert_eq!(e(&mut con, "MOVE c1 -1"), "ERR DB index is out of range");
    assert_eq!(
        e(&mut con, "MOVE c1 abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(e(&mut con, "MOVE c1"), arity("move"));
    assert_eq!(i(&mut con, "MOVE nokey 1"), 0);
    assert_eq!(i(&mut con, "MOVE c2 1"), 0, "c2 exists in db 1");
    assert_eq!(i(&mut con, "EXISTS c2"), 1);
    assert_eq!(i(&mut con, "MOVE c1 3"), 1);
    assert_eq!(i(&mut con, "EXISTS c1"), 0);
    assert_eq!(v(&mut con, "SELECT 3"), Value::Okay);
    assert!(i(&mut con, "TTL c1") > 0, "MOVE keeps the TTL");
    assert_eq!(v(&mut con, "GET c1"), bulk(b"v"));
}

#[test]
fn keys_glob_patterns() {
    let s = TestServer::start();
    let mut con = s.conn();
    let names: &[&[u8]] = &[
        b"hello",
        b"hallo",
        b"hxllo",
        b"hllo",
        b"heeeello",
        b"hillo",
        b"h*llo",
        b"h?llo",
        b"h\\llo",
        b"a[b",
        b"abc",
        b"h[llo",
        b"ab",
        b"a]",
        b"a-",
    ];
    for n in names {
        let _: () = cb(&[b"SET", n, b"1"]).query(&mut con).unwrap();
    }
    let keys = |con: &mut Connection, pat: &str| -> Vec<String> {
        sorted(cb(&[b"KEYS", pat.as_bytes()]).query(con).unwrap())
    };
    let s = |v: &[&str]| -> Vec<String> { sorted(v.iter().map(|x| x.to_string()).collect()) };
    assert_eq!(
        keys(&mut con, "h?llo"),
        s(&["hello", "hallo", "hxllo", "hillo", "h*llo", "h?llo", "h\\llo", "h[llo"])
    );
    assert_eq!(keys(&mut con, "h*llo").len(), 10);
    assert_eq!(keys(&mut con, "*").len(), names.len());
    assert_eq!(keys(&mut con, "h[ae]llo"), s(&["hallo", "hello"]));
    assert_eq!(keys(&mut con, "h[a-b]llo"), s(&["hallo"]));
    assert_eq!(keys(&mut con, "h[b-a]llo"), s(&["hallo"]), "reversed range");
    assert_eq!(
        keys(&mut con, "h[^e]llo"),
        s(&["hallo", "hxllo", "hillo", "h*llo", "h?llo", "h\\llo", "h[llo"])
    );
    assert_eq!(keys(&mut con, "h\\*llo"), s(&["h*llo"]));
    assert_eq!(keys(&mut con, "h\\?llo"), s(&["h?llo"]));
    assert_eq!(keys(&mut con, "h\\\\llo"), s(&["h\\llo"]));
    assert_eq!(keys(&mut con, "h\\[llo"), s(&["h[llo"]));
    assert_eq!(keys(&mut con, "a\\[b"), s(&["a[b"]));
    // An unterminated class matches what it holds so far.
    assert_eq!(keys(&mut con, "a[b"), s(&["ab"]));
    assert_eq!(keys(&mut con, "h[llo"), s(&[]));
    assert_eq!(keys(&mut con, "a[-]"), s(&["a-"]));
    assert_eq!(keys(&mut con, "a[a-c-]"), s(&["a-", "ab"]));
    assert_eq!(keys(&mut con, "a[^]"), s(&["a-", "a]", "ab"]));
    assert_eq!(keys(&mut con, "*\\"), s(&[]));
    assert_eq!(keys(&mut con, "ab*"), s(&["ab", "abc"]));
    assert_eq!(keys(&mut con, "???"), s(&["a[b", "abc"]));
    assert_eq!(keys(&mut con, "nomatch*"), s(&[]));
    assert_eq!(e(&mut con, "KEYS"), arity("keys"));
    assert_eq!(e(&mut con, "KEYS a b"), arity("keys"));
    // Keys with a TTL in the past are not listed.
    assert_eq!(v(&mut con, "DEBUG SET-ACTIVE-EXPIRE 0"), Value::Okay);
    assert_eq!(v(&mut con, "SET gone v PX 1"), Value::Okay);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(keys(&mut con, "gone"), s(&[]));
}

#[test]
fn scan_options() {
    let s = TestServer::start();
    let mut con = s.conn();
    for n in 0..300 {
        let _: () = c(&format!("SET key:{n} v")).query(&mut con).unwrap();
    }
    let _: () = c("SET other v").query(&mut con).unwrap();
    let scan_all = |con: &mut Connection, extra: &str| -> (Vec<String>, usize) {
        let mut cursor = "0".to_string();
        let mut all = Vec::new();
        let mut calls = 0;
        loop {
            let (next, batch): (String, Vec<String>) = q(con, &format!("SCAN {cursor}{extra}"));
            calls += 1;
            all.extend(batch);
            cursor = next;
            if cursor == "0" {
                return (all, calls);
            }
            assert!(calls < 10_000, "SCAN does not terminate");
        }
    };
    let (all, calls) = scan_all(&mut con, "");
    let set: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(set.len(), 301);
    assert!(calls > 1, "default COUNT 10 needs several calls");
    let (all, few_calls) = scan_all(&mut con, " COUNT 1000");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 301);
    assert!(few_calls < calls);
    let (all, _) = scan_all(&mut con, " MATCH other");
    assert_eq!(all, vec!["other".to_string()]);
    let (all, _) = scan_all(&mut con, " MATCH key:1?? COUNT 50");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 100);
    let (all, _) = scan_all(&mut con, " TYPE string");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 301);
    let (all, _) = scan_all(&mut con, " TYPE String MATCH oth*");
    assert_eq!(all, vec!["other".to_string()]);
    let (all, _) = scan_all(&mut con, " TYPE list");
    assert!(all.is_empty());
    let (all, _) = scan_all(&mut con, " TYPE nosuchtype");
    assert!(all.is_empty());
    // The last option of a kind wins.
    let (all, _) = scan_all(&mut con, " MATCH * MATCH other COUNT 5 COUNT 20");
    assert_eq!(all, vec!["other".to_string()]);
    assert_eq!(e(&mut con, "SCAN abc"), "ERR invalid cursor");
    // (SCAN -1 is accepted by Redis: strtoul wraps it; not tested.)
    assert_eq!(
        e(&mut con, "SCAN 18446744073709551616"),
        "ERR invalid cursor"
    );
    assert_eq!(e(&mut con, "SCAN 0 COUNT 0"), "ERR syntax error");
    assert_eq!(e(&mut con, "SCAN 0 COUNT -1"), "ERR syntax error");
    assert_eq!(
        e(&mut con, "SCAN 0 COUNT abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(e(&mut con, "SCAN 0 foo"), "ERR syntax error");
    assert_eq!(e(&mut con, "SCAN 0 MATCH"), "ERR syntax error");
    assert_eq!(e(&mut con, "SCAN"), arity("scan"));
    // An empty database.
    assert_eq!(v(&mut con, "SELECT 5"), Value::Okay);
    let (cursor, keys): (String, Vec<String>) = q(&mut con, "SCAN 0");
    assert_eq!((cursor.as_str(), keys.len()), ("0", 0));
}

#[test]
fn scan_returns_every_stable_key_despite_concurrent_churn() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut other = s.conn();
    let mut stable = HashSet::new();
    for n in 0..1000 {
        let k = format!("stable:{n}");
        let _: () = c(&format!("SET {k} v")).query(&mut con).unwrap();
        stable.insert(k);
    }
    for n in 0..500 {
        let _: () = c(&format!("SET churn:{n} v")).query(&mut con).unwrap();
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0u64;
    loop {
        let (next, batch): (String, Vec<String>) = q(&mut con, &format!("SCAN {cursor} COUNT 7"));
        seen.extend(batch);
        cursor = next;
        if cursor == "0" {
            break;
        }
        // Between calls another connection deletes some keys and adds others
        // (enough to make the tables grow and shrink over the scan).
        let mut p = redis::pipe();
        for j in 0..6 {
            p.cmd("SET")
                .arg(format!("new:{round}:{j}"))
                .arg("v")
                .ignore();
        }
        for j in 0..4 {
            p.cmd("DEL")
                .arg(format!("churn:{}", (round * 4 + j) % 500))
                .ignore();
        }
        if round % 3 == 0 {
            p.cmd("DEL").arg(format!("new:{}:0", round / 2)).ignore();
        }
        let () = p.query(&mut other).unwrap();
        round += 1;
        assert!(round < 100_000, "SCAN does not terminate");
    }
    let missing: Vec<_> = stable.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "SCAN missed {} stable keys: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        round > 50,
        "the scan should have taken many rounds ({round})"
    );
}

#[test]
fn randomkey_and_object() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "RANDOMKEY"), Value::Nil);
    assert_eq!(e(&mut con, "RANDOMKEY x"), arity("randomkey"));
    assert_eq!(v(&mut con, "MSET a 1 b 2 c 3"), Value::Okay);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let k: String = q(&mut con, "RANDOMKEY");
        seen.insert(k);
    }
    assert_eq!(
        seen,
        ["a", "b", "c"].iter().map(|s| s.to_string()).collect()
    );
    // Only logically expired keys left: RANDOMKEY returns nil, not an expired key.
    assert_eq!(v(&mut con, "SELECT 1"), Value::Okay);
    assert_eq!(v(&mut con, "DEBUG SET-ACTIVE-EXPIRE 0"), Value::Okay);
    assert_eq!(v(&mut con, "SET x v PX 1"), Value::Okay);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(v(&mut con, "RANDOMKEY"), Value::Nil);
    assert_eq!(v(&mut con, "SELECT 0"), Value::Okay);

    // OBJECT ENCODING.
    let enc = |con: &mut Connection, val: &[u8]| -> Value {
        let _: () = cb(&[b"SET", b"o", val]).query(con).unwrap();
        v(con, "OBJECT ENCODING o")
    };
    assert_eq!(enc(&mut con, b"123"), bulk(b"int"));
    assert_eq!(enc(&mut con, b"-123"), bulk(b"int"));
    assert_eq!(enc(&mut con, b"9223372036854775807"), bulk(b"int"));
    assert_eq!(enc(&mut con, b"9223372036854775808"), bulk(b"embstr"));
    assert_eq!(enc(&mut con, b"0123"), bulk(b"embstr"));
    assert_eq!(enc(&mut con, b"1.0"), bulk(b"embstr"));
    assert_eq!(enc(&mut con, b"abc"), bulk(b"embstr"));
    assert_eq!(enc(&mut con, b"\x00"), bulk(b"embstr"));
    assert_eq!(enc(&mut con, &[b'x'; 44]), bulk(b"embstr"));
    assert_eq!(enc(&mut con, &[b'x'; 45]), bulk(b"raw"));
    let _: () = c("SET ap abc").query(&mut con).unwrap();
    let _: () = c("APPEND ap d").query(&mut con).unwrap();
    assert_eq!(v(&mut con, "OBJECT ENCODING ap"), bulk(b"raw"));
    let _: () = c("SET ap 12").query(&mut con).unwrap();
    let _: () = c("APPEND ap 3").query(&mut con).unwrap();
    assert_eq!(v(&mut con, "OBJECT ENCODING ap"), bulk(b"raw"));
    let _: () = c("INCR ap").query(&mut con).unwrap();
    assert_eq!(v(&mut con, "OBJECT ENCODING ap"), bulk(b"int"));
    assert_eq!(v(&mut con, "OBJECT ENCODING nokey"), Value::Nil);

    // REFCOUNT: shared integers 0..9999.
    let _: () = c("SET i 9999").query(&mut con).unwrap();
    assert_eq!(i(&mut con, "OBJECT REFCOUNT i"), 2_147_483_647);
    let _: () = c("SET i 10000").query(&mut con).unwrap();
    assert_eq!(i(&mut con, "OBJECT REFCOUNT i"), 1);
    let _: () = c("SET i -1").query(&mut con).unwrap();
    assert_eq!(i(&mut con, "OBJECT REFCOUNT i"), 1);
    assert_eq!(v(&mut con, "OBJECT REFCOUNT nokey"), Value::Nil);

    // FREQ needs an LFU policy; IDLETIME does not.
    assert_eq!(
        e(&mut con, "OBJECT FREQ i"),
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    assert_eq!(v(&mut con, "OBJECT FREQ nokey"), Value::Nil);
    let idle = i(&mut con, "OBJECT IDLETIME i");
    assert!((0..=2).contains(&idle), "{idle}");
    assert_eq!(v(&mut con, "OBJECT IDLETIME nokey"), Value::Nil);

    // HELP and errors.
    let help: Vec<String> = q(&mut con, "OBJECT HELP");
    assert!(help[0].starts_with("OBJECT <subcommand>"), "{help:?}");
    for sub in ["ENCODING", "FREQ", "IDLETIME", "REFCOUNT"] {
        assert!(help.iter().any(|l| l.starts_with(sub)), "{sub} in {help:?}");
    }
    assert_eq!(
        e(&mut con, "OBJECT foo"),
        "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    );
    assert_eq!(e(&mut con, "OBJECT HELP x"), arity("object|help"));
    assert_eq!(e(&mut con, "OBJECT ENCODING"), arity("object|encoding"));
    assert_eq!(e(&mut con, "OBJECT ENCODING a b"), arity("object|encoding"));
    assert_eq!(e(&mut con, "OBJECT"), arity("object"));
}

#[test]
fn object_freq_under_lfu_policy() {
    let s = TestServer::start();
    let mut con = s.conn();
    let _: () = c("SET i 1").query(&mut con).unwrap();
    assert_eq!(
        v(&mut con, "CONFIG SET maxmemory-policy allkeys-lfu"),
        Value::Okay
    );
    let freq = i(&mut con, "OBJECT FREQ i");
    assert!(freq >= 0);
    assert!(e(&mut con, "OBJECT IDLETIME i").starts_with("ERR An LFU maxmemory policy is selected"));
}

#[test]
fn a_short_ttl_is_never_served_after_its_deadline() {
    let s = TestServer::start();
    let mut con = s.conn();
    for round in 0..3 {
        assert_eq!(v(&mut con, "SET k v PX 50"), Value::Okay);
        let deadline = i(&mut con, "PEXPIRETIME k");
        assert!(deadline > 0, "round {round}");
        let start = Instant::now();
        let mut gone = [false; 3];
        while !gone.iter().all(|g| *g) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "key never expired (round {round})"
            );
            // A request sent after the deadline must never see the key.
            let sent = now_ms();
            let got: Option<String> = q(&mut con, "GET k");
            if sent > deadline {
                assert_eq!(
                    got,
                    None,
                    "GET served the value {}ms after its deadline",
                    sent - deadline
                );
            }
            gone[0] |= got.is_none();
            let sent = now_ms();
            let exists = i(&mut con, "EXISTS k");
            if sent > deadline {
                assert_eq!(exists, 0, "EXISTS after the deadline");
            }
            gone[1] |= exists == 0;
            let sent = now_ms();
            let ttl = i(&mut con, "PTTL k");
            if sent > deadline {
                assert_eq!(ttl, -2, "PTTL after the deadline");
            } else {
                assert!(ttl == -2 || (0..=50).contains(&ttl), "{ttl}");
            }
            gone[2] |= ttl == -2;
        }
        // Gone for good: no resurrection.
        assert_eq!(v(&mut con, "GET k"), Value::Nil);
        assert_eq!(i(&mut con, "DBSIZE"), 0);
    }
}

#[test]
fn active_expiry_removes_untouched_keys_and_can_be_disabled() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut p = redis::pipe();
    for n in 0..100 {
        p.cmd("SET")
            .arg(format!("e:{n}"))
            .arg("v")
            .arg("PX")
            .arg(100)
            .ignore();
    }
    let _: () = c("SET keep v").query(&mut con).unwrap();
    let () = p.query(&mut con).unwrap();
    let ks: String = q(&mut con, "INFO keyspace");
    assert!(ks.contains("db0:keys=101,expires=100,"), "{ks}");
    // Nobody touches the keys: the cron must remove them (INFO and DBSIZE do not
    // look keys up).
    let ok = wait_for(Duration::from_secs(5), || i(&mut con, "DBSIZE") == 1);
    assert!(
        ok,
        "active expiry did not remove the keys: DBSIZE {}",
        i(&mut con, "DBSIZE")
    );
    let ks: String = q(&mut con, "INFO keyspace");
    assert!(ks.contains("db0:keys=1,expires=0,"), "{ks}");
    let expired: i64 = info_num(&mut con, "stats", "expired_keys");
    assert!(expired >= 100, "expired_keys {expired}");

    // Disabled: untouched keys stay (logically expired) until looked up.
    assert_eq!(v(&mut con, "DEBUG SET-ACTIVE-EXPIRE 0"), Value::Okay);
    let mut p = redis::pipe();
    for n in 0..20 {
        p.cmd("SET")
            .arg(format!("d:{n}"))
            .arg("v")
            .arg("PX")
            .arg(30)
            .ignore();
    }
    let () = p.query(&mut con).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(i(&mut con, "DBSIZE"), 21);
    let expired2: i64 = info_num(&mut con, "stats", "expired_keys");
    assert_eq!(expired2, expired);
    // A lookup expires the key it touches.
    assert_eq!(v(&mut con, "GET d:0"), Value::Nil);
    assert_eq!(i(&mut con, "DBSIZE"), 20);
    // Enabled again: the rest go.
    assert_eq!(v(&mut con, "DEBUG SET-ACTIVE-EXPIRE 1"), Value::Okay);
    assert!(
        wait_for(Duration::from_secs(5), || i(&mut con, "DBSIZE") == 1),
        "keys stayed after re-enabling active expiry"
    );
}

#[test]
fn expiry_survives_swapdb_move_rename_copy() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(v(&mut con, "DEBUG SET-ACTIVE-EXPIRE 0"), Value::Okay);
    // Far TTLs are carried.
    assert_eq!(v(&mut con, "SET far v PXAT 99999999999000"), Value::Okay);
    assert_eq!(v(&mut con, "SWAPDB 0 1"), Value::Okay);
    assert_eq!(i(&mut con, "EXISTS far"), 0);
    assert_eq!(v(&mut con, "SELECT 1"), Value::Okay);
    assert_eq!(i(&mut con, "PEXPIRETIME far"), 99_999_999_999_000);
    assert_eq!(i(&mut con, "MOVE far 2"), 1);
    assert_eq!(v(&mut con, "SELECT 2"), Value::Okay);
    assert_eq!(i(&mut con, "PEXPIRETIME far"), 99_999_999_999_000);
    assert_eq!(v(&mut con, "RENAME far far2"), Value::Okay);
    assert_eq!(i(&mut con, "PEXPIRETIME far2"), 99_999_999_999_000);
    assert_eq!(i(&mut con, "COPY far2 far3"), 1);
    assert_eq!(i(&mut con, "PEXPIRETIME far3"), 99_999_999_999_000);
    assert_eq!(i(&mut con, "COPY far2 far4 DB 3"), 1);
    assert_eq!(v(&mut con, "SELECT 3"), Value::Okay);
    assert_eq!(i(&mut con, "PEXPIRETIME far4"), 99_999_999_999_000);

    // Short TTLs still expire wherever the key went (lazily, active expiry is off).
    assert_eq!(v(&mut con, "SELECT 0"), Value::Okay);
    for k in ["sw", "mv", "rn", "cp"] {
        let _: () = c(&format!("SET {k} v PX 150")).query(&mut con).unwrap();
    }
    assert_eq!(v(&mut con, "SWAPDB 0 4"), Value::Okay);
    assert_eq!(v(&mut con, "SELECT 4"), Value::Okay);
    assert_eq!(i(&mut con, "MOVE mv 5"), 1);
    assert_eq!(v(&mut con, "RENAME rn rn2"), Value::Okay);
    assert_eq!(i(&mut con, "COPY cp cp2 DB 6"), 1);
    assert!(i(&mut con, "PTTL sw") > 0);
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(v(&mut con, "GET sw"), Value::Nil);
    assert_eq!(v(&mut con, "GET rn2"), Value::Nil);
    assert_eq!(v(&mut con, "GET cp"), Value::Nil);
    assert_eq!(v(&mut con, "SELECT 5"), Value::Okay);
    assert_eq!(v(&mut con, "GET mv"), Value::Nil);
    assert_eq!(v(&mut con, "SELECT 6"), Value::Okay);
    assert_eq!(v(&mut con, "GET cp2"), Value::Nil);
    // Expired keys are neither moved, renamed nor copied.
    assert_eq!(v(&mut con, "SET x v PX 1"), Value::Okay);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(i(&mut con, "MOVE x 7"), 0);
    assert_eq!(e(&mut con, "RENAME x y"), "ERR no such key");
    assert_eq!(i(&mut con, "COPY x y"), 0);
    assert_eq!(i(&mut con, "EXISTS x y"), 0);
    // RENAME onto an expired destination works as onto a missing one.
    assert_eq!(v(&mut con, "SET y old PX 1"), Value::Okay);
    assert_eq!(v(&mut con, "SET z new"), Value::Okay);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(i(&mut con, "RENAMENX z y"), 1);
    assert_eq!(v(&mut con, "GET y"), bulk(b"new"));
    assert_eq!(i(&mut con, "TTL y"), -1);
}

#[test]
fn databases_select_swapdb_flush_dbsize() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut other = s.conn();
    assert_eq!(e(&mut con, "SELECT 16"), "ERR DB index is out of range");
    assert_eq!(e(&mut con, "SELECT -1"), "ERR DB index is out of range");
    assert_eq!(
        e(&mut con, "SELECT abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(e(&mut con, "SELECT"), arity("select"));
    assert_eq!(e(&mut con, "SELECT 0 1"), arity("select"));
    assert_eq!(v(&mut con, "SELECT 15"), Value::Okay);
    assert_eq!(v(&mut con, "MSET a 1 b 2"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 2);
    assert_eq!(e(&mut con, "DBSIZE x"), arity("dbsize"));
    assert_eq!(v(&mut con, "SELECT 0"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(v(&mut con, "SET z 1"), Value::Okay);

    // SWAPDB: other connections on the swapped databases see the new data.
    assert_eq!(i(&mut other, "DBSIZE"), 1);
    assert_eq!(v(&mut con, "SWAPDB 0 15"), Value::Okay);
    assert_eq!(i(&mut other, "DBSIZE"), 2);
    assert_eq!(v(&mut other, "GET a"), bulk(b"1"));
    assert_eq!(v(&mut con, "SWAPDB 15 15"), Value::Okay);
    assert_eq!(e(&mut con, "SWAPDB 0 16"), "ERR DB index is out of range");
    assert_eq!(e(&mut con, "SWAPDB -1 0"), "ERR DB index is out of range");
    assert_eq!(e(&mut con, "SWAPDB a 0"), "ERR invalid first DB index");
    assert_eq!(e(&mut con, "SWAPDB 0 b"), "ERR invalid second DB index");
    assert_eq!(e(&mut con, "SWAPDB 0"), arity("swapdb"));
    let ks: String = q(&mut con, "INFO keyspace");
    assert!(ks.contains("db0:keys=2,"), "{ks}");
    assert!(ks.contains("db15:keys=1,"), "{ks}");

    // FLUSHDB only touches the selected database.
    assert_eq!(v(&mut con, "FLUSHDB"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(v(&mut con, "SELECT 15"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 1);
    assert_eq!(v(&mut con, "FLUSHDB SYNC"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(v(&mut con, "SET a 1"), Value::Okay);
    assert_eq!(v(&mut con, "FLUSHDB ASYNC"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(e(&mut con, "FLUSHDB foo"), "ERR syntax error");
    assert_eq!(e(&mut con, "FLUSHDB SYNC ASYNC"), "ERR syntax error");

    // FLUSHALL clears every database.
    for db in [0, 3, 15] {
        assert_eq!(v(&mut con, &format!("SELECT {db}")), Value::Okay);
        assert_eq!(v(&mut con, "SET k v EX 100"), Value::Okay);
    }
    assert_eq!(v(&mut con, "FLUSHALL"), Value::Okay);
    for db in [0, 3, 15] {
        assert_eq!(v(&mut con, &format!("SELECT {db}")), Value::Okay);
        assert_eq!(i(&mut con, "DBSIZE"), 0, "db {db}");
    }
    assert_eq!(v(&mut con, "SET k v"), Value::Okay);
    assert_eq!(v(&mut con, "FLUSHALL ASYNC"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(v(&mut con, "SET k v"), Value::Okay);
    assert_eq!(v(&mut con, "FLUSHALL SYNC"), Value::Okay);
    assert_eq!(i(&mut con, "DBSIZE"), 0);
    assert_eq!(e(&mut con, "FLUSHALL foo"), "ERR syntax error");
    assert_eq!(e(&mut con, "FLUSHALL SYNC SYNC"), "ERR syntax error");
    let ks: String = q(&mut con, "INFO keyspace");
    assert!(!ks.contains("db"), "{ks}");
}

#[test]
fn resp3_key_replies() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    assert_eq!(v(&mut con, "SET a 1"), Value::Okay);
    assert_eq!(v(&mut con, "TYPE a"), Value::SimpleString("string".into()));
    assert_eq!(v(&mut con, "RANDOMKEY"), bulk(b"a"));
    assert_eq!(v(&mut con, "OBJECT ENCODING nokey"), Value::Nil);
    assert_eq!(
        v(&mut con, "SCAN 0"),
        Value::Array(vec![bulk(b"0"), Value::Array(vec![bulk(b"a")])])
    );
    assert_eq!(v(&mut con, "KEYS *"), Value::Array(vec![bulk(b"a")]));
    assert_eq!(i(&mut con, "TTL a"), -1);
    let mut raw = s.raw();
    assert_eq!(raw.cmd("HELLO 3").first(), Some(&b'%'));
    assert_eq!(raw.cmd("RANDOMKEY"), b"$1\r\na\r\n");
    assert_eq!(raw.cmd("FLUSHALL"), b"+OK\r\n");
    assert_eq!(raw.cmd("RANDOMKEY"), b"_\r\n");
    assert_eq!(raw.cmd("OBJECT FREQ nokey"), b"_\r\n");
    assert_eq!(raw.cmd("HELLO 2").first(), Some(&b'*'));
    assert_eq!(raw.cmd("RANDOMKEY"), b"$-1\r\n");
}

#[tokio::test]
async fn async_key_commands() {
    let s = TestServer::start();
    let client = redis::Client::open(s.url_resp3()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut con)
        .await
        .unwrap();
    let n: i64 = redis::cmd("EXPIRE")
        .arg("k")
        .arg(100)
        .arg("NX")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let t: i64 = redis::cmd("TTL")
        .arg("k")
        .query_async(&mut con)
        .await
        .unwrap();
    assert!((99..=100).contains(&t));
    let ok: i64 = redis::cmd("COPY")
        .arg("k")
        .arg("k2")
        .arg("DB")
        .arg(1)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(ok, 1);
    let n: i64 = redis::cmd("DEL")
        .arg("k")
        .arg("nokey")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(keys.is_empty());
}
