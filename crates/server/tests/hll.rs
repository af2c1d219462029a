//! HyperLogLog commands through the real binary with the `redis` crate (PFADD,
//! PFCOUNT, PFMERGE, PFDEBUG), and interoperability with Debian's redis-server:
//! values move both ways with GET/SET and keep their PFCOUNT, and the same
//! PFADDs write byte-identical values, sparse and dense.

mod common;
use common::cmd::*;
use common::diff::RedisGuard;
use common::{tool, TestServer};
use redis::{Connection, Value};

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// PFADD of `elems` in batches of 1000.
fn pfadd_all(con: &mut Connection, key: &str, elems: &[String]) {
    for chunk in elems.chunks(1000) {
        let mut cmd = redis::cmd("PFADD");
        cmd.arg(key);
        for x in chunk {
            cmd.arg(x);
        }
        cmd.query::<i64>(con).expect("PFADD");
    }
}

fn get_bytes(con: &mut Connection, key: &str) -> Vec<u8> {
    redis::cmd("GET").arg(key).query(con).expect("GET")
}

fn set_bytes(con: &mut Connection, key: &str, val: &[u8]) {
    redis::cmd("SET")
        .arg(key)
        .arg(val)
        .query::<()>(con)
        .expect("SET");
}

fn elements(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}:{i}")).collect()
}

#[test]
fn pfadd_pfcount_pfmerge() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "PFADD h a b c"), 1);
    assert_eq!(i(&mut con, "PFADD h a b c"), 0);
    assert_eq!(i(&mut con, "PFADD h a d"), 1);
    assert_eq!(i(&mut con, "PFCOUNT h"), 4);
    assert_eq!(i(&mut con, "PFCOUNT h nokey"), 4);
    assert_eq!(i(&mut con, "PFCOUNT nokey"), 0);
    assert_eq!(i(&mut con, "PFADD empty"), 1);
    assert_eq!(i(&mut con, "PFADD empty"), 0);
    assert_eq!(i(&mut con, "PFCOUNT empty"), 0);
    assert_eq!(v(&mut con, "TYPE h"), Value::SimpleString("string".into()));
    assert_eq!(v(&mut con, "OBJECT ENCODING h"), bulk(b"raw"));
    assert_eq!(i(&mut con, "PFADD h2 c d e f"), 1);
    assert_eq!(i(&mut con, "PFCOUNT h h2"), 6);
    assert_eq!(v(&mut con, "PFMERGE m h h2 nokey"), Value::Okay);
    assert_eq!(i(&mut con, "PFCOUNT m"), 6);
    assert_eq!(v(&mut con, "PFMERGE m"), Value::Okay);
    assert_eq!(i(&mut con, "PFCOUNT m"), 6);
    assert_eq!(v(&mut con, "PFMERGE new"), Value::Okay);
    assert_eq!(i(&mut con, "PFCOUNT new"), 0);
    // Binary-safe elements.
    let n: i64 = cb(&[b"PFADD", b"bin", b"\x00", b"\r\n", b"\xff\xfe", b""])
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(i(&mut con, "PFCOUNT bin"), 4);
    // PFADD keeps the TTL.
    assert_eq!(i(&mut con, "EXPIRE h 100"), 1);
    assert_eq!(i(&mut con, "PFADD h zz"), 1);
    assert!(i(&mut con, "TTL h") > 0);

    assert_eq!(v(&mut con, "SET str hello"), Value::Okay);
    assert_eq!(e(&mut con, "PFADD str a"), NOT_HLL);
    assert_eq!(e(&mut con, "PFCOUNT str"), NOT_HLL);
    assert_eq!(e(&mut con, "PFCOUNT h str"), NOT_HLL);
    assert_eq!(e(&mut con, "PFMERGE h str"), NOT_HLL);
    assert_eq!(e(&mut con, "PFMERGE str h"), NOT_HLL);
    assert_eq!(e(&mut con, "PFADD"), arity("pfadd"));
    assert_eq!(e(&mut con, "PFCOUNT"), arity("pfcount"));
    assert_eq!(e(&mut con, "PFMERGE"), arity("pfmerge"));
    assert_eq!(e(&mut con, "PFDEBUG ENCODING"), arity("pfdebug"));
    match c("HSET hash f v").query::<Value>(&mut con) {
        Ok(_) => {
            let wt = "WRONGTYPE Operation against a key holding the wrong kind of value";
            assert_eq!(e(&mut con, "PFADD hash a"), wt);
            assert_eq!(e(&mut con, "PFCOUNT hash"), wt);
        }
        Err(err) => {
            assert!(
                err.to_string().contains("not supported by keel yet"),
                "{err}"
            );
            eprintln!("!!! HSET not implemented in this build: WRONGTYPE checks skipped");
        }
    }
}

#[test]
fn pfdebug_and_the_sparse_limit() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(i(&mut con, "PFADD h a b c"), 1);
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING h"),
        Value::SimpleString("sparse".into())
    );
    assert_eq!(
        v(&mut con, "PFDEBUG DECODE h"),
        bulk(b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
    );
    assert_eq!(
        e(&mut con, "PFDEBUG DECODE nokey"),
        "ERR The specified key does not exist"
    );
    assert_eq!(
        e(&mut con, "PFDEBUG NOPE h"),
        "ERR Unknown PFDEBUG subcommand 'NOPE'"
    );
    let regs: Vec<i64> = q(&mut con, "PFDEBUG GETREG h");
    assert_eq!(regs.len(), 16384);
    assert_eq!((regs[8436], regs[12711], regs[15780]), (1, 2, 1));
    assert_eq!(regs.iter().filter(|&&r| r != 0).count(), 3);
    // GETREG converted it.
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING h"),
        Value::SimpleString("dense".into())
    );
    assert_eq!(i(&mut con, "STRLEN h"), 12304);
    assert_eq!(
        e(&mut con, "PFDEBUG DECODE h"),
        "ERR HLL encoding is not sparse"
    );
    assert_eq!(i(&mut con, "PFDEBUG TODENSE h"), 0);
    assert_eq!(i(&mut con, "PFCOUNT h"), 3);

    // The default limit (3000 bytes) keeps a few hundred elements sparse.
    pfadd_all(&mut con, "s", &elements("x", 300));
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING s"),
        Value::SimpleString("sparse".into())
    );
    assert!(i(&mut con, "STRLEN s") <= 3000);
    // A smaller limit from CONFIG SET: the next growth promotes.
    assert_eq!(
        v(&mut con, "CONFIG SET hll-sparse-max-bytes 200"),
        Value::Okay
    );
    let limit: Vec<String> = q(&mut con, "CONFIG GET hll-sparse-max-bytes");
    assert_eq!(limit, vec!["hll-sparse-max-bytes", "200"]);
    pfadd_all(&mut con, "s", &elements("y", 10));
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING s"),
        Value::SimpleString("dense".into())
    );
    pfadd_all(&mut con, "t", &elements("z", 10));
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING t"),
        Value::SimpleString("sparse".into())
    );
    pfadd_all(&mut con, "t", &elements("w", 100));
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING t"),
        Value::SimpleString("dense".into())
    );
    assert_eq!(i(&mut con, "PFCOUNT t"), 110);
}

#[test]
fn corrupt_values_are_reported() {
    let s = TestServer::start();
    let mut con = s.conn();
    // A sparse body covering only 257 registers.
    let mut v = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    v.extend_from_slice(&[0x80, 0x40, 0xff]);
    set_bytes(&mut con, "c", &v);
    assert_eq!(e(&mut con, "PFCOUNT c"), CORRUPT);
    assert_eq!(e(&mut con, "PFCOUNT c nokey"), CORRUPT);
    assert_eq!(e(&mut con, "PFMERGE d c"), CORRUPT);
    assert_eq!(e(&mut con, "PFDEBUG GETREG c"), CORRUPT);
    // A dense header on a string of the wrong size is not a HyperLogLog.
    set_bytes(&mut con, "d", b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\x80xyz");
    assert_eq!(e(&mut con, "PFCOUNT d"), NOT_HLL);
    set_bytes(&mut con, "e", b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff");
    assert_eq!(e(&mut con, "PFADD e x"), NOT_HLL);
    set_bytes(&mut con, "short", b"HYLL\x01");
    assert_eq!(e(&mut con, "PFCOUNT short"), NOT_HLL);
}

#[test]
fn resp3_replies() {
    let s = TestServer::start();
    let mut con = s.conn_resp3();
    assert_eq!(i(&mut con, "PFADD h a b"), 1);
    assert_eq!(i(&mut con, "PFCOUNT h"), 2);
    assert_eq!(v(&mut con, "PFMERGE h"), Value::Okay);
    assert_eq!(
        v(&mut con, "PFDEBUG ENCODING h"),
        Value::SimpleString("sparse".into())
    );
    let mut raw = s.raw();
    assert_eq!(raw.cmd("PFADD h a"), b":0\r\n");
    assert_eq!(raw.cmd("PFDEBUG ENCODING h"), b"+sparse\r\n");
}

/// Keel and redis-server side by side with the `redis` crate, or None (skipped
/// loudly) without redis-server.
fn both() -> Option<(RedisGuard, TestServer, Connection, Connection)> {
    let bin = tool("redis-server")?;
    let redis = RedisGuard::start(&bin);
    let keel = TestServer::start();
    let rc = redis::Client::open(format!("redis://127.0.0.1:{}/", redis.port))
        .and_then(|c| c.get_connection())
        .expect("connect to redis-server");
    let kc = keel.conn();
    Some((redis, keel, rc, kc))
}

#[test]
fn same_pfadds_write_identical_bytes_on_both() {
    let Some((_r, _k, mut rc, mut kc)) = both() else {
        return;
    };
    // Sparse (a few, then a few hundred elements), dense by size, and a value
    // built across several commands.
    for (key, n) in [("three", 3), ("some", 50), ("many", 400), ("dense", 5000)] {
        let elems = elements(key, n);
        pfadd_all(&mut rc, key, &elems);
        pfadd_all(&mut kc, key, &elems);
        let (r, k) = (get_bytes(&mut rc, key), get_bytes(&mut kc, key));
        assert_eq!(r.len(), k.len(), "{key}: sizes differ");
        assert!(r == k, "{key}: bytes differ");
        // PFCOUNT answers the same and caches the same bytes.
        let (a, b): (i64, i64) = (
            q(&mut rc, &format!("PFCOUNT {key}")),
            q(&mut kc, &format!("PFCOUNT {key}")),
        );
        assert_eq!(a, b, "{key}");
        assert!(
            get_bytes(&mut rc, key) == get_bytes(&mut kc, key),
            "{key} after PFCOUNT"
        );
    }
    let enc: String = q(&mut kc, "PFDEBUG ENCODING many");
    assert_eq!(enc, "sparse");
    let enc: String = q(&mut kc, "PFDEBUG ENCODING dense");
    assert_eq!(enc, "dense");
    // Merges, sparse into new, dense into sparse.
    for line in [
        "PFMERGE m1 three some many",
        "PFMERGE m2 three dense",
        "PFMERGE some dense",
    ] {
        q::<()>(&mut rc, line);
        q::<()>(&mut kc, line);
        let key = line.split(' ').nth(1).unwrap_or_default();
        assert!(get_bytes(&mut rc, key) == get_bytes(&mut kc, key), "{line}");
    }
    // A lower sparse limit, set the same on both.
    q::<()>(&mut rc, "CONFIG SET hll-sparse-max-bytes 100");
    q::<()>(&mut kc, "CONFIG SET hll-sparse-max-bytes 100");
    let elems = elements("low", 60);
    pfadd_all(&mut rc, "low", &elems);
    pfadd_all(&mut kc, "low", &elems);
    assert!(get_bytes(&mut rc, "low") == get_bytes(&mut kc, "low"));
}

#[test]
fn values_move_between_redis_and_keel() {
    let Some((_r, _k, mut rc, mut kc)) = both() else {
        return;
    };
    // Written by Redis, counted by keel.
    for (key, n) in [("r_small", 20), ("r_sparse", 700), ("r_dense", 20_000)] {
        pfadd_all(&mut rc, key, &elements(key, n));
        let val = get_bytes(&mut rc, key);
        set_bytes(&mut kc, key, &val);
        let (a, b): (i64, i64) = (
            q(&mut rc, &format!("PFCOUNT {key}")),
            q(&mut kc, &format!("PFCOUNT {key}")),
        );
        assert_eq!(a, b, "{key}");
        // And keel keeps adding to it exactly as Redis does.
        let more = elements("more", 100);
        pfadd_all(&mut rc, key, &more);
        pfadd_all(&mut kc, key, &more);
        assert!(get_bytes(&mut rc, key) == get_bytes(&mut kc, key), "{key}");
    }
    // Written by keel, counted by Redis.
    for (key, n) in [("k_small", 20), ("k_sparse", 700), ("k_dense", 20_000)] {
        pfadd_all(&mut kc, key, &elements(key, n));
        let val = get_bytes(&mut kc, key);
        set_bytes(&mut rc, key, &val);
        let (a, b): (i64, i64) = (
            q(&mut rc, &format!("PFCOUNT {key}")),
            q(&mut kc, &format!("PFCOUNT {key}")),
        );
        assert_eq!(a, b, "{key}");
    }
    // Multi-key counts over values of both origins.
    let line = "PFCOUNT r_small r_sparse r_dense k_small k_sparse k_dense";
    assert_eq!(q::<i64>(&mut rc, line), q::<i64>(&mut kc, line));
}

#[test]
fn estimate_is_within_the_standard_error_and_equals_redis() {
    let Some((_r, _k, mut rc, mut kc)) = both() else {
        return;
    };
    // The standard error is 1.04 / sqrt(16384) = 0.81%. Four fixed sets of 100k
    // distinct elements: each estimate equals Redis's and lies within three
    // standard errors, and their root mean square error is near one.
    let n = 100_000usize;
    let mut sq = 0.0;
    for set in ["card", "other", "third", "fourth"] {
        let elems = elements(set, n);
        pfadd_all(&mut rc, set, &elems);
        pfadd_all(&mut kc, set, &elems);
        let est: i64 = q(&mut kc, &format!("PFCOUNT {set}"));
        assert_eq!(est, q::<i64>(&mut rc, &format!("PFCOUNT {set}")), "{set}");
        assert!(get_bytes(&mut rc, set) == get_bytes(&mut kc, set), "{set}");
        let err = (est - n as i64) as f64 / n as f64;
        eprintln!("{set}: estimate {est} for {n}, error {:.3}%", err * 100.0);
        assert!(err.abs() < 3.0 * 0.0081, "{set}: estimate {est} for {n}");
        sq += err * err;
    }
    let rms = (sq / 4.0).sqrt();
    eprintln!("root mean square error {:.3}%", rms * 100.0);
    assert!(rms < 2.0 * 0.0081, "rms error {rms}");
}
